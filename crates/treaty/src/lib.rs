//! The minewatch treaty engine: the Mine Ban Treaty's rules as pure functions of dated,
//! sourced facts. No IO: plain values in, plain values out.
//!
//! - [`Engine`]: facts indexed once; then, for any date, [`Engine::status`] (Arts. 15-20 with
//!   deadlines, obligations and findings), [`Engine::parties`] and [`Engine::counts`],
//!   [`Engine::parties_series`], [`Engine::deadlines`], and the UN General Assembly record
//!   ([`Engine::unga_tallies`], [`Engine::unga_record`], [`Engine::unga_anomalies`]).
//! - [`classify()`]: a device under Art. 2, CCW Amended Protocol II, national policies in force
//!   and alternative [`Definition`]s read from files.
//! - [`policy`]: policy matrices over the eight activities of Art. 1: instrument in force,
//!   diffs, alignment with the treaty.
//!
//! Every derived value carries [`Reason`]s: the computation in words, the article, the fact
//! ids and their citations.

pub mod art5;
pub mod classify;
pub mod counts;
pub mod definitions;
mod engine;
mod findings;
pub mod meetings;
pub mod obligations;
pub mod policy;
mod reason;
mod status;
pub mod unga;

pub use art5::{Art5History, Art5State, Art5Step, Extension};
pub use classify::{
    classify, classify_apii, classify_apmbc, Activation, ApiiVerdict, ApmbcVerdict, Classification,
    Delivery, DeliveryMode, Device, DeviceError, Mechanism, Target,
};
pub use counts::{Basis, CodeList, Counts, DeadlineRow, Parties, SeriesPoint};
pub use definitions::{
    shipped_definitions, Definition, DefinitionError, DefinitionVerdict, SHIPPED_DEFINITIONS,
};
pub use engine::{depositary_fortieth_deposit, entry_into_force, Engine};
pub use findings::{Finding, FindingKind};
pub use meetings::{Attendance, MeetingDates, MeetingDecision, MeetingInfo};
pub use obligations::{
    art4_due, art5_due, art7_annual_due, art7_initial_due, Deadlines, Obligation, ObligationState,
};
pub use policy::{
    alignment, alignment_in_force, compare_in_force, diff, in_force, Alignment, AlignmentRow,
    Change, InForce, InForceDiff, PolicyDiff, PolicyRecord, PolicyVerdict, PolicyVerdicts,
    UsePermission,
};
pub use reason::Reason;
pub use status::{Status, StatusReport};
pub use unga::{RecordedVote, RollCallTally, VoteCounts, VotingRecord};
