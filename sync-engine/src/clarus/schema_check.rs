//! The Clarus tenant's GraphQL schema, checked against every read the engine makes.
//!
//! The engine asks Clarus only for node fields Clarus documents ([`engine_reads`] lists every
//! `(root, selection)`), but a tenant may lack some of them, or rename them in a later version,
//! and a query asking for a field the schema lacks is refused whole. [`ClarusSchemaCheck`]
//! introspects the tenant (`__schema`, one request) and follows each read through the schema as
//! the engine sends it: `Query.<root>`, its `all`, the Relay envelope (`pageInfo { hasNextPage
//! endCursor }`, `edges { cursor node }`) and every selected node field, nested objects through
//! the types the tenant names for them. The answer is a [`SchemaReport`]: the fields missing, each
//! with the flow that needs it, and the fields the tenant offers beyond the documentation on the
//! types the engine reads (for information: a renamed field shows up there).
//!
//! As a [`Scheduled`] job (`clarus-schema`) it runs at start-up, then every 10 minutes, and again
//! soon after a Clarus job fails with an error waiting cannot clear (a GraphQL validation error,
//! see [`ClarusSchemaCheck::watch`] and [`ClarusSchemaCheck::recheck_soon`]). When fields are
//! missing it raises one exception, `clarus-schema` (key [`CLARUS_SCHEMA_KEY`], owner
//! `integration`, severity `error`) naming each missing `Type.field` and its flow, refreshes it
//! when the set changes, resolves it when the schema is complete again, and fails with a
//! persistent error on Clarus so readiness shows Clarus failing. A tenant that does not answer
//! introspection (some disable it) is logged as a warning: the documented fields stay the
//! baseline, nothing is raised and readiness is not failed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sync_core::ExceptionKind;

use async_trait::async_trait;
use clarus_client::graphql::{DocumentedField, DocumentedSchema};
use clarus_client::{ClarusClient, ClarusError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::nodes::engine_reads;
use crate::engine::Engine;
use crate::job::Connection;
use crate::job::{JobError, Scheduled};
use crate::store::{NewException, Store, StoreError};

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

// ---------------------------------------------------------------------------------------------
// The comparison (pure)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct IntrospectionData {
    #[serde(rename = "__schema")]
    schema: Option<IntroSchema>,
}

#[derive(Debug, Deserialize)]
struct IntroSchema {
    #[serde(rename = "queryType", default)]
    query_type: Option<NamedType>,
    #[serde(default)]
    types: Vec<IntroType>,
}

#[derive(Debug, Deserialize)]
struct NamedType {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IntroType {
    name: Option<String>,
    #[serde(default)]
    fields: Option<Vec<IntroField>>,
}

#[derive(Debug, Deserialize)]
struct IntroField {
    name: String,
    #[serde(rename = "type")]
    ty: Option<TypeRef>,
}

#[derive(Debug, Deserialize)]
struct TypeRef {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "ofType", default)]
    of_type: Option<Box<TypeRef>>,
}

impl TypeRef {
    /// The named type inside the list and non-null wrappers.
    fn base(&self) -> Option<&str> {
        match (&self.name, &self.of_type) {
            (Some(name), _) => Some(name),
            (None, Some(inner)) => inner.base(),
            (None, None) => None,
        }
    }
}

/// A field of a selection; `children` empty for a leaf.
#[derive(Debug)]
struct Sel<'d> {
    name: String,
    children: Vec<Sel<'d>>,
    /// The documented fields of the object this field returns, when it starts documented ground
    /// (the node): extras are counted against them.
    documented: Option<&'d [DocumentedField]>,
    /// The type name the documentation gives the object, for a type the tenant does not have.
    expected_type: Option<String>,
}

fn parse_selection<'d>(text: &str) -> Result<Vec<Sel<'d>>, String> {
    let spaced = text
        .replace('{', " { ")
        .replace('}', " } ")
        .replace(':', " : ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let out = parse_fields(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err("unbalanced `}`".into());
    }
    Ok(out)
}

fn parse_fields<'d>(tokens: &[&str], pos: &mut usize) -> Result<Vec<Sel<'d>>, String> {
    let mut out = Vec::new();
    while let Some(&token) = tokens.get(*pos) {
        match token {
            "}" => return Ok(out),
            "{" | ":" => return Err(format!("unexpected `{token}`")),
            _ => {}
        }
        *pos += 1;
        let mut name = token.to_owned();
        if tokens.get(*pos) == Some(&":") {
            match tokens.get(*pos + 1) {
                Some(&field) if !["{", "}", ":"].contains(&field) => {
                    name = field.to_owned();
                    *pos += 2;
                }
                _ => return Err(format!("expected a field after the alias `{token}:`")),
            }
        }
        let mut children = Vec::new();
        if tokens.get(*pos) == Some(&"{") {
            *pos += 1;
            children = parse_fields(tokens, pos)?;
            if tokens.get(*pos) != Some(&"}") {
                return Err(format!("unclosed `{{` after `{name}`"));
            }
            *pos += 1;
        }
        out.push(Sel {
            name,
            children,
            documented: None,
            expected_type: None,
        });
    }
    Ok(out)
}

fn sel<'d>(name: &str, children: Vec<Sel<'d>>) -> Sel<'d> {
    Sel {
        name: name.to_owned(),
        children,
        documented: None,
        expected_type: None,
    }
}

/// The whole read of `root` as the engine sends it, from `Query`:
/// `<root> { all { pageInfo { hasNextPage endCursor } edges { cursor node { <selection> } } } }`.
fn read_tree<'d>(root: &str, selection: &str) -> Result<Sel<'d>, String> {
    let documented = DocumentedSchema::get().root(root);
    let mut node = sel("node", parse_selection(selection)?);
    node.documented = documented.map(|r| r.fields.as_slice());
    node.expected_type = documented.map(|r| r.type_name.clone());
    annotate(&mut node.children, node.documented);
    Ok(sel(
        root,
        vec![sel(
            "all",
            vec![
                sel(
                    "pageInfo",
                    vec![sel("hasNextPage", vec![]), sel("endCursor", vec![])],
                ),
                sel("edges", vec![sel("cursor", vec![]), node]),
            ],
        )],
    ))
}

/// Gives each selected object the documented fields and type name of its documented field.
fn annotate<'d>(selected: &mut [Sel<'d>], documented: Option<&'d [DocumentedField]>) {
    let Some(documented) = documented else {
        return;
    };
    for s in selected {
        if let Some(doc) = documented.iter().find(|d| d.name == s.name)
            && doc.is_object()
        {
            s.documented = Some(doc.fields.as_slice());
            s.expected_type = doc.type_name.clone();
            annotate(&mut s.children, s.documented);
        }
    }
}

struct Walk<'a> {
    types: BTreeMap<&'a str, Option<&'a [IntroField]>>,
    root: &'a str,
    missing: BTreeSet<MissingField>,
    extras: BTreeMap<String, BTreeSet<String>>,
    checked: usize,
}

impl<'a> Walk<'a> {
    fn missing(&mut self, type_name: &str, field: &str) {
        self.missing.insert(MissingField {
            root: self.root.to_owned(),
            type_name: type_name.to_owned(),
            field: field.to_owned(),
        });
    }

    /// Looks every selected field up on `type_name`, and the children of each object field on
    /// the type the tenant gives it.
    fn fields(&mut self, type_name: &str, selected: &[Sel<'_>]) {
        let offered = self.types.get(type_name).copied().flatten();
        for s in selected {
            if s.name == "__typename" {
                continue;
            }
            self.checked += 1;
            let Some(field) = offered.and_then(|fs| fs.iter().find(|f| f.name == s.name)) else {
                self.missing(type_name, &s.name);
                continue;
            };
            if s.children.is_empty() {
                continue;
            }
            let child_type = field.ty.as_ref().and_then(TypeRef::base);
            match child_type {
                Some(child) if matches!(self.types.get(child), Some(Some(_))) => {
                    let child = child.to_owned();
                    if let Some(documented) = s.documented {
                        self.extras_of(&child, documented);
                    }
                    self.fields(&child, &s.children);
                }
                // The tenant makes it a leaf or an unknown type: none of its fields can be read.
                _ => {
                    let expected = s
                        .expected_type
                        .clone()
                        .or_else(|| child_type.map(str::to_owned))
                        .unwrap_or_else(|| format!("{type_name}.{}", s.name));
                    for c in &s.children {
                        if c.name != "__typename" {
                            self.checked += 1;
                            self.missing(&expected, &c.name);
                        }
                    }
                }
            }
        }
    }

    fn extras_of(&mut self, type_name: &str, documented: &[DocumentedField]) {
        let Some(Some(offered)) = self.types.get(type_name).copied() else {
            return;
        };
        for f in offered {
            if !f.name.starts_with("__") && !documented.iter().any(|d| d.name == f.name) {
                self.extras
                    .entry(type_name.to_owned())
                    .or_default()
                    .insert(f.name.clone());
            }
        }
    }
}

/// Compares an introspection answer (the `data` of `__schema { queryType { name } types { name
/// fields { name type { name ofType { … } } } } }`, or the whole response with its `data`) with
/// the reads `(root, node selection)`: every field each read selects, envelope and nested objects
/// included, must be offered. Extras are the fields the tenant offers beyond the documentation on
/// the node types and nested object types the reads reach.
pub fn compare_schema(
    introspection: &Value,
    reads: &[(&str, &str)],
) -> Result<SchemaReport, IntrospectionError> {
    let data = introspection.get("data").unwrap_or(introspection);
    let data: IntrospectionData = serde_json::from_value(data.clone())
        .map_err(|e| IntrospectionError::Unusable(e.to_string()))?;
    let schema = data
        .schema
        .ok_or_else(|| IntrospectionError::Unusable("no __schema in the answer".into()))?;
    let types: BTreeMap<&str, Option<&[IntroField]>> = schema
        .types
        .iter()
        .filter_map(|t| Some((t.name.as_deref()?, t.fields.as_deref())))
        .collect();
    let query = schema
        .query_type
        .as_ref()
        .and_then(|q| q.name.as_deref())
        .unwrap_or("Query");
    if !matches!(types.get(query), Some(Some(_))) {
        return Err(IntrospectionError::Unusable(format!(
            "the query type {query} is not among the {} types listed",
            types.len()
        )));
    }
    let mut walk = Walk {
        types,
        root: "",
        missing: BTreeSet::new(),
        extras: BTreeMap::new(),
        checked: 0,
    };
    for (root, selection) in reads {
        let tree = read_tree(root, selection).map_err(|e| {
            IntrospectionError::Unusable(format!(
                "the engine's read of {root} cannot be parsed: {e}"
            ))
        })?;
        walk.root = root;
        walk.fields(query, std::slice::from_ref(&tree));
    }
    Ok(SchemaReport {
        missing: walk.missing.into_iter().collect(),
        extras: walk
            .extras
            .into_iter()
            .map(|(t, fs)| (t, fs.into_iter().collect()))
            .collect(),
        checked: walk.checked,
    })
}

// ---------------------------------------------------------------------------------------------
// The exception
// ---------------------------------------------------------------------------------------------

/// What [`apply_schema_report`] did to the `clarus-schema` exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaExceptionChange {
    /// Raised (or raised again after it was resolved).
    Raised,
    /// Open already, updated because the missing fields changed.
    Refreshed,
    /// Open already with the same missing fields: left as it is.
    Unchanged,
    /// Resolved: the schema offers everything again.
    Resolved,
    /// Complete, and nothing was open.
    Nothing,
}

/// The `clarus-schema` exception for an incomplete report.
pub fn schema_exception(report: &SchemaReport) -> Option<NewException> {
    let message = report.message()?;
    let missing: Vec<Value> = report
        .missing
        .iter()
        .map(|m| {
            json!({
                "root": m.root,
                "type": m.type_name,
                "field": m.field,
                "flow": m.flow(),
            })
        })
        .collect();
    Some(NewException::of(
        ExceptionKind::ClarusSchema,
        CLARUS_SCHEMA_KEY,
        "Clarus GraphQL schema",
        message,
        json!({
            "missing": missing,
            "extras": report.extras,
        }),
    ))
}

/// Raises the `clarus-schema` exception for an incomplete report, refreshes it when the missing
/// fields (its message) differ from the open one's, and resolves it for a complete report.
pub async fn apply_schema_report(
    store: &dyn Store,
    report: &SchemaReport,
    now: Timestamp,
) -> Result<SchemaExceptionChange, StoreError> {
    let open = store
        .exception(CLARUS_SCHEMA_KEY)
        .await?
        .filter(|e| e.resolved_at.is_none());
    match schema_exception(report) {
        Some(exception) => match open {
            None => {
                store.refresh_exception(exception, now).await?;
                Ok(SchemaExceptionChange::Raised)
            }
            Some(open) if open.exception.message == exception.message => {
                Ok(SchemaExceptionChange::Unchanged)
            }
            Some(_) => {
                store.refresh_exception(exception, now).await?;
                Ok(SchemaExceptionChange::Refreshed)
            }
        },
        None => match open {
            Some(_) => {
                match store
                    .resolve_exception(
                        CLARUS_SCHEMA_KEY,
                        "the Clarus schema offers every field the integration reads",
                        now,
                    )
                    .await
                {
                    Ok(()) | Err(StoreError::NotFound { .. }) => {
                        Ok(SchemaExceptionChange::Resolved)
                    }
                    Err(e) => Err(e),
                }
            }
            None => Ok(SchemaExceptionChange::Nothing),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The job
// ---------------------------------------------------------------------------------------------

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
            .map_err(|e| JobError::from(e.to_string()))?
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

#[cfg(test)]
#[path = "schema_check_tests.rs"]
mod tests;
