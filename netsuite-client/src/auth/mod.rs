//! Authentication for NetSuite REST: the [`Authenticator`] seam every request goes through.
//!
//! The transport builds a request (method, URL with its query, headers, body) and hands it to an
//! [`Authenticator`] just before sending, so signers that need the final URL (TBA signs every
//! query parameter) and token caches (OAuth 2.0) fit the same hole.
//!
//! Four implementations, each behind its cargo feature (all in `default`; a build that needs one
//! method can leave the others, and their dependencies, out):
//! - [`ClientCredentialsAuth`] (`oauth2-client-credentials`): OAuth 2.0 client credentials (M2M)
//!   with a JWT assertion signed by the certificate's private key. Oracle's recommended choice for
//!   unattended integrations.
//! - [`TbaSigner`] (`tba`): token-based authentication (OAuth 1.0a, HMAC-SHA256). Legacy but
//!   common.
//! - [`AuthorizationCodeAuth`] (`oauth2-authorization-code`): OAuth 2.0 authorization code with
//!   PKCE and refresh tokens, started through [`AuthorizationCodeFlow`].
//! - [`StaticBearer`] (`static-bearer`): a bearer token the caller already has.
//!
//! [`AuthSettings`] picks and builds one of them from environment variables or another source.
//!
//! Every credential type redacts its secrets in `Debug`, and nothing here logs a secret.

use std::time::SystemTime;

use async_trait::async_trait;

#[cfg(feature = "oauth2-authorization-code")]
mod authorization_code;
#[cfg(feature = "oauth2-client-credentials")]
mod client_credentials;
#[cfg(any(
    feature = "oauth2-client-credentials",
    feature = "oauth2-authorization-code"
))]
mod http;
mod scope;
mod secret;
mod settings;
mod settings_text;
#[cfg(feature = "static-bearer")]
mod static_bearer;
#[cfg(feature = "tba")]
mod tba;
#[cfg(any(
    feature = "oauth2-client-credentials",
    feature = "oauth2-authorization-code"
))]
mod token_cache;

#[cfg(feature = "oauth2-authorization-code")]
pub use authorization_code::{
    AuthorizationCodeAuth, AuthorizationCodeConfig, AuthorizationCodeFlow, AuthorizationStart,
    PkceVerifier,
};
#[cfg(feature = "oauth2-client-credentials")]
pub use client_credentials::{
    ClientCredentialsAuth, ClientCredentialsConfig, JwtAlgorithm, ScopeClaim,
};
pub use scope::Scope;
pub use settings::AuthSettings;
#[cfg(feature = "static-bearer")]
pub use static_bearer::StaticBearer;
#[cfg(feature = "tba")]
pub use tba::{TbaCredentials, TbaSigner};

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
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token request could not be made or its answer could not be used (network failure,
    /// timeout, redirect refused, unreadable success body).
    #[error("token request failed ({scheme:?}): {message}")]
    TokenRequest {
        /// The scheme that asked for a token.
        scheme: AuthScheme,
        /// What went wrong. Never contains a token.
        message: String,
    },
    /// The token endpoint answered with an error. Only the OAuth `error` code and
    /// `error_description` are kept, never the response body (it could hold a token).
    #[error(
        "token endpoint refused the request ({scheme:?}, status {}): {}{}",
        status.map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        error.as_deref().unwrap_or("no error code"),
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    TokenRejected {
        /// The scheme that asked for a token.
        scheme: AuthScheme,
        /// HTTP status, when known.
        status: Option<u16>,
        /// The OAuth `error` code, e.g. `invalid_client`, `invalid_grant`.
        error: Option<String>,
        /// The OAuth `error_description`, when given.
        description: Option<String>,
    },
    /// The configuration cannot work (bad key, refused algorithm, malformed id).
    #[error("authentication is misconfigured ({scheme:?}): {message}")]
    Config {
        /// The scheme being configured.
        scheme: AuthScheme,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// There is no usable grant: the authorization code flow has no refresh token left, or the
    /// refresh token expired. A user has to authorize the app again.
    #[error("authorization required ({scheme:?}): {message}")]
    AuthorizationRequired {
        /// The scheme that needs a new authorization.
        scheme: AuthScheme,
        /// Why.
        message: String,
    },
}

impl AuthError {
    /// The scheme that produced this error.
    pub fn scheme(&self) -> AuthScheme {
        match self {
            AuthError::TokenRequest { scheme, .. }
            | AuthError::TokenRejected { scheme, .. }
            | AuthError::Config { scheme, .. }
            | AuthError::AuthorizationRequired { scheme, .. } => *scheme,
        }
    }
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

/// The wall clock used for token expiry, JWT `iat`/`exp` and TBA timestamps.
///
/// Injectable so tests can move time forward; production code uses [`SystemClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A shared clock handle.
#[cfg(any(
    feature = "oauth2-client-credentials",
    feature = "oauth2-authorization-code",
    feature = "tba"
))]
pub(crate) type SharedClock = std::sync::Arc<dyn Clock>;

/// Seconds since the Unix epoch (0 for a clock set before 1970).
#[cfg(any(feature = "oauth2-client-credentials", feature = "tba"))]
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Sets `Authorization: <value>` marked sensitive, so `Debug` of the request hides it.
pub(crate) fn set_authorization(
    request: &mut reqwest::Request,
    value: &str,
    scheme: AuthScheme,
) -> Result<(), AuthError> {
    let mut header =
        reqwest::header::HeaderValue::from_str(value).map_err(|_| AuthError::Config {
            scheme,
            message: "the credential contains characters that cannot appear in an HTTP header"
                .to_owned(),
        })?;
    header.set_sensitive(true);
    request
        .headers_mut()
        .insert(reqwest::header::AUTHORIZATION, header);
    Ok(())
}
