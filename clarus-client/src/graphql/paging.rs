//! Relay cursor paging: one page at a time, or every node as a `Stream`.

use std::collections::HashMap;

use futures_util::stream::{self, Stream, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::filter::Filter;
use crate::client::ClarusClient;
use crate::error::{Error, GraphQlError};

/// A record type readable through a GraphQL list root (`<root> { all(...) { edges { node } } }`).
pub trait Node: DeserializeOwned + Send + 'static {
    /// The root field, e.g. `stocks`.
    const ROOT: &'static str;
    /// The filter input type, e.g. `StockFilterType`.
    const FILTER_TYPE: &'static str;
    /// The node selection, e.g. `id quantity product { id code }`.
    const FIELDS: &'static str;
}

/// Relay page information.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PageInfo {
    /// More nodes follow.
    #[serde(rename = "hasNextPage", default)]
    pub has_next_page: bool,
    /// Cursor of the last edge, to pass as `after`.
    #[serde(rename = "endCursor", default)]
    pub end_cursor: Option<String>,
}

/// One page of nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<N> {
    /// The nodes, in server order.
    pub nodes: Vec<N>,
    /// Paging information.
    pub page_info: PageInfo,
}

/// Options of a list query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// The filter.
    pub filter: Filter,
    /// Page size (`first`); the server's default when `None`.
    pub page_size: Option<u32>,
    /// `include_archived` (documented for `transactions` only).
    pub include_archived: Option<bool>,
}

impl ListQuery {
    /// A query with this filter and a page size.
    pub fn new(filter: Filter, page_size: u32) -> Self {
        Self {
            filter,
            page_size: Some(page_size),
            include_archived: None,
        }
    }
}

/// The query text for `N` (exposed for tests and simulators).
pub fn query_text<N: Node>(include_archived: bool) -> String {
    let (var, arg) = if include_archived {
        (
            ", $include_archived: Boolean",
            ", include_archived: $include_archived",
        )
    } else {
        ("", "")
    };
    format!(
        "query($filter: {ft}, $first: Int, $after: String{var}) {{ {root} {{ all(filter: $filter, first: $first, after: $after{arg}) {{ pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {fields} }} }} }} }} }}",
        ft = N::FILTER_TYPE,
        root = N::ROOT,
        fields = N::FIELDS,
    )
}

#[derive(Deserialize)]
#[serde(bound = "N: DeserializeOwned")]
struct Envelope<N> {
    #[serde(default = "Option::default")]
    data: Option<HashMap<String, Option<Root<N>>>>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

#[derive(Deserialize)]
#[serde(bound = "N: DeserializeOwned")]
struct Root<N> {
    all: Option<Connection<N>>,
}

#[derive(Deserialize)]
#[serde(bound = "N: DeserializeOwned")]
struct Connection<N> {
    #[serde(rename = "pageInfo", default)]
    page_info: PageInfo,
    #[serde(default)]
    edges: Vec<Edge<N>>,
}

#[derive(Deserialize)]
#[serde(bound = "N: DeserializeOwned")]
struct Edge<N> {
    node: N,
}

#[derive(Deserialize)]
struct ErrorsOnly {
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

/// Decodes a GraphQL list response body for `N`. `errors` become [`Error::GraphQl`]
/// whatever the rest of the body holds.
pub fn decode_page<N: Node>(body: &str) -> Result<Page<N>, Error> {
    let envelope = match serde_json::from_str::<Envelope<N>>(body) {
        Ok(envelope) => envelope,
        Err(e) => {
            // The typed read failed; keep the server's own errors if it sent any.
            if let Ok(only) = serde_json::from_str::<ErrorsOnly>(body)
                && !only.errors.is_empty()
            {
                return Err(Error::GraphQl {
                    errors: only.errors,
                    raw_body: body.to_owned(),
                });
            }
            return Err(Error::Decode {
                message: e.to_string(),
                raw_body: body.to_owned(),
            });
        }
    };
    if !envelope.errors.is_empty() {
        return Err(Error::GraphQl {
            errors: envelope.errors,
            raw_body: body.to_owned(),
        });
    }
    let connection = envelope
        .data
        .and_then(|mut d| d.remove(N::ROOT))
        .flatten()
        .and_then(|root| root.all)
        .ok_or_else(|| Error::Decode {
            message: format!("response has no data.{}.all", N::ROOT),
            raw_body: body.to_owned(),
        })?;
    Ok(Page {
        nodes: connection.edges.into_iter().map(|e| e.node).collect(),
        page_info: connection.page_info,
    })
}

impl ClarusClient {
    /// Fetches one page of `N` after the cursor `after`.
    pub async fn list_page<N: Node>(
        &self,
        query: &ListQuery,
        after: Option<&str>,
    ) -> Result<Page<N>, Error> {
        let mut variables = json!({ "filter": query.filter });
        if let Some(first) = query.page_size {
            variables["first"] = json!(first);
        }
        if let Some(after) = after {
            variables["after"] = json!(after);
        }
        if let Some(archived) = query.include_archived {
            variables["include_archived"] = json!(archived);
        }
        let body = json!({
            "query": query_text::<N>(query.include_archived.is_some()),
            "variables": variables,
        });
        let text = self.graphql_raw(body).await?;
        decode_page::<N>(&text)
    }

    /// Every node of `N` matching the query, fetched page by page as the stream is read.
    /// Stops with an error if the server reports more pages without a new cursor.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use clarus_client::graphql::{Filter, ListQuery, StockNode};
    /// # async fn run(client: clarus_client::ClarusClient) -> Result<(), clarus_client::Error> {
    /// let query = ListQuery::new(Filter::new().eq("product_code", "SKU-1"), 100);
    /// let stocks: Vec<StockNode> = client.list_all::<StockNode>(query).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_all<N: Node>(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<N, Error>> + Send + 'static {
        struct State {
            client: ClarusClient,
            query: ListQuery,
            after: Option<String>,
            done: bool,
        }
        let state = State {
            client: self.clone(),
            query,
            after: None,
            done: false,
        };
        stream::try_unfold(state, |mut state| async move {
            if state.done {
                return Ok(None);
            }
            let page = state
                .client
                .list_page::<N>(&state.query, state.after.as_deref())
                .await?;
            if page.page_info.has_next_page {
                match page.page_info.end_cursor {
                    Some(cursor) if Some(&cursor) != state.after.as_ref() => {
                        state.after = Some(cursor)
                    }
                    _ => {
                        return Err(Error::Decode {
                            message: "hasNextPage is true but endCursor is missing or unchanged"
                                .into(),
                            raw_body: String::new(),
                        });
                    }
                }
            } else {
                state.done = true;
            }
            Ok(Some((stream::iter(page.nodes.into_iter().map(Ok)), state)))
        })
        .try_flatten()
    }
}
