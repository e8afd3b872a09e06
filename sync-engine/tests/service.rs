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
use sync_engine::health::{Condition, Health, task_exception_key};
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
        intake_limits: Default::default(),
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

/// Panics on its first run (as a token renewal might), succeeds afterwards.
struct Flaky(Mutex<usize>);

#[async_trait]
impl Scheduled for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn interval(&self) -> Duration {
        Duration::from_millis(10)
    }
    async fn run_once(&self, _: &Engine) -> Result<usize, JobError> {
        let run = {
            let mut runs = self.0.lock().unwrap();
            *runs += 1;
            *runs
        };
        if run == 1 {
            panic!("the token endpoint answered nonsense");
        }
        Ok(0)
    }
}

/// Polls `check` every 10 ms for up to `secs` seconds.
async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_job_that_panics_is_reported_and_restarted_while_the_others_keep_running() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let engine = Arc::new(
        Engine::open(
            store.clone(),
            Mappings::new(MappingTables::default()).unwrap(),
        )
        .await
        .unwrap(),
    );
    let flaky = Arc::new(Flaky(Mutex::new(0)));
    let ticker = Arc::new(Ticker(Mutex::new(0)));
    let health = Health::default();
    let service = Service {
        store: store.clone(),
        engine: engine.clone(),
        processor: Arc::new(Processor::new(store.clone(), engine, Arc::new(ItemDecoder))),
        outbox: Outbox::new(
            store.clone(),
            Arc::new(Recorder::default()),
            OutboxConfig::default(),
        ),
        scheduled: vec![flaky.clone(), ticker.clone()],
        intake: None,
        intake_limits: Default::default(),
        idle_poll: Duration::from_millis(5),
        health: health.clone(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(service.run(stopped));
    let key = task_exception_key("flaky");

    // The panic raises `task-crashed` at once and the job shows failing while it waits.
    eventually(5, "the crash is raised", || async {
        store.exception(&key).await.unwrap().is_some()
    })
    .await;
    let raised = store.exception(&key).await.unwrap().unwrap();
    assert!(raised.resolved_at.is_none());
    assert_eq!(raised.exception.kind, "task-crashed");
    assert_eq!(raised.exception.owner, "integration");
    assert_eq!(raised.exception.severity, "error");
    assert_eq!(raised.exception.runbook, "operations.md#task-crashed");
    assert!(
        raised
            .exception
            .message
            .contains("the token endpoint answered nonsense"),
        "{}",
        raised.exception.message
    );
    let ready = health.readiness();
    assert!(!ready.ready);
    let job = ready.jobs.iter().find(|j| j.name == "flaky").unwrap();
    assert_eq!(job.condition, Condition::Failing);
    assert_eq!(ready.tasks.len(), 1);
    assert_eq!(ready.tasks[0].name, "flaky");

    // The other job keeps running during the restart backoff.
    let ticks = *ticker.0.lock().unwrap();
    eventually(5, "the ticker runs on", || async {
        *ticker.0.lock().unwrap() >= ticks + 5
    })
    .await;
    assert_eq!(*flaky.0.lock().unwrap(), 1, "still waiting to restart");

    // Restarted, its next success resolves the exception and readiness recovers.
    eventually(10, "the restarted job resolves its crash", || async {
        *flaky.0.lock().unwrap() >= 2
            && store
                .exception(&key)
                .await
                .unwrap()
                .is_some_and(|e| e.resolved_at.is_some())
    })
    .await;
    let ready = health.readiness();
    assert!(ready.ready, "{ready:#?}");
    assert!(ready.tasks.is_empty());
    let trail = store.exception_audit(&key).await.unwrap();
    let changes: Vec<&str> = trail.iter().map(|a| a.change.as_str()).collect();
    assert_eq!(changes, ["raised", "resolved"], "raised once");
    let ticks = *ticker.0.lock().unwrap();
    eventually(5, "the ticker still runs", || async {
        *ticker.0.lock().unwrap() > ticks
    })
    .await;

    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}
