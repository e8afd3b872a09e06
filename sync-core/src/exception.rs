//! Exceptions: problems a person must look at, each with an owner and a runbook entry.

use crate::action_type::ActionType;
use crate::document::DocumentRef;
use crate::key::IdempotencyKey;
use crate::lifecycle::{Flow, Stage};
use crate::mapping::MappingTable;
pub use crate::owner::{Owner, Severity};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
    /// The value of a day's drift is above finance's threshold.
    DriftValue,
    /// A planned action failed for good: the other system refused it, or (`action: None`) the
    /// stored action could not be read back.
    ActionFailed {
        /// The type of the action that failed, when it could be read.
        action: Option<ActionType>,
    },
    /// A webhook delivery cannot be decoded into an event.
    InvalidDelivery,
    /// A webhook delivery has waited too long and still cannot be read.
    DeliveryStalled,
    /// A NetSuite record cannot be read into the integration.
    InvalidRecord,
    /// A scheduled job keeps failing (or an instance cannot take its jobs' leases).
    JobFailing,
    /// A part of the service crashed and is being restarted.
    TaskCrashed,
    /// A document has waited longer than allowed to reach its next stage.
    StuckDocument {
        /// The document's flow.
        flow: Flow,
        /// The stage it waits to reach.
        awaiting: Stage,
    },
    /// Clarus's GraphQL schema lacks a field the integration reads.
    ClarusSchema,
    /// A Clarus goods in is completed but its completion webhook was never processed.
    ReceiptNotReported,
    /// A stock movement reached NetSuite through the sweep, without its reason.
    MovementRebuilt,
    /// An adopted Clarus goods out's lines cannot be matched to the order's lines.
    AdoptedLinesUnmatched,
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
            | Self::StockDrift
            | Self::ReceiptNotReported => Owner::Operations,
            Self::MissingMapping { table } => match table {
                MappingTable::AdjustmentAccount => Owner::Finance,
                _ => Owner::Integration,
            },
            Self::DriftValue | Self::MovementRebuilt => Owner::Finance,
            Self::ActionFailed { action } => {
                action.map_or(Owner::Integration, ActionType::failure_owner)
            }
            Self::StuckDocument { flow, awaiting } => awaiting.stuck_owner(flow),
            Self::InvalidDelivery
            | Self::DeliveryStalled
            | Self::InvalidRecord
            | Self::JobFailing
            | Self::TaskCrashed
            | Self::ClarusSchema
            | Self::AdoptedLinesUnmatched => Owner::Integration,
        }
    }

    /// How urgent.
    pub fn severity(self) -> Severity {
        match self {
            Self::BarcodeMismatch
            | Self::UnknownProduct
            | Self::ShortDespatch
            | Self::MovementRebuilt => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Short code, used in keys and runbook anchors.
    pub const fn code(self) -> &'static str {
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
            Self::DriftValue => "drift-value",
            Self::ActionFailed { .. } => "action-failed",
            Self::InvalidDelivery => "invalid-delivery",
            Self::DeliveryStalled => "delivery-stalled",
            Self::InvalidRecord => "invalid-record",
            Self::JobFailing => "job-failing",
            Self::TaskCrashed => "task-crashed",
            Self::StuckDocument { .. } => "stuck-document",
            Self::ClarusSchema => "clarus-schema",
            Self::ReceiptNotReported => "receipt-not-reported",
            Self::MovementRebuilt => "movement-rebuilt",
            Self::AdoptedLinesUnmatched => "adopted-lines-unmatched",
        }
    }

    /// The runbook entry in the operations guide, e.g. `operations.md#unknown-sku`.
    pub fn runbook(self) -> String {
        format!("operations.md#{}", self.code())
    }
    /// How a person's "retry" clears an exception of this kind, or why it cannot.
    pub fn retry(self) -> Retry {
        match self {
            Self::ActionFailed { .. } => Retry::RequeueAction,
            Self::StockDrift => Retry::RecheckStock,
            Self::InvalidDelivery => Retry::ReprocessDelivery,
            Self::UnknownSku
            | Self::SkuMismatch
            | Self::BarcodeMismatch
            | Self::UnknownProduct
            | Self::UnknownOrder
            | Self::UnknownOrderLine
            | Self::OrderCancelledOrClosed
            | Self::QuantityAboveOpen
            | Self::MissingLotOrSerial
            | Self::ShortDespatch
            | Self::MissingMapping { .. }
            | Self::InvalidEvent
            | Self::ImplausibleQuantity => Retry::ReplayDocument,
            Self::InvalidRecord => Retry::NotRetryable {
                reason: "correct the record in NetSuite; the poller reads it again when it \
                         changes and closes this exception",
            },
            Self::ReceiptNotReported => Retry::NotRetryable {
                reason: "Clarus must report the receipt; the sweep checks again on every run",
            },
            Self::StuckDocument { .. } => Retry::NotRetryable {
                reason: "the stuck check runs again on every run and closes it once the \
                         document moves",
            },
            Self::DriftValue
            | Self::DeliveryStalled
            | Self::JobFailing
            | Self::TaskCrashed
            | Self::ClarusSchema
            | Self::MovementRebuilt
            | Self::AdoptedLinesUnmatched => Retry::NotRetryable {
                reason: "the exception was not raised by planning",
            },
        }
    }

    /// One kind of every code: each kind, with every mapping table, every flow and stage a
    /// document can wait in, and a failed action of every type (and one that could not be
    /// read). Its codes and runbook anchors are every code and anchor the integration uses.
    pub fn every() -> Vec<ExceptionKind> {
        let mut kinds = vec![
            Self::UnknownSku,
            Self::SkuMismatch,
            Self::BarcodeMismatch,
            Self::UnknownProduct,
            Self::UnknownOrder,
            Self::UnknownOrderLine,
            Self::OrderCancelledOrClosed,
            Self::QuantityAboveOpen,
            Self::MissingLotOrSerial,
            Self::ShortDespatch,
            Self::InvalidEvent,
            Self::ImplausibleQuantity,
            Self::StockDrift,
            Self::DriftValue,
            Self::InvalidDelivery,
            Self::DeliveryStalled,
            Self::InvalidRecord,
            Self::JobFailing,
            Self::TaskCrashed,
            Self::ClarusSchema,
            Self::ReceiptNotReported,
            Self::MovementRebuilt,
            Self::AdoptedLinesUnmatched,
            Self::ActionFailed { action: None },
        ];
        kinds.extend(MappingTable::ALL.map(|table| Self::MissingMapping { table }));
        kinds.extend(ActionType::ALL.map(|a| Self::ActionFailed { action: Some(a) }));
        for flow in Flow::ALL {
            kinds.extend(
                flow.stages()
                    .iter()
                    .map(|&awaiting| Self::StuckDocument { flow, awaiting }),
            );
        }
        kinds
    }

    /// How a person's retry treats an exception stored with kind `code` (see
    /// [`retry`](Self::retry)); `None` for a code no kind has.
    ///
    /// ```
    /// use sync_core::exception::{ExceptionKind, Retry};
    ///
    /// assert_eq!(ExceptionKind::retry_of_code("action-failed"), Some(Retry::RequeueAction));
    /// assert_eq!(ExceptionKind::retry_of_code("no-such-kind"), None);
    /// ```
    pub fn retry_of_code(code: &str) -> Option<Retry> {
        Self::every()
            .into_iter()
            .find(|k| k.code() == code)
            .map(Self::retry)
    }
}

/// How a person's retry clears an exception (see [`ExceptionKind::retry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Run the failed action (or the batch it failed in) again.
    RequeueAction,
    /// Compare stock again.
    RecheckStock,
    /// Decode the stored delivery again.
    ReprocessDelivery,
    /// Plan the document again (after the cause was fixed).
    ReplayDocument,
    /// Retrying cannot help.
    NotRetryable {
        /// What clears the exception instead.
        reason: &'static str,
    },
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

    /// Does nothing at run time; at compile time the exhaustive match makes a new kind or
    /// mapping table a build error here until it is added to [`ExceptionKind::every`].
    #[allow(dead_code)]
    fn listed_in_every(kind: ExceptionKind) {
        match kind {
            ExceptionKind::UnknownSku
            | ExceptionKind::SkuMismatch
            | ExceptionKind::BarcodeMismatch
            | ExceptionKind::UnknownProduct
            | ExceptionKind::UnknownOrder
            | ExceptionKind::UnknownOrderLine
            | ExceptionKind::OrderCancelledOrClosed
            | ExceptionKind::QuantityAboveOpen
            | ExceptionKind::MissingLotOrSerial
            | ExceptionKind::ShortDespatch
            | ExceptionKind::MissingMapping {
                table:
                    MappingTable::LocationWarehouse
                    | MappingTable::AdjustmentAccount
                    | MappingTable::StockStatus
                    | MappingTable::ShipMethod,
            }
            | ExceptionKind::InvalidEvent
            | ExceptionKind::ImplausibleQuantity
            | ExceptionKind::StockDrift
            | ExceptionKind::DriftValue
            | ExceptionKind::ActionFailed { .. }
            | ExceptionKind::InvalidDelivery
            | ExceptionKind::DeliveryStalled
            | ExceptionKind::InvalidRecord
            | ExceptionKind::JobFailing
            | ExceptionKind::TaskCrashed
            | ExceptionKind::StuckDocument { .. }
            | ExceptionKind::ClarusSchema
            | ExceptionKind::ReceiptNotReported
            | ExceptionKind::MovementRebuilt
            | ExceptionKind::AdoptedLinesUnmatched => {}
        }
    }

    #[test]
    fn every_lists_each_kind_once() {
        let every = ExceptionKind::every();
        let distinct: std::collections::HashSet<_> = every.iter().collect();
        assert_eq!(distinct.len(), every.len());
        assert!(every.contains(&ExceptionKind::StuckDocument {
            flow: Flow::Adjustment,
            awaiting: Stage::Posted
        }));
    }

    #[test]
    fn kinds_sharing_a_code_share_severity_retry_and_runbook() {
        let every = ExceptionKind::every();
        for a in &every {
            for b in every.iter().filter(|b| b.code() == a.code()) {
                assert_eq!(a.severity(), b.severity(), "{a:?} / {b:?}");
                assert_eq!(a.retry(), b.retry(), "{a:?} / {b:?}");
                assert_eq!(a.runbook(), b.runbook());
            }
            assert_eq!(ExceptionKind::retry_of_code(a.code()), Some(a.retry()));
        }
    }

    #[test]
    fn a_failed_posting_belongs_to_the_flow_that_owns_it() {
        let failed = |action| ExceptionKind::ActionFailed {
            action: Some(action),
        };
        assert_eq!(
            failed(ActionType::FulfilSalesOrder).owner(),
            Owner::Operations
        );
        assert_eq!(
            failed(ActionType::ReceivePurchaseOrder).owner(),
            Owner::Operations
        );
        assert_eq!(
            failed(ActionType::PostInventoryAdjustment).owner(),
            Owner::Finance
        );
        assert_eq!(failed(ActionType::MoveStock).owner(), Owner::Finance);
        assert_eq!(failed(ActionType::CreateProduct).owner(), Owner::ItemMaster);
        assert_eq!(
            ExceptionKind::ActionFailed { action: None }.owner(),
            Owner::Integration
        );
        let stuck = |flow, awaiting| ExceptionKind::StuckDocument { flow, awaiting }.owner();
        assert_eq!(
            stuck(Flow::SalesOrder, Stage::FulfilmentPosted),
            Owner::Operations
        );
        assert_eq!(
            stuck(Flow::ReturnAuthorisation, Stage::ReceiptPosted),
            Owner::Operations
        );
        assert_eq!(stuck(Flow::Adjustment, Stage::Posted), Owner::Finance);
        assert_eq!(ExceptionKind::DriftValue.owner(), Owner::Finance);
        assert_eq!(ExceptionKind::JobFailing.owner(), Owner::Integration);
    }
}
