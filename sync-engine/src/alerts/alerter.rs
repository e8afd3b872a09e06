//! The scheduled job that turns new exceptions into alerts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Alert, AlertSink, DeliveryError};
use crate::engine::Engine;
use crate::job::Scheduled;
use crate::store::{ExceptionCursor, ExceptionQuery, Store, StoreError, StoredException};

/// The watermark holding the alerter's state (cursor, throttles, alerts waiting for delivery).
pub const STATE_WATERMARK: &str = "alerts.state";

/// Which sinks receive the alerts of which owner.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_owner: BTreeMap<String, Vec<Arc<dyn AlertSink>>>,
    fallback: Vec<Arc<dyn AlertSink>>,
}

impl Routes {
    /// No routes: every exception is unrouted.
    pub fn new() -> Self {
        Routes::default()
    }

    /// Sends the alerts of `owner` to `sink` too.
    pub fn route(mut self, owner: impl Into<String>, sink: Arc<dyn AlertSink>) -> Self {
        self.by_owner.entry(owner.into()).or_default().push(sink);
        self
    }

    /// Sends the alerts of owners with no route of their own to `sink`.
    pub fn fallback(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.fallback.push(sink);
        self
    }

    /// The sinks for an owner's alerts.
    pub fn sinks_for(&self, owner: &str) -> &[Arc<dyn AlertSink>] {
        self.by_owner
            .get(owner)
            .map(Vec::as_slice)
            .unwrap_or(&self.fallback)
    }

    fn sink(&self, name: &str) -> Option<&Arc<dyn AlertSink>> {
        self.by_owner
            .values()
            .flatten()
            .chain(&self.fallback)
            .find(|s| s.name() == name)
    }
}

/// How the alerter groups, throttles and retries.
#[derive(Debug, Clone, PartialEq)]
pub struct AlerterSettings {
    /// Time between runs.
    pub interval: Duration,
    /// At most one alert per sink, owner and kind within this window; exceptions raised
    /// meanwhile are counted into the next alert.
    pub throttle: Duration,
    /// How many exceptions an alert shows as examples.
    pub examples: usize,
    /// How long one delivery may take before it counts as failed.
    pub delivery_timeout: Duration,
    /// Wait before the first retry; doubles with each failure.
    pub retry_base: Duration,
    /// Longest wait between retries.
    pub retry_max: Duration,
    /// Failed attempts after which an alert is dropped (and the drop logged as an error).
    pub max_attempts: u32,
    /// Prefix turning a runbook entry (`operations.md#unknown-sku`) into a link, e.g.
    /// `https://git.example.com/sync/blob/main/docs/`.
    pub runbook_base_url: Option<String>,
}

impl Default for AlerterSettings {
    fn default() -> Self {
        AlerterSettings {
            interval: Duration::from_secs(60),
            throttle: Duration::from_secs(15 * 60),
            examples: 5,
            delivery_timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(30 * 60),
            max_attempts: 24,
            runbook_base_url: None,
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertRun {
    /// Exceptions raised or reopened since the previous run.
    pub new_exceptions: usize,
    /// New exceptions whose owner has no sink.
    pub unrouted: usize,
    /// Alerts delivered.
    pub delivered: usize,
    /// Deliveries that failed and will be retried.
    pub failed: usize,
    /// Alerts dropped after too many failed attempts.
    pub dropped: usize,
    /// Alerts held back by the throttle window or a retry backoff.
    pub waiting: usize,
}

/// Pushes new exceptions to their owners' sinks; see the [module docs](super).
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sync_engine::alerts::{Alerter, AlerterSettings, Routes, WebhookSink};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let ops = WebhookSink::new("ops", "https://hooks.example.com/T/B/X".parse()?, Duration::from_secs(10))?;
/// let alerter = Alerter::new(Routes::new().route("operations", Arc::new(ops)), AlerterSettings::default());
/// // `Arc::new(alerter)` goes into `Service::scheduled`.
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Alerter {
    routes: Routes,
    settings: AlerterSettings,
}

/// How far before the newest `raised_at` seen the alerter still looks for exceptions: an
/// exception's `raised_at` is taken when its plan is made, a moment before it is committed, so a
/// run can see a later exception before an earlier one lands.
const LOOKBACK: SignedDuration = SignedDuration::from_secs(120);

/// Exceptions already seen: everything raised more than [`LOOKBACK`] before `high`, and the
/// exceptions in `seen` (key and `raised_at`, so a reopened exception counts as new).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    high: Option<Timestamp>,
    seen: BTreeMap<String, Timestamp>,
}

impl Cursor {
    fn horizon(&self) -> Option<Timestamp> {
        self.high
            .map(|high| high.checked_sub(LOOKBACK).unwrap_or(Timestamp::MIN))
    }

    fn is_new(&self, e: &StoredException) -> bool {
        match self.horizon() {
            None => true,
            Some(horizon) => {
                e.raised_at >= horizon && self.seen.get(&e.exception.key) != Some(&e.raised_at)
            }
        }
    }

    fn advance(&mut self, e: &StoredException) {
        self.high = Some(self.high.map_or(e.raised_at, |high| high.max(e.raised_at)));
        self.seen.insert(e.exception.key.clone(), e.raised_at);
    }

    /// Forgets what is now behind the horizon.
    fn prune(&mut self) {
        if let Some(horizon) = self.horizon() {
            self.seen.retain(|_, raised_at| *raised_at >= horizon);
        }
    }
}

/// One sink, owner and kind: when it last sent, and what waits to be sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Channel {
    sink: String,
    owner: String,
    kind: String,
    last_sent_at: Option<Timestamp>,
    pending: Option<Alert>,
    attempts: u32,
    next_attempt_at: Option<Timestamp>,
    last_error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    cursor: Cursor,
    channels: Vec<Channel>,
}

impl Alerter {
    /// An alerter sending along `routes`.
    pub fn new(routes: Routes, settings: AlerterSettings) -> Self {
        Alerter { routes, settings }
    }

    /// One run at `now`: reads new exceptions, delivers what is due, saves its state. Never
    /// fails: store and delivery errors are logged and the work is retried next run.
    pub async fn run_at(&self, store: &dyn Store, now: Timestamp) -> AlertRun {
        let mut run = AlertRun::default();
        let mut state = match store.watermark(STATE_WATERMARK).await {
            Ok(None) => State::default(),
            Ok(Some(text)) => match serde_json::from_str(&text) {
                Ok(state) => state,
                Err(e) => {
                    tracing::error!(error = %e, "alert state unreadable; starting afresh");
                    State::default()
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot read alert state; alerting next run");
                return run;
            }
        };
        match open_since(store, state.cursor.horizon()).await {
            Ok(exceptions) => self.collect(&mut state, &exceptions, &mut run),
            Err(e) => tracing::warn!(error = %e, "cannot read exceptions; alerting next run"),
        }
        self.deliver_due(&mut state, now, &mut run).await;
        self.prune(&mut state, now);
        match serde_json::to_string(&state) {
            Ok(text) => {
                if let Err(e) = store.set_watermark(STATE_WATERMARK, &text).await {
                    tracing::error!(error = %e, "cannot save alert state");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot serialise alert state"),
        }
        run
    }

    /// Folds new open exceptions into the pending alert of each of their channels.
    fn collect(&self, state: &mut State, exceptions: &[StoredException], run: &mut AlertRun) {
        let mut fresh: Vec<&StoredException> = exceptions
            .iter()
            .filter(|e| e.resolved_at.is_none() && state.cursor.is_new(e))
            .collect();
        fresh.sort_by(|a, b| (a.raised_at, &a.exception.key).cmp(&(b.raised_at, &b.exception.key)));
        let base = self.settings.runbook_base_url.as_deref();
        for e in fresh {
            run.new_exceptions += 1;
            state.cursor.advance(e);
            let sinks = self.routes.sinks_for(&e.exception.owner);
            if sinks.is_empty() {
                run.unrouted += 1;
                tracing::warn!(
                    owner = %e.exception.owner,
                    kind = %e.exception.kind,
                    "exception has no alert route"
                );
                continue;
            }
            for sink in sinks {
                let channel = channel(state, sink.name(), &e.exception.owner, &e.exception.kind);
                channel
                    .pending
                    .get_or_insert_with(|| Alert::start(e, base))
                    .add(e, self.settings.examples);
            }
        }
    }

    async fn deliver_due(&self, state: &mut State, now: Timestamp, run: &mut AlertRun) {
        let throttle = signed(self.settings.throttle);
        let mut due = Vec::new();
        for (index, channel) in state.channels.iter().enumerate() {
            let Some(alert) = &channel.pending else {
                continue;
            };
            let open = channel
                .last_sent_at
                .is_none_or(|at| now >= later(at, throttle))
                && channel.next_attempt_at.is_none_or(|at| now >= at);
            if !open {
                run.waiting += 1;
                continue;
            }
            match self.routes.sink(&channel.sink) {
                Some(sink) => due.push((index, sink.clone(), alert.clone())),
                None => {
                    // The sink was removed from the configuration since the alert was queued.
                    tracing::warn!(sink = %channel.sink, "alert sink no longer configured; alert dropped");
                    run.dropped += 1;
                }
            }
        }
        let timeout = self.settings.delivery_timeout;
        let outcomes = futures_util::future::join_all(due.into_iter().map(
            |(index, sink, alert)| async move {
                let outcome = match tokio::time::timeout(timeout, sink.deliver(&alert)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(DeliveryError::Timeout(timeout)),
                };
                (index, outcome)
            },
        ))
        .await;
        for (index, outcome) in outcomes {
            let channel = &mut state.channels[index];
            match outcome {
                Ok(()) => {
                    run.delivered += 1;
                    tracing::info!(sink = %channel.sink, owner = %channel.owner, kind = %channel.kind, "alert delivered");
                    channel.last_sent_at = Some(now);
                    channel.pending = None;
                    channel.attempts = 0;
                    channel.next_attempt_at = None;
                    channel.last_error = None;
                }
                Err(e) => {
                    channel.attempts += 1;
                    channel.last_error = Some(e.to_string());
                    if channel.attempts >= self.settings.max_attempts {
                        run.dropped += 1;
                        tracing::error!(sink = %channel.sink, owner = %channel.owner, kind = %channel.kind, attempts = channel.attempts, error = %e, "alert dropped after repeated failures");
                        channel.pending = None;
                        channel.attempts = 0;
                        channel.next_attempt_at = None;
                    } else {
                        run.failed += 1;
                        let wait = self.backoff(channel.attempts);
                        tracing::warn!(sink = %channel.sink, owner = %channel.owner, kind = %channel.kind, attempts = channel.attempts, retry_in = ?wait, error = %e, "alert delivery failed");
                        channel.next_attempt_at = Some(later(now, signed(wait)));
                    }
                }
            }
        }
    }

    /// `retry_base` doubled for every failure after the first, capped at `retry_max`.
    fn backoff(&self, attempts: u32) -> Duration {
        crate::backoff::Backoff::new(self.settings.retry_base, self.settings.retry_max)
            .delay(attempts.saturating_sub(1))
    }

    /// Forgets channels with nothing pending whose throttle window has passed.
    fn prune(&self, state: &mut State, now: Timestamp) {
        state.cursor.prune();
        let throttle = signed(self.settings.throttle);
        state.channels.retain(|c| {
            c.pending.is_some() || c.last_sent_at.is_some_and(|at| now < later(at, throttle))
        });
    }
}

/// Exceptions read per page.
const PAGE: usize = 500;

/// The open exceptions raised at or after `horizon` (every open one without a horizon: the first
/// run), page by page: a run reads what is new, not the whole queue.
async fn open_since(
    store: &dyn Store,
    horizon: Option<Timestamp>,
) -> Result<Vec<StoredException>, StoreError> {
    let filter = ExceptionQuery {
        open: Some(true),
        ..ExceptionQuery::default()
    };
    // Pages run in (time raised, key) order and start after the cursor; no key is empty, so
    // this cursor starts at the horizon itself.
    let mut after = horizon.map(|raised_at| ExceptionCursor {
        raised_at,
        key: String::new(),
    });
    let mut found = Vec::new();
    loop {
        let page = store.exceptions_page(&filter, after.as_ref(), PAGE).await?;
        let full = page.len() == PAGE;
        after = page.last().map(StoredException::cursor);
        found.extend(page);
        if !full {
            return Ok(found);
        }
    }
}

fn channel<'a>(state: &'a mut State, sink: &str, owner: &str, kind: &str) -> &'a mut Channel {
    let index = match state
        .channels
        .iter()
        .position(|c| c.sink == sink && c.owner == owner && c.kind == kind)
    {
        Some(index) => index,
        None => {
            state.channels.push(Channel {
                sink: sink.to_owned(),
                owner: owner.to_owned(),
                kind: kind.to_owned(),
                last_sent_at: None,
                pending: None,
                attempts: 0,
                next_attempt_at: None,
                last_error: None,
            });
            state.channels.len() - 1
        }
    };
    &mut state.channels[index]
}

/// `at + d`, saturating at the latest representable time.
fn later(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

#[async_trait]
impl Scheduled for Alerter {
    fn name(&self) -> &str {
        "alerts"
    }

    fn interval(&self) -> Duration {
        self.settings.interval
    }

    async fn run_once(&self, engine: &Engine) -> Result<usize, crate::job::JobError> {
        let run = self
            .run_at(engine.store().as_ref(), engine.clock().now())
            .await;
        Ok(run.delivered)
    }
}
