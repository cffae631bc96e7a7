//! Running the `edgefleet` CLI against a test hub (from the repository root, so `examples/` paths work).

use super::Hub;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// Runs `edgefleet ARGS` pointed at `hub` as its admin (`EDGEFLEET_HUB`, `EDGEFLEET_CREDS`, `EDGEFLEET_CA`).
pub fn run(hub: &Hub, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(args)
        .envs(hub.cli_env())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("edgefleet runs")
}

/// Runs and asserts success; returns stdout.
pub fn ok(hub: &Hub, args: &[&str]) -> String {
    let out = run(hub, args);
    assert!(
        out.status.success(),
        "edgefleet {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs with `-o json` and asserts success; returns the parsed output.
pub fn json(hub: &Hub, args: &[&str]) -> Value {
    serde_json::from_str(&ok(hub, &with_json(args))).expect("json output")
}

/// Runs with `-o json`; `None` if the command failed (for polling while a resource does not exist yet).
pub fn try_json(hub: &Hub, args: &[&str]) -> Option<Value> {
    let out = run(hub, &with_json(args));
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

fn with_json<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    all
}

/// `clusters create ID --site SITE --profile PROFILE [-l LABEL]…`, asserting success.
pub fn create_cluster(hub: &Hub, id: &str, site: &str, profile: &str, labels: &[&str]) {
    let mut args = vec!["clusters", "create", id, "--site", site, "--profile", profile];
    for label in labels {
        args.extend(["-l", label]);
    }
    ok(hub, &args);
}

/// `nodes assign NODE --cluster CLUSTER --role ROLE [--site SITE]`, asserting success.
pub fn assign(hub: &Hub, node: &str, site: Option<&str>, cluster: &str, role: &str) {
    let mut args = vec!["nodes", "assign", node, "--cluster", cluster, "--role", role];
    if let Some(site) = site {
        args.extend(["--site", site]);
    }
    ok(hub, &args);
}

/// The arguments of `rollouts create` moving `tier=store` clusters to `profile` in `waves`.
pub fn rollout_args<'a>(id: &'a str, profile: &'a str, waves: &'a str) -> Vec<&'a str> {
    vec![
        "rollouts",
        "create",
        "--id",
        id,
        "--profile",
        profile,
        "--selector",
        "tier=store",
        "--waves",
        waves,
    ]
}
