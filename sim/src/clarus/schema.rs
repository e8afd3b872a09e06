//! Request-body validation against the request schemas of Clarus's OpenAPI file (by default the
//! project-owned subset `clarus-client/spec/clarus-requests.json`, derived from the vendor's
//! file by `clarus-client/tests/it/spec_files.rs`).
//!
//! The file is OpenAPI 3.0, whose schema dialect is JSON Schema draft 4 plus `nullable`. Before
//! compiling, every `nullable: true` schema `S` is rewritten to `anyOf: [{type: null}, S]`, so a
//! draft 4 validator accepts `null` where the file allows it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

use crate::SimError;

/// One validation failure: where in the body, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub pointer: String,
    pub message: String,
}

/// The operations the simulator serves that carry a JSON request body; only these are compiled.
pub(crate) const OPERATIONS: [&str; 15] = [
    "createProduct",
    "updateProduct",
    "createGoodsInReceipt",
    "updateGoodsInReceipt",
    "createGoodsOut",
    "updateGoodsOut",
    "processPicksAsync",
    "shortOrderLines",
    "createShipment",
    "holdStocks",
    "offholdStocks",
    "negativeAdjustmentStock",
    "createStockCheck",
    "createAutomation",
    "updateAutomation",
];

/// Compiled request-body validators, one per served operation.
pub(crate) struct RequestSchemas {
    validators: HashMap<String, Validator>,
}

impl RequestSchemas {
    /// Loads and compiles the file (cached per path for the life of the process).
    pub(crate) fn load(path: &Path) -> Result<Arc<RequestSchemas>, SimError> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<RequestSchemas>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(found) = crate::governance::lock_unpoisoned(cache).get(path) {
            return Ok(found.clone());
        }
        let error = |message: String| SimError::Spec {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let spec: Value = serde_json::from_str(&text).map_err(|e| error(e.to_string()))?;
        let mut components = spec.get("components").cloned().unwrap_or_else(|| json!({}));
        rewrite_nullable(&mut components);
        let mut validators = HashMap::new();
        for (_path, item) in spec
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (_method, operation) in item.as_object().into_iter().flatten() {
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                if !OPERATIONS.contains(&id) {
                    continue;
                }
                let Some(schema) =
                    operation.pointer("/requestBody/content/application~1json/schema")
                else {
                    continue;
                };
                let mut root = schema.clone();
                rewrite_nullable(&mut root);
                let mut document = Map::new();
                document.insert("allOf".into(), json!([root]));
                document.insert("components".into(), components.clone());
                let validator = jsonschema::options()
                    .with_draft(Draft::Draft4)
                    .build(&Value::Object(document))
                    .map_err(|e| error(format!("operation {id}: {e}")))?;
                validators.insert(id.to_string(), validator);
            }
        }
        if let Some(missing) = OPERATIONS.iter().find(|op| !validators.contains_key(**op)) {
            return Err(error(format!(
                "the file has no JSON request schema for operation {missing}"
            )));
        }
        let schemas = Arc::new(RequestSchemas { validators });
        crate::governance::lock_unpoisoned(cache).insert(path.to_path_buf(), schemas.clone());
        Ok(schemas)
    }

    /// Validates a body for an operation; answers every violation (empty when valid).
    pub(crate) fn validate(&self, operation_id: &str, body: &Value) -> Vec<Violation> {
        let Some(validator) = self.validators.get(operation_id) else {
            return vec![Violation {
                pointer: String::new(),
                message: format!("no request schema for operation {operation_id}"),
            }];
        };
        validator
            .iter_errors(body)
            .take(20)
            .map(|e| Violation {
                pointer: e.instance_path().to_string(),
                message: e.to_string(),
            })
            .collect()
    }

    /// Whether the file declares a request schema for this operation.
    pub(crate) fn has(&self, operation_id: &str) -> bool {
        self.validators.contains_key(operation_id)
    }
}

fn rewrite_nullable(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                rewrite_nullable(child);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                let inner = std::mem::take(map);
                map.insert(
                    "anyOf".into(),
                    json!([{"type": "null"}, Value::Object(inner)]),
                );
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_nullable),
        _ => {}
    }
}
