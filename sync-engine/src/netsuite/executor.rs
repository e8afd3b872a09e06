//! Carries out the NetSuite actions of the outbox.
//!
//! Every record this executor creates carries the action's idempotency key as `externalId`, so
//! after an ambiguous attempt [`ActionExecutor::find_applied`] finds it with
//! `GET /record/v1/{type}/eid:{key}`, and a create refused because the external id is taken is
//! recognised as already applied.
//!
//! A posting on a fault-free day is one request: fulfilments and receipts are transforms of the
//! moving lines only (`?replace=item`), so the order is not read first; creates are sent as they
//! are. The look-up by `eid:` happens only after an ambiguous failure (the outbox asks
//! [`ActionExecutor::find_applied`]) or a refusal that says the external id is taken. Lot and
//! serial numbers going out are looked up (one SuiteQL query) because NetSuite wants their
//! internal ids.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use netsuite_client::quarantine::{InventoryStatusChange, STATUS_CHANGE_TYPE, StatusChangeLine};
use netsuite_client::records::{
    InventoryAdjustment as NsAdjustment, InventoryAdjustmentLine, InventoryAssignment,
    InventoryDetail, InventoryTransfer, InventoryTransferLine, Package as NsPackage, RecordRef,
    ShipStatus, Sublist,
};
use netsuite_client::transform::{
    Assignment, FulfillmentDraft, ReceiptDraft, ReceiptSource, TransformLine,
};
use netsuite_client::{ExternalId, NetSuiteClient, RecordId, RecordKey, RecordType};
use rust_decimal::Decimal;
use serde::Deserialize;
use sync_core::stock_move::MoveKind;
use sync_core::{
    Action, Fulfilment, InventoryAdjustment, ItemReceipt, LocationId, LotQuantity, Mappings,
    NetSuiteId, OrderKind, PlannedAction, PostedLine, SerialNumber, StockMove,
};

use super::convert::receipt_lines;
use super::errors::{Stage, classify, may_be_duplicate};
use super::lots::inventory_number_ids;
use super::segments::{LocationSegments, Segments};
use crate::failure::Failure;
use crate::outbox::{ActionExecutor, ExecutionError};

const SALES_ORDER: RecordType = RecordType::from_static("salesOrder");
const ITEM_FULFILLMENT: RecordType = RecordType::from_static("itemFulfillment");
const ITEM_RECEIPT: RecordType = RecordType::from_static("itemReceipt");
const INVENTORY_ADJUSTMENT: RecordType = RecordType::from_static("inventoryAdjustment");
const INVENTORY_TRANSFER: RecordType = RecordType::from_static("inventoryTransfer");
const STATUS_CHANGE: RecordType = RecordType::from_static(STATUS_CHANGE_TYPE);

/// Settings of the [`NetSuiteExecutor`].
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// The account's time zone: transaction dates (`tranDate`, `shippedDate`) are the civil dates
    /// of the warehouse timestamps in it. Default UTC.
    pub time_zone: TimeZone,
    /// The mapping tables, when known: an inventory adjustment of a location whose sellable
    /// stock is an inventory status is posted in that status (accounts with the Inventory Status
    /// feature require one). Without them adjustments take the account's default status.
    pub mappings: Option<Mappings>,
    /// OneWorld `subsidiary`, `department` and `class` per location (from
    /// `[netsuite.locations."<id>"]`); see [`NetSuiteExecutor::with_location_segments`].
    pub segments: LocationSegments,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            time_zone: TimeZone::UTC,
            mappings: None,
            segments: LocationSegments::default(),
        }
    }
}

/// Runs NetSuite actions through a [`NetSuiteClient`]: item fulfilments and item receipts by
/// transform, inventory adjustments, and moves between sellable and quarantine stock
/// (`inventoryStatusChange` within a location, `inventoryTransfer` between locations).
///
/// ```no_run
/// # fn demo(client: netsuite_client::NetSuiteClient) {
/// use std::sync::Arc;
/// use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor};
/// use sync_engine::outbox::ActionExecutor;
///
/// let executor: Arc<dyn ActionExecutor> =
///     Arc::new(NetSuiteExecutor::new(client, ExecutorConfig::default()));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct NetSuiteExecutor {
    client: NetSuiteClient,
    config: ExecutorConfig,
    segments: LocationSegments,
}

/// The record type an action creates, and the external id it carries.
fn target(action: &PlannedAction) -> Result<(RecordType, ExternalId), ExecutionError> {
    let record = match &action.action {
        Action::FulfilSalesOrder(_) => ITEM_FULFILLMENT,
        Action::ReceivePurchaseOrder(_) | Action::ReceiveReturnAuthorisation(_) => ITEM_RECEIPT,
        Action::PostInventoryAdjustment(_) => INVENTORY_ADJUSTMENT,
        Action::MoveStock(m) => match move_kind(m)? {
            MoveKind::StatusChange { .. } => STATUS_CHANGE,
            MoveKind::Transfer { .. } => INVENTORY_TRANSFER,
        },
        other => {
            return Err(ExecutionError::Rejected(
                format!(
                    "{} is not a NetSuite action",
                    crate::engine::action_kind(other)
                )
                .into(),
            ));
        }
    };
    let eid = ExternalId::new(action.key.as_str()).map_err(|e| {
        ExecutionError::Rejected(format!("idempotency key cannot be an external id: {e}").into())
    })?;
    Ok((record, eid))
}

fn record_id(value: &str, what: &str) -> Result<RecordId, ExecutionError> {
    RecordId::new(value).map_err(|_| {
        ExecutionError::Rejected(format!("{what} {value:?} is not a NetSuite internal id").into())
    })
}

fn line_number(line: &PostedLine) -> Result<i64, ExecutionError> {
    i64::try_from(line.order_line.0).map_err(|_| {
        ExecutionError::Rejected(format!("order line {} is out of range", line.order_line).into())
    })
}

/// The transaction a stock move posts as, as the core decides ([`StockMove::kind`]).
fn move_kind(m: &StockMove) -> Result<MoveKind, ExecutionError> {
    m.kind()
        .map_err(|e| ExecutionError::Rejected(Failure::of(e)))
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<RecordId>,
}

impl NetSuiteExecutor {
    /// An executor sending through `client`.
    pub fn new(client: NetSuiteClient, config: ExecutorConfig) -> Self {
        NetSuiteExecutor {
            client,
            segments: config.segments.clone(),
            config,
        }
    }

    /// Names these segments (OneWorld `subsidiary`, `department`, `class`) on the inventory
    /// adjustments, transfers and status changes of each location (a transfer takes those of
    /// the location the stock leaves).
    pub fn with_location_segments(mut self, segments: LocationSegments) -> Self {
        self.segments = segments;
        self
    }

    /// The segments of a location's transactions, as references.
    fn segments_of(&self, location: &LocationId) -> Result<SegmentRefs, ExecutionError> {
        let Some(segments) = self.segments.get(location) else {
            return Ok(SegmentRefs::default());
        };
        let Segments {
            subsidiary,
            department,
            class,
        } = segments;
        let reference = |id: &Option<NetSuiteId>, what: &str| {
            id.as_ref()
                .map(|id| record_id(id.as_str(), what).map(RecordRef::id))
                .transpose()
        };
        Ok(SegmentRefs {
            subsidiary: reference(subsidiary, "subsidiary")?,
            department: reference(department, "department")?,
            class: reference(class, "class")?,
        })
    }

    /// The client in use.
    pub fn client(&self) -> &NetSuiteClient {
        &self.client
    }

    fn date(&self, at: Timestamp) -> jiff::civil::Date {
        at.to_zoned_datetime(self.config.time_zone.clone()).date()
    }

    /// Assignments issuing existing lots and serials (outbound lines).
    async fn issue_assignments(
        &self,
        item: &NetSuiteId,
        lots: &[LotQuantity],
        serials: &[SerialNumber],
        sign: Decimal,
    ) -> Result<Vec<Assignment>, ExecutionError> {
        let numbers: Vec<&str> = lots
            .iter()
            .map(|l| l.lot.as_str())
            .chain(serials.iter().map(|s| s.as_str()))
            .collect();
        let ids = inventory_number_ids(&self.client, item, &numbers).await?;
        let mut out = Vec::new();
        for lot in lots {
            out.push(Assignment::quantity(lot.quantity * sign).number(&ids[lot.lot.as_str()]));
        }
        for serial in serials {
            out.push(Assignment::quantity(sign).number(&ids[serial.as_str()]));
        }
        Ok(out)
    }

    /// Assignments receiving new lots and serials (inbound lines), by number text.
    fn receipt_assignments(lots: &[LotQuantity], serials: &[SerialNumber]) -> Vec<Assignment> {
        lots.iter()
            .map(|l| Assignment::quantity(l.quantity).number(l.lot.as_str()))
            .chain(
                serials
                    .iter()
                    .map(|s| Assignment::quantity(Decimal::ONE).number(s.as_str())),
            )
            .collect()
    }

    /// Sends a write, then settles the answer: a refusal because the external id is taken
    /// means an earlier attempt applied it.
    async fn settle(
        &self,
        record: RecordType,
        eid: &ExternalId,
        sent: Result<RecordId, netsuite_client::Error>,
    ) -> Result<Option<String>, ExecutionError> {
        match sent {
            Ok(id) => Ok(Some(id.as_str().to_owned())),
            Err(e) if may_be_duplicate(&e) => match self.lookup(record, eid).await? {
                Some(id) => {
                    tracing::info!(%eid, %id, "the record already exists; an earlier attempt applied it");
                    Ok(Some(id))
                }
                None => Err(classify(e, Stage::Write)),
            },
            Err(e) => Err(classify(e, Stage::Write)),
        }
    }

    async fn lookup(
        &self,
        record: RecordType,
        eid: &ExternalId,
    ) -> Result<Option<String>, ExecutionError> {
        match self
            .client
            .get_as::<IdOnly>(record, RecordKey::External(eid.clone()))
            .send()
            .await
        {
            Ok(found) => Ok(Some(
                found
                    .id
                    .map(|id| id.as_str().to_owned())
                    .unwrap_or_else(|| format!("eid:{eid}")),
            )),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(classify(e, Stage::Read)),
        }
    }

    async fn fulfil(
        &self,
        eid: &ExternalId,
        f: &Fulfilment,
    ) -> Result<Option<String>, ExecutionError> {
        let order = RecordKey::Id(record_id(f.order.as_str(), "sales order")?);
        let location = record_id(f.location.as_str(), "location")?;
        let mut draft = FulfillmentDraft::new(ShipStatus::Shipped).external_id(eid.as_str());
        draft.tran_date = Some(self.date(f.despatched_at));
        for line in f.lines.iter().filter(|l| l.quantity > Decimal::ZERO) {
            let mut out =
                TransformLine::new(line_number(line)?, line.quantity).location(location.clone());
            for a in self
                .issue_assignments(&line.item, &line.lots, &line.serials, Decimal::ONE)
                .await?
            {
                out = out.assign(a);
            }
            draft = draft.line(out);
        }
        if draft.lines.is_empty() {
            return Err(ExecutionError::Rejected(
                format!("fulfilment of sales order {} ships nothing", f.order).into(),
            ));
        }
        // Only the shipping lines, with `replace=item`: the order's other lines stay out of the
        // fulfilment without a read of the order first.
        let mut body = draft.to_lines_body().map_err(|e| {
            ExecutionError::Rejected(format!("fulfilment of sales order {}: {e}", f.order).into())
        })?;
        body.shipped_date = body.tran_date;
        if let Some(ship_method) = &f.ship_method {
            body.ship_method = Some(RecordRef::id(record_id(
                ship_method.as_str(),
                "ship method",
            )?));
        }
        let packages: Vec<NsPackage> = f
            .packages
            .iter()
            .map(|p| NsPackage {
                package_tracking_number: p.tracking_number.as_ref().map(|t| t.to_string()),
                package_weight: p.weight_kg,
                ..Default::default()
            })
            .collect();
        if !packages.is_empty() {
            body.package = Some(Sublist::from(packages));
        }
        let sent = self
            .client
            .transform(SALES_ORDER, order, ITEM_FULFILLMENT, &body)
            .replace(&["item"])
            .send()
            .await;
        self.settle(ITEM_FULFILLMENT, eid, sent).await
    }

    async fn receive(
        &self,
        eid: &ExternalId,
        kind: OrderKind,
        r: &ItemReceipt,
    ) -> Result<Option<String>, ExecutionError> {
        let source = {
            let key = RecordKey::Id(record_id(r.order.id.as_str(), "order")?);
            match kind {
                OrderKind::Purchase => ReceiptSource::PurchaseOrder(key),
                OrderKind::Return => ReceiptSource::ReturnAuthorization(key),
                OrderKind::Sales => {
                    return Err(ExecutionError::Rejected(
                        format!("{} cannot be received", r.order).into(),
                    ));
                }
            }
        };
        let mut draft = ReceiptDraft::new().external_id(eid.as_str());
        draft.tran_date = Some(self.date(r.received_at));
        // One receipt line per order line: units received sellable and quarantined on the same
        // order line are parts of it, each in its own inventory status.
        let lines = receipt_lines(r).map_err(|e| ExecutionError::Rejected(e.to_string().into()))?;
        for received in lines {
            let line_no = i64::try_from(received.order_line.0).map_err(|_| {
                ExecutionError::Rejected(
                    format!("order line {} is out of range", received.order_line).into(),
                )
            })?;
            let mut out = TransformLine::new(line_no, received.quantity)
                .location(record_id(received.location.as_str(), "location")?);
            let with_status = received.parts.iter().any(|p| p.status.is_some());
            for part in &received.parts {
                let mut assignments = Self::receipt_assignments(&part.lots, &part.serials);
                if assignments.is_empty() && with_status {
                    assignments.push(Assignment::quantity(part.quantity));
                }
                for mut a in assignments {
                    if let Some(status) = &part.status {
                        a = a.status(record_id(status.as_str(), "inventory status")?);
                    }
                    out = out.assign(a);
                }
            }
            draft = draft.line(out);
        }
        if draft.lines.is_empty() {
            return Err(ExecutionError::Rejected(
                format!("receipt of {} receives nothing", r.order).into(),
            ));
        }
        // Only the received lines, with `replace=item`: no read of the order first. A line that
        // is not open any more is NetSuite's refusal to report.
        let transform = self.client.receive_lines(source, &draft);
        let sent = transform.send().await;
        self.settle(ITEM_RECEIPT, eid, sent).await
    }

    async fn adjust(
        &self,
        eid: &ExternalId,
        a: &InventoryAdjustment,
    ) -> Result<Option<String>, ExecutionError> {
        let line = self.adjustment_line(a).await?;
        let location = RecordRef::id(record_id(a.location.as_str(), "location")?);
        let segments = self.segments_of(&a.location)?;
        let body = NsAdjustment {
            external_id: Some(eid.to_string()),
            tran_date: Some(self.date(a.occurred_at)),
            memo: (!a.memo.is_empty()).then(|| a.memo.clone()),
            account: Some(RecordRef::id(record_id(a.account.as_str(), "account")?)),
            adj_location: Some(location),
            subsidiary: segments.subsidiary,
            department: segments.department,
            class: segments.class,
            inventory: Some(Sublist::from(vec![line])),
            ..Default::default()
        };
        let sent = self.client.create(&body).send().await;
        self.settle(INVENTORY_ADJUSTMENT, eid, sent).await
    }

    /// Posts several adjustments of one location and one account as ONE `inventoryAdjustment`
    /// with one line per adjustment (in the order given, each line carrying its adjustment's
    /// memo), under `external_id`. The transaction date is that of the latest adjustment.
    /// A create refused because the external id is taken is answered with the existing record.
    ///
    /// Used by batched cadence (see `crate::batch`); a single adjustment is posted the same way
    /// as the outbox posts it, apart from the external id and header memo.
    pub async fn post_adjustments(
        &self,
        external_id: &str,
        memo: &str,
        adjustments: &[InventoryAdjustment],
    ) -> Result<Option<String>, ExecutionError> {
        let eid = ExternalId::new(external_id).map_err(|e| {
            ExecutionError::Rejected(format!("batch key cannot be an external id: {e}").into())
        })?;
        let Some(first) = adjustments.first() else {
            return Err(ExecutionError::Rejected(
                "an inventory adjustment needs at least one line".into(),
            ));
        };
        if let Some(other) = adjustments
            .iter()
            .find(|a| a.location != first.location || a.account != first.account)
        {
            return Err(ExecutionError::Rejected(format!(
                "one inventory adjustment cannot post to location {} account {} and location {} account {}",
                first.location, first.account, other.location, other.account
            ).into()));
        }
        let mut lines = Vec::with_capacity(adjustments.len());
        for a in adjustments {
            let mut line = self.adjustment_line(a).await?;
            line.memo = (!a.memo.is_empty()).then(|| a.memo.clone());
            lines.push(line);
        }
        let latest = adjustments
            .iter()
            .map(|a| a.occurred_at)
            .max()
            .unwrap_or(first.occurred_at);
        let segments = self.segments_of(&first.location)?;
        let body = NsAdjustment {
            external_id: Some(eid.to_string()),
            tran_date: Some(self.date(latest)),
            memo: (!memo.is_empty()).then(|| memo.to_owned()),
            account: Some(RecordRef::id(record_id(first.account.as_str(), "account")?)),
            adj_location: Some(RecordRef::id(record_id(
                first.location.as_str(),
                "location",
            )?)),
            subsidiary: segments.subsidiary,
            department: segments.department,
            class: segments.class,
            inventory: Some(Sublist::from(lines)),
            ..Default::default()
        };
        let sent = self.client.create(&body).send().await;
        self.settle(INVENTORY_ADJUSTMENT, &eid, sent).await
    }

    /// The internal id of the inventory adjustment with this external id, if NetSuite has one
    /// (the look-up after an ambiguous [`NetSuiteExecutor::post_adjustments`]).
    pub async fn find_adjustment(
        &self,
        external_id: &str,
    ) -> Result<Option<String>, ExecutionError> {
        let eid = ExternalId::new(external_id).map_err(|e| {
            ExecutionError::Rejected(format!("batch key cannot be an external id: {e}").into())
        })?;
        self.lookup(INVENTORY_ADJUSTMENT, &eid).await
    }

    /// One `inventory` line of an adjustment: the signed quantity at its location, with lots,
    /// serials and the location's sellable status when the account uses statuses.
    async fn adjustment_line(
        &self,
        a: &InventoryAdjustment,
    ) -> Result<InventoryAdjustmentLine, ExecutionError> {
        if a.quantity.is_zero() {
            return Err(ExecutionError::Rejected(
                format!("adjustment of item {} by zero", a.item).into(),
            ));
        }
        let location = RecordRef::id(record_id(a.location.as_str(), "location")?);
        let sign = if a.quantity > Decimal::ZERO {
            Decimal::ONE
        } else {
            Decimal::NEGATIVE_ONE
        };
        let mut assignments: Vec<InventoryAssignment> = if sign > Decimal::ZERO {
            Self::receipt_assignments(&a.lots, &a.serials)
                .into_iter()
                .map(|x| InventoryAssignment {
                    receipt_inventory_number: x.number,
                    quantity: Some(x.quantity),
                    ..Default::default()
                })
                .collect()
        } else {
            self.issue_assignments(&a.item, &a.lots, &a.serials, sign)
                .await?
                .into_iter()
                .map(|x| {
                    Ok(InventoryAssignment {
                        issue_inventory_number: match x.number {
                            Some(n) => Some(RecordRef::id(record_id(&n, "inventory number")?)),
                            None => None,
                        },
                        quantity: Some(x.quantity),
                        ..Default::default()
                    })
                })
                .collect::<Result<_, ExecutionError>>()?
        };
        // Decided at planning; an adjustment planned before the decision was recorded takes the
        // core's rule from the current mapping.
        let status = a.inventory_status.clone().or_else(|| {
            let mappings = self.config.mappings.as_ref()?;
            mappings.sellable_status(&a.location).cloned()
        });
        if let Some(status) = status {
            if assignments.is_empty() {
                assignments.push(InventoryAssignment {
                    quantity: Some(a.quantity),
                    ..Default::default()
                });
            }
            let status = RecordRef::id(record_id(status.as_str(), "inventory status")?);
            for x in &mut assignments {
                x.inventory_status = Some(status.clone());
            }
        }
        Ok(InventoryAdjustmentLine {
            item: Some(RecordRef::id(record_id(a.item.as_str(), "item")?)),
            location: Some(location),
            adjust_qty_by: Some(a.quantity),
            inventory_detail: detail(assignments),
            ..Default::default()
        })
    }

    async fn move_stock(
        &self,
        eid: &ExternalId,
        m: &StockMove,
    ) -> Result<Option<String>, ExecutionError> {
        if m.quantity <= Decimal::ZERO {
            return Err(ExecutionError::Rejected(
                format!("move of {} units of item {}", m.quantity, m.item).into(),
            ));
        }
        let numbered = self
            .issue_assignments(&m.item, &m.lots, &m.serials, Decimal::ONE)
            .await?;
        let mut assignments = Vec::with_capacity(numbered.len());
        for x in numbered {
            assignments.push(InventoryAssignment {
                issue_inventory_number: match x.number {
                    Some(n) => Some(RecordRef::id(record_id(&n, "inventory number")?)),
                    None => None,
                },
                quantity: Some(x.quantity),
                ..Default::default()
            });
        }
        let item = RecordRef::id(record_id(m.item.as_str(), "item")?);
        let memo = Some(format!("Clarus stock move {eid}"));
        let tran_date = Some(self.date(m.occurred_at));
        match move_kind(m)? {
            MoveKind::StatusChange { location, from, to } => {
                let segments = self.segments_of(&location)?;
                let body = InventoryStatusChange {
                    external_id: Some(eid.to_string()),
                    location: Some(RecordRef::id(record_id(location.as_str(), "location")?)),
                    previous_status: Some(RecordRef::id(record_id(
                        from.as_str(),
                        "inventory status",
                    )?)),
                    revised_status: Some(RecordRef::id(record_id(
                        to.as_str(),
                        "inventory status",
                    )?)),
                    memo,
                    subsidiary: segments.subsidiary,
                    department: segments.department,
                    class: segments.class,
                    inventory: Some(Sublist::from(vec![StatusChangeLine {
                        item: Some(item),
                        quantity: Some(m.quantity),
                        inventory_detail: detail(assignments),
                        ..Default::default()
                    }])),
                    extra: tran_date_extra(tran_date),
                };
                let sent = self.client.create_as(STATUS_CHANGE, &body).send().await;
                self.settle(STATUS_CHANGE, eid, sent).await
            }
            MoveKind::Transfer { from, to } => {
                if from.status.is_some() || to.status.is_some() {
                    if assignments.is_empty() {
                        assignments.push(InventoryAssignment {
                            quantity: Some(m.quantity),
                            ..Default::default()
                        });
                    }
                    for x in &mut assignments {
                        if let Some(s) = &from.status {
                            x.inventory_status =
                                Some(RecordRef::id(record_id(s.as_str(), "inventory status")?));
                        }
                        if let Some(s) = &to.status {
                            x.to_inventory_status =
                                Some(RecordRef::id(record_id(s.as_str(), "inventory status")?));
                        }
                    }
                }
                let segments = self.segments_of(&from.location)?;
                let body = InventoryTransfer {
                    external_id: Some(eid.to_string()),
                    tran_date,
                    memo,
                    subsidiary: segments.subsidiary,
                    department: segments.department,
                    class: segments.class,
                    location: Some(RecordRef::id(record_id(
                        from.location.as_str(),
                        "location",
                    )?)),
                    transfer_location: Some(RecordRef::id(record_id(
                        to.location.as_str(),
                        "location",
                    )?)),
                    inventory: Some(Sublist::from(vec![InventoryTransferLine {
                        item: Some(item),
                        adjust_qty_by: Some(m.quantity),
                        inventory_detail: detail(assignments),
                        ..Default::default()
                    }])),
                    ..Default::default()
                };
                let sent = self.client.create(&body).send().await;
                self.settle(INVENTORY_TRANSFER, eid, sent).await
            }
        }
    }
}

/// A location's segments as references, ready for a body.
#[derive(Default)]
struct SegmentRefs {
    subsidiary: Option<RecordRef>,
    department: Option<RecordRef>,
    class: Option<RecordRef>,
}

fn detail(assignments: Vec<InventoryAssignment>) -> Option<InventoryDetail> {
    (!assignments.is_empty()).then(|| InventoryDetail {
        inventory_assignment: Some(Sublist::from(assignments)),
        ..Default::default()
    })
}

/// `tranDate` of a status change (the client's body type keeps it among the other fields).
fn tran_date_extra(date: Option<jiff::civil::Date>) -> netsuite_client::records::Extra {
    let mut extra = netsuite_client::records::Extra::new();
    if let Some(date) = date {
        extra.insert(
            "tranDate".into(),
            serde_json::Value::String(date.to_string()),
        );
    }
    extra
}

/// A removal refused for lack of stock is retried rather than given up, as the core decides
/// ([`sync_core::action::removal_refusal_may_pass`]).
fn stock_may_be_in_flight(
    result: Result<Option<String>, ExecutionError>,
) -> Result<Option<String>, ExecutionError> {
    match result {
        Err(ExecutionError::Rejected(message))
            if sync_core::action::removal_refusal_may_pass(&message) =>
        {
            Err(ExecutionError::Retryable(message))
        }
        other => other,
    }
}

#[async_trait]
impl ActionExecutor for NetSuiteExecutor {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let started = std::time::Instant::now();
        let result: Result<Option<String>, ExecutionError> = async {
            let (_, eid) = target(action)?;
            match &action.action {
                Action::FulfilSalesOrder(f) => self.fulfil(&eid, f).await,
                Action::ReceivePurchaseOrder(r) => self.receive(&eid, OrderKind::Purchase, r).await,
                Action::ReceiveReturnAuthorisation(r) => {
                    self.receive(&eid, OrderKind::Return, r).await
                }
                Action::PostInventoryAdjustment(a) => {
                    let result = self.adjust(&eid, a).await;
                    if a.quantity < Decimal::ZERO {
                        stock_may_be_in_flight(result)
                    } else {
                        result
                    }
                }
                Action::MoveStock(m) => stock_may_be_in_flight(self.move_stock(&eid, m).await),
                other => Err(ExecutionError::Rejected(
                    format!(
                        "{} is not a NetSuite action",
                        crate::engine::action_kind(other)
                    )
                    .into(),
                )),
            }
        }
        .await;
        crate::metrics::netsuite_outcome(started, &result);
        result
    }

    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let started = std::time::Instant::now();
        let result = match target(action) {
            Ok((record, eid)) => self.lookup(record, &eid).await,
            Err(e) => Err(e),
        };
        crate::metrics::netsuite_outcome(started, &result);
        result
    }
}
