//! One account of a nats-server config file's `accounts { … }` block (a site's own server, not in operator mode):
//! its JetStream switch, users, exports and imports, each entry already in config syntax.
//!
//! Pure: renders text, one entry a line.

/// An account declared in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigAccount {
    /// The account's name.
    pub name: &'static str,
    /// True if the account has JetStream (`jetstream: enabled`).
    pub jetstream: bool,
    /// Its users, each `{ … }`.
    pub users: Vec<String>,
    /// What it exports, each `{ service: … }`.
    pub exports: Vec<String>,
    /// What it imports, each `{ service: { account: …, subject: … } }`.
    pub imports: Vec<String>,
}

impl ConfigAccount {
    /// `  NAME: { … }` and a newline, indented for the `accounts` block; empty lists are left out.
    pub fn render(&self) -> String {
        let mut body = String::new();
        if self.jetstream {
            body.push_str("    jetstream: enabled\n");
        }
        for (list, entries) in [
            ("users", &self.users),
            ("exports", &self.exports),
            ("imports", &self.imports),
        ] {
            if !entries.is_empty() {
                let lines: Vec<String> = entries.iter().map(|entry| format!("      {entry}")).collect();
                body.push_str(&format!("    {list}: [\n{}\n    ]\n", lines.join("\n")));
            }
        }
        format!("  {}: {{\n{body}  }}\n", self.name)
    }
}

/// The `accounts { … }` block holding `accounts`, in order.
pub(crate) fn render_accounts(accounts: &[ConfigAccount]) -> String {
    let rendered: String = accounts.iter().map(ConfigAccount::render).collect();
    format!("accounts {{\n{rendered}}}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_renders_jetstream_then_its_lists_one_entry_a_line() {
        let account = ConfigAccount {
            name: "A",
            jetstream: true,
            users: vec!["{ nkey: \"U1\" }".into(), "{ nkey: \"U2\" }".into()],
            exports: vec!["{ service: \"x\" }".into()],
            imports: Vec::new(),
        };

        assert_eq!(
            account.render(),
            "  A: {\n    jetstream: enabled\n    users: [\n      { nkey: \"U1\" }\n      { nkey: \"U2\" }\n    ]\n    exports: [\n      { service: \"x\" }\n    ]\n  }\n"
        );
    }

    #[test]
    fn accounts_are_rendered_in_order_in_one_block() {
        let account = |name| ConfigAccount {
            name,
            jetstream: false,
            users: Vec::new(),
            exports: Vec::new(),
            imports: vec!["{ i }".into()],
        };

        assert_eq!(
            render_accounts(&[account("B"), account("A")]),
            "accounts {\n  B: {\n    imports: [\n      { i }\n    ]\n  }\n  A: {\n    imports: [\n      { i }\n    ]\n  }\n}\n"
        );
    }
}
