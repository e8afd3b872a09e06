//! REST mutations (JSON:API envelopes, change arrays, address relationship, generic fields).
//!
//! Every call is a method on [`crate::ClarusClient`]. None is retried automatically: creates
//! have no idempotency key in Clarus, so after an ambiguous failure use the look-ups in
//! [`crate::graphql`] before trying again.

pub mod automations;
pub mod common;
pub mod goods_in;
pub mod goods_out;
pub mod products;
pub mod shipments;
pub mod stock_checks;
pub mod stocks;
