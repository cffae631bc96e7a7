//! Defect 8: the hub's store runs out of space. Writes are refused with `disk full at <path>` (not "didn't receive
//! ack in time"), and once space is freed the hub writes again on its own — no restart by anyone.
//!
//! Needs root, to mount a small tmpfs for the hub's data (as CI and the development machine run).

mod common;

use common::Hub;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(path).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a tmpfs at {} failed", path.display());
        SmallDisk {
            path: path.to_path_buf(),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the file system holding `dir` until a write fails; returns the filler file.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0xA5u8; 64 * 1024];
    while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).is_ok() {}
    path
}

/// Publishes a new profile version through the raw API; the reply as JSON.
async fn apply_version(client: &async_nats::Client, n: u32) -> Value {
    let mut layers: Value = serde_json::from_str(include_str!("../../examples/profile.json")).expect("example layers");
    layers["k8s"]["version"] = Value::String(format!("v1.31.{n}+k3s1"));
    let body = serde_json::json!({ "name": "edge-stack", "layers": layers });
    let reply = tokio::time::timeout(
        Duration::from_secs(20),
        client.request(
            "ef.api.v1.profiles.apply",
            serde_json::to_vec(&body).expect("json").into(),
        ),
    )
    .await;
    match reply {
        Ok(Ok(reply)) => serde_json::from_slice(&reply.payload).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

#[actix_rt::test]
async fn a_full_disk_is_reported_as_such_and_the_hub_writes_again_once_space_returns() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let disk = SmallDisk::mount(&dir.path().join("small"), "48m");
    let hub = Hub::start_in(dir.path(), &disk.path.join("hub"), &[]).await;
    let client = hub.client().await;
    assert!(
        apply_version(&client, 1).await["version"] == 1,
        "writes work to begin with"
    );

    let filler = fill(&disk.path);
    let mut refused = Value::Null;
    for n in 2..40 {
        let reply = apply_version(&client, n).await;
        if reply["error"].is_object() {
            refused = reply;
            break;
        }
    }
    let message = refused["error"]["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(refused["error"]["code"], 507, "{refused}");
    let store = disk.path.join("hub").join("nats").join("js");
    assert!(
        message.contains(&format!("disk full at {}", store.display())),
        "{message}"
    );

    std::fs::remove_file(&filler).expect("free the space");
    let written = testkit::eventually("writes accepted again", Duration::from_secs(90), || {
        let client = client.clone();
        async move {
            let reply = apply_version(&client, 100).await;
            reply["version"].as_u64()
        }
    })
    .await;
    assert!(written >= 2, "a new version was recorded after the recovery");
    drop(hub);
}
