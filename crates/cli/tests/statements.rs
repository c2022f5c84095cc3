//! One statement, several sources (issue 11, item 5), and the profiles of other areas and armed
//! groups (item 6): profiles, JSON twins and feeds over a real server and SQLite file.

use crate::support::*;
use serde_json::Value;

/// The statements of a profile twin whose text contains `needle`.
fn statements<'a>(twin: &'a Value, needle: &str) -> Vec<&'a Value> {
    twin["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["statements"].as_array().unwrap())
        .filter(|st| st["text"].as_str().unwrap().contains(needle))
        .collect()
}

/// The `<li>` items of a page's HTML that contain `needle`.
fn items<'a>(html: &'a str, needle: &str) -> Vec<&'a str> {
    html.split("<li")
        .filter_map(|s| s.split("</li>").next())
        .filter(|s| s.contains(needle))
        .collect()
}

#[test]
fn ukraine_signed_once_with_both_sources() {
    let server = Server::start();
    let html = page(&server, "/states/UKR");
    let said = "Ukraine signed the Mine Ban Treaty on 24 February 1999.";
    assert_eq!(text(&html).matches(said).count(), 1, "{}", text(&html));
    let li = items(&html, "signed the Mine Ban Treaty");
    assert_eq!(li.len(), 1, "{li:?}");
    assert_eq!(li[0].matches("<sup class=\"fn\">").count(), 2, "{}", li[0]);

    let twin = twin(&server, "/states/UKR.json");
    let st = statements(&twin, "signed the Mine Ban Treaty on 24 February 1999");
    assert_eq!(st.len(), 1, "{st:?}");
    let facts = st[0]["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 2, "{st:?}");
    assert_ne!(facts[0], facts[1]);
    let sources: Vec<&str> = st[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert!(sources.contains(&"dutch-treaty-series-trb-2003-no-112-31d05b"));
    // Each fact id is a fact of the record citing one of them.
    for f in facts {
        let (status, fact) = server.get(&format!("/api/v1/facts/{}", f.as_i64().unwrap()));
        assert_eq!(status, 200, "{fact}");
        assert_eq!(fact["subject"], "UKR", "{fact}");
    }
    // The deposit, reported by two sources (one with a long note), is one statement as well.
    let dep = statements(
        &twin,
        "deposited its instrument of ratification on 27 December 2005",
    );
    assert_eq!(dep.len(), 1, "{dep:?}");
    assert_eq!(dep[0]["facts"].as_array().unwrap().len(), 2, "{dep:?}");
    assert!(
        dep[0]["note"].as_str().unwrap().contains("EIF per Art.17"),
        "{dep:?}"
    );
}

/// Subjects with facts other than states': Nagorno-Karabakh (use reported there) and Taiwan
/// (its clearance), and the Islamic State, named by a Monitor use report of the shipped data.
#[test]
fn other_areas_and_armed_groups_have_profiles() {
    let server = Server::start();
    let html = page(&server, "/states/XNK");
    assert!(text(&html).contains("Nagorno-Karabakh"), "{}", text(&html));
    let twin_xnk = twin(&server, "/states/XNK.json");
    assert_eq!(twin_xnk["subject"]["kind"], "other_area", "{twin_xnk}");
    assert!(
        !twin_xnk["use_reports"]["entries"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{twin_xnk}"
    );
    let twin_twn = twin(&server, "/states/TWN.json");
    assert_eq!(
        statements(&twin_twn, "Taiwan").len(),
        1,
        "{}",
        twin_twn["sections"]
    );
    // Other areas are in the states index.
    let index = page(&server, "/states");
    assert!(index.contains("href=\"/states/XNK?"), "no link to XNK");

    // The armed group: linked from /use, and its profile lists the report naming it.
    let use_page = page(&server, "/use");
    assert!(
        use_page.contains("href=\"/states/NSAG-ISLAMIC-STATE\""),
        "/use does not link the Islamic State"
    );
    let html = page(&server, "/states/NSAG-ISLAMIC-STATE");
    let t = text(&html);
    assert!(
        t.contains("at least nine countries incl. Ukraine and Yemen"),
        "{t}"
    );
    assert!(t.contains("cannot sign or join the Mine Ban Treaty"), "{t}");
    assert!(!t.contains("never signed"), "{t}");
    let g = twin(&server, "/states/NSAG-ISLAMIC-STATE.json");
    let uses = g["armed_group_uses"].as_array().unwrap();
    assert_eq!(uses.len(), 1, "{g}");
    assert_eq!(uses[0]["report_edition"], "LM2017");
}

const SOURCES: &[u8] = b"key,title,publisher,published,url,note\n\
    test-a,Test source A,Test,2000,,test only\n\
    test-b,Test source B,Test,2001,,test only\n\
    test-c,Test source C,Test,2002,,test only\n";

const FACTS: &[u8] = b"key,subject,kind,valid_from,valid_to,payload,sources,note\n\
    t:ukr:sig:a,UKR,treaty_action,1999-02-24,,\"{\"\"action\"\":\"\"signature\"\"}\",test-a#p. 1,first note\n\
    t:ukr:sig:b,UKR,treaty_action,1999-02-24,,\"{\"\"action\"\":\"\"signature\"\"}\",test-b,second note\n\
    t:ukr:dep,UKR,treaty_action,2005-12-27,,\"{\"\"action\"\":\"\"deposit\"\",\"\"method\"\":\"\"ratification\"\"}\",test-a,\n\
    t:syr:use,SYR,mine_activity,2016,,\"{\"\"activity\"\":\"\"use\"\",\"\"actor\"\":\"\"Islamic State\"\",\"\"actor_type\"\":\"\"non_state_armed_group\"\",\"\"certainty\"\":\"\"confirmed\"\",\"\"detail\"\":\"\"used\"\",\"\"report_edition\"\":\"\"LM2017\"\"}\",test-c,test only\n";

/// A record of a few facts: two sources saying Ukraine signed on one day, and an armed group's
/// use in a country (test data, not the shipped record).
#[test]
fn a_second_source_is_one_statement_still_news_and_an_armed_group_links_its_country() {
    let dir = TempDir::new();
    let db = dir.path("record.sqlite");
    let sources = dir.file("sources.csv", SOURCES);
    let facts = dir.file("facts.csv", FACTS);
    let (ok, out, err) = minewatch(&db, &["import", "sources", sources.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = minewatch(&db, &["import", "facts-csv", facts.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let server = Server::start_on(&db, &[], &[]);

    // The profile: once, with both footnotes; the twin: both facts, both citations, both notes.
    let html = page(&server, "/states/UKR");
    let li = items(&html, "signed the Mine Ban Treaty");
    assert_eq!(li.len(), 1, "{li:?}");
    assert_eq!(li[0].matches("<sup class=\"fn\">").count(), 2, "{}", li[0]);
    let twin_ukr = twin(&server, "/states/UKR.json");
    let st = statements(&twin_ukr, "signed the Mine Ban Treaty");
    assert_eq!(st.len(), 1, "{st:?}");
    let ids: Vec<i64> = st[0]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        st[0]["sources"],
        serde_json::json!([
            {"source": "test-a", "locator": "p. 1"},
            {"source": "test-b"}
        ]),
        "{st:?}"
    );
    assert_eq!(st[0]["note"], "first note | second note");
    // A statement of one fact carries no note of its own.
    let dep = statements(&twin_ukr, "deposited");
    assert_eq!(dep.len(), 1);
    assert!(dep[0].get("note").is_none(), "{dep:?}");

    // The feed: an entry for each fact; the second says it adds a source.
    let (status, _, xml) = server.get_text("/states/UKR/feed.atom");
    assert_eq!(status, 200);
    let entries: Vec<&str> = xml.split("<entry>").skip(1).collect();
    let entry = |id: i64| {
        entries
            .iter()
            .find(|e| e.contains(&format!(":fact:{id}</id>")))
            .unwrap_or_else(|| panic!("no entry for fact {id}: {xml}"))
            .to_string()
    };
    let (first, second) = (ids[0].min(ids[1]), ids[0].max(ids[1]));
    let a = entry(first);
    let b = entry(second);
    assert!(
        a.contains("<title>Ukraine: Added treaty action</title>"),
        "{a}"
    );
    assert!(!a.contains("further source"), "{a}");
    assert!(
        b.contains("<title>Ukraine: Added a source for treaty action</title>"),
        "{b}"
    );
    assert!(
        b.contains(&format!("already recorded as fact {first}.")),
        "{b}"
    );

    // The armed group's profile links the country where it used mines, and that country's use
    // section links the group.
    let html = page(&server, "/states/NSAG-ISLAMIC-STATE");
    assert!(
        html.contains("href=\"/states/SYR?as_of="),
        "{}",
        text(&html)
    );
    let html = page(&server, "/states/SYR");
    assert!(
        html.contains("href=\"/states/NSAG-ISLAMIC-STATE\""),
        "{}",
        text(&html)
    );
}
