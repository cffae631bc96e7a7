//! What a server is asked to be ([`Settings`]) and its rendering as `nats.conf`.
//!
//! Pure: rendering takes the settings, the ports and the paths, and returns text. It never
//! touches the file system or a process, so every option is tested without starting a server.

use std::path::Path;

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
    /// Whether to open a leafnodes listen port.
    pub(crate) leaf_listen: bool,
    /// Hubs to connect to as a leaf.
    pub(crate) leaf_remotes: Vec<String>,
    /// `sync_interval: always`.
    pub(crate) sync_always: bool,
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
            leaf_listen: false,
            leaf_remotes: Vec::new(),
            sync_always: false,
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
        "# Written by nats-process at every start; edits are overwritten.".to_owned(),
        format!("server_name: {}", quoted(&settings.name)),
        format!("listen: {}", quoted(&host_port(host, ports.client))),
        format!("ports_file_dir: {}", quoted(&paths.ports_dir.to_string_lossy())),
        "jetstream {".to_owned(),
        format!("  store_dir: {}", quoted(&paths.store_dir.to_string_lossy())),
    ];
    if let Some(domain) = &settings.jetstream_domain {
        lines.push(format!("  domain: {}", quoted(domain)));
    }
    if settings.sync_always {
        lines.push("  sync_interval: always".to_owned());
    }
    lines.push("}".to_owned());
    if ports.leaf.is_some() || !settings.leaf_remotes.is_empty() {
        lines.push("leafnodes {".to_owned());
        if let Some(port) = ports.leaf {
            lines.push(format!("  listen: {}", quoted(&host_port(host, port))));
            // Leaves only ever dial the URL they were given, so a proxy in between (a test's
            // link cutter, a site's NAT) really is the only path.
            lines.push("  no_advertise: true".to_owned());
        }
        if !settings.leaf_remotes.is_empty() {
            lines.push("  remotes: [".to_owned());
            let remotes = settings.leaf_remotes.iter();
            lines.extend(remotes.map(|url| format!("    {{ url: {} }}", quoted(url))));
            lines.push("  ]".to_owned());
        }
        lines.push("}".to_owned());
    }
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
fn host_port(host: &str, port: u16) -> String {
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

/// `value` as a double-quoted nats-server config string.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            config.contains("leafnodes {\n  listen: \"0.0.0.0:7422\"\n  no_advertise: true\n}"),
            "{config}"
        );
    }

    #[test]
    fn a_leaf_lists_its_remotes_and_extra_config_comes_last() {
        let mut settings = Settings::new("site-a");
        settings.jetstream_domain = Some("site-a".to_owned());
        settings.leaf_remotes = vec!["nats-leaf://hub:7422".to_owned(), "nats-leaf://backup:7422".to_owned()];
        settings.extra_config = "max_payload: 4096\n".to_owned();
        let config = render_with(
            &settings,
            Ports {
                client: 4223,
                leaf: None,
            },
        );

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

    #[test]
    fn strings_are_quoted_and_ipv6_hosts_bracketed() {
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
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
