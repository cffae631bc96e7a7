//! The users inside a site's account at the hub: the site's leaf connection, narrowed to what the site may send
//! and receive (DESIGN §9), and the hub's own user that manages the account's streams.
//!
//! On a leaf connection, `pub` is what the site may send to the hub and `sub` what the hub may send into the site.
//! A site may publish only its own stream's subjects and beacon, create consumers only on its own intent copy,
//! and receive only requests to its own JetStream API; JetStream's reply, flow-control and source subjects pass
//! both ways so sourcing works in both directions. These lists were verified sufficient on nats-server 2.15.1, not
//! proven minimal.

use events::subject::site_subjects;
use events::Token;

use crate::site_account::intent_copy_stream;
use crate::user_claims::{ConnectionType, UserClaims};
use crate::user_permissions::UserPermissions;

/// The hub's JetStream domain, as sites address it over the leaf link (`$JS.hub.API`); equal to
/// `replay::HUB_DOMAIN`.
pub const HUB_JETSTREAM_DOMAIN: &str = "hub";

/// JetStream subjects that must cross the leaf link both ways for sourcing: consumer replies, flow control,
/// source deliveries, and request inboxes.
const JETSTREAM_TRANSPORT: [&str; 4] = ["$JSC.R.>", "$JS.FC.>", "$JS.S.>", "_INBOX.>"];

/// The beacon subject of `site` (`ef.hub.beacon.<site>`), equal to `services::site_beacon::beacon_subject`.
pub fn beacon_subject(site: &Token) -> String {
    format!("ef.hub.beacon.{site}")
}

/// What the leaf connection of `site` may send to the hub.
pub fn site_leaf_publish(site: &Token) -> Vec<String> {
    let consumer_create = format!(
        "$JS.{HUB_JETSTREAM_DOMAIN}.API.CONSUMER.CREATE.{}",
        intent_copy_stream(site)
    );
    let mut subjects = vec![
        site_subjects(site),
        beacon_subject(site),
        consumer_create.clone(),
        format!("{consumer_create}.>"),
    ];
    subjects.extend(JETSTREAM_TRANSPORT.map(str::to_owned));
    subjects
}

/// What the hub may send into `site` over its leaf connection. The site's JetStream domain is the site id.
pub fn site_leaf_subscribe(site: &Token) -> Vec<String> {
    let mut subjects = vec![format!("$JS.{site}.API.>")];
    subjects.extend(JETSTREAM_TRANSPORT.map(str::to_owned));
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
/// hub's copy of the site stream and the site's intent copy), client connections only.
pub fn hub_in_site_user() -> UserClaims {
    UserClaims::new(UserPermissions::default(), &[ConnectionType::Standard])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_leaf_publishes_only_its_own_subjects_and_jetstream_transport() {
        let site = Token::new("a").unwrap();

        assert_eq!(
            site_leaf_publish(&site),
            [
                "ef.site.a.>",
                "ef.hub.beacon.a",
                "$JS.hub.API.CONSUMER.CREATE.INTENT_a",
                "$JS.hub.API.CONSUMER.CREATE.INTENT_a.>",
                "$JSC.R.>",
                "$JS.FC.>",
                "$JS.S.>",
                "_INBOX.>",
            ]
        );
        assert_eq!(
            site_leaf_subscribe(&site),
            ["$JS.a.API.>", "$JSC.R.>", "$JS.FC.>", "$JS.S.>", "_INBOX.>"]
        );
    }

    #[test]
    fn a_site_leaf_user_may_only_connect_as_a_leaf() {
        let claims = site_leaf_user(&Token::new("a").unwrap());

        assert_eq!(claims.allowed_connection_types, [ConnectionType::Leafnode]);
    }
}
