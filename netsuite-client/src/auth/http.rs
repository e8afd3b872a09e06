//! HTTP plumbing shared by the OAuth 2.0 flows: the token client, the `oauth2` adapter and the
//! parsing of NetSuite's token responses.

#[cfg(feature = "oauth2-authorization-code")]
use std::future::Future;
#[cfg(feature = "oauth2-authorization-code")]
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
#[cfg(feature = "oauth2-authorization-code")]
pub(crate) struct OAuth2Http<'a>(pub(crate) &'a reqwest::Client);

#[cfg(feature = "oauth2-authorization-code")]
impl<'c> oauth2::AsyncHttpClient<'c> for OAuth2Http<'_> {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            if response.status().is_redirection() {
                return Err(oauth2::HttpClientError::Other(format!(
                    "the token endpoint answered {} (a redirect); redirects are not followed for token requests (check the account id or base URL)",
                    response.status()
                )));
            }
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

/// Longest token lifetime believed from a token endpoint: a longer `expires_in` is read as this,
/// so an absurd value can neither overflow the clock arithmetic nor keep a token for years.
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// NetSuite sends `expires_in` as a string (`"3600"`); the RFC says number. Accept both, as
/// whole seconds clamped to `0..=MAX_TOKEN_LIFETIME`: a negative or zero lifetime means "renew
/// on next use", an absurd one is capped. Text that is not a number is an error.
pub(crate) fn deserialize_expires_in<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Signed(i64),
        Float(f64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => Ok(Some(clamp_seconds(n as f64))),
        Some(Seconds::Signed(n)) => Ok(Some(clamp_seconds(n as f64))),
        Some(Seconds::Float(f)) => Ok(Some(clamp_seconds(f))),
        Some(Seconds::Text(text)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| !f.is_nan())
            .map(|f| Some(clamp_seconds(f)))
            .ok_or_else(|| {
                serde::de::Error::custom("expires_in is not a number of seconds".to_owned())
            }),
    }
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

/// A token lifetime from `expires_in` seconds (capped), or NetSuite's documented default.
pub(crate) fn token_lifetime(expires_in: Option<u64>) -> Duration {
    expires_in
        .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs)
        .min(MAX_TOKEN_LIFETIME)
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

/// Blanks the quoted parts of a parser message (serde quotes the offending value in backticks
/// or double quotes), so a token of the wrong type cannot reach an error message.
pub(crate) fn scrub_values(message: &str) -> String {
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

/// The OAuth error fields of an error body, when it is JSON.
#[cfg(feature = "oauth2-client-credentials")]
#[derive(Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

/// Builds [`AuthError::TokenRejected`] from a non-success token response: the OAuth `error` and
/// `error_description` are kept, the body itself is not (it could hold a token).
#[cfg(feature = "oauth2-client-credentials")]
pub(crate) fn rejected(scheme: AuthScheme, status: Option<u16>, body: &[u8]) -> AuthError {
    let parsed: Option<OAuthErrorBody> = serde_json::from_slice(body).ok();
    let (error, description) = parsed.map_or((None, None), |p| (p.error, p.error_description));
    AuthError::TokenRejected {
        scheme,
        status,
        error,
        description,
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
    }

    #[test]
    fn absurd_expires_in_is_capped_or_zero_never_a_panic() {
        let day = Some(MAX_TOKEN_LIFETIME.as_secs());
        for (json, expected) in [
            (r#"{"expires_in":18446744073709551615}"#, day),
            (r#"{"expires_in":"18446744073709551615"}"#, day),
            (r#"{"expires_in":1e300}"#, day),
            (r#"{"expires_in":"1e300"}"#, day),
            (r#"{"expires_in":-5}"#, Some(0)),
            (r#"{"expires_in":"-5"}"#, Some(0)),
            (r#"{"expires_in":0}"#, Some(0)),
            (r#"{"expires_in":"0"}"#, Some(0)),
            (r#"{"expires_in":3600.7}"#, Some(3600)),
        ] {
            assert_eq!(parse(json).unwrap(), expected, "{json}");
        }
        let err = parse(r#"{"expires_in":"abc"}"#).unwrap_err();
        assert!(err.to_string().contains("expires_in"), "{err}");
        assert_eq!(token_lifetime(Some(u64::MAX)), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(0)), Duration::ZERO);
        assert_eq!(token_lifetime(None), DEFAULT_TOKEN_LIFETIME);
    }

    #[cfg(feature = "oauth2-client-credentials")]
    #[test]
    fn rejections_keep_the_oauth_fields_only() {
        let err = rejected(
            AuthScheme::OAuth2ClientCredentials,
            Some(400),
            br#"{"error":"invalid_grant","error_description":"revoked","refresh_token":"rt-SECRET-77"}"#,
        );
        let text = format!("{err:?} {err}");
        assert!(
            text.contains("invalid_grant") && text.contains("revoked"),
            "{text}"
        );
        assert!(!text.contains("SECRET-77"), "{text}");
        assert_eq!(
            scrub_values(r#"invalid type: string "s3cr3t", expected `u64`"#),
            r#"invalid type: string "…", expected `…`"#
        );
    }
}
