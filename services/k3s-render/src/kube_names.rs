//! Kubernetes' naming rules for what this crate puts in front of k3s: release names (DNS-1123 labels), node
//! names (DNS-1123 subdomains), node label keys and values, and which label keys a kubelet may set on itself.
//! Pure checks; each returns why a name is refused, for the caller's typed error.

/// Longest Helm release name: Helm 3 refuses longer ones (it appends suffixes to generated object names), which
/// is stricter than a DNS-1123 label's 63.
pub const RELEASE_NAME_MAX_LEN: usize = 53;

/// Longest label value, and longest name part of a label key.
pub const LABEL_MAX_LEN: usize = 63;

/// Longest DNS-1123 subdomain (a node name, a label key's prefix).
pub const SUBDOMAIN_MAX_LEN: usize = 253;

/// Checks a DNS-1123 label of at most `max_len` characters: lowercase letters, digits and `-`, starting and
/// ending with a letter or digit.
pub fn check_dns_label(s: &str, max_len: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > max_len {
        return Err(format!("it is longer than {max_len} characters"));
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    if !s.bytes().all(allowed) {
        return Err("it may only hold a-z, 0-9 and '-'".into());
    }
    if !alnum_at_ends(s) {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Checks a DNS-1123 subdomain of at most `max_len` characters: dot-separated lowercase labels.
pub fn check_dns_subdomain(s: &str, max_len: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > max_len {
        return Err(format!("it is longer than {max_len} characters"));
    }
    s.split('.').try_for_each(|part| {
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        if part.is_empty() || !part.bytes().all(allowed) || !alnum_at_ends(part) {
            Err(
                "it must be dot-separated parts of a-z, 0-9 and '-', each starting and ending with a letter or \
                 digit"
                    .to_string(),
            )
        } else {
            Ok(())
        }
    })
}

/// Checks a label value: empty, or at most 63 of `A-Z a-z 0-9 - _ .` starting and ending with a letter or digit.
pub fn check_label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    check_label_name(s).map_err(|reason| format!("the value: {reason}"))
}

/// Checks a label key: an optional DNS-1123 subdomain prefix and `/`, then a name like a label value (not empty).
pub fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_dns_subdomain(prefix, SUBDOMAIN_MAX_LEN).map_err(|reason| format!("the prefix: {reason}"))?;
    }
    if name.is_empty() {
        return Err("the name after the prefix is empty".into());
    }
    check_label_name(name).map_err(|reason| format!("the name: {reason}"))
}

/// Whether a kubelet may put `key` on its own node: NodeRestriction (on in k3s) refuses keys under
/// `kubernetes.io` and `k8s.io` except a few, and a kubelet asked for one of those does not start.
pub fn kubelet_may_set(key: &str) -> bool {
    const ALLOWED_KEYS: &[&str] = &[
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "node.kubernetes.io/instance-type",
    ];
    const ALLOWED_NAMESPACES: &[&str] = &["kubelet.kubernetes.io", "node.kubernetes.io"];
    let Some((prefix, _)) = key.split_once('/') else {
        return true;
    };
    let in_namespace = |namespace: &str| prefix == namespace || prefix.ends_with(&format!(".{namespace}"));
    if !in_namespace("kubernetes.io") && !in_namespace("k8s.io") {
        return true;
    }
    ALLOWED_KEYS.contains(&key) || ALLOWED_NAMESPACES.iter().any(|namespace| in_namespace(namespace))
}

/// A label value or a key's name part: 1–63 of `A-Z a-z 0-9 - _ .`, a letter or digit at both ends.
fn check_label_name(s: &str) -> Result<(), String> {
    if s.len() > LABEL_MAX_LEN {
        return Err(format!("it is longer than {LABEL_MAX_LEN} characters"));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if !s.bytes().all(allowed) {
        return Err("it may only hold A-Z, a-z, 0-9, '-', '_' and '.'".into());
    }
    let ends_ok = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if !ends_ok {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

fn alnum_at_ends(s: &str) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    s.bytes().next().is_some_and(ok) && s.bytes().last().is_some_and(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(check_dns_label("cilium", RELEASE_NAME_MAX_LEN).is_ok());
        assert!(check_dns_label("a-1", RELEASE_NAME_MAX_LEN).is_ok());
        for bad in ["", "Cilium", "-a", "a-", "a_b", "a.b", &"a".repeat(54)] {
            assert!(check_dns_label(bad, RELEASE_NAME_MAX_LEN).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn subdomains() {
        assert!(check_dns_subdomain("n1.store-1", 63).is_ok());
        for bad in ["", "n1..a", ".n1", "n1_a", "N1"] {
            assert!(check_dns_subdomain(bad, 63).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn label_keys_and_values() {
        assert!(check_label_key("edgefleet.io/zone").is_ok());
        assert!(check_label_key("zone").is_ok());
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("Rack_4.b").is_ok());
        for bad in ["", "/zone", "Edgefleet.io/zone", "a/b/c", "zone=x", "a b"] {
            assert!(check_label_key(bad).is_err(), "{bad:?}");
        }
        for bad in ["-x", "x,y", "a\nb", &"v".repeat(64)] {
            assert!(check_label_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kubelet_label_namespaces() {
        assert!(kubelet_may_set("zone"));
        assert!(kubelet_may_set("edgefleet.io/zone"));
        assert!(kubelet_may_set("topology.kubernetes.io/zone"));
        assert!(kubelet_may_set("node.kubernetes.io/pool"));
        assert!(!kubelet_may_set("node-role.kubernetes.io/worker"));
        assert!(!kubelet_may_set("kubernetes.io/role"));
        assert!(!kubelet_may_set("example.k8s.io/x"));
    }
}
