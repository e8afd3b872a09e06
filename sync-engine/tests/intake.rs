//! Webhook intake over real HTTP, the liveness and readiness probes, and the processor turning
//! stored deliveries into plans.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use clarus_client::Secret;
use clarus_client::webhook::WebhookSecret;
use jiff::{SignedDuration, Timestamp};
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::health::{Connection, Health, HealthConfig};
use sync_engine::intake::{IntakeConfig, router, router_with_health};
use sync_engine::processor::{DecodeError, DeliveryDecoder, Processor};
use sync_engine::service::JobError;
use sync_engine::store::{Delivery, NewDelivery, SqliteStore, Store};

fn intake_config() -> IntakeConfig {
    IntakeConfig {
        secret: WebhookSecret::new(Secret::new("a-long-shared-secret-0123456789")),
        max_body_bytes: 1024,
    }
}

async fn serve(store: Arc<dyn Store>) -> String {
    listen(router(store, intake_config())).await
}

async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn deliveries_are_stored_only_with_the_right_secret_and_size() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let base = serve(store.clone()).await;
    let http = reqwest::Client::new();
    let url = format!("{base}/webhooks/clarus/goods_out/completed");

    let no_token = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong = http
        .post(format!("{url}?token=nope"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let too_big = http
        .post(format!("{url}?token=a-long-shared-secret-0123456789"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert!(
        store
            .unprocessed_deliveries(Timestamp::now(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let ok = http
        .post(format!("{url}?token=a-long-shared-secret-0123456789"))
        .header("X-ClarusWMS-Subdomain", "acme")
        .header("Authorization", "Bearer must-not-be-kept")
        .body(r#"{"data":{"id":9}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
    let stored = store
        .unprocessed_deliveries(Timestamp::now(), 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let d = &stored[0].delivery;
    assert_eq!(d.body, br#"{"data":{"id":9}}"#);
    assert_eq!(d.headers["resource_name"], "goods_out");
    assert_eq!(d.headers["event"], "completed");
    assert_eq!(d.headers["x-claruswms-subdomain"], "acme");
    assert!(d.headers.get("authorization").is_none());
}

/// Decodes `{"sku": .., "id": ..}` bodies into item events; `bad` bodies are invalid.
struct ItemDecoder;

#[async_trait]
impl DeliveryDecoder for ItemDecoder {
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError> {
        let body: serde_json::Value = serde_json::from_slice(&delivery.delivery.body)
            .map_err(|e| DecodeError::Invalid(e.to_string()))?;
        let (Some(id), Some(sku)) = (body["id"].as_str(), body["sku"].as_str()) else {
            return Err(DecodeError::Invalid("id and sku are required".into()));
        };
        Ok(vec![Event {
            source: SourceId {
                system: System::NetSuite,
                resource: "inventoryItem".into(),
                id: id.into(),
                event: "updated".into(),
                revision: Revision::Sequence(1),
            },
            occurred_at: Timestamp::now(),
            payload: Payload::Item(Item {
                netsuite_id: id.into(),
                sku: sku.into(),
                barcode: None,
                description: sku.into(),
                tracking: Tracking::None,
                inactive: false,
            }),
        }])
    }
}

#[tokio::test]
async fn the_processor_plans_each_delivery_once_and_keeps_bad_ones_with_an_exception() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let base = serve(store.clone()).await;
    let http = reqwest::Client::new();
    let url =
        format!("{base}/webhooks/clarus/stock/received?token=a-long-shared-secret-0123456789");
    for body in [
        r#"{"id":"77","sku":"MUG"}"#,
        r#"{"id":"77","sku":"MUG"}"#,
        "not json",
        r#"{"id":"78","sku":"CUP"}"#,
    ] {
        let status = http.post(&url).body(body).send().await.unwrap().status();
        assert_eq!(status, 202);
    }

    let mappings = Mappings::new(MappingTables::default()).unwrap();
    let engine = Arc::new(Engine::open(store.clone(), mappings).await.unwrap());
    let processor = Processor::new(store.clone(), engine, Arc::new(ItemDecoder));
    let stats = processor.process_due(100).await.unwrap();
    assert_eq!(stats.deliveries, 4);
    assert_eq!(stats.planned, 2);
    assert_eq!(stats.duplicates, 1);
    assert_eq!(stats.invalid, 1);
    assert_eq!(store.unprocessed_count().await.unwrap(), 0);

    let products: Vec<String> = store
        .actions()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action.kind)
        .collect();
    assert_eq!(products, ["create_product", "create_product"]);
    let exceptions = store.exceptions().await.unwrap();
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].exception.kind, "invalid-delivery");
    assert_eq!(
        exceptions[0].exception.runbook,
        "operations.md#invalid-delivery"
    );
}

#[tokio::test]
async fn livez_answers_while_serving_and_readyz_turns_503_when_a_job_is_stale_or_failing() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let clock = Arc::new(Mutex::new(Timestamp::from_second(1_700_000_000).unwrap()));
    let read = clock.clone();
    let health = Health::with_clock(HealthConfig::default(), move || *read.lock().unwrap());
    health.register(
        "clarus-sweep",
        Duration::from_secs(60),
        &[Connection::Clarus],
    );
    let base = listen(router_with_health(
        store.clone(),
        intake_config(),
        health.clone(),
    ))
    .await;
    let http = reqwest::Client::new();

    for probe in ["livez", "health"] {
        let live = http.get(format!("{base}/{probe}")).send().await.unwrap();
        assert_eq!(live.status(), 200, "/{probe}");
        assert_eq!(live.text().await.unwrap(), "ok");
    }
    // Without the health handle there is no readiness to report.
    let plain = serve(store.clone()).await;
    let none = http.get(format!("{plain}/readyz")).send().await.unwrap();
    assert_eq!(none.status(), 404);

    let readyz = || async {
        let answer = http.get(format!("{base}/readyz")).send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json::<serde_json::Value>().await.unwrap())
    };
    health
        .record(store.as_ref(), "clarus-sweep", &Ok(3))
        .await
        .unwrap();
    let (status, body) = readyz().await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["ready"], true);
    let job = &body["jobs"][0];
    assert_eq!(job["name"], "clarus-sweep");
    assert_eq!(job["condition"], "ok");
    assert_eq!(job["connections"], serde_json::json!(["clarus"]));
    assert_eq!(job["interval_secs"], 60);
    assert_eq!(job["stale_after_secs"], 300);
    assert_eq!(job["last_success"], "2023-11-14T22:13:20Z");
    assert_eq!(job["consecutive_failures"], 0);
    assert!(job["last_failure"].is_null());
    assert_eq!(body["connections"][0]["name"], "clarus");
    assert_eq!(body["connections"][0]["condition"], "ok");

    // Five minutes without a success: stale, and the load balancer is told so.
    *clock.lock().unwrap() += SignedDuration::from_secs(301);
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["jobs"][0]["condition"], "stale");
    assert_eq!(body["connections"][0]["condition"], "stale");

    // A refused GraphQL read fails the job (and the connection) at once.
    let refused = Err(
        JobError::persistent("Field 'x' doesn't exist on type 'GoodsOut'").on(Connection::Clarus),
    );
    health
        .record(store.as_ref(), "clarus-sweep", &refused)
        .await
        .unwrap();
    let (status, body) = readyz().await;
    assert_eq!(status, 503);
    let job = &body["jobs"][0];
    assert_eq!(job["condition"], "failing");
    assert_eq!(job["consecutive_failures"], 1);
    assert_eq!(job["last_failure"]["persistent"], true);
    assert_eq!(
        job["last_failure"]["message"],
        "Field 'x' doesn't exist on type 'GoodsOut'"
    );
    assert_eq!(body["connections"][0]["condition"], "failing");
    let open = store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].exception.key, "EX-INTEGRATION-JOB-clarus-sweep");

    health
        .record(store.as_ref(), "clarus-sweep", &Ok(0))
        .await
        .unwrap();
    let (status, body) = readyz().await;
    assert_eq!(status, 200, "{body:#}");
    assert!(store.open_exceptions().await.unwrap().is_empty());
}

/// [`ItemDecoder`] behind a switch: while `reachable` is off every delivery fails for a passing
/// reason, as when Clarus cannot be reached.
struct Flaky {
    reachable: AtomicBool,
}

#[async_trait]
impl DeliveryDecoder for Flaky {
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError> {
        if !self.reachable.load(Ordering::SeqCst) {
            return Err(DecodeError::Retryable(
                "reading goods out 9 back from Clarus: HTTP 503".into(),
            ));
        }
        ItemDecoder.decode(delivery).await
    }
}

#[tokio::test]
async fn a_delivery_deferred_past_the_bound_raises_one_exception_until_it_is_processed() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let record = |received_at: Timestamp, id: &str| NewDelivery {
        source: "clarus-webhook".into(),
        received_at,
        headers: serde_json::json!({"resource_name": "goods_out", "event": "completed"}),
        body: format!(r#"{{"data":{{"id":"{id}"}},"id":"{id}","sku":"MUG"}}"#).into_bytes(),
    };
    let old = store
        .record_delivery(record(
            Timestamp::now() - SignedDuration::from_secs(2 * 3600),
            "9",
        ))
        .await
        .unwrap();
    let fresh = store
        .record_delivery(record(Timestamp::now(), "10"))
        .await
        .unwrap();

    let mappings = Mappings::new(MappingTables::default()).unwrap();
    let engine = Arc::new(Engine::open(store.clone(), mappings).await.unwrap());
    let decoder = Arc::new(Flaky {
        reachable: AtomicBool::new(false),
    });
    let mut processor = Processor::new(store.clone(), engine, decoder.clone());
    assert_eq!(processor.stall_after, Duration::from_secs(30 * 60));

    // Deferred twice: one exception, for the old delivery only.
    for _ in 0..2 {
        let stats = processor.process_due(10).await.unwrap();
        assert_eq!(stats.deferred, 2);
        store
            .wake_deferred_deliveries(Timestamp::now())
            .await
            .unwrap();
    }
    let open = store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1, "{open:#?}");
    let e = &open[0].exception;
    assert_eq!(e.key, format!("EX-INTEGRATION-DELIVERY-{old}"));
    assert_eq!(e.kind, "delivery-stalled");
    assert_eq!(e.owner, "integration");
    assert_eq!(e.runbook, "operations.md#delivery-stalled");
    assert!(e.message.contains("goods_out/completed"), "{}", e.message);
    assert!(e.message.contains("record 9"), "{}", e.message);
    assert!(e.message.contains("HTTP 503"), "{}", e.message);
    assert_eq!(store.exception_audit(&e.key).await.unwrap().len(), 1);

    // A shorter bound (the demo's) catches the fresh one too.
    processor.stall_after = Duration::ZERO;
    processor.process_due(10).await.unwrap();
    store
        .wake_deferred_deliveries(Timestamp::now())
        .await
        .unwrap();
    assert_eq!(store.open_exceptions().await.unwrap().len(), 2);
    processor.stall_after = Duration::from_secs(30 * 60);

    // Clarus is back: both are processed, and the stalled one is resolved.
    decoder.reachable.store(true, Ordering::SeqCst);
    let stats = processor.process_due(10).await.unwrap();
    assert_eq!(stats.deliveries, 2);
    assert_eq!(store.unprocessed_count().await.unwrap(), 0);
    let resolved = store
        .exception(&format!("EX-INTEGRATION-DELIVERY-{old}"))
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.resolved_at.is_some());
    assert_eq!(
        resolved.resolution_note.as_deref(),
        Some(format!("delivery {old} processed").as_str())
    );
    let fresh = store
        .exception(&format!("EX-INTEGRATION-DELIVERY-{fresh}"))
        .await
        .unwrap()
        .unwrap();
    assert!(fresh.resolved_at.is_some());
    assert!(store.open_exceptions().await.unwrap().is_empty());
}
