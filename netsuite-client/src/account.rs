//! NetSuite account ids and the host names and realms derived from them.
//!
//! One canonical [`AccountId`] gives both forms NetSuite expects: the host label
//! (`1234567-sb1.suitetalk.api.netsuite.com`, lower case, `-`) and the TBA realm
//! (`1234567_SB1`, upper case, `_`). Account ids are validated before they become a host name.
//!
//! An [`Endpoint`] is the validated root URL that every request and token call is built on. It is
//! `https://<account>.suitetalk.api.netsuite.com` for a real account, or an override (a simulator,
//! a test server, a proxy). Plain `http` is refused unless [`AllowHttp::Yes`] is passed, so auth and
//! the client apply one rule.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// Longest account id accepted (NetSuite's are far shorter; this bounds the host label).
const MAX_ACCOUNT_ID_LEN: usize = 40;

/// A validated NetSuite account id, kept in its canonical (realm) form, e.g. `1234567_SB1`.
///
/// Accepted shapes, case-insensitive, with `_` or `-` before a suffix:
/// `1234567`, `1234567_SB1` (sandbox), `1234567_RP` (release preview), `TSTDRV1234567`
/// (test drive), and `TSTDRV1234567_SB1`.
///
/// ```
/// use netsuite_client::account::AccountId;
///
/// let id: AccountId = "1234567_sb1".parse().unwrap();
/// assert_eq!(id.realm(), "1234567_SB1");
/// assert_eq!(id.host(), "1234567-sb1.suitetalk.api.netsuite.com");
/// assert_eq!(id.rest_base_url().as_str(), "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest");
/// ```
///
/// In configuration files it (de)serializes as its string form, validated on the way in.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

/// Why a string is not a NetSuite account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountIdError {
    /// The input was empty or only whitespace.
    #[error("the NetSuite account id is empty")]
    Empty,
    /// The input is longer than any NetSuite account id.
    #[error(
        "the NetSuite account id is {len} characters long; at most {MAX_ACCOUNT_ID_LEN} are accepted"
    )]
    TooLong {
        /// Length of the input.
        len: usize,
    },
    /// The input does not have the shape of an account id.
    #[error(
        "{input:?} is not a NetSuite account id: expected digits with an optional TSTDRV prefix \
         and an optional _SB<n> or _RP suffix, e.g. 1234567, 1234567_SB1 or TSTDRV1234567"
    )]
    Malformed {
        /// The input as given.
        input: String,
    },
}

impl AccountId {
    /// Validates `input` and returns the canonical account id.
    ///
    /// Surrounding whitespace is ignored; letters may be in either case and the suffix may be
    /// joined with `-` (as in the host name) or `_` (as in the realm).
    pub fn new(input: &str) -> Result<Self, AccountIdError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AccountIdError::Empty);
        }
        if trimmed.len() > MAX_ACCOUNT_ID_LEN {
            return Err(AccountIdError::TooLong { len: trimmed.len() });
        }
        let canonical = trimmed.to_ascii_uppercase().replace('-', "_");
        if is_account_shape(&canonical) {
            Ok(AccountId(canonical))
        } else {
            Err(AccountIdError::Malformed {
                input: trimmed.to_owned(),
            })
        }
    }

    /// The canonical form, identical to [`AccountId::realm`].
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OAuth 1.0 (TBA) realm: upper case with `_`, e.g. `1234567_SB1`.
    pub fn realm(&self) -> &str {
        &self.0
    }

    /// The host label: lower case with `-`, e.g. `1234567-sb1`.
    pub fn host_label(&self) -> String {
        self.0.to_ascii_lowercase().replace('_', "-")
    }

    /// The SuiteTalk REST host, e.g. `1234567-sb1.suitetalk.api.netsuite.com`.
    pub fn host(&self) -> String {
        format!("{}.suitetalk.api.netsuite.com", self.host_label())
    }

    /// The host of the NetSuite UI, where users authorize apps, e.g. `1234567-sb1.app.netsuite.com`.
    pub fn app_host(&self) -> String {
        format!("{}.app.netsuite.com", self.host_label())
    }

    /// The account's SuiteTalk endpoint, `https://<host>`.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::from_validated_host(&self.host())
    }

    /// The account's UI endpoint, `https://<app host>`, used for the authorization-code login page.
    pub fn app_endpoint(&self) -> Endpoint {
        Endpoint::from_validated_host(&self.app_host())
    }

    /// `https://<host>/services/rest`.
    pub fn rest_base_url(&self) -> Url {
        self.endpoint().rest_base_url()
    }

    /// The OAuth 2.0 token URL, `https://<host>/services/rest/auth/oauth2/v1/token`.
    pub fn token_url(&self) -> Url {
        self.endpoint().token_url()
    }

    /// The OAuth 2.0 authorization page,
    /// `https://<app host>/app/login/oauth2/authorize.nl`.
    pub fn authorize_url(&self) -> Url {
        self.app_endpoint().authorize_url()
    }
}

/// `DIGITS`, `TSTDRV` + `DIGITS`, each optionally followed by `_SB` + `DIGITS` or `_RP`.
fn is_account_shape(upper: &str) -> bool {
    let (base, suffix) = match upper.split_once('_') {
        Some((base, suffix)) => (base, Some(suffix)),
        None => (upper, None),
    };
    let digits = base.strip_prefix("TSTDRV").unwrap_or(base);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(digits) {
        return false;
    }
    match suffix {
        None => true,
        Some("RP") => true,
        Some(s) => s.strip_prefix("SB").is_some_and(all_digits),
    }
}

impl FromStr for AccountId {
    type Err = AccountIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountId::new(s)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = AccountIdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        AccountId::new(&value)
    }
}

impl From<AccountId> for String {
    fn from(value: AccountId) -> Self {
        value.0
    }
}

/// Whether an [`Endpoint`] may use plain `http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AllowHttp {
    /// Only `https` (the default, and the only choice for a real account).
    #[default]
    No,
    /// `http` is accepted too: for local simulators and test servers only.
    Yes,
}

/// Why a URL cannot be used as an [`Endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The text is not a URL.
    #[error("{input:?} is not a URL: {reason}")]
    NotAUrl {
        /// The input as given.
        input: String,
        /// The parser's explanation.
        reason: String,
    },
    /// Plain `http` was given without [`AllowHttp::Yes`].
    #[error(
        "{url} uses plain http; NetSuite endpoints must use https (allow http only for local simulators and tests)"
    )]
    HttpNotAllowed {
        /// The refused URL.
        url: String,
    },
    /// A scheme other than `http` or `https`.
    #[error("{url} has scheme {scheme:?}; only https (or http when allowed) is accepted")]
    UnsupportedScheme {
        /// The refused URL.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The URL has no host.
    #[error("{url} has no host")]
    MissingHost {
        /// The refused URL.
        url: String,
    },
    /// User name or password embedded in the URL; credentials belong to the authenticator.
    #[error("the endpoint URL must not embed a user name or password")]
    EmbeddedCredentials,
    /// A query string or fragment; the endpoint is a base that paths are appended to.
    #[error("{url} has a query or fragment; give the base URL only")]
    QueryOrFragment {
        /// The refused URL.
        url: String,
    },
}

/// A validated root URL of a NetSuite service: scheme, host, optional port and path prefix.
///
/// REST paths live under [`Endpoint::rest_base_url`] (`<root>/services/rest`); the OAuth 2.0
/// token URL is [`Endpoint::token_url`]. An override may be given either as the root
/// (`http://127.0.0.1:8080`) or with the `/services/rest` suffix; both mean the same endpoint.
///
/// ```
/// use netsuite_client::account::{AllowHttp, Endpoint};
///
/// let sim = Endpoint::new("http://127.0.0.1:8080", AllowHttp::Yes).unwrap();
/// assert_eq!(sim.token_url().as_str(), "http://127.0.0.1:8080/services/rest/auth/oauth2/v1/token");
/// assert!(Endpoint::new("http://127.0.0.1:8080", AllowHttp::No).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Always ends with `/`, so joins append rather than replace.
    root: Url,
}

impl Endpoint {
    /// Validates an override URL: `https` (or `http` with [`AllowHttp::Yes`]), a host, no
    /// embedded credentials, no query or fragment.
    pub fn new(url: &str, allow_http: AllowHttp) -> Result<Self, EndpointError> {
        let parsed = Url::parse(url.trim()).map_err(|e| EndpointError::NotAUrl {
            input: url.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_url(parsed, allow_http)
    }

    /// Like [`Endpoint::new`], for an already parsed URL.
    pub fn from_url(url: Url, allow_http: AllowHttp) -> Result<Self, EndpointError> {
        check_url(&url, allow_http)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(EndpointError::QueryOrFragment {
                url: url.to_string(),
            });
        }
        let mut root = url;
        let path = root.path().trim_end_matches('/');
        let path = path.strip_suffix("/services/rest").unwrap_or(path);
        let path = format!("{path}/");
        root.set_path(&path);
        Ok(Endpoint { root })
    }

    fn from_validated_host(host: &str) -> Self {
        let root = Url::parse(&format!("https://{host}/"))
            .expect("a validated account id always forms a valid host name");
        Endpoint { root }
    }

    /// The root URL, ending with `/`.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// Whether this endpoint uses plain `http` (allowed explicitly when it was built).
    pub fn is_plain_http(&self) -> bool {
        self.root.scheme() == "http"
    }

    /// `<root>/services/rest` (no trailing slash).
    pub fn rest_base_url(&self) -> Url {
        self.join(&["services", "rest"])
    }

    /// `<root>/services/rest/` followed by `path`, each `/`-separated segment percent-encoded as
    /// a path segment, e.g. `rest_url("record/v1/salesOrder/eid:SO-1")`.
    pub fn rest_url(&self, path: &str) -> Url {
        let mut segments = vec!["services", "rest"];
        segments.extend(path.trim_matches('/').split('/').filter(|s| !s.is_empty()));
        self.join(&segments)
    }

    /// The OAuth 2.0 token URL, `<root>/services/rest/auth/oauth2/v1/token`.
    pub fn token_url(&self) -> Url {
        self.rest_url("auth/oauth2/v1/token")
    }

    /// The OAuth 2.0 authorization page, `<root>/app/login/oauth2/authorize.nl`. Meaningful on the
    /// UI endpoint ([`AccountId::app_endpoint`]) or a simulator.
    pub fn authorize_url(&self) -> Url {
        self.join(&["app", "login", "oauth2", "authorize.nl"])
    }

    fn join(&self, segments: &[&str]) -> Url {
        let mut url = self.root.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("an http(s) URL with a host always has path segments");
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.root.as_str())
    }
}

impl From<&AccountId> for Endpoint {
    fn from(account: &AccountId) -> Self {
        account.endpoint()
    }
}

/// The one scheme rule for every URL the SDK sends credentials to: `https`, or `http` only with
/// [`AllowHttp::Yes`]; a host; no embedded user name or password.
pub fn check_url(url: &Url, allow_http: AllowHttp) -> Result<(), EndpointError> {
    match (url.scheme(), allow_http) {
        ("https", _) | ("http", AllowHttp::Yes) => {}
        ("http", AllowHttp::No) => {
            return Err(EndpointError::HttpNotAllowed {
                url: url.to_string(),
            });
        }
        (other, _) => {
            return Err(EndpointError::UnsupportedScheme {
                url: url.to_string(),
                scheme: other.to_owned(),
            });
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::EmbeddedCredentials);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointError::MissingHost {
            url: url.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_accepts_known_forms_only() {
        for ok in [
            "1",
            "1234567",
            "1234567_SB1",
            "1234567_SB12",
            "1234567_RP",
            "TSTDRV1",
            "TSTDRV1234567_SB2",
        ] {
            assert!(is_account_shape(ok), "{ok}");
        }
        for bad in [
            "",
            "_SB1",
            "1234567_",
            "1234567_SB",
            "1234567_XX1",
            "TSTDRV",
            "ABC123",
            "1234567_SB1_SB2",
            "12 34",
        ] {
            assert!(!is_account_shape(bad), "{bad}");
        }
    }

    #[test]
    fn serde_validates_and_canonicalizes() {
        let id: AccountId = serde_json::from_str("\"1234567-sb1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"1234567_SB1\"");
        assert!(serde_json::from_str::<AccountId>("\"evil.example\"").is_err());
    }

    #[test]
    fn rest_url_encodes_segments() {
        let e = Endpoint::new("https://example.test/prefix/", AllowHttp::No).unwrap();
        assert_eq!(
            e.rest_url("/record/v1/salesOrder/eid:A B?x").as_str(),
            "https://example.test/prefix/services/rest/record/v1/salesOrder/eid:A%20B%3Fx"
        );
    }
}
