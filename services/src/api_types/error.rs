//! API errors: an HTTP-like code and a message for the operator, sanitized and bounded before they leave the hub
//! (no control characters, no arbitrarily long echo of what a client sent).

use actors::{ExecuteError, LogError, Rejection};
use serde::{Deserialize, Serialize};

/// Longest message in an error body.
pub const MAX_MESSAGE_CHARS: usize = 1_024;
/// Longest message in the `Nats-Service-Error` header.
pub const MAX_HEADER_CHARS: usize = 256;

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ApiError {
    /// 400 malformed, 401 no verifiable identity, 403 not permitted, 404 unknown id, 409 conflict, 413 too large,
    /// 500 internal, 503 unavailable, 507 out of storage.
    pub code: u16,
    /// What happened and what to do.
    pub message: String,
}

/// `{"error": …}`, the body of every error reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

/// `text` with control characters replaced by spaces and cut to `max` characters (with `…`).
pub fn sanitize(text: &str, max: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

impl ApiError {
    fn new(code: u16, message: impl AsRef<str>) -> Self {
        Self {
            code,
            message: sanitize(message.as_ref(), MAX_MESSAGE_CHARS),
        }
    }
    /// 400.
    pub fn bad_request(message: impl AsRef<str>) -> Self {
        Self::new(400, message)
    }
    /// 401: no verifiable identity.
    pub fn unauthorized(message: impl AsRef<str>) -> Self {
        Self::new(401, message)
    }
    /// 403: the caller's role does not allow it.
    pub fn forbidden(message: impl AsRef<str>) -> Self {
        Self::new(403, message)
    }
    /// 404.
    pub fn not_found(message: impl AsRef<str>) -> Self {
        Self::new(404, message)
    }
    /// 409.
    pub fn conflict(message: impl AsRef<str>) -> Self {
        Self::new(409, message)
    }
    /// 413.
    pub fn too_large(size: usize, max: usize) -> Self {
        Self::new(413, format!("request of {size} bytes exceeds the limit of {max} bytes"))
    }
    /// 500.
    pub fn internal(message: impl AsRef<str>) -> Self {
        Self::new(500, message)
    }
    /// 503: something the answer needs is not reachable now.
    pub fn unavailable(message: impl AsRef<str>) -> Self {
        Self::new(503, message)
    }
    /// 507: the hub's store is out of space.
    pub fn out_of_storage(message: impl AsRef<str>) -> Self {
        Self::new(507, message)
    }
    /// The message as a header value: printable ASCII only, bounded.
    pub fn header_message(&self) -> String {
        sanitize(&self.message, MAX_HEADER_CHARS)
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .collect()
    }
}

impl From<ExecuteError> for ApiError {
    fn from(e: ExecuteError) -> Self {
        let code = match &e {
            ExecuteError::Rejected(Rejection::NotFound(_)) => 404,
            ExecuteError::Rejected(Rejection::Invalid(_)) => 400,
            ExecuteError::Rejected(Rejection::Conflict(_)) | ExecuteError::TooManyConflicts { .. } => 409,
            ExecuteError::Rejected(Rejection::WrongWriter(_)) => 403,
            ExecuteError::Log(LogError::Conflict { .. }) => 409,
            ExecuteError::Log(_) | ExecuteError::ActorUnavailable(_) => 503,
        };
        Self::new(code, e.to_string())
    }
}

impl From<events::TokenError> for ApiError {
    fn from(e: events::TokenError) -> Self {
        Self::bad_request(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_control_characters_and_length() {
        let e = ApiError::bad_request(format!("unknown field `a\r\nb` {}", "x".repeat(5_000)));
        assert!(!e.message.contains('\r') && !e.message.contains('\n'));
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS);
        let header = e.header_message();
        assert!(header.chars().count() <= MAX_HEADER_CHARS);
        assert!(header.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{header}");
        assert_eq!(ApiError::conflict("é\u{7}").header_message(), "? ");
    }
}
