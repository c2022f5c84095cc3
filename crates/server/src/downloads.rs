//! `/downloads`: the SQLite snapshot and the data package of the current record, with their
//! sizes, checksums and record version. They are built on the first request after the record
//! changed (in a folder beside the database, `DB.downloads/v{N}`, kept across restarts), one
//! build at a time; older versions are removed once the new one is in place. Files are served
//! by tower-http's `ServeFile` (ranges, Last-Modified).

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minewatch_export::downloads::{self, Manifest};
use minewatch_web::html::{html, table, Markup, Page};
use minewatch_web::page::{negotiate, run_plain, Fmt, Out, PageError};
use minewatch_web::App;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The built downloads: the folder and manifest of the newest build.
#[derive(Debug, Default)]
pub struct Built(Mutex<Option<(PathBuf, Manifest)>>);

/// The folder that holds the builds of `app`'s database.
fn root(app: &App) -> PathBuf {
    app.files_dir()
}

/// The downloads of the current record, built first if the record changed since the last
/// build. Blocking: call it on the blocking pool.
pub fn current(
    app: &App,
    store: &minewatch_store::Store,
    built: &Built,
) -> Result<(PathBuf, Manifest), PageError> {
    let record = store.last_fact_id()?;
    // One build at a time: a second request waits for the first one's files.
    let mut guard = built
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((dir, m)) = guard.as_ref() {
        if m.record == record && dir.is_dir() {
            return Ok((dir.clone(), m.clone()));
        }
    }
    let root = root(app);
    std::fs::create_dir_all(&root).map_err(|e| internal(format!("{}: {e}", root.display())))?;
    let dir = root.join(format!("v{record}"));
    let manifest_path = root.join(format!("v{record}.json"));
    // A build of this version from an earlier run, complete (its manifest written last).
    let earlier = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<StoredManifest>(&b).ok())
        .filter(|_| dir.is_dir());
    let manifest = match earlier {
        Some(m) => m.into_manifest(),
        None => {
            let _ = std::fs::remove_dir_all(&dir);
            let m = downloads::build(store, &dir).map_err(internal)?;
            let json = serde_json::to_vec(&m).map_err(|e| internal(e.to_string()))?;
            std::fs::write(&manifest_path, json)
                .map_err(|e| internal(format!("{}: {e}", manifest_path.display())))?;
            m
        }
    };
    // Older builds go once this one is in place.
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let keep = name == format!("v{record}") || name == format!("v{record}.json");
            if !keep && name.starts_with('v') {
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
    *guard = Some((dir.clone(), manifest.clone()));
    Ok((dir, manifest))
}

/// The manifest as written to disk (read back after a restart).
#[derive(Debug, serde::Deserialize)]
struct StoredManifest {
    record: i64,
    built: String,
    files: Vec<StoredFile>,
}

#[derive(Debug, serde::Deserialize)]
struct StoredFile {
    name: String,
    bytes: u64,
    sha256: String,
    about: String,
}

impl StoredManifest {
    fn into_manifest(self) -> Manifest {
        Manifest {
            record: self.record,
            built: self.built,
            terms: minewatch_answers::cite::TERMS,
            files: self
                .files
                .into_iter()
                .map(|f| downloads::DownloadFile {
                    media_type: downloads::media_type(&f.name),
                    name: f.name,
                    bytes: f.bytes,
                    sha256: f.sha256,
                    about: f.about,
                })
                .collect(),
        }
    }
}

fn internal(message: String) -> PageError {
    PageError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// A size for people: "4.1 MB", "812 kB", "96 bytes".
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.0} kB", b as f64 / 1e3),
        b => format!("{b} bytes"),
    }
}

/// `GET /downloads` (and `.json`): the files, their sizes and checksums, the record version.
pub async fn page(
    State(app): State<Arc<App>>,
    axum::Extension(built): axum::Extension<Arc<Built>>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let name = uri.path().trim_start_matches('/');
    let (_, fmt) = negotiate(name, &headers);
    if fmt == Fmt::Csv {
        return PageError::new(StatusCode::NOT_FOUND, "no CSV of this page; try .json")
            .respond(Fmt::Html);
    }
    run_plain(app, fmt, move |app, store| {
        let (_, m) = current(app, store, &built)?;
        let rows: Vec<Vec<Markup>> = m
            .files
            .iter()
            .map(|f| {
                vec![
                    html! { a href={ "/downloads/" (f.name) } { (f.name) } },
                    html! { (f.about) },
                    html! { (size(f.bytes)) },
                    html! { code class="sha" { (f.sha256) } },
                ]
            })
            .collect();
        let main = html! {
            h1 { "Downloads" }
            p {
                "The whole public record as files, built from record version " strong { (m.record) }
                " (the newest fact's id) on " time datetime=(m.built) { (m.built) } ". "
                "They are rebuilt when the record changes. Nothing private (accounts, "
                "subscribers, feedback) is in them: they are built from an explicit list of "
                "public columns."
            }
            (table(
                "The files, with their SHA-256 checksums",
                &["File", "What it is", "Size", "SHA-256"],
                &rows
            ))
            h2 { "Terms" }
            p { (m.terms) }
            p {
                "Check a file with " code { "sha256sum" } "; read the snapshot with "
                code { "datasette minewatch.sqlite --metadata minewatch.sqlite.metadata.json" }
                " and the package with " code { "frictionless validate datapackage/datapackage.json" } "."
            }
        };
        let data = serde_json::to_value(&m).map_err(|e| internal(e.to_string()))?;
        Ok(Out {
            page: Page {
                title: "Downloads".into(),
                main,
                json_href: Some("/downloads.json".into()),
                ..Page::default()
            },
            data,
            csv: None,
            name: "downloads".into(),
        })
    })
    .await
}

/// `GET /downloads/{file}`: one of the files of the current build.
pub async fn file(
    State(app): State<Arc<App>>,
    axum::Extension(built): axum::Extension<Arc<Built>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let wanted = name.clone();
    let found = minewatch_web::blocking(app, move |app| {
        app.with_store(|store| {
            current(app, store, &built)
                .map_err(|e| minewatch_web::ApiError::new(e.status, e.message))
        })
    })
    .await;
    let (dir, manifest) = match found {
        Ok(v) => v,
        Err(e) => return PageError::new(e.status, e.message).respond(Fmt::Html),
    };
    // Only a file of the manifest: never a path the request made up.
    let Some(f) = manifest.file(&wanted) else {
        return PageError::new(
            StatusCode::NOT_FOUND,
            format!("no download named {wanted:?}; the files are listed at /downloads"),
        )
        .respond(Fmt::Html);
    };
    let path = wanted.split('/').fold(dir, |p, part| p.join(part));
    let media = f.media_type;
    use tower::ServiceExt;
    match tower_http::services::ServeFile::new(path)
        .oneshot(req)
        .await
    {
        Ok(res) => {
            let mut res = res.map(axum::body::Body::new).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            // Not kept in the page cache (a snapshot can be large); a day's reuse is safe
            // because the address of a newer build's file is the same but its checksum is listed.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            res
        }
        Err(e) => {
            PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).respond(Fmt::Html)
        }
    }
}
