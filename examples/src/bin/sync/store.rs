//! `sync store backup`: a consistent copy of the SQLite store, safe while `sync run` runs.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sync_engine::backup::backup_sqlite;
use sync_engine::text::printable;

use crate::BoxError;

/// What `sync store` does.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Writes a consistent copy of the SQLite store to DEST (a new file, mode 0600), while the
    /// engine runs or not. Restore by stopping the engine and putting the copy in place of the
    /// store. A PostgreSQL store is backed up with `pg_dump` instead (see docs/guide.md).
    Backup {
        /// The store to copy; `store_path` of the configuration when not given (then the
        /// configuration is read, otherwise it is not needed).
        #[arg(long)]
        store: Option<PathBuf>,
        /// The copy to write; must not exist.
        dest: PathBuf,
    },
}

impl StoreCommand {
    /// The store the command names itself, if any (then no configuration is needed).
    pub fn explicit_store(&self) -> Option<&Path> {
        match self {
            StoreCommand::Backup { store, .. } => store.as_deref(),
        }
    }
}

/// Runs `command` on `store` (from `--store` or the configuration).
pub fn run(command: StoreCommand, configured_store: Option<&Path>) -> Result<(), BoxError> {
    match command {
        StoreCommand::Backup { store, dest } => {
            let store = match (store.as_deref(), configured_store) {
                (Some(store), _) | (None, Some(store)) => store.to_owned(),
                (None, None) => return Err("give the store with --store or a configuration".into()),
            };
            let summary = backup_sqlite(&store, &dest)?;
            println!(
                "backed up {} to {}: {} bytes ({} pages of {} bytes), checked, in {:.1} s",
                printable(&store.display().to_string()),
                printable(&summary.dest.display().to_string()),
                summary.bytes,
                summary.pages,
                summary.page_size,
                summary.elapsed.as_secs_f64()
            );
            Ok(())
        }
    }
}
