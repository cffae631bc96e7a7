//! The streams of the recipe, configured from what the trust root says about the sources: a site's `EF_INTENT`
//! (two filtered external sources of the HUB account's `EF_INTENT`), its image replica (one external source of
//! `OBJ_ef-images`, no subjects of its own), its own `EF_SITE_<site>`, and the hub's copy of it.

use async_nats::jetstream::stream::{Config, External, Source};
use events::subject::{site_stream, site_subjects, INTENT_STREAM};
use events::Token;
use fleet_trust::{site_image_source, site_intent_sources, ExternalSource, IMAGE_STREAM};

/// A JetStream source from what the trust root describes.
fn source(described: ExternalSource) -> Source {
    Source {
        name: described.stream,
        filter_subject: described.filter_subject,
        external: Some(External {
            api_prefix: described.api_prefix,
            delivery_prefix: Some(described.deliver_prefix),
        }),
        ..Default::default()
    }
}

/// At a site: `EF_INTENT`, sourcing the site's own and the fleet-wide intents from the HUB account.
pub fn site_intents(site: &Token) -> Config {
    Config {
        name: INTENT_STREAM.to_owned(),
        sources: Some(site_intent_sources(site).into_iter().map(source).collect()),
        ..Default::default()
    }
}

/// At a site: the read-only replica of the hub's image bucket.
pub fn site_image_replica(site: &Token) -> Config {
    Config {
        name: IMAGE_STREAM.to_owned(),
        allow_direct: true,
        allow_rollup: true,
        sources: Some(vec![source(site_image_source(site))]),
        ..Default::default()
    }
}

/// At a site: the site's own event stream.
pub fn site_events(site: &Token) -> Config {
    Config {
        name: site_stream(site),
        subjects: vec![site_subjects(site)],
        ..Default::default()
    }
}

/// At the hub, in the site's account: the copy of the site's event stream, sourced over the leaf link from the
/// site's JetStream domain.
pub fn hub_copy_of_site_events(site: &Token) -> Config {
    Config {
        name: site_stream(site),
        sources: Some(vec![Source {
            name: site_stream(site),
            external: Some(External {
                api_prefix: format!("$JS.{site}.API"),
                delivery_prefix: None,
            }),
            ..Default::default()
        }]),
        ..Default::default()
    }
}
