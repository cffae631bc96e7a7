//! `edgefleet demo --zero-touch`: a zero-touch site on a real LAN of network namespaces (needs root and iproute2):
//! four machines boot `edgefleet node` from one site image with no address configured, form one site whose cluster
//! and NATS become highly available by themselves, lose the machine that bootstrapped it, recover, and take a fifth
//! machine booted from the same image. The hub sits in the root namespace behind a link on the LAN's bridge.

use super::fleet_processes::start_hub_with;
use super::story::Story;
use super::until;
use crate::api_types::requests::{Empty, NodeFilter};
use crate::api_types::views::{NodeView, SiteView};
use crate::commands::resources::api_client::HubApi;
use anyhow::Context;
use events::node::NodeRole;
use nats_process::{ChildProcess, LinkProxy};
use std::path::Path;
use std::time::{Duration, Instant};

/// The site of the story.
const SITE: &str = "store-zt";
/// Machines lost this long are replaced (the default, 300 s, is for real stores).
const LOST_AFTER_S: &str = "15";

/// What the zero-touch story started, for the demo to stop.
#[derive(Default)]
pub struct ZeroTouchFleet {
    /// The LAN (its namespaces go when it is dropped, with every process in them).
    pub lan: Option<netns_lan::Lan>,
    /// The hub's link on the bridge.
    pub link: Option<LinkProxy>,
    /// The machines' `edgefleet node` processes.
    pub machines: Vec<ChildProcess>,
}

impl ZeroTouchFleet {
    /// Stops the machines and removes the LAN.
    pub fn stop(&mut self) {
        for machine in &mut self.machines {
            machine.stop();
        }
        self.lan = None;
    }
}

/// Boots `edgefleet node` on machine `index` of `lan` as node `id`.
fn boot(lan: &netns_lan::Lan, index: usize, dir: &Path, image: &Path, id: &str) -> anyhow::Result<ChildProcess> {
    let program = std::env::current_exe().context("locating the edgefleet binary")?;
    let mut command = lan.command(index, program);
    command
        .args(["node", "--site-image"])
        .arg(image)
        .arg("--data-dir")
        .arg(dir.join(id))
        .args(["--node-id", id, "--broadcast"])
        .arg(lan.broadcast().to_string())
        .env("RUST_LOG", "info")
        .env("EDGEFLEET_LOST_AFTER_S", LOST_AFTER_S);
    nats_process::die_with_parent(&mut command);
    ChildProcess::spawn_command(id, command, &dir.join(format!("{id}.log"))).with_context(|| format!("booting {id}"))
}

/// The site's nodes as the hub sees them: (id, role, silent).
async fn nodes(api: &HubApi) -> Option<Vec<(String, Option<NodeRole>, bool)>> {
    let filter = NodeFilter {
        site: Some(events::Token::new(SITE).ok()?),
        ..NodeFilter::default()
    };
    let nodes: Vec<NodeView> = api.call("nodes.list", &filter).await.ok()?;
    Some(nodes.into_iter().map(|n| (n.id, n.role, n.silent)).collect())
}

/// The site's NATS servers (meta group, online ones), asked from inside machine `index` through the site's system
/// user, whose password derives from the site image's join token.
fn site_nats_servers(
    lan: &netns_lan::Lan,
    index: usize,
    image_dir: &Path,
    bundle: &Path,
) -> anyhow::Result<Vec<String>> {
    let token = std::fs::read_to_string(image_dir.join("join.token")).context("the site image's join token")?;
    let site = events::Token::new(SITE)?;
    let password = fleet_trust::site_system_password(&site, token.trim());
    let ca = fleet_trust::SiteBundlePaths::new(bundle).site_ca();
    let asked = lan.run_inside(index, move || -> anyhow::Result<Vec<String>> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async move {
            let client = async_nats::ConnectOptions::with_user_and_password(fleet_trust::SYSTEM_USER.into(), password)
                .add_root_certificates(ca)
                .require_tls(true)
                .connect("tls://127.0.0.1:4222")
                .await?;
            let meta = crate::site::site_nats_meta_group(&client).await?;
            let mut online: Vec<String> = meta.peers.into_iter().filter(|p| p.online).map(|p| p.name).collect();
            online.sort();
            Ok(online)
        })
    });
    asked?
}

/// Tells the zero-touch story.
pub async fn tell(story: &mut Story, dir: &Path, fleet: &mut super::Fleet) -> anyhow::Result<()> {
    let lan = netns_lan::Lan::build(4).context("building a LAN of network namespaces (run as root with iproute2)")?;
    story.tell(format!(
        "a LAN of 4 machines: network namespaces on bridge {} ({}), no address given to any edgefleet process",
        lan.bridge(),
        lan.bridge_ip()
    ));
    let bridge = lan.bridge_ip();
    // Its TLS certificate also valid for the bridge's address, where the machines reach it.
    let hub = start_hub_with(dir, &["--tls-name".into(), bridge.to_string()])?;
    let address = hub.address.clone();
    let leaf = format!("127.0.0.1:{}", hub.leaf_port).parse()?;
    fleet.hub = Some(hub);
    let link = LinkProxy::start_on(bridge, leaf)
        .await
        .context("the hub's link on the bridge")?;
    let api = until("the hub API", 30, || async {
        let api = HubApi::connect(&address).await.ok()?;
        let _: Vec<SiteView> = api.call("sites.list", &Empty {}).await.ok()?;
        Some(api)
    })
    .await?;
    let request = crate::api_types::fleet_access::SiteIssueRequest {
        id: events::Token::new(SITE)?,
        tls_names: vec![],
    };
    let bundle: crate::api_types::fleet_access::SiteBundleView = api.call("sites.add", &request).await?;
    let bundle_dir = dir.join(format!("{SITE}-bundle"));
    crate::commands::resources::write_site_bundle(&bundle_dir, &bundle, &link.leaf_url())?;
    let image_dir = dir.join(format!("{SITE}-image"));
    let image = image_dir.join("site-image.yaml");
    let image_args = crate::cli::SiteImageArgs {
        bundle: bundle_dir.clone(),
        out: image.clone(),
        cluster: "main".into(),
        profile: Some("edge@1".parse().context("profile")?),
        timezone: "UTC".into(),
        discovery_port: crate::node::site_image_file::DEFAULT_DISCOVERY_PORT,
        nats_port: crate::node::site_image_file::DEFAULT_NATS_PORT,
        route_port: crate::node::site_image_file::DEFAULT_ROUTE_PORT,
        settle_s: 2,
        k3s_binary: None, // the simulated runtime: k3s cannot run here
    };
    crate::node::site_image_file::write(&image_args)?;
    story.tell(format!(
        "hub up in the root namespace; site {SITE} added and baked into one site image (bundle, join token, cluster \
         main from edge@1) for every machine; the hub's link on {bridge}"
    ));

    let first_boot = Instant::now();
    for (index, id) in ["m1", "m2", "m3", "m4"].iter().enumerate() {
        fleet.zero_touch.machines.push(boot(&lan, index, dir, &image, id)?);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    fleet.zero_touch.link = Some(link);
    story.tell("4 machines booted from the same image, a second apart");
    let control_plane = until("three control-plane nodes and a worker", 120, || async {
        let nodes = nodes(&api).await?;
        let cp: Vec<String> = nodes
            .iter()
            .filter(|n| n.1 == Some(NodeRole::ControlPlane))
            .map(|n| n.0.clone())
            .collect();
        (nodes.len() == 4 && cp.len() == 3).then_some(cp)
    })
    .await?;
    let mut expected = control_plane.clone();
    expected.sort();
    until("a three-server site NATS", 120, || async {
        let servers = site_nats_servers(&lan, 1, &image_dir, &bundle_dir).ok()?;
        (servers == expected).then_some(())
    })
    .await?;
    let ha_after = first_boot.elapsed();
    story.tell(format!(
        "one site formed by itself: m1 bootstrapped it (its NATS beside a witness), the others found it by \
         broadcast and joined; control plane {control_plane:?}, and the site's NATS is three servers on them, \
         streams at three copies, the witness retired — {:.1} s after the first boot",
        ha_after.as_secs_f64()
    ));

    lan.power_off(0).context("powering off m1")?;
    let lost_at = Instant::now();
    story.tell(format!(
        "m1, the machine that bootstrapped the site, loses power (its NIC down, its processes killed); machines \
         silent {LOST_AFTER_S} s are replaced"
    ));
    let survivors = until("three control-plane nodes again", 180, || async {
        let nodes = nodes(&api).await?;
        let cp: Vec<String> = nodes
            .iter()
            .filter(|n| n.1 == Some(NodeRole::ControlPlane) && !n.2)
            .map(|n| n.0.clone())
            .collect();
        (cp.len() == 3 && !cp.iter().any(|id| id == "m1")).then_some(cp)
    })
    .await?;
    let mut expected = survivors.clone();
    expected.sort();
    until("the site's NATS on the survivors", 180, || async {
        let servers = site_nats_servers(&lan, 1, &image_dir, &bundle_dir).ok()?;
        (servers == expected).then_some(())
    })
    .await?;
    story.tell(format!(
        "recovered {:.1} s after the loss: control plane {survivors:?} (the spare worker promoted), the site's NATS \
         on them, the controller moved under its lease, the hub reached through a survivor's leaf link",
        lost_at.elapsed().as_secs_f64()
    ));

    let mut lan = lan;
    let fifth = lan.add_machine().context("a fifth machine")?;
    fleet.zero_touch.machines.push(boot(&lan, fifth, dir, &image, "m5")?);
    until("m5 joined as the spare", 120, || async {
        let nodes = nodes(&api).await?;
        nodes
            .iter()
            .any(|n| n.0 == "m5" && n.1 == Some(NodeRole::Worker) && !n.2)
            .then_some(())
    })
    .await?;
    story.tell(format!(
        "m5 booted from the same image and joined as the spare worker, {:.1} s after the loss",
        lost_at.elapsed().as_secs_f64()
    ));
    fleet.zero_touch.lan = Some(lan);
    Ok(())
}
