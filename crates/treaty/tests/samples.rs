//! The engine on the real rows of the shared data (parties, samples of actions, conflicts,
//! Art. 5 extensions, UN votes).
#![allow(clippy::unwrap_used)]

mod common;

use common::{add_parties, add_samples, d, Facts};
use minewatch_domain::fact::Vote;
use minewatch_treaty::{Basis, Engine, FindingKind, ObligationState, Status, StatusReport};

fn engine() -> Engine {
    let mut f = Facts::new();
    add_parties(&mut f);
    add_samples(&mut f);
    Engine::from_facts(f.facts)
}

fn texts(r: &StatusReport) -> String {
    r.reasons
        .iter()
        .map(|x| x.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_40th_deposit_is_derived_from_the_record() {
    let e = engine();
    assert_eq!(e.fortieth_deposit(), (d("1998-09-16"), true));
    assert_eq!(e.general_entry_into_force(), d("1999-03-01"));
    for code in ["BFA", "GNQ", "CAN", "IRL", "MUS"] {
        let r = e.status(code, d("2000-01-01"));
        assert_eq!(r.entry_into_force, Some(d("1999-03-01")), "{code}");
        assert_eq!(r.status, Status::StateParty);
    }
    let bfa = e.status("BFA", d("2000-01-01"));
    assert!(texts(&bfa).contains(
        "the 40th instrument was deposited on 16 September 1998 (40 deposits recorded by that day)"
    ));
    assert!(bfa.reasons.iter().any(|r| r.article == "Art. 17(1)"));
    // Before the 40th instrument, entry into force is not yet known.
    let can = e.status("CAN", d("1998-09-15"));
    assert_eq!(can.status, Status::Deposited);
    assert_eq!(can.entry_into_force, None);
    assert!(
        texts(&can).contains("38 instruments deposited by 15 September 1998"),
        "{}",
        texts(&can)
    );
    assert_eq!(
        e.status("CAN", d("1998-09-16")).entry_into_force,
        Some(d("1999-03-01"))
    );
    assert_eq!(e.status("CAN", d("1999-02-28")).status, Status::Deposited);
    assert_eq!(e.status("CAN", d("1999-03-01")).status, Status::StateParty);
}

#[test]
fn cambodia_enters_into_force_on_1_january_2000_with_its_extensions() {
    let e = engine();
    let r = e.status("KHM", d("2024-01-01"));
    assert_eq!(r.status, Status::StateParty);
    assert_eq!(r.entry_into_force, Some(d("2000-01-01")));
    let t = texts(&r);
    assert!(
        t.contains("deposited 28 July 1999; in force on the first day of the sixth month after the month of deposit: 1 January 2000"),
        "{t}"
    );
    assert!(r.reasons.iter().any(
        |x| x.article == "Art. 17(2)" && x.citations.iter().any(|c| c.source == "untc-xxvi-5")
    ));
    assert_eq!(r.deadlines.art4, Some(d("2004-01-01")));
    assert_eq!(r.deadlines.art5_original, Some(d("2010-01-01")));
    assert_eq!(r.deadlines.art5, Some(d("2025-12-31")));
    assert_eq!(r.deadlines.art7_initial, Some(d("2000-06-29")));
    let a5 = r
        .obligations
        .iter()
        .find(|o| o.article == "Art. 5")
        .unwrap();
    assert_eq!(a5.state, ObligationState::Extended);
    assert_eq!(a5.due, Some(d("2025-12-31")));
    // After the extended deadline with nothing recorded: unknown, never missed.
    let later = e.status("KHM", d("2026-06-01"));
    let a5 = later
        .obligations
        .iter()
        .find(|o| o.article == "Art. 5")
        .unwrap();
    assert_eq!(a5.state, ObligationState::Unknown);
    assert!(!a5.overdue);
    assert!(a5.reasons.iter().any(|x| x
        .text
        .contains("neither completion, a missed deadline nor a further extension")));
}

#[test]
fn marshall_islands_and_tonga_in_2025() {
    let e = engine();
    let m = e.status("MHL", d("2025-08-31"));
    assert_eq!(m.status, Status::Deposited);
    assert_eq!(m.entry_into_force, Some(d("2025-09-01")));
    assert_eq!(e.status("MHL", d("2025-09-01")).status, Status::StateParty);
    assert_eq!(e.status("MHL", d("2025-03-11")).status, Status::Signatory);
    assert_eq!(
        e.status("TON", d("2025-06-24")).status,
        Status::NonSignatory
    );
    assert_eq!(
        e.status("TON", d("2025-07-01")).entry_into_force,
        Some(d("2025-12-01"))
    );
    assert_eq!(e.status("TON", d("2025-12-01")).status, Status::StateParty);
}

#[test]
fn the_2025_withdrawals_take_effect_six_months_after_notice() {
    let e = engine();
    for (code, notice, effective) in [
        ("EST", "2025-06-27", "2025-12-27"),
        ("LVA", "2025-06-27", "2025-12-27"),
        ("LTU", "2025-06-27", "2025-12-27"),
        ("FIN", "2025-07-10", "2026-01-10"),
        ("POL", "2025-08-20", "2026-02-20"),
    ] {
        let eff = d(effective);
        let before = e.status(code, eff.add_days(-1).unwrap());
        assert_eq!(before.status, Status::WithdrawalPending, "{code}");
        assert_eq!(
            before.withdrawal_notified.map(|x| x.to_string()),
            Some(notice.to_string())
        );
        assert_eq!(before.withdrawal_effective, Some(eff), "{code}");
        assert!(!before.withdrawal_deferred);
        assert!(before.reasons.iter().any(|r| r.article == "Art. 20(2)"));
        let after = e.status(code, eff);
        assert_eq!(after.status, Status::Withdrawn, "{code}");
        assert_eq!(
            e.status(code, d(notice).add_days(-1).unwrap()).status,
            Status::StateParty
        );
    }
    let pol = e.status("POL", d("2025-09-01"));
    assert!(
        texts(&pol).contains("date inferred by the source"),
        "{}",
        texts(&pol)
    );
}

#[test]
fn ukraine_suspension_changes_nothing() {
    let e = engine();
    let r = e.status("UKR", d("2025-11-22"));
    assert_eq!(r.status, Status::StateParty);
    assert_eq!(r.entry_into_force, Some(d("2006-06-01")));
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::SuspensionDeclaration)
        .expect("suspension finding");
    assert!(f.article.contains("Art. 19") && f.article.contains("Art. 20"));
    assert!(f.summary.contains("remains state_party"), "{}", f.summary);
    assert!(f
        .reasons
        .iter()
        .any(|x| x.article == "Art. 20(3)" && x.text.contains("armed conflict from 2022")));
    // Art. 5: original 1 June 2016, extended to 1 June 2021; the missed original is history.
    assert_eq!(r.deadlines.art5_original, Some(d("2016-06-01")));
    assert_eq!(r.deadlines.art5, Some(d("2021-06-01")));
    let a5 = r
        .obligations
        .iter()
        .find(|o| o.article == "Art. 5")
        .unwrap();
    assert_eq!(a5.state, ObligationState::Unknown);
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::Art5DeadlineMissed));
    assert!(a5.reasons.iter().any(|x| x
        .text
        .contains("extension requested in 2020 to 1 December 2023")));
}

#[test]
fn ukraine_style_withdrawal_is_deferred_by_armed_conflict() {
    let mut f = Facts::new();
    add_parties(&mut f);
    add_samples(&mut f);
    f.notice("UKR", "2025-09-01", &["hypothetical"]);
    let e = Engine::from_facts(f.facts);
    let r = e.status("UKR", d("2026-06-01"));
    assert_eq!(r.status, Status::WithdrawalPending);
    assert_eq!(r.withdrawal_effective, None);
    assert!(r.withdrawal_deferred);
    assert!(r
        .reasons
        .iter()
        .any(|x| x.article == "Art. 20(3)" && x.text.contains("deferred")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::WithdrawalDeferred));
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["withdrawal_effective"].is_null());
}

#[test]
fn conflict_ending_moves_the_withdrawal_to_the_day_after() {
    let mut f = Facts::new();
    f.sign("XAA", "1997-12-03", &["s"]);
    f.deposit(
        "XAA",
        "1999-01-10",
        minewatch_domain::fact::DepositMethod::Ratification,
        &["s"],
    );
    f.notice("XAA", "2030-01-15", &["s"]);
    f.conflict("XAA", "2029-05", Some("2030-09-30"), &["c"]);
    let e = Engine::from_facts(f.facts);
    // Before the end is reached, the conflict counts as ongoing.
    let mid = e.status("XAA", d("2030-08-01"));
    assert_eq!(mid.status, Status::WithdrawalPending);
    assert_eq!(mid.withdrawal_effective, None);
    let after = e.status("XAA", d("2030-10-01"));
    assert_eq!(after.withdrawal_effective, Some(d("2030-10-01")));
    assert_eq!(after.status, Status::Withdrawn);
    assert_eq!(
        e.status("XAA", d("2030-09-30")).status,
        Status::WithdrawalPending
    );
}

#[test]
fn conflicting_deposit_dates_use_the_preferred_fact_and_say_so() {
    let e = engine();
    let r = e.status("IDN", d("2010-01-01"));
    assert_eq!(
        r.deposited.map(|x| x.to_string()),
        Some("2007-02-20".into())
    );
    assert_eq!(r.entry_into_force, Some(d("2007-08-01")));
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::ConflictingSources)
        .expect("conflict");
    assert!(
        f.summary.contains("16 February 2007") && f.summary.contains("20 February 2007"),
        "{}",
        f.summary
    );
    assert!(
        f.summary
            .contains("entry into force is 1 August 2007 either way"),
        "{}",
        f.summary
    );
    let cited: Vec<&str> = f
        .reasons
        .iter()
        .flat_map(|r| r.citations.iter().map(|c| c.source.as_str()))
        .collect();
    assert!(cited.contains(&"untc-xxvi-5") && cited.contains(&"icbl-2007-indonesia"));
    assert!(f
        .reasons
        .iter()
        .any(|r| r.text.contains("cited by more sources")));
    let p = e.status("PLW", d("2010-01-01"));
    assert_eq!(
        p.deposited.map(|x| x.to_string()),
        Some("2007-11-18".into())
    );
    assert_eq!(p.entry_into_force, Some(d("2008-05-01")));
    assert!(p
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::ConflictingSources));
    // Between the two dates, the preferred (later) date has not happened yet.
    assert_eq!(e.status("IDN", d("2007-02-18")).status, Status::Signatory);
}

#[test]
fn counts_on_dates() {
    let e = engine();
    let p = |date: &str, b: Basis| e.parties(d(date), b).count;
    assert_eq!(p("2017-12-31", Basis::Deposit), 164);
    assert_eq!(p("2017-12-31", Basis::Eif), 162);
    assert_eq!(p("2018-06-01", Basis::Eif), 164);
    assert_eq!(p("2024-12-31", Basis::Eif), 164);
    assert_eq!(p("2024-12-31", Basis::Deposit), 164);
    assert_eq!(p("2025-03-12", Basis::Deposit), 165);
    assert_eq!(p("2025-09-01", Basis::Eif), 165);
    assert_eq!(p("2025-12-01", Basis::Eif), 166);
    assert_eq!(p("2025-12-27", Basis::Eif), 163);
    assert_eq!(p("2025-12-27", Basis::Deposit), 163);
    assert_eq!(p("2026-01-10", Basis::Eif), 162);
    assert_eq!(p("2026-02-20", Basis::Eif), 161);
    let parties = e.parties(d("2026-02-20"), Basis::Eif);
    assert!(!parties.states.contains(&"POL".to_string()));
    assert!(parties.states.windows(2).all(|w| w[0] < w[1]));
    let json = serde_json::to_value(&parties).unwrap();
    assert_eq!(json["basis"], "eif");
    assert_eq!(json["as_of"], "2026-02-20");
    assert_eq!(json["count"], 161);
    assert!(json["states"].as_array().unwrap().len() == 161);

    let all = ["USA", "RUS", "CHN", "MHL", "CAN"];
    let c = e.counts(d("2025-01-01"), &all);
    assert_eq!(c.signatories.states, vec!["MHL".to_string()]);
    assert_eq!(c.non_signatories.states, vec!["CHN", "RUS", "TON", "USA"]);
    assert_eq!(c.parties_by_eif.count, 164);
    let c = e.counts(d("2026-03-01"), &all);
    assert_eq!(c.withdrawn.states, vec!["EST", "FIN", "LTU", "LVA", "POL"]);
}

#[test]
fn daily_series_agrees_with_counts() {
    let e = engine();
    for basis in [Basis::Eif, Basis::Deposit] {
        let s = e.parties_series(d("1997-01-01"), d("2026-11-22"), basis);
        assert_eq!(s.first().unwrap().date, d("1997-01-01"));
        assert_eq!(s.last().unwrap().date, d("2026-11-22"));
        for p in s.iter().step_by(97).chain(s.last()) {
            assert_eq!(
                p.count,
                e.parties(p.date, basis).count,
                "{} {basis:?}",
                p.date
            );
        }
        for date in [
            "1999-03-01",
            "2025-12-27",
            "2026-01-10",
            "2026-02-20",
            "2025-09-01",
        ] {
            let p = s.iter().find(|p| p.date == d(date)).unwrap();
            assert_eq!(p.count, e.parties(d(date), basis).count);
        }
    }
}

#[test]
fn status_json_has_the_documented_shape() {
    let e = engine();
    let r = e.status("KHM", d("2024-01-01"));
    let v = serde_json::to_value(&r).unwrap();
    for k in [
        "code",
        "as_of",
        "status",
        "signed",
        "deposited",
        "method",
        "entry_into_force",
        "withdrawal_notified",
        "withdrawal_effective",
        "deadlines",
        "obligations",
        "findings",
        "reasons",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["code"], "KHM");
    assert_eq!(v["status"], "state_party");
    assert_eq!(v["method"], "ratification");
    assert_eq!(v["deposited"], "1999-07-28");
    assert_eq!(v["entry_into_force"], "2000-01-01");
    assert_eq!(v["deadlines"]["art4"], "2004-01-01");
    assert_eq!(v["deadlines"]["art5"], "2025-12-31");
    assert_eq!(v["deadlines"]["art7_initial"], "2000-06-29");
    let o = &v["obligations"][0];
    for k in ["article", "due", "state", "reasons"] {
        assert!(o.get(k).is_some(), "obligation misses {k}");
    }
    let reason = &v["reasons"][0];
    for k in ["text", "article", "facts", "citations"] {
        assert!(reason.get(k).is_some(), "reason misses {k}");
    }
    assert_eq!(reason["citations"][0]["source"], "untc-xxvi-5");
}

#[test]
fn unga_anomalies_flag_state_parties_only() {
    let mut f = Facts::new();
    add_parties(&mut f);
    add_samples(&mut f);
    f.roll_call(
        4052,
        52,
        "1997-12-03",
        "52/38H",
        "ban_landmines",
        147,
        0,
        15,
    );
    f.roll_call(
        4566,
        59,
        "2004-12-03",
        "59/84",
        "apmbc_implementation",
        157,
        0,
        22,
    );
    f.roll_call(
        4638,
        60,
        "2005-12-08",
        "60/80",
        "apmbc_implementation",
        158,
        0,
        17,
    );
    f.roll_call(
        5259,
        68,
        "2013-12-05",
        "68/30",
        "apmbc_implementation",
        165,
        0,
        19,
    );
    f.roll_call(
        6079,
        73,
        "2018-12-05",
        "73/61",
        "apmbc_implementation",
        169,
        0,
        16,
    );
    f.roll_call(
        9072,
        74,
        "2019-12-12",
        "74/61",
        "apmbc_implementation",
        169,
        0,
        18,
    );
    f.vote("ZWE", 4052, "1997-12-03", "52/38H", Vote::Abstain);
    f.vote("ZWE", 5259, "2013-12-05", "68/30", Vote::Abstain);
    f.vote("ZWE", 9072, "2019-12-12", "74/61", Vote::Abstain);
    f.vote("PLW", 4566, "2004-12-03", "59/84", Vote::Abstain);
    f.vote("PLW", 4638, "2005-12-08", "60/80", Vote::Abstain);
    f.vote("PLW", 6079, "2018-12-05", "73/61", Vote::Abstain);
    f.vote("PLW", 9072, "2019-12-12", "74/61", Vote::Abstain);
    f.vote("CAN", 9072, "2019-12-12", "74/61", Vote::Yes);
    f.vote("USA", 9072, "2019-12-12", "74/61", Vote::Abstain);
    let e = Engine::from_facts(f.facts);
    let anomalies = e.unga_anomalies(d("2026-01-01"));
    let mut got: Vec<(String, String)> = anomalies
        .iter()
        .map(|f| (f.subject.clone(), f.date.unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("PLW".to_string(), "2018-12-05".to_string()),
            ("PLW".to_string(), "2019-12-12".to_string()),
            ("ZWE".to_string(), "2013-12-05".to_string()),
            ("ZWE".to_string(), "2019-12-12".to_string()),
        ]
    );
    assert!(anomalies[0]
        .summary
        .contains("possibly an error in the source"));
    let zwe = e.status("ZWE", d("2020-01-01"));
    assert_eq!(
        zwe.findings
            .iter()
            .filter(|f| f.kind == FindingKind::UngaVoteAnomaly)
            .count(),
        2
    );
    let record = e.unga_record("PLW", d("2026-01-01"));
    assert_eq!(record.votes.len(), 4);
    assert_eq!(record.totals.abstain, 4);
    assert_eq!(record.votes[0].status_on_date, Some(Status::NonSignatory));
    assert!(!record.votes[0].anomaly && record.votes[2].anomaly);
    let tallies = e.unga_tallies(d("2026-01-01"));
    let t = tallies.iter().find(|t| t.rcid == Some(9072)).unwrap();
    assert_eq!((t.counted.yes, t.counted.abstain), (1, 3));
    assert_eq!(t.matches, Some(false));
    assert!(t.reasons[0].text.contains("mismatch"));
    assert_eq!(t.abstain, vec!["PLW", "USA", "ZWE"]);
}

#[test]
fn deadlines_list_covers_every_state() {
    let e = engine();
    let rows = e.deadlines(d("2025-11-22"), None, false);
    assert!(rows
        .iter()
        .any(|r| r.code == "KHM" && r.article == "Art. 5" && r.due == d("2025-12-31")));
    assert!(rows.windows(2).all(|w| w[0].due <= w[1].due));
    // Nothing is recorded as missed in these facts except Ukraine's old Art. 5 deadline, which
    // was extended: no row is overdue.
    assert!(e.deadlines(d("2025-11-22"), None, true).is_empty());
    let one = e.deadlines(d("2025-11-22"), Some("MHL"), false);
    assert!(one.iter().all(|r| r.code == "MHL"));
    assert!(one
        .iter()
        .any(|r| r.article == "Art. 7(1)" && r.due == d("2026-02-28")));
}
