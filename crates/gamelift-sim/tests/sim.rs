//! Integration tests: the real aws-sdk-gamelift (RPC v2 CBOR) and raw AWS JSON 1.1 against the simulator.
//! One test binary; more tests live in its modules (`tests/sim/*.rs`).

#![allow(
    clippy::unwrap_used,
    reason = "test support: a panic is the failure report"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario; the length limit is for product code"
)]

#[path = "sim/gateway.rs"]
mod gateway;
#[path = "sim/locations.rs"]
mod locations;
#[path = "sim/regions.rs"]
mod regions;

use std::time::{Duration, Instant};

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::{
    DesiredPlayerSession, GameProperty, GameSessionPlacementState, GameSessionStatus,
    PlacementFallbackStrategy, PlayerLatency, PlayerSessionStatus, PriorityConfigurationOverride,
    TerminationMode,
};
use aws_smithy_types::retry::RetryConfig;
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_FLEET_US, DEFAULT_QUEUE};
use gamelift_sim::{
    EventFaults, FaultSpec, FleetSpec, LocationSpec, ManualClock, Model, PlayerGatewayMode,
    PriorityConfiguration, QueueSpec, RecordingSink, SimServer, Simulator,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Env {
    sim: Simulator,
    server: SimServer,
    client: Client,
    events: mpsc::Receiver<String>,
}

fn client(endpoint: &str) -> Client {
    client_in(endpoint, "us-east-1")
}

/// An SDK client signing for `region`: the simulator serves every Region on one endpoint and takes
/// the request's Region from the credential scope, as GameLift's regional endpoints do.
fn client_in(endpoint: &str, region: &str) -> Client {
    let conf = aws_sdk_gamelift::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

async fn start(model: Model) -> Env {
    let sim = Simulator::builder()
        .model(model)
        .clock(ManualClock::new())
        .build();
    let events = sim.events();
    let server = sim.serve("127.0.0.1:0").await.expect("serve");
    // Calls go to the Region of the model's (first) queue, where its placements live.
    let region = model_region(&sim.model());
    let client = client_in(&server.endpoint(), &region);
    Env {
        sim,
        server,
        client,
        events,
    }
}

fn model_region(model: &Model) -> String {
    model
        .queues
        .first()
        .map_or("us-east-1", |q| q.region.as_str())
        .to_owned()
}

/// SigV4-shaped headers for a hand-made request in `region`: the simulator reads the credential scope
/// (it has no secret keys, so the signature itself is not checked).
fn signed(region: &str) -> [(&'static str, String); 2] {
    [
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/{region}/gamelift/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
            ),
        ),
        ("x-amz-date", "20260101T000000Z".to_owned()),
    ]
}

fn quiet_model() -> Model {
    Model {
        throttling: false,
        ..Model::default()
    }
}

fn drain(rx: &mut mpsc::Receiver<String>) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(s) = rx.try_recv() {
        out.push(serde_json::from_str(&s).expect("envelope is JSON"));
    }
    out
}

/// The EventBridge event inside an SNS envelope.
fn inner(envelope: &Value) -> Value {
    serde_json::from_str(envelope["Message"].as_str().expect("Message is a string"))
        .expect("Message is JSON")
}

async fn place(env: &Env, id: &str) -> aws_sdk_gamelift::types::GameSessionPlacement {
    env.client
        .start_game_session_placement()
        .placement_id(id)
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(4)
        .send()
        .await
        .expect("start placement");
    env.sim
        .advance(Duration::from_millis(1500))
        .await
        .expect("manual clock");
    let out = env
        .client
        .describe_game_session_placement()
        .placement_id(id)
        .send()
        .await
        .expect("describe");
    out.game_session_placement.expect("placement")
}

fn is_rfc3339_millis_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z'
}

#[tokio::test]
async fn full_flow_from_placement_to_fulfilled_event_to_player_reservations_timing_out() {
    let sim = Simulator::builder()
        .model(quiet_model())
        .clock(ManualClock::new())
        .build();
    let mut events = sim.events();
    let server = sim.serve("127.0.0.1:0").await.expect("serve");
    // Only this test reads the environment, so setting it here cannot race with the others.
    #[allow(
        unsafe_code,
        reason = "set_var is unsafe since edition 2024; see the comment above"
    )]
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL_GAMELIFT", server.endpoint());
    }
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .load()
        .await;
    let gl = Client::new(&conf);

    let started = gl
        .start_game_session_placement()
        .placement_id("flow-1")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(10)
        .game_session_name("flow")
        .game_properties(GameProperty::builder().key("mode").value("ctf").build())
        .desired_player_sessions(
            DesiredPlayerSession::builder()
                .player_id("alice")
                .player_data("a")
                .build(),
        )
        .send()
        .await
        .expect("start");
    let p = started.game_session_placement.expect("placement");
    assert_eq!(p.status, Some(GameSessionPlacementState::Pending));
    assert!(
        drain(&mut events).is_empty(),
        "nothing happens before the placement delay"
    );

    sim.advance(Duration::from_secs(1)).await.expect("advance");
    let got = drain(&mut events);
    assert_eq!(got.len(), 1);
    let ev = inner(&got[0]);
    assert_eq!(ev["detail"]["type"], "PlacementFulfilled");
    assert_eq!(ev["detail"]["placementId"], "flow-1");
    let arn = ev["detail"]["gameSessionArn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let alice_psess = ev["detail"]["placedPlayerSessions"][0]["playerSessionId"]
        .as_str()
        .expect("psess")
        .to_owned();

    let sessions = gl
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .expect("describe sessions");
    let gs = &sessions.game_sessions()[0];
    assert_eq!(gs.status, Some(GameSessionStatus::Active));
    assert_eq!(gs.current_player_session_count, Some(1));
    assert_eq!(
        gs.port.map(|p| p.to_string()),
        ev["detail"]["port"].as_str().map(str::to_owned)
    );
    assert!(gs.creation_time.is_some());

    let created = gl
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("bob")
        .player_ids("carol")
        .player_data_map("bob", "b")
        .send()
        .await
        .expect("create player sessions");
    let ids: Vec<String> = created
        .player_sessions()
        .iter()
        .filter_map(|p| p.player_session_id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| i.starts_with("psess-")));
    assert!(
        created
            .player_sessions()
            .iter()
            .all(|p| p.status == Some(PlayerSessionStatus::Reserved))
    );

    // Bob's game server accepts him; everyone else's reservation lapses after 60 s.
    sim.accept_player_session(&ids[0]).await.expect("accept");
    sim.advance(Duration::from_secs(61)).await.expect("advance");
    let status = |id: &str| {
        let gl = gl.clone();
        let id = id.to_owned();
        async move {
            let out = gl
                .describe_player_sessions()
                .player_session_id(id)
                .send()
                .await
                .expect("describe");
            out.player_sessions()[0].status.clone()
        }
    };
    assert_eq!(status(&ids[0]).await, Some(PlayerSessionStatus::Active));
    assert_eq!(status(&ids[1]).await, Some(PlayerSessionStatus::Timedout));
    assert_eq!(
        status(&alice_psess).await,
        Some(PlayerSessionStatus::Timedout)
    );
    let gs = gl
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .expect("describe");
    assert_eq!(gs.game_sessions()[0].current_player_session_count, Some(1));
    #[allow(
        unsafe_code,
        reason = "set_var is unsafe since edition 2024; see the comment above"
    )]
    unsafe {
        std::env::remove_var("AWS_ENDPOINT_URL_GAMELIFT");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn fulfilled_event_is_an_eventbridge_event_inside_an_sns_envelope() {
    let mut env = start(quiet_model()).await;
    env.sim
        .advance(Duration::from_millis(123))
        .await
        .expect("advance");
    env.client
        .start_game_session_placement()
        .placement_id("shape-1")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(2)
        .desired_player_sessions(DesiredPlayerSession::builder().player_id("p1").build())
        .send()
        .await
        .expect("start");
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let got = drain(&mut env.events);
    let env_ = &got[0];
    assert_eq!(env_["Type"], "Notification");
    assert_eq!(
        env_["TopicArn"],
        "arn:aws:sns:us-east-1:123456789012:gamelift-placements"
    );
    assert_eq!(env_["SignatureVersion"], "1");
    for k in ["MessageId", "Signature", "SigningCertURL", "UnsubscribeURL"] {
        assert!(env_[k].is_string(), "{k}");
    }
    assert!(is_rfc3339_millis_utc(
        env_["Timestamp"].as_str().expect("ts")
    ));
    let ev = inner(env_);
    assert_eq!(ev["version"], "0");
    assert_eq!(ev["detail-type"], "GameLift Queue Placement Event");
    assert_eq!(ev["source"], "aws.gamelift");
    assert_eq!(ev["account"], "123456789012");
    assert_eq!(ev["region"], "us-east-1");
    assert_eq!(
        ev["resources"][0],
        "arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/default-queue"
    );
    let d = &ev["detail"];
    assert!(d["port"].is_string(), "port is a string");
    assert!(d["port"].as_str().expect("port").parse::<u16>().is_ok());
    assert_eq!(
        d["gameSessionArn"],
        format!("arn:aws:gamelift:us-east-1::gamesession/{DEFAULT_FLEET_US}/shape-1")
    );
    assert_eq!(d["gameSessionRegion"], "us-east-1");
    assert!(d["ipAddress"].as_str().expect("ip").split('.').count() == 4);
    assert!(
        d["dnsName"]
            .as_str()
            .expect("dns")
            .ends_with(".amazonaws.com")
    );
    assert!(is_rfc3339_millis_utc(
        d["startTime"].as_str().expect("start")
    ));
    assert!(is_rfc3339_millis_utc(d["endTime"].as_str().expect("end")));
    assert_eq!(d["placedPlayerSessions"][0]["playerId"], "p1");
    assert!(
        d["placedPlayerSessions"][0]["playerSessionId"]
            .as_str()
            .expect("psess")
            .starts_with("psess-")
    );
    assert!(ev["time"].as_str().is_some_and(is_rfc3339_millis_utc));
    // The SDK reads the same millisecond from the CBOR timestamp as the event carries.
    let p = env
        .client
        .describe_game_session_placement()
        .placement_id("shape-1")
        .send()
        .await
        .expect("describe");
    let p = p.game_session_placement.expect("placement");
    let start = p
        .start_time
        .expect("start")
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .expect("fmt");
    assert_eq!(start, d["startTime"].as_str().expect("start"));
    assert!(start.ends_with(".123Z"), "{start}");
    let end = p
        .end_time
        .expect("end")
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .expect("fmt");
    assert_eq!(end, d["endTime"].as_str().expect("end"));
}

#[tokio::test]
async fn placement_id_cannot_be_reused_after_completion() {
    let env = start(quiet_model()).await;
    let p = place(&env, "reuse-me").await;
    assert_eq!(p.status, Some(GameSessionPlacementState::Fulfilled));
    let again = env
        .client
        .start_game_session_placement()
        .placement_id("reuse-me")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(4)
        .send()
        .await
        .expect_err("reuse is refused");
    assert_eq!(again.code(), Some("InvalidRequestException"));
    assert!(again.into_service_error().is_invalid_request_exception());
}

fn code<T, E: ProvideErrorMetadata, R>(
    r: Result<T, aws_sdk_gamelift::error::SdkError<E, R>>,
) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => ProvideErrorMetadata::code(&e).unwrap_or("?").to_owned(),
    }
}

#[tokio::test]
async fn invalid_requests_are_refused_with_gamelift_errors() {
    let env = start(quiet_model()).await;
    let start = |id: &str| {
        env.client
            .start_game_session_placement()
            .placement_id(id)
            .game_session_queue_name(DEFAULT_QUEUE)
            .maximum_player_session_count(4)
    };
    assert_eq!(
        code(start(&"a".repeat(49)).send().await),
        "InvalidRequestException"
    );
    assert_eq!(
        code(start("has space").send().await),
        "InvalidRequestException"
    );
    assert_eq!(
        code(start("under_score").send().await),
        "InvalidRequestException"
    );
    assert_eq!(code(start(&"a".repeat(48)).send().await), "ok");
    let prop = |k: &str, v: &str| GameProperty::builder().key(k).value(v).build();
    let mut b = start("props-17");
    for i in 0..17 {
        b = b.game_properties(prop(&format!("k{i}"), "v"));
    }
    assert_eq!(code(b.send().await), "InvalidRequestException");
    assert_eq!(
        code(
            start("key-33")
                .game_properties(prop(&"k".repeat(33), "v"))
                .send()
                .await
        ),
        "InvalidRequestException"
    );
    assert_eq!(
        code(
            start("val-97")
                .game_properties(prop("k", &"v".repeat(97)))
                .send()
                .await
        ),
        "InvalidRequestException"
    );
    assert_eq!(
        code(
            start("val-96")
                .game_properties(prop(&"k".repeat(32), &"v".repeat(96)))
                .send()
                .await
        ),
        "ok"
    );
    assert_eq!(
        code(
            start("max-201")
                .maximum_player_session_count(201)
                .send()
                .await
        ),
        "InvalidRequestException"
    );
    assert_eq!(
        code(
            env.client
                .start_game_session_placement()
                .placement_id("no-queue")
                .game_session_queue_name("nope")
                .maximum_player_session_count(1)
                .send()
                .await
        ),
        "NotFoundException"
    );
    assert_eq!(
        code(
            env.client
                .start_game_session_placement()
                .placement_id("no-max")
                .game_session_queue_name(DEFAULT_QUEUE)
                .send()
                .await
        ),
        "InvalidRequestException"
    );
    // 26 player ids in one CreatePlayerSessions call.
    let p = place(&env, "big").await;
    let arn = p.game_session_arn.expect("arn");
    env.client
        .update_game_session()
        .game_session_id(&arn)
        .maximum_player_session_count(200)
        .send()
        .await
        .expect("update");
    let mut b = env.client.create_player_sessions().game_session_id(&arn);
    for i in 0..26 {
        b = b.player_ids(format!("p{i}"));
    }
    assert_eq!(code(b.send().await), "InvalidRequestException");
}

#[tokio::test]
async fn placement_picks_the_lowest_average_latency_then_queue_order() {
    let env = start(quiet_model()).await;
    let lat = |p: &str, r: &str, ms: f32| {
        PlayerLatency::builder()
            .player_id(p)
            .region_identifier(r)
            .latency_in_milliseconds(ms)
            .build()
    };
    env.client
        .start_game_session_placement()
        .placement_id("lat-eu")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(4)
        .player_latencies(lat("a", "us-east-1", 120.0))
        .player_latencies(lat("b", "us-east-1", 100.0))
        .player_latencies(lat("a", "eu-west-1", 30.0))
        .player_latencies(lat("b", "eu-west-1", 150.0))
        .send()
        .await
        .expect("start");
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let p = env
        .client
        .describe_game_session_placement()
        .placement_id("lat-eu")
        .send()
        .await
        .expect("describe");
    let p = p.game_session_placement.expect("placement");
    assert_eq!(
        p.game_session_region.as_deref(),
        Some("eu-west-1"),
        "avg 90 ms beats avg 110 ms"
    );
    assert!(
        p.game_session_arn
            .as_deref()
            .is_some_and(|a| a.contains(DEFAULT_FLEET_EU))
    );
    assert_eq!(p.player_latencies().len(), 4);
    // No latencies: queue order (us-east-1 first).
    let p = place(&env, "no-lat").await;
    assert_eq!(p.game_session_region.as_deref(), Some("us-east-1"));
}

/// GameLift's two refusals of a location override (StartGameSessionPlacement's documented
/// InvalidRequestExceptions): with player latencies, and on a queue whose priority configuration does
/// not prioritise LOCATION.
#[tokio::test]
async fn a_location_override_needs_a_queue_that_prioritises_location_and_no_latencies() {
    let mut model = quiet_model();
    let mut plain = model.queues[0].clone();
    plain.name = "no-priority".into();
    plain.priority_configuration = None;
    let mut latency_only = model.queues[0].clone();
    latency_only.name = "latency-first".into();
    latency_only.priority_configuration = Some(PriorityConfiguration {
        priority_order: vec!["LATENCY".into(), "COST".into(), "DESTINATION".into()],
        location_order: None,
    });
    model.queues.extend([plain, latency_only]);
    let env = start(model).await;
    let eu_only = || {
        PriorityConfigurationOverride::builder()
            .location_order("eu-west-1")
            .placement_fallback_strategy(PlacementFallbackStrategy::None)
            .build()
    };
    let start = |id: &str, queue: &str| {
        env.client
            .start_game_session_placement()
            .placement_id(id)
            .game_session_queue_name(queue)
            .maximum_player_session_count(4)
            .priority_configuration_override(eu_only())
    };
    for queue in ["no-priority", "latency-first"] {
        let refused = start(&format!("override-{queue}"), queue).send().await;
        assert_eq!(code(refused), "InvalidRequestException", "queue {queue}");
    }
    let with_latency = start("override-with-latency", DEFAULT_QUEUE)
        .player_latencies(
            PlayerLatency::builder()
                .player_id("a")
                .region_identifier("us-east-1")
                .latency_in_milliseconds(20.0)
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(with_latency), "InvalidRequestException");

    // The default queue ranks LOCATION first: the override is accepted and places in eu-west-1
    // although us-east-1 comes first in the queue's destinations.
    start("override-ok", DEFAULT_QUEUE)
        .send()
        .await
        .expect("accepted");
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let p = env
        .client
        .describe_game_session_placement()
        .placement_id("override-ok")
        .send()
        .await
        .expect("describe")
        .game_session_placement
        .expect("placement");
    assert_eq!(p.game_session_region.as_deref(), Some("eu-west-1"));
}

fn tiny_model(slots: u32) -> Model {
    Model {
        throttling: false,
        fleets: vec![FleetSpec {
            id: "fleet-00000000-0000-4000-8000-0000000000aa".into(),
            region: "us-west-2".into(),
            locations: vec![
                LocationSpec {
                    location: "us-west-2".into(),
                    slots,
                },
                LocationSpec {
                    location: "sa-east-1".into(),
                    slots: 0,
                },
            ],
            player_gateway_mode: PlayerGatewayMode::Disabled,
        }],
        queues: vec![QueueSpec {
            name: "tiny".into(),
            region: "us-west-2".into(),
            timeout_seconds: 10,
            destinations: vec!["fleet-00000000-0000-4000-8000-0000000000aa".into()],
            allowed_locations: None,
            priority_configuration: None,
        }],
        ..Model::default()
    }
}

#[tokio::test]
async fn without_capacity_a_placement_stays_pending_until_the_queue_timeout() {
    let mut env = start(tiny_model(1)).await;
    let startp = |id: &'static str| {
        env.client
            .start_game_session_placement()
            .placement_id(id)
            .game_session_queue_name("tiny")
            .maximum_player_session_count(2)
            .send()
    };
    startp("first").await.expect("start");
    env.sim
        .advance(Duration::from_secs(1))
        .await
        .expect("advance");
    startp("second").await.expect("start");
    env.sim
        .advance(Duration::from_secs(9))
        .await
        .expect("advance");
    let status = |id: &'static str| {
        let c = env.client.clone();
        async move {
            c.describe_game_session_placement()
                .placement_id(id)
                .send()
                .await
                .expect("d")
                .game_session_placement
                .and_then(|p| p.status)
        }
    };
    assert_eq!(
        status("first").await,
        Some(GameSessionPlacementState::Fulfilled)
    );
    assert_eq!(
        status("second").await,
        Some(GameSessionPlacementState::Pending)
    );
    env.sim
        .advance(Duration::from_secs(1))
        .await
        .expect("advance");
    assert_eq!(
        status("second").await,
        Some(GameSessionPlacementState::TimedOut)
    );
    let got = drain(&mut env.events);
    let kinds: Vec<String> = got
        .iter()
        .map(|e| inner(e)["detail"]["type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kinds, ["PlacementFulfilled", "PlacementTimedOut"]);
    let timed_out = inner(&got[1]);
    assert_eq!(timed_out["region"], "us-west-2");
    let d = timed_out["detail"].as_object().expect("detail");
    let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["endTime", "placementId", "startTime", "type"]);
    // Ending the first session frees the slot: a new placement goes through.
    let arn = inner(&got[0])["detail"]["gameSessionArn"]
        .as_str()
        .expect("arn")
        .to_owned();
    assert!(arn.starts_with(
        "arn:aws:gamelift:us-west-2::gamesession/fleet-00000000-0000-4000-8000-0000000000aa/"
    ));
    env.client
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate");
    startp("third").await.expect("start");
    env.sim
        .advance(Duration::from_secs(1))
        .await
        .expect("advance");
    assert_eq!(
        status("third").await,
        Some(GameSessionPlacementState::Fulfilled)
    );
}

#[tokio::test]
async fn a_session_in_a_remote_location_has_the_location_in_its_arn() {
    let mut model = tiny_model(0);
    model.fleets[0].locations[1].slots = 1;
    let mut env = start(model).await;
    env.client
        .start_game_session_placement()
        .placement_id("remote")
        .game_session_queue_name("tiny")
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("start");
    env.sim
        .advance(Duration::from_secs(1))
        .await
        .expect("advance");
    let ev = inner(&drain(&mut env.events)[0]);
    assert_eq!(
        ev["detail"]["gameSessionArn"],
        "arn:aws:gamelift:us-west-2::gamesession/fleet-00000000-0000-4000-8000-0000000000aa/sa-east-1/remote"
    );
    assert_eq!(ev["detail"]["gameSessionRegion"], "sa-east-1");
    assert!(
        ev["detail"]["dnsName"]
            .as_str()
            .expect("dns")
            .ends_with(".sa-east-1.compute.amazonaws.com")
    );
}

#[tokio::test]
async fn stopping_a_pending_placement_cancels_it_and_publishes_the_cancellation() {
    let mut env = start(quiet_model()).await;
    env.client
        .start_game_session_placement()
        .placement_id("stop-me")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("start");
    let out = env
        .client
        .stop_game_session_placement()
        .placement_id("stop-me")
        .send()
        .await
        .expect("stop");
    assert_eq!(
        out.game_session_placement.and_then(|p| p.status),
        Some(GameSessionPlacementState::Cancelled)
    );
    env.sim
        .advance(Duration::from_secs(5))
        .await
        .expect("advance");
    let got = drain(&mut env.events);
    assert_eq!(got.len(), 1, "no fulfilment after a cancel");
    assert_eq!(inner(&got[0])["detail"]["type"], "PlacementCancelled");
    let again = env
        .client
        .stop_game_session_placement()
        .placement_id("stop-me")
        .send()
        .await
        .expect_err("not pending");
    assert_eq!(again.code(), Some("InvalidRequestException"));
    let missing = env
        .client
        .stop_game_session_placement()
        .placement_id("never")
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Some("NotFoundException"));
    let missing = env
        .client
        .describe_game_session_placement()
        .placement_id("never")
        .send()
        .await
        .expect_err("unknown");
    assert!(missing.into_service_error().is_not_found_exception());
}

#[tokio::test]
async fn describe_game_sessions_lists_a_fleet_with_paging_and_status_filter() {
    let env = start(quiet_model()).await;
    for i in 0..5 {
        env.client
            .start_game_session_placement()
            .placement_id(format!("d-{i}"))
            .game_session_queue_name(DEFAULT_QUEUE)
            .maximum_player_session_count(2)
            .send()
            .await
            .expect("start");
    }
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let page1 = env
        .client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .limit(3)
        .send()
        .await
        .expect("page 1");
    assert_eq!(page1.game_sessions().len(), 3);
    let token = page1.next_token.clone().expect("more");
    let page2 = env
        .client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .limit(3)
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(page2.game_sessions().len(), 2);
    assert!(page2.next_token.is_none());
    let arn = page1.game_sessions()[0]
        .game_session_id
        .clone()
        .expect("arn");
    env.client
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate");
    let active = env
        .client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .status_filter("ACTIVE")
        .send()
        .await
        .expect("active");
    assert_eq!(active.game_sessions().len(), 4);
    let e = env
        .client
        .describe_game_sessions()
        .fleet_id("fleet-nope")
        .send()
        .await
        .expect_err("unknown fleet");
    assert_eq!(e.code(), Some("NotFoundException"));
    let e = env
        .client
        .describe_game_sessions()
        .game_session_id("arn:aws:gamelift:us-east-1::gamesession/fleet-x/nope")
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(e.code(), Some("NotFoundException"));
    let e = env
        .client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .next_token("garbage")
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(e.code(), Some("InvalidRequestException"));
}

#[tokio::test]
async fn search_game_sessions_filters_sorts_and_pages_twenty_active_sessions_at_a_time() {
    let env = start(quiet_model()).await;
    for i in 0..25 {
        env.client
            .start_game_session_placement()
            .placement_id(format!("s-{i:02}"))
            .game_session_queue_name(DEFAULT_QUEUE)
            .maximum_player_session_count(4)
            .game_session_name(format!("room-{i:02}"))
            .game_properties(
                GameProperty::builder()
                    .key("mode")
                    .value(if i % 2 == 0 { "ctf" } else { "dm" })
                    .build(),
            )
            .send()
            .await
            .expect("start");
        env.sim
            .advance(Duration::from_millis(10))
            .await
            .expect("advance");
    }
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let all = env
        .client
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .send()
        .await
        .expect("search");
    assert_eq!(all.game_sessions().len(), 20);
    let rest = env
        .client
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .next_token(all.next_token.clone().expect("token"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(rest.game_sessions().len(), 5);
    let ctf = env
        .client
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .filter_expression("gameSessionProperties.mode = 'ctf' AND hasAvailablePlayerSessions=true")
        .sort_expression("creationTimeMillis DESC")
        .send()
        .await
        .expect("filtered");
    assert_eq!(ctf.game_sessions().len(), 13);
    assert_eq!(ctf.game_sessions()[0].name.as_deref(), Some("room-24"));
    // TERMINATED sessions are never returned.
    let arn = ctf.game_sessions()[0].game_session_id.clone().expect("arn");
    env.client
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate");
    let named = env
        .client
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .filter_expression("gameSessionName = 'room-24'")
        .send()
        .await
        .expect("by name");
    assert!(named.game_sessions().is_empty());
    let e = env
        .client
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .filter_expression("nonsense ==")
        .send()
        .await
        .expect_err("bad filter");
    assert_eq!(e.code(), Some("InvalidRequestException"));
    let e = env
        .client
        .search_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .limit(21)
        .send()
        .await
        .expect_err("limit");
    assert_eq!(e.code(), Some("InvalidRequestException"));
}

#[tokio::test]
async fn player_sessions_respect_capacity_status_and_uniqueness() {
    let env = start(quiet_model()).await;
    let p = place(&env, "cap").await; // maximum 4 players
    let arn = p.game_session_arn.expect("arn");
    let one = env
        .client
        .create_player_session()
        .game_session_id(&arn)
        .player_id("p0")
        .player_data("hello")
        .send()
        .await
        .expect("one");
    let ps = one.player_session.expect("ps");
    assert_eq!(ps.player_data.as_deref(), Some("hello"));
    assert_eq!(ps.ip_address, p.ip_address);
    assert_eq!(ps.port, p.port);
    let dup = env
        .client
        .create_player_session()
        .game_session_id(&arn)
        .player_id("p0")
        .send()
        .await
        .expect_err("dup");
    assert_eq!(dup.code(), Some("InvalidRequestException"));
    let full = env
        .client
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("a")
        .player_ids("b")
        .player_ids("c")
        .player_ids("d")
        .send()
        .await
        .expect_err("full");
    assert_eq!(full.code(), Some("GameSessionFullException"));
    assert!(full.into_service_error().is_game_session_full_exception());
    env.client
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("a")
        .player_ids("b")
        .player_ids("c")
        .send()
        .await
        .expect("fits");
    let full = env
        .client
        .create_player_session()
        .game_session_id(&arn)
        .player_id("e")
        .send()
        .await
        .expect_err("full");
    assert!(full.into_service_error().is_game_session_full_exception());
    // DENY_ALL closes the session to new players.
    let p2 = place(&env, "deny").await;
    let arn2 = p2.game_session_arn.expect("arn");
    env.client
        .update_game_session()
        .game_session_id(&arn2)
        .player_session_creation_policy("DENY_ALL".into())
        .send()
        .await
        .expect("deny");
    let e = env
        .client
        .create_player_session()
        .game_session_id(&arn2)
        .player_id("x")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(e.code(), Some("GameSessionFullException"));
    // A terminated session refuses players with InvalidGameSessionStatusException.
    env.client
        .terminate_game_session()
        .game_session_id(&arn2)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate");
    let e = env
        .client
        .create_player_session()
        .game_session_id(&arn2)
        .player_id("x")
        .send()
        .await
        .expect_err("terminated");
    assert!(
        e.into_service_error()
            .is_invalid_game_session_status_exception()
    );
    let e = env
        .client
        .create_player_session()
        .game_session_id("arn:aws:gamelift:us-east-1::gamesession/fleet-x/none")
        .player_id("x")
        .send()
        .await
        .expect_err("missing");
    assert!(e.into_service_error().is_not_found_exception());
}

#[tokio::test]
async fn an_accepted_player_session_never_times_out_and_a_removed_one_completes() {
    let env = start(quiet_model()).await;
    let p = place(&env, "acc").await;
    let arn = p.game_session_arn.expect("arn");
    let out = env
        .client
        .create_player_sessions()
        .game_session_id(&arn)
        .player_ids("a")
        .player_ids("b")
        .player_ids("c")
        .send()
        .await
        .expect("create");
    let ids: Vec<String> = out
        .player_sessions()
        .iter()
        .filter_map(|p| p.player_session_id.clone())
        .collect();
    env.sim
        .accept_player_session(&ids[0])
        .await
        .expect("accept");
    env.sim
        .advance(Duration::from_secs(59))
        .await
        .expect("advance");
    assert_eq!(env.sim.player_session_status(&ids[1]), Some("RESERVED"));
    env.sim
        .remove_player_session(&ids[2])
        .await
        .expect("remove");
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    assert_eq!(env.sim.player_session_status(&ids[0]), Some("ACTIVE"));
    assert_eq!(env.sim.player_session_status(&ids[1]), Some("TIMEDOUT"));
    assert_eq!(env.sim.player_session_status(&ids[2]), Some("COMPLETED"));
    assert!(
        env.sim.accept_player_session(&ids[1]).await.is_err(),
        "a timed-out reservation cannot be accepted"
    );
    let by_game = env
        .client
        .describe_player_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .expect("by game");
    assert_eq!(by_game.player_sessions().len(), 3);
    let by_player = env
        .client
        .describe_player_sessions()
        .player_id("b")
        .send()
        .await
        .expect("by player");
    assert_eq!(by_player.player_sessions().len(), 1);
    assert!(by_player.player_sessions()[0].termination_time.is_some());
    let active = env
        .client
        .describe_player_sessions()
        .game_session_id(&arn)
        .player_session_status_filter("ACTIVE")
        .send()
        .await
        .expect("filter");
    assert_eq!(active.player_sessions().len(), 1);
    let e = env
        .client
        .describe_player_sessions()
        .player_session_id("psess-none")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(e.code(), Some("NotFoundException"));
    let e = env
        .client
        .describe_player_sessions()
        .send()
        .await
        .expect_err("no key");
    assert_eq!(e.code(), Some("InvalidRequestException"));
}

#[tokio::test]
async fn update_game_session_merges_properties_and_never_deletes_them() {
    let env = start(quiet_model()).await;
    env.client
        .start_game_session_placement()
        .placement_id("upd")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(4)
        .game_properties(GameProperty::builder().key("a").value("1").build())
        .game_properties(GameProperty::builder().key("b").value("2").build())
        .send()
        .await
        .expect("start");
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let arn = env
        .client
        .describe_game_session_placement()
        .placement_id("upd")
        .send()
        .await
        .expect("d")
        .game_session_placement
        .and_then(|p| p.game_session_arn)
        .expect("arn");
    let out = env
        .client
        .update_game_session()
        .game_session_id(&arn)
        .name("renamed")
        .maximum_player_session_count(8)
        .game_properties(GameProperty::builder().key("b").value("20").build())
        .game_properties(GameProperty::builder().key("c").value("3").build())
        .send()
        .await
        .expect("update");
    let gs = out.game_session.expect("gs");
    let mut props: Vec<(String, String)> = gs
        .game_properties()
        .iter()
        .map(|p| {
            (
                p.key.clone().unwrap_or_default(),
                p.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    props.sort();
    assert_eq!(
        props,
        [
            ("a".into(), "1".into()),
            ("b".into(), "20".into()),
            ("c".into(), "3".into())
        ]
    );
    assert_eq!(gs.name.as_deref(), Some("renamed"));
    assert_eq!(gs.maximum_player_session_count, Some(8));
    let mut b = env.client.update_game_session().game_session_id(&arn);
    for i in 0..14 {
        b = b.game_properties(
            GameProperty::builder()
                .key(format!("n{i}"))
                .value("x")
                .build(),
        );
    }
    let e = b.send().await.expect_err("3 + 14 > 16");
    assert_eq!(e.code(), Some("InvalidRequestException"));
    env.client
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate");
    let e = env
        .client
        .update_game_session()
        .game_session_id(&arn)
        .name("late")
        .send()
        .await
        .expect_err("terminated");
    assert_eq!(e.code(), Some("InvalidGameSessionStatusException"));
}

#[tokio::test]
async fn terminate_game_session_completes_its_players_and_cannot_be_repeated() {
    let env = start(quiet_model()).await;
    let p = place(&env, "term").await;
    let arn = p.game_session_arn.expect("arn");
    let ps = env
        .client
        .create_player_session()
        .game_session_id(&arn)
        .player_id("a")
        .send()
        .await
        .expect("ps")
        .player_session
        .and_then(|p| p.player_session_id)
        .expect("id");
    let out = env
        .client
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::TriggerOnProcessTerminate)
        .send()
        .await
        .expect("terminate");
    assert_eq!(
        out.game_session.and_then(|g| g.status),
        Some(GameSessionStatus::Terminating)
    );
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let gs = env
        .client
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .expect("d");
    assert_eq!(
        gs.game_sessions()[0].status,
        Some(GameSessionStatus::Terminated)
    );
    assert!(gs.game_sessions()[0].termination_time.is_some());
    assert_eq!(env.sim.player_session_status(&ps), Some("COMPLETED"));
    let e = env
        .client
        .terminate_game_session()
        .game_session_id(&arn)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect_err("again");
    assert!(
        e.into_service_error()
            .is_invalid_game_session_status_exception()
    );
    let e = env
        .client
        .terminate_game_session()
        .game_session_id("arn:aws:gamelift:us-east-1::gamesession/fleet-x/zz")
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(e.code(), Some("NotFoundException"));
}

#[tokio::test]
async fn throttling_refuses_a_burst_above_the_api_rate_and_recovers_with_time() {
    let env = start(Model::default()).await; // throttling on by default
    let mut codes = Vec::new();
    for _ in 0..21 {
        let r = env
            .client
            .describe_game_sessions()
            .fleet_id(DEFAULT_FLEET_US)
            .send()
            .await;
        codes.push(r.err().and_then(|e| e.code().map(str::to_owned)));
    }
    assert!(
        codes[..20].iter().all(Option::is_none),
        "the first 20 pass: {codes:?}"
    );
    assert_eq!(codes[20].as_deref(), Some("ThrottlingException"));
    // Other operations have their own buckets.
    env.client
        .describe_player_sessions()
        .player_id("x")
        .send()
        .await
        .expect("own bucket");
    env.sim
        .advance(Duration::from_millis(100))
        .await
        .expect("advance");
    env.client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .send()
        .await
        .expect("refilled");
    env.sim.set_throttling(false);
    for _ in 0..50 {
        env.client
            .describe_game_sessions()
            .fleet_id(DEFAULT_FLEET_US)
            .send()
            .await
            .expect("unthrottled");
    }
    assert_eq!(env.sim.stats().throttled, 1);
}

#[tokio::test]
async fn injected_faults_fail_calls_add_latency_and_can_be_cleared() {
    let env = start(quiet_model()).await;
    env.sim.set_fault(
        "DescribeGameSessions",
        FaultSpec {
            error_rate: 1.0,
            error_code: None,
            latency_ms: 0,
        },
    );
    let e = env
        .client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .send()
        .await
        .expect_err("fault");
    assert_eq!(e.code(), Some("InternalServiceException"));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
    env.sim.set_fault(
        "*",
        FaultSpec {
            error_rate: 1.0,
            error_code: Some("UnauthorizedException".into()),
            latency_ms: 0,
        },
    );
    let e = env
        .client
        .describe_player_sessions()
        .player_id("x")
        .send()
        .await
        .expect_err("fault");
    assert_eq!(e.code(), Some("UnauthorizedException"));
    env.sim.clear_faults();
    env.sim.set_fault(
        "DescribePlayerSessions",
        FaultSpec {
            error_rate: 0.0,
            error_code: None,
            latency_ms: 120,
        },
    );
    let t = Instant::now();
    env.client
        .describe_player_sessions()
        .player_id("x")
        .send()
        .await
        .expect("slow but fine");
    assert!(t.elapsed() >= Duration::from_millis(120));
    env.sim.clear_faults();
    env.client
        .describe_game_sessions()
        .fleet_id(DEFAULT_FLEET_US)
        .send()
        .await
        .expect("cleared");
    assert_eq!(env.sim.stats().faults_injected, 2);
}

#[tokio::test]
async fn event_faults_drop_duplicate_and_delay_placement_events() {
    let mut env = start(quiet_model()).await;
    env.sim.set_event_faults(EventFaults {
        drop_rate: 1.0,
        ..EventFaults::default()
    });
    place(&env, "dropped").await;
    assert!(drain(&mut env.events).is_empty());
    env.sim.set_event_faults(EventFaults {
        duplicate_rate: 1.0,
        ..EventFaults::default()
    });
    place(&env, "doubled").await;
    let got = drain(&mut env.events);
    assert_eq!(got.len(), 2);
    assert_eq!(inner(&got[0]), inner(&got[1]), "same event twice");
    assert_ne!(got[0]["MessageId"], got[1]["MessageId"]);
    env.sim.set_event_faults(EventFaults {
        delay_rate: 1.0,
        delay_ms: 30_000,
        ..EventFaults::default()
    });
    place(&env, "late").await;
    assert!(drain(&mut env.events).is_empty());
    env.sim
        .advance(Duration::from_secs(30))
        .await
        .expect("advance");
    let got = drain(&mut env.events);
    assert_eq!(got.len(), 1);
    assert_eq!(inner(&got[0])["detail"]["placementId"], "late");
    env.sim.set_event_faults(EventFaults {
        placement_failure_rate: 1.0,
        ..EventFaults::default()
    });
    let p = place(&env, "failed").await;
    assert_eq!(p.status, Some(GameSessionPlacementState::Failed));
    let ev = inner(&drain(&mut env.events)[0]);
    assert_eq!(ev["detail"]["type"], "PlacementFailed");
    assert!(ev["detail"]["errorCode"].is_string());
    let s = env.sim.stats();
    assert_eq!(
        (
            s.events_dropped,
            s.events_duplicated,
            s.events_delayed,
            s.placements_failed
        ),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn the_start_ends_as_fault_answers_the_start_with_a_terminal_status_and_publishes_its_event()
{
    let mut env = start(quiet_model()).await;
    for (status, state, kind) in [
        (
            "FAILED",
            GameSessionPlacementState::Failed,
            "PlacementFailed",
        ),
        (
            "CANCELLED",
            GameSessionPlacementState::Cancelled,
            "PlacementCancelled",
        ),
        (
            "TIMED_OUT",
            GameSessionPlacementState::TimedOut,
            "PlacementTimedOut",
        ),
    ] {
        env.sim.set_event_faults(EventFaults {
            start_ends_as: Some(status.into()),
            ..EventFaults::default()
        });
        let id = format!("ends-{}", status.to_lowercase().replace('_', "-"));
        let answer = env
            .client
            .start_game_session_placement()
            .placement_id(&id)
            .game_session_queue_name(DEFAULT_QUEUE)
            .maximum_player_session_count(4)
            .send()
            .await
            .expect("start placement");
        assert_eq!(
            answer.game_session_placement().and_then(|p| p.status()),
            Some(&state),
            "{status}"
        );
        assert_eq!(env.sim.placement_status(&id), Some(status));
        let events = drain(&mut env.events);
        assert_eq!(events.len(), 1, "{status}");
        assert_eq!(inner(&events[0])["detail"]["type"], kind);
    }
    // Nothing is left scheduled: time passing publishes nothing more.
    env.sim.clear_faults();
    env.sim
        .advance(Duration::from_secs(3600))
        .await
        .expect("advance");
    assert!(drain(&mut env.events).is_empty());
    let bad = Model {
        faults: gamelift_sim::Faults {
            events: EventFaults {
                start_ends_as: Some("FULFILLED".into()),
                ..EventFaults::default()
            },
            ..gamelift_sim::Faults::default()
        },
        ..quiet_model()
    };
    assert!(
        bad.validate().is_err(),
        "only terminal statuses other than FULFILLED"
    );
}

async fn raw(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, http::HeaderMap, bytes::Bytes) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut req = http::Request::post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(5), client.request(req))
        .await
        .expect("no hang")
        .expect("response");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, body)
}

async fn json11(endpoint: &str, op: &str, body: Value) -> (u16, Value) {
    json11_in(endpoint, "us-east-1", op, body).await
}

/// A raw AWS JSON 1.1 call signed for `region`.
async fn json11_in(endpoint: &str, region: &str, op: &str, body: Value) -> (u16, Value) {
    let [auth, date] = signed(region);
    let (status, headers, bytes) = raw(
        &format!("{endpoint}/"),
        &[
            ("x-amz-target", &format!("GameLift.{op}")),
            ("content-type", "application/x-amz-json-1.1"),
            (auth.0, &auth.1),
            (date.0, &date.1),
        ],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/x-amz-json-1.1")
    );
    (
        status,
        serde_json::from_slice(&bytes).expect("JSON response"),
    )
}

#[tokio::test]
async fn the_json_1_1_protocol_works_with_raw_http_requests() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let (s, v) = json11(
        &ep,
        "StartGameSessionPlacement",
        json!({"PlacementId": "json-1", "GameSessionQueueName": DEFAULT_QUEUE, "MaximumPlayerSessionCount": 3,
               "DesiredPlayerSessions": [{"PlayerId": "p1"}]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["GameSessionPlacement"]["Status"], "PENDING");
    assert!(
        v["GameSessionPlacement"]["StartTime"].is_number(),
        "timestamps are epoch seconds"
    );
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    let (_, v) = json11(
        &ep,
        "DescribeGameSessionPlacement",
        json!({"PlacementId": "json-1"}),
    )
    .await;
    assert_eq!(v["GameSessionPlacement"]["Status"], "FULFILLED");
    let arn = v["GameSessionPlacement"]["GameSessionArn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let (s, v) = json11(
        &ep,
        "CreatePlayerSession",
        json!({"GameSessionId": arn, "PlayerId": "p2"}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        v["PlayerSession"]["PlayerSessionId"]
            .as_str()
            .expect("id")
            .starts_with("psess-")
    );
    let (s, v) = json11(&ep, "DescribeGameSessions", json!({"GameSessionId": arn})).await;
    assert_eq!(s, 200);
    assert_eq!(v["GameSessions"][0]["CurrentPlayerSessionCount"], 2);
    let (s, v) = json11(&ep, "StartGameSessionPlacement", json!({"PlacementId": "json-1", "GameSessionQueueName": DEFAULT_QUEUE, "MaximumPlayerSessionCount": 3})).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );
    assert!(v["message"].is_string());
    let (s, v) = json11(
        &ep,
        "DescribeGameSessionPlacement",
        json!({"PlacementId": "missing"}),
    )
    .await;
    assert_eq!((s, v["__type"].as_str()), (400, Some("NotFoundException")));
    let (s, v) = json11(&ep, "CreateFleet", json!({})).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (s, v) = json11(&ep, "DescribeGameSessions", json!({"FleetId": 42})).await;
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    // A body that is not JSON at all, and a target that is not GameLift's.
    let (s, _, b) = raw(
        &format!("{ep}/"),
        &[("x-amz-target", "GameLift.DescribeGameSessions")],
        b"{not json".to_vec(),
    )
    .await;
    let v: Value = serde_json::from_slice(&b).expect("json error");
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let (s, _, b) = raw(
        &format!("{ep}/"),
        &[("x-amz-target", "DynamoDB_20120810.GetItem")],
        b"{}".to_vec(),
    )
    .await;
    let v: Value = serde_json::from_slice(&b).expect("json error");
    assert_eq!(
        (s, v["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
}

#[tokio::test]
async fn rpc_v2_cbor_answers_unknown_operations_and_malformed_bodies_with_cbor_errors() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let cbor_err = |b: &bytes::Bytes| -> (String, String) {
        let v: ciborium::Value = ciborium::de::from_reader(b.as_ref()).expect("CBOR error body");
        let map = v.as_map().cloned().unwrap_or_default();
        let get = |k: &str| {
            map.iter()
                .find(|(kk, _)| kk.as_text() == Some(k))
                .and_then(|(_, v)| v.as_text().map(str::to_owned))
                .unwrap_or_default()
        };
        (get("__type"), get("message"))
    };
    let headers = [
        ("smithy-protocol", "rpc-v2-cbor"),
        ("content-type", "application/cbor"),
        ("accept", "application/cbor"),
    ];
    let (s, h, b) = raw(
        &format!("{ep}/service/GameLift/operation/DescribeGameSessions"),
        &headers,
        vec![0xff, 0x13, 0x00],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        h.get("smithy-protocol").and_then(|v| v.to_str().ok()),
        Some("rpc-v2-cbor")
    );
    assert_eq!(cbor_err(&b).0, "SerializationException");
    let (s, _, b) = raw(
        &format!("{ep}/service/GameLift/operation/CreateFleet"),
        &headers,
        vec![0xa0],
    )
    .await;
    assert_eq!(
        (s, cbor_err(&b).0.as_str()),
        (404, "UnknownOperationException")
    );
    // A CBOR array where a map is expected.
    let (s, _, b) = raw(
        &format!("{ep}/service/GameLift/operation/DescribeGameSessions"),
        &headers,
        vec![0x80],
    )
    .await;
    assert_eq!(
        (s, cbor_err(&b).0.as_str()),
        (400, "SerializationException")
    );
    // A hand-made CBOR request: refused unsigned, as AWS refuses it; served with a credential scope.
    let mut body = Vec::new();
    let req = ciborium::Value::Map(vec![(
        ciborium::Value::Text("FleetId".into()),
        ciborium::Value::Text(DEFAULT_FLEET_US.into()),
    )]);
    ciborium::ser::into_writer(&req, &mut body).expect("encode");
    let url = format!("{ep}/service/GameLift/operation/DescribeGameSessions");
    let (s, _, b) = raw(&url, &headers, body.clone()).await;
    assert_eq!(
        (s, cbor_err(&b).0.as_str()),
        (400, "MissingAuthenticationTokenException")
    );
    let [auth, date] = signed("us-east-1");
    let mut with_scope: Vec<(&str, &str)> = headers.to_vec();
    with_scope.extend([(auth.0, auth.1.as_str()), (date.0, date.1.as_str())]);
    let (s, _, b) = raw(&url, &with_scope, body).await;
    assert_eq!(s, 200);
    let v: ciborium::Value = ciborium::de::from_reader(b.as_ref()).expect("CBOR");
    assert!(
        v.as_map()
            .is_some_and(|m| m.iter().any(|(k, _)| k.as_text() == Some("GameSessions")))
    );
}

#[tokio::test]
async fn the_http_sink_posts_sns_notifications_to_a_url() {
    // A one-route receiver standing in for an SNS HTTP subscriber.
    let (tx, mut rx) = mpsc::channel::<(Option<String>, String)>(8);
    let app = axum::Router::new().route(
        "/sns",
        axum::routing::post(move |headers: http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let kind = headers
                    .get("x-amz-sns-message-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let _ = tx.send((kind, body)).await;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sim = Simulator::builder()
        .model(quiet_model())
        .clock(ManualClock::new())
        .sink(gamelift_sim::HttpSink::new(format!("http://{addr}/sns")))
        .build();
    let server = sim.serve("127.0.0.1:0").await.expect("serve");
    let gl = client(&server.endpoint());
    gl.start_game_session_placement()
        .placement_id("http-1")
        .game_session_queue_name(DEFAULT_QUEUE)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("start");
    sim.advance(Duration::from_secs(2)).await.expect("advance");
    let (kind, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("delivered")
        .expect("message");
    assert_eq!(kind.as_deref(), Some("Notification"));
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(inner(&v)["detail"]["placementId"], "http-1");
}

/// One simulated hour: a placement every second from a seeded random mix of players, sessions that
/// last five minutes, capacity that sometimes runs out, and a few dropped, duplicated and late
/// events. Runs in-process through `Simulator::call` (the same path the wire protocols take, with
/// throttling and faults) so it is not bound by HTTP. Returns every envelope in order.
async fn simulated_hour(seed: u64) -> (Vec<Value>, gamelift_sim::Stats) {
    use rand::{Rng, SeedableRng};
    let mut model = Model {
        seed,
        throttling: true,
        game_session_lifetime_seconds: Some(300),
        fleets: vec![
            FleetSpec {
                id: DEFAULT_FLEET_US.into(),
                region: "us-east-1".into(),
                locations: vec![LocationSpec {
                    location: "us-east-1".into(),
                    slots: 150,
                }],
                player_gateway_mode: PlayerGatewayMode::Disabled,
            },
            FleetSpec {
                id: DEFAULT_FLEET_EU.into(),
                region: "eu-west-1".into(),
                locations: vec![LocationSpec {
                    location: "eu-west-1".into(),
                    slots: 100,
                }],
                player_gateway_mode: PlayerGatewayMode::Disabled,
            },
        ],
        queues: vec![QueueSpec {
            name: DEFAULT_QUEUE.into(),
            region: "us-east-1".into(),
            timeout_seconds: 60,
            destinations: vec![DEFAULT_FLEET_US.into(), DEFAULT_FLEET_EU.into()],
            allowed_locations: None,
            priority_configuration: None,
        }],
        ..Model::default()
    };
    model.faults.events = EventFaults {
        drop_rate: 0.01,
        duplicate_rate: 0.01,
        delay_rate: 0.01,
        delay_ms: 20_000,
        placement_failure_rate: 0.0,
        start_ends_as: None,
    };
    let recorder = RecordingSink::new();
    let sim = Simulator::builder()
        .model(model)
        .clock(ManualClock::new())
        .sink(recorder.clone())
        .build();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for i in 0..3600 {
        let players: Vec<String> = (0..rng.random_range(1..=3))
            .map(|p| format!("player-{i}-{p}"))
            .collect();
        let latencies: Vec<Value> = players
            .iter()
            .flat_map(|p| {
                ["us-east-1", "eu-west-1"].map(|r| json!({"PlayerId": p, "RegionIdentifier": r, "LatencyInMilliseconds": rng.random_range(20.0..200.0)}))
            })
            .collect();
        let input = json!({
            "PlacementId": format!("hour-{i}"),
            "GameSessionQueueName": DEFAULT_QUEUE,
            "MaximumPlayerSessionCount": 8,
            "DesiredPlayerSessions": players.iter().map(|p| json!({"PlayerId": p})).collect::<Vec<_>>(),
            "PlayerLatencies": latencies,
        });
        sim.call("StartGameSessionPlacement", input)
            .await
            .expect("start placement");
        sim.advance(Duration::from_secs(1)).await.expect("advance");
    }
    sim.advance(Duration::from_secs(120)).await.expect("drain");
    (recorder.events(), sim.stats())
}

#[tokio::test]
async fn a_simulated_hour_of_placements_is_deterministic_and_runs_in_seconds() {
    let t = Instant::now();
    let (a, stats) = simulated_hour(7).await;
    let (b, _) = simulated_hour(7).await;
    let elapsed = t.elapsed();
    assert_eq!(stats.placements_started, 3600);
    assert_eq!(
        stats.placements_fulfilled + stats.placements_timed_out,
        3600
    );
    assert!(stats.placements_fulfilled > 3000, "{stats:?}");
    assert!(
        stats.placements_timed_out > 0,
        "capacity ran out at times: {stats:?}"
    );
    assert!(
        stats.events_dropped > 0 && stats.events_duplicated > 0 && stats.events_delayed > 0,
        "{stats:?}"
    );
    assert_eq!(
        a.len() as u64,
        3600 - stats.events_dropped + stats.events_duplicated
    );
    assert_eq!(a, b, "same seed, same events (ids, times, order)");
    let (c, _) = simulated_hour(8).await;
    assert_ne!(a, c, "another seed, another run");
    assert!(
        elapsed < Duration::from_secs(20),
        "two simulated hours took {elapsed:?}"
    );
    eprintln!("two simulated hours took {elapsed:?}");
}

#[tokio::test]
async fn used_slots_counts_each_locations_sessions_and_frees_a_terminated_ones_slot() {
    let env = start(quiet_model()).await;
    assert!(env.sim.used_slots().is_empty());
    let p = place(&env, "slot-1").await;
    place(&env, "slot-2").await;
    let used = env.sim.used_slots();
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        vec![((DEFAULT_FLEET_US.to_owned(), "us-east-1".to_owned()), 2)]
    );
    env.client
        .terminate_game_session()
        .game_session_id(p.game_session_arn().expect("arn"))
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("terminate");
    env.sim
        .advance(Duration::from_secs(2))
        .await
        .expect("advance");
    assert_eq!(
        env.sim
            .used_slots()
            .get(&(DEFAULT_FLEET_US.to_owned(), "us-east-1".to_owned())),
        Some(&1)
    );
    assert!(env.sim.throttling() == env.sim.model().throttling);
    env.sim.set_throttling(!env.sim.model().throttling);
    assert!(env.sim.throttling() != env.sim.model().throttling);
}
