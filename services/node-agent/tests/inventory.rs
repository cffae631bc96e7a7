//! Hardware inventory from fake procfs/sysfs trees, plus one smoke test against the real machine.

use events::node::{Disk, Inventory, Nic};
use node_agent::{read_inventory, InventoryError, InventoryOverrides};
use std::path::Path;

const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Fake CPU\n\n\
processor\t: 1\nvendor_id\t: GenuineIntel\n\nprocessor\t: 2\n\nprocessor\t: 3\npower management:\n";
const MEMINFO: &str = "MemTotal:       16318412 kB\nMemFree:         1234567 kB\nMemAvailable:    8000000 kB\n";

fn put(root: &Path, relative: &str, content: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}

/// A machine with two disks, two NICs and the virtual devices that must be skipped.
fn fake_machine() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    put(root, "proc/cpuinfo", CPUINFO);
    put(root, "proc/meminfo", MEMINFO);
    put(root, "sys/block/sda/size", "1953525168\n");
    put(root, "sys/block/nvme0n1/size", "1000215216\n");
    put(root, "sys/block/loop0/size", "0\n");
    put(root, "sys/block/ram0/size", "8192\n");
    put(root, "sys/block/zram0/size", "16777216\n");
    put(root, "sys/class/net/lo/address", "00:00:00:00:00:00\n");
    put(root, "sys/class/net/eth0/address", "52:54:00:AB:CD:EF\n");
    put(root, "sys/class/net/enp3s0/address", "52:54:00:12:34:56\n");
    put(root, "sys/class/net/bonding_masters", "\n");
    dir
}

#[test]
fn reads_a_fake_machine() {
    let dir = fake_machine();
    let inventory = read_inventory(dir.path()).expect("inventory");
    assert_eq!(
        inventory,
        Inventory {
            machine_id: "0123456789abcdef0123456789abcdef".into(),
            cpu_count: 4,
            memory_bytes: 16_318_412 * 1024,
            disks: vec![
                Disk {
                    name: "nvme0n1".into(),
                    size_bytes: 1_000_215_216 * 512
                },
                Disk {
                    name: "sda".into(),
                    size_bytes: 1_953_525_168 * 512
                },
            ],
            nics: vec![
                Nic {
                    name: "enp3s0".into(),
                    mac: "52:54:00:12:34:56".into()
                },
                Nic {
                    name: "eth0".into(),
                    mac: "52:54:00:ab:cd:ef".into()
                },
            ],
        }
    );
}

#[test]
fn machine_id_falls_back_to_dbus() {
    let dir = fake_machine();
    std::fs::remove_file(dir.path().join("etc/machine-id")).expect("rm");
    put(
        dir.path(),
        "var/lib/dbus/machine-id",
        "fedcba9876543210fedcba9876543210\n",
    );
    assert_eq!(
        read_inventory(dir.path()).expect("inventory").machine_id,
        "fedcba9876543210fedcba9876543210"
    );

    // An empty etc/machine-id (first boot) also falls back.
    put(dir.path(), "etc/machine-id", "\n");
    assert_eq!(
        read_inventory(dir.path()).expect("inventory").machine_id,
        "fedcba9876543210fedcba9876543210"
    );
}

#[test]
fn no_machine_id_anywhere_says_what_to_do() {
    let dir = fake_machine();
    std::fs::remove_file(dir.path().join("etc/machine-id")).expect("rm");
    let err = read_inventory(dir.path()).expect_err("no machine id");
    assert!(matches!(err, InventoryError::MachineIdMissing { .. }), "{err}");
    assert!(err.to_string().contains("systemd-machine-id-setup"), "{err}");
}

#[test]
fn cpu_count_falls_back_to_available_parallelism() {
    let dir = fake_machine();
    let host = std::thread::available_parallelism().expect("parallelism").get() as u32;
    std::fs::remove_file(dir.path().join("proc/cpuinfo")).expect("rm");
    assert_eq!(read_inventory(dir.path()).expect("inventory").cpu_count, host);
    put(dir.path(), "proc/cpuinfo", "Features\t: fp asimd\n");
    assert_eq!(read_inventory(dir.path()).expect("inventory").cpu_count, host);
}

#[test]
fn missing_or_malformed_meminfo_is_an_error() {
    let dir = fake_machine();
    put(dir.path(), "proc/meminfo", "MemFree: 12 kB\n");
    let err = read_inventory(dir.path()).expect_err("no MemTotal");
    assert!(matches!(err, InventoryError::Malformed { .. }), "{err}");
    put(dir.path(), "proc/meminfo", "MemTotal: lots kB\n");
    assert!(matches!(
        read_inventory(dir.path()),
        Err(InventoryError::Malformed { .. })
    ));
    std::fs::remove_file(dir.path().join("proc/meminfo")).expect("rm");
    assert!(matches!(read_inventory(dir.path()), Err(InventoryError::Read { .. })));
}

#[test]
fn a_malformed_disk_size_names_the_file() {
    let dir = fake_machine();
    put(dir.path(), "sys/block/sda/size", "big\n");
    match read_inventory(dir.path()) {
        Err(InventoryError::Malformed { path, .. }) => assert!(path.ends_with("sys/block/sda/size"), "{path:?}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn no_sysfs_means_no_disks_and_no_nics() {
    let dir = fake_machine();
    std::fs::remove_dir_all(dir.path().join("sys")).expect("rm sys");
    let inventory = read_inventory(dir.path()).expect("inventory");
    assert!(inventory.disks.is_empty());
    assert!(inventory.nics.is_empty());
}

#[test]
fn a_nic_without_an_address_has_an_empty_mac() {
    let dir = fake_machine();
    std::fs::create_dir_all(dir.path().join("sys/class/net/wg0")).expect("mkdir");
    let nics = read_inventory(dir.path()).expect("inventory").nics;
    assert_eq!(
        nics.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["enp3s0", "eth0", "wg0"]
    );
    assert_eq!(nics[2].mac, "");
}

#[test]
fn overrides_replace_only_what_they_set() {
    let dir = fake_machine();
    let read = read_inventory(dir.path()).expect("inventory");
    let overrides = InventoryOverrides {
        machine_id: Some("sim-node-7".into()),
        memory_bytes: Some(8 << 30),
        disks: Some(vec![
            Disk {
                name: "vdb".into(),
                size_bytes: 1 << 30,
            },
            Disk {
                name: "vda".into(),
                size_bytes: 64 << 20,
            },
        ]),
        ..InventoryOverrides::default()
    };
    let simulated = overrides.apply(read.clone());
    assert_eq!(simulated.machine_id, "sim-node-7");
    assert_eq!(simulated.memory_bytes, 8 << 30);
    assert_eq!(simulated.cpu_count, read.cpu_count);
    assert_eq!(simulated.nics, read.nics);
    assert_eq!(
        simulated.disks.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["vda", "vdb"]
    );
    assert_eq!(InventoryOverrides::default().apply(read.clone()), read);
}

#[test]
fn reads_the_real_machine() {
    let inventory = read_inventory(Path::new("/")).expect("the real / has an inventory");
    assert!(inventory.cpu_count >= 1);
    println!("{inventory:#?}");
}
