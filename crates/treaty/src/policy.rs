//! National policies as matrices over the eight activities of Art. 1: which instrument is in
//! force for each activity on a date, diffs between two policies, alignment with the treaty,
//! and whether a policy permits using a given device.

use crate::classify::Device;
use crate::engine::Engine;
use crate::reason::Reason;
use minewatch_domain::fact::{Activity, PolicyInstrument, Provision, Stance};
use minewatch_domain::{Citation, Date, Fact, PartialDate, Payload};
use serde::Serialize;
use std::collections::BTreeSet;

/// A policy instrument as recorded: the fact's subject, date (adoption) and citations.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PolicyRecord {
    pub fact_id: i64,
    pub subject: String,
    pub adopted: Option<PartialDate>,
    pub citations: Vec<Citation>,
    pub instrument: PolicyInstrument,
}

impl PolicyRecord {
    /// The record of a `policy_instrument` fact (`None` for other kinds).
    pub fn from_fact(f: &Fact) -> Option<PolicyRecord> {
        match &f.payload {
            Payload::PolicyInstrument(p) => Some(PolicyRecord {
                fact_id: f.id,
                subject: f.subject.clone(),
                adopted: f.valid_from,
                citations: f.citations.clone(),
                instrument: p.clone(),
            }),
            _ => None,
        }
    }

    fn reason(&self, article: &'static str, text: impl Into<String>) -> Reason {
        Reason::new(article, text).with_cited(self.fact_id, &self.citations)
    }

    fn provision(&self, a: Activity) -> Option<&Provision> {
        self.instrument
            .provisions
            .iter()
            .find(|p| p.activity == a && p.stance != Stance::NotAddressed)
    }

    fn adopted_words(&self) -> String {
        self.adopted
            .map(|d| d.long())
            .unwrap_or_else(|| "an unrecorded date".into())
    }
}

impl Engine {
    /// Every policy instrument in the record.
    pub fn policy_records(&self) -> Vec<PolicyRecord> {
        self.policies
            .iter()
            .filter_map(|&i| PolicyRecord::from_fact(self.fact(i)))
            .collect()
    }
}

/// The order of stances from strictest to most permissive (`None` for not_addressed):
/// prohibited < prohibited_with_exceptions < capped < permitted_with_conditions < permitted.
pub fn stance_rank(s: Stance) -> Option<u8> {
    match s {
        Stance::Prohibited => Some(0),
        Stance::ProhibitedWithExceptions => Some(1),
        Stance::Capped => Some(2),
        Stance::PermittedWithConditions => Some(3),
        Stance::Permitted => Some(4),
        Stance::NotAddressed => None,
    }
}

fn restrictive(s: Stance) -> bool {
    matches!(
        s,
        Stance::Prohibited | Stance::ProhibitedWithExceptions | Stance::Capped
    )
}

/// Which mines a provision's `mine_scope` text covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MineScope {
    /// All anti-personnel mines (also when no scope is given).
    All,
    /// Persistent ("dumb", non-self-destructing) mines only.
    Persistent,
    /// Non-persistent (self-destructing or self-deactivating) mines only.
    NonPersistent,
    /// A scope the engine cannot place.
    Other,
}

impl MineScope {
    /// Reads a `mine_scope` text ("non-persistent mines only", "persistent mines (antipersonnel
    /// and antivehicle)", "non-self-destructing mines", "all antipersonnel mines").
    pub fn of(text: Option<&str>) -> MineScope {
        let Some(t) = text else { return MineScope::All };
        let t = t.to_lowercase();
        if t.contains("non-persistent")
            || t.contains("non persistent")
            || t.contains("nonpersistent")
        {
            MineScope::NonPersistent
        } else if t.contains("non-self-destruct") || t.contains("persistent") {
            MineScope::Persistent
        } else if t.contains("self-destruct") || t.contains("self-deactivat") {
            MineScope::NonPersistent
        } else if t.starts_with("all") || t.trim().is_empty() {
            MineScope::All
        } else {
            MineScope::Other
        }
    }

    /// Strictly broader than `other`?
    fn broader_than(self, other: MineScope) -> bool {
        self == MineScope::All && matches!(other, MineScope::Persistent | MineScope::NonPersistent)
    }

    fn covers(self, device: &Device) -> bool {
        match self {
            MineScope::All | MineScope::Other => true,
            MineScope::Persistent => device.persistent(),
            MineScope::NonPersistent => !device.persistent(),
        }
    }
}

/// How one activity's provision changed between two policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Unchanged,
    /// Stricter stance, or the same restriction over more mines (or fewer mines permitted).
    Tightened,
    /// More permissive stance, or the same restriction over fewer mines (or more mines permitted).
    Loosened,
    /// Addressed only by the second.
    Added,
    /// Addressed only by the first.
    Removed,
    /// Same stance, different geography, authority or start year (neither stricter nor looser
    /// as such: read the scopes).
    ChangedScope,
    /// Addressed by neither.
    NotAddressed,
}

/// One row of a diff.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActivityDiff {
    pub activity: Activity,
    pub change: Change,
    pub from: Option<Provision>,
    pub to: Option<Provision>,
    /// The instruments the two provisions come from.
    pub from_policy: Option<String>,
    pub to_policy: Option<String>,
    pub summary: String,
    pub reasons: Vec<Reason>,
}

/// A diff of two policies, one row per activity of Art. 1.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PolicyDiff {
    pub from: String,
    pub to: String,
    pub activities: Vec<ActivityDiff>,
    /// Activities whose provision changed, and those that did not (seed 003's "what changed and
    /// what did not").
    pub changed: Vec<Activity>,
    pub unchanged: Vec<Activity>,
}

fn describe(p: &Provision) -> String {
    let mut parts = vec![p.stance.as_str().to_string()];
    for x in [&p.mine_scope, &p.geography, &p.authority]
        .into_iter()
        .flatten()
    {
        parts.push(x.clone());
    }
    if let Some(y) = p.effective_from {
        parts.push(format!("from {y}"));
    }
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        let head = parts.remove(0);
        format!("{head} ({})", parts.join("; "))
    }
}

const ART1: &str = "Art. 1(1)";

fn diff_cell(
    activity: Activity,
    from: Option<(&Provision, &str)>,
    to: Option<(&Provision, &str)>,
    mut reasons: Vec<Reason>,
) -> ActivityDiff {
    let a = activity.as_str();
    let (change, summary) = match (from, to) {
        (None, None) => (Change::NotAddressed, format!("{a}: addressed by neither")),
        (None, Some((p, id))) => (
            Change::Added,
            format!("{a}: not addressed, then {} ({id})", describe(p)),
        ),
        (Some((p, id)), None) => (
            Change::Removed,
            format!("{a}: {} ({id}), then not addressed", describe(p)),
        ),
        (Some((f, fid)), Some((t, tid))) => compare_provisions(a, (f, fid), (t, tid)),
    };
    reasons.push(Reason::new(
        ART1,
        format!(
            "{summary} (stances ordered prohibited < prohibited_with_exceptions < capped < permitted_with_conditions < permitted)"
        ),
    ));
    ActivityDiff {
        activity,
        change,
        from: from.map(|(p, _)| p.clone()),
        to: to.map(|(p, _)| p.clone()),
        from_policy: from.map(|(_, id)| id.to_string()),
        to_policy: to.map(|(_, id)| id.to_string()),
        summary,
        reasons,
    }
}

/// Classifies the change between two provisions for the same activity.
fn compare_provisions(
    a: &str,
    (f, fid): (&Provision, &str),
    (t, tid): (&Provision, &str),
) -> (Change, String) {
    let (rf, rt) = (stance_rank(f.stance), stance_rank(t.stance));
    let arrow = format!("{a}: {} ({fid}) -> {} ({tid})", describe(f), describe(t));
    let (sf, st) = (
        MineScope::of(f.mine_scope.as_deref()),
        MineScope::of(t.mine_scope.as_deref()),
    );
    // Does the change of mine types tighten? Comparable only when both stances restrict or both
    // permit: more mines under a restriction (or fewer under a permission) is stricter.
    let scope_tightens = if restrictive(f.stance) == restrictive(t.stance) {
        if st.broader_than(sf) {
            Some(restrictive(f.stance))
        } else if sf.broader_than(st) {
            Some(!restrictive(f.stance))
        } else {
            None
        }
    } else {
        None
    };
    let more_or_fewer = if st.broader_than(sf) { "more" } else { "fewer" };
    let same_mines = f.mine_scope == t.mine_scope || (sf == st && sf != MineScope::Other);
    let other_same = f.geography == t.geography
        && f.authority == t.authority
        && f.effective_from == t.effective_from;
    if rt != rf {
        let stance_tightens = rt < rf;
        let word = if stance_tightens {
            "stricter stance"
        } else {
            "more permissive stance"
        };
        return match scope_tightens {
            Some(s) if s != stance_tightens => (
                Change::ChangedScope,
                format!("{arrow}: mixed: {word}, but over {more_or_fewer} mines"),
            ),
            _ if stance_tightens => (Change::Tightened, format!("{arrow}: {word}")),
            _ => (Change::Loosened, format!("{arrow}: {word}")),
        };
    }
    if same_mines && other_same {
        let mut note = String::new();
        if f.mine_scope != t.mine_scope {
            note.push_str(" (same mine types, different wording)");
        }
        if f.note != t.note {
            note.push_str(" (the notes differ)");
        }
        return (
            Change::Unchanged,
            format!("{a}: {} in both{note}", describe(f)),
        );
    }
    if let (Some(tightens), true) = (scope_tightens, other_same) {
        let kind = if restrictive(f.stance) {
            "restriction"
        } else {
            "permission"
        };
        let change = if tightens {
            Change::Tightened
        } else {
            Change::Loosened
        };
        return (
            change,
            format!("{arrow}: the same {kind} over {more_or_fewer} mines"),
        );
    }
    let mut diffs = Vec::new();
    if !same_mines {
        diffs.push("mine types");
    }
    if f.geography != t.geography {
        diffs.push("geography");
    }
    if f.authority != t.authority {
        diffs.push("authority");
    }
    if f.effective_from != t.effective_from {
        diffs.push("start year");
    }
    (
        Change::ChangedScope,
        format!("{arrow}: same stance, different {}", diffs.join(", ")),
    )
}

fn split(rows: &[ActivityDiff]) -> (Vec<Activity>, Vec<Activity>) {
    let changed = rows
        .iter()
        .filter(|r| !matches!(r.change, Change::Unchanged | Change::NotAddressed))
        .map(|r| r.activity)
        .collect();
    let unchanged = rows
        .iter()
        .filter(|r| matches!(r.change, Change::Unchanged | Change::NotAddressed))
        .map(|r| r.activity)
        .collect();
    (changed, unchanged)
}

/// Diffs two instruments activity by activity (a `not_addressed` provision counts as absent).
pub fn diff(a: &PolicyInstrument, b: &PolicyInstrument) -> PolicyDiff {
    fn cell(p: &PolicyInstrument, act: Activity) -> Option<&Provision> {
        p.provisions
            .iter()
            .find(|x| x.activity == act && x.stance != Stance::NotAddressed)
    }
    let activities: Vec<ActivityDiff> = Activity::ALL
        .iter()
        .map(|&act| {
            diff_cell(
                act,
                cell(a, act).map(|p| (p, a.policy_id.as_str())),
                cell(b, act).map(|p| (p, b.policy_id.as_str())),
                Vec::new(),
            )
        })
        .collect();
    let (changed, unchanged) = split(&activities);
    PolicyDiff {
        from: a.policy_id.clone(),
        to: b.policy_id.clone(),
        activities,
        changed,
        unchanged,
    }
}

/// The instrument governing one activity on a date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActivityInForce {
    pub activity: Activity,
    pub policy_id: Option<String>,
    pub instrument: Option<String>,
    pub adopted: Option<PartialDate>,
    pub provision: Option<Provision>,
    pub reasons: Vec<Reason>,
}

/// A subject's policy matrix on a date: for each activity, the instrument in force.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InForce {
    pub subject: String,
    pub on: Date,
    pub activities: Vec<ActivityInForce>,
    /// The distinct instruments that govern at least one activity, oldest first.
    pub instruments: Vec<String>,
}

/// Which instrument governs each activity on `on`: the latest instrument of `subject` adopted on
/// or before `on` that addresses the activity (a `not_addressed` provision does not), whose
/// provision has started (`effective_from` year), unless an instrument adopted by then rescinds
/// it as a whole. Ties on the adoption date go to the later recorded fact.
pub fn in_force(records: &[PolicyRecord], subject: &str, on: Date) -> InForce {
    let mine: Vec<&PolicyRecord> = records
        .iter()
        .filter(|r| r.subject == subject && r.adopted.is_some_and(|d| d.latest() <= on))
        .collect();
    // Rescissions in effect on the date: policy id -> the rescinding record.
    let rescinded_by = |id: &str| -> Option<&PolicyRecord> {
        mine.iter()
            .copied()
            .find(|r| r.instrument.rescinds.iter().any(|x| x == id))
    };
    let mut activities = Vec::new();
    for &act in Activity::ALL {
        let mut reasons = Vec::new();
        let mut candidates: Vec<(&PolicyRecord, &Provision)> = Vec::new();
        for r in &mine {
            let Some(p) = r.provision(act) else { continue };
            if let Some(by) = rescinded_by(&r.instrument.policy_id) {
                reasons.push(r.reason(
                    ART1,
                    format!(
                        "{} ({}) addressed {} but was rescinded by {} ({})",
                        r.instrument.policy_id,
                        r.adopted_words(),
                        act,
                        by.instrument.policy_id,
                        by.adopted_words()
                    ),
                ));
                continue;
            }
            if p.effective_from.is_some_and(|y| y > on.year()) {
                reasons.push(r.reason(
                    ART1,
                    format!(
                        "{} ({}) sets {} for {act} only from {}",
                        r.instrument.policy_id,
                        r.adopted_words(),
                        p.stance,
                        p.effective_from.unwrap_or_default()
                    ),
                ));
                continue;
            }
            candidates.push((r, p));
        }
        let best = candidates
            .iter()
            .max_by_key(|(r, _)| (r.adopted.map(|d| d.latest()), r.fact_id))
            .copied();
        let row = match best {
            Some((r, p)) => {
                let superseded: Vec<String> = candidates
                    .iter()
                    .filter(|(o, _)| o.fact_id != r.fact_id)
                    .map(|(o, _)| o.instrument.policy_id.clone())
                    .collect();
                let mut text = format!(
                    "{act} governed by {} ({}, adopted {}): {}; the latest instrument on or before {} that addresses it",
                    r.instrument.policy_id,
                    r.instrument.instrument,
                    r.adopted_words(),
                    describe(p),
                    on.long()
                );
                if !superseded.is_empty() {
                    text.push_str(&format!(
                        " (supersedes {} for {act})",
                        superseded.join(", ")
                    ));
                }
                reasons.push(r.reason(ART1, text));
                ActivityInForce {
                    activity: act,
                    policy_id: Some(r.instrument.policy_id.clone()),
                    instrument: Some(r.instrument.instrument.clone()),
                    adopted: r.adopted,
                    provision: Some(p.clone()),
                    reasons,
                }
            }
            None => {
                reasons.push(Reason::new(
                    ART1,
                    format!("no instrument in force on {} addresses {act}", on.long()),
                ));
                ActivityInForce {
                    activity: act,
                    policy_id: None,
                    instrument: None,
                    adopted: None,
                    provision: None,
                    reasons,
                }
            }
        };
        activities.push(row);
    }
    let mut seen = BTreeSet::new();
    let mut ids: Vec<(Option<Date>, String)> = Vec::new();
    for a in &activities {
        if let Some(id) = &a.policy_id {
            if seen.insert(id.clone()) {
                ids.push((a.adopted.map(|d| d.latest()), id.clone()));
            }
        }
    }
    ids.sort();
    InForce {
        subject: subject.to_string(),
        on,
        activities,
        instruments: ids.into_iter().map(|(_, id)| id).collect(),
    }
}

/// A diff of the policy matrices in force on two dates.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InForceDiff {
    pub subject: String,
    pub from: Date,
    pub to: Date,
    pub activities: Vec<ActivityDiff>,
    pub changed: Vec<Activity>,
    pub unchanged: Vec<Activity>,
}

/// What changed and what did not between the policies in force on `from` and on `to`.
pub fn compare_in_force(
    records: &[PolicyRecord],
    subject: &str,
    from: Date,
    to: Date,
) -> InForceDiff {
    let a = in_force(records, subject, from);
    let b = in_force(records, subject, to);
    let activities: Vec<ActivityDiff> = a
        .activities
        .iter()
        .zip(&b.activities)
        .map(|(x, y)| {
            let reasons: Vec<Reason> = x
                .reasons
                .iter()
                .rev()
                .take(1)
                .chain(y.reasons.iter().rev().take(1))
                .cloned()
                .collect();
            diff_cell(
                x.activity,
                x.provision.as_ref().zip(x.policy_id.as_deref()),
                y.provision.as_ref().zip(y.policy_id.as_deref()),
                reasons,
            )
        })
        .collect();
    let (changed, unchanged) = split(&activities);
    InForceDiff {
        subject: subject.to_string(),
        from,
        to,
        activities,
        changed,
        unchanged,
    }
}

/// How a provision compares with the treaty (which prohibits all eight activities, for all
/// anti-personnel mines, everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    Aligned,
    Partial,
    NotAligned,
    NotAddressed,
}

/// One activity's alignment with Art. 1.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlignmentRow {
    pub activity: Activity,
    pub stance: Stance,
    pub alignment: Alignment,
    pub reasons: Vec<Reason>,
}

fn align(activity: Activity, p: Option<&Provision>) -> AlignmentRow {
    let a = activity.as_str();
    let Some(p) = p else {
        return AlignmentRow {
            activity,
            stance: Stance::NotAddressed,
            alignment: Alignment::NotAddressed,
            reasons: vec![Reason::new(
                ART1,
                format!("{a}: the treaty prohibits it; the policy does not address it"),
            )],
        };
    };
    let scope = MineScope::of(p.mine_scope.as_deref());
    let global = p
        .geography
        .as_deref()
        .is_none_or(|g| g.eq_ignore_ascii_case("global"));
    let (alignment, text) = match p.stance {
        Stance::Prohibited if scope == MineScope::All && global => (
            Alignment::Aligned,
            format!("{a}: prohibited for all anti-personnel mines everywhere, as the treaty"),
        ),
        Stance::Prohibited => (
            Alignment::Partial,
            format!("{a}: prohibited, but only for {}", describe(p)),
        ),
        Stance::ProhibitedWithExceptions => {
            let art3 = if matches!(
                activity,
                Activity::Retain | Activity::Transfer | Activity::Stockpile
            ) {
                " (the treaty itself allows retention for training and transfer for destruction, Art. 3: compare the exceptions)"
            } else {
                ""
            };
            (
                Alignment::Partial,
                format!("{a}: prohibited with exceptions: {}{art3}", describe(p)),
            )
        }
        Stance::Capped | Stance::PermittedWithConditions | Stance::Permitted => (
            Alignment::NotAligned,
            format!("{a}: {}; the treaty prohibits it", describe(p)),
        ),
        Stance::NotAddressed => (Alignment::NotAddressed, format!("{a}: not addressed")),
    };
    AlignmentRow {
        activity,
        stance: p.stance,
        alignment,
        reasons: vec![Reason::new(ART1, text)],
    }
}

/// Alignment of an instrument with the treaty, per activity (Art. 1(1)).
pub fn alignment(p: &PolicyInstrument) -> Vec<AlignmentRow> {
    Activity::ALL
        .iter()
        .map(|&a| {
            align(
                a,
                p.provisions
                    .iter()
                    .find(|x| x.activity == a && x.stance != Stance::NotAddressed),
            )
        })
        .collect()
}

/// Alignment of the policy matrix in force on a date, per activity (Art. 1(1)).
pub fn alignment_in_force(f: &InForce) -> Vec<AlignmentRow> {
    f.activities
        .iter()
        .map(|x| {
            let mut row = align(x.activity, x.provision.as_ref());
            if let Some(id) = &x.policy_id {
                row.reasons[0].text.push_str(&format!(" [{id}]"));
            }
            row
        })
        .collect()
}

/// Whether a policy permits using a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsePermission {
    Permitted,
    PermittedWithConditions,
    /// Prohibited except where the provision's exceptions apply (listed as conditions).
    ProhibitedWithExceptions,
    Prohibited,
    /// The provision restricts other mines; this device falls outside it.
    NotRestricted,
    /// The instrument does not govern use on the date.
    NotAddressed,
}

/// One instrument's answer for a device.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PolicyVerdict {
    pub subject: String,
    pub policy_id: String,
    pub instrument: String,
    pub adopted: Option<PartialDate>,
    /// This instrument's provision is the one in force for use on the date.
    pub governs_use: bool,
    pub use_permitted: UsePermission,
    pub conditions: Vec<String>,
    pub reasons: Vec<Reason>,
}

/// The answers of every instrument in force on a date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PolicyVerdicts {
    pub on: Date,
    pub verdicts: Vec<PolicyVerdict>,
}

fn evaluate_use(
    p: &Provision,
    device: &Device,
    apm: bool,
    r: &PolicyRecord,
) -> (UsePermission, Vec<String>, Vec<Reason>) {
    let id = &r.instrument.policy_id;
    let scope_text = p
        .mine_scope
        .clone()
        .unwrap_or_else(|| "all anti-personnel mines".into());
    let scope = MineScope::of(p.mine_scope.as_deref());
    let lower = scope_text.to_lowercase();
    let covers_vehicle = lower.contains("antivehicle") || lower.contains("anti-vehicle");
    let mut reasons = Vec::new();
    let mut conditions = Vec::new();
    let persistence = if device.persistent() {
        "persistent (neither self-destructing nor self-deactivating)"
    } else {
        "non-persistent (self-destructing or self-deactivating)"
    };
    reasons.push(r.reason(ART1, format!("{id} on use: {}", describe(p))));
    if !apm && !covers_vehicle {
        reasons.push(Reason::new(
            "Art. 2(1)",
            format!("the provision concerns anti-personnel mines; this device is not one under Art. 2, so {id} does not restrict it"),
        ));
        return (UsePermission::NotRestricted, conditions, reasons);
    }
    let in_scope = scope.covers(device);
    reasons.push(Reason::new(
        ART1,
        format!(
            "the device is {persistence}; the provision's scope \"{scope_text}\" {} it",
            if in_scope { "covers" } else { "does not cover" }
        ),
    ));
    if let Some(a) = &p.authority {
        conditions.push(format!("authorised by: {a}"));
    }
    if let Some(n) = &p.note {
        conditions.push(n.clone());
    }
    let permission = match p.stance {
        Stance::Prohibited if in_scope => UsePermission::Prohibited,
        Stance::ProhibitedWithExceptions if in_scope => {
            if let Some(g) = &p.geography {
                conditions.insert(0, format!("prohibition applies: {g}"));
            }
            UsePermission::ProhibitedWithExceptions
        }
        Stance::Prohibited | Stance::ProhibitedWithExceptions | Stance::Capped => {
            UsePermission::NotRestricted
        }
        Stance::PermittedWithConditions | Stance::Permitted if !in_scope => {
            if lower.contains("only") {
                reasons.push(Reason::new(
                    ART1,
                    format!("{id} permits use of {scope_text}: this device is not permitted"),
                ));
                UsePermission::Prohibited
            } else {
                UsePermission::NotRestricted
            }
        }
        Stance::PermittedWithConditions => {
            if let Some(g) = &p.geography {
                conditions.insert(0, format!("where: {g}"));
            }
            UsePermission::PermittedWithConditions
        }
        Stance::Permitted => UsePermission::Permitted,
        Stance::NotAddressed => UsePermission::NotAddressed,
    };
    (permission, conditions, reasons)
}

/// For each instrument in force on `on` (any subject), is use of the device permitted?
pub(crate) fn policy_verdicts(
    device: &Device,
    apm: bool,
    records: &[PolicyRecord],
    on: Date,
) -> PolicyVerdicts {
    let subjects: BTreeSet<&str> = records.iter().map(|r| r.subject.as_str()).collect();
    let mut verdicts = Vec::new();
    for subject in subjects {
        let f = in_force(records, subject, on);
        let use_row = f.activities.iter().find(|a| a.activity == Activity::Use);
        let governing = use_row.and_then(|u| u.policy_id.clone());
        for id in &f.instruments {
            let Some(r) = records
                .iter()
                .filter(|r| r.subject == subject && &r.instrument.policy_id == id)
                .max_by_key(|r| r.fact_id)
            else {
                continue;
            };
            let governs = governing.as_deref() == Some(id.as_str());
            let (use_permitted, conditions, reasons) =
                match (governs, use_row.and_then(|u| u.provision.as_ref())) {
                    (true, Some(p)) => evaluate_use(p, device, apm, r),
                    _ => {
                        let text = match &governing {
                            Some(g) => {
                                format!("{id} does not govern use on {}; {g} does", on.long())
                            }
                            None => format!(
                                "{id} does not govern use on {}; no instrument in force does",
                                on.long()
                            ),
                        };
                        (
                            UsePermission::NotAddressed,
                            Vec::new(),
                            vec![r.reason(ART1, text)],
                        )
                    }
                };
            verdicts.push(PolicyVerdict {
                subject: subject.to_string(),
                policy_id: id.clone(),
                instrument: r.instrument.instrument.clone(),
                adopted: r.adopted,
                governs_use: governs,
                use_permitted,
                conditions,
                reasons,
            });
        }
    }
    PolicyVerdicts { on, verdicts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mine_scopes_of_the_us_policy_texts() {
        let of = |s: &str| MineScope::of(Some(s));
        assert_eq!(of("all antipersonnel mines"), MineScope::All);
        assert_eq!(of("non-self-destructing mines"), MineScope::Persistent);
        assert_eq!(
            of("persistent mines (antipersonnel and antivehicle)"),
            MineScope::Persistent
        );
        assert_eq!(of("persistent mines"), MineScope::Persistent);
        assert_eq!(of("non-persistent mines"), MineScope::NonPersistent);
        assert_eq!(of("non-persistent mines only"), MineScope::NonPersistent);
        assert_eq!(of("self-destructing mines"), MineScope::NonPersistent);
        assert_eq!(of("claymores"), MineScope::Other);
        assert_eq!(MineScope::of(None), MineScope::All);
        assert!(MineScope::All.broader_than(MineScope::Persistent));
        assert!(!MineScope::Persistent.broader_than(MineScope::NonPersistent));
    }

    #[test]
    fn stance_order() {
        let ranks: Vec<Option<u8>> = Stance::ALL.iter().map(|s| stance_rank(*s)).collect();
        assert_eq!(
            ranks,
            vec![Some(0), Some(1), Some(2), Some(3), Some(4), None]
        );
    }
}
