//! Stuck detection: documents waiting in a stage beyond its threshold, read from the store a
//! page of unfinished documents at a time (see [`StuckDetector::check`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;
use sync_core::stuck::StuckThresholds;
use sync_core::{ExceptionKind, Owner};

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sync_core::{DocumentRef, Event, Payload};

use super::{
    DocumentLifecycle, Flow, MonitorError, STUCK_KIND, Stage, held_documents, lifecycles_of,
};
use crate::engine::{Engine, document_key};
use crate::job::Scheduled;
use crate::lifecycle;
use crate::store::{
    ActionStatus, ExceptionQuery, NewException, Store, StoreError, WatchedDocument,
};

/// How often to look for stuck documents, and how long a document may sit in each stage
/// (the core's [`StuckThresholds`]).
///
/// In TOML (`after_secs` keys are [`Stage::code`]s; a stage left out is never stuck):
///
/// ```toml
/// every_secs = 60
/// [after_secs]
/// imported = 900
/// despatched = 900
/// received = 900
/// seen = 900
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StuckConfig {
    /// Seconds between two checks.
    pub every_secs: u64,
    /// Seconds a document may wait in a stage for the next one.
    pub after_secs: StuckThresholds,
}

impl Default for StuckConfig {
    /// Every minute, with the core's default thresholds.
    fn default() -> Self {
        StuckConfig {
            every_secs: 60,
            after_secs: StuckThresholds::default(),
        }
    }
}

/// A document waiting in a stage beyond its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StuckDocument {
    /// The document.
    pub document: DocumentRef,
    /// Its flow.
    pub flow: Flow,
    /// The stage it waits in.
    pub stage: Stage,
    /// The stage it waits for.
    pub awaiting: Stage,
    /// Since when.
    pub since: Timestamp,
    /// Who must act, as the core decides for the stage awaited in the flow
    /// ([`Stage::stuck_owner`]).
    pub owner: Owner,
}

impl StuckDocument {
    /// The key of its exception: one per document and stage.
    pub fn exception_key(&self) -> String {
        format!(
            "{STUCK_KIND}:{}:{}",
            self.stage.code(),
            document_key(&self.document)
        )
    }

    fn exception(&self, now: Timestamp) -> Result<NewException, serde_json::Error> {
        let minutes = now.duration_since(self.since).as_secs() / 60;
        Ok(NewException::of(
            ExceptionKind::StuckDocument {
                flow: self.flow,
                awaiting: self.awaiting,
            },
            self.exception_key(),
            self.document.to_string(),
            format!(
                "{} has been {} for {minutes} min without being {}",
                self.document,
                self.stage.code().replace('_', " "),
                self.awaiting.code().replace('_', " ")
            ),
            serde_json::to_value(self)?,
        ))
    }
}

/// The documents waiting beyond their stage's threshold at `now`, as the core decides
/// ([`StuckThresholds::stuck`]).
pub fn stuck_documents(
    lifecycles: &[DocumentLifecycle],
    config: &StuckConfig,
    now: Timestamp,
) -> Vec<StuckDocument> {
    lifecycles
        .iter()
        .filter_map(|l| {
            let waiting = l.waiting?;
            let stuck = config
                .after_secs
                .stuck(l.flow, waiting.stage, waiting.at, now)?;
            Some(StuckDocument {
                document: l.document.clone(),
                flow: l.flow,
                stage: stuck.stage,
                awaiting: stuck.awaiting,
                since: waiting.at,
                owner: stuck.owner,
            })
        })
        .collect()
}

/// What one stuck check did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StuckReport {
    /// Documents stuck now (their exceptions raised, or still open).
    pub stuck: Vec<StuckDocument>,
    /// Keys of stuck exceptions resolved because their stage completed.
    pub resolved: Vec<String>,
}

/// Raises `stuck-document` exceptions for documents waiting beyond their stage's threshold and
/// resolves them once the stage completes. Runs as a [`Scheduled`] job.
///
/// ```no_run
/// # async fn demo(store: &dyn sync_engine::store::Store) -> Result<(), sync_engine::monitor::MonitorError> {
/// use sync_engine::monitor::{StuckConfig, StuckDetector};
///
/// let detector = StuckDetector::new(StuckConfig::default());
/// let report = detector.check(store, jiff::Timestamp::now()).await?;
/// println!("{} stuck, {} resolved", report.stuck.len(), report.resolved.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StuckDetector {
    config: StuckConfig,
    page: usize,
}

impl StuckDetector {
    /// A detector with these thresholds.
    pub fn new(config: StuckConfig) -> Self {
        StuckDetector {
            config,
            page: STUCK_PAGE,
        }
    }

    /// Reads `documents` (at least 1) lifecycle documents per store call instead of
    /// [`STUCK_PAGE`].
    pub fn with_page_size(mut self, documents: usize) -> Self {
        self.page = documents.max(1);
        self
    }

    /// One check at `now`.
    ///
    /// Only lifecycle documents not known to be finished and first seen at least the shortest
    /// threshold ago are read, [`STUCK_PAGE`] documents at a time with their events and
    /// actions; those found finished (nothing waiting, every action done) are marked so and not
    /// read again until a commit touches them. Events recorded before the store kept their
    /// document get it first, a page at a time.
    pub async fn check(
        &self,
        store: &dyn Store,
        now: Timestamp,
    ) -> Result<StuckReport, MonitorError> {
        assign_owners(store, self.page).await?;
        let held = held_documents(store).await?;
        let mut stuck = Vec::new();
        if let Some(shortest) = self.config.after_secs.shortest() {
            let seen_by = now.checked_sub(shortest).unwrap_or(Timestamp::MIN);
            let mut after = String::new();
            loop {
                let page = store
                    .unfinished_documents(seen_by, &after, self.page)
                    .await?;
                let Some(last) = page.last() else {
                    break;
                };
                after = last.key.clone();
                let (lifecycles, finished) = read_page(store, &page, &held).await?;
                stuck.extend(stuck_documents(&lifecycles, &self.config, now));
                if !finished.is_empty() {
                    store.finish_documents(&finished, now).await?;
                }
                if page.len() < self.page {
                    break;
                }
            }
        }
        let keys: HashSet<String> = stuck.iter().map(StuckDocument::exception_key).collect();
        for document in &stuck {
            store.raise_exception(document.exception(now)?, now).await?;
        }
        // The open stuck exceptions, a page at a time: those whose document is no longer stuck
        // are resolved.
        let mut resolved = Vec::new();
        let query = ExceptionQuery::open_of(&[STUCK_KIND]);
        let mut after = None;
        loop {
            let page = store
                .exceptions_page(&query, after.as_ref(), STUCK_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.cursor());
            for open in page {
                if !keys.contains(&open.exception.key) {
                    store
                        .resolve_exception(
                            &open.exception.key,
                            "the document left the stage it was stuck in",
                            now,
                        )
                        .await?;
                    resolved.push(open.exception.key);
                }
            }
        }
        Ok(StuckReport { stuck, resolved })
    }
}

/// Lifecycle documents read per store call by [`StuckDetector::check`].
pub const STUCK_PAGE: usize = 200;

/// Records the lifecycle document of events recorded before the store kept it.
async fn assign_owners(store: &dyn Store, page: usize) -> Result<(), StoreError> {
    loop {
        let events = store.events_without_owner(page).await?;
        let owners: Vec<(String, Option<String>)> = events
            .iter()
            .map(|e| (e.event_key.clone(), lifecycle::owner_of_recorded(&e.event)))
            .collect();
        if !owners.is_empty() {
            store.set_event_owners(&owners).await?;
        }
        if events.len() < page {
            return Ok(());
        }
    }
}

/// The lifecycles of one page of documents, and those of the page that are finished.
async fn read_page(
    store: &dyn Store,
    page: &[WatchedDocument],
    held: &HashSet<String>,
) -> Result<(Vec<DocumentLifecycle>, Vec<WatchedDocument>), StoreError> {
    let owners: Vec<String> = page.iter().map(|d| d.key.clone()).collect();
    let events = store.document_events(&owners).await?;
    let event_keys: Vec<String> = events.iter().map(|e| e.event_key.clone()).collect();
    let mut documents = owners;
    documents.extend(events.iter().filter_map(|e| part_key(&e.event)));
    let actions = store.document_actions(&documents, &event_keys).await?;
    let lifecycles = lifecycles_of(&events, &actions, held);

    let by_key: HashMap<String, &DocumentLifecycle> = lifecycles
        .iter()
        .map(|l| (document_key(&l.document), l))
        .collect();
    let owner_of_event: HashMap<&str, &str> = events
        .iter()
        .filter_map(|e| {
            let owner = page.iter().find(|d| {
                lifecycle::owner_of_recorded(&e.event).as_deref() == Some(d.key.as_str())
            })?;
            Some((e.event_key.as_str(), owner.key.as_str()))
        })
        .collect();
    let finished = page
        .iter()
        .filter(|d| {
            let waiting = by_key.get(&d.key).is_some_and(|l| l.waiting.is_some());
            let unsettled = actions.iter().any(|a| {
                a.status != ActionStatus::Done
                    && (a.document == d.key
                        || owner_of_event.get(a.event_key.as_str()) == Some(&d.key.as_str()))
            });
            !waiting && !unsettled
        })
        .cloned()
        .collect();
    Ok((lifecycles, finished))
}

/// The document key of a despatch, receipt or stock movement event's own part (the document
/// its posting is filed under), if the recorded event is one.
fn part_key(event: &serde_json::Value) -> Option<String> {
    let event = serde_json::from_value::<Event>(event.clone()).ok()?;
    let part = match event.payload {
        Payload::Despatch(despatch) => DocumentRef::Despatch {
            tenant: despatch.tenant,
            goods_out: despatch.goods_out,
            despatch: despatch.despatch,
        },
        Payload::Receipt(receipt) => DocumentRef::Receipt {
            tenant: receipt.tenant,
            goods_in: receipt.goods_in,
            receipt: receipt.receipt,
        },
        Payload::StockMovement(movement) => DocumentRef::Movement {
            tenant: movement.tenant,
            movement: movement.id,
        },
        _ => return None,
    };
    Some(document_key(&part))
}

#[async_trait]
impl Scheduled for StuckDetector {
    fn name(&self) -> &str {
        "stuck-detector"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(self.config.every_secs.max(1))
    }

    async fn run_once(&self, engine: &Engine) -> Result<usize, crate::job::JobError> {
        let report = self
            .check(engine.store().as_ref(), engine.clock().now())
            .await
            .map_err(crate::job::JobError::of)?;
        Ok(report.stuck.len() + report.resolved.len())
    }
}
