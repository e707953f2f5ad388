//! The 2026 fleet operations on the whole local stack: locations with ping beacons a client can
//! actually ping, lock → join 409 → unlock → join 200, and player gateway connections (relay
//! endpoints and a token on the gateway fleet, refreshed by the connection route; the server's own
//! endpoint on a direct fleet).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_come_with_ping_beacons_that_answer_a_ping() {
    let t = start().await;

    let a = t.get(As::Player("pinger"), "/v1/locations").await;

    assert_eq!(a.status, 200, "{:?}", a.body);
    let locations: Vec<&str> = a.body["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["location"].as_str())
        .collect();
    assert_eq!(locations, vec!["us-east-1", "eu-west-1", "eu-central-1"]);
    // Measure a latency as a client would: one datagram to the beacon, the echo timed.
    let beacon = &a.body["locations"][2]["pingBeacon"]["udpEndpoint"];
    let target = format!(
        "{}:{}",
        beacon["domain"].as_str().expect("domain"),
        beacon["port"]
    );
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sent = Instant::now();
    socket.send_to(b"ping", &target).await.expect("send");
    let mut buf = [0u8; 16];
    let (n, _) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
        .await
        .expect("the beacon answers")
        .expect("recv");
    assert_eq!(&buf[..n], b"ping");
    let latency_ms = sent.elapsed().as_millis() as u64;
    let created = t
        .post(
            As::Player("pinger"),
            "/v1/sessions",
            json!({"maxPlayers": 2, "players": [{"playerId": "pinger"}],
                   "latencies": [{"playerId": "pinger", "region": "eu-central-1", "latencyMs": latency_ms}]}),
        )
        .await;
    assert_eq!(created.status, 202, "{:?}", created.body);
    t.stack.shutdown().await;
}

async fn patch(t: &TestStack, who: As<'_>, id: &str, body: Value) -> crate::support::Answer {
    t.call(
        who,
        reqwest::Method::PATCH,
        &format!("/v1/sessions/{id}"),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_session_refuses_joins_and_takes_them_again_once_unlocked() {
    let (t, session) =
        start_with_session(json!({"maxPlayers": 4, "name": "locked", "regions": ["us-east-1"]}))
            .await;
    let id = id_of(&session);

    let locked = patch(
        &t,
        As::GameServer,
        &id,
        json!({"joinable": false, "protected": true}),
    )
    .await;
    let refused = t.join(&id, "late-1").await;
    let by_player = patch(&t, As::Player("late-1"), &id, json!({"joinable": true})).await;
    let unlocked = patch(&t, As::Service, &id, json!({"joinable": true})).await;
    let joined = t.join(&id, "late-1").await;

    assert_eq!(locked.status, 200, "{:?}", locked.body);
    assert_eq!(
        (
            &locked.body["joinable"],
            &locked.body["protected"],
            &locked.body["openSlots"]
        ),
        (&json!(false), &json!(true), &json!(0))
    );
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(
        by_player.status, 404,
        "a player token reaches the player API, which carries no PATCH route"
    );
    assert_eq!(unlocked.status, 200, "{:?}", unlocked.body);
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    // Unlocked, it is found again by the query language.
    let listed = t
        .get(
            As::Service,
            "/v1/sessions?query=%2Bjoinable%3Atrue%20%2Bname%3Alocked",
        )
        .await;
    assert_eq!(
        listed.body["sessions"][0]["id"],
        id.as_str(),
        "{:?}",
        listed.body
    );
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_on_the_gateway_fleet_gets_a_relay_and_a_token_and_a_direct_fleet_its_server() {
    let t = start().await;
    // eu-central-1 is only on the local model's gateway fleet; us-east-1 fleets are direct.
    let relayed = t
        .fulfilled_session(json!({"maxPlayers": 4, "regions": ["eu-central-1"]}))
        .await;
    let direct = t
        .fulfilled_session(json!({"maxPlayers": 4, "regions": ["us-east-1"]}))
        .await;
    let rid = &id_of(&relayed);

    let r = t.join(rid, "relay-1").await;
    let d = t.join(&id_of(&direct), "direct-1").await;
    let refreshed = t.seat("relay-1", rid, "connection").await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    let c = &r.body["playerSessions"][0]["connection"];
    assert!(
        c["playerGatewayToken"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{c}"
    );
    assert!(c["expiresAt"].is_string(), "{c}");
    let endpoints = c["endpoints"].as_array().expect("endpoints");
    assert!(!endpoints.is_empty());
    assert!(
        endpoints
            .iter()
            .all(|e| e["ipAddress"] != relayed["ipAddress"]),
        "relay endpoints, not the server: {c}"
    );
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_ne!(
        refreshed.body["connections"][0]["playerGatewayToken"], c["playerGatewayToken"],
        "a fresh token"
    );
    assert_eq!(d.status, 200, "{:?}", d.body);
    assert_eq!(
        d.body["playerSessions"][0]["connection"],
        json!({"playerId": "direct-1",
               "endpoints": [{"ipAddress": direct["ipAddress"], "port": direct["port"]}]})
    );
    t.stack.shutdown().await;
}
