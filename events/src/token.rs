//! Validated identifiers that are safe to use as one NATS subject token and in stream names.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest identifier accepted; keeps subjects and stream names well under NATS limits.
pub const TOKEN_MAX_LEN: usize = 64;

/// An identifier usable as exactly one subject token: `[a-z0-9_-]`, 1..=64 bytes, starting alphanumeric.
///
/// Site ids, node ids, cluster ids and profile names are all tokens, so a subject built from them can never
/// contain `.`, `*`, `>` or whitespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Token(String);

/// Why a string is not a valid [`Token`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The string is empty.
    #[error("identifier is empty")]
    Empty,
    /// The string is longer than [`TOKEN_MAX_LEN`] (the error keeps a bounded preview, never the whole input).
    #[error("identifier {0:?} is longer than {TOKEN_MAX_LEN} characters")]
    TooLong(String),
    /// The string holds a character outside `[a-z0-9_-]` or starts with `-`/`_` (a bounded preview).
    #[error("identifier {0:?} may only hold a-z, 0-9, '-' and '_' and must start with a letter or digit")]
    BadCharacter(String),
}

impl Token {
    /// Validates `s` as a token.
    pub fn new(s: impl Into<String>) -> Result<Self, TokenError> {
        let s = s.into();
        if s.is_empty() {
            return Err(TokenError::Empty);
        }
        if s.len() > TOKEN_MAX_LEN {
            return Err(TokenError::TooLong(preview(&s)));
        }
        let first_ok = s.as_bytes()[0].is_ascii_lowercase() || s.as_bytes()[0].is_ascii_digit();
        let all_ok = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !first_ok || !all_ok {
            return Err(TokenError::BadCharacter(preview(&s)));
        }
        Ok(Token(s))
    }

    /// The token as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most [`TOKEN_MAX_LEN`] characters of `s`, with `…` and the full length when cut: errors name the input without
/// echoing an arbitrarily long string back to whoever sent it.
fn preview(s: &str) -> String {
    let count = s.chars().count();
    if count <= TOKEN_MAX_LEN {
        return s.to_string();
    }
    let head: String = s.chars().take(TOKEN_MAX_LEN).collect();
    format!("{head}… ({count} characters)")
}

impl TryFrom<String> for Token {
    type Error = TokenError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Token::new(s)
    }
}

impl From<Token> for String {
    fn from(t: Token) -> String {
        t.0
    }
}

impl std::str::FromStr for Token {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Token::new(s)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_digits_dash_underscore() {
        assert!(Token::new("store-0042_a").is_ok());
    }

    #[test]
    fn rejects_subject_metacharacters() {
        for bad in ["a.b", "a*", ">", "a b", "A", "-a", "", "é"] {
            assert!(Token::new(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn rejects_overlong() {
        assert!(matches!(Token::new("a".repeat(65)), Err(TokenError::TooLong(_))));
    }

    #[test]
    fn an_error_never_echoes_a_huge_input_whole() {
        let message = Token::new("x".repeat(200_000)).map(|_| ()).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("200000 characters"), "{message}");
        let message = Token::new("Y".repeat(200_000)).map(|_| ()).unwrap_err().to_string();
        assert!(message.len() < 300, "{message}");
    }
}
