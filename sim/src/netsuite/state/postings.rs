//! Inventory postings that name no source order: adjustments, transfers and status changes.
//!
//! The three share one line loop; what differs (the header fields, the quantity field and its
//! rule, and the balances a line moves) is in [`Plan`].

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::inventory::{Assignment, Direction, LineAt, Movement};
use super::{Posting, State, item_types, required_lines};
use crate::json::{decimal_from_json, decimal_to_json};
use crate::netsuite::error::NsError;
use crate::netsuite::records::RecordType;

/// How the lines of one kind of posting move stock, from its header.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// An inventory adjustment: each line adds (positive `adjustQtyBy`) or removes stock at its
    /// `location`, by default the header's `adjLocation`.
    Adjustment { location: Option<u64> },
    /// An inventory transfer: each line moves stock from `location` to `transferLocation`, in
    /// the same status unless an assignment names `toInventoryStatus`.
    Transfer { from: u64, to: u64 },
    /// An inventory status change: each line moves stock at `location` from `previousStatus` to
    /// `revisedStatus`.
    StatusChange {
        location: u64,
        previous: u64,
        revised: u64,
    },
}

impl Plan {
    /// The line field that holds the quantity.
    fn quantity_field(self) -> &'static str {
        match self {
            Plan::StatusChange { .. } => "quantity",
            Plan::Adjustment { .. } | Plan::Transfer { .. } => "adjustQtyBy",
        }
    }

    /// A line's quantity: non-zero on an adjustment (its sign says in or out), positive else.
    fn quantity(self, line: &Map<String, Value>, path: &str) -> Result<Decimal, NsError> {
        let field = self.quantity_field();
        let (valid, message): (fn(&Decimal) -> bool, &str) = match self {
            Plan::Adjustment { .. } => (|q| !q.is_zero(), "Please enter a non-zero adjustQtyBy."),
            Plan::Transfer { .. } => (
                |q| *q > Decimal::ZERO,
                "Please enter a quantity to transfer greater than 0.",
            ),
            Plan::StatusChange { .. } => (
                |q| *q > Decimal::ZERO,
                "Please enter a quantity greater than 0.",
            ),
        };
        line.get(field)
            .and_then(decimal_from_json)
            .filter(valid)
            .ok_or_else(|| NsError::user(message).at(format!("{path}.{field}")))
    }

    /// Whether a line of this quantity brings stock in (only a positive adjustment does).
    fn direction(self, quantity: Decimal) -> Direction {
        match self {
            Plan::Adjustment { .. } if quantity > Decimal::ZERO => Direction::Inbound,
            _ => Direction::Outbound,
        }
    }

    /// The status stock is taken from when an assignment names none.
    fn default_status(self, account_default: u64) -> u64 {
        match self {
            Plan::StatusChange { previous, .. } => previous,
            Plan::Adjustment { .. } | Plan::Transfer { .. } => account_default,
        }
    }

    /// The balance movements of one assignment of a line of `item`; `location` is the line's
    /// own location (adjustments only).
    fn movements(
        self,
        item: u64,
        location: Option<u64>,
        quantity: Decimal,
        a: &Assignment,
    ) -> Vec<Movement> {
        let moved = |location: u64, status: u64, delta: Decimal| Movement {
            item,
            location,
            status,
            lot: a.lot.clone(),
            delta,
        };
        match self {
            Plan::Adjustment { .. } => {
                let delta = if quantity > Decimal::ZERO {
                    a.quantity
                } else {
                    -a.quantity
                };
                vec![moved(location.unwrap_or_default(), a.status, delta)]
            }
            Plan::Transfer { from, to } => vec![
                moved(from, a.status, -a.quantity),
                moved(to, a.to_status.unwrap_or(a.status), a.quantity),
            ],
            Plan::StatusChange {
                location,
                previous,
                revised,
            } => vec![
                moved(location, previous, -a.quantity),
                moved(location, revised, a.quantity),
            ],
        }
    }
}

impl State {
    /// Creates an inventory adjustment, transfer or status change and posts it to on-hand.
    pub(super) fn create_inventory_posting(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let lines = required_lines(&body, "inventory")?;
        let plan = self.posting_plan(record, &mut body)?;
        let mut movements = Vec::new();
        let mut movement_paths = Vec::new();
        let mut stored_lines = Vec::new();
        for (i, line) in lines.into_iter().enumerate() {
            let path = format!("inventory.items[{i}]");
            let Value::Object(mut line) = line else {
                return Err(NsError::content("Each line must be an object.").at(path));
            };
            let item = self.resolve_ref(
                line.get("item").unwrap_or(&Value::Null),
                &item_types(),
                &format!("{path}.item"),
            )?;
            let location = match plan {
                Plan::Adjustment { location } => {
                    Some(self.adjustment_location(&line, location, &path)?)
                }
                Plan::Transfer { .. } | Plan::StatusChange { .. } => None,
            };
            let qty = plan.quantity(&line, &path)?;
            let direction = plan.direction(qty);
            let assignments = self.assignments(
                &line,
                item,
                qty,
                direction,
                plan.default_status(self.default_status),
                LineAt {
                    path: &path,
                    number: i as u64 + 1,
                },
            )?;
            for a in &assignments {
                for movement in plan.movements(item, location, qty, a) {
                    movements.push(movement);
                    movement_paths.push(path.clone());
                }
            }
            self.store_detail(&mut line, &assignments, direction);
            line.insert("line".into(), json!(i + 1));
            line.insert("item".into(), self.item_ref(item));
            if let Some(location) = location {
                self.set_ref(&mut line, "location", RecordType::Location, location);
            }
            line.insert(plan.quantity_field().into(), decimal_to_json(qty));
            stored_lines.push(Value::Object(line));
        }
        self.check_movements(&movements, |i| movement_paths[i].clone())?;
        body.insert("inventory".into(), json!({"items": stored_lines}));
        self.finish_transaction(record, &mut body);
        let balances = self.realise(movements);
        self.apply_balances(&balances, Decimal::ONE);
        let posting = Posting {
            balances,
            order_lines: Vec::new(),
            inventory_posted: true,
        };
        Ok(self.stamp_new(record, body, Some(posting)))
    }

    /// Checks a posting's header and writes its references back resolved.
    fn posting_plan(
        &self,
        record: RecordType,
        body: &mut Map<String, Value>,
    ) -> Result<Plan, NsError> {
        match record {
            RecordType::InventoryAdjustment => {
                if body.get("account").is_none_or(Value::is_null) {
                    return Err(
                        NsError::user("Please enter value(s) for: Adjustment Account")
                            .at("account"),
                    );
                }
                let location = self.header_ref(body, "adjLocation", RecordType::Location)?;
                if let Some(id) = location {
                    self.set_ref(body, "adjLocation", RecordType::Location, id);
                }
                Ok(Plan::Adjustment { location })
            }
            RecordType::InventoryTransfer => {
                let from = self.required_header_ref(
                    body,
                    "location",
                    RecordType::Location,
                    "From Location",
                )?;
                let to = self.required_header_ref(
                    body,
                    "transferLocation",
                    RecordType::Location,
                    "To Location",
                )?;
                if from == to {
                    return Err(NsError::user("The from and to locations must differ.")
                        .at("transferLocation"));
                }
                self.set_ref(body, "location", RecordType::Location, from);
                self.set_ref(body, "transferLocation", RecordType::Location, to);
                Ok(Plan::Transfer { from, to })
            }
            RecordType::InventoryStatusChange => {
                let location =
                    self.required_header_ref(body, "location", RecordType::Location, "Location")?;
                let status_of = |field: &str| {
                    self.required_header_ref(body, field, RecordType::InventoryStatus, field)
                };
                let previous = status_of("previousStatus")?;
                let revised = status_of("revisedStatus")?;
                self.set_ref(body, "location", RecordType::Location, location);
                self.set_ref(
                    body,
                    "previousStatus",
                    RecordType::InventoryStatus,
                    previous,
                );
                self.set_ref(body, "revisedStatus", RecordType::InventoryStatus, revised);
                Ok(Plan::StatusChange {
                    location,
                    previous,
                    revised,
                })
            }
            _ => Err(NsError::user(format!(
                "Creating {record} records is not supported."
            ))),
        }
    }

    /// The record a header field names, if it names one.
    fn header_ref(
        &self,
        body: &Map<String, Value>,
        field: &str,
        record: RecordType,
    ) -> Result<Option<u64>, NsError> {
        body.get(field)
            .filter(|v| !v.is_null())
            .map(|v| self.resolve_ref(v, &[record], field))
            .transpose()
    }

    /// The record a header field names, refused (as "Please enter value(s) for: `label`")
    /// when it names none.
    fn required_header_ref(
        &self,
        body: &Map<String, Value>,
        field: &str,
        record: RecordType,
        label: &str,
    ) -> Result<u64, NsError> {
        self.header_ref(body, field, record)?.ok_or_else(|| {
            NsError::user(format!("Please enter value(s) for: {label}")).at(field.to_string())
        })
    }

    /// An adjustment line's location: its own, or else the header's `adjLocation`.
    fn adjustment_location(
        &self,
        line: &Map<String, Value>,
        header: Option<u64>,
        path: &str,
    ) -> Result<u64, NsError> {
        match line.get("location").filter(|v| !v.is_null()) {
            Some(v) => self.resolve_ref(v, &[RecordType::Location], &format!("{path}.location")),
            None => header.ok_or_else(|| {
                NsError::user("Please enter value(s) for: Location").at(format!("{path}.location"))
            }),
        }
    }
}
