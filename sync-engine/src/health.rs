//! Whether the engine is moving the ledger: the health of every scheduled job and of the two
//! connections they depend on, Clarus and NetSuite.
//!
//! The service reports every run of every [`Scheduled`](crate::job::Scheduled) job to one
//! shared [`Health`] registry. The registry keeps, per job and per connection, the last success,
//! the last failure and how many runs failed in a row, and turns a job that keeps failing into an
//! exception with an owner (`job-failing`, owner `integration`, key `EX-INTEGRATION-JOB-<job>`):
//!
//! - after [`HealthConfig::failures_before_exception`] failed runs in a row (3 by default), or at
//!   once when the error cannot pass by waiting ([`JobError::Persistent`]: credentials refused,
//!   a GraphQL query the tenant's schema does not accept);
//! - refreshed with the latest error on every further failed run;
//! - resolved by the first success.
//!
//! A part of the service that crashes (a scheduled job's loop, the delivery processor, the
//! outbox: a panic, or an error that ends it) is reported with [`Health::record_crash`]: it raises
//! a `task-crashed` exception at once (owner `integration`, key `EX-INTEGRATION-TASK-<part>`) and
//! the part shows failing in readiness until [`Health::record_task_ok`] reports that the restarted
//! part ran successfully again, which resolves the exception.
//!
//! Lease failures are the instance's own: a leader-only job whose lease the store fails to take
//! or renew is reported with [`Health::record_lease_failed`], which raises the instance's
//! `job-failing` exception `EX-INTEGRATION-LEASES-<instance>` after the same number of failures
//! in a row and shows the part `job-leases` failing; [`Health::record_lease_ok`] resolves it (see
//! the `leases` module for the rule).
//!
//! [`Health::readiness`] says whether every job and connection is moving: none has gone without a
//! success for longer than `max(3 × its interval, stale floor)` and none is failing. The intake
//! serves it as `GET /readyz` (see [`crate::intake::router_with_health`]).
//!
//! In a cluster (several instances on one store, see [`crate::cluster`]) a leader-only job this
//! instance does not lead is skipped: the service reports it with [`Health::record_following`]
//! and it reads as `follower: led by <instance>` ([`ComponentHealth::role`], `led_by`), fine
//! for readiness and never stale; a connection whose every job is followed here is not stale
//! either. When the instance takes the job over ([`Health::record_leading`]) the wait for its
//! next success starts again. [`Health::record_cluster`] keeps the cluster's live instances and
//! leases, as the instance's last heartbeat read them, for [`Readiness::cluster`].
//!
//! Time comes from a clock given to the registry ([`Health::with_clock`], or the engine's
//! [`SharedClock`](crate::clock::SharedClock) with [`Health::on_clock`]), `Timestamp::now` by
//! default, so tests control it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;

pub use crate::job::{
    Connection, GRAPHQL_VALIDATION_CODES, JobError, clarus_error_is_persistent,
    graphql_error_is_validation, netsuite_error_is_persistent,
};
use crate::store::{NewException, Store, StoreError};

mod exceptions;
mod leases;
mod readiness;

pub use exceptions::{
    JOB_EXCEPTION_PREFIX, JOB_FAILING_KIND, JOB_FAILING_RUNBOOK, TASK_CRASHED_KIND,
    TASK_CRASHED_RUNBOOK, TASK_EXCEPTION_PREFIX, job_exception_key, task_exception_key,
};
pub use leases::{
    LEASE_EXCEPTION_PREFIX, LEASE_REFRESH_EVERY, LEASES_PART, lease_exception_instance,
    lease_exception_key, resolve_gone_instances,
};
pub use readiness::{ComponentHealth, Condition, Failure, Readiness, Role};

use exceptions::{job_exception, seconds};

/// Settings of the health registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// Failed runs in a row after which a job's exception is raised (at least 1).
    pub failures_before_exception: u32,
    /// The shortest time without a success after which a job or connection is stale, whatever
    /// its interval (a job is stale after `max(3 × interval, stale_floor)`).
    pub stale_floor: Duration,
    /// How long one delivery may keep failing to decode before its `delivery-stalled` exception
    /// is raised (see [`crate::processor::Processor::stall_after`]).
    pub delivery_stall: Duration,
}

impl Default for HealthConfig {
    /// 3 failures, a 5-minute floor, 30 minutes for a delivery.
    fn default() -> Self {
        HealthConfig {
            failures_before_exception: 3,
            stale_floor: Duration::from_secs(5 * 60),
            delivery_stall: Duration::from_secs(30 * 60),
        }
    }
}

/// The outcomes of one job or connection.
#[derive(Debug, Clone)]
struct Track {
    /// Registration: the start of the wait for a first success.
    since: Timestamp,
    interval: Duration,
    last_success: Option<Timestamp>,
    last_failure: Option<Failure>,
    consecutive_failures: u32,
    failing_since: Option<Timestamp>,
}

impl Track {
    fn new(since: Timestamp, interval: Duration) -> Self {
        Track {
            since,
            interval,
            last_success: None,
            last_failure: None,
            consecutive_failures: 0,
            failing_since: None,
        }
    }

    fn succeed(&mut self, now: Timestamp) {
        self.last_success = Some(now);
        self.consecutive_failures = 0;
        self.failing_since = None;
    }

    fn fail(&mut self, now: Timestamp, error: &JobError) {
        self.consecutive_failures += 1;
        self.failing_since.get_or_insert(now);
        self.last_failure = Some(Failure {
            at: now,
            message: error.message().to_owned(),
            persistent: error.is_persistent(),
        });
    }

    /// Failing past the threshold, or last failed with an error waiting cannot clear.
    fn failing(&self, threshold: u32) -> bool {
        self.consecutive_failures >= threshold.max(1)
            || (self.consecutive_failures > 0
                && self.last_failure.as_ref().is_some_and(|f| f.persistent))
    }

    fn stale_after(&self, floor: Duration) -> Duration {
        (self.interval.saturating_mul(3)).max(floor)
    }
}

#[derive(Debug)]
struct JobState {
    track: Track,
    connections: Vec<Connection>,
    /// Its exception was raised and not resolved since: further failures refresh it.
    raised: bool,
    /// Its exception may be open: resolve it on the next success. True at start-up, since an
    /// exception raised before a restart is still open in the store.
    may_be_open: bool,
    /// For a leader-only job, whether this instance leads it (`None` before the first try).
    role: Option<Role>,
    /// The instance leading it while this one follows, when known.
    led_by: Option<String>,
}

impl JobState {
    fn new(since: Timestamp, interval: Duration) -> Self {
        JobState {
            track: Track::new(since, interval),
            connections: Vec::new(),
            raised: false,
            may_be_open: true,
            role: None,
            led_by: None,
        }
    }

    fn following(&self) -> bool {
        self.role == Some(Role::Follower)
    }
}

/// The crashes of a part since it last ran successfully.
#[derive(Debug, Clone)]
struct Crash {
    since: Timestamp,
    last: Failure,
    crashes: u32,
}

#[derive(Debug)]
struct TaskState {
    /// Crashed and not run successfully since.
    crash: Option<Crash>,
    /// Its exception may be open: resolve it on the next success. True at start-up, since an
    /// exception raised before a restart of the process is still open in the store.
    may_be_open: bool,
}

#[derive(Debug, Default)]
struct State {
    jobs: BTreeMap<String, JobState>,
    connections: BTreeMap<Connection, Track>,
    tasks: BTreeMap<String, TaskState>,
    cluster: Option<crate::cluster_status::ClusterStatus>,
    leases: leases::LeaseState,
}

/// What the store must be told after a run.
#[derive(Debug)]
enum Step {
    Nothing,
    Raise(NewException),
    Refresh(NewException),
    Resolve(String),
}

type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

struct Inner {
    config: HealthConfig,
    clock: Clock,
    state: Mutex<State>,
}

/// The shared health registry: cheap to clone, every clone sees the same state.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

/// The record of `job` in `jobs`, created (with no interval, as of `now`) when it has none.
fn job_entry<'a>(
    jobs: &'a mut BTreeMap<String, JobState>,
    job: &str,
    now: Timestamp,
) -> &'a mut JobState {
    jobs.entry(job.to_owned())
        .or_insert_with(|| JobState::new(now, Duration::ZERO))
}

/// Resolves the exception `key` with `note`. One the store does not hold open (resolved
/// elsewhere, or never raised before a restart) counts as resolved.
async fn resolve(
    store: &dyn Store,
    key: &str,
    note: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    match store.resolve_exception(key, note, now).await {
        Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Default for Health {
    fn default() -> Self {
        Health::new(HealthConfig::default())
    }
}

impl Health {
    /// A registry reading the system clock.
    pub fn new(config: HealthConfig) -> Self {
        Health::with_clock(config, Timestamp::now)
    }

    /// A registry reading time from `clock`.
    pub fn with_clock(
        config: HealthConfig,
        clock: impl Fn() -> Timestamp + Send + Sync + 'static,
    ) -> Self {
        Health {
            inner: Arc::new(Inner {
                config,
                clock: Arc::new(clock),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// A registry reading time from the engine's business clock (see [`crate::clock`]); give it
    /// the clock the engine's other parts read.
    ///
    /// ```
    /// use sync_engine::clock::{Clock, ManualClock};
    /// use sync_engine::health::{Health, HealthConfig};
    ///
    /// let clock = ManualClock::new(jiff::Timestamp::UNIX_EPOCH);
    /// let health = Health::on_clock(HealthConfig::default(), clock.shared());
    /// clock.advance(std::time::Duration::from_secs(5));
    /// assert_eq!(health.now(), clock.now());
    /// ```
    pub fn on_clock(config: HealthConfig, clock: crate::clock::SharedClock) -> Self {
        Health::with_clock(config, move || clock.now())
    }

    /// Its settings.
    pub fn config(&self) -> &HealthConfig {
        &self.inner.config
    }

    /// The registry's time.
    pub fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counters, never a broken invariant: go on.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Declares a job (the service does it when it starts the job): from now on it is expected to
    /// succeed every `interval`, and its successes count for `connections`. Registering a job
    /// again updates its interval and connections and keeps its record.
    pub fn register(&self, job: &str, interval: Duration, connections: &[Connection]) {
        let now = self.now();
        let mut state = self.state();
        for &c in connections {
            let track = state
                .connections
                .entry(c)
                .or_insert_with(|| Track::new(now, interval));
            track.interval = track.interval.min(interval);
        }
        let entry = state
            .jobs
            .entry(job.to_owned())
            .or_insert_with(|| JobState::new(now, interval));
        entry.track.interval = interval;
        entry.connections = connections.to_vec();
    }

    /// Records one run of `job` and raises, refreshes or resolves its `job-failing` exception in
    /// `store`. A job not registered is registered with no interval and no connection.
    pub async fn record(
        &self,
        store: &dyn Store,
        job: &str,
        outcome: &Result<usize, JobError>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        match self.note(job, outcome.as_ref().map(|_| ()), now) {
            Step::Nothing => Ok(()),
            Step::Raise(exception) => store.raise_exception(exception, now).await,
            Step::Refresh(exception) => store.refresh_exception(exception, now).await,
            Step::Resolve(key) => {
                let note = format!("job {job} succeeded again");
                resolve(store, &key, &note, now).await?;
                if let Some(state) = self.state().jobs.get_mut(job) {
                    state.may_be_open = false;
                    state.raised = false;
                }
                Ok(())
            }
        }
    }

    /// Records that this instance leads the leader-only `job` (it holds the job's lease). When it
    /// followed before, the job was run elsewhere until now: the wait for its next success, and
    /// its connections', starts again now.
    pub fn record_leading(&self, job: &str) {
        let now = self.now();
        let mut state = self.state();
        let state = &mut *state;
        let entry = job_entry(&mut state.jobs, job, now);
        if entry.following() {
            entry.track.since = now;
            for c in &entry.connections {
                if let Some(track) = state.connections.get_mut(c) {
                    track.since = track.since.max(now);
                }
            }
        }
        entry.role = Some(Role::Leader);
        entry.led_by = None;
    }

    /// Records that another instance (`leader`, when known) leads the leader-only `job`: this
    /// instance skipped its run. The job reads `follower: led by <leader>`, counts as fine for
    /// readiness and is never stale here.
    pub fn record_following(&self, job: &str, leader: Option<&str>) {
        let now = self.now();
        let mut state = self.state();
        let entry = job_entry(&mut state.jobs, job, now);
        entry.role = Some(Role::Follower);
        entry.led_by = leader.map(str::to_owned);
    }

    /// Keeps the cluster as a heartbeat read it, for [`Readiness::cluster`].
    pub fn record_cluster(&self, status: crate::cluster_status::ClusterStatus) {
        self.state().cluster = Some(status);
    }

    /// Updates the record under the lock and says what the store must be told.
    fn note(&self, job: &str, outcome: Result<(), &JobError>, now: Timestamp) -> Step {
        let threshold = self.inner.config.failures_before_exception.max(1);
        let mut state = self.state();
        let state = &mut *state;
        let entry = job_entry(&mut state.jobs, job, now);
        match outcome {
            Ok(()) => {
                entry.track.succeed(now);
                for c in &entry.connections {
                    if let Some(track) = state.connections.get_mut(c) {
                        track.succeed(now);
                    }
                }
                if entry.raised || entry.may_be_open {
                    Step::Resolve(job_exception_key(job))
                } else {
                    Step::Nothing
                }
            }
            Err(error) => {
                entry.track.fail(now, error);
                // The connection the error names, or none: a store or planning failure is no
                // connection's fault.
                if let Some(c) = error.connection()
                    && let Some(track) = state.connections.get_mut(&c)
                {
                    track.fail(now, error);
                }
                if entry.raised {
                    Step::Refresh(job_exception(job, entry, error))
                } else if entry.track.failing(threshold) {
                    entry.raised = true;
                    entry.may_be_open = true;
                    Step::Raise(job_exception(job, entry, error))
                } else {
                    Step::Nothing
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
