//! Records and sublists as `GET` answers them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{State, ref_id, sublist_items};
use crate::json::decimal_to_json;
use crate::netsuite::records::RecordType;

impl State {
    /// The JSON answered by `GET`, with `links`, timestamps and (unless expanded) sublists as links.
    pub(crate) fn render(
        &self,
        record: RecordType,
        id: u64,
        base: &str,
        expand: bool,
        fields: Option<&[String]>,
    ) -> Option<Value> {
        let stored = self.get(record, id)?;
        let self_link = format!("{base}/record/v1/{record}/{id}");
        let mut out = Map::new();
        out.insert("links".into(), json!([{"rel": "self", "href": self_link}]));
        let mut body = stored.body.clone();
        if record.is_item() {
            body.insert(
                "locations".into(),
                json!({"items": self.item_locations(id)}),
            );
        }
        for (key, value) in &body {
            if fields.is_some_and(|f| !f.iter().any(|x| x == key)) {
                continue;
            }
            if value.get("items").is_some_and(Value::is_array) && !expand {
                out.insert(
                    key.clone(),
                    json!({"links": [{"rel": "self", "href": format!("{self_link}/{key}")}]}),
                );
            } else {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert("id".into(), json!(id.to_string()));
        if record.is_transaction() || record.is_item() {
            out.insert(
                "lastModifiedDate".into(),
                json!(stored.last_modified.to_string()),
            );
            out.insert("createdDate".into(), json!(stored.created.to_string()));
        }
        if record == RecordType::InventoryNumber {
            let on_hand = self.lot_on_hand(ref_id(stored.body.get("item")).unwrap_or_default(), id);
            out.insert("quantityOnHand".into(), decimal_to_json(on_hand));
            out.insert("quantityAvailable".into(), decimal_to_json(on_hand));
        }
        Some(Value::Object(out))
    }

    /// An item's per-location quantities (its `locations` sublist), all statuses together.
    pub(super) fn item_locations(&self, item: u64) -> Vec<Value> {
        let mut per_location: BTreeMap<u64, Decimal> = BTreeMap::new();
        for (key, quantity) in self.balances.iter().filter(|(k, _)| k.item == item) {
            *per_location.entry(key.location).or_default() += *quantity;
        }
        per_location
            .into_iter()
            .map(|(location, quantity)| {
                json!({
                    "location": self.simple_ref(RecordType::Location, location),
                    "locationId": location,
                    "quantityOnHand": decimal_to_json(quantity),
                    "quantityAvailable": decimal_to_json(quantity),
                    "quantityCommitted": 0,
                    "quantityBackOrdered": 0,
                })
            })
            .collect()
    }

    /// The lines of a sublist, for `GET /{type}/{id}/{sublist}`.
    pub(crate) fn sublist(&self, record: RecordType, id: u64, name: &str) -> Option<Vec<Value>> {
        let stored = self.get(record, id)?;
        if record.is_item() && name == "locations" {
            return Some(self.item_locations(id));
        }
        sublist_items(&stored.body, name).cloned()
    }
}
