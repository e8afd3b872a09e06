//! Durable state: the inbox of deliveries, the ledger of seen events, the outbox of actions and
//! their batches, the exception queue, watermarks and the drift history, behind the [`Store`]
//! trait.
//!
//! The store is deliberately ignorant of the domain: payloads are JSON values that the engine
//! serialises from `sync-core` types. That keeps one schema for every backend (SQLite today,
//! PostgreSQL later) and lets a schema change in the core need no migration here.
//!
//! # Roles
//!
//! [`Store`] is the sum of one trait per role, each in its own module with its types:
//!
//! - [`DeliveryStore`]: raw deliveries kept before intake answers, processed in arrival order.
//! - [`LedgerStore`]: the events planned, the state log, and [`LedgerStore::commit_plan`].
//! - [`OutboxStore`]: the actions to run, in order per document, with their attempts.
//! - [`BatchStore`]: actions posted together as one record, and those waiting for a batch.
//! - [`ExceptionStore`]: the exception queue, its audit trail and people's requests.
//! - [`WatermarkStore`]: how far each poller has read.
//! - [`DriftStore`]: the history of reconciliation runs.
//! - [`AdapterStateStore`]: what the adapters remember per external record, with
//!   compare-and-set and pruning by age.
//! - [`ClusterStore`]: several instances on one database: leases, heartbeats, claims on
//!   deliveries and actions, and plans committed on the ledger head they were made on.
//!
//! A backend implements every role for one type; the blanket implementation makes it a
//! [`Store`], so the engine keeps holding an `Arc<dyn Store>` and calls any role's methods on it
//! without importing the role traits. Code generic over `S: Store` can do the same. Code that
//! holds a concrete backend (a [`SqliteStore`]) imports the role traits it calls, or only
//! [`Store`]: `SqliteStore` dereferences to `dyn Store`.
//!
//! # The one transaction that matters
//!
//! [`LedgerStore::commit_plan`] writes across roles: marking an event seen, appending the state
//! changes the core returned, enqueueing its actions and raising (and resolving) its exceptions
//! happen together or not at all, so a crash between any two steps cannot lose or double an
//! action. Every backend must make it atomic. The other multi-row writes (a batch and its
//! membership, a batch's outcome and its members', a drift run and its rows, a retry request
//! and its audit entry) are atomic too.
//!
//! # Errors
//!
//! Every method returns [`StoreError`], which names no backend type: a database failure is
//! [`StoreError::Backend`], classified by the backend so that [`StoreError::is_conflict`] and
//! [`StoreError::is_transient`] mean the same whatever database is behind the store.
//!
//! # Time
//!
//! The store never reads the clock: every method that records a time takes it (`at`, `now`)
//! from the caller.

/// Implements, for a backend's store type `$name`, `Deref` to `dyn Store` (code holding one
/// calls every role's methods with only [`Store`] in scope) and a `Debug` that prints nothing
/// of its connection (whose options may hold a password).
macro_rules! backend_store {
    ($name:ident) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        impl std::ops::Deref for $name {
            type Target = dyn $crate::store::Store;

            fn deref(&self) -> &Self::Target {
                self
            }
        }
    };
}

mod adapter_state;
mod batches;
mod cluster;
mod deliveries;
mod drift;
mod error;
mod exceptions;
mod ledger;
mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod sqlite;
mod watermarks;

pub use adapter_state::{AdapterStateStore, StateEntry, StateKey};
pub use batches::{BatchMember, BatchStore, NewBatch, StoredBatch, WAITING_FOR_BATCH};
pub use cluster::{ClusterStore, InstanceRecord, Lease};
pub use deliveries::{Delivery, DeliveryStore, NewDelivery};
pub use drift::{DriftStore, NewDriftRow, NewDriftRun, StoredDriftRow, StoredDriftRun};
pub use error::StoreError;
pub use exceptions::{
    AuditEntry, ExceptionCursor, ExceptionQuery, ExceptionRequest, ExceptionStore, NewException,
    StoredException,
};
pub use ledger::{
    CommitOutcome, LedgerStore, PlanCommit, RecordedEvent, StateSnapshot, WatchedDocument,
};
pub use outbox::{
    ActionCount, ActionFilter, ActionRecord, ActionStatus, NewAction, OutboxAction, OutboxStore,
};
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PgStore};
pub use sqlite::SqliteStore;
pub use watermarks::WatermarkStore;

/// Declares [`Store`] as the sum of the roles listed, and implements it for every type that
/// implements them all (the list is written once for both).
macro_rules! store_of_roles {
    ($($role:ident),+ $(,)?) => {
        /// Durable state of the engine: every role at once. Implementations must make
        /// [`LedgerStore::commit_plan`] atomic.
        ///
        /// Implemented for every type that implements all the roles; implement those, not this.
        pub trait Store: $($role +)+ Send + Sync + 'static {}

        impl<T> Store for T where T: $($role +)+ Send + Sync + 'static {}
    };
}

store_of_roles!(
    DeliveryStore,
    LedgerStore,
    OutboxStore,
    ExceptionStore,
    BatchStore,
    WatermarkStore,
    DriftStore,
    ClusterStore,
    AdapterStateStore,
);
