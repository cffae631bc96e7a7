//! The demo's sample OS images and profile.

use crate::api_types::requests::ProfileApply;
use crate::api_types::views::ProfileView;
use crate::commands::api_client::HubApi;
use events::profile::{HelmRelease, KubernetesLayer, OsImage, ProfileLayers};
use events::Token;

/// A deterministic 2 MiB "OS image".
fn image(seed: u8) -> Vec<u8> {
    (0..2 * 1024 * 1024u32)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

fn release(name: &str, version: &str) -> HelmRelease {
    HelmRelease {
        name: name.into(),
        chart: format!("oci://registry.example/charts/{name}"),
        version: version.into(),
        values: String::new(),
    }
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
    let request = ProfileApply {
        name: Token::new("edge-stack")?,
        layers: ProfileLayers {
            os: OsImage {
                image: "edge-os".into(),
                version: version.into(),
                sha256: sha256.clone(),
            },
            k8s: KubernetesLayer {
                distro: "k3s".into(),
                version: "v1.31.4+k3s1".into(),
            },
            cni: release("cilium", "1.16.5"),
            csi: None,
            addons: vec![release("fluent-bit", "0.47.10")],
            apps: vec![release("pos", version)],
        },
    };
    let _: ProfileView = api.call("profiles.apply", &request).await?;
    Ok(sha256)
}
