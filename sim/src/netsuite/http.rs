//! The NetSuite simulator's HTTP surface: token endpoint, record API, transforms, SuiteQL,
//! with governance (concurrency limit, latency, faults) and authentication as middleware.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Shared;
use super::error::NsError;
use super::jobs::{Written, written};
use super::records::RecordType;
use super::suiteql;
use super::traffic::RequestKind;
use crate::governance::{Fault, LostReply, lock_unpoisoned as lock};
use crate::server::ConnectionKill;

const SINGULAR: &str = "application/vnd.oracle.resource+json; type=singular";
const COLLECTION: &str = "application/vnd.oracle.resource+json; type=collection";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route(
            "/services/rest/record/v1/{record}",
            get(list).post(create).put(batch_upsert).patch(batch_update),
        )
        .route(
            "/services/rest/record/v1/{record}/{id}",
            get(read).patch(update).put(upsert).delete(delete),
        )
        .route(
            "/services/rest/record/v1/{record}/{id}/{sublist}",
            get(read_sublist),
        )
        .route(
            "/services/rest/record/v1/{record}/{id}/{action}/{target}",
            get(read_line).post(transform),
        )
        .route("/services/rest/query/v1/suiteql", post(suiteql_query))
        .route("/services/rest/async/v1/job/{id}", get(job_status))
        .route("/services/rest/async/v1/job/{id}/task", get(job_tasks))
        .route(
            "/services/rest/async/v1/job/{id}/task/{task}",
            get(job_task),
        )
        .route(
            "/services/rest/async/v1/job/{id}/task/{task}/result",
            get(job_task_result),
        )
        .route(
            "/services/rest/system/v1/governanceLimits",
            get(governance_limits),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate))
        .layer(middleware::from_fn_with_state(shared.clone(), govern));
    Router::new()
        .route("/services/rest/auth/oauth2/v1/token", post(token))
        .merge(api)
        .fallback(|| async {
            NsError::not_found("The requested resource does not exist in the simulator.")
        })
        .with_state(shared)
}

// ------------------------------------------------------------------ middleware

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

async fn govern(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
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

async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
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

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
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

// ------------------------------------------------------------------ records

fn record_type(name: &str) -> Result<RecordType, NsError> {
    RecordType::parse(name).ok_or_else(|| {
        NsError::not_found(format!(
            "Record type '{name}' is not served by the simulator."
        ))
    })
}

fn parse_body(body: &Bytes) -> Result<Value, NsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| NsError::content(format!("Invalid JSON in the request body: {e}")))
}

/// One write, run directly (synchronous request) or as a task of an asynchronous job.
type Task = Box<dyn FnOnce(&mut super::state::State) -> Result<Written, NsError> + Send>;

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_collection(headers: &HeaderMap) -> bool {
    header_text(headers, "content-type").contains("type=collection")
}

/// Runs the tasks: synchronously (one task, its own answer) or, with `Prefer: respond-async`,
/// as a job answered 202 + `Location` (a reused idempotency key answers 400 with the original job).
fn respond(shared: &Shared, headers: &HeaderMap, tasks: Vec<Task>) -> Result<Response, NsError> {
    if !header_text(headers, "prefer").contains("respond-async") {
        if tasks.len() != 1 {
            return Err(NsError::parameter(
                "Collection requests must be asynchronous (Prefer: respond-async).",
            ));
        }
        let task = tasks.into_iter().next().expect("one task");
        let outcome = task(&mut lock(&shared.state))?;
        return Ok(written(&shared.base_url, outcome));
    }
    let key = headers
        .get("x-netsuite-idempotency-key")
        .and_then(|v| v.to_str().ok());
    let mut jobs = lock(&shared.jobs);
    if let Some(conflict) = jobs.reused_key(key, &shared.base_url) {
        return Ok(conflict);
    }
    let started = jiff::Timestamp::now();
    let outcomes: Vec<Result<Written, NsError>> = {
        let mut state = lock(&shared.state);
        tasks.into_iter().map(|task| task(&mut state)).collect()
    };
    Ok(jobs.submit(key, outcomes, started, &shared.base_url))
}

/// The records of a collection body `{"items": [...]}`.
fn collection_items(body: Value) -> Result<Vec<Value>, NsError> {
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| NsError::content("A collection body is {\"items\": [...]}.").at("items"))?;
    if items.is_empty() || items.len() > 100 {
        return Err(NsError::content("A collection request carries 1 to 100 records.").at("items"));
    }
    Ok(items)
}

fn json_response(content_type: &'static str, value: Value) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "T")
}

fn list_param(query: &HashMap<String, String>, name: &str) -> Vec<String> {
    query
        .get(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(record): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let (limit, offset) = paging(&query)?;
    let state = lock(&shared.state);
    let ids: Vec<u64> = match query.get("q").map(|q| q.trim()) {
        None | Some("") => state
            .records
            .get(&record)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default(),
        Some(q) => {
            let ext = q
                .strip_prefix("externalId IS ")
                .map(|v| v.trim().trim_matches('"'))
                .ok_or_else(|| {
                    NsError::parameter("The simulator supports only q=externalId IS \"...\".")
                        .at("q")
                })?;
            state.find_external(record, ext).into_iter().collect()
        }
    };
    let total = ids.len();
    let items: Vec<Value> = ids
        .iter()
        .skip(offset)
        .take(limit)
        .map(|id| json!({"links": [{"rel": "self", "href": format!("{}/services/rest/record/v1/{record}/{id}", shared.base_url)}], "id": id.to_string()}))
        .collect();
    let href = format!("{}/services/rest/record/v1/{record}", shared.base_url);
    Ok(json_response(
        COLLECTION,
        collection(&href, items, offset, limit, total),
    ))
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let body = parse_body(&body)?;
    let bodies = if is_collection(&headers) {
        collection_items(body)?
    } else {
        vec![body]
    };
    let tasks: Vec<Task> = bodies
        .into_iter()
        .map(|body| -> Task {
            Box::new(move |state: &mut super::state::State| {
                state
                    .create(record, body)
                    .map(|id| Written::Created(record, id))
            })
        })
        .collect();
    respond(&shared, &headers, tasks)
}

async fn batch_upsert(
    State(shared): State<Arc<Shared>>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let items = collection_items(parse_body(&body)?)?;
    let tasks: Vec<Task> = items
        .into_iter()
        .map(|body| -> Task {
            Box::new(move |state: &mut super::state::State| {
                // An internal id wins over an external id.
                if let Some(raw) = body.get("id").and_then(crate::json::id_from_json) {
                    let id = state.resolve_path_id(record, &raw.to_string())?;
                    let mut body = body;
                    if let Some(map) = body.as_object_mut() {
                        map.remove("id");
                    }
                    return state
                        .update(record, id, body, &[])
                        .map(|()| Written::Created(record, id));
                }
                let ext = body
                    .get("externalId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        NsError::user("A PUT collection identifies records by externalId.")
                            .at("externalId")
                    })?;
                state
                    .upsert(record, &ext, body)
                    .map(|(id, _)| Written::Created(record, id))
            })
        })
        .collect();
    respond(&shared, &headers, tasks)
}

async fn batch_update(
    State(shared): State<Arc<Shared>>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let items = collection_items(parse_body(&body)?)?;
    let tasks: Vec<Task> = items
        .into_iter()
        .map(|body| -> Task {
            Box::new(move |state: &mut super::state::State| {
                let key = match (
                    body.get("id").and_then(crate::json::id_from_json),
                    body.get("externalId").and_then(Value::as_str),
                ) {
                    (Some(id), _) => id.to_string(),
                    (None, Some(ext)) => format!("eid:{ext}"),
                    (None, None) => {
                        return Err(
                            NsError::user("Each record needs an id or externalId.").at("id")
                        );
                    }
                };
                let id = state.resolve_path_id(record, &key)?;
                state.update(record, id, body, &[]).map(|()| Written::Done)
            })
        })
        .collect();
    respond(&shared, &headers, tasks)
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path((record, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let state = lock(&shared.state);
    let id = state.resolve_path_id(record, &id)?;
    let fields = list_param(&query, "fields");
    let fields = (!fields.is_empty()).then_some(fields);
    let base = format!("{}/services/rest", shared.base_url);
    let body = state
        .render(
            record,
            id,
            &base,
            flag(&query, "expandSubResources"),
            fields.as_deref(),
        )
        .ok_or_else(|| NsError::not_found("The record instance does not exist."))?;
    Ok(json_response(SINGULAR, body))
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((record, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let body = parse_body(&body)?;
    let replace = list_param(&query, "replace");
    let task: Task = Box::new(move |state: &mut super::state::State| {
        let id = state.resolve_path_id(record, &id)?;
        state
            .update(record, id, body, &replace)
            .map(|()| Written::Done)
    });
    respond(&shared, &headers, vec![task])
}

async fn upsert(
    State(shared): State<Arc<Shared>>,
    Path((record, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let ext = id
        .strip_prefix("eid:")
        .ok_or_else(|| {
            NsError::user(
                "PUT (upsert) addresses a record by external ID only: /{type}/eid:{externalId}.",
            )
        })?
        .to_string();
    let body = parse_body(&body)?;
    let task: Task = Box::new(move |state: &mut super::state::State| {
        state
            .upsert(record, &ext, body)
            .map(|(id, _)| Written::Created(record, id))
    });
    respond(&shared, &headers, vec![task])
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((record, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let task: Task = Box::new(move |state: &mut super::state::State| {
        let id = state.resolve_path_id(record, &id)?;
        state.delete(record, id).map(|()| Written::Done)
    });
    respond(&shared, &headers, vec![task])
}

async fn read_sublist(
    State(shared): State<Arc<Shared>>,
    Path((record, id, sublist)): Path<(String, String, String)>,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let state = lock(&shared.state);
    let id = state.resolve_path_id(record, &id)?;
    let lines = state
        .sublist(record, id, &sublist)
        .ok_or_else(|| NsError::not_found(format!("{record} has no sublist {sublist}.")))?;
    let href = format!(
        "{}/services/rest/record/v1/{record}/{id}/{sublist}",
        shared.base_url
    );
    let total = lines.len();
    Ok(json_response(
        COLLECTION,
        collection(&href, lines, 0, total.max(1), total),
    ))
}

async fn read_line(
    State(shared): State<Arc<Shared>>,
    Path((record, id, sublist, line)): Path<(String, String, String, String)>,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let state = lock(&shared.state);
    let id = state.resolve_path_id(record, &id)?;
    let lines = state
        .sublist(record, id, &sublist)
        .ok_or_else(|| NsError::not_found(format!("{record} has no sublist {sublist}.")))?;
    let wanted: u64 = line
        .parse()
        .map_err(|_| NsError::not_found("No such line."))?;
    let line = lines
        .into_iter()
        .find(|l| l.get("line").and_then(crate::json::id_from_json) == Some(wanted))
        .ok_or_else(|| NsError::not_found(format!("Line {wanted} does not exist.")))?;
    Ok(json_response(SINGULAR, line))
}

async fn transform(
    State(shared): State<Arc<Shared>>,
    Path((record, id, action, target)): Path<(String, String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    if action != "!transform" {
        return Err(NsError::not_found(format!("Unknown action {action}.")));
    }
    let source = record_type(&record)?;
    let target = record_type(&target)?;
    let body = parse_body(&body)?;
    let replace = list_param(&query, "replace").iter().any(|r| r == "item");
    let task: Task = Box::new(move |state: &mut super::state::State| {
        let source_id = state.resolve_path_id(source, &id)?;
        state
            .transform(source, source_id, target, body, replace)
            .map(|new_id| Written::Created(target, new_id))
    });
    respond(&shared, &headers, vec![task])
}

async fn job_status(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, NsError> {
    let body = lock(&shared.jobs).status(&id, &shared.base_url)?;
    Ok(json_response(SINGULAR, body))
}

async fn job_tasks(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, NsError> {
    let body = lock(&shared.jobs).tasks(&id, &shared.base_url)?;
    Ok(json_response(COLLECTION, body))
}

async fn job_task(
    State(shared): State<Arc<Shared>>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Response, NsError> {
    let body = lock(&shared.jobs).task_status(&id, &task, &shared.base_url)?;
    Ok(json_response(SINGULAR, body))
}

async fn job_task_result(
    State(shared): State<Arc<Shared>>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Response, NsError> {
    lock(&shared.jobs).task_result(&id, &task, &shared.base_url)
}

async fn governance_limits(State(shared): State<Arc<Shared>>) -> Response {
    let limit = shared.governor.concurrency_limit().unwrap_or(1000);
    json_response(
        SINGULAR,
        json!({
            "accountConcurrencyLimit": limit,
            "accountUnallocatedConcurrencyLimit": limit,
            "integrationConcurrencyLimit": limit,
            "integrationLimitType": "accountLimit",
        }),
    )
}

// ------------------------------------------------------------------ SuiteQL

fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), NsError> {
    let limit = match query.get("limit") {
        None => 1000,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| {
                NsError::parameter("The limit must be an integer from 1 to 1000.").at("limit")
            })?,
    };
    let offset = match query.get("offset") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| {
            NsError::parameter("The offset must be a non-negative integer.").at("offset")
        })?,
    };
    if offset % limit != 0 {
        return Err(NsError::parameter(format!(
            "Invalid offset {offset}: the offset must be a multiple of the limit ({limit})."
        ))
        .at("offset"));
    }
    Ok((limit, offset))
}

fn collection(href: &str, items: Vec<Value>, offset: usize, limit: usize, total: usize) -> Value {
    let link = |rel: &str, o: usize| json!({"rel": rel, "href": format!("{href}?limit={limit}&offset={o}")});
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let has_more = offset + items.len() < total;
    let mut links = vec![link("self", offset), link("first", 0)];
    if offset > 0 {
        links.push(link("prev", offset.saturating_sub(limit)));
    }
    if has_more {
        links.push(link("next", offset + limit));
    }
    links.push(link("last", last));
    json!({
        "links": links,
        "count": items.len(),
        "hasMore": has_more,
        "items": items,
        "offset": offset,
        "totalResults": total,
    })
}

async fn suiteql_query(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let prefer = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !prefer
        .split(',')
        .any(|p| p.trim().eq_ignore_ascii_case("transient"))
    {
        return Err(NsError::parameter(
            "SuiteQL requests need the header Prefer: transient.",
        ));
    }
    let (limit, offset) = paging(&query)?;
    if offset >= 100_000 {
        return Err(NsError::parameter(
            "A SuiteQL query returns at most 100000 rows; use keyset paging.",
        )
        .at("offset"));
    }
    let body = parse_body(&body)?;
    let q = body
        .get("q")
        .and_then(Value::as_str)
        .ok_or_else(|| NsError::content("The body must be {\"q\": \"SELECT ...\"}.").at("q"))?;
    let rows = suiteql::run(&lock(&shared.state), q)?;
    let total = rows.len();
    let items: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(Value::Object)
        .collect();
    let href = format!("{}/services/rest/query/v1/suiteql", shared.base_url);
    Ok(json_response(
        COLLECTION,
        collection(&href, items, offset, limit, total),
    ))
}
