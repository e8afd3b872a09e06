//! Behaviour of the SQLite store: dedup, atomic plans, per-document ordering, exceptions, restart.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sync_engine::store::{
    ActionStatus, CommitOutcome, NewAction, NewDelivery, NewException, PlanCommit, SqliteStore,
};

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn action(key: &str, document: &str, not_before: Timestamp) -> NewAction {
    NewAction {
        key: key.into(),
        document: document.into(),
        kind: "fulfil_sales_order".into(),
        payload: json!({"key": key}),
        not_before,
    }
}

fn exception(key: &str) -> NewException {
    NewException {
        key: key.into(),
        kind: "unknown_sku".into(),
        owner: "item_master".into(),
        severity: "error".into(),
        document: "SO-1".into(),
        message: "SKU X is not in NetSuite".into(),
        runbook: "operations.md#unknown-sku".into(),
        payload: json!({"sku": "X"}),
    }
}

fn commit(event_key: &str, actions: Vec<NewAction>) -> PlanCommit {
    PlanCommit {
        event_key: event_key.into(),
        mark_seen: true,
        document: "SO-1".into(),
        event: json!({"event": event_key}),
        planned_at: t(0),
        changes: vec![json!({"change": event_key})],
        actions,
        exceptions: vec![],
        resolved_exceptions: vec![],
    }
}

#[tokio::test]
async fn a_replayed_event_commits_nothing() {
    let store = SqliteStore::open_in_memory().unwrap();
    let first = commit("e1", vec![action("A1", "SO-1", t(0))]);
    assert_eq!(
        store.commit_plan(first.clone()).await.unwrap(),
        CommitOutcome::Committed
    );
    let mut replay = first;
    replay.actions.push(action("A2", "SO-1", t(0)));
    assert_eq!(
        store.commit_plan(replay).await.unwrap(),
        CommitOutcome::Duplicate
    );
    assert_eq!(store.actions().await.unwrap().len(), 1);
    assert_eq!(store.state_log().await.unwrap().len(), 1);
    assert!(store.event_seen("e1").await.unwrap());
    assert!(!store.event_seen("e2").await.unwrap());
}

#[tokio::test]
async fn a_blocked_event_is_recorded_but_can_be_planned_again() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut blocked = commit("e1", vec![]);
    blocked.mark_seen = false;
    assert_eq!(
        store.commit_plan(blocked).await.unwrap(),
        CommitOutcome::Committed
    );
    assert!(!store.event_seen("e1").await.unwrap());
    let done = commit("e1", vec![action("A1", "SO-1", t(0))]);
    assert_eq!(
        store.commit_plan(done.clone()).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store.commit_plan(done).await.unwrap(),
        CommitOutcome::Duplicate
    );
    assert_eq!(store.state_log().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_action_key_planned_twice_is_enqueued_once() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .commit_plan(commit("e1", vec![action("A1", "SO-1", t(0))]))
        .await
        .unwrap();
    store
        .commit_plan(commit("e2", vec![action("A1", "SO-1", t(0))]))
        .await
        .unwrap();
    assert_eq!(store.actions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn actions_of_one_document_run_in_order_and_documents_in_parallel() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .commit_plan(commit(
            "e1",
            vec![
                action("A1", "SO-1", t(0)),
                action("A2", "SO-1", t(0)),
                action("B1", "SO-2", t(0)),
            ],
        ))
        .await
        .unwrap();
    let due: Vec<String> = store
        .due_actions(t(1), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action.key)
        .collect();
    assert_eq!(due, ["A1", "B1"]);

    // A1 fails and waits for a retry: A2 must not overtake it, B1 is unaffected.
    store
        .fail_action("A1", "HTTP 503", false, Some(t(60)), t(1))
        .await
        .unwrap();
    let due: Vec<String> = store
        .due_actions(t(2), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action.key)
        .collect();
    assert_eq!(due, ["B1"]);

    store
        .complete_action("B1", Some("77".into()), t(3))
        .await
        .unwrap();
    let due: Vec<String> = store
        .due_actions(t(61), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action.key)
        .collect();
    assert_eq!(due, ["A1"]);

    store
        .complete_action("A1", Some("78".into()), t(62))
        .await
        .unwrap();
    let due = store.due_actions(t(63), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].action.key, "A2");
    let a1 = store.action("A1").await.unwrap().unwrap();
    assert_eq!(a1.status, ActionStatus::Done);
    assert_eq!(a1.attempts, 2);
    assert_eq!(a1.result_id.as_deref(), Some("78"));
}

#[tokio::test]
async fn batched_actions_wait_for_their_time_and_ambiguous_ones_stay_due() {
    let store = SqliteStore::open_in_memory().unwrap();
    let later = t(0) + SignedDuration::from_mins(15);
    store
        .commit_plan(commit("e1", vec![action("ADJ", "LOC-1", later)]))
        .await
        .unwrap();
    assert!(store.due_actions(t(1), 10).await.unwrap().is_empty());
    assert_eq!(store.due_actions(later, 10).await.unwrap().len(), 1);

    store
        .fail_action("ADJ", "connection reset", true, Some(later), later)
        .await
        .unwrap();
    let due = store.due_actions(later, 10).await.unwrap();
    assert_eq!(due[0].status, ActionStatus::Ambiguous);
    assert_eq!(due[0].last_error.as_deref(), Some("connection reset"));

    store
        .fail_action("ADJ", "400 INVALID_FLD_VALUE", false, None, later)
        .await
        .unwrap();
    assert!(store.due_actions(later, 10).await.unwrap().is_empty());
    assert_eq!(
        store.action("ADJ").await.unwrap().unwrap().status,
        ActionStatus::Failed
    );
}

#[tokio::test]
async fn exceptions_are_kept_once_resolved_and_reopened() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut c = commit("e1", vec![]);
    c.exceptions.push(exception("EX-1"));
    store.commit_plan(c).await.unwrap();
    store
        .raise_exception(exception("EX-1"), t(5))
        .await
        .unwrap();
    let all = store.exceptions().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].raised_at, t(0));
    assert_eq!(all[0].exception.payload, json!({"sku": "X"}));

    store
        .resolve_exception("EX-1", "item created", t(10))
        .await
        .unwrap();
    let all = store.exceptions().await.unwrap();
    assert_eq!(all[0].resolved_at, Some(t(10)));
    assert_eq!(all[0].resolution_note.as_deref(), Some("item created"));
    assert!(store.open_exceptions().await.unwrap().is_empty());

    store
        .raise_exception(exception("EX-1"), t(20))
        .await
        .unwrap();
    let all = store.exceptions().await.unwrap();
    assert_eq!(all[0].resolved_at, None);
    assert_eq!(all[0].raised_at, t(20));
    let open = store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].exception.key, "EX-1");

    assert!(store.resolve_exception("nope", "x", t(30)).await.is_err());
}

#[tokio::test]
async fn state_survives_a_restart_from_the_file() {
    let dir = std::env::temp_dir().join(format!("sync-engine-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&path);
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .commit_plan(commit("e1", vec![action("A1", "SO-1", t(0))]))
            .await
            .unwrap();
        store
            .set_watermark("netsuite.salesOrder", "2026-11-01T00:00:00Z")
            .await
            .unwrap();
        let id = store
            .record_delivery(NewDelivery {
                source: "clarus-webhook".into(),
                received_at: t(0),
                headers: json!({"x-clarus-wms-automation-id": "9"}),
                body: b"{\"data\":{}}".to_vec(),
            })
            .await
            .unwrap();
        assert_eq!(
            store.unprocessed_deliveries(t(0), 10).await.unwrap()[0].id,
            id
        );
    }
    let store = SqliteStore::open(&path).unwrap();
    assert!(store.event_seen("e1").await.unwrap());
    assert_eq!(
        store.state_log().await.unwrap(),
        vec![json!({"change": "e1"})]
    );
    assert_eq!(
        store
            .watermark("netsuite.salesOrder")
            .await
            .unwrap()
            .as_deref(),
        Some("2026-11-01T00:00:00Z")
    );
    let pending = store.unprocessed_deliveries(t(0), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].delivery.body, b"{\"data\":{}}");
    store
        .mark_delivery_processed(pending[0].id, None, t(0))
        .await
        .unwrap();
    assert!(
        store
            .unprocessed_deliveries(t(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The store holds business data and webhook bodies: its file, WAL and shared-memory file are
/// readable by their owner only, whatever the umask.
#[cfg(unix)]
#[tokio::test]
async fn the_store_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;

    let dir = std::env::temp_dir().join(format!("sync-engine-store-mode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let mode = |suffix: &str| {
        let file = dir.join(format!("state.sqlite{suffix}"));
        std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let store = SqliteStore::open(&path).unwrap();
    store
        .record_delivery(NewDelivery {
            source: "clarus-webhook".into(),
            received_at: t(0),
            headers: json!({}),
            body: b"{\"data\":{}}".to_vec(),
        })
        .await
        .unwrap();
    // While the store is open in WAL mode, SQLite keeps the -wal and -shm files next to it.
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(suffix), 0o600, "state.sqlite{suffix}");
    }
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}
