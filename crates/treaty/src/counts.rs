//! Counts on a date (States Parties by entry into force or by deposit, signatories,
//! non-signatories) with the list behind each count, daily series, and the deadlines list.

use crate::engine::{Engine, SubjectFacts};
use crate::obligations::{obligations, Obligation, ObligationState};
use crate::reason::Reason;
use crate::status::Status;
use minewatch_domain::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What makes a state count as a State Party. Always said, never mixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Legally bound: the treaty is in force for it (Art. 17), withdrawal not yet effective.
    Eif,
    /// Instrument deposited (Art. 16), as campaigners count ("the 165th State Party").
    Deposit,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Eif => "eif",
            Basis::Deposit => "deposit",
        }
    }

    pub fn parse(s: &str) -> Option<Basis> {
        match s {
            "eif" => Some(Basis::Eif),
            "deposit" => Some(Basis::Deposit),
            _ => None,
        }
    }

    /// Does a subject with this status count as a State Party on this basis? Withdrawn states
    /// never count once the withdrawal has taken effect.
    pub fn counts(self, status: Status) -> bool {
        match self {
            Basis::Eif => matches!(status, Status::StateParty | Status::WithdrawalPending),
            Basis::Deposit => matches!(
                status,
                Status::Deposited | Status::StateParty | Status::WithdrawalPending
            ),
        }
    }
}

/// States Parties on a date: `{as_of, basis, count, states}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Parties {
    pub as_of: Date,
    pub basis: Basis,
    pub count: usize,
    /// Alpha-3 codes, sorted.
    pub states: Vec<String>,
}

/// A count with the codes behind it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CodeList {
    pub count: usize,
    pub states: Vec<String>,
}

impl CodeList {
    fn from(states: Vec<String>) -> CodeList {
        CodeList {
            count: states.len(),
            states,
        }
    }
}

/// All the counts on one date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub as_of: Date,
    pub parties_by_eif: Parties,
    pub parties_by_deposit: Parties,
    /// Deposited, not yet in force.
    pub deposited_not_in_force: CodeList,
    /// Signed, no instrument.
    pub signatories: CodeList,
    /// Neither signed nor deposited (among the subjects given).
    pub non_signatories: CodeList,
    /// Withdrawal in effect.
    pub withdrawn: CodeList,
    pub reasons: Vec<Reason>,
}

/// One day of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    pub date: Date,
    pub count: usize,
}

/// One row of the deadlines list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadlineRow {
    pub code: String,
    pub article: &'static str,
    pub title: std::borrow::Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year_covered: Option<i32>,
    pub due: Date,
    pub state: ObligationState,
    pub passed: bool,
    pub overdue: bool,
    pub reasons: Vec<Reason>,
}

impl DeadlineRow {
    fn from(code: &str, o: Obligation) -> Option<DeadlineRow> {
        Some(DeadlineRow {
            code: code.to_string(),
            article: o.article,
            title: o.title,
            year_covered: o.year_covered,
            due: o.due?,
            state: o.state,
            passed: o.passed,
            overdue: o.overdue,
            reasons: o.reasons,
        })
    }
}

impl Engine {
    /// States Parties on `as_of` on the given basis (Arts. 16, 17, 20).
    pub fn parties(&self, as_of: Date, basis: Basis) -> Parties {
        let states: Vec<String> = self
            .subjects
            .iter()
            .filter(|(_, sf)| sf.deposit.is_some())
            .filter(|(_, sf)| basis.counts(self.core(sf, as_of).status))
            .map(|(c, _)| c.clone())
            .collect();
        Parties {
            as_of,
            basis,
            count: states.len(),
            states,
        }
    }

    /// Every count on `as_of`. `states` is the universe for non-signatories (all states the
    /// caller knows); subjects with treaty actions are always included.
    pub fn counts<S: AsRef<str>>(&self, as_of: Date, states: &[S]) -> Counts {
        let mut universe: BTreeSet<&str> = states.iter().map(AsRef::as_ref).collect();
        universe.extend(self.treaty_subjects());
        let by = |want: &dyn Fn(Status) -> bool| -> Vec<String> {
            universe
                .iter()
                .filter(|c| want(self.status_only(c, as_of)))
                .map(|c| c.to_string())
                .collect()
        };
        let eif = by(&|s| Basis::Eif.counts(s));
        let dep = by(&|s| Basis::Deposit.counts(s));
        let deposited = by(&|s| s == Status::Deposited);
        let signatories = by(&|s| s == Status::Signatory);
        let non = by(&|s| s == Status::NonSignatory);
        let withdrawn = by(&|s| s == Status::Withdrawn);
        let reasons = vec![
            Reason::new(
                "Art. 17",
                format!(
                    "by entry into force: {} states for which the treaty is in force on {} (withdrawals not yet effective included)",
                    eif.len(),
                    as_of.long()
                ),
            ),
            Reason::new(
                "Art. 16",
                format!(
                    "by deposit: {} states that have deposited an instrument by {}, of which {} not yet in force",
                    dep.len(),
                    as_of.long(),
                    deposited.len()
                ),
            ),
            Reason::new(
                "Art. 20",
                format!("{} states whose withdrawal has taken effect are not counted", withdrawn.len()),
            ),
        ];
        Counts {
            as_of,
            parties_by_eif: Parties {
                as_of,
                basis: Basis::Eif,
                count: eif.len(),
                states: eif,
            },
            parties_by_deposit: Parties {
                as_of,
                basis: Basis::Deposit,
                count: dep.len(),
                states: dep,
            },
            deposited_not_in_force: CodeList::from(deposited),
            signatories: CodeList::from(signatories),
            non_signatories: CodeList::from(non),
            withdrawn: CodeList::from(withdrawn),
            reasons,
        }
    }

    /// Number of States Parties on every day from `from` to `to` (inclusive), on one basis.
    /// Computed from each state's status changes, so it costs little more than one count.
    pub fn parties_series(&self, from: Date, to: Date, basis: Basis) -> Vec<SeriesPoint> {
        if to < from {
            return Vec::new();
        }
        let n = usize::try_from(from.days_until(to)).unwrap_or(0) + 1;
        let mut delta = vec![0i64; n + 1];
        let index = |d: Date| -> usize {
            usize::try_from(from.days_until(d).max(0))
                .unwrap_or(0)
                .min(n)
        };
        for (code, sf) in &self.subjects {
            if sf.deposit.is_none() {
                continue;
            }
            let tl = self.timeline(code);
            for (k, &(start, status)) in tl.iter().enumerate() {
                if !basis.counts(status) {
                    continue;
                }
                let end = tl.get(k + 1).map(|x| x.0);
                let s = index(start.max(from));
                let e = end.map_or(n, index);
                if start > to || s >= e {
                    continue;
                }
                delta[s] += 1;
                delta[e] -= 1;
            }
        }
        let mut out = Vec::with_capacity(n);
        let mut running = 0i64;
        let mut day = from;
        for d in delta.iter().take(n) {
            running += d;
            out.push(SeriesPoint {
                date: day,
                count: usize::try_from(running).unwrap_or(0),
            });
            match day.add_days(1) {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }

    /// Every dated obligation of every state (or of one) on `as_of`, sorted by due date, then
    /// code (Arts. 4, 5, 7). `overdue_only` keeps recorded breaches past their deadline.
    pub fn deadlines(
        &self,
        as_of: Date,
        state: Option<&str>,
        overdue_only: bool,
    ) -> Vec<DeadlineRow> {
        let codes: Vec<&str> = match state {
            Some(s) => vec![s],
            None => self.treaty_subjects().collect(),
        };
        let mut rows: Vec<DeadlineRow> = codes
            .into_iter()
            .flat_map(|code| {
                let empty = SubjectFacts::default();
                let sf = self.subject(code).unwrap_or(&empty);
                let core = self.core(sf, as_of);
                let (obligations, _) = obligations(self, sf, &core, as_of);
                obligations
                    .into_iter()
                    .filter_map(move |o| DeadlineRow::from(code, o))
            })
            .filter(|r| !overdue_only || r.overdue)
            .collect();
        rows.sort_by(|a, b| {
            a.due
                .cmp(&b.due)
                .then_with(|| a.code.cmp(&b.code))
                .then_with(|| a.article.cmp(b.article))
        });
        rows
    }
}
