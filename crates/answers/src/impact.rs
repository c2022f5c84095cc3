//! The impact half of a profile and its world pages, as typed answers: casualty figures by data
//! year (the latest edition's, with what earlier editions said), new use by report edition and
//! actor in the Monitor's words, and Art. 7 reporting by year. Pure: built from facts, sources
//! and the engine's status report; no HTTP, no store.

use minewatch_domain::fact::{ActorType, CasualtyFigure, MineActivity};
use minewatch_domain::{
    normalize_name, Citation, Date, Fact, PartialDate, Payload, Source, Subject, SubjectKind,
};
use minewatch_treaty::{ObligationState, StatusReport};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The newest publication date among the sources cited (by the as-of date): a section's "last
/// updated".
pub fn last_updated<'a>(
    cites: impl Iterator<Item = &'a Citation>,
    sources: &HashMap<String, Source>,
    as_of: Date,
) -> Option<PartialDate> {
    cites
        .filter_map(|c| sources.get(&c.source).and_then(|s| s.published))
        .filter(|d| d.earliest() <= as_of)
        .max_by_key(|d| d.latest())
}

/// The later of the sources' newest date and the newest edition's year: many sources of the
/// Monitor's figures (news reports of an edition) carry no date of their own, but the edition
/// that reports the figure was published that year.
fn with_editions(
    from_sources: Option<PartialDate>,
    edition_years: impl Iterator<Item = i32>,
    as_of: Date,
) -> Option<PartialDate> {
    let edition = edition_years
        .filter(|y| *y <= as_of.year())
        .max()
        .map(PartialDate::Year);
    from_sources
        .into_iter()
        .chain(edition)
        .max_by_key(|d| d.latest())
}

// ---- casualties ------------------------------------------------------------------------------

/// What an earlier edition said of the same data year.
#[derive(Debug, Clone, Serialize)]
pub struct EarlierEdition {
    pub report_edition: String,
    pub edition_year: i32,
    pub total: Option<u64>,
    pub total_less_than: Option<u64>,
    pub killed: Option<u64>,
    pub injured: Option<u64>,
    pub fact: i64,
    pub sources: Vec<Citation>,
}

/// One figure: a data year (or span) as one edition counted it.
#[derive(Debug, Clone, Serialize)]
pub struct CasualtyPoint {
    pub subject: String,
    pub data_year: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_year: Option<i32>,
    pub report_edition: String,
    pub edition_year: i32,
    pub killed: Option<u64>,
    pub injured: Option<u64>,
    pub total: Option<u64>,
    pub total_less_than: Option<u64>,
    pub fact: i64,
    pub sources: Vec<Citation>,
    pub note: Option<String>,
    /// Earlier editions' figures for the same data year whose total differs ("revised from").
    pub revised_from: Vec<EarlierEdition>,
    /// Every other edition's figure for the data year.
    pub other_editions: Vec<EarlierEdition>,
}

impl CasualtyPoint {
    /// "revised from 8,605 in the LM2017 edition", or empty.
    pub fn revision_words(&self) -> String {
        self.revised_from
            .iter()
            .map(|e| {
                let v = match (e.total, e.total_less_than) {
                    (Some(t), _) => crate::describe::thousands(t),
                    (None, Some(b)) => format!("fewer than {}", crate::describe::thousands(b)),
                    (None, None) => "no total".into(),
                };
                format!("revised from {v} in the {} edition", e.report_edition)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Casualty figures of one subject (a state or `WLD`): the latest edition's figure for each data
/// year, cumulative figures apart.
#[derive(Debug, Clone, Serialize)]
pub struct CasualtiesAnswer {
    pub subject: String,
    pub as_of: Date,
    pub last_updated: Option<PartialDate>,
    /// One per data year, the latest edition's, oldest year first.
    pub by_year: Vec<CasualtyPoint>,
    /// Figures over several years ("1999-2008"), latest edition's.
    pub cumulative: Vec<CasualtyPoint>,
    /// Said when nothing is recorded.
    pub empty: Option<String>,
}

fn earlier(f: &Fact, c: &CasualtyFigure) -> EarlierEdition {
    EarlierEdition {
        report_edition: c.report_edition.clone(),
        edition_year: c.edition_year,
        total: c.total,
        total_less_than: c.total_less_than,
        killed: c.killed,
        injured: c.injured,
        fact: f.id,
        sources: f.citations.clone(),
    }
}

/// A figure's subject, first year (cumulative figures) and data year.
type FigureKey = (String, Option<i32>, i32);

/// Groups casualty facts by (subject, years) and keeps the latest edition of each, with what the
/// others said.
pub fn casualty_points<'a>(facts: impl Iterator<Item = &'a Fact>) -> Vec<CasualtyPoint> {
    let mut groups: BTreeMap<FigureKey, Vec<(&Fact, &CasualtyFigure)>> = BTreeMap::new();
    for f in facts {
        if let Payload::CasualtyFigure(c) = &f.payload {
            let first = c.first_year.filter(|y| *y != c.data_year);
            groups
                .entry((f.subject.clone(), first, c.data_year))
                .or_default()
                .push((f, c));
        }
    }
    let mut out = Vec::new();
    for ((subject, first_year, data_year), mut all) in groups {
        all.sort_by(|a, b| {
            (a.1.edition_year, &a.1.report_edition, a.0.id).cmp(&(
                b.1.edition_year,
                &b.1.report_edition,
                b.0.id,
            ))
        });
        let Some(&(f, c)) = all.last() else { continue };
        let others: Vec<EarlierEdition> = all[..all.len() - 1]
            .iter()
            .rev()
            .map(|(f, c)| earlier(f, c))
            .collect();
        let revised_from = others
            .iter()
            .filter(|e| {
                e.edition_year < c.edition_year
                    && (e.total, e.total_less_than) != (c.total, c.total_less_than)
            })
            .cloned()
            .collect();
        out.push(CasualtyPoint {
            subject,
            data_year,
            first_year,
            report_edition: c.report_edition.clone(),
            edition_year: c.edition_year,
            killed: c.killed,
            injured: c.injured,
            total: c.total,
            total_less_than: c.total_less_than,
            fact: f.id,
            sources: f.citations.clone(),
            note: f.note.clone(),
            revised_from,
            other_editions: others,
        });
    }
    out
}

pub fn casualties<'a>(
    subject: &str,
    facts: impl Iterator<Item = &'a Fact>,
    sources: &HashMap<String, Source>,
    as_of: Date,
) -> CasualtiesAnswer {
    let facts: Vec<&Fact> = facts
        .filter(|f| f.subject == subject && matches!(f.payload, Payload::CasualtyFigure(_)))
        .collect();
    let (cumulative, by_year): (Vec<CasualtyPoint>, Vec<CasualtyPoint>) =
        casualty_points(facts.iter().copied())
            .into_iter()
            .partition(|p| p.first_year.is_some());
    CasualtiesAnswer {
        subject: subject.to_string(),
        as_of,
        last_updated: with_editions(
            last_updated(
                facts.iter().flat_map(|f| f.citations.iter()),
                sources,
                as_of,
            ),
            by_year.iter().chain(&cumulative).map(|p| p.edition_year),
            as_of,
        ),
        empty: (by_year.is_empty() && cumulative.is_empty())
            .then(|| "No casualty figures recorded.".to_string()),
        by_year,
        cumulative,
    }
}

// ---- use -------------------------------------------------------------------------------------

/// A report of new use, in the Monitor's words.
#[derive(Debug, Clone, Serialize)]
pub struct UseEntry {
    /// Where (the fact's subject: the country of use, or `WLD` when the source names none).
    pub subject: String,
    pub report_edition: String,
    pub period: Option<String>,
    /// state, non_state_armed_group, unattributed.
    pub actor_type: &'static str,
    pub actor: Option<String>,
    /// The state whose forces acted, when known.
    pub actor_state: Option<String>,
    pub place: Option<String>,
    /// confirmed, alleged, indications, unconfirmed (read from the wording).
    pub certainty: &'static str,
    /// The Monitor's words.
    pub wording: String,
    pub fact: i64,
    pub sources: Vec<Citation>,
    pub note: Option<String>,
}

/// Use reports about one state (on its territory, or by its forces elsewhere), or all of them.
#[derive(Debug, Clone, Serialize)]
pub struct UseAnswer {
    pub subject: String,
    pub as_of: Date,
    pub last_updated: Option<PartialDate>,
    /// Newest edition first; states before armed groups.
    pub entries: Vec<UseEntry>,
    pub empty: Option<String>,
}

/// A use report of a Monitor edition (use facts without an edition are older event facts).
pub fn use_entry(f: &Fact) -> Option<UseEntry> {
    let Payload::MineActivity(a) = &f.payload else {
        return None;
    };
    let MineActivity {
        report_edition: Some(edition),
        ..
    } = a
    else {
        return None;
    };
    Some(UseEntry {
        subject: f.subject.clone(),
        report_edition: edition.clone(),
        period: a.period.clone(),
        actor_type: a.actor_type.unwrap_or(ActorType::State).as_str(),
        actor: a.actor.clone(),
        actor_state: a.actor_state.clone(),
        place: a.place.clone(),
        certainty: a.certainty.as_str(),
        wording: a.detail.clone(),
        fact: f.id,
        sources: f.citations.clone(),
        note: f.note.clone(),
    })
}

/// The year of an edition label (`LM2025` -> 2025).
pub fn edition_year(e: &str) -> i32 {
    e.get(e.len().saturating_sub(4)..)
        .and_then(|y| y.parse().ok())
        .unwrap_or(0)
}

fn actor_rank(t: &str) -> u8 {
    match t {
        "state" => 0,
        "non_state_armed_group" => 1,
        _ => 2,
    }
}

pub fn sort_entries(entries: &mut [UseEntry]) {
    entries.sort_by(|a, b| {
        edition_year(&b.report_edition)
            .cmp(&edition_year(&a.report_edition))
            .then(actor_rank(a.actor_type).cmp(&actor_rank(b.actor_type)))
            .then(a.actor.cmp(&b.actor))
            .then(a.subject.cmp(&b.subject))
            .then(a.fact.cmp(&b.fact))
    });
}

/// Use reports concerning `subject`: on its territory, or by its own forces anywhere.
pub fn uses<'a>(
    subject: &str,
    facts: impl Iterator<Item = &'a Fact>,
    sources: &HashMap<String, Source>,
    as_of: Date,
) -> UseAnswer {
    let mut cites = Vec::new();
    let mut entries: Vec<UseEntry> = facts
        .filter_map(|f| {
            let e = use_entry(f)?;
            (e.subject == subject || e.actor_state.as_deref() == Some(subject)).then(|| {
                cites.extend(f.citations.iter().cloned());
                e
            })
        })
        .collect();
    sort_entries(&mut entries);
    UseAnswer {
        subject: subject.to_string(),
        as_of,
        last_updated: with_editions(
            last_updated(cites.iter(), sources, as_of),
            entries.iter().map(|e| edition_year(&e.report_edition)),
            as_of,
        ),
        empty: entries.is_empty().then(|| {
            "No use of anti-personnel mines recorded in the Monitor's reports.".to_string()
        }),
        entries,
    }
}

/// The armed groups of the gazetteer an armed group's use report names: the report's `actor`
/// contains the group's name or one of its aliases as whole words, after folding
/// ([`minewatch_domain::normalize_name`]: "non-state armed groups incl. Islamic State" names
/// the Islamic State; "ISIS" too). Only for reports whose actor is a non-state armed group;
/// nothing is inferred beyond the source's words.
pub fn armed_groups_named<'a>(e: &UseEntry, subjects: &'a [Subject]) -> Vec<&'a Subject> {
    if e.actor_type != ActorType::NonStateArmedGroup.as_str() {
        return Vec::new();
    }
    let Some(actor) = e.actor.as_deref() else {
        return Vec::new();
    };
    let words = format!(" {} ", normalize_name(actor));
    subjects
        .iter()
        .filter(|s| s.kind == SubjectKind::ArmedGroup)
        .filter(|s| {
            std::iter::once(&s.name).chain(&s.aliases).any(|n| {
                let n = normalize_name(n);
                !n.is_empty() && words.contains(&format!(" {n} "))
            })
        })
        .collect()
}

/// The use reports that name the armed group `code` ([`armed_groups_named`]), newest edition
/// first: where the group used mines, as the Monitor reported it (the subject of each is the
/// country of use, or the world when the report names no one country).
pub fn group_uses<'a>(
    code: &str,
    subjects: &[Subject],
    facts: impl Iterator<Item = &'a Fact>,
) -> Vec<UseEntry> {
    let mut entries: Vec<UseEntry> = facts
        .filter_map(use_entry)
        .filter(|e| {
            armed_groups_named(e, subjects)
                .iter()
                .any(|s| s.code == code)
        })
        .collect();
    sort_entries(&mut entries);
    entries
}

// ---- transparency ----------------------------------------------------------------------------

/// One Art. 7 report due: the initial report or an annual update.
#[derive(Debug, Clone, Serialize)]
pub struct Art7Year {
    /// "Art. 7(1)" or "Art. 7(2)".
    pub article: &'static str,
    /// "initial report", "annual update covering 2010", "annual updates".
    pub report: String,
    pub year_covered: Option<i32>,
    pub due: Option<Date>,
    /// submitted, late, submitted (date not known), missing, not yet due, lapsed, not known.
    pub state: &'static str,
    /// The engine's reasons, in words.
    pub why: Vec<String>,
    pub facts: Vec<i64>,
    pub sources: Vec<Citation>,
}

/// Art. 7 reporting of a State Party, report by report.
#[derive(Debug, Clone, Serialize)]
pub struct TransparencyAnswer {
    pub subject: String,
    pub as_of: Date,
    pub last_updated: Option<PartialDate>,
    pub reports: Vec<Art7Year>,
    pub empty: Option<String>,
}

/// The words for an Art. 7 obligation's state.
pub fn art7_words(s: ObligationState) -> &'static str {
    match s {
        ObligationState::Met => "submitted",
        ObligationState::MetLate => "late",
        ObligationState::Completed => "submitted (date not known)",
        ObligationState::Missed => "missing",
        ObligationState::Pending => "not yet due",
        ObligationState::Lapsed => "lapsed",
        _ => "not known",
    }
}

pub fn transparency(
    subject: &str,
    report: &StatusReport,
    sources: &HashMap<String, Source>,
    as_of: Date,
) -> TransparencyAnswer {
    let reports: Vec<Art7Year> = report
        .obligations
        .iter()
        .filter(|o| o.article.starts_with("Art. 7"))
        .map(|o| {
            let mut sources_of = Vec::new();
            let mut facts = Vec::new();
            for r in &o.reasons {
                for c in &r.citations {
                    if !sources_of.contains(c) {
                        sources_of.push(c.clone());
                    }
                }
                facts.extend(r.facts.iter().copied());
            }
            Art7Year {
                article: o.article,
                report: match (o.article, o.year_covered) {
                    ("Art. 7(1)", _) => "initial report".to_string(),
                    (_, Some(y)) => format!("annual update covering {y}"),
                    _ => "annual updates".to_string(),
                },
                year_covered: o.year_covered,
                due: o.due,
                state: art7_words(o.state),
                why: o.reasons.iter().map(|r| r.text.clone()).collect(),
                facts,
                sources: sources_of,
            }
        })
        .collect();
    TransparencyAnswer {
        subject: subject.to_string(),
        as_of,
        last_updated: last_updated(
            reports.iter().flat_map(|r| r.sources.iter()),
            sources,
            as_of,
        ),
        empty: reports
            .is_empty()
            .then(|| "No Art. 7 reports due: not a State Party on this date.".to_string()),
        reports,
    }
}

// ---- world pages -----------------------------------------------------------------------------

/// `/casualties`: the global totals by data year (latest edition, with the earlier editions'),
/// and the countries of the latest edition.
#[derive(Debug, Clone, Serialize)]
pub struct WorldCasualtiesAnswer {
    pub as_of: Date,
    pub last_updated: Option<PartialDate>,
    pub global: Vec<CasualtyPoint>,
    /// The newest edition that reports country figures.
    pub latest_edition: Option<String>,
    /// That edition's country figures, highest first.
    pub top_countries: Vec<CasualtyPoint>,
}

pub fn world_casualties<'a>(
    facts: impl Iterator<Item = &'a Fact>,
    sources: &HashMap<String, Source>,
    as_of: Date,
) -> WorldCasualtiesAnswer {
    let facts: Vec<&Fact> = facts
        .filter(|f| matches!(f.payload, Payload::CasualtyFigure(_)))
        .collect();
    let points = casualty_points(facts.iter().copied());
    let global: Vec<CasualtyPoint> = points
        .iter()
        .filter(|p| p.subject == "WLD" && p.first_year.is_none())
        .cloned()
        .collect();
    let latest_edition = points
        .iter()
        .filter(|p| p.subject != "WLD" && p.first_year.is_none() && p.total.is_some())
        .max_by_key(|p| (p.edition_year, p.report_edition.clone()))
        .map(|p| p.report_edition.clone());
    let mut top: Vec<CasualtyPoint> = points
        .into_iter()
        .filter(|p| {
            p.subject != "WLD"
                && p.first_year.is_none()
                && Some(&p.report_edition) == latest_edition.as_ref()
        })
        .collect();
    top.sort_by_key(|p| std::cmp::Reverse(p.total.unwrap_or(0)));
    WorldCasualtiesAnswer {
        as_of,
        last_updated: with_editions(
            last_updated(
                facts.iter().flat_map(|f| f.citations.iter()),
                sources,
                as_of,
            ),
            global.iter().chain(&top).map(|p| p.edition_year),
            as_of,
        ),
        global,
        latest_edition,
        top_countries: top,
    }
}

/// `/use`: who used anti-personnel mines, edition by edition.
#[derive(Debug, Clone, Serialize)]
pub struct WorldUseAnswer {
    pub as_of: Date,
    pub last_updated: Option<PartialDate>,
    pub editions: Vec<UseEdition>,
}

/// One Monitor edition's reports of use.
#[derive(Debug, Clone, Serialize)]
pub struct UseEdition {
    pub report_edition: String,
    pub states: Vec<UseEntry>,
    pub armed_groups: Vec<UseEntry>,
    pub unattributed: Vec<UseEntry>,
}

pub fn world_use<'a>(
    facts: impl Iterator<Item = &'a Fact>,
    sources: &HashMap<String, Source>,
    as_of: Date,
) -> WorldUseAnswer {
    let mut cites = Vec::new();
    let mut entries: Vec<UseEntry> = facts
        .filter_map(|f| {
            let e = use_entry(f)?;
            cites.extend(f.citations.iter().cloned());
            Some(e)
        })
        .collect();
    sort_entries(&mut entries);
    let mut editions: Vec<UseEdition> = Vec::new();
    for e in entries {
        if editions
            .last()
            .is_none_or(|x| x.report_edition != e.report_edition)
        {
            editions.push(UseEdition {
                report_edition: e.report_edition.clone(),
                states: Vec::new(),
                armed_groups: Vec::new(),
                unattributed: Vec::new(),
            });
        }
        if let Some(ed) = editions.last_mut() {
            match e.actor_type {
                "state" => ed.states.push(e),
                "non_state_armed_group" => ed.armed_groups.push(e),
                _ => ed.unattributed.push(e),
            }
        }
    }
    let newest = editions.first().map(|e| edition_year(&e.report_edition));
    WorldUseAnswer {
        as_of,
        last_updated: with_editions(
            last_updated(cites.iter(), sources, as_of),
            newest.into_iter(),
            as_of,
        ),
        editions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> Subject {
        Subject {
            code: "NSAG-ISLAMIC-STATE".into(),
            alpha2: None,
            numeric: None,
            name: "Islamic State".into(),
            kind: SubjectKind::ArmedGroup,
            aliases: vec!["ISIS".into(), "Daesh".into()],
            successors: Vec::new(),
            parent: None,
            region: None,
        }
    }

    fn entry(actor_type: &'static str, actor: &str) -> UseEntry {
        UseEntry {
            subject: "SYR".into(),
            report_edition: "LM2017".into(),
            period: None,
            actor_type,
            actor: Some(actor.into()),
            actor_state: None,
            place: None,
            certainty: "confirmed",
            wording: "used".into(),
            fact: 1,
            sources: Vec::new(),
            note: None,
        }
    }

    #[test]
    fn a_group_is_named_by_its_name_or_alias_as_whole_words_only() {
        let subjects = [group()];
        let named = |t, a| {
            armed_groups_named(&entry(t, a), &subjects)
                .iter()
                .map(|s| s.code.clone())
                .collect::<Vec<_>>()
        };
        let nsag = "non_state_armed_group";
        assert_eq!(
            named(nsag, "non-state armed groups incl. Islamic State"),
            ["NSAG-ISLAMIC-STATE"]
        );
        assert_eq!(named(nsag, "ISIS fighters"), ["NSAG-ISLAMIC-STATE"]);
        // Not inside another word, and never for a state's forces.
        assert!(named(nsag, "groups in the crisis zone").is_empty());
        assert!(named(nsag, "Islamic Statehood Front").is_empty());
        assert!(named("state", "Islamic State").is_empty());
    }
}
