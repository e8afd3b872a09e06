//! Set-up shared by the integration tests: the end-to-end harness of the flow tests ([`flow`]),
//! the scratch stores and ledgers of the command-line tests ([`cli`]), the reconciliation the
//! chaos days end with ([`day`]), and the `sync` process run against the simulators
//! ([`service`]).

pub mod cli;
pub mod day;
pub mod flow;
pub mod service;
