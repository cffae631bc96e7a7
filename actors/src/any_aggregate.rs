//! A state of any aggregate kind, for readers that replay mixed streams (replay, history, time travel).

use crate::aggregate::Aggregate;
use crate::app::AppState;
use crate::cluster::ClusterState;
use crate::config::ConfigState;
use crate::node::NodeState;
use crate::placement::PlacementState;
use crate::profile::ProfileState;
use crate::rollout::RolloutState;
use crate::site::SiteState;
use events::{AggregateKind, Envelope};
use serde::{Deserialize, Serialize};

/// One aggregate's state, whatever its kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AnyAggregate {
    /// A node.
    Node(NodeState),
    /// A site.
    Site(SiteState),
    /// A cluster.
    Cluster(ClusterState),
    /// A profile.
    Profile(ProfileState),
    /// A rollout (the hub aggregate, a site's companion, or their union).
    Rollout(RolloutState),
    /// An app.
    App(AppState),
    /// A placement.
    Placement(PlacementState),
    /// Config.
    Config(ConfigState),
}

/// One aggregate kind's state, as carried in an [`AnyAggregate`].
pub trait AnyState: Sized {
    /// The state, if `any` is of this kind.
    fn of(any: &AnyAggregate) -> Option<&Self>;
}

macro_rules! any_state {
    ($($state:ty => $variant:ident),* $(,)?) => {$(
        impl AnyState for $state {
            fn of(any: &AnyAggregate) -> Option<&Self> {
                match any {
                    AnyAggregate::$variant(state) => Some(state),
                    _ => None,
                }
            }
        }
    )*};
}

any_state!(
    NodeState => Node,
    SiteState => Site,
    ClusterState => Cluster,
    ProfileState => Profile,
    RolloutState => Rollout,
    AppState => App,
    PlacementState => Placement,
    ConfigState => Config,
);

/// An event that cannot be applied to this state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The event is for another kind of aggregate.
    #[error("{event} cannot be applied to a {kind} aggregate")]
    KindMismatch {
        /// Event name.
        event: &'static str,
        /// The state's kind.
        kind: AggregateKind,
    },
}

impl AnyAggregate {
    /// The empty state of `kind`.
    pub fn new(kind: AggregateKind) -> Self {
        match kind {
            AggregateKind::Node => AnyAggregate::Node(NodeState::default()),
            AggregateKind::Site => AnyAggregate::Site(SiteState::default()),
            AggregateKind::Cluster => AnyAggregate::Cluster(ClusterState::default()),
            AggregateKind::Profile => AnyAggregate::Profile(ProfileState::default()),
            AggregateKind::Rollout => AnyAggregate::Rollout(RolloutState::default()),
            AggregateKind::App => AnyAggregate::App(AppState::default()),
            AggregateKind::Placement => AnyAggregate::Placement(PlacementState::default()),
            AggregateKind::Config => AnyAggregate::Config(ConfigState::default()),
        }
    }

    /// The kind of this state.
    pub fn kind(&self) -> AggregateKind {
        match self {
            AnyAggregate::Node(_) => AggregateKind::Node,
            AnyAggregate::Site(_) => AggregateKind::Site,
            AnyAggregate::Cluster(_) => AggregateKind::Cluster,
            AnyAggregate::Profile(_) => AggregateKind::Profile,
            AnyAggregate::Rollout(_) => AggregateKind::Rollout,
            AnyAggregate::App(_) => AggregateKind::App,
            AnyAggregate::Placement(_) => AggregateKind::Placement,
            AnyAggregate::Config(_) => AggregateKind::Config,
        }
    }

    /// The snapshot encoding of the inner state: `(STATE_VERSION, postcard bytes)`, the same bytes an
    /// [`crate::AggregateActor`] of that kind writes, so replay and actors share snapshots.
    pub fn encode_state(&self) -> (u16, Vec<u8>) {
        fn enc<A: Aggregate>(state: &A) -> (u16, Vec<u8>) {
            // Plain owned data always encodes; an empty vec would only make the snapshot a cache miss.
            (A::STATE_VERSION, postcard::to_allocvec(state).unwrap_or_default())
        }
        match self {
            AnyAggregate::Node(s) => enc(s),
            AnyAggregate::Site(s) => enc(s),
            AnyAggregate::Cluster(s) => enc(s),
            AnyAggregate::Profile(s) => enc(s),
            AnyAggregate::Rollout(s) => enc(s),
            AnyAggregate::App(s) => enc(s),
            AnyAggregate::Placement(s) => enc(s),
            AnyAggregate::Config(s) => enc(s),
        }
    }

    /// Decodes a snapshot of `kind`; `None` if the layout version differs or the bytes do not decode.
    pub fn decode_state(kind: AggregateKind, state_version: u16, bytes: &[u8]) -> Option<Self> {
        fn dec<A: Aggregate>(state_version: u16, bytes: &[u8]) -> Option<A> {
            (state_version == A::STATE_VERSION)
                .then(|| postcard::from_bytes(bytes).ok())
                .flatten()
        }
        Some(match kind {
            AggregateKind::Node => AnyAggregate::Node(dec(state_version, bytes)?),
            AggregateKind::Site => AnyAggregate::Site(dec(state_version, bytes)?),
            AggregateKind::Cluster => AnyAggregate::Cluster(dec(state_version, bytes)?),
            AggregateKind::Profile => AnyAggregate::Profile(dec(state_version, bytes)?),
            AggregateKind::Rollout => AnyAggregate::Rollout(dec(state_version, bytes)?),
            AggregateKind::App => AnyAggregate::App(dec(state_version, bytes)?),
            AggregateKind::Placement => AnyAggregate::Placement(dec(state_version, bytes)?),
            AggregateKind::Config => AnyAggregate::Config(dec(state_version, bytes)?),
        })
    }

    /// Applies an envelope's payload.
    pub fn apply(&mut self, envelope: &Envelope) -> Result<(), ApplyError> {
        fn step<A: Aggregate>(state: &mut A, envelope: &Envelope) -> Result<(), ApplyError> {
            let event = A::event(&envelope.payload).ok_or(ApplyError::KindMismatch {
                event: envelope.payload.name(),
                kind: A::KIND,
            })?;
            state.apply(event, envelope.hlc);
            Ok(())
        }
        match self {
            AnyAggregate::Node(s) => step(s, envelope),
            AnyAggregate::Site(s) => step(s, envelope),
            AnyAggregate::Cluster(s) => step(s, envelope),
            AnyAggregate::Profile(s) => step(s, envelope),
            AnyAggregate::Rollout(s) => step(s, envelope),
            AnyAggregate::App(s) => step(s, envelope),
            AnyAggregate::Placement(s) => step(s, envelope),
            AnyAggregate::Config(s) => step(s, envelope),
        }
    }
}
