//! Token-based authentication: OAuth 1.0a requests signed with HMAC-SHA256 and a realm.
//!
//! Written by hand (about a hundred lines on `hmac`, `sha2`, `base64` and `percent-encoding`):
//! no maintained crate signs OAuth 1.0a with HMAC-SHA256 *and* a `realm` in the header, and the
//! rules NetSuite is strict about are exactly the ones generic signers get wrong: every query
//! parameter signed, RFC 3986 encoding (`%20`, upper-case hex), no double encoding of a query
//! that is already percent-encoded in the URL.
//!
//! Signature base string (RFC 5849 §3.4.1): `METHOD&enc(base URI)&enc(normalized parameters)`,
//! where the base URI is scheme, host, non-default port and path, and the parameters are the
//! decoded query parameters plus every `oauth_*` parameter except `realm` and `oauth_signature`,
//! each name and value encoded, sorted by name then value, joined as `k=v` with `&`.
//! JSON bodies are not signed (NetSuite REST bodies are JSON).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::distr::{Alphanumeric, SampleString};
use sha2::Sha256;
use url::Url;

use super::secret::Secret;
use super::{
    AuthError, AuthScheme, Authenticator, Clock, SharedClock, SystemClock, set_authorization,
    unix_seconds,
};
use crate::account::AccountId;

const SCHEME: AuthScheme = AuthScheme::Tba;
const SIGNATURE_METHOD: &str = "HMAC-SHA256";
/// Length of generated nonces (NetSuite needs at least 6; 32 random alphanumerics never repeat).
const NONCE_LEN: usize = 32;

/// RFC 3986 §2.3: everything but `A-Z a-z 0-9 - . _ ~` is percent-encoded (upper-case hex).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, RFC3986).to_string()
}

/// The four TBA secrets of an integration + access token, and the account's realm.
/// `Debug` shows only the realm.
#[derive(Clone)]
pub struct TbaCredentials {
    realm: String,
    consumer_key: Secret,
    consumer_secret: Secret,
    token_id: Secret,
    token_secret: Secret,
}

impl fmt::Debug for TbaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TbaCredentials")
            .field("realm", &self.realm)
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &self.consumer_secret)
            .field("token_id", &self.token_id)
            .field("token_secret", &self.token_secret)
            .finish()
    }
}

impl TbaCredentials {
    /// Credentials for `account` (whose realm, upper case with `_`, goes into every header),
    /// from the integration record (consumer key and secret) and the access token (token id and
    /// secret). None may be empty.
    pub fn new(
        account: &AccountId,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
        token_id: impl Into<String>,
        token_secret: impl Into<String>,
    ) -> Result<Self, AuthError> {
        let field = |value: String, what: &str| {
            let value = Secret::new(value.trim());
            if value.is_empty() {
                Err(AuthError::Config {
                    scheme: SCHEME,
                    message: format!("the TBA {what} is empty"),
                })
            } else {
                Ok(value)
            }
        };
        Ok(TbaCredentials {
            realm: account.realm().to_owned(),
            consumer_key: field(consumer_key.into(), "consumer key")?,
            consumer_secret: field(consumer_secret.into(), "consumer secret")?,
            token_id: field(token_id.into(), "token id")?,
            token_secret: field(token_secret.into(), "token secret")?,
        })
    }

    /// The realm sent in the header, e.g. `1234567_SB1`.
    pub fn realm(&self) -> &str {
        &self.realm
    }
}

/// Signs requests with TBA; an [`Authenticator`] that adds a fresh nonce and the current
/// timestamp to every request. Before signing, it rewrites the request's query in RFC 3986 form
/// (`q=a%20b` rather than `q=a+b`; same parameters, same order), so the server decodes exactly
/// the values that were signed.
///
/// For cross-checks, [`TbaSigner::authorization_header`] signs with a given nonce and timestamp:
///
/// ```
/// use netsuite_client::account::AccountId;
/// use netsuite_client::auth::{TbaCredentials, TbaSigner};
///
/// let account: AccountId = "1234567_SB1".parse().unwrap();
/// let signer = TbaSigner::new(TbaCredentials::new(&account, "ck", "cs", "tk", "ts").unwrap());
/// let mut url = account.endpoint().rest_url("record/v1/salesOrder");
/// url.query_pairs_mut().append_pair("limit", "5");
/// let header = signer.authorization_header(&reqwest::Method::GET, &url, "abcdefghijklmnopqrst", 1_700_000_000);
/// assert!(header.starts_with(r#"OAuth realm="1234567_SB1", oauth_consumer_key="ck""#));
/// ```
pub struct TbaSigner {
    credentials: TbaCredentials,
    clock: SharedClock,
}

impl fmt::Debug for TbaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TbaSigner")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl TbaSigner {
    /// A signer using the system clock for timestamps.
    pub fn new(credentials: TbaCredentials) -> Self {
        Self::with_clock(credentials, Arc::new(SystemClock))
    }

    /// A signer using `clock` for timestamps.
    pub fn with_clock(credentials: TbaCredentials, clock: Arc<dyn Clock>) -> Self {
        TbaSigner { credentials, clock }
    }

    /// The signature base string for a request (contains no secret; useful to compare with
    /// another implementation when NetSuite answers `INVALID_LOGIN_ATTEMPT`).
    pub fn signature_base_string(
        &self,
        method: &reqwest::Method,
        url: &Url,
        nonce: &str,
        timestamp: u64,
    ) -> String {
        let timestamp = timestamp.to_string();
        let mut params: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (encode(&k), encode(&v)))
            .collect();
        for (name, value) in [
            ("oauth_consumer_key", self.credentials.consumer_key.expose()),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", SIGNATURE_METHOD),
            ("oauth_timestamp", timestamp.as_str()),
            ("oauth_token", self.credentials.token_id.expose()),
            ("oauth_version", "1.0"),
        ] {
            params.push((encode(name), encode(value)));
        }
        params.sort();
        let normalized = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        format!(
            "{}&{}&{}",
            method.as_str().to_ascii_uppercase(),
            encode(&base_uri(url)),
            encode(&normalized)
        )
    }

    /// The base64 HMAC-SHA256 signature (not yet percent-encoded).
    fn signature(&self, base_string: &str) -> String {
        let key = format!(
            "{}&{}",
            encode(self.credentials.consumer_secret.expose()),
            encode(self.credentials.token_secret.expose())
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(base_string.as_bytes());
        BASE64.encode(mac.finalize().into_bytes())
    }

    /// The full `Authorization` header value for a request, signed with the given nonce and
    /// timestamp (Unix seconds). Every query parameter of `url` is signed; the query is decoded
    /// first (`+` and `%20` both mean a space), so an already-encoded URL is not encoded twice.
    pub fn authorization_header(
        &self,
        method: &reqwest::Method,
        url: &Url,
        nonce: &str,
        timestamp: u64,
    ) -> String {
        let base = self.signature_base_string(method, url, nonce, timestamp);
        let signature = self.signature(&base);
        let fields = [
            ("realm", self.credentials.realm.as_str()),
            ("oauth_consumer_key", self.credentials.consumer_key.expose()),
            ("oauth_token", self.credentials.token_id.expose()),
            ("oauth_signature_method", SIGNATURE_METHOD),
            ("oauth_timestamp", &timestamp.to_string()),
            ("oauth_nonce", nonce),
            ("oauth_version", "1.0"),
            ("oauth_signature", &signature),
        ]
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
        .collect::<Vec<_>>()
        .join(", ");
        format!("OAuth {fields}")
    }

    /// A fresh random nonce of 32 letters and digits.
    pub fn new_nonce() -> String {
        Alphanumeric.sample_string(&mut rand::rng(), NONCE_LEN)
    }
}

/// Scheme and host in lower case, the port only when not the default, and the path.
fn base_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// Rewrites the query in RFC 3986 form (`%20` for a space, `%2B` for a plus), keeping the
/// parameter order, so the bytes on the wire decode to exactly the values that were signed
/// whichever way the server reads `+`.
fn normalize_query(url: &mut Url) {
    if url.query().is_none() {
        return;
    }
    let query = url
        .query_pairs()
        .map(|(k, v)| format!("{}={}", encode(&k), encode(&v)))
        .collect::<Vec<_>>()
        .join("&");
    url.set_query((!query.is_empty()).then_some(query.as_str()));
}

#[async_trait]
impl Authenticator for TbaSigner {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        normalize_query(request.url_mut());
        let nonce = Self::new_nonce();
        let timestamp = unix_seconds(self.clock.now());
        let header = self.authorization_header(request.method(), request.url(), &nonce, timestamp);
        set_authorization(request, &header, SCHEME)
    }

    fn scheme(&self) -> AuthScheme {
        SCHEME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_rfc3986_with_upper_case_hex() {
        assert_eq!(
            encode("a b+c/d~e-f.g_h*'()!"),
            "a%20b%2Bc%2Fd~e-f.g_h%2A%27%28%29%21"
        );
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn base_uri_drops_default_port_and_query() {
        let u = Url::parse("HTTPS://Example.COM:443/a/b?x=1").unwrap();
        assert_eq!(base_uri(&u), "https://example.com/a/b");
        let u = Url::parse("http://127.0.0.1:8080/a?x=1").unwrap();
        assert_eq!(base_uri(&u), "http://127.0.0.1:8080/a");
    }

    #[test]
    fn query_is_rewritten_in_rfc3986_form() {
        let mut u = Url::parse("https://h/p?q=a+b%2Bc&x=%7C&empty=").unwrap();
        normalize_query(&mut u);
        assert_eq!(u.query(), Some("q=a%20b%2Bc&x=%7C&empty="));
        let mut none = Url::parse("https://h/p").unwrap();
        normalize_query(&mut none);
        assert_eq!(none.as_str(), "https://h/p");
    }

    #[test]
    fn nonces_are_long_and_fresh() {
        let a = TbaSigner::new_nonce();
        let b = TbaSigner::new_nonce();
        assert!(a.len() >= 20 && a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
