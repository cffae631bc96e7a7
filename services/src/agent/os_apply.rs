//! Applying the OS image the site controller hands out: fetch it from the site's image replica (never over the
//! WAN), verify and write it to the inactive slot, boot it through the boot selector, run the health check, and
//! keep it or fall back (`node_agent::OsUpdate`). What the node runs is kept beside the disk image.

use crate::agent_protocol::{AgentOs, OsTarget};
use anyhow::Context;
use events::node::{OsUpdateFailure, RootSlot};
use node_agent::{ensure_disk_image, BootSlots, DiskLayout, OsUpdate, UpdateOutcome, UpdateTarget};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the node runs, persisted in `<disk>.os.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OsState {
    /// Version installed by the last successful update (`None`: the bootstrap image).
    pub version: Option<String>,
    /// The last attempt that was rolled back.
    #[serde(default)]
    pub failure: Option<OsUpdateFailure>,
    /// The same as written by earlier agents, `(version, reason)`; read once and moved to `failure`.
    #[serde(default, skip_serializing)]
    rolled_back: Option<(String, String)>,
}

impl OsState {
    fn path(disk: &Path) -> PathBuf {
        PathBuf::from(format!("{}.os.json", disk.display()))
    }

    /// Loads the state beside `disk` (missing: nothing installed yet).
    pub fn load(disk: &Path) -> Self {
        let mut state: Self = std::fs::read(Self::path(disk))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        if let (None, Some((attempted, reason))) = (&state.failure, state.rolled_back.take()) {
            state.failure = Some(OsUpdateFailure { attempted, reason });
        }
        state
    }

    fn rolled_back(&mut self, attempted: &str, reason: String) {
        self.failure = Some(OsUpdateFailure {
            attempted: attempted.to_string(),
            reason,
        });
    }

    fn save(&self, disk: &Path) -> anyhow::Result<()> {
        let path = Self::path(disk);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    /// The report sent with each heartbeat.
    pub fn report(&self, disk: &Path) -> AgentOs {
        let slot = ensure_disk_image(disk, &DiskLayout::default())
            .ok()
            .and_then(|image| BootSlots::load(&image).ok())
            .and_then(|slots| slots.active())
            .map(RootSlot::from);
        AgentOs {
            version: self.version.clone(),
            slot,
            failure: self.failure.clone(),
        }
    }

    /// True if `target` asks for something this node has not done (or refused) yet.
    pub fn wants(&self, target: &OsTarget) -> bool {
        self.version.as_deref() != Some(target.version.as_str())
            && self.failure.as_ref().map(|f| f.attempted.as_str()) != Some(target.version.as_str())
    }
}

/// The health check after booting a new slot. Simulated here: versions listed in
/// `EDGEFLEET_SIMULATE_UNHEALTHY` (comma-separated) fail it, for rollback tests.
fn health_check(version: &str) -> Result<(), String> {
    let unhealthy = std::env::var("EDGEFLEET_SIMULATE_UNHEALTHY").unwrap_or_default();
    if unhealthy.split(',').any(|v| v.trim() == version) {
        return Err(format!("health check failed after booting {version} (simulated)"));
    }
    Ok(())
}

/// Fetches the image (and its signature, if it was signed) from the site's `ef-images` replica, with direct gets
/// only (`image_reader`). An image not there yet, or a server away, is "not at this site (yet)": tried again later.
async fn fetch(js: &async_nats::jetstream::Context, object: &str) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    match super::image_reader::read_image(js, object).await {
        Ok(image) => Ok((image.bytes, image.signature)),
        Err(e) if e.is_worth_retrying_later() => Err(anyhow::anyhow!("image {object} is not at this site (yet): {e}")),
        Err(e) => Err(e.into()),
    }
}

/// The signature check to run: with an image key configured, the image must carry a valid signature.
fn signature_check(image_key: Option<&str>, signature: Option<&str>) -> anyhow::Result<Option<([u8; 32], [u8; 64])>> {
    let Some(key) = image_key else { return Ok(None) };
    let key = node_agent::parse_public_key(key).context("--image-key must be 64 hex characters")?;
    let signature = signature.context("the image is not signed, and this agent accepts only signed images")?;
    let signature = node_agent::parse_signature(signature).context("the image's signature is malformed")?;
    Ok(Some((key, signature)))
}

/// Runs the update to `target`; any failure (missing image, refused digest, failed boot or health check) leaves the
/// node on its current slot and is recorded as a rollback with its reason.
pub async fn apply(
    js: &async_nats::jetstream::Context,
    disk: &Path,
    image_key: Option<&str>,
    state: &mut OsState,
    target: &OsTarget,
) {
    let fetched = fetch(js, &target.object)
        .await
        .and_then(|(image, signature)| Ok((image, signature_check(image_key, signature.as_deref())?)));
    let outcome = match fetched {
        Ok((image, signature)) => {
            let disk = disk.to_path_buf();
            let update = UpdateTarget {
                version: target.version.clone(),
                sha256_hex: target.sha256.clone(),
            };
            tokio::task::spawn_blocking(move || -> anyhow::Result<UpdateOutcome> {
                let mut image_file = ensure_disk_image(&disk, &DiskLayout::default())?;
                let mut slots = BootSlots::load(&image_file)?;
                if slots.initialize_fresh() {
                    slots.write(&mut image_file)?;
                }
                let version = update.version.clone();
                let signature = signature.as_ref().map(|(key, sig)| (key, sig));
                Ok(OsUpdate::run(&mut image_file, &update, &image, signature, |_slot| {
                    health_check(&version)
                })?)
            })
            .await
            .map_err(|e| anyhow::anyhow!("update task: {e}"))
            .and_then(|r| r)
        }
        Err(e) if e.to_string().contains("not at this site") => {
            tracing::info!(object = %target.object, "image not replicated here yet; will retry");
            return;
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(UpdateOutcome::Updated { slot, version }) => {
            println!("OS updated to {version} on {}", slot.partition_name());
            state.version = Some(version);
            state.failure = None;
        }
        Ok(UpdateOutcome::RolledBack { slot, reason }) => {
            println!(
                "OS update to {} rolled back to {}: {reason}",
                target.version,
                slot.partition_name()
            );
            state.rolled_back(&target.version, reason);
        }
        Err(e) => {
            println!("OS update to {} refused: {e:#}", target.version);
            state.rolled_back(&target.version, format!("{e:#}"));
        }
    }
    if let Err(e) = state.save(disk) {
        tracing::error!(error = %e, "could not record the OS state");
    }
}

/// At start: initialise a fresh disk's boot slots (ROOT-A active) and finish an update a crash interrupted.
pub fn prepare(disk: &Path, state: &mut OsState) -> anyhow::Result<()> {
    let mut image = ensure_disk_image(disk, &DiskLayout::default())?;
    let mut slots = BootSlots::load(&image)?;
    if slots.initialize_fresh() {
        slots.write(&mut image)?;
    }
    let pending = OsUpdate::open(&image)?.map(|u| u.record().target_version.clone());
    if let Some(version) = pending {
        let check_version = version.clone();
        match OsUpdate::resume(&mut image, None, None, |_slot| health_check(&check_version)) {
            Ok(Some(UpdateOutcome::Updated { version, .. })) => {
                state.version = Some(version);
                state.failure = None;
            }
            Ok(Some(UpdateOutcome::RolledBack { reason, .. })) => state.rolled_back(&version, reason),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "interrupted update could not be resumed; the controller will retry"),
        }
        state.save(disk)?;
    }
    Ok(())
}
