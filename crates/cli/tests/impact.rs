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
    let r = import(&mut s, "casualties", &research("impact/casualties_by_country.csv")).unwrap();
    assert_eq!((r.rows, r.stats.facts_added, r.stats.facts_superseded), (39, 39, 0));
    let r = import(&mut s, "mine-use", &research("impact/mine_use.csv")).unwrap();
    assert_eq!((r.rows, r.stats.facts_added), (85, 85));
    let r = import(&mut s, "art7-reporting", &research("impact/art7_reporting.csv")).unwrap();
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
    assert_eq!((latest.total, latest.report_edition.as_str()), (Some(2029), "LM2025"));

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
    assert!(src.source.url.as_deref().unwrap().starts_with("https://www.devdiscourse.com/"));

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
    let shown = err.to_string().replace(&path.display().to_string(), "input.csv");
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
