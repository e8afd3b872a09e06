//! The store's conformance suite: every behaviour of the [`Store`] roles is written once, as an
//! `async fn` taking an `Arc<dyn Store>` (or a [`Reopen`] when it must restart the store), and
//! run against every backend: `store::<role>::sqlite::<behaviour>` on SQLite and, with the
//! `postgres` feature, `store::<role>::postgres::<behaviour>` on PostgreSQL (a fresh schema per test, see
//! [`support`]). A behaviour that only a SQLite file has (its permissions) is a plain test in
//! `store::durability::sqlite_only`.
//!
//! The roles: [`ledger`] (dedup, blocked events, the plan commit), [`outbox`] (ordering per
//! document, retries), [`batches`], [`exceptions`] (queue, audit trail, requests),
//! [`deliveries`], [`watermarks`], [`drift`] (the reconciliation history) and [`durability`]
//! (what survives a restart).
//!
//! [`Store`]: sync_engine::store::Store
//! [`Reopen`]: crate::support::store::Reopen
//! [`support`]: crate::support::store

/// One test per backend for each behaviour `async fn name(store: Arc<dyn Store>)` listed.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        /// The behaviours on SQLite, each on a private in-memory database.
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::store::sqlite()).await;
                }
            )*
        }

        /// The behaviours on PostgreSQL, each in a fresh schema.
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::support::store::on_postgres(super::$name).await;
                }
            )*
        }
    };
}

/// One test per backend for each behaviour `async fn name(reopen: Reopen)` listed: behaviours
/// that close the store and open it again.
macro_rules! conformance_reopen {
    ($($name:ident),* $(,)?) => {
        /// The behaviours on SQLite, each on a file in a temporary directory.
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::support::store::on_sqlite_file(super::$name).await;
                }
            )*
        }

        /// The behaviours on PostgreSQL, each reconnecting to one fresh schema.
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::support::store::on_postgres_reopen(super::$name).await;
                }
            )*
        }
    };
}

mod adapter_state;
mod batches;
mod cluster;
mod deliveries;
mod drift;
mod durability;
mod exceptions;
mod ledger;
mod outbox;
mod watermarks;
