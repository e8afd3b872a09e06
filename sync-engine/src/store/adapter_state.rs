//! Adapter state: what the Clarus and NetSuite adapters remember per external record (the line
//! order of a goods out, the stages of a goods in, the stock a receipt put on hold …), so that a
//! delivery decoded again gives the same events and a sweep recognises what a webhook reported.
//!
//! Each entry is keyed by a kind and the external record's id, carries a version for
//! compare-and-set (several instances decode deliveries at once, so a read-modify-write must not
//! lose another instance's write), and the time it was last written, by which it is pruned.

use async_trait::async_trait;
use jiff::Timestamp;

use super::StoreError;

/// The key of one adapter-state entry: a kind (`clarus.goods_in.stages`) and the external
/// record's id within it (`4711`).
///
/// ```
/// use sync_engine::store::StateKey;
///
/// let key = StateKey::new("clarus.goods_in.stages", 4711);
/// assert_eq!(key.to_string(), "clarus.goods_in.stages/4711");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey {
    /// What the entry records (one kind per adapter record type).
    pub kind: String,
    /// The external record it is about.
    pub id: String,
}

impl StateKey {
    /// The key of `kind` for record `id`.
    pub fn new(kind: impl Into<String>, id: impl ToString) -> Self {
        StateKey {
            kind: kind.into(),
            id: id.to_string(),
        }
    }
}

impl std::fmt::Display for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

/// One stored entry with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateEntry {
    /// The value the adapter wrote (JSON or a plain mark).
    pub value: String,
    /// Increases by one with every write; the compare-and-set token.
    pub version: i64,
    /// When it was last written.
    pub updated_at: Timestamp,
}

/// Adapter state per external record, with compare-and-set and pruning by age.
#[async_trait]
pub trait AdapterStateStore: Send + Sync {
    /// The entry under `key`, if any.
    async fn adapter_state(&self, key: &StateKey) -> Result<Option<StateEntry>, StoreError>;

    /// Writes `value` under `key` when the stored version is `expected` (`None`: only when no
    /// entry exists). Returns the new version, or `None` when the entry changed meanwhile (read
    /// it again and redo the change).
    async fn put_adapter_state(
        &self,
        key: &StateKey,
        value: &str,
        expected: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError>;

    /// Deletes up to `limit` entries of `kind` last written before `before`; returns how many.
    async fn prune_adapter_state(
        &self,
        kind: &str,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError>;
}
