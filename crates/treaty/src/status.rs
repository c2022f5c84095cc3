//! Status of a subject on a date (Arts. 15-18 and 20), with its reasons.

use crate::engine::{Core, Eif, Engine, SubjectFacts};
use crate::findings::{findings, Finding};
use crate::obligations::{obligations, Deadlines, Obligation};
use crate::reason::{cite_inline, Reason};
use minewatch_domain::fact::DepositMethod;
use minewatch_domain::{Date, Fact, PartialDate, Payload, Precision};
use serde::Serialize;
use std::fmt;

/// Where a subject stands with respect to the treaty on a date. The order is the only order in
/// which a status can change over time (skips allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No signature or instrument recorded.
    NonSignatory,
    /// Signed (Art. 15), no instrument deposited.
    Signatory,
    /// Instrument deposited (Art. 16), not yet in force for it (Art. 17).
    Deposited,
    /// In force for it (Art. 17).
    StateParty,
    /// Notice of withdrawal given, not yet effective (Art. 20): still bound.
    WithdrawalPending,
    /// Withdrawal has taken effect (Art. 20).
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::NonSignatory,
        Status::Signatory,
        Status::Deposited,
        Status::StateParty,
        Status::WithdrawalPending,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::NonSignatory => "non_signatory",
            Status::Signatory => "signatory",
            Status::Deposited => "deposited",
            Status::StateParty => "state_party",
            Status::WithdrawalPending => "withdrawal_pending",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Bound by the treaty's obligations (in force and not withdrawn).
    pub fn is_bound(self) -> bool {
        matches!(self, Status::StateParty | Status::WithdrawalPending)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the engine says about one subject on one date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatusReport {
    /// Subject code (alpha-3).
    pub code: String,
    pub as_of: Date,
    pub status: Status,
    /// Preferred signature date (Art. 15), if signed by `as_of`.
    pub signed: Option<PartialDate>,
    /// Preferred deposit date (Art. 16), if deposited by `as_of`.
    pub deposited: Option<PartialDate>,
    pub method: Option<DepositMethod>,
    /// Art. 17; `null` while the 40th instrument is outstanding.
    pub entry_into_force: Option<Date>,
    /// Date the depositary received the notice of withdrawal (Art. 20(2)).
    pub withdrawal_notified: Option<PartialDate>,
    /// When the withdrawal takes (took) effect; `null` while deferred by armed conflict (Art. 20(3)) or absent.
    pub withdrawal_effective: Option<Date>,
    /// True while the withdrawal is deferred by an armed conflict with no recorded end.
    pub withdrawal_deferred: bool,
    pub deadlines: Deadlines,
    pub obligations: Vec<Obligation>,
    pub findings: Vec<Finding>,
    /// How the status was derived.
    pub reasons: Vec<Reason>,
}

/// "28 July 1999", or "November 2007 (taken as 30 November 2007)" for partial dates.
pub(crate) fn date_words(d: PartialDate) -> String {
    match d.precision() {
        Precision::Day => d.long(),
        _ => format!(
            "{} (taken as its last day, {})",
            d.long(),
            d.latest().long()
        ),
    }
}

fn deposit_words(f: &Fact) -> String {
    let method = match &f.payload {
        Payload::TreatyAction(a) => a.method.map(|m| m.as_str()).unwrap_or("ratification"),
        _ => "ratification",
    };
    let inferred = match &f.payload {
        Payload::TreatyAction(a) if a.date_inferred => " (date inferred by the source)",
        _ => "",
    };
    let date = f
        .valid_from
        .map(date_words)
        .unwrap_or_else(|| "an unrecorded date".into());
    format!("deposited its instrument of {method} on {date}{inferred}")
}

impl Engine {
    /// Status of `code` on `as_of` with deadlines (Arts. 4, 5, 7), obligations, findings and
    /// reasons (Arts. 15-20).
    pub fn status(&self, code: &str, as_of: Date) -> StatusReport {
        let empty = SubjectFacts::default();
        let sf = self.subject(code).unwrap_or(&empty);
        let core = self.core(sf, as_of);
        let reasons = self.status_reasons(sf, &core, as_of);
        let (obligations, deadlines) = obligations(self, sf, &core, as_of);
        let findings = findings(self, code, sf, &core, &obligations, as_of);
        let w = core.withdrawal.as_ref();
        StatusReport {
            code: code.to_string(),
            as_of,
            status: core.status,
            signed: core.signature.and_then(|f| f.valid_from),
            deposited: core.deposit.and_then(|f| f.valid_from),
            method: core.deposit.and_then(|f| match &f.payload {
                Payload::TreatyAction(a) => a.method,
                _ => None,
            }),
            entry_into_force: core.eif.date(),
            withdrawal_notified: w.and_then(|w| w.notice.valid_from),
            withdrawal_effective: w.and_then(|w| w.effective),
            withdrawal_deferred: w.is_some_and(|w| w.effective.is_none()),
            deadlines,
            obligations,
            findings,
            reasons,
        }
    }

    /// Status reports for several subjects on one date.
    pub fn statuses<S: AsRef<str>>(&self, codes: &[S], as_of: Date) -> Vec<StatusReport> {
        codes
            .iter()
            .map(|c| self.status(c.as_ref(), as_of))
            .collect()
    }

    fn status_reasons(&self, sf: &SubjectFacts, core: &Core<'_>, as_of: Date) -> Vec<Reason> {
        let mut out = Vec::new();
        let on = as_of.long();
        if let Some(s) = core.signature {
            let d = s.valid_from.map(date_words).unwrap_or_default();
            out.push(Reason::new("Art. 15", format!("signed on {d}")).with_fact(s));
        }
        if let Some(dep) = core.deposit {
            out.push(Reason::new("Art. 16", deposit_words(dep)).with_fact(dep));
            let dd = core.deposit_day.map(Date::long).unwrap_or_default();
            let fortieth = &self.fortieth;
            match core.eif {
                Eif::General(eif) => {
                    let source = if fortieth.from_record {
                        format!(
                            "the 40th instrument was deposited on {} ({} deposits recorded by that day)",
                            fortieth.day.long(),
                            fortieth.deposits.partition_point(|(d, _)| *d <= fortieth.day)
                        )
                    } else {
                        format!(
                            "the record holds {} deposits, fewer than 40, so the depositary's date of the 40th instrument is used: {}",
                            fortieth.deposits.len(),
                            fortieth.day.long()
                        )
                    };
                    let r = Reason::new(
                        "Art. 17(1)",
                        format!(
                            "deposited {dd}, on or before the day of the 40th instrument ({source}); \
                             in force with the treaty on the first day of the sixth month after the month of the 40th deposit: {}",
                            eif.long()
                        ),
                    )
                    .with_fact(dep)
                    .with_facts(fortieth.facts_on_day.iter().map(|&i| self.fact(i)));
                    out.push(r);
                }
                Eif::Individual(eif) => out.push(
                    Reason::new(
                        "Art. 17(2)",
                        format!(
                            "deposited {dd}; in force on the first day of the sixth month after the month of deposit: {}",
                            eif.long()
                        ),
                    )
                    .with_fact(dep),
                ),
                Eif::Pending { deposited } => out.push(
                    Reason::new(
                        "Art. 17(1)",
                        format!(
                            "deposited {dd}, before the 40th instrument: the treaty enters into force on the first day \
                             of the sixth month after the month of the 40th deposit; {deposited} instruments deposited by {on}"
                        ),
                    )
                    .with_fact(dep),
                ),
                Eif::Succession(eif, i) => {
                    let f = self.fact(i);
                    out.push(
                        Reason::new(
                            "succession",
                            format!(
                                "notified succession on {dd}: Art. 17 does not govern a succession; the depositary dates the \
                                 treaty's effect from the date of State succession, {}",
                                eif.long()
                            ),
                        )
                        .with_fact(dep)
                        .with_fact(f),
                    );
                }
                Eif::NotDeposited => {}
            }
        }
        for &i in &sf.provisional {
            let f = self.fact(i);
            if self.visible(f, as_of) {
                let d = f.valid_from.map(date_words).unwrap_or_default();
                out.push(
                    Reason::new(
                        "Art. 18",
                        format!("declared on {d} that it applies Art. 1(1) provisionally pending entry into force"),
                    )
                    .with_fact(f),
                );
            }
        }
        if let Some(w) = &core.withdrawal {
            let inferred = match &w.notice.payload {
                Payload::TreatyAction(a) if a.date_inferred => " (date inferred by the source)",
                _ => "",
            };
            let nd = w.notice.valid_from.map(date_words).unwrap_or_default() + inferred;
            let six = w
                .six_months
                .map(Date::long)
                .unwrap_or_else(|| "beyond the calendar".into());
            out.push(
                Reason::new(
                    "Art. 20(2)",
                    format!(
                        "notice of withdrawal received by the depositary on {nd}; six months later \
                         (same day of the month): {six}"
                    ),
                )
                .with_fact(w.notice),
            );
            for (c, end) in &w.deferrals {
                let start = c
                    .valid_from
                    .map(PartialDate::long)
                    .unwrap_or_else(|| "an unrecorded date".into());
                let text = match end {
                    Some(e) => format!(
                        "engaged in an armed conflict from {start} to {} ({}): the withdrawal does not take effect \
                         before the conflict ends; moved to {}",
                        e.long(),
                        cite_inline(c),
                        e.add_days(1).map(Date::long).unwrap_or_default()
                    ),
                    None => format!(
                        "engaged in an armed conflict from {start}, with no recorded end as of {on} ({}): \
                         the withdrawal does not take effect before the conflict ends, so it is deferred",
                        cite_inline(c)
                    ),
                };
                out.push(Reason::new("Art. 20(3)", text).with_fact(c));
            }
            if let Some(e) = w.effective {
                if !w.deferrals.is_empty() {
                    out.push(
                        Reason::new(
                            "Art. 20(3)",
                            format!("withdrawal takes effect on {}", e.long()),
                        )
                        .with_fact(w.notice),
                    );
                }
            }
        }
        // Recorded acts dated after the as-of date have not happened yet.
        for (i, what) in [
            (sf.signature, "signature"),
            (sf.deposit, "deposit"),
            (sf.notice, "withdrawal notice"),
        ] {
            if let Some(f) = i.map(|i| self.fact(i)) {
                if !self.visible(f, as_of) {
                    if let Some(d) = f.valid_from {
                        out.push(
                            Reason::new(
                                "Art. 15-20",
                                format!(
                                    "the recorded {what} of {} is after {on}: not counted",
                                    d.long()
                                ),
                            )
                            .with_fact(f),
                        );
                    }
                }
            }
        }
        let (article, text) = match core.status {
            Status::NonSignatory => ("Art. 15-16", format!("no signature or deposit recorded on or before {on}")),
            Status::Signatory => (
                "Art. 16",
                format!("signed, but no instrument of ratification, acceptance, approval or accession deposited by {on}"),
            ),
            Status::Deposited => match core.eif.date() {
                Some(e) => ("Art. 17", format!("instrument deposited; not yet in force on {on}: in force from {}", e.long())),
                None => ("Art. 17(1)", format!("instrument deposited; the treaty is not yet in force on {on}")),
            },
            Status::StateParty => (
                "Art. 17",
                format!(
                    "a State Party on {on}: in force for it since {}",
                    core.eif.date().map(Date::long).unwrap_or_default()
                ),
            ),
            Status::WithdrawalPending => match core.withdrawal.as_ref().and_then(|w| w.effective) {
                Some(e) => (
                    "Art. 20",
                    format!("notice of withdrawal given; still bound on {on}; the withdrawal takes effect on {}", e.long()),
                ),
                None => (
                    "Art. 20(3)",
                    format!("notice of withdrawal given; the withdrawal is deferred by armed conflict and the state remains bound on {on}"),
                ),
            },
            Status::Withdrawn => (
                "Art. 20(2)",
                format!(
                    "withdrawal took effect on {}: no longer bound on {on}",
                    core.withdrawal.as_ref().and_then(|w| w.effective).map(Date::long).unwrap_or_default()
                ),
            ),
        };
        let mut r = Reason::new(article, format!("{}: {text}", core.status));
        for f in [
            core.signature,
            core.deposit,
            core.withdrawal.as_ref().map(|w| w.notice),
        ]
        .into_iter()
        .flatten()
        {
            r = r.with_fact(f);
        }
        out.push(r);
        out
    }
}
