//! When a document is stuck: how long it may wait in each stage of its flow before someone is
//! alerted, and what it then waits for.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{Flow, Stage};
use crate::owner::Owner;

/// Seconds a document may wait in a stage for the next one; a stage left out is never stuck.
///
/// In TOML (keys are [`Stage::code`]s), the defaults:
///
/// ```toml
/// imported = 900
/// despatched = 900
/// received = 900
/// seen = 900
/// ```
///
/// Fifteen minutes for an order to reach Clarus and for warehouse activity to reach the ledger.
/// Waiting in Clarus for a pick, despatch or receipt is the warehouse's pace, never stuck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StuckThresholds(BTreeMap<Stage, u64>);

impl Default for StuckThresholds {
    fn default() -> Self {
        [
            (Stage::Imported, 900),
            (Stage::Despatched, 900),
            (Stage::Received, 900),
            (Stage::Seen, 900),
        ]
        .into_iter()
        .collect()
    }
}

impl FromIterator<(Stage, u64)> for StuckThresholds {
    fn from_iter<I: IntoIterator<Item = (Stage, u64)>>(stages: I) -> Self {
        StuckThresholds(stages.into_iter().collect())
    }
}

/// A document that has waited in a stage beyond its threshold: what it waits for and who must
/// act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stuck {
    /// The stage it waits in.
    pub stage: Stage,
    /// The next stage of its flow, which it waits for.
    pub awaiting: Stage,
    /// Who is alerted ([`Stage::stuck_owner`] of the stage awaited).
    pub owner: Owner,
}

impl StuckThresholds {
    /// No stage is ever stuck.
    pub fn none() -> Self {
        StuckThresholds(BTreeMap::new())
    }

    /// Sets how long a document may wait in `stage` (seconds).
    pub fn insert(&mut self, stage: Stage, secs: u64) {
        self.0.insert(stage, secs);
    }

    /// How long a document may wait in `stage`, if it can be stuck there.
    pub fn after(&self, stage: Stage) -> Option<SignedDuration> {
        self.0
            .get(&stage)
            .map(|secs| SignedDuration::from_secs(i64::try_from(*secs).unwrap_or(i64::MAX)))
    }

    /// The shortest threshold: a document first seen more recently than this cannot be stuck.
    pub fn shortest(&self) -> Option<SignedDuration> {
        self.0.keys().filter_map(|s| self.after(*s)).min()
    }

    /// Whether a document of `flow` waiting in `stage` since `since` is stuck at `now`, and if
    /// so what it waits for. The last stage of a flow waits for nothing and is never stuck.
    ///
    /// ```
    /// use sync_core::lifecycle::{Flow, Stage};
    /// use sync_core::stuck::StuckThresholds;
    /// use sync_core::Owner;
    ///
    /// let thresholds = StuckThresholds::default();
    /// let since: jiff::Timestamp = "2026-11-02T10:00:00Z".parse().unwrap();
    /// let later = |mins: i64| since + jiff::SignedDuration::from_mins(mins);
    ///
    /// assert!(thresholds.stuck(Flow::SalesOrder, Stage::Despatched, since, later(14)).is_none());
    /// let stuck = thresholds.stuck(Flow::SalesOrder, Stage::Despatched, since, later(15)).unwrap();
    /// assert_eq!(stuck.awaiting, Stage::FulfilmentPosted);
    /// assert_eq!(stuck.owner, Owner::Operations);
    /// // Picking is the warehouse's pace.
    /// assert!(thresholds.stuck(Flow::SalesOrder, Stage::Picking, since, later(600)).is_none());
    /// ```
    pub fn stuck(
        &self,
        flow: Flow,
        stage: Stage,
        since: Timestamp,
        now: Timestamp,
    ) -> Option<Stuck> {
        let limit = self.after(stage)?;
        if now.duration_since(since) < limit {
            return None;
        }
        let stages = flow.stages();
        let awaiting = stages
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| stages.get(i + 1))
            .copied()?;
        Some(Stuck {
            stage,
            awaiting,
            owner: awaiting.stuck_owner(flow),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(mins: i64) -> Timestamp {
        let start: Timestamp = "2026-11-02T10:00:00Z".parse().unwrap();
        start + SignedDuration::from_mins(mins)
    }

    #[test]
    fn a_document_is_stuck_from_its_threshold_on() {
        let t = StuckThresholds::default();
        assert_eq!(t.stuck(Flow::Adjustment, Stage::Seen, at(0), at(14)), None);
        assert_eq!(
            t.stuck(Flow::Adjustment, Stage::Seen, at(0), at(15)),
            Some(Stuck {
                stage: Stage::Seen,
                awaiting: Stage::Posted,
                owner: Owner::Finance,
            })
        );
    }

    #[test]
    fn stages_without_a_threshold_and_last_stages_are_never_stuck() {
        let mut t = StuckThresholds::none();
        assert_eq!(t.shortest(), None);
        assert_eq!(
            t.stuck(Flow::SalesOrder, Stage::Imported, at(0), at(10_000)),
            None
        );
        t.insert(Stage::Posted, 60);
        t.insert(Stage::Imported, 120);
        assert_eq!(t.shortest(), Some(SignedDuration::from_secs(60)));
        // Posted is the adjustment flow's last stage: nothing left to wait for.
        assert_eq!(
            t.stuck(Flow::Adjustment, Stage::Posted, at(0), at(10_000)),
            None
        );
        assert_eq!(
            t.stuck(Flow::SalesOrder, Stage::Imported, at(0), at(2))
                .map(|s| s.awaiting),
            Some(Stage::SentToClarus)
        );
    }

    #[test]
    fn thresholds_read_from_stage_codes() {
        let t: StuckThresholds = serde_json::from_str(r#"{"acknowledged": 3600}"#).unwrap();
        assert_eq!(
            t.after(Stage::Acknowledged),
            Some(SignedDuration::from_hours(1))
        );
        assert_eq!(t.after(Stage::Imported), None);
    }
}
