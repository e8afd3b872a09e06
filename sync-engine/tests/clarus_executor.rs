//! The Clarus executor against the Clarus simulator, which validates every request body against
//! the OpenAPI request schemas.

#[path = "clarus_support.rs"]
mod support;

use serde_json::json;
use sim::clarus::GoodsOutStatus;
use sim::{Fault, LostReply};
use support::*;
use sync_core::*;
use sync_engine::outbox::{ActionExecutor, ExecutionError};

fn id_of(result: Option<String>) -> sim::clarus::ClarusId {
    sim::clarus::ClarusId(result.expect("an id").parse().expect("numeric id"))
}

#[tokio::test]
async fn products_are_created_then_updated_by_code() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    let created = executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();
    let id = id_of(created);
    let product = rig.sim.handle().product(id).expect("created");
    assert_eq!(product["code"], "MUG-RED");
    assert_eq!(product["barcode"], "50077");
    assert_eq!(product["external_system_reference1"], "77");
    assert_eq!(product["serial_number_tracking_setting"], "no_tracking");

    // An update without the Clarus id finds the product by code.
    let mut spec = product_spec("77", "MUG-RED");
    spec.description = "Red mug, large".into();
    spec.tracking = Tracking::Serial;
    let update = planned(
        "CLR-PROD-77-2",
        DocumentRef::Item { id: "77".into() },
        Action::UpdateProduct(spec),
    );
    let updated = executor.execute(&update).await.unwrap();
    assert_eq!(id_of(updated), id);
    let product = rig.sim.handle().product(id).unwrap();
    assert_eq!(product["description"], "Red mug, large");
    assert_eq!(product["serial_number_tracking_setting"], "full_tracking");

    // Creating a code that exists already brings it in line instead of failing.
    let again = executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();
    assert_eq!(id_of(again), id);
    assert_eq!(
        rig.sim.handle().product(id).unwrap()["description"],
        "Product MUG-RED"
    );
}

#[tokio::test]
async fn goods_outs_carry_the_netsuite_references_and_can_be_cancelled() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    for (item, sku) in [("77", "MUG-RED"), ("78", "MUG-BLUE")] {
        executor.execute(&create_product(item, sku)).await.unwrap();
    }
    let action = create_goods_out("501", "SO1001", &[(3, "MUG-RED", 2), (7, "MUG-BLUE", 5)]);
    let id = id_of(executor.execute(&action).await.unwrap());
    let goods_out = rig.sim.handle().goods_out(id).expect("created");
    assert_eq!(goods_out["reference"], "SO1001");
    assert_eq!(goods_out["goods_out_type"], "sales_order");
    assert_eq!(goods_out["account_id"], 1);
    assert_eq!(goods_out["warehouse_id"], 1);
    assert_eq!(goods_out["carrier_id"], 1);
    assert_eq!(goods_out["external_system_reference1"], "501");
    assert_eq!(goods_out["external_system_reference2"], "CLR-GO-501");
    assert!(
        goods_out["expected_date_of_dispatch"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-30T00:00:00")
    );
    let lines = goods_out["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["product_code"], "MUG-RED");
    assert_eq!(lines[0]["external_system_reference1"], "3");
    assert_eq!(lines[1]["external_system_reference1"], "7");
    assert_eq!(lines[1]["order_quantity"], json!(5));

    let cancel = planned(
        "CLR-GO-501-CANCEL",
        action.document.clone(),
        Action::CancelGoodsOut {
            order: OrderRef::sales("501"),
            reference: "SO1001".into(),
        },
    );
    let cancelled = executor.execute(&cancel).await.unwrap();
    assert_eq!(id_of(cancelled), id);
    // A pending order is deleted by Clarus on cancel; cancelling again finds nothing to do.
    assert!(rig.sim.handle().goods_out_status(id).is_none());
    assert_eq!(executor.execute(&cancel).await.unwrap(), None);
}

#[tokio::test]
async fn cancelling_an_allocated_goods_out_leaves_it_cancelled() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    let product = id_of(
        executor
            .execute(&create_product("77", "MUG-RED"))
            .await
            .unwrap(),
    );
    let handle = rig.sim.handle();
    let location = handle
        .default_location(sim::clarus::MAIN_WAREHOUSE)
        .unwrap();
    handle
        .seed_stock(
            product,
            location,
            dec(10),
            sim::clarus::StockStatus::Available,
            None,
        )
        .unwrap();
    let id = id_of(
        executor
            .execute(&create_goods_out("501", "SO1001", &[(3, "MUG-RED", 2)]))
            .await
            .unwrap(),
    );
    rig.sim.warehouse().allocate(id).unwrap();
    let cancel = planned(
        "CLR-GO-501-CANCEL",
        DocumentRef::Order {
            order: OrderRef::sales("501"),
        },
        Action::CancelGoodsOut {
            order: OrderRef::sales("501"),
            reference: "SO1001".into(),
        },
    );
    executor.execute(&cancel).await.unwrap();
    assert_eq!(handle.goods_out_status(id), Some(GoodsOutStatus::Cancelled));
}

#[tokio::test]
async fn goods_in_receipts_name_the_order_kind() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();
    let action = create_goods_in(OrderKind::Return, "900", "RMA12", &[(1, "MUG-RED", 4)]);
    let id = id_of(executor.execute(&action).await.unwrap());
    let receipt = rig.sim.handle().goods_in(id).expect("created");
    assert_eq!(receipt["reference"], "RMA12");
    assert_eq!(receipt["warehouse_id"], 1);
    assert_eq!(receipt["external_system_reference1"], "900");
    assert_eq!(receipt["external_system_reference3"], "RA");
    assert_eq!(receipt["lines"][0]["expected_quantity"], json!(4));
    assert_eq!(receipt["lines"][0]["external_system_reference1"], "1");
}

#[tokio::test]
async fn refusals_keep_clarus_details_and_missing_products_are_retried() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();

    // Not in Clarus yet: the item-master flow may still create it.
    let unknown = create_goods_out("502", "SO1002", &[(1, "NOPE", 1)]);
    match executor.execute(&unknown).await {
        Err(ExecutionError::Retryable(message)) => assert!(message.contains("NOPE"), "{message}"),
        other => panic!("{other:?}"),
    }

    // A quantity Clarus refuses: rejected with Clarus's own error.
    let zero = create_goods_out("503", "SO1003", &[(1, "MUG-RED", 0)]);
    match executor.execute(&zero).await {
        Err(ExecutionError::Rejected(message)) => assert!(message.contains("422"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(rig.sim.handle().find_goods_outs("SO1003").is_empty());
}

#[tokio::test]
async fn a_create_whose_reply_is_lost_is_found_not_sent_again() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    let handle = rig.sim.handle();
    executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();

    let action = create_goods_out("501", "SO1001", &[(3, "MUG-RED", 2)]);
    assert_eq!(executor.find_applied(&action).await.unwrap(), None);
    handle.inject_fault(Fault::CommitThenFail(LostReply::DropConnection));
    match executor.execute(&action).await {
        Err(ExecutionError::Ambiguous(_)) => {}
        other => panic!("a dropped reply must be ambiguous, got {other:?}"),
    }
    let created = handle.find_goods_outs("SO1001");
    assert_eq!(created.len(), 1, "the write happened");
    let found = executor.find_applied(&action).await.unwrap();
    assert_eq!(id_of(found), created[0]);

    // The same for a 500 after the commit, and for products and receipts.
    handle.inject_fault(Fault::CommitThenFail(LostReply::ServerError));
    let product = create_product("78", "MUG-BLUE");
    assert!(matches!(
        executor.execute(&product).await,
        Err(ExecutionError::Ambiguous(_))
    ));
    let found = id_of(executor.find_applied(&product).await.unwrap());
    assert_eq!(Some(found), handle.find_product("MUG-BLUE"));

    let receipt = create_goods_in(OrderKind::Purchase, "700", "PO700", &[(1, "MUG-RED", 4)]);
    handle.inject_fault(Fault::CommitThenFail(LostReply::ServerError));
    assert!(matches!(
        executor.execute(&receipt).await,
        Err(ExecutionError::Ambiguous(_))
    ));
    let found = id_of(executor.find_applied(&receipt).await.unwrap());
    assert_eq!(vec![found], handle.find_goods_ins("PO700"));

    // A 500 before anything was written is not ambiguous for the look-up either: nothing found.
    let other = create_goods_out("504", "SO1004", &[(3, "MUG-RED", 1)]);
    handle.inject_fault(Fault::ServerErrorBeforeCommit);
    assert!(executor.execute(&other).await.is_err());
    assert_eq!(executor.find_applied(&other).await.unwrap(), None);
}
