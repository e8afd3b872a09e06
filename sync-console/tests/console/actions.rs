//! Actions and who may take them.

use reqwest::StatusCode;
use sync_console::EngineProbe;
use sync_engine::instance_lock::InstanceLock;

use crate::support::{Harness, Setup, exception_path, location};

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
    assert!(page.contains("admin (by ops)"));
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
    assert!(
        h.store
            .exception("EX-OPS-1")
            .await
            .unwrap()
            .unwrap()
            .resolved_at
            .is_none()
    );
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
    assert!(
        h.store
            .exception("EX-OPS-1")
            .await
            .unwrap()
            .unwrap()
            .resolved_at
            .is_none()
    );

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
