//! `sync`: the Clarus ⇄ NetSuite engine against real endpoints, from a configuration file.
//!
//! ```text
//! sync --config sync.toml check-config
//! sync --config sync.toml run
//! sync --config sync.toml status [--json]
//! sync --config sync.toml close-check --period 2026-11 [--json] [--csv FILE]
//! sync --config sync.toml exceptions list [--owner finance] [--kind unknown-sku] [--older-than 1d] [--json]
//! sync --config sync.toml exceptions show <KEY> [--json]
//! sync --config sync.toml exceptions retry <KEY> | --kind action-failed [--note "..."]
//! sync --config sync.toml exceptions resolve <KEY> --note "fixed the mapping"
//! sync --config sync.toml report --out report.html [--json report.json]
//! sync --config sync.toml drift [--now] [--history N] [--sku SKU] [--json]
//! sync --config sync.toml doctor [--json]
//! sync --config sync.toml webhooks rotate-secret
//! sync --config sync.toml console [--listen ADDR]   (or: sync console --store <FILE|URL>)
//! sync console hash-password < password.txt
//! sync --config sync.toml store backup <DEST>    (or: sync store backup --store <FILE> <DEST>)
//! ```
//!
//! `run` stops gracefully on SIGINT (Ctrl-C) or SIGTERM. On a SQLite store it holds
//! `<store>.lock` while it runs: a second `run` on the same file is refused. On a PostgreSQL
//! store (`store = "postgres://…"`) several instances may run at once.

mod close;
mod console;
mod doctor;
mod drift;
mod exceptions;
mod report;
mod store;
mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use clarus_client::webhook::WebhookSecret;
use clarus_client::{
    ClarusClient, ClarusConfig, ClarusId, Credentials, HttpUrl, PathPrefix, Secret,
};
use netsuite_client::NetSuiteClient;
use netsuite_client::account::{AccountId, AllowHttp, Endpoint};
use netsuite_client::auth::AuthSettings;
use sync_engine::assemble::{Parts, WebhookParts, assemble_clustered};
use sync_engine::cluster::ClusterStatus;
use sync_engine::config::Config;
use sync_engine::health::Health;
use sync_engine::instance_lock::InstanceLock;
use sync_engine::monitor::StuckDetector;
use sync_engine::monitor::{lifecycles, stage_counts};
use sync_engine::netsuite::{ExecutorConfig, PollerConfig};
use sync_engine::retention::{DeliveryRetention, HistoryRetention};
use sync_engine::service::{Scheduled, backlog};
use sync_engine::snapshot::SnapshotJob;
use sync_engine::store::Store;
use sync_engine::store_location::{StoreLocation, open_store};
use sync_engine::text::printable;
use url::Url;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SETTINGS_HELP: &str = concat!(
    "SETTINGS\n\nEvery setting lives in the TOML file given with --config; secrets come from the \
environment. The commented example below (examples/sync.example.toml) explains each one.\n\n\
ENVIRONMENT\n\n  NETSUITE_AUTH, NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, NETSUITE_PRIVATE_KEY_FILE,\n  \
NETSUITE_JWT_ALGORITHM, NETSUITE_SCOPES          OAuth 2.0 client credentials (M2M)\n  \
NETSUITE_CONSUMER_KEY, NETSUITE_CONSUMER_SECRET, NETSUITE_TOKEN_ID, NETSUITE_TOKEN_SECRET   TBA\n  \
NETSUITE_REFRESH_TOKEN, NETSUITE_REDIRECT_URL, NETSUITE_CLIENT_SECRET   authorization code\n  \
NETSUITE_ACCESS_TOKEN                             a bearer token as it is\n  \
CLARUS_CLIENT_ID, CLARUS_CLIENT_SECRET            Clarus OAuth client credentials\n  \
CLARUS_WEBHOOK_SECRET                             shared secret Clarus webhooks present (?token=)\n  \
CLARUS_WEBHOOK_SECRET_PREVIOUS                    the previous one, accepted too while rotating\n  \
SYNC_STORE_PASSWORD, PGPASSWORD                   PostgreSQL store password (when the URL has none)\n  \
SYNC_CONSOLE_SESSION_KEY                          console session key (32+ bytes; required on PostgreSQL)\n  \
SYNC_CONSOLE_USERS                                console users, name:role:argon2-hash separated by ;\n  \
RUST_LOG                                          log filter, e.g. info,sync_engine=debug\n\n\
EXAMPLE CONFIGURATION\n\n",
    include_str!("../../../sync.example.toml")
);

/// Runs the Clarus WMS ⇄ NetSuite integration against real endpoints.
#[derive(Debug, Parser)]
#[command(version, after_long_help = SETTINGS_HELP)]
struct Args {
    /// The configuration file (see `sync --help` for every setting).
    #[arg(long, short, env = "SYNC_CONFIG", default_value = "sync.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks the configuration and the secrets in the environment, and prints the settings.
    CheckConfig,
    /// Runs the engine (webhook intake, NetSuite poller, outbox, Clarus sweep, reconciliation)
    /// until SIGINT (Ctrl-C) or SIGTERM, then stops gracefully; a second start resumes from the
    /// store. One engine per SQLite store: a second one on the same file is refused (several
    /// may share a PostgreSQL store).
    Run,
    /// Prints the backlog, documents per stage and open exceptions from the store.
    Status {
        /// Print JSON for machines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Lists what blocks closing a month (warehouse activity of the period not posted to
    /// NetSuite, failed postings, unexplained drift, finance's exceptions), what is only shown
    /// (warnings, earlier periods, other errors; `[close]` can make them block) and the totals
    /// to tie out per flow and transaction type. Exits with code 3 while anything blocks.
    CloseCheck(close::CloseArgs),
    /// Lists, shows, retries or resolves exceptions.
    Exceptions {
        #[command(subcommand)]
        command: exceptions::ExceptionCommand,
    },
    /// Shows stock drift from the drift history: the latest reconciliation (valued at NetSuite's
    /// average cost), or the trend; `--now` reconciles against the live systems first.
    Drift(drift::DriftArgs),
    /// Writes the operations report: one self-contained HTML page (lifecycle funnel, exceptions
    /// by owner and age with runbook links, backlog, drift), and JSON with the same figures.
    Report(report::ReportArgs),
    /// Checks the configured systems before going live, changing nothing: credentials,
    /// governance, record types, every mapping row, Clarus fields and automations, a test
    /// delivery to the intake, OneWorld, and what the first run would create. Exits with code 4
    /// when any check fails.
    Doctor(doctor::DoctorArgs),
    /// The webhook shared secret: `rotate-secret` prints a new one and the rotation steps.
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhookCommand,
    },
    /// The operations console on a store, without the engine (read-only unless an engine runs
    /// on it); `hash-password` prints a password's argon2 hash for `[console]` users.
    Console(console::ConsoleArgs),
    /// The store: `backup DEST` writes a consistent copy of the SQLite store while the engine
    /// runs (a PostgreSQL store is backed up with `pg_dump`).
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("sync: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    let command = match args.command {
        // Needs no settings, and must work while the current secret is refused as too short.
        Command::Webhooks { command } => return webhooks::run(command),
        // `--store` names the file: no configuration needed.
        Command::Console(args) if args.standalone() => return console::run(None, args).await,
        Command::Store { command } if command.explicit_store().is_some() => {
            return store::run(command, None);
        }
        command => command,
    };
    let config = Config::from_file(&args.config)?;
    match command {
        Command::CheckConfig => check_config(&config),
        Command::Run => run_engine(config).await,
        Command::Status { json } => status(&config, json).await,
        Command::CloseCheck(args) => {
            if close::run(&config, args).await? {
                std::process::exit(close::CLOSE_BLOCKED);
            }
            Ok(())
        }
        Command::Exceptions { command } => exceptions::run(&config, command).await,
        Command::Report(report_args) => report::run(&config, report_args).await,
        Command::Drift(args) => drift::drift(&config, args).await,
        Command::Doctor(args) => doctor::run(&config, args).await,
        Command::Console(args) => console::run(Some(&config), args).await,
        Command::Store { command } => store::run(command, Some(&config.store)),
        Command::Webhooks { .. } => unreachable!("handled before the configuration is read"),
    }
}

/// Opens the configured store (SQLite or PostgreSQL).
pub(crate) async fn open_configured_store(config: &Config) -> Result<Arc<dyn Store>, BoxError> {
    Ok(open_store(&config.store, &config.postgres.store_options()).await?)
}

/// The configured store for people: the file, or the URL with its password hidden, with the
/// backend's particulars.
pub(crate) fn store_description(config: &Config) -> String {
    match &config.store {
        StoreLocation::Sqlite(path) => {
            format!("{} (SQLite)", printable(&path.display().to_string()))
        }
        StoreLocation::Postgres(url) => format!(
            "{} (PostgreSQL, sslmode {}, {}, pool of {})",
            printable(&url.to_string()),
            url.sslmode().as_deref().unwrap_or("prefer (default)"),
            url.password_source(),
            config.postgres.max_connections
        ),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `CLARUS_WEBHOOK_SECRET`, and `CLARUS_WEBHOOK_SECRET_PREVIOUS` when set (during a rotation).
fn webhook_secret() -> Result<WebhookSecret, BoxError> {
    let secret = WebhookSecret::new(Secret::new(require("CLARUS_WEBHOOK_SECRET")?));
    Ok(match env("CLARUS_WEBHOOK_SECRET_PREVIOUS") {
        Some(previous) => secret.with_previous(Secret::new(previous)),
        None => secret,
    })
}

fn require(name: &'static str) -> Result<String, BoxError> {
    env(name).ok_or_else(|| format!("set {name} in the environment").into())
}

fn netsuite_client(config: &Config) -> Result<NetSuiteClient, BoxError> {
    let account = AccountId::new(&config.netsuite.account_id)?;
    let endpoint = match &config.netsuite.base_url {
        Some(url) => {
            let allow = if config.netsuite.allow_http {
                AllowHttp::Yes
            } else {
                AllowHttp::No
            };
            Endpoint::new(url, allow)?
        }
        None => account.endpoint(),
    };
    let auth = AuthSettings::from_env()?.build(&account, &endpoint)?;
    let mut builder = NetSuiteClient::builder(auth).endpoint(endpoint);
    if let Some(limit) = config.netsuite.concurrency {
        builder = builder.concurrency_limit(limit);
    }
    Ok(builder.build()?)
}

fn clarus_client(config: &Config) -> Result<ClarusClient, BoxError> {
    let settings = &config.clarus;
    let prefix = match settings.path_prefix.as_str() {
        "/api" => PathPrefix::Api,
        "/api/v1" => PathPrefix::ApiV1,
        other => PathPrefix::Custom(other.to_owned()),
    };
    Ok(ClarusClient::new(
        ClarusConfig::builder(
            &settings.subdomain,
            Credentials::client_credentials(
                require("CLARUS_CLIENT_ID")?,
                Secret::new(require("CLARUS_CLIENT_SECRET")?),
            ),
        )
        .base_url(&settings.base_url)
        .allow_insecure_http(settings.allow_http)
        .path_prefix(prefix)
        .build()?,
    )?)
}

fn check_config(config: &Config) -> Result<(), BoxError> {
    netsuite_client(config)?;
    clarus_client(config)?;
    require("CLARUS_WEBHOOK_SECRET")?;
    let jobs = extra_jobs(config)?;
    println!("configuration is valid");
    println!("  store:      {}", store_description(config));
    println!("  NetSuite:   account {}", config.netsuite.account_id);
    println!(
        "  Clarus:     {} ({}), account {}",
        redacted_url(&config.clarus.base_url),
        printable(&config.clarus.subdomain),
        config.clarus.account_id
    );
    println!(
        "  webhooks:   listen {}, public {}",
        config.webhook.listen,
        redacted_url(&config.webhook.public_url)
    );
    println!(
        "  scheduled:  {}",
        jobs.iter().map(|j| j.name()).collect::<Vec<_>>().join(", ")
    );
    println!(
        "  mappings:   {} locations, {} accounts, {} status places, {} ship methods",
        config.mappings.locations.len(),
        config.mappings.adjustment_accounts.len(),
        config.mappings.stock_statuses.len(),
        config.mappings.ship_methods.len()
    );
    Ok(())
}

/// `url` for printing: any user name and password in it replaced by `redacted`, and control
/// characters escaped. Text that is not a URL is shown only when it holds no `@`.
fn redacted_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                // Only URLs that cannot have credentials refuse these, and those have none.
                let _ = parsed.set_password(None);
                let _ = parsed.set_username("redacted");
            }
            printable(parsed.as_str()).into_owned()
        }
        Err(_) if !url.contains('@') => printable(url).into_owned(),
        Err(_) => "(not a valid URL; not shown, it may hold credentials)".to_owned(),
    }
}

async fn run_engine(config: Config) -> Result<(), BoxError> {
    // Before anything else: a second engine on the store is refused before it touches it, and
    // a SIGTERM from the moment the process starts serving stops it gracefully.
    // Several instances may share a PostgreSQL store; only a SQLite file is held.
    let _lock = match config.store.sqlite_path() {
        Some(path) => Some(InstanceLock::acquire(path)?),
        None => None,
    };
    let mut stop_signal = StopSignal::new()?;
    let store = open_configured_store(&config).await?;
    let mappings = config.mapping_tables()?;
    let time_zone = jiff::tz::TimeZone::get(&config.poll.time_zone)?;
    let listener =
        sync_engine::intake::bind(config.webhook.listen, config.webhook.max_connections)?;
    let health = Health::new(config.health.health_config());
    let console_health = health.clone();
    let assembled = assemble_clustered(
        Parts {
            store: store.clone(),
            mappings: mappings.clone(),
            netsuite: netsuite_client(&config)?,
            clarus: clarus_client(&config)?,
            tenant: config.tenant.as_str().into(),
            subdomain: config.clarus.subdomain.clone(),
            clarus_account: ClarusId::new(config.clarus.account_id),
            stock_unit_type: ClarusId::new(config.clarus.stock_unit_type_id),
            netsuite_executor: ExecutorConfig {
                time_zone: time_zone.clone(),
                mappings: Some(mappings),
                segments: config.netsuite_location_segments()?,
            },
            poller: PollerConfig {
                overlap: Duration::from_secs(config.poll.overlap_secs),
                time_zone,
                start_from: config.poll.start_from,
                adopt_existing_for: config.poll.adopt_existing_for(),
                ..PollerConfig::default()
            },
            poll_interval: Duration::from_secs(config.poll.interval_secs),
            sweep_interval: Duration::from_secs(config.poll.sweep_interval_secs),
            sweep_overlap: Some(config.clarus.sweep_overlap()),
            outbox: config.outbox.outbox_config(),
            webhooks: Some(WebhookParts {
                listener,
                public_url: HttpUrl::parse(&config.webhook.public_url)?,
                secret: webhook_secret()?,
                max_body_bytes: config.webhook.max_body_bytes,
                automation_prefix: config.webhook.automation_prefix.clone(),
                limits: config.webhook.intake_limits(),
            }),
            retry_blocked_after: Duration::from_secs(30),
            reconcile: Some(config.drift.reconcile_settings()),
            cadence: config.cadence.clone(),
            extra_scheduled: extra_jobs(&config)?,
        },
        health,
        sync_engine::clock::system(),
        config.cluster.clone(),
    )
    .await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let console =
        console::spawn_in_engine(&config, store.clone(), console_health, stopped.clone())?;
    let service = tokio::spawn(assembled.service.run(stopped));
    tracing::info!(
        listen = %config.webhook.listen,
        "engine running; Ctrl-C (SIGINT) or SIGTERM stops it gracefully"
    );
    let signal = stop_signal.received().await?;
    tracing::info!(
        "{signal} received, stopping: running actions finish, the rest resumes on the next start"
    );
    let _ = stop.send(true);
    service.await??;
    if let Some(console) = console {
        let _ = console.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The signals that stop `sync run` gracefully: SIGINT (Ctrl-C) and SIGTERM (what service
/// managers send: systemd, Docker, Kubernetes). Listening from creation, so a signal that
/// arrives while the engine starts is not lost nor fatal.
struct StopSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn new() -> std::io::Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignal {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    /// Waits for the first stop signal; returns its name for the log.
    async fn received(&mut self) -> std::io::Result<&'static str> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Ok("SIGINT (Ctrl-C)"),
                _ = self.terminate.recv() => Ok("SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await?;
            Ok("Ctrl-C")
        }
    }
}

/// Alerts (when any route is configured) and stuck-document detection.
fn extra_jobs(config: &Config) -> Result<Vec<Arc<dyn Scheduled>>, BoxError> {
    let mut jobs: Vec<Arc<dyn Scheduled>> = vec![
        Arc::new(StuckDetector::new(config.monitor.stuck.clone())),
        Arc::new(DeliveryRetention::new(config.webhook.keep_deliveries_days)),
        Arc::new(HistoryRetention::new(config.keep_history_days)),
        Arc::new(SnapshotJob::default()),
    ];
    if !config.alerts.routes.is_empty() {
        jobs.push(Arc::new(config.alerts.build(env)?));
    }
    Ok(jobs)
}

async fn status(config: &Config, json: bool) -> Result<(), BoxError> {
    let store = open_configured_store(config).await?;
    let backlog = backlog(&*store).await?;
    let documents = stage_counts(&lifecycles(&*store).await?);
    let actions = store.action_counts().await?;
    let mut open_by_owner: std::collections::BTreeMap<String, usize> = Default::default();
    for e in store.open_exceptions().await? {
        *open_by_owner.entry(e.exception.owner).or_default() += 1;
    }
    let open: usize = open_by_owner.values().sum();
    let last_run = sync_engine::drift_history::trend(&*store, None, 1)
        .await?
        .pop();
    let cluster =
        ClusterStatus::read(&*store, jiff::Timestamp::now(), config.cluster.instance_ttl).await?;
    if json {
        let actions: Vec<_> = actions
            .into_iter()
            .map(|c| {
                serde_json::json!({
                    "kind": c.kind,
                    "status": format!("{:?}", c.status).to_lowercase(),
                    "count": c.count,
                })
            })
            .collect();
        let report = serde_json::json!({
            "backlog": {
                "pending_actions": backlog.pending_actions,
                "ambiguous_actions": backlog.ambiguous_actions,
                "unprocessed_deliveries": backlog.unprocessed_deliveries,
            },
            "actions": actions,
            "documents": documents,
            "open_exceptions": open,
            "open_exceptions_by_owner": open_by_owner,
            "last_reconciliation": last_run,
            "cluster": cluster,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "backlog: {} actions pending, {} awaiting look-up, {} deliveries unprocessed",
        backlog.pending_actions, backlog.ambiguous_actions, backlog.unprocessed_deliveries
    );
    for count in actions {
        println!(
            "  {:<30} {:<10} {}",
            printable(&count.kind),
            format!("{:?}", count.status),
            count.count
        );
    }
    println!("open exceptions: {open}");
    for (owner, count) in &open_by_owner {
        println!("  {:<12} {count}", printable(owner));
    }
    match &last_run {
        Some(run) => println!(
            "last reconciliation: {} ({} positions, {} drifting, {} units unexplained, valued at {})",
            run.at,
            run.summary.positions,
            run.summary.drift,
            run.summary.unexplained_units,
            if run.summary.valued {
                format!("{:.2}", run.summary.value_impact)
            } else {
                "unknown (costs not read)".to_owned()
            }
        ),
        None => println!("last reconciliation: none recorded"),
    }
    println!("instances running: {}", cluster.instances.len());
    for instance in &cluster.instances {
        println!(
            "  {:<40} started {}, last seen {}",
            printable(&instance.id),
            instance.started_at,
            instance.last_seen
        );
    }
    for lease in &cluster.leases {
        println!(
            "  {:<40} led by {} until {}",
            printable(&lease.name),
            printable(&lease.holder),
            lease.expires_at
        );
    }
    println!("documents per stage:");
    for count in documents {
        println!(
            "  {:<22} {:<20} {}",
            count.flow.code(),
            count.stage.map_or("(none)", |s| s.code()),
            count.count
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_urls_hide_their_credentials() {
        assert_eq!(
            redacted_url("https://user:s3cret@acme.clarus.example/api"),
            "https://redacted@acme.clarus.example/api"
        );
        assert_eq!(
            redacted_url("https://:s3cret@acme.clarus.example/"),
            "https://redacted@acme.clarus.example/"
        );
        assert_eq!(
            redacted_url("https://acme.clarus.example/api"),
            "https://acme.clarus.example/api"
        );
        let unparsed = redacted_url("not a url user:s3cret@host");
        assert!(!unparsed.contains("s3cret"), "{unparsed}");
    }
}
