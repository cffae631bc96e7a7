//! Boot slots on a real image file: the boot selector across reboots, and the bits `BootSlots::write` leaves in
//! the GPT as read back independently by gdisk's `sgdisk` and util-linux `sfdisk`.
//!
//! The tools are required: install them with `apt-get install -y fdisk gdisk`. Set `EDGEFLEET_SKIP_DISK_TOOLS=1`
//! to skip the tool checks on a machine where that is impossible.

mod disk_tool;
use disk_tool::{run, tool};
use node_agent::{ensure_disk_image, BootSlots, BootSlotsError, DiskImage, DiskLayout, Slot, SlotAttributes, ROOT_A};
use std::collections::BTreeSet;

/// Bits outside the boot bits that must survive: RequiredPartition (0), LegacyBIOSBootable (2), GUID bit 60.
const OTHER_BITS: u64 = 1 | (1 << 2) | (1 << 60);

fn fresh_image() -> (tempfile::TempDir, DiskImage) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut image = ensure_disk_image(&dir.path().join("disk.img"), &DiskLayout::default()).expect("create");
    let mut slots = BootSlots::load(&image).expect("load");
    assert!(slots.initialize_fresh(), "a new image is fresh");
    slots.write(&mut image).expect("write");
    (dir, image)
}

/// Loads the slots, boots once and writes the result, as the bootloader does on every power-on.
fn reboot(image: &mut DiskImage) -> Option<Slot> {
    let mut slots = BootSlots::load(image).expect("load");
    let booted = slots.boot();
    slots.write(image).expect("write");
    booted
}

fn attrs(priority: u8, tries_left: u8, successful: bool) -> SlotAttributes {
    SlotAttributes::new(priority, tries_left, successful)
}

#[test]
fn a_trial_slot_boots_once_then_the_next_boot_falls_back() {
    let (_dir, mut image) = fresh_image();
    assert_eq!(reboot(&mut image), Some(Slot::A), "a fresh node boots ROOT-A");
    assert_eq!(reboot(&mut image), Some(Slot::A), "a successful slot uses no tries");

    let mut slots = BootSlots::load(&image).expect("load");
    slots.clear_inactive(Slot::A).expect("clear");
    assert_eq!(slots.upgrade_to_inactive(Slot::A).expect("upgrade"), Slot::B);
    slots.write(&mut image).expect("write");

    assert_eq!(reboot(&mut image), Some(Slot::B), "the armed slot boots once");
    let after_trial = BootSlots::load(&image).expect("reload");
    assert_eq!(after_trial.slot(Slot::B), attrs(2, 0, false), "its one try is used up");
    assert_eq!(after_trial.slot(Slot::A), attrs(1, 0, true));

    // Never marked successful: the next boot gives ROOT-B up and returns to ROOT-A, for good.
    assert_eq!(reboot(&mut image), Some(Slot::A));
    assert_eq!(
        BootSlots::load(&image).expect("reload").slot(Slot::B),
        attrs(0, 0, false)
    );
    assert_eq!(reboot(&mut image), Some(Slot::A));
}

#[test]
fn highest_priority_wins_ties_go_to_root_a_and_nothing_bootable_is_none() {
    let (_dir, mut image) = fresh_image();
    let table = [
        (attrs(1, 0, true), attrs(2, 0, true), Some(Slot::B)),
        (attrs(2, 0, true), attrs(2, 0, true), Some(Slot::A)),
        (attrs(3, 0, false), attrs(2, 5, false), Some(Slot::B)),
        (attrs(0, 15, true), attrs(0, 15, true), None),
        (attrs(15, 0, false), attrs(0, 0, false), None),
    ];
    for (a, b, expected) in table {
        BootSlots::from_bits(a.bits(), b.bits())
            .write(&mut image)
            .expect("write");
        let loaded = BootSlots::load(&image).expect("load");
        assert_eq!(loaded.active(), expected, "A {a}, B {b}");
        assert_eq!(reboot(&mut image), expected, "A {a}, B {b}");
    }
}

/// A named mutator applied to the slots.
type Mutator = fn(&mut BootSlots) -> Result<(), BootSlotsError>;

#[test]
#[rustfmt::skip]
fn mutators_refuse_to_give_up_the_known_good_slot_and_change_nothing() {
    let table: [(SlotAttributes, SlotAttributes, Mutator, &str); 3] = [
        (attrs(1, 2, false), attrs(0, 0, false), |s| s.clear_inactive(Slot::A).map(drop), "ROOT-A has not booted"),
        (attrs(1, 0, true), attrs(1, 1, false), |s| s.upgrade_to_inactive(Slot::A).map(drop), "ROOT-B still carries"),
        (attrs(1, 0, true), attrs(2, 1, false), |s| s.cancel_upgrade(Slot::B), "ROOT-B has not booted"),
    ];
    for (a, b, action, message) in table {
        let mut slots = BootSlots::from_bits(a.bits(), b.bits());
        let err = action(&mut slots).expect_err("refused");
        assert!(err.to_string().contains(message), "A {a}, B {b}: {err}");
        assert_eq!(slots, BootSlots::from_bits(a.bits(), b.bits()));
    }
}

/// The image after an update was armed on ROOT-B, with unrelated bits set beforehand on both slots.
fn armed_image_with_other_bits() -> (tempfile::TempDir, DiskImage, BootSlots) {
    let (dir, mut image) = fresh_image();
    for slot in Slot::ALL {
        let name = slot.partition_name();
        let bits = image.attributes(name).expect("read");
        image.set_attributes(name, bits | OTHER_BITS).expect("set other bits");
    }
    let mut slots = BootSlots::load(&image).expect("load");
    slots.clear_inactive(Slot::A).expect("clear");
    slots.upgrade_to_inactive(Slot::A).expect("upgrade");
    // Written from a copy whose unrelated bits are clear: write must still keep the ones on disk.
    let boot_only = |s: Slot| slots.slot(s).bits() & !OTHER_BITS;
    BootSlots::from_bits(boot_only(Slot::A), boot_only(Slot::B))
        .write(&mut image)
        .expect("write");
    let written = BootSlots::load(&image).expect("reload");
    assert_eq!(written.slot(Slot::A).bits(), OTHER_BITS | attrs(1, 0, true).bits());
    assert_eq!(written.slot(Slot::B).bits(), OTHER_BITS | attrs(2, 1, false).bits());
    (dir, image, written)
}

#[test]
fn sgdisk_reads_back_the_bits_boot_slots_wrote() {
    let Some(sgdisk) = tool("sgdisk", "gdisk") else { return };
    let (_dir, image, written) = armed_image_with_other_bits();
    for slot in Slot::ALL {
        let number = if slot == Slot::A { 1 } else { 2 };
        let info = run(&sgdisk, &["-i", &number.to_string()], image.path());
        let hex = info
            .lines()
            .find_map(|line| line.strip_prefix("Attribute flags: "))
            .unwrap_or_else(|| panic!("no attribute flags line:\n{info}"));
        let decoded = u64::from_str_radix(hex.trim(), 16).expect("hex attribute flags");
        assert_eq!(decoded, written.slot(slot).bits(), "{slot}: sgdisk -i says {hex}");
        assert_eq!(SlotAttributes::from_bits(decoded), written.slot(slot));

        let shown = run(&sgdisk, &["-A", &format!("{number}:show")], image.path());
        let prefix = format!("{number}:");
        let listed: BTreeSet<u32> = shown
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix)?.split(':').next()?.parse().ok())
            .collect();
        assert_eq!(
            listed,
            set_bits(written.slot(slot).bits()),
            "{slot}: sgdisk -A show:\n{shown}"
        );
    }
    // Both GPT copies and their CRCs still agree after the writes.
    let verify = run(&sgdisk, &["-v"], image.path());
    assert!(verify.contains("No problems found"), "{verify}");
}

#[test]
fn sfdisk_reads_back_the_bits_boot_slots_wrote() {
    let Some(sfdisk) = tool("sfdisk", "fdisk") else { return };
    let (_dir, image, written) = armed_image_with_other_bits();
    let json = run(&sfdisk, &["--json"], image.path());
    let table: serde_json::Value = serde_json::from_str(&json).expect("sfdisk prints JSON");
    let parts = table["partitiontable"]["partitions"].as_array().expect("partitions");
    assert_eq!(parts[0]["name"], ROOT_A);
    for (part, slot) in parts.iter().zip(Slot::ALL) {
        let listed = part["attrs"].as_str().unwrap_or_default();
        assert_eq!(
            sfdisk_attrs(listed),
            set_bits(written.slot(slot).bits()),
            "{slot}: attrs {listed:?}"
        );
    }
    assert_eq!(parts[0]["attrs"], "RequiredPartition LegacyBIOSBootable GUID:48,56,60");
    assert_eq!(parts[1]["attrs"], "RequiredPartition LegacyBIOSBootable GUID:49,52,60");
}

/// The numbers of the set bits of `bits`.
fn set_bits(bits: u64) -> BTreeSet<u32> {
    (0..64).filter(|bit| bits & (1 << bit) != 0).collect()
}

/// Decodes sfdisk's attribute string ("RequiredPartition GUID:48,52") into bit numbers.
fn sfdisk_attrs(attrs: &str) -> BTreeSet<u32> {
    let mut bits = BTreeSet::new();
    for word in attrs.split_whitespace() {
        match word {
            "RequiredPartition" => bits.insert(0),
            "NoBlockIOProtocol" => bits.insert(1),
            "LegacyBIOSBootable" => bits.insert(2),
            guid => {
                let list = guid
                    .strip_prefix("GUID:")
                    .unwrap_or_else(|| panic!("unknown attribute {guid:?}"));
                bits.extend(list.split(',').map(|n| n.parse::<u32>().expect("bit number")));
                true
            }
        };
    }
    bits
}
