//! Facts in words: one plain-text sentence per fact, for profiles, feeds and search results.

use minewatch_domain::fact::{
    Art4EventType, Art5EventType, MeetingRole, MineActivityType, StockpileMeasure, TreatyActionType,
};
use minewatch_domain::{Fact, PartialDate, Payload};

fn on(d: Option<PartialDate>) -> String {
    match d {
        Some(PartialDate::Day(_)) => format!("on {}", d.map(|d| d.long()).unwrap_or_default()),
        Some(d) => format!("in {}", d.long()),
        None => "(undated)".into(),
    }
}

/// Thousands separators: 10404148 -> "10,404,148".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 && v >= 0.0 {
        thousands(v as u64)
    } else {
        format!("{v}")
    }
}

/// One sentence about a fact; `name` is the subject's display name.
pub fn sentence(f: &Fact, name: &str) -> String {
    let when = on(f.valid_from);
    match &f.payload {
        Payload::TreatyAction(a) => match a.action {
            TreatyActionType::Signature => format!("{name} signed the Mine Ban Treaty {when}."),
            TreatyActionType::Deposit => format!(
                "{name} deposited its instrument of {} {when}{}{}.",
                a.method.map(|m| m.as_str()).unwrap_or("ratification"),
                if a.date_inferred {
                    " (date inferred by the source)"
                } else {
                    ""
                },
                match (a.succession_date, a.dated_as_accession) {
                    (Some(d), false) => format!(
                        "; the treaty is effective for it from {}, the date of State succession",
                        d.long()
                    ),
                    (Some(d), true) => format!(
                        "; the source dates entry into force like an accession's, not from the date of State succession ({})",
                        d.long()
                    ),
                    (None, true) => "; the source dates entry into force like an accession's".into(),
                    (None, false) => String::new(),
                }
            ),
            TreatyActionType::WithdrawalNotice => {
                format!("The depositary received {name}'s notice of withdrawal {when}.")
            }
            TreatyActionType::ProvisionalApplication => {
                format!("{name} declared provisional application of Art. 1 {when}.")
            }
            TreatyActionType::SuspensionDeclaration => format!(
                "{name} declared {when} that it \"suspends\" the treaty (no such mechanism exists: Arts. 19, 20)."
            ),
        },
        Payload::ArmedConflict(c) => {
            let until = match f.valid_to {
                Some(d) => format!(" until {}", d.long()),
                None => ", ongoing".into(),
            };
            format!(
                "{name} engaged in armed conflict from {}{until}: {}.",
                f.valid_from
                    .map(|d| d.long())
                    .unwrap_or_else(|| "an unrecorded date".into()),
                c.description
            )
        }
        Payload::Art5Event(e) => {
            let deadline = e
                .new_deadline
                .map(|d| format!(" to {}", d.long()))
                .unwrap_or_default();
            match e.event {
                Art5EventType::ExtensionRequested => {
                    format!("{name} requested an extension of its Art. 5 clearance deadline{deadline} {when}.")
                }
                Art5EventType::ExtensionGranted => {
                    format!("{name} was granted an extension of its Art. 5 clearance deadline{deadline} {when}.")
                }
                Art5EventType::DeadlineMissed => {
                    format!("{name} missed its Art. 5 clearance deadline {when}.")
                }
                Art5EventType::CompletionDeclared => {
                    format!("{name} declared completion of clearance of known mined areas {when}.")
                }
                Art5EventType::NewContaminationReported => {
                    format!("{name} reported newly found mined areas {when}.")
                }
                Art5EventType::ObligationReinstated => {
                    format!("{name}'s Art. 5 clearance obligation was reinstated {when}{deadline}.")
                }
                Art5EventType::DeadlineReported => format!(
                    "A source gives {name}'s Art. 5 clearance deadline as {} {when}.",
                    e.new_deadline
                        .map(|d| d.long())
                        .unwrap_or_else(|| "an unrecorded date".into())
                ),
            }
        }
        Payload::Art4Event(e) => match e.event {
            Art4EventType::Completed => format!(
                "{name} completed destruction of its stockpiled anti-personnel mines {when}{}.",
                e.destroyed
                    .map(|n| format!(" ({} destroyed)", thousands(n)))
                    .unwrap_or_default()
            ),
            Art4EventType::DeadlineMissed => {
                format!("{name} missed its Art. 4 stockpile destruction deadline {when}.")
            }
            Art4EventType::NoStockpileDeclared => {
                format!("{name} declared {when} that it holds no stockpile of anti-personnel mines.")
            }
            Art4EventType::StockpileReported => format!(
                "{name} reported a stockpile of {} anti-personnel mines {when}.",
                e.stockpile
                    .map(thousands)
                    .unwrap_or_else(|| "an unrecorded number of".into())
            ),
        },
        Payload::Meeting(m) => format!(
            "{} ({}){} {}.",
            m.name,
            m.code,
            m.city.as_deref().map(|c| format!(", {c},")).unwrap_or_default(),
            match (f.valid_from, f.valid_to) {
                (Some(a), Some(b)) => format!("from {} to {}", a.long(), b.long()),
                _ => when.clone(),
            }
        ),
        Payload::Art7Report(r) => {
            let what = if r.initial {
                "initial Art. 7 transparency report".to_string()
            } else {
                format!(
                    "annual Art. 7 report{}",
                    r.year_covered
                        .map(|y| format!(" covering {y}"))
                        .unwrap_or_default()
                )
            };
            if r.not_submitted {
                format!("{name} had not submitted its {what} {when}.")
            } else {
                format!("{name} submitted its {what} {when}.")
            }
        }
        Payload::Legislation(l) => format!(
            "National implementation (Art. 9): {} ({}) {when}.",
            l.title,
            l.status.replace('_', " ")
        ),
        Payload::UngaRollCall(r) => format!(
            "UN General Assembly resolution {} was adopted {when} by {} votes to {}, with {} abstentions.",
            r.resolution, r.yes, r.no, r.abstain
        ),
        Payload::UngaVote(v) => {
            let verb = match v.vote {
                minewatch_domain::fact::Vote::Yes => "voted for",
                minewatch_domain::fact::Vote::No => "voted against",
                minewatch_domain::fact::Vote::Abstain => "abstained on",
                minewatch_domain::fact::Vote::NonVoting => "did not vote on",
            };
            format!("{name} {verb} UN General Assembly resolution {} {when}.", v.resolution)
        }
        Payload::MeetingParticipation(m) => match m.role {
            MeetingRole::Party => format!("{name} attended the {} as a State Party {when}.", m.meeting),
            MeetingRole::Observer => format!("{name} attended the {} as an observer {when}.", m.meeting),
            MeetingRole::NotAttended => format!("{name} did not attend the {} {when}.", m.meeting),
        },
        Payload::MineActivity(a) => {
            let what = match a.activity {
                MineActivityType::Use => "use",
                MineActivityType::Production => "production",
                MineActivityType::Transfer => "transfer",
            };
            let last = if a.last_known { "last known " } else { "" };
            let who = a
                .actor
                .as_deref()
                .map(|x| format!(" by {x}"))
                .unwrap_or_default();
            let edition = a
                .report_edition
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            format!(
                "{} {last}{what} of anti-personnel mines{who}{edition} {when}: {}.",
                capitalize(a.certainty.adjective()),
                a.detail.trim_end_matches('.')
            )
        }
        Payload::StockpileCount(s) => {
            let measure = match s.measure {
                StockpileMeasure::Total => "stockpiled",
                StockpileMeasure::Remaining => "remaining",
                StockpileMeasure::Retained => "retained (Art. 3)",
                StockpileMeasure::Destroyed => "destroyed",
            };
            format!(
                "{} {} anti-personnel mines {measure} {when}.",
                thousands(s.quantity),
                s.mine_type
            )
        }
        Payload::PolicyInstrument(p) => {
            format!("{name} adopted policy {} ({}) {when}.", p.policy_id, p.instrument)
        }
        Payload::HeadlineFigure(h) => format!(
            "{}: {} {} in {} (Landmine Monitor {}{}).",
            h.metric.replace('_', " "),
            number(h.value),
            h.unit,
            h.data_year,
            h.report_edition,
            h.basis
                .as_deref()
                .map(|b| format!("; {b}"))
                .unwrap_or_default()
        ),
        Payload::Development(d) => {
            let s = d.summary.trim();
            if s.ends_with(['.', '!', '?', '"', '”']) {
                s.to_string()
            } else {
                format!("{s}.")
            }
        }
        Payload::Retraction(r) => format!("A fact was retracted: {}.", r.reason),
        Payload::CasualtyFigure(c) => {
            let years = match c.first_year {
                Some(first) if first != c.data_year => format!("from {first} to {}", c.data_year),
                _ => format!("in {}", c.data_year),
            };
            let count = match (c.total, c.total_less_than) {
                (Some(t), _) => format!("{} mine/ERW casualties", thousands(t)),
                (None, Some(b)) => format!("fewer than {} mine/ERW casualties", thousands(b)),
                (None, None) => "mine/ERW casualties (no total recorded)".to_string(),
            };
            let split = match (c.killed, c.injured) {
                (Some(k), Some(i)) => format!(" ({} killed, {} injured)", thousands(k), thousands(i)),
                (Some(k), None) => format!(" ({} killed)", thousands(k)),
                (None, Some(i)) => format!(" ({} injured)", thousands(i)),
                (None, None) => String::new(),
            };
            let place = if f.subject == "WLD" { "worldwide".to_string() } else { format!("in {name}") };
            format!("{} {count}{split} {place} {years}.", c.report_edition)
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(10_404_148), "10,404,148");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(0), "0");
    }
}
