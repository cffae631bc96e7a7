//! A server's place in a NATS cluster: the cluster's name, the port it listens on for routes, the route URLs of its
//! peers, and the TLS the routes speak. Every member of a JetStream cluster needs a distinct `server_name`.
//!
//! With [`ClusterRoutes::tls`] the routes are mutual TLS (`verify: true`): each member presents its certificate and
//! accepts a route only from a certificate its CA issued for client authentication, so nothing without such a
//! certificate can join the cluster and see its traffic.

use crate::conf_string::config_string;
use crate::TlsFiles;

/// The `cluster { … }` block of one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRoutes {
    /// The cluster's name (the same on every member).
    pub name: String,
    /// The port this member listens on for routes.
    pub port: u16,
    /// The route URLs of the other members, `nats-route://host:port`.
    pub routes: Vec<String>,
    /// Mutual TLS on the routes (certificate valid for server and client authentication).
    pub tls: Option<TlsFiles>,
}

impl ClusterRoutes {
    /// A member on this machine: routes to the peers' ports on loopback, no TLS (tests of JetStream itself).
    pub fn on_loopback(name: &str, port: u16, peers: &[u16]) -> Self {
        Self {
            name: name.to_owned(),
            port,
            routes: peers
                .iter()
                .map(|port| format!("nats-route://127.0.0.1:{port}"))
                .collect(),
            tls: None,
        }
    }

    /// The block, listening on `host`.
    pub(crate) fn render_block(&self, host: &str) -> Vec<String> {
        let routes: Vec<String> = self.routes.iter().map(|url| config_string(url)).collect();
        let mut lines = vec![
            "cluster {".to_owned(),
            format!("  name: {}", config_string(&self.name)),
            format!(
                "  listen: {}",
                config_string(&crate::config::host_port(host, self.port))
            ),
            format!("  routes: [{}]", routes.join(", ")),
        ];
        if let Some(tls) = &self.tls {
            let mut block = tls.render_block(2);
            // Before the closing brace: check every peer's certificate against the CA.
            block.insert(block.len() - 1, "    verify: true".to_owned());
            lines.extend(block);
        }
        lines.push("}".to_owned());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_listens_for_routes_and_dials_its_peers() {
        let routes = ClusterRoutes::on_loopback("hub", 6222, &[6223, 6224]);
        assert_eq!(
            routes.render_block("127.0.0.1").join("\n"),
            "cluster {\n  name: \"hub\"\n  listen: \"127.0.0.1:6222\"\n  routes: [\"nats-route://127.0.0.1:6223\", \
             \"nats-route://127.0.0.1:6224\"]\n}"
        );
    }

    #[test]
    fn routes_with_tls_verify_the_peers_certificates() {
        let routes = ClusterRoutes {
            tls: Some(TlsFiles {
                cert: "/d/route.pem".into(),
                key: "/d/route-key.pem".into(),
                ca: "/d/ca.pem".into(),
            }),
            ..ClusterRoutes::on_loopback("hub", 6222, &[6223])
        };
        let block = routes.render_block("0.0.0.0").join("\n");
        assert!(
            block.ends_with(
                "  tls {\n    cert_file: \"/d/route.pem\"\n    key_file: \"/d/route-key.pem\"\n    ca_file: \"/d/ca.pem\"\n    \
                 timeout: 2\n    verify: true\n  }\n}"
            ),
            "{block}"
        );
    }
}
