//! Transforms: sales order → item fulfilment, purchase order / return authorisation / transfer
//! order → item receipt (`POST /record/v1/{source}/{id}/!transform/{target}`).
//!
//! A transform pre-fills every open line of the source with its remaining quantity, so a partial
//! fulfilment or receipt must either say `itemReceive: false` for every line it leaves out (the
//! drafts' `to_body`, given the source order's own line numbers, which are not 1..n), or send
//! only its lines with `?replace=item` (`to_lines_body`, [`NetSuiteClient::fulfill_lines`],
//! [`NetSuiteClient::receive_lines`]), which needs no read of the order first. Lots and serials
//! go through `inventoryDetail`: `issueInventoryNumber` (an existing number) on fulfilments,
//! `receiptInventoryNumber` (free text) on receipts; an assignment may also name its
//! `inventoryStatus`, so one receipt line can put part of its units in each status.

use http::Method;
use rust_decimal::Decimal;

use crate::client::{NetSuiteClient, RequestSpec};
use crate::error::Error;
use crate::ids::{IdempotencyKey, RecordId, RecordKey, RecordType};
use crate::jobs::AsyncJob;
use crate::ops::{encode_body, field_list, id_from_location, strict_property_names};
use crate::records::{
    InventoryAssignment, InventoryDetail, ItemFulfillment, ItemFulfillmentLine, ItemReceipt,
    ItemReceiptLine, Package, RecordRef, Select, ShipStatus, Sublist,
};
use crate::retry::Idempotency;

/// Where the units of one line come from or go to: a lot/serial, a bin, a status, a quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Quantity of this assignment.
    pub quantity: Decimal,
    /// Lot or serial number: on fulfilments the internal id of an existing `inventoryNumber`
    /// (sent as `issueInventoryNumber`); on receipts the new number's text (`receiptInventoryNumber`).
    pub number: Option<String>,
    /// Bin (internal id).
    pub bin: Option<RecordId>,
    /// Inventory status (internal id), e.g. the quarantine status of a returned unit.
    pub status: Option<RecordId>,
}

impl Assignment {
    /// A quantity with no lot, bin or status.
    pub fn quantity(quantity: Decimal) -> Self {
        Self {
            quantity,
            number: None,
            bin: None,
            status: None,
        }
    }

    /// Sets the lot or serial number.
    pub fn number(mut self, number: impl Into<String>) -> Self {
        self.number = Some(number.into());
        self
    }

    /// Sets the bin.
    pub fn bin(mut self, bin: RecordId) -> Self {
        self.bin = Some(bin);
        self
    }

    /// Sets the inventory status.
    pub fn status(mut self, status: RecordId) -> Self {
        self.status = Some(status);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Outbound,
    Inbound,
}

fn inventory_detail(
    assignments: &[Assignment],
    direction: Direction,
) -> Result<Option<InventoryDetail>, Error> {
    if assignments.is_empty() {
        return Ok(None);
    }
    let mut items = Vec::with_capacity(assignments.len());
    for a in assignments {
        let mut out = InventoryAssignment {
            quantity: Some(a.quantity),
            bin_number: a.bin.clone().map(RecordRef::id),
            inventory_status: a.status.clone().map(RecordRef::id),
            ..Default::default()
        };
        match (&a.number, direction) {
            (Some(n), Direction::Outbound) => {
                let id = RecordId::new(n.clone()).map_err(|_| {
                    Error::InvalidRequest(format!(
                        "fulfilment lots/serials are inventoryNumber internal ids; {n:?} is not one (look it up first)"
                    ))
                })?;
                out.issue_inventory_number = Some(RecordRef::id(id));
            }
            (Some(n), Direction::Inbound) => out.receipt_inventory_number = Some(n.clone()),
            (None, _) => {}
        }
        items.push(out);
    }
    Ok(Some(InventoryDetail {
        inventory_assignment: Some(Sublist::from(items)),
        ..Default::default()
    }))
}

/// One source line to fulfil or receive.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformLine {
    /// The source order's `line` (used as `orderLine`).
    pub order_line: i64,
    /// Quantity moved.
    pub quantity: Decimal,
    /// Location (internal id), when it differs from the order's.
    pub location: Option<RecordId>,
    /// Lots, serials, bins and statuses; their quantities must add up to `quantity`.
    pub assignments: Vec<Assignment>,
}

impl TransformLine {
    /// A line moving `quantity` units of source line `order_line`.
    pub fn new(order_line: i64, quantity: Decimal) -> Self {
        Self {
            order_line,
            quantity,
            location: None,
            assignments: Vec::new(),
        }
    }

    /// Sets the location.
    pub fn location(mut self, location: RecordId) -> Self {
        self.location = Some(location);
        self
    }

    /// Adds a lot/serial/bin/status assignment.
    pub fn assign(mut self, assignment: Assignment) -> Self {
        self.assignments.push(assignment);
        self
    }

    fn check(&self) -> Result<(), Error> {
        if self.quantity <= Decimal::ZERO {
            return Err(Error::InvalidRequest(format!(
                "order line {}: quantity {} must be positive",
                self.order_line, self.quantity
            )));
        }
        if !self.assignments.is_empty() {
            let sum: Decimal = self.assignments.iter().map(|a| a.quantity).sum();
            if sum != self.quantity {
                return Err(Error::InvalidRequest(format!(
                    "order line {}: assignments add up to {sum}, the line moves {}",
                    self.order_line, self.quantity
                )));
            }
        }
        Ok(())
    }
}

/// Checks the lines; with `open_lines`, also that each is a line of the source order.
fn check_lines(lines: &[TransformLine], open_lines: Option<&[i64]>) -> Result<(), Error> {
    if lines.is_empty() {
        return Err(Error::InvalidRequest("no lines to transform".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for l in lines {
        l.check()?;
        if !seen.insert(l.order_line) {
            return Err(Error::InvalidRequest(format!(
                "order line {} appears twice: a transform takes each order line once (put its parts in assignments)",
                l.order_line
            )));
        }
        if let Some(open_lines) = open_lines
            && !open_lines.contains(&l.order_line)
        {
            return Err(Error::InvalidRequest(format!(
                "order line {} is not a line of the source order (lines: {open_lines:?})",
                l.order_line
            )));
        }
    }
    Ok(())
}

/// A package with its tracking number.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedPackage {
    /// Carrier tracking number.
    pub tracking_number: String,
    /// Weight, when known.
    pub weight: Option<Decimal>,
    /// Description (e.g. carrier and service).
    pub description: Option<String>,
}

/// An item fulfilment to create from a sales (or transfer) order.
#[derive(Debug, Clone, PartialEq)]
pub struct FulfillmentDraft {
    /// Picked, packed or shipped.
    pub ship_status: ShipStatus,
    /// Lines that ship.
    pub lines: Vec<TransformLine>,
    /// Packages and tracking numbers.
    pub packages: Vec<TrackedPackage>,
    /// External id stamped on the fulfilment (makes the create findable after an unknown outcome).
    pub external_id: Option<String>,
    /// Transaction date.
    pub tran_date: Option<jiff::civil::Date>,
    /// Memo.
    pub memo: Option<String>,
}

impl FulfillmentDraft {
    /// A fulfilment with the given ship status and no lines yet.
    pub fn new(ship_status: ShipStatus) -> Self {
        Self {
            ship_status,
            lines: Vec::new(),
            packages: Vec::new(),
            external_id: None,
            tran_date: None,
            memo: None,
        }
    }

    /// Adds a line.
    pub fn line(mut self, line: TransformLine) -> Self {
        self.lines.push(line);
        self
    }

    /// Adds a package with its tracking number.
    pub fn package(mut self, package: TrackedPackage) -> Self {
        self.packages.push(package);
        self
    }

    /// Stamps an external id.
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// The transform body, given every line number of the source order: chosen lines with their
    /// quantities and inventory detail, `itemReceive: false` for all others.
    pub fn to_body(&self, order_lines: &[i64]) -> Result<ItemFulfillment, Error> {
        check_lines(&self.lines, Some(order_lines))?;
        let mut body = self.body()?;
        let items = &mut body.item.get_or_insert_with(Sublist::default).items;
        for &n in order_lines {
            if !self.lines.iter().any(|l| l.order_line == n) {
                items.push(ItemFulfillmentLine {
                    order_line: Some(n),
                    item_receive: Some(false),
                    ..Default::default()
                });
            }
        }
        Ok(body)
    }

    /// The transform body with only the draft's lines, to send with `?replace=item`
    /// ([`NetSuiteClient::fulfill_lines`]): the order's other lines are left out without a read
    /// of the order.
    pub fn to_lines_body(&self) -> Result<ItemFulfillment, Error> {
        check_lines(&self.lines, None)?;
        self.body()
    }

    fn body(&self) -> Result<ItemFulfillment, Error> {
        let mut items = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            items.push(ItemFulfillmentLine {
                order_line: Some(l.order_line),
                item_receive: Some(true),
                quantity: Some(l.quantity),
                location: l.location.clone().map(RecordRef::id),
                inventory_detail: inventory_detail(&l.assignments, Direction::Outbound)?,
                ..Default::default()
            });
        }
        let packages: Vec<Package> = self
            .packages
            .iter()
            .map(|p| Package {
                package_tracking_number: Some(p.tracking_number.clone()),
                package_weight: p.weight,
                package_descr: p.description.clone(),
                ..Default::default()
            })
            .collect();
        Ok(ItemFulfillment {
            external_id: self.external_id.clone(),
            tran_date: self.tran_date,
            memo: self.memo.clone(),
            ship_status: Some(Select::new(self.ship_status.clone())),
            item: Some(Sublist::from(items)),
            package: (!packages.is_empty()).then(|| Sublist::from(packages)),
            ..Default::default()
        })
    }
}

/// An item receipt to create from a purchase order, return authorisation or transfer order.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptDraft {
    /// Lines received.
    pub lines: Vec<TransformLine>,
    /// External id stamped on the receipt.
    pub external_id: Option<String>,
    /// Transaction date.
    pub tran_date: Option<jiff::civil::Date>,
    /// Memo.
    pub memo: Option<String>,
}

impl ReceiptDraft {
    /// A receipt with no lines yet.
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            external_id: None,
            tran_date: None,
            memo: None,
        }
    }

    /// Adds a line.
    pub fn line(mut self, line: TransformLine) -> Self {
        self.lines.push(line);
        self
    }

    /// Stamps an external id.
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// The transform body, given every line number of the source order.
    pub fn to_body(&self, order_lines: &[i64]) -> Result<ItemReceipt, Error> {
        check_lines(&self.lines, Some(order_lines))?;
        let mut body = self.body()?;
        let items = &mut body.item.get_or_insert_with(Sublist::default).items;
        for &n in order_lines {
            if !self.lines.iter().any(|l| l.order_line == n) {
                items.push(ItemReceiptLine {
                    order_line: Some(n),
                    item_receive: Some(false),
                    ..Default::default()
                });
            }
        }
        Ok(body)
    }

    /// The transform body with only the draft's lines, to send with `?replace=item`
    /// ([`NetSuiteClient::receive_lines`]).
    pub fn to_lines_body(&self) -> Result<ItemReceipt, Error> {
        check_lines(&self.lines, None)?;
        self.body()
    }

    fn body(&self) -> Result<ItemReceipt, Error> {
        let mut items = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            items.push(ItemReceiptLine {
                order_line: Some(l.order_line),
                item_receive: Some(true),
                quantity: Some(l.quantity),
                location: l.location.clone().map(RecordRef::id),
                inventory_detail: inventory_detail(&l.assignments, Direction::Inbound)?,
                ..Default::default()
            });
        }
        Ok(ItemReceipt {
            external_id: self.external_id.clone(),
            tran_date: self.tran_date,
            memo: self.memo.clone(),
            item: Some(Sublist::from(items)),
            ..Default::default()
        })
    }
}

impl Default for ReceiptDraft {
    fn default() -> Self {
        Self::new()
    }
}

/// The source of an item receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptSource {
    /// A purchase order.
    PurchaseOrder(RecordKey),
    /// A return authorisation.
    ReturnAuthorization(RecordKey),
    /// A transfer order (after its fulfilment).
    TransferOrder(RecordKey),
}

impl ReceiptSource {
    fn parts(&self) -> (&'static str, &RecordKey) {
        match self {
            Self::PurchaseOrder(k) => ("purchaseOrder", k),
            Self::ReturnAuthorization(k) => ("returnAuthorization", k),
            Self::TransferOrder(k) => ("transferOrder", k),
        }
    }
}

/// A transform ready to send: `.send()` for a synchronous create (never retried once sent),
/// `.send_async(key)` for an asynchronous one (safe to retry).
#[must_use = "call .send() or .send_async(key)"]
#[derive(Debug)]
pub struct Transform {
    client: NetSuiteClient,
    source: RecordType,
    source_key: RecordKey,
    target: RecordType,
    body: Result<bytes::Bytes, Error>,
    replace: Vec<&'static str>,
}

impl Transform {
    /// Replaces these sublists of the pre-filled target (`?replace=item`): source lines the body
    /// leaves out are not transformed, so no `itemReceive: false` lines (and no read of the
    /// source's line numbers) are needed.
    pub fn replace(mut self, sublists: &[&'static str]) -> Self {
        self.replace.extend_from_slice(sublists);
        self
    }

    fn into_spec(self, idempotency: Idempotency) -> Result<(NetSuiteClient, RequestSpec), Error> {
        let body = self.body?;
        let mut spec = RequestSpec::new(
            Method::POST,
            format!(
                "/record/v1/{}/{}/!transform/{}",
                self.source.as_str(),
                self.source_key.path_segment(),
                self.target.as_str()
            ),
            idempotency,
        );
        spec.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if !self.replace.is_empty() {
            spec = spec.query("replace", field_list(&self.replace)?);
        }
        strict_property_names(&mut spec);
        spec.body = Some(body);
        Ok((self.client, spec))
    }

    /// Creates the target record; returns its id.
    ///
    /// After a 5xx or a dropped connection the result is [`Error::OutcomeUnknown`]: look the
    /// target up by the draft's external id before sending again.
    pub async fn send(self) -> Result<RecordId, Error> {
        let (client, spec) = self.into_spec(Idempotency::NonIdempotent)?;
        let resp = client.execute(spec).await?;
        id_from_location(&resp)
    }

    /// Submits the transform asynchronously with an idempotency key.
    pub async fn send_async(self, key: &IdempotencyKey) -> Result<AsyncJob, Error> {
        let (client, spec) = self.into_spec(Idempotency::AsyncWithKey)?;
        client.submit_async(spec, key).await
    }
}

#[derive(serde::Deserialize)]
struct LinesOnly {
    #[serde(default)]
    item: Option<Sublist<LineNumber>>,
}

#[derive(serde::Deserialize)]
struct LineNumber {
    line: Option<i64>,
    #[serde(rename = "isClosed", default)]
    is_closed: Option<bool>,
}

impl NetSuiteClient {
    /// Any transform with any body: `POST /record/v1/{source}/{key}/!transform/{target}`.
    pub fn transform<B: serde::Serialize + ?Sized>(
        &self,
        source: RecordType,
        source_key: RecordKey,
        target: RecordType,
        body: &B,
    ) -> Transform {
        Transform {
            client: self.clone(),
            source,
            source_key,
            target,
            body: encode_body(body),
            replace: Vec::new(),
        }
    }

    /// Reads the line numbers of an order's `item` sublist that are not closed.
    pub async fn open_order_lines(
        &self,
        record_type: RecordType,
        key: RecordKey,
    ) -> Result<Vec<i64>, Error> {
        let order: LinesOnly = self
            .get_as(record_type, key)
            .expand_sub_resources(true)
            .fields(&["item"])
            .send()
            .await?;
        Ok(order
            .item
            .map(|s| s.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|l| l.is_closed != Some(true))
            .filter_map(|l| l.line)
            .collect())
    }

    /// Sales order → item fulfilment. `order_lines` are every line number of the order
    /// (from [`NetSuiteClient::open_order_lines`] or a copy the caller already has).
    pub fn fulfill_sales_order(
        &self,
        sales_order: RecordKey,
        draft: &FulfillmentDraft,
        order_lines: &[i64],
    ) -> Transform {
        let body = draft.to_body(order_lines).and_then(|b| encode_body(&b));
        Transform {
            client: self.clone(),
            source: RecordType::from_static("salesOrder"),
            source_key: sales_order,
            target: RecordType::from_static("itemFulfillment"),
            body,
            replace: Vec::new(),
        }
    }

    /// Sales order → item fulfilment of the draft's lines only (`?replace=item`): one request,
    /// no read of the order's line numbers first.
    pub fn fulfill_lines(&self, sales_order: RecordKey, draft: &FulfillmentDraft) -> Transform {
        let body = draft.to_lines_body().and_then(|b| encode_body(&b));
        Transform {
            client: self.clone(),
            source: RecordType::from_static("salesOrder"),
            source_key: sales_order,
            target: RecordType::from_static("itemFulfillment"),
            body,
            replace: vec!["item"],
        }
    }

    /// Purchase order, return authorisation or transfer order → item receipt of the draft's
    /// lines only (`?replace=item`): one request, no read of the order's line numbers first.
    pub fn receive_lines(&self, source: ReceiptSource, draft: &ReceiptDraft) -> Transform {
        let (source_type, key) = source.parts();
        let body = draft.to_lines_body().and_then(|b| encode_body(&b));
        Transform {
            client: self.clone(),
            source: RecordType::from_static(source_type),
            source_key: key.clone(),
            target: RecordType::from_static("itemReceipt"),
            body,
            replace: vec!["item"],
        }
    }

    /// Purchase order, return authorisation or transfer order → item receipt.
    pub fn receive(
        &self,
        source: ReceiptSource,
        draft: &ReceiptDraft,
        order_lines: &[i64],
    ) -> Transform {
        let (source_type, key) = source.parts();
        let body = draft.to_body(order_lines).and_then(|b| encode_body(&b));
        Transform {
            client: self.clone(),
            source: RecordType::from_static(source_type),
            source_key: key.clone(),
            target: RecordType::from_static("itemReceipt"),
            body,
            replace: Vec::new(),
        }
    }
}
