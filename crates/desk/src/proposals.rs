//! The editorial desk: editors propose facts, corrections, retractions and whole imports; a
//! different editor approves them (four eyes). Every proposal is stored as what it will import —
//! an importer's name and a file — and is checked by that importer (a dry run) when proposed and
//! imported for real, all-or-nothing, when approved. The publication's events and outbox rows
//! commit in the same transaction as its facts.
//!
//! The public fact page (`/facts/{id}`) shows a fact's history: every version, who proposed it and
//! who approved it, and what it superseded.

use crate::answers::{ProposalAnswer, ProposalBrief, ProposalDecided, ProposalList};
use crate::auth::{csrf_field, private_page, see_other, CsrfOnly, Denied, Visitor};
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use minewatch_answers::describe::sentence;
use minewatch_domain::fact::*;
use minewatch_domain::{Fact, FactKind, Payload};
use minewatch_import::{import_reader, import_reader_then, ImportError, Kind, Options};
use minewatch_store::{now_secs, FactRecord, NewProposal, Proposal, ProposalAction, Role, Store};
use minewatch_web::html::{html, layout, table, Markup, Page};
use minewatch_web::{blocking, ApiError, ApiResult, App, ErrorBody, ErrorExtra};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Largest file an editor may upload for import.
pub const IMPORT_MAX_BYTES: usize = 16 * 1024 * 1024;

pub use minewatch_store::failpoint;

// ---- kind-specific fields -----------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Ty {
    Text,
    Long,
    Date,
    Int,
    Num,
    Flag,
    Choice(Vec<&'static str>),
    /// JSON (a policy's list of provisions).
    Json,
    /// `|`-separated list of words.
    List,
}

#[derive(Debug, Clone)]
struct Field {
    name: &'static str,
    label: &'static str,
    ty: Ty,
    required: bool,
}

fn f(name: &'static str, label: &'static str, ty: Ty, required: bool) -> Field {
    Field {
        name,
        label,
        ty,
        required,
    }
}

fn words(all: &[&'static str]) -> Ty {
    Ty::Choice(all.to_vec())
}

macro_rules! choice {
    ($t:ty) => {
        Ty::Choice(<$t>::ALL.iter().map(|v| v.as_str()).collect())
    };
}

/// The payload fields of a kind, as the form asks for them.
fn fields(kind: FactKind) -> Vec<Field> {
    use FactKind as K;
    match kind {
        K::TreatyAction => vec![
            f("action", "Action", choice!(TreatyActionType), true),
            f(
                "method",
                "Method (deposits only)",
                choice!(DepositMethod),
                false,
            ),
            f(
                "date_inferred",
                "Date inferred by the source",
                Ty::Flag,
                false,
            ),
            f(
                "succession_date",
                "Date of State succession (succession only)",
                Ty::Date,
                false,
            ),
            f(
                "dated_as_accession",
                "Source dates entry into force like an accession (succession only)",
                Ty::Flag,
                false,
            ),
        ],
        K::ArmedConflict => vec![f("description", "Description", Ty::Long, true)],
        K::Art5Event => vec![
            f("event", "Event", choice!(Art5EventType), true),
            f("meeting", "Meeting (12MSP, 2RC)", Ty::Text, false),
            f("inferred", "Meeting or date inferred", Ty::Flag, false),
            f("requested", "Requested (date)", Ty::Date, false),
            f("decided", "Decided (date)", Ty::Date, false),
            f("new_deadline", "New deadline (date)", Ty::Date, false),
        ],
        K::Art4Event => vec![
            f("event", "Event", choice!(Art4EventType), true),
            f("destroyed", "Mines destroyed", Ty::Int, false),
            f("retained", "Mines retained", Ty::Int, false),
            f(
                "stockpile",
                "Stockpile (reported or remaining)",
                Ty::Int,
                false,
            ),
        ],
        K::Meeting => vec![
            f("code", "Code (12MSP, 2RC)", Ty::Text, true),
            f("name", "Name", Ty::Text, true),
            f("city", "City", Ty::Text, false),
        ],
        K::Art7Report => vec![
            f("initial", "Initial report (Art. 7.1)", Ty::Flag, false),
            f("year_covered", "Year covered", Ty::Int, false),
            f(
                "not_submitted",
                "Recorded as NOT submitted",
                Ty::Flag,
                false,
            ),
            f("wording", "The source's words", Ty::Text, false),
        ],
        K::Legislation => vec![
            f("title", "Title", Ty::Text, true),
            f(
                "status",
                "Status",
                words(&[
                    "adopted",
                    "in_progress",
                    "existing_law_deemed_sufficient",
                    "none",
                ]),
                true,
            ),
        ],
        K::UngaRollCall => vec![
            f("rcid", "Roll-call id", Ty::Int, true),
            f("session", "Session", Ty::Int, true),
            f("resolution", "Resolution", Ty::Text, true),
            f("topic", "Topic", Ty::Text, true),
            f("yes", "Yes", Ty::Int, true),
            f("no", "No", Ty::Int, true),
            f("abstain", "Abstain", Ty::Int, true),
        ],
        K::UngaVote => vec![
            f("rcid", "Roll-call id", Ty::Int, false),
            f("resolution", "Resolution", Ty::Text, true),
            f("vote", "Vote", choice!(Vote), true),
            f("name_in_source", "Name in the source", Ty::Text, false),
        ],
        K::MeetingParticipation => vec![
            f("meeting", "Meeting", Ty::Text, true),
            f("role", "Role", choice!(MeetingRole), true),
        ],
        K::MineActivity => vec![
            f("activity", "Activity", choice!(MineActivityType), true),
            f("actor", "Actor (when not the state)", Ty::Text, false),
            f("certainty", "Certainty", choice!(Certainty), true),
            f("last_known", "Last known instance", Ty::Flag, false),
            f("quantity", "Quantity", Ty::Int, false),
            f("detail", "Detail", Ty::Long, true),
            f("actor_type", "Actor type", choice!(ActorType), false),
            f("actor_state", "Actor's state (code)", Ty::Text, false),
            f("report_edition", "Report edition (LM2025)", Ty::Text, false),
            f("period", "Reporting period", Ty::Text, false),
            f("place", "Place", Ty::Text, false),
        ],
        K::StockpileCount => vec![
            f("mine_type", "Mine type", Ty::Text, true),
            f("measure", "Measure", choice!(StockpileMeasure), true),
            f("quantity", "Quantity", Ty::Int, true),
        ],
        K::PolicyInstrument => vec![
            f("policy_id", "Policy id", Ty::Text, true),
            f("instrument", "Instrument", Ty::Text, true),
            f("provisions", "Provisions (JSON list)", Ty::Json, true),
            f(
                "rescinds",
                "Rescinds (policy ids, separated by |)",
                Ty::List,
                false,
            ),
        ],
        K::HeadlineFigure => vec![
            f("metric", "Metric", Ty::Text, true),
            f("value", "Value", Ty::Num, true),
            f("unit", "Unit", Ty::Text, true),
            f("basis", "Basis", Ty::Text, false),
            f("data_year", "Data year", Ty::Int, true),
            f("report_edition", "Report edition (year)", Ty::Int, true),
        ],
        K::Development => vec![
            f("topic", "Profile section", Ty::Text, true),
            f("summary", "Summary", Ty::Long, true),
        ],
        K::Retraction => vec![f("reason", "Reason", Ty::Long, true)],
        K::CasualtyFigure => vec![
            f("data_year", "Data year", Ty::Int, true),
            f(
                "first_year",
                "First year (cumulative figures)",
                Ty::Int,
                false,
            ),
            f("report_edition", "Report edition (LM2025)", Ty::Text, true),
            f("edition_year", "Edition year", Ty::Int, true),
            f("killed", "Killed", Ty::Int, false),
            f("injured", "Injured", Ty::Int, false),
            f("total", "Total", Ty::Int, false),
            f("total_less_than", "Fewer than (a bound)", Ty::Int, false),
            f("civilians", "Civilians", Ty::Int, false),
            f("children", "Children", Ty::Int, false),
        ],
    }
}

/// The form's values for a payload (to prefill a correction).
fn payload_values(p: &Payload) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Value::Object(m) = p.to_value() {
        for (k, v) in m {
            let s = match v {
                Value::String(s) => s,
                Value::Bool(true) => "on".into(),
                Value::Bool(false) | Value::Null => String::new(),
                Value::Array(a) if a.iter().all(Value::is_string) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("|"),
                other => serde_json::to_string_pretty(&other).unwrap_or_default(),
            };
            out.insert(k, s);
        }
    }
    out
}

type Problems = Vec<(String, String)>;

/// Builds the payload from form values: typed, then checked by the domain's own reader.
fn payload_from(
    kind: FactKind,
    form: &HashMap<String, String>,
    problems: &mut Problems,
) -> Option<Payload> {
    let mut obj = Map::new();
    for fld in fields(kind) {
        let raw = form.get(fld.name).map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            if fld.required && !matches!(fld.ty, Ty::Flag) {
                problems.push((fld.name.into(), "required; expected a value".into()));
            }
            continue;
        }
        let v = match &fld.ty {
            Ty::Text | Ty::Long | Ty::Date => Value::String(raw.into()),
            Ty::Int => match raw.replace(',', "").parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    problems.push((fld.name.into(), format!("{raw:?}: expected a whole number")));
                    continue;
                }
            },
            Ty::Num => match raw.replace(',', "").parse::<f64>() {
                Ok(n) if n.is_finite() => json!(n),
                _ => {
                    problems.push((fld.name.into(), format!("{raw:?}: expected a number")));
                    continue;
                }
            },
            Ty::Flag => Value::Bool(matches!(raw, "on" | "true" | "yes" | "1")),
            Ty::Choice(options) => {
                if !options.contains(&raw) {
                    problems.push((
                        fld.name.into(),
                        format!("{raw:?}: expected one of: {}", options.join(", ")),
                    ));
                    continue;
                }
                Value::String(raw.into())
            }
            Ty::Json => match serde_json::from_str::<Value>(raw) {
                Ok(v) => v,
                Err(e) => {
                    problems.push((fld.name.into(), format!("not valid JSON ({e})")));
                    continue;
                }
            },
            Ty::List => Value::Array(
                raw.split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect(),
            ),
        };
        obj.insert(fld.name.into(), v);
    }
    if !problems.is_empty() {
        return None;
    }
    match Payload::from_value(kind, Value::Object(obj)) {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push(("payload".into(), e.to_string()));
            None
        }
    }
}

/// A form's fact, ready to import: the facts document and what it does in words.
struct Built {
    action: ProposalAction,
    subject: String,
    target: Option<i64>,
    doc: Value,
    summary: String,
}

fn opt(form: &HashMap<String, String>, k: &str) -> Option<String> {
    form.get(k)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Reads a proposal form into a facts document (one fact, and a new source if one was given).
fn build(
    app: &App,
    form: &HashMap<String, String>,
    target: Option<&FactRecord>,
) -> Result<Built, Problems> {
    let mut problems = Problems::new();
    let action = match form.get("action").map(String::as_str) {
        Some("correct") if target.is_some() => ProposalAction::Correct,
        Some("retract") if target.is_some() => ProposalAction::Retract,
        Some("add") | None if target.is_none() => ProposalAction::Add,
        other => {
            return Err(vec![(
                "action".into(),
                format!(
                "{other:?}: expected add (no target fact), correct or retract (with a target fact)"
            ),
            )])
        }
    };
    let kind = match action {
        ProposalAction::Retract => Some(FactKind::Retraction),
        _ => match form
            .get("kind")
            .map(String::as_str)
            .and_then(FactKind::parse)
        {
            Some(FactKind::Retraction) => {
                problems.push(("kind".into(), "retract a fact from its page instead".into()));
                None
            }
            Some(k) => Some(k),
            None => {
                problems.push((
                    "kind".into(),
                    format!("expected one of: {}", FactKind::expected()),
                ));
                None
            }
        },
    };
    let subject = match (target, opt(form, "subject")) {
        (Some(t), _) => Some(t.fact.subject.clone()),
        (None, Some(s)) => match app.gazetteer().resolve(&s) {
            Ok(sub) => Some(sub.code.clone()),
            Err(e) => {
                problems.push(("subject".into(), e.to_string()));
                None
            }
        },
        (None, None) => {
            problems.push((
                "subject".into(),
                "required; expected a state's name or code".into(),
            ));
            None
        }
    };
    let payload = kind.and_then(|k| payload_from(k, form, &mut problems));
    let mut sources = opt(form, "sources").unwrap_or_default();
    let mut doc_sources = Vec::new();
    if let Some(key) = opt(form, "new_source_key") {
        let title = opt(form, "new_source_title");
        if title.is_none() {
            problems.push((
                "new_source_title".into(),
                "required with a new source key".into(),
            ));
        }
        doc_sources.push(json!({
            "key": key,
            "title": title.unwrap_or_default(),
            "publisher": opt(form, "new_source_publisher"),
            "published": opt(form, "new_source_published"),
            "url": opt(form, "new_source_url"),
        }));
        if !sources
            .split(';')
            .any(|c| c.trim().split('#').next() == Some(key.as_str()))
        {
            sources = if sources.is_empty() {
                key.clone()
            } else {
                format!("{sources}; {key}")
            };
        }
    }
    if sources.is_empty() {
        problems.push((
            "sources".into(),
            "required; expected one or more source keys (key or key#page, separated by ;) — a claim without a source is not a fact".into(),
        ));
    }
    let (Some(subject), Some(payload), true) = (subject, payload, problems.is_empty()) else {
        return Err(problems);
    };
    let (valid_from, valid_to) = match (action, target) {
        (ProposalAction::Retract, Some(t)) => (
            t.fact.valid_from.map(|d| d.to_string()),
            t.fact.valid_to.map(|d| d.to_string()),
        ),
        _ => (opt(form, "valid_from"), opt(form, "valid_to")),
    };
    let key = match target {
        Some(t) => Some(t.key.clone()),
        None => opt(form, "key"),
    };
    let name = app
        .gazetteer()
        .by_code(&subject)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| subject.clone());
    let summary = match (action, target) {
        (ProposalAction::Retract, Some(t)) => {
            format!("Retract fact {} ({})", t.fact.id, sentence(&t.fact, &name))
        }
        (ProposalAction::Correct, Some(t)) => {
            format!("Correct fact {} ({})", t.fact.id, sentence(&t.fact, &name))
        }
        _ => format!("Add a {} fact about {name}", payload.kind().as_str()),
    };
    let fact = json!({
        "key": key,
        "subject": subject,
        "kind": payload.kind().as_str(),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "payload": payload.to_value(),
        "sources": sources.split(';').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "note": opt(form, "note"),
        "supersedes": target.map(|t| t.fact.id),
    });
    Ok(Built {
        action,
        subject,
        target: target.map(|t| t.fact.id),
        doc: json!({"sources": doc_sources, "facts": [fact]}),
        summary: opt(form, "review_note")
            .map(|s| format!("{summary}: {s}"))
            .unwrap_or(summary),
    })
}

/// Checks a proposal with its importer (a dry run: every problem, nothing written) and records it.
/// `name` is how problems name the file (`sources.csv:2:1: ...`).
fn check_and_propose(
    store: &mut Store,
    p: &NewProposal,
    name: &str,
    by: i64,
    by_name: &str,
) -> Result<i64, ApiError> {
    // A correction or retraction names a fact of the record; an unknown one is the caller's
    // mistake (404), not a database error.
    if let Some(target) = p.target_fact {
        if store.fact(target)?.is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("target_fact: no fact with id {target}"),
            ));
        }
    }
    dry_run(
        store,
        &p.importer,
        name,
        &p.body,
        by_name,
        "nothing was proposed",
    )?;
    Ok(store.propose(p, by)?)
}

/// Imports `body` with a proposal's importer (`name` or `name:source`) in a dry run (nothing is
/// written): what approving it would do, or every problem found (`outcome` says what did not
/// happen because of them).
fn dry_run(
    store: &mut Store,
    importer: &str,
    name: &str,
    body: &str,
    by_name: &str,
    outcome: &str,
) -> Result<minewatch_import::Report, ApiError> {
    let (importer, source) = importer_and_source(importer);
    let kind = Kind::by_name(importer).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "importer {:?}: expected one of: {}",
                importer,
                minewatch_import::KINDS
                    .iter()
                    .map(|k| k.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let opts = Options {
        dry_run: true,
        recorded_by: by_name.into(),
        progress: false,
        default_source: source.map(String::from),
        ..Options::default()
    };
    match import_reader(store, kind, name, body.as_bytes(), 0, &opts) {
        Ok(report) => Ok(report),
        Err(ImportError::Invalid { problems, more }) => {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{} problem(s) found; {outcome}", problems.len() + more),
            );
            e.extra = Some(ErrorExtra::Problems {
                problems: problems.iter().map(|p| p.to_string()).collect(),
            });
            Err(e)
        }
        Err(ImportError::Store(e)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
        )),
        Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

/// Publishes a proposal: imports it for real and records the publication (events, outbox) in the
/// same transaction. Refuses the proposal's own author.
fn approve_in(
    app: &App,
    store: &mut Store,
    id: i64,
    approver: &minewatch_store::User,
) -> Result<Proposal, ApiError> {
    let p = store
        .proposal(id)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no proposal {id}")))?;
    if p.status != "pending" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("proposal {id} is already {}", p.status),
        ));
    }
    if p.proposed_by.eq_ignore_ascii_case(&approver.username) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "four eyes: a proposal must be approved by an editor other than its author",
        ));
    }
    let (importer, source) = importer_and_source(&p.importer);
    let kind = Kind::by_name(importer).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("proposal {id} names unknown importer {importer:?}"),
        )
    })?;
    let opts = Options {
        dry_run: false,
        recorded_by: format!("{}, approved by {}", p.proposed_by, approver.username),
        progress: false,
        default_source: source.map(String::from),
        ..Options::default()
    };
    let approver_id = approver.id;
    let r = import_reader_then(
        store,
        kind,
        &format!("proposal {id}"),
        p.body.as_bytes(),
        0,
        &opts,
        |batch| {
            batch.publish(id, approver_id, now_secs())?;
            failpoint("approve-before-commit");
            Ok(())
        },
    );
    match r {
        Ok(_) => {
            app.outbox_wake.notify_one();
            Ok(store.proposal(id)?.unwrap_or(p))
        }
        Err(ImportError::Invalid { problems, more }) => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                format!("the record changed since this was proposed: {} problem(s); nothing was published", problems.len() + more),
            );
            e.extra = Some(ErrorExtra::Problems {
                problems: problems.iter().map(|p| p.to_string()).collect(),
            });
            Err(e)
        }
        Err(e) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{e}; nothing was published"),
        )),
    }
}

// ---- pages --------------------------------------------------------------------------------------

fn denied(d: Denied) -> Response {
    d.into_response()
}

pub(crate) fn error_page(e: ApiError) -> Response {
    let problems = e.extra.as_ref().and_then(ErrorExtra::problems);
    private_page(
        e.status,
        "Not done",
        html! {
            h1 { "Not done" }
            p class="error" role="alert" { (e.message) }
            @if let Some(ps) = problems {
                ul class="problems" {
                    @for p in ps { li { (p) } }
                }
            }
            p { a href="/desk" { "Back to the desk" } }
        },
    )
}

fn proposal_rows(list: &[Proposal]) -> Vec<Vec<Markup>> {
    list.iter()
        .map(|p| {
            vec![
                html! { a href={ "/desk/proposals/" (p.id) } { "#" (p.id) } },
                html! { (p.action.as_str()) },
                html! { (p.summary) },
                html! { (p.proposed_by) },
                html! { (p.proposed_at) },
                html! { (p.status) },
            ]
        })
        .collect()
}

pub async fn desk_home(State(app): State<Arc<App>>, v: Visitor) -> Response {
    let user = match v.require(Role::Editor) {
        Ok(u) => u.clone(),
        Err(d) => return denied(d),
    };
    let (csrf, _) = v.csrf();
    let r = blocking(app, move |app| {
        app.with_store(|s| Ok((s.proposals(Some("pending"), 200)?, s.proposals(None, 30)?)))
    })
    .await;
    let (pending, recent) = match r {
        Ok(x) => x,
        Err(e) => return error_page(e),
    };
    let (mine, others): (Vec<_>, Vec<_>) = pending
        .into_iter()
        .partition(|p| p.proposed_by.eq_ignore_ascii_case(&user.username));
    let heads = [
        "Proposal",
        "Action",
        "Summary",
        "Proposed by",
        "At",
        "Status",
    ];
    let kinds = FactKind::ALL
        .iter()
        .filter(|k| **k != FactKind::Retraction)
        .map(|k| k.as_str());
    let main = html! {
        h1 { "Editorial desk" }
        p {
            "Signed in as " strong { (user.username) } " (" (user.role.as_str()) ")."
            @if user.role == Role::Admin {
                " · " a href="/admin" { "Administration" } " (outbox, feedback, webhooks)"
            }
        }
        form method="post" action="/logout" class="inline" {
            (csrf_field(&csrf))
            button type="submit" { "Sign out" }
        }
        h2 { "Propose" }
        form method="get" action="/desk/new" class="inline" {
            label {
                "A new fact of kind "
                select name="kind" {
                    @for k in kinds { option value=(k) { (k) } }
                }
            }
            " "
            label {
                "about "
                input name="subject" placeholder="USA or United States" required;
            }
            " "
            button type="submit" { "Open the form" }
        }
        p {
            "To correct or retract a fact, open its page (" code { "/facts/ID" } ") from a \
             profile's footnotes or search. Or "
            a href="/desk/import" { "propose an import" } " of a whole file."
        }
        h2 { "Waiting for your review" }
        (table(
            "Proposals by other editors: you may approve these",
            &heads,
            &proposal_rows(&others)
        ))
        h2 { "Your proposals waiting for another editor" }
        (table("Your pending proposals", &heads, &proposal_rows(&mine)))
        h2 { "Recent decisions and proposals" }
        (table("Recent", &heads, &proposal_rows(&recent)))
    };
    private_page(StatusCode::OK, "Editorial desk", main)
}

fn input(fld: &Field, value: &str) -> Markup {
    let req = fld.required && !matches!(fld.ty, Ty::Flag);
    let label = fld.label;
    let name = fld.name;
    match &fld.ty {
        Ty::Long | Ty::Json => {
            let rows = if matches!(fld.ty, Ty::Json) { 10 } else { 3 };
            html! {
                label { (label) textarea name=(name) rows=(rows) required[req] { (value) } }
            }
        }
        Ty::Flag => html! {
            label class="check" {
                input type="checkbox" name=(name) checked[value == "on"];
                " " (label)
            }
        },
        Ty::Choice(options) => html! {
            label {
                (label)
                select name=(name) required[req] {
                    option value="" {}
                    @for opt in options {
                        option value=(opt) selected[*opt == value] { (opt) }
                    }
                }
            }
        },
        Ty::Date => html! {
            label {
                (label)
                input name=(name) value=(value) placeholder="YYYY, YYYY-MM or YYYY-MM-DD"
                    required[req];
            }
        },
        _ => html! {
            label { (label) input name=(name) value=(value) required[req]; }
        },
    }
}

/// The kind-specific form: to add a fact, or to correct or retract `target`.
fn fact_form(
    kind: FactKind,
    action: ProposalAction,
    target: Option<&FactRecord>,
    values: &HashMap<String, String>,
    problems: &Problems,
    csrf: &str,
) -> Markup {
    let val = |k: &str| values.get(k).cloned().unwrap_or_default();
    let text = |name: &'static str, label: &'static str| {
        input(&f(name, label, Ty::Text, false), &val(name))
    };
    html! {
        @if !problems.is_empty() {
            div class="error" role="alert" {
                p { "Nothing was proposed. Please fix:" }
                ul {
                    @for (field, m) in problems {
                        li { strong { (field) } ": " (m) }
                    }
                }
            }
        }
        form method="post" action="/desk/proposals" class="stack" {
            (csrf_field(csrf))
            input type="hidden" name="action" value=(action.as_str());
            input type="hidden" name="kind" value=(kind.as_str());
            @if let Some(t) = target {
                input type="hidden" name="target" value=(t.fact.id);
            } @else {
                label {
                    "State or area (name or code)"
                    input name="subject" value=(val("subject")) required;
                }
                label {
                    "Key (optional: a stable name for this fact; later facts with the same key \
                     correct it)"
                    input name="key" value=(val("key"));
                }
            }
            @if action != ProposalAction::Retract {
                fieldset {
                    legend { "When" }
                    (input(
                        &f(
                            "valid_from",
                            "From (date the claim starts being true)",
                            Ty::Date,
                            false
                        ),
                        &val("valid_from")
                    ))
                    (input(
                        &f("valid_to", "To (end of a period)", Ty::Date, false),
                        &val("valid_to")
                    ))
                }
            }
            fieldset {
                @if action != ProposalAction::Retract {
                    legend { "What (" (kind.as_str()) ")" }
                } @else {
                    legend { "Why" }
                }
                @for fld in fields(kind) {
                    (input(&fld, &val(fld.name)))
                }
            }
            fieldset {
                legend { "Sources" }
                label {
                    "Source keys (key or key#page; several separated by ;)"
                    input name="sources" value=(val("sources"));
                }
                p { "Or record a new source with this fact:" }
                (text("new_source_key", "New source key (lower case, digits, -)"))
                (text("new_source_title", "Title"))
                (text("new_source_publisher", "Publisher"))
                (input(
                    &f("new_source_published", "Published (date)", Ty::Date, false),
                    &val("new_source_published")
                ))
                (text("new_source_url", "URL"))
            }
            (input(&f("note", "Note (optional)", Ty::Long, false), &val("note")))
            label {
                "Note for the reviewer"
                input name="review_note" value=(val("review_note")) maxlength="500";
            }
            button type="submit" { "Propose" }
        }
    }
}

pub async fn new_fact_page(v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(d) = v.require(Role::Editor) {
        return denied(d);
    }
    let kind = match q.get("kind").map(String::as_str).and_then(FactKind::parse) {
        Some(k) if k != FactKind::Retraction => k,
        _ => {
            return error_page(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("kind: expected one of: {}", FactKind::expected()),
            ))
        }
    };
    let (csrf, _) = v.csrf();
    let main = html! {
        h1 { "Propose a new " (kind.as_str()) " fact" }
        p { "Another editor must approve it before it is published." }
        (fact_form(kind, ProposalAction::Add, None, &q, &Vec::new(), &csrf))
    };
    private_page(StatusCode::OK, "Propose a fact", main)
}

/// `/desk/facts/{id}/correct` and `/desk/facts/{id}/retract`.
pub async fn change_fact_page(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path((id, what)): Path<(String, String)>,
) -> Response {
    if let Err(d) = v.require(Role::Editor) {
        return denied(d);
    }
    let action = match what.as_str() {
        "correct" => ProposalAction::Correct,
        "retract" => ProposalAction::Retract,
        _ => {
            return error_page(ApiError::new(
                StatusCode::NOT_FOUND,
                "expected correct or retract",
            ))
        }
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(ApiError::new(
            StatusCode::BAD_REQUEST,
            "fact id: expected a whole number",
        ));
    };
    let rec = match blocking(Arc::clone(&app), move |app| {
        app.with_store(|s| Ok(s.fact(id)?))
    })
    .await
    {
        Ok(Some(r)) => r,
        Ok(None) => {
            return error_page(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no fact {id}"),
            ))
        }
        Err(e) => return error_page(e),
    };
    if let Some(by) = rec.superseded_by {
        return error_page(ApiError::new(
            StatusCode::CONFLICT,
            format!("fact {id} was superseded by fact {by}; correct the current version"),
        ));
    }
    let name = app
        .gazetteer()
        .by_code(&rec.fact.subject)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let (csrf, _) = v.csrf();
    let (kind, mut values) = match action {
        ProposalAction::Retract => (FactKind::Retraction, HashMap::new()),
        _ => (rec.fact.kind(), payload_values(&rec.fact.payload)),
    };
    if action == ProposalAction::Correct {
        values.insert(
            "valid_from".into(),
            rec.fact
                .valid_from
                .map(|d| d.to_string())
                .unwrap_or_default(),
        );
        values.insert(
            "valid_to".into(),
            rec.fact.valid_to.map(|d| d.to_string()).unwrap_or_default(),
        );
        values.insert("note".into(), rec.fact.note.clone().unwrap_or_default());
    }
    values.insert(
        "sources".into(),
        rec.fact
            .citations
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    );
    let verb = if action == ProposalAction::Retract {
        "Retract"
    } else {
        "Correct"
    };
    let main = html! {
        h1 { (verb) " fact " (rec.fact.id) }
        p class="current" { "Now: " (sentence(&rec.fact, &name)) }
        p {
            "Another editor must approve this before it is published; the current version stays \
             in the record's history."
        }
        (fact_form(kind, action, Some(&rec), &values, &Vec::new(), &csrf))
    };
    private_page(StatusCode::OK, "Change a fact", main)
}

pub async fn propose(
    State(app): State<Arc<App>>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let user = match v.require_form(
        Role::Editor,
        form.get("csrf").map(String::as_str).unwrap_or(""),
    ) {
        Ok(u) => u.clone(),
        Err(d) => return denied(d),
    };
    let (csrf, _) = v.csrf();
    let r = blocking(app, move |app| {
        app.with_store_mut(|s| {
            let target = match form
                .get("target")
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
            {
                Some(t) => {
                    let id: i64 = t.parse().map_err(|_| {
                        ApiError::new(StatusCode::BAD_REQUEST, "target: expected a fact id")
                    })?;
                    Some(s.fact(id)?.ok_or_else(|| {
                        ApiError::new(StatusCode::NOT_FOUND, format!("no fact {id}"))
                    })?)
                }
                None => None,
            };
            let built = match build(app, &form, target.as_ref()) {
                Ok(b) => b,
                Err(problems) => return Ok(Err((form, target, problems))),
            };
            let p = NewProposal {
                action: built.action,
                subject: Some(built.subject),
                target_fact: built.target,
                importer: "facts-json".into(),
                body: serde_json::to_string_pretty(&built.doc).unwrap_or_default(),
                summary: built.summary,
            };
            match check_and_propose(s, &p, "form", user.id, &user.username) {
                Ok(id) => Ok(Ok(id)),
                Err(e) => {
                    let mut problems: Problems = vec![("record".into(), e.message.clone())];
                    if let Some(ps) = e.extra.as_ref().and_then(ErrorExtra::problems) {
                        problems.extend(ps.iter().map(|p| (String::new(), p.clone())));
                    }
                    Ok(Err((form, target, problems)))
                }
            }
        })
    })
    .await;
    match r {
        Ok(Ok(id)) => see_other(&format!("/desk/proposals/{id}")),
        Ok(Err((form, target, problems))) => {
            let action = match form.get("action").map(String::as_str) {
                Some("correct") => ProposalAction::Correct,
                Some("retract") => ProposalAction::Retract,
                _ => ProposalAction::Add,
            };
            let kind = if action == ProposalAction::Retract {
                FactKind::Retraction
            } else {
                form.get("kind")
                    .map(String::as_str)
                    .and_then(FactKind::parse)
                    .unwrap_or(FactKind::Development)
            };
            private_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Propose a fact",
                html! {
                    h1 { "Propose" }
                    (fact_form(kind, action, target.as_ref(), &form, &problems, &csrf))
                },
            )
        }
        Err(e) => error_page(e),
    }
}

/// The id of a `what` (a proposal, a feedback message...) from a path segment.
pub(crate) fn path_id(what: &str, id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{what} id {id:?}: expected a whole number"),
        )
    })
}

pub async fn proposal_page(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let user = match v.require(Role::Editor) {
        Ok(u) => u.clone(),
        Err(d) => return denied(d),
    };
    let id = match path_id("proposal", &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    let (csrf, _) = v.csrf();
    let reviewer = user.username.clone();
    let r = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| {
            let p = s
                .proposal(id)?
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no proposal {id}")))?;
            let target = match p.target_fact {
                Some(t) => s.fact(t)?,
                None => None,
            };
            // What approving would do to the record as it is now (it may have changed since
            // the proposal was checked).
            let effect = (p.status == "pending").then(|| {
                dry_run(
                    s,
                    &p.importer,
                    &format!("proposal-{id}"),
                    &p.body,
                    &reviewer,
                    "approving would publish nothing",
                )
            });
            Ok((p, target, effect))
        })
    })
    .await;
    let (p, target, effect) = match r {
        Ok(x) => x,
        Err(e) => return error_page(e),
    };
    let current = target.as_ref().map(|t| {
        let name = app
            .gazetteer()
            .by_code(&t.fact.subject)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        (t.fact.id, sentence(&t.fact, &name))
    });
    let own = p.proposed_by.eq_ignore_ascii_case(&user.username);
    let main = html! {
        h1 { "Proposal #" (p.id) }
        dl {
            dt { "Action" } dd { (p.action.as_str()) }
            dt { "Summary" } dd { (p.summary) }
            dt { "Proposed by" } dd { (p.proposed_by) " at " (p.proposed_at) }
            dt { "Status" } dd class={ "status-" (p.status) } { (p.status) }
            @if let Some(by) = &p.decided_by {
                dt { "Decided by" }
                dd { (by) " at " (p.decided_at.as_deref().unwrap_or("")) }
            }
            @if let Some(n) = p.decision_note.as_deref().filter(|n| !n.is_empty()) {
                dt { "Note" } dd { (n) }
            }
        }
        @if let Some((fid, words)) = &current {
            h2 { "Current version" }
            p { a href={ "/facts/" (fid) } { "Fact " (fid) } ": " (words) }
        }
        @if let Some(words) = proposed_sentences(&app, &p) {
            h2 { "Proposed" }
            ul { (words) }
        }
        @match &effect {
            Some(Ok(report)) => {
                p class="effect" { strong { "Approving will write:" } " " (effect_words(report)) }
            }
            Some(Err(e)) => {
                div class="problems" {
                    p {
                        strong { "This proposal no longer imports cleanly:" } " " (e.message)
                    }
                    @if let Some(ps) = e.extra.as_ref().and_then(ErrorExtra::problems) {
                        ul { @for p in ps { li { (p) } } }
                    }
                }
            }
            None => {}
        }
        // The whole document, never a part: a reviewer approves exactly what they could read.
        details open {
            summary {
                "What will be imported (" (p.importer) " importer; " (p.body.lines().count())
                " lines, " (p.body.len()) " bytes)"
            }
            pre { (p.body) }
        }
        @if p.status == "pending" {
            @if own {
                p {
                    "You proposed this: another editor must approve it (four eyes). You may \
                     withdraw it."
                }
            } @else {
                form method="post" action={ "/desk/proposals/" (p.id) "/approve" } class="inline" {
                    (csrf_field(&csrf))
                    button type="submit" { "Approve and publish" }
                }
            }
            form method="post" action={ "/desk/proposals/" (p.id) "/reject" } class="stack" {
                (csrf_field(&csrf))
                label { "Note" input name="note" maxlength="1000"; }
                button type="submit" { @if own { "Withdraw" } @else { "Reject" } }
            }
        }
    };
    private_page(StatusCode::OK, &format!("Proposal #{}", p.id), main)
}

/// A dry run's counts in words: "2 facts added, 1 superseded; 1 source updated".
fn effect_words(r: &minewatch_import::Report) -> String {
    let s = &r.stats;
    let part = |n: u64, one: &str, many: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let parts: Vec<String> = [
        part(s.facts_added, "fact added", "facts added"),
        part(s.facts_superseded, "fact superseded", "facts superseded"),
        part(s.sources_added, "source added", "sources added"),
        part(s.sources_superseded, "source changed", "sources changed"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let unchanged = s.facts_unchanged + s.sources_unchanged;
    let mut out = if parts.is_empty() {
        "nothing new".to_string()
    } else {
        parts.join(", ")
    };
    if unchanged > 0 {
        out.push_str(&format!(" ({unchanged} already in the record, unchanged)"));
    }
    out
}

/// The proposed facts of a facts-json proposal, in words.
fn proposed_sentences(app: &App, p: &Proposal) -> Option<Markup> {
    if p.importer != "facts-json" {
        return None;
    }
    let doc: Value = serde_json::from_str(&p.body).ok()?;
    let mut items: Vec<(String, String)> = Vec::new();
    for f in doc["facts"].as_array()? {
        let kind = FactKind::parse(f["kind"].as_str()?)?;
        let payload = Payload::from_value(kind, f["payload"].clone()).ok()?;
        let subject = f["subject"].as_str()?.to_string();
        let fact = Fact {
            id: 0,
            subject: subject.clone(),
            valid_from: f["valid_from"]
                .as_str()
                .and_then(|d| minewatch_domain::PartialDate::parse(d).ok()),
            valid_to: f["valid_to"]
                .as_str()
                .and_then(|d| minewatch_domain::PartialDate::parse(d).ok()),
            payload,
            citations: Vec::new(),
            note: None,
            recorded_at: String::new(),
            recorded_by: String::new(),
            supersedes: None,
        };
        let name = app
            .gazetteer()
            .by_code(&subject)
            .map(|s| s.name.clone())
            .unwrap_or(subject);
        let sources = f["sources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        items.push((sentence(&fact, &name), sources));
    }
    Some(html! {
        @for (words, sources) in &items {
            li { (words) " " span class="cite" { "[" (sources) "]" } }
        }
    })
}

pub async fn approve(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let user = match v.require_form(Role::Editor, &f.csrf) {
        Ok(u) => u.clone(),
        Err(d) => return denied(d),
    };
    let id = match path_id("proposal", &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    match blocking(app, move |app| {
        app.with_store_mut(|s| approve_in(app, s, id, &user))
    })
    .await
    {
        Ok(_) => see_other(&format!("/desk/proposals/{id}")),
        Err(e) => error_page(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn reject(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<RejectForm>,
) -> Response {
    let user = match v.require_form(Role::Editor, &f.csrf) {
        Ok(u) => u.clone(),
        Err(d) => return denied(d),
    };
    let id = match path_id("proposal", &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    let note: String = f.note.chars().take(1000).collect();
    match blocking(app, move |app| {
        app.with_store_mut(|s| {
            s.decline_proposal(id, user.id, &note)
                .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))
        })
    })
    .await
    {
        Ok(_) => see_other(&format!("/desk/proposals/{id}")),
        Err(e) => error_page(e),
    }
}

pub async fn import_page(v: Visitor) -> Response {
    if let Err(d) = v.require(Role::Editor) {
        return denied(d);
    }
    let (csrf, _) = v.csrf();
    let main = html! {
        h1 { "Propose an import" }
        p {
            "The file is checked by the same importer as " code { "minewatch import" } ": every \
             problem is listed and nothing is proposed until there are none. Another editor must \
             approve it; then it is imported whole or not at all."
        }
        form method="post" action="/desk/import" enctype="multipart/form-data" class="stack" {
            (csrf_field(&csrf))
            label {
                "Importer "
                select name="importer" required {
                    @for k in minewatch_import::KINDS {
                        option value=(k.name) { (k.name) ": " (k.about) }
                    }
                }
            }
            label {
                "File (UTF-8, at most " (IMPORT_MAX_BYTES / (1024 * 1024)) " MiB) "
                input type="file" name="file" required;
            }
            label {
                "Source key for files without a source column (optional) "
                input name="source";
            }
            label {
                "Summary for the reviewer "
                input name="summary" required maxlength="500";
            }
            button type="submit" { "Check and propose" }
        }
    };
    private_page(StatusCode::OK, "Propose an import", main)
}

pub async fn import_post(State(app): State<Arc<App>>, v: Visitor, mut mp: Multipart) -> Response {
    if let Err(d) = v.require(Role::Editor) {
        return denied(d);
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let filename = field.file_name().map(String::from);
                match field.bytes().await {
                    Ok(b) if name == "file" => {
                        file = Some((filename.unwrap_or_else(|| "upload".into()), b.to_vec()))
                    }
                    Ok(b) => {
                        fields.insert(name, String::from_utf8_lossy(&b).into_owned());
                    }
                    Err(e) => {
                        return error_page(ApiError::new(
                            e.status(),
                            format!("reading the upload: {}", e.body_text()),
                        ))
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                return error_page(ApiError::new(
                    e.status(),
                    format!("reading the upload: {}", e.body_text()),
                ))
            }
        }
    }
    let user = match v.require_form(
        Role::Editor,
        fields.get("csrf").map(String::as_str).unwrap_or(""),
    ) {
        Ok(u) => u.clone(),
        Err(d) => return denied(d),
    };
    let Some((filename, bytes)) = file else {
        return error_page(ApiError::new(
            StatusCode::BAD_REQUEST,
            "file: required; choose a file to import",
        ));
    };
    let body = match String::from_utf8(bytes) {
        Ok(b) => b,
        Err(e) => {
            return error_page(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{filename}: invalid UTF-8 at byte {}; expected UTF-8 text (re-save the file as UTF-8)", e.utf8_error().valid_up_to()),
            ))
        }
    };
    let importer = fields.get("importer").cloned().unwrap_or_default();
    let summary = fields
        .get("summary")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("Import {filename}"));
    let source = fields
        .get("source")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let r = blocking(app, move |app| {
        app.with_store_mut(|s| {
            let p = NewProposal {
                action: ProposalAction::Import,
                subject: None,
                target_fact: None,
                importer: match &source {
                    // The default source travels with the importer name: "unga-votes source=KEY".
                    Some(k) => format!("{importer} source={k}"),
                    None => importer.clone(),
                },
                body,
                summary: format!("{summary} ({filename})"),
            };
            check_and_propose(s, &p, &filename, user.id, &user.username)
        })
    })
    .await;
    match r {
        Ok(id) => see_other(&format!("/desk/proposals/{id}")),
        Err(e) => error_page(e),
    }
}

// ---- the public fact page -----------------------------------------------------------------------

pub async fn fact_page(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return minewatch_web::page::error_response(
            StatusCode::BAD_REQUEST,
            format!("fact id {id:?}: expected a whole number"),
        );
    };
    let r = blocking(Arc::clone(&app), move |app| {
        app.with_store(|s| {
            let rec = s.fact(id)?.ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, format!("no fact with id {id}"))
            })?;
            let history = s.history(&rec.key)?;
            let mut rows = Vec::new();
            for h in &history {
                rows.push((h.clone(), s.provenance(h.fact.id)?));
            }
            let sources: HashMap<String, minewatch_domain::Source> = s
                .sources()?
                .into_iter()
                .map(|r| (r.source.key.clone(), r.source))
                .collect();
            Ok((rec, rows, sources))
        })
    })
    .await;
    let (rec, history, sources) = match r {
        Ok(x) => x,
        Err(e) => return minewatch_web::page::error_response(e.status, e.message),
    };
    let name = app
        .gazetteer()
        .by_code(&rec.fact.subject)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| rec.fact.subject.clone());
    let mut notes = minewatch_web::html::Footnotes::new(&sources);
    let state = if rec.fact.kind() == FactKind::Retraction {
        "This is a retraction: the fact it supersedes is withdrawn from the current record."
    } else if rec.superseded_by.is_some() {
        "This version has been superseded: see the history below."
    } else {
        "This is the current version."
    };
    let rows: Vec<Vec<Markup>> = history
        .iter()
        .map(|(h, prov)| {
            vec![
                html! {
                    @if h.fact.id == rec.fact.id {
                        strong { (h.fact.id) }
                    } @else {
                        a href={ "/facts/" (h.fact.id) } { (h.fact.id) }
                    }
                },
                html! { (h.fact.recorded_at) },
                html! { (h.fact.kind().as_str()) },
                html! { (sentence(&h.fact, &name)) },
                html! {
                    @if let Some(s) = h.fact.supersedes {
                        a href={ "/facts/" (s) } { (s) }
                    }
                },
                html! {
                    @match prov {
                        Some(p) => {
                            "proposed by " (p.proposed_by) " (" (p.proposed_at) "); approved by "
                            (p.approved_by.as_deref().unwrap_or("?")) " ("
                            (p.approved_at.as_deref().unwrap_or("")) ")"
                        }
                        None => { "imported by " (h.fact.recorded_by) }
                    }
                },
            ]
        })
        .collect();
    let cites = notes.cite(&rec.fact.citations);
    let id = rec.fact.id;
    let code = minewatch_web::html::url_enc(&rec.fact.subject);
    let main = html! {
        h1 { "Fact " (id) }
        p class="lead" { (sentence(&rec.fact, &name)) (cites) }
        p { (state) }
        dl {
            dt { "About" } dd { a href={ "/states/" (code) } { (name) } }
            dt { "Kind" } dd { (rec.fact.kind().as_str()) }
            dt { "Key" } dd { code { (rec.key) } }
            dt { "Recorded" } dd { (rec.fact.recorded_at) " by " (rec.fact.recorded_by) }
        }
        h2 { "History" }
        (table(
            "Every version of this fact, oldest first",
            &["Fact", "Recorded", "Kind", "Statement", "Supersedes", "Who"],
            &rows
        ))
        p class="editors" {
            "Editors: " a href={ "/desk/facts/" (id) "/correct" } { "propose a correction" }
            " · " a href={ "/desk/facts/" (id) "/retract" } { "propose a retraction" }
        }
        (notes.render())
    };
    let page = Page {
        title: format!("Fact {}", rec.fact.id),
        main,
        json_href: Some(format!("/api/v1/facts/{}", rec.fact.id)),
        ..Page::default()
    };
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        layout(&page).into_string(),
    )
        .into_response()
}

// ---- the API ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only proposals in this state.
    #[param(value_type = Option<String>, pattern = "^(pending|approved|rejected|withdrawn)$")]
    status: Option<String>,
    /// How many (1 to 200; 50 by default).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Only proposals with an id below this one (the `next` link of the previous page).
    #[param(value_type = Option<i64>, minimum = 1)]
    before: Option<String>,
}

/// The proposals, newest first, without their documents (an editor's token).
#[utoipa::path(get, path = "/api/v1/proposals", tag = "desk", params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of proposals", body = ProposalList),
        (status = 400, description = "A malformed status, limit or before", body = ErrorBody),
        (status = 401, description = "No editor's token", body = ErrorBody),
        (status = 403, description = "The token's account is not an editor", body = ErrorBody)))]

pub async fn api_proposals(
    State(app): State<Arc<App>>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> ApiResult<ProposalList> {
    v.require(Role::Editor)?;
    // Exactly what the OpenAPI document describes: a given parameter is never empty.
    let status = q.status;
    if let Some(s) = &status {
        if !matches!(
            s.as_str(),
            "pending" | "approved" | "rejected" | "withdrawn"
        ) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("status {s:?}: expected pending, approved, rejected or withdrawn"),
            ));
        }
    }
    let number = |what: &str, v: Option<String>, max: i64| -> Result<Option<i64>, ApiError> {
        match v {
            None => Ok(None),
            Some(t) => match t.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("{what}: {t:?} is not a whole number from 1 to {max}"),
                )),
            },
        }
    };
    let limit = number("limit", q.limit, 200)?.unwrap_or(50);
    let before = number("before", q.before, i64::MAX)?;
    let page_status = status.clone();
    let list = blocking(app, move |app| {
        app.with_store(|s| {
            Ok(s.proposal_summaries(status.as_deref(), before, None, limit as usize)?)
        })
    })
    .await?;
    // The next page, when this one is full.
    let next = (list.len() as i64 == limit).then(|| {
        let last = list.last().map_or(0, |p| p.id);
        let status = page_status
            .map(|s| format!("&status={s}"))
            .unwrap_or_default();
        format!("/api/v1/proposals?limit={limit}&before={last}{status}")
    });
    let proposals: Vec<ProposalBrief> = list.into_iter().map(ProposalBrief::new).collect();
    Ok(Json(ProposalList {
        count: proposals.len(),
        proposals,
        next,
    }))
}

/// `GET /api/v1/proposals/{id}`: one proposal with its whole document.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "desk",
    params(("id" = i64, Path, description = "The proposal's id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The proposal", body = ProposalAnswer),
        (status = 400, description = "The id is not a whole number", body = ErrorBody),
        (status = 401, description = "No editor's token", body = ErrorBody),
        (status = 403, description = "The token's account is not an editor", body = ErrorBody),
        (status = 404, description = "No proposal with that id", body = ErrorBody)))]
pub async fn api_proposal(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<ProposalAnswer> {
    v.require(Role::Editor)?;
    let id = path_id("proposal", &id)?;
    let p = blocking(app, move |app| app.with_store(|s| Ok(s.proposal(id)?)))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no proposal {id}")))?;
    Ok(Json(ProposalAnswer { proposal: p }))
}

/// A proposal sent through the API.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiProposal {
    /// "add" (default), "correct", "retract" or "import".
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(add|correct|retract|import)$")]
    action: Option<String>,
    /// The importer (default "facts-json").
    #[serde(default)]
    importer: Option<String>,
    /// The file to import: a facts document (object) or the text of a file (string).
    #[schema(value_type = Object)]
    document: Value,
    summary: String,
    #[serde(default)]
    target_fact: Option<i64>,
    /// Default source for importers of files without a source column.
    #[serde(default)]
    source: Option<String>,
}

/// Proposes facts (or a correction, retraction or import) for review by a second editor.
#[utoipa::path(post, path = "/api/v1/proposals", tag = "desk",
    request_body(content = ApiProposal, content_type = "application/json"),
    security(("bearer" = [])),
    responses((status = 201, description = "The proposal recorded", body = ProposalAnswer),
        (status = 400, description = "A document with problems (each located), or a malformed request", body = ErrorBody),
        (status = 401, description = "No editor's token", body = ErrorBody),
        (status = 403, description = "The account is not an editor, or a session cookie without a token", body = ErrorBody),
        (status = 404, description = "A correction or retraction of a fact the record does not hold", body = ErrorBody),
        (status = 413, description = "A body over the size limit", body = ErrorBody),
        (status = 415, description = "A body that is not application/json", body = ErrorBody),
        (status = 422, description = "A JSON body that is not a proposal, or a document with problems (each located); nothing is proposed", body = ErrorBody)))]
pub async fn api_propose(
    State(app): State<Arc<App>>,
    v: Visitor,
    body: Result<Json<ApiProposal>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let user = match v.require(Role::Editor) {
        Ok(u) => u.clone(),
        Err(d) => return ApiError::from(d).into_response(),
    };
    if v.session.is_some() && v.bearer.is_none() {
        // Cookies alone never authorise an API write: a page on another site could send them.
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "API writes need an Authorization: Bearer token",
        )
        .into_response();
    }
    let Json(p) = match body {
        Ok(b) => b,
        Err(e) => return ApiError::new(e.status(), e.body_text()).into_response(),
    };
    let action = match p.action.as_deref().unwrap_or("add") {
        "add" => ProposalAction::Add,
        "correct" => ProposalAction::Correct,
        "retract" => ProposalAction::Retract,
        "import" => ProposalAction::Import,
        other => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("action {other:?}: expected add, correct, retract or import"),
            )
            .into_response()
        }
    };
    if matches!(action, ProposalAction::Correct | ProposalAction::Retract)
        != p.target_fact.is_some()
    {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "target_fact: required for correct and retract, and only for them",
        )
        .into_response();
    }
    let body = match &p.document {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let importer = p.importer.unwrap_or_else(|| "facts-json".into());
    let importer = match p.source {
        Some(k) => format!("{importer} source={k}"),
        None => importer,
    };
    let np = NewProposal {
        action,
        subject: None,
        target_fact: p.target_fact,
        importer,
        body,
        summary: p.summary.chars().take(500).collect(),
    };
    match blocking(app, move |app| {
        app.with_store_mut(|s| {
            let id = check_and_propose(s, &np, "document", user.id, &user.username)?;
            // Read back under the same write access that recorded it: it is there.
            s.proposal(id)?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("proposal {id} was recorded but cannot be read back"),
                )
            })
        })
    })
    .await
    {
        Ok(p) => (StatusCode::CREATED, Json(ProposalAnswer { proposal: p })).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Approves (publishes) or rejects a proposal; an editor may not approve their own.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/{decision}", tag = "desk",
    params(("id" = i64, Path, description = "The proposal's id"),
        ("decision" = String, Path, description = "approve or reject", pattern = "^(approve|reject)$")),
    security(("bearer" = [])),
    responses((status = 200, description = "The proposal decided (without its document)", body = ProposalDecided),
        (status = 400, description = "The id is not a whole number, or the approved document no longer applies", body = ErrorBody),
        (status = 401, description = "No editor's token", body = ErrorBody),
        (status = 403, description = "Not an editor, no token, or one's own proposal", body = ErrorBody),
        (status = 404, description = "No proposal with that id, or a decision other than approve or reject", body = ErrorBody),
        (status = 409, description = "The proposal was already decided", body = ErrorBody)))]
pub async fn api_decide(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path((id, what)): Path<(String, String)>,
) -> Response {
    let user = match v.require(Role::Editor) {
        Ok(u) => u.clone(),
        Err(d) => return ApiError::from(d).into_response(),
    };
    if v.bearer.is_none() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "API writes need an Authorization: Bearer token",
        )
        .into_response();
    }
    let id = match path_id("proposal", &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let r = blocking(app, move |app| {
        app.with_store_mut(|s| match what.as_str() {
            "approve" => approve_in(app, s, id, &user),
            "reject" => {
                s.decline_proposal(id, user.id, "")
                    .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))?;
                s.proposal(id)?.ok_or_else(|| {
                    ApiError::new(StatusCode::NOT_FOUND, format!("no proposal {id}"))
                })
            }
            _ => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "expected approve or reject",
            )),
        })
    })
    .await;
    // The answer names the proposal; its document (possibly megabytes) is behind its link.
    match r {
        Ok(p) => Json(ProposalDecided {
            proposal: ProposalBrief::of(&p),
        })
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Splits "importer source=KEY" into the importer and its default source.
pub(crate) fn importer_and_source(s: &str) -> (&str, Option<&str>) {
    match s.split_once(" source=") {
        Some((i, k)) => (i, Some(k)),
        None => (s, None),
    }
}
