//! `spawn_store`: a store on a fresh table of the DynamoDB Local the test script started, plus builders
//! of real-shaped records and events.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::{DynamoStore, create_table, local_client};
use fleet_core::event::{PlacementEvent, parse_message};
use fleet_core::ids::{FleetId, GameSessionArn, PlacementId, PlayerId, Region};
use fleet_core::input::{GameProperties, MaxPlayers};
use fleet_core::model::{Placement, PlacementPlayer, PlacementStatus, Session, SessionStatus};
use fleet_core::ports::{Applied, SessionStore};
use fleet_core::rules;
use fleet_core::time::Timestamp;

/// 2026-11-25T00:00:00Z.
pub const T0: Timestamp = Timestamp::from_millis(1_795_564_800_000);

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
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(
            out.items()
                .iter()
                .map(|i| i.clone().into_iter().collect::<BTreeMap<_, _>>()),
        );
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
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

pub fn player(name: &str) -> PlayerId {
    PlayerId::parse(name).expect("valid player id")
}

pub fn arn(n: u32) -> GameSessionArn {
    GameSessionArn::parse(&format!(
        "arn:aws:gamelift:us-east-1::gamesession/fleet-2f1e7a0c-5b6d-4f8e-9a3b-1c2d3e4f5a6b/gsess-{n:08}"
    ))
    .expect("valid arn")
}

/// A PENDING placement as a create would store it.
pub fn placement(id: &str, max_players: i64, players: &[&str]) -> Placement {
    Placement {
        placement_id: PlacementId::parse(id).expect("valid placement id"),
        status: PlacementStatus::Pending,
        requester: "player-1".into(),
        players: players
            .iter()
            .map(|p| PlacementPlayer {
                player_id: player(p),
                player_data: None,
            })
            .collect(),
        max_players: MaxPlayers::parse(max_players).expect("valid cap"),
        name: Some(format!("lobby-{id}")),
        data: None,
        properties: GameProperties::parse(BTreeMap::from([("mode".into(), "ranked".into())]))
            .expect("valid"),
        latencies: Vec::new(),
        regions: Vec::new(),
        session_id: None,
        player_sessions: Vec::new(),
        reason: None,
        created_at: T0,
        updated_at: T0,
        deadline: T0.plus_secs(600),
    }
}

/// A PlacementFulfilled event in an SNS envelope, exactly as GameLift publishes it.
pub fn fulfilled(
    placement_id: &str,
    session: u32,
    players: &[&str],
    end: Timestamp,
) -> PlacementEvent {
    let placed: Vec<serde_json::Value> = players
        .iter()
        .enumerate()
        .map(|(i, p)| serde_json::json!({"playerId": p, "playerSessionId": format!("psess-{session:04}-{i:04}")}))
        .collect();
    let detail = serde_json::json!({
        "type": "PlacementFulfilled",
        "placementId": placement_id,
        "port": "7777",
        "gameSessionArn": arn(session).as_str(),
        "ipAddress": "10.0.1.17",
        "dnsName": "ec2-10-0-1-17.compute-1.amazonaws.com",
        "startTime": T0.to_rfc3339(),
        "endTime": end.to_rfc3339(),
        "gameSessionRegion": "us-east-1",
        "placedPlayerSessions": placed,
    });
    envelope(detail, end)
}

/// A terminal event without a session (`PlacementTimedOut`, `PlacementCancelled`, `PlacementFailed`).
pub fn unfulfilled(placement_id: &str, kind: &str, end: Timestamp) -> PlacementEvent {
    let detail = serde_json::json!({
        "type": kind, "placementId": placement_id, "startTime": T0.to_rfc3339(), "endTime": end.to_rfc3339(),
    });
    envelope(detail, end)
}

fn envelope(detail: serde_json::Value, time: Timestamp) -> PlacementEvent {
    let event = serde_json::json!({
        "version": "0", "id": format!("ev-{}", detail["placementId"]), "detail-type": "GameLift Queue Placement Event",
        "source": "aws.gamelift", "account": "123456789012", "time": time.to_rfc3339(), "region": "us-east-1",
        "resources": ["arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/default-queue"], "detail": detail,
    });
    let body = serde_json::json!({
        "Type": "Notification", "MessageId": "8f2b6a7e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:gamelift-placements",
        "Message": event.to_string(), "Timestamp": time.to_rfc3339(), "SignatureVersion": "1",
        "Signature": "c2lnbmF0dXJl", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    });
    parse_message(&body.to_string()).expect("fixture event parses")
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
    let arn = GameSessionArn::parse(&format!(
        "arn:aws:gamelift:{region}::gamesession/{fleet}/gsess-{n:08}"
    ))
    .expect("arn");
    let mut props = BTreeMap::new();
    if let Some(m) = mode {
        props.insert("mode".to_owned(), m.to_owned());
    }
    Session {
        id: arn.session_id(),
        arn,
        status: SessionStatus::Active,
        region: Region::parse(region).expect("region"),
        fleet_id: FleetId::parse(fleet).expect("fleet"),
        name: name.map(str::to_owned),
        data: None,
        properties: GameProperties::parse(props).expect("props"),
        player_count: players.min(max),
        max_players: max,
        reserved_seats: 0,
        open_slots: max - players.min(max),
        joinable: true,
        protected: false,
        ip_address: "10.0.0.1".into(),
        dns_name: "host.example".into(),
        port: 7777,
        created_at: created,
        updated_at: created,
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
