//! Removing what LANs of dead processes left behind: a test killed with SIGKILL cannot drop its LAN, so the
//! next [`super::Lan::build`] kills the processes in those namespaces and deletes the namespaces, veths and
//! bridges. Only names [`LanTag::parse`] recognises are touched, and only when their creating pid no longer runs
//! (pids of this pid namespace: a LAN shared with another pid namespace's processes is not supported).

use super::ip_command::{ip, is_already_gone, kill_all_in};
use super::names::{LanPart, LanTag};
use super::LanError;
use std::path::Path;

/// Removes every leftover LAN whose creating process is gone. Removal is best effort (another build may be removing
/// the same leftover at the same moment); only failing to list namespaces or interfaces is an error.
pub(super) fn remove_dead_lans() -> Result<(), LanError> {
    let netns_names = ip("netns list")?;
    let link_names = ip("-o link show")?;
    let mut netns: Vec<&str> = netns_names
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    let mut links: Vec<&str> = link_names.lines().filter_map(link_name).collect();
    netns.retain(|name| is_dead(name));
    links.retain(|name| is_dead(name));
    // Bridge ports first (each takes its machine's end of the pair along), bridges last.
    links.sort_by_key(|name| matches!(LanTag::parse(name), Some((_, LanPart::Bridge))));
    for name in netns {
        remove_best_effort(name, kill_all_in(name));
        remove_best_effort(name, ip(&format!("netns delete {name}")).map(drop));
    }
    for name in links {
        remove_best_effort(name, ip(&format!("link delete {name}")).map(drop));
    }
    Ok(())
}

/// The interface name of an `ip -o link show` line: `7: efl…h00@if2: <BROADCAST,…> …`.
fn link_name(line: &str) -> Option<&str> {
    let name = line.split_whitespace().nth(1)?.strip_suffix(':')?;
    Some(name.split_once('@').map_or(name, |(name, _peer)| name))
}

/// True for a name this module made whose creating process no longer runs.
fn is_dead(name: &str) -> bool {
    LanTag::parse(name).is_some_and(|(tag, _)| !Path::new(&format!("/proc/{}", tag.pid)).exists())
}

fn remove_best_effort(name: &str, result: Result<(), LanError>) {
    match result {
        Err(error) if !is_already_gone(&error) => {
            // eprintln, not tracing: tests rarely install a subscriber, and a leak should be seen.
            eprintln!("netns-lan: could not remove leftover {name} of a dead test process: {error}");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_names_lose_their_peer_suffix() {
        let line = "7: efl003039007h00@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master x";
        assert_eq!(link_name(line), Some("efl003039007h00"));
        assert_eq!(
            link_name("4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400"),
            Some("eth0")
        );
        assert_eq!(
            link_name("    link/ether 02:fc:00:00:00:01 brd ff:ff:ff:ff:ff:ff"),
            None
        );
    }
}
