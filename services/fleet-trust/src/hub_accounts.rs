//! The fixed accounts of the fleet and what they share (DESIGN §9):
//!
//! | account | holds | exports | imports |
//! |---|---|---|---|
//! | `SYS` | the system user (pushes account JWTs) | — | — |
//! | `HUB` | `EF_INTENT`, `OBJ_ef-images`, the hub process, admins | consumer creates of both streams, `deliver.*.>`, their flow control | `ef.api.v1.>` from `API` (shared), `$SRV.>` from `API` |
//! | `API` | the hub process's API service | `ef.api.v1.>`, `$SRV.>` (service discovery) | — |
//! | `OPS` | viewers and operators | — | `ef.api.v1.>` from `API` (shared) |
//!
//! A *shared* import makes the server stamp the requester's identity (account, user JWT, name) into the
//! `Nats-Request-Info` header of every request, which is how the API knows who calls ([`crate::Caller`]).
//!
//! Pure data: the claims are signed by [`crate::TrustRoot::issue_account`].

use events::subject::API_PREFIX;

use crate::account_claims::AccountClaims;
use crate::account_limits::AccountLimits;
use crate::cross_account::{Export, Import, ResponseType};
use crate::hub_streams::{offered_consumer_creates, offered_flow_control};

/// Every subject of the hub API (`ef.api.v1.>`).
fn api_subjects() -> String {
    format!("{API_PREFIX}.>")
}

/// The NATS micro service discovery subjects (`$SRV.PING|INFO|STATS…`), which the API service answers.
const SERVICE_DISCOVERY: &str = "$SRV.>";

/// What the HUB account offers every site account: the consumer-create API of `EF_INTENT` and `OBJ_ef-images`
/// (responses streamed: the consumer then delivers into the importer), the consumers' deliveries and their
/// flow control.
///
/// One stream export `deliver.*.>` serves every site: an account can only take it through an import in its own
/// JWT, which only the operator signs, and each site account imports its own `deliver.<site>.>` alone. So adding a
/// site never changes the HUB account's JWT.
pub fn hub_account_exports() -> Vec<Export> {
    let [intent_api, image_api, image_api_named] = offered_consumer_creates();
    let [intent_fc, image_fc] = offered_flow_control();
    vec![
        Export::service("intent-consumer-api", &intent_api, ResponseType::Stream),
        Export::service("image-consumer-api", &image_api, ResponseType::Stream),
        Export::service("image-consumer-api-named", &image_api_named, ResponseType::Stream),
        Export::stream("site-deliveries", "deliver.*.>"),
        Export::service("intent-flow-control", &intent_fc, ResponseType::Singleton),
        Export::service("image-flow-control", &image_fc, ResponseType::Singleton),
    ]
}

/// The HUB account: JetStream without limits, the exports of [`hub_account_exports`], and the hub API imported
/// from the API account (public key `api_account`) with the requester shared.
pub fn hub_account_claims(api_account: &str) -> AccountClaims {
    let mut claims = AccountClaims::new(AccountLimits::unlimited_with_jetstream());
    claims.exports = hub_account_exports();
    claims.imports = vec![
        Import::shared_service("hub-api", api_account, &api_subjects()),
        Import::service("hub-api-discovery", api_account, SERVICE_DISCOVERY, None),
    ];
    claims
}

/// The API account: the hub API offered as a service, and its discovery to admins; no JetStream.
pub fn api_account_claims() -> AccountClaims {
    let mut claims = AccountClaims::new(AccountLimits::unlimited_without_jetstream());
    claims.exports = vec![
        Export::service("hub-api", &api_subjects(), ResponseType::Singleton),
        Export::service("hub-api-discovery", SERVICE_DISCOVERY, ResponseType::Stream),
    ];
    claims
}

/// The OPS account: the hub API imported from the API account (public key `api_account`) with the requester
/// shared; nothing else, no JetStream.
pub fn ops_account_claims(api_account: &str) -> AccountClaims {
    let mut claims = AccountClaims::new(AccountLimits::unlimited_without_jetstream());
    claims.imports = vec![Import::shared_service("hub-api", api_account, &api_subjects())];
    claims
}

/// The system account: no JetStream (nats-server refuses it there), nothing shared.
pub fn system_account_claims() -> AccountClaims {
    AccountClaims::new(AccountLimits::unlimited_without_jetstream())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cross_account::ExchangeKind;

    #[test]
    fn the_hub_offers_both_streams_consumer_apis_with_streamed_responses() {
        let exports = hub_account_exports();

        let services: Vec<(&str, Option<ResponseType>)> = exports
            .iter()
            .filter(|export| export.kind == ExchangeKind::Service)
            .map(|export| (export.subject.as_str(), export.response_type))
            .collect();
        assert_eq!(
            services,
            [
                ("$JS.API.CONSUMER.CREATE.EF_INTENT.>", Some(ResponseType::Stream)),
                ("$JS.API.CONSUMER.CREATE.OBJ_ef-images", Some(ResponseType::Stream)),
                ("$JS.API.CONSUMER.CREATE.OBJ_ef-images.>", Some(ResponseType::Stream)),
                ("$JS.FC.EF_INTENT.>", Some(ResponseType::Singleton)),
                ("$JS.FC.OBJ_ef-images.>", Some(ResponseType::Singleton)),
            ]
        );
        assert!(exports
            .iter()
            .any(|export| export.subject == "deliver.*.>" && export.kind == ExchangeKind::Stream));
    }

    #[test]
    fn hub_and_ops_take_the_api_with_the_requester_shared() {
        for claims in [hub_account_claims("AAPI"), ops_account_claims("AAPI")] {
            let import = &claims.imports[0];
            assert_eq!(
                (import.subject.as_str(), import.account.as_str(), import.share),
                ("ef.api.v1.>", "AAPI", true)
            );
        }
        assert_eq!(api_account_claims().exports[0].subject, "ef.api.v1.>");
    }

    #[test]
    fn only_the_hub_account_has_jetstream() {
        assert!(hub_account_claims("AAPI").limits.jetstream.is_enabled());
        for claims in [
            system_account_claims(),
            api_account_claims(),
            ops_account_claims("AAPI"),
        ] {
            assert!(!claims.limits.jetstream.is_enabled());
        }
    }
}
