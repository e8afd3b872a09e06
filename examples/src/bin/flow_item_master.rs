//! Item master, step by step: NetSuite owns the items. The engine's poller reads new and changed
//! inventory items (plain, lot-numbered, serialized) and creates or updates the matching Clarus
//! products, carrying SKU, description, barcode and lot/serial tracking.
//!
//! Orders that name an item the engine does not know yet are held with an `unknown-sku`
//! exception for the item master owner and released once the item arrives (the end-to-end test
//! `an_order_for_an_unknown_sku_is_held_then_released_when_the_item_appears` shows it).
//!
//! ```text
//! cargo run -p examples --bin flow_item_master
//! ```

use std::time::Duration;

use examples::harness::{RunningEngine, SetupError, Systems};
use examples::walkthrough::{run_or_exit, text, wait_for};
use serde_json::{Value, json};
use sim::netsuite::{ItemKind, NewItem, RecordType};

#[tokio::main]
async fn main() {
    // 1. Both simulators and the engine on a fresh store.
    run_or_exit("flow_item_master", 5, run).await;
}

async fn run(systems: Systems, engine: RunningEngine) -> Result<(), SetupError> {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());

    // 2. Three new items in NetSuite: a plain one with a barcode, a lot-numbered one and a
    //    serialized one.
    let mut mug = NewItem::new("MUG-RED", ItemKind::Inventory);
    mug.display_name = Some("Red mug".into());
    mug.upc = Some("5012345678900".into());
    let mug_id = ns.add_item(mug)?;
    let mut milk = NewItem::new("MILK-1L", ItemKind::LotNumbered);
    milk.display_name = Some("Milk, 1 litre".into());
    ns.add_item(milk)?;
    let mut phone = NewItem::new("PHONE-X", ItemKind::Serialized);
    phone.display_name = Some("Phone X".into());
    ns.add_item(phone)?;

    // 3. Within a poll or two each is a Clarus product.
    for sku in ["MUG-RED", "MILK-1L", "PHONE-X"] {
        let product = wait_for(sku, || cl.find_product(sku)).await?;
        println!(
            "Clarus product {product}: {}",
            describe(&cl.product(product).unwrap_or_default())
        );
    }

    // 4. A little later someone renames the mug and corrects its barcode in NetSuite. The poller
    //    sees the new lastModifiedDate and the engine updates the product. (NetSuite's
    //    modification times have whole seconds and the poller reads one version of a record per
    //    second, hence the pause.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ns.update_record(
        RecordType::InventoryItem,
        mug_id,
        json!({"displayName": "Red mug, 350 ml", "upcCode": "5012345678917"}),
    )?;
    let product = wait_for("MUG-RED", || cl.find_product("MUG-RED")).await?;
    let updated = wait_for("the product update", || {
        cl.product(product)
            .filter(|p| p["description"] == "Red mug, 350 ml")
    })
    .await?;
    println!("After the change in NetSuite: {}", describe(&updated));

    println!(
        "Engine actions: {}",
        engine
            .store
            .actions()
            .await?
            .iter()
            .map(|a| format!("{} {} ({:?})", a.action.kind, a.action.key, a.status))
            .collect::<Vec<_>>()
            .join(", ")
    );
    engine.stop().await;
    Ok(())
}

/// The product fields the item master sets, as `field=value` pairs.
fn describe(product: &Value) -> String {
    let Some(fields) = product.as_object() else {
        return String::new();
    };
    fields
        .iter()
        .filter(|(k, v)| !k.ends_with("_at") && !v.is_null())
        .map(|(k, v)| format!("{k}={}", text(v)))
        .collect::<Vec<_>>()
        .join(" ")
}
