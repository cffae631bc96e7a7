//! The node's disk as a real GPT image file with `ROOT-A`, `ROOT-B` and `DATA` (see DESIGN.md §5).
//!
//! Owns creating the image (sparse file, protective MBR, primary and backup GPT), validating an existing one, raw
//! reads and writes inside one partition, and the 64-bit attribute field of each GPT entry. It must never overwrite
//! an existing image and never interprets the attribute bits: the boot-slot rules layered on top own their meaning.

use crate::disk_layout::{plan, DiskLayout, PlannedPartition, SECTOR_BYTES};
use gpt::disk::LogicalBlockSize;
use gpt::mbr::ProtectiveMBR;
use gpt::{GptConfig, GptDisk};
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
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(path, layout, &planned),
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
            .ok_or_else(|| DiskImageError::UnknownPartition {
                path: self.path.clone(),
                name: name.to_string(),
            })
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

    /// Replaces the whole 64-bit attribute field of partition `name` and writes both the primary and the backup
    /// table (with their CRCs) before returning.
    pub fn set_attributes(&mut self, name: &str, bits: u64) -> Result<(), DiskImageError> {
        let index =
            self.partitions
                .iter()
                .position(|p| p.name == name)
                .ok_or_else(|| DiskImageError::UnknownPartition {
                    path: self.path.clone(),
                    name: name.to_string(),
                })?;
        let write_err = |source| DiskImageError::WriteTable {
            path: self.path.clone(),
            source,
        };
        let mut disk = GptConfig::new()
            .writable(true)
            .logical_block_size(LogicalBlockSize::Lb512)
            .open(&self.path)
            .map_err(write_err)?;
        let mut entries = disk.take_partitions();
        let entry = entries
            .values_mut()
            .find(|p| p.is_used() && p.name == name)
            .ok_or_else(|| DiskImageError::UnknownPartition {
                path: self.path.clone(),
                name: name.to_string(),
            })?;
        entry.flags = bits;
        disk.update_partitions(entries).map_err(write_err)?;
        // `write` rewrites primary and backup entry arrays and headers, then fsyncs (GptConfig::open sets that up).
        disk.write().map_err(write_err)?;
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

/// Builds the image in a temporary file and links it into place, so a crash never leaves a half-written image
/// at `path` and a concurrent creator never gets its image replaced.
fn create(path: &Path, layout: &DiskLayout, planned: &[PlannedPartition; 3]) -> Result<DiskImage, DiskImageError> {
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
        // Someone else created the image meanwhile: theirs wins, it is validated below like any existing one.
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
    open_existing(path, planned)
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

/// Opens the GPT of `path` read-only; anything the reader rejects is [`DiskImageError::NotGpt`].
fn read_table(path: &Path) -> Result<GptDisk<File>, DiskImageError> {
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

fn upper(guid: &impl ToString) -> String {
    guid.to_string().to_uppercase()
}

fn io_error(path: &Path, action: &'static str, source: io::Error) -> DiskImageError {
    DiskImageError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}
