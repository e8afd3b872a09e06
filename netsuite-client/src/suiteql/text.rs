//! [`Text`]: a string column value kept in 24 bytes, without an allocation up to 23 bytes.
//!
//! SuiteQL returns every column as a string, and most values are short: ids, SKUs, UPCs,
//! quantities, dates, `T`/`F`. Kept as `String`, each costs 24 bytes plus a heap block (32 bytes
//! with glibc's allocator for anything up to 24 bytes), so a ten-column row of short values costs
//! about 560 bytes and 100,000 rows about 53 MiB. A [`Text`] is the same 24 bytes as a `String`
//! but keeps values of up to 23 bytes inside itself, so the same rows cost 240 bytes each.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest value kept inline.
const INLINE: usize = 23;

/// Length of an inline value. An enum rather than a `u8` so that the values it cannot take give
/// [`Repr`] its discriminant: the whole value stays 24 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
    L23,
}

const LENS: [Len; INLINE + 1] = [
    Len::L0,
    Len::L1,
    Len::L2,
    Len::L3,
    Len::L4,
    Len::L5,
    Len::L6,
    Len::L7,
    Len::L8,
    Len::L9,
    Len::L10,
    Len::L11,
    Len::L12,
    Len::L13,
    Len::L14,
    Len::L15,
    Len::L16,
    Len::L17,
    Len::L18,
    Len::L19,
    Len::L20,
    Len::L21,
    Len::L22,
    Len::L23,
];

/// An inline value: its bytes, then its length. `repr(C)` keeps the length last, so the bytes
/// start at the beginning of the value, where they are written as whole words.
#[derive(Clone)]
#[repr(C)]
struct Inline {
    /// Up to 23 bytes of UTF-8 (validated when built), then zeros.
    buf: [u8; INLINE],
    len: Len,
}

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    /// Anything longer.
    Heap(Box<str>),
}

/// An immutable string that keeps values of up to 23 bytes without a heap allocation; 24 bytes
/// in all, like `String`. For SuiteQL rows that are kept in memory: deserializes from any JSON
/// string (and from numbers and booleans, written as text), dereferences to `&str`, compares,
/// hashes and orders as its text.
///
/// ```
/// use netsuite_client::suiteql::Text;
///
/// #[derive(serde::Deserialize)]
/// struct Item {
///     id: Text,
///     itemid: Text,
/// }
/// let item: Item = serde_json::from_str(r#"{"id":"42","itemid":"SKU-00000042"}"#).unwrap();
/// assert_eq!(item.itemid, "SKU-00000042");
/// assert_eq!(item.id.parse::<i64>().unwrap(), 42);
/// assert_eq!(std::mem::size_of::<Text>(), std::mem::size_of::<String>());
/// ```
#[derive(Clone)]
pub struct Text(Repr);

impl Text {
    /// The empty text.
    pub const fn new() -> Self {
        Self(Repr::Inline(Inline {
            buf: [0; INLINE],
            len: Len::L0,
        }))
    }

    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Built only from a `&str` (see `From<&str>`), so this never falls back.
            Repr::Inline(Inline { buf, len }) => {
                std::str::from_utf8(&buf[..*len as usize]).unwrap_or("")
            }
            Repr::Heap(s) => s,
        }
    }

    /// Whether the text is kept without a heap allocation (23 bytes or fewer).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(..))
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Self {
        match LENS.get(s.len()) {
            Some(len) => Self(Repr::Inline(Inline {
                buf: inline_copy(s.as_bytes()),
                len: *len,
            })),
            None => Self(Repr::Heap(s.into())),
        }
    }
}

/// `src` (at most [`INLINE`] bytes) at the start of a zeroed buffer. Reads it as at most three
/// (possibly overlapping) 8-byte words and writes whole words, instead of a call to `memcpy` for
/// a variable length or byte-sized moves that the processor cannot forward to the next read:
/// building a `Text` is on the path of every column of every row decoded.
#[inline]
fn inline_copy(src: &[u8]) -> [u8; INLINE] {
    let n = src.len();
    let word = |at: usize| {
        src.get(at..at + 8)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    // The last word read ends at `n`; shifted down, its bytes from `from` on come first.
    let tail = |from: usize| {
        word(n - 8)
            .checked_shr(8 * (from + 8 - n) as u32)
            .unwrap_or(0)
    };
    let (w0, w1, w2) = match n {
        16..=INLINE => (word(0), word(8), tail(16)),
        8..=15 => (word(0), tail(8), 0),
        _ => (
            src.iter()
                .enumerate()
                .fold(0, |w, (i, b)| w | u64::from(*b) << (8 * i)),
            0,
            0,
        ),
    };
    let mut buf = [0u8; INLINE];
    buf[..8].copy_from_slice(&w0.to_le_bytes());
    buf[8..16].copy_from_slice(&w1.to_le_bytes());
    buf[16..].copy_from_slice(&w2.to_le_bytes()[..INLINE - 16]);
    buf
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            Self::from(s.as_str())
        } else {
            Self(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        match t.0 {
            Repr::Heap(s) => s.into_string(),
            Repr::Inline(..) => t.as_str().to_owned(),
        }
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::from(v))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::from(v))
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text::from(if v { "true" } else { "false" }))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text::from(v.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text::from(v.to_string()))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text::from(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_as_a_string_and_short_values_stay_inline() {
        assert_eq!(std::mem::size_of::<Text>(), 24);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 24);
        for s in [
            "",
            "F",
            "12345",
            "Widget model 12345 blue",
            "ééé",
            "x".repeat(23).as_str(),
        ] {
            let t = Text::from(s);
            assert!(t.is_inline(), "{s:?}");
            assert_eq!(t.as_str(), s);
            assert_eq!(String::from(t), s);
        }
        let long = "Widget model 100000 blue";
        let t = Text::from(long);
        assert!(!t.is_inline());
        assert_eq!(t, long);
        assert_eq!(Text::from(long.to_owned()), t);
        assert_eq!(String::from(t), long);
    }

    #[test]
    fn every_length_round_trips() {
        let source: String = ('a'..='z').chain('A'..='Z').collect();
        for n in 0..=source.len() {
            let s = &source[..n];
            let t = Text::from(s);
            assert_eq!(t.as_str(), s, "length {n}");
            assert_eq!(t.is_inline(), n <= INLINE, "length {n}");
        }
    }

    #[test]
    fn deserializes_strings_escapes_numbers_and_booleans() {
        let v: Vec<Text> = serde_json::from_str(
            r#"["a\"b\u00e9", "x", 12, -3, 2.5, true, "a longer value than twenty-three bytes"]"#,
        )
        .unwrap();
        let got: Vec<&str> = v.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            got,
            [
                "a\"bé",
                "x",
                "12",
                "-3",
                "2.5",
                "true",
                "a longer value than twenty-three bytes"
            ]
        );
        assert!(serde_json::from_str::<Text>("null").is_err());
        assert_eq!(serde_json::to_string(&v[0]).unwrap(), r#""a\"bé""#);
    }

    #[test]
    fn orders_and_hashes_as_its_text() {
        let mut v: Vec<Text> = ["b", "a", "a much longer value, kept on the heap"]
            .into_iter()
            .map(Text::from)
            .collect();
        v.sort();
        assert_eq!(v[0], "a");
        assert_eq!(v[1], "a much longer value, kept on the heap");
        let set: std::collections::HashSet<Text> = v.into_iter().collect();
        assert!(set.contains("b"));
    }
}
