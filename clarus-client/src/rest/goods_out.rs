//! Goods outs (sales orders), cancellation and pick processing.

use jiff::Timestamp;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{Address, Change, GenericFields, decimal_number};
use super::products::StockConfiguration;
use crate::client::{ClarusClient, Record, decode};
use crate::{ClarusId, Error};

/// Kind of goods out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoodsOutType {
    /// A customer sales order.
    SalesOrder,
    /// A work order.
    WorkOrder,
    /// A cross-dock order.
    Crossdock,
}

/// Header attributes of a goods out. The schema requires `goods_out_type`, `account_id`,
/// `reference` (max 50) and `expected_date_of_dispatch` on create and update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoodsOut {
    /// Kind of order.
    pub goods_out_type: GoodsOutType,
    /// Stock owner.
    pub account_id: ClarusId,
    /// Order reference (max 50).
    pub reference: String,
    /// Expected dispatch.
    pub expected_date_of_dispatch: Timestamp,
    /// Warehouse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<ClarusId>,
    /// Customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<ClarusId>,
    /// Carrier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_id: Option<ClarusId>,
    /// Carrier service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_service_id: Option<ClarusId>,
    /// Priority 1–99, 1 highest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Order type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_type_id: Option<ClarusId>,
    /// Integration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<ClarusId>,
    /// `manual`, `auto`, `load`, `shipment` or `auto_shipment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch_strategy: Option<String>,
    /// `disabled`, `pack_by_line` or `pack_by_unit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack_strategy: Option<String>,
    /// `standard` or `tote`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_type: Option<String>,
    /// Delivery notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_notes: Option<String>,
    /// Order notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_notes: Option<String>,
    /// Pick notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_notes: Option<String>,
    /// Packing notes (max 255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packing_notes: Option<String>,
    /// Generic fields (upstream id in `external_system_reference1`).
    #[serde(flatten)]
    pub generic: GenericFields,
    /// Line changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines_changes: Vec<Change<GoodsOutLine>>,
    /// Delivery address, sent in `relationships`.
    #[serde(skip)]
    pub address: Option<Address>,
}

impl GoodsOut {
    /// A sales order with the required fields and nothing else.
    pub fn sales_order(
        account_id: ClarusId,
        reference: impl Into<String>,
        expected_date_of_dispatch: Timestamp,
    ) -> Self {
        Self {
            goods_out_type: GoodsOutType::SalesOrder,
            account_id,
            reference: reference.into(),
            expected_date_of_dispatch,
            warehouse_id: None,
            customer_id: None,
            carrier_id: None,
            carrier_service_id: None,
            priority: None,
            order_type_id: None,
            integration_id: None,
            dispatch_strategy: None,
            pack_strategy: None,
            pick_type: None,
            delivery_notes: None,
            order_notes: None,
            pick_notes: None,
            packing_notes: None,
            generic: GenericFields::default(),
            lines_changes: Vec::new(),
            address: None,
        }
    }
}

/// A goods-out line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GoodsOutLine {
    /// The product (required on `ADD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ClarusId>,
    /// Ordered quantity (> 0; required on `ADD`).
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_quantity: Option<Decimal>,
    /// Ordered configurations (cases etc.).
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ordered_configurations_quantity: Option<Decimal>,
    /// Packaging level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_configuration: Option<StockConfiguration>,
    /// Pick this specific stock record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_to_pick_id: Option<ClarusId>,
    /// Alternative line number (e.g. the sales-order line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_line_number: Option<String>,
    /// Alternative line reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_line_reference: Option<String>,
    /// Alternative product code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_product_code: Option<String>,
    /// Only pick stock whose `datetime1` (sell-by) is on or after this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime1_from: Option<Timestamp>,
    /// Only pick stock whose `datetime1` (sell-by) is on or before this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime1_to: Option<Timestamp>,
    /// Only pick stock whose `datetime2` (best-before) is on or after this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime2_from: Option<Timestamp>,
    /// Only pick stock whose `datetime2` (best-before) is on or before this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime2_to: Option<Timestamp>,
    /// Generic fields (`string1` = batch).
    #[serde(flatten)]
    pub generic: GenericFields,
}

impl GoodsOutLine {
    /// A line ordering `quantity` of `product_id`.
    pub fn new(product_id: ClarusId, quantity: Decimal) -> Self {
        Self {
            product_id: Some(product_id),
            order_quantity: Some(quantity),
            ..Self::default()
        }
    }
}

/// Flat body of `short_order_lines`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShortOrderLines {
    /// Goods-out ids (expected PART_ALLOCATED).
    pub ids: Vec<ClarusId>,
    /// Why the lines are shorted.
    pub description: String,
    /// Reason code of type `short_order_lines`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code_id: Option<ClarusId>,
}

#[derive(Deserialize)]
struct PickProcessingResponse {
    #[serde(default)]
    process_references: Vec<String>,
}

impl ClarusClient {
    /// `POST /goods_outs`. Not retried: after an ambiguous failure look the order up with
    /// [`ClarusClient::find_goods_outs_by_reference`] or
    /// [`ClarusClient::find_goods_outs_by_external_reference`] before trying again.
    pub async fn create_goods_out(&self, order: &GoodsOut) -> Result<Record, Error> {
        self.create_resource("goods_outs", order, order.address.as_ref())
            .await
    }

    /// `PATCH /goods_outs/{id}`.
    pub async fn update_goods_out(&self, id: ClarusId, order: &GoodsOut) -> Result<Record, Error> {
        self.update_resource("goods_outs", id, order, order.address.as_ref())
            .await
    }

    /// `DELETE /goods_outs/{id}` (before processing starts; cancel afterwards).
    pub async fn delete_goods_out(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("goods_outs", id).await
    }

    /// `POST /goods_outs/{id}/cancel`. Draft and pending orders are deleted by Clarus;
    /// allocated and picking orders are deallocated; completed orders are refused.
    pub async fn cancel_goods_out(&self, id: ClarusId) -> Result<(), Error> {
        self.rest_unit(Method::POST, &format!("/goods_outs/{id}/cancel"), None)
            .await
    }

    /// `POST /goods_out_processes/process_picks_async` with `{ids}`; returns the process
    /// references to poll through `pick_processing_requests`.
    pub async fn process_picks_async(&self, ids: &[ClarusId]) -> Result<Vec<String>, Error> {
        if ids.is_empty() {
            return Err(Error::InvalidRequest("no goods-out ids given".into()));
        }
        let response = self
            .rest(
                Method::POST,
                "/goods_out_processes/process_picks_async",
                &[],
                Some(json!({ "ids": ids })),
            )
            .await?;
        decode::<PickProcessingResponse>(&response.body).map(|r| r.process_references)
    }

    /// `POST /goods_out_processes/short_order_lines` (flat body).
    pub async fn short_order_lines(&self, request: &ShortOrderLines) -> Result<(), Error> {
        if request.ids.is_empty() {
            return Err(Error::InvalidRequest("no goods-out ids given".into()));
        }
        let body =
            serde_json::to_value(request).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.rest_unit(
            Method::POST,
            "/goods_out_processes/short_order_lines",
            Some(body),
        )
        .await
    }
}
