//! Clarus client errors mapped onto the outbox's and the processor's error kinds.

use clarus_client::Error;

use crate::outbox::ExecutionError;
use crate::processor::DecodeError;

/// What kind of request failed, which decides whether an unknown outcome matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// A create (`POST /products`, `/goods_outs`, `/goods_in_receipts`): Clarus has no
    /// idempotency key, so a create that may have reached the server must be looked up before
    /// it is sent again.
    Create,
    /// A request that may be repeated without harm: an update with full attributes, a cancel,
    /// or a GraphQL read.
    Repeatable,
}

/// Maps a Clarus error onto the outbox's error kinds.
///
/// - Nothing reached the server (connection refused, token refused, 429, 503): retryable.
/// - The request may have been applied (timeout, connection lost after sending, any other 5xx,
///   an unreadable success body): ambiguous for a create, retryable otherwise.
/// - Clarus refused the request (403, 404, 422 and other 4xx): rejected, keeping every error
///   entry's code, symbol and details.
pub fn classify(error: Error, sent: Sent) -> ExecutionError {
    let class = classify_unmetered(&error, sent);
    crate::metrics::global().clarus_failure(crate::metrics::error_outcome(&class));
    class.caused_by(error)
}

fn classify_unmetered(error: &Error, sent: Sent) -> ExecutionError {
    let unknown = |message: String| match sent {
        Sent::Create => ExecutionError::Ambiguous(message.into()),
        Sent::Repeatable => ExecutionError::Retryable(message.into()),
    };
    match error {
        _ if error.is_connect_failure() => {
            ExecutionError::Retryable(format!("Clarus unreachable: {error}").into())
        }
        Error::Transport(_) => unknown(format!("no answer from Clarus: {error}")),
        Error::Auth(_) | Error::Unauthorized { .. } => {
            ExecutionError::Retryable(error.to_string().into())
        }
        Error::Decode { .. } => unknown(with_body(error)),
        Error::GraphQl { .. } => ExecutionError::Retryable(error.to_string().into()),
        Error::Config(_) | Error::InvalidRequest(_) => {
            ExecutionError::Rejected(error.to_string().into())
        }
        // Redirects are never followed: the request was not carried out where it was sent,
        // and sending it again would only be redirected again (the base URL needs fixing).
        Error::Redirect { .. } => ExecutionError::Rejected(error.to_string().into()),
        // Refused without being carried out: too many requests, or the service unavailable.
        _ if error.is_rate_limited() || error.status() == Some(503) => {
            ExecutionError::Retryable(error.to_string().into())
        }
        // A timeout or another server error: the request may have been applied.
        _ if error.is_transient() => unknown(with_body(error)),
        Error::Api { .. } | Error::UnexpectedStatus { .. } => {
            ExecutionError::Rejected(with_body(error).into())
        }
        // `Error` is non-exhaustive: a kind added later is treated as an unknown outcome.
        _ => unknown(error.to_string()),
    }
}

/// Maps a failed re-read onto the processor's error kinds: Clarus refusing the read outright
/// (403, 404, 422) makes the delivery unusable; anything else may pass later.
pub fn decode_error(context: &str, error: Error) -> DecodeError {
    let decoded = if error.is_not_found() || matches!(error.status(), Some(403 | 422)) {
        DecodeError::Invalid(format!("{context}: {}", with_body(&error)).into())
    } else {
        DecodeError::Retryable(format!("{context}: {error}").into())
    };
    decoded.caused_by(error)
}

/// The error's message with Clarus's own entries (code, symbol, details) or a short excerpt of
/// the body when the body is in no documented shape.
fn with_body(error: &Error) -> String {
    match error {
        Error::UnexpectedStatus { raw_body, .. } | Error::Decode { raw_body, .. }
            if !raw_body.is_empty() =>
        {
            let excerpt: String = raw_body.chars().take(300).collect();
            format!("{error}: {excerpt}")
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprocessable_keeps_code_symbol_and_details() {
        let body = r#"{"errors":[{"code":919,"symbol":"order_quantity_required","details":"order_quantity must be greater than 0"}]}"#;
        let error = Error::from_response(422, body.into());
        match classify(error, Sent::Create) {
            ExecutionError::Rejected(message) => {
                assert!(message.contains("919"), "{message}");
                assert!(message.contains("order_quantity_required"), "{message}");
                assert!(message.contains("greater than 0"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_redirect_is_rejected_not_retried_even_for_creates() {
        let error = Error::Redirect {
            status: 307,
            location: Some("https://elsewhere.example/api".into()),
        };
        assert!(matches!(
            classify(error, Sent::Create),
            ExecutionError::Rejected(m) if m.contains("307")
        ));
    }

    #[test]
    fn server_errors_are_ambiguous_only_for_creates() {
        let error = || Error::from_response(500, "oops".into());
        assert!(matches!(
            classify(error(), Sent::Create),
            ExecutionError::Ambiguous(_)
        ));
        assert!(matches!(
            classify(error(), Sent::Repeatable),
            ExecutionError::Retryable(_)
        ));
        let busy = Error::from_response(503, String::new());
        assert!(matches!(
            classify(busy, Sent::Create),
            ExecutionError::Retryable(_)
        ));
        let throttled = Error::from_response(429, String::new());
        assert!(matches!(
            classify(throttled, Sent::Create),
            ExecutionError::Retryable(_)
        ));
        let timeout = Error::from_response(408, String::new());
        assert!(matches!(
            classify(timeout, Sent::Create),
            ExecutionError::Ambiguous(_)
        ));
        let refused = Error::from_response(400, "bad".into());
        assert!(matches!(
            classify(refused, Sent::Repeatable),
            ExecutionError::Rejected(m) if m.contains("bad")
        ));
    }

    #[test]
    fn refused_credentials_are_retried_not_rejected() {
        let error = Error::from_response(401, r#"{"error":"Not authorized"}"#.into());
        assert!(matches!(
            classify(error, Sent::Create),
            ExecutionError::Retryable(_)
        ));
    }

    #[test]
    fn reads_refused_make_the_delivery_invalid_others_retry() {
        let missing = Error::from_response(404, r#"{"errors":[]}"#.into());
        assert!(matches!(
            decode_error("re-read", missing),
            DecodeError::Invalid(_)
        ));
        let down = Error::from_response(502, String::new());
        assert!(matches!(
            decode_error("re-read", down),
            DecodeError::Retryable(_)
        ));
    }
}
