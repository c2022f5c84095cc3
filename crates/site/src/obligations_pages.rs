//! The obligations the monitor can answer: the treaty meetings (`/meetings`, `/meetings/{code}`),
//! every State Party's Article 5 history (`/article5`), the Art. 5 timeline drawn on country
//! profiles, and the deadlines overview (`/deadlines`: overdue first, then what falls due in the
//! next 24 months, unknowns summarised).
//!
//! Every page is data first (its JSON twin), then HTML and CSV from the same values; every
//! statement carries the footnotes of the facts it rests on. The HTML is built by maud's
//! `html!`, which escapes every value it is given unless it is already [`Markup`]: record text
//! can only reach a page escaped.

use crate::pages::{
    as_of, derived_value, name_of, negotiate, reason_citations, reasons_html, run, sources_map,
    state_link, subject_or_404, Fmt, Out, PageError, PageResult,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minewatch_answers::derived::Scope;
use minewatch_answers::obligations::{
    art5_summary, Art5Row, Art5StepAnswer, Art5Summary, Article5Answer, ArticleCounts,
    AttendanceRow, DeadlinesAnswer, DeadlinesSummary, DecisionGroup, MeetingAnswer,
    MeetingDatesVersion, MeetingRow, MeetingsAnswer, StateDeadlineCounts, UnknownGroup,
};
use minewatch_domain::fact::{Art5EventType, MeetingRole};
use minewatch_domain::{Citation, Date, PartialDate};
use minewatch_treaty::{
    Art5History, Art5State, Art5Step, DeadlineRow, Engine, MeetingDecision, MeetingInfo,
    ObligationState, Reason,
};
use minewatch_web::html::{as_of_form, date, html, long, table, url_enc, Footnotes, Markup, Page};
use minewatch_web::App;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// "As of 1 January 2010: what had happened and been published by then." The two clocks of the
/// record in one sentence, said beside every as-of date picker of these pages and the profile;
/// with `record=N`, the second clock (what minewatch itself had recorded) too.
pub(crate) fn two_clocks(as_of: Date, record: Option<i64>) -> Markup {
    html! {
        p.clocks {
            "As of " (date(as_of)) ": what had happened and been published by then."
            @if let Some(n) = record {
                " With " code { "record=" (n) } ": as minewatch itself had recorded it when fact "
                (n) " was the newest."
            }
        }
    }
}

/// The parts with a separator between each two.
fn join(parts: impl IntoIterator<Item = Markup>, sep: &str) -> Markup {
    html! {
        @for (i, p) in parts.into_iter().enumerate() {
            @if i > 0 { (sep) }
            (p)
        }
    }
}

/// "29 November 2009 to 4 December 2009", "23 November 2023", or "dates not recorded".
fn range_words(start: Option<PartialDate>, end: Option<PartialDate>) -> String {
    match (start, end) {
        (Some(a), Some(b)) if a == b => a.long(),
        (Some(a), Some(b)) => format!("{} to {}", a.long(), b.long()),
        (Some(a), None) => format!("from {}", a.long()),
        (None, Some(b)) => format!("ending {}", b.long()),
        (None, None) => "dates not recorded".into(),
    }
}

/// ISO 8601 interval: "2009-11-29/2009-12-04".
fn range_iso(start: Option<PartialDate>, end: Option<PartialDate>) -> String {
    match (start, end) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (a, b) => format!(
            "{}/{}",
            a.map(|d| d.to_string()).unwrap_or_default(),
            b.map(|d| d.to_string()).unwrap_or_default()
        ),
    }
}

fn meeting_link(code: &str) -> Markup {
    html! { a href={ "/meetings/" (url_enc(code)) } { (code) } }
}

/// A meeting's dates with a footnote per version; "dates disputed" where sources disagree.
fn meeting_dates_html(m: &MeetingInfo, notes: &mut Footnotes) -> Markup {
    let parts: Vec<Markup> = m
        .versions
        .iter()
        .map(|v| {
            html! {
                span.version { (range_words(v.start, v.end)) (notes.cite(&v.reason.citations)) }
            }
        })
        .collect();
    if m.disputed {
        html! { (join(parts, " or ")) " " span.disputed { "dates disputed" } }
    } else {
        join(parts, "; ")
    }
}

fn event_words(e: Art5EventType) -> &'static str {
    match e {
        Art5EventType::ExtensionRequested => "extension requested",
        Art5EventType::ExtensionGranted => "extension granted",
        Art5EventType::DeadlineMissed => "deadline missed",
        Art5EventType::CompletionDeclared => "completion declared",
        Art5EventType::NewContaminationReported => "newly found mined areas reported",
        Art5EventType::ObligationReinstated => "obligation reinstated",
        Art5EventType::DeadlineReported => "deadline reported",
    }
}

fn role_words(r: MeetingRole) -> &'static str {
    match r {
        MeetingRole::Party => "as a State Party",
        MeetingRole::Observer => "as an observer",
        MeetingRole::NotAttended => "did not attend",
    }
}

/// Adds citations to a list, each once.
fn add_cites(to: &mut Vec<Citation>, from: &[Citation]) {
    for c in from {
        if !to.contains(c) {
            to.push(c.clone());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What a meeting decided, one row per state and kind of event

fn group_decisions(app: &App, ds: &[MeetingDecision]) -> Vec<DecisionGroup> {
    let mut out: Vec<DecisionGroup> = Vec::new();
    for d in ds {
        let i = match out
            .iter()
            .position(|x| x.subject == d.subject && x.event == d.event)
        {
            Some(i) => i,
            None => {
                out.push(DecisionGroup {
                    subject: d.subject.clone(),
                    name: name_of(app, &d.subject),
                    event: d.event,
                    dates: Vec::new(),
                    new_deadlines: Vec::new(),
                    inferred: true,
                    inferred_records: 0,
                    records: 0,
                    texts: Vec::new(),
                    facts: Vec::new(),
                    sources: Vec::new(),
                });
                out.len() - 1
            }
        };
        let x = &mut out[i];
        x.records += 1;
        if d.inferred {
            x.inferred_records += 1;
        }
        x.inferred = x.inferred_records == x.records;
        if let Some(dt) = d.date {
            if !x.dates.contains(&dt) {
                x.dates.push(dt);
            }
        }
        if let Some(n) = d.new_deadline {
            if !x.new_deadlines.iter().any(|m| m.latest() == n.latest()) {
                x.new_deadlines.push(n);
            }
        }
        x.texts.push(d.reason.text.clone());
        x.facts.extend(d.reason.facts.iter().copied());
        add_cites(&mut x.sources, &d.reason.citations);
    }
    for x in &mut out {
        // "December 2012" says no more than "7 December 2012": keep the precise one.
        let all = x.dates.clone();
        x.dates.retain(|d| {
            !all.iter().any(|o| {
                o.precision() > d.precision()
                    && d.earliest() <= o.earliest()
                    && o.latest() <= d.latest()
            })
        });
        x.dates.sort_by_key(|d| (d.earliest(), d.latest()));
        x.new_deadlines.sort_by_key(|d| d.latest());
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.event.cmp(&b.event)));
    out
}

fn count_event(groups: &[DecisionGroup], e: Art5EventType) -> usize {
    groups.iter().filter(|g| g.event == e).count()
}

/// "meeting inferred" notes for a row of decisions.
fn inferred_note(x: &DecisionGroup) -> String {
    if x.inferred {
        "meeting inferred by the data's compiler".into()
    } else if x.inferred_records > 0 {
        format!(
            "meeting inferred in {} of {} records",
            x.inferred_records, x.records
        )
    } else {
        String::new()
    }
}

fn dates_words(ds: &[PartialDate]) -> String {
    if ds.is_empty() {
        return "undated".into();
    }
    ds.iter().map(|d| d.long()).collect::<Vec<_>>().join(" or ")
}

fn deadlines_words(ds: &[PartialDate]) -> String {
    match ds {
        [] => "not recorded".into(),
        [one] => one.long(),
        many => format!(
            "{} (sources disagree)",
            many.iter()
                .map(|d| d.long())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// /meetings

pub async fn meetings_index(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    meetings_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn meetings_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    meetings_fmt(app, Fmt::Json, q).await
}

pub async fn meetings_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    meetings_fmt(app, Fmt::Csv, q).await
}

async fn meetings_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run(app, fmt, Scope::Obligations, move |app, store, engine| {
        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let meetings = engine.meetings();
        let mut rows = Vec::new();
        let mut csv_rows = Vec::new();
        let mut data = Vec::new();
        let (mut total_ext, mut total_done) = (0, 0);
        for m in &meetings {
            let groups = group_decisions(app, &engine.meeting_decisions(&m.code, as_of));
            let ext = count_event(&groups, Art5EventType::ExtensionGranted);
            let done = count_event(&groups, Art5EventType::CompletionDeclared);
            let other = groups.len() - ext - done;
            total_ext += ext;
            total_done += done;
            let later = m.start.is_some_and(|s| s > as_of);
            rows.push(vec![
                html! {
                    a href={ "/meetings/" (url_enc(&m.code)) "?as_of=" (as_of) } { (m.code) }
                },
                html! {
                    (m.name)
                    @if later { " " span.meta { "(after " (long(as_of)) ")" } }
                },
                html! { (m.city.as_deref().unwrap_or("not recorded")) },
                meeting_dates_html(m, &mut notes),
                html! { (ext) },
                html! { (done) },
            ]);
            csv_rows.push(vec![
                m.code.clone(),
                m.name.clone(),
                m.city.clone().unwrap_or_default(),
                m.start.map(|d| d.to_string()).unwrap_or_default(),
                m.end.map(|d| d.to_string()).unwrap_or_default(),
                m.disputed.to_string(),
                m.versions
                    .iter()
                    .map(|v| range_iso(v.start, v.end))
                    .collect::<Vec<_>>()
                    .join("; "),
                ext.to_string(),
                done.to_string(),
                other.to_string(),
            ]);
            data.push(MeetingRow {
                code: m.code.clone(),
                name: m.name.clone(),
                city: m.city.clone(),
                start: m.start,
                end: m.end,
                dates_disputed: m.disputed,
                versions: m.versions.iter().map(MeetingDatesVersion::from).collect(),
                extensions_granted: ext,
                completions_declared: done,
                other_art5_events: other,
                href: format!("/meetings/{}", m.code),
            });
        }
        let disputed = meetings.iter().filter(|m| m.disputed).count();
        let main = html! {
            h1 { "Meetings of the States Parties and Review Conferences" }
            p.lede {
                "The formal meetings of the treaty (Art. 11: Meetings of the States Parties; \
                 Art. 12: Review Conferences), in date order, with what the record says each \
                 decided on clearance (Art. 5)."
            }
            (as_of_form("/meetings", as_of, &[], "Decisions recorded as of"))
            (two_clocks(as_of, None))
            p {
                (meetings.len()) " meetings recorded; the sources disagree on the dates of "
                (disputed) ", and both versions are shown, each with its source. Recorded by "
                (long(as_of)) ": " (total_ext) " extensions of Art. 5 deadlines granted and "
                (total_done) " completions of clearance declared at these meetings. Select a \
                 meeting for its decisions and who attended."
            }
            (table(
                &format!("Meetings, with the Art. 5 decisions recorded as of {}", long(as_of)),
                &["Code", "Meeting", "City", "Dates", "Extensions granted", "Completions declared"],
                &rows
            ))
            (notes.render())
        };
        Ok(Out {
            page: Page {
                title: "Meetings of the States Parties".into(),
                main,
                json_href: Some(format!("/meetings.json?as_of={as_of}")),
                csv: vec![(format!("/meetings.csv?as_of={as_of}"), "CSV".into())],
                ..Page::default()
            },
            data: derived_value(&MeetingsAnswer {
                as_of,
                count: meetings.len(),
                meetings: data,
            })?,
            csv: Some((
                vec![
                    "code",
                    "name",
                    "city",
                    "start",
                    "end",
                    "dates_disputed",
                    "date_versions",
                    "extensions_granted",
                    "completions_declared",
                    "other_art5_events",
                ],
                csv_rows,
            )),
            name: "meetings".into(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// /meetings/{code}

pub async fn meeting_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (code, fmt) = negotiate(&code, &headers);
    let code = code.trim().to_string();
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run(app, fmt, Scope::Obligations, move |app, store, engine| {
        meeting(app, store, engine, &code, as_of)
    })
    .await
}

fn meeting(
    app: &App,
    store: &minewatch_store::Store,
    engine: &Engine,
    code: &str,
    as_of: Date,
) -> PageResult {
    let all = engine.meetings();
    let Some(pos) = all.iter().position(|m| m.code.eq_ignore_ascii_case(code)) else {
        let known: Vec<&str> = all.iter().map(|m| m.code.as_str()).collect();
        let mut e = PageError::new(
            StatusCode::NOT_FOUND,
            format!(
                "there is no meeting with the code {code:?}; the known codes are {}",
                known.join(", ")
            ),
        );
        e.help = html! {
            p {
                "Known meetings: " (join(known.iter().map(|c| meeting_link(c)), ", "))
                ". All of them are listed at " a href="/meetings" { "/meetings" } "."
            }
        };
        return Err(e);
    };
    let m = &all[pos];
    let sources = sources_map(store)?;
    let mut notes = Footnotes::new(&sources);
    let groups = group_decisions(app, &engine.meeting_decisions(&m.code, as_of));
    let attendance = engine.meeting_attendance(&m.code, as_of);
    let dates = meeting_dates_html(m, &mut notes);

    let of = |e: Art5EventType| groups.iter().filter(move |g| g.event == e);
    let mut grants = Vec::new();
    for g in of(Art5EventType::ExtensionGranted) {
        grants.push(vec![
            state_link(app, &g.subject, Some(as_of)),
            html! { (deadlines_words(&g.new_deadlines)) },
            html! { (dates_words(&g.dates)) },
            html! { (inferred_note(g)) },
            notes.cite(&g.sources),
        ]);
    }
    let mut done = Vec::new();
    for g in of(Art5EventType::CompletionDeclared) {
        done.push(vec![
            state_link(app, &g.subject, Some(as_of)),
            html! { (dates_words(&g.dates)) },
            html! { (inferred_note(g)) },
            notes.cite(&g.sources),
        ]);
    }
    let mut other = Vec::new();
    for g in groups.iter().filter(|g| {
        !matches!(
            g.event,
            Art5EventType::ExtensionGranted | Art5EventType::CompletionDeclared
        )
    }) {
        other.push(vec![
            state_link(app, &g.subject, Some(as_of)),
            html! { (event_words(g.event)) },
            html! { (g.texts.join("; ")) },
            html! { (inferred_note(g)) },
            notes.cite(&g.sources),
        ]);
    }
    let mut att_rows = Vec::new();
    let mut att_sorted = attendance.clone();
    att_sorted.sort_by_key(|a| (a.role, name_of(app, &a.subject)));
    for a in &att_sorted {
        att_rows.push(vec![
            state_link(app, &a.subject, Some(as_of)),
            html! { (role_words(a.role)) },
            notes.cite(&a.reason.citations),
        ]);
    }
    // A section with its heading; what to say instead of a table when there are no rows.
    let section = |id: &str, title: String, empty: &str, body: Option<Markup>| -> Markup {
        html! {
            section id=(id) aria-labelledby={ (id) "-h" } {
                h2 id={ (id) "-h" } { (title) }
                @match body {
                    Some(b) => (b),
                    None => p.none { (empty) },
                }
            }
        }
    };
    let nav = {
        let prev = pos
            .checked_sub(1)
            .and_then(|i| all.get(i))
            .map(|p| html! { "Previous: " (meeting_link(&p.code)) });
        let next = all
            .get(pos + 1)
            .map(|n| html! { "Next: " (meeting_link(&n.code)) });
        html! {
            p.pager {
                (join([prev, next].into_iter().flatten(), " · "))
                " · " a href="/meetings" { "All meetings" }
            }
        }
    };
    let when = |n: usize, what: &str| -> String {
        if n == 1 {
            format!("1 {what}")
        } else {
            format!("{n} {what}s")
        }
    };
    let n_grants = grants.len();
    let n_done = done.len();
    let n_other = other.len();
    let main = html! {
        article.meeting {
            h1 { (m.name) " (" (m.code) ")" }
            dl.status {
                dt { "Code" } dd { (m.code) }
                dt { "Kind" }
                dd {
                    @if m.code.ends_with("RC") {
                        "Review Conference (Art. 12)"
                    } @else {
                        "Meeting of the States Parties (Art. 11)"
                    }
                }
                dt { "Where" } dd { (m.city.as_deref().unwrap_or("not recorded")) }
                dt { "Dates" } dd { (dates) }
            }
            (as_of_form(
                &format!("/meetings/{}", url_enc(&m.code)),
                as_of,
                &[],
                "Decisions recorded as of"
            ))
            (two_clocks(as_of, None))
            (nav)
            p {
                "Recorded by " (long(as_of)) ": " (when(n_grants, "extension")) " granted, "
                (when(n_done, "completion")) " declared and " (when(n_other, "other Art. 5 event"))
                " heard at this meeting."
            }
            (section(
                "extensions",
                format!("Extensions of Art. 5 deadlines granted ({n_grants})"),
                "No extension granted at this meeting is recorded.",
                (!grants.is_empty()).then(|| table(
                    &format!("Extension requests granted at the {} (Art. 5(6))", m.code),
                    &["State", "New deadline", "Decided", "Note", "Sources"],
                    &grants,
                )),
            ))
            (section(
                "completions",
                format!("Completions of clearance declared ({n_done})"),
                "No completion declared at this meeting is recorded.",
                (!done.is_empty()).then(|| table(
                    &format!("Completions declared at the {}", m.code),
                    &["State", "Declared", "Note", "Sources"],
                    &done,
                )),
            ))
            (section(
                "other",
                format!("Other Article 5 events heard ({n_other})"),
                "No other Article 5 event naming this meeting is recorded.",
                (!other.is_empty()).then(|| table(
                    &format!("Other Art. 5 events naming the {}", m.code),
                    &["State", "Event", "As recorded", "Note", "Sources"],
                    &other,
                )),
            ))
            (section(
                "attendance",
                format!("Who attended ({})", att_rows.len()),
                "The record holds no attendance for this meeting; where a state's part in it is \
                 recorded, it is listed here.",
                (!att_rows.is_empty()).then(|| table(
                    &format!("States whose part in the {} is recorded", m.code),
                    &["State", "Role", "Sources"],
                    &att_rows,
                )),
            ))
            (notes.render())
        }
    };
    let (mut extensions_granted, mut completions_declared, mut other_art5_events) =
        (Vec::new(), Vec::new(), Vec::new());
    for g in groups {
        match g.event {
            Art5EventType::ExtensionGranted => extensions_granted.push(g),
            Art5EventType::CompletionDeclared => completions_declared.push(g),
            _ => other_art5_events.push(g),
        }
    }
    let data = derived_value(&MeetingAnswer {
        as_of,
        meeting: m.clone(),
        extensions_granted,
        completions_declared,
        other_art5_events,
        attendance: attendance
            .iter()
            .map(|a| AttendanceRow {
                subject: a.subject.clone(),
                name: name_of(app, &a.subject),
                role: a.role,
                text: a.reason.text.clone(),
                facts: a.reason.facts.clone(),
                sources: a.reason.citations.clone(),
            })
            .collect(),
    })?;
    Ok(Out {
        page: Page {
            title: format!("{} ({})", m.name, m.code),
            main,
            json_href: Some(format!("/meetings/{}.json?as_of={as_of}", url_enc(&m.code))),
            ..Page::default()
        },
        data,
        csv: None,
        name: m.code.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// /article5

fn parties(n: usize) -> String {
    if n == 1 {
        "1 State Party".into()
    } else {
        format!("{n} States Parties")
    }
}

fn art5_summary_html(s: &Art5Summary, as_of: Date) -> Markup {
    html! {
        p.summary {
            strong { (parties(s.still_clearing)) } " still clearing mined areas; "
            strong { (s.past_deadline) } " past their deadline (" (s.missed)
            " recorded as missed, " (s.overdue) " with neither completion, a miss nor a further \
             extension recorded since); "
            strong { (s.completed) } " declared completion. Of those still clearing, "
            (s.extended) " are working to an extended deadline and " (s.on_track)
            " to their original one. Counted on " (long(as_of)) " among the " (s.total)
            " States Parties with an Article 5 history in the record"
            @if s.reinstated > 0 {
                "; " (s.reinstated)
                " had an obligation reinstated after completion (newly found mined areas)"
            }
            "."
        }
    }
}

/// The meetings that granted the extensions of a history, in order, once each.
fn grant_meetings(h: &Art5History) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &h.steps {
        if s.event == Art5EventType::ExtensionGranted && !s.superseded_by_preferred {
            if let Some(m) = &s.meeting {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
    }
    out
}

pub async fn article5_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    article5_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn article5_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    article5_fmt(app, Fmt::Json, q).await
}

pub async fn article5_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    article5_fmt(app, Fmt::Csv, q).await
}

async fn article5_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run(app, fmt, Scope::Obligations, move |app, store, engine| {
        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let mut hs = engine.article5(as_of);
        hs.sort_by_cached_key(|h| name_of(app, &h.code));
        let summary = art5_summary(&hs);
        let mut rows = Vec::new();
        let mut csv_rows = Vec::new();
        let mut data = Vec::new();
        for h in &hs {
            let name = name_of(app, &h.code);
            // The original deadline rests on entry into force: the status's reasons.
            let eif_cites = reason_citations(&engine.status(&h.code, as_of).reasons);
            let mut why = h.reasons.clone();
            why.extend(h.conflicts.iter().cloned());
            why.extend(h.steps.iter().map(|s| s.reason.clone()));
            let meetings = grant_meetings(h);
            let current = match h.current_deadline {
                Some(d) => long(d),
                None => "not recorded".into(),
            };
            let original_cites = notes.cite(&eif_cites);
            let state_cites = notes.cite(&reason_citations(&why));
            rows.push(vec![
                state_link(app, &h.code, Some(as_of)),
                html! { (long(h.original_deadline)) (original_cites) },
                html! { (current) },
                html! {
                    (h.extensions_total)
                    @if !meetings.is_empty() {
                        " "
                        span.meta { "(" (join(meetings.iter().map(|m| meeting_link(m)), ", ")) ")" }
                    }
                },
                html! {
                    span class={ "a5 a5-" (h.state.as_str()) } { (h.state.words()) }
                    (state_cites)
                    @if !h.conflicts.is_empty() { " " span.disputed { "sources disagree" } }
                },
                html! { (h.completed.map(|d| d.long()).unwrap_or_default()) },
                html! { (h.reinstated.map(|d| d.long()).unwrap_or_default()) },
            ]);
            csv_rows.push(vec![
                h.code.clone(),
                name.clone(),
                h.entry_into_force.to_string(),
                h.original_deadline.to_string(),
                h.current_deadline
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                h.extensions_total.to_string(),
                h.state.as_str().to_string(),
                h.state.words().to_string(),
                h.completed.map(|d| d.to_string()).unwrap_or_default(),
                h.reinstated.map(|d| d.to_string()).unwrap_or_default(),
                meetings.join(" "),
                (!h.conflicts.is_empty()).to_string(),
                as_of.to_string(),
            ]);
            data.push(Art5Row {
                code: h.code.clone(),
                name,
                href: format!("/states/{}", h.code),
                entry_into_force: h.entry_into_force,
                original_deadline: h.original_deadline,
                current_deadline: h.current_deadline,
                extensions: h.extensions_total,
                extensions_in_force: h.extensions.len(),
                extension_meetings: meetings,
                state: h.state,
                state_words: h.state.words(),
                completed: h.completed.map(|d| d.to_string()),
                reinstated: h.reinstated.map(|d| d.to_string()),
                sources_disagree: !h.conflicts.is_empty(),
                steps: h.steps.iter().map(Art5StepAnswer::from).collect(),
                conflicts: h.conflicts.clone(),
                reasons: h.reasons.clone(),
                original_deadline_sources: eif_cites,
            });
        }
        let main = html! {
            h1 { "Article 5: clearing mined areas" }
            p.lede {
                "Each State Party must destroy the anti-personnel mines in mined areas under its \
                 jurisdiction or control within ten years of entry into force (Art. 5(1)); a \
                 meeting of the States Parties may grant an extension of up to ten years at a \
                 time (Art. 5(3)-(6))."
            }
            (as_of_form("/article5", as_of, &[], "Show Article 5 as of"))
            (two_clocks(as_of, None))
            (art5_summary_html(&summary, as_of))
            p {
                "The table lists every State Party in force on " (long(as_of)) " with an Article 5 \
                 history in the record: its original deadline (entry into force + 10 years), the \
                 deadline in force on " (long(as_of)) ", the extensions granted (with the \
                 meetings that granted them), where it stands, and completion. A state's profile \
                 draws the history as a timeline. "
                a href="/meetings" { "The meetings" } " list what each decided."
            }
            (table(
                &format!("Article 5 obligations as of {}", long(as_of)),
                &[
                    "State",
                    "Original deadline",
                    "Deadline in force",
                    "Extensions",
                    "Where it stands",
                    "Completion declared",
                    "Reinstated",
                ],
                &rows
            ))
            (notes.render())
        };
        Ok(Out {
            page: Page {
                title: format!("Article 5 as of {}", long(as_of)),
                main,
                json_href: Some(format!("/article5.json?as_of={as_of}")),
                csv: vec![(format!("/article5.csv?as_of={as_of}"), "CSV".into())],
                ..Page::default()
            },
            data: derived_value(&Article5Answer {
                as_of,
                summary,
                count: hs.len(),
                rows: data,
            })?,
            csv: Some((
                vec![
                    "code",
                    "name",
                    "entry_into_force",
                    "original_deadline",
                    "current_deadline",
                    "extensions",
                    "state",
                    "state_words",
                    "completed",
                    "reinstated",
                    "extension_meetings",
                    "sources_disagree",
                    "as_of",
                ],
                csv_rows,
            )),
            name: "article5".into(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The Art. 5 timeline of a profile (inline SVG, no script)

/// Steps that record the same thing (one decision in two research files) shown once.
#[derive(Debug, Clone)]
struct MergedStep {
    event: Art5EventType,
    date: Option<PartialDate>,
    known_from: Option<Date>,
    meeting: Option<String>,
    new_deadline: Option<Date>,
    inferred: bool,
    set_aside: bool,
    texts: Vec<String>,
    cites: Vec<Citation>,
}

fn merge_steps(h: &Art5History) -> Vec<MergedStep> {
    let steps = &h.steps;
    // The decision (extension) a grant's fact belongs to, as the engine clustered them.
    let cluster = |s: &Art5Step| -> Option<usize> {
        h.extensions
            .iter()
            .position(|x| s.reason.facts.iter().any(|f| x.fact_ids.contains(f)))
    };
    let mut out: Vec<(MergedStep, Option<usize>)> = Vec::new();
    for s in steps {
        let c = cluster(s);
        let same = out.iter_mut().find(|(m, mc)| {
            if m.event != s.event || m.set_aside != s.superseded_by_preferred {
                return false;
            }
            let same_meeting = m.meeting.is_some() && m.meeting == s.meeting;
            if s.event == Art5EventType::ExtensionGranted {
                // One decision, as the engine groups grants: the same meeting, the same new
                // deadline, or facts of the same extension.
                (c.is_some() && *mc == c)
                    || (m.new_deadline.is_some() && m.new_deadline == s.new_deadline)
                    || (same_meeting && (m.new_deadline == s.new_deadline || m.set_aside))
            } else {
                m.new_deadline == s.new_deadline
                    && (same_meeting
                        || (m.meeting.is_none() && s.meeting.is_none() && m.date == s.date))
            }
        });
        match same {
            Some((m, mc)) => {
                if mc.is_none() {
                    *mc = c;
                }
                // "Meeting inferred" speaks of the records that name the meeting.
                match (m.meeting.is_some(), s.meeting.is_some()) {
                    (false, true) => m.inferred = s.inferred,
                    (true, false) => {}
                    _ => m.inferred &= s.inferred,
                }
                if m.meeting.is_none() {
                    m.meeting = s.meeting.clone();
                }
                // Keep the most precise date.
                if let (Some(a), Some(b)) = (m.date, s.date) {
                    if b.precision() > a.precision() {
                        m.date = Some(b);
                    }
                } else if m.date.is_none() {
                    m.date = s.date;
                }
                m.known_from = match (m.known_from, s.known_from) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if !m.texts.contains(&s.reason.text) {
                    m.texts.push(s.reason.text.clone());
                }
                add_cites(&mut m.cites, &s.reason.citations);
            }
            None => out.push((
                MergedStep {
                    event: s.event,
                    date: s.date,
                    known_from: s.known_from,
                    meeting: s.meeting.clone(),
                    new_deadline: s.new_deadline,
                    inferred: s.inferred,
                    set_aside: s.superseded_by_preferred,
                    texts: vec![s.reason.text.clone()],
                    cites: s.reason.citations.clone(),
                },
                c,
            )),
        }
    }
    out.into_iter().map(|(m, _)| m).collect()
}

/// Where a step sits on the time axis: its day; else the closing day of its meeting within its
/// period; else the middle of its period; else the day it became known.
fn step_day(s: &MergedStep, meetings: &[MeetingInfo]) -> Option<Date> {
    if let Some(d) = s.date.and_then(PartialDate::as_day) {
        return Some(d);
    }
    let meeting_end = s
        .meeting
        .as_deref()
        .and_then(|c| meetings.iter().find(|m| m.code.eq_ignore_ascii_case(c)))
        .and_then(|m| m.end);
    match (s.date, meeting_end) {
        (Some(p), Some(e)) if p.earliest() <= e && e <= p.latest() => Some(e),
        (None, Some(e)) => Some(e),
        (Some(p), _) => {
            let (a, b) = (p.earliest(), p.latest());
            a.add_days(a.days_until(b) / 2)
        }
        (None, None) => s.known_from,
    }
}

/// One marker of the timeline.
#[derive(Debug)]
struct Mark {
    day: Date,
    class: &'static str,
    label: String,
    /// The label links here (a meeting's page).
    href: Option<String>,
    title: String,
    fns: Vec<usize>,
}

const W: f64 = 800.0;
const LEFT: f64 = 24.0;
const RIGHT: f64 = 24.0;
const LINE: f64 = 15.0;
/// Average advance of a character of the labels (11px system-ui), for placing them.
const CHAR_W: f64 = 6.3;

/// Puts labels into rows so that none overlaps another in its row; returns (row, anchor end?).
fn place(marks: &[(f64, usize)]) -> Vec<(usize, bool)> {
    let mut rows: Vec<f64> = Vec::new();
    let mut out = Vec::new();
    for &(x, chars) in marks {
        let w = chars as f64 * CHAR_W;
        let end = x + w > W - 2.0;
        let (x0, x1) = if end {
            (x - w, x + 3.0)
        } else {
            (x - 3.0, x + w)
        };
        let row = match rows.iter().position(|&r| r < x0 - 6.0) {
            Some(r) => r,
            None if rows.len() < 10 => {
                rows.push(f64::MIN);
                rows.len() - 1
            }
            None => rows.len() - 1,
        };
        rows[row] = x1;
        out.push((row, end));
    }
    out
}

fn fn_text(fns: &[usize]) -> String {
    if fns.is_empty() {
        String::new()
    } else {
        format!(
            "[{}]",
            fns.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    }
}

/// A coordinate as the timeline writes it: one decimal.
fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// A line from (x1, y1) to (x2, y2), with a class when given. SVG shapes are closed
/// explicitly (`{}`): in HTML only void HTML elements close themselves.
fn svg_line(class: Option<&'static str>, x1: f64, y1: String, x2: f64, y2: String) -> Markup {
    html! { line class=[class] x1=(f1(x1)) y1=(y1) x2=(f1(x2)) y2=(y2) {} }
}

/// The label of a marker: the meeting's code linking to its page, then the footnote numbers
/// linking to the notes.
fn label_svg(m: &Mark, x: f64, y: f64, end: bool) -> Markup {
    html! {
        text x=(f1(x)) y=(f1(y)) text-anchor=(if end { "end" } else { "start" }) {
            @match &m.href {
                Some(h) => a href=(h) { (m.label) },
                None => (m.label),
            }
            @if let Some(first) = m.fns.first() {
                " " a href={ "#fn" (first) } class="fnref" { (fn_text(&m.fns)) }
            }
        }
    }
}

fn shape(class: &str, x: f64, y: f64) -> Markup {
    match class {
        "grant" => html! { circle cx=(f1(x)) cy=(f1(y)) r="6" {} },
        "request" => html! { circle cx=(f1(x)) cy=(f1(y)) r="5" {} },
        "done" => html! { rect x=(f1(x - 5.5)) y=(f1(y - 5.5)) width="11" height="11" {} },
        "missed" => {
            html! { path d=(format!("M{:.1},{:.1}l10,10m0,-10l-10,10", x - 5.0, y - 5.0)) {} }
        }
        "reinstated" | "newareas" => {
            html! { path d=(format!("M{x:.1},{:.1}l6,10h-12z", y - 6.0)) {} }
        }
        // Deadlines: diamonds.
        _ => html! { path d=(format!("M{x:.1},{:.1}l6,6l-6,6l-6,-6z", y - 6.0)) {} },
    }
}

/// The Art. 5 timeline of a State Party: an inline SVG (requests, grants at their meetings,
/// completion, reinstatement above the axis; the original and every new deadline below it),
/// each marker with a `<title>` and its footnote numbers, then a table of the same steps.
/// Empty when the history records no step.
pub(crate) fn art5_timeline(
    h: &Art5History,
    meetings: &[MeetingInfo],
    name: &str,
    eif_cites: &[Citation],
    notes: &mut Footnotes,
) -> Markup {
    if h.steps.is_empty() {
        return Markup::default();
    }
    let merged = merge_steps(h);
    let mut events: Vec<Mark> = Vec::new();
    let mut deadlines: Vec<Mark> = Vec::new();
    let orig_fns = notes.numbers(eif_cites);
    deadlines.push(Mark {
        day: h.original_deadline,
        class: "deadline original",
        label: format!("original {}", h.original_deadline),
        href: None,
        title: format!(
            "Original deadline {}: entry into force {} + 10 years (Art. 5(1))",
            long(h.original_deadline),
            long(h.entry_into_force)
        ),
        fns: orig_fns,
    });
    for s in &merged {
        let fns = notes.numbers(&s.cites);
        let text = s.texts.join("; ");
        let inferred = if s.inferred {
            " (meeting or date inferred by the data's compiler)"
        } else {
            ""
        };
        if s.set_aside {
            // Another record of the same decision is preferred; the table says so.
            continue;
        }
        if let Some(day) = step_day(s, meetings) {
            let (class, label) = match s.event {
                Art5EventType::ExtensionRequested => ("request", "request".to_string()),
                Art5EventType::ExtensionGranted => (
                    "grant",
                    s.meeting.clone().unwrap_or_else(|| "granted".into()),
                ),
                Art5EventType::CompletionDeclared => ("done", "completed".to_string()),
                Art5EventType::ObligationReinstated => ("reinstated", "reinstated".to_string()),
                Art5EventType::NewContaminationReported => ("newareas", "new areas".to_string()),
                Art5EventType::DeadlineMissed => ("missed", "missed".to_string()),
                Art5EventType::DeadlineReported => ("", String::new()),
            };
            if !class.is_empty() {
                let href = match (s.event, &s.meeting) {
                    (Art5EventType::ExtensionGranted, Some(m)) => {
                        Some(format!("/meetings/{}", url_enc(m)))
                    }
                    _ => None,
                };
                events.push(Mark {
                    day,
                    class,
                    label,
                    href,
                    title: format!("{}{inferred}", capitalise(&text)),
                    fns: fns.clone(),
                });
            }
        }
        let sets_deadline = matches!(
            s.event,
            Art5EventType::ExtensionGranted | Art5EventType::ObligationReinstated
        );
        if let (true, Some(d)) = (sets_deadline, s.new_deadline) {
            let by = match (s.event, &s.meeting) {
                (Art5EventType::ObligationReinstated, _) => "set on reinstatement".to_string(),
                (_, Some(m)) => format!("set by the extension granted at the {m}"),
                _ => "set by an extension granted".to_string(),
            };
            match deadlines.iter_mut().find(|x| x.day == d) {
                Some(x) => {
                    x.title.push_str(&format!("; {by}"));
                    for n in fns {
                        if !x.fns.contains(&n) {
                            x.fns.push(n);
                        }
                    }
                }
                None => deadlines.push(Mark {
                    day: d,
                    class: "deadline",
                    label: d.to_string(),
                    href: None,
                    title: format!("New deadline {}, {by}", long(d)),
                    fns,
                }),
            }
        }
    }
    // The deadline in force, when a report rather than a grant gives it.
    if let Some(c) = h.current_deadline {
        if !deadlines.iter().any(|x| x.day == c) {
            let cites: Vec<Citation> = h
                .reasons
                .iter()
                .filter(|r| r.text.contains("deadline in force"))
                .flat_map(|r| r.citations.clone())
                .collect();
            deadlines.push(Mark {
                day: c,
                class: "deadline",
                label: c.to_string(),
                href: None,
                title: format!("Deadline in force {}", long(c)),
                fns: notes.numbers(&cites),
            });
        }
    }
    for d in &mut deadlines {
        if Some(d.day) == h.current_deadline {
            d.class = if d.class == "deadline original" {
                "deadline original current"
            } else {
                "deadline current"
            };
            d.title
                .push_str(&format!("; the deadline in force on {}", long(h.as_of)));
        }
    }
    events.sort_by_key(|m| m.day);
    deadlines.sort_by_key(|m| m.day);

    // The axis: entry into force to the latest of the as-of date and every deadline.
    let t0 = h.entry_into_force;
    let mut t1 = h.as_of;
    for d in deadlines.iter().chain(events.iter()).map(|m| m.day) {
        t1 = t1.max(d);
    }
    let span = (t0.days_until(t1).max(365)) as f64;
    let x_of = |d: Date| LEFT + (t0.days_until(d) as f64 / span) * (W - LEFT - RIGHT);

    let ev_place = place(
        &events
            .iter()
            .map(|m| {
                (
                    x_of(m.day),
                    m.label.chars().count() + 1 + fn_text(&m.fns).len(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let dl_place = place(
        &deadlines
            .iter()
            .map(|m| {
                (
                    x_of(m.day),
                    m.label.chars().count() + 1 + fn_text(&m.fns).len(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let ev_rows = ev_place.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let dl_rows = dl_place.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let ev_base = 8.0 + ev_rows as f64 * LINE;
    let y_ev = ev_base + 12.0;
    let y_axis = y_ev + 14.0;
    let y_dl = y_axis + 14.0;
    let dl_base = y_dl + 22.0;
    let y_years = dl_base + dl_rows as f64 * LINE + 8.0;
    let height = y_years + 8.0;

    let title = format!(
        "Article 5 timeline of {name}, from entry into force on {} to {}: {} step(s) recorded; {}",
        long(t0),
        long(t1),
        merged.len(),
        match h.current_deadline {
            Some(c) if !h.state.is_completed() => format!(
                "{} on {}, deadline in force {}",
                h.state.words(),
                long(h.as_of),
                long(c)
            ),
            _ => format!("{} on {}", h.state.words(), long(h.as_of)),
        }
    );
    // Years: a grid line at each (or every few) 1 January, labelled at the bottom.
    let years = t1.year() - t0.year();
    let step = if years > 30 {
        5
    } else if years > 15 {
        2
    } else {
        1
    };
    let grid: Vec<(f64, i32)> = (t0.year() + 1..=t1.year())
        .filter(|y| y % step == 0)
        .filter_map(|y| Date::new(y, 1, 1).map(|d| (x_of(d), y)))
        .collect();
    let running_end = match (h.state.is_completed(), h.completed) {
        (true, Some(c)) => c.latest(),
        _ => h.as_of,
    };
    // The obligation running on the axis: (from, to, tooltip). A reinstated obligation ran until
    // its first completion, then again from reinstatement.
    let first_completion = merged
        .iter()
        .filter(|s| s.event == Art5EventType::CompletionDeclared && !s.set_aside)
        .filter_map(|s| step_day(s, meetings))
        .min();
    let bands: Vec<(Date, Date, String)> = match (h.reinstated, first_completion) {
        (Some(r), Some(c)) if c <= r.latest() => vec![
            (
                t0,
                c.min(r.earliest()),
                format!(
                    "Obligation running from entry into force on {} to completion",
                    long(t0)
                ),
            ),
            (
                r.earliest(),
                h.as_of,
                format!(
                    "Obligation running again since its reinstatement ({})",
                    r.long()
                ),
            ),
        ],
        _ => vec![(
            t0,
            running_end,
            format!(
                "Obligation running from entry into force on {} to {}",
                long(t0),
                long(running_end)
            ),
        )],
    };
    let x_eif = x_of(t0);
    // The as-of date.
    let xa = x_of(h.as_of);
    let svg = html! {
        svg class="a5-timeline" role="img" aria-labelledby="a5t-title"
            viewBox={ "0 0 " (W) " " (format!("{height:.0}")) } width="100%" {
            title id="a5t-title" { (title) }
            @for (x, y) in &grid {
                (svg_line(Some("grid"), *x, "4".into(), *x, f1(y_years - 12.0)))
                text class="year" x=(f1(*x)) y=(f1(y_years)) text-anchor="middle" { (y) }
            }
            // The axis, and the obligation running on it.
            (svg_line(Some("axis"), LEFT, f1(y_axis), W - RIGHT, f1(y_axis)))
            @for (from, to, what) in &bands {
                rect class="band" x=(f1(x_of(*from))) y=(f1(y_axis - 3.0))
                    width=(f1((x_of(*to) - x_of(*from)).max(1.0))) height="6" {
                    title { (what) }
                }
            }
            g class="m eif" {
                title { "Entry into force " (long(t0)) }
                (svg_line(None, x_eif, f1(y_axis - 9.0), x_eif, f1(y_axis + 9.0)))
            }
            g class="asof" {
                title { "As of " (long(h.as_of)) }
                (svg_line(None, xa, "4".into(), xa, f1(y_years - 12.0)))
            }
            @for (m, (row, end)) in events.iter().zip(&ev_place) {
                @let x = x_of(m.day);
                @let ly = ev_base - *row as f64 * LINE;
                g class={ "m " (m.class) } {
                    title { (m.title) }
                    (svg_line(Some("lead"), x, f1(y_ev - 6.0), x, f1(ly + 3.0)))
                    (shape(m.class, x, y_ev))
                    (label_svg(m, x, ly, *end))
                }
            }
            @for (m, (row, end)) in deadlines.iter().zip(&dl_place) {
                @let x = x_of(m.day);
                @let ly = dl_base + *row as f64 * LINE;
                g class={ "m " (m.class) } {
                    title { (m.title) }
                    (svg_line(Some("lead"), x, f1(y_dl + 6.0), x, f1(ly - 11.0)))
                    (shape("deadline", x, y_dl))
                    (label_svg(m, x, ly, *end))
                }
            }
        }
    };

    // The same steps as a table.
    let mut rows = Vec::new();
    rows.push(vec![
        html! { (long(h.entry_into_force)) },
        html! { "entry into force; clearance due within ten years (Art. 5(1))" },
        Markup::default(),
        html! { (long(h.original_deadline)) },
        notes.cite(eif_cites),
    ]);
    for s in &merged {
        rows.push(vec![
            html! {
                @match (s.date, s.known_from) {
                    (Some(d), _) => (d.long()),
                    (None, Some(k)) => { "undated " span.meta { "(known from " (long(k)) ")" } }
                    (None, None) => "undated",
                }
            },
            html! {
                (s.texts.join("; "))
                @if s.set_aside {
                    " "
                    span.meta {
                        "(set aside: another record of the same decision gives a different \
                         deadline and is preferred)"
                    }
                }
            },
            html! {
                @if let Some(m) = &s.meeting {
                    (meeting_link(m))
                    @if s.inferred { " " span.meta { "(meeting inferred)" } }
                }
            },
            html! { @if let Some(d) = s.new_deadline { (long(d)) } },
            notes.cite(&s.cites),
        ]);
    }
    let conflicts = if h.conflicts.is_empty() {
        Markup::default()
    } else {
        html! {
            p.disputed-note { span.disputed { "Sources disagree" } }
            (reasons_html(&h.conflicts, notes))
        }
    };
    let summary = format!(
        "{}: {}; original deadline {}, deadline in force {}; {} extension(s) granted{}{}.",
        name,
        h.state.words(),
        long(h.original_deadline),
        h.current_deadline
            .map(long)
            .unwrap_or_else(|| "not recorded".into()),
        h.extensions_total,
        h.completed
            .map(|d| format!("; completion declared {}", d.long()))
            .unwrap_or_default(),
        h.reinstated
            .map(|d| format!("; reinstated {}", d.long()))
            .unwrap_or_default(),
    );
    html! {
        h3 id="art5-timeline" { "Article 5 timeline" }
        p { (summary) }
        figure.a5-figure {
            div.timeline-wrap { (svg) }
            figcaption {
                "Above the axis: ● extension granted (labelled with the meeting that granted it), \
                 ○ extension requested, ■ completion declared, ▲ newly found mined areas or \
                 reinstatement, ✕ deadline recorded as missed. Below: ◆ the original deadline and \
                 each new one (the deadline in force filled dark). The bar is the obligation \
                 running; the dashed line is the as-of date. Numbers in brackets are footnotes."
            }
        }
        (table(
            &format!("Article 5 steps of {name} as of {}", long(h.as_of)),
            &["Date", "Step", "Meeting", "New deadline", "Sources"],
            &rows
        ))
        (conflicts)
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// /deadlines

pub async fn deadlines_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    deadlines_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn deadlines_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    deadlines_fmt(app, Fmt::Json, q).await
}

pub async fn deadlines_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    deadlines_fmt(app, Fmt::Csv, q).await
}

/// How far ahead "due soon" looks.
const SOON_MONTHS: i32 = 24;
/// Unknown deadlines that share an article and a due date are summarised from this many on.
const GROUP_FROM: usize = 5;

fn is_done(s: ObligationState) -> bool {
    matches!(
        s,
        ObligationState::Met
            | ObligationState::MetLate
            | ObligationState::Completed
            | ObligationState::NotApplicable
            | ObligationState::Lapsed
    )
}

/// The last reason of an obligation: what the engine says is (not) recorded, without the dates
/// that differ from state to state ("deadline 1 March 2011 passed" -> "deadline passed"), so
/// that like explanations are counted together.
fn explanation(r: &DeadlineRow, conflicts: &[Reason]) -> String {
    // The last step of the computation (where sources disagree is said after it), its last
    // clause: "deadline passed; no stockpile facts recorded (absence is not evidence)" -> "no
    // stockpile facts recorded"; whether the deadline passed is counted beside it.
    r.reasons
        .iter()
        .rev()
        .find(|x| !conflicts.iter().any(|c| c.text == x.text))
        .map(|x| {
            let last = x.text.rsplit("; ").next().unwrap_or(&x.text);
            without_dates(last.trim_end_matches(" (absence is not evidence)"))
        })
        .unwrap_or_else(|| "nothing recorded that tells".into())
}

/// Drops "1 March 2011", "March 2011" and "2011" from a sentence, keeping its punctuation.
fn without_dates(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for tok in text.split_whitespace() {
        let word = tok.trim_end_matches([';', ',', ':', '.', ')']);
        let tail = &tok[word.len()..];
        let is_year = word.len() == 4 && word.chars().all(|c| c.is_ascii_digit());
        let is_month = (1..=12u8).any(|m| minewatch_domain::date::month_name(m) == word);
        if is_month
            && out
                .last()
                .is_some_and(|p| p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
        {
            out.pop();
        }
        if is_year || is_month {
            // "not yet due on 1 January 2026" -> "not yet due".
            if out
                .last()
                .is_some_and(|p| ["on", "in", "by", "from", "of"].contains(&p.as_str()))
            {
                out.pop();
            }
            if !tail.is_empty() {
                match out.last_mut() {
                    Some(p) => p.push_str(tail),
                    None => out.push(tail.to_string()),
                }
            }
            continue;
        }
        out.push(tok.to_string());
    }
    out.join(" ")
}

/// The article's digit, for the `article=` filter.
fn article_digit(a: &str) -> &str {
    a.trim_start_matches("Art. ")
        .split('(')
        .next()
        .unwrap_or("")
}

async fn deadlines_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    let show_param = q
        .get("show")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(s) = &show_param {
        if !["all", "upcoming", "overdue", "unknown"].contains(&s.as_str()) {
            return PageError::new(
                StatusCode::BAD_REQUEST,
                format!("show={s:?}: expected all, upcoming, overdue or unknown (or no show= for the overview)"),
            )
            .respond(fmt);
        }
    }
    // The JSON and CSV twins list every deadline unless asked otherwise, as they always did; the
    // HTML page opens on the overview.
    let show = show_param.clone().unwrap_or_else(|| "all".into());
    let overview = show_param.is_none() && fmt == Fmt::Html;
    let article = q
        .get("article")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(a) = &article {
        if !["4", "5", "7"].contains(&a.as_str()) {
            return PageError::new(
                StatusCode::BAD_REQUEST,
                format!("article={a:?}: expected 4, 5 or 7"),
            )
            .respond(fmt);
        }
    }
    let state = q
        .get("state")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    run(app, fmt, Scope::Obligations, move |app, store, engine| {
        let subject = match &state {
            Some(c) => Some(subject_or_404(app, c)?.code.clone()),
            None => None,
        };
        let all: Vec<DeadlineRow> = engine
            .deadlines(as_of, subject.as_deref(), false)
            .into_iter()
            .filter(|r| {
                article
                    .as_deref()
                    .is_none_or(|a| r.article.starts_with(&format!("Art. {a}")))
            })
            .collect();
        let rows: Vec<&DeadlineRow> = all
            .iter()
            .filter(|r| match show.as_str() {
                "overdue" => r.overdue,
                "upcoming" => !r.passed,
                "unknown" => r.state == ObligationState::Unknown,
                _ => true,
            })
            .collect();
        let soon_end = as_of.add_months(SOON_MONTHS).unwrap_or(as_of);
        let is_soon = |r: &DeadlineRow| !r.passed && r.due <= soon_end && !is_done(r.state);

        // Art. 5 histories: who is still clearing, and whose deadline passed with nothing since.
        let mut histories = engine.article5(as_of);
        if let Some(s) = &subject {
            histories.retain(|h| &h.code == s);
        }
        let a5 = art5_summary(&histories);
        let passed_silent: BTreeSet<&str> = histories
            .iter()
            .filter(|h| h.state == Art5State::Overdue)
            .map(|h| h.code.as_str())
            .collect();

        // Counts per article.
        let mut by_article: Vec<ArticleCounts> = Vec::new();
        for r in &all {
            let i = match by_article.iter().position(|c| c.article == r.article) {
                Some(i) => i,
                None => {
                    by_article.push(ArticleCounts {
                        article: r.article,
                        deadlines: 0,
                        overdue: 0,
                        due_soon: 0,
                        done: 0,
                        in_progress: 0,
                        unknown: 0,
                        states_overdue: 0,
                        states_unknown: 0,
                    });
                    by_article.len() - 1
                }
            };
            let c = &mut by_article[i];
            c.deadlines += 1;
            if r.overdue {
                c.overdue += 1;
            }
            if is_soon(r) {
                c.due_soon += 1;
            }
            if is_done(r.state) {
                c.done += 1;
            } else if r.state == ObligationState::Unknown {
                c.unknown += 1;
            } else if !r.overdue {
                c.in_progress += 1;
            }
        }
        for c in &mut by_article {
            let states = |f: &dyn Fn(&DeadlineRow) -> bool| {
                all.iter()
                    .filter(|r| r.article == c.article && f(r))
                    .map(|r| r.code.as_str())
                    .collect::<BTreeSet<_>>()
                    .len()
            };
            c.states_overdue = states(&|r| r.overdue);
            c.states_unknown = states(&|r| r.state == ObligationState::Unknown);
        }
        by_article.sort_by_key(|c| c.article);

        // Counts per state: overdue and due soon.
        let mut by_state: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for r in &all {
            if r.overdue {
                by_state.entry(r.code.clone()).or_default().0 += 1;
            }
            if is_soon(r) && r.state != ObligationState::Unknown {
                by_state.entry(r.code.clone()).or_default().1 += 1;
            }
        }

        // Unknowns, summarised by article and what is (not) recorded.
        let mut unknown_groups: Vec<UnknownGroup> = Vec::new();
        let no_conflicts: Vec<Reason> = Vec::new();
        let conflicts_of = |code: &str| -> &[Reason] {
            histories
                .iter()
                .find(|h| h.code == code)
                .map_or(no_conflicts.as_slice(), |h| h.conflicts.as_slice())
        };
        for r in all.iter().filter(|r| r.state == ObligationState::Unknown) {
            let why = explanation(r, conflicts_of(&r.code));
            let i = match unknown_groups
                .iter()
                .position(|g| g.article == r.article && g.explanation == why)
            {
                Some(i) => i,
                None => {
                    unknown_groups.push(UnknownGroup {
                        article: r.article,
                        explanation: why,
                        states: 0,
                        deadlines: 0,
                        passed: 0,
                        codes: Vec::new(),
                    });
                    unknown_groups.len() - 1
                }
            };
            let g = &mut unknown_groups[i];
            g.deadlines += 1;
            if r.passed {
                g.passed += 1;
            }
            if !g.codes.contains(&r.code) {
                g.codes.push(r.code.clone());
            }
        }
        for g in &mut unknown_groups {
            g.states = g.codes.len();
            g.codes.sort();
        }
        unknown_groups.sort_by(|a, b| a.article.cmp(b.article).then(b.states.cmp(&a.states)));

        let overdue_n = all.iter().filter(|r| r.overdue).count();
        let soon_n = all.iter().filter(|r| is_soon(r)).count();
        let unknown_n = all
            .iter()
            .filter(|r| r.state == ObligationState::Unknown)
            .count();

        let csv_rows = rows
            .iter()
            .map(|r| {
                vec![
                    r.due.to_string(),
                    r.code.clone(),
                    r.article.to_string(),
                    r.title.to_string(),
                    r.state.as_str().to_string(),
                    r.overdue.to_string(),
                    r.passed.to_string(),
                    name_of(app, &r.code),
                ]
            })
            .collect();

        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let query_with = |show: Option<&str>, art: Option<&str>| {
            let mut parts = vec![format!("as_of={as_of}")];
            if let Some(s) = show {
                parts.push(format!("show={s}"));
            }
            if let Some(a) = art.or(article.as_deref()) {
                parts.push(format!("article={a}"));
            }
            if let Some(s) = &state {
                parts.push(format!("state={}", url_enc(s)));
            }
            parts.join("&")
        };
        let query = query_with(show_param.as_deref(), None);
        let obligation_cell = |r: &DeadlineRow| {
            html! {
                span class={ "ob ob-" (r.state.as_str()) } { (r.state.as_str().replace('_', " ")) }
                @if r.overdue { " " strong { "overdue" } }
            }
        };
        let detailed = |r: &DeadlineRow, notes: &mut Footnotes| -> Vec<Markup> {
            vec![
                html! { (date(r.due)) },
                state_link(app, &r.code, Some(as_of)),
                html! { (r.article) },
                html! { (r.title) },
                obligation_cell(r),
                reasons_html(&r.reasons, notes),
            ]
        };
        let headers_detailed = ["Due", "State", "Article", "Obligation", "Where it stands", "Why"];
        let sel =
            |v: &str, cur: &str, l: &str| html! { option value=(v) selected[v == cur] { (l) } };
        let a = article.as_deref().unwrap_or("");
        let cur_show = show_param.as_deref().unwrap_or("");
        let form = html! {
            form class="filters" method="get" action="/deadlines" {
                label for="show" { "Show" } " "
                select id="show" name="show" {
                    (sel("", cur_show, "overview"))
                    (sel("overdue", cur_show, "overdue"))
                    (sel("upcoming", cur_show, "upcoming"))
                    (sel("unknown", cur_show, "unknown"))
                    (sel("all", cur_show, "all"))
                }
                label for="article" { "Article" } " "
                select id="article" name="article" {
                    (sel("", a, "any"))
                    (sel("4", a, "Art. 4"))
                    (sel("5", a, "Art. 5"))
                    (sel("7", a, "Art. 7"))
                }
                label for="state" { "State code" } " "
                input id="state" name="state" size="5" value=(state.as_deref().unwrap_or(""));
                label for="as_of" { "On" } " "
                input type="date" id="as_of" name="as_of" value=(as_of);
                " " button type="submit" { "Apply" }
            }
        };
        let intro = html! {
            p {
                "Art. 4 (stockpile destruction, four years after entry into force), Art. 5 \
                 (clearance, ten years, or the latest extension granted) and Art. 7 (transparency \
                 reports). A deadline is " em { "unknown" } " when nothing recorded tells whether \
                 it was met: the absence of a report in this record is not evidence that none was \
                 made."
            }
        };
        let headline = html! {
            p.summary {
                "On " (long(as_of)) ": " strong { (overdue_n) } " deadlines overdue in "
                (parties(by_state.values().filter(|v| v.0 > 0).count()))
                " (a source records the failure); " strong { (soon_n) } " due in the next "
                (SOON_MONTHS) " months (by " (long(soon_end)) "); " strong { (unknown_n) } " of "
                (all.len()) " not known either way. Article 5: "
                (parties(a5.still_clearing)) " still clearing; " (a5.past_deadline)
                " past their deadline (" (a5.missed) " recorded as missed, " (a5.overdue)
                " with nothing recorded since); " (a5.completed) " declared completion."
            }
        };
        let main = if overview {
            // 1. Overdue.
            let mut overdue_rows = Vec::new();
            for r in all.iter().filter(|r| r.overdue) {
                overdue_rows.push(detailed(r, &mut notes));
            }
            let mut silent_rows = Vec::new();
            for r in all.iter().filter(|r| {
                r.article == "Art. 5" && r.passed && !r.overdue && passed_silent.contains(r.code.as_str())
            }) {
                // With the steps recorded, each footnoted: what the record does hold.
                let mut r = r.clone();
                if let Some(h) = histories.iter().find(|h| h.code == r.code) {
                    for s in &h.steps {
                        if !r.reasons.iter().any(|x| x.facts == s.reason.facts && !x.facts.is_empty()) {
                            let mut x = s.reason.clone();
                            x.text = format!("recorded: {}", x.text);
                            r.reasons.push(x);
                        }
                    }
                }
                silent_rows.push(detailed(&r, &mut notes));
            }
            // 2. Due soon: each known one; unknown ones sharing an article and a date summed up.
            let soon: Vec<&DeadlineRow> = all.iter().filter(|r| is_soon(r)).collect();
            let mut groups: BTreeMap<(Date, &str), Vec<&DeadlineRow>> = BTreeMap::new();
            for r in soon.iter().filter(|r| r.state == ObligationState::Unknown) {
                groups.entry((r.due, r.article)).or_default().push(r);
            }
            let mut soon_rows = Vec::new();
            for r in &soon {
                let grouped = r.state == ObligationState::Unknown
                    && groups.get(&(r.due, r.article)).is_some_and(|g| g.len() >= GROUP_FROM);
                if !grouped {
                    soon_rows.push(detailed(r, &mut notes));
                }
            }
            let soon_grouped: Vec<Markup> = groups
                .iter()
                .filter(|(_, g)| g.len() >= GROUP_FROM)
                .map(|((due, art), g)| {
                    let whys: BTreeSet<String> = g.iter().map(|r| explanation(r, conflicts_of(&r.code))).collect();
                    let why = whys.into_iter().collect::<Vec<_>>().join("; ");
                    let n = g.iter().map(|r| r.code.as_str()).collect::<BTreeSet<_>>().len();
                    let q = query_with(Some("upcoming"), Some(article_digit(art)));
                    html! {
                        li {
                            strong { (art) } " " (g[0].title) ", due " (long(*due)) ": "
                            (parties(n)) " (nothing recorded yet: " (why) "). "
                            a href={ "/deadlines?" (q) } { "List them" }
                        }
                    }
                })
                .collect();
            // 3. Per article and per state.
            let art_rows: Vec<Vec<Markup>> = by_article
                .iter()
                .map(|c| {
                    let link = |n: usize, show: &str, states: usize| {
                        html! {
                            @if n == 0 {
                                "0"
                            } @else {
                                @let q = query_with(Some(show), Some(article_digit(c.article)));
                                a href={ "/deadlines?" (q) } { (n) }
                            }
                            " " span.meta { "(" (parties(states)) ")" }
                        }
                    };
                    vec![
                        html! { (c.article) },
                        html! { (c.deadlines) },
                        link(c.overdue, "overdue", c.states_overdue),
                        html! { (c.due_soon) },
                        html! { (c.done) },
                        html! { (c.in_progress) },
                        link(c.unknown, "unknown", c.states_unknown),
                    ]
                })
                .collect();
            let mut state_list: Vec<(&String, &(usize, usize))> = by_state.iter().collect();
            state_list.sort_by(|a, b| b.1.cmp(a.1).then(name_of(app, a.0).cmp(&name_of(app, b.0))));
            let state_rows: Vec<Vec<Markup>> = state_list
                .iter()
                .map(|(c, (o, s))| {
                    vec![
                        state_link(app, c, Some(as_of)),
                        html! { (o) },
                        html! { (s) },
                        html! {
                            a href={ "/deadlines?as_of=" (as_of) "&show=all&state=" (url_enc(c)) } {
                                "all deadlines"
                            }
                        },
                    ]
                })
                .collect();
            // 4. Unknowns, in a few lines.
            let unknown_html = html! {
                ul.unknowns {
                    @for g in &unknown_groups {
                        li {
                            strong { (g.article) } ": " (g.explanation) " for " (parties(g.states))
                            " (" (g.deadlines) " deadlines, " (g.passed) " of them passed). "
                            @let q = query_with(Some("unknown"), Some(article_digit(g.article)));
                            a href={ "/deadlines?" (q) } { "List them" }
                        }
                    }
                }
            };
            let full = query_with(Some("all"), None);
            html! {
                h1 { "Deadlines" }
                (intro) (form) (two_clocks(as_of, None)) (headline)
                section id="overdue" aria-labelledby="overdue-h" {
                    h2 id="overdue-h" { "Overdue (" (overdue_rows.len()) ")" }
                    p {
                        "Deadlines passed where a source records that the obligation was not met, \
                         and nothing recorded since says it was."
                    }
                    @if overdue_rows.is_empty() {
                        p.none { "No deadline is recorded as missed by this date." }
                    } @else {
                        (table(
                            &format!("Overdue on {}", long(as_of)),
                            &headers_detailed,
                            &overdue_rows
                        ))
                    }
                    @if !silent_rows.is_empty() {
                        h3 {
                            "Art. 5 deadlines passed with nothing recorded since ("
                            (silent_rows.len()) ")"
                        }
                        p {
                            "These States Parties have an Article 5 history in the record, and their \
                             deadline passed with neither completion, a recorded miss nor a further \
                             extension recorded (the record may be incomplete)."
                        }
                        (table(
                            &format!(
                                "Art. 5 deadlines passed, nothing recorded since, on {}",
                                long(as_of)
                            ),
                            &headers_detailed,
                            &silent_rows
                        ))
                    }
                }
                section id="soon" aria-labelledby="soon-h" {
                    h2 id="soon-h" { "Due in the next " (SOON_MONTHS) " months (" (soon.len()) ")" }
                    @if !soon_rows.is_empty() {
                        (table(
                            &format!("Due from {} to {}", long(as_of), long(soon_end)),
                            &headers_detailed,
                            &soon_rows
                        ))
                    }
                    @if !soon_grouped.is_empty() {
                        p { "Due for many States Parties at once:" }
                        ul { @for li in &soon_grouped { (li) } }
                    } @else if soon.is_empty() {
                        p.none { "Nothing falls due in this period." }
                    }
                }
                section id="counts" aria-labelledby="counts-h" {
                    h2 id="counts-h" { "By article and by state" }
                    (table(
                        &format!("Deadlines by article on {}", long(as_of)),
                        &[
                            "Article",
                            "Deadlines",
                            "Overdue",
                            "Due soon",
                            "Met or completed",
                            "Running",
                            "Not known",
                        ],
                        &art_rows
                    ))
                    @if !state_rows.is_empty() {
                        (table(
                            "States Parties with deadlines overdue or due soon",
                            &["State", "Overdue", "Due soon (in progress)", "More"],
                            &state_rows,
                        ))
                    }
                }
                section id="unknown" aria-labelledby="unknown-h" {
                    h2 id="unknown-h" { "Not known either way (" (unknown_n) ")" }
                    p {
                        "For these deadlines nothing recorded tells whether the obligation was met; \
                         this is what the record lacks, grouped by article:"
                    }
                    (unknown_html)
                }
                p.full {
                    "The full list: "
                    a href={ "/deadlines?" (full) } { "all " (all.len()) " deadlines" }
                    " (or download it as " a href={ "/deadlines.csv?" (full) } { "CSV" } ")."
                }
                (notes.render())
            }
        } else {
            let html_rows: Vec<Vec<Markup>> = rows
                .iter()
                .map(|r| {
                    vec![
                        html! { (r.due) },
                        state_link(app, &r.code, Some(as_of)),
                        html! { (r.article) },
                        html! { (r.title) },
                        obligation_cell(r),
                    ]
                })
                .collect();
            html! {
                h1 { "Deadlines" }
                (intro) (form) (two_clocks(as_of, None)) (headline)
                p {
                    (rows.len()) " deadlines (" (show) "). "
                    a href={ "/deadlines?" (query_with(None, None)) } { "Back to the overview" }
                    " · "
                    a href={ "/deadlines.csv?" (query) } { "Download as CSV" }
                }
                (table(
                    &format!("Deadlines as of {}", long(as_of)),
                    &["Due", "State", "Article", "Obligation", "State of the obligation"],
                    &html_rows
                ))
            }
        };
        let summary = DeadlinesSummary {
            overdue: overdue_n,
            states_overdue: by_state.values().filter(|v| v.0 > 0).count(),
            due_within_24_months: soon_n,
            due_soon_until: soon_end,
            unknown: unknown_n,
            by_article,
            by_state: by_state
                .iter()
                .map(|(c, (o, s))| StateDeadlineCounts {
                    code: c.clone(),
                    overdue: *o,
                    due_soon: *s,
                })
                .collect(),
            unknown_groups,
            art5: a5,
            art5_deadline_passed_nothing_since: passed_silent
                .iter()
                .map(|c| c.to_string())
                .collect(),
        };
        let count = rows.len();
        let deadlines: Vec<DeadlineRow> = rows.into_iter().cloned().collect();
        Ok(Out {
            page: Page {
                title: "Deadlines".into(),
                main,
                json_href: Some(format!("/deadlines.json?{query}")),
                csv: vec![(format!("/deadlines.csv?{query}"), "CSV".into())],
                ..Page::default()
            },
            data: derived_value(&DeadlinesAnswer {
                as_of,
                show,
                count,
                deadlines,
                summary,
            })?,
            csv: Some((vec!["due", "code", "article", "obligation", "state", "overdue", "passed", "name"], csv_rows)),
            name: "deadlines".into(),
        })
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn explanations_lose_their_dates_and_keep_their_words() {
        assert_eq!(
            without_dates("deadline 31 December 2024 passed; neither completion nor a miss"),
            "deadline passed; neither completion nor a miss"
        );
        assert_eq!(
            without_dates("deadline passed in March 2011, then nothing"),
            "deadline passed, then nothing"
        );
        assert_eq!(
            without_dates("not yet due on 1 January 2026"),
            "not yet due"
        );
        assert_eq!(
            without_dates("no Art. 7 reports recorded"),
            "no Art. 7 reports recorded"
        );
    }

    #[test]
    fn meeting_dates_in_words_and_iso() {
        let d = |s: &str| Some(PartialDate::parse(s).unwrap());
        assert_eq!(
            range_words(d("2009-11-29"), d("2009-12-04")),
            "29 November 2009 to 4 December 2009"
        );
        assert_eq!(
            range_words(d("2023-11-23"), d("2023-11-23")),
            "23 November 2023"
        );
        assert_eq!(range_words(None, None), "dates not recorded");
        assert_eq!(
            range_iso(d("2009-11-29"), d("2009-12-04")),
            "2009-11-29/2009-12-04"
        );
        assert_eq!(range_iso(d("2023-11-23"), d("2023-11-23")), "2023-11-23");
    }

    #[test]
    fn labels_that_would_overlap_go_to_another_row() {
        // Two labels at nearly the same place, a third far away.
        let rows = place(&[(100.0, 10), (110.0, 10), (500.0, 10)]);
        assert_eq!(rows[0].0, 0);
        assert_eq!(rows[1].0, 1);
        assert_eq!(rows[2].0, 0);
        // A label at the right edge is anchored at its end.
        let rows = place(&[(790.0, 10)]);
        assert!(rows[0].1);
    }

    #[test]
    fn the_two_clocks_are_said_in_words() {
        let d = Date::new(2010, 1, 1).unwrap();
        assert!(two_clocks(d, None)
            .into_string()
            .contains(
                r#"As of <time datetime="2010-01-01">1 January 2010</time>: what had happened and been published by then."#
            ));
        assert!(two_clocks(d, Some(42)).into_string().contains("record=42"));
    }
}
