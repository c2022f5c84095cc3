//! Citing a page: its title, publisher, a permalink that pins the record version
//! (`?record=N`), the access date and the data's terms, also as CSL-JSON (the format of
//! Zotero, Mendeley and citeproc) and BibTeX. Every page shows it and every JSON twin carries it.

use minewatch_domain::Date;
use serde::Serialize;

/// The data's terms, in one sentence for pages and twins: the record has no licence of its own;
/// each fact carries its sources' terms (the downloads page and `data/README.md` say more).
pub const TERMS_SHORT: &str = "No single licence: each statement carries the terms of the \
sources it cites; the reference data and the UN voting data keep their own.";

/// The data's terms in full (the downloads page, the snapshot's metadata, the data package).
pub const TERMS: &str = "No single licence: each fact carries the terms of the sources it cites \
(see the sources table and each source's publisher). Reference data: ISO 3166 codes and names \
from Debian's iso-codes (LGPL-2.1-or-later); regions and alternative spellings from \
world-countries by Mohammed Le Doze (ODbL-1.0: contains information from world-countries, which \
is made available under the Open Database License v1.0); UN General Assembly votes from Erik \
Voeten's UN General Assembly Voting Data (Harvard Dataverse hdl:1902.1/12379, CC0) and, for 2008 \
and 2020-2024, from the United Nations Dag Hammarskjöld Library's General Assembly Voting Data \
(non-commercial use, with attribution: cite \"United Nations Dag Hammarskjöld Library, General \
Assembly Voting Data\"). See \
data/README.md and data/reference/ATTRIBUTION.md in minewatch's repository.";

/// Who publishes the pages.
pub const PUBLISHER: &str = "minewatch";

/// How to cite one page as it stood at one record version.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cite {
    pub title: String,
    pub publisher: &'static str,
    /// The permalink: the page's address with `record=N`, so it shows what was cited.
    pub url: String,
    /// The record version cited (the newest fact's id).
    pub record: i64,
    pub accessed: Date,
    pub licence: &'static str,
    /// The same as CSL-JSON (one item).
    pub csl: Vec<CslItem>,
    pub bibtex: String,
}

/// A CSL-JSON item (citation-style-language schema, `webpage`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CslItem {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub publisher: &'static str,
    #[serde(rename = "URL")]
    pub url: String,
    pub accessed: CslDate,
    pub note: String,
}

/// A CSL date: `{"date-parts": [[year, month, day]]}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CslDate {
    #[serde(rename = "date-parts")]
    pub date_parts: Vec<Vec<i32>>,
}

impl Cite {
    /// The citation of the page at `path_and_query` (as requested, without the host) under
    /// `public_url`, at record version `record` (kept if the address already pins one).
    pub fn new(
        title: &str,
        public_url: &str,
        path_and_query: &str,
        record: i64,
        accessed: Date,
    ) -> Cite {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        // A JSON twin cites its page: the page is what readers are pointed to.
        let path = match path.strip_suffix(".json") {
            Some("/index") => "/",
            Some(page) => page,
            None => path,
        };
        let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let pinned = pairs
            .iter()
            .find_map(|p| p.strip_prefix("record="))
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0 && *n <= record);
        let record = pinned.unwrap_or(record);
        pairs.retain(|p| *p != "record" && !p.starts_with("record=") && !p.starts_with("hxl="));
        let record_pair = format!("record={record}");
        pairs.push(&record_pair);
        let url = format!(
            "{}{path}?{}",
            public_url.trim_end_matches('/'),
            pairs.join("&")
        );
        let id = format!(
            "minewatch{}-r{record}",
            path.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .trim_end_matches('-')
        );
        let title = if title.is_empty() {
            "minewatch".to_string()
        } else {
            title.to_string()
        };
        let note = format!("minewatch record version {record}");
        let csl = vec![CslItem {
            id: id.clone(),
            kind: "webpage",
            title: title.clone(),
            publisher: PUBLISHER,
            url: url.clone(),
            accessed: CslDate {
                date_parts: vec![vec![
                    accessed.year(),
                    i32::from(accessed.month()),
                    i32::from(accessed.day()),
                ]],
            },
            note: note.clone(),
        }];
        let bibtex = format!(
            "@misc{{{id},\n  title = {{{}}},\n  author = {{{{{PUBLISHER}}}}},\n  howpublished = {{\\url{{{}}}}},\n  note = {{{}; accessed {accessed}}},\n  urldate = {{{accessed}}}\n}}\n",
            bibtex_text(&title),
            bibtex_url(&url),
            bibtex_text(&note),
        );
        Cite {
            title,
            publisher: PUBLISHER,
            url,
            record,
            accessed,
            licence: TERMS_SHORT,
            csl,
            bibtex,
        }
    }
}

/// Text in a BibTeX field: LaTeX's special characters escaped, braces balanced.
fn bibtex_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '%' | '&' | '#' | '$' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A URL inside `\url{...}`: only the characters that would end or break it are escaped.
fn bibtex_url(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '{' => "%7B".chars().collect::<Vec<_>>(),
            '}' => "%7D".chars().collect(),
            '\\' => "%5C".chars().collect(),
            '%' => vec!['\\', '%'],
            '#' => vec!['\\', '#'],
            c if c.is_control() || c == ' ' => "%20".chars().collect(),
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Date {
        Date::parse("2026-06-01").expect("a date")
    }

    #[test]
    fn the_permalink_pins_the_record_and_keeps_the_other_parameters() {
        let c = Cite::new(
            "Ukraine",
            "https://minewatch.example.org/",
            "/states/UKR?as_of=2010-10-18&record=7&hxl=1",
            42,
            day(),
        );
        assert_eq!(
            c.url,
            "https://minewatch.example.org/states/UKR?as_of=2010-10-18&record=7"
        );
        assert_eq!(c.record, 7);
        let c = Cite::new("Ukraine", "http://x", "/states/UKR", 42, day());
        assert_eq!(c.url, "http://x/states/UKR?record=42");
        // A pinned version beyond the record is not a version the page showed.
        let c = Cite::new("Ukraine", "http://x", "/states/UKR?record=99", 42, day());
        assert_eq!(c.record, 42);
    }

    #[test]
    fn csl_json_and_bibtex_say_the_same() {
        let c = Cite::new(
            "Deadlines & 100% {done}",
            "http://x",
            "/deadlines",
            5,
            day(),
        );
        let csl = serde_json::to_value(&c.csl).expect("json");
        assert_eq!(csl[0]["type"], "webpage");
        assert_eq!(csl[0]["URL"], "http://x/deadlines?record=5");
        assert_eq!(
            csl[0]["accessed"]["date-parts"],
            serde_json::json!([[2026, 6, 1]])
        );
        assert!(
            c.bibtex.starts_with("@misc{minewatch-deadlines-r5,"),
            "{}",
            c.bibtex
        );
        assert!(
            c.bibtex
                .contains("title = {Deadlines \\& 100\\% \\{done\\}}"),
            "{}",
            c.bibtex
        );
        assert!(
            c.bibtex.contains("\\url{http://x/deadlines?record=5}"),
            "{}",
            c.bibtex
        );
        // Balanced braces: a reference manager reads the entry to its end.
        let depth = c
            .bibtex
            .chars()
            .try_fold((0i32, false), |(d, esc), ch| match (esc, ch) {
                (true, _) => Some((d, false)),
                (false, '\\') => Some((d, true)),
                (false, '{') => Some((d + 1, false)),
                (false, '}') if d == 0 => None,
                (false, '}') => Some((d - 1, false)),
                _ => Some((d, false)),
            });
        assert_eq!(depth, Some((0, false)), "{}", c.bibtex);
    }
}
