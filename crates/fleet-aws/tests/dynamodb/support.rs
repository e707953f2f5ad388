//! `spawn_store`: a store on a fresh table of the DynamoDB Local the test script started, plus builders
//! of real-shaped records and events.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::{DynamoStore, create_table, local_client};
use fleet_core::event::{PlacementEvent, parse_message};
use fleet_core::ids::GameSessionArn;
use fleet_core::input::GameProperties;
use fleet_core::model::{Placement, Session};
use fleet_core::ports::{Applied, ListRequest, Page, SessionStore, StoreError};
use fleet_core::query::{Query, Sort};
use fleet_core::rules;
use fleet_core::time::Timestamp;
use fleet_testkit::{events, records};

pub use fleet_testkit::T0;
pub use fleet_testkit::principals::F1;
pub use fleet_testkit::records::player;

/// The DynamoDB Local endpoint the test script exported.
pub fn endpoint() -> String {
    std::env::var("FLEETLIFT_TEST_DYNAMODB").unwrap_or_else(|_| {
        panic!("FLEETLIFT_TEST_DYNAMODB is not set: run the tests with scripts/test.sh, which starts DynamoDB Local")
    })
}

/// A store on a new, empty table.
pub async fn spawn_store() -> DynamoStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let client = local_client(&endpoint());
    let table = format!(
        "t{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        rand_suffix()
    );
    create_table(&client, &table).await.expect("create table");
    DynamoStore::new(client, table, b"test-cursor-secret".to_vec())
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

/// Every item of the table, ordered by key (a Scan: test inspection only, never a request path).
pub async fn snapshot(store: &DynamoStore) -> Vec<BTreeMap<String, AttributeValue>> {
    let mut items: Vec<BTreeMap<String, AttributeValue>> = fleet_testkit::table::scan(store)
        .await
        .into_iter()
        .map(|i| i.into_iter().collect())
        .collect();
    let key = |i: &BTreeMap<String, AttributeValue>| {
        let get = |k: &str| {
            i.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        (get("pk"), get("sk"))
    };
    items.sort_by_key(key);
    items
}

/// The ARN of session `n` (fleet F1, us-east-1).
pub fn arn(n: u32) -> GameSessionArn {
    records::session_arn(&format!(
        "arn:aws:gamelift:us-east-1::gamesession/{F1}/gsess-{n:08}"
    ))
}

/// A PENDING placement as a create would store it (requested by `player-1`, named `lobby-<id>`,
/// `mode=ranked`, due 600 s after [`T0`]).
pub fn placement(id: &str, max_players: i64, players: &[&str]) -> Placement {
    let cap = u32::try_from(max_players).expect("a test cap fits u32");
    Placement {
        name: Some(format!("lobby-{id}")),
        properties: records::properties("mode", "ranked"),
        deadline: T0.plus_secs(600),
        ..records::placement(id, "player-1", cap, players)
    }
}

/// A PlacementFulfilled event in an SNS envelope, exactly as GameLift publishes it.
pub fn fulfilled(
    placement_id: &str,
    session: u32,
    players: &[&str],
    end: Timestamp,
) -> PlacementEvent {
    let psess = format!("psess-{session:04}");
    parsed(&events::fulfilled_body(
        placement_id,
        &arn(session),
        players,
        &psess,
        end,
    ))
}

/// A terminal event without a session (`PlacementTimedOut`, `PlacementCancelled`, `PlacementFailed`).
pub fn unfulfilled(placement_id: &str, kind: &str, end: Timestamp) -> PlacementEvent {
    parsed(&events::unfulfilled_body(placement_id, kind, end))
}

fn parsed(body: &str) -> PlacementEvent {
    parse_message(body).expect("fixture event parses")
}

/// Applies an event the way the placement-events function does: read the placement, decide the
/// outcome in `fleet-core`, write it guarded.
pub async fn apply(store: &impl SessionStore, event: &PlacementEvent) -> Applied {
    let Some(p) = store
        .get_placement(&event.placement_id)
        .await
        .expect("get placement")
    else {
        return Applied::Unknown;
    };
    match rules::outcome_of(&p, event).expect("valid event") {
        Some((outcome, at)) => store
            .finish_placement(&event.placement_id, &outcome, at)
            .await
            .expect("finish"),
        None => Applied::Duplicate,
    }
}

/// A valid ACTIVE session for seeding list tests.
#[allow(clippy::too_many_arguments)]
pub fn session(
    n: u32,
    region: &str,
    fleet: &str,
    players: u32,
    max: u32,
    name: Option<&str>,
    mode: Option<&str>,
    created: Timestamp,
) -> Session {
    let arn = format!("arn:aws:gamelift:{region}::gamesession/{fleet}/gsess-{n:08}");
    let players = players.min(max);
    Session {
        name: name.map(str::to_owned),
        properties: mode.map_or_else(GameProperties::default, |m| records::properties("mode", m)),
        player_count: players,
        open_slots: max - players,
        ip_address: "10.0.0.1".into(),
        dns_name: "host.example".into(),
        created_at: created,
        updated_at: created,
        ..records::session(&arn, max)
    }
}

/// Applies events as one batch (`finish_placements`), the way placement-events applies an SQS batch:
/// each placement read, each outcome decided, all written together. One answer per event, in order.
pub async fn apply_batch(store: &impl SessionStore, events: &[&PlacementEvent]) -> Vec<Applied> {
    let mut batch = Vec::new();
    for event in events {
        let p = store
            .get_placement(&event.placement_id)
            .await
            .expect("get placement")
            .expect("placement started");
        let (outcome, at) = rules::outcome_of(&p, event)
            .expect("valid event")
            .expect("terminal event");
        batch.push(fleet_core::ports::Finish {
            id: event.placement_id.clone(),
            outcome,
            at,
        });
    }
    store
        .finish_placements(&batch)
        .await
        .into_iter()
        .map(|r| r.expect("finish").applied)
        .collect()
}

/// Every page of `query` in `sort`, `limit` at a time, following the cursors to the end (each page
/// holds at most `limit` sessions; more than 1,000 pages is a failure).
pub async fn pages(
    store: &impl SessionStore,
    query: &Query,
    sort: Sort,
    limit: u32,
) -> Result<Vec<Page>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = store
            .list_sessions(&ListRequest {
                query: query.clone(),
                sort,
                limit,
                cursor: cursor.take(),
            })
            .await?;
        assert!(page.sessions.len() <= limit as usize);
        cursor = page.next_cursor.clone();
        out.push(page);
        if cursor.is_none() {
            return Ok(out);
        }
    }
    panic!("more than 1000 pages");
}

/// Index reads are eventually consistent: poll until `check` holds (DynamoDB Local is quick).
pub async fn eventually<T, F, Fut>(mut read: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    for _ in 0..50 {
        let v = read().await;
        if check(&v) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    read().await
}
