//! The Clarus simulator driven over HTTP, as a client would, plus the warehouse driver and webhooks.

use crate::support::clarus::*;
use crate::support::dec;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::clarus::{
    ClarusConfig, ClarusId, ClarusSim, DPD, GoodsOutStatus, MAIN_WAREHOUSE, Parcel, ReceivedLine,
    RunningClarus, StockStatus, WebhookBehaviour,
};

fn product_body(code: &str) -> Value {
    json!({"data": {"type": "products", "attributes": {"code": code, "description": format!("Product {code}"), "stock_unit_type_id": 1}}})
}

fn assert_clarus_error(body: &Value, symbol: &str) {
    let error = &body["errors"][0];
    assert!(error["code"].is_u64(), "{body}");
    assert_eq!(error["symbol"], json!(symbol), "{body}");
    assert!(error["details"].is_string(), "{body}");
}

#[tokio::test]
async fn oauth_and_the_subdomain_header_are_required() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let http = reqwest::Client::new();
    let response = request_token(&http, &sim, "wrong").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        json!("invalid_client")
    );

    let client = Client::connect(&sim).await;
    let response = http
        .post(format!("{}/api/products", sim.base_url()))
        .bearer_auth(&client.token)
        .json(&product_body("NO-TENANT"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(
        client.post("/api/products", product_body("OK-1")).await.0,
        StatusCode::OK
    );
    sim.handle().revoke_tokens();
    assert_eq!(
        client.post("/api/products", product_body("OK-2")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn request_bodies_are_validated_against_the_openapi_schemas() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let client = Client::connect(&sim).await;

    let (status, body) = client
        .post(
            "/api/products",
            json!({"data": {"type": "products", "attributes": {"code": "X"}}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "description and stock_unit_type_id are required"
    );
    assert_clarus_error(&body, "invalid_request_body");

    let (status, body) = client
        .post("/api/products", json!({"data": {"type": "products", "attributes": {"description": "x", "stock_unit_type_id": "one"}}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_clarus_error(&body, "invalid_request_body");

    let (status, body) = client
        .post(
            "/api/products",
            json!({"description": "flat", "stock_unit_type_id": 1}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the JSON:API envelope is required"
    );
    assert_clarus_error(&body, "invalid_request_body");

    // Nullable fields accept null.
    let mut nullable = product_body("SKU-N");
    nullable["data"]["attributes"]["barcode"] = Value::Null;
    let (status, created) = client.post("/api/products", nullable).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert!(created["data"]["id"].is_u64());
    assert_eq!(created["data"]["type"], json!("products"));
    assert_eq!(created["data"]["attributes"]["code"], json!("SKU-N"));

    let (status, body) = client.post("/api/products", product_body("SKU-N")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_clarus_error(&body, "product_code_exists");

    let product = created["data"]["id"].as_u64().unwrap();
    let mut bad_change = goods_out_body("SO-BAD", &[(product, 1)]);
    bad_change["data"]["attributes"]["lines_changes"][0]["type"] = json!("REPLACE");
    let (status, body) = client.post("/api/goods_outs", bad_change).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_clarus_error(&body, "invalid_request_body");

    let (status, body) = client
        .post(
            "/api/goods_out_processes/process_picks_async",
            json!({"ids": []}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ids needs at least one item"
    );
    assert_clarus_error(&body, "invalid_request_body");

    let (status, _) = client
        .send(
            reqwest::Method::DELETE,
            &format!("/api/products/{product}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(sim.handle().product(ClarusId(product)).is_none());
}

#[tokio::test]
async fn an_order_is_allocated_picked_and_despatched_with_tracking() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let product = handle.add_product("SKU-D", "Despatched").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(
            product,
            location,
            dec(10),
            StockStatus::Available,
            Some("B1"),
        )
        .unwrap();
    let client = Client::connect(&sim).await;

    let (status, created) = client
        .post(
            "/api/goods_outs",
            goods_out_body("SO-100", &[(product.0, 4)]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["data"]["id"].as_u64().unwrap();
    assert_eq!(
        created["data"]["attributes"]["goods_out_status"]["code"],
        json!("PENDING")
    );

    let (status, processed) = client
        .post(
            "/api/goods_out_processes/process_picks_async",
            json!({"ids": [id]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(processed["process_references"].as_array().unwrap().len(), 1);
    assert_eq!(
        handle.goods_out_status(ClarusId(id)),
        Some(GoodsOutStatus::Allocated)
    );
    let requests = client
        .graphql(
            "query($filter: PickProcessingRequestFilterType) { pick_processing_requests { all(filter: $filter) { edges { node { status process_reference goods_out { id } } } } } }",
            json!({"filter": {"process_reference": {"eq": processed["process_references"][0]}}}),
        )
        .await;
    let node = &requests["data"]["pick_processing_requests"]["all"]["edges"][0]["node"];
    assert_eq!(node["status"], json!("completed"));
    assert_eq!(node["goods_out"]["id"], json!(id.to_string()));

    warehouse.pick(ClarusId(id)).unwrap();
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Available),
        dec(10),
        "picked stock counts until despatch"
    );
    let parcels = [
        Parcel {
            tracking_number: "1ZTRACK1".into(),
            weight_kg: Some(dec(2)),
        },
        Parcel {
            tracking_number: "1ZTRACK2".into(),
            weight_kg: None,
        },
    ];
    warehouse.despatch(ClarusId(id), DPD, &parcels).unwrap();
    assert_eq!(
        handle.goods_out_status(ClarusId(id)),
        Some(GoodsOutStatus::Completed)
    );
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Available),
        dec(6)
    );
    let record = handle.goods_out(ClarusId(id)).unwrap();
    assert_eq!(record["lines"][0]["dispatch_quantity"], json!(4));
    assert_eq!(record["lines"][0]["picked_stock"][0]["batch"], json!("B1"));

    let shipments = client
        .graphql(
            "query($filter: ShipmentFilterType) { shipments { all(filter: $filter) { edges { node { id tracking_number carrier { code } } } } } }",
            json!({"filter": {"goods_out_id": {"eq": id.to_string()}}}),
        )
        .await;
    let shipment = &shipments["data"]["shipments"]["all"]["edges"][0]["node"];
    assert_eq!(shipment["tracking_number"], json!("1ZTRACK1"));
    assert_eq!(shipment["carrier"], json!({"code": "DPD"}));
    let packages = client
        .graphql(
            &format!("{{ packages {{ all(filter: {{shipment_id: {{eq: \"{}\"}}}}) {{ nodes {{ tracking_number }} }} }} }}", shipment["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        packages["data"]["packages"]["all"]["nodes"],
        json!([{"tracking_number": "1ZTRACK1"}, {"tracking_number": "1ZTRACK2"}])
    );

    assert_eq!(record["tracking_number"], json!("1ZTRACK1"));
    let moves = client
        .graphql(
            "query($filter: TransactionFilterType) { transactions { all(filter: $filter) { nodes { subtype quantity product { code } } } } }",
            json!({"filter": {"goods_out_id": {"eq": id.to_string()}}}),
        )
        .await;
    assert_eq!(
        moves["data"]["transactions"]["all"]["nodes"],
        json!([{"subtype": "PICK", "quantity": 4, "product": {"code": "SKU-D"}}, {"subtype": "DISP", "quantity": 4, "product": {"code": "SKU-D"}}])
    );

    let (status, body) = client
        .post(&format!("/api/goods_outs/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "completed orders cannot be cancelled"
    );
    assert!(body["errors"].is_array());
}

#[tokio::test]
async fn a_short_order_is_shorted_picked_and_despatched_short() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let a = handle.add_product("SKU-A", "A").unwrap();
    let b = handle.add_product("SKU-B", "B").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(a, location, dec(3), StockStatus::Available, None)
        .unwrap();
    handle
        .seed_stock(b, location, dec(10), StockStatus::Available, None)
        .unwrap();
    let client = Client::connect(&sim).await;
    let id = client.create_goods_out("SO-SHORT", &[(a, 5), (b, 4)]).await;

    assert_eq!(
        warehouse.allocate(id).unwrap(),
        GoodsOutStatus::PartAllocated
    );
    assert!(
        warehouse.pick(id).is_err(),
        "a part-allocated order must be shorted first"
    );
    let (status, _) = client
        .post(
            "/api/goods_out_processes/short_order_lines",
            json!({"ids": [id.0], "description": "no stock"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.goods_out_status(id), Some(GoodsOutStatus::Allocated));

    // The picker finds only 3 of B.
    warehouse.short_pick(id, &[(b, dec(3))]).unwrap();
    warehouse
        .despatch(
            id,
            DPD,
            &[Parcel {
                tracking_number: "T-1".into(),
                weight_kg: None,
            }],
        )
        .unwrap();
    let record = handle.goods_out(id).unwrap();
    let lines: Vec<(i64, i64, &str)> = record["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["order_quantity"].as_i64().unwrap(),
                l["dispatch_quantity"].as_i64().unwrap(),
                l["short_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, vec![(5, 3, "SHORT"), (4, 3, "SHORT")]);
    assert_eq!(
        handle.on_hand(a, MAIN_WAREHOUSE, StockStatus::Available),
        dec(0)
    );
    assert_eq!(
        handle.on_hand(b, MAIN_WAREHOUSE, StockStatus::Available),
        dec(7),
        "unpicked stock stays"
    );
}

#[tokio::test]
async fn graphql_pages_relay_style_and_returns_only_the_asked_fields() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let handle = sim.handle();
    for n in 0..5 {
        handle
            .add_product(&format!("P-{n}"), &format!("Product {n}"))
            .unwrap();
    }
    let client = Client::connect(&sim).await;
    let query = "query($after: String) { products { all(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { code } } } } }";
    let mut after = Value::Null;
    let mut codes = Vec::new();
    let mut pages = 0;
    loop {
        let body = client.graphql(query, json!({"after": after})).await;
        let all = &body["data"]["products"]["all"];
        for edge in all["edges"].as_array().unwrap() {
            assert_eq!(
                edge["node"].as_object().unwrap().len(),
                1,
                "only `code` was asked for"
            );
            codes.push(edge["node"]["code"].as_str().unwrap().to_string());
        }
        pages += 1;
        if !all["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = all["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(codes, vec!["P-0", "P-1", "P-2", "P-3", "P-4"]);
    let first = client
        .graphql(
            "{ products { all(first: 1) { edges { cursor } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        first["data"]["products"]["all"]["edges"][0]["cursor"],
        json!("MQ")
    );

    let filtered = client
        .graphql("query($filter: ProductsFilterType) { products { all(filter: $filter) { nodes { id code } } } }", json!({"filter": {"code": {"in": ["P-1", "P-3"]}}}))
        .await;
    let nodes = filtered["data"]["products"]["all"]["nodes"]
        .as_array()
        .unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes[0]["id"].is_string(), "GraphQL ids are strings");

    let unknown = client
        .graphql(
            "{ products { all(filter: {colour: {eq: \"red\"}}) { nodes { id } } } }",
            json!({}),
        )
        .await;
    assert!(unknown["errors"][0]["message"].is_string());
    let unknown_root = client
        .graphql("{ widgets { all { nodes { id } } } }", json!({}))
        .await;
    assert!(unknown_root["errors"].is_array());
}

#[tokio::test]
async fn receipts_go_into_quarantine_and_holds_move_stock_between_statuses() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let product = handle.add_product("SKU-R", "Returned").unwrap();
    let client = Client::connect(&sim).await;
    let (status, created) = client
        .post(
            "/api/goods_in_receipts",
            json!({"data": {"type": "goods_in_receipts", "attributes": {"account_id": 1, "warehouse_id": 1, "reference": "RMA-1", "external_system_reference1": "NS-RA-77",
                "lines_changes": [{"type": "ADD", "attributes": {"product_id": product.0, "expected_quantity": 5, "external_system_reference1": "4"}}]}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let receipt = ClarusId(created["data"]["id"].as_u64().unwrap());
    let (status, _) = client
        .post(
            &format!("/api/goods_in_receipts/{receipt}/receive"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, reverted) = client
        .post(
            &format!("/api/goods_in_receipts/{receipt}/revert"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reverted["data"]["attributes"]["status"], json!("pending"));
    let (status, _) = client
        .post(
            &format!("/api/goods_in_receipts/{receipt}/receive"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let found = client
        .graphql(
            "query($filter: InboundGoodFilterType) { goods_in_receipts { all(filter: $filter) { nodes { id reference status } } } }",
            json!({"filter": {"external_system_reference1": {"eq": "NS-RA-77"}}}),
        )
        .await;
    assert_eq!(
        found["data"]["goods_in_receipts"]["all"]["nodes"],
        json!([{"id": receipt.to_string(), "reference": "RMA-1", "status": "receiving"}])
    );

    let line = ReceivedLine {
        product,
        quantity: dec(5),
        batch: Some("RET-1".into()),
        serial_numbers: Vec::new(),
    };
    warehouse
        .receive(receipt, &[line], StockStatus::Held, true)
        .unwrap();
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Held),
        dec(5)
    );
    assert_eq!(
        handle.goods_in(receipt).unwrap()["status"],
        json!("completed")
    );
    let swept = client
        .graphql(
            "{ goods_in_receipts { all(filter: {external_system_reference1: {eq: \"NS-RA-77\"}}) { nodes { status external_system_reference1 lines { external_system_reference1 received_quantity received_stock { quantity batch status } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        swept["data"]["goods_in_receipts"]["all"]["nodes"][0],
        json!({"status": "completed", "external_system_reference1": "NS-RA-77", "lines": [{"external_system_reference1": "4", "received_quantity": 5, "received_stock": [{"quantity": 5, "batch": "RET-1", "status": "held"}]}]})
    );

    warehouse
        .release(product, MAIN_WAREHOUSE, dec(2), "inspected")
        .unwrap();
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Held),
        dec(3)
    );
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Available),
        dec(2)
    );
    assert!(
        warehouse
            .release(product, MAIN_WAREHOUSE, dec(4), "too much")
            .is_err()
    );

    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    warehouse.breakage(product, location, dec(1)).unwrap();
    assert_eq!(
        warehouse.stock_check(product, location, dec(4)).unwrap(),
        dec(3)
    );
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Available),
        dec(4)
    );

    let held = client
        .graphql("{ stocks { all(filter: {status: {eq: \"held\"}, product_code: {eq: \"SKU-R\"}}) { nodes { quantity status batch } } } }", json!({}))
        .await;
    assert_eq!(
        held["data"]["stocks"]["all"]["nodes"],
        json!([{"quantity": 3, "status": "held", "batch": "RET-1"}])
    );
}

async fn run_adjustments(
    seed: u64,
    count: usize,
) -> (Vec<(bool, usize)>, usize, Vec<u64>, RunningClarus) {
    let behaviour = WebhookBehaviour {
        duplicate_rate: 0.3,
        loss_rate: 0.1,
        reorder_window: Duration::from_millis(30),
        ..WebhookBehaviour::default()
    };
    let sim = ClarusSim::start(ClarusConfig {
        seed,
        webhooks: behaviour,
        ..extended()
    })
    .await
    .unwrap();
    let (url, received) = receiver().await;
    let client = Client::connect(&sim).await;
    client.subscribe_stock_to_erp(&url).await;
    let found = client
        .graphql(
            "query($filter: AutomationFilterType) { automations { all(filter: $filter) { nodes { id resource_name event enabled } } } }",
            json!({"filter": {"name": {"eq": "stock to ERP"}}}),
        )
        .await;
    assert_eq!(
        found["data"]["automations"]["all"]["nodes"][0]["resource_name"],
        json!("stock")
    );
    assert_eq!(
        found["data"]["automations"]["all"]["nodes"][0]["enabled"],
        json!(true)
    );
    let handle = sim.handle();
    let find_one = stock_finder(&sim);
    for _ in 0..count {
        find_one();
    }
    assert!(handle.wait_for_webhooks(Duration::from_secs(10)).await);
    let log = handle.webhook_log();
    let pattern = log.iter().map(|r| (r.lost, r.copies.len())).collect();
    let got = received.lock().unwrap();
    let (headers, first) = &got[0];
    assert_eq!(headers["x-claruswms-subdomain"], "acme-warehouse");
    assert!(headers.contains_key("x-claruswms-automation-id"));
    assert!(
        headers.contains_key("x-claruswms-domain")
            && headers.contains_key("x-claruswms-api-domain")
    );
    assert_eq!(first["data"]["product"]["code"], json!("SKU-W"));
    let arrival: Vec<u64> = got
        .iter()
        .map(|(_, b)| b["data"]["id"].as_u64().unwrap())
        .collect();
    (pattern, got.len(), arrival, sim)
}

#[tokio::test]
async fn webhooks_are_duplicated_reordered_and_lost_deterministically_and_logged() {
    let (pattern, received, arrival, sim) = run_adjustments(42, 200).await;
    let log = sim.handle().webhook_log();
    assert_eq!(log.len(), 200, "every event is logged, lost or not");
    let lost = log.iter().filter(|r| r.lost).count();
    let duplicated = log.iter().filter(|r| r.copies.len() == 2).count();
    assert!((5..=40).contains(&lost), "about 10% lost, got {lost}");
    assert!(
        (30..=90).contains(&duplicated),
        "about 30% duplicated, got {duplicated}"
    );
    assert!(log.iter().filter(|r| !r.lost).all(|r| r.delivered()));
    let sent: usize = log.iter().map(|r| r.copies.len()).sum();
    assert_eq!(
        received, sent,
        "the receiver saw exactly the copies the log says were delivered"
    );
    assert!(
        arrival.windows(2).any(|w| w[0] > w[1]),
        "deliveries overtake each other"
    );

    let (again, _, _, _) = run_adjustments(42, 200).await;
    assert_eq!(
        pattern, again,
        "the same seed loses and duplicates the same webhooks"
    );
    let (other, _, _, _) = run_adjustments(7, 200).await;
    assert_ne!(pattern, other);
}

#[tokio::test]
async fn serial_numbers_travel_with_picks_to_the_despatch_record() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let product = handle.add_product("SER-1", "Serialised").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_serials(
            product,
            location,
            &["S-1", "S-2", "S-3"],
            StockStatus::Available,
        )
        .unwrap();
    assert!(
        handle
            .seed_serials(product, location, &["S-2"], StockStatus::Available)
            .is_err(),
        "a serial is in stock once"
    );
    let client = Client::connect(&sim).await;
    let id = client.create_goods_out("SO-SER", &[(product, 2)]).await;
    assert_eq!(warehouse.allocate(id).unwrap(), GoodsOutStatus::Allocated);
    warehouse.pick(id).unwrap();
    warehouse
        .despatch(
            id,
            DPD,
            &[Parcel {
                tracking_number: "T-S".into(),
                weight_kg: None,
            }],
        )
        .unwrap();
    let record = handle.goods_out(id).unwrap();
    let serials: Vec<&str> = record["lines"][0]["picked_stock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["serial_number"].as_str().unwrap())
        .collect();
    assert_eq!(serials, vec!["S-1", "S-2"]);
    assert_eq!(
        handle.on_hand(product, MAIN_WAREHOUSE, StockStatus::Available),
        dec(1)
    );
}

#[tokio::test]
async fn webhooks_to_a_receiver_that_is_down_are_retried_then_logged_as_failed() {
    let behaviour = WebhookBehaviour {
        max_attempts: 2,
        retry_backoff: Duration::from_millis(10),
        timeout: Duration::from_millis(500),
        ..WebhookBehaviour::default()
    };
    let sim = ClarusSim::start(ClarusConfig {
        webhooks: behaviour,
        ..extended()
    })
    .await
    .unwrap();
    // A port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let client = Client::connect(&sim).await;
    let automation = json!({"data": {"type": "automations", "attributes": {
        "resource_name": "goods_out", "event": "created", "enabled": true,
        "actions_changes": [{"type": "ADD", "attributes": {"destination_type": "webhook", "destination_code": "default", "parameters_changes": [
            {"type": "ADD", "attributes": {"parameter_code": "webhook_url", "value": url}}
        ]}}]
    }}});
    assert_eq!(
        client.post("/api/automations", automation).await.0,
        StatusCode::OK
    );
    let product = sim.handle().add_product("SKU-F", "F").unwrap();
    let (status, _) = client
        .post(
            "/api/goods_outs",
            goods_out_body("SO-DOWN", &[(product.0, 1)]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(sim.handle().wait_for_webhooks(Duration::from_secs(5)).await);
    let log = sim.handle().webhook_log();
    assert_eq!(log.len(), 1);
    assert!(!log[0].lost && !log[0].delivered());
    assert!(
        matches!(
            log[0].copies[0],
            sim::clarus::DeliveryOutcome::Failed { attempts: 2, .. }
        ),
        "{:?}",
        log[0].copies
    );
    assert_eq!(log[0].payload["data"]["reference"], json!("SO-DOWN"));
}

#[tokio::test]
async fn a_lost_reply_after_commit_leaves_the_record_created() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let handle = sim.handle();
    let client = Client::connect(&sim).await;
    handle.inject_fault(sim::Fault::CommitThenFail(sim::LostReply::ServerError));
    let (status, body) = client.post("/api/products", product_body("SKU-LOST")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body["errors"].is_array());
    assert!(
        handle.find_product("SKU-LOST").is_some(),
        "the product exists although the reply was a 500"
    );
    let (status, body) = client.post("/api/products", product_body("SKU-LOST")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_clarus_error(&body, "product_code_exists");

    handle.inject_fault(sim::Fault::ServerErrorBeforeCommit);
    let (status, _) = client
        .post("/api/products", product_body("SKU-NEVER"))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(handle.find_product("SKU-NEVER").is_none());
}

#[tokio::test]
async fn processing_picking_and_despatch_fire_goods_out_and_pick_list_webhooks() {
    let sim = ClarusSim::start(extended()).await.unwrap();
    let (url, _received) = receiver().await;
    let client = Client::connect(&sim).await;
    let pairs = [
        ("goods_out", "processed"),
        ("goods_out", "completed"),
        ("goods_out_pick_list", "created"),
        ("goods_out_pick_list", "picked"),
        ("goods_out_pick_list", "completed"),
        ("goods_out_pick_list", "cancelled"),
    ];
    for (resource, event) in pairs {
        client
            .subscribe(resource, event, &format!("{resource}.{event}"), &url)
            .await;
    }
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let product = handle.add_product("SKU-P", "Picked").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(product, location, dec(10), StockStatus::Available, None)
        .unwrap();
    let shipped = client.create_goods_out("SO-201", &[(product, 2)]).await;
    let cancelled = client.create_goods_out("SO-202", &[(product, 2)]).await;
    let (status, _) = client
        .post(
            "/api/goods_out_processes/process_picks_async",
            json!({"ids": [shipped.0]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    warehouse.pick(shipped).unwrap();
    warehouse
        .despatch(
            shipped,
            DPD,
            &[Parcel {
                tracking_number: "1ZPL".into(),
                weight_kg: None,
            }],
        )
        .unwrap();
    warehouse.allocate(cancelled).unwrap();
    warehouse.cancel(cancelled).unwrap();
    assert!(handle.wait_for_webhooks(Duration::from_secs(5)).await);

    let log = handle.webhook_log();
    let of = |goods_out: ClarusId| -> Vec<(String, String)> {
        log.iter()
            .filter(|r| {
                let data = &r.payload["data"];
                data["id"].as_u64() == Some(goods_out.0) && r.resource == "goods_out"
                    || data["goods_out_ids"]
                        .as_array()
                        .is_some_and(|ids| ids.contains(&json!(goods_out.0)))
            })
            .map(|r| (r.resource.clone(), r.event.clone()))
            .collect()
    };
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(r, e)| (r.to_string(), e.to_string()))
            .collect()
    };
    assert_eq!(
        of(shipped),
        pairs(&[
            ("goods_out", "processed"),
            ("goods_out_pick_list", "created"),
            ("goods_out_pick_list", "picked"),
            ("goods_out_pick_list", "completed"),
            ("goods_out", "completed"),
        ])
    );
    assert_eq!(
        of(cancelled),
        pairs(&[
            ("goods_out", "processed"),
            ("goods_out_pick_list", "created"),
            ("goods_out_pick_list", "cancelled"),
        ])
    );
    // Each goods out has its own pick list, named in every event of it.
    let lists: Vec<&Value> = log
        .iter()
        .filter(|r| r.resource == "goods_out_pick_list" && r.event == "created")
        .map(|r| &r.payload["data"])
        .collect();
    assert_eq!(lists.len(), 2);
    assert_ne!(lists[0]["id"], lists[1]["id"]);
    assert_eq!(lists[0]["goods_out_ids"], json!([shipped.0]));
    assert!(lists[0]["reference"].as_str().unwrap().starts_with("PL-"));
    assert!(lists[0]["updated_at"].is_string());
}
