//! Shared set-up for replay's integration tests: a real hub nats-server with the event streams.
#![allow(dead_code)]

use actors::{ActorConfig, ProcessClock};
use events::{Origin, Token};
use replay::{ensure_intent_stream, ensure_site_stream, JetStreamLog, Quarantine, StreamPolicy};
use testkit::{token, NatsServer};

/// The site every test writes as.
pub fn site() -> Token {
    token("s1")
}

/// A hub server with `EF_INTENT` and `EF_SITE_s1` created.
pub async fn server_with_streams() -> NatsServer {
    let server = NatsServer::hub().await.expect("nats-server starts");
    let js = jetstream(&server).await;
    ensure_intent_stream(&js, &StreamPolicy::default())
        .await
        .expect("intent stream");
    ensure_site_stream(&js, &site(), &StreamPolicy::default())
        .await
        .expect("site stream");
    server
}

/// A JetStream context on a fresh connection.
pub async fn jetstream(server: &NatsServer) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(server.connect().await.expect("client connects"))
}

/// A log on a fresh connection with its own quarantine.
pub async fn log(server: &NatsServer) -> JetStreamLog {
    JetStreamLog::new(jetstream(server).await, Quarantine::in_memory())
}

/// Actor config writing as the hub.
pub fn hub_config() -> ActorConfig {
    ActorConfig {
        clock: ProcessClock::system(),
        ..ActorConfig::new(Origin::Hub)
    }
}

/// Actor config writing as site `s1`.
pub fn site_config() -> ActorConfig {
    ActorConfig::new(Origin::Site(site()))
}
