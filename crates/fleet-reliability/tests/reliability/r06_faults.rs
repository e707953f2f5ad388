//! R06 faults (I9, with I1 I2 I3 I10 I11 through the audit): a fault injected at each call of each
//! operation, one cell at a time, each on a fresh DynamoDB Local table.
//!
//! * **DynamoDB**: for each handler operation (create, join, get, list, `update_instance_info`,
//!   `delete_instance_info`, a placement event) a clean run counts the attempts it makes of each
//!   DynamoDB operation; then, for each of those attempts (by index) × {throttle, 500 before the
//!   effect, lost answer after the effect, timeout after the effect}, `fleet_reliability::faults` fails
//!   that attempt and every later one of that operation (outlasting the SDK's 3 attempts). The HTTP
//!   answer must be 429 or 503, or the clean run's own answer (a fault the handler can live with),
//!   never a 500 nor another status; an SQS record must be in `batchItemFailures` unless it was
//!   applied. A full table audit follows, then the same request again without the fault (the same
//!   `Idempotency-Key` for a create), which must get the clean run's answer (a join whose seat was
//!   written before its answer was lost may find the player seated: 409), and a second audit; a
//!   create must leave exactly one placement for its key (I10).
//! * **GameLift**: the handlers on DynamoDB Local and gamelift-sim (`SdkGameLift`, the SDK's standard
//!   retries), the simulator's fault switch failing every call of one operation with a 500
//!   (`InternalServiceException`) or a throttle (`ThrottlingException`): StartGameSessionPlacement and
//!   DescribeGameSessionPlacement under a create, CreatePlayerSessions under a join, UpdateGameSession
//!   under `update_instance_info`, TerminateGameSession under a terminating delete. Same checks; the
//!   retry of a create uses a new key (a placement GameLift refused is FAILED for its key).

use std::collections::BTreeMap;
use std::time::Duration;

use fleet_aws::dynamo::DynamoStore;
use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, SequentialIds};
use fleet_core::ports::{GameLift, SessionStore as _};
use fleet_functions::deps::{Deps, PortSet, UuidIds};
use fleet_functions::placement_events;
use fleet_reliability::faults::{self, FaultInterceptor, FaultKind, FaultPlan};
use fleet_reliability::fixtures::{
    T0, arn, fulfilled_body, pid, placement, sqs_batch, sqs_event, sqs_record,
};
use fleet_reliability::{audit, scorecard};
use gamelift_sim::{FaultSpec, Simulator};
use serde_json::json;

use crate::support::{self, SimDeps};
use crate::support_http::{
    Answer, Ev, GS_OWN, SERVICE, Who, api, config, create_body, encode, join_body, rpc,
};

type FaultDeps =
    Deps<PortSet<DynamoStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

const OPS: [&str; 7] = [
    "create",
    "join",
    "get",
    "list",
    "update_instance_info",
    "delete_instance_info",
    "placement event",
];

/// A world: session 1 of `ns` ACTIVE (placed for ann, 4 places), placement `q` still PENDING.
async fn world(ns: &str) -> (FaultDeps, FaultInterceptor) {
    let faults = FaultInterceptor::new();
    let store = support::spawn_store_with(
        faults::dynamodb_client(&support::endpoint(), &faults),
        "r06",
    )
    .await;
    let gamelift = FakeGameLift::new();
    gamelift.add_session(&arn(ns, 1), "ACTIVE", 4);
    gamelift.add_session(&arn(ns, 2), "ACTIVE", 4);
    let deps: FaultDeps = Deps {
        store,
        gamelift,
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(T0.plus_secs(5)),
        ids: SequentialIds::default(),
        config: config(),
        cache: Default::default(),
    };
    for name in ["p", "q"] {
        let mut p = placement(ns, name, 4, &["ann"]);
        p.requester = "ann".into();
        deps.store
            .create_placement(&p, None)
            .await
            .unwrap_or_else(|e| panic!("seed {name}: {e}"));
    }
    let body = fulfilled_body(ns, "p", 1, &["ann"], T0.plus_secs(2));
    let (r, _) =
        placement_events::process(&deps.store, sqs_event(vec![sqs_record("seed", &body, 1)])).await;
    assert!(r.batch_item_failures.is_empty(), "seed event applied");
    (deps, faults)
}

/// What an operation answered: an HTTP status, or for the event whether its record failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Http(u16, String),
    Sqs { failed: bool },
}

async fn run(d: &FaultDeps, ns: &str, op: &str) -> Outcome {
    let a = arn(ns, 1);
    let sid = a.session_id().into_string();
    let http = |x: Answer| Outcome::Http(x.status, x.code().to_owned());
    match op {
        "create" => http(
            api(
                d,
                Ev::post("/v1/sessions", create_body(4, &["ann"]))
                    .header("Idempotency-Key", "r06-key-1")
                    .by(Who::player("ann")),
            )
            .await,
        ),
        "join" => http(
            api(
                d,
                Ev::post(&format!("/v1/sessions/{sid}/join"), join_body(&["bob"]))
                    .by(Who::player("bob")),
            )
            .await,
        ),
        "get" => http(
            api(
                d,
                Ev::get(&format!("/v1/sessions/{sid}")).by(Who::player("bob")),
            )
            .await,
        ),
        "list" => http(api(d, Ev::get("/v1/sessions").by(Who::player("bob"))).await),
        "update_instance_info" => http(
            rpc(
                d,
                Ev::post(
                    "/v1/rpc/update_instance_info",
                    json!({"id": a.as_str(), "playerCount": 2}).to_string(),
                )
                .by(Who::iam(GS_OWN)),
            )
            .await,
        ),
        "delete_instance_info" => http(
            rpc(
                d,
                Ev::post(
                    "/v1/rpc/delete_instance_info",
                    json!({"id": a.as_str()}).to_string(),
                )
                .by(Who::iam(GS_OWN)),
            )
            .await,
        ),
        _ => {
            let body = fulfilled_body(ns, "q", 2, &["ann"], T0.plus_secs(3));
            let (r, _) =
                placement_events::process(&d.store, sqs_event(vec![sqs_record("ev-q", &body, 1)]))
                    .await;
            Outcome::Sqs {
                failed: !r.batch_item_failures.is_empty(),
            }
        }
    }
}

/// The table audit plus the row's own checks (one placement per key; the event's placement applied
/// once acknowledged).
async fn check(d: &FaultDeps, ns: &str, op: &str, acknowledged: bool) -> Vec<String> {
    let (snap, mut v) = audit::dynamo(&d.store).await;
    if op == "create" && snap.placements.len() > 3 {
        v.push(format!(
            "I10: {} placements for one key",
            snap.placements.len() - 2
        ));
    }
    if op == "placement event" && acknowledged {
        let q = d.store.get_placement(&pid(ns, "q")).await.ok().flatten();
        if !q.as_ref().is_some_and(|q| q.status.is_terminal()) {
            v.push("the event was acknowledged but not applied".into());
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_fault_at_any_call_of_any_operation_is_a_429_or_503_or_a_retry_with_no_partial_state()
 {
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut answers: BTreeMap<String, u32> = BTreeMap::new();
    let mut per_op = Vec::new();
    for (k, op) in OPS.iter().enumerate() {
        let ns = format!("f{k}");
        // The clean run: its answer and the calls it makes.
        let (d, faults) = world(&ns).await;
        faults.plan(None);
        let clean = run(&d, &ns, op).await;
        let calls = faults.attempts();
        let mut cells = 0;
        for (operation, count) in &calls {
            for occurrence in 0..*count {
                for kind in FaultKind::ALL {
                    let cell = format!("{op} / {operation}#{occurrence} / {kind:?}");
                    let (d, faults) = world(&ns).await;
                    faults.plan(Some(FaultPlan {
                        operation: operation.clone(),
                        occurrence,
                        kind,
                        attempts: 10,
                    }));
                    let first = run(&d, &ns, op).await;
                    faults.plan(None);
                    tried += 1;
                    cells += 1;
                    let acknowledged = match &first {
                        Outcome::Http(s, _) => {
                            *answers.entry(s.to_string()).or_insert(0) += 1;
                            if !(*s == 429 || *s == 503 || first == clean) {
                                violations.push(format!(
                                    "{cell}: answered {first:?}, clean run {clean:?}"
                                ));
                            }
                            true
                        }
                        Outcome::Sqs { failed } => {
                            *answers
                                .entry(
                                    if *failed {
                                        "batchItemFailure"
                                    } else {
                                        "acknowledged"
                                    }
                                    .into(),
                                )
                                .or_insert(0) += 1;
                            !failed
                        }
                    };
                    violations.extend(
                        check(&d, &ns, op, acknowledged)
                            .await
                            .into_iter()
                            .map(|v| format!("{cell}: after the fault: {v}")),
                    );
                    let again = run(&d, &ns, op).await;
                    // A join that took effect (the fault hit after the seat was written, or hit
                    // only the best-effort record of GameLift's player sessions, so the first answer
                    // was the clean 200) leaves the player seated: a repeat may then find the seat
                    // without its player session and is refused as already seated.
                    let seated = *op == "join"
                        && (kind.takes_effect() || first == clean)
                        && again == Outcome::Http(409, "conflict".into());
                    let ok = match (&again, &clean) {
                        (Outcome::Sqs { failed }, _) => !failed,
                        _ => again == clean || seated,
                    };
                    if !ok {
                        violations.push(format!(
                            "{cell}: the retry answered {again:?}, clean run {clean:?}"
                        ));
                    }
                    violations.extend(
                        check(&d, &ns, op, true)
                            .await
                            .into_iter()
                            .map(|v| format!("{cell}: after the retry: {v}")),
                    );
                }
            }
        }
        let calls: Vec<String> = calls.iter().map(|(o, n)| format!("{o}×{n}")).collect();
        per_op.push(format!("{op} {} ({cells})", calls.join("+")));
    }
    let detail = format!(
        "cells = calls × 4 kinds: {}; first answers {}",
        per_op.join(", "),
        scorecard::tally(&answers)
    );
    scorecard::finish("R06 faults DynamoDB", tried, &violations, &detail);
}

/// A world on gamelift-sim: one session placed for ann through the handlers. Returns its ARN.
async fn sim_world() -> (SimDeps, Simulator, gamelift_sim::SimServer, String) {
    let sim = support::quiet_simulator();
    let mut events = sim.events();
    let store = support::spawn_store("r06gl").await;
    let (d, server) = support::on_simulator(&sim, store, support::sim_config()).await;
    let a = api(
        &d,
        Ev::post("/v1/sessions", create_body(4, &["ann"])).by(Who::player("ann")),
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.body);
    let placement = a.body["placementId"]
        .as_str()
        .expect("placementId")
        .to_owned();
    sim.advance(Duration::from_secs(5)).await.expect("advance");
    d.clock.advance_secs(5);
    let bodies = support::published(&mut events);
    let r = placement_events::handle(&d, sqs_batch("s", &bodies)).await;
    assert!(r.batch_item_failures.is_empty());
    let p = d
        .store
        .get_placement(&fleet_core::ids::PlacementId::parse(&placement).expect("id"))
        .await
        .expect("get")
        .expect("placement");
    let sid = p.session_id.expect("fulfilled");
    let s = d
        .store
        .get_session(&sid)
        .await
        .expect("get")
        .expect("session");
    (d, sim, server, s.arn.as_str().to_owned())
}

async fn sim_run<G: GameLift>(
    d: &Deps<PortSet<DynamoStore, G, MemoryNotifier, ManualClock, UuidIds>>,
    op: &str,
    arn: &str,
    key: &str,
) -> Answer {
    match op {
        "create" => {
            api(
                d,
                Ev::post("/v1/sessions", create_body(4, &["cat"]))
                    .header("Idempotency-Key", key)
                    .by(Who::player("cat")),
            )
            .await
        }
        "join" => {
            api(
                d,
                Ev::post(
                    &format!("/v1/sessions/{}/join", encode(arn)),
                    join_body(&["bob"]),
                )
                .by(Who::player("bob")),
            )
            .await
        }
        "update_instance_info" => {
            let body = json!({"id": arn, "playerCount": 2, "metadata": {"GameProperties": {"mode": "r06"}}});
            rpc(
                d,
                Ev::post("/v1/rpc/update_instance_info", body.to_string()).by(Who::iam(GS_OWN)),
            )
            .await
        }
        _ => {
            api(
                d,
                Ev::delete(&format!("/v1/sessions/{}", encode(arn)))
                    .query("terminate=true")
                    .by(Who::iam(SERVICE)),
            )
            .await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gamelift_error_or_throttle_on_any_operation_is_a_429_or_503_with_no_partial_state() {
    let cells = [
        ("create", "StartGameSessionPlacement"),
        ("create", "DescribeGameSessionPlacement"),
        ("join", "CreatePlayerSessions"),
        ("update_instance_info", "UpdateGameSession"),
        ("delete terminate", "TerminateGameSession"),
    ];
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut answers: BTreeMap<u16, u32> = BTreeMap::new();
    let mut calls_faulted = 0;
    let mut per_cell = Vec::new();
    for (op, gl_op) in cells {
        for code in ["InternalServiceException", "ThrottlingException"] {
            let cell = format!("{op} / {gl_op} / {code}");
            let (d, sim, _server, arn) = sim_world().await;
            let clean_status = match op {
                "create" => 202,
                "join" => 200,
                "update_instance_info" => 204,
                _ => 204,
            };
            let before = sim.stats().faults_injected;
            if gl_op == "DescribeGameSessionPlacement" {
                // Describe is only asked after an ambiguous start.
                let ambiguous = FaultSpec {
                    error_rate: 1.0,
                    error_code: Some("InternalServiceException".into()),
                    latency_ms: 0,
                };
                sim.set_fault("StartGameSessionPlacement", ambiguous);
            }
            sim.set_fault(
                gl_op,
                FaultSpec {
                    error_rate: 1.0,
                    error_code: Some(code.to_owned()),
                    latency_ms: 0,
                },
            );
            let first = sim_run(&d, op, &arn, "r06-k1").await;
            sim.clear_faults();
            let faulted = sim.stats().faults_injected - before;
            calls_faulted += faulted;
            tried += 1;
            *answers.entry(first.status).or_insert(0) += 1;
            per_cell.push(format!(
                "{gl_op} {}→{}",
                if code.starts_with("Throttling") {
                    "throttle"
                } else {
                    "500"
                },
                first.status
            ));
            if !(first.status == 429 || first.status == 503 || first.status == clean_status) {
                violations.push(format!("{cell}: answered {} {}", first.status, first.body));
            }
            let (_, v) = audit::dynamo(&d.store).await;
            violations.extend(
                v.into_iter()
                    .map(|v| format!("{cell}: after the fault: {v}")),
            );
            let again = sim_run(&d, op, &arn, "r06-k2").await;
            let ok =
                again.status == clean_status || (op == "delete terminate" && again.status == 204);
            if !ok {
                violations.push(format!(
                    "{cell}: the retry answered {} {}",
                    again.status, again.body
                ));
            }
            let (_, v) = audit::dynamo(&d.store).await;
            violations.extend(
                v.into_iter()
                    .map(|v| format!("{cell}: after the retry: {v}")),
            );
        }
    }
    let detail = format!(
        "5 operations × {{500, throttle}}; {calls_faulted} calls faulted; first answers {}: {}",
        scorecard::tally(&answers),
        per_cell.join(", ")
    );
    scorecard::finish("R06 faults GameLift", tried, &violations, &detail);
}
