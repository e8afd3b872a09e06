//! OAuth 2.0 authorization code grant with PKCE (S256) and refresh tokens, on the `oauth2` crate.
//!
//! A user signs in to NetSuite once ([`AuthorizationCodeFlow::start`] gives the URL to send them
//! to); the code that comes back is exchanged for an access token and a refresh token
//! ([`AuthorizationCodeFlow::exchange_code`]). The resulting [`AuthorizationCodeAuth`] renews its
//! access token with the refresh token, single-flight, and keeps the latest refresh token so the
//! caller can store it ([`AuthorizationCodeAuth::refresh_token_secret`]).
//!
//! NetSuite refresh tokens last 7 days for confidential clients (3 hours, single use, for public
//! ones); after that a user must authorize again, so this grant suits interactive tools more than
//! unattended sync (use client credentials there).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::http::{
    MAX_TOKEN_LIFETIME, OAuth2Http, deserialize_expires_in, error_chain, scrub_values,
    token_http_client, token_lifetime,
};
use super::scope::Scope;
use super::secret::Secret;
use super::token_cache::{FetchedToken, TokenCache};
use super::{AuthError, AuthScheme, Authenticator, Clock, SystemClock, set_authorization};
use crate::account::{AccountId, Endpoint};

const SCHEME: AuthScheme = AuthScheme::OAuth2AuthorizationCode;

/// NetSuite's token response. `oauth2`'s standard response rejects it because `expires_in`
/// arrives as a string (`"3600"`), so this type accepts a string or a number.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct NetSuiteTokenResponse {
    access_token: AccessToken,
    #[serde(deserialize_with = "deserialize_token_type")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "deserialize_expires_in")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
}

fn deserialize_token_type<'de, D>(deserializer: D) -> Result<BasicTokenType, D::Error>
where
    D: Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    Ok(if text.eq_ignore_ascii_case("bearer") {
        BasicTokenType::Bearer
    } else {
        BasicTokenType::Extension(text)
    })
}

impl oauth2::TokenResponse for NetSuiteTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in
            .map(|s| Duration::from_secs(s).min(MAX_TOKEN_LIFETIME))
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<oauth2::Scope>> {
        None
    }
}

type NetSuiteOAuthClient = oauth2::Client<
    BasicErrorResponse,
    NetSuiteTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The integration record's OAuth 2.0 settings for the authorization code grant.
/// `Debug` hides the client secret.
#[derive(Clone)]
pub struct AuthorizationCodeConfig {
    client_id: String,
    client_secret: Option<Secret>,
    redirect_url: Url,
    authorize_url: Url,
    token_url: Url,
    scopes: Vec<Scope>,
}

impl fmt::Debug for AuthorizationCodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_url", &self.redirect_url.as_str())
            .field("authorize_url", &self.authorize_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl AuthorizationCodeConfig {
    /// Settings for `account`: the authorization page on its UI host
    /// ([`AccountId::authorize_url`]), the token URL on its REST host, the redirect URL entered on
    /// the integration record, scope `rest_webservices`, and no client secret (a public client).
    pub fn new(account: &AccountId, client_id: impl Into<String>, redirect_url: Url) -> Self {
        AuthorizationCodeConfig {
            client_id: client_id.into().trim().to_owned(),
            client_secret: None,
            redirect_url,
            authorize_url: account.authorize_url(),
            token_url: account.token_url(),
            scopes: vec![Scope::RestWebServices],
        }
    }

    /// Uses other endpoints (a simulator, a test server): the authorization page at
    /// `app.authorize_url()` and the token URL at `rest.token_url()`.
    pub fn with_endpoints(mut self, app: &Endpoint, rest: &Endpoint) -> Self {
        self.authorize_url = app.authorize_url();
        self.token_url = rest.token_url();
        self
    }

    /// A confidential client: token requests authenticate with HTTP Basic `client_id:secret`.
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(Secret::new(secret.into()));
        self
    }

    /// The scopes to request (at least one; an empty list keeps the current ones).
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        let list: Vec<Scope> = scopes.into_iter().collect();
        if !list.is_empty() {
            self.scopes = list;
        }
        self
    }
}

/// A PKCE code verifier, kept between sending the user to NetSuite and exchanging the code.
/// Store it server-side (never in the browser); `Debug` hides it.
#[derive(Clone)]
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// Restores a verifier saved with [`PkceVerifier::secret`].
    pub fn new(secret: impl Into<String>) -> Self {
        PkceVerifier(Secret::new(secret.into()))
    }

    /// The verifier text, for storing it until the code comes back.
    pub fn secret(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// Where to send the user, and what to keep until they come back.
#[derive(Debug, Clone)]
pub struct AuthorizationStart {
    /// The NetSuite authorization page with `response_type=code`, `client_id`, `redirect_uri`,
    /// `scope`, `state` and the S256 `code_challenge`.
    pub url: Url,
    /// The anti-CSRF `state`; the redirect back must carry the same value.
    pub state: String,
    /// The PKCE verifier to pass to [`AuthorizationCodeFlow::exchange_code`].
    pub verifier: PkceVerifier,
}

impl AuthorizationStart {
    /// Checks the `state` the redirect came back with.
    pub fn check_state(&self, returned_state: &str) -> Result<(), AuthError> {
        if returned_state == self.state {
            Ok(())
        } else {
            Err(AuthError::AuthorizationRequired {
                scheme: SCHEME,
                message: "the state returned with the authorization code does not match the one sent; the response may be forged or belong to another attempt".to_owned(),
            })
        }
    }
}

struct FlowInner {
    oauth: NetSuiteOAuthClient,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    scopes: Vec<Scope>,
    config: AuthorizationCodeConfig,
}

/// Starts the authorization code grant and turns codes or stored refresh tokens into
/// [`AuthorizationCodeAuth`] authenticators.
///
/// ```no_run
/// use netsuite_client::account::AccountId;
/// use netsuite_client::auth::{AuthorizationCodeConfig, AuthorizationCodeFlow};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let account: AccountId = "1234567".parse()?;
/// let config = AuthorizationCodeConfig::new(&account, "client-id", "https://app.example/callback".parse()?)
///     .with_client_secret("client-secret");
/// let flow = AuthorizationCodeFlow::new(config)?;
/// let start = flow.start();
/// println!("open {}", start.url);
/// // ... the redirect brings back `code` and `state` ...
/// # let (code, state) = (String::new(), String::new());
/// start.check_state(&state)?;
/// let auth = flow.exchange_code(&code, start.verifier).await?;
/// // keep auth.refresh_token_secret() to resume later with flow.resume(..)
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AuthorizationCodeFlow {
    inner: Arc<FlowInner>,
}

impl fmt::Debug for AuthorizationCodeFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeFlow")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AuthorizationCodeFlow {
    /// A flow using the system clock and its own token HTTP client (no redirects followed).
    pub fn new(config: AuthorizationCodeConfig) -> Result<Self, AuthError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Like [`AuthorizationCodeFlow::new`] with a given clock (for tests that move time).
    pub fn with_clock(
        config: AuthorizationCodeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthError> {
        if config.client_id.is_empty() {
            return Err(AuthError::Config {
                scheme: SCHEME,
                message: "the client id is empty".to_owned(),
            });
        }
        let mut oauth = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(config.authorize_url.clone()))
            .set_token_uri(TokenUrl::from_url(config.token_url.clone()))
            .set_redirect_uri(RedirectUrl::from_url(config.redirect_url.clone()));
        if let Some(secret) = &config.client_secret {
            oauth = oauth.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        Ok(AuthorizationCodeFlow {
            inner: Arc::new(FlowInner {
                oauth,
                http: token_http_client(SCHEME)?,
                clock,
                scopes: config.scopes.clone(),
                config,
            }),
        })
    }

    /// Builds the authorization URL with a random `state` and a fresh S256 PKCE challenge.
    pub fn start(&self) -> AuthorizationStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .inner
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(
                self.inner
                    .scopes
                    .iter()
                    .map(|s| oauth2::Scope::new(s.as_str().to_owned())),
            )
            .set_pkce_challenge(challenge)
            .url();
        AuthorizationStart {
            url,
            state: state.secret().clone(),
            verifier: PkceVerifier::new(verifier.secret().clone()),
        }
    }

    /// Exchanges the authorization code (with the PKCE verifier from [`AuthorizationStart`]) for
    /// tokens, and returns an authenticator holding them.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: PkceVerifier,
    ) -> Result<AuthorizationCodeAuth, AuthError> {
        let response = self
            .inner
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().to_owned()))
            .request_async(&OAuth2Http(&self.inner.http))
            .await
            .map_err(|e| token_error(e, false))?;
        let auth = AuthorizationCodeAuth::empty(self.inner.clone());
        let fetched = auth.accept(response)?;
        auth.cache.store(&fetched);
        Ok(auth)
    }

    /// An authenticator resuming from a stored refresh token; the first request refreshes.
    pub fn resume(&self, refresh_token: impl Into<String>) -> AuthorizationCodeAuth {
        let auth = AuthorizationCodeAuth::empty(self.inner.clone());
        *auth.refresh_token_slot() = Some(Secret::new(refresh_token.into()));
        auth
    }
}

/// Maps an `oauth2` token error; `refreshing` turns `invalid_grant` into "authorize again".
fn token_error(
    error: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
    refreshing: bool,
) -> AuthError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            if refreshing && *response.error() == BasicErrorResponseType::InvalidGrant {
                return AuthError::AuthorizationRequired {
                    scheme: SCHEME,
                    message: format!(
                        "the refresh token was refused (invalid_grant{}): it expired (7 days for confidential clients, 3 hours for public ones) or was already used; a user must authorize the app again",
                        response
                            .error_description()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    ),
                };
            }
            AuthError::TokenRejected {
                scheme: SCHEME,
                status: None,
                error: Some(response.error().as_ref().to_owned()),
                description: response.error_description().cloned(),
            }
        }
        RequestTokenError::Request(e) => AuthError::TokenRequest {
            scheme: SCHEME,
            message: error_chain(&e),
        },
        // The body is not kept: a token response that failed to parse may still hold tokens.
        RequestTokenError::Parse(e, _body) => AuthError::TokenRequest {
            scheme: SCHEME,
            message: scrub_values(&format!("the token response is not usable: {e}")),
        },
        RequestTokenError::Other(message) => AuthError::TokenRequest {
            scheme: SCHEME,
            message,
        },
    }
}

/// An [`Authenticator`] holding an access token from the authorization code grant, renewed with
/// the refresh token about 5 minutes before expiry (one refresh however many tasks wait).
pub struct AuthorizationCodeAuth {
    inner: Arc<FlowInner>,
    cache: TokenCache,
    refresh_token: Mutex<Option<Secret>>,
}

impl fmt::Debug for AuthorizationCodeAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeAuth")
            .field("config", &self.inner.config)
            .field("refresh_token", &*self.refresh_token_slot())
            .finish_non_exhaustive()
    }
}

impl AuthorizationCodeAuth {
    fn empty(inner: Arc<FlowInner>) -> Self {
        AuthorizationCodeAuth {
            cache: TokenCache::new(inner.clock.clone()),
            inner,
            refresh_token: Mutex::new(None),
        }
    }

    fn refresh_token_slot(&self) -> std::sync::MutexGuard<'_, Option<Secret>> {
        self.refresh_token.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The latest refresh token (NetSuite may rotate it on every refresh), for storing so the
    /// grant can be resumed with [`AuthorizationCodeFlow::resume`]. Treat it as a password.
    pub fn refresh_token_secret(&self) -> Option<String> {
        self.refresh_token_slot()
            .as_ref()
            .map(|s| s.expose().to_owned())
    }

    /// Checks a token response and keeps its refresh token (if it brings a new one).
    fn accept(&self, response: NetSuiteTokenResponse) -> Result<FetchedToken, AuthError> {
        if response.token_type != BasicTokenType::Bearer {
            return Err(AuthError::TokenRequest {
                scheme: SCHEME,
                message: format!(
                    "the token endpoint issued a {:?} token; only bearer tokens are supported",
                    response.token_type
                ),
            });
        }
        if let Some(refresh) = response.refresh_token {
            *self.refresh_token_slot() = Some(Secret::new(refresh.into_secret()));
        }
        Ok(FetchedToken {
            access_token: Secret::new(response.access_token.into_secret()),
            lifetime: token_lifetime(response.expires_in),
        })
    }

    async fn refresh(&self) -> Result<FetchedToken, AuthError> {
        let current = self.refresh_token_slot().clone().ok_or_else(|| {
            AuthError::AuthorizationRequired {
                scheme: SCHEME,
                message: "the access token expired and there is no refresh token; a user must authorize the app again".to_owned(),
            }
        })?;
        let refresh_token = RefreshToken::new(current.expose().to_owned());
        let response = self
            .inner
            .oauth
            .exchange_refresh_token(&refresh_token)
            .request_async(&OAuth2Http(&self.inner.http))
            .await
            .map_err(|e| token_error(e, true));
        match response {
            Ok(response) => self.accept(response),
            Err(error) => {
                if matches!(error, AuthError::AuthorizationRequired { .. }) {
                    // The grant is gone: later calls fail at once instead of asking again.
                    *self.refresh_token_slot() = None;
                }
                Err(error)
            }
        }
    }
}

#[async_trait]
impl Authenticator for AuthorizationCodeAuth {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        let token = self.cache.token(|| self.refresh()).await?;
        set_authorization(request, &format!("Bearer {}", token.expose()), SCHEME)
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }

    fn scheme(&self) -> AuthScheme {
        SCHEME
    }
}
