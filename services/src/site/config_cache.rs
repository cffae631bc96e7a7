//! The site's copy of the central config, for local applications: the KV bucket `ef-config` on the site's own NATS
//! (read key by key by nodes and local readers, `fleet_trust::node_permissions`). Each pass, the bucket is made equal
//! to what the site's intent copy resolves for it (`config/<site>/resolved`) minus the entries that expired by the
//! site's own clock — so a site cut off from the hub still drops them on time — and the revision it then holds is
//! recorded (`ConfigHeld`) for the hub to see. A planner over the projection and the bucket: nothing is remembered
//! between passes, and a restarted site (or a recreated bucket) converges again from the log.

use crate::registries::{dispatch, Registries};
use actors::config::ConfigCommand;
use async_nats::jetstream::{self, kv};
use events::{AggregateRef, Token};
use futures::StreamExt;
use replay::Projection;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the bucket is checked against the log (expiry is at most this late).
const PASS: Duration = Duration::from_secs(1);

/// Keeps the bucket in step with the log until the task is aborted.
pub async fn run(site: Token, js: jetstream::Context, projection: Arc<Projection>, registries: Registries) {
    let mut warned = false;
    loop {
        match pass(&site, &js, &projection, &registries).await {
            Ok(()) => warned = false,
            Err(e) if !warned => {
                tracing::warn!(%site, error = %e, "the config bucket is not in step yet; trying again");
                warned = true;
            }
            Err(e) => tracing::debug!(%site, error = %e, "the config bucket is still not in step"),
        }
        tokio::time::sleep(PASS).await;
    }
}

/// The bucket, created if missing.
async fn bucket(js: &jetstream::Context) -> anyhow::Result<kv::Store> {
    if let Ok(store) = js.get_key_value(fleet_trust::CONFIG_BUCKET).await {
        return Ok(store);
    }
    Ok(js
        .create_key_value(kv::Config {
            bucket: fleet_trust::CONFIG_BUCKET.to_owned(),
            description: "central config for this site's local applications (edgefleet config)".into(),
            history: 1,
            max_value_size: (actors::config::VALUE_MAX_BYTES + 1024) as i32,
            ..Default::default()
        })
        .await?)
}

async fn pass(
    site: &Token,
    js: &jetstream::Context,
    projection: &Projection,
    registries: &Registries,
) -> anyhow::Result<()> {
    let aggregate = AggregateRef::config_resolved(site);
    let Some((revision, resolved, held)) = projection.read(|fleet| {
        fleet
            .config(&aggregate)
            .map(|c| (c.revision, c.resolved.clone(), c.held))
    }) else {
        return Ok(()); // nothing resolved for this site yet
    };
    let now = actors::process_clock::system_wall_ms();
    let wanted: BTreeMap<String, String> = resolved
        .into_iter()
        .filter(|(_, r)| r.value.expires_at_ms.is_none_or(|at| at > now))
        .map(|(key, r)| (key, r.value.value))
        .collect();
    let store = bucket(js).await?;
    let mut held_now = BTreeMap::new();
    let mut keys = store.keys().await?;
    while let Some(key) = keys.next().await {
        let key = key?;
        if let Some(value) = store.get(&key).await? {
            held_now.insert(key, value);
        }
    }
    for key in held_now.keys().filter(|k| !wanted.contains_key(*k)) {
        store.purge(key).await?;
    }
    for (key, value) in &wanted {
        if held_now.get(key).map(|v| v.as_ref()) != Some(value.as_bytes()) {
            store.put(key, value.clone().into_bytes().into()).await?;
        }
    }
    if held != Some(revision) {
        dispatch(
            &registries.configs,
            aggregate,
            ConfigCommand::ReportHeld(revision),
            "controller",
        )
        .await?;
        tracing::info!(%site, revision, keys = wanted.len(), "config revision held");
    }
    Ok(())
}
