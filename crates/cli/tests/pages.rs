//! The public pages and their twins on a real server (the `minewatch` binary, shipped data).

use crate::support::{page, text, twin, Server};
use serde_json::Value;

#[test]
fn seed_002_the_united_states_as_of_18_october_2010() {
    let server = Server::start();
    let html = page(&server, "/states/USA?as_of=2010-10-18");
    let t = text(&html);
    for needle in [
        "United States",
        "Profile as of 18 October 2010",
        "not a State Party (never signed)",
        "2 December 2009 64/56 abstain one of 18 abstentions",
        "attended the Second Review Conference (Cartagena) as an observer",
        "last known use of anti-personnel mines in 1991",
        "has not produced antipersonnel mines since 1997",
        "exports since 23 October 1992",
        "Total: 10,404,148 anti-personnel mines of 9 types",
        "presidential policy (Bush) (us-2004-bush) in force on 18 October 2010",
        "Last updated: 18 October 2010",
    ] {
        assert!(
            t.contains(needle),
            "missing {needle:?} in the profile:\n{t}"
        );
    }
    // Every statement has a footnote, and every footnote links to its source's page.
    let statements = html.matches("<li>").count();
    assert!(statements > 40);
    assert!(html.contains(r#"<li id="fn1">"#));
    assert!(html.contains(r#"href="/sources/lm-2010-usa""#));
    for part in html.split(r#"<ul class="statements">"#).skip(1) {
        let list = &part[..part.find("</ul>").unwrap()];
        for item in list.split("<li>").skip(1) {
            assert!(
                item.contains("class=\"fn\""),
                "statement without a footnote: {item}"
            );
        }
    }
    // The 2022 policy did not exist yet.
    assert!(!t.contains("us-2022-06-biden"));
    assert!(html.contains(r#"type="application/atom+xml" href="/states/USA/feed.atom""#));
}

#[test]
fn the_profile_twin_has_the_same_data() {
    let server = Server::start();
    let v = twin(&server, "/states/USA.json?as_of=2010-10-18");
    assert_eq!(v["as_of"], "2010-10-18");
    assert_eq!(v["status"]["status"], "non_signatory");
    assert_eq!(v["stockpile"]["total"], 10_404_148);
    let unga = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "unga")
        .unwrap();
    let texts: Vec<&str> = unga["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Abstained on resolution 64/56 on 2 December 2009, one of 18 abstentions"),
        "{texts:?}"
    );
    // One row per vote even where two sources record it.
    assert_eq!(texts.iter().filter(|t| t.contains("64/56")).count(), 1);
    // Accept: application/json gives the same twin.
    let (_, ct, body) = server.get_text_with("/states/USA?as_of=2010-10-18", "application/json");
    assert_eq!(ct, "application/json");
    let same: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(same, v);
}

#[test]
fn home_has_the_map_counts_with_their_basis_and_feeds() {
    let server = Server::start();
    let html = page(&server, "/?as_of=2026-01-10");
    assert!(html.contains("<svg"), "no map");
    assert!(html.contains(r#"href="/states/FIN?as_of=2026-01-10""#));
    assert!(html.contains(r#"<link rel="alternate" type="application/atom+xml" href="/feed.atom""#));
    let t = text(&html);
    assert!(t.contains("States Parties (in force)"));
    assert!(t.contains("States Parties (instrument deposited)"));
    let v = twin(&server, "/index.json?as_of=2026-01-10");
    let eif = v["counts"]["parties_by_eif"]["count"].as_u64().unwrap();
    assert!(
        t.contains(&format!("States Parties (in force) {eif}")),
        "{t}"
    );
    let fin = v["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "FIN")
        .unwrap();
    assert_eq!(fin["status"], "withdrawn");
}

#[test]
fn states_index_filters_sorts_and_downloads() {
    let server = Server::start();
    let v = twin(&server, "/states.json?status=withdrawn&as_of=2026-11-22");
    let codes: Vec<&str> = v["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"FIN"), "{codes:?}");
    assert!(v["states"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "withdrawn"));
    let html = page(&server, "/states?q=korea");
    let t = text(&html);
    assert!(t.contains("Korea"), "{t}");
    assert!(!t.contains("Finland"));
    let (status, ct, csv) = server.get_text("/states.csv?region=Europe&sort=code");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "code,name,kind,region,status,signed,deposited,entry_into_force"
    );
    let codes: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted);
    assert!(codes.contains(&"FRA"));
}

#[test]
fn every_page_answers_with_html_and_its_twin() {
    let server = Server::start();
    for path in [
        "/",
        "/states",
        "/states/UKR",
        "/sources",
        "/sources/lm-2010-usa",
        "/unga",
        "/unga/64/56",
        "/deadlines",
        "/policies",
        "/classify",
        "/search?q=claymore",
    ] {
        let html = page(&server, path);
        assert!(html.starts_with("<!doctype html>"), "{path}");
        assert!(html.contains("<main id=\"main\">"), "{path}");
        assert!(
            html.contains(r#"rel="alternate" type="application/json""#),
            "{path}"
        );
        let (status, ct, _) = server.get_text_with(path, "application/json");
        assert_eq!((status, ct.as_str()), (200, "application/json"), "{path}");
    }
    for path in ["/feed.atom", "/states/USA/feed.atom"] {
        let (status, ct, body) = server.get_text(path);
        assert_eq!(status, 200);
        assert!(ct.starts_with("application/atom+xml"), "{ct}");
        assert!(body.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
        assert!(body.contains("<entry>"));
    }
    let (_, _, feed) = server.get_text("/states/FIN/feed.atom");
    assert!(feed.contains("Finland"));
    assert!(!feed.contains("United States:"), "only Finland's changes");
}

#[test]
fn general_assembly_deadlines_policies_classifier_and_sources() {
    let server = Server::start();
    let t = text(&page(&server, "/unga/64/56"));
    assert!(t.contains("Abstained (18)"), "{t}");
    assert!(t.contains("United States"));
    let v = twin(&server, "/unga/64/56.json");
    assert_eq!(v["roll_call"]["abstain"].as_array().unwrap().len(), 18);

    let v = twin(&server, "/deadlines.json?show=overdue&as_of=2026-01-01");
    let rows = v["deadlines"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["overdue"] == true));
    assert!(rows.iter().any(|r| r["code"] == "UKR"));
    let (_, ct, csv) = server.get_text("/deadlines.csv?article=4");
    assert!(ct.starts_with("text/csv"));
    assert!(csv.lines().skip(1).all(|l| l.contains(",Art. 4,")), "{csv}");

    let html = page(&server, "/policies?a=us-2014-06-obama&b=us-2020-01-trump");
    assert!(
        html.contains(r#"<tr class="changed"><th scope="row">produce</th>"#),
        "{html}"
    );
    assert!(text(&html).contains("Changed: use, develop, produce, acquire"));

    let t = text(&page(
        &server,
        "/classify?target=person&activation=tripwire&delivery=hand_emplaced&directional=1",
    ));
    assert!(
        t.contains("Mine Ban Treaty, Art. 2: anti-personnel mine? yes"),
        "{t}"
    );
    let t = text(&page(
        &server,
        "/classify?target=person&activation=command&delivery=hand_emplaced&directional=1",
    ));
    assert!(
        t.contains("Mine Ban Treaty, Art. 2: anti-personnel mine? no"),
        "{t}"
    );

    let t = text(&page(&server, "/sources/lm-2010-usa"));
    assert!(t.contains("Facts citing this source"));
    assert!(t.contains("10,404,148") || t.contains("8,366,076"), "{t}");
}

#[test]
fn bad_parameters_are_400_pages_that_say_why_and_unknown_paths_help() {
    let server = Server::start();
    for (path, needle) in [
        ("/states/USA?as_of=2025-02-30", "YYYY-MM-DD"),
        ("/?as_of=tomorrow", "as_of"),
        ("/states?status=asleep", "expected one of"),
        ("/deadlines?article=9", "expected 4, 5 or 7"),
        ("/classify?target=person&iron_g=lots", "iron_g"),
        ("/classify?target=animal", "form"),
    ] {
        let (status, ct, body) = server.get_text(path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(ct.starts_with("text/html"));
        assert!(text(&body).contains(needle), "{path}: {}", text(&body));
    }
    let (status, _, body) = server.get_text("/states/Germny");
    assert_eq!(status, 404);
    assert!(body.contains("Did you mean"), "{body}");
    let (status, _, body) = server.get_text("/no/such/page");
    assert_eq!(status, 404);
    assert!(body.contains("/search?q=page"));
    let (status, ct, _) = server.get_text("/api/v1/nothing");
    assert_eq!((status, ct.as_str()), (404, "application/json"));
}

#[test]
fn text_from_requests_is_escaped() {
    let server = Server::start();
    let attack = "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27";
    for path in [
        format!("/search?q={attack}"),
        format!("/states?q={attack}"),
        format!("/classify?target=person&name={attack}"),
        format!("/no/{attack}"),
        format!("/states/{attack}"),
    ] {
        let (_, _, body) = server.get_text(&path);
        assert!(!body.contains("<script>"), "{path}: {body}");
        assert!(!body.contains("alert(1)</"), "{path}");
    }
}

#[test]
fn export_site_writes_every_page_and_twin_as_static_files() {
    let dir = crate::support::TempDir::new();
    let db = dir.path("site.sqlite");
    let out = dir.path("site");
    let (ok, _, err) = crate::support::minewatch(&db, &["export", "--site", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("wrote the site"), "{err}");
    let read =
        |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(read("index.html").contains("<svg"));
    assert!(read("states/USA/index.html").contains("United States"));
    let v: Value = serde_json::from_str(&read("states/USA.json")).unwrap();
    assert_eq!(v["subject"]["code"], "USA");
    assert!(read("unga/64/56/index.html").contains("Resolution 64/56"));
    assert!(read("sources/lm-2010-usa/index.html").contains("Facts citing this source"));
    assert!(read("feed.atom").contains("<feed"));
    assert!(read("states.csv").starts_with("code,name"));
    assert!(read("assets/style.css").contains("svg.map"));
    // The impact pages and the profile sections' twins the profiles link to.
    assert!(read("casualties/index.html").contains("world-casualties-chart"));
    assert!(read("use.csv").starts_with("report_edition,"));
    let cas: Value = serde_json::from_str(&read("states/MMR/casualties.json")).unwrap();
    assert_eq!(cas["subject"], "MMR");
    assert!(read("states/CAN/transparency.csv").starts_with("subject,article"));
    // Nothing private: the site has no subscriber, feedback or account data to leak, and no page
    // links to the API's write routes.
    assert!(!read("index.html").contains("method=\"post\""));
    // The same command with neither --format nor --site is an error that says so.
    let (ok, _, err) = crate::support::minewatch(&db, &["export"]);
    assert!(!ok);
    assert!(err.contains("--site") || err.contains("--format"), "{err}");
}
