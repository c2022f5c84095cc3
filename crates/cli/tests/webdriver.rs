//! The browser tests' handle on headless Debian Chromium: its own ChromeDriver, driven by the
//! `fantoccini` WebDriver client. The tests are plain `#[test]` functions, so [`Browser`] runs
//! fantoccini's async calls on a current-thread tokio runtime and offers them as blocking
//! methods, with the few things fantoccini leaves to its users: finding that polls, waiting for a
//! condition, the console log.
//!
//! ```ignore
//! let Some(b) = Browser::start() else { return }; // None only with MINEWATCH_SKIP_BROWSER=1
//! b.goto(&format!("{}/states/USA", server.base));
//! b.find("a[href*='footnote']").click();
//! b.wait_for("the footnote", || b.current_url().contains('#').then_some(()));
//! b.screenshot(&crate::browser::screenshot_path("usa.png"));
//! ```
//!
//! Every WebDriver error panics with WebDriver's message. [`Browser::find`] and [`Element::find`]
//! poll for up to [`Browser::set_wait`] (5 s by default); [`Browser::find_all`] does not wait.
//!
//! Requirements: `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `apt-get install
//! chromium chromium-driver`; `scripts/test.sh` installs them when it can). When they are missing,
//! [`Browser::start`] panics saying so, unless `MINEWATCH_SKIP_BROWSER=1` is set: then it prints
//! that the test was skipped and returns `None`.

use crate::support::ChildGuard;
use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{elements, Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::cell::Cell;
use std::future::Future;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser binary (Debian's `chromium` package).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The driver binary (Debian's `chromium-driver` package).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long `find` polls by default.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// How long ChromeDriver may take to come up.
const DRIVER_START: Duration = Duration::from_secs(20);
/// How long one command may wait for ChromeDriver's answer (page loads time out after 60 s).
const ANSWER: Duration = Duration::from_secs(120);
/// How often `find` and `wait_for` look again.
const POLL: Duration = Duration::from_millis(100);

/// One headless Chromium, driven through its own ChromeDriver process. Dropping it closes the
/// browser (ends the session), kills ChromeDriver, then removes the folder that held both
/// programs' temporary files (profile, sockets), also when the test panicked.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    rt: tokio::runtime::Runtime,
    wait: Cell<Duration>,
    // Held to be dropped, in this order, after `Drop::drop` closed the session.
    _driver: ChildGuard,
    _tmp: tempfile::TempDir,
}

/// A DOM element found by [`Browser::find`] or [`Browser::find_all`] (it goes stale when the page
/// that holds it is left).
#[derive(Debug)]
pub struct Element<'b> {
    browser: &'b Browser,
    el: elements::Element,
    /// The selector it was found with (for error messages).
    selector: String,
}

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless Chromium session (1280x900).
    ///
    /// Returns `None` (after printing that the test is skipped) only when
    /// `MINEWATCH_SKIP_BROWSER=1`. Panics when Chromium or ChromeDriver is missing (the message
    /// says to install `chromium` and `chromium-driver`) or does not start.
    pub fn start() -> Option<Browser> {
        if std::env::var("MINEWATCH_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!(
                "skipped: browser test not run because MINEWATCH_SKIP_BROWSER=1 \
                 (unset it to run the browser tests)"
            );
            return None;
        }
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: the browser tests need Chromium and ChromeDriver; install them \
                 with `apt-get install -y chromium chromium-driver` (scripts/test.sh does when run \
                 as root), or set MINEWATCH_SKIP_BROWSER=1 to skip the browser tests"
            );
        }
        Some(Browser::launch())
    }

    fn launch() -> Browser {
        // ChromeDriver and Chromium put their profile and sockets under TMPDIR, and leave some
        // behind even when the session ends cleanly: give them a folder of ours.
        let tmp = tempfile::Builder::new()
            .prefix("minewatch-browser-")
            .tempdir()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut driver = ChildGuard::spawn(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .env("TMPDIR", tmp.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("{CHROMEDRIVER} exited ({status}) before it listened on port {port}");
            }
            assert!(
                start.elapsed() < DRIVER_START,
                "{CHROMEDRIVER} did not listen on port {port} within {DRIVER_START:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }

        let caps: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": 0, "pageLoad": 60_000, "script": 30_000},
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--lang=en-GB",
                ],
            },
        }))
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Plain HTTP to ChromeDriver on 127.0.0.1: no TLS connector.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = rt
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through ChromeDriver: {e}"));
        Browser {
            client,
            rt,
            wait: Cell::new(DEFAULT_WAIT),
            _driver: driver,
            _tmp: tmp,
        }
    }

    /// Runs one fantoccini call to its end; panics with `what` and WebDriver's error.
    fn run<T>(&self, what: &str, call: impl Future<Output = Result<T, CmdError>>) -> T {
        self.block_on(what, call)
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Runs one fantoccini call, or panics if ChromeDriver has not answered within
    /// [`ANSWER`] (a hung driver would otherwise hang the test).
    fn block_on<T>(&self, what: &str, call: impl Future<Output = T>) -> T {
        self.rt
            .block_on(async { tokio::time::timeout(ANSWER, call).await })
            .unwrap_or_else(|_| panic!("{what}: no answer from ChromeDriver within {ANSWER:?}"))
    }

    /// Sets how long [`find`](Self::find) and [`Element::find`] poll before giving up (5 s by
    /// default); also the limit of [`wait_for`](Self::wait_for).
    pub fn set_wait(&self, wait: Duration) {
        self.wait.set(wait);
    }

    /// Opens `url` and waits until the page has loaded (its `load` event).
    pub fn goto(&self, url: &str) {
        self.run(&format!("goto {url}"), self.client.goto(url));
    }

    /// The URL of the current page (after redirects, with the fragment).
    pub fn current_url(&self) -> String {
        self.run("current URL", self.client.current_url()).into()
    }

    /// The current page's `<title>`.
    pub fn title(&self) -> String {
        self.run("title", self.client.title())
    }

    /// Goes back in history.
    pub fn back(&self) {
        self.run("back", self.client.back());
    }

    /// The first element matching the CSS selector, polling until one appears or the wait (see
    /// [`set_wait`](Self::set_wait)) runs out; then panics naming the selector and the page.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.try_find(css).unwrap_or_else(|| {
            panic!(
                "no element matches CSS selector {css:?} on {} after {:?}",
                self.current_url(),
                self.wait.get()
            )
        })
    }

    /// Like [`find`](Self::find), but `None` instead of a panic once the wait runs out.
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        self.poll_find(css, || self.client.find(Locator::Css(css)))
    }

    /// Every element matching the CSS selector now (no waiting; possibly none).
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.run(
            &format!("find_all {css:?}"),
            self.client.find_all(Locator::Css(css)),
        );
        found.into_iter().map(|el| self.element(el, css)).collect()
    }

    /// Looks for an element with `find` until there is one or the wait runs out.
    fn poll_find<F>(&self, css: &str, find: impl Fn() -> F) -> Option<Element<'_>>
    where
        F: Future<Output = Result<elements::Element, CmdError>>,
    {
        let start = Instant::now();
        loop {
            match self.block_on(&format!("find {css:?}"), find()) {
                Ok(el) => return Some(self.element(el, css)),
                Err(e) if e.is_no_such_element() => {}
                Err(e) => panic!("find {css:?}: {e}"),
            }
            if start.elapsed() >= self.wait.get() {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    fn element(&self, el: elements::Element, selector: &str) -> Element<'_> {
        Element {
            browser: self,
            el,
            selector: selector.to_string(),
        }
    }

    /// Runs JavaScript in the page (a function body: use `return`; the arguments are
    /// `arguments[0]`, ...; pass an element with [`Element::as_arg`]) and returns its result.
    /// Panics with the JavaScript exception if it throws.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.run("execute", self.client.execute(script, args.to_vec()))
    }

    /// Polls `f` (every 100 ms, up to the wait set by [`set_wait`](Self::set_wait)) until it
    /// returns `Some`, and returns that; panics saying it waited for `what`.
    pub fn wait_for<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(t) = f() {
                return t;
            }
            assert!(
                start.elapsed() < self.wait.get(),
                "waited {:?} for {what} on {}",
                self.wait.get(),
                self.current_url()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Resizes the window (outer size, in CSS pixels), e.g. `(390, 844)` for a phone.
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.run(
            "set window size",
            self.client.set_window_size(width, height),
        );
    }

    /// Saves a PNG of the viewport to `path` (creating its directory).
    pub fn screenshot(&self, path: &Path) {
        save_png(&self.run("screenshot", self.client.screenshot()), path);
    }

    /// Panics if the console logged an error (`SEVERE`: uncaught exceptions, failed loads) since
    /// the last call, listing them. The browser's own request for `/favicon.ico` is not counted
    /// (pages that declare no icon make Chromium ask for it, and a 404 there is not the page's
    /// error).
    pub fn assert_no_console_errors(&self) {
        let log = self.run("browser log", self.client.issue_cmd(BrowserLog));
        let errors: Vec<&str> = log
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .filter_map(|e| e["message"].as_str())
            .filter(|m| !m.contains("/favicon.ico "))
            .collect();
        assert!(
            errors.is_empty(),
            "console errors on {}:\n  {}",
            self.current_url(),
            errors.join("\n  ")
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session, which quits Chromium; then the fields drop: ChromeDriver is killed and
        // reaped, the temporary folder removed.
        // (It must not panic: it also runs while a failed test unwinds.)
        let close = self.client.clone().close();
        let _ = self
            .rt
            .block_on(async { tokio::time::timeout(ANSWER, close).await });
    }
}

/// ChromeDriver's log of the browser console since the last such request (a Selenium
/// extension that fantoccini has no method for).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

impl<'b> Element<'b> {
    fn run<T>(&self, what: &str, call: impl Future<Output = Result<T, CmdError>>) -> T {
        self.browser
            .run(&format!("element {:?}: {what}", self.selector), call)
    }

    /// Clicks it (scrolled into view first; panics if something else would get the click).
    pub fn click(&self) {
        self.run("click", self.el.click());
    }

    /// Its rendered text (what a reader sees: hidden text left out, whitespace collapsed).
    pub fn text(&self) -> String {
        self.run("text", self.el.text())
    }

    /// An attribute as written in the HTML (`href` as written, not resolved), or `None`.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.run(&format!("attribute {name}"), self.el.attr(name))
    }

    /// A DOM property as a string (`href` resolved, `value` of an input...), or `None`.
    pub fn prop(&self, name: &str) -> Option<String> {
        self.run(&format!("property {name}"), self.el.prop(name))
    }

    /// Whether it is rendered visibly (ChromeDriver's "displayed" algorithm).
    pub fn is_displayed(&self) -> bool {
        self.run("displayed", self.el.is_displayed())
    }

    /// The first element under this one matching the CSS selector (polls like
    /// [`Browser::find`]).
    pub fn find(&self, css: &str) -> Element<'b> {
        self.browser
            .poll_find(css, || self.el.find(Locator::Css(css)))
            .unwrap_or_else(|| {
                panic!(
                    "no element matches CSS selector {css:?} within {:?} after {:?}",
                    self.selector,
                    self.browser.wait.get()
                )
            })
    }

    /// This element as an argument to [`Browser::execute`] (`arguments[i]` in the script).
    pub fn as_arg(&self) -> Value {
        serde_json::to_value(&self.el).unwrap()
    }

    /// Saves a PNG of just this element to `path` (creating its directory).
    pub fn screenshot(&self, path: &Path) {
        save_png(&self.run("screenshot", self.el.screenshot()), path);
    }
}

/// Writes a screenshot (PNG bytes, as fantoccini decoded them) to `path`.
fn save_png(png: &[u8], path: &Path) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "screenshot: not a PNG"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
