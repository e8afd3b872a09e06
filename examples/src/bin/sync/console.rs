//! `sync console`: the operations console on a store, without the engine; and
//! `sync console hash-password`.
//!
//! ```text
//! sync --config sync.toml console                       # the configured store and [console]
//! sync console --store /var/lib/sync/sync.sqlite [--listen 127.0.0.1:8090]
//! sync console hash-password < password.txt
//! ```
//!
//! Actions are carried out by a running engine: the console is read-only unless an engine runs
//! on the same store (SQLite: the engine holds `<store>.lock`; PostgreSQL: an instance sent a
//! heartbeat recently). `sync run` serves the console itself when `[console]` is configured.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Args, Subcommand};
use sync_console::{Console, ConsoleOptions, EngineProbe, Links, METRICS_TOKEN_VAR};
use sync_engine::config::Config;
use sync_engine::console_settings::{ConsoleSettings, SESSION_KEY_VAR, SessionKey, USERS_VAR};
use sync_engine::health::Health;
use sync_engine::store::Store;
use sync_engine::store_location::{StoreLocation, open_store};

use crate::BoxError;

/// The address `sync console --store` listens on by default.
const DEFAULT_LISTEN: &str = "127.0.0.1:8090";

/// Serves the operations console on a store, or prints a password hash.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConsoleArgs {
    #[command(subcommand)]
    command: Option<ConsoleCommand>,
    /// The store to serve (a SQLite file or a postgres:// URL) instead of the configured one;
    /// no configuration file is read (users come from SYNC_CONSOLE_USERS).
    #[arg(long)]
    store: Option<String>,
    /// The address to listen on (default: [console] listen, else 127.0.0.1:8090).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum ConsoleCommand {
    /// Reads a password from the first line of standard input and prints its argon2id PHC
    /// string for [[console.users]] password_hash or SYNC_CONSOLE_USERS.
    HashPassword,
}

impl ConsoleArgs {
    /// Whether the command needs no configuration file.
    pub fn standalone(&self) -> bool {
        self.command.is_some() || self.store.is_some()
    }
}

/// Runs `sync console`; `config` is `None` when [`ConsoleArgs::standalone`].
pub async fn run(config: Option<&Config>, args: ConsoleArgs) -> Result<(), BoxError> {
    if let Some(ConsoleCommand::HashPassword) = args.command {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']);
        if password.is_empty() {
            return Err("no password on standard input".into());
        }
        println!("{}", sync_console::auth::hash_password(password)?);
        return Ok(());
    }
    let env_users = std::env::var(USERS_VAR).ok();
    let (store, location, settings, options) = match (&args.store, config) {
        (Some(store), _) => {
            let location = StoreLocation::parse(store)?;
            let settings = ConsoleSettings::new(DEFAULT_LISTEN.parse()?);
            let users = settings.all_users(env_users.as_deref())?;
            let store = open_store(&location, &Default::default()).await?;
            let key = SessionKey::from_var(std::env::var(SESSION_KEY_VAR).ok().as_deref(), false)?;
            let options = ConsoleOptions::from_settings(&settings, users, key);
            (store, location, settings, options)
        }
        (None, Some(config)) => {
            let settings = config
                .console
                .clone()
                .ok_or("no [console] in the configuration: add it, or give --store")?;
            let store = crate::open_configured_store(config).await?;
            let options = options_from_config(config, &settings, env_users.as_deref(), false)?;
            (store, config.store.clone(), settings, options)
        }
        (None, None) => return Err("give --store or a configuration with [console]".into()),
    };
    let probe = match (&location, config) {
        (StoreLocation::Sqlite(path), _) => EngineProbe::SqliteLock(path.clone()),
        (StoreLocation::Postgres(_), Some(config)) => EngineProbe::Cluster {
            ttl: config.cluster.instance_ttl,
        },
        (StoreLocation::Postgres(_), None) => EngineProbe::Cluster {
            ttl: sync_engine::cluster::ClusterSettings::default().instance_ttl,
        },
    };
    let listen = args.listen.unwrap_or(settings.listen);
    let options = ConsoleOptions {
        probe,
        secure_cookies: ConsoleSettings {
            listen,
            ..settings.clone()
        }
        .secure_cookies(),
        ..options
    };
    serve(
        store,
        options,
        listen,
        settings.max_connections,
        shutdown_signal(),
    )
    .await
}

/// The console's options for `sync run` (`several_instances`: a PostgreSQL store, where the
/// session key must be shared) or `sync console` on the configured store.
pub fn options_from_config(
    config: &Config,
    settings: &ConsoleSettings,
    env_users: Option<&str>,
    several_instances: bool,
) -> Result<ConsoleOptions, BoxError> {
    let users = settings.all_users(env_users)?;
    let key = SessionKey::from_var(
        std::env::var(SESSION_KEY_VAR).ok().as_deref(),
        several_instances,
    )?;
    let mut options = ConsoleOptions::from_settings(settings, users, key);
    options.links = Links {
        netsuite_account: Some(config.netsuite.account_id.clone()),
        clarus_url: settings.clarus_url.clone(),
    };
    options.time_zone = jiff::tz::TimeZone::get(&config.poll.time_zone)?;
    options.close_rules = config.close.rules();
    Ok(options)
}

/// Starts the console of `sync run` in the background, stopping when `stopped` turns true.
pub fn spawn_in_engine(
    config: &Config,
    store: Arc<dyn Store>,
    health: Health,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>, BoxError> {
    let Some(settings) = config.console.clone() else {
        return Ok(None);
    };
    let several = config.store.postgres_url().is_some();
    let mut options = options_from_config(
        config,
        &settings,
        std::env::var(USERS_VAR).ok().as_deref(),
        several,
    )?;
    options.health = Some(health);
    options.probe = EngineProbe::InProcess;
    let listener = sync_console::bind(settings.listen, settings.max_connections)?;
    let console = with_metrics_token(Console::new(store, options)?)?;
    tracing::info!(listen = %settings.listen, "operations console serving");
    Ok(Some(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        if let Err(e) = console.serve(listener, shutdown).await {
            tracing::error!(error = %e, "operations console stopped");
        }
    })))
}

async fn serve(
    store: Arc<dyn Store>,
    options: ConsoleOptions,
    listen: SocketAddr,
    max_connections: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    let console = with_metrics_token(Console::new(store, options)?)?;
    let listener = sync_console::bind(listen, max_connections)?;
    println!(
        "operations console on http://{}/ (read-only unless an engine runs on this store); \
         Ctrl-C stops it",
        listener.local_addr()?
    );
    console.serve(listener, shutdown).await?;
    Ok(())
}

/// The console with the scraper's `/metrics` token of [`METRICS_TOKEN_VAR`], when set.
fn with_metrics_token(console: Console) -> Result<Console, BoxError> {
    Ok(match std::env::var(METRICS_TOKEN_VAR) {
        Ok(token) => console.with_metrics_token(token)?,
        Err(_) => console,
    })
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
