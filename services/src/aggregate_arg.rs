//! Parses the aggregate argument of `history` and `get`.

use anyhow::{bail, Context};
use events::{AggregateKind, AggregateRef, Scope, Token};

/// `KIND/SCOPE/ID`, or `KIND/ID` where the scope follows from the kind (`site/ID`, `profile/NAME`).
pub fn parse_aggregate(arg: &str) -> anyhow::Result<AggregateRef> {
    let parts: Vec<&str> = arg.split('/').collect();
    match parts.as_slice() {
        [_, _, _] => Ok(AggregateRef::parse(arg)?),
        [kind, id] => {
            let kind = AggregateKind::parse(kind)
                .with_context(|| format!("unknown kind {kind:?}: expected node, site, cluster or profile"))?;
            let id = Token::new(*id)?;
            match kind {
                AggregateKind::Site => Ok(AggregateRef::site(&id)),
                AggregateKind::Profile => Ok(AggregateRef {
                    kind,
                    scope: Scope::All,
                    id,
                }),
                _ => bail!("a {kind} lives at a site: write {kind}/SITE/{id}"),
            }
        }
        _ => bail!("{arg:?} is not an aggregate: write KIND/SCOPE/ID (node/store-1/n1) or site/ID or profile/NAME"),
    }
}
