//! Identifier newtypes: internal ids, external ids, record keys and idempotency keys.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Internal ids are non-empty strings of decimal digits.
    #[error("{0:?} is not a NetSuite internal id (expected decimal digits)")]
    InternalId(String),
    /// External ids used in a URL may hold only letters, digits, `_` and `-`.
    #[error(
        "{0:?} cannot be used as an external id in a URL (letters, digits, '_' and '-' only, 1 to 255 characters); look such records up with `q=externalId IS \"…\"` instead"
    )]
    ExternalId(String),
    /// Idempotency keys are RFC 4122 UUIDs.
    #[error("{0:?} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")]
    IdempotencyKey(String),
    /// Record type names are camelCase ASCII identifiers.
    #[error("{0:?} is not a record type name (ASCII letters and digits, starting with a letter)")]
    RecordType(String),
}

/// A NetSuite internal id, e.g. `"1234"`. NetSuite sends ids as strings; they are kept as strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(String);

impl RecordId {
    /// Validates an internal id (decimal digits only).
    pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
        let id = id.into();
        if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(id))
        } else {
            Err(IdError::InternalId(id))
        }
    }

    /// The id as NetSuite writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RecordId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// An external id that can address a record in a URL (`eid:<value>`).
///
/// NetSuite accepts only letters, digits, `_` and `-` there; this type refuses anything else so
/// the value never needs escaping and can never change the path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    /// Validates an external id.
    pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= 255
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(id))
        } else {
            Err(IdError::ExternalId(id))
        }
    }

    /// The external id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ExternalId> for String {
    fn from(value: ExternalId) -> Self {
        value.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a single record is addressed in a URL: by internal id or by `eid:` external id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKey {
    /// `/record/v1/{type}/{id}`.
    Id(RecordId),
    /// `/record/v1/{type}/eid:{externalId}`.
    External(ExternalId),
}

impl RecordKey {
    /// Parses `1234` or `eid:ABC-1`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        match s.strip_prefix("eid:") {
            Some(eid) => Ok(Self::External(ExternalId::new(eid)?)),
            None => Ok(Self::Id(RecordId::new(s)?)),
        }
    }

    /// The path segment (`1234` or `eid:ABC-1`). Both forms are URL-safe by construction.
    pub fn path_segment(&self) -> String {
        match self {
            Self::Id(id) => id.0.clone(),
            Self::External(eid) => format!("eid:{}", eid.0),
        }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path_segment())
    }
}

impl From<RecordId> for RecordKey {
    fn from(value: RecordId) -> Self {
        Self::Id(value)
    }
}

impl From<ExternalId> for RecordKey {
    fn from(value: ExternalId) -> Self {
        Self::External(value)
    }
}

/// A record type name as it appears in the URL, e.g. `salesOrder`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordType(std::borrow::Cow<'static, str>);

impl RecordType {
    /// A record type known at compile time (no validation beyond a debug assertion).
    pub const fn from_static(name: &'static str) -> Self {
        Self(std::borrow::Cow::Borrowed(name))
    }

    /// Validates a record type name given at run time (e.g. from a command line).
    pub fn new(name: impl Into<String>) -> Result<Self, IdError> {
        let name = name.into();
        let ok = name.len() <= 100
            && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(Self(std::borrow::Cow::Owned(name)))
        } else {
            Err(IdError::RecordType(name))
        }
    }

    /// The name as used in paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The value of `X-NetSuite-Idempotency-Key`: an RFC 4122 UUID.
///
/// Use [`IdempotencyKey::derive`] to turn a deterministic action key (e.g. `CLR-DESP-acme-42`) into
/// a UUID that is the same on every retry and every restart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a UUID in its canonical hyphenated form.
    pub fn new(uuid: impl Into<String>) -> Result<Self, IdError> {
        let uuid = uuid.into();
        let bytes = uuid.as_bytes();
        let ok = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if ok {
            Ok(Self(uuid.to_ascii_lowercase()))
        } else {
            Err(IdError::IdempotencyKey(uuid))
        }
    }

    /// Derives a UUID from a name: the first 16 bytes of SHA-256(name), laid out with the RFC 4122
    /// version-4 and variant bits so validators that insist on a standard version accept it.
    pub fn derive(name: &str) -> Self {
        let digest = Sha256::digest(name.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Self(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    /// The key as sent in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_parse_both_forms() {
        assert_eq!(
            RecordKey::parse("1234").unwrap(),
            RecordKey::Id(RecordId::new("1234").unwrap())
        );
        assert_eq!(
            RecordKey::parse("eid:CLR-DESP-acme_42")
                .unwrap()
                .path_segment(),
            "eid:CLR-DESP-acme_42"
        );
        assert!(RecordKey::parse("12a").is_err());
        assert!(RecordKey::parse("eid:RED|PO|1337").is_err());
        assert!(RecordKey::parse("eid:../1").is_err());
        assert!(RecordKey::parse("eid:").is_err());
    }

    #[test]
    fn derived_idempotency_keys_are_stable_uuids() {
        let a = IdempotencyKey::derive("CLR-DESP-acme-42");
        let b = IdempotencyKey::derive("CLR-DESP-acme-42");
        let c = IdempotencyKey::derive("CLR-DESP-acme-43");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(IdempotencyKey::new(a.as_str()).is_ok());
        assert_eq!(&a.as_str()[14..15], "4");
        assert!(IdempotencyKey::new("not-a-uuid").is_err());
    }

    #[test]
    fn record_type_names_are_validated() {
        assert!(RecordType::new("salesOrder").is_ok());
        assert!(RecordType::new("customrecord_x1").is_ok());
        assert!(RecordType::new("sales/Order").is_err());
        assert!(RecordType::new("").is_err());
    }
}
