//! Connection settings: base URL, tenant subdomain, credentials and wire-format choices.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::HttpUrl;
use crate::error::ConfigError;
use crate::retry::RetryPolicy;

/// The production API host.
pub const DEFAULT_BASE_URL: &str = "https://clarus-api.com";

/// A secret string (client secret, shared webhook secret). Its `Debug` and `Display` never show
/// the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The tenant subdomain sent as `X-Clarus-Subdomain` on every call (e.g. `acme-warehouse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subdomain(String);

impl Subdomain {
    /// Validates a subdomain: 1–63 characters, ASCII letters, digits and `-`, not starting or
    /// ending with `-`.
    pub fn new(value: impl Into<String>) -> Result<Self, ConfigError> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 63
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-');
        if ok {
            Ok(Self(value))
        } else {
            Err(ConfigError::InvalidSubdomain(value))
        }
    }

    /// The subdomain text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the OAuth client authenticates itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// HTTP Basic authentication with client id and secret (RFC 6749 §2.3.1, the default).
    #[default]
    BasicAuth,
    /// `client_id` and `client_secret` as form fields in the request body.
    RequestBody,
}

/// The OAuth grant the client uses.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Client-credentials grant: the client renews its own tokens.
    ClientCredentials {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret.
        client_secret: Secret,
        /// Scopes to request (Clarus documents none; usually empty).
        scopes: Vec<String>,
    },
    /// Authorization-code grant: a user authorises once in the browser; the client then
    /// renews with the refresh token when the server issues one.
    AuthorizationCode {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret.
        client_secret: Secret,
        /// The redirect URL registered for the client.
        redirect_url: HttpUrl,
        /// Scopes to request.
        scopes: Vec<String>,
    },
}

impl Credentials {
    /// Client-credentials grant with no scopes.
    pub fn client_credentials(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self::ClientCredentials {
            client_id: client_id.into(),
            client_secret,
            scopes: Vec::new(),
        }
    }
}

/// The REST path prefix. The OpenAPI paths use `/api`; some documentation samples use
/// `/api/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PathPrefix {
    /// `/api` (the OpenAPI paths; default).
    #[default]
    Api,
    /// `/api/v1` (the code samples).
    ApiV1,
    /// Any other prefix, starting with `/` and with no trailing `/`.
    Custom(String),
}

impl PathPrefix {
    /// The prefix text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Api => "/api",
            Self::ApiV1 => "/api/v1",
            Self::Custom(p) => p,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let p = self.as_str();
        let ok = p.starts_with('/')
            && !p.ends_with('/')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
        if ok {
            Ok(())
        } else {
            Err(ConfigError::InvalidPathPrefix(p.to_owned()))
        }
    }
}

/// The word used for a delete entry in `lines_changes` and `packages_changes` arrays. The
/// schema enum says `DESTROY`; the receipt, goods-out and shipment pages show `REMOVE`.
/// Automation change arrays always use `DESTROY`, as their page states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeleteChangeType {
    /// `DESTROY` (the schema enum; default).
    #[default]
    Destroy,
    /// `REMOVE` (the narrative pages).
    Remove,
}

impl DeleteChangeType {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Destroy => "DESTROY",
            Self::Remove => "REMOVE",
        }
    }
}

/// Complete client configuration. Build it with [`ClarusConfig::builder`] or
/// [`ClarusConfig::from_env`].
#[derive(Debug, Clone)]
pub struct ClarusConfig {
    pub(crate) base_url: HttpUrl,
    pub(crate) subdomain: Subdomain,
    pub(crate) credentials: Credentials,
    pub(crate) path_prefix: PathPrefix,
    pub(crate) delete_change_type: DeleteChangeType,
    pub(crate) allow_http: bool,
    pub(crate) timeout: Duration,
    pub(crate) client_auth: ClientAuthMethod,
    pub(crate) renew_before_expiry: Duration,
    pub(crate) retry: RetryPolicy,
}

impl ClarusConfig {
    /// Starts a configuration for a tenant with the given credentials, against the production
    /// host.
    pub fn builder(subdomain: &str, credentials: Credentials) -> ClarusConfigBuilder {
        ClarusConfigBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            subdomain: subdomain.to_owned(),
            credentials,
            path_prefix: PathPrefix::Api,
            delete_change_type: DeleteChangeType::Destroy,
            allow_http: false,
            timeout: Duration::from_secs(30),
            client_auth: ClientAuthMethod::BasicAuth,
            renew_before_expiry: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }

    /// Reads a client-credentials configuration from environment variables:
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `CLARUS_CLIENT_ID` | OAuth client id | required |
    /// | `CLARUS_CLIENT_SECRET` | OAuth client secret | required |
    /// | `CLARUS_SUBDOMAIN` | tenant, sent as `X-Clarus-Subdomain` | required |
    /// | `CLARUS_BASE_URL` | API host | `https://clarus-api.com` |
    /// | `CLARUS_PATH_PREFIX` | REST prefix | `/api` |
    /// | `CLARUS_DELETE_CHANGE_TYPE` | `DESTROY` or `REMOVE` | `DESTROY` |
    /// | `CLARUS_ALLOW_HTTP` | `1`/`true` to allow a plain-http base URL | off |
    /// | `CLARUS_TOKEN_AUTH` | `basic` or `body` client authentication | `basic` |
    ///
    /// A `CLARUS_BASE_URL` with a user name or password in it is refused
    /// ([`ConfigError::EmbeddedCredentials`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] reading its variables through `lookup`.
    fn from_lookup(lookup: impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let client_id = var("CLARUS_CLIENT_ID").ok_or(ConfigError::Missing("CLARUS_CLIENT_ID"))?;
        let secret =
            var("CLARUS_CLIENT_SECRET").ok_or(ConfigError::Missing("CLARUS_CLIENT_SECRET"))?;
        let subdomain = var("CLARUS_SUBDOMAIN").ok_or(ConfigError::Missing("CLARUS_SUBDOMAIN"))?;
        let mut builder = Self::builder(
            &subdomain,
            Credentials::client_credentials(client_id, Secret::new(secret)),
        );
        if let Some(url) = var("CLARUS_BASE_URL") {
            builder = builder.base_url(&url);
        }
        if let Some(prefix) = var("CLARUS_PATH_PREFIX") {
            builder = builder.path_prefix(match prefix.as_str() {
                "/api" => PathPrefix::Api,
                "/api/v1" => PathPrefix::ApiV1,
                other => PathPrefix::Custom(other.to_owned()),
            });
        }
        if let Some(kind) = var("CLARUS_DELETE_CHANGE_TYPE") {
            builder = builder.delete_change_type(if kind.eq_ignore_ascii_case("REMOVE") {
                DeleteChangeType::Remove
            } else {
                DeleteChangeType::Destroy
            });
        }
        if let Some(allow) = var("CLARUS_ALLOW_HTTP") {
            builder = builder.allow_insecure_http(matches!(allow.as_str(), "1" | "true" | "yes"));
        }
        if let Some(auth) = var("CLARUS_TOKEN_AUTH") {
            builder = builder.client_auth(if auth.eq_ignore_ascii_case("body") {
                ClientAuthMethod::RequestBody
            } else {
                ClientAuthMethod::BasicAuth
            });
        }
        builder.build()
    }

    /// The API base URL.
    pub fn base_url(&self) -> &HttpUrl {
        &self.base_url
    }

    /// The tenant subdomain.
    pub fn subdomain(&self) -> &Subdomain {
        &self.subdomain
    }

    /// The REST path prefix.
    pub fn path_prefix(&self) -> &PathPrefix {
        &self.path_prefix
    }

    /// The delete word used in line and package change arrays.
    pub fn delete_change_type(&self) -> DeleteChangeType {
        self.delete_change_type
    }

    /// When failed requests are sent again (see [`crate::retry`]).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
}

/// Builder for [`ClarusConfig`].
#[derive(Debug, Clone)]
pub struct ClarusConfigBuilder {
    base_url: String,
    subdomain: String,
    credentials: Credentials,
    path_prefix: PathPrefix,
    delete_change_type: DeleteChangeType,
    allow_http: bool,
    timeout: Duration,
    client_auth: ClientAuthMethod,
    renew_before_expiry: Duration,
    retry: RetryPolicy,
}

impl ClarusConfigBuilder {
    /// Sets the API base URL (scheme and host, optionally a path). A URL with a user name or
    /// password in it (`https://user:password@host`) is refused by [`Self::build`].
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = url.to_owned();
        self
    }

    /// Allows a plain `http` base URL. Meant for tests and local simulators only.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sets the REST path prefix.
    pub fn path_prefix(mut self, prefix: PathPrefix) -> Self {
        self.path_prefix = prefix;
        self
    }

    /// Sets the delete word for line and package change arrays.
    pub fn delete_change_type(mut self, kind: DeleteChangeType) -> Self {
        self.delete_change_type = kind;
        self
    }

    /// Sets the per-request timeout (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how the client authenticates at the token endpoint (default HTTP Basic).
    pub fn client_auth(mut self, method: ClientAuthMethod) -> Self {
        self.client_auth = method;
        self
    }

    /// Renews a token this long before it expires (default 60 s).
    pub fn renew_before_expiry(mut self, margin: Duration) -> Self {
        self.renew_before_expiry = margin;
        self
    }

    /// Sets when failed requests are sent again (default [`RetryPolicy::default`]: four
    /// attempts). Creates are never repeated once they may have run, whatever the policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the total number of attempts per request, the first included (default 4; 1 turns
    /// retrying off). Values below 1 count as 1.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts.max(1);
        self
    }

    /// Validates and builds the configuration. A base URL embedding a user name or password is
    /// refused with [`ConfigError::EmbeddedCredentials`]; no error repeats such a password.
    pub fn build(self) -> Result<ClarusConfig, ConfigError> {
        let mut base_url = Url::parse(&self.base_url).map_err(|e| ConfigError::InvalidBaseUrl {
            url: without_user_info(&self.base_url),
            message: e.to_string(),
        })?;
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(ConfigError::EmbeddedCredentials);
        }
        match base_url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(ConfigError::InsecureBaseUrl(self.base_url)),
            other => {
                return Err(ConfigError::InvalidBaseUrl {
                    url: self.base_url.clone(),
                    message: format!("unsupported scheme {other:?}"),
                });
            }
        }
        if base_url.host_str().is_none() || base_url.query().is_some() {
            return Err(ConfigError::InvalidBaseUrl {
                url: self.base_url.clone(),
                message: "needs a host and no query".into(),
            });
        }
        // Keep any base path but drop a trailing slash so joined paths have exactly one.
        let trimmed = base_url.path().trim_end_matches('/').to_owned();
        base_url.set_path(&trimmed);
        self.path_prefix.validate()?;
        Ok(ClarusConfig {
            base_url: HttpUrl::from_url(base_url),
            subdomain: Subdomain::new(self.subdomain)?,
            credentials: self.credentials,
            path_prefix: self.path_prefix,
            delete_change_type: self.delete_change_type,
            allow_http: self.allow_http,
            timeout: self.timeout,
            client_auth: self.client_auth,
            renew_before_expiry: self.renew_before_expiry,
            retry: RetryPolicy {
                max_attempts: self.retry.max_attempts.max(1),
                ..self.retry
            },
        })
    }
}

/// The text of a URL that did not parse, with anything between `://` and an `@` before the
/// path cut out, so an error message cannot repeat a password.
pub(crate) fn without_user_info(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://") else {
        return raw.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &raw[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &raw[..authority_start], &rest[at + 1..]),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::client_credentials("id", Secret::new("s3cret"))
    }

    #[test]
    fn refuses_plain_http_unless_allowed() {
        let err = ClarusConfig::builder("acme", creds())
            .base_url("http://localhost:1")
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::InsecureBaseUrl(_)));
        assert!(
            ClarusConfig::builder("acme", creds())
                .base_url("http://localhost:1")
                .allow_insecure_http(true)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn validates_subdomain_and_prefix() {
        assert!(ClarusConfig::builder("acme\r\nx", creds()).build().is_err());
        assert!(ClarusConfig::builder("", creds()).build().is_err());
        assert!(
            ClarusConfig::builder("acme", creds())
                .path_prefix(PathPrefix::Custom("api/".into()))
                .build()
                .is_err()
        );
    }

    #[test]
    fn refuses_credentials_in_the_base_url() {
        for url in [
            "https://user:hunter2@clarus.example",
            "https://user@clarus.example",
            "http://user:hunter2@localhost:1",
        ] {
            let err = ClarusConfig::builder("acme", creds())
                .base_url(url)
                .allow_insecure_http(true)
                .build()
                .unwrap_err();
            assert_eq!(err, ConfigError::EmbeddedCredentials, "{url}");
            assert!(!err.to_string().contains("hunter2"));
        }
        let env = |name: &'static str| match name {
            "CLARUS_CLIENT_ID" => Some("id".to_owned()),
            "CLARUS_CLIENT_SECRET" => Some("s3cret".to_owned()),
            "CLARUS_SUBDOMAIN" => Some("acme".to_owned()),
            "CLARUS_BASE_URL" => Some("https://user:hunter2@clarus.example".to_owned()),
            _ => None,
        };
        let err = ClarusConfig::from_lookup(env).unwrap_err();
        assert_eq!(err, ConfigError::EmbeddedCredentials);
        // Not even a plain-http refusal repeats the password.
        let err = ClarusConfig::builder("acme", creds())
            .base_url("http://user:hunter2@localhost:1")
            .build()
            .unwrap_err();
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
        // Nor does an unparsable URL.
        let err = ClarusConfig::builder("acme", creds())
            .base_url("https://user:hunter2@bad host/x")
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidBaseUrl { .. }));
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let config = ClarusConfig::builder("acme", creds()).build().unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("redacted"));
    }
}
