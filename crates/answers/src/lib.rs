//! The answers minewatch gives, built from the record and the treaty engine, with no HTTP in
//! them: the engines over the record and their caches (`derived`), the JSON forms of subjects,
//! sources and facts with their citations (`json`), facts told as sentences (`describe`). The
//! pages' JSON twins, the API and the command line's `--json` all come from here.

pub mod cite;
pub mod derived;
pub mod describe;
pub mod hxl;
pub mod impact;
pub mod json;
pub mod obligations;
pub mod pages;

use serde::Serialize;
use serde_json::Value;

/// A serialisable enum's wire name ("permitted_with_conditions").
pub fn wire_word<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
