//! R09 authz (I7): who may do what, end to end through the handlers, and the credentials the
//! gateways check in front of them.
//!
//! 1. **The handler matrix**, the one authorization matrix of the project: 9 identities (none, two
//!    players, the service, a game server of each fleet, an unconfigured IAM user, the service's role
//!    name in a foreign account, a player whose `sub` spells the service's role ARN: refused, see
//!    below) × 29 routes that differ in ownership (own/other's placement, a placement the caller is
//!    only listed in, own/other fleet by ARN and by short id, joins, creates and connection details
//!    for self, for another and for both, cancels, locks, locations) against a table written by hand
//!    from docs/architecture.md#authorization. Every case runs on a fresh world. A denial must carry
//!    the exact status and code of [`denial`] (401, 403, or 404 for a placement the caller may not
//!    see) and call nothing downstream.
//! 2. **JWTs**: forged, expired, `alg: none`, wrong key/issuer/audience, HS512, tampered payloads,
//!    missing claims, garbage, through `fleet_functions::ws_authorizer` (the `$connect` authorizer,
//!    including connects with no token) and `fleet_local::gateway::jwt::verify` (the local HTTP
//!    gateway's JWT authorizer).
//! 3. **SigV4** through `fleet_local::gateway::sigv4::verify`: a valid signature, then wrong secret,
//!    unknown key, stale and future dates, tampered body/path/method/headers, wrong region/service.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use fleet_core::fakes::FakeGameLift;
use fleet_core::ids::GameSessionArn;
use fleet_core::model::{Placement, Session};
use fleet_core::ports::SessionStore as _;
use fleet_core::time::Timestamp;
use fleet_functions::ws_authorizer::{TokenVerifier, authorize};
use fleet_reliability::fixtures::{T0, arn};
use fleet_reliability::scorecard;
use fleet_testkit::records;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::support_http::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum C {
    Nobody,
    Ann,
    Bob,
    Service,
    GsOwn,
    GsOther,
    Stranger,
    ForeignAccount,
    SubLikeService,
}

const CALLERS: [C; 9] = [
    C::Nobody,
    C::Ann,
    C::Bob,
    C::Service,
    C::GsOwn,
    C::GsOther,
    C::Stranger,
    C::ForeignAccount,
    C::SubLikeService,
];

impl C {
    fn who(self) -> Who {
        match self {
            Self::Nobody => Who::Nobody,
            Self::Ann => Who::player("ann"),
            Self::Bob => Who::player("bob"),
            Self::Service => Who::iam(SERVICE),
            Self::GsOwn => Who::iam(GS_OWN),
            Self::GsOther => Who::iam(GS_OTHER),
            Self::Stranger => Who::iam(STRANGER),
            Self::ForeignAccount => {
                Who::iam("arn:aws:sts::999999999999:assumed-role/fleetlift-backend/matchmaker-1")
            }
            Self::SubLikeService => Who::player("arn:aws:iam::123456789012:role/fleetlift-backend"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    CreateForAnn,
    CreateForBob,
    CreateAnnWithBobsLatency,
    PlacementOfAnn,
    PlacementAnnListed,
    PlacementOfBob,
    PlacementOfService,
    List,
    ListExplain,
    SessionOwnFleet,
    SessionOtherFleetByArn,
    JoinAsAnn,
    JoinAsBob,
    JoinAnnAndBob,
    DeleteOwnFleet,
    DeleteOtherFleetByArnTerminate,
    UpdateOwnByArn,
    UpdateOtherById,
    DeleteInfoOwnById,
    DeleteInfoOtherByArn,
    CancelOfAnn,
    CancelOfBob,
    CancelAnnListed,
    Locations,
    LockOwnFleet,
    ProtectOtherByArn,
    ConnectionOfAnn,
    ConnectionOfBob,
    ConnectionAnnAndBob,
}

const ROUTES: [R; 29] = [
    R::CreateForAnn,
    R::CreateForBob,
    R::CreateAnnWithBobsLatency,
    R::PlacementOfAnn,
    R::PlacementAnnListed,
    R::PlacementOfBob,
    R::PlacementOfService,
    R::List,
    R::ListExplain,
    R::SessionOwnFleet,
    R::SessionOtherFleetByArn,
    R::JoinAsAnn,
    R::JoinAsBob,
    R::JoinAnnAndBob,
    R::DeleteOwnFleet,
    R::DeleteOtherFleetByArnTerminate,
    R::UpdateOwnByArn,
    R::UpdateOtherById,
    R::DeleteInfoOwnById,
    R::DeleteInfoOtherByArn,
    R::CancelOfAnn,
    R::CancelOfBob,
    R::CancelAnnListed,
    R::Locations,
    R::LockOwnFleet,
    R::ProtectOtherByArn,
    R::ConnectionOfAnn,
    R::ConnectionOfBob,
    R::ConnectionAnnAndBob,
];

/// The expected table (docs/architecture.md#authorization), by hand.
fn allowed(r: R) -> &'static [C] {
    use C::*;
    match r {
        R::CreateForAnn => &[Ann, Service],
        R::CreateForBob => &[Bob, Service],
        R::CreateAnnWithBobsLatency => &[Service],
        R::PlacementOfAnn => &[Ann, Service],
        R::PlacementAnnListed => &[Ann, Bob, Service],
        R::PlacementOfBob => &[Bob, Service],
        R::PlacementOfService => &[Service],
        R::List | R::SessionOwnFleet | R::SessionOtherFleetByArn => {
            &[Ann, Bob, Service, GsOwn, GsOther]
        }
        R::ListExplain => &[Service],
        R::JoinAsAnn => &[Ann, Service],
        R::JoinAsBob => &[Bob, Service],
        R::JoinAnnAndBob => &[Service],
        R::DeleteOwnFleet | R::DeleteOtherFleetByArnTerminate => &[Service],
        R::UpdateOwnByArn | R::DeleteInfoOwnById => &[Service, GsOwn],
        R::UpdateOtherById | R::DeleteInfoOtherByArn => &[Service, GsOther],
        R::CancelOfAnn => &[Ann, Service],
        R::CancelOfBob => &[Bob, Service],
        // Ann is listed in it (so she may read it) but Bob requested it: only he or a service cancels.
        R::CancelAnnListed => &[Bob, Service],
        R::Locations => &[Ann, Bob, Service, GsOwn, GsOther],
        R::LockOwnFleet => &[Service, GsOwn],
        R::ProtectOtherByArn => &[Service, GsOther],
        R::ConnectionOfAnn => &[Ann, Service],
        R::ConnectionOfBob => &[Bob, Service],
        R::ConnectionAnnAndBob => &[Service],
    }
}

/// How a denial must look, status and error code: 401 without an identity the API accepts, 403 for
/// an unconfigured principal or a refused action, 404 for a placement the caller may not see (its
/// existence is not disclosed); game servers may not cancel at all, and a listed player may read a
/// placement but not cancel it.
fn denial(r: R, c: C) -> (u16, &'static str) {
    let cancel = matches!(r, R::CancelOfAnn | R::CancelOfBob | R::CancelAnnListed);
    let read = matches!(
        r,
        R::PlacementOfAnn | R::PlacementAnnListed | R::PlacementOfBob | R::PlacementOfService
    );
    match c {
        C::Nobody | C::SubLikeService => (401, "unauthenticated"),
        C::Stranger | C::ForeignAccount => (403, "forbidden"),
        C::GsOwn | C::GsOther if cancel => (403, "forbidden"),
        C::Ann if r == R::CancelAnnListed => (403, "forbidden"),
        _ if cancel || read => (404, "not_found"),
        _ => (403, "forbidden"),
    }
}

fn other_arn() -> GameSessionArn {
    GameSessionArn::parse(&format!(
        "arn:aws:gamelift:us-west-2::gamesession/{OTHER_FLEET}/gsess-other"
    ))
    .expect("arn")
}

fn session(a: GameSessionArn) -> Session {
    records::session(a.as_str(), 8)
}

fn placement(id: &str, requester: &str, players: &[&str]) -> Placement {
    records::placement(id, requester, 8, players)
}

async fn world() -> MemDeps<FakeGameLift> {
    let d = deps();
    let own = session(arn("w", 1));
    let other = session(other_arn());
    d.store.seed_sessions(&[own.clone(), other.clone()]);
    d.gamelift.add_session(&own.arn, "ACTIVE", 8);
    d.gamelift.add_session(&other.arn, "ACTIVE", 8);
    for p in [
        placement("pl-ann", "ann", &["ann"]),
        placement("pl-listed", "bob", &["ann", "bob"]),
        placement("pl-bob", "bob", &[]),
        placement(
            "pl-svc",
            "arn:aws:iam::123456789012:role/fleetlift-backend",
            &["someone-else"],
        ),
    ] {
        d.store
            .create_placement(&p, None)
            .await
            .expect("seed placement");
    }
    d
}

async fn call(d: &MemDeps<FakeGameLift>, r: R, c: C) -> Answer {
    let who = c.who();
    let own = arn("w", 1);
    let s1 = own.session_id().into_string();
    let s2 = other_arn().session_id().into_string();
    let oa = other_arn().as_str().to_owned();
    let body_id = |id: &str, extra: &str| format!("{{\"id\":\"{id}\"{extra}}}");
    // Joins and connection details take the same `{"players": [...]}` body.
    let join = |players: &[&str]| Ev::post(&format!("/v1/sessions/{s1}/join"), join_body(players));
    let connection =
        |players: &[&str]| Ev::post(&format!("/v1/sessions/{s1}/connection"), join_body(players));
    match r {
        R::CreateForAnn => {
            api(
                d,
                Ev::post("/v1/sessions", create_body(4, &["ann"])).by(who),
            )
            .await
        }
        R::CreateForBob => {
            api(
                d,
                Ev::post("/v1/sessions", create_body(4, &["bob"])).by(who),
            )
            .await
        }
        R::CreateAnnWithBobsLatency => {
            let b = json!({"maxPlayers": 4, "players": [{"playerId": "ann"}], "latencies": [{"playerId": "bob", "region": "us-east-1", "latencyMs": 20}]});
            api(d, Ev::post("/v1/sessions", b.to_string()).by(who)).await
        }
        R::PlacementOfAnn => api(d, Ev::get("/v1/placements/pl-ann").by(who)).await,
        R::PlacementAnnListed => api(d, Ev::get("/v1/placements/pl-listed").by(who)).await,
        R::PlacementOfBob => api(d, Ev::get("/v1/placements/pl-bob").by(who)).await,
        R::PlacementOfService => api(d, Ev::get("/v1/placements/pl-svc").by(who)).await,
        R::List => api(d, Ev::get("/v1/sessions").by(who)).await,
        R::ListExplain => api(d, Ev::get("/v1/sessions").query("explain=true").by(who)).await,
        R::SessionOwnFleet => api(d, Ev::get(&format!("/v1/sessions/{s1}")).by(who)).await,
        R::SessionOtherFleetByArn => {
            api(d, Ev::get(&format!("/v1/sessions/{}", encode(&oa))).by(who)).await
        }
        R::JoinAsAnn => api(d, join(&["ann"]).by(who)).await,
        R::JoinAsBob => api(d, join(&["bob"]).by(who)).await,
        R::JoinAnnAndBob => api(d, join(&["ann", "bob"]).by(who)).await,
        R::DeleteOwnFleet => api(d, Ev::delete(&format!("/v1/sessions/{s1}")).by(who)).await,
        R::DeleteOtherFleetByArnTerminate => {
            api(
                d,
                Ev::delete(&format!("/v1/sessions/{}", encode(&oa)))
                    .query("terminate=true")
                    .by(who),
            )
            .await
        }
        R::UpdateOwnByArn => {
            rpc(
                d,
                Ev::post(
                    "/v1/rpc/update_instance_info",
                    body_id(own.as_str(), ",\"playerCount\":2"),
                )
                .by(who),
            )
            .await
        }
        R::UpdateOtherById => {
            rpc(
                d,
                Ev::post(
                    "/v1/rpc/update_instance_info",
                    body_id(&s2, ",\"player_count\":2"),
                )
                .by(who),
            )
            .await
        }
        R::DeleteInfoOwnById => {
            rpc(
                d,
                Ev::post("/v1/rpc/delete_instance_info", body_id(&s1, "")).by(who),
            )
            .await
        }
        R::DeleteInfoOtherByArn => {
            rpc(
                d,
                Ev::post("/v1/rpc/delete_instance_info", body_id(&oa, "")).by(who),
            )
            .await
        }
        R::CancelOfAnn => api(d, Ev::delete("/v1/placements/pl-ann").by(who)).await,
        R::CancelOfBob => api(d, Ev::delete("/v1/placements/pl-bob").by(who)).await,
        R::CancelAnnListed => api(d, Ev::delete("/v1/placements/pl-listed").by(who)).await,
        R::Locations => api(d, Ev::get("/v1/locations").by(who)).await,
        R::LockOwnFleet => {
            api(
                d,
                Ev::new("PATCH", &format!("/v1/sessions/{s1}"))
                    .body(r#"{"joinable":false}"#)
                    .by(who),
            )
            .await
        }
        R::ProtectOtherByArn => {
            api(
                d,
                Ev::new("PATCH", &format!("/v1/sessions/{}", encode(&oa)))
                    .body(r#"{"protected":true}"#)
                    .by(who),
            )
            .await
        }
        R::ConnectionOfAnn => api(d, connection(&["ann"]).by(who)).await,
        R::ConnectionOfBob => api(d, connection(&["bob"]).by(who)).await,
        R::ConnectionAnnAndBob => api(d, connection(&["ann", "bob"]).by(who)).await,
    }
}

/// The handler matrix; returns (cases, violations).
async fn matrix() -> (u64, Vec<String>) {
    let mut out = Vec::new();
    let mut cases = 0;
    for r in ROUTES {
        for c in CALLERS {
            cases += 1;
            let d = world().await;
            let a = call(&d, r, c).await;
            let want = allowed(r).contains(&c);
            let got = (200..300).contains(&a.status);
            if want && !got {
                out.push(format!(
                    "wrong deny: {r:?} by {c:?} → {} {}",
                    a.status, a.body
                ));
            } else if !want && got {
                out.push(format!("wrong allow: {r:?} by {c:?} → {}", a.status));
            } else if !want {
                let (status, code) = denial(r, c);
                if (a.status, a.code()) != (status, code) {
                    out.push(format!(
                        "wrong denial: {r:?} by {c:?} → {} {} (expected {status} {code})",
                        a.status,
                        a.code()
                    ));
                }
                if !d.gamelift.calls().is_empty() {
                    out.push(format!(
                        "wrong allow: denied {r:?} by {c:?} still called GameLift: {:?}",
                        d.gamelift.calls()
                    ));
                }
            }
        }
    }
    (cases, out)
}

fn b64(v: &serde_json::Value) -> String {
    B64.encode(v.to_string())
}

/// Token cases: (name, token, should be accepted), for an issuer/audience/secret and a clock.
fn tokens(iss: &str, aud: &str, secret: &[u8], now: i64) -> Vec<(String, String, bool)> {
    let sign = |alg: Algorithm, claims: &serde_json::Value, key: &[u8]| {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key))
            .expect("sign")
    };
    let good = json!({"iss": iss, "aud": aud, "sub": "ann", "iat": now, "exp": now + 3600});
    let with = |k: &str, v: serde_json::Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().expect("object").remove(k);
        c
    };
    let valid = sign(Algorithm::HS256, &good, secret);
    let parts: Vec<&str> = valid.split('.').collect();
    // Hand-made tokens: `header.payload.signature`, each part as given.
    let join = |h: &str, p: &str, sig: &str| format!("{h}.{p}.{sig}");
    let alg = |name: &str| b64(&json!({"alg": name, "typ": "JWT"}));
    let payload = b64(&good);
    let forged_payload = join(parts[0], &b64(&with("sub", json!("mallory"))), parts[2]);
    let none = join(&alg("none"), &payload, "");
    let none_sig = join(&alg("none"), &payload, parts[2]);
    let none_upper = join(&alg("NONE"), &payload, "");
    let rs_header = join(&alg("RS256"), parts[1], parts[2]);
    let hs = |claims: &serde_json::Value| sign(Algorithm::HS256, claims, secret);
    let accepted = |name: &str, token: String| (name.to_owned(), token, true);
    let refused = |name: &str, token: String| (name.to_owned(), token, false);
    vec![
        accepted("valid", valid.clone()),
        accepted(
            "valid, expired 10 s ago (within the 30 s leeway)",
            hs(&with("exp", json!(now - 10))),
        ),
        refused("expired an hour ago", hs(&with("exp", json!(now - 3600)))),
        refused("expired 31 s ago", hs(&with("exp", json!(now - 31)))),
        refused("nbf in an hour", hs(&with("nbf", json!(now + 3600)))),
        refused("alg none", none),
        refused("alg none with the real signature", none_sig),
        refused("alg NONE", none_upper),
        refused("RS256 header over an HS256 signature", rs_header),
        refused(
            "HS512 with the right secret",
            sign(Algorithm::HS512, &good, secret),
        ),
        refused(
            "HS384 with the right secret",
            sign(Algorithm::HS384, &good, secret),
        ),
        refused(
            "wrong secret",
            sign(Algorithm::HS256, &good, b"not-the-secret-at-all-0123456789"),
        ),
        refused("empty secret", sign(Algorithm::HS256, &good, b"")),
        refused(
            "wrong issuer",
            hs(&with("iss", json!("https://evil.example/"))),
        ),
        refused("wrong audience", hs(&with("aud", json!("someone-else")))),
        refused("no sub", hs(&without("sub"))),
        refused("empty sub", hs(&with("sub", json!("")))),
        refused("no exp", hs(&without("exp"))),
        refused("exp as a string", hs(&with("exp", json!("never")))),
        refused("no iss", hs(&without("iss"))),
        refused("no aud", hs(&without("aud"))),
        refused("payload tampered (sub swapped)", forged_payload),
        refused("signature stripped", join(parts[0], parts[1], "")),
        refused(
            "signature truncated",
            join(parts[0], parts[1], &parts[2][..parts[2].len() - 2]),
        ),
        refused("two parts", format!("{}.{}", parts[0], parts[1])),
        refused("garbage", "not a token".into()),
        refused("empty", String::new()),
        refused("dots", "...".into()),
        refused("64 KiB of A", "A".repeat(64 * 1024)),
        refused("valid token with a trailing space", format!("{valid} ")),
        refused("Bearer prefix inside the token", format!("Bearer {valid}")),
    ]
}

fn connect_request(
    token: Option<&str>,
) -> aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest {
    let mut q = json!({});
    if let Some(t) = token {
        q["token"] = json!(t);
    }
    serde_json::from_value(json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/production/$connect",
        "headers": {}, "queryStringParameters": q,
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c-1"}
    }))
    .expect("an authorizer request")
}

fn effect_allows(r: &aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerResponse) -> bool {
    let v = serde_json::to_value(r).expect("serialize");
    v["policyDocument"]["Statement"]
        .as_array()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|x| x["Effect"] == "Allow"))
}

/// JWT cases through the `$connect` authorizer and the local gateway's verifier.
async fn jwt_cases() -> (u64, Vec<String>) {
    let mut out = Vec::new();
    let mut tried = 0;
    let now = T0.epoch_seconds();
    let cfg = config();
    let verifier = TokenVerifier::new(cfg.jwt.as_ref().expect("jwt config")).expect("verifier");
    let mut cases = tokens(ISSUER, AUDIENCE, JWT_SECRET.as_bytes(), now);
    let arn_sub = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "arn:aws:iam::123456789012:role/fleetlift-backend", "exp": now + 3600});
    let arn_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &arn_sub,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign");
    cases.push((
        "a sub that spells the service's role ARN".into(),
        arn_token,
        false,
    ));
    for (name, token, ok) in cases.drain(..) {
        tried += 1;
        let got = effect_allows(
            &authorize(
                &verifier,
                &connect_request(Some(&token)),
                Timestamp::from_millis(now * 1000),
            )
            .await,
        );
        if got != ok {
            out.push(format!(
                "ws_authorizer {}: {name}",
                if got { "wrong allow" } else { "wrong deny" }
            ));
        }
    }
    for (name, req) in [
        ("no token", connect_request(None)),
        ("empty token", connect_request(Some(""))),
    ] {
        tried += 1;
        if effect_allows(&authorize(&verifier, &req, T0).await) {
            out.push(format!("ws_authorizer wrong allow: {name}"));
        }
    }
    let auth = fleet_local::local::GatewayAuth::local([]);
    let wall = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    for (name, token, ok) in tokens(&auth.jwt_issuer, &auth.jwt_audience, &auth.jwt_secret, wall) {
        tried += 1;
        let got = fleet_local::gateway::jwt::verify(&auth, &token, wall).is_ok();
        if got != ok {
            out.push(format!(
                "gateway jwt {}: {name}",
                if got { "wrong allow" } else { "wrong deny" }
            ));
        }
    }
    // The gateway's own minted token is accepted (no wrong deny of the documented dev flow).
    tried += 1;
    let minted = fleet_local::gateway::jwt::mint_token(&auth, "ann", 600);
    if fleet_local::gateway::jwt::verify(&auth, &minted, wall).is_err() {
        out.push("gateway jwt wrong deny: a minted token".into());
    }
    (tried, out)
}

/// Who signs, for where and when: each case varies one of them.
#[derive(Clone, Copy)]
struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    region: &'a str,
    service: &'a str,
    at: SystemTime,
}

/// The headers of `method url` with `body`, as `by` signs them (host and content type included).
fn sign_v4(method: &str, url: &str, body: &[u8], by: Signer<'_>) -> http::HeaderMap {
    let host = url
        .split("//")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("localhost")
        .to_owned();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
    ];
    let key = fleet_local::signing::SigningKey {
        access_key: by.key.to_owned(),
        secret: by.secret.to_owned(),
    };
    let (scope, at) = ((by.region, by.service), by.at);
    let signature =
        fleet_local::signing::sigv4_headers_at(method, url, &headers, body, &key, scope, at)
            .expect("sign");
    let mut map = http::HeaderMap::new();
    let unsigned = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    for (k, v) in unsigned.chain(signature) {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    map
}

/// SigV4 cases through the local gateway's verifier.
fn sigv4_cases() -> (u64, Vec<String>) {
    use fleet_local::local::{GatewayAuth, REGION, SERVICE_ACCESS_KEY, SERVICE_SECRET};
    let auth = GatewayAuth::local([]);
    let now = SystemTime::now();
    let url = "http://127.0.0.1:4000/v1/rpc/update_instance_info?x=1";
    let path = "/v1/rpc/update_instance_info?x=1";
    let body = br#"{"id":"s","playerCount":1}"#;
    let signer = Signer {
        key: SERVICE_ACCESS_KEY,
        secret: SERVICE_SECRET,
        region: REGION,
        service: "execute-api",
        at: now,
    };
    let good = sign_v4("POST", url, body, signer);
    let mut tampered_header = good.clone();
    tampered_header.insert("content-type", "text/plain".parse().expect("ct"));
    let mut no_auth = good.clone();
    no_auth.remove("authorization");
    let mut forged_date = good.clone();
    forged_date.insert("x-amz-date", "20991231T000000Z".parse().expect("date"));
    // (case, method, path, body, headers, accepted)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [u8], http::HeaderMap, bool);
    // The request as signed, by the good signer with `change` made.
    let signed = |name, change: &dyn Fn(&mut Signer<'static>), ok| -> Case<'_> {
        let mut by = signer;
        change(&mut by);
        (name, "POST", path, body, sign_v4("POST", url, body, by), ok)
    };
    // The good signature on a request that differs from the one signed.
    let altered = |name, method, path, body, headers| -> Case<'_> {
        (name, method, path, body, headers, false)
    };
    let ago = |secs| now - Duration::from_secs(secs);
    let cases: Vec<Case<'_>> = vec![
        signed("valid", &|_| {}, true),
        signed("valid, signed 4 minutes ago", &|s| s.at = ago(240), true),
        signed("wrong secret", &|s| s.secret = "not-the-secret", false),
        signed(
            "unknown access key",
            &|s| s.key = "AKIAUNKNOWN000000000",
            false,
        ),
        signed("stale date (10 minutes old)", &|s| s.at = ago(600), false),
        signed(
            "future date (+10 minutes)",
            &|s| s.at = now + Duration::from_secs(600),
            false,
        ),
        signed("a day old", &|s| s.at = ago(86_400), false),
        signed("wrong region", &|s| s.region = "eu-west-1", false),
        signed("wrong service", &|s| s.service = "gamelift", false),
        altered(
            "tampered body",
            "POST",
            path,
            br#"{"id":"s","playerCount":99}"#,
            good.clone(),
        ),
        altered(
            "tampered path",
            "POST",
            "/v1/rpc/delete_instance_info?x=1",
            body,
            good.clone(),
        ),
        altered(
            "tampered query",
            "POST",
            "/v1/rpc/update_instance_info?x=2",
            body,
            good.clone(),
        ),
        altered("tampered method", "PUT", path, body, good.clone()),
        altered(
            "tampered signed header",
            "POST",
            path,
            body,
            tampered_header,
        ),
        altered("X-Amz-Date replaced", "POST", path, body, forged_date),
        altered("no Authorization", "POST", path, body, no_auth),
    ];
    let mut out = Vec::new();
    let tried = cases.len() as u64;
    for (name, method, p, b, headers, ok) in cases {
        let r = fleet_local::gateway::sigv4::verify(&auth, method, p, &headers, b, now);
        if r.is_ok() != ok {
            out.push(format!(
                "sigv4 {}: {name}: {r:?}",
                if r.is_ok() {
                    "wrong allow"
                } else {
                    "wrong deny"
                }
            ));
        }
    }
    (tried, out)
}

#[tokio::test]
async fn no_wrong_allow_and_no_wrong_deny_across_identities_routes_tokens_and_signatures() {
    let (m, mut violations) = matrix().await;
    let (j, jv) = jwt_cases().await;
    let (s, sv) = sigv4_cases();
    violations.extend(jv);
    violations.extend(sv);
    let allows = violations
        .iter()
        .filter(|v| v.contains("wrong allow"))
        .count();
    let denies = violations
        .iter()
        .filter(|v| v.contains("wrong deny"))
        .count();
    let detail = format!(
        "matrix {m} ({} identities × {} routes), JWT {j}, SigV4 {s}; wrong allows {allows}, wrong denies {denies}",
        CALLERS.len(),
        ROUTES.len()
    );
    scorecard::finish("R09 authz", m + j + s, &violations, &detail);
}
