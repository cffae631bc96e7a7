//! [`Lan`]: a real LAN of Linux network namespaces for the tests and the demo of zero-touch sites — machines that
//! find each other by UDP broadcast and reach a hub in the root namespace over a link that can be cut.
//!
//! One bridge in the root namespace with the address `.1` of a free /24 in 10.200.0.0/16; one network namespace
//! per machine, joined to the bridge by a veth pair (`eth0` inside, with the machine's own address and a default
//! route via the bridge), `lo` up (servers listen on loopback too). A process of the root namespace listening on
//! [`Lan::bridge_ip`] is reachable from every machine. Names carry the creating pid and a per-process number
//! (see `names.rs`), so parallel tests and test binaries never collide.
//!
//! This crate owns exactly the namespaces, interfaces and processes of its LANs: it never touches a name it did
//! not make, and never leaves anything behind — dropping a [`Lan`] (also while a test panics) kills every process
//! in its namespaces and deletes them, and [`Lan::build`] first removes what SIGKILLed tests left. It needs root
//! and iproute2's `ip`; without them it fails loudly ([`LanError`]), never skips. Every method is blocking: it runs
//! `ip` and waits for it (milliseconds).

mod enter_netns;
mod error;
mod ip_command;
mod leftovers;
mod names;
mod subnet;

pub use error::LanError;

use enter_netns::enter_netns_on_spawn;
use ip_command::{ip, is_already_gone, kill_all_in, pids_in, require_privileges};
use names::{LanPart, LanTag, LAN_NUMBERS};
use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use subnet::{occupied_prefixes, Subnet24, MAX_MACHINES, POOL};

/// The machine's network interface, inside its namespace.
pub const MACHINE_NIC: &str = "eth0";

/// Prefix length of every LAN.
pub const PREFIX_LEN: u8 = 24;

/// The next LAN number of this process (wraps; a number still in use is skipped because its bridge exists).
static NEXT_LAN_NUMBER: AtomicU16 = AtomicU16::new(0);

/// A LAN of machines (network namespaces) on one bridge; dropping it removes all of it.
#[derive(Debug)]
pub struct Lan {
    tag: LanTag,
    bridge: String,
    subnet: Subnet24,
    machines: Vec<LanMachine>,
}

/// One machine of a [`Lan`]: a network namespace plugged into the bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanMachine {
    /// For messages and node names: `machine-<index>`.
    pub name: String,
    /// Its network namespace (`ip netns exec <netns> …` by hand; [`Lan::command`] in code).
    pub netns: String,
    /// Its address on the LAN (on [`MACHINE_NIC`]).
    pub ip: Ipv4Addr,
    /// The bridge-side end of its veth pair, in the root namespace: where [`Lan::cut`] pulls the cable, and where
    /// `tc` can add delay or loss.
    pub bridge_port: String,
}

impl Lan {
    /// Builds a LAN of `machines` machines (more can be plugged in later with [`Lan::add_machine`]), after
    /// removing the leftovers of LANs whose creating process is gone.
    pub fn build(machines: usize) -> Result<Lan, LanError> {
        if machines > MAX_MACHINES {
            return Err(LanError::TooManyMachines {
                asked: machines,
                max: MAX_MACHINES,
            });
        }
        require_privileges()?;
        leftovers::remove_dead_lans()?;
        let (tag, bridge) = create_bridge()?;
        let subnet = match claim_subnet(tag, &bridge) {
            Ok(subnet) => subnet,
            Err(error) => {
                delete_link(&bridge);
                return Err(error);
            }
        };
        // From here on, dropping `lan` (also on an error below) removes everything made so far.
        let mut lan = Lan {
            tag,
            bridge,
            subnet,
            machines: Vec::with_capacity(machines),
        };
        ip(&format!("link set {} up", lan.bridge))?;
        for _ in 0..machines {
            lan.add_machine()?;
        }
        Ok(lan)
    }

    /// Plugs in one more machine (e.g. a replacement for one that was powered off); returns its index.
    pub fn add_machine(&mut self) -> Result<usize, LanError> {
        let index = self.machines.len();
        if index >= MAX_MACHINES {
            return Err(LanError::TooManyMachines {
                asked: index + 1,
                max: MAX_MACHINES,
            });
        }
        let slot = u8::try_from(index).expect("MAX_MACHINES fits a byte");
        let machine = LanMachine {
            name: format!("machine-{index}"),
            netns: self.tag.name(LanPart::Netns(slot)),
            ip: self.subnet.machine_ip(index),
            bridge_port: self.tag.name(LanPart::BridgePort(slot)),
        };
        if let Err(error) = self.plug_in(&machine) {
            remove_machine(&machine);
            return Err(error);
        }
        self.machines.push(machine);
        Ok(index)
    }

    fn plug_in(&self, machine: &LanMachine) -> Result<(), LanError> {
        let (netns, port, nic, bridge) = (&machine.netns, &machine.bridge_port, MACHINE_NIC, &self.bridge);
        ip(&format!("netns add {netns}"))?;
        ip(&format!("link add {port} type veth peer name {nic} netns {netns}"))?;
        ip(&format!("link set {port} master {bridge} up"))?;
        ip(&format!(
            "-n {netns} addr add {}/{PREFIX_LEN} brd + dev {nic}",
            machine.ip
        ))?;
        ip(&format!("-n {netns} link set lo up"))?;
        ip(&format!("-n {netns} link set {nic} up"))?;
        ip(&format!("-n {netns} route add default via {}", self.bridge_ip()))?;
        Ok(())
    }

    /// The bridge's address: listen here in the root namespace (the hub, a link proxy) to be reached by every
    /// machine.
    pub fn bridge_ip(&self) -> Ipv4Addr {
        self.subnet.bridge_ip()
    }

    /// The LAN's broadcast address (send with SO_BROADCAST).
    pub fn broadcast(&self) -> Ipv4Addr {
        self.subnet.broadcast()
    }

    /// The bridge's interface name in the root namespace.
    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    /// The machines, by index (powered-off ones included).
    pub fn machines(&self) -> &[LanMachine] {
        &self.machines
    }

    /// Machine `index`; panics if there is none (a bug in the test).
    pub fn machine(&self, index: usize) -> &LanMachine {
        match self.machines.get(index) {
            Some(machine) => machine,
            None => panic!("no machine {index}: this LAN has {}", self.machines.len()),
        }
    }

    /// A command that runs `program` inside machine `index` (add its arguments): the child enters the machine's
    /// network namespace before exec, so once `spawn` returns it runs there (and [`Lan::power_off`] finds it). It
    /// gets a new process group of its own, so the test can kill it with everything it starts. Spawning after the
    /// LAN is dropped fails (the namespace is gone).
    pub fn command(&self, index: usize, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        enter_netns_on_spawn(&mut command, &self.machine(index).netns);
        command.process_group(0);
        command
    }

    /// Runs `work` on a new thread inside machine `index`'s network namespace (a test reaching a machine's
    /// loopback-only or local services, as a process on it would) and returns what it returned.
    pub fn run_inside<T: Send + 'static>(
        &self,
        index: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, LanError> {
        let netns = self.machine(index).netns.clone();
        let thread = std::thread::spawn(move || enter_netns::enter_netns_here(&netns).map(|()| work()));
        match thread.join() {
            Ok(result) => result.map_err(|e| LanError::EnterNamespace {
                what: format!("entering machine {index}'s namespace"),
                source: e,
            }),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// [`Lan::command`] for tokio.
    pub fn tokio_command(&self, index: usize, program: impl AsRef<OsStr>) -> tokio::process::Command {
        self.command(index, program).into()
    }

    /// The processes running inside machine `index`.
    pub fn pids(&self, index: usize) -> Result<Vec<u32>, LanError> {
        pids_in(&self.machine(index).netns)
    }

    /// Machine `index` loses power: its NIC goes down first (so no FIN or RST leaves it, as with a real power cut),
    /// then every process in its namespace gets SIGKILL. Its address stays; [`Lan::power_on`] brings the NIC back.
    pub fn power_off(&self, index: usize) -> Result<(), LanError> {
        let netns = &self.machine(index).netns;
        ip(&format!("-n {netns} link set {MACHINE_NIC} down"))?;
        kill_all_in(netns)
    }

    /// Brings machine `index`'s NIC back up with its address and default route (no process is started: the test
    /// boots what it needs).
    pub fn power_on(&self, index: usize) -> Result<(), LanError> {
        let netns = &self.machine(index).netns;
        ip(&format!("-n {netns} link set {MACHINE_NIC} up"))?;
        // Taking the NIC down removed the default route; the connected /24 comes back with the link.
        ip(&format!("-n {netns} route replace default via {}", self.bridge_ip()))?;
        Ok(())
    }

    /// Partitions machine `index` from the LAN (and the hub) without stopping it: its bridge port goes down, its
    /// NIC loses carrier, nothing crosses until [`Lan::heal`].
    pub fn cut(&self, index: usize) -> Result<(), LanError> {
        ip(&format!("link set {} down", self.machine(index).bridge_port)).map(drop)
    }

    /// Reconnects a [`Lan::cut`] machine.
    pub fn heal(&self, index: usize) -> Result<(), LanError> {
        ip(&format!("link set {} up", self.machine(index).bridge_port)).map(drop)
    }
}

impl Drop for Lan {
    /// Kills every process in the machines' namespaces and deletes the namespaces, veths and the bridge; what
    /// cannot be removed is reported on stderr (a panic here would abort a test that is already unwinding).
    fn drop(&mut self) {
        for machine in self.machines.iter().rev() {
            remove_machine(machine);
        }
        delete_link(&self.bridge);
    }
}

/// Creates the bridge under the next free LAN name of this process.
fn create_bridge() -> Result<(LanTag, String), LanError> {
    let pid = std::process::id();
    for _ in 0..LAN_NUMBERS {
        let number = NEXT_LAN_NUMBER.fetch_add(1, Ordering::Relaxed) % LAN_NUMBERS;
        let tag = LanTag::new(pid, number);
        let bridge = tag.name(LanPart::Bridge);
        match ip(&format!("link add {bridge} type bridge")) {
            Ok(_) => return Ok((tag, bridge)),
            Err(LanError::CommandFailed { stderr, .. }) if stderr.contains("File exists") => continue,
            Err(error) => return Err(error),
        }
    }
    Err(LanError::NoFreeName {
        tried: usize::from(LAN_NUMBERS),
    })
}

/// Gives the bridge the `.1` of a /24 that nothing else in the root namespace uses. Two LANs built at the same
/// moment may pick the same one: each looks again after adding its address, and gives it up if another
/// interface holds it too (they then try different next ones, since they start from different seeds).
fn claim_subnet(tag: LanTag, bridge: &str) -> Result<Subnet24, LanError> {
    let seed = tag.pid.wrapping_mul(97).wrapping_add(u32::from(tag.number) * 13);
    let others_inside = |subnet: Subnet24| -> Result<bool, LanError> {
        Ok(occupied_prefixes()?
            .iter()
            .any(|occupied| occupied.device.as_deref() != Some(bridge) && subnet.holds(occupied.prefix)))
    };
    for subnet in Subnet24::candidates(seed) {
        if others_inside(subnet)? {
            continue;
        }
        let address = format!("{}/{PREFIX_LEN}", subnet.bridge_ip());
        ip(&format!("addr add {address} brd + dev {bridge}"))?;
        if !others_inside(subnet)? {
            return Ok(subnet);
        }
        ip(&format!("addr del {address} dev {bridge}"))?;
    }
    Err(LanError::NoFreeSubnet { pool: POOL })
}

/// Kills what runs in the machine and deletes its veth pair and namespace, reporting failures on stderr.
fn remove_machine(machine: &LanMachine) {
    report_cleanup(&machine.netns, kill_all_in(&machine.netns));
    delete_link(&machine.bridge_port);
    report_cleanup(&machine.netns, ip(&format!("netns delete {}", machine.netns)).map(drop));
}

/// Deletes an interface of the root namespace (a veth takes its peer along), reporting failures on stderr.
fn delete_link(name: &str) {
    report_cleanup(name, ip(&format!("link delete {name}")).map(drop));
}

fn report_cleanup(name: &str, result: Result<(), LanError>) {
    match result {
        Err(error) if !is_already_gone(&error) => {
            // eprintln, not tracing: tests rarely install a subscriber, and a leak should be seen.
            eprintln!("netns-lan: could not remove {name}: {error}");
        }
        _ => {}
    }
}
