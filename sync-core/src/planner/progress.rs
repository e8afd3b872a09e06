//! Warehouse progress of a goods out: recorded, never acted on.

use crate::order::OrderRef;
use crate::progress::GoodsOutProgress;
use crate::state::StateView;

/// Whether progress is recorded: only for a sales order this integration knows. A goods out
/// of an order it does not know was not sent by it (another sales channel of the tenant, or a
/// goods out keyed by hand), so there is no lifecycle to add to; its despatch, if it ever names
/// a NetSuite order, raises the exceptions that matter.
pub(super) fn is_recorded<V: StateView>(view: &V, progress: &GoodsOutProgress) -> bool {
    view.order(&OrderRef::sales(progress.order.clone()))
        .is_some()
}
