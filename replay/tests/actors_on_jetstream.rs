//! Aggregate actors on a real nats-server: racing writers, snapshot + tail after a restart, passivation, crash
//! restart, and replay agreeing with what the actors decided.

mod common;

use actix::{Actor, Addr};
use actors::node::{NodeCommand, NodeState};
use actors::registry::GetRegistryStats;
use actors::{ActorConfig, Dispatch, EventLog, ExecuteError, LogError, Positions, Query, Registry, Rejection, Tail};
use common::{hub_config, log, server_with_streams, site, site_config};
use events::node::NodeRole;
use events::{AggregateRef, Envelope, Writer};
use replay::{rebuild_streams, FleetState, JetStreamLog, LocalStore, Quarantine};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::fixtures::sample_inventory;
use testkit::token;

type NodeRegistry<L, S> = Registry<NodeState, L, S>;

/// The real log, counting how many events reads returned (to see that a restart read only the tail).
#[derive(Clone)]
struct CountingLog {
    inner: JetStreamLog,
    records_read: Arc<AtomicU64>,
}

impl EventLog for CountingLog {
    async fn read(&self, aggregate: &AggregateRef, after: &Positions) -> Result<Tail, LogError> {
        let tail = self.inner.read(aggregate, after).await?;
        self.records_read.fetch_add(tail.records.len() as u64, Ordering::SeqCst);
        Ok(tail)
    }
    async fn append(
        &self,
        aggregate: &AggregateRef,
        writer: Writer,
        expected_last: u64,
        events: &[Envelope],
    ) -> Result<Vec<(String, u64)>, LogError> {
        self.inner.append(aggregate, writer, expected_last, events).await
    }
}

fn node(n: u32) -> AggregateRef {
    AggregateRef::node(&site(), &token(&format!("n{n}")))
}

async fn register<S: actors::SnapshotStore>(registry: &Addr<NodeRegistry<JetStreamLog, S>>, n: u32) {
    register_via(registry, n).await.expect("registered");
}

async fn wait_for<F: Fn(&actors::RegistryStats) -> bool, L: EventLog, S: actors::SnapshotStore>(
    registry: &Addr<NodeRegistry<L, S>>,
    condition: F,
) -> actors::RegistryStats {
    testkit::eventually_with("the registry's condition", Duration::from_secs(10), || async {
        let stats = registry.send(GetRegistryStats).await.expect("registry alive");
        if condition(&stats) {
            Ok(stats)
        } else {
            Err(format!("last stats {stats:?}"))
        }
    })
    .await
}

#[actix_rt::test]
async fn two_hub_writers_racing_to_assign_nodes_exactly_one_wins_per_node() {
    let server = server_with_streams().await;
    let site_registry = NodeRegistry::new(log(&server).await, actors::NoSnapshots, site_config()).start();
    let nodes = 10;
    for n in 0..nodes {
        register(&site_registry, n).await;
    }
    // Two hub processes (separate connections, separate actors) race to put every node in different clusters.
    let hub_a = NodeRegistry::new(log(&server).await, actors::NoSnapshots, hub_config()).start();
    let hub_b = NodeRegistry::new(log(&server).await, actors::NoSnapshots, hub_config()).start();
    let assign = |cluster: &str, n: u32| Dispatch::<NodeState> {
        aggregate: node(n),
        command: NodeCommand::Assign {
            cluster: token(cluster),
            role: NodeRole::Worker,
        },
        by: Some("ops".into()),
        span: tracing::Span::none(),
    };
    for n in 0..nodes {
        let (a, b) = futures::join!(hub_a.send(assign("blue", n)), hub_b.send(assign("green", n)));
        let (a, b) = (a.expect("hub a alive"), b.expect("hub b alive"));
        let wins = [&a, &b]
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|e| !e.events.is_empty()))
            .count();
        assert_eq!(
            wins, 1,
            "node {n}: exactly one assignment is recorded; got {a:?} / {b:?}"
        );
        let loser = if a.as_ref().is_ok_and(|e| !e.events.is_empty()) {
            b
        } else {
            a
        };
        assert!(
            matches!(loser, Err(ExecuteError::Rejected(Rejection::Conflict(_)))),
            "node {n}: the loser re-decided on the winner's event and was refused: {loser:?}"
        );
    }
    let fleet = replay_all(&server).await;
    for n in 0..nodes {
        let Some(actors::AnyAggregate::Node(state)) = fleet.get(&node(n)) else {
            panic!("node {n} replayed")
        };
        assert_eq!(
            state.spec.generation, 1,
            "node {n}: one intent, nothing lost or doubled"
        );
    }
}

async fn replay_all(server: &testkit::NatsServer) -> FleetState {
    let js = common::jetstream(server).await;
    let mut fleet = FleetState::new();
    let streams = ["EF_INTENT".to_string(), "EF_SITE_s1".to_string()];
    rebuild_streams(&js, &streams, &mut fleet, &Quarantine::in_memory())
        .await
        .expect("replay");
    fleet
}

#[actix_rt::test]
async fn replay_rebuilds_exactly_what_the_actors_decided() {
    let server = server_with_streams().await;
    let site_registry = NodeRegistry::new(log(&server).await, actors::NoSnapshots, site_config()).start();
    let hub_registry = NodeRegistry::new(log(&server).await, actors::NoSnapshots, hub_config()).start();
    let mut decided = Vec::new();
    for n in 0..5 {
        register(&site_registry, n).await;
        hub_registry
            .send(Dispatch::<NodeState> {
                aggregate: node(n),
                command: NodeCommand::Assign {
                    cluster: token("c1"),
                    role: NodeRole::Worker,
                },
                by: Some("ops".into()),
                span: tracing::Span::none(),
            })
            .await
            .expect("alive")
            .expect("assigned");
        let joined = site_registry
            .send(Dispatch::<NodeState> {
                aggregate: node(n),
                command: NodeCommand::Join {
                    cluster: token("c1"),
                    role: NodeRole::Worker,
                },
                by: None,
                span: tracing::Span::none(),
            })
            .await
            .expect("alive");
        // The site actor had not seen the hub's assignment yet: its join acts on generation 0 or 1 depending on
        // whether it refreshed; either way the joined state is what replay must reproduce.
        decided.push(joined.expect("joined").state);
    }
    let fleet = replay_all(&server).await;
    for (n, state) in decided.iter().enumerate() {
        let (fresh, _) = site_registry
            .send(Query::<NodeState>::new(node(n as u32), true))
            .await
            .expect("alive")
            .expect("state");
        assert_eq!(
            fleet.get(&node(n as u32)),
            Some(&actors::AnyAggregate::Node(fresh.clone()))
        );
        assert_eq!(
            fresh.status, state.status,
            "the site's own view is unchanged by the refresh"
        );
    }
}

#[actix_rt::test]
async fn a_restart_reads_the_snapshot_and_only_the_tail() {
    let server = server_with_streams().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.redb")).expect("redb");
    let counting = CountingLog {
        inner: log(&server).await,
        records_read: Arc::new(AtomicU64::new(0)),
    };
    let config = ActorConfig {
        snapshot_every: 3,
        ..site_config()
    };
    let registry = Registry::<NodeState, _, _>::new(counting.clone(), store.clone(), config.clone()).start();
    let commands = [
        NodeCommand::Register(sample_inventory(1)),
        NodeCommand::Join {
            cluster: token("c1"),
            role: NodeRole::Worker,
        },
        NodeCommand::ReportProvisioning,
        NodeCommand::ReportReady,
    ];
    for command in commands {
        registry
            .send(Dispatch::<NodeState> {
                aggregate: node(1),
                command,
                by: None,
                span: tracing::Span::none(),
            })
            .await
            .expect("alive")
            .expect("ok");
    }
    let (before, _) = registry
        .send(Query::<NodeState>::new(node(1), false))
        .await
        .expect("alive")
        .expect("state");
    drop(registry);

    // Another process wrote one more event meanwhile (the tail).
    let other = NodeRegistry::new(log(&server).await, actors::NoSnapshots, site_config()).start();
    other
        .send(Dispatch::<NodeState> {
            aggregate: node(1),
            command: NodeCommand::MarkSilent {
                last_seen: Default::default(),
            },
            by: None,
            span: tracing::Span::none(),
        })
        .await
        .expect("alive")
        .expect("silent");

    let snapshot = actors::SnapshotStore::load(&store, &node(1))
        .expect("store")
        .expect("a snapshot was written");
    assert_eq!(
        snapshot.positions.get("EF_SITE_s1"),
        3,
        "snapshot after the third event"
    );

    let restarted = CountingLog {
        inner: log(&server).await,
        records_read: Arc::new(AtomicU64::new(0)),
    };
    let registry = Registry::<NodeState, _, _>::new(restarted.clone(), store.clone(), config).start();
    let (after, positions) = registry
        .send(Query::<NodeState>::new(node(1), false))
        .await
        .expect("alive")
        .expect("state");
    assert_eq!(
        restarted.records_read.load(Ordering::SeqCst),
        2,
        "read only the 2 events after the snapshot"
    );
    assert_eq!(positions.get("EF_SITE_s1"), 5);
    assert_eq!(after.status.phase, before.status.phase);
    assert!(after.status.silent_since.is_some(), "the tail was applied");
}

#[actix_rt::test]
async fn idle_actors_passivate_and_come_back_with_their_state() {
    let server = server_with_streams().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.redb")).expect("redb");
    let config = ActorConfig {
        idle_timeout: Duration::from_millis(100),
        ..site_config()
    };
    let registry = NodeRegistry::new(log(&server).await, store, config).start();
    for n in 0..3 {
        register(&registry, n).await;
    }
    let stats = wait_for(&registry, |s| s.passivated == 3).await;
    assert_eq!(stats.live, 0);
    let (state, _) = registry
        .send(Query::<NodeState>::new(node(2), false))
        .await
        .expect("alive")
        .expect("state");
    assert_eq!(state.status.inventory, Some(sample_inventory(2)));
}

#[actix_rt::test]
async fn an_actor_that_fails_to_load_is_restarted_from_the_log_on_next_use() {
    let mut server = server_with_streams().await;
    let registry = NodeRegistry::new(log(&server).await, actors::NoSnapshots, site_config()).start();
    register_via(&registry, 1).await.expect("registered");
    let idle = ActorConfig {
        idle_timeout: Duration::from_millis(50),
        ..site_config()
    };
    let fresh_log = log(&server).await;
    let fresh = NodeRegistry::new(fresh_log.clone(), actors::NoSnapshots, idle).start();

    server.kill9();
    // Wait until the client has noticed (a request sent before that waits out its timeout instead).
    testkit::eventually(
        "the client to notice the server died",
        Duration::from_secs(10),
        || async {
            (fresh_log.jetstream().client().connection_state() != async_nats::connection::State::Connected)
                .then_some(())
        },
    )
    .await;
    let while_down = register_via(&fresh, 1).await;
    assert!(while_down.is_err(), "no log, no decision: {while_down:?}");
    wait_for(&fresh, |s| s.live == 0).await;

    server.restart().await.expect("restart");
    // The client reconnects by itself; retry until the log answers again.
    let state = testkit::eventually_with("the log back after the restart", Duration::from_secs(10), || async {
        match fresh
            .send(Query::<NodeState>::new(node(1), true))
            .await
            .expect("registry alive")
        {
            Ok((state, _)) => Ok(state),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
    assert_eq!(
        state.status.inventory,
        Some(sample_inventory(1)),
        "restarted actor rebuilt from the log"
    );
    let stats = fresh.send(GetRegistryStats).await.expect("alive");
    assert!(stats.started >= 2, "the actor was started again: {stats:?}");
}

async fn register_via<S: actors::SnapshotStore>(
    registry: &Addr<NodeRegistry<JetStreamLog, S>>,
    n: u32,
) -> Result<actors::Executed<NodeState>, ExecuteError> {
    let register = NodeCommand::Register(sample_inventory(n));
    registry
        .send(Dispatch::<NodeState>::new(
            node(n),
            register,
            Some(format!("agent:n{n}")),
        ))
        .await
        .expect("registry alive")
}
