//! Every CSV importer on arbitrary bytes: the first byte picks the importer
//! (`minewatch_fuzz::csv_kinds()`, modulo their number; with its high bit set the import also
//! names a default source, as `minewatch import --source KEY` does), the rest is the file. Each
//! input is a dry run on a record holding the shipped data. Seeds: slices of the research files
//! each importer reads (fuzz/seeds/import_csv).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minewatch_fuzz::{csv_kinds, dry_import};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let kinds = csv_kinds();
    let kind = kinds[usize::from(selector & 0x7f) % kinds.len()];
    let default_source = (selector & 0x80 != 0).then_some("lm-2010-usa");
    dry_import(kind, file, default_source);
});
