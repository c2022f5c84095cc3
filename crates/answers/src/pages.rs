//! The answers behind the public pages: what each page's JSON twin holds, one type per page.
//! The site renders the same values as HTML (and CSV where a page has a table).

use crate::derived::{ClassificationAnswer, PolicyDiffAnswer, PolicySummary};
use crate::json::{CitedSourceEntry, SourceInfo, SubjectInfo, SubjectRef};
use minewatch_domain::{Citation, Date, Fact, PartialDate};
use minewatch_treaty::{Art5History, Counts, Finding, InForce, RollCallTally, StatusReport};
use serde::Serialize;
use serde_json::Value;

/// `/`: the world on a date.
#[derive(Debug, Clone, Serialize)]
pub struct HomeAnswer {
    pub as_of: Date,
    pub counts: Counts,
    pub statuses: Vec<StatusRow>,
    pub headline_figures: Vec<HeadlineFigure>,
    pub latest_changes: Vec<LatestChange>,
}

/// One state's status on the map.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub code: String,
    pub name: String,
    pub status: &'static str,
}

/// A headline figure of the latest report edition.
#[derive(Debug, Clone, Serialize)]
pub struct HeadlineFigure {
    pub text: String,
    pub fact: i64,
    pub payload: Value,
    pub sources: Vec<Citation>,
}

/// A fact recently added to the record.
#[derive(Debug, Clone, Serialize)]
pub struct LatestChange {
    pub fact: i64,
    pub subject: String,
    pub text: String,
    pub recorded_at: String,
}

/// `/states`: states and other areas with their status, filtered and sorted.
#[derive(Debug, Clone, Serialize)]
pub struct StatesAnswer {
    pub as_of: Date,
    pub count: usize,
    pub states: Vec<StateRow>,
}

/// One row of the states index.
#[derive(Debug, Clone, Serialize)]
pub struct StateRow {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub region: Option<String>,
    pub status: &'static str,
    pub signed: Option<String>,
    pub deposited: Option<String>,
    pub entry_into_force: Option<Date>,
}

/// `/states/{code}`: a country profile on a date, section by section.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileAnswer {
    pub subject: SubjectInfo,
    pub as_of: Date,
    /// The record version shown (`?record=N`), when not the latest.
    pub record: Option<i64>,
    pub last_updated: Option<String>,
    pub status: StatusReport,
    pub sections: Vec<Section>,
    pub stockpile: Option<Stockpile>,
    pub policy_in_force: Option<InForce>,
    pub article5: Option<Art5History>,
    /// The impact sections' answers (also at `/states/{code}/casualties.json`, `use.json`,
    /// `transparency.json`).
    pub casualties: crate::impact::CasualtiesAnswer,
    pub use_reports: crate::impact::UseAnswer,
    pub transparency: crate::impact::TransparencyAnswer,
    /// An armed group's profile: the use reports that name the group (where it used mines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub armed_group_uses: Vec<crate::impact::UseEntry>,
    /// Every source cited on the profile.
    pub sources: Vec<CitedSourceEntry>,
}

/// A statement of a profile: a sentence with its date, facts and sources. Facts with the same
/// meaning from several sources are one statement ([`group_facts`]): `facts` lists them all and
/// `sources` every citation of each.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub text: String,
    pub date: Option<PartialDate>,
    pub facts: Vec<i64>,
    pub sources: Vec<Citation>,
    /// For a statement of several facts, their notes (each distinct note once, joined with
    /// " | "); a single fact's note stays on the fact (`/facts/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Statement {
    /// The statement of a group of facts with the same meaning, in words from `text`.
    pub fn of_group(group: &FactGroup<'_>, text: String) -> Statement {
        Statement {
            text,
            date: group.first().valid_from,
            facts: group.ids(),
            sources: group.citations(),
            note: if group.facts.len() > 1 {
                group.note()
            } else {
                None
            },
        }
    }
}

/// What makes two facts one statement: the same subject, kind, payload (its stored JSON) and
/// dates (`valid_from`, `valid_to`). Sources, locators, notes and record times may differ.
pub fn meaning_key(f: &Fact) -> (String, &'static str, String, String, String) {
    let d = |d: Option<PartialDate>| d.map(|d| d.to_string()).unwrap_or_default();
    (
        f.subject.clone(),
        f.kind().as_str(),
        f.payload.to_json(),
        d(f.valid_from),
        d(f.valid_to),
    )
}

/// Facts with the same meaning ([`meaning_key`]): one statement with every source's citation.
#[derive(Debug, Clone)]
pub struct FactGroup<'a> {
    /// In the order they were given; never empty.
    pub facts: Vec<&'a Fact>,
}

impl<'a> FactGroup<'a> {
    /// The first fact of the group (the one whose place the statement takes).
    pub fn first(&self) -> &'a Fact {
        self.facts[0]
    }

    pub fn ids(&self) -> Vec<i64> {
        self.facts.iter().map(|f| f.id).collect()
    }

    /// Every citation of the group's facts, each once, in order.
    pub fn citations(&self) -> Vec<Citation> {
        let mut out: Vec<Citation> = Vec::new();
        for c in self.facts.iter().flat_map(|f| &f.citations) {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }

    /// The facts' notes, each distinct note once, joined with " | ".
    pub fn note(&self) -> Option<String> {
        let mut notes: Vec<&str> = Vec::new();
        for n in self.facts.iter().filter_map(|f| f.note.as_deref()) {
            let n = n.trim();
            if !n.is_empty() && !notes.contains(&n) {
                notes.push(n);
            }
        }
        (!notes.is_empty()).then(|| notes.join(" | "))
    }
}

/// Groups facts with the same meaning ([`meaning_key`]), groups in the order of their first
/// fact and facts in their given order: the one place where the profile's sections, its JSON
/// twin and the Atom feeds merge what several sources say alike.
pub fn group_facts<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> Vec<FactGroup<'a>> {
    let mut groups: Vec<FactGroup<'a>> = Vec::new();
    let mut index: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for f in facts {
        match index.entry(meaning_key(f)) {
            std::collections::hash_map::Entry::Occupied(e) => groups[*e.get()].facts.push(f),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(groups.len());
                groups.push(FactGroup { facts: vec![f] });
            }
        }
    }
    groups
}

/// A section of a profile.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    /// The latest publication date among the sources cited in the section (by the as-of date).
    pub last_updated: Option<PartialDate>,
    pub statements: Vec<Statement>,
    /// Said when the record holds nothing for the section.
    pub empty: Option<String>,
    /// False when the section's table already shows its statements.
    #[serde(skip)]
    pub list: bool,
}

impl Section {
    pub fn new(id: &'static str, title: &'static str) -> Section {
        Section {
            id,
            title,
            last_updated: None,
            statements: Vec::new(),
            empty: None,
            list: true,
        }
    }
}

/// The latest dated stockpile composition.
#[derive(Debug, Clone, Serialize)]
pub struct Stockpile {
    pub date: String,
    pub total: u64,
    pub by_type: Vec<StockpileType>,
}

/// One type of mine in a stockpile.
#[derive(Debug, Clone, Serialize)]
pub struct StockpileType {
    pub mine_type: String,
    pub measure: &'static str,
    pub quantity: u64,
    pub fact: i64,
    pub sources: Vec<Citation>,
}

/// `/unga`: the roll calls on the resolutions supporting the treaty.
#[derive(Debug, Clone, Serialize)]
pub struct RollCallsAnswer {
    pub as_of: Date,
    pub roll_calls: Vec<RollCallTally>,
    /// Every year from the first recorded roll call's to `as_of`'s that has none: not yet
    /// recorded.
    pub not_yet_recorded: Vec<YearNotRecorded>,
}

/// A year of the General Assembly index without a recorded roll call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct YearNotRecorded {
    pub year: i32,
    /// The session that year's autumn vote would belong to, counted from the recorded roll
    /// calls' sessions and years (none when no recorded roll call names its session).
    pub session: Option<u32>,
}

/// The years from the first recorded roll call's to `as_of`'s without a recorded roll call.
pub fn years_not_recorded(tallies: &[RollCallTally], as_of: Date) -> Vec<YearNotRecorded> {
    let years: std::collections::BTreeSet<i32> = tallies
        .iter()
        .filter_map(|t| t.date.map(|d| d.year()))
        .collect();
    let Some(&first) = years.first() else {
        return Vec::new();
    };
    // Session minus year, from the latest recorded roll call that names both.
    let offset = tallies
        .iter()
        .filter_map(|t| Some((t.date?.year(), t.session?)))
        .max()
        .map(|(y, s)| i64::from(s) - i64::from(y));
    (first..=as_of.year())
        .filter(|y| !years.contains(y))
        .map(|year| YearNotRecorded {
            year,
            session: offset.and_then(|o| u32::try_from(i64::from(year) + o).ok()),
        })
        .collect()
}

/// `/unga/{session}/{number}`: one roll call and the States Parties that did not vote yes.
#[derive(Debug, Clone, Serialize)]
pub struct RollCallPageAnswer {
    pub roll_call: RollCallTally,
    pub anomalies: Vec<Finding>,
}

/// `/policies`: every policy instrument, and the comparison asked for.
#[derive(Debug, Clone, Serialize)]
pub struct PoliciesAnswer {
    pub policies: Vec<PolicySummary>,
    pub diff: Option<PolicyDiffAnswer>,
}

/// `/classify`: the device read from the form, and its verdicts once it has a target.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifyAnswer {
    pub device: Option<Value>,
    pub result: Option<ClassificationAnswer>,
}

/// `/search`: states, sources and facts matching the words.
#[derive(Debug, Clone, Serialize)]
pub struct SearchAnswer {
    pub q: String,
    pub states: Vec<SubjectRef>,
    pub sources: Vec<SourceInfo>,
    pub facts_total: usize,
    pub facts: Vec<SearchHit>,
}

/// A fact found by a search.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub id: i64,
    pub subject: String,
    pub text: String,
    pub sources: Vec<Citation>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use minewatch_domain::Payload;

    fn fact(id: i64, day: &str, source: &str, note: Option<&str>) -> Fact {
        Fact {
            id,
            subject: "UKR".into(),
            valid_from: Some(PartialDate::parse(day).expect("a test date")),
            valid_to: None,
            payload: Payload::from_stored("treaty_action", r#"{"action":"signature"}"#)
                .expect("a signature payload"),
            citations: vec![Citation {
                source: source.into(),
                locator: None,
            }],
            note: note.map(String::from),
            recorded_at: "2026-01-01T00:00:00Z".into(),
            recorded_by: "test".into(),
            supersedes: None,
        }
    }

    #[test]
    fn facts_with_one_meaning_are_one_group_in_order_of_first_occurrence() {
        let facts = [
            fact(1, "1999-02-24", "a", Some("first")),
            fact(2, "1999-02-25", "a", None),
            fact(3, "1999-02-24", "b", Some("second")),
            fact(4, "1999-02-24", "a", Some("first")),
        ];
        let groups = group_facts(&facts);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].ids(), [1, 3, 4]);
        assert_eq!(groups[1].ids(), [2]);
        let sources: Vec<String> = groups[0]
            .citations()
            .into_iter()
            .map(|c| c.source)
            .collect();
        assert_eq!(sources, ["a", "b"]);
        assert_eq!(groups[0].note().as_deref(), Some("first | second"));
        let st = Statement::of_group(&groups[0], "said".into());
        assert_eq!(
            (st.facts.len(), st.note.as_deref()),
            (3, Some("first | second"))
        );
        // A statement of one fact leaves its note on the fact.
        assert_eq!(Statement::of_group(&groups[1], "said".into()).note, None);
    }
}
