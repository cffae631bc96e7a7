//! Independent check of the node disk image with util-linux `sfdisk` and gdisk's `sgdisk`.
//!
//! The tools are required: install them with `apt-get install -y fdisk gdisk`. Set `EDGEFLEET_SKIP_DISK_TOOLS=1`
//! to skip on a machine where that is impossible.

mod disk_tool;
use disk_tool::{run, tool};
use node_agent::{ensure_disk_image, DiskImage, DiskLayout, DATA, ROOT_A, ROOT_B};

const MIB: u64 = 1024 * 1024;
/// ChromeOS boot bits: priority 1 (bit 48), tries 15 (bits 52-55), successful (bit 56).
const BOOT_BITS: u64 = (1 << 48) | (0xF << 52) | (1 << 56);

fn image_with_boot_bits() -> (tempfile::TempDir, DiskImage) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut image = ensure_disk_image(&dir.path().join("disk.img"), &DiskLayout::default()).expect("create");
    image.set_attributes(ROOT_A, BOOT_BITS).expect("set ROOT-A bits");
    (dir, image)
}

#[test]
fn sfdisk_reads_three_named_partitions_with_the_right_sizes_and_attributes() {
    let Some(sfdisk) = tool("sfdisk", "fdisk") else { return };
    let (_dir, image) = image_with_boot_bits();
    let json = run(&sfdisk, &["--json"], image.path());
    let table: serde_json::Value = serde_json::from_str(&json).expect("sfdisk prints JSON");
    let table = &table["partitiontable"];
    assert_eq!(table["label"], "gpt");
    assert_eq!(table["id"].as_str(), Some(image.disk_guid()));
    assert_eq!(table["sectorsize"], 512);
    let parts = table["partitions"].as_array().expect("partitions");
    let names: Vec<_> = parts.iter().map(|p| p["name"].as_str().unwrap_or_default()).collect();
    assert_eq!(names, [ROOT_A, ROOT_B, DATA]);
    for (listed, ours) in parts.iter().zip(image.partitions()) {
        assert_eq!(listed["start"].as_u64(), Some(ours.first_lba), "{}", ours.name);
        assert_eq!(
            listed["size"].as_u64().map(|s| s * 512),
            Some(ours.size_bytes),
            "{}",
            ours.name
        );
        assert_eq!(listed["type"].as_str(), Some(ours.type_guid.as_str()), "{}", ours.name);
        assert_eq!(
            listed["uuid"].as_str(),
            Some(ours.unique_guid.as_str()),
            "{}",
            ours.name
        );
    }
    assert_eq!(parts[0]["size"].as_u64(), Some(24 * MIB / 512));
    assert_eq!(parts[1]["size"].as_u64(), Some(24 * MIB / 512));
    assert_eq!(parts[0]["attrs"], "GUID:48,52,53,54,55,56");
    assert!(parts[2].get("attrs").is_none(), "DATA has no attributes: {}", parts[2]);
    let verify = run(&sfdisk, &["--verify"], image.path());
    assert!(verify.contains("No errors detected"), "{verify}");
}

#[test]
fn sgdisk_reads_names_types_and_attribute_flags_and_finds_no_problems() {
    let Some(sgdisk) = tool("sgdisk", "gdisk") else { return };
    let (_dir, image) = image_with_boot_bits();
    let expected = [
        (1, ROOT_A, "FE3A2A5D-4F32-41A7-B725-ACCC3285A309", "01F1000000000000"),
        (2, ROOT_B, "FE3A2A5D-4F32-41A7-B725-ACCC3285A309", "0000000000000000"),
        (
            3,
            DATA,
            "0FC63DAF-8483-4772-8E79-3D69D8477DE4 (Linux filesystem)",
            "0000000000000000",
        ),
    ];
    for (number, name, type_code, flags) in expected {
        let info = run(&sgdisk, &["-i", &number.to_string()], image.path());
        assert!(
            info.contains(&format!("Partition name: '{name}'")),
            "partition {number}:\n{info}"
        );
        assert!(
            info.contains(&format!("Partition GUID code: {type_code}")),
            "partition {number}:\n{info}"
        );
        assert!(
            info.contains(&format!("Attribute flags: {flags}")),
            "partition {number}:\n{info}"
        );
    }
    // -A 1:show lists each set bit of partition 1.
    let shown = run(&sgdisk, &["-A", "1:show"], image.path());
    for bit in [48, 52, 53, 54, 55, 56] {
        assert!(shown.contains(&format!("1:{bit}:")), "bit {bit} set:\n{shown}");
    }
    assert!(!shown.contains("1:49:"), "bit 49 clear:\n{shown}");
    // -v checks both headers, both tables and their CRCs against each other.
    let verify = run(&sgdisk, &["-v"], image.path());
    assert!(verify.contains("No problems found"), "{verify}");
    assert!(
        !verify.contains("Caution"),
        "partitions start and end on 1 MiB boundaries: {verify}"
    );
}
