//! Acts on intents as they arrive in the site's sourced copy of `EF_INTENT` (and, at start, on every node the
//! site knows, so nothing decided while the controller was down is missed).

use super::cluster_runtime::ClusterRuntime;
use super::controller::SiteController;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use events::{subject, AggregateKind, Writer};
use futures::StreamExt;
use replay::{FleetState, Quarantine};
use std::rc::Rc;
use std::time::Duration;

/// Reconciles every known node, then every node an arriving intent is about. Runs until aborted.
pub async fn watch<R: ClusterRuntime>(controller: Rc<SiteController<R>>, js: async_nats::jetstream::Context) {
    let site = controller.site().clone();
    let streams = [subject::INTENT_STREAM.to_string(), subject::site_stream(&site)];
    let mut fleet = FleetState::new();
    if let Err(e) = replay::rebuild_streams(&js, &streams, &mut fleet, &Quarantine::in_memory()).await {
        tracing::warn!(%site, error = %e, "start-up replay failed; acting on new intents only");
    }
    for aggregate in fleet.aggregates.keys().filter(|a| a.kind == AggregateKind::Rollout) {
        controller.rollouts.borrow_mut().insert(aggregate.id.clone());
    }
    for aggregate in fleet.aggregates.keys().filter(|a| a.kind == AggregateKind::Node) {
        controller.reconcile(&aggregate.id).await;
    }
    let start = fleet.high_water.get(subject::INTENT_STREAM).copied().unwrap_or(0) + 1;
    loop {
        if let Err(e) = follow(&controller, &js, start).await {
            tracing::warn!(%site, error = %e, "intent watch interrupted; resuming");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn follow<R: ClusterRuntime>(
    controller: &SiteController<R>,
    js: &async_nats::jetstream::Context,
    start: u64,
) -> anyhow::Result<()> {
    let stream = js.get_stream_no_info(subject::INTENT_STREAM).await?;
    let config = OrderedConfig {
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start },
        ..Default::default()
    };
    let mut messages = stream.create_consumer(config).await?.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        match subject::parse(&message.subject) {
            Ok((Writer::Hub, aggregate)) if aggregate.kind == AggregateKind::Node => {
                controller.reconcile(&aggregate.id).await;
            }
            Ok((Writer::Hub, aggregate)) if aggregate.kind == AggregateKind::Rollout => {
                controller.rollouts.borrow_mut().insert(aggregate.id);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(subject = %message.subject, error = %e, "intent on an unexpected subject"),
        }
    }
    Ok(())
}
