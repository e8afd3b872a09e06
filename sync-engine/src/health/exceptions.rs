//! The exceptions the registry raises: `job-failing` for a scheduled job that keeps failing,
//! `task-crashed` for a part of the service that crashed, raised at once and resolved when the
//! restarted part runs successfully again.

use jiff::{Timestamp, Unit};
use serde_json::json;
use sync_core::ExceptionKind;

use super::{Crash, Failure, Health, JobError, JobState, State, TaskState, resolve};
use crate::store::{NewException, Store, StoreError};

/// Kind of the exception raised for a scheduled job that keeps failing.
pub const JOB_FAILING_KIND: &str = ExceptionKind::JobFailing.code();
/// Runbook entry of [`JOB_FAILING_KIND`].
pub const JOB_FAILING_RUNBOOK: &str = "operations.md#job-failing";
/// Prefix of the key of a job's exception; the job's name follows.
pub const JOB_EXCEPTION_PREFIX: &str = "EX-INTEGRATION-JOB-";

/// The key of the `job-failing` exception of `job`.
pub fn job_exception_key(job: &str) -> String {
    format!("{JOB_EXCEPTION_PREFIX}{job}")
}

/// Kind of the exception raised for a part of the service that crashed and was restarted.
pub const TASK_CRASHED_KIND: &str = ExceptionKind::TaskCrashed.code();
/// Runbook entry of [`TASK_CRASHED_KIND`].
pub const TASK_CRASHED_RUNBOOK: &str = "operations.md#task-crashed";
/// Prefix of the key of a part's `task-crashed` exception; the part's name follows.
pub const TASK_EXCEPTION_PREFIX: &str = "EX-INTEGRATION-TASK-";

/// The key of the `task-crashed` exception of `part` (a job's name, `delivery-processor`,
/// `outbox`).
pub fn task_exception_key(part: &str) -> String {
    format!("{TASK_EXCEPTION_PREFIX}{part}")
}

impl Health {
    /// Records that `part` of the service crashed (`reason`: the panic's message or the error that
    /// ended it) and raises its `task-crashed` exception at once, or refreshes it when the part
    /// crashed again since. The part shows failing in readiness until [`Health::record_task_ok`].
    pub async fn record_crash(
        &self,
        store: &dyn Store,
        part: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let (exception, first) = {
            let mut state = self.state();
            let entry = task_entry(&mut state, part);
            entry.may_be_open = true;
            let last = Failure {
                at: now,
                message: reason.to_owned(),
                persistent: false,
            };
            let first = entry.crash.is_none();
            let crash = entry.crash.get_or_insert_with(|| Crash {
                since: now,
                last: last.clone(),
                crashes: 0,
            });
            crash.crashes += 1;
            crash.last = last;
            (task_exception(part, crash), first)
        };
        if first {
            store.raise_exception(exception, now).await
        } else {
            store.refresh_exception(exception, now).await
        }
    }

    /// Records that `part` ran successfully (a pass, a run, a start): after a crash this resolves
    /// its `task-crashed` exception and the part is no longer failing. Cheap when nothing is open.
    pub async fn record_task_ok(&self, store: &dyn Store, part: &str) -> Result<(), StoreError> {
        {
            let mut state = self.state();
            let entry = task_entry(&mut state, part);
            if entry.crash.is_none() && !entry.may_be_open {
                return Ok(());
            }
        }
        let now = self.now();
        let note = format!("{part} runs again after its restart");
        resolve(store, &task_exception_key(part), &note, now).await?;
        if let Some(entry) = self.state().tasks.get_mut(part) {
            entry.crash = None;
            entry.may_be_open = false;
        }
        Ok(())
    }
}

pub(super) fn job_exception(job: &str, state: &JobState, error: &JobError) -> NewException {
    let track = &state.track;
    let runs = track.consecutive_failures;
    let since = track.failing_since.unwrap_or(track.since);
    let runs_text = if runs == 1 {
        "1 run".to_owned()
    } else {
        format!("{runs} runs")
    };
    let depends = if state.connections.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = state.connections.iter().map(|c| c.as_str()).collect();
        format!(" (depends on {})", names.join(" and "))
    };
    let cause = if error.is_persistent() {
        "; the error will not clear by waiting (credentials refused, or the other system's schema \
         lacks what is asked for)"
    } else {
        ""
    };
    NewException::of(
        ExceptionKind::JobFailing,
        job_exception_key(job),
        format!("job {job}"),
        format!(
            "scheduled job {job}{depends} has failed {runs_text} in a row since {}{cause}; last \
             error: {error}",
            seconds(since)
        ),
        json!({
            "job": job,
            "connections": state.connections,
            "consecutive_failures": runs,
            "failing_since": since,
            "last_error": error.message(),
            "persistent": error.is_persistent(),
            "connection": error.connection(),
        }),
    )
}

/// The `task-crashed` exception of a part that has just crashed (again).
fn task_exception(part: &str, crash: &Crash) -> NewException {
    let times = if crash.crashes == 1 {
        "crashed".to_owned()
    } else {
        format!(
            "crashed {} times since {}",
            crash.crashes,
            seconds(crash.since)
        )
    };
    NewException::of(
        ExceptionKind::TaskCrashed,
        task_exception_key(part),
        format!("task {part}"),
        format!(
            "the service part {part} {times} and is being restarted; last: {}",
            crash.last.message
        ),
        json!({
            "part": part,
            "crashes": crash.crashes,
            "crashed_since": crash.since,
            "last_error": crash.last.message,
        }),
    )
}

/// A timestamp to the second, for messages.
pub(super) fn seconds(t: Timestamp) -> Timestamp {
    t.round(Unit::Second).unwrap_or(t)
}

/// The record of the part `part`, created when it has none. A new record may have an exception
/// open: one raised before a restart of the process is still open in the store.
fn task_entry<'a>(state: &'a mut State, part: &str) -> &'a mut TaskState {
    state
        .tasks
        .entry(part.to_owned())
        .or_insert_with(|| TaskState {
            crash: None,
            may_be_open: true,
        })
}
