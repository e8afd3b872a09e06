//! Warehouse progress: goods out `processed` and pick-list webhooks as core
//! [`GoodsOutProgress`] events (acknowledged, picking).
//!
//! | webhook | milestone |
//! |---|---|
//! | `goods_out` / `processed` | acknowledged |
//! | `goods_out_pick_list` / `created` | acknowledged, for each goods out it covers |
//! | `goods_out_pick_list` / `picked`, `completed` | picking, for each goods out it covers |
//!
//! Progress only feeds the monitor, so the decoder is lenient where a despatch is strict: a
//! goods out that names no NetSuite order (another sales channel of the tenant) or no longer
//! exists gives no event, and a pick list that names no goods out gives none either. A goods
//! out's NetSuite order comes from the engine's record of the goods outs it created, else from
//! the webhook body's `external_system_reference1`; pick lists carry only goods-out ids, which
//! are looked up in the same records (Clarus documents neither an `id` filter nor the generic
//! fields on its goods-out reads, so nothing is asked of Clarus).

use std::sync::Arc;

use clarus_client::ClarusId;
use clarus_client::graphql::ClarusDateTime;
use clarus_client::webhook::{GoodsOutRecord, PickListEvent, PickListRecord};
use jiff::Timestamp;
use sync_core::{
    Event, GoodsOutId, GoodsOutMilestone, GoodsOutProgress, NetSuiteId, Payload, Tenant,
};

use super::despatch::{id_u64, non_empty};
use super::executor::LineOrder;
use crate::processor::DecodeError;
use crate::store::Store;

/// Turns progress webhooks into events.
#[derive(Clone)]
pub(crate) struct ProgressReader {
    pub(crate) tenant: Tenant,
    pub(crate) store: Arc<dyn Store>,
}

impl ProgressReader {
    /// A goods out `processed` webhook: the goods out is acknowledged.
    ///
    /// Errors: the body has no goods-out id → [`DecodeError::Invalid`]; a needed re-read
    /// failed → [`DecodeError::Retryable`].
    pub(crate) async fn processed(
        &self,
        record: &GoodsOutRecord,
    ) -> Result<Vec<Event>, DecodeError> {
        let id = record.id.ok_or_else(|| {
            DecodeError::Invalid("goods_out processed webhook without a record id".into())
        })?;
        let at = record
            .updated_at
            .as_deref()
            .and_then(timestamp)
            .unwrap_or_else(Timestamp::now);
        let order = match self.orders_of(&[id]).await?.pop() {
            Some((_, order)) => Some(order),
            None => non_empty(record.external_system_reference1.as_deref()).map(str::to_owned),
        };
        let Some(order) = order else {
            tracing::debug!(goods_out = %id, "processed goods out names no NetSuite order");
            return Ok(Vec::new());
        };
        Ok(vec![self.event(
            id,
            &order,
            GoodsOutMilestone::Acknowledged,
            at,
        )?])
    }

    /// A pick-list webhook: each goods out it covers is acknowledged (`created`) or being
    /// picked (`picked`, `completed`). A cancelled pick list gives nothing.
    ///
    /// Errors: the goods outs could not be re-read → [`DecodeError::Retryable`].
    pub(crate) async fn pick_list(
        &self,
        event: PickListEvent,
        record: &PickListRecord,
    ) -> Result<Vec<Event>, DecodeError> {
        let milestone = match event {
            PickListEvent::Created => GoodsOutMilestone::Acknowledged,
            PickListEvent::Picked | PickListEvent::Completed => GoodsOutMilestone::Picking,
            PickListEvent::Cancelled => return Ok(Vec::new()),
        };
        let goods_outs = record.covered_goods_outs();
        if goods_outs.is_empty() {
            tracing::warn!(
                pick_list = ?record.id,
                event = event.as_str(),
                "pick list webhook names no goods out; no progress recorded"
            );
            return Ok(Vec::new());
        }
        let at = record
            .updated_at
            .as_deref()
            .or(record.created_at.as_deref())
            .and_then(timestamp)
            .unwrap_or_else(Timestamp::now);
        self.orders_of(&goods_outs)
            .await?
            .into_iter()
            .map(|(id, order)| self.event(id, &order, milestone, at))
            .collect()
    }

    /// The NetSuite order of each goods out the engine created, in the order asked.
    async fn orders_of(&self, ids: &[ClarusId]) -> Result<Vec<(ClarusId, String)>, DecodeError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let record = LineOrder::load(self.store.as_ref(), *id)
                .await
                .map_err(|e| {
                    DecodeError::Retryable(format!("reading goods out {id}: {e}").into())
                })?;
            if let Some(order) = record.and_then(|r| r.order) {
                found.push((*id, order));
            }
        }
        Ok(found)
    }

    fn event(
        &self,
        id: ClarusId,
        order: &str,
        milestone: GoodsOutMilestone,
        at: Timestamp,
    ) -> Result<Event, DecodeError> {
        let progress = GoodsOutProgress {
            tenant: self.tenant.clone(),
            goods_out: GoodsOutId(id_u64(id)?),
            order: NetSuiteId::new(order),
            milestone,
        };
        Ok(Event {
            source: progress.source_id(),
            occurred_at: at,
            payload: Payload::GoodsOutProgress(progress),
        })
    }
}

fn timestamp(text: &str) -> Option<Timestamp> {
    ClarusDateTime(text.to_owned()).timestamp()
}
