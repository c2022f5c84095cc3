//! The typed answers about subjects, sources and facts: the shapes of the API, the pages' JSON
//! twins and the command line's `--json` output, each built once here.

use minewatch_domain::{Source, Subject};
use minewatch_store::{FactRecord, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A state, territory, other area or armed group.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SubjectInfo {
    pub code: String,
    pub alpha2: Option<String>,
    pub numeric: Option<String>,
    pub name: String,
    pub kind: &'static str,
    pub region: Option<String>,
    pub aliases: Vec<String>,
    pub successors: Vec<String>,
    pub parent: Option<String>,
}

pub fn subject(s: &Subject) -> SubjectInfo {
    SubjectInfo {
        code: s.code.clone(),
        alpha2: s.alpha2.clone(),
        numeric: s.numeric.clone(),
        name: s.name.clone(),
        kind: s.kind.as_str(),
        region: s.region.clone(),
        aliases: s.aliases.clone(),
        successors: s.successors.clone(),
        parent: s.parent.clone(),
    }
}

/// A subject named in an answer about something else: its code and name.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SubjectRef {
    pub code: String,
    pub name: String,
}

/// A source: what it is, who published it, when, where.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourceInfo {
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    /// A date, a month or a year (`2010-10-18`, `2010-10`, `2010`).
    pub published: Option<String>,
    pub url: Option<String>,
    pub note: Option<String>,
}

pub fn source(s: &Source) -> SourceInfo {
    SourceInfo {
        key: s.key.clone(),
        title: s.title.clone(),
        publisher: s.publisher.clone(),
        published: s.published.map(|d| d.to_string()),
        url: s.url.clone(),
        note: s.note.clone(),
    }
}

/// A source with the facts that cite it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceWithFacts {
    #[serde(flatten)]
    pub source: SourceInfo,
    /// When the source entered the record (the API's answer says; the page's twin does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    pub facts: Vec<FactWithSources>,
}

/// A list of sources.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub count: usize,
    pub sources: Vec<SourceInfo>,
}

impl SourceList {
    pub fn new(sources: Vec<SourceInfo>) -> SourceList {
        SourceList {
            count: sources.len(),
            sources,
        }
    }
}

/// A citation with its source expanded: the source's fields (only `key` when the record does
/// not hold the source) and the locator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CitedSource {
    #[serde(flatten)]
    pub source: CitedSourceEntry,
    pub locator: Option<String>,
}

/// The cited source as the record holds it, or its key alone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CitedSourceEntry {
    Known(SourceInfo),
    Unknown(SourceKey),
}

/// A cited source the record does not hold: its key alone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceKey {
    pub key: String,
}

/// A fact with each citation expanded to its source.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FactWithSources {
    pub id: i64,
    pub key: String,
    pub subject: String,
    pub kind: &'static str,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// The kind's fields (see the facts format).
    pub payload: Value,
    pub note: Option<String>,
    pub sources: Vec<CitedSource>,
    pub recorded_at: String,
    pub recorded_by: String,
    pub supersedes: Option<i64>,
}

/// Facts with each citation expanded to its source.
pub fn facts_with_sources(
    store: &Store,
    facts: &[FactRecord],
) -> Result<Vec<FactWithSources>, StoreError> {
    let mut cache: HashMap<String, CitedSourceEntry> = HashMap::new();
    let mut out = Vec::with_capacity(facts.len());
    for rec in facts {
        let f = &rec.fact;
        let mut cites = Vec::new();
        for c in &f.citations {
            let entry = match cache.get(&c.source) {
                Some(e) => e.clone(),
                None => {
                    let e = match store.source(&c.source)? {
                        Some(s) => CitedSourceEntry::Known(source(&s.source)),
                        None => CitedSourceEntry::Unknown(SourceKey {
                            key: c.source.clone(),
                        }),
                    };
                    cache.insert(c.source.clone(), e.clone());
                    e
                }
            };
            cites.push(CitedSource {
                source: entry,
                locator: c.locator.clone(),
            });
        }
        out.push(FactWithSources {
            id: f.id,
            key: rec.key.clone(),
            subject: f.subject.clone(),
            kind: f.kind().as_str(),
            valid_from: f.valid_from.map(|d| d.to_string()),
            valid_to: f.valid_to.map(|d| d.to_string()),
            payload: f.payload.to_value(),
            note: f.note.clone(),
            sources: cites,
            recorded_at: f.recorded_at.clone(),
            recorded_by: f.recorded_by.clone(),
            supersedes: f.supersedes,
        });
    }
    Ok(out)
}

/// The facts recorded about one subject (`GET /api/v1/states/{code}/facts`,
/// `minewatch facts --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectFacts {
    pub state: SubjectRef,
    pub as_of: Option<String>,
    /// The kind asked for, if any.
    pub kind: Option<&'static str>,
    pub count: usize,
    pub facts: Vec<FactWithSources>,
}

/// One fact with its place in its key's history (`GET /api/v1/facts/{id}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FactAnswer {
    #[serde(flatten)]
    pub fact: FactWithSources,
    pub superseded_by: Option<i64>,
    pub history: Vec<HistoryEntry>,
}

/// One version of a fact in its key's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    pub recorded_at: String,
    pub recorded_by: String,
    pub supersedes: Option<i64>,
    pub kind: &'static str,
}

/// The subjects (`GET /api/v1/states`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectList {
    pub count: usize,
    pub states: Vec<SubjectInfo>,
}

/// One subject with what the record holds about it (`GET /api/v1/states/{code}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectAnswer {
    #[serde(flatten)]
    pub subject: SubjectInfo,
    pub counts: FactCounts,
    pub links: SubjectLinks,
}

/// How many facts, in all and by kind.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct FactCounts {
    pub facts: usize,
    pub by_kind: BTreeMap<&'static str, u64>,
}

/// Where to read more about a subject.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectLinks {
    pub facts: String,
}

/// One General Assembly roll call with every state's recorded vote
/// (`GET /api/v1/unga/{session}/{number}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RollCallAnswer {
    pub resolution: String,
    pub session: u32,
    pub rcid: u32,
    pub date: Option<String>,
    pub topic: String,
    /// The published tally.
    pub tally: Tally,
    /// The tally of the votes recorded state by state.
    pub recorded_votes: RecordedTally,
    pub tally_matches_recorded_votes: bool,
    pub votes: Vec<StateVote>,
    /// States whose sources record different votes (not counted).
    pub conflicting_votes: Vec<ConflictingVotes>,
    pub roll_call_fact: Option<FactWithSources>,
}

/// Votes in favour, against and abstaining.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Member States not voting, when the source publishes it (the UN Digital Library does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_voting: Option<u32>,
    /// Member States on the day, when the source publishes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
}

/// A tally with its total.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct RecordedTally {
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Member States recorded as not voting (counted in none of the three, nor in `total`).
    pub non_voting: u32,
    pub total: u32,
}

/// One state's vote and the facts that record it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StateVote {
    pub code: String,
    pub name: Option<String>,
    pub name_in_source: Option<String>,
    pub vote: &'static str,
    pub facts: Vec<i64>,
}

/// A state whose sources disagree on its vote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConflictingVotes {
    pub code: String,
    pub votes: Vec<&'static str>,
    pub facts: Vec<i64>,
}
