//! Middleware and the token endpoint: traffic counts, governance (concurrency limit, latency,
//! faults) and bearer-token authentication; `POST /auth/oauth2/v1/token`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::governance::{Fault, LostReply, lock_unpoisoned as lock};
use crate::netsuite::Shared;
use crate::netsuite::error::NsError;
use crate::netsuite::traffic::RequestKind;
use crate::server::ConnectionKill;

/// Classifies a request for the traffic counts; a SuiteQL request's body is read (and put back)
/// to name the table it queries.
async fn classify(request: Request) -> (Request, RequestKind) {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if !path.ends_with("/query/v1/suiteql") {
        return (request, RequestKind::classify(&method, &path, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let q = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("q")?.as_str().map(str::to_owned));
    let kind = RequestKind::classify(&method, &path, q.as_deref());
    (
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        kind,
    )
}

pub(super) async fn govern(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let (request, kind) = classify(request).await;
    shared.traffic.record(kind);
    let Some(_permit) = shared.governor.try_enter() else {
        return NsError::concurrency().into_response();
    };
    shared.governor.delay().await;
    let is_write = request.method() != Method::GET && request.uri().path().contains("/record/v1/");
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    match shared.governor.decide(is_write) {
        None => next.run(request).await,
        Some(Fault::Throttle) => NsError::concurrency().into_response(),
        Some(Fault::ServerErrorBeforeCommit) => NsError::unexpected().into_response(),
        Some(Fault::Refuse) => NsError::user(
            "The accounting period for this transaction date is closed (simulated refusal).",
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
                _ => NsError::unexpected().into_response(),
            }
        }
    }
}

pub(super) async fn authenticate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = if let Some(token) = header.strip_prefix("Bearer ") {
        lock(&shared.tokens)
            .get(token.trim())
            .is_some_and(|expires| *expires > Instant::now())
    } else if let Some(params) = header.strip_prefix("OAuth ") {
        // Token-based authentication: the shape is checked, the signature is not verified.
        [
            "realm=",
            "oauth_consumer_key=",
            "oauth_token=",
            "oauth_signature_method=\"HMAC-SHA256\"",
            "oauth_timestamp=",
            "oauth_nonce=",
            "oauth_signature=",
        ]
        .iter()
        .all(|p| params.contains(p))
    } else {
        false
    };
    if ok {
        next.run(request).await
    } else {
        NsError::login().into_response()
    }
}

// ------------------------------------------------------------------ token

pub(super) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let error = |code: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": code, "error_description": description})),
        )
            .into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return error(
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return error(
            "invalid_request",
            "client_assertion_type must be the JWT bearer type",
        );
    }
    let assertion = form
        .get("client_assertion")
        .map(String::as_str)
        .unwrap_or("");
    if assertion.split('.').count() != 3 {
        return error("invalid_client", "client_assertion must be a signed JWT");
    }
    let token = format!(
        "sim-ns-{:016x}",
        (shared.governor.random() * u64::MAX as f64) as u64
    );
    lock(&shared.tokens).insert(token.clone(), Instant::now() + shared.token_ttl);
    axum::Json(json!({
        "access_token": token,
        "expires_in": shared.token_ttl.as_secs().to_string(),
        "token_type": "bearer",
    }))
    .into_response()
}
