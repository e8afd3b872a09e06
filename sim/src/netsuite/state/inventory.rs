//! Inventory detail and balances: the lot, serial and status assignments of a line, the balance
//! movements they plan, the check that no balance goes below zero, and applying them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{BalanceKey, ItemKind, State, ref_id};
use crate::json::{decimal_from_json, decimal_to_json};
use crate::netsuite::error::NsError;
use crate::netsuite::records::RecordType;

/// Whether a line brings stock in or takes it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Inbound,
    Outbound,
}

/// A lot or serial number, existing or to be created when the posting is applied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum LotRef {
    Existing(u64),
    New(String),
}

/// Where a line sits in the request body, for error paths and messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct LineAt<'a> {
    pub(super) path: &'a str,
    pub(super) number: u64,
}

/// One inventory assignment of a line: a quantity of a lot (if any) in a status.
#[derive(Debug, Clone)]
pub(super) struct Assignment {
    pub(super) lot: Option<LotRef>,
    pub(super) status: u64,
    /// The status it moves to (`toInventoryStatus`), on a transfer.
    pub(super) to_status: Option<u64>,
    pub(super) quantity: Decimal,
}

/// A planned balance movement (lot possibly not created yet).
#[derive(Debug, Clone)]
pub(super) struct Movement {
    pub(super) item: u64,
    pub(super) location: u64,
    pub(super) status: u64,
    pub(super) lot: Option<LotRef>,
    pub(super) delta: Decimal,
}

impl Movement {
    /// The balance this movement changes, once its lot is `lot`.
    fn key(&self, lot: Option<u64>) -> BalanceKey {
        BalanceKey {
            item: self.item,
            location: self.location,
            status: self.status,
            inventory_number: lot,
        }
    }
}

/// The movements that apply (`sign` one) or reverse (`sign` minus one) recorded balance deltas.
pub(super) fn movements_of(balances: &[(BalanceKey, Decimal)], sign: Decimal) -> Vec<Movement> {
    balances
        .iter()
        .map(|(k, d)| Movement {
            item: k.item,
            location: k.location,
            status: k.status,
            lot: k.inventory_number.map(LotRef::Existing),
            delta: *d * sign,
        })
        .collect()
}

impl State {
    /// Parses a line's `inventoryDetail.inventoryAssignment.items`, checking lot/serial rules.
    pub(super) fn assignments(
        &self,
        line: &Map<String, Value>,
        item: u64,
        quantity: Decimal,
        direction: Direction,
        default_status: u64,
        at: LineAt<'_>,
    ) -> Result<Vec<Assignment>, NsError> {
        let LineAt {
            path,
            number: line_number,
        } = at;
        let kind = self.item_kind(item).unwrap_or(ItemKind::Inventory);
        let detail = line
            .get("inventoryDetail")
            .and_then(|d| d.get("inventoryAssignment"))
            .and_then(|a| a.get("items"))
            .and_then(Value::as_array);
        let Some(detail) = detail.filter(|d| !d.is_empty()) else {
            if kind != ItemKind::Inventory {
                return Err(NsError::user(format!(
                    "Please configure the inventory detail in line {line_number} of the item list."
                ))
                .at(format!("{path}.inventoryDetail")));
            }
            // Like the detail lines below, the assignment carries the size of the change; the
            // direction gives its sign (a negative `adjustQtyBy` removes stock).
            return Ok(vec![Assignment {
                lot: None,
                status: default_status,
                to_status: None,
                quantity: quantity.abs(),
            }]);
        };
        let mut out = Vec::new();
        let mut total = Decimal::ZERO;
        for (i, a) in detail.iter().enumerate() {
            let apath = format!("{path}.inventoryDetail.inventoryAssignment.items[{i}]");
            let qty = a
                .get("quantity")
                .and_then(decimal_from_json)
                .map(|q| q.abs())
                .filter(|q| !q.is_zero())
                .ok_or_else(|| {
                    NsError::user("Please enter a quantity for each inventory assignment.")
                        .at(format!("{apath}.quantity"))
                })?;
            total += qty;
            let status_at = |field: &str| {
                a.get(field)
                    .filter(|v| !v.is_null())
                    .map(|s| {
                        self.resolve_ref(
                            s,
                            &[RecordType::InventoryStatus],
                            &format!("{apath}.{field}"),
                        )
                    })
                    .transpose()
            };
            let status = status_at("inventoryStatus")?.unwrap_or(default_status);
            let to_status = status_at("toInventoryStatus")?;
            let issue = a.get("issueInventoryNumber").filter(|v| !v.is_null());
            let receipt = a.get("receiptInventoryNumber").filter(|v| !v.is_null());
            if issue.is_some() && receipt.is_some() {
                return Err(NsError::user(
                    "Send either issueInventoryNumber or receiptInventoryNumber, not both.",
                )
                .at(apath));
            }
            let lot = match (kind, direction) {
                (ItemKind::Inventory, _) => {
                    if issue.is_some() || receipt.is_some() {
                        return Err(NsError::user("The item is not lot numbered or serialized; remove the inventory number.").at(apath));
                    }
                    None
                }
                (_, Direction::Inbound) => {
                    let number = receipt
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                        .ok_or_else(|| {
                            NsError::user("Please enter a value for receiptInventoryNumber.")
                                .at(format!("{apath}.receiptInventoryNumber"))
                        })?;
                    if kind == ItemKind::Serialized {
                        if qty != Decimal::ONE {
                            return Err(NsError::user(
                                "The quantity of a serial number must be 1.",
                            )
                            .at(format!("{apath}.quantity")));
                        }
                        if let Some(existing) = self.find_inventory_number(item, number)
                            && self.lot_on_hand(item, existing) > Decimal::ZERO
                        {
                            return Err(NsError::user(format!(
                                "The serial number {number} is already in stock."
                            ))
                            .at(format!("{apath}.receiptInventoryNumber")));
                        }
                    }
                    Some(match self.find_inventory_number(item, number) {
                        Some(id) => LotRef::Existing(id),
                        None => LotRef::New(number.to_string()),
                    })
                }
                (_, Direction::Outbound) => {
                    let number = issue.ok_or_else(|| {
                        NsError::user("Please enter a value for issueInventoryNumber.")
                            .at(format!("{apath}.issueInventoryNumber"))
                    })?;
                    let id = self.resolve_ref(
                        number,
                        &[RecordType::InventoryNumber],
                        &format!("{apath}.issueInventoryNumber"),
                    )?;
                    if ref_id(
                        self.get(RecordType::InventoryNumber, id)
                            .and_then(|s| s.body.get("item")),
                    ) != Some(item)
                    {
                        return Err(NsError::field(
                            "The inventory number belongs to another item.",
                        )
                        .at(format!("{apath}.issueInventoryNumber")));
                    }
                    if kind == ItemKind::Serialized && qty != Decimal::ONE {
                        return Err(NsError::user("The quantity of a serial number must be 1.")
                            .at(format!("{apath}.quantity")));
                    }
                    Some(LotRef::Existing(id))
                }
            };
            out.push(Assignment {
                lot,
                status,
                to_status,
                quantity: qty,
            });
        }
        if total != quantity.abs() {
            return Err(NsError::user(format!(
                "The total inventory detail quantity must be {}.",
                quantity.abs().normalize()
            ))
            .at(format!("{path}.inventoryDetail")));
        }
        Ok(out)
    }

    pub(super) fn lot_on_hand(&self, item: u64, lot: u64) -> Decimal {
        self.balances
            .iter()
            .filter(|(k, _)| k.item == item && k.inventory_number == Some(lot))
            .map(|(_, q)| *q)
            .sum()
    }

    /// Normalises the inventory detail stored on a line (references as `{id, refName}`).
    pub(super) fn store_detail(
        &self,
        line: &mut Map<String, Value>,
        assignments: &[Assignment],
        direction: Direction,
    ) {
        if line.get("inventoryDetail").is_none() {
            return;
        }
        let items: Vec<Value> = assignments
            .iter()
            .map(|a| {
                let mut out = Map::new();
                out.insert("quantity".into(), decimal_to_json(a.quantity));
                self.set_ref(
                    &mut out,
                    "inventoryStatus",
                    RecordType::InventoryStatus,
                    a.status,
                );
                if let Some(to) = a.to_status {
                    self.set_ref(
                        &mut out,
                        "toInventoryStatus",
                        RecordType::InventoryStatus,
                        to,
                    );
                }
                match (&a.lot, direction) {
                    (Some(LotRef::Existing(id)), Direction::Outbound) => {
                        self.set_ref(
                            &mut out,
                            "issueInventoryNumber",
                            RecordType::InventoryNumber,
                            *id,
                        );
                    }
                    (Some(LotRef::Existing(id)), Direction::Inbound) => {
                        out.insert(
                            "receiptInventoryNumber".into(),
                            self.ref_name(RecordType::InventoryNumber, *id),
                        );
                    }
                    (Some(LotRef::New(number)), _) => {
                        out.insert("receiptInventoryNumber".into(), json!(number));
                    }
                    (None, _) => {}
                }
                Value::Object(out)
            })
            .collect();
        line.insert(
            "inventoryDetail".into(),
            json!({"inventoryAssignment": {"items": items}}),
        );
    }

    /// Checks that applying `movements` keeps every balance at or above zero.
    pub(super) fn check_movements(
        &self,
        movements: &[Movement],
        path_of: impl Fn(usize) -> String,
    ) -> Result<(), NsError> {
        if self.allow_negative_inventory {
            return Ok(());
        }
        let mut after: BTreeMap<(u64, u64, u64, Option<LotRef>), Decimal> = BTreeMap::new();
        for (i, m) in movements.iter().enumerate() {
            let key = (m.item, m.location, m.status, m.lot.clone());
            let current = match &m.lot {
                Some(LotRef::New(_)) => Decimal::ZERO,
                Some(LotRef::Existing(id)) => self.balance(m.key(Some(*id))),
                None => self.balance(m.key(None)),
            };
            let entry = after.entry(key).or_insert(current);
            *entry += m.delta;
            if *entry < Decimal::ZERO {
                return Err(NsError::user(format!(
                    "Insufficient quantity on hand: item {} at location {} in status {} would go to {}.",
                    self.ref_name(self.item_kind(m.item).unwrap_or(ItemKind::Inventory).record_type(), m.item).as_str().unwrap_or(""),
                    m.location,
                    m.status,
                    entry.normalize()
                ))
                .at(path_of(i)));
            }
        }
        Ok(())
    }

    pub(crate) fn balance(&self, key: BalanceKey) -> Decimal {
        self.balances.get(&key).copied().unwrap_or_default()
    }

    /// Creates lots that do not exist yet and turns movements into balance deltas.
    pub(super) fn realise(&mut self, movements: Vec<Movement>) -> Vec<(BalanceKey, Decimal)> {
        let mut out = Vec::new();
        for m in movements {
            let lot = match &m.lot {
                None => None,
                Some(LotRef::Existing(id)) => Some(*id),
                Some(LotRef::New(number)) => {
                    Some(match self.find_inventory_number(m.item, number) {
                        Some(id) => id,
                        None => {
                            let mut body = Map::new();
                            body.insert("inventoryNumber".into(), json!(number));
                            body.insert("item".into(), self.item_ref(m.item));
                            self.stamp_new(RecordType::InventoryNumber, body, None)
                        }
                    })
                }
            };
            out.push((m.key(lot), m.delta));
        }
        out
    }

    pub(super) fn apply_balances(&mut self, deltas: &[(BalanceKey, Decimal)], sign: Decimal) {
        for (key, delta) in deltas {
            let entry = self.balances.entry(*key).or_default();
            *entry += *delta * sign;
            if entry.is_zero() {
                self.balances.remove(key);
            }
        }
    }
}
