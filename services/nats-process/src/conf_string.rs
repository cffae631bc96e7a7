//! Strings in nats-server's config syntax.
//!
//! Pure: turns values into config text. Every path, name and URL this crate renders goes
//! through [`config_string`], so no value can end a string early or start a variable.

/// `value` as a double-quoted nats-server config string, for text written by hand into
/// [`crate::NatsServerBuilder::auth_config`] (a password, a path).
///
/// Backslashes, double quotes, newlines, carriage returns and tabs are escaped; `$`, `#`, `{`
/// and `}` need no escape inside double quotes (nats-server 2.15 reads them literally there).
pub fn config_string(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for character in value.chars() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(config_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }

    #[test]
    fn line_breaks_and_tabs_are_escaped_so_a_value_stays_on_one_line() {
        assert_eq!(config_string("a\nb\r\tc"), r#""a\nb\r\tc""#);
    }

    #[test]
    fn config_syntax_characters_stay_literal_inside_the_quotes() {
        assert_eq!(config_string("p$word #x { } [ ] : ,"), "\"p$word #x { } [ ] : ,\"");
    }
}
