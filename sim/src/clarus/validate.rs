//! Validation of a query against the documented profile's type system, answered with
//! graphql-ruby's static validation errors (HTTP 200, `errors` only, no `data`):
//!
//! - a field not offered: `Field 'updated_at' doesn't exist on type 'GoodsOut'`, code
//!   `undefinedField`, extensions `typeName` and `fieldName`;
//! - an argument not offered: `Field 'all' doesn't accept argument 'last'`, code
//!   `argumentNotAccepted`, extensions `name`, `typeName: "Field"`, `argumentName`;
//! - a filter not documented: `InputObject 'GoodsOutsFilterType' doesn't accept argument
//!   'updated_at'`, and an operator not documented for a filter: `InputObject 'StringInputType'
//!   doesn't accept argument 'gt'`, code `argumentNotAccepted`, `typeName: "InputObject"`. Filters
//!   are checked whether written in the query or passed as variables;
//! - an object without sub-selection or a scalar with one: code `selectionMismatch`;
//! - a variable not declared (`variableNotDefined`) or declared with another type than the
//!   argument's (`variableMismatch`).
//!
//! Every error carries `locations` (line and column of the field or argument) and `path`
//! (`["query", "goods_outs", "all", …]`, the operation first, then response keys).

use serde_json::{Map, Value, json};

use super::parse::{Arg, Document, Field, Pos};
use super::types::{InputValue, Schema, Ty, TypeDef};

/// The errors of `doc` against `schema`; empty when the query is valid.
pub(crate) fn validate(doc: &Document, schema: &Schema) -> Vec<Value> {
    let mut v = Validator {
        schema,
        doc,
        errors: Vec::new(),
    };
    let mut path = vec![doc.operation.clone()];
    v.selections("Query", &doc.fields, &mut path, None);
    v.errors
}

/// GraphQL's notation of a type reference, e.g. `[GoodsOutEdge!]`.
fn written(ty: &Ty) -> String {
    match ty {
        Ty::Named(n) => n.clone(),
        Ty::List(t) => format!("[{}]", written(t)),
        Ty::NonNull(t) => format!("{}!", written(t)),
    }
}

struct Validator<'a> {
    schema: &'a Schema,
    doc: &'a Document,
    errors: Vec<Value>,
}

impl Validator<'_> {
    fn error(&mut self, message: String, pos: Pos, path: &[String], extensions: Value) {
        self.errors.push(json!({
            "message": message,
            "locations": [pos.json()],
            "path": path,
            "extensions": extensions,
        }));
    }

    fn selections(
        &mut self,
        type_name: &str,
        fields: &[Field],
        path: &mut Vec<String>,
        root: Option<&str>,
    ) {
        for f in fields {
            path.push(f.key().to_string());
            self.field(type_name, f, path, root);
            path.pop();
        }
    }

    fn field(&mut self, type_name: &str, f: &Field, path: &mut Vec<String>, root: Option<&str>) {
        if f.name == "__typename" {
            self.leaf(f, "String!", path);
            return;
        }
        if type_name == "Query" && (f.name == "__schema" || f.name == "__type") {
            return;
        }
        let Some(def) = self.schema.field(type_name, &f.name) else {
            self.error(
                format!("Field '{}' doesn't exist on type '{type_name}'", f.name),
                f.pos,
                path,
                json!({"code": "undefinedField", "typeName": type_name, "fieldName": f.name}),
            );
            return;
        };
        let root = if type_name == "Query" {
            Some(f.name.as_str())
        } else {
            root
        };
        for arg in &f.args {
            match def.args.iter().find(|a| a.name == arg.name) {
                Some(declared) => self.argument(arg, declared, path, root),
                None => {
                    let mut at = path.clone();
                    at.push(arg.name.clone());
                    self.error(
                        format!("Field '{}' doesn't accept argument '{}'", f.name, arg.name),
                        arg.pos,
                        &at,
                        json!({"code": "argumentNotAccepted", "name": f.name, "typeName": "Field", "argumentName": arg.name}),
                    );
                }
            }
        }
        let returns = written(&def.ty);
        match self.schema.types.get(def.ty.base()) {
            Some(TypeDef::Object(_)) if f.selections.is_empty() => self.error(
                format!(
                    "Field must have selections (field '{}' returns {returns} but has no selections. Did you mean '{} {{ ... }}'?)",
                    f.name, f.name
                ),
                f.pos,
                path,
                json!({"code": "selectionMismatch", "nodeName": format!("field '{}'", f.name), "typeName": returns}),
            ),
            Some(TypeDef::Object(_)) => self.selections(def.ty.base(), &f.selections, path, root),
            _ => self.leaf(f, &returns, path),
        }
    }

    fn leaf(&mut self, f: &Field, returns: &str, path: &[String]) {
        if f.selections.is_empty() {
            return;
        }
        let names: Vec<&str> = f.selections.iter().map(|s| s.name.as_str()).collect();
        self.error(
            format!(
                "Selections can't be made on scalars (field '{}' returns {returns} but has selections [{}])",
                f.name,
                names.join(", ")
            ),
            f.pos,
            path,
            json!({"code": "selectionMismatch", "nodeName": format!("field '{}'", f.name), "typeName": returns}),
        );
    }

    fn argument(&mut self, arg: &Arg, declared: &InputValue, path: &[String], root: Option<&str>) {
        let mut at = path.to_vec();
        at.push(arg.name.clone());
        if let Some(variable) = &arg.variable {
            let definition = self.doc.variables.iter().find(|d| &d.name == variable);
            match definition {
                None => {
                    let operation = if self.doc.operation == "query" {
                        "anonymous query".to_string()
                    } else {
                        self.doc.operation.clone()
                    };
                    self.error(
                        format!("Variable ${variable} is used by {operation} but not declared"),
                        arg.pos,
                        &at,
                        json!({"code": "variableNotDefined", "variableName": variable}),
                    );
                    return;
                }
                Some(d) if d.base() != declared.ty.base() => {
                    self.error(
                        format!(
                            "Type mismatch on variable ${variable} and argument {} ({} / {})",
                            arg.name,
                            d.written,
                            written(&declared.ty)
                        ),
                        arg.pos,
                        &at,
                        json!({"code": "variableMismatch", "variableName": variable, "typeName": d.written, "argumentName": arg.name, "errorMessage": "Type mismatch"}),
                    );
                    return;
                }
                Some(_) => {}
            }
        }
        let Some(root) = root.and_then(|r| self.schema.roots.get(r)) else {
            return;
        };
        if declared.ty.base() != root.filter_type {
            return;
        }
        let filters = match &arg.value {
            Value::Null => return,
            Value::Object(filters) => filters,
            other => {
                self.error(
                    format!(
                        "Argument '{}' on Field 'all' has an invalid value ({other}). Expected type '{}'.",
                        arg.name, root.filter_type
                    ),
                    arg.pos,
                    &at,
                    json!({"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": arg.name}),
                );
                return;
            }
        };
        for (name, operators) in filters {
            let mut filter_at = at.clone();
            filter_at.push(name.clone());
            let Some(filter) = root.filters.get(name) else {
                self.not_accepted(&root.filter_type, name, arg.pos, &filter_at);
                continue;
            };
            let empty = Map::new();
            for operator in operators.as_object().unwrap_or(&empty).keys() {
                if !filter.operators.contains(operator) {
                    let mut op_at = filter_at.clone();
                    op_at.push(operator.clone());
                    self.not_accepted(&filter.input_type, operator, arg.pos, &op_at);
                }
            }
        }
    }

    fn not_accepted(&mut self, input_type: &str, name: &str, pos: Pos, path: &[String]) {
        self.error(
            format!("InputObject '{input_type}' doesn't accept argument '{name}'"),
            pos,
            path,
            json!({"code": "argumentNotAccepted", "name": input_type, "typeName": "InputObject", "argumentName": name}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::graphql::GraphqlProfile;
    use super::super::parse::parse;
    use super::super::types::schema;
    use super::*;

    fn errors(query: &str, variables: Value) -> Vec<Value> {
        let doc = parse(query, variables.as_object().unwrap()).unwrap();
        validate(&doc, schema(GraphqlProfile::Documented))
    }

    #[test]
    fn documented_queries_pass() {
        let q = "query($filter: GoodsOutsFilterType, $first: Int, $after: String) { goods_outs { all(filter: $filter, first: $first, after: $after) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { __typename id reference goods_out_status { code name } account { id code } } } } } }";
        assert_eq!(
            errors(q, json!({"filter": {"reference": {"in": ["A", "B"]}}})),
            Vec::<Value>::new()
        );
    }

    #[test]
    fn undocumented_fields_arguments_filters_and_operators_are_refused() {
        let e = errors(
            "{ goods_outs { all(last: 2) { nodes { id } edges { node { updated_at account goods_out_status { code } reference { x } } } } } }",
            json!({}),
        );
        let codes: Vec<&str> = e
            .iter()
            .map(|e| e["extensions"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "argumentNotAccepted",
                "undefinedField",
                "undefinedField",
                "selectionMismatch",
                "selectionMismatch"
            ],
            "{e:#?}"
        );
        assert_eq!(
            e[2]["message"],
            "Field 'updated_at' doesn't exist on type 'GoodsOut'"
        );
        assert_eq!(
            e[2]["path"],
            json!(["query", "goods_outs", "all", "edges", "node", "updated_at"])
        );
        assert_eq!(e[2]["locations"], json!([{"line": 1, "column": 59}]));
        let e = errors(
            "query Q($f: GoodsOutsFilterType) { goods_outs { all(filter: $f) { edges { node { id } } } } }",
            json!({"f": {"updated_at": {"from": "2026-01-01"}, "reference": {"gt": "A"}}}),
        );
        assert_eq!(
            e[0]["message"],
            "InputObject 'StringInputType' doesn't accept argument 'gt'"
        );
        assert_eq!(
            e[1]["message"],
            "InputObject 'GoodsOutsFilterType' doesn't accept argument 'updated_at'"
        );
        assert_eq!(
            e[1]["path"],
            json!(["query Q", "goods_outs", "all", "filter", "updated_at"])
        );
        let e = errors(
            "query($f: StockFilterType) { goods_outs { all(filter: $f) { edges { node { id } } } } }",
            json!({}),
        );
        assert_eq!(e[0]["extensions"]["code"], "variableMismatch");
    }
}
