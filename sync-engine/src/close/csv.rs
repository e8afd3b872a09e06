//! The close report as CSV (RFC 4180): fields holding a comma, a quote or a line break are
//! quoted with inner quotes doubled, and text fields a spreadsheet would take for a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) are prefixed with `'`.
//! Numbers are written as they are, so a negative quantity stays a number.

use std::fmt::Write as _;

use super::CloseReport;

const HEADER: &[&str] = &[
    "record",
    "category",
    "blocking",
    "document",
    "activity",
    "flow",
    "transaction",
    "posting",
    "key",
    "kind",
    "owner",
    "severity",
    "at",
    "documents",
    "posted_documents",
    "units",
    "posted_units",
    "currency",
    "value",
    "posted_value",
    "lines_without_value",
    "message",
];

/// One cell: text (guarded against formulas) or a number (written as is).
enum Cell<'a> {
    Text(&'a str),
    Number(String),
    Empty,
}

fn text(s: &str) -> Cell<'_> {
    Cell::Text(s)
}

fn opt(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Empty, Cell::Text)
}

fn number(n: impl ToString) -> Cell<'static> {
    Cell::Number(n.to_string())
}

fn push_field(out: &mut String, cell: &Cell<'_>) {
    let raw: std::borrow::Cow<'_, str> = match cell {
        Cell::Empty => return,
        Cell::Number(n) => n.as_str().into(),
        Cell::Text(t) => {
            if t.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{t}").into()
            } else {
                (*t).into()
            }
        }
    };
    if raw.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&raw.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&raw);
    }
}

fn push_row(out: &mut String, cells: &[Cell<'_>]) {
    debug_assert_eq!(cells.len(), HEADER.len());
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, cell);
    }
    out.push_str("\r\n");
}

pub(super) fn report(report: &CloseReport) -> String {
    let mut out = String::new();
    let header: Vec<Cell<'_>> = HEADER.iter().map(|h| text(h)).collect();
    push_row(&mut out, &header);
    for item in &report.items {
        let at = item.at.to_string();
        let posting = item.posting.map(|p| p.code());
        let (currency, value) = match &item.value {
            Some(v) => (Some(v.currency.to_string()), number(v.value)),
            None => (None, Cell::Empty),
        };
        push_row(
            &mut out,
            &[
                text("item"),
                text(item.category.code()),
                text(if item.blocking { "yes" } else { "no" }),
                text(&item.document),
                opt(&item.activity),
                opt(&item.flow),
                Cell::Empty,
                posting.map_or(Cell::Empty, Cell::Text),
                opt(&item.key),
                opt(&item.kind),
                opt(&item.owner),
                opt(&item.severity),
                text(&at),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                opt(&currency),
                value,
                Cell::Empty,
                Cell::Empty,
                text(&item.message),
            ],
        );
    }
    for t in &report.totals {
        push_row(
            &mut out,
            &[
                text("total"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                text(&t.flow),
                text(t.transaction.code()),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                number(t.documents),
                number(t.posted_documents),
                number(t.units),
                number(t.posted_units),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                number(t.lines_without_value),
                Cell::Empty,
            ],
        );
        let mut currencies: Vec<_> = t
            .value
            .currencies()
            .chain(t.posted_value.currencies())
            .collect();
        currencies.sort();
        currencies.dedup();
        for currency in currencies {
            let code = currency.to_string();
            let mut note = String::new();
            let _ = write!(note, "value at NetSuite average cost in {code}");
            push_row(
                &mut out,
                &[
                    text("value"),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    text(&t.flow),
                    text(t.transaction.code()),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    text(&code),
                    t.value.get(currency).map_or(Cell::Empty, number),
                    t.posted_value.get(currency).map_or(Cell::Empty, number),
                    Cell::Empty,
                    text(&note),
                ],
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = String::new();
        push_field(&mut out, &Cell::Text(s));
        out
    }

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let table = [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\rhere", "\"cr\rhere\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("", ""),
        ];
        for (input, expected) in table {
            assert_eq!(field(input), expected, "{input:?}");
        }
        // Numbers stay numbers, negative ones included.
        let mut out = String::new();
        push_field(&mut out, &number(rust_decimal::Decimal::from(-2)));
        assert_eq!(out, "-2");
    }
}
