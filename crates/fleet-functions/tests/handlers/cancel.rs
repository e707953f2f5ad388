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
use crate::support_cases::*;
use crate::support_http::*;

fn pid(id: &str) -> PlacementId {
    PlacementId::parse(id).unwrap()
}

/// Player A's create of a session for itself.
fn create_for_a() -> Ev {
    route::create(create_body(4, &[PLAYER_A])).by(player_a())
}

/// A create by player A through the API; its placement id.
async fn create_as_a(d: &TestDeps) -> String {
    let created = call(d, create_for_a()).await;
    assert_eq!(created.status, 202, "{}", created.body);
    placement_id(&created)
}

async fn cancel(d: &TestDeps, id: &str, who: Who) -> Answer {
    call(d, route::cancel(id).by(who)).await
}

/// placement-events on the fulfilment sample, delivered again: acknowledged as a duplicate.
async fn assert_fulfilment_is_a_duplicate(store: &impl SessionStore, body: &str) {
    let record = sqs_record(Some("m-1"), body);
    let (response, metrics) = placement_events::process(store, sqs_event(vec![record])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsDuplicate"), Some(1.0));
}

#[tokio::test]
async fn a_player_cancels_its_pending_placement_and_gamelift_stops_it() {
    let d = deps();
    let id = create_as_a(&d).await;
    let before = d.store.calls();

    let a = cancel(&d, &id, player_a()).await;
    let after = d.store.calls();

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, json!({"placementId": id, "status": "CANCELLED"}));
    // The call budget: one read and the CANCELLED end (this fake counts no pending releases).
    assert_eq!(delta(before, after), (1, 1), "(reads, writes)");
    let stored = stored(&d.store, &pid(&id)).await;
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
    let fourth = call(&d, create_for_a()).await;
    fourth.assert_error(429, "throttled");

    assert_eq!(cancel(&d, &first, player_a()).await.status, 200);
    create_as_a(&d).await;
}

#[tokio::test]
async fn a_service_cancels_any_placement_and_says_so_in_the_reason() {
    let d = deps();
    let id = create_as_a(&d).await;
    let a = cancel(&d, &id, service()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let stored = stored(&d.store, &pid(&id)).await;
    assert_eq!(stored.reason.as_deref(), Some("cancelled by a service"));
}

#[tokio::test]
async fn cancelling_a_finished_placement_is_409_and_calls_no_gamelift() {
    let d = deps();
    let id = create_as_a(&d).await;
    assert_eq!(cancel(&d, &id, player_a()).await.status, 200);
    let calls = d.gamelift.calls().len();

    let again = cancel(&d, &id, player_a()).await;

    again.assert_error(409, "conflict");
    assert!(message(&again).contains("CANCELLED"), "{}", again.body);
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
    store_placement(&d.store, &placement(&id, PLAYER_A, &[PLAYER_A])).await;
    // GameLift placed it; its event has not arrived.
    d.gamelift.set_placement(
        &sample.placement_id,
        PlacementDescription {
            status: PlacementStatus::Fulfilled,
            fulfilled: Some(fulfilled.clone()),
        },
    );

    let a = cancel(&d, &id, player_a()).await;

    a.assert_error(409, "conflict");
    assert!(message(&a).contains("FULFILLED"), "{}", a.body);
    let stored = stored(&d.store, &sample.placement_id).await;
    assert_eq!(stored.status, PlacementStatus::Fulfilled);
    let session = stored_session(&d.store, stored.session_id.as_ref().unwrap()).await;
    assert_eq!(session.arn, fulfilled.game_session_arn);
    assert_eq!(
        d.gamelift.calls(),
        vec![
            GameLiftCall::StopPlacement(sample.placement_id.clone()),
            GameLiftCall::DescribePlacement(sample.placement_id.clone())
        ]
    );
    // The event, when it comes, is a duplicate.
    assert_fulfilment_is_a_duplicate(&d.store, &event_text("placement/sns-fulfilled.json")).await;
}

#[tokio::test]
async fn a_placement_gamelift_never_heard_of_is_cancelled_here() {
    let d = deps();
    store_placement(&d.store, &placement("pl-lost", PLAYER_A, &[])).await;
    let a = cancel(&d, "pl-lost", player_a()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let stored = stored(&d.store, &pid("pl-lost")).await;
    assert_eq!(stored.status, PlacementStatus::Cancelled);
}

#[tokio::test]
async fn a_throttled_or_failed_stop_leaves_the_placement_pending() {
    let throttled = GameLiftError::Throttled("slow down".into());
    let timed_out = GameLiftError::Ambiguous("timeout".into());
    for (error, status, code) in [
        (throttled, 429, "throttled"),
        (timed_out, 503, "unavailable"),
    ] {
        let d = deps();
        let id = create_as_a(&d).await;
        d.gamelift.fail_next(error);
        cancel(&d, &id, player_a()).await.assert_error(status, code);
        let stored = stored(&d.store, &pid(&id)).await;
        assert_eq!(stored.status, PlacementStatus::Pending);
    }
}

#[tokio::test]
async fn a_bad_placement_id_or_an_unknown_parameter_is_400_naming_it() {
    let d = deps();
    let id = create_as_a(&d).await;
    let bad = call(
        &d,
        Ev::delete("/v1/placements/not%20an%20id").by(player_a()),
    )
    .await;
    bad.assert_error(400, "invalid_argument");
    assert_eq!(bad.field(), Some("placementId"));
    let extra = call(&d, route::cancel(&id).query("force=true").by(player_a())).await;
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

    let created = stack.api(route::create(body.clone()).by(player_a())).await;
    let early = placement_id(&created);
    let a = stack.api(route::cancel(&early).by(player_a())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let events = stack.next_events().await;
    assert_eq!(events.len(), 1, "GameLift's PlacementCancelled");
    assert!(events[0].contains("PlacementCancelled"), "{}", events[0]);
    assert!(stack.deliver(&events).await.is_empty());
    let got = stack.placement(&early, player_a()).await;
    assert_eq!(got.body["status"], "CANCELLED");
    assert_eq!(got.body["reason"], "cancelled by its requester");

    let created = stack.api(route::create(body).by(player_a())).await;
    let late = placement_id(&created);
    let events = stack.next_events().await;
    assert_eq!(
        events.len(),
        1,
        "GameLift's PlacementFulfilled, not delivered yet"
    );
    let a = stack.api(route::cancel(&late).by(player_a())).await;
    a.assert_error(409, "conflict");
    let got = stack.placement(&late, player_a()).await;
    assert_eq!(got.body["status"], "FULFILLED", "{}", got.body);
    assert_eq!(
        got.body["session"]["openSlots"], 3,
        "the create's player holds a seat"
    );
    assert_fulfilment_is_a_duplicate(&stack.deps.store, &events[0]).await;
}
