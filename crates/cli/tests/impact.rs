//! The impact files (casualties, new use, Art. 7 reporting): importers, profile sections, world
//! pages and their twins.

use crate::support::*;
use minewatch_domain::fact::{ActorType, Certainty};
use minewatch_domain::{FactKind, Payload};
use minewatch_import::{Kind, Options};
use minewatch_store::{FactFilter, Store};

fn facts_of(s: &Store, kind: FactKind, subject: &str) -> Vec<minewatch_store::FactRecord> {
    s.facts(&FactFilter {
        kind: Some(kind),
        subject: Some(subject.to_string()),
        ..FactFilter::default()
    })
    .unwrap()
}

#[test]
fn the_impact_files_import_with_editions_kept_apart() {
    let dir = TempDir::new();
    let mut s = store(&dir, false);
    let r = import(
        &mut s,
        "casualties",
        &research("impact/casualties_by_country.csv"),
    )
    .unwrap();
    assert_eq!(
        (r.rows, r.stats.facts_added, r.stats.facts_superseded),
        (39, 39, 0)
    );
    let r = import(&mut s, "mine-use", &research("impact/mine_use.csv")).unwrap();
    assert_eq!((r.rows, r.stats.facts_added), (85, 85));
    let r = import(
        &mut s,
        "art7-reporting",
        &research("impact/art7_reporting.csv"),
    )
    .unwrap();
    // Oman's "2021;2022" row is two reports.
    assert_eq!((r.rows, r.stats.facts_added), (46, 47));

    // Myanmar 2024 in the 2025 edition.
    let mmr = facts_of(&s, FactKind::CasualtyFigure, "MMR");
    let latest = mmr
        .iter()
        .find_map(|f| match &f.fact.payload {
            Payload::CasualtyFigure(c) if c.data_year == 2024 => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (latest.total, latest.report_edition.as_str()),
        (Some(2029), "LM2025")
    );

    // The 2016 global total: 8,605 in LM2017 and 9,440 in LM2021, two current facts.
    let wld: Vec<_> = facts_of(&s, FactKind::CasualtyFigure, "WLD")
        .into_iter()
        .filter_map(|f| match f.fact.payload {
            Payload::CasualtyFigure(c) if c.data_year == 2016 => Some((c.report_edition, c.total)),
            _ => None,
        })
        .collect();
    assert_eq!(wld.len(), 2, "{wld:?}");
    assert!(wld.contains(&("LM2017".into(), Some(8605))));
    assert!(wld.contains(&("LM2021".into(), Some(9440))));

    // Use in Ukraine: Russia's forces (a state, not Ukraine) and Ukraine's own, with the
    // Monitor's "indications".
    let ukr = facts_of(&s, FactKind::MineActivity, "UKR");
    let by = |state: &str| {
        ukr.iter()
            .filter(|f| matches!(&f.fact.payload, Payload::MineActivity(a) if a.actor_state.as_deref() == Some(state)))
            .count()
    };
    assert_eq!(by("RUS"), 4);
    assert!(ukr.iter().any(|f| matches!(&f.fact.payload,
        Payload::MineActivity(a) if a.actor_state.as_deref() == Some("UKR")
            && a.certainty == Certainty::Indications && a.report_edition.as_deref() == Some("LM2025"))));
    // Armed groups are never attributed to a state.
    let groups = facts_of(&s, FactKind::MineActivity, "COL");
    assert!(!groups.is_empty());
    assert!(groups.iter().all(|f| matches!(&f.fact.payload,
        Payload::MineActivity(a) if a.actor_type == Some(ActorType::NonStateArmedGroup) && a.actor_state.is_none())));

    // Every address of a row is a source, with its address and its host as publisher.
    let src = s
        .source("https-www-devdiscourse-com-article-other-3716053-landmine-casualties-hit-four-ye-60f2a0")
        .unwrap()
        .expect("the devdiscourse source");
    assert_eq!(src.source.publisher.as_deref(), Some("devdiscourse.com"));
    assert!(src
        .source
        .url
        .as_deref()
        .unwrap()
        .starts_with("https://www.devdiscourse.com/"));

    // Re-importing adds nothing.
    let before = counts(&s);
    for (kind, file) in [
        ("casualties", "impact/casualties_by_country.csv"),
        ("mine-use", "impact/mine_use.csv"),
        ("art7-reporting", "impact/art7_reporting.csv"),
    ] {
        let r = import(&mut s, kind, &research(file)).unwrap();
        assert_eq!(r.stats.facts_added + r.stats.facts_superseded, 0, "{kind}");
    }
    assert_eq!(counts(&s), before);
}

/// Imports `body` as `kind` into a fresh store with the reference subjects and asserts that it
/// fails listing every `expected` problem and that nothing was written.
fn rejects(kind: &str, body: &str, expected: &[&str]) {
    let dir = TempDir::new();
    let mut s = store(&dir, false);
    let before = counts(&s);
    let path = dir.file("input.csv", body.as_bytes());
    let o = Options {
        progress: false,
        ..Options::default()
    };
    let err = minewatch_import::import_file(&mut s, Kind::by_name(kind).unwrap(), &path, &o)
        .expect_err("the import should fail");
    let shown = err
        .to_string()
        .replace(&path.display().to_string(), "input.csv");
    for e in expected {
        assert!(shown.contains(e), "expected {e:?} in:\n{shown}");
    }
    assert!(shown.ends_with("nothing was written"), "{shown}");
    assert_eq!(counts(&s), before, "the database changed");
}

const CAS: &str = "country,iso3,data_year,report_edition,killed,injured,total,source,note\n";

#[test]
fn casualty_rows_with_problems_are_each_reported_and_nothing_is_written() {
    let body = format!(
        "{CAS}\
         Myanmar,MMR,2024,LM2025,,,2029,https://a.example/x,\n\
         Myanmar,MMR,2024,2025,,,2029,https://a.example/x,\n\
         Syria,SYR,2026,LM2025,,,10,https://a.example/x,\n\
         GLOBAL,,2024,LM2025,5000,4325,6279,https://a.example/x,\n\
         Syria,SYR,2023,LM2024,-3,,10,https://a.example/x,\n\
         GLOBAL,WLD,2023,LM2024,,,10,https://a.example/x,\n\
         Atlantis,,2023,LM2024,,,10,https://a.example/x,\n\
         Syria,SYR,2022,LM2023,,,12,,\n\
         Syria,SYR,2008-1999,LM2009,,,12,https://a.example/x,\n\
         Myanmar,MMR,2024,LM2025,,,2029,https://a.example/y,\n"
    );
    rejects(
        "casualties",
        &body,
        &[
            "input.csv:3:4: report_edition: cannot read \"2025\" as a report edition; expected LM and a year (LM2025)",
            "input.csv:4:3: data_year: invalid casualty_figure payload: data year 2026 is after the edition's year 2025",
            "input.csv:5:7: total: invalid casualty_figure payload: killed 5000 + injured 4325 is more than the total 6279",
            "input.csv:6:5: killed: negative count -3; expected a whole number (0 or more)",
            "input.csv:7:2: iso3: \"WLD\" beside country GLOBAL; expected no code for the global figure",
            "input.csv:8:1: country: unknown state or area \"Atlantis\"",
            "input.csv:9:8: source: empty; expected one or more sources",
            "input.csv:10:3: data_year: cannot read \"2008-1999\" as a data year",
            "input.csv:11: duplicate row: same casualties:MMR:2024:lm2025 as line 2",
            "9 problems found; nothing was written",
        ],
    );
}

const USE: &str = "report_edition,reporting_period,actor_type,actor,country_of_use,treaty_status_of_state,monitor_wording,source,note\n";

#[test]
fn mine_use_rows_with_problems_are_each_reported_and_nothing_is_written() {
    let body = format!(
        "{USE}\
         LM2025,2024 - mid 2025,state,Russia,Ukraine,not party,confirmed,https://a.example/x,\n\
         LM2025,2024 - mid 2025,rebels,Someone,Ukraine,,used,https://a.example/x,\n\
         LM2025,recently,state,Russia,Ukraine,,used,https://a.example/x,\n\
         LM2025,2024,state,Russia,Ukraine,,,https://a.example/x,\n\
         LM2019,2024,state,Iran,,,used,https://a.example/x,\n\
         LM2025,2024,NSAG,non-state armed groups,India,,used, | ,\n"
    );
    rejects(
        "mine-use",
        &body,
        &[
            "input.csv:3:3: actor_type: \"rebels\" is not allowed here; expected one of: state, NSAG, unattributed",
            "input.csv:4:2: reporting_period: no year in \"recently\"",
            "input.csv:5:7: monitor_wording: empty; expected the Monitor's words",
            "input.csv:6:2: reporting_period: 2024 is after the report edition's year 2019",
            "input.csv:7:8: source: no source between the \" | \" separators",
            "5 problems found; nothing was written",
        ],
    );
}

const ART7: &str = "fact_type,state,iso3,year_covered,value,as_of_date,source,note\n";

#[test]
fn art7_rows_with_problems_are_each_reported_and_nothing_is_written() {
    let body = format!(
        "{ART7}\
         report_submitted,Croatia,HRV,2020,submitted 30 Apr 2021,2021-04-30,https://a.example/x,\n\
         reported_twice,Croatia,HRV,2020,x,2021-04-30,https://a.example/x,\n\
         not_submitted_annual,ALL,,2010,not submitted,2011-12-02,https://a.example/x,\n\
         annual_compliance_rate,Croatia,HRV,2010,52%,2011-12-02,https://a.example/x,\n\
         not_submitted_annual,Chad,TCD,twenty-ten,not submitted,2011-12-02,https://a.example/x,\n\
         not_submitted_annual,Chad,TCD,2012,not submitted,2011-12-02,https://a.example/x,\n\
         report_submitted,Chad,TCD,2010,submitted,2011-02-30,https://a.example/x,\n"
    );
    rejects(
        "art7-reporting",
        &body,
        &[
            "input.csv:3:1: fact_type: \"reported_twice\" is not allowed here",
            "input.csv:4:2: state: ALL for a state's report; expected the state's name",
            "input.csv:5:2: state: a state for a treaty-wide fact; expected ALL",
            "input.csv:6:4: year_covered: cannot read \"twenty-ten\" as a year covered",
            "input.csv:7:4: year_covered: 2012 is not before the as_of_date 2011-12-02",
            "input.csv:8:6: as_of_date: impossible date \"2011-02-30\"",
            "6 problems found; nothing was written",
        ],
    );
}

// ---- pages and twins -------------------------------------------------------------------------

/// The footnote `n`'s list item on a page.
fn footnote(html: &str, n: &str) -> String {
    let start = html
        .find(&format!("<li id=\"fn{n}\""))
        .unwrap_or_else(|| panic!("no footnote {n}"));
    let end = html[start..].find("</li>").unwrap() + start;
    html[start..end].to_string()
}

/// The text between `from` and the next `to`.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not found"));
    let after = start + from.len();
    let end = html[after..].find(to).map_or(html.len(), |e| e + after);
    &html[start..end]
}

#[test]
fn impact_pages_show_the_latest_edition_and_their_twins_agree() {
    let server = Server::start();

    // Myanmar: the chart's 2024 point is the 2025 edition's 2,029, footnoted to its source.
    let mmr = page(&server, "/states/MMR");
    let section = between(&mmr, "id=\"casualties\"", "</section>");
    assert!(section.contains("id=\"casualties-chart\""), "{section}");
    assert!(
        section.contains(r#"Last updated: <time datetime="2025">2025</time>"#),
        "{section}"
    );
    let point = between(section, "id=\"casualties-chart-2024\"", "</g>");
    assert!(point.contains("2,029"), "{point}");
    assert!(point.contains("LM2025 edition"), "{point}");
    let href = between(point, "href=\"#fn", "\"");
    let n = &href["href=\"#fn".len()..];
    assert!(
        footnote(&mmr, n).contains("world-today-news.com"),
        "{}",
        footnote(&mmr, n)
    );
    // Use in Myanmar: the state's forces and armed groups, in the Monitor's words.
    let uses = between(&mmr, "id=\"use-production-transfer\"", "</section>");
    assert!(
        text(uses).contains("Myanmar armed forces (state) Myanmar confirmed ('extensive use')"),
        "{}",
        text(uses)
    );
    assert!(text(uses).contains("non-state armed groups (non-state armed group)"));

    // The section twins agree with the page and with the profile's twin.
    let cas = twin(&server, "/states/MMR/casualties.json");
    let by_year = cas["by_year"].as_array().unwrap();
    let last = by_year.last().unwrap();
    assert_eq!(
        (last["data_year"].as_i64(), last["total"].as_u64()),
        (Some(2024), Some(2029))
    );
    assert_eq!(last["report_edition"], "LM2025");
    let profile = twin(&server, "/states/MMR.json");
    // A section's twin is the profile's section, with its own citation and terms.
    let without_cite = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            assert!(o.remove("cite").is_some() && o.remove("licence").is_some());
        }
        v
    };
    assert_eq!(profile["casualties"], without_cite(&cas));
    assert_eq!(
        profile["use_reports"],
        without_cite(&twin(&server, "/states/MMR/use.json"))
    );
    let table_rows = between(section, "<tbody>", "</tbody>")
        .matches("<tr")
        .count();
    assert_eq!(table_rows, by_year.len());
    let (status, ct, csv) = server.get_text("/states/MMR/casualties.csv");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), by_year.len());
    let r2024 = rows.iter().find(|r| &r[1] == "2024").unwrap();
    assert_eq!((&r2024[3], &r2024[6]), ("LM2025", "2029"));

    // Contamination and clearance: Cambodia's Art. 5 history, and one line for land release.
    let khm = page(&server, "/states/KHM");
    let clearance = between(&khm, "id=\"clearance\"", "</section>");
    assert!(clearance.contains("art5-timeline"), "{clearance}");
    assert_eq!(
        clearance
            .matches("No land release figures by year recorded.")
            .count(),
        1
    );

    // A profile without casualty figures says so in one line.
    let can = page(&server, "/states/CAN");
    let section = between(&can, "id=\"casualties\"", "</section>");
    assert_eq!(
        section.matches("No casualty figures recorded.").count(),
        1,
        "{section}"
    );
    assert!(!section.contains("<svg"));
    assert!(
        twin(&server, "/states/CAN/casualties.json")["empty"] == "No casualty figures recorded."
    );

    // Transparency: Afghanistan's update for 2010 is recorded missing, Croatia's 2020 update
    // submitted on time, Equatorial Guinea's initial report missing.
    let art7 = |code: &str, report: &str| {
        let t = twin(&server, &format!("/states/{code}/transparency.json"));
        t["reports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["report"] == report)
            .map(|r| r["state"].as_str().unwrap().to_string())
    };
    assert_eq!(
        art7("AFG", "annual update covering 2010").as_deref(),
        Some("missing")
    );
    assert_eq!(
        art7("AFG", "annual update covering 2005").as_deref(),
        Some("not known")
    );
    assert_eq!(
        art7("HRV", "annual update covering 2020").as_deref(),
        Some("submitted")
    );
    assert_eq!(art7("GNQ", "initial report").as_deref(), Some("missing"));
    let afg = page(&server, "/states/AFG");
    assert!(text(between(&afg, "id=\"transparency\"", "</section>"))
        .contains("annual update covering 2010"));

    // An armed group's use in Colombia is not Colombia's act; Ukraine's own forces' use is a
    // finding, in the Monitor's degree ("indications").
    let findings = |code: &str| {
        twin(&server, &format!("/states/{code}.json"))["status"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "apm_use_by_state_party")
            .map(|f| f["summary"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(findings("COL").is_empty(), "{:?}", findings("COL"));
    assert!(
        findings("UKR")
            .iter()
            .any(|s| s.starts_with("indicated use")),
        "{:?}",
        findings("UKR")
    );
}

#[test]
fn world_casualties_and_use_pages_with_their_twins() {
    let server = Server::start();
    let html = page(&server, "/casualties");
    let t = text(&html);
    assert!(
        t.contains("revised from 8,605 in the LM2017 edition"),
        "{t}"
    );
    assert!(t.contains("revised from 5,554 in the LM2020 edition"));
    assert!(html.contains("id=\"world-casualties-chart\""));
    assert!(t.contains("Countries with the most casualties in LM2025"));
    let data = twin(&server, "/casualties.json");
    let y2016 = data["global"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["data_year"] == 2016)
        .unwrap();
    assert_eq!(y2016["total"], 9440);
    assert_eq!(y2016["revised_from"][0]["total"], 8605);
    let top = data["top_countries"].as_array().unwrap();
    assert_eq!(
        (top[0]["subject"].as_str(), top[0]["total"].as_u64()),
        (Some("MMR"), Some(2029))
    );
    let (_, _, csv) = server.get_text("/casualties.csv");
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(rows, data["global"].as_array().unwrap().len() + top.len());

    // As the 2017 edition left them: 8,605 for 2016, nothing later.
    let old = twin(&server, "/casualties.json?edition=LM2017");
    let global = old["global"].as_array().unwrap();
    assert_eq!(global.last().unwrap()["data_year"], 2016);
    assert_eq!(global.last().unwrap()["total"], 8605);
    assert!(global
        .iter()
        .all(|p| p["edition_year"].as_i64() <= Some(2017)));
    let (status, _, body) = server.get_text("/casualties.json?edition=latest");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("expected a report edition such as LM2017"),
        "{body}"
    );

    // /use: the 2025 edition's users, states and armed groups, in the Monitor's words.
    let html = page(&server, "/use");
    let lm2025 = text(between(&html, "id=\"edition-lm2025\"", "</section>"));
    for who in [
        "Myanmar armed forces",
        "Russia",
        "Iran",
        "North Korea",
        "Ukraine armed forces",
        "Cambodian forces (alleged by Thailand)",
        "non-state armed groups",
    ] {
        assert!(lm2025.contains(who), "{who} missing from {lm2025}");
    }
    assert!(lm2025.contains("allegation (denied by Cambodia)"));
    let data = twin(&server, "/use.json");
    let first = &data["editions"][0];
    assert_eq!(first["report_edition"], "LM2025");
    assert_eq!(first["states"].as_array().unwrap().len(), 6);
    assert_eq!(first["armed_groups"].as_array().unwrap().len(), 1);
    let (_, _, csv) = server.get_text("/use.csv");
    let lm2025_rows = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[0] == "LM2025")
        .count();
    assert_eq!(lm2025_rows, 7);
    // Both are in the sitemap and the navigation.
    let (_, _, sitemap) = server.get_text("/sitemap.xml");
    assert!(sitemap.contains("/casualties</loc>") && sitemap.contains("/use</loc>"));
    assert!(html.contains("<a href=\"/casualties\""));
}
