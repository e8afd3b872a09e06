//! Monitoring: where every document stands, and which ones are stuck.
//!
//! Nothing here keeps its own bookkeeping. A document's lifecycle is derived from what the
//! [`Store`] already records: the events the engine planned (with their planning time) and the
//! outbox actions (with the time they were planned and the time they were done).
//!
//! - Sales order: imported (order event planned) → sent to Clarus (`create_goods_out` done) →
//!   acknowledged (goods out processed for picking: its progress event planned) → picking (a
//!   pick list of it picked) → despatched (despatch event planned) → Item Fulfilment posted
//!   (`fulfil_sales_order` done).
//! - Purchase order and return authorisation: imported → sent to Clarus (`create_goods_in`
//!   done) → received (receipt event planned) → Item Receipt posted.
//! - Adjustment (a Clarus stock movement): seen (movement event planned) → posted (its
//!   inventory adjustment or stock move done).
//!
//! A despatch is linked to its sales order, and a receipt to its order, through the event's
//! own payload (`Despatch::order`, `Receipt::order`, `GoodsOutProgress::order`), so no extra
//! record is needed.
//!
//! Each stage is stamped with the earliest evidence of it or of any later stage: a despatched
//! goods out was necessarily acknowledged and picked, so when the webhook of a milestone was
//! lost the milestone counts as reached when the next one was, and evidence recorded out of
//! order never makes the times along a flow decrease.
//!
//! [`StuckDetector`] raises a `stuck-document` exception when a document sits in a stage longer
//! than that stage's threshold, and resolves it once the stage completes. What blocks a
//! month-end close is [`crate::close`]'s.

use std::collections::{BTreeMap, HashMap, HashSet};
use sync_core::ExceptionKind;
pub use sync_core::lifecycle::{Flow, Stage};

use jiff::Timestamp;
use serde::Serialize;
use sync_core::{DocumentRef, Event, GoodsOutMilestone, OrderRef, Payload};

use crate::engine::document_key;
use crate::store::{ActionRecord, ActionStatus, RecordedEvent, Store, StoreError};

mod stuck;

pub use stuck::{StuckConfig, StuckDetector, StuckDocument, StuckReport, stuck_documents};

/// The exception kind raised for a stuck document.
pub const STUCK_KIND: &str = ExceptionKind::StuckDocument {
    flow: Flow::SalesOrder,
    awaiting: Stage::Imported,
}
.code();
/// The runbook anchor of a stuck document.
pub const STUCK_RUNBOOK: &str = "operations.md#stuck-document";

/// Errors from monitoring.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value could not be serialised for an exception.
    #[error("serialisation failed: {0}")]
    Serde(#[from] serde_json::Error),
    /// The drift history could not be read.
    #[error(transparent)]
    DriftHistory(#[from] crate::drift_history::HistoryError),
}

/// A stage reached, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StageMark {
    /// The stage.
    pub stage: Stage,
    /// When the store recorded it.
    pub at: Timestamp,
}

/// Where the NetSuite posting of one piece of warehouse activity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Posting {
    /// Posted.
    Posted {
        /// When the last of its actions was done.
        at: Timestamp,
    },
    /// In the outbox, not yet done (pending, retrying, waiting for a batch or for a look-up).
    Queued,
    /// The outbox gave up; an `action-failed` exception says why.
    Failed,
    /// Nothing was queued and an open exception holds it.
    Withheld,
    /// Nothing was queued and nothing holds it (for example a despatch of a cancelled order,
    /// its exception resolved): there is nothing to post.
    NothingToPost,
}

impl Posting {
    /// Whether the posting is settled (posted, or nothing to post).
    pub fn is_settled(self) -> bool {
        matches!(self, Posting::Posted { .. } | Posting::NothingToPost)
    }
}

/// One despatch, receipt or stock movement, and its posting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarehouseActivity {
    /// The despatch, receipt or movement.
    pub document: DocumentRef,
    /// When it happened in Clarus (the posting's transaction date).
    pub occurred_at: Timestamp,
    /// When the engine planned it.
    pub recorded_at: Timestamp,
    /// Its NetSuite posting.
    pub posting: Posting,
}

/// One document's lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentLifecycle {
    /// The order, or the stock movement for adjustments.
    pub document: DocumentRef,
    /// Its flow.
    pub flow: Flow,
    /// The stages currently reached, in flow order. A later despatch not yet posted takes the
    /// posted stage away again until it is posted.
    pub stages: Vec<StageMark>,
    /// Despatches, receipts or the movement itself, oldest first.
    pub activity: Vec<WarehouseActivity>,
    /// The stage the document waits in for the next one, and since when; `None` when it waits
    /// for nothing the integration does (complete, cancelled, not yet released).
    pub waiting: Option<StageMark>,
}

impl DocumentLifecycle {
    /// When a stage was reached, if it currently is.
    pub fn reached(&self, stage: Stage) -> Option<Timestamp> {
        self.stages.iter().find(|m| m.stage == stage).map(|m| m.at)
    }

    /// The furthest stage reached.
    pub fn stage(&self) -> Option<Stage> {
        self.stages.last().map(|m| m.stage)
    }

    /// Warehouse activity whose posting is not settled.
    pub fn unposted(&self) -> impl Iterator<Item = &WarehouseActivity> {
        self.activity.iter().filter(|a| !a.posting.is_settled())
    }
}

const LEDGER_KINDS: &[&str] = &[
    "fulfil_sales_order",
    "receive_purchase_order",
    "receive_return_authorisation",
    "post_inventory_adjustment",
    "move_stock",
];

/// Builder of one lifecycle while reading the store.
struct Draft {
    document: DocumentRef,
    flow: Flow,
    imported: Option<Timestamp>,
    /// Warehouse milestones of a sales order's goods out, when first recorded.
    milestones: BTreeMap<GoodsOutMilestone, Timestamp>,
    activity: Vec<WarehouseActivity>,
}

/// Derives every order's and movement's lifecycle from the store, in the order each was first
/// seen.
///
/// ```no_run
/// # async fn demo(store: &dyn sync_engine::store::Store) -> Result<(), sync_engine::monitor::MonitorError> {
/// use sync_engine::monitor::lifecycles;
///
/// for document in lifecycles(store).await? {
///     println!("{} ({}): {:?}", document.document, document.flow, document.stage());
/// }
/// # Ok(()) }
/// ```
pub async fn lifecycles(store: &dyn Store) -> Result<Vec<DocumentLifecycle>, MonitorError> {
    let events = store.recorded_events().await?;
    let actions = store.action_records().await?;
    let held = held_documents(store).await?;
    Ok(lifecycles_of(&events, &actions, &held))
}

/// The documents an open exception (other than a stuck one) is about, as people read them.
pub(crate) async fn held_documents(store: &dyn Store) -> Result<HashSet<String>, StoreError> {
    Ok(store
        .open_exceptions()
        .await?
        .into_iter()
        .filter(|e| e.exception.kind != STUCK_KIND)
        .map(|e| e.exception.document)
        .collect())
}

/// The lifecycles of the documents `events` name, from those events, the actions filed under
/// the documents or enqueued by the events, and the documents held by an open exception.
pub(crate) fn lifecycles_of(
    events: &[RecordedEvent],
    actions: &[ActionRecord],
    held: &HashSet<String>,
) -> Vec<DocumentLifecycle> {
    let mut by_document: HashMap<&str, Vec<&ActionRecord>> = HashMap::new();
    let mut by_event: HashMap<&str, Vec<&ActionRecord>> = HashMap::new();
    for action in actions {
        by_document
            .entry(&action.document)
            .or_default()
            .push(action);
        by_event.entry(&action.event_key).or_default().push(action);
    }

    let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
    let mut order_seen: Vec<String> = Vec::new();
    let draft = |drafts: &mut BTreeMap<String, Draft>,
                 order_seen: &mut Vec<String>,
                 document: DocumentRef,
                 flow: Flow| {
        let key = document_key(&document);
        if !drafts.contains_key(&key) {
            order_seen.push(key.clone());
        }
        drafts.entry(key.clone()).or_insert_with(|| Draft {
            document,
            flow,
            imported: None,
            milestones: BTreeMap::new(),
            activity: Vec::new(),
        });
        key
    };

    for recorded in events {
        // A re-plan records a note rather than an event; it adds no stage.
        let Ok(event) = serde_json::from_value::<Event>(recorded.event.clone()) else {
            continue;
        };
        let (owner, flow, part) = match &event.payload {
            Payload::Order(order) => {
                let document = DocumentRef::Order {
                    order: order.order.clone(),
                };
                let key = draft(
                    &mut drafts,
                    &mut order_seen,
                    document,
                    Flow::of_order(order.order.kind),
                );
                let d = drafts.get_mut(&key).expect("draft just made");
                d.imported.get_or_insert(recorded.planned_at);
                continue;
            }
            Payload::GoodsOutProgress(progress) => {
                let document = DocumentRef::Order {
                    order: OrderRef::sales(progress.order.clone()),
                };
                let key = draft(&mut drafts, &mut order_seen, document, Flow::SalesOrder);
                let d = drafts.get_mut(&key).expect("draft just made");
                let first = d
                    .milestones
                    .entry(progress.milestone)
                    .or_insert(recorded.planned_at);
                *first = (*first).min(recorded.planned_at);
                continue;
            }
            Payload::Despatch(despatch) => (
                DocumentRef::Order {
                    order: OrderRef::sales(despatch.order.clone()),
                },
                Flow::SalesOrder,
                DocumentRef::Despatch {
                    tenant: despatch.tenant.clone(),
                    goods_out: despatch.goods_out,
                    despatch: despatch.despatch.clone(),
                },
            ),
            Payload::Receipt(receipt) => (
                DocumentRef::Order {
                    order: receipt.order.clone(),
                },
                Flow::of_order(receipt.order.kind),
                DocumentRef::Receipt {
                    tenant: receipt.tenant.clone(),
                    goods_in: receipt.goods_in,
                    receipt: receipt.receipt.clone(),
                },
            ),
            Payload::StockMovement(movement) => {
                let document = DocumentRef::Movement {
                    tenant: movement.tenant.clone(),
                    movement: movement.id,
                };
                (document.clone(), Flow::Adjustment, document)
            }
            Payload::Item(_) | Payload::ClarusProduct(_) => continue,
        };
        let part_key = document_key(&part);
        // Ledger actions of the part: those filed under its document, and those its event
        // planned (stock postings run in their item and location's lane instead).
        let mut ledger: Vec<&ActionRecord> = by_document
            .get(part_key.as_str())
            .into_iter()
            .chain(by_event.get(recorded.event_key.as_str()))
            .flatten()
            .copied()
            .filter(|a| LEDGER_KINDS.contains(&a.kind.as_str()))
            .collect();
        ledger.sort_by(|a, b| a.key.cmp(&b.key));
        ledger.dedup_by(|a, b| a.key == b.key);
        let posting = posting(&ledger, held.contains(&part.to_string()));
        let key = draft(&mut drafts, &mut order_seen, owner, flow);
        let d = drafts.get_mut(&key).expect("draft just made");
        if let Some(existing) = d.activity.iter_mut().find(|a| a.document == part) {
            // A later version of the same despatch or receipt: keep the first time seen.
            existing.posting = posting;
        } else {
            d.activity.push(WarehouseActivity {
                document: part,
                occurred_at: event.occurred_at,
                recorded_at: recorded.planned_at,
                posting,
            });
        }
    }

    order_seen
        .into_iter()
        .filter_map(|key| {
            let d = drafts.remove(&key)?;
            let actions = by_document.get(key.as_str()).cloned().unwrap_or_default();
            Some(finish(d, &actions))
        })
        .collect()
}

fn posting(ledger: &[&ActionRecord], held: bool) -> Posting {
    if ledger.is_empty() {
        return if held {
            Posting::Withheld
        } else {
            Posting::NothingToPost
        };
    }
    if ledger.iter().any(|a| a.status == ActionStatus::Failed) {
        return Posting::Failed;
    }
    if ledger.iter().all(|a| a.status == ActionStatus::Done) {
        let at = ledger.iter().map(|a| a.updated_at).max();
        return Posting::Posted {
            at: at.unwrap_or(Timestamp::UNIX_EPOCH),
        };
    }
    Posting::Queued
}

fn finish(d: Draft, order_actions: &[&ActionRecord]) -> DocumentLifecycle {
    let mut stages = Vec::new();
    let mut waiting = None;
    let activity_stage = match d.flow {
        Flow::SalesOrder => Stage::Despatched,
        Flow::PurchaseOrder | Flow::ReturnAuthorisation => Stage::Received,
        Flow::Adjustment => Stage::Seen,
    };
    let posted_stage = match d.flow {
        Flow::SalesOrder => Stage::FulfilmentPosted,
        Flow::PurchaseOrder | Flow::ReturnAuthorisation => Stage::ReceiptPosted,
        Flow::Adjustment => Stage::Posted,
    };
    let first_activity = d.activity.iter().map(|a| a.recorded_at).min();
    let cancelled = order_actions.iter().any(|a| a.kind == "cancel_goods_out");

    if d.flow != Flow::Adjustment {
        if let Some(at) = d.imported {
            stages.push(StageMark {
                stage: Stage::Imported,
                at,
            });
        }
        let send_kind = if d.flow == Flow::SalesOrder {
            "create_goods_out"
        } else {
            "create_goods_in"
        };
        let sends: Vec<&&ActionRecord> = order_actions
            .iter()
            .filter(|a| a.kind == send_kind)
            .collect();
        let sent = sends
            .iter()
            .filter(|a| a.status == ActionStatus::Done)
            .map(|a| a.updated_at)
            .min();
        if let Some(at) = sent {
            stages.push(StageMark {
                stage: Stage::SentToClarus,
                at,
            });
        } else if let Some(since) = sends
            .iter()
            .filter(|a| a.status != ActionStatus::Done)
            .map(|a| a.created_at)
            .min()
            && d.activity.is_empty()
        {
            waiting = Some(StageMark {
                stage: Stage::Imported,
                at: since,
            });
        }
    }

    if d.flow == Flow::SalesOrder {
        // A goods out that was picked was acknowledged, and one that was despatched was
        // picked: a milestone whose webhook was lost counts as reached when the next one was.
        let picking = [
            d.milestones.get(&GoodsOutMilestone::Picking).copied(),
            first_activity,
        ]
        .into_iter()
        .flatten()
        .min();
        let acknowledged = [
            d.milestones.get(&GoodsOutMilestone::Acknowledged).copied(),
            picking,
        ]
        .into_iter()
        .flatten()
        .min();
        for (stage, at) in [
            (Stage::Acknowledged, acknowledged),
            (Stage::Picking, picking),
        ] {
            if let Some(at) = at {
                stages.push(StageMark { stage, at });
            }
        }
    }

    if let Some(first) = first_activity {
        stages.push(StageMark {
            stage: activity_stage,
            at: first,
        });
        let all_settled = d.activity.iter().all(|a| a.posting.is_settled());
        let last_posted = d
            .activity
            .iter()
            .filter_map(|a| match a.posting {
                Posting::Posted { at } => Some(at),
                _ => None,
            })
            .max();
        match last_posted {
            Some(at) if all_settled => stages.push(StageMark {
                stage: posted_stage,
                at,
            }),
            _ => {}
        }
    }

    // A stage was reached no later than any stage after it: evidence recorded out of order
    // (a warehouse webhook handled before the create was marked done) moves the earlier
    // stage back, so times never decrease along the flow.
    for i in (0..stages.len().saturating_sub(1)).rev() {
        stages[i].at = stages[i].at.min(stages[i + 1].at);
    }

    if d.activity.is_empty() {
        // Sent, acknowledged or picking: waiting in Clarus for the next stage, unless the
        // order was cancelled.
        if !cancelled && let Some(mark) = stages.iter().rev().find(|m| m.stage != Stage::Imported) {
            waiting = Some(*mark);
        }
    } else {
        waiting = d
            .activity
            .iter()
            .filter(|a| !a.posting.is_settled())
            .map(|a| a.recorded_at)
            .min()
            .map(|at| StageMark {
                stage: activity_stage,
                at,
            });
    }

    let mut activity = d.activity;
    activity.sort_by_key(|a| a.recorded_at);
    DocumentLifecycle {
        document: d.document,
        flow: d.flow,
        stages,
        activity,
        waiting,
    }
}

/// How many documents of a flow stand at a stage (the furthest stage each reached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageCount {
    /// The flow.
    pub flow: Flow,
    /// The stage; `None` for documents with no stage recorded yet.
    pub stage: Option<Stage>,
    /// Number of documents.
    pub count: u64,
}

/// Documents per flow and furthest stage, in flow and stage order (the `status` report).
pub fn stage_counts(lifecycles: &[DocumentLifecycle]) -> Vec<StageCount> {
    let mut counts: BTreeMap<(Flow, Option<Stage>), u64> = BTreeMap::new();
    for l in lifecycles {
        *counts.entry((l.flow, l.stage())).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((flow, stage), count)| StageCount { flow, stage, count })
        .collect()
}
