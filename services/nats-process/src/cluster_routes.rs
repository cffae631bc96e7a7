//! A server's place in a NATS cluster: the cluster's name, the port it listens on for routes, and the route
//! ports of its peers on this machine. Every member of a JetStream cluster needs a distinct `server_name`.

/// The `cluster { … }` block of one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRoutes {
    /// The cluster's name (the same on every member).
    pub name: String,
    /// The port this member listens on for routes.
    pub port: u16,
    /// The route ports of the other members (on the same host).
    pub peers: Vec<u16>,
}

impl ClusterRoutes {
    /// The block, listening on `host` and routing to each peer at `dial_host`.
    pub(crate) fn render_block(&self, host: &str, dial_host: &str) -> Vec<String> {
        let routes: Vec<String> = self
            .peers
            .iter()
            .map(|port| crate::config_string(&format!("nats-route://{dial_host}:{port}")))
            .collect();
        vec![
            "cluster {".to_owned(),
            format!("  name: {}", crate::config_string(&self.name)),
            format!("  listen: {}", crate::config_string(&format!("{host}:{}", self.port))),
            format!("  routes: [{}]", routes.join(", ")),
            "}".to_owned(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_listens_for_routes_and_dials_its_peers() {
        let routes = ClusterRoutes {
            name: "hub".into(),
            port: 6222,
            peers: vec![6223, 6224],
        };
        assert_eq!(
            routes.render_block("127.0.0.1", "127.0.0.1").join("\n"),
            "cluster {\n  name: \"hub\"\n  listen: \"127.0.0.1:6222\"\n  routes: [\"nats-route://127.0.0.1:6223\", \
             \"nats-route://127.0.0.1:6224\"]\n}"
        );
    }
}
