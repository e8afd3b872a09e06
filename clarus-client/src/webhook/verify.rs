//! Shared-secret verification. Clarus webhooks carry no signature, so the receiver checks a
//! secret it put in the webhook URL (or that a proxy adds as a header), in constant time.

use reqwest::header::HeaderMap;
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// Name of the query parameter that carries the secret in subscription URLs.
pub const TOKEN_QUERY_PARAM: &str = "token";

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No secret was presented.
    #[error("webhook carries no shared secret")]
    Missing,
    /// A secret was presented but it is wrong.
    #[error("webhook shared secret does not match")]
    Mismatch,
}

/// The shared secret a webhook must present, and during a rotation the previous one, which is
/// accepted as well until it is removed.
#[derive(Debug, Clone)]
pub struct WebhookSecret {
    secret: Secret,
    previous: Option<Secret>,
}

impl WebhookSecret {
    /// Wraps the expected secret. It should be long and random (32+ characters).
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            previous: None,
        }
    }

    /// Also accepts `previous`, the secret being rotated out: deliveries still presenting it are
    /// taken until the automations have been re-pointed at the new one and it is removed.
    pub fn with_previous(mut self, previous: Secret) -> Self {
        self.previous = Some(previous);
        self
    }

    /// The secret, for building subscription URLs (always the current one).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The previous secret still accepted during a rotation, if any.
    pub fn previous(&self) -> Option<&Secret> {
        self.previous.as_ref()
    }

    /// Compares a presented secret in constant time (only the length can leak) with the current
    /// secret and, when set, the previous one; both comparisons are always made.
    pub fn verify(&self, presented: Option<&str>) -> Result<(), VerifyError> {
        let presented = presented.ok_or(VerifyError::Missing)?.as_bytes();
        let current = presented.ct_eq(self.secret.expose().as_bytes());
        let previous = match &self.previous {
            Some(previous) => presented.ct_eq(previous.expose().as_bytes()),
            None => subtle::Choice::from(0),
        };
        if bool::from(current | previous) {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }

    /// Checks the `token` parameter of a request's query string (e.g. `a=1&token=…`).
    pub fn verify_query(&self, query: Option<&str>) -> Result<(), VerifyError> {
        let token = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == TOKEN_QUERY_PARAM)
                .map(|(_, v)| v.into_owned())
        });
        self.verify(token.as_deref())
    }

    /// Checks a header (e.g. one a gateway adds), by name, case-insensitively.
    pub fn verify_header(&self, headers: &HeaderMap, name: &str) -> Result<(), VerifyError> {
        self.verify(headers.get(name).and_then(|v| v.to_str().ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "s3cr3t-value-0123456789abcdef0123";
    const PREVIOUS: &str = "previous-value-0123456789abcdef01";

    fn secret() -> WebhookSecret {
        WebhookSecret::new(Secret::new(CURRENT))
    }

    #[test]
    fn query_token() {
        assert_eq!(
            secret().verify_query(Some(&format!("a=1&token={CURRENT}"))),
            Ok(())
        );
        assert_eq!(
            secret().verify_query(Some("token=s3cr3t-value-0123456789abcdef0124")),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            secret().verify_query(Some("a=1")),
            Err(VerifyError::Missing)
        );
        assert_eq!(secret().verify_query(None), Err(VerifyError::Missing));
        assert_eq!(
            secret().verify_query(Some("token=s3cr3t")),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn header_token() {
        let mut headers = HeaderMap::new();
        headers.insert("x-webhook-token", CURRENT.parse().unwrap());
        assert_eq!(secret().verify_header(&headers, "X-Webhook-Token"), Ok(()));
        assert_eq!(
            secret().verify_header(&headers, "x-other"),
            Err(VerifyError::Missing)
        );
    }

    #[test]
    fn during_a_rotation_both_secrets_are_accepted() {
        let rotating = secret().with_previous(Secret::new(PREVIOUS));
        assert_eq!(rotating.verify(Some(CURRENT)), Ok(()));
        assert_eq!(rotating.verify(Some(PREVIOUS)), Ok(()));
        assert_eq!(
            rotating.verify(Some("third-value-0123456789abcdef01234")),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(rotating.verify(None), Err(VerifyError::Missing));
        assert_eq!(rotating.secret().expose(), CURRENT);
        assert_eq!(secret().verify(Some(PREVIOUS)), Err(VerifyError::Mismatch));
    }
}
