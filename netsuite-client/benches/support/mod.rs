//! Helpers shared by the benchmarks: a fixed bearer authenticator, this process's CPU time and
//! peak RSS, and a loopback server run in a child process (this same binary with `--serve`) so
//! that the client process's CPU and memory are its own.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use async_trait::async_trait;
use netsuite_client::auth::{AuthError, AuthScheme, Authenticator};

/// Adds `Authorization: Bearer bench` (the loopback servers do not check it).
pub struct BenchAuth;

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

/// User + system CPU of this process, in milliseconds.
pub fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): `rest` starts at field 3
    // (state), so utime (14th) is index 11 and stime (15th) index 12; ticks of 10 ms.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

/// Peak RSS of this process (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Starts this binary with `--serve`; returns the child and the first line it prints (its
/// address, and whatever else the server says). The server stops when the child's stdin closes.
pub fn start_child_server() -> (Child, String) {
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
    (child, line.trim().to_owned())
}

/// The runtime of a `--serve` child: one worker thread, so the server takes at most one core.
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// In the `--serve` child: prints `line` for the parent, then waits until the parent closes
/// stdin (the server runs on the runtime meanwhile).
pub async fn announce_and_serve(line: String) {
    println!("{line}");
    std::io::stdout().flush().unwrap();
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await;
}
