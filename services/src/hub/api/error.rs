//! API errors: an HTTP-like code and a message for the operator.

use actors::{ExecuteError, LogError, Rejection};
use serde::Serialize;

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// 400 malformed, 403 not permitted, 404 unknown id, 409 conflict, 413 too large, 500 internal, 503 unavailable.
    pub code: u16,
    /// What happened and what to do.
    pub message: String,
}

impl ApiError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            code: 400,
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: 404,
            message: message.into(),
        }
    }
    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self {
            code: 409,
            message: message.into(),
        }
    }
    /// 413.
    pub fn too_large(size: usize, max: usize) -> Self {
        Self {
            code: 413,
            message: format!("request of {size} bytes exceeds the limit of {max} bytes"),
        }
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: 500,
            message: message.into(),
        }
    }
    /// The JSON body: `{"error":{"code":…,"message":…}}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } })
    }
}

impl From<ExecuteError> for ApiError {
    fn from(e: ExecuteError) -> Self {
        let message = e.to_string();
        let code = match e {
            ExecuteError::Rejected(Rejection::NotFound(_)) => 404,
            ExecuteError::Rejected(Rejection::Invalid(_)) => 400,
            ExecuteError::Rejected(Rejection::Conflict(_)) | ExecuteError::TooManyConflicts { .. } => 409,
            ExecuteError::Rejected(Rejection::WrongWriter(_)) => 403,
            ExecuteError::Log(LogError::Conflict { .. }) => 409,
            ExecuteError::Log(_) | ExecuteError::ActorUnavailable(_) => 503,
        };
        Self { code, message }
    }
}

impl From<events::TokenError> for ApiError {
    fn from(e: events::TokenError) -> Self {
        Self::bad_request(e.to_string())
    }
}
