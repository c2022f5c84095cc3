//! Shared test fixtures: temporary directories, databases, a server on a random port.

use minewatch_import::{import_file, shipped, Kind, Options};
use minewatch_store::Store;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory under the system temp dir (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("minewatch-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A real SQLite file with the reference subjects (and, if asked, the shipped data).
pub fn store(dir: &TempDir, with_data: bool) -> Store {
    let mut s = Store::open(&dir.path("record.sqlite")).unwrap();
    shipped::load_subjects(&mut s).unwrap();
    if with_data {
        shipped::load(&mut s).unwrap();
    }
    s
}

/// Counts of every table that an import may write.
pub fn counts(s: &Store) -> (i64, i64, i64) {
    let c = s.connection();
    let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
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

/// The repository's root (for ../shared).
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// `minewatch serve` on a random port, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    dir: TempDir,
}

impl Server {
    pub fn start() -> Server {
        let dir = TempDir::new();
        let mut child = Command::new(env!("CARGO_BIN_EXE_minewatch"))
            .args(["--db"])
            .arg(dir.path("serve.sqlite"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
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
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base, dir }
    }

    /// The server's database file.
    pub fn db(&self) -> PathBuf {
        self.dir.path("serve.sqlite")
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the `minewatch` binary: (exit success, stdout, stderr).
pub fn minewatch(db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
