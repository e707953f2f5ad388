//! The handlers on the real parts: DynamoDB Local (from `scripts/test.sh`) and gamelift-sim, through the
//! real SDK clients. Placement events travel as the simulator publishes them (SNS envelopes) into an
//! SQS-shaped batch, exactly what the placement-events function receives in AWS.

use std::fmt::Display;
use std::time::Duration;

use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region as SdkRegion};
use fleet_aws::dynamo::{DynamoStore, create_table, local_client};
use fleet_aws::gamelift::SdkGameLift;
use fleet_core::fakes::{ManualClock, MemoryNotifier};
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet, UuidIds};
use fleet_functions::{api, placement_events, rpc};
use fleet_testkit::config::TestConfig;
use fleet_testkit::principals::SERVICE_ROLE;
use gamelift_sim::model::{DEFAULT_FLEET_US, DEFAULT_QUEUE};
use gamelift_sim::{Model, SimServer, Simulator};
use serde_json::json;

use crate::support_async::{sqs_event, sqs_record};
use fleet_core::time::Timestamp;

use crate::support_cases::{
    assert_seated_by_gamelift, placement_id, player_a, player_b, route, service,
};
use crate::support_http::{Answer, Ev, PLAYER_A, PLAYER_B, Who, encode};

const GAME_SERVER: &str =
    "arn:aws:sts::123456789012:assumed-role/sim-game-server/i-0123456789abcdef0";

pub(crate) type RealDeps =
    Deps<PortSet<DynamoStore, SdkGameLift, MemoryNotifier, ManualClock, UuidIds>>;

/// The handlers on DynamoDB Local and gamelift-sim (shared with the limits tests).
/// Held by the tests that load DynamoDB Local hard (thousands of items, fifty concurrent
/// transactions), so that within this binary they never run side by side: together they starve each
/// other's requests into timeouts that have nothing to do with what they test. (Under nextest, the
/// `dynamodb-heavy` test group of `.config/nextest.toml` does the same across binaries.)
pub(crate) static HEAVY_DYNAMODB: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) struct Stack {
    pub(crate) deps: RealDeps,
    pub(crate) sim: Simulator,
    pub(crate) events: tokio::sync::mpsc::Receiver<String>,
    _server: SimServer,
}

/// The configuration of [`spawn_stack`]: gamelift-sim's default queue, and its game-server role
/// serving its default fleet.
pub(crate) fn config() -> Config {
    config_with(
        DEFAULT_QUEUE,
        "arn:aws:iam::123456789012:role/sim-game-server",
        DEFAULT_FLEET_US,
    )
}

/// A configuration on the real parts: creates go to `queue`, the backend role is the service, and
/// `game_server_role` is the game servers of `fleet`.
pub(crate) fn config_with(queue: &str, game_server_role: &str, fleet: &str) -> Config {
    TestConfig::minimal()
        .cursor_secret("integration-cursor-secret")
        .queue(queue)
        .service_role(SERVICE_ROLE)
        .game_server_fleets(&[(game_server_role, &[fleet])])
        .build()
}

/// DynamoDB Local with a fresh table, gamelift-sim on a random port, and the handlers' dependencies
/// built from the real adapters as the Lambda binaries build them.
pub(crate) async fn spawn_stack() -> Stack {
    // Our clock and the simulator's start at the same instant, as real time would have it.
    let start = Timestamp::from_millis(gamelift_sim::ManualClock::DEFAULT_START_MILLIS);
    spawn_stack_on(Model::default(), start, config(), "it").await
}

/// [`spawn_stack`] over another simulator model, starting both clocks at `start`, with `config`
/// (the table is `<table_prefix>-<uuid>`).
pub(crate) async fn spawn_stack_on(
    model: Model,
    start: Timestamp,
    config: Config,
    table_prefix: &str,
) -> Stack {
    let url = std::env::var("FLEETLIFT_TEST_DYNAMODB")
        .expect("FLEETLIFT_TEST_DYNAMODB is not set: run the tests with scripts/test.sh, which starts DynamoDB Local");
    let dynamo = local_client(&url);
    let table = format!("{table_prefix}-{}", uuid::Uuid::new_v4());
    create_table(&dynamo, &table).await.expect("create table");

    let sim = Simulator::builder()
        .model(model)
        .clock(gamelift_sim::ManualClock::starting_at_millis(
            start.millis(),
        ))
        .build();
    let events = sim.events();
    let server = sim.serve("127.0.0.1:0").await.expect("serve the simulator");
    let gamelift = aws_sdk_gamelift::Client::from_conf(
        aws_sdk_gamelift::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(fleet_aws::clients::http_client())
            .region(SdkRegion::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .endpoint_url(server.endpoint())
            .build(),
    );
    let deps = Deps {
        store: DynamoStore::new(dynamo, table, config.cursor_secret.clone()),
        gamelift: SdkGameLift::new(gamelift, DEFAULT_QUEUE),
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(start),
        ids: UuidIds,
        config,
        cache: Default::default(),
    };
    Stack {
        deps,
        sim,
        events,
        _server: server,
    }
}

impl Stack {
    pub(crate) async fn api(&self, ev: Ev) -> Answer {
        Answer::of(api::handle(&self.deps, ev.request()).await)
    }

    pub(crate) async fn rpc(&self, ev: Ev) -> Answer {
        Answer::of(rpc::handle(&self.deps, ev.request()).await)
    }

    /// The DynamoDB Local client, for raw requests that show what the store's checks prevent.
    pub(crate) fn dynamo(&self) -> &aws_sdk_dynamodb::Client {
        self.deps.store.client()
    }

    /// The stack's table.
    pub(crate) fn table(&self) -> &str {
        self.deps.store.table()
    }

    /// `GET /v1/placements/{placement}` by `who`.
    pub(crate) async fn placement(&self, placement: &str, who: Who) -> Answer {
        self.api(route::get_placement(placement).by(who)).await
    }

    /// `GET /v1/sessions/{session}` by `who`.
    pub(crate) async fn session(&self, session: impl Display, who: Who) -> Answer {
        self.api(route::get_session(session).by(who)).await
    }

    /// `player` joins `session` itself.
    pub(crate) async fn join(&self, session: &str, player: &str) -> Answer {
        self.api(route::join(session, &[player]).by(Who::player(player)))
            .await
    }

    /// Lets the simulator place what is pending and returns the events it published.
    pub(crate) async fn next_events(&mut self) -> Vec<String> {
        self.sim
            .advance(Duration::from_secs(5))
            .await
            .expect("advance the simulator");
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }

    /// Delivers events as one SQS batch to the placement-events handler; returns the failed ids.
    pub(crate) async fn deliver(&self, bodies: &[String]) -> Vec<String> {
        let records = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| sqs_record(Some(&format!("m-{i}")), b))
            .collect();
        let response = placement_events::handle(&self.deps, sqs_event(records)).await;
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    /// Creates a session for `PLAYER_A` and returns (placement id, session id) once it is fulfilled.
    pub(crate) async fn create_fulfilled(
        &mut self,
        max_players: u32,
    ) -> (String, String, Vec<String>) {
        let body = json!({"maxPlayers": max_players, "players": [{"playerId": PLAYER_A}], "name": "it-lobby"});
        let created = self
            .api(route::create(body.to_string()).by(player_a()))
            .await;
        assert_eq!(created.status, 202, "{}", created.body);
        let placement = placement_id(&created);
        let events = self.next_events().await;
        assert_eq!(events.len(), 1, "one PlacementFulfilled");
        assert!(
            self.deliver(&events).await.is_empty(),
            "no batch item failures"
        );
        let got = self.placement(&placement, player_a()).await;
        assert_eq!(got.status, 200, "{}", got.body);
        let session = got.body["session"]["id"]
            .as_str()
            .expect("the placement carries its session")
            .to_owned();
        (placement, session, events)
    }
}

#[tokio::test]
async fn a_create_is_fulfilled_by_its_placement_event_with_the_session_and_the_players_own_player_session()
 {
    let mut stack = spawn_stack().await;
    let (placement, session, _) = stack.create_fulfilled(4).await;
    let got = stack.placement(&placement, player_a()).await;
    assert_eq!(got.body["status"], "FULFILLED");
    let ps = got.body["playerSessions"]
        .as_array()
        .expect("player sessions");
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0]["playerId"], PLAYER_A);
    assert!(
        ps[0]["playerSessionId"]
            .as_str()
            .is_some_and(|p| p.starts_with("psess-"))
    );

    let s = stack.session(&session, player_b()).await;
    assert_eq!(
        (
            s.status,
            s.body["status"].clone(),
            s.body["maxPlayers"].clone()
        ),
        (200, json!("ACTIVE"), json!(4))
    );
    assert_eq!(s.body["fleetId"], DEFAULT_FLEET_US);
    assert_eq!(s.body["openSlots"], 3, "the create's player holds a seat");
    // The same session by its ARN, percent-encoded in the path.
    let arn = s.body["arn"].as_str().expect("arn").to_owned();
    let by_arn = stack.session(encode(&arn), player_b()).await;
    assert_eq!(by_arn.body["id"], session.as_str());
    // Listed with nakama-gamelift's spelling.
    let list = stack
        .api(
            route::list()
                .query("query=%2Bvalue.player_count%3A0")
                .by(player_b()),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .any(|x| x["id"] == session.as_str())
    );
}

#[tokio::test]
async fn joins_reserve_seats_in_dynamodb_and_in_gamelift_until_full() {
    let mut stack = spawn_stack().await;
    let (_, session, _) = stack.create_fulfilled(3).await;
    let b = stack.join(&session, PLAYER_B).await;
    assert_seated_by_gamelift(&b, 1);
    let c = stack.join(&session, "player-c").await;
    assert_eq!(c.status, 200, "{}", c.body);
    let d = stack.join(&session, "player-d").await;
    d.assert_error(409, "conflict");
    let again = stack.join(&session, PLAYER_B).await;
    assert_eq!(
        again.status, 200,
        "a repeat answers the seat it holds: {}",
        again.body
    );
    assert_eq!(again.body["session"]["openSlots"], 0, "and takes no other");
}

#[tokio::test]
async fn status_rpcs_update_and_end_the_session_and_a_late_duplicate_event_changes_nothing() {
    let mut stack = spawn_stack().await;
    let (placement, session, events) = stack.create_fulfilled(8).await;
    let s = stack.session(&session, service()).await;
    let arn = s.body["arn"].as_str().expect("arn").to_owned();

    let update =
        json!({"id": arn, "playerCount": 3, "metadata": {"GameProperties": {"mode": "ranked"}}});
    stack
        .rpc(Ev::post("/v1/rpc/update_instance_info", update.to_string()).by(Who::iam(GAME_SERVER)))
        .await;
    let snake = json!({"id": session, "player_count": 5});
    let r = stack
        .rpc(Ev::post("/v1/rpc/update_instance_info", snake.to_string()).by(Who::iam(GAME_SERVER)))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let s = stack.session(&session, service()).await;
    assert_eq!(
        (
            s.body["playerCount"].clone(),
            s.body["properties"]["mode"].clone()
        ),
        (json!(5), json!("ranked"))
    );
    // GameLift got the new property through UpdateGameSession.
    let described = stack
        .sim
        .call("DescribeGameSessions", json!({"GameSessionId": arn}))
        .await
        .expect("describe in the simulator");
    let props = described.to_string();
    assert!(
        props.contains("ranked"),
        "GameLift has the property: {props}"
    );

    let del = stack
        .rpc(
            Ev::post(
                "/v1/rpc/delete_instance_info",
                json!({"id": arn}).to_string(),
            )
            .by(Who::iam(GAME_SERVER)),
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.body);
    // The placement event arrives again, late: nothing comes back to life.
    assert!(stack.deliver(&events).await.is_empty());
    let s = stack.session(&session, service()).await;
    assert_eq!(s.body["status"], "ENDED");
    let list = stack.api(route::list().by(service())).await;
    assert!(
        list.body["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .all(|x| x["id"] != session.as_str())
    );
    let join = stack.join(&session, PLAYER_B).await;
    join.assert_error(409, "conflict");
    let p = stack.placement(&placement, player_a()).await;
    assert_eq!(p.body["status"], "FULFILLED");
}

#[tokio::test]
async fn one_sqs_batch_of_fresh_events_with_a_duplicate_and_a_poison_message_fulfils_every_placement_on_dynamodb()
 {
    // The batch's outcomes are written together (shared transactions); the duplicate makes the
    // shared write fall back to one by one, and every record must still end as it would alone.
    let mut stack = spawn_stack().await;
    let mut placements = Vec::new();
    for i in 0..6 {
        let body = json!({"maxPlayers": 4, "players": [{"playerId": PLAYER_A}], "name": format!("batch-{i}")});
        // By the service: a player may hold only 3 PENDING placements.
        let created = stack
            .api(route::create(body.to_string()).by(service()))
            .await;
        assert_eq!(created.status, 202, "{}", created.body);
        placements.push(placement_id(&created));
    }
    let mut events = stack.next_events().await;
    assert_eq!(events.len(), 6, "one PlacementFulfilled per create");
    let fresh = events.clone();
    events.push(events[0].clone());
    events.push("not json".to_owned());
    assert!(
        stack.deliver(&events).await.is_empty(),
        "no batch item failures"
    );
    let mut sessions = std::collections::BTreeSet::new();
    for placement in &placements {
        let got = stack.placement(placement, player_a()).await;
        assert_eq!(got.body["status"], "FULFILLED", "{}", got.body);
        let session = got.body["session"]["id"]
            .as_str()
            .expect("the placement carries its session")
            .to_owned();
        let s = stack.session(&session, player_b()).await;
        assert_eq!(
            (s.status, s.body["openSlots"].clone()),
            (200, json!(3)),
            "{}",
            s.body
        );
        sessions.insert(session);
    }
    assert_eq!(sessions.len(), 6, "six distinct sessions");
    // The whole batch again, as a redelivery: all duplicates, nothing changes, nothing fails.
    assert!(stack.deliver(&fresh).await.is_empty());
}
