//! The integration tests of `clarus-client`, built as one test binary: one module per area, the
//! shared wiremock and OpenAPI helpers in [`support`], and the parser fuzz strategies in
//! [`fuzz_inputs`].

mod auth;
mod graphql;
mod rest;
mod retry;
mod spec_files;
mod spec_selfcheck;
mod support;
mod webhook;

/// Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
/// values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
/// nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
#[path = "../../../testing/fuzz_inputs.rs"]
mod fuzz_inputs;
