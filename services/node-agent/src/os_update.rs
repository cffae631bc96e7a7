//! The node OS update as a fixed sequence of resumable steps, in the style of Bottlerocket's `updog`:
//! verify → clear inactive → write image → arm the inactive slot (one try) → reboot through the boot selector →
//! health check → mark successful, or cancel and reboot into the previous slot.
//!
//! Each step reached is persisted in `<disk>.update.json` next to the image before the next one starts, so an agent
//! that dies mid-update picks up where it stopped ([`OsUpdate::resume`]). Every step is safe to redo: it is derived
//! from the recorded slot the update started from, not from whatever the boot bits say after a crash.
//! This module writes only the inactive root partition, the two root slots' boot bits and its own state file; it
//! must never write `DATA`, and never writes anything before the image has been verified.

use crate::boot_slots::{BootSlots, BootSlotsError, Slot};
use crate::disk_image::{DiskImage, DiskImageError};
use crate::image_verify::{check_digest_format, verify_image, ImageVerifyError};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What to install: the release's version and the sha256 its announcement carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateTarget {
    /// Version string of the OS image, recorded and reported back.
    pub version: String,
    /// sha256 of the image, 64 lower-case hex digits.
    pub sha256_hex: String,
}

/// The last step an update completed; persisted, so it is where a resumed update continues from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStep {
    /// The image was verified; nothing on the disk has changed yet.
    Verified,
    /// The inactive slot's boot bits were cleared, so nothing boots it while it is written.
    InactiveCleared,
    /// The image bytes are in the inactive root partition.
    ImageWritten,
    /// The inactive slot is armed to boot next, with one try.
    Upgraded,
    /// The node rebooted through the boot selector; `booted_slot` says into which slot.
    Booted,
    /// The new slot did not come up healthy; what is left is to roll back.
    HealthCheckFailed {
        /// Why, as reported to the fleet.
        reason: String,
    },
}

/// Contents of the state file `<disk>.update.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRecord {
    /// Version being installed.
    pub target_version: String,
    /// Expected sha256 of the image, lower-case hex.
    pub sha256: String,
    /// The slot the node ran when the update started: its known-good fallback.
    pub from_slot: Slot,
    /// Last step completed.
    pub step: UpdateStep,
    /// The slot the simulated reboot chose, once the update has rebooted.
    pub booted_slot: Option<Slot>,
}

/// How a finished update left the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The new image booted, passed its health check and is now the active, successful slot.
    Updated {
        /// The slot now running the new image.
        slot: Slot,
        /// The version installed.
        version: String,
    },
    /// The new image did not come up healthy; the node is back on its previous slot.
    RolledBack {
        /// The slot the node runs again.
        slot: Slot,
        /// Why the update was abandoned.
        reason: String,
    },
}

/// What can stop an update; the node stays bootable in every case.
#[derive(Debug, thiserror::Error)]
pub enum OsUpdateError {
    /// The image failed verification; nothing was written and the node stays on its current slot.
    #[error("OS image refused, nothing was written and the node stays on its current slot: {0}")]
    Verify(#[from] ImageVerifyError),
    /// The image does not fit in a root slot.
    #[error(
        "OS image is {image_bytes} bytes but {slot} holds {slot_bytes}; nothing was written — \
         rebuild the image smaller or grow root_slot_bytes"
    )]
    ImageTooLarge {
        /// Size of the image.
        image_bytes: u64,
        /// The slot it was meant for.
        slot: Slot,
        /// Size of that slot.
        slot_bytes: u64,
    },
    /// No slot is bootable: a fresh image nobody initialised, or a rollback that found nothing to boot.
    #[error(
        "no root slot of {path} is bootable; a new image needs BootSlots::initialize_fresh at agent start, \
         otherwise the node needs reinstalling"
    )]
    Unbootable {
        /// The disk image.
        path: PathBuf,
    },
    /// A boot-slot rule refused a change.
    #[error(transparent)]
    BootSlots(#[from] BootSlotsError),
    /// The disk image could not be read or written.
    #[error(transparent)]
    Disk(#[from] DiskImageError),
    /// An update is already recorded for this disk.
    #[error("an update to {version} is already in progress ({path}); resume it instead of starting another")]
    AlreadyInProgress {
        /// The state file.
        path: PathBuf,
        /// The version it is installing.
        version: String,
    },
    /// A resumed update has to (re)write the image but was given no bytes.
    #[error("resuming the update to {version} needs the image bytes again (step reached: {step:?}); fetch the image")]
    ImageNeeded {
        /// The version being installed.
        version: String,
        /// Where the update stopped.
        step: UpdateStep,
    },
    /// The rollback reboot did not come back to the previous slot.
    #[error("rolling back to {expected} booted {booted:?} instead; inspect the boot bits with `sgdisk -A 1:show`")]
    RollbackFailed {
        /// The slot the update started from.
        expected: Slot,
        /// What the boot selector chose.
        booted: Option<Slot>,
    },
    /// The state file could not be read, written or removed.
    #[error("update state file {path}: could not {action}: {source}; check the directory is writable")]
    StateIo {
        /// The state file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The state file holds something this agent cannot trust.
    #[error("update state file {path} is not valid ({reason}); inspect it — removing it abandons the update")]
    StateCorrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// One OS update in progress on one disk image, with its persisted record.
#[derive(Debug)]
pub struct OsUpdate {
    state_path: PathBuf,
    record: UpdateRecord,
}

impl OsUpdate {
    /// Where the state file of `disk` lives: the image path with `.update.json` appended.
    pub fn state_path(disk: &DiskImage) -> PathBuf {
        let mut path = disk.path().as_os_str().to_owned();
        path.push(".update.json");
        PathBuf::from(path)
    }

    /// Installs `image` (verified against `target` and `signature`, see [`verify_image`]) into the inactive slot
    /// and runs the whole sequence; returns once the node is updated or rolled back.
    pub fn run(
        disk: &mut DiskImage,
        target: &UpdateTarget,
        image: &[u8],
        signature: Option<(&[u8; 32], &[u8; 64])>,
        health_check: impl FnMut(Slot) -> Result<(), String>,
    ) -> Result<UpdateOutcome, OsUpdateError> {
        let update = OsUpdate::start(disk, target, image, signature)?;
        update.finish(disk, Some(image), signature, health_check)
    }

    /// Continues the update recorded next to `disk`, if any (call it at agent start). `image` is needed only if
    /// the update stopped before the image was written; it is verified again before being written.
    pub fn resume(
        disk: &mut DiskImage,
        image: Option<&[u8]>,
        signature: Option<(&[u8; 32], &[u8; 64])>,
        health_check: impl FnMut(Slot) -> Result<(), String>,
    ) -> Result<Option<UpdateOutcome>, OsUpdateError> {
        match OsUpdate::open(disk)? {
            Some(update) => update.finish(disk, image, signature, health_check).map(Some),
            None => Ok(None),
        }
    }

    /// The first step: verifies the image and its fit, checks the node runs a known-good slot, and records the
    /// update. Nothing on the disk is written.
    pub fn start(
        disk: &DiskImage,
        target: &UpdateTarget,
        image: &[u8],
        signature: Option<(&[u8; 32], &[u8; 64])>,
    ) -> Result<OsUpdate, OsUpdateError> {
        if let Some(pending) = OsUpdate::open(disk)? {
            return Err(OsUpdateError::AlreadyInProgress {
                path: pending.state_path,
                version: pending.record.target_version,
            });
        }
        verify_image(image, &target.sha256_hex, signature)?;
        let slots = BootSlots::load(disk)?;
        let from = slots.active().ok_or_else(|| unbootable(disk))?;
        // An update from a slot that never booted successfully would overwrite the only known-good one.
        let mut probe = slots;
        probe.clear_inactive(from)?;
        check_fits(disk, from.other(), image)?;
        let update = OsUpdate {
            state_path: OsUpdate::state_path(disk),
            record: UpdateRecord {
                target_version: target.version.clone(),
                sha256: target.sha256_hex.clone(),
                from_slot: from,
                step: UpdateStep::Verified,
                booted_slot: None,
            },
        };
        update.persist()?;
        Ok(update)
    }

    /// The update recorded next to `disk`, or `None` when there is no state file.
    pub fn open(disk: &DiskImage) -> Result<Option<OsUpdate>, OsUpdateError> {
        let state_path = OsUpdate::state_path(disk);
        let bytes = match fs::read(&state_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(state_io(&state_path, "read it", source)),
        };
        let corrupt = |reason: String| OsUpdateError::StateCorrupt {
            path: state_path.clone(),
            reason,
        };
        let record: UpdateRecord = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        check_digest_format(&record.sha256).map_err(|e| corrupt(e.to_string()))?;
        if record.step == UpdateStep::Booted && record.booted_slot.is_none() {
            return Err(corrupt("step is booted but no booted_slot is recorded".to_string()));
        }
        Ok(Some(OsUpdate { state_path, record }))
    }

    /// The persisted record: version, digest, slot started from, step reached.
    pub fn record(&self) -> &UpdateRecord {
        &self.record
    }

    /// Runs the remaining steps to the end.
    pub fn finish(
        mut self,
        disk: &mut DiskImage,
        image: Option<&[u8]>,
        signature: Option<(&[u8; 32], &[u8; 64])>,
        mut health_check: impl FnMut(Slot) -> Result<(), String>,
    ) -> Result<UpdateOutcome, OsUpdateError> {
        loop {
            if let Some(outcome) = self.advance(disk, image, signature, &mut health_check)? {
                return Ok(outcome);
            }
        }
    }

    /// Runs exactly one step and persists its completion; `Some` once the update is finished (the state file is
    /// then gone). Lets the agent report progress between steps, and tests stop at any step as a crash would.
    pub fn advance(
        &mut self,
        disk: &mut DiskImage,
        image: Option<&[u8]>,
        signature: Option<(&[u8; 32], &[u8; 64])>,
        health_check: &mut impl FnMut(Slot) -> Result<(), String>,
    ) -> Result<Option<UpdateOutcome>, OsUpdateError> {
        let from = self.record.from_slot;
        let target = from.other();
        let next = match &self.record.step {
            UpdateStep::Verified => {
                let mut slots = BootSlots::load(disk)?;
                slots.clear_inactive(from)?;
                slots.write(disk)?;
                UpdateStep::InactiveCleared
            }
            UpdateStep::InactiveCleared => {
                let image = image.ok_or_else(|| OsUpdateError::ImageNeeded {
                    version: self.record.target_version.clone(),
                    step: self.record.step.clone(),
                })?;
                // The bytes written are always bytes verified in this same call, even when resuming.
                verify_image(image, &self.record.sha256, signature)?;
                check_fits(disk, target, image)?;
                disk.write_partition(target.partition_name(), 0, image)?;
                UpdateStep::ImageWritten
            }
            UpdateStep::ImageWritten => {
                let mut slots = BootSlots::load(disk)?;
                // Clearing again makes this step redoable after a crash that already armed the slot.
                slots.clear_inactive(from)?;
                slots.upgrade_to_inactive(from)?;
                slots.write(disk)?;
                UpdateStep::Upgraded
            }
            UpdateStep::Upgraded => {
                let mut slots = BootSlots::load(disk)?;
                let booted = slots.boot().ok_or_else(|| unbootable(disk))?;
                slots.write(disk)?;
                self.record.booted_slot = Some(booted);
                UpdateStep::Booted
            }
            UpdateStep::Booted => match self.record.booted_slot {
                Some(booted) if booted != target => UpdateStep::HealthCheckFailed {
                    reason: format!("the node booted {booted} instead of {target}: the new image did not come up"),
                },
                _ => match health_check(target) {
                    Ok(()) => {
                        let mut slots = BootSlots::load(disk)?;
                        slots.mark_successful(target);
                        slots.write(disk)?;
                        debug_assert_eq!(slots.active(), Some(target));
                        self.remove_state()?;
                        let version = self.record.target_version.clone();
                        return Ok(Some(UpdateOutcome::Updated { slot: target, version }));
                    }
                    Err(reason) => UpdateStep::HealthCheckFailed {
                        reason: format!("health check failed on {target}: {reason}"),
                    },
                },
            },
            UpdateStep::HealthCheckFailed { reason } => {
                let reason = reason.clone();
                let mut slots = BootSlots::load(disk)?;
                slots.cancel_upgrade(from)?;
                let booted = slots.boot();
                slots.write(disk)?;
                if booted != Some(from) {
                    return Err(OsUpdateError::RollbackFailed { expected: from, booted });
                }
                self.remove_state()?;
                return Ok(Some(UpdateOutcome::RolledBack { slot: from, reason }));
            }
        };
        self.record.step = next;
        self.persist()?;
        Ok(None)
    }

    /// Writes the record to a temporary file, syncs it and renames it over the state file.
    fn persist(&self) -> Result<(), OsUpdateError> {
        let path = &self.state_path;
        let json = serde_json::to_vec_pretty(&self.record).map_err(|e| OsUpdateError::StateCorrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        File::create(&tmp)
            .and_then(|mut file| file.write_all(&json).and_then(|()| file.sync_all()))
            .map_err(|e| state_io(&tmp, "write it", e))?;
        fs::rename(&tmp, path).map_err(|e| state_io(path, "move it into place", e))?;
        sync_parent(path)
    }

    fn remove_state(&self) -> Result<(), OsUpdateError> {
        fs::remove_file(&self.state_path).map_err(|e| state_io(&self.state_path, "remove it", e))?;
        sync_parent(&self.state_path)
    }
}

/// Refuses an image larger than the slot it is meant for.
fn check_fits(disk: &DiskImage, slot: Slot, image: &[u8]) -> Result<(), OsUpdateError> {
    let slot_bytes = disk.partition(slot.partition_name())?.size_bytes;
    let image_bytes = image.len() as u64;
    if image_bytes > slot_bytes {
        return Err(OsUpdateError::ImageTooLarge {
            image_bytes,
            slot,
            slot_bytes,
        });
    }
    Ok(())
}

fn sync_parent(path: &Path) -> Result<(), OsUpdateError> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| state_io(parent, "sync its directory", e)),
        None => Ok(()),
    }
}

fn unbootable(disk: &DiskImage) -> OsUpdateError {
    OsUpdateError::Unbootable {
        path: disk.path().to_path_buf(),
    }
}

fn state_io(path: &Path, action: &'static str, source: io::Error) -> OsUpdateError {
    OsUpdateError::StateIo {
        path: path.to_path_buf(),
        action,
        source,
    }
}
