//! Decoding one SuiteQL result page straight from its text.
//!
//! A page is an object whose `items` array holds flat row objects of string columns. General
//! JSON parsing spends most of its time on the bookkeeping around each of those short strings;
//! here the page and each row object are walked directly: a key or a string value with no escape
//! is handed to the row's `Deserialize` as a slice of the page (found eight bytes at a time), and
//! everything else (numbers, `null`, escaped strings, nested values, rows that are not structs)
//! is handed, as its own slice, to `serde_json`, so the row types and their errors behave as with
//! `serde_json` alone. Malformed pages fail; the error says where.

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Error;

/// The parts of a page the stream uses.
pub(crate) struct DecodedPage<T> {
    pub(crate) items: Vec<T>,
    pub(crate) has_more: bool,
    pub(crate) total_results: Option<u64>,
}

/// Decodes a page. `capacity` is the page size: `items` is allocated once for it (growing it by
/// doubling would copy every row several times).
pub(crate) fn decode<'de, T: Deserialize<'de>>(
    text: &'de str,
    capacity: usize,
) -> Result<DecodedPage<T>, Error> {
    let mut scan = Scan { text, pos: 0 };
    let mut page = DecodedPage {
        items: Vec::new(),
        has_more: false,
        total_results: None,
    };
    scan.expect(b'{', "`{` opening the page")?;
    let mut first = true;
    while let Some(key) = scan.next_key(&mut first)? {
        let key: std::borrow::Cow<'de, str> = match key {
            Key::Plain(key) => key.into(),
            Key::Escaped(key) => with_json(key, |de| String::deserialize(de))?.into(),
        };
        match key.as_ref() {
            "items" => {
                let mut items = Vec::with_capacity(capacity);
                scan.expect(b'[', "`[` opening `items`")?;
                if scan.peek() == Some(b']') {
                    scan.pos += 1;
                } else {
                    loop {
                        items.push(T::deserialize(Row(&mut scan))?);
                        match scan.peek() {
                            Some(b',') => scan.pos += 1,
                            Some(b']') => {
                                scan.pos += 1;
                                break;
                            }
                            _ => return Err(scan.error("`,` or `]` after a row")),
                        }
                    }
                }
                page.items = items;
            }
            "hasMore" => {
                page.has_more = Option::<bool>::deserialize(Value(&mut scan))?.unwrap_or(false);
            }
            "totalResults" => {
                page.total_results = Deserialize::deserialize(Value(&mut scan))?;
            }
            _ => {
                IgnoredAny::deserialize(Value(&mut scan))?;
            }
        }
    }
    scan.skip_ws();
    if scan.pos != text.len() {
        return Err(scan.error("the end of the page"));
    }
    Ok(page)
}

/// A position in the page.
struct Scan<'de> {
    text: &'de str,
    pos: usize,
}

/// A key as read: a slice of the page, or one with escapes (quotes included) to decode.
enum Key<'de> {
    Plain(&'de str),
    Escaped(&'de str),
}

/// `true` in each byte of `x` that is `"`, `\` or a control character (below 0x20). The lowest
/// marked byte is always a true one (the borrow that can mark a byte wrongly only runs upwards
/// from a true one), which is all a search for the first needs.
#[inline]
fn special_bytes(x: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_in(x ^ (ONES * u64::from(b'"')));
    let backslash = zero_in(x ^ (ONES * u64::from(b'\\')));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control
}

impl<'de> Scan<'de> {
    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    fn error(&self, expected: &str) -> Error {
        let found = match self.bytes().get(self.pos) {
            Some(b) => format!("{:?}", char::from(*b)),
            None => "the end".to_owned(),
        };
        de::Error::custom(format_args!(
            "expected {expected} at byte {}, found {found}",
            self.pos
        ))
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes().get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied()
    }

    #[inline]
    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Error> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// At a `"`: the string's text if it holds no escape and no control character, moving past
    /// it; otherwise `None`, not moving.
    #[inline]
    fn plain_str(&mut self) -> Option<&'de str> {
        let bytes = self.bytes();
        let start = self.pos + 1;
        let mut i = start;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let marks = special_bytes(u64::from_le_bytes(chunk.try_into().ok()?));
            if marks != 0 {
                i += (marks.trailing_zeros() / 8) as usize;
                return self.end_plain(start, i);
            }
            i += 8;
        }
        while let Some(b) = bytes.get(i) {
            if matches!(b, b'"' | b'\\') || *b < 0x20 {
                return self.end_plain(start, i);
            }
            i += 1;
        }
        None
    }

    #[inline]
    fn end_plain(&mut self, start: usize, end: usize) -> Option<&'de str> {
        if self.bytes()[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        // Both ends are next to an ASCII quote, so on character boundaries.
        self.text.get(start..end)
    }

    /// The whole value at the position (not checked beyond finding where it ends), moving past
    /// it.
    fn skip_value(&mut self) -> &'de str {
        self.skip_ws();
        let bytes = self.bytes();
        let start = self.pos;
        self.pos = match bytes.get(start) {
            Some(b'"') => skip_string(bytes, start),
            Some(b'{' | b'[') => skip_nested(bytes, start),
            _ => bytes[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\t' | b'\r'))
                .map_or(bytes.len(), |n| start + n),
        };
        self.text.get(start..self.pos).unwrap_or("")
    }

    /// The next key of an object whose `{` has been read, with the `:` after it; `None` at the
    /// closing `}`.
    #[inline]
    fn next_key(&mut self, first: &mut bool) -> Result<Option<Key<'de>>, Error> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                return Ok(None);
            }
            Some(b',') if !*first => self.pos += 1,
            _ if *first => {}
            _ => return Err(self.error("`,` or `}` in an object")),
        }
        *first = false;
        if self.peek() != Some(b'"') {
            return Err(self.error("a key"));
        }
        let key = match self.plain_str() {
            Some(key) => Key::Plain(key),
            None => Key::Escaped(self.skip_value()),
        };
        self.expect(b':', "`:` after a key")?;
        Ok(Some(key))
    }
}

/// Where a string starting at `start` (its `"`) ends: one past its closing quote, or the end.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Where an object or array starting at `start` ends: one past its closing bracket, or the end.
fn skip_nested(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Decodes `text`, one whole JSON value, with `serde_json`.
fn with_json<'de, R>(
    text: &'de str,
    f: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'de>>) -> Result<R, Error>,
) -> Result<R, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = f(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Methods that hand the value at the position to `serde_json`.
macro_rules! delegate {
    ($($method:ident ($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
                let text = self.0.skip_value();
                with_json(text, |de| de::Deserializer::$method(de, $($arg,)* visitor))
            }
        )*
    };
}

/// One row of `items`: a struct is read here, anything else by `serde_json`.
struct Row<'a, 'de>(&'a mut Scan<'de>);

impl<'de> de::Deserializer<'de> for Row<'_, 'de> {
    type Error = Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.0.peek() != Some(b'{') {
            let text = self.0.skip_value();
            return with_json(text, |de| {
                de::Deserializer::deserialize_struct(de, name, fields, visitor)
            });
        }
        self.0.pos += 1;
        let mut fields = Fields {
            scan: self.0,
            first: true,
            done: false,
        };
        let value = visitor.visit_map(&mut fields)?;
        if !fields.done {
            // As `serde_json`: a visitor that stops before the end of the object is an error.
            return Err(fields.scan.error("`}` closing the row"));
        }
        Ok(value)
    }

    delegate! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf(); deserialize_option();
        deserialize_unit(); deserialize_seq(); deserialize_map(); deserialize_identifier();
        deserialize_ignored_any();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
}

/// The keys and values of a row object.
struct Fields<'a, 'de> {
    scan: &'a mut Scan<'de>,
    first: bool,
    /// The closing `}` has been read.
    done: bool,
}

impl<'de> MapAccess<'de> for Fields<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.done {
            return Ok(None);
        }
        match self.scan.next_key(&mut self.first)? {
            None => {
                self.done = true;
                Ok(None)
            }
            Some(Key::Plain(key)) => seed
                .deserialize(BorrowedStrDeserializer::<Error>::new(key))
                .map(Some),
            Some(Key::Escaped(key)) => with_json(key, |de| seed.deserialize(de)).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Value(self.scan))
    }
}

/// A column value: a plain string is read here, anything else by `serde_json`.
struct Value<'a, 'de>(&'a mut Scan<'de>);

impl<'de> Value<'_, 'de> {
    /// A plain string for `visitor`, or the value handed to `serde_json` by `method`.
    fn string<V: Visitor<'de>>(
        self,
        visitor: V,
        method: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
            V,
        ) -> Result<V::Value, Error>,
    ) -> Result<V::Value, Error> {
        if self.0.peek() == Some(b'"')
            && let Some(text) = self.0.plain_str()
        {
            return visitor.visit_borrowed_str(text);
        }
        let text = self.0.skip_value();
        with_json(text, |de| method(de, visitor))
    }
}

impl<'de> de::Deserializer<'de> for Value<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor, |de, v| de::Deserializer::deserialize_any(de, v))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor, |de, v| de::Deserializer::deserialize_str(de, v))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor, |de, v| de::Deserializer::deserialize_string(de, v))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string(visitor, |de, v| {
            de::Deserializer::deserialize_identifier(de, v)
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.peek() == Some(b'n') {
            let text = self.0.skip_value();
            return with_json(text, |de| de::Deserializer::deserialize_option(de, visitor));
        }
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        // `serde_json::value::RawValue` asks for its text by a name of its own.
        if name.starts_with("$serde_json::") {
            let text = self.0.skip_value();
            return with_json(text, |de| {
                de::Deserializer::deserialize_newtype_struct(de, name, visitor)
            });
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A plain string or an empty array (every row's `links`): nothing to check.
        if self.0.peek() == Some(b'"') && self.0.plain_str().is_some() {
            return visitor.visit_unit();
        }
        let text = self.0.skip_value();
        if text == "[]" {
            return visitor.visit_unit();
        }
        with_json(text, |de| {
            de::Deserializer::deserialize_ignored_any(de, visitor)
        })
    }

    delegate! {
        deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char();
        deserialize_bytes(); deserialize_byte_buf();
        deserialize_unit(); deserialize_seq(); deserialize_map();
        deserialize_unit_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
