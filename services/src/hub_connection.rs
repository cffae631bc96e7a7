//! Connecting client commands to the hub named by `--hub` / `$EDGEFLEET_HUB`.

use anyhow::Context;

/// Connects to the hub's NATS server and returns a JetStream context.
pub async fn connect_hub(hub: Option<&str>) -> anyhow::Result<async_nats::jetstream::Context> {
    let url = hub.context("no hub given: pass --hub nats://HOST:PORT or set EDGEFLEET_HUB")?;
    let client = async_nats::ConnectOptions::new()
        .name("edgefleet-cli")
        .connection_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot reach the hub at {url}"))?;
    Ok(async_nats::jetstream::new(client))
}

/// Connects a long-running process to its own (local) nats-server, retrying forever on disconnects.
pub async fn connect_local(url: &str, name: &str) -> anyhow::Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot reach nats-server at {url}"))
}
