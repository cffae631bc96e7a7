//! Which view a path shows: one parser for the page a browser asks for and for the live stream that keeps it
//! current (`/live?path=…` names the page), so the two always render the same thing.

use super::attention::{named, NodeFilter, RolloutFilter, SiteFilter};
use std::collections::BTreeMap;

/// One view of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The first screen.
    Attention,
    /// The sites list.
    Sites(SiteFilter),
    /// The nodes list, of one site or all.
    Nodes(NodeFilter, Option<String>),
    /// One node (site, node).
    Node(String, String),
    /// The clusters list.
    Clusters,
    /// The rollouts list.
    Rollouts(RolloutFilter),
    /// One rollout.
    Rollout(String),
    /// Quarantined messages.
    Quarantine,
    /// An aggregate's history, at an event.
    History(String, Option<usize>),
}

/// Why a path shows nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// No such page.
    #[error("no page {0}")]
    NotFound(String),
    /// A query value that means nothing here.
    #[error("{0}")]
    BadQuery(String),
}

impl View {
    /// The view at `path` with `query`.
    pub fn parse(path: &str, query: &BTreeMap<String, String>) -> Result<View, ViewError> {
        let show = query.get("show").map(String::as_str).unwrap_or("all");
        let unknown = |what: &str| ViewError::BadQuery(format!("no {what} filter {show:?}"));
        let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        Ok(match segments.as_slice() {
            [] => View::Attention,
            ["sites"] => View::Sites(named(&SiteFilter::NAMES, show).ok_or_else(|| unknown("site"))?),
            ["nodes"] => View::Nodes(
                named(&NodeFilter::NAMES, show).ok_or_else(|| unknown("node"))?,
                query.get("site").filter(|s| !s.is_empty()).cloned(),
            ),
            ["nodes", site, id] => View::Node((*site).to_owned(), (*id).to_owned()),
            ["clusters"] => View::Clusters,
            ["rollouts"] => View::Rollouts(named(&RolloutFilter::NAMES, show).ok_or_else(|| unknown("rollout"))?),
            ["rollouts", id] => View::Rollout((*id).to_owned()),
            ["quarantine"] => View::Quarantine,
            ["history"] => {
                let aggregate = query
                    .get("aggregate")
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| ViewError::BadQuery("history needs ?aggregate=KIND/…".into()))?;
                let at = match query.get("at").filter(|a| !a.is_empty()) {
                    Some(at) => Some(
                        at.parse::<usize>()
                            .map_err(|_| ViewError::BadQuery(format!("at={at:?} is not an event number")))?,
                    ),
                    None => None,
                };
                View::History(aggregate.clone(), at)
            }
            _ => return Err(ViewError::NotFound(path.to_owned())),
        })
    }

    /// The page's title.
    pub fn title(&self) -> String {
        match self {
            View::Attention => "Attention".into(),
            View::Sites(_) => "Sites".into(),
            View::Nodes(_, _) => "Nodes".into(),
            View::Node(site, id) => format!("Node {id} at {site}"),
            View::Clusters => "Clusters".into(),
            View::Rollouts(_) => "Rollouts".into(),
            View::Rollout(id) => format!("Rollout {id}"),
            View::Quarantine => "Quarantine".into(),
            View::History(aggregate, _) => format!("History of {aggregate}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn paths_and_filters_name_their_views() {
        assert_eq!(View::parse("/", &query(&[])), Ok(View::Attention));
        assert_eq!(
            View::parse("/sites", &query(&[("show", "offline")])),
            Ok(View::Sites(SiteFilter::Offline))
        );
        assert_eq!(
            View::parse("/nodes", &query(&[("show", "failed-or-silent"), ("site", "s1")])),
            Ok(View::Nodes(NodeFilter::FailedOrSilent, Some("s1".into())))
        );
        assert_eq!(View::parse("/rollouts/r1", &query(&[])), Ok(View::Rollout("r1".into())));
        assert_eq!(
            View::parse("/nodes/s1/n1", &query(&[])),
            Ok(View::Node("s1".into(), "n1".into()))
        );
        assert_eq!(
            View::parse("/history", &query(&[("aggregate", "rollout/r1"), ("at", "3")])),
            Ok(View::History("rollout/r1".into(), Some(3)))
        );
    }

    #[test]
    fn an_unknown_page_or_filter_is_refused_with_a_reason() {
        assert!(matches!(View::parse("/nope", &query(&[])), Err(ViewError::NotFound(_))));
        assert!(matches!(
            View::parse("/sites", &query(&[("show", "x")])),
            Err(ViewError::BadQuery(_))
        ));
        assert!(matches!(
            View::parse("/history", &query(&[])),
            Err(ViewError::BadQuery(_))
        ));
        assert!(matches!(
            View::parse("/history", &query(&[("aggregate", "rollout/r1"), ("at", "-1")])),
            Err(ViewError::BadQuery(_))
        ));
    }
}
