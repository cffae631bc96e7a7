//! Writing intents at the hub the way the hub does: through hub-origin actors on the hub's log.

use actix::{Actor, Addr};
use actors::cluster::{ClusterCommand, ClusterState};
use actors::node::{NodeCommand, NodeState};
use actors::site::{SiteCommand, SiteState};
use actors::{ActorConfig, Aggregate, Dispatch, NoSnapshots, Registry};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::{AggregateRef, Origin, Token};
use replay::{JetStreamLog, Quarantine};

type Reg<A> = Addr<Registry<A, JetStreamLog, NoSnapshots>>;

/// Hub-side registries on a fresh connection to the hub.
pub struct HubIntents {
    nodes: Reg<NodeState>,
    clusters: Reg<ClusterState>,
    sites: Reg<SiteState>,
}

async fn run<A: Aggregate>(registry: &Reg<A>, aggregate: AggregateRef, command: A::Command) {
    registry
        .send(Dispatch::new(aggregate.clone(), command, Some("test-operator".into())))
        .await
        .expect("registry alive")
        .unwrap_or_else(|e| panic!("hub intent on {aggregate}: {e}"));
}

impl HubIntents {
    /// Connects to `hub` as its admin, reading the copies of `sites` where the hub keeps them.
    pub async fn connect(hub: &super::Hub, sites: &[&Token]) -> Self {
        let log = JetStreamLog::with_homes(hub.stream_homes(sites).await, Quarantine::in_memory());
        let config = ActorConfig::new(Origin::Hub);
        Self {
            nodes: Registry::new(log.clone(), NoSnapshots, config.clone()).start(),
            clusters: Registry::new(log.clone(), NoSnapshots, config.clone()).start(),
            sites: Registry::new(log, NoSnapshots, config).start(),
        }
    }

    /// Replaces a site's labels.
    pub async fn label_site(&self, site: &Token, key: &str, value: &str) {
        let labels = [(key.to_string(), value.to_string())].into();
        run(&self.sites, AggregateRef::site(site), SiteCommand::SetLabels(labels)).await;
    }

    /// Creates a cluster at a site from `edge@1`.
    pub async fn create_cluster(&self, site: &Token, cluster: &str) {
        let create = ClusterCommand::Create {
            profile: ProfileRef {
                name: testkit::token("edge"),
                version: 1,
            },
            overrides: Default::default(),
        };
        run(
            &self.clusters,
            AggregateRef::cluster(site, &testkit::token(cluster)),
            create,
        )
        .await;
    }

    /// Assigns a node (the hub must already have its registration).
    pub async fn assign(&self, site: &Token, node: &str, cluster: &str, role: NodeRole) {
        let assign = NodeCommand::Assign {
            cluster: testkit::token(cluster),
            role,
        };
        run(&self.nodes, AggregateRef::node(site, &testkit::token(node)), assign).await;
    }
}
