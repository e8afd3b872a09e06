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
    let server = server().await;
    let packages = json!([{"type":"ADD","attributes":{"weight":2.5,"length":30.0,"width":20.0,"height":15.0}}]);
    expect(
        &server,
        "POST",
        "/api/shipments",
        Some(shipment_body(packages)),
        data_response(1530, "shipments"),
    )
    .await;
    client(&server).create_shipment(&shipment()).await.unwrap();
    assert_spec(&server, "createShipment").await;

    let server = crate::support::server().await;
    let mut s = shipment();
    s.packages_changes = vec![Change::Delete(id(4821))];
    expect(
        &server,
        "PATCH",
        "/api/shipments/1530",
        Some(shipment_body(json!([{"type":"DESTROY","id":4821}]))),
        data_response(1530, "shipments"),
    )
    .await;
    client(&server).update_shipment(id(1530), &s).await.unwrap();
    assert_spec(&server, "updateShipment").await;

    let server = crate::support::server().await;
    expect(
        &server,
        "PATCH",
        "/api/shipments/1530",
        Some(shipment_body(json!([{"type":"REMOVE","id":4821}]))),
        data_response(1530, "shipments"),
    )
    .await;
    client_with_remove(&server)
        .update_shipment(id(1530), &s)
        .await
        .unwrap();
}

#[tokio::test]
async fn shipment_actions() {
    for (m, p) in [
        ("DELETE", "/api/shipments/1530"),
        ("POST", "/api/shipments/1530/submit"),
        ("POST", "/api/shipments/1530/cancel"),
    ] {
        let server = server().await;
        let response = if m == "DELETE" {
            ResponseTemplate::new(204)
        } else {
            data_response(1530, "shipments")
        };
        expect(&server, m, p, None, response).await;
        let c = client(&server);
        match p {
            "/api/shipments/1530" => c.delete_shipment(id(1530)).await.unwrap(),
            "/api/shipments/1530/submit" => {
                c.submit_shipment(id(1530)).await.unwrap();
            }
            _ => {
                c.cancel_shipment(id(1530)).await.unwrap();
            }
        }
        assert_no_body(&server).await;
    }
}

#[tokio::test]
async fn actions_accept_an_empty_204() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/shipments/1530/submit",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    assert_eq!(
        client(&server).submit_shipment(id(1530)).await.unwrap(),
        None
    );
    let server = crate::support::server().await;
    expect(
        &server,
        "POST",
        "/api/goods_in_receipts/5/receive",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    assert_eq!(
        client(&server)
            .receive_goods_in_receipt(id(5))
            .await
            .unwrap(),
        None
    );
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

    let server = server().await;
    expect(
        &server,
        "POST",
        "/api/packages",
        Some(expected.clone()),
        data_response(4821, "packages"),
    )
    .await;
    client(&server).create_package(&package).await.unwrap();
    assert_spec(&server, "createPackage").await;

    let server = crate::support::server().await;
    expect(
        &server,
        "PATCH",
        "/api/packages/4821",
        Some(expected),
        data_response(4821, "packages"),
    )
    .await;
    client(&server)
        .update_package(id(4821), &package)
        .await
        .unwrap();
    assert_spec(&server, "updatePackage").await;

    let server = crate::support::server().await;
    expect(
        &server,
        "DELETE",
        "/api/packages/4821",
        None,
        ResponseTemplate::new(204),
    )
    .await;
    client(&server).delete_package(id(4821)).await.unwrap();
    assert_no_body(&server).await;
}
