//! Webhook intake over real HTTP, and the processor turning stored deliveries into plans.

use std::sync::Arc;

use async_trait::async_trait;
use clarus_client::Secret;
use clarus_client::webhook::WebhookSecret;
use jiff::Timestamp;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::intake::{IntakeConfig, router};
use sync_engine::processor::{DecodeError, DeliveryDecoder, Processor};
use sync_engine::store::{Delivery, SqliteStore, Store};

async fn serve(store: Arc<dyn Store>) -> String {
    let app = router(
        store,
        IntakeConfig {
            secret: WebhookSecret::new(Secret::new("a-long-shared-secret-0123456789")),
            max_body_bytes: 1024,
        },
    );
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
