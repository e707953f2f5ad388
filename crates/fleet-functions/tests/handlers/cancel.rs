//! `DELETE /v1/placements/{placementId}`: a PENDING placement stopped in GameLift and recorded
//! CANCELLED; a finished one is 409; a race with the fulfilment ends as GameLift says.

use fleet_core::event::{EventKind, parse_message};
use fleet_core::fakes::GameLiftCall;
use fleet_core::ids::PlacementId;
use fleet_core::model::PlacementStatus;
use fleet_core::ports::{GameLiftError, PlacementDescription, SessionStore};
use fleet_functions::placement_events;
use serde_json::json;

use crate::integration::spawn_stack;
use crate::support_async::{event_text, sqs_event, sqs_record};
use crate::support_http::*;

fn pid(id: &str) -> PlacementId {
    PlacementId::parse(id).unwrap()
}

/// A create by player A through the API; its placement id.
async fn create_as_a(d: &TestDeps) -> String {
    let created = api(
        d,
        Ev::post("/v1/sessions", create_body(4, &[PLAYER_A]))
            .by(Who::player(PLAYER_A))
            .request(),
    )
    .await;
    assert_eq!(created.status, 202, "{}", created.body);
    created.body["placementId"].as_str().unwrap().to_owned()
}

async fn cancel(d: &TestDeps, id: &str, who: Who) -> Answer {
    api(
        d,
        Ev::delete(&format!("/v1/placements/{id}"))
            .by(who)
            .request(),
    )
    .await
}

#[tokio::test]
async fn a_player_cancels_its_pending_placement_and_gamelift_stops_it() {
    let d = deps();
    let id = create_as_a(&d).await;
    let before = d.store.calls();

    let a = cancel(&d, &id, Who::player(PLAYER_A)).await;
    let after = d.store.calls();

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, json!({"placementId": id, "status": "CANCELLED"}));
    // The call budget: one read and the CANCELLED end (this fake counts no pending releases).
    assert_eq!(
        (after.reads - before.reads, after.writes - before.writes),
        (1, 1),
        "(reads, writes)"
    );
    let stored = d.store.get_placement(&pid(&id)).await.unwrap().unwrap();
    assert_eq!(stored.status, PlacementStatus::Cancelled);
    assert_eq!(stored.reason.as_deref(), Some("cancelled by its requester"));
    assert_eq!(
        d.gamelift.calls(),
        vec![
            GameLiftCall::StartPlacement(pid(&id)),
            GameLiftCall::StopPlacement(pid(&id))
        ]
    );
}

#[tokio::test]
async fn a_cancelled_placement_stops_counting_against_the_players_cap_at_once() {
    let d = deps();
    let first = create_as_a(&d).await;
    create_as_a(&d).await;
    create_as_a(&d).await;
    let fourth = api(
        &d,
        Ev::post("/v1/sessions", create_body(4, &[PLAYER_A]))
            .by(Who::player(PLAYER_A))
            .request(),
    )
    .await;
    fourth.assert_error(429, "throttled");

    assert_eq!(cancel(&d, &first, Who::player(PLAYER_A)).await.status, 200);
    create_as_a(&d).await;
}

#[tokio::test]
async fn a_service_cancels_any_placement_and_says_so_in_the_reason() {
    let d = deps();
    let id = create_as_a(&d).await;
    let a = cancel(&d, &id, Who::iam(SERVICE)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let stored = d.store.get_placement(&pid(&id)).await.unwrap().unwrap();
    assert_eq!(stored.reason.as_deref(), Some("cancelled by a service"));
}

#[tokio::test]
async fn cancelling_a_finished_placement_is_409_and_calls_no_gamelift() {
    let d = deps();
    let id = create_as_a(&d).await;
    assert_eq!(cancel(&d, &id, Who::player(PLAYER_A)).await.status, 200);
    let calls = d.gamelift.calls().len();

    let again = cancel(&d, &id, Who::player(PLAYER_A)).await;

    again.assert_error(409, "conflict");
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CANCELLED")
    );
    assert_eq!(d.gamelift.calls().len(), calls);
}

#[tokio::test]
async fn a_cancel_that_loses_the_race_to_the_fulfilment_records_the_session_and_is_409() {
    let d = deps();
    let sample = parse_message(&event_text("placement/sns-fulfilled.json")).unwrap();
    let EventKind::Fulfilled(fulfilled) = sample.kind else {
        panic!("the sample is a fulfilment")
    };
    let id = sample.placement_id.to_string();
    d.store
        .create_placement(&placement(&id, PLAYER_A, &[PLAYER_A]), None)
        .await
        .unwrap();
    // GameLift placed it; its event has not arrived.
    d.gamelift.set_placement(
        &sample.placement_id,
        PlacementDescription {
            status: PlacementStatus::Fulfilled,
            fulfilled: Some(fulfilled.clone()),
        },
    );

    let a = cancel(&d, &id, Who::player(PLAYER_A)).await;

    a.assert_error(409, "conflict");
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("FULFILLED")
    );
    let stored = d
        .store
        .get_placement(&sample.placement_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, PlacementStatus::Fulfilled);
    let session = d
        .store
        .get_session(stored.session_id.as_ref().unwrap())
        .await
        .unwrap()
        .expect("the session GameLift placed is recorded");
    assert_eq!(session.arn, fulfilled.game_session_arn);
    assert_eq!(
        d.gamelift.calls(),
        vec![
            GameLiftCall::StopPlacement(sample.placement_id.clone()),
            GameLiftCall::DescribePlacement(sample.placement_id.clone())
        ]
    );
    // The event, when it comes, is a duplicate.
    let (response, metrics) = placement_events::process(
        &d.store,
        sqs_event(vec![sqs_record(
            Some("m-1"),
            &event_text("placement/sns-fulfilled.json"),
        )]),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsDuplicate"), Some(1.0));
}

#[tokio::test]
async fn a_placement_gamelift_never_heard_of_is_cancelled_here() {
    let d = deps();
    d.store
        .create_placement(&placement("pl-lost", PLAYER_A, &[]), None)
        .await
        .unwrap();
    let a = cancel(&d, "pl-lost", Who::player(PLAYER_A)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let stored = d
        .store
        .get_placement(&pid("pl-lost"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, PlacementStatus::Cancelled);
}

#[tokio::test]
async fn a_throttled_or_failed_stop_leaves_the_placement_pending() {
    for (error, status, code) in [
        (
            GameLiftError::Throttled("slow down".into()),
            429,
            "throttled",
        ),
        (
            GameLiftError::Ambiguous("timeout".into()),
            503,
            "unavailable",
        ),
    ] {
        let d = deps();
        let id = create_as_a(&d).await;
        d.gamelift.fail_next(error);
        cancel(&d, &id, Who::player(PLAYER_A))
            .await
            .assert_error(status, code);
        let stored = d.store.get_placement(&pid(&id)).await.unwrap().unwrap();
        assert_eq!(stored.status, PlacementStatus::Pending);
    }
}

#[tokio::test]
async fn a_bad_placement_id_or_an_unknown_parameter_is_400_naming_it() {
    let d = deps();
    let id = create_as_a(&d).await;
    let bad = api(
        &d,
        Ev::delete("/v1/placements/not%20an%20id")
            .by(Who::player(PLAYER_A))
            .request(),
    )
    .await;
    bad.assert_error(400, "invalid_argument");
    assert_eq!(bad.field(), Some("placementId"));
    let extra = api(
        &d,
        Ev::delete(&format!("/v1/placements/{id}"))
            .query("force=true")
            .by(Who::player(PLAYER_A))
            .request(),
    )
    .await;
    extra.assert_error(400, "invalid_argument");
    assert_eq!(extra.field(), Some("force"));
    assert_eq!(d.gamelift.calls().len(), 1, "only the create's start");
}

/// On DynamoDB Local and gamelift-sim: a cancel is stopped in GameLift, whose PlacementCancelled event
/// then finds it written; a cancel after GameLift placed the session (its event still on the way)
/// records the fulfilment and is 409, and that event is then a duplicate.
#[tokio::test]
async fn on_the_real_parts_a_cancel_wins_before_placement_and_loses_after_it() {
    let mut stack = spawn_stack().await;
    let body = json!({"maxPlayers": 4, "players": [{"playerId": PLAYER_A}]}).to_string();

    let created = stack
        .api(Ev::post("/v1/sessions", body.clone()).by(Who::player(PLAYER_A)))
        .await;
    let early = created.body["placementId"].as_str().unwrap().to_owned();
    let a = stack
        .api(Ev::delete(&format!("/v1/placements/{early}")).by(Who::player(PLAYER_A)))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let events = stack.next_events().await;
    assert_eq!(events.len(), 1, "GameLift's PlacementCancelled");
    assert!(events[0].contains("PlacementCancelled"), "{}", events[0]);
    assert!(stack.deliver(&events).await.is_empty());
    let got = stack
        .api(Ev::get(&format!("/v1/placements/{early}")).by(Who::player(PLAYER_A)))
        .await;
    assert_eq!(got.body["status"], "CANCELLED");
    assert_eq!(got.body["reason"], "cancelled by its requester");

    let created = stack
        .api(Ev::post("/v1/sessions", body).by(Who::player(PLAYER_A)))
        .await;
    let late = created.body["placementId"].as_str().unwrap().to_owned();
    let events = stack.next_events().await;
    assert_eq!(
        events.len(),
        1,
        "GameLift's PlacementFulfilled, not delivered yet"
    );
    let a = stack
        .api(Ev::delete(&format!("/v1/placements/{late}")).by(Who::player(PLAYER_A)))
        .await;
    a.assert_error(409, "conflict");
    let got = stack
        .api(Ev::get(&format!("/v1/placements/{late}")).by(Who::player(PLAYER_A)))
        .await;
    assert_eq!(got.body["status"], "FULFILLED", "{}", got.body);
    assert_eq!(
        got.body["session"]["openSlots"], 3,
        "the create's player holds a seat"
    );
    let (response, metrics) = placement_events::process(
        &stack.deps.store,
        sqs_event(vec![sqs_record(Some("m-1"), &events[0])]),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsDuplicate"), Some(1.0));
}
