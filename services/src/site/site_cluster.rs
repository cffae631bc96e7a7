//! A site whose NATS is a JetStream cluster of its machines (zero-touch sites, DESIGN §12): this server's place in
//! it — its name, its routes (mutual TLS with a route certificate the site's route CA issues for this machine's LAN
//! address), its `member` tag — and, on the machine that bootstrapped the site, the **witness** beside it: a second
//! server that only votes, since a JetStream cluster of one server cannot exist (`nats-process` tests
//! `growing_cluster.rs`). The witness is retired for good once the controller removed it from the cluster
//! (`nats_shaper`): its store is deleted, so a restart does not bring it back.

use crate::cli::SiteClusterArgs;
use anyhow::Context;
use events::Token;
use fleet_trust::{ServerNames, SiteRouteCa};
use nats_process::{ClientCredentials, ClusterRoutes, NatsServer, TlsFiles};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The tag of the servers that hold the site's streams.
pub const MEMBER_TAG: &str = "edgefleet:member";
/// The tag of a witness.
pub const WITNESS_TAG: &str = "edgefleet:witness";
/// A machine that loses power sends no FIN: its routes look open until pings go unanswered. With nats-server's
/// defaults (a ping every 2 minutes) the survivors' JetStream requests stalled for about a minute behind the dead
/// routes (seen on 2.15.1, a machine's NIC downed on the test LAN); pinging every 2 s and giving up after two unanswered
/// ones, and a write deadline of 2 s, close them within seconds.
pub const DEAD_PEER_DETECTION: &str = "ping_interval: \"2s\"\nping_max: 2\nwrite_deadline: \"2s\"";

/// Server names of witnesses start with this.
pub const WITNESS_PREFIX: &str = "witness-of-";

/// This server's place in the site's cluster.
pub struct SiteCluster {
    /// This server's name (its machine's node id).
    pub server_name: String,
    /// The route port.
    pub port: u16,
    /// The routes to the site's other servers.
    pub routes: Vec<String>,
    /// The routes' TLS.
    pub route_tls: TlsFiles,
    /// The system user's password.
    pub system_password: String,
    /// This machine's LAN address.
    pub address: IpAddr,
    /// Where the witness keeps its store, when this machine runs one.
    pub witness_dir: Option<PathBuf>,
}

impl SiteCluster {
    /// The cluster settings `args` ask for, if any; issues this machine's route certificate into `data_dir/route`.
    pub fn from_args(
        args: &SiteClusterArgs,
        site: &Token,
        join_token: &str,
        data_dir: &Path,
    ) -> anyhow::Result<Option<Self>> {
        let Some(port) = args.cluster_port else {
            return Ok(None);
        };
        let server_name = args
            .server_name
            .clone()
            .context("--server-name is needed with --cluster-port")?;
        Token::new(server_name.clone()).context("--server-name")?;
        let address = args
            .route_address
            .context("--route-address is needed with --cluster-port")?;
        let names = ServerNames {
            dns_names: vec![fleet_trust::site_server_name(site)],
            ip_addresses: vec![address, IpAddr::from([127, 0, 0, 1])],
        };
        let route_tls = SiteRouteCa::derive(site, join_token)?
            .issue_into(&data_dir.join("route"), &names)
            .context("issuing this machine's route certificate")?;
        let witness_dir = data_dir.join("witness");
        // A witness is started on a fresh bootstrap and kept until retired (its store deleted).
        let witness_dir = (args.witness || witness_dir.exists()).then_some(witness_dir);
        Ok(Some(Self {
            server_name,
            port,
            routes: args.routes.clone(),
            route_tls,
            system_password: fleet_trust::site_system_password(site, join_token),
            address,
            witness_dir,
        }))
    }

    /// The member server's `cluster { … }`: its routes, and the witness's when there is one.
    pub fn member_routes(&self, site: &Token) -> ClusterRoutes {
        let mut routes = self.routes.clone();
        if self.witness_dir.is_some() {
            routes.push(self.route_url(self.witness_port()));
        }
        ClusterRoutes {
            name: site.to_string(),
            port: self.port,
            routes,
            tls: Some(self.route_tls.clone()),
        }
    }

    /// The witness's name.
    pub fn witness_name(&self) -> String {
        format!("{WITNESS_PREFIX}{}", self.server_name)
    }

    /// The witness listens for routes on the port after the member's.
    fn witness_port(&self) -> u16 {
        self.port.saturating_add(1)
    }

    fn route_url(&self, port: u16) -> String {
        format!("nats-route://{}", std::net::SocketAddr::new(self.address, port))
    }

    /// Starts the witness (if this machine runs one) with `auth` (the site's accounts, its own process user) on
    /// every address, its routes to the member.
    pub async fn start_witness(
        &self,
        site: &Token,
        tls: &TlsFiles,
        auth: &str,
        credentials: ClientCredentials,
    ) -> anyhow::Result<Option<NatsServer>> {
        let Some(dir) = &self.witness_dir else {
            return Ok(None);
        };
        let server = NatsServer::builder(&self.witness_name())
            .jetstream_domain(site.as_str())
            .sync_always()
            .listen_host("0.0.0.0")
            .tls(tls.clone())
            .auth_config(auth)
            .client_credentials(credentials)
            .cluster(ClusterRoutes {
                name: site.to_string(),
                port: self.witness_port(),
                routes: vec![self.route_url(self.port)],
                tls: Some(self.route_tls.clone()),
            })
            .server_tags(&[WITNESS_TAG])
            .extra_config(DEAD_PEER_DETECTION)
            .data_dir(dir.clone())
            .start()
            .await
            .context("starting the site's witness nats-server")?;
        Ok(Some(server))
    }
}
