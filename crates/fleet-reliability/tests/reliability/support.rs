//! Shared set-up: DynamoDB Local tables and stores, and handlers on DynamoDB with gamelift-sim.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use fleet_aws::dynamo::{DynamoStore, create_table, local_client};
use fleet_aws::gamelift::SdkGameLift;
use fleet_core::fakes::{ManualClock, MemoryNotifier};
use fleet_core::time::Timestamp;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet, UuidIds};
use gamelift_sim::model::DEFAULT_QUEUE;
use gamelift_sim::{SimServer, Simulator};

/// The DynamoDB Local endpoint the test script exported.
pub fn endpoint() -> String {
    std::env::var("FLEETLIFT_TEST_DYNAMODB").unwrap_or_else(|_| {
        panic!("FLEETLIFT_TEST_DYNAMODB is not set: run with scripts/test.sh or scripts/with-dynamodb.sh, which start DynamoDB Local")
    })
}

/// A fresh table name.
pub fn table_name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "rel-{tag}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        uuid::Uuid::new_v4().simple()
    )
}

/// A store on a new, empty table.
pub async fn spawn_store(tag: &str) -> DynamoStore {
    let client = local_client(&endpoint());
    let table = table_name(tag);
    create_table(&client, &table).await.expect("create table");
    DynamoStore::new(client, table, b"reliability-cursor-secret".to_vec())
}

/// A store on a new table reached through `client` (e.g. one with faults installed).
pub async fn spawn_store_with(client: aws_sdk_dynamodb::Client, tag: &str) -> DynamoStore {
    let table = table_name(tag);
    create_table(&local_client(&endpoint()), &table)
        .await
        .expect("create table");
    DynamoStore::new(client, table, b"reliability-cursor-secret".to_vec())
}

/// A unique namespace for ids.
pub fn ns(tag: &str, n: u64) -> String {
    format!("{tag}{n}")
}

/// Deps on DynamoDB with the GameLift simulator behind the SDK client.
pub type SimDeps = Deps<PortSet<DynamoStore, SdkGameLift, MemoryNotifier, ManualClock, UuidIds>>;

/// A simulator that never throttles, on a manual clock (the rows advance it).
pub fn quiet_simulator() -> Simulator {
    Simulator::builder()
        .model(gamelift_sim::Model {
            throttling: false,
            ..gamelift_sim::Model::default()
        })
        .clock(gamelift_sim::ManualClock::new())
        .build()
}

/// A GameLift client for the simulator at `endpoint`, built as the local stack builds it (the SDK's
/// standard retries).
pub fn simulator_client(endpoint: &str) -> aws_sdk_gamelift::Client {
    let shared = fleet_local::local::sdk_config();
    let conf = aws_sdk_gamelift::config::Builder::from(&shared)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_gamelift::Client::from_conf(conf)
}

/// Serves `sim` on a free port, and deps on `store` that reach it, with a clock at the simulator's
/// start. The server stops when its handle drops.
pub async fn on_simulator(
    sim: &Simulator,
    store: DynamoStore,
    config: Config,
) -> (SimDeps, SimServer) {
    let server = sim.serve("127.0.0.1:0").await.expect("serve the simulator");
    let start = Timestamp::from_millis(gamelift_sim::ManualClock::DEFAULT_START_MILLIS);
    let deps = Deps {
        store,
        gamelift: SdkGameLift::new(simulator_client(&server.endpoint()), DEFAULT_QUEUE),
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(start),
        ids: UuidIds,
        config,
        cache: Default::default(),
    };
    (deps, server)
}

/// The events the simulator has published and nobody has read yet, in order.
pub fn published(events: &mut tokio::sync::mpsc::Receiver<String>) -> Vec<String> {
    let mut bodies = Vec::new();
    while let Ok(e) = events.try_recv() {
        bodies.push(e);
    }
    bodies
}

/// The rows' configuration, with the game server's key also allowed on the simulator's fleet.
pub fn sim_config() -> Config {
    let mut c = crate::support_http::config();
    let fleet =
        fleet_core::ids::FleetId::parse(gamelift_sim::model::DEFAULT_FLEET_US).expect("fleet id");
    for fleets in c.game_servers.values_mut() {
        fleets.push(fleet.clone());
    }
    c
}
