//! Home Regions: a queue in us-east-1 places on a fleet homed in eu-west-1; the placement lives in the
//! queue's Region, the game session (and its player sessions) in the fleet's, and a call made in any
//! other Region (the Region of its credential scope) is NotFoundException, through the real SDK (RPC v2
//! CBOR) and raw AWS JSON 1.1 alike.

use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::{
    GameProperty, PlacementFallbackStrategy, PriorityConfigurationOverride, TerminationMode,
};
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_QUEUE};
use gamelift_sim::{Model, QueueSpec};
use serde_json::json;

use super::{client_in, json11_in, quiet_model, raw, start};

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

/// The code of a failed SDK call (panics on success: the call was expected to fail).
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> String {
    r.expect_err("the call must fail")
        .code()
        .unwrap_or("no code")
        .to_owned()
}

/// Starts a placement through the us-east-1 queue restricted to eu-west-1 and returns the session's ARN.
async fn placed_in_eu(env: &super::Env, us: &Client, id: &str) -> String {
    us.start_game_session_placement()
        .placement_id(id)
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(4)
        .priority_configuration_override(
            PriorityConfigurationOverride::builder()
                .location_order(EU)
                .placement_fallback_strategy(PlacementFallbackStrategy::None)
                .build(),
        )
        .send()
        .await
        .expect("start in the queue's Region");
    env.sim
        .advance(Duration::from_millis(1500))
        .await
        .expect("advance");
    let p = us
        .describe_game_session_placement()
        .placement_id(id)
        .send()
        .await
        .expect("describe in the queue's Region")
        .game_session_placement
        .expect("placement");
    assert_eq!(p.game_session_region(), Some(EU));
    p.game_session_arn().expect("fulfilled").to_owned()
}

#[tokio::test]
async fn a_session_placed_through_a_us_east_1_queue_on_a_eu_west_1_fleet_lives_in_eu_west_1() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let (us, eu) = (client_in(&ep, US), client_in(&ep, EU));
    let arn = placed_in_eu(&env, &us, "cross-1").await;
    assert!(
        arn.starts_with(&format!(
            "arn:aws:gamelift:{EU}::gamesession/{DEFAULT_FLEET_EU}/"
        )),
        "the ARN names the fleet's home Region: {arn}"
    );

    // Every call about the session, sent to the queue's Region, does not find it.
    let cps = us
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("ann")
        .send()
        .await;
    assert_eq!(code(cps), "NotFoundException");
    let cp = us
        .create_player_session()
        .game_session_id(&arn)
        .player_id("ann")
        .send()
        .await;
    assert_eq!(code(cp), "NotFoundException");
    let d = us
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await;
    assert_eq!(code(d), "NotFoundException");
    let d = us
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_EU)
        .send()
        .await;
    assert_eq!(code(d), "NotFoundException");
    let s = us
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_EU)
        .send()
        .await;
    assert_eq!(code(s), "NotFoundException");
    let u = us
        .update_game_session()
        .game_session_id(&arn)
        .game_properties(GameProperty::builder().key("k").value("v").build())
        .send()
        .await;
    assert_eq!(code(u), "NotFoundException");
    let dp = us
        .describe_player_sessions()
        .game_session_id(&arn)
        .send()
        .await;
    assert_eq!(code(dp), "NotFoundException");
    let t = us
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await;
    assert_eq!(code(t), "NotFoundException");

    // The same calls in the session's home Region work.
    let joined = eu
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("ann")
        .send()
        .await
        .expect("join in the home Region");
    let psid = joined.player_sessions()[0]
        .player_session_id()
        .expect("psid")
        .to_owned();
    let sessions = eu
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .expect("describe in the home Region");
    assert_eq!(
        sessions.game_sessions()[0].current_player_session_count(),
        Some(1)
    );
    let by_fleet = eu
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_EU)
        .send()
        .await
        .expect("search in the home Region");
    assert_eq!(by_fleet.game_sessions().len(), 1);
    eu.update_game_session()
        .game_session_id(&arn)
        .game_properties(GameProperty::builder().key("k").value("v").build())
        .send()
        .await
        .expect("update in the home Region");
    // A player session is found where its game session lives, and only there.
    let found = eu
        .describe_player_sessions()
        .player_session_id(&psid)
        .send()
        .await
        .expect("player session in the home Region");
    assert_eq!(found.player_sessions().len(), 1);
    let elsewhere = us
        .describe_player_sessions()
        .player_session_id(&psid)
        .send()
        .await;
    assert_eq!(code(elsewhere), "NotFoundException");
    let by_player = us
        .describe_player_sessions()
        .player_id("ann")
        .send()
        .await
        .expect("by player id: an empty list elsewhere");
    assert!(by_player.player_sessions().is_empty());
    eu.terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate in the home Region");
}

#[tokio::test]
async fn a_placement_exists_only_in_its_queues_region() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let (us, eu) = (client_in(&ep, US), client_in(&ep, EU));
    let start_in = |c: &Client, id: &str| {
        c.start_game_session_placement()
            .placement_id(id)
            .game_session_queue_name(DEFAULT_QUEUE)
            .maximum_player_session_count(2)
            .send()
    };
    assert_eq!(code(start_in(&eu, "q-1").await), "NotFoundException");
    let queue_arn = format!("arn:aws:gamelift:{EU}:123456789012:gamesessionqueue/{DEFAULT_QUEUE}");
    let by_arn = us
        .start_game_session_placement()
        .placement_id("q-1")
        .game_session_queue_name(queue_arn)
        .maximum_player_session_count(2)
        .send()
        .await;
    assert_eq!(
        code(by_arn),
        "NotFoundException",
        "an ARN naming another Region"
    );
    start_in(&us, "q-1")
        .await
        .expect("start in the queue's Region");
    let d = eu
        .describe_game_session_placement()
        .placement_id("q-1")
        .send()
        .await;
    assert_eq!(code(d), "NotFoundException");
    let s = eu
        .stop_game_session_placement()
        .placement_id("q-1")
        .send()
        .await;
    assert_eq!(code(s), "NotFoundException");
    let stopped = us
        .stop_game_session_placement()
        .placement_id("q-1")
        .send()
        .await
        .expect("stop in the queue's Region");
    assert_eq!(
        stopped
            .game_session_placement()
            .and_then(|p| p.status())
            .map(|s| s.as_str()),
        Some("CANCELLED")
    );
}

#[tokio::test]
async fn a_placement_id_stays_used_in_every_region() {
    // GameLift: a PlacementId "must be unique across all Regions and cannot be reused".
    let mut model: Model = quiet_model();
    model.queues.push(QueueSpec {
        name: "eu-queue".into(),
        region: EU.into(),
        timeout_seconds: 600,
        destinations: vec![DEFAULT_FLEET_EU.into()],
        allowed_locations: None,
        priority_configuration: None,
    });
    let env = start(model).await;
    let ep = env.server.endpoint();
    let (us, eu) = (client_in(&ep, US), client_in(&ep, EU));
    us.start_game_session_placement()
        .placement_id("once")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("first use");
    let again = eu
        .start_game_session_placement()
        .placement_id("once")
        .game_session_queue_name("eu-queue")
        .maximum_player_session_count(2)
        .send()
        .await;
    assert_eq!(code(again), "InvalidRequestException");
}

#[tokio::test]
async fn the_json_1_1_protocol_takes_the_region_from_the_credential_scope_too() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let us = client_in(&ep, US);
    let arn = placed_in_eu(&env, &us, "cross-json").await;
    let join = json!({"GameSessionId": arn, "PlayerIds": ["bo"]});
    let (s, v) = json11_in(&ep, US, "CreatePlayerSessions", join.clone()).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("NotFoundException")),
        "{v}"
    );
    let (s, v) = json11_in(&ep, EU, "CreatePlayerSessions", join).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = json11_in(
        &ep,
        US,
        "DescribeGameSessions",
        json!({"GameSessionId": arn}),
    )
    .await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("NotFoundException")),
        "{v}"
    );
    let (s, v) = json11_in(
        &ep,
        EU,
        "DescribeGameSessions",
        json!({"GameSessionId": arn}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["GameSessions"][0]["CurrentPlayerSessionCount"], 1);
    let (s, v) = json11_in(
        &ep,
        EU,
        "DescribeGameSessionPlacement",
        json!({"PlacementId": "cross-json"}),
    )
    .await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("NotFoundException")),
        "{v}"
    );
}

#[tokio::test]
async fn a_request_without_a_credential_scope_or_with_a_bad_one_is_refused_as_aws_refuses_it() {
    let env = start(quiet_model()).await;
    let url = format!("{}/", env.server.endpoint());
    let target = ("x-amz-target", "GameLift.DescribeGameSessions");
    let body = || {
        json!({"FleetId": DEFAULT_FLEET_EU})
            .to_string()
            .into_bytes()
    };
    let error = |b: &bytes::Bytes| -> (String, String) {
        let v: serde_json::Value = serde_json::from_slice(b).expect("JSON error");
        (
            v["__type"].as_str().unwrap_or_default().to_owned(),
            v["message"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (s, h, b) = raw(&url, &[target], body()).await;
    assert_eq!(
        (s, error(&b).0.as_str()),
        (400, "MissingAuthenticationTokenException")
    );
    assert_eq!(
        h.get("x-amzn-errortype").and_then(|v| v.to_str().ok()),
        Some("MissingAuthenticationTokenException")
    );
    let date = ("x-amz-date", "20260101T000000Z");
    let cases = [
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/mars-1/gamelift/aws4_request, SignedHeaders=host, Signature=0",
            "InvalidSignatureException",
            "valid region",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            "InvalidSignatureException",
            "correct service: 'gamelift'",
        ),
        (
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=0",
            "IncompleteSignatureException",
            "'Credential'",
        ),
    ];
    for (auth, want, says) in cases {
        let (s, _, b) = raw(&url, &[target, ("authorization", auth), date], body()).await;
        let (got, message) = error(&b);
        assert_eq!((s, got.as_str()), (400, want), "{auth}");
        assert!(message.contains(says), "{auth}: {message}");
    }
    let eu_scope = "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/gamelift/aws4_request, SignedHeaders=host, Signature=0";
    let (s, _, b) = raw(&url, &[target, ("authorization", eu_scope), date], body()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
}

#[tokio::test]
async fn an_in_process_call_in_a_region_sees_only_that_region() {
    let env = start(quiet_model()).await;
    let us = client_in(&env.server.endpoint(), US);
    let arn = placed_in_eu(&env, &us, "cross-call").await;
    let input = json!({"GameSessionId": arn});
    let e = env
        .sim
        .call_in(US, "DescribeGameSessions", input.clone())
        .await
        .expect_err("another Region");
    assert_eq!(e.code, "NotFoundException");
    let v = env
        .sim
        .call_in(EU, "DescribeGameSessions", input.clone())
        .await
        .expect("home Region");
    assert_eq!(v["GameSessions"][0]["GameSessionId"], arn.as_str());
    let all = env
        .sim
        .call("DescribeGameSessions", input)
        .await
        .expect("no Region: every Region");
    assert_eq!(all["GameSessions"][0]["Location"], EU);
}
