//! Many requests at once, bounded by the account's concurrency pool.

use std::future::Future;

use futures_util::StreamExt;

use crate::client::NetSuiteClient;
use crate::error::Error;

impl NetSuiteClient {
    /// Runs `op` once per item, as many at once as the concurrency pool is wide (sized first,
    /// from `governanceLimits` unless configured), and returns every result in the order of
    /// `items`. One failure does not stop the others; NetSuite's 429s are absorbed by the
    /// client's retries and counted in [`NetSuiteClient::stats`].
    ///
    /// Only the pool's width of operations exist at once, so a long list costs no more memory
    /// than that; the pool itself keeps every request of every clone within the account's limit
    /// (a second `run_many` at the same time shares it).
    ///
    /// ```no_run
    /// # async fn demo(client: netsuite_client::NetSuiteClient) {
    /// use netsuite_client::records::SalesOrder;
    ///
    /// let orders: Vec<SalesOrder> = (1..=600)
    ///     .map(|n| SalesOrder {
    ///         external_id: Some(format!("SO-{n}")),
    ///         ..SalesOrder::default()
    ///     })
    ///     .collect();
    /// let results = client
    ///     .run_many(orders, |client, order| async move { client.create(&order).send().await })
    ///     .await;
    /// for (n, result) in results.iter().enumerate() {
    ///     if let Err(e) = result {
    ///         eprintln!("order {}: {e}", n + 1);
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn run_many<I, F, Fut, R>(&self, items: I, mut op: F) -> Vec<Result<R, Error>>
    where
        I: IntoIterator,
        F: FnMut(NetSuiteClient, I::Item) -> Fut,
        Fut: Future<Output = Result<R, Error>>,
    {
        self.ensure_pool_sized().await;
        let width = self.concurrency_budget().ceiling().max(1);
        futures_util::stream::iter(items)
            .map(|item| op(self.clone(), item))
            .buffered(width)
            .collect()
            .await
    }
}
