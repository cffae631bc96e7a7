//! The nats-server config fragment that puts a server in operator mode: trust the fleet's operator, resolve
//! accounts from a directory (the full resolver, updated by pushes to `$SYS.REQ.CLAIMS.UPDATE`), and know the
//! system and hub accounts from the first start on (`resolver_preload`).
//!
//! Pure: renders text from paths and keys.

use std::path::PathBuf;

use crate::conf_string::{quoted, quoted_path};

/// What an operator-mode server needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorModeConfig {
    /// The operator JWT file.
    pub operator_jwt: PathBuf,
    /// The system account's public key.
    pub system_account: String,
    /// The full resolver's directory.
    pub resolver_dir: PathBuf,
    /// Account public key → account JWT, loaded at start (a newer JWT already in the resolver dir wins).
    pub preload: Vec<(String, String)>,
}

impl OperatorModeConfig {
    /// The config lines (top level of `nats.conf`).
    ///
    /// `allow_delete: false`: an account JWT can be replaced (e.g. with revocations) but never deleted through
    /// `$SYS`, so a stolen system credential cannot wipe accounts.
    pub fn render(&self) -> String {
        let mut lines = vec![
            format!("operator: {}", quoted_path(&self.operator_jwt)),
            format!("system_account: {}", quoted(&self.system_account)),
            format!(
                "resolver: {{ type: full, dir: {}, allow_delete: false }}",
                quoted_path(&self.resolver_dir)
            ),
        ];
        if !self.preload.is_empty() {
            lines.push("resolver_preload: {".to_owned());
            lines.extend(
                self.preload
                    .iter()
                    .map(|(account, jwt)| format!("  {}: {}", quoted(account), quoted(jwt))),
            );
            lines.push("}".to_owned());
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_mode_names_the_operator_the_system_account_and_a_full_resolver() {
        let config = OperatorModeConfig {
            operator_jwt: PathBuf::from("/hub/trust/operator.jwt"),
            system_account: "ASYS".to_owned(),
            resolver_dir: PathBuf::from("/hub/trust/resolver"),
            preload: vec![
                ("ASYS".to_owned(), "sys.jwt".to_owned()),
                ("AHUB".to_owned(), "hub.jwt".to_owned()),
            ],
        };

        assert_eq!(
            config.render(),
            "operator: \"/hub/trust/operator.jwt\"\n\
             system_account: \"ASYS\"\n\
             resolver: { type: full, dir: \"/hub/trust/resolver\", allow_delete: false }\n\
             resolver_preload: {\n  \"ASYS\": \"sys.jwt\"\n  \"AHUB\": \"hub.jwt\"\n}\n"
        );
    }
}
