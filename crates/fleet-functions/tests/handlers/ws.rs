//! ws and ws-authorizer: connection rows, subscriptions with catch-up, refusals, and the `$connect`
//! token check.

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
};
use fleet_core::ports::{ConnectionStore, Notifier};
use fleet_functions::config::{JwtConfig, JwtKey};
use fleet_functions::ws;
use fleet_functions::ws_authorizer::{self, TokenError, TokenVerifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support_async::*;

/// The connection id of the sample WebSocket events.
const CONN: &str = "Zx1cHd6ZoAMCJfA=";

fn ws_event(file: &str) -> ApiGatewayWebsocketProxyRequest {
    event(&format!("ws/{file}"))
}

fn subscribe_to(placement_id: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut e = ws_event("subscribe.json");
    e.body = Some(json!({"action": "subscribe", "placementId": placement_id}).to_string());
    e
}

fn body_of(r: &aws_lambda_events::event::apigw::ApiGatewayProxyResponse) -> String {
    match &r.body {
        Some(Body::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn connect_with_the_authorizers_sub_writes_a_connection_row_that_lives_two_hours() {
    let deps = deps();

    let r = ws::handle(&deps, ws_event("connect.json")).await;

    assert_eq!(r.status_code, 200, "{}", body_of(&r));
    let row = deps
        .store
        .connection(&conn(CONN), T0)
        .await
        .unwrap()
        .expect("row written");
    assert_eq!(row.user, REQUESTER);
    assert_eq!(row.expires_at, T0.plus_secs(2 * 3600));
    assert!(
        deps.store
            .connection(&conn(CONN), T0.plus_secs(2 * 3600))
            .await
            .unwrap()
            .is_none(),
        "expired in code"
    );
}

#[tokio::test]
async fn connect_without_an_authorizer_context_is_refused_and_writes_nothing() {
    let deps = deps();
    let mut e = ws_event("connect.json");
    e.request_context.authorizer.fields.clear();

    let r = ws::handle(&deps, e).await;

    assert_eq!(r.status_code, 401);
    assert!(
        deps.store
            .connection(&conn(CONN), T0)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn disconnect_removes_the_connection_row() {
    let deps = deps();
    ws::handle(&deps, ws_event("connect.json")).await;

    let r = ws::handle(&deps, ws_event("disconnect.json")).await;

    assert_eq!(r.status_code, 200);
    assert!(
        deps.store
            .connection(&conn(CONN), T0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        deps.store
            .connections_of(REQUESTER, T0)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn subscribing_before_the_result_records_the_subscription_and_sends_nothing_yet() {
    let deps = deps();
    seed_samples(&deps.store).await;
    ws::handle(&deps, ws_event("connect.json")).await;

    let r = ws::handle(&deps, ws_event("subscribe.json")).await;

    assert_eq!(r.status_code, 200, "{}", body_of(&r));
    assert!(deps.notifier.sent().is_empty());
    let subs = deps
        .store
        .subscribers(&pid(FULFILLED_ID), T0)
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(
        (subs[0].connection.as_str(), subs[0].user.as_str()),
        (CONN, REQUESTER)
    );
}

#[tokio::test]
async fn subscribing_after_the_result_answers_at_once_with_the_users_own_player_session() {
    let deps = deps();
    seed_samples(&deps.store).await;
    apply_sample(&deps.store, "sns-fulfilled.json").await;
    ws::handle(&deps, ws_event("connect.json")).await;

    let r = ws::handle(&deps, ws_event("subscribe.json")).await;

    assert_eq!(r.status_code, 200, "{}", body_of(&r));
    let msgs = messages_to(&deps.notifier, CONN);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(
        (m["type"].as_str(), m["status"].as_str()),
        (Some("placement"), Some("FULFILLED"))
    );
    assert_eq!(m["placementId"], FULFILLED_ID);
    assert_eq!(m["session"]["ipAddress"], "203.0.113.17");
    assert_eq!(m["session"]["port"], 7777);
    assert!(
        m["session"].get("reservedSeats").is_none(),
        "internal counters stay internal"
    );
    assert_eq!(m["playerSession"]["playerId"], REQUESTER);
    assert_eq!(
        m["playerSession"]["playerSessionId"],
        "psess-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c40"
    );

    // Subscribing again does not send the same result twice.
    ws::handle(&deps, ws_event("subscribe.json")).await;
    assert_eq!(messages_to(&deps.notifier, CONN).len(), 1);
}

#[tokio::test]
async fn subscribing_to_a_finished_unfulfilled_placement_answers_with_its_reason() {
    let deps = deps();
    seed_samples(&deps.store).await;
    apply_sample(&deps.store, "sns-timed-out.json").await;
    ws::handle(&deps, ws_event("connect.json")).await;

    ws::handle(&deps, subscribe_to(TIMED_OUT_ID)).await;

    let msgs = messages_to(&deps.notifier, CONN);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["status"], "TIMED_OUT");
    assert_eq!(msgs[0]["reason"], "placement timed out in the queue");
    assert!(msgs[0].get("session").is_none() && msgs[0].get("playerSession").is_none());
}

#[tokio::test]
async fn subscribing_to_someone_elses_placement_is_answered_exactly_like_an_unknown_one() {
    let deps = deps();
    seed(
        &deps.store,
        &[placement("p-other", "player-else", &["player-else"])],
    )
    .await;
    ws::handle(&deps, ws_event("connect.json")).await;

    let theirs = ws::handle(&deps, subscribe_to("p-other")).await;
    let unknown = ws::handle(&deps, subscribe_to("p-nobodys")).await;

    assert_eq!((theirs.status_code, unknown.status_code), (404, 404));
    assert_eq!(theirs.body, unknown.body);
    let msgs = messages_to(&deps.notifier, CONN);
    let refusal = |id: &str| json!({"type": "error", "error": {"code": "not_found", "message": "no such placement"}, "placementId": id});
    assert_eq!(msgs, vec![refusal("p-other"), refusal("p-nobodys")]);
    assert!(
        deps.store
            .subscribers(&pid("p-other"), T0)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_listed_player_who_did_not_request_the_placement_may_subscribe() {
    let deps = deps();
    seed(
        &deps.store,
        &[placement("p-listed", "player-else", &[REQUESTER])],
    )
    .await;
    ws::handle(&deps, ws_event("connect.json")).await;

    let r = ws::handle(&deps, subscribe_to("p-listed")).await;

    assert_eq!(r.status_code, 200);
    assert_eq!(
        deps.store
            .subscribers(&pid("p-listed"), T0)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn malformed_and_unknown_subscribes_are_answered_with_error_codes() {
    let deps = deps();
    ws::handle(&deps, ws_event("connect.json")).await;
    let cases: [(Option<&str>, i64, &str); 5] = [
        (Some("not json"), 400, "invalid_argument"),
        (Some(r#"{"action":"subscribe"}"#), 400, "invalid_argument"),
        (
            Some(r#"{"action":"subscribe","placementId":"bad id!"}"#),
            400,
            "invalid_argument",
        ),
        (
            Some(r#"{"action":"subscribe","placementId":"p-1","extra":1}"#),
            400,
            "invalid_argument",
        ),
        (
            Some(r#"{"action":"subscribe","placementId":"p-missing"}"#),
            404,
            "not_found",
        ),
    ];
    for (body, status, code) in cases {
        let mut e = ws_event("subscribe.json");
        e.body = body.map(str::to_owned);
        let before = deps.notifier.sent().len();

        let r = ws::handle(&deps, e).await;

        assert_eq!(r.status_code, status, "{body:?}");
        let sent = deps.notifier.sent();
        assert_eq!(sent.len(), before + 1, "{body:?}");
        let msg: Value = serde_json::from_slice(&sent[before].1).unwrap();
        assert_eq!(msg["error"]["code"], code, "{body:?}");
    }
}

#[tokio::test]
async fn a_subscribe_on_a_connection_that_was_never_recorded_is_unauthenticated() {
    let deps = deps();
    seed_samples(&deps.store).await;

    let r = ws::handle(&deps, ws_event("subscribe.json")).await;

    assert_eq!(r.status_code, 401);
    assert_eq!(
        messages_to(&deps.notifier, CONN)[0]["error"]["code"],
        "unauthenticated"
    );
}

#[tokio::test]
async fn a_gone_caller_does_not_break_the_subscribe_answer() {
    let deps = deps();
    ws::handle(&deps, ws_event("connect.json")).await;
    deps.notifier.close(CONN);
    let r = ws::handle(&deps, subscribe_to("p-nowhere")).await;
    assert_eq!(r.status_code, 404);
    assert!(deps.notifier.send(CONN, b"x").await.is_err());
}

// ---- ws-authorizer ----

const ISSUER: &str = "fleetlift-local";
const AUDIENCE: &str = "fleetlift";
const DEV_KEY: &[u8] = b"fleetlift-local-dev-key-not-secret";
const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:k7x2m9q4ab/prod/$connect";

fn hs256_verifier() -> TokenVerifier {
    TokenVerifier::new(&JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        key: JwtKey::Hs256(DEV_KEY.to_vec()),
    })
    .expect("valid config")
}

fn claims(sub: &str, exp_from_t0: i64) -> Value {
    json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": T0.epoch_seconds(), "exp": T0.epoch_seconds() + exp_from_t0})
}

fn hs256(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
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
    serde_json::from_value(v).unwrap()
}

fn effect(response: &aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerResponse) -> Value {
    serde_json::to_value(response).unwrap()["policyDocument"]["Statement"][0]["Effect"].clone()
}

#[tokio::test]
async fn the_sample_authorizer_event_is_allowed_with_the_sub_in_its_context() {
    let deps = deps();
    let request: ApiGatewayCustomAuthorizerRequestTypeRequest = event("ws/authorizer.json");

    let response = ws_authorizer::handle(&deps, &hs256_verifier(), request).await;

    let v = serde_json::to_value(&response).unwrap();
    assert_eq!(v["principalId"], REQUESTER);
    assert_eq!(v["context"], json!({"sub": REQUESTER}));
    assert_eq!(
        v["policyDocument"],
        json!({"Version": "2012-10-17", "Statement": [{"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [METHOD_ARN]}]})
    );
}

#[test]
fn bad_tokens_are_denied_each_for_its_own_reason() {
    let verifier = hs256_verifier();
    let good = claims("player-1", 3600);
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("someone-else");
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-api");
    let mut no_sub = good.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    // {"alg":"none"} with valid claims and an empty signature.
    let none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJwbGF5ZXItMSIsImlzcyI6ImZsZWV0bGlmdC1sb2NhbCIsImF1ZCI6ImZsZWV0bGlmdCIsImV4cCI6NDEwMjQ0NDgwMH0.".to_owned();
    type Case = (&'static str, Option<String>, fn(&TokenError) -> bool);
    let cases: Vec<Case> = vec![
        ("missing token", None, |e| *e == TokenError::Missing),
        (
            "expired",
            Some(hs256(&claims("player-1", -3600), DEV_KEY)),
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
            matches!(e, TokenError::MissingClaim(_) | TokenError::Malformed(_))
        }),
        (
            "sub not a player id",
            Some(hs256(&claims("bad\nsub", 3600), DEV_KEY)),
            |e| *e == TokenError::BadSubject,
        ),
        ("garbage", Some("not.a.jwt".into()), |e| {
            matches!(e, TokenError::Malformed(_))
        }),
    ];
    for (name, token, expected) in cases {
        if let Some(t) = &token {
            let err = verifier.verify(t, T0).expect_err(name);
            assert!(expected(&err), "{name}: {err:?}");
        }
        let response =
            ws_authorizer::authorize(&verifier, &authorizer_request(token.as_deref()), T0);
        assert_eq!(effect(&response), "Deny", "{name}");
        let v = serde_json::to_value(&response).unwrap();
        assert_eq!(v["context"], json!({}), "{name}: no identity on a Deny");
        assert_eq!(
            v["policyDocument"]["Statement"][0]["Resource"],
            json!([METHOD_ARN]),
            "{name}"
        );
    }
}

#[test]
fn a_token_within_the_clock_skew_leeway_is_still_accepted() {
    let verifier = hs256_verifier();
    let just_expired = hs256(
        &claims("player-1", -(ws_authorizer::LEEWAY_SECS - 5)),
        DEV_KEY,
    );
    assert_eq!(
        verifier.verify(&just_expired, T0).unwrap().as_str(),
        "player-1"
    );
    let mut future = claims("player-1", 3600);
    future["nbf"] = json!(T0.epoch_seconds() + 600);
    assert_eq!(
        verifier.verify(&hs256(&future, DEV_KEY), T0),
        Err(TokenError::NotYetValid)
    );
}

/// A throwaway RSA key pair for the RS256 tests (generated for these tests only).
const TEST_RSA_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDspHpimF86k+Gb
NXB9JzvmThoi8t1HoQQ1LdJ8f8F6WQCozvw9BZDhKSVrkD2gkXFxWES0TJQ98Gpg
wwgudaTU5lBgybu86pUj+nhqCtx/e85f2q2C0tvbldURWeIH4sh8fVLO7iOyBp1/
FSenLJ6TGRweFvSW/yehRRCvmk3kXMCrnA0UCG7ba/0p4uPiTw2+6gz+szA2j/4C
GUgBOyhwpPPv9Zz9uR9eBdj8qUC86bAMfnfHbfPwPezb/YLHbzQQL5rh/iV+gm4e
kbe4WGkhKCaC0wYL/PAA6TcZobvW1B9GZ235l6b0JWi774extt24pjYkn1a2vmZE
8Bp3+XefAgMBAAECggEAX6upfPXsPhLuWWDz/u0fNt9piqqUUnKi8Fr7p3DBCFU2
QokYChWXeqg3ZDK275UNf4z3jcsN/bKWV1NSGfJe9uG8Kj00xM40CI0pJHoKphGo
IDGZB3R3BWIgd3jWvGhvtIC4O0ekr8Mj5m5njxsnawHyT6npLaivXXA+LDheeE1O
W1nho+dE9FpzL8coTec8jrOs1or6XohPVBSos10NOhPvg/HzpsdatZbFp4qQ/34o
KHTh2D/vVJRKJP4LkJM9+JidFJyxWB22thpzI0h3fFjbcjxRf+MaFNn4rL7aX8A5
QLo8hze3pSpqGot2Dwm9ayN6iOfx7KRE2b4fg7HthQKBgQD7GlILFHTFX+Ha3jtY
hRGEof+m5tFSAFRr7YSQtXFtspydkgBLHh4L64b7296cNoN5VPIw8ZlrGYlh7j2p
4IKQYpeylDclvtdaF+av6IZDeUVdc9J/GAYs2EuWhC6R5rVQm8rAENX6JHr+F8ow
B2seePzSD5H4sWWw/eSvAfyQLQKBgQDxQfYs5lhmw+FKMU/+/S9d21AnaeZt6Pzr
Kk5b+ueh7dL81cg4rq6c2LXRqTyIiJdPUL0mK+qFCVtycn+10qt5M1qCKNxn2CRA
UsY1GudGe/uyMUo9wt7G1Kb8FLytFtXJW464Vvz2ZzCQ9g4Ug6Kg26Q3G03BsEe9
3yxf2o46ewKBgQDPEVluwaO5z+PUNUcDLFjR4zWLUPR0hskXZ3rWSooLSCtW1Ttg
tqlYcxWRRDNC5sFsoNxH+DPn2dss4uX+3KFOp78pCIihm8rDBMq7bSirI6pL8mM3
Y3xUJtnOeZpdvr7uhkqgMEIEUWkLeFrHWJbBPkxefXCGgOO3HOgkWaMI0QKBgQDZ
c3itk5jOV3NyaewOiqns0MX4IG1/V2bPl7w1D3tD6pYnKZFj9Z6Q5ItMxFs5PNQU
u1MhWqfw7TQtfaI6gf3oKi9D7gxq1Ngn2fOo3ezjDNEaFW8zJ7egQv+XaiF9aX2c
FhgXcuBiPzP5FK4wM02b6xyiRsvY7khbjRHz+4wCjQKBgCkDO/Na69zYxT+y+zmK
21rTjLBsyo3DVIizpuCNkqFCTcq3IfEz2E/gMFkGrLHKqaDKjHzZz+ZDufvLtHAQ
jHlxzdxezclegyn0madnJRYgi2BHSJrHmWRSnAACM1otKlP57L1ETDuPbWoJTqVT
Yf9UodKwF6nGceQe3M6Qrv+v
-----END PRIVATE KEY-----";
const TEST_RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7KR6YphfOpPhmzVwfSc7
5k4aIvLdR6EENS3SfH/BelkAqM78PQWQ4Skla5A9oJFxcVhEtEyUPfBqYMMILnWk
1OZQYMm7vOqVI/p4agrcf3vOX9qtgtLb25XVEVniB+LIfH1Szu4jsgadfxUnpyye
kxkcHhb0lv8noUUQr5pN5FzAq5wNFAhu22v9KeLj4k8NvuoM/rMwNo/+AhlIATso
cKTz7/Wc/bkfXgXY/KlAvOmwDH53x23z8D3s2/2Cx280EC+a4f4lfoJuHpG3uFhp
ISgmgtMGC/zwAOk3GaG71tQfRmdt+Zem9CVou++HsbbduKY2JJ9Wtr5mRPAad/l3
nwIDAQAB
-----END PUBLIC KEY-----";

#[test]
fn an_rs256_verifier_accepts_its_providers_tokens_and_refuses_an_hs256_token_made_with_its_public_key()
 {
    let verifier = TokenVerifier::new(&JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        key: JwtKey::Rs256Pem(TEST_RSA_PUBLIC.into()),
    })
    .expect("valid PEM");
    let key = EncodingKey::from_rsa_pem(TEST_RSA_PRIVATE.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims("player-rsa", 600),
        &key,
    )
    .unwrap();
    assert_eq!(verifier.verify(&token, T0).unwrap().as_str(), "player-rsa");

    // The classic key-confusion attack: an HS256 token whose secret is the public key's PEM.
    let forged = hs256(&claims("player-rsa", 600), TEST_RSA_PUBLIC.as_bytes());
    assert!(verifier.verify(&forged, T0).is_err());

    let bad = TokenVerifier::new(&JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        key: JwtKey::Rs256Pem("not a pem".into()),
    });
    assert_eq!(bad.unwrap_err().var, "FLEETLIFT_JWT_PUBLIC_KEY_PEM");
}
