//! The GraphQL list roots exactly as Clarus documents them, to check queries against.
//!
//! Clarus publishes its GraphQL per list root only as markdown in its OpenAPI file: a "Query
//! Structure" block (the node fields) and an "Available Filters" table (filter, input type,
//! operators), adding that more fields and filters are "available via GraphQL introspection".
//! A tenant may serve more, but only the documented part is promised. This module carries that
//! documentation (`spec/clarus-graphql.json`, derived from the full spec by
//! `tests/it/spec_files.rs` and compiled into the crate) and checks selections and filters against
//! it.
//!
//! Type names: a root's node type is the singular CamelCase of the root (`goods_outs` →
//! `GoodsOut`, `goods_in_receipts` → `GoodsInReceipt`, `stocks` → `Stock`); a nested object's
//! type is its parent's type followed by the CamelCase of the field, without repeating the
//! parent's name when the field already starts with it unless that would name a root's node type
//! (`goods_out_status` on `GoodsOut` → `GoodsOutStatus`, `account` on `GoodsOut` →
//! `GoodsOutAccount`).
//!
//! ```
//! use clarus_client::graphql::Filter;
//! use clarus_client::graphql::documented::{DocumentedSchema, Undocumented};
//!
//! let goods_outs = DocumentedSchema::get().root("goods_outs").expect("a documented root");
//! assert_eq!(goods_outs.type_name, "GoodsOut");
//! assert_eq!(goods_outs.filter_type, "GoodsOutsFilterType");
//!
//! goods_outs.check_selection("id reference goods_out_status { code name } warehouse { id }")?;
//! let err = goods_outs.check_selection("id updated_at").unwrap_err();
//! assert!(matches!(&err, Undocumented::Field { path, .. } if path == &["updated_at"]));
//! assert_eq!(
//!     err.to_string(),
//!     "field `updated_at` is not documented on type `GoodsOut` (root `goods_outs`)"
//! );
//!
//! goods_outs.check_filter("reference", "in")?;
//! assert!(goods_outs.check_filter("updated_at", "from").is_err());
//! assert!(goods_outs.check_filters(&Filter::new().eq("external_system_reference1", "SO-1")).is_err());
//! # Ok::<(), Undocumented>(())
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use super::filter::Filter;

/// The documentation file, as committed.
const DOCUMENTED_JSON: &str = include_str!("../../spec/clarus-graphql.json");

/// Arguments of `all` that every root takes for Relay paging, documented once for all roots.
pub const PAGING_ARGUMENTS: [&str; 2] = ["first", "after"];

/// Every documented GraphQL list root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DocumentedSchema {
    /// Which spec file and version the documentation was derived from.
    pub source: DocumentedSource,
    /// The roots by name (`goods_outs`, `stocks`, …).
    pub roots: BTreeMap<String, DocumentedRoot>,
    /// Examples elsewhere in the spec that read a root in another argument style than
    /// `root { all(filter: …) }` (for instance `accounts { all(code: $code) }`).
    pub other_styles: Vec<OtherStyle>,
}

/// The spec file the documentation was derived from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DocumentedSource {
    /// Its path beside the repository, `shared/specs/clarus-api.json`.
    pub file: String,
    /// Its OpenAPI version.
    pub openapi: String,
    /// Its `info.version`.
    pub version: String,
}

/// An example that reads a root in another argument style than the Query Structure blocks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OtherStyle {
    /// The root, in snake case (`pick_processing_requests` for `pickProcessingRequests`).
    pub root: String,
    /// The text as written, up to the closing parenthesis of its arguments.
    pub written: String,
    /// JSON pointer of the string holding it in the full spec.
    pub at: String,
}

/// One documented list root: `<root> { all(filter: <filter_type>) { edges { node { … } } } }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DocumentedRoot {
    /// The root field, e.g. `goods_outs`.
    pub root: String,
    /// The spec's operation id, e.g. `listGoodsOuts`.
    pub operation_id: String,
    /// The spec's path, e.g. `/graphql#ListGoodsOuts`.
    pub path: String,
    /// The node type, e.g. `GoodsOut` (named by the rule in the module documentation).
    pub type_name: String,
    /// The filter input type, from the block's `query($filter: …)`, e.g. `GoodsOutsFilterType`.
    pub filter_type: String,
    /// Documented arguments of `all` with their types: `filter` from the block, and any the text
    /// adds (`include_archived: Boolean` on `transactions`). Paging takes
    /// [`PAGING_ARGUMENTS`] as well.
    pub arguments: BTreeMap<String, String>,
    /// The documented node fields, in the block's order.
    pub fields: Vec<DocumentedField>,
    /// The documented filters by name.
    pub filters: BTreeMap<String, DocumentedFilter>,
}

/// A documented node field: a leaf, or an object with its documented sub-fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DocumentedField {
    /// The field name.
    pub name: String,
    /// The object type of an object field, e.g. `GoodsOutStatus`; `None` for a leaf.
    #[serde(default)]
    pub type_name: Option<String>,
    /// The documented sub-fields of an object field; empty for a leaf.
    #[serde(default)]
    pub fields: Vec<DocumentedField>,
}

/// A documented filter: its input type and the operators the table lists for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DocumentedFilter {
    /// The input type, e.g. `StringInputType`, `IdInputType`, `StatusCodeInputType`.
    pub input_type: String,
    /// The operators, in the table's order, e.g. `eq`, `ilike`, `like`, `in`, `between`.
    pub operators: Vec<String>,
    /// The table's description.
    pub description: String,
}

/// A query part the documentation does not promise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Undocumented {
    /// A field not documented on its type.
    #[error("field `{}` is not documented on type `{type_name}` (root `{root}`)", path.join("."))]
    Field {
        /// The root.
        root: String,
        /// The type the field was looked up on.
        type_name: String,
        /// The field's path from the node, e.g. `["goods_out_status", "label"]`.
        path: Vec<String>,
    },
    /// An object field selected without sub-fields.
    #[error("field `{}` of type `{type_name}` (root `{root}`) is an object and needs a selection of its fields", path.join("."))]
    MissingSelection {
        /// The root.
        root: String,
        /// The object's type.
        type_name: String,
        /// The field's path from the node.
        path: Vec<String>,
    },
    /// A leaf field given sub-fields.
    #[error("field `{}` (root `{root}`) is documented as a leaf and takes no selection", path.join("."))]
    LeafSelection {
        /// The root.
        root: String,
        /// The type holding the leaf.
        type_name: String,
        /// The field's path from the node.
        path: Vec<String>,
    },
    /// A filter not documented for the root.
    #[error("filter `{filter}` is not documented on `{filter_type}` (root `{root}`)")]
    Filter {
        /// The root.
        root: String,
        /// The root's filter input type.
        filter_type: String,
        /// The filter.
        filter: String,
    },
    /// An operator not documented for a documented filter.
    #[error(
        "operator `{operator}` is not documented for filter `{filter}` ({input_type}, root `{root}`)"
    )]
    Operator {
        /// The root.
        root: String,
        /// The filter.
        filter: String,
        /// The filter's input type.
        input_type: String,
        /// The operator.
        operator: String,
    },
    /// An argument of `all` that is not documented.
    #[error("argument `{argument}` of `all` is not documented (root `{root}`)")]
    Argument {
        /// The root.
        root: String,
        /// The argument.
        argument: String,
    },
    /// A selection or filter that cannot be read.
    #[error("cannot read the {what} for root `{root}`: {message}")]
    Syntax {
        /// The root.
        root: String,
        /// `selection` or `filter`.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl DocumentedSchema {
    /// The documentation compiled into the crate (parsed once).
    pub fn get() -> &'static DocumentedSchema {
        static SCHEMA: OnceLock<DocumentedSchema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            serde_json::from_str(DOCUMENTED_JSON)
                .expect("spec/clarus-graphql.json is the documented GraphQL")
        })
    }

    /// A root by name, e.g. `goods_outs`.
    pub fn root(&self, name: &str) -> Option<&DocumentedRoot> {
        self.roots.get(name)
    }

    /// The root whose node type is `type_name`, e.g. `GoodsOut` → `goods_outs`.
    pub fn root_of_type(&self, type_name: &str) -> Option<&DocumentedRoot> {
        self.roots.values().find(|r| r.type_name == type_name)
    }
}

impl DocumentedField {
    /// Whether the field is an object (has documented sub-fields).
    pub fn is_object(&self) -> bool {
        !self.fields.is_empty()
    }

    /// A documented sub-field by name.
    pub fn field(&self, name: &str) -> Option<&DocumentedField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl DocumentedFilter {
    /// Whether the table lists `operator` for this filter.
    pub fn accepts(&self, operator: &str) -> bool {
        self.operators.iter().any(|o| o == operator)
    }
}

impl DocumentedRoot {
    /// A documented node field by name.
    pub fn field(&self, name: &str) -> Option<&DocumentedField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether `all` documents this argument: `filter`, the paging arguments `first` and
    /// `after`, and the extras the text names (`include_archived` on `transactions`).
    pub fn accepts_argument(&self, name: &str) -> bool {
        self.arguments.contains_key(name) || PAGING_ARGUMENTS.contains(&name)
    }

    /// Checks an argument of `all`.
    pub fn check_argument(&self, name: &str) -> Result<(), Undocumented> {
        if self.accepts_argument(name) {
            Ok(())
        } else {
            Err(Undocumented::Argument {
                root: self.root.clone(),
                argument: name.to_owned(),
            })
        }
    }

    /// Checks a node selection, e.g. `"id reference goods_out_status { code name }"`, and answers
    /// the first field the documentation does not promise. `__typename` is allowed anywhere;
    /// aliases (`alias: field`) are read; arguments on node fields are not documented anywhere
    /// and are refused as syntax.
    pub fn check_selection(&self, selection: &str) -> Result<(), Undocumented> {
        let syntax = |message: String| Undocumented::Syntax {
            root: self.root.clone(),
            what: "selection",
            message,
        };
        let tokens = tokenize(selection).map_err(syntax)?;
        let mut pos = 0;
        let fields = parse_selection(&tokens, &mut pos).map_err(syntax)?;
        if pos != tokens.len() {
            return Err(syntax("unbalanced `}`".into()));
        }
        self.check_fields(&fields, &self.fields, &self.type_name, &mut Vec::new())
    }

    fn check_fields(
        &self,
        selected: &[Selected],
        documented: &[DocumentedField],
        type_name: &str,
        path: &mut Vec<String>,
    ) -> Result<(), Undocumented> {
        for field in selected {
            if field.name == "__typename" && field.children.is_none() {
                continue;
            }
            path.push(field.name.clone());
            let Some(doc) = documented.iter().find(|d| d.name == field.name) else {
                return Err(Undocumented::Field {
                    root: self.root.clone(),
                    type_name: type_name.to_owned(),
                    path: path.clone(),
                });
            };
            match (&field.children, &doc.type_name) {
                (Some(children), Some(object)) => {
                    self.check_fields(children, &doc.fields, object, path)?
                }
                (None, Some(object)) => {
                    return Err(Undocumented::MissingSelection {
                        root: self.root.clone(),
                        type_name: object.clone(),
                        path: path.clone(),
                    });
                }
                (Some(_), None) => {
                    return Err(Undocumented::LeafSelection {
                        root: self.root.clone(),
                        type_name: type_name.to_owned(),
                        path: path.clone(),
                    });
                }
                (None, None) => {}
            }
            path.pop();
        }
        Ok(())
    }

    /// Checks one filter and operator, e.g. `("reference", "in")`.
    pub fn check_filter(&self, filter: &str, operator: &str) -> Result<(), Undocumented> {
        let doc = self.documented_filter(filter)?;
        if doc.accepts(operator) {
            Ok(())
        } else {
            Err(Undocumented::Operator {
                root: self.root.clone(),
                filter: filter.to_owned(),
                input_type: doc.input_type.clone(),
                operator: operator.to_owned(),
            })
        }
    }

    fn documented_filter(&self, filter: &str) -> Result<&DocumentedFilter, Undocumented> {
        self.filters
            .get(filter)
            .ok_or_else(|| Undocumented::Filter {
                root: self.root.clone(),
                filter_type: self.filter_type.clone(),
                filter: filter.to_owned(),
            })
    }

    /// Checks every filter and operator of a [`Filter`].
    pub fn check_filters(&self, filter: &Filter) -> Result<(), Undocumented> {
        let value = serde_json::to_value(filter).unwrap_or(Value::Null);
        self.check_filter_value(&value)
    }

    /// Checks a filter argument as JSON, `{"<filter>": {"<operator>": value, …}, …}`.
    pub fn check_filter_value(&self, filter: &Value) -> Result<(), Undocumented> {
        let syntax = |message: &str| Undocumented::Syntax {
            root: self.root.clone(),
            what: "filter",
            message: message.to_owned(),
        };
        let filters = filter
            .as_object()
            .ok_or_else(|| syntax("a filter is an object"))?;
        for (name, operators) in filters {
            let operators = operators
                .as_object()
                .ok_or_else(|| syntax("each filter is an object of operators"))?;
            self.documented_filter(name)?;
            for operator in operators.keys() {
                self.check_filter(name, operator)?;
            }
        }
        Ok(())
    }
}

/// A field of a parsed selection; `children` is `None` for a leaf.
#[derive(Debug)]
struct Selected {
    name: String,
    children: Option<Vec<Selected>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Open,
    Close,
    Colon,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ':' => out.push(Token::Colon),
            c if c.is_whitespace() || c == ',' => {}
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, n)) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_') {
                        break;
                    }
                    end = i + n.len_utf8();
                    chars.next();
                }
                out.push(Token::Name(text[start..end].to_owned()));
            }
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    Ok(out)
}

fn parse_selection(tokens: &[Token], pos: &mut usize) -> Result<Vec<Selected>, String> {
    let mut out = Vec::new();
    while let Some(token) = tokens.get(*pos) {
        let Token::Name(first) = token else {
            if *token == Token::Close {
                return Ok(out);
            }
            return Err(format!("expected a field name, found {token:?}"));
        };
        *pos += 1;
        let name = if tokens.get(*pos) == Some(&Token::Colon) {
            match tokens.get(*pos + 1) {
                Some(Token::Name(field)) => {
                    *pos += 2;
                    field.clone()
                }
                _ => return Err(format!("expected a field after the alias `{first}:`")),
            }
        } else {
            first.clone()
        };
        let children = if tokens.get(*pos) == Some(&Token::Open) {
            *pos += 1;
            let children = parse_selection(tokens, pos)?;
            if tokens.get(*pos) != Some(&Token::Close) {
                return Err(format!("unclosed `{{` after `{name}`"));
            }
            *pos += 1;
            Some(children)
        } else {
            None
        };
        out.push(Selected { name, children });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> &'static DocumentedRoot {
        DocumentedSchema::get().root(name).expect("documented")
    }

    #[test]
    fn every_documented_root_is_loaded() {
        let schema = DocumentedSchema::get();
        assert_eq!(schema.roots.len(), 70);
        for (name, root) in &schema.roots {
            assert_eq!(&root.root, name);
            assert!(root.arguments.contains_key("filter"), "{name}");
            assert!(!root.fields.is_empty(), "{name}");
        }
        assert_eq!(root("goods_in_receipts").type_name, "GoodsInReceipt");
        assert_eq!(
            root("goods_in_receipts").filter_type,
            "InboundGoodFilterType"
        );
        assert_eq!(
            schema.root_of_type("GoodsOutLine").map(|r| r.root.as_str()),
            Some("goods_out_lines")
        );
        assert!(root("transactions").accepts_argument("include_archived"));
        assert!(!root("goods_outs").accepts_argument("include_archived"));
        assert!(root("goods_outs").accepts_argument("after"));
    }

    #[test]
    fn selections_are_checked_field_by_field() {
        let goods_outs = root("goods_outs");
        goods_outs
            .check_selection("id __typename ref: reference goods_out_status { code name }")
            .unwrap();
        assert_eq!(
            goods_outs.check_selection("id goods_out_status { code label }"),
            Err(Undocumented::Field {
                root: "goods_outs".into(),
                type_name: "GoodsOutStatus".into(),
                path: vec!["goods_out_status".into(), "label".into()],
            })
        );
        assert!(matches!(
            goods_outs.check_selection("account"),
            Err(Undocumented::MissingSelection { type_name, .. }) if type_name == "GoodsOutAccount"
        ));
        assert!(matches!(
            goods_outs.check_selection("reference { code }"),
            Err(Undocumented::LeafSelection { .. })
        ));
        assert!(matches!(
            goods_outs.check_selection("account { id "),
            Err(Undocumented::Syntax { .. })
        ));
        assert!(matches!(
            goods_outs.check_selection("id }"),
            Err(Undocumented::Syntax { .. })
        ));
        assert!(matches!(
            goods_outs.check_selection("lines(first: 1) { id }"),
            Err(Undocumented::Syntax { .. })
        ));
    }

    #[test]
    fn filters_and_operators_are_checked() {
        let lines = root("goods_out_lines");
        lines.check_filter("goods_out_id", "in").unwrap();
        assert!(matches!(
            lines.check_filter("goods_out_status_code", "ilike"),
            Err(Undocumented::Operator { input_type, .. }) if input_type == "StatusCodeInputType"
        ));
        assert!(matches!(
            root("goods_outs").check_filter("id", "eq"),
            Err(Undocumented::Filter { filter_type, .. }) if filter_type == "GoodsOutsFilterType"
        ));
        root("transactions")
            .check_filters(&Filter::new().eq("goods_out_id", "3").eq("subtype", "DISP"))
            .unwrap();
        assert!(
            root("transactions")
                .check_filter_value(&serde_json::json!({"subtype": "DISP"}))
                .is_err()
        );
    }
}
