//! HTML building blocks: escaping, the page layout, tables, footnotes, the as-of form.
//!
//! Every piece of text from the record goes through [`esc`]; markup is only ever built here and in
//! the page functions from escaped parts.

use minewatch_domain::{Citation, Date, PartialDate, Source};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query or path component.
pub fn url_enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A page: title, body, and the alternates advertised in the head.
#[derive(Debug, Default)]
pub struct Page {
    pub title: String,
    /// Already-escaped HTML for `<main>`.
    pub main: String,
    /// The page's JSON twin.
    pub json_href: Option<String>,
    /// Atom feeds advertised with `<link rel="alternate">`: (href, title).
    pub feeds: Vec<(String, String)>,
    /// CSV downloads of the page's tables: (href, label).
    pub csv: Vec<(String, String)>,
}

const NAV: [(&str, &str); 10] = [
    ("/", "Home"),
    ("/states", "States"),
    ("/deadlines", "Deadlines"),
    ("/article5", "Article 5"),
    ("/meetings", "Meetings"),
    ("/unga", "General Assembly"),
    ("/policies", "Policies"),
    ("/classify", "Mine classifier"),
    ("/sources", "Sources"),
    ("/search", "Search"),
];

/// The whole document around a page.
pub fn layout(p: &Page) -> String {
    let mut head = String::new();
    if let Some(j) = &p.json_href {
        let _ = write!(
            head,
            r#"<link rel="alternate" type="application/json" href="{}">"#,
            esc(j)
        );
    }
    let mut feeds = p.feeds.clone();
    if !feeds.iter().any(|(h, _)| h == "/feed.atom") {
        feeds.push((
            "/feed.atom".into(),
            "minewatch: changes to the record".into(),
        ));
    }
    for (href, title) in &feeds {
        let _ = write!(
            head,
            r#"<link rel="alternate" type="application/atom+xml" href="{}" title="{}">"#,
            esc(href),
            esc(title)
        );
    }
    let nav: String = NAV
        .iter()
        .map(|(h, l)| format!(r#"<li><a href="{h}">{l}</a></li>"#))
        .collect();
    let mut alt = String::new();
    if let Some(j) = &p.json_href {
        let _ = write!(alt, r#"<a href="{}">JSON</a>"#, esc(j));
    }
    for (href, label) in &p.csv {
        let _ = write!(alt, r#" · <a href="{}">{}</a>"#, esc(href), esc(label));
    }
    for (href, title) in &p.feeds {
        let _ = write!(
            alt,
            r#" · <a href="{}">Atom feed: {}</a>"#,
            esc(href),
            esc(title)
        );
    }
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · minewatch</title><link rel="stylesheet" href="/assets/style.css">{head}</head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="site"><a class="brand" href="/">minewatch</a><nav aria-label="Main"><ul>{nav}</ul></nav></header>
<main id="main">{main}</main>
<footer class="site"><p class="alt">{alt}</p><p>minewatch: an open monitor of the Mine Ban Treaty. Every statement is footnoted to its source; derived statements give their reasons. <a href="/api/v1/openapi.json">API</a> · <a href="/feed.atom">Changes (Atom)</a></p></footer>
</body></html>"##,
        title = esc(&p.title),
        main = p.main,
        alt = alt.trim_start_matches(" · "),
    )
}

/// A table: caption, header cells (text), rows of already-escaped cells.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!(
        r#"<div class="table"><table><caption>{}</caption><thead><tr>"#,
        esc(caption)
    );
    for h in headers {
        let _ = write!(s, r#"<th scope="col">{}</th>"#, esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// A GET form with a date field, keeping other parameters as hidden fields.
pub fn as_of_form(action: &str, as_of: Date, hidden: &[(&str, &str)], label: &str) -> String {
    let mut h = String::new();
    for (k, v) in hidden {
        let _ = write!(
            h,
            r#"<input type="hidden" name="{}" value="{}">"#,
            esc(k),
            esc(v)
        );
    }
    format!(
        r#"<form class="asof" method="get" action="{}"><label for="as_of">{}</label> <input type="date" id="as_of" name="as_of" value="{}" min="1990-01-01" max="2100-12-31" required>{h}<button type="submit">Show</button></form>"#,
        esc(action),
        esc(label),
        as_of
    )
}

/// "18 October 2010".
pub fn long(d: Date) -> String {
    d.long()
}

/// "18 October 2010", "October 2010", "2010", or "undated".
pub fn plong(d: Option<PartialDate>) -> String {
    d.map(|d| d.long()).unwrap_or_else(|| "undated".into())
}

/// Numbered footnotes: each distinct (source, locator) gets a number the first time it is cited.
#[derive(Debug)]
pub struct Footnotes<'a> {
    sources: &'a HashMap<String, Source>,
    order: Vec<Citation>,
}

impl<'a> Footnotes<'a> {
    pub fn new(sources: &'a HashMap<String, Source>) -> Footnotes<'a> {
        Footnotes {
            sources,
            order: Vec::new(),
        }
    }

    /// Superscript links for the citations, e.g. `[3][4]`.
    pub fn cite(&mut self, cites: &[Citation]) -> String {
        let mut s = String::new();
        for n in self.numbers(cites) {
            let _ = write!(
                s,
                r##"<sup class="fn"><a href="#fn{n}" aria-label="footnote {n}">[{n}]</a></sup>"##
            );
        }
        s
    }

    /// The footnote numbers of the citations (each once, in order), numbering new ones: for
    /// markup that cannot hold a `<sup>` (SVG labels).
    pub fn numbers(&mut self, cites: &[Citation]) -> Vec<usize> {
        let mut seen = Vec::new();
        for c in cites {
            let n = match self.order.iter().position(|o| o == c) {
                Some(i) => i + 1,
                None => {
                    self.order.push(c.clone());
                    self.order.len()
                }
            };
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        seen
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The list of footnotes, each linking to its source's page.
    pub fn render(&self) -> String {
        if self.order.is_empty() {
            return String::new();
        }
        let mut s = String::from(
            r#"<section class="footnotes" aria-labelledby="footnotes"><h2 id="footnotes">Sources</h2><ol>"#,
        );
        for (i, c) in self.order.iter().enumerate() {
            let n = i + 1;
            let entry = match self.sources.get(&c.source) {
                Some(src) => source_line(src),
                None => esc(&c.source),
            };
            let loc = c
                .locator
                .as_deref()
                .map(|l| format!(", {}", esc(l)))
                .unwrap_or_default();
            let _ = write!(
                s,
                r#"<li id="fn{n}">{entry}{loc}. <a class="source-link" href="/sources/{}">Source entry</a></li>"#,
                url_enc(&c.source)
            );
        }
        s.push_str("</ol></section>");
        s
    }
}

/// "Title, Publisher, 18 October 2010" with the title linked to the URL when there is one.
pub fn source_line(src: &Source) -> String {
    let title = match &src.url {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => format!(
            r#"<a href="{}" rel="external noopener">{}</a>"#,
            esc(u),
            esc(&src.title)
        ),
        _ => format!("<cite>{}</cite>", esc(&src.title)),
    };
    let mut s = title;
    if let Some(p) = &src.publisher {
        let _ = write!(s, ", {}", esc(p));
    }
    if let Some(d) = src.published {
        let _ = write!(s, ", {}", esc(&d.long()));
    }
    s
}

/// A status word as a label with its CSS class.
pub fn status_badge(status: &str) -> String {
    format!(
        r#"<span class="badge st-{}">{}</span>"#,
        esc(status),
        esc(&status_words(status))
    )
}

/// The status word in plain English.
pub fn status_words(status: &str) -> String {
    match status {
        "non_signatory" => "not a State Party (never signed)".into(),
        "signatory" => "signatory (signed, no instrument deposited)".into(),
        "deposited" => "instrument deposited, not yet in force".into(),
        "state_party" => "State Party".into(),
        "withdrawal_pending" => "State Party, withdrawal pending".into(),
        "withdrawn" => "withdrawn".into(),
        other => other.replace('_', " "),
    }
}

/// Legend labels for the map and counts.
pub const STATUSES: [&str; 6] = [
    "state_party",
    "withdrawal_pending",
    "deposited",
    "signatory",
    "non_signatory",
    "withdrawn",
];

/// CSV text from a header and rows (RFC 4180 quoting).
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = headers
        .iter()
        .map(|h| field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_markup_inert() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(url_enc("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
    }

    #[test]
    fn footnotes_number_each_citation_once() {
        let mut sources = HashMap::new();
        sources.insert(
            "s1".to_string(),
            Source {
                key: "s1".into(),
                title: "A <b>title</b>".into(),
                publisher: None,
                published: None,
                url: Some("javascript:alert(1)".into()),
                note: None,
            },
        );
        let mut f = Footnotes::new(&sources);
        let c1 = Citation {
            source: "s1".into(),
            locator: Some("p. 3".into()),
        };
        let c2 = Citation {
            source: "s2".into(),
            locator: None,
        };
        assert!(f.cite(std::slice::from_ref(&c1)).contains("[1]"));
        let both = f.cite(&[c2.clone(), c1.clone()]);
        assert!(both.contains("[2]") && both.contains("[1]"), "{both}");
        let list = f.render();
        assert_eq!(list.matches("<li").count(), 2);
        assert!(list.contains("A &lt;b&gt;title&lt;/b&gt;"));
        // Only http(s) URLs become links.
        assert!(!list.contains("javascript:"), "{list}");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let s = csv(&["a", "b"], &[vec!["x,y".into(), "say \"hi\"".into()]]);
        assert_eq!(s, "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n");
    }
}
