//! Safe literal binding: `?` placeholders filled with quoted, escaped literals.
//!
//! SuiteQL over REST has no bind variables, so values have to be written into the text. A value
//! bound here is always a complete literal: strings are single-quoted with every `'` doubled,
//! numbers are written from typed values, so a SKU like `x' OR '1'='1` stays one string.

use rust_decimal::Decimal;

use crate::error::Error;

/// A value that can be bound into a query.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// `'text'` with quotes doubled.
    Str(String),
    /// An integer.
    Int(i64),
    /// A decimal, written with its exact digits.
    Decimal(Decimal),
    /// `'T'` or `'F'`, as SuiteQL stores booleans.
    Bool(bool),
    /// `TO_DATE('YYYY-MM-DD', 'YYYY-MM-DD')`.
    Date(jiff::civil::Date),
    /// `TO_TIMESTAMP('YYYY-MM-DD HH24:MI:SS', 'YYYY-MM-DD HH24:MI:SS')` of a civil date-time
    /// (SuiteQL compares in the account's time zone; convert before binding).
    DateTime(jiff::civil::DateTime),
    /// `(a, b, c)` for `IN ?`; must not be empty.
    List(Vec<Literal>),
}

impl Literal {
    fn write(&self, out: &mut String) -> Result<(), Error> {
        match self {
            Self::Str(s) => {
                if s.contains('\0') {
                    return Err(Error::InvalidRequest(
                        "a SuiteQL string literal cannot contain NUL".into(),
                    ));
                }
                out.push('\'');
                for c in s.chars() {
                    if c == '\'' {
                        out.push('\'');
                    }
                    out.push(c);
                }
                out.push('\'');
            }
            Self::Int(i) => out.push_str(&i.to_string()),
            Self::Decimal(d) => out.push_str(&d.normalize().to_string()),
            Self::Bool(b) => out.push_str(if *b { "'T'" } else { "'F'" }),
            Self::Date(d) => {
                out.push_str(&format!("TO_DATE('{d}', 'YYYY-MM-DD')"));
            }
            Self::DateTime(dt) => {
                out.push_str(&format!(
                    "TO_TIMESTAMP('{}', 'YYYY-MM-DD HH24:MI:SS')",
                    dt.strftime("%Y-%m-%d %H:%M:%S")
                ));
            }
            Self::List(items) => {
                if items.is_empty() {
                    return Err(Error::InvalidRequest(
                        "an IN list needs at least one value".into(),
                    ));
                }
                out.push('(');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if matches!(item, Self::List(_)) {
                        return Err(Error::InvalidRequest("nested IN lists".into()));
                    }
                    item.write(out)?;
                }
                out.push(')');
            }
        }
        Ok(())
    }
}

macro_rules! literal_from {
    ($($t:ty => $v:ident $(via $conv:expr)?),* $(,)?) => {$(
        impl From<$t> for Literal {
            fn from(value: $t) -> Self {
                Self::$v($( ($conv) )?(value))
            }
        }
    )*};
}

literal_from! {
    String => Str,
    i64 => Int,
    Decimal => Decimal,
    bool => Bool,
    jiff::civil::Date => Date,
    jiff::civil::DateTime => DateTime,
}

impl From<&str> for Literal {
    fn from(value: &str) -> Self {
        Self::Str(value.to_owned())
    }
}

impl From<i32> for Literal {
    fn from(value: i32) -> Self {
        Self::Int(value.into())
    }
}

impl From<u32> for Literal {
    fn from(value: u32) -> Self {
        Self::Int(value.into())
    }
}

impl From<&crate::ids::RecordId> for Literal {
    fn from(value: &crate::ids::RecordId) -> Self {
        Self::Str(value.as_str().to_owned())
    }
}

impl<T: Into<Literal>> From<Vec<T>> for Literal {
    fn from(values: Vec<T>) -> Self {
        Self::List(values.into_iter().map(Into::into).collect())
    }
}

/// A SuiteQL query: a template whose `?` placeholders (outside quoted text) are filled in order
/// by [`Query::bind`].
///
/// ```
/// use netsuite_client::suiteql::Query;
///
/// let q = Query::new("SELECT id FROM item WHERE itemid = ? AND isinactive = ?")
///     .bind("x' OR '1'='1")
///     .bind(false)
///     .build()
///     .unwrap();
/// assert_eq!(q, "SELECT id FROM item WHERE itemid = 'x'' OR ''1''=''1' AND isinactive = 'F'");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    template: String,
    values: Vec<Literal>,
}

impl Query {
    /// A query template.
    pub fn new(template: impl Into<String>) -> Self {
        Self {
            template: template.into(),
            values: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Literal>) -> Self {
        self.values.push(value.into());
        self
    }

    /// The final text. Fails when the number of values differs from the number of placeholders,
    /// or when the template has an unterminated quote.
    pub fn build(&self) -> Result<String, Error> {
        let mut out = String::with_capacity(self.template.len() + 16 * self.values.len());
        let mut values = self.values.iter();
        let mut in_quote = false;
        let mut used = 0usize;
        for c in self.template.chars() {
            match c {
                '\'' => {
                    in_quote = !in_quote;
                    out.push(c);
                }
                '?' if !in_quote => {
                    let v = values.next().ok_or_else(|| {
                        Error::InvalidRequest(format!(
                            "query has more placeholders than the {} bound values",
                            self.values.len()
                        ))
                    })?;
                    v.write(&mut out)?;
                    used += 1;
                }
                _ => out.push(c),
            }
        }
        if in_quote {
            return Err(Error::InvalidRequest(
                "query template has an unterminated quote".into(),
            ));
        }
        if used != self.values.len() {
            return Err(Error::InvalidRequest(format!(
                "{} values bound to {used} placeholders",
                self.values.len()
            )));
        }
        Ok(out)
    }
}

impl From<&str> for Query {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Query {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_escape_their_quotes() {
        for evil in [
            "x' OR '1'='1",
            "'; DELETE FROM item; --",
            "a''b",
            "\\' OR 1=1 --",
            "?",
        ] {
            let q = Query::new("SELECT id FROM item WHERE itemid = ?")
                .bind(evil)
                .build()
                .unwrap();
            let lit = q
                .strip_prefix("SELECT id FROM item WHERE itemid = ")
                .unwrap();
            // One literal: starts and ends with a quote, and every inner quote is doubled.
            assert!(lit.starts_with('\'') && lit.ends_with('\''), "{lit}");
            let inner = &lit[1..lit.len() - 1];
            assert_eq!(inner.replace("''", ""), evil.replace('\'', ""), "{lit}");
            assert_eq!(inner.replace("''", "'"), evil);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_binds_as_exactly_one_literal(value in "[^\\x00]{0,40}") {
            let q = Query::new("SELECT id FROM item WHERE itemid = ? AND 1 = ?")
                .bind(value.as_str())
                .bind(1i64)
                .build()
                .unwrap();
            let lit = q
                .strip_prefix("SELECT id FROM item WHERE itemid = ")
                .and_then(|r| r.strip_suffix(" AND 1 = 1"))
                .expect("the rest of the query is untouched");
            proptest::prop_assert!(lit.starts_with('\'') && lit.ends_with('\'') && lit.len() >= 2);
            let inner = &lit[1..lit.len() - 1];
            // Inside the literal every quote is doubled, so no quote can end it early.
            proptest::prop_assert_eq!(inner.matches('\'').count() % 2, 0);
            proptest::prop_assert!(!inner.replace("''", "").contains('\''));
            proptest::prop_assert_eq!(inner.replace("''", "'"), value);
        }
    }

    #[test]
    fn placeholders_inside_quotes_are_text() {
        let q = Query::new("SELECT '?' AS q, id FROM item WHERE id IN ? AND qty > ?")
            .bind(vec![1i64, 2, 3])
            .bind(Decimal::new(25, 1))
            .build()
            .unwrap();
        assert_eq!(
            q,
            "SELECT '?' AS q, id FROM item WHERE id IN (1, 2, 3) AND qty > 2.5"
        );
    }

    #[test]
    fn counts_must_match() {
        assert!(Query::new("SELECT ? FROM dual").build().is_err());
        assert!(Query::new("SELECT 1 FROM dual").bind(1i64).build().is_err());
        assert!(Query::new("SELECT 'x FROM dual").build().is_err());
        assert!(
            Query::new("WHERE id IN ?")
                .bind(Vec::<i64>::new())
                .build()
                .is_err()
        );
    }

    #[test]
    fn dates_and_times_use_explicit_formats() {
        let q = Query::new("WHERE d = ? AND t > ?")
            .bind(jiff::civil::date(2026, 1, 31))
            .bind(jiff::civil::date(2026, 1, 31).at(13, 0, 5, 0))
            .build()
            .unwrap();
        assert_eq!(
            q,
            "WHERE d = TO_DATE('2026-01-31', 'YYYY-MM-DD') AND t > TO_TIMESTAMP('2026-01-31 13:00:05', 'YYYY-MM-DD HH24:MI:SS')"
        );
    }
}
