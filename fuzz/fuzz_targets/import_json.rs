//! The JSON importer (`facts-json`: `{"sources": [...], "facts": [...]}`) on arbitrary bytes, as
//! a dry run on a record holding the shipped data. Seeds: shipped curated facts and their
//! sources written as JSON documents (fuzz/seeds/import_json).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_fuzz::{dry_import, json_kind};

fuzz_target!(|data: &[u8]| {
    dry_import(json_kind(), data, None);
});
