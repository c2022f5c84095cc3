//! Integration tests: one binary (one link step) with a module per area.
#![allow(clippy::unwrap_used)]

mod api;
mod engine;
mod import;
mod support;
