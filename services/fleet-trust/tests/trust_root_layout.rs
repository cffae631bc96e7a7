//! A hub's trust material is created on the first start and loaded, never regenerated, on later ones: handouts at
//! the top of the data directory, everything else in `trust/`; secrets are owner-only; a directory that lost its
//! operator key is refused.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use events::Token;
use fleet_trust::{
    decode_verified, AccountClaims, AccountName, OperatorClaims, OperatorRole, TrustError, TrustRoot, UserClaims,
    UserCreds, UserKey, BUILTIN_ADMIN,
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_start_creates_every_piece_and_secrets_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();

    let root = TrustRoot::open_or_create(dir.path().join("hub")).unwrap();

    let layout = root.layout();
    assert_eq!(layout.admin_creds(), dir.path().join("hub/admin.creds"));
    assert_eq!(layout.ca_bundle(), dir.path().join("hub/ca.pem"));
    let accounts = [
        AccountName::system(),
        AccountName::hub(),
        AccountName::api(),
        AccountName::ops(),
    ];
    let mut secrets = vec![
        layout.operator_seed(),
        layout.admin_creds(),
        layout.system_creds(),
        layout.hub_creds(),
        layout.api_creds(),
        layout.ca_key(),
    ];
    secrets.extend(accounts.iter().map(|name| layout.account_seed(name)));
    for secret in secrets {
        assert_eq!(mode(&secret), 0o600, "{}", secret.display());
    }
    assert_eq!(mode(&layout.trust_dir()), 0o700);
    assert!(layout.resolver_dir().is_dir());
    assert_eq!(
        std::fs::read_to_string(layout.ca_bundle()).unwrap(),
        root.fleet_ca().cert_pem().unwrap()
    );
    let operator = std::fs::read_to_string(layout.operator_jwt()).unwrap();
    let operator = decode_verified::<OperatorClaims>(&operator, &root.operator_public_key()).unwrap();
    assert_eq!(operator.claims.system_account, Some(root.system_account_public_key()));
    for (creds, account) in [
        (layout.admin_creds(), root.hub_account_public_key()),
        (layout.hub_creds(), root.hub_account_public_key()),
        (layout.api_creds(), root.api_account_public_key()),
        (layout.system_creds(), root.system_account_public_key()),
    ] {
        let creds = UserCreds::read(&creds).unwrap();
        decode_verified::<UserClaims>(creds.jwt(), &account).unwrap();
    }
}

#[test]
fn the_built_in_admin_is_recorded_like_every_operator() {
    let dir = tempfile::tempdir().unwrap();

    let root = TrustRoot::open_or_create(dir.path()).unwrap();

    let users = root.users().unwrap();
    assert_eq!(users.len(), 1);
    let admin = &users[0];
    assert_eq!(admin.name.as_str(), BUILTIN_ADMIN);
    assert_eq!(admin.role, OperatorRole::Admin);
    assert_eq!(admin.account, AccountName::hub());
    assert_eq!(
        admin.public_key,
        UserCreds::read(&root.layout().admin_creds()).unwrap().user_public_key()
    );
    assert_eq!(admin.revoked_at_s, None);
}

/// The bytes of the files a later start must keep as they are.
fn kept_files(layout: &fleet_trust::TrustLayout) -> Vec<Vec<u8>> {
    [
        layout.admin_creds(),
        layout.hub_creds(),
        layout.ca_bundle(),
        layout.ca_cert(),
    ]
    .iter()
    .map(|path| std::fs::read(path).unwrap())
    .collect()
}

#[test]
fn a_later_start_loads_the_same_keys_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let first = TrustRoot::open_or_create(dir.path()).unwrap();
    let layout = first.layout();
    let before = kept_files(layout);

    let second = TrustRoot::open_or_create(dir.path()).unwrap();

    assert_eq!(second.operator_public_key(), first.operator_public_key());
    assert_eq!(second.hub_account_public_key(), first.hub_account_public_key());
    assert_eq!(second.api_account_public_key(), first.api_account_public_key());
    assert_eq!(second.ops_account_public_key(), first.ops_account_public_key());
    let layout = second.layout();
    let after = kept_files(layout);
    assert_eq!(after, before);
}

#[test]
fn a_revoked_built_in_admin_is_not_re_issued_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    root.revoke_user_named(&Token::new(BUILTIN_ADMIN).unwrap()).unwrap();
    std::fs::remove_file(root.layout().admin_creds()).unwrap();

    let again = TrustRoot::open_or_create(dir.path()).unwrap();

    assert!(!again.layout().admin_creds().exists());
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
fn a_ca_without_its_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    std::fs::remove_file(root.layout().ca_key()).unwrap();

    let error = TrustRoot::open_or_create(dir.path()).unwrap_err();

    assert!(matches!(error, TrustError::Certificate { .. }), "{error}");
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
fn the_operator_mode_config_preloads_the_fixed_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();

    let config = root.operator_mode_config().unwrap();

    let preloaded: Vec<&str> = config.preload.iter().map(|(account, _)| account.as_str()).collect();
    assert_eq!(
        preloaded,
        [
            root.system_account_public_key(),
            root.hub_account_public_key(),
            root.api_account_public_key(),
            root.ops_account_public_key(),
            root.trust_account_public_key()
        ]
    );
    assert_eq!(config.system_account, root.system_account_public_key());
    assert_eq!(config.resolver_dir, root.layout().resolver_dir());
}
