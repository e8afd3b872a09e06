//! Shared set-up of the end-to-end tests: both simulators and the whole engine on a store in a
//! temporary directory, seeding helpers that go through the systems' own handles, and waits that
//! poll for an observable outcome instead of sleeping a fixed time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use examples::harness::{EngineOptions, RunningEngine, Systems, SystemsOptions};
use rust_decimal::Decimal;
use serde_json::Value;
use sim::clarus::{
    ClarusHandle, ClarusId, GoodsOutStatus, Parcel, ReceivedLine, StockStatus, Warehouse,
};
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteHandle, NewItem, NewOrder, NewOrderLine, OrderKind,
    QUARANTINE, RecordType,
};
use sync_engine::service::backlog;
use sync_engine::store::StoredException;

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// Quiet time that counts as settled: longer than a NetSuite poll (150 ms) and a Clarus sweep
/// (600 ms) of the fast engine settings, so a late duplicate would have shown up.
pub const QUIET: Duration = Duration::from_millis(900);

/// Units as a decimal.
pub fn d(units: i64) -> Decimal {
    Decimal::from(units)
}

/// An item seeded in both systems.
#[derive(Debug, Clone)]
pub struct SeededItem {
    /// SKU (`itemId` in NetSuite, product code in Clarus).
    pub sku: String,
    /// NetSuite internal id.
    pub item: InternalId,
    /// Clarus product id.
    pub product: ClarusId,
}

/// Both simulators, the engine and the directory of its store.
pub struct Flow {
    /// The simulators with their reference data and mappings.
    pub systems: Systems,
    /// The running engine (`None` between a kill and a restart).
    pub engine: Option<RunningEngine>,
    /// The engine's settings (the store path stays the same across restarts).
    pub options: EngineOptions,
    dir: PathBuf,
}

impl Drop for Flow {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "clarus-netsuite-flows-{}-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

impl Flow {
    /// Calm systems (no faults, no duplicates) and a running engine.
    pub async fn calm() -> Flow {
        Flow::start(SystemsOptions::calm(11)).await
    }

    /// The systems as given and a running engine.
    pub async fn start(options: SystemsOptions) -> Flow {
        let flow = Flow::without_engine(options).await;
        flow.with_engine().await
    }

    /// The systems only; start the engine with [`Flow::with_engine`].
    pub async fn without_engine(options: SystemsOptions) -> Flow {
        let systems = Systems::start(&options).await.expect("simulators start");
        let dir = temp_dir();
        Flow {
            systems,
            engine: None,
            options: EngineOptions::fast(dir.join("sync.sqlite")),
            dir,
        }
    }

    /// Starts the engine on the flow's store.
    pub async fn with_engine(mut self) -> Flow {
        self.restart().await;
        self
    }

    /// Starts the engine again on the same store (after [`Flow::kill`]).
    pub async fn restart(&mut self) {
        assert!(self.engine.is_none(), "the engine is already running");
        self.engine = Some(
            RunningEngine::start(&self.systems, &self.options)
                .await
                .expect("engine starts"),
        );
    }

    /// Kills the engine as a crash would.
    pub async fn kill(&mut self) {
        if let Some(engine) = self.engine.take() {
            engine.kill().await;
        }
    }

    /// The running engine.
    pub fn engine(&self) -> &RunningEngine {
        self.engine.as_ref().expect("the engine is running")
    }

    /// NetSuite's state.
    pub fn ns(&self) -> NetSuiteHandle {
        self.systems.netsuite.handle()
    }

    /// Clarus's state.
    pub fn cl(&self) -> ClarusHandle {
        self.systems.clarus.handle()
    }

    /// The Clarus warehouse floor.
    pub fn wh(&self) -> Warehouse {
        self.systems.clarus.warehouse()
    }

    /// Seeds a NetSuite item, waits for the engine to create its Clarus product, and gives both
    /// systems the same opening stock (`on_hand` units, sellable). Lot items get their stock in
    /// lot `<SKU>-LOT1`; serialized items get `on_hand` serial numbers `<SKU>-SN<n>`.
    pub async fn item(&self, sku: &str, kind: ItemKind, on_hand: i64) -> SeededItem {
        let ns = self.ns();
        let mut new = NewItem::new(sku, kind);
        new.display_name = Some(format!("Product {sku}"));
        let item = ns.add_item(new).expect("item is created");
        let product = self.product(sku).await;
        self.stock(
            &SeededItem {
                sku: sku.to_owned(),
                item,
                product,
            },
            kind,
            on_hand,
        )
    }

    /// Gives an item the same opening stock in both systems (see [`Flow::item`]).
    pub fn stock(&self, seeded: &SeededItem, kind: ItemKind, on_hand: i64) -> SeededItem {
        let (ns, cl) = (self.ns(), self.cl());
        let location = self.systems.location;
        if on_hand > 0 {
            match kind {
                ItemKind::Inventory => {
                    ns.set_on_hand(seeded.item, location, GOOD, d(on_hand));
                    cl.seed_stock(
                        seeded.product,
                        self.systems.bin,
                        d(on_hand),
                        StockStatus::Available,
                        None,
                    )
                    .expect("Clarus stock");
                }
                ItemKind::LotNumbered => {
                    let lot = format!("{}-LOT1", seeded.sku);
                    ns.set_lot_on_hand(seeded.item, &lot, location, GOOD, d(on_hand))
                        .expect("NetSuite lot");
                    cl.seed_stock(
                        seeded.product,
                        self.systems.bin,
                        d(on_hand),
                        StockStatus::Available,
                        Some(&lot),
                    )
                    .expect("Clarus batch");
                }
                ItemKind::Serialized => {
                    let serials: Vec<String> = (1..=on_hand)
                        .map(|n| format!("{}-SN{n}", seeded.sku))
                        .collect();
                    for serial in &serials {
                        ns.set_lot_on_hand(seeded.item, serial, location, GOOD, Decimal::ONE)
                            .expect("NetSuite serial");
                    }
                    let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
                    cl.seed_serials(
                        seeded.product,
                        self.systems.bin,
                        &refs,
                        StockStatus::Available,
                    )
                    .expect("Clarus serials");
                }
            }
        }
        seeded.clone()
    }

    /// Waits for the Clarus product with this code.
    pub async fn product(&self, sku: &str) -> ClarusId {
        let cl = self.cl();
        eventually(&format!("product {sku} in Clarus"), || cl.find_product(sku)).await
    }

    /// Creates a NetSuite order at the warehouse's location; `tran_id` names it in both systems.
    pub fn order(
        &self,
        kind: OrderKind,
        tran_id: &str,
        lines: &[(&SeededItem, i64)],
    ) -> InternalId {
        self.ns()
            .add_order(
                kind,
                NewOrder {
                    tran_id: Some(tran_id.to_owned()),
                    location: Some(self.systems.location),
                    lines: lines
                        .iter()
                        .map(|(item, quantity)| NewOrderLine {
                            item: item.item,
                            quantity: d(*quantity),
                            location: None,
                        })
                        .collect(),
                    ..NewOrder::default()
                },
            )
            .expect("order is created")
    }

    /// Waits for the Clarus goods out of a sales order.
    pub async fn goods_out(&self, tran_id: &str) -> ClarusId {
        let cl = self.cl();
        eventually(&format!("goods out {tran_id} in Clarus"), || {
            cl.find_goods_outs(tran_id).first().copied()
        })
        .await
    }

    /// Waits for the Clarus goods-in receipt of a purchase order or return.
    pub async fn goods_in(&self, tran_id: &str) -> ClarusId {
        let cl = self.cl();
        eventually(&format!("goods in {tran_id} in Clarus"), || {
            cl.find_goods_ins(tran_id).first().copied()
        })
        .await
    }

    /// Allocates and picks a goods out in full, then despatches it with the harness's carrier.
    pub fn pick_and_despatch(&self, goods_out: ClarusId, tracking: &[&str]) {
        let wh = self.wh();
        assert_eq!(
            wh.allocate(goods_out).expect("allocate"),
            GoodsOutStatus::Allocated
        );
        wh.pick(goods_out).expect("pick");
        self.despatch(goods_out, tracking);
    }

    /// Despatches a picked goods out with one parcel per tracking number.
    pub fn despatch(&self, goods_out: ClarusId, tracking: &[&str]) {
        let parcels: Vec<Parcel> = tracking
            .iter()
            .map(|t| Parcel {
                tracking_number: (*t).to_owned(),
                weight_kg: Some(Decimal::new(12, 1)),
            })
            .collect();
        self.wh()
            .despatch(goods_out, self.systems.carrier, &parcels)
            .expect("despatch");
    }

    /// Receives the given quantities against a goods-in receipt and completes it.
    pub fn receive(&self, goods_in: ClarusId, lines: &[(&SeededItem, i64)], status: StockStatus) {
        let lines: Vec<ReceivedLine> = lines
            .iter()
            .map(|(item, quantity)| ReceivedLine {
                product: item.product,
                quantity: d(*quantity),
                batch: None,
                serial_numbers: Vec::new(),
            })
            .collect();
        self.wh()
            .receive(goods_in, &lines, status, true)
            .expect("receive");
    }

    /// Polls `check` until it answers `Some`; after [`WAIT`] the test fails with the engine's
    /// actions and exceptions in the message.
    pub async fn wait_for<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = check() {
                return value;
            }
            if started.elapsed() >= WAIT {
                panic!("timed out waiting for {what}\n{}", dump(self).await);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the engine has nothing to do and no webhook is in flight, for [`QUIET`] in a
    /// row.
    pub async fn settle(&self) {
        let started = Instant::now();
        let mut quiet_since: Option<Instant> = None;
        loop {
            let idle = self.cl().wait_for_webhooks(Duration::ZERO).await;
            let empty = backlog(self.engine().store.as_ref())
                .await
                .expect("backlog")
                .is_empty();
            if idle && empty {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= QUIET {
                    return;
                }
            } else {
                quiet_since = None;
            }
            if started.elapsed() >= WAIT {
                panic!(
                    "the engine did not settle: {:?}\n{}",
                    backlog(self.engine().store.as_ref()).await,
                    dump(self).await
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every exception the engine raised.
    pub async fn exceptions(&self) -> Vec<StoredException> {
        self.engine().store.exceptions().await.expect("exceptions")
    }

    /// The NetSuite transactions of a type created from an order, in id order.
    pub fn created_from(&self, record: RecordType, order: InternalId) -> Vec<Value> {
        self.ns()
            .records(record)
            .into_iter()
            .filter(|r| {
                r.get("createdFrom")
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_str)
                    == Some(order.0.to_string().as_str())
            })
            .collect()
    }

    /// Sellable (NetSuite `Good` / Clarus available) and quarantine (`Quarantine` / held)
    /// on-hand of an item in both systems: `[(netsuite, clarus); 2]`.
    pub fn on_hand(&self, item: &SeededItem) -> [(Decimal, Decimal); 2] {
        let (ns, cl) = (self.ns(), self.cl());
        let (location, warehouse) = (self.systems.location, self.systems.warehouse);
        [
            (
                ns.on_hand(item.item, location, GOOD),
                cl.on_hand(item.product, warehouse, StockStatus::Available),
            ),
            (
                ns.on_hand(item.item, location, QUARANTINE),
                cl.on_hand(item.product, warehouse, StockStatus::Held),
            ),
        ]
    }

    /// Asserts that NetSuite on-hand equals Clarus on-hand for every item, sellable and
    /// quarantine, and that no other NetSuite status holds stock of them.
    pub fn assert_stock_agrees(&self, items: &[&SeededItem]) {
        for item in items {
            let [sellable, quarantine] = self.on_hand(item);
            assert_eq!(
                sellable.0, sellable.1,
                "{}: sellable on-hand NetSuite {} vs Clarus {}",
                item.sku, sellable.0, sellable.1
            );
            assert_eq!(
                quarantine.0, quarantine.1,
                "{}: quarantine on-hand NetSuite {} vs Clarus {}",
                item.sku, quarantine.0, quarantine.1
            );
        }
        let totals = self.ns().on_hand_totals();
        for (key, quantity) in totals {
            if items.iter().any(|i| i.item == key.item) {
                assert!(
                    key.location == self.systems.location
                        && (key.status == GOOD || key.status == QUARANTINE),
                    "unexpected NetSuite balance {key:?} = {quantity}"
                );
            }
        }
    }

    /// Asserts that no external id is on two NetSuite transactions of one type.
    pub fn assert_no_duplicate_transactions(&self) {
        let duplicates = self.ns().duplicate_external_ids();
        assert!(
            duplicates.is_empty(),
            "duplicate NetSuite transactions: {duplicates:?}"
        );
    }
}

/// Polls `check` until it answers `Some`, failing the test after [`WAIT`].
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A decimal field of a NetSuite record or line (numbers or strings).
pub fn dec(value: &Value, field: &str) -> Decimal {
    match value.get(field) {
        Some(Value::Number(n)) => n.to_string().parse().expect("decimal"),
        Some(Value::String(s)) => s.parse().expect("decimal"),
        other => panic!("{field} is not a number: {other:?}"),
    }
}

/// The id of a reference field (`{"id": "12"}`).
pub fn ref_id(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)?
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The rows of a sublist (`{"items": [...]}`).
pub fn sublist<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value
        .get(field)
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The engine's actions and exceptions, for failure messages.
pub async fn dump(flow: &Flow) -> String {
    let store = &flow.engine().store;
    let mut out = String::new();
    for a in store.actions().await.expect("actions") {
        out.push_str(&format!(
            "action {} {} {:?} attempts {} error {:?} result {:?}\n",
            a.action.kind, a.action.key, a.status, a.attempts, a.last_error, a.result_id
        ));
    }
    for e in store.exceptions().await.expect("exceptions") {
        out.push_str(&format!(
            "exception {} {} resolved {:?}: {}\n",
            e.exception.kind, e.exception.owner, e.resolved_at, e.exception.message
        ));
    }
    out
}

/// Waits until the wall clock has passed into the next second (NetSuite's modification times
/// have whole seconds), plus a little.
pub async fn next_second() {
    let now = jiff::Timestamp::now();
    let into = now.subsec_nanosecond();
    let left = Duration::from_nanos(1_000_000_000 - into as u64) + Duration::from_millis(50);
    tokio::time::sleep(left).await;
}
