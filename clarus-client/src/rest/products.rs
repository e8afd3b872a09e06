//! Products, account ownership and product storage units.

use reqwest::Method;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use super::common::{GenericFields, decimal_number, envelope};
use crate::client::{ClarusClient, Record, decode};
use crate::{ClarusId, Error};

/// Product attributes for create and update. `description` and `stock_unit_type_id` are
/// required by the schema on both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    /// Short description (max 150).
    pub description: String,
    /// Stock unit type id (the measurement unit).
    pub stock_unit_type_id: ClarusId,
    /// Product code / SKU (max 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Long description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    /// Unit barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// Case barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_barcode: Option<String>,
    /// Inner-pack barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_barcode: Option<String>,
    /// Outer barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outer_barcode: Option<String>,
    /// HS commodity code (max 14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commodity_code: Option<String>,
    /// Country of manufacture (ISO code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_of_manufacture: Option<String>,
    /// Customs description (max 255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_description: Option<String>,
    /// Minimum shelf life at receipt, days (≥ 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelf_life_min: Option<u32>,
    /// Maximum shelf life, days (≥ 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelf_life_max: Option<u32>,
    /// Stopped from all operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<bool>,
    /// `pick_by_line` or `batch_pick`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_strategy: Option<String>,
    /// `single` or `bill_of_materials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// `no_tracking`, `track_during_pick` or `full_tracking`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number_tracking_setting: Option<String>,
    /// Default configuration for orders: `unit`, `case`, `inner` or `outer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_order_configuration: Option<StockConfiguration>,
    /// Default configuration for receipts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_receipt_configuration: Option<StockConfiguration>,
    /// Generic fields.
    #[serde(flatten)]
    pub generic: GenericFields,
}

impl Product {
    /// A product with the two required attributes and nothing else.
    pub fn new(description: impl Into<String>, stock_unit_type_id: ClarusId) -> Self {
        Self {
            description: description.into(),
            stock_unit_type_id,
            code: None,
            long_description: None,
            barcode: None,
            case_barcode: None,
            inner_barcode: None,
            outer_barcode: None,
            commodity_code: None,
            country_of_manufacture: None,
            customs_description: None,
            shelf_life_min: None,
            shelf_life_max: None,
            stop: None,
            pick_strategy: None,
            product_type: None,
            serial_number_tracking_setting: None,
            default_order_configuration: None,
            default_receipt_configuration: None,
            generic: GenericFields::default(),
        }
    }
}

/// Packaging level of stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StockConfiguration {
    /// Single units.
    Unit,
    /// Cases.
    Case,
    /// Inner packs.
    Inner,
    /// Outer packs.
    Outer,
}

/// Length unit for storage units and package dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitOfMeasure {
    /// Centimetres.
    Centimetre,
    /// Metres.
    Metre,
    /// Inches.
    Inch,
    /// Feet.
    Foot,
    /// Millimetres.
    Millimetre,
}

/// A product storage unit: how a product sits on a storage unit type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductStorageUnit {
    /// The product.
    pub product_id: ClarusId,
    /// The storage unit type (e.g. a pallet type).
    pub storage_unit_type_id: ClarusId,
    /// Packaging level.
    pub stock_configuration: StockConfiguration,
    /// Length unit.
    pub unit_of_measure: UnitOfMeasure,
    /// Quantity per layer (≥ 0).
    #[serde(with = "decimal_number")]
    pub per_layer: Decimal,
    /// Number of layers.
    pub number_of_layers: u32,
    /// Total per full unit.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Decimal>,
    /// Height.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<Decimal>,
    /// Priority (0 is used for receipts); unique per product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

impl ClarusClient {
    /// `POST /products`. Not retried: after an ambiguous failure, look the product up by code
    /// ([`ClarusClient::find_products_by_code`]) before trying again.
    pub async fn create_product(&self, product: &Product) -> Result<Record, Error> {
        self.create_resource("products", product, None).await
    }

    /// `PATCH /products/{id}` with the full attributes.
    pub async fn update_product(&self, id: ClarusId, product: &Product) -> Result<Record, Error> {
        self.update_resource("products", id, product, None).await
    }

    /// `DELETE /products/{id}`. Products with stock cannot be deleted.
    pub async fn delete_product(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("products", id).await
    }

    /// `DELETE /products?ids=1,2,3`.
    pub async fn delete_products(&self, ids: &[ClarusId]) -> Result<(), Error> {
        if ids.is_empty() {
            return Err(Error::InvalidRequest("no product ids given".into()));
        }
        let list = ids
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        self.rest(Method::DELETE, "/products", &[("ids", list)], None)
            .await
            .map(|_| ())
    }

    /// `POST /products/{product_id}/account_products`: lets an account own the product.
    /// Returns the server's answer as JSON (its shape is not documented).
    pub async fn add_account_product(
        &self,
        product_id: ClarusId,
        account_id: ClarusId,
    ) -> Result<Value, Error> {
        let body = envelope(
            "account_products",
            &json!({ "account_id": account_id }),
            None,
        );
        let response = self
            .rest(
                Method::POST,
                &format!("/products/{product_id}/account_products"),
                &[],
                Some(body),
            )
            .await?;
        if response.body.trim().is_empty() {
            return Ok(Value::Null);
        }
        decode(&response.body)
    }

    /// `POST /product_storage_units`.
    pub async fn create_product_storage_unit(
        &self,
        unit: &ProductStorageUnit,
    ) -> Result<Record, Error> {
        self.create_resource("product_storage_units", unit, None)
            .await
    }

    /// `PATCH /product_storage_units/{id}`.
    pub async fn update_product_storage_unit(
        &self,
        id: ClarusId,
        unit: &ProductStorageUnit,
    ) -> Result<Record, Error> {
        self.update_resource("product_storage_units", id, unit, None)
            .await
    }

    /// `DELETE /product_storage_units/{id}`.
    pub async fn delete_product_storage_unit(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("product_storage_units", id).await
    }

    /// `PATCH /product_storage_units/{id}/priority` with the flat body `{priority}`.
    pub async fn set_product_storage_unit_priority(
        &self,
        id: ClarusId,
        priority: u32,
    ) -> Result<(), Error> {
        self.rest_unit(
            Method::PATCH,
            &format!("/product_storage_units/{id}/priority"),
            Some(json!({ "priority": priority })),
        )
        .await
    }
}
