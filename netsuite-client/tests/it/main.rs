//! The integration tests of `netsuite-client`, one test binary: a module per area (each
//! authentication method, record operations and the concise builders, SuiteQL streaming,
//! transforms and asynchronous jobs, governance and pool sizing), against wiremock or the
//! loopback server of `common`; `auth_support` holds the keys and helpers of the authentication
//! tests, `fuzz_inputs` the workspace's structure-aware fuzz strategies.

#[path = "../auth_support/mod.rs"]
mod auth_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../../../testing/fuzz_inputs.rs"]
mod fuzz_inputs;

// Each authentication method's tests build only with that method's cargo feature, so
// `cargo test --no-default-features --features <method>` tests that method alone.
mod auth_account;
#[cfg(feature = "oauth2-authorization-code")]
mod auth_authorization_code;
#[cfg(feature = "oauth2-client-credentials")]
mod auth_client_credentials;
mod auth_settings;
#[cfg(feature = "static-bearer")]
mod auth_static_bearer;
#[cfg(feature = "tba")]
mod auth_tba;
mod governance_retries;
mod pool_sizing;
mod record_ops;
mod records_concise;
mod suiteql_stream;
mod transforms_jobs;
