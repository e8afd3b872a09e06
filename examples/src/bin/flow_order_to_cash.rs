//! Order to cash, step by step: a NetSuite sales order becomes a Clarus goods out, the warehouse
//! picks and despatches it, and the engine posts the shipped item fulfilment back to NetSuite.
//!
//! ```text
//! cargo run -p examples --bin flow_order_to_cash
//! ```

use examples::harness::{RunningEngine, SetupError, Systems};
use examples::walkthrough::{rows, run_or_exit, settle, stocked_item, text, wait_for};
use rust_decimal::Decimal;
use serde_json::Value;
use sim::clarus::{Parcel, StockStatus};
use sim::netsuite::{GOOD, ItemKind, NewItem, NewOrder, NewOrderLine, OrderKind, RecordType};

#[tokio::main]
async fn main() {
    // 1. Both simulators, with a NetSuite location mapped to a Clarus warehouse, a carrier mapped
    //    to a NetSuite ship method, and the engine running against them on a fresh store.
    run_or_exit("flow_order_to_cash", 1, run).await;
}

async fn run(systems: Systems, engine: RunningEngine) -> Result<(), SetupError> {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());

    // 2. The item master lives in NetSuite: the engine's poller finds the new item and creates
    //    the Clarus product. Both systems then get the same opening stock of 10.
    let mut mug = NewItem::new("MUG-RED", ItemKind::Inventory);
    mug.display_name = Some("Red mug".into());
    let (item, product) = stocked_item(&systems, mug, Decimal::from(10)).await?;
    println!("NetSuite item {item} MUG-RED is Clarus product {product}; 10 in stock in both");

    // 3. A customer orders 3 mugs in NetSuite. The engine releases the order to the warehouse as
    //    a goods out whose reference is the order's tranId.
    let order = ns.add_order(
        OrderKind::SalesOrder,
        NewOrder {
            tran_id: Some("SO-1001".into()),
            location: Some(systems.location),
            lines: vec![NewOrderLine {
                item,
                quantity: Decimal::from(3),
                location: None,
            }],
            ..NewOrder::default()
        },
    )?;
    let goods_out = wait_for("the goods out", || {
        cl.find_goods_outs("SO-1001").first().copied()
    })
    .await?;
    let g = cl.goods_out(goods_out).unwrap_or_default();
    println!(
        "NetSuite sales order {order} SO-1001 became Clarus goods out {goods_out} ({}), {} line(s), \
         NetSuite order {}",
        text(&g["status"]),
        g["lines"].as_array().map_or(0, Vec::len),
        text(&g["external_system_reference1"])
    );

    // 4. The warehouse allocates, picks and despatches it in two parcels with the carrier.
    let wh = systems.clarus.warehouse();
    wh.allocate(goods_out)?;
    wh.pick(goods_out)?;
    let parcels = ["TRK-0001", "TRK-0002"].map(|t| Parcel {
        tracking_number: t.into(),
        weight_kg: Some(Decimal::new(8, 1)),
    });
    wh.despatch(goods_out, systems.carrier, &parcels)?;
    println!(
        "Clarus: goods out {goods_out} is {:?}",
        cl.goods_out_status(goods_out)
    );

    // 5. The despatch webhook reaches the engine, which transforms the sales order into a
    //    shipped item fulfilment (its externalId is the idempotency key of the despatch).
    let created_from_order =
        |r: &Value| r["createdFrom"]["id"].as_str() == Some(order.to_string().as_str());
    let fulfilment = wait_for("the item fulfilment", || {
        ns.records(RecordType::ItemFulfillment)
            .into_iter()
            .find(created_from_order)
    })
    .await?;
    settle(&systems, &engine).await?;
    println!(
        "NetSuite item fulfilment {} (externalId {}): shipStatus {}, shipMethod {}",
        text(&fulfilment["tranId"]),
        text(&fulfilment["externalId"]),
        text(&fulfilment["shipStatus"]["refName"]),
        text(&fulfilment["shipMethod"]["id"])
    );
    for package in rows(&fulfilment, "package") {
        println!("  package {}", text(&package["packageTrackingNumber"]));
    }
    for line in rows(&fulfilment, "item") {
        println!(
            "  order line {}: {} x {}",
            line["orderLine"],
            text(&line["item"]["refName"]),
            line["quantity"]
        );
    }

    // 6. Both systems now agree: 7 mugs left, the order fulfilled, nothing for anyone to fix.
    println!(
        "Sales order status {} (F: pending billing); on hand: NetSuite {}, Clarus {}",
        ns.order_status(OrderKind::SalesOrder, order)
            .unwrap_or_default(),
        ns.on_hand(item, systems.location, GOOD),
        cl.on_hand(product, systems.warehouse, StockStatus::Available)
    );
    println!(
        "Open exceptions: {}",
        engine
            .store
            .exceptions()
            .await?
            .iter()
            .filter(|e| e.resolved_at.is_none())
            .count()
    );
    engine.stop().await;
    Ok(())
}
