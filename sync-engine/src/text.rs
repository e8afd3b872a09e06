//! Outside text made safe to print on a terminal.
//!
//! Exception messages, document names, SKUs, notes and payload values come from webhooks and
//! from the systems' records; printed raw, an escape sequence in them could clear the screen,
//! retitle the window, forge lines (CR/LF) or reorder what is shown (bidi overrides).
//! [`printable`] shows every such character as a visible escape instead.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is escaped by [`printable`]: C0 controls (tab and line feed included), DEL, C1
/// controls, and the Unicode bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069).
pub fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every control character (C0, DEL, C1) written as `\x1b` and every Unicode bidi
/// control as `\u{202e}`; all other text, non-ASCII letters included, is kept as it is.
/// Borrows when nothing needs escaping.
///
/// ```
/// use sync_engine::text::printable;
/// assert_eq!(printable("SO-1001 Größe"), "SO-1001 Größe");
/// assert_eq!(printable("a\x1b[2Jb\r\n"), "a\\x1b[2Jb\\x0d\\x0a");
/// assert_eq!(printable("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !is_escaped(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_as_it_is() {
        for text in [
            "",
            "SO-1001",
            "Größe ÅÄÖ 日本語 ⇄ €",
            "C:\\orders\\x1b",
            "tab-free",
        ] {
            assert!(
                matches!(printable(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn escape_sequences_lose_their_escape() {
        let shown = printable("\x1b[2J\x1b[31mred\x1b[0m");
        assert_eq!(shown, "\\x1b[2J\\x1b[31mred\\x1b[0m");
        assert!(!shown.contains('\x1b'));
    }

    #[test]
    fn an_osc_window_title_is_shown_not_obeyed() {
        let shown = printable("\x1b]0;pwned\x07after");
        assert_eq!(shown, "\\x1b]0;pwned\\x07after");
        assert!(!shown.contains(['\x1b', '\x07']));
    }

    #[test]
    fn line_breaks_and_other_c0_cannot_forge_lines() {
        assert_eq!(
            printable("ok\r\nFAKE LINE\tx\0\x7f"),
            "ok\\x0d\\x0aFAKE LINE\\x09x\\x00\\x7f"
        );
    }

    #[test]
    fn c1_controls_are_escaped() {
        // U+009B is the one-character CSI; U+0085 is NEL.
        assert_eq!(printable("\u{9b}2J\u{85}"), "\\u{9b}2J\\u{85}");
    }

    #[test]
    fn bidi_controls_are_escaped() {
        assert_eq!(
            printable("SKU-\u{202e}cod.exe\u{202c}"),
            "SKU-\\u{202e}cod.exe\\u{202c}"
        );
        for c in [
            '\u{202a}', '\u{202d}', '\u{2066}', '\u{2069}', '\u{200f}', '\u{61c}',
        ] {
            let text = c.to_string();
            assert_eq!(printable(&text), format!("\\u{{{:x}}}", c as u32));
        }
        // Neighbours that are not controls stay.
        assert_eq!(
            printable("\u{2029}\u{2065}\u{206a}"),
            "\u{2029}\u{2065}\u{206a}"
        );
    }
}
