//! `PATCH /v1/sessions/{id}`: a locked session has no open slots, is skipped by open-slot listings
//! and refuses joins with 409 before any GameLift call; unlocking gives its slots back; protection
//! round-trips; GameLift is told first, so its refusal leaves the table as it was.

use fleet_core::fakes::GameLiftCall;
use fleet_core::ports::GameLiftError;

use crate::support_http::*;

async fn patch(d: &TestDeps, session: &str, body: &str, who: Who) -> Answer {
    api(
        d,
        Ev::new("PATCH", &format!("/v1/sessions/{session}"))
            .body(body.to_owned())
            .by(who)
            .request(),
    )
    .await
}

async fn join(d: &TestDeps, session: &str, player: &str) -> Answer {
    api(
        d,
        Ev::post(
            &format!("/v1/sessions/{session}/join"),
            join_body(&[player]),
        )
        .by(Who::player(player))
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
async fn a_locked_session_refuses_joins_until_it_is_unlocked() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    let id = s.id.as_ref();

    let locked = patch(&d, id, r#"{"joinable":false}"#, Who::iam(SERVICE)).await;
    let refused = join(&d, id, PLAYER_A).await;
    let unlocked = patch(&d, id, r#"{"joinable":true}"#, Who::iam(GS_F1)).await;
    let joined = join(&d, id, PLAYER_A).await;

    assert_eq!(locked.status, 200, "{}", locked.body);
    assert_eq!(
        (&locked.body["joinable"], &locked.body["openSlots"]),
        (&serde_json::json!(false), &serde_json::json!(0))
    );
    refused.assert_error(409, "conflict");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not accepting new players")),
        "{}",
        refused.body
    );
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(unlocked.body["openSlots"], 4);
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(creates(&d), 1, "the refused join never reached GameLift");
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
    assert_eq!(
        patch(
            &d,
            a.id.as_ref(),
            r#"{"joinable":false}"#,
            Who::iam(SERVICE)
        )
        .await
        .status,
        200
    );

    let list = |q: &'static str| {
        let d = &d;
        async move {
            api(
                d,
                Ev::get("/v1/sessions")
                    .query(&format!("query={}", encode(q)))
                    .by(Who::player(PLAYER_A))
                    .request(),
            )
            .await
        }
    };
    let open = list("+openSlots:>=1").await;
    let locked = list("+joinable:false").await;
    let joinable = list("+joinable:true").await;

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
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    let first = join(&d, s.id.as_ref(), PLAYER_A).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        patch(
            &d,
            s.id.as_ref(),
            r#"{"joinable":false}"#,
            Who::iam(SERVICE)
        )
        .await
        .status,
        200
    );

    let again = join(&d, s.id.as_ref(), PLAYER_A).await;

    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["playerSessions"][0]["playerSessionId"],
        first.body["playerSessions"][0]["playerSessionId"]
    );
}

#[tokio::test]
async fn protection_is_set_in_gamelift_and_shown_on_the_session() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);

    let a = patch(&d, &encode(ARN_1), r#"{"protected":true}"#, Who::iam(GS_F1)).await;
    let read = api(
        &d,
        Ev::get(&format!("/v1/sessions/{}", s.id.as_ref()))
            .by(Who::player(PLAYER_B))
            .request(),
    )
    .await;

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(read.body["protected"], true);
    assert_eq!(read.body["joinable"], true, "joinable is left as it was");
    assert_eq!(d.gamelift.session_policy(&s.arn), (true, true));
}

#[tokio::test]
async fn gamelift_refusing_the_policy_leaves_the_session_as_it_was() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    d.gamelift
        .fail_next(GameLiftError::NotActive("TERMINATING".into()));

    let a = patch(
        &d,
        s.id.as_ref(),
        r#"{"joinable":false}"#,
        Who::iam(SERVICE),
    )
    .await;
    let throttled = {
        d.gamelift
            .fail_next(GameLiftError::Throttled("Rate exceeded".into()));
        patch(
            &d,
            s.id.as_ref(),
            r#"{"joinable":false}"#,
            Who::iam(SERVICE),
        )
        .await
    };

    a.assert_error(409, "conflict");
    throttled.assert_error(429, "throttled");
    let read = api(
        &d,
        Ev::get(&format!("/v1/sessions/{}", s.id.as_ref()))
            .by(Who::iam(SERVICE))
            .request(),
    )
    .await;
    assert_eq!(
        (&read.body["joinable"], &read.body["openSlots"]),
        (&serde_json::json!(true), &serde_json::json!(4))
    );
}

#[tokio::test]
async fn an_ended_or_unknown_session_is_refused_without_a_gamelift_call() {
    let d = deps();
    let s = seed(&d, ARN_1, 4);
    let deleted = api(
        &d,
        Ev::delete(&format!("/v1/sessions/{}", s.id.as_ref()))
            .by(Who::iam(SERVICE))
            .request(),
    )
    .await;
    assert_eq!(deleted.status, 204);

    patch(
        &d,
        s.id.as_ref(),
        r#"{"joinable":false}"#,
        Who::iam(SERVICE),
    )
    .await
    .assert_error(409, "conflict");
    patch(
        &d,
        &short_id(ARN_2),
        r#"{"joinable":false}"#,
        Who::iam(SERVICE),
    )
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
