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
//!
//! `-- keep` measures keeping every row instead (`Vec<T>` of all 100,000), in one run against one
//! server: first `curl` fetching the same 100 pages (the same POST requests) without parsing them,
//! in one process, once with the pages one after another over one keep-alive connection and once
//! two at a time as the client fetches them; the faster median is the yardstick. Then, for each
//! row type and way of collecting, a child process that does only that (so its peak RSS is the
//! collector's own): 1 warm-up and `RUNS` timed runs (default 10) for the wall time, then a
//! separate single-run process for the peak RSS of collecting once.
//!
//! ```text
//! cargo bench -p netsuite-client --bench suiteql_stream -- keep
//! ```

#[path = "../tests/common/loopback.rs"]
mod loopback;
mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use loopback::{LoopResponse, serve};
use netsuite_client::NetSuiteClient;
use netsuite_client::TryStreamExt;
use netsuite_client::suiteql::{StreamOptions, Text};
use support::{
    BenchAuth, announce_and_serve, cpu_ms, peak_rss_kib, server_runtime, start_child_server,
};

const PAGES: usize = 100;
const ROWS_PER_PAGE: usize = 1000;

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

/// The same ten columns as [`Text`], which keeps values of up to 23 bytes without allocating.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct TextRow {
    id: Text,
    itemid: Text,
    displayname: Text,
    upccode: Text,
    location: Text,
    quantityonhand: Text,
    quantityavailable: Text,
    isinactive: Text,
    lastmodifieddate: Text,
    externalid: Text,
}

/// A kept row: something to read so the rows are used.
trait Kept: serde::de::DeserializeOwned + Send + 'static {
    fn itemid_len(&self) -> usize;
}

impl Kept for Row {
    fn itemid_len(&self) -> usize {
        self.itemid.len()
    }
}

impl Kept for TextRow {
    fn itemid_len(&self) -> usize {
        self.itemid.len()
    }
}

const QUERY: &str = "SELECT id, itemid, displayname, upccode, location, quantityonhand, quantityavailable, isinactive, lastmodifieddate, externalid FROM item ORDER BY id";

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
    announce_and_serve(format!("{addr} {total}")).await;
}

fn bench_client(addr: &str) -> NetSuiteClient {
    NetSuiteClient::builder(Arc::new(BenchAuth))
        .base_url(format!("http://{addr}/services/rest"))
        .allow_insecure_http(true)
        // The measured stream only: no governanceLimits read before the first page.
        .concurrency_limit(netsuite_client::DEFAULT_CONCURRENCY)
        .build()
        .unwrap()
}

/// Starts the loopback server in a child process; returns it, its address and the page bytes.
fn start_server() -> (std::process::Child, String, usize) {
    let (child, line) = start_child_server();
    let mut parts = line.split_whitespace();
    let addr = parts.next().unwrap().to_owned();
    let bytes: usize = parts.next().unwrap().parse().unwrap();
    (child, addr, bytes)
}

fn median_ms(times: &mut [std::time::Duration]) -> (f64, f64, f64) {
    times.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    (
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
    )
}

/// One curl process fetching every page (`parallel`: two at a time), bodies discarded. Returns
/// the wall time, or why it could not run; checks every page came back whole.
fn curl_pages(
    addr: &str,
    parallel: bool,
    total_bytes: usize,
) -> Result<std::time::Duration, String> {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-S", "-X", "POST"])
        .args(["-H", "authorization: Bearer bench"])
        .args(["-H", "prefer: transient"])
        .args(["-H", "content-type: application/json"])
        .args(["--data-binary", &format!(r#"{{"q":"{QUERY}"}}"#)])
        .args(["-w", "%{http_code} %{size_download}\\n"]);
    if parallel {
        cmd.args(["--parallel", "--parallel-max", "2", "--no-progress-meter"]);
    }
    for page in 0..PAGES {
        cmd.args(["-o", "/dev/null"]).arg(format!(
            "http://{addr}/services/rest/query/v1/suiteql?limit={ROWS_PER_PAGE}&offset={}",
            page * ROWS_PER_PAGE
        ));
    }
    let start = Instant::now();
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("curl not run: {e}"))?;
    let elapsed = start.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut pages = 0;
    let mut bytes = 0usize;
    for line in text.lines() {
        let (code, size) = line.split_once(' ').unwrap_or((line, "0"));
        if code != "200" {
            return Err(format!("curl got {line:?}"));
        }
        pages += 1;
        bytes += size.parse::<usize>().unwrap_or(0);
    }
    if !out.status.success() || pages != PAGES || bytes != total_bytes {
        return Err(format!(
            "curl fetched {pages} pages, {bytes} bytes (status {})",
            out.status
        ));
    }
    Ok(elapsed)
}

/// Default options, or `PREFETCH` pages ahead.
fn options() -> StreamOptions {
    StreamOptions {
        prefetch: std::env::var("PREFETCH")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(StreamOptions::default().prefetch),
        ..StreamOptions::default()
    }
}

/// Collects every row into a `Vec<T>`: with `try_collect` (what an application writes with
/// `TryStreamExt`) or with `RowStream::fetch_all`. Returns the wall time.
fn keep_once<T: Kept>(
    rt: &tokio::runtime::Runtime,
    client: &NetSuiteClient,
    fetch_all: bool,
) -> std::time::Duration {
    let c = client.clone();
    let start = Instant::now();
    let check = rt
        .block_on(rt.spawn(async move {
            let stream = c.suiteql::<T>(QUERY, options());
            let rows: Vec<T> = if fetch_all {
                stream.fetch_all().await.expect("rows")
            } else {
                stream.try_collect().await.expect("rows")
            };
            assert_eq!(rows.len(), PAGES * ROWS_PER_PAGE);
            let check = rows
                .iter()
                .fold(0usize, |a, r| a.wrapping_add(r.itemid_len()));
            // Dropped after timing: the rows are what the caller keeps.
            (check, rows)
        }))
        .expect("collector task");
    let elapsed = start.elapsed();
    std::hint::black_box(check.0);
    drop(check.1);
    elapsed
}

/// `--keep-child <row|text> <try_collect|fetch_all> <runs> <addr>`: this process only collects.
fn keep_child(args: &[String]) {
    let [shape, how, runs, addr] = args else {
        panic!("--keep-child <row|text> <try_collect|fetch_all> <runs> <addr>");
    };
    let runs: usize = runs.parse().unwrap();
    let fetch_all = how == "fetch_all";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = bench_client(addr);
    let warmup = runs > 1;
    let mut times = Vec::new();
    let mut cpu = 0.0;
    for run in 0..runs + usize::from(warmup) {
        let cpu_start = cpu_ms();
        let t = match shape.as_str() {
            "row" => keep_once::<Row>(&rt, &client, fetch_all),
            _ => keep_once::<TextRow>(&rt, &client, fetch_all),
        };
        if !(warmup && run == 0) {
            times.push(t);
            cpu += cpu_ms() - cpu_start;
        }
    }
    let cpu = cpu / times.len() as f64;
    let (min, median, max) = median_ms(&mut times);
    println!(
        "{min:.1} {median:.1} {max:.1} {} {cpu:.0}",
        peak_rss_kib().unwrap_or(0)
    );
}

/// Min, median and max wall in ms, peak RSS in KiB and CPU per run in ms of one collector process.
type KeepFigures = (f64, f64, f64, u64, f64);

fn run_keep_child(shape: &str, how: &str, runs: usize, addr: &str) -> KeepFigures {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--keep-child", shape, how, &runs.to_string(), addr])
        .stderr(Stdio::inherit())
        .output()
        .expect("run the collector");
    assert!(out.status.success(), "collector failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    (
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
        f[4].parse().unwrap(),
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `-- keep`: the curl yardstick and the collectors, against one server.
fn keep_bench() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let (_server, addr, total_bytes) = start_server();
    println!(
        "keep: {} rows, {PAGES} pages, {:.1} MiB of JSON from {addr}; load average {} at start",
        PAGES * ROWS_PER_PAGE,
        total_bytes as f64 / 1048576.0,
        loadavg()
    );
    let mut yardstick = None;
    for (parallel, label) in [(false, "sequential"), (true, "two at a time")] {
        let mut times = Vec::new();
        // One untimed fetch first, as for the collectors.
        for run in 0..=runs {
            match curl_pages(&addr, parallel, total_bytes) {
                Ok(t) if run > 0 => times.push(t),
                Ok(_) => {}
                Err(why) => {
                    println!("curl ({label}): skipped: {why}");
                    break;
                }
            }
        }
        if times.is_empty() {
            continue;
        }
        let (min, median, max) = median_ms(&mut times);
        // The yardstick is the faster of the two ways.
        yardstick = Some(yardstick.map_or(median, |y: f64| y.min(median)));
        println!(
            "curl, pages {label}, no parsing: median {median:.1} ms (min {min:.1}, max {max:.1}, {runs} runs)"
        );
    }
    for (shape, label) in [
        ("row", "ten String columns"),
        ("text", "ten suiteql::Text columns"),
    ] {
        for how in ["try_collect", "fetch_all"] {
            let (min, median, max, hwm_runs, cpu) = run_keep_child(shape, how, runs, &addr);
            let (_, _, _, hwm_one, _) = run_keep_child(shape, how, 1, &addr);
            let ratio = yardstick
                .map(|y| format!("{:.2}x curl", median / y))
                .unwrap_or_else(|| "no curl".into());
            println!(
                "Vec of {label}, {how}: median {median:.1} ms (min {min:.1}, max {max:.1}; {ratio}), CPU {cpu:.0} ms/run; peak RSS {:.1} MiB collecting once, {:.1} MiB over {} runs",
                hwm_one as f64 / 1024.0,
                hwm_runs as f64 / 1024.0,
                runs + 1
            );
        }
    }
    println!("load average {} at end", loadavg());
}

/// Decodes the pages on this thread with `serde_json` alone (one UTF-8 check, then `from_str`;
/// the client reads the rows itself, see `suiteql::page`), three times; prints wall and CPU.
fn decode_only<T: Kept>(pages: &[Bytes], label: &str) {
    #[derive(serde::Deserialize)]
    struct Page<T> {
        items: Vec<T>,
    }
    for _ in 0..3 {
        let cpu0 = cpu_ms();
        let start = Instant::now();
        let mut n = 0;
        for p in pages {
            let text = std::str::from_utf8(p).unwrap();
            let page: Page<T> = serde_json::from_str(text).unwrap();
            n += page.items.len();
        }
        println!(
            "decode only, {label}: {n} rows in {:.1} ms, CPU {:.0} ms",
            start.elapsed().as_secs_f64() * 1000.0,
            cpu_ms() - cpu0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--keep-child") {
        keep_child(&args[i + 1..]);
        return;
    }
    if args.iter().any(|a| a == "keep") {
        keep_bench();
        return;
    }
    if std::env::args().any(|a| a == "--decode-only") {
        let pages: Vec<Bytes> = (0..PAGES).map(render_page).collect();
        decode_only::<Row>(&pages, "ten String columns");
        decode_only::<TextRow>(&pages, "ten Text columns");
        return;
    }
    if std::env::args().any(|a| a == "--serve") {
        let rt = server_runtime();
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
            let (child, addr, bytes) = start_server();
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
    let client = bench_client(&addr);
    let warmup = runs > 1;
    let mut times = Vec::new();
    let mut cpu_total = 0.0;
    for run in 0..runs + usize::from(warmup) {
        let cpu_start = cpu_ms();
        let start = Instant::now();
        let c = client.clone();
        let options = options();
        let consume = async move {
            let mut stream = c.suiteql::<Row>(QUERY, options);
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
