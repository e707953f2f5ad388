//! `SdkGameLift` through the real aws-sdk-gamelift against gamelift-sim, in-process on a random port with
//! a manual clock: every port method, GameLift's refusals, throttling, injected server errors, timeouts and
//! a refused connection, each mapped to the port's error. No DynamoDB needed.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region as SdkRegion};
use aws_sdk_gamelift::types::GameSession;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use fleet_aws::gamelift::ErrorClass::{
    self, Ambiguous, Full, Invalid, NotActive, NotFound, Throttled,
};
use fleet_aws::gamelift::SdkGameLift;
use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId, Region};
use fleet_core::input::{GameProperties, Latency};
use fleet_core::model::{Placement, PlacementStatus, PlayerSession};
use fleet_core::ports::{GameLift, GameLiftError, StartPlacement};
use gamelift_sim::model::{DEFAULT_FLEET_EU, DEFAULT_FLEET_US, DEFAULT_QUEUE};
use gamelift_sim::{FaultSpec, ManualClock, Model, SimServer, Simulator};

use crate::steps::unused_port;
use crate::support::{self, player};

struct Sim {
    sim: Simulator,
    server: SimServer,
    gl: SdkGameLift,
}

/// An adapter on `DEFAULT_QUEUE` whose client calls `endpoint` with `retry` and, when given, an
/// operation `timeout`.
fn adapter(endpoint: &str, retry: RetryConfig, timeout: Option<Duration>) -> SdkGameLift {
    let mut conf = aws_sdk_gamelift::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(fleet_aws::clients::http_client())
        .region(SdkRegion::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        .retry_config(retry);
    if let Some(t) = timeout {
        conf = conf.timeout_config(TimeoutConfig::builder().operation_timeout(t).build());
    }
    SdkGameLift::new(Client::from_conf(conf.build()), DEFAULT_QUEUE)
}

/// The simulator with `model`, and an adapter whose client has no SDK retries (so errors are seen as sent).
async fn start(model: Model) -> Sim {
    let sim = Simulator::builder()
        .model(model)
        .clock(ManualClock::new())
        .build();
    let server = sim.serve("127.0.0.1:0").await.expect("serve");
    let gl = adapter(&server.endpoint(), RetryConfig::disabled(), None);
    Sim { sim, server, gl }
}

fn quiet() -> Model {
    Model {
        throttling: false,
        ..Model::default()
    }
}

/// A PENDING placement carrying what GameLift is asked to keep: player data, game data, properties.
fn placement(id: &str, max_players: i64, players: &[&str]) -> Placement {
    let mut p = support::placement(id, max_players, players);
    for pl in &mut p.players {
        pl.player_data = Some(format!("data-of-{}", pl.player_id.as_str()));
    }
    p.data = Some("{\"map\":\"dust\"}".into());
    p.properties = props(&[("mode", "ranked"), ("map", "dust")]);
    p
}

fn props(kv: &[(&str, &str)]) -> GameProperties {
    GameProperties::parse(
        kv.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
    .expect("valid props")
}

fn request(placement: Placement) -> StartPlacement {
    StartPlacement { placement }
}

fn placement_id(id: &str) -> PlacementId {
    PlacementId::parse(id).expect("valid placement id")
}

/// Starts `p` through `gl` and answers its id.
async fn started(gl: &SdkGameLift, p: Placement) -> PlacementId {
    let id = p.placement_id.clone();
    gl.start_placement(&request(p)).await.expect("start");
    id
}

/// Moves the simulator's clock on by `by`, running what falls due.
async fn advance(env: &Sim, by: Duration) {
    env.sim.advance(by).await.expect("advance");
}

/// Starts `p`, lets the simulator place it, and returns the placed session's ARN.
async fn placed(env: &Sim, p: Placement) -> GameSessionArn {
    let id = started(&env.gl, p).await;
    advance(env, Duration::from_millis(1500)).await;
    let d = env.gl.describe_placement(&id).await.expect("describe");
    assert_eq!(d.status, PlacementStatus::Fulfilled);
    d.fulfilled.expect("fulfilled").game_session_arn
}

/// The us-east-1 queue's placement restricted to eu-west-1: a session on the fleet homed there.
async fn placed_in_eu(env: &Sim, id: &str, players: &[&str]) -> GameSessionArn {
    let mut p = placement(id, 4, players);
    p.regions = vec![Region::parse("eu-west-1").expect("region")];
    let arn = placed(env, p).await;
    assert_eq!(
        (arn.region(), arn.fleet_id()),
        ("eu-west-1", DEFAULT_FLEET_EU),
        "the queue's first fleet is in us-east-1; the override wins"
    );
    arn
}

/// The ARN of a game session on the us-east-1 fleet that was never placed.
fn unplaced_arn(id: &str) -> GameSessionArn {
    GameSessionArn::parse(&format!(
        "arn:aws:gamelift:us-east-1::gamesession/{DEFAULT_FLEET_US}/{id}"
    ))
    .expect("valid arn")
}

fn players(ids: &[&str]) -> Vec<(PlayerId, Option<String>)> {
    ids.iter()
        .map(|p| (player(p), Some(format!("pd-{p}"))))
        .collect()
}

/// The game session's status as the adapter describes it.
async fn status(gl: &SdkGameLift, arn: &GameSessionArn) -> Option<String> {
    gl.game_session_status(arn).await.expect("status")
}

/// The game session as GameLift describes it to the raw client.
async fn described(env: &Sim, arn: &GameSessionArn) -> GameSession {
    let out = env
        .gl
        .client()
        .describe_game_sessions()
        .game_session_id(arn.as_str())
        .send()
        .await
        .expect("raw");
    out.game_sessions().first().expect("one session").clone()
}

fn properties(gs: &GameSession) -> BTreeMap<&str, &str> {
    gs.game_properties()
        .iter()
        .map(|p| (p.key().unwrap_or_default(), p.value().unwrap_or_default()))
        .collect()
}

/// Every call of `op` fails with `code` (GameLift's 500 InternalServiceException when `None`).
fn fail_always(sim: &Simulator, op: &str, code: Option<&str>) {
    let fault = FaultSpec {
        error_rate: 1.0,
        error_code: code.map(str::to_owned),
        latency_ms: 0,
    };
    sim.set_fault(op, fault);
}

/// The class of a port error, and its message.
fn class_of(err: &GameLiftError) -> (ErrorClass, &str) {
    match err {
        GameLiftError::Full => (Full, ""),
        GameLiftError::NotActive(m) => (NotActive, m),
        GameLiftError::NotFound(m) => (NotFound, m),
        GameLiftError::Invalid(m) => (Invalid, m),
        GameLiftError::Throttled(m) => (Throttled, m),
        GameLiftError::Ambiguous(m) => (Ambiguous, m),
    }
}

/// Asserts that a call failed with an error of class `want` whose message mentions `mentions`.
#[track_caller]
fn assert_fails_with<T: Debug>(result: Result<T, GameLiftError>, want: ErrorClass, mentions: &str) {
    let err = result.expect_err("the call fails");
    let (class, message) = class_of(&err);
    assert!(
        class == want && message.contains(mentions),
        "{err:?}: want {want:?} mentioning {mentions:?}"
    );
}

/// Asserts that a call failed with an error of class `want`.
#[track_caller]
fn assert_fails<T: Debug>(result: Result<T, GameLiftError>, want: ErrorClass) {
    assert_fails_with(result, want, "");
}

#[tokio::test]
async fn a_started_placement_is_pending_then_described_as_fulfilled_with_a_session_that_parses() {
    let env = start(quiet()).await;
    let mut p = placement("gl-flow-1", 8, &["alice", "bob"]);
    p.latencies = vec![Latency {
        player_id: player("alice"),
        region: Region::parse("us-east-1").expect("region"),
        latency_ms: 40,
    }];
    let id = started(&env.gl, p).await;

    let d = env
        .gl
        .describe_placement(&id)
        .await
        .expect("describe pending");
    assert_eq!((d.status, d.fulfilled), (PlacementStatus::Pending, None));

    advance(&env, Duration::from_secs(2)).await;
    let d = env
        .gl
        .describe_placement(&id)
        .await
        .expect("describe fulfilled");
    assert_eq!(d.status, PlacementStatus::Fulfilled);
    let f = d
        .fulfilled
        .expect("a fulfilled placement carries its session");
    assert_eq!(f.game_session_arn.fleet_id(), DEFAULT_FLEET_US);
    assert_eq!(f.region.as_str(), "us-east-1");
    assert!(
        f.ip_address.parse::<std::net::IpAddr>().is_ok(),
        "{}",
        f.ip_address
    );
    assert!(f.port >= 7777, "{}", f.port);
    let mut placed: Vec<&str> = f
        .placed_player_sessions
        .iter()
        .map(|s| s.player_id.as_str())
        .collect();
    placed.sort_unstable();
    assert_eq!(placed, ["alice", "bob"]);
    assert!(
        f.placed_player_sessions
            .iter()
            .all(|s| s.player_session_id.starts_with("psess-"))
    );

    // What the request carried reached GameLift: name, data, properties, cap, player data.
    let gs = described(&env, &f.game_session_arn).await;
    assert_eq!(gs.name(), Some("lobby-gl-flow-1"));
    assert_eq!(gs.game_session_data(), Some("{\"map\":\"dust\"}"));
    assert_eq!(gs.maximum_player_session_count(), Some(8));
    assert_eq!(
        properties(&gs),
        BTreeMap::from([("map", "dust"), ("mode", "ranked")])
    );
    let ps = env
        .gl
        .client()
        .describe_player_sessions()
        .game_session_id(f.game_session_arn.as_str())
        .send()
        .await
        .expect("raw");
    let data: BTreeMap<_, _> = ps
        .player_sessions()
        .iter()
        .map(|s| {
            (
                s.player_id().unwrap_or_default(),
                s.player_data().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        data,
        BTreeMap::from([("alice", "data-of-alice"), ("bob", "data-of-bob")])
    );
}

#[tokio::test]
async fn regions_restrict_the_placement_to_the_listed_locations() {
    let env = start(quiet()).await;
    // Placed on the eu-west-1 fleet, though the queue lists the us-east-1 one first.
    placed_in_eu(&env, "gl-eu-1", &[]).await;
}

#[tokio::test]
async fn a_reused_placement_id_is_invalid() {
    let env = start(quiet()).await;
    let p = placement("gl-reuse-1", 4, &[]);
    started(&env.gl, p.clone()).await;
    let reuse = env.gl.start_placement(&request(p)).await;
    assert_fails_with(reuse, Invalid, "InvalidRequestException");
}

#[tokio::test]
async fn an_unknown_queue_or_placement_is_not_found() {
    let env = start(quiet()).await;
    let gl = SdkGameLift::new(env.gl.client().clone(), "no-such-queue");
    let p = placement("gl-noq-1", 4, &[]);
    assert_fails(gl.start_placement(&request(p)).await, NotFound);
    let never = placement_id("gl-never-1");
    assert_fails(env.gl.describe_placement(&never).await, NotFound);
}

#[tokio::test]
async fn stopping_a_pending_placement_cancels_it_and_stopping_it_again_is_invalid() {
    let env = start(quiet()).await;
    let id = started(&env.gl, placement("gl-stop-1", 4, &[])).await;
    env.gl.stop_placement(&id).await.expect("stop");
    let d = env.gl.describe_placement(&id).await.expect("describe");
    assert_eq!((d.status, d.fulfilled), (PlacementStatus::Cancelled, None));
    // No longer pending.
    assert_fails(env.gl.stop_placement(&id).await, Invalid);
}

#[tokio::test]
async fn player_sessions_are_created_until_the_session_is_full() {
    let env = start(quiet()).await;
    let arn = placed(&env, placement("gl-full-1", 3, &["alice"])).await;

    let got = env
        .gl
        .create_player_sessions(&arn, &players(&["bob", "carol"]))
        .await
        .expect("two seats left");
    let ids: Vec<&str> = got
        .iter()
        .map(|s: &PlayerSession| s.player_id.as_str())
        .collect();
    assert_eq!(ids, ["bob", "carol"]);
    assert!(
        got.iter()
            .all(|s| s.player_session_id.starts_with("psess-"))
    );
    let ps = env
        .gl
        .client()
        .describe_player_sessions()
        .player_id("carol")
        .send()
        .await
        .expect("raw");
    assert_eq!(
        ps.player_sessions().first().and_then(|s| s.player_data()),
        Some("pd-carol")
    );

    let dave = players(&["dave"]);
    assert_fails(env.gl.create_player_sessions(&arn, &dave).await, Full);
}

#[tokio::test]
async fn a_second_seat_for_a_seated_player_is_invalid() {
    let env = start(quiet()).await;
    let arn = placed(&env, placement("gl-twice-1", 10, &["alice"])).await;
    let alice = [(player("alice"), None)];
    assert_fails(env.gl.create_player_sessions(&arn, &alice).await, Invalid);
}

#[tokio::test]
async fn a_terminated_session_refuses_joins_updates_and_a_second_terminate_as_not_active() {
    let env = start(quiet()).await;
    let arn = placed(&env, placement("gl-term-1", 4, &[])).await;
    assert_eq!(status(&env.gl, &arn).await.as_deref(), Some("ACTIVE"));

    env.gl
        .terminate_game_session(&arn)
        .await
        .expect("terminate");
    assert_eq!(status(&env.gl, &arn).await.as_deref(), Some("TERMINATING"));
    let bob = players(&["bob"]);
    assert_fails(env.gl.create_player_sessions(&arn, &bob).await, NotActive);
    let empty = props(&[]);
    let update = env.gl.update_game_session(&arn, Some("x"), &empty).await;
    assert_fails(update, NotActive);
    assert_fails(env.gl.terminate_game_session(&arn).await, NotActive);

    advance(&env, Duration::from_secs(2)).await;
    assert_eq!(status(&env.gl, &arn).await.as_deref(), Some("TERMINATED"));
}

#[tokio::test]
async fn an_update_renames_and_merges_properties() {
    let env = start(quiet()).await;
    let arn = placed(&env, placement("gl-upd-1", 4, &[])).await;
    env.gl
        .update_game_session(
            &arn,
            Some("renamed"),
            &props(&[("mode", "casual"), ("round", "2")]),
        )
        .await
        .expect("update");
    env.gl
        .update_game_session(&arn, None, &props(&[("round", "3")]))
        .await
        .expect("properties only");

    let gs = described(&env, &arn).await;
    assert_eq!(gs.name(), Some("renamed"), "a name left out is kept");
    assert_eq!(
        properties(&gs),
        BTreeMap::from([("map", "dust"), ("mode", "casual"), ("round", "3")]),
        "merged, nothing deleted"
    );
}

#[tokio::test]
async fn the_status_of_an_unknown_game_session_is_none() {
    let env = start(quiet()).await;
    let arn = unplaced_arn("never-placed");
    assert_eq!(status(&env.gl, &arn).await, None);
    let bob = players(&["bob"]);
    assert_fails(env.gl.create_player_sessions(&arn, &bob).await, NotFound);
}

#[tokio::test]
async fn a_call_over_the_api_rate_is_throttled() {
    let env = start(Model::default()).await; // throttling on: DescribeGameSessions allows a burst of 20
    let arn = unplaced_arn("nope");
    for _ in 0..20 {
        assert_eq!(status(&env.gl, &arn).await, None);
    }
    // The 21st in the same instant.
    let over = env.gl.game_session_status(&arn).await;
    assert_fails_with(over, Throttled, "ThrottlingException");
}

#[tokio::test]
async fn an_injected_quota_error_is_invalid_and_an_injected_throttle_is_throttled() {
    let env = start(quiet()).await;
    let id = placement_id("gl-any-1");
    for (code, want) in [
        ("LimitExceededException", Invalid),
        ("ThrottlingException", Throttled),
        ("UnauthorizedException", Invalid),
    ] {
        fail_always(&env.sim, "DescribeGameSessionPlacement", Some(code));
        assert_fails_with(env.gl.describe_placement(&id).await, want, code);
    }
}

#[tokio::test]
async fn an_injected_server_error_is_ambiguous_and_a_start_is_never_retried_by_the_sdk() {
    let env = start(quiet()).await;
    // A client as a Lambda would have it: the SDK's standard retries on (fast, for the test).
    let retries = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1));
    let gl = adapter(&env.server.endpoint(), retries, None);
    fail_always(&env.sim, "StartGameSessionPlacement", None);
    let p = request(placement("gl-5xx-1", 4, &[]));
    let start = gl.start_placement(&p).await;
    assert_fails_with(start, Ambiguous, "InternalServiceException");
    assert_eq!(
        env.sim.stats().faults_injected,
        1,
        "one attempt: a retry could be refused as a reused PlacementId"
    );

    // A describe is a read: the client's retries apply, then the failure is still ambiguous.
    fail_always(&env.sim, "DescribeGameSessionPlacement", None);
    let id = placement_id("gl-5xx-1");
    assert_fails(gl.describe_placement(&id).await, Ambiguous);
    assert_eq!(
        env.sim.stats().faults_injected,
        4,
        "three attempts of the describe"
    );
}

/// A join GameLift answers after 600 ms, asked by an adapter that waits 100 ms, is ambiguous.
async fn assert_a_slow_join_times_out(env: &Sim, arn: &GameSessionArn) {
    let wait = Some(Duration::from_millis(100));
    let impatient = adapter(&env.server.endpoint(), RetryConfig::disabled(), wait);
    let slow = FaultSpec {
        error_rate: 0.0,
        error_code: None,
        latency_ms: 600,
    };
    env.sim.set_fault("CreatePlayerSessions", slow);
    let bob = players(&["bob"]);
    assert_fails(impatient.create_player_sessions(arn, &bob).await, Ambiguous);
}

#[tokio::test]
async fn a_timeout_is_ambiguous() {
    let env = start(quiet()).await;
    let arn = placed(&env, placement("gl-slow-1", 4, &[])).await;
    assert_a_slow_join_times_out(&env, &arn).await;
}

#[tokio::test]
async fn a_refused_connection_is_ambiguous() {
    let endpoint = format!("http://127.0.0.1:{}", unused_port());
    let gl = adapter(&endpoint, RetryConfig::disabled(), None);
    let id = placement_id("gl-conn-1");
    assert_fails(gl.describe_placement(&id).await, Ambiguous);
}

#[tokio::test]
async fn a_session_homed_in_another_region_is_joined_described_updated_and_ended_there() {
    let env = start(quiet()).await;
    let arn = placed_in_eu(&env, "gl-home-1", &["alice"]).await;

    // The simulator is as strict as GameLift: the configured (us-east-1) client alone cannot see it.
    let raw = env
        .gl
        .client()
        .create_player_sessions()
        .game_session_id(arn.as_str())
        .player_ids("bob")
        .send()
        .await
        .expect_err("the session is not in us-east-1");
    assert_eq!(
        aws_sdk_gamelift::error::ProvideErrorMetadata::code(&raw),
        Some("NotFoundException")
    );

    let seats = env
        .gl
        .create_player_sessions(&arn, &players(&["bob", "carol"]))
        .await
        .expect("joined in eu-west-1");
    assert_eq!(seats.len(), 2);
    assert_eq!(
        status(&env.gl, &arn).await.as_deref(),
        Some("ACTIVE"),
        "the sweeper's describe finds it"
    );
    env.gl
        .update_game_session(&arn, Some("renamed"), &props(&[("round", "2")]))
        .await
        .expect("updated in eu-west-1");
    let described = env
        .sim
        .call_in(
            "eu-west-1",
            "DescribeGameSessions",
            serde_json::json!({"GameSessionId": arn.as_str()}),
        )
        .await
        .expect("describe");
    assert_eq!(described["GameSessions"][0]["Name"], "renamed");
    assert_eq!(described["GameSessions"][0]["CurrentPlayerSessionCount"], 3);
    env.gl
        .terminate_game_session(&arn)
        .await
        .expect("terminated in eu-west-1");
    assert_eq!(status(&env.gl, &arn).await.as_deref(), Some("TERMINATING"));
}

#[tokio::test]
async fn placements_go_to_the_queues_region_whatever_the_clients_region() {
    let env = start(quiet()).await;
    let eu_client = || {
        let conf = env
            .gl
            .client()
            .config()
            .to_builder()
            .region(SdkRegion::new("eu-west-1"))
            .build();
        Client::from_conf(conf)
    };
    // A queue named plainly lives in the client's Region: eu-west-1 has no `default-queue`.
    let by_name = SdkGameLift::new(eu_client(), DEFAULT_QUEUE);
    let p = request(placement("gl-qr-1", 4, &[]));
    assert_fails(by_name.start_placement(&p).await, NotFound);
    // Its ARN names us-east-1: start, describe and stop go there.
    let by_arn = SdkGameLift::new(
        eu_client(),
        format!("arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/{DEFAULT_QUEUE}"),
    );
    let id = started(&by_arn, placement("gl-qr-2", 4, &[])).await;
    let d = by_arn.describe_placement(&id).await.expect("described");
    assert_eq!(d.status, PlacementStatus::Pending);
    by_arn.stop_placement(&id).await.expect("stopped");
    assert_eq!(env.sim.placement_status(id.as_str()), Some("CANCELLED"));
}

#[tokio::test]
async fn a_regional_client_keeps_the_configured_timeout() {
    let env = start(quiet()).await;
    let arn = placed_in_eu(&env, "gl-slow-eu-1", &[]).await;
    assert_a_slow_join_times_out(&env, &arn).await;
}

/// Sets the session's policy to `joinable` and `protected`, then tries to seat `p-locked`.
async fn join_under_policy(
    env: &Sim,
    arn: &GameSessionArn,
    joinable: bool,
    protected: Option<bool>,
) -> Result<Vec<PlayerSession>, GameLiftError> {
    let policy = fleet_core::ports::SessionPolicy {
        joinable: Some(joinable),
        protected,
    };
    env.gl
        .set_session_policy(arn, &policy)
        .await
        .expect("policy set");
    let p_locked = players(&["p-locked"]);
    env.gl.create_player_sessions(arn, &p_locked).await
}

#[tokio::test]
async fn a_locked_session_refuses_player_sessions_until_it_is_unlocked() {
    let env = start(quiet()).await;
    let arn = placed(&env, placement("gl-lock-1", 4, &[])).await;

    let refused = join_under_policy(&env, &arn, false, None).await;
    // Unlocked and protected.
    let seated = join_under_policy(&env, &arn, true, Some(true)).await;

    assert_eq!(
        refused,
        Err(GameLiftError::Full),
        "DENY_ALL refuses like a full session"
    );
    assert_eq!(seated.map(|s| s.len()), Ok(1));
    let gs = described(&env, &arn).await;
    assert_eq!(
        gs.player_session_creation_policy().map(|p| p.as_str()),
        Some("ACCEPT_ALL")
    );
}

#[tokio::test]
async fn list_locations_reads_every_page_with_gamelifts_ping_beacons() {
    let env = start(quiet()).await;

    let locations = env.gl.list_locations().await.expect("list");

    let names: Vec<&str> = locations.iter().map(|l| l.location.as_str()).collect();
    assert!(
        names.contains(&"us-east-1") && names.contains(&"eu-west-1"),
        "{names:?}"
    );
    for l in &locations {
        let beacon = l.ping_beacon.as_ref().expect("AWS locations have a beacon");
        assert_eq!(
            (beacon.domain.as_str(), beacon.port),
            (
                format!("gamelift-ping.{}.api.aws", l.location).as_str(),
                7770
            )
        );
    }
}

#[tokio::test]
async fn connection_details_are_relay_endpoints_and_a_token_on_a_gateway_fleet_only() {
    let mut model = quiet();
    for f in &mut model.fleets {
        if f.id == DEFAULT_FLEET_EU {
            f.player_gateway_mode = gamelift_sim::PlayerGatewayMode::Enabled;
        }
    }
    let env = start(model).await;
    let direct = placed(&env, placement("gl-direct-1", 4, &["p-1"])).await;
    let relayed = placed_in_eu(&env, "gl-relay-1", &["p-2"]).await;

    let d = env
        .gl
        .player_connections(&direct, &[player("p-1")])
        .await
        .expect("direct");
    let r1 = env
        .gl
        .player_connections(&relayed, &[player("p-2"), player("p-3")])
        .await
        .expect("relayed");
    let r2 = env
        .gl
        .player_connections(&relayed, &[player("p-2")])
        .await
        .expect("relayed again");

    assert_eq!(d.len(), 1);
    assert_eq!((d[0].token.as_deref(), d[0].expires_at), (None, None));
    assert_eq!(d[0].endpoints.len(), 1, "the game server's own endpoint");
    assert_eq!(
        r1.iter().map(|c| c.player_id.as_str()).collect::<Vec<_>>(),
        vec!["p-2", "p-3"]
    );
    assert!(
        r1.iter()
            .all(|c| c.token.is_some() && c.expires_at.is_some() && !c.endpoints.is_empty())
    );
    assert_ne!(r1[0].token, r2[0].token, "a fresh token each call");
    let too_many: Vec<PlayerId> = (0..26).map(|i| player(&format!("p-{i}"))).collect();
    assert_fails(
        env.gl.player_connections(&relayed, &too_many).await,
        Invalid,
    );
}
