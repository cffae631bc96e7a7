//! The demo's sample OS images and profile.

use crate::commands::api_client::HubApi;
use serde_json::json;

/// A deterministic 2 MiB "OS image".
fn image(seed: u8) -> Vec<u8> {
    (0..2 * 1024 * 1024u32)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

/// Stores OS image `edge-os <version>` at the hub and publishes the next `edge-stack` profile version using it;
/// returns the image's sha256.
pub async fn publish(
    api: &HubApi,
    js: &async_nats::jetstream::Context,
    version: &str,
    seed: u8,
) -> anyhow::Result<String> {
    let bytes = image(seed);
    let sha256 = node_agent::sha256_hex(&bytes);
    let store = replay::sourcing::hub_image_store(js).await?;
    let meta = async_nats::jetstream::object_store::ObjectMetadata {
        name: format!("edge-os-{version}"),
        metadata: [("sha256".to_string(), sha256.clone())].into(),
        ..Default::default()
    };
    store.put(meta, &mut bytes.as_slice()).await?;
    let release = |name: &str, version: &str| json!({ "name": name, "chart": format!("oci://registry.example/charts/{name}"), "version": version, "values": "" });
    let layers = json!({
        "os": { "image": "edge-os", "version": version, "sha256": sha256 },
        "k8s": { "distro": "k3s", "version": "v1.31.4+k3s1" },
        "cni": release("cilium", "1.16.5"),
        "csi": null,
        "addons": [release("fluent-bit", "0.47.10")],
        "apps": [release("pos", version)],
    });
    api.call("profiles.apply", json!({ "name": "edge-stack", "layers": layers }))
        .await?;
    Ok(sha256)
}
