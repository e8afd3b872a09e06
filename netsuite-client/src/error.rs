//! Errors: what the server said (status, `o:errorCode`, detail, `o:errorPath`, raw body) and what
//! went wrong on our side.

use std::fmt;

use serde::Deserialize;

use crate::auth::{AuthError, AuthScheme};
use crate::ids::IdError;

/// Everything a NetSuite call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// NetSuite answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// NetSuite answered 401 twice (once more after the credentials were renewed).
    #[error(
        "NetSuite refused the credentials ({scheme:?}): {api}. Usual causes: a realm or account id in the wrong case (TBA realms are upper case, e.g. 1234567_SB1), a role without REST web services or record permissions, a clock more than 5 minutes off, a revoked token or certificate; overload can also show as 401 \"Invalid login attempt\". The Login Audit Trail in NetSuite shows the real reason."
    )]
    Unauthorized {
        /// The authentication scheme that was used.
        scheme: AuthScheme,
        /// The server's answer.
        api: Box<ApiError>,
    },
    /// A request that is not safe to repeat (a plain POST create or a transform) may or may not
    /// have taken effect: look the record up by external id before trying again.
    #[error(
        "outcome unknown for {method} {path}: {cause}. The request was sent and may have been applied; look the record up by external id before retrying"
    )]
    OutcomeUnknown {
        /// HTTP method.
        method: http::Method,
        /// Request path (no query string).
        path: String,
        /// What happened after the request was sent.
        cause: Box<Error>,
    },
    /// NetSuite (or something in front of it) answered with a redirect (3xx). Redirects are not
    /// followed, so the credentials and the request body never reach another host, and the
    /// request is not retried; check the account id or base URL.
    #[error(
        "NetSuite answered HTTP {status} (a redirect{}, not followed); check the account id or base URL",
        location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default()
    )]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Where the redirect pointed (the `Location` header without query, fragment or user
        /// info), when given.
        location: Option<String>,
    },
    /// The connection failed or timed out.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// Credentials could not be attached.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A response body did not have the expected shape.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The parser's complaint.
        source: serde_json::Error,
        /// The body as received (truncated to 64 KiB).
        body: String,
    },
    /// A success response lacked something required (e.g. the `Location` header after a create).
    #[error("unexpected response: {0}")]
    UnexpectedResponse(String),
    /// An identifier was refused before anything was sent.
    #[error(transparent)]
    InvalidId(#[from] IdError),
    /// A request was refused before anything was sent (bad argument).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client configuration is unusable (e.g. a plain `http` base URL without opt-in).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An asynchronous job finished with a failed task.
    #[error("asynchronous job {job_id} failed: {detail}")]
    JobFailed {
        /// The job id.
        job_id: String,
        /// What the job reported.
        detail: String,
    },
    /// A SuiteQL query reached NetSuite's 100,000-row cap; use keyset paging
    /// ([`crate::NetSuiteClient::suiteql_keyset`]) to read further.
    #[error(
        "SuiteQL query reached the {cap}-row cap of the REST API; page it by a unique integer key to continue past it (NetSuiteClient::suiteql_keyset with a suiteql::Keyset, or --keyset <column> in the netsuite CLI)"
    )]
    SuiteQlRowCap {
        /// The cap that was hit.
        cap: u64,
    },
    /// A query cannot be paged by key (e.g. it has its own `ORDER BY`); nothing was sent.
    #[error(transparent)]
    Keyset(#[from] KeysetError),
}

/// Why a query cannot be paged by key. Returned before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeysetError {
    /// The key is not a plain column name (`id`, `t.id`, `item`).
    #[error("keyset paging: {key:?} is not a column name (letters, digits, `_` and `.` only)")]
    KeyNotColumn {
        /// The key as given.
        key: String,
    },
    /// The query has its own `ORDER BY`.
    #[error(
        "keyset paging orders rows by the key column `{key}` itself (… AND {key} > last ORDER BY {key}); remove the query's own ORDER BY"
    )]
    OrderBy {
        /// The key column.
        key: String,
    },
    /// The query has a top-level clause the segment query cannot be combined with.
    #[error(
        "keyset paging adds `WHERE … {key} > last ORDER BY {key}` at the end of the query, which cannot follow its {clause}; page a query without it"
    )]
    Clause {
        /// The clause, e.g. `GROUP BY` or `UNION`.
        clause: &'static str,
        /// The key column.
        key: String,
    },
    /// The select given to [`Keyset::new`](crate::suiteql::Keyset::new) has its own `WHERE`.
    #[error(
        "the query given as the keyset's select has its own WHERE; build it with Keyset::parse, or give the query up to (not including) WHERE and the condition as the filter (--where in the netsuite CLI)"
    )]
    WhereInSelect,
    /// A filter was given and the query has its own `WHERE` as well.
    #[error(
        "the query has its own WHERE and a filter was given too; give the query up to (not including) WHERE and the whole condition as the filter (--where in the netsuite CLI)"
    )]
    WhereAndFilter,
    /// The query ends with `WHERE` and no condition.
    #[error("the query's WHERE has no condition")]
    EmptyWhere,
    /// A quote or parenthesis is not closed, so the query's clauses cannot be told apart.
    #[error("the query has an unterminated quote, comment or parenthesis")]
    Unbalanced,
}

impl Error {
    /// The API error, if NetSuite answered with one (including 401s and unknown outcomes caused by one).
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) | Self::Unauthorized { api, .. } => Some(api),
            Self::OutcomeUnknown { cause, .. } => cause.api(),
            _ => None,
        }
    }

    /// True when NetSuite answered 404 or said the record does not exist (`NONEXISTENT_ID`,
    /// `RCRD_DSNT_EXIST`): the answer a reconcile lookup by `eid:` expects when nothing was created.
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(|a| {
            a.status == 404
                || matches!(
                    a.code(),
                    Some(ErrorCode::NonexistentId | ErrorCode::RecordDoesNotExist)
                )
        })
    }

    /// True when the caller must reconcile (look up by external id) before retrying.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    pub(crate) fn decode(what: &'static str, source: serde_json::Error, body: &[u8]) -> Self {
        Self::Decode {
            what,
            source,
            body: truncate_body(body),
        }
    }
}

/// An error answer from NetSuite.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `title` of the error body (e.g. "Bad Request").
    pub title: Option<String>,
    /// Every entry of `o:errorDetails`, in order.
    pub details: Vec<ErrorDetail>,
    /// The body as received (truncated to 64 KiB), for logs and support cases.
    pub raw_body: String,
}

impl ApiError {
    /// Parses an error response. Bodies that are not NetSuite's error shape keep their raw text.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Body {
            title: Option<String>,
            #[serde(rename = "o:errorDetails", default)]
            details: Vec<ErrorDetail>,
        }
        let parsed: Option<Body> = serde_json::from_slice(body).ok();
        let (title, details) = match parsed {
            Some(b) => (b.title, b.details),
            None => (None, Vec::new()),
        };
        Self {
            status,
            title,
            details,
            raw_body: truncate_body(body),
        }
    }

    /// The first `o:errorCode`, if any.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.details.iter().find_map(|d| d.code.as_ref())
    }

    /// The first `detail` message, if any.
    pub fn detail(&self) -> Option<&str> {
        self.details.iter().find_map(|d| d.detail.as_deref())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetSuite answered {}", self.status)?;
        if let Some(title) = &self.title {
            write!(f, " {title}")?;
        }
        for d in &self.details {
            f.write_str(":")?;
            if let Some(code) = &d.code {
                write!(f, " [{code}]")?;
            }
            if let Some(detail) = &d.detail {
                write!(f, " {detail}")?;
            }
            if let Some(path) = &d.error_path {
                write!(f, " (at {path})")?;
            }
        }
        if self.details.is_empty() && self.title.is_none() && !self.raw_body.is_empty() {
            let snippet: String = self.raw_body.chars().take(200).collect();
            write!(f, ": {snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// One entry of `o:errorDetails`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorDetail {
    /// Human-readable message.
    pub detail: Option<String>,
    /// Machine-readable code.
    #[serde(rename = "o:errorCode")]
    pub code: Option<ErrorCode>,
    /// JSONPath-like pointer into the request body.
    #[serde(rename = "o:errorPath")]
    pub error_path: Option<String>,
    /// The offending query parameter, if any.
    #[serde(rename = "o:errorQueryParam")]
    pub error_query_param: Option<String>,
    /// The offending header, if any.
    #[serde(rename = "o:errorHeader")]
    pub error_header: Option<String>,
    /// The path of the URL the error refers to, if any.
    #[serde(rename = "o:errorUrl")]
    pub error_url: Option<String>,
}

/// `o:errorCode`: the codes this crate acts on, and every other code kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Too many requests in flight for the account (HTTP 429).
    ConcurrencyLimitExceeded,
    /// Bad token, signature, realm or role.
    InvalidLogin,
    /// Variant of [`ErrorCode::InvalidLogin`].
    InvalidLoginAttempt,
    /// A business rule refused the request.
    UserError,
    /// Malformed body.
    InvalidContent,
    /// A field value was refused.
    InvalidFieldValue,
    /// The role lacks a permission.
    InsufficientPermission,
    /// The record does not exist.
    NonexistentId,
    /// The record does not exist.
    RecordDoesNotExist,
    /// An idempotency key was reused; `Location` points at the original job.
    IdempotencyError,
    /// Any other code, exactly as sent.
    Other(String),
}

impl ErrorCode {
    /// Maps a wire code to a variant.
    pub fn parse(code: &str) -> Self {
        match code {
            "CONCURRENCY_LIMIT_EXCEEDED" => Self::ConcurrencyLimitExceeded,
            "INVALID_LOGIN" => Self::InvalidLogin,
            "INVALID_LOGIN_ATTEMPT" => Self::InvalidLoginAttempt,
            "USER_ERROR" => Self::UserError,
            "INVALID_CONTENT" => Self::InvalidContent,
            "INVALID_FLD_VALUE" => Self::InvalidFieldValue,
            "INSUFFICIENT_PERMISSION" => Self::InsufficientPermission,
            "NONEXISTENT_ID" => Self::NonexistentId,
            "RCRD_DSNT_EXIST" => Self::RecordDoesNotExist,
            "IDEMPOTENCY_ERROR" => Self::IdempotencyError,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as NetSuite writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ConcurrencyLimitExceeded => "CONCURRENCY_LIMIT_EXCEEDED",
            Self::InvalidLogin => "INVALID_LOGIN",
            Self::InvalidLoginAttempt => "INVALID_LOGIN_ATTEMPT",
            Self::UserError => "USER_ERROR",
            Self::InvalidContent => "INVALID_CONTENT",
            Self::InvalidFieldValue => "INVALID_FLD_VALUE",
            Self::InsufficientPermission => "INSUFFICIENT_PERMISSION",
            Self::NonexistentId => "NONEXISTENT_ID",
            Self::RecordDoesNotExist => "RCRD_DSNT_EXIST",
            Self::IdempotencyError => "IDEMPOTENCY_ERROR",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

const MAX_BODY: usize = 64 * 1024;

fn truncate_body(body: &[u8]) -> String {
    let cut = body.len().min(MAX_BODY);
    String::from_utf8_lossy(&body[..cut]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_netsuite_error_body() {
        let body = br#"{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1","title":"Bad Request","status":400,
            "o:errorDetails":[{"detail":"Invalid value for item.","o:errorCode":"INVALID_CONTENT","o:errorPath":"item.items[0].item"},
            {"detail":"second","o:errorCode":"SOMETHING_NEW","o:errorQueryParam":"q"}]}"#;
        let e = ApiError::from_response(400, body);
        assert_eq!(e.status, 400);
        assert_eq!(e.title.as_deref(), Some("Bad Request"));
        assert_eq!(e.code(), Some(&ErrorCode::InvalidContent));
        assert_eq!(e.detail(), Some("Invalid value for item."));
        assert_eq!(
            e.details[0].error_path.as_deref(),
            Some("item.items[0].item")
        );
        assert_eq!(
            e.details[1].code,
            Some(ErrorCode::Other("SOMETHING_NEW".into()))
        );
        assert_eq!(e.details[1].error_query_param.as_deref(), Some("q"));
        assert!(e.raw_body.contains("SOMETHING_NEW"));
        let shown = e.to_string();
        assert!(
            shown.contains("[INVALID_CONTENT] Invalid value for item. (at item.items[0].item)")
        );
    }

    #[test]
    fn keeps_raw_text_of_non_json_errors() {
        let e = ApiError::from_response(502, b"<html>Bad gateway</html>");
        assert!(e.details.is_empty());
        assert_eq!(e.raw_body, "<html>Bad gateway</html>");
        assert!(e.to_string().contains("Bad gateway"));
    }

    #[test]
    fn error_codes_round_trip() {
        for code in ["CONCURRENCY_LIMIT_EXCEEDED", "RCRD_DSNT_EXIST", "X_NEW"] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
    }
}
