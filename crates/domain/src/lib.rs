//! minewatch domain types. No IO: everything here is plain values, so the treaty engine and the
//! importers can be tested without a database.
//!
//! The one idea: every fact is a sourced, dated claim in an append-only record; everything else is
//! derived. [`Fact`] is that claim; [`Source`] is where it comes from.

pub mod asof;
pub mod date;
pub mod fact;
pub mod subject;

pub use asof::{record_day, Known, KnownBasis};
pub use date::{Date, DateError, PartialDate, Precision};
pub use fact::{FactKind, Payload, PayloadError};
pub use subject::{normalize_name, Gazetteer, ResolveError, Subject, SubjectKind};

use serde::Serialize;

/// Where a fact comes from. Sources are shared by facts and never change once recorded.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Source {
    /// Stable key (`[a-z0-9-]+`), used by the facts format to cite the source.
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    /// When the source was published (partial dates allowed). Drives "as of" views: a fact is
    /// known on a date only if one of its sources was published by then (see [`asof`]).
    pub published: Option<PartialDate>,
    pub url: Option<String>,
    pub note: Option<String>,
}

/// A citation of a source by a fact, with an optional locator ("footnote 28", "p. 346").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Citation {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
}

/// `key` or `key#locator`: the form the facts format reads and every listing prints.
impl std::fmt::Display for Citation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.locator {
            Some(l) => write!(f, "{}#{l}", self.source),
            None => f.write_str(&self.source),
        }
    }
}

/// A sourced, dated claim about a subject, as the record holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The record's id (assigned when recorded).
    pub id: i64,
    /// Subject code (see [`Subject::code`]).
    pub subject: String,
    /// When the claim starts being true (`None`: the sources give no date).
    pub valid_from: Option<PartialDate>,
    /// When it stops being true (periods: armed conflict); `None` for events and open periods.
    pub valid_to: Option<PartialDate>,
    pub payload: Payload,
    pub citations: Vec<Citation>,
    pub note: Option<String>,
    /// When and by whom the fact entered the record (record time, RFC 3339 UTC).
    pub recorded_at: String,
    pub recorded_by: String,
    /// The fact this one corrects or retracts.
    pub supersedes: Option<i64>,
}

impl Fact {
    pub fn kind(&self) -> FactKind {
        self.payload.kind()
    }

    /// When this fact enters "the world as of" views, given the publication date of each
    /// source key (the one as-of rule, see [`asof`]).
    pub fn known(&self, published: impl Fn(&str) -> Option<PartialDate>) -> Known {
        Known::of(
            self.valid_from,
            self.citations.iter().map(|c| published(&c.source)),
            record_day(&self.recorded_at),
        )
    }
}

/// Is `key` a valid source key (`[a-z0-9][a-z0-9-]*`, at most 120 characters)?
pub fn is_source_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 120
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !key.starts_with('-')
}

/// Turns any citation text into a source key: lower case ASCII words joined by `-`, cut to 80
/// bytes, plus a short hash of the whole text so different long citations never collide.
pub fn slug_key(text: &str) -> String {
    let folded = normalize_name(text);
    let mut slug: String = folded
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let mut cut: String = slug.chars().take(80).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    // FNV-1a: stable across versions and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.trim().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    if cut.is_empty() {
        format!("src-{:08x}", h as u32)
    } else {
        format!("{cut}-{:06x}", (h & 0xff_ffff) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keys_are_valid_and_distinct() {
        let a = slug_key("seed 002 (footnote 28)");
        let b = slug_key("seed 002 (footnote 21)");
        assert!(is_source_key(&a), "{a}");
        assert!(a.starts_with("seed-002-footnote-28-"), "{a}");
        assert_ne!(a, b);
        assert!(is_source_key(&slug_key("")));
        assert!(is_source_key(&slug_key("Côte d’Ivoire — ministère")));
        assert!(!is_source_key("Has Upper"));
    }
}
