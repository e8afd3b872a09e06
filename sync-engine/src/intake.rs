//! Webhook intake: an HTTP endpoint that checks the shared secret, limits the body, stores the
//! delivery durably and only then answers `202 Accepted`.
//!
//! Clarus signs nothing, so the secret travels in the subscription URL (`?token=…`, see
//! `clarus_client::webhook::subscription_url`) and is compared in constant time. Processing
//! happens later, from the store ([`crate::processor`]): a slow NetSuite never makes Clarus wait,
//! and a crash after the answer loses nothing.
//!
//! The same router answers probes: `GET /livez` (the process serves), `GET /health` (its older
//! name) and, when given the service's [`Health`] ([`router_with_health`]), `GET /readyz`
//! (the ledger is moving).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use clarus_client::webhook::WebhookSecret;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::health::{Health, Readiness};
use crate::store::{NewDelivery, Store};

/// The `source` of deliveries taken by this endpoint.
pub const CLARUS_WEBHOOK_SOURCE: &str = "clarus-webhook";

/// Settings of the webhook endpoint.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// The shared secret each delivery must present as `?token=`.
    pub secret: WebhookSecret,
    /// Largest body accepted, in bytes; larger deliveries get `413`.
    pub max_body_bytes: usize,
}

#[derive(Clone)]
struct IntakeState {
    store: Arc<dyn Store>,
    secret: WebhookSecret,
}

/// The intake router: `POST /webhooks/clarus/{resource}/{event}?token=…`, and the liveness
/// probe `GET /livez` (`200 ok` while the process serves). `GET /health` is an alias of `/livez`,
/// kept for probes set up before it existed. Readiness (`/readyz`) needs the service's health:
/// see [`router_with_health`].
pub fn router(store: Arc<dyn Store>, config: IntakeConfig) -> Router {
    Router::new()
        .route("/webhooks/clarus/{resource}/{event}", post(receive))
        .route("/livez", get(live))
        .route("/health", get(live))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(IntakeState {
            store,
            secret: config.secret,
        })
}

/// [`router`] with the readiness probe `GET /readyz`: `200` with a JSON [`Readiness`] (every
/// connection and scheduled job with its last success and failure and its failures in a row)
/// while every one is moving, `503` with the same body when any is stale or failing, so a load
/// balancer stops routing to an instance that is not moving the ledger.
pub fn router_with_health(store: Arc<dyn Store>, config: IntakeConfig, health: Health) -> Router {
    router(store, config).route(
        "/readyz",
        get(move || {
            let health = health.clone();
            async move { ready(&health) }
        }),
    )
}

async fn live() -> &'static str {
    "ok"
}

fn ready(health: &Health) -> (StatusCode, Json<Readiness>) {
    let readiness = health.readiness();
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

async fn receive(
    State(state): State<IntakeState>,
    Path((resource, event)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if state.secret.verify_query(query.as_deref()).is_err() {
        tracing::warn!(%resource, %event, "webhook refused: shared secret missing or wrong");
        return StatusCode::UNAUTHORIZED;
    }
    let delivery = NewDelivery {
        source: CLARUS_WEBHOOK_SOURCE.into(),
        received_at: Timestamp::now(),
        headers: kept_headers(&resource, &event, &headers),
        body: body.to_vec(),
    };
    match state.store.record_delivery(delivery).await {
        Ok(id) => {
            tracing::debug!(id, %resource, %event, "webhook stored");
            StatusCode::ACCEPTED
        }
        Err(e) => {
            // Not stored: ask Clarus to deliver again rather than pretend.
            tracing::error!(error = %e, "webhook could not be stored");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The route and the identifying `X-ClarusWMS-*` headers; nothing that could carry a credential.
fn kept_headers(resource: &str, event: &str, headers: &HeaderMap) -> Value {
    let mut kept = Map::new();
    kept.insert("resource_name".into(), resource.into());
    kept.insert("event".into(), event.into());
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("x-claruswms-")
            && let Ok(value) = value.to_str()
        {
            kept.insert(name.into(), value.into());
        }
    }
    Value::Object(kept)
}
