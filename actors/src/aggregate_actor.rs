//! [`AggregateActor`]: one aggregate instance hosted in an actix actor.
//!
//! Lifecycle: start → load snapshot + tail → serve commands one at a time (decide → append with the expected
//! sequence → apply what the log acknowledged; on a conflict reload the tail and decide again, bounded) →
//! passivate when idle (snapshot, stop). The actor never talks to NATS or disk except through its ports.

use crate::aggregate::{Aggregate, DecideContext};
use crate::event_log::{EventLog, LogError, Positions, Recorded};
use crate::process_clock::ProcessClock;
use crate::rejection::Rejection;
use crate::snapshot_store::{Snapshot, SnapshotStore};
use actix::prelude::*;
use events::{subject, AggregateRef, Envelope, EventId, Origin};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// How actors of one process behave.
#[derive(Clone, Debug)]
pub struct ActorConfig {
    /// Who this process writes as (hub or one site).
    pub origin: Origin,
    /// Passivate an actor idle this long.
    pub idle_timeout: Duration,
    /// Write a snapshot after this many applied events (snapshots are batched: a redb commit costs ~1 ms).
    pub snapshot_every: u64,
    /// Conflicting appends retried (reload, decide again) before giving up.
    pub max_conflict_retries: u32,
    /// The process clock.
    pub clock: ProcessClock,
}

impl ActorConfig {
    /// Defaults for `origin`: passivate after 5 minutes idle, snapshot every 100 events, 8 conflict retries.
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            idle_timeout: Duration::from_secs(300),
            snapshot_every: 100,
            max_conflict_retries: 8,
            clock: ProcessClock::system(),
        }
    }
}

/// Ask the aggregate to decide and record a command.
pub struct Execute<A: Aggregate> {
    /// The command.
    pub command: A::Command,
    /// Who asks (recorded in each event's `by`).
    pub by: Option<String>,
    /// The caller's span: the decision and its append are traced inside it, so `RUST_LOG` follows one request or
    /// one plan into the actor.
    pub span: tracing::Span,
}

impl<A: Aggregate> Clone for Execute<A> {
    fn clone(&self) -> Self {
        Self {
            command: self.command.clone(),
            by: self.by.clone(),
            span: self.span.clone(),
        }
    }
}

/// The span of one decision on `aggregate`, named by kind (`node=…`, `cluster=…`, `rollout=…`) with its `site=`.
pub fn aggregate_span(parent: &tracing::Span, aggregate: &AggregateRef) -> tracing::Span {
    let site = aggregate.scope.as_str();
    let id = aggregate.id.as_str();
    match aggregate.kind {
        events::AggregateKind::Node => tracing::info_span!(parent: parent, "decide", site, node = id),
        events::AggregateKind::Cluster => tracing::info_span!(parent: parent, "decide", site, cluster = id),
        events::AggregateKind::Site => tracing::info_span!(parent: parent, "decide", site = id),
        events::AggregateKind::Profile => tracing::info_span!(parent: parent, "decide", profile = id),
        events::AggregateKind::Rollout => tracing::info_span!(parent: parent, "decide", site, rollout = id),
        events::AggregateKind::App => tracing::info_span!(parent: parent, "decide", app = id),
        events::AggregateKind::Placement => tracing::info_span!(parent: parent, "decide", placement = id),
        events::AggregateKind::Config => tracing::info_span!(parent: parent, "decide", site, config = id),
    }
}

impl<A: Aggregate> Message for Execute<A> {
    type Result = Result<Executed<A>, ExecuteError>;
}

/// A command that was decided and recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Executed<A> {
    /// The events appended (empty when the command changed nothing).
    pub events: Vec<Envelope>,
    /// `(stream, seq)` of each appended event.
    pub positions: Vec<(String, u64)>,
    /// The state after applying them.
    pub state: A,
}

/// Why a command was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteError {
    /// The aggregate refused the command.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Other writers kept winning the race.
    #[error("gave up after {attempts} conflicting appends; try again")]
    TooManyConflicts {
        /// Attempts made.
        attempts: u32,
    },
    /// The actor stopped (crashed or passivated) before answering, and a restart failed too.
    #[error("aggregate actor unavailable: {0}")]
    ActorUnavailable(String),
}

/// Read the aggregate's state; with `refresh`, first read the log's tail (events sourced from the other side).
pub struct GetState<A> {
    /// Catch up with the log before answering.
    pub refresh: bool,
    _kind: std::marker::PhantomData<A>,
}

impl<A> GetState<A> {
    /// A state query.
    pub fn new(refresh: bool) -> Self {
        Self {
            refresh,
            _kind: std::marker::PhantomData,
        }
    }
}

impl<A: Aggregate> Message for GetState<A> {
    type Result = Result<(A, Positions), ExecuteError>;
}

/// Sent to the registry when an actor stops, so it forgets that incarnation.
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct ActorStopped {
    /// The aggregate.
    pub aggregate: AggregateRef,
    /// Which start of it stopped.
    pub incarnation: u64,
    /// True for an idle passivation, false for a failure.
    pub passivated: bool,
}

/// One aggregate hosted in an actor.
pub struct AggregateActor<A: Aggregate, L: EventLog, S: SnapshotStore> {
    aggregate: AggregateRef,
    incarnation: u64,
    state: A,
    positions: Positions,
    unsnapshotted_events: u64,
    log: L,
    snapshots: S,
    config: Arc<ActorConfig>,
    last_active: Instant,
    passivated: bool,
    /// True once the log's tail after the snapshot was read successfully.
    loaded: bool,
    on_stop: Option<Recipient<ActorStopped>>,
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> AggregateActor<A, L, S> {
    /// An actor for `aggregate`; it loads snapshot + tail when started.
    pub fn new(aggregate: AggregateRef, log: L, snapshots: S, config: Arc<ActorConfig>) -> Self {
        debug_assert_eq!(aggregate.kind, A::KIND, "actor kind must match the aggregate kind");
        Self {
            aggregate,
            incarnation: 0,
            state: A::default(),
            positions: Positions::default(),
            unsnapshotted_events: 0,
            log,
            snapshots,
            config,
            last_active: Instant::now(),
            passivated: false,
            loaded: false,
            on_stop: None,
        }
    }

    /// Report stops (with this incarnation number) to `recipient`.
    pub fn reporting_to(mut self, recipient: Recipient<ActorStopped>, incarnation: u64) -> Self {
        self.on_stop = Some(recipient);
        self.incarnation = incarnation;
        self
    }

    fn restore_snapshot(&mut self) {
        match self.snapshots.load(&self.aggregate) {
            Ok(Some(snapshot)) if snapshot.state_version == A::STATE_VERSION => {
                match postcard::from_bytes::<A>(&snapshot.state) {
                    Ok(state) => {
                        self.state = state;
                        self.positions = snapshot.positions;
                    }
                    Err(e) => {
                        tracing::warn!(aggregate = %self.aggregate, error = %e, "unreadable snapshot ignored")
                    }
                }
            }
            Ok(Some(snapshot)) => tracing::info!(
                aggregate = %self.aggregate,
                found = snapshot.state_version,
                "snapshot of an older state layout ignored; replaying the log"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(aggregate = %self.aggregate, error = %e, "snapshot store failed; replaying")
            }
        }
    }

    fn snapshot_now(&mut self) {
        if self.unsnapshotted_events == 0 {
            return;
        }
        let state = match postcard::to_allocvec(&self.state) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(aggregate = %self.aggregate, error = %e, "state not encodable; snapshot skipped");
                return;
            }
        };
        let snapshot = Snapshot {
            state_version: A::STATE_VERSION,
            state,
            positions: self.positions.clone(),
        };
        match self.snapshots.save(&self.aggregate, &snapshot) {
            Ok(()) => self.unsnapshotted_events = 0,
            Err(e) => tracing::warn!(aggregate = %self.aggregate, error = %e, "snapshot not saved"),
        }
    }

    /// After the first read of the log: loaded on success; on a failure before the actor ever loaded, it stops, so
    /// the registry starts it again from snapshot + tail on next use (the log may be back by then).
    fn settle_load<T>(&mut self, result: &Result<T, ExecuteError>, ctx: &mut Context<Self>) {
        match result {
            Ok(_) | Err(ExecuteError::Rejected(_) | ExecuteError::TooManyConflicts { .. }) => self.loaded = true,
            Err(e) if !self.loaded => {
                tracing::error!(aggregate = %self.aggregate, error = %e, "aggregate could not load; stopping");
                ctx.stop();
            }
            Err(_) => {}
        }
    }

    fn note_applied(&mut self, count: u64) {
        self.unsnapshotted_events += count;
        if self.unsnapshotted_events >= self.config.snapshot_every {
            self.snapshot_now();
        }
    }
}

/// Applies recorded events to a state and positions.
pub(crate) fn apply_recorded<A: Aggregate>(
    state: &mut A,
    positions: &mut Positions,
    clock: &ProcessClock,
    recorded: &[Recorded],
) {
    for r in recorded {
        if r.seq <= positions.get(&r.stream) {
            continue; // already applied (a duplicate delivery)
        }
        match A::event(&r.envelope.payload) {
            Some(event) => state.apply(event, r.envelope.hlc),
            None => {
                tracing::warn!(stream = %r.stream, seq = r.seq, "event of another kind on this subject skipped")
            }
        }
        clock.observe(r.envelope.hlc);
        if r.last_in_message {
            positions.advance(&r.stream, r.seq);
        }
    }
}

/// Reads the tail after `positions` and applies it.
pub(crate) async fn catch_up<A: Aggregate, L: EventLog>(
    log: &L,
    aggregate: &AggregateRef,
    clock: &ProcessClock,
    state: &mut A,
    positions: &mut Positions,
) -> Result<u64, LogError> {
    let tail = log.read(aggregate, positions).await?;
    apply_recorded(state, positions, clock, &tail.records);
    for (stream, seq) in &tail.scanned.0 {
        positions.advance(stream, *seq);
    }
    Ok(tail.records.len() as u64)
}

/// Catch up → decide → append → apply, reloading and re-deciding on conflicts.
async fn execute<A: Aggregate, L: EventLog>(
    log: &L,
    aggregate: &AggregateRef,
    config: &ActorConfig,
    state: &mut A,
    positions: &mut Positions,
    command: Execute<A>,
) -> Result<(Executed<A>, u64), ExecuteError> {
    let writer = config.origin.writer();
    if A::command_writer(&command.command) != writer {
        return Err(
            Rejection::WrongWriter(format!("{:?} cannot be issued by {}", command.command, config.origin)).into(),
        );
    }
    let own_stream = subject::stream(writer, aggregate).ok_or_else(|| LogError::NotWritable {
        writer,
        aggregate: aggregate.clone(),
    })?;
    // Decide on the latest log, not on what this actor last saw: the other writer domain (and, for companions such
    // as a rollout's site progress, other subjects) may have moved without touching this writer's subject.
    let mut applied_total = catch_up(log, aggregate, &config.clock, state, positions).await?;
    for _attempt in 0..=config.max_conflict_retries {
        let ctx = DecideContext {
            aggregate,
            now: config.clock.tick(),
        };
        let decided = state.decide(command.command.clone(), &ctx).inspect_err(|rejection| {
            tracing::debug!(command = ?command.command, %rejection, "refused");
        })?;
        if decided.is_empty() {
            return Ok((
                Executed {
                    events: vec![],
                    positions: vec![],
                    state: state.clone(),
                },
                applied_total,
            ));
        }
        let envelopes: Vec<Envelope> = decided
            .into_iter()
            .map(|event| Envelope {
                id: EventId::generate(config.clock.wall_ms()),
                aggregate: aggregate.clone(),
                origin: config.origin.clone(),
                hlc: config.clock.tick(),
                by: command.by.clone(),
                payload: event.into(),
            })
            .collect();
        match log
            .append(aggregate, writer, positions.get(&own_stream), &envelopes)
            .await
        {
            Ok(written) => {
                debug_assert_eq!(written.len(), envelopes.len(), "one position per appended event");
                let names: Vec<&str> = envelopes.iter().map(|e| e.payload.name()).collect();
                tracing::debug!(events = ?names, by = ?command.by, "appended");
                for (envelope, (stream, seq)) in envelopes.iter().zip(&written) {
                    if let Some(event) = A::event(&envelope.payload) {
                        state.apply(event, envelope.hlc);
                    }
                    positions.advance(stream, *seq);
                }
                applied_total += envelopes.len() as u64;
                let executed = Executed {
                    events: envelopes,
                    positions: written,
                    state: state.clone(),
                };
                return Ok((executed, applied_total));
            }
            Err(LogError::Conflict { .. }) => {
                tracing::debug!(%aggregate, "append conflict; reloading and deciding again");
                applied_total += catch_up(log, aggregate, &config.clock, state, positions).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ExecuteError::TooManyConflicts {
        attempts: config.max_conflict_retries + 1,
    })
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Actor for AggregateActor<A, L, S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Only the local snapshot here: the log's tail is read by the first command or query, so a cold actor costs
        // one log read per command, like a warm one.
        self.restore_snapshot();
        let check_every = (self.config.idle_timeout / 4).max(Duration::from_millis(10));
        ctx.run_interval(check_every, |act, ctx| {
            if act.last_active.elapsed() >= act.config.idle_timeout {
                act.passivated = true;
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.snapshot_now();
        if let Some(recipient) = &self.on_stop {
            recipient.do_send(ActorStopped {
                aggregate: self.aggregate.clone(),
                incarnation: self.incarnation,
                passivated: self.passivated,
            });
        }
    }
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Handler<Execute<A>> for AggregateActor<A, L, S> {
    type Result = AtomicResponse<Self, Result<Executed<A>, ExecuteError>>;

    fn handle(&mut self, command: Execute<A>, _ctx: &mut Self::Context) -> Self::Result {
        self.last_active = Instant::now();
        let (log, aggregate, config) = (self.log.clone(), self.aggregate.clone(), self.config.clone());
        let (mut state, mut positions) = (self.state.clone(), self.positions.clone());
        let span = aggregate_span(&command.span, &aggregate);
        let work = async move {
            let result = execute(&log, &aggregate, &config, &mut state, &mut positions, command).await;
            (state, positions, result)
        }
        .instrument(span);
        AtomicResponse::new(Box::pin(work.into_actor(self).map(
            |(state, positions, result), act, ctx| {
                // Whatever happened, `state` holds only events the log acknowledged or returned.
                act.state = state;
                act.positions = positions;
                act.last_active = Instant::now();
                act.settle_load(&result, ctx);
                result.map(|(executed, applied)| {
                    act.note_applied(applied);
                    executed
                })
            },
        )))
    }
}

impl<A: Aggregate, L: EventLog, S: SnapshotStore> Handler<GetState<A>> for AggregateActor<A, L, S> {
    type Result = AtomicResponse<Self, Result<(A, Positions), ExecuteError>>;

    fn handle(&mut self, query: GetState<A>, _ctx: &mut Self::Context) -> Self::Result {
        self.last_active = Instant::now();
        let (log, aggregate, config) = (self.log.clone(), self.aggregate.clone(), self.config.clone());
        let (mut state, mut positions) = (self.state.clone(), self.positions.clone());
        let read_log = query.refresh || !self.loaded;
        let work = async move {
            let result = if read_log {
                catch_up(&log, &aggregate, &config.clock, &mut state, &mut positions).await
            } else {
                Ok(0)
            };
            (state, positions, result)
        };
        AtomicResponse::new(Box::pin(work.into_actor(self).map(
            |(state, positions, result), act, ctx| {
                act.state = state;
                act.positions = positions;
                let result = result.map_err(ExecuteError::from);
                act.settle_load(&result, ctx);
                let applied = result?;
                act.note_applied(applied);
                Ok((act.state.clone(), act.positions.clone()))
            },
        )))
    }
}
