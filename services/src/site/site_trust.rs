//! What a site needs to be part of the fleet securely, from its bundle (`edgefleet sites add ID --out DIR` at the
//! hub) or the individual flags: the leaf credential and the CA to trust the hub with, the site server's own TLS
//! certificate; and what the site makes for itself on its first start and keeps in its data dir: the site process's
//! nkey (`site.nk`), the shared join token its nodes present once (`join.token`, baked into the site image), and
//! the CA agents trust the site's server with (`ca.pem`).

use crate::cli::SiteArgs;
use anyhow::Context;
use events::Token;
use fleet_trust::{SiteBundlePaths, UserKey};
use nats_process::{LeafRemote, TlsFiles};
use std::path::{Path, PathBuf};

/// The file in a bundle directory holding the hub's leafnode URL (written by `edgefleet sites add`).
pub const HUB_LEAF_URL_FILE: &str = "hub-leaf.url";

/// The local account the leaf link binds to on the site's server.
const LOCAL_ACCOUNT: &str = fleet_trust::SITE_ACCOUNT;

/// A site's trust material, resolved.
pub struct SiteTrust {
    /// The site id.
    pub site: Token,
    /// The leaf remote to the hub: URL, credentials, local account, CA.
    pub leaf: LeafRemote,
    /// The site server's TLS certificate, key and CA.
    pub tls: TlsFiles,
    /// The site process's own key.
    pub process_key: UserKey,
    /// The join token.
    pub join_token: String,
    /// Where the join token is kept.
    pub join_token_path: PathBuf,
    /// The CA agents trust the site's server with (a copy in the data dir).
    pub agent_ca: PathBuf,
    /// Public nkeys of the local readers the bundle names (none for a bundle issued before local readers).
    pub local_readers: Vec<String>,
}

impl SiteTrust {
    /// Resolves `args`: the bundle first, individual flags over it; makes the site's own key, join token and CA
    /// copy on the first start.
    pub fn resolve(args: &SiteArgs) -> anyhow::Result<Self> {
        let bundle = args.bundle.as_deref().map(SiteBundlePaths::new);
        let from_bundle = |flag: &Option<PathBuf>, pick: fn(&SiteBundlePaths) -> PathBuf, name: &str| {
            flag.clone()
                .or_else(|| bundle.as_ref().map(pick))
                .with_context(|| format!("no {name}: pass --bundle DIR (from `edgefleet sites add`) or --{name} FILE"))
        };
        let site = site_id(args, bundle.as_ref())?;
        let hub_leaf = match (&args.hub_leaf, &bundle) {
            (Some(url), _) => url.clone(),
            (None, Some(bundle)) => read_trimmed(&bundle.dir().join(HUB_LEAF_URL_FILE))?,
            (None, None) => anyhow::bail!("no hub: pass --hub-leaf nats-leaf://HOST:PORT or --bundle DIR"),
        };
        let leaf = LeafRemote {
            url: hub_leaf,
            credentials: Some(existing(from_bundle(
                &args.leaf_creds,
                SiteBundlePaths::leaf_creds,
                "leaf-creds",
            )?)?),
            local_account: Some(LOCAL_ACCOUNT.to_owned()),
            ca: Some(existing(from_bundle(&args.hub_ca, SiteBundlePaths::hub_ca, "hub-ca")?)?),
        };
        let tls = TlsFiles {
            cert: existing(from_bundle(&args.tls.tls_cert, SiteBundlePaths::site_cert, "tls-cert")?)?,
            key: existing(from_bundle(&args.tls.tls_key, SiteBundlePaths::site_key, "tls-key")?)?,
            ca: existing(from_bundle(&args.tls.tls_ca, SiteBundlePaths::site_ca, "tls-ca")?)?,
        };
        std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
        let process_key =
            UserKey::read_or_create_seed_file(&args.data_dir.join("site.nk")).context("the site process's key")?;
        let (join_token_path, join_token) = match &args.join_token {
            Some(baked) => (baked.clone(), baked_join_token(baked)?),
            None => {
                let path = args.data_dir.join("join.token");
                let token = join_token(&path)?;
                (path, token)
            }
        };
        let agent_ca = args.data_dir.join("ca.pem");
        std::fs::copy(&tls.ca, &agent_ca)
            .with_context(|| format!("copying {} to {}", tls.ca.display(), agent_ca.display()))?;
        let local_readers = match bundle.as_ref().map(SiteBundlePaths::local_reader_public_key) {
            Some(path) if path.exists() => vec![read_trimmed(&path)?],
            _ => Vec::new(),
        };
        Ok(Self {
            site,
            leaf,
            tls,
            process_key,
            join_token,
            join_token_path,
            agent_ca,
            local_readers,
        })
    }
}

/// The site id: `--site-id`, or the bundle's; both given, they must agree.
fn site_id(args: &SiteArgs, bundle: Option<&SiteBundlePaths>) -> anyhow::Result<Token> {
    let from_bundle = bundle
        .map(|b| read_trimmed(&b.site()).and_then(|id| Token::new(id).context("the bundle's site id")))
        .transpose()?;
    let given = args
        .site_id
        .clone()
        .map(|id| Token::new(id).context("--site-id"))
        .transpose()?;
    let site = match (given, from_bundle) {
        (Some(given), Some(bundled)) if given != bundled => {
            anyhow::bail!("--site-id {given} but the bundle is site {bundled}'s")
        }
        (Some(site), _) | (None, Some(site)) => site,
        (None, None) => anyhow::bail!("no site id: pass --site-id ID or --bundle DIR"),
    };
    anyhow::ensure!(
        !crate::site_beacon::RESERVED_SITE_IDS.contains(&site.as_str()),
        "site id {site} is reserved"
    );
    Ok(site)
}

/// A join token given to the site (a site image's): it must exist and hold a token.
fn baked_join_token(path: &Path) -> anyhow::Result<String> {
    let token = read_trimmed(path).with_context(|| format!("the join token {}", path.display()))?;
    anyhow::ensure!(token.len() >= 16, "{} holds no join token (too short)", path.display());
    Ok(token)
}

/// The join token kept at `path`, made (owner-only) on the first start. Replacing or deleting the file and
/// restarting the site revokes the old token; nodes that joined keep their own identities.
fn join_token(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        let token = read_trimmed(path)?;
        anyhow::ensure!(!token.is_empty(), "{} is empty", path.display());
        return Ok(token);
    }
    let token = fleet_trust::new_join_token()?;
    crate::owner_only_file::create_owner_only(path, &format!("{token}\n"))?;
    Ok(token)
}

fn read_trimmed(path: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim()
        .to_owned())
}

fn existing(path: PathBuf) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(path.exists(), "{} does not exist", path.display());
    Ok(path)
}
