//! The project-owned spec files under `clarus-client/spec/` are derived from Clarus's full OpenAPI
//! file (`shared/specs/clarus-api.json`, beside the repository). This test derives them again when
//! that file is present and fails when the committed copies differ; with the file absent it says
//! so and passes, since nothing at build, run or test time may read outside the repository.
//!
//! Regenerate after a spec update with
//! `CLARUS_SPEC_UPDATE=1 cargo test -p clarus-client --test it spec_files::`.
//!
//! - `clarus-requests.json`: `openapi`, `info` and `components` unchanged, and under `paths`, for
//!   every operation in [`REQUEST_OPERATIONS`] and every `list*` GraphQL operation, only
//!   `{operationId, requestBody}` (the GraphQL ones also keep their documented example response,
//!   `responses.200.content.application/json.example`, which the GraphQL tests decode).
//! - `clarus-graphql.json`: per list root, what the operation's `x-mint.content` markdown documents:
//!   the `## Query Structure` block (root, `all` arguments, node field tree), the
//!   `### Available Filters` table, and extra `all` arguments named in the text. Type names:
//!   the node type is the singular CamelCase of the root (`goods_outs` → `GoodsOut`,
//!   `stock_balances` → `StockBalance`, `currencies` → `Currency`: only the last word is made
//!   singular, `-ies` → `-y`, a final `s` dropped unless `ss`); a nested object's type is its
//!   parent's type followed by the CamelCase of the field, the parent's name not repeated when
//!   the field already starts with it, unless that would name a root's node type
//!   (`GoodsOut.goods_out_status` → `GoodsOutStatus`, `GoodsOut.account` → `GoodsOutAccount`,
//!   `Report.report_query` → `ReportReportQuery`). Every name is checked to be unique.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value, json};

const FULL_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/specs/clarus-api.json"
);
const REQUESTS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/clarus-requests.json");
const GRAPHQL_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/clarus-graphql.json");
const UPDATE: &str = "CLARUS_SPEC_UPDATE=1 cargo test -p clarus-client --test it spec_files::";

/// Operations whose request schema is kept besides every `list*` GraphQL operation, separated by
/// spaces: those the simulator validates (`OPERATIONS` in `sim/src/clarus/schema.rs`) and those
/// the tests of this crate check bodies against.
/// [`the_operation_list_covers_the_simulator_and_the_tests`] keeps it complete.
const REQUEST_OPERATIONS: &str = "\
    createAccountProduct createAutomation createGoodsInReceipt createGoodsOut createPackage \
    createProduct createProductStorageUnit createShipment createStockCheck holdStocks \
    moveStock negativeAdjustmentStock offholdStocks priorityProductStorageUnit \
    processPicksAsync recordStockCheckAttempt resolveStockCheckRecords shortOrderLines \
    transferStock updateAutomation updateGoodsInReceipt updateGoodsOut updatePackage \
    updateProduct updateProductStorageUnit updateShipment\
";

fn request_operations() -> impl Iterator<Item = &'static str> {
    REQUEST_OPERATIONS.split_whitespace()
}

/// The number of documented GraphQL list roots.
const LIST_ROOTS: usize = 70;

// ------------------------------------------------------------------ the check

#[test]
fn committed_spec_files_match_the_full_spec() {
    if !Path::new(FULL_SPEC).exists() {
        eprintln!(
            "spec_files: check skipped: the full Clarus spec is not beside the repository \
             (looked for {FULL_SPEC}); the committed files under clarus-client/spec are used as they are"
        );
        return;
    }
    let text = std::fs::read_to_string(FULL_SPEC).expect("the full spec is readable");
    let spec: Value = serde_json::from_str(&text).expect("the full spec is JSON");
    let derived = [
        (REQUESTS_FILE, pretty(&derive_requests(&spec))),
        (GRAPHQL_FILE, pretty(&derive_graphql(&spec))),
    ];
    let update = std::env::var("CLARUS_SPEC_UPDATE").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (path, want) in derived {
        let have = std::fs::read_to_string(path).unwrap_or_default();
        if have == want {
            continue;
        }
        if update {
            std::fs::write(path, &want).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
            eprintln!("spec_files: rewrote {path}");
        } else {
            stale.push(format!("{path}:\n{}", first_difference(&have, &want)));
        }
    }
    assert!(
        stale.is_empty(),
        "the committed spec files differ from what the full spec derives:\n\n{}\n\nTo rewrite them: {UPDATE}",
        stale.join("\n\n")
    );
}

#[test]
fn the_operation_list_covers_the_simulator_and_the_tests() {
    let schema_rs = concat!(env!("CARGO_MANIFEST_DIR"), "/../sim/src/clarus/schema.rs");
    let text = std::fs::read_to_string(schema_rs).expect("sim/src/clarus/schema.rs is readable");
    let start = text
        .find("OPERATIONS")
        .expect("schema.rs declares OPERATIONS");
    let end = start + text[start..].find("];").expect("OPERATIONS ends");
    let sim_ops = string_literals(&text[start..end]);
    assert!(!sim_ops.is_empty());
    for op in &sim_ops {
        assert!(
            request_operations().any(|kept| kept == op),
            "the simulator validates {op}; add it to REQUEST_OPERATIONS, then {UPDATE}"
        );
    }
    // Every camelCase string literal of the tests that names an operation of the spec the
    // tests read must be kept.
    let requests: Value = serde_json::from_str(
        &std::fs::read_to_string(REQUESTS_FILE).expect("clarus-requests.json is committed"),
    )
    .expect("clarus-requests.json is JSON");
    let full: Option<Value> = std::fs::read_to_string(FULL_SPEC)
        .ok()
        .map(|t| serde_json::from_str(&t).expect("the full spec is JSON"));
    let known = operation_ids(full.as_ref().unwrap_or(&requests));
    let kept = operation_ids(&requests);
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it"));
    let sources = rust_files(dir);
    assert!(
        sources.len() > 1,
        "no test sources found under {}",
        dir.display()
    );
    for path in sources {
        let text = std::fs::read_to_string(&path).expect("a test file is readable");
        for literal in string_literals(&text) {
            if known.contains(&literal) {
                assert!(
                    kept.contains(&literal),
                    "{} uses operation {literal}; add it to REQUEST_OPERATIONS, then {UPDATE}",
                    path.display()
                );
            }
        }
    }
}

/// The `.rs` files under `dir`, its subdirectories included, in a stable order.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// `"..."` contents that look like operation ids (`camelCase`, letters and digits only).
fn string_literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars().any(|c| c.is_ascii_uppercase())
                && s.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(str::to_owned)
        .collect()
}

fn operation_ids(spec: &Value) -> BTreeSet<String> {
    operations(spec)
        .map(|(_, _, op)| op_id(op).to_owned())
        .collect()
}

fn operations(spec: &Value) -> impl Iterator<Item = (&String, &String, &Value)> {
    spec["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, op)| (path, method, op))
        })
}

fn op_id(op: &Value) -> &str {
    op["operationId"].as_str().unwrap_or_default()
}

fn is_list_operation(path: &str, op: &Value) -> bool {
    path.starts_with("/graphql#") && op_id(op).starts_with("list")
}

/// The JSON text as committed: keys sorted, two-space indentation, a final newline.
fn pretty(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut text = serde_json::to_string_pretty(&sorted(value)).expect("JSON serialises");
    text.push('\n');
    text
}

/// The first differing line of two texts.
fn first_difference(have: &str, want: &str) -> String {
    let (h, w): (Vec<&str>, Vec<&str>) = (have.lines().collect(), want.lines().collect());
    let at = h.iter().zip(&w).take_while(|(a, b)| a == b).count();
    format!(
        "  committed {} lines, derived {} lines; first difference at line {}:\n  committed: {}\n  derived:   {}",
        h.len(),
        w.len(),
        at + 1,
        h.get(at).unwrap_or(&"(end of file)"),
        w.get(at).unwrap_or(&"(end of file)"),
    )
}

// ------------------------------------------------------------------ clarus-requests.json

fn derive_requests(spec: &Value) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut found = BTreeSet::new();
    let mut lists = 0;
    for (path, method, op) in operations(spec) {
        let id = op_id(op);
        let list = is_list_operation(path, op);
        if !list && !request_operations().any(|kept| kept == id) {
            continue;
        }
        let mut kept = Map::new();
        kept.insert("operationId".into(), json!(id));
        if let Some(body) = op.get("requestBody") {
            kept.insert("requestBody".into(), body.clone());
        }
        if list {
            lists += 1;
            if let Some(example) = op.pointer("/responses/200/content/application~1json/example") {
                kept.insert(
                    "responses".into(),
                    json!({"200": {"content": {"application/json": {"example": example}}}}),
                );
            }
        }
        found.insert(id.to_owned());
        paths
            .entry(path.clone())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item")
            .insert(method.clone(), Value::Object(kept));
    }
    for op in request_operations() {
        assert!(found.contains(op), "the full spec has no operation {op}");
    }
    assert_eq!(lists, LIST_ROOTS, "list operations in the full spec");
    json!({
        "openapi": spec["openapi"],
        "info": spec["info"],
        "components": spec["components"],
        "paths": paths,
        "x-derived": format!(
            "A subset of shared/specs/clarus-api.json: only the request bodies of the operations \
             the SDK and its simulator use (and the documented example responses of the GraphQL \
             list operations); components unchanged. Do not edit; regenerate with `{UPDATE}`."
        ),
    })
}

// ------------------------------------------------------------------ clarus-graphql.json

fn derive_graphql(spec: &Value) -> Value {
    let mut roots = Map::new();
    let mut type_names: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |name: &str, owner: String| {
        if let Some(previous) = type_names.insert(name.to_owned(), owner.clone()) {
            panic!("type name {name} is given to both {previous} and {owner}");
        }
    };
    let documented: Vec<(&String, &Value, DocumentedBlock)> = operations(spec)
        .filter(|(path, _, op)| is_list_operation(path, op))
        .map(|(path, _, op)| {
            let content = op["x-mint"]["content"].as_str().unwrap_or_default();
            let doc = document_root(content).unwrap_or_else(|e| panic!("{}: {e}", op_id(op)));
            (path, op, doc)
        })
        .collect();
    let node_types: BTreeSet<String> = documented
        .iter()
        .map(|(_, _, doc)| node_type_name(&doc.root))
        .collect();
    for (path, op, doc) in documented {
        let id = op_id(op);
        let content = op["x-mint"]["content"].as_str().unwrap_or_default();
        let type_name = node_type_name(&doc.root);
        claim(&type_name, doc.root.clone());
        claim(&doc.filter_type, format!("{} filter", doc.root));
        let fields: Vec<Value> = doc
            .fields
            .iter()
            .map(|f| field_json(f, &type_name, &node_types, &mut claim))
            .collect();
        let mut arguments = doc.arguments.clone();
        for (name, ty) in extra_arguments(content) {
            arguments.insert(name, ty);
        }
        let filters: Map<String, Value> = filter_table(content)
            .into_iter()
            .map(|f| {
                (
                    f.name,
                    json!({"input_type": f.input_type, "operators": f.operators, "description": f.description}),
                )
            })
            .collect();
        let previous = roots.insert(
            doc.root.clone(),
            json!({
                "root": doc.root,
                "operation_id": id,
                "path": path,
                "type_name": type_name,
                "filter_type": doc.filter_type,
                "arguments": arguments,
                "fields": fields,
                "filters": filters,
            }),
        );
        assert!(previous.is_none(), "root {} is documented twice", doc.root);
    }
    assert_eq!(roots.len(), LIST_ROOTS, "documented roots");
    let names: BTreeSet<String> = roots.keys().cloned().collect();
    json!({
        "about": format!(
            "The GraphQL list roots as Clarus documents them: each /graphql#ListXxx operation's \
             x-mint.content markdown (the Query Structure block and the Available Filters table) \
             in shared/specs/clarus-api.json. Clarus adds: more fields and filters available via \
             GraphQL introspection. Do not edit; regenerate with `{UPDATE}`."
        ),
        "naming": "type_name of a root is the singular CamelCase of the root (only the last word \
                   made singular: -ies -> -y, a final s dropped unless ss); a nested object's \
                   type_name is its parent's type_name followed by the CamelCase of the field \
                   name, the parent's name not repeated when the field already starts with it unless \
                   that would name a root's node type",
        "source": {
            "file": "shared/specs/clarus-api.json",
            "openapi": spec["openapi"],
            "version": spec["info"]["version"],
        },
        "other_styles": other_styles(spec, &names),
        "roots": roots,
    })
}

fn field_json(
    field: &Selection,
    parent: &str,
    node_types: &BTreeSet<String>,
    claim: &mut impl FnMut(&str, String),
) -> Value {
    if field.children.is_empty() {
        return json!({"name": field.name});
    }
    let type_name = nested_type_name(parent, &field.name, node_types);
    claim(&type_name, format!("{parent}.{}", field.name));
    let fields: Vec<Value> = field
        .children
        .iter()
        .map(|f| field_json(f, &type_name, node_types, claim))
        .collect();
    json!({"name": field.name, "type_name": type_name, "fields": fields})
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

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if word.ends_with("ss") {
        word.to_owned()
    } else {
        word.strip_suffix('s').unwrap_or(word).to_owned()
    }
}

/// `goods_outs` → `GoodsOut`.
fn node_type_name(root: &str) -> String {
    match root.rsplit_once('_') {
        Some((head, last)) => camel(head) + &camel(&singular(last)),
        None => camel(&singular(root)),
    }
}

/// `GoodsOut` + `goods_out_status` → `GoodsOutStatus`; `GoodsOut` + `account` → `GoodsOutAccount`;
/// `Report` + `report_query` → `ReportReportQuery`, since `ReportQuery` is a root's node type.
fn nested_type_name(parent: &str, field: &str, node_types: &BTreeSet<String>) -> String {
    let field = camel(field);
    if field.starts_with(parent) && !node_types.contains(&field) {
        field
    } else {
        format!("{parent}{field}")
    }
}

// ------------------------------------------------------------------ the markdown parser

/// One token of GraphQL text, with its byte span.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Var(String),
    Punct(char),
}

/// Names, `$variables` and the punctuation that shapes GraphQL; numbers and anything else are
/// skipped, so this also runs over prose. String literals are skipped too, unless `in_strings`
/// (prose quotes queries inside JSON strings).
fn tokenize(text: &str, in_strings: bool) -> Vec<(Token, usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        let start = i;
        if c == '"' && !in_strings {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '$' || c.is_ascii_alphabetic() || c == '_' {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let name = text[start..i].trim_start_matches('$').to_owned();
            let token = match c {
                '$' => Token::Var(name),
                _ => Token::Name(name),
            };
            out.push((token, start, i));
        } else if "{}():!".contains(c) {
            out.push((Token::Punct(c), start, i + 1));
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// A field of a selection: its name, its arguments (`name: $var` or `name: literal` as text)
/// and its sub-selection.
#[derive(Debug, Clone, PartialEq)]
struct Selection {
    name: String,
    arguments: Vec<(String, String)>,
    children: Vec<Selection>,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `(` name `:` value … `)`, each value a `$var`, a name or `Type!`.
    fn pairs(&mut self) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        if !self.eat('(') {
            return Ok(out);
        }
        while !self.eat(')') {
            let (Some(Token::Name(name) | Token::Var(name)), true) = (self.next(), self.eat(':'))
            else {
                return Err("expected `name:` in an argument list".into());
            };
            let value = match self.next() {
                Some(Token::Var(v)) => format!("${v}"),
                Some(Token::Name(n)) => n,
                other => return Err(format!("unexpected {other:?} as the value of {name}")),
            };
            self.eat('!');
            out.push((name, value));
        }
        Ok(out)
    }

    fn selections(&mut self) -> Result<Vec<Selection>, String> {
        if !self.eat('{') {
            return Err("expected `{`".into());
        }
        let mut out = Vec::new();
        while !self.eat('}') {
            let Some(Token::Name(name)) = self.next() else {
                return Err("expected a field name".into());
            };
            let arguments = self.pairs()?;
            let children = if self.peek() == Some(&Token::Punct('{')) {
                self.selections()?
            } else {
                Vec::new()
            };
            out.push(Selection {
                name,
                arguments,
                children,
            });
        }
        Ok(out)
    }
}

/// What a `## Query Structure` block documents.
#[derive(Debug, Clone, PartialEq)]
struct DocumentedBlock {
    root: String,
    filter_type: String,
    /// Arguments of `all`, each with its type (through the variable definitions).
    arguments: BTreeMap<String, String>,
    fields: Vec<Selection>,
}

/// Parses the first ```` ```graphql ```` block of the markdown:
/// `query($filter: T) { root { all(filter: $filter) { edges { node { … } } } } }`.
fn document_root(markdown: &str) -> Result<DocumentedBlock, String> {
    let start = markdown.find("```graphql").ok_or("no ```graphql block")? + "```graphql".len();
    let end = start + markdown[start..].find("```").ok_or("unterminated block")?;
    let mut parser = Parser {
        tokens: tokenize(&markdown[start..end], false)
            .into_iter()
            .map(|t| t.0)
            .collect(),
        pos: 0,
    };
    let mut variables = BTreeMap::new();
    if parser.peek() == Some(&Token::Name("query".into())) {
        parser.pos += 1;
        if let Some(Token::Name(_)) = parser.peek() {
            parser.pos += 1;
        }
        variables = parser.pairs()?.into_iter().collect();
    }
    let top = parser.selections()?;
    if parser.peek().is_some() {
        return Err("text after the operation".into());
    }
    let [root] = top.as_slice() else {
        return Err("expected exactly one root".into());
    };
    let child = |s: &Selection, name: &str| s.children.iter().find(|f| f.name == name).cloned();
    let all = child(root, "all").ok_or("the root has no `all`")?;
    let node = child(&all, "edges")
        .and_then(|e| child(&e, "node"))
        .ok_or("no `edges { node }`")?;
    let arguments: BTreeMap<String, String> = all
        .arguments
        .iter()
        .map(|(name, value)| {
            let ty = value
                .strip_prefix('$')
                .and_then(|v| variables.get(v))
                .cloned()
                .unwrap_or_else(|| value.clone());
            (name.clone(), ty)
        })
        .collect();
    let filter_type = arguments
        .get("filter")
        .cloned()
        .ok_or("`all` takes no filter")?;
    Ok(DocumentedBlock {
        root: root.name.clone(),
        filter_type,
        arguments,
        fields: node.children,
    })
}

/// A row of `### Available Filters`.
#[derive(Debug, Clone, PartialEq)]
struct FilterRow {
    name: String,
    input_type: String,
    operators: Vec<String>,
    description: String,
}

/// The words between backticks.
fn ticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The `| `filter` | Type | `op`, … | description |` rows under `### Available Filters`, up to
/// the next heading.
fn filter_table(markdown: &str) -> Vec<FilterRow> {
    let Some(start) = markdown.find("### Available Filters") else {
        return Vec::new();
    };
    markdown[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let [name, input_type, operators, description] = cells.as_slice() else {
                return None;
            };
            let [name] = ticked(name).try_into().ok()?;
            Some(FilterRow {
                name,
                input_type: (*input_type).to_owned(),
                operators: ticked(operators),
                description: (*description).to_owned(),
            })
        })
        .collect()
}

/// Arguments of `all` named in the prose, as "The `all` field also accepts an optional
/// `include_archived: Boolean` argument".
fn extra_arguments(markdown: &str) -> Vec<(String, String)> {
    markdown
        .lines()
        .filter(|l| l.contains("`all`") && l.contains("argument"))
        .flat_map(ticked)
        .filter_map(|t| {
            let (name, ty) = t.split_once(':')?;
            Some((name.trim().to_owned(), ty.trim().to_owned()))
        })
        .collect()
}

/// Examples elsewhere in the spec that read a documented root in another style than
/// `root { all(filter: …) }`: `root { all(code: …) }`, `root { aggregation(…) }` or a camelCase
/// root with arguments (`pickProcessingRequests(filter: …)`).
fn other_styles(spec: &Value, roots: &BTreeSet<String>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut strings = Vec::new();
    collect_strings(spec, String::new(), &mut strings);
    for (pointer, text) in strings {
        let tokens = tokenize(text, true);
        for (i, (token, start, _)) in tokens.iter().enumerate() {
            let Token::Name(name) = token else { continue };
            let next = |k: usize| tokens.get(i + k).map(|t| &t.0);
            let snake = snake(name);
            let close = |from: usize| {
                tokens[from..]
                    .iter()
                    .find(|t| t.0 == Token::Punct(')'))
                    .map(|t| t.2)
            };
            let written = if roots.contains(name)
                && next(1) == Some(&Token::Punct('{'))
                && matches!(next(2), Some(Token::Name(f)) if f == "all" || f == "aggregation")
                && next(3) == Some(&Token::Punct('('))
            {
                let plain = next(4) == Some(&Token::Name("filter".into()))
                    && next(5) == Some(&Token::Punct(':'))
                    && matches!(next(6), Some(Token::Var(_)))
                    && next(7) == Some(&Token::Punct(')'));
                if plain { None } else { close(i + 3) }
            } else if name != &snake
                && roots.contains(&snake)
                && next(1) == Some(&Token::Punct('('))
            {
                close(i + 1)
            } else {
                None
            };
            if let Some(end) = written {
                out.push(json!({
                    "root": snake,
                    "written": text[*start..end].split_whitespace().collect::<Vec<_>>().join(" "),
                    "at": pointer,
                }));
            }
        }
    }
    out
}

fn snake(name: &str) -> String {
    name.chars().fold(String::new(), |mut out, c| {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        out
    })
}

fn collect_strings<'a>(value: &'a Value, pointer: String, out: &mut Vec<(String, &'a str)>) {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match value {
        Value::String(s) => out.push((pointer, s)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_strings(v, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_strings(v, format!("{pointer}/{}", escape(k)), out);
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------------ parser tests

const SAMPLE: &str = "Intro text.\n\n## Query Structure\n\n```graphql\nquery($filter: WidgetFilterType) {\n  widgets {\n    all(filter: $filter) {\n      edges {\n        node {\n          id\n          code\n          widget_status {\n            code\n            name\n          }\n          owner { id }\n        }\n      }\n    }\n  }\n}\n```\n\n### Available Filters\n\n| Filter | Input Type | Operators | Description |\n|--------|-----------|-----------|-------------|\n| `code` | StringInputType | `eq`, `ilike`, `in` | Widget code |\n| `owner_id` | IdInputType | `eq`, `in`, `filled` | Owner ID |\n\nThe `all` field also accepts an optional `include_archived: Boolean` argument.\n\n### Filter Operators\n\n| Input Type | Operators |\n|-----------|----------|\n| StringInputType | `eq` (exact) |\n";

fn sel(name: &str, children: Vec<Selection>) -> Selection {
    Selection {
        name: name.into(),
        arguments: Vec::new(),
        children,
    }
}

#[test]
fn the_query_structure_block_is_parsed() {
    let doc = document_root(SAMPLE).unwrap();
    assert_eq!(doc.root, "widgets");
    assert_eq!(doc.filter_type, "WidgetFilterType");
    assert_eq!(
        doc.arguments,
        BTreeMap::from([("filter".to_owned(), "WidgetFilterType".to_owned())])
    );
    let status = sel(
        "widget_status",
        vec![sel("code", vec![]), sel("name", vec![])],
    );
    let owner = sel("owner", vec![sel("id", vec![])]);
    let (id, code) = (sel("id", vec![]), sel("code", vec![]));
    assert_eq!(doc.fields, vec![id, code, status, owner]);
    assert!(document_root("no block here").is_err());
    assert!(
        document_root("```graphql\n{ widgets { all { edges { node { id } } } } }\n```").is_err()
    );
}

#[test]
fn the_filter_table_and_extra_arguments_are_parsed() {
    let rows = filter_table(SAMPLE);
    assert_eq!(rows.len(), 2, "the operator table is not read as filters");
    let row = &rows[0];
    assert_eq!(
        (row.name.as_str(), row.input_type.as_str()),
        ("code", "StringInputType")
    );
    assert_eq!(
        (row.operators.join(" "), row.description.as_str()),
        ("eq ilike in".into(), "Widget code")
    );
    assert_eq!(rows[1].operators, ["eq", "in", "filled"]);
    assert_eq!(
        extra_arguments(SAMPLE),
        vec![("include_archived".to_owned(), "Boolean".to_owned())]
    );
}

#[test]
fn type_names_follow_the_rule() {
    for (root, node) in [
        ("goods_outs", "GoodsOut"),
        ("goods_in_receipts", "GoodsInReceipt"),
        ("stocks", "Stock"),
        ("currencies", "Currency"),
        ("warehouses", "Warehouse"),
    ] {
        assert_eq!(node_type_name(root), node);
    }
    let roots = BTreeSet::from(["GoodsOut".to_owned(), "ReportQuery".to_owned()]);
    for (parent, field, nested) in [
        ("GoodsOut", "goods_out_status", "GoodsOutStatus"),
        ("GoodsOut", "account", "GoodsOutAccount"),
        ("GoodsOutLine", "goods_out", "GoodsOutLineGoodsOut"),
        ("Report", "report_query", "ReportReportQuery"),
    ] {
        assert_eq!(nested_type_name(parent, field, &roots), nested);
    }
}

#[test]
fn other_argument_styles_are_found_in_prose() {
    let spec = json!({"info": {"description":
        "Try `{\"query\": \"{ accounts { all(code: $code) { edges { node { id } } } } }\"}` or \
         `pickProcessingRequests(filter: { x: { eq: \"y\" } }) { edges { node { id } } }`; \
         `stocks { all(filter: $filter) { edges { node { id } } } }` is the plain style."}});
    let roots = BTreeSet::from([
        "accounts".to_owned(),
        "pick_processing_requests".to_owned(),
        "stocks".to_owned(),
    ]);
    let found = other_styles(&spec, &roots);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0]["root"], "accounts");
    assert_eq!(found[0]["written"], "accounts { all(code: $code)");
    assert_eq!(found[0]["at"], "/info/description");
    assert_eq!(found[1]["root"], "pick_processing_requests");
}
