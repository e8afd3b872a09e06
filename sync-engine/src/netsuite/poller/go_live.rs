//! The store's go-live record: the first poll, the cut-over before which orders are not read,
//! and the end of the window in which the Clarus executor adopts what Clarus already has.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{NetSuitePoller, PollKind, watermark_name};
use crate::store::StoreError;

/// The store entry of the go-live record. The Clarus executor reads its `adopt_until` under the
/// same name (`sync-engine/src/clarus/executor.rs`).
const GO_LIVE_RECORD: &str = "go_live";

/// What the store keeps of its go-live, written on its first poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct GoLive {
    /// When the store was first polled: the start of the adoption window.
    pub(super) first_poll: Timestamp,
    /// The cut-over: orders last modified before it are not read.
    #[serde(default)]
    pub(super) start_from: Option<Timestamp>,
    /// The end of the adoption window (`first_poll` +
    /// [`PollerConfig::adopt_existing_for`](super::PollerConfig::adopt_existing_for)).
    #[serde(default)]
    pub(super) adopt_until: Option<Timestamp>,
}

impl NetSuitePoller {
    /// The store's go-live record, settled once per process: written on the store's first poll
    /// (no go-live record, no watermark of any kind); its cut-over taken from the configuration
    /// until the first record is ingested; its adoption window's end always re-computed from the
    /// configuration, so a changed window applies from the next start. A store that polled
    /// before go-live records were kept gets none (no cut-over, no adoption).
    pub(super) async fn go_live(&self) -> Result<Option<GoLive>, StoreError> {
        let mut settled = self.go_live.lock().await;
        if let Some(known) = &*settled {
            return Ok(known.clone());
        }
        let store = self.engine.store();
        let stored: Option<GoLive> = store
            .watermark(GO_LIVE_RECORD)
            .await?
            .and_then(|text| serde_json::from_str(&text).ok());
        let mut ingested = false;
        for kind in PollKind::ALL {
            if store.watermark(&watermark_name(kind)).await?.is_some() {
                ingested = true;
                break;
            }
        }
        let record = match stored.clone() {
            None if ingested => None,
            None => Some(GoLive {
                first_poll: self.engine.clock().now(),
                start_from: self.config.start_from,
                adopt_until: None,
            }),
            Some(record) => Some(record),
        }
        .map(|mut record| {
            if !ingested {
                record.start_from = self.config.start_from;
            }
            let window = SignedDuration::try_from(self.config.adopt_existing_for)
                .unwrap_or(SignedDuration::MAX);
            record.adopt_until = Some(
                record
                    .first_poll
                    .checked_add(window)
                    .unwrap_or(Timestamp::MAX),
            );
            record
        });
        if let Some(record) = &record
            && stored.as_ref() != Some(record)
        {
            let text = serde_json::to_string(record).unwrap_or_default();
            store.set_watermark(GO_LIVE_RECORD, &text).await?;
            tracing::info!(
                first_poll = %record.first_poll,
                start_from = ?record.start_from.map(|t| t.to_string()),
                adopt_until = ?record.adopt_until.map(|t| t.to_string()),
                new = stored.is_none(),
                "go-live record of this store"
            );
        }
        *settled = Some(record.clone());
        Ok(record)
    }
}
