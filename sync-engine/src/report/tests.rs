use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde_json::json;
use sync_core::{DocumentRef, DriftClass, OrderKind, OrderRef, StockStatus};

use super::html::{GuideUrlError, HtmlOptions, check_guide_url, content_security_policy, render};
use super::*;
use crate::monitor::{DocumentLifecycle, Flow, Stage, StageMark};
use crate::store::{NewException, StoredException};

fn now() -> Timestamp {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

fn lifecycle(flow: Flow, id: &str, stages: &[Stage]) -> DocumentLifecycle {
    let kind = match flow {
        Flow::PurchaseOrder => OrderKind::Purchase,
        Flow::ReturnAuthorisation => OrderKind::Return,
        _ => OrderKind::Sales,
    };
    DocumentLifecycle {
        document: DocumentRef::Order {
            order: OrderRef {
                kind,
                id: id.into(),
            },
        },
        flow,
        stages: stages
            .iter()
            .map(|&stage| StageMark { stage, at: ago(60) })
            .collect(),
        activity: Vec::new(),
        waiting: None,
    }
}

fn exception(
    key: &str,
    owner: &str,
    kind: &str,
    raised_secs_ago: i64,
    resolved: bool,
) -> StoredException {
    StoredException {
        exception: NewException {
            key: key.to_owned(),
            kind: kind.to_owned(),
            owner: owner.to_owned(),
            severity: "error".to_owned(),
            document: format!("sales order {key}"),
            message: format!("{kind} on {key}"),
            runbook: format!("operations.md#{kind}"),
            payload: json!({}),
        },
        raised_at: ago(raised_secs_ago),
        resolved_at: resolved.then(|| ago(10)),
        resolution_note: resolved.then(|| "fixed".to_owned()),
    }
}

fn position(
    sku: &str,
    status: StockStatus,
    class: DriftClass,
    unexplained: i64,
    value: Option<i64>,
) -> DriftPositionRow {
    DriftPositionRow {
        sku: sku.into(),
        location: "1".into(),
        status,
        class,
        clarus: Decimal::from(100 + unexplained),
        netsuite: Decimal::from(100),
        in_flight: Decimal::ZERO,
        unexplained: Decimal::from(unexplained),
        value_impact: value.map(Decimal::from),
    }
}

#[test]
fn age_buckets_have_closed_lower_bounds() {
    let bucket = |secs| AgeBucket::of(SignedDuration::from_secs(secs));
    assert_eq!(bucket(-30), AgeBucket::UnderOneHour);
    assert_eq!(bucket(0), AgeBucket::UnderOneHour);
    assert_eq!(bucket(3_599), AgeBucket::UnderOneHour);
    assert_eq!(bucket(3_600), AgeBucket::HoursToDay);
    assert_eq!(bucket(86_399), AgeBucket::HoursToDay);
    assert_eq!(bucket(86_400), AgeBucket::DaysToWeek);
    assert_eq!(bucket(7 * 86_400 - 1), AgeBucket::DaysToWeek);
    assert_eq!(bucket(7 * 86_400), AgeBucket::OverWeek);
    let codes: Vec<_> = AgeBucket::ALL
        .iter()
        .map(|b| serde_json::to_value(b).unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            json!("under_1h"),
            json!("1h_to_24h"),
            json!("1d_to_7d"),
            json!("over_7d")
        ]
    );
}

#[test]
fn funnel_counts_documents_that_reached_each_stage() {
    use Stage::*;
    let documents = [
        lifecycle(Flow::SalesOrder, "1", &[Imported]),
        lifecycle(Flow::SalesOrder, "2", &[Imported, SentToClarus]),
        lifecycle(
            Flow::SalesOrder,
            "3",
            &[
                Imported,
                SentToClarus,
                Acknowledged,
                Picking,
                Despatched,
                FulfilmentPosted,
            ],
        ),
        lifecycle(
            Flow::SalesOrder,
            "4",
            &[Imported, SentToClarus, Acknowledged],
        ),
        lifecycle(
            Flow::PurchaseOrder,
            "5",
            &[Imported, SentToClarus, Received, ReceiptPosted],
        ),
        lifecycle(Flow::Adjustment, "6", &[Seen]),
        lifecycle(Flow::Adjustment, "7", &[Seen, Posted]),
    ];
    let funnel = funnel(&documents);
    assert_eq!(
        funnel.iter().map(|f| f.flow).collect::<Vec<_>>(),
        FLOWS.to_vec()
    );
    let counts = |flow: Flow| -> Vec<(Stage, u64)> {
        let f = funnel.iter().find(|f| f.flow == flow).unwrap();
        f.stages.iter().map(|s| (s.stage, s.reached)).collect()
    };
    assert_eq!(funnel[0].documents, 4);
    assert_eq!(funnel[2].documents, 0);
    let receipt_stages = |n| {
        vec![
            (Imported, n),
            (SentToClarus, n),
            (Received, n),
            (ReceiptPosted, n),
        ]
    };
    for (flow, expected) in [
        (
            Flow::SalesOrder,
            vec![
                (Imported, 4),
                (SentToClarus, 3),
                (Acknowledged, 2),
                (Picking, 1),
                (Despatched, 1),
                (FulfilmentPosted, 1),
            ],
        ),
        (Flow::PurchaseOrder, receipt_stages(1)),
        (Flow::ReturnAuthorisation, receipt_stages(0)),
        (Flow::Adjustment, vec![(Seen, 2), (Posted, 1)]),
    ] {
        assert_eq!(counts(flow), expected, "{flow:?}");
    }
}

fn sample_exceptions() -> Vec<StoredException> {
    vec![
        // Resolved ones first, to show the report puts open ones first itself.
        exception("r1", "operations", "short-despatch", 90_000, true),
        exception("o1", "operations", "stock-drift", 10, false),
        exception("o2", "operations", "stuck-document", 3_600, false),
        exception("o3", "finance", "action-failed", 2 * 86_400, false),
        exception("o4", "finance", "action-failed", 30 * 86_400, false),
        exception("o5", "item_master", "unknown-sku", 86_399, false),
        exception("r2", "item_master", "unknown-sku", 500, true),
    ]
}

#[test]
fn exceptions_are_counted_by_owner_and_age_and_listed_open_first() {
    let report = OperationsReport::from_parts(
        &[],
        &sample_exceptions(),
        BacklogSection::default(),
        DriftInput::default(),
        &ReportOptions::default(),
        now(),
    );
    let e = &report.exceptions;
    assert_eq!((e.open, e.resolved), (5, 2));
    let age: Vec<u64> = e.open_by_age.iter().map(|a| a.open).collect();
    assert_eq!(age, [1, 2, 1, 1]);
    let owners: Vec<(&str, u64, u64)> = e
        .by_owner
        .iter()
        .map(|o| (o.owner.as_str(), o.open, o.resolved))
        .collect();
    assert_eq!(
        owners,
        [
            ("finance", 2, 0),
            ("item_master", 1, 1),
            ("operations", 2, 1)
        ]
    );
    let finance: Vec<u64> = e.by_owner[0].open_by_age.iter().map(|a| a.open).collect();
    assert_eq!(finance, [0, 0, 1, 1]);
    assert_eq!(e.open_by_kind[0].kind, "action-failed");
    assert_eq!(e.open_by_kind[0].open, 2);

    let keys: Vec<&str> = report
        .exception_list
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(keys, ["o4", "o3", "o5", "o2", "o1", "r1", "r2"]);
    assert_eq!(report.exception_list[0].age_secs, 30 * 86_400);
    // A resolved exception's age runs to its resolution.
    assert_eq!(report.exception_list[5].age_secs, 90_000 - 10);
    assert_eq!(report.exception_list_omitted, 0);

    let limited = OperationsReport::from_parts(
        &[],
        &sample_exceptions(),
        BacklogSection::default(),
        DriftInput::default(),
        &ReportOptions { exception_limit: 3 },
        now(),
    );
    assert_eq!(limited.exception_list.len(), 3);
    assert_eq!(limited.exception_list_omitted, 4);
    assert!(limited.exception_list.iter().all(ExceptionEntry::is_open));
    assert_eq!(limited.exceptions, report.exceptions, "counts cover all");
}

fn sample_drift() -> DriftInput {
    DriftInput {
        trend: vec![
            DriftTrendPoint {
                at: ago(3_600),
                positions: 40,
                drift: 3,
                unexplained_units: Decimal::from(16),
                value_impact: Some(Decimal::new(8150, 2)),
            },
            DriftTrendPoint {
                at: ago(7_200),
                positions: 40,
                drift: 1,
                unexplained_units: Decimal::from(2),
                value_impact: None,
            },
        ],
        positions: vec![
            position(
                "MUG",
                StockStatus::Available,
                DriftClass::Drift,
                -5,
                Some(-25),
            ),
            position("MUG", StockStatus::Held, DriftClass::Drift, 2, None),
            position(
                "MUG",
                StockStatus::Available,
                DriftClass::ExplainedByInFlight,
                0,
                None,
            ),
            position(
                "TEE",
                StockStatus::Available,
                DriftClass::Drift,
                9,
                Some(45),
            ),
        ],
    }
}

/// The report of `documents` with the sample exceptions and drift.
fn sample_report(documents: &[DocumentLifecycle]) -> OperationsReport {
    OperationsReport::from_parts(
        documents,
        &sample_exceptions(),
        BacklogSection::default(),
        sample_drift(),
        &ReportOptions::default(),
        now(),
    )
}

#[test]
fn drift_is_ordered_in_time_and_summed_per_sku() {
    let drift = DriftSection::from_input(sample_drift());
    assert!(drift.trend[0].at < drift.trend[1].at);
    assert_eq!(drift.drifting_positions, 3);
    assert_eq!(drift.unexplained_units, Decimal::from(16));
    // −25 and +45, counted without sign as the drift history's run summary counts them.
    assert_eq!(drift.value_impact, Some(Decimal::from(70)));
    type Sums<'a> = (&'a str, u64, u64, Decimal, Decimal, Option<Decimal>);
    let skus: Vec<Sums> = drift
        .by_sku
        .iter()
        .map(|s| {
            (
                s.sku.as_str(),
                s.positions,
                s.drifting,
                s.unexplained_units,
                s.net_units,
                s.value_impact,
            )
        })
        .collect();
    assert_eq!(
        skus,
        [
            (
                "TEE",
                1,
                1,
                Decimal::from(9),
                Decimal::from(9),
                Some(Decimal::from(45))
            ),
            (
                "MUG",
                3,
                2,
                Decimal::from(7),
                Decimal::from(-3),
                Some(Decimal::from(-25))
            ),
        ]
    );
    // Drifting positions first, largest first.
    assert_eq!(drift.positions[0].sku.as_str(), "TEE");
    assert_eq!(drift.positions[3].class, DriftClass::ExplainedByInFlight);

    let json = serde_json::to_value(&drift).unwrap();
    assert_eq!(json["unexplained_units"], json!("16"));
    assert_eq!(json["trend"][1]["value_impact"], json!("81.50"));
    assert_eq!(json["trend"][0]["value_impact"], json!(null));
}

#[test]
fn the_page_escapes_data_and_links_runbooks_into_the_guide() {
    let mut exceptions = sample_exceptions();
    exceptions[1].exception.document = "<script>alert(1)</script>".to_owned();
    exceptions[1].exception.message = "Clarus said \"no\" & <b>left</b>".to_owned();
    exceptions[1].exception.owner = "ops\"><img src=x>".to_owned();
    let mut drift = sample_drift();
    drift.positions[0].sku = "A&B<1>".into();
    let report = OperationsReport::from_parts(
        &[lifecycle(Flow::SalesOrder, "1", &[Stage::Imported])],
        &exceptions,
        BacklogSection::default(),
        drift,
        &ReportOptions::default(),
        now(),
    );
    let html = render(
        &report,
        &HtmlOptions {
            guide_url: "../guide/operations.html".to_owned(),
            ..HtmlOptions::default()
        },
    );
    assert!(!html.contains("<script>alert"), "document name escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Clarus said &quot;no&quot; &amp; &lt;b&gt;left&lt;/b&gt;"));
    assert!(
        !html.contains("<img"),
        "owner escaped in text and attributes"
    );
    assert!(html.contains("data-metric=\"exceptions.owner.ops&quot;&gt;&lt;img src=x&gt;.open\""));
    assert!(html.contains("A&amp;B&lt;1&gt;"));
    assert!(!html.contains("A&B<1>"));
    assert!(html.contains("href=\"../guide/operations.html#unknown-sku\""));
    // Nothing is fetched: no remote or embedded resources, and a policy forbidding them.
    for forbidden in ["http://", "https://", "src=\"", "@import", "url("] {
        assert!(!html.contains(forbidden), "page contains {forbidden}");
    }
    assert!(html.contains("default-src 'none'"));
    // Exactly one script, the self-check.
    assert_eq!(html.matches("<script").count(), 1);
}

#[test]
fn the_policy_allows_only_the_check_script_by_its_hash() {
    let policy = content_security_policy();
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    let script = directives
        .iter()
        .find(|d| d.starts_with("script-src "))
        .expect("a script-src directive");
    assert!(!script.contains("unsafe"), "{script}");
    let hash = script
        .strip_prefix("script-src 'sha256-")
        .and_then(|h| h.strip_suffix('\''))
        .expect("one sha256 source");
    // Base64 of 32 bytes: 43 characters and one `=`.
    assert_eq!(hash.len(), 44, "{hash}");
    assert!(hash.ends_with('='));
    for directive in [
        "default-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        "style-src 'unsafe-inline'",
    ] {
        assert!(
            directives.contains(&directive),
            "{policy} lacks {directive}"
        );
    }
    let html = render(&sample_report(&[]), &HtmlOptions::default());
    assert!(html.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">"
    )));
    // Inline styles only: the one `'unsafe-inline'` is style-src's.
    assert_eq!(html.matches("'unsafe-inline'").count(), 1);
}

#[test]
fn guide_urls_are_relative_or_http_or_file() {
    for ok in [
        "docs/operations.md",
        "../guide/operations.html",
        "/srv/docs/operations.md",
        "//wiki.example.com/operations",
        "https://wiki.example.com/ops/operations.html",
        "http://intranet/operations.md",
        "file:///home/ops/docs/operations.md",
        "operations.md?x=javascript:1",
        "docs/operations guide.md",
    ] {
        assert_eq!(check_guide_url(ok), Ok(()), "{ok}");
    }
    for (bad, scheme) in [
        ("javascript:alert(1)", "javascript"),
        ("JavaScript:alert(document.domain)", "javascript"),
        ("data:text/html,<script>alert(1)</script>", "data"),
        ("vbscript:msgbox(1)", "vbscript"),
        ("blob:https://x/1", "blob"),
    ] {
        assert_eq!(
            check_guide_url(bad),
            Err(GuideUrlError::Scheme(scheme.to_owned())),
            "{bad}"
        );
    }
    for hidden in [
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:x",
        "\u{1}javascript:x",
    ] {
        assert_eq!(
            check_guide_url(hidden),
            Err(GuideUrlError::Control),
            "{hidden:?}"
        );
    }
}

#[test]
fn a_script_guide_url_links_nothing() {
    let report = sample_report(&[]);
    for guide_url in [
        "javascript:alert(1)",
        "data:text/html,x",
        " javascript:alert(1)",
    ] {
        let html = render(
            &report,
            &HtmlOptions {
                guide_url: guide_url.to_owned(),
                ..HtmlOptions::default()
            },
        );
        assert!(!html.contains("javascript:"), "{guide_url}");
        assert!(!html.contains("data:"), "{guide_url}");
        assert!(!html.contains("<a href=\"javascript"), "{guide_url}");
        // The runbook entries are still named, as text.
        assert!(html.contains("<span>unknown-sku</span>"), "{guide_url}");
    }
}

#[test]
fn every_chart_draws_a_mark_per_value_above_zero() {
    let report = sample_report(&[
        lifecycle(Flow::SalesOrder, "1", &[Stage::Imported]),
        lifecycle(
            Flow::SalesOrder,
            "2",
            &[Stage::Imported, Stage::SentToClarus],
        ),
    ]);
    let html = render(&report, &HtmlOptions::default());
    let chart = |name: &str| -> usize {
        let start = html
            .find(&format!("data-chart=\"{name}\""))
            .unwrap_or_else(|| panic!("no chart {name}"));
        let end = start + html[start..].find("</svg>").unwrap();
        html[start..end].matches("data-mark=").count()
    };
    assert_eq!(chart("funnel-sales_order"), 2);
    assert!(!html.contains("data-chart=\"funnel-purchase_order\""));
    assert_eq!(chart("exceptions-by-owner"), 3);
    assert_eq!(chart("exceptions-by-age"), 4);
    assert_eq!(chart("drift-by-sku"), 2);
    assert_eq!(chart("drift-trend"), 2);
}

#[test]
fn a_thousand_exceptions_stay_a_reasonable_page() {
    let long = "x".repeat(2_000);
    let exceptions: Vec<StoredException> = (0..1_000)
        .map(|i| {
            let mut e = exception(
                &format!("SO{i:05}"),
                ["operations", "finance", "item_master"][i % 3],
                "action-failed",
                i as i64 * 600,
                i % 4 == 0,
            );
            e.exception.message = format!("NetSuite refused the fulfilment: {long}");
            e
        })
        .collect();
    let report = OperationsReport::from_parts(
        &[],
        &exceptions,
        BacklogSection::default(),
        sample_drift(),
        &ReportOptions::default(),
        now(),
    );
    assert_eq!(report.exception_list.len(), 1_000);
    let html = render(&report, &HtmlOptions::default());
    assert_eq!(html.matches("<tr class=").count(), 1_000);
    println!("1,000 exceptions: {} bytes of HTML", html.len());
    assert!(
        html.len() < 600 * 1024,
        "{} bytes for 1,000 exceptions",
        html.len()
    );
}
