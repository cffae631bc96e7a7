//! The GPT of a node image file, through the `gpt` crate: write a fresh image, read a table, rewrite one entry's
//! attribute field.
//!
//! Owns every call into `gpt` so its sharp edges are handled once: it never writes to an existing image except
//! through [`write_attributes`], and never lets a malformed header reach the crate's internal assertions.

use crate::disk_image::{io_error, DiskImageError};
use crate::disk_layout::{DiskLayout, PlannedPartition, SECTOR_BYTES};
use gpt::disk::LogicalBlockSize;
use gpt::mbr::ProtectiveMBR;
use gpt::{GptConfig, GptDisk};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Creates the image at `path` from `planned`: built in a temporary file and hard-linked into place, so a crash
/// never leaves a half-written image at `path` and an image someone else created meanwhile is never replaced
/// (theirs wins; the caller validates whatever is at `path` afterwards).
pub(crate) fn create_image(
    path: &Path,
    layout: &DiskLayout,
    planned: &[PlannedPartition; 3],
) -> Result<(), DiskImageError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        fs::create_dir_all(parent).map_err(|e| io_error(parent, "create the image directory", e))?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.creating", std::process::id()));
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&tmp, "remove a stale temporary image", e)),
    }
    let result = write_fresh_image(&tmp, layout, planned).and_then(|()| match fs::hard_link(&tmp, path) {
        // Someone else created the image meanwhile: theirs wins, and the caller validates it like any other.
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(path, "link the new image into place", e)),
    });
    let _ = fs::remove_file(&tmp);
    result?;
    if let Some(parent) = parent {
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(parent, "sync the image directory", e))?;
    }
    Ok(())
}

fn write_fresh_image(tmp: &Path, layout: &DiskLayout, planned: &[PlannedPartition; 3]) -> Result<(), DiskImageError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|e| io_error(tmp, "create the image", e))?;
    // set_len leaves a sparse file: only the tables and what is written later take space.
    file.set_len(layout.total_bytes)
        .map_err(|e| io_error(tmp, "size the image", e))?;
    let total_sectors = layout.total_bytes / SECTOR_BYTES;
    let protective_sectors = u32::try_from(total_sectors - 1).unwrap_or(u32::MAX);
    ProtectiveMBR::with_lb_size(protective_sectors)
        .overwrite_lba0(&mut file)
        .map_err(|source| DiskImageError::WriteMbr {
            path: tmp.to_path_buf(),
            source,
        })?;

    let write_err = |source| DiskImageError::WriteTable {
        path: tmp.to_path_buf(),
        source,
    };
    let mut disk = GptConfig::new()
        .writable(true)
        .logical_block_size(LogicalBlockSize::Lb512)
        .create_from_device(file, None)
        .map_err(write_err)?;
    for (id, part) in (1u32..).zip(planned.iter()) {
        let added = disk
            .add_partition_at(part.name, id, part.first_lba, part.sectors(), part.part_type.clone(), 0)
            .map_err(write_err)?;
        debug_assert_eq!(added, id);
    }
    let file = disk.write().map_err(write_err)?;
    file.sync_all().map_err(|e| io_error(tmp, "sync the new image", e))
}

/// Opens the GPT of `path` read-only; anything the reader rejects is [`DiskImageError::NotGpt`].
pub(crate) fn read_table(path: &Path) -> Result<GptDisk<File>, DiskImageError> {
    let mut file = File::open(path).map_err(|e| io_error(path, "open the image", e))?;
    guard_entry_size(path, &mut file)?;
    GptConfig::new()
        .writable(false)
        .logical_block_size(LogicalBlockSize::Lb512)
        .open_from_device(file)
        .map_err(|e| DiskImageError::NotGpt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// The gpt crate asserts (panics) on an entry size other than 128 in a header with a valid CRC. Reject such a
/// header first so a hostile or exotic image is a typed error, not a crash.
fn guard_entry_size(path: &Path, file: &mut File) -> Result<(), DiskImageError> {
    let len = file
        .metadata()
        .map_err(|e| io_error(path, "inspect the image", e))?
        .len();
    let backup_offset = (len / SECTOR_BYTES).saturating_sub(1) * SECTOR_BYTES;
    for offset in [SECTOR_BYTES, backup_offset] {
        let mut header = [0u8; 92];
        let read = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut header));
        if read.is_err() || &header[..8] != b"EFI PART" {
            continue; // The GPT reader reports missing or short headers itself.
        }
        let entry_size = u32::from_le_bytes([header[84], header[85], header[86], header[87]]);
        if entry_size != 128 {
            let reason = format!("GPT header at byte {offset} has {entry_size}-byte entries; only 128 is supported");
            return Err(DiskImageError::NotGpt {
                path: path.to_path_buf(),
                reason,
            });
        }
    }
    file.rewind().map_err(|e| io_error(path, "read the image", e))?;
    Ok(())
}

/// Replaces the attribute field of the entry named `name` and writes the primary and backup entry arrays and
/// headers (with their CRCs), then fsyncs. Returns `false`, writing nothing, if no entry has that name.
pub(crate) fn write_attributes(path: &Path, name: &str, bits: u64) -> Result<bool, DiskImageError> {
    // Fail on a table that no longer reads cleanly (including the entry-size guard) before opening for writing.
    drop(read_table(path)?);
    let write_err = |source| DiskImageError::WriteTable {
        path: path.to_path_buf(),
        source,
    };
    let mut disk = GptConfig::new()
        .writable(true)
        .logical_block_size(LogicalBlockSize::Lb512)
        .open(path)
        .map_err(write_err)?;
    let mut entries = disk.take_partitions();
    let Some(entry) = entries.values_mut().find(|p| p.is_used() && p.name == name) else {
        return Ok(false);
    };
    entry.flags = bits;
    disk.update_partitions(entries).map_err(write_err)?;
    // GptConfig::open installs an fsync that `write` runs after both tables and headers are written.
    disk.write().map_err(write_err)?;
    Ok(true)
}
