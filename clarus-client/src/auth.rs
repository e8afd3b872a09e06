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

use crate::HttpUrl;
use crate::config::{ClarusConfig, ClientAuthMethod, Credentials};
use crate::error::{AuthError, ConfigError};

/// Longest token lifetime believed from a token endpoint: a longer `expires_in` is read as this,
/// so an absurd value can neither overflow the clock arithmetic nor keep a token for years.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The token response Clarus's `/oauth/token` is assumed to send: RFC 6749 §5.1 plus
/// Doorkeeper's `created_at`. `expires_in` is read from a number or a numeric string; a negative
/// or zero lifetime means "renew on next use" and anything above [`MAX_TOKEN_LIFETIME`] is capped.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ClarusTokenResponse {
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

/// What an answer of Clarus's `/oauth/token` says, as the client reads it, without the tokens:
/// the client keeps the access and refresh tokens to itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    /// `token_type` (`bearer`, compared without case).
    pub token_type: String,
    /// The token's lifetime, capped at [`MAX_TOKEN_LIFETIME`], when the answer gives one.
    pub expires_in: Option<Duration>,
    /// Whether a refresh token came with it.
    pub refresh_token: bool,
    /// The scopes granted, when the answer lists them.
    pub scopes: Option<Vec<String>>,
    /// When the token was issued (Unix seconds), when the answer says so.
    pub created_at: Option<i64>,
}

/// Reads a token endpoint's answer as the client does (RFC 6749 §5.1 plus Doorkeeper's
/// `created_at`, `expires_in` as a number or a numeric string), for diagnostics and fuzzing.
///
/// ```
/// let answer = clarus_client::read_token_answer(
///     br#"{"access_token":"abc","token_type":"Bearer","expires_in":"7200","created_at":1}"#,
/// )
/// .unwrap();
/// assert_eq!(answer.expires_in, Some(std::time::Duration::from_secs(7200)));
/// assert!(!answer.refresh_token);
/// assert!(clarus_client::read_token_answer(b"{}").is_err());
/// ```
pub fn read_token_answer(body: &[u8]) -> Result<TokenAnswer, serde_json::Error> {
    let response: ClarusTokenResponse = serde_json::from_slice(body)?;
    Ok(TokenAnswer {
        token_type: response.token_type().as_ref().to_owned(),
        expires_in: response.expires_in(),
        refresh_token: response.refresh_token().is_some(),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|scope| scope.to_string()).collect()),
        created_at: response.created_at,
    })
}

/// Reads `expires_in` as whole seconds clamped to `0..=MAX_TOKEN_LIFETIME`: a number (integer or
/// float, negative read as 0) or a string holding one. Anything else is an error.
fn lenient_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Signed(i64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Seconds>::deserialize(deserializer)? {
        None => None,
        Some(Seconds::Number(n)) => Some(clamp_seconds(n as f64)),
        Some(Seconds::Signed(n)) => Some(clamp_seconds(n as f64)),
        Some(Seconds::Float(f)) => Some(clamp_seconds(f)),
        Some(Seconds::Text(t)) => {
            let seconds = t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| !f.is_nan())
                .ok_or_else(|| serde::de::Error::custom("expires_in is not a number of seconds"))?;
            Some(clamp_seconds(seconds))
        }
    })
}

/// Whole seconds in `0..=MAX_TOKEN_LIFETIME` (negative and NaN read as 0).
fn clamp_seconds(seconds: f64) -> u64 {
    let max = MAX_TOKEN_LIFETIME.as_secs();
    if seconds.is_nan() || seconds <= 0.0 {
        0
    } else if seconds >= max as f64 {
        max
    } else {
        seconds as u64
    }
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
        self.expires_in
            .map(|s| Duration::from_secs(s).min(MAX_TOKEN_LIFETIME))
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
pub(crate) enum OAuthHttpError {
    /// reqwest failed to send or receive.
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    /// The response could not be turned into an `http` response.
    #[error(transparent)]
    Http(#[from] oauth2::http::Error),
    /// The token endpoint answered with a redirect, which is not followed.
    #[error("the token endpoint answered HTTP {status} (a redirect); redirects are not followed")]
    Redirect {
        /// The 3xx status.
        status: u16,
    },
}

/// Adapter that lets `oauth2` send token requests with reqwest 0.13 (the `oauth2` crate's own
/// adapter targets an older reqwest). The wrapped client follows no redirects, so credentials
/// are never replayed to another host.
#[derive(Debug, Clone)]
pub(crate) struct OAuthHttpClient {
    client: reqwest::Client,
}

impl OAuthHttpClient {
    /// Builds the adapter with redirects disabled and the given timeout; `https_only` refuses
    /// plain-http token URLs.
    pub(crate) fn new(timeout: Duration, https_only: bool) -> Result<Self, ConfigError> {
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
            if response.status().is_redirection() {
                return Err(OAuthHttpError::Redirect {
                    status: response.status().as_u16(),
                });
            }
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
    pub url: HttpUrl,
    /// Compare with the `state` query parameter on the redirect.
    pub csrf_state: String,
    /// Pass back to [`crate::ClarusClient::complete_authorization`].
    pub pkce_verifier: PkceVerifier,
}

/// The PKCE code verifier of an authorization-code flow (RFC 7636): keep it, secretly, until
/// the user comes back from the authorization page, then pass it to
/// [`crate::ClarusClient::complete_authorization`]. `Debug` does not show it.
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A verifier kept elsewhere (e.g. in the user's session) between the two steps.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The verifier itself, for keeping it between the two steps.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier(***)")
    }
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
            let mut url = config.base_url.as_url().clone();
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
            oauth = oauth.set_redirect_uri(RedirectUrl::from_url(redirect.as_url().clone()));
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
            // Checked: a huge renewal margin makes the token stale, never a panic.
            let fresh = current.expires_at.is_none_or(|at| {
                Instant::now()
                    .checked_add(self.renew_before_expiry)
                    .is_some_and(|renew_from| renew_from < at)
            });
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
            url: HttpUrl::from_url(url),
            csrf_state: csrf_state.secret().clone(),
            pkce_verifier: PkceVerifier(verifier.secret().clone()),
        }
    }

    pub(crate) async fn exchange_code(
        &self,
        code: String,
        verifier: PkceVerifier,
    ) -> Result<(), AuthError> {
        let mut state = self.state.lock().await;
        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.0))
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
            expires_at: response.expires_in().map(expiry_from_now),
        });
        IssuedToken {
            secret,
            generation: state.generation,
        }
    }
}

/// When a token issued now with `lifetime` expires. The lifetime is capped at
/// [`MAX_TOKEN_LIFETIME`]; if the clock cannot represent the sum the token counts as already
/// expired (renewed on next use), never a panic.
fn expiry_from_now(lifetime: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(lifetime.min(MAX_TOKEN_LIFETIME))
        .unwrap_or(now)
}

/// Maps an `oauth2` error. The response body is never kept: a token response can hold tokens,
/// so only the OAuth `error` and `error_description` (or a scrubbed parser message) survive.
fn map_token_error(err: RequestTokenError<OAuthHttpError, BasicErrorResponse>) -> AuthError {
    match err {
        RequestTokenError::ServerResponse(response) => AuthError::Refused {
            error: response.error().as_ref().to_owned(),
            description: response.error_description().cloned(),
        },
        RequestTokenError::Request(OAuthHttpError::Redirect { status }) => {
            AuthError::Redirect { status }
        }
        RequestTokenError::Request(e) => AuthError::Transport(e.to_string()),
        RequestTokenError::Parse(e, _body) => AuthError::InvalidResponse {
            message: scrub_values(&e.to_string()),
        },
        RequestTokenError::Other(message) => AuthError::InvalidResponse {
            message: scrub_values(&message),
        },
    }
}

/// Blanks the quoted parts of a parser message (serde quotes the offending value in backticks
/// or double quotes), so a token of the wrong type cannot reach an error message.
fn scrub_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut closing: Option<char> = None;
    for c in message.chars() {
        match closing {
            Some(end) if c == end => {
                out.push('…');
                out.push(c);
                closing = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '`' || c == '"' {
                    closing = Some(c);
                }
            }
        }
    }
    if closing.is_some() {
        out.push('…');
    }
    out
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

    fn response_with(expires_in: &str) -> Result<ClarusTokenResponse, serde_json::Error> {
        serde_json::from_str(&format!(
            r#"{{"access_token":"abc","token_type":"Bearer","expires_in":{expires_in}}}"#
        ))
    }

    #[test]
    fn absurd_lifetimes_are_capped_or_renewed_on_next_use_never_a_panic() {
        let day = Some(MAX_TOKEN_LIFETIME);
        let now = Some(Duration::ZERO);
        for (raw, expected) in [
            ("18446744073709551615", day),
            ("\"18446744073709551615\"", day),
            ("1e300", day),
            ("\"1e300\"", day),
            ("-5", now),
            ("\"-5\"", now),
            ("-1e300", now),
            ("0", now),
            ("0.5", now),
            ("3600.9", Some(Duration::from_secs(3600))),
        ] {
            let r = response_with(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(r.expires_in(), expected, "{raw}");
            let mut state = TokenState::default();
            let issued = TokenManager::store(&mut state, r);
            assert_eq!(issued.secret, "abc");
            let at = state.current.unwrap().expires_at.unwrap();
            assert!(at <= Instant::now() + MAX_TOKEN_LIFETIME, "{raw}");
        }
        // Not a number: an unreadable token response (a typed error), not a panic.
        let err = response_with("\"abc\"").unwrap_err();
        assert!(err.to_string().contains("expires_in"), "{err}");
        // Clock arithmetic past what `Instant` holds falls back to "expired".
        let _ = expiry_from_now(Duration::MAX);
        assert!(expiry_from_now(Duration::ZERO) <= Instant::now());
    }

    #[test]
    fn zero_lifetime_renews_on_next_use() {
        let r = response_with("0").unwrap();
        let mut state = TokenState::default();
        TokenManager::store(&mut state, r);
        let at = state.current.unwrap().expires_at.unwrap();
        assert!(Instant::now() >= at);
    }

    #[test]
    fn token_errors_keep_no_body() {
        let err = map_token_error(RequestTokenError::Other(
            r#"unexpected "tok-12345678""#.to_owned(),
        ));
        let text = format!("{err:?} {err}");
        assert!(!text.contains("12345678"), "{text}");
        assert_eq!(
            scrub_values(r#"invalid type: string "s3cr3t", expected `u64` at x"#),
            r#"invalid type: string "…", expected `…` at x"#
        );
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
