//! A cluster formed from the site image, end to end: labelling its nodes never moves them (defect 1); deleting it
//! takes every member out, the site removes it and acknowledges the deletion's generation, and `clusters ls` stops
//! listing it (defect 5); its nodes stay out of it.

mod common;

use common::cli::{json, ok, try_json};
use common::{agent, eventually, Hub, Site};
use std::time::Duration;

#[actix_rt::test]
async fn labels_never_move_nodes_and_a_deleted_cluster_is_removed_and_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "store-1", &[]).await;
    let _agents: Vec<_> = ["n1", "n2", "n3"].iter().map(|n| agent(dir.path(), &site, n)).collect();
    let ready = |members: usize| {
        let hub = &hub;
        move || async move {
            let c = try_json(hub, &["clusters", "get", "main", "--site", "store-1"])?;
            (c["state"] == "ready" && c["members"].as_array()?.len() == members).then_some(c)
        }
    };
    eventually(
        "main formed from the site image with 3 members",
        Duration::from_secs(60),
        ready(3),
    )
    .await;

    // Defect 1: labelling the control-plane node (formed offline, no hub intent ever) moves nothing. Which node
    // that is depends on which joined the site first.
    let nodes = json(&hub, &["nodes", "ls", "--site", "store-1"]);
    let control_plane = nodes
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["role"] == "control-plane"))
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("a control-plane node in {nodes}"))
        .to_string();
    let cp = control_plane.as_str();
    ok(&hub, &["nodes", "label", cp, "rack=r1", "--site", "store-1"]);
    eventually("the label at the site", Duration::from_secs(30), || async {
        let state = common::node_state(&site.homes().await, &site.id, cp).await?;
        (state.spec.labels.get("rack").map(String::as_str) == Some("r1")).then_some(())
    })
    .await;
    common::converged(&hub, &site, Duration::from_secs(30)).await;
    let cluster = json(&hub, &["clusters", "get", "main", "--site", "store-1"]);
    assert_eq!(cluster["members"].as_array().map(Vec::len), Some(3), "{cluster}");
    let labelled = json(&hub, &["nodes", "get", cp, "--site", "store-1"]);
    assert_eq!(
        (labelled["cluster"].as_str(), labelled["role"].as_str()),
        (Some("main"), Some("control-plane"))
    );
    assert!(!ok(&hub, &["history", &format!("node/store-1/{cp}")]).contains("NodeLeft"));

    // Defect 5: delete it; the site empties it, removes it and acknowledges the deletion.
    let deleting = json(&hub, &["clusters", "delete", "main", "--site", "store-1"]);
    assert!(
        deleting["state"] == "deleting" || deleting["state"] == "removed",
        "{deleting}"
    );
    let removed = eventually("main removed at the site", Duration::from_secs(60), || async {
        let all = json(&hub, &["clusters", "ls", "--removed"]);
        let main = all.as_array()?.iter().find(|c| c["id"] == "main")?.clone();
        (main["state"] == "removed").then_some(main)
    })
    .await;
    assert_eq!(
        removed["observed_generation"], removed["generation"],
        "the site acknowledged the deletion's generation: {removed}"
    );
    assert_eq!(removed["members"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        json(&hub, &["clusters", "ls"]),
        serde_json::json!([]),
        "ls hides removed clusters"
    );
    eventually("every node back in the pool", Duration::from_secs(30), || async {
        let nodes = json(&hub, &["nodes", "ls", "--site", "store-1"]);
        let nodes = nodes.as_array()?;
        (nodes.len() == 3
            && nodes
                .iter()
                .all(|n| n["state"] == "unassigned" && n["cluster"].is_null()))
        .then_some(())
    })
    .await;
    common::converged(&hub, &site, Duration::from_secs(30)).await;
    // And they stay out: a few more plans later nobody has rejoined the deleted cluster.
    let history = ok(&hub, &["history", "cluster/store-1/main"]);
    assert_eq!(history.matches("ClusterRemoved").count(), 1, "{history}");
    assert_eq!(
        history.matches("ClusterFormed").count(),
        1,
        "never formed again:\n{history}"
    );
}
