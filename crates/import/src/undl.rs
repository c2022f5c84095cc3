//! `unga-undl`: UN General Assembly votes in the UN Digital Library's own format (the UN Dag
//! Hammarskjöld Library's "General Assembly Voting Data": one row per Member State and vote,
//! `undl_id, ms_code, ms_name, ms_vote (Y/N/A/X), date, session, resolution, title, total_yes,
//! total_no, total_abstentions, total_non_voting, total_ms, undl_link`, and in the full file
//! `draft, committee_report, meeting, agenda_title, subjects, vote_note` as well).
//!
//! Columns are found by their header names; the ones this importer needs are required, the
//! others ignored. The file is read record by record (the full dataset has close to a million
//! rows): only the rows of the roll calls it keeps are held, so memory is bounded by those roll
//! calls, not by the file. A roll call is kept when its resolution is in `--resolutions`, or,
//! without that list, when it has a resolution number and its title contains
//! [`TITLE_RULE`] ([`names_the_convention`]: ignoring case, hyphens and spacing), which the
//! titles of the resolutions on the Convention on the Prohibition of the Use, Stockpiling,
//! Production and Transfer of Anti-personnel Mines and on Their Destruction contain.
//!
//! Every row of a kept roll call is checked (vote, Member State code, date, numbers, agreement
//! with the roll call's other rows), then every kept roll call's rows are counted against its
//! published totals. Rows of other roll calls are only read as CSV (a truncated record or an
//! unterminated quote anywhere is reported). Nothing is written unless every check passes.

use crate::row::{Ctx, Row};
use crate::{write_items, ImportError, Item, Progress};
use minewatch_domain::fact::{UngaRollCall, UngaVote, Vote};
use minewatch_domain::{Citation, Date, Payload, Source};
use minewatch_store::{Batch, NewFact};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

/// The importer's name.
pub const NAME: &str = "unga-undl";

/// The source cited when `--source` is not given (recorded by the import when missing).
pub const DEFAULT_SOURCE: &str = "undl-ga-voting-data";

/// Without `--resolutions`, a roll call is kept when it has a resolution number and its title
/// contains this, compared ignoring case, with any run of spaces, hyphens or other punctuation
/// counted as one space, and "antipersonnel" counted as "anti-personnel" (the Library writes
/// "Anti-personnel Mines", "Anti-Personnel Mines" and "Anti Personnel Mines"): see
/// [`names_the_convention`].
pub const TITLE_RULE: &str = "anti-personnel mines";

/// The selection rule on a title (see [`TITLE_RULE`]).
pub fn names_the_convention(title: &str) -> bool {
    let mut folded = String::with_capacity(title.len());
    let mut space = true;
    for c in title.chars() {
        if c.is_alphanumeric() {
            folded.extend(c.to_lowercase());
            space = false;
        } else if !space {
            folded.push(' ');
            space = true;
        }
    }
    folded.contains("anti personnel mines") || folded.contains("antipersonnel mines")
}

/// The columns the importer needs.
pub const REQUIRED: &[&str] = &[
    "undl_id",
    "ms_code",
    "ms_vote",
    "date",
    "session",
    "resolution",
    "title",
    "total_yes",
    "total_no",
    "total_abstentions",
    "total_non_voting",
    "total_ms",
];

/// Columns it reads when present (the full file's other columns are ignored).
pub const OPTIONAL: &[&str] = &["ms_name", "undl_link"];

/// The topic recorded for a roll call whose title names the Convention.
const TOPIC: &str = "apmbc_implementation";

/// The default source: the Library's dataset, with its terms.
pub fn default_source() -> Source {
    Source {
        key: DEFAULT_SOURCE.into(),
        title: "General Assembly Voting Data".into(),
        publisher: Some("United Nations Dag Hammarskjöld Library".into()),
        published: None,
        url: None,
        note: Some(
            "The UN Digital Library's voting data: every recorded General Assembly vote, one row per Member State and vote (Y, N, A, X = non-voting), with the published totals. Terms: non-commercial use, with attribution (cite \"United Nations Dag Hammarskjöld Library, General Assembly Voting Data\"). Imported with `minewatch import unga-undl`; the shipped record reads data/research/unga/undl_votes_2008_2024.csv, an extract in this format transcribed from a public scrape of the Digital Library's voting records (see data/research/README.md)."
                .into(),
        ),
    }
}

/// "A/RES/78/45" -> "78/45" (the form minewatch's pages and the other UN files use).
pub fn short_resolution(s: &str) -> String {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    match upper.strip_prefix("A/RES/") {
        Some(_) => t[6..].trim().to_string(),
        None => t.to_string(),
    }
}

/// Whether a `--resolutions` entry looks like a resolution number (`78/45`, `52/38A`).
pub fn valid_resolution(s: &str) -> bool {
    let mut parts = s.splitn(2, '/');
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
        return false;
    };
    !a.is_empty()
        && a.chars().all(|c| c.is_ascii_digit())
        && b.chars().next().is_some_and(|c| c.is_ascii_digit())
        && b.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
}

/// The line numbers of records, counted from the bytes read: the csv crate's own count is one
/// short after a CRLF line end (the UN files use them). Holds only the offsets of the line
/// breaks read ahead of the current record (one buffer's worth).
#[derive(Default)]
struct NewLines {
    /// Offsets of line feeds read but not yet passed.
    ahead: std::collections::VecDeque<u64>,
    /// Line feeds passed.
    passed: u64,
    /// Bytes read so far.
    read: u64,
}

impl NewLines {
    /// The line of a record starting at byte `start` (at its first byte, or at the line feed
    /// that ends the previous record's CRLF).
    fn line_at(&mut self, start: u64) -> u64 {
        while self.ahead.front().is_some_and(|&o| o <= start) {
            self.ahead.pop_front();
            self.passed += 1;
        }
        // A record that starts at a line feed starts on the next line, which is now counted.
        self.passed + 1
    }
}

struct CountLines<R> {
    inner: R,
    newlines: std::rc::Rc<std::cell::RefCell<NewLines>>,
}

impl<R: Read> Read for CountLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut nl = self.newlines.borrow_mut();
        let base = nl.read;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                nl.ahead.push_back(base + i as u64);
            }
        }
        nl.read += n as u64;
        Ok(n)
    }
}

/// A roll call being read: its first row's values and the rows counted so far.
struct RollCall {
    line: u64,
    id: u32,
    date: Date,
    session: u32,
    resolution: String,
    topic: &'static str,
    /// total_yes, total_no, total_abstentions, total_non_voting, total_ms
    totals: [u64; 5],
    url: Option<String>,
    votes: Vec<(String, Vote, Option<String>)>,
    /// Member State code -> line of its row.
    seen: HashMap<String, u64>,
}

const TOTALS: [&str; 5] = [
    "total_yes",
    "total_no",
    "total_abstentions",
    "total_non_voting",
    "total_ms",
];

fn parse_vote(v: &str) -> Option<Vote> {
    match v.trim().to_ascii_uppercase().as_str() {
        "Y" => Some(Vote::Yes),
        "N" => Some(Vote::No),
        "A" => Some(Vote::Abstain),
        "X" => Some(Vote::NonVoting),
        _ => None,
    }
}

/// Reads the whole file, then (when every check passed) writes the kept roll calls and votes.
pub(crate) fn read<R: Read>(
    ctx: &mut Ctx<'_>,
    batch: &mut Batch<'_>,
    reader: R,
    resolutions: Option<&[String]>,
    ensure_default: bool,
    progress: &Progress,
) -> Result<u64, ImportError> {
    let wanted: Option<BTreeSet<String>> = resolutions.map(|list| {
        let mut set = BTreeSet::new();
        for r in list {
            let s = short_resolution(r);
            if valid_resolution(&s) {
                set.insert(s.to_ascii_uppercase());
            } else {
                ctx.problem_at(
                    0,
                    None,
                    "--resolutions",
                    &format!("{r:?} is not a resolution number; expected SESSION/NUMBER such as 78/45 (or A/RES/78/45)"),
                );
            }
        }
        set
    });
    let newlines = std::rc::Rc::new(std::cell::RefCell::new(NewLines::default()));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(CountLines {
            inner: reader,
            newlines: std::rc::Rc::clone(&newlines),
        });
    let mut record = csv::ByteRecord::new();
    let mut header: Vec<String> = Vec::new();
    let mut columns: HashMap<String, usize> = HashMap::new();
    let mut first = true;
    let mut rows = 0u64;
    // Column indices of what selection needs (filled from the header).
    let (mut c_id, mut c_res, mut c_title) = (usize::MAX, usize::MAX, usize::MAX);
    // The last roll call seen and whether it was kept (rows of one vote come together).
    let mut last_id: Vec<u8> = Vec::new();
    let mut last_keep = false;
    let mut calls: BTreeMap<u32, RollCall> = BTreeMap::new();
    let mut found: BTreeSet<String> = BTreeSet::new();
    // Roll calls (undl_id as written) with a row that had a problem: their counts would only
    // repeat it, so they are not compared with the totals.
    let mut tainted: BTreeSet<String> = BTreeSet::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| newlines.borrow_mut().line_at(p.byte()));
                ctx.problem_at(line, None, "", &format!("cannot read CSV: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record
            .position()
            .map_or(0, |p| newlines.borrow_mut().line_at(p.byte()));
        if first {
            first = false;
            header = record
                .iter()
                .map(|h| {
                    String::from_utf8_lossy(h)
                        .trim()
                        .trim_start_matches('\u{feff}')
                        .to_string()
                })
                .collect();
            for (i, h) in header.iter().enumerate() {
                if header[..i].contains(h) && REQUIRED.contains(&h.as_str()) {
                    ctx.problem_at(
                        line,
                        Some(i + 1),
                        h,
                        "column appears twice; expected each column once",
                    );
                }
            }
            columns = header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), i))
                .rev()
                .collect();
            for r in REQUIRED {
                if !columns.contains_key(*r) {
                    ctx.problem_at(
                        line,
                        None,
                        r,
                        &format!(
                            "missing column {r:?}; expected a header with the UN Digital Library's columns, at least: {}",
                            REQUIRED.join(", ")
                        ),
                    );
                }
            }
            let at = |n: &str| columns.get(n).copied();
            match (at("undl_id"), at("resolution"), at("title")) {
                (Some(a), Some(b), Some(c)) => (c_id, c_res, c_title) = (a, b, c),
                // Without these nothing can be selected: the header problem is reported.
                _ => return Ok(0),
            }
            continue;
        }
        rows += 1;
        progress.tick(rows, record.position().map(|p| p.byte()).unwrap_or(0));
        if record.len() != header.len() {
            // A quoted field with a line break in it: a quote that was not closed where it
            // should have been swallowed what followed (the format has no multi-line fields).
            let runs_on = record
                .iter()
                .position(|f| f.contains(&b'\n') || f.contains(&b'\r'));
            match runs_on {
                Some(i) => {
                    let breaks = record
                        .get(i)
                        .map_or(0, |f| f.iter().filter(|b| **b == b'\n').count());
                    ctx.problem_at(
                        line,
                        Some(i + 1),
                        header.get(i).map_or("", String::as_str),
                        &format!(
                            "a quoted field opened here is not closed (an unterminated quote): it runs on across {breaks} line break{}, leaving the record with {} fields; expected a closing '\"' at the end of the field",
                            if breaks == 1 { "" } else { "s" },
                            record.len()
                        ),
                    )
                }
                None if record.len() < header.len() => ctx.problem_at(
                    line,
                    Some(record.len() + 1),
                    &header[record.len()],
                    &format!(
                        "the record ends after {} of its {} fields (a truncated file or line?); expected one field per header column",
                        record.len(),
                        header.len()
                    ),
                ),
                None => ctx.problem_at(
                    line,
                    Some(header.len() + 1),
                    "",
                    &format!(
                        "the record has {} fields; expected {} (one per header column)",
                        record.len(),
                        header.len()
                    ),
                ),
            }
            if let Some(id) = record.get(c_id) {
                tainted.insert(String::from_utf8_lossy(id).trim().to_string());
            }
            continue;
        }
        let raw_id = record.get(c_id).unwrap_or_default();
        let keep = if raw_id == last_id.as_slice() && !last_id.is_empty() {
            last_keep
        } else {
            let res = short_resolution(&String::from_utf8_lossy(
                record.get(c_res).unwrap_or_default(),
            ));
            let keep = match &wanted {
                Some(set) => {
                    let r = res.to_ascii_uppercase();
                    let keep = set.contains(&r);
                    if keep {
                        found.insert(r);
                    }
                    keep
                }
                None => {
                    !res.is_empty()
                        && names_the_convention(&String::from_utf8_lossy(
                            record.get(c_title).unwrap_or_default(),
                        ))
                }
            };
            last_id.clear();
            last_id.extend_from_slice(raw_id);
            last_keep = keep;
            keep
        };
        if !keep {
            continue;
        }
        // A kept row: decode it and check every field.
        let mut fields = Vec::with_capacity(record.len());
        let mut bad = false;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s.to_string()),
                Err(e) => {
                    ctx.problem_at(
                        line,
                        Some(i + 1),
                        &header[i],
                        &format!(
                            "invalid UTF-8 at byte {} of the field; expected UTF-8 text",
                            e.valid_up_to()
                        ),
                    );
                    bad = true;
                    fields.push(String::new());
                }
            }
        }
        let before = ctx.problem_count();
        if !bad {
            let row = Row {
                fields: &fields,
                columns: &columns,
                line,
            };
            check_row(ctx, &row, &mut calls);
        }
        if ctx.problem_count() > before {
            tainted.insert(String::from_utf8_lossy(raw_id).trim().to_string());
        }
    }
    if first {
        ctx.problem_at(
            1,
            None,
            "",
            "the file is empty; expected a header row and data rows",
        );
        return Ok(0);
    }
    if let Some(set) = &wanted {
        for r in set.difference(&found) {
            ctx.problem_at(
                0,
                None,
                "--resolutions",
                &format!("resolution {r} is not in the file; expected a resolution the file records a vote on"),
            );
        }
    }
    // Every kept roll call's rows against its published totals.
    for rc in calls.values() {
        if tainted.contains(&rc.id.to_string()) {
            continue;
        }
        let mut counted = [0u64; 5];
        for (_, v, _) in &rc.votes {
            let i = match v {
                Vote::Yes => 0,
                Vote::No => 1,
                Vote::Abstain => 2,
                Vote::NonVoting => 3,
            };
            counted[i] += 1;
        }
        counted[4] = rc.votes.len() as u64;
        let what = ["Y", "N", "A", "X", "Member State"];
        for i in 0..5 {
            if counted[i] != rc.totals[i] {
                let col = columns.get(TOTALS[i]).map(|c| c + 1);
                ctx.problem_at(
                    rc.line,
                    col,
                    TOTALS[i],
                    &format!(
                        "roll call {} (resolution {}) has {} {} row{} in the file but {} = {}; expected the rows to add up to the published totals",
                        rc.id,
                        rc.resolution,
                        counted[i],
                        what[i],
                        if counted[i] == 1 { "" } else { "s" },
                        TOTALS[i],
                        rc.totals[i]
                    ),
                );
            }
        }
    }
    if ctx.problem_count() > 0 {
        return Ok(rows);
    }
    let Some(source) = ctx.default_source.clone() else {
        return Ok(rows);
    };
    if ensure_default {
        write_items(ctx, batch, 0, vec![Item::EnsureSource(default_source())])?;
    }
    for rc in calls.into_values() {
        write_items(ctx, batch, rc.line, items(ctx, &source, rc))?;
    }
    Ok(rows)
}

fn check_row(ctx: &mut Ctx<'_>, row: &Row<'_>, calls: &mut BTreeMap<u32, RollCall>) {
    let id = crate::kinds::u32_field(ctx, row, "undl_id");
    let vote = match row.req(ctx, "ms_vote", "Y, N, A or X") {
        Some(v) => {
            let p = parse_vote(v);
            if p.is_none() {
                row.bad(
                    ctx,
                    "ms_vote",
                    &format!("{v:?} is not a vote; expected Y (yes), N (no), A (abstain) or X (non-voting)"),
                );
            }
            p
        }
        None => None,
    };
    let code = match row.req(ctx, "ms_code", "a Member State's ISO 3166 alpha-3 code") {
        Some(v) => match ctx.gazetteer.by_code(v) {
            Some(s) => Some(s.code.clone()),
            None => {
                let key = row.opt("ms_name").unwrap_or(v);
                let candidates = ctx
                    .gazetteer
                    .closest(&minewatch_domain::normalize_name(key), 3);
                let hint = if candidates.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (closest names: {})",
                        candidates
                            .iter()
                            .map(|(c, n)| format!("{n} ({c})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                row.bad(
                    ctx,
                    "ms_code",
                    &format!("unknown Member State code {v:?}; expected an ISO 3166 alpha-3 code minewatch knows{hint}"),
                );
                None
            }
        },
        None => None,
    };
    let date = row.req_day(ctx, "date");
    let session = crate::kinds::u32_field(ctx, row, "session");
    let resolution = row
        .req(ctx, "resolution", "a resolution number such as A/RES/78/45")
        .map(short_resolution);
    let title = row
        .req(ctx, "title", "the resolution's title")
        .map(String::from);
    let mut totals = [0u64; 5];
    let mut totals_ok = true;
    for (i, t) in TOTALS.iter().enumerate() {
        match row.req_count(ctx, t) {
            Some(n) => totals[i] = n,
            None => totals_ok = false,
        }
    }
    let url = row.opt("undl_link").map(String::from);
    let name = row.opt("ms_name").map(String::from);
    let (
        Some(id),
        Some(vote),
        Some(code),
        Some(date),
        Some(session),
        Some(resolution),
        Some(title),
        true,
    ) = (id, vote, code, date, session, resolution, title, totals_ok)
    else {
        return;
    };
    let rc = calls.entry(id).or_insert_with(|| RollCall {
        line: row.line,
        id,
        date,
        session,
        resolution: resolution.clone(),
        topic: if names_the_convention(&title) {
            TOPIC
        } else {
            "other"
        },
        totals,
        url: url.clone(),
        votes: Vec::new(),
        seen: HashMap::new(),
    });
    // Every row of one roll call repeats its date, session, resolution and totals.
    let first = rc.line;
    let mut differs = |field: &str, this: String, there: String| {
        row.bad(
            ctx,
            field,
            &format!("{this:?} differs from {there:?} on line {first}, the first row of roll call {id}; expected every row of one roll call to agree"),
        );
    };
    let mut agree = true;
    if rc.date != date {
        differs("date", date.to_string(), rc.date.to_string());
        agree = false;
    }
    if rc.session != session {
        differs("session", session.to_string(), rc.session.to_string());
        agree = false;
    }
    if rc.resolution != resolution {
        differs("resolution", resolution, rc.resolution.clone());
        agree = false;
    }
    for (i, t) in TOTALS.iter().enumerate() {
        if rc.totals[i] != totals[i] {
            differs(t, totals[i].to_string(), rc.totals[i].to_string());
            agree = false;
        }
    }
    if !agree {
        return;
    }
    if let Some(prev) = rc.seen.get(&code) {
        row.bad(
            ctx,
            "ms_code",
            &format!("{code} already has a row in roll call {id} (line {prev}); expected one row per Member State"),
        );
        return;
    }
    rc.seen.insert(code.clone(), row.line);
    let display = ctx.gazetteer.by_code(&code).map(|s| s.name.clone());
    rc.votes
        .push((code, vote, name.filter(|n| Some(n) != display.as_ref())));
}

fn items(_ctx: &Ctx<'_>, source: &str, rc: RollCall) -> Vec<Item> {
    let citation = vec![Citation {
        source: source.to_string(),
        locator: Some(format!("record {}", rc.id)),
    }];
    let count = |i: usize| u32::try_from(rc.totals[i]).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(rc.votes.len() + 1);
    out.push(Item::Fact(NewFact {
        key: Some(format!("unga-roll-call:undl-{}", rc.id)),
        subject: "WLD".into(),
        valid_from: Some(rc.date.into()),
        valid_to: None,
        payload: Payload::UngaRollCall(UngaRollCall {
            rcid: rc.id,
            session: rc.session,
            resolution: rc.resolution.clone(),
            topic: rc.topic.into(),
            yes: count(0),
            no: count(1),
            abstain: count(2),
            non_voting: Some(count(3)),
            members: Some(count(4)),
            undl_id: Some(rc.id),
            url: rc.url.clone(),
        }),
        citations: citation.clone(),
        note: None,
        supersedes: None,
    }));
    for (code, vote, name) in rc.votes {
        out.push(Item::Fact(NewFact {
            key: Some(format!("unga-vote:undl-{}:{code}", rc.id)),
            subject: code,
            valid_from: Some(rc.date.into()),
            valid_to: None,
            payload: Payload::UngaVote(UngaVote {
                rcid: Some(rc.id),
                resolution: rc.resolution.clone(),
                vote,
                name_in_source: name,
            }),
            citations: citation.clone(),
            note: None,
            supersedes: None,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_rule_ignores_case_hyphens_and_spacing() {
        for t in [
            "Implementation of the Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of Anti-personnel Mines and on Their Destruction",
            "... Transfer of Anti Personnel Mines and on Their Destruction",
            "... Transfer of ANTI-PERSONNEL  MINES",
            "antipersonnel mines",
        ] {
            assert!(names_the_convention(t), "{t}");
        }
        for t in [
            "Assistance in mine action",
            "An international agreement to ban anti-personnel landmines",
            "anti-personnel",
        ] {
            assert!(!names_the_convention(t), "{t}");
        }
    }

    #[test]
    fn resolutions_are_read_with_or_without_their_prefix() {
        assert_eq!(short_resolution("A/RES/78/45"), "78/45");
        assert_eq!(short_resolution(" a/res/63/42 "), "63/42");
        assert_eq!(short_resolution("78/45"), "78/45");
        assert!(valid_resolution("52/38A"));
        assert!(!valid_resolution("foo"));
        assert!(!valid_resolution("78/"));
    }
}
