//! Aggregate identity: kind, scope (which site's subjects carry it) and id.

use crate::token::{Token, TokenError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of aggregates. Grows only by appending variants (postcard encodes the variant index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AggregateKind {
    /// A bare-metal node.
    Node,
    /// An edge site.
    Site,
    /// A Kubernetes cluster at one site.
    Cluster,
    /// A versioned cluster profile (fleet-wide).
    Profile,
    /// A fleet-wide rollout (`all` scope, hub) and its per-site progress companions (site scope).
    Rollout,
    /// A versioned application (fleet-wide).
    App,
    /// A placement of an application on clusters (fleet-wide, hub).
    Placement,
    /// Central config: the operator's entries (hub only) and each site's resolved set.
    Config,
}

impl AggregateKind {
    /// Every kind, in declaration order.
    pub const ALL: [AggregateKind; 8] = [
        AggregateKind::Node,
        AggregateKind::Site,
        AggregateKind::Cluster,
        AggregateKind::Profile,
        AggregateKind::Rollout,
        AggregateKind::App,
        AggregateKind::Placement,
        AggregateKind::Config,
    ];

    /// The subject token naming this kind.
    pub fn as_str(&self) -> &'static str {
        match self {
            AggregateKind::Node => "node",
            AggregateKind::Site => "site",
            AggregateKind::Cluster => "cluster",
            AggregateKind::Profile => "profile",
            AggregateKind::Rollout => "rollout",
            AggregateKind::App => "app",
            AggregateKind::Placement => "placement",
            AggregateKind::Config => "config",
        }
    }

    /// Parses a subject token back into a kind.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for AggregateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which subjects carry an aggregate: those of one site, or the fleet-wide `all` intents.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Fleet-wide (profiles): only the hub writes, every site sources it.
    All,
    /// One site's aggregate (its nodes, clusters, the site itself).
    Site(Token),
    /// The hub's own (`ef.intent.hub.…`): no site sources it (`hub` is never a site id).
    Hub,
}

impl Scope {
    /// The subject token for this scope (`all` or the site id).
    pub fn as_str(&self) -> &str {
        match self {
            Scope::All => "all",
            Scope::Site(site) => site.as_str(),
            Scope::Hub => "hub",
        }
    }

    /// The site, if the scope is one site.
    pub fn site(&self) -> Option<&Token> {
        match self {
            Scope::All | Scope::Hub => None,
            Scope::Site(site) => Some(site),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Full identity of one aggregate instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AggregateRef {
    /// What kind of aggregate.
    pub kind: AggregateKind,
    /// Which subjects carry it.
    pub scope: Scope,
    /// Its id within kind and scope.
    pub id: Token,
}

impl AggregateRef {
    /// A node at a site.
    pub fn node(site: &Token, id: &Token) -> Self {
        Self {
            kind: AggregateKind::Node,
            scope: Scope::Site(site.clone()),
            id: id.clone(),
        }
    }

    /// A site (its id is the site id).
    pub fn site(site: &Token) -> Self {
        Self {
            kind: AggregateKind::Site,
            scope: Scope::Site(site.clone()),
            id: site.clone(),
        }
    }

    /// A cluster at a site.
    pub fn cluster(site: &Token, id: &Token) -> Self {
        Self {
            kind: AggregateKind::Cluster,
            scope: Scope::Site(site.clone()),
            id: id.clone(),
        }
    }

    /// A fleet-wide profile.
    pub fn profile(name: &Token) -> Self {
        Self {
            kind: AggregateKind::Profile,
            scope: Scope::All,
            id: name.clone(),
        }
    }

    /// A fleet-wide app.
    pub fn app(name: &Token) -> Self {
        Self {
            kind: AggregateKind::App,
            scope: Scope::All,
            id: name.clone(),
        }
    }

    /// A fleet-wide placement.
    pub fn placement(name: &Token) -> Self {
        Self {
            kind: AggregateKind::Placement,
            scope: Scope::All,
            id: name.clone(),
        }
    }

    /// The operator's config entries (hub only).
    pub fn config_entries() -> Self {
        Self {
            kind: AggregateKind::Config,
            scope: Scope::Hub,
            id: Token::new("entries").unwrap_or_else(|_| unreachable!("\"entries\" is a valid token")),
        }
    }

    /// What `site` should hold of the config, and holds.
    pub fn config_resolved(site: &Token) -> Self {
        Self {
            kind: AggregateKind::Config,
            scope: Scope::Site(site.clone()),
            id: Token::new("resolved").unwrap_or_else(|_| unreachable!("\"resolved\" is a valid token")),
        }
    }

    /// Parses `KIND/SCOPE/ID`, the form used by logs and the CLI.
    pub fn parse(s: &str) -> Result<Self, AggregateRefError> {
        let mut parts = s.split('/');
        let (Some(kind), Some(scope), Some(id), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(AggregateRefError::Shape(s.to_string()));
        };
        let kind = AggregateKind::parse(kind).ok_or_else(|| AggregateRefError::Kind(kind.to_string()))?;
        let scope = match scope {
            "all" => Scope::All,
            "hub" => Scope::Hub,
            site => Scope::Site(Token::new(site)?),
        };
        Ok(Self {
            kind,
            scope,
            id: Token::new(id)?,
        })
    }
}

impl fmt::Display for AggregateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.scope, self.id)
    }
}

/// Why a string is not an aggregate reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateRefError {
    /// Not three `/`-separated parts.
    #[error("aggregate reference {0:?} must look like KIND/SCOPE/ID, e.g. node/store-1/n1")]
    Shape(String),
    /// Unknown kind.
    #[error("unknown aggregate kind {0:?}: expected node, site, cluster, profile, rollout, app, placement or config")]
    Kind(String),
    /// Bad scope or id token.
    #[error(transparent)]
    Token(#[from] TokenError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_display() {
        let r = AggregateRef::parse("node/store-1/n1").expect("valid ref");
        assert_eq!(r.to_string(), "node/store-1/n1");
        assert_eq!(AggregateRef::parse("profile/all/pos").map(|r| r.scope), Ok(Scope::All));
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(AggregateRef::parse("node/n1").is_err());
        assert!(AggregateRef::parse("ship/a/b").is_err());
        assert!(AggregateRef::parse("node/a.b/c").is_err());
    }
}
