//! The PostgreSQL store's pool settings (`[postgres]`).

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, MAX_TIMEOUT_SECS};
use crate::store_location::StoreOptions;

/// The PostgreSQL store's settings (`[postgres]`), used when `store` is a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresSettings {
    /// Connections in the pool, per instance of the engine. Default 8.
    pub max_connections: u32,
    /// Seconds a store call waits for a free connection before it fails (and is retried as
    /// transient). Default 10.
    pub acquire_timeout_secs: u64,
    /// The schema the tables live in, created when missing. Absent: the connection's
    /// `search_path` (usually `public`).
    pub schema: Option<String>,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        let d = StoreOptions::default();
        PostgresSettings {
            max_connections: d.max_connections,
            acquire_timeout_secs: d.acquire_timeout.as_secs(),
            schema: d.schema,
        }
    }
}

impl PostgresSettings {
    /// How [`crate::store_location::open_store`] opens the configured store.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.max_connections,
            acquire_timeout: Duration::from_secs(self.acquire_timeout_secs),
            schema: self.schema.clone(),
        }
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_POOL_CONNECTIONS).contains(&self.max_connections) {
            return Err(ConfigError::Invalid(format!(
                "postgres.max_connections must be between 1 and {MAX_POOL_CONNECTIONS}"
            )));
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.acquire_timeout_secs) {
            return Err(ConfigError::Invalid(format!(
                "postgres.acquire_timeout_secs must be between 1 and {MAX_TIMEOUT_SECS}"
            )));
        }
        if self.schema.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "postgres.schema cannot be empty (leave it out for the search_path)".into(),
            ));
        }
        Ok(())
    }
}

/// Most connections a PostgreSQL pool may have.
const MAX_POOL_CONNECTIONS: u32 = 1000;
