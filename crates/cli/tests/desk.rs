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

fn serve(db: &std::path::Path, smtp: &str, env: &[(&str, &str)]) -> Server {
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
    let mut reader = Client::new(&server.base);
    let page = reader.get(&format!("/subscribe?state={scope}"));
    assert_eq!(page.status, 200);
    let r = reader.post_form(
        "/subscribe",
        &[
            ("csrf", &page.csrf()),
            ("email", email),
            ("scope", scope),
            ("cadence", "immediate"),
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
            ("summary", "transcription error"),
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
    let server = serve(&db, &sink.url(), &[]);
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
    let thousands = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
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

    // One click unsubscribes; the next change is not sent.
    let token = token_after(&body, "/unsubscribe?token=");
    let mut reader = Client::new(&server.base);
    let r = reader.post_form("/unsubscribe", &[("token", &token)]);
    assert_eq!(r.status, 200);
    let (_, fact2) = a_stockpile_fact(&server);
    let p2 = propose_correction(&mut alice, &fact2, "12345");
    assert_eq!(approve(&mut bob, &p2).status, 303);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(notifications_to(&sink, "reader@example.org").len(), 1);
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
    let server = serve(
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

    // After a restart: nothing half-done is visible. The proposal is still pending, the fact
    // is not superseded, and nobody was told.
    let server = serve(&db, &sink.url(), &[]);
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
    let server = serve(&db, &sink.url(), &[]);
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
    sink.hold.store(false, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        notifications_to(&sink, "one@example.org").len()
            + notifications_to(&sink, "two@example.org").len(),
        0,
        "a message whose sender died before the relay's answer is not delivered"
    );

    // After a restart both subscribers get exactly one message each.
    let server = serve(&db, &sink.url(), &[]);
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
    let (ok, out, _) = minewatch(&server.db(), &["outbox", "--json"]);
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["counts"]["pending"], 0, "{v}");
    assert_eq!(v["counts"]["dead"], 0, "{v}");
}

#[test]
fn messages_wait_while_the_relay_is_down_and_go_out_when_it_returns() {
    // Find a free port, and leave it closed: the relay is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_dir, db) = desk_db();
    let server = serve(&db, &format!("smtp://127.0.0.1:{port}"), &[]);
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
        let (_, out, _) = minewatch(&server.db(), &["outbox", "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
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
    let server = serve(&db, &sink.url(), &[]);
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
        minewatch_web::notify::webhook_signature(&secret, t, &body)
            .split(",v1=")
            .nth(1)
            .unwrap()
    );
    assert_ne!(
        v1,
        minewatch_web::notify::webhook_signature("wrong secret", t, &body)
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
