//! References between records: resolving `{"id": ...}` / `{"externalId": ...}` in request
//! bodies, and writing them back as `{"id", "refName"}`.

use serde_json::{Map, Value, json};

use super::{ItemKind, State};
use crate::json::id_from_json;
use crate::netsuite::error::NsError;
use crate::netsuite::records::RecordType;

impl State {
    /// Resolves a reference (`{"id":"12"}` or `{"externalId":"X"}`) to an id of one of `types`.
    pub(super) fn resolve_ref(
        &self,
        value: &Value,
        types: &[RecordType],
        path: &str,
    ) -> Result<u64, NsError> {
        let invalid = || {
            NsError::field(format!(
                "Invalid Field Value {value} for the following field: {}",
                path.rsplit('.').next().unwrap_or(path)
            ))
            .at(path.to_string())
        };
        let Some(object) = value.as_object() else {
            return Err(invalid());
        };
        if let Some(id) = object.get("id") {
            let id = id_from_json(id).ok_or_else(invalid)?;
            if types.iter().any(|t| self.get(*t, id).is_some()) {
                return Ok(id);
            }
            return Err(invalid());
        }
        if let Some(ext) = object.get("externalId").and_then(Value::as_str) {
            return types
                .iter()
                .find_map(|t| self.find_external(*t, ext))
                .ok_or_else(invalid);
        }
        Err(invalid())
    }

    pub(super) fn ref_name(&self, record: RecordType, id: u64) -> Value {
        let Some(stored) = self.get(record, id) else {
            return Value::Null;
        };
        let field = match record {
            r if r.is_item() => "itemId",
            RecordType::InventoryNumber => "inventoryNumber",
            r if r.is_transaction() => "tranId",
            _ => "name",
        };
        stored.body.get(field).cloned().unwrap_or(Value::Null)
    }

    pub(super) fn item_ref(&self, id: u64) -> Value {
        let kind = self.item_kind(id).unwrap_or(ItemKind::Inventory);
        json!({"id": id.to_string(), "refName": self.ref_name(kind.record_type(), id)})
    }

    pub(super) fn simple_ref(&self, record: RecordType, id: u64) -> Value {
        json!({"id": id.to_string(), "refName": self.ref_name(record, id)})
    }

    /// Writes a resolved reference (`{"id", "refName"}`) into `map` under `field`.
    pub(super) fn set_ref(
        &self,
        map: &mut Map<String, Value>,
        field: &str,
        record: RecordType,
        id: u64,
    ) {
        map.insert(field.into(), self.simple_ref(record, id));
    }

    /// Normalises references that are not resolved (entity, account, ...): ids become strings.
    pub(super) fn normalise_loose_refs(body: &mut Map<String, Value>) {
        for value in body.values_mut() {
            if let Value::Object(object) = value {
                if object.contains_key("items") {
                    continue;
                }
                if let Some(id) = object.get("id").and_then(id_from_json) {
                    object.insert("id".into(), Value::String(id.to_string()));
                }
            }
        }
    }
}
