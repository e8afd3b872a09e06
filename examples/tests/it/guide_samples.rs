//! The guide's "Extend" samples (`examples/src/extend.rs`): the guide shows each anchored region
//! verbatim, and each sample does what the guide says it does.

use crate::support::cli::scratch_dir;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use examples::extend::{
    ApprovalGate, COUNT_FILE_SOURCE, CountFileDecoder, CountFilePoll, MappingSourceError,
    OpenEngineError, gated_router, in_memory_engine, mappings_from_json, open_engine,
    plan_despatch, posted_quantity,
};
use jiff::Timestamp;
use rust_decimal::Decimal;
use sync_core::{
    Action, Event, Mappings, MovementKind, OrderRef, Payload, PlannedAction, WarehouseId,
};
use sync_engine::job::Scheduled;
use sync_engine::outbox::{ActionExecutor, ExecutionError};
use sync_engine::processor::{DecodeError, DeliveryDecoder};
use sync_engine::store::{Delivery, NewDelivery};
use sync_engine::store_location::StoreLocationError;

/// The samples' names, in the order the guide shows them.
const SAMPLES: [&str; 5] = ["mappings", "rule", "approval", "source", "store"];

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines between `// ANCHOR: name` and `// ANCHOR_END: name`, ending with a newline.
fn region(source: &str, name: &str) -> String {
    let start = format!("// ANCHOR: {name}");
    let end = format!("// ANCHOR_END: {name}");
    let mut lines = source.lines().skip_while(|l| l.trim() != start);
    assert!(lines.next().is_some(), "no `{start}` line in extend.rs");
    let mut text = String::new();
    for line in lines {
        if line.trim() == end {
            return text;
        }
        assert!(
            !line.trim_start().starts_with("// ANCHOR"),
            "region {name} holds another anchor: {line}"
        );
        text.push_str(line);
        text.push('\n');
    }
    panic!("no `{end}` line after `{start}` in extend.rs");
}

/// Section 5 of the guide, from its heading to the next section's.
fn extend_section(guide: &str) -> &str {
    let start = guide
        .find("## 5. Extend")
        .expect("the guide has a section 5 Extend");
    let rest = &guide[start..];
    let end = rest.find("\n## 6.").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_guide_shows_every_sample_verbatim_in_order() {
    let source = read("src/extend.rs");
    let guide = read("../docs/guide.md");
    let section = extend_section(&guide);
    let mut from = 0;
    for name in SAMPLES {
        let block = format!("```rust\n{}```\n", region(&source, name));
        let at = section[from..].find(&block).unwrap_or_else(|| {
            panic!(
                "section 5 of docs/guide.md does not show the `{name}` sample of \
                 examples/src/extend.rs verbatim (after the previous sample); copy the region \
                 between its ANCHOR lines into a ```rust block"
            )
        });
        from += at + block.len();
    }
    let anchors = source
        .lines()
        .filter(|l| l.trim_start().starts_with("// ANCHOR: "))
        .count();
    assert_eq!(
        anchors,
        SAMPLES.len(),
        "every sample is checked against the guide"
    );
}

#[test]
fn region_extraction_finds_only_the_named_region() {
    let text = "a\n// ANCHOR: x\nb\n  c\n// ANCHOR_END: x\nd\n";
    assert_eq!(region(text, "x"), "b\n  c\n");
}

#[test]
fn mappings_load_from_json_and_contradictions_are_refused() {
    let mappings = mappings_from_json(
        r#"{
            "locations": [{"location": "1", "warehouse": 10}],
            "adjustment_accounts": [{"kind": "stock_check_gain", "reason": null, "account": "610"}]
        }"#,
    )
    .expect("valid tables");
    assert_eq!(mappings.warehouse_for(&"1".into()), Some(WarehouseId(10)));

    let twice = r#"{"locations": [
        {"location": "1", "warehouse": 10},
        {"location": "1", "warehouse": 11}
    ]}"#;
    assert!(matches!(
        mappings_from_json(twice),
        Err(MappingSourceError::Refused(_))
    ));
    assert!(matches!(
        mappings_from_json("{\"locations\": 3}"),
        Err(MappingSourceError::Unreadable(_))
    ));
}

fn mappings() -> Mappings {
    mappings_from_json(r#"{"locations": [{"location": "1", "warehouse": 10}]}"#).unwrap()
}

fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

#[test]
fn the_rule_sample_plans_one_fulfilment_of_the_despatched_quantity() {
    let plan = plan_despatch(&mappings(), Decimal::new(25, 1), now());
    assert!(!plan.blocked);
    assert_eq!(plan.actions.len(), 1);
    let Action::FulfilSalesOrder(fulfilment) = &plan.actions[0].action else {
        panic!("expected a fulfilment, got {:?}", plan.actions[0].action);
    };
    assert_eq!(fulfilment.order.as_str(), "501");
    assert_eq!(fulfilment.lines.len(), 1);
    assert_eq!(fulfilment.lines[0].quantity, Decimal::new(25, 1));
}

/// An executor that records how often it ran and answers a record id.
#[derive(Default)]
struct Counting {
    executed: AtomicUsize,
    looked_up: AtomicUsize,
}

#[async_trait]
impl ActionExecutor for Counting {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        Ok(Some(format!("id-of-{}", action.key.as_str())))
    }

    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        self.looked_up.fetch_add(1, Ordering::SeqCst);
        Ok(None)
    }
}

/// The fulfilment of a despatch of `quantity` (at most the 5 ordered).
fn fulfilment(quantity: i64) -> PlannedAction {
    let plan = plan_despatch(&mappings(), Decimal::from(quantity), now());
    let action = plan.actions.into_iter().next().expect("one action");
    assert!(matches!(action.action, Action::FulfilSalesOrder(_)));
    action
}

#[tokio::test]
async fn the_approval_gate_holds_a_large_posting_until_it_is_approved() {
    let netsuite = Arc::new(Counting::default());
    let gate = ApprovalGate::new(netsuite.clone(), Decimal::from(3));
    let large = fulfilment(4);
    assert_eq!(posted_quantity(&large.action), Some(Decimal::from(4)));

    for _ in 0..2 {
        let held = gate.execute(&large).await;
        let Err(ExecutionError::Retryable(message)) = held else {
            panic!("expected a hold, got {held:?}");
        };
        assert!(
            message.to_string().contains("awaiting approval"),
            "{message}"
        );
    }
    assert_eq!(
        netsuite.executed.load(Ordering::SeqCst),
        0,
        "nothing sent while held"
    );

    gate.approve(&large.key);
    let sent = gate.execute(&large).await.expect("approved");
    assert_eq!(sent, Some(format!("id-of-{}", large.key.as_str())));
    assert_eq!(netsuite.executed.load(Ordering::SeqCst), 1);

    // A look-up is never held: it follows an attempt that was sent.
    assert_eq!(gate.find_applied(&fulfilment(5)).await, Ok(None));
    assert_eq!(netsuite.looked_up.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_gated_router_lets_small_postings_and_clarus_actions_through() {
    let clarus = Arc::new(Counting::default());
    let netsuite = Arc::new(Counting::default());
    let (router, gate) = gated_router(clarus.clone(), netsuite.clone(), Decimal::from(3));

    router.execute(&fulfilment(3)).await.expect("at the limit");
    assert_eq!(netsuite.executed.load(Ordering::SeqCst), 1);

    let large = fulfilment(5);
    assert!(matches!(
        router.execute(&large).await,
        Err(ExecutionError::Retryable(_))
    ));
    gate.approve(&large.key);
    router.execute(&large).await.expect("approved");
    assert_eq!(netsuite.executed.load(Ordering::SeqCst), 2);

    let mut cancel = fulfilment(5);
    cancel.action = Action::CancelGoodsOut {
        order: OrderRef::sales("501"),
        reference: "SO1001".into(),
    };
    assert_eq!(posted_quantity(&cancel.action), None);
    router.execute(&cancel).await.expect("Clarus is not gated");
    assert_eq!(clarus.executed.load(Ordering::SeqCst), 1);
}

/// A decoder for every other source: one marker error, so a test sees it was asked.
struct Elsewhere;

#[async_trait]
impl DeliveryDecoder for Elsewhere {
    async fn decode(&self, delivery: &Delivery) -> Result<Vec<Event>, DecodeError> {
        Err(DecodeError::Retryable(
            format!("inner decoder: {}", delivery.delivery.source).into(),
        ))
    }
}

fn delivery(source: &str, body: &str) -> Delivery {
    Delivery {
        id: 7,
        delivery: NewDelivery {
            source: source.into(),
            received_at: now(),
            headers: serde_json::json!({}),
            body: body.as_bytes().to_vec(),
        },
    }
}

fn count_decoder() -> CountFileDecoder {
    CountFileDecoder {
        tenant: "acme".into(),
        inner: Arc::new(Elsewhere),
    }
}

#[tokio::test]
async fn the_count_file_decoder_reads_gains_and_losses() {
    let file = "41,10,MUG-RED,3\n\n42, 10, MUG-BLUE, -1.5\n43,10,MUG-GREEN,0\n";
    let events = count_decoder()
        .decode(&delivery(COUNT_FILE_SOURCE, file))
        .await
        .expect("a valid file");
    let movements: Vec<_> = events
        .iter()
        .map(|event| match &event.payload {
            Payload::StockMovement(m) => (
                event.source.id.as_str().to_owned(),
                m.kind,
                m.sku.as_str().to_owned(),
                m.quantity,
                m.warehouse,
            ),
            other => panic!("expected a stock movement, got {other:?}"),
        })
        .collect();
    assert_eq!(
        movements,
        [
            (
                "41".to_owned(),
                MovementKind::StockCheckGain,
                "MUG-RED".to_owned(),
                Decimal::from(3),
                WarehouseId(10)
            ),
            (
                "42".to_owned(),
                MovementKind::StockCheckLoss,
                "MUG-BLUE".to_owned(),
                Decimal::new(15, 1),
                WarehouseId(10)
            ),
        ]
    );
}

#[tokio::test]
async fn the_count_file_decoder_refuses_bad_lines_and_passes_other_sources_on() {
    let decoder = count_decoder();
    for bad in ["41,10,MUG-RED", "x,10,MUG-RED,1", "41,10,MUG-RED,lots"] {
        let decoded = decoder.decode(&delivery(COUNT_FILE_SOURCE, bad)).await;
        assert!(
            matches!(&decoded, Err(DecodeError::Invalid(m)) if m.to_string().starts_with("line 1")),
            "{bad}: {decoded:?}"
        );
    }
    let other = decoder.decode(&delivery("clarus-webhook", "{}")).await;
    assert_eq!(
        other,
        Err(DecodeError::Retryable(
            "inner decoder: clarus-webhook".into()
        ))
    );
}

#[tokio::test]
async fn the_count_file_poll_keeps_each_file_as_a_delivery_and_moves_it() {
    let folder = scratch_dir("guide-samples-poll");
    std::fs::write(folder.join("a.csv"), "41,10,MUG-RED,3\n").unwrap();
    std::fs::write(folder.join("notes.txt"), "not a count file").unwrap();
    let engine = in_memory_engine(mappings()).await.unwrap();
    let job = CountFilePoll {
        folder: folder.clone(),
        every: Duration::from_secs(60),
    };
    assert_eq!(job.name(), "count-file-poll");
    assert_eq!(job.interval(), Duration::from_secs(60));

    assert_eq!(job.run_once(&engine).await, Ok(1));
    assert_eq!(engine.store().unprocessed_count().await.unwrap(), 1);
    assert!(!folder.join("a.csv").exists());
    assert!(folder.join("done/a.csv").exists());
    assert!(folder.join("notes.txt").exists());

    let kept = engine
        .store()
        .unprocessed_deliveries(Timestamp::now(), 10)
        .await
        .unwrap();
    assert_eq!(kept[0].delivery.source, COUNT_FILE_SOURCE);
    let events = count_decoder().decode(&kept[0]).await.unwrap();
    assert_eq!(events.len(), 1);

    assert_eq!(
        job.run_once(&engine).await,
        Ok(0),
        "moved files are not kept again"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[tokio::test]
async fn the_configured_store_opens_the_engine() {
    let dir = scratch_dir("guide-samples-store");
    let path = dir.join("sync.db");
    let engine = open_engine(path.to_str().unwrap(), mappings())
        .await
        .expect("a SQLite file");
    assert!(path.exists());
    assert_eq!(engine.applied_head().await, 0);
    drop(engine);

    assert!(matches!(
        open_engine("", mappings()).await,
        Err(OpenEngineError::Location(StoreLocationError::Empty))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
