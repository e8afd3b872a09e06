//! The intake's inbox: deliveries kept as received, processed in arrival order, deferred,
//! woken and reprocessed.

use std::sync::Arc;

use serde_json::json;
use sync_engine::store::{Delivery, NewDelivery, Store};

use crate::support::store::t;

conformance!(
    deliveries_are_kept_as_received_in_arrival_order,
    deferred_deliveries_wait_until_woken_or_due,
    processed_deliveries_are_pruned_after_retention_and_others_never,
    the_oldest_waiting_delivery_is_of_its_source_due_and_unprocessed,
);

fn delivery(body: &[u8], at: i64) -> NewDelivery {
    NewDelivery {
        source: "clarus-webhook".into(),
        received_at: t(at),
        headers: json!({"x-clarus-wms-automation-id": "9", "n": at}),
        body: body.to_vec(),
    }
}

fn ids(list: &[Delivery]) -> Vec<i64> {
    list.iter().map(|d| d.id).collect()
}

/// Marks delivery `id` processed at second `at`, with `note`.
async fn mark_processed(store: &Arc<dyn Store>, id: i64, note: Option<String>, at: i64) {
    let marked = store.mark_delivery_processed(id, note, t(at));
    marked.await.unwrap();
}

async fn deliveries_are_kept_as_received_in_arrival_order(store: Arc<dyn Store>) {
    assert!(
        store
            .unprocessed_deliveries(t(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.unprocessed_count().await.unwrap(), 0);
    // Bodies are bytes, kept as received even when they are not UTF-8.
    let binary = [0xff, 0x00, 0xfe, b'{', 0x80];
    let first = store
        .record_delivery(delivery(b"{\"data\":{}}", 0))
        .await
        .unwrap();
    let second = store.record_delivery(delivery(&binary, 1)).await.unwrap();
    let mut polled = delivery(b"[]", 2);
    polled.source = "netsuite-poll".into();
    let third = store.record_delivery(polled.clone()).await.unwrap();
    assert!(first < second && second < third);

    let pending = store.unprocessed_deliveries(t(2), 10).await.unwrap();
    assert_eq!(ids(&pending), [first, second, third]);
    assert_eq!(pending[0].delivery, delivery(b"{\"data\":{}}", 0));
    assert_eq!(pending[1].delivery.body, binary);
    assert_eq!(pending[2].delivery, polled);
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(2), 2).await.unwrap()),
        [first, second]
    );
    assert_eq!(store.unprocessed_count().await.unwrap(), 3);

    mark_processed(&store, second, Some("unusable".into()), 3).await;
    mark_processed(&store, first, None, 3).await;
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(3), 10).await.unwrap()),
        [third]
    );
    assert_eq!(store.unprocessed_count().await.unwrap(), 1);

    // Handed back: processed again, in arrival order.
    assert!(store.reprocess_delivery(first, t(4)).await.unwrap());
    assert!(!store.reprocess_delivery(9999, t(4)).await.unwrap());
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(4), 10).await.unwrap()),
        [first, third]
    );
    assert_eq!(store.unprocessed_count().await.unwrap(), 2);
}

async fn deferred_deliveries_wait_until_woken_or_due(store: Arc<dyn Store>) {
    let a = store.record_delivery(delivery(b"a", 0)).await.unwrap();
    let b = store.record_delivery(delivery(b"b", 0)).await.unwrap();
    let c = store.record_delivery(delivery(b"c", 0)).await.unwrap();
    store
        .defer_delivery(a, t(100), "mapping missing for SKU X")
        .await
        .unwrap();
    store.defer_delivery(b, t(50), "blocked").await.unwrap();
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(1), 10).await.unwrap()),
        [c]
    );
    // Deferred deliveries still count as unprocessed.
    assert_eq!(store.unprocessed_count().await.unwrap(), 3);
    // Due again at their time.
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(50), 10).await.unwrap()),
        [b, c]
    );

    mark_processed(&store, c, None, 2).await;
    // Woken: every deferred delivery is due at once (a processed one is not woken).
    assert_eq!(store.wake_deferred_deliveries(t(3)).await.unwrap(), 2);
    assert_eq!(store.wake_deferred_deliveries(t(3)).await.unwrap(), 0);
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(3), 10).await.unwrap()),
        [a, b]
    );
    assert!(
        store
            .unprocessed_deliveries(t(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Retention deletes processed deliveries older than the cut-off, oldest first and at most
/// `limit` at a time; a delivery not yet processed (due or deferred) is never deleted, however
/// old.
async fn processed_deliveries_are_pruned_after_retention_and_others_never(store: Arc<dyn Store>) {
    let mut processed = Vec::new();
    for at in 0..4 {
        let id = store.record_delivery(delivery(b"{}", at)).await.unwrap();
        store
            .mark_delivery_processed(id, None, t(10 + at))
            .await
            .unwrap();
        processed.push(id);
    }
    let due = store.record_delivery(delivery(b"{}", 4)).await.unwrap();
    let deferred = store.record_delivery(delivery(b"{}", 5)).await.unwrap();
    store
        .defer_delivery(deferred, t(1_000), "blocked")
        .await
        .unwrap();

    // Processed at 10, 11 and 12 are before 13; two at a time, the oldest first.
    assert_eq!(store.prune_deliveries(t(13), 2).await.unwrap(), 2);
    assert!(!store.reprocess_delivery(processed[0], t(20)).await.unwrap());
    assert!(!store.reprocess_delivery(processed[1], t(20)).await.unwrap());
    assert_eq!(store.prune_deliveries(t(13), 2).await.unwrap(), 1);
    assert_eq!(store.prune_deliveries(t(13), 2).await.unwrap(), 0);
    // The one processed at 13 is kept, and so are the two never processed.
    assert!(store.reprocess_delivery(processed[3], t(20)).await.unwrap());
    assert_eq!(store.prune_deliveries(t(100_000), 100).await.unwrap(), 0);
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(100_000), 10).await.unwrap()),
        [processed[3], due, deferred]
    );
}

async fn the_oldest_waiting_delivery_is_of_its_source_due_and_unprocessed(store: Arc<dyn Store>) {
    let source = "clarus-webhook";
    assert_eq!(
        store.oldest_due_delivery(source, t(10)).await.unwrap(),
        None
    );
    let mut polled = delivery(b"[]", 1);
    polled.source = "netsuite-poll".into();
    store.record_delivery(polled).await.unwrap();
    let deferred = store.record_delivery(delivery(b"a", 2)).await.unwrap();
    let processed = store.record_delivery(delivery(b"b", 3)).await.unwrap();
    store.record_delivery(delivery(b"c", 4)).await.unwrap();
    store
        .defer_delivery(deferred, t(100), "blocked")
        .await
        .unwrap();
    mark_processed(&store, processed, None, 5).await;
    // Another source's, a deferred and a processed delivery do not count.
    assert_eq!(
        store.oldest_due_delivery(source, t(10)).await.unwrap(),
        Some(t(4))
    );
    assert_eq!(
        store
            .oldest_due_delivery("netsuite-poll", t(10))
            .await
            .unwrap(),
        Some(t(1))
    );
    // Due again, the deferred one is the oldest waiting.
    assert_eq!(
        store.oldest_due_delivery(source, t(100)).await.unwrap(),
        Some(t(2))
    );
}
