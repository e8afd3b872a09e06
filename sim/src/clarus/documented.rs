//! What Clarus documents per GraphQL list root: `clarus-client/spec/clarus-graphql.json`, derived
//! from the vendor's OpenAPI file by `clarus-client/tests/it/spec_files.rs` and compiled in here (the
//! simulator does not depend on `clarus-client`; these are its own small structs).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

const DOCUMENTED_JSON: &str = include_str!("../../../clarus-client/spec/clarus-graphql.json");

/// A documented list root.
#[derive(Debug, Clone)]
pub(crate) struct DocRoot {
    /// The node type, e.g. `GoodsOut`.
    pub type_name: String,
    /// The filter input type, e.g. `GoodsOutsFilterType`.
    pub filter_type: String,
    /// Documented arguments of `all` besides paging: `filter`, and e.g. `include_archived`.
    pub arguments: BTreeMap<String, String>,
    /// The documented node fields.
    pub fields: Vec<DocField>,
    /// The documented filters by name.
    pub filters: BTreeMap<String, DocFilter>,
}

/// A documented field; `type_name` is set for objects.
#[derive(Debug, Clone)]
pub(crate) struct DocField {
    pub name: String,
    pub type_name: Option<String>,
    pub fields: Vec<DocField>,
}

/// A documented filter.
#[derive(Debug, Clone)]
pub(crate) struct DocFilter {
    pub input_type: String,
    pub operators: Vec<String>,
}

/// The documented roots by name.
pub(crate) struct Documented {
    pub roots: BTreeMap<String, DocRoot>,
    /// Every root's node type name, for naming nested types without clashes.
    pub node_types: BTreeSet<String>,
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_string()
}

/// The documented fields listed under `fields`.
fn fields(value: &Value) -> Vec<DocField> {
    value["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(field)
        .collect()
}

fn field(value: &Value) -> DocField {
    DocField {
        name: text(value, "name"),
        type_name: value["type_name"].as_str().map(str::to_string),
        fields: fields(value),
    }
}

fn root(value: &Value) -> DocRoot {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    DocRoot {
        type_name: text(value, "type_name"),
        filter_type: text(value, "filter_type"),
        arguments: value["arguments"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        fields: fields(value),
        filters: value["filters"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let filter = DocFilter {
                    input_type: text(v, "input_type"),
                    operators: strings(&v["operators"]),
                };
                (k.clone(), filter)
            })
            .collect(),
    }
}

/// The documentation, parsed once.
pub(crate) fn documented() -> &'static Documented {
    static DOCUMENTED: OnceLock<Documented> = OnceLock::new();
    DOCUMENTED.get_or_init(|| {
        let value: Value = serde_json::from_str(DOCUMENTED_JSON)
            .expect("clarus-client/spec/clarus-graphql.json is JSON");
        let roots: BTreeMap<String, DocRoot> = value["roots"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, r)| (name.clone(), root(r)))
            .collect();
        let node_types = roots.values().map(|r| r.type_name.clone()).collect();
        Documented { roots, node_types }
    })
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The type of an object field the documentation does not name, by the documentation's rule:
/// the parent's type followed by the CamelCase of the field, without repeating the parent's name
/// when the field already starts with it, unless that would name a root's node type.
pub(crate) fn nested_type_name(parent: &str, field: &str) -> String {
    let field = camel(field);
    if field.starts_with(parent) && !documented().node_types.contains(&field) {
        field
    } else {
        format!("{parent}{field}")
    }
}

/// `goods_outs` → `GoodsOuts`, the plural CamelCase used for a root's query type.
pub(crate) fn plural_type_name(root: &str) -> String {
    camel(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documentation_is_loaded() {
        let doc = documented();
        assert_eq!(doc.roots.len(), 70);
        let goods_outs = &doc.roots["goods_outs"];
        assert_eq!(goods_outs.type_name, "GoodsOut");
        assert_eq!(goods_outs.filter_type, "GoodsOutsFilterType");
        assert!(
            goods_outs.filters["reference"]
                .operators
                .contains(&"in".to_string())
        );
        let status = goods_outs
            .fields
            .iter()
            .find(|f| f.name == "goods_out_status")
            .unwrap();
        assert_eq!(status.type_name.as_deref(), Some("GoodsOutStatus"));
        assert_eq!(
            doc.roots["transactions"].arguments["include_archived"],
            "Boolean"
        );
        assert_eq!(nested_type_name("Stock", "warehouse"), "StockWarehouse");
        assert_eq!(
            nested_type_name("Report", "report_query"),
            "ReportReportQuery"
        );
    }
}
