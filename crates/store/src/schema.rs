//! The SQLite schema. Versioned by `PRAGMA user_version`; each migration runs once, in order.

/// Migrations, applied in order; `user_version` records how many ran.
pub const MIGRATIONS: &[&str] = &[r#"
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
"#];
