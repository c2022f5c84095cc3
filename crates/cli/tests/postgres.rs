//! PostgreSQL: the same record, engine and desk on a real PostgreSQL server, several servers on
//! one database, and moves between SQLite and PostgreSQL. The server is the private cluster that
//! `scripts/test.sh` starts (`scripts/pg-cluster.sh`, `MINEWATCH_TEST_PG`); each test makes its
//! own database and drops it at the end. Without that variable these tests fail with a message
//! saying how to run them: they are never counted as passed without PostgreSQL (`test.sh` with
//! `MINEWATCH_SKIP_POSTGRES=1` leaves them out and says so).

use crate::smtp::Sink;
use crate::support::{
    add_user, api_token, login_burst, minewatch, post_json, Client, Server, TempDir,
};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// A new, empty database in the test cluster, dropped (with its connections) on drop.
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

impl PgDb {
    pub fn new() -> PgDb {
        let admin = std::env::var("MINEWATCH_TEST_PG").unwrap_or_else(|_| {
            panic!(
                "MINEWATCH_TEST_PG is not set: the PostgreSQL tests need a server. Run \
                 scripts/test.sh (it installs Debian's postgresql and starts a private cluster), \
                 or set MINEWATCH_TEST_PG=postgres://USER@HOST:PORT/postgres (a role that may \
                 create databases)"
            )
        });
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "mw_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("test cluster");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        PgDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }

    /// The URL as the `--db` argument of the support helpers (which take a path).
    pub fn db(&self) -> &Path {
        Path::new(&self.url)
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).expect(sql).get(0)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A JSON answer without what names the server it came from (the citation's permalink).
fn answer(server: &Server, path: &str) -> Value {
    let (status, mut v) = server.get(path);
    assert_eq!(status, 200, "{path}: {v}");
    if let Some(o) = v.as_object_mut() {
        o.remove("cite");
    }
    v
}

/// The first place where two JSON documents differ (a JSON pointer and both values), if any.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let here = format!("{at}/{k}");
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &here) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{here}: only in the first")),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{at}/{k}: only in the second"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{at}/{i}"))),
        _ if a == b => None,
        _ => {
            let short = |v: &Value| v.to_string().chars().take(200).collect::<String>();
            Some(format!("{at}: {} != {}", short(a), short(b)))
        }
    }
}

#[test]
fn serve_on_postgres_gives_the_same_answers_as_sqlite() {
    let pg = PgDb::new();
    // One clock for both, so that both loads of the shipped data have the same record times.
    let clock = [("MINEWATCH_NOW", "2026-11-20T12:00:00Z")];
    let dir = TempDir::new();
    let sqlite = Server::start_on(&dir.path("record.sqlite"), &[], &clock);
    let server = Server::start_on(pg.db(), &[], &clock);
    // The shipped data was loaded into the empty database on first start, as into a new file.
    assert!(pg.count("SELECT COUNT(*) FROM facts") > 1000);
    for path in [
        "/api/v1/unga/64/56",
        "/api/v1/parties?as_of=2026-02-20",
        "/api/v1/states/USA/facts?as_of=2010-10-18",
        "/api/v1/states/USA/status?as_of=2010-10-18",
        "/states/USA.json?as_of=2010-10-18",
        "/api/v1/deadlines",
        "/api/v1/sources",
    ] {
        let (a, b) = (answer(&sqlite, path), answer(&server, path));
        if let Some(d) = first_difference(&a, &b, "") {
            panic!("{path}: SQLite and PostgreSQL differ at {d}");
        }
    }
    // The profile page itself, but for the addresses of the two servers.
    let page = |s: &Server| {
        let (status, _, body) = s.get_text("/states/USA?as_of=2010-10-18");
        assert_eq!(status, 200);
        body.replace(&s.base, "BASE")
    };
    assert_eq!(page(&sqlite), page(&server));
    // A second start finds the schema and the data there and loads nothing again.
    let facts = pg.count("SELECT COUNT(*) FROM facts");
    drop(server);
    let again = Server::start_on(pg.db(), &[], &clock);
    assert_eq!(again.get("/api/v1/unga/64/56").0, 200);
    assert_eq!(pg.count("SELECT COUNT(*) FROM facts"), facts);
}

#[test]
fn the_record_is_append_only_on_postgres() {
    let pg = PgDb::new();
    let (ok, _, err) = minewatch(pg.db(), &["load"]);
    assert!(ok, "{err}");
    let mut c = pg.client();
    for sql in [
        "UPDATE facts SET note = 'changed' WHERE id = 1",
        "DELETE FROM facts WHERE id = (SELECT MAX(id) FROM facts)",
        "TRUNCATE facts CASCADE",
        "UPDATE sources SET title = 'changed'",
        "DELETE FROM citations",
        "TRUNCATE events CASCADE",
    ] {
        let e = c.batch_execute(sql).expect_err(sql);
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains("append-only"), "{sql}: {e}");
    }
    assert!(pg.count("SELECT COUNT(*) FROM facts") > 1000);
    // The record's references are checked per statement (no foreign keys on facts and
    // citations, for the speed of bulk imports), with the same effect.
    for (sql, expected) in [
        (
            "INSERT INTO facts (key, subject, kind, payload, recorded_at, recorded_by, content_hash, batch)
             VALUES ('k', 'XXX', 'development', '{}', 'now', 'test', 'h', 1)",
            "no subject XXX",
        ),
        (
            "INSERT INTO facts (key, subject, kind, payload, recorded_at, recorded_by, content_hash, batch)
             VALUES ('k', 'USA', 'development', '{}', 'now', 'test', 'h', 999999)",
            "no batch 999999",
        ),
        (
            "INSERT INTO facts (key, subject, kind, payload, recorded_at, recorded_by, content_hash, batch, supersedes)
             VALUES ('k', 'USA', 'development', '{}', 'now', 'test', 'h', 1, 999999)",
            "supersedes fact 999999",
        ),
        (
            "INSERT INTO citations (fact_id, position, source_key) VALUES (999999, 0, 'x')",
            "fact 999999, which does not exist",
        ),
        ("DELETE FROM subjects WHERE code = 'USA'", "subject USA is named by facts"),
        ("UPDATE subjects SET code = 'USX' WHERE code = 'USA'", "subject USA is named by facts"),
        ("DELETE FROM batches", "append-only"),
        ("TRUNCATE subjects CASCADE", "subjects cannot be truncated"),
    ] {
        let e = c.batch_execute(sql).expect_err(sql);
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains(expected), "{sql}: {e}");
    }
}

#[test]
fn migrate_moves_everything_to_postgres_and_back() {
    let dir = TempDir::new();
    let file = dir.path("record.sqlite");
    let (ok, _, err) = minewatch(&file, &["load"]);
    assert!(ok, "{err}");
    // Private tables too: an account, a token.
    add_user(&file, "alice", "editor", "alice-password-123");
    let (ok, _, err) = minewatch(&file, &["user", "token", "alice"]);
    assert!(ok, "{err}");
    let export = |db: &Path| {
        let (ok, out, err) = minewatch(db, &["export", "--format", "json"]);
        assert!(ok, "{err}");
        out
    };
    let before = export(&file);

    let pg = PgDb::new();
    let from = format!("sqlite:{}", file.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(["migrate", "--from", &from, "--to", &pg.url, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(copied["rows"]["users"], 1, "{copied}");
    assert_eq!(copied["rows"]["api_tokens"], 1, "{copied}");
    assert_eq!(
        copied["rows"]["facts"].as_i64().unwrap(),
        pg.count("SELECT COUNT(*) FROM facts")
    );
    assert_eq!(export(pg.db()), before);
    // The account works on the copy, and new facts get new ids after the copied ones.
    let (ok, out, err) = minewatch(pg.db(), &["user", "list", "--json"]);
    assert!(ok && out.contains("alice"), "{out}{err}");
    let next: i64 = pg.count("SELECT nextval(pg_get_serial_sequence('facts', 'id'))");
    assert!(next > pg.count("SELECT MAX(id) FROM facts"));

    // A target that holds anything is refused, and nothing is written to it.
    let facts = pg.count("SELECT COUNT(*) FROM facts");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(["migrate", "--from", &from, "--to", &pg.url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("not empty") && err.contains("facts ("),
        "{err}"
    );
    assert_eq!(pg.count("SELECT COUNT(*) FROM facts"), facts);

    // And back, into a new file: the same document again.
    let back = dir.path("back.sqlite");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .args(["migrate", "--from", &pg.url, "--to"])
        .arg(&back)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(export(&back), before);
}

/// Several servers on one database are one site: what one publishes, the other shows at once.
#[test]
fn two_servers_on_one_database_publish_on_a_see_on_b() {
    let pg = PgDb::new();
    add_user(pg.db(), "alice", "editor", "alice-password-123");
    add_user(pg.db(), "bob", "editor", "bob-password-4567");
    let (ta, tb) = (api_token(pg.db(), "alice"), api_token(pg.db(), "bob"));
    let a = Server::start_on(pg.db(), &[], &[]);
    let b = Server::start_on(pg.db(), &[], &[]);
    // Both servers answer (and cache) the country's developments before the change.
    let marker = "A development published through server A.";
    let facts = "/api/v1/states/USA/facts?kind=development";
    for s in [&a, &b] {
        let (status, _, body) = s.get_text(facts);
        assert_eq!(status, 200);
        assert!(!body.contains(marker));
    }
    let doc = format!(
        r#"{{"summary": "a development", "document": {{"facts": [{{"subject": "USA", "kind": "development",
        "valid_from": "2026", "payload": {{"topic": "ban_policy", "summary": "{marker}"}},
        "sources": ["lm-2010-usa"]}}]}}}}"#
    );
    let (status, v) = post_json(&a.base, "/api/v1/proposals", &ta, &doc);
    assert_eq!(status, 201, "{v}");
    let id = v["proposal"]["id"].as_i64().unwrap();
    // Four eyes across servers: proposed on A, approved on B by another editor.
    let (status, v) = post_json(&b.base, &format!("/api/v1/proposals/{id}/approve"), &tb, "");
    assert_eq!(status, 200, "{v}");
    let published = Instant::now();
    let (_, _, body) = b.get_text(facts);
    assert!(body.contains(marker), "B, which published it, shows it");
    // A learns of it within a second (its cached page is not served again).
    loop {
        let (_, _, body) = a.get_text(facts);
        if body.contains(marker) {
            break;
        }
        assert!(
            published.elapsed() < Duration::from_secs(1),
            "server A did not show the publication within a second"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The outbox on two servers: every message goes out, claimed by one worker at a time, while one
/// of the servers is killed (SIGKILL) mid-delivery and started again.
#[test]
fn two_workers_deliver_200_messages_once_through_a_crash() {
    let pg = PgDb::new();
    let (ok, _, err) = minewatch(pg.db(), &["load"]);
    assert!(ok, "{err}");
    // 200 confirmed, immediate subscribers of one country: one publication, 200 messages.
    {
        let mut c = pg.client();
        let mut tx = c.transaction().unwrap();
        for i in 0..200 {
            tx.execute(
                "INSERT INTO subscribers (email, scope, cadence, confirm_hash, unsub_token, created_at, confirmed_at)
                 VALUES ($1, 'USA', 'immediate', $2, $3, 0, 0)",
                &[
                    &format!("reader{i}@example.org"),
                    &format!("confirm-{i}"),
                    &format!("unsub-{i}"),
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    add_user(pg.db(), "alice", "editor", "alice-password-123");
    add_user(pg.db(), "bob", "editor", "bob-password-4567");
    let (ta, tb) = (api_token(pg.db(), "alice"), api_token(pg.db(), "bob"));
    let sink = Sink::start();
    let smtp = sink.url();
    let args = ["--smtp", &smtp, "--outbox-poll-ms", "100"];
    let env: [(&str, &str); 0] = [];
    let a = Server::start_on(pg.db(), &args, &env);
    let b = Server::start_on(pg.db(), &args, &env);
    let post = |path: &str, token: &str, body: &str| post_json(&a.base, path, token, body).0;
    let doc = r#"{"summary": "a development", "document": {"facts": [{"subject": "USA", "kind": "development",
        "valid_from": "2026", "payload": {"topic": "ban_policy", "summary": "Two workers, one outbox."},
        "sources": ["lm-2010-usa"]}]}}"#;
    assert_eq!(post("/api/v1/proposals", &ta, doc), 201);
    let id = pg.count("SELECT MAX(id) FROM proposals");
    assert_eq!(
        post(&format!("/api/v1/proposals/{id}/approve"), &tb, ""),
        200
    );
    // Kill B once some messages are out, then start it again.
    let start = Instant::now();
    while sink.received().len() < 20 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let at_kill = sink.received().len();
    b.kill9();
    let _b2 = Server::start_on(pg.db(), &args, &env);
    let end = Instant::now() + Duration::from_secs(120);
    while pg.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") > 0 {
        assert!(Instant::now() < end, "the outbox did not drain");
        std::thread::sleep(Duration::from_millis(50));
    }
    let received = sink.received();
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").expect("Message-ID"))
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every subscriber got the message");
    assert_eq!(
        pg.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'"),
        200
    );
    // Once each; only a message in the hands of the killed server at that instant (sent, not
    // yet marked sent) can go out again, with the same Message-ID for the receiver to drop.
    assert!(
        total - 200 <= 1,
        "{total} deliveries of 200 messages (killed after {at_kill})"
    );
}

/// Login throttling is kept in the database: a burst spread over two servers gets no more
/// password checks than the same attempts one by one on one server.
#[test]
fn a_burst_of_logins_across_two_servers_gets_no_more_tries() {
    let pg = PgDb::new();
    add_user(pg.db(), "alice", "editor", "alice-password-123");
    let servers = [
        Server::start_on(pg.db(), &[], &[]),
        Server::start_on(pg.db(), &[], &[]),
    ];
    // Sessions are kept in the database too: signed in through one server, signed in on both.
    add_user(pg.db(), "bob", "editor", "bob-password-4567");
    let mut bob = Client::new(&servers[0].base);
    bob.login("bob", "bob-password-4567");
    let session = bob.cookie("mw_session").expect("a session cookie");
    let r = ureq::get(&format!("{}/desk", servers[1].base))
        .set("Cookie", &format!("mw_session={session}"))
        .call()
        .expect("the desk on the other server");
    assert_eq!(r.status(), 200);
    assert!(r.get_url().ends_with("/desk"), "{}", r.get_url());

    const N: usize = 30;
    let statuses = login_burst(&[&servers[0].base, &servers[1].base], "alice", N);
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let delayed = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        checked + delayed,
        N,
        "only 401 and 429 expected: {statuses:?}"
    );
    // As on one server (security::a_burst_of_logins_gets_no_more_tries_than_one_by_one): five
    // free failures, one or two more only if the machine stalled past the first 2 s lock.
    assert!(
        (5..=7).contains(&checked),
        "{checked} passwords were checked in a burst of {N} over two servers: {statuses:?}"
    );
}

/// On PostgreSQL a batch sends its rows without waiting for each (they go out together with the
/// next statement that is waited for): a row the database refuses must still fail the batch,
/// and the commit must write nothing.
#[test]
fn a_row_refused_after_it_was_sent_fails_the_whole_batch() {
    use minewatch_domain::{Citation, Payload, Source};
    use minewatch_store::{Location, NewFact, Store};
    let pg = PgDb::new();
    let mut store = Store::open_at(&Location::Postgres(pg.url.clone())).unwrap();
    minewatch_import::shipped::load_subjects(&mut store).unwrap();
    // A database-side refusal that no check in minewatch knows of: a trigger.
    pg.client()
        .batch_execute(
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'refused by the test trigger'; END $$;
             CREATE TRIGGER refuse_boom BEFORE INSERT ON citations FOR EACH ROW
             WHEN (NEW.locator = 'boom') EXECUTE FUNCTION refuse_boom();",
        )
        .unwrap();
    let fact = |n: usize, locator: &str| NewFact {
        key: Some(format!("pipeline-test:{n}")),
        subject: "USA".into(),
        valid_from: None,
        valid_to: None,
        payload: Payload::from_stored(
            "development",
            &format!(r#"{{"topic": "ban_policy", "summary": "Row {n}."}}"#),
        )
        .unwrap(),
        citations: vec![Citation {
            source: "pipeline-test".into(),
            locator: Some(locator.into()),
        }],
        note: None,
        supersedes: None,
    };
    let before = pg.count("SELECT COUNT(*) FROM facts");
    // One fact at a time (statements pipelined), and in bulk (COPY of a few thousand rows,
    // sent while the next are checked): 10,000 rows cross several of its lots.
    for (bulk, rows, refused) in [(false, 600, 300), (true, 10_000, 6_000)] {
        let mut b = store.batch("test", None, "test").unwrap();
        b.put_source(&Source {
            key: "pipeline-test".into(),
            title: "A source of the pipeline test".into(),
            publisher: None,
            published: None,
            url: None,
            note: None,
        })
        .unwrap();
        // Rows before and after the refused one, so that it is in the middle of what is sent.
        let mut result = Ok(());
        for n in 0..rows {
            let locator = if n == refused { "boom" } else { "page 1" };
            let f = fact(n, locator);
            let r = if bulk {
                b.add_fact(&f)
            } else {
                b.put_fact(&f).map(|_| ())
            };
            if let Err(e) = r {
                result = Err(e.to_string());
                break;
            }
        }
        let result = match result {
            Ok(()) => b.commit().map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => {
                drop(b);
                Err(e)
            }
        };
        let e = result.expect_err("the batch succeeded although the database refused a row");
        assert!(
            e.contains("refused by the test trigger"),
            "bulk {bulk}: {e}"
        );
        assert_eq!(
            pg.count("SELECT COUNT(*) FROM facts"),
            before,
            "bulk {bulk}"
        );
        assert_eq!(
            pg.count("SELECT COUNT(*) FROM sources WHERE key = 'pipeline-test'"),
            0
        );
    }
    // The connection is fine afterwards: the next batch works.
    let mut b = store.batch("test", None, "test").unwrap();
    assert!(
        b.put_fact(&fact(1, "page 1")).is_err(),
        "the source was rolled back too"
    );
    b.rollback().unwrap();
}

/// A large import goes to PostgreSQL in bulk (checked rows held a few thousand at a time, their
/// keys looked up together, the rows sent with COPY): it must record exactly what SQLite's row by
/// row import records, count the same in a dry run, and supersede or skip by key the same way
/// across the lots it is cut into.
#[test]
fn a_large_import_records_the_same_on_both_backends() {
    let dir = TempDir::new();
    let pg = PgDb::new();
    let sqlite = dir.path("record.sqlite");
    std::fs::write(
        dir.path("sources.csv"),
        "key,title,publisher,published,url,note\nbulk-src,A source of the bulk test,minewatch tests,,,\n",
    )
    .unwrap();
    // 9,000 facts, then a second file: the first 3,000 changed, the next 6,000 the same, and
    // 1,000 new ones. Both files are several of the importer's lots long.
    let row = |n: usize, version: &str| {
        let subject = ["USA", "UKR", "AFG", "COL"][n % 4];
        format!(
            "bulk:{n},{subject},development,2010-01-{:02},,\"{{\"\"topic\"\":\"\"ban_policy\"\",\"\"summary\"\":\"\"Statement {n}, {version}.\"\"}}\",bulk-src#p. {n},\n",
            n % 28 + 1
        )
    };
    let header = "key,subject,kind,valid_from,valid_to,payload,sources,note\n";
    let first: String = (0..9000).map(|n| row(n, "first")).collect();
    let second: String = (0..10_000)
        .map(|n| row(n, if n < 3000 { "revised" } else { "first" }))
        .collect();
    std::fs::write(dir.path("first.csv"), format!("{header}{first}")).unwrap();
    std::fs::write(dir.path("second.csv"), format!("{header}{second}")).unwrap();
    let run = |db: &Path, args: &[&str]| {
        let (ok, out, err) = minewatch(db, args);
        assert!(ok, "{args:?} on {}: {err}", db.display());
        out
    };
    let mut dumps = Vec::new();
    for db in [sqlite.as_path(), pg.db()] {
        run(db, &["load"]);
        run(
            db,
            &[
                "import",
                "sources",
                &dir.path("sources.csv").to_string_lossy(),
            ],
        );
        let out = run(
            db,
            &[
                "import",
                "facts-csv",
                &dir.path("first.csv").to_string_lossy(),
            ],
        );
        assert!(
            out.contains("9000 facts added, 0 superseded, 0 unchanged"),
            "{out}"
        );
        let second = dir.path("second.csv").to_string_lossy().into_owned();
        let dry = run(db, &["import", "facts-csv", "--dry-run", &second]);
        assert!(
            dry.contains("1000 facts added, 3000 superseded, 6000 unchanged"),
            "{dry}"
        );
        let out = run(db, &["import", "facts-csv", &second]);
        assert!(
            out.contains("1000 facts added, 3000 superseded, 6000 unchanged"),
            "{out}"
        );
        let out = run(db, &["import", "facts-csv", &second]);
        assert!(
            out.contains("0 facts added, 0 superseded, 10000 unchanged"),
            "{out}"
        );
        let store = crate::support::open_store(db);
        let facts = store
            .query_strings(
                "SELECT CAST(id AS TEXT) || ' ' || key || ' ' || subject || ' ' || COALESCE(CAST(supersedes AS TEXT), '-')
                 || ' ' || content_hash || ' ' || payload FROM facts WHERE key LIKE 'bulk:%' ORDER BY id",
            )
            .unwrap();
        let citations = store
            .query_strings(
                "SELECT CAST(c.fact_id AS TEXT) || ' ' || CAST(c.position AS TEXT) || ' ' || c.source_key || ' ' || c.locator
                 FROM citations c JOIN facts f ON f.id = c.fact_id WHERE f.key LIKE 'bulk:%' ORDER BY c.fact_id, c.position",
            )
            .unwrap();
        assert_eq!(facts.len(), 13_000);
        assert_eq!(citations.len(), 13_000);
        dumps.push((facts, citations));
    }
    let (pg_facts, pg_citations) = dumps.pop().unwrap();
    let (sq_facts, sq_citations) = dumps.pop().unwrap();
    let differs = sq_facts.iter().zip(&pg_facts).find(|(a, b)| a != b);
    assert!(
        differs.is_none(),
        "SQLite and PostgreSQL differ: {differs:?}"
    );
    assert_eq!(sq_citations, pg_citations);
    // A revised fact supersedes its first version; the current one of bulk:0 says "revised".
    let revised = pg_facts
        .iter()
        .find(|f| f.contains(" bulk:0 ") && !f.contains(" - "))
        .expect("bulk:0 superseded");
    assert!(revised.contains("revised"), "{revised}");
}
