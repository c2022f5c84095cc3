//! Shared test fixtures: temporary directories, databases, a server on a random port, and a
//! guard for every process a test starts. Nothing here outlives its test: folders are removed and
//! processes killed on drop, which also runs when the test panics.

use minewatch_import::{import_file, shipped, Kind, Options};
use minewatch_store::Store;
use std::io::{BufRead, BufReader};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// A fresh, empty directory `minewatch-test-*` under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new() -> TempDir {
        TempDir(
            tempfile::Builder::new()
                .prefix("minewatch-test-")
                .tempdir()
                .expect("cannot create a temporary directory"),
        )
    }

    pub fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// A child process that is killed and waited for when dropped, so a test that fails or panics
/// leaves nothing running. Every process the tests start is held by one.
#[derive(Debug)]
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub fn spawn(cmd: &mut Command) -> std::io::Result<ChildGuard> {
        cmd.spawn().map(|c| ChildGuard(Some(c)))
    }

    /// SIGKILL, then reap it.
    pub fn kill(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Closes standard input, reads standard output and error to their end and waits for the exit
    /// (as `Child::wait_with_output`).
    pub fn wait_with_output(mut self) -> std::io::Result<Output> {
        self.0.take().expect("a child process").wait_with_output()
    }
}

impl Deref for ChildGuard {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("a child process")
    }
}

impl DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("a child process")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Does the suite run on PostgreSQL? `MINEWATCH_TEST_BACKEND=postgres` (with `MINEWATCH_TEST_PG`,
/// the test cluster that `scripts/test.sh` starts) runs every test that makes its database
/// through these helpers on PostgreSQL instead of an SQLite file: see [`db_arg`].
pub fn on_postgres() -> bool {
    std::env::var("MINEWATCH_TEST_BACKEND").is_ok_and(|v| v == "postgres")
}

/// The `--db` value for a test's database file. On SQLite, the file. On PostgreSQL, a database
/// of the test cluster named after the file's path (made on first use, empty), so that a test
/// written with a file in a temporary folder runs unchanged on both backends. A value that is
/// already a `postgres://` URL is kept.
pub fn db_arg(path: &Path) -> std::ffi::OsString {
    let text = path.to_string_lossy();
    if !on_postgres() || text.starts_with("postgres") {
        return path.as_os_str().to_owned();
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let name = format!("mwt_{:016x}", h.finish());
    let admin = std::env::var("MINEWATCH_TEST_PG").expect(
        "MINEWATCH_TEST_BACKEND=postgres needs MINEWATCH_TEST_PG (scripts/test.sh sets it)",
    );
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("the test cluster");
    if let Err(e) = c.batch_execute(&format!("CREATE DATABASE {name}")) {
        let exists = e.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE);
        assert!(exists, "CREATE DATABASE {name}: {e}");
    }
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}").into()
}

/// Opens a test's database (see [`db_arg`]) as the store.
pub fn open_store(path: &Path) -> Store {
    Store::open_at(&minewatch_store::Location::parse(&db_arg(path))).unwrap()
}

/// A real database (an SQLite file, or PostgreSQL: [`db_arg`]) with the reference subjects
/// (and, if asked, the shipped data).
pub fn store(dir: &TempDir, with_data: bool) -> Store {
    let mut s = open_store(&dir.path("record.sqlite"));
    shipped::load_subjects(&mut s).unwrap();
    if with_data {
        shipped::load(&mut s).unwrap();
    }
    s
}

/// Counts of every table that an import may write.
pub fn counts(s: &Store) -> (i64, i64, i64) {
    let q = |sql: &str| -> i64 { s.query_strings(sql).unwrap()[0].parse().unwrap() };
    (
        q("SELECT COUNT(*) FROM facts"),
        q("SELECT COUNT(*) FROM sources"),
        q("SELECT COUNT(*) FROM citations"),
    )
}

pub fn opts() -> Options {
    Options {
        progress: false,
        ..Options::default()
    }
}

pub fn import(
    s: &mut Store,
    kind: &str,
    path: &Path,
) -> Result<minewatch_import::Report, minewatch_import::ImportError> {
    import_file(s, Kind::by_name(kind).unwrap(), path, &opts())
}

/// A research extract in this repository: `data/research/{rel}` (the shared research files,
/// copied unchanged), so the tests read nothing outside the repository.
pub fn research(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/research")
        .join(rel)
}

/// `minewatch serve` on a random port, killed on drop (its folder, if it has one, removed after).
pub struct Server {
    // Fields drop in order: the process is killed before its folder is removed.
    child: ChildGuard,
    pub base: String,
    _dir: Option<TempDir>,
    db: PathBuf,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start() -> Server {
        let dir = TempDir::new();
        let db = dir.path("serve.sqlite");
        let mut s = Server::start_on(&db, &[], &[]);
        s._dir = Some(dir);
        s
    }

    /// `minewatch serve` on an existing database file, with more arguments and environment.
    pub fn start_on(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_minewatch"));
        cmd.args(["--db"])
            .arg(db_arg(db))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("MINEWATCH_FAILPOINT")
            .env_remove("MINEWATCH_SMTP")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = ChildGuard::spawn(&mut cmd).unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .unwrap();
            if let Some(pos) = line.find("http://") {
                break line[pos..].trim().to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe; keep the lines.
        let log = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&log);
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                keep.lock().unwrap().push(l);
            }
        });
        Server {
            child,
            base,
            _dir: None,
            db: db.to_path_buf(),
            stderr: log,
        }
    }

    /// Waits until the server wrote a line containing `needle` to standard error.
    pub fn wait_for_log(&self, needle: &str, secs: u64) -> bool {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if self
                .stderr
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains(needle))
            {
                return true;
            }
            if std::time::Instant::now() >= end {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, no flushing, as in a crash.
    pub fn kill9(mut self) {
        self.child.kill();
    }

    /// The server's database file.
    pub fn db(&self) -> PathBuf {
        self.db.clone()
    }

    /// GET a path as text: (status, content type, body).
    pub fn get_text(&self, path: &str) -> (u16, String, String) {
        self.get_text_with(path, "text/html")
    }

    /// GET a path with an Accept header: (status, content type, body).
    pub fn get_text_with(&self, path: &str, accept: &str) -> (u16, String, String) {
        let url = format!("{}{path}", self.base);
        let r = match ureq::get(&url).set("Accept", accept).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("GET {url}: {e}"),
        };
        let status = r.status();
        let ct = r.content_type().to_string();
        let csp = r
            .header("content-security-policy")
            .unwrap_or("")
            .to_string();
        assert!(
            csp.contains("default-src 'none'"),
            "{path}: CSP header missing: {csp:?}"
        );
        (status, ct, r.into_string().unwrap())
    }

    /// POST a body: (status, JSON body).
    pub fn post(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        match ureq::post(&url)
            .set("Content-Type", "application/json")
            .send_string(body)
        {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
            Err(e) => panic!("POST {url}: {e}"),
        }
    }

    /// GET a path: (status, JSON body).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        match ureq::get(&url).call() {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
            Err(e) => panic!("GET {url}: {e}"),
        }
    }
}

/// Runs the `minewatch` binary: (exit success, stdout, stderr).
pub fn minewatch(db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .arg("--db")
        .arg(db_arg(db))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the `minewatch` binary with `input` on standard input: (exit success, stdout, stderr).
pub fn minewatch_stdin(db: &Path, args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = ChildGuard::spawn(
        Command::new(env!("CARGO_BIN_EXE_minewatch"))
            .arg("--db")
            .arg(db_arg(db))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Adds an account with `minewatch user add`.
pub fn add_user(db: &Path, name: &str, role: &str, password: &str) {
    let (ok, out, err) = minewatch_stdin(
        db,
        &["user", "add", name, "--role", role],
        &format!("{password}\n"),
    );
    assert!(ok, "user add {name}: {out}{err}");
}

/// `n` failed logins of `user` sent at once (a barrier releases them together), spread over
/// the servers at `bases` in turn: each attempt's status (401 checked, 429 delayed).
pub fn login_burst(bases: &[&str], user: &str, n: usize) -> Vec<u16> {
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let base = bases[i % bases.len()].to_string();
            let user = user.to_string();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut c = Client::new(&base);
                let csrf = c.get("/login").csrf();
                barrier.wait();
                c.post_form(
                    "/login",
                    &[
                        ("csrf", &csrf),
                        ("username", &user),
                        ("password", &format!("wrong-password-number-{i}")),
                        ("next", "/desk"),
                    ],
                )
                .status
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// An API token for `user` (`minewatch user token`).
pub fn api_token(db: &Path, user: &str) -> String {
    let (ok, out, err) = minewatch(db, &["user", "token", user]);
    assert!(ok, "user token {user}: {err}");
    out.trim().to_string()
}

/// A POST of a JSON body with a bearer token: (status, JSON answer).
pub fn post_json(base: &str, path: &str, token: &str, body: &str) -> (u16, serde_json::Value) {
    let r = ureq::post(&format!("{base}{path}"))
        .set("Content-Type", "application/json")
        .set("Authorization", &format!("Bearer {token}"))
        .send_string(body);
    match r {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json().unwrap()),
        Err(e) => panic!("POST {path}: {e}"),
    }
}

/// A response: status, headers (lower-case names), body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A browser-like HTTP client: keeps cookies, does not follow redirects.
#[derive(Debug, Clone)]
pub struct Client {
    pub base: String,
    pub cookies: Vec<(String, String)>,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_string(),
            cookies: Vec::new(),
            agent: ureq::AgentBuilder::new().redirects(0).build(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn finish(&mut self, r: Result<ureq::Response, ureq::Error>, what: &str) -> Resp {
        let r = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{what}: {e}"),
        };
        let headers: Vec<(String, String)> = r
            .headers_names()
            .iter()
            .flat_map(|n| {
                r.all(n)
                    .into_iter()
                    .map(|v| (n.to_lowercase(), v.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    self.cookies.retain(|(k, _)| k != name);
                    if !value.is_empty() && !v.contains("Max-Age=0") {
                        self.cookies.push((name.to_string(), value.to_string()));
                    }
                }
            }
        }
        let status = r.status();
        let body = r.into_string().unwrap_or_default();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn get(&mut self, path: &str) -> Resp {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .get(&url)
            .set("Cookie", &self.cookie_header())
            .call();
        self.finish(r, &format!("GET {url}"))
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_raw(
            path,
            "application/x-www-form-urlencoded",
            form_encode(fields).as_bytes(),
        )
    }

    pub fn post_raw(&mut self, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .post(&url)
            .set("Cookie", &self.cookie_header())
            .set("Content-Type", content_type)
            .send_bytes(body);
        self.finish(r, &format!("POST {url}"))
    }

    /// A multipart/form-data post: text fields, then files (field, filename, bytes).
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Resp {
        let boundary = "minewatch-test-boundary-7d1c";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, name, data) in files {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.post_raw(
            path,
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
        )
    }

    /// Signs in through the login form; panics unless it worked.
    pub fn login(&mut self, user: &str, password: &str) {
        let page = self.get("/login");
        let csrf = page.csrf();
        let r = self.post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", password),
                ("next", "/desk"),
            ],
        );
        assert_eq!(r.status, 303, "login {user}: {}", r.body);
        assert!(self.cookie("mw_session").is_some());
    }
}

/// `minewatch serve` with an SMTP relay, a quick outbox (polled every 100 ms, retried after
/// 200 ms) and `http://minewatch.test` as its public address.
pub fn serve_with_smtp(db: &Path, smtp: &str, env: &[(&str, &str)]) -> Server {
    Server::start_on(
        db,
        &[
            "--smtp",
            smtp,
            "--outbox-poll-ms",
            "100",
            "--retry-base-ms",
            "200",
            "--public-url",
            "http://minewatch.test",
        ],
        env,
    )
}

// ---- pages -------------------------------------------------------------------------------------

/// The page's text without tags, footnote markers or repeated spaces.
pub fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut rest = html;
    // Drop footnote markers: <sup class="fn">...</sup>.
    let mut cleaned = String::new();
    while let Some(i) = rest.find("<sup class=\"fn\">") {
        cleaned.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find("</sup>").map(|e| e + 6).unwrap_or(after.len());
        rest = &after[end..];
    }
    cleaned.push_str(rest);
    // A date's <time> element is part of its sentence: no space around it.
    let mut unwrapped = String::with_capacity(cleaned.len());
    let mut rest = cleaned.as_str();
    while let Some(i) = rest.find("<time") {
        unwrapped.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(open_end) = after.find('>') else {
            rest = after;
            break;
        };
        let inner = &after[open_end + 1..];
        match inner.find("</time>") {
            Some(close) => {
                unwrapped.push_str(&inner[..close]);
                rest = &inner[close + 7..];
            }
            None => {
                rest = inner;
            }
        }
    }
    unwrapped.push_str(rest);
    let cleaned = unwrapped;
    for c in cleaned.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn page(server: &Server, path: &str) -> String {
    let (status, ct, body) = server.get_text(path);
    assert_eq!(status, 200, "{path}: {body}");
    assert!(ct.starts_with("text/html"), "{path}: {ct}");
    body
}

pub fn twin(server: &Server, path: &str) -> serde_json::Value {
    let (status, ct, body) = server.get_text(path);
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(ct, "application/json", "{path}");
    serde_json::from_str(&body).unwrap()
}

/// How far a page scrolls sideways in the browser's current window (0 when it fits).
pub fn sideways_overflow(b: &crate::webdriver::Browser, url: &str) -> i64 {
    b.goto(url);
    b.execute(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        &[],
    )
    .as_i64()
    .unwrap_or(99)
}

/// `PRAGMA integrity_check` of a database file: "ok" when SQLite finds nothing wrong. On
/// PostgreSQL (which checks its pages itself): "ok" when no citation, event or outbox row points
/// at a missing row and every fact's batch is there, which is what a write cut off midway would
/// break.
pub fn integrity(db: &Path) -> String {
    if on_postgres() {
        let s = open_store(db);
        let orphans = s
            .query_strings(
                "SELECT (SELECT COUNT(*) FROM citations c WHERE NOT EXISTS
                            (SELECT 1 FROM facts f WHERE f.id = c.fact_id))
                      + (SELECT COUNT(*) FROM facts f WHERE NOT EXISTS
                            (SELECT 1 FROM batches b WHERE b.id = f.batch))
                      + (SELECT COUNT(*) FROM event_facts e WHERE NOT EXISTS
                            (SELECT 1 FROM facts f WHERE f.id = e.fact))
                      + (SELECT COUNT(*) FROM outbox o WHERE o.event IS NOT NULL AND NOT EXISTS
                            (SELECT 1 FROM events e WHERE e.id = o.event))",
            )
            .unwrap();
        return match orphans[0].as_str() {
            "0" => "ok".into(),
            n => format!("{n} rows point at missing rows"),
        };
    }
    let s = Store::open(db).unwrap();
    s.connection()
        .expect("an SQLite store")
        .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .unwrap()
}

/// The folder of the Python tools holding `tool` (`datasette`, `frictionless`), or `None` when
/// `MINEWATCH_SKIP_PYTOOLS=1`.
pub fn pytools(tool: &str) -> Option<PathBuf> {
    if std::env::var("MINEWATCH_SKIP_PYTOOLS").is_ok_and(|v| v == "1") {
        eprintln!(
            "skipped: {tool} test not run because MINEWATCH_SKIP_PYTOOLS=1 \
             (unset it to run the Python tool tests)"
        );
        return None;
    }
    let bin = match std::env::var_os("MINEWATCH_PYTOOLS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pytools/bin"),
    };
    assert!(
        bin.join(tool).is_file(),
        "{} is missing: the tests of the Python tools need it; run `bash scripts/test.sh` (it installs \
         the Python tools into target/pytools), or set MINEWATCH_PYTOOLS to a bin folder \
         holding {tool}, or set MINEWATCH_SKIP_PYTOOLS=1 to skip these tests",
        bin.join(tool).display()
    );
    Some(bin)
}
