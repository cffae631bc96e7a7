//! Intent-driven placement (issue 14), the pure core: which clusters an application goes to, decided from a
//! [`PlacementSpec`] over the fleet's clusters as plain data ([`ClusterCandidate`]), every decision explained
//! ([`PlacementDecision`]): for each cluster the filter that removed it, or its score per prioritizer and why it
//! was or was not chosen; and, when nothing fits, which filters removed how many.
//!
//! Order of a decision: filters (deleted clusters, offline sites past their toleration, the spec's predicates in
//! order), then each survivor's weighted score, then selection (highest total first; with a spread label, one per
//! value of the label before a second; at most `number_of_clusters`). Steadiness is a prioritizer like OCM's
//! `Steady`: the clusters chosen last time score 100 on it, so a decision keeps its clusters unless another is better
//! by more than the steady weight.
//!
//! Must never: do I/O, read a clock (`now` comes in), or keep state between calls.

pub mod candidate;
pub mod decide;
pub mod explain;
pub mod fleet_candidates;
pub mod placement_state;

pub use candidate::{ClusterCandidate, ClusterKey};
pub use decide::{choose_placement, decide_placement, group_clusters};
pub use events::placement::{LabelMatch, LabelOp, PlacementSpec, Predicate, Prefer, Prioritizer, PrioritizerKind};
pub use explain::{ClusterVerdict, PlacementDecision, Verdict};
pub use fleet_candidates::fleet_candidates;
pub use placement_state::{validate_spec, Decision, PlacementCommand, PlacementState};
