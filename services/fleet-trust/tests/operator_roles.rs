//! Operator roles are enforced by the server: a viewer may call read endpoints but its call of a changing endpoint
//! is dropped with a permissions violation; an operator may call both.

mod support;

use async_nats::{Event, ServerError};
use fleet_trust::OperatorRole;
use futures::StreamExt;
use support::{hub_in_temp_dir, write_creds, HubTls, OperatorHub};
use tokio::sync::mpsc::UnboundedReceiver;

/// Answers every request under `ef.api.v1.nodes.>` with `answered <subject>`, as the hub API would answer.
async fn start_test_responder(hub: &OperatorHub) -> async_nats::Client {
    let admin = hub.admin_client().await;
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
    let (dir, root, hub) = hub_in_temp_dir(HubTls::ClientPort).await;
    let _responder = start_test_responder(&hub).await;
    let vera = root.issue_operator_user("vera", OperatorRole::Viewer, None).unwrap();
    let (viewer, mut events) = hub.connect_with_events(&write_creds(dir.path(), "vera", &vera)).await;

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
    let (dir, root, hub) = hub_in_temp_dir(HubTls::Nowhere).await;
    let admin = hub.admin_client().await;
    let mut requests = admin.subscribe("ef.api.v1.nodes.assign").await.unwrap();
    admin.flush().await.unwrap();
    let otto = root.issue_operator_user("otto", OperatorRole::Operator, None).unwrap();
    let operator = hub.connect(&write_creds(dir.path(), "otto", &otto)).await.unwrap();

    let answered = tokio::spawn(async move {
        let request = requests.next().await.unwrap();
        admin.publish(request.reply.unwrap(), "assigned".into()).await.unwrap();
        admin.flush().await.unwrap();
    });
    let reply = operator.request("ef.api.v1.nodes.assign", "{}".into()).await.unwrap();

    assert_eq!(reply.payload, "assigned");
    answered.await.unwrap();
}
