//! Benchmarks of the treaty engine on a realistic record: every state's signature and deposit
//! (the real dates of `tests/fixtures/parties.csv`), 34 non-signatories, and for each party
//! Art. 7 reports, Art. 4/5 events, legislation, stockpile counts and UN General Assembly votes,
//! plus every real meeting and Art. 4/5 history row of `data/research/treaty` (meetings.csv,
//! art5_events.csv, art4_events.csv; about 8,400 facts).
//!
//! Targets: status + deadlines + findings for every subject on one date under 10 ms; a daily
//! series of States Parties counts from 1997-01-01 to 2026-11-22 under 1 s.
//!
//! `CARGO_TARGET_DIR=/work/target-treaty cargo bench -p minewatch-treaty`

use criterion::{criterion_group, criterion_main, Criterion};
use minewatch_domain::fact::{
    ArmedConflict, Art4Event, Art4EventType, Art5Event, Art5EventType, Art7Report, DepositMethod,
    Legislation, Meeting, StockpileCount, StockpileMeasure, TreatyAction, TreatyActionType,
    UngaRollCall, UngaVote, Vote,
};
use minewatch_domain::{Citation, Date, Fact, PartialDate, Payload};
use minewatch_treaty::{Basis, Engine};
use std::hint::black_box;

struct Builder {
    facts: Vec<Fact>,
}

impl Builder {
    fn add(&mut self, subject: &str, from: Option<&str>, to: Option<&str>, payload: Payload) {
        let id = self.facts.len() as i64 + 1;
        self.facts.push(Fact {
            id,
            subject: subject.to_string(),
            valid_from: from.and_then(|s| PartialDate::parse(s).ok()),
            valid_to: to.and_then(|s| PartialDate::parse(s).ok()),
            payload,
            citations: vec![Citation {
                source: format!("src-{}", id % 97),
                locator: Some("p. 1".into()),
            }],
            note: None,
            recorded_at: "2026-01-01T00:00:00Z".into(),
            recorded_by: "bench".into(),
            supersedes: None,
        });
    }

    fn action(
        &mut self,
        code: &str,
        date: &str,
        action: TreatyActionType,
        method: Option<DepositMethod>,
    ) {
        self.add(
            code,
            Some(date),
            None,
            Payload::TreatyAction(TreatyAction {
                action,
                method,
                date_inferred: false,
                succession_date: None,
                dated_as_accession: false,
            }),
        );
    }
}

const ROLL_CALLS: [(u32, u32, &str, &str); 23] = [
    (4049, 52, "1997-12-03", "52/38A"),
    (4145, 53, "1998-12-06", "53/77N"),
    (4183, 54, "1999-12-04", "54/54B"),
    (4257, 55, "2000-11-03", "55/33V"),
    (4318, 56, "2001-11-06", "56/24M"),
    (4388, 57, "2002-11-07", "57/74"),
    (4495, 58, "2003-12-08", "58/53"),
    (4566, 59, "2004-12-03", "59/84"),
    (4638, 60, "2005-12-08", "60/80"),
    (4682, 61, "2006-12-06", "61/84"),
    (4758, 62, "2007-12-05", "62/41"),
    (5002, 64, "2009-12-02", "64/56"),
    (5060, 65, "2010-12-08", "65/48"),
    (5150, 66, "2011-12-02", "66/29"),
    (5192, 67, "2012-12-03", "67/32"),
    (5259, 68, "2013-12-05", "68/30"),
    (5325, 69, "2014-12-02", "69/34"),
    (5423, 70, "2015-12-07", "70/55"),
    (5505, 71, "2016-12-05", "71/34"),
    (5609, 72, "2017-12-04", "72/53"),
    (6079, 73, "2018-12-05", "73/61"),
    (9072, 74, "2019-12-12", "74/61"),
    (3994, 51, "1996-12-03", "51/45S"),
];

fn record() -> (Vec<Fact>, Vec<String>) {
    let mut b = Builder { facts: Vec::new() };
    let mut codes = Vec::new();
    for (rcid, session, date, res) in ROLL_CALLS {
        b.add(
            "WLD",
            Some(date),
            None,
            Payload::UngaRollCall(UngaRollCall {
                rcid,
                session,
                resolution: res.into(),
                topic: "apmbc_implementation".into(),
                yes: 160,
                no: 0,
                abstain: 18,
                ..UngaRollCall::default()
            }),
        );
    }
    let parties = include_str!("../tests/fixtures/parties.csv");
    for (n, line) in parties.lines().skip(1).enumerate() {
        let c: Vec<&str> = line.split(',').collect();
        let code = c[0];
        codes.push(code.to_string());
        if !c[1].is_empty() {
            b.action(code, c[1], TreatyActionType::Signature, None);
        }
        let Some(dep) = Date::parse(c[2]).ok() else {
            continue;
        };
        b.action(
            code,
            c[2],
            TreatyActionType::Deposit,
            DepositMethod::parse(c[3]),
        );
        let eif = dep
            .first_of_month()
            .add_months(6)
            .unwrap_or(dep)
            .max(Date::parse("1999-03-01").unwrap_or(dep));
        // Art. 7: an initial report and most annual updates.
        let initial = eif.add_days(150).unwrap_or(eif).to_string();
        b.add(
            code,
            Some(&initial),
            None,
            Payload::Art7Report(Art7Report {
                initial: true,
                year_covered: None,
                not_submitted: false,
                wording: None,
            }),
        );
        for year in eif.year()..2025 {
            if (year as usize + n) % 4 == 0 {
                continue;
            }
            let when = format!("{}-0{}-15", year + 1, 3 + (n % 4));
            b.add(
                code,
                Some(&when),
                None,
                Payload::Art7Report(Art7Report {
                    initial: false,
                    year_covered: Some(year),
                    not_submitted: false,
                    wording: None,
                }),
            );
        }
        // Art. 4 and stockpiles.
        let art4 = match n % 3 {
            0 => Art4EventType::NoStockpileDeclared,
            1 => Art4EventType::Completed,
            _ => Art4EventType::DeadlineMissed,
        };
        let a4 = eif.add_years(3 + (n % 3) as i32).unwrap_or(eif).to_string();
        b.add(
            code,
            Some(&a4),
            None,
            Payload::Art4Event(Art4Event {
                event: art4,
                destroyed: Some(10_000),
                retained: Some(1_000),
                stockpile: None,
            }),
        );
        b.add(
            code,
            Some(&eif.add_years(1).unwrap_or(eif).to_string()),
            None,
            Payload::StockpileCount(StockpileCount {
                mine_type: "all".into(),
                measure: StockpileMeasure::Remaining,
                quantity: 50_000,
            }),
        );
        // Art. 5 for a third of the states.
        if n % 3 == 1 {
            let ten = eif.add_years(10).unwrap_or(eif);
            b.add(
                code,
                Some(&ten.add_years(-1).unwrap_or(ten).to_string()),
                None,
                Payload::Art5Event(Art5Event {
                    event: Art5EventType::ExtensionGranted,
                    meeting: None,
                    inferred: false,
                    requested: None,
                    decided: None,
                    new_deadline: Some(PartialDate::Day(ten.add_years(5).unwrap_or(ten))),
                }),
            );
        }
        b.add(
            code,
            Some(&eif.add_years(2).unwrap_or(eif).to_string()),
            None,
            Payload::Legislation(Legislation {
                title: "Anti-Personnel Mines Act".into(),
                status: "adopted".into(),
            }),
        );
        if n % 20 == 0 {
            b.add(
                code,
                Some("2014"),
                Some("2016-06"),
                Payload::ArmedConflict(ArmedConflict {
                    description: "armed conflict".into(),
                }),
            );
        }
        for (k, (rcid, _, date, res)) in ROLL_CALLS.iter().enumerate() {
            let vote = if (n + k) % 41 == 0 {
                Vote::Abstain
            } else {
                Vote::Yes
            };
            b.add(
                code,
                Some(date),
                None,
                Payload::UngaVote(UngaVote {
                    rcid: Some(*rcid),
                    resolution: (*res).into(),
                    vote,
                    name_in_source: None,
                }),
            );
        }
    }
    real_histories(&mut b);
    for (code, date) in [
        ("EST", "2025-06-27"),
        ("LVA", "2025-06-27"),
        ("LTU", "2025-06-27"),
        ("FIN", "2025-07-10"),
        ("POL", "2025-08-20"),
    ] {
        b.action(code, date, TreatyActionType::WithdrawalNotice, None);
    }
    b.action(
        "UKR",
        "2025-07-15",
        TreatyActionType::SuspensionDeclaration,
        None,
    );
    b.add(
        "UKR",
        Some("2022"),
        None,
        Payload::ArmedConflict(ArmedConflict {
            description: "Russia's full-scale invasion".into(),
        }),
    );
    for i in 0..34 {
        let code = format!("N{i:02}");
        for (rcid, _, date, res) in ROLL_CALLS {
            b.add(
                &code,
                Some(date),
                None,
                Payload::UngaVote(UngaVote {
                    rcid: Some(rcid),
                    resolution: res.into(),
                    vote: Vote::Abstain,
                    name_in_source: None,
                }),
            );
        }
        codes.push(code);
    }
    (b.facts, codes)
}

/// The real meetings and Art. 4/5 histories (data/research/treaty), as the importers record them.
fn real_histories(b: &mut Builder) {
    let read = |text: &'static str| {
        csv::Reader::from_reader(text.as_bytes())
            .into_deserialize::<std::collections::HashMap<String, String>>()
            .filter_map(Result::ok)
            .collect::<Vec<_>>()
    };
    let opt = |r: &std::collections::HashMap<String, String>, k: &str| {
        r.get(k).filter(|v| !v.is_empty()).cloned()
    };
    let pd = |s: Option<String>| s.and_then(|s| PartialDate::parse(&s).ok());
    for r in read(include_str!("../../../data/research/treaty/meetings.csv")) {
        let (Some(code), Some(name)) = (opt(&r, "meeting"), opt(&r, "name")) else {
            continue;
        };
        let (start, end) = (opt(&r, "start"), opt(&r, "end"));
        b.add(
            "WLD",
            start.as_deref().or(end.as_deref()),
            end.as_deref(),
            Payload::Meeting(Meeting {
                code,
                name,
                city: opt(&r, "city"),
            }),
        );
    }
    for r in read(include_str!(
        "../../../data/research/treaty/art5_events.csv"
    )) {
        let (Some(code), Some(event)) = (
            opt(&r, "iso3"),
            opt(&r, "event").and_then(|e| Art5EventType::parse(&e)),
        ) else {
            continue;
        };
        let date = opt(&r, "date");
        b.add(
            &code,
            date.as_deref(),
            None,
            Payload::Art5Event(Art5Event {
                event,
                meeting: opt(&r, "meeting"),
                inferred: false,
                requested: None,
                decided: pd(date.clone()),
                new_deadline: pd(opt(&r, "new_deadline")),
            }),
        );
    }
    for r in read(include_str!(
        "../../../data/research/treaty/art4_events.csv"
    )) {
        let (Some(code), Some(event)) = (
            opt(&r, "iso3"),
            opt(&r, "event").and_then(|e| Art4EventType::parse(&e)),
        ) else {
            continue;
        };
        let quantity = opt(&r, "quantity").and_then(|q| q.parse().ok());
        b.add(
            &code,
            opt(&r, "date").as_deref(),
            None,
            Payload::Art4Event(Art4Event {
                event,
                destroyed: quantity,
                retained: None,
                stockpile: None,
            }),
        );
    }
}

fn bench(c: &mut Criterion) {
    let (facts, codes) = record();
    let engine = Engine::from_facts(facts.clone());
    let on = Date::parse("2025-11-22")
        .unwrap_or(Date::parse("2025-01-01").unwrap_or_else(|_| unreachable!()));
    eprintln!("{} facts, {} subjects", facts.len(), codes.len());

    c.bench_function("engine_build", |b| {
        b.iter(|| Engine::new(black_box(&facts)))
    });
    c.bench_function("status_deadlines_findings_all_subjects", |b| {
        b.iter(|| {
            let reports = engine.statuses(black_box(&codes), on);
            let deadlines = engine.deadlines(on, None, false);
            black_box((reports, deadlines))
        })
    });
    c.bench_function("status_all_subjects", |b| {
        b.iter(|| black_box(engine.statuses(black_box(&codes), on)))
    });
    c.bench_function("deadlines_all_subjects", |b| {
        b.iter(|| black_box(engine.deadlines(on, None, false)))
    });
    let (from, to) = (
        Date::parse("1997-01-01").unwrap_or(on),
        Date::parse("2026-11-22").unwrap_or(on),
    );
    c.bench_function("parties_series_daily_1997_2026_eif", |b| {
        b.iter(|| black_box(engine.parties_series(from, to, Basis::Eif)))
    });
    c.bench_function("parties_series_daily_1997_2026_both_bases", |b| {
        b.iter(|| {
            black_box((
                engine.parties_series(from, to, Basis::Eif),
                engine.parties_series(from, to, Basis::Deposit),
            ))
        })
    });
    c.bench_function("article5_all_states_one_date", |b| {
        b.iter(|| black_box(engine.article5(on)))
    });
    c.bench_function("parties_one_date", |b| {
        b.iter(|| black_box(engine.parties(on, Basis::Eif)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
