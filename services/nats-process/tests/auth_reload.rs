//! Replacing the auth config of a running server: users added and removed by `reload`, a broken
//! config refused while the old one keeps serving, and `restart` bringing back the last
//! accepted config after a crash.

mod common;

use std::time::Duration;

use async_nats::{ConnectErrorKind, Event};
use common::TestResult;
use nats_process::{config_string, ClientCredentials, NatsServer, NatsServerError};
use nkeys::KeyPair;
use tokio::sync::mpsc;

/// Account `A` with JetStream whose users are the nkeys `users`.
fn accounts_with_nkey_users(users: &[&KeyPair]) -> String {
    let users: Vec<String> = users
        .iter()
        .map(|user| format!("      {{nkey: {}}}", user.public_key()))
        .collect();
    format!(
        "accounts {{\n  A: {{\n    jetstream: enabled\n    users: [\n{}\n    ]\n  }}\n}}\n",
        users.join("\n")
    )
}

/// An auth config nats-server cannot parse: the account map is never closed.
const BROKEN_AUTH_CONFIG: &str = "accounts {\n  A: { jetstream: enabled, users: [\n}\n";

/// One connection attempt as `user`, without retries.
async fn connect_as(server: &NatsServer, user: &KeyPair) -> Result<async_nats::Client, async_nats::ConnectError> {
    async_nats::ConnectOptions::new()
        .nkey(user.seed().expect("a fresh key pair has a seed"))
        .connection_timeout(Duration::from_secs(5))
        .connect(server.client_url())
        .await
}

/// A client connected as `user` whose events (server errors, disconnects) arrive on the channel.
async fn connect_watching_events(
    server: &NatsServer,
    user: &KeyPair,
) -> Result<(async_nats::Client, mpsc::UnboundedReceiver<Event>), async_nats::ConnectError> {
    let (sender, events) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .nkey(user.seed().expect("a fresh key pair has a seed"))
        .event_callback(move |event| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(event);
            }
        })
        .connect(server.client_url())
        .await?;
    Ok((client, events))
}

/// Waits up to 5 s for the connection to be closed; returns the events seen until then.
async fn closed_by_the_server(events: &mut mpsc::UnboundedReceiver<Event>) -> Vec<String> {
    let mut seen = Vec::new();
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = events.recv().await {
            seen.push(event.to_string());
            if matches!(event, Event::Disconnected) {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the connection stayed open; events: {seen:?}");
    seen
}

/// Asserts `user` cannot connect.
async fn assert_refused(server: &NatsServer, user: &KeyPair, who: &str) {
    match connect_as(server, user).await {
        Ok(_) => panic!("{who} could still connect"),
        Err(error) => assert_eq!(error.kind(), ConnectErrorKind::AuthorizationViolation, "{who}: {error}"),
    }
}

#[tokio::test]
async fn reload_adds_and_removes_users_and_refuses_a_broken_config() -> TestResult {
    let (alice, bob) = (KeyPair::new_user(), KeyPair::new_user());
    let mut server = NatsServer::builder("reloading")
        .auth_config(&accounts_with_nkey_users(&[&alice]))
        .client_credentials(ClientCredentials::NKeySeed(alice.seed()?))
        .start()
        .await?;
    let (_alice_client, mut alice_events) = connect_watching_events(&server, &alice).await?;
    assert_refused(&server, &bob, "bob before he was added").await;

    server.set_auth_config(&accounts_with_nkey_users(&[&alice, &bob]));
    server.reload().await?;
    let bob_client = connect_as(&server, &bob).await?;

    server.set_auth_config(&accounts_with_nkey_users(&[&bob]));
    server.set_client_credentials(ClientCredentials::NKeySeed(bob.seed()?));
    server.reload().await?;
    // The server closes alice's live connection (her client sees no error first, only the
    // disconnect) and refuses her reconnects.
    let events = closed_by_the_server(&mut alice_events).await;
    assert_eq!(events.last().map(String::as_str), Some("disconnected"), "{events:?}");
    assert_refused(&server, &alice, "alice after she was removed").await;
    bob_client.flush().await?;

    server.set_auth_config(BROKEN_AUTH_CONFIG);
    let refused = server.reload().await.expect_err("a broken config is refused");
    match &refused {
        NatsServerError::ReloadRefused { reason, .. } => assert!(reason.contains("Parse error"), "{refused}"),
        other => panic!("expected ReloadRefused, got {other}"),
    }
    assert!(server.is_running());
    bob_client.flush().await?;
    connect_as(&server, &bob).await?.flush().await?;
    let config = std::fs::read_to_string(server.data_dir().join("nats.conf"))?;
    assert!(
        config.contains(&bob.public_key()) && !config.contains("users: [\n}"),
        "{config}"
    );
    let log = std::fs::read_to_string(server.log_path())?;
    assert_eq!(log.matches("[INF] Reloaded server configuration").count(), 2, "{log}");
    assert_eq!(
        log.matches("[ERR] Failed to reload server configuration: ").count(),
        1,
        "{log}"
    );
    Ok(())
}

#[tokio::test]
async fn restart_after_kill9_runs_the_last_accepted_auth_config() -> TestResult {
    let (alice, bob) = (KeyPair::new_user(), KeyPair::new_user());
    let mut server = NatsServer::builder("restarted-with-reloaded-auth")
        .jetstream_domain("hub")
        .auth_config(&accounts_with_nkey_users(&[&alice]))
        .client_credentials(ClientCredentials::NKeySeed(alice.seed()?))
        .start()
        .await?;
    server.set_auth_config(&accounts_with_nkey_users(&[&bob]));
    server.set_client_credentials(ClientCredentials::NKeySeed(bob.seed()?));
    server.reload().await?;
    server.set_auth_config(BROKEN_AUTH_CONFIG);
    server.reload().await.expect_err("a broken config is refused");

    server.kill9();
    // Ready again means the probe got in as bob: the broken config was not started.
    server.restart().await?;

    assert_refused(&server, &alice, "alice, removed before the crash").await;
    let info = common::jetstream_info(&server.connect().await?, "$JS.API.INFO").await?;
    assert_eq!(info["domain"], "hub");

    // A config set but never reloaded is what the next restart starts.
    server.set_auth_config(&accounts_with_nkey_users(&[&alice, &bob]));
    server.kill9();
    server.restart().await?;
    connect_as(&server, &alice).await?.flush().await?;
    Ok(())
}

#[tokio::test]
async fn a_stopped_server_is_not_reloaded_and_keeps_the_new_config_for_restart() -> TestResult {
    let (alice, bob) = (KeyPair::new_user(), KeyPair::new_user());
    let mut server = NatsServer::builder("stopped-reload")
        .auth_config(&accounts_with_nkey_users(&[&alice]))
        .client_credentials(ClientCredentials::NKeySeed(alice.seed()?))
        .start()
        .await?;
    server.stop();

    server.set_auth_config(&accounts_with_nkey_users(&[&alice, &bob]));
    let error = server.reload().await.expect_err("nothing runs");

    assert!(matches!(error, NatsServerError::NotRunning { .. }), "{error}");
    server.restart().await?;
    connect_as(&server, &bob).await?.flush().await?;
    Ok(())
}

#[tokio::test]
async fn a_reload_whose_outcome_is_not_in_the_log_times_out_and_keeps_the_accepted_config() -> TestResult {
    let (alice, bob) = (KeyPair::new_user(), KeyPair::new_user());
    let elsewhere = tempfile::tempdir()?;
    let log_file = elsewhere.path().join("own.log");
    // The server's own `log_file` takes its lines away from nats-server.log, where reload looks.
    let mut server = NatsServer::builder("logs-elsewhere")
        .auth_config(&accounts_with_nkey_users(&[&alice]))
        .client_credentials(ClientCredentials::NKeySeed(alice.seed()?))
        .extra_config(&format!("log_file: {}", config_string(&log_file.to_string_lossy())))
        .start()
        .await?;

    server.set_auth_config(&accounts_with_nkey_users(&[&bob]));
    let error = server.reload().await.expect_err("no outcome in nats-server.log");

    assert!(matches!(error, NatsServerError::ReloadTimeout { .. }), "{error}");
    let config = std::fs::read_to_string(server.data_dir().join("nats.conf"))?;
    assert!(
        config.contains(&alice.public_key()) && !config.contains(&bob.public_key()),
        "{config}"
    );
    Ok(())
}
