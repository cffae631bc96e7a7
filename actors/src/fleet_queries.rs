//! Typed, read-only questions to a [`FleetState`]: the nodes of a site, a cluster, a profile version's layers, a
//! rollout with every site's progress folded in. Planners and views ask these; nothing here changes the fleet.
//!
//! Aggregates are ordered by (kind, scope, id), so "every node of site S" is one range scan, not a pass over the
//! whole fleet.

use crate::cluster::ClusterState;
use crate::fleet_state::{AggregateEntry, FleetState};
use crate::node::NodeState;
use crate::profile::ProfileState;
use crate::rollout::RolloutState;
use crate::site::SiteState;
use crate::AnyAggregate;
use events::cluster::ProfileRef;
use events::profile::ProfileLayers;
use events::{AggregateKind, AggregateRef, Scope, Token};
use std::ops::Bound;

/// The smallest valid token: every token sorts at or after it, so it opens a range of one kind and scope.
fn first_token() -> Token {
    match Token::new("0") {
        Ok(token) => token,
        Err(_) => unreachable!("\"0\" is a valid token"),
    }
}

impl FleetState {
    /// Every aggregate of `kind` in `scope`, in id order.
    fn scoped(&self, kind: AggregateKind, scope: &Scope) -> impl Iterator<Item = (&AggregateRef, &AggregateEntry)> {
        let start = AggregateRef {
            kind,
            scope: scope.clone(),
            id: first_token(),
        };
        let scope = scope.clone();
        self.aggregates
            .range((Bound::Included(start), Bound::Unbounded))
            .take_while(move |(a, _)| a.kind == kind && a.scope == scope)
    }

    /// Every aggregate of `kind`, in (scope, id) order.
    fn of_kind(&self, kind: AggregateKind) -> impl Iterator<Item = (&AggregateRef, &AggregateEntry)> {
        let start = AggregateRef {
            kind,
            scope: Scope::All,
            id: first_token(),
        };
        self.aggregates
            .range((Bound::Included(start), Bound::Unbounded))
            .take_while(move |(a, _)| a.kind == kind)
    }

    /// A node of a site, if the log holds any event of it.
    pub fn node(&self, site: &Token, id: &Token) -> Option<&NodeState> {
        match self.get(&AggregateRef::node(site, id)) {
            Some(AnyAggregate::Node(node)) => Some(node),
            _ => None,
        }
    }

    /// Every node of `site`, by id.
    pub fn nodes_at<'f>(&'f self, site: &Token) -> impl Iterator<Item = (&'f Token, &'f NodeState)> + 'f {
        self.scoped(AggregateKind::Node, &Scope::Site(site.clone()))
            .filter_map(|(a, e)| match &e.state {
                AnyAggregate::Node(node) => Some((&a.id, node)),
                _ => None,
            })
    }

    /// Every node of the fleet as (site, id, state).
    pub fn nodes(&self) -> impl Iterator<Item = (&Token, &Token, &NodeState)> {
        self.of_kind(AggregateKind::Node)
            .filter_map(|(a, e)| match (&a.scope, &e.state) {
                (Scope::Site(site), AnyAggregate::Node(node)) => Some((site, &a.id, node)),
                _ => None,
            })
    }

    /// A cluster of a site.
    pub fn cluster(&self, site: &Token, id: &Token) -> Option<&ClusterState> {
        match self.get(&AggregateRef::cluster(site, id)) {
            Some(AnyAggregate::Cluster(cluster)) => Some(cluster),
            _ => None,
        }
    }

    /// Every cluster of `site`, by id.
    pub fn clusters_at<'f>(&'f self, site: &Token) -> impl Iterator<Item = (&'f Token, &'f ClusterState)> + 'f {
        self.scoped(AggregateKind::Cluster, &Scope::Site(site.clone()))
            .filter_map(|(a, e)| match &e.state {
                AnyAggregate::Cluster(cluster) => Some((&a.id, cluster)),
                _ => None,
            })
    }

    /// Every cluster of the fleet as (site, id, state).
    pub fn clusters(&self) -> impl Iterator<Item = (&Token, &Token, &ClusterState)> {
        self.of_kind(AggregateKind::Cluster)
            .filter_map(|(a, e)| match (&a.scope, &e.state) {
                (Scope::Site(site), AnyAggregate::Cluster(cluster)) => Some((site, &a.id, cluster)),
                _ => None,
            })
    }

    /// A site's own aggregate (labels, window, time zone).
    pub fn site(&self, site: &Token) -> Option<&SiteState> {
        match self.get(&AggregateRef::site(site)) {
            Some(AnyAggregate::Site(state)) => Some(state),
            _ => None,
        }
    }

    /// Every site aggregate as (site, state).
    pub fn sites(&self) -> impl Iterator<Item = (&Token, &SiteState)> {
        self.of_kind(AggregateKind::Site).filter_map(|(a, e)| match &e.state {
            AnyAggregate::Site(site) => Some((&a.id, site)),
            _ => None,
        })
    }

    /// A profile's published versions.
    pub fn profile(&self, name: &Token) -> Option<&ProfileState> {
        match self.get(&AggregateRef::profile(name)) {
            Some(AnyAggregate::Profile(profile)) => Some(profile),
            _ => None,
        }
    }

    /// Every profile as (name, versions).
    pub fn profiles(&self) -> impl Iterator<Item = (&Token, &ProfileState)> {
        self.of_kind(AggregateKind::Profile)
            .filter_map(|(a, e)| match &e.state {
                AnyAggregate::Profile(profile) => Some((&a.id, profile)),
                _ => None,
            })
    }

    /// The layers of one profile version, if it has reached this log.
    pub fn profile_layers(&self, profile: &ProfileRef) -> Option<&ProfileLayers> {
        self.profile(&profile.name)?.versions.get(&profile.version)
    }

    /// Ids of every rollout whose plan this log holds (`rollout/all/<id>`).
    pub fn rollout_ids(&self) -> impl Iterator<Item = &Token> {
        self.scoped(AggregateKind::Rollout, &Scope::All).map(|(a, _)| &a.id)
    }

    /// A rollout as a whole: the hub's plan and commands with every site's reports that this log holds folded in
    /// (`None` if the plan is not here).
    pub fn rollout(&self, id: &Token) -> Option<RolloutState> {
        let plan = match self.get(&AggregateRef {
            kind: AggregateKind::Rollout,
            scope: Scope::All,
            id: id.clone(),
        }) {
            Some(AnyAggregate::Rollout(plan)) => plan,
            _ => return None,
        };
        let reports = self
            .of_kind(AggregateKind::Rollout)
            .filter(|(a, _)| a.scope != Scope::All && a.id == *id)
            .filter_map(|(_, e)| match &e.state {
                AnyAggregate::Rollout(report) => Some(report),
                _ => None,
            });
        Some(RolloutState::merged(plan, reports))
    }

    /// Every rollout as a whole, by id.
    pub fn rollouts(&self) -> Vec<(Token, RolloutState)> {
        self.rollout_ids()
            .filter_map(|id| Some((id.clone(), self.rollout(id)?)))
            .collect()
    }
}
