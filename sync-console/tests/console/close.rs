//! The month-end close page and its CSV: what blocks and what is only shown, apart; the totals
//! to tie out; the period chosen, defaulted, or refused; sign-in required.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE};

use crate::support::{CLOSE_FINANCE_KEY, CLOSE_MONTH, Harness, exception_path, location};

/// The part of `page` from the element with id `from` up to the one with id `to`.
fn between<'a>(page: &'a str, from: &str, to: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{from}\""))
        .unwrap_or_else(|| panic!("no #{from} in {page}"));
    let end = page[start..]
        .find(&format!("id=\"{to}\""))
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// The `<tr>` elements of `html` whose `data-test` is `test`.
fn rows<'a>(html: &'a str, test: &str) -> Vec<&'a str> {
    let marker = format!("data-test=\"{test}\"");
    html.match_indices(&marker)
        .map(|(i, _)| {
            let end = html[i..].find("</tr>").map_or(html.len(), |e| i + e);
            &html[i..end]
        })
        .collect()
}

#[tokio::test]
async fn a_month_with_an_unposted_despatch_and_a_finance_error_is_blocked_and_its_warning_only_shown()
 {
    let h = Harness::start().await;
    h.seed_close_month().await;
    let fin = h.sign_in("fin").await;
    let (status, page) = fin.get(&format!("/close?period={CLOSE_MONTH}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("data-test=\"page-close\""));
    assert!(page.contains("id=\"close-period\" type=\"text\" name=\"period\" value=\"2026-10\""));
    assert!(
        page.contains("data-test=\"close-status\" data-blocking=\"true\">Blocked: 2 item(s) block closing 2026-10."),
        "{page}"
    );

    // What blocks, by category: SO6001's despatch, its fulfilment still queued; finance's
    // error of the month, with its exception and runbook entry.
    let blockers = between(&page, "close-blockers", "close-shown-list");
    let blocking = rows(blockers, "close-blocker");
    assert_eq!(blocking.len(), 2, "{blockers}");
    assert!(blocking[0].contains("data-category=\"unposted_document\""));
    assert!(blocking[0].contains("goods out 9001"), "{}", blocking[0]);
    assert!(blocking[0].contains("Item Fulfillment"), "{}", blocking[0]);
    assert!(blocking[0].contains("queued"), "{}", blocking[0]);
    assert!(
        blocking[0].contains("href=\"/documents?q=SO%206001\""),
        "{}",
        blocking[0]
    );
    assert!(
        blockers.contains("Not posted to NetSuite (1)"),
        "{blockers}"
    );
    assert!(blocking[1].contains("data-category=\"finance_exception\""));
    assert!(blocking[1].contains(&format!("data-key=\"{CLOSE_FINANCE_KEY}\"")));
    assert!(blocking[1].contains("No account for the October stock count"));
    assert!(blocking[1].contains(&format!("href=\"{}\"", exception_path(CLOSE_FINANCE_KEY))));
    assert!(blocking[1].contains("href=\"/runbook/missing%2Daccount%2Dmapping\""));
    assert!(blockers.contains("Finance exception (1)"), "{blockers}");
    assert!(rows(blockers, "close-shown").is_empty());

    // Shown without blocking: the short despatch, with its exception and runbook entry.
    let shown_part = between(&page, "close-shown-list", "close-reconciliation");
    let shown = rows(shown_part, "close-shown");
    let warnings: Vec<&&str> = shown
        .iter()
        .filter(|r| r.contains("data-category=\"warning\""))
        .collect();
    assert_eq!(warnings.len(), 1, "{shown_part}");
    assert!(rows(shown_part, "close-blocker").is_empty());
    let warning = warnings[0];
    assert!(warning.contains("operations · warning"), "{warning}");
    let key = warning
        .split("data-key=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the warning's exception key");
    let exception = h.store.exception(key).await.unwrap().unwrap();
    assert_eq!(exception.exception.kind, "short-despatch");
    assert!(warning.contains(&format!("href=\"{}\"", exception_path(key))));
    assert!(
        warning.contains("href=\"/runbook/short%2Ddespatch\""),
        "{warning}"
    );
    // The runbook link opens the entry.
    let (status, _) = fin.get("/runbook/short%2Ddespatch").await;
    assert_eq!(status, StatusCode::OK);

    // The last reconciliation and the totals to tie out: both despatches, one posted.
    let reconciliation = between(&page, "close-reconciliation", "close-totals");
    assert!(
        reconciliation.contains("12 positions compared, 0 drifting"),
        "{reconciliation}"
    );
    let totals = rows(&page, "close-total");
    assert_eq!(totals.len(), 1, "{page}");
    let total = totals[0];
    assert!(total.contains("data-flow=\"sales_order\" data-transaction=\"item_fulfillment\""));
    for (cell, value) in [
        ("documents", "2"),
        ("posted-documents", "1"),
        ("units", "9"),
        ("posted-units", "5"),
        ("value", "unknown"),
    ] {
        assert!(
            total.contains(&format!("data-test=\"{cell}\">{value}</td>")),
            "{cell} = {value} in {total}"
        );
    }
    // The rules in force are the defaults.
    assert!(page.contains("data-rule=\"warnings_block\" data-value=\"false\""));
    assert!(page.contains("data-rule=\"unconfirmed_drift_blocks\" data-value=\"true\""));
    assert!(page.contains("href=\"/close.csv?period=2026%2D10\""));
}

#[tokio::test]
async fn a_finance_error_blocks_with_a_link_to_its_exception_and_runbook() {
    let h = Harness::start().await;
    // Every role may look, a viewer too.
    let view = h.sign_in("view").await;
    let (status, page) = view.get("/close?period=2026-12").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-blocking=\"true\""), "{page}");
    let blockers = between(&page, "close-blockers", "close-shown-list");
    let blocking = rows(blockers, "close-blocker");
    let finance: Vec<&&str> = blocking
        .iter()
        .filter(|r| r.contains("data-key=\"EX-FIN-1\""))
        .collect();
    assert_eq!(finance.len(), 1, "{blockers}");
    assert!(finance[0].contains("data-category=\"finance_exception\""));
    assert!(finance[0].contains("No account for the adjustment"));
    assert!(finance[0].contains("href=\"/exceptions/EX%2DFIN%2D1\""));
    assert!(finance[0].contains("href=\"/runbook/missing%2Daccount%2Dmapping\""));
    let shown_part = between(&page, "close-shown-list", "close-reconciliation");
    assert!(
        rows(shown_part, "close-shown")
            .iter()
            .any(|r| r.contains("data-key=\"EX-OPS-WARN\"")
                && r.contains("data-category=\"warning\"")),
        "{shown_part}"
    );
    assert!(page.contains("data-test=\"close-no-totals\""));
    assert!(page.contains("No reconciliation is recorded"));
}

#[tokio::test]
async fn the_default_period_is_last_month_with_earlier_items_shown() {
    let h = Harness::start().await;
    h.seed_close_month().await;
    let ops = h.sign_in("ops").await;
    // The console's clock is on 2026-12-01: November, which nothing blocks.
    let (status, page) = ops.get("/close").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"period\" value=\"2026-11\""), "{page}");
    assert!(
        page.contains("data-blocking=\"false\">Clear: nothing blocks closing 2026-11."),
        "{page}"
    );
    assert!(rows(&page, "close-blocker").is_empty());
    // October's unposted despatch is listed as an earlier period's, without blocking.
    let earlier: Vec<&str> = rows(&page, "close-shown")
        .into_iter()
        .filter(|r| r.contains("data-category=\"earlier_period\""))
        .collect();
    assert!(
        earlier.iter().any(|r| r.contains("goods out 9001")),
        "{earlier:?}"
    );
}

#[tokio::test]
async fn the_csv_download_carries_the_same_report() {
    let h = Harness::start().await;
    h.seed_close_month().await;
    let fin = h.sign_in("fin").await;
    let response = h
        .http
        .get(h.url(&format!("/close.csv?period={CLOSE_MONTH}")))
        .header(COOKIE, &fin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header(CONTENT_TYPE).as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        header(CONTENT_DISPOSITION).as_deref(),
        Some("attachment; filename=\"close-2026-10.csv\"")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("record,category,blocking,document,activity,flow,transaction"),
        "{csv}"
    );
    let items: Vec<&&str> = lines.iter().filter(|l| l.starts_with("item,")).collect();
    assert!(
        items
            .iter()
            .any(|l| l.starts_with("item,unposted_document,yes,") && l.contains("goods out 9001")),
        "{csv}"
    );
    assert!(
        items
            .iter()
            .any(|l| l.starts_with("item,warning,no,") && l.contains("short-despatch")),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("total,,,,,sales_order,item_fulfillment,")
                && l.contains(",2,1,9,5,")),
        "{csv}"
    );
}

#[tokio::test]
async fn a_bad_period_is_refused_with_a_message() {
    let h = Harness::start().await;
    let fin = h.sign_in("fin").await;
    for period in ["2026-13", "november", "2026-1"] {
        let (status, page) = fin.get(&format!("/close?period={period}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{period}");
        assert!(page.contains("data-test=\"close-error\""), "{page}");
        assert!(
            page.contains(&format!("`{period}` is not a period: expected YYYY-MM")),
            "{page}"
        );
        // The form is there to correct it, holding what was typed.
        assert!(page.contains(&format!("name=\"period\" value=\"{period}\"")));
    }
    let (status, page) = fin.get("/close.csv?period=2026-13").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("`2026-13` is not a period"), "{page}");
}

#[tokio::test]
async fn an_unsigned_visitor_is_sent_to_sign_in() {
    let h = Harness::start().await;
    for path in [
        "/close",
        "/close?period=2026-10",
        "/close.csv?period=2026-10",
    ] {
        let response = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response).as_deref(), Some("/sign-in"), "{path}");
    }
}
