//! `edgefleet`: the edgefleet command line — the local fleet demo, replay and log tools, history and time travel.

mod agent;
mod agent_protocol;
mod aggregate_arg;
mod cli;
mod commands;
mod hub;
mod hub_connection;
mod listen_addr;
mod output;
mod registries;
mod server_supervisor;
mod shutdown;
mod site;
mod site_beacon;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    let system = actix_rt::System::new();
    match system.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(verbose: bool) {
    let default = if verbose { "info,edgefleet=debug" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
