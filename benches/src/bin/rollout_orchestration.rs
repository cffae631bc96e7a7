//! edgefleet-bench-rollout: orchestration time of a fleet rollout over N simulated clusters (default 1,000 across
//! 100 sites). A thin wrapper over the `rollout_orchestration` module, which `edgefleet-bench --all` also runs.

#[path = "../rollout_orchestration.rs"]
mod rollout_orchestration;

use clap::Parser;

/// Times a rollout's orchestration over simulated clusters.
#[derive(Debug, Parser)]
#[command(name = "edgefleet-bench-rollout")]
struct Args {
    /// Clusters in the rollout.
    #[arg(long, default_value_t = 1000)]
    clusters: u32,
    /// Sites they are spread over.
    #[arg(long, default_value_t = 100)]
    sites: u32,
    /// Waves.
    #[arg(long, default_value = "1,10%,50%,100%")]
    waves: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    rollout_orchestration::run(args.clusters, args.sites, &args.waves)
}
