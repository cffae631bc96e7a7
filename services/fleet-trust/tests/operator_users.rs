//! Operator users are issued into the account of their role, named and tagged in their JWT, recorded, refused
//! while their name is taken, and revoked by name.

use events::Token;
use fleet_trust::{decode_verified, AccountClaims, AccountName, OperatorRole, TrustError, TrustRoot, UserClaims};

fn token(name: &str) -> Token {
    Token::new(name).unwrap()
}

#[test]
fn a_user_lives_in_its_roles_account_named_and_tagged() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();

    for (name, role, account) in [
        ("vera", OperatorRole::Viewer, root.ops_account_public_key()),
        ("otto", OperatorRole::Operator, root.ops_account_public_key()),
        ("ada", OperatorRole::Admin, root.hub_account_public_key()),
    ] {
        let creds = root.add_user(&token(name), role).unwrap();

        let jwt = decode_verified::<UserClaims>(creds.jwt(), &account).unwrap();
        assert_eq!(jwt.name, name);
        assert_eq!(jwt.claims.tags, [role.tag()]);
        let record = root.user_record(&token(name)).unwrap().unwrap();
        assert_eq!(
            (record.role, record.public_key, record.account),
            (role, creds.user_public_key(), role.account())
        );
        assert_eq!(record.issued_at_s, jwt.issued_at_s);
    }
    let names: Vec<String> = root.users().unwrap().iter().map(|user| user.name.to_string()).collect();
    assert_eq!(names, ["ada", "admin", "otto", "vera"]);
}

#[test]
fn a_name_is_taken_until_its_user_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    let vera = token("vera");
    let first = root.add_user(&vera, OperatorRole::Viewer).unwrap();

    let taken = root.add_user(&vera, OperatorRole::Operator).unwrap_err();
    let builtin_taken = root.add_user(&token("admin"), OperatorRole::Admin).unwrap_err();
    let (account, jwt) = root.revoke_user_named(&vera).unwrap();
    let second = root.add_user(&vera, OperatorRole::Operator).unwrap();

    assert!(matches!(taken, TrustError::UserExists { .. }), "{taken}");
    assert!(
        matches!(builtin_taken, TrustError::UserExists { .. }),
        "{builtin_taken}"
    );
    assert_eq!(account, AccountName::ops());
    let claims = decode_verified::<AccountClaims>(&jwt, &root.operator_public_key())
        .unwrap()
        .claims;
    assert!(claims.revocations.contains_key(&first.user_public_key()));
    assert!(!claims.revocations.contains_key(&second.user_public_key()));
    let record = root.user_record(&vera).unwrap().unwrap();
    assert_eq!((record.role, record.revoked_at_s), (OperatorRole::Operator, None));
}

#[test]
fn revoking_an_unknown_user_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();

    let error = root.revoke_user_named(&token("nobody")).unwrap_err();

    assert!(matches!(error, TrustError::UnknownUser { .. }), "{error}");
}

#[test]
fn a_revoked_user_is_recorded_as_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    root.add_user(&token("ada"), OperatorRole::Admin).unwrap();

    let (account, _) = root.revoke_user_named(&token("ada")).unwrap();

    assert_eq!(account, AccountName::hub());
    assert!(root.user_record(&token("ada")).unwrap().unwrap().revoked_at_s.is_some());
}
