//! Parsing of one GraphQL query operation: an optional `query Name($var: Type …)` header, fields,
//! aliases, arguments with literal or variable values, nested selections. No fragments,
//! directives, mutations or subscriptions. Every field and argument keeps its line and column,
//! for errors in GraphQL's `locations` style.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Map, Value, json};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// `{"line": …, "column": …}`.
    pub(crate) fn json(self) -> Value {
        json!({"line": self.line, "column": self.column})
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Var(String),
    Str(String),
    Num(String),
    Punct(char),
    Spread,
}

fn tokenize(text: &str) -> Result<Vec<(Token, Pos)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos {
            line,
            column: i - line_start + 1,
        };
        if c == '\n' {
            line += 1;
            line_start = i + 1;
            i += 1;
        } else if c.is_whitespace() || c == ',' {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated string".into());
            }
            i += 1;
            out.push((Token::Str(s), pos));
        } else if c == '.' {
            if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                out.push((Token::Spread, pos));
                i += 3;
            } else {
                return Err("unexpected '.'".into());
            }
        } else if c == '$' || c.is_alphabetic() || c == '_' {
            let start = if c == '$' { i + 1 } else { i };
            i = start;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let token = if c == '$' {
                Token::Var(name)
            } else {
                Token::Name(name)
            };
            out.push((token, pos));
        } else if c.is_ascii_digit() || c == '-' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || ".eE".contains(chars[i])) {
                i += 1;
            }
            out.push((Token::Num(chars[start..i].iter().collect()), pos));
        } else if "{}()[]:!=@".contains(c) {
            out.push((Token::Punct(c), pos));
            i += 1;
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// An argument: its value with variables substituted, and the variable when the whole value is
/// one (`filter: $filter`).
#[derive(Debug, Clone)]
pub(crate) struct Arg {
    pub name: String,
    pub value: Value,
    pub variable: Option<String>,
    pub pos: Pos,
}

/// A field of a selection set.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub args: Vec<Arg>,
    pub selections: Vec<Field>,
    pub pos: Pos,
}

impl Field {
    /// The response key: the alias, else the name.
    pub(crate) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// An argument's value.
    pub(crate) fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|a| a.name == name).map(|a| &a.value)
    }
}

/// A variable definition, `$filter: GoodsOutsFilterType`.
#[derive(Debug, Clone)]
pub(crate) struct VarDef {
    pub name: String,
    /// The type as written, e.g. `[ID!]!`.
    pub written: String,
}

impl VarDef {
    /// The named type inside list and non-null wrappers.
    pub(crate) fn base(&self) -> &str {
        self.written
            .trim_matches(|c| c == '[' || c == ']' || c == '!')
    }
}

/// One parsed query operation.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// `query`, or `query Name` for a named operation (the first element of error paths).
    pub operation: String,
    pub variables: Vec<VarDef>,
    pub fields: Vec<Field>,
}

/// The tokens of one query text.
type Tokens = Arc<[(Token, Pos)]>;

/// Query texts kept tokenized: clients send the same few queries again and again with other
/// variables, so each text is read once while at most this many are kept (all are dropped when
/// one more arrives).
const TOKENIZED_KEPT: usize = 256;

/// The tokens of the query texts read lately, by text.
static TOKENIZED: LazyLock<Mutex<HashMap<String, Tokens>>> = LazyLock::new(Mutex::default);

/// The tokens of `query`, read once per text while it is kept in [`TOKENIZED`]. A text that
/// does not tokenize is not kept.
fn tokens(query: &str) -> Result<Tokens, String> {
    let lock = || {
        TOKENIZED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let kept = lock().get(query).cloned();
    if let Some(tokens) = kept {
        return Ok(tokens);
    }
    let tokens: Tokens = tokenize(query)?.into();
    let mut map = lock();
    if map.len() >= TOKENIZED_KEPT {
        map.clear();
    }
    map.insert(query.to_owned(), Arc::clone(&tokens));
    Ok(tokens)
}

/// Parses `query` with `variables` substituted into argument values.
pub(crate) fn parse(query: &str, variables: &Map<String, Value>) -> Result<Document, String> {
    let mut parser = Parser {
        tokens: tokens(query)?,
        pos: 0,
        variables,
    };
    parser.document()
}

struct Parser<'a> {
    tokens: Tokens,
    pos: usize,
    variables: &'a Map<String, Value>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|t| &t.0)
    }

    fn here(&self) -> Pos {
        self.tokens.get(self.pos).map(|t| t.1).unwrap_or_default()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(p)) if p == c => Ok(()),
            other => Err(format!("expected '{c}', found {other:?}")),
        }
    }

    fn document(&mut self) -> Result<Document, String> {
        let mut operation = "query".to_string();
        let mut variables = Vec::new();
        if let Some(Token::Name(n)) = self.peek() {
            if n == "mutation" || n == "subscription" {
                return Err(format!(
                    "{n} operations are not supported; use the REST API"
                ));
            }
            if n == "query" {
                self.pos += 1;
                if let Some(Token::Name(name)) = self.peek() {
                    operation = format!("query {name}");
                    self.pos += 1;
                }
                if self.eat('(') {
                    while !self.eat(')') {
                        variables.push(self.variable_definition()?);
                    }
                }
            }
        }
        let fields = self.selection_set()?;
        if self.peek().is_some() {
            return Err("only one operation per request is supported".into());
        }
        Ok(Document {
            operation,
            variables,
            fields,
        })
    }

    fn variable_definition(&mut self) -> Result<VarDef, String> {
        let Some(Token::Var(name)) = self.next() else {
            return Err("expected a variable definition".into());
        };
        self.expect(':')?;
        let mut written = String::new();
        loop {
            match self.peek() {
                Some(Token::Punct(c @ ('[' | ']' | '!'))) => written.push(*c),
                Some(Token::Name(n)) if written.is_empty() || written.ends_with('[') => {
                    written.push_str(n)
                }
                _ => break,
            }
            self.pos += 1;
        }
        if written.is_empty() {
            return Err(format!("variable ${name} has no type"));
        }
        if self.eat('=') {
            self.value()?;
        }
        Ok(VarDef { name, written })
    }

    fn selection_set(&mut self) -> Result<Vec<Field>, String> {
        self.expect('{')?;
        let mut fields = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Punct('}')) => {
                    self.pos += 1;
                    return Ok(fields);
                }
                Some(Token::Spread) => {
                    return Err("fragments are not supported by the simulator".into());
                }
                Some(Token::Punct('@')) => {
                    return Err("directives are not supported by the simulator".into());
                }
                Some(Token::Name(_)) => fields.push(self.field()?),
                other => return Err(format!("unexpected {other:?} in a selection set")),
            }
        }
    }

    fn field(&mut self) -> Result<Field, String> {
        let pos = self.here();
        let Some(Token::Name(first)) = self.next() else {
            return Err("expected a field name".into());
        };
        let (alias, name) = if self.eat(':') {
            match self.next() {
                Some(Token::Name(n)) => (Some(first), n),
                _ => return Err("expected a field name after an alias".into()),
            }
        } else {
            (None, first)
        };
        let mut args = Vec::new();
        if self.eat('(') {
            while !self.eat(')') {
                let arg_pos = self.here();
                let Some(Token::Name(arg)) = self.next() else {
                    return Err("expected an argument name".into());
                };
                self.expect(':')?;
                let variable = match self.peek() {
                    Some(Token::Var(v)) => Some(v.clone()),
                    _ => None,
                };
                args.push(Arg {
                    name: arg,
                    value: self.value()?,
                    variable,
                    pos: arg_pos,
                });
            }
        }
        let selections = if self.peek() == Some(&Token::Punct('{')) {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Field {
            alias,
            name,
            args,
            selections,
            pos,
        })
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Var(v)) => Ok(self.variables.get(&v).cloned().unwrap_or(Value::Null)),
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Num(n)) => serde_json::from_str(&n).map_err(|_| format!("bad number {n}")),
            Some(Token::Name(n)) => Ok(match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::String(n),
            }),
            Some(Token::Punct('[')) => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    if self.peek().is_none() {
                        return Err("unterminated list".into());
                    }
                    items.push(self.value()?);
                }
                Ok(Value::Array(items))
            }
            Some(Token::Punct('{')) => {
                let mut map = Map::new();
                while !self.eat('}') {
                    let Some(Token::Name(key)) = self.next() else {
                        return Err("expected an object field name".into());
                    };
                    self.expect(':')?;
                    map.insert(key, self.value()?);
                }
                Ok(Value::Object(map))
            }
            other => Err(format!("unexpected {other:?} where a value was expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_variables_and_arguments_are_kept() {
        let variables = json!({"filter": {"reference": {"eq": "SO-1"}}});
        let doc = parse(
            "query List($filter: GoodsOutsFilterType, $ids: [ID!]! = []) {\n  goods_outs {\n    all(filter: $filter, first: 2) { edges { node { id } } }\n  }\n}",
            variables.as_object().unwrap(),
        )
        .unwrap();
        assert_eq!(doc.operation, "query List");
        assert_eq!(doc.variables[0].base(), "GoodsOutsFilterType");
        assert_eq!(doc.variables[1].written, "[ID!]!");
        assert_eq!(doc.variables[1].base(), "ID");
        let all = &doc.fields[0].selections[0];
        assert_eq!(all.pos, Pos { line: 3, column: 5 });
        assert_eq!(all.args[0].variable.as_deref(), Some("filter"));
        assert_eq!(all.args[0].value, variables["filter"]);
        assert_eq!(
            all.args[1].pos,
            Pos {
                line: 3,
                column: 26
            }
        );
        assert_eq!(all.arg("first"), Some(&json!(2)));
    }

    #[test]
    fn a_query_read_again_takes_its_new_variables() {
        let query = "query Again($f: GoodsOutsFilterType) { goods_outs { all(filter: $f) { edges { cursor } } } }";
        for reference in ["SO-1", "SO-2", "SO-1"] {
            let variables = json!({"f": {"reference": {"eq": reference}}});
            let doc = parse(query, variables.as_object().unwrap()).unwrap();
            let all = &doc.fields[0].selections[0];
            assert_eq!(all.arg("filter"), Some(&variables["f"]));
            assert!(TOKENIZED.lock().unwrap().contains_key(query));
        }
        assert!(parse("{ goods_outs { all(filter: \"open) } }", &Map::new()).is_err());
        assert!(
            !TOKENIZED
                .lock()
                .unwrap()
                .keys()
                .any(|q| q.contains("open)"))
        );
    }
}
