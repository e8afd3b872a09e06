//! Stock checks.

use super::*;

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

    let server = crate::support::server().await;
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

    let server = crate::support::server().await;
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

    let server = crate::support::server().await;
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
