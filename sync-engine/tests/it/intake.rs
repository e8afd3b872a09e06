//! Webhook intake over real HTTP, the liveness and readiness probes, and the processor turning
//! stored deliveries into plans.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clarus_client::Secret;
use clarus_client::webhook::WebhookSecret;
use jiff::{SignedDuration, Timestamp};
use sync_core::*;
use sync_engine::engine::Engine;
use sync_engine::health::{Connection, Health, HealthConfig};
use sync_engine::intake::{
    IntakeConfig, IntakeLimits, router, router_with_health, router_with_limits,
};
use sync_engine::processor::{DecodeError, DeliveryDecoder, Processor};
use sync_engine::service::JobError;
use sync_engine::store::{Delivery, NewDelivery, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::store::{action_kinds, sqlite};

/// The shared secret of these tests (32 characters or more, as the engine requires).
const SECRET: &str = "a-long-shared-secret-0123456789-abcdef";

fn intake_config() -> IntakeConfig {
    IntakeConfig {
        secret: WebhookSecret::new(Secret::new(SECRET)),
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
    let store = sqlite();
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
        .post(format!("{url}?token={SECRET}"))
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
        .post(format!("{url}?token={SECRET}"))
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
            .map_err(|e| DecodeError::Invalid(e.to_string().into()))?;
        let (Some(id), Some(sku)) = (body["id"].as_str(), body["sku"].as_str()) else {
            return Err(DecodeError::Invalid("id and sku are required".into()));
        };
        let mut event = crate::support::events::netsuite_event_at(
            id,
            Payload::Item(Item {
                netsuite_id: id.into(),
                sku: sku.into(),
                barcode: None,
                description: sku.into(),
                tracking: Tracking::None,
                inactive: false,
            }),
            Timestamp::now(),
        );
        event.source.resource = "inventoryItem".into();
        Ok(vec![event])
    }
}

#[tokio::test]
async fn the_processor_plans_each_delivery_once_and_keeps_bad_ones_with_an_exception() {
    let store = sqlite();
    let base = serve(store.clone()).await;
    let http = reqwest::Client::new();
    let url = format!("{base}/webhooks/clarus/stock/positively_adjusted?token={SECRET}");
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

    let products = action_kinds(store.as_ref()).await;
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
    let store = sqlite();
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
    let store = sqlite();
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

// ------------------------------------------------------------------ hardening

/// Serves the intake as the service does ([`sync_engine::intake::serve`]: peer addresses,
/// connection limit, header timeout) with the given limits.
async fn serve_hardened(store: Arc<dyn Store>, limits: IntakeLimits) -> SocketAddr {
    let app = router_with_limits(store, intake_config(), limits.clone(), None);
    let listener =
        sync_engine::intake::bind("127.0.0.1:0".parse().unwrap(), limits.max_connections).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        sync_engine::intake::serve(listener, app, &limits, std::future::pending())
            .await
            .unwrap()
    });
    addr
}

/// Sends `head` on a new connection and reads what comes back until the server closes it, or
/// `within` passes (then `None`).
async fn exchange(addr: SocketAddr, head: &str, within: Duration) -> Option<String> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&answer).into_owned())
}

async fn stored(store: &dyn Store) -> usize {
    store
        .unprocessed_deliveries(Timestamp::now(), 100)
        .await
        .unwrap()
        .len()
}

// ------------------------------------------------------------------ attack suite helpers

/// Taken by the attack tests that open hundreds of connections, so that their descriptors and
/// memory do not add up.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Descriptors left for the other tests of this binary running alongside a heavy one.
const OTHER_TESTS_FILES: u64 = 256;

/// The soft and hard limits on open files (`/proc/self/limits`, Linux), `None` when unknown or
/// unlimited.
fn open_files_limits() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    let mut values = line.split_whitespace().map(|v| v.parse::<u64>().ok());
    Some((values.next()??, values.next()??))
}

/// Fails (never skips) when this process may not open `needed` descriptors.
fn require_open_files(needed: u64, what: &str) {
    if cfg!(target_os = "linux") {
        assert!(
            std::path::Path::new("/proc/self/limits").exists(),
            "/proc/self/limits is not readable: cannot check that {needed} files may be open"
        );
    }
    if let Some((soft, hard)) = open_files_limits() {
        assert!(
            soft >= needed,
            "{what} need {needed} open files (both ends of each loopback connection are in this \
             process, plus {OTHER_TESTS_FILES} for the tests running alongside), but the soft \
             limit is {soft} (hard {hard}): raise it before running the tests, e.g. \
             `ulimit -n {needed}`"
        );
    }
}

/// A new connection to the intake; a failure (out of descriptors) says what the test needs.
async fn connect(addr: SocketAddr, needed: u64) -> TcpStream {
    TcpStream::connect(addr).await.unwrap_or_else(|e| {
        panic!("could not open a connection to the intake ({e}): this test needs {needed} open files (`ulimit -n`)")
    })
}

/// Resets this process's resident high-water mark (`VmHWM`) to its current size (Linux); false
/// when it could not be.
fn reset_peak_resident() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's resident high-water mark in KiB (`VmHWM`, Linux; `None` elsewhere).
fn peak_resident_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// This process's resident memory in KiB (`VmRSS`, Linux; `None` elsewhere).
fn resident_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

/// A `kB` line of `/proc/self/status`; required on Linux, `None` elsewhere.
fn status_kib(field: &str) -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status")
        .expect("resident memory is read from /proc/self/status");
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    Some(kib)
}

#[tokio::test]
async fn an_unauthenticated_body_is_refused_before_it_is_read() {
    let store = sqlite();
    let addr = serve_hardened(store.clone(), IntakeLimits::default()).await;

    // A body announced (as large as allowed, and larger), nothing sent: the 401 comes back at
    // once, the body unread.
    for announced in [1000, 1 << 20] {
        let started = Instant::now();
        let answer = exchange(
            addr,
            &format!(
                "POST /webhooks/clarus/goods_out/completed HTTP/1.1\r\nHost: x\r\n\
                 Content-Length: {announced}\r\n\r\n"
            ),
            Duration::from_secs(5),
        )
        .await
        .expect("the refused connection is answered and closed");
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    // Authenticated but announcing more than the limit: 413, also without reading.
    let answer = exchange(
        addr,
        &format!(
            "POST /webhooks/clarus/goods_out/completed?token={SECRET} HTTP/1.1\r\nHost: x\r\n\
             Content-Length: 1048576\r\n\r\n"
        ),
        Duration::from_secs(5),
    )
    .await
    .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(stored(store.as_ref()).await, 0);
}

#[tokio::test]
async fn unknown_routes_are_not_stored_and_the_doctor_ping_and_header_token_are_accepted() {
    let store = sqlite();
    let addr = serve_hardened(store.clone(), IntakeLimits::default()).await;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}/webhooks/clarus");

    for route in ["anything/anything", "doctor/anything", "goods/completed"] {
        let status = http
            .post(format!("{base}/{route}?token={SECRET}"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{route}");
    }
    // A stranger learns nothing of the routes: 401 before 404.
    let stranger = http
        .post(format!("{base}/anything/anything"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    assert_eq!(stored(store.as_ref()).await, 0);

    let ping = http
        .post(format!("{base}/doctor/ping?token={SECRET}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 202);

    // The secret in the gateway's header instead of the URL.
    let header = http
        .post(format!("{base}/goods_out/completed"))
        .header("X-Clarus-Webhook-Token", SECRET)
        .body(r#"{"data":{"id":9}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 202);
    let wrong_header = http
        .post(format!("{base}/goods_out/completed"))
        .header("X-Clarus-Webhook-Token", "nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_header.status(), 401);
    assert_eq!(stored(store.as_ref()).await, 2);
}

#[tokio::test]
async fn a_source_refused_too_often_is_answered_429() {
    let store = sqlite();
    let limits = IntakeLimits {
        refusals_per_minute: 3,
        ..IntakeLimits::default()
    };
    let addr = serve_hardened(store.clone(), limits).await;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/webhooks/clarus/goods_out/completed");

    for _ in 0..3 {
        let status = http
            .post(format!("{url}?token=guess"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    for token in ["guess", SECRET] {
        let status = http
            .post(format!("{url}?token={token}"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 429, "{token}");
    }
    // Probes are not limited.
    let live = http
        .get(format!("http://{addr}/livez"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(stored(store.as_ref()).await, 0);
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_are_cut_off() {
    let store = sqlite();
    let limits = IntakeLimits {
        body_timeout: Duration::from_millis(300),
        header_timeout: Duration::from_millis(300),
        ..IntakeLimits::default()
    };
    let addr = serve_hardened(store.clone(), limits).await;

    // Ten bytes of a hundred, then nothing: 408 and the connection closed.
    let started = Instant::now();
    let answer = exchange(
        addr,
        &format!(
            "POST /webhooks/clarus/goods_out/completed?token={SECRET} HTTP/1.1\r\nHost: x\r\n\
             Content-Length: 100\r\n\r\n0123456789"
        ),
        Duration::from_secs(5),
    )
    .await
    .expect("the slow body's connection is closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // Headers never finished: the connection is closed without an answer.
    let started = Instant::now();
    let answer = exchange(
        addr,
        "POST /webhooks/clarus/goods_out/completed HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(5),
    )
    .await
    .expect("the slow headers' connection is closed");
    assert!(!answer.contains("202"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // A kept-alive connection idle after its request is closed by the same timeout.
    let answer = exchange(
        addr,
        "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .await
    .expect("the idle kept-alive connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(stored(store.as_ref()).await, 0);

    // The whole request is bounded too, whatever the body timeout.
    let addr = serve_hardened(
        store.clone(),
        IntakeLimits {
            request_timeout: Duration::from_millis(300),
            ..IntakeLimits::default()
        },
    )
    .await;
    let started = Instant::now();
    let answer = exchange(
        addr,
        &format!(
            "POST /webhooks/clarus/goods_out/completed?token={SECRET} HTTP/1.1\r\nHost: x\r\n\
             Content-Length: 100\r\n\r\n0123456789"
        ),
        Duration::from_secs(5),
    )
    .await
    .expect("the slow request's connection is closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(stored(store.as_ref()).await, 0);
}

#[tokio::test]
async fn a_delivery_gets_through_while_idle_connections_are_open() {
    const IDLE: usize = 1_000;
    // Both ends of every connection are descriptors of this process.
    let needed = 2 * IDLE as u64 + OTHER_TESTS_FILES;
    require_open_files(needed, "1,000 idle connections");
    let _heavy = HEAVY.lock().await;
    let store = sqlite();
    let addr = serve_hardened(store.clone(), IntakeLimits::default()).await;
    let opening = Instant::now();
    let mut idle = Vec::new();
    for i in 0..IDLE {
        let mut tcp = connect(addr, needed).await;
        // Half send nothing, half the start of a request they never finish (slow-loris).
        if i % 2 == 1 {
            tcp.write_all(b"POST /webhooks/clarus/goods_out/completed HTTP/1.1\r\n")
                .await
                .unwrap();
        }
        idle.push(tcp);
    }
    // Let the server take every one of them (they hold 1,000 of its 1,024 permits).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let opened_in = opening.elapsed();

    let http = reqwest::Client::new();
    let started = Instant::now();
    let delivery = http
        .post(format!(
            "http://{addr}/webhooks/clarus/goods_out/completed?token={SECRET}"
        ))
        .body(r#"{"data":{"id":9}}"#)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(delivery.status(), 202);
    assert!(
        took < Duration::from_secs(1),
        "the delivery took {took:?} with {IDLE} idle connections open"
    );
    eprintln!(
        "attack suite: {IDLE} idle connections opened in {opened_in:?}; a delivery accepted in {took:?}"
    );
    assert_eq!(stored(store.as_ref()).await, 1);
    // The idle connections were all held open meanwhile (none was dropped to make room).
    let mut open = 0;
    for tcp in &idle {
        let mut buf = [0u8; 1];
        if matches!(tcp.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            open += 1;
        }
    }
    assert_eq!(open, IDLE);
    drop(idle);

    // At the connection limit, idle connections are closed after the header timeout and the
    // delivery waiting behind them gets through.
    let store = sqlite();
    let limits = IntakeLimits {
        max_connections: 4,
        header_timeout: Duration::from_millis(500),
        ..IntakeLimits::default()
    };
    let addr = serve_hardened(store.clone(), limits).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let delivery = http
        .post(format!(
            "http://{addr}/webhooks/clarus/goods_out/completed?token={SECRET}"
        ))
        .body(r#"{"data":{"id":9}}"#)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(delivery.status(), 202);
    assert!(started.elapsed() >= Duration::from_millis(200));
    for mut tcp in idle {
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf))
            .await
            .expect("idle connection closed")
            .unwrap_or(0);
        assert_eq!(n, 0);
    }
}

/// Slow-loris and slow bodies against the production limits (`IntakeLimits::default()`: 10 s
/// for headers and for a body), each connection trickling a byte every 250 ms so that it is
/// never silent for long: every one is closed at the 10 s deadline (plus scheduling slack), the
/// slow bodies with `408`, and nothing is stored.
#[tokio::test]
async fn attack_slow_loris_and_slow_bodies_are_closed_within_ten_seconds() {
    const EACH: usize = 50;
    const TRICKLE: Duration = Duration::from_millis(250);
    let needed = 4 * EACH as u64 + OTHER_TESTS_FILES;
    require_open_files(needed, "100 slow connections");
    let store = sqlite();
    let limits = IntakeLimits::default();
    assert_eq!(limits.header_timeout, Duration::from_secs(10));
    assert_eq!(limits.body_timeout, Duration::from_secs(10));
    let deadline = limits.header_timeout.max(limits.body_timeout);
    let slack = Duration::from_millis(1_500);
    let addr = serve_hardened(store.clone(), limits).await;

    /// Sends `head`, then one byte of `trickle` every [`TRICKLE`] until the server closes the
    /// connection: what it answered and when it closed, counted from the connection's opening.
    async fn trickle(
        addr: SocketAddr,
        needed: u64,
        head: String,
        trickle: &'static [u8],
        give_up: Duration,
    ) -> (Duration, String) {
        let started = Instant::now();
        let (mut rx, mut tx) = connect(addr, needed).await.into_split();
        tx.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let mut next = trickle.iter().cycle();
        let mut ticks = tokio::time::interval(TRICKLE);
        let mut buf = [0u8; 1024];
        let cut = tokio::time::timeout(give_up, async {
            loop {
                tokio::select! {
                    read = rx.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                    },
                    _ = ticks.tick() => {
                        let byte = [*next.next().unwrap()];
                        // A refused write means the server is gone; the read will tell.
                        let _ = tx.write_all(&byte).await;
                    }
                }
            }
        })
        .await;
        assert!(
            cut.is_ok(),
            "a slow connection was still open after {give_up:?}"
        );
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    }

    let give_up = deadline + slack + Duration::from_secs(2);
    let mut attacks = tokio::task::JoinSet::new();
    for i in 0..EACH {
        // Headers that never end: one more header line a byte at a time.
        let head = format!(
            "POST /webhooks/clarus/goods_out/completed?token={SECRET} HTTP/1.1\r\nHost: x\r\n"
        );
        attacks.spawn(async move {
            let (took, answer) = trickle(addr, needed, head, b"X-Slow: yes\r\n", give_up).await;
            ("headers", i, took, answer)
        });
        // An authenticated delivery whose 1,000-byte body comes a byte at a time.
        let head = format!(
            "POST /webhooks/clarus/goods_out/completed?token={SECRET} HTTP/1.1\r\nHost: x\r\n\
             Content-Length: 1000\r\n\r\n"
        );
        attacks.spawn(async move {
            let (took, answer) = trickle(addr, needed, head, b"{}", give_up).await;
            ("body", i, took, answer)
        });
    }
    let (mut fastest, mut slowest) = (Duration::MAX, Duration::ZERO);
    while let Some(done) = attacks.join_next().await {
        let (kind, i, took, answer) = done.unwrap();
        assert!(
            took <= deadline + slack,
            "slow {kind} {i} closed after {took:?}, past the {deadline:?} deadline"
        );
        match kind {
            "headers" => assert!(answer.is_empty(), "slow headers {i}: {answer}"),
            _ => assert!(
                answer.starts_with("HTTP/1.1 408"),
                "slow body {i}: {answer}"
            ),
        }
        fastest = fastest.min(took);
        slowest = slowest.max(took);
    }
    eprintln!(
        "attack suite: {EACH} slow-loris and {EACH} slow-body connections closed after {fastest:?} to {slowest:?}"
    );
    assert_eq!(stored(store.as_ref()).await, 0);
}

/// 300 strangers at once, each announcing a 1 MB body and sending 1 KB of it: every one is
/// answered `401` at once without its body being read, the process's resident memory grows by
/// far less than the 300 MB the bodies would take, and nothing is stored. It runs alone in a
/// child process, so that what the tests alongside allocate does not count as its growth.
#[tokio::test]
async fn attack_unauthenticated_large_bodies_are_refused_unread_with_bounded_memory() {
    if crate::support::process::run_alone(
        "intake::attack_unauthenticated_large_bodies_are_refused_unread_with_bounded_memory",
    ) {
        return;
    }
    const CLIENTS: usize = 300;
    const ANNOUNCED: usize = 1 << 20;
    const BOUND_KIB: u64 = 64 * 1024;
    let needed = 2 * CLIENTS as u64 + OTHER_TESTS_FILES;
    require_open_files(needed, "300 concurrent requests");
    let _heavy = HEAVY.lock().await;
    let store = sqlite();
    // Every request from loopback: lift the per-source refusal limit so that each one goes
    // through the secret check (with the default limit, all but 20 are answered 429 instead).
    let limits = IntakeLimits {
        refusals_per_minute: u32::MAX,
        ..IntakeLimits::default()
    };
    let addr = serve_hardened(store.clone(), limits).await;
    let head = format!(
        "POST /webhooks/clarus/goods_out/completed?token=guess HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: {ANNOUNCED}\r\n\r\n{}",
        "x".repeat(1024)
    );
    let head: Arc<str> = head.into();

    // The peak is measured from here: the high-water mark is reset to the current size.
    let peak_reset = reset_peak_resident();
    let before = resident_kib();
    let started = Instant::now();
    // Every client keeps its connection until all have been answered, so that the memory is
    // read with all 300 still open on the client's side. The listener's backlog is the
    // connection limit (`intake::bind`), so no connection overflows it and is retried by the
    // kernel a second later, as happened with the usual backlog of 128.
    let all_answered = Arc::new(tokio::sync::Barrier::new(CLIENTS + 1));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let head = head.clone();
        let all_answered = all_answered.clone();
        clients.spawn(async move {
            let mut tcp = connect(addr, needed).await;
            tcp.write_all(head.as_bytes()).await.unwrap();
            let sent = Instant::now();
            let mut answer = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                let mut buf = [0u8; 1024];
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                    }
                }
            })
            .await;
            let took = sent.elapsed();
            all_answered.wait().await;
            drop(tcp);
            (
                read.is_ok(),
                took,
                String::from_utf8_lossy(&answer).into_owned(),
            )
        });
    }
    tokio::time::timeout(Duration::from_secs(15), all_answered.wait())
        .await
        .expect("every client is answered (or gives up) within 5 s of sending");
    let all_in = started.elapsed();
    let after = resident_kib();
    let peak = peak_resident_kib().filter(|_| peak_reset);
    let mut slowest = Duration::ZERO;
    while let Some(done) = clients.join_next().await {
        let (closed, took, answer) = done.unwrap();
        assert!(closed, "a refused connection was not closed within 5 s");
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        slowest = slowest.max(took);
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a refusal came {slowest:?} after its request was sent"
    );
    // A connection dropped from a full backlog is retried by the kernel after a second.
    assert!(
        all_in < Duration::from_secs(1),
        "300 refusals took {all_in:?}: connections overflowed the listen backlog"
    );
    if let (Some(before), Some(after)) = (before, after) {
        let peak = peak.unwrap_or(after).max(after);
        let grown = peak.saturating_sub(before);
        eprintln!(
            "attack suite: {CLIENTS} unauthenticated 1 MB requests all answered 401 and closed \
             in {all_in:?} (each within {slowest:?} of being sent); resident memory {before} KiB \
             before, {peak} KiB at the peak, {after} KiB after: grew {grown} KiB"
        );
        assert!(
            grown < BOUND_KIB,
            "resident memory grew by {grown} KiB for {CLIENTS} refused requests"
        );
    }
    assert_eq!(stored(store.as_ref()).await, 0);
}

/// With the right secret, a body beyond `max_body_bytes` (1,024 here) is answered `413` as soon
/// as that is known: when announced (`Content-Length`) after its headers, and when chunked
/// after 1,025 bytes; the answer comes back while the rest of the body has not been sent.
#[tokio::test]
async fn attack_an_oversized_authenticated_body_is_answered_413_before_it_is_all_sent() {
    let store = sqlite();
    let addr = serve_hardened(store.clone(), IntakeLimits::default()).await;
    let url = format!("/webhooks/clarus/goods_out/completed?token={SECRET}");
    let part = "x".repeat(512);
    let chunk = "x".repeat(2_000);
    for (what, head) in [
        (
            "announced",
            format!("POST {url} HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n{part}"),
        ),
        (
            "chunked",
            format!(
                "POST {url} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x}\r\n{chunk}\r\n",
                chunk.len()
            ),
        ),
    ] {
        // Within a second, far under the 10 s body timeout the server would wait otherwise.
        let started = Instant::now();
        let answer = exchange(addr, &head, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("{what}: the oversized body's connection stayed open"));
        let took = started.elapsed();
        assert!(answer.starts_with("HTTP/1.1 413"), "{what}: {answer}");
        assert!(
            took < Duration::from_secs(1),
            "{what}: answered after {took:?}"
        );
        eprintln!("attack suite: an oversized {what} body answered 413 in {took:?}");
        assert_eq!(stored(store.as_ref()).await, 0);
    }
}

#[tokio::test]
async fn during_a_rotation_the_current_and_the_previous_secret_are_accepted_and_no_other() {
    const PREVIOUS: &str = "the-previous-shared-secret-0123456789";
    const THIRD: &str = "a-third-shared-secret-0123456789-abcdef";
    let store = sqlite();
    let config = IntakeConfig {
        secret: WebhookSecret::new(Secret::new(SECRET)).with_previous(Secret::new(PREVIOUS)),
        max_body_bytes: 1024,
    };
    let base = listen(router(store.clone(), config)).await;
    let http = reqwest::Client::new();
    let url = format!("{base}/webhooks/clarus/goods_out/completed");

    for (token, status) in [(SECRET, 202), (PREVIOUS, 202), (THIRD, 401)] {
        let by_query = http
            .post(format!("{url}?token={token}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(by_query.status(), status, "?token={token}");
        let by_header = http
            .post(&url)
            .header("X-Clarus-Webhook-Token", token)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(by_header.status(), status, "header {token}");
    }
    assert_eq!(stored(store.as_ref()).await, 4);
}
