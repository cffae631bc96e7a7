//! The trust changes a hub cluster shares. Every hub holds the same trust root (copied once, `--trust-from`), but
//! sites and users are added and revoked through the API, which any hub may answer. What such a change writes —
//! account seeds and JWTs, site records and the hub's credentials in each site account, user records — is kept in
//! the JetStream key-value bucket `ef-trust` (in the TRUST account, reachable only with the hubs' own
//! `trust/trust.creds`, replicated like the intents), one key per file, and every hub writes what the bucket holds
//! into its own trust directory and tells its site directory.
//!
//! Changes are made one at a time across the cluster: a hub takes the bucket's writer lease, waits until it has
//! written everything the bucket already holds, changes its trust directory, puts what changed, and lets the lease
//! go. Two hubs revoking users of one account at once therefore never lose one of the revocations.

use anyhow::Context;
use async_nats::jetstream::kv::{self, Operation};
use futures::StreamExt;
use replay::lease::Lease;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The bucket holding the shared trust files.
pub const TRUST_BUCKET: &str = "ef-trust";
/// The bucket holding the writer lease.
const LOCK_BUCKET: &str = "ef-trust-lock";
/// How long a writer may hold the lease without renewing it (a hub that dies mid-change frees it after this).
const LOCK_TTL: Duration = Duration::from_secs(10);
/// How long a change waits for the lease or for the bucket to be written out.
const WAIT: Duration = Duration::from_secs(20);

/// The folders of `trust/` that API requests change (the rest is written once, when the trust root is made).
const CHANGING: [&str; 3] = ["accounts", "sites", "users"];

/// True if `relative` (a path under `trust/`) is shared through the bucket.
pub fn replicated(relative: &Path) -> bool {
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    match (parts.next(), relative.file_name()) {
        (Some(first), Some(name)) => {
            CHANGING.contains(&first.as_str())
                && !name.to_string_lossy().contains(".tmp-")
                && key_of(relative).is_some()
        }
        _ => false,
    }
}

/// The bucket key of the file at `relative`: its path with `/` (KV keys allow `[-/_=.a-zA-Z0-9]`).
pub fn key_of(relative: &Path) -> Option<String> {
    let key = relative.to_str()?.to_owned();
    let valid = |c: char| c.is_ascii_alphanumeric() || "-/_=.".contains(c);
    (!key.is_empty() && !key.starts_with('.') && key.chars().all(valid)).then_some(key)
}

/// The path under `trust/` a bucket key names, if it is one this module writes (never outside `trust/`).
pub fn relative_of(key: &str) -> Option<PathBuf> {
    let path = PathBuf::from(key);
    let plain = path.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    (plain && replicated(&path)).then_some(path)
}

/// This hub's side of the shared trust.
pub struct TrustReplica {
    js: async_nats::jetstream::Context,
    kv: kv::Store,
    lock: Lease,
    trust_dir: PathBuf,
    /// Key → bytes, as the bucket holds them (as far as this hub has read).
    known: RefCell<BTreeMap<String, Vec<u8>>>,
    /// The bucket revision read up to.
    read_up_to: Cell<u64>,
    /// One change at a time on this hub too (the lease is held in the hub's name, so it cannot tell two of its own
    /// requests apart).
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Signalled when a file from another hub was written into the trust directory.
    pub changed: Arc<Notify>,
}

/// A change in progress: holds the writer lease (and this hub's turn) until [`TrustReplica::finish`].
pub struct TrustChange {
    started: Instant,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl TrustReplica {
    /// Opens (creating if missing) the bucket with `replicas` copies, for the trust directory `trust_dir`, as hub
    /// `me`; writes what the bucket holds into the directory and puts what only the directory holds.
    pub async fn open(
        js: &async_nats::jetstream::Context,
        trust_dir: &Path,
        replicas: usize,
        me: &str,
    ) -> anyhow::Result<Rc<Self>> {
        let kv = match js.get_key_value(TRUST_BUCKET).await {
            Ok(kv) => kv,
            Err(_) => js
                .create_key_value(kv::Config {
                    bucket: TRUST_BUCKET.to_string(),
                    description: "edgefleet: trust files shared by the hubs of a cluster".into(),
                    history: 1,
                    num_replicas: replicas,
                    storage: async_nats::jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .context("creating the shared trust bucket")?,
        };
        let lock = Lease::open(js, LOCK_BUCKET, replicas, "writer", me, LOCK_TTL)
            .await
            .context("the shared trust's writer lease")?;
        let replica = Rc::new(Self {
            js: js.clone(),
            kv,
            lock,
            trust_dir: trust_dir.to_path_buf(),
            known: RefCell::default(),
            read_up_to: Cell::new(0),
            turn: Arc::default(),
            changed: Arc::new(Notify::new()),
        });
        replica.catch_up().await?;
        let change = replica.begin().await?;
        replica.finish(change).await?;
        Ok(replica)
    }

    /// Starts a change: takes the writer lease and writes out everything the bucket holds.
    pub async fn begin(&self) -> anyhow::Result<TrustChange> {
        let started = Instant::now();
        let turn = self.turn.clone().lock_owned().await;
        loop {
            let now = actors::process_clock::system_wall_ms();
            match self.lock.try_hold(now).await {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() < WAIT => {}
                Ok(None) => anyhow::bail!("another hub is changing the fleet's trust; try again"),
                Err(e) if started.elapsed() < WAIT => tracing::debug!(error = %e, "trust writer lease"),
                Err(e) => return Err(e).context("the shared trust's writer lease"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.catch_up().await?;
        Ok(TrustChange { started, _turn: turn })
    }

    /// Ends a change: puts every file of the trust directory that differs from the bucket, and frees the lease.
    pub async fn finish(&self, change: TrustChange) -> anyhow::Result<()> {
        let result = self.put_local_changes().await;
        if let Err(e) = self.lock.release().await {
            tracing::warn!(error = %e, "the trust writer lease was not freed; it runs out by itself");
        }
        tracing::debug!(elapsed = ?change.started.elapsed(), "trust change shared");
        result
    }

    /// Writes into the trust directory everything the bucket holds beyond what was read, until its last revision.
    pub async fn catch_up(&self) -> anyhow::Result<()> {
        // Asked afresh (`kv::Store::status` answers what the handle cached when it was opened).
        let last = self
            .js
            .get_stream(format!("KV_{TRUST_BUCKET}"))
            .await
            .context("the shared trust bucket")?
            .get_info()
            .await
            .context("the shared trust bucket")?
            .state
            .last_sequence;
        if self.read_up_to.get() >= last {
            return Ok(());
        }
        let mut entries = self
            .kv
            .watch_all_from_revision(self.read_up_to.get() + 1)
            .await
            .context("reading the shared trust bucket")?;
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.read_up_to.get() < last {
            let entry = tokio::time::timeout_at(deadline, entries.next())
                .await
                .context("reading the shared trust bucket: timed out")?;
            match entry {
                Some(Ok(entry)) => {
                    self.apply(entry)?;
                }
                Some(Err(e)) => return Err(e).context("reading the shared trust bucket"),
                None => anyhow::bail!("reading the shared trust bucket: the watch ended"),
            }
        }
        Ok(())
    }

    /// Follows the bucket until aborted: writes what other hubs changed and signals [`Self::changed`].
    pub async fn follow(self: Rc<Self>) {
        loop {
            let watch = self.kv.watch_all_from_revision(self.read_up_to.get() + 1).await;
            match watch {
                Ok(mut entries) => {
                    while let Some(entry) = entries.next().await {
                        let written = entry.map_err(anyhow::Error::from).and_then(|entry| self.apply(entry));
                        match written {
                            Ok(true) => self.changed.notify_one(),
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "shared trust: following again");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "shared trust: cannot watch the bucket"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Records one bucket entry and writes its file if it differs; true if a file changed.
    fn apply(&self, entry: kv::Entry) -> anyhow::Result<bool> {
        if entry.revision <= self.read_up_to.get() {
            return Ok(false);
        }
        self.read_up_to.set(entry.revision);
        if entry.operation != Operation::Put {
            return Ok(false); // files are never deleted through the bucket
        }
        let Some(relative) = relative_of(&entry.key) else {
            tracing::warn!(key = %crate::api_types::error::sanitize(&entry.key, 128), "shared trust: key ignored");
            return Ok(false);
        };
        self.known.borrow_mut().insert(entry.key.clone(), entry.value.to_vec());
        let path = self.trust_dir.join(&relative);
        if std::fs::read(&path).is_ok_and(|bytes| bytes == entry.value) {
            return Ok(false);
        }
        write_owner_only(&path, &entry.value)?;
        tracing::info!(file = %relative.display(), "shared trust: written from the cluster");
        Ok(true)
    }

    /// Puts every replicated file whose bytes the bucket does not hold yet.
    async fn put_local_changes(&self) -> anyhow::Result<()> {
        for (key, bytes) in local_files(&self.trust_dir)? {
            if self.known.borrow().get(&key) == Some(&bytes) {
                continue;
            }
            let revision = self
                .kv
                .put(&key, bytes.clone().into())
                .await
                .with_context(|| format!("sharing trust file {key}"))?;
            self.known.borrow_mut().insert(key, bytes);
            // Our own write comes back through the watch; it changes nothing then.
            tracing::debug!(revision, "shared trust: put");
        }
        Ok(())
    }
}

/// Every replicated file under `trust_dir`, by key.
fn local_files(trust_dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = CHANGING.iter().map(PathBuf::from).collect();
    while let Some(relative) = pending.pop() {
        let dir = trust_dir.join(&relative);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let child = relative.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                pending.push(child);
            } else if let (true, Some(key)) = (replicated(&child), key_of(&child)) {
                let bytes = std::fs::read(entry.path()).with_context(|| format!("reading {}", child.display()))?;
                files.push((key, bytes));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes `bytes` to `path` through a temp file and a rename, owner-only.
fn write_owner_only(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let parent = path.parent().context("a trust file without a folder")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let temp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .with_context(|| format!("writing {}", temp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_requests_change_is_shared_and_nothing_else() {
        assert!(replicated(Path::new("accounts/SITE_s1.jwt")));
        assert!(replicated(Path::new("sites/s1/hub.creds")));
        assert!(replicated(Path::new("users/vera.json")));
        assert!(!replicated(Path::new("operator.nk")));
        assert!(!replicated(Path::new("resolver/ABC.jwt")));
        assert!(!replicated(Path::new("tls/ca-key.pem")));
        assert!(!replicated(Path::new("sites/s1.json.tmp-42")));
    }

    #[test]
    fn a_key_never_names_a_file_outside_the_shared_folders() {
        assert_eq!(relative_of("sites/s1.json"), Some(PathBuf::from("sites/s1.json")));
        assert_eq!(relative_of("sites/../operator.nk"), None);
        assert_eq!(relative_of("/etc/passwd"), None);
        assert_eq!(relative_of("operator.nk"), None);
        assert_eq!(key_of(Path::new("users/a b.json")), None);
    }

    /// Two hubs' trust directories sharing one bucket on a real nats-server.
    async fn two_hubs() -> (
        testkit::NatsServer,
        tempfile::TempDir,
        Rc<TrustReplica>,
        Rc<TrustReplica>,
    ) {
        let server = testkit::NatsServer::hub().await.expect("nats-server");
        let js = async_nats::jetstream::new(server.connect().await.expect("connect"));
        let dir = tempfile::tempdir().unwrap();
        let a = TrustReplica::open(&js, &dir.path().join("a"), 1, "hub-a")
            .await
            .expect("a");
        let b = TrustReplica::open(&js, &dir.path().join("b"), 1, "hub-b")
            .await
            .expect("b");
        (server, dir, a, b)
    }

    #[actix_rt::test]
    async fn a_change_made_on_one_hub_is_written_into_the_others_trust_directory() {
        let (_server, dir, a, b) = two_hubs().await;
        actix_rt::spawn(b.clone().follow());

        // When hub-a adds a site
        let change = a.begin().await.expect("begin");
        write_owner_only(&dir.path().join("a/sites/s1.json"), b"{\"site\":\"s1\"}").unwrap();
        a.finish(change).await.expect("finish");

        // Then hub-b holds the same file, owner-only, and was told
        let copied = dir.path().join("b/sites/s1.json");
        tokio::time::timeout(Duration::from_secs(10), b.changed.notified())
            .await
            .expect("hub-b told of the change");
        assert_eq!(std::fs::read(&copied).unwrap(), b"{\"site\":\"s1\"}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[actix_rt::test]
    async fn a_change_waits_for_the_other_hubs_change_and_starts_from_it() {
        let (_server, dir, a, b) = two_hubs().await;
        let account = |hub: &str| dir.path().join(hub).join("accounts/OPS.jwt");

        // Given hub-a is in the middle of revoking a user of OPS
        let change_a = a.begin().await.expect("a begins");
        write_owner_only(&account("a"), b"revoked: vera").unwrap();
        // When hub-b starts a change of its own meanwhile, it waits for hub-a's
        let b_begins = {
            let b = b.clone();
            actix_rt::spawn(async move { b.begin().await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!b_begins.is_finished(), "hub-b waited for hub-a's change");
        a.finish(change_a).await.expect("a finishes");

        // Then hub-b's change starts from hub-a's file, so its own revocation keeps hub-a's
        let change_b = b_begins.await.expect("task").expect("b begins");
        let seen = std::fs::read_to_string(account("b")).expect("hub-a's change written at hub-b");
        write_owner_only(&account("b"), format!("{seen}, revoked: omar").as_bytes()).unwrap();
        b.finish(change_b).await.expect("b finishes");
        a.catch_up().await.expect("a reads on");
        assert_eq!(
            std::fs::read_to_string(account("a")).unwrap(),
            "revoked: vera, revoked: omar"
        );
    }

    #[test]
    fn local_files_are_the_shared_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in [
            ("operator.nk", "x"),
            ("sites/s1.json", "{}"),
            ("sites/s1/hub.creds", "c"),
        ] {
            write_owner_only(&dir.path().join(file), text.as_bytes()).unwrap();
        }

        let keys: Vec<String> = local_files(dir.path()).unwrap().into_iter().map(|(k, _)| k).collect();

        assert_eq!(keys, ["sites/s1.json", "sites/s1/hub.creds"]);
    }
}
