//! The importers, one per file shape.

use crate::row::{Ctx, Row};
use crate::{write_items, ImportError, Item};
use minewatch_domain::fact::*;
use minewatch_domain::{slug_key, Citation, Date, FactKind, PartialDate, Payload, Source};
use minewatch_store::{Batch, FactFilter, NewFact, Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

type RowFn = fn(&mut Ctx<'_>, &Row<'_>, &mut State) -> (Option<String>, Vec<Item>);

/// An importer: its name on the command line, what it reads, and its columns.
#[derive(Clone, Copy)]
pub struct Kind {
    pub name: &'static str,
    pub about: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub(crate) row: RowFn,
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Kind {
    pub fn by_name(name: &str) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.name == name)
    }
}

/// Every importer.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "sources",
        about: "sources in minewatch's format (key,title,publisher,published,url,note)",
        required: &["key", "title"],
        optional: &["publisher", "published", "url", "note"],
        row: sources_row,
    },
    Kind {
        name: "facts-csv",
        about: "facts in minewatch's format (key,subject,kind,valid_from,valid_to,payload,sources,note)",
        required: &["subject", "kind", "payload", "sources"],
        optional: &["key", "valid_from", "valid_to", "note"],
        row: facts_row,
    },
    Kind {
        name: "facts-json",
        about: "sources and facts in minewatch's JSON document format",
        required: &[],
        optional: &[],
        row: facts_row,
    },
    Kind {
        name: "parties",
        about: "treaty/parties.csv: signature and deposit of every State Party",
        required: &["state", "iso3", "signed", "deposited", "method", "source_signed", "source_deposited"],
        optional: &["notes"],
        row: parties_row,
    },
    Kind {
        name: "treaty-actions",
        about: "treaty/actions_sample.csv: signatures, deposits, withdrawal notices, declarations",
        required: &["state", "iso3", "action", "date", "source"],
        optional: &["method", "note"],
        row: actions_row,
    },
    Kind {
        name: "art5-extensions",
        about: "treaty/art5_extensions_sample.csv: Article 5 extension history",
        required: &["state", "iso3", "event", "source"],
        optional: &["requested", "decided", "new_deadline", "outcome", "note"],
        row: art5_row,
    },
    Kind {
        name: "meetings",
        about: "treaty/meetings.csv: Meetings of the States Parties and Review Conferences with their dates",
        required: &["meeting", "name", "source"],
        optional: &["city", "start", "end", "quote", "note"],
        row: meeting_row,
    },
    Kind {
        name: "art5-events",
        about: "treaty/art5_events.csv: Article 5 histories (requests, grants at meetings, completions, reinstatements); import the meetings first",
        required: &["state", "iso3", "event", "source"],
        optional: &["date", "meeting", "new_deadline", "quote", "note"],
        row: art5_event_row,
    },
    Kind {
        name: "art4-events",
        about: "treaty/art4_events.csv: Article 4 histories (stockpile reported, destruction completed, deadline missed, no stockpile)",
        required: &["state", "iso3", "event", "source"],
        optional: &["date", "quantity", "quote", "note"],
        row: art4_event_row,
    },
    Kind {
        name: "art5-status",
        about: "impact/art5_status.csv: the older Article 5 event chains; import the meetings first",
        required: &["state", "iso3", "event", "source"],
        optional: &["event_date", "meeting", "deadline", "status_as_of", "note"],
        row: art5_status_row,
    },
    Kind {
        name: "art4-status",
        about: "impact/art4_status.csv: the older Article 4 event chains and global aggregates",
        required: &["state", "iso3", "event", "source"],
        optional: &["date", "quantity", "deadline", "note"],
        row: art4_status_row,
    },
    Kind {
        name: "armed-conflict",
        about: "treaty/armed_conflict_sample.csv: periods of armed conflict (Art. 20(3))",
        required: &["state", "iso3", "from", "source"],
        optional: &["to", "note"],
        row: conflict_row,
    },
    Kind {
        name: "unga-roll-calls",
        about: "unga/roll_calls.csv: UN General Assembly roll calls with their tallies",
        required: &["rcid", "session", "date", "resolution", "subject", "yes", "no", "abstain"],
        optional: &["source"],
        row: roll_call_row,
    },
    Kind {
        name: "unga-votes",
        about: "unga/votes.csv: each state's vote (import the roll calls first)",
        required: &["rcid", "resolution", "country", "vote"],
        optional: &["country_code", "source"],
        row: vote_row,
    },
    Kind {
        name: crate::undl::NAME,
        about: "the UN Digital Library's General Assembly voting data (undl_id,ms_code,ms_vote,...): the roll calls on the Convention, or --resolutions",
        required: crate::undl::REQUIRED,
        optional: crate::undl::OPTIONAL,
        // Read by `undl::read` (it groups rows into roll calls), never row by row.
        row: no_rows,
    },
    Kind {
        name: "us-policies",
        about: "policies/us_policies.csv: US policy instruments, one row per activity",
        required: &["policy_id", "date", "instrument", "activity", "stance", "source"],
        optional: &["effective_from", "mine_scope", "geography", "authority", "note"],
        row: policy_row,
    },
    Kind {
        name: "us-events",
        about: "policies/us_events.csv: dated events (use, production, transfer, votes, meetings)",
        required: &["state", "iso3", "date", "event", "detail", "source"],
        optional: &[],
        row: event_row,
    },
    Kind {
        name: "us-stockpile",
        about: "policies/us_stockpile_2002.csv: stockpile by mine type",
        required: &["state", "iso3", "as_of", "mine_type", "quantity", "source"],
        optional: &[],
        row: us_stockpile_row,
    },
    Kind {
        name: "headline-figures",
        about: "monitor/headline_figures.csv: Monitor figures by report edition and data year",
        required: &["report_edition", "data_year", "metric", "value", "unit", "source"],
        optional: &["basis"],
        row: headline_row,
    },
    Kind {
        name: "stockpiles",
        about: "monitor/stockpiles.csv: stockpile counts and completions",
        required: &["state", "iso3", "as_of", "metric", "source"],
        optional: &["value", "note"],
        row: stockpiles_row,
    },
    Kind {
        name: "casualties",
        about: "impact/casualties_by_country.csv: Monitor casualty figures by data year and report edition (GLOBAL = the world); a later edition's figure is kept beside the earlier one",
        required: &["country", "data_year", "report_edition", "source"],
        optional: &["iso3", "killed", "injured", "total", "civilians", "children", "note"],
        row: crate::impact::casualties_row,
    },
    Kind {
        name: "mine-use",
        about: "impact/mine_use.csv: new use of anti-personnel mines by report edition and actor (state, NSAG, unattributed), in the Monitor's words",
        required: &["report_edition", "reporting_period", "actor_type", "actor", "monitor_wording", "source"],
        optional: &["country_of_use", "treaty_status_of_state", "note"],
        row: crate::impact::mine_use_row,
    },
    Kind {
        name: "art7-reporting",
        about: "impact/art7_reporting.csv: Article 7 reports submitted, recorded as not submitted, and treaty-wide reporting rates (kept as the source's words)",
        required: &["fact_type", "state", "value", "as_of_date", "source"],
        optional: &["iso3", "year_covered", "note"],
        row: crate::impact::art7_row,
    },
];

/// A recorded version of a meeting's dates: (start, end).
type MeetingSpan = (Option<PartialDate>, Option<PartialDate>);

/// Data an importer needs from the record before it starts.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    /// rcid -> (date, resolution)
    roll_calls: HashMap<u32, (PartialDate, String)>,
    /// Meeting code -> the (start, end) of each recorded version of its dates.
    meetings: BTreeMap<String, Vec<MeetingSpan>>,
}

pub(crate) fn prepare(kind: Kind, store: &Store) -> Result<Lookups, StoreError> {
    let mut l = Lookups::default();
    if kind.name == "unga-votes" {
        let facts = store.facts(&FactFilter {
            kind: Some(FactKind::UngaRollCall),
            ..FactFilter::default()
        })?;
        for f in facts {
            if let (Payload::UngaRollCall(r), Some(d)) = (&f.fact.payload, f.fact.valid_from) {
                l.roll_calls.insert(r.rcid, (d, r.resolution.clone()));
            }
        }
    }
    if matches!(kind.name, "art5-events" | "art5-status") {
        let facts = store.facts(&FactFilter {
            kind: Some(FactKind::Meeting),
            ..FactFilter::default()
        })?;
        for f in facts {
            if let Payload::Meeting(m) = &f.fact.payload {
                l.meetings
                    .entry(m.code.clone())
                    .or_default()
                    .push((f.fact.valid_from, f.fact.valid_to));
            }
        }
    }
    Ok(l)
}

/// Per-file state of importers that group rows.
#[derive(Debug, Default)]
pub(crate) struct State {
    policies: BTreeMap<String, PolicyAcc>,
}

#[derive(Debug)]
struct PolicyAcc {
    line: u64,
    date: PartialDate,
    instrument: String,
    provisions: Vec<Provision>,
    citations: Vec<Citation>,
    ensure: Vec<Item>,
}

pub(crate) fn finish(kind: Kind, ctx: &mut Ctx<'_>, state: &mut State) -> Vec<(u64, Vec<Item>)> {
    if kind.name != "us-policies" {
        return Vec::new();
    }
    let policies = std::mem::take(&mut state.policies);
    // "rescinds the 2014 policy" in an instrument's description: every policy dated that year.
    let by_year: BTreeMap<i32, Vec<String>> =
        policies.iter().fold(BTreeMap::new(), |mut m, (id, p)| {
            m.entry(p.date.year())
                .or_insert_with(Vec::new)
                .push(id.clone());
            m
        });
    let mut out = Vec::new();
    for (id, p) in policies {
        let lower = p.instrument.to_lowercase();
        let mut rescinds = Vec::new();
        if let Some(pos) = lower.find("rescinds the ") {
            let year: String = lower[pos + 13..].chars().take(4).collect();
            if let Ok(y) = year.parse::<i32>() {
                rescinds = by_year.get(&y).cloned().unwrap_or_default();
            }
        }
        let payload = Payload::PolicyInstrument(PolicyInstrument {
            policy_id: id.clone(),
            instrument: p.instrument,
            provisions: p.provisions,
            rescinds,
        });
        if let Err(e) = payload.validate() {
            ctx.problem_at(p.line, None, "policy_id", &e.to_string());
            continue;
        }
        let mut items = p.ensure;
        items.push(fact(
            format!("us-policy:{id}"),
            "USA",
            payload,
            Some(p.date),
            None,
            p.citations,
            None,
        ));
        out.push((p.line, items));
    }
    out
}

pub(crate) fn fact(
    key: String,
    subject: &str,
    payload: Payload,
    valid_from: Option<PartialDate>,
    valid_to: Option<PartialDate>,
    citations: Vec<Citation>,
    note: Option<&str>,
) -> Item {
    Item::Fact(NewFact {
        key: Some(key),
        subject: subject.to_string(),
        valid_from,
        valid_to,
        payload,
        citations,
        note: note.map(String::from),
        supersedes: None,
    })
}

/// Splits free-text citations at `;` outside parentheses.
fn split_citations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' if depth <= 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The citation for one free-text reference. References to the seed documents ("seed 002
/// (footnote 28)") cite the curated source of that document with the rest as locator.
fn citation_for(text: &str) -> (Citation, Option<Source>) {
    let lower = text.to_lowercase();
    if let Some(rest) = lower.strip_prefix("seed 00") {
        let digit = rest.chars().next().filter(char::is_ascii_digit);
        if let Some(d) = digit {
            let key = if d == '2' {
                "lm-2010-usa".to_string()
            } else {
                format!("seed-00{d}")
            };
            let rest = text.get(8..).unwrap_or("").trim();
            let locator = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
                Some((inside, tail)) if tail.trim().is_empty() => inside.trim().to_string(),
                Some((inside, tail)) => format!("{} {}", inside.trim(), tail.trim()),
                None => rest.to_string(),
            };
            let locator = (!locator.is_empty()).then_some(locator);
            let source = Source {
                key: key.clone(),
                title: format!("seed document 00{d}"),
                publisher: None,
                published: None,
                url: None,
                note: None,
            };
            return (
                Citation {
                    source: key,
                    locator,
                },
                Some(source),
            );
        }
    }
    let key = slug_key(text);
    let published = edition_year(text).map(PartialDate::Year);
    let source = Source {
        key: key.clone(),
        title: text.to_string(),
        publisher: None,
        published,
        url: None,
        note: published.map(|_| {
            "publication year read from the report edition or the year in its address".to_string()
        }),
    };
    (
        Citation {
            source: key,
            locator: None,
        },
        Some(source),
    )
}

/// The year a report edition or a dated news address names ("Landmine Monitor 2019",
/// `.../reports/2019/...`, `.../news/2008/...`, `pqs_year=2008`): the source was published in
/// that year, so a fact it alone reports is not known before the end of it (the as-of rule).
pub(crate) fn edition_year(text: &str) -> Option<i32> {
    const MARKERS: &[&str] = &[
        "reports/",
        "/news/",
        "lm/",
        "pqs_year=",
        "archives-",
        "landmine monitor ",
        "mine action review ",
        "clearing the mines ",
    ];
    let lower = text.to_lowercase();
    MARKERS.iter().find_map(|m| {
        lower.match_indices(m).find_map(|(i, _)| {
            let rest = lower.get(i + m.len()..)?;
            let digits: String = rest.chars().take(4).collect();
            let next = rest.chars().nth(4);
            let year: i32 = digits.parse().ok()?;
            ((1990..=2100).contains(&year) && !next.is_some_and(|c| c.is_ascii_digit()))
                .then_some(year)
        })
    })
}

/// The citations named by a free-text source column (`;`-separated), with the sources to
/// create for keys not yet recorded.
fn citations_in(text: &str) -> (Vec<Citation>, Vec<Item>) {
    let mut citations = Vec::new();
    let mut items = Vec::new();
    for part in split_citations(text) {
        let (c, s) = citation_for(&part);
        if !citations.contains(&c) {
            citations.push(c);
        }
        if let Some(s) = s {
            items.push(Item::EnsureSource(s));
        }
    }
    (citations, items)
}

/// Citations from a free-text source column; reports an empty one.
fn cites(ctx: &mut Ctx<'_>, row: &Row<'_>, col: &str) -> Option<(Vec<Citation>, Vec<Item>)> {
    let text = match row.opt(col) {
        Some(t) => t.to_string(),
        None => match &ctx.default_source {
            Some(k) => {
                return Some((
                    vec![Citation {
                        source: k.clone(),
                        locator: None,
                    }],
                    Vec::new(),
                ))
            }
            None => {
                row.bad(
                    ctx,
                    col,
                    "empty; expected a source (a claim without a source is not a fact)",
                );
                return None;
            }
        },
    };
    Some(citations_in(&text))
}

pub(crate) fn with(mut ensure: Vec<Item>, f: Item) -> Vec<Item> {
    ensure.push(f);
    ensure
}

// ---- minewatch's own formats ------------------------------------------------------------------

fn sources_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let key = row
        .req(ctx, "key", "a source key ([a-z0-9-])")
        .map(String::from);
    if let Some(k) = &key {
        if !minewatch_domain::is_source_key(k) {
            row.bad(
                ctx,
                "key",
                &format!("{k:?} is not a valid key; expected lower-case letters, digits and '-'"),
            );
        }
    }
    let title = row
        .req(ctx, "title", "the title of the source")
        .map(String::from);
    let published = row.partial_date(ctx, "published");
    let (Some(key), Some(title)) = (key, title) else {
        return (None, Vec::new());
    };
    let s = Source {
        key: key.clone(),
        title,
        publisher: row.opt("publisher").map(String::from),
        published,
        url: row.opt("url").map(String::from),
        note: row.opt("note").map(String::from),
    };
    (Some(format!("key {key}")), vec![Item::Source(s)])
}

/// Parses `key` or `key#locator` citations separated by `;`.
pub(crate) fn parse_citations(text: &str) -> Result<Vec<Citation>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, locator) = match part.split_once('#') {
            Some((k, l)) => (
                k.trim(),
                Some(l.trim().to_string()).filter(|l| !l.is_empty()),
            ),
            None => (part, None),
        };
        if !minewatch_domain::is_source_key(key) {
            return Err(format!(
                "{key:?} is not a source key; expected `key` or `key#locator` with keys of lower-case letters, digits and '-'"
            ));
        }
        out.push(Citation {
            source: key.to_string(),
            locator,
        });
    }
    if out.is_empty() {
        return Err(
            "empty; expected one or more source keys (a claim without a source is not a fact)"
                .into(),
        );
    }
    Ok(out)
}

fn facts_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, None, Some("subject"));
    let kind = row.req_word(ctx, "kind", FactKind::parse, &FactKind::expected());
    let valid_from = row.partial_date(ctx, "valid_from");
    let valid_to = row.partial_date(ctx, "valid_to");
    if let (Some(a), Some(b)) = (valid_from, valid_to) {
        if b.latest() < a.earliest() {
            row.bad(
                ctx,
                "valid_to",
                &format!(
                    "{b} is before valid_from {a}; expected the end of the period after its start"
                ),
            );
        }
    }
    let payload = match (kind, row.req(ctx, "payload", "a JSON object")) {
        (Some(k), Some(text)) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => match Payload::from_value(k, v) {
                Ok(p) => Some(p),
                Err(e) => {
                    row.bad(ctx, "payload", &e.to_string());
                    None
                }
            },
            Err(e) => {
                row.bad(
                    ctx,
                    "payload",
                    &format!("not valid JSON ({e}); expected a JSON object"),
                );
                None
            }
        },
        _ => None,
    };
    let citations = match row.opt("sources").map(parse_citations) {
        Some(Ok(c)) => Some(c),
        Some(Err(m)) => {
            row.bad(ctx, "sources", &m);
            None
        }
        None => {
            row.bad(
                ctx,
                "sources",
                "empty; expected one or more source keys (a claim without a source is not a fact)",
            );
            None
        }
    };
    let (Some(subject), Some(payload), Some(citations)) = (subject, payload, citations) else {
        return (None, Vec::new());
    };
    let key = row.opt("key").map(String::from);
    let dup = key.clone().map(|k| format!("key {k}"));
    let item = Item::Fact(NewFact {
        key,
        subject,
        valid_from,
        valid_to,
        payload,
        citations,
        note: row.opt("note").map(String::from),
        supersedes: None,
    });
    (dup, vec![item])
}

/// The JSON document: `{"sources": [...], "facts": [...]}` (either may be absent).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDoc {
    #[serde(default)]
    sources: Vec<JsonSource>,
    #[serde(default)]
    facts: Vec<JsonFact>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSource {
    key: String,
    title: String,
    publisher: Option<String>,
    published: Option<String>,
    url: Option<String>,
    note: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFact {
    key: Option<String>,
    subject: String,
    kind: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    payload: serde_json::Value,
    sources: Vec<String>,
    note: Option<String>,
    /// The fact this one corrects or retracts (by id), when not simply the current fact of `key`.
    supersedes: Option<i64>,
}

pub(crate) fn facts_json<R: Read>(
    ctx: &mut Ctx<'_>,
    batch: &mut Batch<'_>,
    reader: R,
) -> Result<u64, ImportError> {
    let doc: JsonDoc = match serde_json::from_reader(std::io::BufReader::new(reader)) {
        Ok(d) => d,
        Err(e) => {
            let what = if e.is_data() {
                "does not fit the facts document format {\"sources\": [...], \"facts\": [...]}"
            } else {
                "is not valid JSON"
            };
            ctx.problem_at(
                e.line() as u64,
                Some(e.column()),
                "",
                &format!("the document {what}: {e}"),
            );
            return Ok(0);
        }
    };
    // Entries have no line numbers once parsed: report them by position ("sources[3].key").
    let mut n = 0u64;
    let mut seen = HashMap::new();
    for (i, s) in doc.sources.into_iter().enumerate() {
        n += 1;
        let at = |f: &str| format!("sources[{i}].{f}");
        let published = match s.published.as_deref().map(PartialDate::parse) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                ctx.problem_at(0, None, &at("published"), &format!("{e}"));
                continue;
            }
            None => None,
        };
        if !minewatch_domain::is_source_key(&s.key) {
            ctx.problem_at(
                0,
                None,
                &at("key"),
                &format!(
                    "{:?} is not a valid key; expected lower-case letters, digits and '-'",
                    s.key
                ),
            );
            continue;
        }
        if let Some(prev) = seen.insert(format!("source {}", s.key), i) {
            ctx.problem_at(
                0,
                None,
                &at("key"),
                &format!("duplicate source key {:?}: also at sources[{prev}]", s.key),
            );
            continue;
        }
        let item = Item::Source(Source {
            key: s.key,
            title: s.title,
            publisher: s.publisher,
            published,
            url: s.url,
            note: s.note,
        });
        write_items(ctx, batch, 0, vec![item])?;
    }
    for (i, f) in doc.facts.into_iter().enumerate() {
        n += 1;
        let at = |field: &str| format!("facts[{i}].{field}");
        let before = ctx.problem_count();
        let subject = match ctx.gazetteer.resolve(&f.subject) {
            Ok(s) => Some(s.code.clone()),
            Err(e) => {
                ctx.problem_at(0, None, &at("subject"), &e.to_string());
                None
            }
        };
        let date = |v: &Option<String>, field: &str, ctx: &mut Ctx<'_>| match v
            .as_deref()
            .map(PartialDate::parse)
        {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                ctx.problem_at(0, None, &at(field), &e.to_string());
                None
            }
            None => None,
        };
        let valid_from = date(&f.valid_from, "valid_from", ctx);
        let valid_to = date(&f.valid_to, "valid_to", ctx);
        let payload = match FactKind::parse(&f.kind) {
            Some(k) => match Payload::from_value(k, f.payload) {
                Ok(p) => Some(p),
                Err(e) => {
                    ctx.problem_at(0, None, &at("payload"), &e.to_string());
                    None
                }
            },
            None => {
                ctx.problem_at(
                    0,
                    None,
                    &at("kind"),
                    &format!(
                        "unknown kind {:?}; expected one of: {}",
                        f.kind,
                        FactKind::expected()
                    ),
                );
                None
            }
        };
        let citations = match parse_citations(&f.sources.join(";")) {
            Ok(c) => Some(c),
            Err(m) => {
                ctx.problem_at(0, None, &at("sources"), &m);
                None
            }
        };
        if let Some(k) = &f.key {
            if let Some(prev) = seen.insert(format!("fact {k}"), i) {
                ctx.problem_at(
                    0,
                    None,
                    &at("key"),
                    &format!("duplicate fact key {k:?}: also at facts[{prev}]"),
                );
            }
        }
        if ctx.problem_count() > before {
            continue;
        }
        if let (Some(subject), Some(payload), Some(citations)) = (subject, payload, citations) {
            let item = Item::Fact(NewFact {
                key: f.key,
                subject,
                valid_from,
                valid_to,
                payload,
                citations,
                note: f.note,
                supersedes: f.supersedes,
            });
            let problems_before = ctx.problems.len();
            write_items(ctx, batch, 0, vec![item])?;
            // Store-level rejections carry no field: name the entry.
            for p in ctx.problems.iter_mut().skip(problems_before) {
                if p.field.is_empty() {
                    p.field = format!("facts[{i}]");
                }
            }
        }
    }
    Ok(n)
}

// ---- the shared data files --------------------------------------------------------------------

fn parties_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let signed = row.partial_date(ctx, "signed");
    let deposited = row.partial_date(ctx, "deposited");
    let method = match row.opt("method") {
        Some(_) => row.req_word(
            ctx,
            "method",
            DepositMethod::parse,
            &DepositMethod::expected(),
        ),
        None => None,
    };
    if deposited.is_some() && method.is_none() && row.opt("method").is_none() {
        row.bad(
            ctx,
            "method",
            &format!(
                "empty while deposited is given; expected one of: {}",
                DepositMethod::expected()
            ),
        );
    }
    let mut items = Vec::new();
    let note = row.opt("notes");
    let Some(code) = subject else {
        return (None, items);
    };
    if let Some(d) = signed {
        if let Some((c, ensure)) = cites(ctx, row, "source_signed") {
            items.extend(ensure);
            let p = Payload::TreatyAction(TreatyAction {
                action: TreatyActionType::Signature,
                method: None,
                date_inferred: false,
                succession_date: None,
                dated_as_accession: false,
            });
            items.push(fact(
                format!("parties:{code}:signature"),
                &code,
                p,
                Some(d),
                None,
                c,
                None,
            ));
        }
    }
    if let (Some(d), Some(m)) = (deposited, method) {
        if let Some((c, ensure)) = cites(ctx, row, "source_deposited") {
            items.extend(ensure);
            let p = Payload::TreatyAction(TreatyAction {
                action: TreatyActionType::Deposit,
                method: Some(m),
                date_inferred: false,
                succession_date: None,
                dated_as_accession: false,
            });
            items.push(fact(
                format!("parties:{code}:deposit"),
                &code,
                p,
                Some(d),
                None,
                c,
                note,
            ));
        }
    }
    (Some(format!("state {code}")), items)
}

fn actions_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let action = row.req_word(
        ctx,
        "action",
        TreatyActionType::parse,
        &TreatyActionType::expected(),
    );
    let method = match row.opt("method") {
        Some(_) => row.req_word(
            ctx,
            "method",
            DepositMethod::parse,
            &DepositMethod::expected(),
        ),
        None => None,
    };
    let date = row.req_partial_date(ctx, "date");
    let cit = cites(ctx, row, "source");
    let note = row.opt("note");
    let (Some(code), Some(action), Some(date), Some((c, ensure))) = (subject, action, date, cit)
    else {
        return (None, Vec::new());
    };
    let p = Payload::TreatyAction(TreatyAction {
        action,
        method,
        date_inferred: note.is_some_and(|n| n.to_lowercase().contains("inferred")),
        succession_date: None,
        dated_as_accession: false,
    });
    if let Err(e) = p.validate() {
        row.bad(ctx, "method", &e.to_string());
        return (None, Vec::new());
    }
    let key = format!("treaty-actions:{code}:{action}");
    (
        Some(format!("{code} {action}")),
        with(ensure, fact(key, &code, p, Some(date), None, c, note)),
    )
}

fn art5_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let requested = row.partial_date(ctx, "requested");
    let decided = row.partial_date(ctx, "decided");
    let new_deadline = row.partial_date(ctx, "new_deadline");
    let event = row
        .req(ctx, "event", "extension or deadline_missed")
        .map(str::to_lowercase);
    let outcome = row.opt("outcome").map(str::to_lowercase);
    let event = match (event.as_deref(), outcome.as_deref()) {
        (Some("extension"), Some("granted")) => Some(Art5EventType::ExtensionGranted),
        (Some("extension"), Some("requested") | None) => Some(Art5EventType::ExtensionRequested),
        (Some("extension"), Some(o)) => {
            row.bad(
                ctx,
                "outcome",
                &format!("{o:?} is not allowed here; expected granted or requested"),
            );
            None
        }
        (Some(e), _) => {
            let parsed = Art5EventType::parse(e);
            if parsed.is_none() {
                row.bad(
                    ctx,
                    "event",
                    &format!(
                        "{e:?} is not allowed here; expected extension or one of: {}",
                        Art5EventType::expected()
                    ),
                );
            }
            parsed
        }
        (None, _) => None,
    };
    let cit = cites(ctx, row, "source");
    let (Some(code), Some(event), Some((c, ensure))) = (subject, event, cit) else {
        return (None, Vec::new());
    };
    let valid_from = match event {
        Art5EventType::ExtensionRequested => requested,
        _ => decided,
    };
    let p = Payload::Art5Event(Art5Event {
        event,
        meeting: None,
        inferred: false,
        requested,
        decided,
        new_deadline,
    });
    let tail = new_deadline
        .or(requested)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let key = format!("art5:{code}:{event}:{tail}");
    (
        Some(key.clone()),
        with(
            ensure,
            fact(key, &code, p, valid_from, None, c, row.opt("note")),
        ),
    )
}

fn conflict_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let from = row.req_partial_date(ctx, "from");
    let to = row.partial_date(ctx, "to");
    if let (Some(a), Some(b)) = (from, to) {
        if b.latest() < a.earliest() {
            row.bad(
                ctx,
                "to",
                &format!("{b} is before {a}; expected the end of the conflict after its start"),
            );
        }
    }
    let cit = cites(ctx, row, "source");
    let (Some(code), Some(from), Some((c, ensure))) = (subject, from, cit) else {
        return (None, Vec::new());
    };
    let description = row.opt("note").unwrap_or("armed conflict").to_string();
    let p = Payload::ArmedConflict(ArmedConflict { description });
    let key = format!("armed-conflict:{code}:{from}");
    (
        Some(key.clone()),
        with(ensure, fact(key, &code, p, Some(from), to, c, None)),
    )
}

pub(crate) fn u32_field(ctx: &mut Ctx<'_>, row: &Row<'_>, name: &str) -> Option<u32> {
    let n = row.req_count(ctx, name)?;
    match u32::try_from(n) {
        Ok(v) => Some(v),
        Err(_) => {
            row.bad(
                ctx,
                name,
                &format!("{n} is too large; expected at most {}", u32::MAX),
            );
            None
        }
    }
}

fn roll_call_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let rcid = u32_field(ctx, row, "rcid");
    let session = u32_field(ctx, row, "session");
    let date = row.req_day(ctx, "date");
    let resolution = row
        .req(ctx, "resolution", "a resolution number such as 64/56")
        .map(String::from);
    let topic = row
        .req(ctx, "subject", "the roll call's topic")
        .map(String::from);
    let yes = u32_field(ctx, row, "yes");
    let no = u32_field(ctx, row, "no");
    let abstain = u32_field(ctx, row, "abstain");
    let cit = cites(ctx, row, "source");
    let (
        Some(rcid),
        Some(session),
        Some(date),
        Some(resolution),
        Some(topic),
        Some(yes),
        Some(no),
        Some(abstain),
        Some((c, ensure)),
    ) = (
        rcid, session, date, resolution, topic, yes, no, abstain, cit,
    )
    else {
        return (None, Vec::new());
    };
    let p = Payload::UngaRollCall(UngaRollCall {
        rcid,
        session,
        resolution,
        topic,
        yes,
        no,
        abstain,
        ..UngaRollCall::default()
    });
    let key = format!("unga-roll-call:{rcid}");
    (
        Some(key.clone()),
        with(
            ensure,
            fact(key, "WLD", p, Some(date.into()), None, c, None),
        ),
    )
}

fn vote_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let rcid = u32_field(ctx, row, "rcid");
    let resolution = row
        .req(ctx, "resolution", "a resolution number such as 64/56")
        .map(String::from);
    let subject = row.subject(ctx, Some("country_code"), Some("country"));
    let vote = row.req_word(ctx, "vote", Vote::parse, &Vote::expected());
    let cit = cites(ctx, row, "source");
    let (Some(rcid), Some(resolution), Some(code), Some(vote), Some((c, ensure))) =
        (rcid, resolution, subject, vote, cit)
    else {
        return (None, Vec::new());
    };
    let Some((date, known_resolution)) = ctx.lookups.roll_calls.get(&rcid).cloned() else {
        row.bad(
            ctx,
            "rcid",
            &format!("roll call {rcid} is not in the record; expected the rcid of a recorded roll call (import roll_calls.csv first: minewatch import unga-roll-calls FILE)"),
        );
        return (None, Vec::new());
    };
    if known_resolution != resolution {
        row.bad(
            ctx,
            "resolution",
            &format!("roll call {rcid} is on resolution {known_resolution}, not {resolution}; expected the two to match"),
        );
        return (None, Vec::new());
    }
    let name = row.opt("country").map(String::from);
    let display = ctx.gazetteer.by_code(&code).map(|s| s.name.clone());
    let p = Payload::UngaVote(UngaVote {
        rcid: Some(rcid),
        resolution,
        vote,
        name_in_source: name.filter(|n| Some(n) != display.as_ref()),
    });
    let key = format!("unga-vote:{rcid}:{code}");
    (
        Some(format!("roll call {rcid} and state {code}")),
        with(ensure, fact(key, &code, p, Some(date), None, c, None)),
    )
}

fn no_rows(_: &mut Ctx<'_>, _: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    (None, Vec::new())
}

fn policy_row(ctx: &mut Ctx<'_>, row: &Row<'_>, state: &mut State) -> (Option<String>, Vec<Item>) {
    let id = row.req(ctx, "policy_id", "a policy id").map(String::from);
    let date = row.req_partial_date(ctx, "date");
    let instrument = row
        .req(ctx, "instrument", "a description of the instrument")
        .map(String::from);
    let activity = row.req_word(ctx, "activity", Activity::parse, &Activity::expected());
    let stance = row.req_word(ctx, "stance", Stance::parse, &Stance::expected());
    let effective_from = match row.opt("effective_from") {
        Some(_) => {
            let y = row.req_year(ctx, "effective_from");
            y.map(Some)
        }
        None => Some(None),
    };
    let cit = cites(ctx, row, "source");
    let (
        Some(id),
        Some(date),
        Some(instrument),
        Some(activity),
        Some(stance),
        Some(effective_from),
        Some((c, ensure)),
    ) = (id, date, instrument, activity, stance, effective_from, cit)
    else {
        return (None, Vec::new());
    };
    let acc = state
        .policies
        .entry(id.clone())
        .or_insert_with(|| PolicyAcc {
            line: row.line,
            date,
            instrument: instrument.clone(),
            provisions: Vec::new(),
            citations: Vec::new(),
            ensure: Vec::new(),
        });
    if acc.date != date || acc.instrument != instrument {
        row.bad(
            ctx,
            if acc.date != date { "date" } else { "instrument" },
            &format!("differs from line {} for the same policy_id {id}; expected every row of a policy to share its date and instrument", acc.line),
        );
        return (None, Vec::new());
    }
    let text = |n: &str| row.opt(n).map(String::from);
    acc.provisions.push(Provision {
        activity,
        stance,
        mine_scope: text("mine_scope"),
        geography: text("geography"),
        authority: text("authority"),
        effective_from,
        note: text("note"),
    });
    for cit in c {
        if !acc.citations.contains(&cit) {
            acc.citations.push(cit);
        }
    }
    acc.ensure.extend(ensure);
    (
        Some(format!("policy {id} and activity {activity}")),
        Vec::new(),
    )
}

fn event_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    const EVENTS: &str = "use, production, transfer, stockpile, unga_vote, meeting, legislature";
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let date = row.req_partial_date(ctx, "date");
    let event = row.req(ctx, "event", EVENTS).map(str::to_lowercase);
    let detail = row
        .req(ctx, "detail", "a description of the event")
        .map(String::from);
    let cit = cites(ctx, row, "source");
    let (Some(code), Some(date), Some(event), Some(detail), Some((c, ensure))) =
        (subject, date, event, detail, cit)
    else {
        return (None, Vec::new());
    };
    let activity = MineActivityType::parse(&event);
    let payload = match (activity, event.as_str()) {
        (Some(activity), _) => Payload::MineActivity(MineActivity {
            activity,
            actor: None,
            certainty: Certainty::Confirmed,
            last_known: detail.to_lowercase().starts_with("last "),
            quantity: None,
            detail,
            actor_type: None,
            actor_state: None,
            report_edition: None,
            period: None,
            place: None,
        }),
        (None, "stockpile" | "unga_vote" | "meeting" | "legislature") => {
            let topic = match event.as_str() {
                "unga_vote" => "unga",
                "meeting" => "meetings",
                "legislature" => "ban_policy",
                other => other,
            };
            Payload::Development(Development {
                topic: topic.to_string(),
                summary: detail,
            })
        }
        (None, other) => {
            row.bad(
                ctx,
                "event",
                &format!("{other:?} is not allowed here; expected one of: {EVENTS}"),
            );
            return (None, Vec::new());
        }
    };
    let key = format!("us-events:{code}:{date}:{event}");
    (
        Some(key.clone()),
        with(ensure, fact(key, &code, payload, Some(date), None, c, None)),
    )
}

fn us_stockpile_row(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    _: &mut State,
) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let date = row.req_partial_date(ctx, "as_of");
    let mine_type = row.req(ctx, "mine_type", "the mine type").map(String::from);
    let quantity = row.req_count(ctx, "quantity");
    let cit = cites(ctx, row, "source");
    let (Some(code), Some(date), Some(mine_type), Some(quantity), Some((c, ensure))) =
        (subject, date, mine_type, quantity, cit)
    else {
        return (None, Vec::new());
    };
    let key = format!("us-stockpile:{code}:{date}:{mine_type}");
    let p = Payload::StockpileCount(StockpileCount {
        mine_type,
        measure: StockpileMeasure::Total,
        quantity,
    });
    (
        Some(key.clone()),
        with(ensure, fact(key, &code, p, Some(date), None, c, None)),
    )
}

fn headline_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let edition = row.req_year(ctx, "report_edition");
    let data_year = row.req_year(ctx, "data_year");
    let metric = row
        .req(ctx, "metric", "a metric name such as casualties_total")
        .map(String::from);
    let value = row.req_number(ctx, "value");
    let unit = row
        .req(ctx, "unit", "a unit such as people or km2")
        .map(String::from);
    if let (Some(e), Some(d)) = (edition, data_year) {
        if d > e {
            row.bad(ctx, "data_year", &format!("{d} is after the report edition {e}; expected a year the edition could report on"));
        }
    }
    if let (Some(v), Some(u)) = (value, unit.as_deref()) {
        if v < 0.0 && u != "percent" {
            row.bad(
                ctx,
                "value",
                &format!("negative value {v}; expected 0 or more"),
            );
        }
    }
    let cit = cites(ctx, row, "source");
    let (Some(edition), Some(data_year), Some(metric), Some(value), Some(unit), Some((c, ensure))) =
        (edition, data_year, metric, value, unit, cit)
    else {
        return (None, Vec::new());
    };
    let key = format!("headline:{edition}:{data_year}:{metric}");
    let p = Payload::HeadlineFigure(HeadlineFigure {
        metric,
        value,
        unit,
        basis: row.opt("basis").map(String::from),
        data_year,
        report_edition: edition,
    });
    (
        Some(key.clone()),
        with(
            ensure,
            fact(
                key,
                "WLD",
                p,
                Some(PartialDate::Year(edition)),
                None,
                c,
                None,
            ),
        ),
    )
}

fn stockpiles_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    const METRICS: &str = "stockpile_remaining, stockpile_destruction_completed";
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let date = row.req_partial_date(ctx, "as_of");
    let metric = row.req(ctx, "metric", METRICS).map(str::to_lowercase);
    let value = row.count(ctx, "value");
    let cit = cites(ctx, row, "source");
    let (Some(code), Some(date), Some(metric), Some((c, ensure))) = (subject, date, metric, cit)
    else {
        return (None, Vec::new());
    };
    let payload = match metric.as_str() {
        "stockpile_remaining" => match value {
            Some(quantity) => Payload::StockpileCount(StockpileCount {
                mine_type: "all antipersonnel mines".into(),
                measure: StockpileMeasure::Remaining,
                quantity,
            }),
            None => {
                row.bad(
                    ctx,
                    "value",
                    "empty; expected the number of mines remaining",
                );
                return (None, Vec::new());
            }
        },
        "stockpile_destruction_completed" => Payload::Art4Event(Art4Event {
            event: Art4EventType::Completed,
            destroyed: value,
            retained: None,
            stockpile: None,
        }),
        other => {
            row.bad(
                ctx,
                "metric",
                &format!("{other:?} is not allowed here; expected one of: {METRICS}"),
            );
            return (None, Vec::new());
        }
    };
    let key = format!("stockpiles:{code}:{date}:{metric}");
    (
        Some(key.clone()),
        with(
            ensure,
            fact(key, &code, payload, Some(date), None, c, row.opt("note")),
        ),
    )
}

// ---- treaty meetings and the Article 4 / 5 histories ---------------------------------------

/// Citations from a research file's source column: URLs or titles separated by ` | ` or `;`.
fn research_cites(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    col: &str,
) -> Option<(Vec<Citation>, Vec<Item>)> {
    let text = row.opt(col).map(|t| t.replace(" | ", ";"));
    let Some(text) = text else {
        row.bad(
            ctx,
            col,
            "empty; expected a source (a claim without a source is not a fact)",
        );
        return None;
    };
    Some(citations_in(&text))
}

/// The fact's note: the compiler's note and the source's exact words.
fn research_note(row: &Row<'_>) -> Option<String> {
    match (row.opt("note"), row.opt("quote")) {
        (Some(n), Some(q)) => Some(format!("{n} | quote: \u{201c}{q}\u{201d}")),
        (Some(n), None) => Some(n.to_string()),
        (None, Some(q)) => Some(format!("quote: \u{201c}{q}\u{201d}")),
        (None, None) => None,
    }
}

/// Was the meeting or date deduced by the compiler (`INFERRED`, `DERIVED` in the note)?
fn inferred(row: &Row<'_>) -> bool {
    row.opt("note")
        .is_some_and(|n| n.contains("INFERRED") || n.contains("DERIVED"))
}

fn claim(
    key: String,
    subject: &str,
    payload: Payload,
    valid_from: Option<PartialDate>,
    citations: Vec<Citation>,
    note: Option<String>,
) -> Item {
    Item::Claim(NewFact {
        key: Some(key),
        subject: subject.to_string(),
        valid_from,
        valid_to: None,
        payload,
        citations,
        note,
        supersedes: None,
    })
}

fn meeting_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let code = row.req(ctx, "meeting", "a meeting code such as 12MSP or 2RC");
    let code = code.and_then(|c| {
        if is_meeting_code(c) {
            Some(c.to_string())
        } else {
            row.bad(
                ctx,
                "meeting",
                &format!(
                    "{c:?} is not a meeting code; expected a number and MSP or RC (12MSP, 2RC)"
                ),
            );
            None
        }
    });
    let name = row.req(ctx, "name", "the meeting's name").map(String::from);
    let start = row.partial_date(ctx, "start");
    let end = row.partial_date(ctx, "end");
    if start.is_none() && end.is_none() && row.opt("start").is_none() && row.opt("end").is_none() {
        row.bad(
            ctx,
            "end",
            "empty, and so is start; expected the meeting's dates",
        );
    }
    if let (Some(a), Some(b)) = (start, end) {
        if b.latest() < a.earliest() {
            row.bad(
                ctx,
                "end",
                &format!("{b} is before the start {a}; expected the last day of the meeting"),
            );
        }
    }
    let cit = research_cites(ctx, row, "source");
    let (Some(code), Some(name), Some((c, ensure))) = (code, name, cit) else {
        return (None, Vec::new());
    };
    let p = Payload::Meeting(Meeting {
        code: code.clone(),
        name,
        city: row.opt("city").map(String::from),
    });
    let key = format!(
        "meeting:{code}:{}:{}",
        start.map(|d| d.to_string()).unwrap_or_default(),
        end.map(|d| d.to_string()).unwrap_or_default()
    );
    let f = Item::Fact(NewFact {
        key: Some(key.clone()),
        subject: "WLD".into(),
        valid_from: start.or(end),
        valid_to: end,
        payload: p,
        citations: c,
        note: research_note(row),
        supersedes: None,
    });
    (Some(key), with(ensure, f))
}

/// A meeting code from a column (`12MSP`, or `16MSP (Vienna)`), checked against the recorded
/// meetings; with the first and last day its recorded versions give.
fn meeting_of(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    col: &str,
) -> Option<(String, Option<(Date, Date)>)> {
    let raw = row.opt(col)?;
    let code = raw.split_whitespace().next().unwrap_or(raw).to_string();
    let Some(versions) = ctx.lookups.meetings.get(&code) else {
        let known: Vec<&str> = ctx.lookups.meetings.keys().map(String::as_str).collect();
        let expected = if known.is_empty() {
            "no meetings are recorded: import treaty/meetings.csv first (minewatch import meetings)"
                .to_string()
        } else {
            format!("expected a recorded meeting: {}", known.join(", "))
        };
        row.bad(ctx, col, &format!("unknown meeting {raw:?}; {expected}"));
        return None;
    };
    let first = versions
        .iter()
        .filter_map(|(a, b)| a.or(*b))
        .map(PartialDate::earliest)
        .min();
    let last = versions
        .iter()
        .filter_map(|(a, b)| b.or(*a))
        .map(PartialDate::latest)
        .max();
    Some((code, first.zip(last)))
}

/// One Article 5 event from any research file, checked and keyed by what it claims.
#[allow(clippy::too_many_arguments)]
fn art5_claim(
    ctx: &mut Ctx<'_>,
    row: &Row<'_>,
    code: &str,
    event: Art5EventType,
    date: Option<PartialDate>,
    meeting: Option<(String, Option<(Date, Date)>)>,
    new_deadline: Option<PartialDate>,
    date_col: &str,
    deadline_col: &str,
) -> Option<(Payload, Option<PartialDate>, String)> {
    let (meeting, span) = match meeting {
        Some((m, span)) => (Some(m), span),
        None => (None, None),
    };
    let decision = matches!(
        event,
        Art5EventType::ExtensionGranted | Art5EventType::CompletionDeclared
    );
    // A decision named only by its meeting is dated by the meeting's closing day.
    let mut date = date;
    if date.is_none() && decision {
        if let Some((_, last)) = span {
            date = Some(PartialDate::Day(last));
        }
    }
    // A grant is decided at its meeting; a completion may be declared before the meeting that
    // takes note of it (the United Kingdom on 14 November 2020, before the 18MSP).
    let grant = event == Art5EventType::ExtensionGranted;
    if let (Some(d), Some((first, last)), Some(m), true) = (date, span, &meeting, grant) {
        if d.latest() < first || d.earliest() > last {
            row.bad(
                ctx,
                date_col,
                &format!(
                    "{d} is not during the {m} ({} to {}); expected the decision's date at that meeting",
                    first.long(),
                    last.long()
                ),
            );
            return None;
        }
    }
    if event == Art5EventType::ExtensionGranted {
        if let (Some(d), Some(nd)) = (date, new_deadline) {
            if nd.latest() < d.earliest() {
                row.bad(
                    ctx,
                    deadline_col,
                    &format!("new deadline {nd} is before the grant ({d}); expected a later date"),
                );
                return None;
            }
        }
        if date.is_none() && new_deadline.is_none() {
            row.bad(
                ctx,
                date_col,
                "a grant with no date, no meeting and no new deadline says nothing that can be placed; expected at least one of them",
            );
            return None;
        }
    }
    let p = Payload::Art5Event(Art5Event {
        event,
        meeting,
        inferred: inferred(row),
        requested: (event == Art5EventType::ExtensionRequested)
            .then_some(date)
            .flatten(),
        decided: decision.then_some(date).flatten(),
        new_deadline,
    });
    if let Err(e) = p.validate() {
        row.bad(ctx, "meeting", &e.to_string());
        return None;
    }
    let key = format!(
        "art5:{code}:{event}:{}:{}",
        date.map(|d| d.to_string()).unwrap_or_default(),
        new_deadline.map(|d| d.to_string()).unwrap_or_default()
    );
    Some((p, date, key))
}

fn art5_event_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let event = row.req_word(
        ctx,
        "event",
        Art5EventType::parse,
        &Art5EventType::expected(),
    );
    let date = row.partial_date(ctx, "date");
    let meeting = meeting_of(ctx, row, "meeting");
    let bad_meeting = row.opt("meeting").is_some() && meeting.is_none();
    let new_deadline = row.partial_date(ctx, "new_deadline");
    let cit = research_cites(ctx, row, "source");
    let (Some(code), Some(event), Some((c, ensure)), false) = (subject, event, cit, bad_meeting)
    else {
        return (None, Vec::new());
    };
    let Some((p, valid_from, key)) = art5_claim(
        ctx,
        row,
        &code,
        event,
        date,
        meeting,
        new_deadline,
        "date",
        "new_deadline",
    ) else {
        return (None, Vec::new());
    };
    let item = claim(key.clone(), &code, p, valid_from, c, research_note(row));
    (Some(key), with(ensure, item))
}

fn art5_status_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let all = row.opt("state") == Some("ALL") || row.opt("iso3") == Some("ALL");
    let subject = if all {
        Some("WLD".to_string())
    } else {
        row.subject(ctx, Some("iso3"), Some("state"))
    };
    let word = row.req(ctx, "event", "an Art. 5 event").map(str::to_string);
    let cit = research_cites(ctx, row, "source");
    let (Some(code), Some(word), Some((c, ensure))) = (subject, word, cit) else {
        return (None, Vec::new());
    };
    let event = match word.as_str() {
        _ if all => None,
        "extension_requested" => Some(Art5EventType::ExtensionRequested),
        "extension_granted" => Some(Art5EventType::ExtensionGranted),
        "completion_declared"
        | "completion_announced"
        | "completion_reported"
        | "clearance_completed_reported" => Some(Art5EventType::CompletionDeclared),
        "new_contamination_reported" => Some(Art5EventType::NewContaminationReported),
        "obligation_reinstated" => Some(Art5EventType::ObligationReinstated),
        "deadline_missed_no_request" | "original_deadline_missed" => {
            Some(Art5EventType::DeadlineMissed)
        }
        "original_deadline" | "current_deadline" | "deadline_reported" => {
            Some(Art5EventType::DeadlineReported)
        }
        _ => None,
    };
    let Some(event) = event else {
        // Statements the record has no narrower kind for (aggregates, announcements, entry
        // into force as the file states it) are kept as developments, with their words.
        let mut summary = word.replace('_', " ");
        for col in ["event_date", "meeting", "deadline", "status_as_of"] {
            if let Some(v) = row.opt(col) {
                summary.push_str(&format!("; {}: {v}", col.replace('_', " ")));
            }
        }
        let valid_from = row
            .opt("event_date")
            .and_then(|v| PartialDate::parse(v).ok());
        let p = Payload::Development(Development {
            topic: "mine_action".into(),
            summary,
        });
        let key = format!(
            "art5-status:{code}:{word}:{}:{}",
            row.opt("event_date").unwrap_or_default(),
            row.opt("status_as_of")
                .or(row.opt("deadline"))
                .unwrap_or_default()
        );
        let item = claim(key.clone(), &code, p, valid_from, c, research_note(row));
        return (Some(key), with(ensure, item));
    };
    let deadline = row.partial_date(ctx, "deadline");
    let mut date = row.partial_date(ctx, "event_date");
    if event == Art5EventType::DeadlineReported && date.is_none() {
        date = row
            .opt("status_as_of")
            .and_then(|v| PartialDate::parse(v).ok());
    }
    let meeting = meeting_of(ctx, row, "meeting");
    if row.opt("meeting").is_some() && meeting.is_none() {
        return (None, Vec::new());
    }
    let mut note = research_note(row);
    if word != event.as_str() {
        note = Some(match note {
            Some(n) => format!("{word}: {n}"),
            None => word.clone(),
        });
    }
    let Some((p, valid_from, key)) = art5_claim(
        ctx,
        row,
        &code,
        event,
        date,
        meeting,
        deadline,
        "event_date",
        "deadline",
    ) else {
        return (None, Vec::new());
    };
    let item = claim(key.clone(), &code, p, valid_from, c, note);
    (Some(key), with(ensure, item))
}

fn art4_event_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let subject = row.subject(ctx, Some("iso3"), Some("state"));
    let event = row.req_word(
        ctx,
        "event",
        Art4EventType::parse,
        &Art4EventType::expected(),
    );
    let date = row.partial_date(ctx, "date");
    let quantity = row.count(ctx, "quantity");
    let cit = research_cites(ctx, row, "source");
    let (Some(code), Some(event), Some((c, ensure))) = (subject, event, cit) else {
        return (None, Vec::new());
    };
    let item = art4_claim(&code, event, date, quantity, c, research_note(row));
    (Some(item_key(&item)), with(ensure, item))
}

/// The key of a fact item (the row's identity for duplicate checks).
fn item_key(item: &Item) -> String {
    match item {
        Item::Fact(f) | Item::Claim(f) => f.key.clone().unwrap_or_default(),
        Item::Source(s) | Item::EnsureSource(s) => s.key.clone(),
    }
}

fn art4_claim(
    code: &str,
    event: Art4EventType,
    date: Option<PartialDate>,
    quantity: Option<u64>,
    citations: Vec<Citation>,
    note: Option<String>,
) -> Item {
    let p = Payload::Art4Event(Art4Event {
        event,
        destroyed: (event == Art4EventType::Completed)
            .then_some(quantity)
            .flatten(),
        retained: None,
        stockpile: matches!(
            event,
            Art4EventType::StockpileReported | Art4EventType::DeadlineMissed
        )
        .then_some(quantity)
        .flatten(),
    });
    let key = format!(
        "art4:{code}:{event}:{}:{}",
        date.map(|d| d.to_string()).unwrap_or_default(),
        quantity.map(|q| q.to_string()).unwrap_or_default()
    );
    claim(key, code, p, date, citations, note)
}

fn art4_status_row(ctx: &mut Ctx<'_>, row: &Row<'_>, _: &mut State) -> (Option<String>, Vec<Item>) {
    let all = row.opt("state") == Some("ALL") || row.opt("iso3") == Some("ALL");
    let subject = if all {
        Some("WLD".to_string())
    } else {
        row.subject(ctx, Some("iso3"), Some("state"))
    };
    let word = row.req(ctx, "event", "an Art. 4 event").map(str::to_string);
    let cit = research_cites(ctx, row, "source");
    let (Some(code), Some(word), Some((c, ensure))) = (subject, word, cit) else {
        return (None, Vec::new());
    };
    let event = match word.as_str() {
        _ if all => None,
        "completed" | "no_longer_stockpiles" => Some(Art4EventType::Completed),
        "deadline_missed" => Some(Art4EventType::DeadlineMissed),
        "stockpile_declared" | "stockpile_size" => Some(Art4EventType::StockpileReported),
        _ => None,
    };
    let measure = match word.as_str() {
        _ if all => None,
        "remaining" | "remaining_at_deadline" => Some(StockpileMeasure::Remaining),
        "destroyed_cumulative" => Some(StockpileMeasure::Destroyed),
        "retained_art3" => Some(StockpileMeasure::Retained),
        _ => None,
    };
    let mut note = research_note(row);
    if event.is_some_and(|e| e.as_str() != word) {
        note = Some(match note {
            Some(n) => format!("{word}: {n}"),
            None => word.clone(),
        });
    }
    if let Some(event) = event {
        let date = row.partial_date(ctx, "date");
        let quantity = row.count(ctx, "quantity");
        let item = art4_claim(&code, event, date, quantity, c, note);
        return (Some(item_key(&item)), with(ensure, item));
    }
    if let Some(measure) = measure {
        let date = row.req_partial_date(ctx, "date");
        let quantity = row.req_count(ctx, "quantity");
        let (Some(date), Some(quantity)) = (date, quantity) else {
            return (None, Vec::new());
        };
        let p = Payload::StockpileCount(StockpileCount {
            mine_type: "all antipersonnel mines".into(),
            measure,
            quantity,
        });
        let key = format!("art4-status:{code}:{word}:{date}:{quantity}");
        let item = claim(key.clone(), &code, p, Some(date), c, note);
        return (Some(key), with(ensure, item));
    }
    let mut summary = word.replace('_', " ");
    for col in ["date", "quantity", "deadline"] {
        if let Some(v) = row.opt(col) {
            summary.push_str(&format!("; {col}: {v}"));
        }
    }
    let valid_from = row.opt("date").and_then(|v| PartialDate::parse(v).ok());
    let p = Payload::Development(Development {
        topic: "stockpile".into(),
        summary,
    });
    let key = format!(
        "art4-status:{code}:{word}:{}:{}",
        row.opt("date").unwrap_or_default(),
        row.opt("quantity").unwrap_or_default()
    );
    let item = claim(key.clone(), &code, p, valid_from, c, note);
    (Some(key), with(ensure, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_citations_outside_parentheses() {
        assert_eq!(
            split_citations("a (x; y); b;  ; c"),
            vec!["a (x; y)".to_string(), "b".into(), "c".into()]
        );
    }

    #[test]
    fn seed_references_cite_the_curated_documents() {
        let (c, _) = citation_for("seed 002 (footnote 28) citing GAO-02-1003 Appendix I");
        assert_eq!(c.source, "lm-2010-usa");
        assert_eq!(
            c.locator.as_deref(),
            Some("footnote 28 citing GAO-02-1003 Appendix I")
        );
        let (c, _) = citation_for("seed 003");
        assert_eq!((c.source.as_str(), c.locator), ("seed-003", None));
    }
}
