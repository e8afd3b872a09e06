//! GraphQL reads the Clarus simulator answers from its indexes (references, parents, subtypes)
//! give what a scan of every node gives, compare values as the filters do (numbers as decimals),
//! follow records as they change, and refuse a wrong filter whether or not a node is read.

use crate::support::clarus::{Client, extended};

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sim::clarus::{ClarusId, ClarusSim, DPD, MAIN_WAREHOUSE, Parcel, StockStatus};

impl Client {
    async fn goods_out(&self, reference: &str, product: ClarusId) -> ClarusId {
        let body = json!({"data": {"type": "goods_outs", "attributes": {
            "goods_out_type": "sales_order", "account_id": 1, "reference": reference,
            "expected_date_of_dispatch": "2026-11-30T10:00:00Z", "warehouse_id": 1,
            "lines_changes": [{"type": "ADD", "attributes": {"product_id": product.0, "order_quantity": 2}}]
        }, "relationships": {"address": {"data": {"type": "addresses", "attributes": {
            "name": "A Customer", "address_1": "1 Street", "postcode": "AB1 2CD", "country_code": "GB"}}}}}});
        let (status, created) = self
            .send(reqwest::Method::POST, "/api/goods_outs", Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        ClarusId(created["data"]["id"].as_u64().unwrap())
    }

    /// The nodes of `root` with `filter`, each with `fields`.
    async fn nodes(&self, root: &str, filter: Value, fields: &str) -> Value {
        let query = format!(
            "query($filter: JSON) {{ {root} {{ all(filter: $filter, first: 500) {{ nodes {{ {fields} }} }} }} }}"
        );
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/graphql",
                Some(json!({"query": query, "variables": {"filter": filter}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.get("errors").is_none(), "{body}");
        body["data"][root]["all"]["nodes"].clone()
    }
}

fn references(nodes: &Value) -> Vec<&str> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["reference"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn references_are_found_as_the_filters_compare_them_and_follow_changes() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let client = Client::connect(&sim).await;
    let product = sim.handle().add_product("SKU-I", "Indexed").unwrap();
    let a = client.goods_out("SO-A", product).await;
    client.goods_out("007", product).await;
    client.goods_out("SO-C", product).await;

    let by = |filter: Value| {
        let client = &client;
        async move { client.nodes("goods_outs", filter, "reference").await }
    };
    assert_eq!(
        references(&by(json!({"reference": {"eq": "SO-A"}})).await),
        ["SO-A"]
    );
    assert_eq!(
        references(&by(json!({"reference": {"eq": "7"}})).await),
        ["007"],
        "numbers compare as decimals"
    );
    assert_eq!(
        references(&by(json!({"reference": {"in": ["SO-C", "SO-A", "none"]}})).await),
        ["SO-A", "SO-C"],
        "in id order"
    );
    assert_eq!(
        references(&by(json!({"reference": {"eq": "SO-A", "ilike": "so"}})).await),
        ["SO-A"],
        "every operator still applies"
    );
    assert_eq!(
        references(&by(json!({"reference": {"like": "SO-"}})).await),
        ["SO-A", "SO-C"]
    );
    assert_eq!(
        references(&by(json!({"id": {"eq": a.0.to_string()}, "reference": {"eq": "SO-A"}})).await),
        ["SO-A"]
    );

    // A changed reference is found under its new value only; a deleted order not at all.
    let (status, body) = client
        .send(
            reqwest::Method::PATCH,
            &format!("/api/goods_outs/{}", a.0),
            Some(json!({"data": {"type": "goods_outs", "attributes": {
                "goods_out_type": "sales_order", "account_id": 1, "reference": "SO-A2",
                "expected_date_of_dispatch": "2026-11-30T10:00:00Z"
            }}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        references(&by(json!({"reference": {"eq": "SO-A"}})).await),
        Vec::<&str>::new()
    );
    assert_eq!(
        references(&by(json!({"reference": {"eq": "SO-A2"}})).await),
        ["SO-A2"]
    );
    let (status, _) = client
        .send(
            reqwest::Method::DELETE,
            &format!("/api/goods_outs/{}", a.0),
            Some(Value::Null),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        references(&by(json!({"reference": {"in": ["SO-A2", "SO-C"]}})).await),
        ["SO-C"]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn lines_shipments_and_movements_of_a_goods_out_are_those_a_scan_finds() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let client = Client::connect(&sim).await;
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let product = handle.add_product("SKU-M", "Moved").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(
            product,
            location,
            Decimal::from(10),
            StockStatus::Available,
            None,
        )
        .unwrap();
    let mut ids = Vec::new();
    for reference in ["SO-1", "SO-2", "SO-3"] {
        let id = client.goods_out(reference, product).await;
        warehouse.allocate(id).unwrap();
        warehouse.pick(id).unwrap();
        let parcel = Parcel {
            tracking_number: format!("T-{reference}"),
            weight_kg: None,
        };
        warehouse.despatch(id, DPD, &[parcel]).unwrap();
        ids.push(id);
    }
    warehouse
        .adjust(product, location, Decimal::from(1), "found")
        .unwrap();

    let id_of = |n: &Value, field: &str| n[field]["id"].as_str().unwrap().to_string();
    for root_field in [
        ("goods_out_lines", "goods_out", "id goods_out { id }"),
        ("shipments", "goods_out", "id goods_out { id }"),
        ("transactions", "goods_out", "id subtype goods_out { id }"),
    ] {
        let (root, parent, fields) = root_field;
        let all = client.nodes(root, json!({}), fields).await;
        for id in &ids {
            let wanted = id.0.to_string();
            let scanned: Vec<Value> = all
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| !n[parent].is_null() && id_of(n, parent) == wanted)
                .cloned()
                .collect();
            assert!(!scanned.is_empty(), "{root}");
            let found = client
                .nodes(root, json!({"goods_out_id": {"eq": wanted}}), fields)
                .await;
            assert_eq!(found, Value::Array(scanned), "{root} of goods out {id}");
        }
    }
    let shipments = client.nodes("shipments", json!({}), "id").await;
    let first_shipment = shipments[0]["id"].clone();
    let packages = client
        .nodes(
            "packages",
            json!({"shipment_id": {"in": [first_shipment]}}),
            "tracking_number",
        )
        .await;
    assert_eq!(packages, json!([{"tracking_number": "T-SO-1"}]));

    let all = client.nodes("transactions", json!({}), "id subtype").await;
    let adjustments = client
        .nodes(
            "transactions",
            json!({"subtype": {"in": ["ADJUP", "ADJDN"]}}),
            "id subtype",
        )
        .await;
    let scanned: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["subtype"] == "ADJUP" || n["subtype"] == "ADJDN")
        .collect();
    assert_eq!(
        adjustments.as_array().unwrap().iter().collect::<Vec<_>>(),
        scanned
    );
    assert_eq!(scanned.len(), 1);
    let picks = client
        .nodes(
            "transactions",
            json!({"subtype": {"eq": "PICK"}, "goods_out_id": {"in": [ids[0].0, ids[2].0]}}),
            "goods_out { id }",
        )
        .await;
    assert_eq!(
        picks,
        json!([{"goods_out": {"id": ids[0].0.to_string()}}, {"goods_out": {"id": ids[2].0.to_string()}}])
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_filter_is_refused_even_when_no_node_is_read() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let client = Client::connect(&sim).await;
    for filter in [
        json!({"no_such_field": {"eq": "x"}}),
        json!({"reference": {"near": "x"}}),
        json!({"reference": {"in": "not a list"}}),
        json!({"reference": "not operators"}),
    ] {
        let (status, body) = client
            .send(
                reqwest::Method::POST,
                "/graphql",
                Some(json!({"query": "query($filter: JSON) { goods_outs { all(filter: $filter) { nodes { id } } } }", "variables": {"filter": filter}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["errors"].is_array(), "{filter}: {body}");
        assert_eq!(body["data"]["goods_outs"], Value::Null, "{filter}: {body}");
    }
    sim.shutdown().await;
}
