//! Mapping tables between the two systems, held as data (loaded from configuration).
//!
//! A missing row is never a panic: the planner raises a [`MissingMapping`] exception and holds
//! the document until the table is fixed and the event is retried.
//!
//! [`MissingMapping`]: crate::exception::ExceptionKind::MissingMapping

use crate::ids::{CarrierId, CarrierServiceId, LocationId, NetSuiteId, ReasonCodeId, WarehouseId};
use crate::order::CarrierService;
use crate::stock::MovementKind;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Names of the mapping tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingTable {
    /// NetSuite location ↔ Clarus warehouse.
    LocationWarehouse,
    /// Clarus adjustment kind and reason → NetSuite account.
    AdjustmentAccount,
    /// NetSuite location → where sellable and quarantined stock sit.
    StockStatus,
    /// Clarus carrier and service → NetSuite ship method.
    ShipMethod,
}

impl MappingTable {
    /// Every table.
    pub const ALL: [MappingTable; 4] = [
        Self::LocationWarehouse,
        Self::AdjustmentAccount,
        Self::StockStatus,
        Self::ShipMethod,
    ];
}

/// Where stock of one availability sits in NetSuite: an inventory status at the same location,
/// or a separate location.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StockPlace {
    /// An inventory status (`inventoryStatus` internal id) at the order's location.
    Status {
        /// Inventory status internal id.
        status: NetSuiteId,
    },
    /// A location of its own (for example a quarantine location).
    Location {
        /// Location internal id.
        location: LocationId,
    },
}

/// One row: NetSuite location ↔ Clarus warehouse (one to one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationMapping {
    /// NetSuite location.
    pub location: LocationId,
    /// Clarus warehouse.
    pub warehouse: WarehouseId,
}

/// One row: adjustment kind (and optionally reason) → account. A row without a reason is the
/// default for its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMapping {
    /// Adjustment kind (`Hold` and `Release` take no account).
    pub kind: MovementKind,
    /// Clarus reason code; `None` for the kind's default.
    pub reason: Option<ReasonCodeId>,
    /// NetSuite account internal id.
    pub account: NetSuiteId,
}

/// One row: where sellable and quarantined stock of a NetSuite location sit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMapping {
    /// NetSuite location.
    pub location: LocationId,
    /// Sellable stock (Clarus `available`).
    pub sellable: StockPlace,
    /// Quarantined or held stock (Clarus `held`).
    pub quarantine: StockPlace,
}

/// One row: Clarus carrier (and optionally service) → NetSuite ship method. A row without a
/// service is the default for its carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipMethodMapping {
    /// Clarus carrier.
    pub carrier: CarrierId,
    /// Clarus carrier service; `None` for the carrier's default.
    pub service: Option<CarrierServiceId>,
    /// NetSuite ship method (`shipItem`) internal id.
    pub ship_method: NetSuiteId,
}

/// The mapping tables as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MappingTables {
    /// Location ↔ warehouse.
    pub locations: Vec<LocationMapping>,
    /// Adjustment kind and reason → account.
    pub adjustment_accounts: Vec<AccountMapping>,
    /// Location → sellable and quarantine places.
    pub stock_statuses: Vec<StatusMapping>,
    /// Carrier and service → ship method.
    pub ship_methods: Vec<ShipMethodMapping>,
}

/// The tables contradict themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Two rows map one NetSuite location.
    #[error("location {0} is mapped more than once")]
    DuplicateLocation(LocationId),
    /// Two rows map one Clarus warehouse.
    #[error("warehouse {0} is mapped more than once")]
    DuplicateWarehouse(WarehouseId),
    /// Two rows give an account for the same kind and reason.
    #[error("adjustment kind {kind:?} with reason {reason:?} is mapped more than once")]
    DuplicateAccount {
        /// Kind.
        kind: MovementKind,
        /// Reason.
        reason: Option<ReasonCodeId>,
    },
    /// A row maps holds or releases to an account; they move no value.
    #[error("adjustment kind {0:?} moves no value and takes no account")]
    AccountForStatusChange(MovementKind),
    /// Two rows give places for one location.
    #[error("stock statuses of location {0} are mapped more than once")]
    DuplicateStatus(LocationId),
    /// Sellable and quarantine map to the same place.
    #[error("location {0} maps sellable and quarantine stock to the same place")]
    SamePlace(LocationId),
    /// Two rows give a ship method for the same carrier and service.
    #[error("carrier {carrier} service {service:?} is mapped more than once")]
    DuplicateShipMethod {
        /// Carrier.
        carrier: CarrierId,
        /// Service.
        service: Option<CarrierServiceId>,
    },
}

/// Validated, indexed mapping tables. Serialises as [`MappingTables`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MappingTables", into = "MappingTables")]
pub struct Mappings {
    tables: MappingTables,
    warehouse_by_location: FxHashMap<LocationId, WarehouseId>,
    location_by_warehouse: FxHashMap<WarehouseId, usize>,
    accounts: FxHashMap<(MovementKind, Option<ReasonCodeId>), usize>,
    statuses: FxHashMap<LocationId, usize>,
    ship_methods: FxHashMap<(CarrierId, Option<CarrierServiceId>), usize>,
    carrier_by_ship_method: FxHashMap<NetSuiteId, CarrierService>,
    movement_limit: Decimal,
}

impl Mappings {
    /// The default [`Mappings::movement_limit`]: 100,000 units.
    pub const DEFAULT_MOVEMENT_LIMIT: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);

    /// Sets the largest quantity one stock movement may move before it is taken for an error
    /// and raised for operations instead of posted (default
    /// [`Mappings::DEFAULT_MOVEMENT_LIMIT`]). Not part of the serialised tables.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use sync_core::{MappingTables, Mappings};
    ///
    /// let mappings = Mappings::new(MappingTables::default())
    ///     .unwrap()
    ///     .with_movement_limit(Decimal::from(5_000));
    /// assert_eq!(mappings.movement_limit(), Decimal::from(5_000));
    /// ```
    pub fn with_movement_limit(mut self, limit: Decimal) -> Self {
        self.movement_limit = limit;
        self
    }

    /// The largest quantity one stock movement may move.
    pub fn movement_limit(&self) -> Decimal {
        self.movement_limit
    }

    /// Validates and indexes the tables.
    pub fn new(tables: MappingTables) -> Result<Self, MappingError> {
        let mut warehouse_by_location = FxHashMap::default();
        let mut location_by_warehouse = FxHashMap::default();
        for (i, row) in tables.locations.iter().enumerate() {
            if warehouse_by_location
                .insert(row.location.clone(), row.warehouse)
                .is_some()
            {
                return Err(MappingError::DuplicateLocation(row.location.clone()));
            }
            if location_by_warehouse.insert(row.warehouse, i).is_some() {
                return Err(MappingError::DuplicateWarehouse(row.warehouse));
            }
        }
        let mut accounts = FxHashMap::default();
        for (i, row) in tables.adjustment_accounts.iter().enumerate() {
            if row.kind.on_hand_sign() == 0 {
                return Err(MappingError::AccountForStatusChange(row.kind));
            }
            if accounts.insert((row.kind, row.reason), i).is_some() {
                return Err(MappingError::DuplicateAccount {
                    kind: row.kind,
                    reason: row.reason,
                });
            }
        }
        let mut statuses = FxHashMap::default();
        for (i, row) in tables.stock_statuses.iter().enumerate() {
            if row.sellable == row.quarantine {
                return Err(MappingError::SamePlace(row.location.clone()));
            }
            if statuses.insert(row.location.clone(), i).is_some() {
                return Err(MappingError::DuplicateStatus(row.location.clone()));
            }
        }
        let mut ship_methods = FxHashMap::default();
        let mut carrier_by_ship_method = FxHashMap::default();
        for (i, row) in tables.ship_methods.iter().enumerate() {
            if ship_methods.insert((row.carrier, row.service), i).is_some() {
                return Err(MappingError::DuplicateShipMethod {
                    carrier: row.carrier,
                    service: row.service,
                });
            }
            // The first row naming a ship method gives the carrier for goods outs.
            carrier_by_ship_method
                .entry(row.ship_method.clone())
                .or_insert(CarrierService {
                    carrier: row.carrier,
                    service: row.service,
                });
        }
        Ok(Self {
            tables,
            warehouse_by_location,
            location_by_warehouse,
            accounts,
            statuses,
            ship_methods,
            carrier_by_ship_method,
            movement_limit: Self::DEFAULT_MOVEMENT_LIMIT,
        })
    }

    /// The tables as configured.
    pub fn tables(&self) -> &MappingTables {
        &self.tables
    }

    /// The Clarus warehouse of a NetSuite location.
    pub fn warehouse_for(&self, location: &LocationId) -> Option<WarehouseId> {
        self.warehouse_by_location.get(location).copied()
    }

    /// The NetSuite location of a Clarus warehouse.
    pub fn location_for(&self, warehouse: WarehouseId) -> Option<&LocationId> {
        self.location_by_warehouse
            .get(&warehouse)
            .map(|&i| &self.tables.locations[i].location)
    }

    /// The account for an adjustment: the row for the kind and reason, else the kind's default.
    pub fn account_for(
        &self,
        kind: MovementKind,
        reason: Option<ReasonCodeId>,
    ) -> Option<&NetSuiteId> {
        let exact = reason.and_then(|r| self.accounts.get(&(kind, Some(r))));
        exact
            .or_else(|| self.accounts.get(&(kind, None)))
            .map(|&i| &self.tables.adjustment_accounts[i].account)
    }

    /// Where sellable and quarantined stock of a location sit.
    pub fn places_for(&self, location: &LocationId) -> Option<&StatusMapping> {
        self.statuses
            .get(location)
            .map(|&i| &self.tables.stock_statuses[i])
    }

    /// The inventory status sellable stock is in at `location`: `None` where the location's
    /// sellable stock is a location of its own, or where the stock status mapping has no row
    /// for it. Inventory adjustments post against this status.
    pub fn sellable_status(&self, location: &LocationId) -> Option<&NetSuiteId> {
        match &self.places_for(location)?.sellable {
            StockPlace::Status { status } => Some(status),
            StockPlace::Location { .. } => None,
        }
    }

    /// The ship method for a carrier and service: the row for both, else the carrier's default.
    pub fn ship_method_for(
        &self,
        carrier: CarrierId,
        service: Option<CarrierServiceId>,
    ) -> Option<&NetSuiteId> {
        let exact = service.and_then(|s| self.ship_methods.get(&(carrier, Some(s))));
        exact
            .or_else(|| self.ship_methods.get(&(carrier, None)))
            .map(|&i| &self.tables.ship_methods[i].ship_method)
    }

    /// The Clarus carrier and service for a NetSuite ship method (the first row naming it).
    pub fn carrier_for(&self, ship_method: &NetSuiteId) -> Option<CarrierService> {
        self.carrier_by_ship_method.get(ship_method).copied()
    }
}

impl TryFrom<MappingTables> for Mappings {
    type Error = MappingError;
    fn try_from(tables: MappingTables) -> Result<Self, Self::Error> {
        Self::new(tables)
    }
}

impl From<Mappings> for MappingTables {
    fn from(mappings: Mappings) -> Self {
        mappings.tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> MappingTables {
        MappingTables {
            locations: vec![LocationMapping {
                location: "1".into(),
                warehouse: WarehouseId(10),
            }],
            adjustment_accounts: vec![
                AccountMapping {
                    kind: MovementKind::NegativeAdjustment,
                    reason: None,
                    account: "500".into(),
                },
                AccountMapping {
                    kind: MovementKind::NegativeAdjustment,
                    reason: Some(ReasonCodeId(7)),
                    account: "501".into(),
                },
            ],
            stock_statuses: vec![StatusMapping {
                location: "1".into(),
                sellable: StockPlace::Status { status: "1".into() },
                quarantine: StockPlace::Status { status: "2".into() },
            }],
            ship_methods: vec![
                ShipMethodMapping {
                    carrier: CarrierId(3),
                    service: None,
                    ship_method: "900".into(),
                },
                ShipMethodMapping {
                    carrier: CarrierId(3),
                    service: Some(CarrierServiceId(4)),
                    ship_method: "901".into(),
                },
            ],
        }
    }

    #[test]
    fn lookups_use_exact_rows_then_defaults() {
        let m = Mappings::new(tables()).unwrap();
        assert_eq!(m.warehouse_for(&"1".into()), Some(WarehouseId(10)));
        assert_eq!(m.location_for(WarehouseId(10)), Some(&"1".into()));
        assert_eq!(m.location_for(WarehouseId(11)), None);
        let neg = MovementKind::NegativeAdjustment;
        assert_eq!(
            m.account_for(neg, Some(ReasonCodeId(7))),
            Some(&"501".into())
        );
        assert_eq!(
            m.account_for(neg, Some(ReasonCodeId(8))),
            Some(&"500".into())
        );
        assert_eq!(m.account_for(neg, None), Some(&"500".into()));
        assert_eq!(m.account_for(MovementKind::Breakage, None), None);
        assert_eq!(
            m.ship_method_for(CarrierId(3), Some(CarrierServiceId(4))),
            Some(&"901".into())
        );
        assert_eq!(
            m.ship_method_for(CarrierId(3), Some(CarrierServiceId(5))),
            Some(&"900".into())
        );
        assert_eq!(m.ship_method_for(CarrierId(9), None), None);
        assert_eq!(
            m.carrier_for(&"901".into()),
            Some(CarrierService {
                carrier: CarrierId(3),
                service: Some(CarrierServiceId(4))
            })
        );
    }

    #[test]
    fn contradictory_tables_are_rejected() {
        let mut t = tables();
        t.locations.push(LocationMapping {
            location: "2".into(),
            warehouse: WarehouseId(10),
        });
        assert_eq!(
            Mappings::new(t),
            Err(MappingError::DuplicateWarehouse(WarehouseId(10)))
        );
        let mut t = tables();
        t.adjustment_accounts.push(AccountMapping {
            kind: MovementKind::Hold,
            reason: None,
            account: "1".into(),
        });
        assert_eq!(
            Mappings::new(t),
            Err(MappingError::AccountForStatusChange(MovementKind::Hold))
        );
        let mut t = tables();
        t.stock_statuses[0].quarantine = t.stock_statuses[0].sellable.clone();
        assert_eq!(Mappings::new(t), Err(MappingError::SamePlace("1".into())));
    }

    #[test]
    fn mappings_round_trip_through_json_as_tables() {
        let m = Mappings::new(tables()).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: Mappings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let bad =
            r#"{"locations":[{"location":"1","warehouse":1},{"location":"1","warehouse":2}]}"#;
        assert!(serde_json::from_str::<Mappings>(bad).is_err());
    }
}
