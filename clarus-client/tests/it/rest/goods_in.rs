//! Goods-in receipts: create, update with change arrays (deletes and actions: `actions.rs`).

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
      "relationships":address_relationship()}})
}

#[tokio::test]
async fn create_goods_in_receipt() {
    let lines = json!([{"type":"ADD","attributes":{"product_id":150,"expected_quantity":100.0,
        "stock_configuration":"unit","alt_line_number":"1","string1":"BATCH-7"}}]);
    let r = post("/api/goods_in_receipts")
        .body("createGoodsInReceipt", receipt_body(lines))
        .record(1, "goods_in_receipts")
        .run(async |c| c.create_goods_in_receipt(&receipt()).await)
        .await;
    assert_eq!(r.id, id(1));
}

fn receipt_update() -> GoodsInReceipt {
    let mut r = receipt();
    r.lines_changes = update_456_delete_789(GoodsInLine {
        expected_quantity: Some(dec("150")),
        ..GoodsInLine::default()
    });
    r
}

#[tokio::test]
async fn update_goods_in_receipt_with_destroy() {
    let lines = json!([{"type":"UPDATE","id":456,"attributes":{"expected_quantity":150.0}},
                       {"type":"DESTROY","id":789}]);
    patch("/api/goods_in_receipts/1")
        .body("updateGoodsInReceipt", receipt_body(lines))
        .record(1, "goods_in_receipts")
        .run(async |c| c.update_goods_in_receipt(id(1), &receipt_update()).await)
        .await;
}

#[tokio::test]
async fn update_goods_in_receipt_with_remove_when_configured() {
    // `REMOVE` is what the narrative pages show; it is outside the schema's enum, which the
    // validator confirms, so this test checks the wire form only.
    let lines = json!([{"type":"UPDATE","id":456,"attributes":{"expected_quantity":150.0}},
                       {"type":"REMOVE","id":789}]);
    let expected = receipt_body(lines);
    assert!(!is_valid("updateGoodsInReceipt", &expected));
    patch("/api/goods_in_receipts/1")
        .wire_body(expected)
        .record(1, "goods_in_receipts")
        .run_with(client_with_remove, async |c| {
            c.update_goods_in_receipt(id(1), &receipt_update()).await
        })
        .await;
}
