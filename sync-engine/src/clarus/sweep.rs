//! The GraphQL sweep: catches despatches whose webhook never came.
//!
//! Lists goods outs `COMPLETED` and changed since the watermark (minus an overlap), re-reads
//! each with the same [`DespatchReader`] the webhook path uses, and ingests the events. A
//! despatch already seen through its webhook has the same [`sync_core::SourceId`], so it is a
//! duplicate and plans nothing. The watermark only moves past goods outs that were ingested.

use std::sync::Arc;
use std::time::Duration;

use clarus_client::graphql::Filter;
use clarus_client::{ClarusClient, ClarusError, ClarusId};
use jiff::{SignedDuration, Timestamp};

use super::despatch::DespatchReader;
use super::executor::list;
use super::nodes::GoodsOutRead;
use crate::engine::{Engine, EngineError, IngestOutcome};
use crate::processor::DecodeError;
use crate::store::{Store, StoreError};

/// The store entry holding the sweep's watermark (an RFC 3339 timestamp of `updated_at`).
pub const SWEEP_WATERMARK: &str = "clarus.sweep.goods_out.updated_at";

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// Listing goods outs failed; nothing was ingested and the watermark is unchanged.
    #[error("listing completed goods outs failed: {0}")]
    Clarus(#[from] ClarusError),
    /// Planning or recording an event failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The watermark could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Completed goods outs found since the watermark.
    pub scanned: usize,
    /// Despatches planned now (their webhook never came, or has not been processed yet).
    pub planned: usize,
    /// Despatches already known (seen through their webhook or an earlier sweep).
    pub duplicates: usize,
    /// Despatches blocked by the core (see its exceptions); swept again next time.
    pub blocked: usize,
    /// Goods outs that could not be turned into a despatch, with why; retryable ones are swept
    /// again next time, invalid ones are reported here every time until fixed.
    pub failed: Vec<(ClarusId, DecodeError)>,
    /// The watermark after the sweep.
    pub watermark: Option<Timestamp>,
}

/// Sweeps Clarus for completed goods outs.
///
/// ```no_run
/// # async fn demo(reader: sync_engine::clarus::DespatchReader, client: clarus_client::ClarusClient,
/// #   store: std::sync::Arc<dyn sync_engine::store::Store>, engine: &sync_engine::engine::Engine)
/// #   -> Result<(), sync_engine::clarus::SweepError> {
/// use sync_engine::clarus::ClarusSweep;
/// let sweep = ClarusSweep::new(client, reader, store);
/// let report = sweep.run(engine).await?;
/// println!("{} despatches caught by the sweep", report.planned);
/// # Ok(()) }
/// ```
pub struct ClarusSweep {
    client: ClarusClient,
    reader: DespatchReader,
    store: Arc<dyn Store>,
    /// How far back of the watermark each sweep starts (clock skew between Clarus's writes and
    /// its `updated_at`). Default five minutes.
    pub overlap: Duration,
}

impl std::fmt::Debug for ClarusSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClarusSweep")
            .field("overlap", &self.overlap)
            .finish_non_exhaustive()
    }
}

impl ClarusSweep {
    /// A sweep over `client`, reading despatches with `reader` (the same reader the webhook
    /// decoder uses) and keeping its watermark in `store`.
    pub fn new(client: ClarusClient, reader: DespatchReader, store: Arc<dyn Store>) -> Self {
        ClarusSweep {
            client,
            reader,
            store,
            overlap: Duration::from_secs(300),
        }
    }

    /// The completed goods outs changed since the watermark, oldest change first.
    async fn completed_since(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<GoodsOutRead>, ClarusError> {
        let mut filter = Filter::new().eq("goods_out_status_code", "COMPLETED");
        if let Some(since) = since {
            let overlap = SignedDuration::try_from(self.overlap).unwrap_or_default();
            filter = filter.from("updated_at", since - overlap);
        }
        let mut found: Vec<GoodsOutRead> = list(&self.client, filter).await?;
        found.sort_by_key(|g| (updated(g), g.id));
        Ok(found)
    }

    /// Sweeps once: ingests a despatch for every completed goods out since the watermark and
    /// moves the watermark up to the oldest goods out that must be swept again.
    pub async fn run(&self, engine: &Engine) -> Result<SweepReport, SweepError> {
        let since = self
            .store
            .watermark(SWEEP_WATERMARK)
            .await?
            .and_then(|w| w.parse::<Timestamp>().ok());
        let found = self.completed_since(since).await?;
        let mut report = SweepReport {
            scanned: found.len(),
            watermark: since,
            ..SweepReport::default()
        };
        let mut newest: Option<Timestamp> = since;
        let mut hold_at: Option<Timestamp> = None;
        for goods_out in &found {
            let changed = updated(goods_out);
            let retry_later = match self.reader.read(goods_out.id, None).await {
                Ok(event) => match engine.ingest(&event, Timestamp::now()).await? {
                    IngestOutcome::Planned { .. } => {
                        report.planned += 1;
                        false
                    }
                    IngestOutcome::Duplicate => {
                        report.duplicates += 1;
                        false
                    }
                    IngestOutcome::Blocked { .. } => {
                        report.blocked += 1;
                        true
                    }
                },
                Err(e) => {
                    let retry = matches!(e, DecodeError::Retryable(_));
                    tracing::warn!(goods_out = %goods_out.id, error = %e, "sweep could not read a despatch");
                    report.failed.push((goods_out.id, e));
                    retry
                }
            };
            if let Some(changed) = changed {
                if retry_later {
                    hold_at = Some(hold_at.map_or(changed, |h| h.min(changed)));
                }
                newest = Some(newest.map_or(changed, |n| n.max(changed)));
            }
        }
        let watermark = match (hold_at, newest) {
            // Not past a goods out that must be swept again (the filter includes its time).
            (Some(hold), _) => since.map_or(hold, |s| s.max(hold)),
            (None, newest) => match newest {
                Some(n) => n,
                None => return Ok(report),
            },
        };
        if Some(watermark) != since {
            self.store
                .set_watermark(SWEEP_WATERMARK, &watermark.to_string())
                .await?;
        }
        report.watermark = Some(watermark);
        Ok(report)
    }
}

fn updated(goods_out: &GoodsOutRead) -> Option<Timestamp> {
    goods_out
        .updated_at
        .as_ref()
        .and_then(|d| d.timestamp())
        .or_else(|| {
            goods_out
                .actual_date_of_dispatch
                .as_ref()
                .and_then(|d| d.timestamp())
        })
}
