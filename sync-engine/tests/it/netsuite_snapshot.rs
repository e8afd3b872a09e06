//! NetSuite on-hand read from the simulator's `inventorybalance` and placed as drift positions.

use rust_decimal::Decimal;
use sim::netsuite::{DAMAGED, GOOD, ItemKind, QUARANTINE};
use sync_core::{
    DriftCalculator, DriftClass, MappingTables, Mappings, StatusMapping, StockKey, StockPlace,
    StockStatus, Thresholds,
};
use sync_engine::netsuite::OnHandReader;

use crate::support::netsuite as support;

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

#[tokio::test]
async fn balances_become_positions_by_sku_location_and_status() {
    let ns = support::start().await;
    let h = ns.handle();
    let main = h.add_location("Main", None).unwrap();
    let second = h.add_location("Second", None).unwrap();
    let quarantine = h.add_location("Second quarantine", None).unwrap();
    let elsewhere = h.add_location("Not integrated", None).unwrap();
    let mug = support::item(&h, "MUG", ItemKind::Inventory);
    let tea = support::item(&h, "TEA", ItemKind::LotNumbered);
    h.set_on_hand(mug, main, GOOD, d(8));
    h.set_on_hand(mug, main, QUARANTINE, d(2));
    h.set_on_hand(mug, main, DAMAGED, d(1));
    h.set_lot_on_hand(tea, "L1", main, GOOD, d(3)).unwrap();
    h.set_lot_on_hand(tea, "L2", main, GOOD, d(4)).unwrap();
    h.set_on_hand(mug, second, GOOD, d(5));
    h.set_on_hand(mug, quarantine, GOOD, d(6));
    h.set_on_hand(mug, elsewhere, GOOD, d(100));

    let loc = |id: sim::netsuite::InternalId| sync_core::LocationId::new(id.to_string());
    let mappings = Mappings::new(MappingTables {
        locations: support::locations(&[(main, 10), (second, 11)]),
        stock_statuses: vec![
            StatusMapping {
                location: loc(main),
                sellable: StockPlace::Status {
                    status: GOOD.to_string().into(),
                },
                quarantine: StockPlace::Status {
                    status: QUARANTINE.to_string().into(),
                },
            },
            StatusMapping {
                location: loc(second),
                sellable: StockPlace::Location {
                    location: loc(second),
                },
                quarantine: StockPlace::Location {
                    location: loc(quarantine),
                },
            },
        ],
        ..MappingTables::default()
    })
    .unwrap();
    let reader = OnHandReader::new(support::client(&ns).await, mappings);
    let (mut rows, summary) = reader.read().await.unwrap();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let key = |sku: &str, at: sim::netsuite::InternalId, status| StockKey {
        sku: sku.into(),
        location: loc(at),
        status,
    };
    let got: Vec<(StockKey, Decimal)> = rows.into_iter().map(|r| (r.key, r.quantity)).collect();
    let mut want = vec![
        (key("MUG", main, StockStatus::Available), d(8)),
        (key("MUG", main, StockStatus::Held), d(2)),
        (key("TEA", main, StockStatus::Available), d(7)),
        (key("MUG", second, StockStatus::Available), d(5)),
        (key("MUG", second, StockStatus::Held), d(6)),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    // The damaged unit is in neither place: reported, not guessed.
    assert_eq!(summary.locations, 3);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(summary.skipped[0].status.as_deref(), Some("3"));
    assert_eq!(summary.skipped[0].quantity, d(1));

    // Into a drift calculation: Clarus agrees except one held unit at the main location.
    let mut drift = DriftCalculator::new();
    reader.read_into(&mut drift).await.unwrap();
    for (k, q) in &want {
        let q = if *k == key("MUG", main, StockStatus::Held) {
            *q + Decimal::ONE
        } else {
            *q
        };
        drift.add_clarus(k.clone(), q);
    }
    let report = drift.finish(Thresholds::default());
    assert_eq!(report.summary.positions, 5);
    assert_eq!(report.summary.drift, 1);
    assert_eq!(report.rows[0].key, key("MUG", main, StockStatus::Held));
    assert_eq!(report.rows[0].class, DriftClass::Drift);
    ns.shutdown().await;
}
