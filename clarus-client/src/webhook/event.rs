//! Typed webhook events with the raw body kept.
//!
//! Clarus publishes no payload schema. The record is read from `data` when the body is an
//! object with a `data` object (the documented condition path `data.account_id` suggests it),
//! else from the body itself. The resource and event come from the route the delivery arrived
//! on (subscription URLs end in `/{resource_name}/{event}`), else from top-level
//! `resource_name` and `event` fields. Every typed field is read leniently: a field of an
//! unexpected shape is `None`, never an error, and the raw JSON is always kept.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::headers::WebhookHeaders;
use crate::ClarusId;

macro_rules! event_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every event of this resource.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name of the event.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Reads a wire name.
            pub fn parse(event: &str) -> Option<Self> {
                match event {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

event_enum!(
    /// `goods_out` events.
    GoodsOutEvent {
        /// `created`.
        Created = "created",
        /// `completed` (dispatched).
        Completed = "completed",
        /// `updated`.
        Updated = "updated",
        /// `processed` (picks processed).
        Processed = "processed",
        /// `cancelled`.
        Cancelled = "cancelled",
    }
);

event_enum!(
    /// `goods_in` events.
    GoodsInEvent {
        /// `created`.
        Created = "created",
        /// `completed` (fully received and put away).
        Completed = "completed",
        /// `cancelled`.
        Cancelled = "cancelled",
        /// `moved_to_part` (part received).
        MovedToPart = "moved_to_part",
    }
);

event_enum!(
    /// `goods_out_pick_list` events.
    PickListEvent {
        /// `created`.
        Created = "created",
        /// `completed`.
        Completed = "completed",
        /// `cancelled`.
        Cancelled = "cancelled",
        /// `picked`.
        Picked = "picked",
    }
);

event_enum!(
    /// `stock` events.
    StockEvent {
        /// `positively_adjusted`.
        PositivelyAdjusted = "positively_adjusted",
        /// `negatively_adjusted`.
        NegativelyAdjusted = "negatively_adjusted",
        /// `placed_on_hold`.
        PlacedOnHold = "placed_on_hold",
        /// `released_from_hold`.
        ReleasedFromHold = "released_from_hold",
        /// `received`.
        Received = "received",
        /// `unreceived`.
        Unreceived = "unreceived",
        /// `dispatched`.
        Dispatched = "dispatched",
        /// `undispatched`.
        Undispatched = "undispatched",
        /// `account_transferred`.
        AccountTransferred = "account_transferred",
        /// `picked`.
        Picked = "picked",
    }
);

event_enum!(
    /// `invoice` events.
    InvoiceEvent {
        /// `submitted`.
        Submitted = "submitted",
        /// `authorised`.
        Authorised = "authorised",
        /// `paid`.
        Paid = "paid",
    }
);

event_enum!(
    /// Schedule resources, all with the single event `triggered`.
    ScheduleKind {
        /// `daily_schedule`.
        Daily = "daily_schedule",
        /// `weekly_schedule`.
        Weekly = "weekly_schedule",
        /// `monthly_schedule`.
        Monthly = "monthly_schedule",
        /// `one_time_schedule`.
        OneTime = "one_time_schedule",
    }
);

/// Reads a field leniently: a missing, null or unexpectedly shaped value is `None`.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(if value.is_null() {
        None
    } else {
        T::deserialize(value).ok()
    })
}

fn lenient_vec<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(match value {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| T::deserialize(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// A reference to another record as payloads may carry it: an id, a code string, or an
/// object with `id`/`code`/`name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordRef {
    /// The id, when given.
    pub id: Option<ClarusId>,
    /// The code, when given.
    pub code: Option<String>,
    /// The name, when given.
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for RecordRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Ok(match &value {
            Value::Number(_) => Self {
                id: ClarusId::deserialize(&value).ok(),
                ..Self::default()
            },
            Value::String(s) => Self {
                code: Some(s.clone()),
                ..Self::default()
            },
            Value::Object(map) => Self {
                id: map.get("id").and_then(|v| ClarusId::deserialize(v).ok()),
                code: text(map.get("code")),
                name: text(map.get("name")),
            },
            _ => Self::default(),
        })
    }
}

/// Lenient view of a goods-out record.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)] // Clarus's field names
pub struct GoodsOutRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub goods_out_status_id: Option<ClarusId>,
    /// Status code when sent (`COMPLETED`, …), from `status` or `goods_out_status.code`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub goods_out_status: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub account_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub carrier_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub carrier_service_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub actual_date_of_dispatch: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub external_system_reference1: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub tracking_number: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub updated_at: Option<String>,
    /// Lines, from `lines` or `goods_out_lines`.
    #[serde(default, alias = "goods_out_lines", deserialize_with = "lenient_vec")]
    pub lines: Vec<GoodsOutLineRecord>,
}

/// Lenient view of a goods-out line inside a goods-out payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct GoodsOutLineRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub product_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub product: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub order_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub allocated_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub pick_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub dispatch_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub short_status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub alt_line_number: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub external_system_reference1: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub string1: Option<String>,
}

/// Lenient view of a goods-out pick list record. The pick list's own attributes carry
/// `goods_out_ids` (the API's `GoodsOutPickListAttributes`); one pick list may cover several
/// goods outs (consolidated picks). Payloads are undocumented, so the goods outs are also read
/// from `goods_out_id`, `goods_outs` and `goods_out`; see [`PickListRecord::covered_goods_outs`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct PickListRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub goods_out_ids: Vec<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub goods_out_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub goods_outs: Vec<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub goods_out: Option<RecordRef>,
}

impl PickListRecord {
    /// Every goods out the pick list names, in the order given, each once.
    pub fn covered_goods_outs(&self) -> Vec<ClarusId> {
        let mut ids: Vec<ClarusId> = Vec::new();
        let named = self
            .goods_out_ids
            .iter()
            .copied()
            .chain(self.goods_out_id)
            .chain(self.goods_outs.iter().filter_map(|g| g.id))
            .chain(self.goods_out.as_ref().and_then(|g| g.id));
        for id in named {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

/// Lenient view of a goods-in receipt record.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct GoodsInRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub account_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub actual_date_of_arrival: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub external_system_reference1: Option<String>,
    /// Lines, from `lines` or `goods_in_receipt_lines`.
    #[serde(
        default,
        alias = "goods_in_receipt_lines",
        deserialize_with = "lenient_vec"
    )]
    pub lines: Vec<GoodsInLineRecord>,
}

/// Lenient view of a goods-in line.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct GoodsInLineRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub product_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub product: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub expected_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub received_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub alt_line_number: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub external_system_reference1: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub string1: Option<String>,
}

/// Lenient view of a stock event record (adjustment, hold, receipt, transfer, …). The
/// positive-adjustment page lists `id`, `created_at`, `account`, `product`, `warehouse`,
/// `quantity` and `new_quantity`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct StockRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub account: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub account_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub product: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub product_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub location: Option<RecordRef>,
    /// The quantity moved by this event.
    #[serde(default, deserialize_with = "lenient")]
    pub quantity: Option<Decimal>,
    /// The stock record's quantity after the event.
    #[serde(default, deserialize_with = "lenient")]
    pub new_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub reason_code: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub string1: Option<String>,
}

/// Lenient view of a stock balance record.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[allow(missing_docs)]
pub struct StockBalanceRecord {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub product: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub product_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub account: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub account_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse: Option<RecordRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub warehouse_id: Option<ClarusId>,
    #[serde(default, deserialize_with = "lenient")]
    pub available: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub allocated: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub ordered: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub received: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    pub picked: Option<Decimal>,
}

/// Identity of any other record: just its id, when it has one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct OtherRecord {
    /// The record id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<ClarusId>,
}

/// A typed webhook event: one variant per documented resource, with the event and a lenient
/// view of the record.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// `goods_out` / any of its events.
    GoodsOut {
        /// The event.
        event: GoodsOutEvent,
        /// The order.
        record: GoodsOutRecord,
    },
    /// `goods_in` / any of its events.
    GoodsIn {
        /// The event.
        event: GoodsInEvent,
        /// The receipt.
        record: GoodsInRecord,
    },
    /// `goods_out_pick_list` / any of its events.
    GoodsOutPickList {
        /// The event.
        event: PickListEvent,
        /// The pick list.
        record: PickListRecord,
    },
    /// `stock` / any of its events.
    Stock {
        /// The event.
        event: StockEvent,
        /// The stock movement.
        record: StockRecord,
    },
    /// `stock_balance` / `updated`.
    StockBalanceUpdated {
        /// The balance.
        record: StockBalanceRecord,
    },
    /// `load_drop` / `dispatched`.
    LoadDropDispatched {
        /// The load drop.
        record: OtherRecord,
    },
    /// `putaway_task` / `completed`.
    PutawayTaskCompleted {
        /// The task.
        record: OtherRecord,
    },
    /// `invoice` / any of its events.
    Invoice {
        /// The event.
        event: InvoiceEvent,
        /// The invoice.
        record: OtherRecord,
    },
    /// `failure_event_log` / `created`.
    FailureEventLogCreated {
        /// The log entry.
        record: OtherRecord,
    },
    /// `ftp_file` / `uploaded`.
    FtpFileUploaded {
        /// The file.
        record: OtherRecord,
    },
    /// `ftp_import` / `failed`.
    FtpImportFailed {
        /// The import.
        record: OtherRecord,
    },
    /// `*_schedule` / `triggered`.
    ScheduleTriggered {
        /// Which schedule.
        schedule: ScheduleKind,
    },
    /// A pair this client does not know (or could not tell); the delivery's raw body is kept.
    Unknown {
        /// The resource name, empty when it could not be told.
        resource_name: String,
        /// The event, empty when it could not be told.
        event: String,
    },
}

impl WebhookEvent {
    /// Builds the typed event for a resource/event pair from the record JSON.
    pub fn from_parts(resource_name: &str, event: &str, record: &Value) -> Self {
        fn view<T: DeserializeOwned + Default>(record: &Value) -> T {
            // Views read every field leniently, so this only fails for a non-object record.
            T::deserialize(record).unwrap_or_default()
        }
        let unknown = || Self::Unknown {
            resource_name: resource_name.to_owned(),
            event: event.to_owned(),
        };
        match resource_name {
            "goods_out" => {
                GoodsOutEvent::parse(event).map_or_else(unknown, |event| Self::GoodsOut {
                    event,
                    record: view(record),
                })
            }
            "goods_in" => GoodsInEvent::parse(event).map_or_else(unknown, |event| Self::GoodsIn {
                event,
                record: view(record),
            }),
            "goods_out_pick_list" => {
                PickListEvent::parse(event).map_or_else(unknown, |event| Self::GoodsOutPickList {
                    event,
                    record: view(record),
                })
            }
            "stock" => StockEvent::parse(event).map_or_else(unknown, |event| Self::Stock {
                event,
                record: view(record),
            }),
            "stock_balance" if event == "updated" => Self::StockBalanceUpdated {
                record: view(record),
            },
            "load_drop" if event == "dispatched" => Self::LoadDropDispatched {
                record: view(record),
            },
            "putaway_task" if event == "completed" => Self::PutawayTaskCompleted {
                record: view(record),
            },
            "invoice" => InvoiceEvent::parse(event).map_or_else(unknown, |event| Self::Invoice {
                event,
                record: view(record),
            }),
            "failure_event_log" if event == "created" => Self::FailureEventLogCreated {
                record: view(record),
            },
            "ftp_file" if event == "uploaded" => Self::FtpFileUploaded {
                record: view(record),
            },
            "ftp_import" if event == "failed" => Self::FtpImportFailed {
                record: view(record),
            },
            _ if event == "triggered" => ScheduleKind::parse(resource_name)
                .map_or_else(unknown, |schedule| Self::ScheduleTriggered { schedule }),
            _ => unknown(),
        }
    }

    /// The id of the record the event is about, when the payload carries one.
    pub fn record_id(&self) -> Option<ClarusId> {
        match self {
            Self::GoodsOut { record, .. } => record.id,
            Self::GoodsIn { record, .. } => record.id,
            Self::GoodsOutPickList { record, .. } => record.id,
            Self::Stock { record, .. } => record.id,
            Self::StockBalanceUpdated { record } => record.id,
            Self::LoadDropDispatched { record }
            | Self::PutawayTaskCompleted { record }
            | Self::Invoice { record, .. }
            | Self::FailureEventLogCreated { record }
            | Self::FtpFileUploaded { record }
            | Self::FtpImportFailed { record } => record.id,
            Self::ScheduleTriggered { .. } | Self::Unknown { .. } => None,
        }
    }
}

/// Every documented `(resource_name, event)` pair.
pub fn documented_pairs() -> Vec<(&'static str, &'static str)> {
    let mut pairs = Vec::new();
    pairs.extend(GoodsOutEvent::ALL.iter().map(|e| ("goods_out", e.as_str())));
    pairs.extend(GoodsInEvent::ALL.iter().map(|e| ("goods_in", e.as_str())));
    pairs.extend(
        PickListEvent::ALL
            .iter()
            .map(|e| ("goods_out_pick_list", e.as_str())),
    );
    pairs.extend(StockEvent::ALL.iter().map(|e| ("stock", e.as_str())));
    pairs.push(("stock_balance", "updated"));
    pairs.push(("load_drop", "dispatched"));
    pairs.push(("putaway_task", "completed"));
    pairs.extend(InvoiceEvent::ALL.iter().map(|e| ("invoice", e.as_str())));
    pairs.push(("failure_event_log", "created"));
    pairs.push(("ftp_file", "uploaded"));
    pairs.push(("ftp_import", "failed"));
    pairs.extend(ScheduleKind::ALL.iter().map(|s| (s.as_str(), "triggered")));
    pairs
}

/// The body was not JSON. The bytes are kept so nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook body is not JSON: {message}")]
pub struct WebhookParseError {
    /// What was wrong.
    pub message: String,
    /// The body as received.
    pub raw_body: Vec<u8>,
}

/// A parsed delivery: headers, typed event and the raw JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// The `X-ClarusWMS-*` headers.
    pub headers: WebhookHeaders,
    /// The typed event.
    pub event: WebhookEvent,
    /// The whole body as JSON.
    pub raw: Value,
}

impl WebhookDelivery {
    /// Parses a delivery. `route` is the `(resource_name, event)` taken from the URL the
    /// delivery arrived on (see [`super::subscription_url`]); without it the body's top-level
    /// `resource_name` and `event` fields are used.
    pub fn parse(
        headers: WebhookHeaders,
        body: &[u8],
        route: Option<(&str, &str)>,
    ) -> Result<Self, WebhookParseError> {
        let raw: Value = serde_json::from_slice(body).map_err(|e| WebhookParseError {
            message: e.to_string(),
            raw_body: body.to_vec(),
        })?;
        let field = |name: &str| raw.get(name).and_then(Value::as_str).unwrap_or("");
        let (resource_name, event) = match route {
            Some((r, e)) => (r.to_owned(), e.to_owned()),
            None => (field("resource_name").to_owned(), field("event").to_owned()),
        };
        let record = match raw.get("data") {
            Some(data @ Value::Object(_)) => data,
            _ => &raw,
        };
        let event = WebhookEvent::from_parts(&resource_name, &event, record);
        Ok(Self {
            headers,
            event,
            raw,
        })
    }

    /// The record JSON (the `data` object, or the whole body).
    pub fn record(&self) -> &Value {
        match self.raw.get("data") {
            Some(data @ Value::Object(_)) => data,
            _ => &self.raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_pair_is_typed() {
        for (resource, event) in documented_pairs() {
            let parsed = WebhookEvent::from_parts(resource, event, &serde_json::json!({"id": 1}));
            assert!(
                !matches!(parsed, WebhookEvent::Unknown { .. }),
                "{resource}/{event} parsed as Unknown"
            );
        }
        assert_eq!(documented_pairs().len(), 36);
    }

    #[test]
    fn unknown_pairs_are_kept() {
        let parsed = WebhookEvent::from_parts("goods_out", "teleported", &Value::Null);
        assert_eq!(
            parsed,
            WebhookEvent::Unknown {
                resource_name: "goods_out".into(),
                event: "teleported".into()
            }
        );
    }

    #[test]
    fn refs_read_any_shape() {
        let r: RecordRef = serde_json::from_str(r#"{"id":"5","code":"SKU"}"#).unwrap();
        assert_eq!(r.id, Some(ClarusId::new(5)));
        assert_eq!(r.code.as_deref(), Some("SKU"));
        let r: RecordRef = serde_json::from_str(r#""SKU""#).unwrap();
        assert_eq!(r.code.as_deref(), Some("SKU"));
        let r: RecordRef = serde_json::from_str("7").unwrap();
        assert_eq!(r.id, Some(ClarusId::new(7)));
    }
}
