//! Who may connect to a site's own nats-server, and what each may do: the `accounts { SITE: { … }, NODES: { … } }`
//! block of its config.
//!
//! The site server is not in operator mode. It has two config accounts:
//!
//! - [`SITE_ACCOUNT`], with JetStream: the site process alone (an nkey, everything: it owns the site's streams,
//!   and the site's leaf link to the hub binds here). It exports to `NODES`, as services, exactly what agents call
//!   (`crate::node_services`'s table): the agent requests the site process answers, `$JS.API.INFO`, and the two
//!   direct gets that read an image.
//! - [`NODES_ACCOUNT`], without JetStream: the [`JOIN_USER`] (the site's join token as password, see
//!   [`join_permissions`]), one nkey user per joined node (see [`node_permissions`]) and one per local reader (see
//!   [`local_reader_permissions`]). It imports those services and nothing else.
//!
//! Why two: nats-server does not hold a request's reply subject against the requester's permissions, and the site
//! process and JetStream answer on whatever reply subject a request names. In one account, a node (or anyone with
//! the join token) could name `ef.site.<x>.…` as its reply subject and have the answer (an image chunk, the
//! account info, the site process's reply) stored by the site stream. Across a service import the server gives the
//! request a reply subject of its own in `SITE` and delivers the answer under the requester's reply subject in
//! `NODES`, where no stream listens (`tests/site_server_auth.rs` shows both for nodes and the join user).
//!
//! There is no anonymous access (no `no_auth_user`): a client that is none of these users is refused. Removing a
//! node from [`SiteServerAuth::nodes`] and reloading the server's config closes that node's connection.
//!
//! Pure: renders text. Never shows the join password in `Debug` or in an error.

use std::collections::HashSet;
use std::fmt;

use events::Token;

use crate::conf_string::quoted;
use crate::config_account::{render_accounts, ConfigAccount};
use crate::config_permissions::render_config_permissions;
use crate::nkey::{check_public_key, KeyError, User};
use crate::node_permissions::{join_permissions, local_reader_permissions, node_permissions};
use crate::node_services::{service_exports, service_imports};

/// The site server's config account with JetStream: the site process, the site's streams, the leaf link to the hub.
pub const SITE_ACCOUNT: &str = "SITE";

/// The site server's config account of the join user and the joined nodes: no JetStream, only `SITE`'s services.
pub const NODES_ACCOUNT: &str = "NODES";

/// The site server's system account, on a clustered site.
pub const SYSTEM_ACCOUNT: &str = "SYS";

/// The system account's one user, on a clustered site.
pub const SYSTEM_USER: &str = "system";

/// The user name a node presents, with the join token as password, before it has an nkey of its own.
pub const JOIN_USER: &str = "join";

/// A node that has joined the site: its id and the public key it connects with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedNode {
    /// The node id.
    pub node: Token,
    /// Its nkey's public key (`U…`).
    pub public_key: String,
}

/// Everyone who may connect to a site's own nats-server.
#[derive(Clone, PartialEq, Eq)]
pub struct SiteServerAuth {
    /// The site id (also the server's JetStream domain).
    pub site: Token,
    /// The site process's nkey public key (`U…`); it may do anything in the account.
    pub process_user: String,
    /// The site's join token, the [`JOIN_USER`]'s password (from [`crate::new_join_token`]).
    pub join_password: String,
    /// The nodes that have joined.
    pub nodes: Vec<JoinedNode>,
    /// Public nkeys (`U…`) of the local readers: people on site who may read the site's log lines while the hub is
    /// away (`local_reader_permissions`).
    pub local_readers: Vec<String>,
    /// The password of [`SYSTEM_USER`] in the server's system account [`SYSTEM_ACCOUNT`], on the servers of a
    /// clustered site: the site process shapes the JetStream cluster with it (removing a lost server).
    pub system_password: Option<String>,
}

/// Why a [`SiteServerAuth`] cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteServerAuthError {
    /// The site process's public key is not a user nkey.
    #[error("the site process's public key: {0}")]
    ProcessKey(#[source] KeyError),
    /// A node's public key is not a user nkey.
    #[error("node {node}'s public key: {source}")]
    NodeKey {
        /// The node.
        node: Token,
        /// Why its key is refused.
        source: KeyError,
    },
    /// A local reader's public key is not a user nkey.
    #[error("a local reader's public key: {0}")]
    LocalReaderKey(#[source] KeyError),
    /// A node is listed twice.
    #[error("node {0} is listed twice; list each joined node once")]
    DuplicateNode(Token),
    /// Two users (the site process or nodes) have the same public key: one could act as the other.
    #[error("public key {0} belongs to two users; every node and the site process need their own nkey")]
    DuplicateKey(String),
    /// The join password is empty.
    #[error("the join password is empty; make one with new_join_token")]
    EmptyJoinPassword,
    /// The join password holds a control character, which a config string cannot hold.
    #[error("the join password holds a control character (newline, tab, …); make one with new_join_token")]
    JoinPasswordNotPrintable,
    /// The join password looks like a bcrypt hash (`$2a$10$…`), which nats-server would compare as a hash.
    #[error("the join password starts like a bcrypt hash ($2a$NN$), which nats-server would not read as a password")]
    JoinPasswordLooksLikeBcrypt,
}

impl SiteServerAuth {
    /// The `accounts { SITE: { … }, NODES: { … } }` block (see the module docs), nodes in id order; refused if a key
    /// or the join password is unusable.
    pub fn render(&self) -> Result<String, SiteServerAuthError> {
        self.check()?;
        let mut nodes: Vec<&JoinedNode> = self.nodes.iter().collect();
        nodes.sort_by(|a, b| a.node.cmp(&b.node));

        let mut node_users = vec![with_permissions(
            format!("user: {}, password: {}", quoted(JOIN_USER), quoted(&self.join_password)),
            render_config_permissions(&join_permissions(&self.site)),
        )];
        for joined in nodes {
            node_users.push(with_permissions(
                format!("nkey: {}", quoted(&joined.public_key)),
                render_config_permissions(&node_permissions(&self.site, &joined.node)),
            ));
        }
        for reader in &self.local_readers {
            node_users.push(with_permissions(
                format!("nkey: {}", quoted(reader)),
                render_config_permissions(&local_reader_permissions(&self.site)),
            ));
        }
        let site = ConfigAccount {
            name: SITE_ACCOUNT,
            jetstream: true,
            users: vec![format!("{{ nkey: {} }}", quoted(&self.process_user))],
            exports: service_exports(&self.site),
            imports: Vec::new(),
        };
        let nodes = ConfigAccount {
            name: NODES_ACCOUNT,
            jetstream: false,
            users: node_users,
            exports: Vec::new(),
            imports: service_imports(&self.site),
        };
        let Some(system_password) = &self.system_password else {
            return Ok(render_accounts(&[site, nodes]));
        };
        // Derived, hex: checked like the join password all the same.
        check_join_password(system_password)?;
        let system = ConfigAccount {
            name: SYSTEM_ACCOUNT,
            jetstream: false,
            users: vec![format!(
                "{{ user: {}, password: {} }}",
                quoted(SYSTEM_USER),
                quoted(system_password)
            )],
            exports: Vec::new(),
            imports: Vec::new(),
        };
        Ok(format!(
            "{}\nsystem_account: {}",
            render_accounts(&[site, nodes, system]),
            quoted(SYSTEM_ACCOUNT)
        ))
    }

    /// Every public key is a user nkey and used once, every node listed once, the join password usable.
    fn check(&self) -> Result<(), SiteServerAuthError> {
        check_public_key::<User>(&self.process_user).map_err(SiteServerAuthError::ProcessKey)?;
        check_join_password(&self.join_password)?;
        let mut node_ids = HashSet::new();
        let mut public_keys = HashSet::from([self.process_user.as_str()]);
        for joined in &self.nodes {
            check_public_key::<User>(&joined.public_key).map_err(|source| SiteServerAuthError::NodeKey {
                node: joined.node.clone(),
                source,
            })?;
            if !node_ids.insert(&joined.node) {
                return Err(SiteServerAuthError::DuplicateNode(joined.node.clone()));
            }
            if !public_keys.insert(joined.public_key.as_str()) {
                return Err(SiteServerAuthError::DuplicateKey(joined.public_key.clone()));
            }
        }
        for reader in &self.local_readers {
            check_public_key::<User>(reader).map_err(SiteServerAuthError::LocalReaderKey)?;
            if !public_keys.insert(reader.as_str()) {
                return Err(SiteServerAuthError::DuplicateKey(reader.clone()));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SiteServerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteServerAuth")
            .field("site", &self.site)
            .field("process_user", &self.process_user)
            .field("join_password", &"<redacted>")
            .field("nodes", &self.nodes)
            .field("local_readers", &self.local_readers)
            .field("system_password", &self.system_password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The system user's password on the servers of a clustered site, derived from the site's join token (the
/// site image's shared secret) so that every machine's site process knows it without the hub.
pub fn site_system_password(site: &Token, join_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"edgefleet site system user\0");
    hash.update(site.as_str().as_bytes());
    hash.update(b"\0");
    hash.update(join_token.as_bytes());
    hash.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `{ <identity>, permissions: { … } }`, or `{ <identity> }` if the user may do anything.
fn with_permissions(identity: String, permissions: Option<String>) -> String {
    match permissions {
        Some(permissions) => format!("{{ {identity}, {permissions} }}"),
        None => format!("{{ {identity} }}"),
    }
}

/// A join password nats-server reads as the plain text it is: not empty, no control characters, not shaped like
/// a bcrypt hash (nats-server compares a password matching `^\$2[abxy]?\$\d\d\$` as bcrypt).
fn check_join_password(password: &str) -> Result<(), SiteServerAuthError> {
    if password.is_empty() {
        return Err(SiteServerAuthError::EmptyJoinPassword);
    }
    if password.chars().any(char::is_control) {
        return Err(SiteServerAuthError::JoinPasswordNotPrintable);
    }
    if looks_like_bcrypt(password) {
        return Err(SiteServerAuthError::JoinPasswordLooksLikeBcrypt);
    }
    Ok(())
}

/// True if `password` starts with `$2`, an optional `a`, `b`, `x` or `y`, then `$`, two digits and `$`.
fn looks_like_bcrypt(password: &str) -> bool {
    let Some(rest) = password.strip_prefix("$2") else {
        return false;
    };
    let rest = rest.strip_prefix(['a', 'b', 'x', 'y']).unwrap_or(rest);
    let bytes = rest.as_bytes();
    bytes.len() >= 4 && bytes[0] == b'$' && bytes[1].is_ascii_digit() && bytes[2].is_ascii_digit() && bytes[3] == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nkey::{AccountKey, UserKey};

    fn token(text: &str) -> Token {
        Token::new(text).unwrap()
    }

    fn auth_with_nodes(nodes: &[(&str, &str)]) -> SiteServerAuth {
        SiteServerAuth {
            site: token("s1"),
            process_user: UserKey::generate().public_key(),
            join_password: "secret".into(),
            nodes: nodes
                .iter()
                .map(|(node, public_key)| JoinedNode {
                    node: token(node),
                    public_key: (*public_key).to_owned(),
                })
                .collect(),
            local_readers: Vec::new(),
            system_password: None,
        }
    }

    #[test]
    fn the_process_is_alone_in_site_and_the_join_user_and_nodes_are_in_nodes_with_exactly_their_permissions() {
        let n1 = UserKey::generate().public_key();
        let n2 = UserKey::generate().public_key();
        let auth = auth_with_nodes(&[("n2", &n2), ("n1", &n1)]);

        let rendered = auth.render().unwrap();

        let join = r#"{ user: "join", password: "secret", permissions: { publish: { allow: ["ef.agent.s1.join", "$JS.API.INFO"] }, subscribe: { allow: ["_INBOX_join.>"] } } }"#;
        let node = |id: &str, key: &str| {
            format!(
                r#"{{ nkey: "{key}", permissions: {{ publish: {{ allow: ["ef.agent.s1.{id}.>", "$JS.API.INFO", "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*", "$JS.API.DIRECT.GET.OBJ_ef-images", "$JS.API.STREAM.INFO.KV_ef-config", "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>"] }}, subscribe: {{ allow: ["_INBOX_node_{id}.>"] }} }} }}"#
            )
        };
        let services = [
            "ef.agent.s1.>",
            "$JS.API.INFO",
            "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*",
            "$JS.API.DIRECT.GET.OBJ_ef-images",
            "$JS.API.STREAM.INFO.KV_ef-config",
            "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>",
        ];
        let exports: String = services
            .iter()
            .map(|subject| format!("      {{ service: \"{subject}\", accounts: [\"NODES\"] }}\n"))
            .collect();
        let imports: String = services
            .iter()
            .map(|subject| format!("      {{ service: {{ account: \"SITE\", subject: \"{subject}\" }} }}\n"))
            .collect();
        let expected = format!(
            "accounts {{\n  SITE: {{\n    jetstream: enabled\n    users: [\n      {{ nkey: \"{}\" }}\n    ]\n    exports: [\n{exports}    ]\n  }}\n  NODES: {{\n    users: [\n      {join}\n      {}\n      {}\n    ]\n    imports: [\n{imports}    ]\n  }}\n}}\n",
            auth.process_user,
            node("n1", &n1),
            node("n2", &n2),
        );
        assert_eq!(rendered, expected);
    }

    #[test]
    fn a_local_reader_is_in_nodes_and_may_only_ask_for_log_lines_and_read_the_config() {
        let reader = UserKey::generate().public_key();
        let mut auth = auth_with_nodes(&[]);
        auth.local_readers = vec![reader.clone()];

        let rendered = auth.render().unwrap();

        let nodes = &rendered[rendered.find("NODES").unwrap()..];
        let user = &nodes[nodes.find(&reader).unwrap()..];
        let user = &user[..user.find("} } }").unwrap()];
        assert!(
            user.contains(
                r#"allow: ["ef.agent.s1._reader.logs.list", "$JS.API.STREAM.INFO.KV_ef-config", "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>"]"#
            ),
            "{user}"
        );
        assert!(user.contains(r#"allow: ["_INBOX_reader.>"]"#), "{user}");
        assert!(
            !rendered[..rendered.find("NODES").unwrap()].contains(&reader),
            "not in SITE: {rendered}"
        );

        auth.local_readers = vec!["not a key".into()];
        assert!(matches!(auth.render(), Err(SiteServerAuthError::LocalReaderKey(_))));
        auth.local_readers = vec![auth.process_user.clone()];
        assert!(matches!(auth.render(), Err(SiteServerAuthError::DuplicateKey(_))));
    }

    #[test]
    fn a_site_without_nodes_still_has_the_join_user_in_nodes() {
        let auth = auth_with_nodes(&[]);

        let rendered = auth.render().unwrap();

        let nodes = &rendered[rendered.find("  NODES: {").expect("the NODES account")..];
        assert!(nodes.contains(r#"{ user: "join", password: "secret""#), "{rendered}");
        assert!(!nodes.contains("jetstream"), "{rendered}");
    }

    #[test]
    fn a_password_with_quotes_backslashes_and_spaces_is_quoted() {
        let mut auth = auth_with_nodes(&[]);
        auth.join_password = r#"a "b" \c d $HOME #{}"#.into();

        let rendered = auth.render().unwrap();

        assert!(
            rendered.contains(r#"password: "a \"b\" \\c d $HOME #{}""#),
            "{rendered}"
        );
    }

    #[test]
    fn unusable_join_passwords_are_refused() {
        for (password, expected) in [
            ("", SiteServerAuthError::EmptyJoinPassword),
            ("two\nlines", SiteServerAuthError::JoinPasswordNotPrintable),
            (
                "$2a$10$abcdefghijklmnopqrstuv",
                SiteServerAuthError::JoinPasswordLooksLikeBcrypt,
            ),
            ("$2$04$x", SiteServerAuthError::JoinPasswordLooksLikeBcrypt),
        ] {
            let mut auth = auth_with_nodes(&[]);
            auth.join_password = password.into();

            assert_eq!(auth.render(), Err(expected), "{password:?}");
        }
    }

    #[test]
    fn passwords_that_merely_start_with_a_dollar_are_fine() {
        for password in ["$2", "$2abc", "$20$", "$$2a$10$"] {
            let mut auth = auth_with_nodes(&[]);
            auth.join_password = password.into();

            assert!(auth.render().is_ok(), "{password:?}");
        }
    }

    #[test]
    fn keys_that_are_not_user_nkeys_are_refused() {
        let account = AccountKey::generate().public_key();
        let mut auth = auth_with_nodes(&[("n1", &account)]);

        assert!(matches!(
            auth.render(),
            Err(SiteServerAuthError::NodeKey { node, source: KeyError::WrongRole { .. } }) if node.as_str() == "n1"
        ));

        auth.nodes.clear();
        auth.process_user = "Unope".into();
        assert!(matches!(
            auth.render(),
            Err(SiteServerAuthError::ProcessKey(KeyError::Malformed { .. }))
        ));
    }

    #[test]
    fn a_node_listed_twice_or_a_key_used_twice_is_refused() {
        let n1 = UserKey::generate().public_key();
        let other = UserKey::generate().public_key();

        let twice = auth_with_nodes(&[("n1", &n1), ("n1", &other)]);
        assert_eq!(twice.render(), Err(SiteServerAuthError::DuplicateNode(token("n1"))));

        let shared = auth_with_nodes(&[("n1", &n1), ("n2", &n1)]);
        assert_eq!(shared.render(), Err(SiteServerAuthError::DuplicateKey(n1)));

        let mut like_the_process = auth_with_nodes(&[]);
        like_the_process.nodes.push(JoinedNode {
            node: token("n1"),
            public_key: like_the_process.process_user.clone(),
        });
        assert!(matches!(
            like_the_process.render(),
            Err(SiteServerAuthError::DuplicateKey(_))
        ));
    }

    #[test]
    fn debug_never_shows_the_join_password() {
        let auth = auth_with_nodes(&[]);

        let shown = format!("{auth:?}");

        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains(&auth.process_user), "{shown}");
    }

    #[test]
    fn a_clustered_site_server_has_a_system_account_with_one_derived_user() {
        let site = Token::new("store-1").expect("token");
        let password = site_system_password(&site, "a-join-token-of-the-site");
        assert_eq!(password.len(), 64);
        assert_ne!(password, site_system_password(&site, "another-join-token-entirely"));
        let auth = SiteServerAuth {
            system_password: Some(password.clone()),
            ..auth_with_nodes(&[])
        };
        let rendered = auth.render().expect("render");
        assert!(rendered.contains("SYS: {"), "{rendered}");
        assert!(
            rendered.contains(&format!("user: \"system\", password: \"{password}\"")),
            "{rendered}"
        );
        assert!(rendered.ends_with("system_account: \"SYS\""), "{rendered}");
        assert!(!format!("{auth:?}").contains(&password));
    }
}
