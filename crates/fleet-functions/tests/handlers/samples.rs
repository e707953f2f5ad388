//! Every sample of `events/` is a valid input for the system and, for the API samples, for GameLift: each is
//! sent through its handler on the real parts (DynamoDB Local from `scripts/test.sh`, gamelift-sim through
//! aws-sdk-gamelift) and must succeed. The samples meant to fail say so in their path
//! (`events/placement/poison/`, `sqs/batch-poison.json`, `*-unknown-type.json`, `*-invalid.json`) and must
//! be refused or ignored without a retry. A file added to `events/` without a case here fails
//! `every_sample_file_has_a_case`.
//!
//! Why on gamelift-sim: the fakes accept any request, and the player-create sample once combined
//! `latencies` with `regions`, which GameLift refuses; only the simulator (as strict as GameLift) noticed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use fleet_core::ids::PlacementId;
use fleet_core::model::PlacementStatus;
use fleet_core::ports::{ConnectionStore, SessionStore};
use fleet_functions::config::{Config, JwtConfig, JwtKeys};
use fleet_functions::ws_authorizer::TokenVerifier;
use fleet_functions::{api, notifier, placement_events, rpc, sweeper, ws, ws_authorizer};
use gamelift_sim::{FleetSpec, LocationSpec, Model, PriorityConfiguration, QueueSpec};
use serde_json::{Value, json};

use crate::integration::{Stack, config_with, spawn_stack_on};
use crate::support_async::{OTHER_PLAYER, REQUESTER, connect_user, event, event_text};
use crate::support_http::{
    ARN_1, Answer, F1, PLAYER_A, SAMPLE_PLACEMENT, T0, placement, short_id, to_request,
};

const QUEUE: &str = "default-queue";

/// The samples' world: their fleet F1 (us-east-1) behind the queue their events name, which prioritises
/// LOCATION as the queue template.yaml creates does.
fn model() -> Model {
    Model {
        account_id: "123456789012".into(),
        throttling: false,
        fleets: vec![FleetSpec {
            id: F1.into(),
            region: "us-east-1".into(),
            locations: vec![LocationSpec {
                location: "us-east-1".into(),
                slots: 20,
            }],
            player_gateway_mode: Default::default(),
        }],
        queues: vec![QueueSpec {
            name: QUEUE.into(),
            region: "us-east-1".into(),
            timeout_seconds: 600,
            destinations: vec![F1.into()],
            allowed_locations: None,
            priority_configuration: Some(PriorityConfiguration::location_first()),
        }],
        ..Model::default()
    }
}

/// The principals of the samples: the backend role, the game-server role of fleet F1, and the JWT
/// settings of `events/ws/authorizer.json`'s token.
fn config() -> Config {
    config_with(
        QUEUE,
        "arn:aws:iam::123456789012:role/fleetlift-game-server",
        F1,
    )
}

/// DynamoDB Local with a fresh table, gamelift-sim with the samples' fleet, the handlers' dependencies.
async fn stack() -> Stack {
    spawn_stack_on(model(), T0, config(), "samples").await
}

impl Stack {
    async fn status(&self, id: &str) -> PlacementStatus {
        let id = PlacementId::parse(id).expect("placement id");
        self.deps
            .store
            .get_placement(&id)
            .await
            .expect("read the placement")
            .unwrap_or_else(|| panic!("placement {id} is stored"))
            .status
    }

    /// The world the API samples assume: their session (ARN_1, fleet F1) live in GameLift, and
    /// fulfilled in the table from their placement (SAMPLE_PLACEMENT, requested by PLAYER_A).
    async fn seed_api_world(&mut self) {
        // GameLift names a placed session after its placement: placing `gsess-…` makes ARN_1 itself.
        let game_session = ARN_1.rsplit('/').next().expect("ARN_1 has a session part");
        self.sim
            .call(
                "StartGameSessionPlacement",
                json!({"PlacementId": game_session, "GameSessionQueueName": QUEUE, "MaximumPlayerSessionCount": 8}),
            )
            .await
            .expect("the simulator places the samples' session");
        let events = self.next_events().await;
        assert_eq!(
            events.len(),
            1,
            "one PlacementFulfilled for the samples' session"
        );
        self.deps
            .store
            .create_placement(&placement(SAMPLE_PLACEMENT, PLAYER_A, &[]), None)
            .await
            .expect("store the samples' placement");
        // The same fulfilment, for the placement the samples know.
        let mut envelope: Value = serde_json::from_str(&events[0]).expect("an SNS envelope");
        let mut inner: Value =
            serde_json::from_str(envelope["Message"].as_str().expect("Message")).expect("event");
        assert_eq!(inner["detail"]["gameSessionArn"], ARN_1);
        inner["detail"]["placementId"] = json!(SAMPLE_PLACEMENT);
        envelope["Message"] = json!(inner.to_string());
        assert!(self.deliver(&[envelope.to_string()]).await.is_empty());
        assert_eq!(
            self.status(SAMPLE_PLACEMENT).await,
            PlacementStatus::Fulfilled
        );
    }
}

/// `events/api/<name>`, its handler, and the status it must get.
const API_SAMPLES: [(&str, bool, u16); 10] = [
    ("create-player.json", false, 202),
    ("create-service.json", false, 202),
    ("get-placement.json", false, 200),
    ("get-session.json", false, 200),
    ("list.json", false, 200),
    ("join.json", false, 200),
    ("delete-session.json", false, 204),
    ("rpc-update-instance-info.json", true, 204),
    ("rpc-update-instance-info-snake.json", true, 204),
    ("rpc-delete-instance-info.json", true, 204),
];

#[tokio::test]
async fn every_api_sample_succeeds_on_dynamodb_and_gamelift_sim_and_every_create_is_fulfilled() {
    for (name, is_rpc, want) in API_SAMPLES {
        let mut stack = stack().await;
        stack.seed_api_world().await;
        let request = to_request(&event_text(&format!("api/{name}")));
        let answer = if is_rpc {
            Answer::of(rpc::handle(&stack.deps, request).await)
        } else {
            Answer::of(api::handle(&stack.deps, request).await)
        };
        assert_eq!(answer.status, want, "{name}: {}", answer.body);
        if let Some(id) = answer.body["placementId"].as_str() {
            // Accepted by the API is not enough: GameLift must accept the placement too.
            let events = stack.next_events().await;
            assert!(stack.deliver(&events).await.is_empty(), "{name}");
            assert_eq!(
                stack.status(id).await,
                PlacementStatus::Fulfilled,
                "{name}: GameLift placed it (a FAILED placement is a request GameLift refused)"
            );
        }
    }
}

/// Every `placementId` with its event `type` in a sample, looking into the JSON strings SNS and SQS wrap
/// events in (`Message`, `body`).
fn placements_in(v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(o) => {
            if let (Some(Value::String(id)), Some(Value::String(t))) =
                (o.get("placementId"), o.get("type"))
            {
                out.insert(id.clone(), t.clone());
            }
            o.values().for_each(|x| placements_in(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| placements_in(x, out)),
        Value::String(s) if s.trim_start().starts_with('{') => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                placements_in(&inner, out);
            }
        }
        _ => {}
    }
}

fn placements_of(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        placements_in(&v, &mut out);
    }
    out
}

/// The status a placement event of this type leaves; `None` for a type GameLift may add later, which is
/// acknowledged and ignored.
fn status_after(event_type: &str) -> Option<PlacementStatus> {
    match event_type {
        "PlacementFulfilled" => Some(PlacementStatus::Fulfilled),
        "PlacementTimedOut" => Some(PlacementStatus::TimedOut),
        "PlacementCancelled" => Some(PlacementStatus::Cancelled),
        "PlacementFailed" => Some(PlacementStatus::Failed),
        _ => None,
    }
}

/// Seeds PENDING placements for every placement a sample names, as fleet-api would have stored them.
async fn seed_placements(stack: &Stack, ids: impl IntoIterator<Item = String>) {
    for id in ids {
        stack
            .deps
            .store
            .create_placement(&placement(&id, REQUESTER, &[REQUESTER, OTHER_PLAYER]), None)
            .await
            .expect("store the placement");
    }
}

fn placement_sample_files() -> Vec<String> {
    let dir = format!("{}/../../events/placement", env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for sub in ["", "poison/"] {
        for e in std::fs::read_dir(format!("{dir}/{sub}")).expect("events/placement") {
            let path = e.expect("entry").path();
            if path.is_file() {
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                files.push(format!("placement/{sub}{name}"));
            }
        }
    }
    files.sort();
    files
}

/// Samples meant to fail, by name: refused (quarantined, never retried) or, for an event type GameLift
/// may add later, acknowledged without effect.
fn meant_to_fail(file: &str) -> bool {
    file.contains("/poison/")
        || file.contains("poison")
        || file.ends_with("-invalid.json")
        || file.ends_with("-unknown-type.json")
}

#[tokio::test]
async fn every_placement_event_sample_applies_on_dynamodb_and_every_poison_one_changes_nothing() {
    for file in placement_sample_files() {
        let stack = stack().await;
        let text = event_text(&file);
        let named = placements_of(&text);
        seed_placements(&stack, named.keys().cloned()).await;
        let failed = stack.deliver(&[text]).await;
        assert!(
            failed.is_empty(),
            "{file}: never returned to the queue, even when refused"
        );
        for (id, event_type) in &named {
            let want = match status_after(event_type) {
                Some(s) if !meant_to_fail(&file) => s,
                _ => PlacementStatus::Pending,
            };
            assert_eq!(stack.status(id).await, want, "{file}: placement {id}");
        }
        if !meant_to_fail(&file) {
            assert!(!named.is_empty(), "{file} names its placement");
        }
    }
}

#[tokio::test]
async fn every_sqs_batch_sample_applies_its_good_records_and_retries_none() {
    for name in [
        "batch-eventbridge.json",
        "batch-sns.json",
        "batch-poison.json",
    ] {
        let stack = stack().await;
        let text = event_text(&format!("sqs/{name}"));
        let named = placements_of(&text);
        seed_placements(&stack, named.keys().cloned()).await;
        let batch: SqsEvent = event(&format!("sqs/{name}"));
        let records = batch.records.len();
        let response = placement_events::handle(&stack.deps, batch).await;
        assert!(response.batch_item_failures.is_empty(), "{name}");
        for (id, event_type) in &named {
            let want = status_after(event_type).unwrap_or(PlacementStatus::Pending);
            assert_eq!(
                stack.status(id).await,
                want,
                "{name} ({records} records): {id}"
            );
        }
    }
}

#[tokio::test]
async fn the_stream_samples_push_their_result_to_the_requesters_connection() {
    for (stream, applied) in [
        ("stream/placement-fulfilled.json", "sns-fulfilled.json"),
        ("stream/placement-timed-out.json", "sns-timed-out.json"),
    ] {
        let stack = stack().await;
        // The table as it is when the stream record is written: the placement, its event applied, and
        // the requester connected.
        let event_file = format!("placement/{applied}");
        let named = placements_of(&event_text(&event_file));
        seed_placements(&stack, named.keys().cloned()).await;
        assert!(stack.deliver(&[event_text(&event_file)]).await.is_empty());
        connect_user(&stack.deps.store, "conn-samples-1", REQUESTER).await;
        let record: StreamEvent = event(stream);
        let response = notifier::handle(&stack.deps, record).await;
        assert!(response.batch_item_failures.is_empty(), "{stream}");
        let pushed: Vec<Value> = stack
            .deps
            .notifier
            .sent()
            .into_iter()
            .filter(|(c, _)| c == "conn-samples-1")
            .map(|(_, p)| serde_json::from_slice(&p).expect("JSON"))
            .collect();
        let id = named.keys().next().expect("the sample's placement");
        assert!(
            pushed
                .iter()
                .any(|m| m["type"] == "placement" && m["placementId"] == id.as_str()),
            "{stream}: pushed {pushed:?}"
        );
    }
}

#[tokio::test]
async fn the_websocket_samples_connect_subscribe_and_disconnect_on_dynamodb() {
    let stack = stack().await;
    let subscribe: ApiGatewayWebsocketProxyRequest = event("ws/subscribe.json");
    let body: Value =
        serde_json::from_str(subscribe.body.as_deref().unwrap_or_default()).expect("a JSON body");
    let watched = body["placementId"].as_str().expect("the watched placement");
    seed_placements(&stack, [watched.to_owned()]).await;
    for (file, want) in [
        ("ws/connect.json", 200),
        ("ws/subscribe.json", 200),
        ("ws/disconnect.json", 200),
    ] {
        let request: ApiGatewayWebsocketProxyRequest = if file == "ws/subscribe.json" {
            subscribe.clone()
        } else {
            event(file)
        };
        let r = ws::handle(&stack.deps, request).await;
        assert_eq!(r.status_code, want, "{file}");
        if file == "ws/connect.json" {
            let rows = stack
                .deps
                .store
                .connections_of(REQUESTER, T0)
                .await
                .expect("read the connections");
            assert_eq!(rows.len(), 1, "{file} wrote the requester's connection");
        }
    }
    assert!(
        stack
            .deps
            .store
            .connections_of(REQUESTER, T0)
            .await
            .expect("read the connections")
            .is_empty(),
        "ws/disconnect.json deleted it"
    );

    // The $connect authorizer's sample carries a token of the local stack's development issuer.
    let verifier = TokenVerifier::new(&JwtConfig {
        issuer: "fleetlift-local".into(),
        audience: "fleetlift".into(),
        keys: JwtKeys {
            hs256_secret: Some(b"fleetlift-local-dev-key-not-secret".to_vec()),
            ..JwtKeys::default()
        },
    })
    .expect("a verifier");
    let request: ApiGatewayCustomAuthorizerRequestTypeRequest = event("ws/authorizer.json");
    let response = ws_authorizer::handle(&stack.deps, &verifier, request).await;
    let v = serde_json::to_value(&response).expect("JSON");
    assert_eq!(
        v["policyDocument"]["Statement"][0]["Effect"], "Allow",
        "{v}"
    );
    assert_eq!(v["principalId"], REQUESTER);
}

#[tokio::test]
async fn the_schedule_sample_runs_a_sweep_on_dynamodb_and_gamelift_sim() {
    let mut stack = stack().await;
    stack.seed_api_world().await;
    let scheduled: EventBridgeEvent = event("schedule/sweeper.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    let summary = sweeper::handle(&stack.deps, scheduled, deadline).await;
    assert!(summary.is_ok(), "{summary:?}");
    // The samples' session is still live in GameLift: the sweep left it alone.
    let session = fleet_core::ids::SessionId::parse(&short_id(ARN_1)).expect("session id");
    let s = stack
        .deps
        .store
        .get_session(&session)
        .await
        .expect("read")
        .expect("the samples' session");
    assert_eq!(s.status, fleet_core::model::SessionStatus::Active);
}

#[test]
fn every_sample_file_has_a_case() {
    let root = format!("{}/../../events", env!("CARGO_MANIFEST_DIR"));
    let mut all = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(&root)];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).expect("events/") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(&root).expect("under events/");
                all.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut covered: BTreeSet<String> = API_SAMPLES
        .iter()
        .map(|(n, _, _)| format!("api/{n}"))
        .collect();
    covered.extend(placement_sample_files());
    covered.extend(
        [
            "sqs/batch-eventbridge.json",
            "sqs/batch-sns.json",
            "sqs/batch-poison.json",
            "stream/placement-fulfilled.json",
            "stream/placement-timed-out.json",
            "ws/connect.json",
            "ws/subscribe.json",
            "ws/disconnect.json",
            "ws/authorizer.json",
            "schedule/sweeper.json",
        ]
        .map(String::from),
    );
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "samples without a case in tests/handlers/samples.rs: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&all).collect();
    assert!(stale.is_empty(), "cases without a sample: {stale:?}");
}
