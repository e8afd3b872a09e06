//! Home: the status banner, today's documents, open exceptions by owner and severity, and what
//! needs attention first.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use jiff::Timestamp;
use maud::{Markup, html};
use sync_engine::health::{ComponentHealth, Condition, Readiness};
use sync_engine::monitor::{DocumentLifecycle, lifecycles, stage_counts};
use sync_engine::store::StoredException;

use crate::app::{App, Signed};
use crate::layout::{Frame, ok_page};
use crate::pages::{age, attention_order, exception_href, store_failed, when};

/// Most exceptions listed under "needs attention first".
const ATTENTION: usize = 10;

pub(crate) async fn page(State(app): State<Arc<App>>, signed: Signed) -> Response {
    let now = app.now();
    let open = match app.store.open_exceptions().await {
        Ok(open) => open,
        Err(e) => return store_failed(e),
    };
    let documents = match lifecycles(&*app.store).await {
        Ok(l) => l,
        Err(e) => return store_failed(e),
    };
    let live = app.live().await;
    let today: Vec<DocumentLifecycle> = documents
        .into_iter()
        .filter(|l| touched_on(l, now, &app.time_zone))
        .collect();
    let body = html! {
        (status(app.health.as_ref().map(|h| h.readiness()), live))
        section #today data-test="today" {
            h2 { "Today's documents" }
            @let counts = stage_counts(&today);
            @if counts.is_empty() {
                p.empty { "No document moved today." }
            } @else {
                table #today-table {
                    thead { tr { th { "Flow" } th { "Stage" } th.num { "Documents" } } }
                    tbody {
                        @for c in &counts {
                            tr data-test=(format!("today-{}-{}", c.flow.code(), c.stage.map_or("none", |s| s.code()))) {
                                td { (c.flow) }
                                td { (c.stage.map_or("not started".to_owned(), |s| s.to_string())) }
                                td.num { (c.count) }
                            }
                        }
                    }
                }
            }
        }
        (by_owner(&open))
        (attention(&open, now))
    };
    ok_page("home", "Home", &Frame::new(&signed, live), body)
}

/// Whether a document reached a stage or saw warehouse activity on `now`'s date.
fn touched_on(l: &DocumentLifecycle, now: Timestamp, tz: &jiff::tz::TimeZone) -> bool {
    let today = tz.to_datetime(now).date();
    let same_day = |at: Timestamp| tz.to_datetime(at).date() == today;
    l.stages.iter().any(|m| same_day(m.at)) || l.activity.iter().any(|a| same_day(a.recorded_at))
}

fn condition_text(c: Condition) -> &'static str {
    match c {
        Condition::Ok => "healthy",
        Condition::Failing => "failing",
        Condition::Stale => "stale",
    }
}

fn status(readiness: Option<Readiness>, live: bool) -> Markup {
    let Some(r) = readiness else {
        return html! {
            section #status.banner.info data-test="status-banner" {
                @if live {
                    "An engine runs on this store. Connection and job health is shown by the \
                     console it serves (sync run with [console])."
                } @else {
                    "No engine runs on this store: nothing is moving. Start sync run on it."
                }
            }
        };
    };
    let unhealthy = r
        .connections
        .iter()
        .chain(&r.jobs)
        .chain(&r.tasks)
        .filter(|c| c.condition != Condition::Ok)
        .count();
    let row = |c: &ComponentHealth, kind: &str| {
        html! {
            tr data-test=(format!("health-{kind}-{}", c.name)) class=(condition_text(c.condition)) {
                td { (kind) }
                td { (c.name) @if let Some(role) = c.role_text() { " (" (role) ")" } }
                td.condition { (condition_text(c.condition)) }
                td { (c.last_success.map_or("never since start".to_owned(), when)) }
                td { (c.last_failure.as_ref().map_or(String::new(), |f| f.message.clone())) }
            }
        }
    };
    html! {
        section #status data-test="status" {
            @if unhealthy == 0 {
                div #status-banner.banner.ok data-test="status-banner" {
                    "Healthy: both connections and every scheduled job succeeded recently."
                }
            } @else {
                div #status-banner.banner.error data-test="status-banner" {
                    (unhealthy) " connection(s) or job(s) need attention."
                }
            }
            table #health-table {
                thead { tr { th { "" } th { "Name" } th { "State" } th { "Last success" } th { "Last failure" } } }
                tbody {
                    @for c in &r.connections { (row(c, "connection")) }
                    @for c in &r.jobs { (row(c, "job")) }
                    @for c in &r.tasks { (row(c, "task")) }
                }
            }
        }
    }
}

fn by_owner(open: &[StoredException]) -> Markup {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for e in open {
        *counts
            .entry((e.exception.owner.as_str(), e.exception.severity.as_str()))
            .or_default() += 1;
    }
    html! {
        section #open-exceptions data-test="open-by-owner" {
            h2 { "Open exceptions by owner and severity" }
            @if counts.is_empty() {
                p.empty { "No open exception." }
            } @else {
                table #open-by-owner-table {
                    thead { tr { th { "Owner" } th { "Severity" } th.num { "Open" } } }
                    tbody {
                        @for ((owner, severity), n) in &counts {
                            tr data-test=(format!("open-{owner}-{severity}")) {
                                td { a href=(format!("/exceptions?owner={}&severity={}", super::segment(owner), super::segment(severity))) { (owner) } }
                                td { (severity) }
                                td.num { (n) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn attention(open: &[StoredException], now: Timestamp) -> Markup {
    let mut first: Vec<&StoredException> = open.iter().collect();
    first.sort_by(|a, b| attention_order(a, b));
    first.truncate(ATTENTION);
    html! {
        section #attention data-test="attention" {
            h2 { "Needs attention first" }
            @if first.is_empty() {
                p.empty { "Nothing waits for anyone." }
            } @else {
                ol #attention-list {
                    @for e in first {
                        li data-test="attention-item" {
                            a href=(exception_href(&e.exception.key)) { (e.exception.message) }
                            " · " (e.exception.owner) " · " (e.exception.severity)
                            " · open " (age(now.duration_since(e.raised_at)))
                        }
                    }
                }
            }
        }
    }
}
