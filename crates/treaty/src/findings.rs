//! Findings: what a monitor should flag about a subject on a date, each with its reasons.

use crate::engine::{distinct_sources, entry_into_force, prefer, Core, Engine, SubjectFacts};
use crate::obligations::{Obligation, ObligationState};
use crate::reason::{cite_inline, On, Reason};
use crate::status::date_words;
use crate::unga::vote_anomalies;
use minewatch_domain::fact::{Art5EventType, MineActivityType};
use minewatch_domain::{Date, Fact, PartialDate, Payload, Precision};
use serde::Serialize;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Sources disagree on the date of an act; the preferred fact is named.
    ConflictingSources,
    /// A "suspension" of the treaty was declared: no such mechanism exists (Arts. 19, 20).
    SuspensionDeclaration,
    /// A withdrawal is deferred by an armed conflict (Art. 20(3)).
    WithdrawalDeferred,
    /// Use of anti-personnel mines while bound (Art. 1(1)(a)), confirmed or alleged.
    ApmUseByStateParty,
    /// Production of anti-personnel mines while bound (Art. 1(1)(b)).
    ApmProductionByStateParty,
    /// Transfer of anti-personnel mines while bound (Art. 1(1)(b)).
    ApmTransferByStateParty,
    /// A recorded missed stockpile destruction deadline (Art. 4).
    Art4DeadlineMissed,
    /// A recorded missed clearance deadline (Art. 5).
    Art5DeadlineMissed,
    /// A recorded non-submission of a transparency report (Art. 7).
    Art7ReportMissing,
    /// A State Party recorded abstaining or voting no on the UN General Assembly resolution that
    /// supports the treaty (possibly an error in the source).
    UngaVoteAnomaly,
    /// A treaty action without a date: it cannot be placed in time.
    UndatedFact,
    /// A state that joined by succession is dated like an accession by its source, while the
    /// depositary dates successions from the date of State succession (or the record holds no
    /// date of succession): the sources' practices disagree.
    SuccessionDating,
    /// Article 5 sources disagree (two deadlines set by one decision, or a reported deadline
    /// that matches no recorded one).
    Art5Conflict,
}

/// A flagged fact or computation, with its reasons.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// Subject code the finding is about.
    pub subject: String,
    pub kind: FindingKind,
    /// The article (or instrument) it rests on.
    pub article: String,
    /// When the flagged event happened, where known.
    pub date: Option<PartialDate>,
    pub summary: String,
    pub reasons: Vec<Reason>,
}

fn pdate(f: &Fact) -> String {
    f.valid_from
        .map(PartialDate::long)
        .unwrap_or_else(|| "an unrecorded date".into())
}

pub(crate) fn findings(
    engine: &Engine,
    code: &str,
    sf: &SubjectFacts,
    core: &Core<'_>,
    obligations: &[Obligation],
    as_of: Date,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let finding = |kind, article: &str, date, summary: String, reasons| Finding {
        subject: code.to_string(),
        kind,
        article: article.to_string(),
        date,
        summary,
        reasons,
    };

    // Conflicting dates for the same act.
    for (what, idx, article) in [
        ("signature", &sf.signatures, "Art. 15"),
        ("deposit", &sf.deposits, "Art. 16-17"),
        ("withdrawal notice", &sf.notices, "Art. 20"),
    ] {
        if let Some(f) = conflict(engine, code, what, idx, article, as_of) {
            out.push(f);
        }
    }
    // Successions dated like accessions.
    if let (Some(dep), None) = (core.deposit, engine.succession(sf, as_of)) {
        if let Payload::TreatyAction(a) = &dep.payload {
            if a.method == Some(minewatch_domain::fact::DepositMethod::Succession) {
                let dated = sf
                    .deposits
                    .iter()
                    .map(|&i| engine.fact(i))
                    .filter(|f| engine.visible(f, as_of))
                    .find(|f| {
                        matches!(&f.payload, Payload::TreatyAction(t) if t.succession_date.is_some() || t.dated_as_accession)
                    });
                let eif = core.eif.date().map(Date::long).unwrap_or_default();
                let (summary, mut reasons) = match dated.map(|f| (f, &f.payload)) {
                    Some((f, Payload::TreatyAction(t))) => {
                        let alt = t
                            .succession_date
                            .map(|d| format!("; by the depositary's practice for South Sudan (effect from the date of State succession) it would be {}", d.long()))
                            .unwrap_or_default();
                        (
                            format!("joined by succession, but its source dates entry into force like an accession's ({eif}){alt}: the sources' practices disagree, and the deadlines here follow {eif}"),
                            vec![Reason::new("succession", "the source dates entry into force like an accession's").with_fact(f)],
                        )
                    }
                    _ => (
                        format!("joined by succession; no date of State succession is recorded, so entry into force is dated like an accession's ({eif}); the depositary dates successions from the date of State succession"),
                        Vec::new(),
                    ),
                };
                reasons.insert(0, Reason::new("Art. 17", "Art. 17 governs ratification, acceptance, approval and accession, not succession").with_fact(dep));
                out.push(finding(
                    FindingKind::SuccessionDating,
                    "Art. 17",
                    dep.valid_from,
                    summary,
                    reasons,
                ));
            }
        }
    }
    // Undated treaty actions.
    for &i in sf
        .signatures
        .iter()
        .chain(&sf.deposits)
        .chain(&sf.notices)
        .chain(&sf.suspensions)
    {
        let f = engine.fact(i);
        if f.valid_from.is_none() {
            let what = match &f.payload {
                Payload::TreatyAction(a) => a.action.as_str(),
                _ => "act",
            };
            out.push(finding(
                FindingKind::UndatedFact,
                "Art. 15-20",
                None,
                format!(
                    "a {what} is recorded without a date ({}); it is not used for status",
                    cite_inline(f)
                ),
                vec![Reason::new(
                    "Art. 15-20",
                    format!("{what} without a date cannot be placed in time"),
                )
                .with_fact(f)],
            ));
        }
    }

    // "Suspension" declarations change nothing (Arts. 19 and 20).
    for &i in &sf.suspensions {
        let f = engine.fact(i);
        if !engine.visible(f, as_of) {
            continue;
        }
        let mut reasons = vec![
            Reason::new(
                "Art. 19",
                "the treaty admits no reservations and has no suspension mechanism".to_string(),
            )
            .with_fact(f),
            Reason::new(
                "Art. 20",
                "the only way out is withdrawal: six months after notice to the depositary, and not before the end of an armed conflict the state is engaged in",
            ),
        ];
        let conflicts = engine.conflicts_known(sf, as_of);
        if let Some((c, _, end)) = conflicts
            .iter()
            .find(|(_, _, end)| end.is_none_or(|e| e >= as_of))
        {
            let period = match end {
                Some(e) => format!("until {}", e.long()),
                None => format!("ongoing on {}", as_of.long()),
            };
            reasons.push(
                Reason::new(
                    "Art. 20(3)",
                    format!(
                        "engaged in an armed conflict from {} ({period}): even a notice of withdrawal would not take effect before the conflict ends",
                        pdate(c)
                    ),
                )
                .with_fact(c),
            );
        }
        out.push(finding(
            FindingKind::SuspensionDeclaration,
            "Art. 19, Art. 20",
            f.valid_from,
            format!(
                "declared on {} that it 'suspends' the treaty; the treaty has no suspension mechanism: status on {} remains {}",
                pdate(f),
                as_of.long(),
                core.status
            ),
            reasons,
        ));
    }

    // Withdrawal deferred by armed conflict.
    if let Some(w) = &core.withdrawal {
        if let Some((c, _)) = w.deferrals.last() {
            let summary = match w.effective {
                Some(e) => format!(
                    "withdrawal (notice {}) deferred by armed conflict; takes effect on {}",
                    w.notice_day.long(),
                    e.long()
                ),
                None => format!(
                    "withdrawal (notice {}) deferred by an armed conflict with no recorded end: not effective on {}",
                    w.notice_day.long(),
                    as_of.long()
                ),
            };
            out.push(finding(
                FindingKind::WithdrawalDeferred,
                "Art. 20(3)",
                w.notice.valid_from,
                summary,
                vec![Reason::new(
                    "Art. 20(3)",
                    format!("armed conflict from {} ({})", pdate(c), cite_inline(c)),
                )
                .with_fact(c)
                .with_fact(w.notice)],
            ));
        }
    }

    // Use, production, transfer by the state itself while bound (Art. 1).
    for &i in &sf.activities {
        let f = engine.fact(i);
        let Payload::MineActivity(a) = &f.payload else {
            continue;
        };
        let Some(d) = f.valid_from else { continue };
        if d.latest() > as_of {
            continue;
        }
        // Only the state's own act: not an armed group's, not another state's forces on its
        // territory, not an unattributed report.
        if !a.by_state(code) {
            continue;
        }
        // Bound for the whole period the date can mean (a year-only date needs the whole year).
        if !(engine.bound_on(sf, d.earliest()) && engine.bound_on(sf, d.latest())) {
            continue;
        }
        let (kind, article, verb) = match a.activity {
            MineActivityType::Use => (FindingKind::ApmUseByStateParty, "Art. 1(1)(a)", "use"),
            MineActivityType::Production => (
                FindingKind::ApmProductionByStateParty,
                "Art. 1(1)(b)",
                "production",
            ),
            MineActivityType::Transfer => (
                FindingKind::ApmTransferByStateParty,
                "Art. 1(1)(b)",
                "transfer",
            ),
        };
        let status = engine.core(sf, d.latest()).status;
        out.push(finding(
            kind,
            article,
            Some(d),
            format!("{} {verb} of anti-personnel mines {} while bound ({status}): {}", a.certainty.adjective(), On(d), a.detail),
            vec![Reason::new(
                article,
                format!(
                    "a State Party may never {verb} anti-personnel mines; recorded as {} {}, when its status was {status}",
                    a.certainty.adjective(),
                    On(d)
                ),
            )
            .with_fact(f)],
        ));
    }

    // Recorded missed deadlines and missing reports.
    for o in obligations {
        let kind = match (o.article, o.state) {
            ("Art. 4", ObligationState::Missed | ObligationState::MetLate) => {
                FindingKind::Art4DeadlineMissed
            }
            ("Art. 5", ObligationState::MissedWithoutExtension) => FindingKind::Art5DeadlineMissed,
            (a, ObligationState::Missed) if a.starts_with("Art. 7") => {
                FindingKind::Art7ReportMissing
            }
            _ => continue,
        };
        let due = o.due.map(Date::long).unwrap_or_default();
        let summary = match o.state {
            ObligationState::MetLate => {
                format!("{} deadline of {due} missed; completed late", o.article)
            }
            _ => format!(
                "{}: {} due {due} recorded as not done ({})",
                o.article,
                o.title,
                o.state.as_str()
            ),
        };
        out.push(finding(
            kind,
            o.article,
            o.due.map(PartialDate::Day),
            summary,
            o.reasons.clone(),
        ));
    }
    // Where sources disagree about an Art. 4 or Art. 5 obligation: both stay, and this says so.
    for o in obligations.iter().filter(|o| !o.conflicts.is_empty()) {
        let (kind, what) = match o.article {
            "Art. 5" => (FindingKind::Art5Conflict, "its Art. 5 clearance deadline"),
            _ => (
                FindingKind::ConflictingSources,
                "its Art. 4 stockpile destruction",
            ),
        };
        out.push(finding(
            kind,
            o.article,
            None,
            format!(
                "sources disagree about {what}: {}",
                o.conflicts
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            o.conflicts.clone(),
        ));
    }
    // Art. 5 deadlines missed in the past, since extended.
    if !obligations
        .iter()
        .any(|o| o.article == "Art. 5" && o.state == ObligationState::MissedWithoutExtension)
    {
        for &i in &sf.art5 {
            let f = engine.fact(i);
            if !engine.visible(f, as_of) {
                continue;
            }
            if matches!(&f.payload, Payload::Art5Event(e) if e.event == Art5EventType::DeadlineMissed)
            {
                out.push(finding(
                    FindingKind::Art5DeadlineMissed,
                    "Art. 5",
                    f.valid_from,
                    format!(
                        "an Art. 5 deadline was recorded as missed{}; an extension was granted since",
                        f.valid_from.map(|d| format!(" on {}", d.long())).unwrap_or_default()
                    ),
                    vec![Reason::new("Art. 5(1)", "recorded missed clearance deadline").with_fact(f)],
                ));
            }
        }
    }

    out.extend(vote_anomalies(engine, code, sf, as_of));
    out
}

/// A conflicting-sources finding when dated facts for the same act do not agree (their date
/// ranges do not overlap) and at least one of them has happened by `as_of`.
fn conflict(
    engine: &Engine,
    code: &str,
    what: &str,
    idx: &[usize],
    article: &'static str,
    as_of: Date,
) -> Option<Finding> {
    let dated: Vec<&Fact> = idx
        .iter()
        .map(|&i| engine.fact(i))
        .filter(|f| f.valid_from.is_some())
        .collect();
    if dated.len() < 2 || !dated.iter().any(|f| engine.visible(f, as_of)) {
        return None;
    }
    let preferred = engine.fact(prefer(engine.facts(), idx)?);
    let pd = preferred.valid_from?;
    let disagree: Vec<&Fact> = dated
        .iter()
        .copied()
        .filter(|f| {
            f.valid_from
                .is_some_and(|d| d.latest() < pd.earliest() || d.earliest() > pd.latest())
        })
        .collect();
    if disagree.is_empty() {
        return None;
    }
    let mut reasons: Vec<Reason> = std::iter::once(preferred)
        .chain(disagree.iter().copied())
        .map(|f| {
            Reason::new(
                article,
                format!("{what} on {} according to {}", pdate(f), cite_inline(f)),
            )
            .with_fact(f)
        })
        .collect();
    // Which rule decided.
    let rule = if pd.precision() == Precision::Day
        && disagree.iter().any(|f| {
            f.valid_from
                .is_some_and(|d| d.precision() != Precision::Day)
        }) {
        "it gives a day where the others give only a month or a year".to_string()
    } else if disagree
        .iter()
        .all(|f| distinct_sources(f) < distinct_sources(preferred))
    {
        format!(
            "it is cited by more sources ({})",
            distinct_sources(preferred)
        )
    } else {
        "equally precise and equally cited: the earliest recorded fact (lowest id) is used"
            .to_string()
    };
    reasons.push(Reason::new(
        article,
        format!(
            "preferred: {} ({}), because {rule} (rule: a day beats a month or a year; then more sources; then the lowest fact id)",
            date_words(pd),
            cite_inline(preferred)
        ),
    ));
    let mut consequence = String::new();
    if what == "deposit" {
        let (fortieth, _) = engine.fortieth_deposit();
        let eifs: Vec<Option<Date>> = std::iter::once(preferred)
            .chain(disagree.iter().copied())
            .map(|f| {
                f.valid_from
                    .and_then(|d| entry_into_force(d.latest(), fortieth))
            })
            .collect();
        if eifs.windows(2).all(|w| w[0] == w[1]) {
            if let Some(Some(e)) = eifs.first() {
                consequence = format!("; entry into force is {} either way", e.long());
                reasons.push(Reason::new(
                    "Art. 17",
                    format!("every date gives entry into force on {}", e.long()),
                ));
            }
        } else {
            let list: Vec<String> = eifs.iter().flatten().map(|e| e.long()).collect();
            consequence = format!(
                "; the dates give different entries into force: {}",
                list.join(", ")
            );
        }
    }
    let mut dates: Vec<String> = std::iter::once(preferred)
        .chain(disagree.iter().copied())
        .map(pdate)
        .collect();
    dates.dedup();
    Some(Finding {
        subject: code.to_string(),
        kind: FindingKind::ConflictingSources,
        article: article.to_string(),
        date: Some(pd),
        summary: format!(
            "sources disagree on the date of the {what}: {}; using {}{consequence}",
            dates.join(" vs "),
            pd.long()
        ),
        reasons,
    })
}
