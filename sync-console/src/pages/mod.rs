//! The pages: each module reads what it shows from the store and renders it with `maud`, which
//! escapes every value it inserts.

pub(crate) mod actions;
pub(crate) mod close;
pub(crate) mod documents;
pub(crate) mod drift;
pub(crate) mod exceptions;
pub(crate) mod home;
pub(crate) mod runbook;
pub(crate) mod signin;

use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sync_engine::store::StoredException;

use crate::app::html;

/// A page's answer when the store cannot be read.
pub(crate) fn store_failed(error: impl std::fmt::Display) -> Response {
    tracing::warn!(%error, "console: store read failed");
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        crate::layout::bare(
            "Store unavailable",
            "The store could not be read just now. Try again in a moment.",
        ),
    )
}

/// A time as people read it (UTC, to the second).
pub(crate) fn when(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An age such as `3d 4h`, `25m`.
pub(crate) fn age(age: SignedDuration) -> String {
    let secs = age.as_secs().max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else {
        format!("{m}m")
    }
}

/// A path segment, percent-encoded.
pub(crate) fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The detail page of exception `key`.
pub(crate) fn exception_href(key: &str) -> String {
    format!("/exceptions/{}", segment(key))
}

/// Errors first, then warnings, then anything else; oldest first within each.
pub(crate) fn attention_order(a: &StoredException, b: &StoredException) -> std::cmp::Ordering {
    severity_rank(&a.exception.severity)
        .cmp(&severity_rank(&b.exception.severity))
        .then(a.raised_at.cmp(&b.raised_at))
}

/// 0 for errors, 1 for warnings, 2 for anything else.
pub(crate) fn severity_rank(severity: &str) -> u8 {
    match severity {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_segments() {
        assert_eq!(age(SignedDuration::from_mins(25)), "25m");
        assert_eq!(age(SignedDuration::from_hours(28)), "1d 4h");
        assert_eq!(segment("EX-1/a b"), "EX%2D1%2Fa%20b");
        assert!(severity_rank("error") < severity_rank("warning"));
    }
}
