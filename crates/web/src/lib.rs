//! The common ground of minewatch's web rooms (`site`, `desk`, `notify`, `server`): the running
//! application's shared state ([`App`]: settings, the reading connections and the one writer,
//! worker turns, engine and page caches), the error every handler answers with ([`ApiError`]),
//! how a page is answered in HTML, JSON or CSV ([`page`]) and the HTML building blocks and layout
//! ([`html`]). It knows no route: each room brings its handlers, and `server` puts them together.
//!
//! Each request takes a SQLite connection from a small pool and runs its queries on the blocking
//! thread pool, one job per core ([`blocking`]).

pub mod html;
pub mod page;

pub use minewatch_answers::{derived, describe, json};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use derived::{DerivedError, EngineCache};
use minewatch_domain::Gazetteer;
use minewatch_store::{Location, Store, StoreError};
use minewatch_treaty::Engine;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How much of the server one client can hold, and for how long.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From the moment the server waits for a request (a new connection, or a keep-alive
    /// connection after its last answer) until the request line and headers are complete.
    pub header_timeout: std::time::Duration,
    /// The longest wait for the next piece of a request body.
    pub body_timeout: std::time::Duration,
    /// Open connections at once; the next one is refused with 503.
    pub max_connections: usize,
    /// Requests being answered at once; the next one is refused with 503.
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(30),
            // Below the usual 1,024 file descriptors, leaving room for the database and mail.
            max_connections: 768,
            max_in_flight: 256,
        }
    }
}

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
    db: Location,
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
    /// Rendered pages of the current record version (the server's cache middleware).
    pub pages: Mutex<PageCache>,
    /// Time spent per request, in microseconds, for `/api/v1/timings`.
    pub timings: Mutex<Vec<u32>>,
}

/// Rendered pages of one record version. The record is append-only, so a page stays right until
/// a fact is added; then the whole cache is dropped.
#[derive(Debug, Default)]
pub struct PageCache {
    pub version: i64,
    pub pages: std::collections::HashMap<String, (axum::http::HeaderMap, axum::body::Bytes)>,
    /// What all cached pages hold: bodies, keys and headers.
    pub bytes: usize,
}

/// At most this many pages are cached...
pub const PAGE_CACHE_MAX: usize = 2048;
/// And at most this many bytes of pages: every query string is a key, so without a bound on
/// bytes anyone could fill memory with `/?z=1`, `/?z=2`, ... (the home page alone is 650 KB).
pub const PAGE_CACHE_MAX_BYTES: usize = 32 * 1024 * 1024;
/// The largest request body outside the upload routes.
pub const FORM_MAX_BYTES: usize = 256 * 1024;
pub const TIMING_SAMPLES_MAX: usize = 1_000_000;

impl App {
    /// Opens the database once to build the name index.
    pub fn new(db: Location) -> Result<Arc<App>, StoreError> {
        App::with_settings(db, Settings::default())
    }

    /// Opens the database once to build the name index.
    pub fn with_settings(db: Location, settings: Settings) -> Result<Arc<App>, StoreError> {
        let store = Store::open_at(&db)?;
        let gazetteer = store.gazetteer()?;
        Ok(Arc::new(App {
            settings,
            outbox_wake: tokio::sync::Notify::new(),
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

    /// Where the record is.
    pub fn db(&self) -> &Location {
        &self.db
    }

    /// The folder for files built from the record (the downloads): beside an SQLite file
    /// (`FILE.downloads`); for PostgreSQL, `$MINEWATCH_DOWNLOADS` or, without it, a folder in the
    /// system's temporary directory named after the database (each server builds its own copy).
    pub fn files_dir(&self) -> PathBuf {
        match &self.db {
            Location::Sqlite(path) => {
                let mut s = path.as_os_str().to_owned();
                s.push(".downloads");
                PathBuf::from(s)
            }
            Location::Postgres(url) => match std::env::var_os("MINEWATCH_DOWNLOADS") {
                Some(dir) => PathBuf::from(dir),
                None => {
                    use std::hash::{Hash, Hasher};
                    // SipHash with fixed keys: the same URL names the same folder every run.
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    url.hash(&mut h);
                    std::env::temp_dir().join(format!("minewatch-{:016x}.downloads", h.finish()))
                }
            },
        }
    }

    /// The names and codes of every subject, for lookups and suggestions.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    /// A subscription or webhook scope: `*` (everything) or a subject's code (any case).
    pub fn scope(&self, s: &str) -> Option<String> {
        match s.trim() {
            "*" => Some("*".into()),
            code => self.gazetteer.by_code(code).map(|s| s.code.clone()),
        }
    }

    /// The engine over the current facts of `scope` ([`derived::Scope`]).
    pub fn scoped_engine(
        &self,
        store: &Store,
        scope: derived::Scope,
    ) -> Result<Arc<Engine>, ApiError> {
        let mut cache = self.engine.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine cache poisoned")
        })?;
        Ok(cache.scoped(store, scope)?)
    }

    /// Runs `f` with the engine of `scope`, on the blocking pool.
    pub async fn with_scoped_engine<T: Send + 'static>(
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
    pub fn subject_engine(&self, store: &Store, code: &str) -> Result<Arc<Engine>, ApiError> {
        let mut cache = self.subject_engines.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine cache poisoned")
        })?;
        Ok(cache.get(store, code)?)
    }

    /// The engine over the shared facts and every UN vote ([`derived::SubjectEngines::common`]).
    pub fn common_engine(&self, store: &Store) -> Result<Arc<Engine>, ApiError> {
        let mut cache = self.subject_engines.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "engine cache poisoned")
        })?;
        Ok(cache.common(store)?)
    }

    /// Runs `f` on a reading connection from the pool.
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let taken = self.pool.lock().ok().and_then(|mut p| p.pop());
        let store = match taken {
            Some(s) => s,
            None => Store::open_at(&self.db).map_err(ApiError::from)?,
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
    pub fn with_store_mut<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        thread_local! {
            static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if WRITING.with(|w| w.get()) {
            let mut store = Store::open_at(&self.db)?;
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
            let store = Store::open_at(&self.db)?;
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
    pub status: StatusCode,
    pub message: String,
    /// More members of the error object (`known`, `closest`, ...).
    pub extra: Option<ErrorExtra>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
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
                e.extra = Some(ErrorExtra::Known { known });
                e
            }
        }
    }
}

/// Every error answer of the API (and of a page's JSON twin): `{"error": {"status", "message",
/// ...}}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, with the HTTP status repeated and, for some errors, what would have been
/// found. (Its schema is written out below: the members of `extra` sit beside `status` and
/// `message`.)
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDetail {
    pub status: u16,
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<ErrorExtra>,
}

/// The schema of [`ErrorDetail`]: `status` and `message`, and at most one of the lists of
/// [`ErrorExtra`].
const ERROR_DETAIL_SCHEMA: &str = r##"{
  "type": "object",
  "description": "What went wrong: the HTTP status repeated, a message saying what, where and what was expected, and for some errors what would have been found.",
  "required": ["status", "message"],
  "properties": {
    "status": {"type": "integer", "minimum": 100, "maximum": 599},
    "message": {"type": "string"},
    "closest": {"type": "array", "description": "The subjects closest to an unknown code.", "items": {"$ref": "#/components/schemas/SubjectRef"}},
    "known": {"type": "array", "description": "What the record knows (an unknown policy id).", "items": {"type": "string"}},
    "recorded_resolutions": {"type": "array", "description": "The roll calls recorded (an unknown resolution).", "items": {"type": "string"}},
    "problems": {"type": "array", "description": "Every problem found in a file or form (file:line:column: field: ...).", "items": {"type": "string"}}
  }
}"##;

impl utoipa::PartialSchema for ErrorDetail {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        // A constant that a unit test parses; an open object if it ever did not.
        serde_json::from_str(ERROR_DETAIL_SCHEMA).unwrap_or_else(|_| {
            utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
                utoipa::openapi::schema::Object::new(),
            ))
        })
    }
}

impl utoipa::ToSchema for ErrorDetail {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((
            "SubjectRef".into(),
            minewatch_answers::json::SubjectRef::schema(),
        ));
    }
}

/// More members of an error object.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ErrorExtra {
    /// The subjects closest to an unknown code.
    Closest {
        closest: Vec<minewatch_answers::json::SubjectRef>,
    },
    /// What the record knows (an unknown policy id).
    Known { known: Vec<String> },
    /// The roll calls recorded (an unknown resolution).
    RecordedResolutions { recorded_resolutions: Vec<String> },
    /// Every problem found in a file or form (`file:line:column: field: ...`).
    Problems { problems: Vec<String> },
}

impl ErrorExtra {
    /// The problems listed, if this error lists any.
    pub fn problems(&self) -> Option<&[String]> {
        match self {
            ErrorExtra::Problems { problems } => Some(problems),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                message: self.message,
                extra: self.extra,
            },
        };
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        }
        r
    }
}

/// A handler's answer: its typed JSON body, or the error body.
pub type ApiResult<T = Value> = Result<Json<T>, ApiError>;

thread_local! {
    /// The worker turn of the blocking job running on this thread. A job that must wait for the
    /// writer gives its turn up first, so waiting writes never keep readers from running.
    static TURN: std::cell::RefCell<Option<tokio::sync::OwnedSemaphorePermit>> =
        const { std::cell::RefCell::new(None) };
}

pub async fn blocking<T: Send + 'static>(
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

/// An error outside the API's handlers (refusals by the server's limits): the API's JSON error
/// body under `/api/`, one line of text elsewhere.
pub fn error_response(status: StatusCode, message: &str, api: bool) -> Response {
    if api {
        ApiError::new(status, message).into_response()
    } else {
        (status, message.to_string()).into_response()
    }
}

/// A caller's text quoted in an error message, cut to a readable length.
pub fn quoted(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}… ({} bytes)", &text[..i], text.len()),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod schema_tests {
    /// The error object's hand-written schema parses as an OpenAPI schema and names the members
    /// `ErrorExtra` adds beside `status` and `message`.
    #[test]
    fn the_error_schema_parses_and_lists_every_extra() {
        let parsed: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> =
            serde_json::from_str(super::ERROR_DETAIL_SCHEMA).expect("the schema parses");
        let json = serde_json::to_value(&parsed).expect("serialises");
        for member in [
            "status",
            "message",
            "closest",
            "known",
            "recorded_resolutions",
            "problems",
        ] {
            assert!(json["properties"][member].is_object(), "{member}");
        }
    }
}
