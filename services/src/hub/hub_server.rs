//! The hub's own nats-server, secured: operator mode with the fleet's trust root (every connection authenticated,
//! accounts resolved from the hub's data dir), TLS on the client and leafnode ports from the fleet CA (or the
//! certificate the user supplied), JetStream in domain `hub` with fsync on every write; in a hub cluster, routes to
//! the other hubs' servers in mutual TLS.

use crate::cli::HubArgs;
use anyhow::Context;
use fleet_trust::{ServerNames, TrustRoot};
use nats_process::{ClientCredentials, ClusterRoutes, NatsServer, TlsFiles};
use std::net::IpAddr;
use std::path::PathBuf;

/// The name of a hub cluster (the same on every hub).
pub const CLUSTER_NAME: &str = "edgefleet-hub";

/// The hub's server and the CA its clients trust.
pub struct HubServer {
    /// The running server.
    pub server: NatsServer,
    /// The CA bundle clients and sites check the hub's certificate against.
    pub ca: PathBuf,
    /// The leafnode URL sites dial (for their bundles).
    pub leaf_url: String,
    /// The hub's server certificate and key (also served on `/metrics` with --metrics-tls).
    pub tls: TlsFiles,
}

/// Starts the hub's nats-server from `args` and the trust root.
pub async fn start(args: &HubArgs, trust: &TrustRoot) -> anyhow::Result<HubServer> {
    let (host, port) = crate::listen_addr::parse(&args.listen).context("--listen")?;
    let (leaf_host, leaf_port) = crate::listen_addr::parse(&args.leaf_listen).context("--leaf-listen")?;
    anyhow::ensure!(
        leaf_host == host,
        "--listen and --leaf-listen must use the same host (got {host} and {leaf_host})"
    );
    let tls = server_tls(args, trust, &host)?;
    let ca = tls.ca.clone();
    let own_tls = tls.clone();
    let auth = trust.operator_mode_config()?.render();
    let mut builder = NatsServer::builder(&args.cluster.server_name);
    if let Some(listen) = &args.cluster.cluster_listen {
        let (cluster_host, port) = crate::listen_addr::parse(listen).context("--cluster-listen")?;
        anyhow::ensure!(
            cluster_host == host,
            "--listen and --cluster-listen must use the same host (got {host} and {cluster_host})"
        );
        // Routes are mutual TLS from the fleet CA: only another hub of this fleet can join.
        let route_tls = trust.issue_hub_route_cert(&server_names(&host, &args.tls_names)?)?;
        builder = builder.cluster(ClusterRoutes {
            name: CLUSTER_NAME.to_owned(),
            port,
            routes: args.cluster.routes.clone(),
            tls: Some(route_tls),
        });
    }
    let server = builder
        .jetstream_domain(replay::HUB_DOMAIN)
        .sync_always()
        .listen_host(&host)
        .client_port(port)
        .leaf_port(leaf_port)
        .tls(tls)
        .auth_config(&auth)
        .client_credentials(ClientCredentials::CredsFile(trust.layout().hub_creds()))
        .client_ca(ca.clone())
        .data_dir(args.data_dir.join("nats"))
        .start()
        .await
        .context("starting the hub's nats-server")?;
    let leaf_url = args
        .leaf_url
        .clone()
        .unwrap_or_else(|| format!("nats-leaf://{}:{leaf_port}", dial_host(&host)));
    Ok(HubServer {
        server,
        ca,
        leaf_url,
        tls: own_tls,
    })
}

/// The supplied certificate (`--tls-cert/--tls-key/--tls-ca`, all three), or one issued now by the fleet CA for
/// the listen host, `--tls-name`s and localhost.
fn server_tls(args: &HubArgs, trust: &TrustRoot, host: &str) -> anyhow::Result<TlsFiles> {
    Ok(match (&args.tls.tls_cert, &args.tls.tls_key, &args.tls.tls_ca) {
        (Some(cert), Some(key), Some(ca)) => fleet_trust::supplied_tls_files(cert.clone(), key.clone(), ca.clone())?,
        (None, None, None) => trust.issue_hub_server_cert(&server_names(host, &args.tls_names)?)?,
        _ => anyhow::bail!("--tls-cert, --tls-key and --tls-ca go together"),
    })
}

/// The names the hub's certificate is valid for.
pub fn server_names(host: &str, extra: &[String]) -> anyhow::Result<ServerNames> {
    let mut names = ServerNames::default();
    for name in std::iter::once(host).chain(extra.iter().map(String::as_str)) {
        match name.parse::<IpAddr>() {
            Ok(ip) if ip.is_unspecified() => {}
            Ok(ip) => names.ip_addresses.push(ip),
            Err(_) => {
                anyhow::ensure!(!name.is_empty(), "an empty --tls-name");
                names.dns_names.push(name.to_owned());
            }
        }
    }
    Ok(names.including_localhost())
}

/// The host a site on this machine dials for `listen_host`.
fn dial_host(listen_host: &str) -> String {
    match listen_host {
        "0.0.0.0" | "" => "127.0.0.1".to_owned(),
        "::" => "[::1]".to_owned(),
        host if host.contains(':') => format!("[{host}]"),
        host => host.to_owned(),
    }
}
