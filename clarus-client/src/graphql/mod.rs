//! GraphQL reads: typed nodes, filters, Relay cursor paging as a `Stream`, and look-ups.
//!
//! Requests are `POST /graphql` with `{query, variables}`; a response carrying `errors` is a
//! [`crate::ClarusError::GraphQl`] even when the HTTP status is 200.

mod filter;
mod lookup;
mod nodes;
mod paging;

pub use filter::{Filter, FilterValue};
pub use nodes::*;
pub use paging::{ListQuery, Node, Page, PageInfo, decode_page, query_text};
