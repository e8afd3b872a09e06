//! A bearer token supplied by the caller, sent as it is.

use std::fmt;

use async_trait::async_trait;

use super::secret::Secret;
use super::{AuthError, AuthScheme, Authenticator, set_authorization};

const SCHEME: AuthScheme = AuthScheme::StaticBearer;

/// Sends `Authorization: Bearer <token>` with a token obtained elsewhere. It cannot renew: after
/// a 401 the caller must supply a new one. `Debug` hides the token.
///
/// ```
/// use netsuite_client::auth::{Authenticator, StaticBearer};
///
/// let auth = StaticBearer::new("eyJraWQiOi...").unwrap();
/// assert_eq!(format!("{auth:?}"), "StaticBearer { token: [redacted] }");
/// ```
#[derive(Clone)]
pub struct StaticBearer {
    token: Secret,
}

impl StaticBearer {
    /// Wraps `token`; refuses an empty token or one that cannot appear in an HTTP header.
    pub fn new(token: impl Into<String>) -> Result<Self, AuthError> {
        let token = Secret::new(token.into().trim());
        let printable = token.expose().bytes().all(|b| (0x21..0x7f).contains(&b));
        if token.is_empty() || !printable {
            return Err(AuthError::Config {
                scheme: SCHEME,
                message: "the bearer token is empty or has characters (spaces, control or non-ASCII) a token cannot have".to_owned(),
            });
        }
        Ok(StaticBearer { token })
    }
}

impl fmt::Debug for StaticBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticBearer")
            .field("token", &self.token)
            .finish()
    }
}

#[async_trait]
impl Authenticator for StaticBearer {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        set_authorization(request, &format!("Bearer {}", self.token.expose()), SCHEME)
    }

    fn scheme(&self) -> AuthScheme {
        SCHEME
    }
}
