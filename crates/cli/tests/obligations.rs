//! Obligations on the real shipped record: one as-of rule for the store and the engine, the
//! Article 5 histories from data/research/treaty/art5_events.csv and the older impact chains,
//! treaty meetings, succession; and the importers' checks of those files.

use crate::support::{research, TempDir};
use minewatch_domain::{Date, FactKind};
use minewatch_import::{Kind, Options};
use minewatch_store::{FactFilter, Store};
use minewatch_treaty::{Art5State, Engine, FindingKind, ObligationState, StatusReport};
use proptest::prelude::*;
use std::sync::OnceLock;

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// The shipped record in memory (loaded once per test process).
fn store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    minewatch_import::shipped::load(&mut s).unwrap();
    s
}

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| minewatch_answers::derived::build_engine(&store()).unwrap())
}

fn art5(r: &StatusReport) -> &minewatch_treaty::Obligation {
    r.obligations
        .iter()
        .find(|o| o.article == "Art. 5")
        .unwrap_or_else(|| panic!("no Art. 5 obligation for {}", r.code))
}

fn texts(r: &StatusReport) -> String {
    let mut out = String::new();
    for o in &r.obligations {
        for x in &o.reasons {
            out.push_str(&x.text);
            out.push('\n');
        }
    }
    for f in &r.findings {
        out.push_str(&f.summary);
        out.push('\n');
    }
    for x in &r.reasons {
        out.push_str(&x.text);
        out.push('\n');
    }
    out
}

#[test]
fn ukraine_in_2010_has_only_its_original_deadline() {
    // The 2018 grant (17MSP) to 1 June 2021 had not happened; the record used to show it.
    let r = engine().status("UKR", d("2010-01-01"));
    assert_eq!(r.deadlines.art5_original, Some(d("2016-06-01")));
    assert_eq!(r.deadlines.art5, Some(d("2016-06-01")), "{}", texts(&r));
    assert!(!texts(&r).contains("2021"), "{}", texts(&r));
}

#[test]
fn ukraine_on_13_december_2017_missed_its_deadline_with_no_extension_yet() {
    let r = engine().status("UKR", d("2017-12-13"));
    let a5 = art5(&r);
    assert_eq!(a5.state, ObligationState::MissedWithoutExtension, "{a5:?}");
    assert_eq!(a5.due, Some(d("2016-06-01")));
    assert!(a5.overdue);
    // After the 17MSP (closing day 30 November 2018): extended to 1 June 2021.
    let r = engine().status("UKR", d("2019-01-01"));
    assert_eq!(art5(&r).state, ObligationState::Extended);
    assert_eq!(r.deadlines.art5, Some(d("2021-06-01")));
    let h = engine().art5_history("UKR", d("2026-11-01")).unwrap();
    assert_eq!(h.current_deadline, Some(d("2033-12-01")));
    assert!(h.extensions.len() >= 2, "{:?}", h.extensions);
}

#[test]
fn cambodia_before_and_after_the_second_review_conference() {
    // Cartagena, 29 November (or 30 November) to 4 December 2009: the 2RC granted the first
    // extension. Before it, only the original deadline; after it, 1 January 2020.
    let before = engine().art5_history("KHM", d("2009-09-01")).unwrap();
    assert_eq!(before.current_deadline, Some(d("2010-01-01")));
    assert!(before.extensions.is_empty());
    assert_eq!(before.state, Art5State::OnTrack);
    let after = engine().art5_history("KHM", d("2010-01-01")).unwrap();
    assert_eq!(after.current_deadline, Some(d("2020-01-01")));
    assert_eq!(after.extensions.len(), 1);
    assert_eq!(after.extensions[0].meeting.as_deref(), Some("2RC"));
    assert_eq!(after.state, Art5State::Extended);
    // The 4RC (2019) and the 22MSP (2025) extended it again.
    let now = engine().art5_history("KHM", d("2026-11-01")).unwrap();
    assert_eq!(now.current_deadline, Some(d("2030-12-31")));
    assert_eq!(now.extensions.len(), 3, "{:?}", now.extensions);
}

#[test]
fn south_sudan_is_bound_from_the_date_of_succession() {
    let r = engine().status("SSD", d("2012-06-01"));
    assert_eq!(r.entry_into_force, Some(d("2011-07-09")), "{}", texts(&r));
    assert_eq!(r.deadlines.art5_original, Some(d("2021-07-09")));
    assert_eq!(r.deadlines.art7_initial, Some(d("2012-01-05")));
    assert!(
        texts(&r).contains("date of State succession"),
        "{}",
        texts(&r)
    );
    assert!(r.reasons.iter().any(|x| x
        .citations
        .iter()
        .any(|c| c.source == "isu-membership-south-sudan")));
    // Before its notification (11 November 2011) nothing binds it.
    let r = engine().status("SSD", d("2011-10-01"));
    assert_eq!(r.entry_into_force, None);
}

#[test]
fn montenegro_dated_like_an_accession_is_a_finding() {
    let r = engine().status("MNE", d("2012-01-01"));
    assert_eq!(r.entry_into_force, Some(d("2007-04-01")));
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::SuccessionDating)
        .unwrap_or_else(|| panic!("no succession finding: {:?}", r.findings));
    assert!(f.summary.contains("3 June 2006"), "{}", f.summary);
    assert!(f.summary.contains("1 April 2007"), "{}", f.summary);
}

#[test]
fn algeria_completed_on_10_february_2017_within_its_extension() {
    let h = engine().art5_history("DZA", d("2026-11-01")).unwrap();
    assert_eq!(
        h.completed.map(|p| p.to_string()).as_deref(),
        Some("2017-02-10")
    );
    assert_eq!(h.state, Art5State::Completed, "{:?}", h.reasons);
    assert_eq!(h.current_deadline, Some(d("2017-04-01")));
    // The grant has no date of its own; the ISU's 12MSP report of 5 December 2012 gives its
    // deadline, so it is known from then and not before.
    let h = engine().art5_history("DZA", d("2012-12-05")).unwrap();
    assert_eq!(h.current_deadline, Some(d("2017-04-01")));
    let h = engine().art5_history("DZA", d("2012-12-04")).unwrap();
    assert_eq!(h.current_deadline, Some(d("2012-04-01")));
}

#[test]
fn nigeria_completed_and_its_obligation_was_reinstated() {
    let done = engine().art5_history("NGA", d("2015-01-01")).unwrap();
    assert!(done.state.is_completed(), "{:?}", done.state);
    let now = engine().art5_history("NGA", d("2026-11-01")).unwrap();
    assert!(now.reinstated.is_some(), "{:?}", now.reasons);
    assert!(!now.state.is_completed(), "{:?}", now.state);
    // Extended at the 19MSP after the reinstatement; the sources give no new deadline.
    assert_eq!(now.state, Art5State::Extended, "{:?}", now.reasons);
    assert_eq!(
        now.extensions.last().and_then(|x| x.meeting.as_deref()),
        Some("19MSP")
    );
    assert_eq!(now.current_deadline, None);
}

#[test]
fn conflicting_deadlines_for_one_decision_are_reported_not_hidden() {
    // Mozambique, 13MSP: the ISU gives 31 December 2014, the Monitor 1 January 2015.
    let h = engine().art5_history("MOZ", d("2014-06-01")).unwrap();
    assert_eq!(h.current_deadline, Some(d("2014-12-31")), "{:?}", h.reasons);
    let words: Vec<&str> = h.conflicts.iter().map(|c| c.text.as_str()).collect();
    assert!(
        words.iter().any(|w| w.contains("1 January 2015")),
        "{words:?}"
    );
    // The status carries it as a finding too, with both facts cited.
    let r = engine().status("MOZ", d("2014-06-01"));
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Art5Conflict)
        .unwrap_or_else(|| panic!("no Art. 5 conflict finding: {:?}", r.findings));
    assert!(f.summary.contains("13MSP"), "{}", f.summary);
    assert!(f.reasons[0].facts.len() >= 2, "{:?}", f.reasons);
    // Afghanistan's stockpile: completed in 2006 (ISU) or October 2007 (Monitor); its deadline
    // was 1 March 2007, so whether it was on time is disputed, not decided.
    let r = engine().status("AFG", d("2026-11-01"));
    let a4 = r
        .obligations
        .iter()
        .find(|o| o.article == "Art. 4")
        .unwrap();
    assert_eq!(a4.state, ObligationState::Completed, "{a4:?}");
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::ConflictingSources && f.article == "Art. 4"));
}

#[test]
fn meetings_keep_both_versions_of_disputed_dates() {
    let e = engine();
    let m = e.meeting("12msp").unwrap();
    assert_eq!(m.end, Some(d("2012-12-07")));
    assert!(!m.disputed);
    let rc2 = e.meeting("2RC").unwrap();
    assert!(rc2.disputed);
    assert_eq!(rc2.versions.len(), 2);
    assert_eq!(rc2.start, Some(d("2009-11-29")));
    assert_eq!(rc2.end, Some(d("2009-12-04")));
    let decided = e.meeting_decisions("12MSP", d("2026-11-01"));
    for code in ["AFG", "AGO"] {
        assert!(
            decided.iter().any(|x| x.subject == code),
            "{code} not among {decided:?}"
        );
    }
    assert!(e.meetings().len() >= 27, "{}", e.meetings().len());
}

#[test]
fn two_files_that_agree_make_one_fact_with_two_citations() {
    let s = store();
    let facts = s
        .facts(&FactFilter {
            kind: Some(FactKind::Art5Event),
            ..FactFilter::default()
        })
        .unwrap();
    let merged = facts
        .iter()
        .filter(|f| {
            let mut keys: Vec<&str> = f.fact.citations.iter().map(|c| c.source.as_str()).collect();
            keys.dedup();
            keys.len() >= 2
        })
        .count();
    assert!(merged >= 10, "{merged} Art. 5 facts with two sources");
    // The same key is never current twice.
    let mut keys: Vec<&str> = facts.iter().map(|f| f.key.as_str()).collect();
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The store's as-of read and the engine see the same facts on any date: one rule.
    #[test]
    fn store_and_engine_agree_on_the_facts_of_a_date(days in 0i64..12_000, code in 0usize..6) {
        static S: OnceLock<std::sync::Mutex<Store>> = OnceLock::new();
        let s = S.get_or_init(|| std::sync::Mutex::new(store())).lock().unwrap();
        let on = d("1995-01-01").add_days(days).unwrap();
        let subject = ["UKR", "KHM", "DZA", "USA", "SSD", "WLD"][code];
        let mut from_store: Vec<i64> = s
            .facts(&FactFilter { subject: Some(subject.into()), as_of: Some(on), ..FactFilter::default() })
            .unwrap()
            .iter()
            .map(|f| f.fact.id)
            .collect();
        let e = engine();
        let mut from_engine: Vec<i64> = e
            .facts()
            .iter()
            .filter(|f| f.subject == subject && e.known(f).visible(on))
            .map(|f| f.id)
            .collect();
        from_store.sort_unstable();
        from_engine.sort_unstable();
        prop_assert_eq!(from_store, from_engine, "on {}", on);
    }
}

// ---- the importers' checks -------------------------------------------------------------------

fn opts() -> Options {
    Options {
        recorded_by: "test".into(),
        progress: false,
        ..Options::default()
    }
}

/// A store with the subjects, curated sources and the meetings file.
fn meeting_store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    minewatch_import::shipped::load_subjects(&mut s).unwrap();
    minewatch_import::import_file(
        &mut s,
        Kind::by_name("meetings").unwrap(),
        &research("treaty/meetings.csv"),
        &opts(),
    )
    .unwrap();
    s
}

fn fact_count(s: &Store) -> usize {
    s.facts(&FactFilter::default()).unwrap().len()
}

fn rejects(kind: &str, body: &str, expected: &[&str]) {
    let dir = TempDir::new();
    let mut s = meeting_store();
    let before = fact_count(&s);
    let path = dir.file("events.csv", body.as_bytes());
    let err = minewatch_import::import_file(&mut s, Kind::by_name(kind).unwrap(), &path, &opts())
        .expect_err("the import should fail");
    let shown = err
        .to_string()
        .replace(&path.display().to_string(), "events.csv");
    for e in expected {
        assert!(shown.contains(e), "expected {e:?} in:\n{shown}");
    }
    assert!(shown.ends_with("nothing was written"), "{shown}");
    assert_eq!(fact_count(&s), before, "the database changed");
}

const ART5_HEADER: &str = "state,iso3,event,date,meeting,new_deadline,source,quote,note\n";

#[test]
fn art5_events_unknown_meeting_lists_the_recorded_ones() {
    rejects(
        "art5-events",
        &format!("{ART5_HEADER}Angola,AGO,extension_granted,2012-12-07,25MSP,2018-01-01,https://example.org/a,,\n"),
        &["events.csv:2:5: meeting: unknown meeting \"25MSP\"", "12MSP"],
    );
}

#[test]
fn art5_events_new_deadline_before_the_grant() {
    rejects(
        "art5-events",
        &format!("{ART5_HEADER}Angola,AGO,extension_granted,2012-12-07,12MSP,2011-01-01,https://example.org/a,,\n"),
        &["events.csv:2:6: new_deadline: new deadline 2011-01-01 is before the grant (2012-12-07)"],
    );
}

#[test]
fn art5_events_grant_outside_its_meeting() {
    rejects(
        "art5-events",
        &format!("{ART5_HEADER}Angola,AGO,extension_granted,2012-11-07,12MSP,2018-01-01,https://example.org/a,,\n"),
        &["events.csv:2:4: date: 2012-11-07 is not during the 12MSP (3 December 2012 to 7 December 2012)"],
    );
}

#[test]
fn art5_events_grant_with_nothing_to_place_it() {
    rejects(
        "art5-events",
        &format!("{ART5_HEADER}Angola,AGO,extension_granted,,,,https://example.org/a,,\n"),
        &["events.csv:2:4: date: a grant with no date, no meeting and no new deadline"],
    );
}

#[test]
fn art5_events_unknown_event_and_mismatched_code_are_all_reported() {
    rejects(
        "art5-events",
        &format!(
            "{ART5_HEADER}Angola,AGO,extension_denied,2012-12-07,12MSP,,https://example.org/a,,\n\
             Angola,KHM,completion_declared,2012-12-07,,,https://example.org/a,,\n"
        ),
        &[
            "events.csv:2:3: event: ",
            "extension_granted",
            "events.csv:3:1: state: the name resolves to AGO but the code column says KHM",
            "2 problems found",
        ],
    );
}

#[test]
fn meetings_file_checks_codes_and_dates() {
    let dir = TempDir::new();
    let mut s = Store::open_in_memory().unwrap();
    minewatch_import::shipped::load_subjects(&mut s).unwrap();
    let path = dir.file(
        "meetings.csv",
        b"meeting,name,city,start,end,source,quote,note\n\
          12 MSP,Twelfth,Geneva,2012-12-03,2012-12-07,https://example.org/m,,\n\
          13MSP,Thirteenth,Geneva,2013-12-05,2013-12-02,https://example.org/m,,\n",
    );
    let err =
        minewatch_import::import_file(&mut s, Kind::by_name("meetings").unwrap(), &path, &opts())
            .expect_err("bad meetings");
    let shown = err
        .to_string()
        .replace(&path.display().to_string(), "meetings.csv");
    assert!(
        shown.contains("meetings.csv:2:1: meeting: \"12 MSP\" is not a meeting code"),
        "{shown}"
    );
    assert!(
        shown.contains("meetings.csv:3:5: end: 2013-12-02 is before the start 2013-12-05"),
        "{shown}"
    );
    assert_eq!(fact_count(&s), 0);
}

#[test]
fn every_treaty_history_file_imports() {
    let mut s = meeting_store();
    for (kind, file) in [
        ("art5-events", "treaty/art5_events.csv"),
        ("art5-status", "impact/art5_status.csv"),
        ("art4-events", "treaty/art4_events.csv"),
        ("art4-status", "impact/art4_status.csv"),
    ] {
        let r = minewatch_import::import_file(
            &mut s,
            Kind::by_name(kind).unwrap(),
            &research(file),
            &opts(),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(r.stats.facts_added > 0, "{file}: {r}");
    }
    // Re-importing either file adds nothing, not even a new version: the merged facts
    // already cite both.
    let all = |s: &Store| s.latest(usize::MAX, None).unwrap().len();
    let before = all(&s);
    for (kind, file) in [
        ("art5-events", "treaty/art5_events.csv"),
        ("art5-status", "impact/art5_status.csv"),
    ] {
        minewatch_import::import_file(
            &mut s,
            Kind::by_name(kind).unwrap(),
            &research(file),
            &opts(),
        )
        .unwrap();
    }
    assert_eq!(all(&s), before);
}
