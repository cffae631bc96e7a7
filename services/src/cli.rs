//! Command-line shape (clap). Global flags are accepted before or after the subcommand.

use actors::maintenance_window::MaintenanceWindow;
use actors::metric_gate::MetricGate;
use actors::node::NodeLifecycle;
use clap::{Args, Parser, Subcommand, ValueEnum};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::Token;
use std::path::PathBuf;

/// edgefleet: management plane for fleets of edge Kubernetes sites.
#[derive(Debug, Parser)]
#[command(name = "edgefleet", version, about, propagate_version = true)]
pub struct Cli {
    /// The hub's NATS URL (default: $EDGEFLEET_HUB).
    #[arg(long, global = true, env = "EDGEFLEET_HUB")]
    pub hub: Option<String>,
    /// Your credentials at the hub: a NATS `.creds` file (default: $EDGEFLEET_CREDS; the hub writes
    /// `<data dir>/admin.creds`, `edgefleet users add` issues more).
    #[arg(long, global = true, env = "EDGEFLEET_CREDS")]
    pub creds: Option<PathBuf>,
    /// The CA that issued the hub's TLS certificate (default: $EDGEFLEET_CA; the hub writes `<data dir>/ca.pem`).
    #[arg(long, global = true, env = "EDGEFLEET_CA")]
    pub ca: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Log more (RUST_LOG overrides).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of client commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// JSON for programs.
    Json,
    /// YAML.
    Yaml,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a local fleet (hub nats-server, sites, nodes) and tell its story.
    Demo(DemoArgs),
    /// Run the hub: the management plane, its own nats-server and the fleet's trust root.
    Hub(HubArgs),
    /// Run one edge site: its leaf nats-server, streams and site controller.
    Site(SiteArgs),
    /// Run a node agent: register, heartbeat, apply the node's assignment.
    Agent(AgentArgs),
    /// Run a machine of a site from its site image: find the site on the LAN (or bootstrap it), run the agent.
    Node(NodeArgs),
    /// Write a site image (`site-image.yaml` and a join token) from a site's bundle, for every machine of the site.
    SiteImage(SiteImageArgs),
    /// Sites as the hub sees them.
    Sites {
        /// What to do with sites.
        #[command(subcommand)]
        command: SitesCommand,
    },
    /// The fleet CA: rotate it in two steps, on the hub's data dir while the hub is stopped.
    Ca {
        /// Which step.
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Operators' credentials: issue with a role, list, revoke (admin).
    Users {
        /// What to do with users.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// The hub's web dashboard: a sign-in link for your own identity.
    Dashboard {
        /// What to do.
        #[command(subcommand)]
        command: DashboardCommand,
    },
    /// Nodes: list, inspect, assign to clusters, reset.
    Nodes {
        /// What to do with nodes.
        #[command(subcommand)]
        command: NodesCommand,
    },
    /// Cluster profiles: versioned, immutable full-stack definitions.
    Profiles {
        /// What to do with profiles.
        #[command(subcommand)]
        command: ProfilesCommand,
    },
    /// Apps: versioned, immutable applications that placements put on clusters.
    Apps {
        /// What to do with apps.
        #[command(subcommand)]
        command: AppsCommand,
    },
    /// Placements: which clusters an app goes to, decided from intent and explained.
    Placements {
        /// What to do with placements.
        #[command(subcommand)]
        command: PlacementsCommand,
    },
    /// Central config (settings, feature flags, small files) mirrored to the sites it targets.
    Config {
        /// What to do with config.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Clusters: create at a site from a profile version, inspect, delete.
    Clusters {
        /// What to do with clusters.
        #[command(subcommand)]
        command: ClustersCommand,
    },
    /// Fleet rollouts: move selected clusters to a profile version in waves.
    Rollouts {
        /// What to do with rollouts.
        #[command(subcommand)]
        command: RolloutsCommand,
    },
    /// OS images in the hub's object store (replicated to every site ahead of updates).
    Images {
        /// What to do with images.
        #[command(subcommand)]
        command: ImagesCommand,
    },
    /// Apply kubectl-style YAML manifests (kind / metadata / spec; several documents per file).
    Apply {
        /// Manifest file, or `-` for stdin.
        #[arg(short = 'f', long)]
        file: String,
    },
    /// Rebuild every aggregate from the event streams into a local snapshot store.
    Replay(ReplayArgs),
    /// Export a stream to an .eflog file.
    Export(ExportArgs),
    /// Import an .eflog file (idempotent: message ids are kept).
    Import(ImportArgs),
    /// List an aggregate's events: what, when, origin, by whom.
    History(HistoryArgs),
    /// Show an aggregate's state, now or at a point of its history.
    Get(GetArgs),
    /// Messages the hub could not read (corrupt, unknown version, forged): stream, sequence, reason, first bytes.
    Quarantine {
        /// What to look at.
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// Log lines of a site's agents and site process, as delivered to the hub (`-o json`: one object per line).
    Logs(LogsArgs),
}

/// `edgefleet logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The site.
    #[arg(long)]
    pub site: events::Token,
    /// One node only (`site` for the site process's own lines).
    #[arg(long)]
    pub node: Option<events::Token>,
    /// How far back to start (e.g. 10m, 2h, 1d).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub since: std::time::Duration,
    /// This level or more severe only: error, warn, info, debug, trace.
    #[arg(long)]
    pub level: Option<telemetry::LogLevel>,
    /// Keep printing lines as they arrive, until Ctrl-C.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Read at the site's own nats-server instead of the hub (works while the hub is unreachable), e.g.
    /// tls://store-1.local:4301; needs --reader-key and --site-ca.
    #[arg(long, requires_all = ["reader_key", "site_ca"])]
    pub site_nats: Option<String>,
    /// The site's local reader key (`local-reader.nk` from its bundle, `edgefleet sites add … --out DIR`).
    #[arg(long, value_parser = absolute_path)]
    pub reader_key: Option<PathBuf>,
    /// The CA the site's server certificate comes from (`site-ca.pem` from its bundle).
    #[arg(long, value_parser = absolute_path)]
    pub site_ca: Option<PathBuf>,
}

impl Command {
    /// True for the processes whose log lines go to their site's telemetry stream.
    pub fn ships_logs(&self) -> bool {
        matches!(self, Command::Site(_) | Command::Agent(_) | Command::Node(_))
    }

    /// True for the commands that run until stopped (hub, site, agent, demo), false for client commands.
    pub fn is_long_running(&self) -> bool {
        matches!(
            self,
            Command::Demo(_) | Command::Hub(_) | Command::Site(_) | Command::Agent(_) | Command::Node(_)
        )
    }
}

/// `edgefleet quarantine …`.
#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined messages.
    Ls {
        /// Only messages of this site's stream.
        #[arg(long)]
        site: Option<Token>,
    },
    /// One quarantined message.
    Get {
        /// The stream (`EF_SITE_<site>`, `EF_INTENT`).
        stream: String,
        /// Its sequence there.
        seq: u64,
    },
}

/// `edgefleet demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Sites in the fleet.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub sites: u32,
    /// Nodes per site.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub nodes: u32,
    /// Exit 0 after the story instead of running until Ctrl-C.
    #[arg(long)]
    pub once: bool,
    /// Keep the demo's data directory when stopping.
    #[arg(long)]
    pub keep: bool,
    /// Tell the zero-touch story instead: machines on a LAN of network namespaces (root, iproute2) form an HA site
    /// by themselves, lose the first machine, recover and take a new one.
    #[arg(long)]
    pub zero_touch: bool,
}

/// `edgefleet replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Streams to replay (default: EF_INTENT and every EF_SITE_* stream on the server).
    #[arg(long = "stream")]
    pub streams: Vec<String>,
    /// Directory of the local snapshot store (redb); snapshot + tail on later runs.
    #[arg(long)]
    pub data_dir: PathBuf,
}

/// `edgefleet export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Stream to export.
    #[arg(long)]
    pub stream: String,
    /// File to write.
    #[arg(short = 'f', long)]
    pub file: PathBuf,
}

/// `edgefleet import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// File to read.
    #[arg(short = 'f', long)]
    pub file: PathBuf,
}

/// `edgefleet history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// KIND/ID or KIND/SCOPE/ID, e.g. `node/store-1/n1`, `site/store-1`, `profile/pos`.
    pub aggregate: String,
}

/// `edgefleet get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// KIND/ID or KIND/SCOPE/ID.
    pub aggregate: String,
    /// A point in its history: an event number (as `history` lists them) or an RFC 3339 time.
    #[arg(long)]
    pub at: Option<String>,
}

/// `KEY=VALUE` pairs (labels, overrides, filters).
fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} must be KEY=VALUE"))
}

/// `edgefleet sites …`.
#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// List sites: connection state, last seen, replication lag.
    Ls,
    /// One site with its labels.
    Get {
        /// Site id.
        id: Token,
    },
    /// Replace a site's labels.
    Label {
        /// Site id.
        id: Token,
        /// KEY=VALUE, repeatable.
        #[arg(value_parser = key_value, required = true)]
        labels: Vec<(String, String)>,
    },
    /// Add a site to the fleet (admin): its account at the hub and its bundle, written into --out for
    /// `edgefleet site --bundle DIR`.
    Add(SiteIssueArgs),
    /// Issue a site a new bundle (admin); every earlier credential of the site stops working.
    Rotate(SiteIssueArgs),
    /// Cut a site off (admin): its link is closed within seconds and its credentials refused; its history stays.
    Revoke {
        /// Site id.
        id: Token,
    },
}

/// `edgefleet sites add|rotate`.
#[derive(Debug, Args)]
pub struct SiteIssueArgs {
    /// Site id.
    pub id: Token,
    /// A new or empty directory to write the bundle into (secrets: keep it owner-only).
    #[arg(long)]
    pub out: PathBuf,
    /// A name or address the site's nats-server is reached by (its TLS certificate covers it, and localhost);
    /// repeatable.
    #[arg(long = "tls-name")]
    pub tls_names: Vec<String>,
    /// The hub's leafnode URL as this site dials it, if not the hub's own (`--leaf-url` of `edgefleet hub`).
    #[arg(long)]
    pub hub_leaf: Option<String>,
    /// Do nothing if --out already holds a bundle (for provisioning scripts and containers that run again).
    #[arg(long)]
    pub if_missing: bool,
}

/// `edgefleet ca …`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Make the next CA; the hub's CA bundle (`<data dir>/ca.pem`) then trusts the current and the next one.
    BeginRotation {
        /// The hub's data dir.
        #[arg(long, env = "EDGEFLEET_DATA_DIR", value_parser = absolute_path)]
        data_dir: PathBuf,
    },
    /// Make the next CA the only one; the hub presents a certificate from it at its next start.
    CompleteRotation {
        /// The hub's data dir.
        #[arg(long, env = "EDGEFLEET_DATA_DIR", value_parser = absolute_path)]
        data_dir: PathBuf,
    },
}

/// `edgefleet dashboard …`.
#[derive(Debug, Subcommand)]
pub enum DashboardCommand {
    /// Print a sign-in link to the hub's dashboard for the identity of --creds (good once, for five minutes; a
    /// viewer sees everything and changes nothing, an operator gets the buttons).
    Url,
}

/// `edgefleet users …` (admin).
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Issue an operator's credential with a role; writes a `.creds` file.
    Add {
        /// User name (history records it as `by`).
        name: Token,
        /// viewer (list and get), operator (also change), admin (also sites, users, images, raw streams).
        #[arg(long)]
        role: fleet_trust::OperatorRole,
        /// Where to write the credential (created owner-only; refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// List issued credentials.
    Ls,
    /// Revoke a user's credential: its connections are closed at once.
    Revoke {
        /// User name.
        name: Token,
    },
}

/// `edgefleet nodes …`.
#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    /// List nodes: site, state, cluster, role, last heartbeat.
    Ls {
        /// Only this site's nodes.
        #[arg(long)]
        site: Option<Token>,
        /// Only nodes in this state (unassigned, assigned, provisioning, ready, failed, resetting).
        #[arg(long)]
        state: Option<NodeLifecycle>,
        /// Only nodes with this label, KEY=VALUE, repeatable.
        #[arg(short = 'l', long = "label", value_parser = key_value)]
        labels: Vec<(String, String)>,
    },
    /// One node in detail.
    Get {
        /// Node id.
        id: Token,
        /// Its site (when the id is used at several sites).
        #[arg(long)]
        site: Option<Token>,
    },
    /// Assign a node to a cluster at its site.
    Assign {
        /// Node id.
        id: Token,
        /// Target cluster.
        #[arg(long)]
        cluster: Token,
        /// control-plane or worker.
        #[arg(long)]
        role: NodeRole,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
    /// Take a node out of its cluster.
    Unassign {
        /// Node id.
        id: Token,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
    /// Send a node back to its bootstrap partition to start over.
    Reset {
        /// Node id.
        id: Token,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
    /// Replace a node's labels (labels never move a node in or out of a cluster).
    Label {
        /// Node id.
        id: Token,
        /// KEY=VALUE, repeatable.
        #[arg(value_parser = key_value, required = true)]
        labels: Vec<(String, String)>,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
}

/// `edgefleet profiles …`.
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Publish a profile from a YAML manifest (a new version only if the layers changed).
    Apply {
        /// Manifest file (kind: Profile), or `-` for stdin.
        #[arg(short = 'f', long)]
        file: String,
    },
    /// List profiles.
    Ls,
    /// One profile version (NAME or NAME@VERSION).
    Get {
        /// NAME or NAME@VERSION.
        name: String,
    },
}

/// `edgefleet apps …`.
#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// List apps.
    Ls,
    /// One app version (NAME or NAME@VERSION).
    Get {
        /// NAME or NAME@VERSION.
        name: String,
    },
}

/// `edgefleet placements …`.
#[derive(Debug, Subcommand)]
pub enum PlacementsCommand {
    /// Apply placements from a manifest (kind: Placement); with --dry-run, show what they would decide instead.
    Apply {
        /// Manifest file, or `-` for stdin.
        #[arg(short = 'f', long)]
        file: String,
        /// Decide and explain without saving anything.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: against the fleet as the log held it then (RFC 3339, or a duration ago such as 7d).
        #[arg(long, requires = "dry_run")]
        at: Option<String>,
    },
    /// List placements.
    Ls,
    /// One placement and its recorded decision.
    Get {
        /// Placement name.
        name: Token,
    },
    /// Why the placement chose what it chose: every cluster's filter or scores, decided again over the fleet now.
    Explain {
        /// Placement name.
        name: Token,
    },
    /// Delete a placement: its app leaves every cluster it chose.
    Delete {
        /// Placement name.
        name: Token,
    },
}

/// `edgefleet config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set KEY in a scope; the sites it targets get it as soon as they can, and keep it while the hub is away.
    Set {
        /// The key (`[-/_=.a-zA-Z0-9]`, e.g. menu/soup, flags.new-ui).
        key: String,
        /// The value (or --file).
        #[arg(required_unless_present = "file")]
        value: Option<String>,
        /// Read the value from this file (a small file, at most 64 KiB).
        #[arg(long, conflicts_with = "value")]
        file: Option<PathBuf>,
        /// `all`, `site=SITE` or `label=KEY=VALUE` (a site's own value wins over a label's over every site's).
        #[arg(long, default_value = "all")]
        scope: events::config::ConfigScope,
        /// Expire it after this long (e.g. 24h, 7d): gone from every site then, also from a site cut off.
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<std::time::Duration>,
    },
    /// The values of KEY, in every scope (or one).
    Get {
        /// The key.
        key: String,
        /// Only this scope.
        #[arg(long)]
        scope: Option<events::config::ConfigScope>,
    },
    /// Every entry (or one scope's).
    Ls {
        /// Only this scope.
        #[arg(long)]
        scope: Option<events::config::ConfigScope>,
    },
    /// Delete KEY in a scope.
    Delete {
        /// The key.
        key: String,
        /// The scope.
        #[arg(long)]
        scope: events::config::ConfigScope,
    },
    /// Per site: the config revision resolved for it and the revision it holds.
    Sites,
}

/// `edgefleet clusters …`.
#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// Create a cluster at a site from a profile version.
    Create {
        /// Cluster id.
        id: Token,
        /// The site.
        #[arg(long)]
        site: Token,
        /// NAME@VERSION.
        #[arg(long)]
        profile: ProfileRef,
        /// Override, KEY=VALUE, repeatable.
        #[arg(long = "set", value_parser = key_value)]
        overrides: Vec<(String, String)>,
        /// Label, KEY=VALUE, repeatable.
        #[arg(short = 'l', long = "label", value_parser = key_value)]
        labels: Vec<(String, String)>,
    },
    /// List clusters (those the site removed after a deletion only with --removed).
    Ls {
        /// Only this site's clusters.
        #[arg(long)]
        site: Option<Token>,
        /// Also list removed clusters.
        #[arg(long)]
        removed: bool,
    },
    /// One cluster with its nodes, roles and running profile.
    Get {
        /// Cluster id.
        id: Token,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
    /// Move a cluster to another profile version (the site updates it node by node, A/B).
    Upgrade {
        /// Cluster id.
        id: Token,
        /// NAME@VERSION.
        #[arg(long)]
        profile: ProfileRef,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
    /// Delete a cluster (its members leave, the site removes it and confirms).
    Delete {
        /// Cluster id.
        id: Token,
        /// Its site.
        #[arg(long)]
        site: Option<Token>,
    },
}

/// `edgefleet hub`.
#[derive(Debug, Args)]
pub struct HubArgs {
    /// Where the hub keeps its data (nats-server store, snapshots).
    #[arg(long, env = "EDGEFLEET_DATA_DIR", value_parser = absolute_path)]
    pub data_dir: PathBuf,
    /// NATS client listen address of the embedded nats-server.
    #[arg(long, default_value = "127.0.0.1:4222")]
    pub listen: String,
    /// Leafnode listen address sites connect to.
    #[arg(long, default_value = "127.0.0.1:7422")]
    pub leaf_listen: String,
    /// The leafnode URL sites dial, written into their bundles (default: nats-leaf://<listen host>:<leaf port>).
    /// In a cluster, every hub's leafnode URL, comma-separated: a site's link moves to another when one fails.
    #[arg(long)]
    pub leaf_url: Option<String>,
    /// Another name or address the hub is reached by (its TLS certificate covers it); repeatable.
    #[arg(long = "tls-name")]
    pub tls_names: Vec<String>,
    /// A certificate of your own CA instead of one from the fleet CA (all three flags together).
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    /// Membership of a hub cluster.
    #[command(flatten)]
    pub cluster: HubClusterArgs,
    /// A Prometheus remote-write endpoint every site's metrics are delivered to (http[s]://[USER:PASSWORD@]HOST:PORT/
    /// api/v1/write); repeatable, each with its own delivery cursor. The receiver needs
    /// `--web.enable-remote-write-receiver` and an `out_of_order_time_window` as long as the outages to back-fill
    /// (docs/TELEMETRY.md). `https://` trusts the system's roots and --remote-write-ca.
    #[arg(long = "remote-write", value_parser = url::Url::parse)]
    pub remote_write: Vec<url::Url>,
    /// A PEM file of CA certificates `https://` remote-write endpoints may also be trusted by (a private CA).
    #[arg(long, value_parser = absolute_path)]
    pub remote_write_ca: Option<PathBuf>,
    /// `/metrics` for Prometheus to scrape.
    #[command(flatten)]
    pub metrics: crate::process_metrics::MetricsArgs,
    /// Serve the web dashboard on IP:PORT (off unless given); sign in with `edgefleet dashboard url`. Beyond
    /// loopback it needs --http-tls.
    #[arg(long, env = "EDGEFLEET_HTTP_LISTEN")]
    pub http_listen: Option<String>,
    /// Serve the dashboard over HTTPS with the hub's own server certificate (the one its nats-server presents,
    /// issued by the fleet CA for the hub's --tls-name names); its session cookie is then `Secure`.
    #[arg(long, env = "EDGEFLEET_HTTP_TLS")]
    pub http_tls: bool,
}

/// One hub of a cluster of three: each runs its own nats-server, routed to the others (mutual TLS from the fleet
/// CA), one JetStream cluster in domain `hub`.
#[derive(Debug, Args)]
pub struct HubClusterArgs {
    /// This hub's name, distinct within a cluster (its nats-server's `server_name`, its name on leases).
    #[arg(long, default_value = "hub")]
    pub server_name: String,
    /// Where this hub's server listens for routes from the other hubs (same host as --listen); makes it one of a
    /// cluster.
    #[arg(long, requires = "routes")]
    pub cluster_listen: Option<String>,
    /// Route URL of another hub of the cluster, nats-route://HOST:PORT; repeatable.
    #[arg(long = "route", requires = "cluster_listen")]
    pub routes: Vec<String>,
    /// Copies JetStream keeps of the intent stream, the image bucket, leases and shared trust (default: 3 in a
    /// cluster, 1 alone).
    #[arg(long)]
    pub replicas: Option<usize>,
    /// Joins the fleet of another hub: its data dir (or a copy of its `trust/`, `ca.pem` and `admin.creds`) is
    /// copied into this hub's data dir on the first start. Every hub of a cluster must share one trust root.
    #[arg(long, value_parser = absolute_path)]
    pub trust_from: Option<PathBuf>,
}

impl HubClusterArgs {
    /// True if this hub is one of a cluster.
    pub fn clustered(&self) -> bool {
        self.cluster_listen.is_some()
    }

    /// How many copies JetStream keeps of what the hubs share.
    pub fn replicas(&self) -> usize {
        self.replicas
            .unwrap_or(if self.clustered() {
                (self.routes.len() + 1).min(3)
            } else {
                1
            })
            .max(1)
    }
}

/// The TLS certificate a server presents, its key, and the CA that issued it (clients check the server against
/// it).
#[derive(Debug, Args)]
pub struct ServerTlsArgs {
    /// The server's TLS certificate (PEM).
    #[arg(long, value_parser = absolute_path)]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, value_parser = absolute_path)]
    pub tls_key: Option<PathBuf>,
    /// The CA that issued it (PEM).
    #[arg(long, value_parser = absolute_path)]
    pub tls_ca: Option<PathBuf>,
}

/// `edgefleet site`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The site's bundle directory from `edgefleet sites add ID --out DIR`: site id, leaf credential, hub CA, the
    /// site server's certificate and key, the hub's leafnode URL. The flags below override its parts.
    #[arg(long, env = "EDGEFLEET_SITE_BUNDLE", value_parser = absolute_path)]
    pub bundle: Option<PathBuf>,
    /// The site id (lower-case letters, digits, '-', '_'); the bundle's if not given.
    #[arg(long)]
    pub site_id: Option<String>,
    /// The hub's leafnode URL, e.g. nats-leaf://hub.example:7422; the bundle's if not given.
    #[arg(long)]
    pub hub_leaf: Option<String>,
    /// The site's leaf credential at the hub (`.creds`).
    #[arg(long, value_parser = absolute_path)]
    pub leaf_creds: Option<PathBuf>,
    /// The CA the hub's certificate is checked against.
    #[arg(long, value_parser = absolute_path)]
    pub hub_ca: Option<PathBuf>,
    /// The site server's certificate, key and CA, each overriding the bundle's (the CA is copied to
    /// `<data dir>/ca.pem` for agents).
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    /// NATS client listen address of the site's nats-server (node agents connect here).
    #[arg(long, default_value = "127.0.0.1:4223")]
    pub listen: String,
    /// The join token file agents present (baked into a site image, the same on every machine); default
    /// `<data dir>/join.token`, made on the first start.
    #[arg(long, env = "EDGEFLEET_SITE_JOIN_TOKEN", value_parser = absolute_path)]
    pub join_token: Option<PathBuf>,
    /// Where the site keeps its data.
    #[arg(long, value_parser = absolute_path)]
    pub data_dir: PathBuf,
    /// The cluster the site image defines (new nodes form/join it when the hub has said nothing).
    #[arg(long, default_value = "main")]
    pub cluster: String,
    /// The profile the site image's cluster is formed with, NAME@VERSION; without it nodes wait for the hub.
    #[arg(long)]
    pub cluster_profile: Option<ProfileRef>,
    /// IANA time zone of the site (maintenance windows are read in it).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// A node is silent after this many seconds without a heartbeat.
    #[arg(long, default_value_t = 10)]
    pub silent_after_s: u64,
    /// A node not heard for this many seconds is lost: if it was a control-plane member it leaves its cluster and
    /// a worker is promoted in its place; back, it joins again as a worker.
    #[arg(long, env = "EDGEFLEET_LOST_AFTER_S", default_value_t = 300)]
    pub lost_after_s: u64,
    /// Byte cap of the site's own event stream (oldest events go first when full; 90 days are kept either way).
    /// JetStream reserves it on the site's disk when the stream is created; never lowered below what it holds.
    #[arg(long, env = "EDGEFLEET_EVENTS_MAX_BYTES", default_value_t = replay::DEFAULT_SITE_MAX_BYTES,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub events_max_bytes: i64,
    /// Byte cap of the site's telemetry stream, kept while the hub is unreachable (oldest batches go first; what
    /// goes undelivered is counted and shown at the hub). JetStream reserves it on the site's disk.
    #[arg(long, env = "EDGEFLEET_TELEMETRY_MAX_BYTES", default_value_t = telemetry::telemetry_streams::DEFAULT_MAX_BYTES,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub telemetry_max_bytes: i64,
    /// How long the site keeps telemetry batches (e.g. 8d, 36h).
    #[arg(long, env = "EDGEFLEET_TELEMETRY_MAX_AGE", default_value = "8d", value_parser = humantime::parse_duration)]
    pub telemetry_max_age: std::time::Duration,
    /// `/metrics` for Prometheus to scrape.
    #[command(flatten)]
    pub metrics: crate::process_metrics::MetricsArgs,
    /// Which Kubernetes the site's nodes run: `simulated` (recorded by this process, nothing installed) or `k3s`
    /// (rendered and run by each node's agent, `edgefleet agent --k3s-binary`).
    #[arg(long, env = "EDGEFLEET_RUNTIME", value_enum, default_value_t = crate::site::site_runtime::RuntimeKind::Simulated)]
    pub runtime: crate::site::site_runtime::RuntimeKind,
    /// This process's log lines are shipped by the agent running in it (`edgefleet node`), not by the site.
    #[arg(long, hide = true)]
    pub logs_shipped_by_agent: bool,
    /// The site's NATS as a cluster of its machines (set by `edgefleet node`).
    #[command(flatten)]
    pub cluster_member: SiteClusterArgs,
}

/// A site server's place in a JetStream cluster of the site's machines (zero-touch sites; `edgefleet node` sets
/// these). Without `--cluster-port` the site's NATS is one server.
#[derive(Debug, Clone, clap::Args)]
pub struct SiteClusterArgs {
    /// Listen for the site's other servers' routes on this port (on every address).
    #[arg(long)]
    pub cluster_port: Option<u16>,
    /// A route to another server of the site, `nats-route://ADDRESS:PORT` (repeat).
    #[arg(long = "route")]
    pub routes: Vec<String>,
    /// This server's name in the site's cluster: its machine's node id.
    #[arg(long)]
    pub server_name: Option<String>,
    /// This machine's LAN address, named by its route certificate.
    #[arg(long)]
    pub route_address: Option<std::net::IpAddr>,
    /// Also run a witness server beside this one (the machine that bootstraps the site).
    #[arg(long)]
    pub witness: bool,
}

/// `edgefleet agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The site's nats-server.
    #[arg(long)]
    pub site_nats: String,
    /// The node's id.
    #[arg(long)]
    pub node_id: String,
    /// The node's disk image (created as a GPT image with ROOT-A, ROOT-B, DATA if missing).
    #[arg(long)]
    pub disk: PathBuf,
    /// Seconds between heartbeats.
    #[arg(long, default_value_t = 2)]
    pub heartbeat_s: u64,
    /// Seconds between metric samples of the node (0: no telemetry).
    #[arg(long, env = "EDGEFLEET_TELEMETRY_INTERVAL_S", default_value_t = 15)]
    pub telemetry_interval_s: u64,
    /// Override the machine id (simulated nodes).
    #[arg(long)]
    pub machine_id: Option<String>,
    /// Override the CPU count.
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Override the memory size in MiB.
    #[arg(long)]
    pub memory_mib: Option<u64>,
    /// Override the disks: NAME=BYTES, repeatable.
    #[arg(long = "disk-device")]
    pub disk_devices: Vec<String>,
    /// Override the NICs: NAME=MAC, repeatable.
    #[arg(long = "nic")]
    pub nics: Vec<String>,
    /// Accept only OS images signed by this ed25519 public key (hex).
    #[arg(long, env = "EDGEFLEET_IMAGE_KEY")]
    pub image_key: Option<String>,
    /// The site's join token file (`<site data dir>/join.token`), exchanged on first contact for the node's own
    /// identity; not needed once the node has one.
    #[arg(long, env = "EDGEFLEET_JOIN_TOKEN")]
    pub join_token: Option<PathBuf>,
    /// The CA that issued the site's TLS certificate (`<site data dir>/ca.pem`).
    #[arg(long, env = "EDGEFLEET_CA")]
    pub ca: Option<PathBuf>,
    /// Where the node keeps its identity (default: `<disk>.identity`).
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// Check the site server's certificate for this name instead of `--site-nats`' host (a server found on the
    /// LAN by its address: `<site>.site.edgefleet`, which every site certificate carries).
    #[arg(long, env = "EDGEFLEET_SITE_TLS_NAME")]
    pub tls_server_name: Option<String>,
    /// The k3s binary the machine's OS image ships, run when the site's runtime is k3s (`site --runtime k3s`);
    /// without it such a site records the node as failed, with this flag named.
    #[arg(long, env = "EDGEFLEET_K3S_BINARY", value_parser = absolute_path)]
    pub k3s_binary: Option<PathBuf>,
    /// The directory k3s' files are written under (`/etc/rancher/k3s/config.yaml`, the manifests, the token).
    #[arg(long, env = "EDGEFLEET_K3S_ROOT", default_value = "/", value_parser = absolute_path)]
    pub k3s_root: PathBuf,
    /// This machine's address on the site's network: k3s' `node-ip`, and where the site's other machines join its
    /// server (`edgefleet node` passes its own).
    #[arg(long)]
    pub address: Option<std::net::IpAddr>,
}

/// `edgefleet node`.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The site image baked into this machine (`edgefleet site-image`).
    #[arg(long, env = "EDGEFLEET_SITE_IMAGE", value_parser = absolute_path)]
    pub site_image: PathBuf,
    /// Where this machine keeps its state (the site's, when it serves the site).
    #[arg(long, value_parser = absolute_path)]
    pub data_dir: PathBuf,
    /// The node's disk image (default `<data dir>/disk.img`).
    #[arg(long, value_parser = absolute_path)]
    pub disk: Option<PathBuf>,
    /// The node id (default: the machine id, `/etc/machine-id`).
    #[arg(long)]
    pub node_id: Option<String>,
    /// Where announcements are broadcast on the LAN.
    #[arg(long, default_value = "255.255.255.255")]
    pub broadcast: std::net::Ipv4Addr,
    /// This machine's LAN address, which the site's other servers dial for routes (default: the address this
    /// machine reaches the broadcast address from).
    #[arg(long)]
    pub address: Option<std::net::IpAddr>,
    /// More flags for the node's agent, after `--` (e.g. `-- --telemetry-interval-s 1`).
    #[arg(last = true)]
    pub agent_args: Vec<String>,
}

/// `edgefleet site-image`.
#[derive(Debug, Args)]
pub struct SiteImageArgs {
    /// The site's bundle directory (`edgefleet sites add ID --out DIR`).
    #[arg(long, value_parser = absolute_path)]
    pub bundle: PathBuf,
    /// The site image file to write; its join token is written beside it (`join.token`).
    #[arg(long, value_parser = absolute_path)]
    pub out: PathBuf,
    /// The cluster the site forms.
    #[arg(long, default_value = "main")]
    pub cluster: String,
    /// Its profile, NAME@VERSION (without it, machines wait for the hub's intent).
    #[arg(long)]
    pub profile: Option<ProfileRef>,
    /// The site's IANA time zone.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// UDP port of discovery on the LAN.
    #[arg(long, default_value_t = crate::node::site_image_file::DEFAULT_DISCOVERY_PORT)]
    pub discovery_port: u16,
    /// Port of the site's NATS.
    #[arg(long, default_value_t = crate::node::site_image_file::DEFAULT_NATS_PORT)]
    pub nats_port: u16,
    /// Route port of the site's NATS servers (the first machine's witness listens on the next one).
    #[arg(long, default_value_t = crate::node::site_image_file::DEFAULT_ROUTE_PORT)]
    pub route_port: u16,
    /// Seconds a machine listens before bootstrapping the site.
    #[arg(long, default_value_t = crate::node::site_image_file::DEFAULT_SETTLE_S)]
    pub settle_s: u64,
    /// The site runs k3s from this binary, which every machine's OS image ships (absolute path); without it the
    /// site's runtime is the simulated one.
    #[arg(long)]
    pub k3s_binary: Option<PathBuf>,
}

/// `edgefleet images …`.
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Upload an OS image; prints its sha256 for the profile's `os.sha256`.
    Put {
        /// Image name (the profile's `os.image`).
        name: String,
        /// Version (the profile's `os.version`).
        #[arg(value_name = "VERSION")]
        image_version: String,
        /// The image file.
        #[arg(short = 'f', long)]
        file: PathBuf,
        /// Sign the image's digest with this ed25519 key file (from `images keygen`).
        #[arg(long)]
        signing_key: Option<PathBuf>,
    },
    /// List images at the hub.
    Ls,
    /// Create an ed25519 signing key; prints the public key for agents' `--image-key`.
    Keygen {
        /// Where to write the private key (hex seed, mode 0600).
        #[arg(short = 'f', long)]
        file: PathBuf,
    },
}

/// `edgefleet rollouts create`.
#[derive(Debug, Args)]
pub struct RolloutCreateArgs {
    /// NAME@VERSION to move to.
    #[arg(long)]
    pub profile: ProfileRef,
    /// Cluster (or site) label, KEY=VALUE, repeatable.
    #[arg(long = "selector", value_parser = key_value)]
    pub selector: Vec<(String, String)>,
    /// Cumulative waves.
    #[arg(long, default_value = "1,10%,50%,100%")]
    pub waves: String,
    /// Failures tolerated before the rollout pauses.
    #[arg(long, default_value_t = 0)]
    pub failure_budget: u32,
    /// Maintenance window in site-local time, e.g. "Sat 02:00-05:00".
    #[arg(long)]
    pub window: Option<MaintenanceWindow>,
    /// Seconds after a wave's release before clusters of offline sites are skipped.
    #[arg(long, default_value_t = 86_400)]
    pub skip_after_s: u64,
    /// Telemetry gate each updated cluster's nodes must hold before its wave counts as healthy, evaluated at the
    /// site (offline too), e.g. "node_load1 < 4 for 2m"; a breach pauses the rollout.
    #[arg(long)]
    pub gate: Option<MetricGate>,
    /// Rollout id (default: rollout-<unix seconds>).
    #[arg(long)]
    pub id: Option<Token>,
}

/// `edgefleet rollouts …`.
#[derive(Debug, Subcommand)]
pub enum RolloutsCommand {
    /// Start a rollout.
    Create(Box<RolloutCreateArgs>),
    /// List rollouts.
    Ls,
    /// One rollout with its waves and per-cluster progress.
    Get {
        /// Rollout id.
        id: Token,
    },
    /// Pause a rollout.
    Pause {
        /// Rollout id.
        id: Token,
    },
    /// Resume a paused rollout.
    Resume {
        /// Rollout id.
        id: Token,
    },
    /// Abort a rollout (clusters it touched move back).
    Abort {
        /// Rollout id.
        id: Token,
    },
    /// Follow a rollout until it completes, pauses or is aborted.
    Watch {
        /// Rollout id.
        id: Token,
    },
    /// Why a rollout is where it is: every release, pause (with the metric, node and value of a gate breach),
    /// resume and skip, replayed from its log, and what it waits on now.
    Explain {
        /// Rollout id.
        id: Token,
    },
}

/// A path flag made absolute against the working directory: the servers a process starts read the files it names
/// from their own working directory.
pub fn absolute_path(text: &str) -> Result<PathBuf, String> {
    std::path::absolute(text).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Docker is not available here, so the compose file is checked by parsing: every service's command must be a
    /// real `edgefleet` subcommand with valid flags.
    #[test]
    fn every_docker_compose_command_is_a_valid_edgefleet_command() {
        use clap::Parser;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker-compose.yml");
        let text = std::fs::read_to_string(&path).expect("docker-compose.yml at the repository root");
        let compose: serde_json::Value = serde_norway::from_str(&text).expect("docker-compose.yml is YAML");
        let services = compose["services"].as_object().expect("a services mapping");
        assert!(services.len() >= 4, "a hub, two sites and agents");
        let anonymous = [
            "sites", "nodes", "clusters", "profiles", "rollouts", "users", "history", "get",
        ];
        for (name, service) in services {
            let command: Vec<String> = service["command"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: command must be a list"))
                .iter()
                .map(|a| {
                    a.as_str()
                        .unwrap_or_else(|| panic!("{name}: command items are strings"))
                        .to_string()
                })
                .collect();
            if anonymous.contains(&command[0].as_str()) {
                assert!(
                    command.contains(&"--creds".to_string()) && command.contains(&"--ca".to_string()),
                    "{name}: a client command names its credentials and CA"
                );
            }
            if command[0] == "agent" {
                assert!(
                    command.contains(&"--join-token".to_string()),
                    "{name}: an agent joins with the token"
                );
            }
            if command[0] == "site" {
                assert!(
                    command.contains(&"--bundle".to_string()),
                    "{name}: a site starts from its bundle"
                );
            }
            let argv = std::iter::once("edgefleet".to_string()).chain(command);
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!("{name}: not a valid edgefleet command: {e}");
            }
        }
        let dockerfile = std::fs::read_to_string(path.with_file_name("Dockerfile")).expect("Dockerfile");
        assert!(dockerfile.matches("FROM ").count() >= 2, "a multi-stage build");
    }
}
