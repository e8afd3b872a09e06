//! Goods-in receipts (pre-receipts): create, update, delete, receive, revert.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;

use super::common::{Address, Change, GenericFields, decimal_number};
use super::products::StockConfiguration;
use crate::client::{ClarusClient, Record};
use crate::{ClarusId, Error};

/// Header attributes of a goods-in receipt. `account_id` and `warehouse_id` are required by
/// the schema on create and update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoodsInReceipt {
    /// Stock owner.
    pub account_id: ClarusId,
    /// Destination warehouse.
    pub warehouse_id: ClarusId,
    /// Your PO/ASN/RMA number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Supplier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_id: Option<ClarusId>,
    /// Expected arrival.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_date_of_arrival: Option<Timestamp>,
    /// Actual arrival.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_date_of_arrival: Option<Timestamp>,
    /// Notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Generic fields (upstream id in `external_system_reference1`).
    #[serde(flatten)]
    pub generic: GenericFields,
    /// Line changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines_changes: Vec<Change<GoodsInLine>>,
    /// Supplier address, sent in `relationships`.
    #[serde(skip)]
    pub address: Option<Address>,
}

impl GoodsInReceipt {
    /// A receipt for an account and warehouse with nothing else set.
    pub fn new(account_id: ClarusId, warehouse_id: ClarusId) -> Self {
        Self {
            account_id,
            warehouse_id,
            reference: None,
            supplier_id: None,
            expected_date_of_arrival: None,
            actual_date_of_arrival: None,
            notes: None,
            generic: GenericFields::default(),
            lines_changes: Vec::new(),
            address: None,
        }
    }
}

/// A goods-in line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GoodsInLine {
    /// The product (required on `ADD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ClarusId>,
    /// Expected quantity (> 0; required on `ADD`).
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expected_quantity: Option<Decimal>,
    /// Expected number of configurations (cases etc.).
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expected_configurations_quantity: Option<Decimal>,
    /// Packaging level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_configuration: Option<StockConfiguration>,
    /// Alternative line number (e.g. the PO line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_line_number: Option<String>,
    /// Alternative line reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_line_reference: Option<String>,
    /// Alternative line note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_line_note: Option<String>,
    /// Alternative product code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_product_code: Option<String>,
    /// Generic fields (`string1` = batch, `datetime1` = sell-by, `datetime2` = best-before).
    #[serde(flatten)]
    pub generic: GenericFields,
}

impl GoodsInLine {
    /// A line expecting `quantity` of `product_id`.
    pub fn new(product_id: ClarusId, quantity: Decimal) -> Self {
        Self {
            product_id: Some(product_id),
            expected_quantity: Some(quantity),
            ..Self::default()
        }
    }
}

impl ClarusClient {
    /// `POST /goods_in_receipts`. Not retried: after an ambiguous failure look the receipt up
    /// with [`ClarusClient::find_goods_in_receipts_by_reference`] or
    /// [`ClarusClient::find_goods_in_receipts_by_external_reference`].
    pub async fn create_goods_in_receipt(&self, receipt: &GoodsInReceipt) -> Result<Record, Error> {
        self.create_resource("goods_in_receipts", receipt, receipt.address.as_ref())
            .await
    }

    /// `PATCH /goods_in_receipts/{id}`.
    pub async fn update_goods_in_receipt(
        &self,
        id: ClarusId,
        receipt: &GoodsInReceipt,
    ) -> Result<Record, Error> {
        self.update_resource("goods_in_receipts", id, receipt, receipt.address.as_ref())
            .await
    }

    /// `DELETE /goods_in_receipts/{id}` (only before receiving starts).
    pub async fn delete_goods_in_receipt(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("goods_in_receipts", id).await
    }

    /// `POST /goods_in_receipts/{id}/receive`: starts receiving (creates receive tasks).
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn receive_goods_in_receipt(&self, id: ClarusId) -> Result<Option<Record>, Error> {
        self.resource_action("goods_in_receipts", id, "receive")
            .await
    }

    /// `POST /goods_in_receipts/{id}/revert`: back to pending if no task was completed.
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn revert_goods_in_receipt(&self, id: ClarusId) -> Result<Option<Record>, Error> {
        self.resource_action("goods_in_receipts", id, "revert")
            .await
    }
}
