//! The public pages in headless Chromium: what a reader does with a mouse and a keyboard.

use crate::browser::screenshot_path;
use crate::support::{sideways_overflow, Server};
use crate::webdriver::Browser;

#[test]
fn browser_map_click_as_of_footnote_and_policy_compare() {
    let Some(b) = Browser::start() else { return };
    let server = Server::start();
    let base = server.base.clone();

    // Home: the map; click Brazil (the centre of its shape is Brazil).
    b.goto(&format!("{base}/"));
    b.screenshot(&screenshot_path("home.png"));
    let brazil = b.find(r#"svg.map a[data-code="BRA"] path"#);
    brazil.click();
    b.wait_for("Brazil's profile", || {
        b.current_url().contains("/states/BRA").then_some(())
    });
    assert!(
        b.find("h1").text().contains("Brazil"),
        "{}",
        b.find("h1").text()
    );

    // The United States profile; change the as-of date with the form.
    b.goto(&format!("{base}/states/USA"));
    b.execute(
        "document.getElementById('as_of').value = arguments[0];",
        &[serde_json::json!("2010-10-18")],
    );
    b.find("form.asof button[type=submit]").click();
    b.wait_for("the profile as of 18 October 2010", || {
        b.current_url().contains("as_of=2010-10-18").then_some(())
    });
    let asof = b.find(".asof-line").text();
    assert!(asof.contains("18 October 2010"), "{asof}");
    let status = b.find("dl.status .badge").text();
    assert_eq!(status, "not a State Party (never signed)");
    b.screenshot(&screenshot_path("usa-2010-10-18.png"));

    // Follow a footnote to its source.
    let sup = b.find("ul.statements sup.fn a");
    let target = sup.attr("href").unwrap();
    sup.click();
    b.wait_for("the footnote anchor", || {
        b.current_url().ends_with(&target).then_some(())
    });
    let note = b.find(&format!("li{target}"));
    note.find("a.source-link").click();
    b.wait_for("the source page", || {
        b.current_url().contains("/sources/").then_some(())
    });
    assert!(b.find("main").text().contains("Facts citing this source"));

    // Compare two policies.
    b.goto(&format!("{base}/policies"));
    b.find(r#"#a option[value="us-2014-06-obama"]"#).click();
    b.find(r#"#b option[value="us-2020-01-trump"]"#).click();
    b.find("form.compare-form button").click();
    b.wait_for("the comparison", || {
        b.current_url().contains("b=us-2020-01-trump").then_some(())
    });
    let changed: Vec<String> = b
        .find_all("tr.changed th")
        .iter()
        .map(|e| e.text())
        .collect();
    assert!(changed.contains(&"produce".to_string()), "{changed:?}");
    b.assert_no_console_errors();
}

#[test]
fn browser_profile_reads_at_phone_width_and_keyboard_reaches_the_map() {
    let Some(b) = Browser::start() else { return };
    let server = Server::start();
    b.set_window_size(375, 800);
    for path in ["/states/USA?as_of=2010-10-18", "/", "/deadlines", "/states"] {
        let overflow = sideways_overflow(&b, &format!("{}{path}", server.base));
        assert!(
            overflow <= 1,
            "{path} scrolls sideways at 375 px by {overflow}"
        );
    }
    b.goto(&format!("{}/states/USA?as_of=2010-10-18", server.base));
    b.screenshot(&screenshot_path("usa-375px.png"));
    // Country links on the map are focusable by keyboard.
    b.set_window_size(1280, 900);
    b.goto(&format!("{}/", server.base));
    let focusable = b.execute(
        "const a = document.querySelector('svg.map a[data-code=\"USA\"]'); a.focus(); return document.activeElement === a;",
        &[],
    );
    assert_eq!(focusable, serde_json::json!(true));
}

#[test]
fn browser_follows_cite_this_page_and_the_downloads() {
    let Some(b) = Browser::start() else { return };
    let server = Server::start();
    let base = server.base.clone();

    // A profile at a past date: "Cite this page" in the footer leads to the citation, whose
    // permalink pins the record version and keeps the date.
    b.goto(&format!("{base}/states/UKR?as_of=2010-01-01"));
    let title = b.find("h1").text();
    b.find(r##"footer p.alt a[href="#cite"]"##).click();
    b.wait_for("the citation", || {
        b.current_url().ends_with("#cite").then_some(())
    });
    let cite = b.find("section#cite");
    assert!(cite.is_displayed());
    let citation = cite.find("p.citation").text();
    assert!(citation.contains("record version"), "{citation}");
    let permalink = cite.find("p.citation a").attr("href").unwrap();
    assert!(
        permalink.contains("as_of=2010-01-01") && permalink.contains("record="),
        "{permalink}"
    );
    // The BibTeX and CSL-JSON open for copying.
    cite.find("details summary").click();
    let bibtex = cite.find("details pre").text();
    assert!(
        bibtex.starts_with("@misc{minewatch-states-UKR-r"),
        "{bibtex}"
    );
    // The permalink names the public URL (here the bound address): following it shows the
    // same page at the cited record version.
    cite.find("p.citation a").click();
    b.wait_for("the permalink", || {
        b.current_url().contains("record=").then_some(())
    });
    assert_eq!(b.find("h1").text(), title);

    // The footer's "Downloads": the files with their sizes and checksums; the data package's
    // descriptor opens from there.
    b.find(r#"footer a[href="/downloads"]"#).click();
    b.wait_for("the downloads page", || {
        b.current_url().ends_with("/downloads").then_some(())
    });
    let files: Vec<String> = b
        .find_all("main table tbody tr td:first-child a")
        .iter()
        .map(|e| e.text())
        .collect();
    assert!(files.contains(&"minewatch.sqlite".to_string()), "{files:?}");
    assert!(
        files.contains(&"datapackage/datapackage.json".to_string()),
        "{files:?}"
    );
    let sha = b.find("main table tbody tr td code.sha").text();
    assert_eq!(sha.len(), 64, "{sha}");
    b.find(r#"main table a[href="/downloads/datapackage/datapackage.json"]"#)
        .click();
    b.wait_for("the descriptor", || {
        b.current_url()
            .ends_with("/downloads/datapackage/datapackage.json")
            .then_some(())
    });
    assert!(b.find("body").text().contains("\"resources\""));
}

#[test]
fn browser_myanmar_casualty_chart_point_leads_to_its_source() {
    let Some(b) = Browser::start() else { return };
    let server = Server::start();
    b.goto(&format!("{}/states/MMR", server.base));
    let chart = b.find("svg#casualties-chart");
    assert!(chart.is_displayed(), "the casualty chart is not visible");
    let size = b.execute(
        "const r = document.getElementById('casualties-chart').getBoundingClientRect(); return [r.width, r.height];",
        &[],
    );
    assert!(
        size[0].as_f64().unwrap_or(0.0) > 200.0 && size[1].as_f64().unwrap_or(0.0) > 50.0,
        "{size}"
    );
    b.execute(
        "document.getElementById('casualties').scrollIntoView();",
        &[],
    );
    b.screenshot(&screenshot_path("mmr-casualties.png"));
    // The 2024 bar (the 2025 edition's 2,029) links to its footnote; the footnote to its source.
    let bar = b.find("#casualties-chart-2024 a.bar-link");
    let target = bar.attr("href").unwrap();
    assert!(target.starts_with("#fn"), "{target}");
    b.find("#casualties-chart-2024 a.bar-link rect").click();
    b.wait_for("the footnote anchor", || {
        b.current_url().ends_with(&target).then_some(())
    });
    let note = b.find(&format!("li{target}"));
    assert!(
        note.text().contains("world-today-news.com"),
        "{}",
        note.text()
    );
    note.find("a.source-link").click();
    b.wait_for("the source page", || {
        b.current_url().contains("/sources/").then_some(())
    });
    assert!(b.find("main").text().contains("Facts citing this source"));
    assert!(
        b.find("main").text().contains("2,029"),
        "{}",
        b.find("main").text()
    );
    b.assert_no_console_errors();
}
