//! Stock checks.

use super::*;

#[tokio::test]
async fn stock_checks() {
    let expected = json!({"data":{"type":"stock_checks","attributes":{"location_id":318,"expected_completion_date":"2026-07-01T17:00:00Z"}}});
    let r = post("/api/stock_checks")
        .body("createStockCheck", expected)
        .record(77, "stock_checks")
        .run(async |c| {
            c.create_stock_check(id(318), ts("2026-07-01T17:00:00Z"))
                .await
        })
        .await;
    assert_eq!(r.id, id(77));

    let attempt = StockCheckAttempt {
        product_id: id(150),
        physical_count: dec("12"),
        batch: Some("B-1".into()),
        sell_by_date: Some("2026-09-30".parse().unwrap()),
        best_before_date: None,
    };
    let expected = json!({"data":{"attributes":{"product_id":150,"physical_count":12.0,"batch":"B-1","sell_by_date":"2026-09-30"}}});
    post("/api/stock_checks/77/record_attempt")
        .body("recordStockCheckAttempt", expected)
        .record(77, "stock_checks")
        .run(async |c| c.record_stock_check_attempt(id(77), &attempt).await)
        .await;

    let failed = ResponseTemplate::new(200).set_body_json(json!({"status":"failed"}));
    let outcome = post("/api/stock_checks/77/complete")
        .answer(failed)
        .run(async |c| c.complete_stock_check(id(77)).await)
        .await;
    assert_eq!(outcome, StockCheckOutcome::Failed);

    let expected = json!({"stock_check_record_ids":[1,2],"reason_code_id":6});
    post("/api/stock_checks/resolve")
        .body("resolveStockCheckRecords", expected)
        .run(async |c| c.resolve_stock_check_records(&[id(1), id(2)], id(6)).await)
        .await;
}
