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
