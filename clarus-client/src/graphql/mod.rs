//! GraphQL reads: typed nodes, filters, Relay cursor paging as a `Stream`, and look-ups.
//!
//! Requests are `POST /graphql` with `{query, variables}`; a response carrying `errors` is a
//! [`crate::Error::GraphQl`] even when the HTTP status is 200.
//!
//! [`documented`] holds what Clarus documents per list root (node fields, filters and their
//! operators), with checks of a selection or a filter against it.

pub mod documented;
mod filter;
mod lookup;
mod nodes;
mod paging;
mod raw;

pub use documented::{
    DocumentedField, DocumentedFilter, DocumentedRoot, DocumentedSchema, Undocumented,
};
pub use filter::{Filter, FilterValue};
pub use nodes::*;
pub use paging::{ListQuery, Node, Page, PageInfo, decode_page, query_text};
