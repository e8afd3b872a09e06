//! Document trace: a business document's timeline across both systems.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sync_engine::engine::document_label;
use sync_engine::monitor::{DocumentLifecycle, Posting, lifecycles};

use crate::Links;
use crate::app::{App, Signed};
use crate::layout::{Frame, ok_page};
use crate::lookup::DocumentIndex;
use crate::pages::{exception_href, store_failed, when};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TraceQuery {
    q: Option<String>,
}

fn posting_text(p: Posting) -> String {
    match p {
        Posting::Posted { .. } => "posted to NetSuite".into(),
        Posting::Queued => "queued for NetSuite".into(),
        Posting::Failed => "posting failed".into(),
        Posting::Withheld => "withheld (an exception holds it)".into(),
        Posting::NothingToPost => "nothing to post".into(),
    }
}

/// A document's stages and the warehouse's activity, with links to both systems.
pub(crate) fn timeline(l: &DocumentLifecycle, links: &Links) -> Markup {
    let netsuite = match &l.document {
        sync_core::DocumentRef::Order { order } => links.netsuite_record(&order.id.to_string()),
        _ => None,
    };
    html! {
        div.timeline data-test="timeline" data-document=(l.document.to_string()) {
            p {
                strong { (l.document.to_string()) } " · " (l.flow)
                @if let Some(href) = &netsuite { " · " a.netsuite-link data-test="netsuite-link" href=(href) rel="noreferrer" { "NetSuite record" } }
                @if let Some(href) = links.clarus_document(&l.document) { " · " a.clarus-link data-test="clarus-link" href=(href) rel="noreferrer" { "Clarus record" } }
            }
            ol.stages {
                @for mark in &l.stages {
                    li data-test="stage" data-stage=(mark.stage.code()) { (mark.stage) " · " (when(mark.at)) }
                }
                @if let Some(waiting) = &l.waiting {
                    li.waiting data-test="waiting" { "waiting for " (waiting.stage) " since " (when(waiting.at)) }
                }
            }
            @if !l.activity.is_empty() {
                table.activity {
                    thead { tr { th { "Warehouse" } th { "Happened" } th { "NetSuite" } th { "" } } }
                    tbody {
                        @for a in &l.activity {
                            tr data-test="activity" {
                                td { (a.document.to_string()) }
                                td { (when(a.occurred_at)) }
                                td { (posting_text(a.posting)) }
                                td { @if let Some(href) = links.clarus_document(&a.document) {
                                    a.clarus-link data-test="clarus-link" href=(href) rel="noreferrer" { "Clarus record" }
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) async fn page(
    State(app): State<Arc<App>>,
    signed: Signed,
    Query(query): Query<TraceQuery>,
) -> Response {
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let mut found: Vec<(Option<String>, DocumentLifecycle)> = Vec::new();
    let mut documents: BTreeSet<String> = BTreeSet::new();
    if let Some(q) = q {
        let index = match app.store.recorded_events().await {
            Ok(events) => DocumentIndex::from_events(&events),
            Err(e) => return store_failed(e),
        };
        let all = match lifecycles(&*app.store).await {
            Ok(all) => all,
            Err(e) => return store_failed(e),
        };
        documents = index.documents(q);
        // Store names typed as they are (`SO 4411`, a despatch's full name) find themselves.
        documents.insert(q.to_owned());
        for l in all {
            let name = l.document.to_string();
            if documents.contains(&name) {
                found.push((index.business_number(&name).map(str::to_owned), l));
            }
        }
    }
    let exceptions = match app.store.exceptions().await {
        Ok(all) => all
            .into_iter()
            .filter(|e| documents.contains(&e.exception.document))
            .collect::<Vec<_>>(),
        Err(e) => return store_failed(e),
    };
    let actions = match app.store.action_records().await {
        Ok(all) => all
            .into_iter()
            // The store keeps an action's document as the core's JSON key; the documents
            // looked up are display names.
            .filter(|a| documents.contains(&document_label(&a.document)))
            .collect::<Vec<_>>(),
        Err(e) => return store_failed(e),
    };
    let body = html! {
        form #trace-form method="get" action="/documents" {
            label for="trace-q" { "Document" }
            input #trace-q type="search" name="q" placeholder="SO1023, PO80001, RMA90001, a NetSuite or Clarus id"
                value=(q.unwrap_or(""));
            button #trace-find type="submit" { "Find" }
        }
        @if let Some(q) = q {
            @if found.is_empty() && exceptions.is_empty() {
                p #trace-none.empty data-test="trace-none" { "No document is known as " (q) "." }
            }
            @for (number, l) in &found {
                section.document data-test="document" {
                    h2 { (number.as_deref().unwrap_or("")) @if number.is_some() { " · " } (l.document.to_string()) }
                    (timeline(l, &app.links))
                }
            }
            @if !actions.is_empty() {
                section #document-actions {
                    h2 { "What the engine did" }
                    table #actions-table {
                        thead { tr { th { "Action" } th { "Document" } th { "State" } th { "Last change" } } }
                        tbody { @for a in &actions {
                            tr data-test="action" { td { (a.kind) } td { (document_label(&a.document)) } td { (format!("{:?}", a.status).to_lowercase()) } td { (when(a.updated_at)) } }
                        } }
                    }
                }
            }
            @if !exceptions.is_empty() {
                section #document-exceptions {
                    h2 { "Exceptions" }
                    ul { @for e in &exceptions {
                        li data-test="document-exception" {
                            a href=(exception_href(&e.exception.key)) { (e.exception.message) }
                            " · " (e.exception.owner) " · " @if e.resolved_at.is_some() { "resolved" } @else { "open" }
                        }
                    } }
                }
            }
        }
    };
    let live = app.live().await;
    let frame = Frame::new(&signed, live);
    ok_page("documents", "Document trace", &frame, body)
}
