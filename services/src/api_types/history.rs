//! `history.list`: an aggregate's events, merged across the hub's and the site's streams, a page at a time — read
//! by the hub, which alone holds every site's copy, so a viewer sees history without touching a stream.

use data_encoding::BASE64;
use events::Envelope;
use serde::{Deserialize, Serialize};

/// Most events in one page.
pub const HISTORY_PAGE: usize = 500;

/// `history.list`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    /// `KIND/SITE/ID` (`node/store-1/n1`) or `KIND/ID` for the fleet-wide kinds (`profile/edge`, `rollout/r1`).
    pub aggregate: String,
    /// Skip the first `from` events.
    #[serde(default)]
    pub from: usize,
}

/// One event of the history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// 1-based position in the merged history.
    pub number: usize,
    /// Stream it was read from.
    pub stream: String,
    /// Sequence in that stream.
    pub seq: u64,
    /// Server time of the append (ms since the epoch).
    pub stored_unix_ms: u64,
    /// The event exactly as the log stores it (versioned postcard envelope), base64: the reader decodes it with
    /// the same decoder as any log reader, and refuses what it cannot read.
    pub envelope: String,
    /// False for every event of a multi-event decision but its last (they share one message).
    #[serde(default = "last_by_default")]
    pub last_in_message: bool,
}

fn last_by_default() -> bool {
    true
}

impl HistoryRecord {
    /// The record of `envelope`.
    pub fn encode_envelope(envelope: &Envelope) -> String {
        BASE64.encode(&events::encode(envelope))
    }

    /// The event, decoded.
    pub fn decode_envelope(&self) -> Result<Envelope, String> {
        let bytes = BASE64
            .decode(self.envelope.as_bytes())
            .map_err(|e| format!("event {} is not base64: {e}", self.number))?;
        events::decode(&bytes).map_err(|e| format!("event {}: {e}", self.number))
    }
}

/// A page of an aggregate's history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryPage {
    /// Events in this page.
    pub events: Vec<HistoryRecord>,
    /// Events in the whole history.
    pub total: usize,
}
