//! A profile's chart reference, resolved into what k3s' helm-controller takes: `spec.chart` and `spec.repo`.
//!
//! | reference | `chart` | `repo` |
//! |---|---|---|
//! | `oci://registry/path/cilium` | the whole reference | — |
//! | `https://host/path/cilium-1.16.5.tgz` (an archive) | the whole reference | — |
//! | `https://host/path/cilium` | `cilium` | `https://host/path` |
//! | `cilium/cilium` (repository alias / chart) | `cilium` | the alias' URL from the node's `helm_repos` |
//!
//! A bare `alias/chart` only means something to a helm client that ran `helm repo add alias URL`; helm-controller
//! has no such list, so the alias is looked up in the table the caller passes, and an alias it does not hold is
//! refused rather than guessed. `http://` is taken like `https://` (a mirror inside a site may not have TLS).

use std::collections::BTreeMap;

/// Where helm-controller finds a chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartLocation {
    /// `spec.chart`: a chart name in `repo`, or a whole `oci://` reference or archive URL.
    pub chart: String,
    /// `spec.repo`: the repository URL, when `chart` is a name in it.
    pub repo: Option<String>,
    /// The chart's own name (last path part, without `.tgz` and a version suffix), to recognise e.g. flannel.
    pub name: String,
}

/// Why a chart reference cannot be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartRefError {
    /// The reference is not one of the forms in the module's table; the reason says which part is wrong.
    Malformed(&'static str),
    /// `alias/chart` names an alias the node's `helm_repos` does not hold.
    UnknownRepo(String),
    /// The alias' URL in `helm_repos` is not an `http(s)://` URL.
    BadRepoUrl(String),
}

/// Resolves `reference`; `helm_repos` maps repository aliases to URLs.
pub fn resolve_chart(reference: &str, helm_repos: &BTreeMap<String, String>) -> Result<ChartLocation, ChartRefError> {
    if reference.is_empty() {
        return Err(ChartRefError::Malformed("it is empty"));
    }
    if reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ChartRefError::Malformed("it holds whitespace or control characters"));
    }
    if let Some(path) = reference.strip_prefix("oci://") {
        let name = last_segment(path).ok_or(ChartRefError::Malformed("it names no chart after oci://HOST/"))?;
        return Ok(ChartLocation {
            chart: reference.to_string(),
            repo: None,
            name: name.to_string(),
        });
    }
    if let Some(scheme_end) = web_scheme_end(reference) {
        return resolve_url(reference, scheme_end);
    }
    if reference.contains("://") {
        return Err(ChartRefError::Malformed(
            "only oci://, https:// and http:// references are understood",
        ));
    }
    let Some((alias, chart)) = reference.split_once('/') else {
        return Err(ChartRefError::Malformed(
            "a bare chart name names no repository: use oci://…, https://REPO/CHART or ALIAS/CHART",
        ));
    };
    if alias.is_empty() || chart.is_empty() || chart.contains('/') {
        return Err(ChartRefError::Malformed("it must be ALIAS/CHART"));
    }
    let url = helm_repos
        .get(alias)
        .ok_or_else(|| ChartRefError::UnknownRepo(alias.to_string()))?;
    let repo = url.trim_end_matches('/');
    let repo_ok = web_scheme_end(repo).is_some_and(|end| repo.len() > end)
        && !repo.chars().any(|c| c.is_whitespace() || c.is_control());
    if !repo_ok {
        return Err(ChartRefError::BadRepoUrl(url.clone()));
    }
    Ok(ChartLocation {
        chart: chart.to_string(),
        repo: Some(repo.to_string()),
        name: chart.to_string(),
    })
}

/// `https://host/…/chart-1.2.3.tgz` goes whole into `chart`; `https://host/…/chart` splits at the last `/`.
fn resolve_url(reference: &str, scheme_end: usize) -> Result<ChartLocation, ChartRefError> {
    let after_scheme = &reference[scheme_end..];
    if after_scheme.contains(['?', '#']) {
        return Err(ChartRefError::Malformed("a chart URL may not have a query or fragment"));
    }
    let Some((host_and_path, last)) = after_scheme.rsplit_once('/') else {
        return Err(ChartRefError::Malformed(
            "it names a host but no chart: use https://REPO/CHART",
        ));
    };
    if host_and_path.is_empty() || last.is_empty() {
        return Err(ChartRefError::Malformed(
            "it names a host but no chart: use https://REPO/CHART",
        ));
    }
    if let Some(archive) = last.strip_suffix(".tgz") {
        return Ok(ChartLocation {
            chart: reference.to_string(),
            repo: None,
            name: without_version_suffix(archive).to_string(),
        });
    }
    Ok(ChartLocation {
        chart: last.to_string(),
        repo: Some(format!("{}{host_and_path}", &reference[..scheme_end])),
        name: last.to_string(),
    })
}

/// The length of `https://` or `http://` when `s` starts with one.
fn web_scheme_end(s: &str) -> Option<usize> {
    ["https://", "http://"]
        .iter()
        .find(|scheme| s.starts_with(**scheme))
        .map(|scheme| scheme.len())
}

/// The last non-empty `/`-separated part after a host: `registry/charts/cilium` → `cilium`.
fn last_segment(path: &str) -> Option<&str> {
    let (host, rest) = path.split_once('/')?;
    let last = rest.rsplit('/').next()?;
    (!host.is_empty() && !last.is_empty()).then_some(last)
}

/// `cilium-1.16.5` → `cilium`, `flannel-v0.26.1` → `flannel`: an archive's name carries its version.
fn without_version_suffix(archive: &str) -> &str {
    archive
        .char_indices()
        .filter(|&(_, c)| c == '-')
        .find(|&(i, _)| {
            let after = &archive[i + 1..];
            let after = after.strip_prefix('v').unwrap_or(after);
            after.starts_with(|c: char| c.is_ascii_digit())
        })
        .map_or(archive, |(i, _)| &archive[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repos() -> BTreeMap<String, String> {
        BTreeMap::from([("cilium".to_string(), "https://helm.cilium.io/".to_string())])
    }

    fn location(chart: &str, repo: Option<&str>, name: &str) -> ChartLocation {
        ChartLocation {
            chart: chart.into(),
            repo: repo.map(str::to_string),
            name: name.into(),
        }
    }

    #[test]
    fn references_resolve_as_the_table_says() {
        let cases = [
            (
                "oci://registry.example/charts/cilium",
                location("oci://registry.example/charts/cilium", None, "cilium"),
            ),
            ("oci://charts/pos", location("oci://charts/pos", None, "pos")),
            (
                "https://charts.example/stable/flannel-v0.26.1.tgz",
                location("https://charts.example/stable/flannel-v0.26.1.tgz", None, "flannel"),
            ),
            (
                "https://charts.example/stable/longhorn",
                location("longhorn", Some("https://charts.example/stable"), "longhorn"),
            ),
            (
                "http://mirror.lan/pos",
                location("pos", Some("http://mirror.lan"), "pos"),
            ),
            (
                "cilium/cilium",
                location("cilium", Some("https://helm.cilium.io"), "cilium"),
            ),
        ];
        for (reference, want) in cases {
            assert_eq!(resolve_chart(reference, &repos()), Ok(want), "{reference}");
        }
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "",
            "cilium",
            "oci://",
            "oci://registry/",
            "https://charts.example",
            "https://charts.example/",
            "https://charts.example/a?x=1",
            "file:///charts/cilium",
            "a/b/c",
            "/cilium",
            "cilium/ cilium",
        ] {
            assert!(
                matches!(resolve_chart(bad, &repos()), Err(ChartRefError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            resolve_chart("bitnami/nginx", &repos()),
            Err(ChartRefError::UnknownRepo("bitnami".into()))
        );
        let ftp = BTreeMap::from([("x".to_string(), "ftp://x".to_string())]);
        assert_eq!(
            resolve_chart("x/y", &ftp),
            Err(ChartRefError::BadRepoUrl("ftp://x".into()))
        );
    }

    #[test]
    fn archive_names_lose_their_version() {
        assert_eq!(without_version_suffix("cilium-1.16.5"), "cilium");
        assert_eq!(without_version_suffix("kube-vip-v0.8.0"), "kube-vip");
        assert_eq!(without_version_suffix("fluent-bit"), "fluent-bit");
    }
}
