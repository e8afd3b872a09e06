//! Moving stock between sellable and quarantine.
//!
//! NetSuite's `inventoryStatusChange` transaction is the natural record, but the 2026.1 REST API
//! Browser does not list it, so [`Quarantine::detect`] asks the account's metadata catalog. When
//! the record is there, holds and releases are status changes in place (sellable status →
//! quarantine status). When it is not, they are `inventoryTransfer`s between the stock's location
//! and a configured quarantine location. Returned goods can also be received straight into a
//! quarantine status on the receipt line ([`crate::transform::Assignment::status`]), which needs
//! neither. See `docs/decisions/netsuite-quarantine.md`.

use http::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::client::{NetSuiteClient, RequestSpec};
use crate::error::Error;
use crate::ids::{RecordId, RecordType};
use crate::records::{
    Extra, InventoryAssignment, InventoryDetail, InventoryTransfer, InventoryTransferLine,
    RecordRef, Sublist,
};
use crate::retry::Idempotency;

/// The record type NetSuite uses for status changes.
pub const STATUS_CHANGE_TYPE: &str = "inventoryStatusChange";

/// How this account moves stock into and out of quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuarantineMethod {
    /// `inventoryStatusChange` between two inventory statuses at the same location.
    StatusChange {
        /// Status of sellable stock.
        sellable_status: RecordId,
        /// Status of quarantined stock.
        quarantine_status: RecordId,
    },
    /// `inventoryTransfer` to and from a quarantine location.
    LocationTransfer {
        /// The location that holds quarantined stock (not available for sale).
        quarantine_location: RecordId,
    },
}

/// What the integrator configured; [`Quarantine::detect`] picks the method from it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuarantineConfig {
    /// Sellable inventory status (needed for status changes).
    pub sellable_status: Option<RecordId>,
    /// Quarantine inventory status (needed for status changes).
    pub quarantine_status: Option<RecordId>,
    /// Quarantine location (needed for the transfer fallback).
    pub quarantine_location: Option<RecordId>,
}

/// One movement of stock.
#[derive(Debug, Clone, PartialEq)]
pub struct StockMove {
    /// The item.
    pub item: RecordId,
    /// Where the stock is (for a release under the transfer method: the location it returns to).
    pub location: RecordId,
    /// How much moves.
    pub quantity: Decimal,
    /// Lots or serials (internal ids of `inventoryNumber`), with their quantities.
    pub numbers: Vec<(RecordId, Decimal)>,
    /// External id stamped on the transaction (idempotency).
    pub external_id: Option<String>,
    /// Memo (e.g. the WMS reason).
    pub memo: Option<String>,
}

/// Direction of a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sellable → quarantine.
    Hold,
    /// Quarantine → sellable.
    Release,
}

/// Quarantine moves for one account, with the method detected once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    method: QuarantineMethod,
}

#[derive(Deserialize)]
struct Catalog {
    #[serde(default)]
    items: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    name: String,
}

/// Body of an `inventoryStatusChange` (field names from SuiteScript's record; not in the 2026.1
/// REST browser, so unknown fields are kept and the account's own schema wins).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryStatusChange {
    /// External id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Location of the stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RecordRef>,
    /// Status before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<RecordRef>,
    /// Status after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_status: Option<RecordRef>,
    /// Memo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Subsidiary (OneWorld accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsidiary: Option<RecordRef>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<RecordRef>,
    /// Class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<RecordRef>,
    /// Lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Sublist<StatusChangeLine>>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A line of an `inventoryStatusChange`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeLine {
    /// Item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<RecordRef>,
    /// Quantity.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::decimal::option"
    )]
    pub quantity: Option<Decimal>,
    /// Lots/serials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_detail: Option<InventoryDetail>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

fn detail(numbers: &[(RecordId, Decimal)]) -> Option<InventoryDetail> {
    if numbers.is_empty() {
        return None;
    }
    Some(InventoryDetail {
        inventory_assignment: Some(Sublist::from(
            numbers
                .iter()
                .map(|(n, q)| InventoryAssignment {
                    issue_inventory_number: Some(RecordRef::id(n.clone())),
                    quantity: Some(*q),
                    ..Default::default()
                })
                .collect::<Vec<_>>(),
        )),
        ..Default::default()
    })
}

impl NetSuiteClient {
    /// Whether the account's metadata catalog lists a record type (for this role).
    pub async fn has_record_type(&self, name: &str) -> Result<bool, Error> {
        let spec = RequestSpec::new(
            Method::GET,
            "/record/v1/metadata-catalog".into(),
            Idempotency::Read,
        );
        let catalog: Catalog = self.execute(spec).await?.json("metadata catalog")?;
        Ok(catalog
            .items
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(name)))
    }
}

impl Quarantine {
    /// Uses a known method without asking NetSuite.
    pub fn with_method(method: QuarantineMethod) -> Self {
        Self { method }
    }

    /// Detects the method: status change when the catalog lists `inventoryStatusChange` and both
    /// statuses are configured, otherwise a transfer to the quarantine location.
    pub async fn detect(client: &NetSuiteClient, config: &QuarantineConfig) -> Result<Self, Error> {
        if let (Some(sellable), Some(quarantine)) =
            (&config.sellable_status, &config.quarantine_status)
            && client.has_record_type(STATUS_CHANGE_TYPE).await?
        {
            return Ok(Self {
                method: QuarantineMethod::StatusChange {
                    sellable_status: sellable.clone(),
                    quarantine_status: quarantine.clone(),
                },
            });
        }
        match &config.quarantine_location {
            Some(loc) => Ok(Self {
                method: QuarantineMethod::LocationTransfer {
                    quarantine_location: loc.clone(),
                },
            }),
            None => Err(Error::Config(
                "quarantine: inventoryStatusChange is not available (or statuses are not configured) and no quarantine location is configured".into(),
            )),
        }
    }

    /// The method in use.
    pub fn method(&self) -> &QuarantineMethod {
        &self.method
    }

    /// Moves stock into (`Hold`) or out of (`Release`) quarantine; returns the new transaction's id.
    ///
    /// A plain create: after [`Error::OutcomeUnknown`] look it up by the move's external id.
    pub async fn apply(
        &self,
        client: &NetSuiteClient,
        direction: Direction,
        mv: &StockMove,
    ) -> Result<RecordId, Error> {
        if mv.quantity <= Decimal::ZERO {
            return Err(Error::InvalidRequest(format!(
                "quarantine move of {} units",
                mv.quantity
            )));
        }
        match &self.method {
            QuarantineMethod::StatusChange {
                sellable_status,
                quarantine_status,
            } => {
                let (from, to) = match direction {
                    Direction::Hold => (sellable_status, quarantine_status),
                    Direction::Release => (quarantine_status, sellable_status),
                };
                let body = InventoryStatusChange {
                    external_id: mv.external_id.clone(),
                    location: Some(RecordRef::id(mv.location.clone())),
                    previous_status: Some(RecordRef::id(from.clone())),
                    revised_status: Some(RecordRef::id(to.clone())),
                    memo: mv.memo.clone(),
                    inventory: Some(Sublist::from(vec![StatusChangeLine {
                        item: Some(RecordRef::id(mv.item.clone())),
                        quantity: Some(mv.quantity),
                        inventory_detail: detail(&mv.numbers),
                        ..Default::default()
                    }])),
                    ..Default::default()
                };
                client
                    .create_as(RecordType::from_static(STATUS_CHANGE_TYPE), &body)
                    .send()
                    .await
            }
            QuarantineMethod::LocationTransfer {
                quarantine_location,
            } => {
                let (from, to) = match direction {
                    Direction::Hold => (&mv.location, quarantine_location),
                    Direction::Release => (quarantine_location, &mv.location),
                };
                let body = InventoryTransfer {
                    external_id: mv.external_id.clone(),
                    location: Some(RecordRef::id(from.clone())),
                    transfer_location: Some(RecordRef::id(to.clone())),
                    memo: mv.memo.clone(),
                    inventory: Some(Sublist::from(vec![InventoryTransferLine {
                        item: Some(RecordRef::id(mv.item.clone())),
                        adjust_qty_by: Some(mv.quantity),
                        inventory_detail: detail(&mv.numbers),
                        ..Default::default()
                    }])),
                    ..Default::default()
                };
                client.create(&body).send().await
            }
        }
    }
}
