//! Transforms (exact bodies), asynchronous requests with idempotency keys, job polling, batches.

use crate::common;

use common::{ExactQuery, NoHeader, client};
use netsuite_client::jobs::{AsyncJob, BatchOp, PollPolicy};
use netsuite_client::records::{InventoryItem, ShipStatus};
use netsuite_client::transform::{
    Assignment, FulfillmentDraft, ReceiptDraft, ReceiptSource, TrackedPackage, TransformLine,
};
use netsuite_client::{Error, IdempotencyKey, RecordId, RecordKey};
use rust_decimal::Decimal;
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn id(s: &str) -> RecordId {
    RecordId::new(s).unwrap()
}

#[tokio::test]
async fn sales_order_to_fulfilment_ships_chosen_lines_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/rest/record/v1/salesOrder/eid:SO-1"))
        .and(ExactQuery(Some("expandSubResources=true&fields=item")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "item": {"items": [{"line": 1}, {"line": 4}, {"line": 7}, {"line": 9, "isClosed": true}]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/rest/record/v1/salesOrder/eid:SO-1/!transform/itemFulfillment"))
        .and(ExactQuery(None))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "externalId": "CLR-DESP-acme-42",
            "shipStatus": {"id": "C"},
            "item": {"items": [
                {"orderLine": 4, "itemReceive": true, "quantity": 3, "location": {"id": "6"},
                 "inventoryDetail": {"inventoryAssignment": {"items": [
                     {"issueInventoryNumber": {"id": "801"}, "binNumber": {"id": "20"}, "quantity": 2},
                     {"issueInventoryNumber": {"id": "802"}, "quantity": 1}
                 ]}}},
                {"orderLine": 1, "itemReceive": false},
                {"orderLine": 7, "itemReceive": false}
            ]},
            "package": {"items": [
                {"packageTrackingNumber": "1Z999", "packageWeight": 1.25, "packageDescr": "UPS Ground"}
            ]}
        })))
        .respond_with(common::created("itemFulfillment/9001"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let so = RecordKey::parse("eid:SO-1").unwrap();
    let lines = c
        .open_order_lines(
            netsuite_client::RecordType::new("salesOrder").unwrap(),
            so.clone(),
        )
        .await
        .unwrap();
    assert_eq!(lines, vec![1, 4, 7]);
    let draft = FulfillmentDraft::new(ShipStatus::Shipped)
        .external_id("CLR-DESP-acme-42")
        .line(
            TransformLine::new(4, Decimal::from(3))
                .location(id("6"))
                .assign(
                    Assignment::quantity(Decimal::from(2))
                        .number("801")
                        .bin(id("20")),
                )
                .assign(Assignment::quantity(Decimal::ONE).number("802")),
        )
        .package(TrackedPackage {
            tracking_number: "1Z999".into(),
            weight: Some(Decimal::new(125, 2)),
            description: Some("UPS Ground".into()),
        });
    let new_id = c
        .fulfill_sales_order(so, &draft, &lines)
        .send()
        .await
        .unwrap();
    assert_eq!(new_id.as_str(), "9001");
}

#[tokio::test]
async fn line_transforms_send_only_their_lines_with_replace_and_strict_names() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/services/rest/record/v1/returnAuthorization/31/!transform/itemReceipt",
        ))
        .and(ExactQuery(Some("replace=item")))
        .and(header("x-netsuite-propertynamevalidation", "Error"))
        .and(body_json(json!({
            "externalId": "CLR-GIN-acme-5",
            "item": {"items": [
                {"orderLine": 4, "itemReceive": true, "quantity": 3, "location": {"id": "6"},
                 "inventoryDetail": {"inventoryAssignment": {"items": [
                     {"inventoryStatus": {"id": "1"}, "quantity": 2},
                     {"inventoryStatus": {"id": "2"}, "quantity": 1}
                 ]}}}
            ]}
        })))
        .respond_with(common::created("itemReceipt/78"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/services/rest/record/v1/salesOrder/12/!transform/itemFulfillment",
        ))
        .and(ExactQuery(Some("replace=item")))
        .and(header("x-netsuite-propertynamevalidation", "Error"))
        .and(body_json(json!({
            "externalId": "CLR-DESP-acme-9",
            "shipStatus": {"id": "C"},
            "item": {"items": [{"orderLine": 7, "itemReceive": true, "quantity": 1}]}
        })))
        .respond_with(common::created("itemFulfillment/79"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let receipt = ReceiptDraft::new().external_id("CLR-GIN-acme-5").line(
        TransformLine::new(4, Decimal::from(3))
            .location(id("6"))
            .assign(Assignment::quantity(Decimal::from(2)).status(id("1")))
            .assign(Assignment::quantity(Decimal::ONE).status(id("2"))),
    );
    let rid = c
        .receive_lines(
            ReceiptSource::ReturnAuthorization(RecordKey::Id(id("31"))),
            &receipt,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(rid.as_str(), "78");
    let fulfilment = FulfillmentDraft::new(ShipStatus::Shipped)
        .external_id("CLR-DESP-acme-9")
        .line(TransformLine::new(7, Decimal::ONE));
    let fid = c
        .fulfill_lines(RecordKey::Id(id("12")), &fulfilment)
        .send()
        .await
        .unwrap();
    assert_eq!(fid.as_str(), "79");

    // Each order line once: parts of one line are assignments, not lines.
    let twice = ReceiptDraft::new()
        .line(TransformLine::new(4, Decimal::ONE))
        .line(TransformLine::new(4, Decimal::ONE));
    assert!(
        twice
            .to_lines_body()
            .unwrap_err()
            .to_string()
            .contains("appears twice")
    );
}

#[tokio::test]
async fn drafts_refuse_inconsistent_lines_before_sending() {
    let lines = [1, 4];
    let unknown =
        FulfillmentDraft::new(ShipStatus::Packed).line(TransformLine::new(2, Decimal::ONE));
    assert!(unknown.to_body(&lines).is_err());
    let short = FulfillmentDraft::new(ShipStatus::Packed)
        .line(TransformLine::new(1, Decimal::from(3)).assign(Assignment::quantity(Decimal::ONE)));
    assert!(
        short
            .to_body(&lines)
            .unwrap_err()
            .to_string()
            .contains("add up")
    );
    let zero = ReceiptDraft::new().line(TransformLine::new(1, Decimal::ZERO));
    assert!(zero.to_body(&lines).is_err());
    let text_lot_outbound = FulfillmentDraft::new(ShipStatus::Shipped).line(
        TransformLine::new(1, Decimal::ONE)
            .assign(Assignment::quantity(Decimal::ONE).number("LOT-A")),
    );
    assert!(text_lot_outbound.to_body(&lines).is_err());
}

#[tokio::test]
async fn return_authorisation_to_receipt_with_status_and_new_lot() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/rest/record/v1/returnAuthorization/31/!transform/itemReceipt"))
        .and(body_json(json!({
            "externalId": "CLR-RET-acme-5",
            "item": {"items": [
                {"orderLine": 2, "itemReceive": true, "quantity": 1,
                 "inventoryDetail": {"inventoryAssignment": {"items": [
                     {"receiptInventoryNumber": "LOT-2026-01", "inventoryStatus": {"id": "3"}, "quantity": 1}
                 ]}}},
                {"orderLine": 5, "itemReceive": false}
            ]}
        })))
        .respond_with(ResponseTemplate::new(201).insert_header(
            "location",
            "https://x/services/rest/record/v1/itemReceipt/77",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let draft = ReceiptDraft::new().external_id("CLR-RET-acme-5").line(
        TransformLine::new(2, Decimal::ONE).assign(
            Assignment::quantity(Decimal::ONE)
                .number("LOT-2026-01")
                .status(id("3")),
        ),
    );
    let rid = client(&server)
        .receive(
            ReceiptSource::ReturnAuthorization(RecordKey::Id(id("31"))),
            &draft,
            &[2, 5],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(rid.as_str(), "77");
}

#[tokio::test]
async fn purchase_order_receipt_500_is_an_unknown_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/services/rest/record/v1/purchaseOrder/8/!transform/itemReceipt",
        ))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let draft = ReceiptDraft::new().line(TransformLine::new(1, Decimal::from(4)));
    let err = client(&server)
        .receive(
            ReceiptSource::PurchaseOrder(RecordKey::Id(id("8"))),
            &draft,
            &[1],
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn async_transform_sends_the_key_and_is_retried_on_500() {
    let server = MockServer::start().await;
    let key = IdempotencyKey::derive("CLR-DESP-acme-43");
    Mock::given(method("POST"))
        .and(path(
            "/services/rest/record/v1/salesOrder/5/!transform/itemFulfillment",
        ))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/services/rest/record/v1/salesOrder/5/!transform/itemFulfillment",
        ))
        .and(header("prefer", "respond-async"))
        .and(header("x-netsuite-idempotency-key", key.as_str()))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("preference-applied", "respond-async")
                .insert_header("location", "/services/rest/async/v1/job/123456"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let draft =
        FulfillmentDraft::new(ShipStatus::Shipped).line(TransformLine::new(1, Decimal::ONE));
    let job = client(&server)
        .fulfill_sales_order(RecordKey::Id(id("5")), &draft, &[1])
        .send_async(&key)
        .await
        .unwrap();
    assert_eq!(
        job,
        AsyncJob {
            id: "123456".into()
        }
    );
}

#[tokio::test]
async fn a_reused_idempotency_key_resolves_to_the_original_job() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("location", "https://x/services/rest/async/v1/job/777")
                .set_body_json(json!({"title": "Conflict", "status": 400,
                    "o:errorDetails": [{"detail": "duplicate key", "o:errorCode": "IDEMPOTENCY_ERROR"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let job = client(&server)
        .create(&InventoryItem::default())
        .send_async(&IdempotencyKey::derive("x"))
        .await
        .unwrap();
    assert_eq!(job.id, "777");
}

#[tokio::test]
async fn job_polling_reads_every_task_result() {
    let server = MockServer::start().await;
    let job_path = "/services/rest/async/v1/job/42";
    Mock::given(method("GET"))
        .and(path(job_path))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "42", "completed": false, "progress": "pending"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(job_path))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "42", "completed": true, "progress": "succeeded"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{job_path}/task")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            {"links": [{"rel": "self", "href": "https://x/services/rest/async/v1/job/42/task/1"}]},
            {"links": [{"rel": "self", "href": "https://x/services/rest/async/v1/job/42/task/2"}]}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    for (task, progress) in [("1", "succeeded"), ("2", "failed")] {
        Mock::given(method("GET"))
            .and(path(format!("{job_path}/task/{task}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"completed": true, "progress": progress})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{job_path}/task/1/result")))
        .respond_with(common::created("itemFulfillment/555"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{job_path}/task/2/result")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"status": 400,
            "o:errorDetails": [{"detail": "You cannot fulfil more than ordered.", "o:errorCode": "USER_ERROR"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let tasks = client(&server)
        .wait_for_job(
            &AsyncJob { id: "42".into() },
            PollPolicy {
                initial: Duration::from_millis(1),
                max_interval: Duration::from_millis(2),
                timeout: Duration::from_secs(5),
            },
        )
        .await
        .unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].progress, "succeeded");
    assert_eq!(
        tasks[0]
            .result
            .as_ref()
            .unwrap()
            .record_id
            .as_ref()
            .unwrap()
            .as_str(),
        "555"
    );
    assert_eq!(tasks[1].progress, "failed");
    let api = tasks[1].result.as_ref().unwrap_err();
    assert_eq!(api.code(), Some(&netsuite_client::ErrorCode::UserError));
}

#[tokio::test]
async fn batch_writes_chunk_by_100_with_derived_keys() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/services/rest/record/v1/inventoryItem"))
        .and(header("prefer", "respond-async"))
        .and(header(
            "content-type",
            "application/vnd.oracle.resource+json; type=collection",
        ))
        .respond_with(
            ResponseTemplate::new(202).insert_header("location", "/services/rest/async/v1/job/9"),
        )
        .expect(3)
        .mount(&server)
        .await;
    let items: Vec<InventoryItem> = (0..250)
        .map(|i| InventoryItem {
            external_id: Some(format!("SKU-{i}")),
            item_id: Some(format!("SKU-{i}")),
            ..Default::default()
        })
        .collect();
    let jobs = client(&server)
        .batch(BatchOp::Upsert, &items, "item-sync-2026-01-31")
        .await
        .unwrap();
    assert_eq!(jobs.len(), 3);
    let reqs = server.received_requests().await.unwrap();
    let sizes: Vec<usize> = reqs
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            v["items"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    let keys: Vec<String> = reqs
        .iter()
        .map(|r| {
            r.headers["x-netsuite-idempotency-key"]
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        keys[0],
        IdempotencyKey::derive("item-sync-2026-01-31#0").as_str()
    );
    assert_ne!(keys[0], keys[1]);
    let first: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        first["items"][0],
        json!({"externalId": "SKU-0", "itemId": "SKU-0"})
    );
}

#[tokio::test]
async fn sync_create_sends_no_async_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(NoHeader("prefer"))
        .and(NoHeader("x-netsuite-idempotency-key"))
        .respond_with(common::created("inventoryItem/3"))
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server)
        .create(&InventoryItem::default())
        .send()
        .await;
    assert!(!matches!(r, Err(Error::Api(_))));
}

mod quarantine {
    use super::*;
    use netsuite_client::quarantine::{
        Direction, Quarantine, QuarantineConfig, QuarantineMethod, StockMove,
    };

    fn config() -> QuarantineConfig {
        QuarantineConfig {
            sellable_status: Some(id("1")),
            quarantine_status: Some(id("3")),
            quarantine_location: Some(id("99")),
        }
    }

    fn stock_move() -> StockMove {
        StockMove {
            item: id("501"),
            location: id("6"),
            quantity: Decimal::from(2),
            numbers: vec![(id("801"), Decimal::from(2))],
            external_id: Some("CLR-HOLD-acme-1".into()),
            memo: Some("damaged".into()),
        }
    }

    async fn catalog(server: &MockServer, names: &[&str]) {
        let items: Vec<_> = names
            .iter()
            .map(|n| json!({"name": n, "links": []}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/services/rest/record/v1/metadata-catalog"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": items})))
            .expect(1)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn status_change_when_the_catalog_lists_it() {
        let server = MockServer::start().await;
        catalog(&server, &["salesOrder", "inventoryStatusChange"]).await;
        Mock::given(method("POST"))
            .and(path("/services/rest/record/v1/inventoryStatusChange"))
            .and(body_json(json!({
                "externalId": "CLR-HOLD-acme-1", "location": {"id": "6"},
                "previousStatus": {"id": "1"}, "revisedStatus": {"id": "3"}, "memo": "damaged",
                "inventory": {"items": [{"item": {"id": "501"}, "quantity": 2,
                    "inventoryDetail": {"inventoryAssignment": {"items": [
                        {"issueInventoryNumber": {"id": "801"}, "quantity": 2}]}}}]}
            })))
            .respond_with(common::created("inventoryStatusChange/12"))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let q = Quarantine::detect(&c, &config()).await.unwrap();
        assert!(matches!(q.method(), QuarantineMethod::StatusChange { .. }));
        let tx = q.apply(&c, Direction::Hold, &stock_move()).await.unwrap();
        assert_eq!(tx.as_str(), "12");
    }

    #[tokio::test]
    async fn transfer_to_the_quarantine_location_otherwise() {
        let server = MockServer::start().await;
        catalog(&server, &["salesOrder", "inventoryTransfer"]).await;
        Mock::given(method("POST"))
            .and(path("/services/rest/record/v1/inventoryTransfer"))
            .and(body_json(json!({
                "externalId": "CLR-HOLD-acme-1", "location": {"id": "99"},
                "transferLocation": {"id": "6"}, "memo": "damaged",
                "inventory": {"items": [{"item": {"id": "501"}, "adjustQtyBy": 2,
                    "inventoryDetail": {"inventoryAssignment": {"items": [
                        {"issueInventoryNumber": {"id": "801"}, "quantity": 2}]}}}]}
            })))
            .respond_with(common::created("inventoryTransfer/13"))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let q = Quarantine::detect(&c, &config()).await.unwrap();
        assert_eq!(
            q.method(),
            &QuarantineMethod::LocationTransfer {
                quarantine_location: id("99")
            }
        );
        // A release moves from the quarantine location back to the stock's location.
        let tx = q
            .apply(&c, Direction::Release, &stock_move())
            .await
            .unwrap();
        assert_eq!(tx.as_str(), "13");
    }

    #[tokio::test]
    async fn neither_method_available_is_a_configuration_error() {
        let server = MockServer::start().await;
        catalog(&server, &["salesOrder"]).await;
        let cfg = QuarantineConfig {
            quarantine_location: None,
            ..config()
        };
        let err = Quarantine::detect(&client(&server), &cfg)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

/// Job polling against a server whose every answer (job status, task list, task state, task
/// result and its `Location`) is fuzzed: the outcome is tasks or a typed error, never a panic.
#[test]
fn fuzz_job_answers_never_panic() {
    #[derive(Default)]
    struct Answers {
        status: Vec<u8>,
        tasks: Vec<u8>,
        task: Vec<u8>,
        result: Vec<u8>,
        location: String,
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = std::sync::Arc::new(std::sync::Mutex::new(Answers::default()));
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        let shared = answers.clone();
        Mock::given(method("GET"))
            .respond_with(move |req: &wiremock::Request| {
                let a = shared.lock().unwrap();
                let p = req.url.path();
                if p.ends_with("/job/42") {
                    ResponseTemplate::new(200).set_body_bytes(a.status.clone())
                } else if p.ends_with("/task") {
                    ResponseTemplate::new(200).set_body_bytes(a.tasks.clone())
                } else if p.ends_with("/result") {
                    ResponseTemplate::new(200)
                        .insert_header("location", a.location.as_str())
                        .set_body_bytes(a.result.clone())
                } else {
                    ResponseTemplate::new(200).set_body_bytes(a.task.clone())
                }
            })
            .mount(&server)
            .await;
        server
    });
    let client = client(&server);
    let status = vec![json!({"id": "42", "completed": true, "progress": "succeeded"})];
    let tasks = vec![json!({"items": [
        {"id": "1", "links": []},
        {"links": [{"rel": "self", "href": "https://x/services/rest/async/v1/job/42/task/2"}]}
    ]})];
    let task = vec![json!({"completed": true, "progress": "failed"})];
    let result = vec![json!({"id": "555", "links": []})];
    let strategy = (
        fuzz_inputs::body(status),
        fuzz_inputs::body(tasks),
        fuzz_inputs::body(task),
        fuzz_inputs::body(result),
        "[!-~]{0,60}",
    );
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(&strategy, |(status, tasks, task, result, location)| {
            *answers.lock().unwrap() = Answers {
                status,
                tasks,
                task,
                result,
                location,
            };
            let _ = rt.block_on(client.wait_for_job(
                &AsyncJob { id: "42".into() },
                PollPolicy {
                    initial: Duration::from_millis(1),
                    max_interval: Duration::from_millis(1),
                    timeout: Duration::from_millis(5),
                },
            ));
            Ok(())
        })
        .unwrap();
}

/// Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
/// values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
/// nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
use crate::fuzz_inputs;
