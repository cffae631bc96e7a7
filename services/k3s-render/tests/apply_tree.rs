//! Given a temp dir standing in for `/`, when rendered files are applied, then they land under it atomically and
//! owner-only, a second apply of the same rendering changes nothing, stale manifests go and nothing else does, and
//! the record of what was applied survives a restart — or is reported, never panicked on, when it is damaged.

mod k3s_support;

use k3s_render::{apply, load_applied, render, ApplyError, ApplyPlan, Rendered, CONFIG_PATH, RECORD_PATH};
use k3s_support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn on_disk(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

#[test]
fn given_an_empty_root_when_applied_then_every_file_is_written_owner_only_and_k3s_starts() {
    let root = tempfile::tempdir().expect("tempdir");
    let rendered = render(&first_server(store_profile())).expect("renders");

    let plan = apply(root.path(), None, &rendered).expect("applies");

    assert_eq!(plan.write, rendered.files.keys().cloned().collect::<Vec<_>>());
    assert!(plan.remove.is_empty());
    assert!(plan.restart);
    for (path, contents) in &rendered.files {
        let file = root.path().join(path.strip_prefix("/").unwrap());
        assert_eq!(&std::fs::read_to_string(&file).expect("written"), contents);
        let mode = std::fs::metadata(&file).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(on_disk(root.path(), "/etc/rancher/k3s"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .filter(|name| name != "config.yaml")
        .collect();
    assert!(leftovers.is_empty(), "no temp files left behind: {leftovers:?}");
    assert_eq!(load_applied(root.path()).expect("record reads"), Some(rendered));
}

#[test]
fn given_an_applied_rendering_when_applied_again_then_nothing_is_written_and_k3s_is_not_restarted() {
    let root = tempfile::tempdir().expect("tempdir");
    let rendered = render(&first_server(store_profile())).expect("renders");
    apply(root.path(), None, &rendered).expect("first apply");
    let config = on_disk(root.path(), CONFIG_PATH);
    let written_at = std::fs::metadata(&config).expect("metadata").modified().expect("mtime");

    let previous = load_applied(root.path()).expect("record reads");
    let plan = apply(root.path(), previous.as_ref(), &rendered).expect("second apply");

    assert_eq!(plan, ApplyPlan::default());
    assert!(plan.is_empty());
    assert_eq!(
        std::fs::metadata(&config).expect("metadata").modified().expect("mtime"),
        written_at
    );
}

#[test]
fn given_a_release_dropped_then_only_its_manifest_is_removed_and_foreign_files_stay() {
    let root = tempfile::tempdir().expect("tempdir");
    let with_two = render(&first_server(store_profile())).expect("renders");
    apply(root.path(), None, &with_two).expect("applies");
    let manifests = on_disk(root.path(), k3s_render::MANIFESTS_DIR);
    std::fs::write(manifests.join("traefik-config.yaml"), "placed by hand").expect("foreign manifest");
    std::fs::write(manifests.join("edgefleet-by-hand.yaml"), "not in the record").expect("unrecorded manifest");

    let mut profile = store_profile();
    profile.releases.clear();
    let with_cni_only = render(&first_server(profile)).expect("renders");
    let plan = apply(root.path(), Some(&with_two), &with_cni_only).expect("applies");

    assert_eq!(
        plan.remove,
        [Path::new(k3s_render::MANIFESTS_DIR).join("edgefleet-pos.yaml")]
    );
    assert!(plan.write.is_empty() && !plan.restart, "{plan}");
    assert!(!manifests.join("edgefleet-pos.yaml").exists());
    assert!(manifests.join("edgefleet-cilium.yaml").exists());
    assert!(manifests.join("traefik-config.yaml").exists());
    assert!(manifests.join("edgefleet-by-hand.yaml").exists());
}

#[test]
fn given_a_record_naming_files_this_crate_does_not_own_then_they_are_never_removed() {
    let root = tempfile::tempdir().expect("tempdir");
    let passwd = on_disk(root.path(), "/etc/passwd");
    std::fs::create_dir_all(passwd.parent().unwrap()).expect("dir");
    std::fs::write(&passwd, "root:x:0:0").expect("file");
    let mut tampered = render(&worker(store_profile())).expect("renders");
    tampered.files.insert("/etc/passwd".into(), "root:x:0:0".into());

    let next = render(&worker(store_profile())).expect("renders");
    let plan = apply(root.path(), Some(&tampered), &next).expect("applies");

    assert!(plan.remove.is_empty());
    assert!(passwd.exists());
}

#[test]
fn given_a_rendering_with_a_path_outside_the_root_then_it_is_refused_before_anything_is_written() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut rendered = render(&worker(store_profile())).expect("renders");
    rendered.files.insert("/etc/../../escape".into(), "x".into());

    let err = apply(root.path(), None, &rendered).expect_err("refused");

    assert!(matches!(err, ApplyError::PathOutsideRoot { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "refusing to write /etc/../../escape: rendered paths must be absolute and stay under the root"
    );
    assert!(!on_disk(root.path(), CONFIG_PATH).exists());
    assert_eq!(load_applied(root.path()).expect("no record"), None);
}

#[test]
fn given_no_record_then_nothing_was_applied() {
    let root = tempfile::tempdir().expect("tempdir");
    assert_eq!(load_applied(root.path()).expect("reads"), None);
}

#[test]
fn given_a_damaged_record_then_loading_it_names_the_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let record = on_disk(root.path(), RECORD_PATH);
    std::fs::create_dir_all(record.parent().unwrap()).expect("dir");
    std::fs::write(&record, b"{\"files\": {\"/etc/rancher/k3s/config.yaml\": 7}").expect("write");

    let err = load_applied(root.path()).expect_err("damaged");

    let message = err.to_string();
    assert!(matches!(err, ApplyError::RecordUnreadable { .. }));
    assert!(message.contains(&record.display().to_string()), "{message}");
    assert!(message.ends_with("remove it to write every file again"), "{message}");
}

#[test]
fn given_a_record_that_is_a_directory_then_loading_it_is_an_error_not_a_panic() {
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(on_disk(root.path(), RECORD_PATH)).expect("dir");
    assert!(matches!(
        load_applied(root.path()),
        Err(ApplyError::RecordUnreadable { .. })
    ));
}

#[test]
fn given_a_rendering_then_its_record_is_json_that_reads_back_the_same() {
    let rendered = render(&joining_server(store_profile())).expect("renders");
    let json = serde_json::to_string(&rendered).expect("serializes");
    let back: Rendered = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, rendered);
}

#[test]
fn given_an_applied_rendering_when_unapplied_then_its_files_token_and_record_go_and_nothing_else() {
    let root = tempfile::tempdir().expect("tempdir");
    let rendered = render(&first_server(store_profile())).expect("renders");
    apply(root.path(), None, &rendered).expect("applies");
    let token = Path::new("/var/lib/edgefleet/k3s-token");
    k3s_render::write_secret(root.path(), token, "s3cret").expect("token written");
    let foreign = on_disk(root.path(), "/var/lib/rancher/k3s/server/manifests/someone-else.yaml");
    std::fs::write(&foreign, "kind: ConfigMap\n").expect("foreign manifest");

    let removed = k3s_render::unapply(root.path(), token).expect("unapplies");

    assert!(removed.contains(&PathBuf::from(CONFIG_PATH)) && removed.contains(&token.to_path_buf()));
    for path in rendered.files.keys() {
        assert!(
            !on_disk(root.path(), &path.display().to_string()).exists(),
            "{} removed",
            path.display()
        );
    }
    assert!(!on_disk(root.path(), RECORD_PATH).exists());
    assert!(foreign.exists(), "a manifest edgefleet did not write stays");
    assert_eq!(load_applied(root.path()).expect("no record"), None);
    assert_eq!(
        k3s_render::unapply(root.path(), token).expect("again"),
        Vec::<PathBuf>::new()
    );
}
