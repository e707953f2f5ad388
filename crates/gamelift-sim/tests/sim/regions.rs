//! Home Regions: a queue in us-east-1 places on a fleet homed in eu-west-1; the placement lives in the
//! queue's Region, the game session (and its player sessions) in the fleet's, and a call made in any
//! other Region (the Region of its credential scope) is NotFoundException, through the real SDK (RPC v2
//! CBOR) and raw AWS JSON 1.1 alike.

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::types::{GameProperty, TerminationMode};
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_QUEUE};
use gamelift_sim::{Model, QueueSpec};
use serde_json::json;

use super::{
    Env, INVALID, NOT_FOUND, assert_json_error, client_in, code, describe_session, force_terminate,
    join, join_one, json11_in, place_in, quiet_model, raw, start, start_on, start_request,
    terminate,
};

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

/// Starts a placement through the us-east-1 queue restricted to eu-west-1 and returns the session's ARN.
async fn placed_in_eu(env: &Env, us: &Client, id: &str) -> String {
    let p = place_in(env, us, id, EU).await;
    assert_eq!(p.game_session_region(), Some(EU));
    p.game_session_arn().expect("fulfilled").to_owned()
}

/// An environment on the default model with a client for each of its two Regions.
async fn us_and_eu() -> (Env, Client, Client) {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let (us, eu) = (client_in(&ep, US), client_in(&ep, EU));
    (env, us, eu)
}

#[tokio::test]
async fn a_session_placed_through_a_us_east_1_queue_on_a_eu_west_1_fleet_lives_in_eu_west_1() {
    let (env, us, eu) = us_and_eu().await;
    let arn = placed_in_eu(&env, &us, "cross-1").await;
    assert!(
        arn.starts_with(&format!(
            "arn:aws:gamelift:{EU}::gamesession/{DEFAULT_FLEET_EU}/"
        )),
        "the ARN names the fleet's home Region: {arn}"
    );

    // Every call about the session, sent to the queue's Region, does not find it.
    let property = || GameProperty::builder().key("k").value("v").build();
    let force = TerminationMode::ForceTerminate;
    let refusals = [
        (
            "CreatePlayerSessions",
            code(join(&us, &arn, &["ann"]).send().await),
        ),
        (
            "CreatePlayerSession",
            code(join_one(&us, &arn, "ann").send().await),
        ),
        (
            "DescribeGameSessions by id",
            code(
                us.describe_game_sessions()
                    .game_session_id(&arn)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeGameSessions by fleet",
            code(
                us.describe_game_sessions()
                    .fleet_id(DEFAULT_FLEET_EU)
                    .send()
                    .await,
            ),
        ),
        (
            "SearchGameSessions",
            code(
                us.search_game_sessions()
                    .fleet_id(DEFAULT_FLEET_EU)
                    .send()
                    .await,
            ),
        ),
        (
            "UpdateGameSession",
            code(
                us.update_game_session()
                    .game_session_id(&arn)
                    .game_properties(property())
                    .send()
                    .await,
            ),
        ),
        (
            "DescribePlayerSessions",
            code(
                us.describe_player_sessions()
                    .game_session_id(&arn)
                    .send()
                    .await,
            ),
        ),
        (
            "TerminateGameSession",
            code(terminate(&us, &arn, force).send().await),
        ),
    ];
    for (call, got) in refusals {
        assert_eq!(got, NOT_FOUND, "{call}");
    }

    // The same calls in the session's home Region work.
    let joined = join(&eu, &arn, &["ann"]).send().await;
    let joined = joined.expect("join in the home Region");
    let psid = joined.player_sessions()[0].player_session_id();
    let psid = psid.expect("psid").to_owned();
    let session = describe_session(&eu, &arn).await;
    assert_eq!(session.current_player_session_count(), Some(1));
    let by_fleet = eu
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_EU)
        .send()
        .await;
    let by_fleet = by_fleet.expect("search in the home Region");
    assert_eq!(by_fleet.game_sessions().len(), 1);
    let update = eu.update_game_session().game_session_id(&arn);
    let update = update.game_properties(property()).send().await;
    update.expect("update in the home Region");
    // A player session is found where its game session lives, and only there.
    let find = |client: &Client| {
        client
            .describe_player_sessions()
            .player_session_id(&psid)
            .send()
    };
    let found = find(&eu).await.expect("player session in the home Region");
    assert_eq!(found.player_sessions().len(), 1);
    assert_eq!(code(find(&us).await), NOT_FOUND);
    let by_player = us.describe_player_sessions().player_id("ann").send().await;
    let by_player = by_player.expect("by player id: an empty list elsewhere");
    assert!(by_player.player_sessions().is_empty());
    force_terminate(&eu, &arn).await;
}

#[tokio::test]
async fn a_placement_exists_only_in_its_queues_region() {
    let (_env, us, eu) = us_and_eu().await;
    assert_eq!(code(start_request(&eu, "q-1", 2).send().await), NOT_FOUND);
    let queue_arn = format!("arn:aws:gamelift:{EU}:123456789012:gamesessionqueue/{DEFAULT_QUEUE}");
    let by_arn = start_on(&us, &queue_arn, "q-1", 2).send().await;
    assert_eq!(code(by_arn), NOT_FOUND, "an ARN naming another Region");
    let started = start_request(&us, "q-1", 2).send().await;
    started.expect("start in the queue's Region");
    let described = eu.describe_game_session_placement().placement_id("q-1");
    assert_eq!(code(described.send().await), NOT_FOUND);
    let stop = |client: &Client| {
        client
            .stop_game_session_placement()
            .placement_id("q-1")
            .send()
    };
    assert_eq!(code(stop(&eu).await), NOT_FOUND);
    let stopped = stop(&us).await.expect("stop in the queue's Region");
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
    let eu_queue = QueueSpec::new("eu-queue", EU, 600, &[DEFAULT_FLEET_EU]);
    model.queues.push(eu_queue);
    let env = start(model).await;
    let ep = env.server.endpoint();
    let (us, eu) = (client_in(&ep, US), client_in(&ep, EU));
    let first = start_request(&us, "once", 2).send().await;
    first.expect("first use");
    let again = start_on(&eu, "eu-queue", "once", 2).send().await;
    assert_eq!(code(again), INVALID);
}

#[tokio::test]
async fn the_json_1_1_protocol_takes_the_region_from_the_credential_scope_too() {
    let (env, us, _) = us_and_eu().await;
    let ep = env.server.endpoint();
    let arn = placed_in_eu(&env, &us, "cross-json").await;
    let join = json!({"GameSessionId": arn, "PlayerIds": ["bo"]});
    let session = json!({"GameSessionId": arn});
    // A call is refused where the session does not live and served where it does.
    for (region, op, body, refused) in [
        (US, "CreatePlayerSessions", &join, true),
        (EU, "CreatePlayerSessions", &join, false),
        (US, "DescribeGameSessions", &session, true),
    ] {
        let (s, v) = json11_in(&ep, region, op, body.clone()).await;
        if refused {
            assert_json_error(s, &v, NOT_FOUND);
        } else {
            assert_eq!(s, 200, "{op} in {region}: {v}");
        }
    }
    let (s, v) = json11_in(&ep, EU, "DescribeGameSessions", session).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["GameSessions"][0]["CurrentPlayerSessionCount"], 1);
    let placement = json!({"PlacementId": "cross-json"});
    let (s, v) = json11_in(&ep, EU, "DescribeGameSessionPlacement", placement).await;
    assert_json_error(s, &v, NOT_FOUND);
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
    let (env, us, _) = us_and_eu().await;
    let arn = placed_in_eu(&env, &us, "cross-call").await;
    let input = json!({"GameSessionId": arn});
    let elsewhere = env
        .sim
        .call_in(US, "DescribeGameSessions", input.clone())
        .await;
    assert_eq!(elsewhere.expect_err("another Region").code, NOT_FOUND);
    let home = env
        .sim
        .call_in(EU, "DescribeGameSessions", input.clone())
        .await;
    let v = home.expect("home Region");
    assert_eq!(v["GameSessions"][0]["GameSessionId"], arn.as_str());
    let all = env.sim.call("DescribeGameSessions", input).await;
    let all = all.expect("no Region: every Region");
    assert_eq!(all["GameSessions"][0]["Location"], EU);
}
