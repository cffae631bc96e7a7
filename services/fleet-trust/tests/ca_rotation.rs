//! Rotating the fleet CA on a running hub: a client trusting the CA bundle handed out during the rotation connects
//! before and after it completes; after completion (hub certificate re-issued, hub reloaded) a client trusting only
//! the old CA is refused, and the bundle then holds the new CA only.

mod support;

use std::path::{Path, PathBuf};

use fleet_trust::ServerNames;
use support::{connect, eventually, hub_in_temp_dir, HubTls};

/// A copy of the hub's CA bundle as it is now, as a client would have kept it.
fn keep_bundle(bundle: &Path, dir: &Path, name: &str) -> PathBuf {
    let kept = dir.join(name);
    std::fs::copy(bundle, &kept).unwrap();
    kept
}

#[tokio::test]
async fn clients_trusting_the_bundle_survive_a_ca_rotation_and_the_old_ca_alone_does_not() {
    let (dir, mut root, hub) = hub_in_temp_dir(HubTls::ClientPort).await;
    let admin = root.layout().admin_creds();
    let bundle = root.layout().ca_bundle();
    let old_ca_only = keep_bundle(&bundle, dir.path(), "old-ca.pem");

    root.begin_ca_rotation().unwrap();
    let during = keep_bundle(&bundle, dir.path(), "rotation-bundle.pem");
    for trusted in [&old_ca_only, &during] {
        connect(&hub.client_url, &admin, Some(trusted)).await.unwrap();
    }

    root.complete_ca_rotation().unwrap();
    root.issue_hub_server_cert(&ServerNames::localhost()).unwrap();
    hub.process.reload();

    // The reload takes effect asynchronously: wait for the refusal that names the untrusted issuer (a connection
    // caught mid-reload may fail otherwise, or still see the old certificate).
    eventually("the reloaded hub to present the new CA's certificate", || {
        let (url, admin, old) = (hub.client_url.clone(), admin.clone(), old_ca_only.clone());
        async move {
            let refused = connect(&url, &admin, Some(&old)).await.err()?;
            refused.to_string().contains("UnknownIssuer").then_some(())
        }
    })
    .await;
    for trusted in [&during, &bundle] {
        eventually(&format!("a client trusting {} to connect", trusted.display()), || {
            let (url, admin, trusted) = (hub.client_url.clone(), admin.clone(), trusted.clone());
            async move { connect(&url, &admin, Some(&trusted)).await.ok() }
        })
        .await;
    }
    let after = std::fs::read_to_string(&bundle).unwrap();
    assert_eq!(after.matches("BEGIN CERTIFICATE").count(), 1, "no grace for the old CA");
    assert_eq!(after, root.fleet_ca().cert_pem().unwrap());
}
