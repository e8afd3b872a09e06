//! The `sync` binary run against the simulators: its environment (the simulators' credentials),
//! one-off commands, `sync run` in the background until it serves, free loopback ports, and a
//! reader of one HTTP/1.1 request for the small fronts the tests put before a simulator.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use examples::harness::Systems;
use sim::netsuite::{GOOD, QUARANTINE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The webhook secret the configurations and the engine share.
pub const SECRET: &str = "doctor-test-secret-0123456789abcdef";

/// What the test sets in the environment of `sync` (the simulators' credentials).
pub fn environment(command: &mut Command) -> &mut Command {
    command
        .env("RUST_LOG", "error")
        .env("NETSUITE_AUTH", "m2m")
        .env("NETSUITE_CLIENT_ID", "demo-client")
        .env("NETSUITE_CERTIFICATE_ID", "demo-certificate")
        .env(
            "NETSUITE_PRIVATE_KEY_FILE",
            concat!(env!("CARGO_MANIFEST_DIR"), "/demo/simulator-m2m-key.pem"),
        )
        .env("NETSUITE_JWT_ALGORITHM", "ES256")
        .env("CLARUS_CLIENT_ID", "sim-client")
        .env("CLARUS_CLIENT_SECRET", "sim-secret")
        .env("CLARUS_WEBHOOK_SECRET", SECRET)
}

/// Runs `sync --config <config> <args>` on the blocking pool (the simulators keep serving).
pub async fn sync(config: &Path, args: &[&str]) -> Output {
    let config = config.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        environment(
            Command::new(env!("CARGO_BIN_EXE_sync"))
                .arg("--config")
                .arg(&config)
                .args(&args),
        )
        .output()
        .unwrap()
    })
    .await
    .unwrap()
}

/// `sync run` in the background, killed when dropped.
pub struct Engine(pub Child);

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sync run` and waits until its intake answers `GET /livez` (it subscribes the
/// automations in Clarus before it serves).
pub async fn start_engine(config: &Path, listen: SocketAddr) -> Engine {
    start_engine_logging(config, listen, Stdio::null()).await
}

/// [`start_engine`] with its `info` log (written to standard output) going to `log`.
pub async fn start_engine_logging(config: &Path, listen: SocketAddr, log: Stdio) -> Engine {
    let child = environment(
        Command::new(env!("CARGO_BIN_EXE_sync"))
            .arg("--config")
            .arg(config)
            .arg("run"),
    )
    .env("RUST_LOG", "info")
    .env("NO_COLOR", "1")
    .stdout(log)
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let engine = Engine(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut stream) = TcpStream::connect(listen).await {
            let _ = stream
                .write_all(b"GET /livez HTTP/1.1\r\nhost: doctor\r\nconnection: close\r\n\r\n")
                .await;
            let mut answer = Vec::new();
            let read =
                tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
            if read.is_ok() && answer.starts_with(b"HTTP/1.1 200") {
                return engine;
            }
        }
        assert!(Instant::now() < deadline, "sync run did not start serving");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free port on loopback (nothing listens on it once this returns).
pub fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Reads one request (head and `content-length` body); `None` at the end of the stream.
pub async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buffer.len() < end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[end..end + length].to_vec();
    buffer.drain(..end + length);
    Ok(Some((head, body)))
}

/// A request head read by [`read_request`] with `connection: close` in place of any connection
/// header, so that the answer to it ends where the stream does.
pub fn closing(head: &str) -> String {
    let head: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect();
    format!("{head}connection: close\r\n\r\n")
}

/// The start of a configuration for the simulators: the SQLite store in `dir`, NetSuite, and
/// Clarus at `clarus_url` (the simulator, or a front before it).
pub fn config_head(dir: &Path, systems: &Systems, clarus_url: &str) -> String {
    format!(
        r#"store_path = {store:?}
tenant = "acme"

[netsuite]
account_id = "1234567"
base_url = {netsuite:?}
allow_http = true
concurrency = 5

[clarus]
base_url = {clarus:?}
subdomain = "acme-warehouse"
allow_http = true
account_id = {account}
stock_unit_type_id = 1
"#,
        store = dir.join("store.sqlite").display().to_string(),
        netsuite = systems.netsuite.base_url(),
        clarus = clarus_url,
        account = systems.account.0,
    )
}

/// The seeded NetSuite location mapped to the Clarus `warehouse`, with its sellable and
/// quarantine stock statuses.
pub fn location_mappings(systems: &Systems, warehouse: u64) -> String {
    format!(
        r#"[[mappings.locations]]
location = "{location}"
warehouse = {warehouse}

[[mappings.stock_statuses]]
location = "{location}"
sellable = {{ type = "status", status = "{good}" }}
quarantine = {{ type = "status", status = "{quarantine}" }}
"#,
        location = systems.location.0,
        good = GOOD.0,
        quarantine = QUARANTINE.0,
    )
}
