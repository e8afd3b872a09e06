//! Inbound, step by step: a NetSuite purchase order becomes a Clarus goods-in receipt, the
//! warehouse receives what arrived (all of one line, half of the other), and the engine posts an
//! item receipt of exactly that to NetSuite, raising on-hand there.
//!
//! ```text
//! cargo run -p examples --bin flow_inbound
//! ```

use examples::harness::{RunningEngine, SetupError, Systems};
use examples::walkthrough::{rows, run_or_exit, settle, stocked_item, text, wait_for};
use rust_decimal::Decimal;
use sim::clarus::{ReceivedLine, StockStatus};
use sim::netsuite::{GOOD, ItemKind, NewItem, NewOrder, NewOrderLine, OrderKind, RecordType};

#[tokio::main]
async fn main() {
    // 1. Both simulators and the engine on a fresh store.
    run_or_exit("flow_inbound", 2, run).await;
}

async fn run(systems: Systems, engine: RunningEngine) -> Result<(), SetupError> {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());

    // 2. Two NetSuite items, which the engine creates as Clarus products. Mugs start with 4 in
    //    stock in both systems, tea with none.
    let blue_mug = NewItem::new("MUG-BLUE", ItemKind::Inventory);
    let (mug, mug_product) = stocked_item(&systems, blue_mug, Decimal::from(4)).await?;
    let tea = ns.add_item(NewItem::new("TEA-GREEN", ItemKind::Inventory))?;
    let tea_product = wait_for("the tea product", || cl.find_product("TEA-GREEN")).await?;

    // 3. Purchasing orders 20 mugs and 6 teas from a supplier. The engine releases the purchase
    //    order to the warehouse as an expected goods-in receipt.
    let po = ns.add_order(
        OrderKind::PurchaseOrder,
        NewOrder {
            tran_id: Some("PO-2001".into()),
            location: Some(systems.location),
            lines: vec![
                NewOrderLine {
                    item: mug,
                    quantity: Decimal::from(20),
                    location: None,
                },
                NewOrderLine {
                    item: tea,
                    quantity: Decimal::from(6),
                    location: None,
                },
            ],
            ..NewOrder::default()
        },
    )?;
    let goods_in = wait_for("the goods-in receipt", || {
        cl.find_goods_ins("PO-2001").first().copied()
    })
    .await?;
    let receipt = cl.goods_in(goods_in).unwrap_or_default();
    println!("NetSuite purchase order {po} PO-2001 became Clarus goods in {goods_in}:");
    for line in rows(&receipt, "lines") {
        println!(
            "  expecting {} x {}",
            text(&line["product_code"]),
            line["expected_quantity"]
        );
    }

    // 4. The lorry brings all the mugs but only 3 teas; the warehouse receives and puts away.
    let wh = systems.clarus.warehouse();
    let lines = [(mug_product, 20), (tea_product, 3)].map(|(product, quantity)| ReceivedLine {
        product,
        quantity: Decimal::from(quantity),
        batch: None,
        serial_numbers: Vec::new(),
    });
    wh.receive(goods_in, &lines, StockStatus::Available, true)?;
    println!("Clarus: received 20 MUG-BLUE and 3 TEA-GREEN against goods in {goods_in}");

    // 5. The receipt webhook reaches the engine, which transforms the purchase order into an
    //    item receipt of what arrived, line by line (NetSuite's own line numbers).
    let receipt = wait_for("the item receipt", || {
        ns.records(RecordType::ItemReceipt)
            .into_iter()
            .find(|r| r["createdFrom"]["id"].as_str() == Some(po.to_string().as_str()))
    })
    .await?;
    settle(&systems, &engine).await?;
    println!(
        "NetSuite item receipt {} (externalId {}):",
        text(&receipt["tranId"]),
        text(&receipt["externalId"])
    );
    for line in rows(&receipt, "item") {
        println!(
            "  order line {}: {} x {}",
            line["orderLine"],
            text(&line["item"]["refName"]),
            line["quantity"]
        );
    }

    // 6. The purchase order shows what is still to come; on-hand agrees in both systems.
    for line in ns.order_lines(OrderKind::PurchaseOrder, po) {
        println!(
            "  PO line {}: ordered {}, received {}",
            line.line, line.quantity, line.processed
        );
    }
    for (sku, item, product) in [
        ("MUG-BLUE", mug, mug_product),
        ("TEA-GREEN", tea, tea_product),
    ] {
        println!(
            "{sku} on hand: NetSuite {}, Clarus {}",
            ns.on_hand(item, systems.location, GOOD),
            cl.on_hand(product, systems.warehouse, StockStatus::Available)
        );
    }
    engine.stop().await;
    Ok(())
}
