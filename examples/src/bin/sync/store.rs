//! `sync store backup`: a consistent copy of the SQLite store, safe while `sync run` runs. A
//! PostgreSQL store is refused with the `pg_dump` command that backs it up.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sync_engine::backup::backup_sqlite;
use sync_engine::store_location::{PostgresUrl, StoreLocation};
use sync_engine::text::printable;

use crate::BoxError;

/// What `sync store` does.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Writes a consistent copy of the SQLite store to DEST (a new file, mode 0600), while the
    /// engine runs or not. Restore by stopping the engine and putting the copy in place of the
    /// store. A PostgreSQL store is backed up with `pg_dump` instead (see docs/guide.md).
    Backup {
        /// The store to copy; `store` of the configuration when not given (then the
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
pub fn run(
    command: StoreCommand,
    configured_store: Option<&StoreLocation>,
) -> Result<(), BoxError> {
    match command {
        StoreCommand::Backup { store, dest } => {
            let location = match (store.as_deref(), configured_store) {
                (Some(store), _) => StoreLocation::from_path(store)?,
                (None, Some(store)) => store.clone(),
                (None, None) => return Err("give the store with --store or a configuration".into()),
            };
            let store = match location {
                StoreLocation::Sqlite(path) => path,
                StoreLocation::Postgres(url) => return Err(use_pg_dump(&url, &dest).into()),
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

/// Why a PostgreSQL store is not copied here, and the `pg_dump` command that backs it up (the
/// URL without its password, which `pg_dump` reads from `PGPASSWORD` or `~/.pgpass`).
fn use_pg_dump(url: &PostgresUrl, dest: &Path) -> String {
    format!(
        "the store is a PostgreSQL database ({url}): `sync store backup` copies SQLite files \
         only. Back it up with pg_dump, while the engine runs or not:\n  \
         pg_dump --format=custom --file={} {}\nwith the password in PGPASSWORD (or ~/.pgpass); \
         restore with pg_restore (docs/guide.md, Backups)",
        printable(&shell_quote(&dest.display().to_string())),
        printable(&shell_quote(&url.without_password()))
    )
}

/// `text` as one POSIX shell word: as it is when it is plain, else in single quotes.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+%".contains(&b));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_store_is_refused_with_the_pg_dump_command() {
        let url =
            PostgresUrl::parse("postgres://sync:hunter2@db.internal/sync?sslmode=verify-full")
                .unwrap();
        let message = use_pg_dump(&url, Path::new("sync.dump"));
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains(
                "pg_dump --format=custom --file=sync.dump \
                 'postgres://sync@db.internal/sync?sslmode=verify-full'"
            ),
            "{message}"
        );
        assert_eq!(shell_quote("it's here.dump"), "'it'\\''s here.dump'");
    }
}
