//! The cql2-text lexer: characters to tokens, each with its 1-based character position.
//! Unreadable input becomes a [`Tok::Bad`] token that the parser reports when it reaches it.

use std::fmt;

use super::eval::ArithOp;
use crate::query::filter::CompareOp;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword.
    Word(String),
    /// A "double-quoted" identifier: never a keyword.
    Quoted(String),
    /// A 'single-quoted' string.
    Text(String),
    Number(f64),
    Open,
    Close,
    Comma,
    Compare(CompareOp),
    /// `+ - * / % ^` (`div` is a word).
    Arith(ArithOp),
    /// What the lexer could not read; the parser reports it when it gets there.
    Bad(String),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Quoted(q) => write!(f, "the name \"{q}\""),
            Tok::Text(t) => write!(f, "the text {t:?}"),
            Tok::Number(n) => write!(f, "the number {n}"),
            Tok::Open => f.write_str("'('"),
            Tok::Close => f.write_str("')'"),
            Tok::Comma => f.write_str("','"),
            Tok::Compare(op) => write!(f, "'{}'", op_text(*op)),
            Tok::Arith(op) => write!(f, "'{}'", arith_text(*op)),
            Tok::Bad(_) => f.write_str("an unreadable character"),
            Tok::End => f.write_str("end of input"),
        }
    }
}

pub struct Token {
    /// The token.
    pub tok: Tok,
    /// 1-based character position.
    pub at: usize,
}

/// Splits the text into tokens; stops at the first unreadable one (a [`Tok::Bad`]).
pub fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let starts_number = |k: usize| {
            chars.get(k).is_some_and(char::is_ascii_digit)
                || (chars.get(k) == Some(&'.')
                    && chars.get(k + 1).is_some_and(char::is_ascii_digit))
        };
        let (tok, len) = match c {
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            ',' => (Tok::Comma, 1),
            '=' => (Tok::Compare(CompareOp::Eq), 1),
            '<' if next == Some('>') => (Tok::Compare(CompareOp::Ne), 2),
            '<' if next == Some('=') => (Tok::Compare(CompareOp::Le), 2),
            '<' => (Tok::Compare(CompareOp::Lt), 1),
            '>' if next == Some('=') => (Tok::Compare(CompareOp::Ge), 2),
            '>' => (Tok::Compare(CompareOp::Gt), 1),
            '!' if next == Some('=') => (Tok::Bad("'!=' is not CQL2; use '<>'".into()), 2),
            '\'' | '"' => match quoted(&chars, i) {
                Some((content, len)) if c == '\'' => (Tok::Text(content), len),
                Some((content, len)) => (Tok::Quoted(content), len),
                None => (
                    Tok::Bad(format!("the {c} opened here is never closed")),
                    chars.len() - i,
                ),
            },
            _ if starts_number(i) => number(&chars, i),
            '+' => (Tok::Arith(ArithOp::Add), 1),
            '-' => (Tok::Arith(ArithOp::Sub), 1),
            '*' => (Tok::Arith(ArithOp::Mul), 1),
            '/' => (Tok::Arith(ArithOp::Div), 1),
            '%' => (Tok::Arith(ArithOp::Rem), 1),
            '^' => (Tok::Arith(ArithOp::Pow), 1),
            _ if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '.' | ':'))
                    .count();
                (Tok::Word(chars[i..i + len].iter().collect()), len)
            }
            other => (Tok::Bad(format!("unexpected character {other:?}")), 1),
        };
        let stop = matches!(tok, Tok::Bad(_));
        tokens.push(Token { tok, at });
        if stop {
            return tokens;
        }
        i += len;
    }
    tokens.push(Token {
        tok: Tok::End,
        at: chars.len() + 1,
    });
    tokens
}

/// The content of a quoted string or name starting at `start` (doubled quotes are one
/// quote), and its length with the quotes; `None` when it is never closed.
fn quoted(chars: &[char], start: usize) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut content = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                content.push(quote);
                i += 2;
                continue;
            }
            return Some((content, i + 1 - start));
        }
        content.push(chars[i]);
        i += 1;
    }
    None
}

/// A number starting at `start`: sign, digits, fraction, exponent.
fn number(chars: &[char], start: usize) -> (Tok, usize) {
    let mut i = start;
    if matches!(chars.get(i), Some('-' | '+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        digits(&mut i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('-' | '+')) {
            j += 1;
        }
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            i = j;
            digits(&mut i);
        }
    }
    let text: String = chars[start..i].iter().collect();
    let tok = match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Tok::Number(n),
        _ => Tok::Bad(format!("{text} is not a finite number")),
    };
    (tok, i - start)
}

/// How an operator is written.
pub fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
    }
}

/// How an arithmetic operator is written.
pub fn arith_text(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
        ArithOp::Rem => "%",
        ArithOp::IntDiv => "div",
        ArithOp::Pow => "^",
    }
}
