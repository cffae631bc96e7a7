//! Command-line shape (clap). Global flags are accepted before or after the subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// edgefleet: management plane for fleets of edge Kubernetes sites.
#[derive(Debug, Parser)]
#[command(name = "edgefleet", version, about, propagate_version = true)]
pub struct Cli {
    /// The hub's NATS URL (default: $EDGEFLEET_HUB).
    #[arg(long, global = true, env = "EDGEFLEET_HUB")]
    pub hub: Option<String>,
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
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a local fleet (hub nats-server, sites, nodes) and tell its story.
    Demo(DemoArgs),
    /// Run the hub: the management plane (starts its own nats-server unless --nats-url is given).
    Hub(HubArgs),
    /// Run one edge site: its leaf nats-server, streams and site controller.
    Site(SiteArgs),
    /// Run a node agent: register, heartbeat, apply the node's assignment.
    Agent(AgentArgs),
    /// Sites as the hub sees them.
    Sites {
        /// What to do with sites.
        #[command(subcommand)]
        command: SitesCommand,
    },
    /// Nodes as the hub sees them.
    Nodes {
        /// What to do with nodes.
        #[command(subcommand)]
        command: NodesCommand,
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
}

/// `edgefleet demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Sites in the fleet.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub sites: u32,
    /// Nodes per site.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub nodes: u32,
    /// Exit 0 after the story instead of running until Ctrl-C.
    #[arg(long)]
    pub once: bool,
    /// Keep the demo's data directory when stopping.
    #[arg(long)]
    pub keep: bool,
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

/// `edgefleet sites …`.
#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// List sites: connection state, last seen, replication lag.
    Ls,
}

/// `edgefleet nodes …`.
#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    /// List nodes: site, state, last heartbeat.
    Ls,
}

/// `edgefleet hub`.
#[derive(Debug, Args)]
pub struct HubArgs {
    /// Where the hub keeps its data (nats-server store, snapshots).
    #[arg(long, env = "EDGEFLEET_DATA_DIR")]
    pub data_dir: PathBuf,
    /// NATS client listen address of the embedded nats-server.
    #[arg(long, default_value = "127.0.0.1:4222")]
    pub listen: String,
    /// Leafnode listen address sites connect to.
    #[arg(long, default_value = "127.0.0.1:7422")]
    pub leaf_listen: String,
    /// Use this existing nats-server (JetStream domain `hub`) instead of starting one.
    #[arg(long)]
    pub nats_url: Option<String>,
}

/// `edgefleet site`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The site id (lower-case letters, digits, '-', '_').
    #[arg(long)]
    pub site_id: String,
    /// The hub's leafnode URL, e.g. nats-leaf://hub.example:7422.
    #[arg(long)]
    pub hub_leaf: String,
    /// NATS client listen address of the site's nats-server (node agents connect here).
    #[arg(long, default_value = "127.0.0.1:4223")]
    pub listen: String,
    /// Where the site keeps its data.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The cluster the site image defines (new nodes form/join it when the hub has said nothing).
    #[arg(long, default_value = "main")]
    pub cluster: String,
    /// The profile the site image's cluster is formed with, NAME@VERSION; without it nodes wait for the hub.
    #[arg(long)]
    pub cluster_profile: Option<String>,
    /// IANA time zone of the site.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// A node is silent after this many seconds without a heartbeat.
    #[arg(long, default_value_t = 10)]
    pub silent_after_s: u64,
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
}
