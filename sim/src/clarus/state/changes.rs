//! The `*_changes` lists of REST writes: `ADD`, `UPDATE` and `DESTROY`/`REMOVE` edits to the
//! lines of goods outs and goods-in receipts, to shipment packages and to automation conditions,
//! actions and parameters.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{ClarusError, State, dec, id_attr, merge};
use crate::json::id_from_json;

/// The changes listed under `key`, each an object.
pub(super) fn changes(attrs: &Map<String, Value>, key: &str) -> Vec<Map<String, Value>> {
    attrs
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_object().cloned())
                .collect()
        })
        .unwrap_or_default()
}

/// A change's `type` (`ADD`, `UPDATE`, `DESTROY`, `REMOVE`), empty when missing.
pub(super) fn change_type(change: &Map<String, Value>) -> &str {
    change.get("type").and_then(Value::as_str).unwrap_or("")
}

/// A change's `attributes`.
pub(super) fn change_attrs(change: &Map<String, Value>) -> Map<String, Value> {
    change
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Whether a change type deletes.
pub(super) fn is_delete(kind: &str) -> bool {
    kind == "DESTROY" || kind == "REMOVE"
}

/// The position of the existing item an `UPDATE` or delete change names by `id`: a change
/// without an id is refused with `required` (914), an unknown id as `{noun} {id} does not exist`.
pub(super) fn changed_item<T>(
    items: &[T],
    id_of: impl Fn(&T) -> u64,
    change: &Map<String, Value>,
    source: &str,
    required: &'static str,
    noun: &str,
) -> Result<usize, ClarusError> {
    let id = id_from_json(change.get("id").unwrap_or(&Value::Null))
        .ok_or_else(|| ClarusError::unprocessable(914, required, "id is required").at(source))?;
    items
        .iter()
        .position(|item| id_of(item) == id)
        .ok_or_else(|| {
            ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("{noun} {id} does not exist"),
            )
            .at(source)
        })
}

/// A goods-out or goods-in line, as `lines_changes` add, update and delete it.
pub(super) trait OrderLine {
    /// The attribute holding the line's quantity (`order_quantity`, `expected_quantity`).
    const QUANTITY: &'static str;
    /// Code and symbol of the error refusing an added line without a positive quantity.
    const QUANTITY_REQUIRED: (u32, &'static str);

    /// A new line.
    fn new(id: u64, product: u64, quantity: Decimal, attrs: Map<String, Value>) -> Self;
    /// The line's id.
    fn id(&self) -> u64;
    /// The line's product, quantity and other attributes, for an `UPDATE` to change.
    fn editable(&mut self) -> (&mut u64, &mut Decimal, &mut Map<String, Value>);
}

impl State {
    /// An order's lines after the request's `lines_changes`, which are taken out of `attrs`.
    pub(super) fn edited_lines<L: OrderLine>(
        &mut self,
        mut lines: Vec<L>,
        attrs: &mut Map<String, Value>,
    ) -> Result<Vec<L>, ClarusError> {
        let changes_list = changes(attrs, "lines_changes");
        attrs.remove("lines_changes");
        for (i, change) in changes_list.into_iter().enumerate() {
            let source = format!("/data/attributes/lines_changes/{i}");
            let kind = change_type(&change).to_string();
            let attrs = change_attrs(&change);
            match kind.as_str() {
                "ADD" => {
                    let product = self.require_product(id_attr(&attrs, "product_id"), &source)?;
                    let quantity = dec(attrs.get(L::QUANTITY))
                        .filter(|q| *q > Decimal::ZERO)
                        .ok_or_else(|| {
                            let (code, symbol) = L::QUANTITY_REQUIRED;
                            ClarusError::unprocessable(
                                code,
                                symbol,
                                format!("{} must be greater than 0", L::QUANTITY),
                            )
                            .at(source.clone())
                        })?;
                    let id = self.allocate_id();
                    lines.push(L::new(id, product, quantity, attrs));
                }
                k if k == "UPDATE" || is_delete(k) => {
                    let index =
                        changed_item(&lines, L::id, &change, &source, "line_id_required", "Line")?;
                    if is_delete(k) {
                        lines.remove(index);
                    } else {
                        let (product, quantity, line_attrs) = lines[index].editable();
                        if let Some(q) = dec(attrs.get(L::QUANTITY)) {
                            *quantity = q;
                        }
                        if attrs.contains_key("product_id") {
                            *product =
                                self.require_product(id_attr(&attrs, "product_id"), &source)?;
                        }
                        merge(line_attrs, attrs, &[]);
                    }
                }
                other => {
                    return Err(ClarusError::unprocessable(
                        915,
                        "invalid_change_type",
                        format!("Unknown change type {other}"),
                    )
                    .at(source));
                }
            }
        }
        Ok(lines)
    }
}
