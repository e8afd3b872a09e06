//! The operations report in a real browser: a short simulated day through the whole engine
//! (with short picks, a stock position made to drift, and exceptions of several owners and
//! ages), the report written as HTML and JSON, and the page loaded by headless Chromium with
//! `--dump-dom`. The page's own check script records what the browser shows; the test asserts
//! the page rendered (title, sections, exception rows), every chart drew its marks with a
//! non-zero size, and every figure shown equals the JSON report's. The same page with an
//! injected inline script shows that the Content-Security-Policy runs only the page's own
//! check script (allowed by its hash).
//!
//! `HTML_REPORT_KEEP=1` keeps the page and its JSON (the path is printed).
//!
//! Chromium is found as `$CHROMIUM`, `chromium`, `chromium-browser` or `google-chrome`. Without
//! it the test fails when `CI` is set and is skipped (with the reason printed) otherwise.

use crate::support::cli::scratch_dir;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use examples::harness::{EngineOptions, RunningEngine, Systems, SystemsOptions};
use examples::report::{reconcile_now, write_operations_report};
use examples::scenario::{self, ScenarioOptions, WarehouseDay};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde_json::Value;
use sync_core::DriftClass;
use sync_engine::report::html::HtmlOptions;
use sync_engine::report::{DriftInput, DriftTrendPoint};
use sync_engine::service::backlog;
use sync_engine::store::NewException;

const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);
const GUIDE: &str = "docs/operations.md";
/// A document name and message that must reach the page as text, never as markup.
const HOSTILE_DOCUMENT: &str = "SO<b id=\"injected\">1</b> & \"co\"";

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let dirs = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&dirs) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Loads the page in headless Chromium and returns the DOM after its scripts ran.
fn dump_dom(chromium: &Path, page: &Path, profile: &Path) -> String {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    // Read the output on threads so a full pipe cannot stall the browser.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = out.join().unwrap().unwrap();
    let errors = err.join().unwrap();
    assert!(
        status.success() && !dom.is_empty(),
        "chromium failed ({status}): {errors}"
    );
    dom
}

/// The text of the first element that starts with `open` (up to its `close`), unescaped.
fn element_text(dom: &str, open: &str, close: &str) -> Option<String> {
    let start = dom.find(open)? + open.len();
    let end = start + dom[start..].find(close)?;
    Some(
        dom[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&"),
    )
}

/// A JSON figure as text: numbers as they are, decimals (strings) as they are.
fn figure(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether two figures are the same number (or the same text when either is not a number).
fn same(shown: &str, expected: &str) -> bool {
    match (Decimal::from_str(shown), Decimal::from_str(expected)) {
        (Ok(a), Ok(b)) => a == b,
        _ => shown == expected,
    }
}

/// Every figure the page must show, by `data-metric` name, from the JSON report.
fn expected_metrics(json: &Value) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for f in json["funnel"].as_array().unwrap() {
        let flow = f["flow"].as_str().unwrap();
        m.insert(format!("funnel.{flow}.documents"), figure(&f["documents"]));
        if f["documents"].as_u64().unwrap() > 0 {
            for s in f["stages"].as_array().unwrap() {
                m.insert(
                    format!("funnel.{flow}.{}", s["stage"].as_str().unwrap()),
                    figure(&s["reached"]),
                );
            }
        }
    }
    let e = &json["exceptions"];
    m.insert("exceptions.open".into(), figure(&e["open"]));
    m.insert("exceptions.resolved".into(), figure(&e["resolved"]));
    let any_open = e["open"].as_u64().unwrap() > 0;
    for o in e["by_owner"].as_array().unwrap() {
        let owner = o["owner"].as_str().unwrap();
        if any_open {
            m.insert(format!("exceptions.owner.{owner}.open"), figure(&o["open"]));
        }
        m.insert(
            format!("exceptions.owner.{owner}.resolved"),
            figure(&o["resolved"]),
        );
        for a in o["open_by_age"].as_array().unwrap() {
            m.insert(
                format!(
                    "exceptions.owner.{owner}.age.{}",
                    a["bucket"].as_str().unwrap()
                ),
                figure(&a["open"]),
            );
        }
    }
    if any_open {
        for a in e["open_by_age"].as_array().unwrap() {
            m.insert(
                format!("exceptions.age.{}", a["bucket"].as_str().unwrap()),
                figure(&a["open"]),
            );
        }
    }
    for k in e["open_by_kind"].as_array().unwrap() {
        m.insert(
            format!("exceptions.kind.{}.open", k["kind"].as_str().unwrap()),
            figure(&k["open"]),
        );
    }
    m.insert(
        "exceptions.listed".into(),
        json["exception_list"].as_array().unwrap().len().to_string(),
    );
    if json["exception_list_omitted"].as_u64().unwrap() > 0 {
        m.insert(
            "exceptions.omitted".into(),
            figure(&json["exception_list_omitted"]),
        );
    }
    for (name, value) in json["backlog"].as_object().unwrap() {
        m.insert(format!("backlog.{name}"), figure(value));
    }
    let d = &json["drift"];
    for name in ["drifting_positions", "unexplained_units", "value_impact"] {
        if !d[name].is_null() {
            m.insert(format!("drift.{name}"), figure(&d[name]));
        }
    }
    if let Some(latest) = d["trend"].as_array().unwrap().last() {
        for name in ["drift", "positions", "unexplained_units", "value_impact"] {
            if !latest[name].is_null() {
                m.insert(format!("drift.latest.{name}"), figure(&latest[name]));
            }
        }
    }
    for s in d["by_sku"].as_array().unwrap().iter().take(20) {
        m.insert(
            format!("drift.sku.{}.unexplained_units", s["sku"].as_str().unwrap()),
            figure(&s["unexplained_units"]),
        );
    }
    m
}

/// Every chart the page must draw, with the value of each mark, from the JSON report.
fn expected_charts(json: &Value) -> BTreeMap<String, Vec<String>> {
    let positive = |v: &Value| Decimal::from_str(&figure(v)).unwrap() > Decimal::ZERO;
    let mut c = BTreeMap::new();
    for f in json["funnel"].as_array().unwrap() {
        if f["documents"].as_u64().unwrap() > 0 {
            c.insert(
                format!("funnel-{}", f["flow"].as_str().unwrap()),
                f["stages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| &s["reached"])
                    .filter(|v| positive(v))
                    .map(figure)
                    .collect(),
            );
        }
    }
    let e = &json["exceptions"];
    if e["open"].as_u64().unwrap() > 0 {
        let owners = e["by_owner"].as_array().unwrap().iter().map(|o| &o["open"]);
        c.insert(
            "exceptions-by-owner".into(),
            owners.filter(|v| positive(v)).map(figure).collect(),
        );
        let ages = e["open_by_age"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["open"]);
        c.insert(
            "exceptions-by-age".into(),
            ages.filter(|v| positive(v)).map(figure).collect(),
        );
    }
    let d = &json["drift"];
    let skus = d["by_sku"].as_array().unwrap();
    if !skus.is_empty() {
        c.insert(
            "drift-by-sku".into(),
            skus.iter()
                .take(20)
                .map(|s| &s["unexplained_units"])
                .filter(|v| positive(v))
                .map(figure)
                .collect(),
        );
    }
    let trend = d["trend"].as_array().unwrap();
    if !trend.is_empty() {
        c.insert(
            "drift-trend".into(),
            trend
                .iter()
                .map(|p| figure(&p["unexplained_units"]))
                .collect(),
        );
    }
    c
}

/// The anchors of the guide's headings, as a Markdown renderer makes them.
fn guide_anchors() -> BTreeSet<String> {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    guide
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| {
            h.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// A short day through the whole engine, a drifting position and a few exceptions of our own;
/// returns the paths of the HTML and JSON reports.
async fn write_reports(dir: &Path) -> (PathBuf, PathBuf) {
    let systems = Systems::start(&SystemsOptions::calm(11)).await.unwrap();
    let options = ScenarioOptions {
        skus: 8,
        short_pick_rate: 0.3,
        movements: 6,
        ..ScenarioOptions::day(14, 11)
    };
    let mut seeded = scenario::seed_items(&systems, &options).unwrap();
    let engine = RunningEngine::start(&systems, &EngineOptions::fast(dir.join("sync.sqlite")))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !scenario::products_ready(&systems, &seeded) {
        assert!(Instant::now() < deadline, "items did not reach Clarus");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scenario::seed_clarus_stock(&systems, &options, &seeded).unwrap();
    scenario::seed_orders(&systems, &options, &mut seeded).unwrap();
    let mut day = WarehouseDay::new(&options, &seeded);
    let store = engine.store.clone();
    let mut moved = false;
    let mut quiet = 0;
    loop {
        assert!(Instant::now() < deadline, "the day did not settle");
        let worked = day.step(&systems).unwrap();
        let idle = systems.webhooks_idle().await;
        let empty = backlog(store.as_ref()).await.unwrap().is_empty();
        quiet = if worked == 0 && idle && empty {
            quiet + 1
        } else {
            0
        };
        if quiet >= 20 {
            if moved {
                break;
            }
            day.move_stock(&systems, &seeded).unwrap();
            moved = true;
            quiet = 0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A position NetSuite gets wrong behind the integration's back: real drift at the next
    // reconciliation, raised as a stock-drift exception.
    let (sku, item) = seeded.items[0].clone();
    let ns = systems.netsuite.handle();
    let on_hand = ns.on_hand(item, systems.location, sim::netsuite::GOOD);
    ns.set_on_hand(
        item,
        systems.location,
        sim::netsuite::GOOD,
        on_hand - Decimal::from(3),
    );
    let now = Timestamp::now();
    let reconciled = reconcile_now(&systems, store.clone(), now).await.unwrap();
    let latest = &reconciled.snapshot;
    assert!(
        latest.rows.iter().any(|r| r.class == DriftClass::Drift
            && r.sku.as_str() == sku
            && r.value_impact.is_some()),
        "{latest:?}"
    );
    // Two earlier points of the trend, then the runs the history holds.
    let positions = latest.run.summary.positions as u64;
    let history = DriftInput::from_history(store.as_ref(), 100).await.unwrap();
    let mut trend = vec![
        DriftTrendPoint {
            at: now - SignedDuration::from_hours(2),
            positions,
            drift: 2,
            unexplained_units: Decimal::from(7),
            value_impact: Some(Decimal::new(2975, 2)),
        },
        DriftTrendPoint {
            at: now - SignedDuration::from_hours(1),
            positions,
            drift: 0,
            unexplained_units: Decimal::ZERO,
            value_impact: None,
        },
    ];
    trend.extend(history.trend);
    let drift = DriftInput {
        trend,
        positions: history.positions,
    };

    // Exceptions of other owners and ages, one with markup in its document and message.
    let exception = |key: &str, owner: &str, kind: &str, document: &str| NewException {
        key: key.to_owned(),
        kind: kind.to_owned(),
        owner: owner.to_owned(),
        severity: "error".to_owned(),
        document: document.to_owned(),
        message: format!("NetSuite refused {document}: <INVALID_FLD_VALUE> & more"),
        runbook: format!("operations.md#{kind}"),
        payload: Value::Null,
    };
    // (key, owner, kind, document, raised how many hours ago)
    for (key, owner, kind, document, hours) in [
        ("T-1", "finance", "action-failed", HOSTILE_DOCUMENT, 50),
        ("T-2", "item_master", "unknown-sku", "sales order 9001", 3),
        (
            "T-3",
            "operations",
            "stuck-document",
            "sales order 9002",
            30,
        ),
    ] {
        let raised_at = now - SignedDuration::from_hours(hours);
        store
            .raise_exception(exception(key, owner, kind, document), raised_at)
            .await
            .unwrap();
    }
    store
        .resolve_exception("T-3", "posted by hand", now)
        .await
        .unwrap();

    let html = dir.join("report.html");
    let json = dir.join("report.json");
    write_operations_report(
        store.as_ref(),
        drift,
        now,
        &html,
        Some(&json),
        &HtmlOptions::default(),
    )
    .await
    .unwrap();
    engine.stop().await;
    (html, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_renders_in_chromium_with_the_json_reports_figures() {
    let Some(chromium) = find_chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed (CI is set): .ci/run installs Debian's chromium");
        }
        eprintln!("skipped: chromium not found (set CHROMIUM or install chromium)");
        return;
    };
    let dir = scratch_dir("html-report");
    let (html_path, json_path) = write_reports(&dir).await;
    let json: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));

    // The day produced what the page must show.
    let list = json["exception_list"].as_array().unwrap();
    assert!(
        json["exceptions"]["open"].as_u64().unwrap() >= 3,
        "{json:#}"
    );
    assert!(list.iter().any(|e| e["kind"] == "short-despatch"));
    assert!(list.iter().any(|e| e["kind"] == "stock-drift"));
    assert_eq!(json["funnel"][0]["flow"], "sales_order");
    assert!(json["funnel"][0]["stages"][3]["reached"].as_u64().unwrap() > 0);
    assert!(json["drift"]["drifting_positions"].as_u64().unwrap() >= 1);
    assert_eq!(json["drift"]["trend"].as_array().unwrap().len(), 3);

    let dom = dump_dom(&chromium, &html_path, &dir.join("profile"));

    // The page rendered: title, sections, the exception table with a row per listed exception.
    assert!(
        dom.contains("<title>Clarus ⇄ NetSuite operations report</title>"),
        "{dom}"
    );
    for section in ["summary", "funnel", "exceptions", "backlog", "drift"] {
        assert!(
            dom.contains(&format!("<section id=\"{section}\">")),
            "no section {section}"
        );
    }
    let rows = dom.matches("<tr class=\"o\">").count() + dom.matches("<tr class=\"r\">").count();
    assert_eq!(rows, list.len());
    // Markup in data stayed text.
    assert!(!dom.contains("<b id="), "document name became markup");
    assert!(dom.contains("SO&lt;b id=\"injected\"&gt;1&lt;/b&gt; &amp; \"co\""));
    assert!(dom.contains("&lt;INVALID_FLD_VALUE&gt;"));
    // Every runbook link opens a section of the operations guide.
    let anchors = guide_anchors();
    let links: Vec<&str> = dom
        .split(&format!("href=\"{GUIDE}#"))
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(links.len(), list.len());
    for anchor in links {
        assert!(
            anchors.contains(anchor),
            "no section #{anchor} in the guide"
        );
    }

    // What the browser shows, as recorded by the page's check script.
    let check = element_text(&dom, "<pre id=\"render-check\" hidden=\"\">", "</pre>")
        .expect("no render check in the page");
    let check: Value = serde_json::from_str(&check)
        .unwrap_or_else(|e| panic!("the check script did not run ({e}): {check}"));

    let shown = check["metrics"].as_object().unwrap();
    let expected = expected_metrics(&json);
    for (name, value) in &expected {
        let on_page = shown
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the page shows no {name}"));
        assert!(
            same(on_page, value),
            "{name}: page shows {on_page}, JSON has {value}"
        );
    }
    let unexpected: Vec<&String> = shown
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        unexpected.is_empty(),
        "figures the test does not know: {unexpected:?}"
    );

    let charts = check["charts"].as_object().unwrap();
    let expected = expected_charts(&json);
    assert_eq!(
        charts.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>(),
        "charts drawn"
    );
    for (chart, values) in &expected {
        let marks = charts[chart].as_array().unwrap();
        assert!(!marks.is_empty(), "chart {chart} has no marks");
        let drawn: Vec<String> = marks.iter().map(|m| figure(&m["value"])).collect();
        assert_eq!(drawn.len(), values.len(), "marks of {chart}");
        for (d, v) in drawn.iter().zip(values) {
            assert!(same(d, v), "{chart}: mark {d}, JSON {v}");
        }
        for mark in marks {
            let (w, h) = (
                mark["width"].as_f64().unwrap(),
                mark["height"].as_f64().unwrap(),
            );
            assert!(w > 0.0 && h > 0.0, "{chart}: mark {mark} not drawn");
        }
    }

    // Only the check script runs: it is allowed by its hash, and a script that found its way
    // into the page (as an escaping mistake would let one) is blocked.
    assert!(
        html.contains("script-src 'sha256-"),
        "no script hash in the policy"
    );
    assert!(!html.contains("script-src 'unsafe-inline'"));
    let injected_path = dir.join("injected.html");
    let injected = html.replacen(
        "<pre id=\"render-check\"",
        "<script>document.body.setAttribute('data-injected','ran')</script><pre id=\"render-check\"",
        1,
    );
    assert_ne!(injected, html);
    std::fs::write(&injected_path, injected).unwrap();
    let dom = dump_dom(&chromium, &injected_path, &dir.join("profile-injected"));
    // The script's own text is in the DOM; the attribute it would set is not.
    assert!(
        !dom.contains("data-injected=\"ran\""),
        "the injected script ran"
    );
    let check = element_text(&dom, "<pre id=\"render-check\" hidden=\"\">", "</pre>")
        .expect("no render check in the page");
    assert!(
        check.starts_with("{\"metrics\":{"),
        "the check script did not run beside the blocked one: {check}"
    );

    println!(
        "{} figures and {} charts checked in {}",
        shown.len(),
        charts.len(),
        html_path.display()
    );
    if std::env::var_os("HTML_REPORT_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
