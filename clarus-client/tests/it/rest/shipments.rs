//! Shipments and packages.

use super::*;

fn shipment() -> Shipment {
    Shipment {
        goods_out_id: Some(id(3301)),
        carrier_id: Some(id(5)),
        carrier_service_id: Some(id(10)),
        reference: Some("SH-001".into()),
        packages_changes: vec![Change::Add(ShipmentPackage {
            weight: Some(dec("2.5")),
            length: Some(dec("30")),
            width: Some(dec("20")),
            height: Some(dec("15")),
            ..ShipmentPackage::default()
        })],
        address: Some(Address {
            name: Some("John Smith".into()),
            postcode: Some("AB1 2CD".into()),
            country_code: Some("GB".into()),
            ..Address::default()
        }),
        ..Shipment::default()
    }
}

fn shipment_body(packages: Value) -> Value {
    json!({"data":{"type":"shipments","attributes":{
        "goods_out_id":3301,"carrier_id":5,"carrier_service_id":10,"reference":"SH-001",
        "packages_changes":packages},
      "relationships":{"address":{"data":{"type":"addresses","attributes":{
        "name":"John Smith","postcode":"AB1 2CD","country_code":"GB"}}}}}})
}

#[tokio::test]
async fn create_and_update_shipment() {
    let packages = json!([{"type":"ADD","attributes":{"weight":2.5,"length":30.0,"width":20.0,"height":15.0}}]);
    post("/api/shipments")
        .body("createShipment", shipment_body(packages))
        .record(1530, "shipments")
        .run(async |c| c.create_shipment(&shipment()).await)
        .await;

    let mut s = shipment();
    s.packages_changes = vec![Change::Delete(id(4821))];
    let destroy = shipment_body(json!([{"type":"DESTROY","id":4821}]));
    patch("/api/shipments/1530")
        .body("updateShipment", destroy)
        .record(1530, "shipments")
        .run(async |c| c.update_shipment(id(1530), &s).await)
        .await;

    let remove = shipment_body(json!([{"type":"REMOVE","id":4821}]));
    patch("/api/shipments/1530")
        .wire_body(remove)
        .record(1530, "shipments")
        .run_with(client_with_remove, async |c| {
            c.update_shipment(id(1530), &s).await
        })
        .await;
}

#[tokio::test]
async fn packages() {
    let package = Package {
        storage_unit_type_id: id(12),
        shipment_id: Some(id(1530)),
        storage_unit_id: None,
        tracking_number: Some("1Z999AA10123456784".into()),
        dimensions: Some(PackageDimensions {
            unit_of_measure: UnitOfMeasure::Centimetre,
            length: Some(dec("30")),
            width: None,
            height: None,
            weight: Some(dec("2.5")),
            weight_unit_of_measure: Some("kilogram".into()),
        }),
    };
    let expected = json!({"data":{"type":"packages","attributes":{"storage_unit_type_id":12,
        "shipment_id":1530,"tracking_number":"1Z999AA10123456784",
        "dimensions":{"unit_of_measure":"centimetre","length":30.0,"weight":2.5,"weight_unit_of_measure":"kilogram"}}}});

    post("/api/packages")
        .body("createPackage", expected.clone())
        .record(4821, "packages")
        .run(async |c| c.create_package(&package).await)
        .await;
    patch("/api/packages/4821")
        .body("updatePackage", expected)
        .record(4821, "packages")
        .run(async |c| c.update_package(id(4821), &package).await)
        .await;
}
