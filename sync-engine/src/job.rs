//! What a scheduled job is ([`Scheduled`]), why one of its runs failed ([`JobError`]) and which
//! failures cannot pass by waiting, per connection ([`Connection`]). Below the health registry,
//! which counts the failures, and the service, which runs the jobs.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use clarus_client::GraphQlError;
use serde::Serialize;

use crate::engine::Engine;

/// A system the engine reads from or writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Clarus WMS (REST and GraphQL).
    Clarus,
    /// NetSuite (REST records and SuiteQL).
    NetSuite,
}

impl Connection {
    /// The connection's name in readiness and messages: `clarus`, `netsuite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Clarus => "clarus",
            Connection::NetSuite => "netsuite",
        }
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use clarus_client::GRAPHQL_VALIDATION_CODES;

/// Whether a GraphQL error says the query does not fit the server's schema: the client's
/// [`GraphQlError::is_validation`].
pub fn graphql_error_is_validation(error: &GraphQlError) -> bool {
    error.is_validation()
}

/// Whether a Clarus error cannot pass by waiting: a GraphQL validation error (the tenant's schema
/// lacks a field or argument asked for), credentials refused (401, 403, the token endpoint
/// refusing the client), or a configuration the client rejected; the client's
/// [`clarus_client::Error::is_persistent`].
pub fn clarus_error_is_persistent(error: &clarus_client::Error) -> bool {
    error.is_persistent()
}

/// OAuth error codes a token endpoint uses for a passing problem.
const PASSING_OAUTH_ERRORS: &[&str] = &["server_error", "temporarily_unavailable", "slow_down"];

/// Whether a NetSuite error cannot pass by waiting: credentials or permissions refused (401,
/// 403, the token endpoint refusing the client), or an authentication or client configuration
/// that cannot work.
pub fn netsuite_error_is_persistent(error: &netsuite_client::Error) -> bool {
    use netsuite_client::Error;
    use netsuite_client::auth::AuthError;
    match error {
        Error::Unauthorized { .. } | Error::Config(_) => true,
        Error::Api(api) => matches!(api.status, 401 | 403),
        Error::Auth(AuthError::TokenRejected { status, error, .. }) => {
            let passing = status.is_some_and(|s| s == 429 || s >= 500)
                || error
                    .as_deref()
                    .is_some_and(|e| PASSING_OAUTH_ERRORS.contains(&e));
            !passing
        }
        Error::Auth(AuthError::Config { .. } | AuthError::AuthorizationRequired { .. }) => true,
        _ => false,
    }
}

/// Something run on a schedule: a NetSuite poller, a Clarus sweep, a reconciliation.
#[async_trait]
pub trait Scheduled: Send + Sync + 'static {
    /// A short name for logs.
    fn name(&self) -> &str;
    /// How long to wait between runs.
    fn interval(&self) -> Duration;
    /// The connections the job depends on: its successes (and the failures its errors blame on
    /// them) count for them in readiness. None by default.
    fn connections(&self) -> &[Connection] {
        &[]
    }
    /// Whether one instance of a cluster runs the job (the one holding its lease, see the
    /// module documentation), rather than every instance. True by default; a job keeping
    /// per-instance state (the cluster heartbeat) says false.
    fn leader_only(&self) -> bool {
        true
    }
    /// One run; returns how many records it handled. An error is logged and reported to the
    /// service's [`Health`] (a job failing repeatedly, or with a [`JobError::Persistent`] error,
    /// raises an exception), and the next run happens as scheduled.
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError>;
}

/// Why one run of a scheduled job failed, and whether waiting can clear it.
///
/// `From<String>` makes a transient error that names no connection, so a job can keep writing
/// `.map_err(|e| e.to_string())?`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// May pass by itself (a timeout, a 5xx, a busy store): the job runs again as scheduled and
    /// an exception is raised only after several failures in a row.
    #[error("{message}")]
    Transient {
        /// What failed.
        message: String,
        /// The connection at fault, when known.
        connection: Option<Connection>,
    },
    /// Will not pass by waiting (credentials refused, a query the tenant's schema does not
    /// accept): the exception is raised at once.
    #[error("{message}")]
    Persistent {
        /// What failed.
        message: String,
        /// The connection at fault, when known.
        connection: Option<Connection>,
    },
}

impl JobError {
    /// A transient error naming no connection.
    pub fn transient(message: impl Into<String>) -> Self {
        JobError::Transient {
            message: message.into(),
            connection: None,
        }
    }

    /// A persistent error naming no connection.
    pub fn persistent(message: impl Into<String>) -> Self {
        JobError::Persistent {
            message: message.into(),
            connection: None,
        }
    }

    /// The same error, naming the connection at fault.
    pub fn on(self, at: Connection) -> Self {
        match self {
            JobError::Transient { message, .. } => JobError::Transient {
                message,
                connection: Some(at),
            },
            JobError::Persistent { message, .. } => JobError::Persistent {
                message,
                connection: Some(at),
            },
        }
    }

    /// A Clarus failure, classified with [`clarus_error_is_persistent`];
    /// `message` describes it (usually the wrapping error's text).
    pub fn clarus(message: impl Into<String>, error: &clarus_client::Error) -> Self {
        let e = if clarus_error_is_persistent(error) {
            JobError::persistent(message)
        } else {
            JobError::transient(message)
        };
        e.on(Connection::Clarus)
    }

    /// A NetSuite failure, classified with [`netsuite_error_is_persistent`].
    pub fn netsuite(message: impl Into<String>, error: &netsuite_client::Error) -> Self {
        let e = if netsuite_error_is_persistent(error) {
            JobError::persistent(message)
        } else {
            JobError::transient(message)
        };
        e.on(Connection::NetSuite)
    }

    /// What failed.
    pub fn message(&self) -> &str {
        match self {
            JobError::Transient { message, .. } | JobError::Persistent { message, .. } => message,
        }
    }

    /// Whether waiting will not clear it.
    pub fn is_persistent(&self) -> bool {
        matches!(self, JobError::Persistent { .. })
    }

    /// The connection at fault, when known.
    pub fn connection(&self) -> Option<Connection> {
        match self {
            JobError::Transient { connection, .. } | JobError::Persistent { connection, .. } => {
                *connection
            }
        }
    }
}

impl From<String> for JobError {
    fn from(message: String) -> Self {
        JobError::transient(message)
    }
}

impl From<&str> for JobError {
    fn from(message: &str) -> Self {
        JobError::transient(message)
    }
}
