//! The readiness report: how each job, connection and crashed part looks now, and whether the
//! engine is ready (`GET /readyz`).

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::{Connection, Health, HealthConfig, Track};

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
    /// have not run successfully since their restart, and [`LEASES_PART`](super::LEASES_PART)
    /// while the store keeps failing to take or renew this instance's job leases (see
    /// [`Health::record_lease_failed`]); always [`Condition::Failing`]. Left out of the JSON while
    /// empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<ComponentHealth>,
    /// This instance, the live instances and the leases held, as the last cluster heartbeat
    /// read them (left out before the first one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::cluster_status::ClusterStatus>,
}

impl Track {
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

impl Health {
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
