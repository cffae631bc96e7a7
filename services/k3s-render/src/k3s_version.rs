//! The shape of a k3s release version (`v1.31.4+k3s1`, `v1.32.0-rc1+k3s1`), as profiles name it and as
//! `k3s --version` prints it. Shape only: which versions exist is k3s' business.

/// Whether `s` is `v<major>.<minor>.<patch>[-<pre-release>]+k3s<n>`.
pub fn is_k3s_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let Some((kubernetes, k3s_build)) = rest.split_once("+k3s") else {
        return false;
    };
    let (release, pre_release) = match kubernetes.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (kubernetes, None),
    };
    let numbers: Vec<&str> = release.split('.').collect();
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    numbers.len() == 3
        && numbers.iter().all(|part| digits(part))
        && pre_release.is_none_or(|pre| !pre.is_empty() && pre.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
        && digits(k3s_build)
}

#[cfg(test)]
mod tests {
    use super::is_k3s_version;

    #[test]
    fn k3s_versions() {
        for good in ["v1.31.4+k3s1", "v1.32.0-rc1+k3s1", "v1.30.10+k3s12"] {
            assert!(is_k3s_version(good), "{good}");
        }
        for bad in [
            "",
            "1.31.4+k3s1",
            "v1.31.4",
            "v1.31+k3s1",
            "v1.31.4+k3s",
            "v1.31.4+rke2r1",
            "v1.31.4+k3s1 ",
        ] {
            assert!(!is_k3s_version(bad), "{bad}");
        }
    }
}
