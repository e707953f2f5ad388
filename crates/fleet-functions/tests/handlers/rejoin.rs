//! A join repeated by a player who still holds a live seat returns that seat: the same player
//! session, no GameLift call, no second seat. A lapsed seat is joined anew.

use fleet_core::fakes::GameLiftCall;
use serde_json::json;

use crate::integration::spawn_stack;
use crate::support_http::*;

async fn join(d: &TestDeps, session: &str, players: &[&str], who: Who) -> Answer {
    api(
        d,
        Ev::post(&format!("/v1/sessions/{session}/join"), join_body(players))
            .by(who)
            .request(),
    )
    .await
}

fn creates(d: &TestDeps) -> usize {
    d.gamelift
        .calls()
        .iter()
        .filter(|c| matches!(c, GameLiftCall::CreatePlayerSessions(..)))
        .count()
}

#[tokio::test]
async fn a_repeated_join_returns_the_same_seat_without_asking_gamelift() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    let first = join(&d, s.id.as_ref(), &[PLAYER_A], Who::player(PLAYER_A)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let before = d.store.calls();

    let again = join(&d, s.id.as_ref(), &[PLAYER_A], Who::player(PLAYER_A)).await;

    let after = d.store.calls();
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
    assert_eq!(again.body["session"]["openSlots"], 3, "no second seat");
    assert_eq!(creates(&d), 1, "no GameLift call for the repeat");
    assert_eq!(
        (after.reads - before.reads, after.writes - before.writes),
        (1, 0),
        "a repeat reads the partition and writes nothing"
    );
}

#[tokio::test]
async fn a_player_whose_seat_lapsed_gets_a_new_one() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    let first = join(&d, s.id.as_ref(), &[PLAYER_A], Who::player(PLAYER_A)).await;
    d.clock.advance_secs(61);

    let again = join(&d, s.id.as_ref(), &[PLAYER_A], Who::player(PLAYER_A)).await;

    assert_eq!(again.status, 200, "{}", again.body);
    assert_ne!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
    assert_eq!(creates(&d), 2);
}

#[tokio::test]
async fn a_join_of_a_seated_player_with_a_new_one_is_409() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    assert_eq!(
        join(&d, s.id.as_ref(), &[PLAYER_A], Who::player(PLAYER_A))
            .await
            .status,
        200
    );
    let mixed = join(&d, s.id.as_ref(), &[PLAYER_A, PLAYER_B], Who::iam(SERVICE)).await;
    mixed.assert_error(409, "conflict");
    assert_eq!(creates(&d), 1);
}

/// On DynamoDB Local and gamelift-sim: the repeat answers GameLift's own player session id.
#[tokio::test]
async fn on_the_real_parts_a_rejoin_answers_the_player_session_gamelift_created() {
    let mut stack = spawn_stack().await;
    let (_, session, _) = stack.create_fulfilled(4).await;
    let body = json!({"players": [{"playerId": PLAYER_B}]}).to_string();
    let path = format!("/v1/sessions/{session}/join");
    let first = stack
        .api(Ev::post(&path, body.clone()).by(Who::player(PLAYER_B)))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = stack
        .api(Ev::post(&path, body).by(Who::player(PLAYER_B)))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
    assert_eq!(again.body["session"]["openSlots"], 2);
    // The create's own player holds a seat from the placement's player session, too.
    let own = stack
        .api(
            Ev::post(
                &path,
                json!({"players": [{"playerId": PLAYER_A}]}).to_string(),
            )
            .by(Who::player(PLAYER_A)),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(
        own.body["playerSessions"][0]["playerSessionId"]
            .as_str()
            .is_some_and(|p| p.starts_with("psess-"))
    );
    assert_eq!(own.body["session"]["openSlots"], 2);
}
