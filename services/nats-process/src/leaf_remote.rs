//! [`LeafRemote`]: one hub a server dials as a leaf — URL, credentials, the local account the
//! link binds to, and the CA the hub's certificate is checked against — and its config entry.
//!
//! Pure: renders text. `Debug` never shows a password or token carried in the URL.

use std::path::PathBuf;

use crate::conf_string::config_string;

/// A hub this server connects to as a leaf (an entry of `leafnodes { remotes: [ … ] }`).
#[derive(Clone, PartialEq, Eq)]
pub struct LeafRemote {
    /// The hub's leafnodes URL, `nats-leaf://host:port`; may carry `user:password@` when the
    /// hub authenticates leaves by password. A hub of several servers is a comma-separated list of their URLs: the
    /// link dials one and moves to another when it fails.
    pub url: String,
    /// A `.creds` file (JWT and seed) the link authenticates with; needs an operator-mode hub.
    pub credentials: Option<PathBuf>,
    /// The account of this server the link binds to (`None`: the global account).
    pub local_account: Option<String>,
    /// The only CA trusted for the hub's certificate; when set, the link always speaks TLS.
    pub ca: Option<PathBuf>,
}

impl LeafRemote {
    /// A plain remote to `url`: no credentials, the global account, no TLS of its own.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            credentials: None,
            local_account: None,
            ca: None,
        }
    }

    /// The remote as one config map on one line:
    /// `{ url: "…", credentials: "…", account: "…", tls: { ca_file: "…" } }`.
    pub(crate) fn render(&self) -> String {
        let urls: Vec<String> = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(config_string)
            .collect();
        let mut fields = vec![match urls.as_slice() {
            [one] => format!("url: {one}"),
            _ => format!("urls: [{}]", urls.join(", ")),
        }];
        if let Some(credentials) = &self.credentials {
            fields.push(format!(
                "credentials: {}",
                config_string(&credentials.to_string_lossy())
            ));
        }
        if let Some(account) = &self.local_account {
            fields.push(format!("account: {}", config_string(account)));
        }
        // A `tls` block makes nats-server dial TLS whatever the URL scheme says.
        if let Some(ca) = &self.ca {
            fields.push(format!("tls: {{ ca_file: {} }}", config_string(&ca.to_string_lossy())));
        }
        format!("{{ {} }}", fields.join(", "))
    }
}

/// Shows the URL with any password or token replaced by `<redacted>`.
impl std::fmt::Debug for LeafRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafRemote")
            .field(
                "url",
                &self
                    .url
                    .split(',')
                    .map(url_without_secret)
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .field("credentials", &self.credentials)
            .field("local_account", &self.local_account)
            .field("ca", &self.ca)
            .finish()
    }
}

/// `url` with the password of `user:password@` (or a bare token, `token@`) replaced by `<redacted>`.
fn url_without_secret(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user_info = match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{user}:<redacted>"),
        None => "<redacted>".to_owned(),
    };
    format!("{scheme}{user_info}{}", &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_remote_is_only_its_url() {
        assert_eq!(
            LeafRemote::new("nats-leaf://hub:7422").render(),
            "{ url: \"nats-leaf://hub:7422\" }"
        );
    }

    #[test]
    fn a_remote_names_its_credentials_account_and_ca() {
        let remote = LeafRemote {
            url: "nats-leaf://hub:7422".to_owned(),
            credentials: Some("/site/leaf.creds".into()),
            local_account: Some("SITE".to_owned()),
            ca: Some("/site/ca.pem".into()),
        };

        assert_eq!(
            remote.render(),
            "{ url: \"nats-leaf://hub:7422\", credentials: \"/site/leaf.creds\", account: \"SITE\", \
             tls: { ca_file: \"/site/ca.pem\" } }"
        );
    }

    #[test]
    fn a_hub_of_several_servers_is_a_list_of_urls() {
        assert_eq!(
            LeafRemote::new("nats-leaf://a:7422, nats-leaf://b:7422,nats-leaf://c:7422").render(),
            "{ urls: [\"nats-leaf://a:7422\", \"nats-leaf://b:7422\", \"nats-leaf://c:7422\"] }"
        );
    }

    #[test]
    fn odd_characters_in_urls_and_paths_are_quoted() {
        let remote = LeafRemote {
            ca: Some("/my \"certs\"/ca.pem".into()),
            ..LeafRemote::new(r"nats-leaf://leaf:p\w@hub:7422")
        };

        assert_eq!(
            remote.render(),
            r#"{ url: "nats-leaf://leaf:p\\w@hub:7422", tls: { ca_file: "/my \"certs\"/ca.pem" } }"#
        );
    }

    #[test]
    fn debug_never_shows_a_password_or_token_in_the_url() {
        let with_password = format!("{:?}", LeafRemote::new("nats-leaf://leaf:s3cret@hub:7422"));
        let with_token = format!("{:?}", LeafRemote::new("nats-leaf://t0ken@hub:7422/x@y"));

        assert!(
            with_password.contains("nats-leaf://leaf:<redacted>@hub:7422"),
            "{with_password}"
        );
        assert!(!with_password.contains("s3cret"), "{with_password}");
        assert!(
            with_token.contains("nats-leaf://<redacted>@hub:7422/x@y"),
            "{with_token}"
        );
        assert!(!with_token.contains("t0ken"), "{with_token}");
        assert_eq!(url_without_secret("nats-leaf://hub:7422"), "nats-leaf://hub:7422");
    }
}
