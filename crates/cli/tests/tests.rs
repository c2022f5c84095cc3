//! Integration tests: one binary (one link step) with a module per area.
#![allow(clippy::unwrap_used)]

mod api;
mod browser;
mod browser_pages;
mod engine;
mod import;
mod pages;
mod support;
mod webdriver;
