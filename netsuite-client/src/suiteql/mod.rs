//! SuiteQL as a [`Stream`] of typed rows.
//!
//! - `POST /query/v1/suiteql?limit=&offset=` with `Prefer: transient` and `{"q": …}`.
//! - Pages of at most 1000 rows; every offset is a multiple of the page size.
//! - Rows decode into any `DeserializeOwned` type; see [`lenient`] for columns that arrive as
//!   strings and [`Query`] for binding values safely.
//! - The REST API stops at 100,000 rows. [`NetSuiteClient::suiteql`] reports that as
//!   [`Error::SuiteQlRowCap`]; [`NetSuiteClient::suiteql_keyset`] continues past it with
//!   `WHERE key > last ORDER BY key`.
//! - Later pages are fetched and decoded while the caller consumes the current one, on the
//!   runtime's worker threads ([`StreamOptions::prefetch`] requests in flight and as many pages
//!   decoding), so memory stays at a few pages whatever the result size. Pages are decoded
//!   straight from the body text (see `page`), rows borrowing nothing from it.

mod keyset;
pub mod lenient;
mod page;
mod query;
mod text;

#[cfg(test)]
mod tests;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use http::Method;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

pub use keyset::{Keyset, KeysetError};
pub use query::{Literal, Query};
pub use text::Text;

use crate::client::{NetSuiteClient, RequestSpec};
use crate::error::Error;
use crate::retry::Idempotency;
use page::DecodedPage;

/// Rows the REST API returns for one query at most.
pub const ROW_CAP: u64 = 100_000;

/// Largest page NetSuite serves.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A stream of typed rows. Dropping it stops fetching. [`RowStream::fetch_all`] keeps every row.
pub struct RowStream<T> {
    pages: mpsc::Receiver<Result<PageRows<T>, Error>>,
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
                Poll::Ready(Some(Ok(page))) => this.current = page.rows.into_iter(),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T> RowStream<T> {
    /// Reads every remaining row into one `Vec`, or returns the first error.
    ///
    /// Unlike `try_collect`, which grows the vector a row at a time (copying every row several
    /// times and leaving up to half of it unused), this reserves room for the whole result from
    /// the first page's `totalResults` and moves each page's rows in at once; if fewer rows
    /// arrive than `totalResults` said, the unused room is given back.
    ///
    /// ```no_run
    /// # async fn demo(client: netsuite_client::NetSuiteClient) -> Result<(), netsuite_client::Error> {
    /// use netsuite_client::suiteql::{StreamOptions, Text};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Item {
    ///     id: Text,
    ///     itemid: Text,
    /// }
    /// let items: Vec<Item> = client
    ///     .suiteql("SELECT id, itemid FROM item ORDER BY id", StreamOptions::default())
    ///     .fetch_all()
    ///     .await?;
    /// # let _ = items; Ok(()) }
    /// ```
    pub async fn fetch_all(mut self) -> Result<Vec<T>, Error> {
        let mut rows: Vec<T> = self.current.by_ref().collect();
        while let Some(page) = self.pages.recv().await {
            let mut page = page?;
            if let Some(expected) = page.expected {
                // Exact: a keyset stream reserves again for each segment, and doubling would
                // leave up to half the vector unused.
                rows.reserve_exact(usize::try_from(expected).unwrap_or(0));
            }
            rows.append(&mut page.rows);
        }
        // Fewer rows than `totalResults` said (rows deleted while paging): give the rest back.
        if rows.capacity() - rows.len() > rows.len() / 16 {
            rows.shrink_to_fit();
        }
        Ok(rows)
    }
}

/// Options of a SuiteQL stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Rows per page (1 to 1000; default 1000).
    pub page_size: u32,
    /// Requests in flight ahead of the consumer (default 2). Each is one request under the
    /// account's concurrency budget; 1 fetches strictly one page at a time. A page whose body has
    /// arrived is decoded while the next request goes out, so up to twice this many pages are
    /// ahead of the consumer.
    pub prefetch: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            page_size: MAX_PAGE_SIZE,
            prefetch: 2,
        }
    }
}

/// A spawned page task that is cancelled when dropped (e.g. when the stream is dropped).
struct PageTask<T>(tokio::task::JoinHandle<Result<DecodedPage<T>, Error>>);

impl<T> Drop for PageTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The rows of one page, as the producer hands them to the stream.
struct PageRows<T> {
    rows: Vec<T>,
    /// On the first page of a segment: the rows the segment will hold (`totalResults`, at most
    /// the segment's limit), so a collector can reserve room for them at once.
    expected: Option<u64>,
}

type PageSender<T> = mpsc::Sender<Result<PageRows<T>, Error>>;

/// How a segment ended.
struct SegmentEnd {
    /// The last page said more rows follow, but the segment reached its row limit.
    more_beyond: bool,
}

/// Decodes a page body of at most `limit` rows.
fn decode_page<T: DeserializeOwned>(body: &[u8], limit: u32) -> Result<DecodedPage<T>, Error> {
    // One UTF-8 check for the whole body, then the page is read as text (see `page`).
    let decoded = match std::str::from_utf8(body) {
        Ok(text) => page::decode(text, limit as usize),
        // For `serde_json`'s account of where the body goes wrong.
        Err(utf8) => Err(serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .err()
            .unwrap_or_else(|| serde::de::Error::custom(utf8))),
    };
    decoded.map_err(|e| Error::decode("SuiteQL page", e, body))
}

impl NetSuiteClient {
    async fn fetch_page<T: DeserializeOwned>(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
    ) -> Result<DecodedPage<T>, Error> {
        let body = self.fetch_page_body(query, limit, offset).await?;
        decode_page(&body, limit)
    }

    /// The body of one page, not yet decoded.
    async fn fetch_page_body(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
    ) -> Result<bytes::Bytes, Error> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(Error::InvalidRequest(format!(
                "SuiteQL limit {limit} is outside 1..=1000"
            )));
        }
        if !offset.is_multiple_of(u64::from(limit)) {
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
        Ok(self.execute(spec).await?.body)
    }

    /// Fetches one page of a query: `limit` rows from `offset`; returns the rows and `hasMore`.
    pub async fn suiteql_page<T: DeserializeOwned>(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<T>, bool), Error> {
        let page = self.fetch_page::<T>(query, limit, offset).await?;
        Ok((page.items, page.has_more))
    }

    /// Sends the pages of one query (offsets 0, limit, 2·limit, … below `max_rows`) to `tx` in
    /// order. After the first page, whose `totalResults` says how many pages there are, up to
    /// `window` pages are fetched and decoded concurrently. Returns `None` when the consumer is gone.
    async fn pump_segment<T, F>(
        &self,
        text: std::sync::Arc<str>,
        limit: u32,
        max_rows: u64,
        window: usize,
        tx: &PageSender<T>,
        mut on_page: F,
    ) -> Result<Option<SegmentEnd>, Error>
    where
        T: DeserializeOwned + Send + 'static,
        F: FnMut(&[T]) -> Result<(), Error>,
    {
        let step = u64::from(limit);
        let first = self.fetch_page::<T>(&text, limit, 0).await?;
        let planned_end = first
            .total_results
            .filter(|t| *t > 0)
            .map(|t| t.min(max_rows));
        let mut last_has_more = first.has_more && !first.items.is_empty();
        on_page(&first.items)?;
        let first = PageRows {
            rows: first.items,
            expected: planned_end,
        };
        if tx.send(Ok(first)).await.is_err() {
            return Ok(None);
        }
        let mut next_offset = step;
        let mut pending: std::collections::VecDeque<PageTask<T>> = Default::default();
        // `window` requests in flight at most; a page whose body has arrived gives its place to
        // the next request while it is decoded, so up to `window` more pages may be decoding.
        let requests = std::sync::Arc::new(tokio::sync::Semaphore::new(window.max(1)));
        loop {
            while last_has_more
                && next_offset + step <= max_rows
                && pending.len() < 2 * window.max(1)
                && (pending.is_empty() || planned_end.is_some_and(|end| next_offset < end))
            {
                let client = self.clone();
                let text = std::sync::Arc::clone(&text);
                let requests = std::sync::Arc::clone(&requests);
                let offset = next_offset;
                pending.push_back(PageTask(tokio::spawn(async move {
                    let body = {
                        // The semaphore is never closed.
                        let _place = requests.acquire().await.ok();
                        client.fetch_page_body(&text, limit, offset).await?
                    };
                    decode_page(&body, limit)
                })));
                next_offset += step;
            }
            let Some(mut task) = pending.pop_front() else {
                break;
            };
            let page = match (&mut task.0).await {
                Ok(page) => page?,
                Err(join) => {
                    return Err(Error::UnexpectedResponse(format!(
                        "SuiteQL page task failed: {join}"
                    )));
                }
            };
            last_has_more = page.has_more && !page.items.is_empty();
            on_page(&page.items)?;
            let rows = PageRows {
                rows: page.items,
                expected: None,
            };
            if tx.send(Ok(rows)).await.is_err() {
                return Ok(None);
            }
            if !last_has_more {
                // Later pages were fetched on the strength of totalResults; the server says
                // there are none, so drop (cancel) them.
                pending.clear();
                break;
            }
        }
        Ok(Some(SegmentEnd {
            more_beyond: last_has_more,
        }))
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
            let text: std::sync::Arc<str> = query.build()?.into();
            let segment_rows = ROW_CAP / u64::from(limit) * u64::from(limit);
            let end = client
                .pump_segment(text, limit, segment_rows, options.prefetch, &tx, |_| Ok(()))
                .await?;
            match end {
                Some(SegmentEnd { more_beyond: true }) => {
                    Err(Error::SuiteQlRowCap { cap: ROW_CAP })
                }
                _ => Ok(()),
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
                let text: std::sync::Arc<str> = keyset.segment_query(after)?.into();
                let mut last_key = after;
                let end = client
                    .pump_segment(text, limit, segment_rows, options.prefetch, &tx, |rows| {
                        if let Some(last) = rows.last() {
                            let k = key_of(last);
                            if let Some(prev) = last_key.filter(|prev| k <= *prev) {
                                return Err(Error::UnexpectedResponse(format!(
                                    "keyset column went from {prev} to {k}: rows are not ordered by the key"
                                )));
                            }
                            last_key = Some(k);
                        }
                        Ok(())
                    })
                    .await?;
                match end {
                    Some(SegmentEnd { more_beyond: true }) if last_key != after => {
                        after = last_key;
                    }
                    _ => return Ok(()),
                }
            }
        })
    }

    fn spawn_pages<T, F, Fut>(&self, options: StreamOptions, run: F) -> RowStream<T>
    where
        T: Send + 'static,
        F: FnOnce(NetSuiteClient, PageSender<T>, u32) -> Fut,
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
