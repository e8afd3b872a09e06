//! REST mutations against wiremock: exact method, path, headers and body per endpoint, and
//! every body checked against the operation's request schema in the OpenAPI file.

mod common;

use clarus_client::rest::automations::{
    Automation, AutomationAction, AutomationCondition, AutomationParameter, AutomationUpdate,
};
use clarus_client::rest::common::{Address, Change, GenericFields};
use clarus_client::rest::goods_in::{GoodsInLine, GoodsInReceipt};
use clarus_client::rest::goods_out::{GoodsOut, GoodsOutLine, ShortOrderLines};
use clarus_client::rest::products::{
    Product, ProductStorageUnit, StockConfiguration, UnitOfMeasure,
};
use clarus_client::rest::shipments::{Package, PackageDimensions, Shipment, ShipmentPackage};
use clarus_client::rest::stock_checks::{StockCheckAttempt, StockCheckOutcome};
use clarus_client::rest::stocks::StockHold;
use clarus_client::{ClarusId, Error};
use common::*;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn id(n: i64) -> ClarusId {
    ClarusId::new(n)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Mounts a mock that only matches the exact method, path, auth and subdomain headers and,
/// when given, the exact JSON body.
async fn expect(
    server: &MockServer,
    m: &str,
    p: &str,
    body: Option<Value>,
    response: ResponseTemplate,
) {
    let mut mock = Mock::given(method(m))
        .and(path(p))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("x-clarus-subdomain", SUBDOMAIN));
    if let Some(b) = body {
        mock = mock
            .and(header("content-type", "application/json"))
            .and(body_json(b));
    }
    mock.respond_with(response).expect(1).mount(server).await;
}

/// Checks the single request received has no body (action endpoints without a schema).
async fn assert_no_body(server: &MockServer) {
    let r = single_request(server).await;
    assert!(r.body.is_empty(), "unexpected body {:?}", r.body);
}

/// Checks the single request received satisfies `op_id`'s request schema.
async fn assert_spec(server: &MockServer, op_id: &str) -> Value {
    let r = single_request(server).await;
    let b = body(&r);
    assert_valid(op_id, &b);
    b
}

fn address() -> Address {
    Address {
        name: Some("Jane Smith".into()),
        address_1: Some("456 High Street".into()),
        address_3: Some("Leeds".into()),
        postcode: Some("LS1 4AB".into()),
        country_code: Some("GB".into()),
        email_address: Some("jane@example.com".into()),
        phone_number: Some("+44 113 000000".into()),
        ..Address::default()
    }
}

// ---------------------------------------------------------------- products

fn product() -> Product {
    let mut p = Product::new("Widget Blue Large", id(3));
    p.code = Some("SKU-001".into());
    p.barcode = Some("5012345678901".into());
    p.shelf_life_min = Some(30);
    p.default_order_configuration = Some(StockConfiguration::Unit);
    p.generic = GenericFields {
        external_system_reference1: Some("NS-ITEM-77".into()),
        integer1: Some(5),
        datetime1: Some(ts("2026-03-01T00:00:00Z")),
        boolean1: Some(true),
        ..GenericFields::default()
    };
    p
}

fn product_body() -> Value {
    json!({"data":{"type":"products","attributes":{
        "description":"Widget Blue Large","stock_unit_type_id":3,"code":"SKU-001",
        "barcode":"5012345678901","shelf_life_min":30,"default_order_configuration":"unit",
        "external_system_reference1":"NS-ITEM-77","integer1":5,
        "datetime1":"2026-03-01T00:00:00Z","boolean1":true}}})
}

#[tokio::test]
async fn create_product() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/products",
        Some(product_body()),
        data_response(150, "products"),
    )
    .await;
    let record = client(&server).create_product(&product()).await.unwrap();
    assert_eq!(record.id, id(150));
    assert_eq!(record.resource_type, "products");
    assert_eq!(
        record.attribute::<String>("reference").as_deref(),
        Some("R")
    );
    assert_spec(&server, "createProduct").await;
}

#[tokio::test]
async fn update_product() {
    let server = server().await;
    expect(
        &server,
        "PATCH",
        "/api/products/150",
        Some(product_body()),
        data_response(150, "products"),
    )
    .await;
    client(&server)
        .update_product(id(150), &product())
        .await
        .unwrap();
    assert_spec(&server, "updateProduct").await;
}

#[tokio::test]
async fn delete_product_and_products() {
    let server = server().await;
    expect(
        &server,
        "DELETE",
        "/api/products/150",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    let c = client(&server);
    c.delete_product(id(150)).await.unwrap();
    assert_no_body(&server).await;

    let server = common::server().await;
    Mock::given(method("DELETE"))
        .and(path("/api/products"))
        .and(query_param("ids", "1,2,3"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .delete_products(&[id(1), id(2), id(3)])
        .await
        .unwrap();
    single_request(&server).await;
    assert!(matches!(
        client(&server).delete_products(&[]).await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn add_account_product() {
    let server = server().await;
    let expected = json!({"data":{"type":"account_products","attributes":{"account_id":7}}});
    expect(
        &server,
        "POST",
        "/api/products/150/account_products",
        Some(expected),
        ResponseTemplate::new(200).set_body_json(json!({"data":{"id":9}})),
    )
    .await;
    let v = client(&server)
        .add_account_product(id(150), id(7))
        .await
        .unwrap();
    assert_eq!(v["data"]["id"], 9);
    assert_spec(&server, "createAccountProduct").await;
}

fn storage_unit() -> ProductStorageUnit {
    ProductStorageUnit {
        product_id: id(150),
        storage_unit_type_id: id(12),
        stock_configuration: StockConfiguration::Case,
        unit_of_measure: UnitOfMeasure::Centimetre,
        per_layer: dec("10"),
        number_of_layers: 5,
        total: Some(dec("50")),
        height: Some(dec("120.5")),
        priority: Some(0),
    }
}

#[tokio::test]
async fn product_storage_units() {
    let expected = json!({"data":{"type":"product_storage_units","attributes":{
        "product_id":150,"storage_unit_type_id":12,"stock_configuration":"case",
        "unit_of_measure":"centimetre","per_layer":10.0,"number_of_layers":5,"total":50.0,
        "height":120.5,"priority":0}}});

    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/product_storage_units",
        Some(expected.clone()),
        data_response(9, "product_storage_units"),
    )
    .await;
    client(&server)
        .create_product_storage_unit(&storage_unit())
        .await
        .unwrap();
    assert_spec(&server, "createProductStorageUnit").await;

    let server = common::server().await;
    expect(
        &server,
        "PATCH",
        "/api/product_storage_units/9",
        Some(expected),
        data_response(9, "product_storage_units"),
    )
    .await;
    client(&server)
        .update_product_storage_unit(id(9), &storage_unit())
        .await
        .unwrap();
    assert_spec(&server, "updateProductStorageUnit").await;

    let server = common::server().await;
    expect(
        &server,
        "PATCH",
        "/api/product_storage_units/9/priority",
        Some(json!({"priority":1})),
        ResponseTemplate::new(204),
    )
    .await;
    client(&server)
        .set_product_storage_unit_priority(id(9), 1)
        .await
        .unwrap();
    assert_spec(&server, "priorityProductStorageUnit").await;

    let server = common::server().await;
    expect(
        &server,
        "DELETE",
        "/api/product_storage_units/9",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    client(&server)
        .delete_product_storage_unit(id(9))
        .await
        .unwrap();
    assert_no_body(&server).await;
}

// ---------------------------------------------------------------- goods in

fn receipt() -> GoodsInReceipt {
    let mut r = GoodsInReceipt::new(id(1), id(2));
    r.reference = Some("PO-2024-001".into());
    r.supplier_id = Some(id(44));
    r.expected_date_of_arrival = Some(ts("2024-01-20T10:00:00Z"));
    r.generic = GenericFields::with_external_reference("NS-PO-9");
    let mut line = GoodsInLine::new(id(150), dec("100"));
    line.stock_configuration = Some(StockConfiguration::Unit);
    line.alt_line_number = Some("1".into());
    line.generic.string1 = Some("BATCH-7".into());
    r.lines_changes = vec![Change::Add(line)];
    r.address = Some(address());
    r
}

fn receipt_body(lines: Value) -> Value {
    json!({"data":{"type":"goods_in_receipts","attributes":{
        "account_id":1,"warehouse_id":2,"reference":"PO-2024-001","supplier_id":44,
        "expected_date_of_arrival":"2024-01-20T10:00:00Z","external_system_reference1":"NS-PO-9",
        "lines_changes":lines},
      "relationships":{"address":{"data":{"type":"addresses","attributes":{
        "name":"Jane Smith","address_1":"456 High Street","address_3":"Leeds","postcode":"LS1 4AB",
        "country_code":"GB","email_address":"jane@example.com","phone_number":"+44 113 000000"}}}}}})
}

#[tokio::test]
async fn create_goods_in_receipt() {
    let server = server().await;
    let lines = json!([{"type":"ADD","attributes":{"product_id":150,"expected_quantity":100.0,
        "stock_configuration":"unit","alt_line_number":"1","string1":"BATCH-7"}}]);
    expect(
        &server,
        "POST",
        "/api/goods_in_receipts",
        Some(receipt_body(lines)),
        data_response(1, "goods_in_receipts"),
    )
    .await;
    let r = client(&server)
        .create_goods_in_receipt(&receipt())
        .await
        .unwrap();
    assert_eq!(r.id, id(1));
    assert_spec(&server, "createGoodsInReceipt").await;
}

fn receipt_update() -> GoodsInReceipt {
    let mut r = receipt();
    r.lines_changes = vec![
        Change::Update {
            id: id(456),
            attributes: GoodsInLine {
                expected_quantity: Some(dec("150")),
                ..GoodsInLine::default()
            },
        },
        Change::Delete(id(789)),
    ];
    r
}

#[tokio::test]
async fn update_goods_in_receipt_with_destroy() {
    let server = server().await;
    let lines = json!([{"type":"UPDATE","id":456,"attributes":{"expected_quantity":150.0}},
                       {"type":"DESTROY","id":789}]);
    expect(
        &server,
        "PATCH",
        "/api/goods_in_receipts/1",
        Some(receipt_body(lines)),
        data_response(1, "goods_in_receipts"),
    )
    .await;
    client(&server)
        .update_goods_in_receipt(id(1), &receipt_update())
        .await
        .unwrap();
    assert_spec(&server, "updateGoodsInReceipt").await;
}

#[tokio::test]
async fn update_goods_in_receipt_with_remove_when_configured() {
    // `REMOVE` is what the narrative pages show; it is outside the schema's enum, which the
    // validator confirms, so this test checks the wire form only.
    let server = server().await;
    let lines = json!([{"type":"UPDATE","id":456,"attributes":{"expected_quantity":150.0}},
                       {"type":"REMOVE","id":789}]);
    let expected = receipt_body(lines);
    expect(
        &server,
        "PATCH",
        "/api/goods_in_receipts/1",
        Some(expected.clone()),
        data_response(1, "goods_in_receipts"),
    )
    .await;
    client_with_remove(&server)
        .update_goods_in_receipt(id(1), &receipt_update())
        .await
        .unwrap();
    assert!(!is_valid("updateGoodsInReceipt", &expected));
}

#[tokio::test]
async fn goods_in_receipt_actions() {
    for (m, p, call) in [
        ("DELETE", "/api/goods_in_receipts/5", 0),
        ("POST", "/api/goods_in_receipts/5/receive", 1),
        ("POST", "/api/goods_in_receipts/5/revert", 2),
    ] {
        let server = server().await;
        let response = if call == 0 {
            ResponseTemplate::new(204)
        } else {
            data_response(5, "goods_in_receipts")
        };
        expect(&server, m, p, None, response).await;
        let c = client(&server);
        match call {
            0 => c.delete_goods_in_receipt(id(5)).await.unwrap(),
            1 => assert_eq!(
                c.receive_goods_in_receipt(id(5)).await.unwrap().unwrap().id,
                id(5)
            ),
            _ => assert_eq!(
                c.revert_goods_in_receipt(id(5)).await.unwrap().unwrap().id,
                id(5)
            ),
        }
        assert_no_body(&server).await;
    }
}

// ---------------------------------------------------------------- goods out

fn goods_out() -> GoodsOut {
    let mut o = GoodsOut::sales_order(id(1), "SO-001", ts("2026-03-11T00:00:00Z"));
    o.warehouse_id = Some(id(2));
    o.carrier_id = Some(id(5));
    o.priority = Some(1);
    o.dispatch_strategy = Some("auto".into());
    o.delivery_notes = Some("Leave at door".into());
    o.generic = GenericFields::with_external_reference("NS-SO-123");
    let mut line = GoodsOutLine::new(id(150), dec("2.5"));
    line.alt_line_number = Some("1".into());
    line.datetime2_from = Some(ts("2026-06-01T00:00:00Z"));
    o.lines_changes = vec![Change::Add(line)];
    o.address = Some(address());
    o
}

fn goods_out_body(lines: Value) -> Value {
    json!({"data":{"type":"goods_outs","attributes":{
        "goods_out_type":"sales_order","account_id":1,"reference":"SO-001",
        "expected_date_of_dispatch":"2026-03-11T00:00:00Z","warehouse_id":2,"carrier_id":5,
        "priority":1,"dispatch_strategy":"auto","delivery_notes":"Leave at door",
        "external_system_reference1":"NS-SO-123","lines_changes":lines},
      "relationships":{"address":{"data":{"type":"addresses","attributes":{
        "name":"Jane Smith","address_1":"456 High Street","address_3":"Leeds","postcode":"LS1 4AB",
        "country_code":"GB","email_address":"jane@example.com","phone_number":"+44 113 000000"}}}}}})
}

#[tokio::test]
async fn create_goods_out() {
    let server = server().await;
    let lines = json!([{"type":"ADD","attributes":{"product_id":150,"order_quantity":2.5,
        "alt_line_number":"1","datetime2_from":"2026-06-01T00:00:00Z"}}]);
    expect(
        &server,
        "POST",
        "/api/goods_outs",
        Some(goods_out_body(lines)),
        data_response(3301, "goods_outs"),
    )
    .await;
    let r = client(&server)
        .create_goods_out(&goods_out())
        .await
        .unwrap();
    assert_eq!(r.id, id(3301));
    assert_spec(&server, "createGoodsOut").await;
}

#[tokio::test]
async fn update_goods_out() {
    let server = server().await;
    let mut o = goods_out();
    o.lines_changes = vec![
        Change::Update {
            id: id(456),
            attributes: GoodsOutLine {
                order_quantity: Some(dec("15")),
                ..GoodsOutLine::default()
            },
        },
        Change::Delete(id(789)),
    ];
    let lines = json!([{"type":"UPDATE","id":456,"attributes":{"order_quantity":15.0}},{"type":"DESTROY","id":789}]);
    expect(
        &server,
        "PATCH",
        "/api/goods_outs/3301",
        Some(goods_out_body(lines)),
        data_response(3301, "goods_outs"),
    )
    .await;
    client(&server)
        .update_goods_out(id(3301), &o)
        .await
        .unwrap();
    assert_spec(&server, "updateGoodsOut").await;
}

#[tokio::test]
async fn api_v1_prefix_when_configured() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/v1/goods_outs/3301/cancel",
        None,
        data_response(3301, "goods_outs"),
    )
    .await;
    let c = clarus_client::ClarusClient::new(
        config(&server)
            .path_prefix(clarus_client::PathPrefix::ApiV1)
            .build()
            .unwrap(),
    )
    .unwrap();
    c.cancel_goods_out(id(3301)).await.unwrap();
}

#[tokio::test]
async fn goods_out_delete_and_cancel() {
    let server = server().await;
    expect(
        &server,
        "DELETE",
        "/api/goods_outs/3301",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    client(&server).delete_goods_out(id(3301)).await.unwrap();
    assert_no_body(&server).await;

    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/goods_outs/3301/cancel",
        None,
        data_response(3301, "goods_outs"),
    )
    .await;
    client(&server).cancel_goods_out(id(3301)).await.unwrap();
    assert_no_body(&server).await;
}

#[tokio::test]
async fn process_picks_async() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/goods_out_processes/process_picks_async",
        Some(json!({"ids":[3301,3302]})),
        ResponseTemplate::new(200).set_body_json(json!({"process_references":["abc123def456"]})),
    )
    .await;
    let refs = client(&server)
        .process_picks_async(&[id(3301), id(3302)])
        .await
        .unwrap();
    assert_eq!(refs, vec!["abc123def456".to_owned()]);
    assert_spec(&server, "processPicksAsync").await;
}

#[tokio::test]
async fn short_order_lines() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/goods_out_processes/short_order_lines",
        Some(json!({"ids":[3301],"description":"Out of stock","reason_code_id":4})),
        ResponseTemplate::new(204),
    )
    .await;
    client(&server)
        .short_order_lines(&ShortOrderLines {
            ids: vec![id(3301)],
            description: "Out of stock".into(),
            reason_code_id: Some(id(4)),
        })
        .await
        .unwrap();
    assert_spec(&server, "shortOrderLines").await;
}

// ---------------------------------------------------------------- shipments and packages

fn shipment() -> Shipment {
    Shipment {
        goods_out_id: Some(id(3301)),
        carrier_id: Some(id(5)),
        carrier_service_id: Some(id(10)),
        reference: Some("SH-001".into()),
        packages_changes: vec![Change::Add(ShipmentPackage {
            weight: Some(dec("2.5")),
            length: Some(dec("30")),
            width: Some(dec("20")),
            height: Some(dec("15")),
            ..ShipmentPackage::default()
        })],
        address: Some(Address {
            name: Some("John Smith".into()),
            postcode: Some("AB1 2CD".into()),
            country_code: Some("GB".into()),
            ..Address::default()
        }),
        ..Shipment::default()
    }
}

fn shipment_body(packages: Value) -> Value {
    json!({"data":{"type":"shipments","attributes":{
        "goods_out_id":3301,"carrier_id":5,"carrier_service_id":10,"reference":"SH-001",
        "packages_changes":packages},
      "relationships":{"address":{"data":{"type":"addresses","attributes":{
        "name":"John Smith","postcode":"AB1 2CD","country_code":"GB"}}}}}})
}

#[tokio::test]
async fn create_and_update_shipment() {
    let server = server().await;
    let packages = json!([{"type":"ADD","attributes":{"weight":2.5,"length":30.0,"width":20.0,"height":15.0}}]);
    expect(
        &server,
        "POST",
        "/api/shipments",
        Some(shipment_body(packages)),
        data_response(1530, "shipments"),
    )
    .await;
    client(&server).create_shipment(&shipment()).await.unwrap();
    assert_spec(&server, "createShipment").await;

    let server = common::server().await;
    let mut s = shipment();
    s.packages_changes = vec![Change::Delete(id(4821))];
    expect(
        &server,
        "PATCH",
        "/api/shipments/1530",
        Some(shipment_body(json!([{"type":"DESTROY","id":4821}]))),
        data_response(1530, "shipments"),
    )
    .await;
    client(&server).update_shipment(id(1530), &s).await.unwrap();
    assert_spec(&server, "updateShipment").await;

    let server = common::server().await;
    expect(
        &server,
        "PATCH",
        "/api/shipments/1530",
        Some(shipment_body(json!([{"type":"REMOVE","id":4821}]))),
        data_response(1530, "shipments"),
    )
    .await;
    client_with_remove(&server)
        .update_shipment(id(1530), &s)
        .await
        .unwrap();
}

#[tokio::test]
async fn shipment_actions() {
    for (m, p) in [
        ("DELETE", "/api/shipments/1530"),
        ("POST", "/api/shipments/1530/submit"),
        ("POST", "/api/shipments/1530/cancel"),
    ] {
        let server = server().await;
        let response = if m == "DELETE" {
            ResponseTemplate::new(204)
        } else {
            data_response(1530, "shipments")
        };
        expect(&server, m, p, None, response).await;
        let c = client(&server);
        match p {
            "/api/shipments/1530" => c.delete_shipment(id(1530)).await.unwrap(),
            "/api/shipments/1530/submit" => {
                c.submit_shipment(id(1530)).await.unwrap();
            }
            _ => {
                c.cancel_shipment(id(1530)).await.unwrap();
            }
        }
        assert_no_body(&server).await;
    }
}

#[tokio::test]
async fn actions_accept_an_empty_204() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/shipments/1530/submit",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    assert_eq!(
        client(&server).submit_shipment(id(1530)).await.unwrap(),
        None
    );
    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/goods_in_receipts/5/receive",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    assert_eq!(
        client(&server)
            .receive_goods_in_receipt(id(5))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn packages() {
    let package = Package {
        storage_unit_type_id: id(12),
        shipment_id: Some(id(1530)),
        storage_unit_id: None,
        tracking_number: Some("1Z999AA10123456784".into()),
        dimensions: Some(PackageDimensions {
            unit_of_measure: UnitOfMeasure::Centimetre,
            length: Some(dec("30")),
            width: None,
            height: None,
            weight: Some(dec("2.5")),
            weight_unit_of_measure: Some("kilogram".into()),
        }),
    };
    let expected = json!({"data":{"type":"packages","attributes":{"storage_unit_type_id":12,
        "shipment_id":1530,"tracking_number":"1Z999AA10123456784",
        "dimensions":{"unit_of_measure":"centimetre","length":30.0,"weight":2.5,"weight_unit_of_measure":"kilogram"}}}});

    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/packages",
        Some(expected.clone()),
        data_response(4821, "packages"),
    )
    .await;
    client(&server).create_package(&package).await.unwrap();
    assert_spec(&server, "createPackage").await;

    let server = common::server().await;
    expect(
        &server,
        "PATCH",
        "/api/packages/4821",
        Some(expected),
        data_response(4821, "packages"),
    )
    .await;
    client(&server)
        .update_package(id(4821), &package)
        .await
        .unwrap();
    assert_spec(&server, "updatePackage").await;

    let server = common::server().await;
    expect(
        &server,
        "DELETE",
        "/api/packages/4821",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    client(&server).delete_package(id(4821)).await.unwrap();
    assert_no_body(&server).await;
}

// ---------------------------------------------------------------- stocks

#[tokio::test]
async fn hold_and_release() {
    let hold = StockHold {
        ids: vec![id(48211), id(48212)],
        description: "Damaged in transit".into(),
        reason_code_id: Some(id(3)),
    };
    let expected =
        json!({"ids":[48211,48212],"description":"Damaged in transit","reason_code_id":3});

    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/stocks/hold",
        Some(expected.clone()),
        ResponseTemplate::new(200).set_body_json(json!({})),
    )
    .await;
    client(&server).hold_stocks(&hold).await.unwrap();
    assert_spec(&server, "holdStocks").await;

    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/stocks/offhold",
        Some(expected),
        ResponseTemplate::new(200).set_body_json(json!({})),
    )
    .await;
    client(&server).release_stocks(&hold).await.unwrap();
    assert_spec(&server, "offholdStocks").await;

    let server = common::server().await;
    let no_reason = StockHold {
        reason_code_id: None,
        ..hold
    };
    expect(
        &server,
        "POST",
        "/api/stocks/hold",
        Some(json!({"ids":[48211,48212],"description":"Damaged in transit"})),
        ResponseTemplate::new(204),
    )
    .await;
    client(&server).hold_stocks(&no_reason).await.unwrap();
    assert_spec(&server, "holdStocks").await;
}

#[tokio::test]
async fn quantity_actions() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/stocks/48211/negative_adjustment",
        Some(json!({"data":{"type":"stocks","attributes":{"quantity":1.5,"reason_code_id":8}}})),
        data_response(48211, "stocks"),
    )
    .await;
    client(&server)
        .negative_adjustment(id(48211), dec("1.5"), Some(id(8)))
        .await
        .unwrap();
    assert_spec(&server, "negativeAdjustmentStock").await;

    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/stocks/48211/move",
        Some(json!({"data":{"type":"stocks","attributes":{"quantity":4.0,"to_location_id":318}}})),
        data_response(48211, "stocks"),
    )
    .await;
    client(&server)
        .move_stock(id(48211), dec("4"), id(318), None)
        .await
        .unwrap();
    assert_spec(&server, "moveStock").await;

    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/stocks/48211/transfer",
        Some(json!({"data":{"type":"stocks","attributes":{"quantity":4.0,"to_account_id":9}}})),
        data_response(48211, "stocks"),
    )
    .await;
    client(&server)
        .transfer_stock(id(48211), dec("4"), id(9), None)
        .await
        .unwrap();
    assert_spec(&server, "transferStock").await;
}

#[tokio::test]
async fn non_positive_quantities_are_refused_before_sending() {
    let server = server().await;
    let c = client(&server);
    assert!(matches!(
        c.negative_adjustment(id(1), dec("0"), None).await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        c.move_stock(id(1), dec("-1"), id(2), None).await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        c.hold_stocks(&StockHold {
            ids: vec![],
            description: "x".into(),
            reason_code_id: None
        })
        .await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(api_requests(&server).await.is_empty());
}

// ---------------------------------------------------------------- stock checks

#[tokio::test]
async fn stock_checks() {
    let server = server().await;
    expect(&server, "POST", "/api/stock_checks",
        Some(json!({"data":{"type":"stock_checks","attributes":{"location_id":318,"expected_completion_date":"2026-07-01T17:00:00Z"}}})),
        data_response(77, "stock_checks")).await;
    let r = client(&server)
        .create_stock_check(id(318), ts("2026-07-01T17:00:00Z"))
        .await
        .unwrap();
    assert_eq!(r.id, id(77));
    assert_spec(&server, "createStockCheck").await;

    let server = common::server().await;
    let attempt = StockCheckAttempt {
        product_id: id(150),
        physical_count: dec("12"),
        batch: Some("B-1".into()),
        sell_by_date: Some("2026-09-30".parse().unwrap()),
        best_before_date: None,
    };
    expect(&server, "POST", "/api/stock_checks/77/record_attempt",
        Some(json!({"data":{"attributes":{"product_id":150,"physical_count":12.0,"batch":"B-1","sell_by_date":"2026-09-30"}}})),
        data_response(77, "stock_checks")).await;
    client(&server)
        .record_stock_check_attempt(id(77), &attempt)
        .await
        .unwrap();
    assert_spec(&server, "recordStockCheckAttempt").await;

    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/stock_checks/77/complete",
        None,
        ResponseTemplate::new(200).set_body_json(json!({"status":"failed"})),
    )
    .await;
    assert_eq!(
        client(&server).complete_stock_check(id(77)).await.unwrap(),
        StockCheckOutcome::Failed
    );
    assert_no_body(&server).await;

    let server = common::server().await;
    expect(
        &server,
        "POST",
        "/api/stock_checks/resolve",
        Some(json!({"stock_check_record_ids":[1,2],"reason_code_id":6})),
        ResponseTemplate::new(204),
    )
    .await;
    client(&server)
        .resolve_stock_check_records(&[id(1), id(2)], id(6))
        .await
        .unwrap();
    assert_spec(&server, "resolveStockCheckRecords").await;
}

// ---------------------------------------------------------------- automations

fn automation() -> Automation {
    Automation {
        resource_name: "goods_out".into(),
        event: "completed".into(),
        name: Some("netsuite-sync goods_out.completed".into()),
        enabled: true,
        conditions_changes: vec![Change::Add(AutomationCondition {
            condition_code: "account_id".into(),
            source_path: "data.account_id".into(),
            operator: "eq".into(),
            value: json!("42"),
        })],
        actions_changes: vec![Change::Add(AutomationAction::webhook(
            "https://sync.example.com/hooks/goods_out/completed?token=t",
            "POST",
        ))],
    }
}

#[tokio::test]
async fn create_automation() {
    let server = server().await;
    let expected = json!({"data":{"type":"automations","attributes":{
        "resource_name":"goods_out","event":"completed","name":"netsuite-sync goods_out.completed","enabled":true,
        "conditions_changes":[{"type":"ADD","attributes":{"condition_code":"account_id","source_path":"data.account_id","operator":"eq","value":"42"}}],
        "actions_changes":[{"type":"ADD","attributes":{"destination_type":"webhook","destination_code":"default","parameters_changes":[
            {"type":"ADD","attributes":{"parameter_code":"webhook_url","value":"https://sync.example.com/hooks/goods_out/completed?token=t"}},
            {"type":"ADD","attributes":{"parameter_code":"webhook_method","value":"POST"}}]}}]}}});
    expect(
        &server,
        "POST",
        "/api/automations",
        Some(expected),
        data_response(12, "automations"),
    )
    .await;
    client(&server)
        .create_automation(&automation())
        .await
        .unwrap();
    assert_spec(&server, "createAutomation").await;

    let mut bad = automation();
    bad.actions_changes.push(Change::Delete(id(1)));
    assert!(matches!(
        client(&server).create_automation(&bad).await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn update_and_delete_automation() {
    let server = server().await;
    let update = AutomationUpdate {
        enabled: Some(false),
        actions_changes: vec![
            Change::Update {
                id: id(5),
                attributes: AutomationAction {
                    destination_type: "webhook".into(),
                    destination_code: "default".into(),
                    parameters_changes: vec![Change::Update {
                        id: id(6),
                        attributes: AutomationParameter {
                            parameter_code: "webhook_url".into(),
                            value: "https://new.example.com/h".into(),
                        },
                    }],
                },
            },
            Change::Delete(id(7)),
        ],
        ..AutomationUpdate::default()
    };
    // Automation arrays keep DESTROY even when lines use REMOVE.
    let expected = json!({"data":{"type":"automations","attributes":{"enabled":false,"actions_changes":[
        {"type":"UPDATE","id":5,"attributes":{"destination_type":"webhook","destination_code":"default","parameters_changes":[
            {"type":"UPDATE","id":6,"attributes":{"parameter_code":"webhook_url","value":"https://new.example.com/h"}}]}},
        {"type":"DESTROY","id":7}]}}});
    expect(
        &server,
        "PATCH",
        "/api/automations/12",
        Some(expected),
        data_response(12, "automations"),
    )
    .await;
    client_with_remove(&server)
        .update_automation(id(12), &update)
        .await
        .unwrap();
    assert_spec(&server, "updateAutomation").await;

    let server = common::server().await;
    expect(
        &server,
        "DELETE",
        "/api/automations/12",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    client(&server).delete_automation(id(12)).await.unwrap();
    assert_no_body(&server).await;
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn validation_errors_keep_every_field() {
    let server = server().await;
    let raw = r#"{"errors":[{"code":12,"symbol":"product_code_exists","details":"Code has already been taken","source":"Products::Create","context":{"code":"SKU-001"}}]}"#;
    Mock::given(method("POST"))
        .and(path("/api/products"))
        .respond_with(ResponseTemplate::new(422).set_body_raw(raw, "application/json"))
        .mount(&server)
        .await;
    let err = client(&server)
        .create_product(&product())
        .await
        .unwrap_err();
    match &err {
        Error::Api {
            status,
            errors,
            raw_body,
        } => {
            assert_eq!(*status, 422);
            assert_eq!(raw_body, raw);
            assert_eq!(errors[0].code, Some(12));
            assert_eq!(errors[0].symbol.as_deref(), Some("product_code_exists"));
            assert_eq!(errors[0].source.as_deref(), Some("Products::Create"));
            assert_eq!(errors[0].context.as_ref().unwrap()["code"], "SKU-001");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.has_symbol("product_code_exists"));
    // A failed create is not retried.
    assert_eq!(api_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn not_found_and_server_errors() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/api/goods_outs/9/cancel"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"errors":[{"code":1,"symbol":"not_found","details":"Goods out not found"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/goods_outs"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream down"))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.cancel_goods_out(id(9)).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.has_symbol("not_found"));
    let err = c.create_goods_out(&goods_out()).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 503, ref raw_body } if raw_body == "upstream down")
    );
    // Creates are not retried blindly, even on 503.
    assert_eq!(api_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn undecodable_success_body_is_kept() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/api/shipments/1/submit"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json"))
        .mount(&server)
        .await;
    let err = client(&server).submit_shipment(id(1)).await.unwrap_err();
    assert!(matches!(err, Error::Decode { ref raw_body, .. } if raw_body == "not json"));
}

#[tokio::test]
async fn redirects_are_not_followed_and_nothing_reaches_the_other_host() {
    let server = server().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/goods_outs"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "location",
            format!("{}/api/goods_outs?token=abc", elsewhere.uri()).as_str(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(308)
                .insert_header("location", format!("{}/graphql", elsewhere.uri()).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(data_response(1, "goods_outs"))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let c = client(&server);

    let err = c.create_goods_out(&goods_out()).await.unwrap_err();
    match &err {
        Error::Redirect { status, location } => {
            assert_eq!(*status, 307);
            let location = location.as_deref().unwrap();
            assert!(location.starts_with(&elsewhere.uri()), "{location}");
            assert!(!location.contains("token"), "{location}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.status(), Some(307));
    assert!(err.to_string().contains("307"), "{err}");

    let err = c.find_goods_outs_by_reference("SO-1").await.unwrap_err();
    assert!(
        matches!(err, Error::Redirect { status: 308, .. }),
        "{err:?}"
    );

    // Not retried, and neither the body nor the tenant header went anywhere else.
    assert_eq!(api_requests(&server).await.len(), 2);
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

fn error_seeds() -> Vec<Value> {
    vec![
        json!({"errors": [{"code": 12, "symbol": "product_code_exists",
            "details": "Code has already been taken", "source": "Products::Create",
            "context": {"code": "SKU-001"}, "extra": [1, 2]}]}),
        json!({"error": "invalid_token", "error_description": "expired"}),
    ]
}

proptest::proptest! {
    #[test]
    fn fuzz_rest_error_bodies_never_panic(bytes in fuzz_inputs::body(error_seeds()),
                                          status in proptest::sample::select(vec![400u16, 401, 403, 404, 409, 422, 429, 500, 503])) {
        let e = Error::from_response(status, String::from_utf8_lossy(&bytes).into_owned());
        let _ = (e.to_string(), e.status(), e.raw_body(), e.has_symbol("not_found"));
    }
}

/// Through the client: a fuzzed error answer to a mutation is a typed error.
#[test]
fn fuzz_rest_error_answers_through_the_client_are_typed_errors() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = std::sync::Arc::new(std::sync::Mutex::new((422u16, Vec::<u8>::new())));
    let server = rt.block_on(async {
        let server = server().await;
        let shared = answer.clone();
        Mock::given(method("POST"))
            .and(path("/api/goods_outs/9/cancel"))
            .respond_with(move |_: &wiremock::Request| {
                let (status, body) = shared.lock().unwrap().clone();
                ResponseTemplate::new(status).set_body_bytes(body)
            })
            .mount(&server)
            .await;
        server
    });
    let c = client(&server);
    let statuses = proptest::sample::select(vec![200u16, 400, 404, 409, 422]);
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(
            &(statuses, fuzz_inputs::body(error_seeds())),
            |(status, bytes)| {
                *answer.lock().unwrap() = (status, bytes);
                let _ = rt.block_on(c.cancel_goods_out(id(9)));
                Ok(())
            },
        )
        .unwrap();
}

/// Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
/// values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
/// nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
#[path = "../../testing/fuzz_inputs.rs"]
mod fuzz_inputs;
