//! A site's leaf remote to the hub: which URL, which credentials (the site's leaf `.creds`), which local account
//! the link binds to, and which CA to trust. Pure: renders the `leafnodes { remotes: [ … ] }` block.
//!
//! The remote names its credential file with `credentials:`; the site's own server keeps a plain config account
//! (`account:`) and the hub puts the link into the site's account by the credential's JWT.

use std::path::PathBuf;

use crate::conf_string::{quoted, quoted_path};
use crate::server_tls::RemoteTls;

/// One leaf remote of a site's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRemote {
    /// The hub's leafnodes URL (`nats-leaf://host:port`, or `tls://host:port`).
    pub url: String,
    /// The site's leaf `.creds` file.
    pub credentials: PathBuf,
    /// The site server's local account the link binds to (`None`: its global account).
    pub local_account: Option<String>,
    /// TLS to the hub, if the hub's leafnodes port speaks TLS.
    pub tls: Option<RemoteTls>,
}

impl LeafRemote {
    /// The remote as one config map.
    pub fn render(&self) -> String {
        let mut fields = vec![
            format!("url: {}", quoted(&self.url)),
            format!("credentials: {}", quoted_path(&self.credentials)),
        ];
        if let Some(account) = &self.local_account {
            fields.push(format!("account: {}", quoted(account)));
        }
        if let Some(tls) = &self.tls {
            fields.push(tls.render_block());
        }
        format!("{{ {} }}", fields.join(", "))
    }

    /// A `leafnodes` block dialing `remotes`.
    pub fn render_leafnodes(remotes: &[LeafRemote]) -> String {
        let lines: Vec<String> = remotes
            .iter()
            .map(|remote| format!("    {}", remote.render()))
            .collect();
        format!("leafnodes {{\n  remotes: [\n{}\n  ]\n}}\n", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_names_its_credentials_account_and_ca() {
        let remote = LeafRemote {
            url: "nats-leaf://hub:7422".to_owned(),
            credentials: "/site/leaf.creds".into(),
            local_account: Some("SITE".to_owned()),
            tls: Some(RemoteTls {
                ca: "/site/ca.pem".into(),
            }),
        };

        assert_eq!(
            remote.render(),
            "{ url: \"nats-leaf://hub:7422\", credentials: \"/site/leaf.creds\", account: \"SITE\", \
             tls: { ca_file: \"/site/ca.pem\" } }"
        );
    }
}
