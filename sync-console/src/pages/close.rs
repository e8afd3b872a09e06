//! Close: whether a month can be closed, under the console's close rules (the rules of
//! `sync close-check`): what blocks, what is only shown, the last reconciliation and the
//! totals to tie out; and the same report as CSV.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use serde::Deserialize;
use sync_engine::close::{
    CloseCategory, CloseItem, ClosePeriod, CloseReport, CloseRules, PeriodError, close_report,
};

use crate::app::{App, Signed, html};
use crate::layout::{Frame, bare, ok_page, page as frame_page};
use crate::pages::{exception_href, segment, store_failed};

/// The query of `/close` and `/close.csv`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CloseQuery {
    /// `YYYY-MM`; the previous month when missing or empty.
    period: Option<String>,
}

/// The period asked for, in the console's time zone: `period` when given, else the month
/// before `now`'s.
fn period_of(
    query: &CloseQuery,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<ClosePeriod, PeriodError> {
    let period = match query
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(text) => text.parse::<ClosePeriod>()?,
        None => {
            let this_month = tz.to_datetime(now).date().first_of_month();
            let previous = this_month
                .checked_sub(jiff::Span::new().months(1))
                .map_err(|_| PeriodError {
                    input: this_month.to_string(),
                })?;
            ClosePeriod::month(previous.year(), previous.month())?
        }
    };
    Ok(period.in_time_zone(tz.clone()))
}

/// `GET /close`: the close page of a period.
pub(crate) async fn page(
    State(app): State<Arc<App>>,
    signed: Signed,
    Query(query): Query<CloseQuery>,
) -> Response {
    let live = app.live().await;
    let frame = Frame::new(&signed, live);
    let asked = query.period.clone().unwrap_or_default();
    let period = match period_of(&query, app.now(), &app.time_zone) {
        Ok(period) => period,
        Err(e) => {
            let body = html! {
                (period_form(asked.trim()))
                p #close-error.banner.error data-test="close-error" {
                    (e.to_string()) ". Give a month such as 2026-11."
                }
            };
            return html(
                StatusCode::BAD_REQUEST,
                frame_page("close", "Month-end close", &frame, body),
            );
        }
    };
    let report = match close_report(&*app.store, &period, &app.close_rules, None, app.now()).await {
        Ok(report) => report,
        Err(e) => return store_failed(e),
    };
    let body = html! {
        (period_form(&report.period))
        (headline(&report, &period.time_zone))
        (items_section(&report, true, &period.time_zone))
        (items_section(&report, false, &period.time_zone))
        (reconciliation(&report))
        (totals(&report))
        (rules(&report.rules))
    };
    ok_page("close", "Month-end close", &frame, body)
}

/// `GET /close.csv`: the report of a period as a CSV download.
pub(crate) async fn csv(
    State(app): State<Arc<App>>,
    _signed: Signed,
    Query(query): Query<CloseQuery>,
) -> Response {
    let period = match period_of(&query, app.now(), &app.time_zone) {
        Ok(period) => period,
        Err(e) => {
            return html(
                StatusCode::BAD_REQUEST,
                bare(
                    "Not a period",
                    &format!("{e}. Give a month such as 2026-11."),
                ),
            );
        }
    };
    let report = match close_report(&*app.store, &period, &app.close_rules, None, app.now()).await {
        Ok(report) => report,
        Err(e) => return store_failed(e),
    };
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"close-{}.csv\"",
        report.period
    ))
    .unwrap_or(HeaderValue::from_static(
        "attachment; filename=\"close.csv\"",
    ));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        report.to_csv(),
    )
        .into_response()
}

fn period_form(period: &str) -> Markup {
    html! {
        form #close-form.filters method="get" action="/close" {
            div {
                label for="close-period" { "Period (YYYY-MM)" }
                input #close-period type="text" name="period" value=(period)
                    placeholder="2026-11" size="8" autocomplete="off";
            }
            button #close-show type="submit" { "Show" }
        }
    }
}

/// A moment in the period's time zone, to the minute.
fn at(at: Timestamp, tz: &TimeZone) -> String {
    tz.to_datetime(at).strftime("%Y-%m-%d %H:%M").to_string()
}

fn headline(report: &CloseReport, tz: &TimeZone) -> Markup {
    let blockers = report.blockers().count();
    let shown = report.non_blocking().count();
    html! {
        section #close-headline data-test="close-headline" {
            @if report.blocking {
                div #close-status.banner.error data-test="close-status" data-blocking="true" {
                    "Blocked: " (blockers) " item(s) block closing " (report.period) "."
                }
            } @else {
                div #close-status.banner.ok data-test="close-status" data-blocking="false" {
                    "Clear: nothing blocks closing " (report.period) "."
                }
            }
            p #close-summary.note {
                (report.range) " (end exclusive) in " (report.time_zone) ". "
                (blockers) " blocking, " (shown) " shown without blocking. As of "
                (at(report.generated_at, tz)) ". "
                a #close-csv data-test="close-csv" href=(format!("/close.csv?period={}", segment(&report.period))) {
                    "Download as CSV"
                }
            }
        }
    }
}

/// What an item of the category means, for people.
fn category_note(category: CloseCategory) -> &'static str {
    match category {
        CloseCategory::UnpostedDocument => {
            "Warehouse activity of the period that NetSuite does not have yet: queued, failed, or \
             withheld by an exception."
        }
        CloseCategory::FailedPosting => {
            "NetSuite postings of the period the integration gave up on: retry them once the \
             cause is fixed."
        }
        CloseCategory::UnexplainedDrift => "Stock drift that an open exception confirms.",
        CloseCategory::UnconfirmedDrift => {
            "Positions drifting at the latest reconciliation that no exception confirms yet."
        }
        CloseCategory::FinanceException => "Finance's open errors of the period.",
        CloseCategory::Warning => "Open warnings of the period, such as short despatches.",
        CloseCategory::EarlierPeriod => "Open items of earlier periods.",
        CloseCategory::OtherException => {
            "Other owners' open errors that hold no posting of the period."
        }
    }
}

/// The items that block (`blocking`) or are only shown, grouped by category in report order.
fn groups(report: &CloseReport, blocking: bool) -> Vec<(CloseCategory, Vec<&CloseItem>)> {
    let mut groups: Vec<(CloseCategory, Vec<&CloseItem>)> = Vec::new();
    for item in report.items.iter().filter(|i| i.blocking == blocking) {
        match groups.iter_mut().find(|(c, _)| *c == item.category) {
            Some((_, items)) => items.push(item),
            None => groups.push((item.category, vec![item])),
        }
    }
    groups
}

fn items_section(report: &CloseReport, blocking: bool, tz: &TimeZone) -> Markup {
    let groups = groups(report, blocking);
    let count: usize = groups.iter().map(|(_, items)| items.len()).sum();
    let (id, test, row_test, title, empty) = if blocking {
        (
            "close-blockers",
            "close-blockers",
            "close-blocker",
            "What blocks the close",
            "Nothing blocks the close.",
        )
    } else {
        (
            "close-shown-list",
            "close-shown-list",
            "close-shown",
            "Shown, not blocking",
            "Nothing else to look at.",
        )
    };
    html! {
        section id=(id) data-test=(test) {
            h2 { (title) " (" (count) ")" }
            @if groups.is_empty() {
                p.empty { (empty) }
            }
            @for (category, items) in &groups {
                div.close-group data-test="close-group" data-category=(category.code()) {
                    h3 { (capitalised(category.label())) " (" (items.len()) ")" }
                    p.note { (category_note(*category)) }
                    table.close-items {
                        thead { tr {
                            th { "When (" (report.time_zone) ")" } th { "Document" } th { "Message" } th { "Owner" }
                            th.num { "Value" } th { "Exception" } th { "Runbook" }
                        } }
                        tbody {
                            @for item in items {
                                (item_row(item, row_test, tz))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn item_row(item: &CloseItem, test: &str, tz: &TimeZone) -> Markup {
    html! {
        tr data-test=(test) data-category=(item.category.code()) data-key=[item.key.as_deref()] {
            td.when { (at(item.at, tz)) }
            td.document {
                @if item.activity.is_some() {
                    a href=(format!("/documents?q={}", segment(&item.document))) { (item.document) }
                } @else {
                    (item.document)
                }
                @if let Some(activity) = &item.activity { br; span.note { (activity) } }
            }
            td.message { (item.message) }
            td {
                @match (&item.owner, &item.severity) {
                    (Some(owner), Some(severity)) => { (owner) " · " (severity) }
                    (Some(owner), None) => { (owner) }
                    _ => {}
                }
            }
            td.num { @if let Some(value) = &item.value { (value.to_string()) } }
            td {
                @if let Some(key) = &item.key {
                    a data-test="close-exception-link" href=(exception_href(key)) { (key) }
                }
            }
            td {
                @if let Some(runbook) = &item.runbook {
                    a data-test="close-runbook-link"
                        href=(format!("/runbook/{}", segment(crate::runbook::anchor_of(runbook)))) {
                        "What to do"
                    }
                }
            }
        }
    }
}

fn reconciliation(report: &CloseReport) -> Markup {
    html! {
        section #close-reconciliation data-test="close-reconciliation" {
            h2 { "Last reconciliation" }
            @match &report.last_reconciliation {
                Some(r) => p #close-last-reconciliation {
                    (crate::pages::when(r.at)) ": " (r.positions) " positions compared, "
                    (r.drift) " drifting. " a href="/drift" { "See the drift" }
                },
                None => p #close-last-reconciliation.empty {
                    "No reconciliation is recorded: run one (sync drift --now) after the \
                     integration has caught up, so drift can be ruled out."
                },
            }
        }
    }
}

/// A flow code for people.
fn flow_label(code: &str) -> &str {
    match code {
        "sales_order" => "Sales orders",
        "purchase_order" => "Purchase orders",
        "return_authorisation" => "Returns",
        "adjustment" => "Adjustments",
        other => other,
    }
}

fn totals(report: &CloseReport) -> Markup {
    let value = |v: &sync_core::money::ValueTotals| {
        if v.is_empty() {
            "unknown".to_owned()
        } else {
            v.to_string()
        }
    };
    html! {
        section #close-totals data-test="close-totals" {
            h2 { "Totals to tie out" }
            p.note {
                "All warehouse activity of the period, and what of it is posted: the posted \
                 figures are what NetSuite's transactions of the period should add up to."
                @if !report.valued {
                    " Values need NetSuite's average costs, which this report does not read: \
                     they are shown as unknown, never as zero."
                }
            }
            @if report.totals.is_empty() {
                p.empty data-test="close-no-totals" { "No warehouse activity in the period." }
            } @else {
                table #close-totals-table {
                    thead { tr {
                        th { "Flow" } th { "NetSuite transaction" }
                        th.num { "Documents" } th.num { "Posted documents" }
                        th.num { "Units" } th.num { "Posted units" }
                        th.num { "Value" } th.num { "Posted value" } th.num { "Lines without value" }
                    } }
                    tbody {
                        @for t in &report.totals {
                            tr data-test="close-total" data-flow=(t.flow) data-transaction=(t.transaction.code()) {
                                td { (flow_label(&t.flow)) }
                                td { (t.transaction.label()) }
                                td.num data-test="documents" { (t.documents) }
                                td.num data-test="posted-documents" { (t.posted_documents) }
                                td.num data-test="units" { (t.units) }
                                td.num data-test="posted-units" { (t.posted_units) }
                                td.num data-test="value" { (value(&t.value)) }
                                td.num data-test="posted-value" { (value(&t.posted_value)) }
                                td.num { (t.lines_without_value) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn rules(rules: &CloseRules) -> Markup {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let list = [
        ("warnings_block", "Warnings block", rules.warnings_block),
        (
            "earlier_periods_block",
            "Items of earlier periods block",
            rules.earlier_periods_block,
        ),
        (
            "other_errors_block",
            "Other owners' errors block",
            rules.other_errors_block,
        ),
        (
            "unconfirmed_drift_blocks",
            "Drift not yet confirmed blocks",
            rules.unconfirmed_drift_blocks,
        ),
    ];
    html! {
        section #close-rules data-test="close-rules" {
            h2 { "Rules" }
            p.note {
                "Unposted activity, failed postings, unexplained drift and finance's errors of the \
                 period always block. The [close] settings decide the rest (the same rules as \
                 sync close-check):"
            }
            ul {
                @for (code, text, on) in list {
                    li data-test="close-rule" data-rule=(code) data-value=(on) {
                        (text) ": " strong { (yes_no(on)) } " (" code { (code) } ")"
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(period: Option<&str>) -> CloseQuery {
        CloseQuery {
            period: period.map(str::to_owned),
        }
    }

    #[test]
    fn the_default_period_is_the_previous_month_in_the_time_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // 2026-12-01 03:00 UTC is still November 30 in New York.
        let now: Timestamp = "2026-12-01T03:00:00Z".parse().unwrap();
        assert_eq!(
            period_of(&query(None), now, &tz).unwrap().label(),
            "2026-10"
        );
        assert_eq!(
            period_of(&query(Some(" ")), now, &TimeZone::UTC)
                .unwrap()
                .label(),
            "2026-11"
        );
        let january: Timestamp = "2026-01-15T12:00:00Z".parse().unwrap();
        assert_eq!(
            period_of(&query(None), january, &tz).unwrap().label(),
            "2025-12"
        );
        let given = period_of(&query(Some("2026-11")), now, &tz).unwrap();
        assert_eq!(given.label(), "2026-11");
        assert_eq!(given.time_zone, tz);
        assert!(period_of(&query(Some("2026-13")), now, &tz).is_err());
        assert!(period_of(&query(Some("<b>")), now, &tz).is_err());
    }
}
