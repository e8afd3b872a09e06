//! Products, account products and product storage units.

use super::*;

pub(super) fn product() -> Product {
    let mut p = Product::new("Widget Blue Large", id(3));
    p.code = Some("SKU-001".into());
    p.barcode = Some("5012345678901".into());
    p.shelf_life_min = Some(30);
    p.default_order_configuration = Some(StockConfiguration::Unit);
    p.generic = GenericFields {
        external_system_reference1: Some("NS-ITEM-77".into()),
        integer1: Some(5),
        datetime1: Some(ts("2026-03-01T00:00:00Z")),
        boolean1: Some(true),
        ..GenericFields::default()
    };
    p
}

fn product_body() -> Value {
    json!({"data":{"type":"products","attributes":{
        "description":"Widget Blue Large","stock_unit_type_id":3,"code":"SKU-001",
        "barcode":"5012345678901","shelf_life_min":30,"default_order_configuration":"unit",
        "external_system_reference1":"NS-ITEM-77","integer1":5,
        "datetime1":"2026-03-01T00:00:00Z","boolean1":true}}})
}

#[tokio::test]
async fn create_product() {
    let record = post("/api/products")
        .body("createProduct", product_body())
        .record(150, "products")
        .run(async |c| c.create_product(&product()).await)
        .await;
    assert_eq!(record.id, id(150));
    assert_eq!(record.resource_type, "products");
    assert_eq!(
        record.attribute::<String>("reference").as_deref(),
        Some("R")
    );
}

#[tokio::test]
async fn update_product() {
    patch("/api/products/150")
        .body("updateProduct", product_body())
        .record(150, "products")
        .run(async |c| c.update_product(id(150), &product()).await)
        .await;
}

#[tokio::test]
async fn delete_products() {
    let server = server().await;
    Mock::given(method("DELETE"))
        .and(path("/api/products"))
        .and(query_param("ids", "1,2,3"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .delete_products(&[id(1), id(2), id(3)])
        .await
        .unwrap();
    single_request(&server).await;
    assert!(matches!(
        client(&server).delete_products(&[]).await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn add_account_product() {
    let expected = json!({"data":{"type":"account_products","attributes":{"account_id":7}}});
    let answer = ResponseTemplate::new(200).set_body_json(json!({"data":{"id":9}}));
    let v = post("/api/products/150/account_products")
        .body("createAccountProduct", expected)
        .answer(answer)
        .run(async |c| c.add_account_product(id(150), id(7)).await)
        .await;
    assert_eq!(v["data"]["id"], 9);
}

fn storage_unit() -> ProductStorageUnit {
    ProductStorageUnit {
        product_id: id(150),
        storage_unit_type_id: id(12),
        stock_configuration: StockConfiguration::Case,
        unit_of_measure: UnitOfMeasure::Centimetre,
        per_layer: dec("10"),
        number_of_layers: 5,
        total: Some(dec("50")),
        height: Some(dec("120.5")),
        priority: Some(0),
    }
}

#[tokio::test]
async fn product_storage_units() {
    let expected = json!({"data":{"type":"product_storage_units","attributes":{
        "product_id":150,"storage_unit_type_id":12,"stock_configuration":"case",
        "unit_of_measure":"centimetre","per_layer":10.0,"number_of_layers":5,"total":50.0,
        "height":120.5,"priority":0}}});
    let unit = storage_unit();

    post("/api/product_storage_units")
        .body("createProductStorageUnit", expected.clone())
        .record(9, "product_storage_units")
        .run(async |c| c.create_product_storage_unit(&unit).await)
        .await;
    patch("/api/product_storage_units/9")
        .body("updateProductStorageUnit", expected)
        .record(9, "product_storage_units")
        .run(async |c| c.update_product_storage_unit(id(9), &unit).await)
        .await;
    patch("/api/product_storage_units/9/priority")
        .body("priorityProductStorageUnit", json!({"priority":1}))
        .run(async |c| c.set_product_storage_unit_priority(id(9), 1).await)
        .await;
}
