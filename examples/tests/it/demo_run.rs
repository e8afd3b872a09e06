//! The demo binary end to end: a short calm day on a store path of the test's own. The demo
//! starts from a fresh store (the previous one and its side files removed, a file that is not a
//! SQLite store refused and left alone), keeps the store, writes a configuration the `sync`
//! commands accept and a console user whose hash is readable by its owner only, and prints the
//! password once. The printed commands work: `sync status` reads the store, and
//! `sync console --store` serves the sign-in page and signs the user in with that password.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use examples::report::{DayDriftTally, DemoReport, DriftTally, IntakeLag};
use sync_engine::config::Config;
use sync_engine::console_settings::{ConsoleRole, USERS_VAR, parse_users};
use sync_engine::store_location::StoreLocation;

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const SYNC: &str = env!("CARGO_BIN_EXE_sync");
const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "demo-run-{name}-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn side_file(store: &Path, suffix: &str) -> PathBuf {
    let mut path = store.as_os_str().to_owned();
    path.push(suffix);
    path.into()
}

fn run_demo(dir: &Path, store: &Path) -> Output {
    Command::new(DEMO)
        .args([
            "--orders",
            "60",
            "--calm",
            "--timeout-secs",
            "300",
            "--store",
        ])
        .arg(store)
        .arg("--report")
        .arg(dir.join("report.json"))
        .arg("--html-report")
        .arg(dir.join("operations-report.html"))
        .output()
        .unwrap()
}

/// The word after `marker` in `text`.
fn word_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in:\n{text}"))
        + marker.len();
    text[start..].split_whitespace().next().unwrap()
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Sends one HTTP/1.1 request and reads the whole answer.
fn http(address: SocketAddr, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

fn get(address: SocketAddr, path: &str, cookie: Option<&str>) -> std::io::Result<String> {
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    http(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{cookie}Connection: close\r\n\r\n"),
    )
}

/// The `name=value` of the answer's session cookie.
fn session_cookie(answer: &str) -> String {
    let line = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie in:\n{answer}"));
    line["set-cookie:".len()..]
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The console, stopped when dropped.
struct Console(Child);

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_demo_keeps_its_store_and_the_printed_commands_work() {
    let dir = scratch_dir("kept");
    let store = dir.join("sync.sqlite");
    // What a previous run left: a store and its side files.
    let mut previous = SQLITE_HEADER.to_vec();
    previous.extend_from_slice(b"a previous run's pages");
    std::fs::write(&store, &previous).unwrap();
    for suffix in ["-wal", "-shm", ".lock"] {
        std::fs::write(side_file(&store, suffix), b"left over").unwrap();
    }

    let output = run_demo(&dir, &store);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");

    // A fresh store, kept.
    let kept = std::fs::read(&store).unwrap();
    assert!(kept.starts_with(SQLITE_HEADER));
    assert_ne!(kept, previous);
    for suffix in ["-wal", "-shm", ".lock"] {
        assert!(
            std::fs::read(side_file(&store, suffix)).map_or(true, |c| c != b"left over"),
            "{suffix} of the previous run is still there"
        );
    }

    // The configuration: accepted as `sync` accepts it, on the kept store.
    let config_path = dir.join("sync.toml");
    let config = Config::from_file(&config_path).unwrap();
    assert_eq!(
        config.store,
        StoreLocation::Sqlite(std::path::absolute(&store).unwrap())
    );

    // The console user: one admin, the hash only, readable by its owner only.
    let users_path = dir.join("sync-console-users");
    let users_text = std::fs::read_to_string(&users_path).unwrap();
    let users = parse_users(&users_text).unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "demo");
    assert_eq!(users[0].role, ConsoleRole::Admin);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&users_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let password = word_after(&stdout, "sign in as demo with password ");
    assert!(password.len() >= 16, "{password}");
    assert!(!users_text.contains(password));
    assert_eq!(stdout.matches(password).count(), 1, "{stdout}");

    // The printed commands, ready to paste.
    let users_arg = format!("{USERS_VAR}=\"$(cat {})\"", users_path.display());
    let console_arg = format!("console --store {}", store.display());
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(&users_arg) && l.contains(&console_arg)),
        "no console command in:\n{stdout}"
    );
    let config_arg = format!("--config {} status", config_path.display());
    assert!(stdout.contains(&config_arg), "{stdout}");

    // `sync status` on the kept store.
    let status = Command::new(SYNC)
        .arg("--config")
        .arg(&config_path)
        .arg("status")
        .output()
        .unwrap();
    let status_out = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{status_out}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(status_out.contains("fulfil_sales_order"), "{status_out}");

    // The console on the kept store, with the users as printed; sign in with the password.
    let address = free_address();
    let _console = Console(
        Command::new(SYNC)
            .env(USERS_VAR, users_text.trim_end())
            .env_remove("SYNC_CONSOLE_SESSION_KEY")
            .args(["console", "--store"])
            .arg(&store)
            .arg("--listen")
            .arg(address.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let sign_in = loop {
        match get(address, "/sign-in", None) {
            Ok(answer) => break answer,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the console did not answer: {e}"),
        }
    };
    assert!(sign_in.starts_with("HTTP/1.1 200"), "{sign_in}");
    let cookie = session_cookie(&sign_in);
    let csrf = word_after(&sign_in, "name=\"csrf\" value=\"")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let sign_in_with = |password: &str| {
        let body = format!("csrf={csrf}&name=demo&password={password}");
        http(
            address,
            &format!(
                "POST /sign-in HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .unwrap()
    };
    let refused = sign_in_with("not-the-password");
    assert!(!refused.starts_with("HTTP/1.1 303"), "{refused}");
    let signed_in = sign_in_with(password);
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    let home = get(address, "/", Some(&session_cookie(&signed_in))).unwrap();
    assert!(home.contains("data-test=\"user-name\">demo<"), "{home}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_leaves_a_file_that_is_not_a_store_alone() {
    let dir = scratch_dir("refused");
    let store = dir.join("notes.sqlite");
    std::fs::write(&store, b"not a database").unwrap();
    let output = run_demo(&dir, &store);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a SQLite store"), "{stderr}");
    assert_eq!(std::fs::read(&store).unwrap(), b"not a database");
    let _ = std::fs::remove_dir_all(&dir);
}

fn report_with(during_day: DayDriftTally) -> DemoReport {
    DemoReport {
        generated_at: jiff::Timestamp::now(),
        elapsed_secs: 29.4,
        seeded: [
            "sales_orders",
            "purchase_orders",
            "return_authorisations",
            "items",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), 1))
        .collect(),
        warehouse: Default::default(),
        unfinished_goods_outs: Default::default(),
        actions: Default::default(),
        netsuite: Default::default(),
        webhooks: Default::default(),
        exceptions_by_owner: Default::default(),
        open_exceptions_by_kind: Default::default(),
        drift: DriftTally {
            history_runs: 8,
            during_day,
            ..DriftTally::default()
        },
        despatched_without_fulfilment: Vec::new(),
    }
}

/// The summary's words on one line, and its explanation of the day's drift (checked to be
/// wrapped to 100 characters).
fn summary_of(report: &DemoReport) -> String {
    let summary = report.summary();
    if let Some(start) = summary.find("  drift during the day") {
        for line in summary[start..].lines() {
            assert!(line.chars().count() <= 100, "too long: {line}");
        }
    }
    summary.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_summary_explains_drift_raised_during_the_day() {
    let busy = DayDriftTally {
        reconcile_every_secs: 3,
        runs_with_drift: 4,
        most_drifting: 42,
        exceptions_raised: 42,
        exceptions_resolved: 42,
        exceptions_open: 0,
        intake: IntakeLag {
            most_waiting: 2431,
            longest_wait_ms: 11_680,
        },
    };
    let summary = summary_of(&report_with(busy.clone()));
    assert!(
        summary.contains("42 stock-drift exceptions were raised and 42 resolved; none remain open"),
        "{summary}"
    );
    assert!(summary.contains("compressed into 29 s"), "{summary}");
    assert!(summary.contains("reconciled every 3 s"), "{summary}");
    assert!(
        summary.contains("up to 2431 waited in the engine's intake, the oldest for 11.7 s"),
        "{summary}"
    );
    assert!(
        summary.contains("in 4 of 8 reconciliations (at most 42 positions)"),
        "{summary}"
    );

    let still_open = summary_of(&report_with(DayDriftTally {
        exceptions_resolved: 40,
        exceptions_open: 2,
        intake: IntakeLag::default(),
        ..busy.clone()
    }));
    assert!(still_open.contains("2 remain open"), "{still_open}");
    assert!(
        !still_open.contains("waited in the engine's intake"),
        "{still_open}"
    );
    assert!(still_open.contains("not planned yet"), "{still_open}");

    let passing = summary_of(&report_with(DayDriftTally {
        exceptions_raised: 0,
        exceptions_resolved: 0,
        ..busy.clone()
    }));
    assert!(
        passing.contains("no stock-drift exception was raised"),
        "{passing}"
    );
    assert!(
        passing.contains("waited in the engine's intake"),
        "{passing}"
    );
    let passing_quietly = summary_of(&report_with(DayDriftTally {
        exceptions_raised: 0,
        exceptions_resolved: 0,
        intake: IntakeLag::default(),
        ..busy.clone()
    }));
    assert!(
        passing_quietly.contains("in step again at the next reconciliation"),
        "{passing_quietly}"
    );

    let quiet = summary_of(&report_with(DayDriftTally::default()));
    assert!(!quiet.contains("drift during the day"), "{quiet}");
}
