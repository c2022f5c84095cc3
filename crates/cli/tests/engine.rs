//! The treaty engine through its two interfaces: the API on a real server and the `minewatch`
//! commands, over the shipped data.

use crate::support::{add_user, minewatch, Server, TempDir};
use serde_json::Value;

fn codes(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

#[test]
fn united_states_on_18_october_2010_never_signed() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/states/usa/status?as_of=2010-10-18");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["code"], "USA");
    assert_eq!(v["as_of"], "2010-10-18");
    assert_eq!(v["status"], "non_signatory");
    assert_eq!(v["signed"], Value::Null);
    assert_eq!(v["deposited"], Value::Null);
    assert_eq!(v["deadlines"]["art4"], Value::Null);
    assert!(!v["reasons"].as_array().unwrap().is_empty());
}

#[test]
fn finland_withdrawal_takes_effect_six_months_after_notice() {
    let server = Server::start();
    // Notice received 10 July 2025 (data/research/treaty/parties.csv): effective 10 January 2026.
    let (_, before) = server.get("/api/v1/states/FIN/status?as_of=2026-01-09");
    assert_eq!(before["status"], "withdrawal_pending", "{before}");
    assert_eq!(before["withdrawal_effective"], "2026-01-10");
    let (_, after) = server.get("/api/v1/states/FIN/status?as_of=2026-01-10");
    assert_eq!(after["status"], "withdrawn", "{after}");
    let reasons = after["reasons"].to_string();
    assert!(reasons.contains("Art. 20"), "{reasons}");
    // Withdrawn states are not counted on either basis.
    let (_, p) = server.get("/api/v1/parties?as_of=2026-01-10&basis=deposit");
    assert!(!codes(&p["states"]).contains(&"FIN"));
    let (_, p) = server.get("/api/v1/parties?as_of=2026-01-09&basis=eif");
    assert!(codes(&p["states"]).contains(&"FIN"));
}

#[test]
fn ukraine_suspension_is_a_finding_and_changes_nothing() {
    let server = Server::start();
    let (_, v) = server.get("/api/v1/states/UKR/status?as_of=2026-01-01");
    assert_eq!(v["status"], "state_party", "{v}");
    let findings = v["findings"].as_array().unwrap();
    let s = findings
        .iter()
        .find(|f| f["kind"] == "suspension_declaration")
        .unwrap_or_else(|| panic!("no suspension finding in {findings:?}"));
    assert!(s["article"].as_str().unwrap().contains("Art. 19"), "{s}");
    assert!(s["article"].as_str().unwrap().contains("Art. 20"), "{s}");
    // Each reason names its article; the suspension rests on sourced facts.
    let reasons = s["reasons"].as_array().unwrap();
    assert!(reasons.iter().all(|r| r["article"].is_string()));
    assert!(reasons
        .iter()
        .any(|r| !r["citations"].as_array().unwrap().is_empty()));
    // The recorded missed Art. 4 deadline is a finding and an overdue deadline.
    assert!(findings.iter().any(|f| f["kind"] == "art4_deadline_missed"));
    let (status, d) = server.get("/api/v1/deadlines?state=Ukr&overdue=true&as_of=2026-01-01");
    assert_eq!(status, 200, "{d}");
    let rows = d["deadlines"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["article"] == "Art. 4" && r["due"] == "2010-06-01" && r["state"] == "missed"));
    assert!(rows
        .iter()
        .all(|r| r["code"] == "UKR" && r["overdue"] == true));
}

#[test]
fn parties_are_counted_on_a_stated_basis() {
    let server = Server::start();
    for date in ["1999-03-01", "2010-10-18", "2026-01-10"] {
        let (_, eif) = server.get(&format!("/api/v1/parties?as_of={date}&basis=eif"));
        let (_, dep) = server.get(&format!("/api/v1/parties?as_of={date}&basis=deposit"));
        assert_eq!(eif["basis"], "eif");
        assert_eq!(dep["basis"], "deposit");
        let (e, d) = (codes(&eif["states"]), codes(&dep["states"]));
        assert_eq!(eif["count"], e.len());
        assert_eq!(dep["count"], d.len());
        // Every state in force has deposited; the other count is stated beside each.
        assert!(e.iter().all(|c| d.contains(c)), "{date}");
        assert_eq!(eif["other_basis"]["count"], d.len());
        assert_eq!(dep["other_basis"]["count"], e.len());
        let mut sorted = e.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, e);
    }
    // On the day of general entry into force, states that deposited after September 1998 were
    // not yet bound: the two bases differ.
    let (_, eif) = server.get("/api/v1/parties?as_of=1999-03-01&basis=eif");
    let (_, dep) = server.get("/api/v1/parties?as_of=1999-03-01&basis=deposit");
    assert!(eif["count"].as_u64() < dep["count"].as_u64(), "{eif} {dep}");
    // Nobody before the treaty existed.
    let (_, v) = server.get("/api/v1/parties?as_of=1997-01-01");
    assert_eq!(v["count"], 0);
}

#[test]
fn bad_engine_queries_are_400s_that_say_why() {
    let server = Server::start();
    for (path, needle) in [
        ("/api/v1/parties?basis=signed", "expected eif"),
        ("/api/v1/parties?as_of=2025-02-30", "as_of"),
        ("/api/v1/deadlines?overdue=maybe", "overdue"),
        ("/api/v1/states/USA/status?as_of=yesterday", "YYYY-MM-DD"),
    ] {
        let (status, v) = server.get(path);
        assert_eq!(status, 400, "{path}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{path}: {msg}");
    }
    let (status, v) = server.get("/api/v1/states/XXX/status");
    assert_eq!(status, 404, "{v}");
    let (status, v) = server.get("/api/v1/deadlines?state=Atlantis");
    assert_eq!(status, 404, "{v}");
}

const COMMAND_CLAYMORE: &str = r#"{"name": "directional mine, command-detonated", "target": "person",
    "activation": "command", "directional": true, "delivery": {"mode": "hand_emplaced"},
    "detectable_iron_equivalent_g": 20}"#;
const TRIPWIRE_CLAYMORE: &str = r#"{"name": "directional mine with a tripwire", "target": "person",
    "activation": "tripwire", "directional": true, "delivery": {"mode": "hand_emplaced"},
    "detectable_iron_equivalent_g": 20}"#;

#[test]
fn classify_tells_command_detonation_from_a_tripwire() {
    let server = Server::start();
    let (status, v) = server.post("/api/v1/classify?as_of=2021-01-01", COMMAND_CLAYMORE);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["apmbc"]["anti_personnel_mine"], false, "{}", v["apmbc"]);
    let (_, v) = server.post("/api/v1/classify?as_of=2021-01-01", TRIPWIRE_CLAYMORE);
    assert_eq!(v["apmbc"]["anti_personnel_mine"], true, "{}", v["apmbc"]);
    assert!(!v["apmbc"]["reasons"].as_array().unwrap().is_empty());
    // The US policy in force on 1 January 2021 (the 2020 one) answers for use.
    let verdicts = v["policies"]["verdicts"].as_array().unwrap();
    assert!(verdicts
        .iter()
        .any(|p| p["policy_id"] == "us-2020-01-trump" && p["governs_use"] == true));
    // Both shipped definitions answer.
    let defs: Vec<&str> = v["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(defs.len(), 2, "{defs:?}");
}

#[test]
fn classify_accepts_an_extra_definition_and_rejects_bad_devices() {
    let server = Server::start();
    let definition = r#"{"format": 1, "id": "everything", "title": "Every mine", "source": "a test",
        "rules": [], "otherwise": {"anti_personnel_mine": true, "reason": "all mines count"}}"#;
    let body = format!(r#"{{"device": {COMMAND_CLAYMORE}, "definitions": [{definition}]}}"#);
    let (status, v) = server.post("/api/v1/classify", &body);
    assert_eq!(status, 200, "{v}");
    let defs = v["definitions"].as_array().unwrap();
    assert_eq!(defs.len(), 3);
    assert!(defs
        .iter()
        .any(|d| d["id"] == "everything" && d["anti_personnel_mine"] == true));

    for (body, needle) in [
        ("{", "request body"),
        (r#"{"target": "person"}"#, "activation"),
        (
            r#"{"target": "person", "activation": "pressure", "delivery": {"mode": "hand"}}"#,
            "hand_emplaced",
        ),
        (
            r#"{"target": "person", "activation": "pressure", "delivery": {"mode": "remote"}, "self_destruct": {"days": 30, "reliability": 1.5}}"#,
            "reliability",
        ),
        (
            r#"{"device": {"target": "person", "activation": "pressure", "delivery": {"mode": "remote"}}, "definitions": [{"format": 2}]}"#,
            "definitions[0]",
        ),
    ] {
        let (status, v) = server.post("/api/v1/classify", body);
        assert_eq!(status, 400, "{body}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
}

#[test]
fn policy_diff_2014_to_2020_loosens_production() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/policies/us-2014-06-obama/diff/us-2020-01-trump");
    assert_eq!(status, 200, "{v}");
    let acts = v["activities"].as_array().unwrap();
    assert_eq!(acts.len(), 8, "one row per activity of Art. 1");
    let produce = acts.iter().find(|a| a["activity"] == "produce").unwrap();
    assert_eq!(produce["change"], "loosened", "{produce}");
    assert_eq!(produce["from"]["stance"], "prohibited");
    assert!(!produce["reasons"].as_array().unwrap().is_empty());
    assert!(codes(&v["changed"]).contains(&"produce"));
    // And back: 2020 to 2022 tightens it again.
    let (_, v) = server.get("/api/v1/policies/us-2020-01-trump/diff/us-2022-06-biden");
    let acts = v["activities"].as_array().unwrap();
    let produce = acts.iter().find(|a| a["activity"] == "produce").unwrap();
    assert_eq!(produce["change"], "tightened", "{produce}");

    let (status, v) = server.get("/api/v1/policies/us-2014-06-obama/diff/us-2099");
    assert_eq!(status, 404, "{v}");
    assert!(codes(&v["error"]["known"]).contains(&"us-2022-06-biden"));
    let (_, v) = server.get("/api/v1/policies");
    assert_eq!(v["count"], 10, "{v}");
}

#[test]
fn the_engine_sees_facts_added_while_the_server_runs() {
    let s = Server::start();
    let (_, before) = s.get("/api/v1/states/USA/status?as_of=2026-01-01");
    assert_eq!(before["status"], "non_signatory");
    // The profile page is cached once rendered ...
    let (_, page) = s.get("/states/USA.json?as_of=2026-01-01");
    assert_eq!(page["status"]["status"], "non_signatory");
    // A made-up signature, for the test only, cited to a shipped source.
    let dir = TempDir::new();
    let facts = dir.file(
        "facts.csv",
        b"key,subject,kind,valid_from,valid_to,payload,sources,note\n\
          test:usa:signature,USA,treaty_action,2025-06-01,,\"{\"\"action\"\":\"\"signature\"\"}\",seed-000,test only\n",
    );
    let (ok, out, err) = minewatch(&s.db(), &["import", "facts-csv", facts.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (_, after) = s.get("/api/v1/states/USA/status?as_of=2026-01-01");
    assert_eq!(after["status"], "signatory", "{after}");
    assert_eq!(after["signed"], "2025-06-01");
    // ... and rendered again once the record changed.
    let (_, page) = s.get("/states/USA.json?as_of=2026-01-01");
    assert_eq!(
        page["status"]["status"], "signatory",
        "a stale page was served"
    );
    // Anyone reads the statistics; only an administrator's API token resets them.
    let (status, e) = s.get("/api/v1/timings?reset=true");
    assert_eq!(status, 401, "{e}");
    let (_, t) = s.get("/api/v1/timings");
    assert!(
        t["requests"].as_u64().unwrap() >= 4,
        "the refused reset cleared nothing: {t}"
    );
    add_user(&s.db(), "root", "admin", "a long enough admin passphrase");
    let (ok, token, err) = minewatch(&s.db(), &["user", "token", "root"]);
    assert!(ok, "{err}");
    let r = ureq::get(&format!("{}/api/v1/timings?reset=true", s.base))
        .set("Authorization", &format!("Bearer {}", token.trim()))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.into_json().unwrap();
    assert!(t["requests"].as_u64().unwrap() >= 4, "{t}");
    assert!(t["p50_ms"].as_f64().unwrap() > 0.0);
    let (_, t) = s.get("/api/v1/timings");
    assert!(
        t["requests"].as_u64().unwrap() <= 1,
        "reset cleared the samples: {t}"
    );
}

#[test]
fn cli_status_parties_deadlines_classify_and_policy_diff() {
    let server = Server::start();
    let dir = TempDir::new();
    let db = dir.path("cli.sqlite");
    let (ok, _, err) = minewatch(&db, &["load"]);
    assert!(ok, "{err}");

    let (ok, out, err) = minewatch(&db, &["status", "Ukraine", "--as-of", "2026-01-01"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Ukraine (UKR) on 1 January 2026: state_party"),
        "{out}"
    );
    assert!(out.contains("suspension_declaration"), "{out}");
    assert!(
        out.contains("in force on the first day of the sixth month"),
        "{out}"
    );

    let (ok, out, _) = minewatch(&db, &["status", "US", "--as-of", "2010-10-18", "--json"]);
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "non_signatory");
    assert_eq!(v["as_of"], "2010-10-18");

    let (ok, out, _) = minewatch(
        &db,
        &[
            "parties",
            "--as-of",
            "2026-01-10",
            "--basis",
            "deposit",
            "--json",
        ],
    );
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["basis"], "deposit");
    let (_, api) = server.get("/api/v1/parties?as_of=2026-01-10&basis=deposit");
    assert_eq!(
        v["states"], api["states"],
        "CLI and API count the same states"
    );
    let (ok, text, _) = minewatch(&db, &["parties", "--as-of", "2026-01-10"]);
    assert!(ok);
    let first = text.lines().next().unwrap();
    assert!(first.contains("basis eif"), "{first}");
    // Header line plus one line per state.
    assert_eq!(
        text.lines().count() - 1,
        api["other_basis"]["count"].as_u64().unwrap() as usize
    );

    let (ok, out, _) = minewatch(&db, &["deadlines", "--state", "UKR", "--overdue"]);
    assert!(ok);
    assert!(out.contains("2010-06-01 UKR Art. 4"), "{out}");
    assert!(out.contains("OVERDUE"), "{out}");

    let device = dir.file("claymore.json", TRIPWIRE_CLAYMORE.as_bytes());
    let (ok, out, err) = minewatch(&db, &["classify", device.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["apmbc"]["anti_personnel_mine"], true);
    let (ok, out, _) = minewatch(&db, &["classify", device.to_str().unwrap()]);
    assert!(ok);
    assert!(
        out.contains("Mine Ban Treaty (Art. 2): anti-personnel mine: yes"),
        "{out}"
    );

    let (ok, out, _) = minewatch(
        &db,
        &["policy", "diff", "us-2014-06-obama", "us-2020-01-trump"],
    );
    assert!(ok);
    assert!(out.contains("produce"), "{out}");
    assert!(out.contains("loosened"), "{out}");
}

#[test]
fn cli_bad_input_is_an_error_that_says_what_and_where() {
    let dir = TempDir::new();
    let db = dir.path("cli.sqlite");
    let bad = dir.file(
        "bad.json",
        br#"{"target": "person", "activation": "pressure","#,
    );
    // The commands read a record; one that is not there is its own error (import tests).
    let (ok, _, err) = minewatch(&db, &["load"]);
    assert!(ok, "{err}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["status", "USA", "--as-of", "2025-02-30"], "--as-of"),
        (vec!["status", "Atlantis"], "Atlantis"),
        (vec!["parties", "--basis", "signed"], "eif"),
        (vec!["classify", bad.to_str().unwrap()], "line 1"),
        (
            vec!["classify", "/nonexistent/device.json"],
            "/nonexistent/device.json",
        ),
        (vec!["policy", "diff", "us-1", "us-2"], "us-1"),
    ];
    for (args, needle) in cases {
        let (ok, out, err) = minewatch(&db, &args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
