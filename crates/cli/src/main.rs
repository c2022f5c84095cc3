//! The `minewatch` command: serve the record, import files, read facts, export.

use clap::{Parser, Subcommand, ValueEnum};
use minewatch_answers::derived;
use minewatch_domain::{Date, FactKind};
use minewatch_import::{shipped, Kind, Options, KINDS};
use minewatch_store::{FactFilter, Location, Store};
use minewatch_treaty::Basis;
use std::io::Write;

mod report;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const IMPORT_HELP: &str = "Import kinds (the file's columns must match):
  sources           minewatch sources: key,title,publisher,published,url,note
  facts-csv         minewatch facts: key,subject,kind,valid_from,valid_to,payload,sources,note
  facts-json        minewatch JSON document {\"sources\": [...], \"facts\": [...]}
  parties           treaty/parties.csv
  treaty-actions    treaty/actions_sample.csv
  art5-extensions   treaty/art5_extensions_sample.csv
  meetings          treaty/meetings.csv (import before the Art. 5 files)
  art5-events       treaty/art5_events.csv (meetings must be recorded)
  art4-events       treaty/art4_events.csv
  art5-status       impact/art5_status.csv (meetings must be recorded)
  art4-status       impact/art4_status.csv
  armed-conflict    treaty/armed_conflict_sample.csv
  unga-roll-calls   unga/roll_calls.csv
  unga-votes        unga/votes.csv (after its roll calls)
  unga-undl         the UN Digital Library's General Assembly voting data (see below)
  us-policies       policies/us_policies.csv
  us-events         policies/us_events.csv
  us-stockpile      policies/us_stockpile_2002.csv
  headline-figures  monitor/headline_figures.csv
  stockpiles        monitor/stockpiles.csv
  casualties        impact/casualties_by_country.csv: casualty figures keyed by data year
                    and report edition (a revision is a second fact, never a replacement)
  mine-use          impact/mine_use.csv: new use by edition and actor (state, NSAG,
                    unattributed) in the Monitor's words; an armed group's use is not the state's
  art7-reporting    impact/art7_reporting.csv: Art. 7 reports submitted or recorded as not
                    submitted; treaty-wide rates kept as the source's words

The whole file is checked first; every problem is reported as
file:line:column: field: what was wrong, what was expected
and nothing is written unless the whole file is good. Re-importing the same file
adds nothing; a changed row supersedes the fact it recorded before.

unga-undl reads the UN Dag Hammarskjöld Library's \"General Assembly Voting Data\"
(one row per Member State and vote; the full file or an extract). Columns are found
by name: undl_id, ms_code, ms_vote (Y, N, A, or X = non-voting), date, session,
resolution, title, total_yes, total_no, total_abstentions, total_non_voting and
total_ms are required; ms_name and undl_link are read when present; others are
ignored. The file is read record by record; only the kept roll calls are held.
Kept: with --resolutions 63/42,78/45 exactly those resolutions (A/RES/78/45 is
also accepted; each must be in the file); without it, every roll call that has a
resolution number and whose title contains \"anti-personnel mines\", compared
ignoring case, with any run of spaces, hyphens or other punctuation counted as one
space and \"antipersonnel\" accepted (the Library writes \"Anti-personnel Mines\",
\"Anti-Personnel Mines\" and \"Anti Personnel Mines\"), as the titles of the
resolutions on the Convention on the Prohibition of the Use, Stockpiling,
Production and Transfer of Anti-personnel Mines and on Their Destruction do.
Roll calls without a resolution number (votes on paragraphs or amendments) are
not kept by this rule.
Every row of a kept roll call is checked (vote, Member State code, date, numbers,
agreement with the roll call's other rows) and its rows counted by vote must equal
total_yes, total_no, total_abstentions and total_non_voting, and their number
total_ms. Rows of other roll calls are only read as CSV. Each roll call becomes an
unga_roll_call fact (subject WLD, key unga-roll-call:undl-UNDL_ID) and each row an
unga_vote (key unga-vote:undl-UNDL_ID:CODE), citing --source KEY or, by default,
undl-ga-voting-data (\"General Assembly Voting Data\", recorded when missing).";

const SERVE_HELP: &str =
    "Public pages: / (map), /states, /states/{code} (?as_of=DATE, ?record=FACT),
/states/{code}/{casualties,use,transparency}.{json,csv} (a profile section's twins),
/facts/{id}, /unga, /deadlines, /article5, /meetings, /meetings/{code}, /casualties, /use, /policies,
/classify, /sources, /search, /feed.atom, /downloads (the snapshot and data package of the
record, built beside the database in DB.downloads/ when the record changes),
/subscribe, /feedback; the API under /api/v1 (described at /api/v1/openapi.json, OpenAPI 3.1).
Every public page ends with \"Cite this page\" (a permalink pinned with ?record=N, BibTeX, CSL-JSON).
Editors: /login, /desk (proposals, four eyes), /admin (outbox, feedback, webhooks; admins).
Accounts: `minewatch user add NAME --role editor|admin`.

Notifications wait in the outbox until --smtp names a relay; --public-url is the address
used in their links.";

const MIGRATE_HELP: &str = "Everything is copied with its ids, in one transaction on the target: \
either the whole record arrives or nothing does. The target must be empty (a new SQLite file, \
or a PostgreSQL database with no minewatch rows); a target that holds anything is refused. \
Stop the servers writing to the source first. Afterwards `minewatch export --format json` \
prints the same document for both.

Example: minewatch migrate --from sqlite:minewatch.sqlite --to postgres://minewatch@localhost/minewatch";

const ENV_HELP: &str = "Environment: MINEWATCH_DB (the database when --db is not given);
MINEWATCH_NOW=YYYY-MM-DD[THH:MM:SSZ] stops the clock at that instant (record time, \"today\",
sessions), for reproducible exports and tests.";

/// minewatch: an open monitoring platform for the Mine Ban Treaty.
///
/// Every fact is a sourced, dated claim in an append-only record; status, deadlines and
/// findings are derived from it.
#[derive(Debug, Parser)]
#[command(name = "minewatch", version, about, long_about = None, after_help = ENV_HELP)]
struct Cli {
    /// The record: an SQLite file (PATH or sqlite:PATH), or a PostgreSQL database
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DB). serve, load, import, user and webhook create
    /// the file (not its folder) or the tables; the other commands read an existing record.
    /// Default: $MINEWATCH_DB or ./minewatch.sqlite
    #[arg(long, global = true, value_name = "PATH|URL")]
    db: Option<std::ffi::OsString>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and the JSON API (loads the shipped dataset into an empty database first)
    #[command(after_help = SERVE_HELP)]
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        bind: String,
        /// The address readers use, for links in e-mails and webhooks; https://... also marks
        /// session cookies Secure (default: http:// and the bound address)
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// SMTP relay for notifications: smtp://host:port, smtp://host:port?tls=required or
        /// smtps://host (without it, e-mail waits in the outbox)
        #[arg(long, value_name = "URL", env = "MINEWATCH_SMTP")]
        smtp: Option<String>,
        /// Sender of every message
        #[arg(
            long,
            value_name = "MAILBOX",
            default_value = "minewatch <minewatch@localhost>"
        )]
        mail_from: String,
        /// First retry delay of a failed delivery (ms); it doubles with each attempt
        #[arg(long, value_name = "MS", default_value_t = 30_000)]
        retry_base_ms: u64,
        /// Attempts before a message goes to the dead-letter list
        #[arg(long, value_name = "N", default_value_t = 12)]
        max_attempts: i64,
        /// How often the outbox is checked when nothing wakes it (ms)
        #[arg(long, value_name = "MS", default_value_t = 5_000)]
        outbox_poll_ms: u64,
        /// Take the client address from the last X-Forwarded-For entry, the one the proxy added (only behind a reverse proxy)
        #[arg(long)]
        trust_proxy: bool,
        /// Seconds a client has to send a request's line and headers, counted from when the server
        /// waits for it (a new connection, or an idle keep-alive one); then the connection is closed
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        header_timeout: u64,
        /// Seconds a request body may pause before the request fails
        #[arg(long, value_name = "SECS", default_value_t = 30)]
        body_timeout: u64,
        /// Open connections at once; more are answered 503 (Retry-After) and closed. Keep it
        /// below the process's file-descriptor limit (ulimit -n)
        #[arg(long, value_name = "N", default_value_t = 768)]
        max_connections: usize,
        /// Requests answered at once; more are answered 503 with Retry-After
        #[arg(long, value_name = "N", default_value_t = 256)]
        max_in_flight: usize,
    },
    /// Accounts of editors and administrators (readers need none)
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Webhooks: machines notified (JSON, signed) when a profile changes
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// The outbox of notifications: counts, and the dead-letter list
    Outbox {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Import a file into the record (see the kinds below)
    #[command(after_help = IMPORT_HELP)]
    Import {
        /// What the file is
        #[arg(value_parser = KINDS.iter().map(|k| k.name).collect::<Vec<_>>())]
        kind: String,
        /// The file to import
        file: PathBuf,
        /// Check the whole file and report what would change; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Source key to cite for rows that carry no source (e.g. the UN votes files;
        /// unga-undl: default undl-ga-voting-data)
        #[arg(long, value_name = "KEY")]
        source: Option<String>,
        /// unga-undl only: keep exactly these resolutions (comma-separated, e.g. 63/42,78/45)
        /// instead of those whose title contains "anti-personnel mines"
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        resolutions: Option<Vec<String>>,
        /// Who records the facts (kept in the record)
        #[arg(long, default_value = "cli", value_name = "NAME")]
        by: String,
        /// Print the summary as JSON (file, rows, dry_run, facts and sources added, superseded,
        /// unchanged)
        #[arg(long)]
        json: bool,
    },
    /// Load the shipped dataset (also done by `serve` on an empty database)
    Load,
    /// Show the facts recorded about a state or area
    Facts {
        /// A name or an ISO 3166 code ("United States", "usa", "US")
        state: String,
        /// Only facts that had begun by this date and were published by then (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Only facts of this kind (treaty_action, unga_vote, stockpile_count, ...)
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Print JSON (the same shape as the API)
        #[arg(long)]
        json: bool,
    },
    /// List the sources
    Sources {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// A state's treaty status on a date, with deadlines, obligations, findings and reasons
    Status {
        /// A name or an ISO 3166 code ("United States", "usa", "US")
        state: String,
        /// The date (YYYY-MM-DD); default today
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Print JSON (the same shape as GET /api/v1/states/{code}/status)
        #[arg(long)]
        json: bool,
    },
    /// The States Parties on a date, on a stated basis
    Parties {
        /// The date (YYYY-MM-DD); default today
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// eif: the treaty is in force for the state (legally bound);
        /// deposit: its instrument is deposited (as campaigners count)
        #[arg(long, value_enum, default_value = "eif")]
        basis: BasisArg,
        /// Print JSON (the same shape as GET /api/v1/parties)
        #[arg(long)]
        json: bool,
    },
    /// Article 4, 5 and 7 deadlines and their state on a date
    Deadlines {
        /// The date (YYYY-MM-DD); default today
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Only this state's deadlines (a name or an ISO 3166 code)
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only deadlines passed with a recorded failure standing
        #[arg(long)]
        overdue: bool,
        /// Print JSON (the same shape as GET /api/v1/deadlines)
        #[arg(long)]
        json: bool,
    },
    /// Classify a device (a JSON file) under the Mine Ban Treaty, CCW Amended Protocol II, the
    /// policies in force and alternative definitions
    Classify {
        /// The device description: {"target": "person", "activation": "tripwire", "delivery": {"mode": "hand_emplaced"}, ...}
        device: PathBuf,
        /// An alternative definition file to apply as well (repeatable); the shipped ones always apply
        #[arg(long, value_name = "FILE")]
        definition: Vec<PathBuf>,
        /// The date for the policies in force (YYYY-MM-DD); default today
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Print JSON (the same shape as POST /api/v1/classify)
        #[arg(long)]
        json: bool,
    },
    /// National policy instruments: list them, or compare two
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Copy a whole record (history, accounts, subscribers, outbox, feedback) into an empty
    /// database, e.g. from the SQLite file to PostgreSQL, or back
    #[command(after_help = MIGRATE_HELP)]
    Migrate {
        /// The record to copy: PATH, sqlite:PATH or postgres://... (read, not changed)
        #[arg(long, value_name = "PATH|URL")]
        from: std::ffi::OsString,
        /// The empty database to copy into: PATH, sqlite:PATH or postgres://...
        #[arg(long, value_name = "PATH|URL")]
        to: std::ffi::OsString,
        /// Print the rows copied per table as JSON on standard output
        #[arg(long)]
        json: bool,
    },
    /// Export the current facts and sources in minewatch's own format, a public SQLite snapshot
    /// for Datasette (--format sqlite), a Frictionless Data Package (--format datapackage), or
    /// the whole public site as static files (--site DIR)
    #[command(after_help = format!("{}\n\n{}", minewatch_export::sqlite::HELP, minewatch_export::datapackage::HELP))]
    Export {
        /// csv or json: the record in minewatch's import formats; sqlite: a public SQLite
        /// snapshot with full-text search and a Datasette metadata file; datapackage: the same
        /// tables as CSV with datapackage.json (see below)
        #[arg(
            long,
            value_enum,
            required_unless_present = "site",
            conflicts_with = "site"
        )]
        format: Option<Format>,
        /// Write every public page (HTML, JSON twins, CSV, Atom feeds, stylesheet) under DIR
        #[arg(long, value_name = "DIR")]
        site: Option<PathBuf>,
        /// csv: a directory (sources.csv and facts.csv are written in it);
        /// json: a file (default: standard output); sqlite: a new file (required);
        /// datapackage: a new folder (required)
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// sqlite: where the Datasette metadata goes (default: the --out file + .metadata.json)
        #[arg(long, value_name = "PATH", conflicts_with = "site")]
        metadata: Option<PathBuf>,
        /// Print what was written as JSON on standard output (not with --format json without
        /// --out, whose document goes there)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// List the policy instruments in the record
    List {
        /// Print JSON (the same shape as GET /api/v1/policies)
        #[arg(long)]
        json: bool,
    },
    /// What changed from one policy to another, activity by activity (Art. 1)
    Diff {
        /// The earlier policy's id (e.g. us-2014-06-obama; `minewatch policy list` shows them)
        from: String,
        /// The later policy's id (e.g. us-2020-01-trump)
        to: String,
        /// Print JSON (the same shape as GET /api/v1/policies/{a}/diff/{b})
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from standard input (one line), or made up and
    /// printed when standard input is a terminal or empty
    Add {
        username: String,
        #[arg(long, value_enum, default_value = "editor")]
        role: RoleArg,
    },
    /// Disable an account (ends its sessions and API tokens)
    Disable { username: String },
    /// Enable a disabled account
    Enable { username: String },
    /// Set a new password (read from standard input, or made up and printed); ends all sessions
    Reset { username: String },
    /// List the accounts
    List {
        /// Print JSON: username, role, disabled
        #[arg(long)]
        json: bool,
    },
    /// Make an API token for an account (printed once: use it as `Authorization: Bearer TOKEN`)
    Token {
        username: String,
        #[arg(long, default_value = "api")]
        label: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Editor,
    Admin,
}

#[derive(Debug, Subcommand)]
enum WebhookCommand {
    /// Register a webhook; prints its signing secret once
    Add {
        url: String,
        /// A state's code or name, or * for every change
        #[arg(long, default_value = "*")]
        scope: String,
    },
    /// List the webhooks
    List {
        /// Print JSON: id, url, scope, disabled (never the signing secret)
        #[arg(long)]
        json: bool,
    },
    /// Stop calling a webhook
    Disable { id: i64 },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BasisArg {
    Eif,
    Deposit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
    Sqlite,
    Datapackage,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = minewatch_store::clock_override() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `minewatch deadlines | head`: the reader left; that is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res = Result<(), Box<dyn std::error::Error>>;

fn db_location(cli: &Option<std::ffi::OsString>) -> Location {
    let given = cli
        .clone()
        .or_else(|| std::env::var_os("MINEWATCH_DB"))
        .unwrap_or_else(|| "minewatch.sqlite".into());
    Location::parse(&given)
}

/// How long a command waits for another process's write (a server approving a large import, say)
/// before it gives up: 100 ms per turn.
const WAIT_TURNS: i32 = 6_000;

/// SQLite calls this while another connection holds the write lock: the first time it says so,
/// then it waits its turn (up to ten minutes) instead of failing with "database is locked".
fn wait_for_writer(turn: i32) -> bool {
    if turn == 0 {
        eprintln!(
            "minewatch: another process is writing to the database; waiting for it to finish..."
        );
    }
    if turn >= WAIT_TURNS {
        eprintln!("minewatch: the database stayed locked for ten minutes; giving up");
        return false;
    }
    std::thread::sleep(std::time::Duration::from_millis(if turn < 10 {
        10
    } else {
        100
    }));
    true
}

/// Opens the database for a command that creates it when missing (`serve`, `load`, `import`,
/// `user`, `webhook`): the file is created, but not the folder it is in, so a mistyped `--db`
/// folder is an error instead of a new empty record.
fn open(db: &Location) -> Result<Store, Box<dyn std::error::Error>> {
    if let Some(dir) = db
        .path()
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
    {
        if !dir.is_dir() {
            return Err(format!(
                "{db}: the folder {} does not exist; check --db (or $MINEWATCH_DB), or create the \
                 folder first",
                dir.display()
            )
            .into());
        }
    }
    open_store(db)
}

/// Opens the database for a command that only reads it: a missing file is an error that says
/// how a database is made, never a new empty record answering "0 States Parties".
fn open_existing(db: &Location) -> Result<Store, Box<dyn std::error::Error>> {
    let missing = || {
        format!(
            "{db}: no such database; check --db (or $MINEWATCH_DB), or make one with `minewatch \
             load` (the shipped dataset) or `minewatch serve`"
        )
    };
    match db {
        Location::Sqlite(path) if !path.is_file() => Err(missing().into()),
        Location::Sqlite(_) => open_store(db),
        Location::Postgres(_) => {
            // A PostgreSQL database exists once its server does; an empty one (no record yet)
            // is refused as a missing file is.
            let store = open_store(db)?;
            if store.fact_count()? == 0 {
                return Err(missing().into());
            }
            Ok(store)
        }
    }
}

fn open_store(db: &Location) -> Result<Store, Box<dyn std::error::Error>> {
    let mut store = Store::open_at(db).map_err(|e| format!("{db}: {e}"))?;
    store.set_busy_handler(wait_for_writer)?;
    shipped::load_subjects(&mut store)?;
    Ok(store)
}

fn load_shipped(store: &mut Store) -> Res {
    let t = std::time::Instant::now();
    let reports = shipped::load(store)?;
    let added: u64 = reports.iter().map(|(_, r)| r.stats.facts_added).sum();
    eprintln!(
        "loaded the shipped dataset: {added} facts from {} files in {:.2} s",
        reports.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run(cli: Cli) -> Res {
    let db = db_location(&cli.db);
    match cli.command {
        Command::Serve {
            bind,
            public_url,
            smtp,
            mail_from,
            retry_base_ms,
            max_attempts,
            outbox_poll_ms,
            trust_proxy,
            header_timeout,
            body_timeout,
            max_connections,
            max_in_flight,
        } => {
            let mut store = open(&db)?;
            if store.fact_count()? == 0 {
                load_shipped(&mut store)?;
            }
            drop(store);
            // The access log (one line per request) goes to standard error.
            let _ = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
                .with_ansi(false)
                .with_target(false)
                .try_init();
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&bind)
                    .await
                    .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
                let addr = listener.local_addr()?;
                let settings = minewatch_server::Settings {
                    // Without --public-url, links name the address actually bound (the port
                    // the system chose for `:0`).
                    public_url: public_url.unwrap_or_else(|| format!("http://{addr}")),
                    smtp,
                    mail_from,
                    retry_base_ms,
                    max_attempts: max_attempts.max(1),
                    poll_ms: outbox_poll_ms,
                    trust_proxy,
                    limits: minewatch_server::Limits {
                        header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
                        body_timeout: std::time::Duration::from_secs(body_timeout.max(1)),
                        max_connections,
                        max_in_flight,
                    },
                    ..minewatch_server::Settings::default()
                };
                let app = minewatch_server::App::with_settings(db.clone(), settings)?;
                eprintln!("minewatch serving {db} on http://{addr}");
                minewatch_server::serve(listener, app).await?;
                Ok::<(), Box<dyn std::error::Error>>(())
            })
        }
        Command::User { command } => user_command(&db, command),
        Command::Webhook { command } => webhook_command(&db, command),
        Command::Migrate { from, to, json } => migrate(&from, &to, json),
        Command::Outbox { json } => {
            let store = open_existing(&db)?;
            let counts = store.outbox_counts()?;
            let dead = store.outbox("dead", 1000)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"counts": counts, "dead": dead})
                    )?
                );
            } else {
                println!(
                    "{} pending, {} sent, {} dead, {} dropped",
                    counts.pending, counts.sent, counts.dead, counts.dropped
                );
                for d in dead {
                    println!(
                        "dead {} {} {} after {} attempts: {}",
                        d.id,
                        d.ikey,
                        d.channel,
                        d.attempts,
                        d.last_error.unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Import {
            kind,
            file,
            dry_run,
            source,
            resolutions,
            by,
            json,
        } => {
            let kind =
                Kind::by_name(&kind).ok_or_else(|| format!("unknown import kind {kind:?}"))?;
            if resolutions.is_some() && kind.name != minewatch_import::undl::NAME {
                return Err(format!(
                    "--resolutions is for {} only; {} imports every row",
                    minewatch_import::undl::NAME,
                    kind.name
                )
                .into());
            }
            let mut store = open(&db)?;
            let opts = Options {
                dry_run,
                recorded_by: by,
                default_source: source,
                resolutions,
                ..Options::default()
            };
            let report = minewatch_import::import_file(&mut store, kind, &file, &opts)?;
            if json {
                return print_json(&ImportSummary {
                    file: file.display().to_string(),
                    kind: kind.name,
                    report: &report,
                });
            }
            println!("{}: {report}", file.display());
            Ok(())
        }
        Command::Load => {
            let mut store = open(&db)?;
            load_shipped(&mut store)
        }
        Command::Facts {
            state,
            as_of,
            kind,
            json,
        } => {
            let store = open_existing(&db)?;
            let g = store.gazetteer()?;
            let subject = g.resolve(&state)?.clone();
            let as_of = as_of
                .map(|s| Date::parse(&s).map_err(|e| format!("--as-of: {e}")))
                .transpose()?;
            let kind = kind
                .map(|k| {
                    FactKind::parse(&k).ok_or_else(|| {
                        format!(
                            "--kind: unknown kind {k:?}; expected one of: {}",
                            FactKind::expected()
                        )
                    })
                })
                .transpose()?;
            let facts = store.facts(&FactFilter {
                subject: Some(subject.code.clone()),
                kind,
                as_of,
                recorded_by_time: None,
                up_to_fact: None,
                except_kinds: &[],
            })?;
            let mut out = std::io::stdout().lock();
            if json {
                let v = minewatch_answers::json::SubjectFacts {
                    state: minewatch_answers::json::SubjectRef {
                        code: subject.code.clone(),
                        name: subject.name.clone(),
                    },
                    as_of: as_of.map(|d| d.to_string()),
                    kind: kind.map(|k| k.as_str()),
                    count: facts.len(),
                    facts: minewatch_answers::json::facts_with_sources(&store, &facts)?,
                };
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                writeln!(
                    out,
                    "{} ({}): {} facts{}",
                    subject.name,
                    subject.code,
                    facts.len(),
                    as_of
                        .map(|d| format!(" as of {}", d.long()))
                        .unwrap_or_default()
                )?;
                for r in &facts {
                    let f = &r.fact;
                    writeln!(
                        out,
                        "#{:<6} {:<10} {:<22} {}\n        sources: {}",
                        f.id,
                        f.valid_from
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "(no date)".into()),
                        f.kind().as_str(),
                        f.payload.to_json(),
                        citations_text(&f.citations)
                    )?;
                }
            }
            Ok(())
        }
        Command::Sources { json } => {
            let store = open_existing(&db)?;
            let sources = store.sources()?;
            let mut out = std::io::stdout().lock();
            if json {
                let list: Vec<_> = sources
                    .iter()
                    .map(|s| minewatch_answers::json::source(&s.source))
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                for s in &sources {
                    let s = &s.source;
                    writeln!(
                        out,
                        "{}  {}{}",
                        s.key,
                        s.title,
                        s.published.map(|d| format!(" ({d})")).unwrap_or_default()
                    )?;
                }
            }
            Ok(())
        }
        Command::Export {
            format,
            site,
            out,
            metadata,
            json,
        } => {
            // The static site is made like `serve` makes its record (the shipped data into an
            // empty database); the other formats read an existing record.
            let mut store = if site.is_some() {
                open(&db)?
            } else {
                open_existing(&db)?
            };
            let t = std::time::Instant::now();
            let seconds =
                |t: std::time::Instant| (t.elapsed().as_secs_f64() * 100.0).round() / 100.0;
            if let Some(dir) = site {
                if store.fact_count()? == 0 {
                    load_shipped(&mut store)?;
                }
                drop(store);
                let app = minewatch_server::App::new(db.clone())?;
                let rt = tokio::runtime::Runtime::new()?;
                let stats = rt.block_on(minewatch_server::export_site(app, &dir))?;
                let summary = ExportSummary {
                    format: "site",
                    out: Some(dir.display().to_string()),
                    files: Some(stats.files),
                    bytes: Some(stats.bytes),
                    seconds: seconds(t),
                    ..ExportSummary::default()
                };
                if json {
                    return print_json(&summary);
                }
                eprintln!(
                    "wrote the site: {} files, {:.1} MB, to {} in {:.2} s",
                    stats.files,
                    stats.bytes as f64 / 1e6,
                    dir.display(),
                    summary.seconds
                );
                return Ok(());
            }
            let format = format.ok_or("--format csv|json|sqlite or --site DIR is required")?;
            if let Format::Sqlite = format {
                let out = out.ok_or(
                    "--out FILE is required for --format sqlite (a new SQLite file is written there)",
                )?;
                let w = minewatch_export::sqlite::export(&store, &out, metadata.as_deref())?;
                let summary = ExportSummary {
                    format: "sqlite",
                    out: Some(out.display().to_string()),
                    bytes: Some(w.bytes),
                    facts: Some(w.facts),
                    current_facts: Some(w.current),
                    sources: Some(w.sources),
                    metadata: Some(w.metadata.display().to_string()),
                    seconds: seconds(t),
                    ..ExportSummary::default()
                };
                if json {
                    return print_json(&summary);
                }
                eprintln!(
                    "wrote {} ({:.1} MB: {} facts, {} standing, {} sources) and {} in {:.2} s",
                    out.display(),
                    w.bytes as f64 / 1e6,
                    w.facts,
                    w.current,
                    w.sources,
                    w.metadata.display(),
                    summary.seconds
                );
                return Ok(());
            }
            if let Format::Datapackage = format {
                let out = out.ok_or(
                    "--out DIR is required for --format datapackage (a new folder is written there)",
                )?;
                let w = minewatch_export::datapackage::export(&store, &out)?;
                let summary = ExportSummary {
                    format: "datapackage",
                    out: Some(out.display().to_string()),
                    files: Some(w.files),
                    rows: Some(w.rows),
                    bytes: Some(w.bytes),
                    seconds: seconds(t),
                    ..ExportSummary::default()
                };
                if json {
                    return print_json(&summary);
                }
                eprintln!(
                    "wrote {} ({} files, {} rows, {:.1} MB) in {:.2} s",
                    out.display(),
                    w.files,
                    w.rows,
                    w.bytes as f64 / 1e6,
                    summary.seconds
                );
                return Ok(());
            }
            if metadata.is_some() {
                return Err("--metadata goes with --format sqlite only".into());
            }
            if json && out.is_none() {
                return Err(
                    "--json: --format json without --out writes the document to standard \
                            output; give --out FILE to have the summary there instead"
                        .into(),
                );
            }
            let (sources, facts) = export(&store, format, out.as_deref())?;
            if json {
                return print_json(&ExportSummary {
                    format: if let Format::Csv = format {
                        "csv"
                    } else {
                        "json"
                    },
                    out: out.map(|p| p.display().to_string()),
                    facts: Some(facts),
                    sources: Some(sources),
                    seconds: seconds(t),
                    ..ExportSummary::default()
                });
            }
            Ok(())
        }
        Command::Status { state, as_of, json } => {
            let store = open_existing(&db)?;
            let subject = store.gazetteer()?.resolve(&state)?.clone();
            let as_of = as_of_or_today(as_of)?;
            let engine = derived::build_engine(&store)?;
            if json {
                return print_json(&derived::status(&engine, &subject, as_of));
            }
            report::status(&engine.status(&subject.code, as_of), &subject.name)
        }
        Command::Parties { as_of, basis, json } => {
            let store = open_existing(&db)?;
            let as_of = as_of_or_today(as_of)?;
            let basis = match basis {
                BasisArg::Eif => Basis::Eif,
                BasisArg::Deposit => Basis::Deposit,
            };
            let engine = derived::build_engine(&store)?;
            if json {
                return print_json(&derived::parties(&engine, as_of, basis));
            }
            report::parties(&engine, as_of, basis, &store.gazetteer()?)
        }
        Command::Deadlines {
            as_of,
            state,
            overdue,
            json,
        } => {
            let store = open_existing(&db)?;
            let as_of = as_of_or_today(as_of)?;
            let g = store.gazetteer()?;
            let subject = state.map(|s| g.resolve(&s).cloned()).transpose()?;
            let engine = derived::build_engine(&store)?;
            if json {
                return print_json(&derived::deadlines(
                    &engine,
                    as_of,
                    subject.as_ref(),
                    overdue,
                ));
            }
            let rows = engine.deadlines(as_of, subject.as_ref().map(|s| s.code.as_str()), overdue);
            report::deadlines(&rows, as_of)
        }
        Command::Classify {
            device,
            definition,
            as_of,
            json,
        } => {
            let text = read_text(&device)?;
            let device_name = device.display().to_string();
            let device = derived::parse_device(&device_name, &text)?;
            let mut extra = Vec::new();
            for p in &definition {
                extra.push(derived::parse_definition(
                    &p.display().to_string(),
                    &read_text(p)?,
                )?);
            }
            let on = as_of_or_today(as_of)?;
            let store = open_existing(&db)?;
            let engine = derived::build_engine(&store)?;
            if json {
                return print_json(&derived::classification(&engine, &device, on, extra)?);
            }
            let c = derived::classify_device(&engine, &device, on, extra)?;
            report::classification(&c, on, &device_name)
        }
        Command::Policy { command } => {
            let store = open_existing(&db)?;
            let engine = derived::build_engine(&store)?;
            match command {
                PolicyCommand::List { json } => {
                    if json {
                        return print_json(&derived::policies(&engine));
                    }
                    report::policy_list(&derived::policy_list(&engine))
                }
                PolicyCommand::Diff { from, to, json } => {
                    let v = derived::policy_diff(&engine, &from, &to)?;
                    if json {
                        return print_json(&v);
                    }
                    report::policy_diff(&v)
                }
            }
        }
    }
}

fn read_text(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn as_of_or_today(v: Option<String>) -> Result<Date, Box<dyn std::error::Error>> {
    match v {
        Some(s) => Ok(Date::parse(&s).map_err(|e| format!("--as-of: {e}; expected YYYY-MM-DD"))?),
        None => Ok(derived::today()?),
    }
}

fn print_json(v: &impl serde::Serialize) -> Res {
    writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(v)?
    )?;
    Ok(())
}

/// Citations in the facts format, separated by `;` (as `import facts-csv` reads them).
fn citations_text(c: &[minewatch_domain::Citation]) -> String {
    c.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// Writes the record in minewatch's own formats; returns (sources, facts) written.
fn export(
    store: &Store,
    format: Format,
    out: Option<&Path>,
) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let sources = store.sources()?;
    let facts = store.facts(&FactFilter::default())?;
    let opt =
        |d: Option<minewatch_domain::PartialDate>| d.map(|d| d.to_string()).unwrap_or_default();
    match format {
        Format::Csv => {
            let dir = out.ok_or("--out DIR is required for --format csv (sources.csv and facts.csv are written there)")?;
            std::fs::create_dir_all(dir)?;
            let mut w = csv::Writer::from_path(dir.join("sources.csv"))?;
            w.write_record(["key", "title", "publisher", "published", "url", "note"])?;
            for s in &sources {
                let s = &s.source;
                w.write_record([
                    s.key.as_str(),
                    &s.title,
                    s.publisher.as_deref().unwrap_or(""),
                    &opt(s.published),
                    s.url.as_deref().unwrap_or(""),
                    s.note.as_deref().unwrap_or(""),
                ])?;
            }
            w.flush()?;
            let mut w = csv::Writer::from_path(dir.join("facts.csv"))?;
            w.write_record([
                "key",
                "subject",
                "kind",
                "valid_from",
                "valid_to",
                "payload",
                "sources",
                "note",
            ])?;
            for r in &facts {
                let f = &r.fact;
                w.write_record([
                    r.key.as_str(),
                    &f.subject,
                    f.kind().as_str(),
                    &opt(f.valid_from),
                    &opt(f.valid_to),
                    &f.payload.to_json(),
                    &citations_text(&f.citations),
                    f.note.as_deref().unwrap_or(""),
                ])?;
            }
            w.flush()?;
            eprintln!(
                "wrote {} sources and {} facts to {}",
                sources.len(),
                facts.len(),
                dir.display()
            );
        }
        Format::Json => {
            let doc = serde_json::json!({
                "sources": sources.iter().map(|s| {
                    let mut v = serde_json::to_value(minewatch_answers::json::source(&s.source))
                        .unwrap_or_default();
                    if let Some(o) = v.as_object_mut() { o.retain(|_, x| !x.is_null()); }
                    v
                }).collect::<Vec<_>>(),
                "facts": facts.iter().map(|r| {
                    let f = &r.fact;
                    let mut v = serde_json::json!({
                        "key": r.key,
                        "subject": f.subject,
                        "kind": f.kind().as_str(),
                        "valid_from": f.valid_from.map(|d| d.to_string()),
                        "valid_to": f.valid_to.map(|d| d.to_string()),
                        "payload": f.payload.to_value(),
                        "sources": f.citations.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                        "note": f.note,
                    });
                    if let Some(o) = v.as_object_mut() { o.retain(|_, x| !x.is_null()); }
                    v
                }).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string_pretty(&doc)?;
            match out {
                Some(p) => std::fs::write(p, text + "\n")?,
                None => writeln!(std::io::stdout().lock(), "{text}")?,
            }
        }
        // Dispatched to minewatch_export::sqlite::export before this function is called.
        Format::Sqlite | Format::Datapackage => {
            return Err("--format sqlite and datapackage are written by their own modules".into())
        }
    }
    Ok((sources.len(), facts.len()))
}

/// What `import --json` prints.
#[derive(Debug, serde::Serialize)]
struct ImportSummary<'a> {
    file: String,
    kind: &'static str,
    #[serde(flatten)]
    report: &'a minewatch_import::Report,
}

/// What `export --json` prints: the format, where, and what was written (fields that do not
/// apply to a format are left out).
#[derive(Debug, Default, serde::Serialize)]
struct ExportSummary {
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    out: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_facts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<String>,
    seconds: f64,
}

/// One account in `user list --json` (no password hash, no token).
#[derive(Debug, serde::Serialize)]
struct UserRow<'a> {
    username: &'a str,
    role: &'static str,
    disabled: bool,
}

/// One webhook in `webhook list --json` (never its signing secret).
#[derive(Debug, serde::Serialize)]
struct WebhookRow<'a> {
    id: i64,
    url: &'a str,
    scope: &'a str,
    disabled: bool,
}

/// A password from standard input (first line), or a new random one when none is given.
fn password_from_stdin() -> Result<(String, bool), Box<dyn std::error::Error>> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if !pw.is_empty() {
            return Ok((pw, false));
        }
    }
    Ok((minewatch_store::random_token()?[..24].to_string(), true))
}

/// `minewatch migrate`: the source is opened as it is (nothing loaded into it), the target
/// created if needed and refused unless empty.
fn migrate(from: &std::ffi::OsStr, to: &std::ffi::OsStr, json: bool) -> Res {
    let (from, to) = (Location::parse(from), Location::parse(to));
    if from == to {
        return Err(format!("--from and --to are the same database ({from})").into());
    }
    if let Location::Sqlite(path) = &from {
        if !path.is_file() {
            return Err(format!("{from}: no such database (--from)").into());
        }
    }
    let t = std::time::Instant::now();
    let source = Store::open_at(&from).map_err(|e| format!("{from}: {e}"))?;
    if let Some(dir) = to.path().and_then(Path::parent) {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            return Err(format!("{to}: the folder {} does not exist", dir.display()).into());
        }
    }
    let mut target = Store::open_at(&to).map_err(|e| format!("{to}: {e}"))?;
    let copied = source
        .copy_into(&mut target)
        .map_err(|e| format!("{to}: {e}"))?;
    let rows: u64 = copied.iter().map(|(_, n)| n).sum();
    if json {
        let tables: serde_json::Map<String, serde_json::Value> = copied
            .iter()
            .map(|(t, n)| (t.to_string(), (*n).into()))
            .collect();
        println!(
            "{}",
            serde_json::json!({"from": from.to_string(), "to": to.to_string(), "rows": tables})
        );
    }
    eprintln!(
        "copied {rows} rows ({} facts) from {from} to {to} in {:.2} s",
        copied
            .iter()
            .find(|(t, _)| *t == "facts")
            .map_or(0, |(_, n)| *n),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn user_command(db: &Location, command: UserCommand) -> Res {
    let mut store = open(db)?;
    match command {
        UserCommand::Add { username, role } => {
            let role = match role {
                RoleArg::Editor => minewatch_store::Role::Editor,
                RoleArg::Admin => minewatch_store::Role::Admin,
            };
            let (pw, made) = password_from_stdin()?;
            let u = store.add_user(&username, role, &pw)?;
            println!("added {} ({})", u.username, u.role.as_str());
            if made {
                println!("password (shown once): {pw}");
            }
        }
        UserCommand::Disable { username } => {
            store.set_user_disabled(&username, true)?;
            println!("disabled {username}; its sessions and API tokens are ended");
        }
        UserCommand::Enable { username } => {
            store.set_user_disabled(&username, false)?;
            println!("enabled {username}");
        }
        UserCommand::Reset { username } => {
            let (pw, made) = password_from_stdin()?;
            store.reset_password(&username, &pw)?;
            println!("new password set for {username}; its sessions are ended");
            if made {
                println!("password (shown once): {pw}");
            }
        }
        UserCommand::List { json } => {
            let users = store.users()?;
            if json {
                let rows: Vec<UserRow> = users
                    .iter()
                    .map(|u| UserRow {
                        username: &u.username,
                        role: u.role.as_str(),
                        disabled: u.disabled,
                    })
                    .collect();
                return print_json(&rows);
            }
            for u in users {
                println!(
                    "{}\t{}\t{}",
                    u.username,
                    u.role.as_str(),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
        UserCommand::Token { username, label } => {
            let t = store.create_api_token(&username, &label, minewatch_store::now_secs())?;
            println!("{t}");
        }
    }
    Ok(())
}

fn webhook_command(db: &Location, command: WebhookCommand) -> Res {
    let mut store = open(db)?;
    match command {
        WebhookCommand::Add { url, scope } => {
            let scope = if scope == "*" {
                scope
            } else {
                store.gazetteer()?.resolve(&scope)?.code.clone()
            };
            let (h, secret) = store.add_webhook(&url, &scope, minewatch_store::now_secs())?;
            println!("webhook {} posts to {} for {}", h.id, h.url, h.scope);
            println!("signing secret (shown once): {secret}");
        }
        WebhookCommand::List { json } => {
            let hooks = store.webhooks()?;
            if json {
                let rows: Vec<WebhookRow> = hooks
                    .iter()
                    .map(|h| WebhookRow {
                        id: h.id,
                        url: &h.url,
                        scope: &h.scope,
                        disabled: h.disabled,
                    })
                    .collect();
                return print_json(&rows);
            }
            for h in hooks {
                println!(
                    "{}\t{}\t{}\t{}",
                    h.id,
                    h.url,
                    h.scope,
                    if h.disabled { "disabled" } else { "active" }
                );
            }
        }
        WebhookCommand::Disable { id } => {
            if !store.disable_webhook(id)? {
                return Err(format!("no webhook {id}").into());
            }
            println!("webhook {id} disabled");
        }
    }
    Ok(())
}
