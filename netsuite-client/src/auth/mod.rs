//! Authentication for NetSuite REST: the [`Authenticator`] seam every request goes through.
//!
//! The transport builds a request (method, URL with its query, headers, body) and hands it to an
//! [`Authenticator`] just before sending, so signers that need the final URL (TBA signs every
//! query parameter) and token caches (OAuth 2.0) fit the same hole.

use async_trait::async_trait;

/// Which authentication scheme an [`Authenticator`] uses; named in errors so a 401 says what was tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// OAuth 2.0 client credentials (machine to machine) with a certificate-signed JWT assertion.
    OAuth2ClientCredentials,
    /// OAuth 2.0 authorization code grant with PKCE and refresh tokens.
    OAuth2AuthorizationCode,
    /// Token-based authentication (OAuth 1.0a, HMAC-SHA256).
    Tba,
    /// A bearer token supplied by the caller as it is.
    StaticBearer,
}

/// Why credentials could not be attached to a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the request or answered something unusable.
    #[error("token request failed ({scheme:?}): {message}")]
    TokenRequest {
        /// The scheme that asked for a token.
        scheme: AuthScheme,
        /// What went wrong, with the server's own error code and description where it gave them.
        message: String,
    },
    /// The configuration cannot work (bad key, refused algorithm, malformed id).
    #[error("authentication is misconfigured ({scheme:?}): {message}")]
    Config {
        /// The scheme being configured.
        scheme: AuthScheme,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Attaches credentials to an outgoing NetSuite request.
///
/// Implementations must be cheap to call concurrently: token caches renew single-flight.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Adds the `Authorization` header (and anything else the scheme needs) to `request`.
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError>;

    /// Forgets any cached token after the server answered 401, so the next call renews it.
    fn invalidate(&self) {}

    /// The scheme, for error messages and logs.
    fn scheme(&self) -> AuthScheme;
}
