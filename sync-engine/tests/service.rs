//! The whole service over HTTP with fakes for the two systems: webhooks in, actions out, a
//! graceful stop, and a restart that resumes from the store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use clarus_client::Secret;
use clarus_client::webhook::WebhookSecret;
use jiff::Timestamp;
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::health::Health;
use sync_engine::intake::{IntakeConfig, router};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::processor::{DecodeError, DeliveryDecoder, Processor};
use sync_engine::service::{JobError, Scheduled, Service, backlog};
use sync_engine::store::{Delivery, SqliteStore, Store};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

struct ItemDecoder;

#[async_trait]
impl DeliveryDecoder for ItemDecoder {
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError> {
        let sku = String::from_utf8(delivery.delivery.body.clone())
            .map_err(|e| DecodeError::Invalid(e.to_string()))?;
        Ok(vec![Event {
            source: SourceId {
                system: System::NetSuite,
                resource: "inventoryItem".into(),
                id: sku.as_str().into(),
                event: "updated".into(),
                revision: Revision::Sequence(1),
            },
            occurred_at: Timestamp::now(),
            payload: Payload::Item(Item {
                netsuite_id: sku.as_str().into(),
                sku: sku.as_str().into(),
                barcode: None,
                description: sku.clone(),
                tracking: Tracking::None,
                inactive: false,
            }),
        }])
    }
}

#[derive(Default)]
struct Recorder {
    applied: Mutex<Vec<String>>,
}

#[async_trait]
impl ActionExecutor for Recorder {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.applied
            .lock()
            .unwrap()
            .push(action.key.as_str().to_owned());
        Ok(None)
    }
    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

/// Counts its runs.
struct Ticker(Mutex<usize>);

#[async_trait]
impl Scheduled for Ticker {
    fn name(&self) -> &str {
        "ticker"
    }
    fn interval(&self) -> Duration {
        Duration::from_millis(10)
    }
    async fn run_once(&self, _: &Engine) -> Result<usize, JobError> {
        *self.0.lock().unwrap() += 1;
        Ok(0)
    }
}

async fn start(
    store: Arc<dyn Store>,
    executor: Arc<Recorder>,
    ticker: Arc<Ticker>,
) -> (
    String,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let engine = Arc::new(
        Engine::open(
            store.clone(),
            Mappings::new(MappingTables::default()).unwrap(),
        )
        .await
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = Service {
        store: store.clone(),
        engine: engine.clone(),
        processor: Arc::new(Processor::new(store.clone(), engine, Arc::new(ItemDecoder))),
        outbox: Outbox::new(store.clone(), executor, OutboxConfig::default()),
        scheduled: vec![ticker],
        intake: Some((
            listener,
            router(
                store,
                IntakeConfig {
                    secret: WebhookSecret::new(Secret::new(TOKEN)),
                    max_body_bytes: 4096,
                },
            ),
        )),
        idle_poll: Duration::from_millis(5),
        health: Health::default(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move { service.run(stopped).await.unwrap() });
    (url, stop, task)
}

async fn settle(store: &dyn Store) {
    for _ in 0..400 {
        if backlog(store).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backlog did not drain: {:?}", backlog(store).await.unwrap());
}

#[tokio::test]
async fn webhooks_flow_through_to_actions_and_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("sync-engine-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&path);
    let executor = Arc::new(Recorder::default());
    let ticker = Arc::new(Ticker(Mutex::new(0)));

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let (url, stop, task) = start(store.clone(), executor.clone(), ticker.clone()).await;
    let http = reqwest::Client::new();
    for sku in ["A", "B", "C", "A"] {
        let status = http
            .post(format!(
                "{url}/webhooks/clarus/stock/positively_adjusted?token={TOKEN}"
            ))
            .body(sku)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 202);
    }
    settle(store.as_ref()).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert!(*ticker.0.lock().unwrap() >= 1);

    // Restart on the same file: a redelivered webhook changes nothing, a new one is applied.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let (url, stop, task) = start(store.clone(), executor.clone(), ticker).await;
    for sku in ["B", "D"] {
        http.post(format!(
            "{url}/webhooks/clarus/stock/positively_adjusted?token={TOKEN}"
        ))
        .body(sku)
        .send()
        .await
        .unwrap();
    }
    settle(store.as_ref()).await;
    stop.send(true).unwrap();
    task.await.unwrap();

    let applied = executor.applied.lock().unwrap().clone();
    let unique: HashSet<&String> = applied.iter().collect();
    assert_eq!(applied.len(), 4, "{applied:?}");
    assert_eq!(unique.len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}
