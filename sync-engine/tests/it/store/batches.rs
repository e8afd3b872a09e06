//! Batches: actions waiting for a batch stay out of the outbox's lanes, are put in a batch
//! whole or not at all, and share its outcome.

use std::sync::Arc;

use serde_json::json;
use sync_engine::store::{ActionStatus, NewAction, NewBatch, Store, StoreError, WAITING_FOR_BATCH};

use crate::support::store::{action, commit, exception, keys, t};

const KIND: &str = "post_inventory_adjustment";

conformance!(
    waiting_actions_are_batched_posted_and_completed_together,
    a_batch_with_a_member_not_waiting_is_refused_whole,
    a_failed_batch_fails_its_members_and_is_retried_with_them,
    waiting_actions_are_released_to_the_outbox,
    a_waiting_action_reads_back_as_waiting,
);

fn waiting(key: &str, document: &str) -> NewAction {
    NewAction {
        kind: KIND.into(),
        ..action(key, document, WAITING_FOR_BATCH)
    }
}

fn batch(key: &str, members: &[&str]) -> NewBatch {
    NewBatch {
        key: key.into(),
        kind: KIND.into(),
        grouping: "LOC-1/5000/2027-01-15".into(),
        members: members.iter().map(|m| (*m).into()).collect(),
    }
}

/// `W1`, `W2` (document `LOC-1`) and `W3` (`LOC-2`) wait for a batch; `A1` (`LOC-1`) is due now.
async fn plan_waiting_actions(store: &Arc<dyn Store>) {
    store
        .commit_plan(commit(
            "e1",
            vec![
                waiting("W1", "LOC-1"),
                waiting("W2", "LOC-1"),
                waiting("W3", "LOC-2"),
                action("A1", "LOC-1", t(0)),
            ],
        ))
        .await
        .unwrap();
}

async fn waiting_actions_are_batched_posted_and_completed_together(store: Arc<dyn Store>) {
    plan_waiting_actions(&store).await;
    // Waiting actions hold up nothing behind them in their document.
    assert_eq!(keys(&store.due_actions(t(1), 10).await.unwrap()), ["A1"]);
    assert_eq!(
        keys(&store.waiting_for_batch(KIND, 10).await.unwrap()),
        ["W1", "W2", "W3"]
    );
    assert_eq!(
        keys(&store.waiting_for_batch(KIND, 2).await.unwrap()),
        ["W1", "W2"]
    );
    assert!(
        store
            .waiting_for_batch("fulfil_sales_order", 10)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .create_batch(batch("B1", &["W1", "W2"]), t(10))
        .await
        .unwrap();
    assert_eq!(
        keys(&store.waiting_for_batch(KIND, 10).await.unwrap()),
        ["W3"]
    );
    let open = store.open_batches(KIND).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].batch, batch("B1", &["W1", "W2"]));
    assert_eq!(open[0].status, ActionStatus::Pending);
    assert_eq!(open[0].attempts, 0);
    assert_eq!(open[0].created_at, t(10));
    assert_eq!(open[0].next_attempt_at, t(10));
    assert!(store.open_batches("other").await.unwrap().is_empty());

    let members = store.batch_members("B1").await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| m.action.action.key.as_str())
            .collect::<Vec<_>>(),
        ["W1", "W2"]
    );
    assert!(members.iter().all(|m| m.event_key == "e1"));
    assert_eq!(members[0].event, Some(json!({"event": "e1"})));
    assert!(store.batch_members("nope").await.unwrap().is_empty());

    store.begin_batch_attempt("B1", t(11)).await.unwrap();
    assert_eq!(
        store.batch("B1").await.unwrap().unwrap().status,
        ActionStatus::Ambiguous
    );
    store
        .complete_batch("B1", Some("900".into()), t(12))
        .await
        .unwrap();
    let done = store.batch("B1").await.unwrap().unwrap();
    assert_eq!(done.status, ActionStatus::Done);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.result_id.as_deref(), Some("900"));
    assert!(store.open_batches(KIND).await.unwrap().is_empty());
    for key in ["W1", "W2"] {
        let member = store.action(key).await.unwrap().unwrap();
        assert_eq!(member.status, ActionStatus::Done, "{key}");
        assert_eq!(member.result_id.as_deref(), Some("900"), "{key}");
        assert_eq!(member.attempts, 1, "{key}");
    }
    assert_eq!(
        store.action("W3").await.unwrap().unwrap().status,
        ActionStatus::Pending
    );

    // A second batch; every batch, oldest first.
    store
        .create_batch(batch("B2", &["W3"]), t(20))
        .await
        .unwrap();
    let all: Vec<String> = store
        .batches()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.batch.key)
        .collect();
    assert_eq!(all, ["B1", "B2"]);
    assert!(store.batch("nope").await.unwrap().is_none());
    // A done batch cannot be attempted again.
    assert!(store.begin_batch_attempt("B1", t(21)).await.is_err());
}

async fn a_batch_with_a_member_not_waiting_is_refused_whole(store: Arc<dyn Store>) {
    plan_waiting_actions(&store).await;
    // A1 is not waiting for a batch: nothing of the batch is written.
    let err = store
        .create_batch(batch("B1", &["W1", "A1"]), t(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::BatchConflict { batch, action } if batch == "B1" && action == "A1"),
        "{err:?}"
    );
    assert!(err.is_conflict());
    assert!(store.batch("B1").await.unwrap().is_none());
    assert_eq!(
        keys(&store.waiting_for_batch(KIND, 10).await.unwrap()),
        ["W1", "W2", "W3"]
    );

    // Nor can an action already in a batch join another; nor an unknown one.
    store
        .create_batch(batch("B1", &["W1"]), t(11))
        .await
        .unwrap();
    let err = store
        .create_batch(batch("B2", &["W2", "W1"]), t(12))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::BatchConflict { action, .. } if action == "W1"),
        "{err:?}"
    );
    assert!(
        store
            .create_batch(batch("B3", &["nope"]), t(12))
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(store.batch("B2").await.unwrap().is_none());
    assert_eq!(
        store.batch("B1").await.unwrap().unwrap().batch.members,
        ["W1"]
    );
    assert_eq!(
        keys(&store.waiting_for_batch(KIND, 10).await.unwrap()),
        ["W2", "W3"]
    );
}

async fn a_failed_batch_fails_its_members_and_is_retried_with_them(store: Arc<dyn Store>) {
    plan_waiting_actions(&store).await;
    store
        .create_batch(batch("B1", &["W1", "W2"]), t(10))
        .await
        .unwrap();

    // A transient failure: retried later, the members untouched.
    store
        .fail_batch("B1", "HTTP 503", false, Some(t(70)), None, t(11))
        .await
        .unwrap();
    let b1 = store.batch("B1").await.unwrap().unwrap();
    assert_eq!(b1.status, ActionStatus::Pending);
    assert_eq!(b1.attempts, 1);
    assert_eq!(b1.next_attempt_at, t(70));
    assert_eq!(b1.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(
        store.action("W1").await.unwrap().unwrap().status,
        ActionStatus::Pending
    );
    // An ambiguous one stays open as ambiguous.
    store
        .fail_batch("B1", "connection reset", true, Some(t(80)), None, t(71))
        .await
        .unwrap();
    let b1 = store.batch("B1").await.unwrap().unwrap();
    assert_eq!((b1.status, b1.attempts), (ActionStatus::Ambiguous, 2));
    assert_eq!(store.open_batches(KIND).await.unwrap().len(), 1);

    // Given up: the members fail and the exception is raised with them.
    let mut ex = exception("EX-B1");
    ex.document = "B1".into();
    store
        .fail_batch("B1", "400 INVALID_FLD_VALUE", false, None, Some(ex), t(81))
        .await
        .unwrap();
    let b1 = store.batch("B1").await.unwrap().unwrap();
    assert_eq!((b1.status, b1.attempts), (ActionStatus::Failed, 3));
    assert!(store.open_batches(KIND).await.unwrap().is_empty());
    for key in ["W1", "W2"] {
        let member = store.action(key).await.unwrap().unwrap();
        assert_eq!(member.status, ActionStatus::Failed, "{key}");
        assert!(member.last_error.is_some(), "{key}");
    }
    let raised = store.exception("EX-B1").await.unwrap().unwrap();
    assert_eq!(raised.raised_at, t(81));
    assert_eq!(raised.exception.document, "B1");

    // Retried on request: the batch and its members back, due at the request's time.
    assert!(store.retry_batch("B1", t(100)).await.unwrap());
    assert!(!store.retry_batch("B1", t(100)).await.unwrap());
    assert!(!store.retry_batch("nope", t(100)).await.unwrap());
    let b1 = store.batch("B1").await.unwrap().unwrap();
    assert_eq!((b1.status, b1.attempts), (ActionStatus::Pending, 0));
    assert_eq!(b1.next_attempt_at, t(100));
    assert_eq!(b1.batch.members, ["W1", "W2"]);
    for key in ["W1", "W2"] {
        let member = store.action(key).await.unwrap().unwrap();
        assert_eq!((member.status, member.attempts), (ActionStatus::Pending, 0));
    }
    // Still in their batch: not waiting for another, not in the outbox's lanes.
    assert_eq!(
        keys(&store.waiting_for_batch(KIND, 10).await.unwrap()),
        ["W3"]
    );
    assert_eq!(keys(&store.due_actions(t(100), 10).await.unwrap()), ["A1"]);

    assert!(
        store
            .fail_batch("nope", "x", false, None, None, t(101))
            .await
            .is_err()
    );
    assert!(store.complete_batch("nope", None, t(101)).await.is_err());
}

async fn waiting_actions_are_released_to_the_outbox(store: Arc<dyn Store>) {
    plan_waiting_actions(&store).await;
    store
        .create_batch(batch("B1", &["W1"]), t(10))
        .await
        .unwrap();
    // W2 and W3 go back to the outbox; W1 stays in its batch.
    assert_eq!(store.release_waiting(KIND, t(20)).await.unwrap(), 2);
    assert_eq!(store.release_waiting(KIND, t(20)).await.unwrap(), 0);
    assert!(store.waiting_for_batch(KIND, 10).await.unwrap().is_empty());
    // W2 is due at the release's time, and A1 (planned after it) waits behind it again.
    assert!(store.due_actions(t(19), 10).await.unwrap().is_empty());
    assert_eq!(
        keys(&store.due_actions(t(20), 10).await.unwrap()),
        ["W2", "W3"]
    );
    let w2 = store.action("W2").await.unwrap().unwrap();
    assert_eq!(w2.action.not_before, t(20));
    assert_eq!(
        store.batch("B1").await.unwrap().unwrap().batch.members,
        ["W1"]
    );
}

/// `not_before` of a waiting action reads back as [`WAITING_FOR_BATCH`] wherever an action is
/// read (not as some other instant the backend could store): the batcher and the reports tell a
/// waiting action by it.
async fn a_waiting_action_reads_back_as_waiting(store: Arc<dyn Store>) {
    plan_waiting_actions(&store).await;
    let w1 = store.action("W1").await.unwrap().unwrap();
    assert_eq!(w1.action.not_before, WAITING_FOR_BATCH);
    let waiting = store.waiting_for_batch(KIND, 10).await.unwrap();
    assert!(
        waiting
            .iter()
            .all(|a| a.action.not_before == WAITING_FOR_BATCH),
        "{waiting:?}"
    );
    // Nor does the outbox find it due at the end of time.
    assert_eq!(
        keys(&store.due_actions(WAITING_FOR_BATCH, 10).await.unwrap()),
        ["A1"]
    );
    store
        .create_batch(batch("B1", &["W1", "W2"]), t(10))
        .await
        .unwrap();
    let members = store.batch_members("B1").await.unwrap();
    assert_eq!(members.len(), 2);
    assert!(
        members
            .iter()
            .all(|m| m.action.action.not_before == WAITING_FOR_BATCH),
        "{members:?}"
    );
}
