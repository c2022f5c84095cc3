//! Mine classification: is a device an anti-personnel mine under the Mine Ban Treaty (Art. 2),
//! is its use lawful under CCW Amended Protocol II (and on what conditions), is its use permitted
//! under the national policies in force on a date, and what alternative definitions say.

use crate::definitions::{Definition, DefinitionVerdict};
use crate::policy::{policy_verdicts, PolicyRecord, PolicyVerdicts};
use crate::reason::Reason;
use minewatch_domain::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whom the device is designed to be set off by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Person,
    Vehicle,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Person, Target::Vehicle];
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Person => "person",
            Target::Vehicle => "vehicle",
        }
    }
}

/// What sets the device off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Pressure,
    PressureRelease,
    Tripwire,
    TiltRod,
    BreakWire,
    Seismic,
    Magnetic,
    Infrared,
    Acoustic,
    Proximity,
    /// Fired by an operator.
    Command,
    /// A sensor alerts an operator, who decides whether to fire.
    CommandWithSensorCue,
    /// Fires after a set time.
    Timer,
}

impl Activation {
    pub const ALL: [Activation; 13] = [
        Activation::Pressure,
        Activation::PressureRelease,
        Activation::Tripwire,
        Activation::TiltRod,
        Activation::BreakWire,
        Activation::Seismic,
        Activation::Magnetic,
        Activation::Infrared,
        Activation::Acoustic,
        Activation::Proximity,
        Activation::Command,
        Activation::CommandWithSensorCue,
        Activation::Timer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Pressure => "pressure",
            Activation::PressureRelease => "pressure_release",
            Activation::Tripwire => "tripwire",
            Activation::TiltRod => "tilt_rod",
            Activation::BreakWire => "break_wire",
            Activation::Seismic => "seismic",
            Activation::Magnetic => "magnetic",
            Activation::Infrared => "infrared",
            Activation::Acoustic => "acoustic",
            Activation::Proximity => "proximity",
            Activation::Command => "command",
            Activation::CommandWithSensorCue => "command_with_sensor_cue",
            Activation::Timer => "timer",
        }
    }

    pub fn parse(s: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Set off by its target's presence, proximity or contact (victim-activated), rather than
    /// by a person's decision or a clock.
    pub fn target_activated(self) -> bool {
        !matches!(
            self,
            Activation::Command | Activation::CommandWithSensorCue | Activation::Timer
        )
    }
}

/// How the device is laid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    HandEmplaced,
    Remote,
}

impl DeliveryMode {
    pub const ALL: [DeliveryMode; 2] = [DeliveryMode::HandEmplaced, DeliveryMode::Remote];
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::HandEmplaced => "hand_emplaced",
            DeliveryMode::Remote => "remote",
        }
    }
}

/// A self-destruction or self-deactivation mechanism: within how many days, with what
/// reliability (the fraction of mines in which it works, 0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mechanism {
    #[schema(minimum = 0)]
    pub days: f64,
    #[schema(minimum = 0, maximum = 1)]
    pub reliability: f64,
}

/// How the device is delivered; `distance_m` for remote delivery (from less than 500 m it is
/// not "remotely delivered" under CCW APII Art. 2(2)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub mode: DeliveryMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub distance_m: Option<f64>,
}

/// A device described by its characteristics (the JSON that `classify` reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Free label ("M18A1 Claymore, command mode").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub target: Target,
    pub activation: Activation,
    #[serde(default)]
    pub anti_handling_device: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_destruct: Option<Mechanism>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_deactivation: Option<Mechanism>,
    pub delivery: Delivery,
    /// Metal content detectable as grams of iron in one coherent mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub detectable_iron_equivalent_g: Option<f64>,
    /// Propels fragments in a chosen direction (Claymore type).
    #[serde(default)]
    pub directional: bool,
}

/// Why a device description was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceError(pub String);

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid device description: {}", self.0)
    }
}

impl std::error::Error for DeviceError {}

impl Device {
    /// Reads and checks a device description (unknown fields and values are errors).
    pub fn from_json(text: &str) -> Result<Device, DeviceError> {
        let d: Device = serde_json::from_str(text).map_err(|e| DeviceError(e.to_string()))?;
        d.validate()?;
        Ok(d)
    }

    /// Checks ranges serde cannot: days and grams non-negative, reliabilities within 0..=1.
    pub fn validate(&self) -> Result<(), DeviceError> {
        let check = |name: &str, m: &Option<Mechanism>| -> Result<(), DeviceError> {
            if let Some(m) = m {
                if !(m.days.is_finite() && m.days >= 0.0) {
                    return Err(DeviceError(format!(
                        "{name}.days must be a non-negative number, got {}",
                        m.days
                    )));
                }
                if !(m.reliability.is_finite() && (0.0..=1.0).contains(&m.reliability)) {
                    return Err(DeviceError(format!(
                        "{name}.reliability is the fraction of mines in which it works, from 0 to 1; got {}",
                        m.reliability
                    )));
                }
            }
            Ok(())
        };
        check("self_destruct", &self.self_destruct)?;
        check("self_deactivation", &self.self_deactivation)?;
        if let Some(g) = self.detectable_iron_equivalent_g {
            if !(g.is_finite() && g >= 0.0) {
                return Err(DeviceError(format!(
                    "detectable_iron_equivalent_g must be a non-negative number, got {g}"
                )));
            }
        }
        if let Some(m) = self.delivery.distance_m {
            if !(m.is_finite() && m >= 0.0) {
                return Err(DeviceError(format!(
                    "delivery.distance_m must be a non-negative number, got {m}"
                )));
            }
        }
        Ok(())
    }

    /// Persistent: neither self-destructs nor self-deactivates (US policy's "persistent").
    pub fn persistent(&self) -> bool {
        self.self_destruct.is_none() && self.self_deactivation.is_none()
    }

    /// Remotely delivered under CCW APII Art. 2(2): remote, and not from less than 500 m.
    pub fn remotely_delivered(&self) -> bool {
        self.delivery.mode == DeliveryMode::Remote
            && self
                .delivery
                .distance_m
                .is_none_or(|d| d >= APII_REMOTE_MIN_DISTANCE_M)
    }
}

/// CCW APII Technical Annex 2(a): at least 8 grams of iron in one coherent mass.
pub const APII_MIN_IRON_G: f64 = 8.0;
/// Technical Annex 3(a): self-destruct within 30 days of emplacement ...
pub const APII_SD_MAX_DAYS: f64 = 30.0;
/// ... with no more than 10% failing to self-destruct ...
pub const APII_SD_MIN_RELIABILITY: f64 = 0.9;
/// ... and, with back-up self-deactivation, no more than 1 in 1,000 functioning after 120 days.
pub const APII_SDA_DAYS: f64 = 120.0;
pub const APII_MAX_FUNCTIONING_AFTER_120: f64 = 0.001;
/// Art. 2(2): delivered from less than 500 m is not "remotely delivered".
pub const APII_REMOTE_MIN_DISTANCE_M: f64 = 500.0;

/// The Mine Ban Treaty's verdict (Art. 2).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApmbcVerdict {
    pub anti_personnel_mine: bool,
    pub reasons: Vec<Reason>,
}

/// CCW Amended Protocol II's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiiVerdict {
    /// An APM under APII Art. 2(3) ("primarily designed to be exploded by ... a person").
    pub anti_personnel_mine: bool,
    /// Remotely delivered under APII Art. 2(2).
    pub remotely_delivered: bool,
    /// `true`: lawful (on the conditions listed); `false`: use prohibited; `null`: cannot tell
    /// from the description (a needed characteristic is missing).
    pub lawful: Option<bool>,
    pub conditions: Vec<String>,
    pub reasons: Vec<Reason>,
}

/// Everything `classify` says about a device.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Classification {
    pub device: Device,
    pub apmbc: ApmbcVerdict,
    pub ccw_apii: ApiiVerdict,
    pub policies: PolicyVerdicts,
    pub definitions: Vec<DefinitionVerdict>,
}

/// Classifies a device under the Mine Ban Treaty, CCW APII, the policy instruments in force on
/// `on`, and each alternative definition.
pub fn classify(
    device: &Device,
    policies: &[PolicyRecord],
    on: Date,
    definitions: &[Definition],
) -> Classification {
    let apmbc = classify_apmbc(device);
    let ccw_apii = classify_apii(device);
    let policies = policy_verdicts(device, apmbc.anti_personnel_mine, policies, on);
    let definitions = definitions.iter().map(|d| d.classify(device)).collect();
    Classification {
        device: device.clone(),
        apmbc,
        ccw_apii,
        policies,
        definitions,
    }
}

const ART2: &str = "Art. 2(1)";

/// Art. 2(1): an anti-personnel mine is a mine designed to be exploded by the presence,
/// proximity or contact of a person; a vehicle mine with an anti-handling device is not one
/// merely because of that device.
pub fn classify_apmbc(d: &Device) -> ApmbcVerdict {
    let mut reasons = Vec::new();
    let a = d.activation;
    let apm = match (d.target, a) {
        (_, Activation::Command) => {
            let what = if d.directional {
                "a directional (Claymore-type) mine fired by command"
            } else {
                "a mine fired by command"
            };
            reasons.push(Reason::new(
                ART2,
                format!(
                    "{what}: a person decides when it explodes; it is not designed to be exploded by the presence, \
                     proximity or contact of a person, so it is not an anti-personnel mine (the same mine rigged with a \
                     tripwire would be)"
                ),
            ));
            false
        }
        (_, Activation::CommandWithSensorCue) => {
            reasons.push(Reason::new(
                ART2,
                "command with sensor cue: a sensor alerts an operator, and the operator decides whether to fire; the \
                 person's presence prompts a human decision but does not itself explode the mine, so it is not \
                 victim-activated and not an anti-personnel mine (a mode in which the sensor fires it automatically \
                 would be one)",
            ));
            false
        }
        (_, Activation::Timer) => {
            reasons.push(Reason::new(
                ART2,
                "fired by a timer, not by the presence, proximity or contact of a person: not an anti-personnel mine",
            ));
            false
        }
        (Target::Person, a) => {
            let how = match a {
                Activation::Seismic => "a seismic fuze fires on the vibration of footsteps: the person's presence \
                     explodes it, whatever its makers claim about telling soldiers from civilians"
                    .to_string(),
                Activation::Tripwire | Activation::BreakWire if d.directional => format!(
                    "a directional mine rigged with a {}: the person's contact fires it (victim-activated)",
                    a.as_str().replace('_', "-")
                ),
                _ => format!(
                    "activated by {}: designed to be exploded by the presence, proximity or contact of a person",
                    a.as_str().replace('_', " ")
                ),
            };
            reasons.push(Reason::new(ART2, format!("{how}: an anti-personnel mine")));
            true
        }
        (Target::Vehicle, Activation::Tripwire | Activation::BreakWire) => {
            reasons.push(Reason::new(
                ART2,
                format!(
                    "a vehicle mine with a {} fuze: a person's contact sets it off whatever the intended target, so it is \
                     designed to be exploded by the contact of a person (the reading of the ICBL and the ICRC): an \
                     anti-personnel mine",
                    a.as_str().replace('_', "-")
                ),
            ));
            true
        }
        (Target::Vehicle, a) => {
            reasons.push(Reason::new(
                ART2,
                format!(
                    "designed to be set off by a vehicle ({} fuze): not designed to be exploded by a person, so not an \
                     anti-personnel mine",
                    a.as_str().replace('_', " ")
                ),
            ));
            if a == Activation::TiltRod {
                reasons.push(Reason::new(
                    ART2,
                    "a tilt rod can also be deflected by a person; if it fires under a person's contact the mine \
                     functions as an anti-personnel mine",
                ));
            }
            false
        }
    };
    if d.anti_handling_device {
        let text = if d.target == Target::Vehicle {
            "it carries an anti-handling device (Art. 2(3)); a mine designed to be set off by a vehicle is not an \
             anti-personnel mine merely because it is so equipped (Art. 2(1), second sentence)"
        } else {
            "it carries an anti-handling device (Art. 2(3)), which does not change the verdict"
        };
        reasons.push(Reason::new(ART2, text));
    }
    if apm && (d.self_destruct.is_some() || d.self_deactivation.is_some()) {
        reasons.push(Reason::new(
            ART2,
            "it self-destructs or self-deactivates: Art. 2 asks how a mine is set off, not how long it lives, so a \
             \"smart\" mine that a person sets off is still an anti-personnel mine (such features matter only under \
             CCW Amended Protocol II and national policies)",
        ));
    }
    if apm && d.delivery.mode == DeliveryMode::Remote {
        reasons.push(Reason::new(
            ART2,
            "remote delivery does not change the definition",
        ));
    }
    if apm {
        reasons.push(Reason::new(
            "Art. 1(1)",
            "a State Party may never use, develop, produce, acquire, stockpile, retain or transfer it",
        ));
    }
    ApmbcVerdict {
        anti_personnel_mine: apm,
        reasons,
    }
}

/// Self-destruction and self-deactivation as Technical Annex 3(a) requires: self-destruct within
/// 30 days with at most 10% failing, and back-up self-deactivation so that at most 1 in 1,000
/// function after 120 days. Returns (compliant, reasons).
fn sd_sda_compliant(d: &Device) -> (bool, Vec<String>) {
    let mut why = Vec::new();
    let mut ok = true;
    match d.self_destruct {
        None => {
            ok = false;
            why.push("no self-destruction mechanism".to_string());
        }
        Some(sd) => {
            if sd.days > APII_SD_MAX_DAYS {
                ok = false;
                why.push(format!(
                    "self-destructs after {} days, more than 30",
                    sd.days
                ));
            }
            if sd.reliability < APII_SD_MIN_RELIABILITY {
                ok = false;
                why.push(format!(
                    "{:.1}% fail to self-destruct, more than 10%",
                    (1.0 - sd.reliability) * 100.0
                ));
            }
        }
    }
    match d.self_deactivation {
        None => {
            ok = false;
            why.push("no back-up self-deactivation".to_string());
        }
        Some(sda) => {
            if sda.days > APII_SDA_DAYS {
                ok = false;
                why.push(format!(
                    "self-deactivates after {} days, more than 120",
                    sda.days
                ));
            }
            let sd_fail = d.self_destruct.map_or(1.0, |sd| 1.0 - sd.reliability);
            let functioning = sd_fail * (1.0 - sda.reliability);
            if functioning > APII_MAX_FUNCTIONING_AFTER_120 + 1e-12 {
                ok = false;
                why.push(format!(
                    "about {:.2} in 1,000 still function after 120 days, more than 1",
                    functioning * 1000.0
                ));
            } else {
                why.push(format!(
                    "about {:.2} in 1,000 still function after 120 days",
                    functioning * 1000.0
                ));
            }
        }
    }
    (ok, why)
}

/// CCW Amended Protocol II: is the device an APM there ("primarily designed", Art. 2(3)), and is
/// its use lawful, on which conditions (Arts. 3-6 and the Technical Annex)?
pub fn classify_apii(d: &Device) -> ApiiVerdict {
    let mut reasons = Vec::new();
    let mut conditions = Vec::new();
    let apm = d.target == Target::Person && d.activation.target_activated();
    let remote = d.remotely_delivered();
    let mut unlawful = false;
    let mut undetermined = false;
    if apm {
        reasons.push(Reason::new(
            "CCW APII Art. 2(3)",
            "primarily designed to be exploded by the presence, proximity or contact of a person: an anti-personnel mine \
             under the Protocol",
        ));
    } else if d.target == Target::Vehicle
        && matches!(d.activation, Activation::Tripwire | Activation::BreakWire)
    {
        reasons.push(Reason::new(
            "CCW APII Art. 2(3)",
            "primarily designed against vehicles: not an anti-personnel mine under the Protocol's \"primarily \
             designed\" test, although the Mine Ban Treaty's Art. 2 (without \"primarily\") treats it as one",
        ));
    } else {
        reasons.push(Reason::new(
            "CCW APII Art. 2(3)",
            "not primarily designed to be exploded by the presence, proximity or contact of a person: the Protocol's \
             rules for anti-personnel mines do not apply; its general rules for mines do",
        ));
    }
    if d.delivery.mode == DeliveryMode::Remote && !remote {
        reasons.push(Reason::new(
            "CCW APII Art. 2(2)",
            format!(
                "delivered from {} m, less than 500 m: not \"remotely delivered\", provided it is used in accordance with Art. 5",
                d.delivery.distance_m.unwrap_or_default()
            ),
        ));
    }
    conditions.push(
        "no indiscriminate use; all feasible precautions to protect civilians (Art. 3(8)-(10))"
            .to_string(),
    );
    conditions.push("location recorded (Art. 9)".to_string());
    if d.activation == Activation::Magnetic {
        conditions.push("must not be designed to detonate by the presence of commonly available mine detectors (Art. 3(5))".into());
    }
    if d.anti_handling_device {
        conditions.push(
            "the anti-handling device must not be able to function after the mine has ceased to (Art. 3(6))".into(),
        );
    }
    if apm {
        // Detectability.
        match d.detectable_iron_equivalent_g {
            None => {
                undetermined = true;
                reasons.push(Reason::new(
                    "CCW APII Art. 4; Technical Annex 2(a)",
                    "detectability not given: an anti-personnel mine must be detectable as at least 8 g of iron in one coherent mass",
                ));
            }
            Some(g) if g < APII_MIN_IRON_G => {
                unlawful = true;
                reasons.push(Reason::new(
                    "CCW APII Art. 4; Technical Annex 2(a)",
                    format!(
                        "detectable as {g} g of iron, less than the 8 g required: use prohibited"
                    ),
                ));
            }
            Some(g) => reasons.push(Reason::new(
                "CCW APII Art. 4; Technical Annex 2(a)",
                format!("detectable as {g} g of iron, at least the 8 g required"),
            )),
        }
        let (compliant, why) = sd_sda_compliant(d);
        let why = why.join("; ");
        if remote {
            if compliant {
                reasons.push(Reason::new(
                    "CCW APII Art. 6(2); Technical Annex 3(a)",
                    format!("remotely delivered and self-destructing/self-deactivating as required: {why}"),
                ));
            } else {
                unlawful = true;
                reasons.push(Reason::new(
                    "CCW APII Art. 6(2); Technical Annex 3(a)",
                    format!(
                        "remotely delivered anti-personnel mines must self-destruct within 30 days with at most 10% failing, \
                         and self-deactivate so that at most 1 in 1,000 function after 120 days; this one does not ({why}): \
                         use prohibited"
                    ),
                ));
            }
        } else if compliant {
            reasons.push(Reason::new(
                "CCW APII Art. 5(1); Technical Annex 3(b)",
                format!("self-destructing/self-deactivating as required, so usable outside marked areas: {why}"),
            ));
        } else {
            reasons.push(Reason::new(
                "CCW APII Art. 5(2)",
                format!(
                    "not self-destructing/self-deactivating as the Technical Annex requires ({why}): usable only within a \
                     perimeter-marked area, monitored by military personnel and protected by fencing or other means"
                ),
            ));
            conditions.push(
                "only within a perimeter-marked area monitored by military personnel and protected by fencing or other \
                 means to exclude civilians, cleared before the area is abandoned (Art. 5(2))"
                    .into(),
            );
            if d.directional {
                conditions.push(
                    "or, as a directional mine on or above the ground, for at most 72 hours without those measures, in \
                     the immediate proximity of the emplacing unit and with the area monitored (Art. 5(6))"
                        .into(),
                );
            }
        }
    } else if d.delivery.mode == DeliveryMode::Remote && remote {
        reasons.push(Reason::new(
            "CCW APII Art. 6(3)",
            "a remotely delivered mine other than an anti-personnel mine must, to the extent feasible, have effective \
             self-destruction or self-neutralization and back-up self-deactivation",
        ));
        conditions.push(
            "to the extent feasible, effective self-destruction or self-neutralization with back-up self-deactivation (Art. 6(3))"
                .into(),
        );
    }
    let lawful = if unlawful {
        Some(false)
    } else if undetermined {
        None
    } else {
        Some(true)
    };
    let verdict = match lawful {
        Some(true) => "lawful under the Protocol, on the conditions listed",
        Some(false) => "use prohibited by the Protocol",
        None => "cannot tell from the description",
    };
    reasons.push(Reason::new("CCW Amended Protocol II", verdict));
    ApiiVerdict {
        anti_personnel_mine: apm,
        remotely_delivered: remote,
        lawful,
        conditions,
        reasons,
    }
}
