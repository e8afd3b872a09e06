//! Tests of the health registry.

use jiff::SignedDuration;

use super::*;
use crate::store::SqliteStore;
use clarus_client::ClarusError;

/// A registry whose clock the test moves.
fn registry(threshold: u32) -> (Health, Arc<Mutex<Timestamp>>) {
    let clock = Arc::new(Mutex::new(Timestamp::from_second(1_700_000_000).unwrap()));
    let read = clock.clone();
    let health = Health::with_clock(
        HealthConfig {
            failures_before_exception: threshold,
            ..HealthConfig::default()
        },
        move || *read.lock().unwrap(),
    );
    (health, clock)
}

fn advance(clock: &Mutex<Timestamp>, secs: i64) {
    let mut now = clock.lock().unwrap();
    *now += SignedDuration::from_secs(secs);
}

fn failed(message: &str) -> Result<usize, JobError> {
    Err(JobError::transient(message).on(Connection::Clarus))
}

async fn open(store: &SqliteStore, job: &str) -> Option<crate::store::StoredException> {
    store
        .exception(&job_exception_key(job))
        .await
        .unwrap()
        .filter(|e| e.resolved_at.is_none())
}

#[tokio::test]
async fn n_failures_raise_once_then_refresh_and_a_success_resolves() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (health, clock) = registry(3);
    health.register(
        "clarus-sweep",
        Duration::from_secs(60),
        &[Connection::Clarus],
    );

    for i in 1..=2 {
        health
            .record(&store, "clarus-sweep", &failed(&format!("timeout {i}")))
            .await
            .unwrap();
        advance(&clock, 60);
    }
    assert!(open(&store, "clarus-sweep").await.is_none());

    health
        .record(&store, "clarus-sweep", &failed("timeout 3"))
        .await
        .unwrap();
    let raised = open(&store, "clarus-sweep").await.expect("raised");
    let e = &raised.exception;
    assert_eq!(e.kind, "job-failing");
    assert_eq!(e.owner, "integration");
    assert_eq!(e.severity, "error");
    assert_eq!(e.runbook, "operations.md#job-failing");
    assert!(e.message.contains("clarus-sweep"), "{}", e.message);
    assert!(e.message.contains("3 runs"), "{}", e.message);
    assert!(e.message.contains("2023-11-14T22:13:20Z"), "{}", e.message);
    assert!(e.message.contains("timeout 3"), "{}", e.message);
    assert_eq!(store.exceptions().await.unwrap().len(), 1, "one exception");

    advance(&clock, 60);
    health
        .record(&store, "clarus-sweep", &failed("timeout 4"))
        .await
        .unwrap();
    let refreshed = open(&store, "clarus-sweep").await.unwrap();
    assert!(refreshed.exception.message.contains("4 runs"));
    assert!(refreshed.exception.message.contains("timeout 4"));
    assert_eq!(refreshed.raised_at, raised.raised_at);
    let trail = store
        .exception_audit(&job_exception_key("clarus-sweep"))
        .await
        .unwrap();
    let changes: Vec<&str> = trail.iter().map(|a| a.change.as_str()).collect();
    assert_eq!(changes, ["raised", "updated"]);

    health.record(&store, "clarus-sweep", &Ok(4)).await.unwrap();
    let resolved = store
        .exception(&job_exception_key("clarus-sweep"))
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.resolved_at.is_some());
    assert_eq!(
        resolved.resolution_note.as_deref(),
        Some("job clarus-sweep succeeded again")
    );
    // Failing again starts the count again.
    health
        .record(&store, "clarus-sweep", &failed("again"))
        .await
        .unwrap();
    assert!(open(&store, "clarus-sweep").await.is_none());
}

#[tokio::test]
async fn a_persistent_error_raises_at_once() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (health, _) = registry(3);
    health.register(
        "netsuite-poll",
        Duration::from_secs(60),
        &[Connection::NetSuite],
    );
    let refused =
        Err(JobError::persistent("NetSuite refused the credentials").on(Connection::NetSuite));
    health
        .record(&store, "netsuite-poll", &refused)
        .await
        .unwrap();
    let e = open(&store, "netsuite-poll").await.expect("raised at once");
    assert!(
        e.exception.message.contains("1 run"),
        "{}",
        e.exception.message
    );
    assert!(e.exception.message.contains("will not clear by waiting"));
    assert_eq!(e.exception.payload["persistent"], true);
    let ready = health.readiness();
    assert!(!ready.ready);
    assert_eq!(ready.jobs[0].condition, Condition::Failing);
    assert_eq!(ready.connections[0].name, "netsuite");
    assert_eq!(ready.connections[0].condition, Condition::Failing);
}

#[tokio::test]
async fn the_first_success_after_a_restart_resolves_an_exception_left_open() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (before, _) = registry(1);
    before
        .record(&store, "reconcile", &failed("Clarus down"))
        .await
        .unwrap();
    assert!(open(&store, "reconcile").await.is_some());
    let (after, _) = registry(1);
    after.record(&store, "reconcile", &Ok(0)).await.unwrap();
    assert!(open(&store, "reconcile").await.is_none());
    // A job that never failed resolves nothing and raises no error.
    after.record(&store, "other", &Ok(0)).await.unwrap();
}

#[test]
fn a_job_without_a_recent_success_is_stale() {
    let (health, clock) = registry(3);
    health.register(
        "reconcile",
        Duration::from_secs(600),
        &[Connection::Clarus, Connection::NetSuite],
    );
    health.register(
        "netsuite-poll",
        Duration::from_secs(10),
        &[Connection::NetSuite],
    );
    assert!(health.readiness().ready, "nothing is due yet at start");

    // The poll's limit is the 5-minute floor (3 × 10 s is shorter); reconcile's 30 minutes.
    advance(&clock, 301);
    let ready = health.readiness();
    assert!(!ready.ready);
    let poll = ready
        .jobs
        .iter()
        .find(|j| j.name == "netsuite-poll")
        .unwrap();
    assert_eq!(poll.condition, Condition::Stale);
    assert_eq!(poll.stale_after_secs, 300);
    let reconcile = ready.jobs.iter().find(|j| j.name == "reconcile").unwrap();
    assert_eq!(reconcile.condition, Condition::Ok);
    assert_eq!(reconcile.stale_after_secs, 1800);
    let netsuite = ready
        .connections
        .iter()
        .find(|c| c.name == "netsuite")
        .unwrap();
    assert_eq!(netsuite.condition, Condition::Stale);
    assert_eq!(netsuite.interval_secs, 10);

    // The connection counts the success of any job depending on it.
    let store_less = health.note("netsuite-poll", Ok(()), health.now());
    assert!(matches!(store_less, Step::Resolve(_)));
    let ready = health.readiness();
    assert!(ready.ready, "{ready:#?}");
    let poll = ready
        .jobs
        .iter()
        .find(|j| j.name == "netsuite-poll")
        .unwrap();
    assert_eq!(poll.last_success, Some(health.now()));

    advance(&clock, 1801 - 301);
    let ready = health.readiness();
    let reconcile = ready.jobs.iter().find(|j| j.name == "reconcile").unwrap();
    assert_eq!(reconcile.condition, Condition::Stale);
}

#[test]
fn a_followed_job_is_fine_and_never_stale_and_a_takeover_restarts_the_wait() {
    let (health, clock) = registry(3);
    health.register(
        "netsuite-poll",
        Duration::from_secs(10),
        &[Connection::NetSuite],
    );
    health.record_following("netsuite-poll", Some("host-b-1-abcdef"));
    advance(&clock, 3600);
    let ready = health.readiness();
    assert!(ready.ready, "{ready:#?}");
    let poll = &ready.jobs[0];
    assert_eq!(poll.condition, Condition::Ok);
    assert_eq!(poll.role, Some(Role::Follower));
    assert_eq!(poll.led_by.as_deref(), Some("host-b-1-abcdef"));
    assert_eq!(
        poll.role_text().as_deref(),
        Some("follower: led by host-b-1-abcdef")
    );
    assert_eq!(ready.connections[0].condition, Condition::Ok);
    let json = serde_json::to_value(&ready).unwrap();
    assert_eq!(json["jobs"][0]["role"], "follower");
    assert_eq!(json["jobs"][0]["led_by"], "host-b-1-abcdef");

    // Taken over: the job has its full stale time from now, then goes stale as usual.
    health.record_leading("netsuite-poll");
    advance(&clock, 299);
    let ready = health.readiness();
    assert!(ready.ready, "{ready:#?}");
    assert_eq!(ready.jobs[0].role, Some(Role::Leader));
    assert_eq!(ready.jobs[0].role_text().as_deref(), Some("leader"));
    assert_eq!(ready.jobs[0].led_by, None);
    advance(&clock, 2);
    let ready = health.readiness();
    assert!(!ready.ready);
    assert_eq!(ready.jobs[0].condition, Condition::Stale);
    assert_eq!(ready.connections[0].condition, Condition::Stale);
}

#[tokio::test]
async fn a_crash_raises_at_once_and_the_next_success_resolves_it() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (health, clock) = registry(3);
    health.register("reconcile", Duration::from_secs(600), &[]);
    health.record_task_ok(&store, "outbox").await.unwrap();
    assert!(health.readiness().ready);

    health
        .record_crash(&store, "reconcile", "it panicked: boom")
        .await
        .unwrap();
    let key = task_exception_key("reconcile");
    let open = store
        .exception(&key)
        .await
        .unwrap()
        .expect("raised at once");
    assert!(open.resolved_at.is_none());
    assert_eq!(open.exception.kind, "task-crashed");
    assert_eq!(open.exception.owner, "integration");
    assert_eq!(open.exception.severity, "error");
    assert_eq!(open.exception.runbook, "operations.md#task-crashed");
    assert_eq!(key, "EX-INTEGRATION-TASK-reconcile");
    assert!(open.exception.message.contains("boom"));
    let ready = health.readiness();
    assert!(!ready.ready);
    assert_eq!(ready.jobs[0].condition, Condition::Failing);
    assert_eq!(ready.tasks.len(), 1);
    assert_eq!(ready.tasks[0].name, "reconcile");

    advance(&clock, 2);
    health
        .record_crash(&store, "reconcile", "it panicked: again")
        .await
        .unwrap();
    let refreshed = store.exception(&key).await.unwrap().unwrap();
    assert!(refreshed.exception.message.contains("2 times"));
    assert_eq!(store.exceptions().await.unwrap().len(), 1);

    health.record_task_ok(&store, "reconcile").await.unwrap();
    let resolved = store.exception(&key).await.unwrap().unwrap();
    assert!(resolved.resolved_at.is_some());
    assert!(health.readiness().ready);
    assert!(health.readiness().tasks.is_empty());
}

#[test]
fn errors_are_classified_from_the_clients_fields() {
    let graphql = |body: &str| ClarusError::GraphQl {
        errors: serde_json::from_str(body).unwrap(),
        raw_body: body.to_owned(),
    };
    let missing_field = graphql(
        r#"[{"message":"Field 'carrier' doesn't exist on type 'GoodsOut'","extensions":{"code":"undefinedField"}}]"#,
    );
    assert!(clarus_error_is_persistent(&missing_field));
    let no_code = graphql(r#"[{"message":"Field 'goodsOuts' doesn't accept argument 'since'"}]"#);
    assert!(clarus_error_is_persistent(&no_code));
    let timeout = graphql(r#"[{"message":"Timeout on GoodsOut.lines"}]"#);
    assert!(!clarus_error_is_persistent(&timeout));
    assert!(clarus_error_is_persistent(&ClarusError::from_response(
        401,
        r#"{"error":"Not authorized"}"#.into()
    )));
    assert!(clarus_error_is_persistent(&ClarusError::from_response(
        403,
        r#"{"errors":[]}"#.into()
    )));
    assert!(!clarus_error_is_persistent(&ClarusError::from_response(
        503,
        "busy".into()
    )));

    let netsuite = |status: u16| {
        netsuite_client::Error::Api(Box::new(netsuite_client::ApiError::from_response(
            status, b"{}",
        )))
    };
    assert!(netsuite_error_is_persistent(&netsuite(403)));
    assert!(!netsuite_error_is_persistent(&netsuite(500)));

    // Classified by the Clarus error found in the source chain, which stays the source.
    let message = missing_field.to_string();
    let e = JobError::clarus(missing_field);
    assert!(e.is_persistent());
    assert_eq!(e.connection(), Some(Connection::Clarus));
    assert_eq!(e.to_string(), message);
    assert!(
        std::error::Error::source(&e).is_some_and(|s| s.is::<ClarusError>()),
        "{e:?}"
    );
    let busy = JobError::clarus(ClarusError::from_response(503, "busy".into()));
    assert!(!busy.is_persistent());
    let plain = JobError::of(std::io::Error::other("store busy"));
    assert!(!plain.is_persistent());
    assert_eq!(plain.connection(), None);
    assert_eq!(plain.to_string(), "store busy");
}
