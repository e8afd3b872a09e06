//! The comparison of an introspection answer with the engine's reads: each read's selection
//! parsed and followed through the tenant's types, the missing fields and the extras collected.
//! Pure: no request, no store.

use std::collections::{BTreeMap, BTreeSet};

use clarus_client::graphql::{DocumentedField, DocumentedSchema};
use serde::Deserialize;
use serde_json::Value;

use super::{IntrospectionError, MissingField, SchemaReport};

#[derive(Debug, Deserialize)]
struct IntrospectionData {
    #[serde(rename = "__schema")]
    schema: Option<IntroSchema>,
}

#[derive(Debug, Deserialize)]
struct IntroSchema {
    #[serde(rename = "queryType", default)]
    query_type: Option<NamedType>,
    #[serde(default)]
    types: Vec<IntroType>,
}

#[derive(Debug, Deserialize)]
struct NamedType {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IntroType {
    name: Option<String>,
    #[serde(default)]
    fields: Option<Vec<IntroField>>,
}

#[derive(Debug, Deserialize)]
struct IntroField {
    name: String,
    #[serde(rename = "type")]
    ty: Option<TypeRef>,
}

#[derive(Debug, Deserialize)]
struct TypeRef {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "ofType", default)]
    of_type: Option<Box<TypeRef>>,
}

impl TypeRef {
    /// The named type inside the list and non-null wrappers.
    fn base(&self) -> Option<&str> {
        match (&self.name, &self.of_type) {
            (Some(name), _) => Some(name),
            (None, Some(inner)) => inner.base(),
            (None, None) => None,
        }
    }
}

/// A field of a selection; `children` empty for a leaf.
#[derive(Debug)]
pub(super) struct Sel<'d> {
    pub(super) name: String,
    pub(super) children: Vec<Sel<'d>>,
    /// The documented fields of the object this field returns, when it starts documented ground
    /// (the node): extras are counted against them.
    pub(super) documented: Option<&'d [DocumentedField]>,
    /// The type name the documentation gives the object, for a type the tenant does not have.
    pub(super) expected_type: Option<String>,
}

pub(super) fn parse_selection<'d>(text: &str) -> Result<Vec<Sel<'d>>, String> {
    let spaced = text
        .replace('{', " { ")
        .replace('}', " } ")
        .replace(':', " : ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let out = parse_fields(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err("unbalanced `}`".into());
    }
    Ok(out)
}

fn parse_fields<'d>(tokens: &[&str], pos: &mut usize) -> Result<Vec<Sel<'d>>, String> {
    let mut out = Vec::new();
    while let Some(&token) = tokens.get(*pos) {
        match token {
            "}" => return Ok(out),
            "{" | ":" => return Err(format!("unexpected `{token}`")),
            _ => {}
        }
        *pos += 1;
        let mut name = token.to_owned();
        if tokens.get(*pos) == Some(&":") {
            match tokens.get(*pos + 1) {
                Some(&field) if !["{", "}", ":"].contains(&field) => {
                    name = field.to_owned();
                    *pos += 2;
                }
                _ => return Err(format!("expected a field after the alias `{token}:`")),
            }
        }
        let mut children = Vec::new();
        if tokens.get(*pos) == Some(&"{") {
            *pos += 1;
            children = parse_fields(tokens, pos)?;
            if tokens.get(*pos) != Some(&"}") {
                return Err(format!("unclosed `{{` after `{name}`"));
            }
            *pos += 1;
        }
        out.push(Sel {
            name,
            children,
            documented: None,
            expected_type: None,
        });
    }
    Ok(out)
}

fn sel<'d>(name: &str, children: Vec<Sel<'d>>) -> Sel<'d> {
    Sel {
        name: name.to_owned(),
        children,
        documented: None,
        expected_type: None,
    }
}

/// The whole read of `root` as the engine sends it, from `Query`:
/// `<root> { all { pageInfo { hasNextPage endCursor } edges { cursor node { <selection> } } } }`.
pub(super) fn read_tree<'d>(root: &str, selection: &str) -> Result<Sel<'d>, String> {
    let documented = DocumentedSchema::get().root(root);
    let mut node = sel("node", parse_selection(selection)?);
    node.documented = documented.map(|r| r.fields.as_slice());
    node.expected_type = documented.map(|r| r.type_name.clone());
    annotate(&mut node.children, node.documented);
    Ok(sel(
        root,
        vec![sel(
            "all",
            vec![
                sel(
                    "pageInfo",
                    vec![sel("hasNextPage", vec![]), sel("endCursor", vec![])],
                ),
                sel("edges", vec![sel("cursor", vec![]), node]),
            ],
        )],
    ))
}

/// Gives each selected object the documented fields and type name of its documented field.
fn annotate<'d>(selected: &mut [Sel<'d>], documented: Option<&'d [DocumentedField]>) {
    let Some(documented) = documented else {
        return;
    };
    for s in selected {
        if let Some(doc) = documented.iter().find(|d| d.name == s.name)
            && doc.is_object()
        {
            s.documented = Some(doc.fields.as_slice());
            s.expected_type = doc.type_name.clone();
            annotate(&mut s.children, s.documented);
        }
    }
}

struct Walk<'a> {
    types: BTreeMap<&'a str, Option<&'a [IntroField]>>,
    root: &'a str,
    missing: BTreeSet<MissingField>,
    extras: BTreeMap<String, BTreeSet<String>>,
    checked: usize,
}

impl<'a> Walk<'a> {
    fn missing(&mut self, type_name: &str, field: &str) {
        self.missing.insert(MissingField {
            root: self.root.to_owned(),
            type_name: type_name.to_owned(),
            field: field.to_owned(),
        });
    }

    /// Looks every selected field up on `type_name`, and the children of each object field on
    /// the type the tenant gives it.
    fn fields(&mut self, type_name: &str, selected: &[Sel<'_>]) {
        let offered = self.types.get(type_name).copied().flatten();
        for s in selected {
            if s.name == "__typename" {
                continue;
            }
            self.checked += 1;
            let Some(field) = offered.and_then(|fs| fs.iter().find(|f| f.name == s.name)) else {
                self.missing(type_name, &s.name);
                continue;
            };
            if s.children.is_empty() {
                continue;
            }
            let child_type = field.ty.as_ref().and_then(TypeRef::base);
            match child_type {
                Some(child) if matches!(self.types.get(child), Some(Some(_))) => {
                    let child = child.to_owned();
                    if let Some(documented) = s.documented {
                        self.extras_of(&child, documented);
                    }
                    self.fields(&child, &s.children);
                }
                // The tenant makes it a leaf or an unknown type: none of its fields can be read.
                _ => {
                    let expected = s
                        .expected_type
                        .clone()
                        .or_else(|| child_type.map(str::to_owned))
                        .unwrap_or_else(|| format!("{type_name}.{}", s.name));
                    for c in &s.children {
                        if c.name != "__typename" {
                            self.checked += 1;
                            self.missing(&expected, &c.name);
                        }
                    }
                }
            }
        }
    }

    fn extras_of(&mut self, type_name: &str, documented: &[DocumentedField]) {
        let Some(Some(offered)) = self.types.get(type_name).copied() else {
            return;
        };
        for f in offered {
            if !f.name.starts_with("__") && !documented.iter().any(|d| d.name == f.name) {
                self.extras
                    .entry(type_name.to_owned())
                    .or_default()
                    .insert(f.name.clone());
            }
        }
    }
}

/// Compares an introspection answer (the `data` of `__schema { queryType { name } types { name
/// fields { name type { name ofType { … } } } } }`, or the whole response with its `data`) with
/// the reads `(root, node selection)`: every field each read selects, envelope and nested objects
/// included, must be offered. Extras are the fields the tenant offers beyond the documentation on
/// the node types and nested object types the reads reach.
pub fn compare_schema(
    introspection: &Value,
    reads: &[(&str, &str)],
) -> Result<SchemaReport, IntrospectionError> {
    let data = introspection.get("data").unwrap_or(introspection);
    let data: IntrospectionData = serde_json::from_value(data.clone())
        .map_err(|e| IntrospectionError::Unusable(e.to_string()))?;
    let schema = data
        .schema
        .ok_or_else(|| IntrospectionError::Unusable("no __schema in the answer".into()))?;
    let types: BTreeMap<&str, Option<&[IntroField]>> = schema
        .types
        .iter()
        .filter_map(|t| Some((t.name.as_deref()?, t.fields.as_deref())))
        .collect();
    let query = schema
        .query_type
        .as_ref()
        .and_then(|q| q.name.as_deref())
        .unwrap_or("Query");
    if !matches!(types.get(query), Some(Some(_))) {
        return Err(IntrospectionError::Unusable(format!(
            "the query type {query} is not among the {} types listed",
            types.len()
        )));
    }
    let mut walk = Walk {
        types,
        root: "",
        missing: BTreeSet::new(),
        extras: BTreeMap::new(),
        checked: 0,
    };
    for (root, selection) in reads {
        let tree = read_tree(root, selection).map_err(|e| {
            IntrospectionError::Unusable(format!(
                "the engine's read of {root} cannot be parsed: {e}"
            ))
        })?;
        walk.root = root;
        walk.fields(query, std::slice::from_ref(&tree));
    }
    Ok(SchemaReport {
        missing: walk.missing.into_iter().collect(),
        extras: walk
            .extras
            .into_iter()
            .map(|(t, fs)| (t, fs.into_iter().collect()))
            .collect(),
        checked: walk.checked,
    })
}
