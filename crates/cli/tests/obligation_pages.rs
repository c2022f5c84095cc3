//! The obligation pages on a real server (the `minewatch` binary, shipped data): the treaty
//! meetings, every State Party's Article 5 history, the Art. 5 timeline on a profile and the
//! deadlines overview.

use crate::support::{page, sideways_overflow, text, twin, Server};
use serde_json::Value;

/// The table row (`<tr>...</tr>`) holding `needle`.
fn row<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in the page"));
    let start = html[..at].rfind("<tr>").expect("inside a table row");
    let end = at + html[at..].find("</tr>").expect("the row ends");
    &html[start..end]
}

/// The footnote numbers linked from a piece of the page (`href="#fnN"`).
fn footnotes(part: &str) -> Vec<usize> {
    part.split("href=\"#fn")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// The footnote's entry at the foot of the page.
fn footnote(html: &str, n: usize) -> &str {
    let start = html
        .find(&format!(r#"<li id="fn{n}">"#))
        .unwrap_or_else(|| panic!("no footnote {n}"));
    let end = start + html[start..].find("</li>").unwrap();
    &html[start..end]
}

/// Every footnote linked from `part` exists and links to a source's page.
fn assert_sourced(html: &str, part: &str, what: &str) {
    let ns = footnotes(part);
    assert!(!ns.is_empty(), "{what} has no footnote: {part}");
    for n in ns {
        assert!(
            footnote(html, n).contains(r#"href="/sources/"#),
            "{what}: footnote {n} links to no source page"
        );
    }
}

#[test]
fn meetings_are_listed_in_date_order_with_both_versions_of_disputed_dates() {
    let server = Server::start();
    let html = page(&server, "/meetings");
    assert!(
        html.contains(r#"href="/meetings/12MSP"#),
        "no link to 12MSP"
    );
    let t = text(&html);
    // Date order: the Second Review Conference (2009) between the 9th and 10th meetings.
    let pos = |c: &str| {
        t.find(&format!(" {c} "))
            .unwrap_or_else(|| panic!("{c} missing: {t}"))
    };
    assert!(pos("1MSP") < pos("9MSP") && pos("9MSP") < pos("2RC"));
    assert!(pos("2RC") < pos("10MSP") && pos("10MSP") < pos("12MSP"));
    // 2RC: the sources disagree on its first day; both versions, each with its own footnote.
    let rc2 = row(&html, r#"href="/meetings/2RC"#);
    let rc2_text = text(rc2);
    assert!(
        rc2_text.contains("29 November 2009 to 4 December 2009")
            && rc2_text.contains("30 November 2009 to 4 December 2009")
            && rc2_text.contains("dates disputed"),
        "{rc2_text}"
    );
    let versions: Vec<&str> = rc2.split(r#"<span class="version">"#).skip(1).collect();
    assert_eq!(versions.len(), 2, "{rc2}");
    let (a, b) = (footnotes(versions[0]), footnotes(versions[1]));
    assert!(!a.is_empty() && !b.is_empty() && a != b, "{a:?} {b:?}");
    assert_sourced(&html, rc2, "2RC's dates");
    // A meeting the sources agree on is not marked.
    assert!(!row(&html, r#"href="/meetings/12MSP"#).contains("dates disputed"));

    // The twins.
    let v = twin(&server, "/meetings.json");
    let list = v["meetings"].as_array().unwrap();
    let rc = list.iter().find(|m| m["code"] == "2RC").unwrap();
    assert_eq!(rc["dates_disputed"], true);
    assert_eq!(rc["versions"].as_array().unwrap().len(), 2);
    let msp12 = list.iter().find(|m| m["code"] == "12MSP").unwrap();
    assert!(
        msp12["extensions_granted"].as_u64().unwrap() >= 2,
        "{msp12}"
    );
    let starts: Vec<&str> = list.iter().filter_map(|m| m["start"].as_str()).collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted, "meetings in date order");
    let (status, ct, body) = server.get_text("/meetings.csv");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let headers = r.headers().unwrap().clone();
    assert_eq!(&headers[0], "code");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let rc = rows.iter().find(|r| &r[0] == "2RC").unwrap();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rc[col("start")], "2009-11-29");
    assert_eq!(&rc[col("dates_disputed")], "true");
    assert_eq!(
        &rc[col("date_versions")],
        "2009-11-29/2009-12-04; 2009-11-30/2009-12-04"
    );
}

#[test]
fn a_meeting_lists_the_extensions_it_granted_with_their_sources() {
    let server = Server::start();
    // Case does not matter.
    let html = page(&server, "/meetings/12msp");
    let t = text(&html);
    assert!(
        t.contains("Twelfth Meeting of the States Parties (12MSP)"),
        "{t}"
    );
    assert!(t.contains("3 December 2012 to 7 December 2012"), "{t}");
    let ext = &html[html
        .find(r#"id="extensions""#)
        .expect("the extensions section")
        ..html
            .find(r#"id="completions""#)
            .expect("the completions section")];
    for (code, deadline) in [("AFG", "1 March 2023"), ("AGO", "1 January 2018")] {
        let r = row(ext, &format!(r#"href="/states/{code}"#));
        assert!(text(r).contains(deadline), "{code}: {}", text(r));
        // One row per state, however many records tell of the decision.
        assert_eq!(ext.matches(&format!(r#"href="/states/{code}"#)).count(), 1);
        assert_sourced(&html, r, code);
    }
    // Completions and other events are separate; attendance is said to be unknown.
    assert!(t.contains("Completions of clearance declared"));
    assert!(t.contains("Who attended"));
    let v = twin(&server, "/meetings/12MSP.json");
    assert_eq!(v["meeting"]["code"], "12MSP");
    let afg = v["extensions_granted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subject"] == "AFG")
        .unwrap();
    assert_eq!(afg["new_deadlines"][0], "2023-03-01");
    assert!(!afg["sources"].as_array().unwrap().is_empty());

    // A meeting inferred by the data's compiler says so: Cambodia's grant at the 2RC.
    let html = page(&server, "/meetings/2RC");
    let khm = row(&html, r#"href="/states/KHM"#);
    assert!(text(khm).contains("1 January 2020"), "{}", text(khm));
    assert!(text(khm).contains("meeting inferred"), "{}", text(khm));
    // Attendance: the United States at the Second Review Conference, as an observer.
    let usa = row(&html, r#"href="/states/USA"#);
    assert!(text(usa).contains("as an observer"), "{}", text(usa));
    assert_sourced(&html, usa, "the US attendance");
}

#[test]
fn an_unknown_meeting_is_a_404_that_lists_the_known_codes() {
    let server = Server::start();
    let (status, ct, body) = server.get_text("/meetings/nope");
    assert_eq!(status, 404);
    assert!(ct.starts_with("text/html"), "{ct}");
    for code in ["1MSP", "12MSP", "2RC", "5RC"] {
        assert!(
            body.contains(&format!(r#"<a href="/meetings/{code}">{code}</a>"#)),
            "{code} not listed: {body}"
        );
    }
    let (status, ct, body) = server.get_text("/meetings/nope.json");
    assert_eq!((status, ct.as_str()), (404, "application/json"));
    assert!(body.contains("12MSP"), "{body}");
    // What was typed is shown inert.
    let (status, _, body) = server.get_text("/meetings/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(status, 404);
    assert!(!body.contains("<script>"), "{body}");
}

#[test]
fn article5_table_csv_and_json() {
    let server = Server::start();
    let (status, ct, body) = server.get_text("/article5.csv?as_of=2026-01-01");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
    };
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert!(rows.len() > 30, "{} rows", rows.len());
    let khm = rows
        .iter()
        .find(|r| &r[col("code")] == "KHM")
        .expect("a row for Cambodia");
    assert_eq!(&khm[col("name")], "Cambodia");
    assert_eq!(&khm[col("original_deadline")], "2010-01-01");
    assert_eq!(&khm[col("entry_into_force")], "2000-01-01");
    // Dates are ISO 8601 (or empty), so a spreadsheet reads them as dates.
    for r in &rows {
        for c in ["entry_into_force", "original_deadline", "current_deadline"] {
            let v = &r[col(c)];
            assert!(
                v.is_empty() || minewatch_domain::Date::parse(v).is_ok(),
                "{c} = {v:?} in {r:?}"
            );
        }
    }

    let v = twin(&server, "/article5.json");
    let dza = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "DZA")
        .expect("Algeria");
    assert_eq!(dza["completed"], "2017-02-10");
    assert_eq!(dza["state"], "completed");
    assert_eq!(dza["original_deadline"], "2012-04-01");
    // Steps for a chart: date, event, meeting, new deadline, citations.
    let steps = dza["steps"].as_array().unwrap();
    let done = steps
        .iter()
        .find(|s| s["event"] == "completion_declared")
        .unwrap();
    assert_eq!(done["date"], "2017-02-10");
    assert!(!done["citations"].as_array().unwrap().is_empty());
    // The summary counts agree with the rows.
    let rows = v["rows"].as_array().unwrap();
    let done_n = rows
        .iter()
        .filter(|r| r["state"].as_str().unwrap().starts_with("completed"))
        .count();
    assert_eq!(v["summary"]["completed"], done_n);
    assert_eq!(v["summary"]["still_clearing"], rows.len() - done_n);

    // The page: every row links to its profile; the summary states the counts and the date.
    let html = page(&server, "/article5?as_of=2026-01-01");
    let t = text(&html);
    let s = twin(&server, "/article5.json?as_of=2026-01-01");
    let sum = &s["summary"];
    let expect = format!(
        "{} States Parties still clearing mined areas; {} past their deadline",
        sum["still_clearing"], sum["past_deadline"]
    );
    assert!(t.contains(&expect), "{expect:?} not in {t}");
    assert!(t.contains(&format!("{} declared completion", sum["completed"])));
    assert!(t.contains("As of 1 January 2026: what had happened and been published by then."));
    assert!(html.contains(r#"href="/states/KHM?as_of=2026-01-01""#));
    // Meeting codes link to the meetings.
    let khm = row(&html, r#"href="/states/KHM?"#);
    assert!(khm.contains(r#"href="/meetings/2RC""#), "{khm}");
}

#[test]
fn article5_reads_the_record_as_of_a_date() {
    let server = Server::start();
    let current = |as_of: &str| -> (String, Value) {
        let html = page(&server, &format!("/article5?as_of={as_of}"));
        let r = row(&html, r#"href="/states/KHM?"#);
        let cells: Vec<String> = r
            .split("<td>")
            .skip(1)
            .map(|c| text(c.split("</td>").next().unwrap()))
            .collect();
        let v = twin(&server, &format!("/article5.json?as_of={as_of}"));
        let k = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "KHM")
            .unwrap()
            .clone();
        (cells[2].clone(), k)
    };
    // Before the Second Review Conference granted the extension: the original deadline.
    let (cell, k) = current("2009-09-01");
    assert_eq!(cell, "1 January 2010");
    assert_eq!(k["current_deadline"], "2010-01-01");
    assert_eq!(k["extensions"], 0);
    // After it: ten more years.
    let (cell, k) = current("2010-01-01");
    assert_eq!(cell, "1 January 2020");
    assert_eq!(k["current_deadline"], "2020-01-01");
    assert_eq!(k["extensions"], 1);
    assert_eq!(k["state"], "extended");
    // A date that is no date is a 400 that says why.
    let (status, _, body) = server.get_text("/article5?as_of=2010-02-30");
    assert_eq!(status, 400, "{body}");
    assert!(text(&body).contains("YYYY-MM-DD"));
}

#[test]
fn a_profile_draws_the_article5_timeline_with_footnoted_markers() {
    let server = Server::start();
    let html = page(&server, "/states/UKR");
    let start = html
        .find(r#"<svg class="a5-timeline""#)
        .expect("an Art. 5 timeline");
    let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
    // The extension the 17th Meeting granted: a marker labelled with the meeting, linking to
    // it, with a title in words and footnotes to its sources.
    let at = svg.find(">17MSP</a>").expect("the 17MSP marker");
    let g_start = svg[..at].rfind("<g ").unwrap();
    let g = &svg[g_start..at + svg[at..].find("</g>").unwrap()];
    assert!(g.contains(r#"href="/meetings/17MSP""#), "{g}");
    assert!(g.contains("<title>Extension granted at the 17MSP"), "{g}");
    assert_sourced(&html, g, "the 17MSP marker");
    // The original deadline, and the deadline in force drawn as such.
    assert!(svg.contains("original 2016-06-01"), "{svg}");
    assert!(svg.contains(r#"class="m deadline current""#), "{svg}");
    // The same steps as a table, meeting codes linked.
    let t = text(&html);
    assert!(t.contains("Article 5 steps of Ukraine"), "{t}");
    assert!(html.contains(r#"<a href="/meetings/18MSP">18MSP</a>"#));
    // No script anywhere (the CSP forbids it) and the clocks explained by the date picker.
    assert!(!html.contains("<script"));
    assert!(t.contains("what had happened and been published by then"));

    // A state without an Art. 5 history has no timeline.
    let html = page(&server, "/states/USA");
    assert!(!html.contains("a5-timeline"));
    // The timeline follows the as-of date: before Cambodia's first extension, none is drawn.
    let html = page(&server, "/states/KHM?as_of=2009-09-01");
    let start = html.find(r#"<svg class="a5-timeline""#).unwrap();
    let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
    assert!(!svg.contains("/meetings/2RC"), "{svg}");
    assert!(svg.contains("original 2010-01-01"));
    let html = page(&server, "/states/KHM?as_of=2010-01-01");
    assert!(html.contains(r#"href="/meetings/2RC""#));
}

#[test]
fn deadlines_open_on_overdue_then_due_soon_and_summarise_unknowns() {
    let server = Server::start();
    let all = twin(&server, "/deadlines.json?as_of=2026-01-01");
    // The twin still lists every deadline by default, as before.
    assert_eq!(all["show"], "all");
    let rows = all["deadlines"].as_array().unwrap();
    assert_eq!(all["count"], rows.len());
    let unknown = rows.iter().filter(|r| r["state"] == "unknown").count();
    assert!(unknown > 300, "{unknown} unknown deadlines");

    let html = page(&server, "/deadlines?as_of=2026-01-01");
    let overdue = html.find(r#"id="overdue""#).expect("an overdue section");
    let soon = html.find(r#"id="soon""#).expect("a due-soon section");
    let unknowns = html.find(r#"id="unknown""#).expect("an unknowns section");
    assert!(overdue < soon && soon < unknowns);
    // Overdue rows are the recorded failures, each footnoted.
    let over = &html[overdue..soon];
    let ukr = row(over, r#"href="/states/UKR?"#);
    assert!(text(ukr).contains("Art. 4"), "{}", text(ukr));
    assert_sourced(&html, ukr, "Ukraine's overdue Art. 4");
    // Unknowns are a few lines, not hundreds of rows.
    let shown_unknown = html.matches(r#"class="ob ob-unknown""#).count();
    assert!(
        shown_unknown < 60,
        "{shown_unknown} unknown rows on the overview"
    );
    let t = text(&html[unknowns..]);
    let art7 = rows
        .iter()
        .filter(|r| {
            r["article"] == "Art. 7(1)"
                && r["state"] == "unknown"
                && r["reasons"].as_array().unwrap().last().unwrap()["text"]
                    == "no Art. 7 reports recorded"
        })
        .count();
    assert!(art7 > 100, "{art7}");
    assert!(
        t.contains(&format!(
            "Art. 7(1) : no Art. 7 reports recorded for {art7} States Parties"
        )),
        "{t}"
    );
    // The summary: counts computed, and the same in the twin.
    let s = &all["summary"];
    let n_over = rows.iter().filter(|r| r["overdue"] == true).count();
    assert_eq!(s["overdue"], n_over);
    let head = text(&html);
    assert!(
        head.contains(&format!("{n_over} deadlines overdue")),
        "{head}"
    );
    assert!(head.contains(&format!(
        "{} States Parties still clearing",
        s["art5"]["still_clearing"]
    )));

    // The full list is one link away and lists them all.
    let full = page(&server, "/deadlines?as_of=2026-01-01&show=all");
    assert_eq!(
        full.matches(r#"class="ob ob-"#).count(),
        rows.len(),
        "the full list"
    );
    assert!(html.contains("show=all"));
    // Filters still work; the CSV keeps its columns (new ones only at the end).
    let v = twin(
        &server,
        "/deadlines.json?show=unknown&article=7&as_of=2026-01-01",
    );
    let list = v["deadlines"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list
        .iter()
        .all(|r| r["state"] == "unknown" && r["article"].as_str().unwrap().starts_with("Art. 7")));
    let (_, _, csv) = server.get_text("/deadlines.csv?state=UKR&show=overdue");
    assert!(
        csv.starts_with("due,code,article,obligation,state,overdue"),
        "{csv}"
    );
    assert!(csv.lines().skip(1).all(|l| l.contains(",UKR,")), "{csv}");
    let (status, _, body) = server.get_text("/deadlines?show=soon");
    assert_eq!(status, 400);
    assert!(text(&body).contains("expected all, upcoming, overdue or unknown"));
}

#[test]
fn the_new_pages_are_in_the_navigation() {
    let server = Server::start();
    let html = page(&server, "/");
    assert!(html.contains(r#"<a href="/meetings">Meetings</a>"#));
    assert!(html.contains(r#"<a href="/article5">Article 5</a>"#));
}

#[test]
fn browser_obligation_pages_read_at_phone_width_and_the_timeline_links_work() {
    let Some(b) = crate::webdriver::Browser::start() else {
        return;
    };
    let server = Server::start();
    let base = server.base.clone();
    b.set_window_size(375, 800);
    for path in [
        "/meetings",
        "/meetings/12MSP",
        "/article5",
        "/deadlines",
        "/states/KHM",
        "/states/UKR",
    ] {
        let overflow = sideways_overflow(&b, &format!("{base}{path}"));
        assert!(
            overflow <= 1,
            "{path} scrolls sideways at 375 px by {overflow}"
        );
    }
    b.goto(&format!("{base}/states/KHM"));
    b.find("svg.a5-timeline")
        .screenshot(&crate::browser::screenshot_path(
            "khm-art5-timeline-375px.png",
        ));
    // At full width the timeline is drawn wide; its meeting label leads to the meeting.
    b.set_window_size(1280, 900);
    b.goto(&format!("{base}/states/UKR"));
    let svg = b.find("svg.a5-timeline");
    assert!(svg.is_displayed());
    let width = b.execute(
        "return document.querySelector('svg.a5-timeline').getBoundingClientRect().width",
        &[],
    );
    assert!(width.as_f64().unwrap_or(0.0) > 600.0, "{width}");
    svg.screenshot(&crate::browser::screenshot_path("ukr-art5-timeline.png"));
    b.execute(
        "document.querySelector('svg.a5-timeline a[href=\"/meetings/17MSP\"]').dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));",
        &[],
    );
    b.wait_for("the 17MSP page", || {
        b.current_url().contains("/meetings/17MSP").then_some(())
    });
    assert!(b.find("h1").text().contains("17MSP"));
    b.assert_no_console_errors();
}
