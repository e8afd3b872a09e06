//! The item-master agreement rules: a Clarus product read, or a NetSuite item change, compares
//! SKU and barcode; a product whose code is no item's SKU is reported; everything raised is
//! resolved when the two agree again, and a replay plans nothing.

use crate::support::*;
use sync_core::*;

/// A product read from Clarus, as the product sweep builds it: no link to the item (Clarus
/// documents no read of `external_system_reference1`).
fn product(id: u64, code: &str, barcode: Option<&str>) -> ClarusProduct {
    ClarusProduct {
        id: ProductId(id),
        sku: code.into(),
        barcode: barcode.map(Barcode::from),
        netsuite_id: None,
    }
}

/// A read of `product`, version `version` of it.
fn read(product: ClarusProduct, version: u64) -> Event {
    let id = product.id.to_string();
    let mut event = event(
        System::Clarus,
        &id,
        version,
        Payload::ClarusProduct(product),
    );
    event.source.event = "read".into();
    event
}

/// Version `version` of the untracked item `id` (SKU `sku`), carrying `barcode`.
fn item_with_barcode(id: &str, sku: &str, barcode: &str, version: u64) -> Event {
    let mut item = item(id, sku, Tracking::None);
    item.barcode = Some(barcode.into());
    item_event(item, version)
}

fn kinds(plan: &Plan) -> Vec<ExceptionKind> {
    raised(plan).iter().map(|e| e.kind).collect()
}

fn is_open(state: &MemoryState, kind: ExceptionKind) -> bool {
    state.open_exceptions().any(|e| e.kind == kind)
}

#[test]
fn a_product_that_agrees_with_its_item_raises_nothing() {
    let mut state = state_with_item();
    let plan = run(
        &mut state,
        &mappings(),
        &read(product(5, "A", Some("BCA")), 1),
    );
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(c, StateChange::ProductKnown(p) if p.id == ProductId(5)))
    );
    // A product without a barcode does not disagree with one.
    let plan = run(&mut state, &mappings(), &read(product(5, "A", None), 2));
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
}

#[test]
fn a_barcode_mismatch_names_both_barcodes_and_clears_when_clarus_is_fixed() {
    let m = mappings();
    let mut state = state_with_item();
    let wrong = read(product(5, "A", Some("999")), 1);
    let plan = run(&mut state, &m, &wrong);
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    let exception = exceptions[0].clone();
    assert_eq!(exception.kind, ExceptionKind::BarcodeMismatch);
    assert_eq!(exception.owner, Owner::ItemMaster);
    assert_eq!(exception.severity, Severity::Warning);
    assert_eq!(exception.runbook, "operations.md#barcode-mismatch");
    assert_eq!(exception.document, DocumentRef::Item { id: "11".into() });
    assert!(exception.message.contains("BCA"), "{}", exception.message);
    assert!(exception.message.contains("999"), "{}", exception.message);
    assert!(
        exception.message.contains("product 5"),
        "{}",
        exception.message
    );

    // The same read again, and the same content read under a later version: nothing new.
    assert!(plan_of(&state, &wrong).is_empty());
    let again = run(&mut state, &m, &read(product(5, "A", Some("999")), 2));
    assert!(again.actions.is_empty(), "{:?}", again.actions);

    let fixed = run(&mut state, &m, &read(product(5, "A", Some("BCA")), 3));
    assert_eq!(resolved(&fixed), vec![&exception.key]);
    assert!(raised(&fixed).is_empty());
    assert!(!is_open(&state, ExceptionKind::BarcodeMismatch));
}

#[test]
fn the_same_content_back_after_a_fix_raises_again() {
    let m = mappings();
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(5, "A", Some("999")), 1));
    run(&mut state, &m, &read(product(5, "A", Some("BCA")), 2));
    assert!(!is_open(&state, ExceptionKind::BarcodeMismatch));
    let back = run(&mut state, &m, &read(product(5, "A", Some("999")), 3));
    assert_eq!(kinds(&back), vec![ExceptionKind::BarcodeMismatch]);
}

#[test]
fn correcting_the_item_in_netsuite_resolves_without_a_new_read() {
    let m = mappings();
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(5, "A", Some("999")), 1));
    assert!(is_open(&state, ExceptionKind::BarcodeMismatch));
    // Clarus was right: the item master takes its barcode. The product is unchanged, so the
    // next read of it is not planned; the item change settles the exception.
    let plan = run(&mut state, &m, &item_with_barcode("11", "A", "999", 2));
    assert_eq!(resolved(&plan).len(), 1);
    assert!(raised(&plan).is_empty());
    assert!(!is_open(&state, ExceptionKind::BarcodeMismatch));
}

#[test]
fn a_netsuite_change_that_updates_the_product_raises_nothing_before_the_next_read() {
    let m = mappings();
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(5, "A", Some("BCA")), 1));
    let plan = run(&mut state, &m, &item_with_barcode("11", "A", "NEW", 2));
    let Some(Action::UpdateProduct(spec)) = plan.actions.first().map(|a| &a.action) else {
        panic!("expected an update, got {:?}", plan.actions)
    };
    assert_eq!(spec.product, Some(ProductId(5)));
    assert_eq!(spec.barcode, Some("NEW".into()));
    assert!(raised(&plan).is_empty(), "{:?}", plan.actions);
    // The update landed: the next read agrees.
    let plan = run(&mut state, &m, &read(product(5, "A", Some("NEW")), 2));
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
}

#[test]
fn an_item_read_again_unchanged_compares_with_the_product() {
    let m = mappings();
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(5, "A", Some("999")), 1));
    let key = state.open_exceptions().next().unwrap().key.clone();
    // Someone resolved it by hand, but nothing was fixed: the next item event raises it again,
    // since it writes nothing to Clarus.
    state.resolve_exception(&key);
    let mut again = item_event(item("11", "A", Tracking::None), 1);
    again.source.event = "created".into();
    let plan = run(&mut state, &m, &again);
    assert_eq!(kinds(&plan), vec![ExceptionKind::BarcodeMismatch]);
    assert_eq!(raised(&plan)[0].key, key);
}

#[test]
fn a_product_whose_code_is_no_items_sku_is_reported_on_the_product() {
    let m = mappings();
    let mut state = state_with_item();
    let stray = read(product(9, "HANDMADE", Some("123")), 1);
    let plan = run(&mut state, &m, &stray);
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1);
    let exception = exceptions[0].clone();
    assert_eq!(exception.kind, ExceptionKind::UnknownProduct);
    assert_eq!(exception.kind.code(), "unknown-product");
    assert_eq!(exception.owner, Owner::ItemMaster);
    assert_eq!(exception.severity, Severity::Warning);
    assert_eq!(exception.runbook, "operations.md#unknown-product");
    assert_eq!(
        exception.document,
        DocumentRef::Product { id: ProductId(9) }
    );
    assert!(
        exception.message.contains("HANDMADE"),
        "{}",
        exception.message
    );
    assert!(plan.changes.contains(&StateChange::ProductKnown(product(
        9,
        "HANDMADE",
        Some("123")
    ))));
    // Replayed, or read again unchanged: nothing.
    assert!(plan_of(&state, &stray).is_empty());
    let again = run(
        &mut state,
        &m,
        &read(product(9, "HANDMADE", Some("123")), 2),
    );
    assert!(again.actions.is_empty(), "{:?}", again.actions);

    // The item appears in NetSuite: the exception is resolved, and the existing product is
    // brought in line with the item rather than a second one created.
    let plan = run(
        &mut state,
        &m,
        &item_with_barcode("21", "HANDMADE", "123", 1),
    );
    assert_eq!(resolved(&plan), vec![&exception.key]);
    let updates: Vec<&ProductSpec> = plan
        .actions
        .iter()
        .filter_map(|a| match &a.action {
            Action::UpdateProduct(spec) => Some(spec),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].product, Some(ProductId(9)));
    assert!(!is_open(&state, ExceptionKind::UnknownProduct));
}

#[test]
fn an_unknown_product_given_a_known_code_in_clarus_is_resolved() {
    let m = mappings();
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(9, "A-TYPO", Some("BCA")), 1));
    assert!(is_open(&state, ExceptionKind::UnknownProduct));
    let plan = run(&mut state, &m, &read(product(9, "A", Some("BCA")), 2));
    assert_eq!(resolved(&plan).len(), 1);
    assert!(raised(&plan).is_empty());
    assert!(!is_open(&state, ExceptionKind::UnknownProduct));
}

#[test]
fn an_item_renamed_in_netsuite_whose_product_keeps_the_old_code_is_a_sku_mismatch() {
    let m = mappings();
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(5, "A", Some("BCA")), 1));
    let plan = run(&mut state, &m, &item_with_barcode("11", "A2", "BCA", 2));
    let exceptions = raised(&plan);
    assert_eq!(exceptions.len(), 1, "{:?}", plan.actions);
    let exception = exceptions[0].clone();
    assert_eq!(exception.kind, ExceptionKind::SkuMismatch);
    assert_eq!(exception.owner, Owner::ItemMaster);
    assert_eq!(exception.severity, Severity::Error);
    assert_eq!(exception.document, DocumentRef::Item { id: "11".into() });
    for text in ["A2", "old code A", "product 5"] {
        assert!(exception.message.contains(text), "{}", exception.message);
    }
    // The product is renamed in Clarus too: its next read agrees and resolves it.
    let plan = run(&mut state, &m, &read(product(5, "A2", Some("BCA")), 2));
    assert_eq!(resolved(&plan), vec![&exception.key]);
    assert!(raised(&plan).is_empty());
}

#[test]
fn a_product_linked_to_another_item_is_a_sku_mismatch() {
    let m = mappings();
    let mut state = state_with_a_and_b();
    let linked = ClarusProduct {
        netsuite_id: Some("12".into()),
        ..product(5, "A", None)
    };
    let plan = run(&mut state, &m, &read(linked, 1));
    let exceptions = raised(&plan);
    assert_eq!(kinds(&plan), vec![ExceptionKind::SkuMismatch]);
    assert_eq!(
        exceptions[0].document,
        DocumentRef::Item { id: "12".into() }
    );
    for text in ["SKU B", "code A", "linked to item 12"] {
        assert!(
            exceptions[0].message.contains(text),
            "{}",
            exceptions[0].message
        );
    }
}

#[test]
fn two_products_of_one_item_are_judged_apart() {
    let m = mappings();
    let mut state = state_with_item();
    let linked = |id: u64, code: &str| ClarusProduct {
        netsuite_id: Some("11".into()),
        ..product(id, code, None)
    };
    // Product 6 is linked to item 11 but carries another code; product 5 is right.
    let plan = run(&mut state, &m, &read(linked(6, "A-OLD"), 1));
    assert_eq!(kinds(&plan), vec![ExceptionKind::SkuMismatch]);
    // Reading the right product does not clear the wrong one's exception.
    let plan = run(&mut state, &m, &read(linked(5, "A"), 1));
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert!(is_open(&state, ExceptionKind::SkuMismatch));
}

#[test]
fn planning_is_deterministic() {
    let m = mappings();
    let state = state_with_item();
    for event in [
        read(product(5, "A", Some("999")), 1),
        read(product(9, "HANDMADE", None), 1),
    ] {
        assert_eq!(plan_of(&state, &event), plan_of(&state, &event));
    }
    let mut state = state_with_item();
    run(&mut state, &m, &read(product(5, "A", Some("999")), 1));
    let event = item_with_barcode("11", "A", "999", 2);
    assert_eq!(plan_of(&state, &event), plan_of(&state, &event));
}

fn plan_of(state: &MemoryState, event: &Event) -> Plan {
    plan(state, &mappings(), event, now())
}
