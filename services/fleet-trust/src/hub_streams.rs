//! What the HUB account offers the sites: its intent stream `EF_INTENT` (each site only its own and the fleet-wide
//! intents) and its image bucket's stream `OBJ_ef-images` (every site all of it), sourced by each site's own
//! server directly across the accounts over its leaf link (DESIGN §9).
//!
//! A site's stream names the source with `external: { api: "$JS.fleet.API", deliver: "deliver.<site>.<own|all|img>" }`:
//! the site's account at the hub imports the HUB account's consumer-create API under `$JS.fleet.API` (for its own
//! filters only), the deliveries under `deliver.<site>.>`, and the flow-control replies. This module holds those
//! subjects, so the imports ([`crate::site_account_claims`]), the leaf user's permissions
//! ([`crate::site_leaf_user`]) and the sources ([`site_intent_sources`], [`site_image_source`]) always agree.
//!
//! Pure data.

use events::subject::{intent_subjects_for_site, INTENT_STREAM};
use events::Token;

/// The prefix under which a site account calls the HUB account's imported JetStream API (`external.api` of its
/// sources). Distinct from the account's own `$JS.API` and from every JetStream domain's `$JS.<domain>.API` (which
/// is why `fleet` is not a site id).
pub const IMPORTED_API_PREFIX: &str = "$JS.fleet.API";

/// The HUB account's own JetStream API prefix, as the exports name it.
pub(crate) const HUB_API_PREFIX: &str = "$JS.API";

/// The stream of the hub's image object store (`ef-images`), equal to `replay::sourcing::IMAGE_BUCKET` behind
/// `OBJ_`; each site holds a replica of the same name.
pub const IMAGE_STREAM: &str = "OBJ_ef-images";

/// One external source of a site's stream: a HUB account stream, reached through the site account's imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSource {
    /// The source stream in the HUB account (`EF_INTENT`, `OBJ_ef-images`).
    pub stream: String,
    /// `filter_subject` of the source, if filtered (`ef.intent.<site>.>`, `ef.intent.all.>`); the image replica
    /// takes the whole stream.
    pub filter_subject: Option<String>,
    /// `external.api`: [`IMPORTED_API_PREFIX`].
    pub api_prefix: String,
    /// `external.deliver`: `deliver.<site>.own`, `deliver.<site>.all` or `deliver.<site>.img`, inside the site's
    /// stream import.
    pub deliver_prefix: String,
}

/// The two sources of a site's `EF_INTENT`: its own intents and the fleet-wide ones.
///
/// These match the site account's imports exactly; a source with another filter or delivery subject gets no
/// responders.
pub fn site_intent_sources(site: &Token) -> [ExternalSource; 2] {
    let [own, all] = intent_subjects_for_site(site);
    let source = |filter_subject: String, deliver: &str| ExternalSource {
        stream: INTENT_STREAM.to_owned(),
        filter_subject: Some(filter_subject),
        api_prefix: IMPORTED_API_PREFIX.to_owned(),
        deliver_prefix: format!("{}.{deliver}", deliver_root(site)),
    };
    [source(own, "own"), source(all, "all")]
}

/// The one source of a site's image replica `OBJ_ef-images` (a stream with no subjects of its own): the hub's
/// whole image stream.
pub fn site_image_source(site: &Token) -> ExternalSource {
    ExternalSource {
        stream: IMAGE_STREAM.to_owned(),
        filter_subject: None,
        api_prefix: IMPORTED_API_PREFIX.to_owned(),
        deliver_prefix: format!("{}.img", deliver_root(site)),
    }
}

/// `deliver.<site>`: where the HUB account's consumers for `site` deliver.
pub(crate) fn deliver_root(site: &Token) -> String {
    format!("deliver.{site}")
}

/// The consumer-create subjects of the HUB streams that `site` may source, under JetStream API prefix `api`
/// ([`HUB_API_PREFIX`] as the HUB account names them, [`IMPORTED_API_PREFIX`] as the site account does).
///
/// A filtered consumer is created on `<api>.CONSUMER.CREATE.<stream>.<consumer>.<filter>` (nats-server checks that
/// the filter in the subject is the consumer's), an unfiltered one on `<api>.CONSUMER.CREATE.<stream>` or
/// `….<stream>.<consumer>`.
pub(crate) fn site_consumer_creates(api: &str, site: &Token) -> Vec<String> {
    let create = |stream: &str| format!("{api}.CONSUMER.CREATE.{stream}");
    let [own, all] = intent_subjects_for_site(site);
    vec![
        format!("{}.*.{own}", create(INTENT_STREAM)),
        format!("{}.*.{all}", create(INTENT_STREAM)),
        create(IMAGE_STREAM),
        format!("{}.>", create(IMAGE_STREAM)),
    ]
}

/// The consumer-create subjects the HUB account exports (for every site at once): `$JS.API.CONSUMER.CREATE.` of
/// `EF_INTENT.>`, `OBJ_ef-images` and `OBJ_ef-images.>`.
pub(crate) fn offered_consumer_creates() -> [String; 3] {
    let create = |stream: &str| format!("{HUB_API_PREFIX}.CONSUMER.CREATE.{stream}");
    [
        format!("{}.>", create(INTENT_STREAM)),
        create(IMAGE_STREAM),
        format!("{}.>", create(IMAGE_STREAM)),
    ]
}

/// The flow-control reply subjects of the HUB streams' consumers: `$JS.FC.<origin stream>.>`.
///
/// Narrowed to the offered streams so that the site account's import never captures the flow control of the
/// reverse direction (the hub's copy of the site's stream, `$JS.FC.EF_SITE_<site>.>`, which must cross the leaf).
pub(crate) fn offered_flow_control() -> [String; 2] {
    [INTENT_STREAM, IMAGE_STREAM].map(|stream| format!("$JS.FC.{stream}.>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Token {
        Token::new("a").unwrap()
    }

    #[test]
    fn intent_sources_deliver_inside_the_site_import() {
        let [own, all] = site_intent_sources(&site());

        assert_eq!(own.filter_subject.as_deref(), Some("ef.intent.a.>"));
        assert_eq!(own.deliver_prefix, "deliver.a.own");
        assert_eq!(all.filter_subject.as_deref(), Some("ef.intent.all.>"));
        assert_eq!(all.deliver_prefix, "deliver.a.all");
        assert_eq!(own.api_prefix, IMPORTED_API_PREFIX);
        assert_eq!(own.stream, "EF_INTENT");
    }

    #[test]
    fn the_image_source_takes_the_whole_stream() {
        let source = site_image_source(&site());

        assert_eq!(source.stream, "OBJ_ef-images");
        assert_eq!(source.filter_subject, None);
        assert_eq!(source.deliver_prefix, "deliver.a.img");
    }

    #[test]
    fn a_site_may_create_consumers_only_for_its_own_and_the_fleet_wide_intents_and_the_images() {
        assert_eq!(
            site_consumer_creates(IMPORTED_API_PREFIX, &site()),
            [
                "$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.a.>",
                "$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.all.>",
                "$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images",
                "$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images.>",
            ]
        );
    }
}
