//! Typed, read-only questions to a [`FleetState`]: the nodes of a site, a cluster, a profile version's layers, a
//! rollout with every site's progress folded in. Planners and views ask these; nothing here changes the fleet.
//!
//! Aggregates are ordered by (kind, scope, id), so "every node of site S" is one range scan, not a pass over the
//! whole fleet.

use crate::any_aggregate::AnyState;
use crate::app::AppState;
use crate::cluster::ClusterState;
use crate::fleet_state::{AggregateEntry, FleetState};
use crate::node::NodeState;
use crate::placement::PlacementState;
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

    /// The states of `kind` in `scope` that `pick` recognises, by id.
    fn states_in<'f, T: 'f>(
        &'f self,
        kind: AggregateKind,
        scope: &Scope,
        pick: fn(&AnyAggregate) -> Option<&T>,
    ) -> impl Iterator<Item = (&'f Token, &'f T)> + 'f {
        self.scoped(kind, scope)
            .filter_map(move |(a, e)| Some((&a.id, pick(&e.state)?)))
    }

    /// The site-scoped states of `kind` that `pick` recognises, as (site, id, state).
    fn site_states<'f, T: 'f>(
        &'f self,
        kind: AggregateKind,
        pick: fn(&AnyAggregate) -> Option<&T>,
    ) -> impl Iterator<Item = (&'f Token, &'f Token, &'f T)> + 'f {
        self.of_kind(kind)
            .filter_map(move |(a, e)| Some((a.scope.site()?, &a.id, pick(&e.state)?)))
    }

    /// The nodes of the fleet (of `site` only, if given) in (site, id) order, starting after the node `after`
    /// (`(site, id)`), as (site, id, state): one range scan however far into the fleet the page starts.
    pub fn nodes_from<'f>(
        &'f self,
        after: Option<(&Token, &Token)>,
        site: Option<&Token>,
    ) -> impl Iterator<Item = (&'f Token, &'f Token, &'f NodeState)> + 'f {
        let site_start = site.map(|s| AggregateRef::node(s, &first_token()));
        let after = after.map(|(s, id)| AggregateRef::node(s, id));
        let start = match (after, site_start) {
            (Some(after), Some(site_start)) if site_start > after => Bound::Included(site_start),
            (Some(after), _) => Bound::Excluded(after),
            (None, Some(site_start)) => Bound::Included(site_start),
            (None, None) => Bound::Included(AggregateRef {
                kind: AggregateKind::Node,
                scope: Scope::All,
                id: first_token(),
            }),
        };
        let site = site.cloned();
        self.aggregates
            .range((start, Bound::Unbounded))
            .take_while(move |(a, _)| {
                a.kind == AggregateKind::Node && site.as_ref().is_none_or(|s| a.scope.site() == Some(s))
            })
            .filter_map(|(a, e)| Some((a.scope.site()?, &a.id, NodeState::of(&e.state)?)))
    }

    /// A node of a site, if the log holds any event of it.
    pub fn node(&self, site: &Token, id: &Token) -> Option<&NodeState> {
        self.get(&AggregateRef::node(site, id)).and_then(NodeState::of)
    }

    /// Every node of `site`, by id.
    pub fn nodes_at<'f>(&'f self, site: &Token) -> impl Iterator<Item = (&'f Token, &'f NodeState)> + 'f {
        self.states_in(AggregateKind::Node, &Scope::Site(site.clone()), NodeState::of)
    }

    /// Every node of the fleet as (site, id, state).
    pub fn nodes(&self) -> impl Iterator<Item = (&Token, &Token, &NodeState)> {
        self.site_states(AggregateKind::Node, NodeState::of)
    }

    /// A cluster of a site.
    pub fn cluster(&self, site: &Token, id: &Token) -> Option<&ClusterState> {
        self.get(&AggregateRef::cluster(site, id)).and_then(ClusterState::of)
    }

    /// Every cluster of `site`, by id.
    pub fn clusters_at<'f>(&'f self, site: &Token) -> impl Iterator<Item = (&'f Token, &'f ClusterState)> + 'f {
        self.states_in(AggregateKind::Cluster, &Scope::Site(site.clone()), ClusterState::of)
    }

    /// Every cluster of the fleet as (site, id, state).
    pub fn clusters(&self) -> impl Iterator<Item = (&Token, &Token, &ClusterState)> {
        self.site_states(AggregateKind::Cluster, ClusterState::of)
    }

    /// A site's own aggregate (labels, window, time zone).
    pub fn site(&self, site: &Token) -> Option<&SiteState> {
        self.get(&AggregateRef::site(site)).and_then(SiteState::of)
    }

    /// Every site aggregate as (site, state).
    pub fn sites(&self) -> impl Iterator<Item = (&Token, &SiteState)> {
        self.site_states(AggregateKind::Site, SiteState::of)
            .map(|(_, id, s)| (id, s))
    }

    /// A profile's published versions.
    pub fn profile(&self, name: &Token) -> Option<&ProfileState> {
        self.get(&AggregateRef::profile(name)).and_then(ProfileState::of)
    }

    /// Every profile as (name, versions).
    pub fn profiles(&self) -> impl Iterator<Item = (&Token, &ProfileState)> {
        self.states_in(AggregateKind::Profile, &Scope::All, ProfileState::of)
    }

    /// The layers of one profile version, if it has reached this log.
    pub fn profile_layers(&self, profile: &ProfileRef) -> Option<&ProfileLayers> {
        self.profile(&profile.name)?.versions.get(&profile.version)
    }

    /// One app.
    pub fn app(&self, name: &Token) -> Option<&AppState> {
        self.get(&AggregateRef::app(name)).and_then(AppState::of)
    }

    /// Every app as (name, versions).
    pub fn apps(&self) -> impl Iterator<Item = (&Token, &AppState)> {
        self.states_in(AggregateKind::App, &Scope::All, AppState::of)
    }

    /// The release of one app version, if it has reached this log.
    pub fn app_release(&self, app: &events::app::AppRef) -> Option<&events::app::AppRelease> {
        self.app(&app.name)?.versions.get(&app.version)
    }

    /// A config aggregate (`config/hub/entries` or `config/<site>/resolved`).
    pub fn config(&self, aggregate: &AggregateRef) -> Option<&crate::config::ConfigState> {
        self.get(aggregate).and_then(crate::config::ConfigState::of)
    }

    /// One placement.
    pub fn placement(&self, name: &Token) -> Option<&PlacementState> {
        self.get(&AggregateRef::placement(name)).and_then(PlacementState::of)
    }

    /// Every placement.
    pub fn placements(&self) -> impl Iterator<Item = (&Token, &PlacementState)> {
        self.states_in(AggregateKind::Placement, &Scope::All, PlacementState::of)
    }

    /// Ids of every rollout whose plan this log holds (`rollout/all/<id>`).
    pub fn rollout_ids(&self) -> impl Iterator<Item = &Token> {
        self.scoped(AggregateKind::Rollout, &Scope::All).map(|(a, _)| &a.id)
    }

    /// A rollout as a whole: the hub's plan and commands with every site's reports that this log holds folded in
    /// (`None` if the plan is not here).
    pub fn rollout(&self, id: &Token) -> Option<RolloutState> {
        let plan = self
            .get(&AggregateRef {
                kind: AggregateKind::Rollout,
                scope: Scope::All,
                id: id.clone(),
            })
            .and_then(RolloutState::of)?;
        let reports = self
            .site_states(AggregateKind::Rollout, RolloutState::of)
            .filter(|(_, rollout, _)| *rollout == id)
            .map(|(_, _, report)| report);
        Some(RolloutState::merged(plan, reports))
    }

    /// Every rollout as a whole, by id.
    pub fn rollouts(&self) -> Vec<(Token, RolloutState)> {
        self.rollout_ids()
            .filter_map(|id| Some((id.clone(), self.rollout(id)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recorded;
    use events::node::NodeEvent;
    use events::{Envelope, EventId, Hlc, Origin};

    fn token(s: &str) -> Token {
        Token::new(s).expect("test token")
    }

    /// A fleet with the nodes `(site, id)` registered.
    fn fleet_of(nodes: &[(&str, &str)]) -> FleetState {
        let mut fleet = FleetState::new();
        for (seq, (site, id)) in nodes.iter().enumerate() {
            let envelope = Envelope {
                id: EventId(seq as u128 + 1),
                aggregate: AggregateRef::node(&token(site), &token(id)),
                origin: Origin::Site(token(site)),
                hlc: Hlc::default(),
                by: None,
                payload: NodeEvent::CameBack.into(),
            };
            let stream = format!("EF_SITE_{site}");
            for recorded in Recorded::of_message(&stream, seq as u64 + 1, 0, vec![envelope]) {
                fleet.apply(&recorded);
            }
        }
        fleet
    }

    fn page(fleet: &FleetState, after: Option<(&str, &str)>, site: Option<&str>) -> Vec<String> {
        let after = after.map(|(s, id)| (token(s), token(id)));
        let site = site.map(token);
        fleet
            .nodes_from(after.as_ref().map(|(s, id)| (s, id)), site.as_ref())
            .map(|(s, id, _)| format!("{s}/{id}"))
            .collect()
    }

    #[test]
    fn nodes_page_in_site_then_id_order_from_just_after_the_cursor() {
        let fleet = fleet_of(&[("b", "n2"), ("a", "n1"), ("b", "n1"), ("c", "n1"), ("a", "n2")]);
        assert_eq!(page(&fleet, None, None), ["a/n1", "a/n2", "b/n1", "b/n2", "c/n1"]);
        assert_eq!(page(&fleet, Some(("a", "n2")), None), ["b/n1", "b/n2", "c/n1"]);
        assert_eq!(
            page(&fleet, Some(("b", "n15")), None),
            ["b/n2", "c/n1"],
            "a cursor need not exist"
        );
        assert_eq!(page(&fleet, None, Some("b")), ["b/n1", "b/n2"]);
        assert_eq!(page(&fleet, Some(("b", "n1")), Some("b")), ["b/n2"]);
        assert_eq!(
            page(&fleet, Some(("a", "n1")), Some("b")),
            ["b/n1", "b/n2"],
            "a cursor before the site"
        );
        assert!(
            page(&fleet, Some(("c", "n1")), Some("b")).is_empty(),
            "a cursor past the site"
        );
    }
}
