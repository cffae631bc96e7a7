//! One module per subcommand; each returns the process exit code.

mod ca_rotation;
mod demo;
pub(crate) mod history;
mod images;
mod log_io;
mod logs;
mod replay_store;
mod resources;

pub use resources::api_client;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let address = crate::hub_connection::HubAddress {
        url: cli.hub.clone(),
        creds: cli.creds.clone(),
        ca: cli.ca.clone(),
    };
    let hub = &address;
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Hub(args) => crate::hub::run(args).await,
        Command::Site(args) => crate::site::run(args).await,
        Command::Agent(args) => crate::agent::run(args).await,
        Command::Node(args) => crate::node::run(args).await,
        Command::SiteImage(args) => crate::node::site_image_file::write(&args),
        Command::Sites { command } => resources::on_hub(hub, cli.output, command, resources::sites::run).await,
        Command::Ca { command } => ca_rotation::run(command),
        Command::Users { command } => resources::on_hub(hub, cli.output, command, resources::users::run).await,
        Command::Dashboard { command } => resources::on_hub(hub, cli.output, command, resources::dashboard::run).await,
        Command::Nodes { command } => resources::on_hub(hub, cli.output, command, resources::nodes::run).await,
        Command::Profiles { command } => resources::on_hub(hub, cli.output, command, resources::profiles::run).await,
        Command::Clusters { command } => resources::on_hub(hub, cli.output, command, resources::clusters::run).await,
        Command::Config { command } => resources::on_hub(hub, cli.output, command, resources::config::run).await,
        Command::Apps { command } => resources::on_hub(hub, cli.output, command, resources::apps::run).await,
        Command::Placements { command } => {
            resources::on_hub(hub, cli.output, command, resources::placements::run).await
        }
        Command::Apply { file } => resources::apply(hub, &file).await,
        Command::Images { command } => images::run(hub, cli.output, command).await,
        Command::Rollouts { command } => resources::on_hub(hub, cli.output, command, resources::rollouts::run).await,
        Command::Replay(args) => replay_store::run(hub, cli.output, args).await,
        Command::Export(args) => log_io::export(hub, args).await,
        Command::Import(args) => log_io::import(hub, args).await,
        Command::History(args) => history::history(hub, cli.output, args).await,
        Command::Get(args) => history::get(hub, cli.output, args).await,
        Command::Quarantine { command } => {
            resources::on_hub(hub, cli.output, command, resources::quarantine::run).await
        }
        Command::Logs(args) if args.site_nats.is_some() => logs::at_site(cli.output, args).await,
        Command::Logs(args) => resources::on_hub(hub, cli.output, args, logs::run).await,
    }
}
