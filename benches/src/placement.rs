//! Placement at fleet scale, in memory: a fleet of `--placement-sites` sites (one cluster of three nodes each, mixed
//! labels, a tenth offline) built through the same fold the hub keeps, then one placement decided and explained
//! (p50/p99), and a whole hub plan (every placement decided again, every cluster's apps, every site's config
//! resolved) — what the hub does every second.

use crate::figures::{count, secs};
use actors::cluster::ClusterCommand;
use actors::config::ConfigCommand;
use actors::placement::PlacementCommand;
use actors::placement::{decide_placement, fleet_candidates};
use actors::plan::{plan_hub, HubCommand, HubInputs};
use anyhow::Context as _;
use events::app::{AppEvent, AppRelease};
use events::cluster::ClusterEvent;
use events::config::{ConfigEvent, ConfigValue};
use events::node::{NodeEvent, NodeRole};
use events::placement::{
    DecisionGroup, LabelMatch, LabelOp, PlacementEvent, PlacementSpec, Predicate, Prefer, Prioritizer, PrioritizerKind,
};
use events::site::SiteEvent;
use events::{AggregateRef, Token};
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use testkit::fixtures::{sample_inventory, FixtureLog};

/// What the bench builds.
pub struct PlacementBench {
    /// Sites (one cluster each).
    pub sites: u32,
    /// Placements in the fleet.
    pub placements: u32,
}

fn token(s: &str) -> anyhow::Result<Token> {
    Token::new(s).with_context(|| format!("bench id {s:?}"))
}

fn spec(i: u32) -> anyhow::Result<PlacementSpec> {
    Ok(PlacementSpec {
        app: format!("app-{i}@1").parse()?,
        predicates: vec![
            Predicate::SiteLabel(LabelMatch {
                key: "region".into(),
                op: LabelOp::In,
                values: vec!["eu".into(), "us".into()],
            }),
            Predicate::MinCpus(8),
        ],
        prioritizers: vec![
            Prioritizer {
                kind: PrioritizerKind::LabelValue {
                    label: "latency-ms".into(),
                    prefer: Prefer::Lower,
                },
                weight: 2,
            },
            Prioritizer {
                kind: PrioritizerKind::LeastLoaded,
                weight: 1,
            },
            Prioritizer {
                kind: PrioritizerKind::Steady,
                weight: 2,
            },
        ],
        number_of_clusters: Some(50),
        tolerate_offline_s: Some(600),
        spread_by: Some("region".into()),
        groups: vec![DecisionGroup {
            name: "canary".into(),
            selector: LabelMatch {
                key: "ring".into(),
                op: LabelOp::In,
                values: vec!["canary".into()],
            },
        }],
    })
}

/// The fleet: sites with labels, a cluster of three nodes each, `placements` apps and placements, some config.
fn build(bench: &PlacementBench) -> anyhow::Result<FixtureLog> {
    let mut log = FixtureLog::new();
    let main = token("main")?;
    for s in 0..bench.sites {
        let site = token(&format!("store-{s:05}"))?;
        let region = ["eu", "us", "apac"][(s % 3) as usize];
        let mut labels = BTreeMap::from([
            ("region".to_string(), region.to_string()),
            ("latency-ms".to_string(), (5 + (s * 37) % 120).to_string()),
        ]);
        if s % 50 == 0 {
            labels.insert("ring".into(), "canary".into());
        }
        log.hub(
            &AggregateRef::site(&site),
            SiteEvent::LabelsSet { generation: 1, labels },
            "bench",
        );
        let registered = SiteEvent::Registered {
            timezone: "Europe/Berlin".into(),
            controller_version: "bench".into(),
        };
        log.site(&AggregateRef::site(&site), registered, "bench");
        let cluster = AggregateRef::cluster(&site, &main);
        let created = ClusterEvent::Created {
            generation: 1,
            profile: "edge@1".parse()?,
            overrides: BTreeMap::new(),
        };
        log.hub(&cluster, created, "bench");
        let formed = ClusterEvent::Formed {
            profile: "edge@1".parse()?,
            observed_generation: 1,
        };
        log.site(&cluster, formed, "bench");
        for n in 1..=3u32 {
            let node = token(&format!("n{n}"))?;
            let inventory = events::node::Inventory {
                cpu_count: 4 * (1 + (s + n) % 3),
                ..sample_inventory(n)
            };
            log.site(
                &AggregateRef::node(&site, &node),
                NodeEvent::Registered { inventory },
                "bench",
            );
            let role = if n == 1 {
                NodeRole::ControlPlane
            } else {
                NodeRole::Worker
            };
            log.site(&cluster, ClusterEvent::MemberJoined { node, role }, "bench");
        }
    }
    for p in 0..bench.placements {
        let name = token(&format!("app-{p}"))?;
        let release = AppRelease::Manifests {
            yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n".into(),
        };
        log.hub(
            &AggregateRef::app(&name),
            AppEvent::VersionPublished { version: 1, release },
            "bench",
        );
        let applied = PlacementEvent::Applied {
            generation: 1,
            spec: spec(p)?,
        };
        log.hub(&AggregateRef::placement(&name), applied, "bench");
    }
    for k in 0..100u32 {
        let set = ConfigEvent::EntrySet {
            scope: if k % 2 == 0 {
                "all".parse()?
            } else {
                "label=region=eu".parse()?
            },
            key: format!("menu/item-{k}"),
            value: ConfigValue {
                value: "x".repeat(64),
                expires_at_ms: None,
            },
        };
        log.hub(&AggregateRef::config_entries(), set, "bench");
    }
    Ok(log)
}

/// Writes what a hub plan decided into `log`, as the hub's actors would.
fn record(log: &mut FixtureLog, commands: Vec<HubCommand>) {
    for command in commands {
        match command {
            HubCommand::Placement {
                placement,
                command: PlacementCommand::Decide { chosen, summary },
            } => {
                let decided = PlacementEvent::Decided {
                    generation: 1,
                    chosen,
                    summary,
                };
                log.hub(&AggregateRef::placement(&placement), decided, "bench");
            }
            HubCommand::Cluster {
                site,
                cluster,
                command: ClusterCommand::SetApps(apps),
            } => {
                let set = ClusterEvent::AppsSet { generation: 2, apps };
                log.hub(&AggregateRef::cluster(&site, &cluster), set, "bench");
            }
            HubCommand::Config {
                aggregate,
                command: ConfigCommand::Resolve(entries),
            } => {
                log.hub(&aggregate, ConfigEvent::Resolved { revision: 1, entries }, "bench");
            }
            _ => {}
        }
    }
}

use actors::fleet_state::FleetState;

impl PlacementBench {
    /// Builds the fleet and prints the figures.
    pub fn run(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut log = build(self)?;
        let fleet = log.fleet();
        println!(
            "placement: a fleet of {} sites ({} nodes), {} placements, built in {}",
            count(u64::from(self.sites)),
            count(u64::from(self.sites) * 3),
            self.placements,
            secs(started.elapsed())
        );
        let offline: BTreeMap<Token, u64> = fleet
            .sites()
            .enumerate()
            .filter(|(i, _)| i % 10 == 0)
            .map(|(i, (site, _))| (site.clone(), (i as u64 % 1200) * 1000))
            .collect();
        let spec = spec(0)?;
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).context("histogram")?;
        let mut chosen = 0;
        for _ in 0..30 {
            let at = Instant::now();
            let candidates = fleet_candidates(&fleet, &spec.app.name, &offline);
            let decision = std::hint::black_box(decide_placement(&spec, &candidates, &BTreeSet::new()));
            histogram
                .record((at.elapsed().as_micros() as u64).max(1))
                .context("record")?;
            chosen = decision.chosen.len();
        }
        let ms = |q: f64| Duration::from_micros(histogram.value_at_quantile(q)).as_secs_f64() * 1e3;
        println!(
            "placement: one placement decided and explained over {} clusters (candidates built from the fleet \
             included): p50 {:.1} ms, p99 {:.1} ms; {chosen} chosen",
            count(u64::from(self.sites)),
            ms(0.5),
            ms(0.99)
        );
        let online = BTreeSet::new();
        let plan = |fleet: &FleetState| {
            plan_hub(&HubInputs {
                fleet,
                online: &online,
                offline_for_ms: &offline,
                now_unix_s: 1_800_000_000,
            })
        };
        let timed_plans = |fleet: &FleetState| -> anyhow::Result<(Histogram<u64>, usize)> {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram")?;
            let mut commands = 0;
            for _ in 0..10 {
                let at = Instant::now();
                commands = std::hint::black_box(plan(fleet)).len();
                histogram
                    .record((at.elapsed().as_micros() as u64).max(1))
                    .context("record")?;
            }
            Ok((histogram, commands))
        };
        let ms = |h: &Histogram<u64>, q: f64| Duration::from_micros(h.value_at_quantile(q)).as_secs_f64() * 1e3;
        let (first, commands) = timed_plans(&fleet)?;
        println!(
            "placement: the first hub plan ({} placements decided and explained, every cluster's apps, {} sites' \
             config resolved, all new): p50 {:.1} ms, p99 {:.1} ms; {commands} commands",
            self.placements,
            count(u64::from(self.sites)),
            ms(&first, 0.5),
            ms(&first, 0.99)
        );
        record(&mut log, plan(&fleet));
        let settled = log.fleet();
        let (steady, commands) = timed_plans(&settled)?;
        println!(
            "placement: a hub plan once settled (every placement decided again, nothing changed): p50 {:.1} ms, p99 \
             {:.1} ms; {commands} commands",
            ms(&steady, 0.5),
            ms(&steady, 0.99)
        );
        Ok(())
    }
}
