//! The body of `POST /api/v1/classify`, read by the handler's own parser
//! (`minewatch_answers::derived::parse_classify_body`): a device description, or
//! `{"device": {...}, "definitions": [...]}`; then `classify` with the shipped policy
//! instruments and definitions. An optional first line `YYYY-MM-DD`
//! stands for the `as_of` query parameter. Seeds: devices from the shipped documentation and
//! tests, with the shipped definitions (fuzz/seeds/classify).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_domain::Date;
use minewatch_fuzz::shipped_policies_and_definitions;
use minewatch_answers::derived::parse_classify_body;
use minewatch_treaty::{classify, Definition, PolicyRecord};
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
    // The handler's own reading of the body (minewatch_answers::derived::parse_classify_body):
    // an error is an answer (400), never a crash.
    let (device, extra) = match parse_classify_body(body) {
        Ok(parsed) => parsed,
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
