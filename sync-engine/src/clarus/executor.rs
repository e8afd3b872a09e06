//! Carries out the Clarus actions the core plans.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use sync_core::ExceptionKind;

use async_trait::async_trait;
use clarus_client::graphql::{Filter, ListQuery, Node};
use clarus_client::rest::common::{Change, GenericFields};
use clarus_client::rest::goods_in::{GoodsInLine, GoodsInReceipt};
use clarus_client::rest::goods_out::{GoodsOut, GoodsOutLine};
use clarus_client::rest::products::Product;
use clarus_client::{ClarusClient, ClarusId};
use futures_util::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sync_core::{
    Action, DocumentRef, OrderKind, OrderRef, PlannedAction, ProductSpec, Tracking, WarehouseOrder,
};

use super::errors::{Sent, classify};
use super::kept::{self, Kept, KeptError};
use super::nodes::{GoodsInRead, GoodsOutLineRead, GoodsOutRead};
use super::products::ProductCache;
use crate::clock::{self, SharedClock};
use crate::outbox::{ActionExecutor, ExecutionError};
use crate::store::{NewException, Store};

mod adoption;

/// Settings of the Clarus executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutorSettings {
    /// The account (stock owner) goods outs and receipts are created under.
    pub account_id: ClarusId,
    /// The stock unit type new products are created with (Clarus requires one).
    pub stock_unit_type_id: ClarusId,
}

/// What the engine knows of a goods out it created, kept in the store: the NetSuite sales order
/// it belongs to, its `reference`, and its lines in creation order. Clarus documents none of
/// the generic fields (`external_system_reference1`, line references) on its GraphQL reads, so
/// a despatch is matched to its order and lines from this record, and the webhook's claims are
/// checked against it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct LineOrder {
    /// `(NetSuite line, SKU)` per goods-out line, in creation order.
    pub lines: Vec<(u64, String)>,
    /// The NetSuite sales order's internal id (absent in records written before it was kept).
    #[serde(default)]
    pub order: Option<String>,
    /// The goods out's `reference` (the sales order's `tranId`).
    #[serde(default)]
    pub reference: Option<String>,
}

impl LineOrder {
    /// The record of goods out `id` in `store`, if one was kept (and reads).
    pub async fn load(store: &dyn Store, id: ClarusId) -> Result<Option<LineOrder>, KeptError> {
        kept::load(store, &Kept::GoodsOutLines.key(id)).await
    }

    /// Keeps the record of goods out `id` in `store`.
    async fn save(&self, store: &dyn Store, id: ClarusId, now: Timestamp) -> Result<(), KeptError> {
        kept::save(store, &Kept::GoodsOutLines.key(id), self, now).await
    }
}

/// What the engine knows of a goods-in receipt it created: the NetSuite order it receives and
/// the receipt's `reference`, kept so a receipt webhook's claims can be checked against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GoodsInOrder {
    /// The NetSuite order's internal id.
    pub order: String,
    /// `PO` or `RA`.
    pub kind: String,
    /// The receipt's `reference` (the order's `tranId`).
    pub reference: String,
}

impl GoodsInOrder {
    /// The record of a goods in receiving `order`.
    fn of(order: &WarehouseOrder) -> Self {
        GoodsInOrder {
            order: order.order.id.as_str().to_owned(),
            kind: order.order.kind.code().to_owned(),
            reference: order.reference.clone(),
        }
    }

    /// The record of goods in `id` in `store`, if one was kept.
    pub async fn load(store: &dyn Store, id: ClarusId) -> Result<Option<Self>, KeptError> {
        kept::load(store, &Kept::GoodsInOrder.key(id)).await
    }

    async fn save(&self, store: &dyn Store, id: ClarusId, now: Timestamp) -> Result<(), KeptError> {
        kept::save(store, &Kept::GoodsInOrder.key(id), self, now).await
    }
}

/// Carries out `CreateProduct`, `UpdateProduct`, `CreateGoodsOut`, `CancelGoodsOut` and
/// `CreateGoodsIn` against Clarus.
///
/// Creates are sent once per attempt and never retried blindly: an attempt whose outcome is
/// unknown is reported [`ExecutionError::Ambiguous`], and the outbox then calls
/// [`ActionExecutor::find_applied`], which finds the record by `reference` and
/// `external_system_reference1` (products by `code`).
///
/// During the go-live window (the go-live record the NetSuite poller keeps in the store; see
/// `docs/decisions/go-live.md`) a goods out or goods-in receipt is first looked up by
/// `reference`: one Clarus already has (entered by hand, or by an earlier integration) and that
/// is not cancelled is adopted instead of creating a second, and the engine's record of it is
/// written as for one it created. Outside the window a create costs no look-up.
///
/// ```no_run
/// # fn demo(client: clarus_client::ClarusClient) {
/// use clarus_client::ClarusId;
/// use sync_engine::clarus::{ClarusExecutor, ExecutorSettings};
/// let executor = ClarusExecutor::new(
///     client,
///     ExecutorSettings { account_id: ClarusId::new(1), stock_unit_type_id: ClarusId::new(1) },
/// );
/// # let _ = executor;
/// # }
/// ```
pub struct ClarusExecutor {
    client: ClarusClient,
    settings: ExecutorSettings,
    products: ProductCache,
    store: Option<Arc<dyn Store>>,
    /// Set once the go-live window is seen closed: no more reads of the record.
    window_closed: AtomicBool,
    /// Serialises the updates of the adoption counts.
    adoptions: tokio::sync::Mutex<()>,
    clock: SharedClock,
}

impl std::fmt::Debug for ClarusExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClarusExecutor")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The order's lines as Clarus lines of type `$line` to add (goods out and goods in lines share
/// no trait), one per line with its product, each numbered and referenced by its order line.
macro_rules! added_lines {
    ($line:ty, $order:expr, $products:expr) => {
        $order
            .lines
            .iter()
            .zip($products)
            .map(|(line, product)| {
                let mut clarus_line = <$line>::new(*product, line.quantity);
                clarus_line.alt_line_number = Some(line.order_line.to_string());
                clarus_line.generic =
                    GenericFields::with_external_reference(line.order_line.to_string());
                Change::Add(clarus_line)
            })
            .collect()
    };
}

impl ClarusExecutor {
    /// An executor over a Clarus client.
    pub fn new(client: ClarusClient, settings: ExecutorSettings) -> Self {
        ClarusExecutor {
            client,
            settings,
            products: ProductCache::default(),
            store: None,
            window_closed: AtomicBool::new(false),
            adoptions: tokio::sync::Mutex::new(()),
            clock: clock::system(),
        }
    }

    /// Reads the time from `clock` (the system clock by default, see [`crate::clock`]): whether
    /// the go-live window is still open, when an adoption's exception is raised.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Also records, per goods out created, the NetSuite line of each of its lines in creation
    /// order. The [`super::DespatchReader`] falls back on it when Clarus does not return the
    /// lines' `external_system_reference1`.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    fn product_body(&self, spec: &ProductSpec) -> Product {
        let mut product = Product::new(
            truncate(&spec.description, 150),
            self.settings.stock_unit_type_id,
        );
        product.code = Some(spec.sku.as_str().to_owned());
        product.barcode = spec.barcode.as_ref().map(|b| b.as_str().to_owned());
        product.serial_number_tracking_setting = Some(
            match spec.tracking {
                Tracking::Serial => "full_tracking",
                Tracking::None | Tracking::Lot => "no_tracking",
            }
            .to_owned(),
        );
        product.stop = Some(spec.inactive);
        product.generic = GenericFields::with_external_reference(spec.item.as_str());
        product
    }

    async fn create_product(&self, spec: &ProductSpec) -> Result<Option<String>, ExecutionError> {
        let body = self.product_body(spec);
        match self.client.create_product(&body).await {
            Ok(record) => {
                self.products.remember(&spec.sku, record.id);
                Ok(Some(record.id.to_string()))
            }
            // The code exists already (created by hand, or by an earlier attempt whose reply was
            // lost): make it match the item master instead.
            Err(e) if e.has_symbol("product_code_exists") => self.update_product(spec).await,
            Err(e) => Err(classify(e, Sent::Create)),
        }
    }

    async fn update_product(&self, spec: &ProductSpec) -> Result<Option<String>, ExecutionError> {
        let id = match spec.product {
            Some(id) => Some(ClarusId::new(id.0 as i64)),
            None => self
                .products
                .resolve(&self.client, &spec.sku)
                .await
                .map_err(|e| classify(e, Sent::Repeatable))?,
        };
        let Some(id) = id else {
            // The item master says the product should exist; it does not yet.
            return self.create_product_once(spec).await;
        };
        let body = self.product_body(spec);
        self.client
            .update_product(id, &body)
            .await
            .map_err(|e| classify(e, Sent::Repeatable))?;
        self.products.remember(&spec.sku, id);
        Ok(Some(id.to_string()))
    }

    /// A create that does not fall back on an update (avoids a loop when the code exists but
    /// cannot be found).
    async fn create_product_once(
        &self,
        spec: &ProductSpec,
    ) -> Result<Option<String>, ExecutionError> {
        let record = self
            .client
            .create_product(&self.product_body(spec))
            .await
            .map_err(|e| classify(e, Sent::Create))?;
        self.products.remember(&spec.sku, record.id);
        Ok(Some(record.id.to_string()))
    }

    /// Product ids for every line, in line order. A product not in Clarus yet is retryable:
    /// the item-master flow may create it shortly.
    async fn product_ids(&self, order: &WarehouseOrder) -> Result<Vec<ClarusId>, ExecutionError> {
        let mut ids = Vec::with_capacity(order.lines.len());
        for line in &order.lines {
            let id = self
                .products
                .resolve(&self.client, &line.sku)
                .await
                .map_err(|e| classify(e, Sent::Repeatable))?
                .ok_or_else(|| {
                    ExecutionError::Retryable(
                        format!(
                            "{}: no Clarus product has code {}",
                            order.reference, line.sku
                        )
                        .into(),
                    )
                })?;
            ids.push(id);
        }
        Ok(ids)
    }

    async fn create_goods_out(
        &self,
        key: &str,
        document: &DocumentRef,
        order: &WarehouseOrder,
    ) -> Result<Option<String>, ExecutionError> {
        if self.adopting().await? {
            let mut existing = self.goods_outs_for(&order.reference).await?;
            existing.sort_by_key(|g| g.id);
            if let Some(first) = existing.first() {
                if existing.len() > 1 {
                    tracing::warn!(
                        reference = %order.reference,
                        count = existing.len(),
                        adopted = %first.id,
                        "Clarus has several goods outs with this reference; adopting the oldest"
                    );
                }
                return self.adopt_goods_out(document, first.id, order).await;
            }
        }
        let products = self.product_ids(order).await?;
        let mut body = GoodsOut::sales_order(
            self.settings.account_id,
            order.reference.clone(),
            expected_date(order),
        );
        body.warehouse_id = Some(ClarusId::new(order.warehouse.0 as i64));
        if let Some(carrier) = order.carrier {
            body.carrier_id = Some(ClarusId::new(carrier.carrier.0 as i64));
            body.carrier_service_id = carrier.service.map(|s| ClarusId::new(s.0 as i64));
        }
        body.generic = references(order, key, None);
        body.lines_changes = added_lines!(GoodsOutLine, order, &products);
        let record = self
            .client
            .create_goods_out(&body)
            .await
            .map_err(|e| classify(e, Sent::Create))?;
        self.record_line_order(record.id, order).await?;
        Ok(Some(record.id.to_string()))
    }

    /// Keeps the goods out's line order (which order line each of its lines is) for the
    /// despatch decoder. When the store refuses it the goods out exists but is not yet tied to
    /// its order lines, so the attempt counts as ambiguous: the outbox looks the goods out up
    /// ([`ActionExecutor::find_applied`]), which records the line order again, and gives the
    /// action up with an exception if the store keeps refusing.
    async fn record_line_order(
        &self,
        goods_out: ClarusId,
        order: &WarehouseOrder,
    ) -> Result<(), ExecutionError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let lines = LineOrder {
            lines: order
                .lines
                .iter()
                .map(|l| (l.order_line.0, l.sku.as_str().to_owned()))
                .collect(),
            order: Some(order.order.id.as_str().to_owned()),
            reference: Some(order.reference.clone()),
        };
        lines
            .save(store.as_ref(), goods_out, self.clock.now())
            .await
            .map_err(|e| {
                tracing::warn!(%goods_out, error = %e, "could not record the goods out's line order");
                ExecutionError::Ambiguous(format!(
                    "goods out {goods_out} exists in Clarus, but its line order could not be \
                     kept: {e}"
                ).into())
            })
    }

    /// The goods outs with this `reference` that are not cancelled (the reference is the
    /// sales order's `tranId`, unique among sales orders).
    async fn goods_outs_for(&self, reference: &str) -> Result<Vec<GoodsOutRead>, ExecutionError> {
        let found: Vec<GoodsOutRead> = list(&self.client, Filter::new().eq("reference", reference))
            .await
            .map_err(|e| classify(e, Sent::Repeatable))?;
        Ok(found
            .into_iter()
            .filter(|g| g.reference.as_deref() == Some(reference))
            .filter(|g| g.status_code().as_deref() != Some("CANCELLED"))
            .collect())
    }

    async fn cancel_goods_out(
        &self,
        _order: &OrderRef,
        reference: &str,
    ) -> Result<Option<String>, ExecutionError> {
        let found = self.goods_outs_for(reference).await?;
        let mut last = None;
        for goods_out in found {
            match self.client.cancel_goods_out(goods_out.id).await {
                Ok(()) => {}
                Err(e) if e.has_symbol("goods_out_already_cancelled") => {}
                Err(e) => return Err(classify(e, Sent::Repeatable)),
            }
            last = Some(goods_out.id.to_string());
        }
        Ok(last)
    }

    async fn create_goods_in(
        &self,
        key: &str,
        order: &WarehouseOrder,
    ) -> Result<Option<String>, ExecutionError> {
        if self.adopting().await?
            && let Some(found) = self.find_goods_in(order).await?
        {
            return self.adopt_goods_in(&found, order).await;
        }
        let products = self.product_ids(order).await?;
        let mut body = GoodsInReceipt::new(
            self.settings.account_id,
            ClarusId::new(order.warehouse.0 as i64),
        );
        body.reference = Some(order.reference.clone());
        body.expected_date_of_arrival = order.expected_date.map(|_| expected_date(order));
        body.generic = references(order, key, Some(order.order.kind));
        body.lines_changes = added_lines!(GoodsInLine, order, &products);
        let record = self
            .client
            .create_goods_in_receipt(&body)
            .await
            .map_err(|e| classify(e, Sent::Create))?;
        self.record_goods_in(record.id, order).await?;
        Ok(Some(record.id.to_string()))
    }

    /// Keeps which order a goods in receives, for the receipt decoder; a refusal of the store
    /// makes the attempt ambiguous, as for [`Self::record_line_order`].
    async fn record_goods_in(
        &self,
        goods_in: ClarusId,
        order: &WarehouseOrder,
    ) -> Result<(), ExecutionError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        GoodsInOrder::of(order)
            .save(store.as_ref(), goods_in, self.clock.now())
            .await
            .map_err(|e| {
                tracing::warn!(%goods_in, error = %e, "could not record the goods in's order");
                ExecutionError::Ambiguous(
                    format!(
                        "goods in {goods_in} exists in Clarus, but the order it receives could not \
                     be kept: {e}"
                    )
                    .into(),
                )
            })
    }

    async fn find_goods_in(
        &self,
        order: &WarehouseOrder,
    ) -> Result<Option<String>, ExecutionError> {
        let found: Vec<GoodsInRead> = list(
            &self.client,
            Filter::new().eq("reference", order.reference.as_str()),
        )
        .await
        .map_err(|e| classify(e, Sent::Repeatable))?;
        Ok(found
            .into_iter()
            .filter(|g| g.reference.as_deref() == Some(order.reference.as_str()))
            .find(|g| {
                !g.status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("cancelled"))
            })
            .map(|g| g.id.to_string()))
    }
}

/// `external_system_reference1` = NetSuite order id, `2` = idempotency key, `3` = order kind
/// (receipts only: `PO` or `RA`, so a receipt is posted against the right record type).
fn references(order: &WarehouseOrder, key: &str, kind: Option<OrderKind>) -> GenericFields {
    GenericFields {
        external_system_reference1: Some(order.order.id.as_str().to_owned()),
        external_system_reference2: Some(key.to_owned()),
        external_system_reference3: kind.map(|k| k.code().to_owned()),
        ..GenericFields::default()
    }
}

/// The expected date at midnight UTC, or now when the order has none (Clarus requires a
/// dispatch date on goods outs).
fn expected_date(order: &WarehouseOrder) -> Timestamp {
    order
        .expected_date
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .unwrap_or_else(Timestamp::now)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The Clarus warehouses of the location mapping, each once, in id order: the documented
/// `warehouse_id` filter is how stock and transactions are read per warehouse.
pub(crate) fn mapped_warehouses(mappings: &sync_core::Mappings) -> Vec<ClarusId> {
    let mut warehouses: Vec<u64> = mappings
        .tables()
        .locations
        .iter()
        .map(|l| l.warehouse.0)
        .collect();
    warehouses.sort_unstable();
    warehouses.dedup();
    warehouses
        .into_iter()
        .map(|w| ClarusId::new(w as i64))
        .collect()
}

/// Every node of `N` matching `filter`.
pub(crate) async fn list<N: Node>(
    client: &ClarusClient,
    filter: Filter,
) -> Result<Vec<N>, clarus_client::Error> {
    client
        .list_all::<N>(ListQuery::new(filter, 100))
        .try_collect()
        .await
}

#[async_trait]
impl ActionExecutor for ClarusExecutor {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let key = action.key.as_str();
        let started = std::time::Instant::now();
        let result = match &action.action {
            Action::CreateProduct(spec) => self.create_product(spec).await,
            Action::UpdateProduct(spec) => self.update_product(spec).await,
            Action::CreateGoodsOut(order) => {
                self.create_goods_out(key, &action.document, order).await
            }
            Action::CancelGoodsOut { order, reference } => {
                self.cancel_goods_out(order, reference).await
            }
            Action::CreateGoodsIn(order) => self.create_goods_in(key, order).await,
            other => Err(ExecutionError::Rejected(
                format!(
                    "{} is not a Clarus action",
                    crate::engine::action_kind(other)
                )
                .into(),
            )),
        };
        crate::metrics::clarus_outcome(started, &result);
        result
    }

    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        match &action.action {
            Action::CreateProduct(spec) => Ok(self
                .products
                .resolve(&self.client, &spec.sku)
                .await
                .map_err(|e| classify(e, Sent::Repeatable))?
                .map(|id| id.to_string())),
            Action::CreateGoodsOut(order) => {
                let found = self
                    .goods_outs_for(&order.reference)
                    .await?
                    .into_iter()
                    .next();
                if let Some(goods_out) = &found {
                    self.record_line_order(goods_out.id, order).await?;
                }
                Ok(found.map(|g| g.id.to_string()))
            }
            Action::CreateGoodsIn(order) => {
                let found = self.find_goods_in(order).await?;
                if let Some(id) = found.as_deref().and_then(|id| id.parse::<i64>().ok()) {
                    self.record_goods_in(ClarusId::new(id), order).await?;
                }
                Ok(found)
            }
            // Updates and cancellations are repeatable: sending them again is the look-up.
            _ => Ok(None),
        }
    }
}
