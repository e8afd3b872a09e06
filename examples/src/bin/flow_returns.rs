//! Returns, step by step: two NetSuite return authorisations become Clarus goods-in receipts.
//! The first comes back damaged and is received on hold (quarantine); the second is fine and
//! goes back into sellable stock. The engine posts an item receipt for each, into NetSuite's
//! Quarantine status for the first, so sellable on-hand only grows by what can be sold.
//!
//! ```text
//! cargo run -p examples --bin flow_returns
//! ```

use examples::harness::{RunningEngine, SetupError, Systems};
use examples::walkthrough::{rows, run_or_exit, settle, stocked_item, text, wait_for};
use rust_decimal::Decimal;
use sim::clarus::{ClarusId, ReceivedLine, StockStatus};
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NewItem, NewOrder, NewOrderLine, OrderKind, QUARANTINE, RecordType,
};

#[tokio::main]
async fn main() {
    // 1. Both simulators and the engine on a fresh store. The harness maps Clarus "available"
    //    stock to NetSuite status Good and "held" stock to status Quarantine.
    run_or_exit("flow_returns", 3, run).await;
}

async fn run(systems: Systems, engine: RunningEngine) -> Result<(), SetupError> {
    let ns = systems.netsuite.handle();

    // 2. One item with 10 in sellable stock in both systems.
    let mug = NewItem::new("MUG-RED", ItemKind::Inventory);
    let (item, product) = stocked_item(&systems, mug, Decimal::from(10)).await?;
    print_stock(&systems, item, product);

    // 3. A customer returns 2 mugs that arrive chipped: received on hold in Clarus.
    let damaged = returned(&systems, (item, product), "RA-3001", 2, StockStatus::Held).await?;
    // 4. Another customer returns 1 mug in perfect condition: received as available.
    let fine = returned(
        &systems,
        (item, product),
        "RA-3002",
        1,
        StockStatus::Available,
    )
    .await?;

    // 5. The engine posts one item receipt per return authorisation.
    for (label, ra) in [("damaged", damaged), ("fine", fine)] {
        let receipt = wait_for("the item receipt", || {
            ns.records(RecordType::ItemReceipt)
                .into_iter()
                .find(|r| r["createdFrom"]["id"].as_str() == Some(ra.to_string().as_str()))
        })
        .await?;
        for line in rows(&receipt, "item") {
            let status =
                line["inventoryDetail"]["inventoryAssignment"]["items"][0]["inventoryStatus"]["id"]
                    .as_str()
                    .map_or("the location's default (Good)", |s| {
                        if s == QUARANTINE.0.to_string() {
                            "Quarantine"
                        } else {
                            "Good"
                        }
                    });
            println!(
                "NetSuite item receipt {} for the {label} return: {} x {} into {status}",
                text(&receipt["tranId"]),
                text(&line["item"]["refName"]),
                line["quantity"],
            );
        }
    }
    settle(&systems, &engine).await?;

    // 6. Sellable stock grew by the good mug only; the chipped ones wait in quarantine in both
    //    systems until someone decides (a Clarus release would move them to Good in NetSuite).
    print_stock(&systems, item, product);
    engine.stop().await;
    Ok(())
}

/// Creates a return authorisation in NetSuite, waits for its Clarus goods in, and receives it
/// in the given condition. Answers the return authorisation.
async fn returned(
    systems: &Systems,
    (item, product): (InternalId, ClarusId),
    tran_id: &str,
    quantity: i64,
    condition: StockStatus,
) -> Result<InternalId, SetupError> {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());
    let ra = ns.add_order(
        OrderKind::ReturnAuthorization,
        NewOrder {
            tran_id: Some(tran_id.into()),
            location: Some(systems.location),
            lines: vec![NewOrderLine {
                item,
                quantity: Decimal::from(quantity),
                location: None,
            }],
            ..NewOrder::default()
        },
    )?;
    let goods_in = wait_for("the goods-in receipt", || {
        cl.find_goods_ins(tran_id).first().copied()
    })
    .await?;
    let line = ReceivedLine {
        product,
        quantity: Decimal::from(quantity),
        batch: None,
        serial_numbers: Vec::new(),
    };
    systems
        .clarus
        .warehouse()
        .receive(goods_in, &[line], condition, true)?;
    println!(
        "NetSuite return authorisation {ra} {tran_id} became Clarus goods in {goods_in}; \
         received {quantity} as {}",
        condition.as_str()
    );
    Ok(ra)
}

/// What both systems hold of one item, sellable and in quarantine.
fn print_stock(systems: &Systems, item: InternalId, product: ClarusId) {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());
    println!(
        "On hand: sellable NetSuite {} / Clarus {}; quarantine NetSuite {} / Clarus {}",
        ns.on_hand(item, systems.location, GOOD),
        cl.on_hand(product, systems.warehouse, StockStatus::Available),
        ns.on_hand(item, systems.location, QUARANTINE),
        cl.on_hand(product, systems.warehouse, StockStatus::Held),
    );
}
