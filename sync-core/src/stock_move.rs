//! Which NetSuite transaction a stock move between sellable and quarantine is: an inventory
//! status change where both places are statuses of one location, an inventory transfer where
//! the stock changes location.

use crate::action::StockMove;
use crate::ids::{LocationId, NetSuiteId};
use crate::mapping::StockPlace;

/// Where stock sits: a location, and the inventory status within it where the location keeps
/// stock by status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceAt {
    /// NetSuite location.
    pub location: LocationId,
    /// Inventory status internal id, where the place is a status.
    pub status: Option<NetSuiteId>,
}

impl PlaceAt {
    /// `place` resolved at the move's `location` (a status place is at that location).
    pub fn of(place: &StockPlace, location: &LocationId) -> Self {
        match place {
            StockPlace::Status { status } => PlaceAt {
                location: location.clone(),
                status: Some(status.clone()),
            },
            StockPlace::Location { location } => PlaceAt {
                location: location.clone(),
                status: None,
            },
        }
    }
}

/// The NetSuite transaction that carries a stock move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveKind {
    /// `inventoryStatusChange`: both places are statuses of one location.
    StatusChange {
        /// The location.
        location: LocationId,
        /// `previousStatus`.
        from: NetSuiteId,
        /// `revisedStatus`.
        to: NetSuiteId,
    },
    /// `inventoryTransfer`: the stock changes location (and, where either place is a status,
    /// the inventory assignments name the statuses).
    Transfer {
        /// `location`, and the status moved from.
        from: PlaceAt,
        /// `transferLocation`, and the status moved to.
        to: PlaceAt,
    },
}

/// A move whose two places are the same: nothing to post.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a move of item {item} at location {location} names the same place twice")]
pub struct SamePlace {
    /// The item.
    pub item: NetSuiteId,
    /// The location.
    pub location: LocationId,
}

impl StockMove {
    /// The transaction this move posts as.
    ///
    /// ```
    /// use sync_core::action::StockMove;
    /// use sync_core::mapping::StockPlace;
    /// use sync_core::stock::StockStatus;
    /// use sync_core::stock_move::MoveKind;
    ///
    /// let status = |s: &str| StockPlace::Status { status: s.into() };
    /// let hold = StockMove {
    ///     location: "1".into(),
    ///     item: "77".into(),
    ///     sku: "MUG".into(),
    ///     quantity: 2.into(),
    ///     to_status: StockStatus::Held,
    ///     from: status("1"),
    ///     to: status("2"),
    ///     lots: vec![],
    ///     serials: vec![],
    ///     occurred_at: "2026-11-02T10:00:00Z".parse().unwrap(),
    /// };
    /// assert!(matches!(hold.kind(), Ok(MoveKind::StatusChange { .. })));
    ///
    /// let quarantine = StockMove { to: StockPlace::Location { location: "9".into() }, ..hold.clone() };
    /// assert!(matches!(quarantine.kind(), Ok(MoveKind::Transfer { .. })));
    ///
    /// let nowhere = StockMove { to: status("1"), ..hold };
    /// assert!(nowhere.kind().is_err());
    /// ```
    pub fn kind(&self) -> Result<MoveKind, SamePlace> {
        let from = PlaceAt::of(&self.from, &self.location);
        let to = PlaceAt::of(&self.to, &self.location);
        if from.location != to.location {
            return Ok(MoveKind::Transfer { from, to });
        }
        match (from.status, to.status) {
            (Some(a), Some(b)) if a != b => Ok(MoveKind::StatusChange {
                location: from.location,
                from: a,
                to: b,
            }),
            _ => Err(SamePlace {
                item: self.item.clone(),
                location: self.location.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::StockStatus;

    fn moving(from: StockPlace, to: StockPlace) -> StockMove {
        StockMove {
            location: "1".into(),
            item: "77".into(),
            sku: "MUG".into(),
            quantity: 1.into(),
            to_status: StockStatus::Held,
            from,
            to,
            lots: vec![],
            serials: vec![],
            occurred_at: "2026-11-02T10:00:00Z".parse().unwrap(),
        }
    }

    fn status(s: &str) -> StockPlace {
        StockPlace::Status { status: s.into() }
    }

    fn location(l: &str) -> StockPlace {
        StockPlace::Location { location: l.into() }
    }

    #[test]
    fn two_statuses_of_one_location_are_a_status_change() {
        assert_eq!(
            moving(status("1"), status("2")).kind(),
            Ok(MoveKind::StatusChange {
                location: "1".into(),
                from: "1".into(),
                to: "2".into()
            })
        );
    }

    #[test]
    fn another_location_is_a_transfer_keeping_the_statuses() {
        assert_eq!(
            moving(status("1"), location("9")).kind(),
            Ok(MoveKind::Transfer {
                from: PlaceAt {
                    location: "1".into(),
                    status: Some("1".into())
                },
                to: PlaceAt {
                    location: "9".into(),
                    status: None
                },
            })
        );
        assert!(matches!(
            moving(location("9"), location("1")).kind(),
            Ok(MoveKind::Transfer { .. })
        ));
    }

    #[test]
    fn the_same_place_twice_is_refused() {
        assert!(moving(status("1"), status("1")).kind().is_err());
        assert!(moving(location("1"), location("1")).kind().is_err());
        let e = moving(location("4"), location("4")).kind().unwrap_err();
        assert_eq!(
            e.to_string(),
            "a move of item 77 at location 1 names the same place twice"
        );
    }
}
