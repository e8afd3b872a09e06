//! Shapes shared by the REST bodies: the JSON:API envelope, change arrays, the address
//! relationship, generic fields and decimal quantities.

use jiff::Timestamp;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::client::{ClarusClient, Record};
use crate::{ClarusId, Error};

/// One entry of a change array (`lines_changes`, `packages_changes`, …).
///
/// A delete serialises as the schema's `DESTROY`; the client rewrites it to `REMOVE` for line
/// and package arrays when so configured (see [`crate::DeleteChangeType`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    /// `ADD` a new child with these attributes.
    Add(T),
    /// `UPDATE` the child `id` with these attributes.
    Update {
        /// The child's id.
        id: ClarusId,
        /// Attributes to change.
        attributes: T,
    },
    /// Delete the child `id`.
    Delete(ClarusId),
}

impl<T: Serialize> Serialize for Change<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Self::Add(attributes) => {
                map.serialize_entry("type", "ADD")?;
                map.serialize_entry("attributes", attributes)?;
            }
            Self::Update { id, attributes } => {
                map.serialize_entry("type", "UPDATE")?;
                map.serialize_entry("id", id)?;
                map.serialize_entry("attributes", attributes)?;
            }
            Self::Delete(id) => {
                map.serialize_entry("type", "DESTROY")?;
                map.serialize_entry("id", id)?;
            }
        }
        map.end()
    }
}

/// An address sent inline in `data.relationships.address` (never in `attributes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Address {
    /// Recipient or company name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First address line (max 80).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_1: Option<String>,
    /// Second address line (max 80).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_2: Option<String>,
    /// Town or city, sent to couriers (max 80).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_3: Option<String>,
    /// County (max 80).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_4: Option<String>,
    /// Fifth line (max 80).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_5: Option<String>,
    /// Postcode (max 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Email address (max 254).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Phone number (max 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Upstream reference 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference1: Option<String>,
    /// Upstream reference 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference2: Option<String>,
    /// Upstream reference 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference3: Option<String>,
}

/// The generic fields most headers and lines carry. Their meaning is agreed per integration;
/// the upstream id goes in `external_system_reference1`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[allow(missing_docs)] // the field names are the documentation: Clarus's own generic slots
pub struct GenericFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system_reference3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer1: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer2: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer3: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer4: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer5: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime1: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime2: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime3: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime4: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime5: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean1: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean2: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean3: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boolean5: Option<bool>,
}

impl GenericFields {
    /// Generic fields holding only the upstream id in `external_system_reference1`.
    pub fn with_external_reference(reference: impl Into<String>) -> Self {
        Self {
            external_system_reference1: Some(reference.into()),
            ..Self::default()
        }
    }
}

/// Builds `{"data":{"type":…,"attributes":…,"relationships":{"address":…}}}`.
pub(crate) fn envelope<A: Serialize>(
    resource_type: &str,
    attributes: &A,
    address: Option<&Address>,
) -> Value {
    let mut data = json!({ "type": resource_type, "attributes": attributes });
    if let Some(address) = address {
        data["relationships"] = json!({
            "address": { "data": { "type": "addresses", "attributes": address } }
        });
    }
    json!({ "data": data })
}

/// The calls every JSON:API resource shares. `resource` is both the path segment and the
/// envelope's `type` (`goods_outs`, `shipments`, …).
impl ClarusClient {
    /// `POST /{resource}` with `attributes` (and the address) in the envelope.
    pub(crate) async fn create_resource<A: Serialize>(
        &self,
        resource: &str,
        attributes: &A,
        address: Option<&Address>,
    ) -> Result<Record, Error> {
        let body = envelope(resource, attributes, address);
        self.rest_record(Method::POST, &format!("/{resource}"), Some(body))
            .await
    }

    /// `PATCH /{resource}/{id}` with `attributes` (and the address) in the envelope.
    pub(crate) async fn update_resource<A: Serialize>(
        &self,
        resource: &str,
        id: ClarusId,
        attributes: &A,
        address: Option<&Address>,
    ) -> Result<Record, Error> {
        let body = envelope(resource, attributes, address);
        self.rest_record(Method::PATCH, &format!("/{resource}/{id}"), Some(body))
            .await
    }

    /// `DELETE /{resource}/{id}`.
    pub(crate) async fn delete_resource(&self, resource: &str, id: ClarusId) -> Result<(), Error> {
        self.rest_unit(Method::DELETE, &format!("/{resource}/{id}"), None)
            .await
    }

    /// `POST /{resource}/{id}/{action}` with no body. Returns the record Clarus sends back, or
    /// `None` when it answers 204 with no body.
    pub(crate) async fn resource_action(
        &self,
        resource: &str,
        id: ClarusId,
        action: &str,
    ) -> Result<Option<Record>, Error> {
        self.rest_optional_record(Method::POST, &format!("/{resource}/{id}/{action}"), None)
            .await
    }
}

/// Serialises `Decimal` quantities as JSON numbers, which the request schemas require (the
/// workspace's `rust_decimal` writes strings by default). Values travel as IEEE doubles, the
/// precision every JSON parser on the server side reads anyway (15 significant digits).
pub(crate) mod decimal_number {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        match value.to_f64() {
            Some(f) if f.is_finite() => s.serialize_f64(f),
            _ => Err(serde::ser::Error::custom(format!(
                "quantity {value} cannot be sent as a JSON number"
            ))),
        }
    }

    pub(crate) mod option {
        use rust_decimal::Decimal;
        use serde::Serializer;

        pub(crate) fn serialize<S: Serializer>(
            value: &Option<Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }
    }
}

/// Checks that a quantity is strictly positive, as the schemas require.
pub(crate) fn positive(quantity: Decimal, what: &str) -> Result<(), crate::Error> {
    if quantity > Decimal::ZERO {
        Ok(())
    } else {
        Err(crate::Error::InvalidRequest(format!(
            "{what} must be greater than 0, got {quantity}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_entries_have_the_documented_shape() {
        #[derive(Serialize)]
        struct L {
            q: i32,
        }
        assert_eq!(
            serde_json::to_value(Change::Add(L { q: 1 })).unwrap(),
            json!({"type":"ADD","attributes":{"q":1}})
        );
        assert_eq!(
            serde_json::to_value(Change::Update {
                id: 5.into(),
                attributes: L { q: 2 }
            })
            .unwrap(),
            json!({"type":"UPDATE","id":5,"attributes":{"q":2}})
        );
        assert_eq!(
            serde_json::to_value(Change::<L>::Delete(6.into())).unwrap(),
            json!({"type":"DESTROY","id":6})
        );
    }

    #[test]
    fn decimals_become_numbers() {
        #[derive(Serialize)]
        struct Q {
            #[serde(with = "decimal_number")]
            q: Decimal,
        }
        let v = serde_json::to_value(Q {
            q: Decimal::new(25, 1),
        })
        .unwrap();
        assert_eq!(v, json!({"q": 2.5}));
    }

    #[test]
    fn address_goes_into_relationships() {
        let address = Address {
            name: Some("Jane".into()),
            ..Address::default()
        };
        let body = envelope("goods_outs", &json!({"a":1}), Some(&address));
        assert_eq!(
            body["data"]["relationships"]["address"]["data"],
            json!({"type":"addresses","attributes":{"name":"Jane"}})
        );
        assert!(body["data"]["attributes"].get("address").is_none());
    }
}
