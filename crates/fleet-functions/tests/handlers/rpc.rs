//! status-rpc: `update_instance_info` (both spellings of the player count) and `delete_instance_info`
//! through `rpc::handle`, with the sample events of `events/api/rpc-*.json`, fleet authorization and
//! the call budget (1 write; UpdateGameSession only when the game properties or the name change).

use fleet_core::fakes::{FakeGameLift, GameLiftCall};
use fleet_core::ids::GameSessionArn;
use fleet_core::model::SessionStatus;
use fleet_core::ports::{PlacementOutcome, SessionStore};
use serde_json::json;

use crate::support_cases::*;
use crate::support_http::*;

const UPDATE: &str = "/v1/rpc/update_instance_info";
const DELETE: &str = "/v1/rpc/delete_instance_info";

fn updates(gamelift: &FakeGameLift) -> usize {
    gamelift_calls(gamelift, |c| {
        matches!(c, GameLiftCall::UpdateGameSession(_))
    })
}

fn update(id: &str, extra: serde_json::Value) -> String {
    let mut body = json!({"id": id});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body.to_string()
}

/// `POST path` (update or delete) about session `id`, with `extra`'s fields beside the id.
fn report(path: &str, id: &str, extra: serde_json::Value) -> Ev {
    Ev::post(path, update(id, extra))
}

/// status-rpc's answer to the sample `events/api/<name>`, and the store writes it made.
async fn sample_with_writes(d: &TestDeps, name: &str) -> (Answer, u64) {
    let before = d.store.calls();
    let a = sample_answer(d, name).await;
    (a, delta(before, d.store.calls()).1)
}

/// status-rpc's answer to the sample `events/api/<name>`.
async fn sample_answer<S: SessionStore>(d: &AnyDeps<S>, name: &str) -> Answer {
    rpc(d, sample(name)).await
}

#[tokio::test]
async fn the_camel_case_sample_updates_the_session_and_gamelift_once_within_budget() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let (a, writes) = sample_with_writes(&d, "rpc-update-instance-info.json").await;
    assert_eq!(
        (a.status, a.body.clone()),
        (204, serde_json::Value::Null),
        "{}",
        a.body
    );
    assert_eq!(writes, 1, "update_instance_info = 1 write");
    assert_eq!(
        d.gamelift.calls(),
        vec![GameLiftCall::UpdateGameSession(ARN_1.into())],
        "properties changed"
    );
    let now = stored_session(&d.store, &s.id).await;
    assert_eq!(now.player_count, 3);
    assert_eq!(now.name.as_deref(), Some("friday lobby"));
    assert_eq!(now.properties.get("mode"), Some("ranked"));
    assert_eq!(now.properties.get("round"), Some("2"));
    assert_eq!(now.open_slots, 5);

    // The same report again changes nothing in GameLift.
    let again = sample_answer(&d, "rpc-update-instance-info.json").await;
    assert_eq!(again.status, 204);
    assert_eq!(
        updates(&d.gamelift),
        1,
        "no UpdateGameSession when nothing changed"
    );
}

#[tokio::test]
async fn the_snake_case_sample_updates_the_player_count_without_calling_gamelift() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let (a, writes) = sample_with_writes(&d, "rpc-update-instance-info-snake.json").await;
    assert_eq!(a.status, 204, "{}", a.body);
    assert_eq!(writes, 1);
    assert!(
        d.gamelift.calls().is_empty(),
        "only the player count changed"
    );
    assert_eq!(stored_session(&d.store, &s.id).await.player_count, 4);
}

#[tokio::test]
async fn both_spellings_of_the_player_count_are_the_same_report() {
    for key in ["playerCount", "player_count"] {
        let d = deps();
        let s = seed(&d, ARN_1, 8);
        let a = call_rpc(
            &d,
            report(UPDATE, s.id.as_str(), json!({key: 6})).by(gs_f1()),
        )
        .await;
        assert_eq!(a.status, 204, "{key}: {}", a.body);
        assert_eq!(
            stored_session(&d.store, &s.id).await.player_count,
            6,
            "{key}"
        );
    }
}

#[tokio::test]
async fn properties_that_are_already_set_do_not_call_gamelift_but_a_new_value_does() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let id = s.id.as_str();
    for (what, id, metadata, updates_after) in [
        (
            "the properties and name it already has",
            ARN_1,
            json!({"GameProperties": {"mode": "casual"}, "GameSessionName": "lobby"}),
            0,
        ),
        ("a new name", id, json!({"GameSessionName": "renamed"}), 1),
        (
            "new data: GameSessionData is not something UpdateGameSession changes",
            id,
            json!({"GameSessionData": "round=3"}),
            1,
        ),
    ] {
        let a = call_rpc(
            &d,
            report(UPDATE, id, json!({ "metadata": metadata })).by(gs_f1()),
        )
        .await;
        assert_eq!(a.status, 204, "{what}: {}", a.body);
        assert_eq!(updates(&d.gamelift), updates_after, "{what}");
    }
    assert_eq!(
        stored_session(&d.store, &s.id).await.data.as_deref(),
        Some("round=3")
    );
}

#[tokio::test]
async fn a_report_before_the_placement_event_is_kept_and_merged_when_the_event_arrives() {
    let d = deps();
    let arn = GameSessionArn::parse(ARN_1).unwrap();
    let a = sample_answer(&d, "rpc-update-instance-info.json").await;
    assert_eq!(a.status, 204, "{}", a.body);
    let pending = d.store.pending_report(&arn.session_id()).expect("kept");
    assert_eq!(pending.player_count, Some(3));

    // The placement event arrives later: the session carries the server's report.
    let mut placement = placement("p-7", PLAYER_A, &[]);
    placement.name = Some("from the create".into());
    store_placement(&d.store, &placement).await;
    let outcome = PlacementOutcome::Fulfilled {
        session: Box::new(session(ARN_1, 8)),
        player_sessions: vec![],
    };
    finish(&d.store, "p-7", &outcome, T0.plus_secs(2)).await;
    let merged = stored_session(&d.store, &arn.session_id()).await;
    assert_eq!(
        (merged.player_count, merged.name.as_deref()),
        (3, Some("friday lobby"))
    );
    assert!(d.store.pending_report(&arn.session_id()).is_none());
}

#[tokio::test]
async fn a_short_id_of_an_unknown_session_is_404() {
    let d = deps();
    let a = sample_answer(&d, "rpc-update-instance-info-snake.json").await;
    a.assert_error(404, "not_found");
    let b = call_rpc(&d, report(DELETE, &short_id(ARN_1), json!({})).by(gs_f1())).await;
    b.assert_error(404, "not_found");
    let c = call_rpc(
        &d,
        report(DELETE, &short_id(ARN_1), json!({})).by(service()),
    )
    .await;
    c.assert_error(404, "not_found");
}

#[tokio::test]
async fn a_game_server_touches_only_sessions_of_its_fleets() {
    let d = deps();
    let s1 = seed(&d, ARN_1, 8);
    let s2 = seed(&d, ARN_2, 8);
    let count = json!({"playerCount": 1});
    // F2's server on F1's session, by ARN and by short id (the fleet then comes from the stored row).
    for id in [ARN_1.to_owned(), s1.id.to_string()] {
        let a = call_rpc(&d, report(UPDATE, &id, count.clone()).by(gs_f2())).await;
        a.assert_error(403, "forbidden");
        let b = call_rpc(&d, report(DELETE, &id, json!({})).by(gs_f2())).await;
        b.assert_error(403, "forbidden");
    }
    // Not even a report for an unseen session of another fleet is kept.
    let unseen = "arn:aws:gamelift:us-east-1::gamesession/fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31/gsess-new";
    call_rpc(&d, report(UPDATE, unseen, count.clone()).by(gs_f2()))
        .await
        .assert_error(403, "forbidden");
    assert!(
        d.store
            .pending_report(&GameSessionArn::parse(unseen).unwrap().session_id())
            .is_none()
    );
    assert_eq!(stored_session(&d.store, &s1.id).await.player_count, 0);
    // Its own fleet is fine; services may report on any fleet; players never.
    assert_eq!(
        call_rpc(
            &d,
            report(UPDATE, s2.id.as_str(), count.clone()).by(gs_f2())
        )
        .await
        .status,
        204
    );
    assert_eq!(
        call_rpc(&d, report(UPDATE, ARN_1, count.clone()).by(service()))
            .await
            .status,
        204
    );
    call_rpc(&d, report(UPDATE, ARN_1, count).by(player_a()))
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test]
async fn the_delete_sample_ends_the_session_so_it_is_neither_listed_nor_joinable() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let a = sample_answer(&d, "rpc-delete-instance-info.json").await;
    assert_eq!(a.status, 204, "{}", a.body);
    assert!(
        d.gamelift.calls().is_empty(),
        "the game server ends its own session"
    );
    let ended = stored_session(&d.store, &s.id).await;
    assert_eq!(ended.status, SessionStatus::Ended);
    let list = call(&d, route::list().by(player_a())).await;
    assert_eq!(list.body["sessions"], json!([]));
    let join = call(&d, route::join(&s.id, &[PLAYER_A]).by(player_a())).await;
    join.assert_error(409, "conflict");
    // A later report for it is refused; deleting again is fine.
    let late = sample_answer(&d, "rpc-update-instance-info-snake.json").await;
    late.assert_error(409, "conflict");
    assert_eq!(
        sample_answer(&d, "rpc-delete-instance-info.json")
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn deleting_an_unseen_session_by_arn_keeps_its_late_event_from_resurrecting_it() {
    let d = deps();
    let a = sample_answer(&d, "rpc-delete-instance-info.json").await;
    assert_eq!(a.status, 204);
    let report = sample_answer(&d, "rpc-update-instance-info.json").await;
    report.assert_error(409, "conflict");
}

#[tokio::test]
async fn status_rpc_serves_only_its_two_routes() {
    let d = deps();
    for (method, path) in [
        ("GET", UPDATE),
        ("POST", "/v1/sessions"),
        ("POST", "/v1/rpc/other"),
        ("GET", "/v1/health"),
    ] {
        call_rpc(&d, Ev::new(method, path).by(service()))
            .await
            .assert_error(404, "not_found");
    }
    call_rpc(&d, Ev::post(UPDATE, "{}"))
        .await
        .assert_error(401, "unauthenticated");
}

#[tokio::test]
async fn a_store_failure_after_update_game_session_is_503_and_a_retry_tells_gamelift_again() {
    let d = failing_deps();
    let s = session(ARN_1, 8);
    d.store.inner.seed_sessions(std::slice::from_ref(&s));
    d.store.faults.pass_next(); // the read
    d.store
        .faults
        .fail_next(fleet_core::ports::StoreError::Unavailable("timeout".into())); // the write
    sample_answer(&d, "rpc-update-instance-info.json")
        .await
        .assert_error(503, "unavailable");
    assert_eq!(
        stored_session(&d.store.inner, &s.id).await.player_count,
        0,
        "nothing written"
    );
    // The table is unchanged, so the retry sees the same difference and tells GameLift again.
    assert_eq!(
        sample_answer(&d, "rpc-update-instance-info.json")
            .await
            .status,
        204
    );
    assert_eq!(updates(&d.gamelift), 2);
    assert_eq!(stored_session(&d.store.inner, &s.id).await.player_count, 3);
}

#[tokio::test]
async fn gamelift_refusing_the_update_writes_nothing() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    d.gamelift
        .fail_next(fleet_core::ports::GameLiftError::NotActive(
            "TERMINATED".into(),
        ));
    sample_answer(&d, "rpc-update-instance-info.json")
        .await
        .assert_error(409, "conflict");
    assert_eq!(stored_session(&d.store, &s.id).await.player_count, 0);
    d.gamelift
        .fail_next(fleet_core::ports::GameLiftError::Throttled("rate".into()));
    sample_answer(&d, "rpc-update-instance-info.json")
        .await
        .assert_error(429, "throttled");
}
