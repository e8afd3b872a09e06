//! Whether the console may act: actions are carried out by a running engine, so a console
//! served without one (`sync console --store …`) is read-only unless an engine runs on the same
//! store.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use sync_engine::store::Store;

/// How the console knows whether an engine runs on its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineProbe {
    /// The console runs inside the engine (`sync run`): always live.
    InProcess,
    /// A SQLite store: an engine holds `<store>.lock` (see
    /// [`sync_engine::instance_lock`]) while it runs.
    SqliteLock(PathBuf),
    /// A PostgreSQL store: an engine is live when an instance sent a heartbeat within `ttl`
    /// (see [`sync_engine::cluster`]).
    Cluster {
        /// How recent a heartbeat must be.
        ttl: Duration,
    },
    /// Never live: read-only whatever runs.
    ReadOnly,
}

impl EngineProbe {
    /// Whether an engine runs on `store` at `now`. A store that cannot be read counts as no
    /// engine (read-only).
    pub async fn engine_running(&self, store: &dyn Store, now: Timestamp) -> bool {
        match self {
            EngineProbe::InProcess => true,
            EngineProbe::ReadOnly => false,
            EngineProbe::SqliteLock(store_path) => lock_held(store_path),
            EngineProbe::Cluster { ttl } => {
                let since = now - jiff::SignedDuration::try_from(*ttl).unwrap_or_default();
                store
                    .live_instances(since)
                    .await
                    .is_ok_and(|live| !live.is_empty())
            }
        }
    }
}

/// Whether another process holds the exclusive instance lock of the SQLite store at
/// `store_path`: a shared lock is tried on the lock file (never created here) and released at
/// once.
pub fn lock_held(store_path: &std::path::Path) -> bool {
    let lock = sync_engine::instance_lock::lock_path(store_path);
    let Ok(file) = std::fs::File::open(&lock) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(std::fs::TryLockError::WouldBlock) => true,
        Err(std::fs::TryLockError::Error(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_engine::instance_lock::InstanceLock;

    #[test]
    fn an_engine_lock_is_seen() {
        let dir = std::env::temp_dir().join(format!("console-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = dir.join("store.sqlite");
        assert!(!lock_held(&store));
        let engine = InstanceLock::acquire(&store).unwrap();
        assert!(lock_held(&store));
        drop(engine);
        assert!(!lock_held(&store));
        // The probe took no lock that would keep an engine from starting.
        drop(InstanceLock::acquire(&store).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
