//! Goods-in receipts: create, update with change arrays, actions.

use super::*;

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
