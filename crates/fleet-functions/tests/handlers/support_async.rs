//! Shared set-up of the asynchronous functions' tests (placement-events, ws, notifier, sweeper): the
//! sample events of `events/`, placements as a create stores them, fakes wired into `Deps`, and a store
//! wrapper that fails chosen calls the way DynamoDB does.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Mutex;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use fleet_core::fakes::{
    FakeGameLift, FaultyStore, ManualClock, MemoryNotifier, MemoryStore, SequentialIds, StoreCall,
    StoreFaults, StoreOp,
};
use fleet_core::ids::PlacementId;
use fleet_core::model::Placement;
use fleet_core::ports::{CreateOutcome, SessionStore, StoreError};
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet};
use fleet_testkit::config::TestConfig;

pub use fleet_testkit::T0;

/// The deps of a test: every port faked.
pub type TestDeps<S = MemoryStore> =
    Deps<PortSet<S, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

/// A sample event file's text (`events/<path>`).
pub fn event_text(path: &str) -> String {
    let full = format!("{}/../../events/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A sample event file, deserialized.
pub fn event<T: serde::de::DeserializeOwned>(path: &str) -> T {
    serde_json::from_str(&event_text(path)).unwrap_or_else(|e| panic!("events/{path}: {e}"))
}

/// The sample files of a folder of `events/` (sorted, no sub-folders).
pub fn event_files(dir: &str) -> Vec<String> {
    let full = format!("{}/../../events/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&full)
        .unwrap_or_else(|e| panic!("{full}: {e}"))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
        .collect();
    names.sort();
    names
}

/// One SQS record carrying `body`, as the event source mapping delivers it.
pub fn sqs_record(message_id: Option<&str>, body: &str) -> SqsMessage {
    let mut v = serde_json::json!({
        "receiptHandle": "AQEBexample",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fleetlift-placement-events",
        "awsRegion": "us-east-1",
    });
    if let Some(id) = message_id {
        v["messageId"] = id.into();
    }
    serde_json::from_value(v).expect("an SQS record")
}

/// An SQS event of these records.
pub fn sqs_event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

pub fn pid(s: &str) -> PlacementId {
    PlacementId::parse(s).expect("valid placement id")
}

/// A PENDING placement as a create stores it: requested by `requester`, naming `players`, cap 8,
/// named `lobby`, started at [`T0`] with a deadline 11 minutes later.
pub fn placement(id: &str, requester: &str, players: &[&str]) -> Placement {
    Placement {
        name: Some("lobby".into()),
        ..fleet_testkit::records::placement(id, requester, 8, players)
    }
}

/// Stores PENDING placements.
pub async fn seed(store: &impl SessionStore, placements: &[Placement]) {
    for p in placements {
        let out = store
            .create_placement(p, None)
            .await
            .expect("create placement");
        assert_eq!(out, CreateOutcome::Created, "{}", p.placement_id);
    }
}

/// The configuration every test uses: a table, a cursor secret and a sweep budget of 50 sessions.
pub fn config() -> Config {
    TestConfig::minimal()
        .table("fleetlift-test")
        .cursor_secret("0123456789abcdef-test")
        .sweep_budget(50)
        .build()
}

/// Deps on `store` with fresh fakes, the clock at [`T0`].
pub fn deps_with<S>(store: S) -> TestDeps<S> {
    Deps {
        store,
        gamelift: FakeGameLift::new(),
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(T0),
        ids: SequentialIds::default(),
        config: config(),
        cache: Default::default(),
    }
}

/// Deps on an empty in-memory store.
pub fn deps() -> TestDeps {
    deps_with(MemoryStore::new())
}

/// A store that answers like `inner` except for the placements a test names, whose reads and writes
/// fail with DynamoDB's transient error (throttling) or a permanent one (a corrupt item).
pub type FlakyStore<S> = FaultyStore<S, PlacementFaults>;

/// `inner`, with no fault yet.
pub fn flaky<S>(inner: S) -> FlakyStore<S> {
    FaultyStore::new(inner, PlacementFaults::default())
}

/// The faults of a [`FlakyStore`]: by placement, and on the connection lookups.
#[derive(Default)]
pub struct PlacementFaults {
    throttled: Mutex<BTreeSet<String>>,
    corrupt: Mutex<BTreeSet<String>>,
    too_large: Mutex<BTreeSet<String>>,
    lookups_throttled: Mutex<bool>,
}

impl PlacementFaults {
    /// The connection lookups (a user's connections, a placement's subscribers) fail with
    /// `StoreError::Throttled` while `on`; every other call answers as before.
    pub fn throttle_lookups(&self, on: bool) {
        *self.lookups_throttled.lock().unwrap() = on;
    }

    /// Calls about `placement` fail with `StoreError::Throttled` from now on.
    pub fn throttle(&self, placement: &str) {
        self.throttled.lock().unwrap().insert(placement.to_owned());
    }

    /// Calls about `placement` fail with `StoreError::Corrupt` from now on.
    pub fn corrupt(&self, placement: &str) {
        self.corrupt.lock().unwrap().insert(placement.to_owned());
    }

    /// Fulfilments of `placement` are refused for good, as DynamoDB refuses an item over 400 KB
    /// (`StoreError::Refused`); its other writes succeed.
    pub fn refuse_fulfilment(&self, placement: &str) {
        self.too_large.lock().unwrap().insert(placement.to_owned());
    }

    /// Calls about `placement` succeed again.
    pub fn heal(&self, placement: &str) {
        self.throttled.lock().unwrap().remove(placement);
        self.corrupt.lock().unwrap().remove(placement);
    }
}

impl StoreFaults for PlacementFaults {
    fn fault(&self, call: &StoreCall<'_>) -> Option<StoreError> {
        if matches!(call.op, StoreOp::ConnectionsOf | StoreOp::Subscribers)
            && *self.lookups_throttled.lock().unwrap()
        {
            return Some(StoreError::Throttled(
                "ProvisionedThroughputExceededException on a connection lookup".into(),
            ));
        }
        // The placement's own item: its create, reads and finish (not its subscriptions).
        let key = match (call.op, call.placement) {
            (
                StoreOp::CreatePlacement | StoreOp::GetPlacement | StoreOp::FinishPlacement,
                Some(p),
            ) => p.as_str(),
            _ => return None,
        };
        if self.throttled.lock().unwrap().contains(key) {
            return Some(StoreError::Throttled(format!(
                "ProvisionedThroughputExceededException on P#{key}"
            )));
        }
        if self.corrupt.lock().unwrap().contains(key) {
            return Some(StoreError::Corrupt {
                key: format!("P#{key}/P"),
                reason: "missing field status".into(),
            });
        }
        if call.fulfilment && self.too_large.lock().unwrap().contains(key) {
            return Some(StoreError::Refused(
                "ValidationException: Item size has exceeded the maximum allowed size".into(),
            ));
        }
        None
    }
}

/// A notifier that answers like `inner` except for the connections a test makes fail transiently
/// (API Gateway's 429 after retries).
pub struct FlakyNotifier<N> {
    /// The real (recording) notifier.
    pub inner: N,
    failing: Mutex<BTreeSet<String>>,
}

impl<N> FlakyNotifier<N> {
    pub fn new(inner: N) -> Self {
        Self {
            inner,
            failing: Mutex::default(),
        }
    }

    /// Pushes to `connection` fail with `NotifyError::Throttled` until healed.
    pub fn fail(&self, connection: &str) {
        self.failing.lock().unwrap().insert(connection.to_owned());
    }

    /// Pushes to `connection` go through again.
    pub fn heal(&self, connection: &str) {
        self.failing.lock().unwrap().remove(connection);
    }
}

impl<N: fleet_core::ports::Notifier> fleet_core::ports::Notifier for FlakyNotifier<N> {
    async fn send(
        &self,
        connection: &str,
        payload: &[u8],
    ) -> Result<(), fleet_core::ports::NotifyError> {
        if self.failing.lock().unwrap().contains(connection) {
            return Err(fleet_core::ports::NotifyError::Throttled);
        }
        self.inner.send(connection, payload).await
    }
}

/// The messages sent to `connection`, as JSON.
pub fn messages_to(notifier: &MemoryNotifier, connection: &str) -> Vec<serde_json::Value> {
    notifier
        .sent()
        .into_iter()
        .filter(|(c, _)| c == connection)
        .map(|(_, payload)| serde_json::from_slice(&payload).expect("pushed messages are JSON"))
        .collect()
}

pub fn conn(s: &str) -> fleet_core::ids::ConnectionId {
    fleet_core::ids::ConnectionId::parse(s).expect("valid connection id")
}

/// A live connection row for `user`, as `$connect` writes it at [`T0`].
pub async fn connect_user(
    store: &impl fleet_core::ports::ConnectionStore,
    connection: &str,
    user: &str,
) {
    let row = fleet_core::ports::Connection {
        id: conn(connection),
        user: user.to_owned(),
        connected_at: T0,
        expires_at: T0.plus_secs(7200),
    };
    store.put_connection(&row).await.expect("put connection");
}

/// Applies a sample placement event (`events/placement/<file>`) through the placement-events handler.
pub async fn apply_sample(store: &impl SessionStore, file: &str) {
    let record = sqs_record(Some("m-apply"), &event_text(&format!("placement/{file}")));
    let (response, _) =
        fleet_functions::placement_events::process(store, sqs_event(vec![record])).await;
    assert!(response.batch_item_failures.is_empty(), "{file} applied");
}

/// The placement of `events/placement/sns-fulfilled.json` and `events/stream/placement-fulfilled.json`:
/// requested by player-6f1d2a, naming player-6f1d2a and player-9b3e4c.
pub const FULFILLED_ID: &str = "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a50";
/// The placement of `events/placement/sns-timed-out.json` and `events/stream/placement-timed-out.json`.
pub const TIMED_OUT_ID: &str = "8e2d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c60";
/// The requester of the sample placements.
pub const REQUESTER: &str = "player-6f1d2a";
/// The other listed player of the sample placements.
pub const OTHER_PLAYER: &str = "player-9b3e4c";

/// Seeds the two sample placements, PENDING, as fleet-api would have created them.
pub async fn seed_samples(store: &impl SessionStore) {
    seed(
        store,
        &[
            placement(FULFILLED_ID, REQUESTER, &[REQUESTER, OTHER_PLAYER]),
            placement(TIMED_OUT_ID, REQUESTER, &[REQUESTER, OTHER_PLAYER]),
        ],
    )
    .await;
}
