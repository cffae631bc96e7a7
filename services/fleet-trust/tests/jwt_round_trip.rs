//! Every kind of JWT this crate signs decodes back to the same claims and verifies against its issuer; an altered
//! or foreign JWT is refused.

use data_encoding::BASE64URL_NOPAD;
use events::Token;
use fleet_trust::{
    decode_verified, hub_account_claims, sign_expiring_jwt, sign_jwt, site_account_claims, site_leaf_user,
    AccountClaims, AccountKey, JwtError, OperatorClaims, OperatorKey, OperatorRole, UserClaims, UserKey,
};

#[test]
fn an_operator_jwt_round_trips() {
    let operator = OperatorKey::generate();
    let claims = OperatorClaims {
        system_account: Some(AccountKey::generate().public_key()),
    };

    let jwt = sign_jwt(&operator, &operator.public_key(), "edgefleet", &claims).unwrap();
    let decoded = decode_verified::<OperatorClaims>(&jwt, &operator.public_key()).unwrap();

    assert_eq!(decoded.claims, claims);
    assert_eq!(decoded.subject, operator.public_key());
    assert_eq!(decoded.name, "edgefleet");
}

#[test]
fn an_account_jwt_with_exports_imports_and_revocations_round_trips() {
    let operator = OperatorKey::generate();
    let hub = AccountKey::generate();
    let site = AccountKey::generate();
    let mut claims = site_account_claims(&Token::new("a").unwrap(), &hub.public_key());
    claims.revoke_user(&UserKey::generate().public_key(), 1_700_000_000);

    let jwt = sign_jwt(&operator, &site.public_key(), "SITE_a", &claims).unwrap();
    let decoded = decode_verified::<AccountClaims>(&jwt, &operator.public_key()).unwrap();

    assert_eq!(decoded.claims, claims);
    let hub_claims = hub_account_claims(&AccountKey::generate().public_key());
    let hub_jwt = sign_jwt(&operator, &hub.public_key(), "HUB", &hub_claims).unwrap();
    assert_eq!(
        decode_verified::<AccountClaims>(&hub_jwt, &operator.public_key())
            .unwrap()
            .claims,
        hub_claims,
        "the shared import survives the round trip"
    );
}

#[test]
fn a_user_jwt_with_permissions_connection_types_and_expiry_round_trips() {
    let account = AccountKey::generate();
    let user = UserKey::generate();
    let claims = site_leaf_user(&Token::new("a").unwrap());

    let jwt = sign_expiring_jwt(&account, &user.public_key(), "site-a-leaf", &claims, 4_000_000_000).unwrap();
    let decoded = decode_verified::<UserClaims>(&jwt, &account.public_key()).unwrap();

    assert_eq!(decoded.claims, claims);
    assert_eq!(decoded.expires_at_s, Some(4_000_000_000));
    assert!(decoded.issued_at_s > 1_700_000_000);
}

#[test]
fn the_wire_format_is_what_nats_server_reads() {
    let account = AccountKey::generate();
    let user = UserKey::generate();

    let jwt = sign_jwt(
        &account,
        &user.public_key(),
        "vera",
        &OperatorRole::Viewer.user_claims(&Token::new("vera").unwrap()),
    )
    .unwrap();

    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        json_part(parts[0]),
        serde_json::json!({"typ": "JWT", "alg": "ed25519-nkey"})
    );
    let claims = json_part(parts[1]);
    assert_eq!(claims["iss"], account.public_key());
    assert_eq!(claims["sub"], user.public_key());
    assert_eq!(claims["nats"]["type"], "user");
    assert_eq!(claims["nats"]["version"], 2);
    assert_eq!(claims["nats"]["pub"]["allow"][0], "ef.api.v1.*.list");
    assert_eq!(claims["nats"]["sub"]["allow"][0], "_INBOX_vera.>");
    assert_eq!(claims["nats"]["tags"][0], "role:viewer");
    assert_eq!(claims["nats"]["allowed_connection_types"][0], "STANDARD");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 52, "base32 of a SHA-256 without padding");
    assert!(
        jti.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "{jti}"
    );
}

/// One part of a JWT (header or claims), decoded.
fn json_part(part: &str) -> serde_json::Value {
    serde_json::from_slice(&BASE64URL_NOPAD.decode(part.as_bytes()).unwrap()).unwrap()
}

/// `jwt` with its claims' `field` set to `value`, keeping the original signature.
fn with_claim(jwt: &str, field: &str, value: &str) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut claims = json_part(parts[1]);
    claims[field] = value.into();
    format!(
        "{}.{}.{}",
        parts[0],
        BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims).unwrap()),
        parts[2]
    )
}

#[test]
fn an_altered_foreign_or_other_kind_of_jwt_is_refused_as_an_account_jwt() {
    let operator = OperatorKey::generate();
    let account = AccountKey::generate();
    let user = UserKey::generate();
    let site_jwt = sign_jwt(
        &operator,
        &account.public_key(),
        "SITE_a",
        &hub_account_claims(&AccountKey::generate().public_key()),
    )
    .unwrap();
    let foreign_jwt = sign_jwt(
        &OperatorKey::generate(),
        &account.public_key(),
        "HUB",
        &hub_account_claims(&AccountKey::generate().public_key()),
    )
    .unwrap();
    let user_jwt = sign_jwt(
        &account,
        &user.public_key(),
        "u",
        &OperatorRole::Admin.user_claims(&Token::new("u").unwrap()),
    )
    .unwrap();
    type IsExpected = fn(&JwtError) -> bool;
    let cases: [(&str, String, String, IsExpected); 3] = [
        (
            "altered claims",
            with_claim(&site_jwt, "name", "HUB"),
            operator.public_key(),
            |error| matches!(error, JwtError::BadSignature { .. }),
        ),
        (
            "well signed by another issuer",
            foreign_jwt,
            operator.public_key(),
            |error| matches!(error, JwtError::WrongIssuer { .. }),
        ),
        ("a user JWT", user_jwt, account.public_key(), |error| {
            matches!(error, JwtError::Key { field: "iss", .. })
        }),
    ];

    for (case, jwt, issuer, is_expected) in cases {
        let error = decode_verified::<AccountClaims>(&jwt, &issuer).unwrap_err();
        assert!(is_expected(&error), "{case}: {error}");
    }
}

#[test]
fn garbage_is_not_a_jwt() {
    let operator = OperatorKey::generate();

    for text in ["", "a.b", "a.b.c.d", "!!.??.##"] {
        let error = decode_verified::<OperatorClaims>(text, &operator.public_key()).unwrap_err();
        assert!(matches!(error, JwtError::Shape(_)), "{text:?}: {error}");
    }
}

#[test]
fn a_subject_of_the_wrong_role_is_refused_when_signing() {
    let operator = OperatorKey::generate();
    let user = UserKey::generate();

    let error = sign_jwt(
        &operator,
        &user.public_key(),
        "x",
        &hub_account_claims(&AccountKey::generate().public_key()),
    )
    .unwrap_err();

    assert!(matches!(error, JwtError::Key { field: "sub", .. }), "{error}");
}
