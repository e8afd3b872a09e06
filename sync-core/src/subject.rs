//! The keys of exceptions raised about the integration's own work rather than about a
//! document's content: a failed action or batch, an unreadable delivery. The key is built here
//! and read back here, so a retry finds what it names.

use std::fmt;

/// What an exception raised by the shell is about, as its key names it.
///
/// ```
/// use sync_core::subject::ExceptionSubject;
///
/// let batch = ExceptionSubject::Batch("ADJ-2026-12-07-1".into());
/// assert_eq!(batch.to_string(), "EX-BATCH-ADJ-2026-12-07-1");
/// assert_eq!(ExceptionSubject::parse("EX-DELIVERY-42"), Some(ExceptionSubject::Delivery(42)));
/// assert_eq!(ExceptionSubject::parse("EXC-unknown_2Dsku-SO-77"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExceptionSubject {
    /// A planned action that failed for good, by its idempotency key.
    Action(String),
    /// A batch of actions that failed together, by its key.
    Batch(String),
    /// A stored webhook delivery that cannot be decoded, by its id.
    Delivery(i64),
}

const ACTION: &str = "EX-ACTION-";
const BATCH: &str = "EX-BATCH-";
const DELIVERY: &str = "EX-DELIVERY-";

impl ExceptionSubject {
    /// The subject an exception key names, if it names one.
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(action) = key.strip_prefix(ACTION) {
            return Some(Self::Action(action.to_owned()));
        }
        if let Some(batch) = key.strip_prefix(BATCH) {
            return Some(Self::Batch(batch.to_owned()));
        }
        key.strip_prefix(DELIVERY)?.parse().ok().map(Self::Delivery)
    }
}

impl fmt::Display for ExceptionSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Action(key) => write!(f, "{ACTION}{key}"),
            Self::Batch(key) => write!(f, "{BATCH}{key}"),
            Self::Delivery(id) => write!(f, "{DELIVERY}{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_reads_back_from_its_key() {
        for subject in [
            ExceptionSubject::Action("CLR-DESP-acme-9-1".into()),
            ExceptionSubject::Batch("B-1".into()),
            ExceptionSubject::Delivery(7),
        ] {
            assert_eq!(ExceptionSubject::parse(&subject.to_string()), Some(subject));
        }
        assert_eq!(ExceptionSubject::parse("EX-DELIVERY-x"), None);
        assert_eq!(ExceptionSubject::parse("EX-INTEGRATION-DELIVERY-7"), None);
    }
}
