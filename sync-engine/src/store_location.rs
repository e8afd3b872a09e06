//! Where the store is, and opening it: `store = "<path or URL>"` in the configuration.
//!
//! A `postgres://` or `postgresql://` URL is a PostgreSQL database (`store::PgStore`,
//! when the crate is built with the `postgres` feature); anything else is the path of a SQLite
//! file ([`SqliteStore`]). [`open_store`] opens either as an `Arc<dyn Store>`.
//!
//! # The password
//!
//! A [`PostgresUrl`] never shows its password: `Display` and `Debug` write it as `***` (in the
//! user info and in a `password=` query parameter alike), so a configuration, an error or a log
//! line can be printed as it is. The password is best kept out of the file: when the URL holds
//! none, it is taken from `SYNC_STORE_PASSWORD`, else from the standard `PGPASSWORD`. A password
//! written in the URL wins over both (as with libpq); `SYNC_STORE_PASSWORD` wins over
//! `PGPASSWORD`. Empty variables count as unset.
//!
//! # TLS
//!
//! The URL's `sslmode` is passed to the driver as it is: `verify-full` checks the server's
//! certificate and name (use it for a database across a network), `require` encrypts without
//! checking, and without one the driver prefers TLS when the server offers it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::store::{SqliteStore, Store, StoreError};

/// The environment variable read for the PostgreSQL password when the URL holds none (it wins
/// over [`PGPASSWORD_VAR`]).
pub const STORE_PASSWORD_VAR: &str = "SYNC_STORE_PASSWORD";

/// The standard libpq variable read for the PostgreSQL password when neither the URL nor
/// [`STORE_PASSWORD_VAR`] gives one.
pub const PGPASSWORD_VAR: &str = "PGPASSWORD";

/// The `sslmode` values PostgreSQL knows.
const SSL_MODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Why a `store` value cannot be used. Never quotes a URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreLocationError {
    /// The value is empty.
    #[error("store is empty: give the path of a SQLite file or a postgres:// URL")]
    Empty,
    /// A `postgres://` value that is not a URL.
    #[error(
        "store is not a valid PostgreSQL URL ({reason}); the value is not shown, it may hold a \
         password"
    )]
    InvalidUrl {
        /// Why it does not parse.
        reason: String,
    },
    /// An `sslmode` PostgreSQL does not know.
    #[error(
        "store: unknown sslmode {mode:?}: one of disable, allow, prefer, require, verify-ca, \
         verify-full"
    )]
    SslMode {
        /// The value given.
        mode: String,
    },
}

/// Where the store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresUrl),
}

impl StoreLocation {
    /// Reads a `store` value: a `postgres://` or `postgresql://` URL (scheme in any case) is
    /// PostgreSQL, anything else a file path.
    pub fn parse(text: &str) -> Result<Self, StoreLocationError> {
        if text.trim().is_empty() {
            return Err(StoreLocationError::Empty);
        }
        if is_postgres_url(text) {
            return PostgresUrl::parse(text).map(StoreLocation::Postgres);
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(text)))
    }

    /// A path given on the command line (`--store`): a PostgreSQL URL when it reads as one,
    /// otherwise the file.
    pub fn from_path(path: &Path) -> Result<Self, StoreLocationError> {
        match path.to_str() {
            Some(text) => Self::parse(text),
            None => Ok(StoreLocation::Sqlite(path.to_owned())),
        }
    }

    /// The SQLite file, for a SQLite store.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            StoreLocation::Sqlite(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }

    /// The database, for a PostgreSQL store.
    pub fn postgres_url(&self) -> Option<&PostgresUrl> {
        match self {
            StoreLocation::Sqlite(_) => None,
            StoreLocation::Postgres(url) => Some(url),
        }
    }

    /// `"SQLite"` or `"PostgreSQL"`.
    pub fn backend(&self) -> &'static str {
        match self {
            StoreLocation::Sqlite(_) => "SQLite",
            StoreLocation::Postgres(_) => "PostgreSQL",
        }
    }
}

/// The file's path, or the URL with its password as `***`.
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => fmt::Display::fmt(url, f),
        }
    }
}

impl std::str::FromStr for StoreLocation {
    type Err = StoreLocationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl<'de> serde::Deserialize<'de> for StoreLocation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn is_postgres_url(text: &str) -> bool {
    let lower = |prefix: &str| {
        text.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    lower("postgres://") || lower("postgresql://")
}

/// A PostgreSQL connection URL, `postgres://user[:password]@host[:port]/database[?sslmode=…]`.
///
/// `Display` and `Debug` show it with the password as `***`; [`PostgresUrl::without_password`]
/// leaves it out (for a command line); only [`open_store`] uses the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    url: Url,
}

/// Where the password of a [`PostgresUrl`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// Written in the URL.
    Url,
    /// From this environment variable.
    Env(&'static str),
    /// None (trust, peer or certificate authentication, or `~/.pgpass`).
    None,
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Url => f.write_str("password in the URL"),
            PasswordSource::Env(var) => write!(f, "password from {var}"),
            PasswordSource::None => f.write_str("no password"),
        }
    }
}

impl PostgresUrl {
    /// Parses a `postgres://` or `postgresql://` URL and checks its `sslmode`.
    pub fn parse(text: &str) -> Result<Self, StoreLocationError> {
        if !is_postgres_url(text) {
            return Err(StoreLocationError::InvalidUrl {
                reason: "it does not start with postgres:// or postgresql://".into(),
            });
        }
        let url = Url::parse(text.trim()).map_err(|e| StoreLocationError::InvalidUrl {
            reason: e.to_string(),
        })?;
        let parsed = PostgresUrl { url };
        if let Some(mode) = parsed.sslmode()
            && !SSL_MODES.contains(&mode.as_str())
        {
            return Err(StoreLocationError::SslMode { mode });
        }
        Ok(parsed)
    }

    /// The `sslmode` query parameter, when given.
    pub fn sslmode(&self) -> Option<String> {
        self.query_value("sslmode")
    }

    /// The host, when the URL names one.
    pub fn host(&self) -> Option<&str> {
        self.url.host_str().filter(|h| !h.is_empty())
    }

    /// Where the password comes from, with the process's environment.
    pub fn password_source(&self) -> PasswordSource {
        self.password_source_with(&env_var)
    }

    /// The URL without any password (user info and `password=` parameter), e.g. for a
    /// `pg_dump` command line that takes the password from `PGPASSWORD`.
    pub fn without_password(&self) -> String {
        self.rewritten(None)
    }

    /// The URL with its password as `***` (what `Display` writes).
    pub fn redacted(&self) -> String {
        self.rewritten(Some("***"))
    }

    fn query_value(&self, key: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.into_owned())
    }

    fn has_password(&self) -> bool {
        self.url.password().is_some() || self.query_value("password").is_some()
    }

    fn password_source_with(&self, env: &dyn Fn(&str) -> Option<String>) -> PasswordSource {
        if self.has_password() {
            return PasswordSource::Url;
        }
        [STORE_PASSWORD_VAR, PGPASSWORD_VAR]
            .into_iter()
            .find(|var| env(var).is_some())
            .map_or(PasswordSource::None, PasswordSource::Env)
    }

    /// The URL with every password replaced by `mask`, or removed when `mask` is `None`.
    fn rewritten(&self, mask: Option<&str>) -> String {
        let mut url = self.url.clone();
        if url.password().is_some() {
            // Only URLs without a host refuse a password, and those have none to hide.
            let _ = url.set_password(mask);
        }
        if self.query_value("password").is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter_map(|(k, v)| {
                    if k.eq_ignore_ascii_case("password") {
                        mask.map(|m| (k.into_owned(), m.to_owned()))
                    } else {
                        Some((k.into_owned(), v.into_owned()))
                    }
                })
                .collect();
            if pairs.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
        }
        url.to_string()
    }

    /// The URL to connect with: the password from the URL, else from `SYNC_STORE_PASSWORD`,
    /// else from `PGPASSWORD` (read through `env`). Holds the password: never print it.
    // Used only by the PostgreSQL backend (and the tests).
    #[cfg_attr(not(any(feature = "postgres", test)), allow(dead_code))]
    fn connect_url_with(&self, env: &dyn Fn(&str) -> Option<String>) -> String {
        let password = match self.password_source_with(env) {
            PasswordSource::Env(var) => env(var),
            PasswordSource::Url | PasswordSource::None => None,
        };
        let Some(password) = password else {
            return self.url.to_string();
        };
        let mut url = self.url.clone();
        if url.set_password(Some(&password)).is_err() {
            // A URL without a host (a Unix socket given by `?host=`) takes it as a parameter.
            url.query_pairs_mut().append_pair("password", &password);
        }
        url.to_string()
    }
}

/// A variable of the process's environment; empty counts as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PostgresUrl")
            .field(&self.redacted())
            .finish()
    }
}

/// How a store is opened. Only PostgreSQL uses these today (`[postgres]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Connections in the pool (default 8).
    pub max_connections: u32,
    /// How long a call waits for a free connection before it fails as transient (default 10 s).
    pub acquire_timeout: Duration,
    /// The schema the tables live in (default: the connection's `search_path`, usually
    /// `public`); created when missing.
    pub schema: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            schema: None,
        }
    }
}

/// Why [`open_store`] failed. Names the store by its path or its redacted URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenStoreError {
    /// The SQLite file could not be opened or migrated.
    #[error("cannot open the SQLite store {}: {source}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The PostgreSQL database could not be reached or migrated.
    #[error("cannot open the PostgreSQL store {url}: {source}")]
    Postgres {
        /// The database (shown redacted).
        url: PostgresUrl,
        /// Why.
        source: StoreError,
    },
    /// The store is PostgreSQL and this build has no PostgreSQL backend.
    #[error(
        "the store is a PostgreSQL database ({url}), but this build has no PostgreSQL support: \
         build with --features postgres"
    )]
    NoPostgresSupport {
        /// The database (shown redacted).
        url: PostgresUrl,
    },
}

/// Opens the store at `location`: a SQLite file (created and migrated when needed), or a
/// PostgreSQL database (connected with a pool of `options.max_connections`, migrated) when the
/// crate is built with the `postgres` feature.
pub async fn open_store(
    location: &StoreLocation,
    options: &StoreOptions,
) -> Result<Arc<dyn Store>, OpenStoreError> {
    match location {
        StoreLocation::Sqlite(path) => {
            let store = SqliteStore::open(path).map_err(|source| OpenStoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
            Ok(Arc::new(store))
        }
        StoreLocation::Postgres(url) => open_postgres(url, options).await,
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(
    url: &PostgresUrl,
    options: &StoreOptions,
) -> Result<Arc<dyn Store>, OpenStoreError> {
    use crate::store::{PgOptions, PgStore};
    // Named fields, the rest as the backend defaults them (it may gain options).
    #[allow(clippy::needless_update)]
    let pg = PgOptions {
        max_connections: options.max_connections,
        acquire_timeout: options.acquire_timeout,
        schema: options.schema.clone(),
        ..PgOptions::default()
    };
    let store = PgStore::connect(&url.connect_url_with(&env_var), pg)
        .await
        .map_err(|source| OpenStoreError::Postgres {
            url: url.clone(),
            source,
        })?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(
    url: &PostgresUrl,
    _options: &StoreOptions,
) -> Result<Arc<dyn Store>, OpenStoreError> {
    Err(OpenStoreError::NoPostgresSupport { url: url.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres(text: &str) -> PostgresUrl {
        match StoreLocation::parse(text).unwrap() {
            StoreLocation::Postgres(url) => url,
            other => panic!("{text} read as {other:?}"),
        }
    }

    #[test]
    fn urls_are_postgres_and_anything_else_a_file() {
        for text in [
            "postgres://sync@db.internal/sync",
            "postgresql://sync@db.internal:5433/sync?sslmode=verify-full",
            "POSTGRES://sync@db/sync",
        ] {
            assert!(
                matches!(StoreLocation::parse(text), Ok(StoreLocation::Postgres(_))),
                "{text}"
            );
        }
        for text in [
            "sync.sqlite",
            "/var/lib/sync/clarus-netsuite.sqlite",
            "./postgres://not-a-url",
            "postgres.sqlite",
            "C:\\sync\\store.sqlite",
            "file:///var/lib/sync.sqlite",
        ] {
            assert_eq!(
                StoreLocation::parse(text).unwrap(),
                StoreLocation::Sqlite(PathBuf::from(text)),
                "{text}"
            );
        }
        assert_eq!(StoreLocation::parse(" "), Err(StoreLocationError::Empty));
        let sqlite = StoreLocation::parse("a.sqlite").unwrap();
        assert_eq!(sqlite.sqlite_path(), Some(Path::new("a.sqlite")));
        assert_eq!(sqlite.backend(), "SQLite");
        assert_eq!(sqlite.to_string(), "a.sqlite");
        let pg = StoreLocation::parse("postgres://u@h/d").unwrap();
        assert_eq!(pg.sqlite_path(), None);
        assert_eq!(pg.backend(), "PostgreSQL");
        assert_eq!(
            StoreLocation::from_path(Path::new("postgres://u@h/d")).unwrap(),
            pg
        );
    }

    #[test]
    fn a_bad_url_or_sslmode_is_refused_without_quoting_it() {
        let bad = StoreLocation::parse("postgres://sync:hunter2@db:notaport/sync").unwrap_err();
        assert!(
            matches!(bad, StoreLocationError::InvalidUrl { .. }),
            "{bad}"
        );
        assert!(!bad.to_string().contains("hunter2"), "{bad}");
        let mode = StoreLocation::parse("postgres://sync:hunter2@db/sync?sslmode=verify")
            .unwrap_err()
            .to_string();
        assert!(mode.contains("unknown sslmode \"verify\""), "{mode}");
        assert!(!mode.contains("hunter2"), "{mode}");
        let url = postgres("postgres://sync@db/sync?sslmode=verify-full");
        assert_eq!(url.sslmode().as_deref(), Some("verify-full"));
        assert_eq!(url.host(), Some("db"));
        assert_eq!(postgres("postgres://sync@db/sync").sslmode(), None);
    }

    #[test]
    fn the_password_is_never_shown() {
        let url = postgres("postgres://sync:hunter2@db.internal:5432/sync?sslmode=require");
        let location = StoreLocation::Postgres(url.clone());
        for shown in [
            url.to_string(),
            format!("{url:?}"),
            location.to_string(),
            format!("{location:?}"),
            format!("{location:#?}"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.contains("postgres://sync:***@db.internal:5432/sync?sslmode=require"),
                "{shown}"
            );
        }
        assert_eq!(
            url.without_password(),
            "postgres://sync@db.internal:5432/sync?sslmode=require"
        );

        // A password given as a parameter is hidden as well.
        let param = postgres("postgres://sync@db/sync?password=hunter2&sslmode=require");
        assert_eq!(
            param.to_string(),
            "postgres://sync@db/sync?password=***&sslmode=require"
        );
        assert_eq!(
            param.without_password(),
            "postgres://sync@db/sync?sslmode=require"
        );
        assert_eq!(
            postgres("postgres://sync@db/sync?password=x").without_password(),
            "postgres://sync@db/sync"
        );

        // Errors name the store redacted.
        let error = OpenStoreError::NoPostgresSupport { url: url.clone() };
        let text = error.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("build with --features postgres"), "{text}");
        assert!(!format!("{error:?}").contains("hunter2"));

        // Without a password, nothing is masked.
        let plain = postgres("postgres://sync@db/sync");
        assert_eq!(plain.to_string(), "postgres://sync@db/sync");
    }

    #[test]
    fn the_password_comes_from_the_url_then_sync_store_password_then_pgpassword() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let both = env(&[
            ("SYNC_STORE_PASSWORD", "from-sync"),
            ("PGPASSWORD", "from-pg"),
        ]);
        let pg_only = env(&[("PGPASSWORD", "from-pg")]);
        let none = env(&[]);

        let bare = postgres("postgres://sync@db/sync?sslmode=verify-full");
        for (env, source, url) in [
            (
                &both,
                PasswordSource::Env("SYNC_STORE_PASSWORD"),
                "postgres://sync:from-sync@db/sync?sslmode=verify-full",
            ),
            (
                &pg_only,
                PasswordSource::Env("PGPASSWORD"),
                "postgres://sync:from-pg@db/sync?sslmode=verify-full",
            ),
            (
                &none,
                PasswordSource::None,
                "postgres://sync@db/sync?sslmode=verify-full",
            ),
        ] {
            assert_eq!(bare.password_source_with(env), source);
            assert_eq!(bare.connect_url_with(env), url);
        }

        // The URL's own password wins.
        let written = postgres("postgres://sync:in-url@db/sync");
        assert_eq!(written.password_source_with(&both), PasswordSource::Url);
        assert_eq!(
            written.connect_url_with(&both),
            "postgres://sync:in-url@db/sync"
        );

        // Special characters are encoded; the redacted form still hides them.
        let special = env(&[("SYNC_STORE_PASSWORD", "p@ss:w/rd")]);
        let connect = bare.connect_url_with(&special);
        assert_eq!(
            connect,
            "postgres://sync:p%40ss%3Aw%2Frd@db/sync?sslmode=verify-full"
        );
        assert!(!postgres(&connect).to_string().contains("p%40ss"));

        // Without a host (a Unix socket), the password goes in a parameter.
        let socket = postgres("postgres:///sync?host=/run/postgresql");
        let connect = socket.connect_url_with(&special);
        assert!(connect.contains("password=p%40ss%3Aw%2Frd"), "{connect}");
        assert!(
            !postgres(&connect).to_string().contains("p%40ss"),
            "{connect}"
        );
    }

    fn config(store_lines: &str) -> Result<crate::config::Config, crate::config::ConfigError> {
        crate::config::minimal_config(store_lines, "", "")
    }

    #[test]
    fn the_configuration_reads_store_or_store_path_never_both() {
        let file = config(r#"store = "sync.sqlite""#).unwrap();
        assert_eq!(file.store, StoreLocation::Sqlite("sync.sqlite".into()));
        let older = config(r#"store_path = "sync.sqlite""#).unwrap();
        assert_eq!(older.store, file.store);
        let both = config("store = \"a.sqlite\"\nstore_path = \"b.sqlite\"")
            .unwrap_err()
            .to_string();
        assert!(
            both.contains("both `store` and `store_path` are set"),
            "{both}"
        );
        let neither = config("").unwrap_err().to_string();
        assert!(neither.contains("missing field `store`"), "{neither}");

        let pg =
            config(r#"store = "postgres://sync:hunter2@db/sync?sslmode=verify-full""#).unwrap();
        assert_eq!(
            pg.store.postgres_url().unwrap().redacted(),
            "postgres://sync:***@db/sync?sslmode=verify-full"
        );
        for shown in [format!("{pg:?}"), format!("{pg:#?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("postgres://sync:***@db"), "{shown}");
        }
    }

    #[test]
    fn configuration_errors_do_not_quote_a_password() {
        for store in [
            r#"store = "postgres://sync:hunter2@db:port/sync""#,
            r#"store = "postgres://sync:hunter2@db/sync?sslmode=on""#,
            // A TOML error on the line (the string is not closed).
            r#"store = "postgres://sync:hunter2@db/sync"#,
        ] {
            let error = config(store).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{error}");
        }
        let unclosed = config("store = \"postgres://sync:hunter2@db/sync")
            .unwrap_err()
            .to_string();
        assert!(
            unclosed.starts_with("invalid configuration: line 1: "),
            "{unclosed}"
        );
    }

    #[tokio::test]
    async fn a_path_opens_sqlite() {
        let dir = std::env::temp_dir().join(format!(
            "store-location-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let location = StoreLocation::Sqlite(dir.join("store.sqlite"));
        let store = open_store(&location, &StoreOptions::default())
            .await
            .unwrap();
        assert_eq!(store.watermark("nothing").await.unwrap(), None);
        drop(store);
        assert!(dir.join("store.sqlite").exists());

        let missing = StoreLocation::Sqlite(dir.join("no-such-dir").join("store.sqlite"));
        let error = open_store(&missing, &StoreOptions::default())
            .await
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .starts_with("cannot open the SQLite store "),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(not(feature = "postgres"))]
    #[tokio::test]
    async fn a_url_without_the_feature_is_a_clear_error() {
        let location = StoreLocation::parse("postgres://sync:hunter2@db/sync").unwrap();
        let error = open_store(&location, &StoreOptions::default())
            .await
            .err()
            .unwrap();
        assert!(
            matches!(error, OpenStoreError::NoPostgresSupport { .. }),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "the store is a PostgreSQL database (postgres://sync:***@db/sync), but this build \
             has no PostgreSQL support: build with --features postgres"
        );
    }
}
