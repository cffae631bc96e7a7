//! Operator roles are enforced by the server: a viewer may call read endpoints but its call of a changing endpoint
//! is dropped with a permissions violation; an operator may call both.

mod support;

use std::path::Path;

use async_nats::{Event, ServerError};
use fleet_trust::{OperatorRole, ServerNames, ServerTls, TrustRoot};
use futures::StreamExt;
use support::{connect, connect_with_events, OperatorHub};
use tokio::sync::mpsc::UnboundedReceiver;

/// Answers every request under `ef.api.v1.nodes.>` with `answered <subject>`, as the hub API would answer.
async fn start_test_responder(url: &str, admin_creds: &Path, ca: &Path) -> async_nats::Client {
    let admin = connect(url, admin_creds, Some(ca)).await.unwrap();
    let mut requests = admin.subscribe("ef.api.v1.nodes.>").await.unwrap();
    let replier = admin.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            if let Some(reply) = request.reply {
                let answer = format!("answered {}", request.subject);
                let _ = replier.publish(reply, answer.into()).await;
            }
        }
    });
    admin.flush().await.unwrap();
    admin
}

/// The next permissions violation the server reported to the client.
async fn next_permissions_violation(events: &mut UnboundedReceiver<Event>) -> String {
    while let Some(event) = events.recv().await {
        if let Event::ServerError(ServerError::Other(message)) = event {
            if message.to_lowercase().contains("permissions violation") {
                return message;
            }
        }
    }
    panic!("the client's event stream ended without a permissions violation");
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_change_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path().join("trust")).unwrap();
    let tls = ServerTls::new(root.issue_hub_server_cert(&ServerNames::localhost()).unwrap());
    let hub = OperatorHub::start(&root, dir.path(), Some(&tls), None).await;
    let ca = root.fleet_ca().cert_path();
    let _responder = start_test_responder(&hub.client_url, &root.layout().admin_creds(), ca).await;
    let viewer_creds = dir.path().join("vera.creds");
    root.issue_operator_user("vera", OperatorRole::Viewer, None)
        .unwrap()
        .write(&viewer_creds)
        .unwrap();
    let (viewer, mut events) = connect_with_events(&hub.client_url, &viewer_creds, Some(ca)).await;

    let listed = viewer.request("ef.api.v1.nodes.list", "{}".into()).await.unwrap();
    let assign = viewer.request("ef.api.v1.nodes.assign", "{}".into()).await;

    assert_eq!(listed.payload, "answered ef.api.v1.nodes.list");
    let unanswered = assign.expect_err("a viewer's assign must not reach the responder");
    assert_eq!(
        unanswered.kind(),
        async_nats::RequestErrorKind::TimedOut,
        "{unanswered}"
    );
    let violation = tokio::time::timeout(support::DEADLINE, next_permissions_violation(&mut events))
        .await
        .expect("a permissions violation within the deadline");
    assert!(
        violation.contains("Publish") && violation.contains("ef.api.v1.nodes.assign"),
        "{violation}"
    );
}

#[tokio::test]
async fn an_operator_changes_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path().join("trust")).unwrap();
    let hub = OperatorHub::start(&root, dir.path(), None, None).await;
    let admin_creds = root.layout().admin_creds();
    let admin = connect(&hub.client_url, &admin_creds, None).await.unwrap();
    let mut requests = admin.subscribe("ef.api.v1.nodes.assign").await.unwrap();
    admin.flush().await.unwrap();
    let operator_creds = dir.path().join("otto.creds");
    root.issue_operator_user("otto", OperatorRole::Operator, None)
        .unwrap()
        .write(&operator_creds)
        .unwrap();
    let operator = connect(&hub.client_url, &operator_creds, None).await.unwrap();

    let answered = tokio::spawn(async move {
        let request = requests.next().await.unwrap();
        admin.publish(request.reply.unwrap(), "assigned".into()).await.unwrap();
        admin.flush().await.unwrap();
    });
    let reply = operator.request("ef.api.v1.nodes.assign", "{}".into()).await.unwrap();

    assert_eq!(reply.payload, "assigned");
    answered.await.unwrap();
}
