//! The NetSuite simulator driven over HTTP, as a client would.

use crate::support::dec;
use crate::support::netsuite::Client;

use std::time::Duration;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteConfig, NetSuiteHandle, NetSuiteSim, NewItem, NewOrder,
    NewOrderLine, OrderKind, QUARANTINE, RecordType,
};
use sim::{Fault, LostReply};

fn error_code(body: &Value) -> &str {
    body["o:errorDetails"][0]["o:errorCode"]
        .as_str()
        .unwrap_or("")
}

fn assert_ns_error(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], json!(status), "{body}");
    assert!(
        body["type"].is_string() && body["title"].is_string(),
        "{body}"
    );
    assert_eq!(error_code(body), code, "{body}");
    assert!(body["o:errorDetails"][0]["detail"].is_string(), "{body}");
}

struct World {
    location: InternalId,
    item_a: InternalId,
    item_b: InternalId,
    item_c: InternalId,
}

fn seed(handle: &NetSuiteHandle) -> World {
    let location = handle.add_location("Main", Some("WH-MAIN")).unwrap();
    let item_a = handle
        .add_item(NewItem::new("SKU-A", ItemKind::Inventory))
        .unwrap();
    let item_b = handle
        .add_item(NewItem::new("SKU-B", ItemKind::Inventory))
        .unwrap();
    let item_c = handle
        .add_item(NewItem::new("SKU-C", ItemKind::Inventory))
        .unwrap();
    for item in [item_a, item_b, item_c] {
        handle.set_on_hand(item, location, GOOD, dec(100));
    }
    World {
        location,
        item_a,
        item_b,
        item_c,
    }
}

fn three_line_order(world: &World, ext: &str) -> NewOrder {
    NewOrder {
        external_id: Some(ext.into()),
        location: Some(world.location),
        lines: vec![
            NewOrderLine {
                item: world.item_a,
                quantity: dec(5),
                location: None,
            },
            NewOrderLine {
                item: world.item_b,
                quantity: dec(3),
                location: None,
            },
            NewOrderLine {
                item: world.item_c,
                quantity: dec(2),
                location: None,
            },
        ],
        ..NewOrder::default()
    }
}

fn id_from_location(headers: &reqwest::header::HeaderMap) -> InternalId {
    let location = headers.get("location").unwrap().to_str().unwrap();
    InternalId(location.rsplit('/').next().unwrap().parse().unwrap())
}

#[tokio::test]
async fn requests_without_a_valid_token_get_invalid_login() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let response = http
        .get(format!(
            "{}/services/rest/record/v1/salesOrder/1",
            sim.base_url()
        ))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_ns_error(&response.json().await.unwrap(), 401, "INVALID_LOGIN");

    let client = Client::connect(&sim).await;
    assert_eq!(
        client.get("/record/v1/location/eid:nothing").await.0,
        StatusCode::NOT_FOUND
    );
    sim.handle().revoke_tokens();
    assert_eq!(
        client.get("/record/v1/location/eid:nothing").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn create_answers_204_with_location_and_external_ids_are_unique() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let client = Client::connect(&sim).await;
    let (status, headers, body) = client
        .post(
            "/record/v1/inventoryItem",
            json!({"itemId": "SKU-1", "externalId": "ITEM-1", "displayName": "Widget"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let id = id_from_location(&headers);
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/services/rest/record/v1/inventoryItem/{id}"))
    );

    let (status, by_eid) = client.get("/record/v1/inventoryItem/eid:ITEM-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_eid["id"], json!(id.to_string()));
    assert_eq!(by_eid["itemId"], json!("SKU-1"));

    let (status, _, body) = client
        .post(
            "/record/v1/inventoryItem",
            json!({"itemId": "SKU-2", "externalId": "ITEM-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");
    assert_eq!(sim.handle().count(RecordType::InventoryItem), 1);
}

#[tokio::test]
async fn sublists_are_links_unless_expanded_and_lines_are_not_sequential() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-EXT-1"))
        .unwrap();
    let client = Client::connect(&sim).await;

    let (_, plain) = client.get(&format!("/record/v1/salesOrder/{so}")).await;
    assert!(
        plain["item"]["links"].is_array() && plain["item"].get("items").is_none(),
        "{plain}"
    );
    let (_, expanded) = client
        .get(&format!(
            "/record/v1/salesOrder/{so}?expandSubResources=true"
        ))
        .await;
    let lines: Vec<u64> = expanded["item"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, 4, 7]);
    assert_eq!(expanded["status"]["id"], json!("B"));
    assert_eq!(
        expanded["item"]["items"][0]["item"]["id"],
        json!(world.item_a.to_string())
    );
}

#[tokio::test]
async fn transform_prefills_open_lines_and_honours_item_receive_false() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-EXT-2"))
        .unwrap();
    let client = Client::connect(&sim).await;

    let body = json!({
        "externalId": "CLR-DESP-1",
        "shipStatus": {"id": "C"},
        "item": {"items": [
            {"orderLine": 1, "quantity": 2},
            {"orderLine": 4, "itemReceive": false}
        ]},
        "package": {"items": [{"packageTrackingNumber": "1Z999", "packageWeight": 1.5}]}
    });
    let (status, headers, _) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fulfilment = id_from_location(&headers);
    let record = handle
        .record(RecordType::ItemFulfillment, fulfilment)
        .unwrap();
    let lines = record["item"]["items"].as_array().unwrap();
    let shipped: Vec<(u64, i64)> = lines
        .iter()
        .map(|l| {
            (
                l["orderLine"].as_u64().unwrap(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    // Line 1 as asked, line 4 left out, line 7 pre-filled with its remaining quantity.
    assert_eq!(shipped, vec![(1, 2), (7, 2)]);
    assert_eq!(record["createdFrom"]["id"], json!(so.to_string()));
    assert_eq!(
        record["package"]["items"][0]["packageTrackingNumber"],
        json!("1Z999")
    );

    assert_eq!(
        handle.order_status(OrderKind::SalesOrder, so).as_deref(),
        Some("E")
    );
    let processed: Vec<Decimal> = handle
        .order_lines(OrderKind::SalesOrder, so)
        .iter()
        .map(|l| l.processed)
        .collect();
    assert_eq!(processed, vec![dec(2), dec(0), dec(2)]);
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(98));
    assert_eq!(handle.on_hand(world.item_b, world.location, GOOD), dec(100));
    assert_eq!(handle.on_hand(world.item_c, world.location, GOOD), dec(98));

    // Excluding a line that is already fully fulfilled (7) is accepted and changes nothing.
    let body = json!({"item": {"items": [{"orderLine": 1, "quantity": 1}, {"orderLine": 4, "itemReceive": false}, {"orderLine": 7, "itemReceive": false}]}});
    let (status, headers, body) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let one = handle
        .record(RecordType::ItemFulfillment, id_from_location(&headers))
        .unwrap();
    assert_eq!(one["item"]["items"].as_array().unwrap().len(), 1);

    // The next transform pre-fills only what remains: 2 of line 1 and 3 of line 4.
    let (status, headers, _) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let second = handle
        .record(RecordType::ItemFulfillment, id_from_location(&headers))
        .unwrap();
    let shipped: Vec<(u64, i64)> = second["item"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["orderLine"].as_u64().unwrap(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shipped, vec![(1, 2), (4, 3)]);
    assert_eq!(
        handle.order_status(OrderKind::SalesOrder, so).as_deref(),
        Some("F")
    );

    // Nothing is left to fulfil.
    let (status, _, body) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");
}

#[tokio::test]
async fn transform_refuses_too_much_unknown_lines_and_cancelled_orders_without_side_effects() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-EXT-3"))
        .unwrap();
    let client = Client::connect(&sim).await;
    let path = format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment");

    let (status, _, body) = client
        .post(
            &path,
            json!({"externalId": "X1", "item": {"items": [{"orderLine": 1, "quantity": 6}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");
    assert_eq!(
        body["o:errorDetails"][0]["o:errorPath"],
        json!("item.items[0].quantity")
    );

    let (status, _, body) = client
        .post(
            &path,
            json!({"item": {"items": [{"orderLine": 2, "quantity": 1}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");

    let (status, _, _) = client
        .post(&path, json!({"item": {"items": [{"orderLine": 1, "itemReceive": false}, {"orderLine": 4, "itemReceive": false}, {"orderLine": 7, "itemReceive": false}]}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert_eq!(handle.count(RecordType::ItemFulfillment), 0);
    assert_eq!(
        handle.find_by_external_id(RecordType::ItemFulfillment, "X1"),
        None
    );
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(100));

    handle.cancel_order(OrderKind::SalesOrder, so).unwrap();
    let (status, _, body) = client.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");
    assert_eq!(handle.count(RecordType::ItemFulfillment), 0);
}

#[tokio::test]
async fn fulfilment_cannot_take_stock_that_is_not_there() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    handle.set_on_hand(world.item_a, world.location, GOOD, dec(1));
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-EXT-4"))
        .unwrap();
    let client = Client::connect(&sim).await;
    let (status, _, body) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(1));
}

#[tokio::test]
async fn receipts_take_lots_and_statuses_from_inventory_detail() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let location = handle.add_location("Main", None).unwrap();
    let lot_item = handle
        .add_item(NewItem::new("LOT-1", ItemKind::LotNumbered))
        .unwrap();
    let plain = handle
        .add_item(NewItem::new("PLAIN-1", ItemKind::Inventory))
        .unwrap();
    let po = handle
        .add_order(
            OrderKind::PurchaseOrder,
            NewOrder {
                location: Some(location),
                lines: vec![
                    NewOrderLine {
                        item: lot_item,
                        quantity: dec(10),
                        location: None,
                    },
                    NewOrderLine {
                        item: plain,
                        quantity: dec(5),
                        location: None,
                    },
                ],
                ..NewOrder::default()
            },
        )
        .unwrap();
    let client = Client::connect(&sim).await;
    let path = format!("/record/v1/purchaseOrder/{po}/!transform/itemReceipt");

    // A lot item without inventory detail is refused.
    let (status, _, body) = client
        .post(
            &path,
            json!({"item": {"items": [{"orderLine": 4, "itemReceive": false}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");

    let body = json!({"externalId": "CLR-RCPT-1", "item": {"items": [
        {"orderLine": 1, "quantity": 6, "inventoryDetail": {"inventoryAssignment": {"items": [
            {"receiptInventoryNumber": "L-001", "inventoryStatus": {"id": "1"}, "quantity": 4},
            {"receiptInventoryNumber": "L-002", "inventoryStatus": {"id": "2"}, "quantity": 2}
        ]}}},
        {"orderLine": 4, "quantity": 5, "inventoryDetail": {"inventoryAssignment": {"items": [
            {"inventoryStatus": {"id": "2"}, "quantity": 5}
        ]}}}
    ]}});
    let (status, _, body) = client.post(&path, body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(handle.on_hand(lot_item, location, GOOD), dec(4));
    assert_eq!(handle.on_hand(lot_item, location, QUARANTINE), dec(2));
    assert_eq!(handle.on_hand(plain, location, QUARANTINE), dec(5));
    assert_eq!(handle.lot_on_hand(lot_item, "L-001"), dec(4));
    assert_eq!(
        handle.order_status(OrderKind::PurchaseOrder, po).as_deref(),
        Some("E")
    );

    // Issue from a lot on a negative adjustment, by reference to the inventoryNumber record.
    let (_, numbers) = client
        .suiteql(
            "SELECT id, inventorynumber FROM inventorynumber WHERE inventorynumber = 'L-001'",
            10,
            0,
        )
        .await;
    let lot_id = numbers["items"][0]["id"].as_str().unwrap().to_string();
    let adjustment = json!({"account": {"id": "1"}, "adjLocation": {"id": location.to_string()}, "externalId": "ADJ-1",
        "inventory": {"items": [{"item": {"id": lot_item.to_string()}, "adjustQtyBy": -3,
            "inventoryDetail": {"inventoryAssignment": {"items": [{"issueInventoryNumber": {"id": lot_id}, "quantity": -3}]}}}]}});
    let (status, _, body) = client
        .post("/record/v1/inventoryAdjustment", adjustment)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(handle.lot_on_hand(lot_item, "L-001"), dec(1));
}

#[tokio::test]
async fn adjustments_transfers_and_deletes_move_on_hand() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let other = handle.add_location("Overflow", None).unwrap();
    let client = Client::connect(&sim).await;

    let (status, _, body) = client
        .post("/record/v1/inventoryAdjustment", json!({"inventory": {"items": [{"item": {"id": world.item_a.to_string()}, "location": {"id": world.location.to_string()}, "adjustQtyBy": 5}]}}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the adjustment account is required"
    );
    assert_eq!(body["o:errorDetails"][0]["o:errorPath"], json!("account"));

    let (status, headers, _) = client
        .post("/record/v1/inventoryAdjustment", json!({"account": {"id": "500"}, "externalId": "ADJ-POS", "inventory": {"items": [{"item": {"id": world.item_a.to_string()}, "location": {"id": world.location.to_string()}, "adjustQtyBy": 5}]}}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(105));

    // A removal without inventory detail takes stock away.
    let (status, _, _) = client
        .post("/record/v1/inventoryAdjustment", json!({"account": {"id": "500"}, "inventory": {"items": [{"item": {"id": world.item_b.to_string()}, "location": {"id": world.location.to_string()}, "adjustQtyBy": -3}]}}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.on_hand(world.item_b, world.location, GOOD), dec(97));

    let (status, _, _) = client
        .post("/record/v1/inventoryTransfer", json!({"location": {"id": world.location.to_string()}, "transferLocation": {"id": other.to_string()}, "inventory": {"items": [{"item": {"id": world.item_a.to_string()}, "adjustQtyBy": 30}]}}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(75));
    assert_eq!(handle.on_hand(world.item_a, other, GOOD), dec(30));
    let (_, item) = client
        .get(&format!(
            "/record/v1/inventoryItem/{}?expandSubResources=true",
            world.item_a
        ))
        .await;
    let per_location: Vec<(String, i64)> = item["locations"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"]["id"].as_str().unwrap().to_string(),
                l["quantityOnHand"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_location,
        vec![(world.location.to_string(), 75), (other.to_string(), 30)]
    );

    let (status, _, _) = client
        .send(
            reqwest::Method::DELETE,
            &format!(
                "/record/v1/inventoryAdjustment/{}",
                id_from_location(&headers)
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(70));
}

#[tokio::test]
async fn the_concurrency_limit_answers_429_without_retry_after() {
    let config = NetSuiteConfig {
        concurrency_limit: Some(2),
        latency: Duration::from_millis(300),
        ..NetSuiteConfig::default()
    };
    let sim = NetSuiteSim::start(config).await.unwrap();
    let client = std::sync::Arc::new(Client::connect(&sim).await);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let response = client
                .request(reqwest::Method::GET, "/record/v1/inventoryStatus/1")
                .send()
                .await
                .unwrap();
            let retry_after = response.headers().contains_key("retry-after");
            (
                response.status(),
                retry_after,
                response.json::<Value>().await.unwrap(),
            )
        }));
    }
    let mut ok = 0;
    let mut throttled = 0;
    for task in tasks {
        let (status, retry_after, body) = task.await.unwrap();
        assert!(!retry_after);
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_ns_error(&body, 429, "CONCURRENCY_LIMIT_EXCEEDED");
                throttled += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 2);
    assert_eq!(throttled, 4);
    let stats = sim.handle().stats();
    assert_eq!(stats.throttled, 4);
    assert_eq!(stats.max_in_flight, 2);
}

#[tokio::test]
async fn commit_then_fail_leaves_the_record_created() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-EXT-5"))
        .unwrap();
    let client = Client::connect(&sim).await;

    handle.inject_fault(Fault::CommitThenFail(LostReply::ServerError));
    let (status, _, body) = client
        .post(&format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"), json!({"externalId": "CLR-DESP-9", "item": {"items": [{"orderLine": 1, "quantity": 1}, {"orderLine": 4, "itemReceive": false}, {"orderLine": 7, "itemReceive": false}]}}))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_ns_error(&body, 500, "UNEXPECTED_ERROR");
    let (status, found) = client
        .get("/record/v1/itemFulfillment/eid:CLR-DESP-9")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the write happened although the reply said 500"
    );
    assert_eq!(found["createdFrom"]["id"], json!(so.to_string()));
    // A blind retry is refused by the external id, so it cannot duplicate the fulfilment.
    let (status, _, body) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            json!({"externalId": "CLR-DESP-9"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&body, 400, "USER_ERROR");

    handle.inject_fault(Fault::CommitThenFail(LostReply::DropConnection));
    let result = client
        .request(reqwest::Method::POST, "/record/v1/location")
        .json(&json!({"name": "Dropped", "externalId": "LOC-DROP"}))
        .send()
        .await;
    assert!(result.is_err(), "the connection is dropped without a reply");
    assert!(
        handle
            .find_by_external_id(RecordType::Location, "LOC-DROP")
            .is_some()
    );

    handle.inject_fault(Fault::ServerErrorBeforeCommit);
    let (status, _, _) = client
        .post(
            "/record/v1/location",
            json!({"name": "Never", "externalId": "LOC-NEVER"}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        handle
            .find_by_external_id(RecordType::Location, "LOC-NEVER")
            .is_none()
    );

    assert_eq!(handle.count_transactions_with_external_id("CLR-DESP-9"), 1);
    assert!(handle.duplicate_external_ids().is_empty());
    let stats = handle.stats();
    assert_eq!(
        (stats.commits_then_failed, stats.server_errors_before_commit),
        (2, 1)
    );
}

#[tokio::test]
async fn suiteql_paging_rules_and_value_shapes() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    for n in 0..5 {
        let mut item = NewItem::new(format!("SKU-{n}"), ItemKind::Inventory);
        if n % 2 == 0 {
            item.display_name = Some(format!("Item {n}"));
        }
        handle.add_item(item).unwrap();
    }
    let client = Client::connect(&sim).await;

    let response = client
        .request(reqwest::Method::POST, "/query/v1/suiteql?limit=2&offset=0")
        .json(&json!({"q": "SELECT id FROM item"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "Prefer: transient is required"
    );

    let (status, body) = client.suiteql("SELECT id FROM item", 2, 1).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "offset must be a multiple of limit"
    );
    assert_ns_error(&body, 400, "INVALID_PARAMETER");
    assert_eq!(
        client.suiteql("SELECT id FROM item", 1001, 0).await.0,
        StatusCode::BAD_REQUEST
    );

    let query = "SELECT i.id, i.itemid, i.displayname AS DisplayName, i.islotitem FROM item i ORDER BY i.id";
    let (status, page) = client.suiteql(query, 2, 2).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            page["count"].clone(),
            page["hasMore"].clone(),
            page["offset"].clone(),
            page["totalResults"].clone()
        ),
        (json!(2), json!(true), json!(2), json!(5))
    );
    let rels: Vec<&str> = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert!(rels.contains(&"next") && rels.contains(&"prev") && rels.contains(&"self"));
    let row = &page["items"][0];
    assert!(row["id"].is_string(), "values come back as strings: {row}");
    assert_eq!(row["itemid"], json!("SKU-2"));
    assert_eq!(
        row["displayname"],
        json!("Item 2"),
        "column names are lower-case"
    );
    assert_eq!(row["islotitem"], json!("F"));
    assert!(
        page["items"][1].get("displayname").is_none(),
        "null columns are omitted"
    );
    let (_, last) = client.suiteql(query, 2, 4).await;
    assert_eq!(
        (last["count"].clone(), last["hasMore"].clone()),
        (json!(1), json!(false))
    );

    // Keyset paging.
    let first_id: u64 = page["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let keyset = client
        .query(&format!(
            "SELECT id FROM item WHERE id > {first_id} ORDER BY id"
        ))
        .await;
    assert_eq!(keyset["totalResults"], json!(2));

    // Unsupported shapes fail loudly.
    let (status, _) = client
        .suiteql(
            "SELECT t.id FROM transaction t JOIN transactionline l ON l.transaction = t.id",
            10,
            0,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = client
        .suiteql(
            "SELECT id FROM item WHERE id IN (SELECT item FROM inventorybalance)",
            10,
            0,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "sub-queries are refused");

    // The client's keyset continuation: `{select} WHERE ({filter}) AND {key} > {last} ORDER BY {key}`.
    let (status, rows) = client
        .suiteql(
            &format!("SELECT id, itemid FROM item WHERE (isinactive = 'F' AND (itemid = 'SKU-0' OR itemid BETWEEN 'SKU-3' AND 'SKU-4')) AND id > {first_id} ORDER BY id"),
            10,
            0,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let skus: Vec<&str> = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["itemid"].as_str().unwrap())
        .collect();
    assert_eq!(skus, vec!["SKU-3", "SKU-4"]);
    let (_, none) = client
        .suiteql("SELECT id FROM item WHERE NOT (isinactive = 'F')", 10, 0)
        .await;
    assert_eq!(none["totalResults"], json!(0));
}

#[tokio::test]
async fn suiteql_answers_the_engine_queries() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-Q-1"))
        .unwrap();
    let po = handle
        .add_order(OrderKind::PurchaseOrder, three_line_order(&world, "PO-Q-1"))
        .unwrap();
    handle.set_on_hand(world.item_a, world.location, QUARANTINE, dec(7));
    let client = Client::connect(&sim).await;

    let since = "SELECT t.id, t.tranid, t.type, BUILTIN.DF(t.status) status, t.externalid, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') modified \
                 FROM transaction t WHERE t.type IN ('SalesOrd','RtnAuth','PurchOrd') \
                 AND t.lastmodifieddate > TO_TIMESTAMP('2000-01-01 00:00:00','YYYY-MM-DD HH24:MI:SS') ORDER BY t.lastmodifieddate, t.id";
    let rows = client.query(since).await;
    assert_eq!(rows["totalResults"], json!(2));
    assert_eq!(rows["items"][0]["id"], json!(so.to_string()));
    assert_eq!(rows["items"][0]["type"], json!("SalesOrd"));
    assert_eq!(
        rows["items"][0]["status"],
        json!("Sales Order : Pending Fulfillment")
    );
    assert_eq!(rows["items"][1]["externalid"], json!("PO-Q-1"));
    assert_eq!(rows["items"][1]["id"], json!(po.to_string()));
    assert!(rows["items"][0]["modified"].as_str().unwrap().contains('T'));

    let none = client.query("SELECT id FROM transaction WHERE type = 'SalesOrd' AND lastmodifieddate > TO_TIMESTAMP('2999-01-01 00:00:00','YYYY-MM-DD HH24:MI:SS')").await;
    assert_eq!(none["totalResults"], json!(0));

    let by_status = client
        .query("SELECT id FROM transaction WHERE status = 'SalesOrd:B'")
        .await;
    assert_eq!(by_status["totalResults"], json!(1));

    let eid = client
        .query("SELECT id FROM transaction WHERE externalid = 'SO-Q-1'")
        .await;
    assert_eq!(eid["items"][0]["id"], json!(so.to_string()));

    let balance = format!(
        "SELECT item, location, inventorystatus, SUM(quantityonhand) AS onhand FROM InventoryBalance \
         WHERE item = {} GROUP BY item, location, inventorystatus ORDER BY inventorystatus",
        world.item_a
    );
    let rows = client.query(&balance).await;
    assert_eq!(rows["items"][0]["onhand"], json!("100"));
    assert_eq!(rows["items"][1]["onhand"], json!("7"));
    assert_eq!(rows["items"][1]["inventorystatus"], json!("2"));

    // The engine's own shapes, verbatim.
    let items = client.query("SELECT id, islotitem, isserialitem, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified FROM item WHERE itemtype = 'InvtPart' AND lastmodifieddate >= TO_TIMESTAMP('2000-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate, id").await;
    assert_eq!(items["totalResults"], json!(3));
    assert!(items["items"][0]["modified"].as_str().unwrap().len() == 19);
    let orders = client.query("SELECT id, status, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified FROM transaction WHERE type = 'SalesOrd' AND lastmodifieddate >= TO_TIMESTAMP('2000-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate, id").await;
    assert_eq!(orders["items"][0]["status"], json!("B"));
    let snapshot = format!(
        "SELECT item, inventorystatus, SUM(quantityonhand) AS quantityonhand FROM inventorybalance WHERE location = '{}' GROUP BY item, inventorystatus ORDER BY item, inventorystatus",
        world.location
    );
    let balances = client.query(&snapshot).await;
    assert_eq!(
        balances["totalResults"],
        json!(4),
        "three items in Good, one also in Quarantine"
    );
    assert_eq!(balances["items"][0]["quantityonhand"], json!("100"));
    let (status, by_ids) = client
        .suiteql(
            &format!(
                "SELECT id, itemid FROM item WHERE id IN ({}, {}) ORDER BY id",
                world.item_a, world.item_c
            ),
            1000,
            0,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_ids["items"][1]["itemid"], json!("SKU-C"));
}

#[tokio::test]
async fn async_requests_run_as_jobs_and_idempotency_keys_are_honoured() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-ASYNC"))
        .unwrap();
    let client = Client::connect(&sim).await;
    let submit = || {
        client
            .request(
                reqwest::Method::POST,
                &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            )
            .header("Prefer", "respond-async")
            .header("X-NetSuite-Idempotency-Key", "7d1f6a0e-async-key")
            .json(&json!({"externalId": "CLR-DESP-ASYNC"}))
            .send()
    };
    let response = submit().await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["preference-applied"], "respond-async");
    let job = response.headers()["location"].to_str().unwrap().to_string();
    let job_path = job.split("/services/rest").nth(1).unwrap().to_string();

    let (status, state) = client.get(&job_path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (state["completed"].clone(), state["progress"].clone()),
        (json!(true), json!("succeeded"))
    );
    let (_, tasks) = client.get(&format!("{job_path}/task")).await;
    let task_id = tasks["items"][0]["id"].as_str().unwrap().to_string();
    let (_, task) = client.get(&format!("{job_path}/task/{task_id}")).await;
    assert_eq!(task["progress"], json!("succeeded"));
    let result = client
        .request(
            reqwest::Method::GET,
            &format!("{job_path}/task/{task_id}/result"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), StatusCode::NO_CONTENT);
    let fulfilment = id_from_location(result.headers());
    assert_eq!(
        handle.find_by_external_id(RecordType::ItemFulfillment, "CLR-DESP-ASYNC"),
        Some(fulfilment)
    );

    // The same key again is not executed: 400 Conflict pointing at the original job.
    let again = submit().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.headers()["location"].to_str().unwrap(), job);
    let body: Value = again.json().await.unwrap();
    assert_ns_error(&body, 400, "IDEMPOTENCY_ERROR");
    assert_eq!(body["title"], json!("Conflict"));
    assert_eq!(handle.count(RecordType::ItemFulfillment), 1);

    // A collection: one task per record; a failing record fails its task only.
    let response = client
        .request(reqwest::Method::POST, "/record/v1/location")
        .header("Prefer", "respond-async")
        .header("Content-Type", "application/vnd.oracle.resource+json; type=collection")
        .body(json!({"items": [{"name": "North", "externalId": "LOC-N"}, {"name": "Again", "externalId": "WH-MAIN"}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let job_path = response.headers()["location"]
        .to_str()
        .unwrap()
        .split("/services/rest")
        .nth(1)
        .unwrap()
        .to_string();
    let (_, state) = client.get(&job_path).await;
    assert_eq!(state["progress"], json!("failed"));
    let (status, first) = client.get(&format!("{job_path}/task/1/result")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{first}");
    let (status, second) = client.get(&format!("{job_path}/task/2/result")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ns_error(&second, 400, "USER_ERROR");
    assert!(
        handle
            .find_by_external_id(RecordType::Location, "LOC-N")
            .is_some()
    );
}

#[tokio::test]
async fn handle_updates_are_seen_by_suiteql_pollers() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let item = handle
        .add_item(NewItem::new("SKU-U", ItemKind::Inventory))
        .unwrap();
    handle
        .update_record(
            RecordType::InventoryItem,
            item,
            json!({"displayName": "Renamed", "upcCode": "5012345678900"}),
        )
        .unwrap();
    let client = Client::connect(&sim).await;
    let (_, rows) = client
        .suiteql(
            &format!("SELECT displayname, upccode FROM item WHERE id = {item}"),
            10,
            0,
        )
        .await;
    assert_eq!(rows["items"][0]["displayname"], json!("Renamed"));
    assert_eq!(rows["items"][0]["upccode"], json!("5012345678900"));
    assert!(
        handle
            .update_record(RecordType::InventoryItem, item, json!({"externalId": 5}))
            .is_err()
    );
    handle
        .delete_record(RecordType::InventoryItem, item)
        .unwrap();
    assert_eq!(handle.count(RecordType::InventoryItem), 0);
}

#[tokio::test]
async fn picked_fulfilments_post_stock_only_when_shipped_and_deletes_reverse_everything() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let world = seed(&handle);
    let so = handle
        .add_order(OrderKind::SalesOrder, three_line_order(&world, "SO-PPS"))
        .unwrap();
    let client = Client::connect(&sim).await;
    let body = json!({"shipStatus": {"id": "A"}, "item": {"items": [{"orderLine": 4, "itemReceive": false}, {"orderLine": 7, "itemReceive": false}]}});
    let (status, headers, _) = client
        .post(
            &format!("/record/v1/salesOrder/{so}/!transform/itemFulfillment"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fulfilment = id_from_location(&headers);
    assert_eq!(
        handle.on_hand(world.item_a, world.location, GOOD),
        dec(100),
        "picked is not shipped"
    );
    assert_eq!(
        handle.order_lines(OrderKind::SalesOrder, so)[0].processed,
        dec(5)
    );

    let path = format!("/record/v1/itemFulfillment/{fulfilment}");
    let (status, _, _) = client
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"shipStatus": {"id": "C"}})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(95));
    let (status, _, body) = client
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"shipStatus": {"id": "B"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = client
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"item": {"items": [{"orderLine": 1, "quantity": 1}]}})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "posted lines are not edited in place"
    );

    let (_, lines) = client
        .suiteql(&format!("SELECT transaction, orderline, item, quantity FROM transactionline WHERE transaction = {fulfilment} AND mainline = 'F'"), 10, 0)
        .await;
    assert_eq!(lines["items"][0]["quantity"], json!("-5"));
    assert_eq!(lines["items"][0]["orderline"], json!("1"));

    let (status, _, _) = client.send(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(handle.on_hand(world.item_a, world.location, GOOD), dec(100));
    assert_eq!(
        handle.order_lines(OrderKind::SalesOrder, so)[0].processed,
        dec(0)
    );
    assert_eq!(
        handle.order_status(OrderKind::SalesOrder, so).as_deref(),
        Some("B")
    );
}

#[tokio::test]
async fn put_by_external_id_creates_then_updates() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let client = Client::connect(&sim).await;
    let path = "/record/v1/inventoryItem/eid:ITEM-PUT";
    let (status, headers, _) = client
        .send(
            reqwest::Method::PUT,
            path,
            Some(json!({"itemId": "SKU-PUT", "displayName": "First"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let id = id_from_location(&headers);
    let (status, headers, _) = client
        .send(
            reqwest::Method::PUT,
            path,
            Some(json!({"itemId": "SKU-PUT", "displayName": "Second"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(id_from_location(&headers), id, "the same record is updated");
    let (_, item) = client.get(path).await;
    assert_eq!(item["displayName"], json!("Second"));
    assert_eq!(sim.handle().count(RecordType::InventoryItem), 1);
    let (status, _, _) = client
        .send(
            reqwest::Method::PUT,
            &format!("/record/v1/inventoryItem/{id}"),
            Some(json!({"itemId": "X"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "PUT addresses records by external id only"
    );
}
