//! `edgefleet`: the edgefleet command line — the hub, sites and agents, the operator's client commands, the local
//! fleet demo, replay and log tools, history and time travel.

mod agent;
mod agent_protocol;
mod aggregate_arg;
mod api_types;
mod cli;
mod commands;
mod credentials_name;
mod data_dir_lock;
mod fault_point;
mod hub;
mod hub_connection;
mod leadership;
mod listen_addr;
mod log_pages;
mod log_shipper;
mod node;
mod output;
mod owner_only_file;
mod planner_loop;
mod process_logs;
mod process_metrics;
mod process_projection;
mod registries;
mod server_supervisor;
mod shutdown;
mod site;
mod site_beacon;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if !cli.command.is_long_running() {
        quiet_on_closed_pipe();
    }
    init_tracing(cli.verbose, cli.command.ships_logs());
    let system = actix_rt::System::new();
    match system.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A client command writing into a closed pipe (`edgefleet nodes ls | head`) ends quietly, as Unix tools do,
/// instead of panicking on the failed write. Long-running processes keep Rust's default (EPIPE as an error), so a
/// peer closing a socket never kills them.
fn quiet_on_closed_pipe() {
    // SAFETY: resetting a signal's disposition to its default touches no memory; done before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs to stderr as `RUST_LOG` (or `--verbose`) says; an agent or a site also captures its lines from `info` up
/// for its site's telemetry stream (`process_logs`).
fn init_tracing(verbose: bool, capture: bool) {
    use tracing_subscriber::prelude::*;
    let default = if verbose { "info,edgefleet=debug" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let captured =
        capture.then(|| process_logs::capture_layer().with_filter(tracing_subscriber::filter::LevelFilter::INFO));
    tracing_subscriber::registry().with(stderr).with(captured).init();
}
