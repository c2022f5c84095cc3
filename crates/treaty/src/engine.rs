//! The engine: facts indexed once by subject and kind, then queried for any date.
//!
//! Time: a fact is part of the world on `as_of` by the domain's one as-of rule
//! ([`minewatch_domain::Known`]), the same the store applies to "as of" reads: it had happened
//! (the last day its date can mean: a deposit dated only "2007-11" has certainly happened on
//! 30 November 2007) and one of its sources had published it by then. Undated treaty actions
//! cannot be placed in time and are reported as findings instead of being guessed.

use crate::status::Status;
use minewatch_domain::fact::{DepositMethod, TreatyActionType};
use minewatch_domain::{Date, Fact, Known, PartialDate, Payload, Precision};
use std::collections::{BTreeMap, HashMap};

/// The day the 40th instrument was deposited according to the depositary (Burkina Faso,
/// 16 September 1998; Equatorial Guinea acceded the same day). Used only when the record holds
/// fewer than 40 deposits, so that small fact sets still get Art. 17(1) right.
pub fn depositary_fortieth_deposit() -> Date {
    ymd(1998, 9, 16)
}

pub(crate) fn ymd(y: i32, m: u8, d: u8) -> Date {
    Date::new(y, m, d).expect("constant dates are valid")
}

/// Art. 17: entry into force for a state that deposited on `deposit`, given the day of the 40th
/// deposit. Instruments deposited on or before that day enter into force with the treaty, on the
/// first day of the sixth month after the month of the 40th deposit (Art. 17(1)); later ones on
/// the first day of the sixth month after the month of their own deposit (Art. 17(2)).
pub fn entry_into_force(deposit: Date, fortieth: Date) -> Option<Date> {
    if deposit <= fortieth {
        fortieth.first_of_month().add_months(6)
    } else {
        deposit.first_of_month().add_months(6)
    }
}

/// Facts of one subject, by kind (indexes into [`Engine::facts`]).
#[derive(Debug, Default, Clone)]
pub(crate) struct SubjectFacts {
    pub signatures: Vec<usize>,
    pub deposits: Vec<usize>,
    pub notices: Vec<usize>,
    pub suspensions: Vec<usize>,
    pub provisional: Vec<usize>,
    pub conflicts: Vec<usize>,
    pub art4: Vec<usize>,
    pub art5: Vec<usize>,
    pub art7: Vec<usize>,
    pub legislation: Vec<usize>,
    pub stockpiles: Vec<usize>,
    pub activities: Vec<usize>,
    pub votes: Vec<usize>,
    pub participation: Vec<usize>,
    /// The preferred dated signature, deposit and withdrawal notice (see [`prefer`]).
    pub signature: Option<usize>,
    pub deposit: Option<usize>,
    pub notice: Option<usize>,
}

impl SubjectFacts {
    fn has_treaty_action(&self) -> bool {
        !(self.signatures.is_empty() && self.deposits.is_empty() && self.notices.is_empty())
    }
}

/// Where the 40th deposit comes from.
#[derive(Debug, Clone)]
pub(crate) struct Fortieth {
    /// Preferred deposit day of every state, sorted.
    pub deposits: Vec<(Date, usize)>,
    /// The day of the 40th deposit.
    pub day: Date,
    /// Facts of the deposits made on that day (empty when taken from the depositary).
    pub facts_on_day: Vec<usize>,
    /// True when derived from the record; false when the record holds fewer than 40 deposits.
    pub from_record: bool,
    /// First day of the sixth month after the month of the 40th deposit (Art. 17(1)).
    pub general_eif: Date,
}

/// Entry into force as known on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eif {
    NotDeposited,
    /// Deposited before the 40th instrument, which had not been deposited by `as_of`.
    Pending {
        deposited: usize,
    },
    General(Date),
    Individual(Date),
    /// A notification of succession: effective from the date of State succession the
    /// depositary records (not Art. 17), with the fact that records it.
    Succession(Date, usize),
}

impl Eif {
    pub fn date(self) -> Option<Date> {
        match self {
            Eif::General(d) | Eif::Individual(d) | Eif::Succession(d, _) => Some(d),
            _ => None,
        }
    }
}

/// Art. 20 on a date.
#[derive(Debug, Clone)]
pub(crate) struct WithdrawalCore<'e> {
    pub notice: &'e Fact,
    pub notice_day: Date,
    /// Notice + 6 months (same day of the month).
    pub six_months: Option<Date>,
    /// When it takes (took) effect; `None` while deferred by an armed conflict with no known end.
    pub effective: Option<Date>,
    /// Armed conflicts that covered the day it would have taken effect, with their end as known.
    pub deferrals: Vec<(&'e Fact, Option<Date>)>,
}

/// The status computation without words: the facts chosen and the dates derived.
#[derive(Debug, Clone)]
pub(crate) struct Core<'e> {
    pub status: Status,
    pub signature: Option<&'e Fact>,
    pub deposit: Option<&'e Fact>,
    pub deposit_day: Option<Date>,
    pub eif: Eif,
    pub withdrawal: Option<WithdrawalCore<'e>>,
}

/// The treaty engine over a set of facts (the record as of some record time: superseded and
/// retracted facts already removed). Built once; every query takes the valid-time date.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) facts: Vec<Fact>,
    /// When each fact (same index) enters the world of "as of" questions.
    pub(crate) known: Vec<Known>,
    pub(crate) subjects: BTreeMap<String, SubjectFacts>,
    pub(crate) fortieth: Fortieth,
    pub(crate) roll_calls: Vec<usize>,
    /// The first roll call (index into `facts`) of each roll-call id and of each resolution:
    /// a vote finds its roll call without a scan (votes times roll calls was the cost of a
    /// tally at a large record).
    pub(crate) roll_call_by_id: HashMap<u32, usize>,
    pub(crate) roll_call_by_resolution: HashMap<String, usize>,
    pub(crate) policies: Vec<usize>,
    pub(crate) meetings: Vec<usize>,
}

/// Preference among facts that record the same act (Art. 17 and 20 dates): dated facts only;
/// a day beats a month or a year; then the fact cited by more distinct sources; then the lowest
/// fact id (the earliest recorded).
pub(crate) fn prefer(facts: &[Fact], candidates: &[usize]) -> Option<usize> {
    candidates
        .iter()
        .copied()
        .filter(|&i| facts[i].valid_from.is_some())
        .min_by(|&a, &b| {
            let (fa, fb) = (&facts[a], &facts[b]);
            let pa = fa.valid_from.map(PartialDate::precision);
            let pb = fb.valid_from.map(PartialDate::precision);
            let day_a = pa == Some(Precision::Day);
            let day_b = pb == Some(Precision::Day);
            day_b
                .cmp(&day_a)
                .then_with(|| distinct_sources(fb).cmp(&distinct_sources(fa)))
                .then_with(|| fa.id.cmp(&fb.id))
        })
}

pub(crate) fn distinct_sources(f: &Fact) -> usize {
    let mut keys: Vec<&str> = f.citations.iter().map(|c| c.source.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}

impl Engine {
    /// Indexes `facts` (cloned) by subject and kind.
    pub fn new(facts: &[Fact]) -> Engine {
        Engine::from_facts(facts.to_vec())
    }

    /// Indexes `facts` by subject and kind, taking ownership. No source has a publication date:
    /// facts count from their own dates (see [`Engine::with_publications`]).
    pub fn from_facts(facts: Vec<Fact>) -> Engine {
        Engine::with_publications(facts, &HashMap::new())
    }

    /// Indexes `facts` by subject and kind, with the publication date of each source key, so
    /// that the engine applies the same as-of rule as the store's reads.
    pub fn with_publications(
        facts: Vec<Fact>,
        published: &HashMap<String, Option<PartialDate>>,
    ) -> Engine {
        let known = facts
            .iter()
            .map(|f| f.known(|key| published.get(key).copied().flatten()))
            .collect();
        let mut subjects: BTreeMap<String, SubjectFacts> = BTreeMap::new();
        let mut roll_calls = Vec::new();
        let mut policies = Vec::new();
        let mut meetings = Vec::new();
        for (i, f) in facts.iter().enumerate() {
            let sf = || -> SubjectFacts { SubjectFacts::default() };
            match &f.payload {
                Payload::TreatyAction(a) => {
                    let s = subjects.entry(f.subject.clone()).or_insert_with(sf);
                    match a.action {
                        TreatyActionType::Signature => s.signatures.push(i),
                        TreatyActionType::Deposit => s.deposits.push(i),
                        TreatyActionType::WithdrawalNotice => s.notices.push(i),
                        TreatyActionType::SuspensionDeclaration => s.suspensions.push(i),
                        TreatyActionType::ProvisionalApplication => s.provisional.push(i),
                    }
                }
                Payload::ArmedConflict(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .conflicts
                    .push(i),
                Payload::Art4Event(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .art4
                    .push(i),
                Payload::Art5Event(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .art5
                    .push(i),
                Payload::Art7Report(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .art7
                    .push(i),
                Payload::Legislation(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .legislation
                    .push(i),
                Payload::StockpileCount(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .stockpiles
                    .push(i),
                Payload::MineActivity(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .activities
                    .push(i),
                Payload::UngaVote(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .votes
                    .push(i),
                Payload::UngaRollCall(_) => roll_calls.push(i),
                Payload::PolicyInstrument(_) => policies.push(i),
                Payload::Meeting(_) => meetings.push(i),
                Payload::MeetingParticipation(_) => subjects
                    .entry(f.subject.clone())
                    .or_insert_with(sf)
                    .participation
                    .push(i),
                _ => {}
            }
        }
        for s in subjects.values_mut() {
            s.signature = prefer(&facts, &s.signatures);
            s.deposit = prefer(&facts, &s.deposits);
            s.notice = prefer(&facts, &s.notices);
        }
        let mut deposits: Vec<(Date, usize)> = subjects
            .values()
            .filter_map(|s| s.deposit)
            .filter_map(|i| facts[i].valid_from.map(|d| (d.latest(), i)))
            .collect();
        deposits.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| facts[a.1].subject.cmp(&facts[b.1].subject))
        });
        let (day, from_record) = match deposits.get(39) {
            Some(&(d, _)) => (d, true),
            None => (depositary_fortieth_deposit(), false),
        };
        let facts_on_day = if from_record {
            deposits
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|&(_, i)| i)
                .collect()
        } else {
            Vec::new()
        };
        let general_eif = day.first_of_month().add_months(6).unwrap_or(day);
        let mut roll_call_by_id = HashMap::new();
        let mut roll_call_by_resolution = HashMap::new();
        for &i in &roll_calls {
            if let Payload::UngaRollCall(r) = &facts[i].payload {
                roll_call_by_id.entry(r.rcid).or_insert(i);
                roll_call_by_resolution
                    .entry(r.resolution.clone())
                    .or_insert(i);
            }
        }
        Engine {
            facts,
            known,
            subjects,
            fortieth: Fortieth {
                deposits,
                day,
                facts_on_day,
                from_record,
                general_eif,
            },
            roll_calls,
            roll_call_by_id,
            roll_call_by_resolution,
            policies,
            meetings,
        }
    }

    /// All facts the engine holds.
    pub fn facts(&self) -> &[Fact] {
        &self.facts
    }

    /// Subjects that have any fact the engine uses, sorted by code.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        self.subjects.keys().map(String::as_str)
    }

    /// Subjects with at least one signature, deposit or withdrawal notice, sorted by code.
    pub fn treaty_subjects(&self) -> impl Iterator<Item = &str> {
        self.subjects
            .iter()
            .filter(|(_, s)| s.has_treaty_action())
            .map(|(c, _)| c.as_str())
    }

    /// The day of the 40th deposit (Art. 17(1)) and whether it was derived from the record
    /// (`false`: fewer than 40 deposits recorded; the depositary's date is used).
    pub fn fortieth_deposit(&self) -> (Date, bool) {
        (self.fortieth.day, self.fortieth.from_record)
    }

    /// The treaty's own entry into force: first day of the sixth month after the month of the
    /// 40th deposit (Art. 17(1)).
    pub fn general_entry_into_force(&self) -> Date {
        self.fortieth.general_eif
    }

    /// When a fact of this engine enters the world of "as of" questions, and why.
    pub fn known(&self, f: &Fact) -> Known {
        match self.index_of(f) {
            Some(i) => self.known[i],
            None => f.known(|_| None),
        }
    }

    /// Is a fact part of the world on `as_of` (happened and published by then)?
    pub(crate) fn visible(&self, f: &Fact, as_of: Date) -> bool {
        self.known(f).visible(as_of)
    }

    /// The index of a fact borrowed from this engine (by address: facts are not moved after
    /// construction).
    fn index_of(&self, f: &Fact) -> Option<usize> {
        let size = std::mem::size_of::<Fact>().max(1);
        let offset = (f as *const Fact as usize).checked_sub(self.facts.as_ptr() as usize)?;
        let i = offset / size;
        (i < self.facts.len() && std::ptr::eq(&self.facts[i], f)).then_some(i)
    }

    pub(crate) fn subject(&self, code: &str) -> Option<&SubjectFacts> {
        self.subjects.get(code)
    }

    pub(crate) fn fact(&self, i: usize) -> &Fact {
        &self.facts[i]
    }

    pub(crate) fn eif_for(&self, deposit_day: Date, as_of: Date) -> Eif {
        let f = &self.fortieth;
        if deposit_day <= f.day {
            if as_of >= f.day {
                Eif::General(f.general_eif)
            } else {
                let deposited = f.deposits.partition_point(|(d, _)| *d <= as_of);
                Eif::Pending { deposited }
            }
        } else {
            match entry_into_force(deposit_day, f.day) {
                Some(d) => Eif::Individual(d),
                None => Eif::Pending { deposited: 0 },
            }
        }
    }

    /// Armed conflicts of a subject known on `as_of` (the as-of rule), as (fact, first day, last
    /// day if known).
    pub(crate) fn conflicts_known<'e>(
        &'e self,
        sf: &SubjectFacts,
        as_of: Date,
    ) -> Vec<(&'e Fact, Date, Option<Date>)> {
        sf.conflicts
            .iter()
            .map(|&i| &self.facts[i])
            .filter(|f| self.visible(f, as_of))
            .map(|f| {
                let start = f.valid_from.map_or(ymd(1, 1, 1), PartialDate::earliest);
                let end = f.valid_to.map(PartialDate::latest).filter(|e| *e <= as_of);
                (f, start, end)
            })
            .collect()
    }

    fn withdrawal_core<'e>(
        &'e self,
        sf: &SubjectFacts,
        notice: &'e Fact,
        as_of: Date,
    ) -> WithdrawalCore<'e> {
        let notice_day = notice.valid_from.map_or(as_of, PartialDate::latest);
        let six_months = notice_day.add_months(6);
        let conflicts = self.conflicts_known(sf, as_of);
        let mut deferrals = Vec::new();
        let mut effective = None;
        if let Some(mut day) = six_months {
            for _ in 0..=conflicts.len() {
                let covering = conflicts
                    .iter()
                    .filter(|(_, start, end)| *start <= day && end.is_none_or(|e| day <= e))
                    .max_by_key(|(_, _, end)| end.map_or((1, None), |e| (0, Some(e))));
                match covering {
                    None => {
                        effective = Some(day);
                        break;
                    }
                    Some(&(f, _, None)) => {
                        deferrals.push((f, None));
                        break;
                    }
                    Some(&(f, _, Some(end))) => {
                        deferrals.push((f, Some(end)));
                        match end.add_days(1) {
                            Some(next) => day = next,
                            None => break,
                        }
                    }
                }
            }
        }
        WithdrawalCore {
            notice,
            notice_day,
            six_months,
            effective,
            deferrals,
        }
    }

    /// The status computation for one subject on `as_of`, without words.
    pub(crate) fn core<'e>(&'e self, sf: &SubjectFacts, as_of: Date) -> Core<'e> {
        let pick = |i: Option<usize>| i.map(|i| &self.facts[i]).filter(|f| self.visible(f, as_of));
        let signature = pick(sf.signature);
        let deposit = pick(sf.deposit);
        let notice = pick(sf.notice);
        let deposit_day = deposit.and_then(|f| f.valid_from).map(PartialDate::latest);
        let eif = match (deposit, self.succession(sf, as_of)) {
            (Some(_), Some((day, i))) => Eif::Succession(day, i),
            _ => deposit_day.map_or(Eif::NotDeposited, |d| self.eif_for(d, as_of)),
        };
        let withdrawal = match (deposit, notice) {
            (Some(_), Some(n)) => Some(self.withdrawal_core(sf, n, as_of)),
            _ => None,
        };
        let status = match (deposit, &withdrawal) {
            (Some(_), Some(w)) if w.effective.is_some_and(|e| e <= as_of) => Status::Withdrawn,
            (Some(_), Some(_)) => Status::WithdrawalPending,
            (Some(_), None) if eif.date().is_some_and(|d| d <= as_of) => Status::StateParty,
            (Some(_), None) => Status::Deposited,
            (None, _) if signature.is_some() => Status::Signatory,
            (None, _) => Status::NonSignatory,
        };
        Core {
            status,
            signature,
            deposit,
            deposit_day,
            eif,
            withdrawal,
        }
    }

    /// A deposit by succession known on `as_of` that records the date of State succession from
    /// which the depositary dates the treaty's effect (and does not date it like an accession):
    /// that day, with the fact's index.
    pub(crate) fn succession(&self, sf: &SubjectFacts, as_of: Date) -> Option<(Date, usize)> {
        sf.deposits
            .iter()
            .copied()
            .filter(|&i| self.visible(&self.facts[i], as_of))
            .filter_map(|i| match &self.facts[i].payload {
                Payload::TreatyAction(a)
                    if a.method == Some(DepositMethod::Succession) && !a.dated_as_accession =>
                {
                    a.succession_date.map(|d| (d.latest(), i))
                }
                _ => None,
            })
            .min()
    }

    /// The status of `code` on `as_of`, without reasons (fast path for counts and series).
    pub fn status_only(&self, code: &str, as_of: Date) -> Status {
        self.subject(code)
            .map_or(Status::NonSignatory, |sf| self.core(sf, as_of).status)
    }

    /// Is the subject bound by Art. 1 on `day`: in force (or withdrawal not yet effective), or
    /// deposited with a declaration of provisional application (Art. 18) made by then.
    pub(crate) fn bound_on(&self, sf: &SubjectFacts, day: Date) -> bool {
        match self.core(sf, day).status {
            Status::StateParty | Status::WithdrawalPending => true,
            Status::Deposited => sf
                .provisional
                .iter()
                .any(|&i| self.visible(&self.facts[i], day)),
            _ => false,
        }
    }

    /// Days on which the status of a subject can change: its status is constant between two
    /// consecutive days of this list (sorted, deduplicated).
    pub(crate) fn change_points(&self, sf: &SubjectFacts) -> Vec<Date> {
        let mut pts = vec![self.fortieth.day, self.fortieth.general_eif];
        let push_fact = |i: Option<usize>, pts: &mut Vec<Date>| {
            if let Some(d) = i.and_then(|i| self.facts[i].valid_from) {
                pts.push(d.latest());
            }
        };
        push_fact(sf.signature, &mut pts);
        push_fact(sf.deposit, &mut pts);
        push_fact(sf.notice, &mut pts);
        for &i in &sf.deposits {
            if let Payload::TreatyAction(a) = &self.facts[i].payload {
                if let Some(d) = a.succession_date {
                    pts.push(d.latest());
                }
            }
        }
        // A fact can become known later than it happened (published later): the status can
        // change on that day too.
        for &i in sf
            .signatures
            .iter()
            .chain(&sf.deposits)
            .chain(&sf.notices)
            .chain(&sf.conflicts)
            .chain(&sf.provisional)
        {
            if let Some(k) = self.known[i].from {
                pts.push(k);
            }
        }
        if let Some(d) = sf.deposit.and_then(|i| self.facts[i].valid_from) {
            if let Some(e) = entry_into_force(d.latest(), self.fortieth.day) {
                pts.push(e);
            }
        }
        if let Some(d) = sf.notice.and_then(|i| self.facts[i].valid_from) {
            if let Some(s) = d.latest().add_months(6) {
                pts.push(s);
            }
        }
        for &i in &sf.conflicts {
            let f = &self.facts[i];
            if let Some(s) = f.valid_from {
                pts.push(s.earliest());
            }
            if let Some(e) = f.valid_to {
                pts.push(e.latest());
                if let Some(n) = e.latest().add_days(1) {
                    pts.push(n);
                }
            }
        }
        pts.sort_unstable();
        pts.dedup();
        pts
    }

    /// The status history of a subject: (first day, status) for each change, starting with the
    /// status before any recorded event (on 1 January of year 1).
    pub fn timeline(&self, code: &str) -> Vec<(Date, Status)> {
        let start = ymd(1, 1, 1);
        let Some(sf) = self.subject(code) else {
            return vec![(start, Status::NonSignatory)];
        };
        let mut out = vec![(start, self.core(sf, start).status)];
        for d in self.change_points(sf) {
            let s = self.core(sf, d).status;
            if out.last().is_some_and(|(_, last)| *last != s) {
                out.push((d, s));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minewatch_domain::fact::{DepositMethod, TreatyAction};
    use minewatch_domain::Citation;

    fn deposit(id: i64, date: &str, sources: &[&str]) -> Fact {
        Fact {
            id,
            subject: "IDN".into(),
            valid_from: PartialDate::parse(date).ok(),
            valid_to: None,
            payload: Payload::TreatyAction(TreatyAction {
                action: TreatyActionType::Deposit,
                method: Some(DepositMethod::Ratification),
                date_inferred: false,
                succession_date: None,
                dated_as_accession: false,
            }),
            citations: sources
                .iter()
                .map(|s| Citation {
                    source: (*s).into(),
                    locator: None,
                })
                .collect(),
            note: None,
            recorded_at: String::new(),
            recorded_by: String::new(),
            supersedes: None,
        }
    }

    #[test]
    fn preference_day_then_sources_then_lowest_id() {
        let facts = vec![
            deposit(5, "2007-02", &["a", "b", "c"]),
            deposit(7, "2007-02-16", &["untc"]),
            deposit(6, "2007-02-20", &["icbl", "lm", "lm"]),
            deposit(3, "2007-02-21", &["x", "y"]),
        ];
        // Day beats month; then two distinct sources beat one (duplicates count once); then
        // the lowest id among equals.
        assert_eq!(prefer(&facts, &[0, 1, 2, 3]), Some(3));
        assert_eq!(prefer(&facts, &[0, 1]), Some(1));
        assert_eq!(prefer(&facts, &[1, 2]), Some(2));
        assert_eq!(prefer(&facts, &[0]), Some(0));
        assert_eq!(prefer(&facts, &[]), None);
    }

    #[test]
    fn entry_into_force_examples() {
        let f = depositary_fortieth_deposit();
        let d = |s: &str| Date::parse(s).expect("date");
        assert_eq!(entry_into_force(d("1999-07-28"), f), Some(d("2000-01-01")));
        assert_eq!(entry_into_force(d("2025-03-12"), f), Some(d("2025-09-01")));
        assert_eq!(entry_into_force(d("2025-06-25"), f), Some(d("2025-12-01")));
        assert_eq!(entry_into_force(d("1998-09-16"), f), Some(d("1999-03-01")));
        assert_eq!(entry_into_force(d("1997-12-03"), f), Some(d("1999-03-01")));
        assert_eq!(entry_into_force(d("1998-09-17"), f), Some(d("1999-03-01")));
        assert_eq!(entry_into_force(d("1998-10-01"), f), Some(d("1999-04-01")));
    }
}
