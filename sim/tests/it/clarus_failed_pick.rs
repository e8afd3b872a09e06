//! A failed pick in the Clarus simulator: an order on which nothing could be picked cannot be
//! despatched, and the warehouse completes it with nothing despatched instead.

use crate::support::clarus::*;
use crate::support::dec;

use std::time::Duration;

use serde_json::{Value, json};
use sim::clarus::{
    ClarusConfig, ClarusId, ClarusSim, DPD, GoodsOutStatus, MAIN_WAREHOUSE, Parcel, StockStatus,
};

#[tokio::test]
async fn an_order_with_nothing_picked_cannot_be_despatched_and_completes_as_a_failed_pick() {
    let sim = ClarusSim::start(ClarusConfig::default()).await.unwrap();
    let (url, received) = receiver().await;
    let client = Client::connect(&sim).await;
    client
        .subscribe("goods_out", "completed", "completed", &url)
        .await;
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let a = handle.add_product("SKU-A", "A").unwrap();
    let b = handle.add_product("SKU-B", "B").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(a, location, dec(1), StockStatus::Available, None)
        .unwrap();
    let id = client.create_goods_out("SO-EMPTY", &[(a, 2), (b, 3)]).await;

    // One of A is allocated, B has no stock: shorted, then the picker finds none of A either.
    assert_eq!(
        warehouse.allocate(id).unwrap(),
        GoodsOutStatus::PartAllocated
    );
    warehouse.short_order_lines(id).unwrap();
    warehouse.short_pick(id, &[(a, dec(0))]).unwrap();
    assert_eq!(handle.goods_out_status(id), Some(GoodsOutStatus::Pick));
    let parcel = [Parcel {
        tracking_number: "T-0".into(),
        weight_kg: None,
    }];
    let refused = warehouse.despatch(id, DPD, &parcel).unwrap_err();
    assert!(refused.to_string().contains("nothing_picked"), "{refused}");

    warehouse.fail_pick(id).unwrap();
    assert_eq!(handle.goods_out_status(id), Some(GoodsOutStatus::Completed));
    let record = handle.goods_out(id).unwrap();
    let lines: Vec<(i64, i64, i64, &str)> = record["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["order_quantity"].as_i64().unwrap(),
                l["pick_quantity"].as_i64().unwrap(),
                l["dispatch_quantity"].as_i64().unwrap(),
                l["short_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, vec![(2, 0, 0, "SHORT"), (3, 0, 0, "SHORT")]);
    assert_eq!(record["shipments"], json!([]), "no shipment is made");
    assert!(record["actual_date_of_dispatch"].is_string());
    assert_eq!(
        handle.on_hand(a, MAIN_WAREHOUSE, StockStatus::Available),
        dec(1),
        "the stock nobody picked stays where it is"
    );

    // The released stock can be allocated to the next order.
    let next = client.create_goods_out("SO-NEXT", &[(a, 1)]).await;
    assert_eq!(warehouse.allocate(next).unwrap(), GoodsOutStatus::Allocated);

    assert!(handle.wait_for_webhooks(Duration::from_secs(5)).await);
    let completed: Vec<Value> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, p)| p["data"].clone())
        .filter(|d| d["id"].as_u64() == Some(id.0))
        .collect();
    assert_eq!(completed.len(), 1, "{completed:?}");
    assert_eq!(completed[0]["goods_out_status"]["code"], json!("COMPLETED"));
}

#[tokio::test]
async fn a_failed_pick_is_refused_for_picked_pending_or_completed_orders() {
    let sim = ClarusSim::start(ClarusConfig::default()).await.unwrap();
    let client = Client::connect(&sim).await;
    let handle = sim.handle();
    let warehouse = sim.warehouse();
    let a = handle.add_product("SKU-A", "A").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(a, location, dec(5), StockStatus::Available, None)
        .unwrap();

    let pending = client.create_goods_out("SO-PENDING", &[(a, 2)]).await;
    let refused = warehouse.fail_pick(pending).unwrap_err();
    assert!(
        refused.to_string().contains("goods_out_not_pickable"),
        "{refused}"
    );

    let picked = client.create_goods_out("SO-PICKED", &[(a, 2)]).await;
    warehouse.allocate(picked).unwrap();
    warehouse.pick(picked).unwrap();
    let refused = warehouse.fail_pick(picked).unwrap_err();
    assert!(
        refused.to_string().contains("goods_out_has_picks"),
        "{refused}"
    );
    assert_eq!(handle.goods_out_status(picked), Some(GoodsOutStatus::Pick));
    warehouse
        .despatch(
            picked,
            DPD,
            &[Parcel {
                tracking_number: "T-1".into(),
                weight_kg: None,
            }],
        )
        .unwrap();
    let refused = warehouse.fail_pick(picked).unwrap_err();
    assert!(
        refused.to_string().contains("goods_out_not_pickable"),
        "{refused}"
    );
    assert!(warehouse.fail_pick(ClarusId(999_999)).is_err());
}
