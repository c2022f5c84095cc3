//! `minewatch export --format datapackage --out DIR`: the public record as CSV files with a
//! Frictionless Data Package descriptor (`datapackage.json`, a Table Schema per file), so that
//! `frictionless validate DIR/datapackage.json` and any Data Package reader can use it.
//!
//! The files are the public snapshot's tables ([`crate::sqlite`], built from its explicit
//! list of public columns), one CSV each; each schema comes from the same list: a column's type
//! from its declaration, `required` from `NOT NULL`, primary and foreign keys from `PRIMARY KEY`
//! and `REFERENCES`, the description from the column's text. Partial dates (`2004`, `2004-02`)
//! are strings with a pattern, not broken dates; JSON lists and payloads are `array` and
//! `object`; 0/1 flags are booleans.
//!
//! Writing is all or nothing: DIR must not exist; the package is built in a temporary folder
//! beside it and renamed into place at the end.

use crate::sqlite::{write_snapshot, Table, TABLES, TERMS};
use minewatch_store::Store;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// What `minewatch export --help` says about the datapackage format.
pub const HELP: &str =
    "--format datapackage --out DIR writes the same public tables as CSV files with a
Frictionless Data Package descriptor (DIR/datapackage.json: a Table Schema per file, partial
dates as strings with a pattern, keys between the files, the sources' terms) and, in DIR/hxl/,
the same files with an HXL hashtag row under the header; DIR must not exist.
Check it with: frictionless validate DIR/datapackage.json";

/// Columns holding a date that may be partial (`2004`, `2004-02`, `2004-02-13`).
const PARTIAL_DATES: [&str; 8] = [
    "valid_from",
    "valid_to",
    "published",
    "start_date",
    "end_date",
    "signed",
    "deposited",
    "withdrawal_notified",
];
/// Columns holding a whole calendar date.
const DATES: [&str; 8] = [
    "as_of",
    "due",
    "entry_into_force",
    "withdrawal_effective",
    "art4_deadline",
    "art5_deadline",
    "art5_original_deadline",
    "art7_initial_deadline",
];
/// Columns holding a JSON list, and JSON objects.
const ARRAYS: [&str; 4] = ["aliases", "successors", "findings", "reasons"];
const OBJECTS: [&str; 1] = ["payload"];
/// 0/1 columns.
const FLAGS: [&str; 4] = ["bound", "withdrawal_deferred", "passed", "overdue"];

/// What an export wrote.
#[derive(Debug)]
pub struct Written {
    pub files: usize,
    pub rows: usize,
    pub bytes: u64,
}

/// Writes the package into `dir` (which must not exist yet; its parent must).
pub fn export(store: &Store, dir: &Path) -> Res<Written> {
    if dir.symlink_metadata().is_ok() {
        return Err(format!(
            "{}: already exists; export --format datapackage writes a new folder and replaces \
             nothing (remove it, or choose another --out)",
            dir.display()
        )
        .into());
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "{}: the folder {} does not exist",
            dir.display(),
            parent.display()
        )
        .into());
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: not a folder name", dir.display()))?;
    let tmp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp)?;
    /// Removes the temporary folder unless the package was moved into place.
    struct Cleanup(Option<PathBuf>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Some(p) = self.0.take() {
                let _ = std::fs::remove_dir_all(p);
            }
        }
    }
    let mut cleanup = Cleanup(Some(tmp.clone()));
    let written = write_package(store, &tmp)?;
    std::fs::rename(&tmp, dir)?;
    cleanup.0 = None;
    Ok(written)
}

fn write_package(store: &Store, dir: &Path) -> Res<Written> {
    let db = dir.join(".snapshot.sqlite");
    let (_, today) = write_snapshot(store, &db)?;
    let conn = rusqlite::Connection::open(&db)?;
    let mut resources = Vec::new();
    let mut written = Written {
        files: 0,
        rows: 0,
        bytes: 0,
    };
    for t in TABLES {
        let file = format!("{}.csv", t.name);
        let path = dir.join(&file);
        let names: Vec<&str> = t.cols.iter().map(|c| c.name).collect();
        let mut w = csv::Writer::from_path(&path)?;
        w.write_record(&names)?;
        // The same file with the HXL hashtag row under its header, for HXL tools (not a
        // resource of the package: a second header row is not data). Written row by row beside
        // the plain file, so a table of a million rows is never held in memory.
        std::fs::create_dir_all(dir.join("hxl"))?;
        let hxl = dir.join("hxl").join(&file);
        let mut h = csv::Writer::from_path(&hxl)?;
        h.write_record(&names)?;
        h.write_record(minewatch_answers::hxl::row(names.iter().copied()))?;
        let sql = format!(
            "SELECT {} FROM {} ORDER BY rowid",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", "),
            t.name
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                let v: rusqlite::types::Value = row.get(i)?;
                cells.push(match v {
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Real(x) => x.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    rusqlite::types::Value::Blob(_) => {
                        return Err(format!("{}: unexpected binary value", t.name).into())
                    }
                });
            }
            w.write_record(&cells)?;
            h.write_record(&cells)?;
            written.rows += 1;
        }
        w.flush()?;
        drop(w);
        h.flush()?;
        drop(h);
        written.files += 2;
        written.bytes += std::fs::metadata(&path)?.len() + std::fs::metadata(&hxl)?.len();
        resources.push(resource(t, &file));
    }
    drop(conn);
    std::fs::remove_file(&db)?;
    let package = json!({
        "profile": "tabular-data-package",
        "name": "minewatch-record",
        "title": "minewatch: the public record of the Mine Ban Treaty",
        "description": format!(
            "The public record kept by minewatch (the Convention on the Prohibition of \
             Anti-Personnel Mines, 1997), exported on {today}: every sourced, dated fact ever \
             recorded (corrections and retractions kept), the sources, the subjects, the \
             citations, the treaty's meetings, and the status and deadlines the treaty engine \
             derives for {today}. The folder hxl/ holds the same files with an HXL hashtag \
             row under each header. {TERMS}"
        ),
        "created": minewatch_store::now_rfc3339(),
        "licenses": [
            {
                "name": "ODbL-1.0",
                "path": "https://opendatacommons.org/licenses/odbl/1-0/",
                "title": "Regions and alternative names: world-countries by Mohammed Le Doze"
            },
            {
                "name": "LGPL-2.1-or-later",
                "path": "https://spdx.org/licenses/LGPL-2.1-or-later.html",
                "title": "ISO 3166 codes and names: Debian iso-codes"
            },
            {
                "name": "CC0-1.0",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/",
                "title": "UN General Assembly votes: Erik Voeten, UN General Assembly Voting Data (Harvard Dataverse)"
            },
            {
                "path": "https://digitallibrary.un.org",
                "title": "UN General Assembly votes of 2008 and 2020-2024: United Nations Dag Hammarskjöld Library, General Assembly Voting Data; non-commercial use, with attribution"
            }
        ],
        "sources": [
            { "title": "The sources table of this package: every fact cites one or more of them", "path": "sources.csv" },
            { "title": "Erik Voeten, United Nations General Assembly Voting Data", "path": "https://hdl.handle.net/1902.1/12379" },
            { "title": "United Nations Dag Hammarskjöld Library, General Assembly Voting Data", "path": "https://digitallibrary.un.org" }
        ],
        "resources": resources,
    });
    let path = dir.join("datapackage.json");
    std::fs::write(&path, serde_json::to_string_pretty(&package)? + "\n")?;
    written.files += 1;
    written.bytes += std::fs::metadata(&path)?.len();
    Ok(written)
}

/// A Data Resource for one table: its file, and the Table Schema read from its columns.
fn resource(t: &Table, file: &str) -> Value {
    let mut fields = Vec::new();
    let mut primary: Vec<String> = Vec::new();
    let mut foreign = Vec::new();
    for c in t.cols {
        let decl = c.decl.to_ascii_uppercase();
        let mut f = Map::new();
        f.insert("name".into(), c.name.into());
        f.insert("description".into(), c.about.into());
        let mut constraints = Map::new();
        if FLAGS.contains(&c.name) {
            f.insert("type".into(), "boolean".into());
            f.insert("trueValues".into(), json!(["1"]));
            f.insert("falseValues".into(), json!(["0"]));
        } else if decl.starts_with("INTEGER") {
            f.insert("type".into(), "integer".into());
        } else if decl.starts_with("REAL") {
            f.insert("type".into(), "number".into());
        } else if PARTIAL_DATES.contains(&c.name) {
            f.insert("type".into(), "string".into());
            f.insert(
                "description".into(),
                format!(
                    "{} (a year, a month or a day: YYYY, YYYY-MM or YYYY-MM-DD)",
                    c.about
                )
                .into(),
            );
            constraints.insert("pattern".into(), "[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?".into());
        } else if DATES.contains(&c.name) {
            f.insert("type".into(), "date".into());
        } else if c.name == "recorded_at" {
            f.insert("type".into(), "datetime".into());
        } else if ARRAYS.contains(&c.name) {
            f.insert("type".into(), "array".into());
        } else if OBJECTS.contains(&c.name) {
            f.insert("type".into(), "object".into());
        } else {
            f.insert("type".into(), "string".into());
        }
        if decl.contains("NOT NULL") || decl.contains("PRIMARY KEY") {
            constraints.insert("required".into(), true.into());
        }
        if decl.contains("UNIQUE") {
            constraints.insert("unique".into(), true.into());
        }
        if decl.contains("PRIMARY KEY") {
            primary.push(c.name.into());
        }
        if let Some((table, column)) = references(c.decl) {
            foreign.push(json!({
                "fields": c.name,
                "reference": {
                    "resource": if table == t.name { "" } else { table },
                    "fields": column,
                }
            }));
        }
        if !constraints.is_empty() {
            f.insert("constraints".into(), constraints.into());
        }
        fields.push(Value::Object(f));
    }
    // A compound key (`PRIMARY KEY (fact_id, position)`).
    if let Some(cols) = t
        .constraints
        .trim()
        .strip_prefix("PRIMARY KEY")
        .map(|r| r.trim().trim_start_matches('(').trim_end_matches(')'))
    {
        primary = cols.split(',').map(|c| c.trim().to_string()).collect();
    }
    let mut schema = json!({ "fields": fields, "missingValues": [""] });
    if !primary.is_empty() {
        schema["primaryKey"] = if primary.len() == 1 {
            Value::from(primary[0].clone())
        } else {
            json!(primary)
        };
    }
    if !foreign.is_empty() {
        schema["foreignKeys"] = json!(foreign);
    }
    json!({
        "name": t.name,
        "path": file,
        "profile": "tabular-data-resource",
        "description": t.about,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    })
}

/// `REFERENCES table(column)` in a column declaration.
fn references(decl: &str) -> Option<(&str, &str)> {
    let rest = decl.split_once("REFERENCES")?.1.trim();
    let (table, rest) = rest.split_once('(')?;
    let column = rest.split_once(')')?.0;
    Some((table.trim(), column.trim()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_from_declarations() {
        assert_eq!(
            references("TEXT NOT NULL REFERENCES subjects(code)"),
            Some(("subjects", "code"))
        );
        assert_eq!(references("TEXT NOT NULL"), None);
    }
}
