//! NetSuite OneWorld: an account with subsidiaries. Inventory transactions that name no source
//! order (adjustments, transfers, status changes) need a `subsidiary`, and their locations must
//! belong to it when the location record names one.

use serde_json::{Map, Value};

use super::error::NsError;
use super::records::RecordType;
use super::state::State;
use crate::json::id_from_json;

/// The id a reference names: its internal id, or the record its external id finds.
fn reference(state: &State, record: RecordType, value: Option<&Value>) -> Option<u64> {
    let object = value?.as_object()?;
    if let Some(id) = object.get("id").and_then(id_from_json) {
        return Some(id);
    }
    let ext = object.get("externalId")?.as_str()?;
    state.find_external(record, ext)
}

impl State {
    /// In a OneWorld account, refuses an inventory adjustment, transfer or status change without
    /// a subsidiary, or one whose header locations belong to another subsidiary.
    pub(crate) fn check_subsidiary(
        &self,
        record: RecordType,
        body: &Map<String, Value>,
    ) -> Result<(), NsError> {
        if !self.one_world
            || !matches!(
                record,
                RecordType::InventoryAdjustment
                    | RecordType::InventoryTransfer
                    | RecordType::InventoryStatusChange
            )
        {
            return Ok(());
        }
        let Some(subsidiary) = body.get("subsidiary").filter(|v| !v.is_null()) else {
            return Err(NsError::user("Please enter value(s) for: Subsidiary").at("subsidiary"));
        };
        let subsidiary = subsidiary.get("id").and_then(id_from_json).ok_or_else(|| {
            NsError::field(format!(
                "Invalid Field Value {subsidiary} for the following field: subsidiary"
            ))
            .at("subsidiary")
        })?;
        for field in ["adjLocation", "location", "transferLocation"] {
            let Some(location) = reference(self, RecordType::Location, body.get(field)) else {
                continue;
            };
            let owner = self
                .get(RecordType::Location, location)
                .and_then(|l| l.body.get("subsidiary"))
                .and_then(|s| s.get("id"))
                .and_then(id_from_json);
            if owner.is_some_and(|owner| owner != subsidiary) {
                return Err(NsError::user(format!(
                    "The location {location} does not belong to subsidiary {subsidiary}."
                ))
                .at(field));
            }
        }
        Ok(())
    }
}
