//! Stock adjustments, step by step: the warehouse finds stock, loses some, writes off a
//! breakage, puts stock on hold and releases part of it, and counts a location. Each movement
//! reaches NetSuite as an inventory adjustment (to the mapped adjustment account) or an inventory
//! status change (Good ⇄ Quarantine), and afterwards both systems hold the same stock per item
//! and status.
//!
//! ```text
//! cargo run -p examples --bin flow_adjustments
//! ```

use examples::harness::{EngineOptions, RunningEngine, SetupError, Systems, SystemsOptions};
use examples::walkthrough::{rows, settle, text, wait_for};
use rust_decimal::Decimal;
use sim::clarus::{ClarusId, StockStatus};
use sim::netsuite::{GOOD, InternalId, ItemKind, NewItem, QUARANTINE, RecordType};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("flow_adjustments failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), SetupError> {
    // 1. Both simulators and the engine on a fresh store. The harness maps every adjustment
    //    kind to NetSuite account 540 and Clarus held stock to status Quarantine.
    let systems = Systems::start(&SystemsOptions::calm(4)).await?;
    let dir = std::env::temp_dir().join(format!("flow-adjustments-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let engine =
        RunningEngine::start(&systems, &EngineOptions::fast(dir.join("sync.sqlite"))).await?;
    let (ns, cl, wh) = (
        systems.netsuite.handle(),
        systems.clarus.handle(),
        systems.clarus.warehouse(),
    );
    let (bin, warehouse) = (systems.bin, systems.warehouse);

    // 2. One item with 20 in stock in both systems.
    let item = ns.add_item(NewItem::new("MUG-RED", ItemKind::Inventory))?;
    ns.set_on_hand(item, systems.location, GOOD, Decimal::from(20));
    let product = wait_for("the Clarus product", || cl.find_product("MUG-RED")).await?;
    cl.seed_stock(
        product,
        bin,
        Decimal::from(20),
        StockStatus::Available,
        None,
    )?;
    show(&systems, "opening stock", item, product);

    // 3. The movements of a day. Each is a Clarus stock transaction that fires a webhook; the
    //    engine turns it into one NetSuite transaction. We wait for NetSuite to agree before the
    //    next movement touches the same stock.
    wh.adjust(product, bin, Decimal::from(5), "found")?;
    agree(&systems, item, product).await?;
    show(&systems, "found 5", item, product);

    wh.adjust(product, bin, Decimal::from(-3), "lost")?;
    agree(&systems, item, product).await?;
    show(&systems, "lost 3", item, product);

    wh.breakage(product, bin, Decimal::TWO)?;
    agree(&systems, item, product).await?;
    show(&systems, "broke 2", item, product);

    wh.hold(product, warehouse, Decimal::from(4), "damaged packaging")?;
    agree(&systems, item, product).await?;
    show(&systems, "held 4", item, product);

    wh.release(product, warehouse, Decimal::ONE, "repacked")?;
    agree(&systems, item, product).await?;
    show(&systems, "released 1", item, product);

    // A count finds 15 where Clarus expected 17: Clarus adjusts by the difference.
    let difference = wh.stock_check(product, bin, Decimal::from(15))?;
    agree(&systems, item, product).await?;
    show(
        &systems,
        &format!("counted 15 ({difference})"),
        item,
        product,
    );
    settle(&systems, &engine).await?;

    // 4. What NetSuite recorded: four adjustments and two status changes, each carrying the
    //    Clarus movement's idempotency key as its external id.
    for adjustment in ns.records(RecordType::InventoryAdjustment) {
        for line in rows(&adjustment, "inventory") {
            println!(
                "NetSuite inventory adjustment {} ({}), account {}: {} by {}",
                text(&adjustment["tranId"]),
                text(&adjustment["externalId"]),
                text(&adjustment["account"]["id"]),
                text(&line["item"]["refName"]),
                line["adjustQtyBy"]
            );
        }
    }
    for change in ns.records(RecordType::InventoryStatusChange) {
        for line in rows(&change, "inventory") {
            println!(
                "NetSuite inventory status change {} ({}): {} x {} from status {} to {}",
                text(&change["tranId"]),
                text(&change["externalId"]),
                text(&line["item"]["refName"]),
                line["quantity"],
                text(&change["previousStatus"]["id"]),
                text(&change["revisedStatus"]["id"])
            );
        }
    }
    engine.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `[(sellable), (quarantine)]` on-hand as `(NetSuite, Clarus)`.
fn on_hand(systems: &Systems, item: InternalId, product: ClarusId) -> [(Decimal, Decimal); 2] {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());
    [
        (
            ns.on_hand(item, systems.location, GOOD),
            cl.on_hand(product, systems.warehouse, StockStatus::Available),
        ),
        (
            ns.on_hand(item, systems.location, QUARANTINE),
            cl.on_hand(product, systems.warehouse, StockStatus::Held),
        ),
    ]
}

fn show(systems: &Systems, after: &str, item: InternalId, product: ClarusId) {
    let [sellable, quarantine] = on_hand(systems, item, product);
    println!(
        "{after:>20}: sellable NetSuite {:>3} / Clarus {:>3}   quarantine NetSuite {:>3} / Clarus {:>3}",
        sellable.0, sellable.1, quarantine.0, quarantine.1
    );
}

/// Waits until NetSuite holds what Clarus holds, sellable and in quarantine.
async fn agree(systems: &Systems, item: InternalId, product: ClarusId) -> Result<(), SetupError> {
    wait_for("NetSuite to agree with Clarus", || {
        let [sellable, quarantine] = on_hand(systems, item, product);
        (sellable.0 == sellable.1 && quarantine.0 == quarantine.1).then_some(())
    })
    .await
}
