//! Where `ROOT-A`, `ROOT-B` and `DATA` go on a node disk: the sizes a caller asks for and the LBA ranges they
//! become.
//!
//! Pure arithmetic over [`DiskLayout`]; no I/O. The same plan is used to create an image and to validate an
//! existing one, so the two can never disagree about what a correct image looks like.

use crate::disk_image::DiskImageError;
use gpt::partition_types::{self, Type};

/// Name of the first root (OS) slot.
pub const ROOT_A: &str = "ROOT-A";
/// Name of the second root (OS) slot.
pub const ROOT_B: &str = "ROOT-B";
/// Name of the data partition; A/B updates never touch it.
pub const DATA: &str = "DATA";

/// Logical block size of every node image (the GPT default).
pub const SECTOR_BYTES: u64 = 512;

const MIB: u64 = 1024 * 1024;
/// Sectors taken by a 128-entry, 128-byte-per-entry partition array.
const ENTRY_ARRAY_SECTORS: u64 = 128 * 128 / SECTOR_BYTES;
/// Protective MBR + primary header + primary entry array.
const FIRST_USABLE_LBA: u64 = 2 + ENTRY_ARRAY_SECTORS;

/// ChromeOS kernel partition type, the type the ChromeOS/Bottlerocket boot attribute bits (priority, tries,
/// successful in bits 48-56) are defined for. Used for both root slots.
pub const ROOT_TYPE_GUID: &str = "FE3A2A5D-4F32-41A7-B725-ACCC3285A309";
/// Linux filesystem data partition type (sgdisk code 8300), used for `DATA`.
pub const DATA_TYPE_GUID: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

/// Sizes of a node disk image. Every value is in bytes and must be a non-zero multiple of [`SECTOR_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskLayout {
    /// Size of the whole image file.
    pub total_bytes: u64,
    /// Size of each root slot; `ROOT-A` and `ROOT-B` are always equal so either can hold any OS image.
    pub root_slot_bytes: u64,
    /// Every partition starts on a multiple of this.
    pub alignment_bytes: u64,
}

impl Default for DiskLayout {
    /// 64 MiB image: two 24 MiB root slots, `DATA` takes the whole MiBs left (14 MiB), 1 MiB alignment.
    fn default() -> Self {
        DiskLayout {
            total_bytes: 64 * MIB,
            root_slot_bytes: 24 * MIB,
            alignment_bytes: MIB,
        }
    }
}

/// One partition the layout calls for.
#[derive(Clone, Debug)]
pub(crate) struct PlannedPartition {
    /// GPT entry name.
    pub name: &'static str,
    /// GPT partition type.
    pub part_type: Type,
    /// First sector, inclusive.
    pub first_lba: u64,
    /// Last sector, inclusive.
    pub last_lba: u64,
}

impl PlannedPartition {
    /// Length in sectors.
    pub fn sectors(&self) -> u64 {
        self.last_lba - self.first_lba + 1
    }

    /// Length in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.sectors() * SECTOR_BYTES
    }
}

/// Turns `layout` into the three partitions in disk order (`ROOT-A`, `ROOT-B`, `DATA`).
pub(crate) fn plan(layout: &DiskLayout) -> Result<[PlannedPartition; 3], DiskImageError> {
    for (field, value) in [
        ("total_bytes", layout.total_bytes),
        ("root_slot_bytes", layout.root_slot_bytes),
        ("alignment_bytes", layout.alignment_bytes),
    ] {
        if value == 0 || value % SECTOR_BYTES != 0 {
            return Err(invalid(format!(
                "{field} = {value} is not a non-zero multiple of {SECTOR_BYTES}"
            )));
        }
    }
    let total_sectors = layout.total_bytes / SECTOR_BYTES;
    let align = layout.alignment_bytes / SECTOR_BYTES;
    let root_sectors = layout.root_slot_bytes / SECTOR_BYTES;
    // Backup header in the last sector, backup entry array just before it.
    let last_usable = total_sectors
        .checked_sub(1 + ENTRY_ARRAY_SECTORS + 1)
        .ok_or_else(|| invalid(format!("total_bytes = {} cannot hold a GPT", layout.total_bytes)))?;

    let too_small = || {
        invalid(format!(
            "total_bytes = {} cannot hold two {}-byte root slots and a DATA partition with {}-byte alignment",
            layout.total_bytes, layout.root_slot_bytes, layout.alignment_bytes
        ))
    };
    let root_a_first = align_up(FIRST_USABLE_LBA, align).ok_or_else(too_small)?;
    let root_a_last = root_a_first.checked_add(root_sectors - 1).ok_or_else(too_small)?;
    let root_b_first = align_up(root_a_last + 1, align).ok_or_else(too_small)?;
    let root_b_last = root_b_first.checked_add(root_sectors - 1).ok_or_else(too_small)?;
    let data_first = align_up(root_b_last + 1, align).ok_or_else(too_small)?;
    // DATA takes whole alignment units of what is left, so it also ends on a boundary (gdisk warns otherwise).
    let data_sectors = (last_usable + 1).saturating_sub(data_first) / align * align;
    if data_sectors == 0 {
        return Err(too_small());
    }
    let data_last = data_first + data_sectors - 1;

    let planned = [
        PlannedPartition {
            name: ROOT_A,
            part_type: partition_types::CHROME_KERNEL,
            first_lba: root_a_first,
            last_lba: root_a_last,
        },
        PlannedPartition {
            name: ROOT_B,
            part_type: partition_types::CHROME_KERNEL,
            first_lba: root_b_first,
            last_lba: root_b_last,
        },
        PlannedPartition {
            name: DATA,
            part_type: partition_types::LINUX_FS,
            first_lba: data_first,
            last_lba: data_last,
        },
    ];
    debug_assert!(
        planned.windows(2).all(|w| w[0].last_lba < w[1].first_lba),
        "partitions overlap"
    );
    debug_assert!(
        planned.iter().all(|p| p.first_lba % align == 0),
        "partition not aligned"
    );
    Ok(planned)
}

/// Rounds `lba` up to a multiple of `align` (in sectors, non-zero).
fn align_up(lba: u64, align: u64) -> Option<u64> {
    debug_assert!(align > 0);
    lba.checked_add(align - 1).map(|v| v / align * align)
}

fn invalid(reason: String) -> DiskImageError {
    DiskImageError::InvalidLayout { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_is_24_24_rest_on_mib_boundaries() {
        let [a, b, data] = plan(&DiskLayout::default()).expect("default layout is valid");
        assert_eq!((a.first_lba, a.size_bytes()), (2048, 24 * MIB));
        assert_eq!((b.first_lba, b.size_bytes()), (2048 + 49152, 24 * MIB));
        assert_eq!(data.first_lba, 2048 + 2 * 49152);
        // 64 MiB = 131072 sectors; the backup array and header take the last 33, so 14 whole MiB are left.
        assert_eq!(data.size_bytes(), 14 * MIB);
        assert!(data.last_lba <= 131072 - 34);
    }

    #[test]
    fn type_guid_constants_match_the_gpt_crate() {
        let [a, b, data] = plan(&DiskLayout::default()).expect("default layout is valid");
        assert_eq!(a.part_type.guid.to_string().to_uppercase(), ROOT_TYPE_GUID);
        assert_eq!(b.part_type.guid.to_string().to_uppercase(), ROOT_TYPE_GUID);
        assert_eq!(data.part_type.guid.to_string().to_uppercase(), DATA_TYPE_GUID);
    }

    #[test]
    fn layouts_that_do_not_fit_or_are_not_sector_multiples_are_rejected() {
        let small = DiskLayout {
            total_bytes: 48 * MIB,
            ..DiskLayout::default()
        };
        assert!(matches!(plan(&small), Err(DiskImageError::InvalidLayout { .. })));
        let odd = DiskLayout {
            root_slot_bytes: 1000,
            ..DiskLayout::default()
        };
        assert!(matches!(plan(&odd), Err(DiskImageError::InvalidLayout { .. })));
        let zero = DiskLayout {
            alignment_bytes: 0,
            ..DiskLayout::default()
        };
        assert!(matches!(plan(&zero), Err(DiskImageError::InvalidLayout { .. })));
        let tiny = DiskLayout {
            total_bytes: 512,
            ..DiskLayout::default()
        };
        assert!(matches!(plan(&tiny), Err(DiskImageError::InvalidLayout { .. })));
    }
}
