//! Integration tests: the real aws-sdk-gamelift (RPC v2 CBOR) and raw AWS JSON 1.1 against the simulator.
//! One test binary; more tests live in its modules (`tests/sim/*.rs`), which share the helpers here.

#[path = "sim/gateway.rs"]
mod gateway;
#[path = "sim/locations.rs"]
mod locations;
#[path = "sim/regions.rs"]
mod regions;
#[path = "sim/setup.rs"]
mod setup;

use std::time::{Duration, Instant};

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::operation::create_player_session::builders::CreatePlayerSessionFluentBuilder;
use aws_sdk_gamelift::operation::create_player_sessions::CreatePlayerSessionsOutput;
use aws_sdk_gamelift::operation::create_player_sessions::builders::CreatePlayerSessionsFluentBuilder;
use aws_sdk_gamelift::operation::start_game_session_placement::builders::StartGameSessionPlacementFluentBuilder;
use aws_sdk_gamelift::operation::terminate_game_session::builders::TerminateGameSessionFluentBuilder;
use aws_sdk_gamelift::types::{
    DesiredPlayerSession, GameProperty, GameSession, GameSessionPlacement,
    GameSessionPlacementState, GameSessionStatus, PlacementFallbackStrategy, PlayerLatency,
    PlayerSessionStatus, PriorityConfigurationOverride, TerminationMode,
};
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_FLEET_US, DEFAULT_QUEUE};
use gamelift_sim::{
    EventFaults, FaultSpec, FleetSpec, LocationSpec, Model, PriorityConfiguration, QueueSpec,
    RecordingSink, SimServer, Simulator,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use setup::{client_in, quiet_model, sim_builder};
use tokio::sync::mpsc;

const INVALID: &str = "InvalidRequestException";
const NOT_FOUND: &str = "NotFoundException";

struct Env {
    sim: Simulator,
    server: SimServer,
    client: Client,
    events: mpsc::Receiver<String>,
}

impl Env {
    /// Moves the manual clock on by `by`, firing every timer that falls due.
    async fn advance(&self, by: Duration) {
        self.sim.advance(by).await.expect("advance");
    }
}

async fn start(model: Model) -> Env {
    let sim = sim_builder(model).build();
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

/// StartGameSessionPlacement through `queue` for up to `max` players.
fn start_on(
    client: &Client,
    queue: &str,
    id: impl Into<String>,
    max: i32,
) -> StartGameSessionPlacementFluentBuilder {
    client
        .start_game_session_placement()
        .placement_id(id)
        .game_session_queue_name(queue)
        .maximum_player_session_count(max)
}

/// StartGameSessionPlacement through the default queue for up to `max` players.
fn start_request(
    client: &Client,
    id: impl Into<String>,
    max: i32,
) -> StartGameSessionPlacementFluentBuilder {
    start_on(client, DEFAULT_QUEUE, id, max)
}

/// The placement `id`, which must exist where `client` calls.
async fn describe_placement(client: &Client, id: &str) -> GameSessionPlacement {
    let call = client.describe_game_session_placement().placement_id(id);
    let out = call.send().await.expect("describe placement");
    out.game_session_placement.expect("placement")
}

/// Sends `request`, lets the placement delay (1 s) pass and describes the placement through `client`.
async fn place_with(
    env: &Env,
    client: &Client,
    request: StartGameSessionPlacementFluentBuilder,
) -> GameSessionPlacement {
    let id = request.get_placement_id().clone().expect("a placement id");
    request.send().await.expect("start placement");
    env.advance(Duration::from_millis(1500)).await;
    describe_placement(client, &id).await
}

/// Places `id` (up to 4 players) through the default queue.
async fn place(env: &Env, id: &str) -> GameSessionPlacement {
    place_with(env, &env.client, start_request(&env.client, id, 4)).await
}

/// A location override that places in `location` or nowhere.
fn only_in(location: &str) -> PriorityConfigurationOverride {
    PriorityConfigurationOverride::builder()
        .location_order(location)
        .placement_fallback_strategy(PlacementFallbackStrategy::None)
        .build()
}

/// Places `id` through the default (us-east-1) queue into `location` only, calling through `client`.
async fn place_in(env: &Env, client: &Client, id: &str, location: &str) -> GameSessionPlacement {
    let request = start_request(client, id, 4).priority_configuration_override(only_in(location));
    place_with(env, client, request).await
}

/// The game session `arn`, which must exist where `client` calls.
async fn describe_session(client: &Client, arn: &str) -> GameSession {
    let call = client.describe_game_sessions().game_session_id(arn);
    let out = call.send().await.expect("describe game session");
    out.game_sessions()[0].clone()
}

/// CreatePlayerSessions in `arn` for `players`.
fn join(client: &Client, arn: &str, players: &[&str]) -> CreatePlayerSessionsFluentBuilder {
    let players = players.iter().map(|p| (*p).to_owned()).collect();
    client
        .create_player_sessions()
        .game_session_id(arn)
        .set_player_ids(Some(players))
}

/// CreatePlayerSession in `arn` for `player`.
fn join_one(client: &Client, arn: &str, player: &str) -> CreatePlayerSessionFluentBuilder {
    client
        .create_player_session()
        .game_session_id(arn)
        .player_id(player)
}

/// The ids of the player sessions CreatePlayerSessions made, in request order.
fn session_ids(created: &CreatePlayerSessionsOutput) -> Vec<String> {
    created
        .player_sessions()
        .iter()
        .filter_map(|p| p.player_session_id.clone())
        .collect()
}

fn terminate(
    client: &Client,
    arn: &str,
    mode: TerminationMode,
) -> TerminateGameSessionFluentBuilder {
    client
        .terminate_game_session()
        .game_session_id(arn)
        .termination_mode(mode)
}

/// Ends `arn` at once; the call must succeed.
async fn force_terminate(client: &Client, arn: &str) {
    let call = terminate(client, arn, TerminationMode::ForceTerminate);
    call.send().await.expect("terminate");
}

/// The error code of a call, or `ok` when it succeeded.
fn code<T, E: ProvideErrorMetadata>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.code().unwrap_or("?").to_owned(),
    }
}

/// An AWS JSON 1.1 error answer: status 400 with `want` as its `__type`.
fn assert_json_error(status: u16, body: &Value, want: &str) {
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some(want)),
        "{body}"
    );
}

fn is_rfc3339_millis_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z'
}

#[tokio::test]
async fn full_flow_from_placement_to_fulfilled_event_to_player_reservations_timing_out() {
    let sim = sim_builder(quiet_model()).build();
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
        .http_client(setup::http_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .load()
        .await;
    let gl = Client::new(&conf);

    let alice = DesiredPlayerSession::builder()
        .player_id("alice")
        .player_data("a")
        .build();
    let started = start_request(&gl, "flow-1", 10)
        .game_session_name("flow")
        .game_properties(GameProperty::builder().key("mode").value("ctf").build())
        .desired_player_sessions(alice)
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

    let gs = describe_session(&gl, &arn).await;
    assert_eq!(gs.status, Some(GameSessionStatus::Active));
    assert_eq!(gs.current_player_session_count, Some(1));
    assert_eq!(
        gs.port.map(|p| p.to_string()),
        ev["detail"]["port"].as_str().map(str::to_owned)
    );
    assert!(gs.creation_time.is_some());

    let created = join(&gl, &arn, &["bob", "carol"])
        .player_data_map("bob", "b")
        .send()
        .await
        .expect("create player sessions");
    let ids = session_ids(&created);
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
        let call = gl.describe_player_sessions().player_session_id(id).send();
        async move {
            call.await.expect("describe").player_sessions()[0]
                .status
                .clone()
        }
    };
    assert_eq!(status(&ids[0]).await, Some(PlayerSessionStatus::Active));
    assert_eq!(status(&ids[1]).await, Some(PlayerSessionStatus::Timedout));
    assert_eq!(
        status(&alice_psess).await,
        Some(PlayerSessionStatus::Timedout)
    );
    let gs = describe_session(&gl, &arn).await;
    assert_eq!(gs.current_player_session_count, Some(1));
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
    env.advance(Duration::from_millis(123)).await;
    start_request(&env.client, "shape-1", 2)
        .desired_player_sessions(DesiredPlayerSession::builder().player_id("p1").build())
        .send()
        .await
        .expect("start");
    env.advance(Duration::from_secs(2)).await;
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
    for key in ["startTime", "endTime"] {
        assert!(d[key].as_str().is_some_and(is_rfc3339_millis_utc), "{key}");
    }
    assert_eq!(d["placedPlayerSessions"][0]["playerId"], "p1");
    assert!(
        d["placedPlayerSessions"][0]["playerSessionId"]
            .as_str()
            .expect("psess")
            .starts_with("psess-")
    );
    assert!(ev["time"].as_str().is_some_and(is_rfc3339_millis_utc));
    // The SDK reads the same millisecond from the CBOR timestamp as the event carries.
    let p = describe_placement(&env.client, "shape-1").await;
    let iso = |t: Option<aws_smithy_types::DateTime>| {
        let format = aws_smithy_types::date_time::Format::DateTime;
        t.expect("a time").fmt(format).expect("fmt")
    };
    let start = iso(p.start_time);
    assert_eq!(start, d["startTime"].as_str().expect("start"));
    assert!(start.ends_with(".123Z"), "{start}");
    assert_eq!(iso(p.end_time), d["endTime"].as_str().expect("end"));
}

#[tokio::test]
async fn placement_id_cannot_be_reused_after_completion() {
    let env = start(quiet_model()).await;
    let p = place(&env, "reuse-me").await;
    assert_eq!(p.status, Some(GameSessionPlacementState::Fulfilled));
    let again = start_request(&env.client, "reuse-me", 4).send().await;
    let again = again.expect_err("reuse is refused");
    assert_eq!(again.code(), Some(INVALID));
    assert!(again.into_service_error().is_invalid_request_exception());
}

#[tokio::test]
async fn invalid_requests_are_refused_with_gamelift_errors() {
    let env = start(quiet_model()).await;
    let start = |id: &str| start_request(&env.client, id, 4);
    let prop = |k: &str, v: &str| GameProperty::builder().key(k).value(v).build();
    let mut props_17 = start("props-17");
    for i in 0..17 {
        props_17 = props_17.game_properties(prop(&format!("k{i}"), "v"));
    }
    let no_max = env
        .client
        .start_game_session_placement()
        .placement_id("no-max")
        .game_session_queue_name(DEFAULT_QUEUE);
    let cases = [
        (start(&"a".repeat(49)), INVALID, "a placement id over 48"),
        (start("has space"), INVALID, "a space in the placement id"),
        (
            start("under_score"),
            INVALID,
            "an underscore in the placement id",
        ),
        (start(&"a".repeat(48)), "ok", "a placement id of 48"),
        (props_17, INVALID, "17 game properties"),
        (
            start("key-33").game_properties(prop(&"k".repeat(33), "v")),
            INVALID,
            "a property key over 32",
        ),
        (
            start("val-97").game_properties(prop("k", &"v".repeat(97))),
            INVALID,
            "a property value over 96",
        ),
        (
            start("val-96").game_properties(prop(&"k".repeat(32), &"v".repeat(96))),
            "ok",
            "a key of 32 and a value of 96",
        ),
        (
            start("max-201").maximum_player_session_count(201),
            INVALID,
            "a maximum over 200",
        ),
        (
            start_on(&env.client, "nope", "no-queue", 1),
            NOT_FOUND,
            "an unknown queue",
        ),
        (no_max, INVALID, "no maximum player session count"),
    ];
    for (request, want, why) in cases {
        assert_eq!(code(request.send().await), want, "{why}");
    }
    // 26 player ids in one CreatePlayerSessions call.
    let arn = place(&env, "big").await.game_session_arn.expect("arn");
    env.client
        .update_game_session()
        .game_session_id(&arn)
        .maximum_player_session_count(200)
        .send()
        .await
        .expect("update");
    let players: Vec<String> = (0..26).map(|i| format!("p{i}")).collect();
    let players: Vec<&str> = players.iter().map(String::as_str).collect();
    assert_eq!(
        code(join(&env.client, &arn, &players).send().await),
        INVALID
    );
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
    let request = start_request(&env.client, "lat-eu", 4)
        .player_latencies(lat("a", "us-east-1", 120.0))
        .player_latencies(lat("b", "us-east-1", 100.0))
        .player_latencies(lat("a", "eu-west-1", 30.0))
        .player_latencies(lat("b", "eu-west-1", 150.0));
    let p = place_with(&env, &env.client, request).await;
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
    let start = |id: &str, queue: &str| {
        start_on(&env.client, queue, id, 4).priority_configuration_override(only_in("eu-west-1"))
    };
    for queue in ["no-priority", "latency-first"] {
        let refused = start(&format!("override-{queue}"), queue).send().await;
        assert_eq!(code(refused), INVALID, "queue {queue}");
    }
    let latency = PlayerLatency::builder()
        .player_id("a")
        .region_identifier("us-east-1")
        .latency_in_milliseconds(20.0)
        .build();
    let with_latency = start("override-with-latency", DEFAULT_QUEUE).player_latencies(latency);
    assert_eq!(code(with_latency.send().await), INVALID);

    // The default queue ranks LOCATION first: the override is accepted and places in eu-west-1
    // although us-east-1 comes first in the queue's destinations.
    let accepted = start("override-ok", DEFAULT_QUEUE);
    let p = place_with(&env, &env.client, accepted).await;
    assert_eq!(p.game_session_region.as_deref(), Some("eu-west-1"));
}

const TINY_FLEET: &str = "fleet-00000000-0000-4000-8000-0000000000aa";

/// One us-west-2 fleet with `slots` at home and none in sa-east-1, behind the `tiny` queue (10 s).
fn tiny_model(slots: u32) -> Model {
    let mut fleet = FleetSpec::in_home_region(TINY_FLEET, "us-west-2", slots);
    fleet.locations.push(LocationSpec::new("sa-east-1", 0));
    Model {
        throttling: false,
        fleets: vec![fleet],
        queues: vec![QueueSpec::new("tiny", "us-west-2", 10, &[TINY_FLEET])],
        ..Model::default()
    }
}

#[tokio::test]
async fn without_capacity_a_placement_stays_pending_until_the_queue_timeout() {
    let mut env = start(tiny_model(1)).await;
    let startp = |id: &str| start_on(&env.client, "tiny", id, 2).send();
    let status = |id: &'static str| {
        let client = env.client.clone();
        async move { describe_placement(&client, id).await.status }
    };
    startp("first").await.expect("start");
    env.advance(Duration::from_secs(1)).await;
    startp("second").await.expect("start");
    env.advance(Duration::from_secs(9)).await;
    assert_eq!(
        status("first").await,
        Some(GameSessionPlacementState::Fulfilled)
    );
    assert_eq!(
        status("second").await,
        Some(GameSessionPlacementState::Pending)
    );
    env.advance(Duration::from_secs(1)).await;
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
    let first = inner(&got[0]);
    let arn = first["detail"]["gameSessionArn"].as_str().expect("arn");
    assert!(arn.starts_with(&format!(
        "arn:aws:gamelift:us-west-2::gamesession/{TINY_FLEET}/"
    )));
    force_terminate(&env.client, arn).await;
    startp("third").await.expect("start");
    env.advance(Duration::from_secs(1)).await;
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
    let started = start_on(&env.client, "tiny", "remote", 2).send().await;
    started.expect("start");
    env.advance(Duration::from_secs(1)).await;
    let ev = inner(&drain(&mut env.events)[0]);
    assert_eq!(
        ev["detail"]["gameSessionArn"],
        format!("arn:aws:gamelift:us-west-2::gamesession/{TINY_FLEET}/sa-east-1/remote")
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
    let stop = |id: &str| {
        env.client
            .stop_game_session_placement()
            .placement_id(id)
            .send()
    };
    start_request(&env.client, "stop-me", 2)
        .send()
        .await
        .expect("start");
    let out = stop("stop-me").await.expect("stop");
    assert_eq!(
        out.game_session_placement.and_then(|p| p.status),
        Some(GameSessionPlacementState::Cancelled)
    );
    env.advance(Duration::from_secs(5)).await;
    let got = drain(&mut env.events);
    assert_eq!(got.len(), 1, "no fulfilment after a cancel");
    assert_eq!(inner(&got[0])["detail"]["type"], "PlacementCancelled");
    assert_eq!(code(stop("stop-me").await), INVALID, "not pending");
    assert_eq!(code(stop("never").await), NOT_FOUND, "unknown");
    let describe = env.client.describe_game_session_placement();
    let missing = describe
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
        let started = start_request(&env.client, format!("d-{i}"), 2).send().await;
        started.expect("start");
    }
    env.advance(Duration::from_secs(2)).await;
    let in_fleet = |fleet: &str| env.client.describe_game_sessions().fleet_id(fleet);
    let page1 = in_fleet(DEFAULT_FLEET_US).limit(3).send().await;
    let page1 = page1.expect("page 1");
    assert_eq!(page1.game_sessions().len(), 3);
    let token = page1.next_token.clone().expect("more");
    let next = in_fleet(DEFAULT_FLEET_US).limit(3).next_token(token);
    let page2 = next.send().await.expect("page 2");
    assert_eq!(page2.game_sessions().len(), 2);
    assert!(page2.next_token.is_none());
    let arn = page1.game_sessions()[0].game_session_id.as_deref();
    force_terminate(&env.client, arn.expect("arn")).await;
    let active = in_fleet(DEFAULT_FLEET_US)
        .status_filter("ACTIVE")
        .send()
        .await;
    assert_eq!(active.expect("active").game_sessions().len(), 4);
    let unknown_session = env
        .client
        .describe_game_sessions()
        .game_session_id("arn:aws:gamelift:us-east-1::gamesession/fleet-x/nope");
    for (request, want, why) in [
        (in_fleet("fleet-nope"), NOT_FOUND, "unknown fleet"),
        (unknown_session, NOT_FOUND, "unknown session"),
        (
            in_fleet(DEFAULT_FLEET_US).next_token("garbage"),
            INVALID,
            "bad token",
        ),
    ] {
        assert_eq!(code(request.send().await), want, "{why}");
    }
}

#[tokio::test]
async fn search_game_sessions_filters_sorts_and_pages_twenty_active_sessions_at_a_time() {
    let env = start(quiet_model()).await;
    for i in 0..25 {
        let mode = if i % 2 == 0 { "ctf" } else { "dm" };
        start_request(&env.client, format!("s-{i:02}"), 4)
            .game_session_name(format!("room-{i:02}"))
            .game_properties(GameProperty::builder().key("mode").value(mode).build())
            .send()
            .await
            .expect("start");
        env.advance(Duration::from_millis(10)).await;
    }
    env.advance(Duration::from_secs(2)).await;
    let search = || env.client.search_game_sessions().fleet_id(DEFAULT_FLEET_US);
    let all = search().send().await.expect("search");
    assert_eq!(all.game_sessions().len(), 20);
    let rest = search().next_token(all.next_token.clone().expect("token"));
    assert_eq!(rest.send().await.expect("page 2").game_sessions().len(), 5);
    let ctf = search()
        .filter_expression("gameSessionProperties.mode = 'ctf' AND hasAvailablePlayerSessions=true")
        .sort_expression("creationTimeMillis DESC")
        .send()
        .await
        .expect("filtered");
    assert_eq!(ctf.game_sessions().len(), 13);
    assert_eq!(ctf.game_sessions()[0].name.as_deref(), Some("room-24"));
    // TERMINATED sessions are never returned.
    let arn = ctf.game_sessions()[0].game_session_id.as_deref();
    force_terminate(&env.client, arn.expect("arn")).await;
    let named = search().filter_expression("gameSessionName = 'room-24'");
    assert!(
        named
            .send()
            .await
            .expect("by name")
            .game_sessions()
            .is_empty()
    );
    for (request, why) in [
        (search().filter_expression("nonsense =="), "bad filter"),
        (search().limit(21), "limit"),
    ] {
        assert_eq!(code(request.send().await), INVALID, "{why}");
    }
}

#[tokio::test]
async fn player_sessions_respect_capacity_status_and_uniqueness() {
    let env = start(quiet_model()).await;
    let gl = &env.client;
    let p = place(&env, "cap").await; // maximum 4 players
    let arn = p.game_session_arn.clone().expect("arn");
    let one = join_one(gl, &arn, "p0").player_data("hello").send().await;
    let ps = one.expect("one").player_session.expect("ps");
    assert_eq!(ps.player_data.as_deref(), Some("hello"));
    assert_eq!(ps.ip_address, p.ip_address);
    assert_eq!(ps.port, p.port);
    assert_eq!(code(join_one(gl, &arn, "p0").send().await), INVALID, "dup");
    let full = join(gl, &arn, &["a", "b", "c", "d"]).send().await;
    let full = full.expect_err("full");
    assert_eq!(full.code(), Some("GameSessionFullException"));
    assert!(full.into_service_error().is_game_session_full_exception());
    join(gl, &arn, &["a", "b", "c"]).send().await.expect("fits");
    let full = join_one(gl, &arn, "e").send().await.expect_err("full");
    assert!(full.into_service_error().is_game_session_full_exception());
    // DENY_ALL closes the session to new players.
    let arn2 = place(&env, "deny").await.game_session_arn.expect("arn");
    gl.update_game_session()
        .game_session_id(&arn2)
        .player_session_creation_policy("DENY_ALL".into())
        .send()
        .await
        .expect("deny");
    let denied = join_one(gl, &arn2, "x").send().await;
    assert_eq!(code(denied), "GameSessionFullException");
    // A terminated session refuses players with InvalidGameSessionStatusException.
    force_terminate(gl, &arn2).await;
    let e = join_one(gl, &arn2, "x")
        .send()
        .await
        .expect_err("terminated");
    assert!(
        e.into_service_error()
            .is_invalid_game_session_status_exception()
    );
    let none = "arn:aws:gamelift:us-east-1::gamesession/fleet-x/none";
    let e = join_one(gl, none, "x").send().await.expect_err("missing");
    assert!(e.into_service_error().is_not_found_exception());
}

#[tokio::test]
async fn an_accepted_player_session_never_times_out_and_a_removed_one_completes() {
    let env = start(quiet_model()).await;
    let arn = place(&env, "acc").await.game_session_arn.expect("arn");
    let out = join(&env.client, &arn, &["a", "b", "c"]).send().await;
    let ids = session_ids(&out.expect("create"));
    let sim = &env.sim;
    sim.accept_player_session(&ids[0]).await.expect("accept");
    env.advance(Duration::from_secs(59)).await;
    assert_eq!(sim.player_session_status(&ids[1]), Some("RESERVED"));
    sim.remove_player_session(&ids[2]).await.expect("remove");
    env.advance(Duration::from_secs(2)).await;
    assert_eq!(sim.player_session_status(&ids[0]), Some("ACTIVE"));
    assert_eq!(sim.player_session_status(&ids[1]), Some("TIMEDOUT"));
    assert_eq!(sim.player_session_status(&ids[2]), Some("COMPLETED"));
    assert!(
        sim.accept_player_session(&ids[1]).await.is_err(),
        "a timed-out reservation cannot be accepted"
    );
    let players = || env.client.describe_player_sessions();
    let by_game = players().game_session_id(&arn).send().await;
    assert_eq!(by_game.expect("by game").player_sessions().len(), 3);
    let by_player = players().player_id("b").send().await.expect("by player");
    assert_eq!(by_player.player_sessions().len(), 1);
    assert!(by_player.player_sessions()[0].termination_time.is_some());
    let active = players()
        .game_session_id(&arn)
        .player_session_status_filter("ACTIVE")
        .send()
        .await
        .expect("filter");
    assert_eq!(active.player_sessions().len(), 1);
    for (request, want, why) in [
        (
            players().player_session_id("psess-none"),
            NOT_FOUND,
            "missing",
        ),
        (players(), INVALID, "no key"),
    ] {
        assert_eq!(code(request.send().await), want, "{why}");
    }
}

#[tokio::test]
async fn update_game_session_merges_properties_and_never_deletes_them() {
    let env = start(quiet_model()).await;
    let prop = |k: &str, v: &str| GameProperty::builder().key(k).value(v).build();
    let request = start_request(&env.client, "upd", 4)
        .game_properties(prop("a", "1"))
        .game_properties(prop("b", "2"));
    let p = place_with(&env, &env.client, request).await;
    let arn = p.game_session_arn.expect("arn");
    let update = || env.client.update_game_session().game_session_id(&arn);
    let out = update()
        .name("renamed")
        .maximum_player_session_count(8)
        .game_properties(prop("b", "20"))
        .game_properties(prop("c", "3"))
        .send()
        .await
        .expect("update");
    let gs = out.game_session.expect("gs");
    let mut props: Vec<(&str, &str)> = gs
        .game_properties()
        .iter()
        .map(|p| (p.key().unwrap_or_default(), p.value().unwrap_or_default()))
        .collect();
    props.sort_unstable();
    assert_eq!(props, [("a", "1"), ("b", "20"), ("c", "3")]);
    assert_eq!(gs.name.as_deref(), Some("renamed"));
    assert_eq!(gs.maximum_player_session_count, Some(8));
    let mut b = update();
    for i in 0..14 {
        b = b.game_properties(prop(&format!("n{i}"), "x"));
    }
    assert_eq!(code(b.send().await), INVALID, "3 + 14 > 16");
    force_terminate(&env.client, &arn).await;
    let late = update().name("late").send().await;
    assert_eq!(
        code(late),
        "InvalidGameSessionStatusException",
        "terminated"
    );
}

#[tokio::test]
async fn terminate_game_session_completes_its_players_and_cannot_be_repeated() {
    let env = start(quiet_model()).await;
    let arn = place(&env, "term").await.game_session_arn.expect("arn");
    let ps = join_one(&env.client, &arn, "a").send().await.expect("ps");
    let ps = ps
        .player_session
        .and_then(|p| p.player_session_id)
        .expect("id");
    let ending = TerminationMode::TriggerOnProcessTerminate;
    let out = terminate(&env.client, &arn, ending).send().await;
    assert_eq!(
        out.expect("terminate").game_session.and_then(|g| g.status),
        Some(GameSessionStatus::Terminating)
    );
    env.advance(Duration::from_secs(2)).await;
    let gs = describe_session(&env.client, &arn).await;
    assert_eq!(gs.status, Some(GameSessionStatus::Terminated));
    assert!(gs.termination_time.is_some());
    assert_eq!(env.sim.player_session_status(&ps), Some("COMPLETED"));
    let again = terminate(&env.client, &arn, TerminationMode::ForceTerminate);
    let e = again.send().await.expect_err("again");
    assert!(
        e.into_service_error()
            .is_invalid_game_session_status_exception()
    );
    let missing = "arn:aws:gamelift:us-east-1::gamesession/fleet-x/zz";
    let e = terminate(&env.client, missing, TerminationMode::ForceTerminate);
    assert_eq!(code(e.send().await), NOT_FOUND, "missing");
}

#[tokio::test]
async fn throttling_refuses_a_burst_above_the_api_rate_and_recovers_with_time() {
    let env = start(Model::default()).await; // throttling on by default
    let list = || {
        env.client
            .describe_game_sessions()
            .fleet_id(DEFAULT_FLEET_US)
            .send()
    };
    let mut codes = Vec::new();
    for _ in 0..21 {
        codes.push(list().await.err().and_then(|e| e.code().map(str::to_owned)));
    }
    assert!(
        codes[..20].iter().all(Option::is_none),
        "the first 20 pass: {codes:?}"
    );
    assert_eq!(codes[20].as_deref(), Some("ThrottlingException"));
    // Other operations have their own buckets.
    let other = env.client.describe_player_sessions().player_id("x").send();
    other.await.expect("own bucket");
    env.advance(Duration::from_millis(100)).await;
    list().await.expect("refilled");
    env.sim.set_throttling(false);
    for _ in 0..50 {
        list().await.expect("unthrottled");
    }
    assert_eq!(env.sim.stats().throttled, 1);
}

#[tokio::test]
async fn injected_faults_fail_calls_add_latency_and_can_be_cleared() {
    let env = start(quiet_model()).await;
    let list = || {
        env.client
            .describe_game_sessions()
            .fleet_id(DEFAULT_FLEET_US)
            .send()
    };
    let players = || env.client.describe_player_sessions().player_id("x").send();
    let always = FaultSpec {
        error_rate: 1.0,
        ..FaultSpec::default()
    };
    env.sim.set_fault("DescribeGameSessions", always.clone());
    let e = list().await.expect_err("fault");
    assert_eq!(e.code(), Some("InternalServiceException"));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
    let unauthorized = FaultSpec {
        error_code: Some("UnauthorizedException".into()),
        ..always
    };
    env.sim.set_fault("*", unauthorized);
    assert_eq!(code(players().await), "UnauthorizedException");
    env.sim.clear_faults();
    let slow = FaultSpec {
        latency_ms: 120,
        ..FaultSpec::default()
    };
    env.sim.set_fault("DescribePlayerSessions", slow);
    let t = Instant::now();
    players().await.expect("slow but fine");
    assert!(t.elapsed() >= Duration::from_millis(120));
    env.sim.clear_faults();
    list().await.expect("cleared");
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
    env.advance(Duration::from_secs(30)).await;
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
        let answer = start_request(&env.client, &id, 4).send().await;
        let answer = answer.expect("start placement");
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
    env.advance(Duration::from_secs(3600)).await;
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
    let start = json!({"PlacementId": "json-1", "GameSessionQueueName": DEFAULT_QUEUE,
                       "MaximumPlayerSessionCount": 3});
    let mut with_player = start.clone();
    with_player["DesiredPlayerSessions"] = json!([{"PlayerId": "p1"}]);
    let (s, v) = json11(&ep, "StartGameSessionPlacement", with_player).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["GameSessionPlacement"]["Status"], "PENDING");
    assert!(
        v["GameSessionPlacement"]["StartTime"].is_number(),
        "timestamps are epoch seconds"
    );
    env.advance(Duration::from_secs(2)).await;
    let placement = json!({"PlacementId": "json-1"});
    let (_, v) = json11(&ep, "DescribeGameSessionPlacement", placement).await;
    assert_eq!(v["GameSessionPlacement"]["Status"], "FULFILLED");
    let arn = v["GameSessionPlacement"]["GameSessionArn"].as_str();
    let arn = arn.expect("arn").to_owned();
    let join = json!({"GameSessionId": arn, "PlayerId": "p2"});
    let (s, v) = json11(&ep, "CreatePlayerSession", join).await;
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
    let (s, v) = json11(&ep, "StartGameSessionPlacement", start).await;
    assert_json_error(s, &v, INVALID);
    assert!(v["message"].is_string());
    for (op, body, want) in [
        (
            "DescribeGameSessionPlacement",
            json!({"PlacementId": "missing"}),
            NOT_FOUND,
        ),
        ("CreateFleet", json!({}), "UnknownOperationException"),
        (
            "DescribeGameSessions",
            json!({"FleetId": 42}),
            "SerializationException",
        ),
    ] {
        let (s, v) = json11(&ep, op, body).await;
        assert_json_error(s, &v, want);
    }
    // A body that is not JSON at all, and a target that is not GameLift's.
    for (target, body, want) in [
        (
            "GameLift.DescribeGameSessions",
            &b"{not json"[..],
            "SerializationException",
        ),
        (
            "DynamoDB_20120810.GetItem",
            &b"{}"[..],
            "UnknownOperationException",
        ),
    ] {
        let headers = [("x-amz-target", target)];
        let (s, _, b) = raw(&format!("{ep}/"), &headers, body.to_vec()).await;
        let v: Value = serde_json::from_slice(&b).expect("json error");
        assert_json_error(s, &v, want);
    }
}

/// The `__type` of an RPC v2 CBOR error body.
fn cbor_error_type(body: &[u8]) -> String {
    let v: ciborium::Value = ciborium::de::from_reader(body).expect("CBOR error body");
    let map = v.as_map().cloned().unwrap_or_default();
    map.iter()
        .find(|(k, _)| k.as_text() == Some("__type"))
        .and_then(|(_, v)| v.as_text().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test]
async fn rpc_v2_cbor_answers_unknown_operations_and_malformed_bodies_with_cbor_errors() {
    let env = start(quiet_model()).await;
    let ep = env.server.endpoint();
    let url = |op: &str| format!("{ep}/service/GameLift/operation/{op}");
    let headers = [
        ("smithy-protocol", "rpc-v2-cbor"),
        ("content-type", "application/cbor"),
        ("accept", "application/cbor"),
    ];
    let (s, h, b) = raw(
        &url("DescribeGameSessions"),
        &headers,
        vec![0xff, 0x13, 0x00],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        h.get("smithy-protocol").and_then(|v| v.to_str().ok()),
        Some("rpc-v2-cbor")
    );
    assert_eq!(cbor_error_type(&b), "SerializationException");
    // An unknown operation, and a CBOR array where a map is expected.
    for (op, body, want) in [
        ("CreateFleet", 0xa0, (404, "UnknownOperationException")),
        (
            "DescribeGameSessions",
            0x80,
            (400, "SerializationException"),
        ),
    ] {
        let (s, _, b) = raw(&url(op), &headers, vec![body]).await;
        assert_eq!((s, cbor_error_type(&b).as_str()), want, "{op}");
    }
    // A hand-made CBOR request: refused unsigned, as AWS refuses it; served with a credential scope.
    let mut body = Vec::new();
    let req = ciborium::Value::Map(vec![(
        ciborium::Value::Text("FleetId".into()),
        ciborium::Value::Text(DEFAULT_FLEET_US.into()),
    )]);
    ciborium::ser::into_writer(&req, &mut body).expect("encode");
    let url = url("DescribeGameSessions");
    let (s, _, b) = raw(&url, &headers, body.clone()).await;
    assert_eq!(
        (s, cbor_error_type(&b).as_str()),
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
    let sim = sim_builder(quiet_model())
        .sink(gamelift_sim::HttpSink::new(format!("http://{addr}/sns")))
        .build();
    let server = sim.serve("127.0.0.1:0").await.expect("serve");
    let gl = client_in(&server.endpoint(), "us-east-1");
    start_request(&gl, "http-1", 2).send().await.expect("start");
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
            FleetSpec::in_home_region(DEFAULT_FLEET_US, "us-east-1", 150),
            FleetSpec::in_home_region(DEFAULT_FLEET_EU, "eu-west-1", 100),
        ],
        queues: vec![QueueSpec::new(
            DEFAULT_QUEUE,
            "us-east-1",
            60,
            &[DEFAULT_FLEET_US, DEFAULT_FLEET_EU],
        )],
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
    let sim = sim_builder(model).sink(recorder.clone()).build();
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
    let us = (DEFAULT_FLEET_US.to_owned(), "us-east-1".to_owned());
    let used = env.sim.used_slots();
    assert_eq!(used.into_iter().collect::<Vec<_>>(), vec![(us.clone(), 2)]);
    force_terminate(&env.client, p.game_session_arn().expect("arn")).await;
    env.advance(Duration::from_secs(2)).await;
    assert_eq!(env.sim.used_slots().get(&us), Some(&1));
    assert!(env.sim.throttling() == env.sim.model().throttling);
    env.sim.set_throttling(!env.sim.model().throttling);
    assert!(env.sim.throttling() != env.sim.model().throttling);
}
