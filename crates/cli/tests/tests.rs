//! Integration tests: one binary (one link step) with a module per area.
#![allow(clippy::unwrap_used)]

mod api;
mod browser;
mod browser_pages;
mod conventions;
mod desk;
mod engine;
mod impact;
mod import;
mod obligation_pages;
mod obligations;
mod opendata;
mod pages;
mod postgres;
mod security;
mod smtp;
mod snapshots;
mod statements;
mod support;
mod undl;
mod webdriver;
