//! Rollout orchestration (also the `edgefleet-bench-rollout` binary): orchestration time of a fleet rollout over N simulated clusters (default 1,000 across
//! 100 sites), on a real nats-server with fsync on every write, through the real actors and log: the hub creates
//! the rollout, releases each wave behind the health gate and writes every cluster's new profile as an intent;
//! simulated sites report each cluster started and updated at once (reboots and installs excluded).

use actix::{Actor, Addr};
use actors::cluster::{ClusterCommand, ClusterState};
use actors::rollout::{HubStep, RolloutCommand, RolloutState};
use actors::{ActorConfig, Aggregate, Dispatch, NoSnapshots, Query, Registry};
use anyhow::Context;
use events::cluster::ProfileRef;
use events::rollout::ClusterTarget;
use events::{AggregateKind, AggregateRef, Origin, Scope, Token};
use replay::{JetStreamLog, Quarantine, StreamPolicy};
use std::collections::BTreeMap;
use std::time::Instant;

type Reg<A> = Addr<Registry<A, JetStreamLog, NoSnapshots>>;

/// What to roll out over.
#[derive(Clone, Debug)]
pub struct RolloutArgs {
    /// Clusters in the rollout.
    pub clusters: u32,
    /// Sites they are spread over.
    pub sites: u32,
    /// Waves, as `RolloutCommand::Create` takes them (e.g. `1,10%,50%,100%`).
    pub waves: String,
}

async fn dispatch<A: Aggregate>(registry: &Reg<A>, aggregate: AggregateRef, command: A::Command) -> anyhow::Result<()> {
    registry
        .send(Dispatch::new(aggregate.clone(), command, Some("bench".into())))
        .await
        .context("registry stopped")?
        .with_context(|| format!("{aggregate}"))?;
    Ok(())
}

fn token(s: String) -> Token {
    Token::new(s).unwrap_or_else(|e| unreachable!("bench ids are valid: {e}"))
}

/// Runs the rollout on its own thread under its own `actix_rt::System` (the caller may be inside tokio or not).
pub fn run(clusters: u32, sites: u32, waves: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        clusters > 0 && sites > 0,
        "rollout needs at least one cluster and one site"
    );
    let args = RolloutArgs {
        clusters,
        sites,
        waves: waves.to_string(),
    };
    std::thread::Builder::new()
        .name("bench-rollout".into())
        .spawn(move || actix_rt::System::new().block_on(bench(args)))
        .context("spawning the rollout thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the rollout thread panicked"))?
}

async fn bench(args: RolloutArgs) -> anyhow::Result<()> {
    let server = testkit::NatsServer::builder("bench-rollout")
        .jetstream_domain("hub")
        .sync_always()
        .start()
        .await?;
    let js = async_nats::jetstream::new(server.connect().await?);
    // Many site streams on one server: a small byte cap each (the default 8 GiB reservation is per site server).
    let policy = StreamPolicy {
        site_max_bytes: 64 << 20,
        ..StreamPolicy::default()
    };
    replay::ensure_intent_stream(&js, &policy).await?;
    let sites: Vec<Token> = (0..args.sites).map(|s| token(format!("site-{s:04}"))).collect();
    for site in &sites {
        replay::ensure_site_stream(&js, site, &policy).await?;
    }
    let log = JetStreamLog::new(js.clone(), Quarantine::in_memory());
    let hub_config = ActorConfig::new(Origin::Hub);
    let hub_clusters: Reg<ClusterState> = Registry::new(log.clone(), NoSnapshots, hub_config.clone()).start();
    let hub_rollouts: Reg<RolloutState> = Registry::new(log.clone(), NoSnapshots, hub_config).start();
    let site_rollouts: BTreeMap<Token, Reg<RolloutState>> = sites
        .iter()
        .map(|s| {
            (
                s.clone(),
                Registry::new(log.clone(), NoSnapshots, ActorConfig::new(Origin::Site(s.clone()))).start(),
            )
        })
        .collect();
    let v1 = ProfileRef {
        name: token("edge".into()),
        version: 1,
    };
    let v2 = ProfileRef {
        name: token("edge".into()),
        version: 2,
    };
    let targets: Vec<ClusterTarget> = (0..args.clusters)
        .map(|c| ClusterTarget {
            site: sites[(c % args.sites) as usize].clone(),
            cluster: token(format!("c{c:05}")),
        })
        .collect();
    let setup = Instant::now();
    for t in &targets {
        let create = ClusterCommand::Create {
            profile: v1.clone(),
            overrides: Default::default(),
        };
        dispatch(&hub_clusters, AggregateRef::cluster(&t.site, &t.cluster), create).await?;
    }
    println!(
        "setup: {} cluster intents in {:.2} s (not timed below)",
        targets.len(),
        setup.elapsed().as_secs_f64()
    );

    let rollout = AggregateRef {
        kind: AggregateKind::Rollout,
        scope: Scope::All,
        id: token("bench".into()),
    };
    let started = Instant::now();
    let create = RolloutCommand::Create {
        profile: v2.clone(),
        selector: Default::default(),
        waves: args.waves.clone(),
        failure_budget: 0,
        window: None,
        skip_after_s: 3600,
        gate: None,
        targets: targets.clone(),
    };
    dispatch(&hub_rollouts, rollout.clone(), create).await?;
    let mut appends = 1u64;
    loop {
        let (state, _) = hub_rollouts
            .send(Query::<RolloutState>::new(rollout.clone(), true))
            .await??;
        let now_s = actors::process_clock::system_wall_ms() / 1000;
        match state.next_hub_step(now_s, |_| true) {
            HubStep::Complete => break,
            HubStep::ReleaseWave(wave) => {
                let wave_started = Instant::now();
                dispatch(&hub_rollouts, rollout.clone(), RolloutCommand::ReleaseWave(wave)).await?;
                let clusters = state.wave(wave).to_vec();
                for t in &clusters {
                    let change = ClusterCommand::ChangeProfile(v2.clone());
                    dispatch(&hub_clusters, AggregateRef::cluster(&t.site, &t.cluster), change).await?;
                }
                // Simulated sites: each reports its cluster started and updated (reboots excluded).
                for t in &clusters {
                    let site = &site_rollouts[&t.site];
                    let companion = AggregateRef {
                        kind: AggregateKind::Rollout,
                        scope: Scope::Site(t.site.clone()),
                        id: rollout.id.clone(),
                    };
                    dispatch(
                        site,
                        companion.clone(),
                        RolloutCommand::ReportStarted { cluster: t.clone() },
                    )
                    .await?;
                    dispatch(
                        site,
                        companion,
                        RolloutCommand::ReportUpdated {
                            cluster: t.clone(),
                            profile: v2.clone(),
                        },
                    )
                    .await?;
                }
                appends += 1 + 3 * clusters.len() as u64;
                println!(
                    "  wave {wave}: {} clusters released and reported in {:.2} s",
                    clusters.len(),
                    wave_started.elapsed().as_secs_f64()
                );
            }
            other => anyhow::bail!("unexpected step {other:?}"),
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "rollout orchestration over {} simulated clusters at {} sites, waves {}: {took:.2} s ({appends} events appended with fsync per write, simulated reboots excluded)",
        args.clusters, args.sites, args.waves
    );
    Ok(())
}
