//! A failed pick: the pickers found nothing to pick for a goods out (every line shorted at
//! allocation, or the stock was not where the system said). Clarus refuses to despatch an order
//! with nothing picked (`nothing_picked`); the warehouse closes it instead: every line is SHORT,
//! nothing is despatched, no shipment is made, and the order is COMPLETED (`goods_out.completed`
//! fires, with `dispatch_quantity` 0 on every line). The integration reads that as a failed pick:
//! no fulfilment, a short-despatch exception.

use jiff::Timestamp;

use super::state::{ClarusError, Event, GoodsOutStatus, State};

impl State {
    /// Completes an ALLOCATED or PICK order on which nothing was picked: allocations are
    /// released, every line is SHORT and the order is COMPLETED with nothing despatched.
    ///
    /// Errors: no such order (404); an order in another status (938 `goods_out_not_pickable`);
    /// an order with stock picked, which must be despatched instead (937 `goods_out_has_picks`).
    pub(crate) fn fail_pick(&mut self, id: u64) -> Result<Vec<Event>, ClarusError> {
        let pickable = [GoodsOutStatus::Allocated, GoodsOutStatus::Pick];
        let order = self.goods_out_in(id, &pickable, |status| {
            ClarusError::unprocessable(
                938,
                "goods_out_not_pickable",
                format!(
                    "Goods out {id} is {}; only ALLOCATED or PICK orders can fail their pick",
                    status.code()
                ),
            )
        })?;
        if order.lines.iter().any(|l| !l.picked().is_zero()) {
            return Err(ClarusError::unprocessable(
                937,
                "goods_out_has_picks",
                format!("Stock was picked for goods out {id}; despatch it instead"),
            ));
        }
        let o = self.goods_outs.get_mut(&id).expect("checked");
        for line in o.lines.iter_mut() {
            line.allocations.clear();
            line.short_status = "SHORT".into();
        }
        self.close_goods_out(id, GoodsOutStatus::Completed, Timestamp::now());
        Ok(self.goods_out_closed(id, "completed"))
    }
}
