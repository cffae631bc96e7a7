//! The payload union over every aggregate kind.

use crate::aggregate::AggregateKind;
use crate::app::AppEvent;
use crate::cluster::ClusterEvent;
use crate::config::ConfigEvent;
use crate::node::NodeEvent;
use crate::origin::Writer;
use crate::placement::PlacementEvent;
use crate::profile::ProfileEvent;
use crate::rollout::RolloutEvent;
use crate::site::SiteEvent;
use serde::{Deserialize, Serialize};

/// One event's payload. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// A node event.
    Node(NodeEvent),
    /// A site event.
    Site(SiteEvent),
    /// A cluster event.
    Cluster(ClusterEvent),
    /// A profile event (boxed: profiles are large and rare; the box keeps every other payload small).
    Profile(Box<ProfileEvent>),
    /// A rollout event (hub plan and commands, or one site's progress).
    Rollout(RolloutEvent),
    /// An app event (boxed: values and manifests are large and rare).
    App(Box<AppEvent>),
    /// A placement event (boxed: specs are large and rare).
    Placement(Box<PlacementEvent>),
    /// A config event (boxed: values can be large).
    Config(Box<ConfigEvent>),
}

impl Payload {
    /// The aggregate kind this payload belongs to.
    pub fn kind(&self) -> AggregateKind {
        match self {
            Payload::Node(_) => AggregateKind::Node,
            Payload::Site(_) => AggregateKind::Site,
            Payload::Cluster(_) => AggregateKind::Cluster,
            Payload::Profile(_) => AggregateKind::Profile,
            Payload::Rollout(_) => AggregateKind::Rollout,
            Payload::App(_) => AggregateKind::App,
            Payload::Placement(_) => AggregateKind::Placement,
            Payload::Config(_) => AggregateKind::Config,
        }
    }

    /// Which side may write it.
    pub fn writer(&self) -> Writer {
        match self {
            Payload::Node(e) => e.writer(),
            Payload::Site(e) => e.writer(),
            Payload::Cluster(e) => e.writer(),
            Payload::Profile(e) => e.writer(),
            Payload::Rollout(e) => e.writer(),
            Payload::App(e) => e.writer(),
            Payload::Placement(e) => e.writer(),
            Payload::Config(e) => e.writer(),
        }
    }

    /// Short event name (`NodeRegistered`).
    pub fn name(&self) -> &'static str {
        match self {
            Payload::Node(e) => e.name(),
            Payload::Site(e) => e.name(),
            Payload::Cluster(e) => e.name(),
            Payload::Profile(e) => e.name(),
            Payload::Rollout(e) => e.name(),
            Payload::App(e) => e.name(),
            Payload::Placement(e) => e.name(),
            Payload::Config(e) => e.name(),
        }
    }
}

/// An aggregate kind's event enum, as carried in a [`Payload`].
pub trait PayloadEvent: Into<Payload> + Sized {
    /// The event, if `payload` carries this kind's.
    fn of(payload: &Payload) -> Option<&Self>;
}

macro_rules! payload_event {
    ($($event:ty => $variant:ident),* $(,)?) => {$(
        impl PayloadEvent for $event {
            fn of(payload: &Payload) -> Option<&Self> {
                match payload {
                    Payload::$variant(e) => Some(std::borrow::Borrow::borrow(e)),
                    _ => None,
                }
            }
        }
    )*};
}

payload_event!(
    NodeEvent => Node,
    SiteEvent => Site,
    ClusterEvent => Cluster,
    ProfileEvent => Profile,
    RolloutEvent => Rollout,
    AppEvent => App,
    PlacementEvent => Placement,
    ConfigEvent => Config,
);

impl From<NodeEvent> for Payload {
    fn from(e: NodeEvent) -> Self {
        Payload::Node(e)
    }
}
impl From<SiteEvent> for Payload {
    fn from(e: SiteEvent) -> Self {
        Payload::Site(e)
    }
}
impl From<ClusterEvent> for Payload {
    fn from(e: ClusterEvent) -> Self {
        Payload::Cluster(e)
    }
}
impl From<ProfileEvent> for Payload {
    fn from(e: ProfileEvent) -> Self {
        Payload::Profile(Box::new(e))
    }
}
impl From<RolloutEvent> for Payload {
    fn from(e: RolloutEvent) -> Self {
        Payload::Rollout(e)
    }
}
impl From<AppEvent> for Payload {
    fn from(e: AppEvent) -> Self {
        Payload::App(Box::new(e))
    }
}
impl From<PlacementEvent> for Payload {
    fn from(e: PlacementEvent) -> Self {
        Payload::Placement(Box::new(e))
    }
}
impl From<ConfigEvent> for Payload {
    fn from(e: ConfigEvent) -> Self {
        Payload::Config(Box::new(e))
    }
}
