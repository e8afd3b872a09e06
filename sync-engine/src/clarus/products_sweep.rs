//! The product check: reads every Clarus product and feeds it to the item-master rules, which
//! raise `sku-mismatch`, `barcode-mismatch` and `unknown-product` (and resolve them when the two
//! systems agree again).
//!
//! Lists Clarus `products` with the documented fields of [`ProductNode`] (no filter, or the
//! documented `account_id` with [`ProductSweep::for_account`]) and ingests one
//! [`Payload::ClarusProduct`] event per product whose code or barcode changed since the sweep
//! last read it. Clarus documents neither a change date on products nor a read of their
//! `external_system_reference1`, so the product is matched to its NetSuite item by `code` (the
//! SKU), and a change is told by a fingerprint of what is read.
//!
//! # Identity
//!
//! `SourceId { system: Clarus, resource: "product", id: <product id>, event:
//! "read-<fingerprint>", revision: Sequence(<version>) }`: the fingerprint is FNV-1a (64 bits,
//! 16 hex digits) of the product as read (code and barcode); the version counts the contents the
//! sweep has read of that product (1 for the first), kept in the store entry
//! [`product_read_name`]. So:
//!
//! - a product unchanged since the last read is not ingested at all (nothing is planned);
//! - a read whose plan was committed but whose store entry was not (a crash in between) is read
//!   again with the same identity and is a duplicate;
//! - a product that changes back to an earlier content (a barcode corrected, then the mistake
//!   made again) gets a new version, so it is planned again rather than taken for a replay.
//!
//! The rules also compare on every NetSuite item change, so an item corrected in NetSuite to
//! match an unchanged product resolves its exception without a new read.

use std::time::Duration;

use async_trait::async_trait;
use clarus_client::graphql::{Filter, ProductNode};
use clarus_client::{ClarusClient, ClarusId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sync_core::{Barcode, ClarusProduct, Event, Payload, ProductId, Revision, SourceId, System};

use super::executor::list;
use super::kept::{self, Kept};
use super::sweep::SweepError;
use crate::engine::{Engine, IngestOutcome};
use crate::job::Connection;
use crate::job::{JobError, Scheduled};

/// The resource of product reads in their [`SourceId`].
const PRODUCT_RESOURCE: &str = "product";

/// What the sweep last read of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LastRead {
    version: u64,
    fingerprint: String,
}

/// What one product sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductSweepReport {
    /// Products listed.
    pub products: usize,
    /// Unchanged since the last read: not ingested.
    pub unchanged: usize,
    /// Ingested and planned.
    pub planned: usize,
    /// Ingested but seen before (a read repeated after an interruption).
    pub duplicates: usize,
    /// Exceptions the planned reads raised.
    pub exceptions: usize,
    /// Products without a code (no NetSuite item can have them), not checked.
    pub without_code: Vec<ClarusId>,
}

/// Reads Clarus products and checks them against the NetSuite item master.
///
/// ```no_run
/// # async fn demo(client: clarus_client::ClarusClient, engine: &sync_engine::engine::Engine)
/// # -> Result<(), sync_engine::clarus::SweepError> {
/// let sweep = sync_engine::clarus::ProductSweep::new(client);
/// let report = sweep.run(engine).await?;
/// println!("{} products, {} changed", report.products, report.planned);
/// # Ok(()) }
/// ```
pub struct ProductSweep {
    client: ClarusClient,
    account: Option<ClarusId>,
    /// One run at a time (the schedule and an on-demand run share the store entries).
    running: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ProductSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductSweep")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl ProductSweep {
    /// A sweep of every product of the tenant.
    pub fn new(client: ClarusClient) -> Self {
        ProductSweep {
            client,
            account: None,
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Reads only the products of one Clarus account (documented filter `account_id`), for a
    /// tenant shared with stock owners whose products are not in this NetSuite account.
    pub fn for_account(mut self, account: ClarusId) -> Self {
        self.account = Some(account);
        self
    }

    /// The same sweep as a [`Scheduled`] job running every `interval`, the first run one
    /// interval after the service starts (once the first NetSuite poll has made the items
    /// known; earlier, every product would look unknown).
    pub fn every(self, interval: Duration) -> ProductCheck {
        ProductCheck {
            sweep: self,
            interval,
            first_run_at: std::sync::Mutex::new(None),
        }
    }

    /// Reads every product and plans those changed since the last read.
    ///
    /// Errors: Clarus could not be listed, planning or the store failed. Products planned before
    /// the error keep their plans; the next run goes on from there.
    pub async fn run(&self, engine: &Engine) -> Result<ProductSweepReport, SweepError> {
        let _running = self.running.lock().await;
        let nodes: Vec<ProductNode> = list(&self.client, product_filter(self.account)).await?;
        let store = engine.store();
        let mut report = ProductSweepReport {
            products: nodes.len(),
            ..ProductSweepReport::default()
        };
        for node in &nodes {
            let Some(product) = clarus_product(node) else {
                report.without_code.push(node.id);
                continue;
            };
            // What the sweep last read of the product (kept as adapter state
            // `clarus.product.read`): the version and the fingerprint.
            let key = Kept::ProductRead.key(node.id);
            let last: Option<LastRead> = kept::load(store.as_ref(), &key).await?;
            let fingerprint = format!("{:016x}", fingerprint(&product));
            if last.as_ref().is_some_and(|l| l.fingerprint == fingerprint) {
                report.unchanged += 1;
                continue;
            }
            let version = last.map_or(1, |l| l.version + 1);
            let now = engine.clock().now();
            let event = product_event(product, &fingerprint, version, now);
            match engine.ingest(&event, now).await? {
                IngestOutcome::Planned { exceptions, .. }
                | IngestOutcome::Blocked { exceptions } => {
                    report.planned += 1;
                    report.exceptions += exceptions;
                }
                IngestOutcome::Duplicate => report.duplicates += 1,
            }
            let read = LastRead {
                version,
                fingerprint,
            };
            kept::save(store.as_ref(), &key, &read, now).await?;
        }
        if !report.without_code.is_empty() {
            tracing::warn!(
                products = ?report.without_code,
                "Clarus products without a code were not checked against the item master"
            );
        }
        if report.planned > 0 {
            tracing::info!(
                products = report.products,
                changed = report.planned,
                exceptions = report.exceptions,
                "Clarus products checked against the item master"
            );
        }
        Ok(report)
    }
}

/// The filter of the product list: every product, or one account's.
fn product_filter(account: Option<ClarusId>) -> Filter {
    match account {
        Some(account) => Filter::new().eq("account_id", account),
        None => Filter::new(),
    }
}

/// The product as the core reads it: code and barcode trimmed, an empty barcode absent. `None`
/// for a product without a code (or with an id that is no product id).
fn clarus_product(node: &ProductNode) -> Option<ClarusProduct> {
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(ClarusProduct {
        id: ProductId(u64::try_from(node.id.get()).ok()?),
        sku: text(&node.code)?.into(),
        barcode: text(&node.barcode).map(Barcode::from),
        netsuite_id: None,
    })
}

/// FNV-1a (64 bits) of the product's JSON: stable across runs and builds.
fn fingerprint(product: &ClarusProduct) -> u64 {
    let bytes = serde_json::to_vec(product).unwrap_or_default();
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The event of one read of `product`: its `version`-th content, with this `fingerprint`.
fn product_event(
    product: ClarusProduct,
    fingerprint: &str,
    version: u64,
    read_at: Timestamp,
) -> Event {
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: PRODUCT_RESOURCE.into(),
            id: product.id.to_string().as_str().into(),
            event: format!("read-{fingerprint}").as_str().into(),
            revision: Revision::Sequence(version),
        },
        occurred_at: read_at,
        payload: Payload::ClarusProduct(product),
    }
}

/// [`ProductSweep`] on a schedule (see [`ProductSweep::every`]).
pub struct ProductCheck {
    sweep: ProductSweep,
    interval: Duration,
    first_run_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for ProductCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductCheck")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl ProductCheck {
    /// The sweep, to run it on demand.
    pub fn sweep(&self) -> &ProductSweep {
        &self.sweep
    }
}

#[async_trait]
impl Scheduled for ProductCheck {
    fn name(&self) -> &str {
        "clarus-product-check"
    }
    fn interval(&self) -> Duration {
        self.interval
    }
    fn connections(&self) -> &[Connection] {
        &[Connection::Clarus]
    }
    async fn run_once(&self, engine: &Engine) -> Result<usize, JobError> {
        {
            let now = std::time::Instant::now();
            let mut first = self
                .first_run_at
                .lock()
                .map_err(|_| JobError::transient("product check schedule lock poisoned"))?;
            if now < *first.get_or_insert(now + self.interval) {
                return Ok(0);
            }
        }
        let report = self.sweep.run(engine).await.map_err(|e| match &e {
            SweepError::Clarus(_) => JobError::clarus(e),
            _ => JobError::of(e),
        })?;
        Ok(report.products)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clarus_client::graphql::Node;
    use clarus_client::graphql::documented::DocumentedSchema;

    fn node(id: i64, code: Option<&str>, barcode: Option<&str>) -> ProductNode {
        serde_json::from_value(serde_json::json!({
            "id": id.to_string(), "code": code, "barcode": barcode,
        }))
        .unwrap()
    }

    /// The sweep asks for documented fields with documented filters, exactly as it builds them.
    #[test]
    fn the_product_read_is_documented() {
        let root = DocumentedSchema::get()
            .root(ProductNode::ROOT)
            .expect("products is a documented root");
        assert_eq!(root.filter_type, ProductNode::FILTER_TYPE);
        root.check_selection(ProductNode::FIELDS)
            .unwrap_or_else(|e| panic!("{e}"));
        for account in [None, Some(ClarusId::new(3))] {
            root.check_filters(&product_filter(account))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn a_product_is_read_trimmed_and_without_a_link() {
        let product = clarus_product(&node(5, Some(" MUG-RED "), Some(" 50077"))).unwrap();
        assert_eq!(product.id, ProductId(5));
        assert_eq!(product.sku.as_str(), "MUG-RED");
        assert_eq!(product.barcode.as_ref().map(Barcode::as_str), Some("50077"));
        assert_eq!(product.netsuite_id, None);
        let bare = clarus_product(&node(5, Some("MUG-RED"), Some("  "))).unwrap();
        assert_eq!(bare.barcode, None);
        assert!(clarus_product(&node(6, None, Some("1"))).is_none());
        assert!(clarus_product(&node(6, Some(" "), None)).is_none());
    }

    #[test]
    fn the_identity_follows_the_content_and_the_version() {
        let read = |code: &str, barcode: &str, version: u64| {
            let product = clarus_product(&node(5, Some(code), Some(barcode))).unwrap();
            let fingerprint = format!("{:016x}", fingerprint(&product));
            product_event(product, &fingerprint, version, Timestamp::UNIX_EPOCH).source
        };
        let first = read("MUG-RED", "50077", 1);
        assert_eq!(first.system, System::Clarus);
        assert_eq!(first.resource.as_str(), PRODUCT_RESOURCE);
        assert_eq!(first.id.as_str(), "5");
        assert_eq!(first.revision, Revision::Sequence(1));
        assert!(first.event.as_str().starts_with("read-"));
        assert_eq!(first.event.as_str().len(), "read-".len() + 16);
        // Stable: the same content read again has the same identity.
        assert_eq!(read("MUG-RED", "50077", 1), first);
        // Another barcode, or another version of the same content, is another event.
        assert_ne!(read("MUG-RED", "50078", 1).event, first.event);
        assert_ne!(read("MUG-RED", "50077", 3), first);
    }
}
