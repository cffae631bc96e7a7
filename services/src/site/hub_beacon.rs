//! Tells the hub, once a second over the leaf link, that this site is alive and how far its stream goes — a
//! request the hub answers through its user in the site's account, so the answer is also the site's proof that the
//! link to the hub is up. Each time the link comes (back) up, the site's sourced copies (its intents, the image
//! replica) copy again at once instead of waiting out nats-server's source retry backoff, which grows to tens of
//! seconds while the hub is unreachable (`replay::resume_source`, DESIGN §7). Nothing queues while the link is
//! down.

use super::observer::SiteObserver;
use crate::site_beacon::{beacon_subject, SiteBeacon};
use events::{subject, Token};
use replay::Projection;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the beacons say of the hub link, for `/metrics`.
#[derive(Debug, Default)]
pub struct HubLink {
    /// The hub answered the last beacon.
    pub up: Cell<bool>,
    /// When the hub last answered.
    pub last_answer: Cell<Option<Instant>>,
}

/// How long a beacon waits for the hub's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

/// The site's sourced copies and what each should source.
pub type SourcedCopies = Vec<(String, Vec<async_nats::jetstream::stream::Source>)>;

/// Sends beacons until aborted; resumes the site's sourced `copies` whenever the hub answers again, putting back
/// the sources each should have (a resume cut short must not leave a copy without its sources), and tries again on
/// the next beacon if a resume failed.
pub async fn beacon(
    site: Token,
    observer: Rc<SiteObserver>,
    projection: Arc<Projection>,
    client: async_nats::Client,
    copies: SourcedCopies,
    link: Rc<HubLink>,
) {
    let js = async_nats::jetstream::new(client.clone());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let stream = subject::site_stream(&site);
    let mut up = false;
    loop {
        tick.tick().await;
        let beacon = SiteBeacon {
            site: site.to_string(),
            site_last_seq: projection.high_water(&stream),
            controller_version: env!("CARGO_PKG_VERSION").to_string(),
            unix_ms: actors::process_clock::system_wall_ms(),
            node_heartbeat_ms_ago: observer.heartbeat_ages_ms(),
        };
        let Ok(payload) = serde_json::to_vec(&beacon) else {
            continue;
        };
        let answered = matches!(
            tokio::time::timeout(ANSWER_WITHIN, client.request(beacon_subject(&site), payload.into())).await,
            Ok(Ok(_))
        );
        let mut resumed = true;
        if answered && !up {
            tracing::info!("hub link up: resuming the site's sourced copies");
            for (stream, sources) in &copies {
                if let Err(e) = replay::sourcing::resume_source_as(&js, stream, sources.clone()).await {
                    tracing::warn!(%stream, error = %e, "source not resumed; trying again on the next beacon");
                    resumed = false;
                }
            }
        } else if !answered && up {
            tracing::warn!("hub link down: the site keeps working on its own");
        }
        up = answered && resumed;
        link.up.set(answered);
        if answered {
            link.last_answer.set(Some(Instant::now()));
        }
    }
}
