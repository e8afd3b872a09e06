//! The console over HTTP: a console on 127.0.0.1:0 over a temporary SQLite store seeded with
//! exceptions, driven with reqwest.

#[path = "console/access.rs"]
mod access;
#[path = "console/actions.rs"]
mod actions;
#[path = "console/browser.rs"]
mod browser;
#[path = "console/close.rs"]
mod close;
#[path = "console/pages.rs"]
mod pages;
#[path = "console/support.rs"]
mod support;
