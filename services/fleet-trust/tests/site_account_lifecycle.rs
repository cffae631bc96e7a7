//! A site's account is added to a running hub by pushing its JWT to `$SYS.REQ.CLAIMS.UPDATE`; its users connect;
//! a user revoked in a re-pushed account JWT can no longer connect and loses its live connection. An account from
//! a foreign operator admits nobody, and a non-system user gets no answer to a push.

mod support;

use async_nats::{ConnectErrorKind, Event};
use events::Token;
use fleet_trust::{
    hub_account_claims, hub_in_site_user, push_account_jwt, sign_jwt, AccountKey, AccountName, ClaimsPushError,
    OperatorKey, ServerNames, ServerTls, TrustRoot, UserCreds,
};
use support::{connect, connect_with_events, eventually, OperatorHub};
use tempfile::TempDir;

async fn tls_hub() -> (TempDir, TrustRoot, OperatorHub) {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path().join("trust")).unwrap();
    let tls = ServerTls::new(root.issue_hub_server_cert(&ServerNames::localhost()).unwrap());
    let hub = OperatorHub::start(&root, dir.path(), Some(&tls), None).await;
    (dir, root, hub)
}

#[tokio::test]
async fn a_pushed_site_account_admits_its_users_until_one_is_revoked() {
    let (dir, root, hub) = tls_hub().await;
    let ca = root.fleet_ca().cert_path();
    let system = connect(&hub.client_url, &root.layout().system_creds(), Some(ca))
        .await
        .unwrap();
    let site = Token::new("a").unwrap();
    let account = AccountName::site(&site);
    let user_creds = dir.path().join("hub-in-a.creds");
    let user = root
        .issue_user(&account, "hub-in-a", &hub_in_site_user(), None)
        .unwrap();
    user.write(&user_creds).unwrap();
    assert_eq!(
        connect(&hub.client_url, &user_creds, Some(ca))
            .await
            .unwrap_err()
            .kind(),
        ConnectErrorKind::AuthorizationViolation,
        "the hub does not know the site's account before the push"
    );

    let updated = push_account_jwt(&system, &root.issue_site_account(&site).unwrap())
        .await
        .unwrap();

    assert_eq!(updated.message, "jwt updated");
    assert_eq!(updated.account, root.account_key(&account).unwrap().public_key());
    let (live, mut events) = connect_with_events(&hub.client_url, &user_creds, Some(ca)).await;
    live.flush().await.unwrap();

    push_account_jwt(&system, &root.revoke_user(&account, &user.user_public_key()).unwrap())
        .await
        .unwrap();

    let refused = connect(&hub.client_url, &user_creds, Some(ca)).await.unwrap_err();
    assert_eq!(refused.kind(), ConnectErrorKind::AuthorizationViolation, "{refused}");
    eventually("the revoked user's live connection to be closed", || {
        let disconnected = std::iter::from_fn(|| events.try_recv().ok()).any(|event| event == Event::Disconnected);
        async move { disconnected.then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn an_account_signed_by_another_operator_admits_nobody_even_when_the_server_stores_it() {
    let (dir, root, hub) = tls_hub().await;
    let ca = root.fleet_ca().cert_path();
    let system = connect(&hub.client_url, &root.layout().system_creds(), Some(ca))
        .await
        .unwrap();
    let foreign = OperatorKey::generate();
    let account = AccountKey::generate();
    let jwt = sign_jwt(&foreign, &account.public_key(), "intruder", &hub_account_claims()).unwrap();
    let intruder_creds = dir.path().join("intruder.creds");
    UserCreds::issue(&account, "intruder", &hub_in_site_user(), None)
        .unwrap()
        .write(&intruder_creds)
        .unwrap();

    // nats-server 2.15.1 answers "jwt updated" here without checking the issuer (an answer is no proof of
    // trust), so the answer itself is not asserted; what matters is that the account admits nobody.
    let _answer = push_account_jwt(&system, &jwt).await;

    let refused = connect(&hub.client_url, &intruder_creds, Some(ca)).await.unwrap_err();
    assert_eq!(refused.kind(), ConnectErrorKind::AuthorizationViolation, "{refused}");
}

#[tokio::test]
async fn only_a_system_user_can_push_accounts() {
    let (_dir, root, hub) = tls_hub().await;
    let admin = connect(
        &hub.client_url,
        &root.layout().admin_creds(),
        Some(root.fleet_ca().cert_path()),
    )
    .await
    .unwrap();

    let error = push_account_jwt(&admin, &root.issue_site_account(&Token::new("a").unwrap()).unwrap())
        .await
        .unwrap_err();

    assert!(matches!(error, ClaimsPushError::NoAnswer { .. }), "{error}");
}
