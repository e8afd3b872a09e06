//! Exceptions: problems a person must look at, each with an owner and a runbook entry.

use crate::document::DocumentRef;
use crate::key::IdempotencyKey;
use crate::mapping::MappingTable;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Who must act on an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// Warehouse operations: stock discrepancies and fulfilment status in Clarus.
    Operations,
    /// Finance: inventory value, accounts and invoicing in NetSuite.
    Finance,
    /// Whoever owns the item master: SKUs, barcodes, tracking.
    ItemMaster,
    /// The integration's administrators: mappings, configuration, unexpected input.
    Integration,
}

impl Owner {
    /// The owner as stored and routed (`operations`, `finance`, `item_master`, `integration`),
    /// the same text as its serde form.
    ///
    /// ```
    /// use sync_core::Owner;
    ///
    /// assert_eq!(Owner::ItemMaster.code(), "item_master");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Self::Operations => "operations",
            Self::Finance => "finance",
            Self::ItemMaster => "item_master",
            Self::Integration => "integration",
        }
    }
}

/// How urgent an exception is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look; nothing is blocked.
    Warning,
    /// A document (or part of one) is blocked until someone acts.
    Error,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExceptionKind {
    /// An order names a SKU the item master does not know; the order is held.
    UnknownSku,
    /// NetSuite and Clarus disagree about a product's SKU.
    SkuMismatch,
    /// NetSuite and Clarus disagree about a product's barcode.
    BarcodeMismatch,
    /// A Clarus product's code is the SKU of no NetSuite item.
    UnknownProduct,
    /// A warehouse event names an order that is not known.
    UnknownOrder,
    /// A warehouse event names an order line that is not on the order.
    UnknownOrderLine,
    /// A despatch or receipt arrived for a cancelled or closed order.
    OrderCancelledOrClosed,
    /// More was despatched or received than is open on the order line.
    QuantityAboveOpen,
    /// A lot- or serial-tracked item moved without (matching) lots or serials.
    MissingLotOrSerial,
    /// Less was despatched than requested (short or failed pick).
    ShortDespatch,
    /// A mapping table has no row for a value.
    MissingMapping {
        /// The table that lacks the row.
        table: MappingTable,
    },
    /// An event is malformed (for example a quantity that is not positive).
    InvalidEvent,
    /// A stock movement moves more than the configured limit: taken for an error, not posted.
    ImplausibleQuantity,
    /// Stock differs between Clarus and NetSuite beyond what movements in flight explain.
    StockDrift,
}

impl ExceptionKind {
    /// Who must act.
    pub fn owner(self) -> Owner {
        match self {
            Self::UnknownSku | Self::SkuMismatch | Self::BarcodeMismatch | Self::UnknownProduct => {
                Owner::ItemMaster
            }
            Self::UnknownOrder | Self::UnknownOrderLine | Self::InvalidEvent => Owner::Integration,
            Self::OrderCancelledOrClosed
            | Self::QuantityAboveOpen
            | Self::MissingLotOrSerial
            | Self::ShortDespatch
            | Self::ImplausibleQuantity
            | Self::StockDrift => Owner::Operations,
            Self::MissingMapping { table } => match table {
                MappingTable::AdjustmentAccount => Owner::Finance,
                _ => Owner::Integration,
            },
        }
    }

    /// How urgent.
    pub fn severity(self) -> Severity {
        match self {
            Self::BarcodeMismatch | Self::UnknownProduct | Self::ShortDespatch => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Short code, used in keys and runbook anchors.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownSku => "unknown-sku",
            Self::SkuMismatch => "sku-mismatch",
            Self::BarcodeMismatch => "barcode-mismatch",
            Self::UnknownProduct => "unknown-product",
            Self::UnknownOrder => "unknown-order",
            Self::UnknownOrderLine => "unknown-order-line",
            Self::OrderCancelledOrClosed => "order-cancelled-or-closed",
            Self::QuantityAboveOpen => "quantity-above-open",
            Self::MissingLotOrSerial => "missing-lot-or-serial",
            Self::ShortDespatch => "short-despatch",
            Self::MissingMapping { table } => match table {
                MappingTable::LocationWarehouse => "missing-location-mapping",
                MappingTable::AdjustmentAccount => "missing-account-mapping",
                MappingTable::StockStatus => "missing-status-mapping",
                MappingTable::ShipMethod => "missing-ship-method-mapping",
            },
            Self::InvalidEvent => "invalid-event",
            Self::ImplausibleQuantity => "implausible-quantity",
            Self::StockDrift => "stock-drift",
        }
    }

    /// The runbook entry in the operations guide, e.g. `operations.md#unknown-sku`.
    pub fn runbook(self) -> String {
        format!("operations.md#{}", self.code())
    }
}

/// A problem raised for a person, tied to one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// Stable identity: the same problem on the same document always has the same key, so it is
    /// raised once and can be resolved by key.
    pub key: IdempotencyKey,
    /// What went wrong.
    pub kind: ExceptionKind,
    /// Who must act.
    pub owner: Owner,
    /// How urgent.
    pub severity: Severity,
    /// The document concerned.
    pub document: DocumentRef,
    /// What happened, for people.
    pub message: String,
    /// Runbook anchor, e.g. `operations.md#unknown-sku`.
    pub runbook: String,
    /// When it was raised (the planning time).
    pub raised_at: Timestamp,
}

impl Exception {
    /// Builds an exception. `detail` narrows the key when one document can have several
    /// exceptions of one kind (for example the order line).
    pub fn new(
        kind: ExceptionKind,
        document: DocumentRef,
        detail: &[&str],
        message: impl Into<String>,
        raised_at: Timestamp,
    ) -> Self {
        Self {
            key: Self::key_for(kind, &document, detail),
            kind,
            owner: kind.owner(),
            severity: kind.severity(),
            document,
            message: message.into(),
            runbook: kind.runbook(),
            raised_at,
        }
    }

    /// The key an exception of `kind` on `document` with `detail` has.
    pub fn key_for(kind: ExceptionKind, document: &DocumentRef, detail: &[&str]) -> IdempotencyKey {
        let doc = document.key_parts();
        let mut parts: Vec<&str> = Vec::with_capacity(1 + doc.len() + detail.len());
        parts.push(kind.code());
        parts.extend(doc.iter().map(String::as_str));
        parts.extend_from_slice(detail);
        IdempotencyKey::build("EXC", &parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::OrderRef;

    #[test]
    fn an_owner_code_is_its_serde_form() {
        for owner in [
            Owner::Operations,
            Owner::Finance,
            Owner::ItemMaster,
            Owner::Integration,
        ] {
            assert_eq!(
                serde_json::to_value(owner).unwrap(),
                serde_json::Value::from(owner.code())
            );
        }
    }

    #[test]
    fn owners_follow_the_kind() {
        assert_eq!(ExceptionKind::UnknownSku.owner(), Owner::ItemMaster);
        assert_eq!(ExceptionKind::QuantityAboveOpen.owner(), Owner::Operations);
        assert_eq!(
            ExceptionKind::MissingMapping {
                table: MappingTable::AdjustmentAccount
            }
            .owner(),
            Owner::Finance
        );
        assert_eq!(
            ExceptionKind::MissingMapping {
                table: MappingTable::ShipMethod
            }
            .owner(),
            Owner::Integration
        );
    }

    #[test]
    fn exception_carries_owner_severity_and_runbook() {
        let e = Exception::new(
            ExceptionKind::UnknownSku,
            DocumentRef::Order {
                order: OrderRef::sales("77"),
            },
            &[],
            "SKU X is unknown",
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(e.owner, Owner::ItemMaster);
        assert_eq!(e.severity, Severity::Error);
        assert_eq!(e.runbook, "operations.md#unknown-sku");
        assert_eq!(e.key.as_str(), "EXC-unknown_2Dsku-SO-77");
    }
}
