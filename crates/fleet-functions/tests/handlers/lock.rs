//! `PATCH /v1/sessions/{id}`: a locked session has no open slots, is skipped by open-slot listings
//! and refuses joins with 409 before any GameLift call; unlocking gives its slots back; protection
//! round-trips; GameLift is told first, so its refusal leaves the table as it was.

use std::fmt::Display;

use fleet_core::fakes::GameLiftCall;
use fleet_core::ports::GameLiftError;
use serde_json::json;

use crate::support_cases::*;
use crate::support_http::*;

const LOCK: &str = r#"{"joinable":false}"#;
const UNLOCK: &str = r#"{"joinable":true}"#;

async fn patch(d: &TestDeps, session: impl Display, body: &str, who: Who) -> Answer {
    call(d, route::patch(session, body).by(who)).await
}

/// `player` joins `session` itself.
async fn join(d: &TestDeps, session: impl Display, player: &str) -> Answer {
    call(d, route::join(session, &[player]).by(Who::player(player))).await
}

#[tokio::test]
async fn a_locked_session_refuses_joins_until_it_is_unlocked() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    let id = &s.id;

    let locked = patch(&d, id, LOCK, service()).await;
    let refused = join(&d, id, PLAYER_A).await;
    let unlocked = patch(&d, id, UNLOCK, gs_f1()).await;
    let joined = join(&d, id, PLAYER_A).await;

    assert_eq!(locked.status, 200, "{}", locked.body);
    assert_eq!(
        (&locked.body["joinable"], &locked.body["openSlots"]),
        (&json!(false), &json!(0))
    );
    refused.assert_error(409, "conflict");
    assert!(
        message(&refused).contains("not accepting new players"),
        "{}",
        refused.body
    );
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(unlocked.body["openSlots"], 4);
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(
        player_session_creates(&d.gamelift),
        1,
        "the refused join never reached GameLift"
    );
    let policies: Vec<_> = d
        .gamelift
        .calls()
        .into_iter()
        .filter(|c| matches!(c, GameLiftCall::SetSessionPolicy(..)))
        .collect();
    assert_eq!(
        policies,
        vec![
            GameLiftCall::SetSessionPolicy(ARN_1.into(), Some(false), None),
            GameLiftCall::SetSessionPolicy(ARN_1.into(), Some(true), None),
        ]
    );
    assert_eq!(d.gamelift.session_policy(&s.arn), (true, false));
}

#[tokio::test]
async fn a_locked_session_is_left_out_of_open_slot_listings_and_found_by_joinable() {
    let d = deps();
    let a = seed(&d, ARN_1, 4);
    seed(&d, ARN_2, 4);
    assert_eq!(patch(&d, &a.id, LOCK, service()).await.status, 200);

    let list = |q: &str| {
        route::list()
            .query(&format!("query={}", encode(q)))
            .by(player_a())
    };
    let open = call(&d, list("+openSlots:>=1")).await;
    let locked = call(&d, list("+joinable:false")).await;
    let joinable = call(&d, list("+joinable:true")).await;

    let ids = |a: &Answer| -> Vec<String> {
        a.body["sessions"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|s| s["arn"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(&open), vec![ARN_2.to_owned()], "{}", open.body);
    assert_eq!(ids(&locked), vec![ARN_1.to_owned()], "{}", locked.body);
    assert_eq!(ids(&joinable), vec![ARN_2.to_owned()], "{}", joinable.body);
}

#[tokio::test]
async fn a_player_already_seated_in_a_locked_session_still_gets_its_seat_back() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    let first = join(&d, &s.id, PLAYER_A).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(patch(&d, &s.id, LOCK, service()).await.status, 200);

    let again = join(&d, &s.id, PLAYER_A).await;

    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
}

#[tokio::test]
async fn protection_is_set_in_gamelift_and_shown_on_the_session() {
    let (d, s) = with_session(deps(), ARN_1, 4);

    let a = patch(&d, &encode(ARN_1), r#"{"protected":true}"#, gs_f1()).await;
    let read = call(&d, route::get_session(&s.id).by(player_b())).await;

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(read.body["protected"], true);
    assert_eq!(read.body["joinable"], true, "joinable is left as it was");
    assert_eq!(d.gamelift.session_policy(&s.arn), (true, true));
}

#[tokio::test]
async fn gamelift_refusing_the_policy_leaves_the_session_as_it_was() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    d.gamelift
        .fail_next(GameLiftError::NotActive("TERMINATING".into()));

    let a = patch(&d, &s.id, LOCK, service()).await;
    let throttled = {
        d.gamelift
            .fail_next(GameLiftError::Throttled("Rate exceeded".into()));
        patch(&d, &s.id, LOCK, service()).await
    };

    a.assert_error(409, "conflict");
    throttled.assert_error(429, "throttled");
    let read = call(&d, route::get_session(&s.id).by(service())).await;
    assert_eq!(
        (&read.body["joinable"], &read.body["openSlots"]),
        (&json!(true), &json!(4))
    );
}

#[tokio::test]
async fn an_ended_or_unknown_session_is_refused_without_a_gamelift_call() {
    let (d, s) = with_session(deps(), ARN_1, 4);
    let deleted = call(&d, route::delete_session(&s.id).by(service())).await;
    assert_eq!(deleted.status, 204);

    patch(&d, &s.id, LOCK, service())
        .await
        .assert_error(409, "conflict");
    patch(&d, &short_id(ARN_2), LOCK, service())
        .await
        .assert_error(404, "not_found");

    assert!(
        !d.gamelift
            .calls()
            .iter()
            .any(|c| matches!(c, GameLiftCall::SetSessionPolicy(..))),
        "{:?}",
        d.gamelift.calls()
    );
}
