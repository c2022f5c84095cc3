//! The shipped dataset (see `data/README.md`), embedded in the binary so `serve` can fill an
//! empty database from any working directory.

use crate::{import_reader, ImportError, Kind, Options, Report};
use minewatch_domain::{Subject, SubjectKind};
use minewatch_store::{Store, StoreError};

/// The reference table of subjects.
pub const SUBJECTS_CSV: &str = include_str!("../../../data/reference/subjects.csv");

/// Embedded files in load order: (importer, name, content).
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "sources",
        "data/curated/sources.csv",
        include_str!("../../../data/curated/sources.csv"),
    ),
    (
        "sources",
        "data/converted/sources.csv",
        include_str!("../../../data/converted/sources.csv"),
    ),
    (
        "facts-csv",
        "data/converted/facts.csv",
        include_str!("../../../data/converted/facts.csv"),
    ),
    (
        "facts-csv",
        "data/curated/facts/seed002_usa.csv",
        include_str!("../../../data/curated/facts/seed002_usa.csv"),
    ),
    (
        "facts-csv",
        "data/curated/facts/conflicts.csv",
        include_str!("../../../data/curated/facts/conflicts.csv"),
    ),
    (
        "facts-csv",
        "data/curated/facts/succession.csv",
        include_str!("../../../data/curated/facts/succession.csv"),
    ),
];

/// Parses the subjects table (`code,alpha2,numeric,name,kind,region,aliases,successors,parent`).
pub fn parse_subjects(text: &str) -> Result<Vec<Subject>, String> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("subjects.csv: {e}"))?;
        let get = |n: usize| {
            rec.get(n)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let list = |n: usize| {
            get(n)
                .map(|s| {
                    s.split('|')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let line = i + 2;
        let code = get(0).ok_or_else(|| format!("subjects.csv:{line}: code: empty"))?;
        let kind_text = get(4).unwrap_or_default();
        let kind = SubjectKind::parse(&kind_text)
            .ok_or_else(|| format!("subjects.csv:{line}: kind: unknown kind {kind_text:?}"))?;
        out.push(Subject {
            code,
            alpha2: get(1),
            numeric: get(2),
            name: get(3).ok_or_else(|| format!("subjects.csv:{line}: name: empty"))?,
            kind,
            region: get(5),
            aliases: list(6),
            successors: list(7),
            parent: get(8),
        });
    }
    Ok(out)
}

/// Why the shipped data could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Subjects(String),
    Store(StoreError),
    File(String, ImportError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Subjects(m) => write!(f, "shipped subjects table: {m}"),
            LoadError::Store(e) => write!(f, "{e}"),
            LoadError::File(name, e) => write!(f, "shipped file {name}: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Adds the reference subjects (always safe: known codes are kept).
pub fn load_subjects(store: &mut Store) -> Result<usize, LoadError> {
    let subjects = parse_subjects(SUBJECTS_CSV).map_err(LoadError::Subjects)?;
    store.add_subjects(&subjects).map_err(LoadError::Store)
}

/// Loads the subjects and every shipped file. Idempotent: loading twice adds nothing.
pub fn load(store: &mut Store) -> Result<Vec<(String, Report)>, LoadError> {
    load_subjects(store)?;
    let opts = Options {
        recorded_by: "minewatch (shipped data)".into(),
        progress: false,
        ..Options::default()
    };
    let mut out = Vec::new();
    for (kind, name, text) in FILES {
        let Some(k) = Kind::by_name(kind) else {
            continue;
        };
        let r = import_reader(store, k, name, text.as_bytes(), text.len() as u64, &opts)
            .map_err(|e| LoadError::File(name.to_string(), e))?;
        out.push((name.to_string(), r));
    }
    Ok(out)
}
