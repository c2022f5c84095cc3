//! minewatch's HTTP server: the public pages (HTML with JSON and CSV twins, Atom feeds) and the
//! JSON API over the record.
//!
//! Public pages and reads need no account; the editorial desk (`desk`), administration
//! (`feedback`) and API writes need an editor's or admin's session or token (`auth`). Notifications
//! leave through the outbox worker (`notify`). Each request takes a SQLite connection from a small
//! pool and runs its queries on the blocking thread pool.

pub mod auth;
pub mod derived;
mod describe;
pub mod desk;
pub mod feedback;
pub mod html;
pub mod json;
pub mod map;
pub mod notify;
pub mod obligations_pages;
pub mod pages;
mod server;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use derived::{DerivedError, EngineCache};
use minewatch_domain::fact::Vote;
use minewatch_domain::{Date, FactKind, Gazetteer, Payload};
use minewatch_store::{FactFilter, Store, StoreError};
use minewatch_treaty::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use server::{serve, Limits};

/// The OpenAPI document of the API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// How the server is run: its public address, mail relay and delivery policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address readers use (links in e-mails and webhooks): `https://...` also makes session
    /// cookies `Secure`.
    pub public_url: String,
    /// The SMTP relay (`smtp://host:port`, `smtp://host:port?tls=required`, `smtps://host`);
    /// `None`: messages wait in the outbox until one is configured.
    pub smtp: Option<String>,
    /// The sender of every message.
    pub mail_from: String,
    /// First retry delay; it doubles with every attempt (capped at `retry_max_ms`).
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Attempts before a message goes to the dead-letter list.
    pub max_attempts: i64,
    /// How often the outbox is checked when nothing wakes it.
    pub poll_ms: u64,
    /// Take the client address from the last `X-Forwarded-For` entry, the one the proxy appended
    /// (behind a reverse proxy only).
    pub trust_proxy: bool,
    /// Timeouts and caps on connections and requests.
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://localhost:8080".into(),
            smtp: None,
            mail_from: "minewatch <minewatch@localhost>".into(),
            retry_base_ms: 30_000,
            retry_max_ms: 6 * 3600 * 1000,
            max_attempts: 12,
            poll_ms: 5_000,
            trust_proxy: false,
            limits: Limits::default(),
        }
    }
}

/// Shared state: where the database is, a pool of open connections, the name index.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    /// Wakes the outbox worker after a publication, subscription or answer.
    pub outbox_wake: tokio::sync::Notify,
    /// Subscription requests per client address in the current hour: (hour, count).
    subscribe_requests: Mutex<std::collections::HashMap<String, (i64, u32)>>,
    db: PathBuf,
    /// Connections for reading (WAL: readers never wait for the writer, nor it for them).
    pool: Mutex<Vec<Store>>,
    /// The one connection the server writes through: the server's writes take turns here, in
    /// order, instead of racing for SQLite's lock.
    writer: Mutex<Option<Store>>,
    /// Blocking jobs (page renders, engine builds, writes) running at once: as many as there are
    /// cores, so a long write keeps at least its share of the CPU under any read load.
    workers: Arc<tokio::sync::Semaphore>,
    gazetteer: Gazetteer,
    engine: Mutex<EngineCache>,
    /// Engines of single subjects, for profiles and status answers.
    subject_engines: Mutex<derived::SubjectEngines>,
    pages: Mutex<PageCache>,
    timings: Mutex<Vec<u32>>,
}

/// Rendered pages of one record version. The record is append-only, so a page stays right until
/// a fact is added; then the whole cache is dropped.
#[derive(Debug, Default)]
struct PageCache {
    version: i64,
    pages: std::collections::HashMap<String, (axum::http::HeaderMap, axum::body::Bytes)>,
    /// What all cached pages hold: bodies, keys and headers.
    bytes: usize,
}

/// At most this many pages are cached...
const PAGE_CACHE_MAX: usize = 2048;
/// And at most this many bytes of pages: every query string is a key, so without a bound on
/// bytes anyone could fill memory with `/?z=1`, `/?z=2`, ... (the home page alone is 650 KB).
const PAGE_CACHE_MAX_BYTES: usize = 32 * 1024 * 1024;
/// The largest request body outside the upload routes.
pub const FORM_MAX_BYTES: usize = 256 * 1024;
const TIMING_SAMPLES_MAX: usize = 1_000_000;

impl App {
    /// Opens the database once to build the name index.
    pub fn new(db: PathBuf) -> Result<Arc<App>, StoreError> {
        App::with_settings(db, Settings::default())
    }

    /// Opens the database once to build the name index.
    pub fn with_settings(db: PathBuf, settings: Settings) -> Result<Arc<App>, StoreError> {
        let store = Store::open(&db)?;
        let gazetteer = store.gazetteer()?;
        Ok(Arc::new(App {
            settings,
            outbox_wake: tokio::sync::Notify::new(),
            subscribe_requests: Mutex::new(std::collections::HashMap::new()),
            db,
            pool: Mutex::new(vec![store]),
            writer: Mutex::new(None),
            workers: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
                    .max(2),
            )),
            gazetteer,
            engine: Mutex::new(EngineCache::default()),
            subject_engines: Mutex::new(derived::SubjectEngines::default()),
            pages: Mutex::new(PageCache::default()),
            timings: Mutex::new(Vec::new()),
        }))
    }

    /// A subscription or webhook scope: `*` (everything) or a subject's code (any case).
    pub fn scope(&self, s: &str) -> Option<String> {
        match s.trim() {
            "*" => Some("*".into()),
            code => self.gazetteer.by_code(code).map(|s| s.code.clone()),
        }
    }

    /// The engine over the current facts of `scope` ([`derived::Scope`]).
    fn scoped_engine(&self, store: &Store, scope: derived::Scope) -> Result<Arc<Engine>, ApiError> {
        let mut cache = self.engine.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine cache poisoned")
        })?;
        Ok(cache.scoped(store, scope)?)
    }

    /// Runs `f` with the engine of `scope`, on the blocking pool.
    async fn with_scoped_engine<T: Send + 'static>(
        self: Arc<Self>,
        scope: derived::Scope,
        f: impl FnOnce(&App, &Engine) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        blocking(self, move |app| {
            let engine = app.with_store(|store| app.scoped_engine(store, scope))?;
            f(app, &engine)
        })
        .await
    }

    /// An engine over one subject's facts and the few shared ones it needs
    /// ([`derived::build_subject_engine`]): its answers about that subject are the whole
    /// engine's, at the cost of the subject's facts.
    fn subject_engine(&self, store: &Store, code: &str) -> Result<Arc<Engine>, ApiError> {
        let mut cache = self.subject_engines.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine cache poisoned")
        })?;
        Ok(cache.get(store, code)?)
    }

    /// The engine over the shared facts and every UN vote ([`derived::SubjectEngines::common`]).
    fn common_engine(&self, store: &Store) -> Result<Arc<Engine>, ApiError> {
        let mut cache = self.subject_engines.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine cache poisoned")
        })?;
        Ok(cache.common(store)?)
    }

    /// Counts a subscription request from `client`; false once it has sent `per_hour` in the
    /// current hour. Kept in memory: a restart forgives, which costs little.
    fn subscribe_allowed(&self, client: &str, now: i64, per_hour: u32) -> bool {
        let Ok(mut m) = self.subscribe_requests.lock() else {
            return true;
        };
        let hour = now / 3600;
        if m.len() > 100_000 {
            m.retain(|_, (h, _)| *h == hour);
        }
        let e = m.entry(client.to_string()).or_insert((hour, 0));
        if e.0 != hour {
            *e = (hour, 0);
        }
        e.1 += 1;
        e.1 <= per_hour
    }

    /// Runs `f` on a reading connection from the pool.
    fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let taken = self.pool.lock().ok().and_then(|mut p| p.pop());
        let store = match taken {
            Some(s) => s,
            None => Store::open(&self.db).map_err(ApiError::from)?,
        };
        let r = f(&store);
        if let Ok(mut p) = self.pool.lock() {
            if p.len() < 16 {
                p.push(store);
            }
        }
        r
    }

    /// Runs `f` on the writing connection, after the server's earlier writes. A write that is
    /// already on it (a nested call) gets a connection of its own, which waits for SQLite's lock.
    fn with_store_mut<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        thread_local! {
            static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if WRITING.with(|w| w.get()) {
            let mut store = Store::open(&self.db)?;
            store.set_busy_timeout(WRITER_WAIT)?;
            return f(&mut store);
        }
        // Waiting for the writer, the job gives its worker turn back (readers go on); once it
        // writes, it takes a turn again, so that a long write runs beside at most one reader per
        // remaining core instead of sharing the CPU with every reader.
        let in_job = TURN.with(|t| t.borrow_mut().take()).is_some();
        // A write that panicked rolled its transaction back when it unwound (rusqlite rolls back
        // an unfinished transaction on drop): the connection is fine to use again.
        let mut guard = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            let store = Store::open(&self.db)?;
            store.set_busy_timeout(WRITER_WAIT)?;
            *guard = Some(store);
        }
        let Some(store) = guard.as_mut() else {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no writer",
            ));
        };
        /// Marks the thread as writing until the write ends, also by a panic.
        struct Writing;
        impl Drop for Writing {
            fn drop(&mut self) {
                WRITING.with(|w| w.set(false));
            }
        }
        WRITING.with(|w| w.set(true));
        let _writing = Writing;
        // Only a job started by `blocking` (a thread of the blocking pool) may wait for a turn
        // here; the outbox worker and tests write without one.
        let _turn = if in_job {
            tokio::runtime::Handle::try_current()
                .ok()
                .and_then(|h| h.block_on(Arc::clone(&self.workers).acquire_owned()).ok())
        } else {
            None
        };
        f(store)
    }
}

/// How long the server's writer waits for another process's write lock (a command-line import,
/// say) before the request is answered 503 with Retry-After.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// An error as the API reports it: a status and a JSON body `{"error": {"status", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    extra: Option<Value>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            extra: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_busy() {
            // Another process held the database's write lock too long: a reason to come back,
            // not a server fault.
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is busy with another write; retry in a few seconds",
            );
        }
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<DerivedError> for ApiError {
    fn from(e: DerivedError) -> Self {
        match e {
            DerivedError::Input(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            DerivedError::Internal(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m),
            DerivedError::NotFound { message, known } => {
                let mut e = ApiError::new(StatusCode::NOT_FOUND, message);
                e.extra = Some(json!({ "known": known }));
                e
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"status": self.status.as_u16(), "message": self.message}});
        if let (Some(Value::Object(extra)), Some(obj)) = (self.extra, body["error"].as_object_mut())
        {
            obj.extend(extra);
        }
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        }
        r
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

/// One state's recorded votes in a roll call: distinct votes, the facts, the name in the source.
type StateVotes = (Vec<Vote>, Vec<i64>, Option<String>);

thread_local! {
    /// The worker turn of the blocking job running on this thread. A job that must wait for the
    /// writer gives its turn up first, so waiting writes never keep readers from running.
    static TURN: std::cell::RefCell<Option<tokio::sync::OwnedSemaphorePermit>> =
        const { std::cell::RefCell::new(None) };
}

async fn blocking<T: Send + 'static>(
    app: Arc<App>,
    f: impl FnOnce(&App) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    // Waiting for a turn costs a queued future, not a thread; the in-flight cap bounds the queue.
    let turn = Arc::clone(&app.workers)
        .acquire_owned()
        .await
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
    tokio::task::spawn_blocking(move || {
        /// Gives the turn back when the job ends, also by a panic.
        struct Release;
        impl Drop for Release {
            fn drop(&mut self) {
                TURN.with(|t| t.borrow_mut().take());
            }
        }
        TURN.with(|t| *t.borrow_mut() = Some(turn));
        let _release = Release;
        f(&app)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("worker failed: {e}"),
        )
    })?
}

/// The router with every route: the pages, their twins and feeds, and the JSON API.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/index.json", get(pages::home_json))
        .route("/states", get(pages::states_index))
        .route("/states.json", get(pages::states_json))
        .route("/states.csv", get(pages::states_csv))
        .route("/states/{code}", get(pages::state_page))
        .route("/states/{code}/feed.atom", get(pages::feed_state))
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
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/states", get(states))
        .route("/api/v1/states/{code}", get(state))
        .route("/api/v1/states/{code}/facts", get(state_facts))
        .route("/api/v1/states/{code}/status", get(state_status))
        .route("/api/v1/parties", get(parties))
        .route("/api/v1/deadlines", get(deadlines))
        .route("/api/v1/classify", post(classify))
        .route("/api/v1/policies", get(policies))
        .route("/api/v1/policies/{a}/diff/{b}", get(policy_diff))
        .route("/api/v1/facts/{id}", get(fact))
        .route("/api/v1/sources", get(sources))
        .route("/api/v1/sources/{key}", get(source))
        .route("/api/v1/unga/{session}/{number}", get(unga))
        .route("/api/v1/timings", get(timings))
        .route(
            "/api/v1/proposals",
            get(desk::api_proposals).post(desk::api_propose),
        )
        .route("/api/v1/proposals/{id}", get(desk::api_proposal))
        .route("/api/v1/proposals/{id}/{decision}", post(desk::api_decide))
        // Accounts, the editorial desk, subscriptions, feedback, administration.
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/facts/{id}", get(desk::fact_page))
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
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            cache_and_time,
        ))
        .layer(axum::middleware::from_fn(api_errors_as_json))
        // Over-long addresses are refused before the cache or any handler sees them.
        .layer(axum::middleware::from_fn(limit_uri))
        .layer(axum::middleware::map_response(pages::security_headers))
        .layer(axum::middleware::from_fn(close_after_refused_body))
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
        pages::PageError::new(StatusCode::URI_TOO_LONG, message).respond(pages::Fmt::Html)
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

/// An error outside the API's handlers (refusals by the server's limits): the API's JSON error
/// body under `/api/`, one line of text elsewhere.
pub(crate) fn error_response(status: StatusCode, message: &str, api: bool) -> Response {
    if api {
        ApiError::new(status, message).into_response()
    } else {
        (status, message.to_string()).into_response()
    }
}

/// A caller's text quoted in an error message, cut to a readable length.
fn quoted(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}… ({} bytes)", &text[..i], text.len()),
        None => format!("{text:?}"),
    }
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
    let cacheable =
        req.method() == axum::http::Method::GET && !path.starts_with("/api/") && path != "/healthz";
    let key = cacheable.then(|| {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let json = accept.contains("application/json") && !accept.contains("text/html");
        format!("{}|{json}", req.uri())
    });
    let version = match &key {
        Some(_) => app.with_store(|s| Ok(s.last_fact_id()?)).ok(),
        None => None,
    };
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
            let res = next.run(req).await;
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
    let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
    if let Ok(mut t) = app.timings.lock() {
        if t.len() < TIMING_SAMPLES_MAX {
            t.push(micros);
        }
    }
    let mut res = res;
    if let Ok(v) =
        axum::http::HeaderValue::from_str(&format!("app;dur={:.3}", f64::from(micros) / 1000.0))
    {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

#[derive(Debug, Deserialize)]
struct TimingsQuery {
    reset: Option<String>,
}

/// Percentiles of the time spent in the server per request since start (or the last reset).
async fn timings(
    State(app): State<Arc<App>>,
    v: auth::Visitor,
    Query(q): Query<TimingsQuery>,
) -> ApiResult {
    let reset = match q.reset.as_deref() {
        None | Some("") | Some("false") => false,
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
    Ok(Json(json!({
        "requests": samples.len(),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "reset": reset,
    })))
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

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

fn find_subject<'a>(app: &'a App, code: &str) -> Result<&'a minewatch_domain::Subject, ApiError> {
    app.gazetteer.by_code(code).ok_or_else(|| {
        let closest = app.gazetteer.closest(&minewatch_domain::normalize_name(code), 3);
        let mut e = ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown state or area code {}; expected an ISO 3166 alpha-2 or alpha-3 code (any case)", quoted(code)),
        );
        e.extra = Some(json!({"closest": closest.iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>()}));
        e
    })
}

/// Parses `as_of` (`YYYY-MM-DD`), or says why not.
pub fn parse_as_of(v: Option<&str>) -> Result<Option<Date>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s).map(Some).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("as_of: {e}; expected a calendar date YYYY-MM-DD"),
            )
        }),
    }
}

#[derive(Debug, Deserialize)]
struct StatesQuery {
    kind: Option<String>,
}

async fn states(State(app): State<Arc<App>>, Query(q): Query<StatesQuery>) -> ApiResult {
    let list: Vec<Value> = app
        .gazetteer
        .subjects()
        .iter()
        .filter(|s| q.kind.as_deref().is_none_or(|k| s.kind.as_str() == k))
        .map(json::subject)
        .collect();
    Ok(Json(json!({"count": list.len(), "states": list})))
}

async fn state(State(app): State<Arc<App>>, Path(code): Path<String>) -> ApiResult {
    let s = find_subject(&app, &code)?.clone();
    let code = s.code.clone();
    let counts = blocking(app, move |app| {
        app.with_store(|store| {
            let facts = store.facts(&FactFilter {
                subject: Some(code.clone()),
                ..FactFilter::default()
            })?;
            let mut by_kind = serde_json::Map::new();
            for f in &facts {
                let e = by_kind.entry(f.fact.kind().as_str()).or_insert(json!(0));
                *e = json!(e.as_u64().unwrap_or(0) + 1);
            }
            Ok(json!({"facts": facts.len(), "by_kind": by_kind}))
        })
    })
    .await?;
    let mut v = json::subject(&s);
    v["counts"] = counts;
    v["links"] = json!({"facts": format!("/api/v1/states/{}/facts", s.code)});
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
struct FactsQuery {
    as_of: Option<String>,
    kind: Option<String>,
}

async fn state_facts(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
    Query(q): Query<FactsQuery>,
) -> ApiResult {
    let s = find_subject(&app, &code)?.clone();
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
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
    Ok(Json(json!({
        "state": {"code": s.code, "name": s.name},
        "as_of": as_of.map(|d| d.to_string()),
        "kind": kind.map(|k| k.as_str()),
        "count": facts.len(),
        "facts": facts,
    })))
}

async fn fact(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("fact id {id:?}: expected a whole number"),
        )
    })?;
    blocking(app, move |app| {
        app.with_store(|store| {
            let rec = store
                .fact(id)?
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no fact with id {id}")))?;
            let history = store.history(&rec.key)?;
            let mut v = json::facts_with_sources(store, std::slice::from_ref(&rec))?
                .pop()
                .unwrap_or(Value::Null);
            v["superseded_by"] = json!(rec.superseded_by);
            v["history"] = history
                .iter()
                .map(|h| json!({"id": h.fact.id, "recorded_at": h.fact.recorded_at, "recorded_by": h.fact.recorded_by, "supersedes": h.fact.supersedes, "kind": h.fact.kind().as_str()}))
                .collect();
            Ok(Json(v))
        })
    })
    .await
}

async fn sources(State(app): State<Arc<App>>) -> ApiResult {
    blocking(app, |app| {
        app.with_store(|store| {
            let list: Vec<Value> = store
                .sources()?
                .iter()
                .map(|s| json::source(&s.source))
                .collect();
            Ok(Json(json!({"count": list.len(), "sources": list})))
        })
    })
    .await
}

async fn source(State(app): State<Arc<App>>, Path(key): Path<String>) -> ApiResult {
    blocking(app, move |app| {
        app.with_store(|store| {
            let s = store.source(&key)?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no source with key {key:?}; list them at /api/v1/sources"),
                )
            })?;
            let facts = store.facts_citing(&key)?;
            let mut v = json::source(&s.source);
            v["recorded_at"] = json!(s.recorded_at);
            v["facts"] = json!(json::facts_with_sources(store, &facts)?);
            Ok(Json(v))
        })
    })
    .await
}

async fn unga(
    State(app): State<Arc<App>>,
    Path((session, number)): Path<(String, String)>,
) -> ApiResult {
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
                e.extra = Some(json!({"recorded_resolutions": known}));
                return Err(e);
            };
            let Payload::UngaRollCall(rc) = &call.fact.payload else {
                return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "roll call payload"));
            };
            let votes = store.facts(&FactFilter {
                kind: Some(FactKind::UngaVote),
                ..FactFilter::default()
            })?;
            // One vote per state: several facts (sources) may record the same vote.
            let mut by_state: std::collections::BTreeMap<String, StateVotes> = std::collections::BTreeMap::new();
            for v in &votes {
                let Payload::UngaVote(p) = &v.fact.payload else { continue };
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
            let (mut yes, mut no, mut abstain) = (0u32, 0u32, 0u32);
            let mut conflicts = Vec::new();
            for (code, (recorded, facts, name_in_source)) in &by_state {
                if recorded.len() > 1 {
                    conflicts.push(json!({"code": code, "votes": recorded.iter().map(|v| v.as_str()).collect::<Vec<_>>(), "facts": facts}));
                    continue;
                }
                let Some(vote) = recorded.first() else { continue };
                match vote {
                    Vote::Yes => yes += 1,
                    Vote::No => no += 1,
                    Vote::Abstain => abstain += 1,
                }
                let name = app.gazetteer.by_code(code).map(|s| s.name.clone());
                list.push(json!({
                    "code": code,
                    "name": name,
                    "name_in_source": name_in_source,
                    "vote": vote.as_str(),
                    "facts": facts,
                }));
            }
            let roll_call = json::facts_with_sources(store, std::slice::from_ref(call))?;
            Ok(Json(json!({
                "resolution": rc.resolution,
                "session": rc.session,
                "rcid": rc.rcid,
                "date": call.fact.valid_from.map(|d| d.to_string()),
                "topic": rc.topic,
                "tally": {"yes": rc.yes, "no": rc.no, "abstain": rc.abstain},
                "recorded_votes": {"yes": yes, "no": no, "abstain": abstain, "total": yes + no + abstain},
                "tally_matches_recorded_votes": (rc.yes, rc.no, rc.abstain) == (yes, no, abstain),
                "votes": list,
                "conflicting_votes": conflicts,
                "roll_call_fact": roll_call.into_iter().next(),
            })))
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
struct AsOfQuery {
    as_of: Option<String>,
}

/// `as_of` from the query, today when absent.
fn as_of_or_today(v: Option<&str>) -> Result<Date, ApiError> {
    match parse_as_of(v)? {
        Some(d) => Ok(d),
        None => Ok(derived::today()?),
    }
}

async fn state_status(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult {
    let s = find_subject(&app, &code)?.clone();
    let as_of = as_of_or_today(q.as_of.as_deref())?;
    blocking(app, move |app| {
        let engine = app.with_store(|store| app.subject_engine(store, &s.code))?;
        Ok(Json(derived::status(&engine, &s, as_of)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct PartiesQuery {
    as_of: Option<String>,
    basis: Option<String>,
}

async fn parties(State(app): State<Arc<App>>, Query(q): Query<PartiesQuery>) -> ApiResult {
    let as_of = as_of_or_today(q.as_of.as_deref())?;
    let basis = derived::parse_basis(q.basis.as_deref().unwrap_or("eif"))?;
    app.with_scoped_engine(derived::Scope::Treaty, move |_, engine| {
        Ok(Json(derived::parties(engine, as_of, basis)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct DeadlinesQuery {
    as_of: Option<String>,
    state: Option<String>,
    overdue: Option<String>,
}

/// A boolean query parameter: `true`/`false`/`1`/`0`/`yes`/`no`; absent or empty is false.
fn parse_flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{name}: {other:?} is not a yes/no value; expected true or false"),
        )),
    }
}

async fn deadlines(State(app): State<Arc<App>>, Query(q): Query<DeadlinesQuery>) -> ApiResult {
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
        )?))
    })
    .await
}

/// The body is a device description, or `{"device": {...}, "definitions": [...]}` to add
/// alternative definitions; `as_of` picks the date for the policies in force.
async fn classify(
    State(app): State<Arc<App>>,
    Query(q): Query<AsOfQuery>,
    body: String,
) -> ApiResult {
    let on = as_of_or_today(q.as_of.as_deref())?;
    let value: Value = serde_json::from_str(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("request body: {e}; expected a JSON object describing a device"),
        )
    })?;
    let (device_text, extra) = match value.get("device") {
        Some(d) => {
            let mut extra = Vec::new();
            match value.get("definitions") {
                None | Some(Value::Null) => {}
                Some(Value::Array(defs)) => {
                    for (i, d) in defs.iter().enumerate() {
                        extra.push(derived::parse_definition(
                            &format!("request body definitions[{i}]"),
                            &d.to_string(),
                        )?);
                    }
                }
                Some(_) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "request body: definitions: expected an array of definition objects",
                    ))
                }
            }
            (d.to_string(), extra)
        }
        None => (body, Vec::new()),
    };
    let device = derived::parse_device("request body", &device_text)?;
    app.with_scoped_engine(derived::Scope::Whole, move |_, engine| {
        Ok(Json(derived::classification(engine, &device, on, extra)?))
    })
    .await
}

async fn policies(State(app): State<Arc<App>>) -> ApiResult {
    app.with_scoped_engine(derived::Scope::Whole, |_, engine| {
        Ok(Json(derived::policies(engine)?))
    })
    .await
}

async fn policy_diff(
    State(app): State<Arc<App>>,
    Path((a, b)): Path<(String, String)>,
) -> ApiResult {
    app.with_scoped_engine(derived::Scope::Whole, move |_, engine| {
        Ok(Json(derived::policy_diff(engine, &a, &b)?))
    })
    .await
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
        "/policies",
        "/policies.json",
        "/classify",
        "/search",
        "/feed.atom",
        "/assets/style.css",
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
                    .gazetteer
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
    let mut stats = SiteStats::default();
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
