//! Player gateway: a join on a gateway fleet carries each player's relay endpoints and token (one
//! GetPlayerConnectionDetails for all of them), a join on any other fleet the game server's own
//! endpoint with no extra call; `POST /v1/sessions/{id}/connection` hands out fresh tokens.

use fleet_core::fakes::{FAKE_TOKEN_EXPIRES_MS, GameLiftCall};
use fleet_core::ids::SessionId;
use fleet_core::time::Timestamp;
use serde_json::json;

use crate::support_cases::*;
use crate::support_http::*;

fn detail_calls(d: &TestDeps) -> Vec<GameLiftCall> {
    d.gamelift
        .calls()
        .into_iter()
        .filter(|c| matches!(c, GameLiftCall::GetPlayerConnectionDetails(..)))
        .collect()
}

/// The connection details of players A and B in `session`, asked by `who`.
async fn both_connections(d: &TestDeps, session: &SessionId, who: Who) -> Answer {
    call(d, route::connection(session, &[PLAYER_A, PLAYER_B]).by(who)).await
}

/// Player A's own connection details of `session`.
async fn my_connection(d: &TestDeps, session: impl std::fmt::Display) -> Answer {
    call(d, route::connection(session, &[PLAYER_A]).by(player_a())).await
}

#[tokio::test]
async fn a_join_on_a_gateway_fleet_carries_relay_endpoints_and_a_token_per_player() {
    let (d, s) = with_session(gateway_deps(), ARN_1, 8);

    let a = call(&d, route::join(&s.id, &[PLAYER_A, PLAYER_B]).by(service())).await;

    assert_eq!(a.status, 200, "{}", a.body);
    let expires = Timestamp::from_millis(FAKE_TOKEN_EXPIRES_MS).to_rfc3339();
    for (i, p) in [PLAYER_A, PLAYER_B].iter().enumerate() {
        let c = &a.body["playerSessions"][i]["connection"];
        assert_eq!(c["playerId"], *p, "{}", a.body);
        assert_eq!(c["endpoints"].as_array().map(Vec::len), Some(2), "{c}");
        assert!(
            c["playerGatewayToken"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{c}"
        );
        assert_eq!(c["expiresAt"], expires.as_str());
    }
    assert_ne!(
        a.body["playerSessions"][0]["connection"]["playerGatewayToken"],
        a.body["playerSessions"][1]["connection"]["playerGatewayToken"]
    );
    assert_eq!(
        detail_calls(&d),
        vec![GameLiftCall::GetPlayerConnectionDetails(ARN_1.into(), 2)],
        "one call for every player of the join"
    );
}

#[tokio::test]
async fn a_join_on_a_direct_fleet_carries_the_server_endpoint_and_makes_no_extra_call() {
    let (d, s) = with_session(gateway_deps(), ARN_2, 8);

    let a = join_self(&d, &s.id, PLAYER_A).await;

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["playerSessions"][0]["connection"],
        json!({"playerId": PLAYER_A, "endpoints": [{"ipAddress": "198.51.100.7", "port": 7777}]})
    );
    assert!(detail_calls(&d).is_empty());
}

#[tokio::test]
async fn the_connection_route_hands_out_a_fresh_token_each_time() {
    let (d, s) = with_session(gateway_deps(), ARN_1, 8);
    assert_eq!(join_self(&d, &s.id, PLAYER_A).await.status, 200);

    let first = my_connection(&d, &s.id).await;
    let second = my_connection(&d, &encode(ARN_1)).await;

    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(second.status, 200, "{}", second.body);
    let token = |a: &Answer| a.body["connections"][0]["playerGatewayToken"].clone();
    assert!(token(&first).is_string());
    assert_ne!(token(&first), token(&second));
    assert_eq!(detail_calls(&d).len(), 3, "the join's and two refreshes");
}

#[tokio::test]
async fn the_connection_route_on_a_direct_fleet_answers_from_the_session_alone() {
    let (d, s) = with_session(gateway_deps(), ARN_2, 8);

    let a = both_connections(&d, &s.id, service()).await;

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["connections"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        a.body["connections"][1],
        json!({"playerId": PLAYER_B, "endpoints": [{"ipAddress": "198.51.100.7", "port": 7777}]})
    );
    assert!(d.gamelift.calls().is_empty());
}

#[tokio::test]
async fn a_player_may_ask_only_for_its_own_connection() {
    let (d, s) = with_session(gateway_deps(), ARN_1, 8);

    let a = both_connections(&d, &s.id, player_a()).await;

    a.assert_error(403, "forbidden");
    assert_eq!(a.field(), Some("players[1].playerId"));
    assert!(d.gamelift.calls().is_empty());
}

#[tokio::test]
async fn a_rejoin_on_a_gateway_fleet_gets_a_fresh_token_for_the_same_seat() {
    let (d, s) = with_session(gateway_deps(), ARN_1, 8);
    let first = join_self(&d, &s.id, PLAYER_A).await;

    let again = join_self(&d, &s.id, PLAYER_A).await;

    assert_eq!(again.status, 200, "{}", again.body);
    let ps = |a: &Answer| a.body["playerSessions"][0].clone();
    assert_eq!(ps(&again)["playerSessionId"], ps(&first)["playerSessionId"]);
    assert_ne!(
        ps(&again)["connection"]["playerGatewayToken"],
        ps(&first)["connection"]["playerGatewayToken"]
    );
}

#[tokio::test]
async fn connection_details_of_an_ended_or_unknown_session_are_refused() {
    let (d, s) = with_session(gateway_deps(), ARN_1, 8);
    assert_eq!(
        call(&d, route::delete_session(&s.id).by(service()))
            .await
            .status,
        204
    );

    my_connection(&d, &s.id).await.assert_error(409, "conflict");
    my_connection(&d, &short_id(ARN_2))
        .await
        .assert_error(404, "not_found");
    assert!(detail_calls(&d).is_empty());
}
