//! OAuth 2.0 client credentials (machine to machine) with a certificate-signed JWT assertion.
//!
//! NetSuite's M2M flow: the integration record has a client id, and an uploaded certificate has a
//! certificate id. To get an access token the client signs a short JWT with the certificate's
//! private key (`kid` = certificate id, `iss` = client id, `aud` = token URL, `scope`, `iat`,
//! `exp` ≤ 60 min) and posts it to the token URL. The token lasts 60 minutes and there is no
//! refresh token, so a new assertion is signed for every renewal.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use jsonwebtoken::{EncodingKey, Header};
use serde::{Deserialize, Serialize};
use url::Url;

use super::http::{
    deserialize_expires_in, error_chain, rejected, scrub_values, token_http_client, token_lifetime,
};
use super::scope::Scope;
use super::secret::Secret;
use super::token_cache::{FetchedToken, TokenCache};
use super::{
    AuthError, AuthScheme, Authenticator, Clock, SharedClock, SystemClock, set_authorization,
    unix_seconds,
};
use crate::account::Endpoint;

const SCHEME: AuthScheme = AuthScheme::OAuth2ClientCredentials;
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// NetSuite refuses assertions whose `exp` is more than 60 minutes after `iat`.
const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(60 * 60);
const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// RSA keys shorter than this are refused by NetSuite when the certificate is uploaded.
const MIN_RSA_SIGNATURE_BYTES: usize = 3072 / 8;

/// A JWT signing algorithm NetSuite accepts for client assertions.
///
/// RS256 (RSA PKCS#1 v1.5) is not here: NetSuite has rejected it since 1 March 2025. An RSA key
/// works unchanged with [`JwtAlgorithm::PS256`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// RSASSA-PSS with SHA-256 (RSA key).
    PS256,
    /// RSASSA-PSS with SHA-384 (RSA key).
    PS384,
    /// RSASSA-PSS with SHA-512 (RSA key).
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
}

impl JwtAlgorithm {
    /// The `alg` header value, e.g. `PS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::PS256 => "PS256",
            JwtAlgorithm::PS384 => "PS384",
            JwtAlgorithm::PS512 => "PS512",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::ES384 => "ES384",
        }
    }

    fn to_jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            JwtAlgorithm::PS256 => jsonwebtoken::Algorithm::PS256,
            JwtAlgorithm::PS384 => jsonwebtoken::Algorithm::PS384,
            JwtAlgorithm::PS512 => jsonwebtoken::Algorithm::PS512,
            JwtAlgorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            JwtAlgorithm::ES384 => jsonwebtoken::Algorithm::ES384,
        }
    }

    fn is_rsa(self) -> bool {
        matches!(
            self,
            JwtAlgorithm::PS256 | JwtAlgorithm::PS384 | JwtAlgorithm::PS512
        )
    }
}

fn refused_algorithm(name: &str) -> AuthError {
    let name = name.to_ascii_uppercase();
    let message = if name.eq_ignore_ascii_case("RS256")
        || name.eq_ignore_ascii_case("RS384")
        || name.eq_ignore_ascii_case("RS512")
    {
        format!(
            "{name} (RSA PKCS#1 v1.5) is rejected by NetSuite since 1 March 2025; \
             sign with PS256 (RSA-PSS) using the same RSA key, or with ES256/ES384"
        )
    } else {
        format!(
            "{name} is not a JWT algorithm NetSuite accepts; use PS256, PS384, PS512, ES256 or ES384"
        )
    };
    AuthError::Config {
        scheme: SCHEME,
        message,
    }
}

impl FromStr for JwtAlgorithm {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PS256" => Ok(JwtAlgorithm::PS256),
            "PS384" => Ok(JwtAlgorithm::PS384),
            "PS512" => Ok(JwtAlgorithm::PS512),
            "ES256" => Ok(JwtAlgorithm::ES256),
            "ES384" => Ok(JwtAlgorithm::ES384),
            _ => Err(refused_algorithm(s.trim())),
        }
    }
}

impl TryFrom<jsonwebtoken::Algorithm> for JwtAlgorithm {
    type Error = AuthError;

    fn try_from(value: jsonwebtoken::Algorithm) -> Result<Self, Self::Error> {
        format!("{value:?}").parse()
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the `scope` claim is written in the assertion. Oracle documents a comma-separated string;
/// a JSON array is reported to work too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeClaim {
    /// `"scope": "restlets,rest_webservices"` (the documented form).
    #[default]
    CommaSeparated,
    /// `"scope": ["restlets", "rest_webservices"]`.
    Array,
}

/// Everything needed to obtain M2M access tokens. `Debug` shows no key material.
///
/// ```no_run
/// use netsuite_client::account::AccountId;
/// use netsuite_client::auth::{ClientCredentialsAuth, ClientCredentialsConfig, JwtAlgorithm, Scope};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let account: AccountId = "1234567_SB1".parse()?;
/// let pem = std::fs::read("netsuite-m2m-key.pem")?;
/// let config = ClientCredentialsConfig::new(
///     &account.endpoint(),
///     "client-id-from-the-integration-record",
///     "certificate-id-from-the-m2m-setup",
///     JwtAlgorithm::PS256,
///     &pem,
/// )?
/// .with_scopes([Scope::RestWebServices]);
/// let auth = std::sync::Arc::new(ClientCredentialsAuth::new(config)?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ClientCredentialsConfig {
    token_url: Url,
    client_id: String,
    certificate_id: String,
    algorithm: JwtAlgorithm,
    key: EncodingKey,
    scopes: Vec<Scope>,
    scope_claim: ScopeClaim,
    assertion_lifetime: Duration,
}

impl fmt::Debug for ClientCredentialsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsConfig")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("certificate_id", &self.certificate_id)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("scope_claim", &self.scope_claim)
            .field("assertion_lifetime", &self.assertion_lifetime)
            .finish()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    scope: ScopeValue,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ScopeValue {
    Text(String),
    List(Vec<&'static str>),
}

impl ClientCredentialsConfig {
    /// Builds the configuration and checks it can sign: the PEM private key (PKCS#8, or PKCS#1
    /// for RSA) must fit `algorithm` (an RSA key for PS*, a P-256 key for ES256, a P-384 key for
    /// ES384). The token URL is [`Endpoint::token_url`]. Scope defaults to `rest_webservices`.
    pub fn new(
        endpoint: &Endpoint,
        client_id: impl Into<String>,
        certificate_id: impl Into<String>,
        algorithm: JwtAlgorithm,
        private_key_pem: &[u8],
    ) -> Result<Self, AuthError> {
        let client_id = non_empty(client_id.into(), "client id")?;
        let certificate_id = non_empty(certificate_id.into(), "certificate id")?;
        let key = if algorithm.is_rsa() {
            EncodingKey::from_rsa_pem(private_key_pem)
        } else {
            EncodingKey::from_ec_pem(private_key_pem)
        }
        .map_err(|e| AuthError::Config {
            scheme: SCHEME,
            message: format!(
                "the private key is not a PEM {} key usable with {algorithm}: {e}",
                if algorithm.is_rsa() { "RSA" } else { "EC" }
            ),
        })?;
        let config = ClientCredentialsConfig {
            token_url: endpoint.token_url(),
            client_id,
            certificate_id,
            algorithm,
            key,
            scopes: vec![Scope::RestWebServices],
            scope_claim: ScopeClaim::default(),
            assertion_lifetime: DEFAULT_ASSERTION_LIFETIME,
        };
        // Sign once now, so a key that does not fit the algorithm (e.g. a P-256 key with ES384)
        // fails at start-up rather than at the first request.
        let probe = config.client_assertion(SystemTime::now())?;
        if algorithm.is_rsa() && signature_len(&probe) < MIN_RSA_SIGNATURE_BYTES {
            tracing::warn!(
                "the RSA key is shorter than 3072 bits; NetSuite requires 3072 or 4096-bit keys for M2M certificates"
            );
        }
        Ok(config)
    }

    /// Sets the scopes requested (at least one).
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut list: Vec<Scope> = Vec::new();
        for scope in scopes {
            if !list.contains(&scope) {
                list.push(scope);
            }
        }
        if !list.is_empty() {
            self.scopes = list;
        }
        self
    }

    /// Sets how the `scope` claim is written.
    pub fn with_scope_claim(mut self, claim: ScopeClaim) -> Self {
        self.scope_claim = claim;
        self
    }

    /// Sets how long each assertion is valid (`exp` − `iat`), between 1 second and 60 minutes.
    /// Default 5 minutes: an assertion is used once, right after it is signed.
    pub fn with_assertion_lifetime(mut self, lifetime: Duration) -> Result<Self, AuthError> {
        if lifetime < Duration::from_secs(1) || lifetime > MAX_ASSERTION_LIFETIME {
            return Err(AuthError::Config {
                scheme: SCHEME,
                message: format!(
                    "assertion lifetime {}s is out of range; NetSuite accepts 1 s to 60 min",
                    lifetime.as_secs()
                ),
            });
        }
        self.assertion_lifetime = lifetime;
        Ok(self)
    }

    /// The token URL the assertion is posted to (and its `aud`).
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Signs a client assertion issued at `now`. Exposed for cross-checks and diagnostics; the
    /// authenticator calls it for every token request.
    pub fn client_assertion(&self, now: SystemTime) -> Result<String, AuthError> {
        let iat = unix_seconds(now);
        let scope = match self.scope_claim {
            ScopeClaim::CommaSeparated => ScopeValue::Text(
                self.scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ScopeClaim::Array => ScopeValue::List(self.scopes.iter().map(|s| s.as_str()).collect()),
        };
        let claims = AssertionClaims {
            iss: &self.client_id,
            scope,
            aud: self.token_url.as_str(),
            iat,
            exp: iat + self.assertion_lifetime.as_secs(),
        };
        let mut header = Header::new(self.algorithm.to_jwt());
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.certificate_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| AuthError::Config {
            scheme: SCHEME,
            message: format!(
                "cannot sign the client assertion with {}: {e} (does the key fit the algorithm?)",
                self.algorithm
            ),
        })
    }
}

fn non_empty(value: String, what: &str) -> Result<String, AuthError> {
    if value.trim().is_empty() {
        Err(AuthError::Config {
            scheme: SCHEME,
            message: format!("the {what} is empty"),
        })
    } else {
        Ok(value.trim().to_owned())
    }
}

/// Length in bytes of a JWT's signature (the RSA modulus size for PS*).
fn signature_len(jwt: &str) -> usize {
    let encoded = jwt.rsplit('.').next().unwrap_or_default();
    encoded.len() * 3 / 4
}

/// Successful token response. `expires_in` arrives as a string from NetSuite.
#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "deserialize_expires_in")]
    expires_in: Option<u64>,
}

/// An [`Authenticator`] for M2M: signs an assertion, fetches a token, caches it and renews it
/// about 5 minutes before it expires. However many tasks wait, one token request is in flight.
pub struct ClientCredentialsAuth {
    config: ClientCredentialsConfig,
    http: reqwest::Client,
    cache: TokenCache,
    clock: SharedClock,
}

impl fmt::Debug for ClientCredentialsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsAuth")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ClientCredentialsAuth {
    /// An authenticator using the system clock and its own token HTTP client (no redirects).
    pub fn new(config: ClientCredentialsConfig) -> Result<Self, AuthError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Like [`ClientCredentialsAuth::new`] with a given clock (for tests that move time).
    pub fn with_clock(
        config: ClientCredentialsConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthError> {
        Ok(ClientCredentialsAuth {
            config,
            http: token_http_client(SCHEME)?,
            cache: TokenCache::new(clock.clone()),
            clock,
        })
    }

    async fn fetch(&self) -> Result<FetchedToken, AuthError> {
        let assertion = self.config.client_assertion(self.clock.now())?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        let transport = |e: reqwest::Error| AuthError::TokenRequest {
            scheme: SCHEME,
            message: error_chain(&e),
        };
        let response = self
            .http
            .post(self.config.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(AuthError::TokenRequest {
                scheme: SCHEME,
                message: format!(
                    "the token endpoint answered {status} with a redirect to {:?}; redirects are not followed for token requests (check the account id or base URL)",
                    response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                ),
            });
        }
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(rejected(SCHEME, Some(status.as_u16()), &body));
        }
        parse_token_body(&body)
    }
}

fn parse_token_body(body: &[u8]) -> Result<FetchedToken, AuthError> {
    let parsed: TokenBody = serde_json::from_slice(body).map_err(|e| AuthError::TokenRequest {
        scheme: SCHEME,
        message: scrub_values(&format!("the token response is not usable: {e}")),
    })?;
    if let Some(kind) = &parsed.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(AuthError::TokenRequest {
            scheme: SCHEME,
            message: format!(
                "the token endpoint issued a {kind:?} token; only bearer tokens are supported"
            ),
        });
    }
    if parsed.access_token.is_empty() {
        return Err(AuthError::TokenRequest {
            scheme: SCHEME,
            message: "the token response has an empty access_token".to_owned(),
        });
    }
    Ok(FetchedToken {
        access_token: Secret::new(parsed.access_token),
        lifetime: token_lifetime(parsed.expires_in),
    })
}

#[async_trait]
impl Authenticator for ClientCredentialsAuth {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        let token = self.cache.token(|| self.fetch()).await?;
        set_authorization(request, &format!("Bearer {}", token.expose()), SCHEME)
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }

    fn scheme(&self) -> AuthScheme {
        SCHEME
    }
}
