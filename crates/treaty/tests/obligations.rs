//! Obligations and findings: absence is not evidence; only recorded facts make an obligation
//! met or missed.
#![allow(clippy::unwrap_used)]

mod common;

use common::{d, Facts};
use minewatch_domain::fact::{
    ActorType, Art4EventType, Art5EventType, Certainty, DepositMethod, StockpileMeasure,
};
use minewatch_treaty::{Engine, FindingKind, Obligation, ObligationState, Status, StatusReport};

/// A state party since 1 January 2000 (deposit 28 July 1999, like Cambodia).
fn base() -> Facts {
    let mut f = Facts::new();
    f.sign("XAA", "1997-12-03", &["untc"]);
    f.deposit("XAA", "1999-07-28", DepositMethod::Ratification, &["untc"]);
    f
}

fn ob<'a>(r: &'a StatusReport, article: &str) -> &'a Obligation {
    r.obligations.iter().find(|o| o.article == article).unwrap()
}

#[test]
fn nothing_recorded_means_unknown_never_missed() {
    let e = Engine::from_facts(base().facts);
    let r = e.status("XAA", d("2025-01-01"));
    assert_eq!(r.status, Status::StateParty);
    for o in &r.obligations {
        assert_eq!(o.state, ObligationState::Unknown, "{}", o.article);
        assert!(!o.overdue);
    }
    assert!(ob(&r, "Art. 7(1)")
        .reasons
        .iter()
        .any(|x| x.text == "no Art. 7 reports recorded"));
    assert!(ob(&r, "Art. 7(2)").reasons[0]
        .text
        .contains("no Art. 7 reports recorded"));
    assert!(ob(&r, "Art. 4").reasons.iter().any(|x| x
        .text
        .contains("deadline passed; no stockpile facts recorded")));
    assert!(ob(&r, "Art. 5")
        .reasons
        .iter()
        .any(|x| x.text.contains("no clearance facts recorded")));
    assert!(ob(&r, "Art. 9")
        .reasons
        .iter()
        .any(|x| x.text == "no legislation recorded"));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // Annual updates are collapsed into one row when no report is recorded.
    assert_eq!(
        r.obligations
            .iter()
            .filter(|o| o.article == "Art. 7(2)")
            .count(),
        1
    );
    assert_eq!(ob(&r, "Art. 7(2)").due, Some(d("2025-04-30")));
}

#[test]
fn art7_reports_make_obligations_met_late_or_missed() {
    let mut f = base();
    f.art7("XAA", Some("2000-06-01"), true, None, false, &["un-art7"]);
    f.art7(
        "XAA",
        Some("2001-04-15"),
        false,
        Some(2000),
        false,
        &["un-art7"],
    );
    f.art7(
        "XAA",
        Some("2002-09-01"),
        false,
        Some(2001),
        false,
        &["un-art7"],
    );
    f.art7(
        "XAA",
        Some("2003-12-02"),
        false,
        Some(2002),
        true,
        &["icbl-11msp"],
    );
    let e = Engine::from_facts(f.facts);
    let r = e.status("XAA", d("2004-06-01"));
    assert_eq!(ob(&r, "Art. 7(1)").state, ObligationState::Met);
    let by_year = |y: i32| {
        r.obligations
            .iter()
            .find(|o| o.year_covered == Some(y))
            .unwrap()
    };
    assert_eq!(by_year(2000).state, ObligationState::Met);
    assert_eq!(by_year(2001).state, ObligationState::MetLate);
    assert_eq!(by_year(2002).state, ObligationState::Missed);
    assert!(by_year(2002).overdue);
    assert_eq!(by_year(2003).state, ObligationState::Unknown);
    assert!(by_year(2003)
        .reasons
        .iter()
        .any(|x| x.text.contains("absence is not evidence")));
    assert_eq!(by_year(2004).state, ObligationState::Pending);
    assert_eq!(by_year(2004).due, Some(d("2005-04-30")));
    let missing: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Art7ReportMissing)
        .collect();
    assert_eq!(missing.len(), 1);
    assert!(missing[0]
        .reasons
        .iter()
        .any(|x| x.citations.iter().any(|c| c.source == "icbl-11msp")));
}

#[test]
fn art4_states_follow_recorded_facts() {
    // Deadline: 1 January 2004.
    let case = |add: &dyn Fn(&mut Facts), on: &str| -> ObligationState {
        let mut f = base();
        add(&mut f);
        let e = Engine::from_facts(f.facts);
        ob(&e.status("XAA", d(on)), "Art. 4").state
    };
    assert_eq!(
        case(
            &|f| {
                f.art4("XAA", Some("2003-05"), Art4EventType::Completed, &["s"]);
            },
            "2010-01-01"
        ),
        ObligationState::Met
    );
    assert_eq!(
        case(
            &|f| {
                f.art4("XAA", Some("2017-04"), Art4EventType::Completed, &["s"]);
            },
            "2020-01-01"
        ),
        ObligationState::MetLate
    );
    assert_eq!(
        case(
            &|f| {
                f.art4("XAA", Some("2004"), Art4EventType::Completed, &["s"]);
            },
            "2020-01-01"
        ),
        ObligationState::Completed
    );
    assert_eq!(
        case(
            &|f| {
                f.art4("XAA", Some("2003"), Art4EventType::Completed, &["s"]);
            },
            "2020-01-01"
        ),
        ObligationState::Met
    );
    assert_eq!(
        case(
            &|f| {
                f.art4("XAA", None, Art4EventType::Completed, &["s"]);
            },
            "2026-06-01"
        ),
        ObligationState::Completed
    );
    // Undated, and its source has no publication date: it is known from the day the record
    // received it (1 January 2026 in these fixtures), not before (the one as-of rule).
    assert_eq!(
        case(
            &|f| {
                f.art4("XAA", None, Art4EventType::Completed, &["s"]);
            },
            "2020-01-01"
        ),
        ObligationState::Unknown
    );
    assert_eq!(
        case(
            &|f| {
                f.art4(
                    "XAA",
                    Some("2004-01-02"),
                    Art4EventType::DeadlineMissed,
                    &["s"],
                );
            },
            "2010-01-01"
        ),
        ObligationState::Missed
    );
    assert_eq!(
        case(
            &|f| {
                f.art4(
                    "XAA",
                    Some("2001"),
                    Art4EventType::NoStockpileDeclared,
                    &["s"],
                );
            },
            "2010-01-01"
        ),
        ObligationState::NotApplicable
    );
    assert_eq!(
        case(
            &|f| {
                f.stockpile(
                    "XAA",
                    "2001-06-01",
                    StockpileMeasure::Remaining,
                    1000,
                    &["s"],
                );
            },
            "2002-01-01"
        ),
        ObligationState::Ongoing
    );
    assert_eq!(
        case(
            &|f| {
                f.stockpile(
                    "XAA",
                    "2001-06-01",
                    StockpileMeasure::Remaining,
                    1000,
                    &["s"],
                );
            },
            "2005-01-01"
        ),
        ObligationState::Unknown
    );
    assert_eq!(case(&|_| {}, "2002-01-01"), ObligationState::Unknown);
    // A missed deadline is a standing breach, reported as a finding, until completion.
    let mut f = base();
    f.art4(
        "XAA",
        Some("2004-03"),
        Art4EventType::DeadlineMissed,
        &["icbl-2008"],
    );
    let e = Engine::from_facts(f.facts);
    let r = e.status("XAA", d("2010-01-01"));
    assert!(ob(&r, "Art. 4").overdue);
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::Art4DeadlineMissed));
    // Recorded missed deadlines are not visible before they are dated.
    assert_eq!(
        ob(&e.status("XAA", d("2004-02-01")), "Art. 4").state,
        ObligationState::Unknown
    );
}

#[test]
fn art5_dated_missed_deadline_without_extension() {
    let mut f = base();
    f.art5(
        "XAA",
        Some("2010-06"),
        Art5EventType::DeadlineMissed,
        None,
        None,
        &["lm-2010"],
    );
    let e = Engine::from_facts(f.facts.clone());
    let r = e.status("XAA", d("2011-01-01"));
    assert_eq!(
        ob(&r, "Art. 5").state,
        ObligationState::MissedWithoutExtension
    );
    assert!(ob(&r, "Art. 5").overdue);
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::Art5DeadlineMissed));
    // Then an extension is granted: extended, and the missed deadline becomes history.
    f.art5(
        "XAA",
        Some("2011-12"),
        Art5EventType::ExtensionGranted,
        Some("2011-03"),
        Some("2015-01-01"),
        &["11msp"],
    );
    f.art5(
        "XAA",
        Some("2014-11"),
        Art5EventType::CompletionDeclared,
        None,
        None,
        &["13msp"],
    );
    let e = Engine::from_facts(f.facts);
    let r = e.status("XAA", d("2012-01-01"));
    assert_eq!(ob(&r, "Art. 5").state, ObligationState::Extended);
    assert_eq!(r.deadlines.art5, Some(d("2015-01-01")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::Art5DeadlineMissed));
    // Completion in November 2014, before the extended deadline of 1 January 2015: met.
    let r = e.status("XAA", d("2015-06-01"));
    assert_eq!(ob(&r, "Art. 5").state, ObligationState::Met);
}

#[test]
fn use_by_a_state_party_is_a_finding_and_by_others_not() {
    let mut f = base();
    f.use_("XAA", "2012-05-01", Certainty::Alleged, &["lm-2012"]);
    f.use_("XAA", "1998-05-01", Certainty::Confirmed, &["lm-1999"]);
    f.use_("XBB", "2012-05-01", Certainty::Confirmed, &["lm-2012"]);
    let e = Engine::from_facts(f.facts);
    let r = e.status("XAA", d("2013-01-01"));
    let uses: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ApmUseByStateParty)
        .collect();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].article, "Art. 1(1)(a)");
    assert!(uses[0].summary.starts_with("alleged use"));
    assert!(uses[0].reasons[0]
        .citations
        .iter()
        .any(|c| c.source == "lm-2012"));
    assert!(e.status("XBB", d("2013-01-01")).findings.is_empty());
}

#[test]
fn use_by_armed_groups_or_another_states_forces_is_not_the_state_partys() {
    let mut f = base();
    // In XAA (bound since 1999): an armed group, another state's forces, an unattributed report.
    f.use_by(
        "XAA",
        "2012-05-01",
        Certainty::Confirmed,
        Some(ActorType::NonStateArmedGroup),
        None,
        &["lm-2012"],
    );
    f.use_by(
        "XAA",
        "2012-06-01",
        Certainty::Confirmed,
        Some(ActorType::State),
        Some("XBB"),
        &["lm-2012"],
    );
    f.use_by(
        "XAA",
        "2012-07-01",
        Certainty::Unconfirmed,
        Some(ActorType::Unattributed),
        None,
        &["lm-2012"],
    );
    let e = Engine::from_facts(f.facts.clone());
    let r = e.status("XAA", d("2013-01-01"));
    assert!(
        !r.findings
            .iter()
            .any(|f| f.kind == FindingKind::ApmUseByStateParty),
        "{:?}",
        r.findings
    );
    // Its own forces, with the Monitor's "indications": a finding, in those words.
    f.use_by(
        "XAA",
        "2012-08-01",
        Certainty::Indications,
        Some(ActorType::State),
        Some("XAA"),
        &["lm-2013"],
    );
    let e = Engine::from_facts(f.facts);
    let r = e.status("XAA", d("2013-01-01"));
    let uses: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ApmUseByStateParty)
        .collect();
    assert_eq!(uses.len(), 1);
    assert!(
        uses[0].summary.starts_with("indicated use"),
        "{}",
        uses[0].summary
    );
}

#[test]
fn obligations_lapse_after_withdrawal() {
    let mut f = base();
    f.notice("XAA", "2002-03-15", &["s"]);
    let e = Engine::from_facts(f.facts);
    let r = e.status("XAA", d("2005-01-01"));
    assert_eq!(r.status, Status::Withdrawn);
    assert_eq!(r.withdrawal_effective, Some(d("2002-09-15")));
    assert_eq!(ob(&r, "Art. 4").state, ObligationState::Lapsed);
    assert_eq!(ob(&r, "Art. 5").state, ObligationState::Lapsed);
    assert_eq!(ob(&r, "Art. 7(1)").state, ObligationState::Unknown);
    assert_eq!(ob(&r, "Art. 7(2)").due, Some(d("2002-04-30")));
}

#[test]
fn deposits_on_the_day_of_the_40th_count_together() {
    let mut f = Facts::new();
    for i in 0..38 {
        f.deposit(
            &format!("A{i:02}"),
            "1998-01-15",
            DepositMethod::Ratification,
            &["untc"],
        );
    }
    f.deposit("B39", "1998-09-16", DepositMethod::Ratification, &["untc"]);
    f.deposit("B40", "1998-09-16", DepositMethod::Accession, &["untc"]);
    f.deposit("B41", "1998-09-16", DepositMethod::Accession, &["untc"]);
    f.deposit("C42", "1998-10-01", DepositMethod::Ratification, &["untc"]);
    let e = Engine::from_facts(f.facts);
    assert_eq!(e.fortieth_deposit(), (d("1998-09-16"), true));
    for code in ["A00", "B39", "B40", "B41"] {
        assert_eq!(
            e.status(code, d("2000-01-01")).entry_into_force,
            Some(d("1999-03-01")),
            "{code}"
        );
    }
    assert_eq!(
        e.status("C42", d("2000-01-01")).entry_into_force,
        Some(d("1999-04-01"))
    );
}

#[test]
fn small_records_fall_back_on_the_depositary_date_of_the_40th() {
    let mut f = Facts::new();
    f.deposit("CAN", "1997-12-03", DepositMethod::Ratification, &["untc"]);
    let e = Engine::from_facts(f.facts);
    assert_eq!(e.fortieth_deposit(), (d("1998-09-16"), false));
    let r = e.status("CAN", d("1999-03-01"));
    assert_eq!(r.status, Status::StateParty);
    assert!(r.reasons.iter().any(|x| x.text.contains("fewer than 40")));
    assert_eq!(e.status("CAN", d("1998-09-15")).entry_into_force, None);
}

#[test]
fn unknown_subject_is_a_non_signatory_with_a_reason() {
    let e = Engine::from_facts(Vec::new());
    let r = e.status("USA", d("2020-01-01"));
    assert_eq!(r.status, Status::NonSignatory);
    assert!(r.reasons[0]
        .text
        .contains("no signature or deposit recorded"));
    assert!(r.obligations.is_empty());
}
