//! Benchmark: requests per second and client CPU per request on loopback, at concurrency 1 and 16.
//!
//! Each request is a full `GET /record/v1/salesOrder/{id}` through the client (permit, credentials,
//! send, body read, decode into the typed record). The server runs in a child process (this binary
//! with `--serve`) so the CPU measured (`/proc/self/stat` user + system) is the client's. Run:
//!
//! ```text
//! cargo bench -p netsuite-client --bench throughput
//! ```

#[path = "../tests/common/loopback.rs"]
mod loopback;
mod support;

use std::sync::Arc;
use std::time::Instant;

use loopback::{LoopResponse, serve};
use netsuite_client::records::SalesOrder;
use netsuite_client::{NetSuiteClient, RecordId};
use support::{BenchAuth, announce_and_serve, cpu_ms, server_runtime, start_child_server};

const REQUESTS: usize = 20_000;

const RECORD: &str = r#"{"links":[{"rel":"self","href":"https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder/77"}],"id":"77","externalId":"SO-77","tranId":"SO1001","tranDate":"2026-01-31","lastModifiedDate":"2026-02-01T10:11:12Z","entity":{"links":[],"id":"12","refName":"Acme Ltd"},"status":{"id":"B","refName":"Pending Fulfillment"},"location":{"links":[],"id":"6","refName":"Main warehouse"},"subsidiary":{"links":[],"id":"1","refName":"Parent"},"memo":"bench","custbody_wms_ref":"W-1"}"#;

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        let rt = server_runtime();
        rt.block_on(async {
            let addr = serve(Arc::new(|_req| {
                Box::pin(async { LoopResponse::new(200, RECORD) })
            }))
            .await;
            announce_and_serve(addr.to_string()).await;
        });
        return;
    }
    let (mut child, addr) = start_child_server();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for concurrency in [1usize, 16] {
        let client = NetSuiteClient::builder(Arc::new(BenchAuth))
            .base_url(format!("http://{addr}/services/rest"))
            .allow_insecure_http(true)
            .concurrency_limit(concurrency)
            .build()
            .unwrap();
        // Warm up connections.
        rt.block_on(run(&client, concurrency, 2_000));
        let cpu0 = cpu_ms();
        let start = Instant::now();
        rt.block_on(run(&client, concurrency, REQUESTS));
        let wall = start.elapsed().as_secs_f64();
        let cpu = (cpu_ms() - cpu0) / 1000.0;
        println!(
            "throughput [concurrency {concurrency}]: {REQUESTS} GETs in {wall:.2} s = {:.0} req/s; client CPU {:.1} us/request",
            REQUESTS as f64 / wall,
            cpu * 1e6 / REQUESTS as f64
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

async fn run(client: &NetSuiteClient, concurrency: usize, requests: usize) {
    let per_task = requests / concurrency;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let id = RecordId::new("77").unwrap();
            for _ in 0..per_task {
                let so: SalesOrder = c.get::<SalesOrder>(id.clone()).send().await.unwrap();
                std::hint::black_box(so);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
