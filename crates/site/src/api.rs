//! The JSON API's read handlers (`/api/v1/...`): states, facts, sources, status, parties,
//! deadlines, classification, policies and UN roll calls. Writes (proposals) belong to the desk.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use minewatch_answers::derived;
use minewatch_answers::json;
use minewatch_domain::fact::Vote;
use minewatch_domain::{Date, FactKind, Payload};
use minewatch_store::FactFilter;
use minewatch_web::{blocking, quoted, ApiError, ApiResult, App, ErrorBody, ErrorExtra};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// One state's recorded votes in a roll call: distinct votes, the facts, the name in the source.
type StateVotes = (Vec<Vote>, Vec<i64>, Option<String>);

pub fn find_subject<'a>(
    app: &'a App,
    code: &str,
) -> Result<&'a minewatch_domain::Subject, ApiError> {
    app.gazetteer().by_code(code).ok_or_else(|| {
        let closest = app.gazetteer().closest(&minewatch_domain::normalize_name(code), 3);
        let mut e = ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown state or area code {}; expected an ISO 3166 alpha-2 or alpha-3 code (any case)", quoted(code)),
        );
        e.extra = Some(ErrorExtra::Closest {
            closest: closest
                .iter()
                .map(|(c, n)| json::SubjectRef {
                    code: c.clone(),
                    name: n.clone(),
                })
                .collect(),
        });
        e
    })
}

/// Parses `as_of` (`YYYY-MM-DD`), or says why not. Given, it must be a date: the API reads
/// exactly what its OpenAPI document describes (an empty or padded value is refused).
pub fn parse_as_of(v: Option<&str>) -> Result<Option<Date>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => Date::parse(s).map(Some).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("as_of: {e}; expected a calendar date YYYY-MM-DD"),
            )
        }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatesQuery {
    /// Only subjects of this kind.
    #[param(value_type = Option<minewatch_domain::SubjectKind>)]
    kind: Option<String>,
}

/// Every state, territory, other area, historical entity and armed group the record knows.
#[utoipa::path(get, path = "/api/v1/states", tag = "states", params(StatesQuery),
    responses((status = 200, description = "The subjects", body = json::SubjectList),
        (status = 400, description = "An unknown kind", body = ErrorBody)))]
pub async fn states(
    State(app): State<Arc<App>>,
    Query(q): Query<StatesQuery>,
) -> ApiResult<json::SubjectList> {
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(minewatch_domain::SubjectKind::parse(k).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "kind: {k:?} is not a kind of subject; expected state, territory, other_area, historical, armed_group or world"
                ),
            )
        })?),
    };
    let list: Vec<json::SubjectInfo> = app
        .gazetteer()
        .subjects()
        .iter()
        .filter(|s| kind.is_none_or(|k| s.kind == k))
        .map(json::subject)
        .collect();
    Ok(Json(json::SubjectList {
        count: list.len(),
        states: list,
    }))
}

/// One subject, with the number of facts recorded about it by kind.
#[utoipa::path(get, path = "/api/v1/states/{code}", tag = "states", params(CodeParam),
    responses((status = 200, description = "The subject", body = json::SubjectAnswer),
        (status = 404, description = "No subject with that code (with the closest ones)", body = ErrorBody)))]
pub async fn state(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> ApiResult<json::SubjectAnswer> {
    let s = find_subject(&app, &code)?.clone();
    let code = s.code.clone();
    let counts = blocking(app, move |app| {
        app.with_store(|store| {
            let facts = store.facts(&FactFilter {
                subject: Some(code.clone()),
                ..FactFilter::default()
            })?;
            let mut counts = json::FactCounts {
                facts: facts.len(),
                ..json::FactCounts::default()
            };
            for f in &facts {
                *counts.by_kind.entry(f.fact.kind().as_str()).or_insert(0) += 1;
            }
            Ok(counts)
        })
    })
    .await?;
    Ok(Json(json::SubjectAnswer {
        subject: json::subject(&s),
        counts,
        links: json::SubjectLinks {
            facts: format!("/api/v1/states/{}/facts", s.code),
        },
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FactsQuery {
    /// Only facts valid on this day (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// Only facts of this kind.
    #[param(value_type = Option<minewatch_domain::FactKind>)]
    kind: Option<String>,
}

/// A subject's code in a path: ISO 3166 alpha-2 or alpha-3 (any case), or a minewatch code
/// (`XKX`, `WLD`, `NSAG-...`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodeParam {
    /// The subject's code.
    #[allow(dead_code)]
    #[param(pattern = "^[A-Za-z0-9-]{1,64}$", example = "UKR")]
    code: String,
}

/// The facts recorded about a subject, each with its sources (current facts only: superseded
/// and retracted ones are in a fact's history).
#[utoipa::path(get, path = "/api/v1/states/{code}/facts", tag = "facts", params(CodeParam, FactsQuery),
    responses((status = 200, description = "The subject's facts", body = json::SubjectFacts),
        (status = 400, description = "A malformed as_of or an unknown kind", body = ErrorBody),
        (status = 404, description = "No subject with that code (with the closest ones)", body = ErrorBody)))]
pub async fn state_facts(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
    Query(q): Query<FactsQuery>,
) -> ApiResult<json::SubjectFacts> {
    let s = find_subject(&app, &code)?.clone();
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(FactKind::parse(k).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "kind: unknown fact kind {k:?}; expected one of: {}",
                    FactKind::expected()
                ),
            )
        })?),
    };
    let code = s.code.clone();
    let facts = blocking(app, move |app| {
        app.with_store(|store| {
            let facts = store.facts(&FactFilter {
                subject: Some(code),
                kind,
                as_of,
                recorded_by_time: None,
                up_to_fact: None,
                except_kinds: &[],
            })?;
            json::facts_with_sources(store, &facts).map_err(ApiError::from)
        })
    })
    .await?;
    Ok(Json(json::SubjectFacts {
        state: json::SubjectRef {
            code: s.code,
            name: s.name,
        },
        as_of: as_of.map(|d| d.to_string()),
        kind: kind.map(|k| k.as_str()),
        count: facts.len(),
        facts,
    }))
}

/// One fact with its sources, what superseded it and the history of its key.
#[utoipa::path(get, path = "/api/v1/facts/{id}", tag = "facts",
    params(("id" = i64, Path, description = "The fact's id")),
    responses((status = 200, description = "The fact", body = json::FactAnswer),
        (status = 400, description = "The id is not a whole number", body = ErrorBody),
        (status = 404, description = "No fact with that id", body = ErrorBody)))]
pub async fn fact(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<json::FactAnswer> {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("fact id {id:?}: expected a whole number"),
        )
    })?;
    blocking(app, move |app| {
        app.with_store(|store| {
            let rec = store.fact(id)?.ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, format!("no fact with id {id}"))
            })?;
            let history = store.history(&rec.key)?;
            let fact = json::facts_with_sources(store, std::slice::from_ref(&rec))?
                .pop()
                .ok_or_else(|| {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the fact vanished")
                })?;
            Ok(Json(json::FactAnswer {
                fact,
                superseded_by: rec.superseded_by,
                history: history
                    .iter()
                    .map(|h| json::HistoryEntry {
                        id: h.fact.id,
                        recorded_at: h.fact.recorded_at.clone(),
                        recorded_by: h.fact.recorded_by.clone(),
                        supersedes: h.fact.supersedes,
                        kind: h.fact.kind().as_str(),
                    })
                    .collect(),
            }))
        })
    })
    .await
}

/// Every source the record cites.
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources",
    responses((status = 200, description = "The sources", body = json::SourceList)))]
pub async fn sources(State(app): State<Arc<App>>) -> ApiResult<json::SourceList> {
    blocking(app, |app| {
        app.with_store(|store| {
            let list: Vec<json::SourceInfo> = store
                .sources()?
                .iter()
                .map(|s| json::source(&s.source))
                .collect();
            Ok(Json(json::SourceList::new(list)))
        })
    })
    .await
}

/// One source with the facts that cite it.
#[utoipa::path(get, path = "/api/v1/sources/{key}", tag = "sources",
    params(("key" = String, Path, description = "The source's key", pattern = "^[a-z0-9][a-z0-9-]{0,199}$", example = "lm-2010-usa")),
    responses((status = 200, description = "The source and the facts citing it", body = json::SourceWithFacts),
        (status = 404, description = "No source with that key", body = ErrorBody)))]
pub async fn source(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
) -> ApiResult<json::SourceWithFacts> {
    blocking(app, move |app| {
        app.with_store(|store| {
            let s = store.source(&key)?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no source with key {key:?}; list them at /api/v1/sources"),
                )
            })?;
            let facts = store.facts_citing(&key)?;
            Ok(Json(json::SourceWithFacts {
                source: json::source(&s.source),
                recorded_at: Some(s.recorded_at),
                facts: json::facts_with_sources(store, &facts)?,
            }))
        })
    })
    .await
}

/// A recorded UN General Assembly roll call: its published tally, every recorded vote, and
/// whether the votes add up to the tally.
#[utoipa::path(get, path = "/api/v1/unga/{session}/{number}", tag = "votes",
    params(("session" = String, Path, description = "The session (`64` of resolution 64/56)", pattern = "^[0-9]{1,4}$", example = "64"),
        ("number" = String, Path, description = "The resolution's number in its session (`56`)", pattern = "^[0-9]{1,4}$", example = "56")),
    responses((status = 200, description = "The roll call", body = json::RollCallAnswer),
        (status = 404, description = "No roll call recorded on that resolution (with the recorded ones)", body = ErrorBody)))]
pub async fn unga(
    State(app): State<Arc<App>>,
    Path((session, number)): Path<(String, String)>,
) -> ApiResult<json::RollCallAnswer> {
    let resolution = format!("{session}/{number}");
    blocking(app, move |app| {
        app.with_store(|store| {
            let calls = store.facts(&FactFilter {
                kind: Some(FactKind::UngaRollCall),
                ..FactFilter::default()
            })?;
            let call = calls.iter().find(|f| match &f.fact.payload {
                Payload::UngaRollCall(r) => r.resolution.eq_ignore_ascii_case(&resolution),
                _ => false,
            });
            let Some(call) = call else {
                let known: Vec<String> = calls
                    .iter()
                    .filter_map(|f| match &f.fact.payload {
                        Payload::UngaRollCall(r) => Some(r.resolution.clone()),
                        _ => None,
                    })
                    .collect();
                let mut e = ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no recorded roll call on resolution {resolution}"),
                );
                e.extra = Some(ErrorExtra::RecordedResolutions {
                    recorded_resolutions: known,
                });
                return Err(e);
            };
            let Payload::UngaRollCall(rc) = &call.fact.payload else {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "roll call payload",
                ));
            };
            let votes = store.facts(&FactFilter {
                kind: Some(FactKind::UngaVote),
                ..FactFilter::default()
            })?;
            // One vote per state: several facts (sources) may record the same vote.
            let mut by_state: std::collections::BTreeMap<String, StateVotes> =
                std::collections::BTreeMap::new();
            for v in &votes {
                let Payload::UngaVote(p) = &v.fact.payload else {
                    continue;
                };
                if p.rcid != Some(rc.rcid) {
                    continue;
                }
                let e = by_state.entry(v.fact.subject.clone()).or_default();
                if !e.0.contains(&p.vote) {
                    e.0.push(p.vote);
                }
                e.1.push(v.fact.id);
                if e.2.is_none() {
                    e.2.clone_from(&p.name_in_source);
                }
            }
            let mut list = Vec::new();
            let (mut yes, mut no, mut abstain, mut non_voting) = (0u32, 0u32, 0u32, 0u32);
            let mut conflicts = Vec::new();
            for (code, (recorded, facts, name_in_source)) in &by_state {
                if recorded.len() > 1 {
                    conflicts.push(json::ConflictingVotes {
                        code: code.clone(),
                        votes: recorded.iter().map(|v| v.as_str()).collect(),
                        facts: facts.clone(),
                    });
                    continue;
                }
                let Some(vote) = recorded.first() else {
                    continue;
                };
                match vote {
                    Vote::Yes => yes += 1,
                    Vote::No => no += 1,
                    Vote::Abstain => abstain += 1,
                    Vote::NonVoting => non_voting += 1,
                }
                let name = app.gazetteer().by_code(code).map(|s| s.name.clone());
                list.push(json::StateVote {
                    code: code.clone(),
                    name,
                    name_in_source: name_in_source.clone(),
                    vote: vote.as_str(),
                    facts: facts.clone(),
                });
            }
            let roll_call = json::facts_with_sources(store, std::slice::from_ref(call))?;
            Ok(Json(json::RollCallAnswer {
                resolution: rc.resolution.clone(),
                session: rc.session,
                rcid: rc.rcid,
                date: call.fact.valid_from.map(|d| d.to_string()),
                topic: rc.topic.clone(),
                tally: json::Tally {
                    yes: rc.yes,
                    no: rc.no,
                    abstain: rc.abstain,
                    non_voting: rc.non_voting,
                    members: rc.members,
                },
                recorded_votes: json::RecordedTally {
                    yes,
                    no,
                    abstain,
                    non_voting,
                    total: yes + no + abstain,
                },
                // A published non-voting total is compared too.
                tally_matches_recorded_votes: (rc.yes, rc.no, rc.abstain) == (yes, no, abstain)
                    && rc.non_voting.is_none_or(|n| n == non_voting),
                votes: list,
                conflicting_votes: conflicts,
                roll_call_fact: roll_call.into_iter().next(),
            }))
        })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The day (YYYY-MM-DD); today when absent.
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
}

/// `as_of` from the query, today when absent.
pub fn as_of_or_today(v: Option<&str>) -> Result<Date, ApiError> {
    match parse_as_of(v)? {
        Some(d) => Ok(d),
        None => Ok(derived::today()?),
    }
}

/// A subject's treaty status on a day, with its reasons, obligations and findings.
#[utoipa::path(get, path = "/api/v1/states/{code}/status", tag = "treaty", params(CodeParam, AsOfQuery),
    responses((status = 200, description = "The status", body = derived::StatusAnswer),
        (status = 400, description = "A malformed as_of", body = ErrorBody),
        (status = 404, description = "No subject with that code (with the closest ones)", body = ErrorBody)))]
pub async fn state_status(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<derived::StatusAnswer> {
    let s = find_subject(&app, &code)?.clone();
    let as_of = as_of_or_today(q.as_of.as_deref())?;
    blocking(app, move |app| {
        let engine = app.with_store(|store| app.subject_engine(store, &s.code))?;
        Ok(Json(derived::status(&engine, &s, as_of)))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartiesQuery {
    /// The day (YYYY-MM-DD); today when absent.
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// `eif`: bound (the treaty in force for it); `deposit`: its instrument deposited. `eif` when absent.
    #[param(value_type = Option<minewatch_treaty::counts::Basis>)]
    basis: Option<String>,
}

/// The States Parties on a day, on one basis, with the other basis's count beside it.
#[utoipa::path(get, path = "/api/v1/parties", tag = "treaty", params(PartiesQuery),
    responses((status = 200, description = "The States Parties", body = derived::PartiesAnswer),
        (status = 400, description = "A malformed as_of or an unknown basis", body = ErrorBody)))]
pub async fn parties(
    State(app): State<Arc<App>>,
    Query(q): Query<PartiesQuery>,
) -> ApiResult<derived::PartiesAnswer> {
    let as_of = as_of_or_today(q.as_of.as_deref())?;
    let basis = derived::parse_basis(q.basis.as_deref().unwrap_or("eif"))?;
    app.with_scoped_engine(derived::Scope::Treaty, move |_, engine| {
        Ok(Json(derived::parties(engine, as_of, basis)))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlinesQuery {
    /// The day (YYYY-MM-DD); today when absent.
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// Only this state's deadlines (a code).
    #[param(pattern = "^[A-Za-z0-9-]{0,64}$")]
    state: Option<String>,
    /// Only deadlines that have passed unmet.
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
}

/// A boolean query parameter: `true` or `false`, as the OpenAPI document says; absent is false.
pub fn parse_flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{name}: {other:?} is not a yes/no value; expected true or false"),
        )),
    }
}

/// The Article 4 and 5 deadlines on a day: original, extended, met, missed.
#[utoipa::path(get, path = "/api/v1/deadlines", tag = "treaty", params(DeadlinesQuery),
    responses((status = 200, description = "The deadlines", body = derived::DeadlinesAnswer),
        (status = 400, description = "A malformed as_of or overdue", body = ErrorBody),
        (status = 404, description = "No subject with that state code (with the closest ones)", body = ErrorBody)))]
pub async fn deadlines(
    State(app): State<Arc<App>>,
    Query(q): Query<DeadlinesQuery>,
) -> ApiResult<derived::DeadlinesAnswer> {
    let as_of = as_of_or_today(q.as_of.as_deref())?;
    let overdue = parse_flag("overdue", q.overdue.as_deref())?;
    let state = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => Some(find_subject(&app, code)?.clone()),
    };
    app.with_scoped_engine(derived::Scope::Obligations, move |_, engine| {
        Ok(Json(derived::deadlines(
            engine,
            as_of,
            state.as_ref(),
            overdue,
        )))
    })
    .await
}

/// The body is a device description, or `{"device": {...}, "definitions": [...]}` to add
/// alternative definitions; `as_of` picks the date for the policies in force.
#[utoipa::path(post, path = "/api/v1/classify", tag = "policies", params(AsOfQuery),
    request_body(content = derived::ClassifyRequest, content_type = "application/json",
        description = "A device, or a device with alternative definitions"),
    responses((status = 200, description = "The device's classification under each definition and policy", body = derived::ClassificationAnswer),
        (status = 400, description = "A body that is not a device description, or a malformed as_of", body = ErrorBody),
        (status = 413, description = "A body over the size limit", body = ErrorBody)))]
pub async fn classify(
    State(app): State<Arc<App>>,
    Query(q): Query<AsOfQuery>,
    body: String,
) -> ApiResult<derived::ClassificationAnswer> {
    let on = as_of_or_today(q.as_of.as_deref())?;
    let (device, extra) = derived::parse_classify_body(&body)?;
    app.with_scoped_engine(derived::Scope::Whole, move |_, engine| {
        Ok(Json(derived::classification(engine, &device, on, extra)?))
    })
    .await
}

/// The recorded national policies (instruments) of non-parties.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    responses((status = 200, description = "The policies", body = derived::PolicyList)))]
pub async fn policies(State(app): State<Arc<App>>) -> ApiResult<derived::PolicyList> {
    app.with_scoped_engine(derived::Scope::Whole, |_, engine| {
        Ok(Json(derived::policies(engine)))
    })
    .await
}

/// What changed between two policies, provision by provision.
#[utoipa::path(get, path = "/api/v1/policies/{a}/diff/{b}", tag = "policies",
    params(("a" = String, Path, description = "The earlier policy's id", pattern = "^[a-z0-9][a-z0-9-]{0,99}$", example = "us-2004-bush"),
        ("b" = String, Path, description = "The later policy's id", pattern = "^[a-z0-9][a-z0-9-]{0,99}$", example = "us-2014-09-obama")),
    responses((status = 200, description = "The difference", body = derived::PolicyDiffAnswer),
        (status = 404, description = "An unknown policy id (with the known ones)", body = ErrorBody)))]
pub async fn policy_diff(
    State(app): State<Arc<App>>,
    Path((a, b)): Path<(String, String)>,
) -> ApiResult<derived::PolicyDiffAnswer> {
    app.with_scoped_engine(derived::Scope::Whole, move |_, engine| {
        Ok(Json(derived::policy_diff(engine, &a, &b)?))
    })
    .await
}
