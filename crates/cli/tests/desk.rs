//! The editorial desk and notifications, end to end on the real server with a real SMTP sink:
//! subscribe (double opt-in), propose a correction, approve it with a second editor, and the
//! subscriber receives one message saying what changed. Then the reliability tests: SIGKILL in
//! the middle of an approval and of a delivery, and a relay that is down for a while.

use crate::smtp::{Received, Sink};
use crate::support::*;
use serde_json::Value;
use std::time::Duration;

const PW_A: &str = "alice-password-123";
const PW_B: &str = "bob-password-4567";

/// A database with two editors (and the shipped data, loaded by `serve`).
fn desk_db() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new();
    let db = dir.path("desk.sqlite");
    add_user(&db, "alice", "editor", PW_A);
    add_user(&db, "bob", "editor", PW_B);
    (dir, db)
}

/// A free local port (nothing listens on it once this returns).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `minewatch outbox --json`: counts and dead letters.
fn outbox(db: &std::path::Path) -> Value {
    let (ok, out, err) = minewatch(db, &["outbox", "--json"]);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// The first 64-hex token after `marker` in a message body.
fn token_after(body: &str, marker: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {body}"))
        + marker.len();
    body[at..at + 64].to_string()
}

/// Subscribes `email` to `scope` and confirms through the link in the confirmation message.
fn subscribe_confirmed(server: &Server, sink: &Sink, email: &str, scope: &str, already: usize) {
    subscribe_confirmed_with(server, sink, email, scope, "immediate", already)
}

/// [`subscribe_confirmed`] with a cadence: immediate, daily or weekly.
fn subscribe_confirmed_with(
    server: &Server,
    sink: &Sink,
    email: &str,
    scope: &str,
    cadence: &str,
    already: usize,
) {
    let mut reader = Client::new(&server.base);
    let page = reader.get(&format!("/subscribe?state={scope}"));
    assert_eq!(page.status, 200);
    let r = reader.post_form(
        "/subscribe",
        &[
            ("csrf", &page.csrf()),
            ("email", email),
            ("scope", scope),
            ("cadence", cadence),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Check your inbox"));
    let got = sink.wait_for(already + 1, 20);
    let confirm = got
        .iter()
        .find(|m| m.to == [email] && m.header("Subject").unwrap_or_default().contains("confirm"))
        .unwrap_or_else(|| panic!("no confirmation message for {email}: {got:?}"));
    let token = token_after(&confirm.body(), "/subscribe/confirm?token=");
    // The link opens a page with one button (a GET confirms nothing); the button confirms.
    let page = reader.get(&format!("/subscribe/confirm?token={token}"));
    assert_eq!(page.status, 200);
    let r = reader.post_form("/subscribe/confirm", &[("token", &token)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Subscribed"));
}

/// The current 2002 stockpile count of one US mine type: (fact id, its JSON).
fn a_stockpile_fact(server: &Server) -> (i64, Value) {
    let (status, v) = server.get("/api/v1/states/USA/facts?kind=stockpile_count");
    assert_eq!(status, 200);
    let f = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["payload"]["quantity"].as_u64().is_some_and(|q| q > 1000))
        .expect("a US stockpile count")
        .clone();
    (f["id"].as_i64().unwrap(), f)
}

/// Alice proposes a new quantity for a stockpile fact; returns the proposal's page path.
fn propose_correction(alice: &mut Client, fact: &Value, quantity: &str) -> String {
    let id = fact["id"].as_i64().unwrap();
    let form = alice.get(&format!("/desk/facts/{id}/correct"));
    assert_eq!(form.status, 200, "{}", form.body);
    let sources: Vec<String> = fact["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| match s["locator"].as_str() {
            Some(l) => format!("{}#{l}", s["key"].as_str().unwrap()),
            None => s["key"].as_str().unwrap().to_string(),
        })
        .collect();
    let r = alice.post_form(
        "/desk/proposals",
        &[
            ("csrf", &form.csrf()),
            ("action", "correct"),
            ("kind", "stockpile_count"),
            ("target", &id.to_string()),
            ("valid_from", fact["valid_from"].as_str().unwrap_or("")),
            ("mine_type", fact["payload"]["mine_type"].as_str().unwrap()),
            ("measure", fact["payload"]["measure"].as_str().unwrap()),
            ("quantity", quantity),
            ("sources", &sources.join("; ")),
            ("review_note", "transcription error"),
        ],
    );
    assert_eq!(r.status, 303, "proposal refused: {}", r.body);
    r.header("location").unwrap().to_string()
}

fn approve(bob: &mut Client, proposal: &str) -> Resp {
    let page = bob.get(proposal);
    assert_eq!(page.status, 200);
    bob.post_form(&format!("{proposal}/approve"), &[("csrf", &page.csrf())])
}

/// A count as the pages and messages show it (1,234,567). Written here on purpose rather than
/// borrowed from the web crate: the test checks that formatter, it must not share it.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn notifications_to(sink: &Sink, email: &str) -> Vec<Received> {
    sink.received()
        .into_iter()
        .filter(|m| m.to == [email] && !m.header("Subject").unwrap_or_default().contains("confirm"))
        .collect()
}

#[test]
fn subscriber_is_told_once_about_an_approved_correction() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    subscribe_confirmed(&server, &sink, "reader@example.org", "USA", 0);

    let (old_id, fact) = a_stockpile_fact(&server);
    let old_q = fact["payload"]["quantity"].as_u64().unwrap();
    let new_q = old_q + 17;
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let proposal = propose_correction(&mut alice, &fact, &new_q.to_string());

    // Four eyes: the author cannot publish; nothing changed, nobody was told.
    let own = approve(&mut alice, &proposal);
    assert_eq!(own.status, 403, "{}", own.body);
    let (_, now) = server.get(&format!("/api/v1/facts/{old_id}"));
    assert!(now["superseded_by"].is_null());

    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    let r = approve(&mut bob, &proposal);
    assert_eq!(r.status, 303, "{}", r.body);

    // One message, saying what changed, with links to the profile before and after.
    let mut msgs = Vec::new();
    for _ in 0..200 {
        msgs = notifications_to(&sink, "reader@example.org");
        if !msgs.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let m = &msgs[0];
    let subject = m.header("Subject").unwrap();
    assert!(subject.contains("United States"), "{subject}");
    let body = m.body();
    assert!(body.contains("Corrected:"), "{body}");
    assert!(
        body.contains(&thousands(old_q)),
        "old figure missing: {body}"
    );
    assert!(
        body.contains(&thousands(new_q)),
        "new figure missing: {body}"
    );
    let before = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("Profile before the change: "))
        .unwrap_or_else(|| panic!("no before link: {body}"))
        .to_string();
    let after = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("Profile after the change:"))
        .unwrap()
        .trim()
        .to_string();
    assert!(before.starts_with("http://minewatch.test/states/USA?record="));
    assert!(body.contains("http://minewatch.test/unsubscribe?token="));
    assert!(m
        .header("List-Unsubscribe")
        .unwrap()
        .contains("/unsubscribe?token="));
    assert!(m.header("Message-ID").is_some());
    assert_eq!(
        m.from, "minewatch@localhost",
        "the envelope sender is --mail-from"
    );

    // The links show the profile before and after.
    let path = |u: &str| u.trim_start_matches("http://minewatch.test").to_string();
    let (s1, _, before_page) = server.get_text(&path(&before));
    let (s2, _, after_page) = server.get_text(&path(&after));
    assert_eq!((s1, s2), (200, 200));
    assert!(before_page.contains(&thousands(old_q)) && !before_page.contains(&thousands(new_q)));
    assert!(after_page.contains(&thousands(new_q)));

    // The fact page shows the history: who proposed, who approved, what it superseded.
    let (_, old) = server.get(&format!("/api/v1/facts/{old_id}"));
    let new_id = old["superseded_by"].as_i64().expect("superseded");
    let (status, _, page) = server.get_text(&format!("/facts/{new_id}"));
    assert_eq!(status, 200);
    assert!(page.contains("proposed by alice"), "{page}");
    assert!(page.contains("approved by bob"), "{page}");
    assert!(page.contains(&format!(r#"<a href="/facts/{old_id}">{old_id}</a>"#)));

    // No second copy arrives later.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(notifications_to(&sink, "reader@example.org").len(), 1);

    // One click unsubscribes (RFC 8058: the mail client posts to the List-Unsubscribe URL);
    // the next change is not sent.
    let header = m.header("List-Unsubscribe").unwrap();
    let url = header
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .trim_start_matches("http://minewatch.test");
    assert!(url.starts_with("/unsubscribe?token="), "{header}");
    let mut reader = Client::new(&server.base);
    let r = reader.post_form(url, &[("List-Unsubscribe", "One-Click")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Unsubscribed"), "{}", r.body);
    let (_, fact2) = a_stockpile_fact(&server);
    let p2 = propose_correction(&mut alice, &fact2, "12345");
    assert_eq!(approve(&mut bob, &p2).status, 303);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(notifications_to(&sink, "reader@example.org").len(), 1);
    // Unsubscribing erased the address, and the mail written to it, from the database.
    let store = crate::support::open_store(&db);
    let kept: i64 = store
        .query_strings(
            "SELECT (SELECT COUNT(*) FROM subscribers WHERE email LIKE '%reader@example.org%')
                  + (SELECT COUNT(*) FROM outbox WHERE message LIKE '%reader@example.org%')",
        )
        .unwrap()[0]
        .parse()
        .unwrap();
    assert_eq!(kept, 0, "the address outlived its subscription");
}

/// Pending rows of one subscriber in the outbox: (id, due_at).
fn pending_for(db: &std::path::Path, email: &str) -> Vec<(i64, i64)> {
    let store = crate::support::open_store(db);
    // Two columns in one: "id due_at" (the test addresses are plain, so no quoting is needed).
    assert!(!email.contains('\''));
    store
        .query_strings(&format!(
            "SELECT CAST(o.id AS TEXT) || ' ' || CAST(o.due_at AS TEXT) FROM outbox o
             JOIN subscribers s ON s.id = o.subscriber
             WHERE s.email = '{email}' AND o.status = 'pending' ORDER BY o.id"
        ))
        .unwrap()
        .iter()
        .map(|row| {
            let (id, due) = row.split_once(' ').unwrap();
            (id.parse().unwrap(), due.parse().unwrap())
        })
        .collect()
}

#[test]
fn a_daily_digest_gathers_the_changes_of_the_day_into_one_message() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    subscribe_confirmed_with(&server, &sink, "daily@example.org", "USA", "daily", 0);
    subscribe_confirmed(&server, &sink, "now@example.org", "USA", 1);

    // Two corrections of two different facts, both approved.
    let (status, v) = server.get("/api/v1/states/USA/facts?kind=stockpile_count");
    assert_eq!(status, 200);
    let facts: Vec<Value> = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["payload"]["quantity"].as_u64().is_some_and(|q| q > 1000))
        .take(2)
        .cloned()
        .collect();
    assert_eq!(facts.len(), 2, "two US stockpile counts");
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    let mut figures = Vec::new();
    for (i, f) in facts.iter().enumerate() {
        let q = f["payload"]["quantity"].as_u64().unwrap() + 1000 + i as u64;
        let p = propose_correction(&mut alice, f, &q.to_string());
        assert_eq!(approve(&mut bob, &p).status, 303);
        figures.push(q);
    }

    // The immediate subscriber hears of each at once; the digest waits for 06:00 UTC.
    let got = sink.wait_for(2 + 2, 30);
    let now = notifications_to(&sink, "now@example.org");
    assert_eq!(now.len(), 2, "{got:?}");
    std::thread::sleep(Duration::from_millis(800));
    assert!(notifications_to(&sink, "daily@example.org").is_empty());
    let waiting = pending_for(&db, "daily@example.org");
    assert_eq!(waiting.len(), 2, "one row per change: {waiting:?}");
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (_, due) in &waiting {
        assert_eq!(due % 86_400, 6 * 3600, "a daily digest is due at 06:00 UTC");
        assert!(*due > started - 60 && *due <= started + 86_400, "{due}");
    }

    // 06:00 comes (the rows are made due now): one message tells both changes.
    let store = crate::support::open_store(&db);
    for (id, _) in &waiting {
        store
            .execute_sql(&format!("UPDATE outbox SET due_at = 0 WHERE id = {id}"))
            .unwrap();
    }
    let got = sink.wait_for(2 + 2 + 1, 30);
    let daily = notifications_to(&sink, "daily@example.org");
    assert_eq!(daily.len(), 1, "{got:?}");
    let body = daily[0].body();
    for q in &figures {
        let shown = thousands(*q);
        assert!(
            body.contains(&shown),
            "{shown} missing from the digest: {body}"
        );
    }
    assert_eq!(body.matches("Corrected:").count(), 2, "{body}");
    assert!(body.contains("/unsubscribe?token="));
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(notifications_to(&sink, "daily@example.org").len(), 1);
    assert!(pending_for(&db, "daily@example.org").is_empty());
}

/// The proposal counts: (pending, approved) from the API with a bearer token.
fn proposal_statuses(server: &Server, token: &str) -> Vec<String> {
    let r = ureq::get(&format!("{}/api/v1/proposals", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let v: Value = r.into_json().unwrap();
    v["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn killed_in_the_middle_of_an_approval_loses_and_duplicates_nothing() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let (_, token, _) = minewatch(&db, &["user", "token", "alice"]);
    let token = token.trim().to_string();
    // A server that stops inside the publishing transaction, after the facts, events and outbox
    // rows are written and before the commit.
    let server = serve_with_smtp(
        &db,
        &sink.url(),
        &[("MINEWATCH_FAILPOINT", "approve-before-commit")],
    );
    subscribe_confirmed(&server, &sink, "watcher@example.org", "USA", 0);
    let (old_id, fact) = a_stockpile_fact(&server);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let proposal = propose_correction(&mut alice, &fact, "4242");
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    let page = bob.get(&proposal);
    let csrf = page.csrf();
    let base = server.base.clone();
    let cookies = bob.cookies.clone();
    let path = format!("{proposal}/approve");
    let pending = std::thread::spawn(move || {
        let mut c = Client::new(&base);
        c.cookies = cookies;
        let url = format!("{}{path}", c.base);
        // The server dies before answering.
        ureq::post(&url)
            .set(
                "Cookie",
                &format!("mw_session={}", c.cookie("mw_session").unwrap()),
            )
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&format!("csrf={csrf}"))
            .is_err()
    });
    assert!(server.wait_for_log("failpoint approve-before-commit reached", 30));
    server.kill9();
    assert!(
        pending.join().unwrap(),
        "the approval should not have been answered"
    );

    assert_eq!(integrity(&db), "ok");
    // After a restart: nothing half-done is visible. The proposal is still pending, the fact
    // is not superseded, and nobody was told.
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    assert_eq!(proposal_statuses(&server, &token), ["pending"]);
    let (_, old) = server.get(&format!("/api/v1/facts/{old_id}"));
    assert!(old["superseded_by"].is_null(), "{old}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(notifications_to(&sink, "watcher@example.org").is_empty());

    // Approving again publishes once and notifies once.
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    assert_eq!(approve(&mut bob, &proposal).status, 303);
    let (_, old) = server.get(&format!("/api/v1/facts/{old_id}"));
    assert!(old["superseded_by"].is_i64());
    assert_eq!(proposal_statuses(&server, &token), ["approved"]);
    let msgs = {
        let mut m = Vec::new();
        for _ in 0..200 {
            m = notifications_to(&sink, "watcher@example.org");
            if !m.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        m
    };
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].body().contains("4,242"));
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(notifications_to(&sink, "watcher@example.org").len(), 1);
}

#[test]
fn killed_in_the_middle_of_a_delivery_sends_once_after_restart() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    subscribe_confirmed(&server, &sink, "one@example.org", "*", 0);
    subscribe_confirmed(&server, &sink, "two@example.org", "USA", 1);
    let (_, fact) = a_stockpile_fact(&server);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let proposal = propose_correction(&mut alice, &fact, "777");
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);

    // The relay holds the first notification before accepting it; the server is killed then.
    sink.hold.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(approve(&mut bob, &proposal).status, 303);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !sink.holding.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(std::time::Instant::now() < deadline, "no delivery started");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill9();
    assert_eq!(integrity(&db), "ok");
    sink.hold.store(false, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        notifications_to(&sink, "one@example.org").len()
            + notifications_to(&sink, "two@example.org").len(),
        0,
        "a message whose sender died before the relay's answer is not delivered"
    );

    // After a restart both subscribers get exactly one message each.
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while (notifications_to(&sink, "one@example.org").is_empty()
        || notifications_to(&sink, "two@example.org").is_empty())
        && std::time::Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let one = notifications_to(&sink, "one@example.org");
    let two = notifications_to(&sink, "two@example.org");
    assert_eq!((one.len(), two.len()), (1, 1), "{one:?} {two:?}");
    assert!(one[0].body().contains("777") && two[0].body().contains("777"));
    let v = outbox(&server.db());
    assert_eq!(v["counts"]["pending"], 0, "{v}");
    assert_eq!(v["counts"]["dead"], 0, "{v}");
}

#[test]
fn messages_wait_while_the_relay_is_down_and_go_out_when_it_returns() {
    // A free port, left closed: the relay is down.
    let port = free_port();
    let (_dir, db) = desk_db();
    let server = serve_with_smtp(&db, &format!("smtp://127.0.0.1:{port}"), &[]);
    let mut reader = Client::new(&server.base);
    let page = reader.get("/subscribe?state=USA");
    let r = reader.post_form(
        "/subscribe",
        &[
            ("csrf", &page.csrf()),
            ("email", "patient@example.org"),
            ("scope", "USA"),
            ("cadence", "immediate"),
        ],
    );
    assert_eq!(r.status, 200);
    // Attempts fail and are counted; nothing is lost or given up on yet.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v = outbox(&server.db());
        if v["counts"]["pending"] == 1 && server.wait_for_log("delivery failed", 0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed attempt recorded: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The relay comes back on the same port: the message goes out, once.
    let sink = Sink::start_on(port).unwrap();
    let got = sink.wait_for(1, 30);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, ["patient@example.org"]);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(sink.received().len(), 1);
}

#[test]
fn webhooks_are_signed_and_carry_an_idempotency_key() {
    use std::io::{BufRead, BufReader, Read, Write};
    // A real HTTP receiver on a socket: records the first request.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let received = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut r = BufReader::new(stream.try_clone().unwrap());
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            headers.push(line.trim_end().to_string());
        }
        let len: usize = headers
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap();
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let mut w = stream;
        w.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        (headers, String::from_utf8(body).unwrap())
    });
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let (ok, out, err) = minewatch(&db, &["webhook", "add", &url, "--scope", "USA"]);
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown once): "))
        .unwrap()
        .to_string();
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    let (_, fact) = a_stockpile_fact(&server);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let proposal = propose_correction(&mut alice, &fact, "31337");
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    assert_eq!(approve(&mut bob, &proposal).status, 303);
    let (headers, body) = received.join().unwrap();
    let header = |n: &str| {
        headers
            .iter()
            .find_map(|h| {
                h.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {n} in {headers:?}"))
    };
    let sig = header("X-Minewatch-Signature");
    let (t, v1) = sig.split_once(",v1=").unwrap();
    let t: i64 = t.trim_start_matches("t=").parse().unwrap();
    assert_eq!(
        v1,
        minewatch_notify::webhook_signature(&secret, t, &body)
            .split(",v1=")
            .nth(1)
            .unwrap()
    );
    assert_ne!(
        v1,
        minewatch_notify::webhook_signature("wrong secret", t, &body)
            .split(",v1=")
            .nth(1)
            .unwrap()
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["subject"], "USA");
    assert_eq!(v["changes"][0]["action"], "corrected");
    assert!(v["profile_before"]
        .as_str()
        .unwrap()
        .contains("/states/USA?record="));
    assert_eq!(
        header("Idempotency-Key"),
        v["idempotency_key"].as_str().unwrap()
    );
}

const PW_ROOT: &str = "root-password-8901";

/// Sends feedback with one attachment through the public form: the response.
fn send_feedback(server: &Server, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Resp {
    let mut reader = Client::new(&server.base);
    let page = reader.get("/feedback?state=USA&page=/states/USA");
    assert_eq!(page.status, 200);
    let csrf = page.csrf();
    let mut all: Vec<(&str, &str)> =
        vec![("csrf", &csrf), ("state", "USA"), ("page", "/states/USA")];
    all.extend_from_slice(fields);
    let files: Vec<(&str, &str, &[u8])> =
        file.map(|(n, d)| vec![("files", n, d)]).unwrap_or_default();
    reader.post_multipart("/feedback", &all, &files)
}

#[test]
fn feedback_reaches_the_admin_inbox_and_is_answered_by_email() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    add_user(&db, "root", "admin", PW_ROOT);
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    let pdf = b"%PDF-1.4\n% a tiny test document\n";
    let r = send_feedback(
        &server,
        &[
            ("message", "Footnote 3 cites the wrong page."),
            ("name", "Ada Reader"),
            ("email", "ada@example.org"),
        ],
        Some(("evidence.pdf", pdf)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Thank you"));
    // A robot fills the honeypot: thanked, nothing kept.
    let r = send_feedback(
        &server,
        &[("message", "buy now"), ("website", "http://spam.example")],
        None,
    );
    assert_eq!(r.status, 200);
    // An executable is refused, whatever its name says.
    let r = send_feedback(
        &server,
        &[("message", "see file")],
        Some(("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00")),
    );
    assert_eq!(r.status, 415, "{}", r.body);

    // Only an admin reads it.
    let mut editor = Client::new(&server.base);
    editor.login("alice", PW_A);
    assert_eq!(editor.get("/admin").status, 403);
    let mut root = Client::new(&server.base);
    root.login("root", PW_ROOT);
    let inbox = root.get("/admin");
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains("Footnote 3 cites the wrong page."));
    assert!(
        !inbox.body.contains("buy now"),
        "the honeypot message was kept"
    );
    let at = inbox.body.find("/admin/feedback/").unwrap() + "/admin/feedback/".len();
    let id: String = inbox.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let item = root.get(&format!("/admin/feedback/{id}"));
    assert!(item.body.contains("Ada Reader") && item.body.contains("ada@example.org"));
    let at = item.body.find("/admin/attachments/").unwrap() + "/admin/attachments/".len();
    let aid: String = item.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let file = root.get(&format!("/admin/attachments/{aid}"));
    assert_eq!(file.status, 200);
    assert_eq!(file.body.as_bytes(), pdf);
    assert!(file
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(
        Client::new(&server.base)
            .get(&format!("/admin/attachments/{aid}"))
            .status,
        401
    );
    assert_eq!(editor.get(&format!("/admin/attachments/{aid}")).status, 403);

    // The answer goes out by e-mail, quoting the message.
    let r = root.post_form(
        &format!("/admin/feedback/{id}/answer"),
        &[
            ("csrf", &item.csrf()),
            ("answer", "Thank you: corrected in the next edition."),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let got = sink.wait_for(1, 20);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["ada@example.org"]);
    let body = got[0].body();
    assert!(body.contains("corrected in the next edition") && body.contains("> Footnote 3"));
    let item = root.get(&format!("/admin/feedback/{id}"));
    assert!(item.body.contains("answered"));

    // Five messages an hour from one address; the sixth waits.
    for i in 0..4 {
        assert_eq!(
            send_feedback(&server, &[("message", &format!("note {i}"))], None).status,
            200
        );
    }
    let r = send_feedback(&server, &[("message", "one too many")], None);
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());

    // On the sender's request the admin erases it: name, address, message, answer, attachment
    // and the mail written to it are gone from the database; the numbered row stays, closed.
    let r = root.post_form(
        &format!("/admin/feedback/{id}/erase"),
        &[("csrf", &item.csrf())],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let item = root.get(&format!("/admin/feedback/{id}"));
    assert_eq!(item.status, 200);
    assert!(item.body.contains("(erased)") && item.body.contains("closed"));
    assert_eq!(root.get(&format!("/admin/attachments/{aid}")).status, 404);
    let store = crate::support::open_store(&db);
    let left: i64 = store
        .query_strings(&format!(
            "SELECT (SELECT COUNT(*) FROM feedback WHERE id = {id} AND (name IS NOT NULL
                       OR email IS NOT NULL OR answer IS NOT NULL OR client <> ''
                       OR message LIKE '%Footnote 3%'))
                  + (SELECT COUNT(*) FROM attachments WHERE feedback = {id})
                  + (SELECT COUNT(*) FROM outbox WHERE message LIKE '%ada@example.org%')"
        ))
        .unwrap()[0]
        .parse()
        .unwrap();
    assert_eq!(left, 0, "personal data outlived its erasure");
    drop(store);
    let r = root.post_form("/admin/feedback/999999/erase", &[("csrf", &item.csrf())]);
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn imports_and_api_proposals_need_a_second_editor() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let token = |u: &str| minewatch(&db, &["user", "token", u]).1.trim().to_string();
    let (ta, tb) = (token("alice"), token("bob"));
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);

    // A bad file: every problem is shown with its line, nothing is proposed.
    let page = alice.get("/desk/import");
    let bad = b"key,title\nBad Key!,A title\nok-key,\n";
    let r = alice.post_multipart(
        "/desk/import",
        &[
            ("csrf", &page.csrf()),
            ("importer", "sources"),
            ("summary", "two sources"),
        ],
        &[("file", "sources.csv", bad)],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("sources.csv:2:") && r.body.contains("sources.csv:3:"),
        "each bad line is named with its file: {}",
        r.body
    );

    // A good one waits for a second editor.
    let good =
        b"key,title,publisher,published\ndesk-test-source,A source added from the desk,Test,2026\n";
    let r = alice.post_multipart(
        "/desk/import",
        &[
            ("csrf", &page.csrf()),
            ("importer", "sources"),
            ("summary", "one source"),
        ],
        &[("file", "sources.csv", good)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let proposal = r.header("location").unwrap().to_string();
    assert_eq!(server.get_text("/sources/desk-test-source").0, 404);
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    assert_eq!(approve(&mut bob, &proposal).status, 303);
    assert_eq!(server.get_text("/sources/desk-test-source").0, 200);

    // The API: bearer tokens only, and the same four eyes.
    let post = |path: &str, token: Option<&str>, body: &str| {
        let mut req =
            ureq::post(&format!("{}{path}", server.base)).set("Content-Type", "application/json");
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        match req.send_string(body) {
            Ok(r) => (r.status(), r.into_json::<Value>().unwrap()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_json::<Value>().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let doc = r#"{"summary": "a development", "document": {"facts": [{"subject": "USA", "kind": "development",
        "valid_from": "2026", "payload": {"topic": "ban_policy", "summary": "An API-proposed development."},
        "sources": ["desk-test-source"]}]}}"#;
    assert_eq!(post("/api/v1/proposals", None, doc).0, 401);
    let (status, v) = post("/api/v1/proposals", Some(&ta), doc);
    assert_eq!(status, 201, "{v}");
    let id = v["proposal"]["id"].as_i64().unwrap();
    assert_eq!(
        post(&format!("/api/v1/proposals/{id}/approve"), Some(&ta), "").0,
        403
    );
    let (status, v) = post(&format!("/api/v1/proposals/{id}/approve"), Some(&tb), "");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["proposal"]["status"], "approved");
    // The approval answers a summary; the document stays behind its link.
    assert_eq!(v["proposal"]["body"], Value::Null, "{v}");
    assert_eq!(
        v["proposal"]["document"],
        format!("/api/v1/proposals/{id}"),
        "{v}"
    );
    // Lists come in pages: two more proposals, one per page, the second page by `next`.
    for n in 0..2 {
        let doc = doc.replace("a development", &format!("development {n}"));
        assert_eq!(post("/api/v1/proposals", Some(&ta), &doc).0, 201);
    }
    let get = |path: &str| -> Value {
        ureq::get(&format!("{}{path}", server.base))
            .set("Authorization", &format!("Bearer {ta}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    };
    let first = get("/api/v1/proposals?limit=1");
    assert_eq!(first["count"], 1, "{first}");
    let next = first["next"].as_str().unwrap().to_string();
    let second = get(&next);
    assert_eq!(second["count"], 1, "{second}");
    assert!(
        second["proposals"][0]["id"].as_i64() < first["proposals"][0]["id"].as_i64(),
        "{first} {second}"
    );
    let all = get("/api/v1/proposals?limit=200");
    assert!(all["count"].as_u64().unwrap() >= 3, "{all}");
    assert_eq!(all["next"], Value::Null);
    let (_, facts) = server.get("/api/v1/states/USA/facts?kind=development");
    assert!(facts.to_string().contains("An API-proposed development."));
    // A bad document is refused with its problems, by the same importer.
    let (status, v) = post(
        "/api/v1/proposals",
        Some(&ta),
        r#"{"summary": "x", "document": {"facts": [{"subject": "Atlantis", "kind": "development", "payload": {}, "sources": ["nope"]}]}}"#,
    );
    assert_eq!(status, 422, "{v}");
    assert!(v["error"]["problems"].as_array().unwrap().len() >= 2, "{v}");
}

#[test]
fn personal_data_never_reaches_a_public_page_feed_or_export() {
    let sink = Sink::start();
    let (dir, db) = desk_db();
    add_user(&db, "root", "admin", PW_ROOT);
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    let markers = [
        "privacy-subscriber@example.org",
        "privacy-feedback@example.org",
        "Privacy Namemarker",
        "PRIVACY-MESSAGE-MARKER",
        "privacy-attachment-marker",
        "PRIVACY-ATTACHMENT-CONTENT",
        "PRIVACY-ANSWER-MARKER",
    ];
    subscribe_confirmed(&server, &sink, markers[0], "USA", 0);
    let r = send_feedback(
        &server,
        &[
            ("message", markers[3]),
            ("name", markers[2]),
            ("email", markers[1]),
        ],
        Some(("privacy-attachment-marker.txt", markers[5].as_bytes())),
    );
    assert_eq!(r.status, 200);
    let mut root = Client::new(&server.base);
    root.login("root", PW_ROOT);
    let inbox = root.get("/admin");
    let at = inbox.body.find("/admin/feedback/").unwrap() + "/admin/feedback/".len();
    let id: String = inbox.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let item = root.get(&format!("/admin/feedback/{id}"));
    root.post_form(
        &format!("/admin/feedback/{id}/answer"),
        &[("csrf", &item.csrf()), ("answer", markers[6])],
    );
    // A published change, so that feeds and the desk have events.
    let (_, fact) = a_stockpile_fact(&server);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let p = propose_correction(&mut alice, &fact, "2024");
    assert_eq!(approve(&mut root, &p).status, 303);
    sink.wait_for(3, 20);

    let check = |what: &str, text: &str| {
        for m in markers {
            assert!(!text.contains(m), "{what} shows personal data {m:?}");
        }
    };
    // Every GET route of the router, read from its source so that a new one is covered too.
    let src = include_str!("../../server/src/lib.rs");
    let (_, sources) = server.get("/api/v1/sources");
    let key = sources["sources"][0]["key"].as_str().unwrap().to_string();
    let (_, pols) = server.get("/api/v1/policies");
    let pol = |i: usize| {
        pols["policies"][i]["policy_id"]
            .as_str()
            .unwrap_or("x")
            .to_string()
    };
    let fact_id = fact["id"].as_i64().unwrap().to_string();
    let mut paths = Vec::new();
    for part in src.split(".route(\"").skip(1) {
        let path = &part[..part.find('"').unwrap()];
        let path = path
            .replace("{code}", "USA")
            .replace("{key}", &key)
            .replace("{session}", "64")
            .replace("{number}", "56")
            .replace("{a}", &pol(0))
            .replace("{b}", &pol(1))
            .replace("{id}", &fact_id)
            .replace("{what}", "correct")
            .replace("{decision}", "approve");
        paths.push(path.clone());
        for twin in [".json", ".csv"] {
            if path.starts_with("/states/") || path == "/states" {
                paths.push(format!("{path}{twin}"));
            }
        }
    }
    paths.extend(
        [
            "/search?q=example.org",
            "/search?q=PRIVACY",
            "/search?q=Namemarker",
            "/feed.atom",
            "/states/USA/feed.atom",
        ]
        .map(String::from),
    );
    assert!(paths.len() > 40, "{paths:?}");
    let mut anon = Client::new(&server.base);
    for p in &paths {
        let r = anon.get(p);
        assert!(r.status < 500, "{p}: {}", r.status);
        check(p, &r.body);
        let (_, _, json) = server.get_text_with(p, "application/json");
        check(p, &json);
    }
    // Every export format.
    let (ok, json, err) = minewatch(&db, &["export", "--format", "json"]);
    assert!(ok, "{err}");
    check("export --format json", &json);
    let csv_dir = dir.path("csv");
    let (ok, _, err) = minewatch(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            csv_dir.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let site = dir.path("site");
    let (ok, _, err) = minewatch(&db, &["export", "--site", site.to_str().unwrap()]);
    assert!(ok, "{err}");
    let mut files = 0;
    let mut stack = vec![csv_dir, site];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                check(
                    &p.display().to_string(),
                    &String::from_utf8_lossy(&std::fs::read(&p).unwrap()),
                );
            }
        }
    }
    assert!(files > 500, "{files} files exported");
}

#[test]
fn undeliverable_messages_become_dead_letters_that_an_admin_can_retry() {
    let port = free_port();
    let (_dir, db) = desk_db();
    add_user(&db, "root", "admin", PW_ROOT);
    let smtp = format!("smtp://127.0.0.1:{port}");
    let server = Server::start_on(
        &db,
        &[
            "--smtp",
            &smtp,
            "--outbox-poll-ms",
            "100",
            "--retry-base-ms",
            "200",
            "--max-attempts",
            "2",
        ],
        &[],
    );
    let mut reader = Client::new(&server.base);
    let page = reader.get("/subscribe?state=USA");
    let r = reader.post_form(
        "/subscribe",
        &[
            ("csrf", &page.csrf()),
            ("email", "later@example.org"),
            ("scope", "USA"),
            ("cadence", "daily"),
        ],
    );
    assert_eq!(r.status, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let v = outbox(&db);
        if v["counts"]["dead"] == 1 {
            assert_eq!(v["dead"][0]["attempts"], 2, "{v}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never gave up: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut root = Client::new(&server.base);
    root.login("root", PW_ROOT);
    let admin = root.get("/admin");
    assert!(
        admin.body.contains("Dead letters") && admin.body.contains("confirm-s1"),
        "{}",
        admin.body
    );
    assert!(
        !admin.body.contains("later@example.org"),
        "addresses are not listed"
    );
    let at = admin.body.find("/admin/outbox/").unwrap() + "/admin/outbox/".len();
    let id: String = admin.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    // The relay is back; the admin retries; it goes out.
    let sink = Sink::start_on(port).unwrap();
    let r = root.post_form(
        &format!("/admin/outbox/{id}/retry"),
        &[("csrf", &admin.csrf())],
    );
    assert_eq!(r.status, 303);
    let got = sink.wait_for(1, 20);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["later@example.org"]);
}

/// Four eyes only work if the second pair sees everything: a long import that quietly changes
/// an existing source at its end shows the change on the review page, in the document (whole,
/// not cut) and in the dry run's counts.
#[test]
fn a_reviewer_sees_everything_an_import_would_change() {
    let (_dir, db) = desk_db();
    let server = Server::start_on(&db, &[], &[]);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let mut csv = String::from("key,title,publisher,published,url,note\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "bulk-src-{i:04},Background report {i},Some NGO,2020,,a harmless row padded to make the file long\n"
        ));
    }
    csv.push_str("lm-2010-usa,United States: Mine Ban Policy,Landmine and Cluster Munition Monitor,2010-10-18,https://evil.example/phish,changed\n");
    let page = alice.get("/desk/import");
    let r = alice.post_multipart(
        "/desk/import",
        &[
            ("csrf", &page.csrf()),
            ("importer", "sources"),
            ("summary", "Add 300 NGO background reports"),
        ],
        &[("file", "sources.csv", csv.as_bytes())],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let proposal = r.header("location").unwrap().to_string();
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    let review = bob.get(&proposal);
    assert_eq!(review.status, 200);
    assert!(
        review.body.contains("https://evil.example/phish"),
        "the last row is hidden from the reviewer"
    );
    assert!(
        review
            .body
            .contains("Approving will write:</strong> 300 sources added, 1 source changed"),
        "the dry run's counts are missing: {}",
        &review.body[review.body.find("<h1>").unwrap_or(0)..][..2000.min(review.body.len())]
    );
}

/// Writes wait instead of failing: while a second editor approves a large import and readers
/// load the server, a login (which writes a session) is answered normally and a command-line
/// import waits its turn, saying so, instead of failing with "database is locked".
#[test]
fn a_login_and_a_cli_import_during_a_long_approval_under_load_are_answered() {
    let (_dir, db) = desk_db();
    add_user(&db, "carol", "editor", PW_A);
    let server = Server::start_on(&db, &[], &[]);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    // 40,000 stockpile counts: long enough (seconds) that what follows happens during it.
    let rows = 40_000;
    let mut csv = String::from("key,subject,kind,valid_from,valid_to,payload,sources,note\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "load:{i},USA,stockpile_count,{},,\"{{\"\"mine_type\"\":\"\"type {}\"\",\"\"measure\"\":\"\"remaining\"\",\"\"quantity\"\":{i}}}\",lm-2010-usa#row {i},\n",
            1999 + i % 27,
            i % 50
        ));
    }
    let page = alice.get("/desk/import");
    let r = alice.post_multipart(
        "/desk/import",
        &[
            ("csrf", &page.csrf()),
            ("importer", "facts-csv"),
            ("summary", "a large import"),
        ],
        &[("file", "facts.csv", csv.as_bytes())],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let proposal = r.header("location").unwrap().to_string();
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    let page = bob.get(&proposal);
    assert_eq!(page.status, 200);
    let csrf = page.csrf();

    // Readers: uncached status answers (a different date each time) from four threads.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|t| {
            let (base, stop) = (server.base.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut errors = Vec::new();
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let day = 1 + (n % 28);
                    let url = format!(
                        "{base}/api/v1/states/NOR/status?as_of=20{:02}-02-{day:02}",
                        10 + t
                    );
                    match ureq::get(&url).call() {
                        Ok(_) => {}
                        Err(e) => errors.push(e.to_string()),
                    }
                    n += 1;
                }
                (n, errors)
            })
        })
        .collect();

    let started = std::time::Instant::now();
    let approving = std::thread::spawn(move || {
        let r = bob.post_form(&format!("{proposal}/approve"), &[("csrf", &csrf)]);
        (r.status, r.body, std::time::Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let login_from = std::time::Instant::now();
    let mut carol = Client::new(&server.base);
    carol.login("carol", PW_A); // asserts 303 and a session cookie
    let login_took = login_from.elapsed();
    let dir = TempDir::new();
    let small = dir.file(
        "sources.csv",
        b"key,title,publisher,published\nwaits-its-turn,A source imported during an approval,Test,2026\n",
    );
    let (ok, out, err) = minewatch(&db, &["import", "sources", small.to_str().unwrap()]);
    let cli_done = std::time::Instant::now();
    let (status, body, approved_at) = approving.join().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut served = 0;
    for r in readers {
        let (n, errors) = r.join().unwrap();
        assert!(
            errors.is_empty(),
            "readers failed during the approval: {errors:?}"
        );
        served += n;
    }
    assert_eq!(status, 303, "approval: {body}");
    assert!(
        approved_at > login_from,
        "the approval ended ({:?}) before the login began: the test proved nothing",
        approved_at - started
    );
    assert!(ok, "the CLI import failed during the approval: {out} {err}");
    if cli_done > approved_at && err.contains("waiting") {
        // It waited its turn and said so.
        assert!(err.contains("another process is writing"), "{err}");
    }
    assert!(served > 0, "no read was answered during the approval");
    assert!(
        login_took < Duration::from_secs(60),
        "login took {login_took:?}"
    );
    let (n, v) = server.get("/api/v1/states/USA/facts?kind=stockpile_count&limit=1");
    assert_eq!(n, 200, "{v}");
    assert_eq!(server.get_text("/sources/waits-its-turn").0, 200);
    eprintln!(
        "approval {:?}, login {login_took:?}, {served} reads during it",
        approved_at - started
    );
}

/// SIGKILL of a command-line import inside its transaction (after every row is written, before
/// the commit): the record is as before, SQLite finds nothing wrong, and the same import then
/// succeeds once.
#[test]
fn killed_in_the_middle_of_a_cli_import_writes_nothing() {
    let dir = TempDir::new();
    let db = dir.path("import.sqlite");
    let (ok, _, err) = minewatch(&db, &["load"]);
    assert!(ok, "{err}");
    let before = facts_in(&db);
    let mut csv = String::from("key,subject,kind,valid_from,valid_to,payload,sources,note\n");
    for i in 0..2_000 {
        csv.push_str(&format!(
            "crash:{i},NOR,stockpile_count,2001,,\"{{\"\"mine_type\"\":\"\"t\"\",\"\"measure\"\":\"\"remaining\"\",\"\"quantity\"\":{i}}}\",lm-2010-usa,\n"
        ));
    }
    let file = dir.file("facts.csv", csv.as_bytes());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minewatch"));
    cmd.arg("--db")
        .arg(crate::support::db_arg(&db))
        .args(["import", "facts-csv"])
        .arg(&file)
        .env("MINEWATCH_FAILPOINT", "import-before-commit")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let stderr = child.stderr.take().unwrap();
    let reached = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map_while(Result::ok)
        .any(|l| l.contains("failpoint import-before-commit reached"));
    assert!(reached, "the import never reached its commit");
    child.kill();
    assert_eq!(integrity(&db), "ok");
    assert_eq!(facts_in(&db), before, "a killed import left facts behind");
    let (ok, _, err) = minewatch(&db, &["import", "facts-csv", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(facts_in(&db), before + 2_000);
    let (ok, _, err) = minewatch(&db, &["import", "facts-csv", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(
        facts_in(&db),
        before + 2_000,
        "a second run added facts again"
    );
}

fn facts_in(db: &std::path::Path) -> i64 {
    crate::support::open_store(db).fact_count().unwrap()
}

/// SIGKILL after the relay accepted a message and before the outbox recorded it: on restart the
/// message goes out again, and it is recognisably the same one (the same Message-ID), which is
/// what at-least-once delivery promises; the database stays whole.
#[test]
fn killed_after_the_relay_accepted_resends_with_the_same_message_id() {
    let sink = Sink::start();
    let (_dir, db) = desk_db();
    let server = serve_with_smtp(&db, &sink.url(), &[]);
    subscribe_confirmed(&server, &sink, "once@example.org", "USA", 0);
    let (_, fact) = a_stockpile_fact(&server);
    let mut alice = Client::new(&server.base);
    alice.login("alice", PW_A);
    let proposal = propose_correction(&mut alice, &fact, "31337");
    drop(server);
    // Restarted with the failpoint only now, so that the confirmation e-mail passed it.
    let server = serve_with_smtp(
        &db,
        &sink.url(),
        &[("MINEWATCH_FAILPOINT", "outbox-after-send")],
    );
    let mut bob = Client::new(&server.base);
    bob.login("bob", PW_B);
    assert_eq!(approve(&mut bob, &proposal).status, 303);
    assert!(server.wait_for_log("failpoint outbox-after-send reached", 30));
    server.kill9();
    assert_eq!(integrity(&db), "ok");
    let first = notifications_to(&sink, "once@example.org");
    assert_eq!(first.len(), 1, "the relay accepted it before the kill");

    let server = serve_with_smtp(&db, &sink.url(), &[]);
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while notifications_to(&sink, "once@example.org").len() < 2 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(800));
    let all = notifications_to(&sink, "once@example.org");
    assert_eq!(all.len(), 2, "sent again once, not more: {all:?}");
    let id = |r: &Received| r.header("Message-ID").expect("a Message-ID");
    assert_eq!(
        id(&all[0]),
        id(&all[1]),
        "the resent message is the same message"
    );
    let v = outbox(&server.db());
    assert_eq!(v["counts"]["pending"], 0, "{v}");
}

/// A command-line import while another process holds the database's write lock waits its turn
/// and says so, instead of failing with "database is locked"; it then imports.
#[test]
fn a_cli_import_waits_for_another_writer_and_says_so() {
    let dir = TempDir::new();
    let db = dir.path("locked.sqlite");
    let (ok, _, err) = minewatch(&db, &["load"]);
    assert!(ok, "{err}");
    let file = dir.file(
        "sources.csv",
        b"key,title,publisher,published\nwaited-source,A source that waited,Test,2026\n",
    );
    let store = crate::support::open_store(&db);
    let holder = store.connection().expect("an SQLite store");
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minewatch"));
    cmd.arg("--db")
        .arg(&db)
        .args(["import", "sources"])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = ChildGuard::spawn(&mut cmd).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    holder.execute_batch("COMMIT").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("another process is writing to the database; waiting"),
        "{err}"
    );
    let n: i64 = holder
        .query_row(
            "SELECT count(*) FROM sources WHERE key = 'waited-source'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}
