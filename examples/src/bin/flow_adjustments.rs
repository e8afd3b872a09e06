//! Stock adjustments, step by step: the warehouse finds stock, loses some, writes off a
//! breakage, puts stock on hold and releases part of it, and counts a location. Each movement
//! reaches NetSuite as an inventory adjustment (to the mapped adjustment account) or an inventory
//! status change (Good ⇄ Quarantine), and afterwards both systems hold the same stock per item
//! and status.
//!
//! ```text
//! cargo run -p examples --bin flow_adjustments
//! ```

use examples::harness::{RunningEngine, SetupError, Systems};
use examples::walkthrough::{rows, run_or_exit, settle, stocked_item, text, wait_for};
use rust_decimal::Decimal;
use sim::clarus::{ClarusId, StockStatus};
use sim::netsuite::{GOOD, InternalId, ItemKind, NewItem, QUARANTINE, RecordType};

#[tokio::main]
async fn main() {
    // 1. Both simulators and the engine on a fresh store. The harness maps every adjustment
    //    kind to NetSuite account 540 and Clarus held stock to status Quarantine.
    run_or_exit("flow_adjustments", 4, run).await;
}

async fn run(systems: Systems, engine: RunningEngine) -> Result<(), SetupError> {
    let ns = systems.netsuite.handle();
    let (bin, warehouse) = (systems.bin, systems.warehouse);

    // 2. One item with 20 in stock in both systems.
    let mug = NewItem::new("MUG-RED", ItemKind::Inventory);
    let (item, product) = stocked_item(&systems, mug, Decimal::from(20)).await?;
    show(&systems, "opening stock", item, product);

    // 3. The movements of a day. Each is a Clarus stock transaction that fires a webhook; the
    //    engine turns it into one NetSuite transaction. We wait for NetSuite to agree before the
    //    next movement touches the same stock.
    let wh = systems.clarus.warehouse();
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
