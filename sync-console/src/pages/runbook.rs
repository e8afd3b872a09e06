//! A runbook entry as a page.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{PreEscaped, html};

use crate::app::{App, Signed, html};
use crate::layout::{Frame, ok_page, page as frame_page};

pub(crate) async fn page(
    State(app): State<Arc<App>>,
    signed: Signed,
    Path(anchor): Path<String>,
) -> Response {
    let frame = Frame::new(&signed, app.live().await);
    match crate::runbook::section(&anchor) {
        Some(section) => ok_page(
            "runbook",
            &section.title,
            &frame,
            html! {
                // The guide is part of the build; its raw HTML was made text by the renderer.
                article #runbook data-test="runbook" { (PreEscaped(section.body)) }
            },
        ),
        None => html(
            StatusCode::NOT_FOUND,
            frame_page(
                "runbook",
                "No such runbook entry",
                &frame,
                html! { p #message { "The operations guide has no entry " code { (anchor) } "." } },
            ),
        ),
    }
}
