//! The hub API trusts a caller's identity only if the caller's account signed its JWT and the account holds
//! operators: admins in HUB (not the hub process), viewers and operators in OPS with the role of their tag.

use events::Token;
use fleet_trust::{
    AccountName, CallerError, OperatorRole, TrustRoot, UserClaims, UserCreds, UserPermissions, REQUEST_INFO_HEADER,
};

fn token(name: &str) -> Token {
    Token::new(name).unwrap()
}

#[test]
fn operators_are_identified_by_their_name_and_role() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    let vera = root.add_user(&token("vera"), OperatorRole::Viewer).unwrap();
    let admin = UserCreds::read(&root.layout().admin_creds()).unwrap();

    let viewer = root
        .identify_caller(&root.ops_account_public_key(), vera.jwt())
        .unwrap();
    let header = serde_json::json!({"acc": root.hub_account_public_key(), "jwt": admin.jwt(), "kind": "Client"});
    let admin = root.identify_request(&header.to_string()).unwrap();

    assert_eq!(
        (viewer.name.as_str(), viewer.role, viewer.public_key),
        ("vera", OperatorRole::Viewer, vera.user_public_key())
    );
    assert_eq!((admin.name.as_str(), admin.role), ("admin", OperatorRole::Admin));
    assert_eq!(REQUEST_INFO_HEADER, "Nats-Request-Info");
}

#[test]
fn anything_else_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path()).unwrap();
    let vera = root.add_user(&token("vera"), OperatorRole::Viewer).unwrap();
    let hub_process = UserCreds::read(&root.layout().hub_creds()).unwrap();
    let untagged = root
        .issue_user(
            &AccountName::ops(),
            "mallory",
            &UserClaims::new(UserPermissions::default(), &[]),
            None,
        )
        .unwrap();
    let mut admin_claims = OperatorRole::Admin.user_claims(&token("eve"));
    admin_claims.tags = vec![OperatorRole::Admin.tag()];
    let admin_in_ops = root
        .issue_user(&AccountName::ops(), "eve", &admin_claims, None)
        .unwrap();
    let ops = root.ops_account_public_key();
    let hub = root.hub_account_public_key();

    type IsExpected = fn(&CallerError) -> bool;
    let cases: [(&str, &str, &str, IsExpected); 6] = [
        ("the API account", &root.api_account_public_key(), vera.jwt(), |error| {
            matches!(error, CallerError::NotAnOperatorAccount { .. })
        }),
        ("a JWT of another account", &hub, vera.jwt(), |error| {
            matches!(error, CallerError::UntrustedJwt(_))
        }),
        ("the hub process", &hub, hub_process.jwt(), |error| {
            matches!(error, CallerError::HubProcess { .. })
        }),
        ("no role tag", &ops, untagged.jwt(), |error| {
            matches!(error, CallerError::NoRole { .. })
        }),
        ("an admin outside HUB", &ops, admin_in_ops.jwt(), |error| {
            matches!(error, CallerError::RoleInWrongAccount { .. })
        }),
        ("not a JWT", &ops, "forged", |error| {
            matches!(error, CallerError::UntrustedJwt(_))
        }),
    ];
    for (case, account, jwt, is_expected) in cases {
        let error = root.identify_caller(account, jwt).unwrap_err();
        assert!(is_expected(&error), "{case}: {error}");
    }
    assert!(matches!(
        root.identify_request("not json"),
        Err(CallerError::MalformedRequestInfo(_))
    ));
}
