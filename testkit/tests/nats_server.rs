//! Real nats-server processes through testkit: start, ports, leaf links across JetStream
//! domains, kill -9 and restart, and the binary lookup. Needs `scripts/install-nats-server`
//! (or NATS_SERVER, or nats-server on PATH).

use std::ffi::OsString;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use testkit::free_port::free_port;
use testkit::nats_binary::find_nats_server_in;
use testkit::{NatsBinaryError, NatsServer, NatsServerError};
use tokio::time::Instant;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Asks `subject` (a JetStream `INFO` API subject) and returns the reply as JSON.
async fn jetstream_info(
    client: &async_nats::Client,
    subject: &str,
) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
    let reply = client.request(subject.to_owned(), "".into()).await?;
    Ok(serde_json::from_slice(&reply.payload)?)
}

#[tokio::test]
async fn hub_answers_jetstream_info_in_domain_hub() -> TestResult {
    let hub = NatsServer::hub().await?;
    let client = hub.connect().await?;

    let info = jetstream_info(&client, "$JS.API.INFO").await?;
    assert!(info.get("error").is_none(), "JetStream error: {info}");
    assert_eq!(info["domain"], "hub");
    let account = async_nats::jetstream::new(client).query_account().await?;
    assert_eq!(account.domain.as_deref(), Some("hub"));

    assert_eq!(
        hub.client_url(),
        format!("nats://127.0.0.1:{}", hub.client_port())
    );
    let leaf_port = hub.leaf_port().expect("the hub listens for leaves");
    assert_eq!(
        hub.leaf_url(),
        Some(format!("nats-leaf://127.0.0.1:{leaf_port}"))
    );
    assert!(hub.pid().is_some());
    assert!(hub.data_dir().join("nats.conf").is_file());
    assert!(hub.data_dir().join("js").is_dir());
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
    assert!(
        ports.windows(2).all(|pair| pair[0] != pair[1]),
        "ports {ports:?}"
    );
    assert_ne!(first.data_dir(), second.data_dir());

    // Dropping a server kills it before its temp dir goes away.
    let first_dir = first.data_dir().to_path_buf();
    drop(first);
    assert!(!first_dir.exists(), "{first_dir:?} outlived its server");
    second.connect().await?.flush().await?;
    Ok(())
}

#[tokio::test]
async fn hub_reaches_the_jetstream_api_of_a_leaf_in_its_own_domain() -> TestResult {
    let hub = NatsServer::hub().await?;
    let hub_leaf_url = hub.leaf_url().expect("the hub listens for leaves");
    let site = NatsServer::builder("site-a")
        .jetstream_domain("site-a")
        .leaf_remote(&hub_leaf_url)
        .start()
        .await?;

    // The site's own API answers for its own domain, not the hub's.
    let site_info = jetstream_info(&site.connect().await?, "$JS.API.INFO").await?;
    assert_eq!(site_info["domain"], "site-a");

    // From the hub, the site's API is `$JS.site-a.API`, once the leaf link is up.
    let hub_client = hub.connect().await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let info = loop {
        let last = jetstream_info(&hub_client, "$JS.site-a.API.INFO").await;
        match last {
            Ok(info) if info.get("error").is_none() => break info,
            _ if Instant::now() >= deadline => {
                panic!("hub never reached $JS.site-a.API.INFO; last answer: {last:?}")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert_eq!(info["domain"], "site-a");
    Ok(())
}

#[tokio::test]
async fn kill9_and_restart_keep_an_acknowledged_message() -> TestResult {
    let mut hub = NatsServer::hub().await?;
    let (client_port, leaf_port, pid_before) = (hub.client_port(), hub.leaf_port(), hub.pid());
    {
        let jetstream = async_nats::jetstream::new(hub.connect().await?);
        jetstream
            .create_stream(async_nats::jetstream::stream::Config {
                name: "SITE".to_owned(),
                subjects: vec!["ef.site.>".to_owned()],
                ..Default::default()
            })
            .await?;
        jetstream
            .publish("ef.site.site-a.node.n1", "registered".into())
            .await?
            .await?;
    }

    hub.kill9();
    assert_eq!(hub.pid(), None);
    hub.restart().await?;

    assert_eq!(hub.client_port(), client_port);
    assert_eq!(hub.leaf_port(), leaf_port);
    assert!(hub.pid().is_some() && hub.pid() != pid_before);
    let jetstream = async_nats::jetstream::new(hub.connect().await?);
    let mut stream = jetstream.get_stream("SITE").await?;
    assert_eq!(stream.info().await?.state.messages, 1);
    let message = stream.get_raw_message(1).await?;
    assert_eq!(message.subject.as_str(), "ef.site.site-a.node.n1");
    assert_eq!(message.payload.as_ref(), b"registered");
    Ok(())
}

#[tokio::test]
async fn a_given_data_dir_outlives_the_server_and_is_reopened() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let server = NatsServer::builder("site-b")
            .jetstream_domain("site-b")
            .data_dir(dir.path().to_path_buf())
            .start()
            .await?;
        let jetstream = async_nats::jetstream::new(server.connect().await?);
        let mut bucket = jetstream
            .create_stream(async_nats::jetstream::stream::Config {
                name: "KEPT".to_owned(),
                ..Default::default()
            })
            .await?;
        assert_eq!(bucket.info().await?.config.name, "KEPT");
    }
    assert!(dir.path().join("js").is_dir());

    let reopened = NatsServer::builder("site-b")
        .jetstream_domain("site-b")
        .data_dir(dir.path().to_path_buf())
        .start()
        .await?;
    let jetstream = async_nats::jetstream::new(reopened.connect().await?);
    jetstream.get_stream("KEPT").await?;
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
        NatsServerError::Exited {
            attempts, log_tail, ..
        } => {
            assert_eq!(*attempts, 1, "an explicit port is not retried");
            assert!(log_tail.contains(&port.to_string()), "log tail: {log_tail}");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    assert!(error.to_string().contains("last lines"), "{error}");
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
fn missing_nats_server_env_path_is_an_error_that_says_so() {
    let missing = Path::new("/nonexistent/nats-server");
    let error = find_nats_server_in(
        Some(OsString::from(missing)),
        Path::new("/"),
        Some(OsString::from("/usr/bin")),
    )
    .expect_err("the file does not exist");

    assert!(
        matches!(&error, NatsBinaryError::EnvPathMissing { path } if path == missing),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("NATS_SERVER"), "{message}");
    assert!(message.contains("/nonexistent/nats-server"), "{message}");
}

#[test]
fn no_binary_anywhere_says_how_to_install() {
    let empty = tempfile::tempdir().expect("temp dir");
    let error = find_nats_server_in(None, empty.path(), Some(empty.path().into()))
        .expect_err("nothing to find");

    assert!(matches!(error, NatsBinaryError::NotFound), "{error:?}");
    assert_eq!(
        error.to_string(),
        "nats-server not found: set NATS_SERVER, or run scripts/install-nats-server \
         (installs into .tools/bin), or put nats-server on PATH"
    );
}

#[cfg(unix)]
#[test]
fn lookup_prefers_env_then_tool_dir_above_the_start_dir_then_path() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().expect("temp dir");
    let make_binary = |path: &Path| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    };
    let tool_binary = root.path().join("repo/.tools/bin/nats-server");
    let path_binary = root.path().join("usr/bin/nats-server");
    let env_binary = root.path().join("custom/nats-server");
    make_binary(&tool_binary);
    make_binary(&path_binary);
    make_binary(&env_binary);
    let nested = root.path().join("repo/crate/src");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let path_var = Some(OsString::from(root.path().join("usr/bin")));

    let found = |env: Option<&Path>, start: &Path| {
        find_nats_server_in(env.map(OsString::from), start, path_var.clone()).expect("found")
    };
    assert_eq!(found(Some(&env_binary), &nested), env_binary);
    assert_eq!(found(None, &nested), tool_binary);
    assert_eq!(found(None, root.path()), path_binary);
    // An empty NATS_SERVER counts as unset.
    assert_eq!(
        find_nats_server_in(Some(OsString::new()), &nested, None).expect("found"),
        tool_binary
    );
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
