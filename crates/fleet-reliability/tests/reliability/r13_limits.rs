//! R13 limits (I6 I10, with the audit): every input the limits allow works end to end, or is refused
//! with a 4xx naming the field; nothing is lost or retried forever.
//!
//! * **A create whose answer was lost** (DynamoDB Local with `fleet_reliability::faults` on the
//!   store's client, gamelift-sim through `SdkGameLift`): the create's TransactWriteItems takes
//!   effect but its answer is lost (a 500 or a timeout after the write), on the first attempt only
//!   (the SDK's retry finds the write done) or on every attempt (the client gets 503 and retries with
//!   the same `Idempotency-Key`). Either way the placement must end FULFILLED, with its session, after
//!   exactly one StartGameSessionPlacement that GameLift accepted, and the table must pass the audit.

use std::time::Duration;

use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region as SdkRegion};
use fleet_aws::dynamo::DynamoStore;
use fleet_aws::gamelift::SdkGameLift;
use fleet_core::fakes::{ManualClock, MemoryNotifier};
use fleet_core::ids::PlacementId;
use fleet_core::model::PlacementStatus;
use fleet_core::ports::SessionStore as _;
use fleet_core::time::Timestamp;
use fleet_functions::deps::{Deps, UuidIds};
use fleet_functions::placement_events;
use fleet_reliability::faults::{self, FaultInterceptor, FaultKind, FaultPlan};
use fleet_reliability::fixtures::{sqs_event, sqs_record};
use fleet_reliability::{audit, scorecard};
use gamelift_sim::model::DEFAULT_QUEUE;
use gamelift_sim::{Model, SimServer, Simulator};

use crate::support;
use crate::support_http::{Ev, Who, api, config, create_body};

type SimDeps = Deps<DynamoStore, SdkGameLift, MemoryNotifier, ManualClock, UuidIds>;

/// The handlers on a faulted DynamoDB Local client and on gamelift-sim, with the simulator's events.
struct World {
    deps: SimDeps,
    faults: FaultInterceptor,
    sim: Simulator,
    events: tokio::sync::mpsc::Receiver<String>,
    _server: SimServer,
}

async fn world(tag: &str) -> World {
    let faults = FaultInterceptor::new();
    let store =
        support::spawn_store_with(faults::dynamodb_client(&support::endpoint(), &faults), tag)
            .await;
    let sim = Simulator::builder()
        .model(Model {
            throttling: false,
            ..Model::default()
        })
        .clock(gamelift_sim::ManualClock::new())
        .build();
    let events = sim.events();
    let server = sim.serve("127.0.0.1:0").await.expect("serve the simulator");
    let client = aws_sdk_gamelift::Client::from_conf(
        aws_sdk_gamelift::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(SdkRegion::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .endpoint_url(server.endpoint())
            .build(),
    );
    World {
        deps: Deps {
            store,
            gamelift: SdkGameLift::new(client, DEFAULT_QUEUE),
            notifier: MemoryNotifier::default(),
            clock: ManualClock::new(Timestamp::from_millis(
                gamelift_sim::ManualClock::DEFAULT_START_MILLIS,
            )),
            ids: UuidIds,
            config: config(),
        },
        faults,
        sim,
        events,
        _server: server,
    }
}

impl World {
    /// Lets the simulator place what is pending and delivers its events to placement-events.
    async fn settle(&mut self) -> bool {
        self.sim
            .advance(Duration::from_secs(5))
            .await
            .expect("advance the simulator");
        self.deps.clock.advance_secs(5);
        let mut bodies = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            bodies.push(e);
        }
        let records = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| sqs_record(&format!("e{i}"), b, 1))
            .collect();
        placement_events::handle(&self.deps, sqs_event(records))
            .await
            .batch_item_failures
            .is_empty()
    }
}

/// One cell: the create's write takes effect and its answer is lost on `attempts` attempts.
async fn lost_create(kind: FaultKind, attempts: u32) -> (String, Vec<String>) {
    let mut w = world("r13lost").await;
    let mut v = Vec::new();
    let create = || {
        Ev::post("/v1/sessions", create_body(4, &["ann"]))
            .header("Idempotency-Key", "r13-key")
            .by(Who::player("ann"))
    };
    w.faults.plan(Some(FaultPlan {
        operation: "TransactWriteItems".into(),
        occurrence: 0,
        kind,
        attempts,
    }));
    let first = api(&w.deps, create()).await;
    w.faults.plan(None);
    let mut answers = vec![first.status.to_string()];
    let placement = match first.status {
        202 => first.body["placementId"].as_str().map(str::to_owned),
        503 => {
            let retry = api(&w.deps, create()).await;
            answers.push(retry.status.to_string());
            if retry.status != 202 {
                v.push(format!(
                    "the retry answered {}: {}",
                    retry.status, retry.body
                ));
            }
            retry.body["placementId"].as_str().map(str::to_owned)
        }
        other => {
            v.push(format!(
                "the first attempt answered {other}: {}",
                first.body
            ));
            None
        }
    };
    if !w.settle().await {
        v.push("a placement event was not applied".into());
    }
    match placement.as_deref().map(PlacementId::parse) {
        Some(Ok(id)) => match w.deps.store.get_placement(&id).await {
            Ok(Some(p)) if p.status == PlacementStatus::Fulfilled && p.session_id.is_some() => {}
            other => v.push(format!("the placement did not end FULFILLED: {other:?}")),
        },
        _ => v.push("no placement id was answered".into()),
    }
    let started = w.sim.stats().placements_started;
    if started != 1 {
        v.push(format!(
            "{started} StartGameSessionPlacement accepted, not 1"
        ));
    }
    let (snap, audit_v) = audit::dynamo(&w.deps.store).await;
    v.extend(audit_v);
    if snap.placements.len() != 1 {
        v.push(format!("{} placements for one key", snap.placements.len()));
    }
    (format!("{kind:?}×{attempts} → {}", answers.join("→")), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_ends_fulfilled_after_one_start() {
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut cells = Vec::new();
    for kind in [FaultKind::LostAnswer, FaultKind::Timeout] {
        // 1: the SDK's own retry finds the write done; 99: every attempt fails, the client retries.
        for attempts in [1, 99] {
            tried += 1;
            let (cell, v) = lost_create(kind, attempts).await;
            violations.extend(v.into_iter().map(|x| format!("{cell}: {x}")));
            cells.push(cell);
        }
    }
    scorecard::record(
        "R13 limits lost create",
        tried,
        violations.len() as u64,
        &format!(
            "answers {}; each FULFILLED after 1 accepted start",
            cells.join(", ")
        ),
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
