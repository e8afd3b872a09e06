//! The console in headless Chromium, driven through WebDriver (Debian's `chromedriver`) with
//! fantoccini: what people see and do, page by page.
//!
//! Each test starts its own `chromedriver` on a free port, with a fresh Chromium profile, and
//! stops both at the end; the browser tests take turns (one browser at a time). Screenshots of
//! every step are kept in `<target>/console-screenshots/<scenario>-<step>.png`.
//!
//! Without `chromium` or `chromedriver` (override their paths with `CHROMIUM` and
//! `CHROMEDRIVER`) the tests are skipped with a note, unless `CI` is set: then they fail.

#[path = "browser/driver.rs"]
mod driver;
#[path = "browser/engine.rs"]
mod engine;

use driver::{Browser, in_browser};

use crate::support::{CLOSE_FINANCE_KEY, CLOSE_MONTH, Harness, password};

/// Signs `name` in through the sign-in form and checks the home page names them.
async fn sign_in(b: &Browser, name: &str, role: &str) {
    b.open("/").await;
    assert_eq!(
        b.page().await,
        "page-sign-in",
        "an unsigned visitor is sent to sign in"
    );
    b.fill("#name", name).await;
    b.fill("#password", &password(name)).await;
    b.click("#sign-in").await;
    assert_eq!(b.page().await, "page-home");
    assert_eq!(b.text("#user-name").await, name);
    assert_eq!(b.text("#user-role").await, role);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_signs_in_and_finds_an_order_by_its_so_number() {
    in_browser("find-order", async |b: &Browser, _: &Harness| {
        // A wrong password is refused on the page, and nothing is shown.
        b.open("/sign-in").await;
        b.fill("#name", "ops").await;
        b.fill("#password", "not-the-password").await;
        b.click("#sign-in").await;
        assert_eq!(b.page().await, "page-sign-in");
        assert_eq!(b.text("#sign-in-error").await, "Wrong name or password.");
        b.screenshot("sign-in-refused").await;

        sign_in(b, "ops", "operations").await;
        let attention = b.texts("[data-test=attention-item]").await;
        assert!(
            attention
                .iter()
                .any(|t| t.contains("Fulfilment of SO1023 failed")),
            "{attention:?}"
        );
        b.screenshot("home").await;

        // The queue, filtered by the order's business number: only its exception.
        b.click("#nav-exceptions").await;
        assert_eq!(b.page().await, "page-exceptions");
        let all = b.count("[data-test=exception-row]").await;
        assert!(all >= 3, "the queue lists every open exception ({all})");
        b.fill("#filter-document", "SO1023").await;
        b.click("#filter-apply").await;
        assert_eq!(b.text("#exception-count").await, "1 exception(s)");
        let rows = b.attrs("[data-test=exception-row]", "data-key").await;
        assert_eq!(rows, ["EX-OPS-1"]);
        let row = b.text("[data-test=exception-row]").await;
        assert!(row.contains("SO 4411 · SO1023"), "{row}");
        assert!(row.contains("Fulfilment of SO1023 failed"), "{row}");
        b.screenshot("queue-so1023").await;

        // A number no document has finds nothing.
        b.fill("#filter-document", "SO9876").await;
        b.click("#filter-apply").await;
        assert_eq!(b.text("#exception-count").await, "0 exception(s)");

        // The document trace finds the order by the same number, with its exception.
        b.click("#nav-documents").await;
        b.fill("#trace-q", "SO1023").await;
        b.click("#trace-find").await;
        assert_eq!(b.page().await, "page-documents");
        let found = b.texts("[data-test=document] h2").await;
        assert_eq!(found, ["SO1023 · SO 4411"]);
        let exceptions = b.texts("[data-test=document-exception]").await;
        assert_eq!(exceptions.len(), 1, "{exceptions:?}");
        assert!(exceptions[0].contains("Fulfilment of SO1023 failed · operations · open"));
        let netsuite = b
            .attrs("[data-test=document] [data-test=netsuite-link]", "href")
            .await;
        assert_eq!(netsuite.len(), 1);
        assert!(
            netsuite[0].contains("1234567-sb1.app.netsuite.com"),
            "{netsuite:?}"
        );
        b.screenshot("document-so1023").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_cannot_retry_an_operations_exception() {
    in_browser("finance-refused", async |b: &Browser, h: &Harness| {
        sign_in(b, "fin", "finance").await;

        // Finance's own exception offers finance's actions...
        b.open("/exceptions/EX-FIN-1").await;
        assert!(
            b.exists("#resolve-form").await,
            "finance resolves its own exceptions"
        );
        // ...an operations exception none: no retry button, no form, and a reason.
        b.open("/exceptions/EX-OPS-1").await;
        assert_eq!(b.page().await, "page-exception");
        assert_eq!(b.text("#exception-owner").await, "operations");
        for form in ["#retry", "#retry-form", "#resolve-form", "#assign-form"] {
            assert!(!b.exists(form).await, "{form} is shown to finance");
        }
        assert_eq!(
            b.text("#no-actions").await,
            "Your role (finance) does not act on exceptions owned by operations."
        );
        b.screenshot("no-retry-button").await;

        // A retry forged in the page (a form built by script, with finance's own valid
        // session token) is refused by the server, and nothing is queued.
        let forged = b
            .client()
            .execute(
                "const csrf = document.querySelector('#sign-out-form input[name=csrf]').value;\
                 const form = document.createElement('form');\
                 form.method = 'post';\
                 form.action = '/exceptions/EX-OPS-1/retry';\
                 for (const [name, value] of [['csrf', csrf], ['note', 'forged']]) {\
                     const input = document.createElement('input');\
                     input.type = 'hidden'; input.name = name; input.value = value;\
                     form.appendChild(input);\
                 }\
                 document.body.appendChild(form);\
                 form.submit();\
                 return csrf.length;",
                Vec::new(),
            )
            .await
            .expect("the forged form is submitted");
        assert!(
            forged.as_u64().unwrap_or(0) > 0,
            "the session's token was used"
        );
        b.wait_for_page("page-message").await;
        assert_eq!(b.text("#page-title").await, "Not allowed");
        assert_eq!(
            b.text("#message").await,
            "Your role does not act on exceptions owned by operations."
        );
        b.screenshot("forged-retry-refused").await;
        assert!(h.store.requests_for("EX-OPS-1").await.unwrap().is_empty());
        let audit = h.store.exception_audit("EX-OPS-1").await.unwrap();
        assert!(
            audit.iter().all(|a| a.change != "retry-requested"),
            "{audit:?}"
        );
        let e = h.store.exception("EX-OPS-1").await.unwrap().unwrap();
        assert!(e.resolved_at.is_none());
    })
    .await;
}

/// NetSuite refused SO1023's fulfilment (a closed period): a despatch that did not become its
/// fulfilment is operations' (they resolve it in the warehouse flow), as is the order's short
/// despatch. Operations find the order by its number, resolve the warning, and, once finance
/// has reopened the period, retry the posting; the running engine posts it, and the page shows
/// it posted with every step in the audit trail under the person's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_posting_is_retried_by_its_owner_and_seen_posted_and_audited() {
    let Some(tools) = driver::tools() else {
        return;
    };
    let live = engine::Live::start().await;
    driver::run_with(&tools, "retry-posting", &live.base, async |b: &Browser| {
        sign_in(b, "ops", "operations").await;
        b.screenshot("home").await;

        // The order's exceptions, found by its number: the refused fulfilment (an error) and
        // the short despatch (a warning), both operations'.
        b.click("#nav-exceptions").await;
        b.fill("#filter-document", "SO1023").await;
        b.click("#filter-apply").await;
        assert_eq!(b.text("#exception-count").await, "2 exception(s)");
        let rows = b.texts("[data-test=exception-row]").await;
        assert!(
            rows[0].contains("operations") && rows[0].contains("action-failed"),
            "{rows:?}"
        );
        assert!(
            rows[0].contains("SO1023") && rows[0].contains("accounting period"),
            "{rows:?}"
        );
        assert!(
            rows[1].contains("operations") && rows[1].contains("short-despatch"),
            "{rows:?}"
        );
        b.screenshot("queue").await;

        // The failed posting: its facts, and the retry offered to its owner.
        b.click("[data-test=exception-row]:nth-child(1) [data-test=exception-link]")
            .await;
        assert_eq!(b.page().await, "page-exception");
        assert_eq!(b.text("#exception-state").await, "open");
        assert_eq!(b.text("#exception-owner").await, "operations");
        assert_eq!(b.text("#exception-kind").await, "action-failed");
        let failed_url = b.client().current_url().await.unwrap().path().to_owned();
        let activity = b.texts("[data-test=activity]").await;
        assert!(
            activity.iter().any(|a| a.contains("posting failed")),
            "{activity:?}"
        );
        assert!(b.exists("#retry").await, "operations retry their exception");

        // Operations resolve their warning, with a note.
        b.click("#nav-exceptions").await;
        b.fill("#filter-document", "SO1023").await;
        b.select("#filter-kind", "short-despatch").await;
        b.click("#filter-apply").await;
        b.click("[data-test=exception-link]").await;
        b.fill("#resolve-note", "2 mugs back-ordered with the customer")
            .await;
        b.click("#resolve").await;
        assert!(b.text("#exception-state").await.starts_with("resolved"));
        assert_eq!(
            b.text("#exception-resolution").await,
            "ops (operations): 2 mugs back-ordered with the customer"
        );

        // Finance reopened the period: operations retry the posting.
        b.open(&failed_url).await;
        b.fill("#retry-note", "accounting period reopened by finance")
            .await;
        b.screenshot("exception").await;
        b.click("#retry").await;
        assert!(b.text("#notice").await.starts_with("Retry requested"));

        // The running engine carries the retry out: the exception closes, the outcome is in
        // the trail.
        b.refresh_until("the retry is handled", async || {
            b.text("#exception-state").await.starts_with("resolved")
                && b.texts("[data-test=retry-request]")
                    .await
                    .iter()
                    .all(|r| !r.contains("waiting for the engine"))
        })
        .await;
        let trail = b.attrs("[data-test=audit-entry]", "data-change").await;
        for change in ["raised", "retry-requested", "resolved"] {
            assert!(trail.iter().any(|c| c == change), "{change} in {trail:?}");
        }
        let entries = b.texts("[data-test=audit-entry]").await;
        assert!(
            entries.iter().any(|e| e.contains("retry-requested")
                && e.contains("ops (operations): accounting period reopened by finance")),
            "{entries:?}"
        );
        let retries = b.texts("[data-test=retry-request]").await;
        assert_eq!(retries.len(), 1);
        assert!(retries[0].contains("back in the outbox"), "{retries:?}");
        b.screenshot("retried").await;

        // NetSuite has the fulfilment: the document trace shows it posted.
        b.click("#nav-documents").await;
        b.fill("#trace-q", "SO1023").await;
        b.click("#trace-find").await;
        b.refresh_until("the fulfilment is posted", async || {
            b.texts("[data-test=activity]")
                .await
                .iter()
                .any(|a| a.contains("posted to NetSuite"))
        })
        .await;
        let stages = b.attrs("[data-test=stage]", "data-stage").await;
        assert_eq!(
            stages.last().map(String::as_str),
            Some("fulfilment_posted"),
            "{stages:?}"
        );
        let exceptions = b.texts("[data-test=document-exception]").await;
        assert_eq!(exceptions.len(), 2, "{exceptions:?}");
        assert!(
            exceptions.iter().all(|e| e.ends_with("resolved")),
            "{exceptions:?}"
        );
        b.screenshot("posted").await;
    })
    .await;
    live.assert_posted_once().await;
    live.stop().await;
}

/// Finance open the month-end close: last month by default, then October, chosen in the form,
/// where an unposted despatch and finance's own error block and the short despatch is listed
/// without blocking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_view_for_a_period_with_a_blocking_and_a_non_blocking_exception() {
    in_browser("close", async |b: &Browser, h: &Harness| {
        h.seed_close_month().await;
        sign_in(b, "fin", "finance").await;

        // Last month (the console's clock is on 2026-12-01): nothing blocks it, and October's
        // open items are listed as an earlier period's.
        b.click("#nav-close").await;
        assert_eq!(b.page().await, "page-close");
        assert_eq!(b.attrs("#close-period", "value").await, ["2026-11"]);
        assert_eq!(
            b.text("#close-status").await,
            "Clear: nothing blocks closing 2026-11."
        );
        assert_eq!(b.count("[data-test=close-blocker]").await, 0);

        // October, chosen in the form.
        b.fill("#close-period", CLOSE_MONTH).await;
        b.click("#close-show").await;
        assert_eq!(b.page().await, "page-close");
        assert_eq!(
            b.text("#close-status").await,
            "Blocked: 2 item(s) block closing 2026-10."
        );
        assert_eq!(b.attrs("#close-status", "data-blocking").await, ["true"]);
        let blockers = b.texts("#close-blockers [data-test=close-blocker]").await;
        assert_eq!(blockers.len(), 2, "{blockers:?}");
        assert!(
            blockers[0].contains("goods out 9001") && blockers[0].contains("queued"),
            "{blockers:?}"
        );
        assert!(
            blockers[1].contains(CLOSE_FINANCE_KEY)
                && blockers[1].contains("No account for the October stock count"),
            "{blockers:?}"
        );
        let shown = b.texts("#close-shown-list [data-test=close-shown]").await;
        assert_eq!(
            b.attrs("#close-shown-list [data-test=close-shown]", "data-category")
                .await,
            ["warning"],
            "{shown:?}"
        );
        assert!(shown[0].contains("operations · warning"), "{shown:?}");
        assert_eq!(
            b.count("#close-shown-list [data-test=close-blocker]").await,
            0
        );
        let totals = b.texts("[data-test=close-total]").await;
        assert_eq!(totals.len(), 1, "{totals:?}");
        assert!(
            totals[0].starts_with("Sales orders Item Fulfillment 2 1 9 5"),
            "{totals:?}"
        );
        b.screenshot("close").await;
        b.client()
            .execute(
                "document.getElementById('close-shown-list').scrollIntoView();",
                Vec::new(),
            )
            .await
            .expect("the page scrolls");
        b.screenshot("close-shown-and-totals").await;

        // The blocking exception opens its page.
        b.click("#close-blockers [data-test=close-exception-link]")
            .await;
        assert_eq!(b.page().await, "page-exception");
        assert_eq!(b.text("#exception-owner").await, "finance");
    })
    .await;
}
