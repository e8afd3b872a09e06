//! The end-to-end demo: both simulators in-process, a simulated warehouse day through the engine
//! to quiescence, then a summary, a JSON report, and the operations report as one self-contained
//! HTML page (with its JSON beside it).
//!
//! The engine's store is kept (`target/demo/sync.sqlite`, `--store` to change it; each run
//! starts from a fresh one) with a configuration for the `sync` commands beside it
//! (`target/demo/sync.toml`) and a console user (`target/demo/sync-console-users`, its password
//! printed once): the end of the demo prints how to open the operations console on it and a
//! few `sync` commands to try.
//!
//! ```text
//! cargo run --release -p examples --bin demo -- [--orders 500] [--seed 7] [--calm] [--store FILE]
//! ```

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use examples::harness::{
    EngineOptions, RunningEngine, SUBDOMAIN, SetupError, SweepWatch, Systems, SystemsOptions,
    TENANT, resend_lost_receipts,
};
use examples::report::{self, DayPace, IntakeLag};
use examples::scenario::{self, ScenarioOptions, WarehouseDay, WarehouseStats};
use indicatif::{ProgressBar, ProgressStyle};
use rand::distr::{Alphanumeric, SampleString};
use sync_engine::config::Config;
use sync_engine::console_settings::{ConsoleRole, USERS_VAR, parse_users};
use sync_engine::report::DriftInput;
use sync_engine::report::html::HtmlOptions;
use sync_engine::service::backlog;

/// Runs a simulated warehouse day through the Clarus ⇄ NetSuite engine.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Sales orders in the day (purchase orders, returns, stock movements and, above 1,000
    /// orders, the opening stock in proportion). A day of 10,000 orders takes a few minutes in
    /// a release build: give it `--timeout-secs 1800`.
    #[arg(long, default_value_t = 500)]
    orders: usize,
    /// Seed of every random choice; the same seed plays the same day.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Turn faults off: no NetSuite errors or lost replies, no duplicate or lost webhooks.
    #[arg(long)]
    calm: bool,
    /// The engine's store, a SQLite file kept after the demo for the `sync` commands and the
    /// operations console. Each run starts from a fresh store: a previous one at this path
    /// (with its `-wal`, `-shm` and `.lock` files) is removed first. Its configuration
    /// (`<store>.toml`) and console user (`<store>-console-users`) are written beside it.
    #[arg(long, default_value = "target/demo/sync.sqlite")]
    store: PathBuf,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/demo/report.json")]
    report: PathBuf,
    /// Where to write the operations report, a self-contained HTML page; its JSON goes beside
    /// it with the extension `.json`.
    #[arg(long, default_value = "target/demo/operations-report.html")]
    html_report: PathBuf,
    /// Give up if the day has not settled after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// Seconds between the scheduled stock reconciliations (each kept in the drift history).
    #[arg(long, default_value_t = 3)]
    reconcile_every_secs: u64,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .init();
    let args = Args::parse();
    match run(&args).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(2),
        Err(e) => {
            eprintln!("demo failed: {e}");
            std::process::exit(1);
        }
    }
}

fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// A progress bar and the warehouse figure it shows.
struct Progress {
    bar: ProgressBar,
    count: fn(&WarehouseStats) -> usize,
}

impl Progress {
    fn new(len: usize, message: &'static str, count: fn(&WarehouseStats) -> usize) -> Self {
        Progress {
            bar: bar(len as u64, message),
            count,
        }
    }

    /// Shows the figure, never past the bar's length.
    fn show(&self, stats: &WarehouseStats) {
        let len = self.bar.length().unwrap_or(u64::MAX);
        self.bar.set_position(((self.count)(stats) as u64).min(len));
    }

    /// Leaves the bar at the figure (not filled up when the figure fell short).
    fn done(&self, stats: &WarehouseStats) {
        self.show(stats);
        self.bar.abandon();
    }
}

/// Documents the warehouse has finished: goods outs despatched, failed to pick or cancelled,
/// and receipts received.
fn documents_finished(stats: &WarehouseStats) -> usize {
    stats.despatched + stats.unpickable + stats.cancelled + stats.received
}

/// Stock movements the warehouse has made.
fn movements_made(stats: &WarehouseStats) -> usize {
    stats.movements
}

/// Rounds of [`settle`] between two samples of the intake's lag (about half a second).
const SAMPLE_INTAKE_EVERY: u64 = 10;

/// Waits until the engine has nothing left to do and the warehouse is idle for a while,
/// sampling how far the engine's intake falls behind into `intake`.
async fn settle(
    systems: &Systems,
    engine: &RunningEngine,
    day: &mut WarehouseDay,
    deadline: Instant,
    progress: &Progress,
    intake: &mut IntakeLag,
) -> Result<bool, SetupError> {
    let mut quiet = 0;
    let mut sweeps = SweepWatch::default();
    let mut round: u64 = 0;
    while Instant::now() < deadline {
        if round.is_multiple_of(SAMPLE_INTAKE_EVERY) {
            intake
                .sample(engine.store.as_ref(), jiff::Timestamp::now())
                .await?;
        }
        round += 1;
        let worked = day.step(systems)?;
        let idle = systems
            .clarus
            .handle()
            .wait_for_webhooks(Duration::ZERO)
            .await;
        // Operations works the queue as the runbook says: a lost receipt webhook is re-sent.
        let resent = resend_lost_receipts(systems, engine.store.as_ref()).await?;
        day.stats.receipts_resent += resent;
        progress.show(&day.stats);
        // The store is asked only once the warehouse and the webhooks are quiet, and the
        // outbox (whose counts read every action of the day) only once the intake is empty.
        if worked == 0
            && idle
            && resent == 0
            && engine.store.unprocessed_count().await? == 0
            && backlog(engine.store.as_ref()).await?.is_empty()
            && sweeps.caught_up(systems, engine.store.as_ref()).await?
        {
            quiet += 1;
            // Long enough for a NetSuite poll and a Clarus sweep to find nothing new.
            if quiet >= 40 {
                return Ok(true);
            }
        } else {
            quiet = 0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(false)
}

async fn run(args: &Args) -> Result<bool, SetupError> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let options = if args.calm {
        SystemsOptions::calm(args.seed)
    } else {
        SystemsOptions::faulty(args.seed)
    };
    let scenario_options = ScenarioOptions::day(args.orders, args.seed);
    let kept = KeptFiles::new(&args.store)?;
    kept.start_fresh()?;
    println!(
        "Starting the NetSuite and Clarus simulators ({})",
        if args.calm {
            "calm"
        } else {
            "faults on: NetSuite 5xx and lost replies, duplicate, reordered and lost webhooks"
        }
    );
    let systems = Systems::start(&options).await?;
    let reconcile_every = args.reconcile_every_secs.max(1);
    let engine_options =
        EngineOptions::fast(&kept.store).reconciling_every(Duration::from_secs(reconcile_every));

    // Item master: NetSuite items reach Clarus as products.
    let mut seeded = scenario::seed_items(&systems, &scenario_options)?;
    let engine = RunningEngine::start(&systems, &engine_options).await?;
    let items = bar(seeded.items.len() as u64, "item master");
    loop {
        let cl = systems.clarus.handle();
        let ready = seeded
            .items
            .iter()
            .filter(|(sku, _)| cl.find_product(sku).is_some())
            .count();
        items.set_position(ready as u64);
        if ready == seeded.items.len() {
            break;
        }
        if Instant::now() > deadline {
            items.abandon();
            return Err("items did not reach Clarus in time".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    items.finish();
    scenario::seed_clarus_stock(&systems, &scenario_options, &seeded)?;

    // The day: orders, purchase orders and returns through the warehouse.
    scenario::seed_orders(&systems, &scenario_options, &mut seeded)?;
    let total = seeded.sales_orders.len() + seeded.purchase_orders.len() + seeded.returns.len();
    let documents = Progress::new(total, "orders and receipts", documents_finished);
    let mut day = WarehouseDay::new(&scenario_options, &seeded);
    let mut intake = IntakeLag::default();
    let mut settled = settle(
        &systems,
        &engine,
        &mut day,
        deadline,
        &documents,
        &mut intake,
    )
    .await?;
    documents.done(&day.stats);

    // Stock movements once the picking is done.
    if settled {
        let made = day.move_stock(&systems, &seeded)?;
        let moves = Progress::new(made, "stock movements", movements_made);
        settled = settle(&systems, &engine, &mut day, deadline, &moves, &mut intake).await?;
        moves.done(&day.stats);
    }

    let unfinished = day.unfinished(&systems);
    let report = report::gather_paced(
        &systems,
        &engine.store,
        &scenario_options,
        &day.stats,
        unfinished,
        DayPace {
            elapsed_secs: started.elapsed().as_secs_f64(),
            reconcile_every_secs: reconcile_every,
            intake,
        },
    )
    .await?;
    // The scheduled reconciliations of the day and the end-of-day one (made by `gather`) are
    // the drift history the report shows.
    let drift = DriftInput::from_history(engine.store.as_ref(), 500).await?;
    let html_json = args.html_report.with_extension("json");
    report::write_operations_report(
        engine.store.as_ref(),
        drift,
        jiff::Timestamp::now(),
        &args.html_report,
        Some(&html_json),
        &HtmlOptions {
            guide_url: report::local_guide_url(),
            ..HtmlOptions::default()
        },
    )
    .await?;
    engine.stop().await;

    println!();
    print!("{}", report.summary());
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    sync_engine::report::write_file(&args.report, serde_json::to_vec_pretty(&report)?)?;
    println!("\nJSON report: {}", args.report.display());
    println!(
        "Operations report (open in a browser): {} (JSON: {})",
        args.html_report.display(),
        html_json.display()
    );
    let config = sync_config(&systems, &kept.store, reconcile_every)?;
    sync_engine::report::write_file(&kept.config, config)?;
    let password = kept.write_console_user()?;
    print!("\n{}", kept.try_it(&password, jiff::Timestamp::now()));
    if !settled {
        eprintln!("the day did not settle within {} s", args.timeout_secs);
    }
    Ok(settled)
}

/// The console user the demo makes.
const CONSOLE_USER: &str = "demo";
/// Its role: it sees and may act on every owner's exceptions.
const CONSOLE_ROLE: ConsoleRole = ConsoleRole::Admin;
/// Where `sync console --store` listens by default.
const CONSOLE_URL: &str = "http://127.0.0.1:8090/";
/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The files the demo keeps: the store, its configuration and its console user.
#[derive(Debug)]
struct KeptFiles {
    store: PathBuf,
    config: PathBuf,
    users: PathBuf,
}

/// A store file the demo may not remove or write.
#[derive(Debug)]
enum KeptFileError {
    /// A file at the store's path that is not a SQLite database: left alone.
    NotSqlite(PathBuf),
    /// A store path whose configuration file would be the store itself.
    ConfigIsStore(PathBuf),
    /// Reading or removing a file failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl std::fmt::Display for KeptFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeptFileError::NotSqlite(path) => write!(
                f,
                "{} is not a SQLite store; the demo removes the store it is given before it \
                 starts, so give --store a path of its own",
                path.display()
            ),
            KeptFileError::ConfigIsStore(path) => write!(
                f,
                "--store {}: the configuration is written beside the store as <store>.toml, \
                 so the store's name may not end in .toml",
                path.display()
            ),
            KeptFileError::Io { path, .. } => {
                write!(f, "the previous store file {}", path.display())
            }
        }
    }
}

impl std::error::Error for KeptFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeptFileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl KeptFiles {
    fn new(store: &Path) -> Result<Self, KeptFileError> {
        let config = store.with_extension("toml");
        if config == store {
            return Err(KeptFileError::ConfigIsStore(store.to_owned()));
        }
        let mut users = store.with_extension("").into_os_string();
        users.push("-console-users");
        Ok(KeptFiles {
            store: store.to_owned(),
            config,
            users: users.into(),
        })
    }

    /// `<store><suffix>`: SQLite's `-wal` and `-shm`, the engine's `.lock`.
    fn side_file(&self, suffix: &str) -> PathBuf {
        let mut path = self.store.clone().into_os_string();
        path.push(suffix);
        path.into()
    }

    /// Removes the previous run's store and its side files (only at the store's path; a file
    /// there that is not a SQLite database is left alone and refused), and makes its directory.
    fn start_fresh(&self) -> Result<(), KeptFileError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| KeptFileError::Io { path, source }
        };
        match std::fs::File::open(&self.store) {
            Ok(mut file) => {
                let mut header = Vec::with_capacity(SQLITE_HEADER.len());
                file.by_ref()
                    .take(SQLITE_HEADER.len() as u64)
                    .read_to_end(&mut header)
                    .map_err(io(&self.store))?;
                // An empty file is what SQLite leaves when a store was opened and never written.
                if !header.is_empty() && header != SQLITE_HEADER {
                    return Err(KeptFileError::NotSqlite(self.store.clone()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&self.store)(e)),
        }
        for path in [
            self.store.clone(),
            self.side_file("-wal"),
            self.side_file("-shm"),
            self.side_file(".lock"),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        if let Some(dir) = self.store.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        Ok(())
    }

    /// Makes the console user with a new random password: writes its `SYNC_CONSOLE_USERS`
    /// entry (the password's argon2 hash, never the password) to the users file, readable by
    /// its owner only, and answers the password.
    fn write_console_user(&self) -> Result<String, SetupError> {
        let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
        let hash = sync_console::auth::hash_password(&password)?;
        let entry = format!("{CONSOLE_USER}:{}:{hash}", CONSOLE_ROLE.as_str());
        // What the console will read: checked here, so the printed command does not fail on it.
        parse_users(&entry)?;
        sync_engine::report::write_file(&self.users, format!("{entry}\n"))?;
        Ok(password)
    }

    /// How to open the console on the kept store and a few `sync` commands to try, ready to
    /// paste (in the directory the demo ran in).
    fn try_it(&self, password: &str, now: jiff::Timestamp) -> String {
        let sync = "cargo run -q --release -p examples --bin sync --";
        let store = shell_word(&self.store.display().to_string());
        let config = shell_word(&self.config.display().to_string());
        let users = shell_word(&self.users.display().to_string());
        let month = jiff::tz::TimeZone::UTC.to_datetime(now).strftime("%Y-%m");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "The engine's store is kept: {store}. The operations console on it (read-only: no \
             engine runs on it now):"
        );
        let _ = writeln!(
            out,
            "  {USERS_VAR}=\"$(cat {users})\" {sync} console --store {store}"
        );
        let _ = writeln!(
            out,
            "  then open {CONSOLE_URL} and sign in as {CONSOLE_USER} with password {password} \
             (shown only now; {users} holds its hash)"
        );
        let _ = writeln!(
            out,
            "The `sync` commands on it, with the configuration written beside it ({config}):"
        );
        for command in [
            "status".to_owned(),
            "exceptions list --all".to_owned(),
            "drift --history 20".to_owned(),
            format!("close-check --period {month}"),
        ] {
            let _ = writeln!(out, "  {sync} --config {config} {command}");
        }
        out
    }
}

/// `text` as one shell word: as it is when it holds only characters no shell reads specially,
/// else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A configuration for the `sync` commands that read the demo's store (`status`, `exceptions`,
/// `drift`, `close-check`, `report`), checked as `sync` checks it. NetSuite and Clarus are the
/// simulators the demo ran against: they stopped with it, so commands that reach them (`run`,
/// `doctor`, `drift --now`) find nothing to connect to.
fn sync_config(
    systems: &Systems,
    store: &Path,
    reconcile_every_secs: u64,
) -> Result<String, SetupError> {
    let store = std::path::absolute(store)?;
    let store = store
        .to_str()
        .ok_or("the store's path is not UTF-8; give --store another")?;
    // A JSON string is a TOML basic string.
    let quoted = |text: &str| serde_json::to_string(text);
    let text = format!(
        "# Written by the demo for the `sync` commands on its store. NetSuite and Clarus are the\n\
         # demo's simulators, which stopped with it: `status`, `exceptions`, `drift`, `close-check`\n\
         # and `report` read the store; `run`, `doctor` and `drift --now` have nothing to reach.\n\
         store = {store}\n\
         tenant = {tenant}\n\
         \n\
         [netsuite]\n\
         account_id = \"1234567\"\n\
         base_url = {netsuite}\n\
         allow_http = true\n\
         \n\
         [clarus]\n\
         base_url = {clarus}\n\
         allow_http = true\n\
         subdomain = {subdomain}\n\
         account_id = {account}\n\
         stock_unit_type_id = 1\n\
         \n\
         [webhook]\n\
         listen = \"127.0.0.1:8080\"\n\
         public_url = \"http://127.0.0.1:8080/webhooks/clarus\"\n\
         \n\
         # As the demo reconciled: exact, a drift confirmed by two runs.\n\
         [drift]\n\
         interval_secs = {reconcile_every_secs}\n\
         units = 0\n\
         percent = 0\n\
         confirm_runs = 2\n",
        store = quoted(store)?,
        tenant = quoted(TENANT)?,
        netsuite = quoted(systems.netsuite.base_url())?,
        clarus = quoted(systems.clarus.base_url())?,
        subdomain = quoted(SUBDOMAIN)?,
        account = systems.account.0,
    );
    Config::from_toml(&text)?;
    Ok(text)
}
