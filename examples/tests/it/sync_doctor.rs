//! `sync doctor` against both simulators: a healthy configuration (the engine's intake running,
//! so the test delivery lands) passes with exit code 0; a broken one (a location mapped to a
//! warehouse Clarus does not have, no intake at `webhook.public_url`) fails those lines with
//! their hints and exits with code 4. The first-run count is checked against seeded orders.
//!
//! The Clarus simulator serves no `warehouses` and `carriers` GraphQL roots (documented, not
//! modelled), so the doctor reaches it through a small front that answers those two reads from
//! the seeded reference data and passes every other request through unchanged.
//!
//! `sync run` as a service is tested here too, on the same simulators: one engine per SQLite
//! store, `sync store backup` while it runs, and SIGTERM stopping it gracefully.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::cli::scratch_dir;
use crate::support::service::*;
use examples::harness::{Systems, SystemsOptions};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sim::netsuite::{ItemKind, NewItem, NewOrder, NewOrderLine, OrderKind};
use sync_engine::service::backlog;
use sync_engine::store::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where the configuration points.
struct Setting<'a> {
    clarus_url: &'a str,
    listen: SocketAddr,
    warehouse: u64,
}

/// A configuration for the simulators; returns its path.
fn write_config(dir: &Path, name: &str, systems: &Systems, setting: &Setting<'_>) -> PathBuf {
    let config = format!(
        r#"{head}
[webhook]
listen = "{listen}"
public_url = "http://{listen}/webhooks/clarus"

{mappings}
[[mappings.adjustment_accounts]]
kind = "negative_adjustment"
account = "540"

[[mappings.ship_methods]]
carrier = {carrier}
ship_method = "92"
"#,
        head = config_head(dir, systems, setting.clarus_url),
        mappings = location_mappings(systems, setting.warehouse),
        listen = setting.listen,
        carrier = systems.carrier.0,
    );
    let path = dir.join(name);
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs `sync doctor --json` with `config`, checks its exit code and returns the report.
async fn doctor_json(config: &Path, exit_code: i32) -> Value {
    let output = sync(config, &["doctor", "--json"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(exit_code),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

/// The checks of `sync doctor --json`, by name: (outcome, detail, hint).
fn by_name(report: &Value) -> BTreeMap<String, (String, String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("name"), (s("outcome"), s("detail"), s("hint")))
        })
        .collect()
}

/// The records the Clarus front answers itself: `(id, code, name)`.
struct Directory {
    warehouses: Vec<(u64, &'static str, &'static str)>,
    carriers: Vec<(u64, &'static str, &'static str)>,
}

impl Directory {
    /// The answer to a `warehouses` or `carriers` list query, or `None` to pass it on.
    fn answer(&self, body: &[u8]) -> Option<Vec<u8>> {
        let request: Value = serde_json::from_slice(body).ok()?;
        let query = request["query"].as_str()?;
        let (root, rows, extra) = if query.contains("{ warehouses {") {
            ("warehouses", &self.warehouses, json!({}))
        } else if query.contains("{ carriers {") {
            ("carriers", &self.carriers, json!({"active": true}))
        } else {
            return None;
        };
        let edges: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (id, code, name))| {
                let mut node = json!({"id": id.to_string(), "code": code, "name": name});
                for (k, v) in extra.as_object().into_iter().flatten() {
                    node[k] = v.clone();
                }
                json!({"cursor": format!("c{i}"), "node": node})
            })
            .collect();
        let page = json!({"pageInfo": {"hasNextPage": false, "endCursor": null}, "edges": edges});
        Some(serde_json::to_vec(&json!({"data": {root: {"all": page}}})).unwrap())
    }
}

/// A front for the Clarus simulator: answers `warehouses` and `carriers` from `directory`, passes
/// every other request to `upstream`. Returns its base URL.
async fn clarus_front(upstream: SocketAddr, directory: Directory) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let directory = Arc::new(directory);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let directory = directory.clone();
            tokio::spawn(async move {
                let _ = serve(stream, upstream, &directory).await;
            });
        }
    });
    format!("http://{addr}")
}

/// One client connection: requests in turn, each answered or passed on.
async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    directory: &Directory,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut client, &mut buffer).await? else {
            return Ok(());
        };
        let own = head
            .starts_with("POST /graphql ")
            .then(|| directory.answer(&body))
            .flatten();
        let response = match own {
            Some(json) => {
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    json.len()
                )
                .into_bytes();
                response.extend(json);
                response
            }
            None => {
                // Passed on with `connection: close`, so the answer ends where the stream does.
                let mut upstream = TcpStream::connect(upstream).await?;
                upstream.write_all(closing(&head).as_bytes()).await?;
                upstream.write_all(&body).await?;
                let mut response = Vec::new();
                upstream.read_to_end(&mut response).await?;
                response
            }
        };
        client.write_all(&response).await?;
    }
}

fn directory(systems: &Systems) -> Directory {
    Directory {
        warehouses: vec![(systems.warehouse.0, "MAIN", "Main warehouse")],
        carriers: vec![(systems.carrier.0, "DPD", "DPD Next Day")],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_configuration_passes() {
    let systems = Systems::start(&SystemsOptions::calm(41)).await.unwrap();
    let dir = scratch_dir("sync-doctor");
    let listen = free_address();
    let front = clarus_front(systems.clarus.addr(), directory(&systems)).await;
    let warehouse = systems.warehouse.0;
    let engine_config = write_config(
        &dir,
        "engine.toml",
        &systems,
        &Setting {
            clarus_url: systems.clarus.base_url(),
            listen,
            warehouse,
        },
    );
    let config = write_config(
        &dir,
        "sync.toml",
        &systems,
        &Setting {
            clarus_url: &front,
            listen,
            warehouse,
        },
    );
    let engine = start_engine(&engine_config, listen).await;
    // Its first poll records the go-live in the store (`docs/decisions/go-live.md`).
    let store = SqliteStore::open(dir.join("store.sqlite")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.watermark("go_live").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "no first poll");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let report = doctor_json(&config, 0).await;
    let checks = by_name(&report);
    let outcome = |name: &str| {
        checks
            .get(name)
            .unwrap_or_else(|| panic!("no check {name}: {report:#}"))
            .0
            .clone()
    };
    for name in [
        "NetSuite credentials",
        "Clarus credentials",
        "NetSuite concurrency",
        "NetSuite record types",
        "NetSuite features",
        "NetSuite SuiteQL",
        "NetSuite locations",
        "Clarus warehouses",
        "NetSuite inventory statuses",
        "Clarus carriers",
        "Clarus GraphQL fields",
        "Clarus automations",
        "Webhook test delivery",
        "First run",
    ] {
        assert_eq!(outcome(name), "pass", "{name}: {:?}", checks[name]);
    }
    // What the simulator cannot tell: it models no `account`, `shipitem` or `subsidiary` table.
    for name in [
        "NetSuite adjustment accounts",
        "NetSuite ship methods",
        "NetSuite OneWorld",
    ] {
        assert_eq!(outcome(name), "warn", "{name}: {:?}", checks[name]);
    }
    assert_eq!(report["failed"], 0);
    assert!(
        checks["NetSuite concurrency"]
            .1
            .contains("the engine will use 5 requests in flight"),
        "{:?}",
        checks["NetSuite concurrency"]
    );
    let needed = sync_engine::clarus::SYNC_SUBSCRIPTIONS.len();
    assert!(
        checks["Clarus automations"]
            .1
            .starts_with(&format!("{needed} of {needed} present and enabled")),
        "{:?}",
        checks["Clarus automations"]
    );
    assert_eq!(
        checks["First run"].1,
        "would create 0 goods outs, 0 receipts; 0 already exist in Clarus; the store has polled \
         NetSuite before: this is no longer a first run, and what Clarus has may be the engine's own"
    );
    assert!(
        checks["Clarus GraphQL fields"]
            .1
            .contains("nothing beyond the documentation"),
        "{:?}",
        checks["Clarus GraphQL fields"]
    );

    // The running engine stored the test delivery and decoded it to nothing: no exception.
    let deadline = Instant::now() + Duration::from_secs(5);
    while backlog(&store).await.unwrap().unprocessed_deliveries > 0 {
        assert!(
            Instant::now() < deadline,
            "the test delivery was not processed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.exceptions().await.unwrap(), []);

    // The table: one line per check, hints under warnings.
    let output = sync(&config, &["doctor"]).await;
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("PASS  Webhook test delivery") && l.contains("accepted")),
        "{table}"
    );
    assert!(
        table.contains("WARN  NetSuite OneWorld") && table.contains("hint: "),
        "{table}"
    );
    assert!(!table.contains(SECRET), "the secret is never printed");
    assert!(!table.contains("FAIL"), "{table}");
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_configuration_fails_with_hints_and_exit_code_4() {
    let systems = Systems::start(&SystemsOptions::calm(43)).await.unwrap();
    let ns = systems.netsuite.handle();
    let mug = ns
        .add_item(NewItem::new("MUG", ItemKind::Inventory))
        .unwrap();
    let overflow = ns.add_location("Overflow", None).unwrap();
    let order = |tran_id: &str, location, pending_approval| NewOrder {
        tran_id: Some(tran_id.into()),
        location: Some(location),
        lines: vec![NewOrderLine {
            item: mug,
            quantity: Decimal::ONE,
            location: None,
        }],
        pending_approval,
        ..NewOrder::default()
    };
    let so = OrderKind::SalesOrder;
    ns.add_order(so, order("SO-A", systems.location, false))
        .unwrap();
    ns.add_order(so, order("SO-B", systems.location, false))
        .unwrap();
    ns.add_order(so, order("SO-C", systems.location, true))
        .unwrap();
    ns.add_order(so, order("SO-E", overflow, false)).unwrap();
    ns.add_order(
        OrderKind::PurchaseOrder,
        order("PO-D", systems.location, false),
    )
    .unwrap();
    // SO-B is already in Clarus (created by hand, say).
    let product = systems.clarus.handle().add_product("MUG", "Mug").unwrap();
    let mut goods_out = clarus_client::rest::goods_out::GoodsOut::sales_order(
        clarus_client::ClarusId::new(systems.account.0 as i64),
        "SO-B",
        Timestamp::now(),
    );
    goods_out.warehouse_id = Some(clarus_client::ClarusId::new(systems.warehouse.0 as i64));
    goods_out.lines_changes = vec![clarus_client::rest::common::Change::Add(
        clarus_client::rest::goods_out::GoodsOutLine::new(
            clarus_client::ClarusId::new(product.0 as i64),
            Decimal::ONE,
        ),
    )];
    systems
        .clarus_client()
        .unwrap()
        .create_goods_out(&goods_out)
        .await
        .unwrap();

    let dir = scratch_dir("sync-doctor");
    let front = clarus_front(systems.clarus.addr(), directory(&systems)).await;
    let config = write_config(
        &dir,
        "sync.toml",
        &systems,
        &Setting {
            clarus_url: &front,
            // Nothing listens there: no engine runs.
            listen: free_address(),
            warehouse: 999,
        },
    );

    let report = doctor_json(&config, 4).await;
    let checks = by_name(&report);

    let (outcome, detail, hint) = &checks["Clarus warehouses"];
    assert_eq!(outcome, "fail");
    assert!(
        detail.contains("warehouse 999 (location") && detail.contains("MAIN"),
        "{detail}"
    );
    assert!(hint.contains("[[mappings.locations]]"), "{hint}");

    let (outcome, detail, hint) = &checks["Webhook test delivery"];
    assert_eq!(outcome, "fail");
    assert!(detail.contains("did not arrive"), "{detail}");
    assert!(hint.contains("start `sync run`"), "{hint}");
    assert!(
        !report.to_string().contains(SECRET),
        "the secret is never printed"
    );

    // No engine ever ran: the automations are missing, which `sync run` fixes by itself.
    let (outcome, detail, _) = &checks["Clarus automations"];
    assert_eq!(outcome, "warn");
    let needed = sync_engine::clarus::SYNC_SUBSCRIPTIONS.len();
    assert!(
        detail.starts_with(&format!("{needed} of {needed} missing")),
        "{detail}"
    );

    // The NetSuite side of the mapping is fine.
    assert_eq!(checks["NetSuite locations"].0, "pass");

    // SO-A and SO-B would become goods outs, PO-D a receipt; SO-C waits for approval, SO-E is at
    // a location without a mapping; SO-B is in Clarus already.
    // Adopted, not created again, within the default adoption window.
    let (outcome, detail, _) = &checks["First run"];
    assert_eq!(outcome, "pass");
    assert_eq!(
        detail,
        &format!(
            "would create 1 goods outs, 1 receipts; 1 already exist in Clarus (would be adopted, \
             not created again: SO-B); 1 open orders at locations without a mapping ({}) would wait",
            overflow.0
        )
    );
    let first_run = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "First run")
        .unwrap();
    let mut tran_ids: Vec<&str> = first_run["data"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["tranid"].as_str().unwrap())
        .collect();
    tran_ids.sort_unstable();
    assert_eq!(tran_ids, ["PO-D", "SO-A", "SO-B"]);

    assert_eq!(
        report["failed"], 2,
        "only the two broken things fail: {report:#}"
    );
    assert!(
        !dir.join("store.sqlite").exists(),
        "the doctor creates no store"
    );

    // With adoption off, SO-B would be created a second time.
    let text = std::fs::read_to_string(&config).unwrap();
    let no_adoption = dir.join("no-adoption.toml");
    std::fs::write(
        &no_adoption,
        format!("{text}\n[poll]\nadopt_existing_hours = 0\n"),
    )
    .unwrap();
    let report: Value =
        serde_json::from_slice(&sync(&no_adoption, &["doctor", "--json"]).await.stdout).unwrap();
    let (outcome, detail, hint) = &by_name(&report)["First run"];
    assert_eq!(outcome, "warn");
    assert!(
        detail.starts_with(
            "would create 2 goods outs, 1 receipts; 1 of them already exist in Clarus and would \
             be created a second time (adoption is off: SO-B)"
        ),
        "{detail}"
    );
    assert!(hint.contains("adopt_existing_hours"), "{hint}");

    // The table shows each failure with its hint on the next line.
    let output = sync(&config, &["doctor"]).await;
    assert_eq!(output.status.code(), Some(4));
    let table = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = table.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("FAIL  Clarus warehouses"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(lines[at + 1].trim_start().starts_with("hint: "), "{table}");
    assert!(table.contains("(exit code 4)"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_run_as_a_service_holds_its_store_is_backed_up_live_and_drains_on_sigterm() {
    let systems = Systems::start(&SystemsOptions::calm(47)).await.unwrap();
    let dir = scratch_dir("sync-service");
    let store_path = dir.join("store.sqlite");
    let setting = |listen| Setting {
        clarus_url: systems.clarus.base_url(),
        listen,
        warehouse: systems.warehouse.0,
    };
    let listen = free_address();
    let config = write_config(&dir, "sync.toml", &systems, &setting(listen));
    let log = dir.join("engine.log");
    let mut engine = start_engine_logging(
        &config,
        listen,
        Stdio::from(std::fs::File::create(&log).unwrap()),
    )
    .await;
    let store = SqliteStore::open(&store_path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.watermark("go_live").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "no first poll");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A second engine on the same store (on another port) is refused at start, naming the file.
    let second = write_config(&dir, "second.toml", &systems, &setting(free_address()));
    let output = tokio::time::timeout(Duration::from_secs(30), sync(&second, &["run"]))
        .await
        .expect("a second `sync run` on the same store did not exit");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another instance holds the store")
            && stderr.contains(&store_path.display().to_string())
            && stderr.contains("PostgreSQL"),
        "{stderr}"
    );

    // The commands that read the store work while the engine runs.
    for args in [&["status", "--json"][..], &["exceptions", "list"]] {
        let output = sync(&config, args).await;
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // A backup while it runs: a consistent copy holding what the engine recorded.
    let copy = dir.join("backup.sqlite");
    let copy_arg = copy.to_str().unwrap();
    let output = sync(&config, &["store", "backup", copy_arg]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("backed up "), "{stdout}");
    let copied = SqliteStore::open(&copy).unwrap();
    assert_eq!(
        copied.watermark("go_live").await.unwrap(),
        store.watermark("go_live").await.unwrap()
    );
    drop(copied);
    // Never over an existing file, with the store named on the command line.
    let before = std::fs::read(&copy).unwrap();
    let output = sync(
        &config,
        &[
            "store",
            "backup",
            "--store",
            store_path.to_str().unwrap(),
            copy_arg,
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("exists already"), "{stderr}");
    assert_eq!(std::fs::read(&copy).unwrap(), before);

    // SIGTERM drains as Ctrl-C does: a graceful stop, exit code 0.
    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(engine.0.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = engine.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "sync run did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{status}\n{logged}");
    assert!(logged.contains("SIGTERM received, stopping"), "{logged}");
    assert!(
        logged.lines().last().unwrap_or("").ends_with("stopped"),
        "{logged}"
    );
    drop(engine);

    // The lock went with the process: the next start takes the store.
    let engine = start_engine(&config, listen).await;
    drop(engine);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `deploy/` stays honest: the systemd unit's `ExecStart` and the image's `ENTRYPOINT` + `CMD`
/// are one command line, which `sync` accepts and which checks a configuration when `run` is
/// swapped for `check-config` (with nothing in the environment but the variables the
/// environment-file template sets); and every variable the template or the guide's list names is
/// one `sync` reads (named in `sync --help`, or read by name in the source).
#[test]
fn the_deploy_files_run_a_command_sync_accepts_with_variables_it_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |path: &str| {
        std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let is_variable = |word: &str| {
        word.len() > 2
            && word.contains('_')
            && word.starts_with(|c: char| c.is_ascii_uppercase())
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };

    // One command line in both files.
    let unit = read("deploy/sync.service");
    let exec: Vec<String> = unit
        .lines()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .expect("ExecStart= in deploy/sync.service")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let containerfile = read("deploy/Containerfile");
    let instruction = |name: &str| -> Vec<String> {
        let line = containerfile
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name}in deploy/Containerfile"));
        serde_json::from_str(line.trim()).expect("the exec (JSON) form")
    };
    let image = [instruction("ENTRYPOINT "), instruction("CMD ")].concat();
    assert_eq!(
        exec, image,
        "the unit and the image run different command lines"
    );
    let (program, args) = exec.split_first().unwrap();
    assert!(
        program.starts_with('/') && program.ends_with("/sync") && program != "/usr/bin/sync",
        "{program}: the full path, and not coreutils' /usr/bin/sync"
    );
    assert_eq!(args.last().map(String::as_str), Some("run"), "{args:?}");

    // `sync` parses it: `--help` after the command line prints `run`'s help.
    let help = Command::new(env!("CARGO_BIN_EXE_sync"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.status.success() && text.contains("Runs the engine"),
        "{help:?}"
    );

    // The template's variables (with test values) are enough for `check-config`.
    let template = read("deploy/sync.env.example");
    let assignments = template.lines().filter_map(|line| {
        let (name, _) = line.trim_start_matches(['#', ' ']).split_once('=')?;
        is_variable(name).then(|| (name.to_owned(), !line.starts_with('#')))
    });
    let test_value = |name: &str| match name {
        "NETSUITE_AUTH" => "m2m".to_owned(),
        "NETSUITE_CLIENT_ID" => "demo-client".to_owned(),
        "NETSUITE_CERTIFICATE_ID" => "demo-certificate".to_owned(),
        "NETSUITE_PRIVATE_KEY_FILE" => {
            concat!(env!("CARGO_MANIFEST_DIR"), "/demo/simulator-m2m-key.pem").to_owned()
        }
        "CLARUS_CLIENT_ID" => "sim-client".to_owned(),
        "CLARUS_CLIENT_SECRET" => "sim-secret".to_owned(),
        "CLARUS_WEBHOOK_SECRET" => SECRET.to_owned(),
        "SYNC_STORE_PASSWORD" => "unused-on-sqlite".to_owned(),
        other => panic!("deploy/sync.env.example sets {other}: give it a test value here"),
    };
    let dir = scratch_dir("sync-deploy-files");
    let config = crate::support::cli::write_config(&dir);
    let mut check = Command::new(env!("CARGO_BIN_EXE_sync"));
    check.env_clear();
    let mut named = Vec::new();
    for (name, set) in assignments {
        if set {
            check.env(&name, test_value(&name));
        }
        named.push(name);
    }
    let config_value = args.iter().position(|a| a == "--config").expect("--config") + 1;
    let mut checking = args.to_vec();
    checking[config_value] = config.display().to_string();
    *checking.last_mut().unwrap() = "check-config".to_owned();
    let checked = check
        .args(&checking)
        // The demo key is an EC key; the example configuration's alert sinks read these.
        .env("NETSUITE_JWT_ALGORITHM", "ES256")
        .env("ALERT_WEBHOOK_OPS", "https://hooks.example.com/ops")
        .env("ALERT_SMTP_PASSWORD", "smtp-password")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        checked.status.success()
            && String::from_utf8_lossy(&checked.stdout).contains("configuration is valid"),
        "{checked:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    // Every variable named in the template and in the guide's list is one `sync` reads.
    let guide = read("docs/guide.md");
    let table = guide
        .split("## 3. Configure")
        .nth(1)
        .and_then(|rest| rest.split("### The store").next())
        .expect("the guide's Configure section");
    let several = guide
        .split("### Several instances")
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .expect("the guide's Several instances section");
    named.extend(
        table
            .lines()
            .filter(|line| line.starts_with("| `"))
            .chain(several.lines())
            .flat_map(|line| line.split('`').skip(1).step_by(2))
            .filter(|word| is_variable(word))
            .map(str::to_owned),
    );
    let usage = Command::new(env!("CARGO_BIN_EXE_sync"))
        .arg("--help")
        .output()
        .unwrap();
    let usage = String::from_utf8(usage.stdout).unwrap();
    let environment = usage
        .split("ENVIRONMENT")
        .nth(1)
        .and_then(|rest| rest.split("EXAMPLE CONFIGURATION").next())
        .expect("the ENVIRONMENT section of sync --help");
    let listed: Vec<&str> = environment
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let sources = [
        "examples/src/bin/sync/main.rs",
        "netsuite-client/src/auth/settings.rs",
        "sync-engine/src/store_location.rs",
        "sync-engine/src/config.rs",
    ]
    .map(read)
    .concat();
    assert!(named.len() > 8, "{named:?}");
    for name in &named {
        assert!(
            listed.contains(&name.as_str()) || sources.contains(&format!("\"{name}\"")),
            "{name} is named in deploy/sync.env.example or docs/guide.md, but sync does not read it"
        );
    }
}
