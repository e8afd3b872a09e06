//! Errors returned by the client, keeping everything the server said.

use serde::Deserialize;
use serde_json::{Map, Value};

/// One entry of Clarus's `{"errors":[…]}` error body (403, 404 and 422 responses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ApiErrorItem {
    /// Numeric error code, e.g. `39`.
    pub code: Option<i64>,
    /// Symbolic error identifier, e.g. `not_enough_stocks_for_picking`.
    pub symbol: Option<String>,
    /// Human-readable message.
    pub details: Option<String>,
    /// Where the error came from (service and method), when given.
    pub source: Option<String>,
    /// Additional context, when given.
    pub context: Option<Map<String, Value>>,
    /// Any field the documentation does not list.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One entry of a GraphQL response's `errors` array.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GraphQlError {
    /// The error message.
    #[serde(default)]
    pub message: String,
    /// Path of the field that failed, when given.
    #[serde(default)]
    pub path: Option<Vec<Value>>,
    /// Server-specific extensions (codes and the like), when given.
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
    /// Any other field (e.g. `locations`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `extensions.code` values graphql-ruby (Clarus's GraphQL server) gives static validation
/// errors: the query does not fit the schema, and sending it again cannot help.
pub const GRAPHQL_VALIDATION_CODES: &[&str] = &[
    "undefinedField",
    "argumentNotAccepted",
    "argumentLiteralsIncompatible",
    "argumentNotUnique",
    "missingRequiredArguments",
    "missingRequiredInputObjectAttribute",
    "undefinedType",
    "selectionMismatch",
    "fieldConflict",
    "cannotSpreadFragment",
    "fragmentOnNonCompositeType",
    "undefinedFragment",
    "directiveNotDefined",
    "directiveCannotBeApplied",
    "directiveNotUniqueForLocation",
    "variableMismatch",
    "variableNotDefined",
    "variableNotUsed",
    "variableRequiresValidType",
    "defaultValueInvalidType",
    "missingQueryConfiguration",
    "missingMutationConfiguration",
    "missingSubscriptionConfiguration",
];

/// Phrases of graphql-ruby's validation messages, for servers that send no `extensions.code`.
const GRAPHQL_VALIDATION_PHRASES: &[&str] = &["doesn't exist on type", "doesn't accept argument"];

/// OAuth error codes a token endpoint uses for a passing problem.
const PASSING_OAUTH_ERRORS: &[&str] = &["server_error", "temporarily_unavailable", "slow_down"];

impl GraphQlError {
    /// Whether the error says the query does not fit the server's schema (a static validation
    /// error of graphql-ruby: an unknown field or argument, a missing required argument, ...).
    ///
    /// ```
    /// let e: clarus_client::GraphQlError = serde_json::from_str(
    ///     r#"{"message":"Field 'x' doesn't exist on type 'Product'","extensions":{"code":"undefinedField"}}"#,
    /// ).unwrap();
    /// assert!(e.is_validation());
    /// ```
    pub fn is_validation(&self) -> bool {
        let code = self
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str);
        code.is_some_and(|c| GRAPHQL_VALIDATION_CODES.contains(&c))
            || GRAPHQL_VALIDATION_PHRASES
                .iter()
                .any(|p| self.message.contains(p))
    }
}

/// Errors from obtaining or renewing an OAuth access token.
///
/// None of them keeps the token endpoint's response body (a token response can hold tokens):
/// only the OAuth `error` code and `error_description`, or a description of what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint answered with an OAuth error body (`{"error": …}`).
    #[error("token endpoint refused the request: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth error code, e.g. `invalid_client`.
        error: String,
        /// The `error_description`, when given.
        description: Option<String>,
    },
    /// The token endpoint answered with something that is not a token response.
    #[error("token endpoint returned an unreadable response: {message}")]
    InvalidResponse {
        /// What was wrong with it (values quoted from the body are blanked).
        message: String,
    },
    /// The token endpoint answered with a redirect (3xx). Redirects are not followed, so the
    /// client credentials never reach another host; check the base URL.
    #[error("token endpoint answered HTTP {status} (a redirect, not followed); check the base URL")]
    Redirect {
        /// The 3xx status.
        status: u16,
    },
    /// The token request could not be sent or its answer not read.
    #[error("token request failed: {0}")]
    Transport(String),
    /// The authorization-code grant has no valid token and no refresh token: the user must
    /// authorise again.
    #[error("no valid access token: complete the authorization-code flow first")]
    AuthorizationRequired,
}

/// Errors in the client's configuration, found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL could not be parsed.
    #[error("invalid base URL {url:?}: {message}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// Why it is invalid.
        message: String,
    },
    /// A URL (a redirect or webhook URL) could not be parsed, or is no absolute `http`/`https`
    /// URL with a host. A password written into it is not repeated.
    #[error("invalid URL {url:?}: {message}")]
    InvalidUrl {
        /// The URL as given, without user information.
        url: String,
        /// Why it is invalid.
        message: String,
    },
    /// The base URL is plain `http` but plain HTTP was not explicitly allowed.
    #[error("base URL {0:?} is not HTTPS; plain HTTP must be allowed explicitly")]
    InsecureBaseUrl(String),
    /// The subdomain is empty or contains characters not allowed in a header or host label.
    #[error("invalid Clarus subdomain {0:?}")]
    InvalidSubdomain(String),
    /// The path prefix must start with `/` and contain only path characters.
    #[error("invalid path prefix {0:?}")]
    InvalidPathPrefix(String),
    /// The base URL embeds a user name or password (`https://user:password@host`). Credentials
    /// belong to [`crate::Credentials`]; the URL is not repeated here, so the password is not
    /// printed either.
    #[error("the base URL must not embed a user name or password")]
    EmbeddedCredentials,
    /// A required setting is missing.
    #[error("missing setting: {0}")]
    Missing(&'static str),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

/// Every error the Clarus client returns.
///
/// Classify it with [`Error::is_not_found`], [`Error::is_rate_limited`], [`Error::is_conflict`],
/// [`Error::is_transient`] and [`Error::is_connect_failure`] rather than by matching statuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Clarus answered with its `{"errors":[…]}` body (403, 404, 422 and similar).
    #[error("Clarus returned HTTP {status}: {}", summarize(errors))]
    Api {
        /// HTTP status code.
        status: u16,
        /// Every error entry, with all its fields.
        errors: Vec<ApiErrorItem>,
        /// The raw response body.
        raw_body: String,
    },
    /// Clarus answered 401 even after re-authenticating once.
    #[error("Clarus rejected the credentials (HTTP 401): {}", error.as_deref().unwrap_or("no message"))]
    Unauthorized {
        /// The `error` message from the `{"error": …}` body, when present.
        error: Option<String>,
        /// The raw response body.
        raw_body: String,
    },
    /// Clarus answered with a redirect (3xx). Redirects are not followed, so the request body
    /// and the tenant header never reach another host; the request is not retried.
    #[error("Clarus answered HTTP {status} (a redirect{}, not followed); check the base URL", location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default())]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Where the redirect pointed (the `Location` header without query or fragment), when given.
        location: Option<String>,
    },
    /// Any other non-success status whose body is not in a documented error shape.
    #[error("Clarus returned HTTP {status}")]
    UnexpectedStatus {
        /// HTTP status code.
        status: u16,
        /// The raw response body.
        raw_body: String,
    },
    /// A GraphQL response carried `errors` (the HTTP status may well have been 200).
    #[error("GraphQL query failed: {}", errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    GraphQl {
        /// Every GraphQL error entry.
        errors: Vec<GraphQlError>,
        /// The raw response body.
        raw_body: String,
    },
    /// A success response whose body could not be read into the expected type.
    #[error("could not decode the Clarus response: {message}")]
    Decode {
        /// What was wrong.
        message: String,
        /// The raw response body.
        raw_body: String,
    },
    /// Obtaining an access token failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request was not accepted by the client before sending (e.g. an empty id list).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The request could not be sent or the response not received. When this happens on a
    /// create, the record may or may not exist: look it up before trying again.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
}

impl Error {
    /// The HTTP status code, for errors that came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. }
            | Self::UnexpectedStatus { status, .. }
            | Self::Redirect { status, .. } => Some(*status),
            Self::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }

    /// The raw response body, for errors that came with one.
    pub fn raw_body(&self) -> Option<&str> {
        match self {
            Self::Api { raw_body, .. }
            | Self::Unauthorized { raw_body, .. }
            | Self::UnexpectedStatus { raw_body, .. }
            | Self::GraphQl { raw_body, .. }
            | Self::Decode { raw_body, .. } => Some(raw_body),
            _ => None,
        }
    }

    /// Whether any API error entry carries this symbol (e.g. `product_code_exists`).
    pub fn has_symbol(&self, symbol: &str) -> bool {
        matches!(self, Self::Api { errors, .. } if errors.iter().any(|e| e.symbol.as_deref() == Some(symbol)))
    }

    /// True when Clarus answered 404: the record (or the route) does not exist. Clarus documents
    /// its 404 answers with the `{"errors":[…]}` body but no particular symbol, so the status
    /// alone decides.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the answer was 429 (too many requests). Clarus documents no rate limit; a 429
    /// (from Clarus or anything in front of it) means the request was refused and did not run.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// True when the request clashes with a record that already exists: a 409, or an error
    /// entry whose symbol ends in `_exists` (the documented example is `product_code_exists`,
    /// a 422). Look the existing record up rather than creating it again.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
            || matches!(self, Self::Api { errors, .. } if errors.iter().any(|e| {
                e.symbol.as_deref().is_some_and(|s| s.ends_with("_exists"))
            }))
    }

    /// True when the same request may succeed if sent again later unchanged: 408, 429 and 5xx
    /// answers, and transport failures (also while fetching a token). Whether repeating it is
    /// *safe* is another question: a create that failed this way may have been applied (see
    /// [`Error::is_connect_failure`] for the case where nothing was sent).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Auth(AuthError::Transport(_)) => true,
            _ => self.status().is_some_and(crate::retry::is_transient_status),
        }
    }

    /// True when Clarus refused who is asking: a 401 or 403 answer, the token endpoint refusing
    /// the client for a reason other than a passing one (`server_error`,
    /// `temporarily_unavailable`, `slow_down`), or no authorisation at all. Waiting does not
    /// clear it; new credentials or permissions do.
    pub fn is_access_refused(&self) -> bool {
        match self {
            Self::Unauthorized { .. } => true,
            Self::Auth(AuthError::Refused { error, .. }) => {
                !PASSING_OAUTH_ERRORS.contains(&error.as_str())
            }
            Self::Auth(AuthError::AuthorizationRequired) => true,
            _ => matches!(self.status(), Some(401 | 403)),
        }
    }

    /// True when a GraphQL query does not fit the tenant's schema (see
    /// [`GraphQlError::is_validation`]): sending it again cannot help.
    pub fn is_query_invalid(&self) -> bool {
        matches!(self, Self::GraphQl { errors, .. } if errors.iter().any(GraphQlError::is_validation))
    }

    /// True when waiting cannot clear the error: access refused, a query the schema does not
    /// accept, or a configuration the client rejected. Such a failure needs a person, not a retry.
    pub fn is_persistent(&self) -> bool {
        matches!(self, Self::Config(_)) || self.is_access_refused() || self.is_query_invalid()
    }

    /// True when the connection to Clarus could not be made: the request was never sent, so
    /// even a create may be sent again.
    pub fn is_connect_failure(&self) -> bool {
        matches!(self, Self::Transport(e) if e.is_connect())
    }

    /// Builds the error for a non-success HTTP response from its status and body.
    pub fn from_response(status: u16, raw_body: String) -> Self {
        #[derive(Deserialize)]
        struct ErrorsBody {
            errors: Vec<ApiErrorItem>,
        }
        #[derive(Deserialize)]
        struct SingleError {
            error: String,
        }
        if status == 401 {
            let error = serde_json::from_str::<SingleError>(&raw_body)
                .ok()
                .map(|b| b.error);
            return Self::Unauthorized { error, raw_body };
        }
        match serde_json::from_str::<ErrorsBody>(&raw_body) {
            Ok(body) => Self::Api {
                status,
                errors: body.errors,
                raw_body,
            },
            Err(_) => Self::UnexpectedStatus { status, raw_body },
        }
    }
}

/// The former name of [`Error`].
///
/// **Deprecated:** use [`Error`]; this alias is kept so existing callers still compile and will
/// be removed in a later release.
pub type ClarusError = Error;

fn summarize(errors: &[ApiErrorItem]) -> String {
    if errors.is_empty() {
        return "no error entries".to_owned();
    }
    errors
        .iter()
        .map(|e| {
            format!(
                "[{}] {}: {}",
                e.code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                e.symbol.as_deref().unwrap_or("-"),
                e.details.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistent_errors_are_refused_access_invalid_queries_and_configuration() {
        let api = |status| Error::from_response(status, r#"{"errors":[]}"#.to_owned());
        assert!(api(401).is_persistent() && api(403).is_access_refused());
        assert!(
            !api(429).is_persistent() && !api(503).is_persistent() && !api(422).is_persistent()
        );
        let refused = |code: &str| {
            Error::Auth(AuthError::Refused {
                error: code.to_owned(),
                description: None,
            })
        };
        assert!(refused("invalid_client").is_persistent());
        assert!(!refused("temporarily_unavailable").is_persistent());
        let graphql = |code: &str| {
            let errors: Vec<GraphQlError> = serde_json::from_value(serde_json::json!([
                {"message": "m", "extensions": {"code": code}}
            ]))
            .unwrap();
            Error::GraphQl {
                errors,
                raw_body: String::new(),
            }
        };
        assert!(graphql("undefinedField").is_query_invalid());
        assert!(!graphql("INTERNAL_SERVER_ERROR").is_persistent());
    }

    #[test]
    fn keeps_every_field_of_the_errors_body() {
        let body = r#"{"errors":[{"code":39,"symbol":"not_enough_stocks_for_picking","details":"Not enough stock","source":"Picks::Process#call","context":{"product_id":5},"hint":"x"}]}"#;
        let err = Error::from_response(422, body.to_owned());
        match &err {
            Error::Api {
                status,
                errors,
                raw_body,
            } => {
                assert_eq!(*status, 422);
                assert_eq!(raw_body, body);
                let e = &errors[0];
                assert_eq!(e.code, Some(39));
                assert_eq!(e.symbol.as_deref(), Some("not_enough_stocks_for_picking"));
                assert_eq!(e.details.as_deref(), Some("Not enough stock"));
                assert_eq!(e.source.as_deref(), Some("Picks::Process#call"));
                assert_eq!(e.context.as_ref().unwrap()["product_id"], 5);
                assert_eq!(e.other["hint"], "x");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.has_symbol("not_enough_stocks_for_picking"));
        assert!(
            err.to_string()
                .contains("[39] not_enough_stocks_for_picking")
        );
    }

    #[test]
    fn reads_the_401_form() {
        let err = Error::from_response(401, r#"{"error":"Not authorized"}"#.into());
        assert!(
            matches!(err, Error::Unauthorized { error: Some(ref e), .. } if e == "Not authorized")
        );
    }

    #[test]
    fn classification() {
        let err = |status: u16, body: &str| Error::from_response(status, body.to_owned());
        let symbol = |status: u16, symbol: &str| {
            err(
                status,
                &format!(r#"{{"errors":[{{"code":1,"symbol":"{symbol}","details":"x"}}]}}"#),
            )
        };
        assert!(err(404, r#"{"errors":[]}"#).is_not_found());
        assert!(err(404, "<html>").is_not_found());
        assert!(!err(422, r#"{"errors":[]}"#).is_not_found());
        assert!(err(429, "").is_rate_limited());
        assert!(!err(503, "").is_rate_limited());
        assert!(symbol(422, "product_code_exists").is_conflict());
        assert!(err(409, "").is_conflict());
        assert!(!symbol(422, "not_enough_stocks_for_picking").is_conflict());
        for transient in [408, 429, 500, 502, 503, 504] {
            assert!(err(transient, "").is_transient(), "{transient}");
        }
        for permanent in [400, 401, 403, 404, 409, 422] {
            assert!(!err(permanent, "").is_transient(), "{permanent}");
        }
        assert!(Error::Auth(AuthError::Transport("reset".into())).is_transient());
        assert!(!Error::Auth(AuthError::AuthorizationRequired).is_transient());
        assert!(!Error::InvalidRequest("x".into()).is_transient());
        assert!(!err(503, "").is_connect_failure());
    }

    #[test]
    fn keeps_unknown_bodies() {
        let err = Error::from_response(502, "<html>bad gateway</html>".into());
        assert_eq!(err.status(), Some(502));
        assert_eq!(err.raw_body(), Some("<html>bad gateway</html>"));
    }
}
