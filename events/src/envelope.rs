//! The event envelope: identity, aggregate, origin and time around a payload.

use crate::aggregate::{AggregateRef, Scope};
use crate::event_id::EventId;
use crate::hlc::Hlc;
use crate::origin::Origin;
use crate::payload::Payload;
use serde::{Deserialize, Serialize};

/// One event as stored in the log. The schema version lives in the codec header, not here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique, time-ordered id.
    pub id: EventId,
    /// The aggregate the event belongs to.
    pub aggregate: AggregateRef,
    /// Who wrote it.
    pub origin: Origin,
    /// Hybrid-logical-clock time of the write.
    pub hlc: Hlc,
    /// The principal that caused it (operator name, `agent:<node>`, `controller`), if known.
    pub by: Option<String>,
    /// What happened.
    pub payload: Payload,
}

/// Why an envelope breaks the writer-domain rules (DESIGN §2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Payload kind and aggregate kind differ.
    #[error("payload {payload} does not belong to a {kind} aggregate")]
    KindMismatch {
        /// Payload name.
        payload: &'static str,
        /// Aggregate kind.
        kind: crate::aggregate::AggregateKind,
    },
    /// The payload's writer domain is not the origin's.
    #[error("{payload} may not be written by {origin}")]
    WrongWriter {
        /// Payload name.
        payload: &'static str,
        /// The origin claimed.
        origin: Origin,
    },
    /// A site wrote about an aggregate outside its own scope.
    #[error("{origin} may not write about {aggregate}")]
    ForeignScope {
        /// The origin claimed.
        origin: Origin,
        /// The aggregate written about.
        aggregate: AggregateRef,
    },
}

impl Envelope {
    /// Checks the writer-domain rules: payload kind matches the aggregate, payload writer matches the origin, and a
    /// site writes only about aggregates in its own scope.
    pub fn validate(&self) -> Result<(), EnvelopeError> {
        if self.payload.kind() != self.aggregate.kind {
            return Err(EnvelopeError::KindMismatch {
                payload: self.payload.name(),
                kind: self.aggregate.kind,
            });
        }
        if self.payload.writer() != self.origin.writer() {
            return Err(EnvelopeError::WrongWriter {
                payload: self.payload.name(),
                origin: self.origin.clone(),
            });
        }
        if let Origin::Site(site) = &self.origin {
            if self.aggregate.scope != Scope::Site(site.clone()) {
                return Err(EnvelopeError::ForeignScope {
                    origin: self.origin.clone(),
                    aggregate: self.aggregate.clone(),
                });
            }
        }
        Ok(())
    }

    /// The `Nats-Msg-Id` for this event: origin plus event id, unique fleet-wide (DESIGN §7).
    pub fn msg_id(&self) -> String {
        match &self.origin {
            Origin::Hub => format!("hub-{}", self.id),
            Origin::Site(site) => format!("{site}-{}", self.id),
        }
    }
}
