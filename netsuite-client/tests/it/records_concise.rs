//! The concise ways to write record bodies (literal ids, line builders) produce exactly the
//! bodies written out in full.

use netsuite_client::records::{
    InventoryAdjustment, InventoryAdjustmentLine, InventoryTransfer, InventoryTransferLine,
    ItemFulfillment, ItemFulfillmentLine, ItemReceipt, ItemReceiptLine, RecordRef, Select,
    ShipStatus, Sublist,
};
use netsuite_client::{Decimal, RecordId};
use serde_json::json;

fn id(s: &str) -> RecordRef {
    RecordRef::id(RecordId::new(s).unwrap())
}

#[test]
fn literal_ids_are_the_same_references_as_parsed_ids() {
    assert_eq!(RecordRef::id(123), id("123"));
    assert_eq!(RecordRef::from(123), id("123"));
    assert_eq!(RecordRef::from(RecordId::new("9").unwrap()), id("9"));
    assert_eq!(RecordId::from(u64::MAX).as_str(), "18446744073709551615");
    assert_eq!(RecordId::from(0).as_str(), "0");
}

#[test]
fn fulfillment_builder_writes_the_long_form() {
    let long = ItemFulfillment {
        external_id: Some("WMS-SHIP-1".into()),
        memo: Some("wave 4".into()),
        ship_status: Some(Select::new(ShipStatus::Shipped)),
        item: Some(Sublist::from(vec![
            ItemFulfillmentLine {
                order_line: Some(1),
                item_receive: Some(true),
                quantity: Some(Decimal::from(2)),
                ..Default::default()
            },
            ItemFulfillmentLine {
                order_line: Some(3),
                item_receive: Some(true),
                quantity: Some(Decimal::new(15, 1)),
                location: Some(id("7")),
                ..Default::default()
            },
        ])),
        ..Default::default()
    };
    let short = ItemFulfillment::builder()
        .external_id("WMS-SHIP-1")
        .memo("wave 4")
        .ship_status(ShipStatus::Shipped)
        .line(1, 2)
        .line_with(ItemFulfillmentLine {
            order_line: Some(3),
            item_receive: Some(true),
            quantity: Some(Decimal::new(15, 1)),
            location: Some(RecordRef::id(7)),
            ..Default::default()
        })
        .build();
    assert_eq!(short, long);
    assert_eq!(
        serde_json::to_value(&short).unwrap(),
        json!({
            "externalId": "WMS-SHIP-1",
            "memo": "wave 4",
            "shipStatus": {"id": "C"},
            "item": {"items": [
                {"orderLine": 1, "itemReceive": true, "quantity": 2},
                {"orderLine": 3, "itemReceive": true, "quantity": 1.5, "location": {"id": "7"}}
            ]}
        })
    );
}

#[test]
fn receipt_builder_writes_the_long_form() {
    let long = ItemReceipt {
        tran_date: Some(jiff::civil::date(2026, 3, 1)),
        item: Some(Sublist::from(vec![ItemReceiptLine {
            order_line: Some(2),
            item_receive: Some(true),
            quantity: Some(Decimal::from(10)),
            ..Default::default()
        }])),
        ..Default::default()
    };
    let short = ItemReceipt::builder()
        .tran_date(jiff::civil::date(2026, 3, 1))
        .line(2, 10)
        .build();
    assert_eq!(
        serde_json::to_string(&short).unwrap(),
        serde_json::to_string(&long).unwrap()
    );
}

#[test]
fn adjustment_builder_writes_the_long_form() {
    let long = InventoryAdjustment {
        external_id: Some("ADJ-9".into()),
        subsidiary: Some(id("1")),
        account: Some(id("130")),
        adj_location: Some(id("7")),
        inventory: Some(Sublist::from(vec![
            InventoryAdjustmentLine {
                item: Some(id("501")),
                location: Some(id("7")),
                adjust_qty_by: Some(Decimal::from(-4)),
                ..Default::default()
            },
            InventoryAdjustmentLine {
                item: Some(RecordRef::external("SKU-9")),
                location: Some(id("7")),
                adjust_qty_by: Some(Decimal::new(25, 1)),
                ..Default::default()
            },
        ])),
        ..Default::default()
    };
    let short = InventoryAdjustment::builder(130, 7)
        .external_id("ADJ-9")
        .subsidiary(1)
        .line(501, -4)
        .line(RecordRef::external("SKU-9"), Decimal::new(25, 1))
        .build();
    assert_eq!(
        serde_json::to_string(&short).unwrap(),
        serde_json::to_string(&long).unwrap()
    );
    assert_eq!(
        serde_json::to_value(&short).unwrap()["inventory"]["items"][1],
        json!({"item": {"externalId": "SKU-9"}, "location": {"id": "7"}, "adjustQtyBy": 2.5})
    );
}

#[test]
fn transfer_builder_writes_the_long_form() {
    let long = InventoryTransfer {
        location: Some(id("7")),
        transfer_location: Some(id("8")),
        inventory: Some(Sublist::from(vec![InventoryTransferLine {
            item: Some(id("501")),
            adjust_qty_by: Some(Decimal::from(3)),
            ..Default::default()
        }])),
        ..Default::default()
    };
    let short = InventoryTransfer::builder(7, 8).line(501, 3).build();
    assert_eq!(
        serde_json::to_string(&short).unwrap(),
        serde_json::to_string(&long).unwrap()
    );
}
