//! What the Clarus adapter keeps per Clarus record, in the store's adapter state
//! ([`AdapterStateStore`](crate::store::AdapterStateStore)): one [`Kept`] kind per record type,
//! JSON values, and read-modify-writes over the version read so that two instances decoding at
//! once never lose each other's change.
//!
//! | kind | keyed by | what |
//! |---|---|---|
//! | `clarus.goods_out.lines` | goods out | the NetSuite line of each goods-out line ([`LineOrder`](super::executor::LineOrder)) |
//! | `clarus.goods_out.shipped` | goods out | the shipments reported, in groups |
//! | `clarus.goods_in.order` | goods in | the NetSuite order and reference it was created for |
//! | `clarus.goods_in.stages` | goods in | the receipts decoded from it, stage by stage |
//! | `clarus.stock.held_by_receipt` | stock record | the receipt entries put on hold into it, and the holds that reported them |
//! | `clarus.stock_movement.made_by_receipt` | hold movement | the hold was a receipt's own quarantine |
//! | `clarus.product.read` | product | the fingerprint of the product last read |
//!
//! Every kind exists so that a delivery decoded again gives the same events, or so that a
//! sweep recognises what a webhook reported; none is needed once the deliveries that could be
//! decoded again are gone, so [`prune`] removes entries unwritten for longer than deliveries
//! are kept.

use std::fmt::Display;

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{StateKey, Store, StoreError};

/// One kind of record the Clarus adapter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    GoodsOutLines,
    GoodsOutShipped,
    GoodsInOrder,
    GoodsInStages,
    StockHeldByReceipt,
    HoldMadeByReceipt,
    ProductRead,
}

impl Kept {
    /// Every kind.
    pub(crate) const ALL: [Kept; 7] = [
        Kept::GoodsOutLines,
        Kept::GoodsOutShipped,
        Kept::GoodsInOrder,
        Kept::GoodsInStages,
        Kept::StockHeldByReceipt,
        Kept::HoldMadeByReceipt,
        Kept::ProductRead,
    ];

    /// The kind's name in the store.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Kept::GoodsOutLines => "clarus.goods_out.lines",
            Kept::GoodsOutShipped => "clarus.goods_out.shipped",
            Kept::GoodsInOrder => "clarus.goods_in.order",
            Kept::GoodsInStages => "clarus.goods_in.stages",
            Kept::StockHeldByReceipt => "clarus.stock.held_by_receipt",
            Kept::HoldMadeByReceipt => "clarus.stock_movement.made_by_receipt",
            Kept::ProductRead => "clarus.product.read",
        }
    }

    /// The key of record `id` of this kind.
    pub(crate) fn key(self, id: impl Display) -> StateKey {
        StateKey::new(self.kind(), id)
    }
}

/// Reading or writing what the Clarus adapter keeps per record failed.
#[derive(Debug, thiserror::Error)]
pub enum KeptError {
    /// The store failed.
    #[error("adapter state {key}: {source}")]
    Store {
        /// The record.
        key: StateKey,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The stored value does not read as the record it should be.
    #[error("adapter state {key} does not read: {source}")]
    Corrupt {
        /// The record.
        key: StateKey,
        /// Why it does not read.
        #[source]
        source: serde_json::Error,
    },
    /// Other writers changed the record every time it was read, [`ATTEMPTS`] times.
    #[error("adapter state {key} kept changing under {ATTEMPTS} attempts to update it")]
    Contended {
        /// The record.
        key: StateKey,
    },
}

impl KeptError {
    /// Whether trying again later may succeed (the store was unavailable, or others kept
    /// writing): anything but a stored value that does not read.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, KeptError::Corrupt { .. })
    }
}

/// How many times an update is tried when other writers keep changing the record.
const ATTEMPTS: usize = 16;

/// The record `key`, if kept.
pub(crate) async fn load<T: DeserializeOwned>(
    store: &dyn Store,
    key: &StateKey,
) -> Result<Option<T>, KeptError> {
    Ok(read(store, key).await?.map(|(value, _)| value))
}

/// The record `key` and its version, if kept; write it back with [`replace`].
pub(crate) async fn read<T: DeserializeOwned>(
    store: &dyn Store,
    key: &StateKey,
) -> Result<Option<(T, i64)>, KeptError> {
    let entry = store
        .adapter_state(key)
        .await
        .map_err(|source| KeptError::Store {
            key: key.clone(),
            source,
        })?;
    entry
        .map(|e| {
            serde_json::from_str(&e.value)
                .map(|value| (value, e.version))
                .map_err(|source| KeptError::Corrupt {
                    key: key.clone(),
                    source,
                })
        })
        .transpose()
}

/// Keeps `value` as record `key`, whatever was kept before.
pub(crate) async fn save<T: Serialize + DeserializeOwned>(
    store: &dyn Store,
    key: &StateKey,
    value: &T,
    now: Timestamp,
) -> Result<(), KeptError> {
    let text = to_text(key, value)?;
    for _ in 0..ATTEMPTS {
        let version = store
            .adapter_state(key)
            .await
            .map_err(|source| KeptError::Store {
                key: key.clone(),
                source,
            })?
            .map(|e| e.version);
        if put(store, key, &text, version, now).await? {
            return Ok(());
        }
    }
    Err(KeptError::Contended { key: key.clone() })
}

/// Writes `value` as record `key` only over `version` (as [`read`] gave it; `None` when there
/// was none); `false` when another writer changed the record meanwhile.
pub(crate) async fn replace<T: Serialize>(
    store: &dyn Store,
    key: &StateKey,
    value: &T,
    version: Option<i64>,
    now: Timestamp,
) -> Result<bool, KeptError> {
    put(store, key, &to_text(key, value)?, version, now).await
}

/// Reads record `key`, lets `change` decide from it what to keep (`Some`: write it; `None`:
/// leave the record as it is) and what to answer, and writes only over the version read: when
/// another writer changed the record meanwhile, reads it again and asks `change` again.
pub(crate) async fn update<T, R, F>(
    store: &dyn Store,
    key: &StateKey,
    now: Timestamp,
    mut change: F,
) -> Result<R, KeptError>
where
    T: Serialize + DeserializeOwned,
    F: FnMut(Option<T>) -> (Option<T>, R),
{
    for _ in 0..ATTEMPTS {
        let (current, version) = match read::<T>(store, key).await? {
            Some((value, version)) => (Some(value), Some(version)),
            None => (None, None),
        };
        let (next, answer) = change(current);
        let Some(next) = next else {
            return Ok(answer);
        };
        let text = to_text(key, &next)?;
        if put(store, key, &text, version, now).await? {
            return Ok(answer);
        }
    }
    Err(KeptError::Contended { key: key.clone() })
}

/// Deletes up to `limit` records of every kind unwritten since `before`; returns how many.
///
/// Errors: the store failed (records deleted before the failure stay deleted).
pub async fn prune(store: &dyn Store, before: Timestamp, limit: u32) -> Result<u64, StoreError> {
    let mut pruned = 0;
    for kept in Kept::ALL {
        pruned += store
            .prune_adapter_state(kept.kind(), before, limit)
            .await?;
    }
    Ok(pruned)
}

fn to_text<T: Serialize>(key: &StateKey, value: &T) -> Result<String, KeptError> {
    serde_json::to_string(value).map_err(|source| KeptError::Corrupt {
        key: key.clone(),
        source,
    })
}

async fn put(
    store: &dyn Store,
    key: &StateKey,
    text: &str,
    version: Option<i64>,
    now: Timestamp,
) -> Result<bool, KeptError> {
    Ok(store
        .put_adapter_state(key, text, version, now)
        .await
        .map_err(|source| KeptError::Store {
            key: key.clone(),
            source,
        })?
        .is_some())
}

impl KeptError {
    /// As a decoding error: retryable unless the stored value does not read.
    pub(crate) fn into_decode(self, context: &str) -> crate::processor::DecodeError {
        use crate::processor::DecodeError;
        if self.is_retryable() {
            DecodeError::Retryable(format!("{context}: {self}").into())
        } else {
            DecodeError::Invalid(format!("{context}: {self}").into())
        }
    }
}
