//! HTTP plumbing shared by the OAuth 2.0 flows: the token client, the `oauth2` adapter and the
//! parsing of NetSuite's token responses.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::{AuthError, AuthScheme};

/// Token requests give up after this long.
const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting to the token endpoint gives up after this long.
const TOKEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client for token requests: follows no redirects (a redirect would carry the signed
/// assertion or the client secret to another host), with bounded timeouts.
pub(crate) fn token_http_client(scheme: AuthScheme) -> Result<reqwest::Client, AuthError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TOKEN_REQUEST_TIMEOUT)
        .connect_timeout(TOKEN_CONNECT_TIMEOUT)
        .build()
        .map_err(|e| AuthError::Config {
            scheme,
            message: format!("cannot build the HTTP client for token requests: {e}"),
        })
}

/// Lets the `oauth2` crate (built without its own HTTP client) send requests with reqwest 0.13.
///
/// `oauth2` 5 ships an adapter for reqwest 0.12 only; this is the same few lines for 0.13.
pub(crate) struct OAuth2Http<'a>(pub(crate) &'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuth2Http<'_> {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            let mut builder = oauth2::http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(Box::new)?;
            builder
                .body(body.to_vec())
                .map_err(oauth2::HttpClientError::Http)
        })
    }
}

/// NetSuite sends `expires_in` as a string (`"3600"`); the RFC says number. Accept both.
pub(crate) fn deserialize_expires_in<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => Ok(Some(n)),
        Some(Seconds::Text(text)) => text.trim().parse::<u64>().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "expires_in {text:?} is not a whole number of seconds"
            ))
        }),
    }
}

/// An error and its sources, joined with `: ` (reqwest's own message omits the cause).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The lifetime NetSuite documents for its access tokens, used when `expires_in` is absent.
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// A body kept in an error, unless it might hold a token (a mangled success body).
pub(crate) fn error_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.contains("access_token") || text.contains("refresh_token") {
        "[body withheld: it contains a token field]".to_owned()
    } else {
        text.into_owned()
    }
}

/// The OAuth error fields of an error body, when it is JSON.
#[derive(Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

/// Builds [`AuthError::TokenRejected`] from a non-success token response.
pub(crate) fn rejected(scheme: AuthScheme, status: Option<u16>, body: &[u8]) -> AuthError {
    let parsed: Option<OAuthErrorBody> = serde_json::from_slice(body).ok();
    let (error, description) = parsed.map_or((None, None), |p| (p.error, p.error_description));
    AuthError::TokenRejected {
        scheme,
        status,
        error,
        description,
        body: error_body(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "deserialize_expires_in")]
        expires_in: Option<u64>,
    }

    fn parse(json: &str) -> Result<Option<u64>, serde_json::Error> {
        serde_json::from_str::<T>(json).map(|t| t.expires_in)
    }

    #[test]
    fn expires_in_accepts_string_number_and_absence() {
        assert_eq!(parse(r#"{"expires_in":"3600"}"#).unwrap(), Some(3600));
        assert_eq!(parse(r#"{"expires_in":1800}"#).unwrap(), Some(1800));
        assert_eq!(parse(r#"{}"#).unwrap(), None);
        assert_eq!(parse(r#"{"expires_in":null}"#).unwrap(), None);
        assert!(parse(r#"{"expires_in":"soon"}"#).is_err());
        assert!(parse(r#"{"expires_in":-5}"#).is_err());
    }

    #[test]
    fn bodies_with_tokens_are_withheld() {
        assert!(!error_body(br#"{"access_token":"abc"}"#).contains("abc"));
        assert_eq!(
            error_body(br#"{"error":"invalid_client"}"#),
            r#"{"error":"invalid_client"}"#
        );
    }
}
