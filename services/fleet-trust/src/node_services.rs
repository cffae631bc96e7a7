//! The services a site's [`SITE_ACCOUNT`](crate::SITE_ACCOUNT) lends to its
//! [`NODES_ACCOUNT`](crate::NODES_ACCOUNT): the only subjects by which a node or the join user reaches the account
//! that holds the site's streams and the site process. Rendered as entries of the one's `exports` and the other's
//! `imports`, in nats-server's config syntax.
//!
//! | service | answered by | for |
//! |---|---|---|
//! | `ef.agent.<x>.>` | the site process | joins, registrations, heartbeats |
//! | `$JS.API.INFO` | JetStream (for `SITE`) | learning the site id (the JetStream domain) |
//! | `$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*` | the image bucket | an image's info |
//! | `$JS.API.DIRECT.GET.OBJ_ef-images` | the image bucket | an image's chunks |
//! | `$JS.API.STREAM.INFO.KV_ef-config` | the config bucket | binding to it |
//! | `$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>` | the config bucket | one key's value |
//!
//! A request crossing a service import gets a reply subject of the server's own (`_R_.…`) in `SITE`, and its answer
//! is delivered under the requester's reply subject in `NODES` only. Whatever reply subject a node names, no answer
//! lands in `SITE`, where the site's streams listen.
//!
//! Must never export a subject a stream of `SITE` listens on, nor any other JetStream request. Which user may use
//! which service is decided by the users' permissions in `NODES` ([`crate::node_permissions`]); the exports bound
//! the whole account, so even a user of `NODES` without any permission rules reaches nothing else
//! (`tests/site_server_auth.rs`: `even_an_unrestricted_user_of_nodes_…`).
//!
//! Pure: renders text.

use events::Token;

use crate::conf_string::quoted;
use crate::node_permissions::{config_read_subjects, image_read_subjects, JETSTREAM_ACCOUNT_INFO};
use crate::site_server_auth::{NODES_ACCOUNT, SITE_ACCOUNT};

/// Every subject `SITE` of `site` exports to `NODES` as a service (see the module docs' table).
pub fn node_services(site: &Token) -> Vec<String> {
    let mut services = vec![agent_requests(site), JETSTREAM_ACCOUNT_INFO.to_owned()];
    services.extend(image_read_subjects());
    services.extend(config_read_subjects());
    services
}

/// The requests of every agent of `site` to the site process (`ef.agent.<x>.>`): the join and each node's own.
fn agent_requests(site: &Token) -> String {
    format!("ef.agent.{site}.>")
}

/// `SITE`'s exports: each service of [`node_services`], to `NODES` only.
pub(crate) fn service_exports(site: &Token) -> Vec<String> {
    node_services(site)
        .iter()
        .map(|subject| {
            format!(
                "{{ service: {}, accounts: [{}] }}",
                quoted(subject),
                quoted(NODES_ACCOUNT)
            )
        })
        .collect()
}

/// `NODES`' imports: each service of [`node_services`], from `SITE`, under the same subject.
pub(crate) fn service_imports(site: &Token) -> Vec<String> {
    node_services(site)
        .iter()
        .map(|subject| {
            format!(
                "{{ service: {{ account: {}, subject: {} }} }}",
                quoted(SITE_ACCOUNT),
                quoted(subject)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_permissions::{join_permissions, node_permissions};

    fn token(text: &str) -> Token {
        Token::new(text).unwrap()
    }

    /// True if every subject `pattern` matches is also matched by `covering` (`*` one token, `>` the rest).
    fn covers(covering: &str, pattern: &str) -> bool {
        let mut tokens = pattern.split('.');
        for wanted in covering.split('.') {
            match (wanted, tokens.next()) {
                (">", Some(_)) => return true,
                ("*", Some(token)) if token != ">" => {}
                (literal, Some(token)) if literal == token => {}
                _ => return false,
            }
        }
        tokens.next().is_none()
    }

    #[test]
    fn the_services_are_the_agent_requests_account_info_the_image_direct_gets_and_the_config_reads() {
        assert_eq!(
            node_services(&token("s1")),
            [
                "ef.agent.s1.>",
                "$JS.API.INFO",
                "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*",
                "$JS.API.DIRECT.GET.OBJ_ef-images",
                "$JS.API.STREAM.INFO.KV_ef-config",
                "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>",
            ]
        );
    }

    #[test]
    fn everything_a_node_or_the_join_user_may_publish_is_a_service() {
        let site = token("s1");
        let services = node_services(&site);
        let mut allowed = join_permissions(&site).publish.allow;
        allowed.extend(node_permissions(&site, &token("n1")).publish.allow);
        allowed.extend(node_permissions(&site, &token("join")).publish.allow);

        for subject in &allowed {
            assert!(
                services.iter().any(|service| covers(service, subject)),
                "{subject} is not imported"
            );
        }
    }

    #[test]
    fn every_service_is_an_agent_request_or_a_jetstream_read_never_the_site_stream() {
        for service in node_services(&token("s1")) {
            let agent_request = service.starts_with("ef.agent.s1.");
            let jetstream_read = service == "$JS.API.INFO"
                || service.starts_with("$JS.API.DIRECT.GET.OBJ_ef-images")
                || service == "$JS.API.STREAM.INFO.KV_ef-config"
                || service.starts_with("$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.");
            assert!(agent_request || jetstream_read, "{service}");
            assert!(!covers(&service, "ef.site.s1.node.n1"), "{service}");
        }
    }

    #[test]
    fn exports_go_to_nodes_only_and_imports_come_from_site_under_the_same_subject() {
        let site = token("s1");

        let exports = service_exports(&site);
        let imports = service_imports(&site);

        assert_eq!(
            exports,
            [
                r#"{ service: "ef.agent.s1.>", accounts: ["NODES"] }"#,
                r#"{ service: "$JS.API.INFO", accounts: ["NODES"] }"#,
                r#"{ service: "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*", accounts: ["NODES"] }"#,
                r#"{ service: "$JS.API.DIRECT.GET.OBJ_ef-images", accounts: ["NODES"] }"#,
                r#"{ service: "$JS.API.STREAM.INFO.KV_ef-config", accounts: ["NODES"] }"#,
                r#"{ service: "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>", accounts: ["NODES"] }"#,
            ]
        );
        assert_eq!(
            imports,
            [
                r#"{ service: { account: "SITE", subject: "ef.agent.s1.>" } }"#,
                r#"{ service: { account: "SITE", subject: "$JS.API.INFO" } }"#,
                r#"{ service: { account: "SITE", subject: "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*" } }"#,
                r#"{ service: { account: "SITE", subject: "$JS.API.DIRECT.GET.OBJ_ef-images" } }"#,
                r#"{ service: { account: "SITE", subject: "$JS.API.STREAM.INFO.KV_ef-config" } }"#,
                r#"{ service: { account: "SITE", subject: "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>" } }"#,
            ]
        );
    }
}
