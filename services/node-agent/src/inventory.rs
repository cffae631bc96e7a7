//! Hardware inventory read from the machine: machine id, CPUs, memory, block devices and network interfaces.
//!
//! Everything is read from files under a root directory (`/` on a real node, a fake tree in tests), so the same
//! code serves real and simulated nodes. It only reads; it never writes under the root and never guesses a value
//! that has no fallback — a missing `MemTotal` is an error, not zero.

use events::node::{Disk, Inventory, Nic};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Block devices that are not disks of the machine (loop mounts, RAM disks, compressed swap).
const VIRTUAL_BLOCK_PREFIXES: [&str; 3] = ["loop", "ram", "zram"];
/// `sys/block/*/size` counts 512-byte sectors whatever the device's real sector size.
const SYSFS_SECTOR_BYTES: u64 = 512;

/// What can go wrong reading the inventory; each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A file that exists could not be read.
    #[error("could not read {path}: {source}; check that the inventory root is the machine's root and readable")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Neither machine-id file holds an id.
    #[error(
        "no machine id in {root}/etc/machine-id or {root}/var/lib/dbus/machine-id; \
         run `systemd-machine-id-setup` or give the node a machine id override"
    )]
    MachineIdMissing {
        /// The inventory root.
        root: PathBuf,
    },
    /// A file has content the reader does not understand.
    #[error("{path} is malformed: {reason}; check that it comes from procfs/sysfs or fix the fake tree")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No processor lines and no parallelism from the OS.
    #[error("cannot count CPUs: {path} lists no processors and the OS gave none ({source}); set a cpu_count override")]
    CpuCount {
        /// The cpuinfo file consulted.
        path: PathBuf,
        /// Why the OS fallback failed.
        #[source]
        source: io::Error,
    },
}

/// Reads the inventory of the machine whose root directory is `root` (normally `/`).
///
/// Fallbacks: `var/lib/dbus/machine-id` when `etc/machine-id` is missing or empty; the current process's
/// [`std::thread::available_parallelism`] when `proc/cpuinfo` is missing or lists no `processor`. A missing
/// `sys/block` or `sys/class/net` (no sysfs mounted) means no disks or no NICs. Disks and NICs are sorted by name.
pub fn read_inventory(root: &Path) -> Result<Inventory, InventoryError> {
    Ok(Inventory {
        machine_id: read_machine_id(root)?,
        cpu_count: read_cpu_count(root)?,
        memory_bytes: read_memory_bytes(root)?,
        disks: read_disks(root)?,
        nics: read_nics(root)?,
    })
}

/// Values that replace what was read, for simulated nodes that share one real machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InventoryOverrides {
    /// Replaces the machine id.
    pub machine_id: Option<String>,
    /// Replaces the CPU count.
    pub cpu_count: Option<u32>,
    /// Replaces the memory size.
    pub memory_bytes: Option<u64>,
    /// Replaces the whole disk list.
    pub disks: Option<Vec<Disk>>,
    /// Replaces the whole NIC list.
    pub nics: Option<Vec<Nic>>,
}

impl InventoryOverrides {
    /// `inventory` with every set override applied; lists stay sorted by name like a read inventory.
    pub fn apply(self, inventory: Inventory) -> Inventory {
        let mut disks = self.disks.unwrap_or(inventory.disks);
        disks.sort_by(|a, b| a.name.cmp(&b.name));
        let mut nics = self.nics.unwrap_or(inventory.nics);
        nics.sort_by(|a, b| a.name.cmp(&b.name));
        Inventory {
            machine_id: self.machine_id.unwrap_or(inventory.machine_id),
            cpu_count: self.cpu_count.unwrap_or(inventory.cpu_count),
            memory_bytes: self.memory_bytes.unwrap_or(inventory.memory_bytes),
            disks,
            nics,
        }
    }
}

fn read_machine_id(root: &Path) -> Result<String, InventoryError> {
    for relative in ["etc/machine-id", "var/lib/dbus/machine-id"] {
        if let Some(content) = read_optional(&root.join(relative))? {
            let id = content.trim();
            if !id.is_empty() {
                return Ok(id.to_string());
            }
        }
    }
    Err(InventoryError::MachineIdMissing {
        root: root.to_path_buf(),
    })
}

fn read_cpu_count(root: &Path) -> Result<u32, InventoryError> {
    let path = root.join("proc/cpuinfo");
    let listed = read_optional(&path)?
        .map(|content| {
            content
                .lines()
                .filter(|line| line.split(':').next().map(str::trim) == Some("processor"))
                .count()
        })
        .unwrap_or(0);
    let count = if listed > 0 {
        listed
    } else {
        std::thread::available_parallelism()
            .map_err(|source| InventoryError::CpuCount { path, source })?
            .get()
    };
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

fn read_memory_bytes(root: &Path) -> Result<u64, InventoryError> {
    let path = root.join("proc/meminfo");
    let content = fs::read_to_string(&path).map_err(|source| InventoryError::Read {
        path: path.clone(),
        source,
    })?;
    let malformed = |reason: &str| InventoryError::Malformed {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let line = content
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .ok_or_else(|| malformed("no MemTotal line"))?;
    let mut fields = line.split_whitespace();
    let kib: u64 = fields
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| malformed("MemTotal is not a number"))?;
    match fields.next() {
        Some("kB") => {}
        _ => return Err(malformed("MemTotal is not in kB")),
    }
    kib.checked_mul(1024)
        .ok_or_else(|| malformed("MemTotal overflows u64 bytes"))
}

fn read_disks(root: &Path) -> Result<Vec<Disk>, InventoryError> {
    let mut disks = Vec::new();
    for (name, dir) in list_dirs(&root.join("sys/block"))? {
        if VIRTUAL_BLOCK_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let path = dir.join("size");
        let content = fs::read_to_string(&path).map_err(|source| InventoryError::Read {
            path: path.clone(),
            source,
        })?;
        let malformed = |reason: String| InventoryError::Malformed {
            path: path.clone(),
            reason,
        };
        let sectors: u64 = content
            .trim()
            .parse()
            .map_err(|e| malformed(format!("size {:?} is not a number: {e}", content.trim())))?;
        let size_bytes = sectors
            .checked_mul(SYSFS_SECTOR_BYTES)
            .ok_or_else(|| malformed(format!("size {sectors} sectors overflows u64 bytes")))?;
        disks.push(Disk { name, size_bytes });
    }
    Ok(disks)
}

/// Interfaces without an `address` file (some tunnels) are listed with an empty MAC.
fn read_nics(root: &Path) -> Result<Vec<Nic>, InventoryError> {
    let mut nics = Vec::new();
    for (name, dir) in list_dirs(&root.join("sys/class/net"))? {
        if name == "lo" {
            continue;
        }
        let mac = read_optional(&dir.join("address"))?
            .map(|a| a.trim().to_ascii_lowercase())
            .unwrap_or_default();
        nics.push(Nic { name, mac });
    }
    Ok(nics)
}

/// Subdirectories (following symlinks, as sysfs uses them) of `dir`, sorted by name; none if `dir` is missing.
fn list_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, InventoryError> {
    let read_err = |source| InventoryError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_err(e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_err)?.path();
        // Skip plain files such as `sys/class/net/bonding_masters`.
        if !path.is_dir() {
            continue;
        }
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            dirs.push((name.to_string(), path.clone()));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The file's content, or `None` if it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, InventoryError> {
    match fs::read_to_string(path) {
        Ok(content) => Ok(Some(content)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InventoryError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}
