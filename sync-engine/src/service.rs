//! The running service: webhook intake, delivery processing, the outbox and the pollers,
//! started together and stopped together.
//!
//! Every run of a [`Scheduled`] job is reported to the service's [`Health`] registry, which
//! raises an exception for a job that keeps failing and answers readiness.
//!
//! Shutdown is graceful: the intake stops taking deliveries, the loops finish the pass they are
//! in, and the outbox lets running actions complete. Anything not finished is still in the store
//! and resumes on the next start.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::engine::Engine;
use crate::health::{Connection, Health};
use crate::outbox::Outbox;
use crate::processor::Processor;
use crate::store::{ActionStatus, Store, StoreError};

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

    /// A Clarus failure, classified with [`crate::health::clarus_error_is_persistent`];
    /// `message` describes it (usually the wrapping error's text).
    pub fn clarus(message: impl Into<String>, error: &clarus_client::ClarusError) -> Self {
        let e = if crate::health::clarus_error_is_persistent(error) {
            JobError::persistent(message)
        } else {
            JobError::transient(message)
        };
        e.on(Connection::Clarus)
    }

    /// A NetSuite failure, classified with [`crate::health::netsuite_error_is_persistent`].
    pub fn netsuite(message: impl Into<String>, error: &netsuite_client::Error) -> Self {
        let e = if crate::health::netsuite_error_is_persistent(error) {
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

/// Where the integration stands: what is still to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Actions waiting to run or to be retried.
    pub pending_actions: u64,
    /// Actions whose last attempt had no answer.
    pub ambiguous_actions: u64,
    /// Deliveries not yet processed (due or deferred).
    pub unprocessed_deliveries: u64,
}

impl Backlog {
    /// Nothing left to do.
    pub fn is_empty(&self) -> bool {
        self.pending_actions == 0 && self.ambiguous_actions == 0 && self.unprocessed_deliveries == 0
    }
}

/// Reads the backlog from the store.
pub async fn backlog(store: &dyn Store) -> Result<Backlog, StoreError> {
    let mut backlog = Backlog {
        unprocessed_deliveries: store.unprocessed_count().await?,
        ..Backlog::default()
    };
    for count in store.action_counts().await? {
        match count.status {
            ActionStatus::Pending => backlog.pending_actions += count.count,
            ActionStatus::Ambiguous => backlog.ambiguous_actions += count.count,
            ActionStatus::Done | ActionStatus::Failed => {}
        }
    }
    Ok(backlog)
}

/// The parts of a running engine.
pub struct Service {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Planning.
    pub engine: Arc<Engine>,
    /// Turns deliveries into plans.
    pub processor: Arc<Processor>,
    /// Runs actions.
    pub outbox: Outbox,
    /// Pollers, sweeps and reconciliations.
    pub scheduled: Vec<Arc<dyn Scheduled>>,
    /// The webhook intake, when this process takes webhooks.
    pub intake: Option<(tokio::net::TcpListener, axum::Router)>,
    /// Pause between processing passes when nothing was due.
    pub idle_poll: Duration,
    /// Where every scheduled run is reported (share it with the intake for `/readyz`).
    pub health: Health,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

impl Service {
    /// Runs every part until `shutdown` turns true, then stops them gracefully.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut tasks: JoinSet<Result<(), StoreError>> = JoinSet::new();

        if let Some((listener, router)) = self.intake {
            let mut stop = shutdown.clone();
            tasks.spawn(async move {
                let limits = crate::intake::IntakeLimits::default();
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                crate::intake::serve(listener, router, &limits, stopped)
                    .await
                    .map_err(|e| StoreError::Task(format!("webhook intake stopped: {e}")))
            });
        }

        {
            let processor = self.processor.clone();
            let mut stop = shutdown.clone();
            let idle = self.idle_poll;
            tasks.spawn(async move {
                while !*stop.borrow() {
                    let stats = match processor.process_due(256).await {
                        Ok(stats) => stats,
                        Err(e) => {
                            tracing::error!(error = %e, "delivery processing failed; retrying");
                            crate::processor::ProcessStats::default()
                        }
                    };
                    if stats.deliveries == 0 {
                        tokio::select! {
                            _ = tokio::time::sleep(idle) => {}
                            _ = stop.changed() => {}
                        }
                    }
                }
                Ok(())
            });
        }

        {
            let outbox = self.outbox.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move { outbox.run(stop).await });
        }

        for job in self.scheduled {
            self.health
                .register(job.name(), job.interval(), job.connections());
            let engine = self.engine.clone();
            let store = self.store.clone();
            let health = self.health.clone();
            let mut stop = shutdown.clone();
            tasks.spawn(async move {
                while !*stop.borrow() {
                    let outcome = job.run_once(&engine).await;
                    match &outcome {
                        Ok(n) => tracing::debug!(job = job.name(), handled = n, "scheduled run"),
                        Err(e) => tracing::warn!(
                            job = job.name(),
                            error = %e,
                            persistent = e.is_persistent(),
                            "scheduled run failed"
                        ),
                    }
                    if let Err(e) = health.record(store.as_ref(), job.name(), &outcome).await {
                        tracing::error!(
                            job = job.name(),
                            error = %e,
                            "the job's exception could not be raised or resolved"
                        );
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(job.interval()) => {}
                        _ = stop.changed() => {}
                    }
                }
                Ok(())
            });
        }

        let mut result = Ok(());
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "a service task failed");
                    result = Err(e);
                }
                Err(e) => result = Err(StoreError::Task(e.to_string())),
            }
        }
        result
    }
}
