//! GraphQL node selections the adapter needs beyond the client's documented ones: the generic
//! fields (`external_system_reference1..3`), `updated_at` and dispatch dates, which Clarus
//! exposes beyond its published field lists ("more fields via introspection").

use clarus_client::ClarusId;
use clarus_client::graphql::{ClarusDateTime, CodeRef, GoodsOutStatus, IdRef, Node};
use rust_decimal::Decimal;
use serde::Deserialize;

/// A goods out as the despatch re-read and the sweep need it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsOutRead {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub goods_out_status: Option<GoodsOutStatus>,
    #[serde(default)]
    pub external_system_reference1: Option<String>,
    #[serde(default)]
    pub actual_date_of_dispatch: Option<ClarusDateTime>,
    #[serde(default)]
    pub updated_at: Option<ClarusDateTime>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
    #[serde(default)]
    pub carrier: Option<IdRef>,
    #[serde(default)]
    pub carrier_service: Option<IdRef>,
}

impl GoodsOutRead {
    /// The status code, upper case (`COMPLETED`, `CANCELLED`, …).
    pub fn status_code(&self) -> Option<String> {
        self.goods_out_status
            .as_ref()
            .and_then(|s| s.code.as_deref())
            .map(str::to_ascii_uppercase)
    }
}

impl Node for GoodsOutRead {
    const ROOT: &'static str = "goods_outs";
    const FILTER_TYPE: &'static str = "GoodsOutsFilterType";
    const FIELDS: &'static str = "id reference goods_out_status { code name } external_system_reference1 actual_date_of_dispatch updated_at warehouse { id } carrier { id } carrier_service { id }";
}

/// A goods-out line with its quantities and NetSuite line reference.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsOutLineRead {
    pub id: ClarusId,
    #[serde(default)]
    pub order_quantity: Option<Decimal>,
    #[serde(default)]
    pub dispatch_quantity: Option<Decimal>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub external_system_reference1: Option<String>,
}

impl Node for GoodsOutLineRead {
    const ROOT: &'static str = "goods_out_lines";
    const FILTER_TYPE: &'static str = "GoodsOutLineFilterType";
    const FIELDS: &'static str =
        "id order_quantity dispatch_quantity product { id code } external_system_reference1";
}

/// A shipment of a goods out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ShipmentRead {
    pub id: ClarusId,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub carrier: Option<IdRef>,
    #[serde(default)]
    pub carrier_service: Option<IdRef>,
}

impl Node for ShipmentRead {
    const ROOT: &'static str = "shipments";
    const FILTER_TYPE: &'static str = "ShipmentFilterType";
    const FIELDS: &'static str = "id tracking_number carrier { id } carrier_service { id }";
}

/// A parcel of a shipment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct PackageRead {
    pub id: ClarusId,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub shipment: Option<IdRef>,
}

impl Node for PackageRead {
    const ROOT: &'static str = "packages";
    const FILTER_TYPE: &'static str = "PackageFilterType";
    const FIELDS: &'static str = "id tracking_number shipment { id }";
}

/// A goods-in receipt with its received quantities per line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsInRead {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub external_system_reference1: Option<String>,
    #[serde(default)]
    pub actual_date_of_receipt: Option<ClarusDateTime>,
    #[serde(default)]
    pub updated_at: Option<ClarusDateTime>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
    #[serde(default)]
    pub lines: Option<Vec<GoodsInLineRead>>,
}

impl Node for GoodsInRead {
    const ROOT: &'static str = "goods_in_receipts";
    const FILTER_TYPE: &'static str = "InboundGoodFilterType";
    const FIELDS: &'static str = "id reference status external_system_reference1 actual_date_of_receipt updated_at warehouse { id } lines { id received_quantity }";
}

/// A goods-in line's received quantity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsInLineRead {
    pub id: ClarusId,
    #[serde(default)]
    pub received_quantity: Option<Decimal>,
}

/// One stock record, with the warehouse it is in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StockRead {
    pub id: ClarusId,
    #[serde(default)]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
}

impl Node for StockRead {
    const ROOT: &'static str = "stocks";
    const FILTER_TYPE: &'static str = "StockFilterType";
    const FIELDS: &'static str = "id quantity status product { id code } warehouse { id }";
}

/// A goods-in receipt with everything a receipt is built from: the order references and, per
/// line, the stock received (status, batch, serial). Used by the sweep to rebuild what a lost
/// webhook carried.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsInDetailRead {
    pub id: ClarusId,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub external_system_reference1: Option<String>,
    #[serde(default)]
    pub external_system_reference3: Option<String>,
    #[serde(default)]
    pub actual_date_of_receipt: Option<ClarusDateTime>,
    #[serde(default)]
    pub updated_at: Option<ClarusDateTime>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
    #[serde(default)]
    pub lines: Option<Vec<GoodsInDetailLine>>,
}

impl Node for GoodsInDetailRead {
    const ROOT: &'static str = "goods_in_receipts";
    const FILTER_TYPE: &'static str = "InboundGoodFilterType";
    const FIELDS: &'static str = "id status external_system_reference1 external_system_reference3 actual_date_of_receipt updated_at warehouse { id } lines { id received_quantity external_system_reference1 alt_line_number product { id code } received_stock { quantity batch serial_number status } }";
}

/// A goods-in line with its received stock.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsInDetailLine {
    pub id: ClarusId,
    #[serde(default)]
    pub received_quantity: Option<Decimal>,
    #[serde(default)]
    pub external_system_reference1: Option<String>,
    #[serde(default)]
    pub alt_line_number: Option<String>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub received_stock: Option<Vec<ReceivedStockRead>>,
}

/// One stock entry received on a goods-in line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ReceivedStockRead {
    #[serde(default)]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub batch: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// A stock transaction (`DISP`, `PICK`, `RCV`, …) with the batch and serial it moved.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct TransactionRead {
    pub id: ClarusId,
    #[serde(default)]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub batch: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub product: Option<CodeRef>,
}

impl Node for TransactionRead {
    const ROOT: &'static str = "transactions";
    const FILTER_TYPE: &'static str = "TransactionFilterType";
    const FIELDS: &'static str = "id quantity batch serial_number product { id code }";
}
