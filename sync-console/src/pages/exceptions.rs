//! The exception queue and one exception's detail.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use maud::{Markup, html};
use serde::Deserialize;
use sync_engine::exceptions::{ExceptionFilter, retry_way};
use sync_engine::monitor::{DocumentLifecycle, lifecycles};
use sync_engine::store::StoredException;

use crate::app::{App, Signed, html};
use crate::layout::{Frame, notice, ok_page};
use crate::lookup::DocumentIndex;
use crate::pages::{age, attention_order, exception_href, segment, store_failed, when};

/// The queue's filters, as the filter form sends them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    owner: Option<String>,
    kind: Option<String>,
    severity: Option<String>,
    /// Raised at least this long ago: `1h`, `4h`, `1d`, `1w`.
    age: Option<String>,
    /// A business number, NetSuite or Clarus id, or text of the document or key.
    document: Option<String>,
    /// `all` includes resolved exceptions.
    state: Option<String>,
    done: Option<String>,
}

/// Ages offered by the filter.
const AGES: [(&str, &str, i64); 4] = [
    ("1h", "older than 1 hour", 1),
    ("4h", "older than 4 hours", 4),
    ("1d", "older than 1 day", 24),
    ("1w", "older than 1 week", 168),
];

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The exceptions matching `query`, errors first then oldest.
pub(crate) fn filter(
    all: &[StoredException],
    query: &ListQuery,
    index: &DocumentIndex,
    now: Timestamp,
) -> Vec<StoredException> {
    let filter = ExceptionFilter {
        owner: nonempty(&query.owner).map(str::to_owned),
        kind: nonempty(&query.kind).map(str::to_owned),
        document: None,
        older_than: nonempty(&query.age).and_then(|a| {
            AGES.iter()
                .find(|(code, _, _)| *code == a)
                .map(|(_, _, h)| SignedDuration::from_hours(*h))
        }),
        newer_than: None,
        include_resolved: nonempty(&query.state) == Some("all"),
    };
    let document = nonempty(&query.document);
    let reached: BTreeSet<String> = document.map(|d| index.documents(d)).unwrap_or_default();
    let mut matching: Vec<StoredException> = all
        .iter()
        .filter(|e| filter.matches(e, now))
        .filter(|e| nonempty(&query.severity).is_none_or(|s| e.exception.severity == s))
        .filter(|e| {
            document.is_none_or(|d| {
                let d = d.to_lowercase();
                reached.contains(&e.exception.document)
                    || e.exception.document.to_lowercase().contains(&d)
                    || e.exception.key.to_lowercase().contains(&d)
            })
        })
        .cloned()
        .collect();
    matching.sort_by(|a, b| {
        a.resolved_at
            .is_some()
            .cmp(&b.resolved_at.is_some())
            .then(attention_order(a, b))
    });
    matching
}

pub(crate) async fn list(
    State(app): State<Arc<App>>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Response {
    let now = app.now();
    let all = match app.store.exceptions().await {
        Ok(all) => all,
        Err(e) => return store_failed(e),
    };
    let index = match app.store.recorded_events().await {
        Ok(events) => DocumentIndex::from_events(&events),
        Err(e) => return store_failed(e),
    };
    let matching = filter(&all, &query, &index, now);
    let keys: Vec<String> = matching.iter().map(|e| e.exception.key.clone()).collect();
    let assigned = match crate::assign::current_of(&*app.store, &keys).await {
        Ok(assigned) => assigned,
        Err(e) => return store_failed(e),
    };
    let owners: BTreeSet<&str> = all.iter().map(|e| e.exception.owner.as_str()).collect();
    let kinds: BTreeSet<&str> = all.iter().map(|e| e.exception.kind.as_str()).collect();
    let live = app.live().await;
    let may_bulk = live && signed.user.role != sync_engine::console_settings::ConsoleRole::Viewer;
    let selected = |v: &Option<String>, option: &str| nonempty(v) == Some(option);
    let body = html! {
        form #filter-form.filters method="get" action="/exceptions" {
            label for="filter-owner" { "Owner" }
            select #filter-owner name="owner" {
                option value="" { "any" }
                @for o in &owners { option value=(o) selected[selected(&query.owner, o)] { (o) } }
            }
            label for="filter-kind" { "Kind" }
            select #filter-kind name="kind" {
                option value="" { "any" }
                @for k in &kinds { option value=(k) selected[selected(&query.kind, k)] { (k) } }
            }
            label for="filter-severity" { "Severity" }
            select #filter-severity name="severity" {
                option value="" { "any" }
                @for s in ["error", "warning"] { option value=(s) selected[selected(&query.severity, s)] { (s) } }
            }
            label for="filter-age" { "Age" }
            select #filter-age name="age" {
                option value="" { "any" }
                @for (code, label, _) in AGES { option value=(code) selected[selected(&query.age, code)] { (label) } }
            }
            label for="filter-document" { "Document" }
            input #filter-document type="search" name="document" placeholder="SO1023, PO80001, a NetSuite or Clarus id"
                value=(query.document.as_deref().unwrap_or(""));
            label for="filter-state" { "State" }
            select #filter-state name="state" {
                option value="open" { "open" }
                option value="all" selected[selected(&query.state, "all")] { "open and resolved" }
            }
            button #filter-apply type="submit" { "Filter" }
        }
        p #exception-count data-test="exception-count" { (matching.len()) " exception(s)" }
        form #bulk-resolve-form method="post" action="/exceptions/bulk-resolve" {
            input type="hidden" name="csrf" value=(signed.csrf);
            table #exception-table {
                thead { tr {
                    th { "" } th { "Age" } th { "Owner" } th { "Severity" } th { "Kind" }
                    th { "Document" } th { "Message" } th { "Assigned" } th { "State" }
                } }
                tbody {
                    @for e in &matching {
                        @let x = &e.exception;
                        tr data-test="exception-row" data-key=(x.key) class=(x.severity) {
                            td { @if may_bulk && e.resolved_at.is_none() && signed.user.role.may_act_on(&x.owner) {
                                input type="checkbox" name="key" value=(x.key) aria-label="select";
                            } }
                            td { (age(now.duration_since(e.raised_at))) }
                            td { (x.owner) }
                            td { (x.severity) }
                            td { (x.kind) }
                            td {
                                (x.document)
                                @if let Some(number) = index.business_number(&x.document) { " · " strong { (number) } }
                            }
                            td { a data-test="exception-link" href=(exception_href(&x.key)) { (x.message) } }
                            td data-test="exception-assignee" { (assigned.get(&x.key).map(crate::assign::shown).unwrap_or_default()) }
                            td { @if e.resolved_at.is_some() { "resolved" } @else { "open" } }
                        }
                    }
                }
            }
            @if may_bulk && !matching.is_empty() {
                div.bulk {
                    label for="bulk-note" { "Resolve the selected exceptions with a note" }
                    input #bulk-note type="text" name="note" required;
                    button #bulk-resolve type="submit" { "Resolve selected" }
                }
            }
        }
    };
    let frame = Frame::new(&signed, live).with_notice(notice(query.done.as_deref()));
    ok_page("exceptions", "Exceptions", &frame, body)
}

/// `?done=` after an action.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    done: Option<String>,
}

/// The lifecycle of the document an exception concerns: the order itself, or the order whose
/// despatch, receipt or movement it is.
pub(crate) fn lifecycle_of<'a>(
    all: &'a [DocumentLifecycle],
    document: &str,
) -> Option<&'a DocumentLifecycle> {
    all.iter().find(|l| {
        l.document.to_string() == document
            || l.activity
                .iter()
                .any(|a| a.document.to_string() == document)
    })
}

pub(crate) async fn detail(
    State(app): State<Arc<App>>,
    signed: Signed,
    Path(key): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Response {
    let now = app.now();
    let exception = match app.store.exception(&key).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            return html(
                StatusCode::NOT_FOUND,
                crate::layout::bare("No such exception", "There is no exception with this key."),
            );
        }
        Err(e) => return store_failed(e),
    };
    let (audit, requests) = match tokio::try_join!(
        app.store.exception_audit(&key),
        app.store.requests_for(&key),
    ) {
        Ok(x) => x,
        Err(e) => return store_failed(e),
    };
    let documents = match lifecycles(&*app.store).await {
        Ok(d) => d,
        Err(e) => return store_failed(e),
    };
    let live = app.live().await;
    let x = &exception.exception;
    let may_act = live && signed.user.role.may_act_on(&x.owner) && exception.resolved_at.is_none();
    let retry = retry_way(&exception);
    let assigned = crate::assign::current(&audit);
    let lifecycle = lifecycle_of(&documents, &x.document);
    let payload = serde_json::to_string_pretty(&x.payload).unwrap_or_default();
    let action = |verb: &str| format!("{}/{verb}", exception_href(&x.key));
    let body = html! {
        dl #exception-facts {
            dt { "Key" } dd #exception-key data-test="exception-key" { (x.key) }
            dt { "State" } dd #exception-state data-test="exception-state" {
                @if let Some(at) = exception.resolved_at { "resolved " (when(at)) } @else { "open" }
            }
            dt { "Owner" } dd #exception-owner { (x.owner) }
            dt { "Severity" } dd #exception-severity { (x.severity) }
            dt { "Kind" } dd #exception-kind { (x.kind) }
            dt { "Document" } dd #exception-document {
                a href=(format!("/documents?q={}", segment(&x.document))) { (x.document) }
            }
            dt { "Message" } dd #exception-message data-test="exception-message" { (x.message) }
            dt { "Raised" } dd { (when(exception.raised_at)) " (" (age(now.duration_since(exception.raised_at))) " ago)" }
            dt { "Assigned to" } dd #exception-assignee data-test="exception-assignee" {
                (assigned.as_ref().map(crate::assign::shown).unwrap_or_else(|| "nobody".into()))
            }
            @if let Some(note) = &exception.resolution_note { dt { "Resolution" } dd #exception-resolution { (note) } }
            dt { "Runbook" } dd { a #runbook-link href=(format!("/runbook/{}", segment(crate::runbook::anchor_of(&x.runbook)))) { (x.runbook) } }
        }
        @if may_act {
            section #actions data-test="actions" {
                h2 { "Act" }
                @match &retry {
                    Ok(_) => {
                        form #retry-form method="post" action=(action("retry")) {
                            input type="hidden" name="csrf" value=(signed.csrf);
                            label for="retry-note" { "Note (optional)" }
                            input #retry-note type="text" name="note";
                            button #retry type="submit" { "Retry" }
                        }
                    }
                    Err(why) => { p #retry-not-possible { "Retry: " (why.to_string()) } }
                }
                form #resolve-form method="post" action=(action("resolve")) {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    label for="resolve-note" { "Resolution note" }
                    input #resolve-note type="text" name="note" required;
                    button #resolve type="submit" { "Resolve" }
                }
                form #assign-form method="post" action=(action("assign")) {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    label for="assign-person" { "Assign to" }
                    select #assign-person name="person" {
                        @for u in app.users.all() { option value=(u.name) { (u.name) " (" (u.role) ")" } }
                    }
                    button #assign type="submit" { "Assign" }
                }
            }
        } @else if exception.resolved_at.is_none() && live {
            p #no-actions data-test="no-actions" {
                "Your role (" (signed.user.role) ") does not act on exceptions owned by " (x.owner) "."
            }
        }
        (trail(&audit, &requests))
        section #stages data-test="stages" {
            h2 { "The document's stages" }
            @match lifecycle {
                Some(l) => (super::documents::timeline(l, &app.links)),
                None => p.empty { "No lifecycle is recorded for this document." },
            }
        }
        section #payload-section {
            h2 { "Payload" }
            pre #payload data-test="payload" { (payload) }
        }
    };
    let frame = Frame::new(&signed, live).with_notice(notice(query.done.as_deref()));
    ok_page("exception", &x.message, &frame, body)
}

fn trail(
    audit: &[sync_engine::store::AuditEntry],
    requests: &[sync_engine::store::ExceptionRequest],
) -> Markup {
    html! {
        section #audit data-test="audit" {
            h2 { "Audit trail" }
            table #audit-table {
                thead { tr { th { "When" } th { "Change" } th { "Note" } } }
                tbody {
                    @for a in audit {
                        tr data-test="audit-entry" data-change=(a.change) {
                            td { (when(a.at)) } td { (a.change) } td { (a.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            @if !requests.is_empty() {
                h3 { "Retries" }
                table #retry-table {
                    thead { tr { th { "Requested" } th { "Note" } th { "Handled" } th { "Outcome" } } }
                    tbody {
                        @for r in requests {
                            tr data-test="retry-request" {
                                td { (when(r.requested_at)) }
                                td { (r.note.as_deref().unwrap_or("")) }
                                td { (r.handled_at.map(when).unwrap_or_else(|| "waiting for the engine".into())) }
                                td { (r.outcome.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}
