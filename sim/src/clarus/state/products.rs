//! Products: create, update, delete and their REST rendering.

use serde_json::{Map, Value, json};

use super::{ClarusError, Product, State, merge, now, stamped};

impl State {
    pub(crate) fn create_product(&mut self, attrs: Map<String, Value>) -> Result<u64, ClarusError> {
        if let Some(code) = attrs.get("code").and_then(Value::as_str)
            && self
                .products
                .values()
                .any(|p| p.attrs.get("code").and_then(Value::as_str) == Some(code))
        {
            return Err(ClarusError::unprocessable(
                901,
                "product_code_exists",
                format!("Product code {code} already exists"),
            )
            .at("/data/attributes/code"));
        }
        let id = self.allocate_id();
        let t = now();
        self.products.insert(
            id,
            Product {
                attrs,
                created: t,
                updated: t,
            },
        );
        Ok(id)
    }

    pub(crate) fn update_product(
        &mut self,
        id: u64,
        attrs: Map<String, Value>,
    ) -> Result<(), ClarusError> {
        if !self.products.contains_key(&id) {
            return Err(ClarusError::not_found("Product", id));
        }
        if let Some(code) = attrs.get("code").and_then(Value::as_str)
            && self.products.iter().any(|(other, p)| {
                *other != id && p.attrs.get("code").and_then(Value::as_str) == Some(code)
            })
        {
            return Err(ClarusError::unprocessable(
                901,
                "product_code_exists",
                format!("Product code {code} already exists"),
            )
            .at("/data/attributes/code"));
        }
        let product = self.products.get_mut(&id).expect("checked");
        merge(&mut product.attrs, attrs, &[]);
        product.updated = now();
        Ok(())
    }

    pub(crate) fn delete_product(&mut self, id: u64) -> Result<(), ClarusError> {
        if !self.products.contains_key(&id) {
            return Err(ClarusError::not_found("Product", id));
        }
        if self
            .stocks
            .values()
            .any(|s| s.product == id && !s.quantity.is_zero())
        {
            return Err(ClarusError::unprocessable(
                909,
                "product_has_stock",
                "Products with stock cannot be deleted",
            ));
        }
        self.products.remove(&id);
        Ok(())
    }

    pub(crate) fn product_json(&self, id: u64) -> Value {
        let Some(p) = self.products.get(&id) else {
            return Value::Null;
        };
        let mut out = stamped(&p.attrs, id, p.created, p.updated);
        out.entry("product_type").or_insert(json!("single"));
        Value::Object(out)
    }
}
