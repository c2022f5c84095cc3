//! What the fuzz targets share: the shipped data, loaded once per fuzzing process.
//!
//! Setting up is not under test: it panics (and so fails the first run) if the shipped data
//! cannot be loaded, which the ordinary test suite would report too.

use minewatch_domain::{FactKind, Gazetteer};
use minewatch_import::{shipped, Kind, Options, KINDS};
use minewatch_store::{FactFilter, Store};
use minewatch_treaty::{shipped_definitions, Definition, PolicyRecord};
use std::cell::RefCell;

/// Every CSV importer, in the order of [`KINDS`] (the JSON one left out). The first byte of an
/// `import_csv` input picks one of them (modulo their number).
pub fn csv_kinds() -> Vec<Kind> {
    KINDS
        .iter()
        .copied()
        .filter(|k| k.name != "facts-json")
        .collect()
}

/// The JSON importer.
pub fn json_kind() -> Kind {
    Kind::by_name("facts-json").expect("the facts-json importer exists")
}

/// An in-memory record holding what `minewatch serve` loads into an empty database: the
/// subjects and every shipped file (sources, the converted research files with their meetings,
/// roll calls and policies, the curated facts). Importers then meet known sources, known keys
/// (claims that merge with recorded ones) and the lookups of the Art. 5 and UN vote importers.
pub fn loaded_store() -> Store {
    let mut store = Store::open_in_memory().expect("an in-memory store opens");
    shipped::load(&mut store).expect("the shipped data loads");
    store
}

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(loaded_store());
}

/// Runs `f` on this process's loaded store (one store per process: opening and loading one
/// costs about a second).
pub fn with_store<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    STORE.with(|s| f(&mut s.borrow_mut()))
}

/// Dry-run options: every check, then a rollback. An importer writes nothing unless the whole
/// file is good, and a dry run writes nothing at all, so the store stays the same from one
/// input to the next (the targets assert it).
pub fn dry_run(default_source: Option<&str>) -> Options {
    Options {
        dry_run: true,
        recorded_by: "fuzz".into(),
        default_source: default_source.map(String::from),
        progress: false,
        max_problems: 200,
        ..Options::default()
    }
}

/// Runs one import as a dry run and checks what must hold whatever the input: no panic (the
/// fuzzer sees those), nothing written, and no database error (a file can be refused, but only
/// with problems the user can fix).
pub fn dry_import(kind: Kind, data: &[u8], default_source: Option<&str>) {
    with_store(|store| {
        let before = store.last_fact_id().expect("reading the last fact id");
        let opts = dry_run(default_source);
        let r = minewatch_import::import_reader(
            store,
            kind,
            "fuzz-input",
            data,
            data.len() as u64,
            &opts,
        );
        if std::env::var_os("MINEWATCH_FUZZ_VERBOSE").is_some() {
            match &r {
                Ok(rep) => eprintln!("{}: {rep}", kind.name),
                Err(e) => eprintln!("{}: {e}", kind.name),
            }
        }
        if let Err(minewatch_import::ImportError::Store(e)) = &r {
            panic!("importer {}: the store failed on an input: {e}", kind.name);
        }
        if let Err(minewatch_import::ImportError::Invalid { problems, more }) = &r {
            assert!(
                !problems.is_empty() || *more > 0,
                "importer {}: refused a file without saying why",
                kind.name
            );
        }
        let after = store.last_fact_id().expect("reading the last fact id");
        assert_eq!(
            before, after,
            "importer {}: a dry run wrote facts",
            kind.name
        );
    });
}

/// The name index as the application builds it: from the subjects table loaded from the
/// shipped reference file.
pub fn shipped_gazetteer() -> Gazetteer {
    let subjects =
        shipped::parse_subjects(shipped::SUBJECTS_CSV).expect("the shipped subjects parse");
    Gazetteer::new(subjects)
}

/// The policy instruments of the shipped record (what `POST /api/v1/classify` compares a device
/// with) and the shipped definitions.
pub fn shipped_policies_and_definitions() -> (Vec<PolicyRecord>, Vec<Definition>) {
    let policies = with_store(|store| {
        store
            .facts(&FactFilter {
                kind: Some(FactKind::PolicyInstrument),
                ..FactFilter::default()
            })
            .expect("reading the policy instruments")
            .iter()
            .filter_map(|r| PolicyRecord::from_fact(&r.fact))
            .collect::<Vec<_>>()
    });
    assert!(
        !policies.is_empty(),
        "the shipped record has policy instruments"
    );
    let definitions = shipped_definitions().expect("the shipped definitions parse");
    (policies, definitions)
}
