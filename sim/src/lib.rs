//! Stateful simulators of NetSuite and Clarus WMS, used by the demo and the end-to-end tests.
//!
//! - [`netsuite`]: the SuiteTalk REST API (records, transforms with real line semantics,
//!   `eid:` look-ups, on-hand per item × location × status, SuiteQL, the account concurrency
//!   limit, latency and injected faults including commit-then-fail).
//! - [`clarus`]: the Clarus WMS API (OAuth, the REST operations validated against the OpenAPI
//!   file, GraphQL reads) and a warehouse that picks, short-picks, despatches, receives, adjusts,
//!   holds and counts while firing webhooks with duplicates, reordering and loss.
//!
//! Both serve plain HTTP on loopback and hand back a typed handle for seeding and assertions.
//! What they model, and what they leave out, is written down in `docs/decisions/sim-scope.md`.

use std::net::SocketAddr;

pub mod clarus;
mod governance;
mod json;
pub mod netsuite;
mod server;

pub use governance::{Fault, FaultRates, GovernanceStats, LostReply};

/// Errors starting or seeding a simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("could not bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The Clarus OpenAPI file could not be read or compiled.
    #[error("could not load the Clarus OpenAPI file {path}: {message}")]
    Spec {
        /// The file's path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The simulator refused a seed, with the error the HTTP API would have answered.
    #[error("the simulator refused the request: {code}: {detail}")]
    Rejected {
        /// The service's error code (e.g. `USER_ERROR`, `product_code_exists`).
        code: String,
        /// The service's message.
        detail: String,
    },
}
