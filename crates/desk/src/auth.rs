//! Who is asking: sessions (cookie), API tokens (bearer), CSRF tokens, and the login and logout
//! pages.
//!
//! Session ids and API tokens are random 256-bit values; the database keeps only their SHA-256.
//! Every form carries a CSRF token: a signed-in visitor's is bound to the session, an anonymous
//! visitor's is a random value also set as a cookie (double submit). A login always opens a new
//! session id (no fixation) and ends the one the browser had.

use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minewatch_store::{now_secs, random_token, Login, Role, Session, User};
use minewatch_web::html::{html, layout, Markup, Page};
use minewatch_web::{blocking, ApiError, App};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "mw_session";
pub const CSRF_COOKIE: &str = "mw_csrf";
/// Sessions end after eight hours, whatever the browser keeps.
pub const SESSION_TTL: i64 = 8 * 3600;

/// The value of one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The visitor of a request: a signed-in session, an API token's account, or nobody.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Option<Session>,
    session_id: Option<String>,
    /// Account of a valid `Authorization: Bearer` token (API clients; no cookies, no CSRF).
    pub bearer: Option<User>,
    /// The anonymous CSRF cookie, if the browser sent one.
    anon_csrf: Option<String>,
    /// The client address (for rate limits and login delays).
    pub client: String,
    secure: bool,
}

impl FromRequestParts<Arc<App>> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let session_id = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(String::from);
        let anon_csrf = cookie(&parts.headers, CSRF_COOKIE)
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(String::from);
        let bearer_token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let forwarded = app
            .settings
            .trust_proxy
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    // The proxy appends the address it saw; what is left of it was written by
                    // the client and proves nothing.
                    .and_then(|v| v.rsplit(',').next())
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
            .flatten();
        let client = forwarded.unwrap_or_else(|| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "local".into())
        });
        let sid = session_id.clone();
        let (session, bearer) = blocking(Arc::clone(app), move |app| {
            app.with_store(|s| {
                let now = now_secs();
                let session = match &sid {
                    Some(id) => s.session(id, now)?,
                    None => None,
                };
                let bearer = match &bearer_token {
                    Some(t) => s.api_token_user(t)?,
                    None => None,
                };
                Ok((session, bearer))
            })
        })
        .await
        .map_err(IntoResponse::into_response)?;
        Ok(Visitor {
            session,
            session_id,
            bearer,
            anon_csrf,
            client,
            secure: app.settings.public_url.starts_with("https://"),
        })
    }
}

/// Why a request may not do what it asked.
#[derive(Debug)]
pub struct Denied {
    pub status: StatusCode,
    pub message: String,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let login = self.status == StatusCode::UNAUTHORIZED;
        private_page(
            self.status,
            "Not allowed",
            html! {
                h1 { "Not allowed" }
                p class="error" { (self.message) }
                @if login {
                    p { a href="/login" { "Sign in" } " with an editor's account." }
                }
            },
        )
    }
}

impl Visitor {
    /// The account behind the request (session or API token).
    pub fn user(&self) -> Option<&User> {
        self.session
            .as_ref()
            .map(|s| &s.user)
            .or(self.bearer.as_ref())
    }

    /// The account, if it has at least `role`: 401 for nobody, 403 for too little.
    pub fn require(&self, role: Role) -> Result<&User, Denied> {
        match self.user() {
            None => Err(Denied {
                status: StatusCode::UNAUTHORIZED,
                message: "sign in first: this needs an editor's account".into(),
            }),
            Some(u) if u.role < role => Err(Denied {
                status: StatusCode::FORBIDDEN,
                message: format!("this needs the {} role", role.as_str()),
            }),
            Some(u) => Ok(u),
        }
    }

    /// Like [`Visitor::require`] for a form post: also checks its CSRF token. API clients with a
    /// bearer token send no cookies and need none.
    pub fn require_form(&self, role: Role, token: &str) -> Result<&User, Denied> {
        let user = self.require(role)?;
        if self.session.is_none() && self.bearer.is_some() {
            return Ok(user);
        }
        self.check_csrf(token)?;
        Ok(user)
    }

    /// Checks a form's CSRF token against the session's (signed in) or the cookie's (anonymous).
    pub fn check_csrf(&self, token: &str) -> Result<(), Denied> {
        let expected = match (&self.session, &self.anon_csrf) {
            (Some(s), _) => Some(s.csrf.as_str()),
            (None, Some(c)) => Some(c.as_str()),
            (None, None) => None,
        };
        match expected {
            Some(e) if !token.is_empty() && same_secret(e, token) => Ok(()),
            _ => Err(Denied {
                status: StatusCode::FORBIDDEN,
                message: "the form's security token is missing or out of date; reload the page and send it again".into(),
            }),
        }
    }

    /// The CSRF token for a form on this response, and the cookie to set with it (anonymous
    /// visitors without one).
    pub fn csrf(&self) -> (String, Option<HeaderValue>) {
        if let Some(s) = &self.session {
            return (s.csrf.clone(), None);
        }
        if let Some(c) = &self.anon_csrf {
            return (c.clone(), None);
        }
        let token = random_token().unwrap_or_default();
        let cookie = self.cookie_header(CSRF_COOKIE, &token, None);
        (token, cookie)
    }

    fn cookie_header(&self, name: &str, value: &str, max_age: Option<i64>) -> Option<HeaderValue> {
        let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(a) = max_age {
            c.push_str(&format!("; Max-Age={a}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        HeaderValue::from_str(&c).ok()
    }
}

/// A hidden CSRF field.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A page that is nobody else's business: never cached, never indexed.
pub fn private_page(status: StatusCode, title: &str, main: Markup) -> Response {
    let page = Page {
        title: title.into(),
        main,
        ..Page::default()
    };
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        layout(&page).into_string(),
    )
        .into_response();
    no_store(&mut r);
    r
}

/// Marks a response as not to be stored by caches (and not by minewatch's page cache).
pub fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert("x-robots-tag", HeaderValue::from_static("noindex"));
}

/// Adds a `Set-Cookie`.
pub fn with_cookie(mut r: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    no_store(&mut r);
    r
}

/// A 303 redirect.
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    no_store(&mut r);
    r
}

/// Adds `Retry-After: secs` (a 429's "try again in").
pub fn retry_after(mut r: Response, secs: i64) -> Response {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    r
}

/// Only same-site paths are followed after a login. Browsers read a backslash as a slash and
/// drop tabs and line breaks from a URL, so `/` + backslash + `evil.example` or `/` + tab +
/// `/evil.example` would lead off the site: those, and any other control character, send the
/// user to the desk instead.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/desk",
    }
}

fn login_form(csrf: &str, next: &str, message: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in" }
        p { "For minewatch's editors and administrators. Readers need no account." }
        @if let Some(m) = message {
            p class="error" role="alert" { (m) }
        }
        form method="post" action="/login" class="stack" {
            (csrf_field(csrf))
            input type="hidden" name="next" value=(next);
            label {
                "User name "
                input name="username" autocomplete="username" required maxlength="64";
            }
            label {
                "Password "
                input name="password" type="password" autocomplete="current-password" required
                    maxlength="1024";
            }
            button type="submit" { "Sign in" }
        }
    }
}

pub async fn login_page(v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    let (csrf, cookie) = v.csrf();
    let next = safe_next(q.get("next").map(String::as_str));
    let body = match v.user() {
        Some(u) => html! {
            h1 { "Signed in" }
            p {
                "You are signed in as " (u.username) " (" (u.role.as_str()) "). Go to the "
                a href="/desk" { "editorial desk" } "."
            }
            form method="post" action="/logout" {
                (csrf_field(&csrf))
                button type="submit" { "Sign out" }
            }
        },
        None => login_form(&csrf, next, None),
    };
    with_cookie(private_page(StatusCode::OK, "Sign in", body), cookie)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(State(app): State<Arc<App>>, v: Visitor, Form(f): Form<LoginForm>) -> Response {
    if let Err(d) = v.check_csrf(&f.csrf) {
        return d.into_response();
    }
    let client = v.client.clone();
    let old = v.session_id.clone();
    let username = f.username.trim().to_string();
    let result = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| {
            let now = now_secs();
            let outcome = s.login(&username, &f.password, &client, now)?;
            if let Login::Ok(user) = &outcome {
                if let Some(old) = &old {
                    s.end_session(old)?;
                }
                let (id, _) = s.create_session(user.id, now, SESSION_TTL)?;
                return Ok((outcome, Some(id)));
            }
            Ok((outcome, None))
        })
    })
    .await;
    let next = safe_next(f.next.as_deref()).to_string();
    let (csrf, cookie) = v.csrf();
    match result {
        Ok((Login::Ok(_), Some(id))) => {
            let mut r = see_other(&next);
            if let Some(c) = v.cookie_header(SESSION_COOKIE, &id, Some(SESSION_TTL)) {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            r
        }
        Ok((Login::Throttled(wait), _)) => {
            let r = private_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Sign in",
                login_form(
                    &csrf,
                    &next,
                    Some(&format!(
                        "Too many failed attempts: try again in {wait} seconds."
                    )),
                ),
            );
            let r = retry_after(r, wait);
            with_cookie(r, cookie)
        }
        Ok(_) => with_cookie(
            private_page(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                login_form(&csrf, &next, Some("Wrong user name or password.")),
            ),
            cookie,
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(State(app): State<Arc<App>>, v: Visitor, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(d) = v.require_form(Role::Editor, &f.csrf) {
        return d.into_response();
    }
    if let Some(id) = v.session_id.clone() {
        let r = blocking(app, move |app| {
            app.with_store_mut(|s| Ok(s.end_session(&id)?))
        })
        .await;
        if let Err(e) = r {
            return e.into_response();
        }
    }
    let mut r = see_other("/");
    if let Some(c) = v.cookie_header(SESSION_COOKIE, "", Some(0)) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        ApiError::new(d.status, d.message)
    }
}
