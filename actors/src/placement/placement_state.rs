//! The placement aggregate: the operator's spec (applied, deleted) and the hub planner's decisions. Hub-only.

use crate::aggregate::{Aggregate, DecideContext};
use crate::labels::LABEL_MAX_LEN;
use crate::rejection::Rejection;
use events::placement::{ClusterKey, PlacementEvent, PlacementSpec, Predicate, PrioritizerKind};
use events::{AggregateKind, Hlc, Writer};
use serde::{Deserialize, Serialize};

/// Most predicates or prioritizers a placement may have.
pub const RULES_MAX: usize = 32;

/// One placement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementState {
    /// Generation of the last intent.
    pub generation: u64,
    /// The spec (`None` until applied).
    pub spec: Option<PlacementSpec>,
    /// Deleted by the operator.
    pub deleted: bool,
    /// The last decision: the spec generation it was made for, the clusters chosen, and its summary.
    pub decision: Option<Decision>,
}

/// A decision as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The spec generation decided on.
    pub generation: u64,
    /// The clusters chosen.
    pub chosen: Vec<ClusterKey>,
    /// Why.
    pub summary: String,
    /// When it was decided.
    pub at: Hlc,
}

impl PlacementState {
    /// The clusters the app should run on now: the last decision's, none once deleted.
    pub fn placed(&self) -> &[ClusterKey] {
        match (&self.decision, self.deleted) {
            (Some(d), false) => &d.chosen,
            _ => &[],
        }
    }
}

/// What can be asked of a placement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlacementCommand {
    /// Operator: apply this spec (no-op if unchanged).
    Apply(PlacementSpec),
    /// Operator: delete the placement.
    Delete,
    /// Hub planner: record a decision for the current spec (no-op if it chose the same clusters).
    Decide {
        /// The clusters chosen.
        chosen: Vec<ClusterKey>,
        /// Why.
        summary: String,
    },
}

/// Checks a spec before it is applied.
pub fn validate_spec(spec: &PlacementSpec) -> Result<(), Rejection> {
    let invalid = |m: String| Err(Rejection::Invalid(m));
    if spec.predicates.len() > RULES_MAX || spec.prioritizers.len() > RULES_MAX {
        return invalid(format!("at most {RULES_MAX} predicates and {RULES_MAX} prioritizers"));
    }
    if spec.number_of_clusters == Some(0) {
        return invalid("number_of_clusters must be at least 1 (leave it out for every cluster that fits)".into());
    }
    let label_ok = |k: &str| !k.is_empty() && k.len() <= LABEL_MAX_LEN;
    for predicate in &spec.predicates {
        match predicate {
            Predicate::SiteLabel(m) | Predicate::ClusterLabel(m) | Predicate::NodeLabel(m) => {
                if !label_ok(&m.key) {
                    return invalid(format!("label key {:?} must be 1-{LABEL_MAX_LEN} characters", m.key));
                }
                let needs_values = matches!(m.op, events::placement::LabelOp::In | events::placement::LabelOp::NotIn);
                if needs_values == m.values.is_empty() {
                    return invalid(format!(
                        "{predicate}: in and not_in need values; exists and does_not_exist take none"
                    ));
                }
            }
            Predicate::TimezoneIn(zones) if zones.is_empty() => {
                return invalid("timezone_in needs at least one time zone".into())
            }
            _ => {}
        }
    }
    for prioritizer in &spec.prioritizers {
        if prioritizer.weight == 0 || prioritizer.weight > 100 {
            return invalid(format!(
                "prioritizer {} has weight {}; weights are 1-100",
                prioritizer.kind, prioritizer.weight
            ));
        }
        if let PrioritizerKind::LabelValue { label, .. } = &prioritizer.kind {
            if !label_ok(label) {
                return invalid(format!("label {label:?} must be 1-{LABEL_MAX_LEN} characters"));
            }
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for group in &spec.groups {
        let name_ok = !group.name.is_empty()
            && group.name.len() <= LABEL_MAX_LEN
            && group.name != events::placement::REST_GROUP
            && group
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return invalid(format!(
                "group name {:?} must be 1-{LABEL_MAX_LEN} characters of A-Z a-z 0-9 - _ and not {}",
                group.name,
                events::placement::REST_GROUP
            ));
        }
        if !names.insert(group.name.as_str()) {
            return invalid(format!("group {} is named twice", group.name));
        }
        let needs_values = matches!(
            group.selector.op,
            events::placement::LabelOp::In | events::placement::LabelOp::NotIn
        );
        if !label_ok(&group.selector.key) || needs_values == group.selector.values.is_empty() {
            return invalid(format!("group {}: its selector is not a label condition", group.name));
        }
    }
    if spec.groups.len() > 16 {
        return invalid("at most 16 decision groups".into());
    }
    if let Some(label) = spec.spread_by.as_deref().filter(|l| !label_ok(l)) {
        return invalid(format!("spread_by {label:?} must be 1-{LABEL_MAX_LEN} characters"));
    }
    Ok(())
}

impl Aggregate for PlacementState {
    const KIND: AggregateKind = AggregateKind::Placement;
    const STATE_VERSION: u16 = 1;
    type Event = PlacementEvent;
    type Command = PlacementCommand;

    fn apply(&mut self, event: &PlacementEvent, at: Hlc) {
        match event {
            PlacementEvent::Applied { generation, spec } => {
                self.generation = *generation;
                self.spec = Some(spec.clone());
                self.deleted = false;
            }
            PlacementEvent::Decided {
                generation,
                chosen,
                summary,
            } => {
                self.decision = Some(Decision {
                    generation: *generation,
                    chosen: chosen.clone(),
                    summary: summary.clone(),
                    at,
                });
            }
            PlacementEvent::Deleted { generation } => {
                self.generation = *generation;
                self.deleted = true;
            }
        }
    }

    fn command_writer(_command: &PlacementCommand) -> Writer {
        Writer::Hub
    }

    fn decide(&self, command: PlacementCommand, _ctx: &DecideContext<'_>) -> Result<Vec<PlacementEvent>, Rejection> {
        let next = self.generation + 1;
        match command {
            PlacementCommand::Apply(spec) => {
                validate_spec(&spec)?;
                if self.spec.as_ref() == Some(&spec) && !self.deleted {
                    Ok(vec![])
                } else {
                    Ok(vec![PlacementEvent::Applied { generation: next, spec }])
                }
            }
            PlacementCommand::Delete => match (&self.spec, self.deleted) {
                (None, _) => Err(Rejection::NotFound("placement does not exist".into())),
                (Some(_), true) => Ok(vec![]),
                (Some(_), false) => Ok(vec![PlacementEvent::Deleted { generation: next }]),
            },
            PlacementCommand::Decide { chosen, summary } => {
                if self.spec.is_none() || self.deleted {
                    return Err(Rejection::Conflict("no placement to decide for".into()));
                }
                let same = self
                    .decision
                    .as_ref()
                    .is_some_and(|d| d.chosen == chosen && d.generation == self.generation);
                if same {
                    Ok(vec![])
                } else {
                    Ok(vec![PlacementEvent::Decided {
                        generation: self.generation,
                        chosen,
                        summary,
                    }])
                }
            }
        }
    }
}
