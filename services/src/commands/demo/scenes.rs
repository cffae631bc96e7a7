//! The demo's scenes, in story order. Each scene drives real actors on the real log and tells what happened;
//! a scene that does not go as expected is told as FAILED and the demo exits non-zero.

use super::story::Story;
use crate::registries::{dispatch, query, Registries as Writer};
use actors::cluster::{ClusterCommand, ClusterState};
use actors::node::{NodeCommand, NodeState};
use actors::profile::ProfileCommand;
use actors::site::SiteCommand;
use actors::{AnyAggregate, ExecuteError};
use events::cluster::{ClusterEvent, ProfileRef};
use events::node::{Disk, Inventory, Nic, NodeRole};
use events::profile::{HelmRelease, KubernetesLayer, OsImage, ProfileLayers};
use events::{AggregateRef, Payload, Token};
use nats_process::NatsServer;
use replay::{FleetState, JetStreamLog, Quarantine};

fn token(s: &str) -> Token {
    // Demo ids are built from fixed, valid parts.
    Token::new(s).unwrap_or_else(|e| unreachable!("demo id {s:?}: {e}"))
}

fn node_id(n: u32) -> Token {
    token(&format!("n{n}"))
}

fn profile_ref() -> ProfileRef {
    ProfileRef {
        name: token("edge-stack"),
        version: 1,
    }
}

/// Inventory a simulated node agent reports.
fn simulated_inventory(site_index: usize, n: u32) -> Inventory {
    Inventory {
        machine_id: format!("{:016x}{:016x}", site_index, n),
        cpu_count: 8,
        memory_bytes: 32 << 30,
        disks: vec![Disk {
            name: "nvme0n1".into(),
            size_bytes: 1 << 40,
        }],
        nics: vec![Nic {
            name: "eth0".into(),
            mac: format!("02:ef:00:{:02x}:00:{:02x}", site_index % 256, n % 256),
        }],
    }
}

fn layers() -> ProfileLayers {
    let release = |name: &str| HelmRelease {
        name: name.into(),
        chart: format!("oci://registry.example/charts/{name}"),
        version: "1.0.0".into(),
        values: "replicas: 1\n".into(),
    };
    ProfileLayers {
        os: OsImage {
            image: "edge-os".into(),
            version: "2026.11".into(),
            sha256: "ab".repeat(32),
        },
        k8s: KubernetesLayer {
            distro: "k3s".into(),
            version: "v1.31.4+k3s1".into(),
        },
        cni: release("cilium"),
        csi: Some(release("longhorn")),
        addons: vec![release("fluent-bit")],
        apps: vec![release("pos")],
    }
}

/// Sites register, their nodes register, and each site forms its cluster on its own (no hub decision involved).
pub async fn sites_come_up(story: &mut Story, sites: &[Writer], nodes: u32) {
    for (i, writer) in sites.iter().enumerate() {
        let Some(site) = writer.site() else { continue };
        let register = SiteCommand::Register {
            timezone: "Europe/Berlin".into(),
            controller_version: env!("CARGO_PKG_VERSION").into(),
        };
        if let Err(e) = dispatch(&writer.sites, AggregateRef::site(&site), register, "controller").await {
            story.fail(format!("{site}: site registration: {e}"));
            continue;
        }
        let mut roles = Vec::new();
        for n in 1..=nodes {
            let node = AggregateRef::node(&site, &node_id(n));
            let by = format!("agent:n{n}");
            if let Err(e) = dispatch(
                &writer.nodes,
                node.clone(),
                NodeCommand::Register(simulated_inventory(i, n)),
                &by,
            )
            .await
            {
                story.fail(format!("{site}/n{n}: registration: {e}"));
                continue;
            }
            let join = ClusterCommand::Join {
                node: node_id(n),
                role: None,
                site_image_profile: Some(profile_ref()),
            };
            match dispatch(
                &writer.clusters,
                AggregateRef::cluster(&site, &token("main")),
                join,
                "controller",
            )
            .await
            {
                Ok(done) => roles.extend(done.events.iter().filter_map(|e| match &e.payload {
                    Payload::Cluster(ClusterEvent::MemberJoined { node, role }) => {
                        Some(format!("{node} joined as {}", role.as_str()))
                    }
                    Payload::Cluster(ClusterEvent::MemberPromoted { node }) => {
                        Some(format!("{node} promoted to control-plane"))
                    }
                    _ => None,
                })),
                Err(e) => story.fail(format!("{site}/n{n}: joining the cluster: {e}")),
            }
        }
        story.tell(format!(
            "{site}: controller and {nodes} node agents registered; cluster main formed offline: {}",
            roles.join(", ")
        ));
        provision_site(story, writer, &site, nodes).await;
    }
}

/// The site controller brings each member to ready, following the cluster's membership.
async fn provision_site(story: &mut Story, writer: &Writer, site: &Token, nodes: u32) {
    let cluster_ref = AggregateRef::cluster(site, &token("main"));
    let cluster: ClusterState = match query(&writer.clusters, cluster_ref.clone()).await {
        Ok(state) => state,
        Err(e) => return story.fail(format!("{site}: reading cluster main: {e:#}")),
    };
    for n in 1..=nodes {
        let node = AggregateRef::node(site, &node_id(n));
        let role = cluster
            .status
            .members
            .get(&node_id(n))
            .copied()
            .unwrap_or(NodeRole::Worker);
        let steps = [
            NodeCommand::Join {
                cluster: token("main"),
                role,
            },
            NodeCommand::ReportProvisioning,
            NodeCommand::ReportReady,
        ];
        for step in steps {
            if let Err(e) = dispatch(&writer.nodes, node.clone(), step, "controller").await {
                story.fail(format!("{site}/n{n}: provisioning: {e}"));
            }
        }
    }
    match dispatch(&writer.clusters, cluster_ref, ClusterCommand::ReportReady, "controller").await {
        Ok(_) => story.tell(format!(
            "{site}: {} control-plane + {} worker node(s) ready; cluster main ready on {}",
            cluster.control_plane_count(),
            cluster.status.members.len() - cluster.control_plane_count(),
            profile_ref()
        )),
        Err(e) => story.fail(format!("{site}: cluster ready: {e}")),
    }
}

/// The hub publishes the profile and states its intents for every site.
pub async fn operator_intents(story: &mut Story, hub: &Writer, sites: &[Token]) {
    let profile = AggregateRef::profile(&profile_ref().name);
    match dispatch(&hub.profiles, profile, ProfileCommand::Publish(layers()), "ops").await {
        Ok(done) => story.tell(format!(
            "hub: profile edge-stack published ({} event)",
            done.events.len()
        )),
        Err(e) => story.fail(format!("hub: publishing the profile: {e}")),
    }
    for site in sites {
        let labels = [
            ("region".to_string(), "eu-central".to_string()),
            ("tier".to_string(), "store".to_string()),
        ]
        .into();
        let site_labels = dispatch(
            &hub.sites,
            AggregateRef::site(site),
            SiteCommand::SetLabels(labels),
            "ops",
        )
        .await;
        let create = ClusterCommand::Create {
            profile: profile_ref(),
            overrides: Default::default(),
        };
        let cluster = dispatch(
            &hub.clusters,
            AggregateRef::cluster(site, &token("main")),
            create,
            "ops",
        )
        .await;
        match (site_labels, cluster) {
            (Ok(_), Ok(_)) => story.tell(format!(
                "hub: {site} labelled region=eu-central; cluster intent main = {}",
                profile_ref()
            )),
            (Err(e), _) | (_, Err(e)) => story.fail(format!("hub: intents for {site}: {e}")),
        }
    }
}

/// A spare node arrives at `site` and lands in the unassigned pool; two operators (two hub processes, two
/// connections) race to assign it to different clusters. Exactly one assignment is recorded; the other operator's
/// command is re-decided on top of it and refused.
pub async fn racing_operators(story: &mut Story, server: &NatsServer, hub: &Writer, site_writer: &Writer, spare: u32) {
    let Some(site) = site_writer.site() else { return };
    let node = AggregateRef::node(&site, &node_id(spare));
    let register = NodeCommand::Register(simulated_inventory(0, spare));
    if let Err(e) = dispatch(&site_writer.nodes, node.clone(), register, &format!("agent:n{spare}")).await {
        return story.fail(format!("{node}: registration: {e}"));
    }
    let lab = ClusterCommand::Create {
        profile: profile_ref(),
        overrides: Default::default(),
    };
    if let Err(e) = dispatch(&hub.clusters, AggregateRef::cluster(&site, &token("lab")), lab, "ops").await {
        return story.fail(format!("hub: creating cluster lab at {site}: {e}"));
    }
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return story.fail(format!("race: temp dir: {e}")),
    };
    let (Ok(client_a), Ok(client_b)) = (server.connect().await, server.connect().await) else {
        return story.fail("race: operator connections failed");
    };
    let (Ok(alice), Ok(bob)) = (
        Writer::start(client_a, events::Origin::Hub, &dir.path().join("alice.redb")).await,
        Writer::start(client_b, events::Origin::Hub, &dir.path().join("bob.redb")).await,
    ) else {
        return story.fail("race: starting the operators' actors failed");
    };
    let to_main = NodeCommand::Assign {
        cluster: token("main"),
        role: NodeRole::Worker,
    };
    let to_lab = NodeCommand::Assign {
        cluster: token("lab"),
        role: NodeRole::ControlPlane,
    };
    let (ra, rb) = futures::join!(
        dispatch(&alice.nodes, node.clone(), to_main, "alice"),
        dispatch(&bob.nodes, node.clone(), to_lab, "bob")
    );
    let refused = |r: &Result<_, ExecuteError>| matches!(r, Err(ExecuteError::Rejected(_)));
    story.tell(format!(
        "{site}: spare node {spare} registered and unassigned; hub created cluster intent lab"
    ));
    match (&ra, &rb) {
        (Ok(_), Err(e)) if refused(&rb) => story.tell(format!(
            "hub: alice and bob raced to assign {node}: alice won (main); bob was refused — {e}"
        )),
        (Err(e), Ok(_)) if refused(&ra) => story.tell(format!(
            "hub: alice and bob raced to assign {node}: bob won (lab); alice was refused — {e}"
        )),
        _ => story.fail(format!(
            "race on {node}: expected exactly one winner, got {ra:?} / {rb:?}"
        )),
    }
}

/// Each site reads the intents addressed to it and acknowledges the generations it acted on.
pub async fn sites_act_on_intents(story: &mut Story, sites: &[Writer]) {
    for writer in sites {
        let Some(site) = writer.site() else { continue };
        let mut acted = 0;
        let mut n = 1;
        loop {
            let node = AggregateRef::node(&site, &node_id(n));
            let state: NodeState = match query(&writer.nodes, node.clone()).await {
                Ok(state) if state.status.inventory.is_some() => state,
                _ => break,
            };
            if let (true, Some(wanted)) = (state.drifting(), state.spec.assignment.clone()) {
                match join_assigned(writer, &site, n, &wanted).await {
                    Ok(()) => acted += 1,
                    Err(e) => story.fail(format!("{node}: acting on the assignment: {e}")),
                }
            }
            n += 1;
        }
        for name in ["main", "lab"] {
            let cluster = AggregateRef::cluster(&site, &token(name));
            match query::<ClusterState>(&writer.clusters, cluster.clone()).await {
                Ok(state) if state.formed() => {
                    if let Ok(done) =
                        dispatch(&writer.clusters, cluster, ClusterCommand::ReportReady, "controller").await
                    {
                        acted += usize::from(!done.events.is_empty());
                    }
                }
                _ => {}
            }
        }
        story.tell(format!(
            "{site}: controller acted on {acted} intent(s); spec and status agree"
        ));
    }
}

/// The site controller carries out an assignment: the node joins the cluster (forming it if it is the first
/// member), is provisioned and reports ready.
async fn join_assigned(
    writer: &Writer,
    site: &Token,
    n: u32,
    wanted: &actors::node::Membership,
) -> Result<(), ExecuteError> {
    let cluster = AggregateRef::cluster(site, &wanted.cluster);
    let join = ClusterCommand::Join {
        node: node_id(n),
        role: Some(wanted.role),
        site_image_profile: None,
    };
    let joined = dispatch(&writer.clusters, cluster, join, "controller").await?;
    let role = joined
        .state
        .status
        .members
        .get(&node_id(n))
        .copied()
        .unwrap_or(wanted.role);
    let node = AggregateRef::node(site, &node_id(n));
    for step in [
        NodeCommand::Join {
            cluster: wanted.cluster.clone(),
            role,
        },
        NodeCommand::ReportProvisioning,
        NodeCommand::ReportReady,
    ] {
        dispatch(&writer.nodes, node.clone(), step, "controller").await?;
    }
    Ok(())
}

/// Rebuilds everything from the streams and compares with what the live actors hold.
pub async fn replay_matches_actors(
    story: &mut Story,
    js: &async_nats::jetstream::Context,
    hub: &Writer,
    sites: &[Writer],
    nodes: u32,
) {
    let mut streams = vec![events::subject::INTENT_STREAM.to_string()];
    streams.extend(
        sites
            .iter()
            .filter_map(|w| w.site())
            .map(|s| events::subject::site_stream(&s)),
    );
    let mut fleet = FleetState::new();
    let report = match replay::rebuild_streams(js, &streams, &mut fleet, &Quarantine::in_memory()).await {
        Ok(report) => report,
        Err(e) => return story.fail(format!("replay: {e}")),
    };
    let mut compared = 0;
    let mut mismatched = Vec::new();
    for site in sites.iter().filter_map(|w| w.site()) {
        for n in 1..=nodes {
            let node = AggregateRef::node(&site, &node_id(n));
            if let Ok(live) = query::<NodeState>(&hub.nodes, node.clone()).await {
                compared += 1;
                if fleet.get(&node) != Some(&AnyAggregate::Node(live)) {
                    mismatched.push(node.to_string());
                }
            }
        }
    }
    if mismatched.is_empty() && compared > 0 {
        story.tell(format!(
            "replay: {} aggregates rebuilt from {} events in {} ms; all {compared} nodes equal the hub actors' state",
            report.aggregates,
            report.messages,
            report.elapsed.as_millis()
        ));
    } else {
        story.fail(format!(
            "replay differs from the actors for {mismatched:?} ({compared} compared)"
        ));
    }
}

/// Corrupt bytes published straight into a site stream are quarantined; the node actor carries on.
pub async fn quarantine(story: &mut Story, js: &async_nats::jetstream::Context, writer: &Writer, site: &Token) {
    let subject = format!("ef.site.{site}.node.n1");
    let published = match js.publish(subject.clone(), vec![0xde, 0xad, 0xbe, 0xef].into()).await {
        Ok(ack) => ack.await,
        Err(e) => return story.fail(format!("publishing corrupt bytes: {e}")),
    };
    if let Err(e) = published {
        return story.fail(format!("publishing corrupt bytes: {e}"));
    }
    let node = AggregateRef::node(site, &node_id(1));
    let last_seen = events::Hlc {
        physical_ms: actors::process_clock::system_wall_ms(),
        logical: 0,
    };
    let after = dispatch(
        &writer.nodes,
        node.clone(),
        NodeCommand::MarkSilent { last_seen },
        "controller",
    )
    .await;
    let entries = writer.log.quarantine().entries();
    match (after, entries.last()) {
        (Ok(_), Some(q)) => story.tell(format!(
            "quarantine: corrupt bytes on {subject} were quarantined ({} seq {}: {}); {node} still decides and appends",
            q.stream, q.seq, q.reason
        )),
        (after, q) => story.fail(format!(
            "quarantine: expected a quarantined message and a working actor, got {after:?} / {q:?}"
        )),
    }
}

/// Lists a node's merged history and rebuilds it at an earlier point.
pub async fn time_travel(story: &mut Story, log: &JetStreamLog, site: &Token) {
    let node = AggregateRef::node(site, &node_id(1));
    let entries = match replay::history(log, &node).await {
        Ok(entries) => entries,
        Err(e) => return story.fail(format!("history of {node}: {e}")),
    };
    let names: Vec<&str> = entries.iter().map(|e| e.recorded.envelope.payload.name()).collect();
    story.tell(format!(
        "time travel: {node} has {} events: {}",
        entries.len(),
        names.join(" → ")
    ));
    let lifecycle = |state: AnyAggregate| match state {
        AnyAggregate::Node(node) => format!("{:?}", node.lifecycle()),
        other => format!("{other:?}"),
    };
    let early = lifecycle(replay::state_at(&node, &entries, replay::At::Seq(1)));
    let now = lifecycle(replay::state_at(&node, &entries, replay::At::Seq(entries.len())));
    story.tell(format!(
        "time travel: {node} after event 1 was {early}; after event {} it is {now}",
        entries.len()
    ));
}
