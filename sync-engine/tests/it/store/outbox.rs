//! The outbox: actions of one document run in order, documents in parallel; attempts, failures,
//! ambiguity and retries.

use std::sync::Arc;

use jiff::SignedDuration;
use sync_engine::store::{ActionFilter, ActionStatus, NewAction, Store, StoreError};

use crate::support::store::{action, commit, keys, t};

conformance!(
    actions_of_one_document_run_in_order_and_documents_in_parallel,
    batched_actions_wait_for_their_time_and_ambiguous_ones_stay_due,
    a_begun_attempt_is_ambiguous_until_it_ends,
    a_failed_action_is_retried_on_request_only,
    due_actions_respect_the_limit_oldest_document_first,
    unfinished_actions_are_read_by_filter_in_pages,
);

/// The actions `(key, document)`, all due at once.
fn due_now(actions: &[(&str, &str)]) -> Vec<NewAction> {
    actions.iter().map(|(k, d)| action(k, d, t(0))).collect()
}

async fn actions_of_one_document_run_in_order_and_documents_in_parallel(store: Arc<dyn Store>) {
    store
        .commit_plan(commit(
            "e1",
            due_now(&[("A1", "SO-1"), ("A2", "SO-1"), ("B1", "SO-2")]),
        ))
        .await
        .unwrap();
    assert_eq!(
        keys(&store.due_actions(t(1), 10).await.unwrap()),
        ["A1", "B1"]
    );

    // A1 fails and waits for a retry: A2 must not overtake it, B1 is unaffected.
    store
        .fail_action("A1", "HTTP 503", false, Some(t(60)), t(1))
        .await
        .unwrap();
    assert_eq!(keys(&store.due_actions(t(2), 10).await.unwrap()), ["B1"]);

    store
        .complete_action("B1", Some("77".into()), t(3))
        .await
        .unwrap();
    assert_eq!(keys(&store.due_actions(t(61), 10).await.unwrap()), ["A1"]);

    store
        .complete_action("A1", Some("78".into()), t(62))
        .await
        .unwrap();
    let due = store.due_actions(t(63), 10).await.unwrap();
    assert_eq!(keys(&due), ["A2"]);
    assert_eq!(due[0].action.payload, serde_json::json!({"key": "A2"}));
    let a1 = store.action("A1").await.unwrap().unwrap();
    assert_eq!(a1.status, ActionStatus::Done);
    assert_eq!(a1.attempts, 2);
    assert_eq!(a1.result_id.as_deref(), Some("78"));
    assert_eq!(a1.last_error, None);
    // Sequence numbers follow the order of enqueueing.
    let all = store.actions().await.unwrap();
    assert_eq!(keys(&all), ["A1", "A2", "B1"]);
    assert!(all[0].seq < all[1].seq && all[1].seq < all[2].seq);
}

async fn batched_actions_wait_for_their_time_and_ambiguous_ones_stay_due(store: Arc<dyn Store>) {
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
    assert_eq!(due[0].action.not_before, later);

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

async fn a_begun_attempt_is_ambiguous_until_it_ends(store: Arc<dyn Store>) {
    store
        .commit_plan(commit("e1", vec![action("A1", "SO-1", t(0))]))
        .await
        .unwrap();
    store.begin_attempt("A1").await.unwrap();
    // A crash now leaves it ambiguous, and still due: it is looked up before it is sent again.
    let due = store.due_actions(t(1), 10).await.unwrap();
    assert_eq!(keys(&due), ["A1"]);
    assert_eq!(due[0].status, ActionStatus::Ambiguous);
    assert_eq!(due[0].attempts, 0);
    store.complete_action("A1", None, t(2)).await.unwrap();
    let a1 = store.action("A1").await.unwrap().unwrap();
    assert_eq!(
        (a1.status, a1.attempts, a1.result_id),
        (ActionStatus::Done, 1, None)
    );
    // Beginning an attempt on a done action changes nothing.
    store.begin_attempt("A1").await.unwrap();
    assert_eq!(
        store.action("A1").await.unwrap().unwrap().status,
        ActionStatus::Done
    );
    let record = &store.action_records().await.unwrap()[0];
    assert_eq!(
        (record.status, record.updated_at),
        (ActionStatus::Done, t(2))
    );

    // Unknown actions.
    assert!(store.action("nope").await.unwrap().is_none());
    assert!(matches!(
        store.complete_action("nope", None, t(3)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.fail_action("nope", "x", false, None, t(3)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(!store.retry_action("nope", t(3)).await.unwrap());
}

async fn a_failed_action_is_retried_on_request_only(store: Arc<dyn Store>) {
    store
        .commit_plan(commit(
            "e1",
            vec![action("A1", "SO-1", t(0)), action("B1", "SO-2", t(0))],
        ))
        .await
        .unwrap();
    store
        .fail_action("A1", "HTTP 503", false, Some(t(10)), t(1))
        .await
        .unwrap();
    store
        .fail_action("A1", "400 INVALID_FLD_VALUE", false, None, t(11))
        .await
        .unwrap();
    let a1 = store.action("A1").await.unwrap().unwrap();
    assert_eq!(a1.status, ActionStatus::Failed);
    assert_eq!(a1.attempts, 2);
    assert_eq!(a1.last_error.as_deref(), Some("400 INVALID_FLD_VALUE"));
    assert_eq!(keys(&store.due_actions(t(100), 10).await.unwrap()), ["B1"]);

    let mut counts: Vec<(String, String, u64)> = store
        .action_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, format!("{:?}", c.status), c.count))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("fulfil_sales_order".into(), "Failed".into(), 1),
            ("fulfil_sales_order".into(), "Pending".into(), 1)
        ]
    );

    // Only a failed action goes back, due at the time of the request, its attempts reset.
    assert!(!store.retry_action("B1", t(20)).await.unwrap());
    assert!(store.retry_action("A1", t(200)).await.unwrap());
    assert!(!store.retry_action("A1", t(200)).await.unwrap());
    let a1 = store.action("A1").await.unwrap().unwrap();
    assert_eq!((a1.status, a1.attempts), (ActionStatus::Pending, 0));
    assert_eq!(keys(&store.due_actions(t(199), 10).await.unwrap()), ["B1"]);
    assert_eq!(
        keys(&store.due_actions(t(200), 10).await.unwrap()),
        ["A1", "B1"]
    );
}

async fn due_actions_respect_the_limit_oldest_document_first(store: Arc<dyn Store>) {
    let actions = (0..5)
        .map(|i| action(&format!("A{i}"), &format!("SO-{i}"), t(0)))
        .collect();
    store.commit_plan(commit("e1", actions)).await.unwrap();
    assert_eq!(
        keys(&store.due_actions(t(0), 3).await.unwrap()),
        ["A0", "A1", "A2"]
    );
    assert_eq!(store.due_actions(t(0), 10).await.unwrap().len(), 5);
    assert!(store.due_actions(t(-1), 10).await.unwrap().is_empty());
}

async fn unfinished_actions_are_read_by_filter_in_pages(store: Arc<dyn Store>) {
    let adjustment = |key: &str| NewAction {
        kind: "post_inventory_adjustment".into(),
        ..action(key, "LOC-1", t(0))
    };
    store
        .commit_plan(commit(
            "e1",
            vec![
                action("A1", "SO-1", t(0)),
                action("A2", "SO-1", t(0)),
                adjustment("J1"),
                action("B1", "SO-2", t(0)),
                action("C1", "SO-3", t(0)),
                adjustment("J2"),
            ],
        ))
        .await
        .unwrap();
    // A1 done, B1 ambiguous, C1 failed: A2, J1, B1 and J2 are unfinished.
    store
        .complete_action("A1", Some("1".into()), t(1))
        .await
        .unwrap();
    store.begin_attempt("B1").await.unwrap();
    store
        .fail_action("C1", "400", false, None, t(1))
        .await
        .unwrap();

    let unfinished = ActionFilter::unfinished();
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = store.actions_page(&unfinished, after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        assert!(page.windows(2).all(|w| w[0].seq < w[1].seq));
        after = last.seq;
        pages.push(keys(&page));
    }
    assert_eq!(pages, [vec!["A2", "J1", "B1"], vec!["J2"]]);
    let b1 = store.actions_page(&unfinished, 0, 10).await.unwrap();
    let b1 = b1.iter().find(|a| a.action.key == "B1").unwrap();
    assert_eq!(b1.status, ActionStatus::Ambiguous);
    assert_eq!(b1.action.payload, serde_json::json!({"key": "B1"}));

    // By kind, and by kind and status.
    let adjustments = ActionFilter {
        kinds: vec!["post_inventory_adjustment".into()],
        ..ActionFilter::default()
    };
    assert_eq!(
        keys(&store.actions_page(&adjustments, 0, 10).await.unwrap()),
        ["J1", "J2"]
    );
    let failed = ActionFilter {
        statuses: vec![ActionStatus::Failed, ActionStatus::Done],
        kinds: vec!["fulfil_sales_order".into()],
    };
    assert_eq!(
        keys(&store.actions_page(&failed, 0, 10).await.unwrap()),
        ["A1", "C1"]
    );
    // No filter: every action in outbox order.
    assert_eq!(
        keys(
            &store
                .actions_page(&ActionFilter::default(), 0, 10)
                .await
                .unwrap()
        ),
        keys(&store.actions().await.unwrap())
    );
}
