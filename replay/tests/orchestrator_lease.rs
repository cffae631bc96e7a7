//! The lease that lets one hub process of several run the single-writer loops, on a real nats-server: one holder at
//! a time, renewed by its holder, taken over only after it ran out by a margin, and exactly one winner of a race.

use replay::lease::Lease;
use std::time::Duration;
use testkit::NatsServer;

const TTL: Duration = Duration::from_secs(10);
const T0: u64 = 1_800_000_000_000;

async fn contender(js: &async_nats::jetstream::Context, me: &str) -> Lease {
    Lease::open(js, "ef-leases", 1, "orchestrator", me, TTL)
        .await
        .expect("lease bucket")
}

#[tokio::test]
async fn one_holder_at_a_time_renewed_by_it_and_taken_over_only_after_it_ran_out() {
    let server = NatsServer::hub().await.expect("nats-server");
    let js = async_nats::jetstream::new(server.connect().await.expect("connect"));
    let (a, b) = (contender(&js, "hub-a").await, contender(&js, "hub-b").await);

    // Given hub-a holds the lease
    assert_eq!(a.try_hold(T0).await.expect("a"), Some(T0 + 10_000));
    // When hub-b asks while it is held, and hub-a renews
    assert_eq!(b.try_hold(T0 + 1_000).await.expect("b"), None);
    assert_eq!(a.try_hold(T0 + 5_000).await.expect("a renews"), Some(T0 + 15_000));
    assert_eq!(
        b.try_hold(T0 + 16_000).await.expect("b"),
        None,
        "run out, but within the margin"
    );

    // Then once hub-a stopped renewing and the margin passed, hub-b takes it, and hub-a learns it lost
    assert_eq!(b.try_hold(T0 + 20_000).await.expect("b takes over"), Some(T0 + 30_000));
    assert_eq!(a.try_hold(T0 + 20_001).await.expect("a"), None);
}

#[tokio::test]
async fn of_two_contenders_racing_for_a_free_lease_exactly_one_wins() {
    let server = NatsServer::hub().await.expect("nats-server");
    for round in 0..10u64 {
        let js = async_nats::jetstream::new(server.connect().await.expect("connect"));
        let key = format!("race-{round}");
        let open = |me: &'static str| {
            let (js, key) = (js.clone(), key.clone());
            async move { Lease::open(&js, "ef-leases", 1, &key, me, TTL).await.expect("lease") }
        };
        let (a, b) = (open("hub-a").await, open("hub-b").await);
        let (won_a, won_b) = tokio::join!(a.try_hold(T0), b.try_hold(T0));
        let winners = [won_a.expect("a"), won_b.expect("b")]
            .iter()
            .filter(|w| w.is_some())
            .count();
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_released_lease_is_taken_at_once_and_only_its_holder_can_release_it() {
    let server = NatsServer::hub().await.expect("nats-server");
    let js = async_nats::jetstream::new(server.connect().await.expect("connect"));
    let (a, b) = (contender(&js, "hub-a").await, contender(&js, "hub-b").await);
    assert!(a.try_hold(T0).await.expect("a").is_some());

    // When hub-b tries to release hub-a's lease, nothing changes
    b.release().await.expect("b's release is a no-op");
    assert_eq!(b.try_hold(T0 + 1_000).await.expect("b"), None);

    // When hub-a releases it, hub-b takes it at once
    a.release().await.expect("a releases");
    assert_eq!(b.try_hold(T0 + 1_000).await.expect("b"), Some(T0 + 11_000));
}
