//! The Clarus tenant's GraphQL schema, checked against every read the engine makes.
//!
//! The engine asks Clarus only for node fields Clarus documents
//! ([`engine_reads`](super::engine_reads) lists every `(root, selection)`), but a tenant may lack
//! some of them, or rename them in a later version, and a query asking for a field the schema lacks
//! is refused whole. [`ClarusSchemaCheck`] introspects the tenant (`__schema`, one request) and
//! follows each read through the schema as the engine sends it: `Query.<root>`, its `all`, the
//! Relay envelope (`pageInfo { hasNextPage endCursor }`, `edges { cursor node }`) and every
//! selected node field, nested objects through the types the tenant names for them. The answer is a
//! [`SchemaReport`]: the fields missing, each with the flow that needs it, and the fields the
//! tenant offers beyond the documentation on the types the engine reads (for information: a renamed
//! field shows up there).
//!
//! As a [`Scheduled`](crate::job::Scheduled) job (`clarus-schema`) it runs at start-up, then every
//! 10 minutes, and again soon after a Clarus job fails with an error waiting cannot clear (a
//! GraphQL validation error, see [`ClarusSchemaCheck::watch`] and
//! [`ClarusSchemaCheck::recheck_soon`]). When fields are missing it raises one exception,
//! `clarus-schema` (key [`CLARUS_SCHEMA_KEY`], owner `integration`, severity `error`) naming each
//! missing `Type.field` and its flow, refreshes it when the set changes, resolves it when the
//! schema is complete again, and fails with a persistent error on Clarus so readiness shows Clarus
//! failing. A tenant that does not answer introspection (some disable it) is logged as a warning:
//! the documented fields stay the baseline, nothing is raised and readiness is not failed.

mod compare;
mod exception;
mod job;

pub use compare::compare_schema;
pub use exception::{SchemaExceptionChange, apply_schema_report, schema_exception};
pub use job::{ClarusSchemaCheck, SchemaCheckOutcome};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use sync_core::ExceptionKind;

use clarus_client::ClarusError;
use serde::{Deserialize, Serialize};

/// Kind of the exception raised while the tenant's schema lacks a field the engine reads.
pub const CLARUS_SCHEMA_KIND: &str = ExceptionKind::ClarusSchema.code();
/// Key of that exception: there is one for the whole schema.
pub const CLARUS_SCHEMA_KEY: &str = "EX-INTEGRATION-CLARUS-SCHEMA";
/// Runbook entry of [`CLARUS_SCHEMA_KIND`].
pub const CLARUS_SCHEMA_RUNBOOK: &str = "operations.md#clarus-schema";
/// Name of the scheduled job.
pub const SCHEMA_CHECK_JOB: &str = "clarus-schema";
/// Time between scheduled checks.
pub const SCHEMA_CHECK_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Shortest time between two checks prompted by [`ClarusSchemaCheck::recheck_soon`].
pub const RECHECK_GAP: Duration = Duration::from_secs(60);

/// The introspection query: every type with its fields (deprecated ones too: they can still be
/// asked for) and their types, unwrapped four levels deep (`[Edge!]!` needs three).
pub const INTROSPECTION_QUERY: &str = "query { __schema { queryType { name } types { name kind \
     fields(includeDeprecated: true) { name type { name kind ofType { name kind ofType { name \
     kind ofType { name kind ofType { name kind } } } } } } } } }";

/// The flow that stops when a read of `root` is refused.
pub fn flow_of_root(root: &str) -> &'static str {
    match root {
        "goods_outs" | "goods_out_lines" | "shipments" | "packages" => "order to cash",
        "goods_in_receipts" => "inbound and returns",
        "stocks" | "stock_balances" => "reconciliation",
        "transactions" => "adjustments and despatch dates",
        "products" => "item master",
        _ => "other reads",
    }
}

/// A field one of the engine's reads selects and the tenant's schema does not offer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MissingField {
    /// The list root whose read selects it, e.g. `goods_outs`.
    pub root: String,
    /// The type it was looked up on, as the tenant names it (`Query` for a root itself; for a
    /// type the tenant does not have, the name the engine expected).
    pub type_name: String,
    /// The field, e.g. `carrier`.
    pub field: String,
}

impl MissingField {
    /// `Type.field`.
    pub fn path(&self) -> String {
        format!("{}.{}", self.type_name, self.field)
    }

    /// The flow that needs it ([`flow_of_root`]).
    pub fn flow(&self) -> &'static str {
        flow_of_root(&self.root)
    }
}

/// What the tenant's schema offers against what the engine reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaReport {
    /// Every selected field the schema lacks, sorted by root, type and field (a field several
    /// reads select is listed once per root).
    pub missing: Vec<MissingField>,
    /// Per type the engine reads (by the tenant's name), the fields it offers beyond the
    /// documented ones, sorted.
    pub extras: BTreeMap<String, Vec<String>>,
    /// How many selected fields were looked up (envelope included).
    pub checked: usize,
}

impl SchemaReport {
    /// Whether every field the engine reads is offered.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// Each missing `Type.field` once, with the flows that need it.
    pub fn missing_by_field(&self) -> BTreeMap<String, BTreeSet<&'static str>> {
        let mut out: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
        for m in &self.missing {
            out.entry(m.path()).or_default().insert(m.flow());
        }
        out
    }

    /// The exception's message: each missing `Type.field` and the flows that need it; `None`
    /// when complete. It depends only on what is missing, so it changes only when that does.
    pub fn message(&self) -> Option<String> {
        if self.is_complete() {
            return None;
        }
        let fields = self.missing_by_field();
        let listed: Vec<String> = fields
            .iter()
            .map(|(path, flows)| {
                let flows: Vec<&str> = flows.iter().copied().collect();
                format!("{path} (needed by {})", flows.join(", "))
            })
            .collect();
        let count = if fields.len() == 1 {
            "1 field".to_owned()
        } else {
            format!("{} fields", fields.len())
        };
        Some(format!(
            "the Clarus tenant's GraphQL schema lacks {count} the integration reads, so Clarus \
             refuses those reads and the flows named stop: {}",
            listed.join("; ")
        ))
    }
}

/// Why the tenant's schema could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionError {
    /// The introspection query failed or was refused (a tenant may disable introspection).
    #[error("the introspection query failed: {0}")]
    Clarus(#[from] ClarusError),
    /// The answer is not an introspection of a schema the engine can follow.
    #[error("the introspection answer cannot be used: {0}")]
    Unusable(String),
}

#[cfg(test)]
mod tests;
