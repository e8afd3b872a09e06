//! Routes each planned action to the executor of the system it changes.

use std::sync::Arc;

use async_trait::async_trait;
use sync_core::{Action, PlannedAction};

use crate::outbox::{ActionExecutor, ExecutionError};

/// The system an action changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Clarus WMS: products, goods outs, goods-in receipts.
    Clarus,
    /// NetSuite: fulfilments, receipts, adjustments, stock moves.
    NetSuite,
    /// Recorded by the engine itself (exceptions); never reaches the outbox.
    Engine,
}

/// Which system `action` changes.
pub fn target(action: &Action) -> Target {
    match action {
        Action::CreateProduct(_)
        | Action::UpdateProduct(_)
        | Action::CreateGoodsOut(_)
        | Action::CancelGoodsOut { .. }
        | Action::CreateGoodsIn(_) => Target::Clarus,
        Action::FulfilSalesOrder(_)
        | Action::ReceivePurchaseOrder(_)
        | Action::ReceiveReturnAuthorisation(_)
        | Action::PostInventoryAdjustment(_)
        | Action::MoveStock(_) => Target::NetSuite,
        Action::RaiseException(_) | Action::ResolveException { .. } => Target::Engine,
    }
}

/// An [`ActionExecutor`] that hands each action to the Clarus or the NetSuite executor.
#[derive(Clone)]
pub struct Router {
    clarus: Arc<dyn ActionExecutor>,
    netsuite: Arc<dyn ActionExecutor>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").finish_non_exhaustive()
    }
}

impl Router {
    /// A router over the two systems' executors.
    pub fn new(clarus: Arc<dyn ActionExecutor>, netsuite: Arc<dyn ActionExecutor>) -> Self {
        Router { clarus, netsuite }
    }

    fn executor(&self, action: &PlannedAction) -> Result<&dyn ActionExecutor, ExecutionError> {
        match target(&action.action) {
            Target::Clarus => Ok(self.clarus.as_ref()),
            Target::NetSuite => Ok(self.netsuite.as_ref()),
            Target::Engine => Err(ExecutionError::Rejected(
                "exceptions are recorded by the engine, not executed".into(),
            )),
        }
    }
}

#[async_trait]
impl ActionExecutor for Router {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        self.executor(action)?.execute(action).await
    }

    async fn find_applied(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        self.executor(action)?.find_applied(action).await
    }
}
