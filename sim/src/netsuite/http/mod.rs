//! The NetSuite simulator's HTTP surface: token endpoint, record API, transforms, SuiteQL,
//! with governance (concurrency limit, latency, faults) and authentication as middleware.
//!
//! `access.rs` holds governance, authentication and the token endpoint; `records.rs` the
//! record API; this module the router, SuiteQL, jobs and the shared response helpers.

mod access;
mod records;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Shared;
use super::error::NsError;
use super::suiteql;
use crate::governance::lock_unpoisoned as lock;
use access::{authenticate, govern, token};
use records::{
    batch_write, create, delete, list, parse_body, read, read_line, read_sublist, transform,
    update, upsert,
};

const SINGULAR: &str = "application/vnd.oracle.resource+json; type=singular";
const COLLECTION: &str = "application/vnd.oracle.resource+json; type=collection";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route(
            "/services/rest/record/v1/{record}",
            get(list).post(create).put(batch_write).patch(batch_write),
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
