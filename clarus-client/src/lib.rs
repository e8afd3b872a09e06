//! Typed async client for the Clarus WMS API.
//!
//! - **Connection** ([`ClarusConfig`], [`ClarusClient`]): OAuth 2.0 (client credentials or
//!   authorization code) against `/oauth/token` through the `oauth2` crate; the token is cached
//!   and renewed one request at a time; an unexpected 401 re-authenticates once. Every call
//!   carries `X-Clarus-Subdomain`. Plain `http` only when explicitly allowed.
//! - **REST mutations** ([`rest`]): JSON:API envelopes, change arrays, the address relationship
//!   and generic fields, as methods on [`ClarusClient`]. Creates are never blindly retried by
//!   the client; look records up by `reference` or `external_system_reference1` first.
//! - **Retries** ([`retry`]): a pure decision; reads and idempotent calls are sent again on
//!   429/5xx and transport failures with capped exponential backoff, honouring `Retry-After`
//!   (attempts set with [`ClarusConfigBuilder::max_attempts`]).
//! - **GraphQL reads** ([`graphql`]): typed nodes, filters, Relay paging as a `Stream`, errors
//!   typed even with HTTP 200.
//! - **Webhooks** ([`webhook`]): typed events with the raw body, header capture, constant-time
//!   shared-secret check, idempotent subscription.
//! - **Errors** ([`Error`]): Clarus's `{errors:[…]}` and `{error}` bodies, every field and
//!   the raw body kept, classified by [`Error::is_not_found`], [`Error::is_transient`],
//!   [`Error::is_rate_limited`] and [`Error::is_conflict`]. `ClarusError` is its former name.
//!
//! ```no_run
//! use clarus_client::{ClarusClient, ClarusConfig};
//! use clarus_client::graphql::{Filter, ListQuery, StockBalanceNode};
//! use futures_util::TryStreamExt;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = ClarusClient::new(ClarusConfig::from_env()?)?;
//! let query = ListQuery::new(Filter::new().eq("product_code", "SKU-1"), 100);
//! let balances: Vec<StockBalanceNode> = client.list_all(query).try_collect().await?;
//! # Ok(()) }
//! ```

mod auth;
mod client;
mod config;
mod error;
pub mod graphql;
mod http_url;
mod id;
pub mod rest;
pub mod retry;
pub mod webhook;

pub use auth::{
    AuthorizationStart, MAX_TOKEN_LIFETIME, PkceVerifier, TokenAnswer, read_token_answer,
};
pub use client::{ClarusClient, Record, SUBDOMAIN_HEADER};
pub use config::{
    ClarusConfig, ClarusConfigBuilder, ClientAuthMethod, Credentials, DEFAULT_BASE_URL,
    DeleteChangeType, PathPrefix, Secret, Subdomain,
};
pub use error::{
    ApiErrorItem, AuthError, ClarusError, ConfigError, Error, GRAPHQL_VALIDATION_CODES,
    GraphQlError,
};
pub use http_url::HttpUrl;
pub use id::{ClarusId, ParseIdError};
