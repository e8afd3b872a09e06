//! Typed async client for the NetSuite SuiteTalk REST API.
//!
//! - [`NetSuiteClient`]: built with [`NetSuiteClient::builder`], cheap to clone; every clone shares
//!   one concurrency budget per account ([`governance`]) and one retry budget ([`retry`]).
//! - Records: typed bodies in [`records`] (unknown fields kept), operations in [`ops`]: get by id or
//!   `eid:`, create, update, upsert, delete, list.
//! - Transforms ([`transform`]): sales order → item fulfilment, purchase order and return
//!   authorisation → item receipt, with lots, serials, bins and statuses.
//! - Asynchronous requests and batch writes ([`jobs`]), quarantine moves ([`quarantine`]).
//! - SuiteQL as a stream of typed rows with safe literal binding ([`suiteql`]).
//! - Authentication ([`auth`]) behind the [`auth::Authenticator`] seam; account ids in [`account`].
//!
//! Errors are one [`Error`] enum; NetSuite's own answers are kept whole in [`ApiError`].

pub mod account;
pub mod auth;

mod client;
pub mod decimal;
mod error;
pub mod governance;
mod ids;
pub mod jobs;
pub mod ops;
pub mod quarantine;
pub mod records;
pub mod retry;
pub mod suiteql;
pub mod transform;

pub use client::{ClientBuilder, DEFAULT_CONCURRENCY, NetSuiteClient};
pub use error::{ApiError, Error, ErrorCode, ErrorDetail};
pub use ids::{ExternalId, IdError, IdempotencyKey, RecordId, RecordKey, RecordType};
