//! The SQLite schema. Versioned by `PRAGMA user_version`; each migration runs once, in order.

/// Migrations, applied in order; `user_version` records how many ran.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE subjects (
    code       TEXT PRIMARY KEY,
    alpha2     TEXT,
    numeric    TEXT,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    region     TEXT,
    aliases    TEXT NOT NULL DEFAULT '',
    successors TEXT NOT NULL DEFAULT '',
    parent     TEXT
);

-- Sources are versioned by key: the current version of a key is its highest id.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL,
    title        TEXT NOT NULL,
    publisher    TEXT,
    published    TEXT,
    url          TEXT,
    note         TEXT,
    recorded_at  TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX sources_by_key ON sources(key, id);

-- One row per write: an import, a load of the shipped data, an edit. The record's event log.
CREATE TABLE batches (
    id          INTEGER PRIMARY KEY,
    origin      TEXT NOT NULL,
    file        TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);

CREATE TABLE facts (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL,
    subject        TEXT NOT NULL REFERENCES subjects(code),
    kind           TEXT NOT NULL,
    valid_from     TEXT,
    valid_to       TEXT,
    payload        TEXT NOT NULL,
    note           TEXT,
    recorded_at    TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    supersedes     INTEGER REFERENCES facts(id),
    content_hash   TEXT NOT NULL,
    batch          INTEGER NOT NULL REFERENCES batches(id)
);
CREATE INDEX facts_by_key ON facts(key, id);
CREATE INDEX facts_by_subject ON facts(subject, kind);
-- History is linear: a fact is superseded at most once.
CREATE UNIQUE INDEX facts_by_supersedes ON facts(supersedes) WHERE supersedes IS NOT NULL;

CREATE TABLE citations (
    fact_id    INTEGER NOT NULL REFERENCES facts(id),
    position   INTEGER NOT NULL,
    source_key TEXT NOT NULL,
    locator    TEXT,
    PRIMARY KEY (fact_id, position)
) WITHOUT ROWID;
CREATE INDEX citations_by_source ON citations(source_key);

CREATE TRIGGER facts_append_only_u BEFORE UPDATE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only: record a superseding fact instead'); END;
CREATE TRIGGER facts_append_only_d BEFORE DELETE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only: record a retraction instead'); END;
CREATE TRIGGER citations_append_only_u BEFORE UPDATE ON citations
BEGIN SELECT RAISE(ABORT, 'citations are append-only'); END;
CREATE TRIGGER citations_append_only_d BEFORE DELETE ON citations
BEGIN SELECT RAISE(ABORT, 'citations are append-only'); END;
CREATE TRIGGER sources_append_only_u BEFORE UPDATE ON sources
BEGIN SELECT RAISE(ABORT, 'sources are append-only: record a new version instead'); END;
CREATE TRIGGER sources_append_only_d BEFORE DELETE ON sources
BEGIN SELECT RAISE(ABORT, 'sources are append-only'); END;
"#,
    r#"
-- Migration 2: the editorial desk and notifications. None of these tables is ever served
-- publicly: they hold accounts, subscribers' addresses and readers' feedback (personal data).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

-- Only the SHA-256 of a session id or token is stored: a copy of the database opens no session.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Failed logins per key ("user:NAME" and "addr:IP"): the delay doubles with each failure.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
);

-- A proposed change to the record: published only when a different editor approves it.
CREATE TABLE proposals (
    id           INTEGER PRIMARY KEY,
    action       TEXT NOT NULL CHECK (action IN ('add', 'correct', 'retract', 'import')),
    subject      TEXT,
    target_fact  INTEGER REFERENCES facts(id),
    body         TEXT NOT NULL,
    summary      TEXT NOT NULL,
    proposed_by  INTEGER NOT NULL REFERENCES users(id),
    proposed_at  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    decided_by   INTEGER REFERENCES users(id),
    decided_at   TEXT,
    decision_note TEXT,
    batch        INTEGER REFERENCES batches(id)
);
CREATE INDEX proposals_by_status ON proposals(status, id);

-- Every publication appends one event per subject it changed, in the publishing transaction.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    subject  TEXT NOT NULL,
    proposal INTEGER REFERENCES proposals(id),
    batch    INTEGER NOT NULL REFERENCES batches(id)
);
CREATE TABLE event_facts (
    event    INTEGER NOT NULL REFERENCES events(id),
    fact     INTEGER NOT NULL REFERENCES facts(id),
    previous INTEGER REFERENCES facts(id),
    action   TEXT NOT NULL CHECK (action IN ('added', 'corrected', 'retracted')),
    PRIMARY KEY (event, fact)
) WITHOUT ROWID;
CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE subscribers (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL COLLATE NOCASE,
    scope          TEXT NOT NULL,
    cadence        TEXT NOT NULL CHECK (cadence IN ('immediate', 'daily', 'weekly')),
    confirm_hash   TEXT NOT NULL UNIQUE,
    -- Sent in every message (one-click unsubscribe), so kept as is; it opens nothing else.
    unsub_token    TEXT NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    confirmed_at   INTEGER,
    unsubscribed_at INTEGER
);
CREATE INDEX subscribers_by_scope ON subscribers(scope);

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL,
    scope      TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0
);

-- The durable outbox: written in the same transaction as what it announces. Delivery is
-- at-least-once; `ikey` is the idempotency key sent with every attempt (Message-ID, header).
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    ikey         TEXT NOT NULL UNIQUE,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    purpose      TEXT NOT NULL,
    subscriber   INTEGER REFERENCES subscribers(id),
    webhook      INTEGER REFERENCES webhooks(id),
    event        INTEGER REFERENCES events(id),
    message      TEXT,
    created_at   INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'dropped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_at      INTEGER
);
CREATE INDEX outbox_due ON outbox(status, due_at);

CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY,
    subject     TEXT,
    page        TEXT,
    name        TEXT,
    email       TEXT,
    message     TEXT NOT NULL,
    client      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    answer      TEXT,
    answered_by INTEGER REFERENCES users(id),
    answered_at INTEGER
);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    feedback     INTEGER NOT NULL REFERENCES feedback(id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL
);
"#,
    // Version 3: the facts of a few kinds about every subject (deposits, meetings, roll calls,
    // policies: what each subject's engine shares) are read by kind, without scanning the record.
    r#"
CREATE INDEX facts_by_kind ON facts(kind);
"#,
    // Version 4: requests counted per client and hour (subscriptions), in the database so that
    // several servers on one database share one limit.
    r#"
CREATE TABLE request_counts (
    key   TEXT NOT NULL,
    hour  INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, hour)
) WITHOUT ROWID;
"#,
];
