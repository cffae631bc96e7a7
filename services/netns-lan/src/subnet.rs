//! The LAN's /24 inside 10.200.0.0/16: the bridge is `.1`, machine `i` is `.(2 + i)`, broadcast `.255`; and
//! telling whether a /24 is free — no address or route of the root namespace lies inside it. Wider routes (the
//! default, a VPN's 10.0.0.0/8) do not count: the LAN's own /24 is more specific and wins for the test's life.

use super::ip_command::ip;
use super::LanError;
use std::net::Ipv4Addr;

/// The pool, for messages.
pub(super) const POOL: &str = "10.200.0.0/16";

/// The pool's first two octets.
const POOL_PREFIX: [u8; 2] = [10, 200];

/// Host part of the bridge's address.
const BRIDGE_HOST: u8 = 1;

/// Host part of machine 0's address.
const FIRST_MACHINE_HOST: u8 = 2;

/// Machines per LAN: `.2` to `.254`.
pub(super) const MAX_MACHINES: usize = (u8::MAX - FIRST_MACHINE_HOST) as usize;

/// One /24 of the pool: `10.200.<third_octet>.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Subnet24 {
    third_octet: u8,
}

/// An IPv4 prefix as `ip` prints it (`10.0.0.0/8`, or a bare address for a /32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ipv4Prefix {
    address: Ipv4Addr,
    len: u8,
}

/// A prefix in use in the root namespace, and the interface it belongs to (none for e.g. a blackhole route).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Occupied {
    pub(super) prefix: Ipv4Prefix,
    pub(super) device: Option<String>,
}

impl Subnet24 {
    /// All 256 /24s of the pool, starting at the one `seed` picks (so LANs built at once try different ones first).
    pub(super) fn candidates(seed: u32) -> impl Iterator<Item = Subnet24> {
        (0..=u8::MAX as u32).map(move |step| Subnet24 {
            third_octet: (seed.wrapping_add(step) % 256) as u8,
        })
    }

    fn host(self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(POOL_PREFIX[0], POOL_PREFIX[1], self.third_octet, host)
    }

    /// The bridge's address, where processes of the root namespace (the hub) listen for the machines.
    pub(super) fn bridge_ip(self) -> Ipv4Addr {
        self.host(BRIDGE_HOST)
    }

    /// The address of machine `index`.
    pub(super) fn machine_ip(self, index: usize) -> Ipv4Addr {
        assert!(index < MAX_MACHINES, "machine {index} does not fit a /24");
        self.host(FIRST_MACHINE_HOST + index as u8)
    }

    /// The broadcast address.
    pub(super) fn broadcast(self) -> Ipv4Addr {
        self.host(u8::MAX)
    }

    /// True when `prefix` lies inside this /24 (a /24 or longer that overlaps it).
    pub(super) fn holds(self, prefix: Ipv4Prefix) -> bool {
        prefix.len >= 24 && prefix.address.octets()[..3] == self.host(0).octets()[..3]
    }
}

impl Ipv4Prefix {
    fn parse(text: &str) -> Option<Ipv4Prefix> {
        let (address, len) = match text.split_once('/') {
            Some((address, len)) => (address, len.parse().ok().filter(|len| *len <= 32)?),
            None => (text, 32),
        };
        Some(Ipv4Prefix {
            address: address.parse().ok()?,
            len,
        })
    }
}

/// Every IPv4 address and route (all tables) of the root namespace.
pub(super) fn occupied_prefixes() -> Result<Vec<Occupied>, LanError> {
    let mut occupied = parse_addresses(&ip("-4 -o addr show")?);
    occupied.extend(parse_routes(&ip("-4 route show table all")?));
    Ok(occupied)
}

/// Parses `ip -4 -o addr show`: `2: eth0    inet 192.0.2.2/24 brd … scope global eth0\ …`.
fn parse_addresses(text: &str) -> Vec<Occupied> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let device = words.nth(1)?;
            let prefix = match (words.next()?, words.next()) {
                ("inet", Some(prefix)) => Ipv4Prefix::parse(prefix)?,
                _ => return None,
            };
            Some(Occupied {
                prefix,
                device: Some(device.to_string()),
            })
        })
        .collect()
}

/// Route types `ip route` prints before the destination.
const ROUTE_TYPES: [&str; 10] = [
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "anycast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
];

/// Parses `ip -4 route show table all`: `[type] <dst>|default … [dev <name>] …` per line.
fn parse_routes(text: &str) -> Vec<Occupied> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let destination = words.iter().find(|word| !ROUTE_TYPES.contains(word))?;
            let prefix = Ipv4Prefix::parse(destination)?; // `default` does not parse, and is not wanted.
            let device = words
                .windows(2)
                .find(|pair| pair[0] == "dev")
                .map(|pair| pair[1].to_string());
            Some(Occupied { prefix, device })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESSES: &str = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
4: eth0    inet 10.200.7.9/16 brd 10.200.255.255 scope global eth0\\       valid_lft forever preferred_lft forever
9: efl0030390a1b    inet 10.200.3.1/24 brd 10.200.3.255 scope global efl0030390a1b\\       valid_lft forever";

    const ROUTES: &str = "default via 192.0.2.1 dev eth0
10.0.0.0/8 via 192.0.2.1 dev eth0
10.200.3.0/24 dev efl0030390a1b proto kernel scope link src 10.200.3.1 linkdown
blackhole 10.200.5.0/25
local 10.200.7.9 dev eth0 table local proto kernel scope host src 10.200.7.9
broadcast 10.200.255.255 dev eth0 table local proto kernel scope link src 10.200.7.9";

    fn free(subnet: Subnet24, occupied: &[Occupied]) -> bool {
        !occupied.iter().any(|o| subnet.holds(o.prefix))
    }

    #[test]
    fn a_subnet_is_taken_only_by_addresses_and_routes_inside_it() {
        let mut occupied = parse_addresses(ADDRESSES);
        occupied.extend(parse_routes(ROUTES));
        let subnet = |third_octet| Subnet24 { third_octet };
        // Another LAN's bridge, a blackhole /25, eth0's own address and the /16's broadcast address.
        for taken in [3, 5, 7, 255] {
            assert!(!free(subnet(taken), &occupied), "10.200.{taken}.0/24");
        }
        // The /16 and /8 routes and the default route are wider: shadowed, not taken.
        for open in [0, 4, 6, 254] {
            assert!(free(subnet(open), &occupied), "10.200.{open}.0/24");
        }
        let blackhole = occupied
            .iter()
            .find(|o| o.prefix == Ipv4Prefix::parse("10.200.5.0/25").unwrap())
            .unwrap();
        assert_eq!(blackhole.device, None);
    }

    #[test]
    fn addresses_follow_the_plan() {
        let subnet = Subnet24 { third_octet: 42 };
        assert_eq!(subnet.bridge_ip(), Ipv4Addr::new(10, 200, 42, 1));
        assert_eq!(subnet.machine_ip(0), Ipv4Addr::new(10, 200, 42, 2));
        assert_eq!(subnet.machine_ip(MAX_MACHINES - 1), Ipv4Addr::new(10, 200, 42, 254));
        assert_eq!(subnet.broadcast(), Ipv4Addr::new(10, 200, 42, 255));
        let all: Vec<Subnet24> = Subnet24::candidates(300).collect();
        assert_eq!(all.len(), 256);
        assert_eq!(all[0], Subnet24 { third_octet: 44 });
        assert!((0..=255).all(|third_octet| all.contains(&Subnet24 { third_octet })));
    }
}
