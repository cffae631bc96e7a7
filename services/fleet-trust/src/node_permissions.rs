//! What a site's node agents may do on the site's own nats-server: the join user (any node holding the site's join
//! token, before it has an identity) and each joined node's nkey user, all in the server's `NODES` account
//! ([`crate::NODES_ACCOUNT`]), which reaches the site account only through its services ([`crate::node_services`]).
//!
//! | user | may publish | may subscribe | for |
//! |---|---|---|---|
//! | `join` (password: the join token) | `ef.agent.<x>.join` | `_INBOX_join.>` | asking to join, and the reply |
//! | `join` | `$JS.API.INFO` | | learning the site id (the JetStream domain) |
//! | node `<n>` (its nkey) | `ef.agent.<x>.<n>.>` | `_INBOX_node_<n>.>` | its own requests (register, heartbeat, …), and every reply |
//! | node `<n>` | `$JS.API.INFO` | | learning the site id |
//! | node `<n>` | `$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*` | | reading an image: its info, the last message on its `M` subject |
//! | node `<n>` | `$JS.API.DIRECT.GET.OBJ_ef-images` | | reading an image: each chunk, the next message on its `C` subject |
//! | local reader (its nkey, from the site's bundle) | `ef.agent.<x>._reader.logs.list` | `_INBOX_reader.>` | reading the site's log lines at the site, the hub away |
//! | node `<n>` and local reader | `$JS.API.STREAM.INFO.KV_ef-config`, `$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>` | | reading the site's copy of the central config, key by key (a KV bucket's info and its direct gets) |
//!
//! `<x>` is the site id (also the site's JetStream domain), `<n>` the node id. Both users ask `$JS.API.INFO` to learn
//! the site id from the JetStream domain. A node reads images with direct gets only (the agent's `image_reader`):
//! the object's info by subject, then its chunks one by one as "the next message on `$O.ef-images.C.<nuid>` from
//! sequence N". Nothing else: no consumers, no stream info, no `ef.site.>`, no other node's subjects, no other
//! stream, no stream writes or deletes.
//!
//! Each user has its own inbox prefix, so replies to one node never reach another; clients must connect with
//! `custom_inbox_prefix` set to [`JOIN_INBOX_PREFIX`] or [`node_inbox_prefix`]. Node prefixes are
//! `_INBOX_node_<n>`, never `_INBOX_<n>`: a node named `join` must not share the join user's inbox.
//!
//! Every join-token holder shares `_INBOX_join.>`, so a reply to a join request must never carry a secret.
//!
//! Verified on nats-server 2.15.1 with async-nats 0.51 (`tests/site_server_auth.rs`): every entry above is used
//! (a node's image read across a server restart exercises each image entry), and nothing outside them is needed.
//! Direct gets need the bucket to allow them (`allow_direct`, as the site's replica and `create_object_store` set
//! it). The chunk entry lets a node read any message of the bucket, which holds only images it may read anyway.
//!
//! Why no consumers: nats-server does not hold a push consumer's deliver subject against its creator's
//! permissions. A node allowed to create consumers on `OBJ_ef-images` (as async-nats' object-store reader needs:
//! an ordered push consumer, recreated by name after a reconnect, with flow control) could have the bucket's
//! messages delivered to any subject some client subscribes to literally (the site process's
//! `ef.agent.<x>.join`, or one a stream listens on, which would store them), and could create durable consumers.
//! A direct get is answered once (per message asked for) and creates nothing on the server, so a node reads with
//! direct gets and may create no consumer at all (`tests/site_server_auth.rs` shows every kind refused). `NODES`
//! imports no consumer request either, so even a user of it without these rules could create none.
//!
//! Why `NODES` and not the site's own account: nats-server does not hold a request's reply subject against the
//! requester's permissions either, and JetStream (like the site process) answers on whatever reply subject a request
//! names. In the account of the site stream, any node, and the join user (anyone with the join token), could have an
//! answer (a chunk of the bucket, the account info, the site process's reply) sent to `ef.site.<x>.>`, where the
//! site stream would store it without any subscriber. In `NODES` such an answer is delivered to that subject in
//! `NODES`, where no stream listens; the permissions here decide which node may make which request, the account
//! boundary where any answer can go (`tests/site_server_auth.rs`: `no_answer_lands_in_the_site_stream_…`).

use events::Token;

use crate::user_permissions::UserPermissions;

/// The object-store bucket holding OS images, replicated at every site; equal to `replay::sourcing::IMAGE_BUCKET`.
pub const IMAGE_BUCKET: &str = "ef-images";

/// The KV bucket holding the site's copy of the central config (`edgefleet config set`); read-only for nodes and
/// local readers, key by key.
pub const CONFIG_BUCKET: &str = "ef-config";

/// Reading [`CONFIG_BUCKET`] key by key: binding to the bucket (its stream's info) and direct gets of one key's
/// last value. No consumers (no watch, no key listing), no writes.
pub(crate) fn config_read_subjects() -> [String; 2] {
    let stream = format!("KV_{CONFIG_BUCKET}");
    [
        format!("$JS.API.STREAM.INFO.{stream}"),
        format!("$JS.API.DIRECT.GET.{stream}.$KV.{CONFIG_BUCKET}.>"),
    ]
}

/// The inbox prefix of the join user's connections (`custom_inbox_prefix`).
pub const JOIN_INBOX_PREFIX: &str = "_INBOX_join";

/// The JetStream API request for account info, which names the JetStream domain (the site id).
pub const JETSTREAM_ACCOUNT_INFO: &str = "$JS.API.INFO";

/// The subject a node holding the join token requests to join `site` (`ef.agent.<x>.join`).
pub fn join_subject(site: &Token) -> String {
    format!("ef.agent.{site}.join")
}

/// The subjects joined node `node` of `site` may request on (`ef.agent.<x>.<n>.>`: register, heartbeat, …).
pub fn node_subjects(site: &Token, node: &Token) -> String {
    format!("ef.agent.{site}.{node}.>")
}

/// The inbox prefix of `node`'s connections (`_INBOX_node_<n>`), set with `custom_inbox_prefix`.
pub fn node_inbox_prefix(node: &Token) -> String {
    format!("_INBOX_node_{node}")
}

/// The inbox prefix of a local reader's connections, set with `custom_inbox_prefix`.
pub const LOCAL_READER_INBOX_PREFIX: &str = "_INBOX_reader";

/// The request a local reader of `site` reads log lines with (`ef.agent.<x>._reader.logs.list`), answered by the
/// site process from its telemetry stream. `_reader` is never a node id (a node id starts with a letter or digit),
/// so no node's subjects cover it, and it is one of the site process's services (`ef.agent.<x>.>`).
pub fn local_reader_subject(site: &Token) -> String {
    format!("ef.agent.{site}._reader.logs.list")
}

/// What a local reader of `site` may do: ask for log lines, read the config bucket key by key, receive the answers
/// on its inbox. Nothing else: no other stream, no consumer, no other request.
pub fn local_reader_permissions(site: &Token) -> UserPermissions {
    let mut publish = vec![local_reader_subject(site)];
    publish.extend(config_read_subjects());
    UserPermissions::allow_only(&publish, &[format!("{LOCAL_READER_INBOX_PREFIX}.>")])
}

/// What the join user of `site` may do: request to join, ask for account info, receive replies on its inbox.
pub fn join_permissions(site: &Token) -> UserPermissions {
    UserPermissions::allow_only(
        &[join_subject(site), JETSTREAM_ACCOUNT_INFO.to_owned()],
        &[format!("{JOIN_INBOX_PREFIX}.>")],
    )
}

/// What joined node `node` of `site` may do (see the module docs' table).
pub fn node_permissions(site: &Token, node: &Token) -> UserPermissions {
    let mut publish = vec![node_subjects(site, node), JETSTREAM_ACCOUNT_INFO.to_owned()];
    publish.extend(image_read_subjects());
    publish.extend(config_read_subjects());
    UserPermissions::allow_only(&publish, &[format!("{}.>", node_inbox_prefix(node))])
}

/// The direct gets that reading an object of [`IMAGE_BUCKET`] takes, and nothing more: no consumer, no stream info.
pub(crate) fn image_read_subjects() -> [String; 2] {
    let stream = format!("OBJ_{IMAGE_BUCKET}");
    [
        // The object's info: the last message on its `M` subject, named in the request subject.
        format!("$JS.API.DIRECT.GET.{stream}.$O.{IMAGE_BUCKET}.M.*"),
        // Its chunks: `{"seq": N, "next_by_subj": "$O.<bucket>.C.<nuid>"}`, the subject in the request body.
        format!("$JS.API.DIRECT.GET.{stream}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str) -> Token {
        Token::new(text).unwrap()
    }

    #[test]
    fn the_join_user_may_only_ask_to_join_and_for_account_info() {
        let permissions = join_permissions(&token("s1"));

        assert_eq!(permissions.publish.allow, ["ef.agent.s1.join", "$JS.API.INFO"]);
        assert_eq!(permissions.subscribe.allow, ["_INBOX_join.>"]);
        assert!(permissions.publish.deny.is_empty() && permissions.subscribe.deny.is_empty());
        assert_eq!(permissions.resp, None);
    }

    #[test]
    fn a_node_may_use_its_own_subjects_and_read_images_and_config_with_direct_gets_only() {
        let permissions = node_permissions(&token("s1"), &token("n1"));

        assert_eq!(
            permissions.publish.allow,
            [
                "ef.agent.s1.n1.>",
                "$JS.API.INFO",
                "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.*",
                "$JS.API.DIRECT.GET.OBJ_ef-images",
                "$JS.API.STREAM.INFO.KV_ef-config",
                "$JS.API.DIRECT.GET.KV_ef-config.$KV.ef-config.>",
            ]
        );
        assert_eq!(permissions.subscribe.allow, ["_INBOX_node_n1.>"]);
        assert!(permissions.publish.deny.is_empty() && permissions.subscribe.deny.is_empty());
        assert_eq!(permissions.resp, None);
    }

    #[test]
    fn a_node_may_create_no_consumer_nor_answer_flow_control() {
        let permissions = node_permissions(&token("s1"), &token("n1"));

        for allowed in &permissions.publish.allow {
            assert!(
                !allowed.contains("CONSUMER") && !allowed.starts_with("$JS.FC."),
                "{allowed}"
            );
            // The one stream request: the config bucket's info, read-only, to bind to it.
            assert!(
                !allowed.starts_with("$JS.API.STREAM.") || allowed == "$JS.API.STREAM.INFO.KV_ef-config",
                "{allowed}"
            );
        }
    }

    #[test]
    fn a_node_named_join_does_not_share_the_join_users_inbox() {
        assert_ne!(node_inbox_prefix(&token("join")), JOIN_INBOX_PREFIX);
        assert_eq!(node_inbox_prefix(&token("join")), "_INBOX_node_join");
    }

    #[test]
    fn a_node_named_join_cannot_send_join_requests() {
        // `ef.agent.<x>.join.>` needs a token after `join`, so it never matches the join subject itself.
        assert_eq!(node_subjects(&token("s1"), &token("join")), "ef.agent.s1.join.>");
        assert_eq!(join_subject(&token("s1")), "ef.agent.s1.join");
    }
}
