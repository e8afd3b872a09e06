//! The frame of every page: navigation, who is signed in, the read-only banner.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::signed::Signed;

/// What every signed-in page shows around its content.
pub(crate) struct Frame<'a> {
    pub signed: &'a Signed,
    /// Actions are disabled: no engine runs on the store.
    pub read_only: bool,
    /// A confirmation of what the last action did.
    pub notice: Option<&'static str>,
}

impl<'a> Frame<'a> {
    /// The frame for `signed`: read-only unless an engine runs on the store (`live`), with no
    /// notice.
    pub(crate) fn new(signed: &'a Signed, live: bool) -> Self {
        Frame {
            signed,
            read_only: !live,
            notice: None,
        }
    }

    /// The same frame, confirming what the last action did.
    pub(crate) fn with_notice(self, notice: Option<&'static str>) -> Self {
        Frame { notice, ..self }
    }
}

/// A 200 answer: the page `id`, titled `title`, with `body` in `frame`.
pub(crate) fn ok_page(id: &str, title: &str, frame: &Frame<'_>, body: Markup) -> Response {
    html(StatusCode::OK, page(id, title, frame, body))
}

/// An HTML answer.
pub(crate) fn html(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Sync console" }
            link rel="stylesheet" href="/static/console.css";
        }
    }
}

/// A signed-in page. `id` names the page for tests (`data-test="page-<id>"`).
pub(crate) fn page(id: &str, title: &str, frame: &Frame<'_>, body: Markup) -> Markup {
    let user = &frame.signed.user;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-test=(format!("page-{id}")) {
                header.top {
                    nav #nav {
                        a #nav-home href="/" { "Home" }
                        a #nav-exceptions href="/exceptions" { "Exceptions" }
                        a #nav-documents href="/documents" { "Documents" }
                        a #nav-drift href="/drift" { "Drift" }
                        a #nav-close href="/close" { "Close" }
                    }
                    div #whoami {
                        span #user-name data-test="user-name" { (user.name) }
                        " · "
                        span #user-role data-test="user-role" { (user.role) }
                        form #sign-out-form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(frame.signed.csrf);
                            button #sign-out type="submit" { "Sign out" }
                        }
                    }
                }
                @if frame.read_only {
                    div #read-only-banner.banner.warn data-test="read-only-banner" {
                        "Read-only: no engine runs on this store, so retry, resolve and assign \
                         are disabled. Start the engine (sync run) on this store to act."
                    }
                }
                @if let Some(notice) = frame.notice {
                    div #notice.banner.ok data-test="notice" { (notice) }
                }
                main #main {
                    h1 #page-title { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page with a title and a message, for anyone (errors, refusals).
pub(crate) fn bare(title: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-test="page-message" {
                main #main {
                    h1 #page-title { (title) }
                    p #message data-test="message" { (message) }
                    p { a #back-home href="/" { "Back to the console" } }
                }
            }
        }
    }
}

/// The notice shown for a `done=` code after an action.
pub(crate) fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "retry" => {
            "Retry requested: the engine carries it out within seconds; its outcome appears in the audit trail."
        }
        "resolve" => "Resolved. The note is in the audit trail.",
        "assign" => "Assigned.",
        _ => return None,
    })
}
