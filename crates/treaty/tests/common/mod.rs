//! Fact builders for the engine's tests, and fixtures mirroring the real rows of the shared data.
#![allow(dead_code, clippy::unwrap_used, clippy::too_many_arguments)]

use minewatch_domain::fact::{
    ActorType, ArmedConflict, Art4Event, Art4EventType, Art5Event, Art5EventType, Art7Report,
    Certainty, DepositMethod, Legislation, MineActivity, MineActivityType, StockpileCount,
    StockpileMeasure, TreatyAction, TreatyActionType, UngaRollCall, UngaVote, Vote,
};
use minewatch_domain::{Citation, Date, Fact, PartialDate, Payload};
use std::cell::Cell;

pub fn d(s: &str) -> Date {
    Date::parse(s).expect("test date")
}

pub fn pd(s: &str) -> PartialDate {
    PartialDate::parse(s).expect("test partial date")
}

fn cite(sources: &[&str]) -> Vec<Citation> {
    sources
        .iter()
        .map(|s| match s.split_once('#') {
            Some((k, l)) => Citation {
                source: k.to_string(),
                locator: Some(l.to_string()),
            },
            None => Citation {
                source: s.to_string(),
                locator: None,
            },
        })
        .collect()
}

/// Builds facts with increasing ids.
#[derive(Debug, Default)]
pub struct Facts {
    next: Cell<i64>,
    pub facts: Vec<Fact>,
}

impl Facts {
    pub fn new() -> Facts {
        Facts {
            next: Cell::new(1),
            facts: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        subject: &str,
        from: Option<&str>,
        to: Option<&str>,
        payload: Payload,
        sources: &[&str],
    ) -> i64 {
        let id = self.next.get();
        self.next.set(id + 1);
        self.facts.push(Fact {
            id,
            subject: subject.to_string(),
            valid_from: from.map(pd),
            valid_to: to.map(pd),
            payload,
            citations: cite(sources),
            note: None,
            recorded_at: "2026-01-01T00:00:00Z".into(),
            recorded_by: "test".into(),
            supersedes: None,
        });
        id
    }

    fn action(
        &mut self,
        code: &str,
        date: &str,
        action: TreatyActionType,
        method: Option<DepositMethod>,
        sources: &[&str],
    ) -> i64 {
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
            sources,
        )
    }

    pub fn sign(&mut self, code: &str, date: &str, sources: &[&str]) -> i64 {
        self.action(code, date, TreatyActionType::Signature, None, sources)
    }

    pub fn deposit(
        &mut self,
        code: &str,
        date: &str,
        method: DepositMethod,
        sources: &[&str],
    ) -> i64 {
        self.action(code, date, TreatyActionType::Deposit, Some(method), sources)
    }

    pub fn notice(&mut self, code: &str, date: &str, sources: &[&str]) -> i64 {
        self.action(
            code,
            date,
            TreatyActionType::WithdrawalNotice,
            None,
            sources,
        )
    }

    pub fn suspension(&mut self, code: &str, date: &str, sources: &[&str]) -> i64 {
        self.action(
            code,
            date,
            TreatyActionType::SuspensionDeclaration,
            None,
            sources,
        )
    }

    pub fn conflict(&mut self, code: &str, from: &str, to: Option<&str>, sources: &[&str]) -> i64 {
        self.add(
            code,
            Some(from),
            to,
            Payload::ArmedConflict(ArmedConflict {
                description: "armed conflict".into(),
            }),
            sources,
        )
    }

    pub fn art5(
        &mut self,
        code: &str,
        date: Option<&str>,
        event: Art5EventType,
        requested: Option<&str>,
        new_deadline: Option<&str>,
        sources: &[&str],
    ) -> i64 {
        self.add(
            code,
            date,
            None,
            Payload::Art5Event(Art5Event {
                event,
                meeting: None,
                inferred: false,
                requested: requested.map(pd),
                decided: None,
                new_deadline: new_deadline.map(pd),
            }),
            sources,
        )
    }

    pub fn art4(
        &mut self,
        code: &str,
        date: Option<&str>,
        event: Art4EventType,
        sources: &[&str],
    ) -> i64 {
        self.add(
            code,
            date,
            None,
            Payload::Art4Event(Art4Event {
                event,
                destroyed: None,
                retained: None,
                stockpile: None,
            }),
            sources,
        )
    }

    pub fn art7(
        &mut self,
        code: &str,
        date: Option<&str>,
        initial: bool,
        year: Option<i32>,
        not_submitted: bool,
        sources: &[&str],
    ) -> i64 {
        self.add(
            code,
            date,
            None,
            Payload::Art7Report(Art7Report {
                initial,
                year_covered: year,
                not_submitted,
                wording: None,
            }),
            sources,
        )
    }

    pub fn stockpile(
        &mut self,
        code: &str,
        date: &str,
        measure: StockpileMeasure,
        quantity: u64,
        sources: &[&str],
    ) -> i64 {
        self.add(
            code,
            Some(date),
            None,
            Payload::StockpileCount(StockpileCount {
                mine_type: "all".into(),
                measure,
                quantity,
            }),
            sources,
        )
    }

    pub fn law(&mut self, code: &str, date: &str, sources: &[&str]) -> i64 {
        self.add(
            code,
            Some(date),
            None,
            Payload::Legislation(Legislation {
                title: "Anti-Personnel Mines Act".into(),
                status: "adopted".into(),
            }),
            sources,
        )
    }

    pub fn use_(&mut self, code: &str, date: &str, certainty: Certainty, sources: &[&str]) -> i64 {
        self.use_by(code, date, certainty, None, None, sources)
    }

    /// Use in `code`'s territory by an actor of `actor_type`, of the state `actor_state`.
    pub fn use_by(
        &mut self,
        code: &str,
        date: &str,
        certainty: Certainty,
        actor_type: Option<ActorType>,
        actor_state: Option<&str>,
        sources: &[&str],
    ) -> i64 {
        self.add(
            code,
            Some(date),
            None,
            Payload::MineActivity(MineActivity {
                activity: MineActivityType::Use,
                actor: actor_type.map(|t| t.as_str().to_string()),
                certainty,
                last_known: false,
                quantity: None,
                detail: "new use".into(),
                actor_type,
                actor_state: actor_state.map(String::from),
                report_edition: None,
                period: None,
                place: None,
            }),
            sources,
        )
    }

    pub fn roll_call(
        &mut self,
        rcid: u32,
        session: u32,
        date: &str,
        resolution: &str,
        topic: &str,
        y: u32,
        n: u32,
        a: u32,
    ) -> i64 {
        self.add(
            "WLD",
            Some(date),
            None,
            Payload::UngaRollCall(UngaRollCall {
                rcid,
                session,
                resolution: resolution.into(),
                topic: topic.into(),
                yes: y,
                no: n,
                abstain: a,
                ..UngaRollCall::default()
            }),
            &["voeten-unvotes"],
        )
    }

    pub fn vote(&mut self, code: &str, rcid: u32, date: &str, resolution: &str, vote: Vote) -> i64 {
        self.add(
            code,
            Some(date),
            None,
            Payload::UngaVote(UngaVote {
                rcid: Some(rcid),
                resolution: resolution.into(),
                vote,
                name_in_source: None,
            }),
            &["voeten-unvotes"],
        )
    }
}

/// Signatures and deposits of every state, from `fixtures/parties.csv` (mirrors the shared
/// `treaty/parties.csv`).
pub fn add_parties(f: &mut Facts) {
    let text = include_str!("../fixtures/parties.csv");
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (code, signed, deposited, method) = (cols[0], cols[1], cols[2], cols[3]);
        if !signed.is_empty() {
            f.sign(code, signed, &["untc-xxvi-5"]);
        }
        if !deposited.is_empty() {
            let m = DepositMethod::parse(method).expect("method");
            f.deposit(code, deposited, m, &["untc-xxvi-5"]);
        }
    }
}

/// The rows of the shared samples: `actions_sample.csv` (withdrawals, Ukraine's declaration),
/// `armed_conflict_sample.csv`, `art5_extensions_sample.csv`, and the conflicting dates noted in
/// `parties.csv` (Indonesia, Palau).
pub fn add_samples(f: &mut Facts) {
    f.notice("EST", "2025-06-27", &["pap-pl", "lokmattimes"]);
    f.notice("LVA", "2025-06-27", &["censor-net-3562737"]);
    f.notice("LTU", "2025-06-27", &["caliber-az", "thegaze"]);
    f.notice(
        "FIN",
        "2025-07-10",
        &["censor-net-3562737", "censor-net-3594788"],
    );
    f.add(
        "POL",
        Some("2025-08-20"),
        None,
        Payload::TreatyAction(TreatyAction {
            action: TreatyActionType::WithdrawalNotice,
            method: None,
            date_inferred: true,
            succession_date: None,
            dated_as_accession: false,
        }),
        &["poland-co-pl", "tass-2072235"],
    );
    f.suspension("UKR", "2025-07-15", &["komersant-ua", "uut-net-ua"]);
    f.conflict("UKR", "2022", None, &["seed-000", "lm-2025"]);
    // Grants take effect on their decision (art5_events.csv: the 2RC and 4RC closing days),
    // not on the request.
    f.art5(
        "KHM",
        Some("2009-12-04"),
        Art5EventType::ExtensionGranted,
        Some("2009-04"),
        Some("2020-01-01"),
        &["monitor-2022-cambodia-impact"],
    );
    f.art5(
        "KHM",
        Some("2019-11-29"),
        Art5EventType::ExtensionGranted,
        Some("2019-03"),
        Some("2025-12-31"),
        &["monitor-2022-cambodia-impact"],
    );
    // Dated as in art5_events.csv: the missed original deadline, and the grant at the 17MSP
    // (closing day 30 November 2018).
    f.art5(
        "UKR",
        Some("2016-06-01"),
        Art5EventType::DeadlineMissed,
        None,
        None,
        &["monitor-2017-ukraine-mine-action"],
    );
    f.art5(
        "UKR",
        Some("2018-11-30"),
        Art5EventType::ExtensionGranted,
        None,
        Some("2021-06-01"),
        &["mine-action-review-2020"],
    );
    f.art5(
        "UKR",
        Some("2020"),
        Art5EventType::ExtensionRequested,
        Some("2020"),
        Some("2023-12-01"),
        &["mine-action-review-2020"],
    );
    // Conflicting deposit dates (parties.csv notes): UNTC vs the Monitor and the ICBL.
    f.deposit(
        "IDN",
        "2007-02-20",
        DepositMethod::Ratification,
        &["icbl-2007-indonesia", "lm-2007-ban", "lm-2019-indonesia"],
    );
    f.deposit(
        "PLW",
        "2007-11-18",
        DepositMethod::Accession,
        &["lm-2008-ban", "lm-2023-palau"],
    );
}
