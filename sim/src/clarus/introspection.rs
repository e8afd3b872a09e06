//! GraphQL introspection of the active profile's type system:
//! `__schema { queryType { name } types { name kind fields { name type { name kind ofType { name
//! kind } } } inputFields { name type { … } } } }` and `__type(name: "GoodsOut") { … }` (`null`
//! for a name the profile does not have). Types carry `kind`, `name`, `description` (always
//! `null`), `fields` (objects), `inputFields` (input objects), `interfaces`, `enumValues`,
//! `possibleTypes` and `ofType`; fields carry `name`, `description`, `args`, `type`,
//! `isDeprecated` and `deprecationReason`. The meta types (`__Schema`, `__Type`, …) and
//! directives are not listed.

use serde_json::{Map, Value, json};

use super::parse::Field;
use super::types::{InputValue, Schema, Ty, TypeDef};

/// Answers a root `__schema` or `__type(name:)` field with its selection.
pub(crate) fn answer(schema: &Schema, field: &Field) -> Value {
    let value = match field.name.as_str() {
        "__schema" => json!({
            "__typename": "__Schema",
            "description": null,
            "queryType": type_json(schema, "Query"),
            "mutationType": null,
            "subscriptionType": null,
            "types": schema.types.keys().map(|name| type_json(schema, name)).collect::<Vec<_>>(),
            "directives": [],
        }),
        _ => match field.arg("name").and_then(Value::as_str) {
            Some(name) if schema.types.contains_key(name) => type_json(schema, name),
            _ => Value::Null,
        },
    };
    select(&value, &field.selections)
}

fn ty_json(schema: &Schema, ty: &Ty) -> Value {
    match ty {
        Ty::Named(name) => json!({
            "__typename": "__Type",
            "kind": schema.types.get(name).map(TypeDef::kind),
            "name": name,
            "ofType": null,
        }),
        Ty::List(inner) => {
            json!({"__typename": "__Type", "kind": "LIST", "name": null, "ofType": ty_json(schema, inner)})
        }
        Ty::NonNull(inner) => {
            json!({"__typename": "__Type", "kind": "NON_NULL", "name": null, "ofType": ty_json(schema, inner)})
        }
    }
}

fn input_json(schema: &Schema, input: &InputValue) -> Value {
    json!({
        "__typename": "__InputValue",
        "name": input.name,
        "description": null,
        "type": ty_json(schema, &input.ty),
        "defaultValue": null,
    })
}

fn type_json(schema: &Schema, name: &str) -> Value {
    let Some(def) = schema.types.get(name) else {
        return Value::Null;
    };
    let (fields, input_fields, interfaces) = match def {
        TypeDef::Object(fields) => {
            let fields: Vec<Value> = fields
                .iter()
                .map(|f| {
                    json!({
                        "__typename": "__Field",
                        "name": f.name,
                        "description": null,
                        "args": f.args.iter().map(|a| input_json(schema, a)).collect::<Vec<_>>(),
                        "type": ty_json(schema, &f.ty),
                        "isDeprecated": false,
                        "deprecationReason": null,
                    })
                })
                .collect();
            (Value::Array(fields), Value::Null, json!([]))
        }
        TypeDef::Input(inputs) => {
            let inputs: Vec<Value> = inputs.iter().map(|i| input_json(schema, i)).collect();
            (Value::Null, Value::Array(inputs), Value::Null)
        }
        TypeDef::Scalar => (Value::Null, Value::Null, Value::Null),
    };
    json!({
        "__typename": "__Type",
        "kind": def.kind(),
        "name": name,
        "description": null,
        "fields": fields,
        "inputFields": input_fields,
        "interfaces": interfaces,
        "enumValues": null,
        "possibleTypes": null,
        "ofType": null,
        "specifiedByURL": null,
    })
}

/// Keeps the selected keys (by response key); arrays element by element. A key the
/// introspection objects do not have answers `null`.
fn select(value: &Value, selections: &[Field]) -> Value {
    if selections.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| select(v, selections)).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for field in selections {
                let v = map.get(&field.name).unwrap_or(&Value::Null);
                out.insert(field.key().to_string(), select(v, &field.selections));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}
