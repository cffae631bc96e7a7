//! `edgefleet images put|ls`: OS images in the hub's `ef-images` object store, which every site replicates.

use crate::cli::{ImagesCommand, OutputFormat};
use anyhow::Context;
use futures::StreamExt;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
struct ImageRow {
    object: String,
    size_bytes: usize,
    sha256: Option<String>,
}

/// Runs an images subcommand.
pub async fn run(
    hub: &crate::hub_connection::HubAddress,
    format: OutputFormat,
    command: ImagesCommand,
) -> anyhow::Result<ExitCode> {
    if let ImagesCommand::Keygen { file } = &command {
        keygen(file)?;
        return Ok(ExitCode::SUCCESS);
    }
    let js = hub.jetstream().await?;
    let store = replay::sourcing::hub_image_store(&js).await?;
    match command {
        ImagesCommand::Put {
            name,
            image_version: version,
            file,
            signing_key,
        } => {
            events::Token::new(name.clone()).context("image name")?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let sha256 = node_agent::sha256_hex(&bytes);
            let object = format!("{name}-{version}");
            let mut metadata: std::collections::HashMap<String, String> =
                [("sha256".to_string(), sha256.clone())].into();
            if let Some(key_file) = signing_key {
                let seed =
                    std::fs::read_to_string(&key_file).with_context(|| format!("reading {}", key_file.display()))?;
                metadata.insert("signature".into(), node_agent::sign_digest_hex(&seed, &sha256)?);
                metadata.insert("public_key".into(), node_agent::public_key_hex(&seed)?);
            }
            let meta = async_nats::jetstream::object_store::ObjectMetadata {
                name: object.clone(),
                description: Some(format!("{name} {version}")),
                metadata,
                ..Default::default()
            };
            store
                .put(meta, &mut bytes.as_slice())
                .await
                .with_context(|| format!("uploading {object}"))?;
            eprintln!(
                "image {object} stored ({} bytes); put this digest in the profile's os.sha256:",
                bytes.len()
            );
            println!("{sha256}");
        }
        ImagesCommand::Keygen { .. } => unreachable!("handled above, without a hub"),
        ImagesCommand::Ls => {
            let mut rows = Vec::new();
            let mut list = store.list().await.context("listing images")?;
            while let Some(info) = list.next().await {
                let info = info.context("listing images")?;
                rows.push(ImageRow {
                    object: info.name.clone(),
                    size_bytes: info.size,
                    sha256: info.metadata.get("sha256").cloned(),
                });
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.object.clone(),
                        r.size_bytes.to_string(),
                        r.sha256.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            crate::output::print(format, &["IMAGE", "BYTES", "SHA256"], &table, &rows)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a new ed25519 signing seed (hex, mode 0600) and prints its public key.
fn keygen(file: &std::path::Path) -> anyhow::Result<()> {
    let mut seed = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut seed).context("reading randomness")?;
    let seed_hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let public = node_agent::public_key_hex(&seed_hex)?;
    std::fs::write(file, format!("{seed_hex}\n")).with_context(|| format!("writing {}", file.display()))?;
    std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    eprintln!(
        "private key written to {}; give agents this public key (--image-key):",
        file.display()
    );
    println!("{public}");
    Ok(())
}
