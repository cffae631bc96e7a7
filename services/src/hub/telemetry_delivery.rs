//! Delivering every site's metrics to the `--remote-write` endpoints (DESIGN §11).
//!
//! Shape (DESIGN §10): the state is the cursor bucket (`telemetry::cursor_store`), replicated in JetStream; the
//! loop plans from it and the hub's telemetry copies and writes it back by compare-and-set. Only the holder of the
//! orchestrator lease delivers; a hub that takes the lease over starts from the bucket, so a restart or a
//! take-over neither loses nor re-sends more than the one write whose cursor was not saved yet (and Prometheus
//! stores a resent sample once). Every hub follows the bucket, so `sites ls` shows delivery from any of them.
//! A write to retry is retried with a growing pause (up to [`MAX_PAUSE`]) for as long as the copy holds its
//! batches: never given up.

use super::site_directory::SiteDirectory;
use crate::api_types::views::TelemetryDeliveryView;
use crate::leadership::Leadership;
use events::Token;
use futures::StreamExt;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant};
use telemetry::cursor_store::{record_key, shown, CursorStore, DeliveryRecord};
use url::Url;

/// How often each site's copy is looked at.
const ROUND: Duration = Duration::from_secs(1);
/// The longest pause between retries of an endpoint that does not take writes.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How long one write may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Sites delivered at once.
const SITES_AT_ONCE: usize = 8;

/// Delivery state: the endpoints, the bucket, and what every hub knows of it.
pub struct TelemetryDelivery {
    endpoints: Vec<Url>,
    client: telemetry::HttpClient,
    cursors: Option<CursorStore>,
    /// Site → endpoint key → record, as the bucket holds them (followed by every hub).
    known: RefCell<BTreeMap<String, BTreeMap<String, DeliveryRecord>>>,
}

/// What the delivering hub holds between rounds: each record it wrote and its revision, and when to retry.
#[derive(Default)]
struct Held {
    records: HashMap<String, (DeliveryRecord, Option<u64>)>,
    pause: HashMap<String, (Instant, Duration)>,
}

impl TelemetryDelivery {
    /// Delivery to `endpoints` through `client` (the CAs an `https://` endpoint may be trusted by), with cursors in
    /// `cursors` (`None` on a hub whose bucket could not be opened: it shows nothing and delivers nothing).
    pub fn new(endpoints: Vec<Url>, client: telemetry::HttpClient, cursors: Option<CursorStore>) -> Self {
        Self {
            endpoints,
            client,
            cursors,
            known: RefCell::default(),
        }
    }

    /// The delivery of `site`'s metrics to each endpoint, as the bucket last said.
    pub fn views_of(&self, site: &Token) -> Vec<TelemetryDeliveryView> {
        let known = self.known.borrow();
        let Some(records) = known.get(site.as_str()) else {
            return Vec::new();
        };
        records
            .values()
            .map(|r| TelemetryDeliveryView {
                endpoint: r.endpoint.clone(),
                backlog_batches: r.backlog,
                delivered_samples: r.cursor.delivered_samples,
                refused_samples: r.cursor.refused_samples,
                dropped_at_site: r.cursor.dropped.at_site,
                dropped_at_hub: r.cursor.dropped.at_hub,
                last_hole_unix_ms: (r.cursor.dropped.total() > 0)
                    .then_some((r.cursor.dropped.last_after_ms, r.cursor.dropped.last_before_ms)),
                retrying: r.retrying.clone(),
                updated_unix_ms: r.updated_unix_ms,
            })
            .collect()
    }

    /// Every site's records, as the bucket last said (for `/metrics`).
    pub fn records(&self) -> BTreeMap<String, BTreeMap<String, DeliveryRecord>> {
        self.known.borrow().clone()
    }
}

/// Follows the cursor bucket into what this hub shows, until aborted.
pub async fn follow(delivery: Rc<TelemetryDelivery>) {
    let Some(cursors) = delivery.cursors.clone() else {
        return;
    };
    loop {
        let shown = delivery.clone();
        if let Err(e) = cursors.follow(move |all| *shown.known.borrow_mut() = all).await {
            tracing::warn!(error = %e, "following telemetry delivery; again in 1 s");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Delivers while this hub holds the orchestrator lease, until aborted.
pub async fn deliver(delivery: Rc<TelemetryDelivery>, directory: Rc<SiteDirectory>, leadership: Rc<Leadership>) {
    let Some(cursors) = delivery.cursors.clone() else {
        return;
    };
    if delivery.endpoints.is_empty() {
        return;
    }
    let held = RefCell::new(Held::default());
    loop {
        tokio::time::sleep(ROUND).await;
        if !leadership.holds() {
            // Another hub delivers; what it writes is read again from the bucket on taking over.
            *held.borrow_mut() = Held::default();
            continue;
        }
        let work: Vec<(Token, Url)> = directory
            .sites()
            .into_iter()
            .flat_map(|site| delivery.endpoints.iter().map(move |e| (site.clone(), e.clone())))
            .collect();
        futures::stream::iter(work)
            .for_each_concurrent(SITES_AT_ONCE, |(site, endpoint)| {
                let (directory, cursors, held, client) = (&directory, &cursors, &held, &delivery.client);
                async move {
                    let Some(account) = directory.account(&site) else {
                        return;
                    };
                    deliver_one(&account.js, cursors, held, client, &site, &endpoint).await;
                }
            })
            .await;
    }
}

/// One round for one site and endpoint.
async fn deliver_one(
    js: &async_nats::jetstream::Context,
    cursors: &CursorStore,
    held: &RefCell<Held>,
    client: &telemetry::HttpClient,
    site: &Token,
    endpoint: &Url,
) {
    let key = record_key(site.as_str(), endpoint);
    if held
        .borrow()
        .pause
        .get(&key)
        .is_some_and(|(until, _)| Instant::now() < *until)
    {
        return;
    }
    let cached = held.borrow().records.get(&key).cloned();
    let (mut record, revision) = match cached {
        Some(found) => found,
        None => match cursors.load(&key).await {
            Ok(Some((record, revision))) => (record, Some(revision)),
            Ok(None) => (
                DeliveryRecord {
                    endpoint: shown(endpoint),
                    ..DeliveryRecord::default()
                },
                None,
            ),
            Err(e) => {
                tracing::warn!(%site, error = %e, "telemetry cursor not readable; delivery waits");
                pause(held, &key);
                return;
            }
        },
    };
    let before = record.clone();
    let report = match telemetry::forward_round(js, site, client, endpoint, &mut record.cursor, WRITE_TIMEOUT).await {
        Ok(report) => report,
        Err(e) => {
            tracing::debug!(%site, error = %e, "the site's telemetry copy is not readable now");
            pause(held, &key);
            return;
        }
    };
    record.backlog = report.backlog;
    record.retrying = report.retry.clone();
    match &report.retry {
        Some(reason) => {
            tracing::warn!(%site, endpoint = %shown(endpoint), %reason, "remote write to retry");
            pause(held, &key);
        }
        None => {
            held.borrow_mut().pause.remove(&key);
        }
    }
    if report.undecodable > 0 {
        tracing::warn!(%site, batches = report.undecodable, "telemetry batches skipped: not metric batches");
    }
    if record == before {
        held.borrow_mut().records.insert(key, (record, revision));
        return;
    }
    record.updated_unix_ms = actors::process_clock::system_wall_ms();
    if report.batches > 0 {
        // Delivered, not yet recorded: a crash here re-sends this write after the restart (stored once).
        crate::fault_point::fault_point("telemetry.delivered_before_cursor_saved");
    }
    match cursors.save(&key, &record, revision).await {
        Ok(Some(revision)) => {
            held.borrow_mut().records.insert(key, (record, Some(revision)));
        }
        Ok(None) => {
            // Another hub wrote it (a lease take-over in flight): read it again next round.
            held.borrow_mut().records.remove(&key);
        }
        Err(e) => {
            tracing::warn!(%site, error = %e, "telemetry cursor not saved; read again next round");
            held.borrow_mut().records.remove(&key);
        }
    }
}

/// Waits longer before the next try of `key`: 1 s, doubling up to [`MAX_PAUSE`].
fn pause(held: &RefCell<Held>, key: &str) {
    let mut held = held.borrow_mut();
    let next = held
        .pause
        .get(key)
        .map_or(Duration::from_secs(1), |(_, last)| (*last * 2).min(MAX_PAUSE));
    held.pause.insert(key.to_string(), (Instant::now() + next, next));
}
