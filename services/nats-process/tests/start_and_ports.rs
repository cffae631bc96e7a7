//! Starting real nats-servers: the hub preset, parallel servers on their own ports and dirs,
//! the listen host, a taken port, extra config. Needs `scripts/install-nats-server` (or
//! NATS_SERVER, or nats-server on PATH).

mod common;

use std::net::TcpListener;

use common::{jetstream_info, TestResult};
use nats_process::{free_port, NatsServer, NatsServerError};

#[tokio::test]
async fn hub_answers_jetstream_info_in_domain_hub() -> TestResult {
    let hub = NatsServer::hub().await?;
    let client = hub.connect().await?;

    let info = jetstream_info(&client, "$JS.API.INFO").await?;
    assert!(info.get("error").is_none(), "JetStream error: {info}");
    assert_eq!(info["domain"], "hub");
    let account = async_nats::jetstream::new(client).query_account().await?;
    assert_eq!(account.domain.as_deref(), Some("hub"));

    assert_eq!(hub.client_url(), format!("nats://127.0.0.1:{}", hub.client_port()));
    let leaf_port = hub.leaf_port().expect("the hub listens for leaves");
    assert_eq!(hub.leaf_url(), Some(format!("nats-leaf://127.0.0.1:{leaf_port}")));
    assert!(hub.pid().is_some());
    assert!(hub.data_dir().join("nats.conf").is_file());
    assert_eq!(hub.store_dir(), hub.data_dir().join("js"));
    assert!(hub.store_dir().is_dir());
    let config = std::fs::read_to_string(hub.data_dir().join("nats.conf"))?;
    assert!(config.contains("sync_interval: always"), "{config}");
    assert!(config.contains("no_advertise: true"), "{config}");
    assert!(std::fs::read_to_string(hub.log_path())?.contains("Server is ready"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_in_parallel_get_their_own_ports_and_dirs() -> TestResult {
    let (first, second) = tokio::join!(NatsServer::hub(), NatsServer::hub());
    let (first, second) = (first?, second?);

    let mut ports = [
        first.client_port(),
        first.leaf_port().expect("leaf port"),
        second.client_port(),
        second.leaf_port().expect("leaf port"),
    ];
    ports.sort_unstable();
    assert!(ports.windows(2).all(|pair| pair[0] != pair[1]), "ports {ports:?}");
    assert_ne!(first.data_dir(), second.data_dir());

    // Dropping a server kills it before its temp dir goes away.
    let first_dir = first.data_dir().to_path_buf();
    drop(first);
    assert!(!first_dir.exists(), "{first_dir:?} outlived its server");
    second.connect().await?.flush().await?;
    Ok(())
}

#[tokio::test]
async fn a_wildcard_listen_host_still_gives_loopback_urls() -> TestResult {
    let server = NatsServer::builder("anywhere")
        .listen_host("0.0.0.0")
        .leaf_listen()
        .start()
        .await?;
    let (client_port, leaf_port) = (server.client_port(), server.leaf_port().expect("leaf"));

    assert_eq!(server.client_url(), format!("nats://127.0.0.1:{client_port}"));
    assert_eq!(server.leaf_url(), Some(format!("nats-leaf://127.0.0.1:{leaf_port}")));
    server.connect().await?.flush().await?;
    // Both listeners are on the wildcard address, not only on loopback.
    let config = std::fs::read_to_string(server.data_dir().join("nats.conf"))?;
    assert!(
        config.contains(&format!("listen: \"0.0.0.0:{client_port}\"")),
        "{config}"
    );
    assert!(config.contains(&format!("listen: \"0.0.0.0:{leaf_port}\"")), "{config}");
    let log = std::fs::read_to_string(server.log_path())?;
    assert!(
        log.contains(&format!("Listening for client connections on 0.0.0.0:{client_port}")),
        "{log}"
    );
    Ok(())
}

#[tokio::test]
async fn given_ports_are_used_as_they_are() -> TestResult {
    let [client_port, leaf_port] = nats_process::free_ports::<2>();
    let server = NatsServer::builder("fixed")
        .listen_host("127.0.0.1")
        .client_port(client_port)
        .leaf_port(leaf_port)
        .start()
        .await?;

    assert_eq!(server.client_port(), client_port);
    assert_eq!(server.leaf_port(), Some(leaf_port));
    server.connect().await?.flush().await?;
    Ok(())
}

#[tokio::test]
async fn a_taken_explicit_port_fails_with_the_server_log() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port to occupy");
    let port = taken.local_addr().expect("bound address").port();

    let error = NatsServer::builder("blocked")
        .client_port(port)
        .start()
        .await
        .expect_err("the port is taken");

    match &error {
        NatsServerError::Exited { attempts, log_tail, .. } => {
            assert_eq!(*attempts, 1, "an explicit port is not retried");
            assert!(log_tail.contains(&port.to_string()), "log tail: {log_tail}");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    assert!(error.to_string().contains("last lines"), "{error}");
    // Debug is the message, so the log tail prints as lines.
    assert_eq!(format!("{error:?}"), error.to_string());
}

#[tokio::test]
async fn extra_config_is_appended_verbatim() -> TestResult {
    let server = NatsServer::builder("extra")
        .leaf_port(free_port())
        .extra_config("max_payload: 4096")
        .start()
        .await?;
    let client = server.connect().await?;
    assert_eq!(client.server_info().max_payload, 4096);
    assert!(server.leaf_url().is_some(), "leaf_port implies leaf_listen");
    Ok(())
}

#[test]
fn servers_and_their_futures_can_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let start = NatsServer::builder("never-started").start();
    assert_send(&start);
    let hub = NatsServer::hub();
    assert_send(&hub);
    fn assert_server_send<T: Send + Sync>() {}
    assert_server_send::<NatsServer>();
}

#[tokio::test]
async fn a_data_dir_with_config_syntax_characters_in_its_path_is_quoted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("my \"hub\" $HOME #1 {a} [b] \\c");

    let server = NatsServer::builder("odd-dir")
        .data_dir(data_dir.clone())
        .start()
        .await?;

    server.connect().await?.flush().await?;
    assert!(
        data_dir.join("js").join("jetstream").is_dir(),
        "the store is where it was asked to be"
    );
    Ok(())
}
