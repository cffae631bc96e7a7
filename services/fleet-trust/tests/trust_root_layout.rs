//! A trust directory is created on the first start and loaded, never regenerated, on later ones; secrets are
//! owner-only; a directory that lost its operator key is refused.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use events::Token;
use fleet_trust::{
    decode_verified, AccountClaims, AccountName, OperatorClaims, TrustError, TrustRoot, UserClaims, UserCreds, UserKey,
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_start_creates_every_piece_and_secrets_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();

    let root = TrustRoot::open_or_create(dir.path().join("trust")).unwrap();

    let layout = root.layout();
    for secret in [
        layout.operator_seed(),
        layout.account_seed(&AccountName::system()),
        layout.account_seed(&AccountName::hub()),
        layout.admin_creds(),
        layout.system_creds(),
        layout.tls_dir().join("ca-key.pem"),
    ] {
        assert_eq!(mode(&secret), 0o600, "{}", secret.display());
    }
    assert_eq!(mode(layout.dir()), 0o700);
    assert!(layout.resolver_dir().is_dir());
    let operator = std::fs::read_to_string(layout.operator_jwt()).unwrap();
    let operator = decode_verified::<OperatorClaims>(&operator, &root.operator_public_key()).unwrap();
    assert_eq!(operator.claims.system_account, Some(root.system_account_public_key()));
    let admin = UserCreds::read(&layout.admin_creds()).unwrap();
    decode_verified::<UserClaims>(admin.jwt(), &root.hub_account_public_key()).unwrap();
}

#[test]
fn a_later_start_loads_the_same_keys_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let first = TrustRoot::open_or_create(dir.path()).unwrap();
    let admin_before = std::fs::read(first.layout().admin_creds()).unwrap();
    let ca_before = std::fs::read(first.fleet_ca().cert_path()).unwrap();

    let second = TrustRoot::open_or_create(dir.path()).unwrap();

    assert_eq!(second.operator_public_key(), first.operator_public_key());
    assert_eq!(second.system_account_public_key(), first.system_account_public_key());
    assert_eq!(second.hub_account_public_key(), first.hub_account_public_key());
    assert_eq!(std::fs::read(second.layout().admin_creds()).unwrap(), admin_before);
    assert_eq!(std::fs::read(second.fleet_ca().cert_path()).unwrap(), ca_before);
}

#[test]
fn a_directory_that_lost_its_operator_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    std::fs::remove_file(root.layout().operator_seed()).unwrap();

    let error = TrustRoot::open_or_create(dir.path()).unwrap_err();

    assert!(matches!(error, TrustError::OperatorKeyMissing { .. }), "{error}");
}

#[test]
fn re_issuing_a_site_account_keeps_its_revocations() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    let site = Token::new("a").unwrap();
    root.issue_site_account(&site).unwrap();
    let revoked_user = UserKey::generate().public_key();
    root.revoke_user(&AccountName::site(&site), &revoked_user).unwrap();

    let jwt = root.issue_site_account(&site).unwrap();

    let claims = decode_verified::<AccountClaims>(&jwt, &root.operator_public_key())
        .unwrap()
        .claims;
    assert!(claims.revocations.contains_key(&revoked_user));
    let stored = root.stored_account(&AccountName::site(&site)).unwrap().unwrap();
    assert_eq!(stored.claims, claims);
}

#[test]
fn only_a_user_key_or_every_user_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();

    let error = root
        .revoke_user(&AccountName::hub(), &root.hub_account_public_key())
        .unwrap_err();

    assert!(matches!(error, TrustError::NotAUser { .. }), "{error}");
    root.revoke_user(&AccountName::hub(), fleet_trust::ALL_USERS).unwrap();
}

#[test]
fn the_operator_mode_config_preloads_the_system_and_hub_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();

    let config = root.operator_mode_config().unwrap();

    let preloaded: Vec<&str> = config.preload.iter().map(|(account, _)| account.as_str()).collect();
    assert_eq!(
        preloaded,
        [root.system_account_public_key(), root.hub_account_public_key()]
    );
    assert_eq!(config.system_account, root.system_account_public_key());
    assert_eq!(config.resolver_dir, root.layout().resolver_dir());
}
