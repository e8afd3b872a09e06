//! Idempotency keys: deterministic, NetSuite-legal identifiers of planned actions.
//!
//! A key is built from a fixed prefix (such as `CLR-DESP`) and the identifiers of the source
//! document. It is used as the NetSuite `externalId` of created transactions, as the
//! `X-NetSuite-Idempotency-Key` of asynchronous requests, and as the outbox key of the engine.
//!
//! NetSuite external ids used in URLs (`eid:`) may hold only letters, digits, `_` and `-`, so
//! each part is escaped: ASCII letters and digits stay as they are, and every other byte
//! (including `-` and `_`) becomes `_` followed by two upper-case hex digits. Parts are joined
//! with `-`. Because `-` never appears inside an escaped part and `_` always starts a
//! three-character escape, different parts always give different keys (the encoding is
//! injective). Keys longer than [`IdempotencyKey::MAX_LEN`] keep their first characters and end
//! with `-H` and 32 hex digits of the SHA-256 of the full key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::{self, Write as _};

/// A deterministic idempotency key made only of ASCII letters, digits, `_` and `-`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

/// A string is not a legal idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is empty.
    #[error("idempotency key is empty")]
    Empty,
    /// The key is longer than [`IdempotencyKey::MAX_LEN`].
    #[error("idempotency key is {len} characters long, the limit is {max}")]
    TooLong {
        /// Length of the rejected key.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The key holds a character other than letters, digits, `_` and `-`.
    #[error(
        "idempotency key holds {character:?} at byte {position}: only letters, digits, '_' and '-' are allowed"
    )]
    IllegalCharacter {
        /// The offending character.
        character: char,
        /// Its byte offset.
        position: usize,
    },
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// Characters of the SHA-256 suffix of shortened keys: `-H` and 32 hex digits.
const HASH_SUFFIX_LEN: usize = 2 + 32;

impl IdempotencyKey {
    /// The longest key produced or accepted.
    pub const MAX_LEN: usize = 100;

    /// Builds a key from a prefix (letters, digits and `-` only, not escaped) and parts
    /// (escaped). Deterministic: the same input always gives the same key.
    ///
    /// ```
    /// use sync_core::IdempotencyKey;
    /// let key = IdempotencyKey::build("CLR-DESP", &["acme", "1042", "SHP/7"]);
    /// assert_eq!(key.as_str(), "CLR-DESP-acme-1042-SHP_2F7");
    /// ```
    pub fn build(prefix: &str, parts: &[&str]) -> Self {
        let mut builder = KeyBuilder::new(prefix);
        for part in parts {
            builder = builder.text(part);
        }
        builder.finish()
    }

    /// Validates an existing key (for example read back from storage).
    pub fn parse(value: impl Into<String>) -> Result<Self, KeyError> {
        let value = value.into();
        if value.is_empty() {
            return Err(KeyError::Empty);
        }
        if value.len() > Self::MAX_LEN {
            return Err(KeyError::TooLong {
                len: value.len(),
                max: Self::MAX_LEN,
            });
        }
        if let Some((position, character)) = value.char_indices().find(|(_, c)| !is_legal(*c)) {
            return Err(KeyError::IllegalCharacter {
                character,
                position,
            });
        }
        Ok(Self(value))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `c` may appear in a NetSuite external id used in a URL.
pub fn is_legal(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn push_escaped(out: &mut String, part: &str) {
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push('_');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0F)] as char);
        }
    }
}

fn shorten(full: &str) -> String {
    let digest = Sha256::digest(full.as_bytes());
    let keep = IdempotencyKey::MAX_LEN - HASH_SUFFIX_LEN;
    // `full` is ASCII, so any byte index is a character boundary.
    let mut short = String::with_capacity(IdempotencyKey::MAX_LEN);
    short.push_str(&full[..keep]);
    short.push_str("-H");
    for b in &digest[..16] {
        // Writing to a String cannot fail.
        let _ = write!(short, "{b:02X}");
    }
    short
}

/// Builds an [`IdempotencyKey`] part by part without intermediate strings; gives the same keys
/// as [`IdempotencyKey::build`] with the numbers written in decimal.
#[derive(Debug, Clone)]
pub struct KeyBuilder {
    key: String,
}

impl KeyBuilder {
    /// Starts a key with a prefix of letters, digits and `-` (not escaped).
    pub fn new(prefix: &str) -> Self {
        debug_assert!(
            prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "prefix must be letters, digits and '-'"
        );
        let mut key = String::with_capacity(48);
        key.push_str(prefix);
        Self { key }
    }

    /// Appends a text part, escaped.
    pub fn text(mut self, part: &str) -> Self {
        self.key.push('-');
        push_escaped(&mut self.key, part);
        self
    }

    /// Appends a number part.
    pub fn number(mut self, part: u64) -> Self {
        // Writing to a String cannot fail.
        let _ = write!(self.key, "-{part}");
        self
    }

    /// The finished key, shortened with a hash when over [`IdempotencyKey::MAX_LEN`].
    pub fn finish(self) -> IdempotencyKey {
        if self.key.len() > IdempotencyKey::MAX_LEN {
            IdempotencyKey(shorten(&self.key))
        } else {
            IdempotencyKey(self.key)
        }
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = KeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> Self {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_parts_are_kept_and_unsafe_bytes_hex_escaped() {
        let key = IdempotencyKey::build("NS-SO", &["123"]);
        assert_eq!(key.as_str(), "NS-SO-123");
        let key = IdempotencyKey::build("CLR-DESP", &["acme-wh", "7", "a_b|c é"]);
        assert_eq!(key.as_str(), "CLR-DESP-acme_2Dwh-7-a_5Fb_7Cc_20_C3_A9");
    }

    #[test]
    fn builder_matches_build() {
        let a = KeyBuilder::new("CLR-DESP")
            .text("acme")
            .number(42)
            .text("x/y")
            .finish();
        assert_eq!(a, IdempotencyKey::build("CLR-DESP", &["acme", "42", "x/y"]));
    }

    #[test]
    fn separators_inside_parts_cannot_collide() {
        let a = IdempotencyKey::build("X", &["a-b", "c"]);
        let b = IdempotencyKey::build("X", &["a", "b-c"]);
        assert_ne!(a, b);
    }

    #[test]
    fn long_keys_are_shortened_with_a_hash() {
        let long = "x".repeat(300);
        let key = IdempotencyKey::build("CLR-DESP", &[&long]);
        assert_eq!(key.as_str().len(), IdempotencyKey::MAX_LEN);
        assert!(IdempotencyKey::parse(key.as_str()).is_ok());
        let other = IdempotencyKey::build("CLR-DESP", &[&format!("{long}y")]);
        assert_ne!(key, other);
        assert_eq!(key, IdempotencyKey::build("CLR-DESP", &[&long]));
    }

    #[test]
    fn parse_rejects_illegal_keys() {
        assert_eq!(IdempotencyKey::parse(""), Err(KeyError::Empty));
        assert_eq!(
            IdempotencyKey::parse("a|b"),
            Err(KeyError::IllegalCharacter {
                character: '|',
                position: 1
            })
        );
        assert!(matches!(
            IdempotencyKey::parse("a".repeat(101)),
            Err(KeyError::TooLong { len: 101, .. })
        ));
        let json = serde_json::to_string(&IdempotencyKey::build("NS-SO", &["1"])).unwrap();
        assert_eq!(json, "\"NS-SO-1\"");
        assert!(serde_json::from_str::<IdempotencyKey>("\"bad key\"").is_err());
    }
}
