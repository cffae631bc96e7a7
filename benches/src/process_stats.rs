//! What another process costs, read from `/proc/<pid>`: its resident memory (`VmRSS` in `status`) and the CPU time
//! it has used so far (`utime + stime` in `stat`).

use anyhow::Context as _;
use std::time::Duration;

/// Resident set size of process `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kilobytes: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("{path} has no VmRSS line"))?
        .parse()
        .with_context(|| format!("parsing VmRSS in {path}"))?;
    Ok(kilobytes * 1024)
}

/// CPU time (user + system) process `pid` has used since it started (`/proc/<pid>/stat`).
pub fn cpu_time_of(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    let after_name = stat
        .rfind(')')
        .map(|end| &stat[end + 1..])
        .with_context(|| format!("{path} has no command name"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field 3 (state) is fields[0], so utime (field 14) is fields[11] and stime (field 15) fields[12].
    let ticks = |index: usize, name: &str| -> anyhow::Result<u64> {
        fields
            .get(index)
            .with_context(|| format!("{path} has no {name} field"))?
            .parse::<u64>()
            .with_context(|| format!("parsing {name} in {path}"))
    };
    let total = ticks(11, "utime")? + ticks(12, "stime")?;
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).ok().filter(|&n| n > 0).unwrap_or(100);
    Ok(Duration::from_secs_f64(total as f64 / per_second as f64))
}

/// CPU used over a wall-clock period as a percentage of one core.
pub fn percent_of_a_core(cpu: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_size_and_a_cpu_time() {
        let pid = std::process::id();
        assert!(rss_of(pid).unwrap() > 0);
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {
            std::hint::black_box(0u64);
        }
        assert!(cpu_time_of(pid).unwrap() > Duration::ZERO);
    }

    #[test]
    fn percent_of_a_core_is_cpu_over_wall() {
        assert_eq!(
            percent_of_a_core(Duration::from_millis(500), Duration::from_secs(2)),
            25.0
        );
        assert_eq!(percent_of_a_core(Duration::from_secs(1), Duration::ZERO), 0.0);
    }
}
