//! The exception queue as people work it: filtering, retrying and resolving.
//!
//! People act from the `sync` command line, a process apart from the running engine. Their
//! changes go through the store: a resolution is written at once (and the running engine applies
//! it to its view when it next reads the audit trail), a retry is queued as a request that the
//! running engine's [`RequestHandler`] carries out, so that a retry always runs with the
//! engine's clients, its view and its ordering rules. Every request and its outcome are kept in
//! the exception's audit trail.
//!
//! What a retry does depends on what went wrong ([`RetryWay`]):
//!
//! | exception | retry |
//! |---|---|
//! | `action-failed` | the failed action (or batch) goes back in the outbox, attempts reset |
//! | `stock-drift` | both systems' stock is read again *now* and compared; the exception closes if the position is back in step, otherwise it shows the new figures. Old figures are never replayed |
//! | raised by planning (`unknown-sku`, `missing-*-mapping`, ...) | deferred deliveries are due again and a held NetSuite order is planned again with today's item master and mappings |
//! | `invalid-delivery` | the delivery is decoded again |
//!
//! Exceptions that only a change at the source can clear (`invalid-record`, stuck documents,
//! a receipt Clarus never reported) cannot be retried; [`retry_way`] says why.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use sync_core::ExceptionKind;
use sync_core::exception::Retry;
use sync_core::subject::ExceptionSubject;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sync_core::{DocumentRef, Exception};
use tokio::sync::Mutex;

use crate::engine::{Engine, EngineError};
use crate::job::Scheduled;
use crate::store::{ExceptionQuery, Store, StoreError, StoredException};

/// Kind of the exceptions raised for actions the outbox gave up on (the core's constant).
pub use sync_core::close::ACTION_FAILED_KIND;
/// Kind of the exceptions raised for deliveries that could not be decoded.
pub const INVALID_DELIVERY_KIND: &str = ExceptionKind::InvalidDelivery.code();

/// Which exceptions to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionFilter {
    /// Only this owner (`operations`, `finance`, `item_master`, `integration`).
    pub owner: Option<String>,
    /// Only this kind (`unknown-sku`, ...).
    pub kind: Option<String>,
    /// Only exceptions whose document or key contains this text (case-insensitive).
    pub document: Option<String>,
    /// Only exceptions raised at least this long ago.
    pub older_than: Option<SignedDuration>,
    /// Only exceptions raised at most this long ago.
    pub newer_than: Option<SignedDuration>,
    /// Resolved ones too (by default only open ones).
    pub include_resolved: bool,
}

impl ExceptionFilter {
    /// Whether `exception` passes the filter at `now`.
    ///
    /// ```
    /// use jiff::{SignedDuration, Timestamp};
    /// use sync_engine::exceptions::ExceptionFilter;
    /// use sync_engine::store::{NewException, StoredException};
    ///
    /// let now: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
    /// let exception = StoredException {
    ///     exception: NewException {
    ///         key: "EX-1".into(),
    ///         kind: "unknown-sku".into(),
    ///         owner: "item_master".into(),
    ///         severity: "error".into(),
    ///         document: "sales order SO-1001 (4411)".into(),
    ///         message: "SKU WIDGET-9 is not in Clarus".into(),
    ///         runbook: "operations.md#unknown-sku".into(),
    ///         payload: serde_json::Value::Null,
    ///     },
    ///     raised_at: "2026-11-27T09:00:00Z".parse().unwrap(),
    ///     resolved_at: None,
    ///     resolution_note: None,
    /// };
    /// let filter = ExceptionFilter {
    ///     kind: Some("unknown-sku".into()),
    ///     document: Some("so-1001".into()),
    ///     older_than: Some(SignedDuration::from_hours(2)),
    ///     ..ExceptionFilter::default()
    /// };
    /// assert!(filter.matches(&exception, now));
    /// let younger = ExceptionFilter { newer_than: Some(SignedDuration::from_hours(1)), ..filter };
    /// assert!(!younger.matches(&exception, now));
    /// ```
    pub fn matches(&self, exception: &StoredException, now: Timestamp) -> bool {
        let e = &exception.exception;
        if !self.include_resolved && exception.resolved_at.is_some() {
            return false;
        }
        if self.owner.as_deref().is_some_and(|o| o != e.owner) {
            return false;
        }
        if self.kind.as_deref().is_some_and(|k| k != e.kind) {
            return false;
        }
        if let Some(text) = &self.document {
            let text = text.to_lowercase();
            if !e.document.to_lowercase().contains(&text) && !e.key.to_lowercase().contains(&text) {
                return false;
            }
        }
        let age = now.duration_since(exception.raised_at);
        if self.older_than.is_some_and(|min| age < min) {
            return false;
        }
        if self.newer_than.is_some_and(|max| age > max) {
            return false;
        }
        true
    }
}

/// How an exception is retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "way", rename_all = "kebab-case")]
pub enum RetryWay {
    /// Put the failed outbox action back, attempts reset.
    RequeueAction {
        /// The action's key.
        action: String,
    },
    /// Put the failed batch and its members back, attempts reset.
    RequeueBatch {
        /// The batch's key.
        batch: String,
    },
    /// Read both systems' stock now and compare again.
    RecheckStock,
    /// Make deferred deliveries due again, and plan a held NetSuite order again.
    ReplayDocument {
        /// The document the exception concerns.
        document: DocumentRef,
    },
    /// Decode a delivery again.
    ReprocessDelivery {
        /// The delivery's id.
        delivery: i64,
    },
}

/// Why an exception cannot be retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetryError {
    /// There is no exception with this key.
    #[error("exception `{0}` not found")]
    NotFound(String),
    /// The exception is resolved already.
    #[error("exception `{0}` is resolved; nothing to retry")]
    Resolved(String),
    /// Retrying cannot help this kind of exception.
    #[error("a `{kind}` exception cannot be retried: {reason}")]
    NotRetryable {
        /// The exception's kind.
        kind: String,
        /// What clears it instead.
        reason: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How `exception` would be retried, or why it cannot be.
pub fn retry_way(exception: &StoredException) -> Result<RetryWay, RetryError> {
    let e = &exception.exception;
    let not_retryable = |reason| {
        Err(RetryError::NotRetryable {
            kind: e.kind.clone(),
            reason,
        })
    };
    let subject = ExceptionSubject::parse(&e.key);
    match ExceptionKind::retry_of_code(&e.kind) {
        Some(Retry::RequeueAction) => match subject {
            Some(ExceptionSubject::Batch(batch)) => Ok(RetryWay::RequeueBatch { batch }),
            _ => match e.payload.get("action").and_then(|a| a.as_str()) {
                Some(action) => Ok(RetryWay::RequeueAction {
                    action: action.to_owned(),
                }),
                None => not_retryable("the exception does not name its action"),
            },
        },
        Some(Retry::RecheckStock) => Ok(RetryWay::RecheckStock),
        Some(Retry::ReprocessDelivery) => match subject {
            Some(ExceptionSubject::Delivery(delivery)) => {
                Ok(RetryWay::ReprocessDelivery { delivery })
            }
            _ => not_retryable("the exception does not name its delivery"),
        },
        Some(Retry::NotRetryable { reason }) => not_retryable(reason),
        Some(Retry::ReplayDocument) | None => {
            match serde_json::from_value::<Exception>(e.payload.clone()) {
                Ok(core) => Ok(RetryWay::ReplayDocument {
                    document: core.document,
                }),
                Err(_) => not_retryable("the exception was not raised by planning"),
            }
        }
    }
}

/// Queues a retry of one open exception for the running engine. Refuses, writing nothing, an
/// exception that is resolved, unknown or cannot be retried.
pub async fn request_retry(
    store: &dyn Store,
    key: &str,
    note: Option<&str>,
    now: Timestamp,
) -> Result<RetryWay, RetryError> {
    let exception = store
        .exception(key)
        .await?
        .ok_or_else(|| RetryError::NotFound(key.to_owned()))?;
    if exception.resolved_at.is_some() {
        return Err(RetryError::Resolved(key.to_owned()));
    }
    let way = retry_way(&exception)?;
    store.request_retry(key, note, now).await?;
    Ok(way)
}

/// Handles the requests people queued (retries) and applies the resolutions they made from
/// outside to the engine's view; run it as a [`Scheduled`] job of the service.
pub struct RequestHandler {
    stock_recheck: Option<Arc<dyn Scheduled>>,
    interval: Duration,
    audit_seen: Mutex<i64>,
}

impl std::fmt::Debug for RequestHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHandler")
            .field(
                "stock_recheck",
                &self.stock_recheck.as_ref().map(|j| j.name()),
            )
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// What one run of the [`RequestHandler`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandledRequests {
    /// Requests handled, each with its outcome.
    pub retries: Vec<(String, String)>,
    /// Resolutions made from outside applied to the engine's view.
    pub resolutions_applied: usize,
}

impl RequestHandler {
    /// A handler that checks for requests every `interval`. `stock_recheck` is the scheduled
    /// reconciliation, run once per pass when a drift exception is retried (without it, drift
    /// retries report that nothing could be read).
    pub fn new(stock_recheck: Option<Arc<dyn Scheduled>>, interval: Duration) -> Self {
        RequestHandler {
            stock_recheck,
            interval,
            audit_seen: Mutex::new(0),
        }
    }

    /// Handles every open request and applies new resolutions.
    pub async fn handle(&self, engine: &Engine) -> Result<HandledRequests, EngineError> {
        let store = engine.store().clone();
        let mut done = HandledRequests {
            resolutions_applied: self.apply_resolutions(engine).await?,
            ..HandledRequests::default()
        };
        let requests = store.open_requests().await?;
        let mut stock_rechecked: Option<Result<(), String>> = None;
        let mut replayed_deliveries = false;
        for request in requests {
            let now = engine.clock().now();
            let outcome = match store.exception(&request.key).await? {
                None => "nothing done: the exception no longer exists".to_owned(),
                Some(e) if e.resolved_at.is_some() => {
                    "nothing done: the exception was resolved before the retry ran".to_owned()
                }
                Some(e) => match retry_way(&e) {
                    Err(refusal) => format!("nothing done: {refusal}"),
                    Ok(way) => {
                        self.retry(
                            engine,
                            &e,
                            way,
                            &mut stock_rechecked,
                            &mut replayed_deliveries,
                            now,
                        )
                        .await?
                    }
                },
            };
            tracing::info!(key = %request.key, %outcome, "exception retried");
            store.finish_request(request.seq, &outcome, now).await?;
            done.retries.push((request.key, outcome));
        }
        Ok(done)
    }

    async fn retry(
        &self,
        engine: &Engine,
        exception: &StoredException,
        way: RetryWay,
        stock_rechecked: &mut Option<Result<(), String>>,
        replayed_deliveries: &mut bool,
        now: Timestamp,
    ) -> Result<String, EngineError> {
        let store = engine.store();
        let key = &exception.exception.key;
        Ok(match way {
            RetryWay::RequeueAction { action } => {
                if store.retry_action(&action, now).await? {
                    engine
                        .resolve_exception(key, "retried: the action is back in the outbox", now)
                        .await?;
                    format!(
                        "action {action} is back in the outbox; a new failure reopens this exception"
                    )
                } else {
                    format!("nothing done: action {action} is not failed")
                }
            }
            RetryWay::RequeueBatch { batch } => {
                if store.retry_batch(&batch, now).await? {
                    engine
                        .resolve_exception(key, "retried: the batch is back in the outbox", now)
                        .await?;
                    format!(
                        "batch {batch} and its actions are back in the outbox; a new failure reopens this exception"
                    )
                } else {
                    format!("nothing done: batch {batch} is not failed")
                }
            }
            RetryWay::RecheckStock => {
                let result = match stock_rechecked {
                    Some(result) => result.clone(),
                    None => {
                        let result = match &self.stock_recheck {
                            Some(job) => job
                                .run_once(engine)
                                .await
                                .map(|_| ())
                                .map_err(|e| e.to_string()),
                            None => Err("no reconciliation is configured".to_owned()),
                        };
                        *stock_rechecked = Some(result.clone());
                        result
                    }
                };
                match result {
                    Err(e) => format!("stock could not be read again: {e}"),
                    Ok(()) => match store.exception(key).await? {
                        Some(now_) if now_.resolved_at.is_none() => format!(
                            "stock read again from both systems; still drifting: {}",
                            now_.exception.message
                        ),
                        _ => {
                            "stock read again from both systems: back in step, resolved".to_owned()
                        }
                    },
                }
            }
            RetryWay::ReplayDocument { document } => {
                let mut parts = Vec::new();
                if !*replayed_deliveries {
                    let woken = store.wake_deferred_deliveries(now).await?;
                    *replayed_deliveries = true;
                    parts.push(format!("{woken} deferred deliveries are due again"));
                }
                if let DocumentRef::Order { order } = &document {
                    let outcome = engine.replan_order(order, now).await?;
                    parts.push(format!("order {order} planned again: {outcome:?}"));
                }
                if parts.is_empty() {
                    parts.push("deferred deliveries were already replayed in this pass".into());
                }
                let still_open = store
                    .exception(key)
                    .await?
                    .is_some_and(|e| e.resolved_at.is_none());
                if still_open {
                    parts.push("the exception stays open until planning succeeds".into());
                } else {
                    parts.push("resolved".into());
                }
                parts.join("; ")
            }
            RetryWay::ReprocessDelivery { delivery } => {
                if store.reprocess_delivery(delivery, now).await? {
                    engine
                        .resolve_exception(key, "retried: the delivery is decoded again", now)
                        .await?;
                    format!(
                        "delivery {delivery} is decoded again; a new failure reopens this exception"
                    )
                } else {
                    format!("nothing done: delivery {delivery} no longer exists")
                }
            }
        })
    }

    /// Applies to the engine's view the resolutions recorded since the last pass, for
    /// exceptions still resolved now (a resolution followed by a reopening is not applied).
    async fn apply_resolutions(&self, engine: &Engine) -> Result<usize, EngineError> {
        let mut seen = self.audit_seen.lock().await;
        let entries = engine.store().audit_since(*seen).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            return Ok(0);
        };
        let resolved_since: HashSet<&str> = entries
            .iter()
            .filter(|e| e.change == "resolved")
            .map(|e| e.key.as_str())
            .collect();
        let mut applied = 0;
        // The resolved ones among the keys, by pages of keys (the first pass sees the whole
        // trail): neither one read per key nor a read of the whole queue.
        let keys: Vec<String> = resolved_since.iter().map(|k| (*k).to_owned()).collect();
        for chunk in keys.chunks(crate::reconcile::READ_PAGE) {
            let filter = ExceptionQuery {
                open: Some(false),
                keys: chunk.to_vec(),
                ..ExceptionQuery::default()
            };
            let resolved = engine
                .store()
                .exceptions_page(&filter, None, chunk.len())
                .await?;
            for e in resolved {
                if engine.forget_exception(&e.exception.key).await {
                    applied += 1;
                }
            }
        }
        *seen = last;
        Ok(applied)
    }
}

#[async_trait]
impl Scheduled for RequestHandler {
    fn name(&self) -> &str {
        "exception-requests"
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, crate::job::JobError> {
        let done = self
            .handle(engine)
            .await
            .map_err(crate::job::JobError::of)?;
        Ok(done.retries.len() + done.resolutions_applied)
    }
}
