//! Subscriptions and delivery: the subscribe, confirm and unsubscribe pages, and the outbox
//! worker that sends e-mail (SMTP, through lettre) and webhooks (JSON, HMAC-SHA256 signed).
//!
//! The outbox is written in the transaction that publishes, so nothing announced can be lost.
//! Before each attempt the row's next due time is pushed back (the backoff); a crash in the middle
//! of a delivery therefore leads to one more attempt later, never to none. Delivery is
//! at-least-once: every message carries its idempotency key (the `Message-ID` of an e-mail, the
//! `Idempotency-Key` header of a webhook) so a receiver can drop the rare repeat. Messages that
//! fail `max_attempts` times go to the dead-letter list on the admin pages.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use minewatch_answers::describe::sentence;
use minewatch_desk::auth::{private_page, retry_after, with_cookie, Visitor};
use minewatch_store::{now_secs, Mail, OutboxItem, Store, Subscribed};
use minewatch_web::html::{html, Markup};
use minewatch_web::{blocking, ApiError, App};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

// ---- pages --------------------------------------------------------------------------------------

fn scope_name(app: &App, scope: &str) -> String {
    if scope == "*" {
        "every country profile".into()
    } else {
        match app.gazetteer().by_code(scope) {
            Some(s) => format!("the profile of {}", s.name),
            None => scope.to_string(),
        }
    }
}

fn subscribe_form(app: &App, csrf: &str, state: &str, message: Option<&str>) -> Markup {
    let states = app
        .gazetteer()
        .subjects()
        .iter()
        .filter(|s| s.kind.as_str() == "state");
    html! {
        h1 { "Receive notifications" }
        p {
            "We send one e-mail when a profile you follow changes, saying what changed and linking \
             to the profile before and after. You confirm your address first; every message has a \
             one-click unsubscribe link. Your address is used for nothing else and is never \
             published."
        }
        @if let Some(m) = message {
            p.error role="alert" { (m) }
        }
        form method="post" action="/subscribe" class="stack" {
            (minewatch_desk::auth::csrf_field(csrf))
            label { "E-mail address " input type="email" name="email" required maxlength="254" autocomplete="email"; }
            label {
                "Profile "
                select name="scope" {
                    option value="*" { "Every country (all changes)" }
                    @for s in states {
                        option value=(s.code) selected[s.code == state] { (s.name) }
                    }
                }
            }
            fieldset {
                legend { "How often" }
                label.check { input type="radio" name="cadence" value="immediate" checked; " at each change" }
                label.check { input type="radio" name="cadence" value="daily"; " a daily digest" }
                label.check { input type="radio" name="cadence" value="weekly"; " a weekly digest (Mondays)" }
            }
            button type="submit" { "Subscribe" }
        }
    }
}

pub async fn subscribe_page(
    State(app): State<Arc<App>>,
    v: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (csrf, cookie) = v.csrf();
    let state = q
        .get("state")
        .and_then(|c| app.gazetteer().by_code(c))
        .map(|s| s.code.clone())
        .unwrap_or_default();
    with_cookie(
        private_page(
            StatusCode::OK,
            "Subscribe",
            subscribe_form(&app, &csrf, &state, None),
        ),
        cookie,
    )
}

#[derive(Debug, Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    cadence: String,
}

/// Subscription requests one client address may make per hour.
const SUBSCRIBE_PER_HOUR: u32 = 10;

pub async fn subscribe(
    State(app): State<Arc<App>>,
    v: Visitor,
    Form(f): Form<SubscribeForm>,
) -> Response {
    if let Err(d) = v.check_csrf(&f.csrf) {
        return d.into_response();
    }
    let (csrf, cookie) = v.csrf();
    let email = f.email.trim().to_string();
    let scope = app.scope(&f.scope);
    let problem = if !minewatch_store::valid_email(&email) {
        Some("That is not an e-mail address we can write to.".to_string())
    } else if scope.is_none() {
        Some(format!(
            "Unknown profile {:?}: choose a country from the list.",
            f.scope
        ))
    } else if !matches!(f.cadence.as_str(), "immediate" | "daily" | "weekly") {
        Some("Choose how often: at each change, daily or weekly.".into())
    } else {
        None
    };
    if let Some(p) = problem {
        return with_cookie(
            private_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Subscribe",
                subscribe_form(&app, &csrf, &f.scope, Some(&p)),
            ),
            cookie,
        );
    }
    // Counted in the database: every server on it shares the one limit.
    let key = format!("subscribe:{}", v.client);
    let counted = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| Ok(s.count_request(&key, now_secs())?))
    })
    .await;
    let count = match counted {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    if count > i64::from(SUBSCRIBE_PER_HOUR) {
        let r = private_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            html! {
                h1 { "Too many requests" }
                p { "At most " (SUBSCRIBE_PER_HOUR) " subscriptions an hour from one address; please try again later." }
            },
        );
        return retry_after(r, 3600);
    }
    let scope = scope.unwrap_or_default();
    let what = scope_name(&app, &scope);
    let base = app.settings.public_url.trim_end_matches('/').to_string();
    let cadence = f.cadence.clone();
    let to = email.clone();
    let r = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| {
            Ok(s.subscribe(&email, &scope, &cadence, now_secs(), |confirm, unsub| Mail {
                to,
                subject: "minewatch: please confirm your subscription".into(),
                body: format!(
                    "Someone, probably you, asked minewatch to send this address notifications about {what} ({cadence}).\n\n\
                     To confirm, open this link within seven days:\n{base}/subscribe/confirm?token={confirm}\n\n\
                     If you did not ask for this, ignore this message: nothing will be sent.\n\
                     To cancel at any time: {base}/unsubscribe?token={unsub}\n"
                ),
            })?)
        })
    })
    .await;
    match r {
        Ok(Subscribed::ConfirmationQueued) | Ok(Subscribed::AlreadyPending) => {
            app.outbox_wake.notify_one();
            // The same answer either way: the page must not tell who is subscribed.
            private_page(
                StatusCode::OK,
                "Check your inbox",
                html! {
                    h1 { "Check your inbox" }
                    p {
                        "If the address can receive mail, a message with a confirmation link is on \
                         its way. Nothing is sent until you confirm."
                    }
                },
            )
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn token_form(action: &str, token: &str, title: &str, text: &str, button: &str) -> Response {
    private_page(
        StatusCode::OK,
        title,
        html! {
            h1 { (title) }
            p { (text) }
            form method="post" action=(action) {
                input type="hidden" name="token" value=(token);
                button type="submit" { (button) }
            }
        },
    )
}

/// The link in a confirmation message opens a page with one button: mail scanners that follow
/// links (GET) confirm nothing.
pub async fn confirm_page(Query(q): Query<TokenQuery>) -> Response {
    token_form(
        "/subscribe/confirm",
        &q.token,
        "Confirm your subscription",
        "One click to start receiving notifications.",
        "Confirm",
    )
}

/// The one-click unsubscribe page (`List-Unsubscribe` links; RFC 8058 POSTs land on the same
/// route).
pub async fn unsubscribe_page(Query(q): Query<TokenQuery>) -> Response {
    token_form(
        "/unsubscribe",
        &q.token,
        "Unsubscribe",
        "One click and no more messages will be sent to this address for this subscription.",
        "Unsubscribe",
    )
}

fn bad_token() -> Response {
    private_page(
        StatusCode::NOT_FOUND,
        "Link not valid",
        html! {
            h1 { "This link is not valid" }
            p { "It may have been used already, have expired, or been copied incompletely." }
        },
    )
}

fn plausible_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn confirm(State(app): State<Arc<App>>, Form(q): Form<TokenQuery>) -> Response {
    if !plausible_token(&q.token) {
        return bad_token();
    }
    let r = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| Ok(s.confirm_subscription(&q.token, now_secs())?))
    })
    .await;
    match r {
        Ok(Some(sub)) => private_page(
            StatusCode::OK,
            "Subscribed",
            html! {
                h1 { "Subscribed" }
                p { "You will be told about changes to " (scope_name(&app, &sub.scope)) " (" (sub.cadence) ")." }
            },
        ),
        Ok(None) => bad_token(),
        Err(e) => e.into_response(),
    }
}

/// The button on the unsubscribe page posts the token in the form; a mail client's one-click
/// unsubscribe (RFC 8058) posts `List-Unsubscribe=One-Click` to the URL of the
/// `List-Unsubscribe` header, so the token is in the query string. Either works.
pub async fn unsubscribe(
    State(app): State<Arc<App>>,
    Query(q): Query<TokenQuery>,
    body: axum::body::Bytes,
) -> Response {
    let token = if q.token.is_empty() {
        body.split(|b| *b == b'&')
            .find_map(|pair| pair.strip_prefix(b"token="))
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default()
    } else {
        q.token
    };
    if !plausible_token(&token) {
        return bad_token();
    }
    let r = blocking(Arc::clone(&app), move |app| {
        app.with_store_mut(|s| Ok(s.unsubscribe(&token, now_secs())?))
    })
    .await;
    match r {
        Ok(Some(sub)) => private_page(
            StatusCode::OK,
            "Unsubscribed",
            html! {
                h1 { "Unsubscribed" }
                p {
                    "No more messages about " (scope_name(&app, &sub.scope))
                    " will be sent, and your address has been erased."
                }
            },
        ),
        Ok(None) => bad_token(),
        Err(e) => e.into_response(),
    }
}

// ---- composing ----------------------------------------------------------------------------------

/// What an event says, in words and links.
#[derive(Debug, Clone)]
struct EventText {
    subject: String,
    name: String,
    lines: Vec<String>,
    before: String,
    after: String,
    json: serde_json::Value,
}

fn event_text(app: &App, store: &Store, event: i64) -> Result<Option<EventText>, ApiError> {
    let Some(e) = store.event(event)? else {
        return Ok(None);
    };
    let base = app.settings.public_url.trim_end_matches('/');
    let name = app
        .gazetteer()
        .by_code(&e.subject)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| e.subject.clone());
    let mut lines = Vec::new();
    let mut facts = Vec::new();
    for (fact, previous, action) in &e.facts {
        let Some(new) = store.fact(*fact)? else {
            continue;
        };
        let old = match previous {
            Some(p) => store.fact(*p)?,
            None => None,
        };
        let cites = new
            .fact
            .citations
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let line = match (action.as_str(), &old) {
            ("corrected", Some(o)) => format!(
                "Corrected: {}\n    Now: {}\n    Source: {cites}. Fact: {base}/facts/{fact}",
                sentence(&o.fact, &name),
                sentence(&new.fact, &name)
            ),
            ("retracted", Some(o)) => format!(
                "Retracted: {}\n    Reason: {}\n    Source: {cites}. Fact: {base}/facts/{fact}",
                sentence(&o.fact, &name),
                match &new.fact.payload {
                    minewatch_domain::Payload::Retraction(r) => r.reason.clone(),
                    _ => String::new(),
                }
            ),
            _ => format!(
                "Added: {}\n    Source: {cites}. Fact: {base}/facts/{fact}",
                sentence(&new.fact, &name)
            ),
        };
        lines.push(line);
        facts.push(json!({
            "action": action,
            "fact": fact,
            "previous": previous,
            "statement": sentence(&new.fact, &name),
            "previous_statement": old.as_ref().map(|o| sentence(&o.fact, &name)),
            "url": format!("{base}/facts/{fact}"),
        }));
    }
    let first = e.facts.iter().map(|f| f.0).min().unwrap_or(0);
    let last = e.facts.iter().map(|f| f.0).max().unwrap_or(0);
    let code = minewatch_web::html::url_enc(&e.subject);
    let before = format!("{base}/states/{code}?record={}", first - 1);
    let after = format!("{base}/states/{code}?record={last}");
    let json = json!({
        "event": e.id,
        "at": e.at,
        "subject": e.subject,
        "name": name,
        "changes": facts,
        "profile_before": before,
        "profile_after": after,
        "profile": format!("{base}/states/{code}"),
    });
    Ok(Some(EventText {
        subject: e.subject,
        name,
        lines,
        before,
        after,
        json,
    }))
}

/// One e-mail about some events for one subscriber.
fn event_mail(app: &App, texts: &[EventText], to: &str, unsub: &str, scope: &str) -> Mail {
    let base = app.settings.public_url.trim_end_matches('/');
    let changes: usize = texts.iter().map(|t| t.lines.len()).sum();
    let subject = match texts {
        [one] => format!(
            "minewatch: {} profile updated ({} change{})",
            one.name,
            changes,
            if changes == 1 { "" } else { "s" }
        ),
        _ => format!(
            "minewatch: {} profiles updated ({} changes)",
            texts.len(),
            changes
        ),
    };
    let mut body = String::from("The minewatch record has changed.\n");
    for t in texts {
        let _ = write!(body, "\n{} ({})\n", t.name, t.subject);
        for l in &t.lines {
            let _ = writeln!(body, "  - {l}");
        }
        let _ = write!(
            body,
            "  Profile before the change: {}\n  Profile after the change:  {}\n",
            t.before, t.after
        );
    }
    let _ = write!(
        body,
        "\nYou receive this because you subscribed to {}.\nUnsubscribe with one click: {base}/unsubscribe?token={unsub}\n",
        scope_name(app, scope)
    );
    Mail {
        to: to.to_string(),
        subject,
        body,
    }
}

// ---- delivery -----------------------------------------------------------------------------------

/// The delay before the next attempt after `attempts` attempts.
pub fn backoff_ms(app: &App, attempts: i64) -> u64 {
    let shift = attempts.clamp(0, 30) as u32;
    app.settings
        .retry_base_ms
        .saturating_mul(1u64 << shift)
        .min(app.settings.retry_max_ms)
}

/// What one delivery is: one message (some outbox rows) to one place.
enum Job {
    Email {
        ids: Vec<i64>,
        /// Attempts made so far (the most of its rows): the next delay doubles from it.
        attempts: i64,
        ikey: String,
        mail: Mail,
        unsubscribe: Option<String>,
    },
    Webhook {
        id: i64,
        attempts: i64,
        ikey: String,
        url: String,
        secret: String,
        body: String,
    },
}

/// The deliveries to make, and the rows to drop with the reason.
type Plan = (Vec<Job>, Vec<(i64, String)>);

/// Groups due rows into deliveries: composed messages alone; a subscriber's event rows into one
/// message (a digest when several are due); one webhook call per row.
fn plan(app: &App, store: &Store, due: Vec<OutboxItem>) -> Result<Plan, ApiError> {
    let base = app.settings.public_url.trim_end_matches('/').to_string();
    let mut jobs = Vec::new();
    let mut drop = Vec::new();
    let mut by_subscriber: BTreeMap<i64, Vec<OutboxItem>> = BTreeMap::new();
    for item in due {
        match (
            item.channel.as_str(),
            &item.message,
            item.subscriber,
            item.webhook,
        ) {
            ("email", Some(m), _, _) => match serde_json::from_str::<Mail>(m) {
                Ok(mail) => jobs.push(Job::Email {
                    ids: vec![item.id],
                    attempts: item.attempts,
                    ikey: item.ikey.clone(),
                    mail,
                    unsubscribe: None,
                }),
                Err(e) => drop.push((item.id, format!("unreadable message: {e}"))),
            },
            ("email", None, Some(sid), _) => by_subscriber.entry(sid).or_default().push(item),
            ("webhook", _, _, Some(wid)) => {
                let Some((url, secret, disabled)) = store.webhook_target(wid)? else {
                    drop.push((item.id, "webhook removed".into()));
                    continue;
                };
                if disabled {
                    drop.push((item.id, "webhook disabled".into()));
                    continue;
                }
                let Some(ev) = item.event else {
                    drop.push((item.id, "no event".into()));
                    continue;
                };
                match event_text(app, store, ev)? {
                    Some(t) => {
                        let mut v = t.json;
                        v["idempotency_key"] = json!(item.ikey);
                        v["type"] = json!("profile.updated");
                        jobs.push(Job::Webhook {
                            id: item.id,
                            attempts: item.attempts,
                            ikey: item.ikey.clone(),
                            url,
                            secret,
                            body: v.to_string(),
                        })
                    }
                    None => drop.push((item.id, format!("event {ev} not found"))),
                }
            }
            _ => drop.push((item.id, "nothing to deliver".into())),
        }
    }
    for (sid, items) in by_subscriber {
        let Some((email, unsub, scope, active)) = store.subscriber_address(sid)? else {
            drop.extend(
                items
                    .iter()
                    .map(|i| (i.id, "subscriber removed".to_string())),
            );
            continue;
        };
        if !active {
            drop.extend(items.iter().map(|i| (i.id, "unsubscribed".to_string())));
            continue;
        }
        let mut texts = Vec::new();
        for i in &items {
            if let Some(ev) = i.event {
                if let Some(t) = event_text(app, store, ev)? {
                    texts.push(t);
                }
            }
        }
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        if texts.is_empty() {
            drop.extend(ids.iter().map(|&i| (i, "events not found".to_string())));
            continue;
        }
        // One key per set of rows: a retry of the same set carries the same Message-ID.
        let ikey = if items.len() == 1 {
            items[0].ikey.clone()
        } else {
            let mut h = Sha256::new();
            for i in &items {
                h.update(i.ikey.as_bytes());
                h.update(b"\n");
            }
            format!("digest-s{sid}-{:x}", h.finalize())[..40].to_string()
        };
        jobs.push(Job::Email {
            ids,
            attempts: items.iter().map(|i| i.attempts).max().unwrap_or(0),
            ikey,
            mail: event_mail(app, &texts, &email, &unsub, &scope),
            unsubscribe: Some(format!("{base}/unsubscribe?token={unsub}")),
        });
    }
    Ok((jobs, drop))
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost")
        .to_string()
}

fn send_email(
    app: &App,
    mailer: &lettre::SmtpTransport,
    ikey: &str,
    mail: &Mail,
    unsubscribe: Option<&str>,
) -> Result<(), String> {
    use lettre::message::header::{HeaderName, HeaderValue};
    use lettre::Transport;
    let from = app
        .settings
        .mail_from
        .parse()
        .map_err(|e| format!("mail_from {:?}: {e}", app.settings.mail_from))?;
    let to = mail
        .to
        .parse()
        .map_err(|e| format!("the recipient address was refused: {e}"))?;
    let host = host_of(&app.settings.public_url);
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.replace(['\r', '\n'], " "))
        .message_id(Some(format!("<{ikey}@{host}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Minewatch-Idempotency-Key"),
            ikey.to_string(),
        ));
    if let Some(u) = unsubscribe {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{u}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let msg = b
        .body(mail.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))?;
    mailer.send(&msg).map(|_| ()).map_err(|e| e.to_string())
}

/// `X-Minewatch-Signature: t=TIMESTAMP,v1=HEX`: HMAC-SHA256 of `TIMESTAMP.BODY` with the
/// webhook's secret (the timestamp lets receivers refuse replays).
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let sig = mac.finalize().into_bytes();
    let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

fn send_webhook(url: &str, secret: &str, ikey: &str, body: &str) -> Result<(), String> {
    let now = now_secs();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(15))
        .redirects(0)
        .build();
    match agent
        .post(url)
        .set("Content-Type", "application/json")
        .set("User-Agent", "minewatch-webhook/1")
        .set("Idempotency-Key", ikey)
        .set("X-Minewatch-Event", "profile.updated")
        .set(
            "X-Minewatch-Signature",
            &webhook_signature(secret, now, body),
        )
        .send_string(body)
    {
        Ok(r) if (200..300).contains(&r.status()) => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(ureq::Error::Status(code, _)) => Err(format!("HTTP {code}")),
        Err(e) => Err(e.to_string()),
    }
}

/// One pass over the outbox: delivers what is due. Returns how many messages went out.
pub fn deliver_due(app: &App, mailer: Option<&lettre::SmtpTransport>) -> Result<usize, ApiError> {
    let now = now_secs();
    let (jobs, drops) = app.with_store(|s| {
        let due = s.outbox_due(now, 200)?;
        plan(app, s, due)
    })?;
    if !drops.is_empty() {
        app.with_store_mut(|s| {
            for (id, why) in &drops {
                s.outbox_drop(&[*id], why)?;
            }
            Ok(())
        })?;
    }
    let mut sent = 0;
    for job in jobs {
        let (ids, attempts) = match &job {
            // No relay configured: e-mail waits (not counted as attempts).
            Job::Email { .. } if mailer.is_none() => continue,
            Job::Email { ids, attempts, .. } => (ids.clone(), *attempts),
            Job::Webhook { id, attempts, .. } => (vec![*id], *attempts),
        };
        // Claim the rows and push their due time back before trying: a crash now means one
        // more attempt later, and a worker of another server that read the same rows finds them
        // claimed and leaves them.
        let retry = now + (backoff_ms(app, attempts) / 1000).max(1) as i64;
        if !app.with_store_mut(|s| Ok(s.outbox_claim(&ids, now, retry)?))? {
            continue;
        }
        let result = match (&job, mailer) {
            (
                Job::Email {
                    ikey,
                    mail,
                    unsubscribe,
                    ..
                },
                Some(m),
            ) => {
                minewatch_store::failpoint("outbox-before-send");
                send_email(app, m, ikey, mail, unsubscribe.as_deref())
            }
            (
                Job::Webhook {
                    ikey,
                    url,
                    secret,
                    body,
                    ..
                },
                _,
            ) => send_webhook(url, secret, ikey, body),
            (Job::Email { .. }, None) => continue,
        };
        match result {
            Ok(()) => {
                minewatch_store::failpoint("outbox-after-send");
                app.with_store_mut(|s| Ok(s.outbox_sent(&ids, now_secs())?))?;
                sent += 1;
            }
            Err(e) => {
                eprintln!(
                    "minewatch: outbox: delivery failed ({} row(s)): {e}",
                    ids.len()
                );
                let max = app.settings.max_attempts;
                app.with_store_mut(|s| Ok(s.outbox_failed(&ids, &e, max)?))?;
            }
        }
    }
    Ok(sent)
}

/// The SMTP transport for the configured relay.
pub fn mailer(app: &App) -> Result<Option<lettre::SmtpTransport>, String> {
    match &app.settings.smtp {
        None => Ok(None),
        Some(url) => lettre::SmtpTransport::from_url(url)
            .map(|b| Some(b.timeout(Some(Duration::from_secs(20))).build()))
            .map_err(|e| format!("--smtp {url:?}: {e}; expected smtp://host:port or smtps://host")),
    }
}

/// How often the worker erases personal data that is no longer needed.
const FORGET_EVERY: Duration = Duration::from_secs(3600);

/// Runs the outbox worker until the process ends: a pass every `poll_ms`, or at once when woken.
pub fn spawn_worker(app: Arc<App>) -> Result<(), String> {
    let mailer = mailer(&app)?;
    tokio::spawn(async move {
        let mut forget_after = tokio::time::Instant::now();
        loop {
            // Once an hour (and at start): erase what is no longer needed (Store::forget).
            if tokio::time::Instant::now() >= forget_after {
                forget_after += FORGET_EVERY;
                let a = Arc::clone(&app);
                let r = tokio::task::spawn_blocking(move || {
                    a.with_store_mut(|s| Ok(s.forget(now_secs())?))
                })
                .await;
                match r {
                    Ok(Err(e)) => {
                        eprintln!("minewatch: forgetting old personal data: {}", e.message)
                    }
                    Err(e) => eprintln!("minewatch: forgetting old personal data: {e}"),
                    Ok(Ok(_)) => {}
                }
            }
            let a = Arc::clone(&app);
            let m = mailer.clone();
            let r = tokio::task::spawn_blocking(move || deliver_due(&a, m.as_ref())).await;
            match r {
                Ok(Err(e)) => eprintln!("minewatch: outbox: {}", e.message),
                Err(e) => eprintln!("minewatch: outbox worker: {e}"),
                Ok(Ok(_)) => {}
            }
            let wait = Duration::from_millis(app.settings.poll_ms.max(50));
            let _ = tokio::time::timeout(wait, app.outbox_wake.notified()).await;
        }
    });
    Ok(())
}
