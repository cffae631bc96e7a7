//! A site's join token: the shared secret a new node presents (as the `join` user's password) before it has an
//! identity of its own.
//!
//! 160 bits from the operating system's random source, as 40 lowercase hex digits: printable, and safe unquoted
//! in URLs, shell commands and kernel command lines (it never starts with `-`, holds no `$`).

use std::fs::File;
use std::io::{self, Read};

/// Random bytes in a join token (160 bits).
pub const JOIN_TOKEN_RANDOM_BYTES: usize = 20;

/// Where the operating system's random bytes are read from (Linux, the BSDs, macOS).
const OS_RANDOM_SOURCE: &str = "/dev/urandom";

/// Why no join token could be made.
#[derive(Debug, thiserror::Error)]
pub enum JoinTokenError {
    /// The operating system's random source could not be read.
    #[error("cannot read random bytes from {OS_RANDOM_SOURCE} for a join token: {0}")]
    Randomness(#[source] io::Error),
}

/// A fresh join token: [`JOIN_TOKEN_RANDOM_BYTES`] bytes from the OS random source, as lowercase hex.
pub fn new_join_token() -> Result<String, JoinTokenError> {
    let mut random = [0u8; JOIN_TOKEN_RANDOM_BYTES];
    File::open(OS_RANDOM_SOURCE)
        .and_then(|mut source| source.read_exact(&mut random))
        .map_err(JoinTokenError::Randomness)?;
    Ok(data_encoding::HEXLOWER.encode(&random))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_join_token_is_160_bits_of_lowercase_hex() {
        let token = new_join_token().unwrap();

        assert_eq!(token.len(), 2 * JOIN_TOKEN_RANDOM_BYTES);
        assert!(
            token
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)),
            "{token}"
        );
    }

    #[test]
    fn join_tokens_do_not_repeat() {
        let tokens: HashSet<String> = (0..1000).map(|_| new_join_token().unwrap()).collect();

        assert_eq!(tokens.len(), 1000);
    }
}
