//! Benchmark: 600 creates against a server that allows 15 requests in flight, answers in 50 ms
//! and refuses anything beyond with 429 `CONCURRENCY_LIMIT_EXCEEDED` (no `Retry-After`).
//!
//! The lower bound is 600 / 15 × 50 ms = 2.0 s. Three client settings are measured: the pool
//! sized from `governanceLimits` (15), and pools configured above the limit (20 and 30), which
//! must absorb every 429 and narrow. Run:
//!
//! ```text
//! cargo bench -p netsuite-client --bench governance
//! ```

#[path = "../tests/common/loopback.rs"]
mod loopback;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use loopback::{LoopResponse, serve};
use netsuite_client::NetSuiteClient;
use netsuite_client::records::{RecordRef, SalesOrder};
use support::BenchAuth;

const CREATES: usize = 600;
const SERVER_LIMIT: usize = 15;
const LATENCY: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Counters {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    created: AtomicUsize,
    refused: AtomicUsize,
}

async fn start_server(counters: Arc<Counters>) -> std::net::SocketAddr {
    serve(Arc::new(move |req| {
        let c = Arc::clone(&counters);
        Box::pin(async move {
            if req.target.ends_with("/system/v1/governanceLimits") {
                return LoopResponse::new(
                    200,
                    format!(
                        r#"{{"accountConcurrencyLimit":{SERVER_LIMIT},"accountUnallocatedConcurrencyLimit":{SERVER_LIMIT},"integrationLimitType":"accountLimit"}}"#
                    ),
                );
            }
            let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            if now > SERVER_LIMIT {
                c.in_flight.fetch_sub(1, Ordering::SeqCst);
                c.refused.fetch_add(1, Ordering::SeqCst);
                return LoopResponse::new(
                    429,
                    r#"{"type":"https://www.rfc-editor.org/rfc/rfc6585.html#section-4","title":"Too Many Requests","status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#,
                );
            }
            c.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(LATENCY).await;
            let id = c.created.fetch_add(1, Ordering::SeqCst) + 1;
            c.in_flight.fetch_sub(1, Ordering::SeqCst);
            LoopResponse::new(204, "").header(
                "location",
                format!("http://127.0.0.1/services/rest/record/v1/salesOrder/{id}"),
            )
        })
    }))
    .await
}

async fn scenario(label: &str, configured: Option<usize>) {
    let counters = Arc::new(Counters::default());
    let addr = start_server(Arc::clone(&counters)).await;
    let mut builder = NetSuiteClient::builder(Arc::new(BenchAuth))
        .base_url(format!("http://{addr}/services/rest"))
        .allow_insecure_http(true);
    if let Some(n) = configured {
        builder = builder.concurrency_limit(n);
    }
    let client = builder.build().unwrap();
    if configured.is_none() {
        client.size_from_governance_limits().await.unwrap();
    }
    let order = SalesOrder {
        external_id: Some("SO-BENCH".into()),
        entity: Some(RecordRef::external("CUST-1")),
        ..Default::default()
    };
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(CREATES);
    for _ in 0..CREATES {
        let c = client.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move { c.create(&order).send().await }));
    }
    let mut failed = 0usize;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failed += 1;
        }
    }
    let elapsed = start.elapsed();
    let bound = Duration::from_millis((CREATES / SERVER_LIMIT) as u64 * LATENCY.as_millis() as u64);
    println!(
        "governance [{label}]: {CREATES} creates in {:.3} s = {:.1}% of the {:.1} s bound; failed {failed}; 429s absorbed {}; created {}; server peak in flight {}; final pool width {}",
        elapsed.as_secs_f64(),
        100.0 * bound.as_secs_f64() / elapsed.as_secs_f64(),
        bound.as_secs_f64(),
        counters.refused.load(Ordering::SeqCst),
        counters.created.load(Ordering::SeqCst),
        counters.peak.load(Ordering::SeqCst),
        client.concurrency_budget().limit(),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        scenario("sized from governanceLimits = 15", None).await;
        scenario("configured 20, above the limit", Some(20)).await;
        scenario("configured 30, twice the limit", Some(30)).await;
    });
}
