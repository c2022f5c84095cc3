//! Browser tests: the real `minewatch serve` with the shipped data, in headless Chromium
//! (see `webdriver.rs` for the client). They fail when Chromium or ChromeDriver is missing, unless
//! `MINEWATCH_SKIP_BROWSER=1`. Screenshots go to `target/screenshots/` at the workspace root.

use crate::support::Server;
use crate::webdriver::Browser;
use std::path::PathBuf;

/// Where a test's screenshot goes: `target/screenshots/{name}` at the workspace root.
pub fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/screenshots"
    ))
    .join(name)
}

#[test]
fn browser_smoke_home_page_loads_and_its_first_link_follows() {
    let Some(b) = Browser::start() else { return };
    let server = Server::start();
    let home = format!("{}/", server.base);
    b.goto(&home);
    assert!(
        b.title().contains("minewatch"),
        "title of {home}: {:?}",
        b.title()
    );
    b.screenshot(&screenshot_path("home.png"));
    let png = std::fs::read(screenshot_path("home.png")).unwrap();
    assert!(png.len() > 1000, "screenshot of {} bytes", png.len());

    // The first link a reader can click that leads elsewhere (a "skip to content" link is hidden
    // until focused; the site name and "Home" lead back here).
    let link = b
        .find_all("a[href]")
        .into_iter()
        .find(|a| a.is_displayed() && a.prop("href").as_deref() != Some(home.as_str()))
        .expect("no visible link to another page on the home page");
    let href = link.prop("href").unwrap();
    link.click();
    b.wait_for("the first link to be followed", || {
        (b.current_url() != home).then_some(())
    });
    let url = b.current_url();
    assert_eq!(url, href, "after clicking a link to {href}");
    b.back();
    assert_eq!(b.current_url(), home);
    b.assert_no_console_errors();

    // The client itself: scripts, waiting that gives up, window size.
    let links = b.execute("return document.querySelectorAll('a[href]').length", &[]);
    assert_eq!(links.as_u64(), Some(b.find_all("a[href]").len() as u64));
    let body = b.find("body");
    assert_eq!(
        b.execute("return arguments[0].tagName", &[body.as_arg()]),
        "BODY"
    );
    b.set_wait(std::time::Duration::from_millis(300));
    assert!(b.try_find("#no-such-element").is_none());
    b.set_window_size(390, 844);
    let width = b.execute("return window.innerWidth", &[]).as_u64().unwrap();
    assert!(width <= 390, "inner width {width} after resizing to 390");
}
