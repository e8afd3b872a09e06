//! Typed async client for the NetSuite SuiteTalk REST API.
//!
//! Will hold: account ids that give both the host and the TBA realm; OAuth 2.0 client credentials
//! with a signed JWT, TBA (OAuth 1.0a HMAC-SHA256) and authorization code with PKCE; typed records
//! (sales orders, fulfilments, receipts, adjustments, transfers, items, locations, inventory numbers)
//! that keep unknown fields; transforms; asynchronous requests and batch writes; SuiteQL as a stream
//! of typed rows; one concurrency budget per account with a pure, table-tested retry decision.

pub mod account;
pub mod auth;
