//! This instance's job leases: when the store keeps failing to take or renew them.
//!
//! A leader-only job whose lease cannot be taken or renewed (the store failing) is not run on
//! this instance. The job's own `job-failing` exception cannot say so: its key is shared by every
//! instance, so another instance's success resolves it. Lease failures are counted per instance
//! instead:
//!
//! - per job, the lease attempts (takes, renewals, renewals during a run) that failed in a row;
//! - once any job reaches [`HealthConfig::failures_before_exception`] (3 by default), the
//!   instance's `job-failing` exception with key `EX-INTEGRATION-LEASES-<instance>`
//!   ([`lease_exception_key`]) is raised, naming the jobs and the last error, and `/readyz` shows
//!   the part `job-leases` failing; it is refreshed at most every [`LEASE_REFRESH_EVERY`] while
//!   the failures go on (and whenever another job joins them);
//! - a successful lease attempt ends that job's run of failures; when no job of the instance is
//!   failing any more the exception is resolved. If the store refused the raise itself, the
//!   exception is raised and resolved at once on recovery, so the outage stays on record;
//! - an instance that stops for good cannot resolve its own: the cluster heartbeat of any
//!   instance resolves the lease exceptions of instances the store has forgotten (not seen for
//!   [`FORGET_INSTANCES_AFTER`](crate::cluster_status::FORGET_INSTANCES_AFTER)).
//!
//! [`HealthConfig::failures_before_exception`]: super::HealthConfig::failures_before_exception

use std::collections::BTreeMap;
use std::time::Duration;
use sync_core::ExceptionKind;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::{ComponentHealth, Condition, Failure, Health, resolve, seconds};
use crate::store::{ExceptionQuery, NewException, Store, StoreError};

/// Prefix of the key of an instance's lease exception; the instance's id follows.
pub const LEASE_EXCEPTION_PREFIX: &str = "EX-INTEGRATION-LEASES-";

/// The name of the part shown failing in [`super::Readiness::tasks`] while this instance's
/// leases keep failing.
pub const LEASES_PART: &str = "job-leases";

/// The shortest time between two refreshes of an open lease exception (a store failing for
/// every job would otherwise be written to at every job's wake-up).
pub const LEASE_REFRESH_EVERY: Duration = Duration::from_secs(60);

/// The key of the lease exception of `instance`.
pub fn lease_exception_key(instance: &str) -> String {
    format!("{LEASE_EXCEPTION_PREFIX}{instance}")
}

/// The instance a lease exception's key names, if it is one.
pub fn lease_exception_instance(key: &str) -> Option<&str> {
    key.strip_prefix(LEASE_EXCEPTION_PREFIX)
}

/// The lease failures of this instance.
#[derive(Debug)]
pub(super) struct LeaseState {
    /// Per job: failed lease attempts in a row (jobs with none are left out).
    failing: BTreeMap<String, u32>,
    /// The first failure since no job was failing.
    since: Option<Timestamp>,
    /// The last failure.
    last: Option<Failure>,
    /// A job reached the threshold: the exception is due and readiness shows the part failing.
    raised: bool,
    /// The exception was written open to the store (raised or refreshed), and when.
    written_at: Option<Timestamp>,
    /// The jobs named in the exception last written.
    written_jobs: Vec<String>,
    /// An exception of this instance may be open (one left by an earlier process with the same
    /// configured id): resolve it at the first successful attempt.
    may_be_open: bool,
}

impl Default for LeaseState {
    fn default() -> Self {
        LeaseState {
            failing: BTreeMap::new(),
            since: None,
            last: None,
            raised: false,
            written_at: None,
            written_jobs: Vec::new(),
            may_be_open: true,
        }
    }
}

impl LeaseState {
    fn worst(&self) -> u32 {
        self.failing.values().copied().max().unwrap_or(0)
    }

    /// Readiness's view of the part, while raised.
    pub(super) fn view(&self) -> Option<ComponentHealth> {
        if !self.raised {
            return None;
        }
        Some(ComponentHealth {
            name: LEASES_PART.to_owned(),
            condition: Condition::Failing,
            connections: Vec::new(),
            interval_secs: 0,
            stale_after_secs: 0,
            last_success: None,
            last_failure: self.last.clone(),
            consecutive_failures: self.worst(),
            failing_since: self.since,
            role: None,
            led_by: None,
        })
    }

    fn exception(&self, instance: &str) -> NewException {
        let jobs: Vec<&str> = self.failing.keys().map(String::as_str).collect();
        let since = self.since.map(seconds);
        let last = self.last.as_ref().map_or("", |f| f.message.as_str());
        NewException::of(
            ExceptionKind::JobFailing,
            lease_exception_key(instance),
            format!("instance {instance}"),
            format!(
                "instance {instance} cannot take or renew the leases of {} (the store failed {} \
                 times in a row{}): it runs none of them; another instance may; last error: \
                 {last}",
                jobs.join(", "),
                self.worst(),
                since.map(|s| format!(" since {s}")).unwrap_or_default(),
            ),
            json!({
                "instance": instance,
                "jobs": jobs,
                "consecutive_failures": self.worst(),
                "failing_since": since,
                "last_error": last,
            }),
        )
    }
}

/// What the store must be told after a lease attempt.
enum LeaseStep {
    Nothing,
    Write(NewException),
    Resolve {
        /// The exception to raise first, when the store never got it.
        unwritten: Option<NewException>,
        since: Option<Timestamp>,
    },
}

impl Health {
    /// Records that this instance (`instance`) could not take or renew the lease of `job`
    /// because the store failed with `error`; raises or refreshes the instance's lease exception
    /// per the rule in the module documentation. Errors: the store refused the exception (it is
    /// tried again at the next attempt).
    pub async fn record_lease_failed(
        &self,
        store: &dyn Store,
        instance: &str,
        job: &str,
        error: &StoreError,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let threshold = self.inner.config.failures_before_exception.max(1);
        let step = {
            let mut state = self.state();
            let leases = &mut state.leases;
            *leases.failing.entry(job.to_owned()).or_insert(0) += 1;
            leases.since.get_or_insert(now);
            leases.last = Some(Failure {
                at: now,
                message: error.to_string(),
                persistent: false,
            });
            if leases.worst() >= threshold {
                leases.raised = true;
            }
            let refresh = SignedDuration::try_from(LEASE_REFRESH_EVERY).unwrap_or_default();
            let jobs: Vec<String> = leases.failing.keys().cloned().collect();
            let due = match leases.written_at {
                None => true,
                Some(at) => now.duration_since(at) >= refresh || jobs != leases.written_jobs,
            };
            if leases.raised && due {
                LeaseStep::Write(leases.exception(instance))
            } else {
                LeaseStep::Nothing
            }
        };
        match step {
            LeaseStep::Write(exception) => {
                let jobs: Vec<String> = self.state().leases.failing.keys().cloned().collect();
                store.refresh_exception(exception, now).await?;
                let mut state = self.state();
                state.leases.written_at = Some(now);
                state.leases.written_jobs = jobs;
                state.leases.may_be_open = true;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Records that this instance took or renewed the lease of `job` (or learnt that another
    /// instance holds it): the store answered. Ends the job's run of lease failures, and
    /// resolves the instance's lease exception once no job is failing.
    pub async fn record_lease_ok(
        &self,
        store: &dyn Store,
        instance: &str,
        job: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let step = {
            let mut state = self.state();
            let leases = &mut state.leases;
            leases.failing.remove(job);
            if !leases.failing.is_empty() {
                LeaseStep::Nothing
            } else if leases.raised && leases.written_at.is_none() {
                // The store never got the exception: put the outage on record.
                LeaseStep::Resolve {
                    unwritten: Some(leases.exception(instance)),
                    since: leases.since,
                }
            } else if leases.raised || leases.may_be_open {
                LeaseStep::Resolve {
                    unwritten: None,
                    since: leases.since,
                }
            } else {
                leases.since = None;
                LeaseStep::Nothing
            }
        };
        let LeaseStep::Resolve { unwritten, since } = step else {
            return Ok(());
        };
        let key = lease_exception_key(instance);
        if let Some(exception) = unwritten {
            store
                .refresh_exception(exception, since.unwrap_or(now))
                .await?;
        }
        let note = match since {
            Some(since) => format!(
                "instance {instance} takes its job leases again (the store failed from {} to {})",
                seconds(since),
                seconds(now)
            ),
            None => format!("instance {instance} takes its job leases again"),
        };
        resolve(store, &key, &note, now).await?;
        let mut state = self.state();
        let leases = &mut state.leases;
        if leases.failing.is_empty() {
            leases.raised = false;
            leases.since = None;
            leases.written_at = None;
            leases.written_jobs.clear();
            leases.may_be_open = false;
        }
        Ok(())
    }
}

/// Resolves the open lease exceptions of instances the store no longer knows (forgotten by the
/// cluster heartbeat after [`FORGET_INSTANCES_AFTER`](crate::cluster_status::FORGET_INSTANCES_AFTER)
/// without a heartbeat), other than `me`: an instance gone for good cannot resolve its own.
/// Reads the open lease exceptions by pages; returns how many were resolved.
pub async fn resolve_gone_instances(
    store: &dyn Store,
    me: &str,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let known: std::collections::HashSet<String> = store
        .live_instances(Timestamp::MIN)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let filter = ExceptionQuery {
        open: Some(true),
        key_prefix: Some(LEASE_EXCEPTION_PREFIX.to_owned()),
        ..ExceptionQuery::default()
    };
    let mut gone = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .exceptions_page(&filter, after.as_ref(), GONE_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        for e in page {
            if let Some(instance) = lease_exception_instance(&e.exception.key)
                && instance != me
                && !known.contains(instance)
            {
                gone.push((e.exception.key.clone(), instance.to_owned()));
            }
        }
    }
    let forgotten_after = crate::cluster_status::FORGET_INSTANCES_AFTER.as_secs() / 60;
    for (key, instance) in &gone {
        let note = format!(
            "instance {instance} is gone (no heartbeat for {forgotten_after} minutes): its lease \
             failures ended with it"
        );
        resolve(store, key, &note, now).await?;
    }
    Ok(gone.len())
}

/// How many lease exceptions [`resolve_gone_instances`] reads at a time.
const GONE_PAGE: usize = 200;

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::health::HealthConfig;
    use crate::health::JOB_FAILING_KIND;
    use crate::store::{ClusterStore, ExceptionStore, SqliteStore};

    fn registry(clock: &Arc<Mutex<Timestamp>>) -> Health {
        let read = clock.clone();
        Health::with_clock(HealthConfig::default(), move || *read.lock().unwrap())
    }

    fn advance(clock: &Mutex<Timestamp>, secs: i64) {
        *clock.lock().unwrap() += SignedDuration::from_secs(secs);
    }

    fn failure() -> StoreError {
        StoreError::Task("connection refused".into())
    }

    async fn open(store: &SqliteStore, instance: &str) -> Option<crate::store::StoredException> {
        store
            .exception(&lease_exception_key(instance))
            .await
            .unwrap()
            .filter(|e| e.resolved_at.is_none())
    }

    fn leases_failing(health: &Health) -> Option<ComponentHealth> {
        health
            .readiness()
            .tasks
            .into_iter()
            .find(|t| t.name == LEASES_PART)
    }

    #[tokio::test]
    async fn lease_failures_raise_the_instances_own_exception_until_every_job_answers() {
        let store = SqliteStore::open_in_memory().unwrap();
        let clock = Arc::new(Mutex::new(Timestamp::from_second(1_800_000_000).unwrap()));
        let a = registry(&clock);
        let b = registry(&clock);

        // Two failures of one job: not yet.
        for _ in 0..2 {
            a.record_lease_failed(&store, "sync-a", "poller", &failure())
                .await
                .unwrap();
            advance(&clock, 2);
        }
        assert!(open(&store, "sync-a").await.is_none());
        assert!(a.readiness().ready);
        // Another job's success does not end this job's run of failures.
        a.record_lease_ok(&store, "sync-a", "sweep").await.unwrap();
        a.record_lease_failed(&store, "sync-a", "poller", &failure())
            .await
            .unwrap();
        let raised = open(&store, "sync-a").await.expect("raised at the third");
        assert_eq!(raised.exception.kind, JOB_FAILING_KIND);
        assert_eq!(raised.exception.payload["jobs"], json!(["poller"]));
        assert_eq!(raised.exception.payload["consecutive_failures"], json!(3));
        assert!(raised.exception.message.contains("connection refused"));
        let part = leases_failing(&a).expect("readiness shows the leases failing");
        assert_eq!(part.condition, Condition::Failing);
        assert_eq!(part.consecutive_failures, 3);
        assert!(!a.readiness().ready);

        // Another job joins: the exception names both.
        advance(&clock, 2);
        a.record_lease_failed(&store, "sync-a", "reconcile", &failure())
            .await
            .unwrap();
        let both = open(&store, "sync-a").await.unwrap();
        assert_eq!(
            both.exception.payload["jobs"],
            json!(["poller", "reconcile"])
        );

        // Another instance's leases answering resolves nothing of this one's.
        b.record_lease_ok(&store, "sync-b", "poller").await.unwrap();
        assert!(open(&store, "sync-a").await.is_some());

        // This instance: resolved once every failing job answers again.
        a.record_lease_ok(&store, "sync-a", "poller").await.unwrap();
        assert!(open(&store, "sync-a").await.is_some());
        assert!(!a.readiness().ready);
        advance(&clock, 2);
        a.record_lease_ok(&store, "sync-a", "reconcile")
            .await
            .unwrap();
        let resolved = store
            .exception(&lease_exception_key("sync-a"))
            .await
            .unwrap()
            .unwrap();
        assert!(resolved.resolved_at.is_some());
        assert!(
            resolved
                .resolution_note
                .as_deref()
                .is_some_and(|n| n.contains("sync-a takes its job leases again")),
            "{resolved:?}"
        );
        assert!(leases_failing(&a).is_none());
        assert!(a.readiness().ready);
        // A fresh run of failures starts from zero.
        a.record_lease_failed(&store, "sync-a", "poller", &failure())
            .await
            .unwrap();
        assert!(open(&store, "sync-a").await.is_none());
    }

    #[tokio::test]
    async fn the_lease_exceptions_of_forgotten_instances_are_resolved() {
        let store = SqliteStore::open_in_memory().unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        store.heartbeat("sync-live", now, now).await.unwrap();
        let clock = Arc::new(Mutex::new(now));
        // What `sync-me` resolves of the others'.
        let gone = || resolve_gone_instances(&store, "sync-me", now);
        for instance in ["sync-me", "sync-live", "sync-gone"] {
            let health = registry(&clock);
            for _ in 0..3 {
                health
                    .record_lease_failed(&store, instance, "poller", &failure())
                    .await
                    .unwrap();
            }
        }
        assert_eq!(gone().await.unwrap(), 1);
        assert!(open(&store, "sync-gone").await.is_none());
        // Known to the store, or this instance itself: left to resolve their own.
        assert!(open(&store, "sync-live").await.is_some());
        assert!(open(&store, "sync-me").await.is_some());
        assert_eq!(gone().await.unwrap(), 0);
        // Forgotten by the heartbeat: resolved at the next look.
        store
            .forget_instances(now + SignedDuration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(gone().await.unwrap(), 1);
        assert!(open(&store, "sync-live").await.is_none());
    }
}
