//! Asynchronous requests (`Prefer: respond-async` with `X-NetSuite-Idempotency-Key`), job polling
//! and batch (collection) writes of up to 100 records per request.

use std::time::{Duration, Instant};

use http::{HeaderValue, Method};
use serde::Deserialize;

use crate::client::{NetSuiteClient, RequestSpec, encode_body, last_segment, record_path};
use crate::error::{ApiError, Error};
use crate::ids::{IdempotencyKey, RecordId};
use crate::records::{Link, Record};
use crate::retry::Idempotency;

/// Most records NetSuite accepts in one collection request.
pub const MAX_BATCH: usize = 100;

/// A submitted asynchronous job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncJob {
    /// The job id (last segment of `Location`).
    pub id: String,
}

/// `GET /async/v1/job/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JobStatus {
    /// Job id.
    #[serde(default)]
    pub id: String,
    /// True once every task finished (successfully or not).
    #[serde(default)]
    pub completed: bool,
    /// `pending`, `processing`, `succeeded`, `failed`, …
    #[serde(default)]
    pub progress: String,
}

/// The outcome of one task of a finished job.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOutcome {
    /// Task id.
    pub task_id: String,
    /// `succeeded`, `failed`, …
    pub progress: String,
    /// The result: the id the task created (from `Location`) and/or its body, or the API error.
    pub result: Result<TaskResult, ApiError>,
}

/// What a succeeded task returned.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskResult {
    /// Id of the record the task created or changed, when its result named one.
    pub record_id: Option<RecordId>,
    /// The result body (`Null` when empty).
    pub body: serde_json::Value,
}

/// How often and how long to poll a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// First wait.
    pub initial: Duration,
    /// Longest wait between polls.
    pub max_interval: Duration,
    /// Give up after this long (NetSuite cuts requests at 15 minutes).
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(20 * 60),
        }
    }
}

#[derive(Deserialize)]
struct TaskList {
    #[serde(default)]
    items: Vec<TaskEntry>,
}

#[derive(Deserialize)]
struct TaskEntry {
    id: Option<String>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct TaskState {
    #[serde(default)]
    progress: String,
}

/// Job and task ids go into paths: letters, digits, `_` and `-` only.
fn path_id(s: &str) -> Result<&str, Error> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(s)
    } else {
        Err(Error::UnexpectedResponse(format!(
            "{s:?} is not a job or task id"
        )))
    }
}

/// Which collection write a batch performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOp {
    /// `POST`: create every record.
    Create,
    /// `PUT`: upsert every record by its `externalId`.
    Upsert,
    /// `PATCH`: update every record (each carries its `id` or `externalId`).
    Update,
}

impl NetSuiteClient {
    /// Sends `spec` with `Prefer: respond-async` and the idempotency key; returns the job.
    pub(crate) async fn submit_async(
        &self,
        mut spec: RequestSpec,
        key: &IdempotencyKey,
    ) -> Result<AsyncJob, Error> {
        spec.idempotency = Idempotency::AsyncWithKey;
        spec.headers
            .insert("prefer", HeaderValue::from_static("respond-async"));
        spec = spec.header("x-netsuite-idempotency-key", key.as_str())?;
        let resp = self.execute(spec).await?;
        let loc = resp.location().ok_or_else(|| {
            Error::UnexpectedResponse(format!(
                "{} to an asynchronous request without a Location header",
                resp.status
            ))
        })?;
        let id = last_segment(loc)
            .ok_or_else(|| Error::UnexpectedResponse(format!("Location {loc:?} has no job id")))?;
        Ok(AsyncJob {
            id: path_id(id)?.to_owned(),
        })
    }

    /// Reads a job's status.
    pub async fn job_status(&self, job: &AsyncJob) -> Result<JobStatus, Error> {
        let spec = RequestSpec::new(
            Method::GET,
            format!("/async/v1/job/{}", path_id(&job.id)?),
            Idempotency::Read,
        );
        self.execute(spec).await?.json("job status")
    }

    /// Polls until the job completes, then reads every task's state and result.
    pub async fn wait_for_job(
        &self,
        job: &AsyncJob,
        policy: PollPolicy,
    ) -> Result<Vec<TaskOutcome>, Error> {
        let start = Instant::now();
        let mut interval = policy.initial;
        loop {
            let status = self.job_status(job).await?;
            if status.completed {
                break;
            }
            if start.elapsed() >= policy.timeout {
                return Err(Error::JobFailed {
                    job_id: job.id.clone(),
                    detail: format!("still {:?} after {:?}", status.progress, policy.timeout),
                });
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(policy.max_interval);
        }
        let job_path = format!("/async/v1/job/{}", path_id(&job.id)?);
        let list: TaskList = self
            .execute(RequestSpec::new(
                Method::GET,
                format!("{job_path}/task"),
                Idempotency::Read,
            ))
            .await?
            .json("job tasks")?;
        let mut outcomes = Vec::with_capacity(list.items.len());
        for entry in list.items {
            let task_id = match entry.id {
                Some(id) => id,
                None => entry
                    .links
                    .iter()
                    .find(|l| l.rel == "self")
                    .and_then(|l| last_segment(&l.href))
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Error::UnexpectedResponse("job task without id or self link".into())
                    })?,
            };
            let task_path = format!("{job_path}/task/{}", path_id(&task_id)?);
            let state: TaskState = self
                .execute(RequestSpec::new(
                    Method::GET,
                    task_path.clone(),
                    Idempotency::Read,
                ))
                .await?
                .json("job task")?;
            let result = match self
                .execute(RequestSpec::new(
                    Method::GET,
                    format!("{task_path}/result"),
                    Idempotency::Read,
                ))
                .await
            {
                Ok(resp) => {
                    let body = if resp.body.is_empty() {
                        serde_json::Value::Null
                    } else {
                        resp.json("job task result")?
                    };
                    let record_id = resp
                        .location()
                        .and_then(last_segment)
                        .and_then(|s| RecordId::new(s).ok());
                    Ok(TaskResult { record_id, body })
                }
                Err(Error::Api(api)) => Err(*api),
                Err(other) => return Err(other),
            };
            outcomes.push(TaskOutcome {
                task_id,
                progress: state.progress,
                result,
            });
        }
        Ok(outcomes)
    }

    /// Writes records in collection requests of at most [`MAX_BATCH`], each submitted
    /// asynchronously with an idempotency key derived from `batch_name` and the chunk number, so
    /// re-running the same batch after a crash never writes a chunk twice.
    pub async fn batch<R: Record>(
        &self,
        op: BatchOp,
        records: &[R],
        batch_name: &str,
    ) -> Result<Vec<AsyncJob>, Error> {
        let method = match op {
            BatchOp::Create => Method::POST,
            BatchOp::Upsert => Method::PUT,
            BatchOp::Update => Method::PATCH,
        };
        #[derive(serde::Serialize)]
        struct Collection<'a, R> {
            items: &'a [R],
        }
        let mut jobs = Vec::new();
        for (n, chunk) in records.chunks(MAX_BATCH).enumerate() {
            let key = IdempotencyKey::derive(&format!("{batch_name}#{n}"));
            let mut spec = RequestSpec::new(
                method.clone(),
                record_path(&R::record_type(), None),
                Idempotency::AsyncWithKey,
            );
            spec.headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.oracle.resource+json; type=collection"),
            );
            crate::client::strict_property_names(&mut spec);
            spec.body = Some(encode_body(&Collection { items: chunk })?);
            jobs.push(self.submit_async(spec, &key).await?);
        }
        Ok(jobs)
    }
}
