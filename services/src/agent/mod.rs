//! `edgefleet agent`: the node agent. Creates the node's disk image if missing, registers the node with its
//! hardware inventory at its site, heartbeats, and applies the membership the site controller assigns.
//! It talks only to its site's nats-server, so it works with the hub unreachable.

mod applied_state;
mod os_apply;

use crate::agent_protocol::{heartbeat_subject, register_subject, AgentReply, HeartbeatRequest, RegisterRequest};
use crate::cli::AgentArgs;
use anyhow::Context;
use applied_state::AppliedState;
use events::node::{Disk, Inventory, Nic};
use node_agent::{ensure_disk_image, read_inventory, DiskLayout, InventoryOverrides};
use std::process::ExitCode;
use std::time::Duration;

/// Runs the agent until SIGTERM or Ctrl-C.
pub async fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let mut signals = crate::shutdown::ShutdownSignals::listen()?;
    let node_id = events::Token::new(args.node_id.clone()).context("--node-id")?;
    // One agent per disk: a second one on the same image would race the first through every update.
    let _lock = crate::data_dir_lock::DataDirLock::acquire_file(&lock_path(&args.disk))?;
    let disk = ensure_disk_image(&args.disk, &DiskLayout::default())
        .with_context(|| format!("preparing the disk image {}", args.disk.display()))?;
    let inventory = inventory(&args)?;
    let client = crate::hub_connection::connect_local(&args.site_nats, &format!("edgefleet-agent-{node_id}")).await?;
    let site = site_of(&client).await?;
    let mut applied = AppliedState::load(&args.disk);
    let mut os = os_apply::OsState::load(&args.disk);
    os_apply::prepare(&args.disk, &mut os).context("preparing the boot slots")?;
    let js = async_nats::jetstream::new(client.clone());
    println!(
        "agent {node_id}: site {site}, disk {} ({} partitions), {} CPUs, {} MiB",
        disk.path().display(),
        disk.partitions().len(),
        inventory.cpu_count,
        inventory.memory_bytes >> 20
    );
    let work = async {
        let mut registered = false;
        let mut tick = tokio::time::interval(Duration::from_secs(args.heartbeat_s.max(1)));
        loop {
            tick.tick().await;
            let reply = if registered {
                let beat = HeartbeatRequest {
                    node_id: node_id.clone(),
                    applied: applied.membership().cloned(),
                    os: Some(os.report(&args.disk)),
                };
                request(&client, heartbeat_subject(&site), &beat).await
            } else {
                let register = RegisterRequest {
                    node_id: node_id.clone(),
                    inventory: inventory.clone(),
                };
                request(&client, register_subject(&site), &register).await
            };
            match reply {
                Ok(reply) if !reply.known => registered = false,
                Ok(reply) => {
                    if !registered {
                        let lifecycle = reply.lifecycle.map_or("unknown", |l| l.as_str());
                        println!("agent {node_id}: registered at {site} ({lifecycle})");
                        registered = true;
                        tick.reset_immediately();
                    }
                    if let Some(error) = &reply.error {
                        tracing::warn!(node = %node_id, %error, "site controller reports a problem");
                    }
                    if let Some(target) = reply.os_target.as_ref().filter(|t| os.wants(t)) {
                        os_apply::apply(&js, &args.disk, args.image_key.as_deref(), &mut os, target).await;
                        tick.reset_immediately(); // tell the site how it went without waiting a beat
                    }
                    if reply.membership.as_ref() != applied.membership() {
                        match applied.apply(reply.membership.clone()) {
                            Ok(()) => {
                                println!("agent {node_id}: applied membership {}", applied.describe());
                                tick.reset_immediately();
                            }
                            Err(e) => {
                                tracing::error!(node = %node_id, error = %e, "could not record the applied membership")
                            }
                        }
                    }
                }
                Err(e) => tracing::debug!(node = %node_id, error = %e, "site controller unreachable; retrying"),
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = signals.wait() => {}
    }
    println!("agent {node_id} stopped");
    Ok(ExitCode::SUCCESS)
}

/// The lock file beside the disk image.
fn lock_path(disk: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.lock", disk.display()))
}

/// The site id: the JetStream domain of the site's nats-server.
async fn site_of(client: &async_nats::Client) -> anyhow::Result<String> {
    let js = async_nats::jetstream::new(client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match js.query_account().await {
            Ok(account) => {
                return account
                    .domain
                    .context("the site's nats-server has no JetStream domain; is it an edgefleet site?")
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "site nats-server not ready");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => anyhow::bail!("cannot ask the site's nats-server for its domain: {e}"),
        }
    }
}

async fn request<T: serde::Serialize>(
    client: &async_nats::Client,
    subject: String,
    body: &T,
) -> anyhow::Result<AgentReply> {
    let payload = serde_json::to_vec(body)?;
    let reply = tokio::time::timeout(Duration::from_secs(5), client.request(subject, payload.into())).await??;
    Ok(serde_json::from_slice(&reply.payload)?)
}

/// The machine's inventory with the simulated-node overrides applied.
fn inventory(args: &AgentArgs) -> anyhow::Result<Inventory> {
    let read = read_inventory(std::path::Path::new("/")).context("reading the hardware inventory")?;
    let pairs = |items: &[String], flag: &str| -> anyhow::Result<Vec<(String, String)>> {
        items
            .iter()
            .map(|s| {
                s.split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .with_context(|| format!("--{flag} {s:?} must be NAME=VALUE"))
            })
            .collect()
    };
    let disks = pairs(&args.disk_devices, "disk-device")?
        .into_iter()
        .map(|(name, size)| {
            Ok(Disk {
                size_bytes: size.parse().with_context(|| format!("disk size {size:?}"))?,
                name,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let nics = pairs(&args.nics, "nic")?
        .into_iter()
        .map(|(name, mac)| Nic { name, mac })
        .collect::<Vec<_>>();
    let overrides = InventoryOverrides {
        machine_id: args.machine_id.clone(),
        cpu_count: args.cpus,
        memory_bytes: args.memory_mib.map(|m| m << 20),
        disks: (!disks.is_empty()).then_some(disks),
        nics: (!nics.is_empty()).then_some(nics),
    };
    Ok(overrides.apply(read))
}
