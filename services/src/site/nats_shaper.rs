//! Carries out the shape of a clustered site's NATS (`actors::plan::site_nats_shape`): every few seconds, while this
//! process holds the controller lease, it observes the meta group (the leader's answer to `$SYS.REQ.SERVER.PING.JSZ`,
//! through the system user) and the site's streams, reads from the projection which nodes left the control plane,
//! plans, and applies the steps: stream placement and replicas by stream update, a meta leader step-down, a server
//! removal (`$JS.API.SERVER.REMOVE`).
//!
//! Also, on the machine running the witness: once the witness is out of the meta group and three members are, the
//! witness is stopped and its store deleted ([`retire_witness`]).

use super::site_cluster::{MEMBER_TAG, WITNESS_PREFIX};
use actors::plan::{plan_nats_shape, NatsPeer, NatsShapeInputs, NatsShapeStep, NatsStream};
use events::node::NodeRole;
use events::Token;
use futures::StreamExt as _;
use replay::Projection;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How often the shape is planned again.
const SHAPE_EVERY: Duration = Duration::from_secs(2);
/// A meta peer not heard from by the leader for this long is offline.
const OFFLINE_AFTER: Duration = Duration::from_secs(10);
/// How long the meta leader's answer is waited for.
const JSZ_WAIT: Duration = Duration::from_millis(750);

/// The meta group as its leader reports it.
#[derive(Debug, Clone, Default)]
pub struct MetaGroup {
    /// The leader's name.
    pub leader: Option<String>,
    /// Every peer, the leader among them.
    pub peers: Vec<NatsPeer>,
}

/// Asks every server for its JetStream state and keeps the meta leader's view.
pub async fn meta_group(system: &async_nats::Client) -> anyhow::Result<MetaGroup> {
    let inbox = system.new_inbox();
    let mut answers = system.subscribe(inbox.clone()).await?;
    system
        .publish_with_reply("$SYS.REQ.SERVER.PING.JSZ", inbox, "{}".into())
        .await?;
    let deadline = tokio::time::sleep(JSZ_WAIT);
    tokio::pin!(deadline);
    loop {
        let answer = tokio::select! {
            Some(answer) = answers.next() => answer,
            _ = &mut deadline => return Ok(MetaGroup::default()),
        };
        let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&answer.payload) else {
            continue;
        };
        let cluster = &answer["data"]["meta_cluster"];
        let Some(leader) = cluster["leader"].as_str().filter(|l| !l.is_empty()) else {
            continue;
        };
        if answer["server"]["name"].as_str() != Some(leader) {
            continue;
        }
        let mut peers = vec![peer(leader, true)];
        for replica in cluster["replicas"].as_array().into_iter().flatten() {
            let Some(name) = replica["name"].as_str() else { continue };
            peers.push(peer(name, heard_lately(replica)));
        }
        return Ok(MetaGroup {
            leader: Some(leader.to_owned()),
            peers,
        });
    }
}

/// A peer is online while the leader counts it current, or heard it within [`OFFLINE_AFTER`] (catching up); the
/// `offline` flag alone stays unset for a peer that vanished (seen on 2.15.1: `current: false, active: 0`).
fn heard_lately(replica: &serde_json::Value) -> bool {
    let offline = replica["offline"].as_bool().unwrap_or(false);
    let current = replica["current"].as_bool().unwrap_or(false);
    // `active` is 0 for a peer the leader has not heard since it took the lead.
    let active_ns = replica["active"].as_u64().unwrap_or(0);
    !offline && (current || (active_ns > 0 && active_ns < OFFLINE_AFTER.as_nanos() as u64))
}

fn peer(name: &str, online: bool) -> NatsPeer {
    NatsPeer {
        name: name.to_owned(),
        witness: name.starts_with(WITNESS_PREFIX),
        online,
    }
}

/// The site's streams as their leaders report them.
async fn streams(js: &async_nats::jetstream::Context) -> anyhow::Result<Vec<NatsStream>> {
    let mut out = Vec::new();
    let mut infos = js.streams();
    while let Some(info) = infos.next().await {
        let info = info?;
        let on_members = info
            .config
            .placement
            .as_ref()
            .is_some_and(|p| p.tags.iter().any(|t| t == MEMBER_TAG));
        // Every copy listed (a copy just asked for is not listed yet) and caught up.
        let all_current = info.cluster.as_ref().is_some_and(|c| {
            c.leader.is_some()
                && c.replicas.len() + 1 >= info.config.num_replicas
                && c.replicas.iter().all(|r| r.current && !r.offline)
        });
        out.push(NatsStream {
            name: info.config.name.clone(),
            replicas: info.config.num_replicas,
            on_members,
            all_current,
        });
    }
    Ok(out)
}

/// The nodes of `site` the log knows that are not control-plane members (a node it has not read yet is in neither).
fn not_control_plane(projection: &Projection, site: &Token) -> BTreeSet<String> {
    projection.read(|fleet| {
        fleet
            .nodes_at(site)
            .filter(|(_, node)| {
                !node
                    .status
                    .membership
                    .as_ref()
                    .is_some_and(|m| m.role == NodeRole::ControlPlane)
            })
            .map(|(id, _)| id.to_string())
            .collect()
    })
}

/// Plans and applies the shape every [`SHAPE_EVERY`] until aborted (the controller aborts it with its lease).
pub async fn run(
    site: Token,
    system: async_nats::Client,
    js: async_nats::jetstream::Context,
    projection: Arc<Projection>,
) {
    let mut said = String::new();
    loop {
        match shape_once(&site, &system, &js, &projection).await {
            Ok(steps) if !steps.is_empty() => {
                let now = format!("{steps:?}");
                if now != said {
                    tracing::info!(%site, steps = %now, "shaping the site's NATS cluster");
                    said = now;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(%site, error = %e, "site NATS shape not planned this time"),
        }
        tokio::time::sleep(SHAPE_EVERY).await;
    }
}

async fn shape_once(
    site: &Token,
    system: &async_nats::Client,
    js: &async_nats::jetstream::Context,
    projection: &Projection,
) -> anyhow::Result<Vec<NatsShapeStep>> {
    let meta = meta_group(system).await?;
    let streams = streams(js).await?;
    let not_control_plane = not_control_plane(projection, site);
    let steps = plan_nats_shape(&NatsShapeInputs {
        meta_leader: meta.leader.as_deref(),
        peers: &meta.peers,
        streams: &streams,
        not_control_plane: &not_control_plane,
    });
    for step in &steps {
        if let Err(e) = apply(step, system, js).await {
            tracing::warn!(%site, ?step, error = %e, "site NATS shape step failed; planned again");
        }
    }
    Ok(steps)
}

async fn apply(
    step: &NatsShapeStep,
    system: &async_nats::Client,
    js: &async_nats::jetstream::Context,
) -> anyhow::Result<()> {
    match step {
        NatsShapeStep::PlaceOnMembers { stream } => {
            let mut config = js.get_stream(stream).await?.info().await?.config.clone();
            config.placement = Some(async_nats::jetstream::stream::Placement {
                tags: vec![MEMBER_TAG.to_owned()],
                ..Default::default()
            });
            js.update_stream(config).await?;
        }
        NatsShapeStep::Replicate { stream, replicas } => {
            let mut config = js.get_stream(stream).await?.info().await?.config.clone();
            config.num_replicas = *replicas;
            js.update_stream(config).await?;
        }
        NatsShapeStep::StepDownMetaLeader => {
            system_request(system, "$JS.API.META.LEADER.STEPDOWN", String::new()).await?;
        }
        NatsShapeStep::RemoveServer { name, reason } => {
            tracing::info!(server = %name, %reason, "removing a server from the site's NATS cluster");
            let body = serde_json::json!({ "peer": name }).to_string();
            system_request(system, "$JS.API.SERVER.REMOVE", body).await?;
        }
    }
    Ok(())
}

/// A JetStream system request; an error reply is an error.
async fn system_request(system: &async_nats::Client, subject: &str, body: String) -> anyhow::Result<()> {
    let reply = system.request(subject.to_owned(), body.into()).await?;
    let reply: serde_json::Value = serde_json::from_slice(&reply.payload)?;
    if let Some(error) = reply.get("error") {
        anyhow::bail!("{subject}: {error}");
    }
    Ok(())
}

/// On the machine running the witness: stops it and deletes its store once the meta group has three members and
/// not the witness (the controller removed it). Returns when it did.
pub async fn retire_witness(
    system: async_nats::Client,
    witness: String,
    mut server: nats_process::NatsServer,
    dir: std::path::PathBuf,
) {
    loop {
        tokio::time::sleep(SHAPE_EVERY).await;
        let Ok(meta) = meta_group(&system).await else { continue };
        let members = meta.peers.iter().filter(|p| !p.witness).count();
        if meta.leader.is_none() || members < actors::plan::site_nats_shape::REPLICAS {
            continue;
        }
        if meta.peers.iter().any(|p| p.name == witness) {
            continue;
        }
        tracing::info!(%witness, "the witness left the site's NATS cluster: stopping it for good");
        server.stop();
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(%witness, error = %e, dir = %dir.display(), "the retired witness's store not deleted");
        }
        return;
    }
}
