//! Shipments: created through REST, submitted to the carrier, and their REST rendering.

use serde_json::{Map, Value, json};

use super::changes::{change_attrs, change_type, changes};
use super::{ClarusError, Package, Shipment, State, id_attr, now, stamped, with_id};

impl State {
    pub(crate) fn create_shipment(
        &mut self,
        attrs: Map<String, Value>,
        address: Option<Value>,
    ) -> Result<u64, ClarusError> {
        let goods_out = id_attr(&attrs, "goods_out_id").ok_or_else(|| {
            ClarusError::unprocessable(908, "goods_out_required", "goods_out_id is required")
                .at("/data/attributes/goods_out_id")
        })?;
        if !self.goods_outs.contains_key(&goods_out) {
            return Err(ClarusError::unprocessable(
                907,
                "goods_out_not_found",
                format!("Goods out {goods_out} does not exist"),
            ));
        }
        let mut packages = Vec::new();
        let mut specs: Vec<Map<String, Value>> = changes(&attrs, "packages_changes")
            .into_iter()
            .filter(|c| change_type(c) == "ADD")
            .map(|c| change_attrs(&c))
            .collect();
        specs.extend(
            attrs
                .get("packages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_object().cloned()),
        );
        for spec in specs {
            let id = self.allocate_id();
            let tracking = spec
                .get("tracking_number")
                .and_then(Value::as_str)
                .map(str::to_string);
            packages.push(Package {
                id,
                tracking_number: tracking,
                attrs: spec,
            });
        }
        let mut stored = attrs;
        stored.remove("packages_changes");
        stored.remove("packages");
        if let Some(a) = address {
            stored.insert("address".into(), a);
        }
        let id = self.allocate_id();
        let t = now();
        let tracking = stored
            .get("tracking_number")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.shipments.insert(
            id,
            Shipment {
                goods_out,
                attrs: stored,
                status: "pending".into(),
                tracking_number: tracking,
                packages,
                created: t,
                updated: t,
            },
        );
        if let Some(o) = self.goods_outs.get_mut(&goods_out) {
            o.shipments.push(id);
        }
        Ok(id)
    }

    /// Sends a shipment to the carrier: tracking numbers are assigned.
    pub(crate) fn submit_shipment(
        &mut self,
        id: u64,
        tracking_seed: u64,
    ) -> Result<(), ClarusError> {
        let shipment = self
            .shipments
            .get_mut(&id)
            .ok_or_else(|| ClarusError::not_found("Shipment", id))?;
        if shipment.status != "pending" {
            return Err(ClarusError::unprocessable(
                927,
                "shipment_not_pending",
                "Only pending shipments can be submitted",
            ));
        }
        let base = format!("1Z{tracking_seed:012}");
        if shipment.packages.is_empty() {
            shipment.packages.push(Package {
                id: 0,
                tracking_number: None,
                attrs: Map::new(),
            });
        }
        for (n, p) in shipment.packages.iter_mut().enumerate() {
            p.tracking_number
                .get_or_insert_with(|| format!("{base}{n:02}"));
        }
        shipment.tracking_number = shipment
            .packages
            .first()
            .and_then(|p| p.tracking_number.clone());
        shipment.status = "submitted".into();
        shipment.updated = now();
        let missing: Vec<usize> = shipment
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.id == 0)
            .map(|(i, _)| i)
            .collect();
        for i in missing {
            let pid = self.allocate_id();
            if let Some(s) = self.shipments.get_mut(&id) {
                s.packages[i].id = pid;
            }
        }
        Ok(())
    }

    pub(crate) fn shipment_json(&self, id: u64) -> Value {
        let Some(s) = self.shipments.get(&id) else {
            return Value::Null;
        };
        let mut out = stamped(&s.attrs, id, s.created, s.updated);
        out.insert("goods_out_id".into(), json!(s.goods_out));
        out.insert("status".into(), json!(s.status));
        out.insert("tracking_number".into(), json!(s.tracking_number));
        out.insert(
            "packages".into(),
            Value::Array(
                s.packages
                    .iter()
                    .map(|p| {
                        let mut package = with_id(&p.attrs, p.id);
                        package.insert("tracking_number".into(), json!(p.tracking_number));
                        Value::Object(package)
                    })
                    .collect(),
            ),
        );
        Value::Object(out)
    }
}
