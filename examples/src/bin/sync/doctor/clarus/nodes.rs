//! The GraphQL nodes the Clarus checks read: the mapping tables' records, and the engine's own
//! reads as types for a tenant that refuses introspection.

use clarus_client::ClarusId;
use clarus_client::graphql::{Node, ProductNode, StockBalanceNode};
use serde::Deserialize;

/// Declares a GraphQL node read by the checks.
macro_rules! node {
    ($(#[$doc:meta])* $name:ident, $root:literal, $filter:literal, $fields:expr, { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        pub struct $name { $($body)* }

        impl Node for $name {
            const ROOT: &'static str = $root;
            const FILTER_TYPE: &'static str = $filter;
            const FIELDS: &'static str = $fields;
        }
    };
}

node!(
    /// A product id: the cheapest authenticated GraphQL read.
    ProductId, "products", "ProductsFilterType", "id", {}
);

node!(
    /// A warehouse (documented: `id code name`).
    WarehouseRow, "warehouses", "WarehouseFilterType", "id code name", {
        pub(super) id: ClarusId,
        #[serde(default)]
        pub(super) code: Option<String>,
    }
);

node!(
    /// A carrier.
    CarrierRow, "carriers", "CarrierFilterType", "id code name active", {
        pub(super) id: ClarusId,
        #[serde(default)]
        pub(super) code: Option<String>,
        #[serde(default)]
        pub(super) active: Option<bool>,
    }
);

/// A reference to a record by id.
#[derive(Debug, Deserialize)]
pub struct IdOnly {
    pub(super) id: ClarusId,
}

node!(
    /// A carrier service and its carrier.
    ServiceRow, "carrier_services", "CarrierServiceFilterType", "id code active carrier { id }", {
        pub(super) id: ClarusId,
        #[serde(default)]
        pub(super) active: Option<bool>,
        #[serde(default)]
        pub(super) carrier: Option<IdOnly>,
    }
);

// The engine's reads as types, for a tenant that refuses introspection:
// `sync_engine::clarus::engine_reads()` lists them as text, a read needs them as `Node` types, and
// `the_probes_are_the_engines_reads` keeps the two equal.
node!(
    EngineGoodsOut,
    "goods_outs",
    "GoodsOutsFilterType",
    "id reference goods_out_status { code name } warehouse { id } carrier { id }",
    {}
);
node!(
    EngineGoodsOutLine,
    "goods_out_lines",
    "GoodsOutLineFilterType",
    "id order_quantity dispatch_quantity product { id code }",
    {}
);
node!(
    EngineShipment,
    "shipments",
    "ShipmentFilterType",
    "id status carrier { id } carrier_service { id }",
    {}
);
node!(
    EnginePackage,
    "packages",
    "PackageFilterType",
    "id tracking_number shipment { id }",
    {}
);
node!(
    EngineGoodsIn,
    "goods_in_receipts",
    "InboundGoodFilterType",
    "id reference status actual_date_of_receipt warehouse { id }",
    {}
);
node!(
    EngineStock,
    "stocks",
    "StockFilterType",
    "id quantity status product { id code }",
    {}
);
node!(
    EngineStockBalance,
    "stock_balances",
    "StockBalancesFilterType",
    <StockBalanceNode as Node>::FIELDS,
    {}
);
node!(
    EngineTransaction,
    "transactions",
    "TransactionFilterType",
    "id subtype quantity created_at product { id code } location_from { id } location_to { id }",
    {}
);
node!(
    EngineProduct,
    "products",
    "ProductsFilterType",
    <ProductNode as Node>::FIELDS,
    {}
);

#[cfg(test)]
mod tests {
    use clarus_client::graphql::Filter;
    use clarus_client::graphql::documented::DocumentedSchema;

    use super::*;

    fn documented<N: Node>() {
        let root = DocumentedSchema::get()
            .root(N::ROOT)
            .unwrap_or_else(|| panic!("{} is not documented", N::ROOT));
        assert_eq!(root.filter_type, N::FILTER_TYPE, "{}", N::ROOT);
        root.check_selection(N::FIELDS)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn every_read_is_documented() {
        documented::<ProductId>();
        documented::<WarehouseRow>();
        documented::<CarrierRow>();
        documented::<ServiceRow>();
        documented::<EngineGoodsOut>();
        documented::<EngineGoodsOutLine>();
        documented::<EngineShipment>();
        documented::<EnginePackage>();
        documented::<EngineGoodsIn>();
        documented::<EngineStock>();
        documented::<EngineStockBalance>();
        documented::<EngineTransaction>();
        documented::<EngineProduct>();
        let carrier_services = DocumentedSchema::get().root("carrier_services").unwrap();
        carrier_services
            .check_filters(&Filter::new().any_of("carrier_id", [ClarusId::new(1)]))
            .unwrap();
        let automations = DocumentedSchema::get().root("automations").unwrap();
        automations
            .check_filters(&Filter::new().any_of("name", ["netsuite-sync goods_out.completed"]))
            .unwrap();
    }
}
