//! NATS layout (DESIGN §2): subjects per aggregate and writer domain, stream names, and filters.
//!
//! | subject | writer |
//! |---|---|
//! | `ef.intent.<site|all>.<kind>.<id>` | hub |
//! | `ef.site.<site>.<kind>.<id>` | site |
//! | `ef.tel.<site>.<node>.<metrics|logs>` | site |

use crate::aggregate::{AggregateKind, AggregateRef, Scope};
use crate::origin::Writer;
use crate::token::Token;

/// The hub's intent stream; sites hold a filtered, sourced copy under the same name.
pub const INTENT_STREAM: &str = "EF_INTENT";
/// Every intent subject.
pub const INTENT_SUBJECTS: &str = "ef.intent.>";
/// Prefix of the hub's request/reply API.
pub const API_PREFIX: &str = "ef.api.v1";

/// The stream a site writes (and the hub holds a sourced copy of, under the same name).
pub fn site_stream(site: &Token) -> String {
    format!("EF_SITE_{site}")
}

/// All subjects a site writes its events on.
pub fn site_subjects(site: &Token) -> String {
    format!("ef.site.{site}.>")
}

/// The intent subjects a site sources from the hub: its own and the fleet-wide ones.
pub fn intent_subjects_for_site(site: &Token) -> [String; 2] {
    [format!("ef.intent.{site}.>"), "ef.intent.all.>".to_string()]
}

/// The subject an aggregate's events from `writer` are appended on, or `None` when that writer never writes it
/// (a site never writes fleet-wide aggregates).
pub fn subject(writer: Writer, aggregate: &AggregateRef) -> Option<String> {
    match writer {
        Writer::Hub => Some(format!(
            "ef.intent.{}.{}.{}",
            aggregate.scope, aggregate.kind, aggregate.id
        )),
        Writer::Site => aggregate
            .scope
            .site()
            .map(|site| format!("ef.site.{site}.{}.{}", aggregate.kind, aggregate.id)),
    }
}

/// True if `subject` is exactly the subject `writer` appends `aggregate`'s events on (no allocation: readers
/// check this for every message).
pub fn is_subject_of(subject: &str, writer: Writer, aggregate: &AggregateRef) -> bool {
    let mut parts = subject.split('.');
    let domain_and_scope = match writer {
        Writer::Hub => {
            parts.next() == Some("ef")
                && parts.next() == Some("intent")
                && parts.next() == Some(aggregate.scope.as_str())
        }
        Writer::Site => {
            aggregate.scope.site().is_some()
                && parts.next() == Some("ef")
                && parts.next() == Some("site")
                && parts.next() == Some(aggregate.scope.as_str())
        }
    };
    domain_and_scope
        && parts.next() == Some(aggregate.kind.as_str())
        && parts.next() == Some(aggregate.id.as_str())
        && parts.next().is_none()
}

/// Further subjects a reader of `aggregate` folds in beyond its own two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Companion {
    /// One subject in one stream.
    Exact {
        /// The stream.
        stream: String,
        /// The subject.
        subject: String,
    },
    /// The aggregate's subject in every site stream present (`ef.site.<site>.<kind>.<id>` in `EF_SITE_<site>`).
    EverySite,
}

/// What else a reader of `aggregate` folds in. A rollout spans sites but each site writes only its own subjects:
/// the fleet-wide rollout (`rollout/all/<id>`) folds every site's progress reports, and a site's companion
/// (`rollout/<site>/<id>`, where that site reports) folds the fleet-wide plan, so each side decides against the
/// whole rollout while every event stays in its writer's stream.
pub fn companions(aggregate: &AggregateRef) -> Vec<Companion> {
    match (&aggregate.kind, &aggregate.scope) {
        (AggregateKind::Rollout, Scope::Site(_)) => vec![Companion::Exact {
            stream: INTENT_STREAM.to_string(),
            subject: format!("ef.intent.all.rollout.{}", aggregate.id),
        }],
        (AggregateKind::Rollout, Scope::All) => vec![Companion::EverySite],
        _ => vec![],
    }
}

/// The site whose stream `stream` is (`EF_SITE_<site>`), if it is one.
pub fn site_of_stream(stream: &str) -> Option<Token> {
    stream.strip_prefix("EF_SITE_").and_then(|site| Token::new(site).ok())
}

/// The stream that holds `writer`'s events about `aggregate`, if that writer writes it.
pub fn stream(writer: Writer, aggregate: &AggregateRef) -> Option<String> {
    match writer {
        Writer::Hub => Some(INTENT_STREAM.to_string()),
        Writer::Site => aggregate.scope.site().map(site_stream),
    }
}

/// Telemetry subject of a node (`metrics` or `logs`); limits-based retention, never history.
pub fn telemetry_subject(site: &Token, node: &Token, channel: TelemetryChannel) -> String {
    let channel = match channel {
        TelemetryChannel::Metrics => "metrics",
        TelemetryChannel::Logs => "logs",
    };
    format!("ef.tel.{site}.{node}.{channel}")
}

/// The stream holding a site's telemetry (`EF_TEL_<site>`), at the site and as the hub's copy: limits-based,
/// never part of event history.
pub fn telemetry_stream(site: &Token) -> String {
    format!("EF_TEL_{site}")
}

/// Every telemetry subject of a site (`ef.tel.<site>.>`).
pub fn telemetry_subjects(site: &Token) -> String {
    format!("ef.tel.{site}.>")
}

/// The site, node and channel of a telemetry subject (`ef.tel.<site>.<node>.<metrics|logs>`).
pub fn parse_telemetry_subject(subject: &str) -> Option<(Token, Token, TelemetryChannel)> {
    let mut parts = subject.split('.');
    let (Some("ef"), Some("tel"), Some(site), Some(node), Some(channel), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let channel = match channel {
        "metrics" => TelemetryChannel::Metrics,
        "logs" => TelemetryChannel::Logs,
        _ => return None,
    };
    Some((Token::new(site).ok()?, Token::new(node).ok()?, channel))
}

/// The two telemetry channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TelemetryChannel {
    /// Metrics samples.
    Metrics,
    /// Log lines.
    Logs,
}

/// Why a subject is not an edgefleet event subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Wrong prefix or token count.
    #[error("{0:?} is not an edgefleet event subject (ef.intent.<scope>.<kind>.<id> or ef.site.<site>.<kind>.<id>)")]
    Shape(String),
    /// A token is not valid.
    #[error("{subject:?}: {reason}")]
    Token {
        /// The subject.
        subject: String,
        /// Why.
        reason: String,
    },
}

/// Parses an event subject into its writer and aggregate.
pub fn parse(subject: &str) -> Result<(Writer, AggregateRef), SubjectError> {
    let parts: Vec<&str> = subject.split('.').collect();
    let [ef, domain, scope, kind, id] = parts.as_slice() else {
        return Err(SubjectError::Shape(subject.to_string()));
    };
    if *ef != "ef" {
        return Err(SubjectError::Shape(subject.to_string()));
    }
    let bad = |reason: String| SubjectError::Token {
        subject: subject.to_string(),
        reason,
    };
    let writer = match *domain {
        "intent" => Writer::Hub,
        "site" => Writer::Site,
        _ => return Err(SubjectError::Shape(subject.to_string())),
    };
    let kind = AggregateKind::parse(kind).ok_or_else(|| bad(format!("unknown kind {kind:?}")))?;
    let scope = match (*scope, writer) {
        ("all", Writer::Hub) => Scope::All,
        ("all", Writer::Site) => return Err(bad("`all` is reserved and is not a site id".into())),
        ("hub", Writer::Hub) => Scope::Hub,
        ("hub", Writer::Site) => return Err(bad("`hub` is reserved and is not a site id".into())),
        (s, _) => Scope::Site(Token::new(s).map_err(|e| bad(e.to_string()))?),
    };
    let id = Token::new(*id).map_err(|e| bad(e.to_string()))?;
    Ok((writer, AggregateRef { kind, scope, id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Token {
        Token::new(s).expect("valid token")
    }

    #[test]
    fn node_subjects_per_writer() {
        let node = AggregateRef::node(&t("store-7"), &t("n1"));
        assert_eq!(
            subject(Writer::Hub, &node).as_deref(),
            Some("ef.intent.store-7.node.n1")
        );
        assert_eq!(subject(Writer::Site, &node).as_deref(), Some("ef.site.store-7.node.n1"));
        assert_eq!(stream(Writer::Site, &node).as_deref(), Some("EF_SITE_store-7"));
    }

    #[test]
    fn sites_never_write_fleet_wide_aggregates() {
        let profile = AggregateRef::profile(&t("pos"));
        assert_eq!(
            subject(Writer::Hub, &profile).as_deref(),
            Some("ef.intent.all.profile.pos")
        );
        assert_eq!(subject(Writer::Site, &profile), None);
    }

    #[test]
    fn parse_inverts_subject() {
        for agg in [AggregateRef::node(&t("s1"), &t("n1")), AggregateRef::profile(&t("pos"))] {
            let s = subject(Writer::Hub, &agg).expect("hub writes everything");
            assert_eq!(parse(&s), Ok((Writer::Hub, agg)));
        }
    }

    #[test]
    fn is_subject_of_agrees_with_subject() {
        let node = AggregateRef::node(&t("s1"), &t("n1"));
        let profile = AggregateRef::profile(&t("pos"));
        for writer in [Writer::Hub, Writer::Site] {
            for agg in [&node, &profile] {
                for candidate in [
                    "ef.site.s1.node.n1",
                    "ef.intent.s1.node.n1",
                    "ef.intent.all.profile.pos",
                    "ef.site.s1.node.n1.x",
                    "ef.site.s1.node",
                ] {
                    let expected = subject(writer, agg).as_deref() == Some(candidate);
                    assert_eq!(
                        is_subject_of(candidate, writer, agg),
                        expected,
                        "{candidate} {writer:?} {agg}"
                    );
                }
            }
        }
    }

    #[test]
    fn parse_rejects_foreign_subjects() {
        assert!(parse("ef.site.all.profile.x").is_err());
        assert!(parse("ef.tel.s1.n1.metrics").is_err());
        let (site, node, channel) = parse_telemetry_subject("ef.tel.s1.n1.metrics").expect("a telemetry subject");
        assert_eq!(
            (site.as_str(), node.as_str(), channel),
            ("s1", "n1", TelemetryChannel::Metrics)
        );
        assert_eq!(
            parse_telemetry_subject(&telemetry_subject(&site, &node, TelemetryChannel::Logs)).map(|t| t.2),
            Some(TelemetryChannel::Logs)
        );
        for not_one in [
            "ef.tel.s1.n1",
            "ef.tel.s1.n1.traces",
            "ef.tel.s1.n1.metrics.x",
            "ef.site.s1.n1.metrics",
        ] {
            assert!(parse_telemetry_subject(not_one).is_none(), "{not_one}");
        }
        assert!(parse("foo").is_err());
    }
}
