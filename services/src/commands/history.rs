//! `edgefleet history` and `edgefleet get [--at]`: an aggregate's events (read by the hub, which alone holds every
//! site's copy, and handed out page by page through the API, so any operator role may look) and its state at any
//! point, replayed here.

use crate::aggregate_arg::resolve_aggregate;
use crate::api_types::history::{HistoryPage, HistoryRequest};
use crate::api_types::views::{ClusterView, NodeView, ProfileView, RolloutView, SiteStateView};
use crate::cli::{GetArgs, HistoryArgs, OutputFormat};
use crate::commands::api_client::HubApi;
use crate::hub_connection::HubAddress;
use crate::output::{print, rfc3339_ms};
use actors::AnyAggregate;
use anyhow::{bail, Context};
use replay::{At, HistoryEntry};
use serde::Serialize;
use std::process::ExitCode;

/// One history line as JSON.
#[derive(Serialize)]
struct HistoryLine<'a> {
    number: usize,
    time: String,
    hlc: events::Hlc,
    origin: String,
    event: &'static str,
    by: Option<&'a str>,
    stream: &'a str,
    seq: u64,
    payload: &'a events::Payload,
}

/// Lists the aggregate's events, merged across the hub's and the site's streams.
pub async fn history(
    hub: &crate::hub_connection::HubAddress,
    format: OutputFormat,
    args: HistoryArgs,
) -> anyhow::Result<ExitCode> {
    let aggregate = resolve_aggregate(&args.aggregate, hub).await?;
    let entries = match fetch(hub, &aggregate).await? {
        Ok(entries) => entries,
        Err(code) => return Ok(code),
    };
    if entries.is_empty() {
        eprintln!("no events for {aggregate}");
        return Ok(ExitCode::from(1));
    }
    let lines: Vec<HistoryLine> = entries
        .iter()
        .map(|e| HistoryLine {
            number: e.number,
            time: rfc3339_ms(e.recorded.envelope.hlc.physical_ms),
            hlc: e.recorded.envelope.hlc,
            origin: e.recorded.envelope.origin.to_string(),
            event: e.recorded.envelope.payload.name(),
            by: e.recorded.envelope.by.as_deref(),
            stream: &e.stream,
            seq: e.seq,
            payload: &e.recorded.envelope.payload,
        })
        .collect();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.number.to_string(),
                l.time.clone(),
                l.origin.clone(),
                l.event.to_string(),
                l.by.unwrap_or("-").to_string(),
                format!("{}:{}", l.stream, l.seq),
            ]
        })
        .collect();
    print(
        format,
        &["#", "TIME", "ORIGIN", "EVENT", "BY", "STREAM:SEQ"],
        &rows,
        &lines,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Parses `--at`: an event number of the history, or an RFC 3339 time.
fn parse_at(at: &str) -> anyhow::Result<At> {
    if let Ok(n) = at.parse::<usize>() {
        return Ok(At::Seq(n));
    }
    let time = humantime::parse_rfc3339_weak(at)
        .with_context(|| format!("--at {at:?}: expected an event number or an RFC 3339 time"))?;
    let ms = time
        .duration_since(std::time::UNIX_EPOCH)
        .context("--at is before 1970")?
        .as_millis();
    Ok(At::UnixMs(ms as u64))
}

/// The view of a replayed aggregate — the same view the API answers with.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum AggregateView {
    Node(NodeView),
    Cluster(ClusterView),
    Site(SiteStateView),
    Profile(Option<ProfileView>),
    Rollout(RolloutView),
    App(Option<crate::api_types::placement_api::AppView>),
    Placement(Option<crate::api_types::placement_api::PlacementView>),
    Config(actors::config::ConfigState),
}

pub(crate) fn view_of(aggregate: &events::AggregateRef, state: &AnyAggregate) -> AggregateView {
    let (scope, id) = (aggregate.scope.as_str(), aggregate.id.as_str());
    match state {
        AnyAggregate::Node(node) => AggregateView::Node(NodeView::new(scope, id, node, None)),
        AnyAggregate::Cluster(cluster) => AggregateView::Cluster(ClusterView::new(scope, id, cluster, |_| None)),
        AnyAggregate::Site(site) => AggregateView::Site(SiteStateView::new(id, site)),
        AnyAggregate::Profile(profile) => AggregateView::Profile(ProfileView::new(id, profile, None, false)),
        AnyAggregate::Rollout(rollout) => AggregateView::Rollout(RolloutView::new(id, rollout)),
        AnyAggregate::App(app) => {
            AggregateView::App(crate::api_types::placement_api::AppView::new(id, app, None, false))
        }
        AnyAggregate::Placement(placement) => {
            AggregateView::Placement(crate::api_types::placement_api::PlacementView::new(id, placement))
        }
        AnyAggregate::Config(config) => AggregateView::Config(config.clone()),
    }
}

/// Shows the aggregate's state now, or rebuilt at `--at`, through the API's view of it (`-o json|yaml`; a table
/// prints YAML, the most readable form of one object).
pub async fn get(
    hub: &crate::hub_connection::HubAddress,
    format: OutputFormat,
    args: GetArgs,
) -> anyhow::Result<ExitCode> {
    let aggregate = resolve_aggregate(&args.aggregate, hub).await?;
    let at = args.at.as_deref().map(parse_at).transpose()?;
    let entries = match fetch(hub, &aggregate).await? {
        Ok(entries) => entries,
        Err(code) => return Ok(code),
    };
    if entries.is_empty() {
        bail!("no events for {aggregate}");
    }
    let state = replay::state_at(&aggregate, &entries, at.unwrap_or(At::Seq(usize::MAX)));
    let applied = match at {
        Some(At::Seq(n)) => n.min(entries.len()),
        Some(At::UnixMs(ms)) => entries
            .iter()
            .filter(|e| e.recorded.envelope.hlc.physical_ms <= ms)
            .count(),
        None => entries.len(),
    };
    eprintln!("{aggregate}: state after {applied} of {} events", entries.len());
    let view = view_of(&aggregate, &state);
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&view)?),
        OutputFormat::Yaml | OutputFormat::Table => print!("{}", serde_norway::to_string(&view)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// The aggregate's whole history from the hub, page by page; a refusal (unknown caller, bad request) is printed and
/// becomes the exit code.
async fn fetch(
    hub: &HubAddress,
    aggregate: &events::AggregateRef,
) -> anyhow::Result<Result<Vec<HistoryEntry>, ExitCode>> {
    let api = HubApi::connect(hub).await?;
    let mut entries = Vec::new();
    loop {
        let request = HistoryRequest {
            aggregate: aggregate.to_string(),
            from: entries.len(),
        };
        let page: HistoryPage = match api.call("history.list", &request).await {
            Ok(page) => page,
            Err(e) => return api.finish(Err(e)).map(Err),
        };
        let done = page.events.is_empty() || entries.len() + page.events.len() >= page.total;
        entries.extend(entries_of(page).map_err(anyhow::Error::msg)?);
        if done {
            return Ok(Ok(entries));
        }
    }
}

/// The entries of one page of `history.list`; an envelope that does not decode is an error.
pub(crate) fn entries_of(page: HistoryPage) -> Result<Vec<HistoryEntry>, String> {
    page.events
        .into_iter()
        .map(|r| {
            let envelope = r.decode_envelope()?;
            Ok(HistoryEntry {
                number: r.number,
                stream: r.stream.clone(),
                seq: r.seq,
                stored_unix_ms: r.stored_unix_ms,
                recorded: actors::Recorded {
                    stream: r.stream,
                    seq: r.seq,
                    stored_unix_ms: r.stored_unix_ms,
                    envelope,
                    last_in_message: r.last_in_message,
                },
            })
        })
        .collect()
}
