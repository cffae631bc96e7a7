//! A hub nats-server in operator mode, configured from a [`TrustRoot`] exactly as the crate renders it, on free
//! ports, with JetStream in domain `hub`; ready once the system user can connect.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fleet_trust::{client_connect_options, ServerNames, ServerTls, TrustLayout, TrustRoot, UserCreds};
use tempfile::TempDir;
use tokio::sync::mpsc;

use super::deadline::DEADLINE;
use super::nats_child::NatsChild;

/// A running operator-mode hub.
pub struct OperatorHub {
    /// The process.
    pub process: NatsChild,
    /// `nats://127.0.0.1:<client port>`.
    pub client_url: String,
    /// The client port.
    pub client_port: u16,
    /// `nats-leaf://127.0.0.1:<leaf port>` if it listens for leaves.
    pub leaf_url: Option<String>,
    /// The leafnodes port (meaningful only if `leaf_url` is set).
    pub leaf_port: u16,
    /// The CA clients must trust, if the client port speaks TLS.
    pub ca: Option<PathBuf>,
    /// The trust material the hub was configured from (its `system.creds` and `admin.creds`).
    pub layout: TrustLayout,
}

/// Which port of a test hub speaks TLS, with a server certificate from the fleet CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubTls {
    /// No TLS; no leafnodes port.
    Nowhere,
    /// The client port; no leafnodes port.
    ClientPort,
    /// A leafnodes port (the client port stays plain).
    LeafPort,
    /// Both the client port and a leafnodes port, as a fleet's hub runs.
    ClientAndLeafPorts,
}

/// A fresh trust root with data directory `<temp dir>/hub` and a hub for it with TLS on `tls`; the temp dir lives as long as the
/// returned [`TempDir`].
pub async fn hub_in_temp_dir(tls: HubTls) -> (TempDir, TrustRoot, OperatorHub) {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path().join("hub")).unwrap();
    let server_tls = || ServerTls::new(root.issue_hub_server_cert(&ServerNames::localhost()).unwrap());
    let hub = match tls {
        HubTls::Nowhere => OperatorHub::start(&root, dir.path(), None, None).await,
        HubTls::ClientPort => OperatorHub::start(&root, dir.path(), Some(&server_tls()), None).await,
        HubTls::LeafPort => OperatorHub::start(&root, dir.path(), None, Some(Some(&server_tls()))).await,
        HubTls::ClientAndLeafPorts => {
            let tls = server_tls();
            OperatorHub::start(&root, dir.path(), Some(&tls), Some(Some(&tls))).await
        }
    };
    (dir, root, hub)
}

impl OperatorHub {
    /// Starts a hub for `root` in `dir`, with TLS on the client port if `client_tls`, and a leafnodes port
    /// (with TLS if given) if `leaf_tls` is `Some`.
    pub async fn start(
        root: &TrustRoot,
        dir: &Path,
        client_tls: Option<&ServerTls>,
        leaf_tls: Option<Option<&ServerTls>>,
    ) -> Self {
        for _attempt in 0..3 {
            let [client_port, leaf_port] = nats_process::free_ports::<2>();
            let mut config = format!(
                "server_name: hub\nlisten: \"127.0.0.1:{client_port}\"\n\
                 jetstream {{ store_dir: {:?}, domain: hub }}\n{}",
                dir.join("hub-js").display().to_string(),
                root.operator_mode_config().expect("operator mode config").render(),
            );
            if let Some(tls) = client_tls {
                config.push_str(&tls.render_client_port());
            }
            let leaf_url = leaf_tls.map(|tls| {
                let listen = format!("127.0.0.1:{leaf_port}");
                match tls {
                    Some(tls) => config.push_str(&tls.render_leafnodes_listen(&listen)),
                    None => config.push_str(&format!("leafnodes {{ listen: {listen:?}, no_advertise: true }}\n")),
                }
                format!("nats-leaf://127.0.0.1:{leaf_port}")
            });
            let mut hub = Self {
                process: NatsChild::spawn(dir, "hub", &config),
                client_url: format!("nats://127.0.0.1:{client_port}"),
                client_port,
                leaf_url,
                leaf_port,
                ca: client_tls.map(|tls| tls.files.ca.clone()),
                layout: root.layout().clone(),
            };
            if hub.wait_ready().await {
                return hub;
            }
            // Exited before it was ready: most likely another process took a port; try fresh ones.
        }
        panic!("the hub nats-server did not start in 3 attempts");
    }

    /// True once the system user can connect; false if the process exited first.
    async fn wait_ready(&mut self) -> bool {
        let started = Instant::now();
        loop {
            if !self.process.is_running() {
                eprintln!("hub exited early:\n{}", self.process.log());
                return false;
            }
            if self.connect(&self.layout.system_creds()).await.is_ok() {
                return true;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "hub not ready after {DEADLINE:?}:\n{}",
                self.process.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Connects to the client port with `creds` (trusting the hub's CA if it speaks TLS); no retries.
    pub async fn connect(&self, creds: &Path) -> Result<async_nats::Client, async_nats::ConnectError> {
        connect(&self.client_url, creds, self.ca.as_deref()).await
    }

    /// Like [`OperatorHub::connect`], with [`connect_with_events`].
    pub async fn connect_with_events(
        &self,
        creds: &Path,
    ) -> (async_nats::Client, mpsc::UnboundedReceiver<async_nats::Event>) {
        connect_with_events(&self.client_url, creds, self.ca.as_deref()).await
    }

    /// A client of the system account's user (may push account JWTs).
    pub async fn system_client(&self) -> async_nats::Client {
        self.connect(&self.layout.system_creds())
            .await
            .expect("connect as the system user")
    }

    /// A client of the hub account's admin user.
    pub async fn admin_client(&self) -> async_nats::Client {
        self.connect(&self.layout.admin_creds())
            .await
            .expect("connect as the admin")
    }
}

/// Writes `creds` to `<dir>/<name>.creds` and returns that path.
pub fn write_creds(dir: &Path, name: &str, creds: &UserCreds) -> PathBuf {
    let path = dir.join(format!("{name}.creds"));
    creds.write(&path).expect("write creds");
    path
}

/// How long a test client waits to be connected or refused. Above the full resolver's lookup timeout (about 2 s),
/// which a server waits out before refusing a user of an account it does not know.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `url` with `creds` (and `ca` as the only root, TLS required, if given); no retries.
pub async fn connect(
    url: &str,
    creds: &Path,
    ca: Option<&Path>,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    client_connect_options(creds, ca)
        .await
        .expect("connect options")
        .connection_timeout(CONNECT_TIMEOUT)
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(url)
        .await
}

/// Like [`connect`], and every client event (server errors, disconnects) arrives on the returned channel.
pub async fn connect_with_events(
    url: &str,
    creds: &Path,
    ca: Option<&Path>,
) -> (async_nats::Client, mpsc::UnboundedReceiver<async_nats::Event>) {
    let (events, received) = mpsc::unbounded_channel();
    let client = client_connect_options(creds, ca)
        .await
        .expect("connect options")
        .connection_timeout(CONNECT_TIMEOUT)
        .request_timeout(Some(Duration::from_secs(2)))
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        })
        .connect(url)
        .await
        .expect("connect with events");
    (client, received)
}
