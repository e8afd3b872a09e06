//! The actions: retry, resolve with a note, assign, bulk resolve. Each is refused without a
//! running engine (read-only), and to anyone whose role does not own the exception; each is
//! recorded in the exception's audit trail with the person's name.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sync_engine::exceptions::{RetryError, request_retry};
use sync_engine::store::StoredException;

use crate::app::{App, Posted, Signed, html};
use crate::layout::{Frame, bare, page as frame_page};
use crate::pages::{exception_href, store_failed};

/// Longest note kept.
const MAX_NOTE_CHARS: usize = 2000;

/// The note as kept in the audit trail: who, then what they wrote.
///
/// ```text
/// ana (operations): the carrier confirmed the parcel
/// ```
pub(crate) fn signed_note(signed: &Signed, note: &str) -> String {
    let note: String = note.trim().chars().take(MAX_NOTE_CHARS).collect();
    if note.is_empty() {
        format!("{} ({})", signed.user.name, signed.user.role)
    } else {
        format!("{} ({}): {note}", signed.user.name, signed.user.role)
    }
}

fn read_only() -> Response {
    html(
        StatusCode::CONFLICT,
        bare(
            "Read-only",
            "No engine runs on this store, so the console cannot act. Start the engine on it.",
        ),
    )
}

fn refused(owner: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        bare(
            "Not allowed",
            &format!("Your role does not act on exceptions owned by {owner}."),
        ),
    )
}

/// The open exception `key` when the signed-in person may act on it, or the answer refusing.
async fn actionable(app: &App, signed: &Signed, key: &str) -> Result<StoredException, Response> {
    if !app.live().await {
        return Err(read_only());
    }
    let exception = match app.store.exception(key).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            return Err(html(
                StatusCode::NOT_FOUND,
                bare("No such exception", "There is no exception with this key."),
            ));
        }
        Err(e) => return Err(store_failed(e)),
    };
    if !signed.user.role.may_act_on(&exception.exception.owner) {
        tracing::warn!(user = %signed.user.name, key, "console action refused by role");
        return Err(refused(&exception.exception.owner));
    }
    Ok(exception)
}

fn done(key: &str, what: &str) -> Response {
    Redirect::to(&format!("{}?done={what}", exception_href(key))).into_response()
}

pub(crate) async fn retry(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    posted: Posted,
) -> Response {
    let signed = &posted.signed;
    if let Err(refusal) = actionable(&app, signed, &key).await {
        return refusal;
    }
    let note = signed_note(signed, posted.form.get("note").unwrap_or(""));
    match request_retry(&*app.store, &key, Some(&note), app.now()).await {
        Ok(_) => {
            tracing::info!(user = %signed.user.name, %key, "console retry requested");
            done(&key, "retry")
        }
        Err(RetryError::Store(e)) => store_failed(e),
        Err(refusal) => html(
            StatusCode::CONFLICT,
            bare("Cannot retry", &refusal.to_string()),
        ),
    }
}

pub(crate) async fn resolve(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    posted: Posted,
) -> Response {
    let signed = &posted.signed;
    let exception = match actionable(&app, signed, &key).await {
        Ok(e) => e,
        Err(refusal) => return refusal,
    };
    let Some(note) = posted.form.get("note").filter(|n| !n.trim().is_empty()) else {
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            bare("A note is needed", "Say why the exception is resolved."),
        );
    };
    if exception.resolved_at.is_some() {
        return done(&key, "resolve");
    }
    match app
        .store
        .resolve_exception(&key, &signed_note(signed, note), app.now())
        .await
    {
        Ok(()) => {
            tracing::info!(user = %signed.user.name, %key, "console resolution");
            done(&key, "resolve")
        }
        Err(e) => store_failed(e),
    }
}

pub(crate) async fn assign(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    posted: Posted,
) -> Response {
    let signed = &posted.signed;
    if let Err(refusal) = actionable(&app, signed, &key).await {
        return refusal;
    }
    let Some(person) = posted.form.get("person").and_then(|p| app.users.get(p)) else {
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            bare(
                "Unknown person",
                "Assign the exception to one of the console's users.",
            ),
        );
    };
    match crate::assign::assign(
        &*app.store,
        &key,
        &person.name,
        &signed.user.name,
        app.now(),
    )
    .await
    {
        Ok(_) => {
            tracing::info!(user = %signed.user.name, %key, to = %person.name, "console assignment");
            done(&key, "assign")
        }
        Err(e) => store_failed(e),
    }
}

pub(crate) async fn bulk_resolve(State(app): State<Arc<App>>, posted: Posted) -> Response {
    let signed = &posted.signed;
    if !app.live().await {
        return read_only();
    }
    let Some(note) = posted.form.get("note").filter(|n| !n.trim().is_empty()) else {
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            bare("A note is needed", "Say why the exceptions are resolved."),
        );
    };
    let note = signed_note(signed, note);
    let now = app.now();
    let mut resolved = Vec::new();
    let mut refused = Vec::new();
    for key in posted.form.all("key") {
        match app.store.exception(key).await {
            Ok(Some(e)) if signed.user.role.may_act_on(&e.exception.owner) => {
                if e.resolved_at.is_none()
                    && let Err(err) = app.store.resolve_exception(key, &note, now).await
                {
                    return store_failed(err);
                }
                resolved.push(key.to_owned());
            }
            Ok(_) => refused.push(key.to_owned()),
            Err(err) => return store_failed(err),
        }
    }
    tracing::info!(user = %signed.user.name, resolved = resolved.len(), refused = refused.len(), "console bulk resolution");
    let status = if refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let frame = Frame::new(signed, true);
    html(
        status,
        frame_page(
            "bulk-resolved",
            "Bulk resolution",
            &frame,
            html! {
                p #bulk-resolved-count data-test="bulk-resolved-count" { (resolved.len()) " resolved" }
                ul #bulk-resolved { @for k in &resolved { li { a href=(exception_href(k)) { (k) } } } }
                @if !refused.is_empty() {
                    p #bulk-refused-count data-test="bulk-refused-count" {
                        (refused.len()) " not resolved: unknown, or owned by a role other than yours"
                    }
                    ul #bulk-refused { @for k in &refused { li { (k) } } }
                }
                p { a #back-to-queue href="/exceptions" { "Back to the queue" } }
            },
        ),
    )
}
