//! Who serves a site whose machines booted one image, as a table: given what a machine heard, then its step.

use actors::plan::{plan_discovery, DiscoveryInputs, DiscoveryStep, HeardMachine, MachineIntent};
use proptest::prelude::*;
use std::net::SocketAddr;
use testkit::token;

const SETTLE_MS: u64 = 5_000;
const FORGET_MS: u64 = 3_000;

fn heard(node: &str, intent: MachineIntent, ip: &str, ms_ago: u64) -> HeardMachine {
    HeardMachine {
        node: token(node),
        intent,
        from: format!("{ip}:7946").parse().expect("addr"),
        heard_ms_ago: ms_ago,
    }
}

fn step(me: &str, served_before: bool, listening_ms: u64, heard: &[HeardMachine]) -> DiscoveryStep {
    plan_discovery(&DiscoveryInputs {
        me: &token(me),
        served_before,
        listening_ms,
        settle_ms: SETTLE_MS,
        forget_after_ms: FORGET_MS,
        heard,
    })
}

fn is_wait(step: &DiscoveryStep) -> bool {
    matches!(step, DiscoveryStep::Wait { .. })
}

#[test]
fn a_machine_alone_listens_for_the_settle_time_then_bootstraps() {
    assert!(is_wait(&step("m2", false, SETTLE_MS - 1, &[])));
    assert_eq!(step("m2", false, SETTLE_MS, &[]), DiscoveryStep::Serve);
}

#[test]
fn a_site_served_is_joined_at_once_at_every_server_lowest_id_first() {
    let serving = |port| MachineIntent::Serving { nats_port: port };
    let heard = [
        heard("m3", serving(4222), "10.0.0.3", 100),
        heard("m1", serving(4222), "10.0.0.1", 100),
        heard("m2", MachineIntent::Seeking, "10.0.0.2", 100),
    ];
    let servers: Vec<SocketAddr> = vec!["10.0.0.1:4222".parse().expect("a"), "10.0.0.3:4222".parse().expect("b")];
    assert_eq!(
        step("m9", false, 0, &heard),
        DiscoveryStep::Join {
            servers: servers.clone()
        }
    );
    assert_eq!(
        step("m0", true, SETTLE_MS, &heard),
        DiscoveryStep::Join { servers },
        "a machine that served before joins a site served elsewhere now instead of forming a second one"
    );
}

#[test]
fn of_machines_seeking_together_only_the_lowest_id_bootstraps() {
    let seeking = [heard("m1", MachineIntent::Seeking, "10.0.0.1", 200)];
    assert!(is_wait(&step("m2", false, SETTLE_MS, &seeking)), "m2 waits for m1");
    let seeking = [heard("m2", MachineIntent::Seeking, "10.0.0.2", 200)];
    assert_eq!(step("m1", false, SETTLE_MS, &seeking), DiscoveryStep::Serve);
}

#[test]
fn a_machine_bootstrapping_is_waited_for_whatever_its_id() {
    let bootstrapping = [heard("m5", MachineIntent::Bootstrapping, "10.0.0.5", 200)];
    let waiting = step("m1", false, SETTLE_MS * 3, &bootstrapping);
    assert_eq!(
        waiting,
        DiscoveryStep::Wait {
            reason: "m5 is bootstrapping the site".into()
        }
    );
}

#[test]
fn a_lower_id_that_went_quiet_is_forgotten_and_the_next_bootstraps() {
    let quiet = [heard("m1", MachineIntent::Seeking, "10.0.0.1", FORGET_MS)];
    assert_eq!(step("m2", false, SETTLE_MS, &quiet), DiscoveryStep::Serve);
    let quiet_server = [heard(
        "m1",
        MachineIntent::Serving { nats_port: 4222 },
        "10.0.0.1",
        FORGET_MS,
    )];
    assert_eq!(step("m2", false, SETTLE_MS, &quiet_server), DiscoveryStep::Serve);
}

#[test]
fn a_machine_that_served_before_serves_again_after_listening_even_with_a_lower_id_seeking() {
    let seeking = [heard("m1", MachineIntent::Seeking, "10.0.0.1", 200)];
    assert!(is_wait(&step("m4", true, SETTLE_MS - 1, &seeking)), "it listens first");
    assert_eq!(step("m4", true, SETTLE_MS, &seeking), DiscoveryStep::Serve);
}

#[test]
fn a_machine_never_counts_itself() {
    let echo = [heard("m2", MachineIntent::Serving { nats_port: 4222 }, "10.0.0.2", 10)];
    assert_eq!(step("m2", false, SETTLE_MS, &echo), DiscoveryStep::Serve);
}

proptest! {
    /// Machines that all heard each other seeking, past the settle time: exactly one serves.
    #[test]
    fn machines_that_hear_each_other_elect_exactly_one(ids in proptest::collection::btree_set("[a-z0-9]{1,8}", 1..8)) {
        let ids: Vec<String> = ids.into_iter().collect();
        let serving: Vec<&String> = ids
            .iter()
            .filter(|me| {
                let others: Vec<HeardMachine> = ids
                    .iter()
                    .filter(|o| o != me)
                    .map(|o| heard(o, MachineIntent::Seeking, "10.0.0.9", 100))
                    .collect();
                step(me, false, SETTLE_MS, &others) == DiscoveryStep::Serve
            })
            .collect();
        prop_assert_eq!(serving.len(), 1);
        prop_assert_eq!(serving[0], ids.iter().min().expect("one id"));
    }
}
