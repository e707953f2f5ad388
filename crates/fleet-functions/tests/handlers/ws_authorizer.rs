//! ws-authorizer: the `$connect` token check holds tokens to API Gateway's JWT authorizer rules
//! (issuer, `aud` or else `client_id`, a key of the issuer's JWKS by `kid`, exp/nbf/iat), and its
//! JWKS cache fetches again on an unknown `kid` at most once per interval and stays bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use fleet_functions::config::{Config, JwtConfig, JwtKeys};
use fleet_functions::ws_authorizer::jwks::{
    self, FetchJwks, HttpJwks, JwksCache, MAX_KEYS, REFETCH_INTERVAL_SECS,
};
use fleet_functions::ws_authorizer::{self, TokenError, TokenRules, TokenVerifier};
use futures::future::BoxFuture;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support_async::*;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const CLIENT_ID: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
const DEV_ISSUER: &str = "fleetlift-local";
const DEV_AUDIENCE: &str = "fleetlift";
const DEV_KEY: &[u8] = b"fleetlift-local-dev-key-not-secret";
const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:k7x2m9q4ab/prod/$connect";

const KEY_A: &str = include_str!("keys/a.pem");
const KEY_A_PUBLIC: &str = include_str!("keys/a.pub.pem");
const KEY_B: &str = include_str!("keys/b.pem");
const OUTSIDER: &str = include_str!("keys/outsider.pem");

fn rsa(pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA private key")
}

/// A JWK of `pem`'s public half, with `kid`.
fn jwk(pem: &str, kid: &str) -> Value {
    let jwk = Jwk::from_encoding_key(&rsa(pem), Algorithm::RS256).expect("a JWK");
    let mut v = serde_json::to_value(jwk).expect("JSON");
    v["kid"] = json!(kid);
    v["use"] = json!("sig");
    v
}

/// Cognito's JWKS: two keys, the one in use and the next.
fn two_key_jwks() -> Value {
    json!({"keys": [jwk(KEY_A, "kid-a"), jwk(KEY_B, "kid-b")]})
}

fn signed(claims: &Value, pem: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &rsa(pem)).expect("sign")
}

/// `claims` signed with key A under its `kid`, as Cognito signs.
fn kid_a(claims: &Value) -> String {
    signed(claims, KEY_A, Some("kid-a"))
}

/// `claims` with `key` set to `value`.
fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut changed = claims.clone();
    changed[key] = value;
    changed
}

/// `claims` without `key`.
fn without(claims: &Value, key: &str) -> Value {
    let mut changed = claims.clone();
    changed.as_object_mut().expect("object").remove(key);
    changed
}

/// The player `verifier` finds in `token` at [`T0`], or why it refuses it.
async fn subject(verifier: &TokenVerifier, token: &str) -> Result<String, TokenError> {
    let player = verifier.verify(token, T0).await;
    player.map(|p| p.as_str().to_owned())
}

fn hs256(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("sign")
}

/// A Cognito access token's claims: `client_id` and `token_use`, no `aud`.
fn access_claims(sub: &str, exp_from_t0: i64) -> Value {
    let now = T0.epoch_seconds();
    json!({"sub": sub, "iss": ISSUER, "client_id": CLIENT_ID, "token_use": "access",
           "scope": "aws.cognito.signin.user.admin", "auth_time": now, "iat": now, "exp": now + exp_from_t0,
           "jti": "0b3c2c47-5a0b-4d0c-9d0e-7f1e2a3b4c5d", "username": sub})
}

fn dev_claims(sub: &str, exp_from_t0: i64) -> Value {
    json!({"sub": sub, "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "iat": T0.epoch_seconds(), "exp": T0.epoch_seconds() + exp_from_t0})
}

/// A fetcher whose JWKS the test changes, counting fetches.
#[derive(Clone)]
struct FakeIssuer {
    doc: Arc<Mutex<Result<Vec<u8>, String>>>,
    fetches: Arc<AtomicUsize>,
}

impl FakeIssuer {
    fn serving(doc: &Value) -> Self {
        Self {
            doc: Arc::new(Mutex::new(Ok(doc.to_string().into_bytes()))),
            fetches: Arc::new(AtomicUsize::new(0)),
        }
    }
    fn publish(&self, doc: &Value) {
        *self.doc.lock().expect("lock") = Ok(doc.to_string().into_bytes());
    }
    fn fail(&self) {
        *self.doc.lock().expect("lock") = Err("connection refused".into());
    }
    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl FetchJwks for FakeIssuer {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, String>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let doc = self.doc.lock().expect("lock").clone();
        Box::pin(async move { doc })
    }
    fn source(&self) -> &str {
        "a fake issuer"
    }
}

fn cognito_verifier(issuer: &FakeIssuer) -> TokenVerifier {
    TokenVerifier::with_keys(
        TokenRules {
            issuer: ISSUER.into(),
            audiences: vec![CLIENT_ID.into()],
        },
        None,
        Some(JwksCache::new(issuer.clone())),
    )
}

fn dev_verifier() -> TokenVerifier {
    TokenVerifier::new(&JwtConfig {
        issuer: DEV_ISSUER.into(),
        audience: DEV_AUDIENCE.into(),
        keys: JwtKeys {
            hs256_secret: Some(DEV_KEY.to_vec()),
            ..JwtKeys::default()
        },
    })
    .expect("valid config")
}

fn authorizer_request(token: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let mut v: Value = event("ws/authorizer.json");
    match token {
        Some(t) => {
            v["queryStringParameters"] = json!({"token": t});
            v["multiValueQueryStringParameters"] = json!({"token": [t]});
        }
        None => {
            v["queryStringParameters"] = json!({});
            v["multiValueQueryStringParameters"] = json!({});
        }
    }
    serde_json::from_value(v).expect("an authorizer request")
}

fn effect(response: &ApiGatewayCustomAuthorizerResponse) -> Value {
    serde_json::to_value(response).expect("JSON")["policyDocument"]["Statement"][0]["Effect"]
        .clone()
}

fn env(pairs: &[(&str, &str)]) -> Result<Config, fleet_functions::config::ConfigError> {
    let mut all: Vec<(String, String)> = vec![
        ("FLEETLIFT_TABLE".into(), "t".into()),
        ("FLEETLIFT_CURSOR_SECRET".into(), "0123456789abcdef".into()),
    ];
    all.extend(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_lookup(|k| all.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
}

#[tokio::test]
async fn the_sample_authorizer_event_is_allowed_with_the_sub_in_its_context() {
    let deps = deps();
    let request: ApiGatewayCustomAuthorizerRequestTypeRequest = event("ws/authorizer.json");

    let response = ws_authorizer::handle(&deps, &dev_verifier(), request).await;

    let v = serde_json::to_value(&response).expect("JSON");
    assert_eq!(v["principalId"], REQUESTER);
    assert_eq!(v["context"], json!({"sub": REQUESTER}));
    assert_eq!(
        v["policyDocument"],
        json!({"Version": "2012-10-17", "Statement": [{"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [METHOD_ARN]}]})
    );
}

#[tokio::test]
async fn a_cognito_access_token_from_either_key_of_a_two_key_jwks_is_allowed() {
    let issuer = FakeIssuer::serving(&two_key_jwks());
    let verifier = cognito_verifier(&issuer);
    verifier.prefetch(T0).await;
    for (pem, kid) in [(KEY_A, "kid-a"), (KEY_B, "kid-b")] {
        let token = signed(&access_claims("player-cognito", 3600), pem, Some(kid));
        let response =
            ws_authorizer::authorize(&verifier, &authorizer_request(Some(&token)), T0).await;
        assert_eq!(effect(&response), "Allow", "{kid}");
        assert_eq!(
            serde_json::to_value(&response).expect("JSON")["context"],
            json!({"sub": "player-cognito"})
        );
    }
    assert_eq!(
        issuer.fetches(),
        1,
        "both keys came from the one fetch at cold start"
    );
}

#[tokio::test]
async fn a_foreign_key_an_expired_token_and_another_audience_are_each_denied() {
    let issuer = FakeIssuer::serving(&two_key_jwks());
    let verifier = cognito_verifier(&issuer);
    verifier.prefetch(T0).await;
    let good = access_claims("player-1", 3600);
    let other_client = with(&good, "client_id", json!("another-app-client"));
    let other_aud = with(&good, "aud", json!("another-app-client"));
    // `aud` is evaluated when present, even if `client_id` would match.
    let wrong_aud_right_client = with(&good, "aud", json!(["someone-else"]));
    let aud_list = with(
        &without(&good, "client_id"),
        "aud",
        json!(["someone-else", CLIENT_ID]),
    );
    let neither = without(&good, "client_id");
    let future_iat = with(&good, "iat", json!(T0.epoch_seconds() + 600));
    let other_issuer = with(
        &good,
        "iss",
        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
    );

    type Case = (&'static str, String, fn(&TokenError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "a key outside the JWKS (unknown kid)",
            signed(&good, OUTSIDER, Some("kid-x")),
            |e| matches!(e, TokenError::UnknownKey(_)),
        ),
        (
            "a key outside the JWKS, claiming kid-a",
            signed(&good, OUTSIDER, Some("kid-a")),
            |e| *e == TokenError::BadSignature,
        ),
        ("no kid", signed(&good, KEY_A, None), |e| {
            *e == TokenError::MissingKid
        }),
        ("expired", kid_a(&access_claims("player-1", -3600)), |e| {
            *e == TokenError::Expired
        }),
        ("another client_id", kid_a(&other_client), |e| {
            *e == TokenError::WrongAudience
        }),
        ("another aud", kid_a(&other_aud), |e| {
            *e == TokenError::WrongAudience
        }),
        (
            "a wrong aud beside the right client_id",
            kid_a(&wrong_aud_right_client),
            |e| *e == TokenError::WrongAudience,
        ),
        ("neither aud nor client_id", kid_a(&neither), |e| {
            matches!(e, TokenError::MissingClaim(_))
        }),
        ("issued in the future", kid_a(&future_iat), |e| {
            *e == TokenError::IssuedInFuture
        }),
        ("another issuer", kid_a(&other_issuer), |e| {
            *e == TokenError::WrongIssuer
        }),
        // Key confusion: an HS256 token keyed with the public JWK's bytes never meets an RSA key.
        (
            "HS256 against an RSA-only verifier",
            hs256(&good, KEY_A_PUBLIC.as_bytes()),
            |e| *e == TokenError::WrongAlgorithm,
        ),
    ];
    for (name, token, expected) in cases {
        let err = verifier.verify(&token, T0).await.expect_err(name);
        assert!(expected(&err), "{name}: {err:?}");
        let response =
            ws_authorizer::authorize(&verifier, &authorizer_request(Some(&token)), T0).await;
        assert_eq!(effect(&response), "Deny", "{name}");
        assert_eq!(
            serde_json::to_value(&response).expect("JSON")["context"],
            json!({}),
            "{name}: no identity on a Deny"
        );
    }
    let list = kid_a(&aud_list);
    assert_eq!(
        subject(&verifier, &list).await,
        Ok("player-1".to_owned()),
        "an aud list naming the audience"
    );
}

#[tokio::test]
async fn bad_dev_tokens_are_denied_each_for_its_own_reason() {
    let verifier = dev_verifier();
    let good = dev_claims("player-1", 3600);
    let wrong_iss = with(&good, "iss", json!("someone-else"));
    let wrong_aud = with(&good, "aud", json!("another-api"));
    let no_sub = without(&good, "sub");
    // {"alg":"none"} with valid claims and an empty signature.
    let none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJwbGF5ZXItMSIsImlzcyI6ImZsZWV0bGlmdC1sb2NhbCIsImF1ZCI6ImZsZWV0bGlmdCIsImV4cCI6NDEwMjQ0NDgwMH0.".to_owned();
    type Case = (&'static str, Option<String>, fn(&TokenError) -> bool);
    let cases: Vec<Case> = vec![
        ("missing token", None, |e| *e == TokenError::Missing),
        (
            "expired",
            Some(hs256(&dev_claims("player-1", -3600), DEV_KEY)),
            |e| *e == TokenError::Expired,
        ),
        ("wrong issuer", Some(hs256(&wrong_iss, DEV_KEY)), |e| {
            *e == TokenError::WrongIssuer
        }),
        ("wrong audience", Some(hs256(&wrong_aud, DEV_KEY)), |e| {
            *e == TokenError::WrongAudience
        }),
        (
            "bad signature",
            Some(hs256(&good, b"another-key-entirely")),
            |e| *e == TokenError::BadSignature,
        ),
        ("alg none", Some(none_alg), |e| {
            matches!(e, TokenError::Malformed(_) | TokenError::WrongAlgorithm)
        }),
        ("no sub", Some(hs256(&no_sub, DEV_KEY)), |e| {
            matches!(e, TokenError::MissingClaim(_))
        }),
        (
            "sub not a player id",
            Some(hs256(&dev_claims("bad\nsub", 3600), DEV_KEY)),
            |e| *e == TokenError::BadSubject,
        ),
        (
            "an RS256 token to an HS256-only verifier",
            Some(kid_a(&good)),
            |e| *e == TokenError::WrongAlgorithm,
        ),
        ("garbage", Some("not.a.jwt".into()), |e| {
            matches!(e, TokenError::Malformed(_))
        }),
    ];
    for (name, token, expected) in cases {
        if let Some(t) = &token {
            let err = verifier.verify(t, T0).await.expect_err(name);
            assert!(expected(&err), "{name}: {err:?}");
        }
        let response =
            ws_authorizer::authorize(&verifier, &authorizer_request(token.as_deref()), T0).await;
        assert_eq!(effect(&response), "Deny", "{name}");
        let v = serde_json::to_value(&response).expect("JSON");
        assert_eq!(v["context"], json!({}), "{name}: no identity on a Deny");
        assert_eq!(
            v["policyDocument"]["Statement"][0]["Resource"],
            json!([METHOD_ARN]),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_token_within_the_clock_skew_leeway_is_still_accepted() {
    let verifier = dev_verifier();
    let just_expired = hs256(
        &dev_claims("player-1", -(ws_authorizer::LEEWAY_SECS - 5)),
        DEV_KEY,
    );
    assert_eq!(
        subject(&verifier, &just_expired).await,
        Ok("player-1".to_owned())
    );
    let mut future = dev_claims("player-1", 3600);
    future["nbf"] = json!(T0.epoch_seconds() + 600);
    assert_eq!(
        verifier.verify(&hs256(&future, DEV_KEY), T0).await,
        Err(TokenError::NotYetValid)
    );
}

#[tokio::test]
async fn a_pem_key_is_accepted_multi_line_with_literal_newlines_or_on_one_line() {
    let one_line = KEY_A_PUBLIC.trim().replace('\n', " ");
    let escaped = KEY_A_PUBLIC.trim().replace('\n', "\\n");
    let quoted = format!("\"{escaped}\"");
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &json!({"sub": "player-rsa", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "exp": T0.epoch_seconds() + 600}),
        &rsa(KEY_A),
    )
    .expect("sign");
    for (name, pem) in [
        ("multi-line", KEY_A_PUBLIC.to_owned()),
        ("one line with spaces", one_line),
        ("literal \\n", escaped),
        ("quoted", quoted),
    ] {
        let config = env(&[
            ("FLEETLIFT_JWT_ISSUER", DEV_ISSUER),
            ("FLEETLIFT_JWT_AUDIENCE", DEV_AUDIENCE),
            ("FLEETLIFT_JWT_PUBLIC_KEY_PEM", &pem),
        ])
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let jwt = config.require_jwt().expect("jwt");
        assert_eq!(
            jwt.keys.public_key_pem.as_deref(),
            Some(KEY_A_PUBLIC),
            "{name}: canonical"
        );
        let verifier = TokenVerifier::new(jwt).expect(name);
        assert_eq!(
            subject(&verifier, &token).await,
            Ok("player-rsa".to_owned()),
            "{name}"
        );
        // The classic key-confusion attack: an HS256 token whose secret is the public key's PEM.
        let forged = hs256(&dev_claims("player-rsa", 600), pem.as_bytes());
        assert!(verifier.verify(&forged, T0).await.is_err(), "{name}");
    }
}

#[test]
fn a_bad_key_configuration_is_one_line_naming_its_variable() {
    let base = [
        ("FLEETLIFT_JWT_ISSUER", DEV_ISSUER),
        ("FLEETLIFT_JWT_AUDIENCE", DEV_AUDIENCE),
    ];
    let with = |extra: (&'static str, &'static str)| {
        let mut v = base.to_vec();
        v.push(extra);
        env(&v).map(|_| ()).unwrap_err()
    };
    // What SAM's parser makes of an unquoted `JwtPublicKeyPem=$(cat key.pem)`.
    let cut = with(("FLEETLIFT_JWT_PUBLIC_KEY_PEM", "-----BEGIN"));
    assert_eq!(cut.var, "FLEETLIFT_JWT_PUBLIC_KEY_PEM");
    assert!(cut.problem.contains("cut short"), "{cut}");
    let cut = with((
        "FLEETLIFT_JWT_PUBLIC_KEY_PEM",
        "-----BEGIN PUBLIC KEY----- MIIBIjANBg",
    ));
    assert!(cut.problem.contains("cut short"), "{cut}");
    let private = with(("FLEETLIFT_JWT_PUBLIC_KEY_PEM", KEY_A));
    assert!(private.problem.contains("PRIVATE KEY"), "{private}");
    assert_eq!(
        with(("FLEETLIFT_JWT_JWKS_URL", "http://issuer.example/jwks")).var,
        "FLEETLIFT_JWT_JWKS_URL"
    );
    // An issuer that is no URL has no JWKS to default to.
    let no_url = env(&base).map(|_| ()).unwrap_err();
    assert_eq!(no_url.var, "FLEETLIFT_JWT_JWKS_URL");
    for e in [cut, private, no_url] {
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
    // A PEM that parses as PEM but is no RSA key fails when the verifier is built, at cold start.
    let config = env(&[
        base[0],
        base[1],
        (
            "FLEETLIFT_JWT_PUBLIC_KEY_PEM",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ),
    ])
    .expect("normalised");
    assert_eq!(
        TokenVerifier::new(config.require_jwt().expect("jwt"))
            .unwrap_err()
            .var,
        "FLEETLIFT_JWT_PUBLIC_KEY_PEM"
    );
}

#[test]
fn a_cognito_issuer_defaults_to_its_well_known_jwks() {
    let config = env(&[
        ("FLEETLIFT_JWT_ISSUER", ISSUER),
        ("FLEETLIFT_JWT_AUDIENCE", CLIENT_ID),
    ])
    .expect("valid");
    let jwt = config.require_jwt().expect("jwt");
    assert_eq!(
        jwt.keys.jwks_url.as_deref(),
        Some(&*format!("{ISSUER}/.well-known/jwks.json"))
    );
    assert!(TokenVerifier::new(jwt).expect("verifier").jwks().is_some());
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_jwks_again_at_most_once_per_interval() {
    let issuer = FakeIssuer::serving(&json!({"keys": [jwk(KEY_A, "kid-a")]}));
    let cache = JwksCache::new(issuer.clone());
    assert!(cache.refresh(T0).await, "the cold-start fetch");
    assert!(cache.key("kid-a", T0).await.is_some());
    assert_eq!(issuer.fetches(), 1);

    // The issuer rotates in kid-b; the first token naming it fetches again.
    issuer.publish(&two_key_jwks());
    let later = T0.plus_secs(REFETCH_INTERVAL_SECS);
    assert!(cache.key("kid-b", later).await.is_some());
    assert_eq!(issuer.fetches(), 2);

    // A flood of made-up kids right after costs no fetch until the interval has passed.
    for i in 0..1000 {
        assert!(
            cache
                .key(&format!("bogus-{i}"), later.plus_millis(i))
                .await
                .is_none()
        );
    }
    assert_eq!(issuer.fetches(), 2);
    assert!(
        cache
            .key("bogus", later.plus_secs(REFETCH_INTERVAL_SECS))
            .await
            .is_none()
    );
    assert_eq!(
        issuer.fetches(),
        3,
        "one fetch once the interval has passed"
    );

    // Known keys never fetch.
    for _ in 0..100 {
        assert!(cache.key("kid-a", later.plus_secs(15)).await.is_some());
    }
    assert_eq!(issuer.fetches(), 3);
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_known_keys_and_an_aged_set_drops_a_withdrawn_key() {
    let issuer = FakeIssuer::serving(&two_key_jwks());
    let cache = JwksCache::new(issuer.clone());
    cache.refresh(T0).await;
    issuer.fail();
    assert!(cache.key("kid-x", T0.plus_secs(60)).await.is_none());
    assert_eq!(issuer.fetches(), 2);
    assert!(
        cache.key("kid-a", T0.plus_secs(61)).await.is_some(),
        "kept through the failure"
    );

    // Two hours on, the set is fetched again on the next token: the issuer withdrew kid-b.
    issuer.publish(&json!({"keys": [jwk(KEY_A, "kid-a")]}));
    let aged = T0.plus_secs(jwks::MAX_AGE_SECS);
    assert!(cache.key("kid-b", aged).await.is_none());
    assert!(cache.key("kid-a", aged).await.is_some());
    assert_eq!(issuer.fetches(), 3);
}

#[tokio::test]
async fn the_cache_keeps_a_bounded_number_of_keys_and_skips_keys_it_cannot_use() {
    let mut keys: Vec<Value> = (0..40).map(|i| jwk(KEY_A, &format!("kid-{i}"))).collect();
    keys.insert(
        0,
        json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}),
    );
    keys.insert(0, json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}));
    let mut enc = jwk(KEY_B, "enc");
    enc["use"] = json!("enc");
    keys.insert(0, enc);
    let issuer = FakeIssuer::serving(&json!({"keys": keys}));
    let cache = JwksCache::new(issuer.clone());
    cache.refresh(T0).await;
    assert_eq!(cache.len(), MAX_KEYS);
    assert!(cache.key("kid-0", T0).await.is_some());
    assert!(cache.key("ec", T0).await.is_none());

    assert!(jwks::parse_jwks(&vec![b' '; jwks::MAX_JWKS_BYTES + 1]).is_err());
    assert!(jwks::parse_jwks(br#"{"keys": []}"#).is_err());
    assert!(jwks::parse_jwks(b"<html>").is_err());
}

/// A one-route HTTP server on loopback serving `body` with `status`, counting requests.
async fn serve_once_per_request(status: u16, body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let _read = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                if socket.write_all(head.as_bytes()).await.is_ok() {
                    let _sent = socket.write_all(&body).await;
                }
            });
        }
    });
    (format!("http://{addr}/.well-known/jwks.json"), hits)
}

#[tokio::test]
async fn the_http_fetcher_reads_a_jwks_from_a_server_and_refuses_an_oversized_or_failed_answer() {
    let (url, hits) = serve_once_per_request(200, two_key_jwks().to_string().into_bytes()).await;
    let cache = JwksCache::new(HttpJwks::new(&url).expect("client"));
    assert!(
        cache.key("kid-b", T0).await.is_some(),
        "fetched on the unknown kid"
    );
    assert!(cache.key("kid-nope", T0.plus_secs(1)).await.is_none());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the second miss is inside the interval"
    );

    let (big, _) = serve_once_per_request(200, vec![b' '; jwks::MAX_JWKS_BYTES + 1]).await;
    assert!(HttpJwks::new(&big).expect("client").fetch().await.is_err());
    let (missing, _) = serve_once_per_request(404, b"{}".to_vec()).await;
    let err = HttpJwks::new(&missing)
        .expect("client")
        .fetch()
        .await
        .unwrap_err();
    assert!(err.contains("404"), "{err}");
}

#[tokio::test]
async fn an_http_issuer_serves_the_same_verdicts_through_the_configured_verifier() {
    let (url, _) = serve_once_per_request(200, two_key_jwks().to_string().into_bytes()).await;
    let config = env(&[
        ("FLEETLIFT_JWT_ISSUER", ISSUER),
        ("FLEETLIFT_JWT_AUDIENCE", CLIENT_ID),
        ("FLEETLIFT_JWT_JWKS_URL", &url),
    ])
    .expect("valid");
    let verifier = TokenVerifier::new(config.require_jwt().expect("jwt")).expect("verifier");
    verifier.prefetch(T0).await;
    assert_eq!(verifier.jwks().map(JwksCache::len), Some(2));
    let token = signed(&access_claims("player-http", 600), KEY_B, Some("kid-b"));
    assert_eq!(
        subject(&verifier, &token).await,
        Ok("player-http".to_owned())
    );
    let foreign = signed(&access_claims("player-http", 600), OUTSIDER, Some("kid-o"));
    assert!(matches!(
        verifier.verify(&foreign, T0).await,
        Err(TokenError::UnknownKey(_))
    ));
}
