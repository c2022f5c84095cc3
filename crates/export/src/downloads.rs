//! The downloads of the current record (`/downloads`, and `export --site`): the SQLite snapshot
//! with its Datasette metadata and the data package, each file with its size and SHA-256, all
//! built for one record version.

use crate::{datapackage, sqlite};
use minewatch_store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One file of the downloads.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DownloadFile {
    /// The path under `/downloads/` (`minewatch.sqlite`, `datapackage/facts.csv`).
    pub name: String,
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    pub media_type: &'static str,
    pub about: String,
}

/// The downloads of one record version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Manifest {
    /// The record version the files hold (the newest fact's id).
    pub record: i64,
    /// When they were built (UTC, RFC 3339).
    pub built: String,
    pub terms: &'static str,
    pub files: Vec<DownloadFile>,
}

impl Manifest {
    /// The file named `name`, if it is one of the downloads.
    pub fn file(&self, name: &str) -> Option<&DownloadFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// Builds every download of the record into `dir`, which must not exist (its parent must). On
/// failure the folder is removed: a download is whole or absent.
pub fn build(store: &Store, dir: &Path) -> Result<Manifest, String> {
    let record = store.last_fact_id().map_err(|e| e.to_string())?;
    std::fs::create_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let built = (|| -> Result<Manifest, String> {
        sqlite::export(
            store,
            &dir.join("minewatch.sqlite"),
            Some(&dir.join("minewatch.sqlite.metadata.json")),
        )
        .map_err(|e| format!("the SQLite snapshot: {e}"))?;
        datapackage::export(store, &dir.join("datapackage"))
            .map_err(|e| format!("the data package: {e}"))?;
        let mut files = Vec::new();
        for path in files_under(dir)? {
            let name = path
                .strip_prefix(dir)
                .map_err(|e| e.to_string())?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let (bytes, sha256) = size_and_sha256(&path)?;
            files.push(DownloadFile {
                media_type: media_type(&name),
                about: about(&name),
                name,
                bytes,
                sha256,
            });
        }
        Ok(Manifest {
            record,
            built: minewatch_store::now_rfc3339(),
            terms: minewatch_answers::cite::TERMS,
            files,
        })
    })();
    if built.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    built
}

/// Every file under `dir`, sorted: the snapshot first, then the package's files.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let p = e.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort_by_key(|p| (p.components().count(), p.clone()));
    Ok(out)
}

fn size_and_sha256(path: &Path) -> Result<(u64, String), String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((n, hex))
}

/// The media type a download is served with.
pub fn media_type(name: &str) -> &'static str {
    if name.ends_with(".sqlite") {
        "application/vnd.sqlite3"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

fn about(name: &str) -> String {
    match name {
        "minewatch.sqlite" => {
            "The public record as one SQLite database: facts with their history, sources, \
             citations, subjects, meetings, today's status and deadlines, views and full-text \
             search. Open it with Datasette (with the metadata file) or any SQLite tool."
                .into()
        }
        "minewatch.sqlite.metadata.json" => {
            "Datasette metadata for the snapshot: title, terms, and every table and column \
             described (datasette minewatch.sqlite --metadata minewatch.sqlite.metadata.json)."
                .into()
        }
        "datapackage/datapackage.json" => {
            "The Frictionless Data Package descriptor: a Table Schema for every CSV file, keys \
             between them, the sources' terms (frictionless validate datapackage.json)."
                .into()
        }
        n => match n.strip_prefix("datapackage/hxl/") {
            Some(f) => format!("{f} with an HXL hashtag row under the header (HXL tools)."),
            None => match n.strip_prefix("datapackage/") {
                Some(f) => format!("The {} table as CSV.", f.trim_end_matches(".csv")),
                None => String::new(),
            },
        },
    }
}
