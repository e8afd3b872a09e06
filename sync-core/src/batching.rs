//! When NetSuite postings are sent, and how waiting inventory adjustments are collected into
//! batches: one NetSuite inventory adjustment a batch, one line a member.

use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::action::InventoryAdjustment;
use crate::key::IdempotencyKey;

/// Prefix of batch keys (the NetSuite external ids of batched adjustments).
pub const BATCH_PREFIX: &str = "CLR-ADJB";

/// When a flow's NetSuite postings are sent.
///
/// ```
/// use sync_core::batching::Cadence;
///
/// let batched: Cadence = serde_json::from_str(r#"{"batched": {"every_secs": 300, "max_lines": 200}}"#).unwrap();
/// assert_eq!(batched, Cadence::Batched { every_secs: 300, max_lines: 200 });
/// assert_eq!(serde_json::from_str::<Cadence>(r#""immediate""#).unwrap(), Cadence::Immediate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Cadence {
    /// As soon as planned.
    Immediate,
    /// Collected and sent every `every_secs` seconds, at most `max_lines` lines a transaction.
    Batched {
        /// Seconds between batches.
        every_secs: u64,
        /// Lines per NetSuite transaction.
        max_lines: usize,
    },
}

/// How waiting adjustments are grouped: one NetSuite adjustment has one location, one account
/// and one transaction date, so members share all three (the date is the movement's civil
/// date in the account's time zone), and a batch has at most `max_lines` members.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPolicy {
    /// Lines (members) per NetSuite transaction, at least 1.
    pub max_lines: usize,
    /// The account's time zone, for the transaction date.
    pub time_zone: TimeZone,
}

/// A batch to form: its key, what its members share, and its members in outbox order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    /// Deterministic key from the members' keys (the adjustment's external id).
    pub key: IdempotencyKey,
    /// What the members share, for people: `location 1 account 500 date 2026-11-02`.
    pub grouping: String,
    /// The members' outbox keys.
    pub members: Vec<String>,
}

/// A waiting adjustment that cannot be a line of a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotBatchable {
    /// An adjustment by zero adjusts nothing.
    #[error("adjustment of item {item} by zero")]
    Zero {
        /// The item.
        item: String,
    },
}

/// The batches of the waiting adjustments, and the waiting actions refused on their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchPlan {
    /// Batches in the order of their oldest member.
    pub batches: Vec<PlannedBatch>,
    /// Outbox keys refused, each with why.
    pub refused: Vec<(String, NotBatchable)>,
}

impl BatchPolicy {
    /// Groups `waiting` (outbox key and adjustment, in outbox order) into batches.
    ///
    /// ```
    /// use jiff::tz::TimeZone;
    /// use sync_core::action::InventoryAdjustment;
    /// use sync_core::batching::BatchPolicy;
    ///
    /// let adjustment = |account: &str, quantity: i64| InventoryAdjustment {
    ///     location: "1".into(),
    ///     account: account.into(),
    ///     item: "77".into(),
    ///     sku: "MUG".into(),
    ///     quantity: quantity.into(),
    ///     lots: vec![],
    ///     serials: vec![],
    ///     occurred_at: "2026-11-02T10:00:00Z".parse().unwrap(),
    ///     memo: String::new(),
    ///     inventory_status: None,
    /// };
    /// let waiting = [
    ///     ("a".to_owned(), adjustment("500", -1)),
    ///     ("b".to_owned(), adjustment("510", 2)),
    ///     ("c".to_owned(), adjustment("500", 0)),
    ///     ("d".to_owned(), adjustment("500", 3)),
    /// ];
    /// let plan = BatchPolicy { max_lines: 10, time_zone: TimeZone::UTC }
    ///     .plan(waiting.iter().map(|(k, a)| (k.as_str(), a)));
    /// assert_eq!(plan.batches.len(), 2);
    /// assert_eq!(plan.batches[0].members, ["a", "d"]);
    /// assert_eq!(plan.batches[0].grouping, "location 1 account 500 date 2026-11-02");
    /// assert_eq!(plan.refused[0].0, "c");
    /// ```
    pub fn plan<'a>(
        &self,
        waiting: impl IntoIterator<Item = (&'a str, &'a InventoryAdjustment)>,
    ) -> BatchPlan {
        let mut refused = Vec::new();
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for (key, adjustment) in waiting {
            if adjustment.quantity.is_zero() {
                refused.push((
                    key.to_owned(),
                    NotBatchable::Zero {
                        item: adjustment.item.to_string(),
                    },
                ));
                continue;
            }
            let date = adjustment
                .occurred_at
                .to_zoned_datetime(self.time_zone.clone())
                .date();
            let grouping = format!(
                "location {} account {} date {date}",
                adjustment.location, adjustment.account
            );
            let at = *index.entry(grouping.clone()).or_insert_with(|| {
                groups.push((grouping, Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(key.to_owned());
        }
        let mut batches = Vec::new();
        for (grouping, members) in groups {
            for chunk in members.chunks(self.max_lines.max(1)) {
                let parts: Vec<&str> = chunk.iter().map(String::as_str).collect();
                batches.push(PlannedBatch {
                    key: IdempotencyKey::build(BATCH_PREFIX, &parts),
                    grouping: grouping.clone(),
                    members: chunk.to_vec(),
                });
            }
        }
        BatchPlan { batches, refused }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adjustment(location: &str, at: &str) -> InventoryAdjustment {
        InventoryAdjustment {
            location: location.into(),
            account: "500".into(),
            item: "77".into(),
            sku: "MUG".into(),
            quantity: 1.into(),
            lots: vec![],
            serials: vec![],
            occurred_at: at.parse().unwrap(),
            memo: String::new(),
            inventory_status: None,
        }
    }

    fn plan(policy: &BatchPolicy, waiting: &[(&str, InventoryAdjustment)]) -> BatchPlan {
        policy.plan(waiting.iter().map(|(k, a)| (*k, a)))
    }

    #[test]
    fn groups_are_cut_at_max_lines_in_outbox_order() {
        let policy = BatchPolicy {
            max_lines: 2,
            time_zone: TimeZone::UTC,
        };
        let at = "2026-11-02T10:00:00Z";
        let waiting: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|k| (k, adjustment("1", at)))
            .chain([("x", adjustment("2", at))])
            .collect();
        let batches = plan(&policy, &waiting).batches;
        let members: Vec<_> = batches.iter().map(|b| b.members.clone()).collect();
        assert_eq!(members, [vec!["a", "b"], vec!["c"], vec!["x"]]);
        assert_eq!(
            batches[0].key,
            IdempotencyKey::build(BATCH_PREFIX, &["a", "b"])
        );
        assert_ne!(batches[0].key, batches[1].key);
    }

    #[test]
    fn the_date_is_the_accounts_civil_date() {
        let late = adjustment("1", "2026-11-02T23:30:00Z");
        let next = adjustment("1", "2026-11-03T00:30:00Z");
        let waiting = [("a", late), ("b", next)];
        let utc = BatchPolicy {
            max_lines: 10,
            time_zone: TimeZone::UTC,
        };
        assert_eq!(plan(&utc, &waiting).batches.len(), 2);
        // In UTC-05:00 both are on 2 November.
        let new_york = BatchPolicy {
            max_lines: 10,
            time_zone: TimeZone::fixed(jiff::tz::offset(-5)),
        };
        let batches = plan(&new_york, &waiting).batches;
        assert_eq!(batches.len(), 1);
        assert_eq!(
            batches[0].grouping,
            "location 1 account 500 date 2026-11-02"
        );
    }

    #[test]
    fn zero_lines_are_refused_alone_and_max_lines_is_at_least_one() {
        let mut zero = adjustment("1", "2026-11-02T10:00:00Z");
        zero.quantity = 0.into();
        let waiting = [("z", zero), ("a", adjustment("1", "2026-11-02T10:00:00Z"))];
        let plan = plan(
            &BatchPolicy {
                max_lines: 0,
                time_zone: TimeZone::UTC,
            },
            &waiting,
        );
        assert_eq!(
            plan.refused,
            [(
                "z".to_owned(),
                NotBatchable::Zero {
                    item: "77".to_owned()
                }
            )]
        );
        assert_eq!(plan.batches.len(), 1);
    }
}
