//! `minewatch import unga-undl`: the UN Digital Library's General Assembly voting data, through
//! the binary into real SQLite files, and the pages that show it.

use crate::support::*;
use std::collections::BTreeMap;
use std::path::Path;

const FILE: &str = "unga/undl_votes_2008_2024.csv";

/// The shipped extract's lines (header first).
fn lines() -> Vec<String> {
    std::fs::read_to_string(research(FILE))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// The header, and the rows of resolution `res` (as written, `A/RES/78/45`).
fn extract(res: &str) -> (String, Vec<String>) {
    let all = lines();
    let rows = all[1..]
        .iter()
        .filter(|l| l.contains(&format!(",{res},")))
        .cloned()
        .collect();
    (all[0].clone(), rows)
}

/// The published totals of one resolution in the shipped file, read with the csv crate:
/// (total_yes, total_no, total_abstentions, total_non_voting, total_ms).
fn totals(res: &str) -> (u32, u32, u32, u32, u32) {
    let mut r = csv::Reader::from_path(research(FILE)).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[col("resolution")] == res {
            let n = |c: &str| rec[col(c)].parse::<u32>().unwrap();
            return (
                n("total_yes"),
                n("total_no"),
                n("total_abstentions"),
                n("total_non_voting"),
                n("total_ms"),
            );
        }
    }
    panic!("{res} not in the file");
}

fn fact_count(db: &Path) -> i64 {
    let s = crate::support::open_store(db);
    counts(&s).0
}

fn kinds(db: &Path) -> BTreeMap<String, i64> {
    let s = crate::support::open_store(db);
    s.query_strings("SELECT kind || ' ' || CAST(COUNT(*) AS TEXT) FROM facts GROUP BY kind")
        .unwrap()
        .iter()
        .map(|row| {
            let (kind, n) = row.split_once(' ').unwrap();
            (kind.to_string(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn the_shipped_file_imports_and_reimporting_adds_nothing() {
    let dir = TempDir::new();
    let db = dir.path("undl.sqlite");
    let file = research(FILE);
    let file = file.to_str().unwrap();
    let rows = lines().len() - 1;
    let (ok, out, err) = minewatch(&db, &["import", "unga-undl", file]);
    assert!(ok, "{err}");
    // Six roll calls, one vote per row, and the default source recorded.
    assert!(
        out.contains(&format!(
            "{rows} rows: {} facts added, 0 superseded, 0 unchanged; 1 sources added",
            rows + 6
        )),
        "{out}"
    );
    let k = kinds(&db);
    assert_eq!(k.get("unga_roll_call"), Some(&6), "{k:?}");
    assert_eq!(k.get("unga_vote"), Some(&(rows as i64)), "{k:?}");
    let s = crate::support::open_store(&db);
    let src = s.source("undl-ga-voting-data").unwrap().unwrap();
    assert_eq!(src.source.title, "General Assembly Voting Data");
    assert_eq!(
        src.source.publisher.as_deref(),
        Some("United Nations Dag Hammarskjöld Library")
    );
    assert!(src
        .source
        .note
        .unwrap()
        .contains("non-commercial use, with attribution"));
    drop(s);
    // The same file again: the same keys with the same content add nothing.
    let before = fact_count(&db);
    let (ok, out, err) = minewatch(&db, &["import", "unga-undl", file]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "0 facts added, 0 superseded, {} unchanged",
            rows + 6
        )),
        "{out}"
    );
    assert_eq!(fact_count(&db), before);
}

#[test]
fn resolutions_selects_exactly_those() {
    let dir = TempDir::new();
    let db = dir.path("undl.sqlite");
    let file = research(FILE);
    let (ok, out, err) = minewatch(
        &db,
        &[
            "import",
            "unga-undl",
            file.to_str().unwrap(),
            "--resolutions",
            "63/42,A/RES/78/45",
        ],
    );
    assert!(ok, "{err}");
    let s = crate::support::open_store(&db);
    let mut calls: Vec<String> = s
        .query_strings("SELECT payload FROM facts WHERE kind = 'unga_roll_call'")
        .unwrap()
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            v["resolution"].as_str().unwrap().to_string()
        })
        .collect();
    calls.sort();
    assert_eq!(calls, ["63/42", "78/45"], "{out}");
    let votes: i64 = s
        .query_strings("SELECT COUNT(*) FROM facts WHERE kind = 'unga_vote'")
        .unwrap()[0]
        .parse()
        .unwrap();
    let (.., ms63) = totals("A/RES/63/42");
    let (.., ms78) = totals("A/RES/78/45");
    assert_eq!(votes, i64::from(ms63 + ms78));
    // A resolution the file does not record is an error, and nothing is written.
    let before = fact_count(&db);
    let (ok, _, err) = minewatch(
        &db,
        &[
            "import",
            "unga-undl",
            file.to_str().unwrap(),
            "--resolutions",
            "79/34,99/1",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("--resolutions: resolution 99/1 is not in the file"),
        "{err}"
    );
    assert_eq!(fact_count(&db), before);
}

#[test]
fn the_pages_show_the_undl_roll_calls() {
    let server = Server::start();
    // 78/45: the published tally, Russia against.
    let (y, n, a, x, _) = totals("A/RES/78/45");
    assert_eq!((y, n, a), (170, 1, 16));
    let t = text(&page(&server, "/unga/78/45"));
    assert!(t.contains("170 in favour, 1 against, 16 abstaining"), "{t}");
    assert!(t.contains("Voted against (1) Russian Federation"), "{t}");
    assert!(t.contains(&format!("Non-voting ({x})")), "{t}");
    // The States Parties recorded abstaining are kept and flagged, not dropped.
    for party in ["Rwanda", "Serbia"] {
        assert!(
            t.contains("a State Party recorded abstaining on resolution 78/45"),
            "{t}"
        );
        assert!(t.contains(party), "{party}: {t}");
    }
    // Exactly the States Parties data/research/README.md names as recorded abstaining.
    for (res, parties) in [
        ("75/52", vec!["PLW", "ZWE"]),
        ("76/26", vec!["SRB", "ZMB", "ZWE"]),
        ("77/63", vec!["CAF", "SRB"]),
        ("78/45", vec!["RWA", "SRB"]),
    ] {
        let v = twin(&server, &format!("/unga/{res}.json"));
        let mut flagged: Vec<&str> = v["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["subject"].as_str().unwrap())
            .collect();
        flagged.sort();
        assert_eq!(flagged, parties, "{res}");
        // Kept as recorded: they are counted among the abstentions.
        for p in &parties {
            assert!(
                v["roll_call"]["abstain"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c == p),
                "{res} {p}"
            );
        }
    }
    let (status, v) = server.get("/api/v1/unga/78/45");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["tally"]["yes"], 170);
    assert_eq!(v["tally"]["no"], 1);
    assert_eq!(v["tally"]["abstain"], 16);
    assert_eq!(v["tally"]["non_voting"], x);
    assert_eq!(v["recorded_votes"]["non_voting"], x);
    assert_eq!(v["tally_matches_recorded_votes"], true);
    let russia: Vec<&serde_json::Value> = v["votes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["code"] == "RUS")
        .collect();
    assert_eq!(russia.len(), 1);
    assert_eq!(russia[0]["vote"], "no");
    // 63/42 (2008), missing from the older source.
    assert_eq!(totals("A/RES/63/42").0, 163);
    let t = text(&page(&server, "/unga/63/42"));
    assert!(t.contains("163 in favour, 0 against, 18 abstaining"), "{t}");
    // The index: every year from the first recorded one, and the years without a roll call.
    let v = twin(&server, "/unga.json");
    let gaps: Vec<i64> = v["not_yet_recorded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["year"].as_i64().unwrap())
        .collect();
    assert!(gaps.contains(&2025), "{v}");
    assert!(gaps.iter().all(|y| *y >= 2025), "{gaps:?}");
    let s80 = v["not_yet_recorded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["year"] == 2025)
        .unwrap();
    assert_eq!(s80["session"], 80);
    let t = text(&page(&server, "/unga"));
    assert!(t.contains("2025 not yet recorded (session 80)"), "{t}");
    assert!(t.contains("79/34"), "{t}");
    let (status, _, csv) = server.get_text("/unga.csv");
    assert_eq!(status, 200);
    assert!(
        csv.contains("2025,,,,,not yet recorded (session 80)"),
        "{csv}"
    );
    assert!(csv.contains("2008-12-02,63/42,163,0,18,"), "{csv}");
}

/// Imports `body` (as input.csv) through the binary into a database that already holds a
/// record; asserts it fails with every `expected` text and that no fact was written.
fn rejects(body: &str, args: &[&str], expected: &[&str]) -> String {
    let dir = TempDir::new();
    let db = dir.path("undl.sqlite");
    let (ok, _, err) = minewatch(
        &db,
        &[
            "import",
            "unga-undl",
            research(FILE).to_str().unwrap(),
            "--resolutions",
            "63/42",
        ],
    );
    assert!(ok, "{err}");
    let before = fact_count(&db);
    let path = dir.file("input.csv", body.as_bytes());
    let mut all = vec!["import", "unga-undl", path.to_str().unwrap()];
    all.extend(args);
    let (ok, out, err) = minewatch(&db, &all);
    assert!(!ok, "the import should fail: {out}");
    let shown = err.replace(&path.display().to_string(), "input.csv");
    for e in expected {
        assert!(shown.contains(e), "expected {e:?} in:\n{shown}");
    }
    assert!(shown.contains("nothing was written"), "{shown}");
    assert_eq!(fact_count(&db), before, "nothing may be written");
    shown
}

/// The rows of 78/45 with `edit` applied to row `i` (0-based; file line i + 2).
fn edited(edit: impl Fn(usize, &mut Vec<String>)) -> String {
    edited_rows(&["A/RES/78/45"], edit)
}

/// The rows of the resolutions `res` with `edit` applied to each.
fn edited_rows(res: &[&str], edit: impl Fn(usize, &mut Vec<String>)) -> String {
    let mut header = String::new();
    let mut rows = Vec::new();
    for r in res {
        let (h, mut more) = extract(r);
        header = h;
        rows.append(&mut more);
    }
    let mut out = header + "\n";
    for (i, r) in rows.iter().enumerate() {
        let mut f: Vec<String> = {
            let mut rd = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(r.as_bytes());
            rd.records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(String::from)
                .collect()
        };
        edit(i, &mut f);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&f).unwrap();
        out.push_str(&String::from_utf8(w.into_inner().unwrap()).unwrap());
    }
    out
}

// Columns of the shipped extract (1-based in messages).
const MS_CODE: usize = 1;
const MS_NAME: usize = 2;
const MS_VOTE: usize = 3;
const DATE: usize = 4;
const TOTAL_YES: usize = 8;

#[test]
fn a_vote_that_is_not_y_n_a_or_x_is_located() {
    let body = edited(|i, f| {
        if i == 1 {
            f[MS_VOTE] = "Q".into();
        }
    });
    let shown = rejects(
        &body,
        &[],
        &[
            r#"input.csv:3:4: ms_vote: "Q" is not a vote; expected Y (yes), N (no), A (abstain) or X (non-voting)"#,
        ],
    );
    // The roll call with a bad row is not also reported for its totals.
    assert!(!shown.contains("total_"), "{shown}");
    // Lines are counted right in a file with CRLF line ends, as the UN's files have (the csv
    // crate's own count is one short there).
    let (header, rows) = extract("A/RES/78/45");
    let mut crlf = vec![header];
    crlf.extend(rows);
    crlf[5] = crlf[5].replacen(",Y,2023-", ",Z,2023-", 1);
    crlf[5] = crlf[5].replacen(",N,2023-", ",Z,2023-", 1);
    crlf[5] = crlf[5].replacen(",A,2023-", ",Z,2023-", 1);
    crlf[5] = crlf[5].replacen(",X,2023-", ",Z,2023-", 1);
    rejects(
        &(crlf.join("\r\n") + "\r\n"),
        &[],
        &[r#"input.csv:6:4: ms_vote: "Z" is not a vote"#],
    );
}

#[test]
fn an_unknown_member_state_code_names_the_closest() {
    let body = edited(|i, f| {
        if f[MS_CODE] == "RUS" {
            f[MS_CODE] = "RUZ".into();
            f[MS_NAME] = "Russian Federaton".into();
        }
        let _ = i;
    });
    rejects(
        &body,
        &[],
        &[
            "input.csv:",
            r#":2: ms_code: unknown Member State code "RUZ"; expected an ISO 3166 alpha-3 code minewatch knows (closest names: "#,
            "(RUS)",
        ],
    );
}

#[test]
fn totals_that_do_not_match_the_rows_are_located() {
    let body = edited(|_, f| f[TOTAL_YES] = "171".into());
    rejects(
        &body,
        &[],
        &["input.csv:2:9: total_yes: roll call 4029010 (resolution 78/45) has 170 Y rows in the file but total_yes = 171; expected the rows to add up to the published totals"],
    );
    // One row fewer: the member count (and that vote's total) no longer match.
    let (header, rows) = extract("A/RES/78/45");
    let body = format!("{header}\n{}\n", rows[..rows.len() - 1].join("\n"));
    rejects(
        &body,
        &[],
        &["input.csv:2:13: total_ms: roll call 4029010 (resolution 78/45) has 192 Member State rows in the file but total_ms = 193"],
    );
}

#[test]
fn a_date_that_is_not_a_date_is_located() {
    let body = edited(|i, f| {
        if i == 4 {
            f[DATE] = "2023-02-30".into();
        }
        if i == 5 {
            f[DATE] = "4 December 2023".into();
        }
    });
    rejects(
        &body,
        &[],
        &[
            r#"input.csv:6:5: date: impossible date "2023-02-30": no such day in the calendar; expected YYYY-MM-DD"#,
            r#"input.csv:7:5: date: cannot read "4 December 2023" as a date; expected YYYY-MM-DD"#,
        ],
    );
}

#[test]
fn a_missing_required_column_is_reported() {
    let body = edited(|_, f| {
        f.remove(MS_VOTE);
    })
    .replacen("ms_name,ms_vote,", "ms_name,", 1);
    rejects(
        &body,
        &[],
        &[
            r#"input.csv:1: ms_vote: missing column "ms_vote"; expected a header with the UN Digital Library's columns"#,
        ],
    );
}

#[test]
fn a_truncated_file_and_an_unterminated_quote_are_located() {
    let body = edited(|_, _| {});
    let n = body.lines().count();
    // Cut in the middle of the last record's fields.
    let last = body.lines().last().unwrap();
    let cut = &body[..body.len() - last.len() - 1 + last.find(",2023-").unwrap()];
    rejects(
        cut,
        &[],
        &[&format!(
            "input.csv:{n}:5: date: the record ends after 4 of its 14 fields (a truncated file or line?)"
        )],
    );
    // A quote opened in a title and never closed swallows the rest of the file.
    let mut lines: Vec<&str> = body.lines().collect();
    let broken = lines[3].replacen(",\"Implementation", ",\"Implementation \"\"of", 1);
    let broken = broken.replacen("Destruction\",", "Destruction,", 1);
    lines[3] = &broken;
    let body = lines.join("\n") + "\n";
    rejects(
        &body,
        &[],
        &["input.csv:4:8: title: a quoted field opened here is not closed (an unterminated quote)"],
    );
}

#[test]
fn every_problem_is_listed_up_to_a_cap() {
    let body = edited_rows(&["A/RES/78/45", "A/RES/79/34"], |_, f| {
        f[MS_VOTE] = "maybe".into()
    });
    let shown = rejects(
        &body,
        &[],
        &["... and 186 more problems", "386 problems found"],
    );
    assert_eq!(
        shown.matches(r#"ms_vote: "maybe" is not a vote"#).count(),
        200,
        "{shown}"
    );
}
