//! `site-image.yaml`: the one file baked into every machine's image of a site (issue 13). It names the site, its
//! credential bundle (`edgefleet sites add ID --out DIR`), the join token every machine presents, the cluster the
//! site forms with no hub, its time zone and the LAN ports. Paths are relative to the file.
//!
//! ```yaml
//! site: store-042
//! bundle: bundle            # the site's bundle directory
//! join_token: join.token    # the same on every machine of the site
//! cluster: main
//! profile: edge@3           # without it, machines wait for the hub's intent
//! timezone: Europe/Berlin
//! discovery_port: 7946      # UDP, broadcast on the LAN
//! nats_port: 4222           # the site's NATS on the machines that serve it
//! route_port: 6222          # routes between them (the first machine's witness: the next port)
//! settle_s: 5               # how long a machine listens before bootstrapping the site
//! k3s_binary: /usr/local/bin/k3s  # optional: the site runs k3s from this binary (absolute, in the OS image);
//!                                 # without it the site's runtime is the simulated one
//! ```

use events::cluster::ProfileRef;
use events::Token;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The default UDP port machines announce themselves on.
pub const DEFAULT_DISCOVERY_PORT: u16 = 7946;
/// The default port of the site's NATS.
pub const DEFAULT_NATS_PORT: u16 = 4222;
/// The default route port of the site's NATS servers (a witness listens on the next one).
pub const DEFAULT_ROUTE_PORT: u16 = 6222;
/// The default time a machine listens before it bootstraps the site.
pub const DEFAULT_SETTLE_S: u64 = 5;

/// The file as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteImageFile {
    /// The site id.
    pub site: String,
    /// The bundle directory, relative to the file.
    pub bundle: PathBuf,
    /// The join token file, relative to the file.
    pub join_token: PathBuf,
    /// The cluster the site forms.
    #[serde(default = "default_cluster")]
    pub cluster: String,
    /// Its profile, `NAME@VERSION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// IANA time zone.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// UDP discovery port.
    #[serde(default = "default_discovery_port")]
    pub discovery_port: u16,
    /// The site NATS port.
    #[serde(default = "default_nats_port")]
    pub nats_port: u16,
    /// The route port of the site's NATS servers.
    #[serde(default = "default_route_port")]
    pub route_port: u16,
    /// Seconds a machine listens before bootstrapping.
    #[serde(default = "default_settle_s")]
    pub settle_s: u64,
    /// The k3s binary every machine's OS image ships (absolute): the site's runtime is then k3s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k3s_binary: Option<PathBuf>,
}

fn default_cluster() -> String {
    "main".into()
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_discovery_port() -> u16 {
    DEFAULT_DISCOVERY_PORT
}
fn default_nats_port() -> u16 {
    DEFAULT_NATS_PORT
}
fn default_route_port() -> u16 {
    DEFAULT_ROUTE_PORT
}
fn default_settle_s() -> u64 {
    DEFAULT_SETTLE_S
}

/// A site image read and checked, its paths absolute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteImage {
    /// The site.
    pub site: Token,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The join token file.
    pub join_token: PathBuf,
    /// The cluster.
    pub cluster: Token,
    /// Its profile, if the image names one.
    pub profile: Option<ProfileRef>,
    /// Time zone.
    pub timezone: String,
    /// UDP discovery port.
    pub discovery_port: u16,
    /// Site NATS port.
    pub nats_port: u16,
    /// Route port of the site's NATS servers (the witness: the next one).
    pub route_port: u16,
    /// Listen this long before bootstrapping.
    pub settle: std::time::Duration,
    /// The k3s binary, when the site runs k3s.
    pub k3s_binary: Option<PathBuf>,
}

/// Why a site image cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SiteImageError {
    /// Unreadable.
    #[error("the site image {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a site image.
    #[error("the site image {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl SiteImage {
    /// Reads and checks the site image at `path`.
    pub fn load(path: &Path) -> Result<Self, SiteImageError> {
        let text = std::fs::read_to_string(path).map_err(|source| SiteImageError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let file: SiteImageFile = serde_norway::from_str(&text).map_err(|e| SiteImageError::Malformed {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_file(file, base).map_err(|reason| SiteImageError::Malformed {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Checks `file`, resolving its paths against `base`.
    pub fn from_file(file: SiteImageFile, base: &Path) -> Result<Self, String> {
        let site = Token::new(file.site.clone()).map_err(|e| format!("site {:?}: {e}", file.site))?;
        let cluster = Token::new(file.cluster.clone()).map_err(|e| format!("cluster {:?}: {e}", file.cluster))?;
        let profile = file
            .profile
            .as_deref()
            .map(|p| p.parse::<ProfileRef>().map_err(|e| format!("profile {p:?}: {e}")))
            .transpose()?;
        actors::maintenance_window::SiteZone::new(&file.timezone).map_err(|e| format!("timezone: {e}"))?;
        if file.discovery_port == 0 || file.nats_port == 0 {
            return Err("discovery_port and nats_port must be set (not 0)".into());
        }
        if file.discovery_port == file.nats_port {
            return Err(format!("discovery_port and nats_port are both {}", file.nats_port));
        }
        let route_ports = [file.route_port, file.route_port.wrapping_add(1)];
        if file.route_port == 0 || file.route_port == u16::MAX || route_ports.contains(&file.nats_port) {
            return Err(format!(
                "route_port {} must be set, below 65535, and neither it nor the next port nats_port ({})",
                file.route_port, file.nats_port
            ));
        }
        if let Some(binary) = file.k3s_binary.as_ref().filter(|b| !b.is_absolute()) {
            return Err(format!(
                "k3s_binary {} must be an absolute path on the machine",
                binary.display()
            ));
        }
        if file.settle_s == 0 || file.settle_s > 600 {
            return Err(format!("settle_s {} is not between 1 and 600", file.settle_s));
        }
        Ok(Self {
            site,
            bundle: base.join(&file.bundle),
            join_token: base.join(&file.join_token),
            cluster,
            profile,
            timezone: file.timezone,
            discovery_port: file.discovery_port,
            nats_port: file.nats_port,
            route_port: file.route_port,
            settle: std::time::Duration::from_secs(file.settle_s),
            k3s_binary: file.k3s_binary,
        })
    }
}

/// `edgefleet site-image`: writes the site image for the site whose bundle is `--bundle`, and a new join token
/// beside it (kept if one is there: every machine of a site must carry the same).
pub fn write(args: &crate::cli::SiteImageArgs) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context;
    let paths = fleet_trust::SiteBundlePaths::new(&args.bundle);
    let site = std::fs::read_to_string(paths.site())
        .with_context(|| format!("{} is not a site bundle", args.bundle.display()))?
        .trim()
        .to_owned();
    let base = args.out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(base).with_context(|| format!("creating {}", base.display()))?;
    let token_path = base.join("join.token");
    if !token_path.exists() {
        let token = fleet_trust::new_join_token()?;
        crate::owner_only_file::create_owner_only(&token_path, &format!("{token}\n"))?;
    }
    let file = SiteImageFile {
        site,
        bundle: relative_to(base, &args.bundle),
        join_token: PathBuf::from("join.token"),
        cluster: args.cluster.clone(),
        profile: args.profile.as_ref().map(ToString::to_string),
        timezone: args.timezone.clone(),
        discovery_port: args.discovery_port,
        nats_port: args.nats_port,
        route_port: args.route_port,
        settle_s: args.settle_s,
        k3s_binary: args.k3s_binary.clone(),
    };
    SiteImage::from_file(file.clone(), base).map_err(anyhow::Error::msg)?;
    let yaml = serde_norway::to_string(&file)?;
    if args.out.exists() {
        std::fs::remove_file(&args.out).with_context(|| format!("replacing {}", args.out.display()))?;
    }
    crate::owner_only_file::create_owner_only(&args.out, &yaml)?;
    println!(
        "site image for site {} written to {} (join token {}); bake both and the bundle into every machine",
        file.site,
        args.out.display(),
        token_path.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// `path` relative to `base` when it lies under it, else as given.
fn relative_to(base: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_image_takes_the_defaults_and_resolves_paths_beside_it() {
        let file: SiteImageFile =
            serde_norway::from_str("site: store-1\nbundle: bundle\njoin_token: join.token\n").expect("parses");
        let image = SiteImage::from_file(file, Path::new("/etc/edgefleet")).expect("valid");
        assert_eq!(image.bundle, Path::new("/etc/edgefleet/bundle"));
        assert_eq!(image.join_token, Path::new("/etc/edgefleet/join.token"));
        assert_eq!(
            (image.cluster.as_str(), image.discovery_port, image.nats_port),
            ("main", 7946, 4222)
        );
        assert_eq!(image.profile, None);
        assert_eq!(
            image.k3s_binary, None,
            "the simulated runtime unless the image names a k3s binary"
        );
        let k3s: SiteImageFile = serde_norway::from_str(
            "site: store-1\nbundle: bundle\njoin_token: join.token\nk3s_binary: /usr/local/bin/k3s\n",
        )
        .expect("parses");
        let image = SiteImage::from_file(k3s, Path::new("/etc/edgefleet")).expect("valid");
        assert_eq!(image.k3s_binary.as_deref(), Some(Path::new("/usr/local/bin/k3s")));
    }

    #[test]
    fn bad_images_are_refused_with_the_reason() {
        let refused = |yaml: &str| {
            let file: SiteImageFile = serde_norway::from_str(yaml).expect("parses");
            SiteImage::from_file(file, Path::new("/")).expect_err("refused")
        };
        let base = "bundle: b\njoin_token: t\n";
        assert!(refused(&format!("site: Bad Site\n{base}")).contains("site"));
        assert!(refused(&format!("site: s\n{base}profile: edge\n")).contains("profile"));
        assert!(refused(&format!("site: s\n{base}timezone: Mars/Base\n")).contains("timezone"));
        assert!(refused(&format!("site: s\n{base}nats_port: 7946\n")).contains("both"));
        assert!(refused(&format!("site: s\n{base}route_port: 4221\n")).contains("route_port"));
        assert!(refused(&format!("site: s\n{base}k3s_binary: bin/k3s\n")).contains("absolute"));
        let unknown: Result<SiteImageFile, _> =
            serde_norway::from_str("site: s\nbundle: b\njoin_token: t\nsecret: x\n");
        assert!(unknown.is_err(), "unknown fields are refused, not ignored");
    }
}
