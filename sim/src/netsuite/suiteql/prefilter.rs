//! The conditions of a `WHERE` clause that a row's keys alone decide.
//!
//! The clause is first checked as a whole against the table (every column it names exists,
//! every function is supported, every literal timestamp reads), so a wrong query is refused
//! whatever the data. Its top-level `AND` terms that read only plain columns are then tested on
//! each row's keys before the rest of the row is built (see `tables.rs`): a row they reject
//! would be rejected by the whole clause too.

use super::tables::Row;
use super::{Cond, Evaluator, Expr, Predicate};
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
        Expr::Str(_) | Expr::Num(_) | Expr::Star => {}
    }
    Some(())
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
