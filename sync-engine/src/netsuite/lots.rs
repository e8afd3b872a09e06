//! Lot and serial numbers: outbound lines name an existing `inventoryNumber` by internal id, so
//! the numbers the warehouse reports are looked up first.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use netsuite_client::NetSuiteClient;
use netsuite_client::suiteql::{Query, StreamOptions, lenient};
use serde::Deserialize;
use sync_core::NetSuiteId;

use super::errors::{Stage, classify};
use crate::outbox::ExecutionError;

#[derive(Deserialize)]
struct NumberRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    inventorynumber: String,
}

/// The `inventoryNumber` internal ids of `numbers` (lots or serials) of `item`. A number NetSuite
/// does not know is a rejection: it cannot be issued.
pub(crate) async fn inventory_number_ids(
    client: &NetSuiteClient,
    item: &NetSuiteId,
    numbers: &[&str],
) -> Result<HashMap<String, String>, ExecutionError> {
    if numbers.is_empty() {
        return Ok(HashMap::new());
    }
    let mut wanted: Vec<String> = numbers.iter().map(|n| (*n).to_owned()).collect();
    wanted.sort();
    wanted.dedup();
    let query = Query::new(
        "SELECT id, inventorynumber FROM inventorynumber WHERE item = ? AND inventorynumber IN ? ORDER BY id",
    )
    .bind(item.as_str())
    .bind(wanted.clone());
    let rows: Vec<NumberRow> = client
        .suiteql(query, StreamOptions::default())
        .try_collect()
        .await
        .map_err(|e| classify(e, Stage::Read))?;
    let found: HashMap<String, String> = rows
        .into_iter()
        .map(|r| (r.inventorynumber, r.id.to_string()))
        .collect();
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|n| !found.contains_key(n.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(ExecutionError::Rejected(
            format!(
                "item {item}: NetSuite has no inventory number {}; stock of it cannot be issued",
                missing.join(", ")
            )
            .into(),
        ));
    }
    Ok(found)
}
