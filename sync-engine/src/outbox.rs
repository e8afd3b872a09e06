//! The outbox worker: runs planned actions in order per document and in parallel across
//! documents, retries what may be retried, and looks before it resends after an ambiguous failure.
//!
//! What is due, when a retry is due again and when an action completed or failed are read from
//! the outbox's clock ([`Outbox::with_clock`], see [`crate::clock`]); the idle poll between
//! looks is a tokio sleep (waiting, not business time).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sync_core::{Action, PlannedAction};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::clock::{self, SharedClock};
use crate::store::{ActionStatus, NewException, OutboxAction, Store, StoreError};

/// Why an action did not take effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// Refused before anything was applied (429, 503, connection refused): safe to send again.
    #[error("retryable: {0}")]
    Retryable(String),
    /// The request may have been applied without an answer (timeout, 5xx after sending a
    /// create): look the record up before sending again.
    #[error("outcome unknown: {0}")]
    Ambiguous(String),
    /// The target system rejected the action; sending it again would fail the same way.
    #[error("rejected: {0}")]
    Rejected(String),
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

/// The delay before attempt `attempts + 1`: exponential from `base`, capped at `max`, with
/// deterministic jitter from the key so that documents retried together spread out.
pub fn backoff(config: &OutboxConfig, attempts: u32, key: &str) -> Duration {
    let exp = config
        .backoff_base
        .saturating_mul(1u32 << attempts.min(20))
        .min(config.backoff_max);
    let spread = key
        .bytes()
        .fold(attempts, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    // 50% to 100% of the exponential delay.
    let fraction = 0.5 + f64::from(spread % 1000) / 2000.0;
    exp.mul_f64(fraction)
}

/// Owner of a failed action's exception: NetSuite postings are finance's ledger, Clarus
/// orders and products are operations'.
fn failure_owner(action: &Action) -> &'static str {
    match action {
        Action::CreateProduct(_) | Action::UpdateProduct(_) => "item_master",
        Action::CreateGoodsOut(_) | Action::CancelGoodsOut { .. } | Action::CreateGoodsIn(_) => {
            "operations"
        }
        _ => "finance",
    }
}

/// Runs the outbox until `shutdown` turns true; in-flight actions are finished first.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
    executor: Arc<dyn ActionExecutor>,
    config: OutboxConfig,
    clock: SharedClock,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("config", &self.config)
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
        }
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
                let due = self
                    .store
                    .due_actions(self.now(), free + busy.len())
                    .await?;
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
        let due = self
            .store
            .due_actions(self.now(), self.config.max_in_flight)
            .await?;
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

    /// One attempt at one action, recorded in the store.
    async fn attempt(&self, outbox: OutboxAction) -> Result<(), StoreError> {
        let key = outbox.action.key.clone();
        let planned: PlannedAction = match serde_json::from_value(outbox.action.payload.clone()) {
            Ok(p) => p,
            Err(e) => {
                let message = format!("stored action cannot be read: {e}");
                self.store
                    .fail_action(&key, &message, false, None, self.now())
                    .await?;
                return self.raise_failure(&outbox, "integration", &message).await;
            }
        };
        if outbox.status == ActionStatus::Ambiguous {
            match self.executor.find_applied(&planned).await {
                Ok(Some(id)) => {
                    tracing::info!(%key, %id, "found the record of an ambiguous attempt");
                    return self.store.complete_action(&key, Some(id), self.now()).await;
                }
                Ok(None) => {}
                Err(e) => return self.retry_later(&outbox, &planned, e, true).await,
            }
        }
        self.store.begin_attempt(&key).await?;
        match self.executor.execute(&planned).await {
            Ok(id) => self.store.complete_action(&key, id, self.now()).await,
            Err(ExecutionError::Rejected(message)) => {
                tracing::warn!(%key, %message, "action rejected");
                self.store
                    .fail_action(&key, &message, false, None, self.now())
                    .await?;
                self.raise_failure(&outbox, failure_owner(&planned.action), &message)
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
                .raise_failure(outbox, failure_owner(&planned.action), &message)
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

    async fn raise_failure(
        &self,
        outbox: &OutboxAction,
        owner: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let exception = NewException {
            key: format!("EX-ACTION-{}", outbox.action.key),
            kind: crate::exceptions::ACTION_FAILED_KIND.into(),
            owner: owner.into(),
            severity: "error".into(),
            document: crate::engine::document_label(&outbox.action.document),
            message: format!(
                "{} {} failed: {message}",
                outbox.action.kind, outbox.action.key
            ),
            runbook: "operations.md#action-failed".into(),
            payload: serde_json::json!({ "action": outbox.action.key, "error": message }),
        };
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
