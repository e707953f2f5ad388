//! A join repeated by a player who still holds a live seat returns that seat: the same player
//! session, no GameLift call, no second seat. A lapsed seat is joined anew.

use crate::integration::spawn_stack;
use crate::support_cases::*;
use crate::support_http::*;

#[tokio::test]
async fn a_repeated_join_returns_the_same_seat_without_asking_gamelift() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    let first = join_self(&d, &s.id, PLAYER_A).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let before = d.store.calls();

    let again = join_self(&d, &s.id, PLAYER_A).await;

    let after = d.store.calls();
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
    assert_eq!(again.body["session"]["openSlots"], 3, "no second seat");
    assert_eq!(
        player_session_creates(&d.gamelift),
        1,
        "no GameLift call for the repeat"
    );
    assert_eq!(
        delta(before, after),
        (1, 0),
        "a repeat reads the partition and writes nothing"
    );
}

#[tokio::test]
async fn a_player_whose_seat_lapsed_gets_a_new_one() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    let first = join_self(&d, &s.id, PLAYER_A).await;
    d.clock.advance_secs(61);

    let again = join_self(&d, &s.id, PLAYER_A).await;

    assert_eq!(again.status, 200, "{}", again.body);
    assert_ne!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
    assert_eq!(player_session_creates(&d.gamelift), 2);
}

#[tokio::test]
async fn a_join_of_a_seated_player_with_a_new_one_is_409() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    assert_eq!(join_self(&d, &s.id, PLAYER_A).await.status, 200);
    let mixed = call(&d, route::join(&s.id, &[PLAYER_A, PLAYER_B]).by(service())).await;
    mixed.assert_error(409, "conflict");
    assert_eq!(player_session_creates(&d.gamelift), 1);
}

/// On DynamoDB Local and gamelift-sim: the repeat answers GameLift's own player session id.
#[tokio::test]
async fn on_the_real_parts_a_rejoin_answers_the_player_session_gamelift_created() {
    let mut stack = spawn_stack().await;
    let (_, session, _) = stack.create_fulfilled(4).await;
    let first = stack.join(&session, PLAYER_B).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = stack.join(&session, PLAYER_B).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
    assert_eq!(again.body["session"]["openSlots"], 2);
    // The create's own player holds a seat from the placement's player session, too.
    let own = stack.join(&session, PLAYER_A).await;
    assert_seated_by_gamelift(&own, 2);
}
