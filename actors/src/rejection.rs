//! Why `decide` refused a command. A rejection is a value, never a panic, and changes nothing.

/// A command the aggregate refuses, with a message for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The command refers to something that does not exist yet (e.g. assigning an unregistered node).
    #[error("not found: {0}")]
    NotFound(String),
    /// The command is malformed or its values are out of bounds.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The command contradicts the current state (e.g. assigning a node that belongs to another cluster).
    #[error("conflict: {0}")]
    Conflict(String),
    /// This side of the link may not issue the command (a site cannot assign; the hub cannot register a node).
    #[error("not permitted here: {0}")]
    WrongWriter(String),
}
