//! Who wrote an event: the hub or one site. Each side writes only its own streams (DESIGN §2).

use crate::token::Token;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The writer of an event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Origin {
    /// The hub (JetStream domain `hub`): intents.
    Hub,
    /// A site (JetStream domain = site id): observations and local decisions.
    Site(Token),
}

impl Origin {
    /// The writer domain this origin belongs to.
    pub fn writer(&self) -> Writer {
        match self {
            Origin::Hub => Writer::Hub,
            Origin::Site(_) => Writer::Site,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Hub => f.write_str("hub"),
            Origin::Site(site) => write!(f, "site:{site}"),
        }
    }
}

/// Which side of a link may write an event variant: the spec (hub) or the status (site).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Writer {
    /// Intent, written by the hub.
    Hub,
    /// Observation or local decision, written by a site.
    Site,
}
