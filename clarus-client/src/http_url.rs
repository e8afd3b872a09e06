//! The crate's own URL type, so no other crate's type is part of the public API.

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;

/// An absolute `http` or `https` URL with a host: the API base URL, the OAuth redirect URL,
/// the authorization page, a webhook receiver.
///
/// ```
/// use clarus_client::HttpUrl;
/// let url: HttpUrl = "https://sync.example.com/hooks/clarus?x=1".parse().unwrap();
/// assert_eq!(url.host(), "sync.example.com");
/// assert_eq!(url.path(), "/hooks/clarus");
/// assert_eq!(url.query_value("x").as_deref(), Some("1"));
/// assert!("ftp://example.com".parse::<HttpUrl>().is_err());
/// assert!("/relative".parse::<HttpUrl>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl(url::Url);

impl HttpUrl {
    /// Parses an absolute `http`/`https` URL with a host. The error never repeats a password
    /// written into the URL.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::InvalidUrl {
            url: crate::config::without_user_info(text),
            message,
        };
        let url = url::Url::parse(text.trim()).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!("unsupported scheme {:?}", url.scheme())));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host".into()));
        }
        Ok(Self(url))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.0.scheme()
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The port, when one is written and is not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.0.port()
    }

    /// The path (`/` at least).
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// The query string without `?`, when there is one.
    pub fn query(&self) -> Option<&str> {
        self.0.query()
    }

    /// The first value of a query parameter, decoded.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.0
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// This URL with `suffix` appended to its path (one `/` between them) and the query and
    /// fragment kept.
    pub fn join_path(&self, suffix: &str) -> Self {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        let suffix = suffix.trim_start_matches('/');
        url.set_path(&format!("{base}/{suffix}"));
        Self(url)
    }

    /// This URL with a query parameter appended (percent-encoded).
    pub fn with_query_pair(&self, name: &str, value: &str) -> Self {
        let mut url = self.0.clone();
        url.query_pairs_mut().append_pair(name, value);
        Self(url)
    }

    pub(crate) fn from_url(url: url::Url) -> Self {
        Self(url)
    }

    pub(crate) fn as_url(&self) -> &url::Url {
        &self.0
    }
}

impl FromStr for HttpUrl {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HttpUrl").field(&self.as_str()).finish()
    }
}

impl AsRef<str> for HttpUrl {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<HttpUrl> for String {
    fn from(url: HttpUrl) -> Self {
        url.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_and_adds_query_pairs() {
        let base = HttpUrl::parse("https://sync.example.com/hooks/").unwrap();
        let joined = base.join_path("/goods_out/completed");
        assert_eq!(
            joined.as_str(),
            "https://sync.example.com/hooks/goods_out/completed"
        );
        let with = joined.with_query_pair("token", "a b&c");
        assert_eq!(with.query(), Some("token=a+b%26c"));
        assert_eq!(with.query_value("token").as_deref(), Some("a b&c"));
    }

    #[test]
    fn refuses_what_is_no_absolute_http_url_without_showing_passwords() {
        for bad in [
            "",
            "example.com",
            "mailto:a@b.c",
            "file:///etc/passwd",
            "http://",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        let err = HttpUrl::parse("https://user:hunter2@/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
