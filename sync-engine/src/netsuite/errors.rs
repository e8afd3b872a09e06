//! How a NetSuite client error maps onto the outbox's [`ExecutionError`].

use netsuite_client::Error;

use crate::outbox::ExecutionError;

/// Where in an action a request failed: what may have happened depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A read before the write (the order's lines, lot numbers) or a look-up by `eid:`:
    /// nothing was changed, whatever went wrong.
    Read,
    /// The create or transform itself: a failure after sending may have applied it.
    Write,
}

/// Maps a NetSuite client error onto an [`ExecutionError`].
///
/// - refused before anything was applied (429, 401, connection not made, 5xx on a read, a token
///   endpoint that failed) → [`ExecutionError::Retryable`];
/// - the request may have been applied ([`Error::OutcomeUnknown`], a dropped connection or an
///   unreadable answer after a write was sent) → [`ExecutionError::Ambiguous`];
/// - NetSuite refused the request as such (any other 4xx, a request this side found invalid)
///   → [`ExecutionError::Rejected`], with NetSuite's status, `o:errorCode`, detail and path.
///
/// ```
/// use netsuite_client::{ApiError, Error};
/// use sync_engine::netsuite::{Stage, classify};
/// use sync_engine::outbox::ExecutionError;
///
/// let body = br#"{"title":"Bad Request","o:errorDetails":[{"detail":"No stock.","o:errorCode":"USER_ERROR"}]}"#;
/// let error = Error::Api(Box::new(ApiError::from_response(400, body)));
/// let ExecutionError::Rejected(message) = classify(error, Stage::Write) else { panic!() };
/// assert!(message.contains("[USER_ERROR] No stock."));
/// ```
pub fn classify(error: Error, stage: Stage) -> ExecutionError {
    classify_ref(&error, stage).caused_by(error)
}

/// [`classify`] without keeping the error as the cause.
fn classify_ref(error: &Error, stage: Stage) -> ExecutionError {
    let message = error.to_string();
    match error {
        Error::OutcomeUnknown { .. } => ExecutionError::Ambiguous(message.into()),
        Error::Api(api) | Error::Unauthorized { api, .. } => match api.status {
            // The request did not run: throttled (after the client's own retries) or refused
            // credentials, which a renewal or a fixed configuration cures without changing the
            // action.
            401 | 429 => {
                if api.status == 429 {
                    crate::metrics::global().netsuite_throttled();
                }
                ExecutionError::Retryable(message.into())
            }
            // A timeout answer: for a write it may still complete on the server.
            408 | 500..=599 => match stage {
                Stage::Read => ExecutionError::Retryable(message.into()),
                Stage::Write => ExecutionError::Ambiguous(message.into()),
            },
            _ => ExecutionError::Rejected(message.into()),
        },
        Error::Transport(e) => {
            if stage == Stage::Read || e.is_connect() {
                ExecutionError::Retryable(message.into())
            } else {
                ExecutionError::Ambiguous(message.into())
            }
        }
        Error::Auth(_) => ExecutionError::Retryable(message.into()),
        Error::UnexpectedResponse(_) | Error::Decode { .. } => match stage {
            // A 2xx answer to a write that could not be read: the write happened, its id is
            // unknown; the look-up by `eid:` finds it.
            Stage::Write => ExecutionError::Ambiguous(message.into()),
            Stage::Read => ExecutionError::Rejected(message.into()),
        },
        _ => ExecutionError::Rejected(message.into()),
    }
}

/// Whether a write was refused because its external id is taken: worth a look-up by `eid:`,
/// since an earlier attempt may have applied it. NetSuite answers 400 (409 in some accounts)
/// with `USER_ERROR` "... already exists", a `DUP_…` code, or a detail pointing at
/// `externalId`. Other refusals (no stock, a closed period, a line not open) are not looked up:
/// the look-up would cost a request and find nothing, since an attempt whose outcome was unknown
/// is looked up by the outbox before it is sent again.
pub(crate) fn may_be_duplicate(error: &Error) -> bool {
    let Error::Api(api) = error else {
        return false;
    };
    if !matches!(api.status, 400 | 409) {
        return false;
    }
    api.details.iter().any(|d| {
        let code = d.code.as_ref().map(|c| c.as_str()).unwrap_or_default();
        let text = d.detail.as_deref().unwrap_or_default().to_ascii_lowercase();
        code.starts_with("DUP")
            || d.error_path.as_deref() == Some("externalId")
            || text.contains("already exist")
            || text.contains("duplicate")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsuite_client::ApiError;

    #[test]
    fn the_client_error_stays_reachable_as_the_source() {
        let refused = classify(api(400), Stage::Write);
        let failure = std::error::Error::source(&refused).expect("the failure");
        let cause = failure.source().expect("the client's error");
        let Some(Error::Api(api)) = cause.downcast_ref::<Error>() else {
            panic!("not the NetSuite error: {cause}")
        };
        assert_eq!(api.status, 400);
        assert_eq!(refused.failure().message(), cause.to_string());
    }

    fn api(status: u16) -> Error {
        Error::Api(Box::new(ApiError::from_response(
            status,
            br#"{"o:errorDetails":[{"detail":"d","o:errorCode":"SOME_CODE"}]}"#,
        )))
    }

    #[test]
    fn statuses_map_by_stage() {
        let table = [
            (429, Stage::Write, "retryable"),
            (429, Stage::Read, "retryable"),
            (401, Stage::Write, "retryable"),
            (500, Stage::Read, "retryable"),
            (503, Stage::Write, "ambiguous"),
            (400, Stage::Write, "rejected"),
            (404, Stage::Read, "rejected"),
            (403, Stage::Write, "rejected"),
        ];
        for (status, stage, want) in table {
            let got = match classify(api(status), stage) {
                ExecutionError::Retryable(_) => "retryable",
                ExecutionError::Ambiguous(_) => "ambiguous",
                ExecutionError::Rejected(m) => {
                    assert!(m.contains("[SOME_CODE] d"), "{m}");
                    "rejected"
                }
            };
            assert_eq!(got, want, "{status} {stage:?}");
        }
    }

    #[test]
    fn unknown_outcomes_and_local_refusals() {
        let unknown = Error::OutcomeUnknown {
            method: http_post(),
            path: "/record/v1/salesOrder/1/!transform/itemFulfillment".into(),
            cause: Box::new(api(500)),
        };
        assert!(matches!(
            classify(unknown, Stage::Write),
            ExecutionError::Ambiguous(_)
        ));
        assert!(matches!(
            classify(Error::InvalidRequest("x".into()), Stage::Write),
            ExecutionError::Rejected(_)
        ));
        assert!(matches!(
            classify(
                Error::UnexpectedResponse("no Location".into()),
                Stage::Write
            ),
            ExecutionError::Ambiguous(_)
        ));
        assert!(!may_be_duplicate(&api(400)));
        assert!(!may_be_duplicate(&api(500)));
        for body in [
            r#"{"o:errorDetails":[{"detail":"A record with external ID K already exists.","o:errorCode":"USER_ERROR"}]}"#,
            r#"{"o:errorDetails":[{"detail":"x","o:errorCode":"DUP_RCRD"}]}"#,
            r#"{"o:errorDetails":[{"detail":"x","o:errorCode":"USER_ERROR","o:errorPath":"externalId"}]}"#,
        ] {
            let e = Error::Api(Box::new(ApiError::from_response(400, body.as_bytes())));
            assert!(may_be_duplicate(&e), "{body}");
        }
        let no_stock = Error::Api(Box::new(ApiError::from_response(
            400,
            br#"{"o:errorDetails":[{"detail":"Insufficient quantity on hand.","o:errorCode":"USER_ERROR"}]}"#,
        )));
        assert!(!may_be_duplicate(&no_stock));
        // Look-ups use the client's own classifier, which also knows NetSuite's not-found codes.
        assert!(api(404).is_not_found());
        let missing = Error::Api(Box::new(ApiError::from_response(
            400,
            br#"{"o:errorDetails":[{"detail":"That record does not exist.","o:errorCode":"RCRD_DSNT_EXIST"}]}"#,
        )));
        assert!(missing.is_not_found());
        assert!(!no_stock.is_not_found());
    }

    fn http_post() -> reqwest::Method {
        reqwest::Method::POST
    }
}
