//! Rollout plan tables: wave parsing, wave planning, maintenance windows.

use actors::rollout::{parse_window, Weekday};
use events::rollout::{parse_waves, plan_waves, ClusterTarget, WaveSpec};
use testkit::token;

fn target(site: &str, cluster: &str) -> ClusterTarget {
    ClusterTarget {
        site: token(site),
        cluster: token(cluster),
    }
}

/// `n` targets, ten clusters per site, in sorted order.
fn targets(n: usize) -> Vec<ClusterTarget> {
    (0..n)
        .map(|i| target(&format!("s{:03}", i / 10), &format!("c{}", i % 10)))
        .collect()
}

#[test]
fn plan_waves_table() {
    let waves = parse_waves("1,10%,50%,100%").expect("valid waves");
    let cases: [(usize, &[WaveSpec], &[usize]); 7] = [
        (1000, &waves, &[1, 99, 400, 500]),
        (10, &waves, &[1, 1, 3, 5]),
        (3, &waves, &[1, 1, 1]),
        (1, &waves, &[1]),
        (0, &waves, &[]),
        (3, &[WaveSpec::Count(5), WaveSpec::Percent(100)], &[3]),
        // A spec that stops short of 100% leaves one more wave for the rest.
        (10, &[WaveSpec::Count(2), WaveSpec::Percent(50)], &[2, 3, 5]),
    ];
    for (n, waves, sizes) in cases {
        let mut input = targets(n);
        input.reverse();
        let plan = plan_waves(&input, waves);
        let got: Vec<usize> = plan.iter().map(Vec::len).collect();
        assert_eq!(got, sizes, "{n} targets, waves {waves:?}");
        let flat: Vec<ClusterTarget> = plan.into_iter().flatten().collect();
        assert_eq!(flat, targets(n), "sorted, every target exactly once");
    }
}

#[test]
fn plan_waves_is_deterministic_and_drops_duplicates() {
    let waves = parse_waves("1,50%,100%").expect("valid waves");
    let mut shuffled = targets(20);
    shuffled.rotate_left(7);
    shuffled.extend(targets(5));
    assert_eq!(plan_waves(&shuffled, &waves), plan_waves(&targets(20), &waves));
}

#[test]
fn parse_waves_table() {
    use WaveSpec::{Count, Percent};
    assert_eq!(
        parse_waves("1,10%,50%,100%"),
        Ok(vec![Count(1), Percent(10), Percent(50), Percent(100)])
    );
    assert_eq!(parse_waves(" 2 , 5, 100% "), Ok(vec![Count(2), Count(5), Percent(100)]));
    assert_eq!(parse_waves("100%"), Ok(vec![Percent(100)]));
    for bad in [
        "",
        "1,,100%",
        "0,100%",
        "1,0%,100%",
        "1,101%,100%",
        "x",
        "1,10",
        "1,50%",
        "50%,10%,100%",
        "5,2,100%",
        "10%,5,100%",
        "-1,100%",
        "1.5,100%",
    ] {
        let error = parse_waves(bad).expect_err(bad);
        assert!(!error.is_empty(), "{bad:?} needs a message");
    }
}

#[test]
fn parse_window_table() {
    use Weekday::{Fri, Mon, Sat, Sun};
    let sat = parse_window("Sat 02:00-05:00").expect("valid window");
    let cases = [
        (Sat, 119, false),
        (Sat, 120, true),
        (Sat, 299, true),
        (Sat, 300, false),
        (Sun, 150, false),
    ];
    for (day, minute, open) in cases {
        assert_eq!(sat.contains(day, minute), open, "Sat 02:00-05:00 at {day:?} {minute}");
    }
    let overnight = parse_window("fri,sat 22:00-02:00").expect("valid window");
    let cases = [
        (Fri, 1320, true),
        (Sat, 60, true),
        (Sun, 60, true),
        (Sun, 1320, false),
        (Mon, 60, false),
    ];
    for (day, minute, open) in cases {
        assert_eq!(
            overnight.contains(day, minute),
            open,
            "fri,sat 22:00-02:00 at {day:?} {minute}"
        );
    }
    let daily = parse_window("daily 00:00-24:00").expect("valid window");
    assert!(Weekday::ALL
        .iter()
        .all(|d| daily.contains(*d, 0) && daily.contains(*d, 1439)));
    assert!(!daily.contains(Mon, 1440), "minutes past the day are never open");
    for bad in [
        "",
        "Sat",
        "Sat 02:00",
        "Sat 2:00-5:00",
        "Sun 02:00-02:00",
        "Xyz 01:00-02:00",
        "Sat 25:00-26:00",
        "Sat 01:60-02:00",
        "Sat 01:00-02:00 extra",
        "Sat +1:00-02:00",
    ] {
        assert!(parse_window(bad).is_err(), "{bad:?} should be refused");
    }
}
