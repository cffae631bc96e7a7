//! Per-site account isolation at the hub (DESIGN §9): the hub account offers its intent stream's consumer API,
//! the consumers' deliveries and flow control; each site's account takes only the consumers filtered to its own and
//! the fleet-wide intents. A site's `INTENT_<site>` stream (in its account at the hub) sources `EF_INTENT` across
//! the accounts with [`intent_sources`]; another site asking for these filters gets no responders.
//!
//! Pure data: the claims are signed by [`crate::TrustRoot::issue_account`] and pushed with
//! [`crate::push_account_jwt`].

use events::subject::{intent_subjects_for_site, INTENT_STREAM};
use events::Token;

use crate::account_claims::AccountClaims;
use crate::account_limits::AccountLimits;
use crate::cross_account::{Export, Import, ResponseType};

/// The prefix under which a site account calls the hub account's imported JetStream API (`external.api` of its
/// intent sources). Distinct from the account's own `$JS.API` and from every JetStream domain's `$JS.<domain>.API`.
pub const IMPORTED_INTENT_API_PREFIX: &str = "$JS.fleet.API";

/// The JetStream flow-control subjects a cross-account source needs (service import both ways).
const FLOW_CONTROL_SUBJECTS: &str = "$JS.FC.>";

/// The hub account's consumer-create API of its intent stream (`$JS.API.CONSUMER.CREATE.EF_INTENT.>`).
fn intent_consumer_create_api() -> String {
    format!("$JS.API.CONSUMER.CREATE.{INTENT_STREAM}.>")
}

/// The hub account's stream (in the site's account at the hub) holding the site's intents: `INTENT_<site>`.
/// The site's own `EF_INTENT` sources it over the leaf link through `$JS.hub.API`.
pub fn intent_copy_stream(site: &Token) -> String {
    format!("INTENT_{site}")
}

/// One filtered cross-account source of `EF_INTENT` for a site's [`intent_copy_stream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentSource {
    /// The source stream in the hub account (`EF_INTENT`).
    pub stream: String,
    /// `filter_subject` of the source: `ef.intent.<site>.>` or `ef.intent.all.>`.
    pub filter_subject: String,
    /// `external.api`: [`IMPORTED_INTENT_API_PREFIX`].
    pub api_prefix: String,
    /// `external.deliver`: `deliver.<site>.own` or `deliver.<site>.all`, inside the site's stream import.
    pub deliver_prefix: String,
}

/// The two sources of a site's [`intent_copy_stream`]: its own intents and the fleet-wide ones.
///
/// These match the imports of [`site_account_claims`] exactly; a source with any other filter or delivery
/// subject gets no responders.
pub fn intent_sources(site: &Token) -> [IntentSource; 2] {
    let [own, all] = intent_subjects_for_site(site);
    let source = |filter_subject: String, deliver: &str| IntentSource {
        stream: INTENT_STREAM.to_owned(),
        filter_subject,
        api_prefix: IMPORTED_INTENT_API_PREFIX.to_owned(),
        deliver_prefix: format!("{}.{deliver}", deliver_root(site)),
    };
    [source(own, "own"), source(all, "all")]
}

/// `deliver.<site>`: where the hub account's intent consumers for `site` deliver.
fn deliver_root(site: &Token) -> String {
    format!("deliver.{site}")
}

/// What the hub account offers every site account.
///
/// One stream export `deliver.*.>` serves every site: an account can only take it through an import in its own
/// JWT, which only the operator signs, and each site account imports its own `deliver.<site>.>` alone. So adding a
/// site never changes the hub account's JWT.
pub fn hub_account_exports() -> Vec<Export> {
    vec![
        Export::service(
            "intent-consumer-api",
            &intent_consumer_create_api(),
            ResponseType::Stream,
        ),
        Export::stream("intent-deliver", "deliver.*.>"),
        Export::service("jetstream-flow-control", FLOW_CONTROL_SUBJECTS, ResponseType::Singleton),
    ]
}

/// The hub account: JetStream without limits, and the exports of [`hub_account_exports`].
pub fn hub_account_claims() -> AccountClaims {
    let mut claims = AccountClaims::new(AccountLimits::unlimited_with_jetstream());
    claims.exports = hub_account_exports();
    claims
}

/// The system account: no JetStream (nats-server refuses it there), nothing shared.
pub fn system_account_claims() -> AccountClaims {
    AccountClaims::new(AccountLimits::unlimited_without_jetstream())
}

/// The account of `site` at the hub: JetStream without limits (it holds `EF_SITE_<site>` and
/// [`intent_copy_stream`]), and imports from the hub account (public key `hub_account`) of only the consumers
/// filtered to `site`'s own and the fleet-wide intents, their deliveries, and flow control.
pub fn site_account_claims(site: &Token, hub_account: &str) -> AccountClaims {
    let [own, all] = intent_subjects_for_site(site);
    let consumer_api = |filter: &str| format!("$JS.API.CONSUMER.CREATE.{INTENT_STREAM}.*.{filter}");
    let local_api = |filter: &str| format!("{IMPORTED_INTENT_API_PREFIX}.CONSUMER.CREATE.{INTENT_STREAM}.*.{filter}");
    let mut claims = AccountClaims::new(AccountLimits::unlimited_with_jetstream());
    claims.imports = vec![
        Import::service(
            "intent-consumer-api-own",
            hub_account,
            &consumer_api(&own),
            Some(&local_api(&own)),
        ),
        Import::service(
            "intent-consumer-api-all",
            hub_account,
            &consumer_api(&all),
            Some(&local_api(&all)),
        ),
        Import::stream("intent-deliver", hub_account, &format!("{}.>", deliver_root(site))),
        Import::service("jetstream-flow-control", hub_account, FLOW_CONTROL_SUBJECTS, None),
    ];
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cross_account::ExchangeKind;

    fn site() -> Token {
        Token::new("a").unwrap()
    }

    #[test]
    fn a_site_imports_only_its_own_and_the_fleet_wide_intent_consumers() {
        let claims = site_account_claims(&site(), "AHUB");

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
                ("deliver.a.>", None),
                ("$JS.FC.>", None),
            ]
        );
        assert!(claims.imports.iter().all(|import| import.account == "AHUB"));
        assert!(claims.limits.jetstream.is_enabled());
    }

    #[test]
    fn the_hub_offers_the_consumer_api_with_streamed_responses() {
        let exports = hub_account_exports();

        let api = &exports[0];
        assert_eq!(api.subject, "$JS.API.CONSUMER.CREATE.EF_INTENT.>");
        assert_eq!(api.kind, ExchangeKind::Service);
        assert_eq!(api.response_type, Some(ResponseType::Stream));
        assert_eq!(exports[1].subject, "deliver.*.>");
        assert_eq!(exports[1].kind, ExchangeKind::Stream);
    }

    #[test]
    fn intent_sources_deliver_inside_the_site_import() {
        let [own, all] = intent_sources(&site());

        assert_eq!(own.filter_subject, "ef.intent.a.>");
        assert_eq!(own.deliver_prefix, "deliver.a.own");
        assert_eq!(all.filter_subject, "ef.intent.all.>");
        assert_eq!(all.deliver_prefix, "deliver.a.all");
        assert_eq!(own.api_prefix, IMPORTED_INTENT_API_PREFIX);
    }

    #[test]
    fn the_system_account_has_no_jetstream() {
        assert!(!system_account_claims().limits.jetstream.is_enabled());
    }
}
