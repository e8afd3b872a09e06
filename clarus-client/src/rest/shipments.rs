//! Shipments (create, update, delete, submit, cancel) and packages.

use rust_decimal::Decimal;
use serde::Serialize;

use super::common::{Address, Change, decimal_number};
use super::products::UnitOfMeasure;
use crate::client::{ClarusClient, Record};
use crate::{ClarusId, Error};

/// Shipment attributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Shipment {
    /// The order to ship (required by the create page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_out_id: Option<ClarusId>,
    /// Carrier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_id: Option<ClarusId>,
    /// Carrier service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_service_id: Option<ClarusId>,
    /// Shipment reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Tracking number, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Upstream reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference1: Option<String>,
    /// Package changes (weights in kg, dimensions in cm).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages_changes: Vec<Change<ShipmentPackage>>,
    /// Delivery address overriding the order's, sent in `relationships`.
    #[serde(skip)]
    pub address: Option<Address>,
}

/// A package inside a shipment's `packages_changes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShipmentPackage {
    /// Package reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Weight in kg.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<Decimal>,
    /// Length in cm.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub length: Option<Decimal>,
    /// Width in cm.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<Decimal>,
    /// Height in cm.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<Decimal>,
}

/// A package created on its own (`POST /packages`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Package {
    /// Storage unit type (box, pallet…); required on create.
    pub storage_unit_type_id: ClarusId,
    /// The shipment it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<ClarusId>,
    /// A storage unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_unit_id: Option<ClarusId>,
    /// Carrier tracking number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Dimensions and weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<PackageDimensions>,
}

/// Dimensions of a package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageDimensions {
    /// Length unit (required).
    pub unit_of_measure: UnitOfMeasure,
    /// Length.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub length: Option<Decimal>,
    /// Width.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<Decimal>,
    /// Height.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<Decimal>,
    /// Weight.
    #[serde(
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<Decimal>,
    /// `gram` or `kilogram`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_unit_of_measure: Option<String>,
}

impl ClarusClient {
    /// `POST /shipments`. Not retried: after an ambiguous failure look it up with
    /// [`ClarusClient::find_shipments_by_reference`].
    pub async fn create_shipment(&self, shipment: &Shipment) -> Result<Record, Error> {
        self.create_resource("shipments", shipment, shipment.address.as_ref())
            .await
    }

    /// `PATCH /shipments/{id}`.
    pub async fn update_shipment(
        &self,
        id: ClarusId,
        shipment: &Shipment,
    ) -> Result<Record, Error> {
        self.update_resource("shipments", id, shipment, shipment.address.as_ref())
            .await
    }

    /// `DELETE /shipments/{id}`.
    pub async fn delete_shipment(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("shipments", id).await
    }

    /// `POST /shipments/{id}/submit`: sends it to the carrier (label and tracking number).
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn submit_shipment(&self, id: ClarusId) -> Result<Option<Record>, Error> {
        self.resource_action("shipments", id, "submit").await
    }

    /// `POST /shipments/{id}/cancel`: voids it at the carrier.
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn cancel_shipment(&self, id: ClarusId) -> Result<Option<Record>, Error> {
        self.resource_action("shipments", id, "cancel").await
    }

    /// `POST /packages`.
    pub async fn create_package(&self, package: &Package) -> Result<Record, Error> {
        self.create_resource("packages", package, None).await
    }

    /// `PATCH /packages/{id}` (e.g. to set the tracking number).
    pub async fn update_package(&self, id: ClarusId, package: &Package) -> Result<Record, Error> {
        self.update_resource("packages", id, package, None).await
    }

    /// `DELETE /packages/{id}`.
    pub async fn delete_package(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("packages", id).await
    }
}
