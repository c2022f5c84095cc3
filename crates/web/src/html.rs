//! HTML building blocks: the page layout and the partials every page shares (tables, footnotes,
//! the as-of form, source lines, status badges), as maud templates.
//!
//! Markup is only built by maud's `html!`, which escapes every value it is given unless it is
//! already [`Markup`]: text from the record can only reach a page escaped. [`esc`] remains for
//! the XML of the Atom feeds and the SVG drawn outside templates.

pub use maud::{html, Markup, PreEscaped};
use minewatch_domain::{Citation, Date, PartialDate, Source};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Escapes text for XML/HTML element content and double- or single-quoted attributes.
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
    /// What goes in `<main>`.
    pub main: Markup,
    /// The page's JSON twin.
    pub json_href: Option<String>,
    /// Atom feeds advertised with `<link rel="alternate">`: (href, title).
    pub feeds: Vec<(String, String)>,
    /// CSV downloads of the page's tables: (href, label).
    pub csv: Vec<(String, String)>,
    /// How to cite the page (set for public pages by [`crate::page::run_plain`]).
    pub cite: Option<minewatch_answers::cite::Cite>,
}

/// The "Cite this page" block: the citation with its permalink, the terms, and the same as
/// BibTeX and CSL-JSON to copy.
fn cite_block(c: &minewatch_answers::cite::Cite) -> Markup {
    let csl = serde_json::to_string_pretty(&c.csl).unwrap_or_default();
    html! {
        section #cite class="cite" aria-labelledby="cite-h" {
            h2 #cite-h { "Cite this page" }
            p class="citation" {
                (c.title) ". " (c.publisher) ". "
                a href=(c.url) rel="bookmark" { (c.url) }
                " (record version " (c.record) "; accessed "
                time datetime=(c.accessed) { (c.accessed.long()) } ")."
            }
            p class="terms" {
                "Terms: " (c.licence) " "
                a href="/downloads" { "Downloads and terms" }
            }
            details {
                summary { "BibTeX" }
                pre { code { (c.bibtex) } }
            }
            details {
                summary { "CSL-JSON" }
                pre { code { (csl) } }
            }
        }
    }
}

const NAV: [(&str, &str); 12] = [
    ("/", "Home"),
    ("/states", "States"),
    ("/deadlines", "Deadlines"),
    ("/article5", "Article 5"),
    ("/meetings", "Meetings"),
    ("/casualties", "Casualties"),
    ("/use", "Use"),
    ("/unga", "General Assembly"),
    ("/policies", "Policies"),
    ("/classify", "Mine classifier"),
    ("/sources", "Sources"),
    ("/search", "Search"),
];

/// The whole document around a page.
pub fn layout(p: &Page) -> Markup {
    let mut feeds = p.feeds.clone();
    if !feeds.iter().any(|(h, _)| h == "/feed.atom") {
        feeds.push((
            "/feed.atom".into(),
            "minewatch: changes to the record".into(),
        ));
    }
    // The footer's alternates: JSON, CSV downloads, feeds, separated by " · ".
    let mut alt: Vec<Markup> = Vec::new();
    if let Some(j) = &p.json_href {
        alt.push(html! { a href=(j) { "JSON" } });
    }
    for (href, label) in &p.csv {
        alt.push(html! { a href=(href) { (label) } });
    }
    for (href, title) in &p.feeds {
        alt.push(html! { a href=(href) { "Atom feed: " (title) } });
    }
    if p.cite.is_some() {
        alt.push(html! { a href="#cite" { "Cite this page" } });
    }
    html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (p.title) " · minewatch" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/assets/style.css";
                @if let Some(j) = &p.json_href {
                    link rel="alternate" type="application/json" href=(j);
                }
                @for (href, title) in &feeds {
                    link rel="alternate" type="application/atom+xml" href=(href) title=(title);
                }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    a.brand href="/" { "minewatch" }
                    nav aria-label="Main" {
                        ul {
                            @for (h, l) in NAV {
                                li { a href=(h) { (l) } }
                            }
                        }
                    }
                }
                main #main { (p.main) }
                footer.site {
                    @if let Some(c) = &p.cite {
                        (cite_block(c))
                    }
                    p.alt {
                        @for (i, a) in alt.iter().enumerate() {
                            @if i > 0 { " · " }
                            (a)
                        }
                    }
                    p {
                        "minewatch: an open monitor of the Mine Ban Treaty. Every statement is \
                         footnoted to its source; derived statements give their reasons. "
                        a href="/api/v1/openapi.json" { "API" }
                        " · "
                        a href="/downloads" { "Downloads" }
                        " · "
                        a href="/feed.atom" { "Changes (Atom)" }
                    }
                }
            }
        }
    }
}

/// A table: caption, header cells (text), rows of cells.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<Markup>]) -> Markup {
    html! {
        div.table {
            table {
                caption { (caption) }
                thead { tr { @for h in headers { th scope="col" { (h) } } } }
                tbody {
                    @for r in rows {
                        tr { @for c in r { td { (c) } } }
                    }
                }
            }
        }
    }
}

/// A GET form with a date field, keeping other parameters as hidden fields.
pub fn as_of_form(action: &str, as_of: Date, hidden: &[(&str, &str)], label: &str) -> Markup {
    html! {
        form.asof method="get" action=(action) {
            label for="as_of" { (label) }
            " "
            input type="date" id="as_of" name="as_of" value=(as_of) min="1990-01-01"
                max="2100-12-31" required;
            @for (k, v) in hidden {
                input type="hidden" name=(k) value=(v);
            }
            button type="submit" { "Show" }
        }
    }
}

/// "18 October 2010".
pub fn long(d: Date) -> String {
    d.long()
}

/// "18 October 2010", "October 2010", "2010", or "undated".
pub fn plong(d: Option<PartialDate>) -> String {
    d.map(|d| d.long()).unwrap_or_else(|| "undated".into())
}

/// A date as a reader and a machine read it: its text, and the value in `datetime`.
pub trait Dated: Copy {
    /// "18 October 2010", "October 2010", "2010".
    fn words(self) -> String;
    /// A valid HTML date string: `2010-10-18`, `2010-10` (a month), `2010` (a year).
    fn machine(self) -> String;
}

impl Dated for Date {
    fn words(self) -> String {
        self.long()
    }
    fn machine(self) -> String {
        self.to_string()
    }
}

impl Dated for PartialDate {
    fn words(self) -> String {
        self.long()
    }
    fn machine(self) -> String {
        self.to_string()
    }
}

/// `<time datetime="2010-10-18">18 October 2010</time>` (a month or a year as precise as
/// the source).
pub fn date<D: Dated>(d: D) -> Markup {
    html! { time datetime=(d.machine()) { (d.words()) } }
}

/// [`date`], or "undated".
pub fn date_or_undated<D: Dated>(d: Option<D>) -> Markup {
    match d {
        Some(d) => date(d),
        None => html! { "undated" },
    }
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
    pub fn cite(&mut self, cites: &[Citation]) -> Markup {
        let numbers = self.numbers(cites);
        html! {
            @for n in numbers {
                sup.fn { a href={ "#fn" (n) } aria-label={ "footnote " (n) } { "[" (n) "]" } }
            }
        }
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
    pub fn render(&self) -> Markup {
        if self.order.is_empty() {
            return Markup::default();
        }
        html! {
            section.footnotes aria-labelledby="footnotes" {
                h2 #footnotes { "Sources" }
                ol {
                    @for (i, c) in self.order.iter().enumerate() {
                        li id={ "fn" (i + 1) } {
                            @match self.sources.get(&c.source) {
                                Some(src) => (source_line(src)),
                                None => (c.source),
                            }
                            @if let Some(l) = &c.locator { ", " (l) }
                            ". "
                            a.source-link href={ "/sources/" (url_enc(&c.source)) } { "Source entry" }
                        }
                    }
                }
            }
        }
    }
}

/// "Title, Publisher, 18 October 2010" with the title linked to the URL when there is one.
pub fn source_line(src: &Source) -> Markup {
    html! {
        @match &src.url {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                a href=(u) rel="external noopener" { (src.title) }
            }
            _ => cite { (src.title) },
        }
        @if let Some(p) = &src.publisher { ", " (p) }
        @if let Some(d) = src.published { ", " (d.long()) }
    }
}

/// A status word as a label with its CSS class.
pub fn status_badge(status: &str) -> Markup {
    html! { span class={ "badge st-" (status) } { (status_words(status)) } }
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
        assert!(f
            .cite(std::slice::from_ref(&c1))
            .into_string()
            .contains("[1]"));
        let both = f.cite(&[c2.clone(), c1.clone()]).into_string();
        assert!(both.contains("[2]") && both.contains("[1]"), "{both}");
        let list = f.render().into_string();
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
