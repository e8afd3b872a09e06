//! The `invalid-record` exception of a NetSuite record that cannot be converted, raised while
//! it reads badly and resolved once it reads well.

use jiff::Timestamp;
use netsuite_client::RecordType;
use sync_core::ExceptionKind;

use super::super::convert::ConversionError;
use super::NetSuitePoller;
use crate::store::{NewException, StoreError};

impl NetSuitePoller {
    /// Closes the `invalid-record` exception of a record that now reads well (it was corrected
    /// in NetSuite, which changed its modification time, so the poller read it again).
    pub(super) async fn resolve_invalid(
        &self,
        record_type: &RecordType,
        id: i64,
    ) -> Result<(), StoreError> {
        let key = invalid_key(record_type, id);
        let store = self.engine.store();
        if store
            .exception(&key)
            .await?
            .is_some_and(|e| e.resolved_at.is_none())
        {
            store
                .resolve_exception(
                    &key,
                    "the record reads well since it was corrected in NetSuite",
                    self.engine.clock().now(),
                )
                .await?;
        }
        Ok(())
    }

    pub(super) async fn raise_invalid(
        &self,
        record_type: &RecordType,
        id: i64,
        modified: Timestamp,
        problem: &ConversionError,
    ) -> Result<(), StoreError> {
        tracing::warn!(record = %record_type, id, error = %problem, "NetSuite record cannot be converted");
        let exception = NewException::of(
            ExceptionKind::InvalidRecord,
            invalid_key(record_type, id),
            format!("NetSuite {record_type} {id}"),
            format!(
                "NetSuite {record_type} {id} (modified {modified}) cannot be read into the integration: {problem}"
            ),
            serde_json::json!({
                "record_type": record_type.as_str(),
                "id": id.to_string(),
                "modified": modified.to_string(),
                "error": problem.to_string(),
            }),
        );
        // Read again while still invalid: the exception shows the latest problem.
        self.engine
            .store()
            .refresh_exception(exception, self.engine.clock().now())
            .await
    }
}

/// The key of the `invalid-record` exception of one NetSuite record.
fn invalid_key(record_type: &RecordType, id: i64) -> String {
    format!("EX-NS-INVALID-{record_type}-{id}")
}
