//! What a scheduled job is ([`Scheduled`]), why one of its runs failed ([`JobError`]) and which
//! failures cannot pass by waiting, per connection ([`Connection`]). Below the health registry,
//! which counts the failures, and the service, which runs the jobs.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
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

/// What caused a job's failure, shared so that the error stays cheap to clone.
pub type Cause = Arc<dyn Error + Send + Sync>;

/// Why one run of a scheduled job failed, and whether waiting can clear it. The error that
/// caused it, when there is one, is its [`source`](Error::source).
///
/// ```
/// use std::error::Error;
/// use sync_engine::job::JobError;
///
/// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "store busy");
/// let e = JobError::context("pruning history", io);
/// assert_eq!(e.to_string(), "pruning history: store busy");
/// assert!(!e.is_persistent());
/// assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
/// ```
#[derive(Debug, Clone)]
pub enum JobError {
    /// May pass by itself (a timeout, a 5xx, a busy store): the job runs again as scheduled and
    /// an exception is raised only after several failures in a row.
    Transient {
        /// What failed.
        message: String,
        /// The connection at fault, when known.
        connection: Option<Connection>,
        /// The error that caused it.
        cause: Option<Cause>,
    },
    /// Will not pass by waiting (credentials refused, a query the tenant's schema does not
    /// accept): the exception is raised at once.
    Persistent {
        /// What failed.
        message: String,
        /// The connection at fault, when known.
        connection: Option<Connection>,
        /// The error that caused it.
        cause: Option<Cause>,
    },
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl Error for JobError {
    /// The cause itself (not the shared pointer around it), so callers can downcast it.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            JobError::Transient { cause, .. } | JobError::Persistent { cause, .. } => {
                cause.as_deref().map(|c| c as &(dyn Error + 'static))
            }
        }
    }
}

impl PartialEq for JobError {
    /// The same way (transient or persistent), message and connection; causes are not
    /// compared.
    fn eq(&self, other: &Self) -> bool {
        self.is_persistent() == other.is_persistent()
            && self.message() == other.message()
            && self.connection() == other.connection()
    }
}

impl Eq for JobError {}

impl JobError {
    /// A transient error naming no connection, with no cause.
    pub fn transient(message: impl Into<String>) -> Self {
        JobError::Transient {
            message: message.into(),
            connection: None,
            cause: None,
        }
    }

    /// A persistent error naming no connection, with no cause.
    pub fn persistent(message: impl Into<String>) -> Self {
        JobError::Persistent {
            message: message.into(),
            connection: None,
            cause: None,
        }
    }

    /// A transient error caused by `cause`, with its message.
    pub fn of(cause: impl Error + Send + Sync + 'static) -> Self {
        JobError::Transient {
            message: cause.to_string(),
            connection: None,
            cause: Some(Arc::new(cause)),
        }
    }

    /// A transient error caused by `cause` while doing `what`: `{what}: {cause}`.
    pub fn context(what: &str, cause: impl Error + Send + Sync + 'static) -> Self {
        JobError::Transient {
            message: format!("{what}: {cause}"),
            connection: None,
            cause: Some(Arc::new(cause)),
        }
    }

    /// The same error, naming the connection at fault.
    pub fn on(self, at: Connection) -> Self {
        match self {
            JobError::Transient { message, cause, .. } => JobError::Transient {
                message,
                connection: Some(at),
                cause,
            },
            JobError::Persistent { message, cause, .. } => JobError::Persistent {
                message,
                connection: Some(at),
                cause,
            },
        }
    }

    /// The same error, persistent when `persistent` is true.
    fn persistent_if(self, persistent: bool) -> Self {
        match self {
            JobError::Transient {
                message,
                connection,
                cause,
            } if persistent => JobError::Persistent {
                message,
                connection,
                cause,
            },
            other => other,
        }
    }

    /// A failure caused by `cause`, blamed on Clarus and classified by the Clarus error in its
    /// source chain ([`clarus_error_is_persistent`]); transient when there is none.
    pub fn clarus(cause: impl Error + Send + Sync + 'static) -> Self {
        let persistent =
            in_chain::<clarus_client::Error>(&cause).is_some_and(clarus_error_is_persistent);
        JobError::of(cause)
            .persistent_if(persistent)
            .on(Connection::Clarus)
    }

    /// A failure caused by `cause`, blamed on NetSuite and classified by the NetSuite error in
    /// its source chain ([`netsuite_error_is_persistent`]); transient when there is none.
    pub fn netsuite(cause: impl Error + Send + Sync + 'static) -> Self {
        let persistent =
            in_chain::<netsuite_client::Error>(&cause).is_some_and(netsuite_error_is_persistent);
        JobError::of(cause)
            .persistent_if(persistent)
            .on(Connection::NetSuite)
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

/// The first error of type `E` in `error`'s source chain, `error` itself included.
fn in_chain<'a, E: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a E> {
    let mut at = Some(error);
    while let Some(e) = at {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        at = e.source();
    }
    None
}
