//! Exports and imports: how an account shares subjects with another account, as an account JWT states them.
//!
//! A *service* export/import carries requests one way and lets the replies come back; a *stream* export/import
//! forwards messages one way. Only the operator signs account JWTs, so an account can never grant itself an
//! import: an export is an offer, and the imports in each account's JWT decide who takes it.

use serde::{Deserialize, Serialize};

/// Whether an export or import carries requests (service) or forwards messages (stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeKind {
    /// Messages published in the exporting account are delivered to subscribers in the importing one.
    Stream,
    /// Requests published in the importing account reach responders in the exporting one; replies come back.
    Service,
}

/// How many replies a service request may get back across the accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseType {
    /// Exactly one reply (the default).
    Singleton,
    /// Any number of replies, e.g. a JetStream consumer create whose consumer then delivers into the importer.
    Stream,
    /// A reply in several chunks.
    Chunked,
}

/// An offer in the exporting account's JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// A name for people.
    pub name: String,
    /// The subjects offered (may hold wildcards).
    pub subject: String,
    /// Service or stream.
    #[serde(rename = "type")]
    pub kind: ExchangeKind,
    /// For a service: how many replies a request may get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<ResponseType>,
}

impl Export {
    /// A service export of `subject` whose requests get `response_type` replies.
    pub fn service(name: &str, subject: &str, response_type: ResponseType) -> Self {
        Self {
            name: name.to_owned(),
            subject: subject.to_owned(),
            kind: ExchangeKind::Service,
            response_type: Some(response_type),
        }
    }

    /// A stream export of `subject`.
    pub fn stream(name: &str, subject: &str) -> Self {
        Self {
            name: name.to_owned(),
            subject: subject.to_owned(),
            kind: ExchangeKind::Stream,
            response_type: None,
        }
    }
}

/// A taking of another account's export, in the importing account's JWT.
///
/// The local name of the subjects is `local_subject` (jwt v2; the older `to` field is deprecated and not written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// A name for people.
    pub name: String,
    /// The subjects taken, as the exporting account names them; must be within one of its exports.
    pub subject: String,
    /// The exporting account's public key.
    pub account: String,
    /// The subjects' name in the importing account, if different (same wildcards in the same places).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_subject: Option<String>,
    /// Service or stream.
    #[serde(rename = "type")]
    pub kind: ExchangeKind,
    /// For a service: the exporting account's responders get the requester's identity (its account, user JWT and
    /// name) in the server-set `Nats-Request-Info` header.
    #[serde(default, skip_serializing_if = "is_false")]
    pub share: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Import {
    /// Takes the service `subject` exported by `account`, called locally as `local_subject` if given.
    pub fn service(name: &str, account: &str, subject: &str, local_subject: Option<&str>) -> Self {
        Self {
            name: name.to_owned(),
            subject: subject.to_owned(),
            account: account.to_owned(),
            local_subject: local_subject.map(str::to_owned),
            kind: ExchangeKind::Service,
            share: false,
        }
    }

    /// Like [`Import::service`], and the requester's identity is shared with the exporter's responders.
    pub fn shared_service(name: &str, account: &str, subject: &str) -> Self {
        Self {
            share: true,
            ..Self::service(name, account, subject, None)
        }
    }

    /// Takes the stream `subject` exported by `account`, under the same name.
    pub fn stream(name: &str, account: &str, subject: &str) -> Self {
        Self {
            name: name.to_owned(),
            subject: subject.to_owned(),
            account: account.to_owned(),
            local_subject: None,
            kind: ExchangeKind::Stream,
            share: false,
        }
    }
}
