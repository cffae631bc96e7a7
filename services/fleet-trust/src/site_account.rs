//! The account of one site at the hub (`SITE_<site>`): its leaf connection and the hub's copy of its stream
//! (`EF_SITE_<site>`) live here, and it takes from the HUB account only what the site's own server needs to source
//! (DESIGN §9): the consumer-create API of `EF_INTENT` filtered to the site's own and the fleet-wide intents and of
//! `OBJ_ef-images`, called locally as `$JS.fleet.API…`; the deliveries under `deliver.<site>.>`; the flow-control
//! replies of those two streams. Another site asking for these filters gets no responders.
//!
//! Pure data: the claims are signed by [`crate::TrustRoot::issue_account`] and pushed with
//! [`crate::push_account_jwt`].

use events::Token;

use crate::account_claims::AccountClaims;
use crate::account_limits::AccountLimits;
use crate::cross_account::Import;
use crate::hub_streams::{
    deliver_root, offered_flow_control, site_consumer_creates, HUB_API_PREFIX, IMPORTED_API_PREFIX,
};

/// The account of `site` at the hub: JetStream without limits (it holds `EF_SITE_<site>`), and the imports from
/// the HUB account (public key `hub_account`) described in the module docs.
pub fn site_account_claims(site: &Token, hub_account: &str) -> AccountClaims {
    let remote = site_consumer_creates(HUB_API_PREFIX, site);
    let local = site_consumer_creates(IMPORTED_API_PREFIX, site);
    debug_assert_eq!(remote.len(), local.len(), "one local name per imported subject");
    let names = ["intent-api-own", "intent-api-all", "image-api", "image-api-named"];
    let mut imports: Vec<Import> = names
        .iter()
        .zip(remote.iter().zip(&local))
        .map(|(name, (subject, local))| Import::service(name, hub_account, subject, Some(local)))
        .collect();
    imports.push(Import::stream(
        "site-deliveries",
        hub_account,
        &format!("{}.>", deliver_root(site)),
    ));
    let [intent_fc, image_fc] = offered_flow_control();
    imports.push(Import::service("intent-flow-control", hub_account, &intent_fc, None));
    imports.push(Import::service("image-flow-control", hub_account, &image_fc, None));
    let mut claims = AccountClaims::new(AccountLimits::unlimited_with_jetstream());
    claims.imports = imports;
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_imports_only_its_own_and_the_fleet_wide_intent_consumers_and_the_images() {
        let claims = site_account_claims(&Token::new("a").unwrap(), "AHUB");

        let subjects: Vec<(&str, Option<&str>)> = claims
            .imports
            .iter()
            .map(|import| (import.subject.as_str(), import.local_subject.as_deref()))
            .collect();
        assert_eq!(
            subjects,
            [
                (
                    "$JS.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.a.>",
                    Some("$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.a.>")
                ),
                (
                    "$JS.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.all.>",
                    Some("$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.*.ef.intent.all.>")
                ),
                (
                    "$JS.API.CONSUMER.CREATE.OBJ_ef-images",
                    Some("$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images")
                ),
                (
                    "$JS.API.CONSUMER.CREATE.OBJ_ef-images.>",
                    Some("$JS.fleet.API.CONSUMER.CREATE.OBJ_ef-images.>")
                ),
                ("deliver.a.>", None),
                ("$JS.FC.EF_INTENT.>", None),
                ("$JS.FC.OBJ_ef-images.>", None),
            ]
        );
        assert!(claims.imports.iter().all(|import| import.account == "AHUB"));
        assert!(claims.imports.iter().all(|import| !import.share));
        assert!(claims.limits.jetstream.is_enabled());
    }
}
