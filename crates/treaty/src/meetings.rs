//! Formal meetings of the treaty (Meetings of the States Parties, Art. 11; Review Conferences,
//! Art. 12) and what the record says each decided and who attended.

use crate::engine::Engine;
use crate::reason::Reason;
use minewatch_domain::fact::{Art5EventType, MeetingRole};
use minewatch_domain::{Date, Fact, PartialDate, Payload};
use serde::Serialize;

/// One version of a meeting's dates, as one source gives them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MeetingDates {
    pub start: Option<PartialDate>,
    pub end: Option<PartialDate>,
    pub reason: Reason,
}

/// A meeting with every recorded version of its dates.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MeetingInfo {
    pub code: String,
    pub name: String,
    pub city: Option<String>,
    /// The first day any version gives.
    pub start: Option<Date>,
    /// The closing day: the latest any version gives (a decision named only by the meeting
    /// is dated by it).
    pub end: Option<Date>,
    /// Sources disagree on the dates: two versions give different first or last days.
    pub disputed: bool,
    pub versions: Vec<MeetingDates>,
}

/// What a meeting decided or heard, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MeetingDecision {
    pub subject: String,
    pub event: Art5EventType,
    pub date: Option<PartialDate>,
    pub new_deadline: Option<PartialDate>,
    pub inferred: bool,
    pub reason: Reason,
}

/// A state's recorded part in a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attendance {
    pub subject: String,
    pub role: MeetingRole,
    pub reason: Reason,
}

/// The code's number and kind, for ordering (`2RC` after `9MSP` only by date).
fn sort_key(m: &MeetingInfo) -> (Option<Date>, String) {
    (m.start.or(m.end), m.code.clone())
}

impl Engine {
    /// Every recorded meeting, in date order.
    pub fn meetings(&self) -> Vec<MeetingInfo> {
        let mut out: Vec<MeetingInfo> = Vec::new();
        for &i in &self.meetings {
            let f = self.fact(i);
            let Payload::Meeting(m) = &f.payload else {
                continue;
            };
            let version = MeetingDates {
                start: f.valid_from,
                end: f.valid_to,
                reason: Reason::new(
                    "Art. 11-12",
                    format!(
                        "{} {}",
                        m.name,
                        match (f.valid_from, f.valid_to) {
                            (Some(a), Some(b)) => format!("from {} to {}", a.long(), b.long()),
                            (None, Some(b)) => format!("ending {}", b.long()),
                            (Some(a), None) => format!("from {}", a.long()),
                            (None, None) => "(dates not recorded)".into(),
                        }
                    ),
                )
                .with_fact(f),
            };
            let start = f.valid_from.map(PartialDate::earliest);
            let end = f.valid_to.or(f.valid_from).map(PartialDate::latest);
            match out.iter_mut().find(|x| x.code == m.code) {
                Some(x) => {
                    x.start = match (x.start, start) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    // Versions that give different first or last days disagree; one that gives
                    // only a day inside the other's range (21MSP: 23 November) does not.
                    let span = |a: Option<PartialDate>, b: Option<PartialDate>| {
                        let first = a.or(b).map(PartialDate::earliest);
                        let last = b.or(a).map(PartialDate::latest);
                        first.zip(last)
                    };
                    let inside = |(a, b): (Date, Date), (c, d): (Date, Date)| c <= a && b <= d;
                    let this = span(f.valid_from, f.valid_to);
                    if x.versions
                        .iter()
                        .any(|v| match (span(v.start, v.end), this) {
                            (Some(p), Some(q)) => {
                                p != q
                                    && !(inside(p, q) && p.0 == p.1)
                                    && !(inside(q, p) && q.0 == q.1)
                            }
                            _ => false,
                        })
                    {
                        x.disputed = true;
                    }
                    x.end = x.end.max(end);
                    if x.city.is_none() {
                        x.city = m.city.clone();
                    }
                    x.versions.push(version);
                }
                None => out.push(MeetingInfo {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    city: m.city.clone(),
                    start,
                    end,
                    disputed: false,
                    versions: vec![version],
                }),
            }
        }
        out.sort_by_key(sort_key);
        out
    }

    /// One meeting by code (`12MSP`, case-insensitive).
    pub fn meeting(&self, code: &str) -> Option<MeetingInfo> {
        self.meetings()
            .into_iter()
            .find(|m| m.code.eq_ignore_ascii_case(code))
    }

    /// What the record says a meeting decided or heard (Art. 5 events naming it), known on
    /// `as_of`, by subject.
    pub fn meeting_decisions(&self, code: &str, as_of: Date) -> Vec<MeetingDecision> {
        let mut out = Vec::new();
        for (subject, sf) in &self.subjects {
            for &i in &sf.art5 {
                let f = self.fact(i);
                let Payload::Art5Event(e) = &f.payload else {
                    continue;
                };
                if !e
                    .meeting
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(code))
                    || !self.visible(f, as_of)
                {
                    continue;
                }
                out.push(MeetingDecision {
                    subject: subject.clone(),
                    event: e.event,
                    date: f.valid_from,
                    new_deadline: e.new_deadline,
                    inferred: e.inferred,
                    reason: Reason::new("Art. 5", crate::art5::step_words(e, f)).with_fact(f),
                });
            }
        }
        out.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.event.cmp(&b.event)));
        out
    }

    /// Who the record says took part in a meeting, and in what role (known on `as_of`).
    pub fn meeting_attendance(&self, code: &str, as_of: Date) -> Vec<Attendance> {
        let mut out = Vec::new();
        let name = self.meeting(code).map(|m| m.name).unwrap_or_default();
        for (subject, sf) in &self.subjects {
            for &i in &sf.participation {
                let f: &Fact = self.fact(i);
                let Payload::MeetingParticipation(p) = &f.payload else {
                    continue;
                };
                if !meeting_matches(&p.meeting, code, &name) || !self.visible(f, as_of) {
                    continue;
                }
                out.push(Attendance {
                    subject: subject.clone(),
                    role: p.role,
                    reason: Reason::new("Art. 11-12", format!("{}: {}", p.meeting, p.role))
                        .with_fact(f),
                });
            }
        }
        out
    }
}

/// Does a participation's meeting text name this meeting: its code (`2RC`) or its name before
/// any parenthesis ("Second Review Conference (Cartagena)")?
fn meeting_matches(text: &str, code: &str, name: &str) -> bool {
    let t = text.trim();
    let first = t.split_whitespace().next().unwrap_or("");
    if t.eq_ignore_ascii_case(code) || first.eq_ignore_ascii_case(code) {
        return true;
    }
    let stem = |s: &str| s.split(" (").next().unwrap_or(s).trim().to_lowercase();
    !name.is_empty() && stem(t) == stem(name)
}
