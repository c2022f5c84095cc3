//! The JSON API on a real server (the `minewatch` binary) bound to a random port.

use crate::support::Server;

#[test]
fn resolution_64_56_shows_the_united_states_abstaining_among_18() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/unga/64/56");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["date"], "2009-12-02");
    assert_eq!(v["tally"]["abstain"], 18);
    assert_eq!(
        v["recorded_votes"]["abstain"], 18,
        "{}",
        v["recorded_votes"]
    );
    assert_eq!(v["tally_matches_recorded_votes"], true);
    let us = v["votes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "USA")
        .unwrap();
    assert_eq!(us["vote"], "abstain");
    // Two facts record the vote: the voting data and seed 002.
    assert_eq!(us["facts"].as_array().unwrap().len(), 2);
}

#[test]
fn us_facts_as_of_18_october_2010_carry_the_seed_002_sources() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/states/USA/facts?as_of=2010-10-18");
    assert_eq!(status, 200);
    assert_eq!(v["state"]["code"], "USA");
    let facts = v["facts"].as_array().unwrap();
    let seed: Vec<_> = facts
        .iter()
        .filter(|f| f["key"].as_str().unwrap().starts_with("seed002:"))
        .collect();
    assert!(seed.len() > 40, "{}", seed.len());
    for f in &seed {
        let sources = f["sources"].as_array().unwrap();
        assert!(
            sources
                .iter()
                .any(|s| s["key"] == "lm-2010-usa" && s["published"] == "2010-10-18"),
            "{f}"
        );
    }
    // The 2002 stockpile by type adds up to 10,404,148 (footnote 28): one fact per type (seed
    // 002's transcription; the research file's rows with the same keys are left to it).
    let stock: Vec<_> = facts
        .iter()
        .filter(|f| f["kind"] == "stockpile_count")
        .collect();
    assert_eq!(stock.len(), 9, "{stock:?}");
    let total: u64 = stock
        .iter()
        .map(|f| f["payload"]["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 10_404_148);
    assert!(facts
        .iter()
        .all(|f| f["valid_from"].as_str().is_none_or(|d| d <= "2010-10-18")));
}

#[test]
fn codes_accept_alpha2_and_alpha3_in_any_case() {
    let server = Server::start();
    for code in ["usa", "US", "uS", "USA"] {
        let (status, v) = server.get(&format!("/api/v1/states/{code}"));
        assert_eq!(status, 200, "{code}");
        assert_eq!(v["code"], "USA");
    }
    let (status, v) = server.get("/api/v1/states");
    assert_eq!(status, 200);
    assert!(v["count"].as_u64().unwrap() > 250);
}

#[test]
fn unknown_code_is_a_404_with_a_json_error() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/states/QQQ");
    assert_eq!(status, 404);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown state or area code \"QQQ\""));
    let (status, v) = server.get("/api/v1/states/QQQ/facts");
    assert_eq!(status, 404, "{v}");
}

#[test]
fn bad_as_of_is_a_400_that_says_why() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/states/USA/facts?as_of=2010-02-30");
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"2010-02-30\" is not a real calendar date"),
        "{v}"
    );
    let (status, v) = server.get("/api/v1/states/USA/facts?as_of=yesterday");
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("expected"),
        "{v}"
    );
    let (status, _) = server.get("/api/v1/states/USA/facts?kind=nonsense");
    assert_eq!(status, 400);
}

#[test]
fn sources_list_their_facts() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/sources/gao-02-1003");
    assert_eq!(status, 200, "{v}");
    assert!(!v["facts"].as_array().unwrap().is_empty());
    let (status, _) = server.get("/api/v1/sources/no-such-source");
    assert_eq!(status, 404);
}

#[test]
fn a_fact_shows_its_history() {
    let server = Server::start();
    let (_, v) = server.get("/api/v1/states/TON/facts?kind=treaty_action");
    let id = v["facts"][0]["id"].as_i64().unwrap();
    let (status, f) = server.get(&format!("/api/v1/facts/{id}"));
    assert_eq!(status, 200);
    assert_eq!(f["history"].as_array().unwrap().len(), 1);
    let (status, _) = server.get("/api/v1/facts/abc");
    assert_eq!(status, 400);
}

#[test]
fn unknown_routes_are_json_404s_and_the_openapi_document_is_served() {
    let server = Server::start();
    let (status, v) = server.get("/api/v1/nothing");
    assert_eq!(status, 404);
    assert!(v["error"]["message"].as_str().unwrap().contains("openapi"));
    let (status, v) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(v["paths"]["/api/v1/unga/{session}/{number}"].is_object());
}

#[test]
fn every_api_route_is_in_the_generated_openapi_document() {
    // The API's routes are registered through utoipa-axum's router, which documents each one;
    // a route added with a plain `.route("/api/...")` would be served but not documented.
    let source = include_str!("../../server/src/lib.rs");
    for line in source.lines() {
        assert!(
            !line.trim().starts_with(".route(\"/api/"),
            "an API route bypasses the documented router: {line}"
        );
    }
    let doc: serde_json::Value =
        serde_json::from_str(&minewatch_server::openapi_document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {path} documents no success"
            );
            for (status, r) in responses {
                if status != "304" && !status.starts_with('2') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations >= 18, "only {operations} operations");
    // Ids are 64-bit integers; optional answers say they may be null.
    let fact = &doc["components"]["schemas"]["FactWithSources"]["properties"];
    assert_eq!(fact["id"]["format"], "int64", "{fact}");
    assert_eq!(
        fact["supersedes"]["type"],
        serde_json::json!(["integer", "null"]),
        "{fact}"
    );
}

#[test]
fn overlong_addresses_are_refused_before_any_matching() {
    // An unknown code was fuzzy-matched against every name, at a cost of its length times
    // theirs: a 60,000-character code took 0.9 s of CPU. Such addresses are now refused
    // before routing, and long codes get no suggestions.
    let server = Server::start();
    let long = "x".repeat(60_000);
    let (status, v) = server.get(&format!("/api/v1/states/{long}"));
    assert_eq!(status, 414, "{v}");
    assert_eq!(v["error"]["status"], 414);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("too long"),
        "{v}"
    );
    let (status, _, body) = server.get_text(&format!("/states/{long}"));
    assert_eq!(status, 414);
    assert!(
        body.contains("too long"),
        "{}",
        &body[..body.len().min(300)]
    );
    let (status, v) = server.get(&format!("/api/v1/parties?as_of={long}"));
    assert_eq!(status, 414, "{v}");
    // Within the limit but longer than any name: a 404 without suggestions, and the message
    // quotes only the beginning of the code.
    let (status, v) = server.get(&format!("/api/v1/states/{}", "x".repeat(900)));
    assert_eq!(status, 404, "{v}");
    assert_eq!(v["error"]["closest"], serde_json::json!([]));
    assert!(v["error"]["message"].as_str().unwrap().len() < 300, "{v}");
    // A near miss still gets its suggestion.
    let (status, v) = server.get("/api/v1/states/Ukrain");
    assert_eq!(status, 404);
    assert!(v["error"]["closest"].to_string().contains("UKR"), "{v}");
}

#[test]
fn the_frameworks_own_rejections_are_json_error_bodies() {
    let server = Server::start();
    // A duplicate query key, a query value that is not what the route reads, invalid UTF-8 in
    // the path: axum refuses these itself, in plain text; the API promises its JSON error.
    for path in [
        "/api/v1/parties?as_of=2020-01-01&as_of=2021-01-01",
        "/api/v1/states/%FF%FE/status",
        "/api/v1/facts/notanumber",
    ] {
        let r = ureq::get(&format!("{}{path}", server.base)).call();
        let Err(ureq::Error::Status(code, resp)) = r else {
            panic!("{path}: expected an error status");
        };
        assert!((400..500).contains(&code), "{path}: {code}");
        assert!(
            resp.content_type().starts_with("application/json"),
            "{path}: {}",
            resp.content_type()
        );
        let v: serde_json::Value = resp.into_json().unwrap();
        assert_eq!(v["error"]["status"], code, "{path}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty(), "{v}");
    }
    // A body that is not the device the route reads.
    let r = ureq::post(&format!("{}/api/v1/classify", server.base))
        .set("Content-Type", "text/plain")
        .send_string("{}");
    let Err(ureq::Error::Status(code, resp)) = r else {
        panic!("expected a refusal");
    };
    assert!((400..500).contains(&code), "{code}");
    let v: serde_json::Value = resp.into_json().unwrap();
    assert_eq!(v["error"]["status"], code, "{v}");
}

/// The API against its own generated document, with the real tools: `openapi-spec-validator`
/// accepts the document, and schemathesis runs every check on every operation (as an editor,
/// so the proposals API is exercised past its sign-in) and finds nothing. Its settings, with the
/// one exception they make and why, are in scripts/schemathesis.toml.
#[test]
fn schemathesis_finds_no_failures_and_the_document_validates() {
    let Some(bin) = crate::support::pytools("schemathesis") else {
        return;
    };
    let dir = crate::support::TempDir::new();
    let db = dir.path("schemathesis.sqlite");
    let (ok, _, err) = crate::support::minewatch_stdin(
        &db,
        &["user", "add", "editor"],
        "a-long-password-for-the-contract-test\n",
    );
    assert!(ok, "{err}");
    let (ok, token, err) = crate::support::minewatch(&db, &["user", "token", "editor"]);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    let server = Server::start_on(&db, &[], &[("MINEWATCH_NOW", "2026-06-01T12:00:00Z")]);
    let (status, doc) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    let doc_path = dir.path("openapi.json");
    std::fs::write(&doc_path, doc.to_string()).unwrap();
    let out = std::process::Command::new(bin.join("openapi-spec-validator"))
        .arg(&doc_path)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.contains("OK"), "{said}");

    let config =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/schemathesis.toml");
    let out = std::process::Command::new(bin.join("schemathesis"))
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/api/v1/openapi.json", server.base)])
        .args([
            "--checks",
            "all",
            "--max-examples",
            "50",
            "--seed",
            "1",
            "--no-color",
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        // Hypothesis keeps its example database in the working directory: the temporary one.
        .current_dir(dir.path(""))
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis failed:\n{said}");
    assert!(said.contains("No issues found"), "{said}");
    // Every operation was tested, none skipped for want of a schema.
    assert!(said.contains("Tested: 18"), "{said}");
}
