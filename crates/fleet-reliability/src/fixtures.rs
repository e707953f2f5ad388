//! Real-shaped records and events. Every id takes a namespace (`ns`), so many schedules can share one
//! DynamoDB table without seeing each other's items.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId};
use fleet_core::input::{GameProperties, MaxPlayers};
use fleet_core::model::{Placement, PlacementPlayer, PlacementStatus};
use fleet_core::time::Timestamp;
use serde_json::json;

/// 2026-11-25T00:00:00Z: when every placement of the suites starts.
pub const T0: Timestamp = Timestamp::from_millis(1_795_564_800_000);

/// The fleet every fixture session runs on.
pub const FLEET: &str = "fleet-2f1e7a0c-5b6d-4f8e-9a3b-1c2d3e4f5a6b";

/// A player id (test data is always valid).
pub fn player(name: &str) -> PlayerId {
    PlayerId::parse(name).unwrap_or_else(|e| panic!("fixture player {name}: {e}"))
}

/// A placement id `<ns>-<name>`.
pub fn pid(ns: &str, name: &str) -> PlacementId {
    let id = format!("{ns}-{name}");
    PlacementId::parse(&id).unwrap_or_else(|e| panic!("fixture placement {id}: {e}"))
}

/// The ARN of session `n` of namespace `ns`.
pub fn arn(ns: &str, n: u32) -> GameSessionArn {
    let text = format!("arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-{ns}-{n:04}");
    GameSessionArn::parse(&text).unwrap_or_else(|e| panic!("fixture arn {text}: {e}"))
}

/// A PENDING placement as a create stores it (requested by `player-1`, cap `max_players`).
pub fn placement(ns: &str, name: &str, max_players: u32, players: &[&str]) -> Placement {
    Placement {
        placement_id: pid(ns, name),
        status: PlacementStatus::Pending,
        requester: "player-1".into(),
        players: players
            .iter()
            .map(|p| PlacementPlayer {
                player_id: player(p),
                player_data: None,
            })
            .collect(),
        max_players: MaxPlayers::parse(i64::from(max_players))
            .unwrap_or_else(|e| panic!("fixture cap: {e}")),
        name: Some(format!("lobby-{name}")),
        data: None,
        properties: GameProperties::parse(BTreeMap::from([("mode".into(), "ranked".into())]))
            .unwrap_or_else(|e| panic!("fixture properties: {e}")),
        latencies: Vec::new(),
        regions: Vec::new(),
        session_id: None,
        player_sessions: Vec::new(),
        reason: None,
        created_at: T0,
        updated_at: T0,
        deadline: T0.plus_secs(660),
    }
}

/// A `PlacementFulfilled` SQS body (SNS envelope, as GameLift's queue topic delivers it).
pub fn fulfilled_body(
    ns: &str,
    placement: &str,
    session: u32,
    players: &[&str],
    end: Timestamp,
) -> String {
    let placed: Vec<serde_json::Value> = players
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"playerId": p, "playerSessionId": format!("psess-{ns}-{session:04}-{i:04}")}))
        .collect();
    let detail = json!({
        "type": "PlacementFulfilled",
        "placementId": pid(ns, placement).as_str(),
        "port": "7777",
        "gameSessionArn": arn(ns, session).as_str(),
        "ipAddress": "10.0.1.17",
        "dnsName": "ec2-10-0-1-17.compute-1.amazonaws.com",
        "startTime": T0.to_rfc3339(),
        "endTime": end.to_rfc3339(),
        "gameSessionRegion": "us-east-1",
        "placedPlayerSessions": placed,
    });
    envelope(&detail, end)
}

/// A terminal event without a session (`PlacementTimedOut`, `PlacementCancelled`, `PlacementFailed`).
pub fn unfulfilled_body(ns: &str, placement: &str, kind: &str, end: Timestamp) -> String {
    let mut detail = json!({
        "type": kind, "placementId": pid(ns, placement).as_str(), "startTime": T0.to_rfc3339(), "endTime": end.to_rfc3339(),
    });
    if kind == "PlacementFailed" {
        detail["errorCode"] = json!("SERVER_PROCESS_CRASHED");
    }
    envelope(&detail, end)
}

/// An SNS envelope around an EventBridge-format event with `detail`.
pub fn envelope(detail: &serde_json::Value, time: Timestamp) -> String {
    let event = json!({
        "version": "0", "id": format!("ev-{}", detail["placementId"]), "detail-type": "GameLift Queue Placement Event",
        "source": "aws.gamelift", "account": "123456789012", "time": time.to_rfc3339(), "region": "us-east-1",
        "resources": ["arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/default-queue"], "detail": detail,
    });
    json!({
        "Type": "Notification", "MessageId": "8f2b6a7e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:gamelift-placements",
        "Message": event.to_string(), "Timestamp": time.to_rfc3339(), "SignatureVersion": "1",
        "Signature": "c2lnbmF0dXJl", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    })
    .to_string()
}

/// One SQS record carrying `body`, as the event source mapping delivers it.
pub fn sqs_record(message_id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let v = json!({
        "messageId": message_id,
        "receiptHandle": "AQEBexample",
        "body": body,
        "attributes": {"ApproximateReceiveCount": receive_count.to_string()},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fleetlift-placement-events",
        "awsRegion": "us-east-1",
    });
    serde_json::from_value(v).unwrap_or_else(|e| panic!("fixture SQS record: {e}"))
}

/// An SQS event of these records.
pub fn sqs_event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

/// A small deterministic generator (xorshift64*), so every schedule is reproducible from its seed
/// without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Every permutation of `0..n` (n ≤ 8), in lexicographic order.
pub fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn go(prefix: &mut Vec<usize>, left: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if left.is_empty() {
            out.push(prefix.clone());
            return;
        }
        for i in 0..left.len() {
            let x = left.remove(i);
            prefix.push(x);
            go(prefix, left, out);
            prefix.pop();
            left.insert(i, x);
        }
    }
    let mut out = Vec::new();
    go(&mut Vec::new(), &mut (0..n).collect(), &mut out);
    out
}
