//! Where an event comes from: the sending system, the record and its revision.

use compact_str::CompactString;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The system an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Oracle NetSuite.
    NetSuite,
    /// Clarus WMS.
    Clarus,
}

/// A short name in a source identity: a resource (`salesOrder`, `goods_out`), an event
/// (`completed`, `updated`) or a record id.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(CompactString);

impl Name {
    /// Wraps a value.
    pub fn new(value: impl AsRef<str>) -> Self {
        Self(CompactString::new(value.as_ref()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl From<&str> for Name {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// How new a version of a document is. A document's revisions come from one source and use one
/// form, so they compare meaningfully; `Sequence` sorts before `ModifiedAt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revision {
    /// A version number that grows with each change.
    Sequence(u64),
    /// The time of the last change (NetSuite `lastModifiedDate`, Clarus `updated_at`).
    ModifiedAt(Timestamp),
}

/// The identity of an input event: who sent it, about which record, what happened, and which
/// version of the record it carries. Two deliveries with the same identity are duplicates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceId {
    /// Sending system.
    pub system: System,
    /// Record type or webhook resource, e.g. `salesOrder`, `goods_out`.
    pub resource: Name,
    /// The record's id in the sending system.
    pub id: Name,
    /// What happened, e.g. `updated`, `completed`, `negatively_adjusted`.
    pub event: Name,
    /// Version of the record the event carries.
    pub revision: Revision,
}
