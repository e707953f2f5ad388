//! Real-shaped records and events. Every id takes a namespace (`ns`), so many schedules can share one
//! DynamoDB table without seeing each other's items.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use fleet_core::ids::{GameSessionArn, PlacementId};
use fleet_core::model::Placement;
use fleet_core::time::Timestamp;
use fleet_testkit::{events, records};
use serde_json::json;

pub use fleet_testkit::T0;
pub use fleet_testkit::events::envelope;
pub use fleet_testkit::principals::F1 as FLEET;
pub use fleet_testkit::records::player;

/// A placement id `<ns>-<name>`.
pub fn pid(ns: &str, name: &str) -> PlacementId {
    let id = format!("{ns}-{name}");
    PlacementId::parse(&id).unwrap_or_else(|e| panic!("fixture placement {id}: {e}"))
}

/// The ARN of session `n` of namespace `ns`.
pub fn arn(ns: &str, n: u32) -> GameSessionArn {
    records::session_arn(&format!(
        "arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-{ns}-{n:04}"
    ))
}

/// A PENDING placement as a create stores it (requested by `player-1`, cap `max_players`, named
/// `lobby-<name>`, `mode=ranked`).
pub fn placement(ns: &str, name: &str, max_players: u32, players: &[&str]) -> Placement {
    Placement {
        name: Some(format!("lobby-{name}")),
        properties: records::properties("mode", "ranked"),
        ..records::placement(pid(ns, name).as_str(), "player-1", max_players, players)
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
    let psess = format!("psess-{ns}-{session:04}");
    events::fulfilled_body(
        pid(ns, placement).as_str(),
        &arn(ns, session),
        players,
        &psess,
        end,
    )
}

/// A terminal event without a session (`PlacementTimedOut`, `PlacementCancelled`, `PlacementFailed`).
pub fn unfulfilled_body(ns: &str, placement: &str, kind: &str, end: Timestamp) -> String {
    events::unfulfilled_body(pid(ns, placement).as_str(), kind, end)
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

/// An SQS event of `bodies`, each received for the first time, their message ids `<prefix><index>`.
pub fn sqs_batch(prefix: &str, bodies: &[String]) -> SqsEvent {
    let records = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| sqs_record(&format!("{prefix}{i}"), b, 1))
        .collect();
    sqs_event(records)
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
