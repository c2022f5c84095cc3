//! Open data: `minewatch export --format sqlite`, the public SQLite snapshot for Datasette.
//! Private data seeded into the database (accounts, sessions, API tokens, webhooks, subscribers,
//! the outbox, feedback with an attachment, a pending proposal) must reach no table, view or
//! byte of the snapshot; the snapshot must hold the record as the store reads it; and the real
//! Datasette must serve it, search included.
//!
//! The Datasette test needs `datasette` in `$MINEWATCH_PYTOOLS` (a bin folder) or in
//! `target/pytools/bin` (`bash scripts/test.sh` installs it there); without it the test fails
//! saying so, unless `MINEWATCH_SKIP_PYTOOLS=1`, which skips it.

use crate::support::*;
use minewatch_domain::fact::Retraction;
use minewatch_domain::{Citation, Payload};
use minewatch_store::{
    FactFilter, Mail, NewAttachment, NewFact, NewFeedback, NewProposal, ProposalAction,
};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PW_ALICE: &str = "alice-privacy-password-8372";
const PW_ROOT: &str = "root-privacy-password-1944";

/// The tables of the snapshot (FTS5 keeps its index in shadow tables `NAME_data`, `NAME_idx`,
/// `NAME_docsize`, `NAME_config` of each full-text table).
const TABLES: [&str; 9] = [
    "subjects",
    "sources",
    "facts",
    "citations",
    "meetings",
    "status_today",
    "deadlines",
    "facts_fts",
    "sources_fts",
];
const VIEWS: [&str; 3] = ["current_facts", "facts_with_sources", "retractions"];
const FTS_SHADOWS: [&str; 4] = ["data", "idx", "docsize", "config"];

/// `minewatch export --format sqlite --out OUT [ARGS]`: (success, stderr).
fn export(db: &Path, out: &Path, args: &[&str]) -> (bool, String) {
    export_as("sqlite", db, out, args)
}

/// `minewatch export --format FORMAT --out OUT [ARGS]`: (success, stderr).
fn export_as(format: &str, db: &Path, out: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["export", "--format", format, "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let (ok, _, err) = minewatch(db, &all);
    (ok, err)
}

/// Opens the snapshot read-only (opening it with the store would add the private tables).
fn open_snapshot(p: &Path) -> Connection {
    Connection::open_with_flags(p, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// (type, name) of every entry of the snapshot's schema.
fn schema(c: &Connection) -> Vec<(String, String)> {
    let mut st = c
        .prepare("SELECT type, name FROM sqlite_master ORDER BY type, name")
        .unwrap();
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

/// Every value of every row of a table or view, as bytes (text as UTF-8, numbers as text).
fn all_values(c: &Connection, table: &str) -> Vec<Vec<u8>> {
    use rusqlite::types::ValueRef;
    let mut st = c.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
    let n = st.column_count();
    let mut rows = st.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        for i in 0..n {
            out.push(match r.get_ref(i).unwrap() {
                ValueRef::Null => Vec::new(),
                ValueRef::Integer(v) => v.to_string().into_bytes(),
                ValueRef::Real(v) => v.to_string().into_bytes(),
                ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
            });
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A database with the shipped record and private data of every kind the desk and the
/// notifications keep. Returns every secret, address, name and content that must stay private:
/// what was seeded, and what the database made of it (hashes, tokens), read back from the
/// private tables.
fn seed_private(db: &Path) -> Vec<String> {
    let (ok, _, err) = minewatch(db, &["load"]);
    assert!(ok, "load: {err}");
    add_user(db, "alice", "editor", PW_ALICE);
    add_user(db, "root", "admin", PW_ROOT);
    let (ok, token, err) = minewatch(
        db,
        &[
            "user",
            "token",
            "alice",
            "--label",
            "privacy-token-label-marker",
        ],
    );
    assert!(ok, "user token: {err}");
    let hook_url = "https://hooks.example.net/privacy-webhook-marker";
    let (ok, hook, err) = minewatch(db, &["webhook", "add", hook_url, "--scope", "USA"]);
    assert!(ok, "webhook add: {err}");
    let secret = hook
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown once): "))
        .unwrap_or_else(|| panic!("no secret in {hook}"))
        .to_string();

    let mut markers: Vec<String> = [
        PW_ALICE,
        PW_ROOT,
        token.trim(),
        "privacy-token-label-marker",
        hook_url,
        "privacy-webhook-marker",
        &secret,
        "privacy-subscriber@example.org",
        "privacy-feedback@example.org",
        "Privacy Namemarker",
        "PRIVACY-MESSAGE-MARKER",
        "privacy-attachment-marker",
        "PRIVACY-ATTACHMENT-CONTENT",
        "198.51.100.77",
        "PRIVACY-PROPOSAL-BODY",
        "PRIVACY-PROPOSAL-SUMMARY",
        "PRIVACY-MAIL-SUBJECT",
    ]
    .map(String::from)
    .to_vec();

    let mut store = crate::support::open_store(db);
    let now = minewatch_store::now_secs();
    let mut tokens = None;
    store
        .subscribe(
            "privacy-subscriber@example.org",
            "USA",
            "daily",
            now,
            |confirm, unsub| {
                tokens = Some((confirm.to_string(), unsub.to_string()));
                Mail {
                    to: "privacy-subscriber@example.org".into(),
                    subject: "PRIVACY-MAIL-SUBJECT".into(),
                    body: format!("confirm {confirm}, unsubscribe {unsub}"),
                }
            },
        )
        .unwrap();
    let (confirm, unsub) = tokens.expect("subscribe composed no message");
    markers.extend([confirm, unsub]);
    store
        .add_feedback(
            &NewFeedback {
                subject: Some("USA".into()),
                page: Some("/states/USA".into()),
                name: Some("Privacy Namemarker".into()),
                email: Some("privacy-feedback@example.org".into()),
                message: "PRIVACY-MESSAGE-MARKER".into(),
                client: "198.51.100.77".into(),
            },
            &[NewAttachment {
                filename: "privacy-attachment-marker.txt".into(),
                content_type: "text/plain".into(),
                data: b"PRIVACY-ATTACHMENT-CONTENT".to_vec(),
            }],
            now,
            100,
        )
        .unwrap()
        .expect("feedback refused");
    let alice = store.user_by_name("alice").unwrap().unwrap();
    let (session, csrf) = store.create_session(alice.id, now, 3600).unwrap();
    markers.extend([session, csrf]);
    store
        .propose(
            &NewProposal {
                action: ProposalAction::Add,
                subject: Some("USA".into()),
                target_fact: None,
                importer: "facts-csv".into(),
                body: "PRIVACY-PROPOSAL-BODY".into(),
                summary: "PRIVACY-PROPOSAL-SUMMARY".into(),
            },
            alice.id,
        )
        .unwrap();

    // What the database keeps of them: hashes, tokens, the queued message.
    for sql in [
        "SELECT password_hash FROM users",
        "SELECT id_hash FROM sessions",
        "SELECT csrf FROM sessions",
        "SELECT token_hash FROM api_tokens",
        "SELECT confirm_hash FROM subscribers",
        "SELECT unsub_token FROM subscribers",
        "SELECT secret FROM webhooks",
        "SELECT sha256 FROM attachments",
        "SELECT ikey FROM outbox",
        "SELECT body FROM proposals",
    ] {
        let got: Vec<String> = store.query_strings(sql).unwrap();
        assert!(!got.is_empty(), "{sql}: nothing seeded");
        markers.extend(got);
    }
    markers.retain(|m| !m.is_empty());
    markers
}

/// Fails (naming the place) if any marker is in `bytes`.
fn check(markers: &[String], what: &str, bytes: &[u8]) {
    for m in markers {
        assert!(!contains(bytes, m), "{what} holds private data {m:?}");
    }
}

#[test]
fn sqlite_snapshot_holds_no_private_data() {
    let dir = TempDir::new();
    let db = dir.path("private.sqlite");
    let markers = seed_private(&db);
    let out = dir.path("snapshot.db");
    let (ok, err) = export(&db, &out, &[]);
    assert!(ok, "{err}");

    let c = open_snapshot(&out);
    let schema = schema(&c);
    let mut allowed: BTreeSet<String> = TABLES.iter().map(|t| t.to_string()).collect();
    for fts in ["facts_fts", "sources_fts"] {
        allowed.extend(FTS_SHADOWS.map(|s| format!("{fts}_{s}")));
    }
    let mut tables = Vec::new();
    let mut views = BTreeSet::new();
    for (kind, name) in &schema {
        match kind.as_str() {
            "table" => {
                assert!(
                    allowed.contains(name),
                    "the snapshot has a table that is not public: {name}"
                );
                tables.push(name.clone());
            }
            "view" => {
                assert!(VIEWS.contains(&name.as_str()), "unexpected view {name}");
                views.insert(name.clone());
            }
            "index" => {}
            other => panic!("unexpected schema entry {other} {name}"),
        }
    }
    for t in TABLES {
        assert!(tables.iter().any(|x| x == t), "table {t} is missing");
    }
    assert_eq!(views.len(), VIEWS.len(), "views: {views:?}");

    // Every row of every table (shadow tables included) and view.
    let mut values = 0;
    for name in tables.iter().chain(views.iter()) {
        for v in all_values(&c, name) {
            check(&markers, name, &v);
            values += 1;
        }
    }
    assert!(values > 50_000, "only {values} values read");
    // A full-text search for the seeded words finds nothing.
    for word in ["PRIVACY", "Namemarker", "privacy"] {
        let n: i64 = c
            .query_row(
                "SELECT (SELECT count(*) FROM facts_fts WHERE facts_fts MATCH ?1)
                      + (SELECT count(*) FROM sources_fts WHERE sources_fts MATCH ?1)",
                [word],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "full-text search finds {word}");
    }
    drop(c);
    // And the raw bytes of the file and of its metadata, free pages included.
    check(&markers, "the snapshot file", &std::fs::read(&out).unwrap());
    let meta = dir.path("snapshot.db.metadata.json");
    check(&markers, "the metadata", &std::fs::read(&meta).unwrap());
}

/// `minewatch facts`-style reading of the store at `db`: (current fact ids, every fact's
/// citations as (source, locator) in order).
type Cites = BTreeMap<i64, Vec<(String, Option<String>)>>;

fn record(db: &Path) -> (BTreeSet<i64>, Cites, usize, i64) {
    let store = crate::support::open_store(db);
    let current = store
        .facts(&FactFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.fact.id)
        .collect();
    let mut cites = BTreeMap::new();
    for r in store.latest(usize::MAX, None).unwrap() {
        cites.insert(
            r.fact.id,
            r.fact
                .citations
                .iter()
                .map(|c| (c.source.clone(), c.locator.clone()))
                .collect(),
        );
    }
    (
        current,
        cites,
        store.sources().unwrap().len(),
        store.fact_count().unwrap(),
    )
}

#[test]
fn sqlite_snapshot_holds_the_record_with_search_and_metadata() {
    let dir = TempDir::new();
    let mut store = store(&dir, true);
    let db = dir.path("record.sqlite");
    // A retraction, so that the record has a fact that no longer stands.
    let target = store
        .facts(&FactFilter {
            subject: Some("USA".into()),
            ..FactFilter::default()
        })
        .unwrap()
        .into_iter()
        .find(|r| r.fact.kind().as_str() == "stockpile_count")
        .expect("a US stockpile fact")
        .fact;
    let mut b = store.batch("test", None, "opendata test").unwrap();
    b.put_fact(&NewFact {
        key: Some(format!("retract:{}", target.id)),
        subject: "USA".into(),
        valid_from: None,
        valid_to: None,
        payload: Payload::Retraction(Retraction {
            reason: "retracted by the open-data test".into(),
        }),
        citations: vec![Citation {
            source: target.citations[0].source.clone(),
            locator: None,
        }],
        note: None,
        supersedes: Some(target.id),
    })
    .unwrap();
    b.commit().unwrap();
    drop(store);

    let out = dir.path("minewatch.db");
    let (ok, err) = export(&db, &out, &[]);
    assert!(ok, "{err}");
    assert!(err.contains("wrote"), "{err}");
    let (current, cites, sources, all) = record(&db);
    let c = open_snapshot(&out);
    let q = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };

    // Facts: every version; the current view is the store's current view.
    assert_eq!(q("SELECT count(*) FROM facts"), all);
    let snap_current: BTreeSet<i64> = {
        let mut st = c.prepare("SELECT id FROM current_facts").unwrap();
        let ids = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        ids
    };
    assert_eq!(snap_current.len(), current.len());
    assert_eq!(snap_current, current);
    assert!(!snap_current.contains(&target.id));
    let (retracted, reason): (i64, String) = c
        .query_row("SELECT retracted_fact, reason FROM retractions", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(retracted, target.id);
    assert_eq!(reason, "retracted by the open-data test");
    assert!(
        q(&format!(
            "SELECT superseded_by IS NOT NULL FROM facts WHERE id = {}",
            target.id
        )) == 1
    );
    // Partial dates stay text as given.
    assert!(q("SELECT count(*) FROM facts WHERE length(valid_from) = 4") > 0);
    assert_eq!(
        q("SELECT count(*) FROM facts WHERE typeof(valid_from) NOT IN ('text', 'null')"),
        0
    );
    // Payloads are JSON objects.
    assert_eq!(
        q("SELECT count(*) FROM facts WHERE json_valid(payload) = 0 OR json_type(payload) <> 'object'"),
        0
    );

    // Citations: the same, in the same order, for every fact.
    let mut snap_cites: Cites = BTreeMap::new();
    {
        let mut st = c
            .prepare(
                "SELECT fact_id, source_key, locator FROM citations ORDER BY fact_id, position",
            )
            .unwrap();
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        for row in rows {
            let (id, key, loc) = row.unwrap();
            snap_cites.entry(id).or_default().push((key, loc));
        }
    }
    assert_eq!(snap_cites, cites);
    assert_eq!(q("SELECT count(*) FROM sources"), sources as i64);
    assert_eq!(
        q("SELECT count(*) FROM citations WHERE source_key NOT IN (SELECT key FROM sources)"),
        0
    );
    let cited: String = c
        .query_row(
            "SELECT sources FROM facts_with_sources WHERE id = (SELECT min(fact_id) FROM citations)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!cited.is_empty());

    // Derived tables: the engine's answers today.
    let usa: (String, Option<String>, Option<String>, i64) = c
        .query_row(
            "SELECT status, deposited, entry_into_force, bound FROM status_today WHERE code = 'USA'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(usa, ("non_signatory".into(), None, None, 0));
    let can: (String, String) = c
        .query_row(
            "SELECT status, entry_into_force FROM status_today WHERE code = 'CAN'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(can, ("state_party".into(), "1999-03-01".into()));
    assert_eq!(
        q("SELECT count(*) FROM status_today"),
        q("SELECT count(*) FROM subjects")
    );
    assert!(q("SELECT count(*) FROM status_today WHERE status = 'state_party'") > 150);
    assert!(q("SELECT count(*) FROM deadlines WHERE article = 'Art. 5'") > 10);
    assert!(q("SELECT count(*) FROM meetings WHERE code = '1MSP'") >= 1);
    // The export derives one subject at a time (bounded memory); its deadlines are the whole
    // record's engine's, row for row, as `minewatch deadlines --json` gives them.
    let (ok, said, err) = minewatch(&db, &["deadlines", "--json"]);
    assert!(ok, "{err}");
    let whole: Value = serde_json::from_str(&said).unwrap();
    let whole: Vec<(String, String, String, String)> = whole["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (s("code"), s("article"), s("due"), s("state"))
        })
        .collect();
    let exported: Vec<(String, String, String, String)> = {
        let mut st = c
            .prepare("SELECT code, article, due, state FROM deadlines ORDER BY id")
            .unwrap();
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    assert!(whole.len() > 100, "{}", whole.len());
    assert_eq!(exported, whole);

    // Full-text search.
    assert!(q("SELECT count(*) FROM facts_fts WHERE facts_fts MATCH 'Ottawa'") > 0);
    let title: String = c
        .query_row(
            "SELECT s.title FROM sources_fts JOIN sources s ON s.id = sources_fts.rowid
             WHERE sources_fts MATCH 'Ottawa' ORDER BY s.key LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(title.contains("Ottawa"), "{title}");
    let canada: i64 = q(
        "SELECT count(*) FROM facts f JOIN facts_fts ON facts_fts.rowid = f.id
                         WHERE facts_fts MATCH 'subject_name:Canada' AND f.subject = 'CAN'",
    );
    assert!(canada > 0);

    // The metadata: licence, source, and a description of every column of every table and view.
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.path("minewatch.db.metadata.json")).unwrap())
            .unwrap();
    for k in ["title", "description", "license", "source", "source_url"] {
        assert!(
            meta[k].as_str().is_some_and(|s| !s.is_empty()),
            "{k}: {meta}"
        );
    }
    assert!(meta["license"].as_str().unwrap().contains("See sources"));
    let descr = meta["description"].as_str().unwrap();
    for terms in ["ODbL", "CC0", "LGPL"] {
        assert!(descr.contains(terms), "{descr}");
    }
    let described = &meta["databases"]["minewatch"]["tables"];
    let names: Vec<String> = TABLES
        .iter()
        .chain(VIEWS.iter())
        .map(|s| s.to_string())
        .collect();
    for t in &names {
        let about = &described[t];
        assert!(
            about["description"].as_str().is_some(),
            "{t}: no description"
        );
        let mut st = c.prepare(&format!("PRAGMA table_info(\"{t}\")")).unwrap();
        let cols: Vec<String> = st
            .query_map([], |r| r.get(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!cols.is_empty(), "{t}");
        for col in cols {
            assert!(
                about["columns"][&col]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{t}.{col} has no description"
            );
        }
    }
    drop(c);

    // Bad input: an existing file is refused and left as it was; nothing else is written.
    let before = std::fs::read(&out).unwrap();
    let (ok, err) = export(&db, &out, &[]);
    assert!(!ok);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let other = dir.path("other.db");
    let taken = dir.file("taken.json", b"{}");
    let (ok, err) = export(&db, &other, &["--metadata", taken.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("taken.json") && err.contains("exists"),
        "{err}"
    );
    assert!(!other.exists());
    let (ok, err) = export(&db, &dir.path("no/such/folder/x.db"), &[]);
    assert!(!ok);
    assert!(err.contains("does not exist"), "{err}");
    // A failure after the snapshot was built (its metadata cannot be written) leaves nothing.
    let (ok, err) = export(
        &db,
        &other,
        &["--metadata", "/proc/minewatch.metadata.json"],
    );
    assert!(!ok, "{err}");
    assert!(!other.exists());
    let (ok, _, err) = minewatch(&db, &["export", "--format", "sqlite"]);
    assert!(!ok && err.contains("--out"), "{err}");
    // No temporary file is left behind either.
    let mut left: Vec<String> = std::fs::read_dir(dir.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| !f.starts_with("record.sqlite"))
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["minewatch.db", "minewatch.db.metadata.json", "taken.json"]
    );

    // `--help` says what the sqlite format holds.
    let (ok, help, _) = minewatch(&db, &["export", "--help"]);
    assert!(ok);
    for word in [
        "sqlite",
        "status_today",
        "facts_fts",
        "metadata",
        "Datasette",
    ] {
        assert!(
            help.contains(word),
            "export --help does not mention {word}:\n{help}"
        );
    }
}

fn get(url: &str) -> Result<String, String> {
    ureq::get(url)
        .timeout(Duration::from_secs(20))
        .call()
        .map_err(|e| format!("{url}: {e}"))?
        .into_string()
        .map_err(|e| format!("{url}: {e}"))
}

fn get_json(url: &str) -> Value {
    let text = get(url).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

#[test]
fn datasette_serves_the_snapshot_and_searches_it() {
    let Some(bin) = pytools("datasette") else {
        return;
    };
    let dir = TempDir::new();
    let db = dir.path("private.sqlite");
    let markers = seed_private(&db);
    let out = dir.path("minewatch.db");
    let (ok, err) = export(&db, &out, &[]);
    assert!(ok, "{err}");
    let meta = dir.path("minewatch.db.metadata.json");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let log = dir.path("datasette.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let mut child = ChildGuard::spawn(
        Command::new(bin.join("datasette"))
            .arg("serve")
            .arg(&out)
            .arg("-m")
            .arg(&meta)
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file),
    )
    .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.join("datasette").display()));
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        if get(&format!("{base}/-/versions.json")).is_ok() {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "datasette exited ({status}) before it answered:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "datasette did not answer within 60 s:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let check_text = |what: &str, text: &str| check(&markers, what, text.as_bytes());
    let rows = get_json(&format!("{base}/minewatch/facts.json?_shape=array&_size=5"));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows[0]["text"].as_str().is_some_and(|t| !t.is_empty()));
    // Full-text search, as Datasette offers it: on the table (it finds facts_fts by itself),
    // on the FTS table, and on sources.
    for path in [
        "/minewatch/facts.json?_search=Ottawa&_shape=array",
        "/minewatch/facts_fts.json?_search=Ottawa&_shape=array",
        "/minewatch/current_facts.json?_search=Ottawa&_shape=array",
        "/minewatch/sources.json?_search=Ottawa&_shape=array",
    ] {
        let found = get_json(&format!("{base}{path}"));
        assert!(
            found.as_array().is_some_and(|a| !a.is_empty()),
            "{path}: {found}"
        );
        check_text(path, &found.to_string());
    }
    let usa = get_json(&format!(
        "{base}/minewatch/status_today.json?code=USA&_shape=array"
    ));
    assert_eq!(usa[0]["status"], "non_signatory", "{usa}");
    // The seeded private words are not found, and no table but the public ones is listed.
    for word in ["PRIVACY", "Namemarker", "privacy"] {
        let found = get_json(&format!(
            "{base}/minewatch/facts.json?_search={word}&_shape=array"
        ));
        assert_eq!(found, Value::Array(Vec::new()), "{word}");
    }
    let listing = get_json(&format!("{base}/minewatch.json"));
    let listed: Vec<String> = listing["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    for t in &listed {
        let shadow = ["facts_fts_", "sources_fts_"]
            .iter()
            .any(|p| t.strip_prefix(p).is_some_and(|s| FTS_SHADOWS.contains(&s)));
        assert!(
            TABLES.contains(&t.as_str()) || shadow,
            "datasette lists {t}"
        );
    }
    // Every table and view, every row, as Datasette serves them.
    let views: Vec<String> = listing["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(views.len(), VIEWS.len(), "{views:?}");
    for t in TABLES.iter().map(|s| s.to_string()).chain(views) {
        let mut next = Some(format!("{base}/minewatch/{t}.json?_size=max"));
        let mut pages = 0;
        while let Some(url) = next.take() {
            let text = get(&url).unwrap_or_else(|e| panic!("{e}"));
            check_text(&url, &text);
            let page: Value = serde_json::from_str(&text).unwrap();
            next = page["next_url"].as_str().map(String::from);
            pages += 1;
            assert!(pages < 100, "{t}: too many pages");
        }
    }
    let index = get(&format!("{base}/")).unwrap();
    assert!(index.contains("See sources"), "{index}");
    check_text("/", &index);
    child.kill();
}

#[test]
fn the_data_package_validates_with_frictionless_and_holds_no_private_data() {
    let dir = TempDir::new();
    let db = dir.path("record.sqlite");
    let markers = seed_private(&db);
    let out = dir.path("package");
    let (ok, err) = export_as("datapackage", &db, &out, &[]);
    assert!(ok, "{err}");
    // A second export into the same folder is refused and changes nothing.
    let before = std::fs::read(out.join("facts.csv")).unwrap();
    let (ok, err) = export_as("datapackage", &db, &out, &[]);
    assert!(!ok && err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(out.join("facts.csv")).unwrap(), before);
    // No temporary folder is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The descriptor: a resource per CSV file, each with its schema; partial dates are strings
    // with a pattern, keys join the files.
    let pkg: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("datapackage.json")).unwrap())
            .unwrap();
    let resources = pkg["resources"].as_array().unwrap();
    let names: Vec<&str> = resources
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for want in ["subjects", "sources", "facts", "citations"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let facts = resources.iter().find(|r| r["name"] == "facts").unwrap();
    let field = |n: &str| {
        facts["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(field("valid_from")["type"], "string");
    assert!(field("valid_from")["constraints"]["pattern"].is_string());
    assert_eq!(field("payload")["type"], "object");
    assert_eq!(facts["schema"]["primaryKey"], "id");
    assert!(facts["schema"]["foreignKeys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["reference"]["resource"] == "subjects"));
    assert!(pkg["licenses"].as_array().is_some_and(|l| !l.is_empty()));
    // Nothing private in any file (the HXL copies included).
    let mut files = 0;
    for folder in [out.clone(), out.join("hxl")] {
        for e in std::fs::read_dir(&folder).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                check(
                    &markers,
                    &p.display().to_string(),
                    &std::fs::read(&p).unwrap(),
                );
                files += 1;
            }
        }
    }
    assert!(files > 10, "{files} files");
    // The real validator, every check: 0 errors.
    let Some(bin) = pytools("frictionless") else {
        return;
    };
    let run = std::process::Command::new(bin.join("frictionless"))
        .args(["validate", "--json"])
        .arg(out.join("datapackage.json"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&run.stdout).into_owned();
    let v: Value = serde_json::from_str(&report).unwrap_or_else(|e| {
        panic!(
            "frictionless said no JSON ({e}): {report}{}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let errors: Vec<String> = v["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["errors"].as_array().into_iter().flatten())
        .chain(v["errors"].as_array().into_iter().flatten())
        .map(|e| e["message"].as_str().unwrap_or("?").to_string())
        .collect();
    assert!(
        v["valid"] == true && errors.is_empty(),
        "{} errors: {:?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
    assert_eq!(
        v["tasks"].as_array().map(Vec::len),
        Some(names.len()),
        "every resource was validated"
    );
}

/// Reads an HXL file with libhxl (through the virtualenv's Python): the columns' display tags and
/// the number of data rows.
fn libhxl(bin: &Path, file: &Path) -> (Vec<String>, usize) {
    let script = "import hxl, json, sys\n\
                  src = hxl.data(sys.argv[1], hxl.InputOptions(allow_local=True))\n\
                  tags = [c.display_tag for c in src.columns]\n\
                  print(json.dumps({'tags': tags, 'rows': sum(1 for _ in src)}))\n";
    let out = Command::new(bin.join("python"))
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "libhxl could not read {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap_or("").to_string())
        .collect();
    (tags, v["rows"].as_u64().unwrap_or(0) as usize)
}

#[test]
fn hxl_tools_read_the_tagged_csv_files() {
    let dir = TempDir::new();
    let db = dir.path("record.sqlite");
    let server = Server::start_on(&db, &[], &[]);
    // A page's CSV with ?hxl=1: the hashtag row under the header, the rows unchanged.
    let (status, _, plain) = server.get_text_with("/states.csv", "text/csv");
    assert_eq!(status, 200);
    let (status, _, tagged) = server.get_text_with("/states.csv?hxl=1", "text/csv");
    assert_eq!(status, 200);
    let mut lines = tagged.lines();
    assert_eq!(lines.next(), plain.lines().next());
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("#country+code+v_iso3,#country+name")),
        "{}",
        &tagged[..tagged.len().min(300)]
    );
    assert_eq!(tagged.lines().count(), plain.lines().count() + 1);
    let (status, _, body) = server.get_text_with("/states.csv?hxl=yes", "text/csv");
    assert_eq!(status, 400, "{body}");
    drop(server);
    // The data package's hxl/ copies.
    let out = dir.path("package");
    let (ok, err) = export_as("datapackage", &db, &out, &[]);
    assert!(ok, "{err}");
    let Some(bin) = pytools("python") else {
        return;
    };
    let page = dir.file("states.csv", tagged.as_bytes());
    let (tags, rows) = libhxl(&bin, &page);
    assert_eq!(tags[0], "#country+code+v_iso3");
    assert_eq!(rows, plain.lines().count() - 1);
    for table in ["facts", "sources", "subjects", "citations", "deadlines"] {
        let (tags, rows) = libhxl(&bin, &out.join("hxl").join(format!("{table}.csv")));
        let header = std::fs::read_to_string(out.join(format!("{table}.csv"))).unwrap();
        let columns = csv::Reader::from_reader(header.as_bytes())
            .headers()
            .unwrap()
            .len();
        assert_eq!(tags.len(), columns, "{table}: a tag per column");
        assert!(tags.iter().all(|t| t.starts_with('#')), "{table}: {tags:?}");
        let data_rows = csv::Reader::from_reader(header.as_bytes())
            .records()
            .count();
        assert_eq!(rows, data_rows, "{table}: libhxl reads every row");
    }
}

/// Lowercase hex SHA-256.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn get_bytes(url: &str) -> (u16, Vec<u8>) {
    let r = match ureq::get(url).timeout(Duration::from_secs(60)).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {url}: {e}"),
    };
    let status = r.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
    (status, body)
}

#[test]
fn downloads_list_the_current_record_with_checksums_and_nothing_private() {
    let dir = TempDir::new();
    let db = dir.path("downloads.sqlite");
    let markers = seed_private(&db);
    let server = Server::start_on(&db, &[], &[]);
    let (status, m) = server.get("/downloads.json");
    assert_eq!(status, 200, "{m}");
    let record = crate::support::open_store(&db).last_fact_id().unwrap();
    assert_eq!(m["record"], record);
    let files = m["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    for want in [
        "minewatch.sqlite",
        "minewatch.sqlite.metadata.json",
        "datapackage/datapackage.json",
        "datapackage/facts.csv",
        "datapackage/hxl/facts.csv",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    // Every file is what the list says: its size, its checksum, and nothing private.
    let mut facts_sha = String::new();
    for f in files {
        let name = f["name"].as_str().unwrap();
        let (status, body) = get_bytes(&format!("{}/downloads/{name}", server.base));
        assert_eq!(status, 200, "{name}");
        assert_eq!(body.len() as u64, f["bytes"].as_u64().unwrap(), "{name}");
        assert_eq!(sha256_hex(&body), f["sha256"].as_str().unwrap(), "{name}");
        check(&markers, name, &body);
        if name == "datapackage/facts.csv" {
            facts_sha = sha256_hex(&body);
        }
    }
    // Only the listed files: no way out of the folder, no other file of the server.
    for bad in [
        "../downloads.sqlite",
        "nothing.csv",
        "datapackage/../../downloads.sqlite",
    ] {
        let (status, _) = get_bytes(&format!("{}/downloads/{bad}", server.base));
        assert_eq!(status, 404, "{bad}");
    }

    // The real frictionless reads the package over HTTP, as a user would.
    if let Some(bin) = pytools("frictionless") {
        let out = Command::new(bin.join("frictionless"))
            .args([
                "validate",
                &format!("{}/downloads/datapackage/datapackage.json", server.base),
            ])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "frictionless:\n{said}");
    }

    // A new fact: the downloads are rebuilt for the new record version.
    let facts = dir.file(
        "facts.csv",
        b"key,subject,kind,valid_from,valid_to,payload,sources,note\n\
          test:usa:signature,USA,treaty_action,2025-06-01,,\"{\"\"action\"\":\"\"signature\"\"}\",seed-000,test only\n",
    );
    let (ok, out, err) = minewatch(&db, &["import", "facts-csv", facts.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (_, m2) = server.get("/downloads.json");
    assert!(m2["record"].as_i64().unwrap() > record, "{}", m2["record"]);
    let f2 = m2["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "datapackage/facts.csv")
        .unwrap();
    assert_ne!(f2["sha256"].as_str().unwrap(), facts_sha);
    let (_, body) = get_bytes(&format!("{}/downloads/datapackage/facts.csv", server.base));
    assert!(contains(&body, "test:usa:signature"));
    // The page says the same, with the terms.
    let (status, _, html) = server.get_text("/downloads");
    assert_eq!(status, 200);
    assert!(html.contains(f2["sha256"].as_str().unwrap()));
    assert!(html.contains("No single licence"));
}
