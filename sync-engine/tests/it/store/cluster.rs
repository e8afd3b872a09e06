//! Several instances on one database: leases, heartbeats, claims on deliveries and actions, and
//! plans committed on the ledger head they were made on. The races run two stores (two
//! connection pools, or two connections to one SQLite file) on the same data.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::SignedDuration;
use serde_json::json;
use sync_engine::store::{CommitOutcome, InstanceRecord, NewDelivery, Store};

use crate::support::store::{action, commit, keys, t};

conformance!(
    a_lease_is_taken_renewed_refused_and_released,
    an_expired_lease_is_taken_over,
    two_holders_never_both_hold_a_lease,
    heartbeats_show_the_live_instances,
    claimed_deliveries_go_to_one_holder_until_the_claim_expires,
    processing_or_deferring_a_delivery_ends_its_claim,
    claimed_actions_go_to_one_holder_until_the_claim_expires,
    a_lane_is_handed_out_head_first,
    the_ledger_head_and_the_state_log_since_a_position,
    a_commit_on_a_stale_head_writes_nothing,
    a_commit_on_the_head_is_a_plan_commit,
);

const TTL: SignedDuration = SignedDuration::from_secs(30);

async fn holder_of(store: &Arc<dyn Store>, name: &str, now: i64) -> Option<String> {
    store
        .leases(t(now))
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.name == name)
        .map(|l| l.holder)
}

async fn a_lease_is_taken_renewed_refused_and_released(store: Arc<dyn Store>) {
    assert!(store.leases(t(0)).await.unwrap().is_empty());
    assert!(store.try_lease("poller", "a", TTL, t(0)).await.unwrap());
    let leases = store.leases(t(1)).await.unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].name, "poller");
    assert_eq!(leases[0].holder, "a");
    assert_eq!(leases[0].acquired_at, t(0));
    assert_eq!(leases[0].expires_at, t(30));

    // Renewed by its holder (the acquisition time is kept), refused to another.
    assert!(store.try_lease("poller", "a", TTL, t(20)).await.unwrap());
    assert!(!store.try_lease("poller", "b", TTL, t(40)).await.unwrap());
    let lease = store.leases(t(40)).await.unwrap().remove(0);
    assert_eq!((lease.holder.as_str(), lease.acquired_at), ("a", t(0)));
    assert_eq!(lease.expires_at, t(50));

    // Leases are per name.
    assert!(store.try_lease("reconcile", "b", TTL, t(40)).await.unwrap());
    let names: Vec<_> = store
        .leases(t(41))
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.holder))
        .collect();
    assert_eq!(
        names,
        [
            ("poller".to_owned(), "a".to_owned()),
            ("reconcile".to_owned(), "b".to_owned())
        ]
    );

    // Only the holder releases; then another takes it at once.
    assert!(!store.release_lease("poller", "b").await.unwrap());
    assert_eq!(holder_of(&store, "poller", 42).await.as_deref(), Some("a"));
    assert!(store.release_lease("poller", "a").await.unwrap());
    assert!(!store.release_lease("poller", "a").await.unwrap());
    assert_eq!(holder_of(&store, "poller", 42).await, None);
    assert!(store.try_lease("poller", "b", TTL, t(42)).await.unwrap());
    assert_eq!(holder_of(&store, "poller", 43).await.as_deref(), Some("b"));
}

async fn an_expired_lease_is_taken_over(store: Arc<dyn Store>) {
    assert!(store.try_lease("poller", "a", TTL, t(0)).await.unwrap());
    // Just before it expires it is still a's; at its expiry it is free.
    assert!(!store.try_lease("poller", "b", TTL, t(29)).await.unwrap());
    assert_eq!(holder_of(&store, "poller", 29).await.as_deref(), Some("a"));
    assert_eq!(holder_of(&store, "poller", 30).await, None);
    assert!(store.try_lease("poller", "b", TTL, t(30)).await.unwrap());
    let lease = store.leases(t(31)).await.unwrap().remove(0);
    assert_eq!(lease.holder, "b");
    assert_eq!(lease.acquired_at, t(30));
    assert_eq!(lease.expires_at, t(60));
    // The previous holder cannot renew it any more, nor release it.
    assert!(!store.try_lease("poller", "a", TTL, t(31)).await.unwrap());
    assert!(!store.release_lease("poller", "a").await.unwrap());
    // A holder that lets its own lease lapse takes it again as a new acquisition.
    assert!(store.try_lease("poller", "b", TTL, t(100)).await.unwrap());
    let lease = store.leases(t(101)).await.unwrap().remove(0);
    assert_eq!((lease.acquired_at, lease.expires_at), (t(100), t(130)));
}

async fn two_holders_never_both_hold_a_lease(store: Arc<dyn Store>) {
    // Both try every 10 s with a 25 s lease; a renews only on even rounds. Whoever holds it,
    // the other is refused while it lasts.
    let ttl = SignedDuration::from_secs(25);
    for round in 0..20 {
        let now = t(round * 10);
        let a = if round % 4 < 2 {
            store.try_lease("job", "a", ttl, now).await.unwrap()
        } else {
            false
        };
        let b = store.try_lease("job", "b", ttl, now).await.unwrap();
        assert!(!(a && b), "round {round}: both hold the lease");
        let holder = holder_of(&store, "job", round * 10).await;
        assert!(holder.is_some(), "round {round}: nobody holds the lease");
        if a {
            assert_eq!(holder.as_deref(), Some("a"), "round {round}");
        }
        if b {
            assert_eq!(holder.as_deref(), Some("b"), "round {round}");
        }
    }
}

async fn heartbeats_show_the_live_instances(store: Arc<dyn Store>) {
    assert!(store.live_instances(t(0)).await.unwrap().is_empty());
    store.heartbeat("web-1", t(0), t(0)).await.unwrap();
    store.heartbeat("web-2", t(5), t(5)).await.unwrap();
    store.heartbeat("web-1", t(0), t(10)).await.unwrap();
    assert_eq!(
        store.live_instances(t(0)).await.unwrap(),
        [
            InstanceRecord {
                id: "web-1".into(),
                started_at: t(0),
                last_seen: t(10)
            },
            InstanceRecord {
                id: "web-2".into(),
                started_at: t(5),
                last_seen: t(5)
            },
        ]
    );
    // Seen since t(6): only web-1.
    let live = store.live_instances(t(6)).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, "web-1");
    // A restarted instance records its new start.
    store.heartbeat("web-2", t(20), t(20)).await.unwrap();
    let live = store.live_instances(t(20)).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].id.as_str(), live[0].started_at), ("web-2", t(20)));
    // Forgetting prunes those last seen before the cut-off.
    assert_eq!(store.forget_instances(t(15)).await.unwrap(), 1);
    assert_eq!(store.forget_instances(t(15)).await.unwrap(), 0);
    let all: Vec<_> = store
        .live_instances(t(0))
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(all, ["web-2"]);
}

fn delivery(n: i64) -> NewDelivery {
    NewDelivery {
        source: "clarus-webhook".into(),
        received_at: t(n),
        headers: json!({"n": n}),
        body: format!("{{\"n\":{n}}}").into_bytes(),
    }
}

async fn record(store: &Arc<dyn Store>, n: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(store.record_delivery(delivery(i)).await.unwrap());
    }
    ids
}

fn ids(list: &[sync_engine::store::Delivery]) -> Vec<i64> {
    list.iter().map(|d| d.id).collect()
}

/// The ids of the deliveries (at most 10) `by` claims at second `now` until second `to`.
async fn claimed_deliveries(s: &Arc<dyn Store>, now: i64, by: &str, to: i64) -> Vec<i64> {
    ids(&s.claim_deliveries(t(now), 10, by, t(to)).await.unwrap())
}

/// Commits event `e1`, enqueuing the actions `(key, document)`, all due at once.
async fn enqueue(store: &Arc<dyn Store>, actions: &[(&str, &str)]) {
    let actions = actions
        .iter()
        .map(|(key, document)| action(key, document, t(0)))
        .collect();
    store.commit_plan(commit("e1", actions)).await.unwrap();
}

/// The keys of the actions (at most 10) `by` claims at second `now` until second `to`.
async fn claimed_actions(s: &Arc<dyn Store>, now: i64, by: &str, to: i64) -> Vec<String> {
    keys(&s.claim_due_actions(t(now), 10, by, t(to)).await.unwrap())
}

async fn claimed_deliveries_go_to_one_holder_until_the_claim_expires(store: Arc<dyn Store>) {
    let all = record(&store, 4).await;
    let a = store.claim_deliveries(t(10), 2, "a", t(70)).await.unwrap();
    assert_eq!(ids(&a), all[..2]);
    assert_eq!(a[0].delivery, delivery(0));
    // b gets the others, oldest first; then nothing while the claims last.
    let b = store.claim_deliveries(t(11), 10, "b", t(71)).await.unwrap();
    assert_eq!(ids(&b), all[2..]);
    assert!(claimed_deliveries(&store, 12, "c", 72).await.is_empty());
    // The holder itself gets its own back (extending the claim).
    assert_eq!(claimed_deliveries(&store, 12, "a", 80).await, all[..2]);
    // The claims do not hide the deliveries from the inbox's own listing.
    assert_eq!(
        ids(&store.unprocessed_deliveries(t(12), 10).await.unwrap()),
        all
    );
    // b dies: at its claims' expiry c takes its deliveries back; a's (until t(80)) stay a's.
    assert!(claimed_deliveries(&store, 70, "c", 130).await.is_empty());
    assert_eq!(claimed_deliveries(&store, 71, "c", 131).await, all[2..]);
    assert_eq!(claimed_deliveries(&store, 80, "d", 140).await, all[..2]);
    // Deferred deliveries that are not due are not claimed.
    assert!(
        store
            .claim_deliveries(t(140), 0, "e", t(200))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn processing_or_deferring_a_delivery_ends_its_claim(store: Arc<dyn Store>) {
    let all = record(&store, 3).await;
    assert_eq!(claimed_deliveries(&store, 10, "a", 600).await, all);
    store
        .mark_delivery_processed(all[0], None, t(11))
        .await
        .unwrap();
    store
        .defer_delivery(all[1], t(20), "mapping missing")
        .await
        .unwrap();
    // Processed: gone; deferred: free for anyone once due; the third is still a's.
    assert!(claimed_deliveries(&store, 12, "b", 600).await.is_empty());
    assert_eq!(claimed_deliveries(&store, 20, "b", 600).await, [all[1]]);
    // A delivery handed back for processing is claimable by the one that claims it first.
    store
        .mark_delivery_processed(all[1], None, t(21))
        .await
        .unwrap();
    assert!(store.reprocess_delivery(all[1], t(22)).await.unwrap());
    assert_eq!(claimed_deliveries(&store, 22, "c", 600).await, [all[1]]);
}

async fn claimed_actions_go_to_one_holder_until_the_claim_expires(store: Arc<dyn Store>) {
    enqueue(&store, &[("A1", "SO-1"), ("B1", "SO-2"), ("C1", "SO-3")]).await;
    let a = store.claim_due_actions(t(1), 2, "a", t(61)).await.unwrap();
    assert_eq!(keys(&a), ["A1", "B1"]);
    assert_eq!(a[0].action.payload, json!({"key": "A1"}));
    assert_eq!(claimed_actions(&store, 2, "b", 62).await, ["C1"]);
    assert!(claimed_actions(&store, 3, "c", 63).await.is_empty());
    // The claims do not hide the actions from `due_actions`.
    assert_eq!(
        keys(&store.due_actions(t(3), 10).await.unwrap()),
        ["A1", "B1", "C1"]
    );
    // a works on A1 (begun, then done) and dies with B1 claimed; b's claim is renewed.
    store.begin_attempt("A1").await.unwrap();
    store
        .complete_action("A1", Some("1".into()), t(4))
        .await
        .unwrap();
    assert_eq!(claimed_actions(&store, 50, "b", 110).await, ["C1"]);
    assert!(claimed_actions(&store, 60, "c", 120).await.is_empty());
    // At a's claim's expiry, B1 is taken back.
    assert_eq!(claimed_actions(&store, 61, "c", 121).await, ["B1"]);
    // A failed attempt ends the claim: the action is anyone's when it is due again.
    store
        .fail_action("B1", "HTTP 503", false, Some(t(70)), t(62))
        .await
        .unwrap();
    assert!(claimed_actions(&store, 69, "d", 129).await.is_empty());
    assert_eq!(claimed_actions(&store, 70, "d", 130).await, ["B1"]);
}

async fn a_lane_is_handed_out_head_first(store: Arc<dyn Store>) {
    enqueue(
        &store,
        &[
            ("A1", "SO-1"),
            ("A2", "SO-1"),
            ("A3", "SO-1"),
            ("B1", "SO-2"),
        ],
    )
    .await;
    assert_eq!(claimed_actions(&store, 1, "a", 31).await, ["A1", "B1"]);
    // A1 claimed: nobody gets A2.
    for holder in ["b", "c"] {
        assert!(claimed_actions(&store, 2, holder, 32).await.is_empty());
    }
    // A1 waits for a retry (pending, claim ended): A2 still waits behind it.
    store
        .fail_action("A1", "HTTP 503", true, Some(t(40)), t(3))
        .await
        .unwrap();
    assert!(claimed_actions(&store, 4, "b", 34).await.is_empty());
    // a's claim on B1 expired at t(31): B1 comes with A1.
    assert_eq!(claimed_actions(&store, 40, "b", 70).await, ["A1", "B1"]);
    store
        .complete_action("A1", Some("1".into()), t(41))
        .await
        .unwrap();
    // Only now is A2 the head of its lane; B1 is b's.
    assert_eq!(claimed_actions(&store, 42, "c", 72).await, ["A2"]);
    store
        .complete_action("A2", Some("2".into()), t(43))
        .await
        .unwrap();
    assert_eq!(claimed_actions(&store, 44, "b", 74).await, ["A3", "B1"]);
}

async fn the_ledger_head_and_the_state_log_since_a_position(store: Arc<dyn Store>) {
    assert_eq!(store.ledger_head().await.unwrap(), 0);
    assert!(store.state_log_since(0, 10).await.unwrap().is_empty());
    let mut plan = commit("e1", vec![]);
    plan.changes = vec![json!({"c": 1}), json!({"c": 2})];
    store.commit_plan(plan).await.unwrap();
    let head = store.ledger_head().await.unwrap();
    let log = store.state_log_since(0, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].0, head);
    assert!(log[0].0 < log[1].0);
    assert_eq!(log[0].1, json!({"c": 1}));
    store.commit_plan(commit("e2", vec![])).await.unwrap();
    let since = store.state_log_since(head, 10).await.unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].1, json!({"change": "e2"}));
    assert_eq!(since[0].0, store.ledger_head().await.unwrap());
    assert_eq!(store.state_log_since(0, 1).await.unwrap(), log[..1]);
    // The state log lists the same changes in the same order.
    let values: Vec<_> = store
        .state_log_since(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(values, store.state_log().await.unwrap());
}

async fn a_commit_on_a_stale_head_writes_nothing(store: Arc<dyn Store>) {
    let head = store.ledger_head().await.unwrap();
    assert_eq!(
        store
            .commit_plan_at(commit("e1", vec![action("A1", "SO-1", t(0))]), head)
            .await
            .unwrap(),
        CommitOutcome::Committed
    );
    let now = store.ledger_head().await.unwrap();
    assert!(now > head);
    // A plan made on the old head is refused, with the head now, and writes nothing.
    let mut stale = commit("e2", vec![action("A2", "SO-1", t(0))]);
    stale.exceptions = vec![crate::support::store::exception("X-1")];
    assert_eq!(
        store.commit_plan_at(stale.clone(), head).await.unwrap(),
        CommitOutcome::Stale { head: now }
    );
    assert!(!store.event_seen("e2").await.unwrap());
    assert_eq!(keys(&store.actions().await.unwrap()), ["A1"]);
    assert_eq!(store.state_log().await.unwrap(), [json!({"change": "e1"})]);
    assert!(store.open_exceptions().await.unwrap().is_empty());
    assert_eq!(store.ledger_head().await.unwrap(), now);
    // A head from the future is stale too.
    assert_eq!(
        store
            .commit_plan_at(stale.clone(), now + 100)
            .await
            .unwrap(),
        CommitOutcome::Stale { head: now }
    );
    // Planned again on the head, it commits.
    assert_eq!(
        store.commit_plan_at(stale, now).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(keys(&store.actions().await.unwrap()), ["A1", "A2"]);
    assert_eq!(store.open_exceptions().await.unwrap().len(), 1);
}

async fn a_commit_on_the_head_is_a_plan_commit(store: Arc<dyn Store>) {
    // Committed on the head (which moves it); then, on the new head, a duplicate writes
    // nothing, as `commit_plan` would.
    for (expected, moves) in [
        (CommitOutcome::Committed, true),
        (CommitOutcome::Duplicate, false),
    ] {
        let head = store.ledger_head().await.unwrap();
        let outcome = store.commit_plan_at(commit("e1", vec![]), head).await;
        assert_eq!(outcome.unwrap(), expected);
        assert_eq!(store.ledger_head().await.unwrap() != head, moves);
    }
    let head = store.ledger_head().await.unwrap();
    // A commit with no state change leaves the head where it was.
    let mut quiet = commit("e2", vec![action("A1", "SO-1", t(0))]);
    quiet.changes.clear();
    assert_eq!(
        store.commit_plan_at(quiet, head).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(store.ledger_head().await.unwrap(), head);
    assert!(store.event_seen("e2").await.unwrap());
}

/// Two stores on one database (two connection pools on PostgreSQL, two connections to one
/// SQLite file) racing for the same lease, actions and ledger head.
mod races {
    use super::*;
    use crate::support::store::Reopen;

    conformance_reopen!(
        racing_for_a_lease_one_holder_wins,
        racing_claims_never_hand_one_action_to_both,
        racing_commits_on_one_head_commit_once,
    );

    const ROUNDS: i64 = 50;

    async fn racing_for_a_lease_one_holder_wins(reopen: Reopen) {
        let (a, b) = (reopen.open().await, reopen.open().await);
        let ttl = SignedDuration::from_secs(5);
        for round in 0..ROUNDS {
            // Every round the previous round's lease has expired: it is free for either.
            let now = t(round * 10);
            let (won_a, won_b) = tokio::join!(
                a.try_lease("leader", "a", ttl, now),
                b.try_lease("leader", "b", ttl, now)
            );
            let (won_a, won_b) = (won_a.unwrap(), won_b.unwrap());
            assert!(won_a != won_b, "round {round}: a {won_a}, b {won_b}");
            let holder = holder_of(&a, "leader", round * 10).await.unwrap();
            assert_eq!(holder, if won_a { "a" } else { "b" });
            // A fresh name each round races the insert itself.
            let name = format!("job-{round}");
            let (won_a, won_b) = tokio::join!(
                a.try_lease(&name, "a", ttl, now),
                b.try_lease(&name, "b", ttl, now)
            );
            assert!(won_a.unwrap() != won_b.unwrap(), "round {round}: {name}");
        }
    }

    async fn racing_claims_never_hand_one_action_to_both(reopen: Reopen) {
        let (a, b) = (reopen.open().await, reopen.open().await);
        let mut actions = Vec::new();
        for doc in 0..20 {
            for n in 0..3 {
                actions.push(action(&format!("D{doc}-{n}"), &format!("SO-{doc}"), t(0)));
            }
        }
        a.commit_plan(commit("e1", actions)).await.unwrap();
        let mut handed = HashSet::new();
        for round in 0..ROUNDS {
            let now = t(1 + round);
            let (got_a, got_b) = tokio::join!(
                a.claim_due_actions(now, 7, "a", t(10_000)),
                b.claim_due_actions(now, 7, "b", t(10_000))
            );
            let (got_a, got_b) = (got_a.unwrap(), got_b.unwrap());
            if got_a.is_empty() && got_b.is_empty() && handed.len() == 60 {
                break;
            }
            let documents: Vec<_> = got_a
                .iter()
                .chain(&got_b)
                .map(|x| x.action.document.clone())
                .collect();
            let distinct: HashSet<_> = documents.iter().collect();
            assert_eq!(
                distinct.len(),
                documents.len(),
                "round {round}: one document handed out twice"
            );
            for x in got_a.iter().chain(&got_b) {
                assert!(
                    handed.insert(x.action.key.clone()),
                    "round {round}: {} handed out twice",
                    x.action.key
                );
                // Its lane's earlier actions are all done.
                let (doc, n) = x.action.key.split_once('-').unwrap();
                for earlier in 0..n.parse::<u32>().unwrap() {
                    assert!(handed.contains(&format!("{doc}-{earlier}")));
                }
            }
            for x in &got_a {
                a.complete_action(&x.action.key, None, now).await.unwrap();
            }
            for x in &got_b {
                b.complete_action(&x.action.key, None, now).await.unwrap();
            }
        }
        assert_eq!(handed.len(), 60, "every action handed out once");
    }

    async fn racing_commits_on_one_head_commit_once(reopen: Reopen) {
        let (a, b) = (reopen.open().await, reopen.open().await);
        for round in 0..ROUNDS {
            let head = a.ledger_head().await.unwrap();
            let (out_a, out_b) = tokio::join!(
                a.commit_plan_at(commit(&format!("a{round}"), vec![]), head),
                b.commit_plan_at(commit(&format!("b{round}"), vec![]), head)
            );
            let (out_a, out_b) = (out_a.unwrap(), out_b.unwrap());
            let new_head = a.ledger_head().await.unwrap();
            let (winner, loser) = match (out_a, out_b) {
                (CommitOutcome::Committed, other) => (format!("a{round}"), other),
                (other, CommitOutcome::Committed) => (format!("b{round}"), other),
                outcomes => panic!("round {round}: nobody committed: {outcomes:?}"),
            };
            assert_eq!(
                loser,
                CommitOutcome::Stale { head: new_head },
                "round {round}"
            );
            let since = a.state_log_since(head, 10).await.unwrap();
            assert_eq!(since.len(), 1, "round {round}");
            assert_eq!(since[0].1, json!({"change": winner}));
        }
        assert_eq!(a.state_log().await.unwrap().len(), ROUNDS as usize);
    }
}
