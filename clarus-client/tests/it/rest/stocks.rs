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
    let empty_object = || ResponseTemplate::new(200).set_body_json(json!({}));

    post("/api/stocks/hold")
        .body("holdStocks", expected.clone())
        .answer(empty_object())
        .run(async |c| c.hold_stocks(&hold).await)
        .await;
    post("/api/stocks/offhold")
        .body("offholdStocks", expected)
        .answer(empty_object())
        .run(async |c| c.release_stocks(&hold).await)
        .await;

    let no_reason = StockHold {
        reason_code_id: None,
        ..hold
    };
    let expected = json!({"ids":[48211,48212],"description":"Damaged in transit"});
    post("/api/stocks/hold")
        .body("holdStocks", expected)
        .run(async |c| c.hold_stocks(&no_reason).await)
        .await;
}

#[tokio::test]
async fn quantity_actions() {
    let cases = [
        (
            "negative_adjustment",
            "negativeAdjustmentStock",
            json!({"quantity":1.5,"reason_code_id":8}),
        ),
        (
            "move",
            "moveStock",
            json!({"quantity":4.0,"to_location_id":318}),
        ),
        (
            "transfer",
            "transferStock",
            json!({"quantity":4.0,"to_account_id":9}),
        ),
    ];
    for (action, op_id, attributes) in cases {
        let expected = json!({"data":{"type":"stocks","attributes":attributes}});
        let record = post(format!("/api/stocks/48211/{action}"))
            .body(op_id, expected)
            .record(48211, "stocks")
            .run(async |c| match action {
                "negative_adjustment" => {
                    c.negative_adjustment(id(48211), dec("1.5"), Some(id(8)))
                        .await
                }
                "move" => c.move_stock(id(48211), dec("4"), id(318), None).await,
                _ => c.transfer_stock(id(48211), dec("4"), id(9), None).await,
            })
            .await;
        assert_eq!(record.unwrap().id, id(48211), "{action}");
    }
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
