//! Harness for end-to-end fleet tests: real `edgefleet hub|site|agent` processes, each in its own process group
//! (so `kill -9` takes its nats-server child with it, like a power cut), links through cuttable proxies, and
//! comparison of the state replayed on both sides of a link.
//!
//! Secured as the product is: the harness talks to the hub as its admin (`<hub data>/admin.creds`, TLS from
//! `<hub data>/ca.pem`), reads a site's copy at the hub as the hub's user in that site's account, adds every site
//! through the API and starts it from its bundle, talks to a site's server as the site process, and starts agents
//! with the site's join token.
#![allow(dead_code)]

pub mod bare_site;
pub mod browser;
pub mod cli;
pub mod hub_intents;
pub mod process;
pub mod security;
pub mod store_fleet;

use actors::AnyAggregate;
use async_nats::jetstream::Context;
use events::{AggregateRef, Scope, Token};
use process::EdgefleetProcess;
use replay::{FleetState, Quarantine, StreamHomes};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::free_port::free_ports;
use testkit::LinkProxy;

pub use testkit::{eventually, eventually_with};

/// Connects to `url` with `options`, retrying while the server comes up.
pub async fn connect_with(url: &str, options: async_nats::ConnectOptions) -> async_nats::Client {
    options
        .retry_on_initial_connect()
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// Options for the user of the `.creds` file `creds`, over TLS from the CA `ca`.
pub async fn creds_options(creds: &Path, ca: &Path) -> async_nats::ConnectOptions {
    async_nats::ConnectOptions::new()
        .credentials_file(creds)
        .await
        .unwrap_or_else(|e| panic!("credentials {}: {e}", creds.display()))
        .add_root_certificates(ca.to_path_buf())
        .require_tls(true)
}

/// Waits until `path` exists (a file a starting process writes).
pub async fn file_appears(path: &Path) {
    eventually(
        &format!("{} to appear", path.display()),
        Duration::from_secs(20),
        || async { path.exists().then_some(()) },
    )
    .await;
}

/// A running `edgefleet hub`.
pub struct Hub {
    pub process: EdgefleetProcess,
    pub client_port: u16,
    pub leaf_port: u16,
    pub data_dir: PathBuf,
    /// Arguments beyond the ports and data dir (a cluster member's).
    pub extra_args: Vec<String>,
    /// The URL clients are given: this hub's, or every hub's of a cluster, comma-separated.
    pub clients_url: Option<String>,
}

impl Hub {
    /// Starts a hub with data under `dir/hub`.
    pub async fn start(dir: &Path) -> Hub {
        Self::start_with_env(dir, &[]).await
    }

    /// Starts a hub with extra environment (e.g. `EDGEFLEET_FAULT`).
    pub async fn start_with_env(dir: &Path, env: &[(&str, String)]) -> Hub {
        Self::start_in(dir, &dir.join("hub"), env).await
    }

    /// Starts a hub with its data in `data_dir` and its log in `dir`.
    pub async fn start_in(dir: &Path, data_dir: &Path, env: &[(&str, String)]) -> Hub {
        Self::start_with_args(dir, data_dir, env, Vec::new()).await
    }

    /// Starts a hub with `extra_args` (kept for its restarts), e.g. `--remote-write URL`.
    pub async fn start_with_args(dir: &Path, data_dir: &Path, env: &[(&str, String)], extra_args: Vec<String>) -> Hub {
        let [client_port, leaf_port] = free_ports::<2>();
        let data_dir = data_dir.to_path_buf();
        let process = Self::spawn(dir, &data_dir, client_port, leaf_port, env, &extra_args);
        let hub = Hub {
            process,
            client_port,
            leaf_port,
            data_dir,
            extra_args,
            clients_url: None,
        };
        hub.wait_ready().await;
        hub
    }

    /// The arguments of `edgefleet hub` on these ports and data.
    pub fn args(data_dir: &Path, client_port: u16, leaf_port: u16) -> Vec<String> {
        vec![
            "hub".to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{client_port}"),
            "--leaf-listen".into(),
            format!("127.0.0.1:{leaf_port}"),
        ]
    }

    /// Waits until the hub process has exited on its own (a fault point fired); panics after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) {
        wait_exit(&mut self.process, timeout).await;
    }

    /// Stops the hub (SIGTERM; it stops its nats-server and releases its data dir).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts a stopped hub again on the same ports and data.
    pub async fn start_again(&mut self, dir: &Path) {
        self.process = self.respawn(dir);
        self.wait_ready().await;
    }

    /// Starts the hub again on the same ports and data, with no extra environment.
    pub async fn restart(&mut self, dir: &Path) {
        self.process.kill_group();
        self.process = self.respawn(dir);
        self.wait_ready().await;
    }

    /// Starts this hub's process again (same ports, data and arguments), without waiting.
    pub fn respawn(&self, dir: &Path) -> EdgefleetProcess {
        Self::spawn(
            dir,
            &self.data_dir,
            self.client_port,
            self.leaf_port,
            &[],
            &self.extra_args,
        )
    }

    pub fn spawn(
        dir: &Path,
        data_dir: &Path,
        client_port: u16,
        leaf_port: u16,
        env: &[(&str, String)],
        extra: &[String],
    ) -> EdgefleetProcess {
        let mut args = Self::args(data_dir, client_port, leaf_port);
        args.extend(extra.iter().cloned());
        let name = data_dir
            .file_name()
            .map_or("hub".into(), |n| n.to_string_lossy().into_owned());
        process::spawn(&name, dir, &args, env)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.client_port)
    }

    /// The hub's admin credentials.
    pub fn admin_creds(&self) -> PathBuf {
        self.data_dir.join("admin.creds")
    }

    /// The CA the hub's certificate comes from.
    pub fn ca(&self) -> PathBuf {
        self.data_dir.join("ca.pem")
    }

    /// The environment that points the CLI at this hub as its admin.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("EDGEFLEET_HUB", self.clients_url.clone().unwrap_or_else(|| self.url())),
            ("EDGEFLEET_CREDS", self.admin_creds().display().to_string()),
            ("EDGEFLEET_CA", self.ca().display().to_string()),
        ]
    }

    /// A client of the hub as its admin (the HUB account: intents, images, the API).
    pub async fn client(&self) -> async_nats::Client {
        file_appears(&self.admin_creds()).await;
        connect_with(&self.url(), creds_options(&self.admin_creds(), &self.ca()).await).await
    }

    /// A client of the hub as its admin that may be answered by any hub of a cluster and moves to another hub
    /// when its server goes away.
    pub async fn cluster_client(&self) -> async_nats::Client {
        file_appears(&self.admin_creds()).await;
        let urls = self.clients_url.clone().unwrap_or_else(|| self.url());
        let servers: Vec<async_nats::ServerAddr> = urls.split(',').map(|u| u.parse().expect("url")).collect();
        creds_options(&self.admin_creds(), &self.ca())
            .await
            .retry_on_initial_connect()
            .connect(servers)
            .await
            .expect("connect to the hub cluster")
    }

    /// JetStream as the hub's admin.
    pub async fn js(&self) -> Context {
        async_nats::jetstream::new(self.client().await)
    }

    /// JetStream in `site`'s account at the hub (where the hub's copy of its stream lives), as the hub's user there.
    pub async fn site_js(&self, site: &Token) -> Context {
        let creds = self
            .data_dir
            .join("trust")
            .join("sites")
            .join(site.as_str())
            .join("hub.creds");
        file_appears(&creds).await;
        async_nats::jetstream::new(connect_with(&self.url(), creds_options(&creds, &self.ca()).await).await)
    }

    /// Where the hub holds what it shares with `site`: its intents, and its copy of the site's stream.
    pub async fn homes(&self, site: &Token) -> Vec<(Context, String)> {
        vec![
            (self.js().await, events::subject::INTENT_STREAM.to_string()),
            (self.site_js(site).await, events::subject::site_stream(site)),
        ]
    }

    /// Every stream the hub reads, where it lives (for hub-origin actors in tests).
    pub async fn stream_homes(&self, sites: &[&Token]) -> StreamHomes {
        let homes = StreamHomes::single(self.js().await);
        for site in sites {
            homes.place(&events::subject::site_stream(site), self.site_js(site).await);
        }
        homes
    }

    pub async fn wait_ready(&self) {
        let client = self.client().await;
        eventually("the hub API", Duration::from_secs(20), || {
            let client = client.clone();
            async move { client.request("ef.api.v1.sites.list", "{}".into()).await.ok() }
        })
        .await;
    }

    /// `kill -9` the hub and its nats-server, then start it again on the same ports and data.
    pub async fn kill9_and_restart(&mut self, dir: &Path) {
        self.process.kill_group();
        self.process = self.respawn(dir);
        self.wait_ready().await;
    }

    /// The hub API's answer on `endpoint`, as JSON.
    pub async fn api(&self, endpoint: &str) -> serde_json::Value {
        self.api_with(endpoint, serde_json::json!({})).await
    }

    /// The hub API's answer on `endpoint` to `body`, as JSON (asked as the hub's admin).
    pub async fn api_with(&self, endpoint: &str, body: serde_json::Value) -> serde_json::Value {
        let client = self.client().await;
        let reply = client
            .request(format!("ef.api.v1.{endpoint}"), body.to_string().into())
            .await
            .expect("API answers");
        serde_json::from_slice(&reply.payload).expect("API replies JSON")
    }

    /// Adds `site` to the fleet and writes its bundle into `dir` with `hub_leaf` as the hub's leaf URL.
    pub async fn add_site(&self, site: &str, dir: &Path, hub_leaf: &str) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
            .args(["sites", "add", site, "--out"])
            .arg(dir)
            .args(["--hub-leaf", hub_leaf])
            .envs(self.cli_env())
            .output()
            .expect("edgefleet runs");
        assert!(
            out.status.success(),
            "sites add {site}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A running `edgefleet site`, linked to the hub through a cuttable proxy.
pub struct Site {
    pub id: Token,
    pub process: EdgefleetProcess,
    pub client_port: u16,
    pub data_dir: PathBuf,
    pub link: LinkProxy,
    args: Vec<String>,
}

impl Site {
    /// Starts site `id` (site image: cluster `main` from profile `edge@1`), linked to `hub`.
    pub async fn start(dir: &Path, hub: &Hub, id: &str, env: &[(&str, String)]) -> Site {
        Self::start_with_image(dir, hub, id, env, Some("edge@1")).await
    }

    /// Starts site `id`; `image` is the site image's cluster profile (`None`: nodes wait for the hub).
    pub async fn start_with_image(
        dir: &Path,
        hub: &Hub,
        id: &str,
        env: &[(&str, String)],
        image: Option<&str>,
    ) -> Site {
        Self::start_leafing(dir, hub, id, env, image, None).await
    }

    /// Starts site `id` with its leaf link dialling `hub_leaf` (e.g. every hub of a cluster) instead of the
    /// cuttable proxy in front of `hub`.
    pub async fn start_leafing(
        dir: &Path,
        hub: &Hub,
        id: &str,
        env: &[(&str, String)],
        image: Option<&str>,
        hub_leaf: Option<&str>,
    ) -> Site {
        let link = LinkProxy::start(format!("127.0.0.1:{}", hub.leaf_port).parse().expect("addr"))
            .await
            .expect("proxy");
        let [client_port] = free_ports::<1>();
        let data_dir = dir.join(id);
        let bundle = dir.join(format!("{id}-bundle"));
        let proxied = link.leaf_url();
        hub.add_site(id, &bundle, hub_leaf.unwrap_or(&proxied)).await;
        let mut args = vec![
            "site".to_string(),
            "--bundle".into(),
            bundle.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{client_port}"),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--silent-after-s".into(),
            "3".into(),
        ];
        if let Some(profile) = image {
            args.extend(["--cluster-profile".to_string(), profile.to_string()]);
        }
        let process = process::spawn(&format!("site-{id}"), dir, &args, env);
        let site = Site {
            id: testkit::token(id),
            process,
            client_port,
            data_dir,
            link,
            args,
        };
        site.wait_ready().await;
        site
    }

    /// Waits until the site process has exited on its own (a fault point fired); panics after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) {
        wait_exit(&mut self.process, timeout).await;
    }

    /// Starts the site again from another bundle (after `sites rotate`), same data.
    pub async fn restart_with_bundle(&mut self, dir: &Path, bundle: &Path) {
        let at = self
            .args
            .iter()
            .position(|a| a == "--bundle")
            .expect("started from a bundle");
        self.args[at + 1] = bundle.display().to_string();
        self.restart(dir).await;
    }

    /// Stops the site process (SIGTERM; it stops its nats-server).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts the site again with the same arguments and data, with no extra environment.
    pub async fn restart(&mut self, dir: &Path) {
        self.process.kill_group();
        self.process = process::spawn(&format!("site-{}", self.id), dir, &self.args, &[]);
        self.wait_ready().await;
    }

    /// A client of the site's server as the site process (its nkey, TLS from the site's CA).
    pub async fn client(&self) -> async_nats::Client {
        let seed_file = self.data_dir.join("site.nk");
        file_appears(&seed_file).await;
        let seed = std::fs::read_to_string(&seed_file).expect("the site's key");
        let options = async_nats::ConnectOptions::new()
            .nkey(seed.trim().to_string())
            .add_root_certificates(self.ca())
            .require_tls(true);
        connect_with(&self.url(), options).await
    }

    /// JetStream at the site, as the site process.
    pub async fn js(&self) -> Context {
        async_nats::jetstream::new(self.client().await)
    }

    /// The CA of the site's server (copied into its data dir for agents).
    pub fn ca(&self) -> PathBuf {
        self.data_dir.join("ca.pem")
    }

    /// The site's join token file.
    pub fn join_token(&self) -> PathBuf {
        self.data_dir.join("join.token")
    }

    /// Where the site holds its stream and its copy of the intents.
    pub async fn homes(&self) -> Vec<(Context, String)> {
        let js = self.js().await;
        vec![
            (js.clone(), events::subject::INTENT_STREAM.to_string()),
            (js, events::subject::site_stream(&self.id)),
        ]
    }

    async fn wait_ready(&self) {
        let js = self.js().await;
        let stream = events::subject::site_stream(&self.id);
        eventually("the site stream", Duration::from_secs(20), || {
            let js = js.clone();
            let stream = stream.clone();
            async move { js.get_stream(&stream).await.ok().map(|_| ()) }
        })
        .await;
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.client_port)
    }

    /// `kill -9` the site's nats-server only (the site process restarts it).
    pub async fn kill9_nats(&self) {
        let pid = nats_pid(&self.data_dir.join("nats"));
        process::kill9(pid);
        // The supervisor notices within 250 ms and restarts it on the same ports; wait until it answers again.
        eventually(
            "the site's nats-server after kill -9",
            Duration::from_secs(20),
            || async {
                let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
                let listening = std::net::TcpStream::connect(("127.0.0.1", self.client_port)).is_ok();
                (!alive && listening).then_some(())
            },
        )
        .await;
    }
}

/// The pid of the nats-server running in `server_dir`, from its ports file.
pub fn nats_pid(server_dir: &Path) -> u32 {
    testkit::running_server_pid(server_dir).expect("a ports file names the running nats-server")
}

/// Waits until `process` has exited on its own (a fault point fired); panics after `timeout`.
pub async fn wait_exit(process: &mut EdgefleetProcess, timeout: Duration) {
    let name = process.name().to_string();
    eventually(&format!("{name} to exit"), timeout, || {
        let running = process.is_running();
        async move { (!running).then_some(()) }
    })
    .await;
}

/// A running `edgefleet agent`.
pub fn agent(dir: &Path, site: &Site, node: &str) -> EdgefleetProcess {
    agent_with_env(dir, site, node, &[])
}

/// A running `edgefleet agent` with extra environment (e.g. `EDGEFLEET_SIMULATE_UNHEALTHY`).
pub fn agent_with_env(dir: &Path, site: &Site, node: &str, env: &[(&str, String)]) -> EdgefleetProcess {
    let args = agent_args(dir, site, node);
    process::spawn(&format!("agent-{}-{node}", site.id), dir, &args, env)
}

/// The arguments of `edgefleet agent` for `node` of `site`: its disk in `dir`, the site's join token and CA.
pub fn agent_args(dir: &Path, site: &Site, node: &str) -> Vec<String> {
    vec![
        "agent".to_string(),
        "--site-nats".into(),
        site.url(),
        "--node-id".into(),
        node.into(),
        "--disk".into(),
        dir.join(format!("{}-{node}.img", site.id)).display().to_string(),
        "--heartbeat-s".into(),
        "1".into(),
        "--machine-id".into(),
        format!("{}-{node}", site.id),
        // Fixed inventory, so outputs do not depend on the machine running the tests.
        "--cpus".into(),
        "4".into(),
        "--memory-mib".into(),
        "8192".into(),
        "--disk-device".into(),
        "nvme0n1=512110190592".into(),
        "--nic".into(),
        format!(
            "eth0=02:00:00:00:00:{:02x}",
            node.bytes().map(u32::from).sum::<u32>() % 256
        ),
        "--join-token".into(),
        site.join_token().display().to_string(),
        "--ca".into(),
        site.ca().display().to_string(),
    ]
}

/// Every aggregate of `site` (and the fleet-wide ones) as replayed from `homes` (each stream where it lives).
/// A stream whose config is being changed (a copy's source put back) briefly has no one answering direct gets, so a
/// read that fails is tried again for a few seconds.
pub async fn replayed(homes: &[(Context, String)], site: &Token) -> BTreeMap<AggregateRef, AnyAggregate> {
    eventually_with(
        "a replay of the hub's or site's streams",
        Duration::from_secs(10),
        || try_replayed(homes, site),
    )
    .await
}

/// As [`replayed`]; a stream that cannot be read right now (its server restarting) is an error to retry.
pub async fn try_replayed(
    homes: &[(Context, String)],
    site: &Token,
) -> Result<BTreeMap<AggregateRef, AnyAggregate>, String> {
    let mut fleet = FleetState::new();
    for (js, stream) in homes {
        replay::rebuild_streams(js, std::slice::from_ref(stream), &mut fleet, &Quarantine::in_memory())
            .await
            .map_err(|e| format!("replaying {stream}: {e}"))?;
    }
    Ok(fleet
        .aggregates
        .into_iter()
        .filter(|(a, _)| a.scope == Scope::All || a.scope == Scope::Site(site.clone()))
        .map(|(a, e)| (a, e.state))
        .collect())
}

/// Waits until hub and site replay to the same state for everything they share; returns how long it took.
pub async fn converged(hub: &Hub, site: &Site, timeout: Duration) -> (Duration, BTreeMap<AggregateRef, AnyAggregate>) {
    let started = Instant::now();
    let state = eventually_with(&format!("{} to converge", site.id), timeout, || async {
        let (at_hub, at_site) = (
            try_replayed(&hub.homes(&site.id).await, &site.id).await?,
            try_replayed(&site.homes().await, &site.id).await?,
        );
        if at_hub == at_site && !at_hub.is_empty() {
            Ok(at_hub)
        } else {
            Err(diff(&at_hub, &at_site))
        }
    })
    .await;
    (started.elapsed(), state)
}

fn diff(a: &BTreeMap<AggregateRef, AnyAggregate>, b: &BTreeMap<AggregateRef, AnyAggregate>) -> String {
    let mut out = Vec::new();
    for key in a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
        if a.get(key) != b.get(key) {
            out.push(format!(
                "{key}: hub {:?} / site {:?}",
                a.get(key).is_some(),
                b.get(key).is_some()
            ));
        }
    }
    out.join("; ")
}

/// The node's state as replayed from `homes`.
pub async fn node_state(homes: &[(Context, String)], site: &Token, node: &str) -> Option<actors::node::NodeState> {
    match replayed(homes, site)
        .await
        .remove(&AggregateRef::node(site, &testkit::token(node)))
    {
        Some(AnyAggregate::Node(state)) => Some(state),
        _ => None,
    }
}

/// The test's data dir; kept (and named on stderr) with `KEEP` set, to read the machines' logs after a failure.
pub fn test_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .disable_cleanup(std::env::var("KEEP").is_ok())
        .tempdir()
        .expect("temp dir");
    eprintln!("data in {}", dir.path().display());
    dir
}

/// A client of `site`'s NATS as its local reader (the key from its bundle in `dir`).
pub async fn local_reader(dir: &Path, site: &Site) -> async_nats::Client {
    let bundle = dir.join(format!("{}-bundle", site.id));
    let seed = std::fs::read_to_string(bundle.join("local-reader.nk")).expect("the reader's seed");
    async_nats::ConnectOptions::new()
        .nkey(seed.trim().to_string())
        .custom_inbox_prefix(fleet_trust::LOCAL_READER_INBOX_PREFIX)
        .add_root_certificates(bundle.join("site-ca.pem"))
        .require_tls(true)
        .connect(site.url())
        .await
        .expect("the local reader connects")
}
