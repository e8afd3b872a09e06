//! Changing and removing records: `PATCH` (header merge, keyed order-line merge, shipping a
//! fulfilment), upsert by external id, and `DELETE` (reversing a posting's effects).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::inventory::movements_of;
use super::transforms::{set_ship_status, ship_status_code};
use super::{State, ext_family, ref_code, ref_id, sublist_items};
use crate::json::now_seconds;
use crate::netsuite::error::NsError;
use crate::netsuite::records::RecordType;
use crate::netsuite::schema;

impl State {
    /// `PATCH`: merges header fields; keyed merge of order lines (`replace` lists sublists to replace).
    pub(crate) fn update(
        &mut self,
        record: RecordType,
        id: u64,
        patch: Value,
        replace: &[String],
    ) -> Result<(), NsError> {
        let Value::Object(mut patch) = patch else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        patch.remove("id");
        schema::check(record, &patch)?;
        let stored = self
            .get(record, id)
            .ok_or_else(|| NsError::not_found(format!("{record} {id} does not exist.")))?;
        match patch.get("externalId") {
            None | Some(Value::Null) => {}
            Some(Value::String(ext))
                if stored.body.get("externalId").and_then(Value::as_str) == Some(ext.as_str()) => {}
            Some(_) => self.check_external_id_free(record, &patch)?,
        }
        let mut body = stored.body.clone();
        let posting = stored.posting.clone();
        if record.is_transaction()
            && !record.is_order()
            && let Some(sublist) = record.line_sublist()
            && patch.contains_key(sublist)
        {
            return Err(NsError::user(format!(
                        "The simulator does not support editing the {sublist} lines of a posted {record}; delete and recreate it."
                    ))
                    .at(sublist));
        }
        let mut ship_now = false;
        if record == RecordType::ItemFulfillment
            && let Some(code) = ref_code(&patch, "shipStatus")
        {
            let code = ship_status_code(code)?;
            match (ref_code(&body, "shipStatus").unwrap_or("C"), code) {
                ("C", c) if c != "C" => {
                    return Err(NsError::user(
                        "A shipped fulfilment cannot go back to picked or packed.",
                    )
                    .at("shipStatus"));
                }
                (w, "C") if w != "C" => ship_now = true,
                _ => {}
            }
            set_ship_status(&mut patch, code);
        }
        if record.is_order() {
            self.patch_order(record, &mut body, &mut patch, replace)?;
        }
        for field in ["location", "adjLocation", "transferLocation"] {
            if let Some(v) = patch.get(field).filter(|v| !v.is_null()).cloned() {
                let loc = self.resolve_ref(&v, &[RecordType::Location], field)?;
                patch.insert(field.into(), self.simple_ref(RecordType::Location, loc));
            }
        }
        for (key, value) in patch {
            if value.is_null() {
                body.remove(&key);
            } else if replace.iter().any(|r| r == &key)
                || !value.get("items").is_some_and(Value::is_array)
            {
                body.insert(key, value);
            } else {
                // Non-keyed sublists (e.g. `package`): lines are appended.
                let mut items = sublist_items(&body, &key).cloned().unwrap_or_default();
                items.extend(
                    value
                        .get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
                body.insert(key, json!({"items": items}));
            }
        }
        if record.is_order() {
            Self::recompute_order_status(record, &mut body);
        }
        Self::normalise_loose_refs(&mut body);
        let mut posting = posting;
        if ship_now && let Some(p) = posting.as_mut() {
            let movements = movements_of(&p.balances, Decimal::ONE);
            self.check_movements(&movements, |_| "shipStatus".to_string())?;
            self.apply_balances(&p.balances.clone(), Decimal::ONE);
            p.inventory_posted = true;
        }
        let old_ext = self.get(record, id).and_then(|s| {
            s.body
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if let Some(old) = old_ext
            && body.get("externalId").and_then(Value::as_str) != Some(old.as_str())
        {
            self.external_ids.remove(&(ext_family(record), old));
        }
        if let Some(ext) = body.get("externalId").and_then(Value::as_str) {
            self.external_ids
                .insert((ext_family(record), ext.to_string()), id);
        }
        let stored = self.get_mut(record, id).expect("checked above");
        stored.body = body;
        stored.posting = posting;
        self.touch(record, id, now_seconds());
        Ok(())
    }

    /// `PUT /{type}/eid:{ext}`: creates the record or replaces its fields. Answers `(id, created)`.
    pub(crate) fn upsert(
        &mut self,
        record: RecordType,
        ext: &str,
        body: Value,
    ) -> Result<(u64, bool), NsError> {
        let Value::Object(mut body) = body else {
            return Err(NsError::content("The request body must be a JSON object."));
        };
        body.insert("externalId".into(), json!(ext));
        match self.find_external(record, ext) {
            None => self
                .create(record, Value::Object(body))
                .map(|id| (id, true)),
            Some(id) => {
                if record.is_transaction() && !record.is_order() {
                    return Err(NsError::user(format!(
                        "A {record} with external ID {ext} already exists and cannot be replaced."
                    )));
                }
                let replace: Vec<String> = body
                    .iter()
                    .filter(|(_, v)| v.get("items").is_some())
                    .map(|(k, _)| k.clone())
                    .collect();
                self.update(record, id, Value::Object(body), &replace)
                    .map(|()| (id, false))
            }
        }
    }

    /// `DELETE`: removes a record, reversing a posting's effects.
    pub(crate) fn delete(&mut self, record: RecordType, id: u64) -> Result<(), NsError> {
        let stored = self
            .get(record, id)
            .ok_or_else(|| NsError::not_found(format!("{record} {id} does not exist.")))?;
        if record.is_order() {
            let has_children = self
                .records
                .iter()
                .filter(|(t, _)| matches!(t, RecordType::ItemFulfillment | RecordType::ItemReceipt))
                .any(|(_, m)| {
                    m.values()
                        .any(|s| ref_id(s.body.get("createdFrom")) == Some(id))
                });
            if has_children {
                return Err(NsError::user(
                    "This record cannot be deleted because it has dependent records.",
                ));
            }
        }
        if record.is_item() && self.balances.keys().any(|k| k.item == id) {
            return Err(NsError::user(
                "This item cannot be deleted because it has inventory on hand.",
            ));
        }
        if let Some(posting) = stored.posting.clone() {
            if posting.inventory_posted {
                let movements = movements_of(&posting.balances, -Decimal::ONE);
                self.check_movements(&movements, |_| String::new())?;
                self.apply_balances(&posting.balances, -Decimal::ONE);
            }
            self.apply_order_deltas(&posting.order_lines, -Decimal::ONE);
        }
        let stored = self
            .records
            .get_mut(&record)
            .and_then(|m| m.remove(&id))
            .expect("checked above");
        if let Some(index) = self.modified.get_mut(&record) {
            index.remove(&(stored.last_modified, id));
        }
        if let Some(ext) = stored.body.get("externalId").and_then(Value::as_str) {
            self.external_ids
                .remove(&(ext_family(record), ext.to_string()));
        }
        Ok(())
    }
}
