//! Alternative definitions of an anti-personnel mine, read from declarative JSON files
//! (shipped in `data/definitions/`, see its README).
//!
//! Format (version 1):
//! ```json
//! {
//!   "format": 1,
//!   "id": "broad-sensor",
//!   "title": "...",
//!   "source": "where the definition comes from",
//!   "article": "the provision it encodes (used in reasons)",
//!   "rules": [
//!     {"when": {"target": "person", "activation": ["seismic", "infrared"]},
//!      "anti_personnel_mine": true,
//!      "reason": "why, in words"}
//!   ],
//!   "otherwise": {"anti_personnel_mine": false, "reason": "..."}
//! }
//! ```
//! Rules are tried in order; the first whose `when` holds decides, else `otherwise`. A `when`
//! object holds when all its tests hold (an empty one always holds). Tests:
//! - `target`, `activation`, `delivery`: a value or a list of values (any of them);
//! - `anti_handling_device`, `directional`, `self_destruct`, `self_deactivation` (has one),
//!   `persistent` (has neither), `remotely_delivered` (remote and not from under 500 m): `true`/`false`;
//! - `detectable_iron_equivalent_g`, `delivery_distance_m`, `self_destruct_days`,
//!   `self_destruct_reliability`, `self_deactivation_days`, `self_deactivation_reliability`:
//!   `{"lt"|"lte"|"gt"|"gte": number, ...}`; a value the device does not give never matches;
//! - `any`: a list of `when` objects, one of which must hold; `not`: a `when` object that must not.

use crate::classify::{Activation, DeliveryMode, Device, Target};
use crate::reason::Reason;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Why a definition file could not be read: where in the file, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The definition's file name or id, when known.
    pub file: String,
    /// JSON path of the offending value (`rules[2].when.activation[1]`), or "" for the document.
    pub path: String,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "definition {}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "definition {}: at {}: {}",
                self.file, self.path, self.message
            )
        }
    }
}

impl std::error::Error for DefinitionError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    AntiHandling,
    Directional,
    SelfDestruct,
    SelfDeactivation,
    Persistent,
    RemotelyDelivered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumField {
    Iron,
    Distance,
    SdDays,
    SdReliability,
    SdaDays,
    SdaReliability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Target(Vec<Target>),
    Activation(Vec<Activation>),
    Delivery(Vec<DeliveryMode>),
    Flag(Flag, &'static str, bool),
    Number(NumField, &'static str, Vec<(Op, f64)>),
    Any(Vec<When>),
    Not(Box<When>),
}

/// A conjunction of tests.
#[derive(Debug, Clone, PartialEq, Default)]
struct When(Vec<Test>);

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    when: When,
    apm: bool,
    reason: String,
}

/// An alternative definition of an anti-personnel mine.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub id: String,
    pub title: String,
    pub source: String,
    pub article: String,
    rules: Vec<Rule>,
    otherwise: (bool, String),
}

/// What one definition says about a device.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DefinitionVerdict {
    pub id: String,
    pub title: String,
    pub source: String,
    pub anti_personnel_mine: bool,
    /// The rule that decided (1-based), `null` when none matched and `otherwise` applied.
    pub rule: Option<usize>,
    pub reasons: Vec<Reason>,
}

/// The JSON Schema of an alternative definition (format 1), as the API documents it: what
/// [`Definition::from_json`] accepts, so that a client generating documents from the schema
/// writes definitions the server reads.
#[derive(Debug)]
pub struct DefinitionDocument;

/// The schema's JSON: the document and its recursive test object.
const DEFINITION_SCHEMA: &str = r##"{
  "type": "object",
  "description": "An alternative definition of an anti-personnel mine (format 1, as in data/definitions): rules tried in order, the first whose tests all pass decides; otherwise the fallback.",
  "additionalProperties": false,
  "required": ["format", "id", "title", "source", "rules", "otherwise"],
  "properties": {
    "format": {"type": "integer", "enum": [1]},
    "id": {"type": "string", "pattern": "\\S"},
    "title": {"type": "string"},
    "source": {"type": "string"},
    "article": {"type": ["string", "null"]},
    "rules": {"type": "array", "items": {
      "type": "object", "additionalProperties": false,
      "required": ["anti_personnel_mine", "reason"],
      "properties": {
        "when": {"anyOf": [{"$ref": "#/components/schemas/DefinitionTests"}, {"type": "null"}]},
        "anti_personnel_mine": {"type": "boolean"},
        "reason": {"type": "string", "pattern": "\\S"}
      }}},
    "otherwise": {
      "type": "object", "additionalProperties": false,
      "required": ["anti_personnel_mine", "reason"],
      "properties": {"anti_personnel_mine": {"type": "boolean"}, "reason": {"type": "string"}}
    }
  }
}"##;

/// Every test a rule's `when` may hold; all must pass.
const DEFINITION_TESTS_SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "description": "Tests on a device; a rule applies when all pass. A list of values passes when the device has any of them.",
  "properties": {
    "target": {"anyOf": [{"$ref": "#/components/schemas/Target"}, {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Target"}}]},
    "activation": {"anyOf": [{"$ref": "#/components/schemas/Activation"}, {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Activation"}}]},
    "delivery": {"anyOf": [{"$ref": "#/components/schemas/DeliveryMode"}, {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/DeliveryMode"}}]},
    "anti_handling_device": {"type": "boolean"},
    "directional": {"type": "boolean"},
    "self_destruct": {"type": "boolean"},
    "self_deactivation": {"type": "boolean"},
    "persistent": {"type": "boolean"},
    "remotely_delivered": {"type": "boolean"},
    "detectable_iron_equivalent_g": {"$ref": "#/components/schemas/DefinitionComparison"},
    "delivery_distance_m": {"$ref": "#/components/schemas/DefinitionComparison"},
    "self_destruct_days": {"$ref": "#/components/schemas/DefinitionComparison"},
    "self_destruct_reliability": {"$ref": "#/components/schemas/DefinitionComparison"},
    "self_deactivation_days": {"$ref": "#/components/schemas/DefinitionComparison"},
    "self_deactivation_reliability": {"$ref": "#/components/schemas/DefinitionComparison"},
    "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/DefinitionTests"}},
    "not": {"$ref": "#/components/schemas/DefinitionTests"}
  }
}"##;

/// A comparison of a number: `{"gte": 8}`, `{"gt": 0, "lt": 30}`.
const DEFINITION_COMPARISON_SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "minProperties": 1,
  "properties": {"lt": {"type": "number"}, "lte": {"type": "number"}, "gt": {"type": "number"}, "gte": {"type": "number"}}
}"##;

impl DefinitionDocument {
    /// The named schemas the document refers to: `DefinitionTests`, `DefinitionComparison`.
    pub fn components() -> Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )> {
        [
            ("DefinitionTests", DEFINITION_TESTS_SCHEMA),
            ("DefinitionComparison", DEFINITION_COMPARISON_SCHEMA),
        ]
        .into_iter()
        .filter_map(|(name, text)| Some((name.to_string(), serde_json::from_str(text).ok()?)))
        .collect()
    }
}

impl utoipa::PartialSchema for DefinitionDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        // A constant that a unit test parses; an empty schema if it ever did not.
        serde_json::from_str(DEFINITION_SCHEMA).unwrap_or_else(|_| {
            utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
                utoipa::openapi::schema::Object::new(),
            ))
        })
    }
}

impl utoipa::ToSchema for DefinitionDocument {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.extend(Self::components());
        for (name, schema) in [
            (
                "Target",
                <crate::classify::Target as utoipa::PartialSchema>::schema(),
            ),
            (
                "Activation",
                <crate::classify::Activation as utoipa::PartialSchema>::schema(),
            ),
            (
                "DeliveryMode",
                <crate::classify::DeliveryMode as utoipa::PartialSchema>::schema(),
            ),
        ] {
            schemas.push((name.to_string(), schema));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    format: u32,
    id: String,
    title: String,
    source: String,
    #[serde(default)]
    article: Option<String>,
    rules: Vec<Value>,
    otherwise: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    when: Option<Value>,
    anti_personnel_mine: bool,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOtherwise {
    anti_personnel_mine: bool,
    reason: String,
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            file: self.file.to_string(),
            path: path.to_string(),
            message: message.into(),
        }
    }

    fn strings<'v>(
        &self,
        path: &str,
        v: &'v Value,
    ) -> Result<Vec<(String, &'v str)>, DefinitionError> {
        match v {
            Value::String(s) => Ok(vec![(path.to_string(), s.as_str())]),
            Value::Array(a) if !a.is_empty() => a
                .iter()
                .enumerate()
                .map(|(i, x)| match x {
                    Value::String(s) => Ok((format!("{path}[{i}]"), s.as_str())),
                    _ => Err(self.err(&format!("{path}[{i}]"), "expected a string")),
                })
                .collect(),
            _ => Err(self.err(path, "expected a string or a non-empty list of strings")),
        }
    }

    fn values<T: Copy>(
        &self,
        path: &str,
        v: &Value,
        what: &str,
        all: &[T],
        name: impl Fn(T) -> &'static str,
    ) -> Result<Vec<T>, DefinitionError> {
        self.strings(path, v)?
            .into_iter()
            .map(|(p, s)| {
                all.iter().copied().find(|x| name(*x) == s).ok_or_else(|| {
                    let expected: Vec<&str> = all.iter().map(|x| name(*x)).collect();
                    self.err(
                        &p,
                        format!(
                            "unknown {what} {s:?}; expected one of: {}",
                            expected.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    fn when(&self, path: &str, v: &Value) -> Result<When, DefinitionError> {
        let Value::Object(map) = v else {
            return Err(self.err(path, "expected an object of tests"));
        };
        self.tests(path, map).map(When)
    }

    fn tests(&self, path: &str, map: &Map<String, Value>) -> Result<Vec<Test>, DefinitionError> {
        let mut out = Vec::new();
        for (key, v) in map {
            let p = format!("{path}.{key}");
            let flag = |f: Flag, name: &'static str| -> Result<Test, DefinitionError> {
                match v {
                    Value::Bool(b) => Ok(Test::Flag(f, name, *b)),
                    _ => Err(self.err(&p, "expected true or false")),
                }
            };
            let test = match key.as_str() {
                "target" => Test::Target(self.values(&p, v, "target", &Target::ALL, Target::as_str)?),
                "activation" => Test::Activation(self.values(&p, v, "activation", &Activation::ALL, Activation::as_str)?),
                "delivery" => Test::Delivery(self.values(&p, v, "delivery mode", &DeliveryMode::ALL, DeliveryMode::as_str)?),
                "anti_handling_device" => flag(Flag::AntiHandling, "anti_handling_device")?,
                "directional" => flag(Flag::Directional, "directional")?,
                "self_destruct" => flag(Flag::SelfDestruct, "self_destruct")?,
                "self_deactivation" => flag(Flag::SelfDeactivation, "self_deactivation")?,
                "persistent" => flag(Flag::Persistent, "persistent")?,
                "remotely_delivered" => flag(Flag::RemotelyDelivered, "remotely_delivered")?,
                "detectable_iron_equivalent_g" => self.number(&p, v, NumField::Iron, "detectable_iron_equivalent_g")?,
                "delivery_distance_m" => self.number(&p, v, NumField::Distance, "delivery_distance_m")?,
                "self_destruct_days" => self.number(&p, v, NumField::SdDays, "self_destruct_days")?,
                "self_destruct_reliability" => self.number(&p, v, NumField::SdReliability, "self_destruct_reliability")?,
                "self_deactivation_days" => self.number(&p, v, NumField::SdaDays, "self_deactivation_days")?,
                "self_deactivation_reliability" => {
                    self.number(&p, v, NumField::SdaReliability, "self_deactivation_reliability")?
                }
                "any" => match v {
                    Value::Array(a) if !a.is_empty() => Test::Any(
                        a.iter()
                            .enumerate()
                            .map(|(i, x)| self.when(&format!("{p}[{i}]"), x))
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(self.err(&p, "expected a non-empty list of test objects")),
                },
                "not" => Test::Not(Box::new(self.when(&p, v)?)),
                other => {
                    return Err(self.err(
                        &p,
                        format!(
                            "unknown test {other:?}; expected one of: target, activation, delivery, anti_handling_device, \
                             directional, self_destruct, self_deactivation, persistent, remotely_delivered, \
                             detectable_iron_equivalent_g, delivery_distance_m, self_destruct_days, \
                             self_destruct_reliability, self_deactivation_days, self_deactivation_reliability, any, not"
                        ),
                    ))
                }
            };
            out.push(test);
        }
        Ok(out)
    }

    fn number(
        &self,
        path: &str,
        v: &Value,
        field: NumField,
        name: &'static str,
    ) -> Result<Test, DefinitionError> {
        let Value::Object(m) = v else {
            return Err(self.err(path, "expected a comparison object such as {\"gte\": 8}"));
        };
        if m.is_empty() {
            return Err(self.err(path, "empty comparison; use lt, lte, gt or gte"));
        }
        let mut cmps = Vec::new();
        for (k, x) in m {
            let op = match k.as_str() {
                "lt" => Op::Lt,
                "lte" => Op::Lte,
                "gt" => Op::Gt,
                "gte" => Op::Gte,
                other => {
                    return Err(self.err(
                        &format!("{path}.{other}"),
                        "unknown comparison; expected lt, lte, gt or gte",
                    ))
                }
            };
            let n = x
                .as_f64()
                .ok_or_else(|| self.err(&format!("{path}.{k}"), "expected a number"))?;
            cmps.push((op, n));
        }
        Ok(Test::Number(field, name, cmps))
    }
}

impl When {
    fn holds(&self, d: &Device) -> bool {
        self.0.iter().all(|t| t.holds(d))
    }

    fn describe(&self, d: &Device) -> Vec<String> {
        self.0.iter().map(|t| t.describe(d)).collect()
    }
}

fn number_of(d: &Device, f: NumField) -> Option<f64> {
    match f {
        NumField::Iron => d.detectable_iron_equivalent_g,
        NumField::Distance => d.delivery.distance_m,
        NumField::SdDays => d.self_destruct.map(|m| m.days),
        NumField::SdReliability => d.self_destruct.map(|m| m.reliability),
        NumField::SdaDays => d.self_deactivation.map(|m| m.days),
        NumField::SdaReliability => d.self_deactivation.map(|m| m.reliability),
    }
}

fn flag_of(d: &Device, f: Flag) -> bool {
    match f {
        Flag::AntiHandling => d.anti_handling_device,
        Flag::Directional => d.directional,
        Flag::SelfDestruct => d.self_destruct.is_some(),
        Flag::SelfDeactivation => d.self_deactivation.is_some(),
        Flag::Persistent => d.persistent(),
        Flag::RemotelyDelivered => d.remotely_delivered(),
    }
}

impl Test {
    fn holds(&self, d: &Device) -> bool {
        match self {
            Test::Target(v) => v.contains(&d.target),
            Test::Activation(v) => v.contains(&d.activation),
            Test::Delivery(v) => v.contains(&d.delivery.mode),
            Test::Flag(f, _, want) => flag_of(d, *f) == *want,
            Test::Number(f, _, cmps) => number_of(d, *f).is_some_and(|x| {
                cmps.iter().all(|&(op, n)| match op {
                    Op::Lt => x < n,
                    Op::Lte => x <= n,
                    Op::Gt => x > n,
                    Op::Gte => x >= n,
                })
            }),
            Test::Any(ws) => ws.iter().any(|w| w.holds(d)),
            Test::Not(w) => !w.holds(d),
        }
    }

    fn describe(&self, d: &Device) -> String {
        match self {
            Test::Target(_) => format!("target {}", d.target.as_str()),
            Test::Activation(_) => format!("activation {}", d.activation.as_str()),
            Test::Delivery(_) => format!("delivery {}", d.delivery.mode.as_str()),
            Test::Flag(f, name, _) => format!("{name} {}", flag_of(d, *f)),
            Test::Number(f, name, _) => match number_of(d, *f) {
                Some(x) => format!("{name} {x}"),
                None => format!("{name} not given"),
            },
            Test::Any(_) => "one of several alternatives".to_string(),
            Test::Not(_) => "an exclusion".to_string(),
        }
    }
}

impl Definition {
    /// Parses a definition file; `file` names it in error messages.
    pub fn from_json(file: &str, text: &str) -> Result<Definition, DefinitionError> {
        let ctx = Ctx { file };
        let raw: RawDefinition =
            serde_json::from_str(text).map_err(|e| ctx.err("", e.to_string()))?;
        if raw.format != 1 {
            return Err(ctx.err(
                "format",
                format!(
                    "unsupported format {}; this version reads format 1",
                    raw.format
                ),
            ));
        }
        if raw.id.trim().is_empty() {
            return Err(ctx.err("id", "must not be empty"));
        }
        let mut rules = Vec::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let path = format!("rules[{i}]");
            let rr: RawRule =
                serde_json::from_value(r.clone()).map_err(|e| ctx.err(&path, e.to_string()))?;
            let when = match &rr.when {
                None => When::default(),
                Some(w) => ctx.when(&format!("{path}.when"), w)?,
            };
            if rr.reason.trim().is_empty() {
                return Err(ctx.err(&format!("{path}.reason"), "a rule must say why"));
            }
            rules.push(Rule {
                when,
                apm: rr.anti_personnel_mine,
                reason: rr.reason,
            });
        }
        let o: RawOtherwise = serde_json::from_value(raw.otherwise)
            .map_err(|e| ctx.err("otherwise", e.to_string()))?;
        Ok(Definition {
            article: raw.article.unwrap_or_else(|| raw.title.clone()),
            id: raw.id,
            title: raw.title,
            source: raw.source,
            rules,
            otherwise: (o.anti_personnel_mine, o.reason),
        })
    }

    /// Applies the definition to a device: the first rule that holds decides.
    pub fn classify(&self, d: &Device) -> DefinitionVerdict {
        let hit = self.rules.iter().enumerate().find(|(_, r)| r.when.holds(d));
        let (apm, rule, reasons) = match hit {
            Some((i, r)) => {
                let matched = r.when.describe(d);
                let text = if matched.is_empty() {
                    format!("{} (rule {} of {})", r.reason, i + 1, self.id)
                } else {
                    format!(
                        "{} (rule {} of {}: {})",
                        r.reason,
                        i + 1,
                        self.id,
                        matched.join(", ")
                    )
                };
                (
                    r.apm,
                    Some(i + 1),
                    vec![Reason::new(self.article.clone(), text)],
                )
            }
            None => (
                self.otherwise.0,
                None,
                vec![Reason::new(
                    self.article.clone(),
                    format!("{} (no rule of {} matched)", self.otherwise.1, self.id),
                )],
            ),
        };
        DefinitionVerdict {
            id: self.id.clone(),
            title: self.title.clone(),
            source: self.source.clone(),
            anti_personnel_mine: apm,
            rule,
            reasons,
        }
    }
}

/// The definition files shipped in `data/definitions/` (file name, text).
pub const SHIPPED_DEFINITIONS: [(&str, &str); 2] = [
    (
        "apmbc.json",
        include_str!("../../../data/definitions/apmbc.json"),
    ),
    (
        "broad-sensor.json",
        include_str!("../../../data/definitions/broad-sensor.json"),
    ),
];

/// Parses the shipped definitions.
pub fn shipped_definitions() -> Result<Vec<Definition>, DefinitionError> {
    SHIPPED_DEFINITIONS
        .iter()
        .map(|(file, text)| Definition::from_json(file, text))
        .collect()
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    /// The hand-written schemas parse as OpenAPI schemas (a failure would publish an empty one).
    #[test]
    fn the_definition_schemas_parse() {
        for text in [
            DEFINITION_SCHEMA,
            DEFINITION_TESTS_SCHEMA,
            DEFINITION_COMPARISON_SCHEMA,
        ] {
            let parsed: Result<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>, _> =
                serde_json::from_str(text);
            assert!(parsed.is_ok(), "{text}");
        }
        assert_eq!(DefinitionDocument::components().len(), 2);
    }
}
