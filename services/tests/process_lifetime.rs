//! Defect 12: no child outlives its parent, whatever signal the parent gets. `edgefleet demo` stops its fleet and
//! removes its temp dir on Ctrl-C, SIGTERM or SIGHUP at any moment of its story; killed with -9 it cannot clean up,
//! but every child still dies with it; `edgefleet hub` stops its nats-server on SIGHUP.

mod common;

use common::{eventually, Hub};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Processes (other than this test) whose command line mentions `marker`.
fn processes_mentioning(marker: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
                .filter(|e| e.file_name().to_string_lossy() != me)
                .filter_map(|e| {
                    let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                    cmdline
                        .contains(marker)
                        .then(|| format!("{}: {cmdline}", e.file_name().to_string_lossy()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) touches no memory of ours.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

fn start_demo(tmp: &Path) -> Child {
    let out = std::fs::File::create(tmp.join("demo.out")).expect("demo output");
    Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["demo", "--sites", "1", "--nodes", "1"])
        .env("TMPDIR", tmp)
        .env_remove("EDGEFLEET_HUB")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("clone"))
        .stderr(out)
        .spawn()
        .expect("demo starts")
}

async fn wait_for_line(tmp: &Path, line: &str) {
    let path = tmp.join("demo.out");
    eventually(&format!("the demo to say {line:?}"), Duration::from_secs(90), || {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        async move { text.contains(line).then_some(()) }
    })
    .await;
}

async fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    eventually("the demo to exit", Duration::from_secs(60), || {
        let status = child.try_wait().ok().flatten();
        async move { status }
    })
    .await
}

async fn nothing_left_of(marker: &str) {
    testkit::eventually_with(
        &format!("no process left mentioning {marker}"),
        Duration::from_secs(30),
        || async {
            let left = processes_mentioning(marker);
            if left.is_empty() {
                Ok(())
            } else {
                Err(left.join("\n"))
            }
        },
    )
    .await;
}

fn demo_dirs_left(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .expect("tmp")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("edgefleet-demo-"))
        .collect()
}

/// Sends `sig` once the demo has printed `after`, then checks the fleet is gone and the temp dir removed.
async fn interrupt_demo(sig: i32, after: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut demo = start_demo(tmp.path());
    wait_for_line(tmp.path(), after).await;
    signal(demo.id(), sig);
    let status = wait_exit(&mut demo).await;
    let output = std::fs::read_to_string(tmp.path().join("demo.out")).unwrap_or_default();
    assert!(!status.success(), "an interrupted story is not a success: {output}");
    assert!(output.contains("stopping the fleet"), "{output}");
    nothing_left_of(&tmp.path().display().to_string()).await;
    assert_eq!(demo_dirs_left(tmp.path()), Vec::<String>::new(), "temp dir removed");
}

#[actix_rt::test]
async fn sigterm_mid_story_stops_the_fleet_and_removes_its_data() {
    interrupt_demo(libc::SIGTERM, "node agents joined").await;
}

#[actix_rt::test]
async fn a_closed_terminal_mid_story_stops_the_fleet_and_removes_its_data() {
    interrupt_demo(libc::SIGHUP, "node agents joined").await;
}

#[actix_rt::test]
async fn ctrl_c_works_at_any_moment_even_while_the_hub_starts() {
    interrupt_demo(libc::SIGINT, "edgefleet demo").await;
}

#[actix_rt::test]
async fn a_demo_killed_with_9_still_takes_every_child_with_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut demo = start_demo(tmp.path());
    wait_for_line(tmp.path(), "node agents joined").await;
    assert!(
        !processes_mentioning(&tmp.path().display().to_string()).is_empty(),
        "the fleet runs"
    );
    signal(demo.id(), libc::SIGKILL);
    wait_exit(&mut demo).await;
    nothing_left_of(&tmp.path().display().to_string()).await;
}

#[actix_rt::test]
async fn a_hub_stops_its_nats_server_on_sighup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::start(dir.path()).await;
    let marker = hub.data_dir.join("nats").display().to_string();
    assert_eq!(processes_mentioning(&marker).len(), 1, "its nats-server runs");
    hub.process.signal(libc::SIGHUP);
    let status = hub.process.wait().expect("hub exits");
    assert!(status.success(), "a clean stop: {status}");
    nothing_left_of(&marker).await;
}
