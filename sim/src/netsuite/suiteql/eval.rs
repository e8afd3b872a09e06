//! Evaluating expressions and conditions on the rows of a virtual table.

use std::cmp::Ordering;

use super::invalid;
use super::parser::{Cond, Expr, Op, Predicate};
use super::tables::Row;
use super::value::{Val, format_time, parse_time};
use crate::netsuite::error::NsError;

/// Evaluates expressions against the rows of one table.
pub(super) struct Evaluator<'a> {
    /// The table's name.
    pub(super) table: &'a str,
    /// The table's alias in the query.
    pub(super) alias: Option<&'a str>,
    /// The table's columns.
    pub(super) columns: &'a [&'static str],
}

impl Evaluator<'_> {
    pub(super) fn column<'c>(&self, name: &'c str) -> Result<&'c str, NsError> {
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

    pub(super) fn eval(&self, expr: &Expr, row: &Row) -> Result<Val, NsError> {
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
                (function @ ("builtin.df" | "builtin.cf"), [Expr::Column(c)]) => {
                    let c = self.column(c)?;
                    let forms = if function == "builtin.df" {
                        &row.display
                    } else {
                        &row.criteria
                    };
                    match forms.get(c) {
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

    pub(super) fn holds(&self, cond: &Cond, row: &Row) -> Result<bool, NsError> {
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

    pub(super) fn test(&self, predicate: &Predicate, row: &Row) -> Result<bool, NsError> {
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
    pub(super) fn equal(
        &self,
        expr: &Expr,
        left: &Val,
        right: &Val,
        row: &Row,
    ) -> Result<bool, NsError> {
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
