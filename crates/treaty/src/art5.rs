//! Article 5 histories: the deadline in force on any date, the extensions granted (each a
//! decision of a meeting of the States Parties), completion, reinstatement by newly found
//! contamination, and where the sources disagree.
//!
//! - A request changes nothing; a **grant** moves the deadline from the day it is known (its
//!   decision, or the closing day of the meeting named; an undated grant from its source's
//!   publication: the as-of rule).
//! - Several facts can record one decision (two research files, two sources): grants that share
//!   a meeting, a new deadline or an overlapping date are one extension. When they set different
//!   deadlines, the one cited by more sources (then the more precise, then the earlier recorded)
//!   is used and the disagreement is reported.
//! - A declared completion ends the obligation; a later reinstatement (newly found mined areas,
//!   Nigeria, Mauritania) opens it again with its own deadline, extended by later grants.

use crate::engine::{distinct_sources, Engine, SubjectFacts};
use crate::obligations::art5_due;
use crate::reason::{On, Reason};
use minewatch_domain::fact::{Art5Event, Art5EventType};
use minewatch_domain::{Date, Fact, PartialDate, Payload, Precision};
use serde::Serialize;

/// Where an Art. 5 obligation stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Art5State {
    /// Completion declared by the deadline in force.
    Completed,
    /// Completion declared after the deadline in force.
    CompletedLate,
    /// Completion declared; its date does not tell whether on time.
    CompletedUndated,
    /// An extension was granted and the extended deadline is not reached.
    Extended,
    /// The original deadline is not reached and no extension was granted.
    OnTrack,
    /// A source records the deadline in force missed, with no extension granted since.
    Missed,
    /// The deadline in force has passed; neither completion, a missed deadline nor a further
    /// extension is recorded (absence is not evidence).
    Overdue,
}

impl Art5State {
    pub fn as_str(self) -> &'static str {
        match self {
            Art5State::Completed => "completed",
            Art5State::CompletedLate => "completed_late",
            Art5State::CompletedUndated => "completed_undated",
            Art5State::Extended => "extended",
            Art5State::OnTrack => "on_track",
            Art5State::Missed => "missed",
            Art5State::Overdue => "overdue",
        }
    }

    /// Words for tables: "completed late", "on track".
    pub fn words(self) -> &'static str {
        match self {
            Art5State::Completed => "completed",
            Art5State::CompletedLate => "completed late",
            Art5State::CompletedUndated => "completed (date unknown)",
            Art5State::Extended => "extended",
            Art5State::OnTrack => "on track",
            Art5State::Missed => "missed",
            Art5State::Overdue => "deadline passed",
        }
    }

    pub fn is_completed(self) -> bool {
        matches!(
            self,
            Art5State::Completed | Art5State::CompletedLate | Art5State::CompletedUndated
        )
    }
}

/// One step of an Art. 5 history, for timelines.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Art5Step {
    pub event: Art5EventType,
    /// The event's date as precise as its source (`null`: undated).
    pub date: Option<PartialDate>,
    /// The first day the step is part of the record's world (the as-of rule).
    pub known_from: Option<Date>,
    pub meeting: Option<String>,
    /// The deadline a request asks for, a grant or reinstatement sets, or a source reports.
    pub new_deadline: Option<Date>,
    /// The meeting or date was deduced by the data's compiler (`INFERRED`).
    pub inferred: bool,
    /// This fact's grant was set aside for another fact recording the same decision.
    pub superseded_by_preferred: bool,
    pub reason: Reason,
}

/// One extension: a decision of a meeting, recorded by one or more facts.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Extension {
    /// 1 for the first extension of this obligation (counting restarts after a reinstatement).
    pub number: usize,
    pub decided: Option<PartialDate>,
    pub known_from: Option<Date>,
    pub meeting: Option<String>,
    /// The new deadline (from the preferred fact).
    pub new_deadline: Option<Date>,
    /// Other deadlines recorded for the same decision (sources disagree).
    pub disputed: Vec<Date>,
    pub fact_ids: Vec<i64>,
}

/// The Article 5 history of one State Party on a date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Art5History {
    pub code: String,
    pub as_of: Date,
    pub entry_into_force: Date,
    /// Entry into force + 10 years (Art. 5(1)).
    pub original_deadline: Date,
    /// The deadline in force on `as_of` (`null` when the latest extension granted has no
    /// recorded deadline).
    pub current_deadline: Option<Date>,
    /// Extensions granted by `as_of` (of the obligation in force: after a reinstatement, those
    /// granted since).
    pub extensions: Vec<Extension>,
    /// Extensions granted in the whole history, reinstated obligations included.
    pub extensions_total: usize,
    pub state: Art5State,
    /// The completion declared (the earliest recorded), if the obligation is complete.
    pub completed: Option<PartialDate>,
    /// The obligation was reinstated after a completion (newly found mined areas).
    pub reinstated: Option<PartialDate>,
    /// Every visible step in date order.
    pub steps: Vec<Art5Step>,
    /// Where the sources disagree.
    pub conflicts: Vec<Reason>,
    /// The computation in words.
    pub reasons: Vec<Reason>,
}

fn event_of(f: &Fact) -> Option<&Art5Event> {
    match &f.payload {
        Payload::Art5Event(e) => Some(e),
        _ => None,
    }
}

/// The day a grant, completion or reinstatement takes effect in the record's world.
fn effect_day(engine: &Engine, f: &Fact) -> Option<Date> {
    engine.known(f).from
}

/// Do two partial dates overlap?
fn overlap(a: PartialDate, b: PartialDate) -> bool {
    a.earliest() <= b.latest() && b.earliest() <= a.latest()
}

fn same_decision(a: &Fact, b: &Fact) -> bool {
    let (Some(x), Some(y)) = (event_of(a), event_of(b)) else {
        return false;
    };
    if let (Some(m), Some(n)) = (&x.meeting, &y.meeting) {
        return m == n;
    }
    if let (Some(p), Some(q)) = (x.new_deadline, y.new_deadline) {
        if p.latest() == q.latest() {
            return true;
        }
    }
    match (a.valid_from, b.valid_from) {
        (Some(p), Some(q)) => {
            overlap(p, q) && (p.precision() != Precision::Day || q.precision() != Precision::Day)
        }
        _ => false,
    }
}

/// Does a fact cite the Implementation Support Unit (the States Parties' own record of their
/// decisions, `apminebanconvention.org`)?
fn isu(f: &Fact) -> bool {
    f.citations
        .iter()
        .any(|c| c.source.contains("apminebanconvention"))
}

/// Prefer, among facts recording one decision: one that records the deadline, one citing the
/// ISU (which publishes the decisions), more distinct sources, a day-precise deadline, the more
/// precisely dated decision, then the earliest recorded.
fn preferred<'e>(facts: &[&'e Fact]) -> Option<&'e Fact> {
    facts.iter().copied().min_by(|a, b| {
        let prec = |f: &Fact| {
            event_of(f)
                .and_then(|e| e.new_deadline)
                .map(PartialDate::precision)
        };
        // A fact that records the new deadline beats one that does not (silence is no
        // disagreement); then more distinct sources, then the more precise deadline.
        prec(b)
            .is_some()
            .cmp(&prec(a).is_some())
            .then_with(|| isu(b).cmp(&isu(a)))
            .then_with(|| distinct_sources(b).cmp(&distinct_sources(a)))
            .then_with(|| prec(b).cmp(&prec(a)))
            .then_with(|| {
                let day = |f: &Fact| f.valid_from.map(PartialDate::precision);
                day(b).cmp(&day(a))
            })
            .then_with(|| a.id.cmp(&b.id))
    })
}

pub(crate) fn step_words(e: &Art5Event, f: &Fact) -> String {
    // A request is dated by its submission, anything else by its own date or decision (never
    // a grant by its request: "granted in April 2009" would be wrong).
    let own = match e.event {
        Art5EventType::ExtensionRequested => f.valid_from.or(e.requested),
        _ => f.valid_from.or(e.decided),
    };
    let when = own
        .map(|d| On(d).to_string())
        .unwrap_or_else(|| "(undated)".into());
    let at = e
        .meeting
        .as_deref()
        .map(|m| format!(" at the {m}"))
        .unwrap_or_default();
    let to = e
        .new_deadline
        .map(|d| format!(" to {}", d.long()))
        .unwrap_or_default();
    let inferred = if e.inferred {
        " (meeting or date inferred by the data's compiler)"
    } else {
        ""
    };
    match e.event {
        Art5EventType::ExtensionRequested => format!("extension requested {when}{to}{inferred}"),
        Art5EventType::ExtensionGranted => {
            format!("extension granted{at} {when}{to}{inferred}")
        }
        Art5EventType::CompletionDeclared => format!("completion declared{at} {when}{inferred}"),
        Art5EventType::DeadlineMissed => format!("a source records the deadline missed {when}"),
        Art5EventType::NewContaminationReported => {
            format!("newly found mined areas reported {when}")
        }
        Art5EventType::ObligationReinstated => {
            format!("obligation reinstated {when}{to}{inferred}")
        }
        Art5EventType::DeadlineReported => format!(
            "a source gives the deadline as {} {when}",
            e.new_deadline
                .map(|d| d.long())
                .unwrap_or_else(|| "an unrecorded date".into())
        ),
    }
}

impl Engine {
    /// The Article 5 history of `code` on `as_of`; `None` before entry into force is known.
    pub fn art5_history(&self, code: &str, as_of: Date) -> Option<Art5History> {
        let sf = self.subject(code)?;
        let eif = self.core(sf, as_of).eif.date()?;
        Some(self.art5_history_of(code, sf, eif, as_of))
    }

    /// States Parties (in force on `as_of`) with an Article 5 history recorded, by code.
    pub fn article5(&self, as_of: Date) -> Vec<Art5History> {
        self.subjects
            .iter()
            .filter(|(_, sf)| sf.art5.iter().any(|&i| self.visible(&self.facts[i], as_of)))
            .filter_map(|(code, sf)| {
                let eif = self.core(sf, as_of).eif.date()?;
                (eif <= as_of).then(|| self.art5_history_of(code, sf, eif, as_of))
            })
            .collect()
    }

    pub(crate) fn art5_history_of(
        &self,
        code: &str,
        sf: &SubjectFacts,
        eif: Date,
        as_of: Date,
    ) -> Art5History {
        let original = art5_due(eif).unwrap_or(eif);
        let visible: Vec<&Fact> = sf
            .art5
            .iter()
            .map(|&i| self.fact(i))
            .filter(|f| self.visible(f, as_of))
            .collect();
        let by_type = |t: Art5EventType| -> Vec<&Fact> {
            visible
                .iter()
                .copied()
                .filter(|f| event_of(f).is_some_and(|e| e.event == t))
                .collect()
        };
        let mut reasons = vec![Reason::new(
            "Art. 5(1)",
            format!(
                "due entry into force {} + 10 years = {}",
                eif.long(),
                original.long()
            ),
        )];
        let mut conflicts = Vec::new();

        // Deadlines that sources report on a date, exact to the day.
        let reported: Vec<(Date, &Fact)> = by_type(Art5EventType::DeadlineReported)
            .into_iter()
            .filter_map(|f| {
                let d = event_of(f)?.new_deadline?.as_day()?;
                f.valid_from.is_some().then_some((d, f))
            })
            .collect();
        // Cluster the grants into decisions (union of "same decision").
        // Every grant, visible or not: a grant not yet known by its own date or source can be
        // known through a dated report of its deadline.
        let grants: Vec<&Fact> = sf
            .art5
            .iter()
            .map(|&i| self.fact(i))
            .filter(|f| event_of(f).is_some_and(|e| e.event == Art5EventType::ExtensionGranted))
            .collect();
        let mut cluster: Vec<usize> = (0..grants.len()).collect();
        fn root(c: &mut [usize], mut i: usize) -> usize {
            while c[i] != i {
                c[i] = c[c[i]];
                i = c[i];
            }
            i
        }
        for a in 0..grants.len() {
            for b in a + 1..grants.len() {
                if same_decision(grants[a], grants[b]) {
                    let (ra, rb) = (root(&mut cluster, a), root(&mut cluster, b));
                    cluster[ra.max(rb)] = ra.min(rb);
                }
            }
        }
        let mut groups: Vec<Vec<&Fact>> = Vec::new();
        let mut roots: Vec<usize> = Vec::new();
        for (i, &g) in grants.iter().enumerate() {
            let r = root(&mut cluster, i);
            match roots.iter().position(|&x| x == r) {
                Some(p) => groups[p].push(g),
                None => {
                    roots.push(r);
                    groups.push(vec![g]);
                }
            }
        }
        let mut decisions: Vec<(Option<Date>, Extension, &Fact)> = groups
            .iter()
            .filter_map(|g| {
                let best = preferred(g)?;
                let e = event_of(best)?;
                let deadline = e.new_deadline.map(PartialDate::latest);
                // A source that gives the extended deadline on a date shows the grant had been
                // made by then (an undated grant, Algeria's to 1 April 2017, is known from the
                // ISU's 12MSP report of 5 December 2012 that lists it).
                let reported = reported
                    .iter()
                    .filter(|(d, _)| Some(*d) == deadline && *d != original)
                    .filter_map(|(_, f)| effect_day(self, f));
                let known = g
                    .iter()
                    .filter_map(|f| effect_day(self, f))
                    .chain(reported)
                    .min();
                let mut disputed: Vec<Date> = g
                    .iter()
                    .filter_map(|f| event_of(f).and_then(|e| e.new_deadline))
                    .map(PartialDate::latest)
                    .filter(|d| Some(*d) != deadline)
                    .collect();
                disputed.sort_unstable();
                disputed.dedup();
                Some((
                    known,
                    Extension {
                        number: 0,
                        decided: best.valid_from,
                        known_from: known,
                        meeting: g.iter().find_map(|f| event_of(f)?.meeting.clone()),
                        new_deadline: deadline,
                        disputed,
                        fact_ids: g.iter().map(|f| f.id).collect(),
                    },
                    best,
                ))
            })
            .collect();
        decisions.retain(|(k, _, _)| k.is_some_and(|k| k <= as_of));
        // In the order they were decided: a decision's own date, or the day it became known.
        let decided_on =
            |k: &Option<Date>, best: &Fact| best.valid_from.map(PartialDate::latest).or(*k);
        decisions.sort_by_key(|(k, x, best)| (decided_on(k, best), x.new_deadline));
        for (_, x, best) in &decisions {
            if !x.disputed.is_empty() {
                let others: Vec<String> = x.disputed.iter().map(|d| d.long()).collect();
                let group: Vec<&Fact> = grants
                    .iter()
                    .copied()
                    .filter(|f| x.fact_ids.contains(&f.id))
                    .collect();
                conflicts.push(
                    Reason::new(
                        "Art. 5(6)",
                        format!(
                            "sources disagree on the deadline set by one decision{}: {} (used: {}) or {}",
                            x.meeting.as_deref().map(|m| format!(" at the {m}")).unwrap_or_default(),
                            x.new_deadline.map(Date::long).unwrap_or_else(|| "none".into()),
                            if isu(best) {
                                "the Implementation Support Unit's".to_string()
                            } else {
                                match distinct_sources(best) {
                                    1 => "cited by 1 source".to_string(),
                                    n => format!("cited by {n} sources"),
                                }
                            },
                            others.join(" or ")
                        ),
                    )
                    .with_facts(group),
                );
            }
        }

        // Completions and reinstatements, in the order they became known.
        let mut completions: Vec<&Fact> = by_type(Art5EventType::CompletionDeclared);
        completions.sort_by_key(|f| (effect_day(self, f), f.id));
        let mut reinstatements: Vec<&Fact> = by_type(Art5EventType::ObligationReinstated);
        // Newly found mined areas after a completion reinstate the obligation (DOMAIN.md):
        // when the state then asks for or is granted an extension, the record says so even
        // without an explicit reinstatement (Mauritania, 2020-2021).
        if reinstatements.is_empty() {
            let first_completion = completions.first().and_then(|f| effect_day(self, f));
            let implied = by_type(Art5EventType::NewContaminationReported)
                .into_iter()
                .filter(|n| {
                    let k = effect_day(self, n);
                    first_completion.is_some_and(|c| k.is_some_and(|k| k > c))
                })
                .find(|n| {
                    // A request or grant dated after the newly found areas, and not setting a
                    // deadline from before them (Mozambique's undated grant to 1 March 2014 says
                    // nothing about areas found in 2016).
                    let Some(found) = n.valid_from.map(PartialDate::earliest) else {
                        return false;
                    };
                    visible.iter().any(|f| {
                        event_of(f).is_some_and(|e| {
                            matches!(
                                e.event,
                                Art5EventType::ExtensionRequested | Art5EventType::ExtensionGranted
                            ) && e.new_deadline.is_none_or(|d| d.latest() > found)
                        }) && f.valid_from.is_some_and(|d| d.earliest() >= found)
                    })
                });
            if let Some(n) = implied {
                reasons.push(
                    Reason::new(
                        "Art. 5",
                        format!(
                            "{} after the declared completion, and an extension was requested since: the obligation is taken as reinstated",
                            event_of(n).map(|e| step_words(e, n)).unwrap_or_default()
                        ),
                    )
                    .with_fact(n),
                );
                reinstatements.push(n);
            }
        }
        reinstatements.sort_by_key(|f| (effect_day(self, f), f.id));

        // The obligation in force: after the last reinstatement known, if any.
        let reinstated = reinstatements.last().copied();
        // Decisions from the first day the reinstatement may have happened belong to the
        // reinstated obligation (Nigeria: reinstated "in 2021", extended at the 19MSP).
        let period_start = reinstated.and_then(|f| {
            f.valid_from
                .map(PartialDate::earliest)
                .or(effect_day(self, f))
        });
        let in_period = |k: Option<Date>| match (period_start, k) {
            (Some(p), Some(k)) => k >= p,
            (Some(_), None) => false,
            (None, _) => true,
        };
        let mut current = Some(original);
        if let Some(r) = reinstated {
            current = event_of(r)
                .and_then(|e| e.new_deadline)
                .map(PartialDate::latest);
            reasons.push(
                Reason::new(
                    "Art. 5",
                    format!(
                        "{}; the obligation runs again{}",
                        step_words(event_of(r).expect("filtered to art5 events"), r),
                        event_of(r)
                            .and_then(|e| e.new_deadline)
                            .map(|d| format!(" with a deadline of {}", d.long()))
                            .unwrap_or_default()
                    ),
                )
                .with_fact(r),
            );
        }
        let extensions_total = decisions.len();
        let mut extensions = Vec::new();
        // Extensions only ever extend: the deadline in force is the latest one granted, unless
        // the last decision (by its date) recorded none, which leaves it unknown.
        let mut latest_set: Option<(Option<Date>, Date)> = None;
        let mut last_unset: Option<Option<Date>> = None;
        for (known, x, best) in &decisions {
            if !in_period(*known) {
                continue;
            }
            let mut x = x.clone();
            x.number = extensions.len() + 1;
            let on = decided_on(known, best);
            match x.new_deadline {
                Some(d) => {
                    if latest_set.is_none_or(|(_, l)| d >= l) {
                        latest_set = Some((on, d));
                    }
                }
                None => last_unset = Some(on),
            }
            let e = event_of(best).expect("filtered to art5 events");
            let group: Vec<&Fact> = grants
                .iter()
                .copied()
                .filter(|f| x.fact_ids.contains(&f.id))
                .collect();
            let own = group.iter().filter_map(|f| effect_day(self, f)).min();
            let from = match known {
                Some(k) if own.is_none_or(|o| k < &o) => format!(
                    "; in force from {}, when a source gave this deadline (the grant itself has {})",
                    k.long(),
                    if best.valid_from.is_none() { "no date" } else { "a later-published source" }
                ),
                Some(k) if best.valid_from.is_none() => format!(
                    "; undated: in force from {}, as the as-of rule counts it ({})",
                    k.long(),
                    self.known(best)
                ),
                Some(_) if self.known(best).counted_from_period_end() => {
                    format!("; {}", self.known(best))
                }
                _ => String::new(),
            };
            reasons.push(
                Reason::new(
                    "Art. 5(6)",
                    format!("extension {}: {}{from}", x.number, step_words(e, best)),
                )
                .with_facts(group),
            );
            extensions.push(x);
        }
        let floor = current;
        if let Some((_, d)) = latest_set {
            if current.is_none_or(|c| d > c) {
                current = Some(d);
            }
        }
        if let Some(unset_on) = last_unset {
            if latest_set.is_none_or(|(set_on, _)| unset_on > set_on) {
                current = None;
            }
        }
        let previous = latest_set.map(|(_, d)| d).or(floor).unwrap_or(original);
        // No recorded deadline in force (a grant or reinstatement without one): a source that
        // reports a later deadline after it tells (never an earlier one: Angola's 22MSP grant
        // does not bring back its 2013 deadline).
        if current.is_none() {
            let since = decisions
                .iter()
                .filter(|(k, _, _)| in_period(*k))
                .filter_map(|(k, _, _)| *k)
                .max()
                .or(period_start);
            let report = by_type(Art5EventType::DeadlineReported)
                .into_iter()
                .filter(|f| since.is_none_or(|s| effect_day(self, f).is_some_and(|k| k >= s)))
                .filter_map(|f| Some((event_of(f)?.new_deadline?, f)))
                .filter(|(d, _)| d.earliest() > previous)
                .max_by_key(|(_, f)| (effect_day(self, f), f.id));
            if let Some((d, f)) = report {
                current = Some(d.latest());
                reasons.push(
                    Reason::new(
                        "Art. 5",
                        format!(
                            "the latest decision's new deadline is not recorded with it; {}, so that is taken as the deadline in force",
                            event_of(f).map(|e| step_words(e, f)).unwrap_or_default()
                        ),
                    )
                    .with_fact(f),
                );
            }
        }
        if !extensions.is_empty() || reinstated.is_some() {
            reasons.push(Reason::new(
                "Art. 5(6)",
                format!(
                    "deadline in force on {}: {}{}",
                    as_of.long(),
                    current.map_or_else(|| "not recorded (the latest decision's new deadline is not in the sources)".into(), Date::long),
                    if extensions.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (after {} extension{})",
                            extensions.len(),
                            if extensions.len() == 1 { "" } else { "s" }
                        )
                    }
                ),
            ));
        }
        // Requests with no decision recorded after them.
        for f in by_type(Art5EventType::ExtensionRequested) {
            // Decided after the request was made (its own date), whenever its source published it.
            let asked = f
                .valid_from
                .map(PartialDate::earliest)
                .or(effect_day(self, f));
            let decided = decisions
                .iter()
                .any(|(k, _, _)| k.is_some_and(|k| asked.is_some_and(|a| k >= a)));
            if !decided {
                let e = event_of(f).expect("filtered to art5 events");
                reasons.push(
                    Reason::new(
                        "Art. 5(3)",
                        format!(
                            "{}: no decision recorded since (a request changes nothing until granted)",
                            step_words(e, f)
                        ),
                    )
                    .with_fact(f),
                );
            }
        }

        // Completion of the obligation in force.
        let completion = completions
            .iter()
            .copied()
            .find(|f| in_period(effect_day(self, f)));
        let deadline_then = |d: Option<PartialDate>| -> Option<Date> {
            // The deadline in force when the completion happened.
            let mut due = Some(original);
            if let Some(r) = reinstated {
                due = event_of(r)
                    .and_then(|e| e.new_deadline)
                    .map(PartialDate::latest);
            }
            for (k, x, _) in &decisions {
                if !in_period(*k) {
                    continue;
                }
                let before = match (k, d) {
                    (Some(k), Some(d)) => *k <= d.latest(),
                    _ => true,
                };
                if before {
                    due = x.new_deadline;
                }
            }
            due
        };
        let state;
        let mut completed = None;
        if let Some(f) = completion {
            let due = deadline_then(f.valid_from);
            let e = event_of(f).expect("filtered to art5 events");
            state = match (f.valid_from, due) {
                (Some(d), Some(due)) if d.latest() <= due => Art5State::Completed,
                (Some(d), Some(due)) if d.earliest() > due => Art5State::CompletedLate,
                _ => Art5State::CompletedUndated,
            };
            completed = f.valid_from;
            let due_words = due.map_or_else(|| "an unrecorded date".into(), Date::long);
            let timing = match state {
                Art5State::Completed => format!("by the deadline of {due_words}"),
                Art5State::CompletedLate => format!("after the deadline of {due_words}"),
                _ => format!("its date does not tell whether by the deadline of {due_words}"),
            };
            let others: Vec<&Fact> = completions
                .iter()
                .copied()
                .filter(|g| g.id != f.id && in_period(effect_day(self, g)))
                .collect();
            reasons.push(
                Reason::new("Art. 5", format!("{}, {timing}", step_words(e, f)))
                    .with_fact(f)
                    .with_facts(others),
            );
            for n in by_type(Art5EventType::NewContaminationReported) {
                if effect_day(self, n) >= effect_day(self, f) {
                    reasons.push(
                        Reason::new(
                            "Art. 5",
                            format!(
                                "{}; no reinstatement of the obligation recorded",
                                step_words(event_of(n).expect("filtered to art5 events"), n)
                            ),
                        )
                        .with_fact(n),
                    );
                }
            }
        } else {
            let last_decision = decisions
                .iter()
                .filter(|(k, _, _)| in_period(*k))
                .filter_map(|(k, _, _)| *k)
                .max();
            // A recorded miss concerns the deadline in force unless a grant became known after
            // it (then it concerns an earlier deadline, since extended).
            let missed: Vec<&Fact> = by_type(Art5EventType::DeadlineMissed)
                .into_iter()
                .filter(|f| in_period(effect_day(self, f)))
                .filter(|f| {
                    last_decision.is_none_or(|d| effect_day(self, f).is_some_and(|k| k >= d))
                })
                .collect();
            let current_words =
                current.map_or_else(|| "an unrecorded date".to_string(), Date::long);
            for m in by_type(Art5EventType::DeadlineMissed) {
                let text = if missed.iter().any(|x| x.id == m.id) {
                    format!(
                        "a source records the deadline of {current_words} missed {}",
                        m.valid_from
                            .map(|d| On(d).to_string())
                            .unwrap_or_else(|| "(undated)".into())
                    )
                } else {
                    format!(
                        "{}; an extension was granted since, so it does not concern the deadline in force",
                        event_of(m).map(|e| step_words(e, m)).unwrap_or_default()
                    )
                };
                reasons.push(Reason::new("Art. 5", text).with_fact(m));
            }
            let running = current.is_none_or(|c| c >= as_of);
            state = match (!missed.is_empty(), running, extensions.is_empty()) {
                // A recorded miss while an extended deadline runs concerns an earlier one.
                (true, true, false) => Art5State::Extended,
                (true, _, _) => Art5State::Missed,
                (false, true, true) => Art5State::OnTrack,
                (false, true, false) => Art5State::Extended,
                (false, false, _) => Art5State::Overdue,
            };
            match state {
                Art5State::Extended => reasons.push(Reason::new(
                    "Art. 5(6)",
                    match current {
                        Some(c) => format!("extended deadline {} not yet reached", c.long()),
                        None => "extension granted; its new deadline is not recorded".into(),
                    },
                )),
                Art5State::OnTrack if visible.is_empty() => reasons.push(Reason::new(
                    "Art. 5",
                    "not yet due; no clearance facts recorded",
                )),
                Art5State::OnTrack => reasons.push(Reason::new(
                    "Art. 5",
                    format!("deadline {current_words} not yet reached"),
                )),
                Art5State::Overdue if visible.is_empty() => reasons.push(Reason::new(
                    "Art. 5",
                    "deadline passed; no clearance facts recorded (absence is not evidence)",
                )),
                Art5State::Overdue => reasons.push(Reason::new(
                    "Art. 5",
                    format!(
                        "deadline {current_words} passed; neither completion, a missed deadline nor a further extension is recorded (absence is not evidence)"
                    ),
                )),
                _ => {}
            }
        }

        // Reported deadlines that match no recorded one.
        let mut known_deadlines: Vec<Date> = vec![original];
        known_deadlines.extend(decisions.iter().filter_map(|(_, x, _)| x.new_deadline));
        known_deadlines.extend(decisions.iter().flat_map(|(_, x, _)| x.disputed.clone()));
        known_deadlines.extend(
            reinstatements
                .iter()
                .filter_map(|f| event_of(f).and_then(|e| e.new_deadline))
                .map(PartialDate::latest),
        );
        for f in by_type(Art5EventType::DeadlineReported) {
            let Some(d) = event_of(f).and_then(|e| e.new_deadline) else {
                continue;
            };
            let matches = known_deadlines
                .iter()
                .any(|k| d.earliest() <= *k && *k <= d.latest());
            if !matches {
                conflicts.push(
                    Reason::new(
                        "Art. 5",
                        format!(
                            "a source gives the deadline as {}, which matches neither the original deadline ({}) nor any recorded extension",
                            d.long(),
                            original.long()
                        ),
                    )
                    .with_fact(f),
                );
            }
        }

        let mut steps: Vec<Art5Step> = visible
            .iter()
            .filter_map(|f| {
                let e = event_of(f)?;
                let superseded = e.event == Art5EventType::ExtensionGranted
                    && decisions.iter().any(|(_, x, best)| {
                        x.fact_ids.contains(&f.id)
                            && best.id != f.id
                            && e.new_deadline.map(PartialDate::latest) != x.new_deadline
                    });
                Some(Art5Step {
                    event: e.event,
                    date: f.valid_from,
                    known_from: effect_day(self, f),
                    meeting: e.meeting.clone(),
                    new_deadline: e.new_deadline.map(PartialDate::latest),
                    inferred: e.inferred,
                    superseded_by_preferred: superseded,
                    reason: Reason::new("Art. 5", step_words(e, f)).with_fact(f),
                })
            })
            .collect();
        steps.sort_by_key(|s| (s.known_from, s.date.map(PartialDate::earliest)));
        let reinstated_on = reinstated.and_then(|f| f.valid_from);
        Art5History {
            code: code.to_string(),
            as_of,
            entry_into_force: eif,
            original_deadline: original,
            current_deadline: current,
            extensions,
            extensions_total,
            state,
            completed,
            reinstated: reinstated_on,
            steps,
            conflicts,
            reasons,
        }
    }
}
