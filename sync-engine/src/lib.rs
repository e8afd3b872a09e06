//! The imperative shell of the Clarus WMS ⇄ NetSuite integration.
//!
//! `sync-core` decides what must happen; this crate makes it happen, durably:
//!
//! - [`intake`] takes Clarus webhooks (shared secret checked in constant time, body limited) and
//!   stores each delivery before answering; [`processor`] decodes stored deliveries into core
//!   events; [`netsuite::NetSuitePoller`] and [`clarus::ClarusSweep`] find what no webhook told.
//! - [`engine::Engine`] plans each event with `sync-core` and commits the plan (event seen,
//!   state changes, actions, exceptions) to the [`store`] in one transaction.
//! - [`outbox::Outbox`] runs the actions in order per document and in parallel across documents,
//!   through [`router::Router`] to the [`clarus`] and [`netsuite`] executors, retrying with
//!   backoff and looking a record up before resending after an ambiguous failure; [`batch`]
//!   aggregates adjustments when their cadence is batched.
//! - [`reconcile`] compares stock snapshots with in-flight movements counted, and values the
//!   drift at NetSuite's average cost; [`drift_history`] keeps every run so the trend is
//!   visible.
//! - [`report`] gathers lifecycles, exceptions, backlog and drift into one JSON report and a
//!   self-contained HTML page.
//! - [`exceptions`] lets people work the exception queue from outside the engine: filters,
//!   retries carried out by the running engine, resolutions applied to its view.
//! - [`alerts`] pushes new exceptions to their owners by webhook and email, grouped and
//!   throttled.
//! - [`health`] records every scheduled run, raises an exception for a job that keeps failing
//!   and answers readiness (`/readyz`) per job and per connection.
//! - [`config`] reads the TOML configuration, [`assemble`] joins the parts, and [`service`] runs
//!   them together with a graceful stop.
//! - [`clock`] is the one injected source of business time for all of the above.
//!
//! # Layers
//!
//! Each module uses only modules of its own layer or of the layers before it, and no modules
//! use each other in a circle, directly or through others. A test (`layers.rs`) reads the
//! sources and this list and fails when either rule is broken:
//!
//! 1. foundation: `store`, `clock`, `backoff`, `failure`, `text`, `keys`, `cadence`,
//!    `subscriptions`, `backup`, `instance_lock`, `store_location`, `cluster_status`,
//!    `close_settings`, `console_settings`
//! 2. planning: `lifecycle`, `engine`, `drift_history`
//! 3. work: `job`, `outbox`, `router`, `health`, `snapshot`, `monitor`, `metrics`, `processor`,
//!    `intake`, `netsuite`, `clarus`, `reconcile`, `batch`, `exceptions`, `retention`, `close`,
//!    `alerts`, `cluster`
//! 4. service: `service`, `report`
//! 5. configuration: `config` (reads the settings of the parts below)
//! 6. assembly: `assemble` (joins the parts as the configuration says)

pub mod alerts;
pub mod assemble;
pub mod backoff;
pub mod backup;
pub mod batch;
pub mod cadence;
pub mod clarus;
pub mod clock;
pub mod close;
pub mod close_settings;
pub mod cluster;
pub mod cluster_status;
pub mod config;
pub mod console_settings;
pub mod drift_history;
pub mod engine;
pub mod exceptions;
pub mod failure;
pub mod health;
pub mod instance_lock;
pub mod intake;
pub mod job;
pub mod keys;
pub mod lifecycle;
pub mod metrics;
pub mod monitor;
pub mod netsuite;
pub mod outbox;
pub mod processor;
pub mod reconcile;
pub mod report;
pub mod retention;
pub mod router;
pub mod service;
pub mod snapshot;
pub mod store;
pub mod store_location;
pub mod subscriptions;
pub mod text;

#[cfg(test)]
mod layers;
