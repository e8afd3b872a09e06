//! Handling the rows of a pass: which need reading (unchanged, filtered by status, or a record
//! type to read), then reading, converting and ingesting them in order.

use futures_util::{StreamExt, stream};
use jiff::{SignedDuration, Timestamp};
use netsuite_client::RecordType;

use super::query::ChangedRow;
use super::{NetSuitePoller, PollError, PollKind, PollReport, PollerState};
use crate::engine::IngestOutcome;

/// Order status letters that are ingested: open (pending, partly done), cancelled or rejected,
/// closed. Pending approval and fully done orders need nothing from the warehouse.
const INGESTED_STATUSES: [&str; 5] = ["B", "D", "E", "C", "H"];

/// What a row needs.
enum Triage {
    /// Ingested before at this modification time.
    Unchanged,
    /// An order in a status that needs nothing.
    Filtered,
    /// To be read as this record type.
    Read(RecordType),
}

impl NetSuitePoller {
    /// What to do with one row, decided before any record is read.
    fn triage(
        &self,
        kind: PollKind,
        row: &ChangedRow,
        state: &PollerState,
    ) -> Result<(Timestamp, Triage), PollError> {
        let modified = self
            .parse_account_time(&row.modified)
            .ok_or_else(|| PollError::BadRow {
                kind,
                message: format!("record {}: modified {:?}", row.id, row.modified),
            })?;
        let window = SignedDuration::try_from(self.config.reread_window).unwrap_or_default();
        if let Some((seen, read_at)) = state.seen.get(&(kind, row.id))
            && *seen == modified
            && *read_at >= modified + window
        {
            return Ok((modified, Triage::Unchanged));
        }
        if kind != PollKind::Items {
            let letter = row
                .status
                .as_deref()
                .and_then(|s| s.rsplit(':').next())
                .unwrap_or_default();
            if !INGESTED_STATUSES.contains(&letter) {
                return Ok((modified, Triage::Filtered));
            }
        }
        Ok((modified, Triage::Read(record_type_of(kind, row))))
    }

    /// Reads the rows' records (several at once, in order), converts and ingests them one by
    /// one. `newest` follows the last row handled, so a failure leaves it before the failed row.
    pub(super) async fn ingest_rows(
        &self,
        kind: PollKind,
        rows: &[ChangedRow],
        state: &mut PollerState,
        report: &mut PollReport,
        newest: &mut Option<Timestamp>,
    ) -> Result<(), PollError> {
        let mut plans = Vec::with_capacity(rows.len());
        for row in rows {
            plans.push((row.id, self.triage(kind, row, state)?));
        }
        let mut steps = stream::iter(plans)
            .map(|(id, (modified, triage))| async move {
                let fetched = match &triage {
                    Triage::Read(record_type) => Some(self.fetch(kind, record_type, id).await),
                    Triage::Unchanged | Triage::Filtered => None,
                };
                (id, modified, triage, fetched)
            })
            .buffered(self.config.read_concurrency.max(1));
        while let Some((id, modified, triage, fetched)) = steps.next().await {
            let advance = |newest: &mut Option<Timestamp>| {
                if newest.is_none_or(|n| modified > n) {
                    *newest = Some(modified);
                }
            };
            let record_type = match triage {
                Triage::Unchanged => {
                    report.unchanged += 1;
                    advance(newest);
                    continue;
                }
                Triage::Filtered => {
                    report.filtered += 1;
                    advance(newest);
                    continue;
                }
                Triage::Read(record_type) => record_type,
            };
            let record = match fetched {
                Some(Ok(Some(record))) => record,
                Some(Ok(None)) | None => {
                    report.missing += 1;
                    advance(newest);
                    continue;
                }
                Some(Err(source)) => return Err(PollError::NetSuite { kind, source }),
            };
            report.fetched += 1;
            let converted = self
                .convert(&record_type, record, &mut state.skus)
                .await
                .map_err(|source| PollError::NetSuite { kind, source })?;
            match converted {
                Ok(event) => {
                    self.resolve_invalid(&record_type, id).await?;
                    match self
                        .engine
                        .ingest(&event, self.engine.clock().now())
                        .await?
                    {
                        IngestOutcome::Duplicate => report.duplicates += 1,
                        IngestOutcome::Planned { .. } => report.planned += 1,
                        IngestOutcome::Blocked { exceptions } => {
                            // The order is recorded; the engine re-plans it when its exception
                            // is retried or the mapping fixed.
                            tracing::info!(record = %record_type, id, exceptions, "record blocked");
                            report.blocked += 1;
                        }
                    }
                    if let sync_core::Payload::Item(item) = &event.payload {
                        state
                            .skus
                            .insert(item.netsuite_id.clone(), item.sku.clone());
                    }
                }
                Err(problem) => {
                    report.invalid += 1;
                    self.raise_invalid(&record_type, id, modified, &problem)
                        .await?;
                }
            }
            state
                .seen
                .insert((kind, id), (modified, self.engine.clock().now()));
            advance(newest);
        }
        Ok(())
    }
}

fn record_type_of(kind: PollKind, row: &ChangedRow) -> RecordType {
    RecordType::from_static(match kind {
        PollKind::Items => match (row.isserialitem, row.islotitem) {
            (Some(true), _) => "serializedInventoryItem",
            (_, Some(true)) => "lotNumberedInventoryItem",
            _ => "inventoryItem",
        },
        PollKind::SalesOrders => "salesOrder",
        PollKind::PurchaseOrders => "purchaseOrder",
        PollKind::ReturnAuthorisations => "returnAuthorization",
    })
}
