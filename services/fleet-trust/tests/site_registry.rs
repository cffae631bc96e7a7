//! Sites are added once under ids that name nothing else, rotated and revoked by their leaf users only; their
//! records and bundles say what was issued.

use std::net::{IpAddr, Ipv4Addr};

use events::Token;
use fleet_trust::{
    decode_verified, AccountClaims, AccountName, ServerNames, SiteBundle, TrustError, TrustRoot, UserClaims, UserCreds,
};

fn names() -> ServerNames {
    ServerNames {
        dns_names: vec!["site-a.example".to_owned()],
        ip_addresses: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))],
    }
}

fn revocations(root: &TrustRoot, jwt: &str) -> Vec<String> {
    decode_verified::<AccountClaims>(jwt, &root.operator_public_key())
        .unwrap()
        .claims
        .revocations
        .into_keys()
        .collect()
}

#[test]
fn adding_a_site_issues_its_account_hub_user_and_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    let site = Token::new("a").unwrap();

    let issue = root.add_site(&site, &names()).unwrap();

    let account = root.account_key(&AccountName::site(&site)).unwrap().public_key();
    let jwt = decode_verified::<AccountClaims>(&issue.account_jwt, &root.operator_public_key()).unwrap();
    assert_eq!((jwt.subject.as_str(), jwt.name.as_str()), (account.as_str(), "SITE_a"));
    let hub_user = UserCreds::read(&root.hub_in_site_creds_path(&site)).unwrap();
    decode_verified::<UserClaims>(hub_user.jwt(), &account).unwrap();
    let bundle = &issue.bundle;
    decode_verified::<UserClaims>(bundle.leaf_creds.jwt(), &account).unwrap();
    assert_eq!(
        bundle.hub_ca_pem,
        std::fs::read_to_string(root.layout().ca_bundle()).unwrap()
    );
    assert_eq!(bundle.site_ca_pem, root.fleet_ca().cert_pem().unwrap());
    assert!(bundle.site_cert_pem.contains("BEGIN CERTIFICATE"));
    let record = root.site_record(&site).unwrap().unwrap();
    assert_eq!(record.leaf_users, [bundle.leaf_creds.user_public_key()]);
    assert_eq!(record.revoked_at_s, None);

    let written = bundle.write(&dir.path().join("bundle-a")).unwrap();
    assert_eq!(SiteBundle::read(written.dir()).unwrap().site, site);
}

#[test]
fn reserved_ids_and_existing_sites_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    root.add_site(&Token::new("a").unwrap(), &names()).unwrap();

    for id in ["all", "hub", "fleet"] {
        let error = root.add_site(&Token::new(id).unwrap(), &names()).unwrap_err();
        assert!(matches!(error, TrustError::ReservedSiteId { .. }), "{id}: {error}");
    }
    let again = root.add_site(&Token::new("a").unwrap(), &names()).unwrap_err();
    assert!(matches!(again, TrustError::SiteExists { .. }), "{again}");
    let unknown = root.revoke_site(&Token::new("b").unwrap()).unwrap_err();
    assert!(matches!(unknown, TrustError::UnknownSite { .. }), "{unknown}");
}

#[test]
fn revoking_a_site_revokes_its_leaf_users_and_rotating_lets_a_new_one_in() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    let site = Token::new("a").unwrap();
    let first = root
        .add_site(&site, &names())
        .unwrap()
        .bundle
        .leaf_creds
        .user_public_key();
    let hub_user = UserCreds::read(&root.hub_in_site_creds_path(&site))
        .unwrap()
        .user_public_key();

    let revoked_jwt = root.revoke_site(&site).unwrap();
    let revoked = root.site_record(&site).unwrap().unwrap();
    let (rotated_jwt, bundle) = root.rotate_site(&site, &names()).unwrap();
    let second = bundle.leaf_creds.user_public_key();

    assert_eq!(revocations(&root, &revoked_jwt), std::slice::from_ref(&first));
    assert!(revoked.revoked_at_s.is_some());
    let after_rotation = revocations(&root, &rotated_jwt);
    assert!(after_rotation.contains(&first));
    assert!(!after_rotation.contains(&second));
    assert!(
        !after_rotation.contains(&hub_user),
        "the hub keeps reading the site's history"
    );
    let record = root.site_record(&site).unwrap().unwrap();
    assert_eq!(record.leaf_users, [first, second]);
    assert_eq!(record.revoked_at_s, None);
    assert_eq!(root.sites().unwrap().len(), 1);
}

#[test]
fn a_bundle_issued_during_a_ca_rotation_trusts_both_cas() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    root.begin_ca_rotation().unwrap();

    let bundle = root.add_site(&Token::new("a").unwrap(), &names()).unwrap().bundle;

    assert_eq!(bundle.hub_ca_pem.matches("BEGIN CERTIFICATE").count(), 2);
    assert_eq!(bundle.site_ca_pem.matches("BEGIN CERTIFICATE").count(), 2);
}
