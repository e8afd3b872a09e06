//! NetSuite's error body (`nsError`) and the errors the simulator answers with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered in NetSuite's `nsError` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub path: Option<String>,
    pub title: Option<&'static str>,
}

impl NsError {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            path: None,
            title: None,
        }
    }

    pub(crate) fn titled(mut self, title: &'static str) -> Self {
        self.title = Some(title);
        self
    }

    pub(crate) fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// 400 `USER_ERROR`: a business rule refused the request.
    pub(crate) fn user(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "USER_ERROR", detail)
    }

    /// 400 `INVALID_CONTENT`: the body is malformed.
    pub(crate) fn content(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_CONTENT", detail)
    }

    /// 400 `INVALID_FLD_VALUE`: a field holds a value that does not resolve.
    pub(crate) fn field(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_FLD_VALUE", detail)
    }

    /// 400 `INVALID_PARAMETER`: a query parameter or header is wrong.
    pub(crate) fn parameter(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", detail)
    }

    /// 404 `NONEXISTENT_ID`.
    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NONEXISTENT_ID", detail)
    }

    /// 401 `INVALID_LOGIN`.
    pub(crate) fn login() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_LOGIN",
            "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at \
             Setup > Users/Roles > User Management > View Login Audit Trail.",
        )
    }

    /// 429 `CONCURRENCY_LIMIT_EXCEEDED` (no `Retry-After`, as the real service).
    pub(crate) fn concurrency() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "CONCURRENCY_LIMIT_EXCEEDED",
            "Concurrent request limit exceeded. Request blocked.",
        )
    }

    /// 500 `UNEXPECTED_ERROR`.
    pub(crate) fn unexpected() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred. Error ID: sim-fault",
        )
    }
}

fn type_link(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        401 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
        403 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
        404 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
        405 => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
        429 => "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
        _ => "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
    }
}

impl IntoResponse for NsError {
    fn into_response(self) -> Response {
        let mut detail = json!({
            "detail": self.detail,
            "o:errorCode": self.code,
        });
        if let Some(path) = self.path {
            detail["o:errorPath"] = json!(path);
        }
        let body = json!({
            "type": type_link(self.status),
            "title": self.title.or(self.status.canonical_reason()).unwrap_or("Error"),
            "status": self.status.as_u16(),
            "o:errorDetails": [detail],
        });
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.oracle.resource+json; type=error"),
        );
        response
    }
}
