//! The concurrency pool sized from `governanceLimits` before the first request, the default
//! kept (with the reason) when they cannot be read, and a configured or resized pool left alone;
//! the counters of retries and retries refused.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use netsuite_client::records::SalesOrder;
use netsuite_client::retry::{Backoff, RetryBudget};
use netsuite_client::{DEFAULT_CONCURRENCY, NetSuiteClient, PoolSizing, RecordId};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LIMITS: &str = "/services/rest/system/v1/governanceLimits";
const ORDER: &str = "/services/rest/record/v1/salesOrder/1";

fn builder(server: &MockServer) -> netsuite_client::ClientBuilder {
    NetSuiteClient::builder(Arc::new(common::TestAuth::default()))
        .base_url(common::base(server))
        .allow_insecure_http(true)
        .backoff(Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
        })
}

async fn order_answers(server: &MockServer, expect: u64) {
    Mock::given(method("GET"))
        .and(path(ORDER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .expect(expect)
        .mount(server)
        .await;
}

async fn get_orders(client: &NetSuiteClient, n: usize) {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.get::<SalesOrder>(RecordId::new("1").unwrap())
                .send()
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn the_pool_is_sized_from_governance_limits_once_before_the_first_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIMITS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accountConcurrencyLimit": 25, "accountUnallocatedConcurrencyLimit": 15,
            "integrationConcurrencyLimit": 15, "integrationLimitType": "accountLimit"
        })))
        .expect(1)
        .mount(&server)
        .await;
    order_answers(&server, 8).await;
    let client = builder(&server).build().unwrap();
    assert_eq!(client.pool_sizing(), PoolSizing::Pending);
    assert_eq!(client.concurrency_budget().limit(), DEFAULT_CONCURRENCY);
    // Concurrent first requests wait for one read of the limits.
    get_orders(&client, 8).await;
    assert_eq!(
        client.pool_sizing(),
        PoolSizing::GovernanceLimits { limit: 15 }
    );
    assert_eq!(client.concurrency_budget().limit(), 15);
    assert_eq!(client.stats().attempts, 9);
    let first = server.received_requests().await.unwrap();
    assert_eq!(first[0].url.path(), LIMITS, "the limits are read first");
    server.verify().await;
}

#[tokio::test]
async fn unreadable_limits_keep_the_default_with_the_reason() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIMITS))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "status": 403, "title": "Forbidden",
            "o:errorDetails": [{"detail": "Permission Violation: you need the administrator role.",
                                "o:errorCode": "INSUFFICIENT_PERMISSION"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    order_answers(&server, 2).await;
    let client = builder(&server).build().unwrap();
    get_orders(&client, 2).await;
    match client.pool_sizing() {
        PoolSizing::Default { reason } => {
            assert!(reason.contains("INSUFFICIENT_PERMISSION"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.concurrency_budget().limit(), DEFAULT_CONCURRENCY);
    assert_eq!(
        client.ensure_pool_sized().await,
        client.pool_sizing(),
        "read once"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_configured_shared_resized_or_unsized_pool_reads_no_limits() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIMITS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accountConcurrencyLimit": 25, "integrationLimitType": "accountLimit"
        })))
        .expect(0)
        .mount(&server)
        .await;
    order_answers(&server, 4).await;

    let configured = builder(&server).concurrency_limit(7).build().unwrap();
    get_orders(&configured, 1).await;
    assert_eq!(configured.pool_sizing(), PoolSizing::Configured(7));
    assert_eq!(configured.concurrency_budget().limit(), 7);

    let shared = builder(&server)
        .concurrency_budget(Arc::clone(configured.concurrency_budget()))
        .build()
        .unwrap();
    get_orders(&shared, 1).await;
    assert_eq!(shared.pool_sizing(), PoolSizing::Shared);

    // Resized by its user (as the engine does with its share) before the first request.
    let resized = builder(&server).build().unwrap();
    resized.concurrency_budget().resize(3);
    get_orders(&resized, 1).await;
    assert_eq!(resized.pool_sizing(), PoolSizing::Resized);
    assert_eq!(resized.concurrency_budget().limit(), 3);

    let off = builder(&server)
        .size_from_governance_limits(false)
        .build()
        .unwrap();
    get_orders(&off, 1).await;
    assert!(matches!(off.pool_sizing(), PoolSizing::Default { .. }));
    assert_eq!(off.concurrency_budget().limit(), DEFAULT_CONCURRENCY);
    server.verify().await;
}

#[tokio::test]
async fn transient_retries_and_retries_refused_are_counted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ORDER))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    order_answers(&server, 1).await;
    let client = builder(&server).concurrency_limit(2).build().unwrap();
    get_orders(&client, 1).await;
    let stats = client.stats();
    assert_eq!((stats.attempts, stats.retries, stats.throttled), (2, 1, 0));

    // An empty retry budget: the 503 comes back, and the refused retry is counted.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server)
        .concurrency_limit(2)
        .retry_budget(Arc::new(RetryBudget::new(0)))
        .build()
        .unwrap();
    let err = client
        .get::<SalesOrder>(RecordId::new("1").unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 503);
    let stats = client.stats();
    assert_eq!(
        (stats.attempts, stats.retries, stats.retries_refused),
        (1, 0, 1)
    );
}

#[tokio::test]
async fn run_many_keeps_the_order_and_stays_within_the_sized_pool() {
    use common::loopback::{LoopResponse, serve};
    use std::sync::atomic::{AtomicUsize, Ordering};

    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    let addr = serve(Arc::new(move |req| {
        let (f, p) = (f.clone(), p.clone());
        Box::pin(async move {
            if req.target.ends_with("/governanceLimits") {
                return LoopResponse::new(
                    200,
                    r#"{"accountConcurrencyLimit":6,"integrationLimitType":"accountLimit"}"#,
                );
            }
            let now = f.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            f.fetch_sub(1, Ordering::SeqCst);
            let id = req.target.rsplit('/').next().unwrap().to_owned();
            LoopResponse::new(200, format!(r#"{{"id":"{id}"}}"#))
        })
    }))
    .await;
    let client = NetSuiteClient::builder(Arc::new(common::TestAuth::default()))
        .base_url(format!("http://{addr}/services/rest"))
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let results = client
        .run_many(1..=40, |client, n| async move {
            client
                .get::<SalesOrder>(RecordId::new(n.to_string()).unwrap())
                .send()
                .await
        })
        .await;
    let ids: Vec<String> = results
        .into_iter()
        .map(|r| r.unwrap().id.unwrap().as_str().to_owned())
        .collect();
    let expected: Vec<String> = (1..=40).map(|n: i32| n.to_string()).collect();
    assert_eq!(ids, expected, "results in the order of the items");
    assert_eq!(
        client.pool_sizing(),
        PoolSizing::GovernanceLimits { limit: 6 }
    );
    let peak = peak.load(Ordering::SeqCst);
    assert!((2..=6).contains(&peak), "peak {peak} within the pool of 6");
}
