//! The OS update sequence on real image files: success, failed health check, refused images, crashes between
//! steps, and the guarantee that `DATA` is never written.

mod noise;
use ed25519_dalek::{Signer, SigningKey};
use node_agent::{
    ensure_disk_image, sha256_hex, BootSlots, DiskImage, DiskLayout, ImageVerifyError, OsUpdate, OsUpdateError, Slot,
    SlotAttributes, UpdateOutcome, UpdateStep, UpdateTarget, DATA, ROOT_B,
};
use noise::noise;

const MIB: usize = 1024 * 1024;

/// A node as the agent finds it after first boot: fresh image with initialised slots, a known pattern in `DATA`.
struct Node {
    _dir: tempfile::TempDir,
    image: DiskImage,
    data_before: Vec<u8>,
}

impl Node {
    fn new() -> Node {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut image = ensure_disk_image(&dir.path().join("disk.img"), &DiskLayout::default()).expect("create");
        let mut slots = BootSlots::load(&image).expect("load");
        assert!(slots.initialize_fresh());
        slots.write(&mut image).expect("write slots");
        let data_len = image.partition(DATA).expect("DATA").size_bytes as usize;
        image
            .write_partition(DATA, 0, &noise(data_len, 0xDA7A))
            .expect("fill DATA");
        // Something recognisable in ROOT-B too, so "nothing written" can be checked byte for byte.
        image
            .write_partition(ROOT_B, 0, &noise(MIB, 0x0B))
            .expect("fill ROOT-B");
        let data_before = image.read_partition(DATA).expect("read DATA");
        Node {
            _dir: dir,
            image,
            data_before,
        }
    }

    fn slots(&self) -> BootSlots {
        BootSlots::load(&self.image).expect("load slots")
    }

    /// Restarts the agent: the image is opened again from its file, as at process start.
    fn restart_agent(&mut self) {
        self.image = ensure_disk_image(self.image.path(), &DiskLayout::default()).expect("reopen");
    }

    fn assert_data_unchanged(&self) {
        let after = self.image.read_partition(DATA).expect("read DATA");
        assert!(after == self.data_before, "DATA was modified by the update");
    }
}

/// A 3 MiB + 123 byte OS image (not a sector multiple) and its release target.
fn os_image(version: &str, seed: u64) -> (Vec<u8>, UpdateTarget) {
    let bytes = noise(3 * MIB + 123, seed);
    let target = UpdateTarget {
        version: version.to_string(),
        sha256_hex: sha256_hex(&bytes),
    };
    (bytes, target)
}

fn release_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// The release key's signature over the image's raw sha256 digest.
fn sign(key: &SigningKey, target: &UpdateTarget) -> [u8; 64] {
    let digest: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&target.sha256_hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    key.sign(&digest).to_bytes()
}

fn healthy(_: Slot) -> Result<(), String> {
    Ok(())
}

#[test]
fn a_signed_update_lands_in_root_b_which_becomes_active_and_successful() {
    let mut node = Node::new();
    let (bytes, target) = os_image("1.1.0", 1);
    let public = release_key().verifying_key().to_bytes();
    let signature = sign(&release_key(), &target);
    let mut checked = Vec::new();
    let outcome = OsUpdate::run(&mut node.image, &target, &bytes, Some((&public, &signature)), |slot| {
        checked.push(slot);
        Ok(())
    })
    .expect("update");

    assert_eq!(
        outcome,
        UpdateOutcome::Updated {
            slot: Slot::B,
            version: "1.1.0".into()
        }
    );
    assert_eq!(checked, [Slot::B], "the health check ran once, on the new slot");
    let root_b = node.image.read_partition(ROOT_B).expect("read ROOT-B");
    assert!(root_b[..bytes.len()] == bytes[..], "ROOT-B holds the image");
    let slots = node.slots();
    assert_eq!(slots.active(), Some(Slot::B));
    assert_eq!(slots.slot(Slot::B), SlotAttributes::new(2, 0, true));
    assert_eq!(
        slots.slot(Slot::A),
        SlotAttributes::new(1, 0, true),
        "ROOT-A stays as a known-good fallback"
    );
    assert!(
        !OsUpdate::state_path(&node.image).exists(),
        "a finished update leaves no state file"
    );
    node.assert_data_unchanged();

    // The next update goes the other way, from ROOT-B into ROOT-A.
    let (bytes, target) = os_image("1.2.0", 2);
    let outcome = OsUpdate::run(&mut node.image, &target, &bytes, None, healthy).expect("second update");
    assert_eq!(
        outcome,
        UpdateOutcome::Updated {
            slot: Slot::A,
            version: "1.2.0".into()
        }
    );
    assert_eq!(node.slots().active(), Some(Slot::A));
    node.assert_data_unchanged();
}

#[test]
fn a_failed_health_check_rolls_back_to_the_previous_slot() {
    let mut node = Node::new();
    let (bytes, target) = os_image("1.1.0", 3);
    let outcome = OsUpdate::run(&mut node.image, &target, &bytes, None, |_| {
        Err("kubelet not ready after 300 s".into())
    })
    .expect("update runs to a rollback");

    let UpdateOutcome::RolledBack { slot, reason } = outcome else {
        panic!("expected a rollback: {outcome:?}")
    };
    assert_eq!(slot, Slot::A);
    assert_eq!(reason, "health check failed on ROOT-B: kubelet not ready after 300 s");
    let slots = node.slots();
    assert_eq!(slots.active(), Some(Slot::A));
    assert_eq!(slots.slot(Slot::A), SlotAttributes::new(2, 0, true));
    assert_eq!(slots.slot(Slot::B).priority(), 0, "ROOT-B is never booted again");
    assert!(!OsUpdate::state_path(&node.image).exists());
    node.assert_data_unchanged();
}

/// Runs `attempt` and checks it was refused with nothing written: ROOT-B bytes and both slots' bits unchanged.
fn assert_refused_untouched(node: &mut Node, attempt: impl FnOnce(&mut DiskImage) -> OsUpdateError) -> String {
    let root_b_before = node.image.read_partition(ROOT_B).expect("read ROOT-B");
    let slots_before = node.slots();
    let err = attempt(&mut node.image).to_string();
    assert!(
        node.image.read_partition(ROOT_B).expect("read ROOT-B") == root_b_before,
        "ROOT-B was written: {err}"
    );
    assert_eq!(node.slots(), slots_before, "boot bits changed: {err}");
    assert!(!OsUpdate::state_path(&node.image).exists(), "no update recorded: {err}");
    node.assert_data_unchanged();
    err
}

#[test]
fn a_corrupt_image_or_a_bad_signature_is_refused_before_anything_is_written() {
    let mut node = Node::new();
    let (mut bytes, target) = os_image("1.1.0", 4);
    let public = release_key().verifying_key().to_bytes();
    let good_signature = sign(&release_key(), &target);

    bytes[1000] ^= 0x01;
    let err = assert_refused_untouched(&mut node, |disk| {
        match OsUpdate::run(disk, &target, &bytes, Some((&public, &good_signature)), healthy) {
            Err(e @ OsUpdateError::Verify(ImageVerifyError::Sha256Mismatch { .. })) => e,
            other => panic!("expected a digest mismatch: {other:?}"),
        }
    });
    assert!(
        err.contains(&format!("sha256 mismatch: expected {}, got ", target.sha256_hex)),
        "{err}"
    );
    bytes[1000] ^= 0x01;

    let other_key = SigningKey::from_bytes(&[7; 32]);
    let forged = sign(&other_key, &target);
    let err = assert_refused_untouched(&mut node, |disk| {
        match OsUpdate::run(disk, &target, &bytes, Some((&public, &forged)), healthy) {
            Err(e @ OsUpdateError::Verify(ImageVerifyError::BadSignature { .. })) => e,
            other => panic!("expected a bad signature: {other:?}"),
        }
    });
    assert!(
        err.contains("signature does not verify with the configured key"),
        "{err}"
    );
    assert_eq!(
        node.slots().active(),
        Some(Slot::A),
        "the node stays on its current slot"
    );
}

#[test]
fn an_image_larger_than_the_slot_is_refused_with_a_clear_error() {
    let mut node = Node::new();
    let slot_bytes = node.image.partition(ROOT_B).expect("ROOT-B").size_bytes;
    let bytes = vec![0x5A; slot_bytes as usize + 1];
    let target = UpdateTarget {
        version: "2.0.0".into(),
        sha256_hex: sha256_hex(&bytes),
    };
    let err = assert_refused_untouched(&mut node, |disk| {
        match OsUpdate::run(disk, &target, &bytes, None, healthy) {
            Err(e @ OsUpdateError::ImageTooLarge { .. }) => e,
            other => panic!("expected image too large: {other:?}"),
        }
    });
    assert_eq!(
        err,
        format!(
            "OS image is {} bytes but ROOT-B holds {slot_bytes}; nothing was written — rebuild the image smaller \
             or grow root_slot_bytes",
            slot_bytes + 1
        )
    );
}

#[test]
fn an_agent_crash_after_any_step_resumes_to_the_same_result() {
    let (bytes, target) = os_image("1.1.0", 5);
    // Verified, InactiveCleared, ImageWritten, Upgraded, Booted: the fifth step finishes.
    for completed_steps in 0..=4 {
        let mut node = Node::new();
        let mut update = OsUpdate::start(&node.image, &target, &bytes, None).expect("start");
        for _ in 0..completed_steps {
            let done = update
                .advance(&mut node.image, Some(&bytes), None, &mut healthy)
                .expect("step");
            assert!(done.is_none(), "the update needs more than {completed_steps} steps");
        }
        drop(update); // The agent dies here.
        node.restart_agent();
        let pending = OsUpdate::open(&node.image)
            .expect("read state")
            .expect("an update is recorded");
        assert_eq!(pending.record().from_slot, Slot::A);
        assert_eq!(pending.record().target_version, "1.1.0");

        let outcome = OsUpdate::resume(&mut node.image, Some(&bytes), None, healthy).expect("resume");
        assert_eq!(
            outcome,
            Some(UpdateOutcome::Updated {
                slot: Slot::B,
                version: "1.1.0".into()
            }),
            "after {completed_steps} steps"
        );
        let root_b = node.image.read_partition(ROOT_B).expect("read ROOT-B");
        assert!(root_b[..bytes.len()] == bytes[..], "after {completed_steps} steps");
        assert_eq!(node.slots().active(), Some(Slot::B));
        assert!(node.slots().slot(Slot::B).successful());
        node.assert_data_unchanged();
        assert_eq!(
            OsUpdate::resume(&mut node.image, None, None, healthy).expect("nothing left"),
            None
        );
    }
}

#[test]
fn a_crash_after_the_image_write_resumes_from_the_state_file_without_the_image() {
    let mut node = Node::new();
    let (bytes, target) = os_image("1.1.0", 6);
    let mut update = OsUpdate::start(&node.image, &target, &bytes, None).expect("start");
    while update.record().step != UpdateStep::ImageWritten {
        update
            .advance(&mut node.image, Some(&bytes), None, &mut healthy)
            .expect("step");
    }
    drop(update);
    let state = std::fs::read_to_string(OsUpdate::state_path(&node.image)).expect("state file");
    let json: serde_json::Value = serde_json::from_str(&state).expect("state is JSON");
    assert_eq!(json["step"], "image_written", "{state}");
    assert_eq!(
        (json["from_slot"].as_str(), json["sha256"].as_str()),
        (Some("A"), Some(target.sha256_hex.as_str()))
    );
    assert!(matches!(
        OsUpdate::start(&node.image, &target, &bytes, None),
        Err(OsUpdateError::AlreadyInProgress { .. })
    ));

    node.restart_agent();
    let outcome = OsUpdate::resume(&mut node.image, None, None, healthy).expect("resume without the image");
    assert_eq!(
        outcome,
        Some(UpdateOutcome::Updated {
            slot: Slot::B,
            version: "1.1.0".into()
        })
    );
    node.assert_data_unchanged();
}

#[test]
fn a_crash_during_the_trial_boot_falls_back_when_its_one_try_is_spent() {
    let mut node = Node::new();
    let (bytes, target) = os_image("1.1.0", 7);
    let mut update = OsUpdate::start(&node.image, &target, &bytes, None).expect("start");
    while update.record().step != UpdateStep::Booted {
        update
            .advance(&mut node.image, Some(&bytes), None, &mut healthy)
            .expect("step");
    }
    assert_eq!(update.record().booted_slot, Some(Slot::B));
    drop(update);
    // The node lost power while ROOT-B was on its only try, before the agent recorded the boot: the state file
    // still says "upgraded", the boot bits say the try is spent.
    let path = OsUpdate::state_path(&node.image);
    let state = std::fs::read_to_string(&path).expect("state file");
    let state = state
        .replace("\"booted\"", "\"upgraded\"")
        .replace("\"booted_slot\": \"B\"", "\"booted_slot\": null");
    std::fs::write(&path, state).expect("rewrite state file");

    let outcome = OsUpdate::resume(&mut node.image, None, None, healthy).expect("resume");
    let expected = "the node booted ROOT-A instead of ROOT-B: the new image did not come up";
    assert_eq!(
        outcome,
        Some(UpdateOutcome::RolledBack {
            slot: Slot::A,
            reason: expected.into()
        })
    );
    assert_eq!(node.slots().active(), Some(Slot::A));
    node.assert_data_unchanged();
}

#[test]
fn a_crash_after_a_failed_health_check_still_rolls_back_on_resume() {
    let mut node = Node::new();
    let (bytes, target) = os_image("1.1.0", 9);
    let mut update = OsUpdate::start(&node.image, &target, &bytes, None).expect("start");
    let mut unhealthy = |_: Slot| Err("etcd did not start".to_string());
    while !matches!(update.record().step, UpdateStep::HealthCheckFailed { .. }) {
        update
            .advance(&mut node.image, Some(&bytes), None, &mut unhealthy)
            .expect("step");
    }
    drop(update);
    node.restart_agent();
    // The recorded failure stands: the check is not asked again.
    let outcome = OsUpdate::resume(&mut node.image, None, None, |_| panic!("health check re-run")).expect("resume");
    let reason = "health check failed on ROOT-B: etcd did not start".to_string();
    assert_eq!(outcome, Some(UpdateOutcome::RolledBack { slot: Slot::A, reason }));
    assert_eq!(node.slots().active(), Some(Slot::A));
    node.assert_data_unchanged();
}

#[test]
fn resuming_before_the_image_write_needs_the_image_and_a_fresh_image_needs_initialising() {
    let mut node = Node::new();
    let (bytes, target) = os_image("1.1.0", 8);
    OsUpdate::start(&node.image, &target, &bytes, None).expect("start");
    let err = OsUpdate::resume(&mut node.image, None, None, healthy).expect_err("image needed");
    assert!(matches!(err, OsUpdateError::ImageNeeded { .. }), "{err}");
    let mut wrong = bytes.clone();
    wrong[0] ^= 0xFF;
    let err = OsUpdate::resume(&mut node.image, Some(&wrong), None, healthy).expect_err("other bytes");
    assert!(
        matches!(err, OsUpdateError::Verify(ImageVerifyError::Sha256Mismatch { .. })),
        "{err}"
    );
    assert!(OsUpdate::resume(&mut node.image, Some(&bytes), None, healthy)
        .expect("resume")
        .is_some());

    let dir = tempfile::tempdir().expect("tempdir");
    let mut fresh = ensure_disk_image(&dir.path().join("disk.img"), &DiskLayout::default()).expect("create");
    let err = OsUpdate::run(&mut fresh, &target, &bytes, None, healthy).expect_err("fresh image");
    assert!(err.to_string().contains("BootSlots::initialize_fresh"), "{err}");
}
