//! The pure aggregate contract: `apply` and `decide` over plain data.

use crate::rejection::Rejection;
use events::{AggregateKind, AggregateRef, Hlc, Payload, PayloadEvent, Writer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// What `decide` may know besides the state: which aggregate it is and the time of the decision.
#[derive(Clone, Debug)]
pub struct DecideContext<'a> {
    /// The aggregate deciding.
    pub aggregate: &'a AggregateRef,
    /// Hybrid-logical time of the decision.
    pub now: Hlc,
}

/// An event-sourced aggregate: plain data, rebuilt only by `apply`.
///
/// Convergence invariant (DESIGN §3): hub events change only the spec half of the state and site events only the
/// status half, so the state depends on each origin's events in that origin's order and never on how the two
/// interleave.
pub trait Aggregate:
    Default + Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Unpin + 'static
{
    /// The kind this aggregate is.
    const KIND: AggregateKind;
    /// Bumped whenever the state's layout changes, so old snapshots are ignored instead of misread.
    const STATE_VERSION: u16;
    /// This kind's event enum.
    type Event: Clone + Debug + PayloadEvent + Send + 'static;
    /// This kind's command enum.
    type Command: Clone + Debug + Send + 'static;

    /// Picks this kind's event out of a payload (`None` for another kind's payload).
    fn event(payload: &Payload) -> Option<&Self::Event> {
        Self::Event::of(payload)
    }

    /// Folds one event into the state. Must not fail: events are facts.
    fn apply(&mut self, event: &Self::Event, at: Hlc);

    /// Which side may issue `command`.
    fn command_writer(command: &Self::Command) -> Writer;

    /// Decides what `command` means now: the events to append, or why not. Never does I/O.
    fn decide(&self, command: Self::Command, ctx: &DecideContext<'_>) -> Result<Vec<Self::Event>, Rejection>;

    /// Folds every event of a slice, for tests and replay.
    fn from_events<'e>(events: impl IntoIterator<Item = &'e Self::Event>) -> Self
    where
        Self::Event: 'e,
    {
        let mut state = Self::default();
        for event in events {
            state.apply(event, Hlc::default());
        }
        state
    }
}
