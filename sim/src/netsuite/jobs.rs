//! Asynchronous requests: `Prefer: respond-async` (with `X-NetSuite-Idempotency-Key`) runs the
//! write as a job of one or more tasks (one per record of a collection request) and answers 202
//! with the job's `Location`; the job, its tasks and their results are read under `/async/v1/job`.
//! A reused idempotency key answers 400 `IDEMPOTENCY_ERROR` with the original job's `Location`.
//!
//! The simulator runs the tasks before answering, so a job is complete when first polled.

use std::collections::{BTreeMap, HashMap};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::error::NsError;
use super::records::RecordType;

/// What a successful write answers: 204, with a `Location` when a record was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Created(RecordType, u64),
    Done,
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    tasks: Vec<Result<Written, NsError>>,
    started: Timestamp,
    ended: Timestamp,
}

#[derive(Debug, Default)]
pub(crate) struct Jobs {
    next: u64,
    jobs: BTreeMap<u64, Job>,
    keys: HashMap<String, u64>,
}

/// The 204 (+ `Location`) a successful write answers.
pub(crate) fn written(base_url: &str, written: Written) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Written::Created(record, id) = written {
        let location = format!("{base_url}/services/rest/record/v1/{record}/{id}");
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

fn job_url(base_url: &str, id: u64) -> String {
    format!("{base_url}/services/rest/async/v1/job/{id}")
}

fn with_location(mut response: Response, location: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

impl Jobs {
    /// The job already submitted with this idempotency key, as the 400 the service answers.
    pub(crate) fn reused_key(&self, key: Option<&str>, base_url: &str) -> Option<Response> {
        let id = *self.keys.get(key?)?;
        let error = NsError::new(
            StatusCode::BAD_REQUEST,
            "IDEMPOTENCY_ERROR",
            "A request with this idempotency key was already submitted; see the original job.",
        )
        .titled("Conflict");
        Some(with_location(error.into_response(), &job_url(base_url, id)))
    }

    /// Records a finished job and answers 202 with its `Location`.
    pub(crate) fn submit(
        &mut self,
        key: Option<&str>,
        tasks: Vec<Result<Written, NsError>>,
        started: Timestamp,
        base_url: &str,
    ) -> Response {
        self.next += 1;
        let id = self.next;
        self.jobs.insert(
            id,
            Job {
                tasks,
                started,
                ended: Timestamp::now(),
            },
        );
        if let Some(key) = key {
            self.keys.insert(key.to_string(), id);
        }
        let mut response =
            with_location(StatusCode::ACCEPTED.into_response(), &job_url(base_url, id));
        response.headers_mut().insert(
            "preference-applied",
            HeaderValue::from_static("respond-async"),
        );
        response
    }

    fn job(&self, id: &str) -> Result<(u64, &Job), NsError> {
        id.parse::<u64>()
            .ok()
            .and_then(|n| self.jobs.get(&n).map(|j| (n, j)))
            .ok_or_else(|| NsError::not_found(format!("The job {id} does not exist.")))
    }

    fn progress(tasks: &[Result<Written, NsError>]) -> &'static str {
        if tasks.iter().all(Result::is_ok) {
            "succeeded"
        } else {
            "failed"
        }
    }

    /// `GET /async/v1/job/{id}`.
    pub(crate) fn status(&self, id: &str, base_url: &str) -> Result<Value, NsError> {
        let (n, job) = self.job(id)?;
        let url = job_url(base_url, n);
        Ok(json!({
            "links": [{"rel": "self", "href": url}],
            "id": n.to_string(),
            "completed": true,
            "progress": Self::progress(&job.tasks),
            "task": {"links": [{"rel": "related", "href": format!("{url}/task")}]},
        }))
    }

    /// `GET /async/v1/job/{id}/task`.
    pub(crate) fn tasks(&self, id: &str, base_url: &str) -> Result<Value, NsError> {
        let (n, job) = self.job(id)?;
        let url = format!("{}/task", job_url(base_url, n));
        let items: Vec<Value> = (1..=job.tasks.len())
            .map(|t| json!({"links": [{"rel": "self", "href": format!("{url}/{t}")}], "id": t.to_string()}))
            .collect();
        Ok(json!({
            "links": [{"rel": "self", "href": url}],
            "count": items.len(),
            "hasMore": false,
            "items": items,
            "offset": 0,
            "totalResults": job.tasks.len(),
        }))
    }

    fn task(
        &self,
        id: &str,
        task: &str,
    ) -> Result<(u64, &Job, &Result<Written, NsError>), NsError> {
        let (n, job) = self.job(id)?;
        let outcome = task
            .parse::<usize>()
            .ok()
            .and_then(|t| t.checked_sub(1))
            .and_then(|t| job.tasks.get(t))
            .ok_or_else(|| {
                NsError::not_found(format!("The task {task} of job {id} does not exist."))
            })?;
        Ok((n, job, outcome))
    }

    /// `GET /async/v1/job/{id}/task/{task}`.
    pub(crate) fn task_status(
        &self,
        id: &str,
        task: &str,
        base_url: &str,
    ) -> Result<Value, NsError> {
        let (n, job, outcome) = self.task(id, task)?;
        let url = format!("{}/task/{task}", job_url(base_url, n));
        Ok(json!({
            "links": [{"rel": "self", "href": url}, {"rel": "related", "href": format!("{url}/result")}],
            "id": task,
            "completed": true,
            "progress": if outcome.is_ok() { "succeeded" } else { "failed" },
            "startTime": job.started.to_string(),
            "endTime": job.ended.to_string(),
        }))
    }

    /// `GET /async/v1/job/{id}/task/{task}/result`: what the synchronous request would have answered.
    pub(crate) fn task_result(
        &self,
        id: &str,
        task: &str,
        base_url: &str,
    ) -> Result<Response, NsError> {
        let (_, _, outcome) = self.task(id, task)?;
        Ok(match outcome {
            Ok(w) => written(base_url, *w),
            Err(e) => e.clone().into_response(),
        })
    }
}
