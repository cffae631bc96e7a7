//! The demo's placement act: an app placed by intent on the two stores with the lowest latency; the first of them
//! cut off past the toleration, the app moves and the explanation says why, while the cut store keeps running it;
//! healed, the app stays where it is (steadiness), and a dry run shows what a stricter placement would choose.

use super::fleet_processes::Fleet;
use super::story::Story;
use super::{token, until};
use crate::api_types::placement_api::{
    AppApply, AppView, PlacementApply, PlacementDryRun, PlacementExplanationView, PlacementRef, PlacementView,
};
use crate::api_types::requests::{ClusterRef, Label};
use crate::api_types::views::{ClusterView, SiteView};
use crate::commands::api_client::HubApi;
use actors::placement::Verdict;
use events::app::AppRelease;
use events::placement::{LabelMatch, LabelOp, PlacementSpec, Predicate, Prefer, Prioritizer, PrioritizerKind};

/// How long a store may be offline before the placement moves its app (short, for the demo).
const TOLERATE_OFFLINE_S: u64 = 5;

fn spec(steady: u32, regions: &[&str]) -> anyhow::Result<PlacementSpec> {
    Ok(PlacementSpec {
        app: "menu-board@1".parse()?,
        predicates: vec![Predicate::SiteLabel(LabelMatch {
            key: "region".into(),
            op: LabelOp::In,
            values: regions.iter().map(|r| (*r).to_owned()).collect(),
        })],
        prioritizers: vec![
            Prioritizer {
                kind: PrioritizerKind::LabelValue {
                    label: "latency-ms".into(),
                    prefer: Prefer::Lower,
                },
                weight: 1,
            },
            Prioritizer {
                kind: PrioritizerKind::Steady,
                weight: steady,
            },
        ],
        number_of_clusters: Some(2),
        tolerate_offline_s: Some(TOLERATE_OFFLINE_S),
        spread_by: None,
        groups: vec![],
    })
}

async fn placement(api: &HubApi) -> Option<PlacementView> {
    api.call(
        "placements.get",
        &PlacementRef {
            name: token("menu").ok()?,
        },
    )
    .await
    .ok()
}

/// The sites where menu-board@1 is reported installed and healthy.
async fn running_at(api: &HubApi, sites: &[String]) -> Vec<String> {
    let mut running = Vec::new();
    let Ok(main) = token("main") else { return running };
    for site in sites {
        let Ok(id) = token(site) else { continue };
        let get = ClusterRef {
            id: main.clone(),
            site: Some(id),
        };
        let Ok(cluster) = api.call::<_, ClusterView>("clusters.get", &get).await else {
            continue;
        };
        if cluster.app_status.iter().any(|a| a.app == "menu-board" && a.healthy) {
            running.push(site.clone());
        }
    }
    running
}

/// Tells the act.
pub async fn tell(story: &Story, api: &HubApi, fleet: &mut Fleet) -> anyhow::Result<()> {
    let sites: Vec<String> = fleet.sites.iter().map(|s| s.id.clone()).collect();
    anyhow::ensure!(sites.len() >= 3, "the placement act needs three sites or more");
    for (i, site) in sites.iter().enumerate() {
        let region = if i % 2 == 0 { "eu" } else { "us" };
        let labels = [
            ("region".to_string(), region.to_string()),
            ("latency-ms".to_string(), (10 * (i + 1)).to_string()),
        ];
        let label = Label {
            id: token(site)?,
            site: None,
            labels: labels.into(),
        };
        let _: SiteView = api.call("sites.label", &label).await?;
    }
    let app = AppApply {
        name: token("menu-board")?,
        release: AppRelease::Manifests {
            yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: menu-board, namespace: default}\n\
                   data: {today: soup}\n"
                .into(),
        },
    };
    let _: AppView = api.call("apps.apply", &app).await?;
    let apply = PlacementApply {
        name: token("menu")?,
        spec: spec(2, &["eu", "us"])?,
    };
    let _: PlacementView = api.call("placements.apply", &apply).await?;
    let first: Vec<String> = sites.iter().take(2).cloned().collect();
    let placed = until("menu-board on the two fastest stores", 60, || async {
        let view = placement(api).await?;
        let running = running_at(api, &sites).await;
        (running == first).then_some(view)
    })
    .await?;
    story.tell(format!(
        "app menu-board@1 placed by intent (region eu|us, lowest latency-ms, 2 clusters, steady, {TOLERATE_OFFLINE_S} s \
         offline tolerated) and installed at {}: {}",
        placed.chosen.join(", "),
        placed.summary.unwrap_or_default()
    ));

    let cut = &mut fleet.sites[0];
    cut.link.cut();
    let cut_id = cut.id.clone();
    let moved = until("menu-board to move off the cut store", 60, || async {
        let view = placement(api).await?;
        (!view.chosen.iter().any(|c| c.starts_with(&format!("{cut_id}/")))).then_some(view)
    })
    .await?;
    let explained: PlacementExplanationView = api
        .call("placement_explanations.get", &PlacementRef { name: token("menu")? })
        .await?;
    let why = explained
        .decision
        .clusters
        .iter()
        .find(|c| c.cluster.site == cut_id)
        .map(|c| match &c.verdict {
            Verdict::Filtered { by, reason } => format!("removed by {by}: {reason}"),
            Verdict::Scored { total, why, .. } => format!("scored {total}: {why}"),
        })
        .unwrap_or_default();
    story.tell(format!(
        "{cut_id} cut off past the toleration: menu-board moved to {} (placements explain: {cut_id}/main {why}); \
         the cut store keeps running what it holds",
        moved.chosen.join(", ")
    ));
    fleet.sites[0].link.heal();
    // Back online, the placement decided again over the fleet now keeps what it chose.
    let again = until(&format!("{cut_id} back online"), 60, || async {
        let explained: PlacementExplanationView = api
            .call(
                "placement_explanations.get",
                &PlacementRef {
                    name: token("menu").ok()?,
                },
            )
            .await
            .ok()?;
        let offline =
            explained.decision.clusters.iter().any(|c| {
                c.cluster.site == cut_id && matches!(&c.verdict, Verdict::Filtered { by, .. } if by == "offline")
            });
        (!offline).then_some(explained)
    })
    .await?;
    let now: Vec<String> = again.decision.chosen.iter().map(ToString::to_string).collect();
    anyhow::ensure!(
        now == again.recorded,
        "back online, {cut_id} took the app back ({now:?}) although steadiness outweighs its latency"
    );
    story.tell(format!(
        "{cut_id} healed: menu-board stays on {} — its latency advantage is worth less than steadiness",
        now.join(", ")
    ));
    let dry = PlacementDryRun {
        name: token("menu")?,
        spec: spec(2, &["mars"])?,
        at_unix_ms: None,
    };
    let dry: PlacementExplanationView = api.call("placement_dry_runs.get", &dry).await?;
    story.tell(format!(
        "placements apply --dry-run of a region=mars placement: {} (nothing saved)",
        dry.decision.summary
    ));
    Ok(())
}
