//! REST mutations (JSON:API envelopes, change arrays, address relationship, generic fields).
//!
//! Every call is a method on [`crate::ClarusClient`]. Deletes and stock holds/releases are
//! retried on 429/5xx like reads ([`crate::retry`]); creates, actions and updates are sent again
//! only when they certainly did not run (429, connection never made): Clarus has no idempotency
//! key, so after an ambiguous failure use the look-ups in [`crate::graphql`] before trying again.

pub mod automations;
pub mod common;
pub mod goods_in;
pub mod goods_out;
pub mod products;
pub mod shipments;
pub mod stock_checks;
pub mod stocks;
