//! The rules: turn one event (and what is already known) into actions and state changes.
//!
//! Rules shared by every flow:
//! - an event whose source identity was planned before plans nothing;
//! - each action has a deterministic key, and an action whose key was planned before is not
//!   planned again (so a replay, or the same despatch seen through another event, is a no-op);
//! - an event carrying an older revision of a document than the one known changes nothing;
//! - a problem a person must fix raises an exception (once, by key), and when the problem goes
//!   away on a later plan the exception is resolved;
//! - warehouse progress of a goods out (acknowledged, picking) plans no action; it is recorded
//!   (marked seen) for a sales order this integration knows, and ignored otherwise;
//! - when the problem is retryable (a missing mapping, an order not known yet) the plan is
//!   [`blocked`](Plan::blocked): the event is not marked seen, so planning it again after the fix
//!   does the work. Held orders are re-planned by [`plan_order`] or when their item arrives.

mod despatch;
mod items;
mod movement;
mod orders;
mod progress;
mod receipt;

pub use despatch::despatch_key;
pub use movement::movement_key;
pub use orders::{cancel_key, release_key};
pub use receipt::receipt_key;

use crate::action::{Action, PlannedAction};
use crate::despatch::LotQuantity;
use crate::document::DocumentRef;
use crate::event::{Event, Payload};
use crate::exception::{Exception, ExceptionKind};
use crate::ids::SerialNumber;
use crate::item::Tracking;
use crate::key::IdempotencyKey;
use crate::mapping::Mappings;
use crate::order::OrderRef;
use crate::state::{MemoryState, StateChange, StateView};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What must happen because of one event: actions to run and changes to record, together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Actions, in the order they must run within each document.
    pub actions: Vec<PlannedAction>,
    /// Changes to what is known.
    pub changes: Vec<StateChange>,
    /// The event could not be planned completely because of a retryable problem (see the raised
    /// exceptions); it is not marked seen, and planning it again after the fix finishes it.
    pub blocked: bool,
}

impl Plan {
    /// Nothing to do and nothing to record.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.changes.is_empty()
    }
}

/// Plans one event against what `view` knows, with the mapping tables, at time `now`
/// (stamped on raised exceptions). Pure: the same inputs give the same plan.
pub fn plan(view: &impl StateView, mappings: &Mappings, event: &Event, now: Timestamp) -> Plan {
    if view.is_event_seen(&event.source) {
        return Plan::default();
    }
    let mut cx = Context::new(view, mappings, now);
    match &event.payload {
        Payload::Item(item) => items::plan_item(&mut cx, &event.source, item),
        Payload::ClarusProduct(product) => items::plan_product(&mut cx, product),
        Payload::Order(order) => orders::plan_order_event(&mut cx, &event.source, order),
        Payload::Despatch(despatch) => despatch::plan_despatch(&mut cx, despatch),
        Payload::Receipt(receipt) => receipt::plan_receipt(&mut cx, receipt),
        Payload::StockMovement(movement) => movement::plan_movement(&mut cx, movement),
        Payload::GoodsOutProgress(progress) => {
            if !progress::is_recorded(view, progress) {
                return Plan::default();
            }
        }
    }
    cx.finish(Some(event))
}

/// Plans a known order again without a new event: releases it to the warehouse if it is open
/// and nothing holds it, or cancels its goods out if it is cancelled or closed. The engine calls
/// this when a person retries an exception on an order (for example after adding a mapping).
pub fn plan_order(
    view: &impl StateView,
    mappings: &Mappings,
    order: &OrderRef,
    now: Timestamp,
) -> Plan {
    let mut cx = Context::new(view, mappings, now);
    if let Some(state) = view.order(order)
        && orders::evaluate(&mut cx, &state.order, Some(state), None)
    {
        cx.block();
    }
    cx.finish(None)
}

/// The planner's working state for one plan.
pub(crate) struct Context<'a, V: StateView> {
    pub(crate) view: &'a V,
    pub(crate) mappings: &'a Mappings,
    pub(crate) now: Timestamp,
    plan: Plan,
}

impl<'a, V: StateView> Context<'a, V> {
    fn new(view: &'a V, mappings: &'a Mappings, now: Timestamp) -> Self {
        Self {
            view,
            mappings,
            now,
            plan: Plan::default(),
        }
    }

    fn finish(mut self, event: Option<&Event>) -> Plan {
        if let Some(event) = event
            && !self.plan.blocked
        {
            self.plan
                .changes
                .push(StateChange::EventSeen(event.source.clone()));
        }
        self.plan
    }

    /// Plans an action unless its key was planned before (here or earlier). Returns whether it
    /// was planned now.
    pub(crate) fn act(
        &mut self,
        key: IdempotencyKey,
        document: DocumentRef,
        action: Action,
    ) -> bool {
        if self.view.is_planned(&key) || self.plan.actions.iter().any(|a| a.key == key) {
            return false;
        }
        self.plan.actions.push(PlannedAction {
            key,
            document,
            action,
        });
        true
    }

    /// Records a change.
    pub(crate) fn change(&mut self, change: StateChange) {
        self.plan.changes.push(change);
    }

    /// Marks the plan blocked by a retryable problem.
    pub(crate) fn block(&mut self) {
        self.plan.blocked = true;
    }

    /// Raises an exception unless it is already open.
    pub(crate) fn raise(
        &mut self,
        kind: ExceptionKind,
        document: &DocumentRef,
        detail: &[&str],
        message: impl Into<String>,
    ) {
        let exception = Exception::new(kind, document.clone(), detail, message, self.now);
        if self.view.is_exception_open(&exception.key)
            || self.plan.actions.iter().any(|a| a.key == exception.key)
        {
            return;
        }
        self.plan.actions.push(PlannedAction {
            key: exception.key.clone(),
            document: document.clone(),
            action: Action::RaiseException(exception),
        });
    }

    /// Resolves an exception if it is open.
    pub(crate) fn resolve(
        &mut self,
        kind: ExceptionKind,
        document: &DocumentRef,
        detail: &[&str],
        note: &str,
    ) {
        if !self.view.has_open_exceptions(document) {
            return;
        }
        let exception = Exception::key_for(kind, document, detail);
        if !self.view.is_exception_open(&exception) {
            return;
        }
        let key = IdempotencyKey::build("RES", &[exception.as_str()]);
        self.plan.actions.push(PlannedAction {
            key,
            document: document.clone(),
            action: Action::ResolveException {
                exception,
                note: note.to_owned(),
            },
        });
    }
}

/// Checks that lots or serials account for `quantity` of an item tracked by `tracking`.
/// Returns a description of the problem, if any.
pub(crate) fn tracking_problem(
    tracking: Tracking,
    quantity: Decimal,
    lots: &[LotQuantity],
    serials: &[SerialNumber],
) -> Option<String> {
    match tracking {
        Tracking::None => None,
        Tracking::Lot => {
            if lots.is_empty() {
                return Some("lot-tracked item without lot numbers".to_owned());
            }
            if lots.iter().any(|l| l.quantity <= Decimal::ZERO) {
                return Some("a lot quantity is not positive".to_owned());
            }
            let total: Decimal = lots.iter().map(|l| l.quantity).sum();
            (total != quantity).then(|| format!("lot quantities add up to {total}, not {quantity}"))
        }
        Tracking::Serial => {
            if serials.is_empty() {
                return Some("serial-tracked item without serial numbers".to_owned());
            }
            if Decimal::from(serials.len()) != quantity {
                return Some(format!(
                    "{} serial numbers for a quantity of {quantity}",
                    serials.len()
                ));
            }
            let mut sorted: Vec<&SerialNumber> = serials.iter().collect();
            sorted.sort();
            sorted.dedup();
            (sorted.len() != serials.len()).then(|| "a serial number is repeated".to_owned())
        }
    }
}

impl MemoryState {
    /// Records a plan: its actions (as planned, exceptions opened or resolved) and its changes.
    pub fn apply(&mut self, plan: &Plan) {
        for planned in &plan.actions {
            self.record_planned(planned.key.clone());
            match &planned.action {
                Action::RaiseException(exception) => self.open_exception(exception.clone()),
                Action::ResolveException { exception, .. } => {
                    self.resolve_exception(exception);
                }
                _ => {}
            }
        }
        for change in &plan.changes {
            self.apply_change(change);
        }
    }
}
