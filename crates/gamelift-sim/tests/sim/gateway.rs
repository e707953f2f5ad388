//! Player gateway and game-session policies: a fleet's `playerGatewayMode` shows as its sessions'
//! PlayerGatewayStatus, GetPlayerConnectionDetails hands out relay endpoints and fresh tokens (or the
//! game server's own address), and UpdateGameSession's PlayerSessionCreationPolicy and ProtectionPolicy
//! take effect, through the real SDK (RPC v2 CBOR) and raw AWS JSON 1.1.

use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::types::{
    GameSessionPlacement, PlacementFallbackStrategy, PlayerConnectionDetail, PlayerGatewayStatus,
    PlayerSessionCreationPolicy, PriorityConfigurationOverride, ProtectionPolicy, TerminationMode,
};
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_FLEET_US, DEFAULT_QUEUE};
use gamelift_sim::{LocationSpec, Model, PlayerGatewayMode};
use serde_json::{Value, json};

use super::{Env, client_in, code, json11, json11_in, place, quiet_model, start};

/// The us-east-1 fleet with player gateway ENABLED (and a custom location, which has none); the
/// eu-west-1 fleet DISABLED.
fn gateway_model() -> Model {
    let mut model = quiet_model();
    model.fleets[0].player_gateway_mode = PlayerGatewayMode::Enabled;
    model.fleets[0].locations.push(LocationSpec {
        location: "custom-home-lab".into(),
        slots: 5,
    });
    model.validate().expect("valid model");
    model
}

/// Places through the us-east-1 queue into `location` only.
async fn place_in(env: &Env, id: &str, location: &str) -> GameSessionPlacement {
    env.client
        .start_game_session_placement()
        .placement_id(id)
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(4)
        .priority_configuration_override(
            PriorityConfigurationOverride::builder()
                .location_order(location)
                .placement_fallback_strategy(PlacementFallbackStrategy::None)
                .build(),
        )
        .send()
        .await
        .expect("start");
    env.sim
        .advance(Duration::from_millis(1500))
        .await
        .expect("advance");
    env.client
        .describe_game_session_placement()
        .placement_id(id)
        .send()
        .await
        .expect("describe placement")
        .game_session_placement
        .expect("placement")
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

#[tokio::test]
async fn on_a_gateway_fleet_connection_details_are_relay_endpoints_and_a_new_token_with_its_expiry_each_call()
 {
    let env = start(gateway_model()).await;
    let p = place(&env, "gw-1").await;
    assert_eq!(p.player_gateway_status, Some(PlayerGatewayStatus::Enabled));
    let arn = p.game_session_arn.clone().expect("placed");
    let server = (p.ip_address.clone().expect("ip"), p.port.expect("port"));

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
        let expiry = d
            .expiration()
            .expect("an expiration")
            .to_millis()
            .expect("millis");
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
    env.sim
        .advance(Duration::from_secs(60))
        .await
        .expect("advance");
    let again = details(&env.client, &arn, &["ann"]).await;
    assert_eq!(endpoints(&again[0]), endpoints(&first[0]));
    assert_ne!(
        again[0].player_gateway_token(),
        first[0].player_gateway_token()
    );
    assert!(again[0].expiration() > first[0].expiration());

    // AWS JSON 1.1: Expiration is epoch seconds.
    let (s, v) = json11(
        &env.server.endpoint(),
        "GetPlayerConnectionDetails",
        json!({"GameSessionId": arn, "PlayerIds": ["ann"]}),
    )
    .await;
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
    let in_eu = place_in(&env, "direct-eu", "eu-west-1").await;
    let in_lab = place_in(&env, "direct-lab", "custom-home-lab").await;
    for (p, client) in [(&in_eu, &eu), (&in_lab, &env.client)] {
        assert_eq!(p.player_gateway_status, Some(PlayerGatewayStatus::Disabled));
        let arn = p.game_session_arn.clone().expect("placed");
        let d = details(client, &arn, &["ann"]).await;
        let server = (p.ip_address.clone().expect("ip"), p.port.expect("port"));
        assert_eq!(endpoints(&d[0]), [server]);
        assert_eq!(d[0].player_gateway_token(), None);
        assert_eq!(d[0].expiration(), None);
    }
    let arn = in_eu.game_session_arn.clone().expect("placed");
    let (s, v) = json11_in(
        &env.server.endpoint(),
        "eu-west-1",
        "GetPlayerConnectionDetails",
        json!({"GameSessionId": arn, "PlayerIds": ["ann"]}),
    )
    .await;
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
    for (id, list, why) in [
        (arn.clone(), players(26), "26 players"),
        (arn.clone(), Vec::new(), "no players"),
        (arn.clone(), vec![String::new()], "an empty player id"),
        (arn.clone(), vec!["x".repeat(1025)], "a player id over 1024"),
        (format!("{arn} "), players(1), "a space in the id"),
        (
            format!("{arn}/{}", "a".repeat(512)),
            players(1),
            "an id over 512",
        ),
    ] {
        assert_eq!(
            code(call(&id, list).await),
            "InvalidRequestException",
            "{why}"
        );
    }
    let (s, v) = json11(
        &ep,
        "GetPlayerConnectionDetails",
        json!({"GameSessionId": arn}),
    )
    .await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );
    let (s, v) = json11(
        &ep,
        "GetPlayerConnectionDetails",
        json!({"PlayerIds": ["a"]}),
    )
    .await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );

    let unknown = format!("arn:aws:gamelift:us-east-1::gamesession/{DEFAULT_FLEET_US}/nope");
    let short = p.game_session_id.clone().expect("short id");
    for id in [unknown, short] {
        assert_eq!(
            code(call(&id, players(1)).await),
            "NotFoundException",
            "{id}"
        );
    }
    // A session exists only in its home Region.
    let eu = client_in(&ep, "eu-west-1");
    let r = eu
        .get_player_connection_details()
        .game_session_id(&arn)
        .player_ids("ann")
        .send()
        .await;
    assert_eq!(code(r), "NotFoundException");
    let eu_session = place_in(&env, "gw-eu", "eu-west-1").await;
    let eu_arn = eu_session.game_session_arn.expect("placed");
    assert!(eu_arn.contains(DEFAULT_FLEET_EU));
    let r = env
        .client
        .get_player_connection_details()
        .game_session_id(&eu_arn)
        .player_ids("ann")
        .send()
        .await;
    assert_eq!(code(r), "NotFoundException", "asked in us-east-1");
}

#[tokio::test]
async fn a_terminating_or_ended_game_session_has_no_connection_details() {
    let env = start(gateway_model()).await;
    for (id, mode) in [
        ("gw-ending", TerminationMode::TriggerOnProcessTerminate),
        ("gw-ended", TerminationMode::ForceTerminate),
    ] {
        let arn = place(&env, id).await.game_session_arn.expect("placed");
        env.client
            .terminate_game_session()
            .game_session_id(&arn)
            .termination_mode(mode)
            .send()
            .await
            .expect("terminate");
        let r = env
            .client
            .get_player_connection_details()
            .game_session_id(&arn)
            .player_ids("ann")
            .send()
            .await;
        assert_eq!(code(r), "InvalidGameSessionStatusException", "{id}");
    }
}

#[tokio::test]
async fn update_game_session_deny_all_makes_player_session_creation_fail_and_accept_all_lets_players_in()
 {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let arn = place(&env, "deny").await.game_session_arn.expect("placed");
    let out = env
        .client
        .update_game_session()
        .game_session_id(&arn)
        .player_session_creation_policy(PlayerSessionCreationPolicy::DenyAll)
        .send()
        .await
        .expect("deny");
    let gs = out.game_session.expect("session");
    assert_eq!(
        gs.player_session_creation_policy,
        Some(PlayerSessionCreationPolicy::DenyAll)
    );
    let many = env
        .client
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("ann")
        .send()
        .await;
    assert_eq!(code(many), "GameSessionFullException");
    let one = env
        .client
        .create_player_session()
        .game_session_id(&arn)
        .player_id("ann")
        .send()
        .await;
    assert_eq!(code(one), "GameSessionFullException");
    let (s, v) = json11(
        &ep,
        "CreatePlayerSessions",
        json!({"GameSessionId": arn, "PlayerIds": ["ann"]}),
    )
    .await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("GameSessionFullException"))
    );
    let described = env
        .client
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        described.game_sessions()[0].player_session_creation_policy,
        Some(PlayerSessionCreationPolicy::DenyAll)
    );

    let (s, v) = json11(
        &ep,
        "UpdateGameSession",
        json!({"GameSessionId": arn, "PlayerSessionCreationPolicy": "ACCEPT_ALL"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["GameSession"]["PlayerSessionCreationPolicy"],
        "ACCEPT_ALL"
    );
    let created = env
        .client
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("ann")
        .player_ids("bob")
        .send()
        .await
        .expect("accepted again");
    assert_eq!(created.player_sessions().len(), 2);

    let r = env
        .client
        .update_game_session()
        .game_session_id(&arn)
        .player_session_creation_policy(PlayerSessionCreationPolicy::from("ALLOW_SOME"))
        .send()
        .await;
    assert_eq!(code(r), "InvalidRequestException");
}

#[tokio::test]
async fn protection_policy_round_trips_through_describe_game_session_details() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let arn = place(&env, "protect")
        .await
        .game_session_arn
        .expect("placed");
    let protection = |client: Client, arn: String| async move {
        let out = client
            .describe_game_session_details()
            .game_session_id(&arn)
            .send()
            .await
            .expect("details");
        let d = &out.game_session_details()[0];
        assert_eq!(
            d.game_session().and_then(|g| g.game_session_id()),
            Some(arn.as_str())
        );
        d.protection_policy().cloned()
    };
    assert_eq!(
        protection(env.client.clone(), arn.clone()).await,
        Some(ProtectionPolicy::NoProtection),
        "a placed session starts unprotected"
    );
    env.client
        .update_game_session()
        .game_session_id(&arn)
        .protection_policy(ProtectionPolicy::FullProtection)
        .send()
        .await
        .expect("protect");
    assert_eq!(
        protection(env.client.clone(), arn.clone()).await,
        Some(ProtectionPolicy::FullProtection)
    );
    let by_fleet = env
        .client
        .describe_game_session_details()
        .fleet_id(DEFAULT_FLEET_US)
        .send()
        .await
        .expect("by fleet");
    assert_eq!(by_fleet.game_session_details().len(), 1);

    let (s, v) = json11(
        &ep,
        "DescribeGameSessionDetails",
        json!({"GameSessionId": arn}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["GameSessionDetails"][0]["ProtectionPolicy"],
        "FullProtection"
    );
    assert_eq!(
        v["GameSessionDetails"][0]["GameSession"]["GameSessionId"],
        Value::from(arn.clone())
    );

    let r = env
        .client
        .update_game_session()
        .game_session_id(&arn)
        .protection_policy(ProtectionPolicy::from("PartialProtection"))
        .send()
        .await;
    assert_eq!(code(r), "InvalidRequestException");
    let (s, _) = json11(
        &ep,
        "UpdateGameSession",
        json!({"GameSessionId": arn, "ProtectionPolicy": "NoProtection"}),
    )
    .await;
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
    for (id, location, client, fleet, status) in [
        (
            "st-us",
            "us-east-1",
            &env.client,
            DEFAULT_FLEET_US,
            "ENABLED",
        ),
        (
            "st-lab",
            "custom-home-lab",
            &env.client,
            DEFAULT_FLEET_US,
            "DISABLED",
        ),
        ("st-eu", "eu-west-1", &eu, DEFAULT_FLEET_EU, "DISABLED"),
    ] {
        let want = PlayerGatewayStatus::from(status);
        let p = place_in(&env, id, location).await;
        assert_eq!(
            p.player_gateway_status.as_ref(),
            Some(&want),
            "{id} placement"
        );
        let arn = p.game_session_arn.expect("placed");
        let described = client
            .describe_game_sessions()
            .game_session_id(&arn)
            .send()
            .await
            .expect("describe");
        assert_eq!(
            described.game_sessions()[0].player_gateway_status.as_ref(),
            Some(&want),
            "{id} describe"
        );
        let searched = client
            .search_game_sessions()
            .fleet_id(fleet)
            .location(location)
            .send()
            .await
            .expect("search");
        assert_eq!(
            searched.game_sessions()[0].player_gateway_status.as_ref(),
            Some(&want),
            "{id} search"
        );
        let updated = client
            .update_game_session()
            .game_session_id(&arn)
            .name("renamed")
            .send()
            .await
            .expect("update");
        assert_eq!(
            updated.game_session.and_then(|g| g.player_gateway_status),
            Some(want),
            "{id} update"
        );
    }
    // A placement not yet placed has no status.
    env.client
        .start_game_session_placement()
        .placement_id("st-pending")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("start");
    let (s, v) = json11(
        &ep,
        "DescribeGameSessionPlacement",
        json!({"PlacementId": "st-pending"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["GameSessionPlacement"]
            .get("PlayerGatewayStatus")
            .is_none()
    );
}
