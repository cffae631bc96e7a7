//! The hub API spoken with raw NATS requests — no edgefleet client code — including malformed requests, which
//! must each get a clear JSON error with the micro error headers and change nothing.

mod common;

use common::Hub;
use serde_json::{json, Value};

async fn request(client: &async_nats::Client, subject: &str, body: impl Into<bytes::Bytes>) -> (Value, Option<String>) {
    let reply = client
        .request(subject.to_string(), body.into())
        .await
        .expect("the API answers");
    let code = reply
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Service-Error-Code"))
        .map(|v| v.as_str().to_string());
    (
        serde_json::from_slice(&reply.payload).expect("every reply is JSON"),
        code,
    )
}

/// The `Nats-Service-Error` header of the reply to `body`.
async fn request_header(client: &async_nats::Client, subject: &str, body: Vec<u8>) -> String {
    let reply = client
        .request(subject.to_string(), body.into())
        .await
        .expect("the API answers");
    reply
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Service-Error"))
        .map(|v| v.as_str().to_string())
        .unwrap_or_default()
}

fn error_of(value: &Value) -> (u64, String) {
    (
        value["error"]["code"].as_u64().unwrap_or(0),
        value["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

#[actix_rt::test]
async fn raw_requests_valid_and_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let client = hub.client().await;

    // Discovery, as the `nats micro` tooling does it.
    let ping = client.request("$SRV.PING.edgefleet", "".into()).await.expect("ping");
    let ping: Value = serde_json::from_slice(&ping.payload).expect("json");
    assert_eq!(ping["name"], "edgefleet");
    let info = client.request("$SRV.INFO.edgefleet", "".into()).await.expect("info");
    let info: Value = serde_json::from_slice(&info.payload).expect("json");
    let subjects: Vec<&str> = info["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter_map(|e| e["subject"].as_str())
        .collect();
    assert!(
        subjects.contains(&"ef.api.v1.nodes.assign") && subjects.contains(&"ef.api.v1.profiles.apply"),
        "{subjects:?}"
    );

    // Valid requests.
    let (nodes, code) = request(&client, "ef.api.v1.nodes.list", "{}").await;
    assert_eq!((nodes, code), (json!([]), None));
    let (sites, _) = request(&client, "ef.api.v1.sites.list", "").await;
    assert_eq!(sites, json!([]), "an empty body is an empty request");

    let cases: Vec<(&str, Vec<u8>, u64, &str)> = vec![
        ("ef.api.v1.nodes.list", b"{not json".to_vec(), 400, "malformed request"),
        (
            "ef.api.v1.nodes.list",
            br#"{"sight": "x"}"#.to_vec(),
            400,
            "unknown field `sight`",
        ),
        ("ef.api.v1.nodes.get", b"{}".to_vec(), 400, "missing field `id`"),
        ("ef.api.v1.nodes.get", br#"{"id": 7}"#.to_vec(), 400, "invalid type"),
        (
            "ef.api.v1.nodes.get",
            br#"{"id": "n.1"}"#.to_vec(),
            400,
            "may only hold",
        ),
        (
            "ef.api.v1.nodes.get",
            br#"{"id": "ghost"}"#.to_vec(),
            404,
            "not registered",
        ),
        (
            "ef.api.v1.clusters.create",
            br#"{"id":"c","site":"nowhere","profile":"p@1"}"#.to_vec(),
            404,
            "not part of this fleet",
        ),
        (
            "ef.api.v1.clusters.create",
            br#"{"id":"c","site":"s","profile":"p"}"#.to_vec(),
            400,
            "NAME@VERSION",
        ),
        (
            "ef.api.v1.profiles.get",
            br#"{"name":"ghost"}"#.to_vec(),
            404,
            "does not exist",
        ),
        (
            "ef.api.v1.profiles.apply",
            br#"{"name":"p","layers":{"os":{}}}"#.to_vec(),
            400,
            "missing field",
        ),
        (
            "ef.api.v1.nodes.assign",
            br#"{"id":"ghost","cluster":"c","role":"boss"}"#.to_vec(),
            400,
            "expected `control-plane` or `worker`",
        ),
        ("ef.api.v1.nodes.list", vec![b' '; 300 * 1024], 413, "exceeds the limit"),
        // Defect 6: an array is not an object.
        ("ef.api.v1.sites.list", b"[]".to_vec(), 400, "must be a JSON object"),
        ("ef.api.v1.nodes.list", b"7".to_vec(), 400, "must be a JSON object"),
    ];
    for (subject, body, want_code, want_message) in cases {
        let (reply, header_code) = request(&client, subject, body).await;
        let (code, message) = error_of(&reply);
        assert_eq!(code, want_code, "{subject}: {reply}");
        assert!(
            message.contains(want_message),
            "{subject}: {message:?} should mention {want_message:?}"
        );
        assert_eq!(
            header_code,
            Some(want_code.to_string()),
            "{subject}: micro error header"
        );
    }

    // Defect 6: CR/LF in a field name used to panic inside the reply (an invalid header value) and get no answer;
    // now the answer comes, with the header sanitized.
    let (reply, header_code) = request(&client, "ef.api.v1.nodes.list", b"{\"a\\r\\nb\": 1}".to_vec()).await;
    assert_eq!(error_of(&reply).0, 400, "{reply}");
    assert_eq!(header_code, Some("400".to_string()));
    let header = request_header(&client, "ef.api.v1.nodes.list", b"{\"a\\r\\nb\": 1}".to_vec()).await;
    assert!(
        header.contains("unknown field") && !header.contains('\r') && !header.contains('\n'),
        "{header:?}"
    );
    // Defect 6: a 200,000-character id is not echoed back whole, neither in the body nor in the header.
    let huge = format!("{{\"id\": \"{}\"}}", "x".repeat(200_000));
    let (reply, _) = request(&client, "ef.api.v1.nodes.get", huge.clone().into_bytes()).await;
    let (code, message) = error_of(&reply);
    assert_eq!(code, 400);
    assert!(message.len() < 1_200, "message of {} bytes", message.len());
    assert!(
        request_header(&client, "ef.api.v1.nodes.get", huge.into_bytes())
            .await
            .len()
            <= 256
    );

    // A bad profile is refused by validation and publishes nothing.
    let mut layers: Value = serde_json::from_str(include_str!("../../examples/profile.json")).expect("example layers");
    layers["os"]["sha256"] = json!("not-a-digest");
    let (reply, _) = request(
        &client,
        "ef.api.v1.profiles.apply",
        serde_json::to_vec(&json!({"name":"edge","layers":layers})).expect("json"),
    )
    .await;
    assert_eq!(error_of(&reply).0, 400, "{reply}");
    let (profiles, _) = request(&client, "ef.api.v1.profiles.list", "{}").await;
    assert_eq!(profiles, json!([]), "nothing was published by the refused requests");
    let (clusters, _) = request(&client, "ef.api.v1.clusters.list", "{}").await;
    assert_eq!(clusters, json!([]));
}
