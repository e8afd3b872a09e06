//! GraphQL node selections of the adapter: only the node fields Clarus documents for each root
//! (the "Query Structure" of each `/graphql#ListXxx` operation of its OpenAPI, kept in
//! `clarus-client/spec/clarus-graphql.json`). Anything else a tenant may offer ("more fields via
//! introspection") is never asked for: a tenant without it would refuse the whole query.
//! What the documented reads cannot give (NetSuite references, lots and serials, receipt lines)
//! comes from the webhook body and the engine's own records, as `docs/decisions/` describes.

use clarus_client::ClarusId;
use clarus_client::graphql::{ClarusDateTime, CodeRef, GoodsOutStatus, IdRef, Node};
use rust_decimal::Decimal;
use serde::Deserialize;

/// Every GraphQL read the engine makes of Clarus: `(root, node selection)`, for a check of the
/// tenant's schema (each field must be offered) and for `sync doctor`.
pub fn engine_reads() -> Vec<(&'static str, &'static str)> {
    use clarus_client::graphql::{ProductNode, StockBalanceNode};
    vec![
        (GoodsOutRead::ROOT, GoodsOutRead::FIELDS),
        (GoodsOutLineRead::ROOT, GoodsOutLineRead::FIELDS),
        (ShipmentRead::ROOT, ShipmentRead::FIELDS),
        (PackageRead::ROOT, PackageRead::FIELDS),
        (GoodsInRead::ROOT, GoodsInRead::FIELDS),
        (StockRead::ROOT, StockRead::FIELDS),
        (TransactionRead::ROOT, TransactionRead::FIELDS),
        (StockBalanceNode::ROOT, StockBalanceNode::FIELDS),
        (ProductNode::ROOT, ProductNode::FIELDS),
    ]
}

/// A goods out as the despatch re-read, the sweep and the executor need it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsOutRead {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub goods_out_status: Option<GoodsOutStatus>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
    #[serde(default)]
    pub carrier: Option<IdRef>,
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
    const FIELDS: &'static str =
        "id reference goods_out_status { code name } warehouse { id } carrier { id }";
}

/// A goods-out line with its quantities.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsOutLineRead {
    pub id: ClarusId,
    #[serde(default)]
    pub order_quantity: Option<Decimal>,
    #[serde(default)]
    pub dispatch_quantity: Option<Decimal>,
    #[serde(default)]
    pub product: Option<CodeRef>,
}

impl Node for GoodsOutLineRead {
    const ROOT: &'static str = "goods_out_lines";
    const FILTER_TYPE: &'static str = "GoodsOutLineFilterType";
    const FIELDS: &'static str = "id order_quantity dispatch_quantity product { id code }";
}

/// A shipment of a goods out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ShipmentRead {
    pub id: ClarusId,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub carrier: Option<IdRef>,
    #[serde(default)]
    pub carrier_service: Option<IdRef>,
}

impl Node for ShipmentRead {
    const ROOT: &'static str = "shipments";
    const FILTER_TYPE: &'static str = "ShipmentFilterType";
    const FIELDS: &'static str = "id status carrier { id } carrier_service { id }";
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

/// A goods-in receipt: identity, status and receipt date.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct GoodsInRead {
    pub id: ClarusId,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub actual_date_of_receipt: Option<ClarusDateTime>,
    #[serde(default)]
    pub warehouse: Option<IdRef>,
}

impl Node for GoodsInRead {
    const ROOT: &'static str = "goods_in_receipts";
    const FILTER_TYPE: &'static str = "InboundGoodFilterType";
    const FIELDS: &'static str = "id reference status actual_date_of_receipt warehouse { id }";
}

/// One stock record (the warehouse is the query's `warehouse_id` filter: Clarus documents no
/// warehouse field on stock).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StockRead {
    pub id: ClarusId,
    #[serde(default)]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub product: Option<CodeRef>,
}

impl Node for StockRead {
    const ROOT: &'static str = "stocks";
    const FILTER_TYPE: &'static str = "StockFilterType";
    const FIELDS: &'static str = "id quantity status product { id code }";
}

/// A stock transaction (`DISP`, `ADJUP`, `HOLD`, …): what moved, when and where.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct TransactionRead {
    pub id: ClarusId,
    #[serde(default)]
    pub subtype: Option<String>,
    #[serde(default)]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub created_at: Option<ClarusDateTime>,
    #[serde(default)]
    pub product: Option<CodeRef>,
    #[serde(default)]
    pub location_from: Option<IdRef>,
    #[serde(default)]
    pub location_to: Option<IdRef>,
}

impl TransactionRead {
    /// When the transaction was made.
    pub fn created(&self) -> Option<jiff::Timestamp> {
        self.created_at.as_ref().and_then(ClarusDateTime::timestamp)
    }
}

impl Node for TransactionRead {
    const ROOT: &'static str = "transactions";
    const FILTER_TYPE: &'static str = "TransactionFilterType";
    const FIELDS: &'static str = "id subtype quantity created_at product { id code } location_from { id } location_to { id }";
}

#[cfg(test)]
mod tests {
    use super::*;
    use clarus_client::graphql::Filter;
    use clarus_client::graphql::documented::DocumentedSchema;

    fn documented<N: Node>(filters: &[Filter]) {
        let root = DocumentedSchema::get()
            .root(N::ROOT)
            .unwrap_or_else(|| panic!("{} is not a documented root", N::ROOT));
        assert_eq!(root.filter_type, N::FILTER_TYPE, "{}", N::ROOT);
        root.check_selection(N::FIELDS)
            .unwrap_or_else(|e| panic!("{e}"));
        for filter in filters {
            root.check_filters(filter).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn every_listed_read_is_documented() {
        for (root, fields) in engine_reads() {
            DocumentedSchema::get()
                .root(root)
                .unwrap_or_else(|| panic!("{root} is not a documented root"))
                .check_selection(fields)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Every read of the adapter asks for documented fields with documented filters, exactly as
    /// the adapter builds them.
    #[test]
    fn every_read_is_documented() {
        let id = ClarusId::new(7);
        documented::<GoodsOutRead>(&[
            Filter::new().eq("reference", "SO1"),
            Filter::new()
                .any_of("reference", ["SO1", "SO2"])
                .eq("goods_out_status_code", "COMPLETED"),
        ]);
        documented::<GoodsOutLineRead>(&[Filter::new().eq("goods_out_id", id)]);
        documented::<ShipmentRead>(&[Filter::new().eq("goods_out_id", id)]);
        documented::<PackageRead>(&[Filter::new().any_of("shipment_id", [id])]);
        documented::<GoodsInRead>(&[
            Filter::new().eq("reference", "PO1"),
            Filter::new().any_of("reference", ["PO1", "PO2"]),
        ]);
        documented::<StockRead>(&[Filter::new().eq("warehouse_id", id)]);
        documented::<TransactionRead>(&[
            Filter::new().eq("goods_out_id", id).eq("subtype", "DISP"),
            Filter::new()
                .eq("subtype", "ADJUP")
                .eq("warehouse_id", id)
                .from("created_at", "2026-01-01T00:00:00Z")
                .to("created_at", "2026-01-01T00:02:00Z")
                .eq("product_id", id),
            Filter::new()
                .any_of("subtype", ["ADJUP", "ADJDN", "HOLD", "RELEASE"])
                .eq("warehouse_id", id)
                .from("created_at", "2026-01-01T00:00:00Z"),
        ]);
    }
}
