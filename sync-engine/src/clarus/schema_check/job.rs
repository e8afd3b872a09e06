//! The scheduled check (`clarus-schema`): introspecting the tenant, applying the report to the
//! exception, rechecking soon after a Clarus job is refused for good.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clarus_client::ClarusClient;
use jiff::Timestamp;
use serde_json::Value;

use super::super::nodes::engine_reads;
use super::{
    CLARUS_SCHEMA_KEY, INTROSPECTION_QUERY, IntrospectionError, RECHECK_GAP, SCHEMA_CHECK_INTERVAL,
    SCHEMA_CHECK_JOB, SchemaReport, apply_schema_report, compare_schema,
};
use crate::engine::Engine;
use crate::job::{Connection, JobError, Scheduled};
use crate::store::{Store, StoreError};

/// The outcome of one check.
#[derive(Debug)]
pub enum SchemaCheckOutcome {
    /// The schema offers every field the engine reads.
    Complete(SchemaReport),
    /// Fields are missing; the exception is raised or kept.
    Incomplete(SchemaReport),
    /// The schema could not be read; `still_open` is the message of a `clarus-schema`
    /// exception an earlier check left open (kept: nothing says it is fixed).
    Unknown {
        /// Why.
        error: IntrospectionError,
        /// The open exception's message, if any.
        still_open: Option<String>,
    },
}

impl SchemaCheckOutcome {
    /// As a scheduled run: complete or unknown is a success (unknown with an open exception
    /// keeps failing); incomplete is a persistent failure on Clarus.
    pub fn into_job_result(self) -> Result<usize, JobError> {
        match self {
            SchemaCheckOutcome::Complete(report) => Ok(report.checked),
            SchemaCheckOutcome::Incomplete(report) => {
                Err(JobError::persistent(report.message().unwrap_or_default())
                    .on(Connection::Clarus))
            }
            SchemaCheckOutcome::Unknown {
                still_open: None, ..
            } => Ok(0),
            SchemaCheckOutcome::Unknown {
                error,
                still_open: Some(message),
            } => Err(JobError::persistent(format!(
                "{message} (found earlier; this check could not read the schema: {error})"
            ))
            .on(Connection::Clarus)),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    /// A check was asked for before the next scheduled one.
    recheck: AtomicBool,
    /// When the last check started.
    last_check: Mutex<Option<Instant>>,
    /// Whether the last check that read the schema found it complete.
    last_complete: Mutex<Option<bool>>,
    /// One check at a time.
    running: tokio::sync::Mutex<()>,
}

/// Checks the Clarus tenant's GraphQL schema against [`engine_reads`]; a [`Scheduled`] job
/// (`clarus-schema`). Cloning shares the state, so a clone is a handle for
/// [`recheck_soon`](Self::recheck_soon).
#[derive(Debug, Clone)]
pub struct ClarusSchemaCheck {
    client: ClarusClient,
    interval: Duration,
    shared: Arc<Shared>,
}

impl ClarusSchemaCheck {
    /// A check through `client`, every [`SCHEMA_CHECK_INTERVAL`].
    pub fn new(client: ClarusClient) -> Self {
        Self {
            client,
            interval: SCHEMA_CHECK_INTERVAL,
            shared: Arc::default(),
        }
    }

    /// The same check on another schedule.
    pub fn every(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Reads the tenant's schema and compares it with every read of the engine. Changes
    /// nothing.
    pub async fn report(&self) -> Result<SchemaReport, IntrospectionError> {
        let data = self
            .client
            .graphql_query(INTROSPECTION_QUERY, Value::Null)
            .await?;
        compare_schema(&data, &engine_reads())
    }

    /// One check: reads the schema, raises, refreshes or resolves the `clarus-schema`
    /// exception in `store`, and answers what it found. Fails only when the store does.
    pub async fn check(
        &self,
        store: &dyn Store,
        now: Timestamp,
    ) -> Result<SchemaCheckOutcome, StoreError> {
        let _one = self.shared.running.lock().await;
        self.shared.recheck.store(false, Ordering::SeqCst);
        if let Ok(mut last) = self.shared.last_check.lock() {
            *last = Some(Instant::now());
        }
        let outcome = match self.report().await {
            Ok(report) => {
                let change = apply_schema_report(store, &report, now).await?;
                if let Ok(mut last) = self.shared.last_complete.lock() {
                    *last = Some(report.is_complete());
                }
                if report.is_complete() {
                    tracing::info!(
                        checked = report.checked,
                        extra_types = report.extras.len(),
                        ?change,
                        "the Clarus schema offers every field the integration reads"
                    );
                    SchemaCheckOutcome::Complete(report)
                } else {
                    tracing::error!(
                        missing = ?report.missing_by_field(),
                        ?change,
                        "the Clarus schema lacks fields the integration reads"
                    );
                    SchemaCheckOutcome::Incomplete(report)
                }
            }
            Err(error) => {
                let still_open = store
                    .exception(CLARUS_SCHEMA_KEY)
                    .await?
                    .filter(|e| e.resolved_at.is_none())
                    .map(|e| e.exception.message);
                tracing::warn!(
                    %error,
                    exception_open = still_open.is_some(),
                    "could not read the Clarus schema by introspection; the documented fields \
                     stay the baseline"
                );
                SchemaCheckOutcome::Unknown { error, still_open }
            }
        };
        Ok(outcome)
    }

    /// Asks for a check before the next scheduled one: the next run of a job
    /// [`watch`](Self::watch)ed (or a call of [`recheck_if_due`](Self::recheck_if_due)) at least
    /// [`RECHECK_GAP`] after the last check carries it out.
    pub fn recheck_soon(&self) {
        self.shared.recheck.store(true, Ordering::SeqCst);
    }

    /// Whether a check was asked for and not carried out yet.
    pub fn recheck_pending(&self) -> bool {
        self.shared.recheck.load(Ordering::SeqCst)
    }

    /// Carries out a check asked for by [`recheck_soon`](Self::recheck_soon), when the last
    /// check is at least [`RECHECK_GAP`] old (a monotonic gap, not business time); `None` when
    /// there was nothing to do yet. `now` is the business time the check records.
    pub async fn recheck_if_due(
        &self,
        store: &dyn Store,
        now: Timestamp,
    ) -> Option<Result<SchemaCheckOutcome, StoreError>> {
        if !self.recheck_pending() {
            return None;
        }
        let recent = self
            .shared
            .last_check
            .lock()
            .ok()
            .and_then(|last| *last)
            .is_some_and(|at| at.elapsed() < RECHECK_GAP);
        if recent {
            return None;
        }
        Some(self.check(store, now).await)
    }

    /// `job`, unchanged, except that when it depends on Clarus and fails with an error waiting
    /// cannot clear on Clarus (a GraphQL validation error, or credentials refused) while the
    /// last check found the schema complete or could not read it, it asks for a recheck; and
    /// after each of its runs a recheck asked for is carried out when due. Jobs that do not
    /// depend on Clarus are returned as they are.
    pub fn watch(&self, job: Arc<dyn Scheduled>) -> Arc<dyn Scheduled> {
        if job.connections().contains(&Connection::Clarus) {
            Arc::new(Watched {
                inner: job,
                check: self.clone(),
            })
        } else {
            job
        }
    }

    /// [`watch`](Self::watch) on every job.
    pub fn watch_all(&self, jobs: Vec<Arc<dyn Scheduled>>) -> Vec<Arc<dyn Scheduled>> {
        jobs.into_iter().map(|job| self.watch(job)).collect()
    }

    fn known_incomplete(&self) -> bool {
        self.shared
            .last_complete
            .lock()
            .ok()
            .and_then(|c| *c)
            .is_some_and(|complete| !complete)
    }
}

#[async_trait]
impl Scheduled for ClarusSchemaCheck {
    fn name(&self) -> &str {
        SCHEMA_CHECK_JOB
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn connections(&self) -> &[Connection] {
        &[Connection::Clarus]
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        self.check(engine.store().as_ref(), engine.clock().now())
            .await
            .map_err(JobError::of)?
            .into_job_result()
    }
}

/// A Clarus job whose persistent failures prompt a schema recheck.
struct Watched {
    inner: Arc<dyn Scheduled>,
    check: ClarusSchemaCheck,
}

#[async_trait]
impl Scheduled for Watched {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn interval(&self) -> Duration {
        self.inner.interval()
    }
    fn connections(&self) -> &[Connection] {
        self.inner.connections()
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        let outcome = self.inner.run_once(engine).await;
        if let Err(e) = &outcome
            && e.is_persistent()
            && e.connection() == Some(Connection::Clarus)
            && !self.check.known_incomplete()
        {
            tracing::info!(
                job = self.inner.name(),
                "a Clarus read was refused for good; checking the Clarus schema again"
            );
            self.check.recheck_soon();
        }
        if let Some(Err(e)) = self
            .check
            .recheck_if_due(engine.store().as_ref(), engine.clock().now())
            .await
        {
            tracing::error!(error = %e, "the clarus-schema exception could not be updated");
        }
        outcome
    }
}
