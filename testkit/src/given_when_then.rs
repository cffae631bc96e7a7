//! Given / when / then for aggregates, in the style of cqrs-es's `TestFramework`:
//! `given(&[registered]).when(NodeCommand::Reset).then(&[NodeEvent::ResetRequested { generation: 1 }])`.

use actors::{Aggregate, DecideContext, Rejection};
use events::{AggregateKind, AggregateRef, Hlc, Scope};

/// The aggregate every given/when/then test decides as: `site-1`'s `subject` (or the fleet-wide `subject`).
pub fn test_aggregate(kind: AggregateKind) -> AggregateRef {
    let scope = match kind {
        AggregateKind::Profile | AggregateKind::App | AggregateKind::Placement => Scope::All,
        _ => Scope::Site(crate::token("site-1")),
    };
    AggregateRef {
        kind,
        scope,
        id: crate::token("subject"),
    }
}

/// State built from past events.
pub struct Given<A: Aggregate> {
    state: A,
}

/// Maps an event type to its aggregate, so `given(&[NodeEvent::…])` needs no type annotation.
pub trait AggregateEvent: Sized {
    /// The aggregate this event belongs to.
    type Aggregate: Aggregate<Event = Self>;
}

impl AggregateEvent for events::node::NodeEvent {
    type Aggregate = actors::node::NodeState;
}
impl AggregateEvent for events::cluster::ClusterEvent {
    type Aggregate = actors::cluster::ClusterState;
}
impl AggregateEvent for events::site::SiteEvent {
    type Aggregate = actors::site::SiteState;
}
impl AggregateEvent for events::profile::ProfileEvent {
    type Aggregate = actors::profile::ProfileState;
}
impl AggregateEvent for events::rollout::RolloutEvent {
    type Aggregate = actors::rollout::RolloutState;
}
impl AggregateEvent for events::app::AppEvent {
    type Aggregate = actors::app::AppState;
}
impl AggregateEvent for events::config::ConfigEvent {
    type Aggregate = actors::config::ConfigState;
}
impl AggregateEvent for events::placement::PlacementEvent {
    type Aggregate = actors::placement::PlacementState;
}

/// Starts a test from `events`, applied in order (`given::<NodeEvent>(&[])` for no history).
pub fn given<E: AggregateEvent>(events: &[E]) -> Given<E::Aggregate> {
    let mut state = E::Aggregate::default();
    for event in events {
        state.apply(event, Hlc::default());
    }
    Given { state }
}

impl<A: Aggregate> Given<A> {
    /// Decides `command` against the given state.
    pub fn when(self, command: A::Command) -> When<A> {
        let aggregate = test_aggregate(A::KIND);
        let ctx = DecideContext {
            aggregate: &aggregate,
            now: Hlc {
                physical_ms: 1_000,
                logical: 0,
            },
        };
        let result = self.state.decide(command, &ctx);
        When {
            state: self.state,
            result,
        }
    }

    /// The state the given events produce.
    pub fn state(&self) -> &A {
        &self.state
    }
}

/// The outcome of a decision.
pub struct When<A: Aggregate> {
    state: A,
    result: Result<Vec<A::Event>, Rejection>,
}

impl<A: Aggregate> When<A>
where
    A::Event: PartialEq,
{
    /// Asserts the command produced exactly `expected`, and returns the state after applying them.
    #[track_caller]
    pub fn then(self, expected: &[A::Event]) -> A {
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "decided events differ");
                let mut state = self.state;
                for event in &events {
                    state.apply(event, Hlc::default());
                }
                state
            }
            Err(rejection) => {
                panic!("expected events {expected:?}, command was rejected: {rejection}")
            }
        }
    }

    /// Asserts the command changed nothing (idempotent repeat).
    #[track_caller]
    pub fn then_nothing(self) {
        self.then(&[]);
    }

    /// Asserts the command was rejected and the rejection satisfies `check`.
    #[track_caller]
    pub fn then_rejected(self, check: impl Fn(&Rejection) -> bool) -> Rejection {
        match self.result {
            Ok(events) => panic!("expected a rejection, got events {events:?}"),
            Err(rejection) => {
                assert!(check(&rejection), "unexpected rejection: {rejection}");
                rejection
            }
        }
    }
}
