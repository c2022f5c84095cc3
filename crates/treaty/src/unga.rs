//! UN General Assembly: tallies per roll call, each state's voting record, and anomalies
//! (a State Party recorded abstaining or voting no on the resolution that supports the treaty).

use crate::engine::{Engine, SubjectFacts};
use crate::findings::{Finding, FindingKind};
use crate::reason::{cite_inline, Reason};
use crate::status::Status;
use minewatch_domain::fact::{UngaRollCall, Vote};
use minewatch_domain::{Date, Fact, PartialDate, Payload};
use serde::Serialize;
use std::collections::BTreeMap;

/// Topics of the roll calls whose resolution supports the treaty (or a ban on the mines).
pub const SUPPORTING_TOPICS: [&str; 2] = ["apmbc_implementation", "ban_landmines"];

/// Yes / no / abstain counts, and the Member States recorded as not voting (none of the three).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VoteCounts {
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub non_voting: u32,
}

impl VoteCounts {
    fn add(&mut self, v: Vote) {
        match v {
            Vote::Yes => self.yes += 1,
            Vote::No => self.no += 1,
            Vote::Abstain => self.abstain += 1,
            Vote::NonVoting => self.non_voting += 1,
        }
    }

    /// Whether `counted` agrees with these recorded totals. A source that does not publish a
    /// non-voting total (`non_voting_published` false) is compared on yes, no and abstain only.
    fn agrees(&self, counted: &VoteCounts, non_voting_published: bool) -> bool {
        (self.yes, self.no, self.abstain) == (counted.yes, counted.no, counted.abstain)
            && (!non_voting_published || self.non_voting == counted.non_voting)
    }
}

/// One roll call: the votes recorded per state, counted, against the recorded totals.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RollCallTally {
    pub rcid: Option<u32>,
    pub resolution: String,
    pub session: Option<u32>,
    pub date: Option<PartialDate>,
    pub topic: Option<String>,
    /// Counted from the states' `unga_vote` facts.
    pub counted: VoteCounts,
    /// The totals the `unga_roll_call` fact records, when there is one.
    pub recorded: Option<VoteCounts>,
    /// Whether the counts agree with the recorded totals (`null` without a roll-call fact).
    pub matches: Option<bool>,
    /// States recorded voting no.
    pub no: Vec<String>,
    /// States recorded abstaining.
    pub abstain: Vec<String>,
    /// States recorded as not voting (present in the source's list, no vote cast).
    pub non_voting: Vec<String>,
    pub reasons: Vec<Reason>,
}

/// One vote of a state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecordedVote {
    pub date: Option<PartialDate>,
    pub rcid: Option<u32>,
    pub resolution: String,
    pub vote: Vote,
    /// The state's treaty status on the day of the vote.
    pub status_on_date: Option<Status>,
    /// A State Party abstaining or voting no on a resolution supporting the treaty.
    pub anomaly: bool,
    pub reasons: Vec<Reason>,
}

/// A state's voting record over the years.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VotingRecord {
    pub code: String,
    pub as_of: Date,
    pub totals: VoteCounts,
    pub votes: Vec<RecordedVote>,
}

fn roll_call_for<'e>(
    engine: &'e Engine,
    rcid: Option<u32>,
    resolution: &str,
) -> Option<(&'e Fact, &'e UngaRollCall)> {
    let i = match rcid {
        Some(id) => engine.roll_call_by_id.get(&id),
        None => engine.roll_call_by_resolution.get(resolution),
    }?;
    let f = engine.fact(*i);
    match &f.payload {
        Payload::UngaRollCall(r) => Some((f, r)),
        _ => None,
    }
}

/// The date of a vote: its own, or its roll call's.
fn vote_date(f: &Fact, rc: Option<&Fact>) -> Option<PartialDate> {
    f.valid_from.or(rc.and_then(|r| r.valid_from))
}

/// A vote is known on `as_of` when it (or its roll call, for an undated vote) had happened and
/// been published by then (the as-of rule).
fn vote_known(engine: &Engine, f: &Fact, rc: Option<&Fact>, as_of: Date) -> bool {
    match (f.valid_from, rc) {
        (None, Some(r)) => {
            engine.visible(r, as_of)
                && engine
                    .known(f)
                    .published
                    .is_none_or(|p| p.latest() <= as_of)
        }
        _ => engine.visible(f, as_of),
    }
}

/// Analyses one vote of a subject: its status that day and whether it is an anomaly.
fn analyse(engine: &Engine, sf: &SubjectFacts, f: &Fact) -> Option<RecordedVote> {
    let Payload::UngaVote(v) = &f.payload else {
        return None;
    };
    let rc = roll_call_for(engine, v.rcid, &v.resolution);
    let date = vote_date(f, rc.map(|r| r.0));
    let mut reasons = Vec::new();
    let supports = match rc {
        Some((rf, r)) => {
            let s = SUPPORTING_TOPICS.contains(&r.topic.as_str());
            reasons.push(
                Reason::new(
                    format!("UNGA res. {}", r.resolution),
                    format!(
                        "roll call {} on resolution {} (topic {})",
                        r.rcid, r.resolution, r.topic
                    ),
                )
                .with_fact(rf),
            );
            s
        }
        None => {
            reasons.push(Reason::new(
                format!("UNGA res. {}", v.resolution),
                "no roll-call fact recorded for this vote; the resolution is taken to be the one supporting the treaty",
            ));
            true
        }
    };
    let status = date.map(|d| engine.core(sf, d.latest()).status);
    let bound_whole = date.is_some_and(|d| {
        engine.core(sf, d.earliest()).status.is_bound()
            && engine.core(sf, d.latest()).status.is_bound()
    });
    let anomaly = supports && bound_whole && matches!(v.vote, Vote::No | Vote::Abstain);
    let on = date
        .map(|d| d.long())
        .unwrap_or_else(|| "an unrecorded date".into());
    let text = match status {
        Some(s) => format!("voted {} on {on}, when its status was {s}", v.vote),
        None => format!("voted {} on {on}", v.vote),
    };
    reasons.push(Reason::new(format!("UNGA res. {}", v.resolution), text).with_fact(f));
    Some(RecordedVote {
        date,
        rcid: v.rcid,
        resolution: v.resolution.clone(),
        vote: v.vote,
        status_on_date: status,
        anomaly,
        reasons,
    })
}

pub(crate) fn vote_anomalies(
    engine: &Engine,
    code: &str,
    sf: &SubjectFacts,
    as_of: Date,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for &i in &sf.votes {
        let f = engine.fact(i);
        let Payload::UngaVote(v) = &f.payload else {
            continue;
        };
        if matches!(v.vote, Vote::Yes) {
            continue;
        }
        let rc = roll_call_for(engine, v.rcid, &v.resolution).map(|r| r.0);
        if !vote_known(engine, f, rc, as_of) {
            continue;
        }
        let Some(rv) = analyse(engine, sf, f) else {
            continue;
        };
        if !rv.anomaly {
            continue;
        }
        let verb = match v.vote {
            Vote::No => "voting no",
            _ => "abstaining",
        };
        out.push(Finding {
            subject: code.to_string(),
            kind: FindingKind::UngaVoteAnomaly,
            article: format!("UNGA res. {}", v.resolution),
            date: rv.date,
            summary: format!(
                "a State Party recorded {verb} on resolution {} ({}) supporting the treaty; possibly an error in the source ({})",
                v.resolution,
                rv.date.map(|d| d.long()).unwrap_or_default(),
                cite_inline(f)
            ),
            reasons: rv.reasons,
        });
    }
    out
}

impl Engine {
    /// Tally of every roll call, counted from the states' votes and compared with the recorded
    /// totals (a mismatch is reported in `matches` and the reasons).
    pub fn unga_tallies(&self, as_of: Date) -> Vec<RollCallTally> {
        // Group votes by rcid (or resolution when the vote has no rcid).
        let mut groups: BTreeMap<(Option<u32>, String), Vec<&Fact>> = BTreeMap::new();
        for sf in self.subjects.values() {
            for &i in &sf.votes {
                let f = self.fact(i);
                if let Payload::UngaVote(v) = &f.payload {
                    let rc = roll_call_for(self, v.rcid, &v.resolution);
                    if !vote_known(self, f, rc.map(|r| r.0), as_of) {
                        continue;
                    }
                    let key = match (v.rcid, rc) {
                        (Some(id), _) => (Some(id), String::new()),
                        (None, Some((_, r))) => (Some(r.rcid), String::new()),
                        (None, None) => (None, v.resolution.clone()),
                    };
                    groups.entry(key).or_default().push(f);
                }
            }
        }
        // Roll calls without any vote recorded still appear.
        for &i in &self.roll_calls {
            let f = self.fact(i);
            if let Payload::UngaRollCall(r) = &f.payload {
                if f.valid_from.is_none_or(|d| d.latest() <= as_of) {
                    groups.entry((Some(r.rcid), String::new())).or_default();
                }
            }
        }
        let mut out: Vec<RollCallTally> = groups
            .into_iter()
            .map(|((rcid, res), votes)| {
                let mut counted = VoteCounts::default();
                let mut no = Vec::new();
                let mut abstain = Vec::new();
                let mut non_voting = Vec::new();
                let mut resolution = res;
                // A vote recorded by several facts (sources) counts once per state.
                let mut seen: std::collections::BTreeSet<(&str, &str)> = Default::default();
                for f in &votes {
                    if let Payload::UngaVote(v) = &f.payload {
                        if !seen.insert((f.subject.as_str(), v.vote.as_str())) {
                            continue;
                        }
                        counted.add(v.vote);
                        match v.vote {
                            Vote::No => no.push(f.subject.clone()),
                            Vote::Abstain => abstain.push(f.subject.clone()),
                            Vote::NonVoting => non_voting.push(f.subject.clone()),
                            Vote::Yes => {}
                        }
                        if resolution.is_empty() {
                            resolution = v.resolution.clone();
                        }
                    }
                }
                no.sort();
                abstain.sort();
                non_voting.sort();
                let rc = roll_call_for(self, rcid, &resolution);
                let states_voting = seen.len();
                let mut reasons = Vec::new();
                let (recorded, matches, session, topic, date) = match rc {
                    Some((rf, r)) => {
                        resolution = r.resolution.clone();
                        let rec = VoteCounts {
                            yes: r.yes,
                            no: r.no,
                            abstain: r.abstain,
                            non_voting: r.non_voting.unwrap_or(0),
                        };
                        let ok = rec.agrees(&counted, r.non_voting.is_some());
                        // Published non-voting totals are compared too (the UN Digital
                        // Library's); older sources list only the states that voted.
                        let nv = |n: u32| match r.non_voting {
                            Some(_) => format!(", {n} not voting"),
                            None => String::new(),
                        };
                        let text = if ok {
                            format!(
                                "the {} recorded votes agree with the recorded totals {}-{}-{}{}",
                                states_voting,
                                r.yes,
                                r.no,
                                r.abstain,
                                nv(rec.non_voting)
                            )
                        } else {
                            format!(
                                "mismatch: counted {}-{}-{}{} (yes-no-abstain) from {} recorded votes; the roll call records {}-{}-{}{}",
                                counted.yes,
                                counted.no,
                                counted.abstain,
                                nv(counted.non_voting),
                                states_voting,
                                r.yes,
                                r.no,
                                r.abstain,
                                nv(rec.non_voting)
                            )
                        };
                        reasons.push(Reason::new(format!("UNGA res. {}", r.resolution), text).with_fact(rf));
                        (Some(rec), Some(ok), Some(r.session), Some(r.topic.clone()), rf.valid_from)
                    }
                    None => {
                        reasons.push(Reason::new(
                            format!("UNGA res. {resolution}"),
                            format!("no roll-call fact recorded; counted from {states_voting} recorded votes"),
                        ));
                        (None, None, None, None, votes.iter().find_map(|f| f.valid_from))
                    }
                };
                RollCallTally {
                    rcid,
                    resolution,
                    session,
                    date,
                    topic,
                    counted,
                    recorded,
                    matches,
                    no,
                    abstain,
                    non_voting,
                    reasons,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.date
                .map(|d| d.earliest())
                .cmp(&b.date.map(|d| d.earliest()))
                .then(a.rcid.cmp(&b.rcid))
                .then(a.resolution.cmp(&b.resolution))
        });
        out
    }

    /// A state's voting record on the landmine resolutions up to `as_of`, with its status on
    /// each vote's date and anomalies marked.
    pub fn unga_record(&self, code: &str, as_of: Date) -> VotingRecord {
        let mut votes = Vec::new();
        let mut totals = VoteCounts::default();
        if let Some(sf) = self.subject(code) {
            for &i in &sf.votes {
                let f = self.fact(i);
                let Payload::UngaVote(v) = &f.payload else {
                    continue;
                };
                let rc = roll_call_for(self, v.rcid, &v.resolution).map(|r| r.0);
                if !vote_known(self, f, rc, as_of) {
                    continue;
                }
                if let Some(rv) = analyse(self, sf, f) {
                    totals.add(rv.vote);
                    votes.push(rv);
                }
            }
        }
        votes.sort_by_key(|v| (v.date.map(|d| d.earliest()), v.rcid));
        VotingRecord {
            code: code.to_string(),
            as_of,
            totals,
            votes,
        }
    }

    /// Every State Party recorded abstaining or voting no on a supporting resolution, up to `as_of`.
    pub fn unga_anomalies(&self, as_of: Date) -> Vec<Finding> {
        self.subjects
            .iter()
            .flat_map(|(code, sf)| vote_anomalies(self, code, sf, as_of))
            .collect()
    }
}
