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

use rust_decimal::Decimal;
use serde_json::{Map, Value};

mod eval;
mod lexer;
mod parser;
mod prefilter;
mod tables;
mod value;

use eval::Evaluator;
use parser::{Cond, Expr, Op, Predicate};
use prefilter::KeyConditions;
use tables::Row;
use value::Val;

use super::error::NsError;
use super::state::State;

fn invalid(detail: &str) -> NsError {
    NsError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER",
        format!("Invalid search query. Detailed unprocessed description follows. {detail}"),
    )
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
    let q = parser::parse(query)?;
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
