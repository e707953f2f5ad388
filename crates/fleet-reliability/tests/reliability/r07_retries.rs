//! R07 retries: every outbound call is tried at most its allowed number of times, a call that must not
//! be repeated is tried once, and the backoff fits the Lambda deadline.
//!
//! * `SdkGameLift` through the real aws-sdk-gamelift with the production client's retry configuration
//!   (the SDK's standard mode, 3 attempts) against gamelift-sim, a fault switch failing one operation
//!   on every call with a 500 (`InternalServiceException`, `ServiceUnavailableException`), a throttle
//!   (`ThrottlingException`) or a refusal (`InvalidRequestException`). The simulator counts attempts
//!   (`faults_injected`). StartGameSessionPlacement, CreatePlayerSessions and StopGameSessionPlacement
//!   must be attempted exactly once, whatever the error (a repeat could double an effect or be refused
//!   as a reuse); DescribeGameSessionPlacement at most 3 times, a refusal once; every call returns
//!   within the functions' 10 s timeout (template.yaml's `Globals.Function.Timeout`).
//! * `ApiGatewayNotifier` through aws-sdk-apigatewaymanagement against a fake `@connections` API: a
//!   connection that always answers 429 gets at most `MAX_ATTEMPTS` (4) attempts within
//!   `RETRY_BUDGET` (1 s) plus the last attempt; 429 twice then 200 gets 3 attempts and delivers;
//!   410, 413 and 403 get one attempt each.

use std::time::{Duration, Instant};

use fleet_aws::gamelift::SdkGameLift;
use fleet_aws::notifier::{ApiGatewayNotifier, MAX_ATTEMPTS, RETRY_BUDGET};
use fleet_core::ids::GameSessionArn;
use fleet_core::ports::{GameLift, Notifier, StartPlacement};
use fleet_reliability::fixtures::{self, placement};
use fleet_reliability::scorecard;
use fleet_testkit::connections;
use gamelift_sim::FaultSpec;
use gamelift_sim::model::DEFAULT_QUEUE;

use crate::support;

/// The functions' Lambda timeout (template.yaml, `Globals.Function.Timeout`).
const LAMBDA_DEADLINE: Duration = Duration::from_secs(10);

/// The SDK's standard retry mode: attempts per call, the first included.
const SDK_MAX_ATTEMPTS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gamelift_calls_that_must_not_repeat_are_tried_once_and_reads_at_most_the_sdk_maximum() {
    let sim = support::quiet_simulator();
    let server = sim.serve("127.0.0.1:0").await.expect("serve");
    let gl = SdkGameLift::new(support::simulator_client(&server.endpoint()), DEFAULT_QUEUE);
    let session = GameSessionArn::parse(&format!(
        "arn:aws:gamelift:us-east-1::gamesession/{}/gsess-r07",
        gamelift_sim::model::DEFAULT_FLEET_US
    ))
    .expect("arn");

    let codes = [
        "InternalServiceException",
        "ServiceUnavailableException",
        "ThrottlingException",
        "InvalidRequestException",
    ];
    let ops = [
        "StartGameSessionPlacement",
        "CreatePlayerSessions",
        "StopGameSessionPlacement",
        "DescribeGameSessionPlacement",
    ];
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut worst = Duration::ZERO;
    let mut seen = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for (j, code) in codes.iter().enumerate() {
            sim.clear_faults();
            sim.set_fault(
                op,
                FaultSpec {
                    error_rate: 1.0,
                    error_code: Some((*code).to_owned()),
                    latency_ms: 0,
                },
            );
            let before = sim.stats().faults_injected;
            let p = placement("r07", &format!("p{i}{j}"), 8, &["ann"]);
            let started = Instant::now();
            let result = match *op {
                "StartGameSessionPlacement" => gl
                    .start_placement(&StartPlacement {
                        placement: p.clone(),
                    })
                    .await
                    .map(|_| ()),
                "CreatePlayerSessions" => gl
                    .create_player_sessions(&session, &[(fixtures::player("ann"), None)])
                    .await
                    .map(|_| ()),
                "StopGameSessionPlacement" => gl.stop_placement(&p.placement_id).await,
                _ => gl.describe_placement(&p.placement_id).await.map(|_| ()),
            };
            let took = started.elapsed();
            worst = worst.max(took);
            let attempts = sim.stats().faults_injected - before;
            tried += 1;
            let retryable_read =
                *op == "DescribeGameSessionPlacement" && *code != "InvalidRequestException";
            let ok = if retryable_read {
                (1..=SDK_MAX_ATTEMPTS).contains(&attempts)
            } else {
                attempts == 1
            };
            if !ok {
                violations.push(format!("{op} failing with {code}: {attempts} attempts"));
            }
            if result.is_ok() {
                violations.push(format!("{op} failing with {code}: answered Ok"));
            }
            if took >= LAMBDA_DEADLINE {
                violations.push(format!(
                    "{op} failing with {code}: {took:?}, past the {LAMBDA_DEADLINE:?} deadline"
                ));
            }
            seen.push(format!("{}/{}:{attempts}", short(op), short(code)));
        }
    }
    sim.clear_faults();
    let detail = format!(
        "attempts per op/error {}; slowest call {} ms",
        seen.join(" "),
        worst.as_millis()
    );
    scorecard::finish("R07 retries (GameLift)", tried, &violations, &detail);
}

/// A short name for the scorecard.
fn short(s: &str) -> &str {
    match s {
        "StartGameSessionPlacement" => "start",
        "CreatePlayerSessions" => "players",
        "StopGameSessionPlacement" => "stop",
        "DescribeGameSessionPlacement" => "describe",
        "InternalServiceException" => "500",
        "ServiceUnavailableException" => "503",
        "ThrottlingException" => "throttle",
        "InvalidRequestException" => "invalid",
        other => other,
    }
}

// ---------------------------------------------------------------- a fake @connections API

/// A notifier on a fresh fake of the `@connections` API, built as the local stack builds its clients,
/// and the fake's log.
async fn fake() -> (ApiGatewayNotifier, connections::Log) {
    let (endpoint, log) = connections::serve().await;
    let shared = fleet_local::local::sdk_config();
    let client = fleet_aws::clients::apigw_management(&shared, &endpoint);
    (ApiGatewayNotifier::new(client), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_retry_throttles_within_the_budget_and_nothing_else() {
    let (n, log) = fake().await;
    let trials = 10 * scorecard::scale() as usize;
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut worst = Duration::ZERO;
    // The last attempt starts within the budget; allow it (a local round trip) on top.
    let allowed = RETRY_BUDGET + Duration::from_millis(250);
    for t in 0..trials {
        let id = format!("busy-forever-{t}");
        let started = Instant::now();
        let r = n.send(&id, b"{}").await;
        let took = started.elapsed();
        worst = worst.max(took);
        let a = log.attempts(&id);
        tried += 1;
        if r.is_ok() || a == 0 || a > MAX_ATTEMPTS as usize {
            violations.push(format!("{id}: {a} attempts, {r:?}"));
        }
        if took > allowed {
            violations.push(format!("{id}: {took:?} retrying, budget {RETRY_BUDGET:?}"));
        }
        let id = format!("busy-2-{t}");
        let r = n.send(&id, b"{}").await;
        tried += 1;
        if r.is_err() || log.attempts(&id) != 3 {
            violations.push(format!("{id}: {} attempts, {r:?}", log.attempts(&id)));
        }
        for kind in ["gone", "big", "forbidden"] {
            let id = format!("{kind}-{t}");
            let r = n.send(&id, b"{}").await;
            tried += 1;
            if r.is_ok() || log.attempts(&id) != 1 {
                violations.push(format!("{id}: {} attempts, {r:?}", log.attempts(&id)));
            }
        }
    }
    let detail = format!(
        "429 always: ≤ {MAX_ATTEMPTS} attempts, slowest {} ms (budget {} ms); 429×2: 3 attempts; 410/413/403: 1 attempt",
        worst.as_millis(),
        RETRY_BUDGET.as_millis()
    );
    scorecard::finish("R07 retries (notifier)", tried, &violations, &detail);
}

// ---------------------------------------------------------------- the store on DynamoDB Local

/// Attempts one store call may make of one DynamoDB operation: the SDK's 3 per request times the
/// store's own read-decide-write loop (`fleet_aws::dynamo::store::ATTEMPTS`, 12).
const STORE_CALL_MAX_ATTEMPTS: u32 = 3 * 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_calls_under_persistent_dynamodb_faults_stop_within_their_attempt_bound() {
    use fleet_core::ports::{SessionKey, SessionStore as _, StatusReport};
    use fleet_reliability::faults::{FaultInterceptor, FaultKind, FaultPlan, dynamodb_client};
    use fleet_reliability::model::{self, Action, Script};

    let faults = FaultInterceptor::new();
    let store =
        support::spawn_store_with(dynamodb_client(&support::endpoint(), &faults), "r07").await;
    let ns = "r07";
    let script = Script {
        name: "one session".into(),
        placements: vec!["a".into()],
        actions: vec![Action::Fulfilled {
            placement: "a".into(),
            session: 1,
            players: vec!["ann".into()],
            end_s: 3,
        }],
    };
    model::setup(&store, ns, &script).await;
    model::deliver(&store, ns, &script.actions[0], "m-1").await;
    let arn = fixtures::arn(ns, 1);
    let id = arn.session_id();
    let now = fixtures::T0.plus_secs(10);

    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut most = 0u32;
    let mut slowest = Duration::ZERO;
    for op in [
        "TransactWriteItems",
        "UpdateItem",
        "PutItem",
        "GetItem",
        "Query",
    ] {
        for kind in [FaultKind::Throttle, FaultKind::Unavailable] {
            for call in [
                "reserve_seats",
                "apply_report",
                "release_seats",
                "end_session",
                "get_session",
                "create_placement",
            ] {
                faults.plan(Some(FaultPlan {
                    operation: op.to_owned(),
                    occurrence: 0,
                    kind,
                    attempts: 10_000,
                }));
                let started = Instant::now();
                let _ = match call {
                    "reserve_seats" => store
                        .reserve_seats(&id, &[fixtures::player("bob")], now, now.plus_secs(60))
                        .await
                        .map(|_| ()),
                    "apply_report" => {
                        let r = StatusReport {
                            player_count: Some(2),
                            ..StatusReport::default()
                        };
                        store.apply_report(&arn, &r, now).await.map(|_| ())
                    }
                    "release_seats" => store
                        .release_seats(&id, &[fixtures::player("ann")], now)
                        .await
                        .map(|_| ()),
                    "end_session" => store
                        .end_session(SessionKey::Arn(&arn), now.plus_secs(3600))
                        .await
                        .map(|_| ()),
                    "get_session" => store.get_session(&id).await.map(|_| ()),
                    _ => store
                        .create_placement(&placement(ns, &format!("n-{op}-{kind:?}"), 8, &[]), None)
                        .await
                        .map(|_| ()),
                };
                let took = started.elapsed();
                let attempts = faults.attempts().get(op).copied().unwrap_or(0);
                faults.plan(None);
                tried += 1;
                most = most.max(attempts);
                slowest = slowest.max(took);
                if attempts > STORE_CALL_MAX_ATTEMPTS {
                    violations.push(format!(
                        "{call} with {op} failing ({kind:?}): {attempts} attempts"
                    ));
                }
                if took >= LAMBDA_DEADLINE {
                    violations.push(format!("{call} with {op} failing ({kind:?}): {took:?}"));
                }
            }
        }
    }
    let detail = format!(
        "most attempts of the faulted operation in one store call {most} (bound {STORE_CALL_MAX_ATTEMPTS}); slowest {} ms",
        slowest.as_millis()
    );
    scorecard::finish("R07 retries (store)", tried, &violations, &detail);
}
