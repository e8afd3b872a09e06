//! The ledger: an event is planned once, a blocked event can be planned again, a plan's actions
//! and exceptions are written with it, and concurrent commits of one event commit it once.
//! Snapshots, the retention of the state log and of events, and the lifecycle documents stuck
//! detection reads.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use sync_engine::store::{CommitOutcome, PlanCommit, StateSnapshot, Store, WatchedDocument};

use crate::support::store::{action, commit, exception, t};

conformance!(
    a_replayed_event_commits_nothing,
    a_blocked_event_is_recorded_but_can_be_planned_again,
    an_action_key_planned_twice_is_enqueued_once,
    a_plan_raises_and_resolves_exceptions_and_records_its_event,
    concurrent_commits_of_one_event_commit_it_once,
    snapshots_read_back_the_newest_and_replace_one_at_the_same_position,
    the_state_log_is_pruned_from_the_oldest_only_where_a_snapshot_covers_it,
    events_are_pruned_only_when_old_and_their_document_finished_or_none,
    unfinished_documents_come_in_key_order_by_page_and_a_commit_reopens_one,
    a_documents_events_and_actions_are_read_by_owner_part_and_event,
    owners_of_events_can_be_set_and_register_their_documents,
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

/// Event `event_key` of lifecycle document `owner` (none: an item's), planned at `at`.
fn owned(event_key: &str, owner: Option<&str>, at: Timestamp) -> PlanCommit {
    let mut c = commit(event_key, vec![]);
    c.owner = owner.map(str::to_owned);
    c.planned_at = at;
    c
}

fn snapshot(head: i64, state: &str) -> StateSnapshot {
    StateSnapshot {
        head,
        format: 1,
        taken_at: t(head),
        state: state.into(),
    }
}

async fn snapshots_read_back_the_newest_and_replace_one_at_the_same_position(
    store: Arc<dyn Store>,
) {
    assert_eq!(store.latest_snapshot().await.unwrap(), None);
    assert_eq!(store.snapshot_head().await.unwrap(), None);
    for head in [3, 1, 7] {
        store
            .save_snapshot(snapshot(head, &format!("{{\"at\":{head}}}")))
            .await
            .unwrap();
    }
    assert_eq!(
        store.latest_snapshot().await.unwrap(),
        Some(snapshot(7, "{\"at\":7}"))
    );
    assert_eq!(store.snapshot_head().await.unwrap(), Some(7));
    let mut again = snapshot(7, "{\"at\":\"again\"}");
    again.format = 2;
    store.save_snapshot(again.clone()).await.unwrap();
    assert_eq!(store.latest_snapshot().await.unwrap(), Some(again));
}

async fn the_state_log_is_pruned_from_the_oldest_only_where_a_snapshot_covers_it(
    store: Arc<dyn Store>,
) {
    // e1 and e2 on day 0, e3 on day 10, e4 on day 0 again (another instance's clock).
    for (key, day) in [("e1", 0), ("e2", 0), ("e3", 10), ("e4", 0)] {
        store
            .commit_plan(owned(key, None, t(day * 86_400)))
            .await
            .unwrap();
    }
    let log = store.state_log_since(0, 10).await.unwrap();
    let seq: Vec<i64> = log.iter().map(|(s, _)| *s).collect();
    assert_eq!(store.state_log_horizon().await.unwrap(), 0);
    // Without a snapshot nothing goes, however old.
    assert_eq!(store.prune_state_log(t(100 * 86_400), 10).await.unwrap(), 0);

    // A snapshot covering e1..e3: before day 5, e1 and e2 go, one at a time with a limit of 1.
    store.save_snapshot(snapshot(seq[2], "{}")).await.unwrap();
    assert_eq!(store.prune_state_log(t(5 * 86_400), 1).await.unwrap(), 1);
    assert_eq!(store.state_log_horizon().await.unwrap(), seq[0]);
    assert_eq!(store.prune_state_log(t(5 * 86_400), 10).await.unwrap(), 1);
    assert_eq!(store.state_log_horizon().await.unwrap(), seq[1]);
    // e3 is too recent: nothing after it goes either (only a prefix is pruned).
    assert_eq!(store.prune_state_log(t(5 * 86_400), 10).await.unwrap(), 0);
    assert_eq!(
        store.state_log_since(0, 10).await.unwrap(),
        log[2..].to_vec()
    );
    // Later, e3 goes; e4 is old but not covered by the snapshot.
    assert_eq!(store.prune_state_log(t(100 * 86_400), 10).await.unwrap(), 1);
    assert_eq!(store.state_log_horizon().await.unwrap(), seq[2]);
    assert_eq!(
        store.state_log_since(0, 10).await.unwrap(),
        log[3..].to_vec()
    );
    assert_eq!(store.ledger_head().await.unwrap(), seq[3]);

    // With a snapshot at the head, everything goes; the head stays where it was and the next
    // change comes after it.
    store.save_snapshot(snapshot(seq[3], "{}")).await.unwrap();
    assert_eq!(store.prune_state_log(t(100 * 86_400), 10).await.unwrap(), 1);
    assert!(store.state_log_since(0, 10).await.unwrap().is_empty());
    assert_eq!(store.ledger_head().await.unwrap(), seq[3]);
    store
        .commit_plan(owned("e5", None, t(100 * 86_400)))
        .await
        .unwrap();
    let next = store.state_log_since(seq[3], 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].0 > seq[3]);
}

async fn events_are_pruned_only_when_old_and_their_document_finished_or_none(
    store: Arc<dyn Store>,
) {
    store
        .commit_plan(owned("e1", Some("SO-1"), t(0)))
        .await
        .unwrap();
    store.commit_plan(owned("e2", None, t(0))).await.unwrap();
    store
        .commit_plan(owned("e3", Some("SO-2"), t(0)))
        .await
        .unwrap();
    store.commit_plan(owned("e4", None, t(100))).await.unwrap();
    // Only the old event outside any lifecycle goes.
    assert_eq!(store.prune_events(t(50), 10).await.unwrap(), 1);
    let keys = |events: Vec<sync_engine::store::RecordedEvent>| -> Vec<String> {
        events.into_iter().map(|e| e.event_key).collect()
    };
    assert_eq!(
        keys(store.recorded_events().await.unwrap()),
        ["e1", "e3", "e4"]
    );
    // SO-1 finished: its event goes, and the document with it.
    let docs = store.unfinished_documents(t(50), "", 10).await.unwrap();
    let so1: Vec<WatchedDocument> = docs.into_iter().filter(|d| d.key == "SO-1").collect();
    assert_eq!(store.finish_documents(&so1, t(60)).await.unwrap(), 1);
    assert_eq!(store.prune_events(t(50), 10).await.unwrap(), 1);
    assert_eq!(keys(store.recorded_events().await.unwrap()), ["e3", "e4"]);
    assert!(store.event_seen("e3").await.unwrap());
    assert!(!store.event_seen("e1").await.unwrap());
    // A pruned event's redelivery is recognised by the planner's state, not the ledger: the
    // store takes it as new and its document is watched again.
    store
        .commit_plan(owned("e1", Some("SO-1"), t(200)))
        .await
        .unwrap();
    let keys_now: Vec<String> = store
        .unfinished_documents(t(300), "", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(keys_now, ["SO-1", "SO-2"]);
}

async fn unfinished_documents_come_in_key_order_by_page_and_a_commit_reopens_one(
    store: Arc<dyn Store>,
) {
    for (key, owner) in [("e1", "SO-3"), ("e2", "SO-1"), ("e3", "SO-2")] {
        store
            .commit_plan(owned(key, Some(owner), t(0)))
            .await
            .unwrap();
    }
    let page = |after: &'static str, limit| {
        let store = Arc::clone(&store);
        async move {
            store
                .unfinished_documents(t(10), after, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.key)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page("", 2).await, ["SO-1", "SO-2"]);
    assert_eq!(page("SO-2", 2).await, ["SO-3"]);
    // First seen at t(0): not by t(-1).
    assert!(
        store
            .unfinished_documents(t(-1), "", 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A commit touching SO-1 between reading and finishing it keeps it unfinished.
    let read = store.unfinished_documents(t(10), "", 1).await.unwrap();
    store
        .commit_plan(owned("e4", Some("SO-1"), t(5)))
        .await
        .unwrap();
    assert_eq!(store.finish_documents(&read, t(20)).await.unwrap(), 0);
    let fresh = store.unfinished_documents(t(10), "", 1).await.unwrap();
    assert_ne!(fresh, read);
    assert_eq!(store.finish_documents(&fresh, t(20)).await.unwrap(), 1);
    assert_eq!(page("", 10).await, ["SO-2", "SO-3"]);
    // An action filed under a finished document reopens it, even from another event.
    let mut item = owned("e5", None, t(30));
    item.actions.push(action("A1", "SO-1", t(30)));
    store.commit_plan(item).await.unwrap();
    assert_eq!(page("", 10).await, ["SO-1", "SO-2", "SO-3"]);
}

async fn a_documents_events_and_actions_are_read_by_owner_part_and_event(store: Arc<dyn Store>) {
    let mut order = owned("e1", Some("SO-1"), t(0));
    order.actions.push(action("A1", "SO-1", t(0)));
    store.commit_plan(order).await.unwrap();
    let mut despatch = owned("e2", Some("SO-1"), t(10));
    despatch.actions.push(action("A2", "DESP-1", t(10)));
    despatch.actions.push(action("A3", "LANE-1", t(10)));
    store.commit_plan(despatch).await.unwrap();
    let mut other = owned("e3", Some("SO-2"), t(5));
    other.actions.push(action("A4", "SO-2", t(5)));
    store.commit_plan(other).await.unwrap();

    let events = store.document_events(&["SO-1".into()]).await.unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| (e.event_key.as_str(), e.planned_at))
            .collect::<Vec<_>>(),
        [("e1", t(0)), ("e2", t(10))]
    );
    let keys = |records: Vec<sync_engine::store::ActionRecord>| -> Vec<String> {
        records.into_iter().map(|a| a.key).collect()
    };
    assert_eq!(
        keys(
            store
                .document_actions(&["SO-1".into(), "DESP-1".into()], &[])
                .await
                .unwrap()
        ),
        ["A1", "A2"]
    );
    assert_eq!(
        keys(
            store
                .document_actions(&["SO-1".into()], &["e2".into()])
                .await
                .unwrap()
        ),
        ["A1", "A2", "A3"]
    );
    assert!(store.document_actions(&[], &[]).await.unwrap().is_empty());
    assert!(store.document_events(&[]).await.unwrap().is_empty());
}

async fn owners_of_events_can_be_set_and_register_their_documents(store: Arc<dyn Store>) {
    store.commit_plan(owned("e1", None, t(0))).await.unwrap();
    store.commit_plan(owned("e2", None, t(5))).await.unwrap();
    // Events committed now always carry their owner (none here).
    assert!(store.events_without_owner(10).await.unwrap().is_empty());
    assert!(
        store
            .unfinished_documents(t(100), "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .set_event_owners(&[
            ("e1".into(), Some("SO-9".into())),
            ("e2".into(), Some("SO-9".into())),
        ])
        .await
        .unwrap();
    let keys: Vec<String> = store
        .document_events(&["SO-9".into()])
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_key)
        .collect();
    assert_eq!(keys, ["e1", "e2"]);
    // First seen with its oldest event.
    let docs = store.unfinished_documents(t(1), "", 10).await.unwrap();
    assert_eq!(
        docs.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
        ["SO-9"]
    );
    store
        .set_event_owners(&[("e2".into(), None)])
        .await
        .unwrap();
    assert_eq!(
        store.document_events(&["SO-9".into()]).await.unwrap().len(),
        1
    );
}
