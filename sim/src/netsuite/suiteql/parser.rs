//! The SuiteQL parser: a query's select list, table, `WHERE` condition, `GROUP BY` and
//! `ORDER BY`, from its tokens.

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::invalid;
use super::lexer::{Token, tokenize};
use crate::netsuite::error::NsError;

/// An expression: a column, a literal, a function call or `*`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Column(String),
    Str(String),
    Num(Decimal),
    Call(String, Vec<Expr>),
    Star,
    /// A timestamp literal: a `TO_TIMESTAMP`/`TO_DATE` of literals, read once per query.
    Time(Timestamp),
}

impl Expr {
    /// Whether this is a call of `SUM`, `COUNT`, `MIN` or `MAX`.
    pub(super) fn is_aggregate(&self) -> bool {
        matches!(self, Expr::Call(name, _) if matches!(name.as_str(), "sum" | "count" | "min" | "max"))
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A predicate: a comparison, `[NOT] IN`, `IS [NOT] NULL` or `BETWEEN`.
#[derive(Debug, Clone)]
pub(super) enum Predicate {
    Compare(Expr, Op, Expr),
    In(Expr, Vec<Expr>, bool),
    IsNull(Expr, bool),
    Between(Expr, Expr, Expr),
}

/// A `WHERE` condition: predicates combined with `AND`, `OR`, `NOT` and parentheses.
#[derive(Debug, Clone)]
pub(super) enum Cond {
    Pred(Predicate),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

/// A parsed query.
#[derive(Debug)]
pub(super) struct Query {
    /// The selected expressions, each with its alias.
    pub(super) select: Vec<(Expr, Option<String>)>,
    /// The table, lower case.
    pub(super) table: String,
    /// The table's alias, lower case.
    pub(super) alias: Option<String>,
    /// The `WHERE` condition.
    pub(super) filter: Option<Cond>,
    /// The `GROUP BY` expressions.
    pub(super) group_by: Vec<Expr>,
    /// The `ORDER BY` expressions, each with whether it sorts descending.
    pub(super) order_by: Vec<(Expr, bool)>,
}

/// Parses a query.
pub(super) fn parse(query: &str) -> Result<Query, NsError> {
    Parser {
        tokens: tokenize(query)?,
        pos: 0,
    }
    .query()
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

    /// Moves past the next token when `found`; answers `found`.
    fn advance_if(&mut self, found: bool) -> bool {
        if found {
            self.pos += 1;
        }
        found
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.peek_word(word);
        self.advance_if(found)
    }

    fn expect_word(&mut self, word: &str) -> Result<(), NsError> {
        self.eat_word(word)
            .then_some(())
            .ok_or_else(|| invalid(&format!("expected {}", word.to_uppercase())))
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Sym(s)) if *s == sym);
        self.advance_if(found)
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), NsError> {
        self.eat_sym(sym)
            .then_some(())
            .ok_or_else(|| invalid(&format!("expected '{sym}'")))
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

    /// One or more `part`s separated by the keyword `word`; several are combined by `join`.
    fn joined(
        &mut self,
        word: &str,
        part: fn(&mut Self) -> Result<Cond, NsError>,
        join: fn(Vec<Cond>) -> Cond,
    ) -> Result<Cond, NsError> {
        let mut parts = vec![part(self)?];
        while self.eat_word(word) {
            parts.push(part(self)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            join(parts)
        })
    }

    fn condition(&mut self) -> Result<Cond, NsError> {
        self.joined("or", Self::conjunction, Cond::Or)
    }

    fn conjunction(&mut self) -> Result<Cond, NsError> {
        self.joined("and", Self::atom, Cond::And)
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
