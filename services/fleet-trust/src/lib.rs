//! The fleet's trust root material (DESIGN §9): NATS decentralized auth (operator → accounts → users, nkeys and
//! JWTs), `.creds` files, per-site account isolation, operator roles as subject permissions, and the fleet TLS CA.
//!
//! What this crate owns: making, storing and loading keys, JWTs, credentials and certificates under the hub's data
//! directory ([`TrustRoot`], [`TrustLayout`]): the fixed accounts (SYS, HUB, API, OPS) and one account per site,
//! operator users ([`TrustRoot::add_user`]), sites and their bundles ([`TrustRoot::add_site`], [`SiteBundle`]),
//! who calls the hub API ([`TrustRoot::identify_caller`]), the fleet CA and its rotation; and rendering the
//! nats-server config that uses them ([`OperatorModeConfig`], [`ServerTls`], [`LeafRemote`]).
//!
//! What it must never do: talk to the network, except [`push_account_jwt`] (one request on a client the caller
//! made); log or show a seed or private key (every type holding one redacts it in `Debug`, files holding one are
//! `0600`); regenerate an operator key, account key or CA that exists.

#![warn(missing_docs)]

mod account_claims;
mod account_limits;
mod account_name;
mod atomic_file;
mod ca_rotation;
mod caller;
mod claims_push;
mod client_options;
mod cluster_token;
mod conf_string;
mod cross_account;
mod error;
mod fleet_ca;
mod hub_accounts;
mod hub_streams;
mod jwt_decode;
mod jwt_encode;
mod jwt_error;
mod key_file;
mod leaf_remote;
mod nkey;
mod operator_claims;
mod operator_mode_config;
mod operator_roles;
mod operator_users;
mod record_file;
mod server_tls;
mod service_users;
mod site_account;
mod site_bundle;
mod site_registry;
mod site_route_ca;
mod site_users;
#[cfg(all(test, unix))]
mod test_files;
mod tls_files;
mod trust_layout;
mod trust_root;
mod user_claims;
mod user_creds;
mod user_permissions;

pub use account_claims::{AccountClaims, ALL_USERS};
pub use account_limits::{AccountLimits, JetStreamLimits, UNLIMITED};
pub use account_name::{AccountName, AccountNameError};
pub use caller::{Caller, CallerError, RequestInfo, REQUEST_INFO_HEADER};
pub use claims_push::{push_account_jwt, ClaimsPushError, ClaimsUpdated, CLAIMS_UPDATE_SUBJECT};
pub use client_options::client_connect_options;
pub use cross_account::{ExchangeKind, Export, Import, ResponseType};
pub use error::TrustError;
pub use fleet_ca::{FleetCa, IssuedCert, ServerNames, CA_VALIDITY_DAYS, ISSUED_CERT_VALIDITY_DAYS};
pub use hub_accounts::{
    api_account_claims, hub_account_claims, hub_account_exports, ops_account_claims, system_account_claims,
};
pub use hub_streams::{site_image_source, site_intent_sources, ExternalSource, IMAGE_STREAM, IMPORTED_API_PREFIX};
pub use jwt_decode::{decode_verified, VerifiedJwt};
pub use jwt_encode::{sign_expiring_jwt, sign_jwt, NatsClaims};
pub use jwt_error::JwtError;
pub use leaf_remote::LeafRemote;
pub use nkey::{
    check_public_key, Account, AccountKey, KeyError, KeyRole, NatsKey, Operator, OperatorKey, User, UserKey,
};
pub use operator_claims::OperatorClaims;
pub use operator_mode_config::OperatorModeConfig;
pub use operator_roles::{user_inbox_prefix, OperatorRole, RoleGrant, SubscribeGrant, UnknownRole, ROLE_GRANTS};
pub use operator_users::{UserRecord, BUILTIN_ADMIN};
pub use server_tls::{RemoteTls, ServerTls, DEFAULT_TLS_TIMEOUT_S};
pub use service_users::{api_service_user, hub_process_user, system_user};
pub use site_account::site_account_claims;
pub use site_bundle::{SiteBundle, SiteBundlePaths};
pub use site_registry::{site_server_name, SiteIssue, SiteRecord};
pub use site_users::{
    beacon_subject, hub_in_site_user, site_leaf_publish, site_leaf_subscribe, site_leaf_user, HUB_JETSTREAM_DOMAIN,
};
pub use tls_files::{supplied_tls_files, TlsFiles};
pub use trust_layout::TrustLayout;
pub use trust_root::TrustRoot;
pub use user_claims::{ConnectionType, UserClaims};
pub use user_creds::{CredsError, UserCreds};
pub use user_permissions::{ResponsePermission, SubjectRules, UserPermissions};

// The site's own nats-server: who may connect to it, and what a joining or joined node may do there.
mod config_account;
mod config_permissions;
mod join_token;
mod node_permissions;
mod node_services;
mod site_server_auth;
pub use cluster_token::cluster_token;
pub use join_token::{new_join_token, JoinTokenError, JOIN_TOKEN_RANDOM_BYTES};
pub use node_permissions::{
    join_permissions, join_subject, local_reader_permissions, local_reader_subject, node_inbox_prefix,
    node_permissions, node_subjects, CONFIG_BUCKET, IMAGE_BUCKET, JETSTREAM_ACCOUNT_INFO, JOIN_INBOX_PREFIX,
    LOCAL_READER_INBOX_PREFIX,
};
pub use node_services::node_services;
pub use site_route_ca::SiteRouteCa;
pub use site_server_auth::{
    site_system_password, JoinedNode, SiteServerAuth, SiteServerAuthError, JOIN_USER, NODES_ACCOUNT, SITE_ACCOUNT,
    SYSTEM_ACCOUNT, SYSTEM_USER,
};
