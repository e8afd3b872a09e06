//! Adapter state: entries per kind and record, written only over the version read
//! (compare-and-set), so concurrent read-modify-writes never lose one; pruned by age per kind.

use std::sync::Arc;

use sync_engine::store::{StateKey, Store};

use crate::support::store::t;

conformance!(
    entries_are_created_once_and_changed_over_their_version,
    concurrent_read_modify_writes_lose_nothing,
    old_entries_of_one_kind_are_pruned,
);

/// Writes `value` under `key` over the version `expected` at second `at`: the new version.
async fn put(
    store: &Arc<dyn Store>,
    key: &StateKey,
    value: &str,
    expected: Option<i64>,
    at: i64,
) -> Option<i64> {
    let written = store.put_adapter_state(key, value, expected, t(at));
    written.await.unwrap()
}

/// Asserts the entry under `key` is `(value, version, second written)`.
async fn entry_is(store: &Arc<dyn Store>, key: &StateKey, (value, version, at): (&str, i64, i64)) {
    let entry = store.adapter_state(key).await.unwrap().unwrap();
    assert_eq!(
        (entry.value.as_str(), entry.version, entry.updated_at),
        (value, version, t(at))
    );
}

async fn entries_are_created_once_and_changed_over_their_version(store: Arc<dyn Store>) {
    let key = StateKey::new("clarus.goods_in.stages", 7);
    assert_eq!(store.adapter_state(&key).await.unwrap(), None);
    assert_eq!(put(&store, &key, "one", None, 10).await, Some(1));
    // Creating it again loses: it exists.
    assert_eq!(put(&store, &key, "other", None, 11).await, None);
    entry_is(&store, &key, ("one", 1, 10)).await;
    // Over the version read, the write lands and the version moves on.
    assert_eq!(put(&store, &key, "two", Some(1), 20).await, Some(2));
    // Over a stale version, nothing changes.
    assert_eq!(put(&store, &key, "stale", Some(1), 21).await, None);
    entry_is(&store, &key, ("two", 2, 20)).await;
    // Kinds and ids are separate keys.
    let other_kind = StateKey::new("clarus.goods_in.order", 7);
    let other_id = StateKey::new("clarus.goods_in.stages", 8);
    assert_eq!(store.adapter_state(&other_kind).await.unwrap(), None);
    assert_eq!(store.adapter_state(&other_id).await.unwrap(), None);
}

async fn concurrent_read_modify_writes_lose_nothing(store: Arc<dyn Store>) {
    let key = StateKey::new("clarus.stock.held_by_receipt", 42);
    let writers = (0..8).map(|n| {
        let store = Arc::clone(&store);
        let key = key.clone();
        tokio::spawn(async move {
            loop {
                let current = store.adapter_state(&key).await.unwrap();
                let mut items: Vec<u32> = current
                    .as_ref()
                    .map(|e| serde_json::from_str(&e.value).unwrap())
                    .unwrap_or_default();
                items.push(n);
                let text = serde_json::to_string(&items).unwrap();
                let expected = current.map(|e| e.version);
                if store
                    .put_adapter_state(&key, &text, expected, t(1))
                    .await
                    .unwrap()
                    .is_some()
                {
                    break;
                }
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let entry = store.adapter_state(&key).await.unwrap().unwrap();
    let mut items: Vec<u32> = serde_json::from_str(&entry.value).unwrap();
    items.sort_unstable();
    assert_eq!(items, (0..8).collect::<Vec<_>>());
    assert_eq!(entry.version, 8);
}

async fn old_entries_of_one_kind_are_pruned(store: Arc<dyn Store>) {
    for id in 0..5 {
        let key = StateKey::new("clarus.goods_out.lines", id);
        store
            .put_adapter_state(&key, "x", None, t(100 + id))
            .await
            .unwrap();
    }
    let other = StateKey::new("clarus.goods_in.stages", 0);
    store
        .put_adapter_state(&other, "y", None, t(0))
        .await
        .unwrap();
    // Two at a time, oldest first, before t(103): ids 0, 1 then 2.
    assert_eq!(
        store
            .prune_adapter_state("clarus.goods_out.lines", t(103), 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .prune_adapter_state("clarus.goods_out.lines", t(103), 2)
            .await
            .unwrap(),
        1
    );
    let left: Vec<bool> = futures_util::future::join_all((0..5).map(|id| {
        let store = Arc::clone(&store);
        async move {
            store
                .adapter_state(&StateKey::new("clarus.goods_out.lines", id))
                .await
                .unwrap()
                .is_some()
        }
    }))
    .await;
    assert_eq!(left, [false, false, false, true, true]);
    // Another kind is untouched, however old.
    assert!(store.adapter_state(&other).await.unwrap().is_some());
}
