//! What a user may publish and subscribe to, as a user JWT (or an account's default) states it.
//!
//! An empty allow list allows everything; a deny entry wins over an allow entry. Subjects may hold the NATS
//! wildcards `*` (one token) and `>` (the rest).

use serde::{Deserialize, Serialize};

/// Allow and deny lists for one direction (publish or subscribe).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRules {
    /// Subjects allowed; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Subjects denied, even if allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl SubjectRules {
    /// Only `subjects` are allowed.
    pub fn allow_only<S: AsRef<str>>(subjects: &[S]) -> Self {
        Self {
            allow: subjects.iter().map(|subject| subject.as_ref().to_owned()).collect(),
            deny: Vec::new(),
        }
    }
}

/// Lets a user reply to requests it received even on reply subjects its publish rules do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsePermission {
    /// Most replies per request (`-1` unlimited).
    #[serde(rename = "max")]
    pub max_replies: i64,
    /// How long after the request a reply is still allowed, nanoseconds (`0`: no limit).
    #[serde(rename = "ttl")]
    pub ttl_ns: i64,
}

impl ResponsePermission {
    /// One reply per request, any time later: a plain request/reply responder.
    pub fn one_reply() -> Self {
        Self {
            max_replies: 1,
            ttl_ns: 0,
        }
    }
}

/// Publish and subscribe rules and the response permission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPermissions {
    /// What the user may publish.
    #[serde(rename = "pub", default)]
    pub publish: SubjectRules,
    /// What the user may subscribe to.
    #[serde(rename = "sub", default)]
    pub subscribe: SubjectRules,
    /// Replies allowed beyond `publish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp: Option<ResponsePermission>,
}

impl UserPermissions {
    /// Publish only `publish`, subscribe only `subscribe`.
    pub fn allow_only<P: AsRef<str>, S: AsRef<str>>(publish: &[P], subscribe: &[S]) -> Self {
        Self {
            publish: SubjectRules::allow_only(publish),
            subscribe: SubjectRules::allow_only(subscribe),
            resp: None,
        }
    }
}
