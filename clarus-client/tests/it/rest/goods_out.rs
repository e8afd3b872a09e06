//! Goods outs: create, update, the `/api/v1` prefix, delete, cancel, picks, short lines.

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

    let server = crate::support::server().await;
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
