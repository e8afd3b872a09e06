//! Pick lists: one per goods out being processed, moved along as it is picked and despatched.

use serde_json::{Value, json};

use super::{Event, PickList, State, id_attr, now};

impl State {
    /// The open pick list (not completed or cancelled) covering a goods out.
    pub(crate) fn pick_list_of(&self, goods_out: u64) -> Option<u64> {
        self.open_pick_lists.get(&goods_out).copied()
    }

    /// Opens a pick list for a goods out: its `created` event.
    pub(super) fn open_pick_list(&mut self, goods_out: u64) -> Event {
        self.next_pick_list += 1;
        let id = self.next_pick_list;
        let attrs = self
            .goods_outs
            .get(&goods_out)
            .map(|o| o.attrs.clone())
            .unwrap_or_default();
        let t = now();
        self.open_pick_lists.insert(goods_out, id);
        self.pick_lists.insert(
            id,
            PickList {
                goods_outs: vec![goods_out],
                account: id_attr(&attrs, "account_id").unwrap_or(1),
                warehouse: id_attr(&attrs, "warehouse_id").unwrap_or(1),
                status: "created",
                created: t,
                updated: t,
            },
        );
        Event {
            resource: "goods_out_pick_list",
            event: "created",
            record: self.pick_list_json(id),
        }
    }

    /// Moves a pick list to `status` (`picked`, `completed`, `cancelled`): the event of that name.
    pub(crate) fn move_pick_list(&mut self, id: u64, status: &'static str) -> Event {
        if let Some(list) = self.pick_lists.get_mut(&id) {
            list.status = status;
            list.updated = now();
            if matches!(status, "completed" | "cancelled") {
                for goods_out in &list.goods_outs {
                    if self.open_pick_lists.get(goods_out) == Some(&id) {
                        self.open_pick_lists.remove(goods_out);
                    }
                }
            }
        }
        Event {
            resource: "goods_out_pick_list",
            event: status,
            record: self.pick_list_json(id),
        }
    }

    /// A pick list as its webhooks carry it: its attributes with the goods outs it covers.
    pub(crate) fn pick_list_json(&self, id: u64) -> Value {
        let Some(list) = self.pick_lists.get(&id) else {
            return Value::Null;
        };
        json!({
            "id": id,
            "reference": format!("PL-{id}"),
            "status": list.status,
            "account_id": list.account,
            "warehouse_id": list.warehouse,
            "goods_out_ids": list.goods_outs,
            "created_at": list.created.to_string(),
            "updated_at": list.updated.to_string(),
        })
    }
}
