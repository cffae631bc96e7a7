//! The machines of a site on its LAN: each announces itself by UDP broadcast every [`ANNOUNCE_EVERY`] on the site
//! image's discovery port, and keeps what it hears from the machines of its own site. What is heard gives
//! addresses and intentions only: trust comes from the site's certificate and join token. Datagrams that are not
//! an announcement of this site (another site, another program, garbage) are ignored, never fatal.

use actors::plan::{HeardMachine, MachineIntent};
use events::Token;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// How often a machine announces itself.
pub const ANNOUNCE_EVERY: Duration = Duration::from_millis(500);
/// Announcements are small; anything longer is not one.
const MAX_DATAGRAM: usize = 512;
/// The announcement format's version.
const VERSION: u8 = 1;

/// One announcement, as sent (JSON: readable with tcpdump).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Announcement {
    v: u8,
    site: String,
    node: String,
    intent: MachineIntent,
}

/// This machine on the LAN: what it says, and what it heard.
pub struct LanDiscovery {
    socket: UdpSocket,
    site: Token,
    me: Token,
    target: SocketAddr,
    intent: RefCell<Option<MachineIntent>>,
    heard: RefCell<BTreeMap<Token, (MachineIntent, SocketAddr, Instant)>>,
}

impl LanDiscovery {
    /// Listens on `port` (all addresses) and announces to `broadcast:port`.
    pub async fn bind(site: Token, me: Token, port: u16, broadcast: Ipv4Addr) -> std::io::Result<Self> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).await?;
        socket.set_broadcast(true)?;
        Ok(Self {
            socket,
            site,
            me,
            target: SocketAddr::from((broadcast, port)),
            intent: RefCell::new(Some(MachineIntent::Seeking)),
            heard: RefCell::new(BTreeMap::new()),
        })
    }

    /// Says `intent` from the next announcement on (at once); `None`: stops announcing.
    pub async fn say(&self, intent: Option<MachineIntent>) {
        *self.intent.borrow_mut() = intent;
        self.announce().await;
    }

    /// The machines of this site heard, with how long ago.
    pub fn heard(&self) -> Vec<HeardMachine> {
        self.heard
            .borrow()
            .iter()
            .map(|(node, (intent, from, at))| HeardMachine {
                node: node.clone(),
                intent: intent.clone(),
                from: *from,
                heard_ms_ago: at.elapsed().as_millis() as u64,
            })
            .collect()
    }

    /// Announces every [`ANNOUNCE_EVERY`] and listens, until dropped.
    pub async fn run(&self) {
        let mut tick = tokio::time::interval(ANNOUNCE_EVERY);
        let mut buffer = [0u8; MAX_DATAGRAM + 1];
        loop {
            tokio::select! {
                _ = tick.tick() => self.announce().await,
                received = self.socket.recv_from(&mut buffer) => match received {
                    Ok((len, from)) => self.take(&buffer[..len], from),
                    Err(e) => {
                        tracing::debug!(error = %e, "a discovery datagram could not be received");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
    }

    async fn announce(&self) {
        let Some(intent) = self.intent.borrow().clone() else {
            return;
        };
        let announcement = Announcement {
            v: VERSION,
            site: self.site.to_string(),
            node: self.me.to_string(),
            intent,
        };
        let Ok(bytes) = serde_json::to_vec(&announcement) else {
            return;
        };
        if let Err(e) = self.socket.send_to(&bytes, self.target).await {
            tracing::debug!(error = %e, target = %self.target, "an announcement could not be sent");
        }
    }

    fn take(&self, datagram: &[u8], from: SocketAddr) {
        match parse(datagram, &self.site) {
            Ok(Some((node, intent))) if node != self.me => {
                self.heard.borrow_mut().insert(node, (intent, from, Instant::now()));
            }
            Ok(_) => {}
            Err(reason) => tracing::debug!(%from, reason, "a datagram on the discovery port was ignored"),
        }
    }
}

/// The machine and intent `datagram` announces for `site`; `Ok(None)`: another site's announcement.
fn parse(datagram: &[u8], site: &Token) -> Result<Option<(Token, MachineIntent)>, String> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(format!("{} bytes: longer than an announcement", datagram.len()));
    }
    let announcement: Announcement = serde_json::from_slice(datagram).map_err(|e| e.to_string())?;
    if announcement.v != VERSION {
        return Err(format!(
            "announcement version {} (this machine speaks {VERSION})",
            announcement.v
        ));
    }
    if announcement.site != site.as_str() {
        return Ok(None);
    }
    let node = Token::new(announcement.node).map_err(|e| e.to_string())?;
    Ok(Some((node, announcement.intent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Token {
        Token::new("store-1").expect("token")
    }

    #[test]
    fn an_announcement_of_this_site_is_taken_and_others_are_not() {
        let ours = br#"{"v":1,"site":"store-1","node":"m2","intent":{"serving":{"nats_port":4222}}}"#;
        let (node, intent) = parse(ours, &site()).expect("parses").expect("ours");
        assert_eq!(
            (node.as_str(), intent),
            ("m2", MachineIntent::Serving { nats_port: 4222 })
        );
        let theirs = br#"{"v":1,"site":"store-2","node":"m2","intent":"seeking"}"#;
        assert_eq!(parse(theirs, &site()), Ok(None));
    }

    #[test]
    fn garbage_unknown_versions_bad_ids_and_oversized_datagrams_are_refused_with_a_reason() {
        assert!(parse(b"\x00\xff not json", &site()).is_err());
        let future = br#"{"v":2,"site":"store-1","node":"m2","intent":"seeking"}"#;
        assert!(parse(future, &site()).expect_err("refused").contains("version 2"));
        let bad_id = br#"{"v":1,"site":"store-1","node":"M 2","intent":"seeking"}"#;
        assert!(parse(bad_id, &site()).is_err());
        assert!(parse(&[b' '; MAX_DATAGRAM + 1], &site()).is_err());
    }
}
