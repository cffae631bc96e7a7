//! The fleet recipe, operators (DESIGN §9 as built): viewers and operators in the OPS account and admins in the HUB
//! account reach the hub API, answered by the hub process's API service in the API account. The server stamps each
//! request with the requester's identity (`Nats-Request-Info`, through the shared imports), which
//! `identify_caller` turns into the operator's name and role, whatever the client claimed; the server drops what a
//! role may not send.

mod support;

use std::path::Path;

use async_nats::{Event, HeaderMap, ServerError};
use events::Token;
use fleet_trust::{
    client_connect_options, user_inbox_prefix, Caller, CallerError, OperatorRole, RequestInfo, TrustRoot, UserCreds,
    REQUEST_INFO_HEADER,
};
use futures::StreamExt;
use support::{write_creds, Fleet};
use tokio::sync::mpsc::{self, UnboundedReceiver};

/// A request as the API service received it.
#[derive(Debug)]
struct Received {
    subject: String,
    /// Every value of `Nats-Request-Info` it carried.
    request_info: Vec<String>,
}

/// The hub process's API service: connected with `api.creds`, answers every `ef.api.v1.>` request with
/// `answered <subject>` and reports what it received.
async fn start_api_service(fleet: &Fleet) -> UnboundedReceiver<Received> {
    let api = fleet.hub.connect(&fleet.root.layout().api_creds()).await.unwrap();
    let mut requests = api.subscribe("ef.api.v1.>").await.unwrap();
    api.flush().await.unwrap();
    let (received, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let request_info = request
                .headers
                .as_ref()
                .map(|headers| {
                    headers
                        .get_all(REQUEST_INFO_HEADER)
                        .map(|value| value.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let _ = received.send(Received {
                subject: request.subject.to_string(),
                request_info,
            });
            if let Some(reply) = request.reply {
                let _ = api.publish(reply, format!("answered {}", request.subject).into()).await;
            }
        }
    });
    receiver
}

/// A client of operator `name` with its own inbox prefix, and its events.
async fn operator_client(fleet: &Fleet, name: &str, creds: &Path) -> (async_nats::Client, UnboundedReceiver<Event>) {
    let (events, received) = mpsc::unbounded_channel();
    let client = client_connect_options(creds, Some(&fleet.root.layout().ca_bundle()))
        .await
        .unwrap()
        .custom_inbox_prefix(user_inbox_prefix(&Token::new(name).unwrap()))
        .request_timeout(Some(std::time::Duration::from_secs(2)))
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        })
        .connect(&fleet.hub.client_url)
        .await
        .unwrap();
    (client, received)
}

/// The next permissions violation the server reported to the client.
async fn next_permissions_violation(events: &mut UnboundedReceiver<Event>) -> String {
    let wait = async {
        while let Some(event) = events.recv().await {
            if let Event::ServerError(ServerError::Other(message)) = event {
                if message.to_lowercase().contains("permissions violation") {
                    return message;
                }
            }
        }
        panic!("the client's event stream ended without a permissions violation");
    };
    tokio::time::timeout(support::DEADLINE, wait)
        .await
        .expect("a permissions violation within the deadline")
}

/// The operator the API service would see behind `received`.
fn caller(root: &TrustRoot, received: &Received) -> Result<Caller, CallerError> {
    assert_eq!(
        received.request_info.len(),
        1,
        "exactly one {REQUEST_INFO_HEADER}: {received:?}"
    );
    root.identify_request(&received.request_info[0])
}

async fn next_request(requests: &mut UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(support::DEADLINE, requests.recv())
        .await
        .expect("a request within the deadline")
        .expect("the API service runs")
}

#[tokio::test]
async fn operators_reach_the_api_as_themselves_within_their_role() {
    let fleet = Fleet::start().await;
    let root = &fleet.root;
    let mut requests = start_api_service(&fleet).await;
    let vera_creds = write_creds(
        fleet.dir.path(),
        "vera",
        &root
            .add_user(&Token::new("vera").unwrap(), OperatorRole::Viewer)
            .unwrap(),
    );
    let otto_creds = write_creds(
        fleet.dir.path(),
        "otto",
        &root
            .add_user(&Token::new("otto").unwrap(), OperatorRole::Operator)
            .unwrap(),
    );
    let (viewer, mut viewer_events) = operator_client(&fleet, "vera", &vera_creds).await;

    // A viewer's read reaches the API, stamped with the viewer's identity.
    let listed = viewer.request("ef.api.v1.nodes.list", "{}".into()).await.unwrap();
    assert_eq!(listed.payload, "answered ef.api.v1.nodes.list");
    let received = next_request(&mut requests).await;
    let info = RequestInfo::parse(&received.request_info[0]).unwrap();
    assert_eq!(info.acc, root.ops_account_public_key());
    let vera = caller(root, &received).unwrap();
    assert_eq!((vera.name.as_str(), vera.role), ("vera", OperatorRole::Viewer));

    // A forged identity is overwritten by the server.
    let admin_jwt = UserCreds::read(&root.layout().admin_creds()).unwrap().jwt().to_owned();
    let mut forged = HeaderMap::new();
    let claim = serde_json::json!({"acc": root.hub_account_public_key(), "jwt": admin_jwt});
    forged.insert(REQUEST_INFO_HEADER, claim.to_string().as_str());
    viewer
        .request_with_headers("ef.api.v1.nodes.get", forged, "{}".into())
        .await
        .unwrap();
    assert_eq!(caller(root, &next_request(&mut requests).await).unwrap(), vera);

    // A change is dropped by the server: the viewer is told, the API never sees it.
    viewer.publish("ef.api.v1.nodes.assign", "{}".into()).await.unwrap();
    let violation = next_permissions_violation(&mut viewer_events).await;
    assert!(
        violation.contains("Publish") && violation.contains("ef.api.v1.nodes.assign"),
        "{violation}"
    );
    viewer.request("ef.api.v1.nodes.get", "{}".into()).await.unwrap();
    assert_eq!(next_request(&mut requests).await.subject, "ef.api.v1.nodes.get");
    // Nor may a viewer listen to another operator's replies.
    let _eavesdrop = viewer.subscribe("_INBOX_otto.>").await.unwrap();
    let violation = next_permissions_violation(&mut viewer_events).await;
    assert!(
        violation.contains("Subscription") && violation.contains("_INBOX_otto.>"),
        "{violation}"
    );

    // An operator changes the fleet, but not its users or site credentials.
    let (operator, mut operator_events) = operator_client(&fleet, "otto", &otto_creds).await;
    operator.request("ef.api.v1.nodes.assign", "{}".into()).await.unwrap();
    let otto = caller(root, &next_request(&mut requests).await).unwrap();
    assert_eq!((otto.name.as_str(), otto.role), ("otto", OperatorRole::Operator));
    operator.publish("ef.api.v1.sites.rotate", "{}".into()).await.unwrap();
    let violation = next_permissions_violation(&mut operator_events).await;
    assert!(violation.contains("ef.api.v1.sites.rotate"), "{violation}");

    // The built-in admin is an admin; the hub process is nobody's caller.
    let admin = fleet.hub.admin_client().await;
    admin.request("ef.api.v1.sites.list", "{}".into()).await.unwrap();
    let admin = caller(root, &next_request(&mut requests).await).unwrap();
    assert_eq!((admin.name.as_str(), admin.role), ("admin", OperatorRole::Admin));
    let hub_process = fleet.hub_process().await;
    hub_process.request("ef.api.v1.sites.list", "{}".into()).await.unwrap();
    let refused = caller(root, &next_request(&mut requests).await).unwrap_err();
    assert!(matches!(refused, CallerError::HubProcess { .. }), "{refused}");
    assert!(requests.try_recv().is_err(), "nothing else reached the API");
}
