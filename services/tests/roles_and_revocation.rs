//! Who may do what, on a real hub with real sites and agents: a viewer reads and is refused every change with a
//! message naming the subject and the user; an operator changes but does not manage sites or users; history names
//! the authenticated caller, whatever the client claims; a revoked user and a revoked site are cut off within
//! seconds; a rotated site comes back with its new bundle; a node speaks only for itself, and a reset gives it a new
//! identity once the node confirmed it (unconfirmed, it stays resetting); a replaced join token lets no new node in
//! while joined nodes stay.

mod common;

use common::security::{add_user, cli_as, Violations};
use common::{agent, eventually, Hub, Site};
use std::time::Duration;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[actix_rt::test]
async fn viewers_read_operators_change_and_history_names_the_caller() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let _site = Site::start_with_image(dir.path(), &hub, "store-1", &[], None).await;
    let vera = add_user(&hub, dir.path(), "vera", "viewer");
    let olga = add_user(&hub, dir.path(), "olga", "operator");

    let listed = cli_as(&hub, &vera, &["sites", "ls"]);
    assert!(listed.status.success(), "a viewer lists: {}", stderr(&listed));
    for change in [
        vec!["sites", "label", "store-1", "tier=gold"],
        vec!["clusters", "create", "c", "--site", "store-1", "--profile", "p@1"],
        vec!["users", "ls"],
    ] {
        let refused = cli_as(&hub, &vera, &change);
        assert_eq!(refused.status.code(), Some(1), "{change:?}: {}", stderr(&refused));
        let message = stderr(&refused);
        assert!(
            message.contains("permission denied")
                && message.contains("vera (viewer)")
                && message.contains("ef.api.v1."),
            "the refusal names the user and the subject: {message}"
        );
    }

    let labelled = cli_as(&hub, &olga, &["sites", "label", "store-1", "tier=gold"]);
    assert!(labelled.status.success(), "an operator changes: {}", stderr(&labelled));
    for admin_only in [
        vec!["users", "add", "x", "--role", "viewer", "--out", "/nonexistent/x"],
        vec!["sites", "revoke", "store-1"],
    ] {
        let refused = cli_as(&hub, &olga, &admin_only);
        assert_eq!(refused.status.code(), Some(1), "{admin_only:?}: {}", stderr(&refused));
        assert!(stderr(&refused).contains("olga (operator)"), "{}", stderr(&refused));
    }

    // A client claiming to be the admin in the request-info header is still olga: the server overwrites the header.
    let options = common::creds_options(&olga, &hub.ca())
        .await
        .custom_inbox_prefix("_INBOX_olga");
    let client = options.connect(hub.url()).await.expect("olga connects");
    let mut forged = async_nats::HeaderMap::new();
    forged.insert(
        "Nats-Request-Info",
        r#"{"acc":"HUB","user":"admin","name_tag":"admin"}"#,
    );
    client
        .request_with_headers(
            "ef.api.v1.sites.label",
            forged,
            r#"{"id":"store-1","labels":{"tier":"silver"}}"#.into(),
        )
        .await
        .expect("answered");
    let history = common::cli::json(&hub, &["history", "site/store-1"]);
    let by: Vec<&str> = history
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["event"] == "SiteLabelsSet")
        .filter_map(|l| l["by"].as_str())
        .collect();
    assert_eq!(
        by,
        ["olga", "olga"],
        "history names the authenticated caller: {history}"
    );

    // Revoking a user cuts it off.
    common::cli::ok(&hub, &["users", "revoke", "vera"]);
    eventually("vera refused", Duration::from_secs(10), || async {
        let out = cli_as(&hub, &vera, &["sites", "ls"]);
        (!out.status.success() && stderr(&out).contains("credentials were refused")).then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn a_node_speaks_only_for_itself_and_a_reset_gives_it_a_new_identity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start_with_image(dir.path(), &hub, "store-2", &[], None).await;
    let _agents = [agent(dir.path(), &site, "n1"), agent(dir.path(), &site, "n2")];
    eventually("both nodes registered", Duration::from_secs(60), || async {
        (hub.api("nodes.list").await.as_array()?.len() == 2).then_some(())
    })
    .await;
    let identity = dir.path().join("store-2-n1.img.identity");
    let seed = std::fs::read_to_string(&identity).expect("n1's identity");

    // As n1: another node's subject and the site's stream are refused by the server; a body naming another node
    // is refused by the site.
    let violations = Violations::default();
    let options = violations.watch(
        async_nats::ConnectOptions::new()
            .nkey(seed.trim().to_string())
            .custom_inbox_prefix(fleet_trust::node_inbox_prefix(&testkit::token("n1")))
            .add_root_certificates(site.ca())
            .require_tls(true),
    );
    let n1 = options.connect(site.url()).await.expect("n1 connects");
    n1.publish(
        "ef.agent.store-2.n2.heartbeat",
        r#"{"node_id":"n2","applied":null}"#.into(),
    )
    .await
    .expect("publish");
    violations.wait_for("ef.agent.store-2.n2.heartbeat").await;
    n1.publish("ef.site.store-2.node.n2", "forged".into())
        .await
        .expect("publish");
    violations.wait_for("ef.site.store-2.node.n2").await;
    let reply = n1
        .request(
            "ef.agent.store-2.n1.heartbeat",
            r#"{"node_id":"n2","applied":null}"#.into(),
        )
        .await
        .expect("the site answers n1");
    let reply: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|e| e.contains("speaks only for itself")),
        "{reply}"
    );

    // Someone holding the join token cannot give another node n1's key (which would lock n1 out).
    let token = std::fs::read_to_string(site.join_token()).expect("the join token");
    let joiner = async_nats::ConnectOptions::new()
        .user_and_password(fleet_trust::JOIN_USER.into(), token.trim().into())
        .custom_inbox_prefix(fleet_trust::JOIN_INBOX_PREFIX)
        .add_root_certificates(site.ca())
        .require_tls(true)
        .connect(site.url())
        .await
        .expect("the join user connects");
    let n1_key = fleet_trust::UserKey::from_seed(seed.trim())
        .expect("n1's key")
        .public_key();
    let join = serde_json::json!({"node_id": "n9", "public_key": n1_key});
    let answer = joiner
        .request("ef.agent.store-2.join", join.to_string().into())
        .await
        .expect("the site answers");
    let answer: serde_json::Value = serde_json::from_slice(&answer.payload).expect("json");
    assert_eq!(answer["accepted"], false, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("node n1's identity")),
        "{answer}"
    );

    // A reset revokes n1's identity; the agent joins again with a new one and the old key is refused.
    let first = common::cli::json(&hub, &["nodes", "get", "n1", "--site", "store-2"]);
    common::cli::ok(&hub, &["nodes", "reset", "n1", "--site", "store-2"]);
    eventually("n1 with a new identity", Duration::from_secs(60), || async {
        let now = std::fs::read_to_string(&identity).ok()?;
        let joined = std::path::Path::new(&format!("{}.joined", identity.display())).exists();
        (now.trim() != seed.trim() && joined).then_some(())
    })
    .await;
    let old = async_nats::ConnectOptions::new()
        .nkey(seed.trim().to_string())
        .add_root_certificates(site.ca())
        .require_tls(true)
        .connect(site.url())
        .await;
    assert_eq!(
        old.err().map(|e| e.kind()),
        Some(async_nats::ConnectErrorKind::AuthorizationViolation),
        "the revoked key is refused"
    );
    let history = common::cli::ok(&hub, &["history", "node/store-2/n1"]);
    assert_eq!(
        history.matches("NodeIdentityIssued").count(),
        2,
        "{history}\n(first view: {first})"
    );
    eventually("n1 registered again", Duration::from_secs(60), || async {
        let n1 = common::cli::try_json(&hub, &["nodes", "get", "n1", "--site", "store-2"])?;
        (n1["state"] == "unassigned").then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn a_reset_stays_visible_until_the_node_confirms_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start_with_image(dir.path(), &hub, "store-4", &[], None).await;
    let agent_n1 = agent(dir.path(), &site, "n1");
    eventually("n1 registered", Duration::from_secs(60), || async {
        let n1 = common::cli::try_json(&hub, &["nodes", "get", "n1", "--site", "store-4"])?;
        (n1["state"] == "unassigned").then_some(())
    })
    .await;
    // Given n1's agent stopped,
    drop(agent_n1);
    // when the operator resets n1, the site cannot complete the reset without it:
    common::cli::ok(&hub, &["nodes", "reset", "n1", "--site", "store-4"]);
    tokio::time::sleep(Duration::from_secs(8)).await;
    let n1 = common::cli::json(&hub, &["nodes", "get", "n1", "--site", "store-4"]);
    assert_eq!(n1["state"], "resetting", "an unconfirmed reset stays visible: {n1}");
    let history = common::cli::ok(&hub, &["history", "node/store-4/n1"]);
    assert!(!history.contains("NodeResetToBootstrap"), "{history}");
    // then once the agent is back, it wipes its membership and confirms, the reset completes, and the node joins
    // again with a new identity, unassigned.
    let agent_n1 = agent(dir.path(), &site, "n1");
    eventually("n1 reset and registered again", Duration::from_secs(60), || async {
        let n1 = common::cli::try_json(&hub, &["nodes", "get", "n1", "--site", "store-4"])?;
        let history = common::cli::ok(&hub, &["history", "node/store-4/n1"]);
        let rejoined = history.matches("NodeIdentityIssued").count() == 2;
        (n1["state"] == "unassigned" && history.contains("NodeResetToBootstrap") && rejoined).then_some(())
    })
    .await;
    assert!(
        agent_n1.log_text().contains("membership wiped; confirming"),
        "{}",
        agent_n1.log_text()
    );
}

#[actix_rt::test]
async fn a_revoked_site_delivers_nothing_keeps_its_history_and_comes_back_rotated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let mut site = Site::start_with_image(dir.path(), &hub, "store-3", &[], None).await;
    let _agent = agent(dir.path(), &site, "n1");
    eventually("n1 at the hub", Duration::from_secs(60), || async {
        (hub.api("nodes.list").await.as_array()?.len() == 1).then_some(())
    })
    .await;
    common::converged(&hub, &site, Duration::from_secs(30)).await;
    let stream = events::subject::site_stream(&site.id);
    let copy = hub.site_js(&site.id).await;
    let copied = || async {
        replay::stream_reader::last_seq(&copy, &stream)
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    };

    common::cli::ok(&hub, &["sites", "revoke", "store-3"]);
    eventually("store-3 shown revoked", Duration::from_secs(10), || async {
        let sites = hub.api("sites.list").await;
        (sites[0]["connection"] == "revoked").then_some(())
    })
    .await;
    let before = copied().await;
    // The site keeps working and writing (the agent heartbeats, a label would be applied locally), but nothing
    // reaches the hub: write events at the site and watch the copy stand still.
    let js = site.js().await;
    for i in 0..20u64 {
        let node = events::AggregateRef::node(&site.id, &testkit::token(&format!("sim{i}")));
        let subject = events::subject::subject(events::Writer::Site, &node).expect("subject");
        let payload = events::node::NodeEvent::CameBack;
        let now = actors::process_clock::system_wall_ms();
        let envelope = events::Envelope {
            id: events::EventId::generate(now),
            aggregate: node,
            origin: events::Origin::Site(site.id.clone()),
            hlc: events::Hlc {
                physical_ms: now,
                logical: i as u32,
            },
            by: None,
            payload: payload.into(),
        };
        js.publish(subject, events::encode(&envelope).into())
            .await
            .expect("publish")
            .await
            .expect("stored at the site");
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(copied().await, before, "a revoked site delivers nothing");
    assert!(
        common::cli::ok(&hub, &["history", "node/store-3/n1"]).contains("NodeRegistered"),
        "its history stays"
    );

    // Rotation: a new bundle lets it back in; the old one stays refused.
    let rotated = dir.path().join("store-3-rotated");
    common::cli::ok(
        &hub,
        &[
            "sites",
            "rotate",
            "store-3",
            "--out",
            &rotated.display().to_string(),
            "--hub-leaf",
            &site.link.leaf_url(),
        ],
    );
    site.restart_with_bundle(dir.path(), &rotated).await;
    eventually(
        "the copy catching up after the rotation",
        Duration::from_secs(60),
        || async { (copied().await >= before + 20).then_some(()) },
    )
    .await;
    common::converged(&hub, &site, Duration::from_secs(30)).await;
}

#[actix_rt::test]
async fn a_replaced_join_token_lets_no_new_node_in_and_joined_nodes_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let mut site = Site::start_with_image(dir.path(), &hub, "store-4", &[], None).await;
    let _n1 = agent(dir.path(), &site, "n1");
    eventually("n1 registered", Duration::from_secs(60), || async {
        (hub.api("nodes.list").await.as_array()?.len() == 1).then_some(())
    })
    .await;
    let old_token = std::fs::read_to_string(site.join_token()).expect("token");

    site.stop();
    std::fs::remove_file(site.join_token()).expect("revoke the token");
    site.restart(dir.path()).await;
    let new_token = std::fs::read_to_string(site.join_token()).expect("a new token");
    assert_ne!(new_token, old_token);

    // A node holding only the old token is refused; n1, joined before, keeps heartbeating.
    let stale = dir.path().join("stale.token");
    std::fs::write(&stale, &old_token).expect("write");
    let mut args_with_stale = common::agent_args(dir.path(), &site, "n2");
    let at = args_with_stale
        .iter()
        .position(|a| a == "--join-token")
        .expect("join token arg");
    args_with_stale[at + 1] = stale.display().to_string();
    let _n2 = common::process::spawn("agent-store-4-n2", dir.path(), &args_with_stale, &[]);
    eventually("n2 refused with the old token", Duration::from_secs(30), || async {
        let log = std::fs::read_to_string(dir.path().join("agent-store-4-n2.log")).ok()?;
        log.contains("refused the join token").then_some(())
    })
    .await;
    eventually("n1 heartbeating after the restart", Duration::from_secs(30), || async {
        let nodes = hub.api("nodes.list").await;
        let n1 = nodes.as_array()?.iter().find(|n| n["id"] == "n1")?.clone();
        (n1["last_heartbeat_ms_ago"].as_u64()? < 3_000).then_some(())
    })
    .await;
    assert_eq!(hub.api("nodes.list").await.as_array().map(Vec::len), Some(1), "no n2");
    let _n3 = agent(dir.path(), &site, "n3");
    eventually("n3 joins with the new token", Duration::from_secs(60), || async {
        (hub.api("nodes.list").await.as_array()?.len() == 2).then_some(())
    })
    .await;
}
