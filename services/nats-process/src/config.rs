//! What a server is asked to be ([`Settings`]) and its rendering as `nats.conf`.
//!
//! Pure: rendering takes the settings, the ports and the paths, and returns text. It never
//! touches the file system or a process, so every option is tested without starting a server.

use std::path::Path;

use crate::auth_config::AuthConfig;
use crate::conf_string::config_string as quoted;
use crate::leaf_remote::LeafRemote;
use crate::tls_files::TlsFiles;

/// The host servers listen on unless told otherwise: loopback, safe on a laptop.
pub(crate) const DEFAULT_LISTEN_HOST: &str = "127.0.0.1";

/// What a server is asked to be; kept by the server so a restart is the same server.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `server_name`, also used in log lines and the temp dir name.
    pub(crate) name: String,
    /// The host of the client and leafnode listen addresses.
    pub(crate) listen_host: String,
    /// The JetStream domain, if any.
    pub(crate) jetstream_domain: Option<String>,
    /// TLS on the client port and the leafnodes listen port.
    pub(crate) tls: Option<TlsFiles>,
    /// Whether to open a leafnodes listen port.
    pub(crate) leaf_listen: bool,
    /// Hubs to connect to as a leaf.
    pub(crate) leaf_remotes: Vec<LeafRemote>,
    /// The authentication block; replaceable while the server runs.
    pub(crate) auth_config: AuthConfig,
    /// `sync_interval: always`.
    pub(crate) sync_always: bool,
    /// Membership of a cluster, if any.
    pub(crate) cluster: Option<crate::ClusterRoutes>,
    /// `max_file_store`: what JetStream may keep on disk (the server's default: 75% of the disk free at start).
    pub(crate) max_file_store: Option<u64>,
    /// `server_tags`, for placing streams by tag.
    pub(crate) server_tags: Vec<String>,
    /// Appended verbatim.
    pub(crate) extra_config: String,
}

impl Settings {
    /// A server named `name` with JetStream only, listening on loopback.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            listen_host: DEFAULT_LISTEN_HOST.to_owned(),
            jetstream_domain: None,
            tls: None,
            leaf_listen: false,
            leaf_remotes: Vec::new(),
            auth_config: AuthConfig::default(),
            sync_always: false,
            max_file_store: None,
            cluster: None,
            server_tags: Vec::new(),
            extra_config: String::new(),
        }
    }
}

/// The ports one run of a server listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ports {
    /// The client port.
    pub(crate) client: u16,
    /// The leafnodes listen port, when the server listens for leaves.
    pub(crate) leaf: Option<u16>,
}

/// Where the rendered config points the server to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paths<'a> {
    /// `ports_file_dir`.
    pub(crate) ports_dir: &'a Path,
    /// JetStream `store_dir`.
    pub(crate) store_dir: &'a Path,
}

/// `nats.conf` for `settings` on `ports`, with files at `paths`.
pub(crate) fn render(settings: &Settings, ports: Ports, paths: Paths<'_>) -> String {
    debug_assert_eq!(ports.leaf.is_some(), settings.leaf_listen);
    let host = &settings.listen_host;
    let mut lines = vec![
        "# Written by nats-process at every start and reload; edits are overwritten.".to_owned(),
        format!("server_name: {}", quoted(&settings.name)),
        format!("listen: {}", quoted(&host_port(host, ports.client))),
        format!("ports_file_dir: {}", quoted(&paths.ports_dir.to_string_lossy())),
    ];
    // The top-level block is the client port's.
    if let Some(tls) = &settings.tls {
        lines.extend(tls.render_block(0));
    }
    lines.extend([
        "jetstream {".to_owned(),
        format!("  store_dir: {}", quoted(&paths.store_dir.to_string_lossy())),
    ]);
    if let Some(domain) = &settings.jetstream_domain {
        lines.push(format!("  domain: {}", quoted(domain)));
    }
    if settings.sync_always {
        lines.push("  sync_interval: always".to_owned());
    }
    if let Some(bytes) = settings.max_file_store {
        lines.push(format!("  max_file_store: {bytes}"));
    }
    lines.push("}".to_owned());
    if ports.leaf.is_some() || !settings.leaf_remotes.is_empty() {
        lines.push("leafnodes {".to_owned());
        if let Some(port) = ports.leaf {
            lines.push(format!("  listen: {}", quoted(&host_port(host, port))));
            // Leaves only ever dial the URL they were given, so a proxy in between (a test's
            // link cutter, a site's NAT) really is the only path.
            lines.push("  no_advertise: true".to_owned());
            if let Some(tls) = &settings.tls {
                lines.extend(tls.render_block(2));
            }
        }
        if !settings.leaf_remotes.is_empty() {
            lines.push("  remotes: [".to_owned());
            let remotes = settings.leaf_remotes.iter();
            lines.extend(remotes.map(|remote| format!("    {}", remote.render())));
            lines.push("  ]".to_owned());
        }
        lines.push("}".to_owned());
    }
    if let Some(cluster) = &settings.cluster {
        lines.extend(cluster.render_block(host));
    }
    if !settings.server_tags.is_empty() {
        let tags: Vec<String> = settings.server_tags.iter().map(|tag| quoted(tag)).collect();
        lines.push(format!("server_tags: [{}]", tags.join(", ")));
    }
    lines.extend(settings.auth_config.render_lines());
    lines.push(settings.extra_config.clone());
    lines.join("\n")
}

/// The host a client on this machine dials to reach a server listening on `listen_host`:
/// loopback for a wildcard address, the host itself otherwise, bracketed if IPv6.
pub(crate) fn dial_host(listen_host: &str) -> String {
    match unbracketed(listen_host) {
        "" | "0.0.0.0" => "127.0.0.1".to_owned(),
        "::" => "[::1]".to_owned(),
        host if host.contains(':') => format!("[{host}]"),
        host => host.to_owned(),
    }
}

/// `host:port`, with an IPv6 host in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    let host = unbracketed(host);
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `host` without the brackets of an IPv6 literal (`[::1]` → `::1`).
fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site's config: clients on port 4223, no leafnode listen port.
    fn render_leaf_site(settings: &Settings) -> String {
        render_with(
            settings,
            Ports {
                client: 4223,
                leaf: None,
            },
        )
    }

    fn render_with(settings: &Settings, ports: Ports) -> String {
        let paths = Paths {
            ports_dir: Path::new("/srv/hub/ports"),
            store_dir: Path::new("/srv/hub/js"),
        };
        render(settings, ports, paths)
    }

    #[test]
    fn a_plain_server_listens_on_loopback_with_jetstream_only() {
        let config = render_with(
            &Settings::new("plain"),
            Ports {
                client: 4222,
                leaf: None,
            },
        );

        assert!(config.contains("server_name: \"plain\"\n"), "{config}");
        assert!(config.contains("listen: \"127.0.0.1:4222\"\n"), "{config}");
        assert!(config.contains("ports_file_dir: \"/srv/hub/ports\"\n"), "{config}");
        assert!(config.contains("  store_dir: \"/srv/hub/js\"\n"), "{config}");
        assert!(!config.contains("domain"), "{config}");
        assert!(!config.contains("sync_interval"), "{config}");
        assert!(!config.contains("leafnodes"), "{config}");
    }

    #[test]
    fn a_hub_uses_the_listen_host_for_clients_and_leaves() {
        let mut settings = Settings::new("hub");
        settings.listen_host = "0.0.0.0".to_owned();
        settings.jetstream_domain = Some("hub".to_owned());
        settings.leaf_listen = true;
        settings.sync_always = true;
        settings.max_file_store = Some(2 << 30);
        let config = render_with(
            &settings,
            Ports {
                client: 4222,
                leaf: Some(7422),
            },
        );

        assert!(config.contains("listen: \"0.0.0.0:4222\"\n"), "{config}");
        assert!(config.contains("  domain: \"hub\"\n"), "{config}");
        assert!(config.contains("  sync_interval: always\n"), "{config}");
        assert!(config.contains("  max_file_store: 2147483648\n"), "{config}");
        assert!(
            config.contains("leafnodes {\n  listen: \"0.0.0.0:7422\"\n  no_advertise: true\n}"),
            "{config}"
        );
    }

    #[test]
    fn a_leaf_lists_its_remotes_and_extra_config_comes_last() {
        let mut settings = Settings::new("site-a");
        settings.jetstream_domain = Some("site-a".to_owned());
        settings.leaf_remotes = vec![
            LeafRemote::new("nats-leaf://hub:7422"),
            LeafRemote::new("nats-leaf://backup:7422"),
        ];
        settings.extra_config = "max_payload: 4096\n".to_owned();
        let config = render_leaf_site(&settings);

        assert!(
            config.contains(
                "leafnodes {\n  remotes: [\n    { url: \"nats-leaf://hub:7422\" }\n    \
                 { url: \"nats-leaf://backup:7422\" }\n  ]\n}"
            ),
            "{config}"
        );
        assert!(!config.contains("no_advertise"), "{config}");
        assert!(config.ends_with("max_payload: 4096\n"), "{config}");
    }

    fn tls_files() -> TlsFiles {
        TlsFiles {
            cert: "/srv/tls/server.pem".into(),
            key: "/srv/tls/server-key.pem".into(),
            ca: "/srv/tls/ca.pem".into(),
        }
    }

    #[test]
    fn tls_covers_the_client_port_and_the_leafnodes_listen_port() {
        let mut settings = Settings::new("hub");
        settings.tls = Some(tls_files());
        settings.leaf_listen = true;
        let config = render_with(
            &settings,
            Ports {
                client: 4222,
                leaf: Some(7422),
            },
        );

        let top_level_tls = "\ntls {\n  cert_file: \"/srv/tls/server.pem\"\n  \
                             key_file: \"/srv/tls/server-key.pem\"\n  ca_file: \"/srv/tls/ca.pem\"\n  \
                             timeout: 2\n}\n";
        assert!(config.contains(top_level_tls), "{config}");
        assert!(
            config.contains(
                "leafnodes {\n  listen: \"127.0.0.1:7422\"\n  no_advertise: true\n  tls {\n    \
                 cert_file: \"/srv/tls/server.pem\"\n    key_file: \"/srv/tls/server-key.pem\"\n    \
                 ca_file: \"/srv/tls/ca.pem\"\n    timeout: 2\n  }\n}"
            ),
            "{config}"
        );
        assert!(
            !config.contains("verify"),
            "client certificates are not required: {config}"
        );
    }

    #[test]
    fn a_leaf_with_tls_but_no_listen_port_has_tls_on_its_client_port_only() {
        let mut settings = Settings::new("site-a");
        settings.tls = Some(tls_files());
        settings.leaf_remotes = vec![LeafRemote::new("nats-leaf://hub:7422")];
        let config = render_leaf_site(&settings);

        assert_eq!(config.matches("tls {").count(), 1, "{config}");
        assert!(
            config.contains("leafnodes {\n  remotes: [\n    { url: \"nats-leaf://hub:7422\" }\n  ]\n}"),
            "{config}"
        );
    }

    #[test]
    fn a_structured_remote_renders_every_field_in_the_remotes_list() {
        let mut settings = Settings::new("site-a");
        settings.leaf_remotes = vec![LeafRemote {
            url: "nats-leaf://hub.example:7422".to_owned(),
            credentials: Some("/site/leaf.creds".into()),
            local_account: Some("SITE".to_owned()),
            ca: Some("/site/ca.pem".into()),
        }];
        let config = render_leaf_site(&settings);

        assert!(
            config.contains(
                "  remotes: [\n    { url: \"nats-leaf://hub.example:7422\", credentials: \"/site/leaf.creds\", \
                 account: \"SITE\", tls: { ca_file: \"/site/ca.pem\" } }\n  ]"
            ),
            "{config}"
        );
    }

    #[test]
    fn the_auth_config_is_a_top_level_block_between_leafnodes_and_extra_config() {
        let mut settings = Settings::new("hub");
        settings.leaf_listen = true;
        settings.auth_config = AuthConfig::new("accounts {\n  A: { jetstream: enabled }\n}\n");
        settings.extra_config = "max_payload: 4096\n".to_owned();
        let config = render_with(
            &settings,
            Ports {
                client: 4222,
                leaf: Some(7422),
            },
        );

        let auth = config
            .find("\naccounts {\n  A: { jetstream: enabled }\n}\n")
            .expect(&config);
        let leafnodes_end = config.find("no_advertise: true\n}\n").expect(&config);
        let extra = config.find("\nmax_payload: 4096\n").expect(&config);
        assert!(leafnodes_end < auth && auth < extra, "{config}");
        assert!(config.ends_with("max_payload: 4096\n"), "{config}");
    }

    #[test]
    fn an_anonymous_server_has_no_auth_block() {
        let config = render_with(
            &Settings::new("plain"),
            Ports {
                client: 4222,
                leaf: None,
            },
        );

        assert!(!config.contains("Authentication"), "{config}");
        assert!(!config.contains("tls"), "{config}");
    }

    #[test]
    fn odd_characters_in_names_and_paths_are_escaped() {
        let settings = Settings::new(r#"odd"name\"#);
        let paths = Paths {
            ports_dir: Path::new("/srv/my \"hub\"/ports"),
            store_dir: Path::new("/srv/a\\b $x #y/js"),
        };
        let config = render(
            &settings,
            Ports {
                client: 4222,
                leaf: None,
            },
            paths,
        );

        assert!(config.contains(r#"server_name: "odd\"name\\""#), "{config}");
        assert!(
            config.contains(r#"ports_file_dir: "/srv/my \"hub\"/ports""#),
            "{config}"
        );
        assert!(config.contains(r#"  store_dir: "/srv/a\\b $x #y/js""#), "{config}");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(host_port("::1", 4222), "[::1]:4222");
        assert_eq!(host_port("[::1]", 4222), "[::1]:4222");
        assert_eq!(host_port("10.0.0.5", 4222), "10.0.0.5:4222");
    }

    #[test]
    fn clients_dial_loopback_for_a_wildcard_listen_host() {
        assert_eq!(dial_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(dial_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(dial_host("::"), "[::1]");
        assert_eq!(dial_host("[::]"), "[::1]");
        assert_eq!(dial_host("fd00::5"), "[fd00::5]");
        assert_eq!(dial_host("hub.example"), "hub.example");
    }
}
