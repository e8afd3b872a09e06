//! The exception queue: keyed exceptions kept once, resolved and reopened, their audit trail,
//! and the requests people make about them.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use sync_engine::store::{
    AuditEntry, ExceptionQuery, NewException, Store, StoreError, StoredException,
};

use crate::support::store::{commit, exception, t};

conformance!(
    exceptions_are_kept_once_resolved_and_reopened,
    every_change_to_an_exception_is_in_its_audit_trail,
    retry_requests_are_queued_and_finished_in_order,
    exceptions_are_read_by_filter_in_pages,
    assignments_are_recorded_in_the_audit_trail,
);

/// Raises the exception `key` (of document `SO-1`) at second `at`.
async fn raise(store: &Arc<dyn Store>, key: &str, at: i64) {
    store.raise_exception(exception(key), t(at)).await.unwrap();
}

/// Refreshes the exception `key` (of document `SO-1`) at second `at`.
async fn refresh(store: &Arc<dyn Store>, key: &str, at: i64) {
    store
        .refresh_exception(exception(key), t(at))
        .await
        .unwrap();
}

/// The audit trail of exception `key`, asserted to be `expected` (change, time, note).
async fn trail_is(
    store: &Arc<dyn Store>,
    key: &str,
    expected: &[(&str, Timestamp, Option<&str>)],
) -> Vec<AuditEntry> {
    let trail = store.exception_audit(key).await.unwrap();
    let found: Vec<_> = trail
        .iter()
        .map(|a| (a.change.as_str(), a.at, a.note.as_deref()))
        .collect();
    assert_eq!(found, expected);
    trail
}

async fn exceptions_are_kept_once_resolved_and_reopened(store: Arc<dyn Store>) {
    let mut c = commit("e1", vec![]);
    c.exceptions.push(exception("EX-1"));
    store.commit_plan(c).await.unwrap();
    raise(&store, "EX-1", 5).await;
    let all = store.exceptions().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].raised_at, t(0));
    assert_eq!(all[0].exception, exception("EX-1"));

    store
        .resolve_exception("EX-1", "item created", t(10))
        .await
        .unwrap();
    let all = store.exceptions().await.unwrap();
    assert_eq!(all[0].resolved_at, Some(t(10)));
    assert_eq!(all[0].resolution_note.as_deref(), Some("item created"));
    assert!(store.open_exceptions().await.unwrap().is_empty());
    // Resolving it again changes nothing.
    store
        .resolve_exception("EX-1", "again", t(11))
        .await
        .unwrap();
    assert_eq!(
        store
            .exception("EX-1")
            .await
            .unwrap()
            .unwrap()
            .resolution_note
            .as_deref(),
        Some("item created")
    );

    let mut reraised = exception("EX-1");
    reraised.message = "SKU X is still not in NetSuite".into();
    store
        .raise_exception(reraised.clone(), t(20))
        .await
        .unwrap();
    let all = store.exceptions().await.unwrap();
    assert_eq!(all[0].resolved_at, None);
    assert_eq!(all[0].resolution_note, None);
    assert_eq!(all[0].raised_at, t(20));
    assert_eq!(all[0].exception, reraised);
    let open = store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].exception.key, "EX-1");

    assert!(matches!(
        store.resolve_exception("nope", "x", t(30)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.exception("nope").await.unwrap().is_none());

    // Open first, then by time raised; the open ones alone by time raised.
    raise(&store, "EX-0", 15).await;
    raise(&store, "EX-2", 25).await;
    raise(&store, "EX-3", 1).await;
    store.resolve_exception("EX-3", "done", t(2)).await.unwrap();
    let order = |list: Vec<sync_engine::store::StoredException>| -> Vec<String> {
        list.into_iter().map(|e| e.exception.key).collect()
    };
    assert_eq!(
        order(store.exceptions().await.unwrap()),
        ["EX-0", "EX-1", "EX-2", "EX-3"]
    );
    assert_eq!(
        order(store.open_exceptions().await.unwrap()),
        ["EX-0", "EX-1", "EX-2"]
    );
}

async fn every_change_to_an_exception_is_in_its_audit_trail(store: Arc<dyn Store>) {
    assert_eq!(store.audit_head().await.unwrap(), 0);
    raise(&store, "EX-1", 0).await;
    // Raised again while open: nothing.
    raise(&store, "EX-1", 1).await;
    // Refreshed with the same message: nothing; with a new one: updated, with the new payload.
    refresh(&store, "EX-1", 2).await;
    let mut newer = exception("EX-1");
    newer.message = "SKU X: 3 units short".into();
    newer.payload = json!({"sku": "X", "short": 3});
    store.refresh_exception(newer.clone(), t(3)).await.unwrap();
    let stored = store.exception("EX-1").await.unwrap().unwrap();
    assert_eq!(stored.exception.message, newer.message);
    assert_eq!(stored.exception.payload, newer.payload);
    assert_eq!(stored.raised_at, t(0));
    store
        .resolve_exception("EX-1", "fixed", t(4))
        .await
        .unwrap();
    store
        .resolve_exception("EX-1", "fixed", t(5))
        .await
        .unwrap();
    raise(&store, "EX-1", 6).await;
    // Refreshing an exception that does not exist raises it.
    refresh(&store, "EX-2", 7).await;

    let trail = trail_is(
        &store,
        "EX-1",
        &[
            ("raised", t(0), None),
            ("updated", t(3), Some("SKU X: 3 units short")),
            ("resolved", t(4), Some("fixed")),
            ("reopened", t(6), None),
        ],
    )
    .await;
    assert!(trail.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(trail.iter().all(|a| a.key == "EX-1"));

    // Every exception's entries after a position, in order.
    let all = store.audit_since(0).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(store.audit_head().await.unwrap(), all[4].seq);
    assert_eq!(
        (all[4].key.as_str(), all[4].change.as_str()),
        ("EX-2", "raised")
    );
    let after = store.audit_since(trail[1].seq).await.unwrap();
    assert_eq!(
        after.iter().map(|a| a.change.as_str()).collect::<Vec<_>>(),
        ["resolved", "reopened", "raised"]
    );
    assert!(store.audit_since(all[4].seq).await.unwrap().is_empty());
    assert!(store.exception_audit("nope").await.unwrap().is_empty());
}

async fn retry_requests_are_queued_and_finished_in_order(store: Arc<dyn Store>) {
    assert!(matches!(
        store.request_retry("nope", None, t(0)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.open_requests().await.unwrap().is_empty());
    raise(&store, "EX-1", 0).await;
    raise(&store, "EX-2", 0).await;
    let first = store
        .request_retry("EX-1", Some("item created"), t(10))
        .await
        .unwrap();
    let second = store.request_retry("EX-2", None, t(11)).await.unwrap();
    let third = store
        .request_retry("EX-1", Some("again"), t(12))
        .await
        .unwrap();
    assert!(first < second && second < third);

    let open = store.open_requests().await.unwrap();
    assert_eq!(
        open.iter()
            .map(|r| (r.seq, r.key.as_str(), r.note.as_deref()))
            .collect::<Vec<_>>(),
        [
            (first, "EX-1", Some("item created")),
            (second, "EX-2", None),
            (third, "EX-1", Some("again"))
        ]
    );
    assert!(
        open.iter()
            .all(|r| r.request == "retry" && r.handled_at.is_none())
    );
    assert_eq!(open[1].requested_at, t(11));

    store
        .finish_request(first, "2 actions put back", t(20))
        .await
        .unwrap();
    assert!(store.finish_request(first, "twice", t(21)).await.is_err());
    assert!(store.finish_request(9999, "never", t(21)).await.is_err());
    assert_eq!(
        store
            .open_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        [second, third]
    );
    let for_ex1 = store.requests_for("EX-1").await.unwrap();
    assert_eq!(
        for_ex1.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [first, third]
    );
    assert_eq!(for_ex1[0].handled_at, Some(t(20)));
    assert_eq!(for_ex1[0].outcome.as_deref(), Some("2 actions put back"));
    assert_eq!(for_ex1[1].outcome, None);
    assert!(store.requests_for("nope").await.unwrap().is_empty());

    trail_is(
        &store,
        "EX-1",
        &[
            ("raised", t(0), None),
            ("retry-requested", t(10), Some("item created")),
            ("retry-requested", t(12), Some("again")),
            ("retried", t(20), Some("2 actions put back")),
        ],
    )
    .await;
}

async fn assignments_are_recorded_in_the_audit_trail(store: Arc<dyn Store>) {
    assert!(matches!(
        store
            .record_audit("nope", AuditEntry::ASSIGNED, Some("to bo by lead"), t(0))
            .await,
        Err(StoreError::NotFound {
            what: "exception",
            ..
        })
    ));
    raise(&store, "EX-1", 0).await;
    raise(&store, "EX-2", 1).await;
    raise(&store, "EX-3", 1).await;
    let head = store.audit_head().await.unwrap();
    let first = store
        .record_audit("EX-1", AuditEntry::ASSIGNED, Some("to ana by lead"), t(2))
        .await
        .unwrap();
    assert!(first > head);
    assert_eq!(store.audit_head().await.unwrap(), first);
    store
        .request_retry("EX-1", Some("why"), t(3))
        .await
        .unwrap();
    let second = store
        .record_audit("EX-1", AuditEntry::ASSIGNED, Some("to bo by ana"), t(4))
        .await
        .unwrap();
    let other = store
        .record_audit("EX-2", AuditEntry::ASSIGNED, None, t(5))
        .await
        .unwrap();
    assert!(first < second && second < other);
    store
        .resolve_exception("EX-1", "fixed", t(6))
        .await
        .unwrap();
    // A state change of the exception is not recorded this way: the engine acts on those.
    assert!(matches!(
        store
            .record_audit("EX-1", "resolved", Some("forged"), t(7))
            .await,
        Err(StoreError::UnrecordableChange { change }) if change == "resolved"
    ));

    let trail = trail_is(
        &store,
        "EX-1",
        &[
            ("raised", t(0), None),
            ("assigned", t(2), Some("to ana by lead")),
            ("retry-requested", t(3), Some("why")),
            ("assigned", t(4), Some("to bo by ana")),
            ("resolved", t(6), Some("fixed")),
        ],
    )
    .await;
    assert!(trail.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!((trail[1].seq, trail[3].seq), (first, second));
    let since = store.audit_since(head).await.unwrap();
    assert_eq!(
        since
            .iter()
            .map(|a| (a.seq, a.key.as_str(), a.change.as_str()))
            .collect::<Vec<_>>(),
        [
            (first, "EX-1", "assigned"),
            (trail[2].seq, "EX-1", "retry-requested"),
            (second, "EX-1", "assigned"),
            (other, "EX-2", "assigned"),
            (trail[4].seq, "EX-1", "resolved"),
        ]
    );
    assert_eq!(since[3].note, None);
    assert_eq!(since[3].at, t(5));

    // The latest of each exception asked about, in the trail's order; none for one without.
    let keys = ["EX-2", "EX-1", "EX-3", "nope"].map(String::from);
    let latest = store
        .latest_audit(AuditEntry::ASSIGNED, &keys)
        .await
        .unwrap();
    assert_eq!(
        latest
            .iter()
            .map(|a| (a.seq, a.key.as_str(), a.note.as_deref()))
            .collect::<Vec<_>>(),
        [
            (second, "EX-1", Some("to bo by ana")),
            (other, "EX-2", None)
        ]
    );
    assert_eq!(latest[0], trail[3]);
    let latest = store
        .latest_audit("resolved", &["EX-1".to_owned()])
        .await
        .unwrap();
    assert_eq!(latest, [trail[4].clone()]);
    assert!(
        store
            .latest_audit(AuditEntry::ASSIGNED, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

/// An exception `key` of `kind`.
fn of_kind(key: &str, kind: &str) -> NewException {
    NewException {
        kind: kind.into(),
        ..exception(key)
    }
}

fn exception_keys(page: &[StoredException]) -> Vec<&str> {
    page.iter().map(|e| e.exception.key.as_str()).collect()
}

/// Every page of `filter`, `size` at a time, each page's keys.
async fn pages(store: &Arc<dyn Store>, filter: &ExceptionQuery, size: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .exceptions_page(filter, after.as_ref(), size)
            .await
            .unwrap();
        assert!(page.len() <= size);
        let Some(last) = page.last() else {
            return out;
        };
        after = Some(last.cursor());
        out.push(
            exception_keys(&page)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        );
    }
}

async fn exceptions_are_read_by_filter_in_pages(store: Arc<dyn Store>) {
    // Raised in this order; B and b at the same instant (keys in byte order: "B" < "b").
    for (key, kind, at) in [
        ("EX-D-1", "stock-drift", 1),
        ("EX-U-1", "unknown_sku", 2),
        ("EX-b", "unknown_sku", 3),
        ("EX-B", "unknown_sku", 3),
        ("EX-D-2", "stock-drift", 4),
        ("EX-V-1", "drift-value", 5),
        ("EX-D-3", "stock-drift", 6),
    ] {
        store
            .raise_exception(of_kind(key, kind), t(at))
            .await
            .unwrap();
    }
    store
        .resolve_exception("EX-D-2", "gone", t(7))
        .await
        .unwrap();

    let all = ExceptionQuery::default();
    assert_eq!(
        pages(&store, &all, 3).await,
        [
            vec!["EX-D-1", "EX-U-1", "EX-B"],
            vec!["EX-b", "EX-D-2", "EX-V-1"],
            vec!["EX-D-3"],
        ]
    );
    let read = store.exceptions_page(&all, None, 100).await.unwrap();
    assert_eq!(read.len(), 7);
    assert_eq!(read[0].exception, of_kind("EX-D-1", "stock-drift"));
    assert_eq!(read[0].raised_at, t(1));
    assert_eq!(read[4].resolved_at, Some(t(7)));

    // Open ones of some kinds: the resolved drift and the other kinds are left out.
    let drift = ExceptionQuery::open_of(&["stock-drift", "drift-value"]);
    assert_eq!(
        pages(&store, &drift, 2).await,
        [vec!["EX-D-1", "EX-V-1"], vec!["EX-D-3"]]
    );
    // Resolved ones only.
    let resolved = ExceptionQuery {
        open: Some(false),
        ..ExceptionQuery::default()
    };
    assert_eq!(pages(&store, &resolved, 10).await, [vec!["EX-D-2"]]);
    // By key prefix, and by keys.
    let prefix = ExceptionQuery {
        key_prefix: Some("EX-D-".into()),
        ..ExceptionQuery::default()
    };
    assert_eq!(
        pages(&store, &prefix, 10).await,
        [vec!["EX-D-1", "EX-D-2", "EX-D-3"]]
    );
    let by_keys = ExceptionQuery {
        keys: vec!["EX-b".into(), "EX-V-1".into(), "EX-none".into()],
        open: Some(true),
        ..ExceptionQuery::default()
    };
    assert_eq!(
        pages(&store, &by_keys, 1).await,
        [vec!["EX-b"], vec!["EX-V-1"]]
    );
    // A prefix is matched literally: no pattern characters.
    let literal = ExceptionQuery {
        key_prefix: Some("EX-_".into()),
        ..ExceptionQuery::default()
    };
    assert!(pages(&store, &literal, 10).await.is_empty());
    assert!(
        store
            .exceptions_page(&all, None, 0)
            .await
            .unwrap()
            .is_empty()
    );
}
