//! The operations report as one self-contained HTML page.
//!
//! The page needs no network at all: the style sheet is inline, the charts are inline SVG drawn
//! here, and a Content-Security-Policy forbids every fetch, so it opens the same from a mail
//! attachment, a file share or a CI artefact. Runbook links point into the operations guide at
//! [`HtmlOptions::guide_url`], which must be relative or `http(s)`/`file` ([`check_guide_url`]);
//! any other (`javascript:`, `data:`, …) makes the runbook entries plain text instead of links.
//!
//! The policy allows no inline script but the page's own check script, named by its SHA-256
//! hash ([`content_security_policy`]), and sets `base-uri`, `form-action` and `object-src` to
//! `'none'`; only the inline style sheet and style attributes are allowed besides.
//!
//! Every figure carries a `data-metric` attribute (for example `exceptions.open` or
//! `funnel.sales_order.despatched`) and every drawn chart mark a `data-mark` label and a
//! `data-value`. A small inline script, run once the page is laid out, writes what the browser
//! shows into `<pre id="render-check">` as JSON: `{"metrics": {name: text}, "charts": {chart:
//! [{"label", "value", "width", "height"}]}}`, so a headless browser test can check that the
//! charts are drawn and that the figures are those of the JSON report.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use jiff::Timestamp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sha2::{Digest, Sha256};
use sync_core::{DriftClass, StockStatus};

use super::{AgeBucket, ExceptionEntry, OperationsReport};
use crate::monitor::{Flow, Stage};

/// How the page is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlOptions {
    /// The operations guide; a runbook anchor `operations.md#unknown-sku` becomes
    /// `<guide_url>#unknown-sku`. Relative to where the page is opened from, or an `http`,
    /// `https` or `file` URL; any other ([`check_guide_url`] refuses it) links nothing.
    pub guide_url: String,
    /// The page title.
    pub title: String,
    /// Most drifting SKUs drawn in the drift chart (the JSON report has them all).
    pub max_chart_skus: usize,
    /// Most drift positions listed in the table (the JSON report has them all).
    pub max_drift_rows: usize,
    /// Longest exception message shown, in characters (the JSON report has it whole).
    pub max_message_chars: usize,
}

impl Default for HtmlOptions {
    /// Guide at `docs/operations.md`; 20 SKUs in the chart, 50 drift rows, messages cut at 240
    /// characters.
    fn default() -> Self {
        HtmlOptions {
            guide_url: "docs/operations.md".to_owned(),
            title: "Clarus ⇄ NetSuite operations report".to_owned(),
            max_chart_skus: 20,
            max_drift_rows: 50,
            max_message_chars: 240,
        }
    }
}

/// Why a guide URL is refused by [`check_guide_url`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuideUrlError {
    /// The URL holds a control character, or starts or ends with white space (a browser drops
    /// those, which could hide a scheme).
    #[error("the guide URL holds a control character or starts or ends with white space")]
    Control,
    /// The URL's scheme is not `http`, `https` or `file` (`javascript:`, `data:`, …).
    #[error("the guide URL's scheme `{0}` is not allowed (use a relative, http(s) or file URL)")]
    Scheme(String),
    /// The URL has a scheme but cannot be parsed.
    #[error("the guide URL is not a valid URL: {0}")]
    Invalid(String),
}

/// Schemes a guide link may have besides none (relative).
const GUIDE_SCHEMES: [&str; 3] = ["http", "https", "file"];

/// Checks that `url` is fit for the runbook links: relative (`docs/operations.md`,
/// `../guide.html`, `//host/guide`) or an `http`, `https` or `file` URL. Parsed as a browser
/// does, so `JavaScript:`, ` javascript:` and `java\tscript:` are all recognised and refused.
pub fn check_guide_url(url: &str) -> Result<(), GuideUrlError> {
    if url.chars().any(char::is_control) || url.trim() != url {
        return Err(GuideUrlError::Control);
    }
    match url::Url::parse(url) {
        Ok(parsed) if GUIDE_SCHEMES.contains(&parsed.scheme()) => Ok(()),
        Ok(parsed) => Err(GuideUrlError::Scheme(parsed.scheme().to_owned())),
        Err(url::ParseError::RelativeUrlWithoutBase) => Ok(()),
        Err(e) => Err(GuideUrlError::Invalid(e.to_string())),
    }
}

/// The page's Content-Security-Policy: nothing fetched, inline styles, and no script but the
/// check script, allowed by its SHA-256 hash.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CHECK_SCRIPT));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; \
         base-uri 'none'; form-action 'none'; object-src 'none'"
    )
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2733;margin:0;background:#f4f6f8}
main{max-width:1080px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5dbe1;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 4px}.sub{color:#5b6875;margin:0 0 12px}
nav a{margin-right:14px;color:#245b9e}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #d5dbe1;border-radius:6px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:22px}.card span{color:#5b6875;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.panel{background:#fff;border:1px solid #d5dbe1;border-radius:6px;padding:8px 12px}
svg text{font-size:12px;fill:#1d2733}.bar{fill:#3c78b5}.bar.warn{fill:#c4622d}.axis{stroke:#9aa5b1;stroke-width:1}
.line{fill:none;stroke:#c4622d;stroke-width:2}.dot{fill:#c4622d}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}th,td{border:1px solid #d5dbe1;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#e9edf1}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.o td:first-child{color:#b3261e;font-weight:600}tr.r{color:#6b7580}
.empty{color:#5b6875;font-style:italic}
";

/// Collects what the browser shows into `#render-check`; runs at the end of the body, when
/// everything above is in the document (reading a bounding box lays the page out).
const CHECK_SCRIPT: &str = "(function(){var out={metrics:{},charts:{}};\
document.querySelectorAll('[data-metric]').forEach(function(e){out.metrics[e.getAttribute('data-metric')]=e.textContent.trim();});\
document.querySelectorAll('svg[data-chart]').forEach(function(s){var marks=[];\
s.querySelectorAll('[data-mark]').forEach(function(m){var r=m.getBoundingClientRect();\
marks.push({label:m.getAttribute('data-mark'),value:m.getAttribute('data-value'),width:r.width,height:r.height});});\
out.charts[s.getAttribute('data-chart')]=marks;});\
document.getElementById('render-check').textContent=JSON.stringify(out);})();";

/// A figure: `<tag data-metric="name">value</tag>`.
fn metric(out: &mut String, tag: &str, name: &str, value: impl std::fmt::Display) {
    let value = value.to_string();
    let _ = write!(
        out,
        "<{tag} data-metric=\"{}\">{}</{tag}>",
        escape(name),
        escape(&value)
    );
}

/// A figure in a table cell, right-aligned.
fn metric_cell(out: &mut String, name: &str, value: impl std::fmt::Display) {
    let value = value.to_string();
    let _ = write!(
        out,
        "<td class=\"n\" data-metric=\"{}\">{}</td>",
        escape(name),
        escape(&value)
    );
}

fn card(out: &mut String, name: &str, value: impl std::fmt::Display, label: &str) {
    out.push_str("<div class=\"card\">");
    metric(out, "b", name, value);
    let _ = write!(out, "<span>{}</span></div>", escape(label));
}

fn when(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn age(secs: i64) -> String {
    let minutes = secs.max(0) / 60;
    match minutes {
        0..60 => format!("{minutes} min"),
        60..1440 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, minutes % 1440 / 60),
    }
}

fn stage_label(stage: Stage) -> &'static str {
    match stage {
        Stage::Imported => "Imported",
        Stage::SentToClarus => "Sent to Clarus",
        Stage::Acknowledged => "Acknowledged by Clarus",
        Stage::Picking => "Picking",
        Stage::Despatched => "Despatched",
        Stage::FulfilmentPosted => "Item Fulfilment posted",
        Stage::Received => "Received",
        Stage::ReceiptPosted => "Item Receipt posted",
        Stage::Seen => "Seen",
        Stage::Posted => "Posted",
    }
}

fn flow_label(flow: Flow) -> &'static str {
    match flow {
        Flow::SalesOrder => "Sales orders",
        Flow::PurchaseOrder => "Purchase orders",
        Flow::ReturnAuthorisation => "Returns",
        Flow::Adjustment => "Adjustments",
    }
}

fn status_label(status: StockStatus) -> &'static str {
    match status {
        StockStatus::Available => "available",
        StockStatus::Held => "held",
    }
}

fn class_label(class: DriftClass) -> &'static str {
    match class {
        DriftClass::InStep => "in step",
        DriftClass::ExplainedByInFlight => "explained by in-flight",
        DriftClass::Drift => "drift",
    }
}

/// One bar of a horizontal bar chart.
struct Bar {
    label: String,
    value: Decimal,
    metric: String,
}

const CHART_WIDTH: f64 = 480.0;
const LABEL_WIDTH: f64 = 160.0;
const BAR_SPACE: f64 = 270.0;
const ROW: f64 = 24.0;

/// A horizontal bar chart; a bar is drawn for every value above zero (at least 2 px wide).
fn bar_chart(out: &mut String, chart: &str, caption: &str, bars: &[Bar], warn: bool) {
    let max = bars
        .iter()
        .map(|b| b.value.to_f64().unwrap_or(0.0))
        .fold(0.0_f64, f64::max);
    if bars.is_empty() || max <= 0.0 {
        let _ = write!(
            out,
            "<p class=\"empty\">{}: nothing to draw.</p>",
            escape(caption)
        );
        return;
    }
    let height = bars.len() as f64 * ROW + 6.0;
    let _ = write!(
        out,
        "<svg data-chart=\"{}\" role=\"img\" aria-label=\"{}\" width=\"{CHART_WIDTH}\" height=\"{height}\" viewBox=\"0 0 {CHART_WIDTH} {height}\">",
        escape(chart),
        escape(caption)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW + 3.0;
        let label = cut(&bar.label, 26);
        let _ = write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LABEL_WIDTH - 6.0,
            y + 15.0,
            escape(&label)
        );
        let value = bar.value.to_f64().unwrap_or(0.0);
        let mut end = LABEL_WIDTH;
        if value > 0.0 {
            let width = (value / max * BAR_SPACE).max(2.0);
            end += width;
            let _ = write!(
                out,
                "<rect class=\"bar{}\" data-mark=\"{}\" data-value=\"{}\" x=\"{LABEL_WIDTH}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"18\"><title>{}: {}</title></rect>",
                if warn { " warn" } else { "" },
                escape(&bar.label),
                bar.value,
                y + 1.0,
                escape(&bar.label),
                bar.value
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" data-metric=\"{}\">{}</text>",
            end + 6.0,
            y + 15.0,
            escape(&bar.metric),
            bar.value
        );
    }
    out.push_str("</svg>");
}

/// The drift trend: unexplained units per reconciliation run, one dot per run.
fn trend_chart(out: &mut String, report: &OperationsReport) {
    let trend = &report.drift.trend;
    if trend.is_empty() {
        out.push_str("<p class=\"empty\">No reconciliation runs recorded.</p>");
        return;
    }
    let (width, height) = (CHART_WIDTH, 190.0);
    let (left, right, top, bottom) = (60.0, 16.0, 12.0, 36.0);
    let first = trend[0].at.as_millisecond() as f64;
    let last = trend[trend.len() - 1].at.as_millisecond() as f64;
    let max = trend
        .iter()
        .map(|p| p.unexplained_units.to_f64().unwrap_or(0.0))
        .fold(0.0_f64, f64::max);
    let x = |at: Timestamp| {
        if last > first {
            left + (at.as_millisecond() as f64 - first) / (last - first) * (width - left - right)
        } else {
            (left + width - right) / 2.0
        }
    };
    let y = |units: Decimal| {
        let v = units.to_f64().unwrap_or(0.0);
        let plot = height - top - bottom;
        if max > 0.0 {
            top + plot - v / max * plot
        } else {
            top + plot
        }
    };
    let _ = write!(
        out,
        "<svg data-chart=\"drift-trend\" role=\"img\" aria-label=\"Unexplained drift over time\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    let base = height - bottom;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\"/><line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{:.0}\" y2=\"{base}\"/>",
        width - right
    );
    let top_label = trend
        .iter()
        .map(|p| p.unexplained_units)
        .max()
        .unwrap_or_default();
    let _ = write!(
        out,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{top_label}</text><text x=\"{:.0}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        left - 6.0,
        top + 10.0,
        left - 6.0
    );
    let _ = write!(
        out,
        "<text x=\"{left}\" y=\"{:.0}\">{}</text>",
        height - 12.0,
        when(trend[0].at)
    );
    if trend.len() > 1 {
        let _ = write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>",
            width - right,
            height - 12.0,
            when(trend[trend.len() - 1].at)
        );
        out.push_str("<polyline class=\"line\" points=\"");
        for p in trend {
            let _ = write!(out, "{:.1},{:.1} ", x(p.at), y(p.unexplained_units));
        }
        out.push_str("\"/>");
    }
    for p in trend {
        let _ = write!(
            out,
            "<circle class=\"dot\" data-mark=\"{}\" data-value=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>{}: {} positions drifting, {} units unexplained</title></circle>",
            p.at,
            p.unexplained_units,
            x(p.at),
            y(p.unexplained_units),
            when(p.at),
            p.drift,
            p.unexplained_units
        );
    }
    out.push_str("</svg>");
}

fn runbook_link(out: &mut String, entry: &ExceptionEntry, options: &HtmlOptions) {
    let anchor = entry.runbook.split_once('#').map(|(_, a)| a);
    if check_guide_url(&options.guide_url).is_err() {
        // No link to a URL that could run script or leave the allowed schemes.
        let _ = write!(
            out,
            "<span>{}</span>",
            escape(anchor.unwrap_or(&entry.runbook))
        );
        return;
    }
    let href = match anchor {
        Some(anchor) => format!("{}#{anchor}", options.guide_url),
        None => options.guide_url.clone(),
    };
    let _ = write!(
        out,
        "<a href=\"{}\">{}</a>",
        escape(&href),
        escape(anchor.unwrap_or("guide"))
    );
}

fn summary(out: &mut String, report: &OperationsReport) {
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    card(
        out,
        "exceptions.open",
        report.exceptions.open,
        "open exceptions",
    );
    card(
        out,
        "exceptions.resolved",
        report.exceptions.resolved,
        "resolved exceptions",
    );
    card(
        out,
        "backlog.pending_actions",
        report.backlog.pending_actions,
        "actions pending",
    );
    card(
        out,
        "drift.drifting_positions",
        report.drift.drifting_positions,
        "positions drifting",
    );
    card(
        out,
        "drift.unexplained_units",
        report.drift.unexplained_units,
        "units unexplained",
    );
    if let Some(value) = report.drift.value_impact {
        card(
            out,
            "drift.value_impact",
            value,
            "drift value (without sign)",
        );
    }
    out.push_str("</div></section>");
}

fn funnel(out: &mut String, report: &OperationsReport) {
    out.push_str(
        "<section id=\"funnel\"><h2>Lifecycle funnel</h2><p class=\"sub\">Documents of each flow that reached each stage. A document whose latest despatch or receipt is not yet posted does not count as posted.</p><div class=\"grid\">",
    );
    for f in &report.funnel {
        out.push_str("<div class=\"panel\">");
        let _ = write!(out, "<h3>{} (", flow_label(f.flow));
        metric(
            out,
            "span",
            &format!("funnel.{}.documents", f.flow.code()),
            f.documents,
        );
        out.push_str(" documents)</h3>");
        let bars: Vec<Bar> = f
            .stages
            .iter()
            .map(|s| Bar {
                label: stage_label(s.stage).to_owned(),
                value: Decimal::from(s.reached),
                metric: format!("funnel.{}.{}", f.flow.code(), s.stage.code()),
            })
            .collect();
        if f.documents == 0 {
            out.push_str("<p class=\"empty\">No documents.</p>");
        } else {
            bar_chart(
                out,
                &format!("funnel-{}", f.flow.code()),
                flow_label(f.flow),
                &bars,
                false,
            );
        }
        out.push_str("</div>");
    }
    out.push_str("</div></section>");
}

fn exceptions(out: &mut String, report: &OperationsReport, options: &HtmlOptions) {
    let summary = &report.exceptions;
    out.push_str("<section id=\"exceptions\"><h2>Exceptions</h2><div class=\"grid\">");
    out.push_str("<div class=\"panel\"><h3>Open, by owner</h3>");
    let owners: Vec<Bar> = summary
        .by_owner
        .iter()
        .map(|o| Bar {
            label: o.owner.clone(),
            value: Decimal::from(o.open),
            metric: format!("exceptions.owner.{}.open", o.owner),
        })
        .collect();
    bar_chart(
        out,
        "exceptions-by-owner",
        "Open exceptions by owner",
        &owners,
        true,
    );
    out.push_str("</div><div class=\"panel\"><h3>Open, by age</h3>");
    let ages: Vec<Bar> = summary
        .open_by_age
        .iter()
        .map(|a| Bar {
            label: a.bucket.label().to_owned(),
            value: Decimal::from(a.open),
            metric: format!("exceptions.age.{}", a.bucket.code()),
        })
        .collect();
    bar_chart(
        out,
        "exceptions-by-age",
        "Open exceptions by age",
        &ages,
        true,
    );
    out.push_str("</div></div>");

    // Owner × age table.
    out.push_str("<h3>By owner and age</h3><table><tr><th>Owner</th>");
    for bucket in AgeBucket::ALL {
        let _ = write!(out, "<th>open {}</th>", escape(bucket.label()));
    }
    out.push_str("<th>resolved</th></tr>");
    for o in &summary.by_owner {
        let _ = write!(out, "<tr><td>{}</td>", escape(&o.owner));
        for a in &o.open_by_age {
            metric_cell(
                out,
                &format!("exceptions.owner.{}.age.{}", o.owner, a.bucket.code()),
                a.open,
            );
        }
        metric_cell(
            out,
            &format!("exceptions.owner.{}.resolved", o.owner),
            o.resolved,
        );
        out.push_str("</tr>");
    }
    out.push_str("</table>");

    if !summary.open_by_kind.is_empty() {
        out.push_str("<h3>Open, by kind</h3><table><tr><th>Kind</th><th>open</th></tr>");
        for k in &summary.open_by_kind {
            let _ = write!(out, "<tr><td>{}</td>", escape(&k.kind));
            metric_cell(out, &format!("exceptions.kind.{}.open", k.kind), k.open);
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }

    out.push_str("<h3>The list</h3><p class=\"sub\">");
    metric(
        out,
        "span",
        "exceptions.listed",
        report.exception_list.len(),
    );
    out.push_str(" listed, open first");
    if report.exception_list_omitted > 0 {
        out.push_str("; ");
        metric(
            out,
            "span",
            "exceptions.omitted",
            report.exception_list_omitted,
        );
        out.push_str(" more in the JSON report's counts, not listed");
    }
    out.push_str(". Each links to its runbook entry in the operations guide.</p>");
    if report.exception_list.is_empty() {
        out.push_str("<p class=\"empty\">No exceptions.</p>");
    } else {
        out.push_str("<table id=\"exception-list\"><tr><th>State</th><th>Kind</th><th>Owner</th><th>Document</th><th>Age</th><th>Message</th><th>Runbook</th></tr>");
        for e in &report.exception_list {
            let (class, state) = if e.is_open() {
                ("o", "open")
            } else {
                ("r", "resolved")
            };
            let _ = write!(
                out,
                "<tr class=\"{class}\"><td>{state}</td><td>{}</td><td>{}</td><td>{}</td><td title=\"raised {}\">{}</td><td>{}</td><td>",
                escape(&e.kind),
                escape(&e.owner),
                escape(&e.document),
                when(e.raised_at),
                age(e.age_secs),
                escape(&cut(&e.message, options.max_message_chars)),
            );
            runbook_link(out, e, options);
            out.push_str("</td></tr>");
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

fn backlog(out: &mut String, report: &OperationsReport) {
    let b = &report.backlog;
    out.push_str("<section id=\"backlog\"><h2>Backlog</h2><div class=\"cards\">");
    card(
        out,
        "backlog.pending_actions",
        b.pending_actions,
        "actions pending or retrying",
    );
    card(
        out,
        "backlog.ambiguous_actions",
        b.ambiguous_actions,
        "awaiting look-up",
    );
    card(
        out,
        "backlog.failed_actions",
        b.failed_actions,
        "actions failed",
    );
    card(out, "backlog.done_actions", b.done_actions, "actions done");
    card(
        out,
        "backlog.unprocessed_deliveries",
        b.unprocessed_deliveries,
        "webhooks unprocessed",
    );
    out.push_str("</div></section>");
}

fn drift(out: &mut String, report: &OperationsReport, options: &HtmlOptions) {
    let d = &report.drift;
    out.push_str("<section id=\"drift\"><h2>Stock drift</h2><p class=\"sub\">Clarus on hand − NetSuite on hand − movements in flight, per SKU × location × status. Value impact is the unexplained quantity × NetSuite average cost, where the cost is known.</p><div class=\"grid\">");
    out.push_str("<div class=\"panel\"><h3>Unexplained units over time</h3>");
    trend_chart(out, report);
    if let Some(latest) = d.trend.last() {
        out.push_str("<p class=\"sub\">Latest run ");
        out.push_str(&escape(&when(latest.at)));
        out.push_str(": ");
        metric(out, "span", "drift.latest.drift", latest.drift);
        out.push_str(" of ");
        metric(out, "span", "drift.latest.positions", latest.positions);
        out.push_str(" positions drifting, ");
        metric(
            out,
            "span",
            "drift.latest.unexplained_units",
            latest.unexplained_units,
        );
        out.push_str(" units");
        if let Some(value) = latest.value_impact {
            out.push_str(", value ");
            metric(out, "span", "drift.latest.value_impact", value);
        }
        out.push_str(".</p>");
    }
    out.push_str("</div><div class=\"panel\"><h3>Unexplained units by SKU</h3>");
    let bars: Vec<Bar> = d
        .by_sku
        .iter()
        .take(options.max_chart_skus)
        .map(|s| Bar {
            label: s.sku.to_string(),
            value: s.unexplained_units,
            metric: format!("drift.sku.{}.unexplained_units", s.sku),
        })
        .collect();
    if bars.is_empty() {
        out.push_str("<p class=\"empty\">No drifting positions.</p>");
    } else {
        bar_chart(out, "drift-by-sku", "Unexplained units by SKU", &bars, true);
        if d.by_sku.len() > bars.len() {
            let _ = write!(
                out,
                "<p class=\"sub\">{} more SKUs in the JSON report.</p>",
                d.by_sku.len() - bars.len()
            );
        }
    }
    out.push_str("</div></div>");
    if !d.positions.is_empty() {
        out.push_str("<h3>Positions</h3><table id=\"drift-positions\"><tr><th>SKU</th><th>Location</th><th>Status</th><th>Class</th><th>Clarus</th><th>NetSuite</th><th>In flight</th><th>Unexplained</th><th>Value impact</th></tr>");
        for p in d.positions.iter().take(options.max_drift_rows) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(p.sku.as_str()),
                escape(p.location.as_str()),
                status_label(p.status),
                class_label(p.class),
                p.clarus,
                p.netsuite,
                p.in_flight,
                p.unexplained,
                p.value_impact
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "–".to_owned())
            );
        }
        out.push_str("</table>");
        if d.positions.len() > options.max_drift_rows {
            let _ = write!(
                out,
                "<p class=\"sub\">{} more positions in the JSON report.</p>",
                d.positions.len() - options.max_drift_rows
            );
        }
    }
    out.push_str("</section>");
}

/// Renders the report as one self-contained HTML page.
pub fn render(report: &OperationsReport, options: &HtmlOptions) -> String {
    let mut out = String::with_capacity(32 * 1024 + report.exception_list.len() * 400);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>",
        content_security_policy(),
        escape(&options.title)
    );
    let _ = write!(
        out,
        "<h1>{}</h1><p class=\"sub\">As of <time datetime=\"{}\">{}</time></p>",
        escape(&options.title),
        report.generated_at,
        when(report.generated_at)
    );
    out.push_str("<nav><a href=\"#summary\">Summary</a><a href=\"#funnel\">Lifecycle funnel</a><a href=\"#exceptions\">Exceptions</a><a href=\"#backlog\">Backlog</a><a href=\"#drift\">Stock drift</a></nav>");
    summary(&mut out, report);
    funnel(&mut out, report);
    exceptions(&mut out, report, options);
    backlog(&mut out, report);
    drift(&mut out, report, options);
    let _ = writeln!(
        out,
        "<pre id=\"render-check\" hidden></pre></main><script>{CHECK_SCRIPT}</script></body></html>"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x & \"y\"')</script>"),
            "&lt;script&gt;alert(&#39;x &amp; &quot;y&quot;&#39;)&lt;/script&gt;"
        );
        assert!(matches!(escape("plain SO-1001"), Cow::Borrowed(_)));
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("ééééé", 3), "ééé…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn age_reads_for_people() {
        assert_eq!(age(59), "0 min");
        assert_eq!(age(3_700), "1 h 1 min");
        assert_eq!(age(3 * 86_400 + 7_200), "3 d 2 h");
        assert_eq!(age(-5), "0 min");
    }
}
