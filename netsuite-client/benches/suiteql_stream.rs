//! Benchmark: stream 100,000 SuiteQL rows (100 pages of 1,000, ten string columns as NetSuite
//! returns them) from a loopback server and decode them into typed rows.
//!
//! The server runs in a child process (this same binary with `--serve`) with every page body
//! pre-rendered, so the client process's peak memory is the client's own. Run:
//!
//! ```text
//! cargo bench -p netsuite-client --bench suiteql_stream            # 1 warm-up + 10 timed runs
//! RUNS=1 /usr/bin/time -v target/release/deps/suiteql_stream-*      # whole process, one run
//! ```
//!
//! Prints each run's wall time and the client process's peak RSS (`VmHWM`).

#[path = "../tests/common/loopback.rs"]
mod loopback;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use loopback::{LoopResponse, serve};
use netsuite_client::NetSuiteClient;
use netsuite_client::auth::{AuthError, AuthScheme, Authenticator};
use netsuite_client::suiteql::StreamOptions;

const PAGES: usize = 100;
const ROWS_PER_PAGE: usize = 1000;

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

/// Ten string columns, as a SuiteQL query over items and balances returns them.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Row {
    id: String,
    itemid: String,
    displayname: String,
    upccode: String,
    location: String,
    quantityonhand: String,
    quantityavailable: String,
    isinactive: String,
    lastmodifieddate: String,
    externalid: String,
}

fn render_page(page: usize) -> Bytes {
    let mut s = String::with_capacity(ROWS_PER_PAGE * 260);
    let offset = page * ROWS_PER_PAGE;
    s.push_str(r#"{"links":[{"rel":"self","href":"https://1234567.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=1000&offset="#);
    s.push_str(&offset.to_string());
    s.push_str(r#""}],"count":1000,"hasMore":"#);
    s.push_str(if page + 1 < PAGES { "true" } else { "false" });
    s.push_str(r#","items":["#);
    for r in 0..ROWS_PER_PAGE {
        let id = offset + r + 1;
        if r > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"links":[],"id":"{id}","itemid":"SKU-{id:08}","displayname":"Widget model {id} blue","upccode":"0{:011}","location":"{}","quantityonhand":"{}.{:02}","quantityavailable":"{}","isinactive":"F","lastmodifieddate":"1/{}/2026","externalid":"ITEM-{id}"}}"#,
            id * 7919 % 100_000_000_000,
            1 + id % 12,
            id % 500,
            id % 100,
            id % 450,
            1 + id % 28,
        ));
    }
    s.push_str(r#"],"offset":"#);
    s.push_str(&offset.to_string());
    s.push_str(r#","totalResults":100000}"#);
    Bytes::from(s)
}

/// User + system CPU of this process, in milliseconds.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn run_server() {
    let pages: Arc<Vec<Bytes>> = Arc::new((0..PAGES).map(render_page).collect());
    let total: usize = pages.iter().map(|p| p.len()).sum();
    let addr = serve(Arc::new(move |req| {
        let pages = Arc::clone(&pages);
        Box::pin(async move {
            let offset: usize = req
                .query("offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            match pages.get(offset / ROWS_PER_PAGE) {
                Some(body) => LoopResponse::new(200, body.clone()),
                None => LoopResponse::new(400, r#"{"status":400}"#),
            }
        })
    }))
    .await;
    println!("{addr} {total}");
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin.
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await;
}

fn main() {
    if std::env::args().any(|a| a == "--decode-only") {
        #[derive(serde::Deserialize)]
        struct Page {
            items: Vec<Row>,
        }
        let pages: Vec<Bytes> = (0..PAGES).map(render_page).collect();
        for _ in 0..3 {
            let cpu0 = cpu_ms();
            let start = Instant::now();
            let mut n = 0;
            for p in &pages {
                let page: Page = serde_json::from_slice(p).unwrap();
                n += page.items.len();
            }
            println!(
                "decode only: {n} rows in {:.1} ms, CPU {:.0} ms",
                start.elapsed().as_secs_f64() * 1000.0,
                cpu_ms() - cpu0
            );
        }
        return;
    }
    if std::env::args().any(|a| a == "--serve") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_server());
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let process_start = Instant::now();
    let (addr, _child) = match std::env::var("NS_BENCH_SERVER") {
        Ok(addr) => (addr, None),
        Err(_) => {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .arg("--serve")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start the loopback server");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let mut parts = line.split_whitespace();
            let addr = parts.next().unwrap().to_owned();
            let bytes: usize = parts.next().unwrap().parse().unwrap();
            eprintln!(
                "server: {addr}, {PAGES} pages, {:.1} MiB of JSON",
                bytes as f64 / 1048576.0
            );
            (addr, Some(child))
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = NetSuiteClient::builder(Arc::new(BenchAuth))
        .base_url(format!("http://{addr}/services/rest"))
        .allow_insecure_http(true)
        // The measured stream only: no governanceLimits read before the first page.
        .concurrency_limit(netsuite_client::DEFAULT_CONCURRENCY)
        .build()
        .unwrap();
    let warmup = runs > 1;
    let mut times = Vec::new();
    let mut cpu_total = 0.0;
    for run in 0..runs + usize::from(warmup) {
        let cpu_start = cpu_ms();
        let start = Instant::now();
        let c = client.clone();
        let options = StreamOptions {
            prefetch: std::env::var("PREFETCH")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(StreamOptions::default().prefetch),
            ..StreamOptions::default()
        };
        let consume = async move {
            let mut stream = c.suiteql::<Row>(
                "SELECT id, itemid, displayname, upccode, location, quantityonhand, quantityavailable, isinactive, lastmodifieddate, externalid FROM item ORDER BY id",
                options,
            );
            let mut n = 0usize;
            let mut check = 0usize;
            while let Some(row) = stream.next().await {
                let row = row.expect("row");
                check = check.wrapping_add(row.itemid.len());
                n += 1;
            }
            std::hint::black_box(check);
            n
        };
        // The consumer runs as a task, as it does in an application; CONSUMER=main runs it on
        // the main thread instead.
        let rows = if std::env::var("CONSUMER").is_ok_and(|v| v == "main") {
            rt.block_on(consume)
        } else {
            rt.block_on(rt.spawn(consume)).expect("consumer task")
        };
        let elapsed = start.elapsed();
        assert_eq!(rows, PAGES * ROWS_PER_PAGE);
        if warmup && run == 0 {
            continue;
        }
        cpu_total += cpu_ms() - cpu_start;
        times.push(elapsed);
    }
    times.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "suiteql_stream: {} rows x {runs} runs: min {:.1} ms, median {:.1} ms, max {:.1} ms; client CPU {:.0} ms/run; client peak RSS {} KiB; process wall {:.1} ms",
        PAGES * ROWS_PER_PAGE,
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        cpu_total / times.len() as f64,
        peak_rss_kib().unwrap_or(0),
        ms(process_start.elapsed()),
    );
}
