//! SuiteQL values and their comparison, and the Oracle-style date masks of `TO_CHAR`,
//! `TO_TIMESTAMP` and `TO_DATE`.

use std::cmp::Ordering;

use jiff::Timestamp;
use jiff::fmt::strtime;
use rust_decimal::Decimal;

/// A SuiteQL value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Null,
    Text(String),
    Num(Decimal),
    Time(Timestamp),
}

impl Val {
    /// The value as the REST answer writes it (`None` for NULL, which is left out).
    pub(super) fn render(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Text(s) => Some(s.clone()),
            Val::Num(n) => Some(n.normalize().to_string()),
            Val::Time(t) => Some(format_time(*t, "YYYY-MM-DD HH24:MI:SS")),
        }
    }

    /// SQL comparison: `None` when either side is NULL or the two do not compare; text
    /// compares with a number or a timestamp by reading it as one.
    pub(super) fn cmp(&self, other: &Val) -> Option<Ordering> {
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

    /// The `ORDER BY` order: NULLs last.
    pub(super) fn sort_cmp(&self, other: &Val) -> Ordering {
        match (self, other) {
            (Val::Null, Val::Null) => Ordering::Equal,
            (Val::Null, _) => Ordering::Greater,
            (_, Val::Null) => Ordering::Less,
            _ => self.cmp(other).unwrap_or(Ordering::Equal),
        }
    }
}

/// The elements of an Oracle-style date mask and their `strftime` forms, longest first where
/// one starts another (`HH24` before `HH`).
const MASK_ELEMENTS: [(&str, &str); 7] = [
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("HH", "%H"),
];

/// An Oracle-style date mask as a `strftime` format; a double-quoted part is literal text.
fn strtime_format(mask: &str) -> String {
    let mut out = String::new();
    let mut rest = mask;
    while !rest.is_empty() {
        let upper = rest.to_ascii_uppercase();
        let element = MASK_ELEMENTS
            .iter()
            .find(|(element, _)| upper.starts_with(element));
        let (piece, len) = if let Some((element, spec)) = element {
            (spec.to_string(), element.len())
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

/// Formats a timestamp (UTC) with an Oracle-style mask (`YYYY-MM-DD HH24:MI:SS`).
pub(super) fn format_time(t: Timestamp, mask: &str) -> String {
    let zoned = t.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    strtime::format(strtime_format(mask).as_str(), &zoned).unwrap_or_else(|_| t.to_string())
}

/// Reads a timestamp with an Oracle-style mask, else as a date-time or date (UTC), else RFC 3339.
pub(super) fn parse_time(text: &str, mask: Option<&str>) -> Option<Timestamp> {
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
