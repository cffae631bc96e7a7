//! How a zero-touch site's NATS can grow from one machine to three servers (DESIGN §12), checked on nats-server
//! itself before the site relies on it.
//!
//! A JetStream cluster of one server cannot exist: with no routes JetStream refuses to start clustered, and a
//! bootstrapping meta group expects at least two peers (`raft.go`, `bootstrapRaftNode`), so a lone member waits
//! forever. A standalone server cannot become a member later either: its streams are deleted as orphans 30 s after
//! it joins. So the first machine runs its server beside a **witness**: a second server on the same machine, one
//! more meta voter that holds no stream (streams are placed on the servers tagged `member`). When two more
//! machines' servers route to it (one at a time), the streams go to three replicas by a stream update, and the
//! witness, once it no longer leads the meta group, is removed from it (a system account's
//! `$JS.API.SERVER.REMOVE`) and stopped. A member lost for good is removed the same way; its replicas move to a
//! member that joined since.

mod common;

use async_nats::jetstream;
use common::TestResult;
use nats_process::{ClientCredentials, ClusterRoutes, NatsServer};
use std::time::Duration;

const AUTH: &str = r#"accounts {
  SITE: { jetstream: enabled, users: [{user: site, password: site}] }
  SYS: { users: [{user: sys, password: sys}] }
}
system_account: SYS"#;

/// A server of cluster `store-1` named `name`, tagged `tag`, routing to the servers on `peers`.
async fn server(name: &str, tag: &str, port: u16, peers: &[u16]) -> Result<NatsServer, nats_process::NatsServerError> {
    NatsServer::builder(name)
        .jetstream_domain("store-1")
        .cluster(ClusterRoutes::on_loopback("store-1", port, peers))
        .auth_config(AUTH)
        .client_credentials(ClientCredentials::UserPassword {
            user: "site".into(),
            password: "site".into(),
        })
        .server_tags(&[tag])
        .start()
        .await
}

/// A system-account client of `server`.
async fn system(server: &NatsServer) -> Result<async_nats::Client, async_nats::Error> {
    Ok(
        async_nats::ConnectOptions::with_user_and_password("sys".into(), "sys".into())
            .connect(server.client_url())
            .await?,
    )
}

/// Removes server `peer` from the meta group (and every stream's peers) through `system`.
async fn remove_server(system: &async_nats::Client, peer: &str) -> Result<(), async_nats::Error> {
    let body = format!(r#"{{"peer":"{peer}"}}"#);
    let reply = system.request("$JS.API.SERVER.REMOVE", body.into()).await?;
    let reply: serde_json::Value = serde_json::from_slice(&reply.payload)?;
    if reply.get("success") != Some(&serde_json::Value::Bool(true)) {
        return Err(format!("server remove {peer}: {reply}").into());
    }
    Ok(())
}

/// The meta group's peers, as the meta leader reports them (every server answers the ping; the leader's answer
/// is the one that counts).
async fn meta_peers(system: &async_nats::Client) -> Result<Vec<String>, async_nats::Error> {
    use futures::StreamExt as _;
    let inbox = system.new_inbox();
    let mut answers = system.subscribe(inbox.clone()).await?;
    system
        .publish_with_reply("$SYS.REQ.SERVER.PING.JSZ", inbox, "{}".into())
        .await?;
    let deadline = tokio::time::sleep(Duration::from_millis(500));
    tokio::pin!(deadline);
    loop {
        let answer = tokio::select! {
            Some(answer) = answers.next() => answer,
            _ = &mut deadline => return Err("no answer from the meta leader".into()),
        };
        let answer: serde_json::Value = serde_json::from_slice(&answer.payload)?;
        let cluster = &answer["data"]["meta_cluster"];
        let leader = cluster["leader"].as_str().unwrap_or_default();
        if leader.is_empty() || answer["server"]["name"].as_str() != Some(leader) {
            continue;
        }
        let mut names: Vec<String> = cluster["replicas"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .chain([leader.to_owned()])
            .collect();
        names.sort();
        return Ok(names);
    }
}

/// Asks the meta leader to step down if it is `name` (a server about to be removed should not lead).
async fn not_leading(system: &async_nats::Client, name: &str) -> Result<(), async_nats::Error> {
    let reply = system.request("$SYS.REQ.SERVER.PING.JSZ", "{}".into()).await?;
    let reply: serde_json::Value = serde_json::from_slice(&reply.payload)?;
    if reply["data"]["meta_cluster"]["leader"].as_str() == Some(name) {
        system.request("$JS.API.META.LEADER.STEPDOWN", "".into()).await?;
        return Err(format!("{name} was leading; asked it to step down").into());
    }
    Ok(())
}

/// The stream's replicas as the server sees them: (leader, [(peer, current, offline)]).
async fn replicas(js: &jetstream::Context) -> Result<(String, Vec<(String, bool, bool)>), async_nats::Error> {
    let mut stream = js.get_stream("SITE").await?;
    let info = stream.info().await?;
    let cluster = info.cluster.clone().ok_or("no cluster info")?;
    let peers = cluster
        .replicas
        .iter()
        .map(|r| (r.name.clone(), r.current, r.offline))
        .collect();
    Ok((cluster.leader.unwrap_or_default(), peers))
}

async fn publish(js: &jetstream::Context, n: usize) -> TestResult {
    for i in 0..n {
        js.publish(format!("ef.site.store-1.node.n{i}"), "x".into())
            .await?
            .await?;
    }
    Ok(())
}

/// Retries `attempt` every 250 ms for up to `seconds`.
async fn eventually<T, F, Fut>(what: &str, seconds: u64, mut attempt: F) -> Result<T, async_nats::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, async_nats::Error>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(format!("{what}: {e}").into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

#[tokio::test]
async fn a_server_and_its_witness_grow_to_three_members_and_replace_a_lost_one() -> TestResult {
    let [p1, pw, p2, p3, p4] = nats_process::free_ports::<5>();
    // Given the first machine: its server and a witness, routed to each other; the site stream on the member.
    let (to_witness, to_m1) = ([pw], [p1]);
    let (m1, witness) = tokio::join!(
        server("m1", "member", p1, &to_witness),
        server("w1", "witness", pw, &to_m1)
    );
    let (mut m1, mut witness) = (m1?, witness?);
    let js = jetstream::new(m1.connect().await?);
    eventually("create the stream", 30, || async {
        js.create_stream(jetstream::stream::Config {
            name: "SITE".into(),
            subjects: vec!["ef.site.>".into()],
            placement: Some(jetstream::stream::Placement {
                tags: vec!["member".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?;
        Ok(())
    })
    .await?;
    assert_eq!(replicas(&js).await?, ("m1".to_owned(), vec![]));
    publish(&js, 5).await?;

    // When two more machines' servers route to it and the stream asks for three replicas.
    // One at a time, as the site promotes them: a new server starts only once the last one is in the meta group.
    let sys = system(&m1).await?;
    let m2 = server("m2", "member", p2, &[p1, pw]).await?;
    in_meta(&sys, &["m1", "m2", "w1"]).await?;
    let m3 = server("m3", "member", p3, &[p1, pw, p2]).await?;
    in_meta(&sys, &["m1", "m2", "m3", "w1"]).await?;
    let js = jetstream::new(m2.connect().await?);
    eventually("three replicas", 30, || async {
        let mut config = js.get_stream("SITE").await?.info().await?.config.clone();
        config.num_replicas = 3;
        js.update_stream(config).await?;
        Ok(())
    })
    .await?;
    // And the witness leaves the meta group.
    let sys = system(&m2).await?;
    three_current_replicas(&js, ["m1", "m2", "m3"]).await?;
    eventually("the witness not leading", 30, || not_leading(&sys, "w1")).await?;
    eventually("remove the witness", 30, || remove_server(&sys, "w1")).await?;
    in_meta(&sys, &["m1", "m2", "m3"]).await?;
    witness.stop();
    publish(&js, 5).await?;

    // When the first machine is lost.
    m1.kill9();
    // Then the others keep accepting writes and keep every acknowledged one.
    eventually("writes after the loss", 30, || async {
        publish(&js, 1).await.map_err(|e| e.to_string().into())
    })
    .await?;
    assert_eq!(js.get_stream("SITE").await?.info().await?.state.messages, 11);

    // When a new machine's server joins and the lost one is removed.
    let m4 = server("m4", "member", p4, &[p2, p3]).await?;
    eventually("remove the lost member", 30, || remove_server(&sys, "m1")).await?;
    // Then the stream has three current replicas again, on m2, m3 and m4, with all eleven messages.
    let js4 = jetstream::new(m4.connect().await?);
    three_current_replicas(&js4, ["m2", "m3", "m4"]).await?;
    assert_eq!(js4.get_stream("SITE").await?.info().await?.state.messages, 11);
    publish(&js4, 1).await?;
    drop(m3);
    Ok(())
}

/// Waits until the meta group's peers are `names`.
async fn in_meta(sys: &async_nats::Client, names: &[&str]) -> TestResult {
    eventually("meta peers", 30, || async {
        let peers = meta_peers(sys).await?;
        if peers != names {
            return Err(format!("meta peers {peers:?}").into());
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Waits until the stream's leader and replicas are `names`, every replica current.
async fn three_current_replicas(js: &jetstream::Context, names: [&str; 3]) -> TestResult {
    eventually("three again", 60, || async {
        let (leader, peers) = replicas(js).await?;
        let mut all: Vec<String> = peers.iter().map(|p| p.0.clone()).chain([leader.clone()]).collect();
        all.sort();
        if all != names || !peers.iter().all(|p| p.1 && !p.2) {
            return Err(format!("not yet: leader {leader}, replicas {peers:?}").into());
        }
        Ok(())
    })
    .await?;
    Ok(())
}
