//! The GraphQL type system the simulator offers in each [`GraphqlProfile`], used to validate
//! queries (documented profile), to answer introspection and to name `__typename`s.
//!
//! Per served root `r` with node type `N` (see `clarus-client/spec/clarus-graphql.json` for the
//! naming rule): `Query.r: RQuery` (`RQuery` the plural CamelCase of the root plus `Query`, e.g.
//! `GoodsOutsQuery`), `RQuery.all(filter: <FilterType>, first: Int, after: String, …):
//! NConnection!`, `NConnection { pageInfo: PageInfo!, edges: [NEdge!] }` (the extended profile
//! adds `nodes: [N!]`, `totalCount: Int` and `count: Int`), `NEdge { cursor: String!, node: N }`,
//! then `N` and its nested object types, the filter input type and the operator input types
//! (`StringInputType { eq ilike like in between }`, …).
//!
//! Clarus documents no scalar types; the simulator names them from the field: `ID` for `id` and
//! `*_id`, the scalar of a same-named documented filter (`IdInputType` → `ID`,
//! `IntegerInputType` → `Int`, `DecimalInputType` → `Float`, `DatetimeInputType` →
//! `ISO8601DateTime`, `BooleanInputType` → `Boolean`), `ISO8601DateTime` for `*_at`, `*date*`
//! and `*datetime`, `Float` for quantities, `Int` for `priority` and counts, `Boolean` for `is_*`,
//! `enabled` and `active`, and `String` otherwise.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::documented::{DocField, documented, nested_type_name, plural_type_name};
use super::graphql::GraphqlProfile;
use super::nodes::SERVED;

/// A type reference: a named type inside list and non-null wrappers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    Named(String),
    List(Box<Ty>),
    NonNull(Box<Ty>),
}

impl Ty {
    fn named(name: &str) -> Ty {
        Ty::Named(name.to_string())
    }

    fn non_null(self) -> Ty {
        Ty::NonNull(Box::new(self))
    }

    fn list(self) -> Ty {
        Ty::List(Box::new(self))
    }

    /// The named type inside the wrappers.
    pub(crate) fn base(&self) -> &str {
        match self {
            Ty::Named(n) => n,
            Ty::List(t) | Ty::NonNull(t) => t.base(),
        }
    }
}

/// An argument or input field.
#[derive(Debug, Clone)]
pub(crate) struct InputValue {
    pub name: String,
    pub ty: Ty,
}

/// A field of an object type.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub ty: Ty,
    pub args: Vec<InputValue>,
}

/// A named type.
#[derive(Debug, Clone)]
pub(crate) enum TypeDef {
    Object(Vec<FieldDef>),
    Input(Vec<InputValue>),
    Scalar,
}

impl TypeDef {
    /// The introspection `kind`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            TypeDef::Object(_) => "OBJECT",
            TypeDef::Input(_) => "INPUT_OBJECT",
            TypeDef::Scalar => "SCALAR",
        }
    }
}

/// A filter a root accepts in the profile: its input type and operators.
#[derive(Debug, Clone)]
pub(crate) struct FilterDef {
    pub input_type: String,
    pub operators: Vec<String>,
}

/// A root served in the profile.
#[derive(Debug, Clone)]
pub(crate) struct RootDef {
    pub node_type: String,
    pub filter_type: String,
    pub filters: BTreeMap<String, FilterDef>,
}

/// Every type of a profile, and its roots.
#[derive(Debug)]
pub(crate) struct Schema {
    pub types: BTreeMap<String, TypeDef>,
    pub roots: BTreeMap<String, RootDef>,
}

impl Schema {
    /// A field of an object type.
    pub(crate) fn field(&self, type_name: &str, field: &str) -> Option<&FieldDef> {
        match self.types.get(type_name) {
            Some(TypeDef::Object(fields)) => fields.iter().find(|f| f.name == field),
            _ => None,
        }
    }

    /// The type an object field of `parent` returns (its named type), or the naming rule's
    /// name when the profile does not list the field.
    pub(crate) fn field_type(&self, parent: &str, field: &str) -> String {
        self.field(parent, field)
            .map(|f| f.ty.base().to_string())
            .unwrap_or_else(|| nested_type_name(parent, field))
    }
}

/// The type system of a profile (built once).
pub(crate) fn schema(profile: GraphqlProfile) -> &'static Schema {
    static DOCUMENTED: OnceLock<Schema> = OnceLock::new();
    static EXTENDED: OnceLock<Schema> = OnceLock::new();
    match profile {
        GraphqlProfile::Documented => DOCUMENTED.get_or_init(|| build(false)),
        GraphqlProfile::Extended => EXTENDED.get_or_init(|| build(true)),
    }
}

/// A node field tree: documented fields, with the extras merged in for the extended profile.
#[derive(Debug, Clone)]
struct Tree {
    name: String,
    type_name: Option<String>,
    list: bool,
    children: Vec<Tree>,
}

fn from_doc(field: &DocField) -> Tree {
    Tree {
        name: field.name.clone(),
        type_name: field.type_name.clone(),
        list: false,
        children: field.fields.iter().map(from_doc).collect(),
    }
}

/// Parses an extras selection (`name`, `name { … }`, `name[] { … }`) into `into`, naming new
/// object types after `parent`.
fn merge_extras(
    into: &mut Vec<Tree>,
    parent: &str,
    words: &mut std::iter::Peekable<std::vec::IntoIter<String>>,
) {
    while let Some(word) = words.next() {
        if word == "}" {
            return;
        }
        let (name, list) = match word.strip_suffix("[]") {
            Some(name) => (name.to_string(), true),
            None => (word, false),
        };
        let index = match into.iter().position(|t| t.name == name) {
            Some(i) => i,
            None => {
                into.push(Tree {
                    name: name.clone(),
                    type_name: None,
                    list,
                    children: Vec::new(),
                });
                into.len() - 1
            }
        };
        if words.peek().map(String::as_str) == Some("{") {
            words.next();
            let tree = &mut into[index];
            let type_name = tree
                .type_name
                .get_or_insert_with(|| nested_type_name(parent, &name))
                .clone();
            merge_extras(&mut tree.children, &type_name, words);
        }
    }
}

fn words(selection: &str) -> std::iter::Peekable<std::vec::IntoIter<String>> {
    selection
        .replace('{', " { ")
        .replace('}', " } ")
        .split_whitespace()
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
        .peekable()
}

const SCALARS: [&str; 6] = ["ID", "String", "Int", "Float", "Boolean", "ISO8601DateTime"];

fn input_scalar(input_type: &str) -> &'static str {
    match input_type {
        "IdInputType" => "ID",
        "IntegerInputType" => "Int",
        "DecimalInputType" => "Float",
        "DatetimeInputType" => "ISO8601DateTime",
        "BooleanInputType" => "Boolean",
        _ => "String",
    }
}

fn leaf_scalar(name: &str, filters: &BTreeMap<String, FilterDef>) -> &'static str {
    const QUANTITIES: [&str; 7] = [
        "available",
        "allocated",
        "ordered",
        "received",
        "picked",
        "held",
        "on_hand",
    ];
    if name == "id" || name.ends_with("_id") {
        "ID"
    } else if let Some(filter) = filters.get(name) {
        input_scalar(&filter.input_type)
    } else if name.ends_with("_at") || name.contains("date") {
        "ISO8601DateTime"
    } else if name.contains("quantity") || QUANTITIES.contains(&name) {
        "Float"
    } else if name == "priority" || name.ends_with("_count") {
        "Int"
    } else if name.starts_with("is_") || name == "enabled" || name == "active" {
        "Boolean"
    } else {
        "String"
    }
}

/// The input type and the operators of a filter the documentation does not list.
fn guessed_filter(name: &str) -> FilterDef {
    let input_type = if name == "id" || name.ends_with("_id") {
        "IdInputType"
    } else if name.ends_with("_at") || name.contains("date") {
        "DatetimeInputType"
    } else if name.contains("quantity") || ["available", "allocated", "picked"].contains(&name) {
        "DecimalInputType"
    } else if name == "enabled" {
        "BooleanInputType"
    } else {
        "StringInputType"
    };
    FilterDef {
        input_type: input_type.to_string(),
        operators: standard_operators(input_type),
    }
}

/// The operators Clarus's "Filter Operators" table gives each input type.
fn standard_operators(input_type: &str) -> Vec<String> {
    let ops: &[&str] = match input_type {
        "IdInputType" => &["eq", "gt", "gteq", "lt", "lteq", "in", "filled"],
        "IntegerInputType" | "DecimalInputType" => &["eq", "gt", "gteq", "lt", "lteq", "between"],
        "DatetimeInputType" => &["eq", "from", "to", "between"],
        "BooleanInputType" => &["eq"],
        _ => &["eq", "ilike", "like", "in", "between"],
    };
    ops.iter().map(|s| s.to_string()).collect()
}

fn add_objects(
    types: &mut BTreeMap<String, TypeDef>,
    type_name: &str,
    trees: &[Tree],
    filters: &BTreeMap<String, FilterDef>,
) {
    let mut fields = Vec::new();
    for tree in trees {
        let ty = match &tree.type_name {
            Some(object) => {
                add_objects(types, object, &tree.children, &BTreeMap::new());
                Ty::named(object)
            }
            None => Ty::named(leaf_scalar(&tree.name, filters)),
        };
        let ty = if tree.name == "id" { ty.non_null() } else { ty };
        fields.push(FieldDef {
            name: tree.name.clone(),
            ty: if tree.list { ty.non_null().list() } else { ty },
            args: Vec::new(),
        });
    }
    types.insert(type_name.to_string(), TypeDef::Object(fields));
}

fn field(name: &str, ty: Ty) -> FieldDef {
    FieldDef {
        name: name.to_string(),
        ty,
        args: Vec::new(),
    }
}

fn input(name: &str, ty: Ty) -> InputValue {
    InputValue {
        name: name.to_string(),
        ty,
    }
}

fn build(extended: bool) -> Schema {
    let doc = documented();
    let mut types: BTreeMap<String, TypeDef> = BTreeMap::new();
    let mut roots = BTreeMap::new();
    let mut query = Vec::new();
    let mut operators: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for served in &SERVED {
        let Some(documented) = doc.roots.get(served.root) else {
            continue;
        };
        let node = documented.type_name.clone();
        let mut filters: BTreeMap<String, FilterDef> = documented
            .filters
            .iter()
            .map(|(name, f)| {
                let def = FilterDef {
                    input_type: f.input_type.clone(),
                    operators: f.operators.clone(),
                };
                (name.clone(), def)
            })
            .collect();
        let mut trees: Vec<Tree> = documented.fields.iter().map(from_doc).collect();
        if extended {
            for name in served.filters {
                filters
                    .entry(name.to_string())
                    .or_insert_with(|| guessed_filter(name));
            }
            merge_extras(&mut trees, &node, &mut words(served.extras));
        }
        add_objects(&mut types, &node, &trees, &filters);
        for filter in filters.values() {
            let known = operators.entry(filter.input_type.clone()).or_default();
            for op in &filter.operators {
                if !known.contains(op) {
                    known.push(op.clone());
                }
            }
        }
        let filter_fields = filters
            .iter()
            .map(|(name, f)| input(name, Ty::named(&f.input_type)))
            .collect();
        types.insert(
            documented.filter_type.clone(),
            TypeDef::Input(filter_fields),
        );
        let edge = format!("{node}Edge");
        types.insert(
            edge.clone(),
            TypeDef::Object(vec![
                field("cursor", Ty::named("String").non_null()),
                field("node", Ty::named(&node)),
            ]),
        );
        let connection = format!("{node}Connection");
        let mut connection_fields = vec![
            field("pageInfo", Ty::named("PageInfo").non_null()),
            field("edges", Ty::named(&edge).non_null().list()),
        ];
        if extended {
            connection_fields.push(field("nodes", Ty::named(&node).non_null().list()));
            connection_fields.push(field("totalCount", Ty::named("Int")));
            connection_fields.push(field("count", Ty::named("Int")));
        }
        types.insert(connection.clone(), TypeDef::Object(connection_fields));
        let mut args: Vec<InputValue> = documented
            .arguments
            .iter()
            .map(|(name, ty)| input(name, Ty::named(ty)))
            .collect();
        args.push(input("first", Ty::named("Int")));
        args.push(input("after", Ty::named("String")));
        let root_type = format!("{}Query", plural_type_name(served.root));
        types.insert(
            root_type.clone(),
            TypeDef::Object(vec![FieldDef {
                name: "all".into(),
                ty: Ty::named(&connection).non_null(),
                args,
            }]),
        );
        query.push(field(served.root, Ty::named(&root_type)));
        roots.insert(
            served.root.to_string(),
            RootDef {
                node_type: node,
                filter_type: documented.filter_type.clone(),
                filters,
            },
        );
    }
    for (input_type, ops) in operators {
        let scalar = input_scalar(&input_type);
        let fields = ops
            .iter()
            .map(|op| {
                let ty = match op.as_str() {
                    "in" | "between" => Ty::named(scalar).non_null().list(),
                    "filled" => Ty::named("Boolean"),
                    _ => Ty::named(scalar),
                };
                input(op, ty)
            })
            .collect();
        types.insert(input_type, TypeDef::Input(fields));
    }
    types.insert(
        "PageInfo".into(),
        TypeDef::Object(vec![
            field("hasNextPage", Ty::named("Boolean").non_null()),
            field("hasPreviousPage", Ty::named("Boolean").non_null()),
            field("startCursor", Ty::named("String")),
            field("endCursor", Ty::named("String")),
        ]),
    );
    types.insert("Query".into(), TypeDef::Object(query));
    for scalar in SCALARS {
        types.insert(scalar.into(), TypeDef::Scalar);
    }
    Schema { types, roots }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_profile_offers_only_the_documentation() {
        let s = schema(GraphqlProfile::Documented);
        assert!(s.field("GoodsOut", "reference").is_some());
        assert!(s.field("GoodsOut", "updated_at").is_none());
        assert!(s.field("GoodsOutAccount", "name").is_none());
        assert_eq!(
            s.field_type("GoodsOut", "goods_out_status"),
            "GoodsOutStatus"
        );
        assert!(s.field("GoodsOutConnection", "nodes").is_none());
        assert!(!s.roots["goods_outs"].filters.contains_key("id"));
        assert_eq!(
            s.field("Query", "goods_outs").unwrap().ty.base(),
            "GoodsOutsQuery"
        );
        let all = s.field("TransactionsQuery", "all").unwrap();
        let args: Vec<&str> = all.args.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(args, ["filter", "include_archived", "first", "after"]);
        assert!(s.field("Query", "accounts").is_none(), "only served roots");
    }

    #[test]
    fn the_extended_profile_adds_what_the_simulator_serves() {
        let s = schema(GraphqlProfile::Extended);
        assert!(s.field("GoodsOut", "reference").is_some());
        assert_eq!(
            s.field("GoodsOut", "updated_at").unwrap().ty.base(),
            "ISO8601DateTime"
        );
        assert!(s.field("GoodsOutAccount", "name").is_some());
        let lines = s.field("GoodsInReceipt", "lines").unwrap();
        assert_eq!(lines.ty, Ty::named("GoodsInReceiptLines").non_null().list());
        assert!(s.field("GoodsInReceiptLinesProduct", "code").is_some());
        assert!(s.roots["goods_outs"].filters.contains_key("updated_at"));
        assert!(s.field("GoodsOutConnection", "totalCount").is_some());
    }
}
