//! A consistent copy of a SQLite store, taken while the engine runs.
//!
//! [`backup_sqlite`] runs SQLite's `VACUUM INTO` on the store: one read transaction, so the copy
//! is the store as of one instant, with every commit before it and none after, while the engine
//! keeps writing (in WAL mode a reader blocks no writer). The copy is compacted, holds no `-wal`
//! file and is in rollback-journal mode: one self-contained file, ready to be encrypted and
//! shipped, and restored by stopping the engine and putting it in place of the store.
//!
//! Copying the file with `cp` while the engine runs is not a backup: the last commits sit in the
//! `-wal` file, and a copy taken during a checkpoint can be torn.
//!
//! A PostgreSQL store is backed up with the database's own tools (`pg_dump`), not here.
//!
//! ```
//! use sync_engine::backup::{BackupError, backup_sqlite};
//!
//! let dir = std::env::temp_dir().join(format!("backup-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = dir.join("store.sqlite");
//! let conn = rusqlite::Connection::open(&store).unwrap();
//! conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);")
//!     .unwrap();
//!
//! let summary = backup_sqlite(&store, &dir.join("copy.sqlite")).unwrap();
//! assert!(summary.pages >= 2 && summary.bytes == summary.pages * summary.page_size);
//!
//! // An existing file is never overwritten.
//! let again = backup_sqlite(&store, &dir.join("copy.sqlite")).unwrap_err();
//! assert!(matches!(again, BackupError::DestinationExists { .. }));
//! # drop(conn);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSummary {
    /// The copy.
    pub dest: PathBuf,
    /// Its size on disk.
    pub bytes: u64,
    /// Its pages (`PRAGMA page_count`).
    pub pages: u64,
    /// The size of one page.
    pub page_size: u64,
    /// How long the copy took.
    pub elapsed: Duration,
}

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// There is no store at the given path (a backup never creates one).
    #[error("no SQLite store at {}", store.display())]
    NoStore {
        /// The path given.
        store: PathBuf,
    },
    /// The destination exists already; it is left untouched.
    #[error(
        "{} exists already; a backup never overwrites a file (choose a new name or remove it)",
        dest.display()
    )]
    DestinationExists {
        /// The destination given.
        dest: PathBuf,
    },
    /// SQLite takes the destination as text; this path is not UTF-8.
    #[error("the destination {} is not valid UTF-8", dest.display())]
    DestinationName {
        /// The destination given.
        dest: PathBuf,
    },
    /// The destination file could not be created.
    #[error("cannot create {}: {source}", dest.display())]
    Destination {
        /// The destination given.
        dest: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed to read the store or write the copy (a partial copy is removed).
    #[error("backing up {} to {} failed: {source}", store.display(), dest.display())]
    Sqlite {
        /// The store.
        store: PathBuf,
        /// The destination.
        dest: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The copy was written but SQLite's `quick_check` of it failed; it is left in place for
    /// inspection.
    #[error("the copy {} fails SQLite's quick_check: {detail}", dest.display())]
    Check {
        /// The copy.
        dest: PathBuf,
        /// The first problem `quick_check` reported.
        detail: String,
    },
}

/// Writes a consistent copy of the SQLite store at `store` to `dest`, which must not exist.
///
/// Safe while an engine runs on the store (it takes no lock but SQLite's own read
/// transaction). The copy is created with mode 0600 on Unix, like the store, and checked with
/// `PRAGMA quick_check` once written.
pub fn backup_sqlite(store: &Path, dest: &Path) -> Result<BackupSummary, BackupError> {
    let started = Instant::now();
    if !store.is_file() {
        return Err(BackupError::NoStore {
            store: store.to_owned(),
        });
    }
    let dest_text = dest.to_str().ok_or_else(|| BackupError::DestinationName {
        dest: dest.to_owned(),
    })?;
    let sqlite = |source| BackupError::Sqlite {
        store: store.to_owned(),
        dest: dest.to_owned(),
        source,
    };
    // Opened read-write (a WAL reader needs the shared-memory file) but never created.
    let source = Connection::open_with_flags(
        store,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    source
        .busy_timeout(Duration::from_secs(30))
        .map_err(sqlite)?;
    // Created empty here, atomically refusing an existing file, so that the copy has the
    // store's private mode; `VACUUM INTO` accepts an empty file.
    create_private(dest)?;
    if let Err(e) = source.execute("VACUUM INTO ?1", [dest_text]) {
        let _ = std::fs::remove_file(dest);
        return Err(sqlite(e));
    }
    drop(source);

    let copy = Connection::open_with_flags(
        dest,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(sqlite)?;
    if check != "ok" {
        return Err(BackupError::Check {
            dest: dest.to_owned(),
            detail: check,
        });
    }
    let pragma = |name: &str| -> Result<u64, BackupError> {
        let value: i64 = copy
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .map_err(sqlite)?;
        Ok(u64::try_from(value).unwrap_or_default())
    };
    let pages = pragma("page_count")?;
    let page_size = pragma("page_size")?;
    drop(copy);
    let bytes = std::fs::metadata(dest)
        .map_err(|source| BackupError::Destination {
            dest: dest.to_owned(),
            source,
        })?
        .len();
    Ok(BackupSummary {
        dest: dest.to_owned(),
        bytes,
        pages,
        page_size,
        elapsed: started.elapsed(),
    })
}

/// Creates `dest` empty (mode 0600 on Unix), refusing an existing file.
fn create_private(dest: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(dest) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::DestinationExists {
                dest: dest.to_owned(),
            })
        }
        Err(source) => Err(BackupError::Destination {
            dest: dest.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "backup-{name}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A store in WAL mode, as the engine keeps it, with table `t`.
    fn wal_store(path: &Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        )
        .unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn
    }

    fn rows(path: &Path) -> u64 {
        let count: i64 = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        u64::try_from(count).unwrap()
    }

    #[test]
    fn a_backup_taken_while_another_connection_writes_holds_the_committed_rows() {
        let dir = scratch("writing");
        let store = dir.join("store.sqlite");
        drop(wal_store(&store));

        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(AtomicU64::new(0));
        let writer = {
            let (store, stop, committed) = (store.clone(), stop.clone(), committed.clone());
            std::thread::spawn(move || {
                let mut conn = wal_store_reopen(&store);
                while !stop.load(Ordering::SeqCst) {
                    let tx = conn.transaction().unwrap();
                    for _ in 0..10 {
                        tx.execute("INSERT INTO t(body) VALUES (?1)", ["x".repeat(200)])
                            .unwrap();
                    }
                    tx.commit().unwrap();
                    committed.fetch_add(10, Ordering::SeqCst);
                }
            })
        };
        while committed.load(Ordering::SeqCst) < 500 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let before = committed.load(Ordering::SeqCst);
        let dest = dir.join("copy.sqlite");
        let summary = backup_sqlite(&store, &dest).unwrap();
        let after = committed.load(Ordering::SeqCst);
        stop.store(true, Ordering::SeqCst);
        writer.join().unwrap();

        // Every row committed before the backup began, nothing torn (whole transactions only).
        let copied = rows(&dest);
        assert!(
            copied >= before && copied <= after + 10,
            "{before} <= {copied} <= {after}"
        );
        assert_eq!(copied % 10, 0, "a transaction was copied in part");
        assert_eq!(summary.dest, dest);
        assert_eq!(summary.bytes, summary.pages * summary.page_size);
        assert!(summary.pages > 1);
        // One self-contained file: no WAL beside it.
        assert!(!dir.join("copy.sqlite-wal").exists());
        let journal: String = Connection::open(&dest)
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(journal, "delete");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn wal_store_reopen(path: &Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn
    }

    #[test]
    fn an_existing_destination_is_refused_and_left_untouched() {
        let dir = scratch("exists");
        let store = dir.join("store.sqlite");
        drop(wal_store(&store));
        let dest = dir.join("copy.sqlite");
        std::fs::write(&dest, "keep me").unwrap();
        let err = backup_sqlite(&store, &dest).unwrap_err();
        assert!(
            matches!(err, BackupError::DestinationExists { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "keep me");
        // Nor is the store itself ever a destination.
        assert!(matches!(
            backup_sqlite(&store, &store),
            Err(BackupError::DestinationExists { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_store_is_refused_and_not_created() {
        let dir = scratch("missing");
        let store = dir.join("store.sqlite");
        let err = backup_sqlite(&store, &dir.join("copy.sqlite")).unwrap_err();
        assert!(matches!(err, BackupError::NoStore { .. }), "{err}");
        assert!(!store.exists());
        assert!(!dir.join("copy.sqlite").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_copy_is_private() {
        use std::os::unix::fs::PermissionsExt;

        let dir = scratch("mode");
        let store = dir.join("store.sqlite");
        drop(wal_store(&store));
        let dest = dir.join("copy.sqlite");
        backup_sqlite(&store, &dest).unwrap();
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
