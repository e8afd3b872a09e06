//! Items (inventory, lot-numbered, serialized), the simply named records (locations, inventory
//! statuses) and lot or serial numbers.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{ItemKind, State, ref_id};
use crate::json::decimal_to_json;
use crate::netsuite::error::NsError;
use crate::netsuite::records::RecordType;

impl State {
    pub(crate) fn item_kind(&self, id: u64) -> Option<ItemKind> {
        [
            ItemKind::Inventory,
            ItemKind::LotNumbered,
            ItemKind::Serialized,
        ]
        .into_iter()
        .find(|kind| self.get(kind.record_type(), id).is_some())
    }

    pub(super) fn item_body(&self, id: u64) -> Option<&Map<String, Value>> {
        let kind = self.item_kind(id)?;
        self.get(kind.record_type(), id).map(|s| &s.body)
    }

    pub(super) fn create_item(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let item_id = body
            .get("itemId")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                NsError::user("Please enter value(s) for: Item Name/Number").at("itemId")
            })?
            .to_string();
        let taken = self
            .records
            .iter()
            .filter(|(t, _)| t.is_item())
            .any(|(_, m)| {
                m.values()
                    .any(|s| s.body.get("itemId").and_then(Value::as_str) == Some(item_id.as_str()))
            });
        if taken {
            return Err(NsError::user(format!(
                "The item name you have chosen ({item_id}) is already used. Go back, change the name and resubmit."
            ))
            .at("itemId"));
        }
        body.insert(
            "isLotItem".into(),
            json!(record == RecordType::LotNumberedInventoryItem),
        );
        body.insert(
            "isSerialItem".into(),
            json!(record == RecordType::SerializedInventoryItem),
        );
        body.entry("isInactive").or_insert(json!(false));
        Self::normalise_loose_refs(&mut body);
        Ok(self.stamp_new(record, body, None))
    }

    pub(super) fn create_named(
        &mut self,
        record: RecordType,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        if !body.get("name").is_some_and(Value::is_string) {
            return Err(NsError::user("Please enter value(s) for: Name").at("name"));
        }
        body.entry("isInactive").or_insert(json!(false));
        Self::normalise_loose_refs(&mut body);
        Ok(self.stamp_new(record, body, None))
    }

    pub(super) fn create_inventory_number(
        &mut self,
        mut body: Map<String, Value>,
    ) -> Result<u64, NsError> {
        let number = body
            .get("inventoryNumber")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                NsError::user("Please enter value(s) for: Number").at("inventoryNumber")
            })?
            .to_string();
        let item = self.resolve_ref(
            body.get("item").unwrap_or(&Value::Null),
            &[
                RecordType::LotNumberedInventoryItem,
                RecordType::SerializedInventoryItem,
            ],
            "item",
        )?;
        if self.find_inventory_number(item, &number).is_some() {
            return Err(NsError::user(format!(
                "The number {number} already exists for this item."
            ))
            .at("inventoryNumber"));
        }
        body.insert("item".into(), self.item_ref(item));
        Ok(self.stamp_new(RecordType::InventoryNumber, body, None))
    }

    pub(crate) fn find_inventory_number(&self, item: u64, number: &str) -> Option<u64> {
        self.records
            .get(&RecordType::InventoryNumber)?
            .iter()
            .find_map(|(id, s)| {
                (ref_id(s.body.get("item")) == Some(item)
                    && s.body.get("inventoryNumber").and_then(Value::as_str) == Some(number))
                .then_some(*id)
            })
    }

    pub(crate) fn item_display(&self, id: u64) -> Option<&Map<String, Value>> {
        self.item_body(id)
    }

    /// Sets an item's average cost (`averageCost`) in place, as NetSuite's costing does: the
    /// record's `lastModifiedDate` does not move. `false` when the item does not exist.
    pub(crate) fn set_average_cost(&mut self, item: u64, cost: Option<Decimal>) -> bool {
        let Some(kind) = self.item_kind(item) else {
            return false;
        };
        let Some(stored) = self.get_mut(kind.record_type(), item) else {
            return false;
        };
        match cost {
            Some(cost) => stored
                .body
                .insert("averageCost".into(), decimal_to_json(cost)),
            None => stored.body.remove("averageCost"),
        };
        true
    }
}
