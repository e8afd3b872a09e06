//! Typed async client for the NetSuite SuiteTalk REST API.
//!
//! - [`NetSuiteClient`]: built with [`NetSuiteClient::builder`], cheap to clone; every clone shares
//!   one concurrency budget per account ([`governance`], sized from `governanceLimits` unless
//!   configured), one retry budget ([`retry`]) and one set of counters ([`ClientStats`]).
//! - Records: typed bodies in [`records`] (unknown fields kept), operations in [`ops`]: get by id or
//!   `eid:`, create, update, upsert, delete, list; many at once with [`NetSuiteClient::run_many`].
//! - Transforms ([`transform`]): sales order → item fulfilment, purchase order and return
//!   authorisation → item receipt, with lots, serials, bins and statuses.
//! - Asynchronous requests and batch writes ([`jobs`]), quarantine moves ([`quarantine`]).
//! - SuiteQL as a stream of typed rows with safe literal binding ([`suiteql`]), and keyset
//!   paging past the 100,000-row cap ([`suiteql::Keyset`]).
//! - Authentication ([`auth`]) behind the [`auth::Authenticator`] seam, with credentials from the
//!   environment or a configuration value ([`auth::AuthSettings`]); account ids in [`account`].
//!
//! Errors are one [`Error`] enum; NetSuite's own answers are kept whole in [`ApiError`].
//!
//! The types of the public API that come from other crates are re-exported at the versions this
//! crate uses: [`Decimal`] (every quantity and amount), [`Date`], [`DateTime`] and [`Timestamp`]
//! (record dates), and the stream traits [`Stream`], [`StreamExt`] and [`TryStreamExt`] (SuiteQL
//! results); the crates themselves as [`rust_decimal`], [`jiff`] and [`futures_util`].
//!
//! # Building a client
//!
//! Credentials come from the environment ([`auth::AuthSettings::from_env`]) or from a
//! configuration value ([`auth::AuthSettings::from_config_text`], [`auth::AuthSettings::from_pairs`]).
//! Without [`ClientBuilder::concurrency_limit`], the pool is sized from `governanceLimits` before
//! the first request; when the role may not read them it keeps [`DEFAULT_CONCURRENCY`] and logs
//! why ([`NetSuiteClient::pool_sizing`]).
//!
//! ```no_run
//! use netsuite_client::NetSuiteClient;
//! use netsuite_client::account::AccountId;
//! use netsuite_client::auth::AuthSettings;
//!
//! # fn demo(pem: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let account: AccountId = "1234567_SB1".parse()?;
//! let settings = AuthSettings::from_pairs([
//!     ("auth", "m2m"),
//!     ("client_id", "0f1e2d…"),
//!     ("certificate_id", "aBcD…"),
//!     ("private_key", pem),
//! ])?;
//! let auth = settings.build(&account, &account.endpoint())?;
//! let client = NetSuiteClient::builder(auth).account(&account).build()?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! # Cargo features
//!
//! Each authentication method is a feature; all four are in `default`. A build that uses one
//! method can turn `default` off and name it, leaving the other methods and their dependencies
//! out ([`auth::AuthSettings`] then refuses the missing methods with a message naming the
//! feature):
//!
//! | Feature | Method | Dependencies it brings |
//! |---|---|---|
//! | `oauth2-client-credentials` | OAuth 2.0 client credentials (M2M), JWT assertion | `jsonwebtoken` |
//! | `oauth2-authorization-code` | OAuth 2.0 authorization code with PKCE | `oauth2` |
//! | `tba` | token-based authentication (OAuth 1.0a, HMAC-SHA256) | `hmac`, `base64` |
//! | `static-bearer` | a bearer token obtained elsewhere | none |
//!
//! ```toml
//! netsuite-client = { version = "*", default-features = false, features = ["tba"] }
//! ```
//!
//! # Reading and creating records
//!
//! ```no_run
//! use netsuite_client::records::{InventoryAdjustment, InventoryAdjustmentLine, RecordRef, SalesOrder, Sublist};
//! use netsuite_client::{Date, Decimal, NetSuiteClient, RecordId, RecordKey};
//!
//! # async fn demo(client: NetSuiteClient) -> Result<(), netsuite_client::Error> {
//! // By internal id or by external id (`eid:`), with sublists inline.
//! let order: SalesOrder = client
//!     .get::<SalesOrder>(RecordKey::parse("eid:SO-1001")?)
//!     .expand_sub_resources(true)
//!     .send()
//!     .await?;
//!
//! // A typed body; the external id makes a repeated create find the first one.
//! let adjustment = InventoryAdjustment {
//!     external_id: Some("ADJ-2026-01-31-1".into()),
//!     tran_date: Some(Date::constant(2026, 1, 31)),
//!     account: Some(RecordRef::id(RecordId::new("54")?)),
//!     inventory: Some(Sublist {
//!         items: vec![InventoryAdjustmentLine {
//!             item: Some(RecordRef::external("SKU-1")),
//!             location: Some(RecordRef::id(RecordId::new("3")?)),
//!             adjust_qty_by: Some(Decimal::new(-25, 1)), // -2.5
//!             ..Default::default()
//!         }],
//!     }),
//!     ..Default::default()
//! };
//! let id: RecordId = client.create(&adjustment).send().await?;
//! # let _ = (order, id); Ok(()) }
//! ```
//!
//! # SuiteQL into typed rows
//!
//! Values arrive as strings; [`suiteql::lenient`] reads them into numbers, decimals, booleans and
//! dates. Values are bound with [`suiteql::Query::bind`], never formatted into the text.
//!
//! ```no_run
//! use netsuite_client::suiteql::{Query, StreamOptions, lenient};
//! use netsuite_client::{Decimal, NetSuiteClient, TryStreamExt};
//!
//! #[derive(serde::Deserialize)]
//! struct Item {
//!     #[serde(deserialize_with = "lenient::i64")]
//!     id: i64,
//!     itemid: String,
//!     #[serde(default, deserialize_with = "lenient::opt_decimal")]
//!     averagecost: Option<Decimal>,
//! }
//!
//! # async fn demo(client: NetSuiteClient) -> Result<(), netsuite_client::Error> {
//! let q = Query::new("SELECT id, itemid, averagecost FROM item WHERE isinactive = ? ORDER BY id")
//!     .bind(false);
//! let mut rows = client.suiteql::<Item>(q, StreamOptions::default());
//! while let Some(item) = rows.try_next().await? {
//!     println!("{} {} {:?}", item.id, item.itemid, item.averagecost);
//! }
//! # Ok(()) }
//! ```
//!
//! # Keyset paging past the 100,000-row cap
//!
//! [`NetSuiteClient::suiteql`] stops with [`Error::SuiteQlRowCap`] at 100,000 rows;
//! [`NetSuiteClient::suiteql_keyset`] pages by a unique integer column instead. The query must
//! not have its own `ORDER BY`; its trailing `WHERE` becomes the filter.
//!
//! ```no_run
//! use netsuite_client::suiteql::{Keyset, StreamOptions, lenient};
//! use netsuite_client::{NetSuiteClient, TryStreamExt};
//!
//! #[derive(serde::Deserialize)]
//! struct Row {
//!     #[serde(deserialize_with = "lenient::i64")]
//!     id: i64,
//!     itemid: String,
//! }
//!
//! # async fn demo(client: NetSuiteClient) -> Result<(), netsuite_client::Error> {
//! let keyset = Keyset::parse("SELECT id, itemid FROM item WHERE itemid LIKE 'SKU-%'", "id")?;
//! let rows: Vec<Row> = client
//!     .suiteql_keyset(keyset, |r: &Row| r.id, StreamOptions::default())
//!     .try_collect()
//!     .await?;
//! # let _ = rows; Ok(()) }
//! ```
//!
//! # Many writes
//!
//! [`NetSuiteClient::run_many`] runs one operation per item as wide as the pool and returns the
//! results in order; [`NetSuiteClient::stats`] counts the 429s absorbed and the retries made.
//!
//! ```no_run
//! use netsuite_client::NetSuiteClient;
//! use netsuite_client::records::SalesOrder;
//!
//! # async fn demo(client: NetSuiteClient, orders: Vec<SalesOrder>) {
//! let before = client.stats();
//! let results = client
//!     .run_many(orders, |client, order| async move { client.create(&order).send().await })
//!     .await;
//! let failed = results.iter().filter(|r| r.is_err()).count();
//! let stats = client.stats().since(&before);
//! println!(
//!     "{failed} failed; {} 429s absorbed, {} retries; pool {:?}",
//!     stats.throttled_absorbed,
//!     stats.retries,
//!     client.pool_sizing()
//! );
//! # }
//! ```

pub mod account;
pub mod auth;

mod client;
pub mod decimal;
mod error;
pub mod governance;
mod ids;
pub mod jobs;
mod many;
pub mod ops;
pub mod quarantine;
pub mod records;
pub mod retry;
mod stats;
pub mod suiteql;
pub mod transform;

pub use client::{ClientBuilder, DEFAULT_CONCURRENCY, NetSuiteClient};
pub use error::{ApiError, Error, ErrorCode, ErrorDetail};
pub use governance::PoolSizing;
pub use ids::{ExternalId, IdError, IdempotencyKey, RecordId, RecordKey, RecordType};
pub use stats::ClientStats;

pub use futures_util::{self, Stream, StreamExt, TryStreamExt};
pub use jiff::{
    self, Timestamp,
    civil::{Date, DateTime},
};
pub use rust_decimal::{self, Decimal};
