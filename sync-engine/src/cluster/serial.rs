//! Start-up work the instances of a cluster must not do at the same time.
//!
//! Some work is idempotent when done one instance after another but not when done together: the
//! Clarus webhook automations are looked up by name and created when missing, so two instances
//! starting together on a fresh tenant both find none and both create one (duplicate
//! automations, every webhook delivered twice). [`one_at_a_time`] runs such work under a
//! cluster-wide lease (`job:<name>`, [`AUTOMATIONS_JOB`] for the automations): an instance
//! waits while another holds it, renews it while its own work runs, and releases it after; the
//! next instance then finds what the first created and changes nothing.

use std::time::Duration;

use super::Leadership;
use crate::clock::SharedClock;
use crate::store::{Store, StoreError};

/// The name of the lease the Clarus webhook automations are set up under: `job:automations`.
pub const AUTOMATIONS_JOB: &str = "automations";

/// Why [`one_at_a_time`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SerialError<E: std::error::Error + 'static> {
    /// The lease could not be taken or renewed (the store failed): the work was not done, or
    /// was cut off.
    #[error("the cluster lease {lease} could not be held: {source}")]
    Lease {
        /// The lease's name.
        lease: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The work itself failed.
    #[error(transparent)]
    Work(E),
}

/// Runs `work` while this instance holds the lease of `job` (`job:<job>`): waits, trying every
/// `renew_every` of `leadership`'s settings, while another instance holds it (a dead holder's
/// lease runs out after `lease_ttl`); renews it every `renew_every` while `work` runs; releases
/// it when `work` ends (a release that fails is logged: the lease runs out by itself). Two
/// instances calling it with the same `job` never run their `work` at the same time.
///
/// Errors: the store failed taking or renewing the lease ([`SerialError::Lease`]; a renewal
/// failing cuts `work` off), or `work` failed ([`SerialError::Work`]).
pub async fn one_at_a_time<T, E, F>(
    store: &dyn Store,
    leadership: &Leadership,
    clock: &SharedClock,
    job: &str,
    work: F,
) -> Result<T, SerialError<E>>
where
    E: std::error::Error + 'static,
    F: Future<Output = Result<T, E>>,
{
    let renew_every = leadership.settings().renew_every;
    let lease = |source| SerialError::Lease {
        lease: super::job_lease(job),
        source,
    };
    let mut waited = Duration::ZERO;
    while !leadership
        .lead(store, job, clock.now())
        .await
        .map_err(lease)?
    {
        if waited.is_zero() {
            tracing::info!(
                job,
                "another instance holds the lease; waiting for it to finish"
            );
        }
        tokio::time::sleep(renew_every).await;
        waited += renew_every;
    }
    let renew = async {
        let mut ticks = super::renewal_ticks(renew_every);
        loop {
            ticks.tick().await;
            match leadership.lead(store, job, clock.now()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(
                        job,
                        "another instance took the lease while this one worked under it"
                    );
                }
                Err(e) => return e,
            }
        }
    };
    let outcome = tokio::select! {
        done = work => done.map_err(SerialError::Work),
        e = renew => Err(lease(e)),
    };
    if let Err(e) = leadership.release(store, job).await {
        tracing::warn!(job, error = %e, "the lease could not be released; it runs out by itself");
    }
    if !waited.is_zero() {
        tracing::debug!(
            job,
            waited_secs = waited.as_secs_f64(),
            "worked under the lease after waiting"
        );
    }
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::clock::system;
    use crate::cluster::{ClusterSettings, InstanceId};
    use crate::store::SqliteStore;

    #[derive(Debug, thiserror::Error)]
    #[error("refused")]
    struct Refused;

    fn quick() -> ClusterSettings {
        ClusterSettings {
            lease_ttl: Duration::from_secs(5),
            renew_every: Duration::from_millis(20),
            ..ClusterSettings::default()
        }
    }

    /// Two instances set up at once: the second waits until the first released, then runs
    /// after it; neither ever runs while the other does.
    #[tokio::test]
    async fn two_instances_never_work_under_the_lease_together() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let clock = system();
        let a = Leadership::new(InstanceId::new("sync-a").unwrap(), quick());
        let b = Leadership::new(InstanceId::new("sync-b").unwrap(), quick());
        let inside = AtomicUsize::new(0);
        let order = std::sync::Mutex::new(Vec::new());
        let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();

        let work = |name: &'static str| {
            let (inside, order) = (&inside, &order);
            async move {
                assert_eq!(
                    inside.fetch_add(1, Ordering::SeqCst),
                    0,
                    "{name} overlapped"
                );
                order.lock().unwrap().push(name);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Refused>(name)
            }
        };
        let first = async {
            one_at_a_time(store.as_ref(), &a, &clock, AUTOMATIONS_JOB, async {
                entered_tx.send(()).unwrap();
                // Hold the lease until the other instance has tried and found it taken.
                finish_rx.await.unwrap();
                work("a").await
            })
            .await
        };
        let second = async {
            entered_rx.await.unwrap();
            let tries = async {
                one_at_a_time(store.as_ref(), &b, &clock, AUTOMATIONS_JOB, work("b")).await
            };
            let release_first = async {
                // Several of b's tries find the lease held by a.
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert!(
                    order.lock().unwrap().is_empty(),
                    "b ran while a held the lease"
                );
                finish_tx.send(()).unwrap();
            };
            let (done, ()) = tokio::join!(tries, release_first);
            done
        };
        let (first, second) = tokio::join!(first, second);
        assert_eq!(first.unwrap(), "a");
        assert_eq!(second.unwrap(), "b");
        assert_eq!(*order.lock().unwrap(), ["a", "b"]);
        // Released after: nobody holds it.
        assert!(store.leases(clock.now()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_works_error_is_returned_and_the_lease_released() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let clock = system();
        let a = Leadership::new(InstanceId::new("sync-a").unwrap(), quick());
        let failed = one_at_a_time(store.as_ref(), &a, &clock, AUTOMATIONS_JOB, async {
            Err::<(), _>(Refused)
        })
        .await;
        assert!(matches!(failed, Err(SerialError::Work(Refused))));
        assert!(store.leases(clock.now()).await.unwrap().is_empty());
    }
}
