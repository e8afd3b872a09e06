//! The Prometheus exposition: it parses (metric names, types, escaped labels), reflects the
//! store's documents, exceptions and outbox, and the process counters.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use sync_engine::engine::Engine;
use sync_engine::metrics::{Metrics, render};
use sync_engine::store::NewException;

use crate::support::events::{self, at, mappings};
use crate::support::store::sqlite;

/// One sample: metric name, labels, value.
type Sample = (String, HashMap<String, String>, f64);

/// Parses the OpenMetrics text strictly enough to catch malformed names, labels and values:
/// returns the declared types and the samples.
fn parse(text: &str) -> (HashMap<String, String>, Vec<Sample>) {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    assert!(text.ends_with("# EOF\n"), "{text}");
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(valid_name(name), "{line}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series, HashMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                (name, parse_labels(body, line))
            }
        };
        assert!(valid_name(name), "{line}");
        samples.push((name.to_owned(), labels, value));
    }
    (types, samples)
}

/// `a="x",b="y \"quoted\"\n"` with the exposition's escapes undone.
fn parse_labels(body: &str, line: &str) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('"') => value.push('"'),
                    Some('\\') => value.push('\\'),
                    other => panic!("bad escape {other:?} in {line}"),
                },
                Some('"') => break,
                Some('\n') | None => panic!("unterminated label in {line}"),
                Some(c) => value.push(c),
            }
        }
        labels.insert(name, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

#[tokio::test]
async fn the_exposition_parses_and_reflects_the_store_and_the_counters() {
    let store = sqlite();
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine
        .ingest(&events::item("77", "MUG"), at())
        .await
        .unwrap();
    for (id, sku) in [("501", "MUG"), ("502", "MUG"), ("600", "NEW")] {
        engine
            .ingest(&events::sales_order(id, "1", 1, "77", sku, 1), at())
            .await
            .unwrap();
    }
    let hostile = "fin\"ance\\ops\nnext";
    store
        .raise_exception(
            NewException {
                key: "EXC-hostile".into(),
                kind: "invalid-record".into(),
                owner: hostile.into(),
                severity: "error".into(),
                document: "SO 999".into(),
                message: "m".into(),
                runbook: "operations.md#invalid-record".into(),
                payload: serde_json::json!({}),
            },
            at(),
        )
        .await
        .unwrap();

    let metrics = Metrics::new();
    metrics.netsuite_request("ok", Duration::from_millis(120));
    metrics.netsuite_request("retryable", Duration::from_millis(30));
    metrics.netsuite_throttled();
    metrics.clarus_failure("rejected");
    metrics.clarus_action("ok", Duration::from_millis(80));
    metrics.clarus_action("rejected", Duration::from_millis(20));
    metrics.webhook(202);
    metrics.webhook(202);
    metrics.webhook(401);

    let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
    let text = render(store.as_ref(), &metrics, now).await.unwrap();
    let (types, samples) = parse(&text);

    for (name, kind) in [
        ("sync_documents", "gauge"),
        ("sync_open_exceptions", "gauge"),
        ("sync_outbox_depth", "gauge"),
        ("sync_outbox_oldest_age_seconds", "gauge"),
        ("sync_netsuite_requests", "counter"),
        ("sync_netsuite_throttled", "counter"),
        ("sync_netsuite_request_seconds", "histogram"),
        ("sync_clarus_call_failures", "counter"),
        ("sync_clarus_actions", "counter"),
        ("sync_clarus_action_seconds", "histogram"),
        ("sync_webhook_deliveries", "counter"),
    ] {
        assert_eq!(
            types.get(name).map(String::as_str),
            Some(kind),
            "{name}\n{text}"
        );
    }

    // Two goods outs and a product to create, none done: planned at 09:00, an hour old at 10:00.
    let depth: f64 = samples
        .iter()
        .filter(|(n, _, _)| n == "sync_outbox_depth")
        .map(|s| s.2)
        .sum();
    assert_eq!(depth, 3.0, "{text}");
    // (name, labels, value) of a sample.
    type Expected<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);
    let expected: &[Expected<'_>] = &[
        // Three sales orders imported (600 held for its unknown SKU).
        (
            "sync_documents",
            &[("flow", "sales_order"), ("stage", "imported")],
            3.0,
        ),
        (
            "sync_open_exceptions",
            &[("owner", "item_master"), ("kind", "unknown-sku")],
            1.0,
        ),
        // The hostile owner reads back exactly once its escapes are undone.
        (
            "sync_open_exceptions",
            &[("owner", hostile), ("kind", "invalid-record")],
            1.0,
        ),
        ("sync_outbox_depth", &[("kind", "create_goods_out")], 2.0),
        ("sync_outbox_oldest_age_seconds", &[], 3600.0),
        ("sync_netsuite_requests_total", &[("outcome", "ok")], 1.0),
        ("sync_netsuite_throttled_total", &[], 1.0),
        ("sync_netsuite_request_seconds_count", &[], 2.0),
        (
            "sync_netsuite_request_seconds_bucket",
            &[("le", "0.04")],
            1.0,
        ),
        (
            "sync_clarus_call_failures_total",
            &[("outcome", "rejected")],
            1.0,
        ),
        ("sync_clarus_actions_total", &[("outcome", "ok")], 1.0),
        ("sync_clarus_action_seconds_count", &[], 2.0),
        (
            "sync_webhook_deliveries_total",
            &[("result", "accepted"), ("status", "202")],
            2.0,
        ),
        (
            "sync_webhook_deliveries_total",
            &[("result", "refused"), ("status", "401")],
            1.0,
        ),
    ];
    for (name, labels, expected) in expected {
        assert_eq!(
            value(&samples, name, labels),
            Some(*expected),
            "{name} {labels:?}\n{text}"
        );
    }
}
