//! A minimal W3C WebDriver client for the browser tests: headless Debian Chromium driven by
//! ChromeDriver over HTTP (`ureq` and `serde_json`, nothing else).
//!
//! ```ignore
//! use crate::webdriver::Browser;
//!
//! let server = crate::support::Server::start();
//! let Some(b) = Browser::start() else { return }; // None only with MINEWATCH_SKIP_BROWSER=1
//! b.goto(&format!("{}/states/USA", server.base));
//! assert!(b.title().contains("United States"));
//! b.find("a[href*='footnote']").click();
//! let rows = b.find_all("table.facts tbody tr");
//! assert!(rows.len() > 10, "{} rows", rows.len());
//! let input = b.find("input[name=as_of]");
//! input.clear();
//! input.send_keys("2010-10-18\n");
//! b.wait_for("the URL to carry as_of", || b.current_url().contains("as_of").then_some(()));
//! let n: u64 = b.execute("return document.querySelectorAll('path').length", &[]).as_u64().unwrap();
//! b.screenshot(&crate::browser::screenshot_path("usa.png"));
//! ```
//!
//! Every WebDriver error panics with WebDriver's own error code and message (the tests have
//! nothing useful to do with one), except where a method says it returns `Option`/`Result`.
//! [`Browser::find`] and [`Element::find`] poll for up to [`Browser::set_wait`] (5 s by default)
//! before panicking with the selector they looked for; [`Browser::find_all`] does not wait.
//!
//! Requirements: `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `apt-get install
//! chromium chromium-driver`; `scripts/test.sh` installs them when it can). When they are missing,
//! [`Browser::start`] panics saying so, unless `MINEWATCH_SKIP_BROWSER=1` is set: then it prints
//! that the test was skipped and returns `None`.
#![allow(dead_code)] // The API is shared by tests that do not each use all of it.

use crate::support::ChildGuard;
use serde_json::{json, Value};
use std::cell::Cell;
use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser binary (Debian's `chromium` package).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The driver binary (Debian's `chromium-driver` package).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C key under which an element reference travels in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `find` polls by default.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// How long ChromeDriver may take to come up.
const DRIVER_START: Duration = Duration::from_secs(20);

/// An error answered by WebDriver (HTTP status, W3C error code, message).
#[derive(Debug, Clone)]
pub struct WebDriverError {
    /// The HTTP status (0 when the request did not get an answer at all).
    pub status: u16,
    /// The W3C error code, such as `no such element` or `javascript error`.
    pub error: String,
    /// WebDriver's message (for a script error, the JavaScript exception).
    pub message: String,
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebDriver {}: {}", self.error, self.message)?;
        if self.status != 0 {
            write!(f, " (HTTP {})", self.status)?;
        }
        Ok(())
    }
}

impl std::error::Error for WebDriverError {}

/// One headless Chromium, driven through its own ChromeDriver process. Dropping it closes the
/// browser (deletes the session), then its `driver` guard kills ChromeDriver.
pub struct Browser {
    driver: ChildGuard,
    /// `http://127.0.0.1:PORT` of ChromeDriver.
    driver_url: String,
    session: String,
    agent: ureq::Agent,
    wait: Cell<Duration>,
}

impl fmt::Debug for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Browser")
            .field("driver_url", &self.driver_url)
            .field("session", &self.session)
            .finish()
    }
}

/// A DOM element found by [`Browser::find`] or [`Browser::find_all`] (a W3C element reference:
/// it goes stale when the page that holds it is left).
#[derive(Clone)]
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// The selector it was found with (for error messages).
    selector: String,
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({:?})", self.selector)
    }
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
        let port = free_port();
        let driver = ChildGuard::spawn(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build();
        let mut b = Browser {
            driver,
            driver_url: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
            wait: Cell::new(DEFAULT_WAIT),
        };
        b.wait_for_driver();
        let caps = json!({"capabilities": {"alwaysMatch": {
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
        }}});
        let url = format!("{}/session", b.driver_url);
        let v = b
            .request("POST", &url, Some(&caps))
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through ChromeDriver: {e}"));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("new session: no sessionId in {v}"))
            .to_string();
        b
    }

    /// Polls ChromeDriver's `GET /status` until it says ready.
    fn wait_for_driver(&mut self) {
        let start = Instant::now();
        let url = format!("{}/status", self.driver_url);
        let mut last: String;
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!("{CHROMEDRIVER} exited ({status}) before it was ready on {url}");
            }
            match self.agent.get(&url).call() {
                Ok(r) => match r.into_json::<Value>() {
                    Ok(v) if v["value"]["ready"] == json!(true) => return,
                    Ok(v) => last = format!("not ready: {v}"),
                    Err(e) => last = format!("unreadable answer: {e}"),
                },
                Err(e) => last = e.to_string(),
            }
            assert!(
                start.elapsed() < DRIVER_START,
                "{CHROMEDRIVER} was not ready on {url} after {DRIVER_START:?} ({last})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One HTTP exchange with ChromeDriver: the response's `value`, or its error.
    fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, WebDriverError> {
        let req = self.agent.request(method, url);
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let (status, resp) = match res {
            Ok(r) => (r.status(), r),
            Err(ureq::Error::Status(code, r)) => (code, r),
            Err(e) => {
                return Err(WebDriverError {
                    status: 0,
                    error: "transport".into(),
                    message: format!("{method} {url}: {e}"),
                })
            }
        };
        let v: Value = resp.into_json().map_err(|e| WebDriverError {
            status,
            error: "unreadable response".into(),
            message: format!("{method} {url}: {e}"),
        })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(value);
        }
        Err(WebDriverError {
            status,
            error: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_string(),
            message: value["message"]
                .as_str()
                .map(|m| m.lines().next().unwrap_or("").to_string())
                .unwrap_or_else(|| value.to_string()),
        })
    }

    /// A command on this session: `path` is relative to `/session/{id}`.
    fn try_cmd(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}/session/{}{path}", self.driver_url, self.session);
        let body = match (method, body) {
            ("POST", None) => Some(json!({})),
            (_, b) => b,
        };
        self.request(method, &url, body.as_ref())
    }

    /// Like `try_cmd`, panicking with WebDriver's message.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Sets how long [`find`](Self::find) and [`Element::find`] poll before giving up (5 s by
    /// default); also the default of [`wait_for`](Self::wait_for).
    pub fn set_wait(&self, wait: Duration) {
        self.wait.set(wait);
    }

    /// Opens `url` and waits until the page has loaded (its `load` event).
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// The URL of the current page (after redirects, with the fragment).
    pub fn current_url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The current page's `<title>`.
    pub fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The current page's HTML as the browser now holds it (after scripts ran).
    pub fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Goes back in history.
    pub fn back(&self) {
        self.cmd("POST", "/back", None);
    }

    /// Reloads the page.
    pub fn refresh(&self) {
        self.cmd("POST", "/refresh", None);
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
        self.poll_find("", css)
    }

    /// Every element matching the CSS selector now (no waiting; possibly none).
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        self.find_all_in("", css)
    }

    /// `find` under `scope` (`""` for the document, `/element/{id}` for an element).
    fn poll_find(&self, scope: &str, css: &str) -> Option<Element<'_>> {
        let start = Instant::now();
        let body = json!({"using": "css selector", "value": css});
        loop {
            match self.try_cmd("POST", &format!("{scope}/element"), Some(body.clone())) {
                Ok(v) => return Some(self.element(&v, css)),
                Err(e) if e.error == "no such element" => {}
                Err(e) => panic!("find {css:?}: {e}"),
            }
            if start.elapsed() >= self.wait.get() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn find_all_in(&self, scope: &str, css: &str) -> Vec<Element<'_>> {
        let body = json!({"using": "css selector", "value": css});
        let v = self
            .try_cmd("POST", &format!("{scope}/elements"), Some(body))
            .unwrap_or_else(|e| panic!("find_all {css:?}: {e}"));
        v.as_array()
            .map(|a| a.iter().map(|e| self.element(e, css)).collect())
            .unwrap_or_default()
    }

    fn element(&self, v: &Value, selector: &str) -> Element<'_> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("not an element reference: {v}"));
        Element {
            browser: self,
            id: id.to_string(),
            selector: selector.to_string(),
        }
    }

    /// If a value returned by [`execute`](Self::execute) is an element reference, that element.
    pub fn as_element(&self, v: &Value) -> Option<Element<'_>> {
        v.get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(|id| Element {
                browser: self,
                id: id.to_string(),
                selector: "(from a script)".to_string(),
            })
    }

    /// Runs JavaScript in the page (a function body: use `return`; the arguments are
    /// `arguments[0]`, ...; pass an element with [`Element::as_arg`]) and returns its result.
    /// Panics with the JavaScript exception if it throws.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs asynchronous JavaScript: the script must call `arguments[arguments.length - 1]`
    /// with its result (within the 30 s script timeout).
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
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
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Resizes the window (outer size, in CSS pixels), e.g. `(390, 844)` for a phone.
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Saves a PNG of the viewport to `path` (creating its directory).
    pub fn screenshot(&self, path: &Path) {
        let v = self.cmd("GET", "/screenshot", None);
        write_png(&v, path);
    }

    /// The browser console's messages since the last call, as `(level, message)` (level is
    /// `SEVERE` for errors, including uncaught exceptions and failed loads, `WARNING`, `INFO`).
    pub fn console(&self) -> Vec<(String, String)> {
        let v = self.cmd("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_string(),
                            e["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Panics if the console logged an error (`SEVERE`) since the last call, listing them. The
    /// browser's own request for `/favicon.ico` is not counted (pages that declare no icon make
    /// Chromium ask for it, and a 404 there is not the page's error).
    pub fn assert_no_console_errors(&self) {
        let errors: Vec<String> = self
            .console()
            .into_iter()
            .filter(|(level, m)| level == "SEVERE" && !m.contains("/favicon.ico "))
            .map(|(_, m)| m)
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
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.driver_url, self.session);
            let _ = self.request("DELETE", &url, None);
        }
        // Then the `driver` field drops: its guard kills and reaps ChromeDriver.
    }
}

impl<'b> Element<'b> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    fn cmd(&self, method: &str, rest: &str, body: Option<Value>) -> Value {
        self.browser
            .try_cmd(method, &self.path(rest), body)
            .unwrap_or_else(|e| panic!("element {:?}: {method} {rest}: {e}", self.selector))
    }

    /// Clicks it (scrolled into view first; panics if something else would get the click).
    pub fn click(&self) {
        self.cmd("POST", "/click", None);
    }

    /// Its rendered text (what a reader sees: hidden text left out, whitespace collapsed).
    pub fn text(&self) -> String {
        self.cmd("GET", "/text", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// An attribute as written in the HTML (`href` as written, not resolved), or `None`.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.cmd("GET", &format!("/attribute/{name}"), None)
            .as_str()
            .map(str::to_string)
    }

    /// A DOM property (`value` of an input, `checked`, `href` resolved, `tagName`...).
    pub fn prop(&self, name: &str) -> Value {
        self.cmd("GET", &format!("/property/{name}"), None)
    }

    /// A computed CSS value, such as `css("display")` or `css("fill")`.
    pub fn css(&self, property: &str) -> String {
        self.cmd("GET", &format!("/css/{property}"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Its tag name in lower case.
    pub fn tag(&self) -> String {
        self.cmd("GET", "/name", None)
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
    }

    /// Whether it is rendered visibly (ChromeDriver's "displayed" algorithm).
    pub fn is_displayed(&self) -> bool {
        self.cmd("GET", "/displayed", None)
            .as_bool()
            .unwrap_or(false)
    }

    /// Types `text` into it (a form control or content-editable); `"\n"` presses Enter.
    pub fn send_keys(&self, text: &str) {
        self.cmd("POST", "/value", Some(json!({ "text": text })));
    }

    /// Empties a form control.
    pub fn clear(&self) {
        self.cmd("POST", "/clear", None);
    }

    /// The first element under this one matching the CSS selector (polls like
    /// [`Browser::find`]).
    pub fn find(&self, css: &str) -> Element<'b> {
        self.browser
            .poll_find(&self.path(""), css)
            .unwrap_or_else(|| {
                panic!(
                    "no element matches CSS selector {css:?} within {:?} after {:?}",
                    self.selector,
                    self.browser.wait.get()
                )
            })
    }

    /// Every element under this one matching the CSS selector now.
    pub fn find_all(&self, css: &str) -> Vec<Element<'b>> {
        self.browser.find_all_in(&self.path(""), css)
    }

    /// This element as an argument to [`Browser::execute`] (`arguments[i]` in the script).
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    /// Saves a PNG of just this element to `path` (creating its directory).
    pub fn screenshot(&self, path: &Path) {
        let v = self.cmd("GET", "/screenshot", None);
        write_png(&v, path);
    }
}

/// Decodes a screenshot (base64 PNG) and writes it.
fn write_png(v: &Value, path: &Path) {
    let b64 = v
        .as_str()
        .unwrap_or_else(|| panic!("screenshot: not a string: {v}"));
    let png = base64_decode(b64).unwrap_or_else(|e| panic!("screenshot: {e}"));
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

/// Decodes standard (or URL-safe) base64; whitespace is ignored, decoding stops at `=`.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in s.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return Err(format!("invalid base64 byte {c:#04x} at offset {i}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// A TCP port free right now on 127.0.0.1 (bound, then released for ChromeDriver).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9v\nYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert_eq!(
            base64_decode("+/+/").unwrap(),
            base64_decode("-_-_").unwrap()
        );
        assert!(base64_decode("Zm9v*").is_err());
    }
}
