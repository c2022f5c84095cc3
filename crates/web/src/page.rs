//! How a page answers: the representation asked for (HTML, its JSON twin, CSV), a page's three
//! faces ([`Out`]), error pages ([`PageError`]), and running a page builder on the blocking pool
//! with a reading connection and an engine ([`run`], [`run_plain`]).

use crate::derived::{DerivedError, Scope};
use crate::html::{csv, html, layout, Markup, Page};
use crate::{ApiError, App};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minewatch_store::Store;
use minewatch_treaty::Engine;
use serde_json::Value;
use std::sync::Arc;

/// The representation asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Html,
    Json,
    Csv,
}

/// Splits `USA.json` into (`USA`, Json); falls back to the Accept header.
pub fn negotiate<'a>(name: &'a str, headers: &HeaderMap) -> (&'a str, Fmt) {
    if let Some(base) = name.strip_suffix(".json") {
        return (base, Fmt::Json);
    }
    if let Some(base) = name.strip_suffix(".csv") {
        return (base, Fmt::Csv);
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/json") && !accept.contains("text/html") {
        (name, Fmt::Json)
    } else {
        (name, Fmt::Html)
    }
}

/// What a public page's citation needs from its request: the address asked for, the record
/// version and the day it was read, and the public URL. The server's middleware sets it around
/// public page requests ([`PAGE_CONTEXT`]); pages rendered without it (errors, the desk) carry
/// no citation.
#[derive(Debug, Clone)]
pub struct PageContext {
    pub path_and_query: String,
    pub record: i64,
    pub today: minewatch_domain::Date,
    pub public_url: String,
}

tokio::task_local! {
    /// The context of the public page request being answered on this task.
    pub static PAGE_CONTEXT: PageContext;
}

/// A page's three faces: HTML, JSON data, and (for tables) CSV.
#[derive(Debug)]
pub struct Out {
    pub page: Page,
    pub data: Value,
    pub csv: Option<(Vec<&'static str>, Vec<Vec<String>>)>,
    pub name: String,
}

impl Out {
    /// Adds the citation of the page to its HTML and its JSON twin (`cite`, `licence`).
    fn cite(&mut self, ctx: &PageContext) {
        let c = minewatch_answers::cite::Cite::new(
            &self.page.title,
            &ctx.public_url,
            &ctx.path_and_query,
            ctx.record,
            ctx.today,
        );
        if let Value::Object(m) = &mut self.data {
            m.insert(
                "licence".into(),
                Value::String(minewatch_answers::cite::TERMS_SHORT.into()),
            );
            if let Ok(v) = serde_json::to_value(&c) {
                m.insert("cite".into(), v);
            }
        }
        self.page.cite = Some(c);
    }

    fn respond(self, fmt: Fmt) -> Response {
        match fmt {
            Fmt::Html => html_response(StatusCode::OK, layout(&self.page)),
            Fmt::Json => (StatusCode::OK, axum::Json(self.data)).into_response(),
            Fmt::Csv => match self.csv {
                Some((h, rows)) => (
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"{}.csv\"", self.name),
                        ),
                    ],
                    csv(&h, &rows),
                )
                    .into_response(),
                None => PageError::new(
                    StatusCode::NOT_FOUND,
                    "this page has no table to download as CSV; try .json",
                )
                .respond(Fmt::Html),
            },
        }
    }
}

fn html_response(status: StatusCode, body: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into_string(),
    )
        .into_response()
}

/// An error shown as a page (or as JSON for a twin).
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    /// Extra help under the message.
    pub help: Markup,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            help: Markup::default(),
        }
    }

    pub fn respond(self, fmt: Fmt) -> Response {
        if fmt == Fmt::Json {
            return (
                self.status,
                axum::Json(crate::ErrorBody {
                    error: crate::ErrorDetail {
                        status: self.status.as_u16(),
                        message: self.message,
                        extra: None,
                    },
                }),
            )
                .into_response();
        }
        let heading = match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "That request cannot be answered",
            _ => "Something went wrong",
        };
        let page = Page {
            title: heading.into(),
            main: html! {
                h1 { (heading) }
                p.error { (self.message) }
                (self.help)
                p {
                    "Try the " a href="/states" { "list of states" } ", "
                    a href="/search" { "search" } ", or the " a href="/" { "home page" } "."
                }
            },
            ..Page::default()
        };
        html_response(self.status, layout(&page))
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::new(e.status, e.message)
    }
}

impl From<DerivedError> for PageError {
    fn from(e: DerivedError) -> Self {
        PageError::from(ApiError::from(e))
    }
}

impl From<minewatch_store::StoreError> for PageError {
    fn from(e: minewatch_store::StoreError) -> Self {
        PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

pub type PageResult = Result<Out, PageError>;

/// Runs a page builder on the blocking pool with a store and the engine, then answers in `fmt`.
pub async fn run(
    app: Arc<App>,
    fmt: Fmt,
    scope: Scope,
    f: impl FnOnce(&App, &Store, &Engine) -> PageResult + Send + 'static,
) -> Response {
    run_plain(app, fmt, move |app, store| {
        let engine = app.scoped_engine(store, scope)?;
        f(app, store, &engine)
    })
    .await
}

/// Renders a page on the blocking pool (in turn with the other blocking jobs) with a reading
/// connection; `f` fetches whatever engine it needs.
pub async fn run_plain(
    app: Arc<App>,
    fmt: Fmt,
    f: impl FnOnce(&App, &Store) -> PageResult + Send + 'static,
) -> Response {
    let r = crate::blocking(
        app,
        move |app| Ok(app.with_store(|store| Ok(f(app, store)))),
    )
    .await;
    match r {
        Ok(Ok(Ok(mut out))) => {
            if let Ok(ctx) = PAGE_CONTEXT.try_with(PageContext::clone) {
                out.cite(&ctx);
            }
            out.respond(fmt)
        }
        Ok(Ok(Err(e))) => e.respond(fmt),
        Ok(Err(e)) | Err(e) => PageError::from(e).respond(fmt),
    }
}

/// An error page (HTML) with a status and a message.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    PageError::new(status, message).respond(Fmt::Html)
}
