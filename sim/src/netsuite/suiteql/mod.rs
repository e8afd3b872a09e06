//! A small SuiteQL subset evaluated over the simulator's records.
//!
//! Supported: one table (`transaction`, `transactionline`, `item`, `inventorybalance`, `location`,
//! `inventorynumber`, `inventorystatus`) with an optional alias; a select list of columns, `*`,
//! `BUILTIN.DF(col)`, `BUILTIN.CF(col)`, `TO_CHAR(col, 'mask')`, `SUM`/`COUNT`/`MIN`/`MAX`;
//! `WHERE` with predicates (`= != <> < <= > >=`, `[NOT] IN (...)`, `BETWEEN a AND b`,
//! `IS [NOT] NULL`, literals, `TO_TIMESTAMP('...', 'mask')`, `TO_DATE('...', 'mask')`) combined
//! with `AND`, `OR`, `NOT` and parentheses; `GROUP BY`; `ORDER BY ... [ASC|DESC]`. Anything else
//! (joins, sub-queries, other functions) is refused with 400, so an unsupported query fails loudly
//! instead of answering wrong rows.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::fmt::strtime;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

mod prefilter;
mod tables;

use prefilter::KeyConditions;
use tables::Row;

use super::error::NsError;
use super::state::State;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

fn tokenize(query: &str) -> Result<Vec<Token>, NsError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(invalid("unterminated string literal")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        text.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Str(text));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "<>" => Some("<>"),
                "!=" => Some("!="),
                _ => None,
            };
            if let Some(sym) = sym {
                out.push(Token::Sym(sym));
                i += 2;
                continue;
            }
            let sym = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '*' => "*",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                ';' => ";",
                other => return Err(invalid(&format!("unexpected character '{other}'"))),
            };
            out.push(Token::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}

fn invalid(detail: &str) -> NsError {
    NsError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER",
        format!("Invalid search query. Detailed unprocessed description follows. {detail}"),
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Column(String),
    Str(String),
    Num(Decimal),
    Call(String, Vec<Expr>),
    Star,
    /// A timestamp literal: a `TO_TIMESTAMP`/`TO_DATE` of literals, read once per query.
    Time(Timestamp),
}

impl Expr {
    fn is_aggregate(&self) -> bool {
        matches!(self, Expr::Call(name, _) if matches!(name.as_str(), "sum" | "count" | "min" | "max"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Predicate {
    Compare(Expr, Op, Expr),
    In(Expr, Vec<Expr>, bool),
    IsNull(Expr, bool),
    Between(Expr, Expr, Expr),
}

/// A `WHERE` condition: predicates combined with `AND`, `OR`, `NOT` and parentheses.
#[derive(Debug, Clone)]
enum Cond {
    Pred(Predicate),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug)]
struct Query {
    select: Vec<(Expr, Option<String>)>,
    table: String,
    alias: Option<String>,
    filter: Option<Cond>,
    group_by: Vec<Expr>,
    order_by: Vec<(Expr, bool)>,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

const RESERVED: [&str; 10] = [
    "from", "where", "group", "order", "and", "or", "by", "asc", "desc", "join",
];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), NsError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(invalid(&format!("expected {}", word.to_uppercase())))
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Token::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), NsError> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(invalid(&format!("expected '{sym}'")))
        }
    }

    fn expr(&mut self) -> Result<Expr, NsError> {
        match self.peek().cloned() {
            Some(Token::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Token::Num(n)) => {
                self.pos += 1;
                n.parse().map(Expr::Num).map_err(|_| invalid("bad number"))
            }
            Some(Token::Sym("*")) => {
                self.pos += 1;
                Ok(Expr::Star)
            }
            Some(Token::Word(w)) => {
                if RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) {
                    return Err(invalid(&format!("unexpected {w}")));
                }
                self.pos += 1;
                if self.eat_sym("(") {
                    let mut args = Vec::new();
                    if !self.eat_sym(")") {
                        loop {
                            args.push(self.expr()?);
                            if self.eat_sym(")") {
                                break;
                            }
                            self.expect_sym(",")?;
                        }
                    }
                    let name = w.to_ascii_lowercase();
                    if !matches!(
                        name.as_str(),
                        "builtin.df"
                            | "builtin.cf"
                            | "to_char"
                            | "to_timestamp"
                            | "to_date"
                            | "sum"
                            | "count"
                            | "min"
                            | "max"
                    ) {
                        return Err(invalid(&format!(
                            "the function {w} is not supported by the simulator"
                        )));
                    }
                    Ok(Expr::Call(name, args))
                } else {
                    if w.eq_ignore_ascii_case("select") {
                        return Err(invalid("sub-queries are not supported by the simulator"));
                    }
                    Ok(Expr::Column(w.to_ascii_lowercase()))
                }
            }
            _ => Err(invalid("expected an expression")),
        }
    }

    fn op(&mut self) -> Option<Op> {
        let op = match self.peek() {
            Some(Token::Sym("=")) => Op::Eq,
            Some(Token::Sym("!=")) | Some(Token::Sym("<>")) => Op::Ne,
            Some(Token::Sym("<")) => Op::Lt,
            Some(Token::Sym("<=")) => Op::Le,
            Some(Token::Sym(">")) => Op::Gt,
            Some(Token::Sym(">=")) => Op::Ge,
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn condition(&mut self) -> Result<Cond, NsError> {
        let mut parts = vec![self.conjunction()?];
        while self.eat_word("or") {
            parts.push(self.conjunction()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn conjunction(&mut self) -> Result<Cond, NsError> {
        let mut parts = vec![self.atom()?];
        while self.eat_word("and") {
            parts.push(self.atom()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn atom(&mut self) -> Result<Cond, NsError> {
        if self.eat_word("not") {
            return Ok(Cond::Not(Box::new(self.atom()?)));
        }
        if self.eat_sym("(") {
            let inner = self.condition()?;
            self.expect_sym(")")?;
            return Ok(inner);
        }
        Ok(Cond::Pred(self.predicate()?))
    }

    fn predicate(&mut self) -> Result<Predicate, NsError> {
        let left = self.expr()?;
        if self.eat_word("is") {
            let negated = self.eat_word("not");
            self.expect_word("null")?;
            return Ok(Predicate::IsNull(left, negated));
        }
        if self.eat_word("between") {
            let low = self.expr()?;
            self.expect_word("and")?;
            let high = self.expr()?;
            return Ok(Predicate::Between(left, low, high));
        }
        let negated = self.eat_word("not");
        if self.eat_word("in") {
            self.expect_sym("(")?;
            let mut items = vec![self.expr()?];
            while self.eat_sym(",") {
                items.push(self.expr()?);
            }
            self.expect_sym(")")?;
            return Ok(Predicate::In(left, items, negated));
        }
        if negated {
            return Err(invalid("expected IN after NOT"));
        }
        let op = self
            .op()
            .ok_or_else(|| invalid("expected a comparison operator"))?;
        Ok(Predicate::Compare(left, op, self.expr()?))
    }

    fn query(&mut self) -> Result<Query, NsError> {
        self.expect_word("select")?;
        let mut select = Vec::new();
        loop {
            let expr = self.expr()?;
            let alias = if self.eat_word("as") {
                match self.peek().cloned() {
                    Some(Token::Word(w)) => {
                        self.pos += 1;
                        Some(w.to_ascii_lowercase())
                    }
                    _ => return Err(invalid("expected an alias")),
                }
            } else {
                match self.peek().cloned() {
                    Some(Token::Word(w)) if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) => {
                        self.pos += 1;
                        Some(w.to_ascii_lowercase())
                    }
                    _ => None,
                }
            };
            select.push((expr, alias));
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_word("from")?;
        let table = match self.peek().cloned() {
            Some(Token::Word(w)) => {
                self.pos += 1;
                w.to_ascii_lowercase()
            }
            _ => return Err(invalid("expected a table name")),
        };
        let alias = match self.peek().cloned() {
            Some(Token::Word(w))
                if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r))
                    && !w.eq_ignore_ascii_case("inner")
                    && !w.eq_ignore_ascii_case("left") =>
            {
                self.pos += 1;
                Some(w.to_ascii_lowercase())
            }
            _ => None,
        };
        let filter = if self.eat_word("where") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut group_by = Vec::new();
        if self.eat_word("group") {
            self.expect_word("by")?;
            group_by.push(self.expr()?);
            while self.eat_sym(",") {
                group_by.push(self.expr()?);
            }
        }
        let mut order_by = Vec::new();
        if self.eat_word("order") {
            self.expect_word("by")?;
            loop {
                let expr = self.expr()?;
                let descending = if self.eat_word("desc") {
                    true
                } else {
                    self.eat_word("asc");
                    false
                };
                order_by.push((expr, descending));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.eat_sym(";");
        if let Some(token) = self.peek() {
            let what = match token {
                Token::Word(w) => w.clone(),
                Token::Str(s) => format!("'{s}'"),
                Token::Num(n) => n.clone(),
                Token::Sym(s) => (*s).to_string(),
            };
            return Err(invalid(&format!(
                "the simulator does not support '{what}' here (joins, OR and sub-queries are not modelled)"
            )));
        }
        Ok(Query {
            select,
            table,
            alias,
            filter,
            group_by,
            order_by,
        })
    }
}

/// A SuiteQL value.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Text(String),
    Num(Decimal),
    Time(Timestamp),
}

impl Val {
    fn render(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Text(s) => Some(s.clone()),
            Val::Num(n) => Some(n.normalize().to_string()),
            Val::Time(t) => Some(format_time(*t, "YYYY-MM-DD HH24:MI:SS")),
        }
    }

    fn cmp(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Null, _) | (_, Val::Null) => None,
            (Val::Num(a), Val::Num(b)) => Some(a.cmp(b)),
            (Val::Time(a), Val::Time(b)) => Some(a.cmp(b)),
            (Val::Text(a), Val::Text(b)) => Some(a.cmp(b)),
            (Val::Num(a), Val::Text(b)) => b.trim().parse::<Decimal>().ok().map(|b| a.cmp(&b)),
            (Val::Text(a), Val::Num(b)) => a.trim().parse::<Decimal>().ok().map(|a| a.cmp(b)),
            (Val::Time(a), Val::Text(b)) => parse_time(b, None).map(|b| a.cmp(&b)),
            (Val::Text(a), Val::Time(b)) => parse_time(a, None).map(|a| a.cmp(b)),
            _ => None,
        }
    }

    fn sort_cmp(&self, other: &Val) -> Ordering {
        match (self, other) {
            (Val::Null, Val::Null) => Ordering::Equal,
            (Val::Null, _) => Ordering::Greater,
            (_, Val::Null) => Ordering::Less,
            _ => self.cmp(other).unwrap_or(Ordering::Equal),
        }
    }
}

fn strtime_format(mask: &str) -> String {
    let mut out = String::new();
    let mut rest = mask;
    while !rest.is_empty() {
        let upper = rest.to_ascii_uppercase();
        let (piece, len) = if upper.starts_with("YYYY") {
            ("%Y".to_string(), 4)
        } else if upper.starts_with("HH24") {
            ("%H".to_string(), 4)
        } else if upper.starts_with("MM") {
            ("%m".to_string(), 2)
        } else if upper.starts_with("DD") {
            ("%d".to_string(), 2)
        } else if upper.starts_with("MI") {
            ("%M".to_string(), 2)
        } else if upper.starts_with("SS") {
            ("%S".to_string(), 2)
        } else if upper.starts_with("HH") {
            ("%H".to_string(), 2)
        } else if let Some(quoted) = rest.strip_prefix('"') {
            // A double-quoted literal, e.g. "T" in 'YYYY-MM-DD"T"HH24:MI:SS'.
            let literal = quoted.split('"').next().unwrap_or("");
            let consumed = (literal.len() + 2).min(rest.len());
            (literal.replace('%', "%%"), consumed)
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            (
                if ch == '%' {
                    "%%".to_string()
                } else {
                    ch.to_string()
                },
                ch.len_utf8(),
            )
        };
        out.push_str(&piece);
        rest = &rest[len.min(rest.len())..];
    }
    out
}

fn format_time(t: Timestamp, mask: &str) -> String {
    let zoned = t.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    strtime::format(strtime_format(mask).as_str(), &zoned).unwrap_or_else(|_| t.to_string())
}

fn parse_time(text: &str, mask: Option<&str>) -> Option<Timestamp> {
    let text = text.trim();
    let mut formats: Vec<String> = mask.map(strtime_format).into_iter().collect();
    formats.extend(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"].map(str::to_string));
    for format in formats {
        if let Ok(parsed) = strtime::parse(format.as_str(), text) {
            if let Ok(dt) = parsed.to_datetime() {
                return dt
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .ok()
                    .map(|z| z.timestamp());
            }
            if let Ok(date) = parsed.to_date() {
                return date
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .ok()
                    .map(|z| z.timestamp());
            }
        }
    }
    text.parse::<Timestamp>().ok()
}

struct Evaluator<'a> {
    table: &'a str,
    alias: Option<&'a str>,
    columns: &'a [&'static str],
}

impl Evaluator<'_> {
    fn column<'c>(&self, name: &'c str) -> Result<&'c str, NsError> {
        let bare = match name.split_once('.') {
            Some((prefix, column)) if Some(prefix) == self.alias || prefix == self.table => column,
            Some(_) => return Err(invalid(&format!("Unknown identifier '{name}'"))),
            None => name,
        };
        if self.columns.contains(&bare) {
            Ok(bare)
        } else {
            Err(invalid(&format!(
                "Unknown identifier '{name}' on table {}",
                self.table
            )))
        }
    }

    fn eval(&self, expr: &Expr, row: &Row) -> Result<Val, NsError> {
        Ok(match expr {
            Expr::Column(name) => row
                .values
                .get(self.column(name)?)
                .cloned()
                .unwrap_or(Val::Null),
            Expr::Str(s) => Val::Text(s.clone()),
            Expr::Num(n) => Val::Num(*n),
            Expr::Time(t) => Val::Time(*t),
            Expr::Star => return Err(invalid("'*' is only allowed alone or in COUNT(*)")),
            Expr::Call(name, args) => match (name.as_str(), args.as_slice()) {
                ("builtin.df", [Expr::Column(c)]) => {
                    let c = self.column(c)?;
                    match row.display.get(c) {
                        Some(d) => Val::Text(d.clone()),
                        None => row.values.get(c).cloned().unwrap_or(Val::Null),
                    }
                }
                ("builtin.cf", [Expr::Column(c)]) => {
                    let c = self.column(c)?;
                    match row.criteria.get(c) {
                        Some(d) => Val::Text(d.clone()),
                        None => row.values.get(c).cloned().unwrap_or(Val::Null),
                    }
                }
                ("to_char", [inner, Expr::Str(mask)]) => match self.eval(inner, row)? {
                    Val::Time(t) => Val::Text(format_time(t, mask)),
                    other => other,
                },
                ("to_timestamp" | "to_date", [Expr::Str(value), rest @ ..]) => {
                    let mask = match rest {
                        [Expr::Str(mask)] => Some(mask.as_str()),
                        [] => None,
                        _ => return Err(invalid("TO_TIMESTAMP takes a string and a format mask")),
                    };
                    parse_time(value, mask)
                        .map(Val::Time)
                        .ok_or_else(|| invalid(&format!("cannot read '{value}' as a timestamp")))?
                }
                _ => {
                    return Err(invalid(&format!(
                        "unsupported use of {}",
                        name.to_uppercase()
                    )));
                }
            },
        })
    }

    fn holds(&self, cond: &Cond, row: &Row) -> Result<bool, NsError> {
        Ok(match cond {
            Cond::Pred(p) => self.test(p, row)?,
            Cond::Not(inner) => !self.holds(inner, row)?,
            Cond::And(parts) => {
                for part in parts {
                    if !self.holds(part, row)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Or(parts) => {
                for part in parts {
                    if self.holds(part, row)? {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    fn test(&self, predicate: &Predicate, row: &Row) -> Result<bool, NsError> {
        Ok(match predicate {
            Predicate::Between(e, low, high) => {
                let v = self.eval(e, row)?;
                matches!(
                    v.cmp(&self.eval(low, row)?),
                    Some(Ordering::Greater | Ordering::Equal)
                ) && matches!(
                    v.cmp(&self.eval(high, row)?),
                    Some(Ordering::Less | Ordering::Equal)
                )
            }
            Predicate::IsNull(e, negated) => (self.eval(e, row)? == Val::Null) != *negated,
            Predicate::In(e, items, negated) => {
                let left = self.eval(e, row)?;
                let mut found = false;
                for item in items {
                    let right = self.eval(item, row)?;
                    found |= self.equal(e, &left, &right, row)?;
                }
                found != *negated && left != Val::Null
            }
            Predicate::Compare(l, op, r) => {
                let left = self.eval(l, row)?;
                let right = self.eval(r, row)?;
                match op {
                    Op::Eq => self.equal(l, &left, &right, row)?,
                    Op::Ne => {
                        left != Val::Null
                            && right != Val::Null
                            && !self.equal(l, &left, &right, row)?
                    }
                    _ => match left.cmp(&right) {
                        None => false,
                        Some(ord) => match op {
                            Op::Lt => ord == Ordering::Less,
                            Op::Le => ord != Ordering::Greater,
                            Op::Gt => ord == Ordering::Greater,
                            Op::Ge => ord != Ordering::Less,
                            _ => unreachable!("equality handled above"),
                        },
                    },
                }
            }
        })
    }

    /// Equality; a status column also matches its criteria form (`SalesOrd:B`).
    fn equal(&self, expr: &Expr, left: &Val, right: &Val, row: &Row) -> Result<bool, NsError> {
        if left.cmp(right) == Some(Ordering::Equal) {
            return Ok(true);
        }
        if let (Expr::Column(c), Val::Text(r)) = (expr, right)
            && let Some(cf) = row.criteria.get(self.column(c)?)
        {
            return Ok(cf == r);
        }
        Ok(false)
    }
}

fn output_name(expr: &Expr, alias: &Option<String>, n: usize) -> String {
    match (alias, expr) {
        (Some(a), _) => a.clone(),
        (None, Expr::Column(c)) => c.rsplit('.').next().unwrap_or(c).to_string(),
        _ => format!("expr{n}"),
    }
}

/// An output row: the selected (name, value) pairs, then the ORDER BY keys.
type OutputRow = (Vec<(String, Val)>, Vec<Val>);

/// Runs a query; answers every row (the caller pages), each with `links` and its non-null columns.
pub(crate) fn run(state: &State, query: &str) -> Result<Vec<Map<String, Value>>, NsError> {
    let tokens = tokenize(query)?;
    let q = Parser { tokens, pos: 0 }.query()?;
    let columns = tables::columns(&q.table)?;
    let ev = Evaluator {
        table: &q.table,
        alias: q.alias.as_deref(),
        columns,
    };
    let filter = match &q.filter {
        Some(cond) => Some(prefilter::fold(&ev, cond)?),
        None => None,
    };
    let keys = KeyConditions::new(&ev, filter.as_ref())?;
    let since = match q.table.as_str() {
        "transaction" => keys.lower_bound(&ev, "lastmodifieddate"),
        "transactionline" => keys.lower_bound(&ev, "linelastmodifieddate"),
        _ => None,
    };
    let rows = tables::rows(state, &q.table, since, &|row: &Row, set: &[&str]| {
        keys.admits(&ev, row, set)
    })?;
    let mut kept = Vec::new();
    for row in rows {
        let keep = match &filter {
            Some(cond) => ev.holds(cond, &row)?,
            None => true,
        };
        if keep {
            kept.push(row);
        }
    }
    let select: Vec<(Expr, Option<String>)> = if q.select.len() == 1 && q.select[0].0 == Expr::Star
    {
        columns
            .iter()
            .map(|c| (Expr::Column((*c).to_string()), None))
            .collect()
    } else {
        q.select.clone()
    };
    let aggregated = select.iter().any(|(e, _)| e.is_aggregate()) || !q.group_by.is_empty();

    // Each output row: (values for select items, sort keys).
    let mut out: Vec<OutputRow> = Vec::new();
    let names: Vec<String> = select
        .iter()
        .enumerate()
        .map(|(n, (e, a))| output_name(e, a, n + 1))
        .collect();
    let order_source = |expr: &Expr| -> Option<usize> {
        select.iter().enumerate().position(|(n, (e, a))| {
            e == expr || matches!(expr, Expr::Column(c) if *c == names[n] && (a.is_some() || !matches!(e, Expr::Column(_))))
        })
    };
    if aggregated {
        for (e, _) in &select {
            if !e.is_aggregate() && !q.group_by.contains(e) {
                return Err(invalid("not a GROUP BY expression"));
            }
        }
        let mut groups: BTreeMap<Vec<String>, Vec<&Row>> = BTreeMap::new();
        for row in &kept {
            let mut key = Vec::new();
            for g in &q.group_by {
                key.push(format!("{:?}", ev.eval(g, row)?));
            }
            groups.entry(key).or_default().push(row);
        }
        if groups.is_empty() && q.group_by.is_empty() {
            groups.insert(Vec::new(), Vec::new());
        }
        for rows in groups.values() {
            let mut values = Vec::new();
            for (n, (e, _)) in select.iter().enumerate() {
                let v = match e {
                    Expr::Call(f, args) if e.is_aggregate() => aggregate(&ev, f, args, rows)?,
                    _ => match rows.first() {
                        Some(r) => ev.eval(e, r)?,
                        None => Val::Null,
                    },
                };
                values.push((names[n].clone(), v));
            }
            let mut keys = Vec::new();
            for (o, _) in &q.order_by {
                let index = order_source(o).ok_or_else(|| {
                    invalid("ORDER BY must name a selected expression in a grouped query")
                })?;
                keys.push(values[index].1.clone());
            }
            out.push((values, keys));
        }
    } else {
        for row in &kept {
            let mut values = Vec::new();
            for (n, (e, _)) in select.iter().enumerate() {
                values.push((names[n].clone(), ev.eval(e, row)?));
            }
            let mut keys = Vec::new();
            for (o, _) in &q.order_by {
                let key = match order_source(o) {
                    Some(index) => values[index].1.clone(),
                    None => ev.eval(o, row)?,
                };
                keys.push(key);
            }
            out.push((values, keys));
        }
    }
    if !q.order_by.is_empty() {
        out.sort_by(|a, b| {
            for (i, (_, descending)) in q.order_by.iter().enumerate() {
                let ord = a.1[i].sort_cmp(&b.1[i]);
                let ord = if *descending { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    Ok(out
        .into_iter()
        .map(|(values, _)| {
            let mut map = Map::new();
            map.insert("links".into(), Value::Array(Vec::new()));
            for (name, value) in values {
                if let Some(text) = value.render() {
                    map.insert(name, Value::String(text));
                }
            }
            map
        })
        .collect())
}

fn aggregate(
    ev: &Evaluator<'_>,
    function: &str,
    args: &[Expr],
    rows: &[&Row],
) -> Result<Val, NsError> {
    if function == "count" {
        return Ok(Val::Num(Decimal::from(match args {
            [Expr::Star] => rows.len(),
            [e] => {
                let mut n = 0;
                for r in rows {
                    if ev.eval(e, r)? != Val::Null {
                        n += 1;
                    }
                }
                n
            }
            _ => return Err(invalid("COUNT takes one argument")),
        })));
    }
    let [e] = args else {
        return Err(invalid("aggregates take one argument"));
    };
    let mut values = Vec::new();
    for r in rows {
        let v = ev.eval(e, r)?;
        if v != Val::Null {
            values.push(v);
        }
    }
    Ok(match function {
        "sum" => {
            let mut total = Decimal::ZERO;
            for v in &values {
                match v {
                    Val::Num(n) => total += n,
                    _ => return Err(invalid("SUM needs a numeric column")),
                }
            }
            if values.is_empty() {
                Val::Null
            } else {
                Val::Num(total)
            }
        }
        "min" => values
            .into_iter()
            .min_by(|a, b| a.sort_cmp(b))
            .unwrap_or(Val::Null),
        _ => values
            .into_iter()
            .max_by(|a, b| a.sort_cmp(b))
            .unwrap_or(Val::Null),
    })
}
