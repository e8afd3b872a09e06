//! Webhooks: typed events, the `X-ClarusWMS-*` headers, shared-secret verification and the
//! helper that creates webhook automations idempotently for the pairs a caller subscribes to
//! (which pairs an integration needs is the integration's business, not the client's).
//!
//! ```
//! use clarus_client::webhook::{WebhookDelivery, WebhookEvent, WebhookHeaders, GoodsOutEvent};
//! let body = br#"{"data":{"id":3301,"reference":"SO-1","lines":[{"product_id":5,"dispatch_quantity":2}]}}"#;
//! let headers = WebhookHeaders::from_pairs([("X-ClarusWMS-Automation-ID", "12")]);
//! let delivery = WebhookDelivery::parse(headers, body, Some(("goods_out", "completed"))).unwrap();
//! match delivery.event {
//!     WebhookEvent::GoodsOut { event: GoodsOutEvent::Completed, record } => {
//!         assert_eq!(record.reference.as_deref(), Some("SO-1"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

mod event;
mod headers;
mod subscribe;
mod verify;

pub use event::*;
pub use headers::WebhookHeaders;
pub use subscribe::{SubscriptionOutcome, WebhookTarget, subscription_url};
pub use verify::{TOKEN_QUERY_PARAM, VerifyError, WebhookSecret};
