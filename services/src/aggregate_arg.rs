//! Parses the aggregate argument of `history` and `get`.

use anyhow::{bail, Context};
use events::{AggregateKind, AggregateRef, Scope, Token};

/// `KIND/ID` for a kind that lives at a site: the hub must say which site.
#[derive(Debug, thiserror::Error)]
#[error("a {kind} lives at a site: write {kind}/SITE/{id}, or give --hub so the hub can find it")]
pub struct NeedsSite {
    /// The kind.
    pub kind: AggregateKind,
    /// The id.
    pub id: Token,
}

/// Parses the argument, asking the hub API for the site of a `node/ID` or `cluster/ID`.
pub async fn resolve_aggregate(arg: &str, hub: &crate::hub_connection::HubAddress) -> anyhow::Result<AggregateRef> {
    match parse_aggregate(arg) {
        Err(e) => match (e.downcast::<NeedsSite>(), hub.url.is_some()) {
            (Ok(needs), true) => {
                use crate::api_types::requests::{ClusterRef, NodeRef};
                use crate::api_types::views::{ClusterView, NodeView};
                let api = crate::commands::api_client::HubApi::connect(hub).await?;
                let id = needs.id.clone();
                let site = if needs.kind == AggregateKind::Node {
                    let node: NodeView = api.call("nodes.get", &NodeRef { id, site: None }).await?;
                    node.site
                } else {
                    let cluster: ClusterView = api.call("clusters.get", &ClusterRef { id, site: None }).await?;
                    cluster.site
                };
                let site = Token::new(site).context("the hub named no site")?;
                Ok(AggregateRef {
                    kind: needs.kind,
                    scope: Scope::Site(site),
                    id: needs.id,
                })
            }
            (Ok(needs), false) => Err(needs.into()),
            (Err(e), _) => Err(e),
        },
        ok => ok,
    }
}

/// `KIND/SCOPE/ID`, or `KIND/ID` where the scope follows from the kind (`site/ID`, `profile/NAME`).
pub fn parse_aggregate(arg: &str) -> anyhow::Result<AggregateRef> {
    let parts: Vec<&str> = arg.split('/').collect();
    match parts.as_slice() {
        [_, _, _] => Ok(AggregateRef::parse(arg)?),
        [kind, id] => {
            let kind = AggregateKind::parse(kind)
                .with_context(|| format!("unknown kind {kind:?}: expected node, site, cluster, profile, rollout, app or placement"))?;
            let id = Token::new(*id)?;
            match kind {
                AggregateKind::Site => Ok(AggregateRef::site(&id)),
                AggregateKind::Profile | AggregateKind::Rollout | AggregateKind::App | AggregateKind::Placement => {
                    Ok(AggregateRef { kind, scope: Scope::All, id })
                }
                _ => Err(NeedsSite { kind, id }.into()),
            }
        }
        _ => bail!("{arg:?} is not an aggregate: write KIND/SCOPE/ID (node/store-1/n1) or KIND/ID (node/n1, site/ID, profile/NAME, rollout/ID)"),
    }
}
