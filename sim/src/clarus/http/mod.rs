//! The Clarus simulator's HTTP surface: OAuth token, REST operations (bodies validated against
//! the OpenAPI request schemas), GraphQL reads, with governance and authentication as middleware.

mod rest;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::Shared;
use super::state::ClarusError;
use crate::governance::{Fault, LostReply, lock_unpoisoned as lock};
use crate::json::id_from_json;
use crate::server::ConnectionKill;
use rest::{
    cancel_goods_out, create_automation, create_goods_in, create_goods_out, create_product,
    create_shipment, create_stock_check, delete_automation, delete_goods_in, delete_goods_out,
    delete_product, hold, negative_adjustment, offhold, process_picks, receive_goods_in,
    revert_goods_in, short_order_lines, submit_shipment, update_automation, update_goods_in,
    update_goods_out, update_product,
};

impl IntoResponse for ClarusError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "symbol": self.symbol, "details": self.details});
        if let Some(source) = self.source {
            error["source"] = json!(source);
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        (status, axum::Json(json!({"errors": [error]}))).into_response()
    }
}

fn unauthorized(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": message})),
    )
        .into_response()
}

fn server_error() -> Response {
    ClarusError {
        status: 500,
        code: 931,
        symbol: "internal_server_error",
        details: "Something went wrong (simulated fault)".into(),
        source: None,
    }
    .into_response()
}

fn too_many_requests() -> Response {
    ClarusError {
        status: 429,
        code: 930,
        symbol: "too_many_requests",
        details: "Too many concurrent requests (simulated limit)".into(),
        source: None,
    }
    .into_response()
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let p = shared.prefix.clone();
    let api = Router::new()
        .route(&format!("{p}/products"), post(create_product))
        .route(
            &format!("{p}/products/{{id}}"),
            patch(update_product).delete(delete_product),
        )
        .route(&format!("{p}/goods_in_receipts"), post(create_goods_in))
        .route(
            &format!("{p}/goods_in_receipts/{{id}}"),
            patch(update_goods_in).delete(delete_goods_in),
        )
        .route(
            &format!("{p}/goods_in_receipts/{{id}}/receive"),
            post(receive_goods_in),
        )
        .route(
            &format!("{p}/goods_in_receipts/{{id}}/revert"),
            post(revert_goods_in),
        )
        .route(&format!("{p}/goods_outs"), post(create_goods_out))
        .route(
            &format!("{p}/goods_outs/{{id}}"),
            patch(update_goods_out).delete(delete_goods_out),
        )
        .route(
            &format!("{p}/goods_outs/{{id}}/cancel"),
            post(cancel_goods_out),
        )
        .route(
            &format!("{p}/goods_out_processes/process_picks_async"),
            post(process_picks),
        )
        .route(
            &format!("{p}/goods_out_processes/short_order_lines"),
            post(short_order_lines),
        )
        .route(&format!("{p}/shipments"), post(create_shipment))
        .route(
            &format!("{p}/shipments/{{id}}/submit"),
            post(submit_shipment),
        )
        .route(&format!("{p}/stocks/hold"), post(hold))
        .route(&format!("{p}/stocks/offhold"), post(offhold))
        .route(
            &format!("{p}/stocks/{{id}}/negative_adjustment"),
            post(negative_adjustment),
        )
        .route(&format!("{p}/stock_checks"), post(create_stock_check))
        .route(&format!("{p}/automations"), post(create_automation))
        .route(
            &format!("{p}/automations/{{id}}"),
            patch(update_automation).delete(delete_automation),
        )
        .route("/graphql", post(graphql))
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate))
        .layer(middleware::from_fn_with_state(shared.clone(), govern));
    Router::new()
        .route("/oauth/token", post(token))
        .merge(api)
        .fallback(|| async {
            ClarusError {
                status: 404,
                code: 904,
                symbol: "route_not_found",
                details: "No such endpoint in the simulator".into(),
                source: None,
            }
        })
        .with_state(shared)
}

// ------------------------------------------------------------------ middleware

async fn govern(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(_permit) = shared.governor.try_enter() else {
        return too_many_requests();
    };
    shared.governor.delay().await;
    let is_write = request.method() != Method::GET && request.uri().path() != "/graphql";
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    match shared.governor.decide(is_write) {
        None => next.run(request).await,
        Some(Fault::Throttle) => too_many_requests(),
        Some(Fault::ServerErrorBeforeCommit) => server_error(),
        Some(Fault::Refuse) => ClarusError::unprocessable(
            422,
            "unprocessable_entity",
            "The request was refused by a business rule (simulated refusal)",
        )
        .into_response(),
        Some(Fault::CommitThenFail(lost)) => {
            let response = next.run(request).await;
            if !response.status().is_success() {
                return response;
            }
            match (lost, kill) {
                (LostReply::DropConnection, Some(kill)) => {
                    kill.drop_connection();
                    std::future::pending::<Response>().await
                }
                _ => server_error(),
            }
        }
    }
}

async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let valid = lock(&shared.tokens)
        .get(token)
        .is_some_and(|expires| *expires > Instant::now());
    if !valid {
        return unauthorized("The access token is invalid or has expired");
    }
    let subdomain = request
        .headers()
        .get("x-clarus-subdomain")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if subdomain != shared.subdomain {
        return unauthorized("X-Clarus-Subdomain is missing or names another tenant");
    }
    next.run(request).await
}

// ------------------------------------------------------------------ token

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    let mut form: HashMap<String, String> = if is_json {
        serde_json::from_slice::<Map<String, Value>>(&body)
            .map(|m| {
                m.into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        url::form_urlencoded::parse(&body).into_owned().collect()
    };
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim())
        && let Some((id, secret)) = String::from_utf8_lossy(&decoded).split_once(':')
    {
        form.insert("client_id".into(), id.to_string());
        form.insert("client_secret".into(), secret.to_string());
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server."}))).into_response();
    }
    let id_ok = form.get("client_id") == Some(&shared.client_id);
    let secret_ok = form.get("client_secret").is_some_and(|s| {
        crate::clarus::constant_time_eq(s.as_bytes(), shared.client_secret.as_bytes())
    });
    if !id_ok || !secret_ok {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."}))).into_response();
    }
    let token = format!(
        "sim-clarus-{:016x}",
        (shared.governor.random() * u64::MAX as f64) as u64
    );
    lock(&shared.tokens).insert(token.clone(), Instant::now() + shared.token_ttl);
    axum::Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": shared.token_ttl.as_secs(),
        "scope": form.get("scope").cloned().unwrap_or_default(),
        "created_at": jiff::Timestamp::now().as_second(),
    }))
    .into_response()
}

// ------------------------------------------------------------------ helpers

/// Parses the body and validates it against the operation's request schema.
fn validated(shared: &Shared, operation: &str, body: &Bytes) -> Result<Value, ClarusError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ClarusError::unprocessable(
            100,
            "invalid_json",
            format!("The body is not valid JSON: {e}"),
        )
    })?;
    if shared.schemas.has(operation) {
        let violations = shared.schemas.validate(operation, &value);
        if let Some(first) = violations.first() {
            let details = violations
                .iter()
                .map(|v| format!("{} at '{}'", v.message, v.pointer))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(
                ClarusError::unprocessable(101, "invalid_request_body", details)
                    .at(first.pointer.clone()),
            );
        }
    }
    Ok(value)
}

fn attributes(body: &Value) -> Map<String, Value> {
    body.pointer("/data/attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn address(body: &Value) -> Option<Value> {
    body.pointer("/data/relationships/address/data/attributes")
        .cloned()
}

fn data(kind: &str, record: Value) -> Response {
    let id = record.get("id").cloned().unwrap_or(Value::Null);
    let mut attributes = record;
    if let Some(map) = attributes.as_object_mut() {
        map.remove("id");
    }
    axum::Json(json!({"data": {"id": id, "type": kind, "attributes": attributes}})).into_response()
}

fn path_id(raw: &str) -> Result<u64, ClarusError> {
    raw.parse().map_err(|_| ClarusError {
        status: 404,
        code: 904,
        symbol: "record_not_found",
        details: format!("{raw} is not a record id"),
        source: None,
    })
}

fn ids(body: &Value) -> Vec<u64> {
    body.get("ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(id_from_json).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------------------ GraphQL

async fn graphql(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"errors": [{"message": format!("invalid JSON: {e}")}]})),
            )
                .into_response();
        }
    };
    let settings = super::graphql::Settings {
        max_page: shared.max_page_size,
        profile: shared.graphql_profile,
    };
    let answer = super::graphql::execute(&lock(&shared.state), &body, settings);
    axum::Json(answer).into_response()
}
