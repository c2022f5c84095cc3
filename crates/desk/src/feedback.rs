//! Readers' feedback (a form on every profile, with optional attachments) and the admin pages:
//! the feedback inbox, the outbox with its dead letters, subscribers' counts and webhooks.
//!
//! Feedback and attachments are stored in the record's database and never served publicly: an
//! attachment is sent only to an admin, as a download (`Content-Disposition: attachment`, with
//! `nosniff` and a sandboxing CSP), never rendered inline.

use crate::auth::{
    csrf_field, private_page, retry_after, see_other, with_cookie, CsrfOnly, Visitor,
};
use crate::proposals::{error_page, path_id};
use axum::extract::{Form, Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minewatch_store::{now_secs, Mail, NewAttachment, NewFeedback, Role};
use minewatch_web::html::{html, table, Markup};
use minewatch_web::{blocking, ApiError, App};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many files per message.
pub const MAX_FILES: usize = 3;
/// At most this many bytes per file.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// The whole form, files included (larger requests get 413 before they are read).
pub const MAX_BODY_BYTES: usize = MAX_FILES * MAX_FILE_BYTES + 64 * 1024;
/// At most this many messages per client address per hour.
pub const PER_HOUR: i64 = 5;
/// The longest message.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// The accepted types, recognised by their first bytes (not by what the browser claims).
fn sniff(data: &[u8], filename: &str) -> Option<&'static str> {
    if data.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if std::str::from_utf8(data).is_ok() && !data.contains(&0) {
        let lower = filename.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some("text/csv")
        } else if lower.ends_with(".txt") {
            Some("text/plain")
        } else {
            None
        }
    } else {
        None
    }
}

fn feedback_form(csrf: &str, state: &str, page: &str, message: Option<&str>) -> Markup {
    html! {
        h1 { "Send us your feedback" }
        p {
            "Corrections, new sources, questions: an editor reads every message. Your name and \
             address are optional, are used only to answer you, and are never published."
        }
        @if let Some(m) = message {
            p class="error" role="alert" { (m) }
        }
        form method="post" action="/feedback" enctype="multipart/form-data" class="stack" {
            (csrf_field(csrf))
            input type="hidden" name="state" value=(state);
            input type="hidden" name="page" value=(page);
            label {
                "Message "
                textarea name="message" rows="8" required maxlength=(MAX_MESSAGE_CHARS) {}
            }
            label {
                "Your name (optional) "
                input name="name" maxlength="200" autocomplete="name";
            }
            label {
                "Your e-mail, if you would like an answer (optional) "
                input type="email" name="email" maxlength="254" autocomplete="email";
            }
            label {
                "Attachments (optional; up to " (MAX_FILES) " files of PDF, PNG, JPEG, CSV or \
                 plain text, " (MAX_FILE_BYTES / (1024 * 1024)) " MiB each) "
                input type="file" name="files" multiple accept=".pdf,.png,.jpg,.jpeg,.csv,.txt";
            }
            div class="hp" aria-hidden="true" {
                label {
                    "Leave this empty "
                    input name="website" tabindex="-1" autocomplete="off";
                }
            }
            button type="submit" { "Send" }
        }
    }
}

pub async fn feedback_page(
    State(app): State<Arc<App>>,
    v: Visitor,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let (csrf, cookie) = v.csrf();
    let state = q
        .get("state")
        .and_then(|c| app.gazetteer().by_code(c))
        .map(|s| s.code.clone())
        .unwrap_or_default();
    let page = q
        .get("page")
        .filter(|p| p.starts_with('/') && p.len() < 300)
        .cloned()
        .unwrap_or_default();
    with_cookie(
        private_page(
            StatusCode::OK,
            "Feedback",
            feedback_form(&csrf, &state, &page, None),
        ),
        cookie,
    )
}

fn thanks() -> Response {
    private_page(
        StatusCode::OK,
        "Thank you",
        html! {
            h1 { "Thank you" }
            p { "Your message has reached the editors." }
        },
    )
}

pub async fn feedback_post(State(app): State<Arc<App>>, v: Visitor, mut mp: Multipart) -> Response {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut files: Vec<NewAttachment> = Vec::new();
    let mut problem: Option<(StatusCode, String)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return (e.status(), e.body_text()).into_response(),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let filename = field
                .file_name()
                .map(|f| {
                    f.chars()
                        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
                        .take(120)
                        .collect::<String>()
                })
                .unwrap_or_default();
            // Read in chunks so an oversized file is refused without holding it whole.
            let mut data = Vec::new();
            let mut field = field;
            loop {
                match field.chunk().await {
                    Ok(Some(c)) => {
                        if data.len() + c.len() > MAX_FILE_BYTES {
                            return private_page(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "Too large",
                                html! {
                                    h1 { "Attachment too large" }
                                    p {
                                        (filename) " is larger than "
                                        (MAX_FILE_BYTES / (1024 * 1024)) " MiB; nothing was sent."
                                    }
                                },
                            );
                        }
                        data.extend_from_slice(&c);
                    }
                    Ok(None) => break,
                    Err(e) => return (e.status(), e.body_text()).into_response(),
                }
            }
            if data.is_empty() && filename.is_empty() {
                continue; // the empty file input of a form sent without files
            }
            if files.len() >= MAX_FILES {
                problem = Some((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("At most {MAX_FILES} attachments, please."),
                ));
                continue;
            }
            match sniff(&data, &filename) {
                Some(ct) => files.push(NewAttachment {
                    filename: if filename.is_empty() {
                        "attachment".into()
                    } else {
                        filename
                    },
                    content_type: ct.into(),
                    data,
                }),
                None => {
                    problem = Some((
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        format!("{filename:?} is not a PDF, PNG, JPEG, CSV or plain-text file; nothing was sent."),
                    ))
                }
            }
        } else {
            match field.text().await {
                Ok(t) => {
                    fields.insert(name, t);
                }
                Err(e) => return (e.status(), e.body_text()).into_response(),
            }
        }
    }
    if let Err(d) = v.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or("")) {
        return d.into_response();
    }
    // A filled honeypot is a robot: thank it and keep nothing.
    if fields.get("website").is_some_and(|w| !w.trim().is_empty()) {
        return thanks();
    }
    let (csrf, _) = v.csrf();
    let get = |k: &str| {
        fields
            .get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let state = get("state").and_then(|c| app.gazetteer().by_code(&c).map(|s| s.code.clone()));
    let page = get("page").filter(|p| p.starts_with('/') && p.len() < 300);
    let message = get("message").unwrap_or_default();
    let email = get("email");
    if problem.is_none() {
        if message.is_empty() {
            problem = Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please write a message.".into(),
            ));
        } else if message.chars().count() > MAX_MESSAGE_CHARS {
            problem = Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("The message is longer than {MAX_MESSAGE_CHARS} characters."),
            ));
        } else if email
            .as_deref()
            .is_some_and(|e| !minewatch_store::valid_email(e))
        {
            problem = Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                "That e-mail address does not look right; leave it empty if you want no answer."
                    .into(),
            ));
        }
    }
    if let Some((status, m)) = problem {
        return private_page(
            status,
            "Feedback",
            feedback_form(
                &csrf,
                state.as_deref().unwrap_or(""),
                page.as_deref().unwrap_or(""),
                Some(&m),
            ),
        );
    }
    let fb = NewFeedback {
        subject: state,
        page,
        name: get("name").map(|n| n.chars().take(200).collect()),
        email,
        message,
        client: v.client.clone(),
    };
    let r = blocking(app, move |app| {
        app.with_store_mut(|s| Ok(s.add_feedback(&fb, &files, now_secs(), PER_HOUR)?))
    })
    .await;
    match r {
        Ok(Some(_)) => thanks(),
        Ok(None) => {
            let r = private_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many messages",
                html! {
                    h1 { "Too many messages" }
                    p {
                        "At most " (PER_HOUR) " messages an hour from one address; please try \
                         again later."
                    }
                },
            );
            retry_after(r, 3600)
        }
        Err(e) => e.into_response(),
    }
}

// ---- admin --------------------------------------------------------------------------------------

fn when(secs: i64) -> String {
    let day = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let date = minewatch_domain::Date::from_days(day)
        .map(|d| d.to_string())
        .unwrap_or_default();
    format!("{date} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

pub async fn admin_home(State(app): State<Arc<App>>, v: Visitor) -> Response {
    if let Err(d) = v.require(Role::Admin) {
        return d.into_response();
    }
    let (csrf, _) = v.csrf();
    let r = blocking(Arc::clone(&app), |app| {
        app.with_store(|s| {
            Ok((
                s.outbox_counts()?,
                s.outbox("dead", 100)?,
                s.outbox("pending", 100)?,
                s.subscriber_counts()?,
                s.webhooks()?,
                s.feedback_list(Some("open"), 200)?,
                s.users()?,
            ))
        })
    })
    .await;
    let (counts, dead, pending, subs, hooks, open, users) = match r {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let outbox_rows = |items: &[minewatch_store::OutboxItem], retry: bool| -> Vec<Vec<Markup>> {
        items
            .iter()
            .map(|i| {
                vec![
                    html! { (i.id) },
                    html! { (i.ikey) },
                    html! { (i.channel) },
                    html! { (i.purpose) },
                    html! { (i.attempts) },
                    html! { (when(i.due_at)) },
                    html! { (i.last_error.as_deref().unwrap_or("")) },
                    html! {
                        @if retry {
                            form method="post" action={ "/admin/outbox/" (i.id) "/retry" } {
                                (csrf_field(&csrf))
                                button type="submit" { "Retry" }
                            }
                        }
                    },
                ]
            })
            .collect()
    };
    let heads = [
        "Row",
        "Idempotency key",
        "Channel",
        "Purpose",
        "Attempts",
        "Due",
        "Last error",
        "",
    ];
    let fb_rows: Vec<Vec<Markup>> = open
        .iter()
        .map(|f| {
            vec![
                html! { a href={ "/admin/feedback/" (f.id) } { "#" (f.id) } },
                html! { (when(f.received_at)) },
                html! { (f.subject.as_deref().unwrap_or("")) },
                html! { (f.message.chars().take(120).collect::<String>()) },
                html! { (f.attachments.len()) },
            ]
        })
        .collect();
    let hook_rows: Vec<Vec<Markup>> = hooks
        .iter()
        .map(|h| {
            vec![
                html! { (h.id) },
                html! { (h.url) },
                html! { (h.scope) },
                html! {
                    @if h.disabled {
                        "disabled"
                    } @else {
                        form method="post" action={ "/admin/webhooks/" (h.id) "/disable" } {
                            (csrf_field(&csrf))
                            button type="submit" { "Disable" }
                        }
                    }
                },
            ]
        })
        .collect();
    let user_rows: Vec<Vec<Markup>> = users
        .iter()
        .map(|u| {
            vec![
                html! { (u.username) },
                html! { (u.role.as_str()) },
                html! { @if u.disabled { "disabled" } @else { "active" } },
            ]
        })
        .collect();
    let relay = match &app.settings.smtp {
        Some(_) => "An SMTP relay is configured.",
        None => "No SMTP relay is configured (serve --smtp): e-mail waits in the outbox.",
    };
    let main = html! {
        h1 { "Administration" }
        p { a href="/desk" { "Editorial desk" } }
        h2 { "Outbox" }
        p {
            (counts.pending) " pending, " (counts.sent) " sent, " (counts.dead) " dead, "
            (counts.dropped) " dropped. " (relay)
        }
        (table(
            "Dead letters (gave up after the last attempt)",
            &heads,
            &outbox_rows(&dead, true)
        ))
        (table("Pending", &heads, &outbox_rows(&pending, false)))
        h2 { "Feedback inbox" }
        (table(
            "Open feedback",
            &["Message", "Received", "Profile", "Text", "Files"],
            &fb_rows
        ))
        h2 { "Subscribers" }
        p {
            (subs.0) " confirmed, " (subs.1) " awaiting confirmation, " (subs.2)
            " unsubscribed. Addresses are not listed here."
        }
        h2 { "Webhooks" }
        (table("Webhooks", &["Id", "URL", "Scope", ""], &hook_rows))
        form method="post" action="/admin/webhooks" class="stack" {
            (csrf_field(&csrf))
            label {
                "URL "
                input name="url" required maxlength="2000" placeholder="https://example.org/hook";
            }
            label {
                "Scope (a state code, or * for everything) "
                input name="scope" value="*" required;
            }
            button type="submit" { "Add webhook" }
        }
        h2 { "Accounts" }
        (table("Accounts", &["User", "Role", "State"], &user_rows))
        p {
            "Accounts are managed with " code { "minewatch user add|disable|enable|reset" } "."
        }
    };
    private_page(StatusCode::OK, "Administration", main)
}

/// A one-click admin action on a row (`id` from the path), then back to `/admin`. An unknown id
/// (or a row not in a state the action applies to) is a 404 that says so.
async fn admin_action(
    app: Arc<App>,
    v: Visitor,
    id: String,
    csrf: &str,
    what: &'static str,
    act: fn(&mut minewatch_store::Store, i64) -> minewatch_store::Result<bool>,
) -> Response {
    if let Err(d) = v.require_form(Role::Admin, csrf) {
        return d.into_response();
    }
    let id = match path_id(what, &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    match blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| Ok(act(s, id)?))
    })
    .await
    {
        Ok(true) => {
            app.outbox_wake.notify_one();
            see_other("/admin")
        }
        Ok(false) => private_page(
            StatusCode::NOT_FOUND,
            "Not found",
            html! {
                h1 { "Not done" }
                p { "There is no " (what) " " (id) "." }
                p { a href="/admin" { "Back" } }
            },
        ),
        Err(e) => e.into_response(),
    }
}

pub async fn outbox_retry(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    admin_action(app, v, id, &f.csrf, "dead letter", |s, id| {
        s.outbox_retry(id, now_secs())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    scope: String,
}

pub async fn webhook_add(
    State(app): State<Arc<App>>,
    v: Visitor,
    Form(f): Form<WebhookForm>,
) -> Response {
    if let Err(d) = v.require_form(Role::Admin, &f.csrf) {
        return d.into_response();
    }
    let Some(scope) = app.scope(&f.scope) else {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("scope {:?}: expected a state code or *", f.scope),
        )
        .into_response();
    };
    let url = f.url.trim().to_string();
    match blocking(app, move |app| {
        app.with_store_mut(|s| {
            s.add_webhook(&url, &scope, now_secs())
                .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
        })
    })
    .await
    {
        Ok((hook, secret)) => private_page(
            StatusCode::CREATED,
            "Webhook added",
            html! {
                h1 { "Webhook added" }
                p { "Webhook " (hook.id) " posts to " (hook.url) " for " (hook.scope) "." }
                p { "Its signing secret, shown only now: " code { (secret) } }
                p {
                    "Each call carries " code { "X-Minewatch-Signature: t=TIMESTAMP,v1=HMAC" }
                    ", the HMAC-SHA256 of " code { "TIMESTAMP.BODY" }
                    " with this secret, and an " code { "Idempotency-Key" } "."
                }
                p { a href="/admin" { "Back" } }
            },
        ),
        Err(e) => e.into_response(),
    }
}

pub async fn webhook_disable(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    admin_action(app, v, id, &f.csrf, "webhook", |s, id| {
        s.disable_webhook(id)
    })
    .await
}

pub async fn feedback_item(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    if let Err(d) = v.require(Role::Admin) {
        return d.into_response();
    }
    let id = match path_id("feedback message", &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    let (csrf, _) = v.csrf();
    let f = match blocking(app, move |app| app.with_store(|s| Ok(s.feedback(id)?))).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return private_page(
                StatusCode::NOT_FOUND,
                "Not found",
                html! { h1 { "No such message" } },
            )
        }
        Err(e) => return e.into_response(),
    };
    let main = html! {
        h1 { "Feedback #" (f.id) }
        dl {
            dt { "Received" } dd { (when(f.received_at)) }
            dt { "From" }
            dd {
                (f.name.as_deref().unwrap_or("(no name)")) " "
                @if let Some(e) = &f.email { "<" (e) ">" }
            }
            dt { "Profile" } dd { (f.subject.as_deref().unwrap_or("")) }
            dt { "Page" } dd { (f.page.as_deref().unwrap_or("")) }
            dt { "Status" } dd { (f.status) }
        }
        h2 { "Message" }
        pre class="message" { (f.message) }
        h2 { "Attachments" }
        ul {
            @for (aid, name, ct, size) in &f.attachments {
                li {
                    a href={ "/admin/attachments/" (aid) } { (name) }
                    " (" (ct) ", " (size) " bytes)"
                }
            }
        }
        @if let Some(a) = &f.answer {
            h2 { "Answered by " (f.answered_by.as_deref().unwrap_or("")) }
            pre { (a) }
        }
        @if f.email.is_some() {
            form method="post" action={ "/admin/feedback/" (f.id) "/answer" } class="stack" {
                (csrf_field(&csrf))
                label {
                    "Answer (sent by e-mail) "
                    textarea name="answer" rows="6" required maxlength="10000" {}
                }
                button type="submit" { "Send answer" }
            }
        } @else {
            p { "No address was given: this message cannot be answered." }
        }
        form method="post" action={ "/admin/feedback/" (f.id) "/close" } {
            (csrf_field(&csrf))
            button type="submit" { "Close" }
        }
        form method="post" action={ "/admin/feedback/" (f.id) "/erase" } {
            (csrf_field(&csrf))
            p {
                "On the sender's request, or when it is no longer needed: erase the name, \
                 address, message, answer and attachments for good (the message is closed)."
            }
            button type="submit" { "Erase personal data" }
        }
        p { a href="/admin" { "Back to the inbox" } }
    };
    private_page(StatusCode::OK, &format!("Feedback #{}", f.id), main)
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
}

pub async fn feedback_answer(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let user = match v.require_form(Role::Admin, &f.csrf) {
        Ok(u) => u.clone(),
        Err(d) => return d.into_response(),
    };
    let id = match path_id("feedback message", &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    let answer = f.answer.trim().to_string();
    if answer.is_empty() {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "answer: write something to send",
        )
        .into_response();
    }
    let r = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| {
            let fb = s
                .feedback(id)?
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no feedback {id}")))?;
            let to = fb.email.ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "this message has no address to answer",
                )
            })?;
            let quoted: String = fb.message.lines().map(|l| format!("> {l}\n")).collect();
            let mail = Mail {
                to,
                subject: "minewatch: an answer to your feedback".into(),
                body: format!(
                    "{answer}\n\n-- \n{} for minewatch\n\nYou wrote:\n{quoted}",
                    user.username
                ),
            };
            Ok(s.answer_feedback(id, user.id, &mail, now_secs())?)
        })
    })
    .await;
    match r {
        Ok(()) => {
            app.outbox_wake.notify_one();
            see_other(&format!("/admin/feedback/{id}"))
        }
        Err(e) => e.into_response(),
    }
}

pub async fn feedback_close(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    admin_action(app, v, id, &f.csrf, "feedback message", |s, id| {
        s.close_feedback(id)
    })
    .await
}

pub async fn feedback_erase(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    admin_action(app, v, id, &f.csrf, "feedback message", |s, id| {
        s.erase_feedback(id)
    })
    .await
}

pub async fn attachment(
    State(app): State<Arc<App>>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    if let Err(d) = v.require(Role::Admin) {
        return d.into_response();
    }
    let id = match path_id("attachment", &id) {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    match blocking(app, move |app| app.with_store(|s| Ok(s.attachment(id)?))).await {
        Ok(Some((_, name, ct, data))) => {
            let mut r = data.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&ct)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            );
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            crate::auth::no_store(&mut r);
            r
        }
        Ok(None) => private_page(
            StatusCode::NOT_FOUND,
            "Not found",
            html! { h1 { "No such attachment" } },
        ),
        Err(e) => e.into_response(),
    }
}
