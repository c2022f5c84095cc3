//! The impact half of a profile — casualties (an SVG chart by data year), use by actor in the
//! Monitor's words, Art. 7 reporting by year — with their JSON and CSV twins
//! (`/states/{code}/casualties.json|.csv`, `/states/{code}/use.json|.csv`,
//! `/states/{code}/transparency.json|.csv`), and the world pages `/casualties` and `/use`
//! (each with `.json` and `.csv`). The answers are `minewatch_answers::impact`'s.

use crate::pages::{
    as_of, derived_value, name_of, negotiate, run_plain, sources_map, state_link, subject_or_404,
    Fmt, Out, PageError, PageResult,
};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minewatch_answers::describe::thousands;
use minewatch_answers::impact::{
    self, CasualtiesAnswer, CasualtyPoint, EarlierEdition, TransparencyAnswer, UseAnswer, UseEntry,
    WorldCasualtiesAnswer, WorldUseAnswer,
};
use minewatch_domain::{Citation, Date, FactKind, Source};
use minewatch_store::{FactFilter, FactRecord, Store};
use minewatch_treaty::StatusReport;
use minewatch_web::html::{as_of_form, html, long, table, url_enc, Footnotes, Markup, Page};
use minewatch_web::App;
use std::collections::HashMap;
use std::sync::Arc;

/// The facts of `kind` (every subject, or one) as the record stood at `record` and as known on
/// `as_of`.
fn facts_of(
    store: &Store,
    kind: FactKind,
    subject: Option<&str>,
    as_of: Date,
    record: Option<i64>,
) -> Result<Vec<FactRecord>, PageError> {
    Ok(store.facts(&FactFilter {
        subject: subject.map(String::from),
        kind: Some(kind),
        as_of: Some(as_of),
        recorded_by_time: None,
        up_to_fact: record,
        except_kinds: &[],
    })?)
}

/// `?edition=LM2017`: the figures as that edition left them (no later edition's); absent: every
/// edition, the latest shown. A 400 page that says why when it names no year.
fn edition_limit(q: &HashMap<String, String>) -> Result<Option<i32>, PageError> {
    match q.get("edition").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(e) => match impact::edition_year(e) {
            y if (1990..=2100).contains(&y) => Ok(Some(y)),
            _ => Err(PageError::new(
                axum::http::StatusCode::BAD_REQUEST,
                format!("edition={e:?}: expected a report edition such as LM2017"),
            )),
        },
    }
}

/// Keeps the casualty figures of editions up to `limit`.
fn up_to_edition(facts: Vec<FactRecord>, limit: Option<i32>) -> Vec<FactRecord> {
    facts
        .into_iter()
        .filter(|r| match (&r.fact.payload, limit) {
            (minewatch_domain::Payload::CasualtyFigure(c), Some(y)) => c.edition_year <= y,
            _ => true,
        })
        .collect()
}

/// The three impact answers of a profile, and their markup.
pub(crate) struct ProfileImpact {
    pub casualties: CasualtiesAnswer,
    pub uses: UseAnswer,
    pub transparency: TransparencyAnswer,
    pub casualties_html: Markup,
    pub use_html: Markup,
    pub transparency_html: Markup,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn profile_impact(
    app: &App,
    store: &Store,
    code: &str,
    facts: &[FactRecord],
    report: &StatusReport,
    sources: &HashMap<String, Source>,
    as_of: Date,
    record: Option<i64>,
    notes: &mut Footnotes,
) -> Result<ProfileImpact, PageError> {
    let casualties = impact::casualties(code, facts.iter().map(|r| &r.fact), sources, as_of);
    let activity = facts_of(store, FactKind::MineActivity, None, as_of, record)?;
    let uses = impact::uses(code, activity.iter().map(|r| &r.fact), sources, as_of);
    let transparency = impact::transparency(code, report, sources, as_of);
    let casualties_html = casualties_html(&casualties, notes, code, &name_of(app, code), as_of);
    let use_html = use_html(app, &uses, notes, code, as_of);
    let transparency_html = transparency_html(&transparency, notes, code, as_of);
    Ok(ProfileImpact {
        casualties,
        uses,
        transparency,
        casualties_html,
        use_html,
        transparency_html,
    })
}

/// Land release by year for "Contamination and clearance": the subject's headline figures whose
/// metric names released (or cleared) land, by data year; one line when none is recorded.
pub(crate) fn land_release(facts: &[FactRecord], notes: &mut Footnotes) -> Markup {
    let mut rows: Vec<(i32, i32, Markup)> = Vec::new();
    for r in facts {
        if let minewatch_domain::Payload::HeadlineFigure(h) = &r.fact.payload {
            let m = h.metric.to_lowercase();
            if m.contains("releas") || m.contains("clear") {
                rows.push((
                    h.data_year,
                    h.report_edition,
                    html! {
                        tr {
                            td { (h.data_year) }
                            td { (h.metric.replace('_', " ")) }
                            td { (h.value) " " (h.unit) }
                            td { "LM" (h.report_edition) }
                            td { (notes.cite(&r.fact.citations)) }
                        }
                    },
                ));
            }
        }
    }
    if rows.is_empty() {
        return html! { p.none { "No land release figures by year recorded." } };
    }
    rows.sort_by_key(|r| (std::cmp::Reverse(r.0), std::cmp::Reverse(r.1)));
    html! {
        table {
            caption { "Land release by data year" }
            thead { tr { th { "Data year" } th { "Measure" } th { "Figure" } th { "Edition" } th { "Source" } } }
            tbody { @for r in &rows { (r.2) } }
        }
    }
}

/// Every citation of the impact sections (for the profile's list of sources).
pub(crate) fn cited(p: &ProfileImpact) -> Vec<Citation> {
    let c = &p.casualties;
    c.by_year
        .iter()
        .chain(&c.cumulative)
        .flat_map(|x| {
            x.sources
                .iter()
                .chain(x.other_editions.iter().flat_map(|e| e.sources.iter()))
        })
        .chain(p.uses.entries.iter().flat_map(|e| e.sources.iter()))
        .chain(p.transparency.reports.iter().flat_map(|r| r.sources.iter()))
        .cloned()
        .collect()
}

fn twins(base: &str, as_of: Date) -> Markup {
    html! {
        p.twins {
            "This section as "
            a href={ (base) ".json?as_of=" (as_of) } { "JSON" }
            " · "
            a href={ (base) ".csv?as_of=" (as_of) } { "CSV" }
        }
    }
}

fn count(n: Option<u64>) -> String {
    n.map(thousands).unwrap_or_else(|| "–".into())
}

fn total_words(p: &CasualtyPoint) -> String {
    match (p.total, p.total_less_than) {
        (Some(t), _) => thousands(t),
        (None, Some(b)) => format!("fewer than {}", thousands(b)),
        (None, None) => "not recorded".into(),
    }
}

fn years_words(p: &CasualtyPoint) -> String {
    match p.first_year {
        Some(f) => format!("{f}–{}", p.data_year),
        None => p.data_year.to_string(),
    }
}

/// A bar chart of casualties by data year: killed and injured stacked where both are known
/// (the rest of the total, of unknown outcome, on top), else the total; each bar links to its
/// footnote.
pub(crate) fn casualty_chart(
    points: &[CasualtyPoint],
    notes: &mut Footnotes,
    id: &str,
    title: &str,
) -> Markup {
    let drawn: Vec<&CasualtyPoint> = points
        .iter()
        .filter(|p| p.first_year.is_none() && (p.total.is_some() || p.total_less_than.is_some()))
        .collect();
    let (Some(y0), Some(y1)) = (
        drawn.iter().map(|p| p.data_year).min(),
        drawn.iter().map(|p| p.data_year).max(),
    ) else {
        return Markup::default();
    };
    let max = drawn
        .iter()
        .map(|p| p.total.or(p.total_less_than).unwrap_or(0))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 24.0;
    const LEFT: f64 = 8.0;
    let slots = (y1 - y0 + 1) as f64;
    let slot = (W - 2.0 * LEFT) / slots;
    let bar = (slot * 0.6).clamp(6.0, 48.0);
    let y_of = |v: u64| TOP + (H - TOP - BOTTOM) * (1.0 - v as f64 / max);
    let base = H - BOTTOM;
    let title_id = format!("{id}-title");
    let mut groups = Vec::new();
    for p in &drawn {
        let fns = notes.numbers(&p.sources);
        let first = fns.first().copied().unwrap_or(0);
        let x = LEFT + (p.data_year - y0) as f64 * slot + (slot - bar) / 2.0;
        let value = p.total.or(p.total_less_than).unwrap_or(0);
        let revised = p.revision_words();
        let tip = format!(
            "{}: {} casualties ({} killed, {} injured), {} edition{}",
            p.data_year,
            total_words(p),
            count(p.killed),
            count(p.injured),
            p.report_edition,
            if revised.is_empty() {
                String::new()
            } else {
                format!("; {revised}")
            }
        );
        let stacked = match (p.killed, p.injured, p.total) {
            (Some(k), Some(i), Some(t)) => Some((k, i, t)),
            _ => None,
        };
        let fn_text = fns.iter().map(|n| format!("[{n}]")).collect::<String>();
        groups.push(html! {
            g.point id={ (id) "-" (p.data_year) } {
                title { (tip) }
                a href={ "#fn" (first) } class="bar-link" aria-label={ (tip) ", see footnote " (first) } {
                    @match stacked {
                        Some((k, i, t)) => {
                            @let yk = y_of(k);
                            @let yi = y_of(k + i);
                            @let yt = y_of(t);
                            rect.killed x=(format!("{x:.1}")) y=(format!("{yk:.1}")) width=(format!("{bar:.1}")) height=(format!("{:.1}", (base - yk).max(0.5))) {}
                            rect.injured x=(format!("{x:.1}")) y=(format!("{yi:.1}")) width=(format!("{bar:.1}")) height=(format!("{:.1}", (yk - yi).max(0.0))) {}
                            @if t > k + i {
                                rect.unknown x=(format!("{x:.1}")) y=(format!("{yt:.1}")) width=(format!("{bar:.1}")) height=(format!("{:.1}", (yi - yt).max(0.0))) {}
                            }
                        }
                        None => {
                            @let yt = y_of(value);
                            rect class={ @if p.total.is_some() { "total" } @else { "total bound" } }
                                x=(format!("{x:.1}")) y=(format!("{yt:.1}")) width=(format!("{bar:.1}")) height=(format!("{:.1}", (base - yt).max(0.5))) {}
                        }
                    }
                }
                text.val x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.1}", y_of(value) - 4.0)) text-anchor="middle" {
                    @if p.total.is_none() { "<" }
                    (thousands(value))
                    @if !revised.is_empty() { "*" }
                    " "
                    a href={ "#fn" (first) } class="fnref" { (fn_text) }
                }
                text.year x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.1}", H - 8.0)) text-anchor="middle" { (p.data_year) }
            }
        });
    }
    let any_stacked = drawn
        .iter()
        .any(|p| p.killed.is_some() && p.injured.is_some());
    html! {
        figure.casualty-chart {
            svg.chart.casualties id=(id) role="img" aria-labelledby=(title_id) viewBox={ "0 0 " (W) " " (H) } width="100%" {
                title id=(title_id) { (title) }
                line.axis x1=(LEFT) y1=(base) x2=(W - LEFT) y2=(base) {}
                @for g in &groups { (g) }
            }
            figcaption {
                (title) ". Each bar is the latest edition's figure for its data year; "
                @if any_stacked { "dark: killed, light: injured, grey: outcome unknown; " }
                "* revised by a later edition. Bars link to their sources."
            }
        }
    }
}

fn casualty_rows(points: &[CasualtyPoint], notes: &mut Footnotes) -> Vec<Vec<Markup>> {
    points
        .iter()
        .rev()
        .map(|p| {
            let revised = p.revision_words();
            vec![
                html! { (years_words(p)) },
                html! { (count(p.killed)) },
                html! { (count(p.injured)) },
                html! {
                    strong { (total_words(p)) }
                    @if !revised.is_empty() { " " span.revised { "(" (revised) ")" } }
                },
                html! { (p.report_edition) },
                notes.cite(&p.sources),
            ]
        })
        .collect()
}

fn casualties_html(
    a: &CasualtiesAnswer,
    notes: &mut Footnotes,
    code: &str,
    name: &str,
    as_of: Date,
) -> Markup {
    if a.empty.is_some() {
        return Markup::default();
    }
    let chart = casualty_chart(
        &a.by_year,
        notes,
        "casualties-chart",
        &format!("Recorded mine/ERW casualties by data year, {name}"),
    );
    let rows = casualty_rows(&a.by_year, notes);
    let cumulative = casualty_rows(&a.cumulative, notes);
    let headers = [
        "Data year",
        "Killed",
        "Injured",
        "Total",
        "Edition",
        "Source",
    ];
    html! {
        (chart)
        @if !rows.is_empty() {
            (table("Casualties by data year (latest edition)", &headers, &rows))
        }
        @if !cumulative.is_empty() {
            (table("Cumulative figures over several years", &headers, &cumulative))
        }
        @let without: Vec<&CasualtyPoint> = a.by_year.iter().filter(|p| p.total.is_none() && p.total_less_than.is_none()).collect();
        @for p in without {
            @if let Some(n) = &p.note {
                p.note { (p.data_year) " (" (p.report_edition) "): no count recorded; the source's note: " (n) }
            }
        }
        (twins(&format!("/states/{}/casualties", url_enc(code)), as_of))
    }
}

fn actor_words(t: &str) -> &'static str {
    match t {
        "state" => "state",
        "non_state_armed_group" => "non-state armed group",
        _ => "unattributed",
    }
}

fn use_rows(
    app: &App,
    entries: &[UseEntry],
    notes: &mut Footnotes,
    as_of: Date,
) -> Vec<Vec<Markup>> {
    entries
        .iter()
        .map(|e| {
            vec![
                html! { (e.report_edition) },
                html! { (e.period.as_deref().unwrap_or("")) },
                html! {
                    (e.actor.as_deref().unwrap_or("")) " "
                    span.meta { "(" (actor_words(e.actor_type)) ")" }
                    (group_links(app, e))
                },
                html! {
                    @match &e.place {
                        Some(p) => (p),
                        None => (state_link(app, &e.subject, Some(as_of))),
                    }
                },
                html! { q { (e.wording) } " " span.meta { "(" (e.certainty) ")" } },
                notes.cite(&e.sources),
            ]
        })
        .collect()
}

/// Links to the profiles of the armed groups a use report names ([`impact::armed_groups_named`]).
fn group_links(app: &App, e: &UseEntry) -> Markup {
    let groups = impact::armed_groups_named(e, app.gazetteer().subjects());
    html! {
        @for g in &groups {
            " " span.group { "see " a href={ "/states/" (url_enc(&g.code)) } { (g.name) } }
        }
    }
}

/// An armed group's profile: where it used mines, as the Monitor's reports that name it say
/// (each place linking to the country's profile, or to `/use` for a report that names no one
/// country), and the entries for the JSON twin.
pub(crate) fn armed_group_uses(
    app: &App,
    store: &Store,
    code: &str,
    as_of: Date,
    record: Option<i64>,
    notes: &mut Footnotes,
) -> Result<(Vec<UseEntry>, Markup), PageError> {
    let facts = facts_of(store, FactKind::MineActivity, None, as_of, record)?;
    let entries = impact::group_uses(
        code,
        app.gazetteer().subjects(),
        facts.iter().map(|r| &r.fact),
    );
    if entries.is_empty() {
        return Ok((entries, Markup::default()));
    }
    let rows: Vec<Vec<Markup>> = entries
        .iter()
        .map(|e| {
            let place = e.place.as_deref().unwrap_or("");
            vec![
                html! { (e.report_edition) },
                html! { (e.period.as_deref().unwrap_or("")) },
                html! { (e.actor.as_deref().unwrap_or("")) },
                html! {
                    @if e.subject == "WLD" {
                        (place) " " span.meta { "(" a href={ "/use?as_of=" (as_of) } { "every report of use" } ")" }
                    } @else {
                        (state_link(app, &e.subject, Some(as_of)))
                        @if !place.is_empty() { " (" (place) ")" }
                    }
                },
                html! { q { (e.wording) } " " span.meta { "(" (e.certainty) ")" } },
                notes.cite(&e.sources),
            ]
        })
        .collect();
    let markup = html! {
        p {
            "Use of anti-personnel mines by this group, as the Landmine Monitor's reports that \
             name it put it (a report naming several groups counts for each)."
        }
        (table("Use reported, by report edition", &USE_HEADERS, &rows))
    };
    Ok((entries, markup))
}

const USE_HEADERS: [&str; 6] = [
    "Edition",
    "Period",
    "Who",
    "Where",
    "The Monitor's words",
    "Source",
];

fn use_html(app: &App, a: &UseAnswer, notes: &mut Footnotes, code: &str, as_of: Date) -> Markup {
    if a.entries.is_empty() {
        return Markup::default();
    }
    let rows = use_rows(app, &a.entries, notes, as_of);
    html! {
        p {
            "New use reported by the Landmine Monitor, edition by edition: by this state's forces \
             or on its territory. Use by a non-state armed group is not the state's act."
        }
        (table("New use of anti-personnel mines, by report edition and actor", &USE_HEADERS, &rows))
        (twins(&format!("/states/{}/use", url_enc(code)), as_of))
    }
}

fn transparency_html(
    a: &TransparencyAnswer,
    notes: &mut Footnotes,
    code: &str,
    as_of: Date,
) -> Markup {
    if a.reports.is_empty() {
        return Markup::default();
    }
    let rows: Vec<Vec<Markup>> = a
        .reports
        .iter()
        .map(|r| {
            vec![
                html! { (r.report) },
                html! { @match r.due { Some(d) => (long(d)), None => "–" } },
                html! { span class={ "art7 art7-" (r.state.replace([' ', '(', ')'], "-")) } { (r.state) } },
                html! { (r.why.join("; ")) },
                notes.cite(&r.sources),
            ]
        })
        .collect();
    html! {
        (table(
            &format!("Art. 7 transparency reports, as of {}", long(as_of)),
            &["Report", "Due", "Recorded", "Why", "Source"],
            &rows
        ))
        p.meta { "\u{201c}Not known\u{201d}: the record holds nothing about that report (absence is not evidence)." }
        (twins(&format!("/states/{}/transparency", url_enc(code)), as_of))
    }
}

// ---- section twins ---------------------------------------------------------------------------

fn cites_text(c: &[Citation]) -> String {
    c.iter()
        .map(|c| match &c.locator {
            Some(l) => format!("{}#{l}", c.source),
            None => c.source.clone(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

pub(crate) fn casualty_csv_row(p: &CasualtyPoint) -> Vec<String> {
    vec![
        p.subject.clone(),
        p.data_year.to_string(),
        opt(p.first_year),
        p.report_edition.clone(),
        opt(p.killed),
        opt(p.injured),
        opt(p.total),
        opt(p.total_less_than),
        p.revised_from
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e.report_edition,
                    opt(e.total.or(e.total_less_than))
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        p.fact.to_string(),
        cites_text(&p.sources),
    ]
}

const CASUALTY_CSV: [&str; 11] = [
    "subject",
    "data_year",
    "first_year",
    "report_edition",
    "killed",
    "injured",
    "total",
    "total_less_than",
    "revised_from",
    "fact",
    "sources",
];

fn use_csv_row(e: &UseEntry) -> Vec<String> {
    vec![
        e.report_edition.clone(),
        e.subject.clone(),
        e.period.clone().unwrap_or_default(),
        e.actor_type.to_string(),
        e.actor.clone().unwrap_or_default(),
        e.actor_state.clone().unwrap_or_default(),
        e.place.clone().unwrap_or_default(),
        e.wording.clone(),
        e.certainty.to_string(),
        e.fact.to_string(),
        cites_text(&e.sources),
    ]
}

const USE_CSV: [&str; 11] = [
    "report_edition",
    "subject",
    "period",
    "actor_type",
    "actor",
    "actor_state",
    "place",
    "wording",
    "certainty",
    "fact",
    "sources",
];

/// Which section a twin is of.
#[derive(Clone, Copy)]
enum Part {
    Casualties,
    Use,
    Transparency,
}

async fn section_twin(
    app: Arc<App>,
    code: String,
    part: Part,
    fmt: Fmt,
    q: HashMap<String, String>,
) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    let subject = match subject_or_404(&app, &code) {
        Ok(s) => s.code.clone(),
        Err(e) => return e.respond(fmt),
    };
    let limit = match edition_limit(&q) {
        Ok(l) => l,
        Err(e) => return e.respond(fmt),
    };
    run_plain(app, fmt, move |app, store| {
        let sources = sources_map(store)?;
        let (data, csv) = match part {
            Part::Casualties => {
                let facts = up_to_edition(
                    facts_of(store, FactKind::CasualtyFigure, Some(&subject), as_of, None)?,
                    limit,
                );
                let a =
                    impact::casualties(&subject, facts.iter().map(|r| &r.fact), &sources, as_of);
                let rows = a
                    .by_year
                    .iter()
                    .chain(&a.cumulative)
                    .map(casualty_csv_row)
                    .collect();
                (derived_value(&a)?, (CASUALTY_CSV.to_vec(), rows))
            }
            Part::Use => {
                let facts = facts_of(store, FactKind::MineActivity, None, as_of, None)?;
                let a = impact::uses(&subject, facts.iter().map(|r| &r.fact), &sources, as_of);
                let rows = a.entries.iter().map(use_csv_row).collect();
                (derived_value(&a)?, (USE_CSV.to_vec(), rows))
            }
            Part::Transparency => {
                let engine = app.subject_engine(store, &subject)?;
                let report = engine.status(&subject, as_of);
                let a = impact::transparency(&subject, &report, &sources, as_of);
                let rows = a
                    .reports
                    .iter()
                    .map(|r| {
                        vec![
                            subject.clone(),
                            r.article.to_string(),
                            r.report.clone(),
                            opt(r.year_covered),
                            opt(r.due),
                            r.state.to_string(),
                            r.facts
                                .iter()
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(" "),
                            cites_text(&r.sources),
                        ]
                    })
                    .collect();
                (
                    derived_value(&a)?,
                    (
                        vec![
                            "subject",
                            "article",
                            "report",
                            "year_covered",
                            "due",
                            "state",
                            "facts",
                            "sources",
                        ],
                        rows,
                    ),
                )
            }
        };
        Ok(Out {
            page: Page::default(),
            data,
            csv: Some(csv),
            name: subject.clone(),
        })
    })
    .await
}

macro_rules! twin_handlers {
    ($($json:ident, $csv:ident => $part:expr;)+) => {$(
        pub async fn $json(
            State(app): State<Arc<App>>,
            Path(code): Path<String>,
            Query(q): Query<HashMap<String, String>>,
        ) -> Response {
            section_twin(app, code, $part, Fmt::Json, q).await
        }

        pub async fn $csv(
            State(app): State<Arc<App>>,
            Path(code): Path<String>,
            Query(q): Query<HashMap<String, String>>,
        ) -> Response {
            section_twin(app, code, $part, Fmt::Csv, q).await
        }
    )+};
}

twin_handlers! {
    casualties_json, casualties_csv => Part::Casualties;
    use_json, use_csv => Part::Use;
    transparency_json, transparency_csv => Part::Transparency;
}

// ---- world pages -----------------------------------------------------------------------------

pub async fn casualties_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    casualties_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn world_casualties_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    casualties_fmt(app, Fmt::Json, q).await
}

pub async fn world_casualties_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    casualties_fmt(app, Fmt::Csv, q).await
}

async fn casualties_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    let limit = match edition_limit(&q) {
        Ok(l) => l,
        Err(e) => return e.respond(fmt),
    };
    run_plain(app, fmt, move |app, store| {
        world_casualties(app, store, as_of, limit)
    })
    .await
}

fn world_casualties(app: &App, store: &Store, as_of: Date, limit: Option<i32>) -> PageResult {
    let sources = sources_map(store)?;
    let facts = up_to_edition(
        facts_of(store, FactKind::CasualtyFigure, None, as_of, None)?,
        limit,
    );
    let a: WorldCasualtiesAnswer =
        impact::world_casualties(facts.iter().map(|r| &r.fact), &sources, as_of);
    let mut notes = Footnotes::new(&sources);
    let chart = casualty_chart(
        &a.global,
        &mut notes,
        "world-casualties-chart",
        "Recorded mine/ERW casualties worldwide by data year",
    );
    // Every edition's global figure, newest data year first.
    let mut edition_rows = Vec::new();
    for p in a.global.iter().rev() {
        let latest = EarlierEdition {
            report_edition: p.report_edition.clone(),
            edition_year: p.edition_year,
            total: p.total,
            total_less_than: p.total_less_than,
            killed: p.killed,
            injured: p.injured,
            fact: p.fact,
            sources: p.sources.clone(),
        };
        let all = std::iter::once(&latest).chain(&p.other_editions);
        for (i, e) in all.enumerate() {
            let total = match (e.total, e.total_less_than) {
                (Some(t), _) => thousands(t),
                (None, Some(b)) => format!("fewer than {}", thousands(b)),
                (None, None) => "not recorded".into(),
            };
            edition_rows.push(vec![
                html! { (p.data_year) },
                html! { (e.report_edition) @if i == 0 { " " span.meta { "(latest)" } } },
                html! { (count(e.killed)) },
                html! { (count(e.injured)) },
                html! { @if i == 0 { strong { (total) } } @else { (total) } },
                notes.cite(&e.sources),
            ]);
        }
    }
    let top_rows: Vec<Vec<Markup>> = a
        .top_countries
        .iter()
        .map(|p| {
            vec![
                state_link(app, &p.subject, Some(as_of)),
                html! { (p.data_year) },
                html! { (total_words(p)) },
                notes.cite(&p.sources),
            ]
        })
        .collect();
    let main = html! {
        h1 { "Casualties of mines and explosive remnants of war" }
        p.lede {
            "The Landmine Monitor's recorded casualties (killed and injured) by data year. Each \
             edition reports the year before its publication and revises earlier years: every \
             figure is kept with its data year and its edition, and the latest edition's is shown \
             first."
        }
        (as_of_form("/casualties", as_of, &[], "Show the figures known on"))
        p.meta {
            "Add " code { "?edition=LM2017" } " to the address to see the figures as an edition \
             left them, before later editions revised them."
            @if let Some(y) = limit { " Shown: editions up to " (y) "." }
        }
        @if let Some(d) = a.last_updated { p.updated { "Last updated: " (d.long()) } }
        @if a.global.is_empty() {
            p.none { "No casualty figures recorded." }
        } @else {
            (chart)
            (table("Global totals by data year and edition", &["Data year", "Edition", "Killed", "Injured", "Total", "Source"], &edition_rows))
        }
        @if let Some(e) = &a.latest_edition {
            h2 { "Countries with the most casualties in " (e) }
            p { "Country figures of the " (e) " edition recorded here (not every country's figure is recorded)." }
            (table(&format!("Country figures, {e}"), &["State or area", "Data year", "Casualties", "Source"], &top_rows))
        }
        (notes.render())
    };
    let csv_rows = a
        .global
        .iter()
        .chain(&a.top_countries)
        .map(casualty_csv_row)
        .collect();
    Ok(Out {
        page: Page {
            title: format!("Casualties as of {}", long(as_of)),
            main,
            json_href: Some(format!("/casualties.json?as_of={as_of}")),
            csv: vec![(format!("/casualties.csv?as_of={as_of}"), "CSV".into())],
            ..Page::default()
        },
        data: derived_value(&a)?,
        csv: Some((CASUALTY_CSV.to_vec(), csv_rows)),
        name: "casualties".into(),
    })
}

pub async fn use_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn world_use_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use_fmt(app, Fmt::Json, q).await
}

pub async fn world_use_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use_fmt(app, Fmt::Csv, q).await
}

async fn use_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run_plain(app, fmt, move |app, store| world_use(app, store, as_of)).await
}

fn world_use(app: &App, store: &Store, as_of: Date) -> PageResult {
    let sources = sources_map(store)?;
    let facts = facts_of(store, FactKind::MineActivity, None, as_of, None)?;
    let a: WorldUseAnswer = impact::world_use(facts.iter().map(|r| &r.fact), &sources, as_of);
    let mut notes = Footnotes::new(&sources);
    let mut blocks = Vec::new();
    let mut csv_rows = Vec::new();
    for ed in &a.editions {
        let id = format!(
            "edition-{}",
            ed.report_edition.to_lowercase().replace(' ', "-")
        );
        let states = use_rows(app, &ed.states, &mut notes, as_of);
        let groups = use_rows(app, &ed.armed_groups, &mut notes, as_of);
        let other = use_rows(app, &ed.unattributed, &mut notes, as_of);
        for e in ed
            .states
            .iter()
            .chain(&ed.armed_groups)
            .chain(&ed.unattributed)
        {
            csv_rows.push(use_csv_row(e));
        }
        blocks.push(html! {
            section.edition id=(id) {
                h2 { (ed.report_edition) }
                @if !states.is_empty() {
                    (table(&format!("{}: use by states' forces", ed.report_edition), &USE_HEADERS, &states))
                }
                @if !groups.is_empty() {
                    (table(&format!("{}: use by non-state armed groups", ed.report_edition), &USE_HEADERS, &groups))
                }
                @if !other.is_empty() {
                    (table(&format!("{}: use not attributed", ed.report_edition), &USE_HEADERS, &other))
                }
            }
        });
    }
    let main = html! {
        h1 { "Who used anti-personnel mines" }
        p.lede {
            "New use of anti-personnel mines as each edition of the Landmine Monitor reported it, \
             by states' forces and by non-state armed groups, in the Monitor's words (confirmed, \
             indications, allegation, unconfirmed). A State Party is answerable only for its own \
             forces' use; an armed group's use on its territory is not the state's act."
        }
        (as_of_form("/use", as_of, &[], "Show the reports known on"))
        @if let Some(d) = a.last_updated { p.updated { "Last updated: " (d.long()) } }
        @if a.editions.is_empty() {
            p.none { "No use recorded." }
        } @else {
            nav.editions aria-label="Editions" {
                @for ed in &a.editions {
                    a href={ "#edition-" (ed.report_edition.to_lowercase().replace(' ', "-")) } { (ed.report_edition) } " "
                }
            }
        }
        @for b in &blocks { (b) }
        (notes.render())
    };
    Ok(Out {
        page: Page {
            title: format!("Use of anti-personnel mines as of {}", long(as_of)),
            main,
            json_href: Some(format!("/use.json?as_of={as_of}")),
            csv: vec![(format!("/use.csv?as_of={as_of}"), "CSV".into())],
            ..Page::default()
        },
        data: derived_value(&a)?,
        csv: Some((USE_CSV.to_vec(), csv_rows)),
        name: "use".into(),
    })
}
