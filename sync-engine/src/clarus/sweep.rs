//! The GraphQL sweep: catches despatches and receipts whose webhook never came.
//!
//! Lists goods outs `COMPLETED` and changed since the watermark (minus an overlap), re-reads
//! each with the same [`DespatchReader`] the webhook path uses, and ingests the events. A
//! despatch already seen through its webhook has the same [`sync_core::SourceId`], so it is a
//! duplicate and plans nothing. The watermark only moves past goods outs that were ingested.
//!
//! Goods ins `receiving` or `completed` are swept the same way when Clarus returns their
//! received stock (status, batch, serial per entry): the record is rebuilt as its webhook
//! would carry it and decoded by the same receipt decoder, so the receipt stage (and the
//! identity) is the same. When the read lacks that detail, the sweep compares quantities and
//! raises a [`ReceiptGap`] exception for operations instead of guessing sellable vs quarantine.

use std::sync::Arc;
use std::time::Duration;

use clarus_client::graphql::Filter;
use clarus_client::{ClarusClient, ClarusError, ClarusId};
use jiff::{SignedDuration, Timestamp};

use rust_decimal::Decimal;
use sync_core::Event;

use super::despatch::DespatchReader;
use super::executor::list;
use super::nodes::{GoodsInDetailRead, GoodsOutRead};
use super::receipt::{ReceiptDecoder, record_from_detail};
use crate::engine::{Engine, EngineError, IngestOutcome};
use crate::processor::DecodeError;
use crate::store::{NewException, Store, StoreError};

/// The store entry holding the goods-out sweep's watermark (an RFC 3339 `updated_at`).
pub const SWEEP_WATERMARK: &str = "clarus.sweep.goods_out.updated_at";

/// The store entry holding the goods-in sweep's watermark (an RFC 3339 `updated_at`).
pub const RECEIPT_SWEEP_WATERMARK: &str = "clarus.sweep.goods_in.updated_at";

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// Listing goods outs failed; nothing was ingested and the watermark is unchanged.
    #[error("listing completed goods outs failed: {0}")]
    Clarus(#[from] ClarusError),
    /// Planning or recording an event failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The watermark could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A goods out or goods in the sweep could not turn into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepFailure {
    /// `goods_out` or `goods_in`.
    pub resource: &'static str,
    /// The record.
    pub id: ClarusId,
    /// Why; retryable ones are swept again next time, invalid ones are reported every time
    /// until fixed.
    pub error: DecodeError,
}

/// A goods in holding more received stock than its receipts reported, whose detail (status,
/// batch, serial per entry) Clarus's GraphQL read did not return: its last webhook was lost
/// and the receipt cannot be rebuilt. Raised as an exception for operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptGap {
    /// The goods in.
    pub goods_in: ClarusId,
    /// Quantity Clarus shows received.
    pub received_in_clarus: Decimal,
    /// Quantity reported by receipts so far.
    pub reported: Decimal,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Completed goods outs found since the goods-out watermark.
    pub scanned: usize,
    /// Receiving or completed goods ins found since the goods-in watermark.
    pub receipts_scanned: usize,
    /// Events planned now (their webhook never came, or has not been processed yet).
    pub planned: usize,
    /// Events already known (seen through their webhook or an earlier sweep).
    pub duplicates: usize,
    /// Events blocked by the core (see its exceptions); swept again next time.
    pub blocked: usize,
    /// Records that could not be turned into events.
    pub failed: Vec<SweepFailure>,
    /// Goods ins whose lost receipt could not be rebuilt (raised as exceptions).
    pub gaps: Vec<ReceiptGap>,
    /// The goods-out watermark after the sweep.
    pub watermark: Option<Timestamp>,
}

/// Sweeps Clarus for completed goods outs and received goods ins.
///
/// ```no_run
/// # async fn demo(reader: sync_engine::clarus::DespatchReader, client: clarus_client::ClarusClient,
/// #   store: std::sync::Arc<dyn sync_engine::store::Store>, engine: &sync_engine::engine::Engine)
/// #   -> Result<(), sync_engine::clarus::SweepError> {
/// use sync_engine::clarus::ClarusSweep;
/// let sweep = ClarusSweep::new(client, reader, store);
/// let report = sweep.run(engine).await?;
/// println!("{} events caught by the sweep", report.planned);
/// # Ok(()) }
/// ```
pub struct ClarusSweep {
    client: ClarusClient,
    reader: DespatchReader,
    receipts: ReceiptDecoder,
    store: Arc<dyn Store>,
    /// How far back of the watermark each sweep starts (clock skew between Clarus's writes and
    /// its `updated_at`). Default five minutes.
    pub overlap: Duration,
}

impl std::fmt::Debug for ClarusSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClarusSweep")
            .field("overlap", &self.overlap)
            .finish_non_exhaustive()
    }
}

/// Where a watermark may move after a pass: up to the newest change seen, but not past the
/// oldest record that must be swept again.
struct Progress {
    since: Option<Timestamp>,
    newest: Option<Timestamp>,
    hold_at: Option<Timestamp>,
}

impl Progress {
    fn new(since: Option<Timestamp>) -> Self {
        Progress {
            since,
            newest: since,
            hold_at: None,
        }
    }

    fn seen(&mut self, changed: Option<Timestamp>, retry_later: bool) {
        let Some(changed) = changed else { return };
        if retry_later {
            self.hold_at = Some(self.hold_at.map_or(changed, |h| h.min(changed)));
        }
        self.newest = Some(self.newest.map_or(changed, |n| n.max(changed)));
    }

    /// The new watermark, when it moved.
    fn next(&self) -> Option<Timestamp> {
        let next = match self.hold_at {
            // The filter includes its bound, so holding at the record sweeps it again.
            Some(hold) => self.since.map_or(hold, |s| s.max(hold)),
            None => self.newest?,
        };
        (Some(next) != self.since).then_some(next)
    }
}

impl ClarusSweep {
    /// A sweep over `client`, reading despatches with `reader` (the same reader the webhook
    /// decoder uses) and keeping its watermarks and the receipt stages in `store`.
    pub fn new(client: ClarusClient, reader: DespatchReader, store: Arc<dyn Store>) -> Self {
        ClarusSweep {
            receipts: ReceiptDecoder {
                client: client.clone(),
                tenant: reader.tenant().clone(),
                store: store.clone(),
            },
            client,
            reader,
            store,
            overlap: Duration::from_secs(300),
        }
    }

    fn filter_since(&self, filter: Filter, since: Option<Timestamp>) -> Filter {
        match since {
            Some(since) => {
                let overlap = SignedDuration::try_from(self.overlap).unwrap_or_default();
                filter.from("updated_at", since - overlap)
            }
            None => filter,
        }
    }

    async fn watermark(&self, name: &str) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .store
            .watermark(name)
            .await?
            .and_then(|w| w.parse::<Timestamp>().ok()))
    }

    /// Ingests one event; answers whether the record must be swept again.
    async fn ingest(
        &self,
        engine: &Engine,
        event: &Event,
        report: &mut SweepReport,
    ) -> Result<bool, EngineError> {
        Ok(match engine.ingest(event, Timestamp::now()).await? {
            IngestOutcome::Planned { .. } => {
                report.planned += 1;
                false
            }
            IngestOutcome::Duplicate => {
                report.duplicates += 1;
                false
            }
            IngestOutcome::Blocked { .. } => {
                report.blocked += 1;
                true
            }
        })
    }

    fn failed(
        report: &mut SweepReport,
        resource: &'static str,
        id: ClarusId,
        error: DecodeError,
    ) -> bool {
        let retry = matches!(error, DecodeError::Retryable(_));
        tracing::warn!(%resource, %id, %error, "sweep could not read a record");
        report.failed.push(SweepFailure {
            resource,
            id,
            error,
        });
        retry
    }

    /// Sweeps once: ingests a despatch for every completed goods out and the receipts of every
    /// received goods in changed since the watermarks, and moves each watermark up to the
    /// oldest record that must be swept again.
    pub async fn run(&self, engine: &Engine) -> Result<SweepReport, SweepError> {
        let mut report = SweepReport::default();
        self.sweep_despatches(engine, &mut report).await?;
        self.sweep_receipts(engine, &mut report).await?;
        Ok(report)
    }

    async fn sweep_despatches(
        &self,
        engine: &Engine,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let since = self.watermark(SWEEP_WATERMARK).await?;
        let filter = self.filter_since(
            Filter::new().eq("goods_out_status_code", "COMPLETED"),
            since,
        );
        let mut found: Vec<GoodsOutRead> = list(&self.client, filter).await?;
        found.sort_by_key(|g| (updated(g), g.id));
        report.scanned = found.len();
        let mut progress = Progress::new(since);
        for goods_out in &found {
            // A despatch already planned from its webhook (or an earlier pass) needs no re-read:
            // the listed header names its identity, and the ledger knows it.
            if self.despatch_seen(goods_out).await? {
                report.duplicates += 1;
                progress.seen(updated(goods_out), false);
                continue;
            }
            let retry_later = match self.reader.read(goods_out.id, None).await {
                Ok(event) => self.ingest(engine, &event, report).await?,
                Err(e) => Self::failed(report, "goods_out", goods_out.id, e),
            };
            progress.seen(updated(goods_out), retry_later);
        }
        report.watermark = since;
        if let Some(next) = progress.next() {
            self.store
                .set_watermark(SWEEP_WATERMARK, &next.to_string())
                .await?;
            report.watermark = Some(next);
        }
        Ok(())
    }

    /// Whether the despatch of this completed goods out is already in the ledger, judged from
    /// its listed header (the same identity [`DespatchReader::read`] gives it).
    async fn despatch_seen(&self, goods_out: &GoodsOutRead) -> Result<bool, SweepError> {
        let despatched_at = goods_out
            .actual_date_of_dispatch
            .as_ref()
            .and_then(|d| d.timestamp())
            .or_else(|| goods_out.updated_at.as_ref().and_then(|d| d.timestamp()));
        let Some(despatched_at) = despatched_at else {
            return Ok(false);
        };
        let source = super::despatch::despatch_source(goods_out.id, despatched_at);
        Ok(self
            .store
            .event_seen(&crate::engine::event_key(&source))
            .await?)
    }

    async fn sweep_receipts(
        &self,
        engine: &Engine,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let since = self.watermark(RECEIPT_SWEEP_WATERMARK).await?;
        let filter = self.filter_since(
            Filter::new().any_of("status", ["receiving", "completed"]),
            since,
        );
        let mut found: Vec<GoodsInDetailRead> = list(&self.client, filter).await?;
        let changed = |g: &GoodsInDetailRead| g.updated_at.as_ref().and_then(|d| d.timestamp());
        found.sort_by_key(|g| (changed(g), g.id));
        report.receipts_scanned = found.len();
        let mut progress = Progress::new(since);
        for goods_in in &found {
            let retry_later = match record_from_detail(goods_in) {
                Some(record) => match self.receipts.decode(&record).await {
                    Ok(events) => {
                        let mut retry = false;
                        for event in &events {
                            retry |= self.ingest(engine, event, report).await?;
                        }
                        retry
                    }
                    Err(e) => Self::failed(report, "goods_in", goods_in.id, e),
                },
                None => match self.check_gap(goods_in, report).await {
                    Ok(()) => false,
                    Err(e) => Self::failed(report, "goods_in", goods_in.id, e),
                },
            };
            progress.seen(changed(goods_in), retry_later);
        }
        if let Some(next) = progress.next() {
            self.store
                .set_watermark(RECEIPT_SWEEP_WATERMARK, &next.to_string())
                .await?;
        }
        Ok(())
    }

    /// Without the received stock detail, a receipt cannot be rebuilt: compare quantities and
    /// raise an exception when Clarus holds more than was reported.
    async fn check_gap(
        &self,
        goods_in: &GoodsInDetailRead,
        report: &mut SweepReport,
    ) -> Result<(), DecodeError> {
        let received: Decimal = goods_in
            .lines
            .iter()
            .flatten()
            .filter_map(|l| l.received_quantity)
            .sum();
        let reported = self.receipts.reported_quantity(goods_in.id).await?;
        let id = goods_in.id;
        let key = format!("EX-CLARUS-RECEIPT-GAP-{id}");
        if received <= reported {
            // A later webhook may have carried what was missing: clear a gap raised earlier.
            match self
                .store
                .resolve_exception(
                    &key,
                    "a later receipt reported everything Clarus shows received",
                    Timestamp::now(),
                )
                .await
            {
                Ok(()) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => tracing::warn!(%id, error = %e, "could not resolve a receipt gap"),
            }
            return Ok(());
        }
        let exception = NewException {
            key,
            kind: "receipt-not-reported".into(),
            owner: "operations".into(),
            severity: "error".into(),
            document: format!("goods in {id}"),
            message: format!(
                "goods in {id}: Clarus shows {received} received but receipts reported {reported}; \
                 its webhook was lost and the received stock cannot be read back, so the rest was \
                 not posted to NetSuite"
            ),
            runbook: "operations.md#receipt-not-reported".into(),
            payload: serde_json::json!({
                "goods_in": id,
                "received_in_clarus": received,
                "reported": reported,
            }),
        };
        self.store
            .raise_exception(exception, Timestamp::now())
            .await
            .map_err(|e| DecodeError::Retryable(format!("raising the receipt gap of {id}: {e}")))?;
        report.gaps.push(ReceiptGap {
            goods_in: id,
            received_in_clarus: received,
            reported,
        });
        Ok(())
    }
}

fn updated(goods_out: &GoodsOutRead) -> Option<Timestamp> {
    goods_out
        .updated_at
        .as_ref()
        .and_then(|d| d.timestamp())
        .or_else(|| {
            goods_out
                .actual_date_of_dispatch
                .as_ref()
                .and_then(|d| d.timestamp())
        })
}
