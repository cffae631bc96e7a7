//! A LAN of network namespaces, for real: broadcast between machines, TCP to a hub listening on the bridge, power
//! cuts, partitions — and nothing left behind after a drop, a panic, or a test process killed with SIGKILL.
//!
//! The socket work runs in small python3 processes inside the machines (`Lan::tokio_command`), as a node would.
//! Needs root; without it every test fails with `LanError::NotPrivileged`.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use testkit::{eventually, Lan};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdout};
use tokio::time::timeout;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), BoxError>;

/// The UDP port machines announce themselves on (each LAN has its own namespaces, so tests share it).
const DISCOVERY_PORT: &str = "47000";

/// Deadline for anything that happens at once on a local bridge (process start-up included).
const AT_ONCE: Duration = Duration::from_secs(5);

/// How long a cut machine listens for a broadcast that an uncut machine has already received.
const CUT_LISTEN_S: &str = "0.5";

/// Binds the discovery port on all addresses (a broadcast reaches only such a socket), prints `ready`, then the
/// first datagram as `<payload> <sender ip>`, or `silence` after argv[2] seconds.
const LISTEN_PY: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
try:
    data, (host, _) = s.recvfrom(1500)
    print(data.decode(), host, flush=True)
except socket.timeout:
    print("silence", flush=True)
"#;

/// Sends argv[3] once to argv[1]:argv[2] with SO_BROADCAST.
const BROADCAST_PY: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
"#;

/// Connects to argv[1]:argv[2] (argv[4] seconds at most) and sends argv[3]; exits 1 with the reason if it cannot.
const CONNECT_PY: &str = r#"
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[4]))
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
s.sendall(sys.argv[3].encode())
s.close()
"#;

/// A python listener for broadcasts inside one machine.
struct BroadcastListener {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl BroadcastListener {
    /// Starts listening in `machine` for `listen_s` seconds; returns once the socket is bound.
    async fn start(lan: &Lan, machine: usize, listen_s: &str) -> Result<Self, BoxError> {
        let mut child = lan
            .tokio_command(machine, "python3")
            .args(["-c", LISTEN_PY, DISCOVERY_PORT, listen_s])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("listener has no stdout")?;
        let mut listener = BroadcastListener {
            child,
            lines: BufReader::new(stdout).lines(),
        };
        let first = listener.next_line().await?;
        assert_eq!(first, "ready", "listener in machine {machine}");
        Ok(listener)
    }

    async fn next_line(&mut self) -> Result<String, BoxError> {
        let line = timeout(AT_ONCE, self.lines.next_line()).await??;
        Ok(line.ok_or("listener ended without a line")?)
    }

    /// What it heard (`<payload> <sender ip>`), or `None` if its time ran out.
    async fn heard(mut self) -> Result<Option<String>, BoxError> {
        let line = self.next_line().await?;
        timeout(AT_ONCE, self.child.wait()).await??;
        Ok((line != "silence").then_some(line))
    }
}

/// Broadcasts `payload` once from `machine` to the LAN.
async fn broadcast_from(lan: &Lan, machine: usize, payload: &str) -> TestResult {
    let output = timeout(
        AT_ONCE,
        lan.tokio_command(machine, "python3")
            .args([
                "-c",
                BROADCAST_PY,
                &lan.broadcast().to_string(),
                DISCOVERY_PORT,
                payload,
            ])
            .output(),
    )
    .await??;
    assert!(
        output.status.success(),
        "broadcast from machine {machine}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Connects from `machine` to `port` on the bridge and sends `payload`: Ok(true) when it got through, Ok(false)
/// when the connection failed within `connect_s` seconds.
async fn connect_to_hub(
    lan: &Lan,
    machine: usize,
    port: u16,
    payload: &str,
    connect_s: &str,
) -> Result<bool, BoxError> {
    let output = timeout(
        AT_ONCE,
        lan.tokio_command(machine, "python3")
            .args([
                "-c",
                CONNECT_PY,
                &lan.bridge_ip().to_string(),
                &port.to_string(),
                payload,
                connect_s,
            ])
            .output(),
    )
    .await??;
    Ok(output.status.success())
}

/// A hub in the root namespace: accepts one connection on the bridge and returns the peer's address and message.
async fn hub_receives(hub: &TcpListener) -> Result<(std::net::IpAddr, String), BoxError> {
    let (mut socket, peer) = timeout(AT_ONCE, hub.accept()).await??;
    let mut message = String::new();
    timeout(AT_ONCE, socket.read_to_string(&mut message)).await??;
    Ok((peer.ip(), message))
}

#[tokio::test]
async fn given_two_machines_when_one_broadcasts_then_the_other_hears_it_and_reaches_the_hub_on_the_bridge() -> TestResult
{
    let lan = Lan::build(2)?;

    let listener = BroadcastListener::start(&lan, 1, "5").await?;
    broadcast_from(&lan, 0, "hello-from-0").await?;
    let heard = listener.heard().await?;
    assert_eq!(heard, Some(format!("hello-from-0 {}", lan.machine(0).ip)));

    let hub = TcpListener::bind((lan.bridge_ip(), 0)).await?;
    let port = hub.local_addr()?.port();
    let (connected, received) = tokio::join!(connect_to_hub(&lan, 1, port, "hello-hub", "3"), hub_receives(&hub));
    assert!(
        connected?,
        "machine 1 could not connect to the hub on {}:{port}",
        lan.bridge_ip()
    );
    assert_eq!(received?, (lan.machine(1).ip.into(), "hello-hub".to_string()));
    Ok(())
}

#[tokio::test]
async fn given_processes_in_a_machine_when_it_is_powered_off_then_all_are_killed_until_power_on_reconnects_it(
) -> TestResult {
    let lan = Lan::build(1)?;
    // A boot that leaves a grandchild behind: power-off must take it too, not only the direct child.
    let mut boot = lan
        .tokio_command(0, "sh")
        .args(["-c", "sleep 1000 & exec sleep 1000"])
        .kill_on_drop(true)
        .spawn()?;
    eventually("both sleeps running in machine 0", AT_ONCE, || async {
        (lan.pids(0).ok()?.len() == 2).then_some(())
    })
    .await;

    lan.power_off(0)?;

    assert_eq!(lan.pids(0)?, Vec::<u32>::new());
    let status = timeout(AT_ONCE, boot.wait()).await??;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    let hub = TcpListener::bind((lan.bridge_ip(), 0)).await?;
    let port = hub.local_addr()?.port();
    assert!(
        !connect_to_hub(&lan, 0, port, "from-a-dead-machine", "1").await?,
        "a powered-off machine reached the hub"
    );

    lan.power_on(0)?;

    let (connected, received) = tokio::join!(connect_to_hub(&lan, 0, port, "back", "3"), hub_receives(&hub));
    assert!(connected?, "machine 0 could not reach the hub after power-on");
    assert_eq!(received?, (lan.machine(0).ip.into(), "back".to_string()));
    Ok(())
}

#[tokio::test]
async fn given_a_cut_machine_when_another_broadcasts_then_only_the_uncut_one_hears_it_until_heal() -> TestResult {
    let lan = Lan::build(3)?;

    lan.cut(1)?;

    let cut_off = BroadcastListener::start(&lan, 1, CUT_LISTEN_S).await?;
    let witness = BroadcastListener::start(&lan, 2, "5").await?;
    broadcast_from(&lan, 0, "while-cut").await?;
    // The witness proves the datagram crossed the LAN; the cut machine listened as long again and more.
    assert_eq!(witness.heard().await?, Some(format!("while-cut {}", lan.machine(0).ip)));
    assert_eq!(cut_off.heard().await?, None, "a cut machine heard a broadcast");

    lan.heal(1)?;

    let healed = BroadcastListener::start(&lan, 1, "5").await?;
    broadcast_from(&lan, 0, "after-heal").await?;
    assert_eq!(healed.heard().await?, Some(format!("after-heal {}", lan.machine(0).ip)));
    Ok(())
}

/// Names of network namespaces and root-namespace interfaces that exist now.
fn existing_names() -> Vec<String> {
    let run = |args: &[&str]| {
        let output = Command::new("ip").args(args).output().expect("ip runs");
        assert!(
            output.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let netns = run(&["netns", "list"]);
    let links = run(&["-o", "link", "show"]);
    let netns = netns.lines().filter_map(|line| line.split_whitespace().next());
    let links = links.lines().filter_map(|line| {
        let name = line.split_whitespace().nth(1)?.strip_suffix(':')?;
        Some(name.split('@').next().unwrap_or(name))
    });
    netns.chain(links).map(str::to_string).collect()
}

/// Everything a LAN named: its bridge, and each machine's namespace and bridge port.
fn names_of(lan: &Lan) -> Vec<String> {
    let machines = lan
        .machines()
        .iter()
        .flat_map(|m| [m.netns.clone(), m.bridge_port.clone()]);
    std::iter::once(lan.bridge().to_string()).chain(machines).collect()
}

fn assert_all_gone(names: &[String]) {
    let existing = existing_names();
    let left: Vec<&String> = names.iter().filter(|name| existing.contains(name)).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn given_a_lan_with_a_running_process_when_it_is_dropped_then_its_namespaces_veths_and_bridge_are_gone() -> TestResult {
    let lan = Lan::build(2)?;
    let names = names_of(&lan);
    assert_eq!(names.len(), 5);
    let existing = existing_names();
    assert!(
        names.iter().all(|name| existing.contains(name)),
        "{names:?} not all in {existing:?}"
    );
    let mut sleeper = lan.command(1, "sleep").arg("1000").spawn()?;

    drop(lan);

    assert_all_gone(&names);
    let status = exit_status_within(&mut sleeper, AT_ONCE).ok_or("the process in machine 1 outlived its LAN")?;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    Ok(())
}

#[test]
fn given_a_test_that_panics_with_a_lan_when_it_unwinds_then_the_lan_is_gone() {
    let names = Mutex::new(Vec::new());

    let outcome = std::panic::catch_unwind(|| {
        let lan = Lan::build(1).expect("a LAN builds");
        *names.lock().unwrap_or_else(|e| e.into_inner()) = names_of(&lan);
        panic!("the test fails while its LAN is up");
    });

    assert!(outcome.is_err());
    let names = names.into_inner().unwrap_or_else(|e| e.into_inner());
    assert_eq!(names.len(), 3);
    assert_all_gone(&names);
}

/// Runs `ip <command_line>` by hand (as a test that made its own mess would have).
fn ip(command_line: &str) -> TestResult {
    let output = Command::new("ip").args(command_line.split_whitespace()).output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ip {command_line}: {stderr}");
    Ok(())
}

/// How `child` exited, once it has (a SIGKILLed process leaves its namespace a moment before it can be reaped);
/// `None` if it still runs after `deadline`.
fn exit_status_within(child: &mut std::process::Child, deadline: Duration) -> Option<std::process::ExitStatus> {
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if started.elapsed() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// A child of the test that is killed and reaped when the test ends, however it ends.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Removes the look-alikes of the leftover test even when it fails (they are not the LAN module's to remove).
struct LookAlikes {
    netns: String,
    link: String,
}

impl Drop for LookAlikes {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.netns]).output();
        let _ = Command::new("ip").args(["link", "delete", &self.link]).output();
    }
}

#[test]
fn given_leftovers_of_a_test_process_killed_with_sigkill_when_a_lan_is_built_then_only_they_are_removed() -> TestResult
{
    // The "killed test process": a real one, alive while its leftovers are made (so no parallel build removes them
    // half-made), then gone. Names follow the scheme in testkit::lan's names.rs: efl + pid + LAN number + part.
    let mut killed = KilledOnDrop(Command::new("sleep").arg("1000").spawn()?);
    let tag = format!("efl{:06x}{:03x}", killed.0.id(), 0x2a);
    let (bridge, netns, bridge_port) = (format!("{tag}b"), format!("{tag}n00"), format!("{tag}h00"));
    let look_alikes = LookAlikes {
        netns: format!("{tag}n00-not-a-lan"),
        link: format!("{tag}x"),
    };
    ip(&format!("link add {bridge} type bridge"))?;
    ip(&format!("netns add {netns}"))?;
    ip(&format!(
        "link add {bridge_port} type veth peer name eth0 netns {netns}"
    ))?;
    ip(&format!("link set {bridge_port} master {bridge} up"))?;
    ip(&format!("netns add {}", look_alikes.netns))?;
    ip(&format!("link add {} type bridge", look_alikes.link))?;
    let mut orphan = KilledOnDrop(
        Command::new("ip")
            .args(["netns", "exec", &netns, "sleep", "1000"])
            .spawn()?,
    );
    let leftovers = [bridge, netns.clone(), bridge_port];
    let existing = existing_names();
    assert!(
        leftovers.iter().all(|name| existing.contains(name)),
        "{leftovers:?} not all made"
    );
    let mut orphan_running = false;
    for _ in 0..100 {
        let pids = Command::new("ip").args(["netns", "pids", &netns]).output()?;
        if !pids.stdout.is_empty() {
            orphan_running = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(orphan_running, "the orphan never entered {netns}");
    killed.0.kill()?;
    killed.0.wait()?;

    let lan = Lan::build(1)?;

    assert_all_gone(&leftovers);
    let status = exit_status_within(&mut orphan.0, AT_ONCE).ok_or("the orphan in the leftover namespace still runs")?;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let existing = existing_names();
    assert!(
        existing.contains(&look_alikes.netns),
        "a namespace not made by testkit::lan was removed"
    );
    assert!(
        existing.contains(&look_alikes.link),
        "an interface not made by testkit::lan was removed"
    );
    drop(lan);
    drop(look_alikes);
    Ok(())
}
