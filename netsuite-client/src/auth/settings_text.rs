//! Credentials from a configuration value: `key = value` pairs (a flat TOML table) or a map.

use std::collections::HashMap;

use super::{AuthError, AuthScheme, AuthSettings};

/// The variable a configuration key stands for: `client_id`, `CLIENT_ID` and
/// `NETSUITE_CLIENT_ID` all name `NETSUITE_CLIENT_ID`.
fn variable_name(key: &str) -> String {
    let upper = key.trim().to_ascii_uppercase().replace('-', "_");
    if upper.starts_with("NETSUITE_") {
        upper
    } else {
        format!("NETSUITE_{upper}")
    }
}

impl AuthSettings {
    /// Reads the settings from `(key, value)` pairs, e.g. a table of a configuration file or a
    /// secrets store. Keys are the names of the `NETSUITE_*` variables
    /// [`AuthSettings::from_env`] reads, with or without the `NETSUITE_` prefix, in any case (`client_id`, `certificate_id`,
    /// `private_key_file` or `private_key`, `auth`, `token_secret`, …). Values are kept as
    /// secrets where they are secrets; `Debug` never shows them.
    ///
    /// ```
    /// # #[cfg(feature = "tba")] {
    /// use netsuite_client::auth::{AuthScheme, AuthSettings};
    ///
    /// let settings = AuthSettings::from_pairs([
    ///     ("auth", "tba"),
    ///     ("consumer_key", "ck"),
    ///     ("consumer_secret", "cs"),
    ///     ("token_id", "ti"),
    ///     ("token_secret", "ts"),
    /// ])
    /// .unwrap();
    /// assert_eq!(settings.scheme(), AuthScheme::Tba);
    /// assert!(!format!("{settings:?}").contains("ts"));
    /// # }
    /// ```
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, AuthError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (variable_name(k.as_ref()), v.into()))
            .collect();
        Self::from_vars(|name| map.get(name).cloned())
    }

    /// Reads the settings from configuration text: one `key = value` per line (a flat TOML
    /// table; keys as in [`AuthSettings::from_pairs`]). Values are bare words or TOML strings:
    /// `"…"` with `\n`, `\"` and `\\` escapes, `'…'` taken literally, or `"""…"""` spanning
    /// lines (a PEM). Blank lines, `#` comments and `[table]` headers are skipped. Errors name
    /// the line, never a value.
    ///
    /// ```
    /// # #[cfg(feature = "static-bearer")] {
    /// use netsuite_client::auth::{AuthScheme, AuthSettings};
    ///
    /// let settings = AuthSettings::from_config_text(r#"
    /// # [netsuite.credentials] of the application's configuration
    /// auth = "bearer"
    /// access_token = "eyJ-secret"
    /// "#)
    /// .unwrap();
    /// assert_eq!(settings.scheme(), AuthScheme::StaticBearer);
    /// assert!(!format!("{settings:?}").contains("eyJ"));
    /// # }
    /// ```
    pub fn from_config_text(text: &str) -> Result<Self, AuthError> {
        Self::from_pairs(parse_pairs(text)?)
    }
}

fn config_error(line: usize, what: &str) -> AuthError {
    AuthError::Config {
        scheme: AuthScheme::OAuth2ClientCredentials,
        message: format!("credentials configuration, line {line}: {what}"),
    }
}

/// The `key = value` pairs of `text`.
fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, AuthError> {
    let mut pairs = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((n, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| config_error(n, "expected `key = value`"))?;
        let key = key.trim().trim_matches('"');
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !key_ok {
            return Err(config_error(n, "the key is not a plain name"));
        }
        let value = value.trim();
        let value = if let Some(rest) = value.strip_prefix("\"\"\"") {
            // A multi-line string up to the closing `"""`; the newline right after the opening
            // quotes is dropped, as TOML does.
            let mut parts: Vec<&str> = Vec::new();
            let mut tail = rest;
            loop {
                if let Some(end) = tail.find("\"\"\"") {
                    parts.push(&tail[..end]);
                    check_tail(&tail[end + 3..], n)?;
                    break;
                }
                if !(parts.is_empty() && tail.is_empty()) {
                    parts.push(tail);
                }
                let (_, next) = lines
                    .next()
                    .ok_or_else(|| config_error(n, "the \"\"\" string is not closed"))?;
                tail = next;
            }
            let collected = parts.join("\n");
            unescape(&collected).ok_or_else(|| config_error(n, "unknown escape"))?
        } else if let Some(rest) = value.strip_prefix('"') {
            let end = closing_quote(rest).ok_or_else(|| config_error(n, "unterminated string"))?;
            check_tail(&rest[end + 1..], n)?;
            unescape(&rest[..end]).ok_or_else(|| config_error(n, "unknown escape"))?
        } else if let Some(rest) = value.strip_prefix('\'') {
            let end = rest
                .find('\'')
                .ok_or_else(|| config_error(n, "unterminated string"))?;
            check_tail(&rest[end + 1..], n)?;
            rest[..end].to_owned()
        } else {
            value
                .split_once(" #")
                .map_or(value, |(v, _)| v)
                .trim()
                .to_owned()
        };
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

/// Only a comment may follow a quoted value.
fn check_tail(tail: &str, line: usize) -> Result<(), AuthError> {
    let tail = tail.trim();
    if tail.is_empty() || tail.starts_with('#') {
        Ok(())
    } else {
        Err(config_error(line, "unexpected text after the value"))
    }
}

/// The index of the `"` closing a basic string (escaped quotes skipped).
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_flat_table() {
        let pairs = parse_pairs(
            "[netsuite]\n# comment\nauth = m2m # inline\nclient_id = \"a\\\"b\"\nscopes='rest_webservices'\nprivate_key = \"\"\"\n-----BEGIN-----\nabc\n-----END-----\n\"\"\"\n",
        )
        .unwrap();
        assert_eq!(
            pairs,
            vec![
                ("auth".to_owned(), "m2m".to_owned()),
                ("client_id".to_owned(), "a\"b".to_owned()),
                ("scopes".to_owned(), "rest_webservices".to_owned()),
                (
                    "private_key".to_owned(),
                    "-----BEGIN-----\nabc\n-----END-----\n".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn errors_name_the_line_never_the_value() {
        for text in [
            "token_secret \"s3cr3t\"",
            "token_secret = \"s3cr3t",
            "token_secret = \"s3cr3t\" trailing",
            "token_secret = \"s3\\qcr3t\"",
        ] {
            let err = parse_pairs(text).unwrap_err().to_string();
            assert!(err.contains("line 1"), "{err}");
            assert!(!err.contains("s3"), "{err}");
        }
    }

    #[test]
    fn keys_name_the_variables() {
        assert_eq!(variable_name("client_id"), "NETSUITE_CLIENT_ID");
        assert_eq!(variable_name("NETSUITE_TOKEN_ID"), "NETSUITE_TOKEN_ID");
        assert_eq!(
            variable_name("private-key-file"),
            "NETSUITE_PRIVATE_KEY_FILE"
        );
    }
}
