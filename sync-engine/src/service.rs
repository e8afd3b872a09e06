//! The running service: webhook intake, delivery processing, the outbox and the pollers,
//! started together and stopped together.
//!
//! Every run of a [`Scheduled`] job is reported to the service's [`Health`] registry, which
//! raises an exception for a job that keeps failing and answers readiness.
//!
//! Every long-running part (a scheduled job's loop, the delivery processor, the outbox) is
//! supervised: when it panics or ends with an error it is logged at error level with its name,
//! reported with [`Health::record_crash`] (a `task-crashed` exception, the part failing in
//! readiness), and restarted after a backoff ([`RESTART_BACKOFF_MIN`] doubling up to
//! [`RESTART_BACKOFF_MAX`]) unless shutdown was requested; one part crashing never stops the
//! others. The webhook intake stopping before shutdown is fatal instead: the other parts are
//! stopped and [`Service::run`] returns the error, so the service manager restarts the process.
//! See `docs/decisions/task-supervision.md`.
//!
//! Shutdown is graceful: the intake stops taking deliveries, the loops finish the pass they are
//! in, and the outbox lets running actions complete. Anything not finished is still in the store
//! and resumes on the next start.
//!
//! # Several instances on one store
//!
//! A [`Scheduled`] job is leader-only unless it says otherwise ([`Scheduled::leader_only`]):
//! however many instances share the store, one runs it. Its loop wakes at least every
//! [`ClusterSettings::renew_every`](crate::cluster::ClusterSettings::renew_every) (2 s) and
//! takes or renews the job's lease ([`Leadership::lead`]) before anything else:
//!
//! - leading, it runs the job when its interval has passed since the last run ended (at once
//!   when it has just taken the job over); during the run a ticker in the same task renews the
//!   lease every `renew_every`, so a run longer than the lease keeps it, and between runs the
//!   loop's wake-ups renew it, so a job whose interval is longer than the lease keeps it too;
//! - following, it skips the run (logged at debug) and reports the job to [`Health`] as
//!   `follower: led by <instance>`, fine for readiness; it tries again at its next wake-up, so a
//!   dead leader's job is taken over within `lease_ttl + renew_every` (12 s by default);
//! - when the lease cannot be read (the store failing) it skips the run and tries again; the
//!   failure counts towards this instance's own lease exception
//!   (`EX-INTEGRATION-LEASES-<instance>`, raised after
//!   [`HealthConfig::failures_before_exception`](crate::health::HealthConfig) failures in a row of
//!   one job, resolved when every job's lease is answered again; see
//!   [`Health::record_lease_failed`]).
//!
//! At shutdown each job's loop releases its lease after its last run, so another instance takes
//! the job over at its next wake-up rather than when the lease runs out. The delivery processor
//! and the outbox run on every instance. See `docs/decisions/cluster.md`.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::cluster::Leadership;
use crate::engine::Engine;
use crate::health::Health;
pub use crate::job::{JobError, Scheduled};
use crate::outbox::Outbox;
use crate::processor::Processor;
use crate::store::{ActionStatus, Store, StoreError};

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
    /// What the intake's server grants one client (header timeout, connection limit; the
    /// `[webhook]` settings).
    pub intake_limits: crate::intake::IntakeLimits,
    /// Pause between processing passes when nothing was due.
    pub idle_poll: Duration,
    /// Where every scheduled run is reported (share it with the intake for `/readyz`).
    pub health: Health,
    /// This instance's leases on the leader-only jobs (see the module documentation); a
    /// single instance leads every job. Include a [`crate::cluster::Heartbeat`] in `scheduled`
    /// so other instances see this one alive and readiness shows the cluster.
    pub leadership: Arc<Leadership>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

impl Service {
    /// Runs every part until `shutdown` turns true, then stops them gracefully.
    ///
    /// A supervised part that crashes is restarted (see the module documentation); the intake
    /// stopping before shutdown stops every other part and is returned as the error.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
        // Every part stops on `shutdown` or when the intake fails: the caller's request is
        // forwarded to this channel by the join loop below.
        let mut requested = shutdown;
        let (stop_all, shutdown) = watch::channel(*requested.borrow());
        let mut tasks: JoinSet<Result<(), StoreError>> = JoinSet::new();

        if let Some((listener, router)) = self.intake {
            let mut stop = shutdown.clone();
            let limits = self.intake_limits.clone();
            tasks.spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                crate::intake::serve(listener, router, &limits, stopped)
                    .await
                    .map_err(|e| StoreError::Task(format!("webhook intake stopped: {e}")))
            });
        }

        let mut parts: JoinSet<Result<(), StoreError>> = JoinSet::new();

        {
            let processor = self.processor.clone();
            let (health, store) = (self.health.clone(), self.store.clone());
            let stop = shutdown.clone();
            let idle = self.idle_poll;
            parts.spawn(supervise(
                PROCESSOR_PART.to_owned(),
                self.health.clone(),
                self.store.clone(),
                shutdown.clone(),
                move |_| {
                    let (processor, health, store) =
                        (processor.clone(), health.clone(), store.clone());
                    let mut stop = stop.clone();
                    async move {
                        while !*stop.borrow() {
                            let stats = match processor.process_due(256).await {
                                Ok(stats) => {
                                    report_ok(&health, store.as_ref(), PROCESSOR_PART).await;
                                    stats
                                }
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
                    }
                },
            ));
        }

        {
            let outbox = self.outbox.clone();
            let (health, store) = (self.health.clone(), self.store.clone());
            let stop = shutdown.clone();
            parts.spawn(supervise(
                OUTBOX_PART.to_owned(),
                self.health.clone(),
                self.store.clone(),
                shutdown.clone(),
                move |restarted| {
                    let (outbox, health, store) = (outbox.clone(), health.clone(), store.clone());
                    let stop = stop.clone();
                    async move {
                        // After a crash, one pass over what is due shows the outbox works again.
                        if restarted {
                            outbox.run_due().await?;
                        }
                        report_ok(&health, store.as_ref(), OUTBOX_PART).await;
                        outbox.run(stop).await
                    }
                },
            ));
        }

        for job in self.scheduled {
            self.health
                .register(job.name(), job.interval(), job.connections());
            let name = job.name().to_owned();
            let engine = self.engine.clone();
            let (health, store) = (self.health.clone(), self.store.clone());
            let leadership = self.leadership.clone();
            let stop = shutdown.clone();
            parts.spawn(supervise(
                name,
                self.health.clone(),
                self.store.clone(),
                shutdown.clone(),
                move |_| {
                    let loop_parts = JobLoop {
                        job: job.clone(),
                        engine: engine.clone(),
                        health: health.clone(),
                        store: store.clone(),
                        leadership: leadership.clone(),
                    };
                    loop_parts.run(stop.clone())
                },
            ));
        }

        // `tasks` holds the intake only: its end before shutdown is fatal. The supervised parts
        // end only at shutdown.
        let mut result = Ok(());
        let mut forwarded = false;
        loop {
            let stopping = *stop_all.borrow();
            tokio::select! {
                waited = requested.wait_for(|s| *s), if !forwarded && !stopping => {
                    forwarded = true;
                    if waited.is_ok() {
                        let _ = stop_all.send(true);
                    }
                }
                Some(done) = tasks.join_next() => {
                    let reason = match done {
                        Ok(Ok(())) if stopping => None,
                        Ok(Ok(())) => Some(StoreError::Task(
                            "webhook intake stopped: its accept loop returned before shutdown"
                                .into(),
                        )),
                        Ok(Err(e)) => Some(e),
                        Err(e) => Some(StoreError::Task(format!(
                            "webhook intake stopped: {}",
                            join_error_text(e)
                        ))),
                    };
                    if let Some(e) = reason {
                        if stopping {
                            tracing::error!(error = %e, "the webhook intake failed while stopping");
                        } else {
                            tracing::error!(
                                error = %e,
                                "the webhook intake stopped; stopping the service"
                            );
                        }
                        let _ = stop_all.send(true);
                        result = Err(e);
                    }
                }
                Some(done) = parts.join_next() => {
                    let error = match done {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(e),
                        Err(e) => Some(StoreError::Task(join_error_text(e))),
                    };
                    if let Some(e) = error {
                        tracing::error!(error = %e, "a service task failed");
                        if result.is_ok() {
                            result = Err(e);
                        }
                    }
                }
                else => break,
            }
        }
        result
    }
}

/// The name of the delivery processor's loop in logs, readiness and its `task-crashed` exception.
pub const PROCESSOR_PART: &str = "delivery-processor";
/// The name of the outbox in logs, readiness and its `task-crashed` exception.
pub const OUTBOX_PART: &str = "outbox";
/// The pause before the first restart of a crashed part.
pub const RESTART_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// The longest pause between restarts of a part that keeps crashing; a part that ran at least
/// this long before crashing starts again from [`RESTART_BACKOFF_MIN`].
pub const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// A scheduled job's loop and what it needs.
struct JobLoop {
    job: Arc<dyn Scheduled>,
    engine: Arc<Engine>,
    health: Health,
    store: Arc<dyn Store>,
    leadership: Arc<Leadership>,
}

impl JobLoop {
    /// Runs the job every interval until `stop`: every instance runs a job that is not
    /// leader-only; a leader-only job runs only while this instance holds its lease (see the
    /// module documentation), and its lease is released when the loop ends.
    async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), StoreError> {
        let job = self.job.as_ref();
        let name = job.name();
        let mut next_run = Instant::now();
        while !*stop.borrow() {
            let wait = if job.leader_only() {
                self.lead_or_follow(&mut next_run).await
            } else {
                run_job(job, &self.engine, &self.health, self.store.as_ref()).await;
                job.interval()
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        if job.leader_only()
            && self.leadership.holds(name)
            && let Err(e) = self.leadership.release(self.store.as_ref(), name).await
        {
            tracing::warn!(job = name, error = %e, "the job's lease could not be released; it runs out by itself");
        }
        Ok(())
    }

    /// One wake-up of a leader-only job: takes or renews its lease, and runs it when it is due
    /// and this instance leads. Returns how long to wait before the next wake-up: until the next
    /// run, at most `renew_every`.
    async fn lead_or_follow(&self, next_run: &mut Instant) -> Duration {
        let job = self.job.as_ref();
        let name = job.name();
        let store = self.store.as_ref();
        let renew_every = self.leadership.settings().renew_every;
        let now = self.engine.clock().now();
        let outcome = self.leadership.lead(store, name, now).await;
        self.report_lease(&outcome).await;
        match outcome {
            Ok(true) => {
                self.health.record_leading(name);
                if Instant::now() >= *next_run {
                    self.run_leading().await;
                    *next_run = Instant::now() + job.interval();
                }
                next_run
                    .saturating_duration_since(Instant::now())
                    .min(renew_every)
            }
            Ok(false) => {
                // Whenever this instance takes the job over, it runs it at once.
                *next_run = Instant::now();
                let leader = match self.leadership.lease(store, name, now).await {
                    Ok(lease) => lease.map(|l| l.holder),
                    Err(e) => {
                        tracing::debug!(job = name, error = %e, "the job's leader could not be read");
                        None
                    }
                };
                tracing::debug!(
                    job = name,
                    leader = leader.as_deref().unwrap_or("unknown"),
                    "another instance leads the job; run skipped"
                );
                self.health.record_following(name, leader.as_deref());
                renew_every
            }
            Err(e) => {
                tracing::warn!(
                    job = name,
                    error = %e,
                    "the job's lease could not be taken or renewed; run skipped"
                );
                renew_every
            }
        }
    }

    /// Reports a lease attempt's outcome to [`Health`]: a store failure counts towards this
    /// instance's lease exception, an answer (leading or not) ends the job's run of failures
    /// (see [`Health::record_lease_failed`]). A store refusing the exception is logged.
    async fn report_lease(&self, outcome: &Result<bool, StoreError>) {
        let name = self.job.name();
        let store = self.store.as_ref();
        let instance = self.leadership.instance().as_str();
        let reported = match outcome {
            Ok(_) => self.health.record_lease_ok(store, instance, name).await,
            Err(e) => {
                self.health
                    .record_lease_failed(store, instance, name, e)
                    .await
            }
        };
        if let Err(e) = reported {
            tracing::error!(
                job = name,
                error = %e,
                "this instance's lease exception could not be raised or resolved"
            );
        }
    }

    /// One run of a job this instance leads, renewing the lease every `renew_every` while it
    /// runs (in this task, so the renewals stop with the run or when the task is dropped).
    async fn run_leading(&self) {
        let job = self.job.as_ref();
        let name = job.name();
        let renew_every = self.leadership.settings().renew_every;
        let run = run_job(job, &self.engine, &self.health, self.store.as_ref());
        let renew = async {
            let mut ticks = crate::cluster::renewal_ticks(renew_every);
            loop {
                ticks.tick().await;
                let now = self.engine.clock().now();
                let outcome = self.leadership.lead(self.store.as_ref(), name, now).await;
                self.report_lease(&outcome).await;
                match outcome {
                    Ok(true) => {}
                    Ok(false) => tracing::error!(
                        job = name,
                        "another instance took the job's lease during a run (renewals failed or \
                         came after the lease ran out): the job may run on both"
                    ),
                    Err(e) => tracing::warn!(
                        job = name,
                        error = %e,
                        "the job's lease could not be renewed during a run"
                    ),
                }
            }
        };
        tokio::select! {
            () = run => {}
            () = renew => {}
        }
    }
}

/// One run of a scheduled job, reported to `health`.
async fn run_job(job: &dyn Scheduled, engine: &Engine, health: &Health, store: &dyn Store) {
    let outcome = job.run_once(engine).await;
    match &outcome {
        Ok(n) => tracing::debug!(job = job.name(), handled = n, "scheduled run"),
        Err(e) => tracing::warn!(
            job = job.name(),
            error = %e,
            persistent = e.is_persistent(),
            "scheduled run failed"
        ),
    }
    if let Err(e) = health.record(store, job.name(), &outcome).await {
        tracing::error!(
            job = job.name(),
            error = %e,
            "the job's exception could not be raised or resolved"
        );
    }
    if outcome.is_ok() {
        report_ok(health, store, job.name()).await;
    }
}

/// Tells `health` that `part` ran successfully, logging a store failure.
async fn report_ok(health: &Health, store: &dyn Store, part: &str) {
    if let Err(e) = health.record_task_ok(store, part).await {
        tracing::error!(part, error = %e, "the part's task-crashed exception could not be resolved");
    }
}

/// Runs the part `start` makes until shutdown, restarting it after a backoff whenever it panics,
/// fails, or returns before shutdown; each crash is logged and reported to `health`. `start`
/// is told whether this is a restart. Returns the part's error only when it fails while stopping.
async fn supervise<F, Fut>(
    part: String,
    health: Health,
    store: Arc<dyn Store>,
    mut stop: watch::Receiver<bool>,
    mut start: F,
) -> Result<(), StoreError>
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let restart_backoff = Backoff::new(RESTART_BACKOFF_MIN, RESTART_BACKOFF_MAX);
    let mut crashes_in_a_row = 0;
    let mut restarted = false;
    loop {
        let began = Instant::now();
        let outcome = AssertUnwindSafe(start(restarted)).catch_unwind().await;
        let stopping = *stop.borrow();
        let reason = match outcome {
            Ok(Ok(())) if stopping => return Ok(()),
            Ok(Err(e)) if stopping => return Err(e),
            Err(panic) if stopping => {
                return Err(StoreError::Task(format!(
                    "{part} panicked while stopping: {}",
                    panic_text(panic.as_ref())
                )));
            }
            Ok(Ok(())) => "it returned before shutdown".to_owned(),
            Ok(Err(e)) => format!("it failed: {e}"),
            Err(panic) => format!("it panicked: {}", panic_text(panic.as_ref())),
        };
        if began.elapsed() >= RESTART_BACKOFF_MAX {
            crashes_in_a_row = 0;
        }
        let backoff = restart_backoff.delay(crashes_in_a_row);
        tracing::error!(
            part = %part,
            reason = %reason,
            restart_in_secs = backoff.as_secs_f64(),
            "a service part crashed; restarting it"
        );
        if let Err(e) = health.record_crash(store.as_ref(), &part, &reason).await {
            tracing::error!(part = %part, error = %e, "the task-crashed exception could not be raised");
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
        crashes_in_a_row += 1;
        restarted = true;
    }
}

/// The message of a panic's payload.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with no message".to_owned()
    }
}

/// What a task's join error says: its panic's message, or that it was cancelled.
fn join_error_text(e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        format!("it panicked: {}", panic_text(e.into_panic().as_ref()))
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::task_exception_key;
    use crate::store::SqliteStore;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_part_that_fails_is_restarted_and_one_that_stops_at_shutdown_is_not() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let health = Health::default();
        let starts = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = watch::channel(false);
        let part = {
            let (starts, health, store, stopped) = (
                starts.clone(),
                health.clone(),
                store.clone(),
                stopped.clone(),
            );
            tokio::spawn(supervise(
                "worker".to_owned(),
                health.clone(),
                store.clone(),
                stopped.clone(),
                move |restarted| {
                    let (starts, health, store) = (starts.clone(), health.clone(), store.clone());
                    let mut stopped = stopped.clone();
                    async move {
                        let n = starts.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(restarted, n > 0);
                        if n == 0 {
                            return Err(StoreError::Task("the store went away".into()));
                        }
                        health.record_task_ok(store.as_ref(), "worker").await?;
                        let _ = stopped.wait_for(|s| *s).await;
                        Ok(())
                    }
                },
            ))
        };
        let key = task_exception_key("worker");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let resolved = store
                .exception(&key)
                .await
                .unwrap()
                .is_some_and(|e| e.resolved_at.is_some());
            if resolved && starts.load(Ordering::SeqCst) == 2 {
                break;
            }
            assert!(Instant::now() < deadline, "not restarted");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let e = store.exception(&key).await.unwrap().unwrap();
        assert!(e.exception.message.contains("the store went away"));
        assert!(health.readiness().ready);
        stop.send(true).unwrap();
        part.await.unwrap().unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        assert_eq!(panic_text(&"boom"), "boom");
        assert_eq!(panic_text(&"boom".to_owned()), "boom");
        assert_eq!(panic_text(&3_u8), "a panic with no message");
    }
}
