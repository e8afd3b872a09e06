//! Error answers: every field kept, not-found, server errors, undecodable bodies, redirects;
//! and fuzzing of error answers (see docs/decisions/fuzzing.md).

use super::goods_out::goods_out;
use super::products::product;
use super::*;

#[tokio::test]
async fn validation_errors_keep_every_field() {
    let server = server().await;
    let raw = r#"{"errors":[{"code":12,"symbol":"product_code_exists","details":"Code has already been taken","source":"Products::Create","context":{"code":"SKU-001"}}]}"#;
    mount_answer(
        &server,
        "POST",
        "/api/products",
        ResponseTemplate::new(422).set_body_raw(raw, "application/json"),
    )
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
    mount_answer(
        &server,
        "POST",
        "/api/goods_outs/9/cancel",
        ResponseTemplate::new(404).set_body_json(
            json!({"errors":[{"code":1,"symbol":"not_found","details":"Goods out not found"}]}),
        ),
    )
    .await;
    mount_answer(
        &server,
        "POST",
        "/api/goods_outs",
        ResponseTemplate::new(503).set_body_string("upstream down"),
    )
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
    mount_answer(
        &server,
        "POST",
        "/api/shipments/1/submit",
        ResponseTemplate::new(200).set_body_string("not json"),
    )
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

// ---------------------------------------------------------------- fuzzing

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
    let (rt, server, answer) = fuzzed_endpoint(server(), "/api/goods_outs/9/cancel");
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
