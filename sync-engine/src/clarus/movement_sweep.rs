//! The stock-movement sweep: catches adjustments, holds, releases and stock-check differences
//! whose `stock` webhook never came.
//!
//! Lists Clarus `transactions` of the movement subtypes created since a watermark (minus an
//! overlap), one query per mapped warehouse (documented filters `subtype`, `warehouse_id`,
//! `created_at`), rebuilds each as the record its webhook carries and decodes it with the same
//! [`movement_from_webhook`] the webhook path uses. The event therefore has the same
//! [`sync_core::SourceId`] (`(Clarus, stock, <movement id>, <event>, created_at)`), so a movement
//! seen through both is planned once.
//!
//! Clarus documents no reason, batch or serial on transactions, so a rebuilt movement is poorer
//! than its webhook: an adjustment posts to its kind's default account, and a lot or serial
//! item cannot be posted at all (the core raises its exception). So the sweep leaves every
//! transaction younger than the overlap to its webhook, and each movement it does post raises
//! a `movement-rebuilt` warning for finance to check the account.
//!
//! Assumptions (Clarus documents neither): a movement's transaction has the id of the stock
//! record its webhook sends, and the subtypes of adjustments and status changes are the ones in
//! [`MOVEMENT_SUBTYPES`]. Transactions are immutable, so the watermark is their `created_at`.

use std::sync::Arc;
use std::time::Duration;
use sync_core::ExceptionKind;

use clarus_client::graphql::Filter;
use clarus_client::webhook::{StockEvent, StockRecord};
use clarus_client::{ClarusClient, ClarusId};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sync_core::{Event, MovementKind, Payload, Tenant};

use super::executor::{list, mapped_warehouses};
use super::movement::{
    hold_made_by_receipt, mark_made_by_receipt, movement_from_webhook, receipt_just_before,
};
// A stock transaction, with the documented fields a movement is rebuilt from.
use super::nodes::TransactionRead as MovementRead;
use super::sweep::{SweepError, SweepFailure};
use crate::engine::{Engine, IngestOutcome};
use crate::processor::DecodeError;
use crate::store::{NewException, Store, StoreError};

/// The kind of the warning raised for a movement posted from its transaction.
pub const MOVEMENT_REBUILT: &str = ExceptionKind::MovementRebuilt.code();

/// The store entry holding the movement sweep's watermark (an RFC 3339 `created_at`).
pub const MOVEMENT_SWEEP_WATERMARK: &str = "clarus.sweep.stock_movement.created_at";

/// The transaction subtypes swept, with the `stock` webhook event each one stands for.
/// Stock-check differences and breakages are adjustments (told apart by their reason).
pub const MOVEMENT_SUBTYPES: [(&str, StockEvent); 4] = [
    ("ADJUP", StockEvent::PositivelyAdjusted),
    ("ADJDN", StockEvent::NegativelyAdjusted),
    ("HOLD", StockEvent::PlacedOnHold),
    ("RELEASE", StockEvent::ReleasedFromHold),
];

impl MovementRead {
    fn event(&self) -> Option<StockEvent> {
        let subtype = self.subtype.as_deref()?.trim();
        MOVEMENT_SUBTYPES
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(subtype))
            .map(|(_, e)| *e)
    }

    /// The record the movement's `stock` webhook carries, as far as documented reads give it:
    /// no reason, batch or serial (Clarus documents none of them on transactions), and the
    /// warehouse the query was filtered by.
    fn webhook_record(&self, warehouse: ClarusId) -> Value {
        json!({
            "id": self.id,
            "created_at": self.created_at.as_ref().map(|c| c.0.clone()),
            "product": self.product.as_ref().map(|p| json!({"id": p.id, "code": p.code})),
            "warehouse_id": warehouse,
            "quantity": self.quantity,
        })
    }

    /// The event its webhook would decode to (`None` for a subtype the sweep does not act on).
    fn to_event(&self, tenant: &Tenant, warehouse: ClarusId) -> Result<Option<Event>, DecodeError> {
        let Some(event) = self.event() else {
            return Ok(None);
        };
        let raw = self.webhook_record(warehouse);
        let record: StockRecord = serde_json::from_value(raw.clone()).map_err(|e| {
            DecodeError::Invalid(format!("stock transaction {}: {e}", self.id).into())
        })?;
        movement_from_webhook(tenant, event, &record, &raw)
    }
}

/// What one movement sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovementSweepReport {
    /// Movement transactions found since the watermark.
    pub scanned: usize,
    /// Movements planned now (their webhook never came, or has not been processed yet).
    pub planned: usize,
    /// Movements already known (seen through their webhook or an earlier sweep).
    pub duplicates: usize,
    /// Movements blocked by the core (see its exceptions); swept again next time.
    pub blocked: usize,
    /// Transactions younger than the overlap, left to their webhook for now.
    pub waiting: usize,
    /// Transactions that could not be turned into movements.
    pub failed: Vec<SweepFailure>,
    /// The watermark after the sweep.
    pub watermark: Option<Timestamp>,
}

/// Sweeps Clarus stock transactions for movements whose webhook was lost.
///
/// ```no_run
/// # async fn demo(client: clarus_client::ClarusClient,
/// #   store: std::sync::Arc<dyn sync_engine::store::Store>, engine: &sync_engine::engine::Engine)
/// #   -> Result<(), sync_engine::clarus::SweepError> {
/// use sync_engine::clarus::MovementSweep;
/// let sweep = MovementSweep::new(client, "acme".into(), store);
/// let report = sweep.run(engine).await?;
/// println!("{} stock movements caught by the sweep", report.planned);
/// # Ok(()) }
/// ```
pub struct MovementSweep {
    client: ClarusClient,
    tenant: Tenant,
    store: Arc<dyn Store>,
    /// How far back of the watermark each sweep starts (clock skew between Clarus's writes and
    /// their `created_at`, and transactions committed out of order). Default five minutes.
    pub overlap: Duration,
}

impl std::fmt::Debug for MovementSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MovementSweep")
            .field("tenant", &self.tenant)
            .field("overlap", &self.overlap)
            .finish_non_exhaustive()
    }
}

impl MovementSweep {
    /// A sweep over `client`, keying events under `tenant` (as the webhook decoder does) and
    /// keeping its watermark in `store`.
    pub fn new(client: ClarusClient, tenant: Tenant, store: Arc<dyn Store>) -> Self {
        MovementSweep {
            client,
            tenant,
            store,
            overlap: Duration::from_secs(300),
        }
    }

    async fn watermark(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .store
            .watermark(MOVEMENT_SWEEP_WATERMARK)
            .await?
            .and_then(|w| w.parse::<Timestamp>().ok()))
    }

    /// Sweeps once: ingests a movement for every movement transaction created since the
    /// watermark (minus the overlap) and older than the overlap, then moves the watermark up to
    /// the newest one, but not past the oldest one that must be swept again (too young, blocked,
    /// or failed with a retryable error).
    ///
    /// Errors: Clarus could not be listed, planning or the store failed.
    pub async fn run(&self, engine: &Engine) -> Result<MovementSweepReport, SweepError> {
        let since = self.watermark().await?;
        let overlap = SignedDuration::try_from(self.overlap).unwrap_or_default();
        // Age is measured against the intake's horizon: a webhook waiting there is not lost.
        let now = engine.clock().now();
        let waiting = super::horizon::oldest_waiting(self.store.as_ref(), now).await?;
        let horizon = super::horizon::sweep_horizon(now, waiting);
        let mut found: Vec<(ClarusId, MovementRead)> = Vec::new();
        for warehouse in mapped_warehouses(engine.mappings()) {
            let mut filter = Filter::new()
                .any_of("subtype", MOVEMENT_SUBTYPES.map(|(s, _)| s))
                .eq("warehouse_id", warehouse);
            if let Some(since) = since {
                filter = filter.from("created_at", since - overlap);
            }
            let read: Vec<MovementRead> = list(&self.client, filter).await?;
            found.extend(read.into_iter().map(|t| (warehouse, t)));
        }
        found.sort_by_key(|(_, t)| (t.created(), t.id));
        let mut report = MovementSweepReport {
            scanned: found.len(),
            watermark: since,
            ..MovementSweepReport::default()
        };
        let mut newest = since;
        let mut hold_at: Option<Timestamp> = None;
        for (warehouse, transaction) in &found {
            let Some(created) = transaction.created() else {
                continue;
            };
            let retry_later = if created > horizon - overlap {
                // Young: its webhook, with reason, batch and serial, may still be on its way.
                report.waiting += 1;
                true
            } else {
                self.sweep_one(engine, *warehouse, transaction, &mut report)
                    .await?
            };
            if retry_later {
                hold_at = Some(hold_at.map_or(created, |h| h.min(created)));
            }
            newest = Some(newest.map_or(created, |n| n.max(created)));
        }
        // The filter includes its bound, so holding at a record sweeps it again.
        let next = match hold_at {
            Some(hold) => Some(since.map_or(hold, |s| s.max(hold))),
            None => newest,
        };
        if let Some(next) = next.filter(|n| Some(*n) != since) {
            self.store
                .set_watermark(MOVEMENT_SWEEP_WATERMARK, &next.to_string())
                .await?;
            report.watermark = Some(next);
        }
        Ok(report)
    }

    /// Ingests one settled transaction; `true` when it must be swept again.
    async fn sweep_one(
        &self,
        engine: &Engine,
        warehouse: ClarusId,
        transaction: &MovementRead,
        report: &mut MovementSweepReport,
    ) -> Result<bool, SweepError> {
        let event = match transaction.to_event(&self.tenant, warehouse) {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(false),
            Err(error) => {
                let retry = matches!(error, DecodeError::Retryable(_));
                tracing::warn!(id = %transaction.id, %error, "sweep could not read a stock movement");
                report.failed.push(SweepFailure {
                    resource: "stock",
                    id: transaction.id,
                    error,
                });
                return Ok(retry);
            }
        };
        if transaction.event() == Some(StockEvent::PlacedOnHold)
            && self
                .made_by_receipt(warehouse, transaction, engine.clock().now())
                .await?
        {
            // A receipt's own quarantine, posted by the receipt.
            report.duplicates += 1;
            return Ok(false);
        }
        Ok(match engine.ingest(&event, engine.clock().now()).await? {
            IngestOutcome::Planned { .. } => {
                report.planned += 1;
                self.flag_rebuilt(&event, engine.clock().now()).await?;
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

    /// Whether a hold transaction is a receipt's own quarantine: its webhook said so (the
    /// decoder marked it), or a receipt of the same quantity into the same location just
    /// preceded it.
    async fn made_by_receipt(
        &self,
        warehouse: ClarusId,
        transaction: &MovementRead,
        now: Timestamp,
    ) -> Result<bool, SweepError> {
        let id = transaction.id.get() as u64;
        if hold_made_by_receipt(self.store.as_ref(), id).await? {
            return Ok(true);
        }
        let (Some(quantity), Some(at), Some(sku)) = (
            transaction.quantity.map(|q| q.abs()),
            transaction.created(),
            transaction.product.as_ref().and_then(|p| p.code.as_deref()),
        ) else {
            return Ok(false);
        };
        let location = transaction
            .location_to
            .as_ref()
            .or(transaction.location_from.as_ref())
            .map(|l| l.id);
        let product = transaction.product.as_ref().map(|p| p.id);
        let made = receipt_just_before(
            &self.client,
            product,
            sku,
            warehouse,
            location,
            quantity,
            at,
        )
        .await?;
        if made {
            mark_made_by_receipt(self.store.as_ref(), id, now).await?;
        }
        Ok(made)
    }

    /// A movement posted from its transaction lacks the reason its webhook carried: finance
    /// checks the account it went to.
    async fn flag_rebuilt(&self, event: &Event, now: Timestamp) -> Result<(), StoreError> {
        let Payload::StockMovement(movement) = &event.payload else {
            return Ok(());
        };
        if matches!(movement.kind, MovementKind::Hold | MovementKind::Release) {
            // Status changes move no value: no account to check.
            return Ok(());
        }
        let id = movement.id.0;
        tracing::warn!(movement = id, sku = %movement.sku, "stock movement posted from the sweep, without its reason");
        let exception = NewException::of(
            ExceptionKind::MovementRebuilt,
            format!("EX-CLARUS-MOVEMENT-REBUILT-{id}"),
            format!("stock movement {id}"),
            format!(
                "stock movement {id} ({:?}, {} × {} in warehouse {}) reached NetSuite through the \
                 sweep because its webhook never arrived; Clarus documents no reason on stock \
                 transactions, so it was posted to the default account of its kind: check the \
                 account and reclassify if needed",
                movement.kind, movement.quantity, movement.sku, movement.warehouse
            ),
            json!({
                "movement": id,
                "kind": format!("{:?}", movement.kind),
                "sku": movement.sku.as_str(),
                "quantity": movement.quantity,
                "warehouse": movement.warehouse.0,
                "occurred_at": movement.occurred_at.to_string(),
            }),
        );
        self.store.raise_exception(exception, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn read(value: Value) -> MovementRead {
        serde_json::from_value(value).unwrap()
    }

    const WAREHOUSE: ClarusId = ClarusId::new(1);

    #[test]
    fn a_loss_transaction_becomes_a_negative_adjustment_in_the_queried_warehouse() {
        let transaction = read(json!({
            "id": "88", "subtype": "ADJDN", "quantity": "2", "created_at": "2026-11-27T10:00:00.5Z",
            "product": {"id": "5", "code": "MUG"}
        }));
        let event = transaction
            .to_event(&Tenant::new("acme"), WAREHOUSE)
            .unwrap()
            .unwrap();
        let Payload::StockMovement(m) = &event.payload else {
            panic!("{event:?}")
        };
        // Without the reason a webhook carries, a loss is a plain negative adjustment.
        assert_eq!(m.kind, MovementKind::NegativeAdjustment);
        assert_eq!(m.quantity, Decimal::from(2));
        assert_eq!(m.sku.as_str(), "MUG");
        assert_eq!(m.warehouse, sync_core::WarehouseId(1));
        assert_eq!(event.source.id.as_str(), "88");
        assert_eq!(event.source.event.as_str(), "negatively_adjusted");
    }

    #[test]
    fn other_subtypes_are_not_movements() {
        let transaction = read(json!({"id": "9", "subtype": "PICK", "quantity": 1}));
        assert_eq!(
            transaction
                .to_event(&Tenant::new("acme"), WAREHOUSE)
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_transaction_without_a_product_is_invalid() {
        let transaction = read(json!({
            "id": "10", "subtype": "HOLD", "quantity": 1, "created_at": "2026-11-27T10:00:00Z"
        }));
        assert!(matches!(
            transaction.to_event(&Tenant::new("acme"), WAREHOUSE),
            Err(DecodeError::Invalid(_))
        ));
    }
}
