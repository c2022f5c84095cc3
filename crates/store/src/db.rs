//! The two backends behind one small connection type: SQLite (rusqlite, the default) and
//! PostgreSQL (`tokio-postgres`, on a thread of the connection's own: [`Pg`]). The store's methods are written once against
//! [`Conn`]; the SQL they send is the dialect both databases share (`?N` parameters, which are
//! rewritten to `$N` for PostgreSQL, `INSERT ... ON CONFLICT`, `INSERT ... RETURNING id`).
//! What differs (schema, locking, row claims) is chosen by [`Conn::backend`].

use crate::{Result, StoreError};
use postgres::types::{FromSql, IsNull, ToSql, Type};
use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc;

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One value in a row or a parameter list: SQLite's dynamic types, which PostgreSQL values are
/// read into and written from according to the column's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    /// A parameter only, for PostgreSQL only: a `text[]` (`WHERE key = ANY(?1)`).
    Texts(Vec<String>),
}

/// A query parameter.
pub trait ToValue {
    fn value(&self) -> Value;
}

impl ToValue for Value {
    fn value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for i64 {
    fn value(&self) -> Value {
        Value::Int(*self)
    }
}
impl ToValue for i32 {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for u32 {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for usize {
    fn value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for bool {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn value(&self) -> Value {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}

/// A column read back.
pub trait FromValue: Sized {
    fn from_value(v: Value) -> std::result::Result<Self, String>;
}

impl FromValue for Value {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        Ok(v)
    }
}
impl FromValue for i64 {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
impl FromValue for bool {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl FromValue for String {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One row of a result.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i`, converted; a missing column or a value of another type is a corrupt row.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self
            .0
            .get(i)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt(format!("no column {i} in a row")))?;
        T::from_value(v).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
}

/// Parameters, as a slice of anything [`ToValue`]: `args![a, b, c]`.
macro_rules! args {
    ($($e:expr),* $(,)?) => {
        &[$(&$e as &dyn $crate::db::ToValue),*] as &[&dyn $crate::db::ToValue]
    };
}
pub(crate) use args;

/// A PostgreSQL connection. The client is async and needs a runtime, which may not be started on
/// a thread that is driving async tasks (the server's, at start-up and in a few handlers): so
/// each connection lives on a thread of its own with a small runtime, and the store sends it
/// statements and waits for the rows over channels, from any thread.
pub struct Pg {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The first error of a statement sent without waiting ([`Conn::execute_later`]), reported
    /// by the next statement that waits (a commit included).
    failed: Failed,
}

impl fmt::Debug for Pg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pg").finish_non_exhaustive()
    }
}

type Rows = Vec<Vec<Value>>;

/// What the connection's thread is asked to do, with where to send the answer.
enum Job {
    Query(
        String,
        Vec<Value>,
        mpsc::Sender<std::result::Result<Rows, postgres::Error>>,
    ),
    /// Without a sender: nobody waits; an error goes to [`Pg::failed`].
    Execute(
        String,
        Vec<Value>,
        Option<mpsc::Sender<std::result::Result<u64, postgres::Error>>>,
    ),
    Batch(
        String,
        mpsc::Sender<std::result::Result<(), postgres::Error>>,
    ),
    /// `COPY ... FROM STDIN (FORMAT binary)` of these rows, in these column types; nobody
    /// waits, an error goes to [`Pg::failed`].
    Copy(String, Vec<Type>, Rows),
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which closes the connection.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Statements sent without waiting are held until this many, or until a statement that is
/// waited for, then sent together.
const PIPELINE: usize = 256;

type Failed = std::sync::Arc<std::sync::Mutex<Option<postgres::Error>>>;

/// The connection's thread: connects, then runs the statements it is sent, in order. Statements
/// sent without waiting ([`Conn::execute_later`]) are held and then sent in one go with the next
/// statement that is waited for: PostgreSQL runs them in order, and the rows of a large write
/// cost one round trip per few hundred statements instead of one each. Prepared statements are
/// cached, keyed by the SQL as the store wrote it.
fn pg_thread(
    url: String,
    ready: mpsc::Sender<Result<()>>,
    jobs: mpsc::Receiver<Job>,
    failed: Failed,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(StoreError::Rejected(format!(
                "cannot start the connection's runtime: {e}"
            ))));
            return;
        }
    };
    let client = match rt.block_on(tokio_postgres::connect(&url, tokio_postgres::NoTls)) {
        Ok((client, connection)) => {
            // Driven whenever the thread waits on the runtime (every statement).
            rt.spawn(async move {
                let _ = connection.await;
            });
            client
        }
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    let mut cache: HashMap<String, tokio_postgres::Statement> = HashMap::new();
    let mut held: Vec<(String, Vec<Value>)> = Vec::new();
    for job in jobs {
        match job {
            Job::Copy(sql, types, rows) => {
                let held = std::mem::take(&mut held);
                if !held.is_empty() {
                    rt.block_on(run(&client, &mut cache, held, None, &failed));
                }
                if let Err(e) = rt.block_on(copy_in(&client, &sql, &types, &rows)) {
                    note_failure(&failed, e);
                }
            }
            Job::Execute(sql, values, None) => {
                held.push((sql, values));
                if held.len() >= PIPELINE {
                    let held = std::mem::take(&mut held);
                    rt.block_on(run(&client, &mut cache, held, None, &failed));
                }
            }
            job => {
                let held = std::mem::take(&mut held);
                rt.block_on(run(&client, &mut cache, held, Some(job), &failed));
            }
        }
    }
    if !held.is_empty() {
        rt.block_on(run(&client, &mut cache, held, None, &failed));
    }
}

async fn prepared(
    client: &tokio_postgres::Client,
    cache: &mut HashMap<String, tokio_postgres::Statement>,
    sql: &str,
) -> std::result::Result<tokio_postgres::Statement, postgres::Error> {
    if let Some(st) = cache.get(sql) {
        return Ok(st.clone());
    }
    let st = client.prepare(&to_postgres(sql)).await?;
    if cache.len() > 512 {
        cache.clear();
    }
    cache.insert(sql.to_string(), st.clone());
    Ok(st)
}

/// Sends rows with COPY in PostgreSQL's binary format: one statement for all of them, without
/// the per-row parse, plan and round trip of an INSERT.
async fn copy_in(
    client: &tokio_postgres::Client,
    sql: &str,
    types: &[Type],
    rows: &Rows,
) -> std::result::Result<u64, postgres::Error> {
    let sink = client.copy_in(sql).await?;
    let mut writer = std::pin::pin!(tokio_postgres::binary_copy::BinaryCopyInWriter::new(
        sink, types
    ));
    let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(types.len());
    for row in rows {
        values.clear();
        values.extend(row.iter().map(|v| v as &(dyn ToSql + Sync)));
        writer.as_mut().write(&values).await?;
    }
    writer.finish().await
}

fn note_failure(failed: &Failed, e: postgres::Error) {
    if let Ok(mut slot) = failed.lock() {
        slot.get_or_insert(e);
    }
}

/// Sends the held statements and then `job`'s, all before waiting for any answer; answers `job`
/// once the held statements' errors (if any) are recorded, so that its caller sees them.
async fn run(
    client: &tokio_postgres::Client,
    cache: &mut HashMap<String, tokio_postgres::Statement>,
    held: Vec<(String, Vec<Value>)>,
    job: Option<Job>,
    failed: &Failed,
) {
    use futures_util::future::{join, join_all};
    let mut batch = Vec::with_capacity(held.len());
    for (sql, values) in held {
        match prepared(client, cache, &sql).await {
            Ok(st) => batch.push((st, values)),
            Err(e) => note_failure(failed, e),
        }
    }
    let job_statement = match &job {
        Some(Job::Query(sql, ..)) | Some(Job::Execute(sql, ..)) => {
            Some(prepared(client, cache, sql).await)
        }
        _ => None,
    };
    let earlier = join_all(
        batch
            .iter()
            .map(|(st, values)| client.execute_raw(st, values.iter())),
    );
    enum Answer {
        Rows(std::result::Result<Rows, postgres::Error>),
        Count(std::result::Result<u64, postgres::Error>),
        Done(std::result::Result<(), postgres::Error>),
        Nothing,
    }
    let this = async {
        match (&job, job_statement) {
            (Some(Job::Query(_, values, _)), Some(st)) => {
                let read = async {
                    let st = st?;
                    let params: Vec<&(dyn ToSql + Sync)> =
                        values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                    let mut out = Vec::new();
                    for r in client.query(&st, &params).await? {
                        let mut row = Vec::with_capacity(r.len());
                        for i in 0..r.len() {
                            row.push(r.try_get::<_, Value>(i)?);
                        }
                        out.push(row);
                    }
                    Ok(out)
                };
                Answer::Rows(read.await)
            }
            (Some(Job::Execute(_, values, _)), Some(st)) => {
                let write = async {
                    let st = st?;
                    client.execute_raw(&st, values.iter()).await
                };
                Answer::Count(write.await)
            }
            (Some(Job::Batch(sql, _)), _) => Answer::Done(client.batch_execute(sql).await),
            _ => Answer::Nothing,
        }
    };
    let (results, answer) = join(earlier, this).await;
    for r in results {
        if let Err(e) = r {
            note_failure(failed, e);
        }
    }
    match (job, answer) {
        (Some(Job::Query(.., reply)), Answer::Rows(r)) => {
            let _ = reply.send(r);
        }
        (Some(Job::Execute(.., Some(reply))), Answer::Count(r)) => {
            let _ = reply.send(r);
        }
        (Some(Job::Execute(.., None)), Answer::Count(Err(e))) => note_failure(failed, e),
        (Some(Job::Batch(_, reply)), Answer::Done(r)) => {
            let _ = reply.send(r);
        }
        _ => {}
    }
}

impl Pg {
    fn connect(url: &str) -> Result<Pg> {
        let (ready_tx, ready) = mpsc::channel();
        let (jobs, receiver) = mpsc::channel();
        let url = url.to_string();
        let failed: Failed = std::sync::Arc::new(std::sync::Mutex::new(None));
        let failures = std::sync::Arc::clone(&failed);
        let thread = std::thread::Builder::new()
            .name("minewatch-pg".into())
            .spawn(move || pg_thread(url, ready_tx, receiver, failures))
            .map_err(|e| StoreError::Rejected(format!("cannot start a connection thread: {e}")))?;
        let pg = Pg {
            jobs: Some(jobs),
            thread: Some(thread),
            failed,
        };
        ready.recv().map_err(|_| gone())??;
        Ok(pg)
    }

    fn ask<T>(
        &self,
        job: impl FnOnce(mpsc::Sender<std::result::Result<T, postgres::Error>>) -> Job,
    ) -> Result<T> {
        let (reply, answer) = mpsc::channel();
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job(reply))
            .map_err(|_| gone())?;
        let answer = answer.recv().map_err(|_| gone())?;
        // A statement sent earlier without waiting failed: that is the error to report (this
        // one then failed, or, for a COMMIT, quietly rolled back, because of it).
        if let Some(e) = self.failed.lock().ok().and_then(|mut slot| slot.take()) {
            return Err(e.into());
        }
        Ok(answer?)
    }

    /// Sends a statement and goes on without waiting for it (see [`Conn::execute_later`]).
    fn tell(&self, sql: &str, values: Vec<Value>) -> Result<()> {
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(Job::Execute(sql.to_string(), values, None))
            .map_err(|_| gone())
    }
}

fn gone() -> StoreError {
    StoreError::Rejected("the database connection's thread has stopped".into())
}

/// An open connection to either backend.
#[derive(Debug)]
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Pg),
}

impl Conn {
    pub fn postgres(url: &str) -> Result<Conn> {
        let pg = Pg::connect(url)?;
        let conn = Conn::Postgres(pg);
        // As SQLite's busy timeout: a write waits this long for another's turn, then fails as
        // busy (the server answers 503 with Retry-After).
        conn.batch("SET lock_timeout = '10s'")?;
        Ok(conn)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Every row of a query.
    pub fn query(&self, sql: &str, args: &[&dyn ToValue]) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        self.each(sql, args, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with each row of a query in turn (SQLite reads them one at a time; PostgreSQL
    /// has sent them all).
    pub fn each(
        &self,
        sql: &str,
        args: &[&dyn ToValue],
        mut f: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        let values: Vec<Value> = args.iter().map(|a| a.value()).collect();
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(from_sqlite(r.get_ref(i)?));
                    }
                    f(Row(row))?;
                }
                Ok(())
            }
            Conn::Postgres(pg) => {
                for row in pg.ask(|r| Job::Query(sql.to_string(), values, r))? {
                    f(Row(row))?;
                }
                Ok(())
            }
        }
    }

    /// Sends a query and goes on without waiting for its rows: [`Later::rows`] waits for them.
    /// Statements sent after it run after it. SQLite runs it at once.
    pub fn query_later(&self, sql: &str, args: &[&dyn ToValue]) -> Result<Later> {
        match self {
            Conn::Sqlite(_) => Ok(Later::Ready(self.query(sql, args)?)),
            Conn::Postgres(pg) => {
                let values: Vec<Value> = args.iter().map(|a| a.value()).collect();
                let (reply, answer) = mpsc::channel();
                pg.jobs
                    .as_ref()
                    .ok_or_else(gone)?
                    .send(Job::Query(sql.to_string(), values, reply))
                    .map_err(|_| gone())?;
                Ok(Later::Sent(answer))
            }
        }
    }

    /// The first row of a query, if any.
    pub fn opt(&self, sql: &str, args: &[&dyn ToValue]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The one row of a query (a query that returns none is a corrupt database or a bug).
    pub fn one(&self, sql: &str, args: &[&dyn ToValue]) -> Result<Row> {
        self.opt(sql, args)?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {}", first_line(sql))))
    }

    /// The first column of the one row of a query.
    pub fn value<T: FromValue>(&self, sql: &str, args: &[&dyn ToValue]) -> Result<T> {
        self.one(sql, args)?.get(0)
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: &[&dyn ToValue]) -> Result<u64> {
        let values: Vec<Value> = args.iter().map(|a| a.value()).collect();
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(values.iter()))? as u64)
            }
            Conn::Postgres(pg) => pg.ask(|r| Job::Execute(sql.to_string(), values, Some(r))),
        }
    }

    /// Runs a statement whose result nobody needs now (the rows of a large write): on
    /// PostgreSQL it is sent and the caller goes on, so the database works while the next row is
    /// prepared; an error is reported by the next statement that waits for its answer (the
    /// commit at the latest, which then fails: the transaction is rolled back). SQLite runs it
    /// at once.
    pub fn execute_later(&self, sql: &str, args: &[&dyn ToValue]) -> Result<()> {
        match self {
            Conn::Sqlite(_) => self.execute(sql, args).map(|_| ()),
            Conn::Postgres(pg) => pg.tell(sql, args.iter().map(|a| a.value()).collect()),
        }
    }

    /// PostgreSQL only: sends `rows` to `COPY table (columns) FROM STDIN` in the binary format,
    /// `types` being the columns' types, in order, and goes on without waiting, as
    /// [`Conn::execute_later`] does (an error is reported by the next statement that waits).
    /// On SQLite this is refused: its rows are written one by one, in process.
    pub fn copy_later(
        &self,
        table: &str,
        columns: &[(&str, Type)],
        rows: Vec<Vec<Value>>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(_) => Err(StoreError::Rejected(
                "COPY is PostgreSQL's; SQLite writes rows one by one".into(),
            )),
            Conn::Postgres(pg) => {
                let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
                let sql = format!(
                    "COPY {table} ({}) FROM STDIN (FORMAT binary)",
                    names.join(", ")
                );
                let types = columns.iter().map(|(_, t)| t.clone()).collect();
                pg.jobs
                    .as_ref()
                    .ok_or_else(gone)?
                    .send(Job::Copy(sql, types, rows))
                    .map_err(|_| gone())
            }
        }
    }

    /// An `INSERT ... RETURNING id`: the new row's id.
    pub fn insert(&self, sql: &str, args: &[&dyn ToValue]) -> Result<i64> {
        self.value(sql, args)
    }

    /// Several statements without parameters (schema, transaction control).
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(pg) => pg.ask(|r| Job::Batch(sql.to_string(), r)),
        }
    }

    /// Begins a transaction that writes: on SQLite it takes the write lock at once (so a second
    /// writer waits instead of failing when its read lock cannot be upgraded).
    ///
    /// On PostgreSQL every such transaction first takes one advisory lock ([`WRITE_LOCK`]), so
    /// the writers of all servers on a database take turns as SQLite's do: what a transaction
    /// read before it writes (a login's failure count, a proposal still pending, the newest fact
    /// of a key) cannot change under it, and fact ids grow in commit order, so "the newest fact
    /// id" stays the record version that every server's caches key on. Readers never wait.
    pub fn begin(&self) -> Result<Tx<'_>> {
        match self.backend() {
            Backend::Sqlite => self.begin_with("BEGIN IMMEDIATE"),
            Backend::Postgres => {
                let tx = self.begin_with("BEGIN")?;
                tx.execute("SELECT pg_advisory_xact_lock(?1)", args![WRITE_LOCK])?;
                Ok(tx)
            }
        }
    }

    /// Begins a transaction with this statement.
    pub fn begin_with(&self, begin: &str) -> Result<Tx<'_>> {
        self.batch(begin)?;
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// The rusqlite connection, for SQLite-only settings.
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres(_) => None,
        }
    }
}

/// The rows of a query sent with [`Conn::query_later`].
#[derive(Debug)]
pub enum Later {
    Ready(Vec<Row>),
    Sent(mpsc::Receiver<std::result::Result<Rows, postgres::Error>>),
}

impl Later {
    /// Waits for the rows (and reports an error of a statement sent before them without
    /// waiting, as every statement that waits does).
    pub fn rows(self, conn: &Conn) -> Result<Vec<Row>> {
        match (self, conn) {
            (Later::Ready(rows), _) => Ok(rows),
            (Later::Sent(answer), Conn::Postgres(pg)) => {
                let answer = answer.recv().map_err(|_| gone())?;
                if let Some(e) = pg.failed.lock().ok().and_then(|mut slot| slot.take()) {
                    return Err(e.into());
                }
                Ok(answer?.into_iter().map(Row).collect())
            }
            (Later::Sent(_), Conn::Sqlite(_)) => Err(StoreError::Rejected(
                "a PostgreSQL answer was awaited on SQLite".into(),
            )),
        }
    }
}

/// The advisory lock of PostgreSQL's write transactions ("minewatc" in ASCII).
pub const WRITE_LOCK: i64 = 0x6d69_6e65_7761_7463;

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or("")
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Texts(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "SQLite has no array parameters".into(),
                ))
            }
        })
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Value {
    /// Written as the parameter's inferred type asks, as SQLite would store it: an integer into
    /// a text column becomes its digits, and so on.
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().to_sql(&Type::TEXT, out)
                }
                _ => Err(format!("an integer cannot be written as {ty}").into()),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ => Err(format!("a real number cannot be written as {ty}").into()),
            },
            Value::Text(s) => match *ty {
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(format!("bytes cannot be written as {ty}").into()),
            },
            Value::Texts(list) => match *ty {
                Type::TEXT_ARRAY => list.to_sql(ty, out),
                _ => Err(format!("a list of texts cannot be written as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => return Err(format!("minewatch does not read columns of type {ty}").into()),
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The store's SQL in PostgreSQL's dialect: `?N` and `?` parameters become `$N` (outside quoted
/// strings and identifiers).
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut next = 0u32;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                if digits.is_empty() {
                    next += 1;
                    out.push_str(&format!("${next}"));
                } else {
                    if let Ok(n) = digits.parse::<u32>() {
                        next = next.max(n);
                    }
                    out.push('$');
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A transaction: rolled back when dropped unfinished (an error, a panic), so a failed write
/// leaves nothing behind on either backend.
#[derive(Debug)]
pub struct Tx<'c> {
    conn: &'c Conn,
    open: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.conn.batch("COMMIT")
    }

    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn.batch("ROLLBACK")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_numbered_outside_quotes() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d = ?2"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"
        );
        assert_eq!(to_postgres("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
        assert_eq!(
            to_postgres("SELECT \"?x\" FROM t WHERE k = ?12"),
            "SELECT \"?x\" FROM t WHERE k = $12"
        );
    }
}
