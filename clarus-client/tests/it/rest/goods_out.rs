//! Goods outs: create, update, the `/api/v1` prefix, cancel, picks, short lines.

use super::*;

pub(super) fn goods_out() -> GoodsOut {
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
      "relationships":address_relationship()}})
}

#[tokio::test]
async fn create_goods_out() {
    let lines = json!([{"type":"ADD","attributes":{"product_id":150,"order_quantity":2.5,
        "alt_line_number":"1","datetime2_from":"2026-06-01T00:00:00Z"}}]);
    let r = post("/api/goods_outs")
        .body("createGoodsOut", goods_out_body(lines))
        .record(3301, "goods_outs")
        .run(async |c| c.create_goods_out(&goods_out()).await)
        .await;
    assert_eq!(r.id, id(3301));
}

#[tokio::test]
async fn update_goods_out() {
    let mut o = goods_out();
    o.lines_changes = update_456_delete_789(GoodsOutLine {
        order_quantity: Some(dec("15")),
        ..GoodsOutLine::default()
    });
    let lines = json!([{"type":"UPDATE","id":456,"attributes":{"order_quantity":15.0}},{"type":"DESTROY","id":789}]);
    patch("/api/goods_outs/3301")
        .body("updateGoodsOut", goods_out_body(lines))
        .record(3301, "goods_outs")
        .run(async |c| c.update_goods_out(id(3301), &o).await)
        .await;
}

#[tokio::test]
async fn api_v1_prefix_when_configured() {
    let v1_client = |server: &MockServer| {
        let config = config(server).path_prefix(clarus_client::PathPrefix::ApiV1);
        ClarusClient::new(config.build().unwrap()).unwrap()
    };
    post("/api/v1/goods_outs/3301/cancel")
        .record(3301, "goods_outs")
        .run_with(v1_client, async |c| c.cancel_goods_out(id(3301)).await)
        .await;
}

#[tokio::test]
async fn cancel_goods_out() {
    post("/api/goods_outs/3301/cancel")
        .record(3301, "goods_outs")
        .run(async |c| c.cancel_goods_out(id(3301)).await)
        .await;
}

#[tokio::test]
async fn process_picks_async() {
    let answer =
        ResponseTemplate::new(200).set_body_json(json!({"process_references":["abc123def456"]}));
    let refs = post("/api/goods_out_processes/process_picks_async")
        .body("processPicksAsync", json!({"ids":[3301,3302]}))
        .answer(answer)
        .run(async |c| c.process_picks_async(&[id(3301), id(3302)]).await)
        .await;
    assert_eq!(refs, vec!["abc123def456".to_owned()]);
}

#[tokio::test]
async fn short_order_lines() {
    let request = ShortOrderLines {
        ids: vec![id(3301)],
        description: "Out of stock".into(),
        reason_code_id: Some(id(4)),
    };
    let expected = json!({"ids":[3301],"description":"Out of stock","reason_code_id":4});
    post("/api/goods_out_processes/short_order_lines")
        .body("shortOrderLines", expected)
        .run(async |c| c.short_order_lines(&request).await)
        .await;
}
