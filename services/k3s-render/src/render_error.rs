//! Why a node or its profile cannot be rendered for k3s: one variant per thing the operator fixes. Every piece
//! of operator input an error quotes is bounded ([`preview`]), so a huge or hostile value cannot flood a log.

/// Why [`crate::render()`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The profile's Kubernetes layer is another distribution.
    #[error("the profile's Kubernetes distribution is {distro}, not k3s: this node can only run k3s")]
    NotK3s {
        /// The distribution named (bounded preview).
        distro: String,
    },
    /// The profile's k3s version is not shaped like one.
    #[error("the profile's k3s version {version} is not like v1.31.4+k3s1")]
    BadK3sVersion {
        /// The version named (bounded preview).
        version: String,
    },
    /// The cluster id cannot be a node label value.
    #[error("cluster id {cluster} cannot label a node: {reason}")]
    BadClusterId {
        /// The id (bounded preview).
        cluster: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// The node id cannot be a k3s node name.
    #[error("node id {node} cannot be a k3s node name (a DNS-1123 subdomain of at most 63 characters): {reason}")]
    BadNodeName {
        /// The id (bounded preview).
        node: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// No token file was given.
    #[error("no token file: k3s needs the path of the file holding the cluster's join token")]
    NoTokenFile,
    /// The token file path is relative, not UTF-8, or holds a line break.
    #[error("token file {path} must be an absolute path in UTF-8 on one line")]
    BadTokenFile {
        /// The path (bounded preview).
        path: String,
    },
    /// A joining server or agent has no server URL.
    #[error("node {node} joins a cluster but has no server URL: give https://IP:6443 of a running server")]
    NoServerUrl {
        /// The node.
        node: String,
    },
    /// The server URL is not `https://HOST[:PORT]`.
    #[error("server URL {url} is not usable: {reason}")]
    BadServerUrl {
        /// The URL (bounded preview).
        url: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// An agent was given an advertise address, which only an API server has.
    #[error("node {node} is an agent: only servers advertise an API server address")]
    AdvertiseOnAgent {
        /// The node.
        node: String,
    },
    /// A node label key or value breaks Kubernetes' label rules.
    #[error("node label {key} is not a valid Kubernetes label: {reason}")]
    BadNodeLabel {
        /// The key (bounded preview).
        key: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A node label the kubelet may not set on itself (NodeRestriction), or one edgefleet sets.
    #[error("node label {key} cannot be set by the node: {reason}")]
    ForbiddenNodeLabel {
        /// The key (bounded preview).
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// A release name is not a DNS-1123 label of at most 53 characters, or is taken by k3s.
    #[error("release name {release} is not usable: {reason}")]
    BadReleaseName {
        /// The name (bounded preview).
        release: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Two releases share a name, so they would share one HelmChart.
    #[error("release {release} appears twice in the profile: release names must be unique")]
    DuplicateRelease {
        /// The name.
        release: String,
    },
    /// A chart reference cannot be resolved into `chart`/`repo`.
    #[error("release {release}: chart reference {chart} is not usable: {reason}")]
    BadChartRef {
        /// The release.
        release: String,
        /// The reference (bounded preview).
        chart: String,
        /// Why.
        reason: String,
    },
    /// A release has no chart version, so what it installs would change under it.
    #[error("release {release} has no chart version: pin one so every node installs the same chart")]
    NoChartVersion {
        /// The release.
        release: String,
    },
    /// A chart version holds whitespace or control characters.
    #[error("release {release}: chart version {version} holds whitespace or control characters")]
    BadChartVersion {
        /// The release.
        release: String,
        /// The version (bounded preview).
        version: String,
    },
    /// A release's values are not a YAML mapping.
    #[error("release {release}: values must be a YAML mapping of keys to values: {reason}")]
    BadValues {
        /// The release.
        release: String,
        /// What the YAML parser said, or what the document is instead.
        reason: String,
    },
    /// The CNI is flannel (k3s' own) but carries values k3s' built-in flannel would ignore.
    #[error("release {release} is flannel, which k3s runs itself: its values would be ignored; set flannel options on the k3s servers instead or leave the values empty")]
    FlannelValues {
        /// The release.
        release: String,
    },
}

/// At most 64 characters of `s`, quoted and escaped, with `…` when cut.
pub fn preview(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    let cut: String = s.chars().take(MAX_CHARS).collect();
    if cut.len() < s.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}
