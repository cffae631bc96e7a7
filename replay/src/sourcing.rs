//! Replication between writer domains by stream sourcing over the leaf connection (DESIGN §2):
//! the hub holds a sourced copy of every site's stream; each site holds a sourced copy of the intents addressed
//! to it and to `all`. Copies keep the origin stream's name, so readers address a stream the same way on both
//! sides. Sources are configured with an explicit `external: { api: "$JS.<domain>.API" }` (DESIGN §7).

use crate::stream_setup::{create_or_update, StreamPolicy, StreamSetupError};
use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::{
    Config, External, PersistenceMode, RetentionPolicy, Source, StorageType, SubjectTransform,
};
use events::{subject, Token};

/// The JetStream domain of the hub.
pub const HUB_DOMAIN: &str = "hub";

fn external_api(domain: &str) -> External {
    External {
        api_prefix: format!("$JS.{domain}.API"),
        delivery_prefix: None,
    }
}

/// How the hub writes its copies of site streams, in words (for figures and logs).
pub const HUB_COPY_DURABILITY: &str = "persist_mode async: acked before it is on disk, no fsync per write";

/// At the hub: `EF_SITE_<site>`, a copy sourced from the site's own stream in JetStream domain `<site>`.
/// Idempotent; sourcing resumes from the last copied sequence whenever the leaf link is up.
///
/// The copy is written with `persist_mode: async` (nats-server ≥ 2.12): no fsync per write, where the intent
/// stream keeps one. A copy can always be copied again: the site keeps its own stream for 90 days, and a source
/// resumes from the last origin sequence found in the copy itself, so whatever a crash takes from the copy's tail
/// is copied again; fsync per write would cap catch-up after a cut at ~3,200 events/s (DESIGN §7). The mode is
/// fixed when a stream is created, so an existing copy keeps the mode it was made with.
pub async fn ensure_hub_copy_of_site(
    js: &Context,
    site: &Token,
    policy: &StreamPolicy,
) -> Result<(), StreamSetupError> {
    let name = subject::site_stream(site);
    let persist_mode = match js.get_stream(&name).await {
        Ok(mut existing) => match existing.info().await {
            Ok(info) => info.config.persist_mode,
            Err(e) => {
                return Err(StreamSetupError::Failed {
                    stream: name,
                    reason: e.to_string(),
                })
            }
        },
        Err(_) => Some(PersistenceMode::Async),
    };
    create_or_update(
        js,
        Config {
            name: name.clone(),
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            duplicate_window: policy.duplicate_window,
            allow_direct: true,
            persist_mode,
            sources: Some(vec![Source {
                name,
                external: Some(external_api(site.as_str())),
                ..Default::default()
            }]),
            ..Default::default()
        },
    )
    .await
}

/// The intents of `site` and of `all`, sourced straight from the hub's JetStream domain: the shape for servers
/// that share one account across the leaf link (tests, benchmarks). A fleet with per-site accounts sources through
/// the site account's imports instead (`fleet_trust::site_intent_sources`).
pub fn intent_sources_from_hub_domain(site: &Token) -> Vec<Source> {
    let transforms = subject::intent_subjects_for_site(site)
        .into_iter()
        .map(|filter| SubjectTransform {
            source: filter.clone(),
            destination: filter,
        })
        .collect();
    vec![Source {
        name: subject::INTENT_STREAM.to_string(),
        external: Some(external_api(HUB_DOMAIN)),
        subject_transforms: transforms,
        ..Default::default()
    }]
}

/// The hub's whole image bucket stream, sourced straight from the hub's JetStream domain (one shared account, as
/// [`intent_sources_from_hub_domain`]).
pub fn image_source_from_hub_domain() -> Source {
    Source {
        name: format!("OBJ_{IMAGE_BUCKET}"),
        external: Some(external_api(HUB_DOMAIN)),
        ..Default::default()
    }
}

/// At a site: `EF_INTENT`, a copy of the hub's intents for this site and for `all`, copied from `sources`.
pub async fn ensure_site_copy_of_intents(
    js: &Context,
    sources: Vec<Source>,
    policy: &StreamPolicy,
) -> Result<(), StreamSetupError> {
    create_or_update(
        js,
        Config {
            name: subject::INTENT_STREAM.to_string(),
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            duplicate_window: policy.duplicate_window,
            allow_direct: true,
            sources: Some(sources),
            ..Default::default()
        },
    )
    .await
}

/// Makes the sourced copy `stream` copy again now: removes its sources and puts them back (DESIGN §7, verified on
/// 2.15.1). A source whose origin was unreachable waits out the server's retry backoff — tens of seconds — before it
/// tries again, and re-applying the same configuration does not reset that wait; removing and re-adding does, and
/// the copy resumes from the source sequence recorded in its own messages, without duplicates. Call it when the
/// link to the origin is known to be back. Returns false if the stream does not exist or has no sources.
pub async fn resume_source(js: &Context, stream: &str) -> Result<bool, StreamSetupError> {
    resume(js, stream, None).await
}

/// As [`resume_source`], putting back `sources` (what the copy should source) rather than what the stream has now:
/// a copy left without its sources by an earlier, interrupted resume gets them back.
pub async fn resume_source_as(js: &Context, stream: &str, sources: Vec<Source>) -> Result<bool, StreamSetupError> {
    resume(js, stream, Some(sources)).await
}

/// How long putting sources back is retried: the server can be briefly unavailable (a config reload), and a copy
/// must not be left without its sources.
const PUT_BACK_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

async fn resume(js: &Context, stream: &str, wanted: Option<Vec<Source>>) -> Result<bool, StreamSetupError> {
    let failed = |e: &dyn std::fmt::Display| StreamSetupError::Failed {
        stream: stream.to_string(),
        reason: e.to_string(),
    };
    let mut handle = match js.get_stream(stream).await {
        Ok(handle) => handle,
        Err(_) => return Ok(false),
    };
    let config = handle.info().await.map_err(|e| failed(&e))?.config.clone();
    let current = config.sources.clone().filter(|s| !s.is_empty());
    let Some(sources) = wanted.or_else(|| current.clone()) else {
        return Ok(false);
    };
    if current.is_some() {
        let without = Config {
            sources: Some(vec![]),
            ..config.clone()
        };
        js.update_stream(&without).await.map_err(|e| failed(&e))?;
    }
    let with = Config {
        sources: Some(sources),
        ..config
    };
    let started = std::time::Instant::now();
    loop {
        match js.update_stream(&with).await {
            Ok(_) => return Ok(true),
            Err(e) if started.elapsed() >= PUT_BACK_WITHIN => return Err(failed(&e)),
            Err(e) => {
                tracing::debug!(stream, error = %e, "sources not put back yet; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
}

/// How far a sourced copy is behind its origin, as the copying server last saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceStatus {
    /// Messages in the copy.
    pub copied_messages: u64,
    /// Messages the source reported as not yet copied (as of its last contact).
    pub lag: u64,
    /// Milliseconds since the source was last active (`None`: never).
    pub active_ms_ago: Option<u64>,
}

/// The status of the sourced copy `stream` on the server behind `js` (`None` if it does not exist yet).
pub async fn source_status(js: &Context, stream: &str) -> Result<Option<SourceStatus>, StreamSetupError> {
    let failed = |reason: String| StreamSetupError::Failed {
        stream: stream.to_string(),
        reason,
    };
    let mut handle = match js.get_stream(stream).await {
        Ok(handle) => handle,
        Err(e) => {
            if let async_nats::jetstream::context::GetStreamErrorKind::JetStream(err) = e.kind() {
                if err.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND {
                    return Ok(None);
                }
            }
            return Err(failed(e.to_string()));
        }
    };
    let info = handle.info().await.map_err(|e| failed(e.to_string()))?;
    let source = info.sources.first();
    Ok(Some(SourceStatus {
        copied_messages: info.state.messages,
        lag: source.map_or(0, |s| s.lag),
        active_ms_ago: source.and_then(|s| s.active).map(|d| d.as_millis() as u64),
    }))
}

/// The object-store bucket holding OS images at the hub; every site holds a sourced replica of the same name.
pub const IMAGE_BUCKET: &str = "ef-images";

/// At the hub: the image bucket (created if missing, with one copy; the hub creates it at start with as many
/// copies as it keeps of the intents).
pub async fn hub_image_store(
    js: &Context,
) -> Result<async_nats::jetstream::object_store::ObjectStore, StreamSetupError> {
    ensure_hub_image_store(js, 1).await
}

/// At the hub: the image bucket, created with `replicas` copies if missing.
pub async fn ensure_hub_image_store(
    js: &Context,
    replicas: usize,
) -> Result<async_nats::jetstream::object_store::ObjectStore, StreamSetupError> {
    let failed = |e: &dyn std::fmt::Display| StreamSetupError::Failed {
        stream: format!("OBJ_{IMAGE_BUCKET}"),
        reason: e.to_string(),
    };
    match js.get_object_store(IMAGE_BUCKET).await {
        Ok(store) => Ok(store),
        Err(_) => js
            .create_object_store(async_nats::jetstream::object_store::Config {
                bucket: IMAGE_BUCKET.to_string(),
                description: Some("edgefleet OS images".into()),
                storage: StorageType::File,
                num_replicas: replicas.max(1),
                ..Default::default()
            })
            .await
            .map_err(|e| failed(&e)),
    }
}

/// At a site: a read-only replica of the hub's image bucket — a stream with the object store's name and *no
/// subjects of its own*, sourcing the hub's bucket stream over the leaf link. (A stream listening on the bucket's
/// subjects would also capture the hub's own publishes, which cross the leaf connection as core NATS messages, and
/// store every chunk twice.) Images arrive at every site ahead of any update window and are read locally.
pub async fn ensure_site_image_replica(
    js: &Context,
    source: Source,
) -> Result<async_nats::jetstream::object_store::ObjectStore, StreamSetupError> {
    let stream_name = format!("OBJ_{IMAGE_BUCKET}");
    let failed = |e: &dyn std::fmt::Display| StreamSetupError::Failed {
        stream: stream_name.clone(),
        reason: e.to_string(),
    };
    create_or_update(
        js,
        Config {
            name: stream_name.clone(),
            description: Some("edgefleet OS images (replica of the hub's bucket)".into()),
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            allow_rollup: true,
            allow_direct: true,
            sources: Some(vec![source]),
            ..Default::default()
        },
    )
    .await?;
    js.get_object_store(IMAGE_BUCKET).await.map_err(|e| failed(&e))
}
