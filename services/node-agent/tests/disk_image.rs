//! Behaviour of the node disk image through its public API (no external tools; see `disk_tools.rs` for those).

mod noise;
use node_agent::disk_layout::SECTOR_BYTES;
use node_agent::{ensure_disk_image, DiskImage, DiskImageError, DiskLayout, DATA, ROOT_A, ROOT_B};
use noise::noise;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const MIB: u64 = 1024 * 1024;

fn fresh() -> (tempfile::TempDir, PathBuf, DiskImage) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("node/disk.img");
    let image = ensure_disk_image(&path, &DiskLayout::default()).expect("create image");
    (dir, path, image)
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for patch");
    file.seek(SeekFrom::Start(offset)).expect("seek");
    file.write_all(bytes).expect("patch");
}

#[test]
fn a_new_image_is_sparse_and_has_root_a_root_b_data() {
    let (_dir, path, image) = fresh();
    let names: Vec<_> = image.partitions().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [ROOT_A, ROOT_B, DATA]);
    let sizes: Vec<_> = image.partitions().iter().map(|p| p.size_bytes).collect();
    assert_eq!(
        sizes,
        [24 * MIB, 24 * MIB, 14 * MIB],
        "DATA takes the whole MiBs that are left"
    );
    for part in image.partitions() {
        assert_eq!(part.first_lba * SECTOR_BYTES % MIB, 0, "{} is 1 MiB aligned", part.name);
        assert_eq!(part.attributes, 0);
    }
    assert_ne!(image.partitions()[0].unique_guid, image.partitions()[1].unique_guid);
    let meta = std::fs::metadata(&path).expect("metadata");
    assert_eq!(meta.len(), 64 * MIB);
    assert!(
        meta.blocks() * 512 < 4 * MIB,
        "image is sparse: {} bytes allocated",
        meta.blocks() * 512
    );
    assert_eq!(image.path(), path);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("list")
        .collect();
    assert_eq!(leftovers.len(), 1, "only disk.img remains: {leftovers:?}");
}

#[test]
fn creating_twice_keeps_the_first_image() {
    let (_dir, path, first) = fresh();
    first.write_partition(DATA, 0, b"keep me").expect("write DATA");
    let second = ensure_disk_image(&path, &DiskLayout::default()).expect("reopen");
    assert_eq!(second.disk_guid(), first.disk_guid());
    assert_eq!(second.partitions(), first.partitions());
    assert_eq!(&second.read_partition(DATA).expect("read DATA")[..7], b"keep me");
}

#[test]
fn random_bytes_are_not_a_gpt_and_are_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("disk.img");
    let garbage = noise(MIB as usize, 0x9E37_79B9_7F4A_7C15);
    std::fs::write(&path, &garbage).expect("write garbage");
    let err = ensure_disk_image(&path, &DiskLayout::default()).expect_err("garbage is rejected");
    assert!(matches!(err, DiskImageError::NotGpt { .. }), "{err}");
    assert!(
        err.to_string().contains("move it aside"),
        "message says what to do: {err}"
    );
    assert_eq!(std::fs::read(&path).expect("read back"), garbage, "never overwritten");
}

#[test]
fn empty_and_short_files_are_not_a_gpt() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, len) in [("empty.img", 0), ("short.img", 700)] {
        let path = dir.path().join(name);
        std::fs::write(&path, vec![0u8; len]).expect("write");
        let err = ensure_disk_image(&path, &DiskLayout::default()).expect_err("rejected");
        assert!(matches!(err, DiskImageError::NotGpt { .. }), "{name}: {err}");
    }
}

#[test]
fn a_header_with_odd_entry_size_is_an_error_not_a_panic() {
    let (_dir, path, _image) = fresh();
    // Entry size lives at byte 84 of the primary header (LBA 1).
    patch(&path, SECTOR_BYTES + 84, &64u32.to_le_bytes());
    let err = ensure_disk_image(&path, &DiskLayout::default()).expect_err("rejected");
    assert!(matches!(err, DiskImageError::NotGpt { .. }), "{err}");
}

#[test]
fn a_different_layout_is_a_size_error() {
    let (_dir, path, _image) = fresh();
    let layout = DiskLayout {
        root_slot_bytes: 16 * MIB,
        ..DiskLayout::default()
    };
    let err = ensure_disk_image(&path, &layout).expect_err("layout mismatch");
    assert!(
        matches!(err, DiskImageError::PartitionSize { name: ROOT_A, expected_bytes, found_bytes, .. }
            if expected_bytes == 16 * MIB && found_bytes == 24 * MIB),
        "{err}"
    );
}

#[test]
fn a_renamed_or_retyped_partition_is_reported() {
    let (_dir, path, _image) = fresh();
    let mut disk = gpt::GptConfig::new().writable(true).open(&path).expect("open with gpt");
    let mut entries = disk.take_partitions();
    let data = entries.values_mut().find(|p| p.name == DATA).expect("DATA");
    data.name = "SCRATCH".into();
    disk.update_partitions(entries).expect("update");
    disk.write().expect("write");
    let err = ensure_disk_image(&path, &DiskLayout::default()).expect_err("missing DATA");
    match err {
        DiskImageError::MissingPartition { name, found, .. } => {
            assert_eq!(name, DATA);
            assert_eq!(found, [ROOT_A, ROOT_B, "SCRATCH"]);
        }
        other => panic!("expected MissingPartition, got {other}"),
    }

    let mut disk = gpt::GptConfig::new().writable(true).open(&path).expect("open with gpt");
    let mut entries = disk.take_partitions();
    for entry in entries.values_mut() {
        if entry.name == "SCRATCH" {
            entry.name = DATA.into();
        }
        if entry.name == ROOT_B {
            entry.part_type_guid = gpt::partition_types::LINUX_FS;
        }
    }
    disk.update_partitions(entries).expect("update");
    disk.write().expect("write");
    let err = ensure_disk_image(&path, &DiskLayout::default()).expect_err("wrong type");
    assert!(
        matches!(err, DiskImageError::PartitionType { name: ROOT_B, .. }),
        "{err}"
    );
}

#[test]
fn writes_past_the_end_of_a_partition_are_refused() {
    let (_dir, _path, image) = fresh();
    let size = image.partition(ROOT_A).expect("ROOT-A").size_bytes;
    let err = image
        .write_partition(ROOT_A, size - 10, &[1u8; 20])
        .expect_err("crosses the end");
    assert!(
        matches!(err, DiskImageError::OutOfBounds { offset, len: 20, .. } if offset == size - 10),
        "{err}"
    );
    let err = image
        .write_partition(ROOT_A, u64::MAX, &[1u8])
        .expect_err("offset overflow");
    assert!(matches!(err, DiskImageError::OutOfBounds { .. }), "{err}");
    image
        .write_partition(ROOT_A, size - 10, &[7u8; 10])
        .expect("an exact fit at the end is fine");
    assert_eq!(
        image.read_partition(ROOT_A).expect("read")[size as usize - 10..],
        [7u8; 10]
    );
    let err = image.write_partition("ROOT-C", 0, b"x").expect_err("unknown");
    assert!(matches!(err, DiskImageError::UnknownPartition { .. }), "{err}");
}

#[test]
fn writing_root_b_leaves_root_a_and_data_unchanged() {
    let (_dir, path, image) = fresh();
    let data_size = image.partition(DATA).expect("DATA").size_bytes as usize;
    image.write_partition(DATA, 0, &noise(data_size, 1)).expect("fill DATA");
    image
        .write_partition(ROOT_A, 0, &noise(MIB as usize, 2))
        .expect("fill part of ROOT-A");
    let data_before = image.read_partition(DATA).expect("read DATA");
    let root_a_before = image.read_partition(ROOT_A).expect("read ROOT-A");

    let root_b_size = image.partition(ROOT_B).expect("ROOT-B").size_bytes as usize;
    let os_image = noise(root_b_size, 3);
    image
        .write_partition(ROOT_B, 0, &os_image)
        .expect("write the whole of ROOT-B");

    assert_eq!(image.read_partition(ROOT_B).expect("read ROOT-B"), os_image);
    assert!(
        image.read_partition(DATA).expect("read DATA") == data_before,
        "DATA unchanged"
    );
    assert!(
        image.read_partition(ROOT_A).expect("read ROOT-A") == root_a_before,
        "ROOT-A unchanged"
    );
    let reopened = ensure_disk_image(&path, &DiskLayout::default()).expect("GPT intact after data writes");
    assert_eq!(reopened.disk_guid(), image.disk_guid());
}

#[test]
fn attributes_round_trip_and_survive_reopen() {
    let (_dir, path, mut image) = fresh();
    let bits = (1u64 << 48) | (0xF << 52) | (1 << 56);
    image.set_attributes(ROOT_A, bits).expect("set ROOT-A");
    image.set_attributes(ROOT_B, 1 << 52).expect("set ROOT-B");
    assert_eq!(image.attributes(ROOT_A).expect("get"), bits);
    assert_eq!(image.partition(ROOT_A).expect("ROOT-A").attributes, bits);
    assert_eq!(image.attributes(DATA).expect("get"), 0);

    let reopened = ensure_disk_image(&path, &DiskLayout::default()).expect("reopen");
    assert_eq!(reopened.partition(ROOT_A).expect("ROOT-A").attributes, bits);
    assert_eq!(reopened.partition(ROOT_B).expect("ROOT-B").attributes, 1 << 52);
    assert_eq!(reopened.disk_guid(), image.disk_guid());
    let err = image.set_attributes("DATA2", 1).expect_err("unknown");
    assert!(matches!(err, DiskImageError::UnknownPartition { .. }), "{err}");
}

#[test]
fn the_backup_table_carries_the_attributes() {
    let (_dir, path, mut image) = fresh();
    let bits = (3u64 << 48) | (1 << 56);
    image.set_attributes(ROOT_B, bits).expect("set");
    // Destroy the primary header; the reader must fall back to the backup at the end of the disk.
    patch(&path, SECTOR_BYTES, &[0u8; 512]);
    let mut sector = [0u8; 8];
    let mut file = std::fs::File::open(&path).expect("open");
    file.seek(SeekFrom::Start(SECTOR_BYTES)).expect("seek");
    file.read_exact(&mut sector).expect("read");
    assert_ne!(&sector, b"EFI PART");
    let from_backup = ensure_disk_image(&path, &DiskLayout::default()).expect("opens from the backup");
    assert_eq!(from_backup.attributes(ROOT_B).expect("get"), bits);
    assert_eq!(from_backup.disk_guid(), image.disk_guid());
}

#[test]
fn an_invalid_layout_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("disk.img");
    let layout = DiskLayout {
        total_bytes: 32 * MIB,
        ..DiskLayout::default()
    };
    let err = ensure_disk_image(&path, &layout).expect_err("does not fit");
    assert!(matches!(err, DiskImageError::InvalidLayout { .. }), "{err}");
    assert!(!path.exists());
}

/// Defect 9: an image cut short (here to 1 MiB: every partition past the end of the file) is refused, as
/// `sgdisk -v` refuses it, instead of being accepted and registered.
#[test]
fn a_truncated_image_is_refused_with_what_lies_past_its_end() {
    let (_dir, path, _) = fresh();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(MIB))
        .expect("truncate to 1 MiB");
    let Err(error) = ensure_disk_image(&path, &DiskLayout::default()) else {
        panic!("a truncated image must be refused");
    };
    assert!(matches!(error, DiskImageError::Truncated { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("is truncated") && message.contains("ROOT-A"),
        "{message}"
    );
    let sgdisk = std::process::Command::new("sgdisk").arg("-v").arg(&path).output();
    if let Ok(out) = sgdisk {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("No problems found"),
            "sgdisk agrees it is broken: {text}"
        );
    }
    assert_eq!(
        std::fs::metadata(&path).expect("metadata").len(),
        MIB,
        "the image is left as it was"
    );
}

#[test]
fn an_image_missing_only_its_last_sector_is_refused_too() {
    let (_dir, path, _) = fresh();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(64 * MIB - SECTOR_BYTES))
        .expect("drop the backup header's sector");
    let Err(error) = ensure_disk_image(&path, &DiskLayout::default()) else {
        panic!("an image without its backup GPT header must be refused");
    };
    assert!(error.to_string().contains("backup GPT header"), "{error}");
}
