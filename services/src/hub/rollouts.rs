//! The hub's rollout orchestrator: for every rollout, fold the hub's plan with every site's reported progress,
//! ask the pure `RolloutState::next_hub_step`, and carry the step out — release the next wave (writing each
//! cluster's new profile as an intent), pause when the failure budget is spent, skip clusters of sites offline
//! past the deadline. All state lives in the log, so a hub killed mid-rollout resumes where it was.

use super::site_directory::SiteDirectory;
use crate::registries::{dispatch, query, Registries};
use actors::cluster::ClusterCommand;
use actors::rollout::{HubStep, RolloutCommand, RolloutState};
use events::{AggregateKind, AggregateRef, Scope, Token};
use std::rc::Rc;
use std::time::Duration;

/// The hub's rollout aggregate.
pub fn rollout_ref(id: &Token) -> AggregateRef {
    AggregateRef {
        kind: AggregateKind::Rollout,
        scope: Scope::All,
        id: id.clone(),
    }
}

/// The rollout as a whole: the hub's plan and commands, plus every site's progress reports (the hub's rollout
/// aggregate folds each site's companion subject, see `events::subject::companions`).
pub async fn full_state(hub: &Registries, _directory: &SiteDirectory, id: &Token) -> anyhow::Result<RolloutState> {
    query(&hub.rollouts, rollout_ref(id)).await
}

/// Carries out one step of one rollout; returns the step taken.
pub async fn step(hub: &Registries, directory: &SiteDirectory, id: &Token) -> anyhow::Result<HubStep> {
    let state = full_state(hub, directory, id).await?;
    if !state.created() {
        return Ok(HubStep::Idle);
    }
    if state.spec.aborted {
        roll_back(hub, &state).await?;
    }
    let now_s = actors::process_clock::system_wall_ms() / 1000;
    let online = |site: &Token| directory.is_connected(site);
    let next = state.next_hub_step(now_s, online);
    match &next {
        HubStep::Idle | HubStep::Complete => {}
        HubStep::ReleaseWave(wave) => {
            let Some(profile) = state.spec.profile.clone() else {
                return Ok(HubStep::Idle);
            };
            dispatch(
                &hub.rollouts,
                rollout_ref(id),
                RolloutCommand::ReleaseWave(*wave),
                "rollout",
            )
            .await?;
            for target in state.wave(*wave) {
                let cluster = AggregateRef::cluster(&target.site, &target.cluster);
                dispatch(
                    &hub.clusters,
                    cluster,
                    ClusterCommand::ChangeProfile(profile.clone()),
                    "rollout",
                )
                .await?;
            }
            tracing::info!(rollout = %id, wave, clusters = state.wave(*wave).len(), "wave released");
        }
        HubStep::PauseForBudget => {
            dispatch(
                &hub.rollouts,
                rollout_ref(id),
                RolloutCommand::PauseForBudget,
                "rollout",
            )
            .await?;
            tracing::warn!(rollout = %id, failures = state.failures(), "failure budget spent; rollout paused");
        }
        HubStep::Skip(targets) => {
            for cluster in targets {
                let skip = RolloutCommand::Skip {
                    cluster: cluster.clone(),
                    reason: "site offline past the deadline".into(),
                };
                dispatch(&hub.rollouts, rollout_ref(id), skip, "rollout").await?;
            }
        }
    }
    Ok(next)
}

/// After an abort: every cluster the rollout touched goes back to the profile it ran before (an intent; the site
/// updates it back node by node and reports the cluster rolled back).
async fn roll_back(hub: &Registries, state: &RolloutState) -> anyhow::Result<()> {
    let Some(rollout_profile) = &state.spec.profile else {
        return Ok(());
    };
    let sites: std::collections::BTreeSet<Token> = state.spec.plan.iter().flatten().map(|t| t.site.clone()).collect();
    for site in sites {
        for target in state.clusters_to_roll_back_at(&site) {
            let cluster = AggregateRef::cluster(&target.site, &target.cluster);
            let Some(previous) = previous_profile(hub, &cluster, rollout_profile).await? else {
                continue;
            };
            dispatch(
                &hub.clusters,
                cluster,
                ClusterCommand::ChangeProfile(previous),
                "rollout",
            )
            .await?;
        }
    }
    Ok(())
}

/// The last profile the cluster was asked to run other than `rollout_profile`, from its history.
async fn previous_profile(
    hub: &Registries,
    cluster: &AggregateRef,
    rollout_profile: &events::cluster::ProfileRef,
) -> anyhow::Result<Option<events::cluster::ProfileRef>> {
    let mut previous = None;
    for entry in replay::history(&hub.log, cluster).await? {
        let profile = match &entry.recorded.envelope.payload {
            events::Payload::Cluster(events::cluster::ClusterEvent::Created { profile, .. })
            | events::Payload::Cluster(events::cluster::ClusterEvent::ProfileChanged { profile, .. }) => profile,
            _ => continue,
        };
        if profile != rollout_profile {
            previous = Some(profile.clone());
        }
    }
    Ok(previous)
}

/// Steps every rollout once a second until aborted.
pub async fn run(hub: Rc<Registries>, directory: Rc<SiteDirectory>, view: Rc<super::fleet_view::FleetView>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let ids: Vec<Token> = view
            .with(|fleet| {
                fleet
                    .aggregates
                    .keys()
                    .filter(|a| a.kind == AggregateKind::Rollout && a.scope == Scope::All)
                    .map(|a| a.id.clone())
                    .collect()
            })
            .await;
        for id in ids {
            if let Err(e) = step(&hub, &directory, &id).await {
                tracing::warn!(rollout = %id, error = %e, "rollout step failed");
            }
        }
    }
}
