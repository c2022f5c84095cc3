//! Fact kinds and their typed payloads.
//!
//! A fact is a sourced, dated claim about a subject. Its *kind* names the shape of its payload;
//! the payload is stored as JSON next to the kind and read back with [`Payload::from_stored`],
//! which is total: an unknown kind or a payload that does not fit its kind is an error, never a
//! panic.

use crate::date::PartialDate;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and displayed word.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the stored word (exact, lower case).
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted words, for error messages ("one of: a, b, c").
            pub fn expected() -> String {
                [$($text),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// The kind of a fact: names the shape of its payload.
    FactKind {
        TreatyAction => "treaty_action",
        ArmedConflict => "armed_conflict",
        Art5Event => "art5_event",
        Art4Event => "art4_event",
        Art7Report => "art7_report",
        Legislation => "legislation",
        UngaRollCall => "unga_roll_call",
        UngaVote => "unga_vote",
        MeetingParticipation => "meeting_participation",
        MineActivity => "mine_activity",
        StockpileCount => "stockpile_count",
        PolicyInstrument => "policy_instrument",
        HeadlineFigure => "headline_figure",
        Development => "development",
        Retraction => "retraction",
        Meeting => "meeting",
        CasualtyFigure => "casualty_figure",
    }
);

string_enum!(
    /// What a state did with respect to the treaty (Arts. 15-20).
    TreatyActionType {
        Signature => "signature",
        Deposit => "deposit",
        WithdrawalNotice => "withdrawal_notice",
        ProvisionalApplication => "provisional_application",
        SuspensionDeclaration => "suspension_declaration",
    }
);

string_enum!(
    /// How a state expressed its consent to be bound (Art. 16).
    DepositMethod {
        Ratification => "ratification",
        Acceptance => "acceptance",
        Approval => "approval",
        Accession => "accession",
        Succession => "succession",
    }
);

string_enum!(
    /// Steps in the Article 5 (clearance) story of a state.
    Art5EventType {
        ExtensionRequested => "extension_requested",
        ExtensionGranted => "extension_granted",
        DeadlineMissed => "deadline_missed",
        CompletionDeclared => "completion_declared",
        NewContaminationReported => "new_contamination_reported",
        ObligationReinstated => "obligation_reinstated",
        DeadlineReported => "deadline_reported",
    }
);

string_enum!(
    /// Steps in the Article 4 (stockpile destruction) story of a state.
    Art4EventType {
        Completed => "completed",
        DeadlineMissed => "deadline_missed",
        NoStockpileDeclared => "no_stockpile_declared",
        StockpileReported => "stockpile_reported",
    }
);

string_enum!(
    /// A recorded vote. `non_voting`: a Member State present in the roll call's records that did
    /// not vote (the UN Digital Library's `X`); it counts as none of yes, no or abstain.
    Vote {
        Yes => "yes",
        No => "no",
        Abstain => "abstain",
        NonVoting => "non_voting",
    }
);

impl Vote {
    /// The word a page shows: the stored word, with "non-voting" for `non_voting`.
    pub fn label(self) -> &'static str {
        match self {
            Vote::NonVoting => "non-voting",
            v => v.as_str(),
        }
    }
}

string_enum!(
    /// How a state took part in a meeting of the treaty.
    MeetingRole {
        Party => "party",
        Observer => "observer",
        NotAttended => "not_attended",
    }
);

string_enum!(
    /// The activities of Art. 1 that a use/production/transfer event can record.
    MineActivityType {
        Use => "use",
        Production => "production",
        Transfer => "transfer",
    }
);

string_enum!(
    /// How sure the source is (the Monitor distinguishes confirmed use from allegations).
    Certainty {
        Confirmed => "confirmed",
        Alleged => "alleged",
        Indications => "indications",
        Unconfirmed => "unconfirmed",
    }
);

impl Certainty {
    /// The word before "use" in a sentence ("alleged use", "indicated use").
    pub fn adjective(self) -> &'static str {
        match self {
            Certainty::Confirmed => "confirmed",
            Certainty::Alleged => "alleged",
            Certainty::Indications => "indicated",
            Certainty::Unconfirmed => "unconfirmed",
        }
    }
}

string_enum!(
    /// Who an activity is attributed to: a state's forces, a non-state armed group, or nobody
    /// the source names.
    ActorType {
        State => "state",
        NonStateArmedGroup => "non_state_armed_group",
        Unattributed => "unattributed",
    }
);

string_enum!(
    /// The eight activities prohibited by Art. 1 of the Mine Ban Treaty.
    Activity {
        Use => "use",
        Develop => "develop",
        Produce => "produce",
        Acquire => "acquire",
        Stockpile => "stockpile",
        Retain => "retain",
        Transfer => "transfer",
        Assist => "assist",
    }
);

string_enum!(
    /// A policy's stance on one activity.
    Stance {
        Prohibited => "prohibited",
        ProhibitedWithExceptions => "prohibited_with_exceptions",
        Capped => "capped",
        PermittedWithConditions => "permitted_with_conditions",
        Permitted => "permitted",
        NotAddressed => "not_addressed",
    }
);

string_enum!(
    /// What a stockpile count measures.
    StockpileMeasure {
        Total => "total",
        Remaining => "remaining",
        Retained => "retained",
        Destroyed => "destroyed",
    }
);

/// A signature, deposit, withdrawal notice, provisional application or "suspension" declaration.
/// The fact's date is the date of the act (for a withdrawal notice: when the depositary received it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatyAction {
    pub action: TreatyActionType,
    /// Required for a deposit, absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<DepositMethod>,
    /// True when the date was inferred (for example from a reported effective date).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub date_inferred: bool,
    /// Deposits by succession: the date of State succession from which the depositary dates the
    /// treaty's effect (South Sudan: 9 July 2011, although it deposited on 11 November 2011).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succession_date: Option<PartialDate>,
    /// Deposits by succession: the source dates entry into force like an accession's (first day
    /// of the sixth month after the deposit, as the Monitor does for Montenegro) rather than
    /// from the date of succession.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dated_as_accession: bool,
}

/// A period in which the subject was engaged in armed conflict (matters for Art. 20(3)).
/// The period is the fact's validity (`valid_from`..`valid_to`, open-ended while ongoing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArmedConflict {
    pub description: String,
}

/// An Article 5 event: extension requested or granted, deadline missed, completion declared,
/// new contamination, obligation reinstated, or a source's statement of the deadline in force.
/// A grant's date is the decision's (or, when a source names only the meeting, the meeting's
/// closing day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Art5Event {
    pub event: Art5EventType,
    /// The meeting that decided (grants, completions) or heard it: `12MSP`, `2RC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<String>,
    /// The meeting or date was deduced by the compiler of the data, not stated by the source.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<PartialDate>,
    /// The deadline an extension request asks for or a grant sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_deadline: Option<PartialDate>,
}

/// An Article 4 event: stockpile destruction completed or deadline missed, or no stockpile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Art4Event {
    pub event: Art4EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroyed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained: Option<u64>,
    /// Mines in the stockpile as reported (stockpile_reported) or remaining at a missed deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stockpile: Option<u64>,
}

/// An Article 7 transparency report. The fact's date is the submission date.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Art7Report {
    /// True for the initial report (Art. 7.1); false for an annual update (Art. 7.2).
    #[serde(default)]
    pub initial: bool,
    /// The calendar year an annual update covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_covered: Option<i32>,
    /// True when a source states that this report had *not* been submitted by the fact's date
    /// (a recorded non-submission; the absence of a report fact is never read as one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_submitted: bool,
    /// The source's words ("not submitted by 18 Jun 2015", "submitted 30 Apr 2021").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wording: Option<String>,
}

/// National implementing legislation (Art. 9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Legislation {
    pub title: String,
    /// "adopted", "in_progress", "existing_law_deemed_sufficient", ...
    pub status: String,
}

/// A recorded UN General Assembly vote (roll call) on a resolution. Subject: `WLD`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UngaRollCall {
    pub rcid: u32,
    pub session: u32,
    pub resolution: String,
    /// The topic, e.g. "apmbc_implementation".
    pub topic: String,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Member States recorded as not voting, when the source publishes that total (the UN
    /// Digital Library's `total_non_voting`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_voting: Option<u32>,
    /// The number of Member States on the day, when the source publishes it (`total_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
    /// The UN Digital Library's record number of the vote (`undl_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undl_id: Option<u32>,
    /// Where the source publishes the vote (`undl_link`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One state's vote in a roll call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UngaVote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcid: Option<u32>,
    pub resolution: String,
    pub vote: Vote,
    /// The state's name as the source wrote it, when it differs from the display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_in_source: Option<String>,
}

/// Participation in a meeting of the treaty (Arts. 11-12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingParticipation {
    pub meeting: String,
    pub role: MeetingRole,
}

/// Use, production or transfer of anti-personnel mines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MineActivity {
    pub activity: MineActivityType,
    /// Who did it, when not the subject itself (an armed group, another state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub certainty: Certainty,
    /// True when the source states this was the last known instance.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last_known: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    /// What happened, in the source's words (for the Monitor's use reports: its wording).
    pub detail: String,
    /// Whose act it is: a state's forces, a non-state armed group, or unattributed. Only an act
    /// of the subject's own state (`actor_type` state and `actor_state` the subject) is the
    /// subject's act; absent on older facts, where `actor` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_type: Option<ActorType>,
    /// The state whose forces acted (alpha-3), when the source names one minewatch can resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_state: Option<String>,
    /// The report edition that recorded it (`LM2025`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_edition: Option<String>,
    /// The reporting period as the source gives it ("mid 2023 - Oct 2024").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Where, as the source gives it ("Izium area, Ukraine"), when that is more than the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl MineActivity {
    /// Is this the act of the state `code` itself (not of an armed group or another state)?
    pub fn by_state(&self, code: &str) -> bool {
        match self.actor_type {
            Some(ActorType::State) => self
                .actor_state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(code)),
            Some(_) => false,
            None => self
                .actor
                .as_deref()
                .is_none_or(|actor| actor.eq_ignore_ascii_case(code)),
        }
    }
}

/// A stockpile count of one mine type (or of all types) at the fact's date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockpileCount {
    pub mine_type: String,
    pub measure: StockpileMeasure,
    pub quantity: u64,
}

/// One cell of a policy matrix: the stance on one Art. 1 activity and its scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    pub activity: Activity,
    pub stance: Stance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geography: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// The year the provision starts when later than the instrument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A national policy instrument (statute, presidential policy, ...) with its provisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInstrument {
    pub policy_id: String,
    pub instrument: String,
    pub provisions: Vec<Provision>,
    /// Policy ids this instrument rescinds or replaces as a whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rescinds: Vec<String>,
}

/// A headline figure of a report (Monitor casualties, area cleared, funding, ...).
/// Keyed by data year *and* report edition: editions revise earlier years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadlineFigure {
    pub metric: String,
    pub value: f64,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    pub data_year: i32,
    pub report_edition: i32,
}

/// A casualty figure of a report edition for one data year (or a span of years, cumulative):
/// subject a state or `WLD` for the global total. Keyed by data year *and* edition: a later
/// edition's revision is a second fact beside the first, never a supersession. Counts only;
/// shares (percentages) are derived from counts and their bases, never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasualtyFigure {
    /// The (last) year the figure counts.
    pub data_year: i32,
    /// The first year of a cumulative figure ("1999-2008"); absent for one year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_year: Option<i32>,
    /// The edition as the source names it: `LM2025`, `ICBL 2014`.
    pub report_edition: String,
    /// The year of the edition (publication).
    pub edition_year: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injured: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The source gives only a bound: fewer than this many ("<4000").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_less_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civilians: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<u64>,
}

impl CasualtyFigure {
    /// A cumulative figure over several years.
    pub fn cumulative(&self) -> bool {
        self.first_year.is_some_and(|f| f != self.data_year)
    }
}

/// A sourced statement that fits no narrower kind: a key development, a letter, a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Development {
    /// The profile section it belongs to: ban_policy, use, production, transfer, stockpile,
    /// meetings, unga, ccw, mine_action, ...
    pub topic: String,
    pub summary: String,
}

/// A formal meeting of the treaty: a Meeting of the States Parties (`12MSP`, Art. 11) or a
/// Review Conference (`2RC`, Art. 12). Subject `WLD`; the fact's period is the meeting's
/// (`valid_from`..`valid_to`). Sources that disagree on the dates are two facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// Is `code` a meeting code: a number and `MSP` or `RC` (`12MSP`, `2RC`)?
pub fn is_meeting_code(code: &str) -> bool {
    let digits = code.bytes().take_while(u8::is_ascii_digit).count();
    (1..=3).contains(&digits) && matches!(&code[digits..], "MSP" | "RC")
}

/// Withdraws a fact from the record's current view (the fact stays in history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    pub reason: String,
}

/// The typed payload of a fact.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    TreatyAction(TreatyAction),
    ArmedConflict(ArmedConflict),
    Art5Event(Art5Event),
    Art4Event(Art4Event),
    Art7Report(Art7Report),
    Legislation(Legislation),
    UngaRollCall(UngaRollCall),
    UngaVote(UngaVote),
    MeetingParticipation(MeetingParticipation),
    MineActivity(MineActivity),
    StockpileCount(StockpileCount),
    PolicyInstrument(PolicyInstrument),
    HeadlineFigure(HeadlineFigure),
    Development(Development),
    Retraction(Retraction),
    Meeting(Meeting),
    CasualtyFigure(CasualtyFigure),
}

/// Why a stored or supplied payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    UnknownKind(String),
    Malformed { kind: FactKind, message: String },
    Invalid { kind: FactKind, message: String },
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::UnknownKind(k) => write!(
                f,
                "unknown fact kind {k:?}; expected one of: {}",
                FactKind::expected()
            ),
            PayloadError::Malformed { kind, message } => {
                write!(f, "payload does not fit kind {kind}: {message}")
            }
            PayloadError::Invalid { kind, message } => {
                write!(f, "invalid {kind} payload: {message}")
            }
        }
    }
}

impl std::error::Error for PayloadError {}

impl Payload {
    pub fn kind(&self) -> FactKind {
        match self {
            Payload::TreatyAction(_) => FactKind::TreatyAction,
            Payload::ArmedConflict(_) => FactKind::ArmedConflict,
            Payload::Art5Event(_) => FactKind::Art5Event,
            Payload::Art4Event(_) => FactKind::Art4Event,
            Payload::Art7Report(_) => FactKind::Art7Report,
            Payload::Legislation(_) => FactKind::Legislation,
            Payload::UngaRollCall(_) => FactKind::UngaRollCall,
            Payload::UngaVote(_) => FactKind::UngaVote,
            Payload::MeetingParticipation(_) => FactKind::MeetingParticipation,
            Payload::MineActivity(_) => FactKind::MineActivity,
            Payload::StockpileCount(_) => FactKind::StockpileCount,
            Payload::PolicyInstrument(_) => FactKind::PolicyInstrument,
            Payload::HeadlineFigure(_) => FactKind::HeadlineFigure,
            Payload::Development(_) => FactKind::Development,
            Payload::Retraction(_) => FactKind::Retraction,
            Payload::Meeting(_) => FactKind::Meeting,
            Payload::CasualtyFigure(_) => FactKind::CasualtyFigure,
        }
    }

    /// Reads a payload from its kind word and JSON text. Total: never panics.
    pub fn from_stored(kind: &str, json: &str) -> Result<Payload, PayloadError> {
        let kind =
            FactKind::parse(kind).ok_or_else(|| PayloadError::UnknownKind(kind.to_string()))?;
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| PayloadError::Malformed {
                kind,
                message: e.to_string(),
            })?;
        Payload::from_value(kind, value)
    }

    /// Reads a payload of a known kind from a JSON value, then checks its invariants.
    pub fn from_value(kind: FactKind, value: serde_json::Value) -> Result<Payload, PayloadError> {
        fn de<T: serde::de::DeserializeOwned>(
            kind: FactKind,
            v: serde_json::Value,
        ) -> Result<T, PayloadError> {
            serde_json::from_value(v).map_err(|e| PayloadError::Malformed {
                kind,
                message: e.to_string(),
            })
        }
        let p = match kind {
            FactKind::TreatyAction => Payload::TreatyAction(de(kind, value)?),
            FactKind::ArmedConflict => Payload::ArmedConflict(de(kind, value)?),
            FactKind::Art5Event => Payload::Art5Event(de(kind, value)?),
            FactKind::Art4Event => Payload::Art4Event(de(kind, value)?),
            FactKind::Art7Report => Payload::Art7Report(de(kind, value)?),
            FactKind::Legislation => Payload::Legislation(de(kind, value)?),
            FactKind::UngaRollCall => Payload::UngaRollCall(de(kind, value)?),
            FactKind::UngaVote => Payload::UngaVote(de(kind, value)?),
            FactKind::MeetingParticipation => Payload::MeetingParticipation(de(kind, value)?),
            FactKind::MineActivity => Payload::MineActivity(de(kind, value)?),
            FactKind::StockpileCount => Payload::StockpileCount(de(kind, value)?),
            FactKind::PolicyInstrument => Payload::PolicyInstrument(de(kind, value)?),
            FactKind::HeadlineFigure => Payload::HeadlineFigure(de(kind, value)?),
            FactKind::Development => Payload::Development(de(kind, value)?),
            FactKind::Retraction => Payload::Retraction(de(kind, value)?),
            FactKind::Meeting => Payload::Meeting(de(kind, value)?),
            FactKind::CasualtyFigure => Payload::CasualtyFigure(de(kind, value)?),
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the invariants serde cannot express.
    pub fn validate(&self) -> Result<(), PayloadError> {
        let invalid = |message: &str| {
            Err(PayloadError::Invalid {
                kind: self.kind(),
                message: message.to_string(),
            })
        };
        match self {
            Payload::TreatyAction(a)
                if (a.succession_date.is_some() || a.dated_as_accession)
                    && a.method != Some(DepositMethod::Succession) =>
            {
                invalid("succession_date and dated_as_accession belong to a deposit by succession")
            }
            Payload::TreatyAction(a) => match (a.action, a.method) {
                (TreatyActionType::Deposit, None) => invalid(&format!(
                    "a deposit needs a method ({})",
                    DepositMethod::expected()
                )),
                (TreatyActionType::Deposit, Some(_)) | (_, None) => Ok(()),
                (other, Some(_)) => invalid(&format!("a {other} has no method")),
            },
            Payload::UngaRollCall(r) if r.resolution.trim().is_empty() => {
                invalid("resolution must not be empty")
            }
            Payload::UngaVote(v) if v.resolution.trim().is_empty() => {
                invalid("resolution must not be empty")
            }
            Payload::HeadlineFigure(h) if !h.value.is_finite() => {
                invalid("value must be a finite number")
            }
            Payload::HeadlineFigure(h) if h.metric.trim().is_empty() => {
                invalid("metric must not be empty")
            }
            Payload::PolicyInstrument(p) => {
                if p.policy_id.trim().is_empty() {
                    return invalid("policy_id must not be empty");
                }
                let mut seen = Vec::new();
                for prov in &p.provisions {
                    if seen.contains(&prov.activity) {
                        return invalid(&format!(
                            "activity {} appears twice in policy {}",
                            prov.activity, p.policy_id
                        ));
                    }
                    seen.push(prov.activity);
                }
                Ok(())
            }
            Payload::CasualtyFigure(c) if c.report_edition.trim().is_empty() => {
                invalid("report_edition must not be empty")
            }
            Payload::CasualtyFigure(c) if c.data_year > c.edition_year => invalid(&format!(
                "data year {} is after the edition's year {}",
                c.data_year, c.edition_year
            )),
            Payload::CasualtyFigure(c) if c.first_year.is_some_and(|f| f > c.data_year) => {
                invalid("first_year is after data_year")
            }
            Payload::CasualtyFigure(c) if c.total.is_some() && c.total_less_than.is_some() => {
                invalid("a figure has a total or a bound (total_less_than), not both")
            }
            Payload::CasualtyFigure(CasualtyFigure {
                killed: Some(k),
                injured: Some(i),
                total: Some(t),
                ..
            }) if k.saturating_add(*i) > *t => invalid(&format!(
                "killed {k} + injured {i} is more than the total {t}"
            )),
            Payload::Development(d) if d.summary.trim().is_empty() => {
                invalid("summary must not be empty")
            }
            Payload::Meeting(m) if !is_meeting_code(&m.code) => invalid(&format!(
                "meeting code {:?} is not a meeting code; expected a number and MSP or RC (12MSP, 2RC)",
                m.code
            )),
            Payload::Art5Event(e)
                if e.meeting.as_deref().is_some_and(|m| !is_meeting_code(m)) =>
            {
                invalid(&format!(
                    "meeting {:?} is not a meeting code; expected a number and MSP or RC (12MSP, 2RC)",
                    e.meeting.as_deref().unwrap_or_default()
                ))
            }
            _ => Ok(()),
        }
    }

    /// The payload as a JSON value (the stored form).
    pub fn to_value(&self) -> serde_json::Value {
        let r = match self {
            Payload::TreatyAction(p) => serde_json::to_value(p),
            Payload::ArmedConflict(p) => serde_json::to_value(p),
            Payload::Art5Event(p) => serde_json::to_value(p),
            Payload::Art4Event(p) => serde_json::to_value(p),
            Payload::Art7Report(p) => serde_json::to_value(p),
            Payload::Legislation(p) => serde_json::to_value(p),
            Payload::UngaRollCall(p) => serde_json::to_value(p),
            Payload::UngaVote(p) => serde_json::to_value(p),
            Payload::MeetingParticipation(p) => serde_json::to_value(p),
            Payload::MineActivity(p) => serde_json::to_value(p),
            Payload::StockpileCount(p) => serde_json::to_value(p),
            Payload::PolicyInstrument(p) => serde_json::to_value(p),
            Payload::HeadlineFigure(p) => serde_json::to_value(p),
            Payload::Development(p) => serde_json::to_value(p),
            Payload::Retraction(p) => serde_json::to_value(p),
            Payload::Meeting(p) => serde_json::to_value(p),
            Payload::CasualtyFigure(p) => serde_json::to_value(p),
        };
        // Serializing these plain structs cannot fail (no maps with non-string keys).
        r.unwrap_or(serde_json::Value::Null)
    }

    /// The stored JSON text (stable key order: struct field order).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind_word() {
        for k in FactKind::ALL {
            assert_eq!(FactKind::parse(k.as_str()), Some(*k));
        }
    }

    #[test]
    fn unknown_kind_and_malformed_payload_are_errors() {
        assert!(matches!(
            Payload::from_stored("treaty_actoin", "{}"),
            Err(PayloadError::UnknownKind(_))
        ));
        assert!(matches!(
            Payload::from_stored("treaty_action", "{\"action\":\"sign\"}"),
            Err(PayloadError::Malformed { .. })
        ));
        assert!(matches!(
            Payload::from_stored("treaty_action", "not json"),
            Err(PayloadError::Malformed { .. })
        ));
        assert!(matches!(
            Payload::from_stored("treaty_action", "{\"action\":\"deposit\"}"),
            Err(PayloadError::Invalid { .. })
        ));
        assert!(matches!(
            Payload::from_stored(
                "unga_vote",
                "{\"resolution\":\"64/56\",\"vote\":\"abstain\",\"extra\":1}"
            ),
            Err(PayloadError::Malformed { .. })
        ));
    }

    #[test]
    fn a_stored_number_reads_back_exactly() {
        // Found by fuzzing (fuzz/fuzz_targets/payload.rs): this value was stored as
        // 6.666666666666666e102 and read back as 6.666666666666667e102: a payload changed when
        // it was read and written again.
        let input = r#"{"basis":"recorwar","data_year":-2016,"metric":"casualtal","report_edition":1008,"unit":"people","value":6666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666821}"#;
        let p = Payload::from_stored("headline_figure", input).expect("a headline figure");
        let stored = p.to_json();
        assert!(stored.contains("6.666666666666666e+102"), "{stored}");
        assert_eq!(Payload::from_stored("headline_figure", &stored), Ok(p));
    }

    #[test]
    fn older_use_facts_read_back_unchanged_and_keep_their_attribution() {
        // A use fact stored before actors had a type: the subject's own act unless `actor`
        // names someone else.
        let stored =
            r#"{"activity":"use","certainty":"confirmed","detail":"last use","last_known":true}"#;
        let Ok(Payload::MineActivity(a)) = Payload::from_stored("mine_activity", stored) else {
            panic!("an older use fact should read back");
        };
        assert!(a.by_state("USA"));
        assert_eq!(Payload::MineActivity(a).to_json(), stored);
        let group = r#"{"activity":"use","actor":"Russia","actor_state":"RUS","actor_type":"state","certainty":"indications","detail":"x"}"#;
        let Ok(Payload::MineActivity(a)) = Payload::from_stored("mine_activity", group) else {
            panic!("a typed use fact should read back");
        };
        assert!(a.by_state("RUS") && !a.by_state("UKR"));
        let nsag = r#"{"activity":"use","actor_type":"non_state_armed_group","certainty":"confirmed","detail":"x"}"#;
        let Ok(Payload::MineActivity(a)) = Payload::from_stored("mine_activity", nsag) else {
            panic!("an armed group's use should read back");
        };
        assert!(!a.by_state("COL"));
    }

    #[test]
    fn casualty_figures_are_checked() {
        let ok = r#"{"data_year":2024,"report_edition":"LM2025","edition_year":2025,"killed":1945,"injured":4325,"total":6279}"#;
        assert!(Payload::from_stored("casualty_figure", ok).is_ok());
        for bad in [
            r#"{"data_year":2026,"report_edition":"LM2025","edition_year":2025}"#,
            r#"{"data_year":2024,"report_edition":"LM2025","edition_year":2025,"killed":5000,"injured":4325,"total":6279}"#,
            r#"{"data_year":2012,"report_edition":"ICBL 2014","edition_year":2014,"total":10,"total_less_than":4000}"#,
            r#"{"data_year":2012,"report_edition":" ","edition_year":2014}"#,
        ] {
            assert!(
                matches!(
                    Payload::from_stored("casualty_figure", bad),
                    Err(PayloadError::Invalid { .. })
                ),
                "{bad}"
            );
        }
        // A share is not a field: percentages are derived, never stored.
        assert!(Payload::from_stored(
            "casualty_figure",
            r#"{"data_year":2024,"report_edition":"LM2025","edition_year":2025,"civilian_share":90}"#
        )
        .is_err());
    }

    #[test]
    fn stored_form_reads_back() {
        let p = Payload::TreatyAction(TreatyAction {
            action: TreatyActionType::Deposit,
            method: Some(DepositMethod::Accession),
            date_inferred: false,
            succession_date: None,
            dated_as_accession: false,
        });
        assert_eq!(p.to_json(), r#"{"action":"deposit","method":"accession"}"#);
        assert_eq!(Payload::from_stored("treaty_action", &p.to_json()), Ok(p));
    }
}
