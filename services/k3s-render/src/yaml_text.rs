//! YAML written by hand, line by line ([`YamlWriter`]), so every string scalar is double-quoted: k3s and
//! helm-controller read YAML with Go parsers that follow YAML 1.1 (`on`, `no`, `1_000` and `1:20` are not strings
//! there), and a quoted scalar means the same to every reader. Multi-line text (a release's values) goes in a
//! literal block when that keeps it byte for byte, and double-quoted with escapes otherwise.

/// Builds a YAML document; keys are this crate's constants, values are quoted.
#[derive(Default)]
pub struct YamlWriter {
    out: String,
}

impl YamlWriter {
    /// A `# comment` line; `text` must be one line.
    pub fn comment(&mut self, text: &str) {
        debug_assert!(!text.contains(['\n', '\r']));
        self.out.push_str("# ");
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// `key: "value"`.
    pub fn string(&mut self, indent: usize, key: &str, value: &str) {
        self.key(indent, key);
        self.out.push(' ');
        self.out.push_str(&quoted(value));
        self.out.push('\n');
    }

    /// `key: true|false`.
    pub fn bool(&mut self, indent: usize, key: &str, value: bool) {
        self.key(indent, key);
        self.out.push_str(if value { " true\n" } else { " false\n" });
    }

    /// `key:` opening a nested mapping or a list.
    pub fn section(&mut self, indent: usize, key: &str) {
        self.key(indent, key);
        self.out.push('\n');
    }

    /// `- "value"`, a list item.
    pub fn item(&mut self, indent: usize, value: &str) {
        self.indent(indent);
        self.out.push_str("- ");
        self.out.push_str(&quoted(value));
        self.out.push('\n');
    }

    /// `key: |…` with `text` as a literal block indented two more than `indent`, or `key: "…"` when a literal
    /// block could not hold `text` exactly.
    pub fn text(&mut self, indent: usize, key: &str, text: &str) {
        if !fits_literal_block(text) {
            return self.string(indent, key, text);
        }
        const BLOCK_INDENT: usize = 2;
        let body = text.trim_end_matches('\n');
        let chomping = match text.len() - body.len() {
            0 => "-",
            1 => "",
            _ => "+",
        };
        // Without an indicator the parser takes the indentation from the first line, which would swallow that
        // line's own leading spaces (or see nothing on an empty first line).
        let indicator = if body.starts_with([' ', '\n']) {
            BLOCK_INDENT.to_string()
        } else {
            String::new()
        };
        self.key(indent, key);
        self.out.push_str(&format!(" |{indicator}{chomping}\n"));
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            if !line.is_empty() {
                self.indent(indent + BLOCK_INDENT);
                self.out.push_str(line);
            }
            self.out.push('\n');
        }
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }

    fn key(&mut self, indent: usize, key: &str) {
        debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        self.indent(indent);
        self.out.push_str(key);
        self.out.push(':');
    }

    fn indent(&mut self, indent: usize) {
        self.out.extend(std::iter::repeat_n(' ', indent));
    }
}

/// `s` as a double-quoted YAML scalar: `\`, `"` and everything a reader could take for a line break or could
/// not print are escaped.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a literal block keeps `text` exactly: no character a reader would take as a line break or cannot
/// print, no line that is only blanks (a reader may take it for indentation), no line starting with a tab, and
/// at least one character that is not a line break.
fn fits_literal_block(text: &str) -> bool {
    let printable = !text
        .chars()
        .any(|c| c == '\r' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' || needs_escape(c));
    let lines_ok = text.split('\n').all(|line| {
        let only_blanks = !line.is_empty() && line.chars().all(|c| c == ' ' || c == '\t');
        !only_blanks && !line.starts_with('\t')
    });
    printable && lines_ok && !text.trim_matches('\n').is_empty()
}

/// Characters outside YAML's printable set (other than tab and line feed, handled apart), plus DEL and the C1
/// controls, which Go's YAML reader refuses unescaped.
fn needs_escape(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_always_quoted() {
        assert_eq!(quoted("on"), r#""on""#);
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(quoted("a\nb\u{1}\u{2028}"), r#""a\nb\u0001\L""#);
    }

    #[test]
    fn literal_blocks_say_how_to_read_their_ends() {
        let block = |text: &str| {
            let mut w = YamlWriter::default();
            w.text(2, "valuesContent", text);
            w.finish()
        };
        assert_eq!(block("a: 1"), "  valuesContent: |-\n    a: 1\n");
        assert_eq!(block("a: 1\n"), "  valuesContent: |\n    a: 1\n");
        assert_eq!(block("a: 1\n\n"), "  valuesContent: |+\n    a: 1\n\n");
        assert_eq!(block("  a: 1\n"), "  valuesContent: |2\n      a: 1\n");
        assert_eq!(block("\na: 1\n"), "  valuesContent: |2\n\n    a: 1\n");
        assert_eq!(block("a: 1\r\n"), "  valuesContent: \"a: 1\\r\\n\"\n");
        assert_eq!(block("a: 1\n  \n"), "  valuesContent: \"a: 1\\n  \\n\"\n");
        assert_eq!(block(""), "  valuesContent: \"\"\n");
    }
}
