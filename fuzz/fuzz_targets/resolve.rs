//! Name resolution: `Gazetteer::resolve` (with `by_code`, `normalize_name`, and `closest` for
//! unknown names) over the gazetteer built from the shipped subjects table, as the application
//! builds it. What resolves resolves to a subject whose own code resolves to it again; folding a
//! folded name changes nothing. Seeds: names and codes as the shipped research files spell them
//! (fuzz/seeds/resolve).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_domain::{normalize_name, Gazetteer, ResolveError};
use minewatch_fuzz::shipped_gazetteer;
use std::sync::OnceLock;

static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let g = GAZETTEER.get_or_init(shipped_gazetteer);
    match g.resolve(text) {
        Ok(s) => {
            let again = g.resolve(&s.code).map(|t| t.code.as_str());
            assert_eq!(again, Ok(s.code.as_str()), "{text:?} -> {}", s.code);
        }
        Err(ResolveError::Empty) => assert!(text.trim().is_empty()),
        Err(ResolveError::Ambiguous { candidates, .. }) => assert!(candidates.len() > 1),
        Err(e @ ResolveError::Unknown { .. }) => {
            let _ = e.to_string();
        }
    }
    let _ = g.by_code(text);
    let folded = normalize_name(text);
    assert_eq!(normalize_name(&folded), folded, "folding {text:?} twice");
});
