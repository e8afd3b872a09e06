//! Several instances of the engine on one store: who this instance is, which scheduled jobs it
//! leads, and its share of NetSuite's concurrency limit.
//!
//! - [`InstanceId`]: the instance's name in leases and heartbeats, configured
//!   (`[cluster] instance_id`) or generated as `<hostname>-<pid>-<6 hex>`, once per process.
//! - [`Leadership`]: one leader per scheduled job. Before each run the job's loop takes or renews
//!   the lease `job:<name>` for this instance ([`Leadership::lead`]); a job whose lease another
//!   instance holds is skipped, and tried again every [`ClusterSettings::renew_every`], so a dead
//!   leader's job is taken over within `lease_ttl + renew_every` (12 s by default) and a stopped
//!   leader's at once (it releases its leases on the way out). See [`crate::service`].
//! - [`Heartbeat`]: a job every instance runs (not leader-only): records that this instance is
//!   alive, forgets instances long gone, reads the live instances and the leases for readiness
//!   ([`ClusterStatus`]), and resizes this instance's NetSuite share ([`NetSuiteShare`]).
//! - [`netsuite_slots`]: the share itself, `(account limit − reserve) ÷ live instances`, at least 1.
//!
//! Lease and heartbeat times are the engine's business clock ([`crate::clock`]); instances must
//! keep their clocks close (NTP), well within the lease's length. See `docs/decisions/cluster.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use netsuite_client::governance::ConcurrencyBudget;
use serde::{Deserialize, Deserializer, Serialize};

use crate::engine::Engine;
use crate::health::Health;
use crate::job::{JobError, Scheduled};
use crate::store::{Lease, Store, StoreError};

mod serial;

pub use crate::cluster_status::{
    ClusterStatus, FORGET_INSTANCES_AFTER, InstanceStatus, JOB_LEASE_PREFIX, LeaseStatus, job_lease,
};

pub use serial::{AUTOMATIONS_JOB, SerialError, one_at_a_time};

/// The name of the [`Heartbeat`] job.
pub const HEARTBEAT_JOB: &str = "cluster-heartbeat";

/// The longest instance id accepted.
pub const MAX_INSTANCE_ID_LEN: usize = 128;

/// The name of one instance of the engine in leases, heartbeats and claims.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct InstanceId(String);

impl InstanceId {
    /// A configured id: 1 to [`MAX_INSTANCE_ID_LEN`] characters, letters, digits, `.`, `_`, `-`
    /// and `:` only (it shows in logs and status).
    pub fn new(id: impl Into<String>) -> Result<Self, String> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_INSTANCE_ID_LEN {
            return Err(format!(
                "cluster.instance_id must be 1 to {MAX_INSTANCE_ID_LEN} characters"
            ));
        }
        if let Some(c) = id.chars().find(|c| !id_char(*c)) {
            return Err(format!(
                "cluster.instance_id {id:?} contains {c:?}: use letters, digits, '.', '_', '-', ':'"
            ));
        }
        Ok(InstanceId(id))
    }

    /// This process's generated id, `<hostname>-<pid>-<6 hex>`: the same for every call in one
    /// process, so an engine restarted within the process (a test harness's kill and restart)
    /// takes its own leases back at once. Two engines in one process on one store need distinct
    /// ids: give them [`InstanceId::generate`] or configured ones.
    pub fn for_process() -> Self {
        static ID: OnceLock<InstanceId> = OnceLock::new();
        ID.get_or_init(InstanceId::generate).clone()
    }

    /// A new generated id, `<hostname>-<pid>-<6 hex>`, with a fresh random suffix.
    pub fn generate() -> Self {
        InstanceId(format!(
            "{}-{}-{:06x}",
            hostname(),
            std::process::id(),
            random_u64() & 0xff_ffff
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')
}

/// The host's name, reduced to the characters an id accepts; `host` when it cannot be read.
fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .filter(|c| id_char(*c))
        .take(64)
        .collect();
    if name.is_empty() {
        "host".to_owned()
    } else {
        name
    }
}

/// 64 random bits from the standard library's randomly keyed hasher, mixed with the time and a
/// counter (no random-number crate needed for an id suffix).
fn random_u64() -> u64 {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_usize(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// How the instances of a cluster share the work (`[cluster]` in the configuration).
///
/// Every field has a default; durations are seconds (fractions allowed) in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// This instance's id; generated (`<hostname>-<pid>-<6 hex>`) when absent.
    pub instance_id: Option<String>,
    /// How long a job's lease lasts unless renewed (`lease_ttl_secs`, default 10): a dead
    /// leader's jobs are taken over after this (plus up to `renew_every`).
    #[serde(rename = "lease_ttl_secs", deserialize_with = "secs")]
    pub lease_ttl: Duration,
    /// How often a leader renews its leases and a follower tries to take them
    /// (`renew_every_secs`, default 2); below `lease_ttl`.
    #[serde(rename = "renew_every_secs", deserialize_with = "secs")]
    pub renew_every: Duration,
    /// How often this instance records that it is alive (`heartbeat_every_secs`, default 2).
    #[serde(rename = "heartbeat_every_secs", deserialize_with = "secs")]
    pub heartbeat_every: Duration,
    /// How long an instance not heard from still counts as live (`instance_ttl_secs`, default
    /// 15): the NetSuite share is divided among the live instances.
    #[serde(rename = "instance_ttl_secs", deserialize_with = "secs")]
    pub instance_ttl: Duration,
    /// The NetSuite concurrency slots the whole cluster may use, divided among the live
    /// instances; default: the account's limit (`netsuite.concurrency`) minus one, leaving a
    /// slot for other integrations.
    pub netsuite_share: Option<usize>,
}

impl Default for ClusterSettings {
    /// A generated id, 10 s leases renewed every 2 s, heartbeats every 2 s, instances live for
    /// 15 s, NetSuite's limit minus one.
    fn default() -> Self {
        ClusterSettings {
            instance_id: None,
            lease_ttl: Duration::from_secs(10),
            renew_every: Duration::from_secs(2),
            heartbeat_every: Duration::from_secs(2),
            instance_ttl: Duration::from_secs(15),
            netsuite_share: None,
        }
    }
}

/// Seconds (integer or fractional) as a duration.
fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let secs = f64::deserialize(d)?;
    Duration::try_from_secs_f64(secs).map_err(|e| serde::de::Error::custom(format!("{secs}: {e}")))
}

impl ClusterSettings {
    /// Checks the values: a configured id is valid, every duration is positive, a lease is
    /// renewed within its length, an instance heartbeats within its time to live, the NetSuite
    /// share is at least one slot.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(id) = &self.instance_id {
            InstanceId::new(id.clone())?;
        }
        for (name, d) in [
            ("lease_ttl_secs", self.lease_ttl),
            ("renew_every_secs", self.renew_every),
            ("heartbeat_every_secs", self.heartbeat_every),
            ("instance_ttl_secs", self.instance_ttl),
        ] {
            if d.is_zero() {
                return Err(format!("cluster.{name} must be above 0"));
            }
        }
        if self.renew_every >= self.lease_ttl {
            return Err(
                "cluster.renew_every_secs must be below cluster.lease_ttl_secs (a lease must be \
                 renewed before it runs out)"
                    .into(),
            );
        }
        if self.heartbeat_every >= self.instance_ttl {
            return Err(
                "cluster.heartbeat_every_secs must be below cluster.instance_ttl_secs".into(),
            );
        }
        if self.netsuite_share == Some(0) {
            return Err("cluster.netsuite_share must be at least 1".into());
        }
        Ok(())
    }

    /// This instance's id: the configured one (invalid falls back to generated, after
    /// [`validate`](Self::validate) refused it), else [`InstanceId::for_process`].
    pub fn instance(&self) -> InstanceId {
        self.instance_id
            .as_ref()
            .and_then(|id| InstanceId::new(id.clone()).ok())
            .unwrap_or_else(InstanceId::for_process)
    }

    /// The slots kept free of the cluster out of an account limit of `account_limit`.
    pub fn netsuite_reserve(&self, account_limit: usize) -> usize {
        match self.netsuite_share {
            Some(share) => account_limit.saturating_sub(share),
            None => 1,
        }
    }
}

/// This instance's NetSuite concurrency: the account's `account_limit` less `reserve` slots
/// (left to other integrations), divided among `live_instances` (rounded down), and never below
/// one slot (an instance must be able to make progress; with more instances than slots the
/// account's 429s and the client's adaptive pool do the rest). No live instance counts as one.
pub fn netsuite_slots(account_limit: usize, reserve: usize, live_instances: usize) -> usize {
    (account_limit.saturating_sub(reserve) / live_instances.max(1)).max(1)
}

/// One scheduled job's leadership, per instance: takes, renews and gives up leases.
#[derive(Debug)]
pub struct Leadership {
    instance: InstanceId,
    settings: ClusterSettings,
    /// The jobs whose lease this instance took and has not lost or released, with the time of
    /// the last take or renewal.
    held: Mutex<BTreeMap<String, Timestamp>>,
}

impl Leadership {
    /// The leadership of `instance` with `settings`' timings.
    pub fn new(instance: InstanceId, settings: ClusterSettings) -> Self {
        Leadership {
            instance,
            settings,
            held: Mutex::new(BTreeMap::new()),
        }
    }

    /// The leadership of the instance `settings` names (or this process's generated id).
    pub fn from_settings(settings: ClusterSettings) -> Self {
        Leadership::new(settings.instance(), settings)
    }

    /// This instance.
    pub fn instance(&self) -> &InstanceId {
        &self.instance
    }

    /// The timings.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    fn held(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Timestamp>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this instance holds `job`'s lease, as far as it knows (taken or renewed and not
    /// released since; a lease lost to expiry shows at the next [`lead`](Self::lead)).
    pub fn holds(&self, job: &str) -> bool {
        self.held().contains_key(job)
    }

    /// Takes or renews the lease of `job` for this instance until `now + lease_ttl`: whether
    /// this instance leads the job now. Taking and losing a lease are logged at info and warn.
    ///
    /// A lease this instance took or renewed less than half of `renew_every` before `now` is
    /// still its own for most of `lease_ttl`: it answers `true` without asking the store, so a
    /// job run every few milliseconds does not write to the store at each run.
    pub async fn lead(
        &self,
        store: &dyn Store,
        job: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let fresh =
            SignedDuration::try_from(self.settings.renew_every / 2).unwrap_or(SignedDuration::ZERO);
        if let Some(renewed) = self.held().get(job)
            && now >= *renewed
            && now.duration_since(*renewed) < fresh
        {
            return Ok(true);
        }
        let ttl = SignedDuration::try_from(self.settings.lease_ttl).unwrap_or(SignedDuration::MAX);
        let leading = store
            .try_lease(&job_lease(job), self.instance.as_str(), ttl, now)
            .await?;
        let mut held = self.held();
        if leading {
            if held.insert(job.to_owned(), now).is_none() {
                tracing::info!(job, instance = %self.instance, "this instance leads the job");
            }
        } else if held.remove(job).is_some() {
            tracing::warn!(
                job,
                instance = %self.instance,
                "this instance lost the job's lease to another instance"
            );
        }
        Ok(leading)
    }

    /// The lease of `job` as held at `now`, by whichever instance.
    pub async fn lease(
        &self,
        store: &dyn Store,
        job: &str,
        now: Timestamp,
    ) -> Result<Option<Lease>, StoreError> {
        let name = job_lease(job);
        Ok(store
            .leases(now)
            .await?
            .into_iter()
            .find(|l| l.name == name))
    }

    /// Gives up `job`'s lease if this instance holds it, so another instance takes the job at
    /// its next try instead of waiting for the lease to run out.
    pub async fn release(&self, store: &dyn Store, job: &str) -> Result<bool, StoreError> {
        let released = store
            .release_lease(&job_lease(job), self.instance.as_str())
            .await?;
        self.held().remove(job);
        if released {
            tracing::info!(job, instance = %self.instance, "released the job's lease");
        }
        Ok(released)
    }

    /// Gives up every lease this instance holds (errors logged): shutdown's last step.
    pub async fn release_all(&self, store: &dyn Store) {
        let jobs: Vec<String> = self.held().keys().cloned().collect();
        for job in jobs {
            if let Err(e) = self.release(store, &job).await {
                tracing::warn!(job, error = %e, "the job's lease could not be released; it runs out by itself");
            }
        }
    }
}

/// This instance's share of the NetSuite account's concurrency: resizes the client's pool
/// (shared by every clone of the client) to [`netsuite_slots`] when the live instances change.
#[derive(Debug)]
pub struct NetSuiteShare {
    budget: Arc<ConcurrencyBudget>,
    account_limit: usize,
    reserve: usize,
    current: AtomicUsize,
}

impl NetSuiteShare {
    /// The share of `budget`'s pool, out of an account limit of `account_limit` keeping
    /// `reserve` slots free; not applied until [`apply`](Self::apply).
    pub fn new(budget: Arc<ConcurrencyBudget>, account_limit: usize, reserve: usize) -> Self {
        NetSuiteShare {
            budget,
            account_limit,
            reserve,
            current: AtomicUsize::new(0),
        }
    }

    /// The account's limit the share is taken from.
    pub fn account_limit(&self) -> usize {
        self.account_limit
    }

    /// The slots kept free for other integrations.
    pub fn reserve(&self) -> usize {
        self.reserve
    }

    /// The slots last applied (0 before the first [`apply`](Self::apply)).
    pub fn slots(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }

    /// Sizes the pool for `live_instances` (resizing only when the share changes, since a resize
    /// forgets what 429s taught the pool); returns the share.
    pub fn apply(&self, live_instances: usize) -> usize {
        let slots = netsuite_slots(self.account_limit, self.reserve, live_instances);
        let before = self.current.swap(slots, Ordering::Relaxed);
        if before != slots {
            self.budget.resize(slots);
            tracing::info!(
                slots,
                live_instances,
                account_limit = self.account_limit,
                reserve = self.reserve,
                "NetSuite concurrency share of this instance"
            );
        }
        slots
    }
}

/// The cluster's heartbeat, run by every instance (not leader-only): records this instance as
/// alive, forgets instances gone for [`FORGET_INSTANCES_AFTER`] (and resolves their lease
/// exceptions, see [`crate::health::resolve_gone_instances`]), reads the live instances and
/// the leases into the health registry (readiness and status show them), and resizes this
/// instance's NetSuite share when the live instances change.
#[derive(Debug)]
pub struct Heartbeat {
    leadership: Arc<Leadership>,
    started_at: Timestamp,
    health: Option<Health>,
    netsuite: Option<NetSuiteShare>,
    /// The lease exceptions of gone instances are to be looked at: at the first beat, after
    /// instances were forgotten, and again after a look that failed.
    sweep_gone: AtomicBool,
}

impl Heartbeat {
    /// The heartbeat of `leadership`'s instance, started at `started_at`.
    pub fn new(leadership: Arc<Leadership>, started_at: Timestamp) -> Self {
        Heartbeat {
            leadership,
            started_at,
            health: None,
            netsuite: None,
            sweep_gone: AtomicBool::new(true),
        }
    }

    /// Reports the cluster to `health` after each beat.
    pub fn with_health(mut self, health: Health) -> Self {
        self.health = Some(health);
        self
    }

    /// Resizes `share` after each beat.
    pub fn with_netsuite_share(mut self, share: NetSuiteShare) -> Self {
        self.netsuite = Some(share);
        self
    }

    /// The NetSuite share it resizes.
    pub fn netsuite_share(&self) -> Option<&NetSuiteShare> {
        self.netsuite.as_ref()
    }
}

#[async_trait]
impl Scheduled for Heartbeat {
    fn name(&self) -> &str {
        HEARTBEAT_JOB
    }
    fn interval(&self) -> Duration {
        self.leadership.settings().heartbeat_every
    }
    fn leader_only(&self) -> bool {
        false
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        let store = engine.store().as_ref();
        let now = engine.clock().now();
        let me = self.leadership.instance().as_str();
        let err = |e: StoreError| JobError::context("cluster heartbeat", e);
        store
            .heartbeat(me, self.started_at, now)
            .await
            .map_err(err)?;
        let forget_before =
            now - SignedDuration::try_from(FORGET_INSTANCES_AFTER).unwrap_or(SignedDuration::MAX);
        let forgotten = store.forget_instances(forget_before).await.map_err(err)?;
        if forgotten > 0 {
            tracing::debug!(forgotten, "forgot instances gone for an hour");
        }
        if forgotten > 0 || self.sweep_gone.swap(false, Ordering::Relaxed) {
            match crate::health::resolve_gone_instances(store, me, now).await {
                Ok(0) => {}
                Ok(resolved) => {
                    tracing::info!(resolved, "resolved the lease exceptions of gone instances")
                }
                Err(e) => {
                    self.sweep_gone.store(true, Ordering::Relaxed);
                    return Err(err(e));
                }
            }
        }
        let mut status = ClusterStatus::read(store, now, self.leadership.settings().instance_ttl)
            .await
            .map_err(err)?;
        // This instance counts even if its own heartbeat is not visible yet.
        let live = status.instances.iter().filter(|i| i.id != me).count() + 1;
        status.instance = Some(me.to_owned());
        status.netsuite_slots = self.netsuite.as_ref().map(|share| share.apply(live));
        if let Some(health) = &self.health {
            health.record_cluster(status);
        }
        Ok(live)
    }
}

/// The ticks of lease renewals: one every `every`, the first `every` from now; a late tick is
/// not caught up.
pub(crate) fn renewal_ticks(every: Duration) -> tokio::time::Interval {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netsuite_slots_divide_the_share_among_live_instances() {
        // (account limit, reserve, live instances) -> slots
        let table = [
            (15, 1, 1, 14),
            (15, 1, 2, 7),
            (15, 1, 3, 4),
            (15, 1, 4, 3),
            (15, 0, 3, 5),
            (5, 1, 1, 4),
            (5, 1, 2, 2),
            (5, 1, 5, 1),
            (5, 1, 9, 1),
            (1, 1, 1, 1),
            (0, 1, 1, 1),
            (10, 20, 1, 1),
            (10, 1, 0, 9),
        ];
        for (limit, reserve, live, slots) in table {
            assert_eq!(
                netsuite_slots(limit, reserve, live),
                slots,
                "limit {limit}, reserve {reserve}, {live} live"
            );
        }
    }

    #[test]
    fn the_share_resizes_the_pool_only_when_it_changes() {
        let budget = ConcurrencyBudget::new(15);
        let share = NetSuiteShare::new(budget.clone(), 15, 1);
        assert_eq!(share.slots(), 0);
        assert_eq!(share.apply(1), 14);
        assert_eq!(budget.ceiling(), 14);
        assert_eq!(share.apply(2), 7);
        assert_eq!((budget.limit(), budget.ceiling()), (7, 7));
        assert_eq!(share.apply(2), 7);
        assert_eq!(share.apply(1), 14);
        assert_eq!(budget.ceiling(), 14);
    }

    #[test]
    fn settings_default_validate_and_read_from_toml() {
        let d = ClusterSettings::default();
        assert_eq!(d.lease_ttl, Duration::from_secs(10));
        assert_eq!(d.renew_every, Duration::from_secs(2));
        assert_eq!(d.heartbeat_every, Duration::from_secs(2));
        assert_eq!(d.instance_ttl, Duration::from_secs(15));
        assert_eq!(d.netsuite_reserve(15), 1);
        d.validate().unwrap();

        let s: ClusterSettings = toml::from_str(
            "instance_id = \"sync-a\"\nlease_ttl_secs = 1.5\nrenew_every_secs = 0.25\nnetsuite_share = 10",
        )
        .unwrap();
        assert_eq!(s.instance().as_str(), "sync-a");
        assert_eq!(s.lease_ttl, Duration::from_millis(1500));
        assert_eq!(s.renew_every, Duration::from_millis(250));
        assert_eq!(s.heartbeat_every, Duration::from_secs(2));
        assert_eq!(s.netsuite_reserve(15), 5);
        s.validate().unwrap();

        let slow = ClusterSettings {
            renew_every: Duration::from_secs(10),
            ..ClusterSettings::default()
        };
        assert!(slow.validate().unwrap_err().contains("renew_every_secs"));
        let bad = ClusterSettings {
            instance_id: Some("a b".into()),
            ..ClusterSettings::default()
        };
        assert!(bad.validate().is_err());
        assert!(toml::from_str::<ClusterSettings>("lease_ttl = 3").is_err());
        assert!(toml::from_str::<ClusterSettings>("lease_ttl_secs = -1").is_err());
    }

    #[test]
    fn generated_ids_name_the_host_and_process() {
        let a = InstanceId::generate();
        let b = InstanceId::generate();
        assert_ne!(a, b);
        let pid = format!("-{}-", std::process::id());
        assert!(a.as_str().contains(&pid), "{a}");
        let suffix = a.as_str().rsplit('-').next().unwrap();
        assert_eq!(suffix.len(), 6, "{a}");
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(InstanceId::new(a.as_str()).is_ok());
        assert_eq!(InstanceId::for_process(), InstanceId::for_process());
        assert_eq!(a.to_string(), a.as_str());
    }
}
