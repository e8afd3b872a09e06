//! Stock holds, releases and quantity actions.

use super::*;

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

    let server = crate::support::server().await;
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

    let server = crate::support::server().await;
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

    let server = crate::support::server().await;
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

    let server = crate::support::server().await;
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
