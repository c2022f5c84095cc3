//! The public web pages: server-rendered HTML that works without JavaScript, each with a JSON twin
//! (`.json` or `Accept: application/json`), CSV for its tables, and Atom feeds of changes.

use crate::map;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minewatch_answers::derived::{self, Scope};
use minewatch_answers::describe::{sentence, thousands};
use minewatch_answers::json::{CitedSourceEntry, SourceKey, SourceWithFacts};
use minewatch_answers::pages::{
    group_facts, ClassifyAnswer, HeadlineFigure, HomeAnswer, LatestChange, PoliciesAnswer,
    ProfileAnswer, RollCallPageAnswer, RollCallsAnswer, SearchAnswer, SearchHit, Section, StateRow,
    Statement, StatesAnswer, StatusRow, Stockpile, StockpileType,
};
use minewatch_answers::wire_word;
use minewatch_domain::fact::Vote;
use minewatch_domain::{Citation, Date, Fact, FactKind, Payload, Source, Subject};
use minewatch_store::{FactFilter, FactRecord, Store};
use minewatch_treaty::{Engine, Reason};
use minewatch_web::html::{
    as_of_form, date, date_or_undated, esc, html, long, plong, source_line, status_badge,
    status_words, table, url_enc, Footnotes, Markup, Page, STATUSES,
};
pub use minewatch_web::page::{negotiate, run, run_plain, Fmt, Out, PageError, PageResult};
use minewatch_web::{ApiError, App};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

/// The stylesheet, embedded.
pub const STYLE: &str = include_str!("../assets/style.css");

/// `as_of` from a query: a 400 page that says why when it is not a date; today when absent.
pub(crate) fn as_of(q: &HashMap<String, String>) -> Result<Date, PageError> {
    match q.get("as_of").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(derived::today()?),
        Some(s) => Date::parse(s).map_err(|e| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("as_of={s:?}: {e}; expected a calendar date written YYYY-MM-DD, such as 2010-10-18"),
            )
        }),
    }
}

pub(crate) fn sources_map(store: &Store) -> Result<HashMap<String, Source>, PageError> {
    Ok(store
        .sources()?
        .into_iter()
        .map(|s| (s.source.key.clone(), s.source))
        .collect())
}

pub(crate) fn subject_or_404<'a>(app: &'a App, code: &str) -> Result<&'a Subject, PageError> {
    if let Some(s) = app.gazetteer().by_code(code) {
        return Ok(s);
    }
    let closest = app
        .gazetteer()
        .closest(&minewatch_domain::normalize_name(code), 5);
    let mut e = PageError::new(
        StatusCode::NOT_FOUND,
        format!("there is no state or area with the code {code:?}"),
    );
    if !closest.is_empty() {
        e.help = html! {
            p {
                "Did you mean: "
                @for (i, (c, n)) in closest.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/states/" (url_enc(c)) } { (n) }
                }
                "?"
            }
        };
    }
    Err(e)
}

pub(crate) fn name_of(app: &App, code: &str) -> String {
    app.gazetteer()
        .by_code(code)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| code.to_string())
}

pub(crate) fn state_link(app: &App, code: &str, as_of: Option<Date>) -> Markup {
    html! {
        a href={ "/states/" (url_enc(code)) @if let Some(d) = as_of { "?as_of=" (d) } } {
            (name_of(app, code))
        }
    }
}

pub(crate) fn reason_citations(reasons: &[Reason]) -> Vec<Citation> {
    let mut out: Vec<Citation> = Vec::new();
    for r in reasons {
        for c in &r.citations {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    out
}

pub(crate) fn reasons_html(reasons: &[Reason], notes: &mut Footnotes) -> Markup {
    html! {
        ul.reasons {
            @for r in reasons {
                li { (r.text) " " span.article { "(" (r.article) ")" } (notes.cite(&r.citations)) }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Home

pub async fn home(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    home_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn home_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    home_fmt(app, Fmt::Json, q).await
}

async fn home_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run(app, fmt, Scope::Treaty, move |app, store, engine| {
        let subjects = app.gazetteer().subjects();
        let codes: Vec<&str> = subjects
            .iter()
            .filter(|s| s.kind.as_str() == "state")
            .map(|s| s.code.as_str())
            .collect();
        let counts = engine.counts(as_of, &codes);
        let mut areas = Vec::new();
        let mut table_rows = Vec::new();
        for s in subjects {
            // A territory takes its parent state's status (Greenland, Denmark's); other areas
            // that are no state (Antarctica) are drawn as plain land.
            let owner = match (s.kind.as_str(), &s.parent) {
                ("state", _) => Some(s.code.as_str()),
                (_, Some(p)) => Some(p.as_str()),
                _ => None,
            };
            let Some(owner) = owner else {
                areas.push(map::Area {
                    code: s.code.clone(),
                    class: "land".into(),
                    title: format!("{}: not a state; no treaty status of its own", s.name),
                    href: format!("/states/{}?as_of={as_of}", s.code),
                });
                continue;
            };
            let st = engine.status_only(owner, as_of);
            let st = st.as_str();
            areas.push(map::Area {
                code: s.code.clone(),
                class: format!("st-{st}"),
                title: if owner == s.code {
                    format!("{}: {}", s.name, status_words(st))
                } else {
                    format!("{} ({}): {}", s.name, name_of(app, owner), status_words(st))
                },
                href: format!("/states/{}?as_of={as_of}", s.code),
            });
            if s.kind.as_str() == "state" {
                table_rows.push((s.name.clone(), s.code.clone(), st));
            }
        }
        let legend: Vec<map::LegendItem> = STATUSES
            .iter()
            .map(|st| map::LegendItem {
                class: format!("st-{st}"),
                label: status_words(st),
            })
            .collect();
        let svg = map::world_svg(
            &areas,
            &legend,
            &format!("Mine Ban Treaty status of every country on {}", long(as_of)),
        );
        let headline = store.facts(&FactFilter {
            subject: Some("WLD".into()),
            kind: Some(FactKind::HeadlineFigure),
            as_of: Some(as_of),
            recorded_by_time: None,
                up_to_fact: None,
                except_kinds: &[],
        })?;
        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let mut headline_json = Vec::new();
        // The latest edition's figures for each metric.
        let mut latest: BTreeMap<String, &FactRecord> = BTreeMap::new();
        for r in &headline {
            if let Payload::HeadlineFigure(h) = &r.fact.payload {
                let better = match latest.get(&h.metric) {
                    Some(prev) => match &prev.fact.payload {
                        Payload::HeadlineFigure(p) => {
                            (h.report_edition, h.data_year) > (p.report_edition, p.data_year)
                        }
                        _ => true,
                    },
                    None => true,
                };
                if better {
                    latest.insert(h.metric.clone(), r);
                }
            }
        }
        let mut headline_items = Vec::new();
        for r in latest.values() {
            let text = sentence(&r.fact, "World");
            headline_items.push(html! { li { (text) (notes.cite(&r.fact.citations)) } });
            headline_json.push(HeadlineFigure {
                text,
                fact: r.fact.id,
                payload: r.fact.payload.to_value(),
                sources: r.fact.citations.clone(),
            });
        }
        let recent = store.latest(10, None)?;
        let mut recent_items = Vec::new();
        let mut recent_json = Vec::new();
        for r in &recent {
            let name = name_of(app, &r.fact.subject);
            let text = sentence(&r.fact, &name);
            recent_items.push(html! {
                li {
                    a href={ "/states/" (url_enc(&r.fact.subject)) } { (name) }
                    ": " (text) " "
                    span.meta { "recorded " (r.fact.recorded_at) }
                }
            });
            recent_json.push(LatestChange {
                fact: r.fact.id,
                subject: r.fact.subject.clone(),
                text,
                recorded_at: r.fact.recorded_at.clone(),
            });
        }
        let count_rows = [
            ("States Parties (in force)", counts.parties_by_eif.count, "the treaty is in force for the state (Art. 17) and no withdrawal has taken effect"),
            ("States Parties (instrument deposited)", counts.parties_by_deposit.count, "instrument of ratification or accession deposited (Art. 16), in force or not"),
            ("Deposited, not yet in force", counts.deposited_not_in_force.count, "Art. 17(2): in force on the first day of the sixth month after deposit"),
            ("Signatories without an instrument", counts.signatories.count, "signed (Art. 15), nothing deposited"),
            ("Not signed, not party", counts.non_signatories.count, "among the UN member and observer states in the reference list"),
            ("Withdrawn", counts.withdrawn.count, "withdrawal in effect (Art. 20)"),
        ];
        let counts_table = html! {
            div.table {
                table {
                    caption { "Counts on " (date(as_of)) }
                    thead { tr { th scope="col" { "Status" } th scope="col" { "Number" } th scope="col" { "Basis" } } }
                    tbody {
                        @for (label, n, basis) in count_rows {
                            tr { th scope="row" { (label) } td { (n) } td { (basis) } }
                        }
                    }
                }
            }
        };
        table_rows.sort();
        let rows: Vec<Vec<Markup>> = table_rows
            .iter()
            .map(|(n, c, st)| {
                vec![
                    html! { a href={ "/states/" (url_enc(c)) "?as_of=" (as_of) } { (n) } },
                    html! { (c) },
                    status_badge(st),
                ]
            })
            .collect();
        let main = html! {
            h1 { "The Mine Ban Treaty on " (date(as_of)) }
            p.lede {
                "Who is bound by the 1997 Convention on the Prohibition of the Use, Stockpiling, \
                 Production and Transfer of Anti-Personnel Mines and on their Destruction, on any \
                 date, from a record in which every fact has a source."
            }
            (as_of_form("/", as_of, &[], "Show the world on"))
            section aria-labelledby="map-h" {
                h2 #map-h { "Treaty status by country" }
                figure.map {
                    (svg)
                    figcaption { "Select a country for its profile. The same data as a table follows the map." }
                }
                details {
                    summary { "The map as a table" }
                    (table(&format!("Treaty status on {}", long(as_of)), &["State", "Code", "Status"], &rows))
                }
            }
            section aria-labelledby="counts-h" {
                h2 #counts-h { "Counts" }
                p {
                    "States Parties are counted on a stated basis: by entry into force (legally \
                     bound) or by deposit of the instrument (as campaigners count); the two differ \
                     for the months after each deposit."
                }
                (counts_table)
            }
            section aria-labelledby="headline-h" {
                h2 #headline-h { "Headline figures" }
                @if headline_items.is_empty() {
                    p { "No headline figures recorded by this date." }
                } @else {
                    ul { @for i in &headline_items { (i) } }
                }
            }
            section aria-labelledby="recent-h" {
                h2 #recent-h { "Latest changes to the record" }
                ul.recent { @for i in &recent_items { (i) } }
                p { a href="/feed.atom" { "Follow changes (Atom feed)" } }
            }
            (notes.render())
        };
        let data = derived_value(&HomeAnswer {
            as_of,
            statuses: table_rows
                .iter()
                .map(|(n, c, st)| StatusRow {
                    code: c.clone(),
                    name: n.clone(),
                    status: st,
                })
                .collect(),
            counts,
            headline_figures: headline_json,
            latest_changes: recent_json,
        })?;
        Ok(Out {
            page: Page {
                title: format!("The Mine Ban Treaty on {}", long(as_of)),
                main,
                json_href: Some(format!("/index.json?as_of={as_of}")),
                ..Page::default()
            },
            data,
            csv: None,
            name: "index".into(),
        })
    })
    .await
}

pub(crate) fn derived_value<T: Serialize>(v: &T) -> Result<Value, PageError> {
    serde_json::to_value(v)
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// States index

pub async fn states_index(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    states_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn states_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    states_fmt(app, Fmt::Json, q).await
}

pub async fn states_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    states_fmt(app, Fmt::Csv, q).await
}

async fn states_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    let status_filter = q
        .get("status")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(s) = &status_filter {
        if !STATUSES.contains(&s.as_str()) {
            return PageError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "status={s:?} is not a status; expected one of {}",
                    STATUSES.join(", ")
                ),
            )
            .respond(fmt);
        }
    }
    let region = q
        .get("region")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let text = q
        .get("q")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let sort = q
        .get("sort")
        .map(String::as_str)
        .unwrap_or("name")
        .to_string();
    if !["name", "code", "status", "region", "eif"].contains(&sort.as_str()) {
        return PageError::new(
            StatusCode::BAD_REQUEST,
            format!("sort={sort:?}: expected name, code, status, region or eif"),
        )
        .respond(fmt);
    }
    run(app, fmt, Scope::Treaty, move |app, _store, engine| {
        let needle = text.as_deref().map(minewatch_domain::normalize_name);
        let mut rows = Vec::new();
        let mut regions: Vec<String> = Vec::new();
        for s in app.gazetteer().subjects() {
            if let Some(r) = &s.region {
                if !regions.contains(r) {
                    regions.push(r.clone());
                }
            }
            if s.code == "WLD" || s.kind.as_str() == "armed_group" {
                continue;
            }
            let rep = engine.status(&s.code, as_of);
            let st = rep.status.as_str();
            if status_filter.as_deref().is_some_and(|f| f != st) {
                continue;
            }
            if region.as_deref().is_some_and(|r| s.region.as_deref() != Some(r)) {
                continue;
            }
            if let Some(n) = &needle {
                let hay = format!(
                    "{} {} {}",
                    minewatch_domain::normalize_name(&s.name),
                    s.code.to_lowercase(),
                    s.aliases.iter().map(|a| minewatch_domain::normalize_name(a)).collect::<Vec<_>>().join(" ")
                );
                if !hay.contains(n.as_str()) {
                    continue;
                }
            }
            rows.push((s, st, rep.entry_into_force, rep.signed, rep.deposited));
        }
        regions.sort();
        match sort.as_str() {
            "code" => rows.sort_by(|a, b| a.0.code.cmp(&b.0.code)),
            "status" => rows.sort_by(|a, b| a.1.cmp(b.1).then(a.0.name.cmp(&b.0.name))),
            "region" => rows.sort_by(|a, b| a.0.region.cmp(&b.0.region).then(a.0.name.cmp(&b.0.name))),
            "eif" => rows.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.name.cmp(&b.0.name))),
            _ => rows.sort_by(|a, b| a.0.name.cmp(&b.0.name)),
        }
        let html_rows: Vec<Vec<Markup>> = rows
            .iter()
            .map(|(s, st, eif, signed, dep)| {
                vec![
                    html! { a href={ "/states/" (url_enc(&s.code)) "?as_of=" (as_of) } { (s.name) } },
                    html! { (s.code) },
                    html! { (s.region.as_deref().unwrap_or("")) },
                    status_badge(st),
                    html! { (signed.map(|d| d.to_string()).unwrap_or_default()) },
                    html! { (dep.map(|d| d.to_string()).unwrap_or_default()) },
                    html! { (eif.map(|d| d.to_string()).unwrap_or_default()) },
                ]
            })
            .collect();
        let csv_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|(s, st, eif, signed, dep)| {
                vec![
                    s.code.clone(),
                    s.name.clone(),
                    s.kind.as_str().to_string(),
                    s.region.clone().unwrap_or_default(),
                    st.to_string(),
                    signed.map(|d| d.to_string()).unwrap_or_default(),
                    dep.map(|d| d.to_string()).unwrap_or_default(),
                    eif.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        let opt = |v: &str, cur: Option<&str>, label: &str| {
            html! { option value=(v) selected[cur == Some(v)] { (label) } }
        };
        let status_opts: Vec<Markup> = std::iter::once(opt("", None, "any status"))
            .chain(STATUSES.iter().map(|s| opt(s, status_filter.as_deref(), &status_words(s))))
            .collect();
        let region_opts: Vec<Markup> = std::iter::once(opt("", None, "any region"))
            .chain(regions.iter().map(|r| opt(r, region.as_deref(), r)))
            .collect();
        let sort_opts: Vec<Markup> = [("name", "name"), ("code", "code"), ("status", "status"), ("region", "region"), ("eif", "entry into force")]
            .iter()
            .map(|(v, l)| opt(v, Some(sort.as_str()), l))
            .collect();
        let query = format!(
            "as_of={as_of}{}{}{}&sort={}",
            status_filter.as_deref().map(|s| format!("&status={}", url_enc(s))).unwrap_or_default(),
            region.as_deref().map(|s| format!("&region={}", url_enc(s))).unwrap_or_default(),
            text.as_deref().map(|s| format!("&q={}", url_enc(s))).unwrap_or_default(),
            url_enc(&sort)
        );
        let main = html! {
            h1 { "States and other areas" }
            form.filters method="get" action="/states" {
                label for="q" { "Name or code" } " "
                input type="search" id="q" name="q" value=(text.as_deref().unwrap_or(""));
                label for="status" { "Status" } " "
                select #status name="status" { @for o in &status_opts { (o) } }
                label for="region" { "Region" } " "
                select #region name="region" { @for o in &region_opts { (o) } }
                label for="sort" { "Sort by" } " "
                select #sort name="sort" { @for o in &sort_opts { (o) } }
                label for="as_of" { "On" } " "
                input type="date" id="as_of" name="as_of" value=(as_of);
                button type="submit" { "Apply" }
            }
            p { (rows.len()) " shown. " a href={ "/states.csv?" (query) } { "Download as CSV" } }
            (table(
                &format!("Treaty status on {}", long(as_of)),
                &["Name", "Code", "Region", "Status", "Signed", "Deposited", "In force"],
                &html_rows
            ))
        };
        let data = derived_value(&StatesAnswer {
            as_of,
            count: rows.len(),
            states: rows
                .iter()
                .map(|(s, st, eif, signed, dep)| StateRow {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    kind: s.kind.as_str(),
                    region: s.region.clone(),
                    status: st,
                    signed: signed.map(|d| d.to_string()),
                    deposited: dep.map(|d| d.to_string()),
                    entry_into_force: *eif,
                })
                .collect(),
        })?;
        Ok(Out {
            page: Page {
                title: "States and other areas".into(),
                main,
                json_href: Some(format!("/states.json?{query}")),
                csv: vec![(format!("/states.csv?{query}"), "CSV".into())],
                ..Page::default()
            },
            data,
            csv: Some((
                vec!["code", "name", "kind", "region", "status", "signed", "deposited", "entry_into_force"],
                csv_rows,
            )),
            name: "states".into(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Country profile

/// How a profile's sections are filled and drawn (their data is [`Section`]).
trait SectionExt {
    /// Adds the facts as statements, facts with the same meaning from several sources as one
    /// statement with each source's footnote ([`group_facts`]).
    fn add<'a>(&mut self, facts: impl IntoIterator<Item = &'a Fact>, name: &str);
    fn html(&self, notes: &mut Footnotes, extra: &Markup) -> Markup;
}

impl SectionExt for Section {
    fn add<'a>(&mut self, facts: impl IntoIterator<Item = &'a Fact>, name: &str) {
        for g in group_facts(facts) {
            let text = sentence(g.first(), name);
            self.statements.push(Statement::of_group(&g, text));
        }
    }

    fn html(&self, notes: &mut Footnotes, extra: &Markup) -> Markup {
        let id = self.id;
        html! {
            section.profile-section id=(id) aria-labelledby={ (id) "-h" } {
                h2 id={ (id) "-h" } { (self.title) }
                @if let Some(d) = self.last_updated {
                    p.updated { "Last updated: " (date(d)) }
                }
                (extra)
                @if !self.statements.is_empty() && self.list {
                    ul.statements {
                        @for st in &self.statements {
                            li { (st.text) (notes.cite(&st.sources)) }
                        }
                    }
                } @else if extra.0.is_empty() {
                    @if let Some(e) = &self.empty {
                        p.none { (e) }
                    }
                }
            }
        }
    }
}

pub async fn state_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (code, fmt) = negotiate(&code, &headers);
    let code = code.to_string();
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    // `record=N`: the record as it stood when fact N was the newest (links in notifications
    // show a profile before and after a change).
    let record = match q.get("record").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return PageError::new(
                    StatusCode::BAD_REQUEST,
                    format!("record={s:?}: expected a fact id (a whole number, 0 or more)"),
                )
                .respond(fmt)
            }
        },
    };
    let subject = match subject_or_404(&app, &code) {
        Ok(s) => s.code.clone(),
        Err(e) => return e.respond(fmt),
    };
    run_plain(app, fmt, move |app, store| match record {
        None => {
            let engine = app.subject_engine(store, &subject)?;
            let common = || Ok(app.common_engine(store)?);
            profile(app, store, (&engine, &common), &subject, as_of, None)
        }
        Some(n) => {
            let shared = derived::shared_facts(store, Some(n))?;
            let past = derived::build_subject_engine(store, &subject, &shared, Some(n))?;
            let common = || Ok(Arc::new(derived::build_common_engine(store, Some(n))?));
            profile(app, store, (&past, &common), &subject, as_of, Some(n))
        }
    })
    .await
}

/// The engine of every UN vote, fetched only for a subject that voted.
type CommonEngine<'a> = dyn Fn() -> Result<Arc<Engine>, PageError> + 'a;

/// A profile from the subject's engine and, when the subject voted, the common one (every
/// state's UN votes, for the roll-call tallies).
fn profile(
    app: &App,
    store: &Store,
    (engine, common): (&Engine, &CommonEngine<'_>),
    code: &str,
    as_of: Date,
    at_record: Option<i64>,
) -> PageResult {
    let subject = subject_or_404(app, code)?.clone();
    let name = subject.name.clone();
    let facts = store.facts(&FactFilter {
        subject: Some(subject.code.clone()),
        kind: None,
        as_of: Some(as_of),
        recorded_by_time: None,
        up_to_fact: at_record,
        except_kinds: &[],
    })?;
    let sources = sources_map(store)?;
    let mut notes = Footnotes::new(&sources);
    let report = engine.status(&subject.code, as_of);
    let by_kind = |k: FactKind| {
        facts
            .iter()
            .filter(move |r| r.fact.kind() == k)
            .map(|r| &r.fact)
    };
    let dev_topic = |topics: &'static [&'static str]| {
        facts
            .iter()
            .map(|r| &r.fact)
            .filter(move |f| match &f.payload {
                Payload::Development(d) => topics.contains(&d.topic.as_str()),
                _ => false,
            })
    };

    // Mine ban policy: status, deadlines, findings.
    let st = report.status.as_str();
    let status_cites = reason_citations(&report.reasons);
    let status_badge_cites = notes.cite(&status_cites);
    let status_dl = html! {
        dl.status {
            dt { "Mine Ban Treaty status" }
            dd { (status_badge(st)) (status_badge_cites) }
            dt { "Signed" }
            dd {
                @match report.signed { Some(d) => (date(d)), None => "not signed" }
            }
            dt { "Instrument deposited" }
            dd {
                @match report.deposited {
                    Some(d) => {
                        (date(d))
                        @if let Some(m) = report.method { " (" (m.as_str()) ")" }
                    }
                    None => "none",
                }
            }
            dt { "Entry into force" }
            dd {
                @match report.entry_into_force { Some(d) => (date(d)), None => "not in force" }
            }
            @if let Some(n) = report.withdrawal_notified {
                dt { "Withdrawal" }
                dd {
                    "notice received " (date(n)) "; "
                    @match (report.withdrawal_effective, report.withdrawal_deferred) {
                        (_, true) => "deferred while the state is engaged in an armed conflict (Art. 20(3))",
                        (Some(e), _) => { "effective " (date(e)) }
                        (None, _) => "effective date unknown",
                    }
                }
            }
        }
    };
    let derivation = reasons_html(&report.reasons, &mut notes);
    let obligations = if report.obligations.is_empty() {
        Markup::default()
    } else {
        let rows: Vec<Vec<Markup>> = report
            .obligations
            .iter()
            .map(|o| {
                vec![
                    html! { (o.article) },
                    html! { (o.title) },
                    html! { @match o.due { Some(d) => (date(d)), None => "no deadline" } },
                    html! {
                        span class={ "ob ob-" (o.state.as_str()) } { (o.state.as_str().replace('_', " ")) }
                        @if o.overdue { " " strong { "overdue" } }
                    },
                    reasons_html(&o.reasons, &mut notes),
                ]
            })
            .collect();
        table(
            &format!("Obligations and deadlines on {}", long(as_of)),
            &["Article", "Obligation", "Due", "State", "Why"],
            &rows,
        )
    };
    let findings: Vec<Markup> = report
        .findings
        .iter()
        .map(|f| {
            html! {
                li { strong { (f.summary) } " " span.article { "(" (f.article) ")" } (reasons_html(&f.reasons, &mut notes)) }
            }
        })
        .collect();
    let mut status_html = html! {
        (status_dl)
        details { summary { "How this status was derived" } (derivation) }
        (obligations)
        @if !findings.is_empty() {
            h3 { "Findings" }
            ul.findings { @for f in &findings { (f) } }
        }
    };

    // Only states can join the treaty: an armed group's status is not "never signed".
    if subject.kind == minewatch_domain::SubjectKind::ArmedGroup {
        status_html = html! {
            p {
                "A non-state armed group cannot sign or join the Mine Ban Treaty: only states \
                 can (Arts. 15 and 16). What the record holds on its use of mines is under \
                 “Use, production, transfer and stockpiling” below."
            }
        };
    }
    let mut policy = Section::new("ban-policy", "Mine ban policy");
    policy.add(by_kind(FactKind::TreatyAction), &name);
    policy.add(by_kind(FactKind::Legislation), &name);
    policy.add(dev_topic(&["ban_policy", "universalization"]), &name);

    // UN General Assembly.
    let record = engine.unga_record(&subject.code, as_of);
    // The tallies of the roll calls this subject voted in (none to count for one that never
    // voted: most territories).
    let tallies: HashMap<String, minewatch_treaty::RollCallTally> = if record.votes.is_empty() {
        HashMap::new()
    } else {
        let voted: std::collections::HashSet<&str> =
            record.votes.iter().map(|v| v.resolution.as_str()).collect();
        common()?
            .unga_tallies(as_of)
            .into_iter()
            .filter(|t| voted.contains(t.resolution.as_str()))
            .map(|t| (t.resolution.clone(), t))
            .collect()
    };
    let mut unga = Section::new("unga", "UN General Assembly voting record");
    let mut strip: Vec<Markup> = Vec::new();
    let mut unga_rows = Vec::new();
    // Several facts (sources) may record the same vote: one row per resolution and vote, with
    // every source's footnote.
    let mut votes: Vec<minewatch_treaty::RecordedVote> = Vec::new();
    for v in &record.votes {
        match votes
            .iter_mut()
            .find(|x| x.resolution == v.resolution && x.vote == v.vote)
        {
            Some(x) => x.reasons.extend(v.reasons.iter().cloned()),
            None => votes.push(v.clone()),
        }
    }
    for v in &votes {
        let year = v
            .date
            .map(|d| d.year().to_string())
            .unwrap_or_else(|| "?".into());
        let vote = v.vote.as_str();
        let label = v.vote.label();
        strip.push(html! {
            li class={ "vote-" (vote) } title={ (year) ": " (label) " on " (v.resolution) } {
                span { (year) } " " (label)
            }
        });
        let tally = tallies.get(&v.resolution);
        let among = tally
            .map(|t| {
                let c = t.recorded.unwrap_or(t.counted);
                match v.vote {
                    Vote::Abstain => format!("one of {} abstentions", c.abstain),
                    Vote::No => format!("one of {} votes against", c.no),
                    Vote::Yes => format!("one of {} votes in favour", c.yes),
                    Vote::NonVoting => format!("one of {} Member States not voting", c.non_voting),
                }
            })
            .unwrap_or_default();
        let cites = reason_citations(&v.reasons);
        let verb = match v.vote {
            Vote::Yes => "Voted for",
            Vote::No => "Voted against",
            Vote::Abstain => "Abstained on",
            Vote::NonVoting => "Did not vote on",
        };
        let text = format!(
            "{verb} resolution {} on {}{}",
            v.resolution,
            plong(v.date),
            if among.is_empty() {
                String::new()
            } else {
                format!(", {among}")
            }
        );
        unga_rows.push(vec![
            html! { (date_or_undated(v.date)) },
            html! { a href={ "/unga/" (v.resolution) } { (v.resolution) } },
            html! { span class={ "vote-" (vote) } { (label) } },
            html! { (among) },
            notes.cite(&cites),
        ]);
        unga.statements.push(Statement {
            text,
            date: v.date,
            facts: v.reasons.iter().flat_map(|r| r.facts.clone()).collect(),
            sources: cites,
            note: None,
        });
    }
    let unga_extra = if record.votes.is_empty() {
        Markup::default()
    } else {
        html! {
            ol.strip aria-label="Votes by year" { @for li in &strip { (li) } }
            (table(
                "Votes on the General Assembly resolutions supporting the treaty",
                &["Date", "Resolution", "Vote", "Tally", "Source"],
                &unga_rows
            ))
        }
    };
    unga.empty = Some("No General Assembly votes recorded.".into());
    unga.list = false;

    let mut meetings = Section::new("meetings", "Participation in treaty meetings");
    meetings.add(by_kind(FactKind::MeetingParticipation), &name);
    meetings.add(dev_topic(&["meetings", "ccw"]), &name);
    meetings.empty = Some("No meeting participation recorded.".into());

    let mut uptp = Section::new(
        "use-production-transfer",
        "Use, production, transfer and stockpiling",
    );
    // The Monitor's use reports are the table of `impact_pages`; older event facts are listed.
    uptp.add(
        by_kind(FactKind::MineActivity)
            .filter(|f| minewatch_answers::impact::use_entry(f).is_none()),
        &name,
    );
    uptp.add(
        dev_topic(&["use", "production", "transfer", "stockpile"]),
        &name,
    );
    // Stockpile composition: the latest dated set of counts.
    let counts: Vec<&Fact> = by_kind(FactKind::StockpileCount).collect();
    let latest_date = counts
        .iter()
        .filter_map(|f| f.valid_from)
        .max_by_key(|d| d.latest());
    let mut stock_extra = Markup::default();
    let mut stock_json: Option<Stockpile> = None;
    if let Some(d) = latest_date {
        let set: Vec<(&Fact, &minewatch_domain::fact::StockpileCount)> = counts
            .iter()
            .filter(|f| f.valid_from == Some(d))
            .filter_map(|f| match &f.payload {
                Payload::StockpileCount(c) => Some((*f, c)),
                _ => None,
            })
            .collect();
        let total: u64 = set.iter().map(|(_, c)| c.quantity).sum();
        let max = set
            .iter()
            .map(|(_, c)| c.quantity)
            .max()
            .unwrap_or(1)
            .max(1);
        let mut sorted = set.clone();
        sorted.sort_by_key(|x| std::cmp::Reverse(x.1.quantity));
        let bar_h = 22;
        let height = sorted.len() * bar_h + 10;
        let svg = html! {
            svg.chart role="img" aria-labelledby="stock-title" viewBox={ "0 0 640 " (height) } width="100%" {
                title #stock-title { "Stockpile by type, " (d.long()) ": " (thousands(total)) " in all" }
                @for (i, (_, c)) in sorted.iter().enumerate() {
                    @let w = (c.quantity as f64 / max as f64 * 330.0).max(1.0);
                    @let y = i * bar_h + 5;
                    g {
                        title { (c.mine_type) ": " (thousands(c.quantity)) }
                        text x="0" y=(y + 13) class="lbl" { (c.mine_type) }
                        rect x="230" y=(y) width=(format!("{w:.1}")) height="16" class="bar" {}
                        text x=(format!("{:.1}", 236.0 + w)) y=(y + 13) class="val" { (thousands(c.quantity)) }
                    }
                }
            }
        };
        let rows: Vec<Vec<Markup>> = sorted
            .iter()
            .map(|(f, c)| {
                vec![
                    html! { (c.mine_type) },
                    html! { (thousands(c.quantity)) },
                    notes.cite(&f.citations),
                ]
            })
            .collect();
        let mut all_cites = Vec::new();
        for (f, _) in &set {
            for c in &f.citations {
                if !all_cites.contains(c) {
                    all_cites.push(c.clone());
                }
            }
        }
        let total_cites = notes.cite(&all_cites);
        stock_extra = html! {
            h3 { "Stockpile composition, " (date(d)) }
            p { "Total: " strong { (thousands(total)) } " anti-personnel mines of " (set.len()) " types." (total_cites) }
            figure { (svg) }
            (table(
                &format!("Stockpile by type, {}", d.long()),
                &["Type", "Quantity", "Source"],
                &rows
            ))
        };
        stock_json = Some(Stockpile {
            date: d.to_string(),
            total,
            by_type: sorted
                .iter()
                .map(|(f, c)| StockpileType {
                    mine_type: c.mine_type.clone(),
                    measure: c.measure.as_str(),
                    quantity: c.quantity,
                    fact: f.id,
                    sources: f.citations.clone(),
                })
                .collect(),
        });
    }
    uptp.empty = Some("Nothing recorded on use, production, transfer or stockpiles.".into());

    let mut clearance = Section::new("clearance", "Contamination and clearance");
    clearance.add(by_kind(FactKind::Art5Event), &name);
    clearance.add(by_kind(FactKind::Art4Event), &name);
    clearance.add(by_kind(FactKind::ArmedConflict), &name);
    clearance.add(
        dev_topic(&["mine_action", "clearance", "contamination"]),
        &name,
    );
    clearance.empty = Some("No contamination or clearance facts recorded (the absence of a record is not evidence either way).".into());
    // The Art. 5 history as a timeline, for States Parties with one.
    let art5 = engine
        .art5_history(&subject.code, as_of)
        .filter(|h| !h.steps.is_empty());
    let art5_extra = match &art5 {
        Some(h) => crate::obligations_pages::art5_timeline(
            h,
            &engine.meetings(),
            &name,
            &status_cites,
            &mut notes,
        ),
        None => Markup::default(),
    };
    // With an Art. 5 history, land release by year beside it (or one line saying none).
    let art5_extra = if art5_extra.0.is_empty() {
        art5_extra
    } else {
        let release = crate::impact_pages::land_release(&facts, &mut notes);
        html! { (art5_extra) (release) }
    };
    if !art5_extra.0.is_empty() {
        status_html = html! {
            (status_html)
            p.see {
                a href="#art5-timeline" { "The Article 5 history as a timeline" }
                ", under “Contamination and clearance” below; every State Party's at "
                a href="/article5" { "Article 5" } "."
            }
        };
    }

    let imp = crate::impact_pages::profile_impact(
        app,
        store,
        &subject.code,
        &facts,
        &report,
        &sources,
        as_of,
        at_record,
        &mut notes,
    )?;
    // An armed group's profile: where it used mines (the use reports that name it).
    let (group_uses, group_html) = if subject.kind == minewatch_domain::SubjectKind::ArmedGroup {
        crate::impact_pages::armed_group_uses(
            app,
            store,
            &subject.code,
            as_of,
            at_record,
            &mut notes,
        )?
    } else {
        (Vec::new(), Markup::default())
    };
    let mut transparency = Section::new("transparency", "Transparency reporting (Art. 7)");
    transparency.add(by_kind(FactKind::Art7Report), &name);
    // The table shows the reports year by year (with these facts as its reasons).
    transparency.list = imp.transparency_html.0.is_empty();
    transparency.empty = Some(
        imp.transparency
            .empty
            .clone()
            .unwrap_or_else(|| "No Art. 7 reports recorded.".into()),
    );
    let mut casualties = Section::new("casualties", "Casualties and victim assistance");
    casualties.add(by_kind(FactKind::HeadlineFigure), &name);
    casualties.add(dev_topic(&["casualties", "victim_assistance"]), &name);
    casualties.empty = Some("No casualty figures recorded.".into());

    // Policies: the instruments adopted by the as-of date, and which one governs each activity.
    let records: Vec<minewatch_treaty::PolicyRecord> = engine
        .policy_records()
        .into_iter()
        .filter(|r| r.subject == subject.code && r.adopted.is_none_or(|d| d.earliest() <= as_of))
        .collect();
    let mut policies = Section::new("policies", "National policy");
    let mut policy_extra = Markup::default();
    let mut in_force_json = None;
    if !records.is_empty() {
        let mut sorted = records.clone();
        sorted.sort_by_key(|r| r.adopted.map(|d| d.earliest()));
        let inf = minewatch_treaty::in_force(&records, &subject.code, as_of);
        let mut items: Vec<Markup> = Vec::new();
        let mut prev: Option<&str> = None;
        for r in &sorted {
            let id = r.instrument.policy_id.as_str();
            let governs: Vec<&str> = inf
                .activities
                .iter()
                .filter(|a| a.policy_id.as_deref() == Some(id))
                .map(|a| a.activity.as_str())
                .collect();
            let cites = notes.cite(&r.citations);
            items.push(html! {
                li {
                    (date_or_undated(r.adopted)) " " strong { (r.instrument.instrument) } " (" (id) ")"
                    (cites)
                    @if !governs.is_empty() {
                        " " span.in-force { "in force on " (date(as_of)) " for: " (governs.join(", ")) }
                    }
                    @if let Some(p) = prev {
                        " " a href={ "/policies?a=" (url_enc(p)) "&b=" (url_enc(id)) } { "compare with the previous" }
                    }
                }
            });
            prev = Some(id);
        }
        let rows: Vec<Vec<Markup>> = inf
            .activities
            .iter()
            .map(|a| {
                vec![
                    html! { (a.activity.as_str()) },
                    match a.provision.as_ref() {
                        Some(p) => provision_words(p),
                        None => html! { "not addressed" },
                    },
                    html! { (a.policy_id.as_deref().unwrap_or("-")) },
                ]
            })
            .collect();
        policy_extra = html! {
            ol.timeline { @for i in &items { (i) } }
            (table(
                &format!("Policy in force on {}, by activity of Art. 1", long(as_of)),
                &["Activity", "Stance", "Instrument"],
                &rows,
            ))
        };
        in_force_json = Some(inf);
        for r in &sorted {
            policies.statements.push(Statement {
                text: format!(
                    "{} adopted {} ({}) {}.",
                    name,
                    r.instrument.instrument,
                    r.instrument.policy_id,
                    r.adopted
                        .map(|d| format!("on {}", d.long()))
                        .unwrap_or_else(|| "(undated)".into())
                ),
                date: r.adopted,
                facts: vec![r.fact_id],
                sources: r.citations.clone(),
                note: None,
            });
        }
    }
    policies.empty = Some("No national policy instruments recorded.".into());

    let mut sections = vec![
        policy,
        unga,
        meetings,
        uptp,
        transparency,
        clearance,
        casualties,
        policies,
    ];
    for s in &mut sections {
        let impact_updated = match s.id {
            "use-production-transfer" => imp.uses.last_updated,
            "transparency" => imp.transparency.last_updated,
            "casualties" => imp.casualties.last_updated,
            _ => None,
        };
        s.last_updated = minewatch_answers::impact::last_updated(
            s.statements.iter().flat_map(|x| x.sources.iter()),
            &sources,
            as_of,
        )
        .into_iter()
        .chain(impact_updated)
        .max_by_key(|d| d.latest());
        if s.id == "use-production-transfer" && s.statements.is_empty() && !stock_extra.0.is_empty()
        {
            s.empty = None;
        }
    }
    let overall = sections
        .iter()
        .filter_map(|s| s.last_updated)
        .max_by_key(|d| d.latest());

    let uptp_extra = html! { (group_html) (imp.use_html) (stock_extra) };
    // Render.
    let code = &subject.code;
    let main = html! {
        @if let Some(n) = at_record {
            p.notice role="note" {
                "This is the record as it stood after fact " (n) " was recorded; "
                a href={ "/states/" (url_enc(code)) } { "see the profile as it is now" } "."
            }
        }
        article.profile {
            header {
                h1 { (name) }
                p.meta {
                    (subject.kind.as_str().replace('_', " "))
                    @if let Some(r) = &subject.region { ", " (r) }
                    " · code " (code)
                }
                p.asof-line {
                    "Profile as of " strong { (date(as_of)) }
                    @if let Some(d) = overall { " · last updated " (date(d)) }
                }
                (as_of_form(&format!("/states/{code}"), as_of, &[], "Show this profile as of"))
                (crate::obligations_pages::two_clocks(as_of, at_record))
            }
            section.profile-section #status aria-labelledby="status-h" {
                h2 #status-h { "Treaty status, deadlines and findings" }
                (status_html)
            }
            @for s in &sections {
                @let extra = match s.id {
                    "unga" => &unga_extra,
                    "use-production-transfer" => &uptp_extra,
                    "transparency" => &imp.transparency_html,
                    "casualties" => &imp.casualties_html,
                    "policies" => &policy_extra,
                    "clearance" => &art5_extra,
                    _ => &Markup::default(),
                };
                (s.html(&mut notes, extra))
            }
            (notes.render())
            p.follow {
                a href={ "/subscribe?state=" (url_enc(code)) } { "Receive notifications when this profile is updated" }
                " · "
                a href={ "/states/" (url_enc(code)) "/feed.atom" } { "Follow changes to this profile (Atom)" }
                " · "
                a href={ "/states/" (url_enc(code)) ".json?as_of=" (as_of) } { "JSON" }
                " · "
                a href={ "/api/v1/states/" (url_enc(code)) "/facts?as_of=" (as_of) } { "all facts (API)" }
            }
            p.feedback {
                a href={ "/feedback?state=" (url_enc(code)) } { "Send us your feedback" }
                " on this profile (attachments welcome)."
            }
        }
    };
    let mut impact_cites = crate::impact_pages::cited(&imp);
    impact_cites.extend(group_uses.iter().flat_map(|e| e.sources.iter().cloned()));
    let cited = notes_sources(&sections, &report, &sources, &impact_cites);
    let crate::impact_pages::ProfileImpact {
        casualties: cas,
        uses,
        transparency: art7,
        ..
    } = imp;
    let data = derived_value(&ProfileAnswer {
        subject: minewatch_answers::json::subject(&subject),
        as_of,
        record: at_record,
        last_updated: overall.map(|d| d.to_string()),
        status: report,
        sections,
        stockpile: stock_json,
        policy_in_force: in_force_json,
        article5: art5,
        casualties: cas,
        use_reports: uses,
        transparency: art7,
        armed_group_uses: group_uses,
        sources: cited,
    })?;
    Ok(Out {
        page: Page {
            title: format!("{name}: profile as of {}", long(as_of)),
            main,
            json_href: Some(format!("/states/{}.json?as_of={as_of}", subject.code)),
            feeds: vec![(
                format!("/states/{}/feed.atom", subject.code),
                format!("Changes to the profile of {name}"),
            )],
            ..Page::default()
        },
        data,
        csv: None,
        name: subject.code.clone(),
    })
}

fn provision_words(p: &minewatch_domain::fact::Provision) -> Markup {
    let scope: Vec<&str> = [&p.mine_scope, &p.geography, &p.authority]
        .iter()
        .filter_map(|x| x.as_deref())
        .collect();
    html! {
        (p.stance.as_str().replace('_', " "))
        @if !scope.is_empty() { " (" (scope.join("; ")) ")" }
        @if let Some(y) = p.effective_from { ", from " (y) }
    }
}

/// The sources cited anywhere on a profile, for the JSON twin.
fn notes_sources(
    sections: &[Section],
    report: &minewatch_treaty::StatusReport,
    sources: &HashMap<String, Source>,
    extra: &[Citation],
) -> Vec<CitedSourceEntry> {
    let mut keys: Vec<String> = Vec::new();
    let mut push = |c: &Citation| {
        if !keys.contains(&c.source) {
            keys.push(c.source.clone());
        }
    };
    for s in sections {
        for st in &s.statements {
            st.sources.iter().for_each(&mut push);
        }
    }
    for r in &report.reasons {
        r.citations.iter().for_each(&mut push);
    }
    extra.iter().for_each(&mut push);
    keys.iter()
        .map(|k| match sources.get(k) {
            Some(s) => CitedSourceEntry::Known(minewatch_answers::json::source(s)),
            None => CitedSourceEntry::Unknown(SourceKey { key: k.clone() }),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sources

pub async fn sources_index(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    sources_fmt(app, negotiate("", &headers).1).await
}

pub async fn sources_json(State(app): State<Arc<App>>) -> Response {
    sources_fmt(app, Fmt::Json).await
}

pub async fn sources_csv(State(app): State<Arc<App>>) -> Response {
    sources_fmt(app, Fmt::Csv).await
}

async fn sources_fmt(app: Arc<App>, fmt: Fmt) -> Response {
    run_plain(app, fmt, |_, store| {
        let list = store.sources()?;
        let rows: Vec<Vec<Markup>> = list
            .iter()
            .map(|s| {
                let s = &s.source;
                vec![
                    html! { a href={ "/sources/" (url_enc(&s.key)) } { (s.title) } },
                    html! { (s.publisher.as_deref().unwrap_or("")) },
                    html! { (s.published.map(|d| d.to_string()).unwrap_or_default()) },
                    html! { (s.key) },
                ]
            })
            .collect();
        let csv_rows = list
            .iter()
            .map(|s| {
                let s = &s.source;
                vec![
                    s.key.clone(),
                    s.title.clone(),
                    s.publisher.clone().unwrap_or_default(),
                    s.published.map(|d| d.to_string()).unwrap_or_default(),
                    s.url.clone().unwrap_or_default(),
                ]
            })
            .collect();
        Ok(Out {
            page: Page {
                title: "Sources".into(),
                main: html! {
                    h1 { "Sources" }
                    p { (list.len()) " sources. Each has a page listing the facts that cite it." }
                    (table("Every source in the record", &["Title", "Publisher", "Published", "Key"], &rows))
                },
                json_href: Some("/sources.json".into()),
                csv: vec![("/sources.csv".into(), "CSV".into())],
                ..Page::default()
            },
            data: derived_value(&minewatch_answers::json::SourceList::new(
                list.iter()
                    .map(|s| minewatch_answers::json::source(&s.source))
                    .collect(),
            ))?,
            csv: Some((vec!["key", "title", "publisher", "published", "url"], csv_rows)),
            name: "sources".into(),
        })
    })
    .await
}

pub async fn source_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    let (key, fmt) = negotiate(&key, &headers);
    let key = key.to_string();
    run_plain(app, fmt, move |app, store| {
        let Some(rec) = store.source(&key)? else {
            return Err(PageError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "there is no source with the key {key:?}; the list of sources is at /sources"
                ),
            ));
        };
        let s = &rec.source;
        let facts = store.facts_citing(&key)?;
        let items: Vec<Markup> = facts
            .iter()
            .map(|r| {
                let name = name_of(app, &r.fact.subject);
                let loc: Vec<String> = r
                    .fact
                    .citations
                    .iter()
                    .filter(|c| c.source == key)
                    .filter_map(|c| c.locator.clone())
                    .collect();
                html! {
                    li id={ "fact-" (r.fact.id) } {
                        a href={ "/states/" (url_enc(&r.fact.subject)) } { (name) }
                        ": " (sentence(&r.fact, &name))
                        @if !loc.is_empty() { " " span.meta { "(" (loc.join("; ")) ")" } }
                        @if r.superseded_by.is_some() { " (superseded)" }
                    }
                }
            })
            .collect();
        let main = html! {
            h1 { (s.title) }
            dl.source {
                dt { "Key" } dd { code { (s.key) } }
                dt { "Publisher" } dd { (s.publisher.as_deref().unwrap_or("not recorded")) }
                dt { "Published" } dd { (date_or_undated(s.published)) }
                dt { "Where" } dd { (source_line(s)) }
                @if let Some(n) = &s.note { dt { "Note" } dd { (n) } }
            }
            h2 { "Facts citing this source (" (facts.len()) ")" }
            ul.statements { @for i in &items { (i) } }
        };
        let data = derived_value(&SourceWithFacts {
            source: minewatch_answers::json::source(s),
            recorded_at: None,
            facts: minewatch_answers::json::facts_with_sources(store, &facts)?,
        })?;
        Ok(Out {
            page: Page {
                title: s.title.clone(),
                main,
                json_href: Some(format!("/sources/{}.json", url_enc(&s.key))),
                ..Page::default()
            },
            data,
            csv: None,
            name: s.key.clone(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// General Assembly

pub async fn unga_index(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    unga_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn unga_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    unga_fmt(app, Fmt::Json, q).await
}

pub async fn unga_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    unga_fmt(app, Fmt::Csv, q).await
}

async fn unga_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run(app, fmt, Scope::Whole, move |_, _, engine| {
        let mut tallies = engine.unga_tallies(as_of);
        tallies.sort_by_key(|t| t.date.map(|d| d.earliest()));
        // Chart: yes / no / abstain per year, stacked bars.
        let max = tallies
            .iter()
            .map(|t| {
                let c = t.recorded.unwrap_or(t.counted);
                c.yes + c.no + c.abstain
            })
            .max()
            .unwrap_or(1)
            .max(1);
        let n = tallies.len().max(1);
        let bw = 600.0 / n as f64;
        let scale = 220.0 / max as f64;
        let base = 230.0;
        let w = (bw * 0.8).max(1.0);
        let svg = html! {
            svg.chart role="img" aria-labelledby="unga-chart-t" viewBox="0 0 640 260" width="100%" {
                title #unga-chart-t { "Votes on the resolutions supporting the treaty, by year: in favour, against, abstaining" }
                @for (i, t) in tallies.iter().enumerate() {
                    @let c = t.recorded.unwrap_or(t.counted);
                    @let x = format!("{:.1}", 30.0 + i as f64 * bw);
                    @let (hy, hn, ha) = (c.yes as f64 * scale, c.no as f64 * scale, c.abstain as f64 * scale);
                    @let year = t.date.map(|d| d.year().to_string()).unwrap_or_default();
                    g {
                        title { (year) " (" (t.resolution) "): " (c.yes) " in favour, " (c.no) " against, " (c.abstain) " abstaining" }
                        rect class="vote-yes" x=(x) y=(format!("{:.1}", base - hy)) width=(format!("{w:.1}")) height=(format!("{hy:.1}")) {}
                        rect class="vote-no" x=(x) y=(format!("{:.1}", base - hy - hn)) width=(format!("{w:.1}")) height=(format!("{hn:.1}")) {}
                        rect class="vote-abstain" x=(x) y=(format!("{:.1}", base - hy - hn - ha)) width=(format!("{w:.1}")) height=(format!("{ha:.1}")) {}
                    }
                    @if i % 4 == 0 {
                        text x=(x) y="250" class="axis" { (year) }
                    }
                }
            }
        };
        // Every year from the first recorded roll call's to this one: a year without one says
        // so ("not yet recorded").
        let gaps = minewatch_answers::pages::years_not_recorded(&tallies, as_of);
        let year_of = |t: &minewatch_treaty::RollCallTally| t.date.map_or(i32::MIN, |d| d.year());
        let gap_text = |g: &minewatch_answers::pages::YearNotRecorded| match g.session {
            Some(s) => format!("not yet recorded (session {s})"),
            None => "not yet recorded".to_string(),
        };
        let mut rows: Vec<(i32, Vec<Markup>)> = tallies
            .iter()
            .map(|t| {
                let c = t.recorded.unwrap_or(t.counted);
                (year_of(t), vec![
                    html! { (date_or_undated(t.date)) },
                    html! { a href={ "/unga/" (t.resolution) } { (t.resolution) } },
                    html! { (c.yes) },
                    html! { (c.no) },
                    html! { (c.abstain) },
                ])
            })
            .chain(gaps.iter().map(|g| {
                (g.year, vec![
                    html! { (g.year) },
                    html! { em { (gap_text(g)) } },
                    html! {},
                    html! {},
                    html! {},
                ])
            }))
            .collect();
        rows.sort_by_key(|r| r.0);
        let rows: Vec<Vec<Markup>> = rows.into_iter().map(|r| r.1).collect();
        let mut csv_rows: Vec<(i32, Vec<String>)> = tallies
            .iter()
            .map(|t| {
                let c = t.recorded.unwrap_or(t.counted);
                (year_of(t), vec![
                    t.date.map(|d| d.to_string()).unwrap_or_default(),
                    t.resolution.clone(),
                    c.yes.to_string(),
                    c.no.to_string(),
                    c.abstain.to_string(),
                    String::new(),
                ])
            })
            .chain(gaps.iter().map(|g| {
                (g.year, vec![
                    g.year.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    gap_text(g),
                ])
            }))
            .collect();
        csv_rows.sort_by_key(|r| r.0);
        let csv_rows = csv_rows.into_iter().map(|r| r.1).collect();
        let main = html! {
            h1 { "UN General Assembly resolutions supporting the treaty" }
            p {
                "Every year since 1997 the General Assembly has voted on a resolution calling for \
                 universalization and full implementation of the Mine Ban Treaty."
            }
            figure {
                (svg)
                figcaption {
                    span.key.vote-yes {} " in favour " span.key.vote-no {} " against "
                    span.key.vote-abstain {} " abstaining"
                }
            }
            (table("Roll calls", &["Date", "Resolution", "Yes", "No", "Abstain"], &rows))
        };
        Ok(Out {
            page: Page {
                title: "UN General Assembly".into(),
                main,
                json_href: Some("/unga.json".into()),
                csv: vec![("/unga.csv".into(), "CSV".into())],
                ..Page::default()
            },
            data: derived_value(&RollCallsAnswer {
                as_of,
                roll_calls: tallies,
                not_yet_recorded: gaps,
            })?,
            csv: Some((
                vec!["date", "resolution", "yes", "no", "abstain", "note"],
                csv_rows,
            )),
            name: "unga".into(),
        })
    })
    .await
}

pub async fn unga_resolution(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((session, number)): Path<(String, String)>,
) -> Response {
    let (number, fmt) = negotiate(&number, &headers);
    let resolution = format!("{session}/{number}");
    run(app, fmt, Scope::Whole, move |app, store, engine| {
        let today = derived::today()?;
        let Some(t) = engine
            .unga_tallies(today)
            .into_iter()
            .find(|t| t.resolution.eq_ignore_ascii_case(&resolution))
        else {
            return Err(PageError::new(
                StatusCode::NOT_FOUND,
                format!("no recorded roll call on resolution {resolution}; the list is at /unga"),
            ));
        };
        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let c = t.recorded.unwrap_or(t.counted);
        let list = |codes: &[String]| -> Markup {
            html! {
                @if codes.is_empty() {
                    "none"
                } @else {
                    @for (i, c) in codes.iter().enumerate() {
                        @if i > 0 { ", " }
                        (state_link(app, c, None))
                    }
                }
            }
        };
        let anomalies: Vec<minewatch_treaty::Finding> = engine
            .unga_anomalies(today)
            .into_iter()
            .filter(|f| f.summary.contains(&t.resolution))
            .collect();
        // The anomalies' footnotes are numbered first, then the tally's.
        let anomaly_items: Vec<Markup> = anomalies
            .iter()
            .map(|f| html! { li { (f.summary) (reasons_html(&f.reasons, &mut notes)) } })
            .collect();
        let cite = notes.cite(&reason_citations(&t.reasons));
        let main = html! {
            h1 { "Resolution " (t.resolution) }
            p {
                "Adopted " (date_or_undated(t.date)) ": " strong { (c.yes) } " in favour, " strong { (c.no) }
                " against, " strong { (c.abstain) } " abstaining"
                @if c.non_voting > 0 { ", " strong { (c.non_voting) } " non-voting" }
                "." (cite)
            }
            @if t.matches == Some(false) {
                p.error {
                    "The recorded tally and the votes recorded state by state differ: "
                    (t.counted.yes) " / " (t.counted.no) " / " (t.counted.abstain) " counted."
                }
            }
            h2 { "Voted against (" (c.no) ")" }
            p { (list(&t.no)) }
            h2 { "Abstained (" (c.abstain) ")" }
            p { (list(&t.abstain)) }
            @if !t.non_voting.is_empty() || c.non_voting > 0 {
                h2 { "Non-voting (" (c.non_voting) ")" }
                p { (list(&t.non_voting)) }
            }
            h2 { "Anomalies" }
            @if anomaly_items.is_empty() {
                p { "None: no State Party voted against or abstained." }
            } @else {
                ul { @for i in &anomaly_items { (i) } }
            }
            (notes.render())
        };
        let csv_rows =
            t.no.iter()
                .map(|c| vec![c.clone(), name_of(app, c), "no".into()])
                .chain(
                    t.abstain
                        .iter()
                        .map(|c| vec![c.clone(), name_of(app, c), "abstain".into()]),
                )
                .chain(
                    t.non_voting
                        .iter()
                        .map(|c| vec![c.clone(), name_of(app, c), "non-voting".into()]),
                )
                .collect();
        Ok(Out {
            page: Page {
                title: format!("Resolution {}", t.resolution),
                main,
                json_href: Some(format!("/unga/{}.json", t.resolution)),
                csv: vec![(
                    format!("/unga/{}.csv", t.resolution),
                    "CSV of no votes, abstentions and non-voting".into(),
                )],
                ..Page::default()
            },
            name: t.resolution.replace('/', "-"),
            data: derived_value(&RollCallPageAnswer {
                roll_call: t,
                anomalies,
            })?,
            csv: Some((vec!["code", "name", "vote"], csv_rows)),
        })
    })
    .await
}

// Deadlines: see `crate::obligations_pages`.

// ---------------------------------------------------------------------------------------------
// Policies

pub async fn policies_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    policies_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn policies_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    policies_fmt(app, Fmt::Json, q).await
}

async fn policies_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let a = q
        .get("a")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let b = q
        .get("b")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    run(app, fmt, Scope::Whole, move |_, store, engine| {
        let list = derived::policy_list(engine);
        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let opts = |cur: Option<&str>| -> Markup {
            html! {
                @for r in &list {
                    @let id = &r.instrument.policy_id;
                    option value=(id) selected[cur == Some(id.as_str())] {
                        (date_or_undated(r.adopted)) " — " (r.instrument.instrument) " (" (id) ")"
                    }
                }
            }
        };
        let default_a = a.clone().or_else(|| list.iter().rev().nth(1).map(|r| r.instrument.policy_id.clone()));
        let default_b = b.clone().or_else(|| list.last().map(|r| r.instrument.policy_id.clone()));
        let timeline_items: Vec<Markup> = list
            .iter()
            .map(|r| {
                html! {
                    li {
                        (date_or_undated(r.adopted)) " " strong { (r.subject) } " — "
                        (r.instrument.instrument) " " code { (r.instrument.policy_id) }
                        (notes.cite(&r.citations))
                    }
                }
            })
            .collect();
        let mut compare_html = Markup::default();
        let mut diff_json = None;
        if let (Some(a), Some(b)) = (&a, &b) {
            let (ra, rb, d) = derived::policy_diff_of(engine, a, b)?;
            let cell = |p: &Option<minewatch_domain::fact::Provision>| match p {
                Some(p) => provision_words(p),
                None => html! { "not addressed" },
            };
            let is_changed = |c: &minewatch_treaty::Change| {
                !matches!(c, minewatch_treaty::Change::Unchanged | minewatch_treaty::Change::NotAddressed)
            };
            let words = |v: &[minewatch_domain::fact::Activity]| -> String {
                if v.is_empty() {
                    "nothing".into()
                } else {
                    v.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
                }
            };
            let mut head = |r: &minewatch_treaty::PolicyRecord| {
                html! { (r.instrument.instrument) " (" (date_or_undated(r.adopted)) ")" (notes.cite(&r.citations)) }
            };
            let (ha, hb) = (head(&ra), head(&rb));
            compare_html = html! {
                section aria-labelledby="cmp-h" class="compare" {
                    h2 #cmp-h { "What changed from " (ra.instrument.policy_id) " to " (rb.instrument.policy_id) }
                    p {
                        strong { "Changed:" } " " (words(&d.changed)) ". "
                        strong { "Unchanged:" } " " (words(&d.unchanged)) "."
                    }
                    ul.diff-words {
                        @for act in &d.activities {
                            @if is_changed(&act.change) { li { (act.summary) } }
                        }
                    }
                    div.table {
                        table {
                            caption { "Side by side, per activity of Art. 1 (changed rows highlighted)" }
                            thead {
                                tr {
                                    th scope="col" { "Activity" } th scope="col" { (ha) }
                                    th scope="col" { (hb) } th scope="col" { "Change" }
                                }
                            }
                            tbody {
                                @for act in &d.activities {
                                    @let change = wire_word(&act.change);
                                    tr class=(if is_changed(&act.change) { "changed" } else { "same" }) {
                                        th scope="row" { (act.activity.as_str()) }
                                        td { (cell(&act.from)) }
                                        td { (cell(&act.to)) }
                                        td { span class={ "change ch-" (change) } { (change.replace('_', " ")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            };
            diff_json = Some(derived::policy_diff(engine, a, b)?);
        }
        let main = html! {
            h1 { "National policies" }
            p {
                "A policy is read as a matrix over the eight activities of Art. 1 of the treaty \
                 (use, develop, produce, acquire, stockpile, retain, transfer, assist), each with \
                 its stance and scope."
            }
            form.filters.compare-form method="get" action="/policies" {
                label for="a" { "Compare" } " "
                select #a name="a" { (opts(default_a.as_deref())) } " "
                label for="b" { "with" } " "
                select #b name="b" { (opts(default_b.as_deref())) } " "
                button type="submit" { "Compare" }
            }
            (compare_html)
            h2 { "Instruments" }
            ol.timeline { @for i in &timeline_items { (i) } }
            (notes.render())
        };
        let q = match (&a, &b) {
            (Some(a), Some(b)) => format!("?a={}&b={}", url_enc(a), url_enc(b)),
            _ => String::new(),
        };
        Ok(Out {
            page: Page {
                title: "National policies".into(),
                main,
                json_href: Some(format!("/policies.json{q}")),
                ..Page::default()
            },
            data: derived_value(&PoliciesAnswer {
                policies: derived::policies(engine).policies,
                diff: diff_json,
            })?,
            csv: None,
            name: "policies".into(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Classifier

const ACTIVATIONS: [&str; 13] = [
    "pressure",
    "pressure_release",
    "tripwire",
    "tilt_rod",
    "break_wire",
    "seismic",
    "magnetic",
    "infrared",
    "acoustic",
    "proximity",
    "command",
    "command_with_sensor_cue",
    "timer",
];

pub async fn classify_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    classify_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn classify_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    classify_fmt(app, Fmt::Json, q).await
}

/// Builds a device description from the form's fields (all optional until `target` is given).
fn device_from_form(q: &HashMap<String, String>) -> Result<Option<Value>, PageError> {
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(target) = get("target") else {
        return Ok(None);
    };
    let num = |k: &str| -> Result<Option<f64>, PageError> {
        match get(k) {
            None => Ok(None),
            Some(s) => s.parse::<f64>().map(Some).map_err(|_| {
                PageError::new(
                    StatusCode::BAD_REQUEST,
                    format!("{k}={s:?}: expected a number"),
                )
            }),
        }
    };
    let mut d = json!({
        "target": target,
        "activation": get("activation").unwrap_or("pressure"),
        "anti_handling_device": get("anti_handling_device").is_some(),
        "directional": get("directional").is_some(),
        "delivery": {"mode": get("delivery").unwrap_or("hand_emplaced")},
    });
    if let Some(m) = num("distance_m")? {
        d["delivery"]["distance_m"] = json!(m);
    }
    if let Some(g) = num("iron_g")? {
        d["detectable_iron_equivalent_g"] = json!(g);
    }
    for (k, days, rel) in [
        ("self_destruct", "sd_days", "sd_reliability"),
        ("self_deactivation", "sda_days", "sda_reliability"),
    ] {
        if let (Some(days), Some(rel)) = (num(days)?, num(rel)?) {
            d[k] = json!({"days": days, "reliability": rel});
        }
    }
    if let Some(n) = get("name") {
        d["name"] = json!(n);
    }
    Ok(Some(d))
}

async fn classify_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let as_of = match as_of(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    let device = match device_from_form(&q) {
        Ok(d) => d,
        Err(e) => return e.respond(fmt),
    };
    run(app, fmt, Scope::Whole, move |_, store, engine| {
        let sources = sources_map(store)?;
        let mut notes = Footnotes::new(&sources);
        let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
        let sel = |name: &str, values: &[&str], cur: &str| -> Markup {
            html! {
                select id=(name) name=(name) {
                    @for v in values {
                        option value=(v) selected[*v == cur] { (v.replace('_', " ")) }
                    }
                }
            }
        };
        let checked = |k: &str| q.contains_key(k);
        let number = |id: &str, size: u8| {
            html! { input id=(id) name=(id) inputmode="decimal" size=(size) value=(get(id)); }
        };
        let form = html! {
            form.classify method="get" action="/classify" {
                fieldset {
                    legend { "The device" }
                    p { label for="name" { "Name (optional)" } " " input id="name" name="name" value=(get("name")); }
                    p { label for="target" { "Designed to be set off by or against" } " " (sel("target", &["person", "vehicle"], get("target"))) }
                    p { label for="activation" { "Activation" } " " (sel("activation", &ACTIVATIONS, get("activation"))) }
                    p {
                        label for="delivery" { "Delivery" } " " (sel("delivery", &["hand_emplaced", "remote"], get("delivery")))
                        " " label for="distance_m" { "from (metres)" } " " (number("distance_m", 6))
                    }
                    p {
                        input type="checkbox" id="anti_handling_device" name="anti_handling_device" value="1" checked[checked("anti_handling_device")];
                        " " label for="anti_handling_device" { "Anti-handling device" }
                        input type="checkbox" id="directional" name="directional" value="1" checked[checked("directional")];
                        " " label for="directional" { "Directional (fragments aimed)" }
                    }
                    p { label for="iron_g" { "Detectable metal (grams of iron)" } " " (number("iron_g", 6)) }
                    p {
                        label for="sd_days" { "Self-destructs after (days)" } " " (number("sd_days", 5))
                        " " label for="sd_reliability" { "with reliability (0 to 1)" } " " (number("sd_reliability", 5))
                    }
                    p {
                        label for="sda_days" { "Self-deactivates after (days)" } " " (number("sda_days", 5))
                        " " label for="sda_reliability" { "with reliability (0 to 1)" } " " (number("sda_reliability", 5))
                    }
                    p { label for="as_of" { "Policies in force on" } " " input type="date" id="as_of" name="as_of" value=(as_of); }
                }
                button type="submit" { "Classify" }
            }
        };
        let mut result_html = Markup::default();
        let mut result = None;
        if let Some(d) = &device {
            let dev = derived::parse_device("form", &d.to_string())?;
            let c = derived::classify_device(engine, &dev, as_of, Vec::new())?;
            let yn = |b: Option<bool>| match b {
                Some(true) => "yes",
                Some(false) => "no",
                None => "cannot tell from the description",
            };
            result_html = html! {
                section aria-labelledby="verdict-h" class="verdicts" {
                    h2 #verdict-h { "Verdicts" }
                    h3 { "Mine Ban Treaty, Art. 2: anti-personnel mine? " span.answer { (yn(Some(c.apmbc.anti_personnel_mine))) } }
                    (reasons_html(&c.apmbc.reasons, &mut notes))
                    h3 { "CCW Amended Protocol II: lawful? " span.answer { (yn(c.ccw_apii.lawful)) } }
                    ul { @for x in &c.ccw_apii.conditions { li { (x) } } }
                    (reasons_html(&c.ccw_apii.reasons, &mut notes))
                    @for p in &c.policies.verdicts {
                        h3 { (p.subject) " policy " (p.policy_id) ": use " (wire_word(&p.use_permitted).replace('_', " ")) }
                        (reasons_html(&p.reasons, &mut notes))
                    }
                    @for d in &c.definitions {
                        h3 { (d.title) ": anti-personnel mine? " span.answer { (yn(Some(d.anti_personnel_mine))) } }
                        (reasons_html(&d.reasons, &mut notes))
                    }
                }
                (notes.render())
            };
            result = Some(minewatch_answers::derived::ClassificationAnswer {
                classification: c,
                on: as_of,
            });
        }
        let main = html! {
            h1 { "Mine classifier" }
            p {
                "Describe a device by its characteristics. The verdicts say whether it is an \
                 anti-personnel mine under the Mine Ban Treaty, whether its use is lawful under \
                 CCW Amended Protocol II and on what conditions, what each policy in force on the \
                 date allows, and what the alternative definitions shipped with minewatch say, \
                 each with its reasons."
            }
            (form)
            (result_html)
        };
        Ok(Out {
            page: Page {
                title: "Mine classifier".into(),
                main,
                json_href: Some("/classify.json".into()),
                ..Page::default()
            },
            data: derived_value(&ClassifyAnswer { device, result })?,
            csv: None,
            name: "classify".into(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Search

pub async fn search_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    search_fmt(app, negotiate("", &headers).1, q).await
}

pub async fn search_json(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    search_fmt(app, Fmt::Json, q).await
}

async fn search_fmt(app: Arc<App>, fmt: Fmt, q: HashMap<String, String>) -> Response {
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    if text.chars().count() > 200 {
        return PageError::new(StatusCode::BAD_REQUEST, "q: at most 200 characters").respond(fmt);
    }
    run(app, fmt, Scope::Whole, move |app, store, engine| {
        let terms: Vec<String> = minewatch_domain::normalize_name(&text)
            .split_whitespace()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        let matches = |hay: &str| -> usize {
            let hay = minewatch_domain::normalize_name(hay);
            if terms.iter().all(|t| hay.contains(t.as_str())) {
                terms.iter().map(|t| hay.matches(t.as_str()).count()).sum()
            } else {
                0
            }
        };
        let mut states = Vec::new();
        let mut sources_hit = Vec::new();
        let mut facts_hit: Vec<(usize, &Fact, String)> = Vec::new();
        if !terms.is_empty() {
            for s in app.gazetteer().subjects() {
                let hay = format!("{} {} {} {}", s.name, s.code, s.alpha2.as_deref().unwrap_or(""), s.aliases.join(" "));
                if matches(&hay) > 0 {
                    states.push(s);
                }
            }
            for s in store.sources()? {
                let src = &s.source;
                let hay = format!("{} {} {} {}", src.title, src.publisher.as_deref().unwrap_or(""), src.key, src.note.as_deref().unwrap_or(""));
                if matches(&hay) > 0 {
                    sources_hit.push(s.source);
                }
            }
            for f in engine.facts() {
                let name = name_of(app, &f.subject);
                let text = sentence(f, &name);
                let hay = format!("{text} {} {}", f.note.as_deref().unwrap_or(""), name);
                let n = matches(&hay);
                if n > 0 {
                    facts_hit.push((n, f, text));
                }
            }
            facts_hit.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
        }
        let total_facts = facts_hit.len();
        facts_hit.truncate(100);
        let main = html! {
            h1 { "Search" }
            form.search method="get" action="/search" role="search" {
                label for="q" { "Search states, sources and facts" } " "
                input type="search" id="q" name="q" value=(text); " "
                button type="submit" { "Search" }
            }
            @if !terms.is_empty() {
                h2 { "States and areas (" (states.len()) ")" }
                ul {
                    @for s in &states {
                        li { a href={ "/states/" (url_enc(&s.code)) } { (s.name) } " (" (s.code) ")" }
                    }
                }
                h2 { "Sources (" (sources_hit.len()) ")" }
                ul {
                    @for s in &sources_hit {
                        li { a href={ "/sources/" (url_enc(&s.key)) } { (s.title) } }
                    }
                }
                h2 { "Facts (" (total_facts) @if total_facts > 100 { ", the first 100 shown" } ")" }
                ul.statements {
                    @for (_, f, t) in &facts_hit {
                        li { a href={ "/states/" (url_enc(&f.subject)) } { (name_of(app, &f.subject)) } ": " (t) }
                    }
                }
            }
        };
        let data = derived_value(&SearchAnswer {
            q: text.clone(),
            states: states
                .iter()
                .map(|s| minewatch_answers::json::SubjectRef {
                    code: s.code.clone(),
                    name: s.name.clone(),
                })
                .collect(),
            sources: sources_hit.iter().map(minewatch_answers::json::source).collect(),
            facts_total: total_facts,
            facts: facts_hit
                .iter()
                .map(|(_, f, t)| SearchHit {
                    id: f.id,
                    subject: f.subject.clone(),
                    text: t.clone(),
                    sources: f.citations.clone(),
                })
                .collect(),
        })?;
        Ok(Out {
            page: Page {
                title: if text.is_empty() { "Search".into() } else { format!("Search: {text}") },
                main,
                json_href: Some(format!("/search.json?q={}", url_enc(&text))),
                ..Page::default()
            },
            data,
            csv: None,
            name: "search".into(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Atom feeds

pub async fn feed_all(State(app): State<Arc<App>>) -> Response {
    feed(app, None).await
}

pub async fn feed_state(State(app): State<Arc<App>>, Path(code): Path<String>) -> Response {
    feed(app, Some(code)).await
}

/// The host of the public address (`minewatch.example.org` of `https://minewatch.example.org/x`),
/// for tag URIs; `localhost` when there is none.
fn public_host(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    if host.is_empty() {
        "localhost".into()
    } else {
        host.to_ascii_lowercase()
    }
}

async fn feed(app: Arc<App>, code: Option<String>) -> Response {
    let r = tokio::task::spawn_blocking(move || -> Result<String, PageError> {
        app.with_store(|store| {
            let subject = match &code {
                Some(c) => Some(subject_or_404(&app, c).map_err(|e| ApiError::new(e.status, e.message))?.clone()),
                None => None,
            };
            let facts = store
                .latest(50, subject.as_ref().map(|s| s.code.as_str()))
                .map_err(ApiError::from)?;
            let base = app.settings.public_url.trim_end_matches('/');
            let (title, self_href, alt) = match &subject {
                Some(s) => (
                    format!("minewatch: changes to the profile of {}", s.name),
                    format!("{base}/states/{}/feed.atom", url_enc(&s.code)),
                    format!("{base}/states/{}", url_enc(&s.code)),
                ),
                None => (
                    "minewatch: changes to the record".to_string(),
                    format!("{base}/feed.atom"),
                    format!("{base}/"),
                ),
            };
            let updated = facts
                .first()
                .map(|f| f.fact.recorded_at.clone())
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
            // Entry ids are tag URIs (RFC 4151) under the operator's host, dated by the day the
            // fact was recorded: the same fact has the same id in every feed and export of
            // this installation, and no other installation's ids collide with it.
            let host = public_host(base);
            let mut s = format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{}</title><id>{}</id><updated>{}</updated><link rel="self" href="{}"/><link rel="alternate" type="text/html" href="{}"/><author><name>minewatch</name></author>"#,
                esc(&title),
                esc(&self_href),
                esc(&updated),
                esc(&self_href),
                esc(&alt)
            );
            // The current facts of each subject and kind an entry has, to tell a new source
            // for a statement already recorded ([`group_facts`], as on the profile).
            let mut current: HashMap<(String, FactKind), Vec<FactRecord>> = HashMap::new();
            for r in &facts {
                let f = &r.fact;
                let name = name_of(&app, &f.subject);
                let mut text = sentence(f, &name);
                let mut what = if f.supersedes.is_some() { "Corrected" } else { "Added" };
                let same = match current.entry((f.subject.clone(), f.kind())) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(
                        store
                            .facts(&FactFilter {
                                subject: Some(f.subject.clone()),
                                kind: Some(f.kind()),
                                ..FactFilter::default()
                            })
                            .map_err(ApiError::from)?,
                    ),
                };
                // An earlier fact with the same meaning: this one (unless it corrects a fact)
                // adds a source to its statement.
                let earlier = group_facts(same.iter().map(|r| &r.fact))
                    .into_iter()
                    .find(|g| g.facts.iter().any(|g| g.id == f.id))
                    .and_then(|g| g.facts.iter().map(|g| g.id).filter(|&id| id < f.id).min());
                if let (Some(first), None) = (earlier, f.supersedes) {
                    what = "Added a source for";
                    let _ = write!(
                        text,
                        " (A further source for a statement already recorded as fact {first}.)"
                    );
                }
                let day = f.recorded_at.get(..10).unwrap_or("2026-01-01");
                let _ = write!(
                    s,
                    r#"<entry><title>{name}: {what} {kind}</title><id>tag:{host},{day}:fact:{id}</id><updated>{upd}</updated><link rel="alternate" type="text/html" href="{base}/facts/{id}"/><link rel="related" type="text/html" href="{base}/states/{code}"/><link rel="related" type="application/json" href="{base}/api/v1/facts/{id}"/><summary>{text}</summary></entry>"#,
                    name = esc(&name),
                    what = what,
                    kind = esc(&f.kind().as_str().replace('_', " ")),
                    host = esc(&host),
                    day = esc(day),
                    id = f.id,
                    upd = esc(&f.recorded_at),
                    base = esc(base),
                    code = url_enc(&f.subject),
                    text = esc(&text),
                );
            }
            s.push_str("</feed>");
            Ok(s)
        })
        .map_err(PageError::from)
    })
    .await;
    match r {
        Ok(Ok(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            body,
        )
            .into_response(),
        Ok(Err(e)) => e.respond(Fmt::Html),
        Err(e) => {
            PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).respond(Fmt::Html)
        }
    }
}

pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// `/robots.txt`: crawlers may read the public pages, not the desk, accounts or forms; the
/// sitemap lists what there is.
pub async fn robots(State(app): State<Arc<App>>) -> Response {
    let base = app.settings.public_url.trim_end_matches('/');
    let body = format!(
        "User-agent: *\n\
         Disallow: /desk\n\
         Disallow: /admin\n\
         Disallow: /login\n\
         Disallow: /subscribe\n\
         Disallow: /unsubscribe\n\
         Disallow: /feedback\n\
         Disallow: /api/v1/proposals\n\
         Sitemap: {base}/sitemap.xml\n"
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `/sitemap.xml`: every public page of the current record (sitemaps.org protocol), with
/// absolute addresses from `--public-url`.
pub async fn sitemap(State(app): State<Arc<App>>) -> Response {
    let r = minewatch_web::blocking(app, |app| {
        app.with_store(|store| {
            let base = app.settings.public_url.trim_end_matches('/').to_string();
            let mut paths: Vec<String> = [
                "/",
                "/states",
                "/sources",
                "/unga",
                "/deadlines",
                "/article5",
                "/meetings",
                "/casualties",
                "/use",
                "/policies",
                "/classify",
                "/search",
                "/downloads",
            ]
            .iter()
            .map(|p| p.to_string())
            .collect();
            for s in app.gazetteer().subjects() {
                paths.push(format!("/states/{}", url_enc(&s.code)));
            }
            for s in store.sources()? {
                paths.push(format!("/sources/{}", url_enc(&s.source.key)));
            }
            for f in store.facts(&FactFilter {
                kind: Some(FactKind::UngaRollCall),
                ..FactFilter::default()
            })? {
                if let Payload::UngaRollCall(rc) = &f.fact.payload {
                    paths.push(format!("/unga/{}", rc.resolution));
                }
            }
            for f in store.facts(&FactFilter {
                kind: Some(FactKind::Meeting),
                ..FactFilter::default()
            })? {
                if let Payload::Meeting(m) = &f.fact.payload {
                    paths.push(format!("/meetings/{}", url_enc(&m.code)));
                }
            }
            // Two facts may record one meeting or roll call (sources that disagree).
            let mut seen = std::collections::HashSet::new();
            paths.retain(|p| seen.insert(p.clone()));
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
            );
            for p in &paths {
                let _ = writeln!(xml, "<url><loc>{}</loc></url>", esc(&format!("{base}{p}")));
            }
            xml.push_str("</urlset>\n");
            Ok(xml)
        })
    })
    .await;
    match r {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Err(e) => PageError::from(e).respond(Fmt::Html),
    }
}

/// The site's icon: a ring crossed out, in the brand's colour.
const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="12" fill="none" stroke="#1f4e79" stroke-width="4"/><path d="M7.5 7.5l17 17" stroke="#b22222" stroke-width="4" stroke-linecap="round"/></svg>"##;

/// `/favicon.svg`.
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// `/favicon.ico`, which browsers ask for whatever the page says: the SVG icon's address.
pub async fn favicon_ico() -> Response {
    axum::response::Redirect::permanent("/favicon.svg").into_response()
}

/// A helpful 404 page for paths outside the API.
pub async fn not_found_page(uri: axum::http::Uri) -> Response {
    let mut e = PageError::new(
        StatusCode::NOT_FOUND,
        format!("there is no page at {}", uri.path()),
    );
    // A country name or code typed into the address bar: suggest the profile.
    let last = uri
        .path()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    if !last.is_empty() && last.len() <= 60 {
        e.help = html! {
            p { a href={ "/search?q=" (url_enc(last)) } { "Search for “" (last) "”" } }
        };
    }
    e.respond(Fmt::Html)
}
