//! The operations console: a signed-in web view of the integration for people who never open
//! a terminal.
//!
//! [`Console`] serves server-rendered pages on its own listener, apart from the webhook intake:
//!
//! - **Home**: the status of each connection and scheduled job (from the running engine's
//!   [`Health`]), today's documents per flow and stage, open exceptions by owner and severity,
//!   and what needs attention first.
//! - **Exceptions**: the queue, filtered by owner, kind, severity, age and document (business
//!   numbers such as `SO1023` are looked up, see [`lookup`]); each exception's detail with its
//!   payload, audit trail, the document's stages and its [`runbook`] entry; actions retry,
//!   resolve with a note, assign and bulk resolve.
//! - **Documents**: any business document's timeline across both systems, with links to the
//!   NetSuite and Clarus records.
//! - **Drift**: the latest reconciliation sorted by value, a SKU's history, the trend.
//! - **Close**: for a month, whether it can be closed under the [`CloseRules`] (what blocks,
//!   what is only shown, the last reconciliation, the totals to tie out per flow and NetSuite
//!   transaction type), and the same report as CSV ([`sync_engine::close::close_report`],
//!   the rules of `sync close-check`).
//!
//! People sign in with a name and password (argon2 hashes, see [`auth`]); sessions are signed
//! cookies ([`session`]), every form carries a CSRF token tied to the session, and sign-in is
//! throttled per name and per address ([`throttle`]). Roles: a viewer reads; operations and
//! finance act on the exceptions they own; an admin acts on every one. Actions are recorded in
//! the exception's audit trail with the person's name, and retries are carried out by the
//! running engine. Without one on the store (see [`mode::EngineProbe`]), the console is
//! read-only.
//!
//! Every page is sent with a strict content security policy: no script at all, the style sheet
//! served by the console, nothing from elsewhere.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn sync_engine::store::Store>) -> Result<(), Box<dyn std::error::Error>> {
//! use sync_console::{Console, ConsoleOptions};
//! use sync_engine::console_settings::ConsoleSettings;
//!
//! let settings: ConsoleSettings = serde_json::from_str(r#"{"listen": "127.0.0.1:8090"}"#)?;
//! let options = ConsoleOptions::from_settings(&settings, settings.users.clone(), None);
//! let console = Console::new(store, options)?;
//! let listener = sync_console::bind(settings.listen, settings.max_connections)?;
//! console.serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod assign;
pub mod auth;
pub mod links;
pub mod lookup;
pub mod mode;
pub mod runbook;
pub mod session;
pub mod throttle;

mod app;
mod layout;
mod pages;
mod routes;
mod signed;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use sync_engine::clock::SharedClock;
use sync_engine::close::CloseRules;
use sync_engine::console_settings::{ConsoleSettings, ConsoleUserSettings, SessionKey};
use sync_engine::health::Health;
use sync_engine::store::Store;

pub use links::Links;

/// The variable holding the bearer token a Prometheus scraper presents for `/metrics` (at
/// least 32 bytes); without it, `/metrics` is served to signed-in people only.
pub const METRICS_TOKEN_VAR: &str = "SYNC_CONSOLE_METRICS_TOKEN";
pub use mode::EngineProbe;

/// Why the console cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// A user's password hash is not a PHC string.
    #[error("console user {user:?}: the password hash is not a PHC string: {reason}")]
    PasswordHash {
        /// The user.
        user: String,
        /// What the parser said.
        reason: String,
    },
    /// A password could not be hashed.
    #[error("cannot hash the password: {0}")]
    Hashing(String),
    /// The metrics token is too short.
    #[error("{METRICS_TOKEN_VAR} must be at least 32 bytes")]
    ShortMetricsToken,
    /// No user may sign in.
    #[error("the console has no users: add [[console.users]] or SYNC_CONSOLE_USERS")]
    NoUsers,
}

/// How a [`Console`] is served.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// The people who may sign in.
    pub users: Vec<ConsoleUserSettings>,
    /// The key that signs sessions; `None` makes a random one for this process.
    pub session_key: Option<SessionKey>,
    /// How long a session lasts.
    pub session_ttl: SignedDuration,
    /// Whether cookies are marked `Secure`.
    pub secure_cookies: bool,
    /// Failed sign-ins per name within `throttle_window`.
    pub failures_per_user: u32,
    /// Failed sign-ins per address within `throttle_window`.
    pub failures_per_address: u32,
    /// The window of the sign-in throttle.
    pub throttle_window: SignedDuration,
    /// Requests served at once; more are answered `503`. Also the connections kept open at
    /// once (more wait to be accepted).
    pub max_requests: usize,
    /// Longest time a connection may take to send a request's headers (counted from its
    /// opening or from the end of its previous request); it is closed after it, so idle or
    /// trickling connections cannot hold the console's connections. Default 10 seconds.
    pub header_timeout: std::time::Duration,
    /// Where NetSuite and Clarus records are opened.
    pub links: Links,
    /// The running engine's health, when the console runs inside it.
    pub health: Option<Health>,
    /// How the console knows whether an engine runs on its store.
    pub probe: EngineProbe,
    /// The business clock (sessions, throttling, ages).
    pub clock: SharedClock,
    /// The time zone of "today" (NetSuite's, `poll.time_zone`), and of the close page's
    /// periods.
    pub time_zone: TimeZone,
    /// The rules of the close page (`[close]`, see
    /// [`CloseSettings::rules`](sync_engine::close_settings::CloseSettings::rules)): which items
    /// block closing a month. [`ConsoleOptions::from_settings`] gives [`CloseRules::default`].
    pub close_rules: CloseRules,
}

impl ConsoleOptions {
    /// Options from the `[console]` settings with `users` (the settings' and the
    /// environment's, see [`ConsoleSettings::all_users`]): no links, no health, read-only, the
    /// system clock, UTC and the default close rules. Set the rest on the value.
    pub fn from_settings(
        settings: &ConsoleSettings,
        users: Vec<ConsoleUserSettings>,
        session_key: Option<SessionKey>,
    ) -> ConsoleOptions {
        ConsoleOptions {
            users,
            session_key,
            session_ttl: SignedDuration::from_hours(settings.session_hours as i64),
            secure_cookies: settings.secure_cookies(),
            failures_per_user: settings.failures_per_user,
            failures_per_address: settings.failures_per_address,
            throttle_window: SignedDuration::from_mins(settings.throttle_minutes as i64),
            max_requests: settings.max_connections,
            header_timeout: std::time::Duration::from_secs(10),
            links: Links {
                netsuite_account: None,
                clarus_url: settings.clarus_url.clone(),
            },
            health: None,
            probe: EngineProbe::ReadOnly,
            clock: sync_engine::clock::system(),
            time_zone: TimeZone::UTC,
            close_rules: CloseRules::default(),
        }
    }
}

/// The console, ready to serve.
#[derive(Clone)]
pub struct Console {
    app: Arc<app::App>,
    header_timeout: std::time::Duration,
    max_connections: usize,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}

impl Console {
    /// The console over `store`. Refuses users whose hashes are not PHC strings, and no users.
    pub fn new(store: Arc<dyn Store>, options: ConsoleOptions) -> Result<Console, ConsoleError> {
        let header_timeout = options.header_timeout;
        let max_connections = options.max_requests.max(1);
        Ok(Console {
            header_timeout,
            max_connections,
            app: Arc::new(app::App::new(store, options)?),
        })
    }

    /// Serves `/metrics` (the Prometheus text of [`sync_engine::metrics::render`]) also to a
    /// scraper presenting `token` as `Authorization: Bearer <token>`; signed-in people always
    /// see it. Call it before serving.
    pub fn with_metrics_token(self, token: impl Into<String>) -> Result<Console, ConsoleError> {
        let token = token.into();
        if token.len() < 32 {
            return Err(ConsoleError::ShortMetricsToken);
        }
        // Set once: a second token (on a clone of this console) is ignored.
        let _ = self.app.metrics_token.set(token);
        Ok(self)
    }

    /// The console's routes (every page, the style sheet).
    pub fn router(&self) -> axum::Router {
        routes::router(self.app.clone())
    }

    /// Serves the console on `listener` until `shutdown` completes, with each request's peer
    /// address (sign-in is throttled per address).
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = sync_engine::intake::IntakeLimits {
            header_timeout: self.header_timeout,
            max_connections: self.max_connections,
            ..sync_engine::intake::IntakeLimits::default()
        };
        sync_engine::intake::serve_guarded(listener, self.router(), &limits, shutdown).await
    }
}

/// Binds the console's listener as the intake binds its own ([`sync_engine::intake::bind`]):
/// a listen backlog of `max_connections` (at least 128).
pub fn bind(addr: SocketAddr, max_connections: usize) -> std::io::Result<tokio::net::TcpListener> {
    sync_engine::intake::bind(addr, max_connections)
}
