//! The public record as files other tools read as they are: the SQLite snapshot for Datasette
//! (`sqlite`, built from an explicit list of public columns), the Frictionless data package
//! (`datapackage`, the same tables as CSV with Table Schemas and HXL copies), and the set of
//! downloads the site offers, with sizes and checksums (`downloads`). Built without the store's
//! private tables (the `private` feature is off here), so no export can read them.

pub mod datapackage;
pub mod downloads;
pub mod sqlite;
