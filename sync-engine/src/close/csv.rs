//! The close report as CSV (RFC 4180): fields holding a comma, a quote or a line break are
//! quoted with inner quotes doubled, and text fields a spreadsheet would take for a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) are prefixed with `'`.
//! Numbers are written as they are, so a negative quantity stays a number.

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

/// One row of a `record` kind: every cell empty until set under its column's name.
struct Row<'a>(Vec<Cell<'a>>);

impl<'a> Row<'a> {
    fn new(record: &'a str) -> Self {
        Row(HEADER.iter().map(|_| Cell::Empty).collect()).set("record", text(record))
    }

    fn set(mut self, column: &str, cell: Cell<'a>) -> Self {
        let i = HEADER
            .iter()
            .position(|h| *h == column)
            .expect("a column of the header");
        self.0[i] = cell;
        self
    }

    fn push(self, out: &mut String) {
        push_row(out, &self.0);
    }
}

pub(super) fn report(report: &CloseReport) -> String {
    let mut out = String::new();
    let header: Vec<Cell<'_>> = HEADER.iter().map(|h| text(h)).collect();
    push_row(&mut out, &header);
    for item in &report.items {
        let at = item.at.to_string();
        let (currency, value) = match &item.value {
            Some(v) => (Some(v.currency.to_string()), number(v.value)),
            None => (None, Cell::Empty),
        };
        Row::new("item")
            .set("category", text(item.category.code()))
            .set("blocking", text(if item.blocking { "yes" } else { "no" }))
            .set("document", text(&item.document))
            .set("activity", opt(&item.activity))
            .set("flow", opt(&item.flow))
            .set(
                "posting",
                item.posting.map_or(Cell::Empty, |p| text(p.code())),
            )
            .set("key", opt(&item.key))
            .set("kind", opt(&item.kind))
            .set("owner", opt(&item.owner))
            .set("severity", opt(&item.severity))
            .set("at", text(&at))
            .set("currency", opt(&currency))
            .set("value", value)
            .set("message", text(&item.message))
            .push(&mut out);
    }
    for t in &report.totals {
        Row::new("total")
            .set("flow", text(&t.flow))
            .set("transaction", text(t.transaction.code()))
            .set("documents", number(t.documents))
            .set("posted_documents", number(t.posted_documents))
            .set("units", number(t.units))
            .set("posted_units", number(t.posted_units))
            .set("lines_without_value", number(t.lines_without_value))
            .push(&mut out);
        let mut currencies: Vec<_> = t
            .value
            .currencies()
            .chain(t.posted_value.currencies())
            .collect();
        currencies.sort();
        currencies.dedup();
        for currency in currencies {
            let code = currency.to_string();
            let note = format!("value at NetSuite average cost in {code}");
            Row::new("value")
                .set("flow", text(&t.flow))
                .set("transaction", text(t.transaction.code()))
                .set("currency", text(&code))
                .set("value", t.value.get(currency).map_or(Cell::Empty, number))
                .set(
                    "posted_value",
                    t.posted_value.get(currency).map_or(Cell::Empty, number),
                )
                .set("message", text(&note))
                .push(&mut out);
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
    fn a_row_puts_each_cell_under_its_column() {
        let mut out = String::new();
        Row::new("value")
            .set("flow", text("F"))
            .set("transaction", text("T"))
            .set("currency", text("EUR"))
            .set("value", number(1))
            .set("posted_value", number(2))
            .set("message", text("note"))
            .push(&mut out);
        assert_eq!(out, "value,,,,,F,T,,,,,,,,,,,EUR,1,2,,note\r\n");
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
