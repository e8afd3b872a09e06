//! Actions and who may take them.

use reqwest::StatusCode;
use sync_console::{Console, ConsoleOptions, EngineProbe};
use sync_engine::console_settings::{ConsoleSettings, SessionKey};
use sync_engine::instance_lock::InstanceLock;

use crate::support::{Harness, Setup, exception_path, location, users};

fn action(key: &str, verb: &str) -> String {
    format!("{}/{verb}", exception_path(key))
}

#[tokio::test]
async fn operations_retries_resolves_and_assigns_its_own_with_its_name_in_the_trail() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let response = ops
        .post(&action("EX-OPS-1", "retry"), &[("note", "carrier fixed")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response).unwrap(),
        "/exceptions/EX%2DOPS%2D1?done=retry"
    );
    let requests = h.store.requests_for("EX-OPS-1").await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].note.as_deref(),
        Some("ops (operations): carrier fixed")
    );
    let audit = h.store.exception_audit("EX-OPS-1").await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.change, "retry-requested");
    assert_eq!(
        last.note.as_deref(),
        Some("ops (operations): carrier fixed")
    );

    let response = ops
        .post(&action("EX-OPS-1", "assign"), &[("person", "admin")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = ops.get("/exceptions/EX-OPS-1?done=assign").await;
    assert!(
        page.contains("data-test=\"exception-assignee\">admin<"),
        "{page}"
    );
    assert!(page.contains("to admin by ops"), "{page}");
    let audit = h.store.exception_audit("EX-OPS-1").await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.change.as_str(), last.note.as_deref()),
        ("assigned", Some("to admin by ops"))
    );
    assert!(page.contains("data-test=\"notice\">Assigned."));
    assert!(page.contains("data-change=\"retry-requested\""));
    assert!(page.contains("waiting for the engine"));

    let response = ops
        .post(
            &action("EX-OPS-1", "resolve"),
            &[("note", "posted by hand")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let e = h.store.exception("EX-OPS-1").await.unwrap().unwrap();
    assert!(e.resolved_at.is_some());
    assert_eq!(
        e.resolution_note.as_deref(),
        Some("ops (operations): posted by hand")
    );
}

#[tokio::test]
async fn roles_are_checked_on_every_action() {
    let h = Harness::start().await;
    let fin = h.sign_in("fin").await;
    let view = h.sign_in("view").await;
    let ops = h.sign_in("ops").await;
    for (who, key) in [
        (&fin, "EX-OPS-1"),
        (&view, "EX-OPS-1"),
        (&view, "EX-FIN-1"),
        (&ops, "EX-FIN-1"),
    ] {
        for (verb, fields) in [
            ("retry", vec![("note", "x")]),
            ("resolve", vec![("note", "x")]),
            ("assign", vec![("person", "fin")]),
        ] {
            let response = who.post(&action(key, verb), &fields).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{} {verb} {key}",
                who.cookie
            );
        }
        let page = who.get(&exception_path(key)).await.1;
        assert!(!page.contains("id=\"retry-form\"") && !page.contains("id=\"resolve-form\""));
        assert!(page.contains("data-test=\"no-actions\""));
        assert!(page.contains("data-test=\"exception-assignee\">nobody<"));
    }
    // No refused action reached the audit trail: no assignment, no retry.
    for key in ["EX-OPS-1", "EX-FIN-1"] {
        let audit = h.store.exception_audit(key).await.unwrap();
        assert_eq!(
            audit.iter().map(|a| a.change.as_str()).collect::<Vec<_>>(),
            ["raised"],
            "{key}"
        );
    }
    // Bulk: only what the role owns is resolved.
    let response = fin
        .post(
            "/exceptions/bulk-resolve",
            &[
                ("note", "month end"),
                ("key", "EX-OPS-1"),
                ("key", "EX-FIN-1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("data-test=\"bulk-resolved-count\">1 resolved"),
        "{body}"
    );
    for (key, resolved) in [
        ("EX-OPS-1", false),
        ("EX-FIN-1", true),
        ("EX-OPS-WARN", false),
    ] {
        let e = h.store.exception(key).await.unwrap().unwrap();
        assert_eq!(e.resolved_at.is_some(), resolved, "{key}");
    }
    assert!(h.store.requests_for("EX-OPS-1").await.unwrap().is_empty());
    assert_eq!(
        h.store
            .exception("EX-FIN-1")
            .await
            .unwrap()
            .unwrap()
            .resolution_note
            .as_deref(),
        Some("fin (finance): month end")
    );
    // An admin acts on any owner's exception.
    let admin = h.sign_in("admin").await;
    let response = admin
        .post(&action("EX-OPS-WARN", "resolve"), &[("note", "seen")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// A second console on the harness's store (a restart, or another instance on the same
/// store), accepting the harness's sessions (it has the harness's session key); its address.
async fn another_console(h: &Harness) -> String {
    let settings: ConsoleSettings = serde_json::from_str(r#"{"listen": "127.0.0.1:0"}"#).unwrap();
    let key = SessionKey::new(vec![42u8; 32]).unwrap();
    let mut options = ConsoleOptions::from_settings(&settings, users(), Some(key));
    options.probe = EngineProbe::InProcess;
    options.clock = h.clock.shared();
    let console = Console::new(h.store.clone(), options).unwrap();
    let listener = sync_console::bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(console.serve(listener, std::future::pending()));
    base
}

/// The row of exception `key` in the queue page `page`.
fn queue_row<'p>(page: &'p str, key: &str) -> &'p str {
    let start = page
        .find(&format!("data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no row of {key} in {page}"));
    let end = page[start..].find("</tr>").unwrap() + start;
    &page[start..end]
}

#[tokio::test]
async fn assignments_are_kept_in_the_store_across_a_restart() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let admin = h.sign_in("admin").await;
    for (who, key, person) in [
        (&ops, "EX-OPS-1", "fin"),
        (&admin, "EX-OPS-1", "ops"),
        (&admin, "EX-FIN-1", "fin"),
    ] {
        let response = who
            .post(&action(key, "assign"), &[("person", person)])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{key} {person}");
    }

    // A new console on the same store: the assignments are there, with who made them.
    let restarted = another_console(&h).await;
    let get = |path: String| {
        let request = h
            .http
            .get(format!("{restarted}{path}"))
            .header(reqwest::header::COOKIE, &ops.cookie);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.unwrap()
        }
    };
    let page = get(exception_path("EX-OPS-1")).await;
    assert!(
        page.contains("data-test=\"exception-assignee\">ops<"),
        "{page}"
    );
    assert_eq!(
        page.matches("data-change=\"assigned\"").count(),
        2,
        "{page}"
    );
    let (first, second) = (
        page.find("to fin by ops").unwrap(),
        page.find("to ops by admin").unwrap(),
    );
    assert!(first < second, "the trail is in order");

    let queue = get("/exceptions".into()).await;
    for (key, assignee) in [
        ("EX-OPS-1", "ops"),
        ("EX-FIN-1", "fin"),
        ("EX-OPS-WARN", ""),
    ] {
        assert!(
            queue_row(&queue, key)
                .contains(&format!("data-test=\"exception-assignee\">{assignee}<")),
            "{key}: {queue}"
        );
    }
}

#[tokio::test]
async fn a_resolution_needs_a_note_and_an_assignment_a_known_person() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let response = ops
        .post(&action("EX-OPS-1", "resolve"), &[("note", "  ")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = ops
        .post(&action("EX-OPS-1", "assign"), &[("person", "mallory")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!h.is_resolved("EX-OPS-1").await);
}

#[tokio::test]
async fn without_an_engine_the_console_is_read_only() {
    let h = Harness::with(Setup {
        probe: EngineProbe::SqliteLock(Default::default()),
        ..Setup::default()
    })
    .await;
    let admin = h.sign_in("admin").await;
    let (_, page) = admin.get(&exception_path("EX-OPS-1")).await;
    assert!(page.contains("data-test=\"read-only-banner\""));
    assert!(!page.contains("id=\"resolve-form\""));
    for (verb, fields) in [
        ("retry", vec![]),
        ("resolve", vec![("note", "x")]),
        ("assign", vec![("person", "ops")]),
    ] {
        let response = admin.post(&action("EX-OPS-1", verb), &fields).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{verb}");
    }
    let response = admin
        .post(
            "/exceptions/bulk-resolve",
            &[("note", "x"), ("key", "EX-OPS-1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(!h.is_resolved("EX-OPS-1").await);

    // An engine starts on the store: the console acts.
    let engine = InstanceLock::acquire(&h.store_path).unwrap();
    let (_, page) = admin.get(&exception_path("EX-OPS-1")).await;
    assert!(!page.contains("data-test=\"read-only-banner\""));
    assert!(page.contains("id=\"resolve-form\""));
    let response = admin
        .post(&action("EX-OPS-1", "resolve"), &[("note", "done")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    drop(engine);
}
