//! Pure parsers of the kernel's text files into [`MetricPoint`]s, named and typed as node_exporter names them
//! (`node_load1`, `node_memory_MemAvailable_bytes`, `node_cpu_seconds_total{cpu,mode}`,
//! `node_network_receive_bytes_total{device}`, …). A line that does not parse is skipped, never a panic: the files
//! differ between kernels.

use crate::metric_batch::MetricPoint;

/// Clock ticks per second of `/proc/stat`'s CPU times (`USER_HZ`, 100 on every Linux architecture edgefleet runs on).
pub const USER_HZ: f64 = 100.0;

/// `/proc/loadavg` → `node_load1`, `node_load5`, `node_load15`.
pub fn loadavg(text: &str) -> Vec<MetricPoint> {
    let mut fields = text.split_whitespace();
    ["node_load1", "node_load5", "node_load15"]
        .into_iter()
        .filter_map(|name| Some(MetricPoint::gauge(name, fields.next()?.parse().ok()?)))
        .collect()
}

/// `/proc/meminfo` → `node_memory_<Field>_bytes` (kB converted), or `node_memory_<Field>` for counts
/// (`HugePages_Total`); `Active(anon)` becomes `Active_anon`, as node_exporter writes it.
pub fn meminfo(text: &str) -> Vec<MetricPoint> {
    text.lines()
        .filter_map(|line| {
            let (key, rest) = line.split_once(':')?;
            let mut rest = rest.split_whitespace();
            let value: f64 = rest.next()?.parse().ok()?;
            let key: String = key
                .trim()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let key = key.trim_end_matches('_');
            Some(match rest.next() {
                Some("kB") => MetricPoint::gauge(&format!("node_memory_{key}_bytes"), value * 1024.0),
                _ => MetricPoint::gauge(&format!("node_memory_{key}"), value),
            })
        })
        .collect()
}

/// `/proc/stat` → `node_cpu_seconds_total{cpu,mode}`, `node_boot_time_seconds`, `node_context_switches_total`,
/// `node_forks_total`, `node_procs_running`, `node_procs_blocked`.
pub fn stat(text: &str) -> Vec<MetricPoint> {
    const MODES: [&str; 8] = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
    let mut points = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(key) = fields.next() else { continue };
        if let Some(cpu) = key.strip_prefix("cpu").filter(|n| !n.is_empty()) {
            if !cpu.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            for (mode, ticks) in MODES.iter().zip(fields) {
                let Ok(ticks) = ticks.parse::<f64>() else { break };
                points.push(
                    MetricPoint::counter("node_cpu_seconds_total", ticks / USER_HZ)
                        .with("cpu", cpu)
                        .with("mode", mode),
                );
            }
            continue;
        }
        let named = match key {
            "btime" => Some(("node_boot_time_seconds", false)),
            "ctxt" => Some(("node_context_switches_total", true)),
            "processes" => Some(("node_forks_total", true)),
            "procs_running" => Some(("node_procs_running", false)),
            "procs_blocked" => Some(("node_procs_blocked", false)),
            _ => None,
        };
        if let (Some((name, counter)), Some(Ok(value))) = (named, fields.next().map(str::parse::<f64>)) {
            points.push(if counter {
                MetricPoint::counter(name, value)
            } else {
                MetricPoint::gauge(name, value)
            });
        }
    }
    points
}

/// `/proc/net/dev` → `node_network_{receive,transmit}_{bytes,packets,errs,drop}_total{device}`.
pub fn net_dev(text: &str) -> Vec<MetricPoint> {
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes packets errs drop …
    const RECEIVE: [(usize, &str); 4] = [(0, "bytes"), (1, "packets"), (2, "errs"), (3, "drop")];
    let mut points = Vec::new();
    for line in text.lines().skip(2) {
        let Some((device, counters)) = line.split_once(':') else {
            continue;
        };
        let device = device.trim();
        let counters: Vec<f64> = counters.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        if device.is_empty() || counters.len() < 12 {
            continue;
        }
        for (direction, offset) in [("receive", 0), ("transmit", 8)] {
            for (i, what) in RECEIVE {
                points.push(
                    MetricPoint::counter(&format!("node_network_{direction}_{what}_total"), counters[offset + i])
                        .with("device", device),
                );
            }
        }
    }
    points
}

/// `/proc/uptime` → `edgefleet_node_uptime_seconds` (node_exporter has only the boot time, from `/proc/stat`).
pub fn uptime(text: &str) -> Vec<MetricPoint> {
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .map(|v| vec![MetricPoint::gauge("edgefleet_node_uptime_seconds", v)])
        .unwrap_or_default()
}

/// One mounted filesystem worth reporting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The device (`/dev/sda1`).
    pub device: String,
    /// Where it is mounted.
    pub mountpoint: String,
    /// Its type (`ext4`).
    pub fstype: String,
    /// Mounted read-only.
    pub readonly: bool,
}

/// `/proc/self/mounts` → the real filesystems, without the kernel's pseudo filesystems and the mountpoints
/// node_exporter leaves out by default (`/dev`, `/proc`, `/sys`, container storage).
pub fn mounts(text: &str) -> Vec<Mount> {
    const PSEUDO: [&str; 24] = [
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "fusectl",
        "hugetlbfs",
        "iso9660",
        "mqueue",
        "nsfs",
        "overlay",
        "proc",
        "procfs",
        "pstore",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "sysfs",
        "tracefs",
    ];
    const SKIPPED_UNDER: [&str; 5] = [
        "/dev",
        "/proc",
        "/sys",
        "/var/lib/docker/",
        "/var/lib/containers/storage/",
    ];
    let mut seen = std::collections::BTreeSet::new();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (device, mountpoint, fstype, options) =
                (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
            let mountpoint = unescape_mount_path(mountpoint);
            let skipped = PSEUDO.contains(&fstype)
                || SKIPPED_UNDER.iter().any(|under| {
                    mountpoint == under.trim_end_matches('/')
                        || mountpoint.starts_with(&format!("{}/", under.trim_end_matches('/')))
                });
            // A filesystem mounted twice (bind mounts) is reported once, at its first mountpoint.
            (!skipped && seen.insert(mountpoint.clone())).then(|| Mount {
                device: unescape_mount_path(device),
                mountpoint,
                fstype: fstype.to_string(),
                readonly: options.split(',').any(|o| o == "ro"),
            })
        })
        .collect()
}

/// `/proc/mounts` writes space, tab, newline and backslash in paths as octal escapes (`\040`).
fn unescape_mount_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(points: &[MetricPoint], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        points
            .iter()
            .find(|p| {
                p.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| p.labels.iter().any(|(pk, pv)| pk == k && pv == v))
            })
            .map(|p| p.value)
    }

    #[test]
    fn load_averages_are_three_gauges() {
        let points = loadavg("0.61 1.54 1.04 2/78 28186\n");
        assert_eq!(value(&points, "node_load1", &[]), Some(0.61));
        assert_eq!(value(&points, "node_load15", &[]), Some(1.04));
        assert_eq!(points.len(), 3);
        assert!(loadavg("garbage").is_empty());
    }

    #[test]
    fn meminfo_sizes_are_bytes_and_counts_stay_counts() {
        let text = "MemTotal:       24593740 kB\nMemAvailable:   20000000 kB\nActive(anon):     123 kB\nHugePages_Total:       0\nbroken line\n";
        let points = meminfo(text);
        assert_eq!(
            value(&points, "node_memory_MemTotal_bytes", &[]),
            Some(24593740.0 * 1024.0)
        );
        assert_eq!(
            value(&points, "node_memory_MemAvailable_bytes", &[]),
            Some(20000000.0 * 1024.0)
        );
        assert_eq!(
            value(&points, "node_memory_Active_anon_bytes", &[]),
            Some(123.0 * 1024.0)
        );
        assert_eq!(value(&points, "node_memory_HugePages_Total", &[]), Some(0.0));
        assert_eq!(points.len(), 4);
    }

    #[test]
    fn cpu_ticks_are_seconds_per_cpu_and_mode() {
        let text = "cpu  1252868 0 217179 1962076 38980 0 18857 30241 0 0\ncpu0 616670 0 100058 1018445 6514 0 5530 13036 0 0\ncpu1 636197 0 117120 943631 32466 0 13327 17205 0 0\nintr 1 2 3\nctxt 54230446\nbtime 1790000000\nprocesses 28186\nprocs_running 2\nprocs_blocked 0\n";
        let points = stat(text);
        assert_eq!(
            value(&points, "node_cpu_seconds_total", &[("cpu", "1"), ("mode", "idle")]),
            Some(9436.31)
        );
        assert_eq!(
            points.iter().filter(|p| p.name == "node_cpu_seconds_total").count(),
            16,
            "two cpus × eight modes; the all-cpu line is not a cpu"
        );
        assert_eq!(value(&points, "node_boot_time_seconds", &[]), Some(1_790_000_000.0));
        assert_eq!(value(&points, "node_context_switches_total", &[]), Some(54230446.0));
        assert_eq!(value(&points, "node_procs_running", &[]), Some(2.0));
    }

    #[test]
    fn network_counters_per_device_and_direction() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo: 18155052559 6884686    0    0    0     0          0         0 18155052559 6884686    0    0    0     0       0          0\n  eth0: 100 2 3 4 0 0 0 0 500 6 7 8 0 0 0 0\n";
        let points = net_dev(text);
        assert_eq!(
            value(&points, "node_network_receive_bytes_total", &[("device", "lo")]),
            Some(18155052559.0)
        );
        assert_eq!(
            value(&points, "node_network_transmit_drop_total", &[("device", "eth0")]),
            Some(8.0)
        );
        assert_eq!(points.len(), 16);
    }

    #[test]
    fn pseudo_filesystems_and_system_mountpoints_are_left_out() {
        let text = "proc /proc proc rw 0 0\n/dev/sda1 / ext4 rw,relatime 0 0\ntmpfs /run tmpfs rw 0 0\n/dev/sda1 /mnt/bind ext4 rw 0 0\n/dev/sdb1 /mnt/with\\040space xfs ro,noatime 0 0\nsysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0\noverlay /var/lib/docker/overlay2/x/merged overlay rw 0 0\n";
        let found = mounts(text);
        let points: Vec<(&str, &str, bool)> = found
            .iter()
            .map(|m| (m.mountpoint.as_str(), m.fstype.as_str(), m.readonly))
            .collect();
        assert_eq!(
            points,
            vec![
                ("/", "ext4", false),
                ("/run", "tmpfs", false),
                ("/mnt/bind", "ext4", false),
                ("/mnt/with space", "xfs", true)
            ]
        );
    }

    #[test]
    fn the_real_files_of_this_machine_parse() {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        assert!(value(&loadavg(&read("/proc/loadavg")), "node_load1", &[]).is_some());
        assert!(value(&meminfo(&read("/proc/meminfo")), "node_memory_MemAvailable_bytes", &[]).is_some());
        assert!(value(
            &stat(&read("/proc/stat")),
            "node_cpu_seconds_total",
            &[("cpu", "0"), ("mode", "idle")]
        )
        .is_some());
        assert!(value(
            &net_dev(&read("/proc/net/dev")),
            "node_network_receive_bytes_total",
            &[("device", "lo")]
        )
        .is_some());
        assert!(!uptime(&read("/proc/uptime")).is_empty());
        let mounts_text = read("/proc/self/mounts");
        let root_is_real = mounts_text
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("/") && !l.contains(" overlay "));
        if root_is_real {
            assert!(mounts(&mounts_text).iter().any(|m| m.mountpoint == "/"));
        }
    }
}
