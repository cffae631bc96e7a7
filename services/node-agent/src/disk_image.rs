//! The node's disk as a real GPT image file with `ROOT-A`, `ROOT-B` and `DATA` (see DESIGN.md §5).
//!
//! Owns the image's public API: creating it when missing (sparse file, protective MBR, primary and backup GPT — the
//! GPT plumbing is in `gpt_table`), validating an existing one, raw reads and writes inside one partition, and the
//! 64-bit attribute field of each GPT entry. It must never overwrite
//! an existing image and never interprets the attribute bits: the boot-slot rules layered on top own their meaning.

use crate::disk_layout::{plan, DiskLayout, PlannedPartition, SECTOR_BYTES};
use crate::gpt_table::{create_image, read_table, write_attributes};
use gpt::disk::LogicalBlockSize;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What can go wrong with a node disk image; each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DiskImageError {
    /// The file system refused an operation.
    #[error("disk image {path}: could not {action}: {source}; check the path, its permissions and free space")]
    Io {
        /// The image (or its temporary file while creating).
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The requested layout cannot be laid out.
    #[error("invalid disk layout: {reason}; pick sizes that are multiples of 512 bytes and fit in total_bytes")]
    InvalidLayout {
        /// Which constraint is broken.
        reason: String,
    },
    /// The file exists but holds no readable GPT.
    #[error("{path} is not a GPT disk image ({reason}); move it aside and the agent will create a fresh one")]
    NotGpt {
        /// The image.
        path: PathBuf,
        /// What the GPT reader found.
        reason: String,
    },
    /// The GPT lacks one of `ROOT-A`, `ROOT-B`, `DATA`.
    #[error("{path} has no partition named {name} (found {found:?}); it is not a node image, move it aside")]
    MissingPartition {
        /// The image.
        path: PathBuf,
        /// The partition that is missing.
        name: &'static str,
        /// Names of the partitions that are there.
        found: Vec<String>,
    },
    /// A partition exists with a different size than the layout asks for.
    #[error(
        "partition {name} of {path} is {found_bytes} bytes but the layout wants {expected_bytes}; \
         use the layout the image was created with, or move the image aside"
    )]
    PartitionSize {
        /// The image.
        path: PathBuf,
        /// The partition.
        name: &'static str,
        /// Size the layout asks for.
        expected_bytes: u64,
        /// Size in the GPT.
        found_bytes: u64,
    },
    /// A partition exists with a different type GUID than a node image uses.
    #[error("partition {name} of {path} has type {found}, expected {expected}; it is not a node image, move it aside")]
    PartitionType {
        /// The image.
        path: PathBuf,
        /// The partition.
        name: &'static str,
        /// Type GUID a node image uses.
        expected: String,
        /// Type GUID in the GPT.
        found: String,
    },
    /// The file is shorter than its partition table says (a truncated or partly copied image), as `sgdisk -v`
    /// reports it.
    #[error(
        "{path} is truncated: {what} ends at byte {needs_bytes} but the file holds only {file_bytes} bytes; \
         restore the image or move it aside so the agent creates a fresh one"
    )]
    Truncated {
        /// The image.
        path: PathBuf,
        /// What lies past the end of the file (a partition, the backup GPT).
        what: String,
        /// Bytes the table needs.
        needs_bytes: u64,
        /// Bytes the file has.
        file_bytes: u64,
    },
    /// A caller named a partition the image does not have.
    #[error("{path} has no partition named {name:?}; use ROOT-A, ROOT-B or DATA")]
    UnknownPartition {
        /// The image.
        path: PathBuf,
        /// The name asked for.
        name: String,
    },
    /// A write would cross the end of its partition.
    #[error(
        "writing {len} bytes at offset {offset} into {name} ({size_bytes} bytes) would cross its end; \
         the OS image is larger than the slot — rebuild it smaller or grow root_slot_bytes"
    )]
    OutOfBounds {
        /// The partition.
        name: String,
        /// Offset inside the partition.
        offset: u64,
        /// Bytes to write.
        len: u64,
        /// Partition size.
        size_bytes: u64,
    },
    /// The GPT crate could not write the partition table.
    #[error("could not write the partition table of {path}: {source}; check the file is writable and retry")]
    WriteTable {
        /// The image.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: gpt::GptError,
    },
    /// The protective MBR could not be written.
    #[error("could not write the protective MBR of {path}: {source}; check the file is writable and retry")]
    WriteMbr {
        /// The image.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: gpt::mbr::MBRError,
    },
}

/// One GPT partition entry of a node image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Entry name (`ROOT-A`, `ROOT-B`, `DATA`).
    pub name: String,
    /// Type GUID, upper-case hyphenated.
    pub type_guid: String,
    /// Unique partition GUID, upper-case hyphenated.
    pub unique_guid: String,
    /// First sector, inclusive.
    pub first_lba: u64,
    /// Last sector, inclusive.
    pub last_lba: u64,
    /// Length in bytes.
    pub size_bytes: u64,
    /// The entry's 64-bit attribute field; bits 48-63 are type-specific (boot priority, tries, successful).
    pub attributes: u64,
}

/// A validated node disk image. Partition geometry is fixed once validated; attributes are re-read from the file.
#[derive(Clone, Debug)]
pub struct DiskImage {
    path: PathBuf,
    disk_guid: String,
    partitions: Vec<PartitionInfo>,
}

/// Opens the node image at `path`, creating it from `layout` if the file does not exist.
///
/// An existing file is validated against `layout` and never modified, so a node keeps its disk across agent
/// restarts and a wrong file is reported rather than destroyed.
pub fn ensure_disk_image(path: &Path, layout: &DiskLayout) -> Result<DiskImage, DiskImageError> {
    let planned = plan(layout)?;
    match fs::symlink_metadata(path) {
        Ok(_) => open_existing(path, &planned),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_image(path, layout, &planned)?;
            open_existing(path, &planned)
        }
        Err(source) => Err(io_error(path, "inspect the image", source)),
    }
}

impl DiskImage {
    /// The image file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Disk GUID from the GPT header, upper-case hyphenated.
    pub fn disk_guid(&self) -> &str {
        &self.disk_guid
    }

    /// The partitions in disk order, with attributes as of opening or the last [`DiskImage::set_attributes`].
    pub fn partitions(&self) -> &[PartitionInfo] {
        &self.partitions
    }

    /// The partition named `name`.
    pub fn partition(&self, name: &str) -> Result<&PartitionInfo, DiskImageError> {
        self.partitions
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| self.unknown(name))
    }

    /// Every byte of partition `name`.
    pub fn read_partition(&self, name: &str) -> Result<Vec<u8>, DiskImageError> {
        let part = self.partition(name)?;
        let len = usize::try_from(part.size_bytes).map_err(|_| DiskImageError::OutOfBounds {
            name: name.to_string(),
            offset: 0,
            len: part.size_bytes,
            size_bytes: part.size_bytes,
        })?;
        let mut file = File::open(&self.path).map_err(|e| io_error(&self.path, "open the image", e))?;
        let mut bytes = vec![0u8; len];
        file.seek(SeekFrom::Start(part.first_lba * SECTOR_BYTES))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| io_error(&self.path, "read a partition", e))?;
        Ok(bytes)
    }

    /// Writes `bytes` at `offset` inside partition `name` and syncs them; nothing outside the partition changes.
    pub fn write_partition(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<(), DiskImageError> {
        let part = self.partition(name)?;
        let len = bytes.len() as u64;
        let out_of_bounds = || DiskImageError::OutOfBounds {
            name: name.to_string(),
            offset,
            len,
            size_bytes: part.size_bytes,
        };
        let end = offset.checked_add(len).ok_or_else(out_of_bounds)?;
        if end > part.size_bytes {
            return Err(out_of_bounds());
        }
        let start = part.first_lba * SECTOR_BYTES + offset;
        debug_assert!(
            start + len <= (part.last_lba + 1) * SECTOR_BYTES,
            "write stays inside {name}"
        );
        let mut file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| io_error(&self.path, "open the image for writing", e))?;
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.write_all(bytes))
            .and_then(|_| file.sync_data())
            .map_err(|e| io_error(&self.path, "write a partition", e))
    }

    /// The attribute field of partition `name` as currently on disk.
    pub fn attributes(&self, name: &str) -> Result<u64, DiskImageError> {
        let disk = read_table(&self.path)?;
        let entry = disk.partitions().values().find(|p| p.is_used() && p.name == name);
        entry.map(|p| p.flags).ok_or_else(|| self.unknown(name))
    }

    /// Replaces the whole 64-bit attribute field of partition `name`; both the primary and the backup table are
    /// written (with their CRCs) and synced before this returns.
    pub fn set_attributes(&mut self, name: &str, bits: u64) -> Result<(), DiskImageError> {
        let index = self
            .partitions
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| self.unknown(name))?;
        if !write_attributes(&self.path, name, bits)? {
            return Err(self.unknown(name));
        }
        self.partitions[index].attributes = bits;
        Ok(())
    }

    fn unknown(&self, name: &str) -> DiskImageError {
        DiskImageError::UnknownPartition {
            path: self.path.clone(),
            name: name.to_string(),
        }
    }
}

/// Reads and validates an existing image against the planned partitions.
fn open_existing(path: &Path, planned: &[PlannedPartition; 3]) -> Result<DiskImage, DiskImageError> {
    let disk = read_table(path)?;
    let not_gpt = |reason: String| DiskImageError::NotGpt {
        path: path.to_path_buf(),
        reason,
    };
    let mut partitions = Vec::new();
    for entry in disk.partitions().values().filter(|p| p.is_used()) {
        let size_bytes = entry
            .bytes_len(LogicalBlockSize::Lb512)
            .map_err(|e| not_gpt(format!("partition {:?}: {e}", entry.name)))?;
        partitions.push(PartitionInfo {
            name: entry.name.clone(),
            type_guid: upper(&entry.part_type_guid.guid),
            unique_guid: upper(&entry.part_guid),
            first_lba: entry.first_lba,
            last_lba: entry.last_lba,
            size_bytes,
            attributes: entry.flags,
        });
    }
    partitions.sort_by_key(|p| p.first_lba);
    check_within_file(path, &disk, &partitions)?;

    for want in planned {
        let found =
            partitions
                .iter()
                .find(|p| p.name == want.name)
                .ok_or_else(|| DiskImageError::MissingPartition {
                    path: path.to_path_buf(),
                    name: want.name,
                    found: partitions.iter().map(|p| p.name.clone()).collect(),
                })?;
        let expected_type = upper(&want.part_type.guid);
        if found.type_guid != expected_type {
            return Err(DiskImageError::PartitionType {
                path: path.to_path_buf(),
                name: want.name,
                expected: expected_type,
                found: found.type_guid.clone(),
            });
        }
        if found.size_bytes != want.size_bytes() {
            return Err(DiskImageError::PartitionSize {
                path: path.to_path_buf(),
                name: want.name,
                expected_bytes: want.size_bytes(),
                found_bytes: found.size_bytes,
            });
        }
    }
    Ok(DiskImage {
        path: path.to_path_buf(),
        disk_guid: upper(disk.guid()),
        partitions,
    })
}

/// Every partition and the backup GPT header must lie inside the file (what `sgdisk -v` checks first): a table
/// read from an image cut short describes space that does not exist.
fn check_within_file(
    path: &Path,
    disk: &gpt::GptDisk<File>,
    partitions: &[PartitionInfo],
) -> Result<(), DiskImageError> {
    let file_bytes = fs::metadata(path)
        .map_err(|e| io_error(path, "inspect the image", e))?
        .len();
    let truncated = |what: String, needs_bytes: u64| DiskImageError::Truncated {
        path: path.to_path_buf(),
        what,
        needs_bytes,
        file_bytes,
    };
    for p in partitions {
        let end = p.last_lba.saturating_add(1).saturating_mul(SECTOR_BYTES);
        if end > file_bytes {
            return Err(truncated(format!("partition {}", p.name), end));
        }
    }
    let header = disk.header();
    let backup_end = header
        .backup_lba
        .max(header.current_lba)
        .saturating_add(1)
        .saturating_mul(SECTOR_BYTES);
    if backup_end > file_bytes {
        return Err(truncated("the backup GPT header".into(), backup_end));
    }
    Ok(())
}

fn upper(guid: &impl ToString) -> String {
    guid.to_string().to_uppercase()
}

pub(crate) fn io_error(path: &Path, action: &'static str, source: io::Error) -> DiskImageError {
    DiskImageError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}
