//! Choosing and building an authenticator from settings, e.g. environment variables.
//!
//! Binaries and the engine read credentials in one place and get an `Arc<dyn Authenticator>`:
//!
//! | Variable | Used by | Meaning |
//! |---|---|---|
//! | `NETSUITE_AUTH` | all | `m2m`, `tba`, `authorization_code` or `bearer`; inferred when unset (see below) |
//! | `NETSUITE_CLIENT_ID` | m2m, authorization_code | the integration record's client id |
//! | `NETSUITE_CERTIFICATE_ID` | m2m | the certificate id from the M2M setup page |
//! | `NETSUITE_PRIVATE_KEY_FILE` or `NETSUITE_PRIVATE_KEY` | m2m | the certificate's private key: a PEM file path, or the PEM text |
//! | `NETSUITE_JWT_ALGORITHM` | m2m | `PS256` (default), `PS384`, `PS512`, `ES256`, `ES384` |
//! | `NETSUITE_SCOPES` | m2m, authorization_code | comma-separated, default `rest_webservices` |
//! | `NETSUITE_CONSUMER_KEY`, `NETSUITE_CONSUMER_SECRET`, `NETSUITE_TOKEN_ID`, `NETSUITE_TOKEN_SECRET` | tba | integration and access-token credentials |
//! | `NETSUITE_CLIENT_SECRET` | authorization_code | optional (confidential clients) |
//! | `NETSUITE_REDIRECT_URL`, `NETSUITE_REFRESH_TOKEN` | authorization_code | resume from a stored refresh token |
//! | `NETSUITE_ACCESS_TOKEN` | bearer | a bearer token obtained elsewhere |
//!
//! The same settings can come from a configuration value instead of the environment:
//! [`AuthSettings::from_config_text`] (`key = value` lines, e.g. a table of a TOML file, keys
//! with or without the `NETSUITE_` prefix) or [`AuthSettings::from_pairs`].
//!
//! With `NETSUITE_AUTH` unset the scheme is inferred: `NETSUITE_CERTIFICATE_ID` → m2m,
//! `NETSUITE_TOKEN_ID` → tba, `NETSUITE_REFRESH_TOKEN` → authorization_code,
//! `NETSUITE_ACCESS_TOKEN` → bearer.

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "oauth2-authorization-code")]
use url::Url;

#[cfg(any(
    feature = "oauth2-client-credentials",
    feature = "oauth2-authorization-code"
))]
use super::Scope;
#[cfg(feature = "static-bearer")]
use super::StaticBearer;
use super::secret::Secret;
use super::{AuthError, AuthScheme, Authenticator};
#[cfg(feature = "oauth2-authorization-code")]
use super::{AuthorizationCodeConfig, AuthorizationCodeFlow};
#[cfg(feature = "oauth2-client-credentials")]
use super::{ClientCredentialsAuth, ClientCredentialsConfig, JwtAlgorithm};
#[cfg(feature = "tba")]
use super::{TbaCredentials, TbaSigner};
use crate::account::{AccountId, Endpoint};

/// Which authenticator to build, with its credentials. `Debug` shows ids, never secrets.
#[derive(Clone)]
pub struct AuthSettings {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    #[cfg(feature = "oauth2-client-credentials")]
    ClientCredentials {
        client_id: String,
        certificate_id: String,
        algorithm: JwtAlgorithm,
        private_key_pem: Secret,
        scopes: Vec<Scope>,
    },
    #[cfg(feature = "tba")]
    Tba {
        consumer_key: Secret,
        consumer_secret: Secret,
        token_id: Secret,
        token_secret: Secret,
    },
    #[cfg(feature = "oauth2-authorization-code")]
    AuthorizationCode {
        client_id: String,
        client_secret: Option<Secret>,
        redirect_url: Url,
        refresh_token: Secret,
        scopes: Vec<Scope>,
    },
    #[cfg(feature = "static-bearer")]
    StaticBearer { token: Secret },
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            #[cfg(feature = "oauth2-client-credentials")]
            Kind::ClientCredentials {
                client_id,
                certificate_id,
                algorithm,
                scopes,
                ..
            } => f
                .debug_struct("AuthSettings::ClientCredentials")
                .field("client_id", client_id)
                .field("certificate_id", certificate_id)
                .field("algorithm", algorithm)
                .field("private_key_pem", &"[redacted]")
                .field("scopes", scopes)
                .finish(),
            #[cfg(feature = "tba")]
            Kind::Tba { .. } => f
                .debug_struct("AuthSettings::Tba")
                .field("credentials", &"[redacted]")
                .finish(),
            #[cfg(feature = "oauth2-authorization-code")]
            Kind::AuthorizationCode {
                client_id,
                client_secret,
                redirect_url,
                scopes,
                ..
            } => f
                .debug_struct("AuthSettings::AuthorizationCode")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("redirect_url", &redirect_url.as_str())
                .field("refresh_token", &"[redacted]")
                .field("scopes", scopes)
                .finish(),
            #[cfg(feature = "static-bearer")]
            Kind::StaticBearer { .. } => f
                .debug_struct("AuthSettings::StaticBearer")
                .field("token", &"[redacted]")
                .finish(),
        }
    }
}

/// The settings name a method this build leaves out.
#[cfg(not(all(
    feature = "oauth2-client-credentials",
    feature = "oauth2-authorization-code",
    feature = "tba",
    feature = "static-bearer"
)))]
fn not_built(scheme: AuthScheme, feature: &str) -> AuthError {
    AuthError::Config {
        scheme,
        message: format!(
            "this build of netsuite-client leaves {scheme:?} out; enable its cargo feature `{feature}`"
        ),
    }
}

/// Reads variables through `lookup`, treating empty values as unset.
struct Vars<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str, scheme: AuthScheme) -> Result<String, AuthError> {
        self.get(name).ok_or_else(|| AuthError::Config {
            scheme,
            message: format!("{name} is not set"),
        })
    }

    #[cfg(any(
        feature = "oauth2-client-credentials",
        feature = "oauth2-authorization-code"
    ))]
    fn scopes(&self, scheme: AuthScheme) -> Result<Vec<Scope>, AuthError> {
        match self.get("NETSUITE_SCOPES") {
            None => Ok(vec![Scope::RestWebServices]),
            Some(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    s.parse().map_err(|e: AuthError| AuthError::Config {
                        scheme,
                        message: format!("NETSUITE_SCOPES: {e}"),
                    })
                })
                .collect(),
        }
    }
}

impl AuthSettings {
    /// Reads the settings from the process environment (variables in the module docs).
    pub fn from_env() -> Result<Self, AuthError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable name → its value), e.g. from a map in
    /// tests or a secrets store.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let vars = Vars(lookup);
        let scheme = match vars.get("NETSUITE_AUTH") {
            Some(name) => match name.to_ascii_lowercase().replace('-', "_").as_str() {
                "m2m" | "client_credentials" => AuthScheme::OAuth2ClientCredentials,
                "tba" => AuthScheme::Tba,
                "authorization_code" => AuthScheme::OAuth2AuthorizationCode,
                "bearer" | "static_bearer" => AuthScheme::StaticBearer,
                other => {
                    return Err(AuthError::Config {
                        scheme: AuthScheme::StaticBearer,
                        message: format!(
                            "NETSUITE_AUTH={other:?}; use m2m, tba, authorization_code or bearer"
                        ),
                    });
                }
            },
            None if vars.get("NETSUITE_CERTIFICATE_ID").is_some() => {
                AuthScheme::OAuth2ClientCredentials
            }
            None if vars.get("NETSUITE_TOKEN_ID").is_some() => AuthScheme::Tba,
            None if vars.get("NETSUITE_REFRESH_TOKEN").is_some() => {
                AuthScheme::OAuth2AuthorizationCode
            }
            None if vars.get("NETSUITE_ACCESS_TOKEN").is_some() => AuthScheme::StaticBearer,
            None => {
                return Err(AuthError::Config {
                    scheme: AuthScheme::OAuth2ClientCredentials,
                    message: "no NetSuite credentials: set NETSUITE_AUTH and its variables (NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID and NETSUITE_PRIVATE_KEY_FILE for M2M)".to_owned(),
                });
            }
        };
        let kind = match scheme {
            #[cfg(feature = "oauth2-client-credentials")]
            AuthScheme::OAuth2ClientCredentials => {
                let private_key_pem = match (
                    vars.get("NETSUITE_PRIVATE_KEY_FILE"),
                    (vars.0)("NETSUITE_PRIVATE_KEY").filter(|v| !v.trim().is_empty()),
                ) {
                    (Some(path), _) => {
                        std::fs::read_to_string(&path).map_err(|e| AuthError::Config {
                            scheme,
                            message: format!("cannot read NETSUITE_PRIVATE_KEY_FILE {path:?}: {e}"),
                        })?
                    }
                    // Environment files often carry a PEM on one line with `\n` escapes.
                    (None, Some(pem)) if !pem.contains('\n') => pem.replace("\\n", "\n"),
                    (None, Some(pem)) => pem,
                    (None, None) => {
                        return Err(AuthError::Config {
                            scheme,
                            message: "set NETSUITE_PRIVATE_KEY_FILE (a PEM file) or NETSUITE_PRIVATE_KEY (PEM text)".to_owned(),
                        });
                    }
                };
                Kind::ClientCredentials {
                    client_id: vars.require("NETSUITE_CLIENT_ID", scheme)?,
                    certificate_id: vars.require("NETSUITE_CERTIFICATE_ID", scheme)?,
                    algorithm: vars
                        .get("NETSUITE_JWT_ALGORITHM")
                        .map_or(Ok(JwtAlgorithm::PS256), |a| a.parse())?,
                    private_key_pem: Secret::new(private_key_pem),
                    scopes: vars.scopes(scheme)?,
                }
            }
            #[cfg(feature = "tba")]
            AuthScheme::Tba => Kind::Tba {
                consumer_key: Secret::new(vars.require("NETSUITE_CONSUMER_KEY", scheme)?),
                consumer_secret: Secret::new(vars.require("NETSUITE_CONSUMER_SECRET", scheme)?),
                token_id: Secret::new(vars.require("NETSUITE_TOKEN_ID", scheme)?),
                token_secret: Secret::new(vars.require("NETSUITE_TOKEN_SECRET", scheme)?),
            },
            #[cfg(feature = "oauth2-authorization-code")]
            AuthScheme::OAuth2AuthorizationCode => {
                let redirect = vars.require("NETSUITE_REDIRECT_URL", scheme)?;
                Kind::AuthorizationCode {
                    client_id: vars.require("NETSUITE_CLIENT_ID", scheme)?,
                    client_secret: vars.get("NETSUITE_CLIENT_SECRET").map(Secret::new),
                    redirect_url: Url::parse(&redirect).map_err(|e| AuthError::Config {
                        scheme,
                        message: format!("NETSUITE_REDIRECT_URL {redirect:?}: {e}"),
                    })?,
                    refresh_token: Secret::new(vars.require("NETSUITE_REFRESH_TOKEN", scheme)?),
                    scopes: vars.scopes(scheme)?,
                }
            }
            #[cfg(feature = "static-bearer")]
            AuthScheme::StaticBearer => Kind::StaticBearer {
                token: Secret::new(vars.require("NETSUITE_ACCESS_TOKEN", scheme)?),
            },
            #[cfg(not(feature = "oauth2-client-credentials"))]
            AuthScheme::OAuth2ClientCredentials => {
                return Err(not_built(scheme, "oauth2-client-credentials"));
            }
            #[cfg(not(feature = "tba"))]
            AuthScheme::Tba => return Err(not_built(scheme, "tba")),
            #[cfg(not(feature = "oauth2-authorization-code"))]
            AuthScheme::OAuth2AuthorizationCode => {
                return Err(not_built(scheme, "oauth2-authorization-code"));
            }
            #[cfg(not(feature = "static-bearer"))]
            AuthScheme::StaticBearer => return Err(not_built(scheme, "static-bearer")),
        };
        Ok(AuthSettings { kind })
    }

    /// The scheme these settings build.
    pub fn scheme(&self) -> AuthScheme {
        match self.kind {
            #[cfg(feature = "oauth2-client-credentials")]
            Kind::ClientCredentials { .. } => AuthScheme::OAuth2ClientCredentials,
            #[cfg(feature = "tba")]
            Kind::Tba { .. } => AuthScheme::Tba,
            #[cfg(feature = "oauth2-authorization-code")]
            Kind::AuthorizationCode { .. } => AuthScheme::OAuth2AuthorizationCode,
            #[cfg(feature = "static-bearer")]
            Kind::StaticBearer { .. } => AuthScheme::StaticBearer,
        }
    }

    /// Builds the authenticator for `account` (the TBA realm) whose REST endpoint is `endpoint`
    /// (`account.endpoint()`, or an override; token URLs are taken from it).
    pub fn build(
        &self,
        account: &AccountId,
        endpoint: &Endpoint,
    ) -> Result<Arc<dyn Authenticator>, AuthError> {
        // Not every method needs both (a build may hold one method only).
        let _ = (account, endpoint);
        Ok(match &self.kind {
            #[cfg(feature = "oauth2-client-credentials")]
            Kind::ClientCredentials {
                client_id,
                certificate_id,
                algorithm,
                private_key_pem,
                scopes,
            } => {
                let config = ClientCredentialsConfig::new(
                    endpoint,
                    client_id,
                    certificate_id,
                    *algorithm,
                    private_key_pem.expose().as_bytes(),
                )?
                .with_scopes(scopes.iter().copied());
                Arc::new(ClientCredentialsAuth::new(config)?)
            }
            #[cfg(feature = "tba")]
            Kind::Tba {
                consumer_key,
                consumer_secret,
                token_id,
                token_secret,
            } => Arc::new(TbaSigner::new(TbaCredentials::new(
                account,
                consumer_key.expose(),
                consumer_secret.expose(),
                token_id.expose(),
                token_secret.expose(),
            )?)),
            #[cfg(feature = "oauth2-authorization-code")]
            Kind::AuthorizationCode {
                client_id,
                client_secret,
                redirect_url,
                refresh_token,
                scopes,
            } => {
                let mut config =
                    AuthorizationCodeConfig::new(account, client_id, redirect_url.clone())
                        .with_endpoints(&account.app_endpoint(), endpoint)
                        .with_scopes(scopes.iter().copied());
                if let Some(secret) = client_secret {
                    config = config.with_client_secret(secret.expose());
                }
                Arc::new(AuthorizationCodeFlow::new(config)?.resume(refresh_token.expose()))
            }
            #[cfg(feature = "static-bearer")]
            Kind::StaticBearer { token } => Arc::new(StaticBearer::new(token.expose())?),
        })
    }
}
