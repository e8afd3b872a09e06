//! What the pages show: hostile text escaped everywhere, documents found by business number.

use reqwest::StatusCode;
use sync_core::{DocumentRef, OrderRef};
use sync_engine::engine::document_key;
use sync_engine::store::{NewAction, PlanCommit};

use crate::support::{HOSTILE_KEY, Harness, exception_path};

/// Pages that show the hostile exception's text.
fn views() -> Vec<String> {
    vec![
        "/".into(),
        "/exceptions".into(),
        "/exceptions?kind=%3Cb%3Ekind%3C%2Fb%3E".into(),
        exception_path(HOSTILE_KEY),
        "/documents?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "/drift?sku=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22".into(),
        "/runbook/%3Cscript%3E".into(),
        "/close?period=2026-12".into(),
        "/close?period=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22".into(),
    ]
}

#[tokio::test]
async fn hostile_text_is_escaped_in_every_view() {
    let h = Harness::start().await;
    let admin = h.sign_in("admin").await;
    for path in views() {
        let (status, body) = admin.get(&path).await;
        assert!(
            status == StatusCode::OK
                || status == StatusCode::NOT_FOUND
                || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        for raw in ["<script", "<img", "<b>kind", "<i>\"hostile"] {
            assert!(!body.contains(raw), "{path} shows {raw} unescaped");
        }
    }
    let (_, queue) = admin.get("/exceptions").await;
    assert!(queue.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    // The close page lists the hostile exception (another owner's error) escaped, and echoes
    // a hostile period escaped in its refusal.
    let (_, close) = admin.get("/close?period=2026-12").await;
    assert!(close.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(close.contains("href=\"/exceptions/EX%2D%3Ci%3E%22hostile%22%27\""));
    let (_, refused) = admin
        .get("/close?period=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22")
        .await;
    assert!(refused.contains("`&lt;script&gt;alert(1)&lt;/script&gt;&quot;` is not a period"));
    let (_, detail) = admin.get(&exception_path(HOSTILE_KEY)).await;
    assert!(detail.contains("&lt;b&gt;kind&lt;/b&gt;"));
    assert!(
        detail.contains("EX-&lt;i&gt;&quot;hostile&quot;'"),
        "the key, escaped"
    );
    // The payload is shown as JSON text, escaped too.
    assert!(detail.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The hostile exception can be acted on through its encoded path.
    let response = admin
        .post(
            &format!("{}/resolve", exception_path(HOSTILE_KEY)),
            &[("note", "<script>no</script>")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, after) = admin.get(&exception_path(HOSTILE_KEY)).await;
    assert!(!after.contains("<script"));
    assert!(after.contains("admin (admin): &lt;script&gt;no&lt;/script&gt;"));
}

#[tokio::test]
async fn a_business_number_finds_its_order_and_exceptions() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    // Every open exception filed under the order (planning may raise its own).
    let on_order = h
        .store
        .open_exceptions()
        .await
        .unwrap()
        .iter()
        .filter(|e| e.exception.document == "SO 4411")
        .count();
    assert!(on_order >= 1);
    for query in ["SO1023", "so-1023", "4411"] {
        let (_, queue) = ops.get(&format!("/exceptions?document={query}")).await;
        assert!(queue.contains("data-key=\"EX-OPS-1\""), "{query}");
        assert!(!queue.contains("data-key=\"EX-OPS-WARN\""), "{query}");
        assert!(
            queue.contains(&format!(
                "data-test=\"exception-count\">{on_order} exception(s)"
            )),
            "{query}"
        );
    }
    // The engine queued a goods out for the order (the store keeps its document as the core's
    // key, not as the name people search).
    let document = document_key(&DocumentRef::Order {
        order: OrderRef::sales("4411"),
    });
    let now = jiff::Timestamp::now();
    h.store
        .commit_plan(PlanCommit {
            event_key: "test-goods-out-4411".into(),
            mark_seen: true,
            document: document.clone(),
            event: serde_json::json!({}),
            planned_at: now,
            changes: vec![],
            actions: vec![NewAction {
                key: "CLR-GO-4411".into(),
                document,
                kind: "create_goods_out".into(),
                payload: serde_json::json!({}),
                not_before: now,
            }],
            exceptions: vec![],
            resolved_exceptions: vec![],
            owner: None,
        })
        .await
        .unwrap();
    let (_, trace) = ops.get("/documents?q=SO1023").await;
    assert!(trace.contains("data-test=\"document\""), "{trace}");
    assert!(trace.contains(
        "href=\"https://1234567-sb1.app.netsuite.com/app/accounting/transactions/transaction.nl?id=4411\""
    ));
    assert!(trace.contains("data-stage=\"imported\""));
    assert!(trace.contains("Fulfilment of SO1023 failed"));
    // What the engine did for the order: the goods out its planning queued.
    assert!(trace.contains("id=\"document-actions\""), "{trace}");
    assert!(
        trace.contains("<td>create_goods_out</td><td>SO 4411</td>"),
        "{trace}"
    );
    let (_, none) = ops.get("/documents?q=SO0000").await;
    assert!(none.contains("data-test=\"trace-none\""));
}

#[tokio::test]
async fn filters_and_home_show_owner_severity_and_attention() {
    let h = Harness::start().await;
    let view = h.sign_in("view").await;
    let (_, warnings) = view.get("/exceptions?severity=warning").await;
    assert!(warnings.contains("data-key=\"EX-OPS-WARN\""));
    assert!(!warnings.contains("data-key=\"EX-OPS-1\""));
    let (_, finance) = view.get("/exceptions?owner=finance").await;
    assert!(
        finance.contains("data-key=\"EX-FIN-1\"") && !finance.contains("data-key=\"EX-OPS-1\"")
    );
    let (_, old) = view.get("/exceptions?age=1d").await;
    assert!(old.contains("data-test=\"exception-count\">0 exception(s)"));
    let (_, home) = view.get("/").await;
    assert!(home.contains("data-test=\"open-operations-error\""));
    assert!(home.contains("data-test=\"open-operations-warning\""));
    assert!(home.contains("data-test=\"open-finance-error\""));
    // Errors come before the warning in what needs attention first.
    let first_error = home.find("Fulfilment of SO1023 failed").unwrap();
    let warning = home.find("Short despatch on another order").unwrap();
    assert!(first_error < warning);
    // A viewer has no bulk form checkboxes.
    assert!(
        !view
            .get("/exceptions")
            .await
            .1
            .contains("type=\"checkbox\"")
    );
}

#[tokio::test]
async fn the_runbook_entry_is_a_page() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let (_, detail) = ops.get("/exceptions/EX-OPS-1").await;
    assert!(detail.contains("href=\"/runbook/action%2Dfailed\""));
    let (status, page) = ops.get("/runbook/action-failed").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-test=\"runbook\""));
    assert!(
        page.contains("<h1 id=\"page-title\">Action failed</h1>"),
        "{page}"
    );
    let (status, _) = ops.get("/runbook/no-such-entry").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
