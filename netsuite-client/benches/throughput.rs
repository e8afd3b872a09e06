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

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use loopback::{LoopResponse, serve};
use netsuite_client::auth::{AuthError, AuthScheme, Authenticator};
use netsuite_client::records::SalesOrder;
use netsuite_client::{NetSuiteClient, RecordId};

const REQUESTS: usize = 20_000;

const RECORD: &str = r#"{"links":[{"rel":"self","href":"https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder/77"}],"id":"77","externalId":"SO-77","tranId":"SO1001","tranDate":"2026-01-31","lastModifiedDate":"2026-02-01T10:11:12Z","entity":{"links":[],"id":"12","refName":"Acme Ltd"},"status":{"id":"B","refName":"Pending Fulfillment"},"location":{"links":[],"id":"6","refName":"Main warehouse"},"subsidiary":{"links":[],"id":"1","refName":"Parent"},"memo":"bench","custbody_wms_ref":"W-1"}"#;

struct BenchAuth;

#[async_trait]
impl Authenticator for BenchAuth {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        request.headers_mut().insert(
            "authorization",
            reqwest::header::HeaderValue::from_static("Bearer bench"),
        );
        Ok(())
    }
    fn scheme(&self) -> AuthScheme {
        AuthScheme::StaticBearer
    }
}

/// User + system CPU of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is 14th, stime 15th overall.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // `rest` starts at field 3 (state), so utime (14) is index 11 and stime (15) index 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let addr = serve(Arc::new(|_req| {
                Box::pin(async { LoopResponse::new(200, RECORD) })
            }))
            .await;
            println!("{addr}");
            std::io::stdout().flush().unwrap();
            let _ = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            })
            .await;
        });
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the loopback server");
    let mut addr = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut addr)
        .unwrap();
    let addr = addr.trim().to_owned();
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
        let cpu0 = cpu_seconds();
        let start = Instant::now();
        rt.block_on(run(&client, concurrency, REQUESTS));
        let wall = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
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
