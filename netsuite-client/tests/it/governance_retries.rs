//! Governance and retries end to end: 429 absorbed, POST never blindly retried, one budget
//! shared by every clone.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::loopback::{LoopResponse, serve};
use common::{client, client_with};
use netsuite_client::records::SalesOrder;
use netsuite_client::{ClientStats, Error, RecordId};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn concurrency_429() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_json(json!({
        "type": "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
        "title": "Too Many Requests", "status": 429,
        "o:errorDetails": [{"detail": "Concurrent request limit exceeded. Request blocked.",
                            "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}]
    }))
}

#[tokio::test]
async fn a_429_on_create_is_retried_to_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/rest/record/v1/salesOrder"))
        .respond_with(concurrency_429())
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/rest/record/v1/salesOrder"))
        .respond_with(common::created("salesOrder/5"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let id = c.create(&SalesOrder::default()).send().await.unwrap();
    assert_eq!(id.as_str(), "5");
    assert_eq!(
        c.clone().stats(),
        ClientStats {
            attempts: 3,
            throttled: 2,
            throttled_absorbed: 2,
            retries: 2,
            retries_refused: 0,
        },
        "counted once for every clone"
    );
}

#[tokio::test]
async fn a_500_on_create_is_not_retried_and_says_the_outcome_is_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "title": "Internal Server Error", "status": 500,
            "o:errorDetails": [{"detail": "An unexpected error occurred.", "o:errorCode": "UNEXPECTED_ERROR"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .create(&SalesOrder::default())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("external id"), "{err}");
    assert_eq!(err.api().unwrap().status, 500);
}

#[tokio::test]
async fn a_500_on_get_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .expect(1)
        .mount(&server)
        .await;
    let so: SalesOrder = client(&server)
        .get::<SalesOrder>(RecordId::new("1").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(so.id.unwrap().as_str(), "1");
}

#[tokio::test]
async fn persistent_5xx_on_get_gives_up_after_the_attempt_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(4)
        .mount(&server)
        .await;
    let err = client(&server)
        .get::<SalesOrder>(RecordId::new("1").unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 503);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_create_because_nothing_was_sent() {
    // Bind then drop a listener: the port refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = netsuite_client::NetSuiteClient::builder(Arc::new(common::TestAuth::default()))
        .base_url(format!("http://127.0.0.1:{port}/services/rest"))
        .allow_insecure_http(true)
        .backoff(netsuite_client::retry::Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        })
        .build()
        .unwrap();
    let err = c.create(&SalesOrder::default()).send().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err}");
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn clones_share_one_concurrency_budget() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    let addr = serve(Arc::new(move |_req| {
        let (f, p) = (f.clone(), p.clone());
        Box::pin(async move {
            let now = f.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            f.fetch_sub(1, Ordering::SeqCst);
            LoopResponse::new(200, r#"{"id":"1"}"#)
        })
    }))
    .await;
    let base = netsuite_client::NetSuiteClient::builder(Arc::new(common::TestAuth::default()))
        .base_url(format!("http://{addr}/services/rest"))
        .allow_insecure_http(true)
        .concurrency_limit(3)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let c = base.clone();
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
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn over_the_limit_every_429_is_absorbed_and_the_pool_narrows() {
    const SERVER_LIMIT: usize = 4;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let (f, r) = (in_flight.clone(), refused.clone());
    let addr = serve(Arc::new(move |_req| {
        let (f, r) = (f.clone(), r.clone());
        Box::pin(async move {
            if f.fetch_add(1, Ordering::SeqCst) >= SERVER_LIMIT {
                f.fetch_sub(1, Ordering::SeqCst);
                r.fetch_add(1, Ordering::SeqCst);
                return LoopResponse::new(
                    429,
                    r#"{"status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#,
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            f.fetch_sub(1, Ordering::SeqCst);
            LoopResponse::new(204, "").header(
                "location",
                "http://x/services/rest/record/v1/salesOrder/9",
            )
        })
    }))
    .await;
    let server_client =
        netsuite_client::NetSuiteClient::builder(Arc::new(common::TestAuth::default()))
            .base_url(format!("http://{addr}/services/rest"))
            .allow_insecure_http(true)
            .concurrency_limit(12)
            .backoff(netsuite_client::retry::Backoff {
                base: Duration::from_millis(5),
                cap: Duration::from_millis(80),
            })
            .build()
            .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..60 {
        let c = server_client.clone();
        tasks.push(tokio::spawn(async move {
            c.create(&SalesOrder::default()).send().await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("every create succeeds");
    }
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "the test must provoke 429s"
    );
    let stats = server_client.stats();
    assert_eq!(stats.throttled, refused.load(Ordering::SeqCst) as u64);
    assert_eq!(
        stats.throttled_absorbed, stats.throttled,
        "every 429 was absorbed"
    );
    assert_eq!(stats.retries, stats.throttled);
    assert_eq!(stats.attempts, 60 + stats.retries);
    assert!(
        server_client.concurrency_budget().limit() < 12,
        "pool narrowed to {}",
        server_client.concurrency_budget().limit()
    );
}

#[tokio::test]
async fn governance_limits_size_the_pool() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/rest/system/v1/governanceLimits"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accountConcurrencyLimit": 25, "accountUnallocatedConcurrencyLimit": 15,
            "integrationConcurrencyLimit": 15, "integrationLimitType": "accountLimit"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let c = client_with(&server, Arc::new(common::TestAuth::default()), 5);
    let clone = c.clone();
    let limits = c.size_from_governance_limits().await.unwrap();
    assert_eq!(limits.account_concurrency_limit, Some(25));
    assert_eq!(clone.concurrency_budget().limit(), 15);
}
