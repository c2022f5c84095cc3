//! The editorial desk and notifications: accounts, sessions, proposals and their four-eyes
//! publication, events, the durable outbox, subscribers, webhooks and readers' feedback.
//!
//! Everything here is private to the team: none of these tables is read by a public page or an
//! export. Secrets (session ids, API tokens, confirmation tokens) are random 256-bit values of
//! which only the SHA-256 is stored; unsubscribe tokens (random too) are kept as they are, since
//! every message carries one; passwords are Argon2id hashes.

use crate::db::{args, Row};
use crate::{Backend, Batch, Result, Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A fresh random secret: 32 bytes from the operating system, as 64 hex digits.
pub fn random_token() -> Result<String> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Rejected(format!("no randomness from the system: {e}")))?;
    Ok(hex(&buf))
}

/// SHA-256 of a secret, as stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rejected(m: impl Into<String>) -> StoreError {
    StoreError::Rejected(m.into())
}

// ---- accounts -----------------------------------------------------------------------------------

/// What an account may do. Readers have no account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
}

/// A signed-in session: who, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(rejected(format!(
            "password too short: expected at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| rejected(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| rejected(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| rejected(format!("cannot hash the password: {e}")))
}

fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(stored) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of no one's password, verified against when the user is unknown so that unknown and
/// known names take the same time.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}

fn valid_username(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn user_row(r: &Row) -> Result<(i64, String, String, bool, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_user(
    (id, username, role, disabled, created_at): (i64, String, String, bool, String),
) -> Result<User> {
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("user {id} has unknown role {role:?}")))?;
    Ok(User {
        id,
        username,
        role,
        disabled,
        created_at,
    })
}

const USER_COLS: &str = "id, username, role, disabled, created_at";

/// How a login attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Ok(User),
    /// Wrong name or password (which of the two is not said).
    Failed,
    /// Too many recent failures: try again after this many seconds. The password was not checked.
    Throttled(i64),
}

/// Failures allowed before logins for a name or address are delayed.
pub const FREE_FAILURES: i64 = 5;

/// Confirmation mails one address may be sent per hour.
pub const CONFIRMATIONS_PER_HOUR: i64 = 3;

/// How long a subscription's confirmation link works (seconds).
pub const CONFIRM_TTL: i64 = 7 * 86_400;

/// What [`Store::forget`] erased or deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub addresses: usize,
    pub messages: usize,
    pub sessions: usize,
    pub failures: usize,
}

impl Store {
    /// Adds an account.
    pub fn add_user(&mut self, username: &str, role: Role, password: &str) -> Result<User> {
        if !valid_username(username) {
            return Err(rejected(format!(
                "invalid user name {username:?}: expected 2 to 64 letters, digits, '-', '_' or '.'"
            )));
        }
        let hash = hash_password(password)?;
        let tx = self.conn.begin()?;
        let exists = tx.opt(
            "SELECT id FROM users WHERE lower(username) = lower(?1)",
            args![username],
        )?;
        if exists.is_some() {
            return Err(rejected(format!("user {username:?} already exists")));
        }
        let id = tx.insert(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            args![username, role.as_str(), hash, crate::now_rfc3339()],
        )?;
        tx.commit()?;
        self.user(id)?
            .ok_or_else(|| StoreError::Corrupt("the new user vanished".into()))
    }

    pub fn user(&self, id: i64) -> Result<Option<User>> {
        self.conn
            .opt(
                &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
                args![id],
            )?
            .map(|r| to_user(user_row(&r)?))
            .transpose()
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        self.conn
            .opt(
                &format!("SELECT {USER_COLS} FROM users WHERE lower(username) = lower(?1)"),
                args![username],
            )?
            .map(|r| to_user(user_row(&r)?))
            .transpose()
    }

    pub fn users(&self) -> Result<Vec<User>> {
        // Names are ASCII and unique whatever their case: ordered as SQLite's NOCASE did.
        self.conn
            .query(
                &format!("SELECT {USER_COLS} FROM users ORDER BY lower(username), id"),
                args![],
            )?
            .iter()
            .map(|r| to_user(user_row(r)?))
            .collect()
    }

    /// Disables (or re-enables) an account; disabling ends its sessions and API tokens.
    pub fn set_user_disabled(&mut self, username: &str, disabled: bool) -> Result<User> {
        let user = self
            .user_by_name(username)?
            .ok_or_else(|| rejected(format!("no user {username:?}")))?;
        let tx = self.conn.begin()?;
        tx.execute(
            "UPDATE users SET disabled = ?1 WHERE id = ?2",
            args![disabled, user.id],
        )?;
        if disabled {
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", args![user.id])?;
            tx.execute("DELETE FROM api_tokens WHERE user_id = ?1", args![user.id])?;
        }
        tx.commit()?;
        Ok(User { disabled, ..user })
    }

    /// Sets a new password and ends every session of the account.
    pub fn reset_password(&mut self, username: &str, password: &str) -> Result<User> {
        let user = self
            .user_by_name(username)?
            .ok_or_else(|| rejected(format!("no user {username:?}")))?;
        let hash = hash_password(password)?;
        let tx = self.conn.begin()?;
        tx.execute(
            "UPDATE users SET password_hash = ?1 WHERE id = ?2",
            args![hash, user.id],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", args![user.id])?;
        tx.execute(
            "DELETE FROM login_failures WHERE key = ?1",
            args![format!("user:{}", user.username.to_lowercase())],
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// Checks a login. Failures are counted per name and per client address; after
    /// [`FREE_FAILURES`] the next attempt must wait 2 s, doubling each time (up to 15 minutes).
    pub fn login(
        &mut self,
        username: &str,
        password: &str,
        client: &str,
        now: i64,
    ) -> Result<Login> {
        let keys = [
            format!("user:{}", username.to_lowercase()),
            format!("addr:{client}"),
        ];
        // Check the locks and count this attempt as a failure in one write transaction, before
        // the (slow) password check: attempts sent in parallel each see the failures of the
        // others, so no burst gets more than the free failures. A success takes it back.
        let tx = self.conn.begin()?;
        let mut wait = 0;
        let mut before = Vec::new();
        for k in &keys {
            let row: Option<(i64, i64)> = tx
                .opt(
                    "SELECT failures, locked_until FROM login_failures WHERE key = ?1",
                    args![k],
                )?
                .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
                .transpose()?;
            if let Some((_, until)) = row {
                wait = wait.max(until - now);
            }
            before.push(row);
        }
        if wait > 0 {
            return Ok(Login::Throttled(wait));
        }
        for (k, row) in keys.iter().zip(&before) {
            let failures = row.map_or(0, |(f, _)| f) + 1;
            // Whole seconds: the first delay is 2 s so that it is never less than 1 s.
            let delay = if failures >= FREE_FAILURES {
                (2i64 << (failures - FREE_FAILURES).min(10)).min(900)
            } else {
                0
            };
            tx.execute(
                "INSERT INTO login_failures (key, failures, locked_until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
                 locked_until = excluded.locked_until",
                args![k, failures, now + delay],
            )?;
        }
        tx.commit()?;
        let found: Option<(i64, String, bool)> = self
            .conn
            .opt(
                "SELECT id, password_hash, disabled FROM users WHERE lower(username) = lower(?1)",
                args![username],
            )?
            .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?, r.get(2)?)))
            .transpose()?;
        let ok = match &found {
            Some((_, hash, disabled)) => verify_password(password, hash) && !disabled,
            None => {
                verify_password(password, dummy_hash());
                false
            }
        };
        if ok {
            // The name starts afresh; the address gets back the failure counted above.
            let tx = self.conn.begin()?;
            tx.execute("DELETE FROM login_failures WHERE key = ?1", args![keys[0]])?;
            match before[1] {
                // (SQLite's two-argument MAX and MIN are PostgreSQL's GREATEST and LEAST: a
                // CASE says the same on both.)
                Some((failures, until)) => tx.execute(
                    "UPDATE login_failures
                     SET failures = CASE WHEN failures - 1 > ?1 THEN failures - 1 ELSE ?1 END,
                         locked_until = CASE WHEN locked_until < ?2 THEN locked_until ELSE ?2 END
                     WHERE key = ?3",
                    args![failures, until, keys[1]],
                )?,
                None => tx.execute(
                    "DELETE FROM login_failures WHERE key = ?1 AND failures <= 1",
                    args![keys[1]],
                )?,
            };
            tx.commit()?;
        }
        match (ok, found) {
            (true, Some((id, _, _))) => Ok(self.user(id)?.map(Login::Ok).unwrap_or(Login::Failed)),
            _ => Ok(Login::Failed),
        }
    }

    /// Opens a session for `user`: returns (session id, CSRF token). Only the hash of the session
    /// id is stored.
    pub fn create_session(&mut self, user: i64, now: i64, ttl: i64) -> Result<(String, String)> {
        let id = random_token()?;
        let csrf = random_token()?;
        self.conn.execute(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![token_hash(&id), user, csrf, now, now + ttl],
        )?;
        self.conn
            .execute("DELETE FROM sessions WHERE expires_at < ?1", args![now])?;
        Ok((id, csrf))
    }

    /// The live session with this id (not expired, account enabled).
    pub fn session(&self, id: &str, now: i64) -> Result<Option<Session>> {
        let row: Option<(i64, String)> = self
            .conn
            .opt(
                "SELECT user_id, csrf FROM sessions WHERE id_hash = ?1 AND expires_at > ?2",
                args![token_hash(id), now],
            )?
            .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        let Some((uid, csrf)) = row else {
            return Ok(None);
        };
        Ok(self
            .user(uid)?
            .filter(|u| !u.disabled)
            .map(|user| Session { user, csrf }))
    }

    pub fn end_session(&mut self, id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM sessions WHERE id_hash = ?1",
            args![token_hash(id)],
        )?;
        Ok(())
    }

    /// A new API token for an account (shown once; only its hash is kept).
    pub fn create_api_token(&mut self, username: &str, label: &str, now: i64) -> Result<String> {
        let user = self
            .user_by_name(username)?
            .ok_or_else(|| rejected(format!("no user {username:?}")))?;
        if user.disabled {
            return Err(rejected(format!("user {username:?} is disabled")));
        }
        let token = random_token()?;
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
            args![token_hash(&token), user.id, label, now],
        )?;
        Ok(token)
    }

    /// The enabled account an API token belongs to.
    pub fn api_token_user(&self, token: &str) -> Result<Option<User>> {
        let uid: Option<i64> = self
            .conn
            .opt(
                "SELECT user_id FROM api_tokens WHERE token_hash = ?1",
                args![token_hash(token)],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        Ok(match uid {
            Some(id) => self.user(id)?.filter(|u| !u.disabled),
            None => None,
        })
    }
}

// ---- proposals and publication ------------------------------------------------------------------

/// What a proposal does to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProposalAction {
    Add,
    Correct,
    Retract,
    Import,
}

impl ProposalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalAction::Add => "add",
            ProposalAction::Correct => "correct",
            ProposalAction::Retract => "retract",
            ProposalAction::Import => "import",
        }
    }
    fn parse(s: &str) -> Option<ProposalAction> {
        match s {
            "add" => Some(ProposalAction::Add),
            "correct" => Some(ProposalAction::Correct),
            "retract" => Some(ProposalAction::Retract),
            "import" => Some(ProposalAction::Import),
            _ => None,
        }
    }
}

/// A proposed change, as recorded. `importer` and `body` are what will be imported on approval
/// (the same importers as the command line).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: i64,
    pub action: ProposalAction,
    pub subject: Option<String>,
    pub target_fact: Option<i64>,
    pub importer: String,
    pub body: String,
    pub summary: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub batch: Option<i64>,
}

/// A proposal without its document: what lists show (the document can be megabytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ProposalSummary {
    pub id: i64,
    pub action: ProposalAction,
    pub subject: Option<String>,
    pub target_fact: Option<i64>,
    pub importer: String,
    /// Size of the proposed document in bytes.
    pub document_bytes: i64,
    pub summary: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub batch: Option<i64>,
}

/// A new proposal.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub action: ProposalAction,
    pub subject: Option<String>,
    pub target_fact: Option<i64>,
    pub importer: String,
    pub body: String,
    pub summary: String,
}

const PROPOSAL_COLS: &str =
    "p.id, p.action, p.subject, p.target_fact, p.body, p.summary, u.username, p.proposed_at,
     p.status, d.username, p.decided_at, p.decision_note, p.batch";

fn proposal_row(r: &Row) -> Result<Proposal> {
    let action: String = r.get(1)?;
    let stored: String = r.get(4)?;
    let id: i64 = r.get(0)?;
    let (importer, body) = match stored.split_once('\n') {
        Some((i, b)) => (i.to_string(), b.to_string()),
        None => (String::new(), stored),
    };
    let Some(action) = ProposalAction::parse(&action) else {
        return Err(StoreError::Corrupt(format!(
            "proposal {id}: unknown action {action:?}"
        )));
    };
    Ok(Proposal {
        id,
        action,
        subject: r.get(2)?,
        target_fact: r.get(3)?,
        importer,
        body,
        summary: r.get(5)?,
        proposed_by: r.get(6)?,
        proposed_at: r.get(7)?,
        status: r.get(8)?,
        decided_by: r.get(9)?,
        decided_at: r.get(10)?,
        decision_note: r.get(11)?,
        batch: r.get(12)?,
    })
}

/// Who proposed and who approved the batch that wrote a fact (for fact histories).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Provenance {
    pub proposal: i64,
    pub proposed_by: String,
    pub proposed_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
}

/// One published change to one subject.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub subject: String,
    pub proposal: Option<i64>,
    /// (fact, the fact it superseded, "added" | "corrected" | "retracted")
    pub facts: Vec<(i64, Option<i64>, String)>,
}

impl Store {
    /// Records a proposal (nothing reaches the record until a different editor approves it).
    pub fn propose(&mut self, p: &NewProposal, by: i64) -> Result<i64> {
        if p.importer.contains('\n') || p.importer.is_empty() {
            return Err(rejected("importer name must be one word"));
        }
        self.conn.insert(
            "INSERT INTO proposals (action, subject, target_fact, body, summary, proposed_by, proposed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            args![
                p.action.as_str(),
                p.subject,
                p.target_fact,
                format!("{}\n{}", p.importer, p.body),
                p.summary,
                by,
                crate::now_rfc3339()
            ],
        )
    }

    pub fn proposal(&self, id: i64) -> Result<Option<Proposal>> {
        self.conn
            .opt(
                &format!(
                    "SELECT {PROPOSAL_COLS} FROM proposals p JOIN users u ON u.id = p.proposed_by
                     LEFT JOIN users d ON d.id = p.decided_by WHERE p.id = ?1"
                ),
                args![id],
            )?
            .map(|r| proposal_row(&r))
            .transpose()
    }

    /// Proposals with a status ("pending", ...; `None`: all), newest first.
    pub fn proposals(&self, status: Option<&str>, limit: usize) -> Result<Vec<Proposal>> {
        // The comparison with the column comes before `IS NULL`: PostgreSQL types a parameter
        // where it first meets it, and refuses one first seen in `?1 IS NULL`.
        self.conn
            .query(
                &format!(
                    "SELECT {PROPOSAL_COLS} FROM proposals p JOIN users u ON u.id = p.proposed_by
                     LEFT JOIN users d ON d.id = p.decided_by
                     WHERE p.status = ?1 OR ?1 IS NULL ORDER BY p.id DESC LIMIT ?2"
                ),
                args![status, limit],
            )?
            .iter()
            .map(proposal_row)
            .collect()
    }

    /// Proposals newest first without their documents, `limit` at a time: those with an id
    /// below `before` (keyset paging), of one status if given; `id` alone picks one.
    pub fn proposal_summaries(
        &self,
        status: Option<&str>,
        before: Option<i64>,
        id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ProposalSummary>> {
        // The stored body is "importer\ndocument": the importer is its first line. Finding the
        // newline and counting bytes are spelled differently by the two databases. (Each
        // parameter is compared with its column before `IS NULL`, which PostgreSQL cannot type.)
        let (importer, document_bytes) = match self.conn.backend() {
            Backend::Sqlite => (
                "CASE WHEN instr(p.body, char(10)) > 0
                      THEN substr(p.body, 1, instr(p.body, char(10)) - 1) ELSE '' END",
                "length(CAST(p.body AS BLOB)) - instr(p.body, char(10))",
            ),
            Backend::Postgres => (
                "CASE WHEN strpos(p.body, chr(10)) > 0
                      THEN substr(p.body, 1, strpos(p.body, chr(10)) - 1) ELSE '' END",
                "CAST(octet_length(p.body) - strpos(p.body, chr(10)) AS BIGINT)",
            ),
        };
        let rows = self.conn.query(
            &format!(
                "SELECT p.id, p.action, p.subject, p.target_fact, {importer}, {document_bytes},
                        p.summary, u.username, p.proposed_at, p.status, d.username, p.decided_at,
                        p.decision_note, p.batch
                 FROM proposals p JOIN users u ON u.id = p.proposed_by
                 LEFT JOIN users d ON d.id = p.decided_by
                 WHERE (p.status = ?1 OR ?1 IS NULL) AND (p.id < ?2 OR ?2 IS NULL)
                   AND (p.id = ?3 OR ?3 IS NULL)
                 ORDER BY p.id DESC LIMIT ?4"
            ),
            args![status, before, id, limit],
        )?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0)?;
                let action: String = r.get(1)?;
                let action = ProposalAction::parse(&action).ok_or_else(|| {
                    StoreError::Corrupt(format!("proposal {id}: unknown action {action:?}"))
                })?;
                Ok(ProposalSummary {
                    id,
                    action,
                    subject: r.get(2)?,
                    target_fact: r.get(3)?,
                    importer: r.get(4)?,
                    document_bytes: r.get(5)?,
                    summary: r.get(6)?,
                    proposed_by: r.get(7)?,
                    proposed_at: r.get(8)?,
                    status: r.get(9)?,
                    decided_by: r.get(10)?,
                    decided_at: r.get(11)?,
                    decision_note: r.get(12)?,
                    batch: r.get(13)?,
                })
            })
            .collect()
    }

    /// Rejects (by another editor) or withdraws (by its author) a pending proposal.
    pub fn decline_proposal(&mut self, id: i64, by: i64, note: &str) -> Result<&'static str> {
        let tx = self.conn.begin()?;
        let row: Option<(String, i64)> = tx
            .opt(
                "SELECT status, proposed_by FROM proposals WHERE id = ?1",
                args![id],
            )?
            .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        let Some((status, author)) = row else {
            return Err(rejected(format!("no proposal {id}")));
        };
        if status != "pending" {
            return Err(rejected(format!("proposal {id} is already {status}")));
        }
        let new = if author == by {
            "withdrawn"
        } else {
            "rejected"
        };
        tx.execute(
            "UPDATE proposals SET status = ?1, decided_by = ?2, decided_at = ?3, decision_note = ?4 WHERE id = ?5",
            args![new, by, crate::now_rfc3339(), note, id],
        )?;
        tx.commit()?;
        Ok(new)
    }

    /// Who proposed and who approved a fact, when it came through the desk (`None` for facts
    /// imported from the command line or the shipped data).
    pub fn provenance(&self, fact: i64) -> Result<Option<Provenance>> {
        self.conn
            .opt(
                "SELECT p.id, u.username, p.proposed_at, d.username, p.decided_at
                 FROM facts f JOIN proposals p ON p.batch = f.batch
                 JOIN users u ON u.id = p.proposed_by LEFT JOIN users d ON d.id = p.decided_by
                 WHERE f.id = ?1",
                args![fact],
            )?
            .map(|r| {
                Ok(Provenance {
                    proposal: r.get(0)?,
                    proposed_by: r.get(1)?,
                    proposed_at: r.get(2)?,
                    approved_by: r.get(3)?,
                    approved_at: r.get(4)?,
                })
            })
            .transpose()
    }

    /// Events after `after` (oldest first), at most `limit`.
    pub fn events(&self, after: i64, limit: usize) -> Result<Vec<Event>> {
        self.conn
            .query(
                "SELECT id, at, subject, proposal FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
                args![after, limit],
            )?
            .iter()
            .map(|r| {
                let id: i64 = r.get(0)?;
                Ok(Event {
                    facts: self.event_facts(id)?,
                    id,
                    at: r.get(1)?,
                    subject: r.get(2)?,
                    proposal: r.get(3)?,
                })
            })
            .collect()
    }

    pub fn event(&self, id: i64) -> Result<Option<Event>> {
        Ok(self.events(id - 1, 1)?.into_iter().find(|e| e.id == id))
    }

    fn event_facts(&self, event: i64) -> Result<Vec<(i64, Option<i64>, String)>> {
        self.conn
            .query(
                "SELECT fact, previous, action FROM event_facts WHERE event = ?1 ORDER BY fact",
                args![event],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect()
    }
}

/// When a message for a subscriber of this cadence is due, for an event at `now`: at once, or at
/// the next 06:00 UTC (daily), or the next Monday 06:00 UTC (weekly).
pub fn due_at(cadence: &str, now: i64) -> i64 {
    const DAY: i64 = 86_400;
    const HOUR6: i64 = 6 * 3600;
    let next_6 = {
        let t = now.div_euclid(DAY) * DAY + HOUR6;
        if t > now {
            t
        } else {
            t + DAY
        }
    };
    match cadence {
        "daily" => next_6,
        "weekly" => {
            // 1970-01-01 was a Thursday: day number + 3 is 0 on Mondays (mod 7).
            let mut t = next_6;
            while (t.div_euclid(DAY) + 3).rem_euclid(7) != 0 {
                t += DAY;
            }
            t
        }
        _ => now,
    }
}

/// A fact a publication wrote: (fact, the fact it superseded, what it did).
type ChangedFact = (i64, Option<i64>, &'static str);

impl Batch<'_> {
    /// Completes the publication of a proposal inside this batch's transaction: checks that the
    /// approver is a different, enabled account, marks the proposal approved, appends one event
    /// per subject the batch changed and an outbox row per event for every confirmed subscriber
    /// and active webhook of that subject (or of everything). Returns the event ids. All of it
    /// commits with the facts, or none of it does.
    pub fn publish(&mut self, proposal: i64, approver: i64, now: i64) -> Result<Vec<i64>> {
        let row: Option<(String, i64)> = self
            .tx
            .opt(
                "SELECT status, proposed_by FROM proposals WHERE id = ?1",
                args![proposal],
            )?
            .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        let Some((status, author)) = row else {
            return Err(rejected(format!("no proposal {proposal}")));
        };
        if status != "pending" {
            return Err(rejected(format!("proposal {proposal} is already {status}")));
        }
        if author == approver {
            return Err(rejected(
                "four eyes: a proposal must be approved by an editor other than its author",
            ));
        }
        let enabled: Option<bool> = self
            .tx
            .opt("SELECT disabled FROM users WHERE id = ?1", args![approver])?
            .map(|r| r.get::<bool>(0).map(|d| !d))
            .transpose()?;
        if enabled != Some(true) {
            return Err(rejected("the approving account is unknown or disabled"));
        }
        let updated = self.tx.execute(
            "UPDATE proposals SET status = 'approved', decided_by = ?1, decided_at = ?2, batch = ?3
             WHERE id = ?4 AND status = 'pending'",
            args![approver, self.recorded_at, self.id, proposal],
        )?;
        if updated != 1 {
            return Err(rejected(format!(
                "proposal {proposal} changed while being approved"
            )));
        }
        // Group the written facts by subject, in order; their subjects and kinds are read a
        // few hundred at a time.
        self.flush()?;
        let mut about: HashMap<i64, (String, String)> = HashMap::new();
        let written: Vec<(i64, Option<i64>)> = self.written.iter().collect();
        for chunk in written.chunks(crate::IDS_PER_QUERY) {
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            let (sql, values) =
                crate::in_ids("SELECT id, subject, kind FROM facts WHERE id IN", "", &ids);
            self.tx.each(&sql, &crate::args_of(&values), |r| {
                about.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
                Ok(())
            })?;
        }
        let mut by_subject: Vec<(String, Vec<ChangedFact>)> = Vec::new();
        for (fact, previous) in written {
            let (subject, kind) = about.remove(&fact).ok_or_else(|| {
                StoreError::Corrupt(format!("fact {fact} was written but is not found"))
            })?;
            let action = if kind == "retraction" {
                "retracted"
            } else if previous.is_some() {
                "corrected"
            } else {
                "added"
            };
            match by_subject.iter_mut().find(|(s, _)| *s == subject) {
                Some((_, v)) => v.push((fact, previous, action)),
                None => by_subject.push((subject, vec![(fact, previous, action)])),
            }
        }
        let mut events = Vec::new();
        for (subject, facts) in by_subject {
            let event = self.tx.insert(
                "INSERT INTO events (at, subject, proposal, batch) VALUES (?1, ?2, ?3, ?4)
                 RETURNING id",
                args![self.recorded_at, subject, proposal, self.id],
            )?;
            for (fact, previous, action) in facts {
                self.tx.execute_later(
                    "INSERT INTO event_facts (event, fact, previous, action) VALUES (?1, ?2, ?3, ?4)",
                    args![event, fact, previous, action],
                )?;
            }
            // In id order, so that the outbox's rows are numbered alike on both databases.
            let subs = self
                .tx
                .query(
                    "SELECT id, cadence FROM subscribers WHERE (scope = ?1 OR scope = '*')
                     AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL ORDER BY id",
                    args![subject],
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<Vec<(i64, String)>>>()?;
            for (sid, cadence) in subs {
                self.tx.execute_later(
                    "INSERT INTO outbox (ikey, channel, purpose, subscriber, event, created_at, due_at)
                     VALUES (?1, 'email', 'event', ?2, ?3, ?4, ?5)",
                    args![format!("ev{event}-s{sid}"), sid, event, now, due_at(&cadence, now)],
                )?;
            }
            let hooks = self
                .tx
                .query(
                    "SELECT id FROM webhooks WHERE (scope = ?1 OR scope = '*') AND disabled = 0
                     ORDER BY id",
                    args![subject],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<Vec<i64>>>()?;
            for wid in hooks {
                self.tx.execute_later(
                    "INSERT INTO outbox (ikey, channel, purpose, webhook, event, created_at, due_at)
                     VALUES (?1, 'webhook', 'event', ?2, ?3, ?4, ?4)",
                    args![format!("ev{event}-w{wid}"), wid, event, now],
                )?;
            }
            events.push(event);
        }
        Ok(events)
    }
}

// ---- subscribers and webhooks -------------------------------------------------------------------

/// A message composed when it was queued (confirmations, answers to feedback).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A subscriber, as admins see them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub scope: String,
    pub cadence: String,
    pub confirmed: bool,
    pub unsubscribed: bool,
}

/// What a subscription request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// A confirmation message was queued.
    ConfirmationQueued,
    /// The address already has a live subscription of this scope (nothing was sent again within
    /// the last hour).
    AlreadyPending,
}

/// A webhook, as admins see it (the secret is shown once, when it is made).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub scope: String,
    pub disabled: bool,
}

/// Does this look like an e-mail address one can send to? (One '@', a dot in the domain, no
/// spaces or control characters, no header-breaking characters.)
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains("..")
        // The local part: RFC 5322's dot-atom characters (what the mail library accepts).
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
        })
        // The domain: letters, digits and hyphens in dot-separated labels.
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl Store {
    /// Starts a subscription (double opt-in): records it unconfirmed and queues the confirmation
    /// message, built by `compose(confirm_token, unsubscribe_token)`, in one transaction.
    pub fn subscribe(
        &mut self,
        email: &str,
        scope: &str,
        cadence: &str,
        now: i64,
        compose: impl FnOnce(&str, &str) -> Mail,
    ) -> Result<Subscribed> {
        if !valid_email(email) {
            return Err(rejected(format!("{email:?} is not an e-mail address")));
        }
        if !matches!(cadence, "immediate" | "daily" | "weekly") {
            return Err(rejected(format!(
                "cadence {cadence:?}: expected immediate, daily or weekly"
            )));
        }
        let tx = self.conn.begin()?;
        let recent = tx.opt(
            "SELECT id FROM subscribers WHERE lower(email) = lower(?1) AND scope = ?2
             AND unsubscribed_at IS NULL AND (confirmed_at IS NOT NULL OR created_at > ?3)",
            args![email, scope, now - 3600],
        )?;
        // One address gets at most three confirmation mails an hour, whatever the scopes: the
        // form must not become a way to flood someone's mailbox.
        let asked: i64 = tx.value(
            "SELECT COUNT(*) FROM subscribers WHERE lower(email) = lower(?1) AND created_at > ?2",
            args![email, now - 3600],
        )?;
        if recent.is_some() || asked >= CONFIRMATIONS_PER_HOUR {
            return Ok(Subscribed::AlreadyPending);
        }
        let confirm = random_token()?;
        let unsub = random_token()?;
        let sid = tx.insert(
            "INSERT INTO subscribers (email, scope, cadence, confirm_hash, unsub_token, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            args![email, scope, cadence, token_hash(&confirm), unsub, now],
        )?;
        let mail = compose(&confirm, &unsub);
        let message = serde_json::to_string(&mail).map_err(|e| rejected(e.to_string()))?;
        tx.execute(
            "INSERT INTO outbox (ikey, channel, purpose, subscriber, message, created_at, due_at)
             VALUES (?1, 'email', 'confirm', ?2, ?3, ?4, ?4)",
            args![format!("confirm-s{sid}"), sid, message, now],
        )?;
        tx.commit()?;
        Ok(Subscribed::ConfirmationQueued)
    }

    /// Confirms the subscription of a confirmation token. A token works once and for seven days.
    pub fn confirm_subscription(&mut self, token: &str, now: i64) -> Result<Option<Subscriber>> {
        let row: Option<(i64, i64, Option<i64>)> = self
            .conn
            .opt(
                "SELECT id, created_at, confirmed_at FROM subscribers WHERE confirm_hash = ?1 AND unsubscribed_at IS NULL",
                args![token_hash(token)],
            )?
            .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?, r.get(2)?)))
            .transpose()?;
        match row {
            Some((id, created, None)) if now - created <= CONFIRM_TTL => {
                self.conn.execute(
                    "UPDATE subscribers SET confirmed_at = ?1 WHERE id = ?2 AND confirmed_at IS NULL",
                    args![now, id],
                )?;
                self.subscriber(id)
            }
            _ => Ok(None),
        }
    }

    /// Ends the subscription of an unsubscribe token (one click; later clicks find nothing).
    /// Its address is erased, and messages still waiting for it are dropped.
    pub fn unsubscribe(&mut self, token: &str, now: i64) -> Result<Option<Subscriber>> {
        let id: Option<i64> = self
            .conn
            .opt(
                "SELECT id FROM subscribers WHERE unsub_token = ?1 AND unsubscribed_at IS NULL",
                args![token],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        let Some(id) = id else { return Ok(None) };
        let tx = self.conn.begin()?;
        // The address is erased at once, with the mail that was written to it.
        tx.execute(
            "UPDATE subscribers SET unsubscribed_at = ?1, email = '' WHERE id = ?2",
            args![now, id],
        )?;
        tx.execute(
            "UPDATE outbox SET status = 'dropped' WHERE subscriber = ?1 AND status IN ('pending', 'dead')",
            args![id],
        )?;
        // The relay's error text may quote the address.
        tx.execute(
            "UPDATE outbox SET message = NULL, last_error = NULL WHERE subscriber = ?1",
            args![id],
        )?;
        tx.commit()?;
        self.subscriber(id)
    }

    /// Forgets what is no longer needed, above all personal data: the addresses of ended
    /// subscriptions (unsubscribed, or never confirmed within the seven days a link works), the
    /// rendered mail of messages that are done (it holds the address) once a month has passed,
    /// expired sessions, and failed-login counts a day after the last failure or lock. Rows stay
    /// (with the address erased), so counts and the outbox's history are kept. Returns how many
    /// rows were changed or deleted.
    pub fn forget(&mut self, now: i64) -> Result<Forgotten> {
        let tx = self.conn.begin()?;
        let addresses = tx.execute(
            "UPDATE subscribers SET email = '' WHERE email <> ''
             AND (unsubscribed_at IS NOT NULL OR (confirmed_at IS NULL AND created_at < ?1))",
            args![now - CONFIRM_TTL],
        )?;
        tx.execute(
            "UPDATE outbox SET status = 'dropped' WHERE status IN ('pending', 'dead')
             AND subscriber IN (SELECT id FROM subscribers WHERE email = '')",
            args![],
        )?;
        let messages = tx.execute(
            "UPDATE outbox SET message = NULL, last_error = NULL WHERE message IS NOT NULL
             AND status IN ('sent', 'dropped')
             AND (subscriber IN (SELECT id FROM subscribers WHERE email = '')
                  OR COALESCE(sent_at, created_at) < ?1)",
            args![now - 30 * 86_400],
        )?;
        let sessions = tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", args![now])?;
        let failures = tx.execute(
            "DELETE FROM login_failures WHERE locked_until < ?1",
            args![now - 86_400],
        )?;
        tx.commit()?;
        let n = |changed: u64| usize::try_from(changed).unwrap_or(usize::MAX);
        Ok(Forgotten {
            addresses: n(addresses),
            messages: n(messages),
            sessions: n(sessions),
            failures: n(failures),
        })
    }

    pub fn subscriber(&self, id: i64) -> Result<Option<Subscriber>> {
        self.conn
            .opt(
                "SELECT id, email, scope, cadence,
                        CASE WHEN confirmed_at IS NOT NULL THEN 1 ELSE 0 END,
                        CASE WHEN unsubscribed_at IS NOT NULL THEN 1 ELSE 0 END
                 FROM subscribers WHERE id = ?1",
                args![id],
            )?
            .map(|r| {
                Ok(Subscriber {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    scope: r.get(2)?,
                    cadence: r.get(3)?,
                    confirmed: r.get(4)?,
                    unsubscribed: r.get(5)?,
                })
            })
            .transpose()
    }

    /// Counts of subscribers by state (admins' overview): (confirmed, pending, unsubscribed).
    pub fn subscriber_counts(&self) -> Result<(i64, i64, i64)> {
        // (PostgreSQL's SUM of a bigint is NUMERIC: cast back to an integer.)
        let r = self.conn.one(
            "SELECT
               COALESCE(CAST(SUM(CASE WHEN confirmed_at IS NOT NULL AND unsubscribed_at IS NULL
                                      THEN 1 ELSE 0 END) AS BIGINT), 0),
               COALESCE(CAST(SUM(CASE WHEN confirmed_at IS NULL AND unsubscribed_at IS NULL
                                      THEN 1 ELSE 0 END) AS BIGINT), 0),
               COALESCE(CAST(SUM(CASE WHEN unsubscribed_at IS NOT NULL
                                      THEN 1 ELSE 0 END) AS BIGINT), 0)
             FROM subscribers",
            args![],
        )?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    }

    /// Registers a webhook; returns it and its signing secret (shown once).
    pub fn add_webhook(&mut self, url: &str, scope: &str, now: i64) -> Result<(Webhook, String)> {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return Err(rejected(format!(
                "{url:?}: expected an http:// or https:// URL"
            )));
        }
        let secret = random_token()?;
        let id = self.conn.insert(
            "INSERT INTO webhooks (url, scope, secret, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            args![url, scope, secret, now],
        )?;
        Ok((
            Webhook {
                id,
                url: url.into(),
                scope: scope.into(),
                disabled: false,
            },
            secret,
        ))
    }

    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        self.conn
            .query(
                "SELECT id, url, scope, disabled FROM webhooks ORDER BY id",
                args![],
            )?
            .iter()
            .map(|r| {
                Ok(Webhook {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    scope: r.get(2)?,
                    disabled: r.get(3)?,
                })
            })
            .collect()
    }

    pub fn disable_webhook(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .execute("UPDATE webhooks SET disabled = 1 WHERE id = ?1", args![id])?
            == 1)
    }

    /// A webhook's URL and secret, for delivery.
    pub fn webhook_target(&self, id: i64) -> Result<Option<(String, String, bool)>> {
        self.conn
            .opt(
                "SELECT url, secret, disabled FROM webhooks WHERE id = ?1",
                args![id],
            )?
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .transpose()
    }
}

// ---- the outbox ---------------------------------------------------------------------------------

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OutboxItem {
    pub id: i64,
    pub ikey: String,
    pub channel: String,
    pub purpose: String,
    pub subscriber: Option<i64>,
    pub webhook: Option<i64>,
    pub event: Option<i64>,
    #[serde(skip)]
    pub message: Option<String>,
    pub created_at: i64,
    pub due_at: i64,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

const OUTBOX_COLS: &str =
    "id, ikey, channel, purpose, subscriber, webhook, event, message, created_at,
     due_at, status, attempts, last_error, sent_at";

fn outbox_row(r: &Row) -> Result<OutboxItem> {
    Ok(OutboxItem {
        id: r.get(0)?,
        ikey: r.get(1)?,
        channel: r.get(2)?,
        purpose: r.get(3)?,
        subscriber: r.get(4)?,
        webhook: r.get(5)?,
        event: r.get(6)?,
        message: r.get(7)?,
        created_at: r.get(8)?,
        due_at: r.get(9)?,
        status: r.get(10)?,
        attempts: r.get(11)?,
        last_error: r.get(12)?,
        sent_at: r.get(13)?,
    })
}

/// Outbox counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
    pub dropped: i64,
}

impl Store {
    /// Pending rows due by `now`, oldest first.
    pub fn outbox_due(&self, now: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        self.conn
            .query(
                &format!(
                    "SELECT {OUTBOX_COLS} FROM outbox WHERE status = 'pending' AND due_at <= ?1 ORDER BY id LIMIT ?2"
                ),
                args![now, limit],
            )?
            .iter()
            .map(outbox_row)
            .collect()
    }

    /// Rows by status ("pending", "dead", ...), newest first.
    pub fn outbox(&self, status: &str, limit: usize) -> Result<Vec<OutboxItem>> {
        self.conn
            .query(
                &format!(
                    "SELECT {OUTBOX_COLS} FROM outbox WHERE status = ?1 ORDER BY id DESC LIMIT ?2"
                ),
                args![status, limit],
            )?
            .iter()
            .map(outbox_row)
            .collect()
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut c = OutboxCounts::default();
        self.conn.each(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status",
            args![],
            |r| {
                let (s, n): (String, i64) = (r.get(0)?, r.get(1)?);
                match s.as_str() {
                    "pending" => c.pending = n,
                    "sent" => c.sent = n,
                    "dead" => c.dead = n,
                    _ => c.dropped += n,
                }
                Ok(())
            },
        )?;
        Ok(c)
    }

    /// Records an attempt before it is made: the row is not due again until `retry_at`, so a
    /// crash during delivery leads to one retry after that time, never to a lost message.
    pub fn outbox_attempt(&mut self, ids: &[i64], retry_at: i64) -> Result<()> {
        let tx = self.conn.begin()?;
        for id in ids {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, due_at = ?1 WHERE id = ?2 AND status = 'pending'",
                args![retry_at, id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Counts one request under `key` (e.g. `subscribe:ADDRESS`) in the current hour and
    /// returns the hour's count so far, this one included. Kept in the database, so that every
    /// server on it counts against one limit; earlier hours are forgotten as they pass.
    pub fn count_request(&mut self, key: &str, now: i64) -> Result<i64> {
        let hour = now.div_euclid(3600);
        let tx = self.conn.begin()?;
        tx.execute("DELETE FROM request_counts WHERE hour < ?1", args![hour])?;
        let n: i64 = tx.value(
            "INSERT INTO request_counts (key, hour, count) VALUES (?1, ?2, 1)
             ON CONFLICT (key, hour) DO UPDATE SET count = request_counts.count + 1
             RETURNING count",
            args![key, hour],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Claims rows for one delivery attempt, in one transaction: each row must still be pending and
    /// due by `now`; its attempt is counted and it is not due again until `retry_at`. `false` (and
    /// nothing written) when any row was claimed by another worker first or is no longer pending: on
    /// PostgreSQL the second worker's UPDATE waits for the first's commit and then finds the row no
    /// longer due, so a message is claimed by one worker at a time, across servers.
    pub fn outbox_claim(&mut self, ids: &[i64], now: i64, retry_at: i64) -> Result<bool> {
        // Rows are locked in ascending id order, so two workers claiming overlapping sets wait
        // for each other instead of deadlocking.
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let tx = self.conn.begin()?;
        for id in &ids {
            let claimed = tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, due_at = ?1
                 WHERE id = ?2 AND status = 'pending' AND due_at <= ?3",
                args![retry_at, id, now],
            )?;
            if claimed == 0 {
                tx.rollback()?;
                return Ok(false);
            }
        }
        tx.commit()?;
        Ok(true)
    }

    pub fn outbox_sent(&mut self, ids: &[i64], now: i64) -> Result<()> {
        let tx = self.conn.begin()?;
        for id in ids {
            tx.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?1, last_error = NULL WHERE id = ?2",
                args![now, id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt; rows that have had `max_attempts` go to the dead-letter list.
    pub fn outbox_failed(&mut self, ids: &[i64], error: &str, max_attempts: i64) -> Result<()> {
        let tx = self.conn.begin()?;
        for id in ids {
            tx.execute(
                "UPDATE outbox SET last_error = ?1,
                   status = CASE WHEN attempts >= ?2 THEN 'dead' ELSE status END
                 WHERE id = ?3 AND status = 'pending'",
                args![error, max_attempts, id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops rows that can no longer be delivered (the subscriber left, the webhook was disabled).
    pub fn outbox_drop(&mut self, ids: &[i64], why: &str) -> Result<()> {
        let tx = self.conn.begin()?;
        for id in ids {
            tx.execute(
                "UPDATE outbox SET status = 'dropped', last_error = ?1 WHERE id = ?2 AND status = 'pending'",
                args![why, id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Puts a dead letter back in the queue, due now.
    pub fn outbox_retry(&mut self, id: i64, now: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, due_at = ?1 WHERE id = ?2 AND status = 'dead'",
            args![now, id],
        )? == 1)
    }

    /// Queues a composed message (answers to feedback).
    pub fn queue_mail(&mut self, ikey: &str, purpose: &str, mail: &Mail, now: i64) -> Result<()> {
        let message = serde_json::to_string(mail).map_err(|e| rejected(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO outbox (ikey, channel, purpose, message, created_at, due_at)
             VALUES (?1, 'email', ?2, ?3, ?4, ?4)",
            args![ikey, purpose, message, now],
        )?;
        Ok(())
    }

    /// Where and how to send to a subscriber: (address, unsubscribe token, scope, active).
    pub fn subscriber_address(&self, id: i64) -> Result<Option<(String, String, String, bool)>> {
        self.conn
            .opt(
                "SELECT email, unsub_token, scope,
                        CASE WHEN confirmed_at IS NOT NULL AND unsubscribed_at IS NULL
                             THEN 1 ELSE 0 END
                 FROM subscribers WHERE id = ?1",
                args![id],
            )?
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .transpose()
    }
}

// ---- feedback -----------------------------------------------------------------------------------

/// An attachment sent with feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// An attachment as stored: (feedback id, filename, content type, data).
pub type AttachmentData = (i64, String, String, Vec<u8>);

/// A reader's message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewFeedback {
    pub subject: Option<String>,
    pub page: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub message: String,
    pub client: String,
}

/// Feedback as the admin inbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub id: i64,
    pub subject: Option<String>,
    pub page: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub message: String,
    pub received_at: i64,
    pub status: String,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    /// (id, filename, content type, size)
    pub attachments: Vec<(i64, String, String, i64)>,
}

impl Store {
    /// How many messages a client sent since `since`.
    /// Stores feedback and its attachments in one transaction, unless its client address has
    /// sent `per_hour` messages in the last hour (then `None`, and nothing is stored). The count
    /// and the insert share the write transaction, so parallel posts cannot all pass the check.
    pub fn add_feedback(
        &mut self,
        f: &NewFeedback,
        files: &[NewAttachment],
        now: i64,
        per_hour: i64,
    ) -> Result<Option<i64>> {
        let tx = self.conn.begin()?;
        let recent: i64 = tx.value(
            "SELECT COUNT(*) FROM feedback WHERE client = ?1 AND received_at >= ?2",
            args![f.client, now - 3600],
        )?;
        if recent >= per_hour {
            return Ok(None);
        }
        let id = tx.insert(
            "INSERT INTO feedback (subject, page, name, email, message, client, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            args![f.subject, f.page, f.name, f.email, f.message, f.client, now],
        )?;
        for a in files {
            tx.execute(
                "INSERT INTO attachments (feedback, filename, content_type, size, sha256, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![
                    id,
                    a.filename,
                    a.content_type,
                    a.data.len(),
                    hex(&Sha256::digest(&a.data)),
                    a.data
                ],
            )?;
        }
        tx.commit()?;
        Ok(Some(id))
    }

    /// Feedback with a status ("open", "answered", "closed"; `None`: all), newest first.
    pub fn feedback_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<Feedback>> {
        let ids = self.ids(
            "SELECT id FROM feedback WHERE status = ?1 OR ?1 IS NULL ORDER BY id DESC LIMIT ?2",
            args![status, limit],
        )?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(f) = self.feedback(id)? {
                out.push(f);
            }
        }
        Ok(out)
    }

    pub fn feedback(&self, id: i64) -> Result<Option<Feedback>> {
        let Some(r) = self.conn.opt(
            "SELECT f.id, f.subject, f.page, f.name, f.email, f.message, f.received_at, f.status,
                    f.answer, u.username
             FROM feedback f LEFT JOIN users u ON u.id = f.answered_by WHERE f.id = ?1",
            args![id],
        )?
        else {
            return Ok(None);
        };
        let attachments = self
            .conn
            .query(
                "SELECT id, filename, content_type, size FROM attachments WHERE feedback = ?1 ORDER BY id",
                args![id],
            )?
            .iter()
            .map(|a| Ok((a.get(0)?, a.get(1)?, a.get(2)?, a.get(3)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Feedback {
            id: r.get(0)?,
            subject: r.get(1)?,
            page: r.get(2)?,
            name: r.get(3)?,
            email: r.get(4)?,
            message: r.get(5)?,
            received_at: r.get(6)?,
            status: r.get(7)?,
            answer: r.get(8)?,
            answered_by: r.get(9)?,
            attachments,
        }))
    }

    /// An attachment: (feedback id, filename, content type, data).
    pub fn attachment(&self, id: i64) -> Result<Option<AttachmentData>> {
        self.conn
            .opt(
                "SELECT feedback, filename, content_type, data FROM attachments WHERE id = ?1",
                args![id],
            )?
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .transpose()
    }

    /// Answers feedback by e-mail (queued in the outbox in the same transaction).
    pub fn answer_feedback(&mut self, id: i64, by: i64, mail: &Mail, now: i64) -> Result<()> {
        let message = serde_json::to_string(mail).map_err(|e| rejected(e.to_string()))?;
        let tx = self.conn.begin()?;
        let n = tx.execute(
            "UPDATE feedback SET status = 'answered', answer = ?1, answered_by = ?2, answered_at = ?3 WHERE id = ?4",
            args![mail.body, by, now, id],
        )?;
        if n != 1 {
            return Err(rejected(format!("no feedback {id}")));
        }
        let answers: i64 = tx.value(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'answer' AND ikey LIKE ?1",
            args![format!("answer-f{id}-%")],
        )?;
        tx.execute(
            "INSERT INTO outbox (ikey, channel, purpose, message, created_at, due_at)
             VALUES (?1, 'email', 'answer', ?2, ?3, ?3)",
            args![format!("answer-f{id}-{}", answers + 1), message, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Erases a feedback message's personal data on request: the name, address, message, client
    /// address, answer and attachments, and the answer mails written to it (those still waiting
    /// are dropped). The row stays, closed and marked erased, so the inbox's numbering and counts
    /// hold. Returns false when there is no such message.
    pub fn erase_feedback(&mut self, id: i64) -> Result<bool> {
        let tx = self.conn.begin()?;
        let n = tx.execute(
            "UPDATE feedback SET name = NULL, email = NULL, message = '(erased)', client = '',
             answer = NULL, status = 'closed' WHERE id = ?1",
            args![id],
        )?;
        if n != 1 {
            return Ok(false);
        }
        tx.execute("DELETE FROM attachments WHERE feedback = ?1", args![id])?;
        let answers = format!("answer-f{id}-%");
        tx.execute(
            "UPDATE outbox SET status = 'dropped' WHERE purpose = 'answer' AND ikey LIKE ?1
             AND status IN ('pending', 'dead')",
            args![answers],
        )?;
        tx.execute(
            "UPDATE outbox SET message = NULL, last_error = NULL WHERE purpose = 'answer' AND ikey LIKE ?1",
            args![answers],
        )?;
        tx.commit()?;
        Ok(true)
    }

    pub fn close_feedback(&mut self, id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE feedback SET status = 'closed' WHERE id = ?1",
            args![id],
        )? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times() {
        // 2026-11-22 is a Sunday; 10:00 UTC.
        let d = Date::parse("2026-11-22").map(|d| d.to_days()).unwrap_or(0) * 86_400 + 10 * 3600;
        assert!(d > 0);
        assert_eq!(due_at("immediate", d), d);
        // Daily: Monday 06:00.
        assert_eq!(due_at("daily", d), d + 20 * 3600);
        // Weekly: also Monday 06:00 (the next Monday); from Monday 07:00, a week less an hour.
        assert_eq!(due_at("weekly", d), d + 20 * 3600);
        let monday_7 = d + 21 * 3600;
        assert_eq!(due_at("weekly", monday_7), monday_7 + 7 * 86_400 - 3600);
    }

    use minewatch_domain::Date;

    #[test]
    fn emails() {
        assert!(valid_email("reader@example.org"));
        assert!(valid_email("o'neil+minewatch@mail.example-site.org"));
        for bad in [
            "",
            "a",
            "a@b",
            "a@@b.org",
            "a b@c.org",
            "a@b.org\r\nBcc: x@y.org",
            "<a@b.org>",
            "a@.org",
            "jane:doe@example.org",
            "a@b_c.org",
            "a@exa mple.org",
        ] {
            assert!(!valid_email(bad), "{bad:?}");
        }
    }

    fn subscribe_as(s: &mut Store, email: &str, now: i64) -> (String, String) {
        let mut tokens = (String::new(), String::new());
        let r = s.subscribe(email, "USA", "immediate", now, |c, u| {
            tokens = (c.to_string(), u.to_string());
            Mail {
                to: email.to_string(),
                subject: "Confirm".into(),
                body: format!("confirm {c}"),
            }
        });
        assert!(matches!(r, Ok(Subscribed::ConfirmationQueued)), "{r:?}");
        tokens
    }

    fn addresses(s: &Store) -> Vec<String> {
        s.query_strings("SELECT email FROM subscribers ORDER BY id")
            .expect("addresses")
    }

    fn count(s: &Store, sql: &str) -> i64 {
        s.conn.value(sql, args![]).expect(sql)
    }

    #[test]
    fn forget_erases_what_is_no_longer_needed() {
        let mut s = Store::open_in_memory().expect("store");
        let t0 = 1_700_000_000;
        // Kept: a confirmed subscription. Erased: an unsubscribed one, and one never confirmed
        // within the seven days. Kept for now: one unconfirmed for a day.
        let (kept, _) = subscribe_as(&mut s, "kept@example.org", t0);
        let (gone, gone_unsub) = subscribe_as(&mut s, "gone@example.org", t0);
        subscribe_as(&mut s, "late@example.org", t0);
        // Their confirmation mails went out at once.
        let ids: Vec<i64> = s
            .outbox_due(t0, 10)
            .expect("due")
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids.len(), 3);
        s.outbox_sent(&ids, t0 + 1).expect("sent");
        assert!(s
            .confirm_subscription(&kept, t0 + 60)
            .expect("confirm")
            .is_some());
        assert!(s
            .confirm_subscription(&gone, t0 + 60)
            .expect("confirm")
            .is_some());
        // A relay's answer that quotes the address, kept as the row's last error.
        s.conn
            .execute(
                "UPDATE outbox SET last_error = '550 <gone@example.org>: no such user'
                 WHERE message LIKE '%gone@%'",
                args![],
            )
            .expect("last error");
        assert!(s
            .unsubscribe(&gone_unsub, t0 + 120)
            .expect("unsub")
            .is_some());
        // Unsubscribing erases the address, and the mail written to it, at once.
        assert_eq!(addresses(&s), ["kept@example.org", "", "late@example.org"]);
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM outbox
                 WHERE COALESCE(message, '') || COALESCE(last_error, '') LIKE '%gone@%'"
            ),
            0
        );
        let now = t0 + CONFIRM_TTL + 3600;
        // Its confirmation mail is still waiting (a relay that is down, say).
        subscribe_as(&mut s, "fresh@example.org", now - 86_400);
        // A session that expired and one that did not; a stale failed login and a recent one.
        let editor = s
            .add_user("alice", Role::Editor, "a-long-enough-password")
            .expect("user")
            .id;
        // (Each login deletes the sessions expired by its own time: the old one comes second.)
        let (live_session, _) = s.create_session(editor, now - 60, 3600).expect("session");
        let (old_session, _) = s.create_session(editor, t0, 3600).expect("session");
        s.conn
            .execute(
                "INSERT INTO login_failures (key, failures, locked_until) VALUES
                 ('addr:192.0.2.1', 3, ?1), ('addr:192.0.2.2', 6, ?2)",
                args![now - 2 * 86_400, now + 10],
            )
            .expect("failures");

        let f = s.forget(now).expect("forget");
        assert_eq!(f.addresses, 1, "{f:?}");
        assert_eq!(
            addresses(&s),
            ["kept@example.org", "", "", "fresh@example.org"]
        );
        // The sent mail to the erased address lost its text; the others keep it until a
        // month has passed.
        assert_eq!(f.messages, 1, "{f:?}");
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM outbox WHERE message LIKE '%@example.org%'"
            ),
            2
        );
        assert_eq!(f.sessions, 1);
        assert!(s.session(&old_session, now).expect("session").is_none());
        assert!(s.session(&live_session, now).expect("session").is_some());
        assert_eq!(f.failures, 1);
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM login_failures WHERE key = 'addr:192.0.2.2'"
            ),
            1
        );
        // The waiting confirmation becomes a dead letter (the relay refused it): erasing its
        // address drops it too, rather than keeping the address for an admin's retry.
        let waiting: Vec<i64> = s
            .outbox_due(now, 10)
            .expect("due")
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(waiting.len(), 1);
        s.outbox_attempt(&waiting, now + 60).expect("attempt");
        s.outbox_failed(&waiting, "550 refused", 1).expect("failed");
        assert_eq!(s.outbox_counts().expect("counts").dead, 1);
        // After a month every finished message has lost its text; a second run finds nothing
        // new to erase.
        let later = now + 31 * 86_400;
        let f = s.forget(later).expect("forget");
        assert_eq!((f.addresses, f.messages), (1, 2), "{f:?}");
        assert_eq!(
            count(&s, "SELECT COUNT(*) FROM outbox WHERE message IS NOT NULL"),
            0
        );
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'dead')"
            ),
            0,
            "the undelivered confirmation of an erased address is dropped"
        );
        assert_eq!(s.forget(later).expect("forget"), Forgotten::default());
    }
}
