//! The conditions of a `WHERE` clause that a row's keys alone decide.
//!
//! The clause is first checked as a whole against the table (every column it names exists,
//! every function is supported, every literal timestamp reads), so a wrong query is refused
//! whatever the data. Its top-level `AND` terms that read only plain columns are then tested on
//! each row's keys before the rest of the row is built (see `tables.rs`): a row they reject
//! would be rejected by the whole clause too.

use super::tables::Row;
use jiff::Timestamp;

use super::{Cond, Evaluator, Expr, Op, Predicate, Val};
use crate::netsuite::error::NsError;

/// The top-level `AND` terms of a clause, each with the columns it reads.
pub(super) struct KeyConditions<'q> {
    terms: Vec<(&'q Cond, Vec<&'q str>)>,
}

fn exprs(predicate: &Predicate) -> Vec<&Expr> {
    match predicate {
        Predicate::Compare(l, _, r) => vec![l, r],
        Predicate::In(e, items, _) => std::iter::once(e).chain(items).collect(),
        Predicate::IsNull(e, _) => vec![e],
        Predicate::Between(e, low, high) => vec![e, low, high],
    }
}

fn predicates<'c>(cond: &'c Cond, out: &mut Vec<&'c Predicate>) {
    match cond {
        Cond::Pred(p) => out.push(p),
        Cond::Not(inner) => predicates(inner, out),
        Cond::And(parts) | Cond::Or(parts) => {
            for part in parts {
                predicates(part, out);
            }
        }
    }
}

fn terms<'c>(cond: &'c Cond, out: &mut Vec<&'c Cond>) {
    match cond {
        Cond::And(parts) => {
            for part in parts {
                terms(part, out);
            }
        }
        other => out.push(other),
    }
}

/// The columns an expression reads, or `None` when it reads a display or criteria form (which
/// a row's keys do not carry).
fn plain_columns<'q>(ev: &Evaluator<'_>, expr: &'q Expr, out: &mut Vec<&'q str>) -> Option<()> {
    match expr {
        Expr::Column(name) => out.push(ev.column(name).ok()?),
        Expr::Call(name, args) => {
            if name.starts_with("builtin.") {
                return None;
            }
            for arg in args {
                plain_columns(ev, arg, out)?;
            }
        }
        Expr::Str(_) | Expr::Num(_) | Expr::Star | Expr::Time(_) => {}
    }
    Some(())
}

/// `expr` with its timestamp literals (`TO_TIMESTAMP`/`TO_DATE` of literals) read once.
fn fold_expr(ev: &Evaluator<'_>, expr: &Expr) -> Result<Expr, NsError> {
    Ok(match expr {
        Expr::Call(name, args)
            if matches!(name.as_str(), "to_timestamp" | "to_date")
                && args.iter().all(|a| matches!(a, Expr::Str(_))) =>
        {
            match ev.eval(expr, &Row::default())? {
                super::Val::Time(t) => Expr::Time(t),
                _ => expr.clone(),
            }
        }
        Expr::Call(name, args) => Expr::Call(
            name.clone(),
            args.iter()
                .map(|a| fold_expr(ev, a))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// The clause with its timestamp literals read once, instead of once per row.
pub(super) fn fold(ev: &Evaluator<'_>, cond: &Cond) -> Result<Cond, NsError> {
    let f = |e: &Expr| fold_expr(ev, e);
    Ok(match cond {
        Cond::Pred(p) => Cond::Pred(match p {
            Predicate::Compare(l, op, r) => Predicate::Compare(f(l)?, *op, f(r)?),
            Predicate::In(e, items, negated) => Predicate::In(
                f(e)?,
                items.iter().map(f).collect::<Result<_, _>>()?,
                *negated,
            ),
            Predicate::IsNull(e, negated) => Predicate::IsNull(f(e)?, *negated),
            Predicate::Between(e, low, high) => Predicate::Between(f(e)?, f(low)?, f(high)?),
        }),
        Cond::Not(inner) => Cond::Not(Box::new(fold(ev, inner)?)),
        Cond::And(parts) => Cond::And(
            parts
                .iter()
                .map(|p| fold(ev, p))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Or(parts) => Cond::Or(
            parts
                .iter()
                .map(|p| fold(ev, p))
                .collect::<Result<_, _>>()?,
        ),
    })
}

impl<'q> KeyConditions<'q> {
    /// Checks the clause against the table and keeps its terms that read plain columns.
    pub(super) fn new(ev: &Evaluator<'_>, filter: Option<&'q Cond>) -> Result<Self, NsError> {
        let Some(filter) = filter else {
            return Ok(KeyConditions { terms: Vec::new() });
        };
        let mut all = Vec::new();
        predicates(filter, &mut all);
        let empty = Row::default();
        for predicate in all {
            for expr in exprs(predicate) {
                ev.eval(expr, &empty)?;
            }
        }
        let mut top = Vec::new();
        terms(filter, &mut top);
        let terms = top
            .into_iter()
            .filter_map(|term| {
                let mut preds = Vec::new();
                predicates(term, &mut preds);
                let mut columns = Vec::new();
                for p in preds {
                    for e in exprs(p) {
                        plain_columns(ev, e, &mut columns)?;
                    }
                }
                Some((term, columns))
            })
            .collect();
        Ok(KeyConditions { terms })
    }

    /// The earliest `column` (a date) a kept row can have, when a term bounds it from below
    /// (`column >= t`, `column > t`, `column BETWEEN t AND …`, with `t` a timestamp literal).
    pub(super) fn lower_bound(&self, ev: &Evaluator<'_>, column: &str) -> Option<Timestamp> {
        let empty = Row::default();
        let time = |e: &Expr| match ev.eval(e, &empty).ok()? {
            Val::Time(t) => Some(t),
            _ => None,
        };
        let mut bound: Option<Timestamp> = None;
        for (term, _) in &self.terms {
            let Cond::Pred(p) = term else { continue };
            let t = match p {
                Predicate::Compare(Expr::Column(c), Op::Ge | Op::Gt, rhs)
                    if ev.column(c).ok() == Some(column) =>
                {
                    time(rhs)
                }
                Predicate::Between(Expr::Column(c), low, _)
                    if ev.column(c).ok() == Some(column) =>
                {
                    time(low)
                }
                _ => None,
            };
            if let Some(t) = t {
                bound = Some(bound.map_or(t, |b| b.max(t)));
            }
        }
        bound
    }

    /// Whether a row with only `set` columns filled may be kept: every term reading only those
    /// columns holds on it.
    pub(super) fn admits(
        &self,
        ev: &Evaluator<'_>,
        row: &Row,
        set: &[&str],
    ) -> Result<bool, NsError> {
        for (term, columns) in &self.terms {
            if columns.iter().all(|c| set.contains(c)) && !ev.holds(term, row)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
