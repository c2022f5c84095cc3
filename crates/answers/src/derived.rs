//! What the treaty engine derives from the record, as typed answers: status, States Parties,
//! deadlines, classification, policies and their diffs; and the engines themselves, built over
//! the whole record or over what one page needs, with their caches. Shared by the API routes,
//! the pages' JSON twins and the CLI's `--json` output, so all say the same thing.

use minewatch_domain::fact::TreatyActionType;
use minewatch_domain::{Date, Fact, FactKind, Payload, Subject};
use minewatch_store::{FactFilter, Store, StoreError};
use minewatch_treaty::{
    classify, shipped_definitions, AlignmentRow, Basis, Classification, DeadlineRow, Definition,
    Device, Engine, Parties, PolicyDiff, PolicyRecord, StatusReport,
};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// Why a derived answer could not be given: the caller's input (`Input`), or the record or a
/// shipped file (`Internal`).
#[derive(Debug)]
pub enum DerivedError {
    /// Bad input: the message says what and what was expected.
    Input(String),
    /// Something that is not the caller's fault.
    Internal(String),
    /// A named thing (a policy id) that is not in the record; `known` lists what is.
    NotFound { message: String, known: Vec<String> },
}

impl fmt::Display for DerivedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerivedError::Input(m) | DerivedError::Internal(m) => f.write_str(m),
            DerivedError::NotFound { message, known } => {
                write!(f, "{message}; known: {}", known.join(", "))
            }
        }
    }
}

impl std::error::Error for DerivedError {}

impl From<StoreError> for DerivedError {
    fn from(e: StoreError) -> Self {
        DerivedError::Internal(e.to_string())
    }
}

/// The facts (without their record metadata) that `filter` selects.
fn facts_of(store: &Store, filter: FactFilter) -> Result<Vec<Fact>, StoreError> {
    Ok(store.facts(&filter)?.into_iter().map(|r| r.fact).collect())
}

/// Builds the engine over every current fact of the record.
pub fn build_engine(store: &Store) -> Result<Engine, StoreError> {
    build_engine_at(store, None)
}

/// The engine over the record as it stood when fact `up_to` was the newest (`None`: now).
pub fn build_engine_at(store: &Store, up_to: Option<i64>) -> Result<Engine, StoreError> {
    let facts = facts_of(
        store,
        FactFilter {
            up_to_fact: up_to,
            ..FactFilter::default()
        },
    )?;
    Ok(Engine::with_publications(facts, &store.published_dates()?))
}

/// Kinds whose facts about other subjects can matter to one subject's answers: deposits (the
/// 40th deposit dates the treaty's entry into force), treaty meetings (a grant named by its
/// meeting is dated by it) and UN roll calls (a state's votes beside their totals).
const SHARED_KINDS: [FactKind; 3] = [
    FactKind::TreatyAction,
    FactKind::Meeting,
    FactKind::UngaRollCall,
];

/// Kinds the engine has no use for: a subject's engine leaves them out.
const NOT_FOR_THE_ENGINE: &[FactKind] = &[
    FactKind::Development,
    FactKind::HeadlineFigure,
    FactKind::CasualtyFigure,
];

/// The facts of other subjects that a subject's engine may need (see [`SHARED_KINDS`]) as the
/// record stood at fact `up_to`: the deposits of the states that deposited by the day of the
/// 40th deposit (later ones cannot move it), every meeting and every roll call
/// ([`build_subject_engine`] keeps the roll calls of the subject's own votes).
pub fn shared_facts(store: &Store, up_to: Option<i64>) -> Result<Vec<Fact>, StoreError> {
    let mut out = Vec::new();
    let mut deposits: Vec<Fact> = Vec::new();
    for kind in SHARED_KINDS {
        let filter = FactFilter {
            kind: Some(kind),
            up_to_fact: up_to,
            ..FactFilter::default()
        };
        for f in facts_of(store, filter)? {
            match &f.payload {
                Payload::TreatyAction(a) if a.action == TreatyActionType::Deposit => {
                    deposits.push(f)
                }
                Payload::TreatyAction(_) => {}
                _ => out.push(f),
            }
        }
    }
    // Each state's earliest recorded deposit; the 40th earliest of those bounds the states
    // whose deposits can be among the first forty.
    let mut first: std::collections::HashMap<&str, Date> = std::collections::HashMap::new();
    for f in &deposits {
        if let Some(d) = f.valid_from {
            let e = first.entry(f.subject.as_str()).or_insert(d.latest());
            *e = (*e).min(d.latest());
        }
    }
    let mut days: Vec<Date> = first.values().copied().collect();
    days.sort();
    let cutoff = days.get(39).copied();
    let early: std::collections::HashSet<String> = first
        .iter()
        .filter(|(_, d)| cutoff.is_none_or(|c| **d <= c))
        .map(|(s, _)| s.to_string())
        .collect();
    out.extend(deposits.into_iter().filter(|f| early.contains(&f.subject)));
    Ok(out)
}

/// An engine over one subject's facts and the shared facts ([`shared_facts`]): what the subject's
/// status, obligations, votes and profile need, at a cost that follows the subject's facts and
/// not the size of the record. Its answers about `code` are those of the whole-record engine
/// (a test compares them for every subject of the shipped record).
pub fn build_subject_engine(
    store: &Store,
    code: &str,
    shared: &[Fact],
    up_to: Option<i64>,
) -> Result<Engine, StoreError> {
    let mut facts = facts_of(
        store,
        FactFilter {
            subject: Some(code.to_string()),
            up_to_fact: up_to,
            except_kinds: NOT_FOR_THE_ENGINE,
            ..FactFilter::default()
        },
    )?;
    // The roll calls of this subject's votes, by id or by resolution.
    let mut rcids = std::collections::HashSet::new();
    let mut resolutions = std::collections::HashSet::new();
    for f in &facts {
        if let Payload::UngaVote(v) = &f.payload {
            if let Some(id) = v.rcid {
                rcids.insert(id);
            }
            resolutions.insert(v.resolution.clone());
        }
    }
    facts.extend(
        shared
            .iter()
            .filter(|f| f.subject != code)
            .filter(|f| match &f.payload {
                Payload::UngaRollCall(r) => {
                    rcids.contains(&r.rcid) || resolutions.contains(&r.resolution)
                }
                _ => true,
            })
            .cloned(),
    );
    Ok(Engine::with_publications(facts, &store.published_dates()?))
}

/// The engine over every roll call and every UN vote of every state (for roll-call tallies).
pub fn build_common_engine(store: &Store, up_to: Option<i64>) -> Result<Engine, StoreError> {
    let mut facts = Vec::new();
    for kind in [FactKind::UngaRollCall, FactKind::UngaVote] {
        facts.extend(facts_of(
            store,
            FactFilter {
                kind: Some(kind),
                up_to_fact: up_to,
                ..FactFilter::default()
            },
        )?);
    }
    Ok(Engine::with_publications(facts, &store.published_dates()?))
}

/// Engines of single subjects for the current record version, least recently used dropped first
/// once they hold more than [`SUBJECT_ENGINES_MAX_FACTS`] facts together.
#[derive(Debug, Default)]
pub struct SubjectEngines {
    version: i64,
    shared: Option<Arc<Vec<Fact>>>,
    common: Option<Arc<Engine>>,
    engines: std::collections::HashMap<String, (u64, Arc<Engine>)>,
    facts: usize,
    tick: u64,
}

/// The bound on the facts held by cached subject engines (about 0.35 KB each in memory, measured
/// at a million-fact record: four engines of 20,000 facts took 23 MB).
pub const SUBJECT_ENGINES_MAX_FACTS: usize = 200_000;

impl SubjectEngines {
    /// Drops everything built for an older record version.
    fn renew(&mut self, store: &Store) -> Result<(), StoreError> {
        let version = store.last_fact_id()?;
        if version != self.version || self.shared.is_none() {
            self.engines.clear();
            self.facts = 0;
            self.common = None;
            self.shared = Some(Arc::new(shared_facts(store, None)?));
            self.version = version;
        }
        Ok(())
    }

    /// The engine over the shared facts and every state's UN votes: the roll-call tallies a
    /// profile shows beside the state's own votes.
    pub fn common(&mut self, store: &Store) -> Result<Arc<Engine>, StoreError> {
        self.renew(store)?;
        if let Some(e) = &self.common {
            return Ok(Arc::clone(e));
        }
        let e = Arc::new(build_common_engine(store, None)?);
        self.common = Some(Arc::clone(&e));
        Ok(e)
    }

    /// The engine for `code` over the record as it is now.
    pub fn get(&mut self, store: &Store, code: &str) -> Result<Arc<Engine>, StoreError> {
        self.renew(store)?;
        self.tick += 1;
        if let Some((used, e)) = self.engines.get_mut(code) {
            *used = self.tick;
            return Ok(Arc::clone(e));
        }
        let shared = self.shared.clone().unwrap_or_default();
        let engine = Arc::new(build_subject_engine(store, code, &shared, None)?);
        let n = engine.facts().len();
        while self.facts + n > SUBJECT_ENGINES_MAX_FACTS && !self.engines.is_empty() {
            let oldest = self
                .engines
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                if let Some((_, e)) = self.engines.remove(&k) {
                    self.facts -= e.facts().len();
                }
            }
        }
        self.facts += n;
        self.engines
            .insert(code.to_string(), (self.tick, Arc::clone(&engine)));
        Ok(engine)
    }
}

/// Which facts an engine for world pages holds: a page that needs only treaty status (the map,
/// the States Parties, the states index) gets an engine over treaty actions and armed conflicts;
/// the obligations pages (deadlines, Art. 5, meetings) add what the obligations rest on (Art. 4,
/// 5 and 7 events, stockpile counts, legislation, meetings and who attended them) but not what
/// only findings use (UN votes, uses of mines): those pages show no findings. The rest use every
/// current fact. So the cost of these pages follows the facts they
/// show, not every vote, count and development of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Treaty,
    Obligations,
    Whole,
}

impl Scope {
    /// The kinds of the scope's facts; `None`: every kind.
    pub fn kinds(self) -> Option<&'static [FactKind]> {
        match self {
            Scope::Treaty => Some(&[FactKind::TreatyAction, FactKind::ArmedConflict]),
            Scope::Obligations => Some(&[
                FactKind::TreatyAction,
                FactKind::ArmedConflict,
                FactKind::Art4Event,
                FactKind::Art5Event,
                FactKind::Art7Report,
                FactKind::Meeting,
                FactKind::MeetingParticipation,
                FactKind::StockpileCount,
                FactKind::Legislation,
            ]),
            Scope::Whole => None,
        }
    }
}

/// The engine over the current facts of `scope`'s kinds, in the order of [`Store::facts`].
pub fn build_scoped_engine(store: &Store, scope: Scope) -> Result<Engine, StoreError> {
    let Some(kinds) = scope.kinds() else {
        return build_engine(store);
    };
    let mut facts = Vec::new();
    for &kind in kinds {
        facts.extend(facts_of(
            store,
            FactFilter {
                kind: Some(kind),
                ..FactFilter::default()
            },
        )?);
    }
    facts.sort_by_cached_key(|f| (f.subject.clone(), f.valid_from.map(|d| d.to_string()), f.id));
    Ok(Engine::with_publications(facts, &store.published_dates()?))
}

/// Engines of each scope together with the record version they were built from.
#[derive(Debug, Default)]
pub struct EngineCache {
    built: std::collections::HashMap<Scope, (i64, Arc<Engine>)>,
}

impl EngineCache {
    /// The engine of `scope` for the record as it is now: rebuilt only when facts were added
    /// since (the record is append-only, so the last fact id is its version).
    pub fn scoped(&mut self, store: &Store, scope: Scope) -> Result<Arc<Engine>, StoreError> {
        let version = store.last_fact_id()?;
        if let Some((v, e)) = self.built.get(&scope) {
            if *v == version {
                return Ok(Arc::clone(e));
            }
        }
        // An older version's engines are dropped before building: never two records in memory.
        self.built.retain(|_, (v, _)| *v == version);
        let engine = Arc::new(build_scoped_engine(store, scope)?);
        self.built.insert(scope, (version, Arc::clone(&engine)));
        Ok(engine)
    }
}

/// Today (UTC), the default `as_of`.
pub fn today() -> Result<Date, DerivedError> {
    minewatch_store::today()
        .ok_or_else(|| DerivedError::Internal("the system clock is outside years 1-9999".into()))
}

/// A subject's status on a date with its deadlines, obligations, findings and reasons
/// (`GET /api/v1/states/{code}/status`, `minewatch status --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusAnswer {
    #[serde(flatten)]
    pub report: StatusReport,
    pub name: String,
}

/// `GET /api/v1/states/{code}/status`: the engine's report with the subject's name.
pub fn status(engine: &Engine, subject: &Subject, as_of: Date) -> StatusAnswer {
    StatusAnswer {
        report: engine.status(&subject.code, as_of),
        name: subject.name.clone(),
    }
}

/// Parses `eif` or `deposit`.
pub fn parse_basis(s: &str) -> Result<Basis, DerivedError> {
    Basis::parse(s).ok_or_else(|| {
        DerivedError::Input(format!(
            "basis: {s:?} is not a basis; expected eif (in force: legally bound) or deposit (instrument deposited)"
        ))
    })
}

/// The States Parties on a date on one basis, with the other basis's count beside it
/// (`GET /api/v1/parties`, `minewatch parties --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartiesAnswer {
    #[serde(flatten)]
    pub parties: Parties,
    pub basis_meaning: &'static str,
    pub other_basis: OtherBasis,
}

/// The count on the basis not asked for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OtherBasis {
    pub basis: &'static str,
    pub count: usize,
    pub meaning: &'static str,
}

/// `GET /api/v1/parties`: States Parties on a date on one basis; the other basis's count is
/// given beside it so the two are never silently mixed.
pub fn parties(engine: &Engine, as_of: Date, basis: Basis) -> PartiesAnswer {
    let other = match basis {
        Basis::Eif => Basis::Deposit,
        Basis::Deposit => Basis::Eif,
    };
    PartiesAnswer {
        parties: engine.parties(as_of, basis),
        basis_meaning: basis_meaning(basis),
        other_basis: OtherBasis {
            basis: other.as_str(),
            count: engine.parties(as_of, other).count,
            meaning: basis_meaning(other),
        },
    }
}

fn basis_meaning(b: Basis) -> &'static str {
    match b {
        Basis::Eif => "the treaty is in force for the state (Art. 17) and no withdrawal has taken effect (Art. 20)",
        Basis::Deposit => "the state has deposited its instrument of ratification or accession (Art. 16), whether or not yet in force",
    }
}

/// The Art. 4, 5 and 7 deadlines on a date (`GET /api/v1/deadlines`, `minewatch deadlines
/// --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlinesAnswer {
    pub as_of: Date,
    /// The state asked about, if any.
    pub state: Option<String>,
    pub overdue_only: bool,
    pub count: usize,
    pub deadlines: Vec<DeadlineRow>,
}

/// `GET /api/v1/deadlines`.
pub fn deadlines(
    engine: &Engine,
    as_of: Date,
    state: Option<&Subject>,
    overdue_only: bool,
) -> DeadlinesAnswer {
    let rows = engine.deadlines(as_of, state.map(|s| s.code.as_str()), overdue_only);
    DeadlinesAnswer {
        as_of,
        state: state.map(|s| s.code.clone()),
        overdue_only,
        count: rows.len(),
        deadlines: rows,
    }
}

/// Reads a device description; `what` names it in messages (a file name, "request body").
pub fn parse_device(what: &str, text: &str) -> Result<Device, DerivedError> {
    Device::from_json(text).map_err(|e| {
        DerivedError::Input(format!(
            "{what}: {e}; expected an object with target, activation and delivery (see /api/v1/openapi.json, Device)"
        ))
    })
}

/// The body of `POST /api/v1/classify`, as the API documents it: a device, or a device with
/// alternative definitions to apply as well ([`parse_classify_body`] reads it).
#[derive(Debug)]
pub enum ClassifyRequest {
    /// A device alone.
    Device(Device),
    /// A device and alternative definitions.
    WithDefinitions(DeviceWithDefinitions),
}

impl utoipa::PartialSchema for ClassifyRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{OneOfBuilder, Ref};
        OneOfBuilder::new()
            .item(Ref::from_schema_name("Device"))
            .item(Ref::from_schema_name("DeviceWithDefinitions"))
            .into()
    }
}

impl utoipa::ToSchema for ClassifyRequest {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("Device".into(), Device::schema()));
        <Device as utoipa::ToSchema>::schemas(schemas);
        schemas.push((
            "DeviceWithDefinitions".into(),
            DeviceWithDefinitions::schema(),
        ));
        <DeviceWithDefinitions as utoipa::ToSchema>::schemas(schemas);
    }
}

/// `{"device": {...}, "definitions": [...]}`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = DeviceWithDefinitions)]
pub struct DeviceWithDefinitions {
    pub device: Device,
    /// Alternative definitions in the format of `data/definitions` (format 1).
    pub definitions: Option<Vec<minewatch_treaty::definitions::DefinitionDocument>>,
}

/// Reads the body of `POST /api/v1/classify`: a device description, or
/// `{"device": {...}, "definitions": [...]}` with alternative definitions to apply as well.
pub fn parse_classify_body(body: &str) -> Result<(Device, Vec<Definition>), DerivedError> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
        DerivedError::Input(format!(
            "request body: {e}; expected a JSON object describing a device"
        ))
    })?;
    let Some(device) = value.get("device") else {
        return Ok((parse_device("request body", body)?, Vec::new()));
    };
    let mut extra = Vec::new();
    match value.get("definitions") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(defs)) => {
            for (i, d) in defs.iter().enumerate() {
                extra.push(parse_definition(
                    &format!("request body definitions[{i}]"),
                    &d.to_string(),
                )?);
            }
        }
        Some(_) => {
            return Err(DerivedError::Input(
                "request body: definitions: expected an array of definition objects".into(),
            ))
        }
    }
    Ok((parse_device("request body", &device.to_string())?, extra))
}

/// Reads an alternative definition; `file` names it in messages.
pub fn parse_definition(file: &str, text: &str) -> Result<Definition, DerivedError> {
    Definition::from_json(file, text).map_err(|e| DerivedError::Input(e.to_string()))
}

/// A device's verdicts and the date of the policies applied (`POST /api/v1/classify`,
/// `minewatch classify --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClassificationAnswer {
    #[serde(flatten)]
    pub classification: Classification,
    pub on: Date,
}

/// `POST /api/v1/classify`: a device under the Mine Ban Treaty, CCW Amended Protocol II, every
/// policy instrument in force on `on`, the shipped definitions and any `extra` definitions.
pub fn classification(
    engine: &Engine,
    device: &Device,
    on: Date,
    extra: Vec<Definition>,
) -> Result<ClassificationAnswer, DerivedError> {
    Ok(ClassificationAnswer {
        classification: classify_device(engine, device, on, extra)?,
        on,
    })
}

/// The typed verdicts behind [`classification`], for renderers.
pub fn classify_device(
    engine: &Engine,
    device: &Device,
    on: Date,
    extra: Vec<Definition>,
) -> Result<Classification, DerivedError> {
    let mut definitions = shipped_definitions()
        .map_err(|e| DerivedError::Internal(format!("shipped definition: {e}")))?;
    definitions.extend(extra);
    Ok(classify(device, &engine.policy_records(), on, &definitions))
}

/// The policy instruments in the record, by id, oldest first.
pub fn policy_list(engine: &Engine) -> Vec<PolicyRecord> {
    let mut list = engine.policy_records();
    list.sort_by(|a, b| {
        a.adopted
            .map(|d| d.earliest())
            .cmp(&b.adopted.map(|d| d.earliest()))
            .then_with(|| a.instrument.policy_id.cmp(&b.instrument.policy_id))
    });
    list
}

/// The policy instruments in the record (`GET /api/v1/policies`, `minewatch policy list
/// --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyList {
    pub count: usize,
    pub policies: Vec<PolicySummary>,
}

/// One policy instrument: whose, what, when adopted, what it rescinds, from which fact.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicySummary {
    pub policy_id: String,
    pub subject: String,
    pub instrument: String,
    pub adopted: Option<String>,
    /// Only in the list (`rescinds`); a diff's two sides leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescinds: Option<Vec<String>>,
    pub fact: i64,
    pub sources: Vec<minewatch_domain::Citation>,
}

impl PolicySummary {
    fn of(r: &PolicyRecord, with_rescinds: bool) -> PolicySummary {
        PolicySummary {
            policy_id: r.instrument.policy_id.clone(),
            subject: r.subject.clone(),
            instrument: r.instrument.instrument.clone(),
            adopted: r.adopted.map(|d| d.to_string()),
            rescinds: with_rescinds.then(|| r.instrument.rescinds.clone()),
            fact: r.fact_id,
            sources: r.citations.clone(),
        }
    }
}

/// `GET /api/v1/policies`.
pub fn policies(engine: &Engine) -> PolicyList {
    let policies: Vec<PolicySummary> = policy_list(engine)
        .iter()
        .map(|r| PolicySummary::of(r, true))
        .collect();
    PolicyList {
        count: policies.len(),
        policies,
    }
}

fn find_policy<'a>(list: &'a [PolicyRecord], id: &str) -> Result<&'a PolicyRecord, DerivedError> {
    list.iter()
        .find(|r| r.instrument.policy_id.eq_ignore_ascii_case(id.trim()))
        .ok_or_else(|| DerivedError::NotFound {
            message: format!("no policy instrument with id {id:?}"),
            known: list
                .iter()
                .map(|r| r.instrument.policy_id.clone())
                .collect(),
        })
}

/// The two policy records and their typed diff, for renderers.
pub fn policy_diff_of(
    engine: &Engine,
    a: &str,
    b: &str,
) -> Result<(PolicyRecord, PolicyRecord, PolicyDiff), DerivedError> {
    let list = engine.policy_records();
    let (ra, rb) = (find_policy(&list, a)?, find_policy(&list, b)?);
    let d = minewatch_treaty::diff(&ra.instrument, &rb.instrument);
    Ok((ra.clone(), rb.clone(), d))
}

/// What changed from one policy to another, activity by activity (`GET
/// /api/v1/policies/{a}/diff/{b}`, `minewatch policy diff --json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyDiffAnswer {
    #[serde(flatten)]
    pub diff: PolicyDiff,
    pub from_policy: PolicySummary,
    pub to_policy: PolicySummary,
    pub alignment: DiffAlignment,
}

/// Each side's alignment with the treaty, activity by activity.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiffAlignment {
    pub from: Vec<AlignmentRow>,
    pub to: Vec<AlignmentRow>,
}

/// `GET /api/v1/policies/{a}/diff/{b}`: per activity of Art. 1, what changed from `a` to `b`.
pub fn policy_diff(engine: &Engine, a: &str, b: &str) -> Result<PolicyDiffAnswer, DerivedError> {
    let (ra, rb, d) = policy_diff_of(engine, a, b)?;
    Ok(PolicyDiffAnswer {
        diff: d,
        from_policy: PolicySummary::of(&ra, false),
        to_policy: PolicySummary::of(&rb, false),
        alignment: DiffAlignment {
            from: minewatch_treaty::alignment(&ra.instrument),
            to: minewatch_treaty::alignment(&rb.instrument),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn to_value<T: Serialize>(v: &T) -> serde_json::Result<Value> {
        serde_json::to_value(v)
    }

    /// The promise of [`build_subject_engine`]: for every subject of the shipped record and on
    /// dates across the treaty's life, its answers about the subject (status with reasons, the
    /// Art. 5 history, the UN voting record, the policies) are the whole-record engine's, and the
    /// common engine's roll-call tallies are the whole engine's.
    #[test]
    fn a_subject_engine_answers_as_the_whole_engine_does() {
        let mut store = Store::open_in_memory().expect("store");
        minewatch_import::shipped::load_subjects(&mut store).expect("subjects");
        minewatch_import::shipped::load(&mut store).expect("shipped data");
        let whole = build_engine(&store).expect("engine");
        let shared = shared_facts(&store, None).expect("shared");
        let common = build_common_engine(&store, None).expect("common");
        let dates = [
            "1998-06-01",
            "2004-03-01",
            "2010-10-18",
            "2019-12-31",
            "2026-02-20",
        ]
        .map(|d| Date::parse(d).expect("date"));
        let codes: Vec<String> = store
            .subjects()
            .expect("subjects")
            .into_iter()
            .map(|s| s.code)
            .collect();
        assert!(codes.len() > 200, "{} subjects", codes.len());
        let mut compared = 0;
        for code in &codes {
            let one = build_subject_engine(&store, code, &shared, None).expect("subject engine");
            assert!(one.facts().len() < whole.facts().len());
            for &d in &dates {
                let same = |what: &str, a: Value, b: Value| {
                    assert_eq!(
                        a, b,
                        "{what} of {code} on {d}: subject engine vs whole engine"
                    );
                };
                same(
                    "status",
                    to_value(&one.status(code, d)).expect("json"),
                    to_value(&whole.status(code, d)).expect("json"),
                );
                same(
                    "Art. 5 history",
                    to_value(&one.art5_history(code, d)).expect("json"),
                    to_value(&whole.art5_history(code, d)).expect("json"),
                );
                same(
                    "UN voting record",
                    to_value(&one.unga_record(code, d)).expect("json"),
                    to_value(&whole.unga_record(code, d)).expect("json"),
                );
                compared += 1;
            }
            let policies = |e: &Engine| {
                let v: Vec<_> = e
                    .policy_records()
                    .into_iter()
                    .filter(|r| &r.subject == code)
                    .collect();
                to_value(&v).expect("json")
            };
            assert_eq!(policies(&one), policies(&whole), "policies of {code}");
        }
        assert!(compared > 1000);
        for &d in &dates {
            assert_eq!(
                to_value(&common.unga_tallies(d)).expect("json"),
                to_value(&whole.unga_tallies(d)).expect("json"),
                "tallies on {d}"
            );
        }
    }

    /// The promise of [`Scope`]: on the shipped record, the treaty engine gives every subject's
    /// status, dates and the States Parties (both bases) as the whole engine does, and the
    /// obligations engine every obligation with its reasons, deadline, Art. 5 history and
    /// meeting.
    #[test]
    fn scoped_engines_answer_their_pages_as_the_whole_engine_does() {
        let mut store = Store::open_in_memory().expect("store");
        minewatch_import::shipped::load_subjects(&mut store).expect("subjects");
        minewatch_import::shipped::load(&mut store).expect("shipped data");
        let whole = build_engine(&store).expect("engine");
        let treaty = build_scoped_engine(&store, Scope::Treaty).expect("treaty");
        let obligations = build_scoped_engine(&store, Scope::Obligations).expect("obligations");
        assert!(treaty.facts().len() < obligations.facts().len());
        assert!(obligations.facts().len() < whole.facts().len());
        let codes: Vec<String> = store
            .subjects()
            .expect("subjects")
            .into_iter()
            .map(|s| s.code)
            .collect();
        let json = |v: &dyn erased::Ser| v.json();
        for d in [
            "1998-06-01",
            "1999-03-01",
            "2004-03-01",
            "2010-10-18",
            "2026-02-20",
        ] {
            let d = Date::parse(d).expect("date");
            for basis in [Basis::Eif, Basis::Deposit] {
                assert_eq!(
                    json(&treaty.parties(d, basis)),
                    json(&whole.parties(d, basis)),
                    "parties on {d}"
                );
            }
            assert_eq!(
                json(&treaty.counts(d, &codes)),
                json(&whole.counts(d, &codes)),
                "counts on {d}"
            );
            for code in &codes {
                let (t, w) = (treaty.status(code, d), whole.status(code, d));
                assert_eq!(
                    (t.status, t.signed, t.deposited, t.entry_into_force),
                    (w.status, w.signed, w.deposited, w.entry_into_force),
                    "{code} on {d}"
                );
                assert_eq!(treaty.status_only(code, d), whole.status_only(code, d));
                let o = obligations.status(code, d);
                assert_eq!(
                    (json(&o.obligations), json(&o.deadlines), json(&o.reasons)),
                    (json(&w.obligations), json(&w.deadlines), json(&w.reasons)),
                    "obligations of {code} on {d}"
                );
            }
            assert_eq!(
                json(&obligations.deadlines(d, None, false)),
                json(&whole.deadlines(d, None, false)),
                "deadlines on {d}"
            );
            assert_eq!(
                json(&obligations.article5(d)),
                json(&whole.article5(d)),
                "Art. 5 on {d}"
            );
            for m in whole.meetings() {
                assert_eq!(
                    json(&obligations.meeting_decisions(&m.code, d)),
                    json(&whole.meeting_decisions(&m.code, d))
                );
                assert_eq!(
                    json(&obligations.meeting_attendance(&m.code, d)),
                    json(&whole.meeting_attendance(&m.code, d))
                );
            }
        }
        assert_eq!(json(&obligations.meetings()), json(&whole.meetings()));
    }

    /// Serialisable values of different types compared as JSON.
    mod erased {
        pub trait Ser {
            fn json(&self) -> serde_json::Value;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> serde_json::Value {
                serde_json::to_value(self).expect("json")
            }
        }
    }
}
