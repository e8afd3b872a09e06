//! A fake target system for the engine's outbox, and the engine, store and outbox set up around
//! it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sync_core::{Mappings, PlannedAction};
use sync_engine::engine::Engine;
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::store::{SqliteStore, Store};

/// A target system that applies every action (the record it makes is `id-<key>`), except the
/// kinds it is told to hold back (`503`, retryable) or to reject.
#[derive(Default)]
pub struct FakeSystem {
    /// Kinds answered `503 service unavailable` (retryable).
    pub held_kinds: Mutex<Vec<&'static str>>,
    /// Kinds rejected (`period is closed`).
    pub rejected_kinds: Mutex<Vec<&'static str>>,
}

impl FakeSystem {
    /// Holds the actions of `kind` back from now on.
    pub fn hold(&self, kind: &'static str) {
        self.held_kinds.lock().unwrap().push(kind);
    }

    /// Lets every held kind through again.
    pub fn release(&self) {
        self.held_kinds.lock().unwrap().clear();
    }
}

#[async_trait]
impl ActionExecutor for FakeSystem {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        let kind = sync_engine::engine::action_kind(&action.action);
        if self.held_kinds.lock().unwrap().contains(&kind) {
            return Err(ExecutionError::Retryable("503 service unavailable".into()));
        }
        if self.rejected_kinds.lock().unwrap().contains(&kind) {
            return Err(ExecutionError::Rejected("period is closed".into()));
        }
        Ok(Some(format!("id-{}", action.key.as_str())))
    }

    async fn find_applied(
        &self,
        _action: &PlannedAction,
    ) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

/// An engine on a fresh in-memory store, and an outbox sending its actions to a [`FakeSystem`].
pub struct Setup {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The engine planning into it.
    pub engine: Engine,
    /// The fake target system.
    pub system: Arc<FakeSystem>,
    /// The outbox: quick retries (1 to 2 ms), a held action retried and never given up.
    pub outbox: Outbox,
}

/// A [`Setup`] planning with `mappings`.
pub async fn setup(mappings: Mappings) -> Setup {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let engine = Engine::open(store.clone(), mappings).await.unwrap();
    let system = Arc::new(FakeSystem::default());
    let outbox = Outbox::new(
        store.clone(),
        system.clone(),
        OutboxConfig {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(2),
            // A held action is retried, never given up, while the tests hold it.
            max_attempts: u32::MAX,
            ..OutboxConfig::default()
        },
    );
    Setup {
        store,
        engine,
        system,
        outbox,
    }
}

/// Runs the due actions 50 times, 2 ms apart: what is not held is sent.
pub async fn drain(outbox: &Outbox) {
    for _ in 0..50 {
        outbox.run_due().await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
