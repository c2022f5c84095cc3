//! `minewatch export --format sqlite --out FILE`: a public SQLite snapshot of the record, for
//! Datasette (or any SQLite client), with a Datasette `metadata.json` beside it.
//!
//! The snapshot is a NEW database built from an explicit list of public columns (the pattern of
//! the crates.io database dump): the record is read through the store's public API (`gazetteer`,
//! `sources`, `latest`, `facts`) and the treaty engine, and written row by row. The database file
//! is never copied and no query reads `*` or a private table, so accounts, sessions, tokens,
//! proposals, subscribers, the outbox, webhooks and feedback cannot reach it: a column reaches
//! the snapshot only by being named in [`TABLES`].
//!
//! Writing is all or nothing: the snapshot and its metadata are built in temporary files in the
//! folders they go to and linked into place at the end; an existing file is refused before any
//! work, and a failure removes the temporary files. (A process killed mid-export can leave a
//! hidden `.FILE.PID-N.tmp` beside FILE, never a partial FILE.)

use minewatch_answers::{derived, describe, wire_word};
use minewatch_domain::{Date, Gazetteer, PartialDate, Payload};
use minewatch_store::{FactFilter, Store};
use rusqlite::{params, Connection};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// What `minewatch export --help` says about the sqlite format.
pub const HELP: &str =
    "--format sqlite --out FILE writes a public SQLite snapshot of the record (for Datasette)
and a Datasette metadata file beside it (FILE.metadata.json, or --metadata PATH):
  subjects            states, areas, armed groups, the world: codes, names, regions
  sources             every source (current version): title, publisher, date, URL
  facts               every fact ever recorded, corrections and retractions included: key,
                      subject, kind, valid_from/valid_to as given (2004, 2004-02, 2004-02-13),
                      payload (JSON), the fact in one sentence, note, supersedes, record time
  citations           which sources each fact cites, with locators
  meetings            the treaty's meetings (Meetings of the States Parties, Review Conferences)
  status_today        every subject's treaty status today: signature, deposit, entry into
                      force, withdrawal, Art. 4/5/7 deadlines, findings and reasons
  deadlines           today's Art. 4, 5 and 7 deadlines and their state
  views               current_facts (neither corrected nor retracted), retractions,
                      facts_with_sources (each fact with its sources' titles and locators)
  full-text search    facts_fts (subject, kind, sentence, note) and sources_fts (title,
                      publisher), which Datasette finds by itself (?_search=)
Nothing else is in it: no account, subscriber, feedback or any other private table.
An existing FILE (or metadata file) is refused; a failed export leaves no file.
Browse it with: datasette serve FILE -m FILE.metadata.json";

/// One column of a public table: its name, its SQL declaration and what it holds.
pub(crate) struct Col {
    pub(crate) name: &'static str,
    pub(crate) decl: &'static str,
    pub(crate) about: &'static str,
}

/// One public table: every column the snapshot holds is listed here, and nothing else is.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) about: &'static str,
    pub(crate) cols: &'static [Col],
    /// Table constraints after the columns (a compound primary key).
    pub(crate) constraints: &'static str,
    /// The column Datasette shows for a row that another table points to.
    label: Option<&'static str>,
}

const fn col(name: &'static str, decl: &'static str, about: &'static str) -> Col {
    Col { name, decl, about }
}

/// The public tables, in the order they are written.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "subjects",
        about: "The states, territories, other areas, historical entities, armed groups and the \
                world that facts are about.",
        cols: &[
            col(
                "code",
                "TEXT PRIMARY KEY",
                "The subject's code: ISO 3166-1 alpha-3 where one exists (XKX for Kosovo by \
                 convention), otherwise a project code (NSAG-... for armed groups, WLD for the world)",
            ),
            col("alpha2", "TEXT", "ISO 3166-1 alpha-2 code, where one exists"),
            col("numeric", "TEXT", "ISO 3166-1 numeric code, where one exists"),
            col("name", "TEXT NOT NULL", "Display name"),
            col(
                "kind",
                "TEXT NOT NULL",
                "state, territory, other_area, historical, armed_group or world",
            ),
            col(
                "region",
                "TEXT",
                "UN geoscheme region (Africa, Americas, Asia, Europe, Oceania), where known \
                 (from world-countries, ODbL-1.0)",
            ),
            col(
                "aliases",
                "TEXT NOT NULL",
                "Other names the subject is known by (JSON array)",
            ),
            col(
                "successors",
                "TEXT NOT NULL",
                "Codes of a historical entity's successors (JSON array)",
            ),
            col(
                "parent",
                "TEXT REFERENCES subjects(code)",
                "The subject this one belongs to (an armed group's country of operation), if any",
            ),
        ],
        constraints: "",
        label: Some("name"),
    },
    Table {
        name: "sources",
        about: "The sources that facts cite (the current version of each).",
        cols: &[
            col(
                "id",
                "INTEGER PRIMARY KEY",
                "The record's id of this version of the source",
            ),
            col(
                "key",
                "TEXT NOT NULL UNIQUE",
                "Stable key by which facts cite the source (citations.source_key)",
            ),
            col("title", "TEXT NOT NULL", "Title of the document or page"),
            col("publisher", "TEXT", "Who published it"),
            col(
                "published",
                "TEXT",
                "Publication date as known: YYYY, YYYY-MM or YYYY-MM-DD (partial dates stay \
                 partial); a fact is known on a date only once one of its sources was published",
            ),
            col("url", "TEXT", "Where to read it"),
            col("note", "TEXT", "Anything a reader should know about the source"),
            col(
                "recorded_at",
                "TEXT NOT NULL",
                "When this version of the source entered the record (UTC, RFC 3339)",
            ),
        ],
        constraints: "",
        label: Some("title"),
    },
    Table {
        name: "facts",
        about: "Every fact ever recorded: sourced, dated claims about a subject. The record is \
                append-only: a correction is a new fact that supersedes the old one, a retraction \
                is a fact of kind retraction that supersedes its target; both stay here. \
                current_facts has the ones that stand.",
        cols: &[
            col(
                "id",
                "INTEGER PRIMARY KEY",
                "The record's id of the fact (ids grow with every write)",
            ),
            col(
                "key",
                "TEXT NOT NULL",
                "Natural key: the versions of one fact (original, corrections, retraction) share it",
            ),
            col(
                "subject",
                "TEXT NOT NULL REFERENCES subjects(code)",
                "Code of the subject the fact is about",
            ),
            col(
                "subject_name",
                "TEXT NOT NULL",
                "The subject's display name (subjects.name)",
            ),
            col(
                "kind",
                "TEXT NOT NULL",
                "Kind of fact, which names the shape of payload: treaty_action, armed_conflict, \
                 art5_event, art4_event, art7_report, legislation, unga_roll_call, unga_vote, \
                 meeting_participation, mine_activity, stockpile_count, policy_instrument, \
                 headline_figure, development, meeting, retraction",
            ),
            col(
                "valid_from",
                "TEXT",
                "When the claim starts being true, as precise as the sources: YYYY, YYYY-MM or \
                 YYYY-MM-DD (text, not a date type); empty when the sources give no date",
            ),
            col(
                "valid_to",
                "TEXT",
                "When it stops being true (periods: armed conflicts, meetings), as precise as the \
                 sources; empty for events and open periods",
            ),
            col(
                "payload",
                "TEXT NOT NULL",
                "The fact's content: a JSON object whose fields depend on kind (data/README.md, \
                 \"Fact kinds and payloads\")",
            ),
            col(
                "text",
                "TEXT NOT NULL",
                "The fact in one sentence, as the public site words it",
            ),
            col("note", "TEXT", "Free text recorded with the fact"),
            col(
                "supersedes",
                "INTEGER REFERENCES facts(id)",
                "The fact this one corrects or (for a retraction) retracts",
            ),
            col(
                "superseded_by",
                "INTEGER REFERENCES facts(id)",
                "The fact that corrected or retracted this one; empty while it stands",
            ),
            col(
                "recorded_at",
                "TEXT NOT NULL",
                "When the fact entered the record (UTC, RFC 3339): record time, not valid time",
            ),
            col(
                "recorded_by",
                "TEXT NOT NULL",
                "Who recorded it: the import (cli, the shipped dataset) or the editors who \
                 proposed and approved it",
            ),
        ],
        constraints: "",
        label: Some("text"),
    },
    Table {
        name: "citations",
        about: "Which sources each fact cites, in order, with the place in the source.",
        cols: &[
            col(
                "fact_id",
                "INTEGER NOT NULL REFERENCES facts(id)",
                "The citing fact",
            ),
            col(
                "position",
                "INTEGER NOT NULL",
                "Order of the citation among the fact's citations (1: first)",
            ),
            col(
                "source_key",
                "TEXT NOT NULL REFERENCES sources(key)",
                "The cited source",
            ),
            col(
                "locator",
                "TEXT",
                "Where in the source (page, footnote, paragraph, quote); empty: the whole source",
            ),
        ],
        constraints: "PRIMARY KEY (fact_id, position)",
        label: None,
    },
    Table {
        name: "meetings",
        about: "The treaty's formal meetings: Meetings of the States Parties (Art. 11) and \
                Review Conferences (Art. 12), from the current facts of kind meeting. Where \
                sources disagree on the dates there are two rows, each with its own source.",
        cols: &[
            col(
                "fact_id",
                "INTEGER PRIMARY KEY REFERENCES facts(id)",
                "The fact of kind meeting this row comes from (its sources: citations)",
            ),
            col(
                "code",
                "TEXT NOT NULL",
                "Meeting code: 12MSP is the 12th Meeting of the States Parties, 2RC the 2nd \
                 Review Conference",
            ),
            col("name", "TEXT NOT NULL", "The meeting's name"),
            col("city", "TEXT", "Where it met"),
            col(
                "start_date",
                "TEXT",
                "First day, as precise as the source (YYYY, YYYY-MM or YYYY-MM-DD)",
            ),
            col(
                "end_date",
                "TEXT",
                "Last day, as precise as the source; Art. 5 extensions granted by the meeting \
                 take effect on its decision (its closing day where only the meeting is named)",
            ),
            col("note", "TEXT", "The fact's note (why two sources disagree)"),
        ],
        constraints: "",
        label: Some("name"),
    },
    Table {
        name: "status_today",
        about: "Every subject's status under the treaty on the day of the export, derived by \
                minewatch's treaty engine from the current facts (Arts. 15-20), with deadlines, \
                findings and the reasons for each step.",
        cols: &[
            col(
                "code",
                "TEXT PRIMARY KEY REFERENCES subjects(code)",
                "The subject",
            ),
            col("name", "TEXT NOT NULL", "The subject's display name"),
            col(
                "subject_kind",
                "TEXT NOT NULL",
                "state, territory, other_area, historical, armed_group or world (only states \
                 can join the treaty)",
            ),
            col(
                "as_of",
                "TEXT NOT NULL",
                "The date the status is computed for: the day of the export (UTC)",
            ),
            col(
                "status",
                "TEXT NOT NULL",
                "non_signatory, signatory (signed, no instrument), deposited (instrument \
                 deposited, not yet in force for it), state_party (in force for it), \
                 withdrawal_pending (notice given, still bound) or withdrawn",
            ),
            col(
                "bound",
                "INTEGER NOT NULL",
                "1 when bound by the treaty's obligations (state_party or withdrawal_pending), else 0",
            ),
            col(
                "signed",
                "TEXT",
                "Signature date (Art. 15), if signed; the preferred date where sources disagree",
            ),
            col(
                "deposited",
                "TEXT",
                "Date its instrument was deposited with the depositary (Art. 16), if deposited",
            ),
            col(
                "deposit_method",
                "TEXT",
                "ratification, acceptance, approval, accession or succession",
            ),
            col(
                "entry_into_force",
                "TEXT",
                "When the treaty entered (enters) into force for it (Art. 17): YYYY-MM-DD",
            ),
            col(
                "withdrawal_notified",
                "TEXT",
                "When the depositary received its notice of withdrawal (Art. 20(2)), if any",
            ),
            col(
                "withdrawal_effective",
                "TEXT",
                "When the withdrawal takes (took) effect; empty while deferred by an armed \
                 conflict (Art. 20(3)) or when there is none",
            ),
            col(
                "withdrawal_deferred",
                "INTEGER NOT NULL",
                "1 while a withdrawal is deferred by an armed conflict with no recorded end, else 0",
            ),
            col(
                "art4_deadline",
                "TEXT",
                "Stockpile destruction deadline: entry into force + 4 years (Art. 4)",
            ),
            col(
                "art5_deadline",
                "TEXT",
                "Mine clearance deadline: entry into force + 10 years, or the latest extension \
                 granted (Art. 5)",
            ),
            col(
                "art5_original_deadline",
                "TEXT",
                "Entry into force + 10 years (Art. 5(1)), before any extension",
            ),
            col(
                "art7_initial_deadline",
                "TEXT",
                "First transparency report due: entry into force + 180 days (Art. 7(1))",
            ),
            col(
                "findings",
                "TEXT NOT NULL",
                "What the engine flags about the subject (conflicting sources, missed deadlines, \
                 use while bound, ...): JSON array, each with kind, article, date, summary and \
                 reasons",
            ),
            col(
                "reasons",
                "TEXT NOT NULL",
                "How the status was derived: JSON array of steps, each with the article applied, \
                 the computation in words and the ids and citations of the facts it rests on",
            ),
        ],
        constraints: "",
        label: Some("name"),
    },
    Table {
        name: "deadlines",
        about: "The Art. 4 (stockpile destruction), Art. 5 (clearance) and Art. 7 (transparency \
                report) deadlines of every State Party and their state on the day of the export, \
                derived by the treaty engine.",
        cols: &[
            col("id", "INTEGER PRIMARY KEY", "Row number"),
            col(
                "code",
                "TEXT NOT NULL REFERENCES subjects(code)",
                "The state the deadline is for",
            ),
            col("name", "TEXT NOT NULL", "The state's display name"),
            col(
                "article",
                "TEXT NOT NULL",
                "The article that sets it: Art. 4, Art. 5, Art. 7(1) or Art. 7(2)",
            ),
            col("title", "TEXT NOT NULL", "What is due, in words"),
            col(
                "year_covered",
                "INTEGER",
                "The calendar year an annual Art. 7(2) report covers",
            ),
            col("due", "TEXT NOT NULL", "The deadline (YYYY-MM-DD)"),
            col(
                "state",
                "TEXT NOT NULL",
                "met, met_late, completed, missed, ongoing, on_track, extended, \
                 missed_without_extension, pending, not_applicable, recorded, lapsed or unknown \
                 (nothing recorded tells; absence of facts is not evidence)",
            ),
            col(
                "passed",
                "INTEGER NOT NULL",
                "1 when the deadline is before as_of, else 0",
            ),
            col(
                "overdue",
                "INTEGER NOT NULL",
                "1 when the deadline passed and a recorded failure stands, else 0",
            ),
            col("as_of", "TEXT NOT NULL", "The day of the export (UTC)"),
            col(
                "reasons",
                "TEXT NOT NULL",
                "How the state was derived: JSON array of steps with the facts they rest on",
            ),
        ],
        constraints: "",
        label: Some("title"),
    },
];

/// A view: its SQL and what each of its columns holds.
struct View {
    name: &'static str,
    about: &'static str,
    sql: &'static str,
    cols: &'static [(&'static str, &'static str)],
    /// Searchable through `facts_fts` (its `id` is a fact id).
    fts: bool,
}

const CURRENT: &str =
    "f.kind <> 'retraction' AND NOT EXISTS (SELECT 1 FROM facts g WHERE g.supersedes = f.id)";

const VIEWS: &[View] = &[
    View {
        name: "current_facts",
        about: "The facts that stand: neither corrected nor retracted (what the site shows). \
                Retractions themselves are not facts about the world and are left out.",
        sql: "SELECT f.id, f.key, f.subject, f.subject_name, f.kind, f.valid_from, f.valid_to,
                     f.payload, f.text, f.note, f.supersedes, f.recorded_at, f.recorded_by
              FROM facts f WHERE {CURRENT}",
        cols: &[
            ("id", "The fact's id (facts.id)"),
            ("key", "Natural key"),
            ("subject", "Code of the subject"),
            ("subject_name", "The subject's display name"),
            ("kind", "Kind of fact"),
            ("valid_from", "When the claim starts being true (YYYY, YYYY-MM or YYYY-MM-DD)"),
            ("valid_to", "When it stops being true, for periods"),
            ("payload", "The fact's content (JSON object)"),
            ("text", "The fact in one sentence"),
            ("note", "Free text recorded with the fact"),
            ("supersedes", "The earlier version this fact corrects, if any"),
            ("recorded_at", "When the fact entered the record (UTC)"),
            ("recorded_by", "Who recorded it"),
        ],
        fts: true,
    },
    View {
        name: "retractions",
        about: "Facts withdrawn from the record's current view, with the reason. The retracted \
                fact stays in facts (superseded_by names the retraction).",
        sql: "SELECT r.id, r.subject, r.subject_name, r.supersedes AS retracted_fact,
                     t.kind AS retracted_kind, t.text AS retracted_text,
                     json_extract(r.payload, '$.reason') AS reason, r.note, r.recorded_at,
                     r.recorded_by
              FROM facts r LEFT JOIN facts t ON t.id = r.supersedes
              WHERE r.kind = 'retraction'",
        cols: &[
            ("id", "The retraction's fact id"),
            ("subject", "Code of the subject"),
            ("subject_name", "The subject's display name"),
            ("retracted_fact", "The fact withdrawn (facts.id)"),
            ("retracted_kind", "Kind of the fact withdrawn"),
            ("retracted_text", "The fact withdrawn, in one sentence"),
            ("reason", "Why it was retracted"),
            ("note", "Free text recorded with the retraction"),
            ("recorded_at", "When the retraction entered the record (UTC)"),
            ("recorded_by", "Who recorded it"),
        ],
        fts: false,
    },
    View {
        name: "facts_with_sources",
        about: "Every fact with its sources' titles and locators in one row (facts joined with \
                citations and sources).",
        sql: "SELECT f.id, f.subject, f.subject_name, f.kind, f.valid_from, f.valid_to, f.text,
                     f.note,
                     CASE WHEN {CURRENT} THEN 1 ELSE 0 END AS current,
                     (SELECT group_concat(t, '; ') FROM (
                        SELECT s.title || COALESCE(' (' || c.locator || ')', '') AS t
                        FROM citations c JOIN sources s ON s.key = c.source_key
                        WHERE c.fact_id = f.id ORDER BY c.position)) AS sources,
                     (SELECT json_group_array(json(o)) FROM (
                        SELECT json_object('key', s.key, 'title', s.title, 'locator', c.locator,
                                           'publisher', s.publisher, 'published', s.published,
                                           'url', s.url) AS o
                        FROM citations c JOIN sources s ON s.key = c.source_key
                        WHERE c.fact_id = f.id ORDER BY c.position)) AS citations,
                     f.payload, f.recorded_at
              FROM facts f",
        cols: &[
            ("id", "The fact's id (facts.id)"),
            ("subject", "Code of the subject"),
            ("subject_name", "The subject's display name"),
            ("kind", "Kind of fact"),
            ("valid_from", "When the claim starts being true (YYYY, YYYY-MM or YYYY-MM-DD)"),
            ("valid_to", "When it stops being true, for periods"),
            ("text", "The fact in one sentence"),
            ("note", "Free text recorded with the fact"),
            (
                "current",
                "1 when the fact stands (neither corrected nor retracted, not a retraction), else 0",
            ),
            (
                "sources",
                "The cited sources' titles, each with its locator in brackets, separated by ; in \
                 citation order",
            ),
            (
                "citations",
                "The citations as a JSON array: key, title, locator, publisher, published, url",
            ),
            ("payload", "The fact's content (JSON object)"),
            ("recorded_at", "When the fact entered the record (UTC)"),
        ],
        fts: true,
    },
];

/// A full-text search table (FTS5 with external content: Datasette finds it by its
/// `content="TABLE"`), indexing columns of a public table.
struct Fts {
    name: &'static str,
    content: &'static str,
    cols: &'static [(&'static str, &'static str)],
}

const FTS: &[Fts] = &[
    Fts {
        name: "facts_fts",
        content: "facts",
        cols: &[
            ("subject_name", "The subject's display name"),
            ("kind", "Kind of fact"),
            ("text", "The fact in one sentence"),
            ("note", "Free text recorded with the fact"),
        ],
    },
    Fts {
        name: "sources_fts",
        content: "sources",
        cols: &[
            ("title", "Title of the document or page"),
            ("publisher", "Who published it"),
        ],
    },
];

/// What an export wrote.
#[derive(Debug)]
pub struct Written {
    pub facts: usize,
    pub current: usize,
    pub sources: usize,
    pub bytes: u64,
    pub metadata: PathBuf,
}

/// Writes the snapshot to `out` and its Datasette metadata to `metadata` (default:
/// `OUT.metadata.json`). Refuses existing files; leaves nothing behind on failure.
pub fn export(store: &Store, out: &Path, metadata: Option<&Path>) -> Res<Written> {
    let meta = match metadata {
        Some(p) => p.to_path_buf(),
        None => {
            let mut s = out.as_os_str().to_owned();
            s.push(".metadata.json");
            PathBuf::from(s)
        }
    };
    if meta == out {
        return Err("--metadata must name another file than --out".into());
    }
    for p in [out, meta.as_path()] {
        if p.symlink_metadata().is_ok() {
            return Err(format!(
                "{}: the file exists; export --format sqlite writes a new file and replaces \
                 none (remove it, or choose another --out/--metadata)",
                p.display()
            )
            .into());
        }
        let dir = folder(p);
        if !dir.is_dir() {
            return Err(format!(
                "{}: the folder {} does not exist",
                p.display(),
                dir.display()
            )
            .into());
        }
    }
    let db_name = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{}: not a file name", out.display()))?;

    let mut temps = Temps(Vec::new());
    let tmp_db = temps.reserve(out)?;
    let (counts, today) = write_snapshot(store, &tmp_db)?;
    let tmp_meta = temps.reserve(&meta)?;
    let doc = metadata_json(&db_name, today, &counts);
    std::fs::write(&tmp_meta, serde_json::to_string_pretty(&doc)? + "\n")?;
    sync(&tmp_meta)?;

    place(&tmp_db, out)?;
    if let Err(e) = place(&tmp_meta, &meta) {
        let _ = std::fs::remove_file(out);
        return Err(e);
    }
    temps.0.clear();
    sync_dir(folder(out));
    sync_dir(folder(&meta));
    Ok(Written {
        facts: counts.facts,
        current: counts.current,
        sources: counts.sources,
        bytes: std::fs::metadata(out)?.len(),
        metadata: meta,
    })
}

/// The folder a file is in (`.` for a bare name).
fn folder(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Temporary files, removed on drop unless cleared (a failed export leaves nothing).
struct Temps(Vec<PathBuf>);

impl Temps {
    /// A new, empty temporary file beside `dest` (same folder, so it can be linked into place).
    fn reserve(&mut self, dest: &Path) -> Res<PathBuf> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for n in 0..100u32 {
            let p = folder(dest).join(format!(".{name}.{}-{n}.tmp", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p)
            {
                Ok(_) => {
                    self.0.push(p.clone());
                    return Ok(p);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot create a file in {} (for {}): {e}",
                        folder(dest).display(),
                        dest.display()
                    )
                    .into())
                }
            }
        }
        Err(format!("cannot make a temporary file beside {}", dest.display()).into())
    }
}

impl Drop for Temps {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Puts a finished temporary file at `dest` without ever replacing a file there: a hard link
/// fails when `dest` exists (even one made since the check at the start).
fn place(tmp: &Path, dest: &Path) -> Res<()> {
    match std::fs::hard_link(tmp, dest) {
        Ok(()) => {
            // The file is in place; a temporary name left over is removed by `Temps` too.
            let _ = std::fs::remove_file(tmp);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
            "{}: the file appeared while the export ran; nothing was written",
            dest.display()
        )
        .into()),
        // A file system without hard links: check again, then rename.
        Err(_) if dest.symlink_metadata().is_err() => Ok(std::fs::rename(tmp, dest)?),
        Err(e) => Err(format!("{}: {e}", dest.display()).into()),
    }
}

fn sync(p: &Path) -> Res<()> {
    std::fs::File::open(p)?.sync_all()?;
    Ok(())
}

/// Makes a rename or link durable (best effort: not every platform can open a folder).
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Row counts, for the metadata and the report.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    facts: usize,
    current: usize,
    sources: usize,
    subjects: usize,
    last_fact: i64,
}

fn opt_date(d: Option<PartialDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn opt_day(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn name_of<'g>(g: &'g Gazetteer, code: &'g str) -> &'g str {
    g.by_code(code).map(|s| s.name.as_str()).unwrap_or(code)
}

/// Builds the whole snapshot in the (empty) file `path`.
pub(crate) fn write_snapshot(store: &Store, path: &Path) -> Res<(Counts, Date)> {
    // Read through the store's API one fact at a time, and the engine one subject at a time
    // (an engine over that subject's facts and the few shared ones, whose answers about it are
    // the whole record's): memory follows the largest subject, not the record.
    let gazetteer = store.gazetteer()?;
    let sources = store.sources()?;
    let ids = store.fact_ids()?;
    let meetings = store.facts(&FactFilter {
        kind: Some(minewatch_domain::FactKind::Meeting),
        ..FactFilter::default()
    })?;
    let shared = derived::shared_facts(store, None)?;
    let today = derived::today()?;
    let (mut all, mut current) = (0usize, 0usize);

    let mut conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;",
    )?;
    let tx = conn.transaction()?;
    for t in TABLES {
        let mut defs: Vec<String> = t
            .cols
            .iter()
            .map(|c| format!("{} {}", c.name, c.decl))
            .collect();
        if !t.constraints.is_empty() {
            defs.push(t.constraints.to_string());
        }
        tx.execute_batch(&format!(
            "CREATE TABLE {} (\n  {}\n);",
            t.name,
            defs.join(",\n  ")
        ))?;
    }
    tx.execute_batch(
        "CREATE INDEX facts_by_subject ON facts(subject, kind);
         CREATE INDEX facts_by_kind ON facts(kind);
         CREATE INDEX facts_by_key ON facts(key);
         CREATE INDEX facts_by_supersedes ON facts(supersedes);
         CREATE INDEX citations_by_source ON citations(source_key);
         CREATE INDEX deadlines_by_code ON deadlines(code);",
    )?;

    {
        let mut st = tx.prepare(
            "INSERT INTO subjects (code, alpha2, numeric, name, kind, region, aliases, successors, parent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for s in gazetteer.subjects() {
            st.execute(params![
                s.code,
                s.alpha2,
                s.numeric,
                s.name,
                s.kind.as_str(),
                s.region,
                serde_json::to_string(&s.aliases)?,
                serde_json::to_string(&s.successors)?,
                s.parent,
            ])?;
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO sources (id, key, title, publisher, published, url, note, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for r in &sources {
            let s = &r.source;
            st.execute(params![
                r.id,
                s.key,
                s.title,
                s.publisher,
                opt_date(s.published),
                s.url,
                s.note,
                r.recorded_at,
            ])?;
        }
    }
    {
        let mut facts = tx.prepare(
            "INSERT INTO facts (id, key, subject, subject_name, kind, valid_from, valid_to, payload,
                                text, note, supersedes, superseded_by, recorded_at, recorded_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        let mut cites = tx.prepare(
            "INSERT INTO citations (fact_id, position, source_key, locator) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for id in &ids {
            let Some(r) = store.fact(*id)? else {
                continue;
            };
            all += 1;
            let f = &r.fact;
            if r.superseded_by.is_none() && !matches!(f.payload, Payload::Retraction(_)) {
                current += 1;
            }
            let name = name_of(&gazetteer, &f.subject);
            facts.execute(params![
                f.id,
                r.key,
                f.subject,
                name,
                f.kind().as_str(),
                opt_date(f.valid_from),
                opt_date(f.valid_to),
                f.payload.to_json(),
                describe::sentence(f, name),
                f.note,
                f.supersedes,
                r.superseded_by,
                f.recorded_at,
                f.recorded_by,
            ])?;
            for (i, c) in f.citations.iter().enumerate() {
                cites.execute(params![f.id, i as i64 + 1, c.source, c.locator])?;
            }
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO meetings (fact_id, code, name, city, start_date, end_date, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for r in &meetings {
            let f = &r.fact;
            if let Payload::Meeting(m) = &f.payload {
                st.execute(params![
                    f.id,
                    m.code,
                    m.name,
                    m.city,
                    opt_date(f.valid_from),
                    opt_date(f.valid_to),
                    f.note,
                ])?;
            }
        }
    }
    let mut deadlines = Vec::new();
    {
        let mut st = tx.prepare(
            "INSERT INTO status_today (code, name, subject_kind, as_of, status, bound, signed,
                 deposited, deposit_method, entry_into_force, withdrawal_notified,
                 withdrawal_effective, withdrawal_deferred, art4_deadline, art5_deadline,
                 art5_original_deadline, art7_initial_deadline, findings, reasons)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19)",
        )?;
        for s in gazetteer.subjects() {
            let engine = derived::build_subject_engine(store, &s.code, &shared, None)?;
            deadlines.extend(engine.deadlines(today, Some(&s.code), false));
            let r = engine.status(&s.code, today);
            st.execute(params![
                s.code,
                s.name,
                s.kind.as_str(),
                today.to_string(),
                r.status.as_str(),
                r.status.is_bound(),
                opt_date(r.signed),
                opt_date(r.deposited),
                r.method.map(|m| m.as_str()),
                opt_day(r.entry_into_force),
                opt_date(r.withdrawal_notified),
                opt_day(r.withdrawal_effective),
                r.withdrawal_deferred,
                opt_day(r.deadlines.art4),
                opt_day(r.deadlines.art5),
                opt_day(r.deadlines.art5_original),
                opt_day(r.deadlines.art7_initial),
                serde_json::to_string(&r.findings)?,
                serde_json::to_string(&r.reasons)?,
            ])?;
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO deadlines (id, code, name, article, title, year_covered, due, state,
                                    passed, overdue, as_of, reasons)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        // The whole record's order (minewatch_treaty's `deadlines`): by due date, state, article.
        deadlines.sort_by(|a, b| {
            a.due
                .cmp(&b.due)
                .then_with(|| a.code.cmp(&b.code))
                .then_with(|| a.article.cmp(b.article))
        });
        for (i, d) in deadlines.iter().enumerate() {
            st.execute(params![
                i as i64 + 1,
                d.code,
                name_of(&gazetteer, &d.code),
                d.article,
                d.title.as_ref(),
                d.year_covered,
                d.due.to_string(),
                wire_word(&d.state),
                d.passed,
                d.overdue,
                today.to_string(),
                serde_json::to_string(&d.reasons)?,
            ])?;
        }
    }
    for v in VIEWS {
        tx.execute_batch(&format!(
            "CREATE VIEW {} AS {};",
            v.name,
            v.sql.replace("{CURRENT}", CURRENT)
        ))?;
    }
    for Fts {
        name,
        content,
        cols,
    } in FTS
    {
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        // Written exactly `content="TABLE"`: the form Datasette looks for.
        tx.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {name} USING fts5({}, content=\"{content}\", \
             content_rowid=\"id\", tokenize=\"unicode61 remove_diacritics 2\");
             INSERT INTO {name}({name}) VALUES ('rebuild');
             INSERT INTO {name}({name}) VALUES ('optimize');",
            names.join(", ")
        ))?;
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    sync(path)?;
    Ok((
        Counts {
            facts: all,
            current,
            sources: sources.len(),
            subjects: gazetteer.len(),
            last_fact: store.last_fact_id()?,
        },
        today,
    ))
}

/// The data's terms (the same sentence the pages' "cite this page" blocks link to).
pub(crate) use minewatch_answers::cite::TERMS;

/// The Datasette metadata: title, description, terms, source, and a description of every table,
/// view and column.
fn metadata_json(db_name: &str, today: Date, c: &Counts) -> Value {
    let mut tables = Map::new();
    for t in TABLES {
        let mut cols = Map::new();
        for c in t.cols {
            cols.insert(c.name.into(), c.about.into());
        }
        let mut m = json!({ "description": t.about, "columns": cols });
        if let Some(l) = t.label {
            m["label_column"] = l.into();
        }
        if let Some(fts) = FTS.iter().find(|f| f.content == t.name) {
            m["fts_table"] = fts.name.into();
            m["fts_pk"] = "id".into();
        }
        tables.insert(t.name.into(), m);
    }
    for v in VIEWS {
        let cols: Map<String, Value> = v
            .cols
            .iter()
            .map(|(n, a)| ((*n).to_string(), Value::from(*a)))
            .collect();
        let mut m = json!({ "description": v.about, "columns": cols });
        if v.fts {
            m["fts_table"] = "facts_fts".into();
            m["fts_pk"] = "id".into();
        }
        tables.insert(v.name.into(), m);
    }
    for Fts {
        name,
        content,
        cols,
    } in FTS
    {
        let mut all: Map<String, Value> = cols
            .iter()
            .map(|(n, a)| ((*n).to_string(), Value::from(*a)))
            .collect();
        all.insert(
            "rowid".into(),
            format!("The {content} row's id ({content}.id)").into(),
        );
        tables.insert(
            (*name).into(),
            json!({
                "description": format!(
                    "Full-text index of {content} (SQLite FTS5, contents read from {content}); \
                     search it with ?_search= on {content}"
                ),
                "columns": all,
            }),
        );
    }
    let description = format!(
        "A public snapshot of minewatch's record of the Mine Ban Treaty (the Convention on the \
         Prohibition of Anti-Personnel Mines, 1997), exported on {today}: {} facts ever recorded \
         ({} standing), {} sources, {} subjects; record version {} (the newest fact's id). Every \
         fact is a sourced, dated claim; corrections and retractions are kept. status_today and \
         deadlines are derived by minewatch's treaty engine as of {today}. Partial dates stay \
         as the sources give them (2004, 2004-02). Terms: {TERMS}",
        c.facts, c.current, c.sources, c.subjects, c.last_fact
    );
    let mut doc = json!({
        "title": "minewatch: the Mine Ban Treaty record",
        "description": description,
        "license": "See sources (no single licence)",
        "source": "minewatch, an open monitoring platform for the Mine Ban Treaty; each fact \
                   names its own sources",
        "databases": {
            db_name: {
                "description": description,
                "license": "See sources (no single licence)",
                "source": "minewatch record, exported with `minewatch export --format sqlite`",
                "tables": tables,
            }
        }
    });
    // The project's repository (the workspace's `repository`), where the code and data/README.md
    // are; left out if a build has none.
    let url = env!("CARGO_PKG_REPOSITORY");
    if !url.is_empty() {
        doc["source_url"] = url.into();
        doc["databases"][db_name]["source_url"] = url.into();
    }
    doc
}
