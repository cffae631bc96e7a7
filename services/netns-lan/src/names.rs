//! The names a LAN gives what it creates, and recognising them again: `efl` + the creating process's pid (6 hex
//! digits) + the LAN's number in that process (3 hex digits) + the part — `b` for the bridge, `h<machine>` for a
//! machine's bridge-side veth, `n<machine>` for its network namespace (machine index as 2 hex digits).
//!
//! Every name fits Linux's 15-byte interface names, and the fixed widths make a name parse back exactly, so
//! leftover cleanup touches only what this module made.

/// What every name starts with.
const PREFIX: &str = "efl";

/// Hex digits of the pid (Linux pids stay below 2^22, `PID_MAX_LIMIT`).
const PID_DIGITS: usize = 6;

/// Hex digits of the LAN number.
const NUMBER_DIGITS: usize = 3;

/// Hex digits of a machine index.
const MACHINE_DIGITS: usize = 2;

/// LAN numbers a process cycles through: 0..LAN_NUMBERS.
pub(super) const LAN_NUMBERS: u16 = 1 << (4 * NUMBER_DIGITS);

/// Which LAN a name belongs to: the process that built it and its number in that process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct LanTag {
    pub(super) pid: u32,
    pub(super) number: u16,
}

/// Which part of a LAN a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LanPart {
    Bridge,
    /// The bridge-side end of machine `n`'s veth pair.
    BridgePort(u8),
    /// Machine `n`'s network namespace.
    Netns(u8),
}

impl LanTag {
    /// The tag of LAN `number` built by process `pid`.
    pub(super) fn new(pid: u32, number: u16) -> LanTag {
        debug_assert!(pid < 1 << (4 * PID_DIGITS), "pid {pid} exceeds Linux's PID_MAX_LIMIT");
        debug_assert!(
            number < LAN_NUMBERS,
            "LAN number {number} has more than {NUMBER_DIGITS} hex digits"
        );
        LanTag { pid, number }
    }

    /// The name of `part` of this LAN.
    pub(super) fn name(self, part: LanPart) -> String {
        let tag = format!("{PREFIX}{:06x}{:03x}", self.pid, self.number);
        let name = match part {
            LanPart::Bridge => format!("{tag}b"),
            LanPart::BridgePort(machine) => format!("{tag}h{machine:02x}"),
            LanPart::Netns(machine) => format!("{tag}n{machine:02x}"),
        };
        debug_assert!(name.len() <= 15, "{name} is longer than an interface name may be");
        name
    }

    /// The LAN and part `name` denotes, or `None` for any name this module did not make.
    pub(super) fn parse(name: &str) -> Option<(LanTag, LanPart)> {
        let rest = name.strip_prefix(PREFIX)?;
        let pid = hex_field(rest.get(..PID_DIGITS)?)?;
        let rest = &rest[PID_DIGITS..];
        let number = hex_field(rest.get(..NUMBER_DIGITS)?)?;
        let part = match &rest[NUMBER_DIGITS..] {
            "b" => LanPart::Bridge,
            other => {
                let (kind, machine) = (other.get(..1)?, other.get(1..)?);
                if machine.len() != MACHINE_DIGITS {
                    return None;
                }
                let machine = u8::try_from(hex_field(machine)?).ok()?;
                match kind {
                    "h" => LanPart::BridgePort(machine),
                    "n" => LanPart::Netns(machine),
                    _ => return None,
                }
            }
        };
        Some((
            LanTag {
                pid,
                number: u16::try_from(number).ok()?,
            },
            part,
        ))
    }
}

/// A field of lowercase hex digits only (no sign, no uppercase: exactly what `name` writes).
fn hex_field(field: &str) -> Option<u32> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    u32::from_str_radix(field, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_fit_an_interface_name() {
        let tags = [
            LanTag::new(0, 0),
            LanTag::new(4_194_303, LAN_NUMBERS - 1),
            LanTag::new(12_345, 7),
        ];
        for tag in tags {
            for part in [
                LanPart::Bridge,
                LanPart::BridgePort(0),
                LanPart::Netns(252),
                LanPart::BridgePort(255),
            ] {
                let name = tag.name(part);
                assert!(name.len() <= 15, "{name}");
                assert_eq!(LanTag::parse(&name), Some((tag, part)), "{name}");
            }
        }
        assert_eq!(LanTag::new(0x3039, 7).name(LanPart::BridgePort(10)), "efl003039007h0a");
    }

    #[test]
    fn names_this_module_did_not_make_are_not_recognised() {
        for foreign in [
            "eth0",
            "lo",
            "efl",
            "efl003039007",
            "efl003039007x",
            "efl003039007h",
            "efl003039007h0",
            "efl003039007h0a0",
            "efl003039007b0",
            "efl00303900Gb",
            "efl+03039007b",
            "EFL003039007b",
            "efl003039007n0A",
            "efl00303 007b",
            "xefl003039007b",
            "efl-not-ours",
        ] {
            assert_eq!(LanTag::parse(foreign), None, "{foreign}");
        }
    }
}
