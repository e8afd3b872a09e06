//! SuiteQL's tokens: words (keywords, identifiers, `table.column`), string literals, numbers
//! and symbols.

use super::invalid;
use crate::netsuite::error::NsError;

/// A token of a query.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

/// Splits a query into tokens; `''` inside a string literal is a quote.
pub(super) fn tokenize(query: &str) -> Result<Vec<Token>, NsError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(invalid("unterminated string literal")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        text.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Str(text));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "<>" => Some("<>"),
                "!=" => Some("!="),
                _ => None,
            };
            if let Some(sym) = sym {
                out.push(Token::Sym(sym));
                i += 2;
                continue;
            }
            let sym = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '*' => "*",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                ';' => ";",
                other => return Err(invalid(&format!("unexpected character '{other}'"))),
            };
            out.push(Token::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}
