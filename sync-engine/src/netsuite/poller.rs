//! Polls NetSuite for changed items and orders and feeds them to the engine.
//!
//! One pass per record kind:
//!
//! 1. SuiteQL lists the records whose `lastmodifieddate` is at or after the stored watermark
//!    minus an overlap window (NetSuite's clock, time zones and commit delays can make a change
//!    appear with a slightly older timestamp than the last one seen), oldest first.
//! 2. Rows already ingested at the same modification time are skipped; each other record is read
//!    with `expandSubResources=true`, converted and handed to [`Engine::ingest`], which drops
//!    a version it has seen before (its source identity includes `lastModifiedDate`).
//! 3. The watermark moves to the newest modification time ingested, only after the ingests
//!    succeeded. A record that cannot be converted raises an `invalid-record` exception and the
//!    pass goes on; a NetSuite or store failure stops the pass where it was, and the next pass
//!    starts from there.
//!
//! Go-live: on a store's first poll the poller writes the go-live record (store entry
//! `go_live`: the time of that poll, the cut-over [`PollerConfig::start_from`] and the end of the
//! adoption window [`PollerConfig::adopt_existing_for`]). Orders last modified before the
//! recorded cut-over are never read; items are read in full, since orders need them. The Clarus
//! executor reads the window's end to decide whether to look for an existing goods out or
//! receipt before creating one (`docs/decisions/go-live.md`).
//!
//! Queries use only one table, `AND`-joined conditions and `TO_CHAR`/`TO_TIMESTAMP`, which is
//! what the NetSuite simulator supports as well. Order statuses are filtered after the query
//! (the status column reads `B` in some accounts and `SalesOrd:B` in others); orders pending
//! fulfilment or receipt, partly done, cancelled or closed are ingested (the last two so a goods
//! out can be cancelled).

mod go_live;
mod ingest;
mod invalid;
mod query;
mod records;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use netsuite_client::NetSuiteClient;
use tokio::sync::{Mutex, watch};
use tracing::Instrument;

use super::convert::SkuIndex;
use crate::engine::{Engine, EngineError};
use crate::store::StoreError;
use go_live::GoLive;

/// What a poll pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollKind {
    /// Inventory items (plain, lot-numbered, serialized).
    Items,
    /// Sales orders.
    SalesOrders,
    /// Purchase orders.
    PurchaseOrders,
    /// Return authorisations.
    ReturnAuthorisations,
}

impl PollKind {
    /// Every kind, items first (orders name items, so items should be known first).
    pub const ALL: [PollKind; 4] = [
        PollKind::Items,
        PollKind::SalesOrders,
        PollKind::PurchaseOrders,
        PollKind::ReturnAuthorisations,
    ];

    /// A short name: `item`, `salesOrder`, `purchaseOrder`, `returnAuthorization`.
    pub fn name(self) -> &'static str {
        match self {
            PollKind::Items => "item",
            PollKind::SalesOrders => "salesOrder",
            PollKind::PurchaseOrders => "purchaseOrder",
            PollKind::ReturnAuthorisations => "returnAuthorization",
        }
    }

    /// SuiteQL `transaction.type` of an order kind.
    fn transaction_type(self) -> Option<&'static str> {
        match self {
            PollKind::Items => None,
            PollKind::SalesOrders => Some("SalesOrd"),
            PollKind::PurchaseOrders => Some("PurchOrd"),
            PollKind::ReturnAuthorisations => Some("RtnAuth"),
        }
    }
}

/// The store name of a kind's watermark: `netsuite.poll.<name>`.
pub fn watermark_name(kind: PollKind) -> String {
    format!("netsuite.poll.{}", kind.name())
}

/// Settings of the [`NetSuitePoller`].
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// How far before the watermark each query starts. Default 5 minutes.
    pub overlap: Duration,
    /// The account's time zone, in which SuiteQL reads and writes timestamps. Default UTC.
    pub time_zone: TimeZone,
    /// What to poll. Default: everything, items first.
    pub kinds: Vec<PollKind>,
    /// Where to start when no watermark is stored; `None` reads everything (initial load).
    pub initial_watermark: Option<Timestamp>,
    /// SuiteQL page size (1 to 1000). Default 1000.
    pub page_size: u32,
    /// Records read at once (ingestion stays in order). The client's concurrency budget still
    /// bounds the requests in flight. Default 4.
    pub read_concurrency: usize,
    /// How long after its modification time a record is read again even though its time has not
    /// moved. NetSuite's times have whole seconds, so a record read during the second it was
    /// changed in may change again within that second without its time moving; reading it again
    /// until this window has passed (it must exceed the clock difference between NetSuite and
    /// this process) catches that change. Default 30 seconds.
    pub reread_window: Duration,
    /// The cut-over: on a store that has not ingested anything yet, orders (sales, purchase,
    /// returns) last modified before this time are not read, so a go-live does not pick up
    /// every open order. Items are read in full (orders need them). Kept in the store's
    /// go-live record at the first poll and taken from there once the first record is ingested
    /// (the setting is then ignored). Default `None`: orders are read from the beginning.
    pub start_from: Option<Timestamp>,
    /// The go-live window: for this long after the store's first poll the Clarus executor looks
    /// Clarus up by `reference` before creating a goods out or goods-in receipt and adopts one
    /// that exists instead of creating a second (one extra request per create). Measured from
    /// the first poll kept in the store; a store that polled before the go-live record existed
    /// has no window. Default zero: no look-ups.
    pub adopt_existing_for: Duration,
}

impl Default for PollerConfig {
    fn default() -> Self {
        PollerConfig {
            overlap: Duration::from_secs(5 * 60),
            time_zone: TimeZone::UTC,
            kinds: PollKind::ALL.to_vec(),
            initial_watermark: None,
            page_size: 1000,
            read_concurrency: 4,
            reread_window: Duration::from_secs(30),
            start_from: None,
            adopt_existing_for: Duration::ZERO,
        }
    }
}

/// What one pass over one kind did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Rows the query returned.
    pub rows: usize,
    /// Records skipped because they were already ingested at the same modification time.
    pub unchanged: usize,
    /// Orders skipped for their status (pending approval, fully done).
    pub filtered: usize,
    /// Records read and handed to the engine.
    pub fetched: usize,
    /// Records the engine planned.
    pub planned: usize,
    /// Records the engine had seen.
    pub duplicates: usize,
    /// Records the engine could not finish planning (see their exceptions).
    pub blocked: usize,
    /// Records that could not be converted (an `invalid-record` exception each).
    pub invalid: usize,
    /// Records listed by the query but gone when read.
    pub missing: usize,
    /// The watermark after the pass.
    pub watermark: Option<Timestamp>,
}

/// Why a poll pass stopped early. The watermark stays at the last record ingested.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PollError {
    /// NetSuite failed (query or read).
    #[error("polling {kind:?} from NetSuite failed: {source}")]
    NetSuite {
        /// What was being polled.
        kind: PollKind,
        /// The client's error.
        #[source]
        source: netsuite_client::Error,
    },
    /// The query returned a row that cannot be read.
    #[error("polling {kind:?}: unreadable SuiteQL row: {message}")]
    BadRow {
        /// What was being polled.
        kind: PollKind,
        /// What is wrong.
        message: String,
    },
    /// The engine failed to record a plan.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed (watermark, exception).
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Default)]
struct PollerState {
    /// Modification time last ingested per record, and when it was read: a row at the same
    /// time needs no read once the re-read window after that time has passed.
    seen: HashMap<(PollKind, i64), (Timestamp, Timestamp)>,
    skus: SkuIndex,
}

/// Polls NetSuite and ingests what changed. Run [`NetSuitePoller::poll_once`] on a schedule, or
/// [`NetSuitePoller::run`] until shutdown.
///
/// ```no_run
/// # async fn demo(client: netsuite_client::NetSuiteClient, engine: std::sync::Arc<sync_engine::engine::Engine>) {
/// use sync_engine::netsuite::{NetSuitePoller, PollerConfig};
///
/// let poller = NetSuitePoller::new(client, engine, PollerConfig::default());
/// for report in poller.poll_once().await.unwrap() {
///     println!("{report:?}");
/// }
/// # }
/// ```
pub struct NetSuitePoller {
    client: NetSuiteClient,
    engine: Arc<Engine>,
    config: PollerConfig,
    state: Mutex<PollerState>,
    /// The go-live record as this process settled it on its first pass (`None` inside: the
    /// store polled before go-live records were kept).
    go_live: Mutex<Option<Option<GoLive>>>,
}

impl std::fmt::Debug for NetSuitePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSuitePoller")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl NetSuitePoller {
    /// A poller reading through `client` and ingesting into `engine`.
    pub fn new(client: NetSuiteClient, engine: Arc<Engine>, config: PollerConfig) -> Self {
        NetSuitePoller {
            client,
            engine,
            config,
            state: Mutex::new(PollerState::default()),
            go_live: Mutex::new(None),
        }
    }

    /// One pass over every configured kind, in order. Stops at the first kind that fails.
    pub async fn poll_once(&self) -> Result<Vec<(PollKind, PollReport)>, PollError> {
        let mut out = Vec::with_capacity(self.config.kinds.len());
        for &kind in &self.config.kinds {
            out.push((kind, self.poll(kind).await?));
        }
        Ok(out)
    }

    /// Polls every `interval` until `shutdown` turns true. A failed pass is logged and retried at
    /// the next tick; the watermark keeps what was ingested.
    pub async fn run(&self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pass = self
                .poll_once()
                .instrument(tracing::info_span!("netsuite_poll"));
            match pass.await {
                Ok(reports) => {
                    for (kind, r) in reports {
                        tracing::debug!(?kind, ?r, "NetSuite poll pass");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "NetSuite poll pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One pass over one kind.
    pub async fn poll(&self, kind: PollKind) -> Result<PollReport, PollError> {
        let store = self.engine.store().clone();
        let name = watermark_name(kind);
        let stored = store
            .watermark(&name)
            .await?
            .and_then(|w| w.parse::<Timestamp>().ok());
        let watermark = stored.or(self.config.initial_watermark);
        let overlap = SignedDuration::try_from(self.config.overlap).unwrap_or_default();
        let since = watermark.map(|w| w.saturating_sub(overlap).unwrap_or(w));
        // Settled before anything is ingested, whatever the kind: the first poll records it.
        let go_live = self.go_live().await?;
        // Orders never go back before the cut-over, not even by the overlap.
        let cutover = match kind {
            PollKind::Items => None,
            _ => go_live.and_then(|g| g.start_from),
        };
        let since = match (since, cutover) {
            (Some(since), Some(cutover)) => Some(since.max(cutover)),
            (since, cutover) => since.or(cutover),
        };
        let mut report = PollReport {
            watermark,
            ..PollReport::default()
        };
        let rows = self.read_changed(kind, since).await?;
        report.rows = rows.len();
        let mut state = self.state.lock().await;
        let mut newest = watermark;
        let outcome = self
            .ingest_rows(kind, &rows, &mut state, &mut report, &mut newest)
            .await;
        if newest > watermark
            && let Some(newest) = newest
        {
            store.set_watermark(&name, &newest.to_string()).await?;
            report.watermark = Some(newest);
        }
        // Versions older than the next query's start can only come back with a new time.
        if let Some(floor) = report
            .watermark
            .map(|w| w.saturating_sub(overlap).unwrap_or(w))
        {
            state
                .seen
                .retain(|(k, _), (at, _)| *k != kind || *at >= floor);
        }
        outcome.map(|()| report)
    }
}
