//! Property tests: entry into force, deadlines, monotone status, series against counts.
#![allow(clippy::unwrap_used)]

mod common;

use common::{d, Facts};
use minewatch_domain::fact::{DepositMethod, TreatyAction, TreatyActionType};
use minewatch_domain::{Date, Payload};
use minewatch_treaty::{
    art4_due, art5_due, art7_initial_due, depositary_fortieth_deposit, entry_into_force, Basis,
    Engine, Status,
};
use proptest::prelude::*;

fn any_date(from: i32, to: i32) -> impl Strategy<Value = Date> {
    (from..=to, 1u8..=12, 1u8..=31).prop_map(|(y, m, dd)| {
        let last = minewatch_domain::date::days_in_month(y, m);
        Date::new(y, m, dd.min(last)).unwrap()
    })
}

/// A date as text at a random precision.
fn any_partial(from: i32, to: i32) -> impl Strategy<Value = String> {
    (any_date(from, to), 0u8..6).prop_map(|(dt, p)| match p {
        0 => format!("{:04}", dt.year()),
        1 => format!("{:04}-{:02}", dt.year(), dt.month()),
        _ => dt.to_string(),
    })
}

#[derive(Debug, Clone)]
enum Ev {
    Sign(String),
    Deposit(String),
    Notice(String),
    Suspension(String),
    Conflict(String, Option<String>),
}

fn any_event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        any_partial(1995, 2035).prop_map(Ev::Sign),
        any_partial(1995, 2035).prop_map(Ev::Deposit),
        any_partial(1995, 2035).prop_map(Ev::Notice),
        any_partial(1995, 2035).prop_map(Ev::Suspension),
        (
            any_partial(1995, 2035),
            proptest::option::of(any_partial(1995, 2040))
        )
            .prop_map(|(a, b)| Ev::Conflict(a, b)),
    ]
}

fn build(code: &str, evs: &[Ev], sources: usize, f: &mut Facts) {
    let srcs: Vec<String> = (0..sources.max(1)).map(|i| format!("src-{i}")).collect();
    let srcs: Vec<&str> = srcs.iter().map(String::as_str).collect();
    for e in evs {
        match e {
            Ev::Sign(x) => {
                f.sign(code, x, &srcs);
            }
            Ev::Deposit(x) => {
                f.deposit(code, x, DepositMethod::Ratification, &srcs);
            }
            Ev::Notice(x) => {
                f.notice(code, x, &srcs);
            }
            Ev::Suspension(x) => {
                f.add(
                    code,
                    Some(x),
                    None,
                    Payload::TreatyAction(TreatyAction {
                        action: TreatyActionType::SuspensionDeclaration,
                        method: None,
                        date_inferred: false,
                        succession_date: None,
                        dated_as_accession: false,
                    }),
                    &srcs,
                );
            }
            Ev::Conflict(a, b) => {
                f.conflict(code, a, b.as_deref(), &srcs);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn entry_into_force_is_a_first_of_month_after_deposit(dep in any_date(1990, 2200)) {
        let fortieth = depositary_fortieth_deposit();
        let eif = entry_into_force(dep, fortieth).unwrap();
        prop_assert_eq!(eif.day(), 1);
        prop_assert!(eif >= d("1999-03-01"));
        if dep > fortieth {
            prop_assert!(dep.add_months(5).unwrap() < eif, "{} -> {}", dep, eif);
            prop_assert!(eif <= dep.add_months(6).unwrap(), "{} -> {}", dep, eif);
        } else {
            prop_assert_eq!(eif, d("1999-03-01"));
        }
    }

    #[test]
    fn deadlines_follow_from_entry_into_force(dep in any_date(1997, 2100), later in 0i64..20000) {
        let mut f = Facts::new();
        f.deposit("XAA", &dep.to_string(), DepositMethod::Accession, &["s"]);
        let e = Engine::from_facts(f.facts);
        let as_of = dep.max(depositary_fortieth_deposit()).add_days(later).unwrap();
        let r = e.status("XAA", as_of);
        let eif = r.entry_into_force.unwrap();
        prop_assert_eq!(Some(eif), entry_into_force(dep, depositary_fortieth_deposit()));
        prop_assert_eq!(r.deadlines.art4, art4_due(eif));
        prop_assert_eq!(r.deadlines.art4, eif.add_years(4));
        prop_assert_eq!(r.deadlines.art5, art5_due(eif));
        prop_assert_eq!(r.deadlines.art5, eif.add_years(10));
        prop_assert_eq!(r.deadlines.art7_initial, art7_initial_due(eif));
        prop_assert_eq!(r.deadlines.art7_initial, eif.add_days(180));
        prop_assert_eq!(r.status, if as_of >= eif { Status::StateParty } else { Status::Deposited });
    }

    #[test]
    fn status_never_goes_backwards(
        evs in proptest::collection::vec(any_event(), 0..8),
        others in proptest::collection::vec(any_date(1996, 2000), 0..45),
        dates in proptest::collection::vec(any_date(1994, 2045), 1..40),
        sources in 1usize..3,
    ) {
        let mut f = Facts::new();
        // Other states' deposits move the 40th instrument around.
        for (i, dep) in others.iter().enumerate() {
            f.deposit(&format!("O{i:02}"), &dep.to_string(), DepositMethod::Ratification, &["s"]);
        }
        build("XAA", &evs, sources, &mut f);
        let e = Engine::from_facts(f.facts);
        let mut days: Vec<Date> = dates;
        days.extend(e.timeline("XAA").iter().map(|x| x.0).filter(|x| x.year() > 1));
        days.sort();
        // Knowledge time: an armed conflict dated only to a month or a year becomes known at the
        // end of that period (the as-of rule); when it turns out to cover the day a withdrawal
        // would have taken effect, the withdrawal is deferred after all (Art. 20(3)). That is
        // the one step back the record can take; every other status only moves forward.
        let late_conflict = evs
            .iter()
            .any(|ev| matches!(ev, Ev::Conflict(from, _) if from.len() < 10));
        let mut last = Status::NonSignatory;
        for day in days {
            let s = e.status_only("XAA", day);
            let deferred_later = late_conflict
                && last == Status::Withdrawn
                && s == Status::WithdrawalPending;
            prop_assert!(s >= last || deferred_later, "{:?} then {:?} on {}", last, s, day);
            last = s;
        }
    }

    #[test]
    fn timeline_agrees_with_status(
        evs in proptest::collection::vec(any_event(), 0..8),
        dates in proptest::collection::vec(any_date(1994, 2045), 1..30),
    ) {
        let mut f = Facts::new();
        build("XAA", &evs, 1, &mut f);
        let e = Engine::from_facts(f.facts);
        let tl = e.timeline("XAA");
        for day in dates {
            let expected = tl.iter().rev().find(|(start, _)| *start <= day).unwrap().1;
            prop_assert_eq!(e.status_only("XAA", day), expected, "on {}", day);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn series_agrees_with_counts(
        states in proptest::collection::vec(proptest::collection::vec(any_event(), 0..5), 1..12),
        probes in proptest::collection::vec(0usize..14_000, 1..20),
    ) {
        let mut f = Facts::new();
        for (i, evs) in states.iter().enumerate() {
            build(&format!("S{i:02}"), evs, 1, &mut f);
        }
        let e = Engine::from_facts(f.facts);
        let (from, to) = (d("1996-01-01"), d("2034-12-31"));
        for basis in [Basis::Eif, Basis::Deposit] {
            let s = e.parties_series(from, to, basis);
            prop_assert_eq!(s.len(), usize::try_from(from.days_until(to)).unwrap() + 1);
            for &p in &probes {
                let p = s[p.min(s.len() - 1)];
                prop_assert_eq!(p.count, e.parties(p.date, basis).count, "{} {:?}", p.date, basis);
            }
        }
    }
}
