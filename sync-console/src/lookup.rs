//! Finding documents by the numbers people know them by.
//!
//! The store names documents as the engine does (`SO 4411`: the order's kind and NetSuite
//! internal id; `despatch 7 of goods out 55 (acme)`: Clarus ids). People search by business
//! number (`SO1023`, `PO80001`, `RMA90001`), NetSuite id or Clarus id. [`DocumentIndex`] reads
//! the ledger's events once and answers every document an order's number reaches: the order
//! itself and its despatches and receipts.
//!
//! ```
//! use sync_console::lookup::DocumentIndex;
//!
//! let index = DocumentIndex::default();
//! assert!(index.find("SO1023").is_empty());
//! assert!(DocumentIndex::normalise(" so-1023 ") == "so1023");
//! ```

use std::collections::BTreeSet;

use sync_core::{DocumentRef, Event, OrderRef, Payload};
use sync_engine::store::RecordedEvent;

/// One order and what the warehouse did for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEntry {
    /// The order.
    pub order: OrderRef,
    /// Its business number (`SO1023`), once NetSuite's record was read.
    pub tran_id: Option<String>,
    /// The Clarus despatches and receipts of the order, as documents.
    pub parts: Vec<DocumentRef>,
    /// Clarus goods outs of the order seen before any despatch (progress milestones).
    pub goods_outs: Vec<String>,
}

impl OrderEntry {
    /// The order as the store names it (`SO 4411`).
    pub fn document(&self) -> String {
        self.order.to_string()
    }

    /// Every document name of the order: itself and its parts.
    pub fn documents(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.document()).chain(self.parts.iter().map(|p| p.to_string()))
    }
}

/// Orders and movements by every number they are known by.
#[derive(Debug, Clone, Default)]
pub struct DocumentIndex {
    orders: Vec<OrderEntry>,
    movements: Vec<DocumentRef>,
}

impl DocumentIndex {
    /// The index of the ledger's events (events that are not core events, such as re-plan
    /// notes, are skipped).
    pub fn from_events(events: &[RecordedEvent]) -> DocumentIndex {
        let mut index = DocumentIndex::default();
        for recorded in events {
            let Ok(event) = serde_json::from_value::<Event>(recorded.event.clone()) else {
                continue;
            };
            match event.payload {
                Payload::Order(order) => {
                    index.entry(&order.order).tran_id = Some(order.tran_id);
                }
                Payload::Despatch(d) => {
                    let part = DocumentRef::Despatch {
                        tenant: d.tenant,
                        goods_out: d.goods_out,
                        despatch: d.despatch,
                    };
                    index.add_part(&OrderRef::sales(d.order), part);
                }
                Payload::Receipt(r) => {
                    let part = DocumentRef::Receipt {
                        tenant: r.tenant,
                        goods_in: r.goods_in,
                        receipt: r.receipt,
                    };
                    index.add_part(&r.order, part);
                }
                Payload::StockMovement(m) => {
                    let doc = DocumentRef::Movement {
                        tenant: m.tenant,
                        movement: m.id,
                    };
                    if !index.movements.contains(&doc) {
                        index.movements.push(doc);
                    }
                }
                Payload::GoodsOutProgress(p) => {
                    let goods_out = p.goods_out.to_string();
                    let entry = index.entry(&OrderRef::sales(p.order));
                    if !entry.goods_outs.contains(&goods_out) {
                        entry.goods_outs.push(goods_out);
                    }
                }
                Payload::Item(_) | Payload::ClarusProduct(_) => {}
            }
        }
        index
    }

    fn entry(&mut self, order: &OrderRef) -> &mut OrderEntry {
        let at = match self.orders.iter().position(|o| &o.order == order) {
            Some(at) => at,
            None => {
                self.orders.push(OrderEntry {
                    order: order.clone(),
                    tran_id: None,
                    parts: Vec::new(),
                    goods_outs: Vec::new(),
                });
                self.orders.len() - 1
            }
        };
        &mut self.orders[at]
    }

    fn add_part(&mut self, order: &OrderRef, part: DocumentRef) {
        let entry = self.entry(order);
        if !entry.parts.contains(&part) {
            entry.parts.push(part);
        }
    }

    /// Text compared without case, spaces or dashes (`SO-1023` finds `SO1023`).
    pub fn normalise(text: &str) -> String {
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    }

    /// The orders `query` names: by business number, by NetSuite internal id (alone or as
    /// `SO 4411`), or by the Clarus id of one of their goods outs, goods-in receipts,
    /// despatches or receipts.
    pub fn find(&self, query: &str) -> Vec<&OrderEntry> {
        let q = Self::normalise(query);
        if q.is_empty() {
            return Vec::new();
        }
        self.orders
            .iter()
            .filter(|o| {
                o.tran_id
                    .as_deref()
                    .is_some_and(|t| Self::normalise(t) == q)
                    || Self::normalise(&o.order.id.to_string()) == q
                    || Self::normalise(&o.document()) == q
                    || o.parts.iter().any(|p| part_ids(p).contains(&q))
                    || o.goods_outs.iter().any(|g| Self::normalise(g) == q)
            })
            .collect()
    }

    /// The stock movements `query` names by their Clarus id.
    pub fn find_movements(&self, query: &str) -> Vec<&DocumentRef> {
        let q = Self::normalise(query);
        self.movements
            .iter()
            .filter(|m| part_ids(m).contains(&q))
            .collect()
    }

    /// Every document name `query` reaches (see [`DocumentIndex::find`]), movements included.
    pub fn documents(&self, query: &str) -> BTreeSet<String> {
        self.find(query)
            .into_iter()
            .flat_map(|o| o.documents())
            .chain(
                self.find_movements(query)
                    .into_iter()
                    .map(|m| m.to_string()),
            )
            .collect()
    }

    /// The business number of the order named `document` (`SO 4411`), or of the order a
    /// despatch or receipt named `document` belongs to.
    pub fn business_number(&self, document: &str) -> Option<&str> {
        self.orders
            .iter()
            .find(|o| o.documents().any(|d| d == document))
            .and_then(|o| o.tran_id.as_deref())
    }
}

/// The Clarus ids of a despatch, receipt or movement, normalised.
fn part_ids(part: &DocumentRef) -> Vec<String> {
    let ids = match part {
        DocumentRef::Despatch {
            goods_out,
            despatch,
            ..
        } => vec![goods_out.to_string(), despatch.to_string()],
        DocumentRef::Receipt {
            goods_in, receipt, ..
        } => vec![goods_in.to_string(), receipt.to_string()],
        DocumentRef::Movement { movement, .. } => vec![movement.to_string()],
        _ => Vec::new(),
    };
    ids.iter().map(|i| DocumentIndex::normalise(i)).collect()
}
