//! One engine per SQLite store: an exclusive advisory lock on a sidecar file, `<store>.lock`.
//!
//! SQLite serialises writers but cannot tell two engines apart: two `sync run` processes on the
//! same file would both poll, both claim outbox actions and both post to NetSuite. The engine
//! therefore takes [`InstanceLock::acquire`] before it opens the store and keeps the lock for
//! as long as it runs; a second engine on the same file is refused at start with
//! [`InstanceLockError::Held`]. Several instances need a shared server database (PostgreSQL).
//!
//! Only the engine takes the lock. Commands that read the store or leave requests for the
//! running engine (`sync status`, `sync exceptions …`, `sync report`, `sync store backup`)
//! open the store without it and work while an engine runs.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows), so it goes
//! with the process: a crashed or killed engine leaves the lock file behind but never the
//! lock, and the next start takes it. The file itself is left in place on purpose: deleting it
//! on exit would let a starting engine lock a file another one is about to replace.
//!
//! ```
//! use sync_engine::instance_lock::{InstanceLock, InstanceLockError};
//!
//! let dir = std::env::temp_dir().join(format!("instance-lock-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = dir.join("store.sqlite");
//!
//! let engine = InstanceLock::acquire(&store).unwrap();
//! assert_eq!(engine.lock_path(), dir.join("store.sqlite.lock"));
//!
//! // A second engine on the same store is refused while the first holds it.
//! let second = InstanceLock::acquire(&store).unwrap_err();
//! assert!(matches!(second, InstanceLockError::Held { .. }));
//! assert!(second.to_string().contains("another instance"));
//!
//! // Dropping the lock (the engine stopping) releases it.
//! drop(engine);
//! InstanceLock::acquire(&store).unwrap();
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

/// Why the engine could not take the store for itself.
#[derive(Debug, thiserror::Error)]
pub enum InstanceLockError {
    /// Another process holds the lock: an engine already runs on this store.
    #[error(
        "another instance holds the store {} (lock {}): stop it before starting this one; \
         SQLite serves one engine at a time, several instances need PostgreSQL",
        store.display(),
        lock.display()
    )]
    Held {
        /// The store file.
        store: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
    },
    /// The lock file could not be created, opened or locked.
    #[error("cannot lock the store {} through {}: {source}", store.display(), lock.display())]
    Io {
        /// The store file.
        store: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

/// The exclusive lock of one store, held until dropped.
#[derive(Debug)]
pub struct InstanceLock {
    /// Open for as long as the lock is held; closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Takes the exclusive lock of `store` (on `<store>.lock`, created with mode 0600 on Unix
    /// when missing), without waiting: refused with [`InstanceLockError::Held`] when another
    /// process holds it.
    pub fn acquire(store: &Path) -> Result<InstanceLock, InstanceLockError> {
        let lock = lock_path(store);
        let io = |source| InstanceLockError::Io {
            store: store.to_owned(),
            lock: lock.clone(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&lock).map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(InstanceLock {
                _file: file,
                path: lock,
            }),
            Err(TryLockError::WouldBlock) => Err(InstanceLockError::Held {
                store: store.to_owned(),
                lock,
            }),
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// The lock file this lock holds.
    pub fn lock_path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of `store`: its path with `.lock` appended (`store.sqlite.lock`).
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "instance-lock-{name}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_second_lock_on_the_same_store_is_refused_with_the_file_named() {
        let dir = scratch("second");
        let store = dir.join("store.sqlite");
        let _first = InstanceLock::acquire(&store).unwrap();
        let err = InstanceLock::acquire(&store).unwrap_err();
        match &err {
            InstanceLockError::Held { store: s, lock } => {
                assert_eq!(s, &store);
                assert_eq!(lock, &dir.join("store.sqlite.lock"));
            }
            other => panic!("expected Held, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(&store.display().to_string()), "{message}");
        assert!(message.contains("another instance holds"), "{message}");
        assert!(message.contains("PostgreSQL"), "{message}");
        // Another store beside it is not affected.
        InstanceLock::acquire(&dir.join("other.sqlite")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropping_the_lock_releases_it_and_the_file_stays() {
        let dir = scratch("drop");
        let store = dir.join("store.sqlite");
        let first = InstanceLock::acquire(&store).unwrap();
        let path = first.lock_path().to_owned();
        drop(first);
        assert!(path.exists());
        let again = InstanceLock::acquire(&store).unwrap();
        assert!(InstanceLock::acquire(&store).is_err());
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;

        let dir = scratch("mode");
        let lock = InstanceLock::acquire(&dir.join("store.sqlite")).unwrap();
        let mode = std::fs::metadata(lock.lock_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(lock);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lock_file_that_cannot_be_created_is_an_io_error() {
        let dir = scratch("io");
        let store = dir.join("missing-directory").join("store.sqlite");
        let err = InstanceLock::acquire(&store).unwrap_err();
        assert!(matches!(err, InstanceLockError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("cannot lock the store"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
