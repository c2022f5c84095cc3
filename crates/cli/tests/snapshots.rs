//! What users see, pinned: every public page's HTML, its JSON and CSV twins, the feeds, API
//! answers and the command line's outputs on the shipped record, with the clock stopped
//! (`MINEWATCH_NOW`), compared with the files under `tests/snapshots/`.
//!
//! A change to any of them fails here until it is intended: run
//! `MINEWATCH_BLESS=1 cargo nextest run -E 'test(snapshots)'` and commit the files with a message
//! that lists what changed. HTML is compared with the whitespace between tags and the spelling of
//! character references normalised (a template engine writes both its own way; readers see the
//! same page); JSON as data (key order aside); everything else byte for byte.

use crate::support::{Server, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The instant the clock stops at: pages about "today" say the same thing every day.
const NOW: &str = "2026-06-01T12:00:00Z";

/// Public addresses, each with its twins where it has them. (Not the stylesheet or the OpenAPI
/// document: those are served as the files in the repository are.)
const URLS: &[&str] = &[
    "/",
    "/index.json",
    "/states",
    "/states.json",
    "/states.csv",
    "/states/USA",
    "/states/USA?as_of=2010-10-18",
    "/states/USA.json?as_of=2010-10-18",
    "/states/USA.csv?as_of=2010-10-18",
    "/states/USA/feed.atom",
    "/states/UKR",
    "/states/UKR.json",
    "/states/MMR",
    "/states/FIN",
    "/states/FIN.json",
    "/states/PRI",
    "/states/nowhere",
    "/sources",
    "/sources.json",
    "/sources.csv",
    "/sources/lm-2010-usa",
    "/unga",
    "/unga.json",
    "/unga.csv",
    "/unga/64/56",
    "/unga/64/56.json",
    "/deadlines",
    "/deadlines.json",
    "/deadlines.csv",
    "/deadlines?as_of=2010-01-01",
    "/article5",
    "/article5.json",
    "/article5.csv",
    "/casualties",
    "/casualties.json",
    "/casualties.csv",
    "/use",
    "/use.json",
    "/use.csv",
    "/states/MMR/casualties.json",
    "/states/MMR/casualties.csv",
    "/states/UKR/use.json",
    "/states/AFG/transparency.csv",
    "/meetings",
    "/meetings.json",
    "/meetings.csv",
    "/meetings/1MSP",
    "/meetings/nowhere",
    "/meetings/2RC",
    "/policies",
    "/policies.json",
    "/policies?a=us-2014-06-obama&b=us-2020-01-trump",
    "/classify",
    "/classify?target=person&activation=tripwire&delivery=hand_emplaced",
    "/classify.json?target=person&activation=tripwire&delivery=hand_emplaced",
    "/search?q=mine",
    "/search.json?q=ukraine",
    "/feed.atom",
    "/facts/1",
    "/facts/1?record=5",
    "/login",
    "/subscribe",
    "/feedback",
    "/no/such/page",
    "/api/v1/states",
    "/api/v1/states/USA",
    "/api/v1/states/USA/facts?as_of=2010-10-18",
    "/api/v1/states/USA/status?as_of=2010-10-18",
    "/api/v1/states/UKR/status",
    "/api/v1/parties?as_of=2026-02-20",
    "/api/v1/parties?as_of=2026-02-20&basis=deposit",
    "/api/v1/deadlines",
    "/api/v1/policies",
    "/api/v1/policies/us-2014-06-obama/diff/us-2020-01-trump",
    "/api/v1/facts/1",
    "/api/v1/sources",
    "/api/v1/sources/lm-2010-usa",
    "/api/v1/unga/64/56",
    "/api/v1/no/such/thing",
];

/// Command lines, after `minewatch --db DB`.
const COMMANDS: &[&[&str]] = &[
    &["status", "USA", "--as-of", "2010-10-18"],
    &["status", "USA", "--as-of", "2010-10-18", "--json"],
    &["status", "Ukraine"],
    &["parties", "--as-of", "2026-02-20"],
    &[
        "parties",
        "--as-of",
        "2026-02-20",
        "--basis",
        "deposit",
        "--json",
    ],
    &["deadlines"],
    &["deadlines", "--json", "--state", "UKR"],
    &["facts", "USA", "--as-of", "2010-10-18"],
    &["facts", "USA", "--kind", "unga_vote", "--json"],
    &["sources"],
    &["policy", "list"],
    &["policy", "diff", "us-2014-06-obama", "us-2020-01-trump"],
    &[
        "policy",
        "diff",
        "us-2014-06-obama",
        "us-2020-01-trump",
        "--json",
    ],
];

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// A file name for an address or command line: its characters, with the rest as `_`.
fn slug(s: &str) -> String {
    let mut out: String = s
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push_str("home");
    }
    out
}

/// What a snapshot holds and how it is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    Html,
    Json,
    Exact,
}

/// The text a snapshot is compared by.
fn normalise(form: Form, text: &str) -> String {
    match form {
        Form::Exact => text.to_string(),
        Form::Json => {
            // After the status line (pages and API answers), the body as data.
            let (head, body) = match text.split_once("\n\n") {
                Some((h, b)) if !h.trim_start().starts_with(['{', '[']) => (h, b),
                _ => ("", text),
            };
            match serde_json::from_str::<serde_json::Value>(body) {
                Ok(v) => format!("{head}\n\n{}", serde_json::to_string_pretty(&v).unwrap()),
                Err(_) => text.to_string(),
            }
        }
        Form::Html => {
            let text = mask_csrf(text);
            // Whitespace between tags and runs of whitespace are one thing to a reader; so are
            // the spellings of the same character.
            let text = close_self_closing(&text)
                .replace("&apos;", "'")
                .replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&#34;", "\"");
            // A run of whitespace with a line break next to a tag is the source's layout (a
            // template engine writes none); any other run is one space, which a reader sees.
            let chars: Vec<char> = text.chars().collect();
            let mut out = String::with_capacity(text.len());
            let mut i = 0;
            while i < chars.len() {
                if !chars[i].is_whitespace() {
                    out.push(chars[i]);
                    i += 1;
                    continue;
                }
                let start = i;
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
                let line_break = chars[start..i].contains(&'\n');
                let by_tag =
                    out.is_empty() || out.ends_with('>') || i == chars.len() || chars[i] == '<';
                if !(line_break && by_tag) {
                    out.push(' ');
                }
            }
            // One tag per line, so that a difference is shown where it is.
            out.replace("><", ">\n<")
        }
    }
}

/// A form's CSRF value is fresh on every visit: written and compared as `CSRF`.
fn mask_csrf(text: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let mut parts = text.split(marker);
    let mut out = parts.next().unwrap_or("").to_string();
    for part in parts {
        let end = part.find('"').unwrap_or(0);
        out.push_str(marker);
        out.push_str("CSRF");
        out.push_str(&part[end..]);
    }
    out
}

/// `<path d="M"/>` as `<path d="M"></path>`: the same element, written as a template engine
/// that closes every non-void element writes it.
fn close_self_closing(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(end) = rest.find("/>") {
        let before = &rest[..end];
        let name = before.rfind('<').map(|open| {
            before[open + 1..]
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_string()
        });
        out.push_str(before);
        match name {
            Some(n) if !n.is_empty() && !n.starts_with('/') => {
                out.push_str("></");
                out.push_str(&n);
                out.push('>');
            }
            _ => out.push_str("/>"),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The first line where two texts differ, with its neighbours.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let at = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let show = |lines: &[&str]| {
        lines
            .iter()
            .skip(at.saturating_sub(2))
            .take(5)
            .map(|l| l.chars().take(300).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n    ")
    };
    format!(
        "line {}:\n  snapshot:\n    {}\n  now:\n    {}",
        at + 1,
        show(&w),
        show(&g)
    )
}

/// Compares (or, with MINEWATCH_BLESS=1, writes) one snapshot; a mismatch is returned.
fn check(name: &str, form: Form, got: &str) -> Option<String> {
    let path = snapshot_dir().join(name);
    if std::env::var_os("MINEWATCH_BLESS").is_some() {
        std::fs::create_dir_all(snapshot_dir()).unwrap();
        std::fs::write(&path, mask_csrf(got)).unwrap();
        return None;
    }
    let want = match std::fs::read_to_string(&path) {
        Ok(w) => w,
        Err(e) => return Some(format!("{name}: no snapshot ({e}); bless it if it is new")),
    };
    let (w, g) = (normalise(form, &want), normalise(form, got));
    (w != g).then(|| format!("{name}: {}", first_difference(&w, &g)))
}

fn form_of(content_type: &str) -> Form {
    if content_type.contains("html") {
        Form::Html
    } else if content_type.contains("json") {
        Form::Json
    } else {
        Form::Exact
    }
}

#[test]
fn pages_api_and_command_line_are_as_in_the_snapshots() {
    let dir = TempDir::new();
    let db = dir.path("snap.sqlite");
    let server = Server::start_on(
        &db,
        &["--public-url", "https://minewatch.example.org"],
        &[("MINEWATCH_NOW", NOW)],
    );
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for url in URLS {
        let full = format!("{}{url}", server.base);
        let (status, ct, body) = match ureq::get(&full).set("Accept", "text/html").call() {
            Ok(r) => (r.status(), r.content_type().to_string(), r.into_string()),
            Err(ureq::Error::Status(code, r)) => {
                (code, r.content_type().to_string(), r.into_string())
            }
            Err(e) => panic!("GET {full}: {e}"),
        };
        let body = body.unwrap();
        let name = slug(url);
        assert!(names.insert(name.clone()), "two addresses make {name}");
        let got = format!("{status} {ct}\n\n{body}");
        if let Some(f) = check(&name, form_of(&ct), &got) {
            failures.push(f);
        }
    }
    drop(server);
    for args in COMMANDS {
        let out = Command::new(env!("CARGO_BIN_EXE_minewatch"))
            .arg("--db")
            .arg(crate::support::db_arg(&db))
            .args(*args)
            .env("MINEWATCH_NOW", NOW)
            .output()
            .unwrap();
        let name = format!("cli_{}", slug(&args.join(" ")));
        assert!(names.insert(name.clone()), "two commands make {name}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let form = if args.contains(&"--json") {
            Form::Json
        } else {
            Form::Exact
        };
        let got = format!(
            "exit {}\n{}\n\n{stdout}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr)
        );
        // The exit line and stderr are compared exactly; the output by its form.
        let (head, body) = got.split_at(got.find("\n\n").unwrap() + 2);
        if let Some(f) = check(&format!("{name}.head"), Form::Exact, head) {
            failures.push(f);
        }
        if let Some(f) = check(&name, form, body) {
            failures.push(f);
        }
    }
    // Every file in the folder belongs to an address or a command: none is left unchecked.
    if std::env::var_os("MINEWATCH_BLESS").is_none() {
        for entry in std::fs::read_dir(snapshot_dir()).unwrap() {
            let file = entry.unwrap().file_name().to_string_lossy().into_owned();
            let base = file.strip_suffix(".head").unwrap_or(&file).to_string();
            if !names.contains(&base) {
                failures.push(format!("{file}: no address or command makes it any more"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} snapshots differ (MINEWATCH_BLESS=1 rewrites them when the change is intended):\n\n{}",
        failures.len(),
        URLS.len() + 2 * COMMANDS.len(),
        failures.join("\n\n")
    );
}

#[test]
fn html_normalisation_ignores_layout_but_not_words() {
    let a = "<ul>\n  <li>one &#39;a&#39;</li>\n  <li>two</li>\n</ul>\n";
    let b = "<ul><li>one 'a'</li><li>two</li></ul>";
    assert_eq!(normalise(Form::Html, a), normalise(Form::Html, b));
    let c = "<ul><li>one 'b'</li><li>two</li></ul>";
    assert_eq!(
        normalise(Form::Html, r#"<input name="csrf" value="ab12">x"#),
        normalise(Form::Html, r#"<input name="csrf" value="cd34">x"#)
    );
    assert_ne!(normalise(Form::Html, a), normalise(Form::Html, c));
    assert_eq!(
        normalise(Form::Html, r#"<svg><path d="M 1"/><rect x="1" /></svg>"#),
        normalise(
            Form::Html,
            r#"<svg><path d="M 1"></path><rect x="1" ></rect></svg>"#
        )
    );
    // A space between two links is kept: without it the words run together.
    assert_ne!(
        normalise(Form::Html, "<a>x</a> <a>y</a>"),
        normalise(Form::Html, "<a>x</a><a>y</a>")
    );
    // Words separated only by a line break stay separated.
    assert_ne!(
        normalise(Form::Html, "<p>a\nb</p>"),
        normalise(Form::Html, "<p>ab</p>")
    );
    assert_eq!(
        normalise(Form::Json, r#"{"a":1,"b":[2]}"#),
        normalise(Form::Json, "{\n \"b\": [2], \"a\": 1\n}")
    );
}

#[test]
fn a_clock_that_is_not_an_instant_is_refused_before_any_work() {
    let dir = TempDir::new();
    let db = dir.path("never.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_minewatch"))
        .arg("--db")
        .arg(crate::support::db_arg(&db))
        .arg("parties")
        .env("MINEWATCH_NOW", "2026-13-01")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MINEWATCH_NOW=\"2026-13-01\": expected a date (YYYY-MM-DD)"),
        "{err}"
    );
    assert!(!db.exists(), "nothing may be written");
}
