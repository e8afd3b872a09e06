//! Drift: the latest reconciliation sorted by value, a SKU's history, the trend.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sync_core::Sku;
use sync_engine::drift_history::{self, ValuedDriftRow, sort_by_value_impact};

use crate::app::{App, Signed};
use crate::layout::{Frame, ok_page};
use crate::pages::{segment, store_failed, when};

/// Rows of the latest run shown.
const ROWS: usize = 200;
/// Runs in the trend and in a SKU's history.
const RUNS: usize = 30;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DriftQuery {
    sku: Option<String>,
}

fn money(value: Option<rust_decimal::Decimal>) -> String {
    value.map_or_else(|| "no cost".to_owned(), |v| v.round_dp(2).to_string())
}

fn rows_table(id: &str, rows: &[ValuedDriftRow]) -> Markup {
    html! {
        table id=(id) {
            thead { tr {
                th { "SKU" } th { "Location" } th { "Status" } th.num { "Clarus" } th.num { "NetSuite" }
                th.num { "In flight" } th.num { "Unexplained" } th { "Class" } th.num { "Unit cost" } th.num { "Value" }
            } }
            tbody {
                @for r in rows {
                    tr data-test="drift-row" data-sku=(r.sku.to_string()) {
                        td { a href=(format!("/drift?sku={}", segment(&r.sku.to_string()))) { (r.sku.to_string()) } }
                        td { (r.location.to_string()) }
                        td { (format!("{:?}", r.status)) }
                        td.num { (r.clarus) } td.num { (r.netsuite) } td.num { (r.in_flight) }
                        td.num { (r.unexplained) }
                        td { (format!("{:?}", r.class)) }
                        td.num { (money(r.unit_cost)) }
                        td.num { (money(r.value_impact)) " " (r.currency.to_string()) }
                    }
                }
            }
        }
    }
}

pub(crate) async fn page(
    State(app): State<Arc<App>>,
    signed: Signed,
    Query(query): Query<DriftQuery>,
) -> Response {
    let store = &*app.store;
    let latest = match drift_history::latest(store).await {
        Ok(l) => l,
        Err(e) => return store_failed(e),
    };
    let trend = match drift_history::trend(store, None, RUNS).await {
        Ok(t) => t,
        Err(e) => return store_failed(e),
    };
    let sku = query
        .sku
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let history = match sku {
        Some(s) => match drift_history::sku_history(store, &Sku::new(s), RUNS).await {
            Ok(h) => Some(h),
            Err(e) => return store_failed(e),
        },
        None => None,
    };
    let sorted = latest.as_ref().map(|snapshot| {
        let mut rows = snapshot.rows.clone();
        sort_by_value_impact(&mut rows);
        rows.truncate(ROWS);
        rows
    });
    let body = html! {
        p #currency-note.note {
            "Values are quantities times NetSuite's average cost, in each location's currency, \
             shown beside every value."
        }
        form #sku-form method="get" action="/drift" {
            label for="sku" { "SKU" }
            input #sku type="search" name="sku" value=(sku.unwrap_or(""));
            button #sku-show type="submit" { "Show history" }
        }
        @if let (Some(sku), Some(history)) = (sku, &history) {
            section #sku-history data-test="sku-history" {
                h2 { "History of " (sku) }
                @if history.is_empty() { p.empty { "No reconciliation is recorded." } }
                table #sku-history-table {
                    thead { tr { th { "Run" } th { "Positions drifting" } th.num { "Unexplained" } th.num { "Value" } } }
                    tbody {
                        @for p in history {
                            @let units: rust_decimal::Decimal = p.rows.iter().map(|r| r.unexplained).sum();
                            @let value: rust_decimal::Decimal = p.rows.iter().filter_map(|r| r.value_impact).sum();
                            tr data-test="sku-point" {
                                td { (when(p.at)) } td { (p.rows.len()) } td.num { (units) } td.num { (value.round_dp(2)) }
                            }
                        }
                    }
                }
            }
        }
        section #latest data-test="drift-latest" {
            h2 { "Latest reconciliation" }
            @match &latest {
                None => p.empty { "No reconciliation has run yet." },
                Some(snapshot) => {
                    p #latest-summary {
                        (when(snapshot.run.at)) ": " (snapshot.run.summary.positions) " positions, "
                        (snapshot.run.summary.drift) " drifting, value " (snapshot.run.summary.value_impact.round_dp(2))
                    }
                    (rows_table("drift-table", sorted.as_deref().unwrap_or_default()))
                }
            }
        }
        section #trend data-test="drift-trend" {
            h2 { "Trend" }
            table #trend-table {
                thead { tr { th { "Run" } th.num { "Positions" } th.num { "Drifting" } th.num { "Unexplained" } th.num { "Value" } } }
                tbody {
                    @for run in &trend {
                        tr data-test="trend-point" {
                            td { (when(run.at)) }
                            td.num { (run.summary.positions) }
                            td.num { (run.summary.drift) }
                            td.num { (run.summary.unexplained_units) }
                            td.num { (run.summary.value_impact.round_dp(2)) }
                        }
                    }
                }
            }
        }
    };
    let live = app.live().await;
    ok_page("drift", "Drift", &Frame::new(&signed, live), body)
}
