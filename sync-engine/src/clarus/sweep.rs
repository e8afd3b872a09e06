//! The GraphQL sweep: catches despatches and receipts whose webhook never came.
//!
//! Clarus documents no change-date field or filter on goods outs and receipts, so the sweep does
//! not list what changed: it asks about what the ledger is still waiting for. The NetSuite
//! orders that are open with something left to ship or receive
//! ([`sync_core::OrderState::awaits_warehouse`]) are looked up by `reference` (their `tranId`,
//! documented filter with `in`), in chunks of [`CHUNK`].
//!
//! - A goods out being picked or completed whose stock left (its newest `DISP` transaction)
//!   without everything being reported is read again with the same [`DespatchReader`] the
//!   webhook path uses, once that is older than the overlap (so a webhook still on its way wins,
//!   with its lots and serials). Its despatches have the same [`sync_core::SourceId`]s as the
//!   webhook's, so seeing both plans once.
//! - Clarus documents no read of a receipt's lines, so a lost receipt cannot be rebuilt. A goods
//!   in found `completed` whose `completed` webhook was never processed, for longer than the
//!   overlap, raises a `receipt-not-reported` exception for operations, closed by itself when
//!   the webhook is processed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_core::ExceptionKind;

use clarus_client::graphql::Filter;
use clarus_client::{ClarusClient, ClarusId};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::{Event, OrderKind};

use super::despatch::DespatchReader;
use super::executor::list;
use super::nodes::{GoodsInRead, GoodsOutRead};
use super::receipt::{ReceiptDecoder, receipt_gap_key};
use super::shipped::Shipped;
use crate::engine::{Engine, EngineError, IngestOutcome};
use crate::processor::DecodeError;
use crate::store::{NewException, Store, StoreError};

/// Why one goods out was not swept: its own failure (reported, the sweep goes on) or one that
/// stops the sweep.
enum Swept {
    Failed(DecodeError),
    Stop(SweepError),
}

/// References asked for in one query.
pub const CHUNK: usize = 50;

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// Clarus could not be listed.
    #[error("listing goods outs or receipts in Clarus failed: {0}")]
    Clarus(#[from] clarus_client::Error),
    /// Planning failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What the adapter keeps per record could not be read or written.
    #[error(transparent)]
    Kept(#[from] super::kept::KeptError),
}

/// A record the sweep found but could not turn into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepFailure {
    /// `goods_out` or `goods_in`.
    pub resource: &'static str,
    /// The Clarus id.
    pub id: ClarusId,
    /// Why.
    pub error: DecodeError,
}

/// A completed goods in whose `completed` webhook was never processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptGap {
    /// The goods in.
    pub goods_in: ClarusId,
    /// Its reference.
    pub reference: String,
    /// Quantity its receipts reported so far.
    pub reported: Decimal,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Open sales orders asked about.
    pub orders_asked: usize,
    /// Completed goods outs found for them.
    pub scanned: usize,
    /// Receipts found for open inbound orders.
    pub receipts_scanned: usize,
    /// Events planned.
    pub planned: usize,
    /// Already seen.
    pub duplicates: usize,
    /// Completed too recently: left for their webhook, looked at again next run.
    pub waiting: usize,
    /// Planned but blocked (deferred by the core).
    pub blocked: usize,
    /// Found but not decodable.
    pub failed: Vec<SweepFailure>,
    /// Completed receipts never reported (an exception was raised for each).
    pub gaps: Vec<ReceiptGap>,
}

/// Sweeps Clarus for despatches and receipts of open orders whose webhook was lost.
///
/// ```no_run
/// # async fn demo(client: clarus_client::ClarusClient,
/// #     reader: sync_engine::clarus::DespatchReader,
/// #     store: std::sync::Arc<dyn sync_engine::store::Store>,
/// #     engine: &sync_engine::engine::Engine) -> Result<(), sync_engine::clarus::SweepError> {
/// let sweep = sync_engine::clarus::ClarusSweep::new(client, reader, store);
/// let report = sweep.run(engine).await?;
/// println!("{} despatches planned, {} receipt gaps", report.planned, report.gaps.len());
/// # Ok(()) }
/// ```
pub struct ClarusSweep {
    client: ClarusClient,
    reader: DespatchReader,
    receipts: ReceiptDecoder,
    store: Arc<dyn Store>,
    /// When each completed goods out without a `DISP` transaction was first seen (in memory: a
    /// restart only delays it by one overlap).
    first_seen: Mutex<HashMap<ClarusId, Timestamp>>,
    /// How long a completed record is left to its webhook before the sweep acts. Default 5 min.
    pub overlap: Duration,
}

impl std::fmt::Debug for ClarusSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClarusSweep")
            .field("overlap", &self.overlap)
            .finish_non_exhaustive()
    }
}

impl ClarusSweep {
    /// A sweep reading with `client`, re-reading despatches with `reader`.
    pub fn new(client: ClarusClient, reader: DespatchReader, store: Arc<dyn Store>) -> Self {
        ClarusSweep {
            receipts: ReceiptDecoder {
                client: client.clone(),
                tenant: reader.tenant().clone(),
                store: store.clone(),
                clock: reader.clock().clone(),
            },
            client,
            reader,
            store,
            first_seen: Mutex::new(HashMap::new()),
            overlap: Duration::from_secs(300),
        }
    }

    /// Sweeps despatches, then receipts.
    ///
    /// Errors: Clarus could not be listed, planning or the store failed. Records that could not
    /// be read are reported in [`SweepReport::failed`] and looked at again next run.
    pub async fn run(&self, engine: &Engine) -> Result<SweepReport, SweepError> {
        let mut report = SweepReport::default();
        // Age is measured against the intake's horizon: a webhook waiting there is not lost.
        let waiting =
            super::horizon::oldest_waiting(self.store.as_ref(), engine.clock().now()).await?;
        self.sweep_despatches(engine, waiting, &mut report).await?;
        self.sweep_receipts(engine, waiting, &mut report).await?;
        Ok(report)
    }

    /// Whether something that happened `at` is older than the overlap at the intake's horizon
    /// at `now` (`waiting`: when the oldest Clarus webhook still waiting arrived).
    fn settled(&self, at: Timestamp, now: Timestamp, waiting: Option<Timestamp>) -> bool {
        let overlap = SignedDuration::try_from(self.overlap).unwrap_or_default();
        super::horizon::sweep_horizon(now, waiting) - overlap >= at
    }

    async fn ingest(
        &self,
        engine: &Engine,
        event: &Event,
        report: &mut SweepReport,
    ) -> Result<(), EngineError> {
        match engine.ingest(event, engine.clock().now()).await? {
            IngestOutcome::Planned { .. } => report.planned += 1,
            IngestOutcome::Duplicate => report.duplicates += 1,
            IngestOutcome::Blocked { .. } => report.blocked += 1,
        }
        Ok(())
    }

    fn failed(report: &mut SweepReport, resource: &'static str, id: ClarusId, error: DecodeError) {
        tracing::warn!(%resource, %id, %error, "sweep could not read a record");
        report.failed.push(SweepFailure {
            resource,
            id,
            error,
        });
    }

    /// `(tranId, internal id)` of the open orders of these kinds, sorted by `tranId`.
    async fn awaited(engine: &Engine, kinds: &[OrderKind]) -> Vec<(String, String)> {
        let mut orders: Vec<(String, String)> = engine
            .with_state(|state| {
                state
                    .orders()
                    .filter(|o| kinds.contains(&o.order.order.kind) && o.awaits_warehouse())
                    .map(|o| {
                        (
                            o.order.tran_id.clone(),
                            o.order.order.id.as_str().to_owned(),
                        )
                    })
                    .collect()
            })
            .await;
        orders.sort();
        orders
    }

    async fn sweep_despatches(
        &self,
        engine: &Engine,
        waiting: Option<Timestamp>,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let orders = Self::awaited(engine, &[OrderKind::Sales]).await;
        report.orders_asked = orders.len();
        for chunk in orders.chunks(CHUNK) {
            // Being picked (a part may have shipped) or completed.
            let filter = Filter::new()
                .any_of("reference", chunk.iter().map(|(r, _)| r.as_str()))
                .any_of("goods_out_status_code", ["PICK", "COMPLETED"]);
            let found: Vec<GoodsOutRead> = list(&self.client, filter).await?;
            for goods_out in found {
                let Some((reference, order)) = chunk
                    .iter()
                    .find(|(r, _)| goods_out.reference.as_deref() == Some(r.as_str()))
                else {
                    continue;
                };
                report.scanned += 1;
                if let Err(e) = self
                    .sweep_goods_out(engine, waiting, &goods_out, reference, order, report)
                    .await
                {
                    match e {
                        Swept::Failed(e) => Self::failed(report, "goods_out", goods_out.id, e),
                        Swept::Stop(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// Looks at one goods out of an awaited order: reads it again when stock left it that was
    /// not reported, once that is older than the overlap.
    async fn sweep_goods_out(
        &self,
        engine: &Engine,
        waiting: Option<Timestamp>,
        goods_out: &GoodsOutRead,
        reference: &str,
        order: &str,
        report: &mut SweepReport,
    ) -> Result<(), Swept> {
        let completed = goods_out.status_code().as_deref() == Some("COMPLETED");
        let (shipped, _) = Shipped::load(self.store.as_ref(), goods_out.id)
            .await
            .map_err(Swept::Failed)?;
        if completed && shipped.complete() {
            report.duplicates += 1;
            return Ok(());
        }
        let context = format!("sweeping goods out {} ({reference})", goods_out.id);
        let now = engine.clock().now();
        let despatched_at = match self
            .reader
            .last_dispatch(goods_out.id, &context)
            .await
            .map_err(Swept::Failed)?
        {
            Some(at) => at,
            // Being picked and nothing dispatched: nothing to report yet.
            None if !completed => return Ok(()),
            // Completed with no stock transaction listed: count from when first seen.
            None => *self
                .first_seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(goods_out.id)
                .or_insert(now),
        };
        if !self.settled(despatched_at, now, waiting) {
            report.waiting += 1;
            return Ok(());
        }
        // What the ledger knows, in the shape of the webhook body it stands in for.
        let hint = json!({
            "reference": reference,
            "external_system_reference1": order,
            "actual_date_of_dispatch": despatched_at.to_string(),
        });
        let events = self
            .reader
            .read(goods_out.id, Some(&hint), false)
            .await
            .map_err(Swept::Failed)?;
        for event in &events {
            self.ingest(engine, event, report)
                .await
                .map_err(|e| Swept::Stop(e.into()))?;
        }
        // Read and reported: its first sighting is no longer needed.
        self.first_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&goods_out.id);
        Ok(())
    }

    async fn sweep_receipts(
        &self,
        engine: &Engine,
        waiting: Option<Timestamp>,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let orders = Self::awaited(engine, &[OrderKind::Purchase, OrderKind::Return]).await;
        for chunk in orders.chunks(CHUNK) {
            let filter = Filter::new().any_of("reference", chunk.iter().map(|(r, _)| r.as_str()));
            let found: Vec<GoodsInRead> = list(&self.client, filter).await?;
            for goods_in in found {
                let Some(reference) = goods_in
                    .reference
                    .as_deref()
                    .filter(|r| chunk.iter().any(|(c, _)| c == r))
                else {
                    continue;
                };
                report.receipts_scanned += 1;
                // Receipt statuses are open strings: only `completed` says everything arrived.
                let completed = goods_in
                    .status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("completed"));
                if !completed {
                    continue;
                }
                let now = engine.clock().now();
                if let Err(e) = self
                    .check_gap(goods_in.id, reference, now, waiting, report)
                    .await
                {
                    Self::failed(report, "goods_in", goods_in.id, e);
                }
            }
        }
        Ok(())
    }

    /// Raises a receipt gap for a completed goods in whose `completed` webhook was not
    /// processed within the overlap.
    async fn check_gap(
        &self,
        id: ClarusId,
        reference: &str,
        now: Timestamp,
        waiting: Option<Timestamp>,
        report: &mut SweepReport,
    ) -> Result<(), DecodeError> {
        let completion = self.receipts.completion(id, now).await?;
        if completion.reported {
            return Ok(());
        }
        if !self.settled(completion.seen_completed_at, now, waiting) {
            report.waiting += 1;
            return Ok(());
        }
        let reported = completion.reported_quantity;
        let exception = NewException::of(
            ExceptionKind::ReceiptNotReported,
            receipt_gap_key(id),
            format!("goods in {reference}"),
            format!(
                "goods in {id} ({reference}) is completed in Clarus, but its completed webhook was \
                 never processed: whatever arrived after the receipts reported so far \
                 ({reported} units) is not posted to NetSuite. Clarus documents no read of \
                 receipt lines, so the engine cannot rebuild it: re-send the webhook from \
                 Clarus, or post the rest by hand"
            ),
            json!({
                "goods_in": id,
                "reference": reference,
                "reported": reported,
                "completed_seen_at": completion.seen_completed_at.to_string(),
            }),
        );
        self.store
            .raise_exception(exception, now)
            .await
            .map_err(|e| {
                DecodeError::Retryable(format!("raising the receipt gap of {id}: {e}").into())
            })?;
        report.gaps.push(ReceiptGap {
            goods_in: id,
            reference: reference.to_owned(),
            reported,
        });
        Ok(())
    }
}
