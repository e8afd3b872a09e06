//! SuiteQL as a [`Stream`] of typed rows.
//!
//! - `POST /query/v1/suiteql?limit=&offset=` with `Prefer: transient` and `{"q": …}`.
//! - Pages of at most 1000 rows; every offset is a multiple of the page size.
//! - Rows decode into any `DeserializeOwned` type; see [`lenient`] for columns that arrive as
//!   strings and [`Query`] for binding values safely.
//! - The REST API stops at 100,000 rows. [`NetSuiteClient::suiteql`] reports that as
//!   [`Error::SuiteQlRowCap`]; [`NetSuiteClient::suiteql_keyset`] continues past it with
//!   `WHERE key > last ORDER BY key`.
//! - The next page is fetched and decoded while the caller consumes the current one (one page
//!   ahead, so memory stays at about two pages whatever the result size).

pub mod lenient;
mod query;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use http::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

pub use query::{Literal, Query};

use crate::client::{NetSuiteClient, RequestSpec};
use crate::error::Error;
use crate::retry::Idempotency;

/// Rows the REST API returns for one query at most.
pub const ROW_CAP: u64 = 100_000;

/// Largest page NetSuite serves.
pub const MAX_PAGE_SIZE: u32 = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageBody<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    has_more: bool,
}

/// Keyset paging past the row cap: `{select} WHERE ({filter}) AND {key} > {last} ORDER BY {key}`.
///
/// ```
/// use netsuite_client::suiteql::{Keyset, Query};
///
/// let k = Keyset::new("SELECT id, itemid FROM item", "id")
///     .filter(Query::new("isinactive = ?").bind(false));
/// assert_eq!(
///     k.segment_query(Some(1200)).unwrap(),
///     "SELECT id, itemid FROM item WHERE (isinactive = 'F') AND id > 1200 ORDER BY id"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset {
    select: String,
    filter: Option<Query>,
    key: String,
}

impl Keyset {
    /// `select` is the query up to (not including) `WHERE`; `key` is a unique, integer column
    /// (usually `id` or `t.id`).
    pub fn new(select: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            select: select.into(),
            filter: None,
            key: key.into(),
        }
    }

    /// Adds a filter (combined with the key condition by `AND`).
    pub fn filter(mut self, filter: Query) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The query of one segment, starting after key `after`.
    pub fn segment_query(&self, after: Option<i64>) -> Result<String, Error> {
        let key_ok = !self.key.is_empty()
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !key_ok {
            return Err(Error::InvalidRequest(format!(
                "{:?} is not a column name",
                self.key
            )));
        }
        let mut conds = Vec::new();
        if let Some(f) = &self.filter {
            conds.push(format!("({})", f.build()?));
        }
        if let Some(after) = after {
            conds.push(format!("{} > {after}", self.key));
        }
        let mut q = self.select.trim_end().to_owned();
        if !conds.is_empty() {
            q.push_str(" WHERE ");
            q.push_str(&conds.join(" AND "));
        }
        q.push_str(" ORDER BY ");
        q.push_str(&self.key);
        Ok(q)
    }
}

/// A stream of typed rows. Dropping it stops fetching.
pub struct RowStream<T> {
    pages: mpsc::Receiver<Result<Vec<T>, Error>>,
    current: std::vec::IntoIter<T>,
    producer: tokio::task::JoinHandle<()>,
}

impl<T> std::fmt::Debug for RowStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("buffered", &self.current.len())
            .finish_non_exhaustive()
    }
}

impl<T> Drop for RowStream<T> {
    fn drop(&mut self) {
        self.producer.abort();
    }
}

impl<T> Unpin for RowStream<T> {}

impl<T> Stream for RowStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(row) = this.current.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            match this.pages.poll_recv(cx) {
                Poll::Ready(Some(Ok(page))) => this.current = page.into_iter(),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Options of a SuiteQL stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Rows per page (1 to 1000; default 1000).
    pub page_size: u32,
    /// Pages fetched ahead of the consumer (default 1).
    pub prefetch: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            page_size: MAX_PAGE_SIZE,
            prefetch: 1,
        }
    }
}

impl NetSuiteClient {
    /// Fetches one page of a query: `limit` rows from `offset`.
    pub async fn suiteql_page<T: DeserializeOwned>(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<T>, bool), Error> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(Error::InvalidRequest(format!(
                "SuiteQL limit {limit} is outside 1..=1000"
            )));
        }
        if offset % u64::from(limit) != 0 {
            return Err(Error::InvalidRequest(format!(
                "SuiteQL offset {offset} is not a multiple of the limit {limit}"
            )));
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            q: &'a str,
        }
        let spec = RequestSpec::new(Method::POST, "/query/v1/suiteql".into(), Idempotency::Read)
            .query("limit", limit.to_string())
            .query("offset", offset.to_string())
            .header("prefer", "transient")?
            .json_body(&Body { q: query })?;
        let resp = self.execute(spec).await?;
        let page: PageBody<T> = resp.json("SuiteQL page")?;
        Ok((page.items, page.has_more))
    }

    /// Streams every row of a query (up to the 100,000-row cap, after which the stream yields
    /// [`Error::SuiteQlRowCap`]).
    ///
    /// ```no_run
    /// # async fn demo(client: netsuite_client::NetSuiteClient) -> Result<(), netsuite_client::Error> {
    /// use futures_util::TryStreamExt;
    /// use netsuite_client::suiteql::{Query, StreamOptions, lenient};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Item {
    ///     #[serde(deserialize_with = "lenient::i64")]
    ///     id: i64,
    ///     itemid: String,
    /// }
    /// let q = Query::new("SELECT id, itemid FROM item WHERE itemid = ? ORDER BY id").bind("SKU-1");
    /// let items: Vec<Item> = client.suiteql(q, StreamOptions::default()).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn suiteql<T>(&self, query: impl Into<Query>, options: StreamOptions) -> RowStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let query = query.into();
        self.spawn_pages(options, move |client, tx, limit| async move {
            let text = query.build()?;
            let mut offset = 0u64;
            loop {
                if offset + u64::from(limit) > ROW_CAP {
                    return Err(Error::SuiteQlRowCap { cap: ROW_CAP });
                }
                let (rows, has_more) = client.suiteql_page::<T>(&text, limit, offset).await?;
                let n = rows.len() as u64;
                if tx.send(Ok(rows)).await.is_err() || !has_more || n == 0 {
                    return Ok(());
                }
                offset += u64::from(limit);
            }
        })
    }

    /// Streams every row of a keyset query, past the 100,000-row cap: offset paging within a
    /// segment, then a new segment after the last key seen. `key_of` reads the key column from a
    /// row; rows must come back ordered by it (the segment query says `ORDER BY key`).
    pub fn suiteql_keyset<T, F>(
        &self,
        keyset: Keyset,
        key_of: F,
        options: StreamOptions,
    ) -> RowStream<T>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(&T) -> i64 + Send + Sync + 'static,
    {
        self.spawn_pages(options, move |client, tx, limit| async move {
            // Largest multiple of the page size within the cap: no page ever crosses it.
            let segment_rows = ROW_CAP / u64::from(limit) * u64::from(limit);
            let mut after: Option<i64> = None;
            loop {
                let text = keyset.segment_query(after)?;
                let mut offset = 0u64;
                let mut last_key = after;
                let more_after_segment = loop {
                    let (rows, has_more) =
                        client.suiteql_page::<T>(&text, limit, offset).await?;
                    let n = rows.len() as u64;
                    if let Some(last) = rows.last() {
                        let k = key_of(last);
                        if last_key.is_some_and(|prev| k <= prev) {
                            return Err(Error::UnexpectedResponse(format!(
                                "keyset column went from {} to {k}: rows are not ordered by the key",
                                last_key.unwrap_or_default()
                            )));
                        }
                        last_key = Some(k);
                    }
                    if tx.send(Ok(rows)).await.is_err() {
                        return Ok(());
                    }
                    if !has_more || n == 0 {
                        break false;
                    }
                    offset += u64::from(limit);
                    if offset >= segment_rows {
                        break true;
                    }
                };
                if !more_after_segment || last_key == after {
                    return Ok(());
                }
                after = last_key;
            }
        })
    }

    fn spawn_pages<T, F, Fut>(&self, options: StreamOptions, run: F) -> RowStream<T>
    where
        T: Send + 'static,
        F: FnOnce(NetSuiteClient, mpsc::Sender<Result<Vec<T>, Error>>, u32) -> Fut,
        Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(options.prefetch.max(1));
        let limit = options.page_size;
        let client = self.clone();
        let producer = if (1..=MAX_PAGE_SIZE).contains(&limit) {
            let err_tx = tx.clone();
            let fut = run(client, tx, limit);
            tokio::spawn(async move {
                if let Err(e) = fut.await {
                    let _ = err_tx.send(Err(e)).await;
                }
            })
        } else {
            tokio::spawn(async move {
                let _ = tx
                    .send(Err(Error::InvalidRequest(format!(
                        "SuiteQL page size {limit} is outside 1..=1000"
                    ))))
                    .await;
            })
        };
        RowStream {
            pages: rx,
            current: Vec::new().into_iter(),
            producer,
        }
    }
}
