//! The outbox worker: runs planned actions in order per document and in parallel across
//! documents, retries what may be retried, and looks before it resends after an ambiguous failure.
//!
//! What is due, when a retry is due again and when an action completed or failed are read from
//! the outbox's clock ([`Outbox::with_clock`], see [`crate::clock`]); the idle poll between
//! looks is a tokio sleep (waiting, not business time).
//!
//! # Several instances
//!
//! Every instance of the engine may run an outbox on one store. Work is taken with a *claim*
//! ([`ClusterStore::claim_due_actions`](crate::store::ClusterStore::claim_due_actions)): the
//! store hands out a document's first action only, and only to one holder
//! ([`Outbox::with_holder`]) until the claim runs out ([`Outbox::with_claim_ttl`]), so two
//! instances never run the same action and a document's actions still run one after the other
//! in outbox order. Completing or failing an action ends its claim.
//!
//! An instance that dies mid-attempt leaves its claim to run out; another instance then takes
//! the action. [`OutboxStore::begin_attempt`](crate::store::OutboxStore::begin_attempt) marked
//! it ambiguous before the request was sent, so the instance taking it over looks the record up
//! (by its idempotency key) before it sends anything again.
//!
//! A live instance never lets a claim run out under a running attempt: the attempt (look-up and
//! send) is cut when [`Outbox::attempt_deadline`] passes, and recorded as ambiguous, so
//! the next attempt looks the record up first.

use crate::backoff::Backoff;
pub use crate::failure::Failure;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use sync_core::subject::ExceptionSubject;
use sync_core::{ActionType, ExceptionKind};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sync_core::PlannedAction;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::clock::{self, SharedClock};
use crate::store::{ActionStatus, NewException, OutboxAction, Store, StoreError};

/// The holder name of an outbox or processor told nothing else: one instance alone on its store.
pub const LOCAL_HOLDER: &str = "local";

/// How long an outbox keeps the actions it takes from other instances unless told otherwise
/// ([`Outbox::with_claim_ttl`]): 10 minutes.
///
/// When an instance dies, its actions wait this long before another instance takes them over;
/// while it lives, its attempts are cut before the claim runs out (see
/// [`Outbox::attempt_deadline`]). It must be well above the clock skew between instances and
/// leave room for one NetSuite request with one retry: the NetSuite client gives a request up
/// to 300 s, and the attempt deadline (four fifths of the claim, 8 minutes) holds one timed-out
/// request and another.
pub const DEFAULT_CLAIM_TTL: Duration = Duration::from_secs(600);

/// Why an action did not take effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// Refused before anything was applied (429, 503, connection refused): safe to send again.
    #[error("retryable: {0}")]
    Retryable(#[source] Failure),
    /// The request may have been applied without an answer (timeout, 5xx after sending a
    /// create): look the record up before sending again.
    #[error("outcome unknown: {0}")]
    Ambiguous(#[source] Failure),
    /// The target system rejected the action; sending it again would fail the same way.
    #[error("rejected: {0}")]
    Rejected(#[source] Failure),
}

impl ExecutionError {
    /// The same error, with `cause` kept as the source of its [`Failure`] (the message stays).
    pub fn caused_by(self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        match self {
            Self::Retryable(f) => Self::Retryable(f.with_cause(cause)),
            Self::Ambiguous(f) => Self::Ambiguous(f.with_cause(cause)),
            Self::Rejected(f) => Self::Rejected(f.with_cause(cause)),
        }
    }

    /// What went wrong, with its cause.
    pub fn failure(&self) -> &Failure {
        match self {
            Self::Retryable(f) | Self::Ambiguous(f) | Self::Rejected(f) => f,
        }
    }
}

/// Carries out actions against Clarus and NetSuite. The engine's real executor uses the two
/// clients; tests use fakes.
#[async_trait]
pub trait ActionExecutor: Send + Sync + 'static {
    /// Runs the action; returns the id of the record it created or changed, if any.
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError>;

    /// After an ambiguous attempt: the id of the record if the action already took effect
    /// (found by its idempotency key as NetSuite external id, or by Clarus reference).
    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError>;
}

/// How the outbox retries.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Actions running at once (across documents). NetSuite's own concurrency budget still
    /// applies underneath.
    pub max_in_flight: usize,
    /// First retry delay; doubled per attempt.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Attempts before an action is given up and an exception raised.
    pub max_attempts: u32,
    /// How long to sleep when nothing is due.
    pub idle_poll: Duration,
}

impl OutboxConfig {
    /// The backoff between attempts of an action.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.backoff_base, self.backoff_max)
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_in_flight: 32,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(300),
            max_attempts: 12,
            idle_poll: Duration::from_millis(25),
        }
    }
}

/// The delay before attempt `attempts + 1`: the configured [`Backoff`] from `backoff_base` to
/// `backoff_max`, jittered by the key so that documents retried together spread out.
pub fn backoff(config: &OutboxConfig, attempts: u32, key: &str) -> Duration {
    config.backoff().jittered(attempts, key)
}

/// Runs the outbox until `shutdown` turns true; in-flight actions are finished first.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
    executor: Arc<dyn ActionExecutor>,
    config: OutboxConfig,
    clock: SharedClock,
    holder: Arc<str>,
    claim_ttl: Duration,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("config", &self.config)
            .field("holder", &self.holder)
            .field("claim_ttl", &self.claim_ttl)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An outbox over a store and an executor.
    pub fn new(
        store: Arc<dyn Store>,
        executor: Arc<dyn ActionExecutor>,
        config: OutboxConfig,
    ) -> Self {
        Outbox {
            store,
            executor,
            config,
            clock: clock::system(),
            holder: Arc::from(LOCAL_HOLDER),
            claim_ttl: DEFAULT_CLAIM_TTL,
        }
    }

    /// Keeps the actions it takes from other instances for `ttl` ([`DEFAULT_CLAIM_TTL`] by
    /// default): how long a dead instance's actions wait before another takes them over.
    pub fn with_claim_ttl(mut self, ttl: Duration) -> Self {
        self.claim_ttl = ttl;
        self
    }

    /// How long one attempt (a look-up and a send) may take before it is cut and recorded as
    /// ambiguous: four fifths of the claim's length, so the attempt ends, and its outcome is
    /// recorded, well before another instance may take the action over.
    pub fn attempt_deadline(&self) -> Duration {
        self.claim_ttl.mul_f64(0.8)
    }

    /// Claims the actions it runs in the name of `holder` (the instance's id;
    /// [`LOCAL_HOLDER`] by default). Every instance sharing a store needs its own.
    pub fn with_holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = Arc::from(holder.into());
        self
    }

    /// The holder the outbox claims actions for.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Claims up to `limit` due actions (lane heads) for this outbox's holder.
    async fn claim(&self, limit: usize) -> Result<Vec<OutboxAction>, StoreError> {
        let now = self.now();
        let until = now + SignedDuration::try_from(self.claim_ttl).unwrap_or_default();
        self.store
            .claim_due_actions(now, limit, &self.holder, until)
            .await
    }

    /// Reads the time from `clock` (the system clock by default): what is due, when a retry is
    /// due again, when an action was done.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Runs until `shutdown` is set, then lets running actions finish and returns.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut running: JoinSet<(String, Result<(), StoreError>)> = JoinSet::new();
        let mut busy: HashSet<String> = HashSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let free = self.config.max_in_flight.saturating_sub(running.len());
            let mut started = 0;
            if free > 0 {
                // The documents running here come back (claimed by this holder, their claims
                // renewed) and are skipped; the others are claimed and started.
                let due = self.claim(free + busy.len()).await?;
                for action in due {
                    if running.len() >= self.config.max_in_flight {
                        break;
                    }
                    if !busy.insert(action.action.document.clone()) {
                        continue;
                    }
                    let this = self.clone();
                    let document = action.action.document.clone();
                    let span = tracing::info_span!(
                        "action",
                        document = %action.action.document,
                        key = %action.action.key,
                        kind = %action.action.kind
                    );
                    running.spawn(
                        async move { (document, this.attempt(action).await) }.instrument(span),
                    );
                    started += 1;
                }
            }
            if started == 0 {
                tokio::select! {
                    Some(done) = running.join_next() => finish(&mut busy, done)?,
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
            while let Some(done) = running.try_join_next() {
                finish(&mut busy, done)?;
            }
        }
        while let Some(done) = running.join_next().await {
            finish(&mut busy, done)?;
        }
        Ok(())
    }

    /// Runs everything that is due now, once, and waits for it (tests, one-shot runs).
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        let due = self.claim(self.config.max_in_flight).await?;
        let count = due.len();
        let mut running = JoinSet::new();
        for action in due {
            let this = self.clone();
            running.spawn(async move { this.attempt(action).await });
        }
        while let Some(done) = running.join_next().await {
            done.map_err(|e| StoreError::Task(e.to_string()))??;
        }
        Ok(count)
    }

    /// One attempt at one action, recorded in the store. The executor's calls are cut at the
    /// attempt deadline, as an ambiguous failure (the next attempt looks the record up first);
    /// the store's writes are not.
    async fn attempt(&self, outbox: OutboxAction) -> Result<(), StoreError> {
        let deadline = self.attempt_deadline();
        let cut_at = tokio::time::Instant::now() + deadline;
        let cut = |what: &str| {
            tracing::warn!(key = %outbox.action.key, ?deadline, "{what} cut at the attempt deadline");
            ExecutionError::Ambiguous(
                format!(
                    "{what} cut after {} s, before the action's claim runs out",
                    deadline.as_secs()
                )
                .into(),
            )
        };
        let key = outbox.action.key.clone();
        let planned: PlannedAction = match serde_json::from_value(outbox.action.payload.clone()) {
            Ok(p) => p,
            Err(e) => {
                let message = format!("stored action cannot be read: {e}");
                self.store
                    .fail_action(&key, &message, false, None, self.now())
                    .await?;
                return self.raise_failure(&outbox, None, &message).await;
            }
        };
        if outbox.status == ActionStatus::Ambiguous {
            let found = tokio::time::timeout_at(cut_at, self.executor.find_applied(&planned))
                .await
                .unwrap_or_else(|_| Err(cut("look-up")));
            match found {
                Ok(Some(id)) => {
                    tracing::info!(%key, %id, "found the record of an ambiguous attempt");
                    return self.store.complete_action(&key, Some(id), self.now()).await;
                }
                Ok(None) => {}
                Err(e) => return self.retry_later(&outbox, &planned, e, true).await,
            }
        }
        self.store.begin_attempt(&key).await?;
        let executed = tokio::time::timeout_at(cut_at, self.executor.execute(&planned))
            .await
            .unwrap_or_else(|_| Err(cut("request")));
        match executed {
            Ok(id) => self.store.complete_action(&key, id, self.now()).await,
            Err(ExecutionError::Rejected(message)) => {
                tracing::warn!(%key, %message, "action rejected");
                self.store
                    .fail_action(&key, &message, false, None, self.now())
                    .await?;
                self.raise_failure(&outbox, Some(planned.action.action_type()), &message)
                    .await
            }
            Err(e) => {
                let ambiguous = matches!(e, ExecutionError::Ambiguous(_))
                    || outbox.status == ActionStatus::Ambiguous;
                self.retry_later(&outbox, &planned, e, ambiguous).await
            }
        }
    }

    async fn retry_later(
        &self,
        outbox: &OutboxAction,
        planned: &PlannedAction,
        error: ExecutionError,
        ambiguous: bool,
    ) -> Result<(), StoreError> {
        let key = &outbox.action.key;
        let attempts = outbox.attempts + 1;
        if attempts >= self.config.max_attempts {
            let message = format!("gave up after {attempts} attempts: {error}");
            self.store
                .fail_action(key, &message, ambiguous, None, self.now())
                .await?;
            return self
                .raise_failure(outbox, Some(planned.action.action_type()), &message)
                .await;
        }
        let delay = backoff(&self.config, attempts, key);
        let retry_at = self.now() + SignedDuration::try_from(delay).unwrap_or_default();
        tracing::debug!(%key, %error, ?delay, "retrying later");
        self.store
            .fail_action(
                key,
                &error.to_string(),
                ambiguous,
                Some(retry_at),
                self.now(),
            )
            .await
    }

    /// Raises the `action-failed` exception of `outbox`; `action` is its type, `None` when the
    /// stored action cannot be read.
    async fn raise_failure(
        &self,
        outbox: &OutboxAction,
        action: Option<ActionType>,
        message: &str,
    ) -> Result<(), StoreError> {
        let exception = NewException::of(
            ExceptionKind::ActionFailed { action },
            ExceptionSubject::Action(outbox.action.key.clone()).to_string(),
            crate::engine::document_label(&outbox.action.document),
            format!(
                "{} {} failed: {message}",
                outbox.action.kind, outbox.action.key
            ),
            serde_json::json!({ "action": outbox.action.key, "error": message }),
        );
        self.store.raise_exception(exception, self.now()).await
    }
}

fn finish(
    busy: &mut HashSet<String>,
    done: Result<(String, Result<(), StoreError>), tokio::task::JoinError>,
) -> Result<(), StoreError> {
    let (document, result) = done.map_err(|e| StoreError::Task(e.to_string()))?;
    busy.remove(&document);
    result
}
