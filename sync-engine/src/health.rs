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
use sync_core::ExceptionKind;

use jiff::{SignedDuration, Timestamp, Unit};
use serde::Serialize;
use serde_json::json;

pub use crate::job::{
    Connection, GRAPHQL_VALIDATION_CODES, JobError, clarus_error_is_persistent,
    graphql_error_is_validation, netsuite_error_is_persistent,
};
use crate::store::{NewException, Store, StoreError};

mod leases;

pub use leases::{
    LEASE_EXCEPTION_PREFIX, LEASE_REFRESH_EVERY, LEASES_PART, lease_exception_instance,
    lease_exception_key, resolve_gone_instances,
};

/// Kind of the exception raised for a scheduled job that keeps failing.
pub const JOB_FAILING_KIND: &str = ExceptionKind::JobFailing.code();
/// Runbook entry of [`JOB_FAILING_KIND`].
pub const JOB_FAILING_RUNBOOK: &str = "operations.md#job-failing";
/// Prefix of the key of a job's exception; the job's name follows.
pub const JOB_EXCEPTION_PREFIX: &str = "EX-INTEGRATION-JOB-";

/// The key of the `job-failing` exception of `job`.
pub fn job_exception_key(job: &str) -> String {
    format!("{JOB_EXCEPTION_PREFIX}{job}")
}

/// Kind of the exception raised for a part of the service that crashed and was restarted.
pub const TASK_CRASHED_KIND: &str = ExceptionKind::TaskCrashed.code();
/// Runbook entry of [`TASK_CRASHED_KIND`].
pub const TASK_CRASHED_RUNBOOK: &str = "operations.md#task-crashed";
/// Prefix of the key of a part's `task-crashed` exception; the part's name follows.
pub const TASK_EXCEPTION_PREFIX: &str = "EX-INTEGRATION-TASK-";

/// The key of the `task-crashed` exception of `part` (a job's name, `delivery-processor`,
/// `outbox`).
pub fn task_exception_key(part: &str) -> String {
    format!("{TASK_EXCEPTION_PREFIX}{part}")
}

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

/// Where a job or connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Succeeding recently.
    Ok,
    /// Failed past the threshold, or with an error waiting cannot clear.
    Failing,
    /// No success for longer than allowed.
    Stale,
}

/// The last failure of a job or connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// When.
    pub at: Timestamp,
    /// The error.
    pub message: String,
    /// Whether waiting cannot clear it.
    pub persistent: bool,
}

/// Whether this instance runs a leader-only job (see [`crate::cluster`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// This instance holds the job's lease and runs it.
    Leader,
    /// Another instance leads the job; this one skips its runs and stands by.
    Follower,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Leader => "leader",
            Role::Follower => "follower",
        })
    }
}

/// One job or connection in [`Readiness`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentHealth {
    /// The job's or connection's name.
    pub name: String,
    /// Where it stands.
    pub condition: Condition,
    /// For a job, the connections it depends on (empty for a connection).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
    /// Seconds between runs (for a connection: of its most frequent job).
    pub interval_secs: u64,
    /// Seconds without a success after which it is stale.
    pub stale_after_secs: u64,
    /// The last success, if any since the service started.
    pub last_success: Option<Timestamp>,
    /// The last failure, if any since the service started.
    pub last_failure: Option<Failure>,
    /// Failed runs since the last success.
    pub consecutive_failures: u32,
    /// The first failure since the last success, while failing.
    pub failing_since: Option<Timestamp>,
    /// For a leader-only job: whether this instance leads it (left out until its first lease
    /// attempt, and for jobs every instance runs and for connections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// For a job this instance follows: the instance leading it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub led_by: Option<String>,
}

impl ComponentHealth {
    /// The job's role in words: `leader`, `follower: led by <instance>` (`follower` when the
    /// leader is not known); `None` for a job every instance runs and for a connection.
    pub fn role_text(&self) -> Option<String> {
        match (self.role?, &self.led_by) {
            (Role::Follower, Some(leader)) => Some(format!("follower: led by {leader}")),
            (role, _) => Some(role.to_string()),
        }
    }
}

/// Whether the engine is moving the ledger: `/readyz`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Every job and connection is [`Condition::Ok`].
    pub ready: bool,
    /// When this was read.
    pub checked_at: Timestamp,
    /// Clarus and NetSuite, as seen by the jobs that depend on them.
    pub connections: Vec<ComponentHealth>,
    /// Every scheduled job.
    pub jobs: Vec<ComponentHealth>,
    /// The parts of the service (a job's loop, `delivery-processor`, `outbox`) that crashed and
    /// have not run successfully since their restart, and [`LEASES_PART`] while the store keeps
    /// failing to take or renew this instance's job leases (see [`Health::record_lease_failed`]);
    /// always [`Condition::Failing`]. Left out of the JSON while empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<ComponentHealth>,
    /// This instance, the live instances and the leases held, as the last cluster heartbeat
    /// read them (left out before the first one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::cluster_status::ClusterStatus>,
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

    /// How it looks at `now`; `raised` says its exception is open and it still fails;
    /// `standing_by` (a job another instance leads, a connection only such jobs use) is never
    /// stale.
    fn view(
        &self,
        name: &str,
        connections: &[Connection],
        raised: bool,
        standing_by: bool,
        config: &HealthConfig,
        now: Timestamp,
    ) -> ComponentHealth {
        let stale_after = self.stale_after(config.stale_floor);
        // `since` moves past the last success when the wait starts again (a job taken over).
        let waited =
            now.duration_since(self.last_success.map_or(self.since, |s| s.max(self.since)));
        let condition = if raised || self.failing(config.failures_before_exception) {
            Condition::Failing
        } else if standing_by {
            Condition::Ok
        } else if waited > SignedDuration::try_from(stale_after).unwrap_or(SignedDuration::MAX) {
            Condition::Stale
        } else {
            Condition::Ok
        };
        ComponentHealth {
            name: name.to_owned(),
            condition,
            connections: connections.to_vec(),
            interval_secs: self.interval.as_secs(),
            stale_after_secs: stale_after.as_secs(),
            last_success: self.last_success,
            last_failure: self.last_failure.clone(),
            consecutive_failures: self.consecutive_failures,
            failing_since: self.failing_since,
            role: None,
            led_by: None,
        }
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
                match store.resolve_exception(&key, &note, now).await {
                    Ok(()) | Err(StoreError::NotFound { .. }) => {
                        if let Some(state) = self.state().jobs.get_mut(job) {
                            state.may_be_open = false;
                            state.raised = false;
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Records that `part` of the service crashed (`reason`: the panic's message or the error that
    /// ended it) and raises its `task-crashed` exception at once, or refreshes it when the part
    /// crashed again since. The part shows failing in readiness until [`Health::record_task_ok`].
    pub async fn record_crash(
        &self,
        store: &dyn Store,
        part: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let (exception, first) = {
            let mut state = self.state();
            let entry = state
                .tasks
                .entry(part.to_owned())
                .or_insert_with(|| TaskState {
                    crash: None,
                    may_be_open: true,
                });
            entry.may_be_open = true;
            let last = Failure {
                at: now,
                message: reason.to_owned(),
                persistent: false,
            };
            let first = entry.crash.is_none();
            let crash = entry.crash.get_or_insert_with(|| Crash {
                since: now,
                last: last.clone(),
                crashes: 0,
            });
            crash.crashes += 1;
            crash.last = last;
            (task_exception(part, crash), first)
        };
        if first {
            store.raise_exception(exception, now).await
        } else {
            store.refresh_exception(exception, now).await
        }
    }

    /// Records that `part` ran successfully (a pass, a run, a start): after a crash this resolves
    /// its `task-crashed` exception and the part is no longer failing. Cheap when nothing is open.
    pub async fn record_task_ok(&self, store: &dyn Store, part: &str) -> Result<(), StoreError> {
        {
            let mut state = self.state();
            let entry = state
                .tasks
                .entry(part.to_owned())
                .or_insert_with(|| TaskState {
                    crash: None,
                    may_be_open: true,
                });
            if entry.crash.is_none() && !entry.may_be_open {
                return Ok(());
            }
        }
        let now = self.now();
        let note = format!("{part} runs again after its restart");
        match store
            .resolve_exception(&task_exception_key(part), &note, now)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => {
                if let Some(entry) = self.state().tasks.get_mut(part) {
                    entry.crash = None;
                    entry.may_be_open = false;
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Records that this instance leads the leader-only `job` (it holds the job's lease). When it
    /// followed before, the job was run elsewhere until now: the wait for its next success, and
    /// its connections', starts again now.
    pub fn record_leading(&self, job: &str) {
        let now = self.now();
        let mut state = self.state();
        let state = &mut *state;
        let entry = state
            .jobs
            .entry(job.to_owned())
            .or_insert_with(|| JobState::new(now, Duration::ZERO));
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
        let entry = state
            .jobs
            .entry(job.to_owned())
            .or_insert_with(|| JobState::new(now, Duration::ZERO));
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
        let entry = state
            .jobs
            .entry(job.to_owned())
            .or_insert_with(|| JobState::new(now, Duration::ZERO));
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

    /// Where every job and connection stands now.
    pub fn readiness(&self) -> Readiness {
        let now = self.now();
        let config = &self.inner.config;
        let state = self.state();
        // A connection whose every job another instance leads is used (and watched) there.
        let standing_by = |c: &Connection| {
            let mut users = state.jobs.values().filter(|j| j.connections.contains(c));
            let mut any = false;
            let all = users.all(|j| {
                any = true;
                j.following()
            });
            any && all
        };
        let connections: Vec<ComponentHealth> = state
            .connections
            .iter()
            .map(|(c, track)| track.view(c.as_str(), &[], false, standing_by(c), config, now))
            .collect();
        let jobs: Vec<ComponentHealth> = state
            .jobs
            .iter()
            .map(|(name, job)| {
                // Raised and not yet resolved counts only while the job still fails: a
                // resolution the store refused is tried again on the next success.
                // A job whose loop crashed fails until it runs successfully again.
                let crashed = state.tasks.get(name).is_some_and(|t| t.crash.is_some());
                let raised = crashed || (job.raised && job.track.consecutive_failures > 0);
                let following = job.following();
                // A follower's own failures are from before another instance took the job over:
                // only a crash of its loop here counts.
                let mut view = job.track.view(
                    name,
                    &job.connections,
                    raised && (crashed || !following),
                    following,
                    config,
                    now,
                );
                if following && !crashed {
                    view.condition = Condition::Ok;
                }
                view.role = job.role;
                if following {
                    // As read when the run was skipped, else as the last heartbeat read it.
                    view.led_by = job.led_by.clone().or_else(|| {
                        state
                            .cluster
                            .as_ref()
                            .and_then(|c| c.leader_of(name))
                            .map(str::to_owned)
                    });
                }
                view
            })
            .collect();
        let tasks: Vec<ComponentHealth> = state
            .tasks
            .iter()
            .filter_map(|(name, task)| {
                let crash = task.crash.as_ref()?;
                Some(ComponentHealth {
                    name: name.clone(),
                    condition: Condition::Failing,
                    connections: Vec::new(),
                    interval_secs: 0,
                    stale_after_secs: 0,
                    last_success: None,
                    last_failure: Some(crash.last.clone()),
                    consecutive_failures: crash.crashes,
                    failing_since: Some(crash.since),
                    role: None,
                    led_by: None,
                })
            })
            .chain(state.leases.view())
            .collect();
        let ready = connections
            .iter()
            .chain(&jobs)
            .chain(&tasks)
            .all(|c| c.condition == Condition::Ok);
        Readiness {
            ready,
            checked_at: now,
            connections,
            jobs,
            tasks,
            cluster: state.cluster.clone(),
        }
    }
}

/// The `job-failing` exception of a job that has just failed again.
fn job_exception(job: &str, state: &JobState, error: &JobError) -> NewException {
    let track = &state.track;
    let runs = track.consecutive_failures;
    let since = track.failing_since.unwrap_or(track.since);
    let runs_text = if runs == 1 {
        "1 run".to_owned()
    } else {
        format!("{runs} runs")
    };
    let depends = if state.connections.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = state.connections.iter().map(|c| c.as_str()).collect();
        format!(" (depends on {})", names.join(" and "))
    };
    let cause = if error.is_persistent() {
        "; the error will not clear by waiting (credentials refused, or the other system's schema \
         lacks what is asked for)"
    } else {
        ""
    };
    NewException::of(
        ExceptionKind::JobFailing,
        job_exception_key(job),
        format!("job {job}"),
        format!(
            "scheduled job {job}{depends} has failed {runs_text} in a row since {}{cause}; last \
             error: {error}",
            seconds(since)
        ),
        json!({
            "job": job,
            "connections": state.connections,
            "consecutive_failures": runs,
            "failing_since": since,
            "last_error": error.message(),
            "persistent": error.is_persistent(),
            "connection": error.connection(),
        }),
    )
}

/// The `task-crashed` exception of a part that has just crashed (again).
fn task_exception(part: &str, crash: &Crash) -> NewException {
    let times = if crash.crashes == 1 {
        "crashed".to_owned()
    } else {
        format!(
            "crashed {} times since {}",
            crash.crashes,
            seconds(crash.since)
        )
    };
    NewException::of(
        ExceptionKind::TaskCrashed,
        task_exception_key(part),
        format!("task {part}"),
        format!(
            "the service part {part} {times} and is being restarted; last: {}",
            crash.last.message
        ),
        json!({
            "part": part,
            "crashes": crash.crashes,
            "crashed_since": crash.since,
            "last_error": crash.last.message,
        }),
    )
}

/// A timestamp to the second, for messages.
fn seconds(t: Timestamp) -> Timestamp {
    t.round(Unit::Second).unwrap_or(t)
}

#[cfg(test)]
mod tests;
