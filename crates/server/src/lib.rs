//! minewatch's HTTP server: the router that puts the rooms together (the public site and API
//! from `site`, the desk from `desk`, subscriptions from `notify`), the middleware (address
//! limits, the page cache and timings, security headers, JSON errors under `/api/`), the
//! connection loop (`server`) and the static export of the site. The only crate that knows all
//! the others.

mod apidoc;
pub mod downloads;
mod server;

pub use minewatch_web::Limits;
pub use minewatch_web::{App, Settings};
pub use server::serve;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use minewatch_answers::derived;
use minewatch_desk::{auth, feedback, proposals as desk};
use minewatch_notify as notify;
use minewatch_site::api;
use minewatch_site::{impact_pages, obligations_pages, pages};
use minewatch_web::html;
use minewatch_web::page::{Fmt, PageError};
use minewatch_web::{
    ApiError, ApiResult, FORM_MAX_BYTES, PAGE_CACHE_MAX, PAGE_CACHE_MAX_BYTES, TIMING_SAMPLES_MAX,
};
use serde::Deserialize;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The API's routes with their OpenAPI document: the public reads (for any origin) and the
/// rest (classification, timings, proposals).
fn api_routers() -> (Router<Arc<App>>, Router<Arc<App>>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi;
    let (public, mut doc) = OpenApiRouter::with_openapi(apidoc::ApiDoc::openapi())
        .routes(routes!(openapi))
        .routes(routes!(api::states))
        .routes(routes!(api::state))
        .routes(routes!(api::state_facts))
        .routes(routes!(api::state_status))
        .routes(routes!(api::parties))
        .routes(routes!(api::deadlines))
        .routes(routes!(api::policies))
        .routes(routes!(api::policy_diff))
        .routes(routes!(api::fact))
        .routes(routes!(api::sources))
        .routes(routes!(api::source))
        .routes(routes!(api::unga))
        .split_for_parts();
    let (rest, rest_doc) = OpenApiRouter::new()
        .routes(routes!(api::classify))
        .routes(routes!(timings))
        .routes(routes!(desk::api_proposals, desk::api_propose))
        .routes(routes!(desk::api_proposal))
        .routes(routes!(desk::api_decide))
        .split_for_parts();
    doc.merge(rest_doc);
    apidoc::add_common_responses(&mut doc);
    (public, rest, doc)
}

/// The API's OpenAPI 3.1 document (JSON), as generated from the code.
pub fn openapi_document() -> String {
    let (_, _, doc) = api_routers();
    doc.to_pretty_json().unwrap_or_else(|e| {
        format!(r#"{{"error": {{"status": 500, "message": "the OpenAPI document: {e}"}}}}"#)
    })
}

/// The router with every route: the pages, their twins and feeds, and the JSON API.
pub fn router(app: Arc<App>) -> Router {
    // Public reads: any site may fetch them (a notebook in a browser, say), without credentials.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD]);
    let (public_api, rest_api, doc) = api_routers();
    let document: Arc<str> = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!(r#"{{"error": {{"status": 500, "message": "{e}"}}}}"#))
        .into();
    let public = public_api
        .layer(axum::Extension(OpenApiJson(document)))
        .route("/", get(pages::home))
        .route("/index.json", get(pages::home_json))
        .route("/states", get(pages::states_index))
        .route("/states.json", get(pages::states_json))
        .route("/states.csv", get(pages::states_csv))
        .route("/states/{code}", get(pages::state_page))
        .route("/states/{code}/feed.atom", get(pages::feed_state))
        .route(
            "/states/{code}/casualties.json",
            get(impact_pages::casualties_json),
        )
        .route(
            "/states/{code}/casualties.csv",
            get(impact_pages::casualties_csv),
        )
        .route("/states/{code}/use.json", get(impact_pages::use_json))
        .route("/states/{code}/use.csv", get(impact_pages::use_csv))
        .route(
            "/states/{code}/transparency.json",
            get(impact_pages::transparency_json),
        )
        .route(
            "/states/{code}/transparency.csv",
            get(impact_pages::transparency_csv),
        )
        .route("/casualties", get(impact_pages::casualties_page))
        .route("/casualties.json", get(impact_pages::world_casualties_json))
        .route("/casualties.csv", get(impact_pages::world_casualties_csv))
        .route("/use", get(impact_pages::use_page))
        .route("/use.json", get(impact_pages::world_use_json))
        .route("/use.csv", get(impact_pages::world_use_csv))
        .route("/sources", get(pages::sources_index))
        .route("/sources.json", get(pages::sources_json))
        .route("/sources.csv", get(pages::sources_csv))
        .route("/sources/{key}", get(pages::source_page))
        .route("/unga", get(pages::unga_index))
        .route("/unga.json", get(pages::unga_json))
        .route("/unga.csv", get(pages::unga_csv))
        .route("/unga/{session}/{number}", get(pages::unga_resolution))
        .route("/deadlines", get(obligations_pages::deadlines_page))
        .route("/deadlines.json", get(obligations_pages::deadlines_json))
        .route("/deadlines.csv", get(obligations_pages::deadlines_csv))
        .route("/article5", get(obligations_pages::article5_page))
        .route("/article5.json", get(obligations_pages::article5_json))
        .route("/article5.csv", get(obligations_pages::article5_csv))
        .route("/meetings", get(obligations_pages::meetings_index))
        .route("/meetings.json", get(obligations_pages::meetings_json))
        .route("/meetings.csv", get(obligations_pages::meetings_csv))
        .route("/meetings/{code}", get(obligations_pages::meeting_page))
        .route("/policies", get(pages::policies_page))
        .route("/policies.json", get(pages::policies_json))
        .route("/classify", get(pages::classify_page))
        .route("/classify.json", get(pages::classify_json))
        .route("/search", get(pages::search_page))
        .route("/search.json", get(pages::search_json))
        .route("/feed.atom", get(pages::feed_all))
        .route("/assets/style.css", get(pages::style))
        .route("/robots.txt", get(pages::robots))
        .route("/sitemap.xml", get(pages::sitemap))
        .route("/favicon.svg", get(pages::favicon))
        .route("/favicon.ico", get(pages::favicon_ico))
        .route("/downloads", get(downloads::page))
        .route("/downloads.json", get(downloads::page))
        .route("/downloads/{*file}", get(downloads::file))
        .layer(axum::Extension(Arc::new(downloads::Built::default())))
        .route("/healthz", get(|| async { "ok" }))
        .route("/facts/{id}", get(desk::fact_page))
        .layer(cors);
    Router::new()
        .merge(public)
        .merge(rest_api)
        // Accounts, the editorial desk, subscriptions, feedback, administration.
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/desk", get(desk::desk_home))
        .route("/desk/new", get(desk::new_fact_page))
        .route("/desk/facts/{id}/{what}", get(desk::change_fact_page))
        .route("/desk/proposals", post(desk::propose))
        .route("/desk/proposals/{id}", get(desk::proposal_page))
        .route("/desk/proposals/{id}/approve", post(desk::approve))
        .route("/desk/proposals/{id}/reject", post(desk::reject))
        .route(
            "/desk/import",
            get(desk::import_page)
                .post(desk::import_post)
                .layer(DefaultBodyLimit::max(desk::IMPORT_MAX_BYTES + 64 * 1024)),
        )
        .route(
            "/subscribe",
            get(notify::subscribe_page).post(notify::subscribe),
        )
        .route(
            "/subscribe/confirm",
            get(notify::confirm_page).post(notify::confirm),
        )
        .route(
            "/unsubscribe",
            get(notify::unsubscribe_page).post(notify::unsubscribe),
        )
        .route(
            "/feedback",
            get(feedback::feedback_page)
                .post(feedback::feedback_post)
                .layer(DefaultBodyLimit::max(feedback::MAX_BODY_BYTES)),
        )
        .route("/admin", get(feedback::admin_home))
        .route("/admin/outbox/{id}/retry", post(feedback::outbox_retry))
        .route("/admin/webhooks", post(feedback::webhook_add))
        .route(
            "/admin/webhooks/{id}/disable",
            post(feedback::webhook_disable),
        )
        .route("/admin/feedback/{id}", get(feedback::feedback_item))
        .route(
            "/admin/feedback/{id}/answer",
            post(feedback::feedback_answer),
        )
        .route("/admin/feedback/{id}/close", post(feedback::feedback_close))
        .route("/admin/feedback/{id}/erase", post(feedback::feedback_erase))
        .route("/admin/attachments/{id}", get(feedback::attachment))
        .fallback(fallback)
        // Every other body is a small form or JSON document.
        .layer(DefaultBodyLimit::max(FORM_MAX_BYTES))
        .layer(axum::middleware::from_fn(hxl_rows))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            cache_and_time,
        ))
        .layer(axum::middleware::from_fn(api_errors_as_json))
        // Over-long addresses are refused before the cache or any handler sees them.
        .layer(axum::middleware::from_fn(limit_uri))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(close_after_refused_body))
        // gzip or brotli, as the client accepts; not for bodies under 1 KiB.
        .layer(CompressionLayer::new())
        // The access log: method, path (never the query, which may hold a token), status and
        // time, one line per request; no client address.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::extract::Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .with_state(app)
}

/// The longest path and query string served (bytes). The longest real path is well under 200
/// bytes; a longer one is refused before any routing or name matching is done.
pub const MAX_PATH_BYTES: usize = 1024;
pub const MAX_QUERY_BYTES: usize = 4096;

/// Refuses over-long addresses with 414 before any work is done for them: the API's JSON
/// error body under `/api/`, an error page elsewhere.
async fn limit_uri(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let uri = req.uri();
    let path = uri.path().len();
    let query = uri.query().map_or(0, str::len);
    if path <= MAX_PATH_BYTES && query <= MAX_QUERY_BYTES {
        return next.run(req).await;
    }
    let message = format!(
        "the address is too long ({path} bytes of path, {query} of query); expected at most \
         {MAX_PATH_BYTES} and {MAX_QUERY_BYTES}"
    );
    if uri.path().starts_with("/api/") {
        ApiError::new(StatusCode::URI_TOO_LONG, message).into_response()
    } else {
        PageError::new(StatusCode::URI_TOO_LONG, message).respond(Fmt::Html)
    }
}

/// The API answers every error with its JSON error body, also the framework's own rejections
/// (a duplicate or malformed query key, invalid UTF-8 in the path, a body too large or of the
/// wrong type), which axum writes as plain text.
async fn api_errors_as_json(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    // The framework's messages are one line; anything longer is cut.
    let text = match axum::body::to_bytes(body, 16 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut out = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// A handler that refuses a request (a visitor without the right role, a file too large) answers
/// before it has read the body. The HTTP server then drops the connection once the response is
/// written, because the unread rest of the body is in the way of the next request; a client that
/// was not told would send its next request on a closed connection. So an error answer to a
/// request with a body says `Connection: close`.
async fn close_after_refused_body(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let mut res = next.run(req).await;
    if has_body && (res.status().is_client_error() || res.status().is_server_error()) {
        res.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    res
}

/// `?hxl=1` on a CSV download: the HXL hashtag row under the header
/// ([`minewatch_answers::hxl`]), for HXL tools. `?hxl=0` or no `hxl`: the plain CSV.
async fn hxl_rows(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let want = req
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("hxl="))
        .map(str::to_string);
    let want = match want.as_deref() {
        None | Some("0") | Some("") => false,
        Some("1") => true,
        Some(other) => {
            let message = format!("hxl={:?}: expected 1 (add the HXL hashtag row) or 0", other);
            let api = req.uri().path().starts_with("/api/");
            return minewatch_web::error_response(StatusCode::BAD_REQUEST, &message, api);
        }
    };
    let res = next.run(req).await;
    let is_csv = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    if !want || !is_csv || res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("reading the CSV: {e}"),
            )
            .into_response()
        }
    };
    match minewatch_answers::hxl::insert_row(&text) {
        Ok(t) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(t))
        }
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// Paths whose answers are the same for everyone (no account, no personal data): they get an
/// ETag, and the page cache may hold them.
fn is_public(path: &str) -> bool {
    const PRIVATE: [&str; 10] = [
        "/desk",
        "/admin",
        "/login",
        "/logout",
        "/subscribe",
        "/unsubscribe",
        "/feedback",
        "/api/v1/proposals",
        "/api/v1/timings",
        "/healthz",
    ];
    !PRIVATE.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('.'))
    })
}

/// Whether `If-None-Match` names `tag` (weak comparison, as for GET) or is `*`.
fn if_none_match(headers: &header::HeaderMap, tag: &header::HeaderValue) -> bool {
    let want = tag.as_bytes().strip_prefix(b"W/").unwrap_or(tag.as_bytes());
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t).as_bytes() == want)
}

/// Serves public pages from the page cache when the record has not changed, and times every
/// request: the time spent in the server goes out as a `Server-Timing` header and into the
/// samples that `/api/v1/timings` summarises.
async fn cache_and_time(
    State(app): State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let start = std::time::Instant::now();
    let path = req.uri().path();
    // Public reads answer the same until the record changes or the day does (pages default to
    // today): they carry an ETag of both, and a request that already has it gets 304.
    let public_read = matches!(*req.method(), Method::GET | Method::HEAD) && is_public(path);
    let cacheable = public_read && req.method() == Method::GET && !path.starts_with("/api/");
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = accept.contains("application/json") && !accept.contains("text/html");
    let today = minewatch_store::today()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let key = cacheable.then(|| format!("{today}|{}|{json}", req.uri()));
    let canonical = cacheable
        .then(|| {
            let target = req.uri().path_and_query().map_or(path, |p| p.as_str());
            header::HeaderValue::from_str(&format!(
                "<{}{target}>; rel=\"canonical\"",
                app.settings.public_url.trim_end_matches('/')
            ))
            .ok()
        })
        .flatten();
    let version = match public_read {
        true => app.with_store(|s| Ok(s.last_fact_id()?)).ok(),
        false => None,
    };
    let etag = version.and_then(|v| {
        header::HeaderValue::from_str(&format!(
            "W/\"{v}-{today}-{}-{}\"",
            if json { "j" } else { "h" },
            env!("CARGO_PKG_VERSION")
        ))
        .ok()
    });
    if let Some(tag) = &etag {
        if if_none_match(req.headers(), tag) {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            r.headers_mut().insert(header::ETAG, tag.clone());
            r.headers_mut()
                .insert(header::VARY, header::HeaderValue::from_static("accept"));
            return r;
        }
    }
    let hit = match (&key, version) {
        (Some(k), Some(v)) => app
            .pages
            .lock()
            .ok()
            .and_then(|c| (c.version == v).then(|| c.pages.get(k).cloned()).flatten()),
        _ => None,
    };
    let res = match hit {
        Some((headers, body)) => {
            let mut r = Response::new(axum::body::Body::from(body));
            *r.headers_mut() = headers;
            r
        }
        None => {
            // A public page cites itself: its address, the record version and the day.
            let context = match (cacheable, version, minewatch_store::today()) {
                (true, Some(record), Some(today)) => Some(minewatch_web::page::PageContext {
                    path_and_query: req
                        .uri()
                        .path_and_query()
                        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string()),
                    record,
                    today,
                    public_url: app.settings.public_url.clone(),
                }),
                _ => None,
            };
            let res = match context {
                Some(c) => {
                    minewatch_web::page::PAGE_CONTEXT
                        .scope(c, next.run(req))
                        .await
                }
                None => next.run(req).await,
            };
            match (key, version) {
                // Never cache what is private or sets a cookie.
                (Some(k), Some(v))
                    if res.status() == StatusCode::OK
                        && !res.headers().contains_key(header::SET_COOKIE)
                        && !res.headers().contains_key(header::CACHE_CONTROL) =>
                {
                    let (parts, body) = res.into_parts();
                    match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
                        Ok(bytes) => {
                            // Every byte the entry holds: body, key and headers (a key can be
                            // a few KiB of query string).
                            let cost = bytes.len()
                                + k.len()
                                + parts
                                    .headers
                                    .iter()
                                    .map(|(n, v)| n.as_str().len() + v.len() + 32)
                                    .sum::<usize>()
                                + 64;
                            if let Ok(mut c) = app.pages.lock() {
                                if c.version != v
                                    || c.pages.len() >= PAGE_CACHE_MAX
                                    || c.bytes + cost > PAGE_CACHE_MAX_BYTES
                                {
                                    c.pages.clear();
                                    c.bytes = 0;
                                    c.version = v;
                                }
                                if cost <= PAGE_CACHE_MAX_BYTES && !c.pages.contains_key(&k) {
                                    c.bytes += cost;
                                    c.pages.insert(k, (parts.headers.clone(), bytes.clone()));
                                }
                            }
                            Response::from_parts(parts, axum::body::Body::from(bytes))
                        }
                        Err(e) => ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("reading the page: {e}"),
                        )
                        .into_response(),
                    }
                }
                _ => res,
            }
        }
    };
    let mut res = res;
    if let Some(tag) = etag {
        if res.status() == StatusCode::OK && !res.headers().contains_key(header::CACHE_CONTROL) {
            res.headers_mut().insert(header::ETAG, tag);
            res.headers_mut()
                .append(header::VARY, header::HeaderValue::from_static("accept"));
            // The page's own address under the public URL (RFC 6596, as a Link header).
            if let Some(link) = canonical {
                res.headers_mut().insert(header::LINK, link);
            }
        }
    }
    let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
    if let Ok(mut t) = app.timings.lock() {
        if t.len() < TIMING_SAMPLES_MAX {
            t.push(micros);
        }
    }
    if let Ok(v) =
        axum::http::HeaderValue::from_str(&format!("app;dur={:.3}", f64::from(micros) / 1000.0))
    {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TimingsQuery {
    /// `true` wipes the statistics after reading them (an administrator's token).
    #[param(value_type = Option<bool>)]
    reset: Option<String>,
}

/// Time spent in the server per request since start or the last reset
/// (`GET /api/v1/timings`), in milliseconds; `null` before any request.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Timings {
    pub requests: usize,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub reset: bool,
}

/// Percentiles of the time spent in the server per request since start (or the last reset).
#[utoipa::path(get, path = "/api/v1/timings", tag = "meta", params(TimingsQuery),
    responses((status = 200, description = "The timings", body = Timings),
        (status = 400, description = "A reset other than true or false", body = minewatch_web::ErrorBody),
        (status = 401, description = "A reset without a token", body = minewatch_web::ErrorBody),
        (status = 403, description = "A reset by a non-administrator or without a token", body = minewatch_web::ErrorBody)))]
async fn timings(
    State(app): State<Arc<App>>,
    v: auth::Visitor,
    Query(q): Query<TimingsQuery>,
) -> ApiResult<Timings> {
    let reset = match q.reset.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("reset: {other:?}; expected true or false"),
            ))
        }
    };
    // Anyone may read the statistics; only an administrator's API token may wipe them (a
    // token, not a session cookie, so no other site can make a browser do it).
    if reset {
        v.require(minewatch_store::Role::Admin)
            .map_err(ApiError::from)?;
        if v.bearer.is_none() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "reset needs an administrator's Authorization: Bearer token",
            ));
        }
    }
    let mut samples = {
        let mut t = app
            .timings
            .lock()
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "timings poisoned"))?;
        let s = t.clone();
        if reset {
            t.clear();
        }
        s
    };
    samples.sort_unstable();
    let pct = |p: f64| -> Option<f64> {
        if samples.is_empty() {
            return None;
        }
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).map(|&us| f64::from(us) / 1000.0)
    };
    Ok(Json(Timings {
        requests: samples.len(),
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        reset,
    }))
}

/// Unknown paths: a JSON error under /api/, a helpful page elsewhere.
async fn fallback(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        not_found(uri).await.into_response()
    } else {
        pages::not_found_page(uri).await
    }
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route for {}; the API is described at /api/v1/openapi.json",
            uri.path()
        ),
    )
}

/// The generated document, rendered once when the router is built.
#[derive(Debug, Clone)]
struct OpenApiJson(Arc<str>);

/// This document: the API's OpenAPI 3.1 description, generated from the code.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn openapi(axum::Extension(doc): axum::Extension<OpenApiJson>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.to_string(),
    )
}

/// What a static export wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct SiteStats {
    pub files: usize,
    pub bytes: u64,
}

/// Writes the whole public site as static files under `dir`: every page at `path/index.html`
/// (so links work on any static host), its JSON twin and CSV beside it, the feeds and the
/// stylesheet. Pages are rendered by the same router that serves them, in process.
pub async fn export_site(app: Arc<App>, dir: &std::path::Path) -> Result<SiteStats, String> {
    let mut paths: Vec<String> = [
        "/",
        "/index.json",
        "/states",
        "/states.json",
        "/states.csv",
        "/sources",
        "/sources.json",
        "/sources.csv",
        "/unga",
        "/unga.json",
        "/unga.csv",
        "/deadlines",
        "/deadlines.json",
        "/deadlines.csv",
        "/article5",
        "/article5.json",
        "/article5.csv",
        "/meetings",
        "/meetings.json",
        "/meetings.csv",
        "/casualties",
        "/casualties.json",
        "/casualties.csv",
        "/use",
        "/use.json",
        "/use.csv",
        "/policies",
        "/policies.json",
        "/classify",
        "/search",
        "/feed.atom",
        "/assets/style.css",
        "/downloads",
        "/downloads.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (codes, keys, resolutions, meetings) = {
        let app2 = Arc::clone(&app);
        tokio::task::spawn_blocking(move || {
            app2.with_store(|store| {
                let engine = app2.scoped_engine(store, derived::Scope::Whole)?;
                let today = derived::today()?;
                let codes: Vec<String> = app2
                    .gazetteer()
                    .subjects()
                    .iter()
                    .map(|s| s.code.clone())
                    .collect();
                let keys: Vec<String> =
                    store.sources()?.into_iter().map(|s| s.source.key).collect();
                let res: Vec<String> = engine
                    .unga_tallies(today)
                    .into_iter()
                    .map(|t| t.resolution)
                    .collect();
                let meetings: Vec<String> = engine.meetings().into_iter().map(|m| m.code).collect();
                Ok((codes, keys, res, meetings))
            })
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.message)?
    };
    for c in &codes {
        let c = html::url_enc(c);
        paths.push(format!("/states/{c}"));
        paths.push(format!("/states/{c}.json"));
        paths.push(format!("/states/{c}/feed.atom"));
        // The profile's impact sections link their twins.
        for part in ["casualties", "use", "transparency"] {
            paths.push(format!("/states/{c}/{part}.json"));
            paths.push(format!("/states/{c}/{part}.csv"));
        }
    }
    for k in &keys {
        let k = html::url_enc(k);
        paths.push(format!("/sources/{k}"));
        paths.push(format!("/sources/{k}.json"));
    }
    for m in &meetings {
        let m = html::url_enc(m);
        paths.push(format!("/meetings/{m}"));
        paths.push(format!("/meetings/{m}.json"));
    }
    for r in &resolutions {
        if r.split('/').count() == 2 && !r.contains("..") {
            paths.push(format!("/unga/{r}"));
            paths.push(format!("/unga/{r}.json"));
        }
    }
    // The downloads' files, as the downloads page lists them (built for this record version
    // if no earlier build is there).
    let (built_dir, manifest) = {
        let built = downloads::Built::default();
        minewatch_web::blocking(Arc::clone(&app), move |app| {
            app.with_store(|store| {
                downloads::current(app, store, &built)
                    .map_err(|e| ApiError::new(e.status, e.message))
            })
        })
        .await
        .map_err(|e| e.message)?
    };
    let mut copied = SiteStats::default();
    for f in &manifest.files {
        let from = f
            .name
            .split('/')
            .fold(built_dir.clone(), |p, part| p.join(part));
        let to = f
            .name
            .split('/')
            .fold(dir.join("downloads"), |p, part| p.join(part));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        copied.bytes += std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", to.display()))?;
        copied.files += 1;
    }
    // Pages render on the blocking pool: a few at a time keep both cores busy.
    let router = router(app);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8)
        * 2;
    let chunks: Vec<Vec<String>> = paths
        .chunks(paths.len().div_ceil(workers).max(1))
        .map(<[String]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let router = router.clone();
        let dir = dir.to_path_buf();
        tasks.push(tokio::spawn(async move {
            let mut stats = SiteStats::default();
            for p in &chunk {
                let bytes = render_to_file(&router, p, &dir).await?;
                stats.files += 1;
                stats.bytes += bytes;
            }
            Ok::<SiteStats, String>(stats)
        }));
    }
    let mut stats = copied;
    for t in tasks {
        let s = t.await.map_err(|e| e.to_string())??;
        stats.files += s.files;
        stats.bytes += s.bytes;
    }
    Ok(stats)
}

/// Renders one path through the router and writes it under `dir`; returns the bytes written.
async fn render_to_file(router: &Router, p: &str, dir: &std::path::Path) -> Result<u64, String> {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(p)
        .header(header::ACCEPT, "text/html")
        .body(axum::body::Body::empty())
        .map_err(|e| format!("{p}: {e}"))?;
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| format!("{p}: {e}"))?;
    if res.status() != StatusCode::OK {
        return Err(format!("{p}: the page answered {}", res.status()));
    }
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
        .await
        .map_err(|e| format!("{p}: {e}"))?;
    let rel = p.trim_start_matches('/');
    let has_ext = rel.rsplit('/').next().is_some_and(|last| {
        [".json", ".csv", ".atom", ".css"]
            .iter()
            .any(|x| last.ends_with(x))
    });
    let file = if rel.is_empty() {
        dir.join("index.html")
    } else if has_ext {
        dir.join(rel)
    } else {
        dir.join(rel).join("index.html")
    };
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&file, &body).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(body.len() as u64)
}

/// Headers on every response: a strict Content-Security-Policy (no scripts at all), no sniffing,
/// no framing, no referrer leaks.
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    // A handler may set a stricter policy (attachments are sandboxed).
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(
        axum::http::HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        axum::http::HeaderValue::from_static("DENY"),
    );
    res
}
