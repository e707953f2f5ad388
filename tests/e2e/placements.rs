//! Creates and their results: the WebSocket push, polling, a late subscribe, a timeout.

use gamelift_sim::{FleetSpec, LocationSpec, Model, QueueSpec};
use serde_json::json;

use crate::support::{As, Ws, fast_model, start, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_is_pushed_over_websocket_with_the_session_and_only_the_players_own_player_session()
 {
    let t = start().await;
    let mut alice = Ws::connect(&t, "alice").await;
    let id = t
        .create(As::Service, json!({"maxPlayers": 4, "players": [{"playerId": "alice"}, {"playerId": "bob"}], "name": "push"}))
        .await;
    let msg = alice.placement(&t, &id).await;
    assert_eq!(msg["type"], "placement");
    assert_eq!(msg["status"], "FULFILLED", "{msg}");
    assert!(
        msg["session"]["id"]
            .as_str()
            .is_some_and(|s| s.starts_with("gs-")),
        "{msg}"
    );
    assert_eq!(msg["session"]["name"], "push");
    assert_eq!(
        msg["playerSession"]["playerId"], "alice",
        "the player's own player session: {msg}"
    );
    assert!(
        msg["playerSession"]["playerSessionId"]
            .as_str()
            .is_some_and(|s| s.starts_with("psess-"))
    );
    assert!(msg["playerSession"]["port"].is_number());
    assert!(
        !msg.to_string().contains("\"bob\""),
        "never another player's player session: {msg}"
    );
    alice.close().await;
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_result_is_there_by_polling_the_placement() {
    let t = start().await;
    let (id, placement) = t.placed_for("carol").await;
    assert_eq!(placement["status"], "FULFILLED", "{placement}");
    assert_eq!(placement["placementId"], id.as_str());
    assert!(
        placement["session"]["arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:gamelift:"))
    );
    assert_eq!(
        placement["playerSessions"][0]["playerId"], "carol",
        "{placement}"
    );
    let other = t
        .get(As::Player("mallory"), &format!("/v1/placements/{id}"))
        .await;
    assert_eq!(other.status, 404, "someone else's placement looks missing");
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_after_the_result_is_already_there_answers_at_once() {
    let t = start().await;
    let (id, placement) = t.placed_for("dave").await;
    assert_eq!(placement["status"], "FULFILLED");
    let mut ws = Ws::connect(&t, "dave").await;
    ws.send(json!({"action": "subscribe", "placementId": id}))
        .await;
    let msg = ws.placement(&t, &id).await;
    assert_eq!(msg["status"], "FULFILLED", "{msg}");
    assert_eq!(msg["session"]["id"], placement["session"]["id"]);
    assert_eq!(msg["playerSession"]["playerId"], "dave");
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_that_times_out_reaches_subscribers_as_timed_out() {
    // One fleet with no free slot and a 1 s queue timeout: GameLift gives up and says so.
    let mut model: Model = fast_model();
    model.fleets = vec![FleetSpec {
        id: "fleet-00000000-0000-4000-8000-0000000000ff".into(),
        region: "us-east-1".into(),
        locations: vec![LocationSpec {
            location: "us-east-1".into(),
            slots: 0,
        }],
        player_gateway_mode: Default::default(),
    }];
    model.queues = vec![QueueSpec {
        name: "full-queue".into(),
        region: "us-east-1".into(),
        timeout_seconds: 1,
        destinations: vec!["fleet-00000000-0000-4000-8000-0000000000ff".into()],
        allowed_locations: None,
        priority_configuration: None,
    }];
    let t = start_with(model).await;
    let mut erin = Ws::connect(&t, "erin").await;
    let id = t.create_for("erin").await;
    let msg = erin.placement(&t, &id).await;
    assert_eq!(msg["status"], "TIMED_OUT", "{msg}");
    assert!(msg.get("session").is_none(), "{msg}");
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_who_gives_up_cancels_and_hears_cancelled_over_websocket() {
    // Placements take 3 s, so the cancel reaches GameLift while the placement is PENDING.
    let mut model = fast_model();
    model.placement_delay_ms = 3_000;
    let t = start_with(model).await;
    let mut frank = Ws::connect(&t, "frank").await;
    let id = t.create_for("frank").await;

    let cancelled = t
        .delete(As::Player("frank"), &format!("/v1/placements/{id}"))
        .await;

    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(
        cancelled.body,
        json!({"placementId": id, "status": "CANCELLED"})
    );
    let msg = frank.placement(&t, &id).await;
    assert_eq!(msg["status"], "CANCELLED", "{msg}");
    // Whichever write lands first gives the reason: ours, or GameLift's PlacementCancelled event,
    // which the simulator publishes as soon as it stops the placement.
    assert!(
        ["cancelled by its requester", "placement was cancelled"]
            .contains(&msg["reason"].as_str().unwrap_or_default()),
        "{msg}"
    );
    let polled = t
        .get(As::Player("frank"), &format!("/v1/placements/{id}"))
        .await;
    assert_eq!(polled.body["status"], "CANCELLED");

    // Once placed, it is too late: 409, and the placement stays FULFILLED.
    let id = t.create_for("frank").await;
    let msg = frank.placement(&t, &id).await;
    assert_eq!(msg["status"], "FULFILLED", "{msg}");
    let late = t
        .delete(As::Player("frank"), &format!("/v1/placements/{id}"))
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(late.body["error"]["code"], "conflict");
    frank.close().await;
    t.stack.shutdown().await;
}
