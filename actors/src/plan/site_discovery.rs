//! Who serves a site whose machines all booted the same image (issue 13, DESIGN §12): a pure decision over what a
//! machine heard on its LAN. Machines announce themselves by broadcast; the announcements only give addresses and
//! intentions — trust comes from the site's TLS certificate and the join token, never from what was heard.
//!
//! The rule, in order:
//! 1. a machine that hears the site served joins it there;
//! 2. a machine that hears another bootstrapping it waits for it;
//! 3. nothing else happens before the machine has listened for the settle time;
//! 4. a machine that served the site before (its data dir holds the site's state) serves it again;
//! 5. otherwise the machine with the lowest id among those seeking bootstraps the site and the others wait. Two machines booted at the same instant both hear each other
//!    seeking within the settle time, so exactly one bootstraps (settle ≥ a few announcement periods).
//!
//! What is heard is forgotten after `forget_after_ms`: a seeking machine that died is not waited for, and a lower
//! id that stops announcing hands bootstrapping to the next.

use events::Token;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// What a machine says about itself on the LAN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineIntent {
    /// Looking for its site.
    Seeking,
    /// Starting the site's services (not reachable yet).
    Bootstrapping,
    /// Serving the site's NATS on this port (at the address the announcement came from).
    Serving {
        /// The site NATS client port.
        nats_port: u16,
    },
}

/// One machine heard, with how long ago.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeardMachine {
    /// Its node id.
    pub node: Token,
    /// What it said last.
    pub intent: MachineIntent,
    /// Where its announcement came from (its NATS address for `Serving`).
    pub from: SocketAddr,
    /// Milliseconds since it was last heard.
    pub heard_ms_ago: u64,
}

/// Everything the decision looks at.
#[derive(Clone, Debug)]
pub struct DiscoveryInputs<'a> {
    /// This machine.
    pub me: &'a Token,
    /// Its data dir holds the site's state: it served the site before.
    pub served_before: bool,
    /// Milliseconds since this machine started listening.
    pub listening_ms: u64,
    /// Listen this long before bootstrapping.
    pub settle_ms: u64,
    /// A machine not heard for this long is forgotten.
    pub forget_after_ms: u64,
    /// The machines of this site heard (never this machine itself).
    pub heard: &'a [HeardMachine],
}

/// What the machine does now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscoveryStep {
    /// Keep listening.
    Wait {
        /// Why, for the machine's log.
        reason: String,
    },
    /// Start the site's services here.
    Serve,
    /// Join the site at these NATS addresses (lowest node id first).
    Join {
        /// The site's NATS servers.
        servers: Vec<SocketAddr>,
    },
}

/// Decides this machine's next step; deterministic for the same inputs.
pub fn plan_discovery(inputs: &DiscoveryInputs<'_>) -> DiscoveryStep {
    let mut live: Vec<&HeardMachine> = inputs
        .heard
        .iter()
        .filter(|m| m.heard_ms_ago < inputs.forget_after_ms && &m.node != inputs.me)
        .collect();
    live.sort_by(|a, b| a.node.cmp(&b.node));
    let servers: Vec<SocketAddr> = live
        .iter()
        .filter_map(|m| match m.intent {
            MachineIntent::Serving { nats_port } => Some(SocketAddr::new(m.from.ip(), nats_port)),
            _ => None,
        })
        .collect();
    if !servers.is_empty() {
        return DiscoveryStep::Join { servers };
    }
    if let Some(other) = live.iter().find(|m| m.intent == MachineIntent::Bootstrapping) {
        return DiscoveryStep::Wait {
            reason: format!("{} is bootstrapping the site", other.node),
        };
    }
    if inputs.listening_ms < inputs.settle_ms {
        return DiscoveryStep::Wait {
            reason: format!(
                "listening for the site ({} of {} ms)",
                inputs.listening_ms, inputs.settle_ms
            ),
        };
    }
    if inputs.served_before {
        return DiscoveryStep::Serve;
    }
    match live
        .iter()
        .find(|m| m.intent == MachineIntent::Seeking && m.node < *inputs.me)
    {
        Some(lower) => DiscoveryStep::Wait {
            reason: format!(
                "{} has the lowest id of the machines seeking the site: it bootstraps",
                lower.node
            ),
        },
        None => DiscoveryStep::Serve,
    }
}
