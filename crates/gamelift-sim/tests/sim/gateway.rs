//! Player gateway and game-session policies: a fleet's `playerGatewayMode` shows as its sessions'
//! PlayerGatewayStatus, GetPlayerConnectionDetails hands out relay endpoints and fresh tokens (or the
//! game server's own address), and UpdateGameSession's PlayerSessionCreationPolicy and ProtectionPolicy
//! take effect, through the real SDK (RPC v2 CBOR) and raw AWS JSON 1.1.

use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::types::{
    GameSessionPlacement, PlayerConnectionDetail, PlayerGatewayStatus, PlayerSessionCreationPolicy,
    ProtectionPolicy, TerminationMode,
};
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_FLEET_US};
use gamelift_sim::{LocationSpec, Model, PlayerGatewayMode};
use serde_json::{Value, json};

use super::{
    INVALID, NOT_FOUND, assert_json_error, client_in, code, describe_session, join, join_one,
    json11, json11_in, place, place_in, quiet_model, start, start_request, terminate,
};

const FULL: &str = "GameSessionFullException";

/// The us-east-1 fleet with player gateway ENABLED (and a custom location, which has none); the
/// eu-west-1 fleet DISABLED.
fn gateway_model() -> Model {
    let mut model = quiet_model();
    model.fleets[0].player_gateway_mode = PlayerGatewayMode::Enabled;
    let lab = LocationSpec::new("custom-home-lab", 5);
    model.fleets[0].locations.push(lab);
    model.validate().expect("valid model");
    model
}

async fn details(client: &Client, arn: &str, players: &[&str]) -> Vec<PlayerConnectionDetail> {
    let mut call = client.get_player_connection_details().game_session_id(arn);
    for p in players {
        call = call.player_ids(*p);
    }
    let out = call.send().await.expect("connection details");
    assert_eq!(out.game_session_id(), Some(arn));
    out.player_connection_details().to_vec()
}

/// The error code of GetPlayerConnectionDetails for one player in `arn`, or `ok`.
async fn details_code(client: &Client, arn: &str) -> String {
    let call = client.get_player_connection_details().game_session_id(arn);
    code(call.player_ids("ann").send().await)
}

fn endpoints(d: &PlayerConnectionDetail) -> Vec<(String, i32)> {
    d.endpoints()
        .iter()
        .map(|e| {
            (
                e.ip_address().unwrap_or_default().to_owned(),
                e.port().unwrap_or_default(),
            )
        })
        .collect()
}

/// The game server's own address on a placement.
fn server_of(p: &GameSessionPlacement) -> (String, i32) {
    (p.ip_address.clone().expect("ip"), p.port.expect("port"))
}

#[tokio::test]
async fn on_a_gateway_fleet_connection_details_are_relay_endpoints_and_a_new_token_with_its_expiry_each_call()
 {
    let env = start(gateway_model()).await;
    let p = place(&env, "gw-1").await;
    assert_eq!(p.player_gateway_status, Some(PlayerGatewayStatus::Enabled));
    let arn = p.game_session_arn.clone().expect("placed");
    let server = server_of(&p);

    let first = details(&env.client, &arn, &["ann", "bob"]).await;
    let expected_expiry = env.sim.now_millis() + 300_000;
    assert_eq!(
        first
            .iter()
            .map(|d| d.player_id().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["ann", "bob"],
        "one detail per requested player, in request order"
    );
    for d in &first {
        let relays = endpoints(d);
        assert_eq!(relays.len(), 3, "several relay endpoints per player");
        assert!(!relays.contains(&server), "relays hide the game server");
        let token = d.player_gateway_token().expect("a token");
        assert!(token.len() >= 40 && token.ends_with('='), "base64: {token}");
        let expiry = d.expiration().expect("an expiration").to_millis();
        let expiry = expiry.expect("millis");
        assert!(
            (expiry - expected_expiry).abs() <= 1,
            "expires playerGatewayTokenSeconds (300) after the call: {expiry} vs {expected_expiry}"
        );
    }
    assert_ne!(
        first[0].player_gateway_token(),
        first[1].player_gateway_token()
    );

    // A refresh a minute later: the same relays for the same player, new tokens, a later expiry.
    env.advance(Duration::from_secs(60)).await;
    let again = details(&env.client, &arn, &["ann"]).await;
    assert_eq!(endpoints(&again[0]), endpoints(&first[0]));
    assert_ne!(
        again[0].player_gateway_token(),
        first[0].player_gateway_token()
    );
    assert!(again[0].expiration() > first[0].expiration());

    // AWS JSON 1.1: Expiration is epoch seconds.
    let ask = json!({"GameSessionId": arn, "PlayerIds": ["ann"]});
    let (s, v) = json11(&env.server.endpoint(), "GetPlayerConnectionDetails", ask).await;
    assert_eq!(s, 200, "{v}");
    let d = &v["PlayerConnectionDetails"][0];
    assert_eq!(d["PlayerId"], "ann");
    assert_eq!(d["Endpoints"].as_array().map(Vec::len), Some(3));
    let expiry = d["Expiration"].as_f64().expect("a number");
    let want = (env.sim.now_millis() + 300_000) as f64 / 1000.0;
    assert!((expiry - want).abs() < 0.01, "{expiry} vs {want}");
    assert!(
        d["PlayerGatewayToken"]
            .as_str()
            .is_some_and(|t| Some(t) != again[0].player_gateway_token())
    );
}

#[tokio::test]
async fn without_player_gateway_connection_details_are_the_game_servers_own_endpoint_and_no_token()
{
    let env = start(gateway_model()).await;
    // The eu-west-1 fleet is DISABLED; the us-east-1 fleet's custom location has no player gateway.
    let eu = client_in(&env.server.endpoint(), "eu-west-1");
    let in_eu = place_in(&env, &env.client, "direct-eu", "eu-west-1").await;
    let in_lab = place_in(&env, &env.client, "direct-lab", "custom-home-lab").await;
    for (p, client) in [(&in_eu, &eu), (&in_lab, &env.client)] {
        assert_eq!(p.player_gateway_status, Some(PlayerGatewayStatus::Disabled));
        let arn = p.game_session_arn.clone().expect("placed");
        let d = details(client, &arn, &["ann"]).await;
        assert_eq!(endpoints(&d[0]), [server_of(p)]);
        assert_eq!(d[0].player_gateway_token(), None);
        assert_eq!(d[0].expiration(), None);
    }
    let arn = in_eu.game_session_arn.clone().expect("placed");
    let ask = json!({"GameSessionId": arn, "PlayerIds": ["ann"]});
    let ep = env.server.endpoint();
    let (s, v) = json11_in(&ep, "eu-west-1", "GetPlayerConnectionDetails", ask).await;
    assert_eq!(s, 200, "{v}");
    let d = &v["PlayerConnectionDetails"][0];
    assert!(d.get("PlayerGatewayToken").is_none() && d.get("Expiration").is_none());
    assert_eq!(
        d["Endpoints"][0]["IpAddress"],
        in_eu.ip_address.expect("ip")
    );
}

#[tokio::test]
async fn connection_details_refuse_26_players_bad_ids_and_unknown_short_or_foreign_sessions() {
    let env = start(gateway_model()).await;
    let ep = env.server.endpoint();
    let p = place(&env, "gw-refuse").await;
    let arn = p.game_session_arn.clone().expect("placed");
    let call = |id: &str, players: Vec<String>| {
        env.client
            .get_player_connection_details()
            .game_session_id(id)
            .set_player_ids(Some(players))
            .send()
    };
    let players = |n: usize| (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>();
    assert_eq!(code(call(&arn, players(25)).await), "ok", "25 is the most");
    let long_id = format!("{arn}/{}", "a".repeat(512));
    for (id, list, why) in [
        (arn.clone(), players(26), "26 players"),
        (arn.clone(), Vec::new(), "no players"),
        (arn.clone(), vec![String::new()], "an empty player id"),
        (arn.clone(), vec!["x".repeat(1025)], "a player id over 1024"),
        (format!("{arn} "), players(1), "a space in the id"),
        (long_id, players(1), "an id over 512"),
    ] {
        assert_eq!(code(call(&id, list).await), INVALID, "{why}");
    }
    for body in [json!({"GameSessionId": arn}), json!({"PlayerIds": ["a"]})] {
        let (s, v) = json11(&ep, "GetPlayerConnectionDetails", body).await;
        assert_json_error(s, &v, INVALID);
    }

    let unknown = format!("arn:aws:gamelift:us-east-1::gamesession/{DEFAULT_FLEET_US}/nope");
    let short = p.game_session_id.clone().expect("short id");
    for id in [unknown, short] {
        assert_eq!(code(call(&id, players(1)).await), NOT_FOUND, "{id}");
    }
    // A session exists only in its home Region.
    let eu = client_in(&ep, "eu-west-1");
    assert_eq!(details_code(&eu, &arn).await, NOT_FOUND);
    let eu_session = place_in(&env, &env.client, "gw-eu", "eu-west-1").await;
    let eu_arn = eu_session.game_session_arn.expect("placed");
    assert!(eu_arn.contains(DEFAULT_FLEET_EU));
    let asked_in_us = details_code(&env.client, &eu_arn).await;
    assert_eq!(asked_in_us, NOT_FOUND, "asked in us-east-1");
}

#[tokio::test]
async fn a_terminating_or_ended_game_session_has_no_connection_details() {
    let env = start(gateway_model()).await;
    for (id, mode) in [
        ("gw-ending", TerminationMode::TriggerOnProcessTerminate),
        ("gw-ended", TerminationMode::ForceTerminate),
    ] {
        let arn = place(&env, id).await.game_session_arn.expect("placed");
        let ended = terminate(&env.client, &arn, mode).send().await;
        ended.expect("terminate");
        let status = details_code(&env.client, &arn).await;
        assert_eq!(status, "InvalidGameSessionStatusException", "{id}");
    }
}

#[tokio::test]
async fn update_game_session_deny_all_makes_player_session_creation_fail_and_accept_all_lets_players_in()
 {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let arn = place(&env, "deny").await.game_session_arn.expect("placed");
    let update = || env.client.update_game_session().game_session_id(&arn);
    let deny_all = update().player_session_creation_policy(PlayerSessionCreationPolicy::DenyAll);
    let gs = deny_all.send().await.expect("deny").game_session;
    assert_eq!(
        gs.expect("session").player_session_creation_policy,
        Some(PlayerSessionCreationPolicy::DenyAll)
    );
    assert_eq!(code(join(&env.client, &arn, &["ann"]).send().await), FULL);
    assert_eq!(code(join_one(&env.client, &arn, "ann").send().await), FULL);
    let ann = json!({"GameSessionId": arn, "PlayerIds": ["ann"]});
    let (s, v) = json11(&ep, "CreatePlayerSessions", ann).await;
    assert_json_error(s, &v, FULL);
    assert_eq!(
        describe_session(&env.client, &arn)
            .await
            .player_session_creation_policy,
        Some(PlayerSessionCreationPolicy::DenyAll)
    );

    let accept_all = json!({"GameSessionId": arn, "PlayerSessionCreationPolicy": "ACCEPT_ALL"});
    let (s, v) = json11(&ep, "UpdateGameSession", accept_all).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["GameSession"]["PlayerSessionCreationPolicy"],
        "ACCEPT_ALL"
    );
    let created = join(&env.client, &arn, &["ann", "bob"]).send().await;
    let created = created.expect("accepted again");
    assert_eq!(created.player_sessions().len(), 2);

    let allow_some = PlayerSessionCreationPolicy::from("ALLOW_SOME");
    let r = update().player_session_creation_policy(allow_some);
    assert_eq!(code(r.send().await), INVALID);
}

#[tokio::test]
async fn protection_policy_round_trips_through_describe_game_session_details() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let arn = place(&env, "protect").await.game_session_arn;
    let arn = arn.expect("placed");
    let protection = |client: Client, arn: String| async move {
        let call = client.describe_game_session_details().game_session_id(&arn);
        let out = call.send().await.expect("details");
        let d = &out.game_session_details()[0];
        assert_eq!(
            d.game_session().and_then(|g| g.game_session_id()),
            Some(arn.as_str())
        );
        d.protection_policy().cloned()
    };
    let update = || env.client.update_game_session().game_session_id(&arn);
    assert_eq!(
        protection(env.client.clone(), arn.clone()).await,
        Some(ProtectionPolicy::NoProtection),
        "a placed session starts unprotected"
    );
    let protect = update().protection_policy(ProtectionPolicy::FullProtection);
    protect.send().await.expect("protect");
    assert_eq!(
        protection(env.client.clone(), arn.clone()).await,
        Some(ProtectionPolicy::FullProtection)
    );
    let by_fleet = env.client.describe_game_session_details();
    let by_fleet = by_fleet.fleet_id(DEFAULT_FLEET_US).send().await;
    assert_eq!(by_fleet.expect("by fleet").game_session_details().len(), 1);

    let ask = json!({"GameSessionId": arn});
    let (s, v) = json11(&ep, "DescribeGameSessionDetails", ask).await;
    assert_eq!(s, 200, "{v}");
    let d = &v["GameSessionDetails"][0];
    assert_eq!(d["ProtectionPolicy"], "FullProtection");
    assert_eq!(d["GameSession"]["GameSessionId"], Value::from(arn.clone()));

    let partial = update().protection_policy(ProtectionPolicy::from("PartialProtection"));
    assert_eq!(code(partial.send().await), INVALID);
    let unprotect = json!({"GameSessionId": arn, "ProtectionPolicy": "NoProtection"});
    let (s, _) = json11(&ep, "UpdateGameSession", unprotect).await;
    assert_eq!(s, 200);
    assert_eq!(
        protection(env.client.clone(), arn.clone()).await,
        Some(ProtectionPolicy::NoProtection)
    );
}

#[tokio::test]
async fn player_gateway_status_is_shown_on_placements_sessions_searches_and_updates() {
    let env = start(gateway_model()).await;
    let ep = env.server.endpoint();
    let eu = client_in(&ep, "eu-west-1");
    let us = &env.client;
    for (id, location, client, fleet, status) in [
        ("st-us", "us-east-1", us, DEFAULT_FLEET_US, "ENABLED"),
        (
            "st-lab",
            "custom-home-lab",
            us,
            DEFAULT_FLEET_US,
            "DISABLED",
        ),
        ("st-eu", "eu-west-1", &eu, DEFAULT_FLEET_EU, "DISABLED"),
    ] {
        let want = Some(PlayerGatewayStatus::from(status));
        let p = place_in(&env, &env.client, id, location).await;
        assert_eq!(p.player_gateway_status, want, "{id} placement");
        let arn = p.game_session_arn.expect("placed");
        let described = describe_session(client, &arn).await;
        assert_eq!(described.player_gateway_status, want, "{id} describe");
        let search = client.search_game_sessions().fleet_id(fleet);
        let searched = search.location(location).send().await.expect("search");
        let found = searched.game_sessions()[0].player_gateway_status.clone();
        assert_eq!(found, want, "{id} search");
        let update = client.update_game_session().game_session_id(&arn);
        let updated = update.name("renamed").send().await.expect("update");
        let shown = updated.game_session.and_then(|g| g.player_gateway_status);
        assert_eq!(shown, want, "{id} update");
    }
    // A placement not yet placed has no status.
    start_request(us, "st-pending", 2)
        .send()
        .await
        .expect("start");
    let pending = json!({"PlacementId": "st-pending"});
    let (s, v) = json11(&ep, "DescribeGameSessionPlacement", pending).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["GameSessionPlacement"]
            .get("PlayerGatewayStatus")
            .is_none()
    );
}
