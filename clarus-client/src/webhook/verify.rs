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

/// The shared secret a webhook must present.
#[derive(Debug, Clone)]
pub struct WebhookSecret {
    secret: Secret,
}

impl WebhookSecret {
    /// Wraps the expected secret. It should be long and random (32+ characters).
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }

    /// The secret, for building subscription URLs.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Compares a presented secret in constant time (only the length can leak).
    pub fn verify(&self, presented: Option<&str>) -> Result<(), VerifyError> {
        let presented = presented.ok_or(VerifyError::Missing)?;
        if bool::from(presented.as_bytes().ct_eq(self.secret.expose().as_bytes())) {
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

    fn secret() -> WebhookSecret {
        WebhookSecret::new(Secret::new("s3cr3t-value"))
    }

    #[test]
    fn query_token() {
        assert_eq!(
            secret().verify_query(Some("a=1&token=s3cr3t-value")),
            Ok(())
        );
        assert_eq!(
            secret().verify_query(Some("token=s3cr3t-valuf")),
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
        headers.insert("x-webhook-token", "s3cr3t-value".parse().unwrap());
        assert_eq!(secret().verify_header(&headers, "X-Webhook-Token"), Ok(()));
        assert_eq!(
            secret().verify_header(&headers, "x-other"),
            Err(VerifyError::Missing)
        );
    }
}
