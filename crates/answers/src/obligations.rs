//! The typed answers of the obligations pages (`/deadlines`, `/article5`, `/meetings`,
//! `/meetings/{code}`): what their JSON twins hold.

use minewatch_domain::fact::{Art5EventType, MeetingRole};
use minewatch_domain::{Citation, Date, PartialDate};
use minewatch_treaty::{
    Art5History, Art5State, Art5Step, DeadlineRow, MeetingDates, MeetingInfo, Reason,
};
use serde::Serialize;

// ---------------------------------------------------------------------------------------------
// /meetings

/// `/meetings` (`/meetings.json`): the treaty's meetings in date order, with the Art. 5
/// decisions recorded by the as-of date.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingsAnswer {
    pub as_of: Date,
    pub count: usize,
    pub meetings: Vec<MeetingRow>,
}

/// One meeting of the list, with how many Art. 5 decisions of each kind it took.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingRow {
    pub code: String,
    pub name: String,
    pub city: Option<String>,
    /// The first day any version of the dates gives.
    pub start: Option<Date>,
    /// The last day any version of the dates gives.
    pub end: Option<Date>,
    /// The sources disagree on the dates.
    pub dates_disputed: bool,
    pub versions: Vec<MeetingDatesVersion>,
    pub extensions_granted: usize,
    pub completions_declared: usize,
    pub other_art5_events: usize,
    pub href: String,
}

/// One version of a meeting's dates, as one source gives them.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingDatesVersion {
    /// A date, a month or a year.
    pub start: Option<String>,
    /// A date, a month or a year.
    pub end: Option<String>,
    pub text: String,
    pub facts: Vec<i64>,
    pub sources: Vec<Citation>,
}

impl From<&MeetingDates> for MeetingDatesVersion {
    fn from(v: &MeetingDates) -> MeetingDatesVersion {
        MeetingDatesVersion {
            start: v.start.map(|d| d.to_string()),
            end: v.end.map(|d| d.to_string()),
            text: v.reason.text.clone(),
            facts: v.reason.facts.clone(),
            sources: v.reason.citations.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /meetings/{code}

/// `/meetings/{code}` (`/meetings/{code}.json`): one meeting, what it decided on Art. 5 and who
/// attended, as recorded by the as-of date.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingAnswer {
    pub as_of: Date,
    pub meeting: MeetingInfo,
    pub extensions_granted: Vec<DecisionGroup>,
    pub completions_declared: Vec<DecisionGroup>,
    pub other_art5_events: Vec<DecisionGroup>,
    pub attendance: Vec<AttendanceRow>,
}

/// The records of one kind of Art. 5 event for one state at one meeting (several facts, several
/// sources, may record one decision).
#[derive(Debug, Clone, Serialize)]
pub struct DecisionGroup {
    pub subject: String,
    pub name: String,
    pub event: Art5EventType,
    /// The dates the records give.
    pub dates: Vec<PartialDate>,
    /// The new deadlines the records give (more than one: the sources disagree).
    pub new_deadlines: Vec<PartialDate>,
    /// Every record names the meeting or date as inferred by the data's compiler.
    pub inferred: bool,
    /// How many of the records are inferred.
    pub inferred_records: usize,
    pub records: usize,
    /// Each record in words.
    pub texts: Vec<String>,
    pub facts: Vec<i64>,
    pub sources: Vec<Citation>,
}

/// A state's recorded part in a meeting.
#[derive(Debug, Clone, Serialize)]
pub struct AttendanceRow {
    pub subject: String,
    pub name: String,
    pub role: MeetingRole,
    pub text: String,
    pub facts: Vec<i64>,
    pub sources: Vec<Citation>,
}

// ---------------------------------------------------------------------------------------------
// /article5

/// `/article5` (`/article5.json`): every State Party's Article 5 history on the as-of date.
#[derive(Debug, Clone, Serialize)]
pub struct Article5Answer {
    pub as_of: Date,
    pub summary: Art5Summary,
    pub count: usize,
    pub rows: Vec<Art5Row>,
}

/// How many States Parties stand where, among those with an Art. 5 history (`/article5`, and
/// the `summary.art5` of `/deadlines`).
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Art5Summary {
    pub total: usize,
    /// Not completed: extended, on track, missed or past the deadline.
    pub still_clearing: usize,
    /// Missed or past the deadline with nothing recorded since.
    pub past_deadline: usize,
    pub missed: usize,
    pub overdue: usize,
    pub extended: usize,
    pub on_track: usize,
    pub completed: usize,
    pub reinstated: usize,
}

/// Counts the Art. 5 histories by where they stand.
pub fn art5_summary(hs: &[Art5History]) -> Art5Summary {
    let mut s = Art5Summary {
        total: hs.len(),
        ..Art5Summary::default()
    };
    for h in hs {
        match h.state {
            Art5State::Missed => s.missed += 1,
            Art5State::Overdue => s.overdue += 1,
            Art5State::Extended => s.extended += 1,
            Art5State::OnTrack => s.on_track += 1,
            Art5State::Completed | Art5State::CompletedLate | Art5State::CompletedUndated => {
                s.completed += 1
            }
        }
        if h.reinstated.is_some() {
            s.reinstated += 1;
        }
    }
    s.past_deadline = s.missed + s.overdue;
    s.still_clearing = s.total - s.completed;
    s
}

/// One State Party's Article 5 history.
#[derive(Debug, Clone, Serialize)]
pub struct Art5Row {
    pub code: String,
    pub name: String,
    pub href: String,
    pub entry_into_force: Date,
    /// Entry into force + 10 years (Art. 5(1)).
    pub original_deadline: Date,
    /// The deadline in force on the as-of date (`null`: the latest extension granted has no
    /// recorded deadline).
    pub current_deadline: Option<Date>,
    /// Extensions granted in the whole history.
    pub extensions: usize,
    /// Extensions granted of the obligation in force.
    pub extensions_in_force: usize,
    /// The meetings that granted the extensions, in order, once each.
    pub extension_meetings: Vec<String>,
    pub state: Art5State,
    pub state_words: &'static str,
    /// A date, a month or a year.
    pub completed: Option<String>,
    /// A date, a month or a year.
    pub reinstated: Option<String>,
    pub sources_disagree: bool,
    pub steps: Vec<Art5StepAnswer>,
    pub conflicts: Vec<Reason>,
    pub reasons: Vec<Reason>,
    /// The citations of the entry into force the original deadline rests on.
    pub original_deadline_sources: Vec<Citation>,
}

/// One step of an Art. 5 history.
#[derive(Debug, Clone, Serialize)]
pub struct Art5StepAnswer {
    /// A date, a month or a year (`null`: undated).
    pub date: Option<String>,
    /// The first day the step is part of the record's world.
    pub known_from: Option<Date>,
    pub event: Art5EventType,
    pub meeting: Option<String>,
    pub new_deadline: Option<Date>,
    pub inferred: bool,
    pub superseded_by_preferred: bool,
    pub text: String,
    pub facts: Vec<i64>,
    pub citations: Vec<Citation>,
}

impl From<&Art5Step> for Art5StepAnswer {
    fn from(s: &Art5Step) -> Art5StepAnswer {
        Art5StepAnswer {
            date: s.date.map(|d| d.to_string()),
            known_from: s.known_from,
            event: s.event,
            meeting: s.meeting.clone(),
            new_deadline: s.new_deadline,
            inferred: s.inferred,
            superseded_by_preferred: s.superseded_by_preferred,
            text: s.reason.text.clone(),
            facts: s.reason.facts.clone(),
            citations: s.reason.citations.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /deadlines

/// `/deadlines` (`/deadlines.json`): the deadlines shown (`show=`, `article=`, `state=`), and
/// the overview's counts.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlinesAnswer {
    pub as_of: Date,
    /// `all`, `upcoming`, `overdue` or `unknown`.
    pub show: String,
    pub count: usize,
    pub deadlines: Vec<DeadlineRow>,
    pub summary: DeadlinesSummary,
}

/// The deadlines counted: overdue, due soon, unknown; by article and by state.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlinesSummary {
    pub overdue: usize,
    pub states_overdue: usize,
    pub due_within_24_months: usize,
    /// The last day of "due soon".
    pub due_soon_until: Date,
    pub unknown: usize,
    pub by_article: Vec<ArticleCounts>,
    pub by_state: Vec<StateDeadlineCounts>,
    pub unknown_groups: Vec<UnknownGroup>,
    pub art5: Art5Summary,
    /// States Parties whose Art. 5 deadline passed with nothing recorded since, by code.
    pub art5_deadline_passed_nothing_since: Vec<String>,
}

/// The deadlines of one article, counted.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleCounts {
    pub article: &'static str,
    pub deadlines: usize,
    pub overdue: usize,
    pub due_soon: usize,
    pub done: usize,
    pub in_progress: usize,
    pub unknown: usize,
    pub states_overdue: usize,
    pub states_unknown: usize,
}

/// One state's deadlines overdue and due soon (in progress).
#[derive(Debug, Clone, Serialize)]
pub struct StateDeadlineCounts {
    pub code: String,
    pub overdue: usize,
    pub due_soon: usize,
}

/// Unknown deadlines of one article sharing what is (not) recorded.
#[derive(Debug, Clone, Serialize)]
pub struct UnknownGroup {
    pub article: &'static str,
    /// What is (not) recorded, as the engine says it.
    pub explanation: String,
    pub states: usize,
    pub deadlines: usize,
    pub passed: usize,
    pub codes: Vec<String>,
}
