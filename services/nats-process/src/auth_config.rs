//! [`AuthConfig`]: the verbatim top-level authentication block of a server's config (operator
//! mode, or `accounts { … }` with users), kept apart from the rest so it can be replaced while
//! the server runs.
//!
//! Holds text only; `Debug` never shows it, since it may hold passwords.

/// The authentication block of `nats.conf`, verbatim; empty for an anonymous server.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct AuthConfig {
    text: String,
}

impl AuthConfig {
    /// The block `text`, exactly as given.
    pub(crate) fn new(text: &str) -> Self {
        Self { text: text.to_owned() }
    }

    /// The config lines: a marker comment and the block, or nothing for an empty block.
    pub(crate) fn render_lines(&self) -> Vec<String> {
        if self.text.trim().is_empty() {
            return Vec::new();
        }
        vec![
            "# Authentication (replaced by NatsServer::set_auth_config and reload)".to_owned(),
            self.text.trim_end_matches('\n').to_owned(),
            "# End of authentication".to_owned(),
        ]
    }
}

/// Shows only the size: the block may hold passwords.
impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthConfig(<{} bytes, redacted>)", self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_block_renders_nothing() {
        assert!(AuthConfig::default().render_lines().is_empty());
        assert!(AuthConfig::new(" \n").render_lines().is_empty());
    }

    #[test]
    fn the_block_is_verbatim_between_markers() {
        let block = "accounts {\n  A: { users: [{user: u, password: \"p#w\"}] }\n}\n";

        assert_eq!(
            AuthConfig::new(block).render_lines()[1],
            "accounts {\n  A: { users: [{user: u, password: \"p#w\"}] }\n}"
        );
    }

    #[test]
    fn debug_shows_the_size_but_not_the_text() {
        let debug = format!("{:?}", AuthConfig::new("authorization { token: s3cret }"));

        assert_eq!(debug, "AuthConfig(<31 bytes, redacted>)");
    }
}
