//! How figures are written: counts with thousands separators, rates rounded to what the noise allows.

use std::time::Duration;

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Items per second over `elapsed`, rounded to the nearest thousand above 100,000/s (the run-to-run noise is
/// larger than that).
pub fn rate(items: u64, elapsed: Duration) -> String {
    let per_s = per_second(items, elapsed);
    let rounded = if per_s >= 100_000.0 {
        (per_s / 1_000.0).round() * 1_000.0
    } else {
        per_s.round()
    };
    count(rounded as u64)
}

/// Items per second over `elapsed` (0 for a zero duration).
pub fn per_second(items: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        items as f64 / secs
    } else {
        0.0
    }
}

/// Seconds with two decimals.
pub fn secs(elapsed: Duration) -> String {
    format!("{:.2} s", elapsed.as_secs_f64())
}

/// Bytes in MB (10^6), one decimal.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_204_000), "1,204,000");
    }

    #[test]
    fn rates_round_to_thousands_when_large() {
        assert_eq!(rate(1_000_000, Duration::from_millis(830)), "1,205,000");
        assert_eq!(rate(7_500, Duration::from_secs(1)), "7,500");
        assert_eq!(rate(5, Duration::ZERO), "0");
    }
}
