//! The body of `POST /api/v1/classify`, parsed as the web handler does it (crates/web/src/lib.rs,
//! `classify`): a device description, or `{"device": {...}, "definitions": [...]}` whose
//! definitions are read with `Definition::from_json`; then `Device::from_json` and `classify`
//! with the shipped policy instruments and definitions. An optional first line `YYYY-MM-DD`
//! stands for the `as_of` query parameter. Seeds: devices from the shipped documentation and
//! tests, with the shipped definitions (fuzz/seeds/classify).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_domain::Date;
use minewatch_fuzz::shipped_policies_and_definitions;
use minewatch_treaty::{classify, Definition, Device, PolicyRecord};
use serde_json::Value;
use std::sync::OnceLock;

static SHIPPED: OnceLock<(Vec<PolicyRecord>, Vec<Definition>)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (policies, shipped) = SHIPPED.get_or_init(shipped_policies_and_definitions);
    let (on, body) = match text.split_once('\n') {
        Some((first, rest)) if first.len() == 10 => match Date::parse(first) {
            Ok(d) => (d, rest),
            Err(_) => return,
        },
        _ => (Date::new(2026, 1, 1).expect("a constant date"), text),
    };
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return;
    };
    let (device_text, extra) = match value.get("device") {
        Some(d) => {
            let mut extra = Vec::new();
            match value.get("definitions") {
                None | Some(Value::Null) => {}
                Some(Value::Array(defs)) => {
                    for (i, d) in defs.iter().enumerate() {
                        match Definition::from_json(&format!("definitions[{i}]"), &d.to_string()) {
                            Ok(def) => extra.push(def),
                            Err(e) => {
                                let _ = e.to_string();
                                return;
                            }
                        }
                    }
                }
                Some(_) => return,
            }
            (d.to_string(), extra)
        }
        None => (body.to_string(), Vec::new()),
    };
    let device = match Device::from_json(&device_text) {
        Ok(d) => d,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let mut definitions = shipped.clone();
    definitions.extend(extra);
    let c = classify(&device, policies, on, &definitions);
    assert_eq!(c.definitions.len(), definitions.len());
    // The API answers with the classification as JSON.
    serde_json::to_value(&c).expect("a classification serializes");
});
