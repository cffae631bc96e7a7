//! The users inside a site's account at the hub: the site's leaf connection, narrowed to what the site may send
//! and receive (DESIGN §9), and the hub process's own user that manages the account's streams.
//!
//! On a leaf connection, `pub` is what the site may send to the hub and `sub` what the hub may send into the site:
//!
//! | direction | subjects |
//! |---|---|
//! | pub (site → hub) | `ef.site.<x>.>`, `ef.hub.beacon.<x>`, `$JS.fleet.API.CONSUMER.CREATE.` of `EF_INTENT.*.ef.intent.<x>.>`, `EF_INTENT.*.ef.intent.all.>`, `OBJ_ef-images`, `OBJ_ef-images.>`; `$JS.FC.EF_INTENT.>`, `$JS.FC.OBJ_ef-images.>`, `$JSC.R.>`, `$JS.S.>`, `_INBOX.>` |
//! | sub (hub → site) | `$JS.<x>.API.>`, `deliver.<x>.>`, `$JS.FC.EF_SITE_<x>.>`, `$JS.FC.EF_TEL_<x>.>`, `$JSC.R.>`, `_INBOX.>` |
//!
//! So a site publishes only its own stream's subjects and beacon, creates consumers only on what it may source,
//! and receives only requests to its own JetStream API, its own deliveries and its copies' flow control (events and
//! telemetry); it cannot
//! publish intents, nor reach the hub's JetStream API (`$JS.hub.API`). Verified on nats-server 2.15.1 by
//! `tests/fleet_recipe.rs`, whose volumes trigger flow control both ways: removing any entry but
//! `$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images.>` (kept for consumers created with a name) breaks it.

use events::subject::{site_stream, site_subjects, telemetry_stream};
use events::Token;

use crate::hub_streams::{deliver_root, offered_flow_control, site_consumer_creates, IMPORTED_API_PREFIX};
use crate::user_claims::{ConnectionType, UserClaims};
use crate::user_permissions::UserPermissions;

/// The hub's JetStream domain, as sites address it over the leaf link (`$JS.hub.API`); equal to
/// `replay::HUB_DOMAIN`.
pub const HUB_JETSTREAM_DOMAIN: &str = "hub";

/// Transport the site sends to the hub: replies to the hub's consumer creates in the site's domain (`$JSC.R.>`),
/// the deliveries to the hub's copy of the site's stream (`$JS.S.>`), replies to the hub's other requests
/// (`_INBOX.>`, e.g. the hub reading the site's streams through `$JS.<site>.API`).
const TRANSPORT_TO_HUB: [&str; 3] = ["$JSC.R.>", "$JS.S.>", "_INBOX.>"];
/// Transport the hub sends into the site: replies to the site's consumer creates at the HUB account (`$JSC.R.>`)
/// and to the site's other requests (`_INBOX.>`, e.g. its beacon).
const TRANSPORT_TO_SITE: [&str; 2] = ["$JSC.R.>", "_INBOX.>"];

/// The beacon subject of `site` (`ef.hub.beacon.<site>`), equal to `services::site_beacon::beacon_subject`. The
/// site sends a request there; the hub process answers through its user in the site's account.
pub fn beacon_subject(site: &Token) -> String {
    format!("ef.hub.beacon.{site}")
}

/// What the leaf connection of `site` may send to the hub.
pub fn site_leaf_publish(site: &Token) -> Vec<String> {
    let mut subjects = vec![site_subjects(site), beacon_subject(site)];
    subjects.extend(site_consumer_creates(IMPORTED_API_PREFIX, site));
    subjects.extend(offered_flow_control());
    subjects.extend(TRANSPORT_TO_HUB.map(str::to_owned));
    subjects
}

/// What the hub may send into `site` over its leaf connection. The site's JetStream domain is the site id.
pub fn site_leaf_subscribe(site: &Token) -> Vec<String> {
    let mut subjects = vec![
        format!("$JS.{site}.API.>"),
        format!("{}.>", deliver_root(site)),
        format!("$JS.FC.{}.>", site_stream(site)),
        format!("$JS.FC.{}.>", telemetry_stream(site)),
    ];
    subjects.extend(TRANSPORT_TO_SITE.map(str::to_owned));
    subjects
}

/// The claims of `site`'s leaf connection user: leaf connections only, narrowed as above.
pub fn site_leaf_user(site: &Token) -> UserClaims {
    UserClaims::new(
        UserPermissions::allow_only(&site_leaf_publish(site), &site_leaf_subscribe(site)),
        &[ConnectionType::Leafnode],
    )
}

/// The claims of the hub process's user inside a site's account: everything in that account (it creates the
/// hub's copy of the site stream and answers the site's beacon), client connections only.
pub fn hub_in_site_user() -> UserClaims {
    UserClaims::new(UserPermissions::default(), &[ConnectionType::Standard])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_leaf_publishes_only_its_own_subjects_consumer_creates_and_jetstream_transport() {
        let site = Token::new("a").unwrap();

        assert_eq!(
            site_leaf_publish(&site),
            [
                "ef.site.a.>",
                "ef.hub.beacon.a",
                "$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.a.>",
                "$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.all.>",
                "$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images",
                "$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images.>",
                "$JS.FC.EF_INTENT.>",
                "$JS.FC.OBJ_ef-images.>",
                "$JSC.R.>",
                "$JS.S.>",
                "_INBOX.>",
            ]
        );
        assert_eq!(
            site_leaf_subscribe(&site),
            [
                "$JS.a.API.>",
                "deliver.a.>",
                "$JS.FC.EF_SITE_a.>",
                "$JS.FC.EF_TEL_a.>",
                "$JSC.R.>",
                "_INBOX.>"
            ]
        );
    }

    #[test]
    fn a_site_leaf_user_may_only_connect_as_a_leaf() {
        let claims = site_leaf_user(&Token::new("a").unwrap());

        assert_eq!(claims.allowed_connection_types, [ConnectionType::Leafnode]);
    }
}
