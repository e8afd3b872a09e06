//! The Clarus executor against the Clarus simulator, which validates every request body against
//! the OpenAPI request schemas.

use serde_json::json;
use sim::clarus::GoodsOutStatus;
use sim::{Fault, LostReply};
use support::*;
use sync_core::*;
use sync_engine::clarus::ProductSweep;
use sync_engine::outbox::{ActionExecutor, ExecutionError};

use crate::support::clarus as support;
use crate::support::store::actions_of_kind;

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

/// An engine over the rig's store that knows items 77 (`MUG-RED`, barcode `50077`) and 78
/// (`MUG-BLUE`, barcode `50078`), the barcodes [`product_spec`] gives their products.
async fn engine_knowing_items(rig: &Rig) -> sync_engine::engine::Engine {
    let engine = sync_engine::engine::Engine::open(
        rig.store.clone(),
        Mappings::new(MappingTables::default()).unwrap(),
    )
    .await
    .unwrap();
    for (id, sku) in [("77", "MUG-RED"), ("78", "MUG-BLUE")] {
        let item = Item {
            netsuite_id: id.into(),
            sku: sku.into(),
            barcode: Some(format!("500{id}").as_str().into()),
            description: format!("Product {sku}"),
            tracking: Tracking::None,
            inactive: false,
        };
        let mut event = crate::support::events::netsuite_event_at(
            id,
            Payload::Item(item),
            jiff::Timestamp::now(),
        );
        event.source.resource = "inventoryItem".into();
        engine.ingest(&event, jiff::Timestamp::now()).await.unwrap();
    }
    engine
}

/// `(kind, document)` of the open exceptions, sorted.
async fn open_exceptions(rig: &Rig) -> Vec<(String, String)> {
    let mut open: Vec<(String, String)> = rig
        .store
        .open_exceptions()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.exception.kind, e.exception.document))
        .collect();
    open.sort();
    open
}

#[tokio::test]
async fn the_product_sweep_checks_clarus_products_against_the_item_master() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    let engine = engine_knowing_items(&rig).await;
    // MUG-RED agrees with its item; MUG-BLUE was given another barcode in Clarus; TEA-LOOSE was
    // created by hand in Clarus and is no NetSuite item.
    executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();
    let mut wrong = product_spec("78", "MUG-BLUE");
    wrong.barcode = Some("999".into());
    let blue = id_of(
        executor
            .execute(&planned(
                "CLR-PROD-78",
                DocumentRef::Item { id: "78".into() },
                Action::CreateProduct(wrong),
            ))
            .await
            .unwrap(),
    );
    let tea = rig
        .sim
        .handle()
        .add_product("TEA-LOOSE", "Loose tea")
        .unwrap();

    let sweep = ProductSweep::new(rig.client.clone());
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!(report.products, 3, "{report:?}");
    assert_eq!(report.planned, 3, "{report:?}");
    assert_eq!(report.exceptions, 2, "{report:?}");
    assert_eq!(
        open_exceptions(&rig).await,
        vec![
            ("barcode-mismatch".to_owned(), "item 78".to_owned()),
            (
                "unknown-product".to_owned(),
                format!("Clarus product {tea}")
            ),
        ]
    );
    let exceptions = rig.store.open_exceptions().await.unwrap();
    let barcode = exceptions
        .iter()
        .find(|e| e.exception.kind == "barcode-mismatch")
        .unwrap();
    assert_eq!(barcode.exception.owner, "item_master");
    assert_eq!(barcode.exception.severity, "warning");
    for text in ["50078", "999", &format!("product {blue}")] {
        assert!(
            barcode.exception.message.contains(text),
            "{}",
            barcode.exception.message
        );
    }
    let unknown = exceptions
        .iter()
        .find(|e| e.exception.kind == "unknown-product")
        .unwrap();
    assert_eq!(unknown.exception.owner, "item_master");
    assert_eq!(unknown.exception.runbook, "operations.md#unknown-product");
    assert!(unknown.exception.message.contains("TEA-LOOSE"));
    // Each read carries the product's identity: resource, id, fingerprint and version.
    let reads: Vec<serde_json::Value> = rig
        .store
        .recorded_events()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event["source"].clone())
        .filter(|s| s["resource"] == "product")
        .collect();
    assert_eq!(reads.len(), 3);
    for source in &reads {
        assert_eq!(source["system"], "clarus");
        assert!(source["event"].as_str().unwrap().starts_with("read-"));
        assert_eq!(source["revision"], json!({"sequence": 1}));
    }

    // Nothing changed: nothing is planned, nothing recorded.
    let log = rig.store.state_log().await.unwrap().len();
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!((report.unchanged, report.planned), (3, 0), "{report:?}");
    assert_eq!(rig.store.state_log().await.unwrap().len(), log);

    // The barcode is corrected in Clarus: the next run reads the change and resolves.
    executor
        .execute(&planned(
            "CLR-PROD-78-2",
            DocumentRef::Item { id: "78".into() },
            Action::UpdateProduct(product_spec("78", "MUG-BLUE")),
        ))
        .await
        .unwrap();
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!((report.unchanged, report.planned), (2, 1), "{report:?}");
    assert_eq!(
        open_exceptions(&rig).await,
        vec![(
            "unknown-product".to_owned(),
            format!("Clarus product {tea}")
        )]
    );
    let resolved = rig
        .store
        .exceptions()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.exception.kind == "barcode-mismatch")
        .unwrap();
    assert!(resolved.resolved_at.is_some());

    // And again with nothing changed: nothing planned.
    let log = rig.store.state_log().await.unwrap().len();
    let report = sweep.run(&engine).await.unwrap();
    assert_eq!((report.unchanged, report.planned), (3, 0), "{report:?}");
    assert_eq!(rig.store.state_log().await.unwrap().len(), log);
}

/// A scheduled job that fails as told, depending on Clarus.
struct Failing(sync_engine::service::JobError);

#[async_trait::async_trait]
impl sync_engine::service::Scheduled for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn connections(&self) -> &[sync_engine::health::Connection] {
        &[sync_engine::health::Connection::Clarus]
    }
    async fn run_once(
        &self,
        _: &sync_engine::engine::Engine,
    ) -> Result<usize, sync_engine::service::JobError> {
        Err(self.0.clone())
    }
}

#[tokio::test]
async fn the_schema_check_finds_every_read_in_the_documented_tenant() {
    use sync_engine::clarus::{ClarusSchemaCheck, SchemaCheckOutcome};
    use sync_engine::service::Scheduled;

    let rig = Rig::start().await;
    let engine = engine_knowing_items(&rig).await;
    let check = ClarusSchemaCheck::new(rig.client.clone());
    let report = check.report().await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    // The documented tenant offers exactly the documentation: nothing more.
    assert!(report.extras.is_empty(), "{:?}", report.extras);
    assert!(report.checked > 50, "{report:?}");

    assert_eq!(check.name(), "clarus-schema");
    assert_eq!(check.interval(), std::time::Duration::from_secs(600));
    assert!(check.run_once(&engine).await.unwrap() > 50);
    assert!(open_exceptions(&rig).await.is_empty());
    assert!(matches!(
        check
            .check(rig.store.as_ref(), jiff::Timestamp::now())
            .await,
        Ok(SchemaCheckOutcome::Complete(_))
    ));

    // A job whose Clarus read is refused for good prompts a recheck, carried out after its run;
    // another right after waits for the gap; a passing failure prompts none.
    let fresh = ClarusSchemaCheck::new(rig.client.clone());
    let refused = fresh.watch(std::sync::Arc::new(Failing(
        sync_engine::service::JobError::persistent(
            "Field 'carrier' doesn't exist on type 'GoodsOut'",
        )
        .on(sync_engine::health::Connection::Clarus),
    )));
    assert_eq!(refused.name(), "failing");
    assert!(refused.run_once(&engine).await.unwrap_err().is_persistent());
    assert!(!fresh.recheck_pending(), "rechecked within the run");
    refused.run_once(&engine).await.unwrap_err();
    assert!(fresh.recheck_pending(), "too soon after the last check");
    let other = ClarusSchemaCheck::new(rig.client.clone());
    let passing = other.watch(std::sync::Arc::new(Failing(
        sync_engine::service::JobError::transient("timeout")
            .on(sync_engine::health::Connection::Clarus),
    )));
    passing.run_once(&engine).await.unwrap_err();
    assert!(!other.recheck_pending());
    assert!(open_exceptions(&rig).await.is_empty());
}

#[tokio::test]
async fn the_schema_check_lists_what_a_richer_tenant_offers_beyond_the_documentation() {
    use sync_engine::clarus::ClarusSchemaCheck;
    use sync_engine::service::Scheduled;

    let sim = sim::clarus::ClarusSim::start(sim::clarus::ClarusConfig {
        graphql_profile: sim::clarus::GraphqlProfile::Extended,
        ..sim::clarus::ClarusConfig::default()
    })
    .await
    .expect("simulator starts");
    let rig = Rig::start().await;
    let engine = engine_knowing_items(&rig).await;
    let check = ClarusSchemaCheck::new(client_of(&sim, "sim-secret"));
    let report = check.report().await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    let goods_out = &report.extras["GoodsOut"];
    for extra in ["external_system_reference1", "updated_at", "customer"] {
        assert!(goods_out.contains(&extra.to_owned()), "{goods_out:?}");
    }
    assert!(
        report.extras["GoodsOutWarehouse"].contains(&"name".to_owned()),
        "{:?}",
        report.extras
    );
    assert!(check.run_once(&engine).await.is_ok());
    assert!(open_exceptions(&rig).await.is_empty());

    // A tenant whose introspection cannot be read (here: credentials refused) is a warning, not
    // an exception, and the run does not fail.
    let blind = ClarusSchemaCheck::new(client_of(&sim, "wrong-secret"));
    assert!(blind.report().await.is_err());
    assert_eq!(blind.run_once(&engine).await, Ok(0));
    assert!(open_exceptions(&rig).await.is_empty());
}

// ------------------------------------------------------ go-live: adopting what Clarus already has

/// The go-live record as the NetSuite poller writes it on a store's first poll (store entry
/// `go_live`), with the adoption window ending `open_for` from now (negative: already closed).
async fn go_live_window(rig: &Rig, open_for: jiff::SignedDuration) {
    let now = jiff::Timestamp::now();
    let record = json!({
        "first_poll": now.to_string(),
        "start_from": null,
        "adopt_until": (now + open_for).to_string(),
    });
    rig.store
        .set_watermark("go_live", &record.to_string())
        .await
        .unwrap();
}

/// Products `MUG-RED` (item 77) and `MUG-BLUE` (item 78) in Clarus with 10 available each.
async fn stocked_mugs(
    rig: &Rig,
    executor: &sync_engine::clarus::ClarusExecutor,
) -> (sim::clarus::ClarusId, sim::clarus::ClarusId) {
    let handle = rig.sim.handle();
    let location = handle
        .default_location(sim::clarus::MAIN_WAREHOUSE)
        .unwrap();
    let mut ids = Vec::new();
    for (item, sku) in [("77", "MUG-RED"), ("78", "MUG-BLUE")] {
        let id = id_of(executor.execute(&create_product(item, sku)).await.unwrap());
        handle
            .seed_stock(
                id,
                location,
                dec(10),
                sim::clarus::StockStatus::Available,
                None,
            )
            .unwrap();
        ids.push(id);
    }
    (ids[0], ids[1])
}

fn clarus_id(id: sim::clarus::ClarusId) -> clarus_client::ClarusId {
    clarus_client::ClarusId::new(id.0 as i64)
}

/// A goods out entered by hand in Clarus: a reference, lines `(product, quantity)`, and no
/// NetSuite reference anywhere.
async fn goods_out_by_hand(
    rig: &Rig,
    reference: &str,
    lines: &[(sim::clarus::ClarusId, i64)],
) -> sim::clarus::ClarusId {
    use clarus_client::rest::common::Change;
    use clarus_client::rest::goods_out::{GoodsOut, GoodsOutLine};
    let mut body = GoodsOut::sales_order(
        clarus_client::ClarusId::new(1),
        reference,
        "2026-11-30T00:00:00Z".parse().unwrap(),
    );
    body.warehouse_id = Some(clarus_client::ClarusId::new(1));
    body.lines_changes = lines
        .iter()
        .map(|(product, quantity)| {
            Change::Add(GoodsOutLine::new(clarus_id(*product), dec(*quantity)))
        })
        .collect();
    let created = rig.client.create_goods_out(&body).await.unwrap();
    sim::clarus::ClarusId(created.id.get() as u64)
}

/// An engine over the rig's store that knows items 77 and 78 and the open NetSuite order
/// `order` (`tranId` `tran_id`, lines `(line, item, quantity)` at location 1).
async fn engine_knowing_order(
    rig: &Rig,
    order: OrderRef,
    tran_id: &str,
    lines: &[(u64, &str, i64)],
) -> sync_engine::engine::Engine {
    let engine = sync_engine::engine::Engine::open(rig.store.clone(), mappings())
        .await
        .unwrap();
    let sku = |item: &str| if item == "77" { "MUG-RED" } else { "MUG-BLUE" };
    for item in ["77", "78"] {
        let item = Item {
            netsuite_id: item.into(),
            sku: sku(item).into(),
            barcode: None,
            description: sku(item).into(),
            tracking: Tracking::None,
            inactive: false,
        };
        let id = item.netsuite_id.as_str().to_owned();
        engine
            .ingest(
                &netsuite_event(&id, Payload::Item(item)),
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let id = order.id.as_str().to_owned();
    let order = Order {
        order,
        tran_id: tran_id.into(),
        status: OrderStatus::Open,
        location: "1".into(),
        ship_method: None,
        expected_date: None,
        lines: lines
            .iter()
            .map(|(line, item, quantity)| OrderLine {
                line: LineNo(*line),
                item: (*item).into(),
                sku: sku(item).into(),
                quantity: dec(*quantity),
                quantity_done: rust_decimal::Decimal::ZERO,
                closed: false,
            })
            .collect(),
    };
    engine
        .ingest(
            &netsuite_event(&id, Payload::Order(order)),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    engine
}

/// The store's count of adopted records (store entry `clarus.adopted`).
async fn adopted(rig: &Rig) -> serde_json::Value {
    rig.store
        .watermark("clarus.adopted")
        .await
        .unwrap()
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn a_goods_out_already_in_clarus_is_adopted_during_the_go_live_window() {
    use sync_engine::processor::DeliveryDecoder as _;
    let rig = Rig::start().await;
    let executor = rig.executor();
    let (red, blue) = stocked_mugs(&rig, &executor).await;
    let handle = rig.sim.handle();

    // Steady state (no go-live record, or its window closed): a create is one request, no
    // look-up first.
    for window in [None, Some(jiff::SignedDuration::from_hours(-1))] {
        if let Some(window) = window {
            go_live_window(&rig, window).await;
        }
        let executor = rig.executor();
        executor
            .execute(&create_product("77", "MUG-RED"))
            .await
            .unwrap();
        let before = handle.stats().requests;
        let reference = format!("SO90{}", u8::from(window.is_some()));
        executor
            .execute(&create_goods_out("900", &reference, &[(1, "MUG-RED", 1)]))
            .await
            .unwrap();
        assert_eq!(handle.stats().requests - before, 1, "{window:?}");
    }

    // The previous integration entered SO1001 in Clarus, its lines in another order than
    // NetSuite's and without any NetSuite reference.
    let by_hand = goods_out_by_hand(&rig, "SO1001", &[(blue, 5), (red, 2)]).await;
    go_live_window(&rig, jiff::SignedDuration::from_hours(1)).await;
    let action = create_goods_out("501", "SO1001", &[(3, "MUG-RED", 2), (7, "MUG-BLUE", 5)]);
    let executor = rig.executor();
    assert_eq!(id_of(executor.execute(&action).await.unwrap()), by_hand);
    assert_eq!(
        handle.find_goods_outs("SO1001"),
        vec![by_hand],
        "no second goods out"
    );
    assert_eq!(
        adopted(&rig).await,
        json!({"goods_outs": 1, "goods_ins": 0})
    );
    assert!(open_exceptions(&rig).await.is_empty());
    // Run again (the outbox retrying, say): the same goods out, still one.
    assert_eq!(id_of(executor.execute(&action).await.unwrap()), by_hand);
    assert_eq!(handle.find_goods_outs("SO1001").len(), 1);

    // Its despatch is tied to the NetSuite order and lines by the engine's record, and posts
    // one fulfilment.
    let engine = engine_knowing_order(
        &rig,
        OrderRef::sales("501"),
        "SO1001",
        &[(3, "77", 2), (7, "78", 5)],
    )
    .await;
    let warehouse = rig.sim.warehouse();
    warehouse.allocate(by_hand).unwrap();
    warehouse.pick(by_hand).unwrap();
    warehouse
        .despatch(
            by_hand,
            sim::clarus::DPD,
            &[sim::clarus::Parcel {
                tracking_number: "TRK-1".into(),
                weight_kg: Some(dec(1)),
            }],
        )
        .unwrap();
    let deliveries = rig.deliveries("goods_out", "completed").await;
    assert_eq!(deliveries.len(), 1);
    let decoder = sync_engine::clarus::ClarusDecoder::new(
        rig.client.clone(),
        SUBDOMAIN.into(),
        TENANT.into(),
        rig.store.clone(),
    );
    for event in decoder.decode(&deliveries[0]).await.unwrap() {
        engine.ingest(&event, jiff::Timestamp::now()).await.unwrap();
    }
    let fulfilments: Vec<Fulfilment> = actions_of_kind(rig.store.as_ref(), "fulfil_sales_order")
        .await
        .into_iter()
        .map(|a| {
            match serde_json::from_value::<PlannedAction>(a.action.payload)
                .unwrap()
                .action
            {
                Action::FulfilSalesOrder(f) => f,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(fulfilments.len(), 1, "{fulfilments:?}");
    assert_eq!(fulfilments[0].order.as_str(), "501");
    let mut posted: Vec<(LineNo, String, rust_decimal::Decimal)> = fulfilments[0]
        .lines
        .iter()
        .map(|l| (l.order_line, l.sku.as_str().to_owned(), l.quantity))
        .collect();
    posted.sort();
    assert_eq!(
        posted,
        vec![
            (LineNo(3), "MUG-RED".to_owned(), dec(2)),
            (LineNo(7), "MUG-BLUE".to_owned(), dec(5)),
        ]
    );
}

#[tokio::test]
async fn adopted_goods_outs_whose_lines_do_not_match_raise_and_cancelled_ones_are_not_adopted() {
    let rig = Rig::start().await;
    let executor = rig.executor();
    let (red, _blue) = stocked_mugs(&rig, &executor).await;
    let handle = rig.sim.handle();
    go_live_window(&rig, jiff::SignedDuration::from_hours(1)).await;

    // Entered with one line where NetSuite has two: adopted, not guessed, and integration told.
    let by_hand = goods_out_by_hand(&rig, "SO1002", &[(red, 2)]).await;
    let action = create_goods_out("502", "SO1002", &[(3, "MUG-RED", 2), (7, "MUG-BLUE", 5)]);
    assert_eq!(id_of(executor.execute(&action).await.unwrap()), by_hand);
    assert_eq!(handle.find_goods_outs("SO1002"), vec![by_hand]);
    let key = format!("EX-CLARUS-ADOPTED-LINES-{by_hand}");
    let raised = rig.store.exception(&key).await.unwrap().expect("raised");
    assert_eq!(raised.exception.kind, "adopted-lines-unmatched");
    assert_eq!(raised.exception.owner, "integration");
    assert_eq!(raised.exception.document, action.document.to_string());
    for text in ["SO1002", "MUG-BLUE", "line 7"] {
        assert!(
            raised.exception.message.contains(text),
            "{}",
            raised.exception.message
        );
    }

    // A cancelled goods out with the reference is not adopted: a new one is created.
    let cancelled = goods_out_by_hand(&rig, "SO1003", &[(red, 1)]).await;
    rig.sim.warehouse().allocate(cancelled).unwrap();
    rig.sim.warehouse().cancel(cancelled).unwrap();
    let action = create_goods_out("503", "SO1003", &[(3, "MUG-RED", 1)]);
    let created = id_of(executor.execute(&action).await.unwrap());
    assert_ne!(created, cancelled);
    assert_eq!(handle.find_goods_outs("SO1003").len(), 2);
    assert_eq!(
        adopted(&rig).await,
        json!({"goods_outs": 1, "goods_ins": 0})
    );
}

#[tokio::test]
async fn a_goods_in_receipt_already_in_clarus_is_adopted_during_the_go_live_window() {
    use clarus_client::rest::common::Change;
    use clarus_client::rest::goods_in::{GoodsInLine, GoodsInReceipt};
    use sync_engine::processor::DeliveryDecoder as _;
    let rig = Rig::start().await;
    let executor = rig.executor();
    let (red, _blue) = stocked_mugs(&rig, &executor).await;
    let handle = rig.sim.handle();

    // Entered by the previous integration: the reference and its line numbers, no NetSuite
    // order id or kind.
    let mut body = GoodsInReceipt::new(
        clarus_client::ClarusId::new(1),
        clarus_client::ClarusId::new(1),
    );
    body.reference = Some("PO700".into());
    let mut line = GoodsInLine::new(clarus_id(red), dec(4));
    line.alt_line_number = Some("1".into());
    body.lines_changes = vec![Change::Add(line)];
    let by_hand = rig.client.create_goods_in_receipt(&body).await.unwrap();
    let by_hand = sim::clarus::ClarusId(by_hand.id.get() as u64);

    go_live_window(&rig, jiff::SignedDuration::from_hours(1)).await;
    let action = create_goods_in(OrderKind::Purchase, "700", "PO700", &[(1, "MUG-RED", 4)]);
    assert_eq!(id_of(executor.execute(&action).await.unwrap()), by_hand);
    assert_eq!(
        handle.find_goods_ins("PO700"),
        vec![by_hand],
        "no second receipt"
    );
    assert_eq!(
        adopted(&rig).await,
        json!({"goods_outs": 0, "goods_ins": 1})
    );

    // Its receipt is posted against purchase order 700 from the engine's record: one receipt.
    let engine = engine_knowing_order(
        &rig,
        OrderRef {
            kind: OrderKind::Purchase,
            id: "700".into(),
        },
        "PO700",
        &[(1, "77", 4)],
    )
    .await;
    rig.sim
        .warehouse()
        .receive(
            by_hand,
            &[sim::clarus::ReceivedLine {
                product: red,
                quantity: dec(4),
                batch: None,
                serial_numbers: vec![],
            }],
            sim::clarus::StockStatus::Available,
            true,
        )
        .unwrap();
    let decoder = sync_engine::clarus::ClarusDecoder::new(
        rig.client.clone(),
        SUBDOMAIN.into(),
        TENANT.into(),
        rig.store.clone(),
    );
    for delivery in rig.deliveries("goods_in", "completed").await {
        for event in decoder.decode(&delivery).await.unwrap() {
            engine.ingest(&event, jiff::Timestamp::now()).await.unwrap();
        }
    }
    let receipts: Vec<ItemReceipt> = actions_of_kind(rig.store.as_ref(), "receive_purchase_order")
        .await
        .into_iter()
        .map(|a| {
            match serde_json::from_value::<PlannedAction>(a.action.payload)
                .unwrap()
                .action
            {
                Action::ReceivePurchaseOrder(r) => r,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0].order.id.as_str(), "700");
    assert_eq!(receipts[0].lines.len(), 1);
    assert_eq!(
        (
            receipts[0].lines[0].line.order_line,
            receipts[0].lines[0].line.quantity
        ),
        (LineNo(1), dec(4))
    );
}

#[tokio::test]
async fn a_goods_out_whose_line_order_cannot_be_kept_is_ambiguous_until_the_look_up_keeps_it() {
    let rig = Rig::start().await;
    let path = crate::support::store::temp_dir("line-order").join("sync.sqlite");
    let store: std::sync::Arc<dyn sync_engine::store::Store> =
        std::sync::Arc::new(sync_engine::store::SqliteStore::open(&path).unwrap());
    let executor = rig.executor().with_store(store.clone());
    executor
        .execute(&create_product("77", "MUG-RED"))
        .await
        .unwrap();
    // The store refuses every adapter-state write, as a full disk or a broken database would.
    let admin = rusqlite::Connection::open(&path).unwrap();
    admin
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON adapter_state \
             BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();

    let action = create_goods_out("501", "SO1001", &[(3, "MUG-RED", 2)]);
    match executor.execute(&action).await {
        Err(ExecutionError::Ambiguous(message)) => {
            assert!(message.contains("line order"), "{message}")
        }
        other => panic!("a goods out not tied to its lines must be ambiguous, got {other:?}"),
    }
    let created = rig.sim.handle().find_goods_outs("SO1001");
    assert_eq!(created.len(), 1, "the goods out exists");
    // While the store refuses, the look-up finds the goods out but cannot settle the action.
    assert!(matches!(
        executor.find_applied(&action).await,
        Err(ExecutionError::Ambiguous(_))
    ));

    admin.execute_batch("DROP TRIGGER refuse").unwrap();
    let found = executor.find_applied(&action).await.unwrap();
    assert_eq!(id_of(found), created[0]);
    let kept = store
        .adapter_state(&sync_engine::store::StateKey::new(
            "clarus.goods_out.lines",
            created[0].0,
        ))
        .await
        .unwrap();
    assert!(kept.is_some(), "the look-up kept the line order");
    assert_eq!(
        rig.sim.handle().find_goods_outs("SO1001").len(),
        1,
        "nothing was created twice"
    );
}
