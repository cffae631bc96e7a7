//! The hub's TLS certificate: from the fleet CA, which rotates in two steps on the hub's data dir (between them the
//! CA bundle trusts both CAs, so a site re-bundled in between keeps its link when the hub starts presenting the new
//! CA; after them a client that trusts only the old CA is refused); or from the user's own CA, which the hub then
//! hands to sites in their bundles.

mod common;

use common::{eventually, Hub, Site};
use std::time::Duration;

fn ca_step(hub: &Hub, step: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["ca", step, "--data-dir"])
        .arg(&hub.data_dir)
        .output()
        .expect("edgefleet runs");
    assert!(
        out.status.success(),
        "ca {step}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn admin_connects_trusting(hub: &Hub, ca: &std::path::Path) -> bool {
    common::creds_options(&hub.admin_creds(), ca)
        .await
        .connect(hub.url())
        .await
        .is_ok()
}

fn certificates_in(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .expect("CA file")
        .matches("BEGIN CERTIFICATE")
        .count()
}

#[actix_rt::test]
async fn the_fleet_ca_rotates_in_two_steps_and_a_rebundled_site_keeps_its_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::start(dir.path()).await;
    let mut site = Site::start_with_image(dir.path(), &hub, "store-5", &[], None).await;
    let old_ca = dir.path().join("old-ca.pem");
    std::fs::copy(hub.ca(), &old_ca).expect("keep the old CA");

    let running = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["ca", "begin-rotation", "--data-dir"])
        .arg(&hub.data_dir)
        .output()
        .expect("runs");
    assert_eq!(running.status.code(), Some(1), "refused while the hub runs");
    assert!(String::from_utf8_lossy(&running.stderr).contains("stop the hub first"));

    // Step 1: the bundle trusts both; the hub still presents the old CA.
    hub.stop();
    ca_step(&hub, "begin-rotation");
    hub.start_again(dir.path()).await;
    assert_eq!(certificates_in(&hub.ca()), 2);
    assert!(
        admin_connects_trusting(&hub, &old_ca).await,
        "the old CA still verifies the hub"
    );
    let rebundled = dir.path().join("store-5-rebundled");
    common::cli::ok(
        &hub,
        &[
            "sites",
            "rotate",
            "store-5",
            "--out",
            &rebundled.display().to_string(),
            "--hub-leaf",
            &site.link.leaf_url(),
        ],
    );
    site.restart_with_bundle(dir.path(), &rebundled).await;
    common::converged(&hub, &site, Duration::from_secs(60)).await;

    // Step 2: the new CA only.
    hub.stop();
    ca_step(&hub, "complete-rotation");
    hub.start_again(dir.path()).await;
    assert_eq!(certificates_in(&hub.ca()), 1);
    assert!(admin_connects_trusting(&hub, &hub.ca()).await);
    assert!(
        !admin_connects_trusting(&hub, &old_ca).await,
        "a client trusting only the old CA is refused"
    );
    eventually(
        "the rebundled site connected to the hub",
        Duration::from_secs(60),
        || async {
            let sites = hub.api("sites.list").await;
            (sites[0]["connection"] == "connected").then_some(())
        },
    )
    .await;
    common::converged(&hub, &site, Duration::from_secs(60)).await;
}

#[actix_rt::test]
async fn a_hub_serves_a_certificate_of_the_users_own_ca_and_hands_that_ca_to_sites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let company = dir.path().join("company-ca");
    let ca = fleet_trust::FleetCa::open_or_create(&company).expect("a company CA");
    let files = ca
        .issue_server_cert(
            &fleet_trust::ServerNames::localhost(),
            &company.join("hub.pem"),
            &company.join("hub-key.pem"),
        )
        .expect("a hub certificate");
    let [client_port, leaf_port] = testkit::free_port::free_ports::<2>();
    let data_dir = dir.path().join("hub");
    let mut args = Hub::args(&data_dir, client_port, leaf_port);
    for (flag, path) in [
        ("--tls-cert", &files.cert),
        ("--tls-key", &files.key),
        ("--tls-ca", &files.ca),
    ] {
        args.extend([flag.to_string(), path.display().to_string()]);
    }
    let _hub = common::process::spawn("hub", dir.path(), &args, &[]);
    let url = format!("nats://127.0.0.1:{client_port}");
    let admin = data_dir.join("admin.creds");
    common::file_appears(&admin).await;
    let client = eventually(
        "the hub, trusted through the company CA",
        Duration::from_secs(20),
        || async { common::creds_options(&admin, &files.ca).await.connect(&url).await.ok() },
    )
    .await;
    eventually("the hub API", Duration::from_secs(20), || async {
        client.request("ef.api.v1.sites.list", "{}".into()).await.ok()
    })
    .await;
    assert!(
        common::creds_options(&admin, &data_dir.join("ca.pem"))
            .await
            .connect(&url)
            .await
            .is_err(),
        "the hub presents the company's certificate, not one from the fleet CA"
    );

    let bundle = dir.path().join("store-6-bundle");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["sites", "add", "store-6", "--out"])
        .arg(&bundle)
        .env("EDGEFLEET_HUB", &url)
        .env("EDGEFLEET_CREDS", &admin)
        .env("EDGEFLEET_CA", &files.ca)
        .output()
        .expect("edgefleet runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(bundle.join("hub-ca.pem")).expect("the bundle's hub CA"),
        std::fs::read_to_string(&files.ca).expect("the company CA"),
        "a site checks the hub against the CA that issued the hub's certificate"
    );
}
