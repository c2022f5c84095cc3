//! Moving a whole record between databases (`minewatch migrate`): every table, history and the
//! private tables included, ids kept, in one transaction on the target.

use crate::db::{args, Backend, Conn, Value};
use crate::{Result, Store, StoreError};

/// Every table, parents before children, with its columns (the same on both backends). A unit
/// test checks this list against SQLite's own description of the schema, so a new column cannot
/// be left behind by a move.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "subjects",
        &[
            "code",
            "alpha2",
            "numeric",
            "name",
            "kind",
            "region",
            "aliases",
            "successors",
            "parent",
        ],
    ),
    (
        "sources",
        &[
            "id",
            "key",
            "title",
            "publisher",
            "published",
            "url",
            "note",
            "recorded_at",
            "recorded_by",
            "content_hash",
        ],
    ),
    (
        "batches",
        &["id", "origin", "file", "recorded_at", "recorded_by"],
    ),
    (
        "facts",
        &[
            "id",
            "key",
            "subject",
            "kind",
            "valid_from",
            "valid_to",
            "payload",
            "note",
            "recorded_at",
            "recorded_by",
            "supersedes",
            "content_hash",
            "batch",
        ],
    ),
    (
        "citations",
        &["fact_id", "position", "source_key", "locator"],
    ),
    (
        "users",
        &[
            "id",
            "username",
            "role",
            "password_hash",
            "disabled",
            "created_at",
        ],
    ),
    (
        "sessions",
        &["id_hash", "user_id", "csrf", "created_at", "expires_at"],
    ),
    (
        "api_tokens",
        &["token_hash", "user_id", "label", "created_at"],
    ),
    ("login_failures", &["key", "failures", "locked_until"]),
    (
        "proposals",
        &[
            "id",
            "action",
            "subject",
            "target_fact",
            "body",
            "summary",
            "proposed_by",
            "proposed_at",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "batch",
        ],
    ),
    ("events", &["id", "at", "subject", "proposal", "batch"]),
    ("event_facts", &["event", "fact", "previous", "action"]),
    (
        "subscribers",
        &[
            "id",
            "email",
            "scope",
            "cadence",
            "confirm_hash",
            "unsub_token",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
        ],
    ),
    (
        "webhooks",
        &["id", "url", "scope", "secret", "created_at", "disabled"],
    ),
    (
        "outbox",
        &[
            "id",
            "ikey",
            "channel",
            "purpose",
            "subscriber",
            "webhook",
            "event",
            "message",
            "created_at",
            "due_at",
            "status",
            "attempts",
            "last_error",
            "sent_at",
        ],
    ),
    (
        "feedback",
        &[
            "id",
            "subject",
            "page",
            "name",
            "email",
            "message",
            "client",
            "received_at",
            "status",
            "answer",
            "answered_by",
            "answered_at",
        ],
    ),
    ("request_counts", &["key", "hour", "count"]),
    (
        "attachments",
        &[
            "id",
            "feedback",
            "filename",
            "content_type",
            "size",
            "sha256",
            "data",
        ],
    ),
];

/// Rows copied, per table, in the order of [`TABLES`].
pub type Copied = Vec<(&'static str, u64)>;

impl Store {
    /// Rows in every table of [`TABLES`], in its order.
    pub fn table_counts(&self) -> Result<Copied> {
        TABLES
            .iter()
            .map(|(t, _)| {
                let n: i64 = self
                    .conn
                    .value(&format!("SELECT COUNT(*) FROM {t}"), args![])?;
                Ok((*t, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Copies every row of this record into `target`, which must be empty, in one transaction
    /// on the target (all or nothing) and one consistent read of this one. Ids are kept, so
    /// links, feeds and citations of fact ids stay true; PostgreSQL's id sequences are moved past
    /// the copied ids.
    pub fn copy_into(&self, target: &mut Store) -> Result<Copied> {
        let used: Vec<String> = target
            .table_counts()?
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| format!("{t} ({n} rows)"))
            .collect();
        if !used.is_empty() {
            return Err(StoreError::Rejected(format!(
                "the target is not empty: {}; migrate copies into an empty database only, so \
                 that nothing there is mixed with or hidden by the copy",
                used.join(", ")
            )));
        }
        let read = self.conn.begin_read()?;
        let tx = target.conn.begin()?;
        let mut copied = Vec::new();
        for (table, columns) in TABLES {
            let list = columns.join(", ");
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", "));
            // Read in pages along the table's key, so that neither backend holds a whole
            // table (PostgreSQL's client receives a query's rows all at once); the pages are
            // one snapshot, the read transaction's. The rows are sent without waiting
            // (pipelined on PostgreSQL); an error fails the commit.
            let key: Vec<&str> = if columns.contains(&"id") {
                vec!["id"]
            } else {
                columns[..key_len(table)].to_vec()
            };
            let at: Vec<usize> = key
                .iter()
                .filter_map(|k| columns.iter().position(|c| c == k))
                .collect();
            let order = key.join(", ");
            let mut after: Option<Vec<Value>> = None;
            let mut n = 0u64;
            loop {
                let (from, last) = match &after {
                    None => (String::new(), Vec::new()),
                    Some(last) => {
                        let marks: Vec<String> = (1..=key.len()).map(|i| format!("?{i}")).collect();
                        (
                            format!("WHERE ({order}) > ({})", marks.join(", ")),
                            last.clone(),
                        )
                    }
                };
                let page = read.query(
                    &format!("SELECT {list} FROM {table} {from} ORDER BY {order} LIMIT {PAGE}"),
                    &crate::args_of(&last),
                )?;
                for row in &page {
                    let values: Vec<Value> = (0..columns.len())
                        .map(|i| row.get::<Value>(i))
                        .collect::<Result<_>>()?;
                    tx.execute_later(&insert, &crate::args_of(&values))?;
                    n += 1;
                }
                match page.last() {
                    Some(row) if page.len() == PAGE => {
                        after = Some(
                            at.iter()
                                .map(|&i| row.get::<Value>(i))
                                .collect::<Result<_>>()?,
                        );
                    }
                    _ => break,
                }
            }
            if tx.backend() == Backend::Postgres && columns.contains(&"id") {
                tx.execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                         COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ),
                    args![],
                )?;
            }
            copied.push((*table, n));
        }
        tx.commit()?;
        read.rollback()?;
        Ok(copied)
    }
}

/// Rows read per query.
const PAGE: usize = 5000;

/// How many leading columns make the key of a table without an `id`.
fn key_len(table: &str) -> usize {
    match table {
        "citations" | "event_facts" | "request_counts" => 2,
        _ => 1,
    }
}

impl Conn {
    /// A read-only view that does not move while it is read (a snapshot).
    pub fn begin_read(&self) -> Result<crate::db::Tx<'_>> {
        self.begin_with(match self.backend() {
            Backend::Sqlite => "BEGIN DEFERRED",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_of_tables_and_columns_is_the_schema() {
        let s = Store::open_in_memory().expect("store");
        let c = s.connection().expect("sqlite");
        let mut st = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .expect("tables");
        let mut tables: Vec<String> = st
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("names");
        tables.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|(t, _)| t.to_string()).collect();
        listed.sort();
        assert_eq!(tables, listed);
        for (table, columns) in TABLES {
            let mut st = c
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .expect("columns");
            let names: Vec<String> = st
                .query_map([], |r| r.get(0))
                .expect("rows")
                .collect::<rusqlite::Result<_>>()
                .expect("names");
            assert_eq!(&names, columns, "{table}");
        }
    }
}
