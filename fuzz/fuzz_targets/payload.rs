//! The stored-payload parser, `Payload::from_stored(kind, json)`: the input's first line is the
//! kind word, the rest the JSON text. What it accepts must be written back in a form it reads
//! again, to the same payload. Seeds: one payload of each kind from the shipped facts
//! (fuzz/seeds/payload).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_domain::Payload;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (kind, json) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(p) = Payload::from_stored(kind, json) else {
        return;
    };
    assert_eq!(p.kind().as_str(), kind);
    let stored = p.to_json();
    let again = Payload::from_stored(kind, &stored)
        .unwrap_or_else(|e| panic!("the stored form {stored} does not read back: {e}"));
    assert_eq!(
        again.to_json(),
        stored,
        "the stored form changed on reading"
    );
});
