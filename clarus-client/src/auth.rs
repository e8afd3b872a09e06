//! OAuth 2.0 against `/oauth/token` through the `oauth2` crate, with a cached token renewed one
//! request at a time.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::Mutex;
use url::Url;

use crate::config::{ClarusConfig, ClientAuthMethod, Credentials};
use crate::error::{AuthError, ConfigError};

/// The token response Clarus's `/oauth/token` is assumed to send: RFC 6749 §5.1 plus
/// Doorkeeper's `created_at`. `expires_in` is read from a number or a numeric string.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClarusTokenResponse {
    access_token: AccessToken,
    #[serde(deserialize_with = "oauth2::helpers::deserialize_untagged_enum_case_insensitive")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "lenient_seconds")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(
        rename = "scope",
        default,
        deserialize_with = "oauth2::helpers::deserialize_space_delimited_vec",
        serialize_with = "oauth2::helpers::serialize_space_delimited_vec",
        skip_serializing_if = "Option::is_none"
    )]
    scopes: Option<Vec<Scope>>,
    /// Unix time the token was issued (Doorkeeper sends it), when given.
    #[serde(default)]
    created_at: Option<i64>,
}

fn lenient_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Seconds>::deserialize(deserializer)? {
        None => None,
        Some(Seconds::Number(n)) => Some(n),
        Some(Seconds::Float(f)) if f >= 0.0 => Some(f as u64),
        Some(Seconds::Float(_)) => None,
        Some(Seconds::Text(t)) => Some(t.trim().parse().map_err(serde::de::Error::custom)?),
    })
}

impl TokenResponse for ClarusTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    ClarusTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Error from the token-request HTTP adapter.
#[derive(Debug, thiserror::Error)]
pub enum OAuthHttpError {
    /// reqwest failed to send or receive.
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    /// The response could not be turned into an `http` response.
    #[error(transparent)]
    Http(#[from] oauth2::http::Error),
}

/// Adapter that lets `oauth2` send token requests with reqwest 0.13 (the `oauth2` crate's own
/// adapter targets an older reqwest). The wrapped client follows no redirects, so credentials
/// are never replayed to another host.
#[derive(Debug, Clone)]
pub struct OAuthHttpClient {
    client: reqwest::Client,
}

impl OAuthHttpClient {
    /// Builds the adapter with redirects disabled and the given timeout; `https_only` refuses
    /// plain-http token URLs.
    pub fn new(timeout: Duration, https_only: bool) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(https_only)
            .timeout(timeout)
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Self { client })
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttpClient {
    type Error = OAuthHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OAuthHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = self.client.execute(request).await?;
            let mut builder = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await?.to_vec();
            Ok(builder.body(body)?)
        })
    }
}

/// What the caller must keep between starting and completing an authorization-code flow.
#[derive(Debug)]
pub struct AuthorizationStart {
    /// Send the user's browser here.
    pub url: Url,
    /// Compare with the `state` query parameter on the redirect.
    pub csrf_state: CsrfToken,
    /// Pass back to [`crate::ClarusClient::complete_authorization`].
    pub pkce_verifier: PkceCodeVerifier,
}

#[derive(Debug)]
struct CachedToken {
    token: AccessToken,
    expires_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct TokenState {
    current: Option<CachedToken>,
    refresh: Option<RefreshToken>,
    /// Bumped on every new token, so a 401 seen with an old token does not discard a newer one.
    generation: u64,
}

/// The cached access token plus the machinery to renew it. Renewal happens under the state
/// lock, so concurrent callers wait for one renewal instead of starting their own.
pub(crate) struct TokenManager {
    oauth: OAuthClient,
    http: OAuthHttpClient,
    client_credentials: bool,
    scopes: Vec<String>,
    renew_before_expiry: Duration,
    state: Mutex<TokenState>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("client_credentials", &self.client_credentials)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A bearer token handed out with the generation it belongs to.
pub(crate) struct IssuedToken {
    pub(crate) secret: String,
    pub(crate) generation: u64,
}

impl TokenManager {
    pub(crate) fn new(config: &ClarusConfig) -> Result<Self, ConfigError> {
        let join = |path: &str| {
            let mut url = config.base_url.clone();
            let base = url.path().trim_end_matches('/').to_owned();
            url.set_path(&format!("{base}{path}"));
            url
        };
        let (client_id, client_secret, scopes, redirect, client_credentials) =
            match &config.credentials {
                Credentials::ClientCredentials {
                    client_id,
                    client_secret,
                    scopes,
                } => (client_id, client_secret, scopes, None, true),
                Credentials::AuthorizationCode {
                    client_id,
                    client_secret,
                    redirect_url,
                    scopes,
                } => (client_id, client_secret, scopes, Some(redirect_url), false),
            };
        let mut oauth = oauth2::Client::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(client_secret.expose().to_owned()))
            .set_auth_uri(AuthUrl::from_url(join("/oauth/authorize")))
            .set_token_uri(TokenUrl::from_url(join("/oauth/token")))
            .set_auth_type(match config.client_auth {
                ClientAuthMethod::BasicAuth => AuthType::BasicAuth,
                ClientAuthMethod::RequestBody => AuthType::RequestBody,
            });
        if let Some(redirect) = redirect {
            oauth = oauth.set_redirect_uri(RedirectUrl::from_url(redirect.clone()));
        }
        Ok(Self {
            oauth,
            http: OAuthHttpClient::new(config.timeout, !config.allow_http)?,
            client_credentials,
            scopes: scopes.clone(),
            renew_before_expiry: config.renew_before_expiry,
            state: Mutex::new(TokenState::default()),
        })
    }

    /// Returns a valid token, renewing it first if it is missing or about to expire.
    pub(crate) async fn token(&self) -> Result<IssuedToken, AuthError> {
        let mut state = self.state.lock().await;
        if let Some(current) = &state.current {
            let fresh = current
                .expires_at
                .is_none_or(|at| Instant::now() + self.renew_before_expiry < at);
            if fresh {
                return Ok(IssuedToken {
                    secret: current.token.secret().clone(),
                    generation: state.generation,
                });
            }
        }
        let response = if let Some(refresh) = state.refresh.clone() {
            match self.request_refresh(&refresh).await {
                Ok(response) => response,
                // A refused refresh token falls back to a fresh client-credentials grant.
                Err(AuthError::Refused { .. }) if self.client_credentials => {
                    self.request_client_credentials().await?
                }
                Err(e) => return Err(e),
            }
        } else if self.client_credentials {
            self.request_client_credentials().await?
        } else {
            return Err(AuthError::AuthorizationRequired);
        };
        Ok(Self::store(&mut state, response))
    }

    /// Forgets the token of `generation` after the API rejected it; a newer token is kept.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.generation == generation {
            state.current = None;
        }
    }

    pub(crate) fn authorize_url(&self) -> AuthorizationStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, csrf_state) = request.url();
        AuthorizationStart {
            url,
            csrf_state,
            pkce_verifier: verifier,
        }
    }

    pub(crate) async fn exchange_code(
        &self,
        code: String,
        verifier: PkceCodeVerifier,
    ) -> Result<(), AuthError> {
        let mut state = self.state.lock().await;
        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(map_token_error)?;
        Self::store(&mut state, response);
        Ok(())
    }

    pub(crate) async fn set_refresh_token(&self, refresh: String) {
        let mut state = self.state.lock().await;
        state.refresh = Some(RefreshToken::new(refresh));
        state.current = None;
    }

    async fn request_client_credentials(&self) -> Result<ClarusTokenResponse, AuthError> {
        let mut request = self.oauth.exchange_client_credentials();
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        tracing::debug!("requesting a Clarus access token (client credentials)");
        request
            .request_async(&self.http)
            .await
            .map_err(map_token_error)
    }

    async fn request_refresh(
        &self,
        refresh: &RefreshToken,
    ) -> Result<ClarusTokenResponse, AuthError> {
        tracing::debug!("renewing the Clarus access token with the refresh token");
        self.oauth
            .exchange_refresh_token(refresh)
            .request_async(&self.http)
            .await
            .map_err(map_token_error)
    }

    fn store(state: &mut TokenState, response: ClarusTokenResponse) -> IssuedToken {
        state.generation += 1;
        if let Some(refresh) = response.refresh_token() {
            state.refresh = Some(refresh.clone());
        }
        let secret = response.access_token().secret().clone();
        state.current = Some(CachedToken {
            token: response.access_token().clone(),
            expires_at: response.expires_in().map(|d| Instant::now() + d),
        });
        IssuedToken {
            secret,
            generation: state.generation,
        }
    }
}

fn map_token_error(err: RequestTokenError<OAuthHttpError, BasicErrorResponse>) -> AuthError {
    match err {
        RequestTokenError::ServerResponse(response) => AuthError::Refused {
            error: response.error().as_ref().to_owned(),
            description: response.error_description().cloned(),
            raw_body: serde_json::to_string(&response).unwrap_or_default(),
        },
        RequestTokenError::Request(e) => AuthError::Transport(e.to_string()),
        RequestTokenError::Parse(e, body) => AuthError::InvalidResponse {
            message: e.to_string(),
            raw_body: String::from_utf8_lossy(&body).into_owned(),
        },
        RequestTokenError::Other(message) => AuthError::InvalidResponse {
            message,
            raw_body: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_doorkeeper_and_lenient_token_responses() {
        let r: ClarusTokenResponse = serde_json::from_str(
            r#"{"access_token":"abc","token_type":"Bearer","expires_in":7200,"scope":"","created_at":1700000000}"#,
        )
        .unwrap();
        assert_eq!(r.expires_in(), Some(Duration::from_secs(7200)));
        assert_eq!(r.created_at, Some(1_700_000_000));
        let r: ClarusTokenResponse = serde_json::from_str(
            r#"{"access_token":"abc","token_type":"bearer","expires_in":"3600","refresh_token":"r"}"#,
        )
        .unwrap();
        assert_eq!(r.expires_in(), Some(Duration::from_secs(3600)));
        assert_eq!(r.refresh_token().unwrap().secret(), "r");
        let r: ClarusTokenResponse =
            serde_json::from_str(r#"{"access_token":"abc","token_type":"Bearer"}"#).unwrap();
        assert_eq!(r.expires_in(), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let r: ClarusTokenResponse = serde_json::from_str(
            r#"{"access_token":"topsecret","token_type":"Bearer","refresh_token":"alsosecret"}"#,
        )
        .unwrap();
        let text = format!("{r:?}");
        assert!(
            !text.contains("topsecret") && !text.contains("alsosecret"),
            "{text}"
        );
    }
}
