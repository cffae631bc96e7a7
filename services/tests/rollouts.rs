//! A fleet rollout across three sites on real disk images: waves, a site cut off during its wave that finishes
//! after the heal, and a hub killed with -9 mid-rollout that resumes where it was.

mod common;

use common::cli::{ok, rollout_args, try_json as json};
use common::eventually;
use common::store_fleet::{cluster_on, fleet_on_v1, publish, rollout_complete, wait_cluster_on};
use std::time::Duration;

#[actix_rt::test]
async fn a_rollout_over_three_sites_survives_a_cut_and_a_hub_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, sites, _agents) = fleet_on_v1(dir.path(), &["s1", "s2", "s3"]).await;
    publish(&hub, dir.path(), "2026.12", 2);

    // s3 is cut off before its wave; the canary wave is s1 alone (targets are ordered by site).
    sites[2].link.cut();
    ok(&hub, &rollout_args("r1", "edge-stack@2", "1,100%"));
    let created = json(&hub, &["rollouts", "get", "r1"]).expect("rollout");
    assert_eq!(created["waves"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        created["waves"][0].as_array().map(Vec::len),
        Some(1),
        "a canary wave of one cluster"
    );

    wait_cluster_on(&hub, "s1", "edge-stack@2", Duration::from_secs(120)).await;
    // Kill the hub mid-rollout; the rollout is in the log and resumes after the restart.
    hub.kill9_and_restart(dir.path()).await;
    wait_cluster_on(&hub, "s2", "edge-stack@2", Duration::from_secs(120)).await;
    let during_cut = json(&hub, &["rollouts", "get", "r1"]).expect("rollout");
    assert_eq!(
        during_cut["state"], "running",
        "s3 is still pending while cut off: {during_cut}"
    );
    assert!(!cluster_on(&hub, "s3", "edge-stack@2"));

    sites[2].link.heal();
    let done = rollout_complete(&hub, "r1").await;
    assert_eq!(done["failures"], 0);
    for site in ["s1", "s2", "s3"] {
        assert!(cluster_on(&hub, site, "edge-stack@2"), "{site} runs the new profile");
    }
    let watch = ok(&hub, &["rollouts", "watch", "r1"]);
    assert!(
        watch.contains("rollout/r1 complete") && watch.contains("wave 1: 2/2 updated"),
        "{watch}"
    );
}

#[actix_rt::test]
async fn an_aborted_rollout_moves_updated_clusters_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _sites, _agents) = fleet_on_v1(dir.path(), &["a1", "a2"]).await;
    publish(&hub, dir.path(), "2026.12", 2);
    ok(&hub, &rollout_args("r2", "edge-stack@2", "1,100%"));
    wait_cluster_on(&hub, "a1", "edge-stack@2", Duration::from_secs(120)).await;
    // The planner releases the next wave as soon as the canary passes its gate, so the abort may find a2 pending,
    // updating or updated: wherever it is, it comes back, and no wave is released after the abort.
    let at_abort = json(&hub, &["rollouts", "abort", "r2"]).expect("abort answers");
    let aborted = eventually("a1 and a2 back on @1", Duration::from_secs(180), || async {
        let r = json(&hub, &["rollouts", "get", "r2"])?;
        let settled = r["waves"]
            .as_array()?
            .iter()
            .flat_map(|w| w.as_array().into_iter().flatten())
            .all(|c| c["status"] == "rolled-back" || c["status"] == "pending");
        (cluster_on(&hub, "a1", "edge-stack@1") && cluster_on(&hub, "a2", "edge-stack@1") && settled).then_some(r)
    })
    .await;
    assert_eq!(aborted["state"], "aborted");
    assert_eq!(
        aborted["waves"][0][0]["status"], "rolled-back",
        "the canary was updated, then rolled back"
    );
    assert_eq!(
        aborted["released_waves"], at_abort["released_waves"],
        "no wave after the abort"
    );
}
