//! Keyset paging past the row cap: `{select} WHERE ({filter}) AND {key} > {last} ORDER BY {key}`.
//!
//! The segment query is built from parts, so the query handed over must not have its own
//! `ORDER BY` (rows come back ordered by the key) nor a `WHERE` besides the filter.
//! [`Keyset::parse`] takes a whole query and moves a trailing `WHERE <condition>` into the
//! filter; anything it cannot page is refused with a [`KeysetError`] before a request is sent.

use crate::error::Error;
pub use crate::error::KeysetError;

use super::Query;

/// Keyset paging past the row cap: `{select} WHERE ({filter}) AND {key} > {last} ORDER BY {key}`.
///
/// ```
/// use netsuite_client::suiteql::{Keyset, Query};
///
/// let k = Keyset::new("SELECT id, itemid FROM item", "id")
///     .filter(Query::new("isinactive = ?").bind(false));
/// assert_eq!(
///     k.segment_query(Some(1200)).unwrap(),
///     "SELECT id, itemid FROM item WHERE (isinactive = 'F') AND id > 1200 ORDER BY id"
/// );
///
/// // A whole query: its trailing WHERE becomes the filter.
/// let k = Keyset::parse("SELECT id FROM item WHERE itemid LIKE 'SKU-%'", "id").unwrap();
/// assert_eq!(
///     k.segment_query(Some(299_999)).unwrap(),
///     "SELECT id FROM item WHERE (itemid LIKE 'SKU-%') AND id > 299999 ORDER BY id"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset {
    select: String,
    filter: Option<Query>,
    key: String,
}

impl Keyset {
    /// `select` is the query up to (not including) `WHERE`; `key` is a unique, integer column
    /// (usually `id` or `t.id`). A `select` with its own `WHERE` or `ORDER BY` is refused when
    /// the first segment is built; [`Keyset::parse`] accepts a whole query.
    pub fn new(select: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            select: select.into(),
            filter: None,
            key: key.into(),
        }
    }

    /// A keyset over a whole query: a top-level `WHERE <condition>` at its end becomes the
    /// filter. Refuses (with a [`KeysetError`]) a query with its own `ORDER BY`, `GROUP BY`,
    /// `HAVING`, a set operation (`UNION`, `INTERSECT`, `MINUS`, `EXCEPT`) or a row limit
    /// (`FETCH`, `OFFSET`), and a key that is not a column name. The condition is taken as
    /// written (comments dropped): `?` placeholders in it are refused when the query is built,
    /// as nothing is bound.
    pub fn parse(query: &str, key: impl Into<String>) -> Result<Self, KeysetError> {
        let key = key.into();
        check_key(&key)?;
        // A `--` comment in the condition would swallow the `) AND key > last` after it.
        let query = &without_comments(query)?;
        let clauses = top_level_clauses(query)?;
        check_clauses(&clauses, &key)?;
        let mut keyset = match clauses.iter().find(|c| c.name == "WHERE") {
            None => Self::new(query.trim(), key),
            Some(w) => {
                let condition = query[w.end..].trim();
                if condition.is_empty() {
                    return Err(KeysetError::EmptyWhere);
                }
                Self::new(query[..w.start].trim(), key).filter(Query::new(condition))
            }
        };
        keyset.select = keyset.select.trim().to_owned();
        Ok(keyset)
    }

    /// Adds a filter (combined with the key condition by `AND`).
    pub fn filter(mut self, filter: Query) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The key column.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Checks that the query can be paged: the key is a column, and the select has no
    /// `ORDER BY`, no `WHERE` (the filter holds the condition) and nothing else that the
    /// segment query cannot follow. [`Keyset::segment_query`] checks the same.
    pub fn validate(&self) -> Result<(), KeysetError> {
        check_key(&self.key)?;
        let clauses = top_level_clauses(&self.select)?;
        check_clauses(&clauses, &self.key)?;
        if clauses.iter().any(|c| c.name == "WHERE") {
            return Err(if self.filter.is_some() {
                KeysetError::WhereAndFilter
            } else {
                KeysetError::WhereInSelect
            });
        }
        Ok(())
    }

    /// The query of one segment, starting after key `after`.
    pub fn segment_query(&self, after: Option<i64>) -> Result<String, Error> {
        self.validate()?;
        let mut conds = Vec::new();
        if let Some(f) = &self.filter {
            conds.push(format!("({})", f.build()?));
        }
        if let Some(after) = after {
            conds.push(format!("{} > {after}", self.key));
        }
        let mut q = self.select.trim_end().to_owned();
        if !conds.is_empty() {
            q.push_str(" WHERE ");
            q.push_str(&conds.join(" AND "));
        }
        q.push_str(" ORDER BY ");
        q.push_str(&self.key);
        Ok(q)
    }
}

fn check_key(key: &str) -> Result<(), KeysetError> {
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(KeysetError::KeyNotColumn {
            key: key.to_owned(),
        })
    }
}

fn check_clauses(clauses: &[Clause], key: &str) -> Result<(), KeysetError> {
    let mut wheres = 0;
    for c in clauses {
        match c.name {
            "WHERE" => wheres += 1,
            "ORDER BY" => {
                return Err(KeysetError::OrderBy {
                    key: key.to_owned(),
                });
            }
            clause => {
                return Err(KeysetError::Clause {
                    clause,
                    key: key.to_owned(),
                });
            }
        }
    }
    if wheres > 1 {
        return Err(KeysetError::Clause {
            clause: "second WHERE",
            key: key.to_owned(),
        });
    }
    Ok(())
}

/// A clause keyword found outside quotes, comments and parentheses: `text[start..end]`.
#[derive(Debug, PartialEq, Eq)]
struct Clause {
    name: &'static str,
    start: usize,
    end: usize,
}

/// The top-level clause keywords of `sql` that matter for keyset paging, in order.
fn top_level_clauses(sql: &str) -> Result<Vec<Clause>, KeysetError> {
    let words = top_level_words(sql)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (start, end) = words[i];
        let word = sql[start..end].to_ascii_uppercase();
        let next_is_by = words
            .get(i + 1)
            .is_some_and(|&(s, e)| sql[s..e].eq_ignore_ascii_case("BY"));
        let found = match word.as_str() {
            "WHERE" => Some(("WHERE", end)),
            "ORDER" if next_is_by => Some(("ORDER BY", words[i + 1].1)),
            "GROUP" if next_is_by => Some(("GROUP BY", words[i + 1].1)),
            "HAVING" => Some(("HAVING", end)),
            "UNION" => Some(("UNION", end)),
            "INTERSECT" => Some(("INTERSECT", end)),
            "MINUS" => Some(("MINUS", end)),
            "EXCEPT" => Some(("EXCEPT", end)),
            "FETCH" => Some(("FETCH", end)),
            "OFFSET" => Some(("OFFSET", end)),
            _ => None,
        };
        if let Some((name, clause_end)) = found {
            out.push(Clause {
                name,
                start,
                end: clause_end,
            });
        }
        i += 1;
    }
    Ok(out)
}

/// `sql` with every comment replaced by a space.
fn without_comments(sql: &str) -> Result<String, KeysetError> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    loop {
        // The first comment opener outside quotes.
        let bytes = rest.as_bytes();
        let mut i = 0;
        let mut opener = None;
        while i < bytes.len() {
            match bytes[i] {
                q @ (b'\'' | b'"') => {
                    let close = rest[i + 1..]
                        .find(q as char)
                        .ok_or(KeysetError::Unbalanced)?;
                    // A doubled quote is two adjacent literals' worth of quotes: skipping to
                    // each closing quote in turn treats it the same way.
                    i = i + 1 + close + 1;
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    opener = Some((i, "\n", 0));
                    break;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    opener = Some((i, "*/", 2));
                    break;
                }
                _ => i += 1,
            }
        }
        let Some((start, close, close_len)) = opener else {
            out.push_str(rest);
            return Ok(out);
        };
        out.push_str(&rest[..start]);
        out.push(' ');
        match rest[start + 2..].find(close) {
            Some(n) => rest = &rest[start + 2 + n + close_len..],
            None if close == "\n" => return Ok(out),
            None => return Err(KeysetError::Unbalanced),
        }
    }
}

/// Byte ranges of the words (letters, digits, `_`) outside quotes, comments and parentheses.
fn top_level_words(sql: &str) -> Result<Vec<(usize, usize)>, KeysetError> {
    let bytes = sql.as_bytes();
    let mut words = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'#';
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                // A quoted literal or identifier; a doubled quote stays inside.
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => return Err(KeysetError::Unbalanced),
                        Some(&c) if c == b && bytes.get(j + 1) == Some(&b) => j += 2,
                        Some(&c) if c == b => break,
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let close = sql[i + 2..].find("*/").ok_or(KeysetError::Unbalanced)?;
                i = i + 2 + close + 2;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1).ok_or(KeysetError::Unbalanced)?;
                i += 1;
            }
            _ if word_byte(b) => {
                let start = i;
                while i < bytes.len() && word_byte(bytes[i]) {
                    i += 1;
                }
                if depth == 0 {
                    words.push((start, i));
                }
            }
            _ => i += 1,
        }
    }
    if depth != 0 {
        return Err(KeysetError::Unbalanced);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(query: &str, after: Option<i64>) -> Result<String, Error> {
        Keyset::parse(query, "id")
            .map_err(Error::from)?
            .segment_query(after)
    }

    #[test]
    fn a_trailing_where_becomes_the_filter() {
        assert_eq!(
            segment(
                "SELECT id, itemid FROM item WHERE itemid LIKE 'SKU-%'",
                Some(299_999)
            )
            .unwrap(),
            "SELECT id, itemid FROM item WHERE (itemid LIKE 'SKU-%') AND id > 299999 ORDER BY id"
        );
        assert_eq!(
            segment("select id from item where isinactive = 'F' or id < 5", None).unwrap(),
            "select id from item WHERE (isinactive = 'F' or id < 5) ORDER BY id"
        );
        assert_eq!(
            segment("SELECT id FROM item", Some(7)).unwrap(),
            "SELECT id FROM item WHERE id > 7 ORDER BY id"
        );
    }

    #[test]
    fn keywords_inside_quotes_comments_and_sub_queries_are_text() {
        assert_eq!(
            segment(
                "SELECT id, 'ORDER BY x' AS o, (SELECT MAX(q) FROM b WHERE b.i = item.id ORDER BY 1) AS m FROM item WHERE itemid <> 'a WHERE b' -- ORDER BY id\n",
                Some(1)
            )
            .unwrap(),
            "SELECT id, 'ORDER BY x' AS o, (SELECT MAX(q) FROM b WHERE b.i = item.id ORDER BY 1) AS m FROM item WHERE (itemid <> 'a WHERE b') AND id > 1 ORDER BY id"
        );
        assert_eq!(
            segment("SELECT \"where\" FROM item /* ORDER BY */", None).unwrap(),
            "SELECT \"where\" FROM item ORDER BY id"
        );
    }

    #[test]
    fn refuses_what_it_cannot_page() {
        let err = Keyset::parse("SELECT id FROM item ORDER BY id", "id").unwrap_err();
        assert_eq!(err, KeysetError::OrderBy { key: "id".into() });
        assert!(
            err.to_string().contains("remove the query's own ORDER BY"),
            "{err}"
        );
        assert_eq!(
            Keyset::parse("SELECT id FROM item WHERE x = 1 order  by itemid", "id").unwrap_err(),
            KeysetError::OrderBy { key: "id".into() }
        );
        for (query, clause) in [
            ("SELECT item, COUNT(*) FROM t GROUP BY item", "GROUP BY"),
            ("SELECT id FROM a UNION SELECT id FROM b", "UNION"),
            ("SELECT id FROM a FETCH FIRST 5 ROWS ONLY", "FETCH"),
        ] {
            assert_eq!(
                Keyset::parse(query, "id").unwrap_err(),
                KeysetError::Clause {
                    clause,
                    key: "id".into()
                },
                "{query}"
            );
        }
        assert_eq!(
            Keyset::parse("SELECT id FROM item WHERE", "id").unwrap_err(),
            KeysetError::EmptyWhere
        );
        assert_eq!(
            Keyset::parse("SELECT id FROM item WHERE x = 'a", "id").unwrap_err(),
            KeysetError::Unbalanced
        );
        assert_eq!(
            Keyset::parse("SELECT id FROM item", "id; DROP").unwrap_err(),
            KeysetError::KeyNotColumn {
                key: "id; DROP".into()
            }
        );
    }

    #[test]
    fn a_select_with_its_own_where_or_order_is_refused_with_a_filter() {
        let k = Keyset::new("SELECT id FROM item WHERE itemid LIKE 'SKU-%'", "id")
            .filter(Query::new("isinactive = 'F'"));
        assert!(matches!(
            k.segment_query(Some(1)),
            Err(Error::Keyset(KeysetError::WhereAndFilter))
        ));
        assert!(matches!(
            Keyset::new("SELECT id FROM item WHERE x = 1", "id").segment_query(None),
            Err(Error::Keyset(KeysetError::WhereInSelect))
        ));
        let k = Keyset::new("SELECT id FROM item ORDER BY id", "id");
        assert!(matches!(
            k.segment_query(None),
            Err(Error::Keyset(KeysetError::OrderBy { .. }))
        ));
    }
}
