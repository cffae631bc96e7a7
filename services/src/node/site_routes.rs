//! The routes this machine's server dials to the site's other servers: every machine heard serving the site on the
//! LAN, remembered in `routes.json` in the site's data dir. nats-server needs at least one route configured to start
//! as a cluster member, and a server restarting after its peers were heard (the first machine, once its witness
//! retired, configured none) finds them again through this file; one live peer is enough, the others are learnt from
//! it.

use actors::plan::{HeardMachine, MachineIntent};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};

/// The remembered routes of a site's data dir.
pub struct SiteRoutes {
    path: PathBuf,
    route_port: u16,
}

impl SiteRoutes {
    /// The routes remembered in `site_dir`, to servers listening for routes on `route_port`.
    pub fn new(site_dir: &Path, route_port: u16) -> Self {
        Self {
            path: site_dir.join("routes.json"),
            route_port,
        }
    }

    /// The remembered routes and those of the machines heard serving now (never this machine's own `address`).
    pub fn known(&self, heard: &[HeardMachine], address: IpAddr) -> Vec<String> {
        let mut routes: BTreeSet<String> = std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Vec<String>>(&bytes).ok())
            .unwrap_or_default()
            .into_iter()
            .collect();
        for machine in heard {
            if matches!(machine.intent, MachineIntent::Serving { .. }) && machine.from.ip() != address {
                routes.insert(route_url(SocketAddr::new(machine.from.ip(), self.route_port)));
            }
        }
        routes.remove(&route_url(SocketAddr::new(address, self.route_port)));
        routes.into_iter().collect()
    }

    /// Remembers `routes` (written whole, then renamed).
    pub fn remember(&self, routes: &[String]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(routes).unwrap_or_default())?;
        std::fs::rename(&tmp, &self.path)
    }
}

/// `nats-route://ADDRESS:PORT`.
pub fn route_url(address: SocketAddr) -> String {
    format!("nats-route://{address}")
}

/// The address this machine reaches `broadcast` from: its address on the site's LAN.
pub fn lan_address(broadcast: std::net::Ipv4Addr) -> std::io::Result<IpAddr> {
    let socket = UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0))?;
    socket.set_broadcast(true)?;
    socket.connect((broadcast, 9))?;
    Ok(socket.local_addr()?.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::Token;

    fn heard(node: &str, ip: [u8; 4], intent: MachineIntent) -> HeardMachine {
        HeardMachine {
            node: Token::new(node).expect("token"),
            intent,
            from: SocketAddr::from((ip, 7946)),
            heard_ms_ago: 0,
        }
    }

    #[test]
    fn the_machines_heard_serving_are_remembered_and_this_one_is_never_its_own_route() {
        let dir = tempfile::tempdir().expect("tempdir");
        let routes = SiteRoutes::new(dir.path(), 6222);
        let me: IpAddr = [10, 0, 0, 1].into();
        let serving = MachineIntent::Serving { nats_port: 4222 };
        let now = [
            heard("m2", [10, 0, 0, 2], serving.clone()),
            heard("m3", [10, 0, 0, 3], MachineIntent::Seeking),
            heard("m1", [10, 0, 0, 1], serving.clone()),
        ];
        let known = routes.known(&now, me);
        assert_eq!(known, vec!["nats-route://10.0.0.2:6222".to_owned()]);
        routes.remember(&known).expect("remember");
        // Later, nobody heard: the remembered route is still there.
        assert_eq!(routes.known(&[], me), known);
        let more = routes.known(&[heard("m4", [10, 0, 0, 4], serving)], me);
        assert_eq!(
            more,
            vec![
                "nats-route://10.0.0.2:6222".to_owned(),
                "nats-route://10.0.0.4:6222".to_owned()
            ]
        );
    }
}
