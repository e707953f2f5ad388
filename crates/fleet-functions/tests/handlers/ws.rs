//! ws: connection rows, subscriptions with catch-up and refusals (the `$connect` token check is in
//! `ws_authorizer`).

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest;
use fleet_core::ports::{ConnectionStore, Notifier};
use fleet_functions::ws;
use serde_json::{Value, json};

use crate::support_async::*;
use crate::support_cases::{connected, subscribers};

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

/// Fresh deps holding the sample placements, with the placement event `applied` applied if any,
/// and the sample connection made.
async fn connected_world(applied: Option<&str>) -> TestDeps {
    let deps = deps();
    seed_samples(&deps.store).await;
    if let Some(file) = applied {
        apply_sample(&deps.store, file).await;
    }
    ws::handle(&deps, ws_event("connect.json")).await;
    deps
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
        !connected(&deps.store, CONN, T0.plus_secs(2 * 3600)).await,
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
    assert!(!connected(&deps.store, CONN, T0).await);
}

#[tokio::test]
async fn disconnect_removes_the_connection_row() {
    let deps = deps();
    ws::handle(&deps, ws_event("connect.json")).await;

    let r = ws::handle(&deps, ws_event("disconnect.json")).await;

    assert_eq!(r.status_code, 200);
    assert!(!connected(&deps.store, CONN, T0).await);
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
    let deps = connected_world(None).await;

    let r = ws::handle(&deps, ws_event("subscribe.json")).await;

    assert_eq!(r.status_code, 200, "{}", body_of(&r));
    assert!(deps.notifier.sent().is_empty());
    let subs = subscribers(&deps.store, FULFILLED_ID).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(
        (subs[0].connection.as_str(), subs[0].user.as_str()),
        (CONN, REQUESTER)
    );
}

#[tokio::test]
async fn subscribing_after_the_result_answers_at_once_with_the_users_own_player_session() {
    let deps = connected_world(Some("sns-fulfilled.json")).await;

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
    let deps = connected_world(Some("sns-timed-out.json")).await;

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
    assert!(subscribers(&deps.store, "p-other").await.is_empty());
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
    assert_eq!(subscribers(&deps.store, "p-listed").await.len(), 1);
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
