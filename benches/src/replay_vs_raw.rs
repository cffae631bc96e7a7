//! The JetStream half of the bench: one nats-server, the workload loaded into `EF_SITE_<site>`, then raw reads and
//! replays of that stream alternating, best of each reported with their ratio.

use crate::figures::{count, megabytes, per_second, rate, secs};
use crate::raw_read::{read_all, ReadFigures};
use crate::replay_read::{replay_all, ReplayFigures};
use crate::stream_load::{load, LoadOptions};
use crate::workload::EncodedEvent;
use anyhow::Context as _;
use events::{subject, Token};
use replay::{ensure_site_stream, StreamPolicy};
use std::time::Duration;
use testkit::NatsServer;

/// How to run the JetStream half.
pub struct ReplayBench<'a> {
    /// The site whose stream is loaded.
    pub site: &'a Token,
    /// Each node's subject, indexed like [`EncodedEvent::node`].
    pub subjects: &'a [String],
    /// The events to load.
    pub encoded: &'a [EncodedEvent],
    /// How to load them.
    pub load: LoadOptions,
    /// Rounds of (raw read, replay).
    pub rounds: u32,
}

impl ReplayBench<'_> {
    /// Starts the server, loads the stream, runs the rounds and prints each figure as it is measured.
    pub async fn run(&self) -> anyhow::Result<()> {
        // Not `sync_always`: fsync per write would make loading 1M events take minutes (DESIGN §7: ~7,500 acks/s),
        // and it does not change how fast a stored stream is read back.
        let server = NatsServer::builder("bench")
            .jetstream_domain("hub")
            .start()
            .await
            .context("starting the bench nats-server (run scripts/install-nats-server if it is missing)")?;
        let client = server.connect().await.context("connecting to the bench nats-server")?;
        println!(
            "bench server: nats-server {} on {}, file storage under {}, fsync at the default interval \
             (not sync_always: fsync per write would make the load take minutes; read speed is unaffected)",
            client.server_info().version,
            server.client_url(),
            server.data_dir().display()
        );
        let js = async_nats::jetstream::new(client);
        let stream = subject::site_stream(self.site);
        ensure_site_stream(&js, self.site, &StreamPolicy::default())
            .await
            .with_context(|| format!("creating {stream}"))?;

        let loaded = load(
            &js,
            &stream,
            self.subjects,
            self.site.as_str(),
            self.encoded,
            &self.load,
        )
        .await?;
        println!(
            "load {stream} (async publish, {} acks in flight, {}): {} msgs, {} payload, {} stored, in {} = {} msgs/s",
            count(self.load.acks_in_flight as u64),
            if self.load.msg_id {
                "with Nats-Msg-Id"
            } else {
                "no Nats-Msg-Id"
            },
            count(loaded.messages),
            megabytes(loaded.payload_bytes),
            megabytes(loaded.stored_bytes),
            secs(loaded.elapsed),
            rate(loaded.messages, loaded.elapsed),
        );

        // Generous: a tenth of the raw rate measured on the reference machine, plus start-up.
        let deadline = Duration::from_secs(60) + Duration::from_secs_f64(loaded.messages as f64 / 50_000.0);
        let mut best_raw: Option<ReadFigures> = None;
        let mut best_replay: Option<ReplayFigures> = None;
        for round in 1..=self.rounds {
            let raw = read_all(&js, &stream, deadline).await?;
            let replayed = replay_all(&js, &stream, loaded.messages, deadline).await?;
            println!(
                "  round {round}: raw read {} = {} msgs/s, replay {} = {} events/s",
                secs(raw.elapsed),
                rate(raw.messages, raw.elapsed),
                secs(replayed.elapsed),
                rate(replayed.messages, replayed.elapsed),
            );
            if best_raw.as_ref().is_none_or(|best| raw.elapsed < best.elapsed) {
                best_raw = Some(raw);
            }
            if best_replay.as_ref().is_none_or(|best| replayed.elapsed < best.elapsed) {
                best_replay = Some(replayed);
            }
        }
        let (Some(raw), Some(replayed)) = (best_raw, best_replay) else {
            return Ok(());
        };
        let avg_bytes = raw.payload_bytes / raw.messages.max(1);
        println!(
            "raw ordered-consumer read of {stream} ({} msgs, {avg_bytes} B avg): {} = {} msgs/s  (best of {})",
            count(raw.messages),
            secs(raw.elapsed),
            rate(raw.messages, raw.elapsed),
            self.rounds,
        );
        let ratio = per_second(replayed.messages, replayed.elapsed) / per_second(raw.messages, raw.elapsed);
        println!(
            "replay::rebuild_streams of the same stream ({} aggregates rebuilt): {} = {} events/s  \
             (replay / raw = {ratio:.2}, best of {})",
            count(replayed.aggregates as u64),
            secs(replayed.elapsed),
            rate(replayed.messages, replayed.elapsed),
            self.rounds,
        );
        drop(server);
        Ok(())
    }
}
