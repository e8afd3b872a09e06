//! The record API: list, create, read, update, upsert, delete, sublists and lines, transforms,
//! and collections (`type=collection`) run as asynchronous jobs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{Value, json};

use super::{COLLECTION, SINGULAR, collection, flag, json_response, list_param, paging};
use crate::governance::lock_unpoisoned as lock;
use crate::netsuite::Shared;
use crate::netsuite::error::NsError;
use crate::netsuite::jobs::{Written, written};
use crate::netsuite::records::RecordType;
use crate::netsuite::state;

fn record_type(name: &str) -> Result<RecordType, NsError> {
    RecordType::parse(name).ok_or_else(|| {
        NsError::not_found(format!(
            "Record type '{name}' is not served by the simulator."
        ))
    })
}

pub(super) fn parse_body(body: &Bytes) -> Result<Value, NsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| NsError::content(format!("Invalid JSON in the request body: {e}")))
}

/// One write, run directly (synchronous request) or as a task of an asynchronous job.
type Task = Box<dyn FnOnce(&mut state::State) -> Result<Written, NsError> + Send>;

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

pub(super) async fn list(
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

pub(super) async fn create(
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
    respond(&shared, &headers, tasks(record, bodies, create_one))
}

/// One task per record of a request: `write` on each body.
fn tasks(
    record: RecordType,
    bodies: Vec<Value>,
    write: fn(&mut state::State, RecordType, Value) -> Result<Written, NsError>,
) -> Vec<Task> {
    bodies
        .into_iter()
        .map(|body| -> Task { Box::new(move |state| write(state, record, body)) })
        .collect()
}

/// A record of a `POST` (one record or a collection).
fn create_one(
    state: &mut state::State,
    record: RecordType,
    body: Value,
) -> Result<Written, NsError> {
    state
        .create(record, body)
        .map(|id| Written::Created(record, id))
}

/// `PUT` (upsert) or `PATCH` (update) of a collection: one task per record.
pub(super) async fn batch_write(
    State(shared): State<Arc<Shared>>,
    Path(record): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let items = collection_items(parse_body(&body)?)?;
    let write = if method == Method::PUT {
        upsert_one
    } else {
        update_one
    };
    respond(&shared, &headers, tasks(record, items, write))
}

/// A record of a `PUT` collection: updated by internal id, else upserted by external id.
fn upsert_one(
    state: &mut state::State,
    record: RecordType,
    body: Value,
) -> Result<Written, NsError> {
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
            NsError::user("A PUT collection identifies records by externalId.").at("externalId")
        })?;
    state
        .upsert(record, &ext, body)
        .map(|(id, _)| Written::Created(record, id))
}

/// A record of a `PATCH` collection, found by internal or external id.
fn update_one(
    state: &mut state::State,
    record: RecordType,
    body: Value,
) -> Result<Written, NsError> {
    let key = match (
        body.get("id").and_then(crate::json::id_from_json),
        body.get("externalId").and_then(Value::as_str),
    ) {
        (Some(id), _) => id.to_string(),
        (None, Some(ext)) => format!("eid:{ext}"),
        (None, None) => {
            return Err(NsError::user("Each record needs an id or externalId.").at("id"));
        }
    };
    let id = state.resolve_path_id(record, &key)?;
    state.update(record, id, body, &[]).map(|()| Written::Done)
}

pub(super) async fn read(
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

pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path((record, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let body = parse_body(&body)?;
    let replace = list_param(&query, "replace");
    let task: Task = Box::new(move |state: &mut state::State| {
        let id = state.resolve_path_id(record, &id)?;
        state
            .update(record, id, body, &replace)
            .map(|()| Written::Done)
    });
    respond(&shared, &headers, vec![task])
}

pub(super) async fn upsert(
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
    let task: Task = Box::new(move |state: &mut state::State| {
        state
            .upsert(record, &ext, body)
            .map(|(id, _)| Written::Created(record, id))
    });
    respond(&shared, &headers, vec![task])
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((record, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, NsError> {
    let record = record_type(&record)?;
    let task: Task = Box::new(move |state: &mut state::State| {
        let id = state.resolve_path_id(record, &id)?;
        state.delete(record, id).map(|()| Written::Done)
    });
    respond(&shared, &headers, vec![task])
}

/// The lines of a sublist named by a path: the record type, the record's id (or `eid:`) and the
/// sublist; answered with the resolved type and id.
fn sublist_lines(
    shared: &Shared,
    record: &str,
    id: &str,
    sublist: &str,
) -> Result<(RecordType, u64, Vec<Value>), NsError> {
    let record = record_type(record)?;
    let state = lock(&shared.state);
    let id = state.resolve_path_id(record, id)?;
    let lines = state
        .sublist(record, id, sublist)
        .ok_or_else(|| NsError::not_found(format!("{record} has no sublist {sublist}.")))?;
    Ok((record, id, lines))
}

pub(super) async fn read_sublist(
    State(shared): State<Arc<Shared>>,
    Path((record, id, sublist)): Path<(String, String, String)>,
) -> Result<Response, NsError> {
    let (record, id, lines) = sublist_lines(&shared, &record, &id, &sublist)?;
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

pub(super) async fn read_line(
    State(shared): State<Arc<Shared>>,
    Path((record, id, sublist, line)): Path<(String, String, String, String)>,
) -> Result<Response, NsError> {
    let (_, _, lines) = sublist_lines(&shared, &record, &id, &sublist)?;
    let wanted: u64 = line
        .parse()
        .map_err(|_| NsError::not_found("No such line."))?;
    let line = lines
        .into_iter()
        .find(|l| l.get("line").and_then(crate::json::id_from_json) == Some(wanted))
        .ok_or_else(|| NsError::not_found(format!("Line {wanted} does not exist.")))?;
    Ok(json_response(SINGULAR, line))
}

pub(super) async fn transform(
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
    let task: Task = Box::new(move |state: &mut state::State| {
        let source_id = state.resolve_path_id(source, &id)?;
        state
            .transform(source, source_id, target, body, replace)
            .map(|new_id| Written::Created(target, new_id))
    });
    respond(&shared, &headers, vec![task])
}
