//! Record operations against wiremock: exact method, path, query, headers and body.

use crate::common;

use common::{ExactQuery, NoHeader, client};
use netsuite_client::records::{RecordRef, SalesOrder, SalesOrderStatus, Select};
use netsuite_client::{Error, ExternalId, RecordId, RecordKey, RecordType};
use rust_decimal::Decimal;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn get_by_id_with_expand_and_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/rest/record/v1/salesOrder/77"))
        .and(ExactQuery(Some(
            "expandSubResources=true&fields=tranId%2Citem",
        )))
        .and(header("authorization", "Bearer token-0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "77", "tranId": "SO1001", "status": {"id": "B", "refName": "Pending Fulfillment"},
            "item": {"items": [{"line": 3, "quantity": 2, "item": {"id": "501"}}]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let so: SalesOrder = client(&server)
        .get::<SalesOrder>(RecordId::new("77").unwrap())
        .expand_sub_resources(true)
        .fields(&["tranId", "item"])
        .send()
        .await
        .unwrap();
    assert_eq!(so.tran_id.as_deref(), Some("SO1001"));
    assert_eq!(so.status.unwrap().id, SalesOrderStatus::PendingFulfillment);
    assert_eq!(so.item.unwrap().items[0].line, Some(3));
}

#[tokio::test]
async fn get_by_external_id_and_dynamic_type() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/services/rest/record/v1/itemReceipt/eid:CLR-RCPT-acme-9",
        ))
        .and(ExactQuery(None))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "9", "x": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let v: serde_json::Value = client(&server)
        .get_as(
            RecordType::new("itemReceipt").unwrap(),
            RecordKey::parse("eid:CLR-RCPT-acme-9").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(v["x"], 1);
}

#[tokio::test]
async fn field_names_are_validated_before_sending() {
    let server = MockServer::start().await;
    let err = client(&server)
        .get::<SalesOrder>(RecordId::new("1").unwrap())
        .fields(&["tranId&q=x"])
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn create_returns_the_id_from_location_on_204_and_201() {
    for status in [204u16, 201] {
        let server = MockServer::start().await;
        let location = format!("{}/services/rest/record/v1/salesOrder/1234", server.uri());
        Mock::given(method("POST"))
            .and(path("/services/rest/record/v1/salesOrder"))
            .and(ExactQuery(None))
            .and(header("content-type", "application/json"))
            .and(NoHeader("prefer"))
            .and(body_json(json!({
                "externalId": "SO-1",
                "entity": {"id": "12"},
                "item": {"items": [{"item": {"id": "501"}, "quantity": 2.5}]}
            })))
            .respond_with(
                ResponseTemplate::new(status).insert_header("location", location.as_str()),
            )
            .expect(1)
            .mount(&server)
            .await;
        let so = SalesOrder {
            external_id: Some("SO-1".into()),
            entity: Some(RecordRef::id(RecordId::new("12").unwrap())),
            item: Some(
                vec![netsuite_client::records::SalesOrderLine {
                    item: Some(RecordRef::id(RecordId::new("501").unwrap())),
                    quantity: Some(Decimal::new(25, 1)),
                    ..Default::default()
                }]
                .into(),
            ),
            ..Default::default()
        };
        let id = client(&server).create(&so).send().await.unwrap();
        assert_eq!(id.as_str(), "1234");
    }
}

#[tokio::test]
async fn create_without_location_is_an_error_that_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let err = client(&server)
        .create(&SalesOrder::default())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    assert!(err.to_string().contains("Location"));
}

#[tokio::test]
async fn update_patches_with_replace() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/services/rest/record/v1/salesOrder/77"))
        .and(ExactQuery(Some("replace=item")))
        .and(body_json(
            json!({"memo": "held", "item": {"items": [{"line": 1, "quantity": 1}]}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let patch = SalesOrder {
        memo: Some("held".into()),
        item: Some(
            vec![netsuite_client::records::SalesOrderLine {
                line: Some(1),
                quantity: Some(Decimal::ONE),
                ..Default::default()
            }]
            .into(),
        ),
        ..Default::default()
    };
    client(&server)
        .update(RecordId::new("77").unwrap(), &patch)
        .replace(&["item"])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn update_that_appends_lines_is_not_retried_after_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let patch = SalesOrder {
        item: Some(vec![netsuite_client::records::SalesOrderLine::default()].into()),
        ..Default::default()
    };
    let err = client(&server)
        .update(RecordId::new("77").unwrap(), &patch)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn field_only_update_is_retried_after_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let patch = SalesOrder {
        memo: Some("x".into()),
        status: Some(Select::new(SalesOrderStatus::Closed)),
        ..Default::default()
    };
    client(&server)
        .update(RecordId::new("77").unwrap(), &patch)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn upsert_puts_by_external_id_and_retries_on_503() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/services/rest/record/v1/inventoryItem/eid:SKU-1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/services/rest/record/v1/inventoryItem/eid:SKU-1"))
        .and(body_json(
            json!({"itemId": "SKU-1", "displayName": "Widget"}),
        ))
        .respond_with(common::created("inventoryItem/55"))
        .expect(1)
        .mount(&server)
        .await;
    let item = netsuite_client::records::InventoryItem {
        item_id: Some("SKU-1".into()),
        display_name: Some("Widget".into()),
        ..Default::default()
    };
    let id = client(&server)
        .upsert(ExternalId::new("SKU-1").unwrap(), &item)
        .send()
        .await
        .unwrap();
    assert_eq!(id.unwrap().as_str(), "55");
}

#[tokio::test]
async fn delete_by_external_id() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/services/rest/record/v1/salesOrder/eid:SO-9"))
        .and(ExactQuery(None))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .delete::<SalesOrder>(ExternalId::new("SO-9").unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_with_q_encodes_spaces_as_percent_20() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/rest/record/v1/salesOrder"))
        .and(ExactQuery(Some(
            "q=externalId%20IS%20%22RED%7CPO%7C1337%22&limit=10&offset=20",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "links": [], "count": 1, "hasMore": false, "offset": 20, "totalResults": 21,
            "items": [{"links": [{"rel": "self", "href": "https://x/services/rest/record/v1/salesOrder/8"}], "id": "8"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .list::<SalesOrder>()
        .query(r#"externalId IS "RED|PO|1337""#)
        .limit(10)
        .offset(20)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items[0].id.as_str(), "8");
    assert_eq!(page.total_results, 21);
    assert!(!page.has_more);
}

#[tokio::test]
async fn api_errors_keep_status_code_detail_path_and_body() {
    let server = MockServer::start().await;
    let body = json!({
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        "title": "Bad Request", "status": 400,
        "o:errorDetails": [{"detail": "Invalid value for the resource or sub-resource field 'item'.",
                            "o:errorCode": "INVALID_CONTENT", "o:errorPath": "item.items[0].item"}]
    });
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .create(&SalesOrder::default())
        .send()
        .await
        .unwrap_err();
    let api = err.api().expect("api error");
    assert_eq!(api.status, 400);
    assert_eq!(
        api.code(),
        Some(&netsuite_client::ErrorCode::InvalidContent)
    );
    assert_eq!(
        api.details[0].error_path.as_deref(),
        Some("item.items[0].item")
    );
    assert!(api.raw_body.contains("INVALID_CONTENT"));
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn a_401_renews_credentials_once_then_explains() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "status": 401,
            "o:errorDetails": [{"detail": "Invalid login attempt.", "o:errorCode": "INVALID_LOGIN"}]
        })))
        .expect(2)
        .mount(&server)
        .await;
    let auth = std::sync::Arc::new(common::TestAuth::default());
    let c = common::client_with(&server, auth.clone(), 5);
    let err = c
        .get::<SalesOrder>(RecordId::new("1").unwrap())
        .send()
        .await
        .unwrap_err();
    let Error::Unauthorized { scheme, api } = &err else {
        panic!("{err}")
    };
    assert_eq!(*scheme, netsuite_client::auth::AuthScheme::StaticBearer);
    assert_eq!(api.code(), Some(&netsuite_client::ErrorCode::InvalidLogin));
    let text = err.to_string();
    for hint in ["StaticBearer", "realm", "role", "clock", "overload"] {
        assert!(text.contains(hint), "missing {hint:?} in {text}");
    }
    // The second attempt carried the renewed credentials.
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].headers["authorization"], "Bearer token-0");
    assert_eq!(reqs[1].headers["authorization"], "Bearer token-1");
}

#[tokio::test]
async fn plain_http_is_refused_unless_allowed() {
    let err =
        netsuite_client::NetSuiteClient::builder(std::sync::Arc::new(common::TestAuth::default()))
            .base_url("http://127.0.0.1:9/services/rest")
            .build()
            .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("allow_insecure_http"));
}

#[test]
fn the_account_gives_the_rest_base_url() {
    let account: netsuite_client::account::AccountId = "1234567_sb1".parse().unwrap();
    let c =
        netsuite_client::NetSuiteClient::builder(std::sync::Arc::new(common::TestAuth::default()))
            .account(&account)
            .build()
            .unwrap();
    assert_eq!(
        c.base_url().as_str(),
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
    );
    // An override given as the root means the same REST base.
    let c =
        netsuite_client::NetSuiteClient::builder(std::sync::Arc::new(common::TestAuth::default()))
            .base_url("https://proxy.example.com/ns")
            .build()
            .unwrap();
    assert_eq!(
        c.base_url().as_str(),
        "https://proxy.example.com/ns/services/rest"
    );
}

#[tokio::test]
async fn a_missing_record_is_recognisable_for_reconciliation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/rest/record/v1/itemFulfillment/eid:CLR-DESP-acme-7"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "title": "Not Found", "status": 404,
            "o:errorDetails": [{"detail": "The record instance does not exist.", "o:errorCode": "NONEXISTENT_ID"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .get::<netsuite_client::records::ItemFulfillment>(
            ExternalId::new("CLR-DESP-acme-7").unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(!err.is_outcome_unknown());
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

fn record_seeds() -> Vec<serde_json::Value> {
    let detail = json!({"inventoryAssignment": {"items": [
        {"quantity": 1, "receiptInventoryNumber": "LOT-1", "issueInventoryNumber": {"id": "9"},
         "inventoryStatus": {"id": "1", "refName": "Good"}, "binNumber": {"id": "3"},
         "expirationDate": "2027-01-31"}
    ]}});
    let line = json!({"line": 1, "lineUniqueKey": "k1", "item": {"id": "501", "refName": "SKU"},
        "quantity": "2.5", "quantityCommitted": 2, "quantityFulfilled": 0, "rate": 1.25,
        "amount": "3.125", "location": {"id": "1"}, "isClosed": false, "itemReceive": true,
        "orderLine": 1, "inventoryDetail": detail, "links": []});
    vec![
        json!({"id": "77", "externalId": "SO-77", "tranId": "SO1001", "tranDate": "2026-01-31",
            "createdDate": "2026-01-31T10:00:00Z", "lastModifiedDate": "2026-01-31T10:00:00.000Z",
            "subsidiary": {"id": "1"}, "location": {"id": "1"}, "entity": {"id": "5"},
            "status": {"id": "B", "refName": "Pending Fulfillment"},
            "orderStatus": {"id": "B"}, "shipStatus": {"id": "C"}, "shipDate": "2/1/2026",
            "shipComplete": "T", "createdFrom": {"id": "70"}, "memo": "m",
            "item": {"items": [line.clone(), line]},
            "package": {"items": [{"packageTrackingNumber": "1Z", "packageWeight": 1.5}]},
            "links": [{"rel": "self", "href": "https://x/77"}]}),
        json!({"id": "501", "itemId": "SKU-1", "upcCode": "0123", "displayName": "Widget",
            "isInactive": false, "averageCost": "1.50", "quantityOnHand": 5,
            "locations": {"items": [{"location": {"id": "1"}, "quantityOnHand": "4",
                "quantityAvailable": 3, "averageCostMln": 1.5}]},
            "inventoryNumber": "LOT-1", "item": {"id": "501"}, "name": "Good",
            "binNumber": "A-1", "location": {"id": "1"}, "account": {"id": "30"},
            "adjLocation": {"id": "1"}, "inventory": {"items": [{"item": {"id": "501"},
                "adjustQtyBy": "-1", "location": {"id": "1"}}]}}),
    ]
}

fn decode_every_record(bytes: &[u8]) {
    use netsuite_client::records::*;
    fn one<T: serde::de::DeserializeOwned + serde::Serialize>(bytes: &[u8]) {
        if let Ok(record) = serde_json::from_slice::<T>(bytes) {
            // What was read must also write back (without panicking).
            let _ = serde_json::to_vec(&record);
        }
    }
    one::<SalesOrder>(bytes);
    one::<ItemFulfillment>(bytes);
    one::<ItemReceipt>(bytes);
    one::<PurchaseOrder>(bytes);
    one::<ReturnAuthorization>(bytes);
    one::<TransferOrder>(bytes);
    one::<InventoryAdjustment>(bytes);
    one::<InventoryTransfer>(bytes);
    one::<InventoryItem>(bytes);
    one::<LotNumberedInventoryItem>(bytes);
    one::<SerializedInventoryItem>(bytes);
    one::<InventoryNumber>(bytes);
    one::<InventoryStatus>(bytes);
    one::<Location>(bytes);
    one::<Bin>(bytes);
}

fn error_bodies() -> Vec<serde_json::Value> {
    vec![json!({
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        "title": "Bad Request", "status": 400,
        "o:errorDetails": [{"detail": "Invalid value for item.", "o:errorCode": "INVALID_CONTENT",
            "o:errorPath": "item.items[0].item", "o:errorQueryParam": "q",
            "o:errorHeader": "prefer", "o:errorUrl": "/record/v1/salesOrder"}]
    })]
}

proptest::proptest! {
    #[test]
    fn fuzz_numeric_and_date_text_never_panics(
        text in "[ +-]{0,2}[0-9]{0,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{0,25})?",
        date in "[0-9]{0,12}[/-][0-9]{0,12}[/-][0-9]{0,12}([ T][0-9:.Z+-]{0,20})?",
    ) {
        let _ = netsuite_client::decimal::parse_decimal_str(&text);
        let _ = netsuite_client::suiteql::lenient::parse_date(&date);
        let as_text = json!({"tranDate": date, "item": {"items": [{"quantity": text, "rate": text}]}});
        decode_every_record(as_text.to_string().as_bytes());
        let as_number = format!(r#"{{"item":{{"items":[{{"quantity":{text},"amount":{text}}}]}}}}"#);
        decode_every_record(as_number.as_bytes());
    }

    #[test]
    fn fuzz_records_never_panic(bytes in fuzz_inputs::body(record_seeds())) {
        decode_every_record(&bytes);
    }

    #[test]
    fn fuzz_error_bodies_never_panic(bytes in fuzz_inputs::body(error_bodies()), status in 100u16..600) {
        let e = netsuite_client::ApiError::from_response(status, &bytes);
        let _ = (e.to_string(), e.code(), e.detail());
        proptest::prop_assert!(e.raw_body.len() <= 3 * 64 * 1024);
    }
}

#[test]
fn fuzz_error_body_through_the_client_is_a_typed_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        let shared = body.clone();
        Mock::given(method("GET"))
            .respond_with(move |_: &wiremock::Request| {
                ResponseTemplate::new(400).set_body_bytes(shared.lock().unwrap().clone())
            })
            .mount(&server)
            .await;
        server
    });
    let client = client(&server);
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(&fuzz_inputs::body(error_bodies()), |bytes| {
            *body.lock().unwrap() = bytes;
            let r = rt.block_on(
                client
                    .get::<SalesOrder>(RecordId::new("77").unwrap())
                    .send(),
            );
            proptest::prop_assert!(matches!(r, Err(Error::Api(_))), "{r:?}");
            Ok(())
        })
        .unwrap();
}

/// Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
/// values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
/// nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
use crate::fuzz_inputs;
