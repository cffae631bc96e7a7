//! [`Registry`]: starts aggregate actors on demand, forgets passivated ones, restarts crashed ones.
//!
//! A crashed actor (its load failed, or its task panicked) is noticed by a closed mailbox; the next command for
//! that aggregate starts a fresh actor, which reads snapshot + tail.

use crate::aggregate::Aggregate;
use crate::aggregate_actor::{ActorConfig, ActorStopped, AggregateActor, Execute, ExecuteError, Executed, GetState};
use crate::event_log::{EventLog, Positions};
use crate::snapshot_store::SnapshotStore;
use actix::prelude::*;
use events::AggregateRef;
use std::collections::HashMap;
use std::sync::Arc;

/// Run a command on the aggregate, starting its actor if needed.
pub struct Dispatch<A: Aggregate> {
    /// The aggregate.
    pub aggregate: AggregateRef,
    /// The command.
    pub command: A::Command,
    /// Who asks.
    pub by: Option<String>,
    /// The caller's span (see [`crate::Execute::span`]).
    pub span: tracing::Span,
}

impl<A: Aggregate> Dispatch<A> {
    /// `command` on `aggregate` by `by`, traced inside the current span.
    pub fn new(aggregate: AggregateRef, command: A::Command, by: Option<String>) -> Self {
        Self {
            aggregate,
            command,
            by,
            span: tracing::Span::current(),
        }
    }
}

impl<A: Aggregate> Message for Dispatch<A> {
    type Result = Result<Executed<A>, ExecuteError>;
}

/// Read an aggregate's state, starting its actor if needed.
pub struct Query<A: Aggregate> {
    /// The aggregate.
    pub aggregate: AggregateRef,
    /// Catch up with the log first.
    pub refresh: bool,
    _kind: std::marker::PhantomData<A>,
}

impl<A: Aggregate> Query<A> {
    /// A state query for `aggregate`.
    pub fn new(aggregate: AggregateRef, refresh: bool) -> Self {
        Self {
            aggregate,
            refresh,
            _kind: std::marker::PhantomData,
        }
    }
}

impl<A: Aggregate> Message for Query<A> {
    type Result = Result<(A, Positions), ExecuteError>;
}

/// Counters of the registry's actors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// Actors alive now.
    pub live: usize,
    /// Actors started so far (first starts and restarts).
    pub started: u64,
    /// Actors stopped for being idle.
    pub passivated: u64,
    /// Actors that stopped on a failure.
    pub failed: u64,
}

/// Ask for [`RegistryStats`].
#[derive(Message)]
#[rtype(result = "RegistryStats")]
pub struct GetRegistryStats;

/// One started actor: which start it is (incarnation) and its address.
type Hosted<A, L, S> = (u64, Addr<AggregateActor<A, L, S>>);

/// Hosts every actor of one aggregate kind in this process.
pub struct Registry<A: Aggregate, L: EventLog, S: SnapshotStore> {
    actors: HashMap<AggregateRef, Hosted<A, L, S>>,
    log: L,
    snapshots: S,
    config: Arc<ActorConfig>,
    stats: RegistryStats,
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Registry<A, L, S> {
    /// A registry whose actors use `log`, `snapshots` and `config`.
    pub fn new(log: L, snapshots: S, config: ActorConfig) -> Self {
        Self {
            actors: HashMap::new(),
            log,
            snapshots,
            config: Arc::new(config),
            stats: RegistryStats::default(),
        }
    }

    fn actor_for(&mut self, aggregate: &AggregateRef, ctx: &mut Context<Self>) -> Addr<AggregateActor<A, L, S>> {
        if let Some((_, addr)) = self.actors.get(aggregate) {
            if addr.connected() {
                return addr.clone();
            }
        }
        self.stats.started += 1;
        let incarnation = self.stats.started;
        let actor = AggregateActor::new(
            aggregate.clone(),
            self.log.clone(),
            self.snapshots.clone(),
            self.config.clone(),
        )
        .reporting_to(ctx.address().recipient(), incarnation);
        let addr = actor.start();
        self.actors.insert(aggregate.clone(), (incarnation, addr.clone()));
        addr
    }
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Actor for Registry<A, L, S> {
    type Context = Context<Self>;
}

/// Sends `message` to the aggregate's actor; if the actor died before answering, starts it again and retries once.
fn send_with_restart<A, L, S, M>(
    registry: &mut Registry<A, L, S>,
    ctx: &mut Context<Registry<A, L, S>>,
    aggregate: AggregateRef,
    message: M,
) -> ResponseActFuture<Registry<A, L, S>, Result<M::Result, ExecuteError>>
where
    A: Aggregate,
    L: EventLog,
    S: SnapshotStore,
    M: Message + Clone + Send + 'static,
    M::Result: Send,
    AggregateActor<A, L, S>: Handler<M>,
    <AggregateActor<A, L, S> as Actor>::Context: actix::dev::ToEnvelope<AggregateActor<A, L, S>, M>,
{
    let addr = registry.actor_for(&aggregate, ctx);
    let retry = message.clone();
    let first = addr.send(message).into_actor(registry);
    Box::pin(first.then(move |result, registry, ctx| match result {
        Ok(answer) => Box::pin(fut::ready(Ok(answer))) as ResponseActFuture<_, _>,
        Err(e) => {
            tracing::warn!(%aggregate, error = %e, "aggregate actor died; restarting from snapshot + tail");
            registry.actors.remove(&aggregate);
            let addr = registry.actor_for(&aggregate, ctx);
            Box::pin(
                addr.send(retry)
                    .into_actor(registry)
                    .map(|r, _, _| r.map_err(|e| ExecuteError::ActorUnavailable(e.to_string()))),
            )
        }
    }))
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Handler<Dispatch<A>> for Registry<A, L, S> {
    type Result = ResponseActFuture<Self, Result<Executed<A>, ExecuteError>>;

    fn handle(&mut self, msg: Dispatch<A>, ctx: &mut Self::Context) -> Self::Result {
        let execute = Execute {
            command: msg.command,
            by: msg.by,
            span: msg.span,
        };
        Box::pin(send_with_restart(self, ctx, msg.aggregate, execute).map(|r, _, _| r.and_then(|inner| inner)))
    }
}

impl<A> Clone for GetState<A> {
    fn clone(&self) -> Self {
        GetState::new(self.refresh)
    }
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Handler<Query<A>> for Registry<A, L, S> {
    type Result = ResponseActFuture<Self, Result<(A, Positions), ExecuteError>>;

    fn handle(&mut self, msg: Query<A>, ctx: &mut Self::Context) -> Self::Result {
        let query = GetState::<A>::new(msg.refresh);
        Box::pin(send_with_restart(self, ctx, msg.aggregate, query).map(|r, _, _| r.and_then(|inner| inner)))
    }
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Handler<ActorStopped> for Registry<A, L, S> {
    type Result = ();

    fn handle(&mut self, msg: ActorStopped, _ctx: &mut Self::Context) {
        if msg.passivated {
            self.stats.passivated += 1;
        } else {
            self.stats.failed += 1;
        }
        if self
            .actors
            .get(&msg.aggregate)
            .is_some_and(|(incarnation, _)| *incarnation == msg.incarnation)
        {
            self.actors.remove(&msg.aggregate);
        }
    }
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Handler<GetRegistryStats> for Registry<A, L, S> {
    type Result = MessageResult<GetRegistryStats>;

    fn handle(&mut self, _msg: GetRegistryStats, _ctx: &mut Self::Context) -> Self::Result {
        let live = self.actors.values().filter(|(_, addr)| addr.connected()).count();
        MessageResult(RegistryStats { live, ..self.stats })
    }
}
