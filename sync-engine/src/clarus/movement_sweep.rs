//! The stock-movement sweep: catches adjustments, holds, releases and stock-check differences
//! whose `stock` webhook never came.
//!
//! Lists Clarus `transactions` of the movement subtypes created since a watermark (minus an
//! overlap), rebuilds each as the record its webhook carries and decodes it with the same
//! [`movement_from_webhook`] the webhook path uses. The event therefore has the same
//! [`sync_core::SourceId`] (`(Clarus, stock, <movement id>, <event>, created_at)`) and the same
//! [`sync_core::StockMovement`], so a movement seen through both is planned once.
//!
//! Assumptions (Clarus documents neither): a movement's transaction has the id of the stock
//! record its webhook sends, and the subtypes of adjustments and status changes are the ones in
//! [`MOVEMENT_SUBTYPES`]. Transactions are immutable, so the watermark is their `created_at`.

use std::sync::Arc;
use std::time::Duration;

use clarus_client::graphql::{ClarusDateTime, Filter, Node};
use clarus_client::webhook::{StockEvent, StockRecord};
use clarus_client::{ClarusClient, ClarusId};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::{Event, Tenant};

use super::executor::list;
use super::movement::movement_from_webhook;
use super::sweep::{SweepError, SweepFailure};
use crate::engine::{Engine, IngestOutcome};
use crate::processor::DecodeError;
use crate::store::{Store, StoreError};

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

/// `{ id code }` of a reference whose parts may each be missing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct LooseRef {
    #[serde(default)]
    id: Option<ClarusId>,
    #[serde(default)]
    code: Option<String>,
}

/// A stock transaction with everything a movement is built from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct MovementRead {
    id: ClarusId,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    quantity: Option<Decimal>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    batch: Option<String>,
    #[serde(default)]
    serial_number: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    reason_code: Option<LooseRef>,
    #[serde(default)]
    created_at: Option<ClarusDateTime>,
    #[serde(default)]
    product: Option<LooseRef>,
    #[serde(default)]
    warehouse: Option<LooseRef>,
}

impl Node for MovementRead {
    const ROOT: &'static str = "transactions";
    const FILTER_TYPE: &'static str = "TransactionFilterType";
    const FIELDS: &'static str = "id subtype quantity status batch serial_number reason reason_code { id code } created_at product { id code } warehouse { id }";
}

impl MovementRead {
    fn event(&self) -> Option<StockEvent> {
        let subtype = self.subtype.as_deref()?.trim();
        MOVEMENT_SUBTYPES
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(subtype))
            .map(|(_, e)| *e)
    }

    fn created(&self) -> Option<Timestamp> {
        self.created_at.as_ref().and_then(ClarusDateTime::timestamp)
    }

    /// The record the movement's `stock` webhook carries.
    fn webhook_record(&self) -> Value {
        let reference = |r: &Option<LooseRef>| {
            r.as_ref()
                .map(|r| json!({"id": r.id, "code": r.code}))
                .unwrap_or(Value::Null)
        };
        json!({
            "id": self.id,
            "created_at": self.created_at.as_ref().map(|c| c.0.clone()),
            "product": reference(&self.product),
            "warehouse": reference(&self.warehouse),
            "quantity": self.quantity,
            "status": self.status,
            "reason": self.reason,
            "reason_code": reference(&self.reason_code),
            "batch": self.batch,
            "string1": self.batch,
            "serial_number": self.serial_number,
        })
    }

    /// The event its webhook would decode to (`None` for a subtype the sweep does not act on).
    fn to_event(&self, tenant: &Tenant) -> Result<Option<Event>, DecodeError> {
        let Some(event) = self.event() else {
            return Ok(None);
        };
        let raw = self.webhook_record();
        let record: StockRecord = serde_json::from_value(raw.clone())
            .map_err(|e| DecodeError::Invalid(format!("stock transaction {}: {e}", self.id)))?;
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
    /// watermark (minus the overlap), then moves the watermark up to the newest one, but not
    /// past the oldest one that must be swept again (blocked, or failed with a retryable error).
    pub async fn run(&self, engine: &Engine) -> Result<MovementSweepReport, SweepError> {
        let since = self.watermark().await?;
        let mut filter = Filter::new().any_of("subtype", MOVEMENT_SUBTYPES.map(|(s, _)| s));
        if let Some(since) = since {
            let overlap = SignedDuration::try_from(self.overlap).unwrap_or_default();
            filter = filter.from("created_at", since - overlap);
        }
        let mut found: Vec<MovementRead> = list(&self.client, filter).await?;
        found.sort_by_key(|t| (t.created(), t.id));
        let mut report = MovementSweepReport {
            scanned: found.len(),
            watermark: since,
            ..MovementSweepReport::default()
        };
        let mut newest = since;
        let mut hold_at: Option<Timestamp> = None;
        for transaction in &found {
            let retry_later = match transaction.to_event(&self.tenant) {
                Ok(Some(event)) => match engine.ingest(&event, Timestamp::now()).await? {
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
                },
                Ok(None) => false,
                Err(error) => {
                    let retry = matches!(error, DecodeError::Retryable(_));
                    tracing::warn!(id = %transaction.id, %error, "sweep could not read a stock movement");
                    report.failed.push(SweepFailure {
                        resource: "stock",
                        id: transaction.id,
                        error,
                    });
                    retry
                }
            };
            let Some(created) = transaction.created() else {
                continue;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::{MovementKind, Payload};

    fn read(value: Value) -> MovementRead {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_stock_check_loss_transaction_becomes_the_webhooks_movement() {
        let transaction = read(json!({
            "id": "88", "subtype": "ADJDN", "quantity": "2", "status": "available",
            "reason": "stock_check", "created_at": "2026-11-27T10:00:00.5Z",
            "product": {"id": "5", "code": "MUG"}, "warehouse": {"id": "1"}
        }));
        let event = transaction.to_event(&Tenant::new("acme")).unwrap().unwrap();
        let Payload::StockMovement(m) = &event.payload else {
            panic!("{event:?}")
        };
        assert_eq!(m.kind, MovementKind::StockCheckLoss);
        assert_eq!(m.quantity, Decimal::from(2));
        assert_eq!(m.sku.as_str(), "MUG");
        assert_eq!(event.source.id.as_str(), "88");
        assert_eq!(event.source.event.as_str(), "negatively_adjusted");
    }

    #[test]
    fn other_subtypes_are_not_movements() {
        let transaction = read(json!({"id": "9", "subtype": "PICK", "quantity": 1}));
        assert_eq!(transaction.to_event(&Tenant::new("acme")).unwrap(), None);
    }

    #[test]
    fn a_transaction_without_a_product_is_invalid() {
        let transaction = read(json!({
            "id": "10", "subtype": "HOLD", "quantity": 1, "created_at": "2026-11-27T10:00:00Z",
            "warehouse": {"id": "1"}
        }));
        assert!(matches!(
            transaction.to_event(&Tenant::new("acme")),
            Err(DecodeError::Invalid(_))
        ));
    }
}
