//! The join token of one Kubernetes cluster of a site (k3s' `token`): every member of the cluster must present the
//! same one, and no other cluster's. Derived like the route CA (SHA-256 over a fixed label, the site id, the cluster
//! id and the site's join token), so every machine of the site computes it from its site image without the hub and
//! without it ever crossing the network. Whoever holds the join token could already join the site.

use events::Token;
use sha2::{Digest, Sha256};

/// The cluster token of `cluster` at `site` whose machines share `join_token`: 64 hex digits.
pub fn cluster_token(site: &Token, cluster: &Token, join_token: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"edgefleet kubernetes cluster token\0");
    hash.update(site.as_str().as_bytes());
    hash.update(b"\0");
    hash.update(cluster.as_str().as_bytes());
    hash.update(b"\0");
    hash.update(join_token.trim().as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Token {
        Token::new(s).expect("token")
    }

    #[test]
    fn every_machine_of_a_site_derives_the_same_token_and_another_cluster_or_site_another() {
        let a = cluster_token(&t("store-1"), &t("main"), "secret\n");
        assert_eq!(a, cluster_token(&t("store-1"), &t("main"), "secret"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, cluster_token(&t("store-1"), &t("edge"), "secret"));
        assert_ne!(a, cluster_token(&t("store-2"), &t("main"), "secret"));
        assert_ne!(a, cluster_token(&t("store-1"), &t("main"), "other"));
    }
}
