//! Named watermarks: unknown until set, overwritten, independent of each other.

use std::sync::Arc;

use sync_engine::store::Store;

conformance!(watermarks_are_named_and_overwritten);

async fn watermarks_are_named_and_overwritten(store: Arc<dyn Store>) {
    assert_eq!(store.watermark("netsuite.salesOrder").await.unwrap(), None);
    store
        .set_watermark("netsuite.salesOrder", "2026-11-01T00:00:00Z")
        .await
        .unwrap();
    store
        .set_watermark("netsuite.salesOrder", "2026-11-02T00:00:00Z")
        .await
        .unwrap();
    store
        .set_watermark("netsuite.item", "2026-10-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(
        store
            .watermark("netsuite.salesOrder")
            .await
            .unwrap()
            .as_deref(),
        Some("2026-11-02T00:00:00Z")
    );
    assert_eq!(
        store.watermark("netsuite.item").await.unwrap().as_deref(),
        Some("2026-10-01T00:00:00Z")
    );
    // An empty value is a value.
    store.set_watermark("empty", "").await.unwrap();
    assert_eq!(store.watermark("empty").await.unwrap().as_deref(), Some(""));
}
