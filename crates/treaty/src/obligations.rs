//! Obligations with deadlines and their state on a date: Art. 4 (stockpiles), Art. 5 (mined
//! areas), Art. 7 (transparency reports), Art. 9 (national measures).
//!
//! Absence is not evidence: where the record holds nothing for an obligation, its state is
//! `unknown` with a reason saying what is missing, never missed. Only recorded facts (a report,
//! a declared completion, a recorded missed deadline or non-submission) make it met or missed.

use crate::engine::{Core, Engine, SubjectFacts};
use crate::reason::{long, On, Reason};
use crate::status::Status;
use minewatch_domain::fact::Art4EventType;
use minewatch_domain::{Date, Fact, PartialDate, Payload};
use serde::Serialize;
use std::borrow::Cow;

/// The state of an obligation on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObligationState {
    /// Done by the deadline (recorded).
    Met,
    /// Done after the deadline (recorded).
    MetLate,
    /// Recorded as done; its date (or its precision) does not tell whether on time.
    Completed,
    /// Deadline passed and a source records that it was missed; not done since.
    Missed,
    /// Art. 4: deadline not reached; stockpile facts recorded, destruction not recorded complete.
    Ongoing,
    /// Art. 5: deadline not reached; clearance facts recorded, no extension granted.
    OnTrack,
    /// Art. 5: an extension was granted and the extended deadline is not reached.
    Extended,
    /// Art. 5: a source records the (current) deadline missed, with no extension granted since.
    MissedWithoutExtension,
    /// Art. 7: not yet due; other reports are recorded.
    Pending,
    /// Art. 4: the state declared it holds no stockpile.
    NotApplicable,
    /// Art. 9: legislation is recorded.
    Recorded,
    /// Falls due after the withdrawal took effect (Art. 20).
    Lapsed,
    /// Nothing recorded that tells (absence of facts is not evidence).
    Unknown,
}

impl ObligationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationState::Met => "met",
            ObligationState::MetLate => "met_late",
            ObligationState::Completed => "completed",
            ObligationState::Missed => "missed",
            ObligationState::Ongoing => "ongoing",
            ObligationState::OnTrack => "on_track",
            ObligationState::Extended => "extended",
            ObligationState::MissedWithoutExtension => "missed_without_extension",
            ObligationState::Pending => "pending",
            ObligationState::NotApplicable => "not_applicable",
            ObligationState::Recorded => "recorded",
            ObligationState::Lapsed => "lapsed",
            ObligationState::Unknown => "unknown",
        }
    }

    /// A recorded failure that is not cured.
    pub fn is_breach(self) -> bool {
        matches!(
            self,
            ObligationState::Missed | ObligationState::MissedWithoutExtension
        )
    }
}

/// One obligation of a State Party with its deadline and its state on the as-of date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Obligation {
    /// "Art. 4", "Art. 5", "Art. 7(1)", "Art. 7(2)", "Art. 9".
    pub article: &'static str,
    /// What is due, in words.
    pub title: Cow<'static, str>,
    /// The calendar year an Art. 7(2) annual update covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year_covered: Option<i32>,
    /// The deadline (`null` for Art. 9, which sets none).
    pub due: Option<Date>,
    pub state: ObligationState,
    /// The deadline is before the as-of date.
    pub passed: bool,
    /// The deadline passed and a recorded failure stands (missed, missed without extension).
    pub overdue: bool,
    pub reasons: Vec<Reason>,
    /// Where the sources disagree about this obligation (also among the reasons): two deadlines
    /// for one decision, completions dated on both sides of the deadline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Reason>,
}

/// Deadlines derived from entry into force (ISO dates or `null`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Deadlines {
    /// Entry into force + 4 years (Art. 4).
    pub art4: Option<Date>,
    /// Entry into force + 10 years, then the latest granted extension (Art. 5).
    pub art5: Option<Date>,
    /// Entry into force + 10 years (Art. 5(1)), before any extension.
    pub art5_original: Option<Date>,
    /// Entry into force + 180 days (Art. 7(1)).
    pub art7_initial: Option<Date>,
}

/// Art. 4: entry into force + 4 years.
pub fn art4_due(eif: Date) -> Option<Date> {
    eif.add_years(4)
}

/// Art. 5(1): entry into force + 10 years.
pub fn art5_due(eif: Date) -> Option<Date> {
    eif.add_years(10)
}

/// Art. 7(1): entry into force + 180 days.
pub fn art7_initial_due(eif: Date) -> Option<Date> {
    eif.add_days(180)
}

/// Art. 7(2): the annual update covering `year` is due on 30 April of the next year.
pub fn art7_annual_due(year: i32) -> Option<Date> {
    Date::new(year + 1, 4, 30)
}

fn obligation(
    article: &'static str,
    title: impl Into<Cow<'static, str>>,
    due: Option<Date>,
    state: ObligationState,
    as_of: Date,
    reasons: Vec<Reason>,
) -> Obligation {
    let passed = due.is_some_and(|d| d < as_of);
    Obligation {
        article,
        title: title.into(),
        year_covered: None,
        due,
        state,
        passed,
        overdue: passed && state.is_breach(),
        reasons,
        conflicts: Vec::new(),
    }
}

/// How a dated completion compares with a deadline.
fn timeliness(date: Option<PartialDate>, due: Date) -> (ObligationState, String) {
    match date {
        None => (
            ObligationState::Completed,
            "date not recorded, so timeliness is unknown".into(),
        ),
        Some(d) if d.latest() <= due => (
            ObligationState::Met,
            format!("{}, by the deadline of {}", On(d), long(due)),
        ),
        Some(d) if d.earliest() > due => (
            ObligationState::MetLate,
            format!("{}, after the deadline of {}", On(d), long(due)),
        ),
        Some(d) => (
            ObligationState::Completed,
            format!(
                "dated only to {}, which spans the deadline of {}",
                d.long(),
                due.long()
            ),
        ),
    }
}

fn on_date(f: &Fact) -> String {
    f.valid_from
        .map(|d| On(d).to_string())
        .unwrap_or_else(|| "(undated)".into())
}

/// Obligations and deadlines of a subject on `as_of` (none until entry into force is known).
pub(crate) fn obligations(
    engine: &Engine,
    sf: &SubjectFacts,
    core: &Core<'_>,
    as_of: Date,
) -> (Vec<Obligation>, Deadlines) {
    let Some(eif) = core.eif.date() else {
        return (Vec::new(), Deadlines::default());
    };
    // Obligations falling due once a withdrawal has taken effect lapse (Art. 20).
    let end = match core.status {
        Status::Withdrawn => core.withdrawal.as_ref().and_then(|w| w.effective),
        _ => None,
    };
    let mut out = Vec::new();
    let mut deadlines = Deadlines {
        art4: art4_due(eif),
        art5: None,
        art5_original: art5_due(eif),
        art7_initial: art7_initial_due(eif),
    };
    out.extend(art7(engine, sf, eif, as_of, end));
    out.push(art4(engine, sf, eif, as_of));
    let (a5, current) = art5(engine, sf, eif, as_of);
    deadlines.art5 = current;
    out.push(a5);
    out.push(art9(engine, sf, as_of));
    // Deadlines computed from entry into force rest on the deposit.
    if let Some(dep) = core.deposit {
        for o in &mut out {
            if matches!(o.article, "Art. 4" | "Art. 5" | "Art. 7(1)") {
                if let Some(r) = o.reasons.first_mut() {
                    r.add_fact(dep);
                }
            }
        }
    }
    if let Some(end) = end {
        for o in &mut out {
            if o.due.is_some_and(|d| d >= end)
                && !matches!(o.state, ObligationState::Met | ObligationState::MetLate)
            {
                o.state = ObligationState::Lapsed;
                o.overdue = false;
                o.reasons.push(Reason::new(
                    "Art. 20(2)",
                    format!(
                        "falls due on or after {}, when the withdrawal took effect",
                        end.long()
                    ),
                ));
            }
        }
    }
    (out, deadlines)
}

fn art7(
    engine: &Engine,
    sf: &SubjectFacts,
    eif: Date,
    as_of: Date,
    end: Option<Date>,
) -> Vec<Obligation> {
    let mut out = Vec::new();
    let Some(initial_due) = art7_initial_due(eif) else {
        return out;
    };
    let reports: Vec<(&Fact, bool, Option<i32>, bool)> = sf
        .art7
        .iter()
        .map(|&i| engine.fact(i))
        .filter(|f| engine.visible(f, as_of))
        .filter_map(|f| match &f.payload {
            Payload::Art7Report(r) => Some((f, r.initial, r.year_covered, r.not_submitted)),
            _ => None,
        })
        .collect();
    let due_words = format!(
        "entry into force {} + 180 days = {}",
        eif.long(),
        initial_due.long()
    );

    // Art. 7(1): the initial report.
    let submitted: Vec<&Fact> = reports
        .iter()
        .filter(|r| r.1 && !r.3)
        .map(|r| r.0)
        .collect();
    let not_submitted: Vec<&Fact> = reports
        .iter()
        .filter(|r| r.1 && r.3 && r.0.valid_from.is_some_and(|d| d.earliest() > initial_due))
        .map(|r| r.0)
        .collect();
    let base = Reason::new("Art. 7(1)", format!("initial report due {due_words}"));
    let (state, mut reasons) = if let Some(f) = submitted
        .iter()
        .min_by_key(|f| f.valid_from.map(|d| d.latest()))
    {
        let (state, words) = timeliness(f.valid_from, initial_due);
        (
            state,
            vec![
                base,
                Reason::new("Art. 7(1)", format!("initial report submitted {words}")).with_fact(f),
            ],
        )
    } else if let Some(f) = not_submitted.first() {
        (
            ObligationState::Missed,
            vec![
                base,
                Reason::new(
                    "Art. 7(1)",
                    format!(
                        "a source records that the initial report had not been submitted {}",
                        on_date(f)
                    ),
                )
                .with_fact(f),
            ],
        )
    } else if reports.is_empty() {
        (
            ObligationState::Unknown,
            vec![base, Reason::new("Art. 7(1)", "no Art. 7 reports recorded")],
        )
    } else if initial_due >= as_of {
        (
            ObligationState::Pending,
            vec![
                base,
                Reason::new("Art. 7(1)", "not yet due; no initial report recorded"),
            ],
        )
    } else {
        (
            ObligationState::Unknown,
            vec![
                base,
                Reason::new(
                    "Art. 7(1)",
                    "deadline passed; no initial report recorded (absence is not evidence)",
                ),
            ],
        )
    };
    if reports.is_empty() && initial_due >= as_of {
        reasons.push(Reason::new(
            "Art. 7(1)",
            format!("not yet due on {}", as_of.long()),
        ));
    }
    out.push(obligation(
        "Art. 7(1)",
        "initial transparency report",
        Some(initial_due),
        state,
        as_of,
        reasons,
    ));

    // Art. 7(2): annual updates covering the last calendar year, due 30 April, for every 30 April
    // after the initial report's deadline.
    let first_year = match art7_annual_due(initial_due.year() - 1) {
        Some(d) if d > initial_due => initial_due.year() - 1,
        _ => initial_due.year(),
    };
    let mut years = Vec::new();
    let mut y = first_year;
    while let Some(due) = art7_annual_due(y) {
        if end.is_some_and(|e| due >= e) {
            break;
        }
        years.push((y, due));
        if due > as_of {
            break;
        }
        y += 1;
    }
    if reports.is_empty() {
        let past = years.iter().filter(|(_, d)| *d <= as_of).count();
        let due = years
            .iter()
            .find(|(_, d)| *d > as_of)
            .or(years.last())
            .map(|&(_, d)| d);
        if let (Some(first), Some(due)) = (years.first(), due) {
            let text = format!(
                "annual updates covering the last calendar year are due by 30 April each year from {} \
                 ({past} due by {}); no Art. 7 reports recorded",
                first.1.long(),
                as_of.long()
            );
            let mut o = obligation(
                "Art. 7(2)",
                "annual transparency updates",
                Some(due),
                ObligationState::Unknown,
                as_of,
                vec![Reason::new("Art. 7(2)", text)],
            );
            o.passed = due < as_of;
            out.push(o);
        }
        return out;
    }
    for (year, due) in years {
        let covering = |r: &&(&Fact, bool, Option<i32>, bool)| {
            !r.1 && match r.2 {
                Some(c) => c == year,
                None => r.0.valid_from.is_some_and(|d| d.year() == year + 1),
            }
        };
        let next = year + 1;
        let done = reports
            .iter()
            .filter(covering)
            .filter(|r| !r.3)
            .map(|r| r.0)
            .min_by_key(|f| f.valid_from.map(|d| d.latest()));
        let missing = reports
            .iter()
            .filter(covering)
            .filter(|r| r.3 && r.0.valid_from.is_some_and(|d| d.earliest() > due))
            .map(|r| r.0)
            .next();
        let (state, reason) = if let Some(f) = done {
            let (state, words) = timeliness(f.valid_from, due);
            let how = if matches!(&f.payload, Payload::Art7Report(r) if r.year_covered.is_some()) {
                ""
            } else {
                " (year covered taken from the submission year)"
            };
            (
                state,
                Reason::new(
                    "Art. 7(2)",
                    format!(
                        "update covering {year} due by 30 April {next}: submitted {words}{how}"
                    ),
                )
                .with_fact(f),
            )
        } else if let Some(f) = missing {
            (
                ObligationState::Missed,
                Reason::new(
                    "Art. 7(2)",
                    format!(
                        "update covering {year} due by 30 April {next}: a source records that it had not been submitted {}",
                        on_date(f)
                    ),
                )
                .with_fact(f),
            )
        } else if due >= as_of {
            (
                ObligationState::Pending,
                Reason::new(
                    "Art. 7(2)",
                    format!("update covering {year} due by 30 April {next}: not yet due"),
                ),
            )
        } else {
            (
                ObligationState::Unknown,
                Reason::new(
                    "Art. 7(2)",
                    format!(
                        "update covering {year} due by 30 April {next}: deadline passed; none recorded (absence is not evidence)"
                    ),
                ),
            )
        };
        let mut o = obligation(
            "Art. 7(2)",
            "annual transparency update",
            Some(due),
            state,
            as_of,
            vec![reason],
        );
        o.year_covered = Some(year);
        out.push(o);
    }
    out
}

fn art4(engine: &Engine, sf: &SubjectFacts, eif: Date, as_of: Date) -> Obligation {
    let due = art4_due(eif);
    let title = "destroy stockpiled anti-personnel mines";
    let due_words = due.map(Date::long).unwrap_or_default();
    let base = Reason::new(
        "Art. 4",
        format!(
            "due entry into force {} + 4 years = {due_words}",
            eif.long()
        ),
    );
    let events: Vec<&Fact> = sf
        .art4
        .iter()
        .map(|&i| engine.fact(i))
        .filter(|f| engine.visible(f, as_of))
        .collect();
    let counts: Vec<&Fact> = sf
        .stockpiles
        .iter()
        .map(|&i| engine.fact(i))
        .filter(|f| engine.visible(f, as_of))
        .collect();
    let event = |t: Art4EventType| {
        events
            .iter()
            .copied()
            .filter(move |f| matches!(&f.payload, Payload::Art4Event(e) if e.event == t))
    };
    let Some(due) = due else {
        return obligation(
            "Art. 4",
            title,
            None,
            ObligationState::Unknown,
            as_of,
            vec![base],
        );
    };
    let completed = event(Art4EventType::Completed).next().is_some();
    if let Some(f) = event(Art4EventType::NoStockpileDeclared)
        .next()
        .filter(|_| !completed)
    {
        let r = Reason::new(
            "Art. 4",
            format!("declared {} that it holds no stockpile", on_date(f)),
        )
        .with_fact(f);
        return obligation(
            "Art. 4",
            title,
            Some(due),
            ObligationState::NotApplicable,
            as_of,
            vec![base, r],
        );
    }
    if let Some(f) =
        event(Art4EventType::Completed).min_by_key(|f| f.valid_from.map(|d| d.latest()))
    {
        let (mut state, words) = timeliness(f.valid_from, due);
        let mut conflicts = Vec::new();
        let mut reasons = vec![
            base,
            Reason::new("Art. 4", format!("destruction completed {words}")).with_fact(f),
        ];
        // Other sources may date the completion otherwise (Afghanistan: 2006 per the ISU,
        // October 2007 per the Monitor): keep both and say whether that changes timeliness.
        for g in event(Art4EventType::Completed).filter(|g| g.id != f.id) {
            let (other, words) = timeliness(g.valid_from, due);
            let disagree = match (f.valid_from, g.valid_from) {
                (Some(a), Some(b)) => a.latest() < b.earliest() || b.latest() < a.earliest(),
                _ => false,
            };
            if disagree {
                let r = Reason::new(
                    "Art. 4",
                    format!("another source dates the completion {words}: the sources disagree"),
                )
                .with_fact(g)
                .with_fact(f);
                conflicts.push(r.clone());
                reasons.push(r);
                if other != state {
                    state = ObligationState::Completed;
                }
            }
        }
        for m in event(Art4EventType::DeadlineMissed) {
            reasons.push(
                Reason::new(
                    "Art. 4",
                    format!("a source records the deadline missed {}", on_date(m)),
                )
                .with_fact(m),
            );
            if state == ObligationState::Met {
                // A recorded miss beside a completion dated by the deadline: timeliness is
                // disputed, completion is not.
                state = ObligationState::Completed;
            }
        }
        // A declaration of no stockpile beside a recorded destruction (Nigeria: none declared
        // in 2004, 9,786 destroyed in 2005 reported in 2009): both stand.
        for n in event(Art4EventType::NoStockpileDeclared) {
            let r = Reason::new(
                "Art. 4",
                format!(
                    "it also declared {} that it held no stockpile: the sources disagree",
                    on_date(n)
                ),
            )
            .with_fact(n)
            .with_fact(f);
            conflicts.push(r.clone());
            reasons.push(r);
        }
        if state == ObligationState::Completed && f.valid_from.is_some() {
            reasons.push(Reason::new(
                "Art. 4",
                "completion is recorded; whether it was on time is disputed by the sources",
            ));
        }
        let mut o = obligation("Art. 4", title, Some(due), state, as_of, reasons);
        o.conflicts = conflicts;
        return o;
    }
    if let Some(f) = event(Art4EventType::DeadlineMissed).next() {
        let r = Reason::new(
            "Art. 4",
            format!(
                "a source records the deadline missed {}; Art. 4 has no extension mechanism: a standing breach until completion is recorded",
                on_date(f)
            ),
        )
        .with_fact(f);
        return obligation(
            "Art. 4",
            title,
            Some(due),
            ObligationState::Missed,
            as_of,
            vec![base, r],
        );
    }
    let mut reasons = vec![base];
    let latest_count = counts
        .iter()
        .max_by_key(|f| (f.valid_from.map(|d| d.latest()), f.id));
    if let Some(c) = latest_count {
        if let Payload::StockpileCount(s) = &c.payload {
            reasons.push(
                Reason::new(
                    "Art. 4",
                    format!(
                        "stockpile count {}: {} {} {}",
                        on_date(c),
                        s.measure,
                        s.quantity,
                        s.mine_type
                    ),
                )
                .with_fact(c),
            );
        }
    }
    let state = if due >= as_of {
        if counts.is_empty() && events.is_empty() {
            reasons.push(Reason::new(
                "Art. 4",
                "not yet due; no stockpile facts recorded",
            ));
            ObligationState::Unknown
        } else {
            reasons.push(Reason::new(
                "Art. 4",
                "not yet due; destruction not recorded as complete",
            ));
            ObligationState::Ongoing
        }
    } else if counts.is_empty() && events.is_empty() {
        reasons.push(Reason::new(
            "Art. 4",
            "deadline passed; no stockpile facts recorded (absence is not evidence)",
        ));
        ObligationState::Unknown
    } else {
        reasons.push(Reason::new(
            "Art. 4",
            "deadline passed; neither completion nor a missed deadline is recorded",
        ));
        ObligationState::Unknown
    };
    obligation("Art. 4", title, Some(due), state, as_of, reasons)
}

fn art5(engine: &Engine, sf: &SubjectFacts, eif: Date, as_of: Date) -> (Obligation, Option<Date>) {
    use crate::art5::Art5State as S;
    let title = "clear mined areas";
    let h = engine.art5_history_of("", sf, eif, as_of);
    let mut reasons = h.reasons;
    reasons.extend(h.conflicts.iter().cloned());
    let nothing = h.steps.is_empty();
    let state = match h.state {
        _ if nothing => ObligationState::Unknown,
        S::Completed => ObligationState::Met,
        S::CompletedLate => ObligationState::MetLate,
        S::CompletedUndated => ObligationState::Completed,
        S::Extended => ObligationState::Extended,
        S::OnTrack => ObligationState::OnTrack,
        S::Missed => ObligationState::MissedWithoutExtension,
        S::Overdue => ObligationState::Unknown,
    };
    let due = h.current_deadline;
    let mut o = obligation("Art. 5", title, due, state, as_of, reasons);
    o.conflicts = h.conflicts;
    (o, due)
}

fn art9(engine: &Engine, sf: &SubjectFacts, as_of: Date) -> Obligation {
    let laws: Vec<&Fact> = sf
        .legislation
        .iter()
        .map(|&i| engine.fact(i))
        .filter(|f| engine.visible(f, as_of))
        .collect();
    let title = "national implementation measures, including penal sanctions";
    if laws.is_empty() {
        return obligation(
            "Art. 9",
            title,
            None,
            ObligationState::Unknown,
            as_of,
            vec![Reason::new("Art. 9", "no legislation recorded")],
        );
    }
    let reasons = laws
        .iter()
        .map(|f| {
            let (t, s) = match &f.payload {
                Payload::Legislation(l) => (l.title.as_str(), l.status.as_str()),
                _ => ("", ""),
            };
            Reason::new("Art. 9", format!("{t} ({s}) {}", on_date(f))).with_fact(f)
        })
        .collect();
    obligation(
        "Art. 9",
        title,
        None,
        ObligationState::Recorded,
        as_of,
        reasons,
    )
}
