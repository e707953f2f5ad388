//! The strict gateway: routes matched on the decoded path as API Gateway's HTTP APIs match them
//! (greedy session routes, so an ARN reaches fleet-api whether it is sent percent-encoded or raw),
//! API Gateway's own 404 for a path no route matches, and the JWT rules of API Gateway's authorizer
//! on both APIs (`aud` or `client_id`, a key of the issuer's JWKS by `kid`): a Cognito-shaped access
//! token works on HTTP and on `$connect`, and a foreign key, an expired token and another audience
//! are refused on both.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

use crate::support::{As, TestStack, Ws, encode, id_of, start, start_with_session};
use fleet_local::gateway::jwt;
use fleet_local::local::{GatewayAuth, JWT_AUDIENCE, JWT_ISSUER};

/// An RSA key no JWKS of the stack publishes.
const OUTSIDER: &str = include_str!("keys/outsider.pem");

/// A call with `Authorization: Bearer <token>`: status, `www-authenticate` and JSON body.
async fn bearer(
    t: &TestStack,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut r = t.http.request(method, t.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let response = r.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let why = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        why,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Cognito access-token claims for `sub`: `client_id`, `token_use`, no `aud`.
fn access_claims(sub: &str, client_id: &str, exp_in: i64) -> Value {
    let now = jwt::unix_now();
    json!({"sub": sub, "iss": JWT_ISSUER, "client_id": client_id, "token_use": "access",
           "scope": "aws.cognito.signin.user.admin", "auth_time": now, "iat": now, "exp": now + exp_in,
           "jti": uuid::Uuid::new_v4().to_string(), "username": sub})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_percent_encoded_arn_works_for_get_join_and_delete_through_the_strict_gateway() {
    let (t, session) = start_with_session(json!({"maxPlayers": 4, "name": "by-arn"})).await;
    let id = id_of(&session);
    let arn = session["arn"].as_str().expect("arn").to_owned();
    assert!(arn.contains('/'), "a GameLift ARN has slashes: {arn}");
    let encoded = encode(&arn);

    // Get: percent-encoded, and raw (API Gateway decodes before matching, so both are one ARN).
    for path in [
        format!("/v1/sessions/{encoded}"),
        format!("/v1/sessions/{arn}"),
    ] {
        let got = t.get(As::Player("reader"), &path).await;
        assert_eq!(
            (got.status, got.body["id"].as_str()),
            (200, Some(id.as_str())),
            "{path}: {:?}",
            got.body
        );
    }

    // Join by the encoded ARN: the greedy route carries `/join`.
    let join = t.join(&encoded, "joiner").await;
    assert_eq!(join.status, 200, "join: {:?}", join.body);
    assert_eq!(join.body["session"]["id"], id.as_str());
    assert_eq!(join.body["playerSessions"][0]["playerId"], "joiner");

    // Under the greedy route, anything but `/join` is fleet-api's 404; off every route, API
    // Gateway's own.
    let other = t
        .post(
            As::Player("joiner"),
            &format!("/v1/sessions/{encoded}/leave"),
            json!({}),
        )
        .await;
    assert_eq!(
        (other.status, other.body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let not_ours = t
        .get(As::Player("joiner"), &format!("/v1/placements/{encoded}"))
        .await;
    assert_eq!(
        (not_ours.status, &not_ours.body),
        (404, &json!({"message": "Not Found"}))
    );
    let no_route = t.get(As::Player("joiner"), "/v1/sessions/").await;
    assert_eq!(
        (no_route.status, &no_route.body),
        (404, &json!({"message": "Not Found"}))
    );

    // Delete by the encoded ARN (service API only), then the session reads as ENDED.
    let deleted = t
        .delete(As::Service, &format!("/v1/sessions/{encoded}"))
        .await;
    assert_eq!(deleted.status, 204, "delete: {:?}", deleted.body);
    let ended = t.get(As::Service, &format!("/v1/sessions/{encoded}")).await;
    assert_eq!(ended.body["status"], "ENDED", "{:?}", ended.body);
    let rejoin = t.join(&encoded, "late").await;
    assert_eq!(
        rejoin.status, 409,
        "an ended session refuses joins: {:?}",
        rejoin.body
    );
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cognito_shaped_access_token_is_accepted_on_http_and_on_connect_and_bad_ones_are_refused()
{
    let t = start().await;
    let auth = GatewayAuth::local([]);
    // What `fleet-local token --sub X --access` prints: the JWKS's first key.
    let first = jwt::mint_access_token(&auth, "player-cognito", 600);
    // The JWKS's second key (a provider's next key) works the same.
    let second = jwt::sign_rs256(
        &access_claims("player-cognito", JWT_AUDIENCE, 600),
        jwt::DEV_KEYS[1].0,
    )
    .expect("the second dev key");
    for token in [&first, &second] {
        let (status, _, body) = bearer(
            &t,
            reqwest::Method::GET,
            "/v1/sessions?limit=1",
            token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _, created) = bearer(
        &t,
        reqwest::Method::POST,
        "/v1/sessions",
        &second,
        Some(json!({"maxPlayers": 2, "players": [{"playerId": "player-cognito"}]})),
    )
    .await;
    assert_eq!(status, 202, "a create for itself: {created}");
    let placement_id = created["placementId"]
        .as_str()
        .expect("placementId")
        .to_owned();

    // The same token on the WebSocket: `$connect` runs the real ws-authorizer, which fetched the
    // stack's JWKS over HTTP; the placement's result is pushed to it.
    let mut ws = Ws::connect_with(&t, &first)
        .await
        .expect("an access token connects");
    ws.send(json!({"action": "subscribe", "placementId": placement_id}))
        .await;
    let pushed = ws
        .placement_where(&t, &placement_id, |v| v["status"] == "FULFILLED")
        .await;
    assert_eq!(pushed["session"]["maxPlayers"], 2);

    // Refused on both APIs: a key outside the JWKS, an expired token, another audience (as
    // client_id and as aud).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("outsider".into());
    let outsider = jsonwebtoken::encode(
        &header,
        &access_claims("mallory", JWT_AUDIENCE, 600),
        &jsonwebtoken::EncodingKey::from_rsa_pem(OUTSIDER.as_bytes()).expect("an RSA key"),
    )
    .expect("signed");
    // The outsider's key under a published kid: the signature does not verify.
    header.kid = Some(jwt::DEV_KEYS[0].0.into());
    let impostor = jsonwebtoken::encode(
        &header,
        &access_claims("mallory", JWT_AUDIENCE, 600),
        &jsonwebtoken::EncodingKey::from_rsa_pem(OUTSIDER.as_bytes()).expect("an RSA key"),
    )
    .expect("signed");
    let expired = jwt::sign_rs256(
        &access_claims("player-cognito", JWT_AUDIENCE, -3600),
        jwt::DEV_KEYS[0].0,
    )
    .expect("signed");
    let other_client = jwt::sign_rs256(
        &access_claims("player-cognito", "another-app-client", 600),
        jwt::DEV_KEYS[0].0,
    )
    .expect("signed");
    let mut id_token = access_claims("player-cognito", JWT_AUDIENCE, 600);
    id_token["aud"] = json!("another-app-client");
    let other_aud = jwt::sign_rs256(&id_token, jwt::DEV_KEYS[0].0).expect("signed");
    for (name, token, reason) in [
        ("a key outside the JWKS", &outsider, "kid"),
        ("the outsider under a published kid", &impostor, "signature"),
        ("expired", &expired, "expired"),
        ("another client_id", &other_client, "audience"),
        (
            "another aud beside the right client_id",
            &other_aud,
            "audience",
        ),
    ] {
        let (status, why, body) =
            bearer(&t, reqwest::Method::GET, "/v1/sessions", token, None).await;
        assert_eq!(
            (status, &body),
            (401, &json!({"message": "Unauthorized"})),
            "{name}"
        );
        assert!(
            why.contains("invalid_token") && why.contains(reason),
            "{name}: {why}"
        );
        match Ws::connect_with(&t, token).await {
            Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403, "{name}"),
            other => panic!(
                "{name}: expected a refused connect, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    t.stack.shutdown().await;
}
