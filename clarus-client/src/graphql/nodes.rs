//! Typed nodes of the documented GraphQL roots, with exactly the documented fields.
//! Every field but `id` is optional: the server may send `null`.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use super::paging::Node;
use crate::ClarusId;

/// A datetime as Clarus sends it: usually RFC 3339, sometimes a bare date. The text is kept;
/// [`ClarusDateTime::timestamp`] reads it leniently.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ClarusDateTime(pub String);

impl ClarusDateTime {
    /// The instant: RFC 3339 with an offset, or a bare `YYYY-MM-DD` read as midnight UTC.
    pub fn timestamp(&self) -> Option<Timestamp> {
        let text = self.0.trim();
        if let Ok(ts) = text.parse::<Timestamp>() {
            return Some(ts);
        }
        text.parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    }
}

/// Reads a quantity sent as a number or a numeric string; `null` stays `None`.
fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Option::<Decimal>::deserialize(d)
}

/// `{ id }` reference to another record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdRef {
    /// The id.
    pub id: ClarusId,
}

/// `{ id code }` reference to another record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CodeRef {
    /// The id.
    pub id: ClarusId,
    /// Its code.
    #[serde(default)]
    pub code: Option<String>,
}

/// `{ id code name }` reference to another record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NamedRef {
    /// The id.
    pub id: ClarusId,
    /// Its code.
    #[serde(default)]
    pub code: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `{ id reference }` reference to another record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReferenceRef {
    /// The id.
    pub id: ClarusId,
    /// Its reference.
    #[serde(default)]
    pub reference: Option<String>,
}

/// `products` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)] // Clarus's field names
pub struct ProductNode {
    pub id: ClarusId,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub long_description: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default, deserialize_with = "quantity")]
    pub units_per_case: Option<Decimal>,
    #[serde(default)]
    pub shelf_life_min: Option<i64>,
    #[serde(default)]
    pub shelf_life_max: Option<i64>,
    #[serde(default)]
    pub commodity_code: Option<String>,
    #[serde(default)]
    pub country_of_manufacture: Option<String>,
}

impl Node for ProductNode {
    const ROOT: &'static str = "products";
    const FILTER_TYPE: &'static str = "ProductsFilterType";
    const FIELDS: &'static str = "id code barcode description long_description product_type units_per_case shelf_life_min shelf_life_max commodity_code country_of_manufacture";
}

/// `product_storage_units` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct ProductStorageUnitNode {
    pub id: ClarusId,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub stock_configuration: Option<String>,
    #[serde(default)]
    pub unit_of_measure: Option<String>,
    #[serde(default, deserialize_with = "quantity")]
    pub per_layer: Option<Decimal>,
    #[serde(default)]
    pub number_of_layers: Option<i64>,
    #[serde(default, deserialize_with = "quantity")]
    pub total: Option<Decimal>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub storage_unit_type: Option<CodeRef>,
}

impl Node for ProductStorageUnitNode {
    const ROOT: &'static str = "product_storage_units";
    const FILTER_TYPE: &'static str = "ProductStorageUnitFilterType";
    const FIELDS: &'static str = "id priority stock_configuration unit_of_measure per_layer number_of_layers total product { id code } storage_unit_type { id code }";
}

/// `stocks` node: one stock record (a quantity of a product at a location).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct StockNode {
    pub id: ClarusId,
    #[serde(default, deserialize_with = "quantity")]
    pub quantity: Option<Decimal>,
    /// `available` or `held`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub fifo_date: Option<ClarusDateTime>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub location: Option<CodeRef>,
    #[serde(default)]
    pub account: Option<CodeRef>,
    #[serde(default)]
    pub storage_unit: Option<ReferenceRef>,
}

impl Node for StockNode {
    const ROOT: &'static str = "stocks";
    const FILTER_TYPE: &'static str = "StockFilterType";
    const FIELDS: &'static str = "id quantity status fifo_date product { id code } location { id code } account { id code } storage_unit { id reference }";
}

/// `stock_balances` node: totals per product, account and warehouse. It has no id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct StockBalanceNode {
    #[serde(default, deserialize_with = "quantity")]
    pub available: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub allocated: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub ordered: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub received: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub picked: Option<Decimal>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub account: Option<CodeRef>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
}

impl Node for StockBalanceNode {
    const ROOT: &'static str = "stock_balances";
    const FILTER_TYPE: &'static str = "StockBalancesFilterType";
    const FIELDS: &'static str = "available allocated ordered received picked product { id code } account { id code } warehouse { id }";
}

/// `goods_in_receipts` node. The status vocabulary is not settled, so it stays a string.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct GoodsInReceiptNode {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub receipt_type: Option<String>,
    #[serde(default)]
    pub expected_date_of_receipt: Option<ClarusDateTime>,
    #[serde(default)]
    pub actual_date_of_receipt: Option<ClarusDateTime>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub account: Option<NamedRef>,
    #[serde(default)]
    pub warehouse: Option<NamedRef>,
}

impl Node for GoodsInReceiptNode {
    const ROOT: &'static str = "goods_in_receipts";
    const FILTER_TYPE: &'static str = "InboundGoodFilterType";
    const FIELDS: &'static str = "id reference status receipt_type expected_date_of_receipt actual_date_of_receipt notes account { id code name } warehouse { id code name }";
}

/// `{ code name }` status of a goods out (tenant-configurable).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GoodsOutStatus {
    /// e.g. `PENDING`, `COMPLETED`.
    #[serde(default)]
    pub code: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `goods_outs` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct GoodsOutNode {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub expected_date_of_dispatch: Option<ClarusDateTime>,
    #[serde(default)]
    pub goods_out_status: Option<GoodsOutStatus>,
    #[serde(default)]
    pub account: Option<CodeRef>,
    #[serde(default)]
    pub warehouse: Option<CodeRef>,
    #[serde(default)]
    pub carrier: Option<CodeRef>,
}

impl Node for GoodsOutNode {
    const ROOT: &'static str = "goods_outs";
    const FILTER_TYPE: &'static str = "GoodsOutsFilterType";
    const FIELDS: &'static str = "id reference priority expected_date_of_dispatch goods_out_status { code name } account { id code } warehouse { id code } carrier { id code }";
}

/// `goods_out_lines` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct GoodsOutLineNode {
    pub id: ClarusId,
    #[serde(default, deserialize_with = "quantity")]
    pub order_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub allocated_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub pick_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "quantity")]
    pub dispatch_quantity: Option<Decimal>,
    #[serde(default)]
    pub short_status: Option<String>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub goods_out: Option<ReferenceRef>,
    #[serde(default)]
    pub carrier: Option<IdRef>,
}

impl Node for GoodsOutLineNode {
    const ROOT: &'static str = "goods_out_lines";
    const FILTER_TYPE: &'static str = "GoodsOutLineFilterType";
    const FIELDS: &'static str = "id order_quantity allocated_quantity pick_quantity dispatch_quantity short_status product { id code } goods_out { id reference } carrier { id }";
}

/// `shipments` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct ShipmentNode {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub delivery_notes: Option<String>,
    #[serde(default)]
    pub collection_datetime: Option<ClarusDateTime>,
    #[serde(default)]
    pub label_filename: Option<String>,
    #[serde(default)]
    pub packages_count: Option<i64>,
    #[serde(default)]
    pub carrier: Option<NamedRef>,
    #[serde(default)]
    pub carrier_service: Option<NamedRef>,
    #[serde(default)]
    pub warehouse: Option<NamedRef>,
}

impl Node for ShipmentNode {
    const ROOT: &'static str = "shipments";
    const FILTER_TYPE: &'static str = "ShipmentFilterType";
    const FIELDS: &'static str = "id reference name status delivery_notes collection_datetime label_filename packages_count carrier { id code name } carrier_service { id code name } warehouse { id code name }";
}

/// `packages` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct PackageNode {
    pub id: ClarusId,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub shipment: Option<ReferenceRef>,
    #[serde(default)]
    pub storage_unit_type: Option<CodeRef>,
}

impl Node for PackageNode {
    const ROOT: &'static str = "packages";
    const FILTER_TYPE: &'static str = "PackageFilterType";
    const FIELDS: &'static str =
        "id tracking_number shipment { id reference } storage_unit_type { id code }";
}

/// `transactions` node (read-only stock movements: PICK, RCV, TRAN, …).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct TransactionNode {
    pub id: ClarusId,
    #[serde(default)]
    pub subtype: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "quantity")]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub created_at: Option<ClarusDateTime>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub account: Option<CodeRef>,
    #[serde(default)]
    pub location_from: Option<CodeRef>,
    #[serde(default)]
    pub location_to: Option<CodeRef>,
    #[serde(default)]
    pub completing_user: Option<IdRef>,
}

impl Node for TransactionNode {
    const ROOT: &'static str = "transactions";
    const FILTER_TYPE: &'static str = "TransactionFilterType";
    const FIELDS: &'static str = "id subtype category quantity created_at product { id code } account { id code } location_from { id code } location_to { id code } completing_user { id }";
}

/// `automations` node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct AutomationNode {
    pub id: ClarusId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub integration_id: Option<ClarusId>,
    #[serde(default)]
    pub created_at: Option<ClarusDateTime>,
}

impl Node for AutomationNode {
    const ROOT: &'static str = "automations";
    const FILTER_TYPE: &'static str = "AutomationFilterType";
    const FIELDS: &'static str = "id name resource_name event enabled integration_id created_at";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_datetimes() {
        let full = ClarusDateTime("2026-04-02T00:00:00Z".into());
        let date = ClarusDateTime("2026-04-02".into());
        assert_eq!(full.timestamp(), date.timestamp());
        assert!(full.timestamp().is_some());
        assert!(
            ClarusDateTime("09/11/2023 10:06".into())
                .timestamp()
                .is_none()
        );
    }

    #[test]
    fn quantities_from_numbers_and_strings() {
        let n: StockNode =
            serde_json::from_str(r#"{"id":"1","quantity":240.5,"status":"held"}"#).unwrap();
        assert_eq!(n.quantity, Some(Decimal::new(2405, 1)));
        let n: StockNode = serde_json::from_str(r#"{"id":1,"quantity":"3"}"#).unwrap();
        assert_eq!(n.quantity, Some(Decimal::from(3)));
        let n: StockNode = serde_json::from_str(r#"{"id":1,"quantity":null}"#).unwrap();
        assert_eq!(n.quantity, None);
    }
}
