//! The lifecycle a supervisor drives: kill -9, a crash noticed by `is_running`, a graceful
//! `stop`, `restart` on the same ports and store, and a kept data dir reopened by a new server.

mod common;

use async_nats::jetstream;
use common::{wait_until, TestResult};
use nats_process::NatsServer;

/// Creates stream `SITE` on `server` and publishes one acknowledged message to it.
async fn publish_one(server: &NatsServer) -> TestResult {
    let jetstream = jetstream::new(server.connect().await?);
    jetstream
        .create_stream(jetstream::stream::Config {
            name: "SITE".to_owned(),
            subjects: vec!["ef.site.>".to_owned()],
            ..Default::default()
        })
        .await?;
    jetstream
        .publish("ef.site.site-a.node.n1", "registered".into())
        .await?
        .await?;
    Ok(())
}

/// Asserts that stream `SITE` on `server` still holds the message of [`publish_one`].
async fn assert_one_kept(server: &NatsServer) -> TestResult {
    let jetstream = jetstream::new(server.connect().await?);
    let mut stream = jetstream.get_stream("SITE").await?;
    assert_eq!(stream.info().await?.state.messages, 1);
    let message = stream.get_raw_message(1).await?;
    assert_eq!(message.subject.as_str(), "ef.site.site-a.node.n1");
    assert_eq!(message.payload.as_ref(), b"registered");
    Ok(())
}

#[tokio::test]
async fn kill9_and_restart_keep_an_acknowledged_message() -> TestResult {
    let mut hub = NatsServer::hub().await?;
    let (client_port, leaf_port, pid_before) = (hub.client_port(), hub.leaf_port(), hub.pid());
    publish_one(&hub).await?;

    assert!(hub.is_running());
    hub.kill9();
    assert_eq!(hub.pid(), None);
    assert!(!hub.is_running());
    hub.restart().await?;

    assert!(hub.is_running());
    assert_eq!(hub.client_port(), client_port);
    assert_eq!(hub.leaf_port(), leaf_port);
    assert!(hub.pid().is_some() && hub.pid() != pid_before);
    assert_one_kept(&hub).await
}

#[cfg(unix)]
#[tokio::test]
async fn a_crash_is_noticed_by_is_running_and_restart_brings_the_server_back() -> TestResult {
    let mut server = NatsServer::builder("crashy").leaf_listen().start().await?;
    let pid = server.pid().expect("running");

    // Someone else kills the process: the server only learns it by asking.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    assert!(killed.success());
    wait_until("is_running turns false after a crash", 5_000, || !server.is_running()).await;
    assert_eq!(server.pid(), None);
    let log = std::fs::read_to_string(server.log_path())?;
    assert!(log.contains("--- nats-process: exited ("), "{log}");

    server.restart().await?;
    assert!(server.is_running());
    server.connect().await?.flush().await?;
    Ok(())
}

#[tokio::test]
async fn stop_is_graceful_and_the_data_survives_a_restart() -> TestResult {
    // The default sync interval: only a clean shutdown is sure to have flushed the store.
    let mut server = NatsServer::builder("site-c").jetstream_domain("site-c").start().await?;
    publish_one(&server).await?;

    server.stop();

    assert!(!server.is_running());
    assert_eq!(server.pid(), None);
    let log = std::fs::read_to_string(server.log_path())?;
    assert!(log.contains("Trapped \"terminated\" signal"), "{log}");
    assert!(log.contains("Server Exiting"), "{log}");
    assert!(log.contains("--- nats-process: stopped ("), "{log}");
    assert!(!log.contains("SIGKILL"), "{log}");
    server.stop(); // a second stop does nothing

    server.restart().await?;
    assert!(server.is_running());
    assert_one_kept(&server).await
}

#[tokio::test]
async fn a_given_data_dir_outlives_the_server_and_is_reopened() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("hub-data");
    {
        let server = NatsServer::builder("site-b")
            .jetstream_domain("site-b")
            .data_dir(data_dir.clone())
            .start()
            .await?;
        assert_eq!(server.data_dir(), data_dir);
        assert_eq!(server.store_dir(), data_dir.join("js"));
        let jetstream = jetstream::new(server.connect().await?);
        let mut stream = jetstream
            .create_stream(jetstream::stream::Config {
                name: "KEPT".to_owned(),
                ..Default::default()
            })
            .await?;
        assert_eq!(stream.info().await?.config.name, "KEPT");
    }
    for kept in ["js", "nats.conf", "nats-server.log"] {
        assert!(data_dir.join(kept).exists(), "{kept} was not kept");
    }

    let reopened = NatsServer::builder("site-b")
        .jetstream_domain("site-b")
        .data_dir(data_dir.clone())
        .start()
        .await?;
    let jetstream = jetstream::new(reopened.connect().await?);
    jetstream.get_stream("KEPT").await?;
    Ok(())
}
