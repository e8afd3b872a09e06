//! The ledger: an event is planned once, a blocked event can be planned again, a plan's actions
//! and exceptions are written with it, and concurrent commits of one event commit it once.

use std::sync::Arc;

use serde_json::json;
use sync_engine::store::{CommitOutcome, Store};

use crate::support::{action, commit, exception, t};

conformance!(
    a_replayed_event_commits_nothing,
    a_blocked_event_is_recorded_but_can_be_planned_again,
    an_action_key_planned_twice_is_enqueued_once,
    a_plan_raises_and_resolves_exceptions_and_records_its_event,
    concurrent_commits_of_one_event_commit_it_once,
);

async fn a_replayed_event_commits_nothing(store: Arc<dyn Store>) {
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

async fn a_blocked_event_is_recorded_but_can_be_planned_again(store: Arc<dyn Store>) {
    let mut blocked = commit("e1", vec![]);
    blocked.mark_seen = false;
    assert_eq!(
        store.commit_plan(blocked).await.unwrap(),
        CommitOutcome::Committed
    );
    assert!(!store.event_seen("e1").await.unwrap());
    assert!(store.recorded_events().await.unwrap().is_empty());
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

async fn an_action_key_planned_twice_is_enqueued_once(store: Arc<dyn Store>) {
    store
        .commit_plan(commit("e1", vec![action("A1", "SO-1", t(0))]))
        .await
        .unwrap();
    store
        .commit_plan(commit("e2", vec![action("A1", "SO-1", t(0))]))
        .await
        .unwrap();
    let actions = store.actions().await.unwrap();
    assert_eq!(actions.len(), 1);
    // The action belongs to the event that planned it first.
    assert_eq!(store.action_records().await.unwrap()[0].event_key, "e1");
}

async fn a_plan_raises_and_resolves_exceptions_and_records_its_event(store: Arc<dyn Store>) {
    let mut first = commit("e1", vec![action("A1", "SO-1", t(0))]);
    first.exceptions.push(exception("EX-1"));
    first.changes.push(json!({"change": "e1", "n": 2}));
    store.commit_plan(first).await.unwrap();
    let open = store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].raised_at, t(0));

    let mut second = commit("e2", vec![]);
    second.document = "SO-2".into();
    second.planned_at = t(30);
    second.resolved_exceptions.push("EX-1".into());
    store.commit_plan(second).await.unwrap();
    assert!(store.open_exceptions().await.unwrap().is_empty());
    let ex = store.exception("EX-1").await.unwrap().unwrap();
    assert_eq!(ex.resolved_at, Some(t(30)));
    assert!(ex.resolution_note.is_some());
    let audit: Vec<String> = store
        .exception_audit("EX-1")
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.change)
        .collect();
    assert_eq!(audit, ["raised", "resolved"]);

    // Resolving an exception that does not exist (or no longer is open) is not an error.
    let mut third = commit("e3", vec![]);
    third.planned_at = t(40);
    third.resolved_exceptions = vec!["EX-1".into(), "nope".into()];
    assert_eq!(
        store.commit_plan(third).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(store.exception_audit("EX-1").await.unwrap().len(), 2);

    // The state log in commit order; the events in planning order, as recorded.
    assert_eq!(
        store.state_log().await.unwrap(),
        vec![
            json!({"change": "e1"}),
            json!({"change": "e1", "n": 2}),
            json!({"change": "e2"}),
            json!({"change": "e3"}),
        ]
    );
    let events = store.recorded_events().await.unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| (e.event_key.as_str(), e.document.as_str(), e.planned_at))
            .collect::<Vec<_>>(),
        [
            ("e1", "SO-1", t(0)),
            ("e2", "SO-2", t(30)),
            ("e3", "SO-1", t(40))
        ]
    );
    assert_eq!(events[1].event, json!({"event": "e2"}));
    let records = store.action_records().await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].created_at, t(0));
    assert_eq!(records[0].updated_at, t(0));
}

/// Several instances may deliver the same event at once: exactly one commit wins, the others
/// see a duplicate (or a conflict they can retry into one), and nothing is doubled.
async fn concurrent_commits_of_one_event_commit_it_once(store: Arc<dyn Store>) {
    let mut plan = commit(
        "e1",
        vec![action("A1", "SO-1", t(0)), action("A2", "SO-1", t(0))],
    );
    plan.exceptions.push(exception("EX-1"));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, plan) = (Arc::clone(&store), plan.clone());
            tokio::spawn(async move { store.commit_plan(plan).await })
        })
        .collect();
    let mut committed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(CommitOutcome::Committed) => committed += 1,
            Ok(CommitOutcome::Duplicate) => {}
            Ok(outcome @ CommitOutcome::Stale { .. }) => panic!("commit_plan returned {outcome:?}"),
            Err(e) => assert!(
                e.is_conflict() || e.is_transient(),
                "a concurrent commit failed with neither a conflict nor a transient error: {e}"
            ),
        }
    }
    assert_eq!(committed, 1, "exactly one concurrent commit wins");
    assert_eq!(
        store.commit_plan(plan).await.unwrap(),
        CommitOutcome::Duplicate
    );
    assert_eq!(store.actions().await.unwrap().len(), 2);
    assert_eq!(store.state_log().await.unwrap().len(), 1);
    assert_eq!(store.recorded_events().await.unwrap().len(), 1);
    assert_eq!(store.exception_audit("EX-1").await.unwrap().len(), 1);
}
