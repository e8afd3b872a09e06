//! The NetSuite simulator as a strict account: request bodies checked against the record
//! metadata (`sim/spec/`), OneWorld subsidiaries, inventory-status assignments on receipt lines,
//! both processed-quantity fields on order lines, and requests counted by kind.

use crate::support::dec;
use crate::support::netsuite::Client;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::netsuite::{
    DAMAGED, GOOD, InternalId, ItemKind, NetSuiteConfig, NetSuiteSim, NewItem, NewOrder,
    NewOrderLine, OrderKind, QUARANTINE, RecordType, RequestKind, RunningNetSuite,
};

impl Client {
    /// Sends a JSON body, answering the status and the body.
    async fn send_value(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let (status, _, value) = self.send(method, path, Some(body)).await;
        (status, value)
    }

    /// `POST`s a JSON body, answering the status and the body.
    async fn post_value(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_value(reqwest::Method::POST, path, body).await
    }

    /// Transforms the `record` `order` into a `target` record (which may carry a query) with `body`.
    async fn transform(
        &self,
        record: &str,
        order: InternalId,
        target: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let path = format!("/record/v1/{record}/{order}/!transform/{target}");
        self.post_value(&path, body).await
    }
}

fn detail(body: &Value) -> (&str, &str, &str) {
    let d = &body["o:errorDetails"][0];
    (
        d["o:errorCode"].as_str().unwrap_or(""),
        d["o:errorPath"].as_str().unwrap_or(""),
        d["detail"].as_str().unwrap_or(""),
    )
}

struct World {
    location: InternalId,
    item: InternalId,
    order: InternalId,
}

/// A location, an item with 10 on hand, and a return authorisation of 5 of it.
fn seed(sim: &RunningNetSuite, kind: OrderKind) -> World {
    let h = sim.handle();
    let location = h.add_location("Main", Some("WH-MAIN")).unwrap();
    let item = h
        .add_item(NewItem::new("SKU-1", ItemKind::Inventory))
        .unwrap();
    h.set_on_hand(item, location, GOOD, dec(10));
    let order = h
        .add_order(
            kind,
            NewOrder {
                location: Some(location),
                lines: vec![NewOrderLine {
                    item,
                    quantity: dec(5),
                    location: None,
                }],
                ..NewOrder::default()
            },
        )
        .unwrap();
    World {
        location,
        item,
        order,
    }
}

#[tokio::test]
async fn bodies_naming_unknown_or_read_only_fields_are_refused_without_side_effects() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let w = seed(&sim, OrderKind::SalesOrder);
    let client = Client::connect(&sim).await;
    let adjustment = |extra: (&str, Value)| {
        let mut body = json!({
            "account": {"id": "90"}, "adjLocation": {"id": w.location.to_string()},
            "inventory": {"items": [{"item": {"id": w.item.to_string()}, "adjustQtyBy": 1}]}
        });
        body[extra.0] = extra.1;
        body
    };

    // An unknown body field.
    let (status, body) = client
        .post_value(
            "/record/v1/inventoryAdjustment",
            adjustment(("adjustmentReason", json!("breakage"))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["title"], json!("Bad Request"));
    let (code, path, text) = detail(&body);
    assert_eq!((code, path), ("INVALID_FLD_VALUE", "adjustmentReason"));
    assert!(text.contains("Invalid field"), "{text}");

    // A read-only field.
    let (status, body) = client
        .post_value(
            "/record/v1/inventoryAdjustment",
            adjustment(("links", json!([]))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&body).0, "USER_ERROR");

    // An unknown line field, and an unknown key in a reference.
    let mut bad_line = adjustment(("memo", json!("m")));
    bad_line["inventory"]["items"][0]["status"] = json!({"id": "1"});
    let (status, body) = client
        .post_value("/record/v1/inventoryAdjustment", bad_line)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&body).1, "inventory.items[0].status");
    let (_, body) = client
        .post_value(
            "/record/v1/inventoryAdjustment",
            adjustment(("account", json!({"id": "90", "name": "Shrinkage"}))),
        )
        .await;
    assert_eq!(detail(&body).1, "account.name");

    // A transform is checked against the target record.
    let (status, body) = client
        .transform(
            "salesOrder",
            w.order,
            "itemFulfillment",
            json!({"item": {"items": [{"orderLine": 1, "quantity": 1, "binNumber": "A1"}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(detail(&body).1, "item.items[0].binNumber");

    // So is an update.
    let (status, body) = client
        .send_value(
            reqwest::Method::PATCH,
            &format!("/record/v1/salesOrder/{}", w.order),
            json!({"priority": "high"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let h = sim.handle();
    assert_eq!(h.count(RecordType::InventoryAdjustment), 0);
    assert_eq!(h.count(RecordType::ItemFulfillment), 0);
    assert_eq!(h.on_hand(w.item, w.location, GOOD), dec(10));

    // Custom fields are the account's own and pass.
    let mut custom = adjustment(("custbody_wms_reference", json!("ADJ-1")));
    custom["inventory"]["items"][0]["custcol_reason"] = json!("breakage");
    let (status, body) = client
        .post_value("/record/v1/inventoryAdjustment", custom)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(h.on_hand(w.item, w.location, GOOD), dec(11));
}

#[tokio::test]
async fn a_one_world_account_needs_a_subsidiary_on_inventory_transactions() {
    let sim = NetSuiteSim::start(NetSuiteConfig {
        one_world: true,
        ..NetSuiteConfig::default()
    })
    .await
    .unwrap();
    let w = seed(&sim, OrderKind::SalesOrder);
    let h = sim.handle();
    h.update_record(
        RecordType::Location,
        w.location,
        json!({"subsidiary": {"id": "3"}}),
    )
    .unwrap();
    let other = h.add_location("Overflow", None).unwrap();
    let client = Client::connect(&sim).await;
    let adjustment = json!({
        "account": {"id": "90"}, "adjLocation": {"id": w.location.to_string()},
        "inventory": {"items": [{"item": {"id": w.item.to_string()}, "adjustQtyBy": -1}]}
    });
    let (status, body) = client
        .post_value("/record/v1/inventoryAdjustment", adjustment.clone())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (code, path, text) = detail(&body);
    assert_eq!(
        (code, path, text),
        (
            "USER_ERROR",
            "subsidiary",
            "Please enter value(s) for: Subsidiary"
        )
    );

    let transfer = json!({
        "location": {"id": w.location.to_string()}, "transferLocation": {"id": other.to_string()},
        "inventory": {"items": [{"item": {"id": w.item.to_string()}, "adjustQtyBy": 1}]}
    });
    let (status, _) = client
        .post_value("/record/v1/inventoryTransfer", transfer.clone())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let change = json!({
        "location": {"id": w.location.to_string()},
        "previousStatus": {"id": GOOD.to_string()}, "revisedStatus": {"id": QUARANTINE.to_string()},
        "inventory": {"items": [{"item": {"id": w.item.to_string()}, "quantity": 1}]}
    });
    let (status, _) = client
        .post_value("/record/v1/inventoryStatusChange", change.clone())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The wrong subsidiary for the location.
    let mut wrong = adjustment.clone();
    wrong["subsidiary"] = json!({"id": "4"});
    let (status, body) = client
        .post_value("/record/v1/inventoryAdjustment", wrong)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&body).1, "adjLocation");
    assert_eq!(h.on_hand(w.item, w.location, GOOD), dec(10));

    for (path, mut body) in [
        ("/record/v1/inventoryAdjustment", adjustment),
        ("/record/v1/inventoryTransfer", transfer),
        ("/record/v1/inventoryStatusChange", change),
    ] {
        body["subsidiary"] = json!({"id": "3"});
        body["department"] = json!({"id": "8"});
        body["class"] = json!({"id": "9"});
        let (status, reply) = client.post_value(path, body).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {reply}");
    }
    assert_eq!(h.on_hand(w.item, w.location, GOOD), dec(7));
    assert_eq!(h.on_hand(w.item, other, GOOD), dec(1));
    assert_eq!(h.on_hand(w.item, w.location, QUARANTINE), dec(1));
    let adjustment = &h.records(RecordType::InventoryAdjustment)[0];
    assert_eq!(adjustment["subsidiary"]["id"], json!("3"));
    assert_eq!(adjustment["department"]["id"], json!("8"));

    // Receipts and fulfilments take the subsidiary of their order.
    let (status, body) = client
        .transform(
            "salesOrder",
            w.order,
            "itemFulfillment",
            json!({"item": {"items": [{"orderLine": 1, "quantity": 1}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn one_receipt_line_splits_into_inventory_statuses() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let w = seed(&sim, OrderKind::ReturnAuthorization);
    let client = Client::connect(&sim).await;
    let (status, body) = client
        .transform(
            "returnAuthorization",
            w.order,
            "itemReceipt?replace=item",
            json!({"externalId": "RCPT-1", "item": {"items": [{
                "orderLine": 1, "itemReceive": true, "quantity": 4,
                "location": {"id": w.location.to_string()},
                "inventoryDetail": {"inventoryAssignment": {"items": [
                    {"quantity": 3, "inventoryStatus": {"id": GOOD.to_string()}},
                    {"quantity": 1, "inventoryStatus": {"id": QUARANTINE.to_string()}}
                ]}}
            }]}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let h = sim.handle();
    assert_eq!(h.on_hand(w.item, w.location, GOOD), dec(13));
    assert_eq!(h.on_hand(w.item, w.location, QUARANTINE), dec(1));
    assert_eq!(h.on_hand(w.item, w.location, DAMAGED), dec(0));
    let receipt = &h.records(RecordType::ItemReceipt)[0];
    let lines = receipt["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["inventoryDetail"]["inventoryAssignment"]["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let order_lines = h.order_lines(OrderKind::ReturnAuthorization, w.order);
    assert_eq!(order_lines[0].processed, dec(4));
}

#[tokio::test]
async fn order_lines_carry_both_processed_quantities_and_only_the_right_one_moves() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let w = seed(&sim, OrderKind::PurchaseOrder);
    let client = Client::connect(&sim).await;
    let (status, _) = client
        .transform(
            "purchaseOrder",
            w.order,
            "itemReceipt",
            json!({"item": {"items": [{"orderLine": 1, "quantity": 2}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let order = sim
        .handle()
        .record(RecordType::PurchaseOrder, w.order)
        .unwrap();
    let line = &order["item"]["items"][0];
    assert_eq!(line["quantityReceived"], json!(2), "{line}");
    assert_eq!(line["quantityFulfilled"], json!(0), "{line}");
    let query = format!(
        "SELECT quantityshiprecv FROM transactionline WHERE transaction = {} AND mainline = 'F'",
        w.order
    );
    let rows = client.query(&query).await;
    assert_eq!(rows["items"][0]["quantityshiprecv"], json!("2"), "{rows}");
}

#[tokio::test]
async fn requests_are_counted_by_kind() {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let w = seed(&sim, OrderKind::SalesOrder);
    let client = Client::connect(&sim).await;
    let (status, _) = client
        .transform(
            "salesOrder",
            w.order,
            "itemFulfillment",
            json!({"externalId": "F-1", "item": {"items": [{"orderLine": 1, "quantity": 1}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = client
        .send_value(
            reqwest::Method::GET,
            "/record/v1/itemFulfillment/eid:F-1",
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let counts = sim.handle().request_counts();
    assert_eq!(counts.total(), 2);
    assert_eq!(counts.count(RequestKind::is_write), 1);
    assert_eq!(
        counts.by_label().get("lookup itemFulfillment"),
        Some(&1),
        "{counts:?}"
    );
}
