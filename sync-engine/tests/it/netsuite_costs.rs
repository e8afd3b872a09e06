//! NetSuite average costs read by SuiteQL from the simulator: the item's `averagecost`, and the
//! location's `averagecostmli` from `inventoryitemlocations` where NetSuite keeps one.

use rust_decimal::Decimal;
use sim::netsuite::ItemKind;
use sync_core::{LocationId, MappingTables, Mappings, Sku};
use sync_engine::netsuite::CostReader;

use crate::support::netsuite as support;

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

#[tokio::test]
async fn item_and_location_average_costs_are_read_for_the_mapped_locations() {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", None).unwrap();
    let second = h.add_location("Second", None).unwrap();
    let elsewhere = h.add_location("Not integrated", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    let tea = support::item(&h, "TEA", ItemKind::LotNumbered);
    let _never_costed = support::item(&h, "NEW", ItemKind::Inventory);
    let free = support::item(&h, "FREE", ItemKind::Inventory);
    assert!(h.set_average_cost(mug, Some(money(1250))));
    assert!(h.set_average_cost(tea, Some(money(399))));
    assert!(h.set_average_cost(free, Some(Decimal::ZERO)));
    h.set_location_average_cost(mug, second, Some(money(1310)));
    h.set_location_average_cost(tea, elsewhere, Some(money(9999)));
    assert!(!h.set_average_cost(sim::netsuite::InternalId(9_999_999), Some(money(1))));

    let loc = |id: sim::netsuite::InternalId| LocationId::new(id.to_string());
    let mappings = Mappings::new(MappingTables {
        locations: support::locations(&[(main, 10), (second, 11)]),
        ..MappingTables::default()
    })
    .unwrap();
    let costs = CostReader::new(support::client(&ns).await, mappings)
        .read()
        .await
        .unwrap();
    let cost = |sku: &str, at| costs.unit_cost(&Sku::new(sku), &loc(at));
    // The location's own average cost where NetSuite keeps one, the item's elsewhere.
    assert_eq!(cost("MUG", second), Some(money(1310)));
    assert_eq!(cost("MUG", main), Some(money(1250)));
    assert_eq!(cost("TEA", main), Some(money(399)));
    // A cost kept only at a location outside the mappings is not read.
    assert_eq!(cost("TEA", elsewhere), Some(money(399)));
    // Never costed, or costed at zero: unknown, not zero.
    assert_eq!(cost("NEW", main), None);
    assert_eq!(cost("FREE", main), None);
    assert_eq!(cost("GHOST", main), None);
}
