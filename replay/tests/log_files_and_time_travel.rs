//! `.eflog` export/import against a real server, and history / state-at for time travel.

mod common;

use actors::node::NodeLifecycle;
use actors::AnyAggregate;
use common::{jetstream, log, server_with_streams};
use events::AggregateRef;
use replay::{
    export_stream, fold_records, history, import_records, read_log_file, rebuild_streams, state_at, write_log_file, At,
    FleetState, Quarantine,
};
use testkit::{fixtures, token};

fn fixture_node() -> AggregateRef {
    AggregateRef::node(&token("store-0042"), &token("n1"))
}

async fn server_with_site(site: &str) -> testkit::NatsServer {
    let server = server_with_streams().await;
    let js = jetstream(&server).await;
    replay::ensure_site_stream(&js, &token(site), &replay::StreamPolicy::default())
        .await
        .expect("site stream");
    server
}

#[tokio::test]
async fn an_imported_fixture_replays_to_the_same_state_as_the_file() {
    let server = server_with_site("store-0042").await;
    let js = jetstream(&server).await;
    let path = fixtures::fixtures_dir().join("node_lifecycle.eflog");
    let records = read_log_file(&path).expect("fixture");

    let report = import_records(&js, &records).await.expect("import");
    assert_eq!((report.stored, report.duplicates), (records.len(), 0));
    let again = import_records(&js, &records).await.expect("import twice");
    assert_eq!(
        (again.stored, again.duplicates),
        (0, records.len()),
        "message ids make imports idempotent"
    );

    let mut from_server = FleetState::new();
    let streams = ["EF_INTENT".to_string(), "EF_SITE_store-0042".to_string()];
    rebuild_streams(&js, &streams, &mut from_server, &Quarantine::in_memory())
        .await
        .expect("replay");
    let from_file = fold_records(&records, &Quarantine::in_memory());
    assert_eq!(from_server.get(&fixture_node()), from_file.get(&fixture_node()));
}

#[tokio::test]
async fn export_then_import_elsewhere_round_trips() {
    let source = server_with_site("store-0042").await;
    let js = jetstream(&source).await;
    import_records(&js, &fixtures::node_lifecycle().records())
        .await
        .expect("import");
    let exported = export_stream(&js, "EF_SITE_store-0042").await.expect("export");
    assert_eq!(exported.len(), 4, "four site events in the fixture");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("site.eflog");
    write_log_file(&path, &exported).expect("write");
    let target = server_with_site("store-0042").await;
    let report = import_records(&jetstream(&target).await, &read_log_file(&path).expect("read"))
        .await
        .expect("import");
    assert_eq!(report.stored, 4);
    assert_eq!(
        export_stream(&jetstream(&target).await, "EF_SITE_store-0042")
            .await
            .expect("export"),
        exported
    );
}

#[tokio::test]
async fn history_merges_both_writers_and_state_at_travels_back() {
    let server = server_with_site("store-0042").await;
    import_records(&jetstream(&server).await, &fixtures::node_lifecycle().records())
        .await
        .expect("import");
    let log = log(&server).await;
    let entries = history(&log, &fixture_node()).await.expect("history");
    let names: Vec<_> = entries.iter().map(|e| e.recorded.envelope.payload.name()).collect();
    assert_eq!(
        names,
        [
            "NodeRegistered",
            "NodeLabelsSet",
            "NodeAssigned",
            "NodeJoined",
            "NodeProvisioning",
            "NodeReady"
        ],
        "hub and site events interleaved by time"
    );
    let lifecycle = |state: AnyAggregate| match state {
        AnyAggregate::Node(node) => node.lifecycle(),
        other => panic!("not a node: {other:?}"),
    };
    assert_eq!(
        lifecycle(state_at(&fixture_node(), &entries, At::Seq(1))),
        NodeLifecycle::Unassigned
    );
    assert_eq!(
        lifecycle(state_at(&fixture_node(), &entries, At::Seq(3))),
        NodeLifecycle::Assigned
    );
    assert_eq!(
        lifecycle(state_at(&fixture_node(), &entries, At::Seq(6))),
        NodeLifecycle::Ready
    );
    let provisioning_time = entries[4].recorded.envelope.hlc.physical_ms;
    assert_eq!(
        lifecycle(state_at(&fixture_node(), &entries, At::UnixMs(provisioning_time))),
        NodeLifecycle::Provisioning
    );
    assert_eq!(
        lifecycle(state_at(&fixture_node(), &entries, At::UnixMs(0))),
        NodeLifecycle::Unregistered
    );
}
