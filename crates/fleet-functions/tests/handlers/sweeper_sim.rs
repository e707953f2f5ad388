//! The sweeper at scale on the real parts: 10,000 sessions placed by gamelift-sim (virtual time), stored in
//! DynamoDB Local, reconciled through aws-sdk-gamelift in one run at GameLift's DescribeGameSessions rate.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fleet_core::ids::Region;
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::{SessionStore, StatusReport, SweepStore};
use fleet_core::time::Timestamp;
use fleet_functions::observability::Metrics;
use fleet_functions::sweeper::{self, SweepLimits};
use gamelift_sim::{FleetSpec, LocationSpec, Model, QueueSpec};
use serde_json::{Value, json};

use crate::integration::{config, spawn_stack_on};
use crate::support_cases::placed_session;

const FLEET: &str = "fleet-5ca1e000-0000-4000-8000-000000000001";
const QUEUE: &str = "scale-queue";
const SESSIONS: usize = 10_000;

/// One fleet homed in us-east-1 with a remote location, room for every session.
fn model() -> Model {
    let location = |name: &str| LocationSpec {
        location: name.into(),
        slots: 6_000,
    };
    Model {
        account_id: "123456789012".into(),
        throttling: false,
        fleets: vec![FleetSpec {
            id: FLEET.into(),
            region: "us-east-1".into(),
            locations: vec![location("us-east-1"), location("us-west-2")],
            player_gateway_mode: Default::default(),
        }],
        queues: vec![QueueSpec {
            name: QUEUE.into(),
            region: "us-east-1".into(),
            timeout_seconds: 600,
            destinations: vec![FLEET.into()],
            allowed_locations: None,
            priority_configuration: None,
        }],
        ..Model::default()
    }
}

async fn sim_call(stack: &crate::integration::Stack, op: &str, input: Value) -> Value {
    stack
        .sim
        .call(op, input)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e:?}"))
}

/// Every game session of the fleet, as DescribeGameSessions lists it (location by location).
async fn listed(stack: &crate::integration::Stack) -> Vec<Value> {
    let mut all = Vec::new();
    for location in ["us-east-1", "us-west-2"] {
        let mut token: Option<String> = None;
        loop {
            let mut input = json!({"FleetId": FLEET, "Location": location, "Limit": 100});
            if let Some(t) = &token {
                input["NextToken"] = json!(t);
            }
            let page = sim_call(stack, "DescribeGameSessions", input).await;
            all.extend(page["GameSessions"].as_array().unwrap().iter().cloned());
            match page["NextToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
    }
    all
}

/// Our record of a session GameLift placed, as its placement event would have written it.
fn ours(gs: &Value, created: Timestamp) -> Session {
    Session {
        region: Region::parse(gs["Location"].as_str().unwrap()).unwrap(),
        ip_address: gs["IpAddress"].as_str().unwrap_or("10.0.0.1").into(),
        dns_name: gs["DnsName"].as_str().unwrap_or("host.example").into(),
        ..placed_session(gs["GameSessionId"].as_str().unwrap(), created)
    }
}

/// `k` players join game session `arn` in the simulator (the `n`th session's players).
async fn seat(stack: &crate::integration::Stack, arn: &str, n: usize, k: usize) {
    let players: Vec<String> = (0..k).map(|p| format!("p-{n}-{p}")).collect();
    let input = json!({"GameSessionId": arn, "PlayerIds": players});
    sim_call(stack, "CreatePlayerSessions", input).await;
}

#[tokio::test]
async fn one_run_tombstones_every_ended_session_and_corrects_every_quiet_count_of_ten_thousand() {
    let _heavy = crate::integration::HEAVY_DYNAMODB.lock().await;
    let start = Timestamp::from_millis(gamelift_sim::ManualClock::DEFAULT_START_MILLIS);
    let stack = spawn_stack_on(model(), start, config(), "sweep-scale").await;
    for n in 0..SESSIONS {
        sim_call(
            &stack,
            "StartGameSessionPlacement",
            json!({"PlacementId": format!("scale-{n}"), "GameSessionQueueName": QUEUE,
                   "MaximumPlayerSessionCount": 8}),
        )
        .await;
    }
    stack.sim.advance(Duration::from_secs(60)).await.unwrap();
    let sessions = listed(&stack).await;
    assert_eq!(sessions.len(), SESSIONS, "every placement fulfilled");
    let ours: Vec<Session> = sessions.iter().map(|gs| ours(gs, start)).collect();
    stack.deps.store.seed_sessions(&ours).await.unwrap();

    // An hour later (our clock): one session in twenty ended in GameLift; one in twenty has three
    // players whose server stopped reporting; one in twenty has two in GameLift but its server reported
    // one ten seconds ago (its report stands).
    stack.deps.clock.advance_secs(3_600);
    let now = start.plus_secs(3_600);
    let mut want: BTreeMap<String, (SessionStatus, u32)> = BTreeMap::new();
    for (n, s) in ours.iter().enumerate() {
        let arn = s.arn.as_str();
        let expected = match n % 20 {
            0 => {
                sim_call(
                    &stack,
                    "TerminateGameSession",
                    json!({"GameSessionId": arn}),
                )
                .await;
                (SessionStatus::Ended, 0)
            }
            1 => {
                seat(&stack, arn, n, 3).await;
                (SessionStatus::Active, 3)
            }
            2 => {
                seat(&stack, arn, n, 2).await;
                let report = StatusReport {
                    player_count: Some(1),
                    ..StatusReport::default()
                };
                stack
                    .deps
                    .store
                    .apply_report(&s.arn, &report, now.plus_secs(-10))
                    .await
                    .unwrap();
                (SessionStatus::Active, 1)
            }
            _ => (SessionStatus::Active, 0),
        };
        want.insert(s.id.to_string(), expected);
    }

    let limits = SweepLimits::from_config(&stack.deps.config);
    let mut metrics = Metrics::new(sweeper::FUNCTION);
    let began = Instant::now();
    // A deadline far off: this test is about coverage and calls, not speed (a loaded CI machine makes
    // DynamoDB Local slow); the cycle is computed from the calls at GameLift's rate below.
    let summary = sweeper::sweep(
        &stack.deps.store,
        &stack.deps.gamelift,
        &stack.deps.clock,
        &limits,
        began + Duration::from_secs(900),
        &mut metrics,
    )
    .await
    .unwrap();

    let pages = SESSIONS.div_ceil(100) as u32;
    assert!(!summary.stopped_early, "{summary:?}");
    assert_eq!(summary.ended_sessions, (SESSIONS / 20) as u32);
    assert_eq!(summary.corrected_counts, (SESSIONS / 20) as u32);
    // 100 sessions a call: the pages of each location, nothing per session.
    assert!(
        summary.gamelift_calls <= pages + 2,
        "{} calls for {pages} pages",
        summary.gamelift_calls
    );
    // Paced at GameLift's DescribeGameSessions rate, so the cycle is calls / 20 per second.
    let cycle = f64::from(summary.gamelift_calls) / sweeper::DESCRIBE_SESSIONS_PER_SEC;
    assert!(cycle <= 300.0, "cycle {cycle} s");
    assert!(
        began.elapsed().as_secs_f64() >= cycle - 1.5,
        "the calls were paced at ≤ 20/s"
    );
    // What the table lists as ACTIVE afterwards (ten pages, not ten thousand reads).
    let mut active: BTreeMap<String, Session> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = stack
            .deps
            .store
            .oldest_sessions(1_000, after.as_deref())
            .await
            .unwrap();
        active.extend(page.sessions.into_iter().map(|s| (s.id.to_string(), s)));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(active.len(), SESSIONS - SESSIONS / 20);
    for (id, (status, players)) in &want {
        match (status, active.get(id)) {
            (SessionStatus::Ended, None) => {}
            (SessionStatus::Active, Some(got)) => {
                assert_eq!(got.player_count, *players, "{}", got.arn);
                assert_eq!(got.open_slots, 8 - players, "{}", got.arn);
            }
            (want, got) => panic!("{id}: expected {want:?}, listed {got:?}"),
        }
    }
    // Ten thousand sessions with their index entries weigh on the DynamoDB Local every other test
    // shares: drop the table once the test has passed.
    stack
        .dynamo()
        .delete_table()
        .table_name(stack.table())
        .send()
        .await
        .unwrap();
}
