use super::*;
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

#[test]
fn sales_order_reads_typed_fields_and_keeps_unknown_ones() {
    let body = r#"{
        "links": [{"rel": "self", "href": "https://x/services/rest/record/v1/salesOrder/77"}],
        "id": "77", "externalId": "SO-77", "tranId": "SO1001", "tranDate": "2026-01-31",
        "lastModifiedDate": "2026-02-01T10:11:12Z",
        "entity": {"links": [], "id": "12", "refName": "Acme Ltd"},
        "status": {"id": "B", "refName": "Pending Fulfillment"},
        "orderStatus": {"id": "Z", "refName": "Something new"},
        "custbody_wms_ref": "W-1", "total": 12.5,
        "item": {"links": [], "count": 2, "hasMore": false, "offset": 0, "totalResults": 2, "items": [
            {"line": 1, "item": {"id": "501", "refName": "SKU-1"}, "quantity": 2.5, "quantityFulfilled": "1",
             "itemType": {"id": "InvtPart", "refName": "Inventory Item"}, "custcol_x": true},
            {"line": 4, "item": {"id": "502"}, "quantity": 3, "isClosed": false}
        ]}
    }"#;
    let so: SalesOrder = serde_json::from_str(body).unwrap();
    assert_eq!(so.id.as_ref().unwrap().as_str(), "77");
    assert_eq!(so.tran_date, Some(jiff::civil::date(2026, 1, 31)));
    assert_eq!(
        so.entity.as_ref().unwrap().ref_name.as_deref(),
        Some("Acme Ltd")
    );
    assert_eq!(
        so.status.as_ref().unwrap().id,
        SalesOrderStatus::PendingFulfillment
    );
    assert_eq!(
        so.order_status.as_ref().unwrap().id,
        OrderStatus::Other("Z".into())
    );
    assert_eq!(so.extra["custbody_wms_ref"], "W-1");
    assert_eq!(so.extra["total"], 12.5);
    assert_eq!(so.links.len(), 1);
    let lines = &so.item.as_ref().unwrap().items;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].quantity, Some(dec("2.5")));
    assert_eq!(lines[0].quantity_fulfilled, Some(dec("1")));
    assert_eq!(lines[0].extra["custcol_x"], true);
    assert_eq!(lines[1].line, Some(4));

    // Written back: typed fields, unknown fields kept, read-only links and refNames dropped.
    let out = serde_json::to_value(&so).unwrap();
    assert_eq!(out["custbody_wms_ref"], "W-1");
    assert_eq!(out["status"], serde_json::json!({"id": "B"}));
    assert_eq!(out["orderStatus"], serde_json::json!({"id": "Z"}));
    assert!(out.get("links").is_none());
    assert_eq!(out["entity"], serde_json::json!({"id": "12"}));
    assert_eq!(out["item"]["items"][0]["quantity"], serde_json::json!(2.5));
}

#[test]
fn sublist_without_items_reads_as_empty() {
    let body = r#"{"id": "5", "item": {"links": [{"rel": "self", "href": "h"}]}}"#;
    let so: SalesOrder = serde_json::from_str(body).unwrap();
    assert!(so.item.unwrap().items.is_empty());
}

#[test]
fn inventory_assignment_writes_exact_field_names() {
    let a = InventoryAssignment {
        issue_inventory_number: Some(RecordRef::id(crate::RecordId::new("88").unwrap())),
        bin_number: Some(RecordRef::id(crate::RecordId::new("20").unwrap())),
        quantity: Some(dec("2")),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::json!({"issueInventoryNumber": {"id": "88"}, "binNumber": {"id": "20"}, "quantity": 2})
    );
}

#[test]
fn line_numbers_and_flags_arrive_as_numbers_or_strings() {
    let body = r#"{"item": {"items": [
        {"orderLine": "4", "itemReceive": "T", "quantity": "1"},
        {"orderLine": 5, "itemReceive": false}
    ]}}"#;
    let f: ItemFulfillment = serde_json::from_str(body).unwrap();
    let lines = f.item.unwrap().items;
    assert_eq!(lines[0].order_line, Some(4));
    assert_eq!(lines[0].item_receive, Some(true));
    assert_eq!(lines[1].order_line, Some(5));
    assert_eq!(lines[1].item_receive, Some(false));
    assert!(serde_json::from_str::<ItemFulfillment>(r#"{"orderId": "x"}"#).is_err());
}
