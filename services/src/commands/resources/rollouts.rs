//! `edgefleet rollouts create|ls|get|pause|resume|abort|watch|explain`.

use super::api_client::HubApi;
use super::tables::{or_dash, pairs, print_list, print_one, Column};
use crate::api_types::requests::{Empty, RolloutCreate, RolloutRef};
use crate::api_types::views::RolloutView;
use crate::cli::{OutputFormat, RolloutsCommand};
use crate::output::rfc3339_ms;
use actors::rollout::explain::RolloutExplanation;
use std::io::IsTerminal;
use std::time::Duration;

fn updated_of(rollout: &RolloutView) -> (usize, usize) {
    let clusters: Vec<_> = rollout.waves.iter().flatten().collect();
    let done = clusters
        .iter()
        .filter(|c| c.status == "updated" || c.status.starts_with("skipped"))
        .count();
    (done, clusters.len())
}

const COLUMNS: &[Column<'static, RolloutView>] = &[
    ("ROLLOUT", &|r: &RolloutView| r.id.clone()),
    ("PROFILE", &|r: &RolloutView| or_dash(r.profile.as_ref())),
    ("STATE", &|r: &RolloutView| r.state.clone()),
    ("WAVES", &|r: &RolloutView| {
        format!("{}/{}", r.released_waves, r.waves.len())
    }),
    ("UPDATED", &|r: &RolloutView| {
        let (done, total) = updated_of(r);
        format!("{done}/{total}")
    }),
    ("FAILURES", &|r: &RolloutView| {
        format!("{}/{}", r.failures, r.failure_budget)
    }),
];

/// One line per wave: a bar on a terminal, plain counts otherwise.
fn wave_lines(rollout: &RolloutView, terminal: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, clusters) in rollout.waves.iter().enumerate() {
        let done = clusters.iter().filter(|c| c.status == "updated").count();
        let failed = clusters.iter().filter(|c| c.status.starts_with("failed")).count();
        let total = clusters.len().max(1);
        let line = if terminal {
            let width = 30;
            let filled = done * width / total;
            format!(
                "wave {i}: [{}{}] {done}/{} updated, {failed} failed",
                "#".repeat(filled),
                "-".repeat(width - filled),
                clusters.len()
            )
        } else {
            format!("wave {i}: {done}/{} updated, {failed} failed", clusters.len())
        };
        lines.push(line);
    }
    lines
}

/// Runs a rollouts subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: RolloutsCommand) -> anyhow::Result<()> {
    let one = |rollout: &RolloutView| print_one(format, rollout, COLUMNS);
    match command {
        RolloutsCommand::Create(args) => {
            let id = match args.id {
                Some(id) => id,
                None => events::Token::new(format!("rollout-{}", actors::process_clock::system_wall_ms() / 1000))?,
            };
            let request = RolloutCreate {
                id: id.clone(),
                profile: args.profile,
                selector: pairs(args.selector),
                waves: args.waves,
                failure_budget: args.failure_budget,
                window: args.window,
                skip_after_s: args.skip_after_s,
                gate: args.gate,
            };
            let rollout: RolloutView = api.call("rollouts.create", &request).await?;
            eprintln!(
                "rollout/{id} created: {} clusters in {} waves",
                updated_of(&rollout).1,
                rollout.waves.len()
            );
            one(&rollout)
        }
        RolloutsCommand::Ls => {
            let rollouts: Vec<RolloutView> = api.call("rollouts.list", &Empty {}).await?;
            print_list(format, &rollouts, COLUMNS)
        }
        RolloutsCommand::Get { id } => {
            let rollout: RolloutView = api.call("rollouts.get", &RolloutRef { id }).await?;
            one(&rollout)?;
            if format == OutputFormat::Table {
                for line in wave_lines(&rollout, false) {
                    println!("{line}");
                }
            }
            Ok(())
        }
        RolloutsCommand::Pause { id } => one(&api.call("rollouts.pause", &RolloutRef { id }).await?),
        RolloutsCommand::Resume { id } => one(&api.call("rollouts.resume", &RolloutRef { id }).await?),
        RolloutsCommand::Abort { id } => one(&api.call("rollouts.abort", &RolloutRef { id }).await?),
        RolloutsCommand::Watch { id } => watch(api, id).await,
        RolloutsCommand::Explain { id } => {
            let explanation: RolloutExplanation = api
                .call("rollout_explanations.get", &RolloutRef { id: id.clone() })
                .await?;
            if format != OutputFormat::Table {
                return crate::output::print(format, &[], &[], &explanation);
            }
            println!("rollout/{id}");
            for step in &explanation.steps {
                println!("{}  {}", rfc3339_ms(step.at_unix_ms), step.text);
            }
            println!("now:");
            for line in &explanation.now {
                println!("  {line}");
            }
            Ok(())
        }
    }
}

/// Redraws the rollout's waves until it completes, pauses or is aborted.
async fn watch(api: &HubApi, id: events::Token) -> anyhow::Result<()> {
    let terminal = std::io::stdout().is_terminal();
    let mut last = Vec::new();
    loop {
        let rollout: RolloutView = api.call("rollouts.get", &RolloutRef { id: id.clone() }).await?;
        let mut lines = vec![format!(
            "rollout/{id} {} → {}",
            rollout.state,
            or_dash(rollout.profile.as_ref())
        )];
        lines.extend(wave_lines(&rollout, terminal));
        if lines != last {
            if terminal && !last.is_empty() {
                print!("\x1b[{}A", last.len()); // redraw in place
            }
            for line in &lines {
                if terminal {
                    println!("{line}\x1b[K");
                } else {
                    println!("{line}");
                }
            }
            last = lines;
        }
        let state = rollout.state.as_str();
        if state == "complete" || state == "aborted" || state.starts_with("paused") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
