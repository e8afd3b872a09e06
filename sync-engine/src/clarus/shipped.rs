//! What has been reported of a goods out's shipments: one group per read that found shipments
//! dispatched since the last one, with everything its despatch event is built from, kept in the
//! store so that reading the goods out again (a redelivered webhook, the sweep, a restart between
//! decoding and planning) gives the same events.
//!
//! Clarus documents no per-shipment quantities, only each line's cumulative `dispatch_quantity`:
//! a group's quantities are what was dispatched since the groups before it. Shipments that left
//! between two reads share one group (their quantities cannot be told apart); the group is named
//! after the newest of them, so its fulfilment's key is stable.

use std::collections::BTreeMap;

use clarus_client::ClarusId;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::kept::{self, Kept};
use crate::processor::DecodeError;
use crate::store::Store;

/// Serialises read-modify-write of the groups within the process (the webhook processor and
/// the sweep may read the same goods out at once).
pub(crate) static GROUP_UPDATES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One line of a group: what left on one Clarus goods-out line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupLine {
    /// The Clarus goods-out line.
    pub line: ClarusId,
    /// The NetSuite order line.
    pub order_line: u64,
    /// The SKU.
    pub sku: String,
    /// What was still to ship on the line before this group (the group's requested quantity
    /// when it completes the goods out; otherwise equal to `quantity`).
    pub requested: Decimal,
    /// What left in this group.
    pub quantity: Decimal,
}

/// Shipments reported together as one despatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Group {
    /// The despatch's name: the newest shipment of the group, or the goods out's own id for a
    /// despatch reported before shipments were told apart.
    pub despatch: String,
    /// The Clarus shipments of the group.
    pub shipments: Vec<ClarusId>,
    /// Lines and quantities.
    pub lines: Vec<GroupLine>,
    /// Tracking numbers of the group's parcels, in order.
    pub tracking: Vec<Option<String>>,
    /// The carrier service of the group's shipments.
    pub service: Option<ClarusId>,
    /// When the group left.
    pub despatched_at: Timestamp,
    /// The group completed the goods out.
    pub completes: bool,
}

/// The groups of one goods out, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shipped {
    pub groups: Vec<Group>,
}

impl Shipped {
    /// The groups of `goods_out` kept in `store` (none yet when absent), with the version to
    /// [`save`](Self::save) them over.
    pub async fn load(
        store: &dyn Store,
        goods_out: ClarusId,
    ) -> Result<(Self, Option<i64>), DecodeError> {
        let read = kept::read(store, &Kept::GoodsOutShipped.key(goods_out))
            .await
            .map_err(|e| e.into_decode(&format!("shipments of goods out {goods_out}")))?;
        Ok(match read {
            Some((shipped, version)) => (shipped, Some(version)),
            None => (Shipped::default(), None),
        })
    }

    /// Keeps the groups of `goods_out` in `store` over `version` (as loaded), and answers the
    /// new version. When another decoder (on this or another instance) saved them meanwhile,
    /// nothing is written and the delivery is decoded again later, from what that one kept.
    pub async fn save(
        &self,
        store: &dyn Store,
        goods_out: ClarusId,
        version: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<i64>, DecodeError> {
        let context = format!("shipments of goods out {goods_out}");
        let key = Kept::GoodsOutShipped.key(goods_out);
        if !kept::replace(store, &key, self, version, now)
            .await
            .map_err(|e| e.into_decode(&context))?
        {
            return Err(DecodeError::Retryable(
                format!("{context} were changed by another decoder meanwhile; decoded again later")
                    .into(),
            ));
        }
        Ok(Some(version.map_or(1, |v| v + 1)))
    }

    /// Whether `shipment` was reported in a group.
    pub fn reported(&self, shipment: ClarusId) -> bool {
        self.groups.iter().any(|g| g.shipments.contains(&shipment))
    }

    /// Whether a group completed the goods out.
    pub fn complete(&self) -> bool {
        self.groups.iter().any(|g| g.completes)
    }

    /// What the groups reported per Clarus line.
    pub fn reported_per_line(&self) -> BTreeMap<ClarusId, Decimal> {
        let mut per_line = BTreeMap::new();
        for line in self.groups.iter().flat_map(|g| &g.lines) {
            *per_line.entry(line.line).or_insert(Decimal::ZERO) += line.quantity;
        }
        per_line
    }
}

/// Whether everything goods out `goods_out` despatched was reported: a group completed it.
///
/// Errors: the store could not be read, or holds an unreadable record.
pub async fn despatch_reported(
    store: &dyn Store,
    goods_out: ClarusId,
) -> Result<bool, DecodeError> {
    Ok(Shipped::load(store, goods_out).await?.0.complete())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(despatch: &str, shipments: &[i64], lines: &[(i64, i64)]) -> Group {
        Group {
            despatch: despatch.into(),
            shipments: shipments.iter().map(|s| ClarusId::new(*s)).collect(),
            lines: lines
                .iter()
                .map(|(line, q)| GroupLine {
                    line: ClarusId::new(*line),
                    order_line: 1,
                    sku: "MUG".into(),
                    requested: Decimal::from(*q),
                    quantity: Decimal::from(*q),
                })
                .collect(),
            tracking: Vec::new(),
            service: None,
            despatched_at: Timestamp::UNIX_EPOCH,
            completes: false,
        }
    }

    #[test]
    fn groups_add_up_per_line_and_know_their_shipments() {
        let shipped = Shipped {
            groups: vec![
                group("10", &[10], &[(1, 2), (2, 1)]),
                group("12", &[11, 12], &[(1, 3)]),
            ],
        };
        let per_line = shipped.reported_per_line();
        assert_eq!(per_line[&ClarusId::new(1)], Decimal::from(5));
        assert_eq!(per_line[&ClarusId::new(2)], Decimal::ONE);
        assert!(shipped.reported(ClarusId::new(11)));
        assert!(!shipped.reported(ClarusId::new(13)));
        assert!(!shipped.complete());
    }
}
