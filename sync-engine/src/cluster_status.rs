//! The cluster as the store shows it: live instances and the leases they hold. Below the
//! health registry (readiness shows it) and the cluster's jobs (the heartbeat reads it).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::store::{Lease, Store, StoreError};

/// The prefix of a scheduled job's lease: `job:<name>`.
pub const JOB_LEASE_PREFIX: &str = "job:";

/// The name of the lease of scheduled job `job`.
pub fn job_lease(job: &str) -> String {
    format!("{JOB_LEASE_PREFIX}{job}")
}

/// How long an instance not seen is kept in the store before [`Heartbeat`](crate::cluster::Heartbeat) forgets it (the live
/// instances are those seen within [`ClusterSettings::instance_ttl`](crate::cluster::ClusterSettings::instance_ttl); the others stay this long
/// for people looking at the store).
pub const FORGET_INSTANCES_AFTER: Duration = Duration::from_secs(3600);

/// An instance as the store's heartbeats show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    /// Its id.
    pub id: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Its last heartbeat.
    pub last_seen: Timestamp,
}

/// A job's lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseStatus {
    /// The lease's name (`job:<name>` for a scheduled job).
    pub name: String,
    /// The job, for a job's lease.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The instance leading.
    pub holder: String,
    /// When the holder took it.
    pub acquired_at: Timestamp,
    /// When it runs out unless renewed.
    pub expires_at: Timestamp,
}

impl From<Lease> for LeaseStatus {
    fn from(l: Lease) -> Self {
        LeaseStatus {
            job: l.name.strip_prefix(JOB_LEASE_PREFIX).map(str::to_owned),
            name: l.name,
            holder: l.holder,
            acquired_at: l.acquired_at,
            expires_at: l.expires_at,
        }
    }
}

/// The cluster as the store shows it: the live instances and the leases held. Readiness carries
/// the one the running instance's last heartbeat read; `sync status` can read one from the store
/// with [`ClusterStatus::read`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    /// The instance that read it, when read by a running engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// When it was read.
    pub read_at: Timestamp,
    /// The instances heard from within the instance time to live, by id.
    pub instances: Vec<InstanceStatus>,
    /// The leases held, by name.
    pub leases: Vec<LeaseStatus>,
    /// This instance's NetSuite concurrency share, when a running engine read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netsuite_slots: Option<usize>,
}

impl ClusterStatus {
    /// Reads the live instances (seen within `instance_ttl` of `now`) and the leases held at
    /// `now` from the store.
    pub async fn read(
        store: &dyn Store,
        now: Timestamp,
        instance_ttl: Duration,
    ) -> Result<Self, StoreError> {
        let since = now - SignedDuration::try_from(instance_ttl).unwrap_or(SignedDuration::MAX);
        let instances = store
            .live_instances(since)
            .await?
            .into_iter()
            .map(|i| InstanceStatus {
                id: i.id,
                started_at: i.started_at,
                last_seen: i.last_seen,
            })
            .collect();
        let leases = store
            .leases(now)
            .await?
            .into_iter()
            .map(LeaseStatus::from)
            .collect();
        Ok(ClusterStatus {
            instance: None,
            read_at: now,
            instances,
            leases,
            netsuite_slots: None,
        })
    }

    /// The instance leading `job`, when its lease is held.
    pub fn leader_of(&self, job: &str) -> Option<&str> {
        self.leases
            .iter()
            .find(|l| l.job.as_deref() == Some(job))
            .map(|l| l.holder.as_str())
    }
}
