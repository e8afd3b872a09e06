//! The `clarus-schema` exception: raised for an incomplete report, refreshed when the missing
//! fields change, resolved when the schema is complete again.

use jiff::Timestamp;
use serde_json::{Value, json};
use sync_core::ExceptionKind;

use super::{CLARUS_SCHEMA_KEY, SchemaReport};
use crate::store::{NewException, Store, StoreError};

/// What [`apply_schema_report`] did to the `clarus-schema` exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaExceptionChange {
    /// Raised (or raised again after it was resolved).
    Raised,
    /// Open already, updated because the missing fields changed.
    Refreshed,
    /// Open already with the same missing fields: left as it is.
    Unchanged,
    /// Resolved: the schema offers everything again.
    Resolved,
    /// Complete, and nothing was open.
    Nothing,
}

/// The `clarus-schema` exception for an incomplete report.
pub fn schema_exception(report: &SchemaReport) -> Option<NewException> {
    let message = report.message()?;
    let missing: Vec<Value> = report
        .missing
        .iter()
        .map(|m| {
            json!({
                "root": m.root,
                "type": m.type_name,
                "field": m.field,
                "flow": m.flow(),
            })
        })
        .collect();
    Some(NewException::of(
        ExceptionKind::ClarusSchema,
        CLARUS_SCHEMA_KEY,
        "Clarus GraphQL schema",
        message,
        json!({
            "missing": missing,
            "extras": report.extras,
        }),
    ))
}

/// Raises the `clarus-schema` exception for an incomplete report, refreshes it when the missing
/// fields (its message) differ from the open one's, and resolves it for a complete report.
pub async fn apply_schema_report(
    store: &dyn Store,
    report: &SchemaReport,
    now: Timestamp,
) -> Result<SchemaExceptionChange, StoreError> {
    let open = store
        .exception(CLARUS_SCHEMA_KEY)
        .await?
        .filter(|e| e.resolved_at.is_none());
    match schema_exception(report) {
        Some(exception) => match open {
            None => {
                store.refresh_exception(exception, now).await?;
                Ok(SchemaExceptionChange::Raised)
            }
            Some(open) if open.exception.message == exception.message => {
                Ok(SchemaExceptionChange::Unchanged)
            }
            Some(_) => {
                store.refresh_exception(exception, now).await?;
                Ok(SchemaExceptionChange::Refreshed)
            }
        },
        None => match open {
            Some(_) => {
                match store
                    .resolve_exception(
                        CLARUS_SCHEMA_KEY,
                        "the Clarus schema offers every field the integration reads",
                        now,
                    )
                    .await
                {
                    Ok(()) | Err(StoreError::NotFound { .. }) => {
                        Ok(SchemaExceptionChange::Resolved)
                    }
                    Err(e) => Err(e),
                }
            }
            None => Ok(SchemaExceptionChange::Nothing),
        },
    }
}
