//! The integration tests of the simulators, built as one test binary: one module per area, and
//! the HTTP clients and builders they share in [`support`].

mod clarus;
mod clarus_failed_pick;
mod clarus_graphql;
mod clarus_indexed_reads;
mod clarus_webhook_log;
mod netsuite;
mod netsuite_spec;
mod netsuite_strict;
mod netsuite_suiteql_keys;
mod support;
