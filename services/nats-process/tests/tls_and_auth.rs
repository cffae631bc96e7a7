//! A secure server: TLS on the client port, password users, and this crate's own clients (the
//! readiness probe, `connect`) authenticating with the credentials given to the builder.

mod common;

use std::time::Duration;

use async_nats::ConnectErrorKind;
use common::test_ca::TestCa;
use common::{jetstream_info, raw_info, TestResult};
use nats_process::{config_string, ClientCredentials, NatsServer, NatsServerError};

/// A password with every character that means something in nats-server's config syntax.
const ODD_PASSWORD: &str = "a \"q\" b\\c $x #h }] {d\te";

/// Users `u` and `odd` in account `A`, which has JetStream.
fn accounts_with_password_users() -> String {
    format!(
        "accounts {{\n  A: {{\n    jetstream: enabled\n    users: [\n      {{user: u, password: p}}\n      \
         {{user: odd, password: {}}}\n    ]\n  }}\n}}\n",
        config_string(ODD_PASSWORD)
    )
}

fn user_u() -> ClientCredentials {
    ClientCredentials::UserPassword {
        user: "u".to_owned(),
        password: "p".to_owned(),
    }
}

/// One connection attempt to `server`'s client URL with `options`, without retries.
async fn try_connect(
    server: &NatsServer,
    options: async_nats::ConnectOptions,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    options
        .connection_timeout(Duration::from_secs(5))
        .connect(server.client_url())
        .await
}

#[tokio::test]
async fn a_tls_server_with_password_users_admits_only_known_users_who_trust_its_ca() -> TestResult {
    let ca = TestCa::localhost()?;
    // Ready means the probe authenticated as `u` over TLS and found JetStream in account A.
    let server = NatsServer::builder("secure")
        .tls(ca.files.clone())
        .auth_config(&accounts_with_password_users())
        .client_credentials(user_u())
        .start()
        .await?;

    let info = raw_info(&server.client_url()).await?;
    assert_eq!(info["tls_required"], true, "{info}");
    assert_eq!(info["auth_required"], true, "{info}");

    let trusting_the_ca = || async_nats::ConnectOptions::new().add_root_certificates(ca.files.ca.clone());
    let anonymous = try_connect(&server, trusting_the_ca()).await.expect_err("anonymous");
    assert_eq!(
        anonymous.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{anonymous}"
    );
    let wrong_password = trusting_the_ca().user_and_password("u".to_owned(), "not-p".to_owned());
    let wrong_password = try_connect(&server, wrong_password).await.expect_err("wrong password");
    assert_eq!(
        wrong_password.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{wrong_password}"
    );
    // Without the CA, the server's certificate is not trusted (the system roots do not know it).
    let untrusting = async_nats::ConnectOptions::new().user_and_password("u".to_owned(), "p".to_owned());
    let untrusting = try_connect(&server, untrusting).await.expect_err("unknown CA");
    assert!(untrusting.to_string().contains("UnknownIssuer"), "{untrusting}");

    let odd = trusting_the_ca().user_and_password("odd".to_owned(), ODD_PASSWORD.to_owned());
    try_connect(&server, odd).await?.flush().await?;
    let with_password = trusting_the_ca().user_and_password("u".to_owned(), "p".to_owned());
    let client = try_connect(&server, with_password).await?;
    assert_eq!(jetstream_info(&client, "$JS.API.INFO").await?.get("error"), None);
    Ok(())
}

#[tokio::test]
async fn callers_connect_with_the_same_options_as_the_probe() -> TestResult {
    let ca = TestCa::localhost()?;
    let server = NatsServer::builder("secure-connect")
        .jetstream_domain("hub")
        .tls(ca.files.clone())
        .client_ca(ca.files.ca.clone())
        .auth_config(&accounts_with_password_users())
        .client_credentials(user_u())
        .start()
        .await?;

    let info = jetstream_info(&server.connect().await?, "$JS.API.INFO").await?;
    assert_eq!(info["domain"], "hub");
    let client = try_connect(&server, server.connect_options().await?).await?;
    assert!(client.server_info().tls_required);
    Ok(())
}

#[tokio::test]
async fn with_a_client_ca_the_connect_options_insist_on_tls() -> TestResult {
    let ca = TestCa::localhost()?;
    let secure = NatsServer::builder("insists-on-tls")
        .tls(ca.files.clone())
        .client_ca(ca.files.ca.clone())
        .start()
        .await?;
    let plain = NatsServer::builder("offers-no-tls").start().await?;

    // async-nats starts a TLS handshake whatever the server offers; a plain server cannot answer it.
    let refused = try_connect(&plain, secure.connect_options().await?)
        .await
        .expect_err("plain");
    assert_eq!(refused.kind(), ConnectErrorKind::Io, "{refused}");
    try_connect(&plain, plain.connect_options().await?)
        .await?
        .flush()
        .await?;
    Ok(())
}

#[tokio::test]
async fn an_unreadable_credentials_file_fails_before_the_server_is_started() -> TestResult {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("missing.creds");

    let error = NatsServer::builder("no-creds")
        .client_credentials(ClientCredentials::CredsFile(missing.clone()))
        .data_dir(dir.path().join("data"))
        .start()
        .await
        .expect_err("no creds file");

    assert!(
        matches!(&error, NatsServerError::Credentials { path, .. } if *path == missing),
        "{error}"
    );
    assert!(!dir.path().join("data/nats-server.log").exists(), "nothing was started");
    Ok(())
}
