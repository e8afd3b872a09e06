//! Stored Clarus webhook deliveries → core events.

use std::sync::Arc;

use async_trait::async_trait;
use clarus_client::ClarusClient;
use clarus_client::webhook::{
    GoodsInEvent, GoodsOutEvent, StockEvent, WebhookDelivery, WebhookEvent, WebhookHeaders,
};
use serde_json::Value;
use sync_core::{Event, Payload, Tenant};

use super::despatch::DespatchReader;
use super::movement::{MovementVerifier, movement_from_webhook};
use super::progress::ProgressReader;
use super::receipt::ReceiptDecoder;
use crate::clock::{self, SharedClock};
use crate::processor::{DecodeError, DeliveryDecoder};
use crate::store::{Delivery, Store};

/// Decodes deliveries stored by the webhook intake (`crate::intake`).
///
/// | webhook | event |
/// |---|---|
/// | `goods_out` / `completed` | `Despatch` of what left and no shipment reported yet, re-read over GraphQL ([`DespatchReader`]) |
/// | `goods_out` / `updated` | `Despatch` of each shipment that left since the last one (a part shipment) |
/// | `goods_out` / `processed` | `GoodsOutProgress`: acknowledged |
/// | `goods_out_pick_list` / `created` | `GoodsOutProgress`: acknowledged, per goods out on the list |
/// | `goods_out_pick_list` / `picked`, `completed` | `GoodsOutProgress`: picking, per goods out on the list |
/// | `goods_in` / `moved_to_part`, `completed` | `Receipt` of the stock received since the last one |
/// | `stock` / `positively_adjusted`, `negatively_adjusted`, `placed_on_hold`, `released_from_hold` | `StockMovement`, once Clarus lists its transaction; nothing for a hold a receipt made (the receipt posts it into quarantine) |
/// | anything else | nothing |
///
/// A delivery whose `X-ClarusWMS-Subdomain` names another tenant is invalid.
///
/// ```no_run
/// # fn demo(client: clarus_client::ClarusClient, store: std::sync::Arc<dyn sync_engine::store::Store>) {
/// use sync_engine::clarus::ClarusDecoder;
/// let decoder = ClarusDecoder::new(client, "acme-warehouse".into(), "acme".into(), store);
/// # let _ = decoder;
/// # }
/// ```
pub struct ClarusDecoder {
    subdomain: String,
    tenant: Tenant,
    despatches: DespatchReader,
    receipts: ReceiptDecoder,
    progress: ProgressReader,
    movements: MovementVerifier,
    clock: SharedClock,
}

impl std::fmt::Debug for ClarusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClarusDecoder")
            .field("subdomain", &self.subdomain)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl ClarusDecoder {
    /// A decoder for the Clarus tenant `subdomain`, keying events under `tenant`, keeping
    /// receipt stages (and reading goods-out line orders) in `store`.
    pub fn new(
        client: ClarusClient,
        subdomain: String,
        tenant: Tenant,
        store: Arc<dyn Store>,
    ) -> Self {
        ClarusDecoder {
            subdomain,
            despatches: DespatchReader::new(client.clone(), tenant.clone())
                .with_store(store.clone()),
            progress: ProgressReader {
                tenant: tenant.clone(),
                store: store.clone(),
            },
            movements: MovementVerifier {
                client: client.clone(),
                store: store.clone(),
            },
            receipts: ReceiptDecoder {
                client,
                tenant: tenant.clone(),
                store,
                clock: clock::system(),
            },
            tenant,
            clock: clock::system(),
        }
    }

    /// Reads the time from `clock` (the system clock by default, see [`crate::clock`]): when a
    /// receipt's completion is recorded, when a movement is confirmed, when a despatch is; the
    /// reader of [`despatch_reader`](Self::despatch_reader) shares it.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.despatches = self.despatches.with_clock(clock.clone());
        self.receipts.clock = clock.clone();
        self.clock = clock;
        self
    }

    /// The reader the decoder re-reads despatches with (shared with [`super::ClarusSweep`]).
    pub fn despatch_reader(&self) -> &DespatchReader {
        &self.despatches
    }
}

#[async_trait]
impl DeliveryDecoder for ClarusDecoder {
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError> {
        let stored = &delivery.delivery.headers;
        let header = |name: &str| stored.get(name).and_then(Value::as_str);
        let pairs = stored
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)));
        let headers = WebhookHeaders::from_pairs(pairs);
        if let Some(subdomain) = headers.subdomain.as_deref()
            && !subdomain.eq_ignore_ascii_case(&self.subdomain)
        {
            return Err(DecodeError::Invalid(
                format!(
                    "delivery for tenant {subdomain}, this engine serves {}",
                    self.subdomain
                )
                .into(),
            ));
        }
        let route = header("resource_name").zip(header("event"));
        let parsed = WebhookDelivery::parse(headers.clone(), &delivery.delivery.body, route)
            .map_err(|e| DecodeError::Invalid(e.to_string().into()))?;
        let record = parsed.record();
        match &parsed.event {
            WebhookEvent::GoodsOut {
                event: event @ (GoodsOutEvent::Completed | GoodsOutEvent::Updated),
                record: typed,
            } => {
                let completed = *event == GoodsOutEvent::Completed;
                let id = typed.id.ok_or_else(|| {
                    DecodeError::Invalid(
                        format!("goods_out {} webhook without a record id", event.as_str()).into(),
                    )
                })?;
                self.despatches.read(id, Some(record), completed).await
            }
            WebhookEvent::GoodsOut {
                event: GoodsOutEvent::Processed,
                record: typed,
            } => self.progress.processed(typed).await,
            WebhookEvent::GoodsOutPickList {
                event,
                record: typed,
            } => self.progress.pick_list(*event, typed).await,
            WebhookEvent::GoodsIn {
                event: event @ (GoodsInEvent::Completed | GoodsInEvent::MovedToPart),
                ..
            } => {
                self.receipts
                    .decode(record, *event == GoodsInEvent::Completed)
                    .await
            }
            WebhookEvent::Stock {
                event:
                    event @ (StockEvent::PositivelyAdjusted
                    | StockEvent::NegativelyAdjusted
                    | StockEvent::PlacedOnHold
                    | StockEvent::ReleasedFromHold),
                record: typed,
            } => {
                let Some(movement) = movement_from_webhook(&self.tenant, *event, typed, record)?
                else {
                    return Ok(Vec::new());
                };
                if let Payload::StockMovement(m) = &movement.payload {
                    let now = self.clock.now();
                    if *event == StockEvent::PlacedOnHold
                        && self
                            .movements
                            .made_by_receipt(record, typed, m, now)
                            .await?
                    {
                        return Ok(Vec::new());
                    }
                    self.movements.confirm(*event, typed, m, now).await?;
                }
                Ok(vec![movement])
            }
            _ => Ok(Vec::new()),
        }
    }
}
