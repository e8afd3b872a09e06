//! Which lifecycle document an event belongs to: the order for an order, its goods-out progress,
//! despatches and receipts; the movement itself for a Clarus stock movement; none for items and
//! products.
//!
//! The engine records it with each committed event ([`crate::store::PlanCommit::owner`]), so
//! that stuck detection reads one document's events and actions at a time instead of every
//! recorded event ([`crate::monitor`]), and retention knows which events belong to a finished
//! document ([`crate::retention`]).
//!
//! ```
//! use sync_core::{DocumentRef, OrderRef};
//! use sync_engine::lifecycle::order_key;
//!
//! let order = OrderRef::sales("1001");
//! let document: DocumentRef = serde_json::from_str(&order_key(&order)).unwrap();
//! assert_eq!(document, DocumentRef::Order { order });
//! ```

use sync_core::{DocumentRef, Event, OrderRef, Payload};

use crate::keys::document_key;

/// The lifecycle document of an event, `None` for an item or a product.
pub fn owner(event: &Event) -> Option<DocumentRef> {
    Some(match &event.payload {
        Payload::Order(order) => DocumentRef::Order {
            order: order.order.clone(),
        },
        Payload::GoodsOutProgress(progress) => DocumentRef::Order {
            order: OrderRef::sales(progress.order.clone()),
        },
        Payload::Despatch(despatch) => DocumentRef::Order {
            order: OrderRef::sales(despatch.order.clone()),
        },
        Payload::Receipt(receipt) => DocumentRef::Order {
            order: receipt.order.clone(),
        },
        Payload::StockMovement(movement) => DocumentRef::Movement {
            tenant: movement.tenant.clone(),
            movement: movement.id,
        },
        Payload::Item(_) | Payload::ClarusProduct(_) => return None,
    })
}

/// The document key ([`document_key`]) of an event's lifecycle document.
pub fn owner_key(event: &Event) -> Option<String> {
    owner(event).map(|d| document_key(&d))
}

/// The document key of an order's lifecycle document (a re-plan of the order belongs to it).
pub fn order_key(order: &OrderRef) -> String {
    document_key(&DocumentRef::Order {
        order: order.clone(),
    })
}

/// The lifecycle document of a recorded event (the JSON the ledger keeps), as a document key:
/// `None` for an item, a product, or a note that is not an event (a re-plan's, whose actions
/// are filed under its order anyway).
pub fn owner_of_recorded(event: &serde_json::Value) -> Option<String> {
    serde_json::from_value::<Event>(event.clone())
        .ok()
        .and_then(|e| owner_key(&e))
}
