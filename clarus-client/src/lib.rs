//! Typed async client for the Clarus WMS API.
//!
//! Will hold: OAuth 2.0 against `/oauth/token` with the `X-Clarus-Subdomain` header on every call;
//! the JSON:API REST mutations (products, goods-in receipts, goods outs, pick processing, shipments,
//! stock actions, stock checks, automations); typed GraphQL reads with Relay cursor paging as a
//! `Stream`; typed webhook events with the raw record kept and a shared-secret check done in
//! constant time.
