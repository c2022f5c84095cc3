//! Importers: files as users bring them, turned into facts.
//!
//! Every importer reads the whole file, checks every row and reports *every* problem as
//! `file:line:column: field: what was wrong, what was expected` before anything is written. The
//! writes happen inside one store [`Batch`]: when any row has a problem the batch is rolled back,
//! so a bad file writes nothing. Files are read as a stream (memory stays bounded); a progress line
//! is shown when standard error is a terminal.

mod impact;
mod kinds;
mod row;
pub mod shipped;
pub mod undl;

pub use kinds::{Kind, KINDS};
pub use row::Problem;

use minewatch_domain::Source;
use minewatch_store::{Batch, BatchStats, Store, StoreError};
use row::{Ctx, Row};
use std::collections::HashMap;
use std::fmt;
use std::io::{IsTerminal, Read};
use std::path::Path;

/// How an import was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Check and count, then roll back.
    pub dry_run: bool,
    /// Who records the facts (record's `recorded_by`).
    pub recorded_by: String,
    /// Source key to cite for files that carry no source column (UN votes, roll calls).
    pub default_source: Option<String>,
    /// Show a progress line on standard error (only when it is a terminal).
    pub progress: bool,
    /// Stop collecting problems after this many (the count of the rest is still reported).
    pub max_problems: usize,
    /// `unga-undl` only: keep exactly these resolutions (`78/45` or `A/RES/78/45`) instead of
    /// the ones whose title names the Convention.
    pub resolutions: Option<Vec<String>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            recorded_by: "cli".into(),
            default_source: None,
            progress: true,
            max_problems: 200,
            resolutions: None,
        }
    }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub rows: u64,
    pub dry_run: bool,
    #[serde(flatten)]
    pub stats: BatchStats,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        write!(
            f,
            "{}{} rows: {} facts added, {} superseded, {} unchanged; {} sources added, {} updated, {} unchanged",
            if self.dry_run { "dry run (nothing written): " } else { "" },
            self.rows,
            s.facts_added,
            s.facts_superseded,
            s.facts_unchanged,
            s.sources_added,
            s.sources_superseded,
            s.sources_unchanged
        )
    }
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read at all.
    Io { file: String, message: String },
    /// Rows had problems; nothing was written.
    Invalid { problems: Vec<Problem>, more: usize },
    /// The database refused.
    Store(StoreError),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Io { file, message } => write!(f, "{file}: {message}"),
            ImportError::Invalid { problems, more } => {
                for p in problems {
                    writeln!(f, "{p}")?;
                }
                if *more > 0 {
                    writeln!(f, "... and {more} more problems")?;
                }
                write!(
                    f,
                    "{} problem{} found; nothing was written",
                    problems.len() + more,
                    if problems.len() + more == 1 { "" } else { "s" }
                )
            }
            ImportError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

/// Imports `path` with the importer `kind` into `store`.
pub fn import_file(
    store: &mut Store,
    kind: Kind,
    path: &Path,
    opts: &Options,
) -> Result<Report, ImportError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ImportError::Io {
        file: name.clone(),
        message: format!("cannot open: {e}"),
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    import_reader(store, kind, &name, file, size, opts)
}

/// Imports from any reader; `name` is used in messages, `size` (0 if unknown) for progress.
pub fn import_reader<R: Read>(
    store: &mut Store,
    kind: Kind,
    name: &str,
    reader: R,
    size: u64,
    opts: &Options,
) -> Result<Report, ImportError> {
    import_reader_then(store, kind, name, reader, size, opts, |_| Ok(()))
}

/// Like [`import_reader`], and runs `then` inside the same transaction once every row passed its
/// checks, before the commit (the editorial desk records the publication there, so facts, events
/// and outbox commit together). `then` is not run for dry runs or files with problems; if it
/// fails, nothing is written.
pub fn import_reader_then<R: Read>(
    store: &mut Store,
    kind: Kind,
    name: &str,
    reader: R,
    size: u64,
    opts: &Options,
    then: impl FnOnce(&mut Batch<'_>) -> Result<(), StoreError>,
) -> Result<Report, ImportError> {
    let gazetteer = store.gazetteer()?;
    let lookups = kinds::prepare(kind, store)?;
    let mut batch = store.batch(kind.name, Some(name), &opts.recorded_by)?;
    // `unga-undl` cites the Library's dataset unless told otherwise, and records that source
    // when the database does not have it yet.
    let is_undl = kind.name == undl::NAME;
    let default_source = match &opts.default_source {
        None if is_undl => Some(undl::DEFAULT_SOURCE.to_string()),
        other => other.clone(),
    };
    let ensure_default = is_undl && default_source.as_deref() == Some(undl::DEFAULT_SOURCE);
    if let Some(key) = default_source.as_ref().filter(|_| !ensure_default) {
        if !batch.has_source(key) {
            return Err(ImportError::Invalid {
                problems: vec![Problem::file_level(name, "--source", &format!("unknown source key {key:?}; import it first with `minewatch import sources FILE`"))],
                more: 0,
            });
        }
    }
    let mut ctx = Ctx {
        file: name,
        gazetteer: &gazetteer,
        problems: Vec::new(),
        more: 0,
        max: opts.max_problems.max(1),
        default_source,
        lookups,
        pending_sources: Default::default(),
    };
    let progress = Progress::new(name, size, opts.progress && std::io::stderr().is_terminal());
    let rows = if kind.name == "facts-json" {
        kinds::facts_json(&mut ctx, &mut batch, reader)?
    } else if is_undl {
        undl::read(
            &mut ctx,
            &mut batch,
            reader,
            opts.resolutions.as_deref(),
            ensure_default,
            &progress,
        )?
    } else {
        read_csv(&mut ctx, &mut batch, kind, reader, &progress)?
    };
    progress.finish();
    if !ctx.problems.is_empty() {
        batch.rollback()?;
        return Err(ImportError::Invalid {
            problems: ctx.problems,
            more: ctx.more,
        });
    }
    let stats = if opts.dry_run {
        batch.rollback()?
    } else {
        then(&mut batch)?;
        minewatch_store::failpoint("import-before-commit");
        batch.commit()?
    };
    Ok(Report {
        rows,
        dry_run: opts.dry_run,
        stats,
    })
}

/// What one row turns into.
#[derive(Debug)]
pub(crate) enum Item {
    Source(Source),
    /// A source created from a citation when its key is not yet known.
    EnsureSource(Source),
    Fact(minewatch_store::NewFact),
    /// A fact whose key names its claim: the same claim from another file adds a citation
    /// ([`Batch::put_claim`]).
    Claim(minewatch_store::NewFact),
}

fn read_csv<R: Read>(
    ctx: &mut Ctx<'_>,
    batch: &mut Batch<'_>,
    kind: Kind,
    reader: R,
    progress: &Progress,
) -> Result<u64, ImportError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(reader);
    let mut header: Vec<String> = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    // Each row's duplicate key, as a 64-bit hash, with its line: 12 bytes a row, hashed no
    // further (the key is a hash already).
    let mut seen: HashMap<u64, u32, std::hash::BuildHasherDefault<Prehashed>> = HashMap::default();
    let mut columns: HashMap<String, usize> = HashMap::new();
    let mut first = true;
    let mut state = kinds::State::default();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "row has {len} fields; expected {expected_len} (one per header column)"
                    ),
                    _ => format!("cannot read CSV: {e}"),
                };
                ctx.problem_at(line, None, "", &message);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        // Decode every field, reporting invalid UTF-8 where it is.
        let mut fields: Vec<String> = Vec::with_capacity(record.len());
        let mut bad = false;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s.to_string()),
                Err(e) => {
                    let col_name = header.get(i).cloned().unwrap_or_default();
                    ctx.problem_at(
                        line,
                        Some(i + 1),
                        &col_name,
                        &format!(
                            "invalid UTF-8 at byte {} of the field; expected UTF-8 text (re-save the file as UTF-8)",
                            e.valid_up_to()
                        ),
                    );
                    bad = true;
                    fields.push(String::new());
                }
            }
        }
        if first {
            first = false;
            if let Some(f) = fields.first_mut() {
                if let Some(rest) = f.strip_prefix('\u{feff}') {
                    *f = rest.to_string();
                }
            }
            header = fields.iter().map(|h| h.trim().to_string()).collect();
            check_header(ctx, kind, &header, line);
            columns = header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), i))
                .collect();
            continue;
        }
        rows += 1;
        progress.tick(rows, record.position().map(|p| p.byte()).unwrap_or(0));
        if bad || fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut row = Row {
            fields: &fields,
            columns: &columns,
            line,
        };
        let before = ctx.problem_count();
        let (dup_key, items) = (kind.row)(ctx, &mut row, &mut state);
        if ctx.problem_count() > before {
            continue;
        }
        if let Some(k) = dup_key {
            let h = fnv(&k);
            if let Some(prev) = seen.insert(h, u32::try_from(line).unwrap_or(u32::MAX)) {
                ctx.problem_at(
                    line,
                    None,
                    "",
                    &format!("duplicate row: same {k} as line {prev}; expected each row once"),
                );
                continue;
            }
        }
        write_items(ctx, batch, line, items)?;
    }
    if first {
        ctx.problem_at(
            1,
            None,
            "",
            "the file is empty; expected a header row and data rows",
        );
    }
    for (line, items) in kinds::finish(kind, ctx, &mut state) {
        write_items(ctx, batch, line, items)?;
    }
    Ok(rows)
}

pub(crate) fn write_items(
    ctx: &mut Ctx<'_>,
    batch: &mut Batch<'_>,
    line: u64,
    items: Vec<Item>,
) -> Result<(), ImportError> {
    // Once a problem is found nothing will be committed: skip the writes, but keep checking
    // what the store would check, so every problem in the file is reported.
    if ctx.problem_count() > 0 {
        for item in items {
            match item {
                Item::Source(s) | Item::EnsureSource(s) => {
                    ctx.pending_sources.insert(s.key);
                }
                Item::Fact(f) | Item::Claim(f) => {
                    for c in &f.citations {
                        if !batch.has_source(&c.source) && !ctx.pending_sources.contains(&c.source)
                        {
                            ctx.problem_at(
                                line,
                                None,
                                "",
                                &format!("unknown source {:?}: record the source first", c.source),
                            );
                        }
                    }
                }
            }
        }
        return Ok(());
    }
    for item in items {
        let r = match &item {
            Item::Source(s) => batch.put_source(s).map(|_| ()),
            Item::EnsureSource(s) => {
                if batch.has_source(&s.key) {
                    Ok(())
                } else {
                    batch.put_source(s).map(|_| ())
                }
            }
            Item::Fact(f) => batch.add_fact(f),
            Item::Claim(f) => batch.put_claim(f).map(|_| ()),
        };
        match r {
            Ok(()) => {}
            Err(StoreError::Rejected(m)) => ctx.problem_at(line, None, "", &m),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn check_header(ctx: &mut Ctx<'_>, kind: Kind, header: &[String], line: u64) {
    for (i, h) in header.iter().enumerate() {
        if !kind.required.contains(&h.as_str()) && !kind.optional.contains(&h.as_str()) {
            let mut expected: Vec<&str> = kind.required.to_vec();
            expected.extend(kind.optional);
            ctx.problem_at(
                line,
                Some(i + 1),
                h,
                &format!(
                    "unknown column {h:?}; expected columns: {}",
                    expected.join(", ")
                ),
            );
        }
        if header[..i].contains(h) {
            ctx.problem_at(
                line,
                Some(i + 1),
                h,
                "column appears twice; expected each column once",
            );
        }
    }
    for r in kind.required {
        if !header.iter().any(|h| h == r) {
            ctx.problem_at(
                line,
                None,
                r,
                &format!("missing column {r:?}; the header must include it"),
            );
        }
    }
}

/// The hasher of a map whose keys are hashes already: it passes them through.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A progress line on standard error, redrawn at most ten times a second.
pub(crate) struct Progress {
    name: String,
    size: u64,
    on: bool,
    last: std::cell::Cell<Option<std::time::Instant>>,
}

impl Progress {
    fn new(name: &str, size: u64, on: bool) -> Progress {
        Progress {
            name: name.to_string(),
            size,
            on,
            last: std::cell::Cell::new(None),
        }
    }

    pub(crate) fn tick(&self, rows: u64, byte: u64) {
        if !self.on {
            return;
        }
        let now = std::time::Instant::now();
        if let Some(t) = self.last.get() {
            if now.duration_since(t).as_millis() < 100 {
                return;
            }
        }
        self.last.set(Some(now));
        let pct = (byte * 100).checked_div(self.size).unwrap_or(0).min(100);
        let width = 30u64;
        let filled = (pct * width / 100) as usize;
        eprint!(
            "\r{} [{}{}] {pct:>3}% {rows} rows",
            self.name,
            "#".repeat(filled),
            " ".repeat(width as usize - filled)
        );
    }

    fn finish(&self) {
        if self.on && self.last.get().is_some() {
            eprintln!();
        }
    }
}
