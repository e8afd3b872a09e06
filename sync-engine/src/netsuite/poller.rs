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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use sync_core::ExceptionKind;

use futures_util::{StreamExt, TryStreamExt, stream};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use netsuite_client::records::{InventoryItem, PurchaseOrder, ReturnAuthorization, SalesOrder};
use netsuite_client::suiteql::{Query, StreamOptions, lenient};
use netsuite_client::{NetSuiteClient, RecordId, RecordKey, RecordType};
use serde::{Deserialize, Serialize};
use sync_core::{Event, NetSuiteId};
use tokio::sync::{Mutex, watch};
use tracing::Instrument;

use super::convert::{self, ConversionError, SkuIndex};
use crate::engine::{Engine, EngineError, IngestOutcome};
use crate::store::{NewException, StoreError};

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

/// Order status letters that are ingested: open (pending, partly done), cancelled or rejected,
/// closed. Pending approval and fully done orders need nothing from the warehouse.
const INGESTED_STATUSES: [&str; 5] = ["B", "D", "E", "C", "H"];

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

/// The store entry of the go-live record. The Clarus executor reads its `adopt_until` under the
/// same name (`sync-engine/src/clarus/executor.rs`).
const GO_LIVE_RECORD: &str = "go_live";

/// What the store keeps of its go-live, written on its first poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GoLive {
    /// When the store was first polled: the start of the adoption window.
    first_poll: Timestamp,
    /// The cut-over: orders last modified before it are not read.
    #[serde(default)]
    start_from: Option<Timestamp>,
    /// The end of the adoption window (`first_poll` + [`PollerConfig::adopt_existing_for`]).
    #[serde(default)]
    adopt_until: Option<Timestamp>,
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

#[derive(Deserialize)]
struct ChangedRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    islotitem: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    isserialitem: Option<bool>,
    modified: String,
}

#[derive(Deserialize)]
struct ItemSkuRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    itemid: String,
}

/// What a row needs.
enum Triage {
    /// Ingested before at this modification time.
    Unchanged,
    /// An order in a status that needs nothing.
    Filtered,
    /// To be read as this record type.
    Read(RecordType),
}

/// A record as read.
enum Fetched {
    Item(InventoryItem),
    Sales(SalesOrder),
    Purchase(PurchaseOrder),
    Return(ReturnAuthorization),
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

    fn to_account_time(&self, at: Timestamp) -> jiff::civil::DateTime {
        at.to_zoned_datetime(self.config.time_zone.clone())
            .datetime()
    }

    fn parse_account_time(&self, text: &str) -> Option<Timestamp> {
        let civil: jiff::civil::DateTime =
            jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S", text.trim())
                .ok()?
                .to_datetime()
                .ok()?;
        civil
            .to_zoned_datetime(self.config.time_zone.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// The query of a pass: records changed at or after `since`, oldest first.
    /// The query of one page: rows of `kind` modified at or after `since`, in
    /// `(lastmodifieddate, id)` order, after the row `after` when a page was read before (its
    /// modification time in the account's time zone and its id).
    fn query(
        &self,
        kind: PollKind,
        since: Option<Timestamp>,
        after: Option<(jiff::civil::DateTime, i64)>,
    ) -> Query {
        let modified = "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified";
        let (text, typed) = match kind.transaction_type() {
            None => (
                format!(
                    "SELECT id, islotitem, isserialitem, {modified} FROM item WHERE itemtype = 'InvtPart'"
                ),
                None,
            ),
            Some(t) => (
                format!("SELECT id, status, {modified} FROM transaction WHERE type = ?"),
                Some(t),
            ),
        };
        let mut text = text;
        // After a page, the next starts at the last row read: its time bounds the query as the
        // watermark does, and the rows of that same second come after its id.
        let from = match after {
            Some((at, _)) => Some(at),
            None => since.map(|since| self.to_account_time(since)),
        };
        if from.is_some() {
            text.push_str(" AND lastmodifieddate >= ?");
        }
        if after.is_some() {
            text.push_str(" AND (lastmodifieddate > ? OR id > ?)");
        }
        text.push_str(" ORDER BY lastmodifieddate, id");
        let mut query = Query::new(text);
        if let Some(t) = typed {
            query = query.bind(t);
        }
        if let Some(from) = from {
            query = query.bind(from);
        }
        if let Some((at, id)) = after {
            query = query.bind(at).bind(id);
        }
        query
    }

    /// Reads every row of `kind` changed since `since`, a page at a time, each page starting
    /// after the last row read (keyset paging on `(lastmodifieddate, id)`).
    ///
    /// Each SuiteQL page is a fresh query. Paging by offset, a record modified while the pages
    /// are read moves to the end of the result and every row behind it moves up a place, so the
    /// row at the next page's boundary would never be read; and once the watermark has passed
    /// its time, no later poll would read it either. Starting each page after the last row read
    /// reads a moved record again at its new place and skips none.
    async fn read_changed(
        &self,
        kind: PollKind,
        since: Option<Timestamp>,
    ) -> Result<Vec<ChangedRow>, PollError> {
        let limit = self.config.page_size.clamp(1, 1000);
        let netsuite = |source| PollError::NetSuite { kind, source };
        let mut rows: Vec<ChangedRow> = Vec::new();
        let mut after = None;
        loop {
            let text = self.query(kind, since, after).build().map_err(netsuite)?;
            let (page, has_more) = self
                .client
                .suiteql_page::<ChangedRow>(&text, limit, 0)
                .await
                .map_err(netsuite)?;
            let Some(last) = page.last() else {
                break;
            };
            let at = self
                .parse_account_time(&last.modified)
                .map(|t| self.to_account_time(t))
                .ok_or_else(|| PollError::BadRow {
                    kind,
                    message: format!(
                        "record {} has an unreadable modification time {:?}",
                        last.id, last.modified
                    ),
                })?;
            let next = Some((at, last.id));
            let done = !has_more || page.len() < limit as usize || next == after;
            after = next;
            rows.extend(page);
            if done {
                break;
            }
        }
        Ok(rows)
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

    /// The store's go-live record, settled once per process: written on the store's first poll
    /// (no go-live record, no watermark of any kind); its cut-over taken from the configuration
    /// until the first record is ingested; its adoption window's end always re-computed from the
    /// configuration, so a changed window applies from the next start. A store that polled
    /// before go-live records were kept gets none (no cut-over, no adoption).
    async fn go_live(&self) -> Result<Option<GoLive>, StoreError> {
        let mut settled = self.go_live.lock().await;
        if let Some(known) = &*settled {
            return Ok(known.clone());
        }
        let store = self.engine.store();
        let stored: Option<GoLive> = store
            .watermark(GO_LIVE_RECORD)
            .await?
            .and_then(|text| serde_json::from_str(&text).ok());
        let mut ingested = false;
        for kind in PollKind::ALL {
            if store.watermark(&watermark_name(kind)).await?.is_some() {
                ingested = true;
                break;
            }
        }
        let record = match stored.clone() {
            None if ingested => None,
            None => Some(GoLive {
                first_poll: self.engine.clock().now(),
                start_from: self.config.start_from,
                adopt_until: None,
            }),
            Some(record) => Some(record),
        }
        .map(|mut record| {
            if !ingested {
                record.start_from = self.config.start_from;
            }
            let window = SignedDuration::try_from(self.config.adopt_existing_for)
                .unwrap_or(SignedDuration::MAX);
            record.adopt_until = Some(
                record
                    .first_poll
                    .checked_add(window)
                    .unwrap_or(Timestamp::MAX),
            );
            record
        });
        if let Some(record) = &record
            && stored.as_ref() != Some(record)
        {
            let text = serde_json::to_string(record).unwrap_or_default();
            store.set_watermark(GO_LIVE_RECORD, &text).await?;
            tracing::info!(
                first_poll = %record.first_poll,
                start_from = ?record.start_from.map(|t| t.to_string()),
                adopt_until = ?record.adopt_until.map(|t| t.to_string()),
                new = stored.is_none(),
                "go-live record of this store"
            );
        }
        *settled = Some(record.clone());
        Ok(record)
    }

    /// What to do with one row, decided before any record is read.
    fn triage(
        &self,
        kind: PollKind,
        row: &ChangedRow,
        state: &PollerState,
    ) -> Result<(Timestamp, Triage), PollError> {
        let modified = self
            .parse_account_time(&row.modified)
            .ok_or_else(|| PollError::BadRow {
                kind,
                message: format!("record {}: modified {:?}", row.id, row.modified),
            })?;
        let window = SignedDuration::try_from(self.config.reread_window).unwrap_or_default();
        if let Some((seen, read_at)) = state.seen.get(&(kind, row.id))
            && *seen == modified
            && *read_at >= modified + window
        {
            return Ok((modified, Triage::Unchanged));
        }
        if kind != PollKind::Items {
            let letter = row
                .status
                .as_deref()
                .and_then(|s| s.rsplit(':').next())
                .unwrap_or_default();
            if !INGESTED_STATUSES.contains(&letter) {
                return Ok((modified, Triage::Filtered));
            }
        }
        Ok((modified, Triage::Read(record_type_of(kind, row))))
    }

    /// Reads the rows' records (several at once, in order), converts and ingests them one by
    /// one. `newest` follows the last row handled, so a failure leaves it before the failed row.
    async fn ingest_rows(
        &self,
        kind: PollKind,
        rows: &[ChangedRow],
        state: &mut PollerState,
        report: &mut PollReport,
        newest: &mut Option<Timestamp>,
    ) -> Result<(), PollError> {
        let mut plans = Vec::with_capacity(rows.len());
        for row in rows {
            plans.push((row.id, self.triage(kind, row, state)?));
        }
        let mut steps = stream::iter(plans)
            .map(|(id, (modified, triage))| async move {
                let fetched = match &triage {
                    Triage::Read(record_type) => Some(self.fetch(kind, record_type, id).await),
                    Triage::Unchanged | Triage::Filtered => None,
                };
                (id, modified, triage, fetched)
            })
            .buffered(self.config.read_concurrency.max(1));
        while let Some((id, modified, triage, fetched)) = steps.next().await {
            let advance = |newest: &mut Option<Timestamp>| {
                if newest.is_none_or(|n| modified > n) {
                    *newest = Some(modified);
                }
            };
            let record_type = match triage {
                Triage::Unchanged => {
                    report.unchanged += 1;
                    advance(newest);
                    continue;
                }
                Triage::Filtered => {
                    report.filtered += 1;
                    advance(newest);
                    continue;
                }
                Triage::Read(record_type) => record_type,
            };
            let record = match fetched {
                Some(Ok(Some(record))) => record,
                Some(Ok(None)) | None => {
                    report.missing += 1;
                    advance(newest);
                    continue;
                }
                Some(Err(source)) => return Err(PollError::NetSuite { kind, source }),
            };
            report.fetched += 1;
            let converted = self
                .convert(&record_type, record, &mut state.skus)
                .await
                .map_err(|source| PollError::NetSuite { kind, source })?;
            match converted {
                Ok(event) => {
                    self.resolve_invalid(&record_type, id).await?;
                    match self
                        .engine
                        .ingest(&event, self.engine.clock().now())
                        .await?
                    {
                        IngestOutcome::Duplicate => report.duplicates += 1,
                        IngestOutcome::Planned { .. } => report.planned += 1,
                        IngestOutcome::Blocked { exceptions } => {
                            // The order is recorded; the engine re-plans it when its exception
                            // is retried or the mapping fixed.
                            tracing::info!(record = %record_type, id, exceptions, "record blocked");
                            report.blocked += 1;
                        }
                    }
                    if let sync_core::Payload::Item(item) = &event.payload {
                        state
                            .skus
                            .insert(item.netsuite_id.clone(), item.sku.clone());
                    }
                }
                Err(problem) => {
                    report.invalid += 1;
                    self.raise_invalid(&record_type, id, modified, &problem)
                        .await?;
                }
            }
            state
                .seen
                .insert((kind, id), (modified, self.engine.clock().now()));
            advance(newest);
        }
        Ok(())
    }

    /// Reads one record with its sublists. `Ok(None)`: it no longer exists.
    async fn fetch(
        &self,
        kind: PollKind,
        record_type: &RecordType,
        id: i64,
    ) -> Result<Option<Fetched>, netsuite_client::Error> {
        let key = RecordKey::Id(RecordId::new(id.to_string())?);
        macro_rules! fetch {
            ($ty:ty, $variant:ident) => {
                match self
                    .client
                    .get_as::<$ty>(record_type.clone(), key)
                    .expand_sub_resources(true)
                    .send()
                    .await
                {
                    Ok(record) => Ok(Some(Fetched::$variant(record))),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e),
                }
            };
        }
        match kind {
            PollKind::Items => fetch!(InventoryItem, Item),
            PollKind::SalesOrders => fetch!(SalesOrder, Sales),
            PollKind::PurchaseOrders => fetch!(PurchaseOrder, Purchase),
            PollKind::ReturnAuthorisations => fetch!(ReturnAuthorization, Return),
        }
    }

    /// Converts a record, first learning the SKUs of the items its lines name.
    async fn convert(
        &self,
        record_type: &RecordType,
        record: Fetched,
        skus: &mut SkuIndex,
    ) -> Result<Result<Event, ConversionError>, netsuite_client::Error> {
        Ok(match record {
            Fetched::Item(r) => convert::item_event(record_type.as_str(), &r),
            Fetched::Sales(r) => {
                let items = convert::line_items(
                    r.item
                        .iter()
                        .flat_map(|s| &s.items)
                        .map(|l| l.item.as_ref()),
                );
                self.learn_skus(&items, skus).await?;
                convert::sales_order_event(&r, skus)
            }
            Fetched::Purchase(r) => {
                let items = convert::line_items(
                    r.item
                        .iter()
                        .flat_map(|s| &s.items)
                        .map(|l| l.item.as_ref()),
                );
                self.learn_skus(&items, skus).await?;
                convert::purchase_order_event(&r, skus)
            }
            Fetched::Return(r) => {
                let items = convert::line_items(
                    r.item
                        .iter()
                        .flat_map(|s| &s.items)
                        .map(|l| l.item.as_ref()),
                );
                self.learn_skus(&items, skus).await?;
                convert::return_authorization_event(&r, skus)
            }
        })
    }

    /// Looks up the SKUs of items not yet in the index, in one query.
    async fn learn_skus(
        &self,
        items: &[NetSuiteId],
        skus: &mut SkuIndex,
    ) -> Result<(), netsuite_client::Error> {
        let unknown: Vec<i64> = items
            .iter()
            .filter(|i| !skus.contains(i))
            .filter_map(|i| i.as_str().parse().ok())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let query =
            Query::new("SELECT id, itemid FROM item WHERE id IN ? ORDER BY id").bind(unknown);
        let rows: Vec<ItemSkuRow> = self
            .client
            .suiteql(query, StreamOptions::default())
            .try_collect()
            .await?;
        for row in rows {
            skus.insert(NetSuiteId::new(row.id.to_string()), row.itemid.into());
        }
        Ok(())
    }

    /// Closes the `invalid-record` exception of a record that now reads well (it was corrected
    /// in NetSuite, which changed its modification time, so the poller read it again).
    async fn resolve_invalid(&self, record_type: &RecordType, id: i64) -> Result<(), StoreError> {
        let key = invalid_key(record_type, id);
        let store = self.engine.store();
        if store
            .exception(&key)
            .await?
            .is_some_and(|e| e.resolved_at.is_none())
        {
            store
                .resolve_exception(
                    &key,
                    "the record reads well since it was corrected in NetSuite",
                    self.engine.clock().now(),
                )
                .await?;
        }
        Ok(())
    }

    async fn raise_invalid(
        &self,
        record_type: &RecordType,
        id: i64,
        modified: Timestamp,
        problem: &ConversionError,
    ) -> Result<(), StoreError> {
        tracing::warn!(record = %record_type, id, error = %problem, "NetSuite record cannot be converted");
        let exception = NewException::of(
            ExceptionKind::InvalidRecord,
            invalid_key(record_type, id),
            format!("NetSuite {record_type} {id}"),
            format!(
                "NetSuite {record_type} {id} (modified {modified}) cannot be read into the integration: {problem}"
            ),
            serde_json::json!({
                "record_type": record_type.as_str(),
                "id": id.to_string(),
                "modified": modified.to_string(),
                "error": problem.to_string(),
            }),
        );
        // Read again while still invalid: the exception shows the latest problem.
        self.engine
            .store()
            .refresh_exception(exception, self.engine.clock().now())
            .await
    }
}

fn record_type_of(kind: PollKind, row: &ChangedRow) -> RecordType {
    RecordType::from_static(match kind {
        PollKind::Items => match (row.isserialitem, row.islotitem) {
            (Some(true), _) => "serializedInventoryItem",
            (_, Some(true)) => "lotNumberedInventoryItem",
            _ => "inventoryItem",
        },
        PollKind::SalesOrders => "salesOrder",
        PollKind::PurchaseOrders => "purchaseOrder",
        PollKind::ReturnAuthorisations => "returnAuthorization",
    })
}

/// The key of the `invalid-record` exception of one NetSuite record.
fn invalid_key(record_type: &RecordType, id: i64) -> String {
    format!("EX-NS-INVALID-{record_type}-{id}")
}
